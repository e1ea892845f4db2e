"""The whole-map kinds' numba twins vs their C++ templates built with g++ -O2
(testbench/bench_layers.cpp): conv2d, conv_transpose and upsample, default types.

Same data on both sides (bench_layers.cpp's LCG, regenerated here) and the same shapes:
conv2d 16 -> 16, K=3, S=1, P=1 on 32x64; conv_transpose 16 -> 16, K=3, S=2, P=1,
output_padding=1 on 16x32 -> 32x64; upsample nearest x2 on 16x16x32. Bit identity: the
checksum bench_layers prints of its three outputs equals the same checksum of the twins'.
Times: the kernel body (``KernelResult.seconds``, best of N warm calls; for conv_transpose it
includes the zero insertion and the kernel flip, as in the C++) and, separately, the whole
public call (validation, plan, copies).
"""

from __future__ import annotations

import re
import subprocess

import numpy as np

from benchmarks.common import Row, fmt_time
from benchmarks.kernels import build, checksum, time_kernel
from hls_sim.kernels import KernelConfig, run as run_kind

TARGET = 50.0
LAYERS = {
    "conv2d": dict(kernel_size=3, stride=1, padding=1),
    "conv_transpose": dict(kernel_size=3, stride=2, padding=1, output_padding=1),
    "upsample": dict(scale=2, mode="nearest"),
}


def _lcg(state: int = 12345):
    while True:
        state = (state * 1664525 + 1013904223) & 0xFFFFFFFF
        yield state


def bench_inputs(config: KernelConfig) -> dict:
    """The inputs exactly as bench_layers.cpp draws them."""
    g = _lcg()

    def rnd(n: int) -> int:
        return (next(g) >> 8) % n

    conv_in = np.zeros((16, 32, 64), dtype=np.int64)
    deconv_in = np.zeros((16, 16, 32), dtype=np.int64)
    up_in = np.zeros((16, 16, 32), dtype=np.int64)
    conv_w = np.zeros((16, 16, 3, 3), dtype=np.int64)
    deconv_w = np.zeros((16, 16, 3, 3), dtype=np.int64)
    bias = np.zeros(16, dtype=np.int64)
    for c in range(16):
        for h in range(32):
            for w in range(64):
                conv_in[c, h, w] = rnd(256)
        for h in range(16):
            for w in range(32):
                deconv_in[c, h, w] = rnd(256)
                up_in[c, h, w] = rnd(256)
        for ci in range(16):
            for k in range(9):
                conv_w[c, ci, k // 3, k % 3] = rnd(256) - 128
                deconv_w[c, ci, k // 3, k % 3] = rnd(256) - 128
        bias[c] = rnd(2001) - 1000
    n = 16 if config.per_channel_factor else 1
    factor = config.factor_t.quantize([(rnd(2001) - 1000) / 1000.0 / 512.0 for _ in range(n)]).raw
    f = factor if config.per_channel_factor else factor.reshape(())
    return {"conv2d": (conv_in, conv_w, bias, f), "conv_transpose": (deconv_in, deconv_w, bias, f),
            "upsample": (up_in, None, None, None)}


def _runner(kind: str):  # noqa: ANN202
    params = LAYERS[kind]
    return lambda x, w, b, f, c: run_kind(kind, x, w, b, f, c, **params)


def run(quick: bool) -> list[Row]:
    calls, cpp_calls, cpp_rounds = (5, 2, 1) if quick else (100, 10, 5)
    config = KernelConfig()
    exe = build("bench_layers", ["testbench/bench_layers.cpp"])
    inputs = bench_inputs(config)
    outputs, timing = {}, {}
    for kind in LAYERS:
        fn = _runner(kind)
        outputs[kind] = fn(*inputs[kind], config).top.raw  # also loads (or compiles) the twin
        timing[kind] = time_kernel(fn, inputs[kind], config, calls)
    out = subprocess.run([str(exe), str(cpp_calls), str(cpp_rounds)], check=True,
                         capture_output=True, text=True).stdout
    fields = dict(re.findall(r"(\w+)=(\S+)", out))
    ours = "".join(f"{checksum(outputs[k]):016x}" for k in LAYERS)
    same = ours == fields["checksum"]
    rows = []
    for kind in LAYERS:
        t, cpp = timing[kind], float(fields[f"{kind}_us"]) * 1e-6
        note = (f"on 1 thread {fmt_time(t['one_thread'])} ({cpp / t['one_thread']:.1f}x); "
                f"whole Python call {fmt_time(t['whole_call'])} ({cpp / t['whole_call']:.1f}x)")
        rows.append(Row(kind, f"{kind} {LAYERS[kind]}, default types", t["best"],
                        "g++ -O2 (1 thr)", cpp, identical=same,
                        check="checksum of the three outputs " + ("equal" if same else "DIFFERS"),
                        target=TARGET if kind != "upsample" else None,
                        extra=dict(t, note=note, cpp_calls=cpp_calls, cpp_rounds=cpp_rounds,
                                   cpp_checksum=fields["checksum"], checksum=ours)))
    return rows
