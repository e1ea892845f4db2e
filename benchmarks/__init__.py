"""Speed against the anchors, as ratios: ``python -m benchmarks [--quick] [--json FILE]``.

:data:`BENCHMARKS` is the registry: a name and a ``run(quick) -> list[Row]`` per benchmark.
"""

from benchmarks import kernels, layers, mul_cast, network, quantize, sweep, warm_start

BENCHMARKS = {
    "quantize": quantize.run,      # Format.quantize vs APyTypes
    "mul_cast": mul_cast.run,      # (x * y).cast(T) vs APyTypes
    "kernels": kernels.run,        # numba conv1x1 / dw_conv3x3 vs g++ -O2
    "layers": layers.run,          # numba conv2d / conv_transpose / upsample vs g++ -O2
    "warm_start": warm_start.run,  # a fresh process, numba cache warm, vs a 2 s limit
    "new_config": warm_start.new_configuration,  # first result of a new configuration, vs 5 s
    "network": network.run,        # the example network on 3x256x512 vs g++ top, float32
    "sweep": sweep.run,            # a sweep on Dask: 2 workers vs 1, per-task overhead
}
