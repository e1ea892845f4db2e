"""The whole-map kinds' numba twins vs their C++ templates built with g++ -O2
(testbench/bench_layers.cpp): conv2d, conv_transpose, upsample, linear, max_pool and avg_pool
(twice: count_include_pad true and false), default types (the KernelConfig defaults, which are
hls_config.h's; avg_pool reads in_t, acc_t, factor_t, qd_t, out_t among them); add and concat
with their own types on both sides (CONFIGS below: weights/add.yaml's and weights/concat.yaml's,
bench_layers.cpp's bench_add, bench_concat).

Same data on both sides (bench_layers.cpp's LCG, regenerated here) and the same shapes:
conv2d 16 -> 16, K=3, S=1, P=1 on 32x64; conv_transpose 16 -> 16, K=3, S=2, P=1,
output_padding=1 on 16x32 -> 32x64; upsample nearest x2 on 16x16x32; linear 1024 -> 256 on one
input vector; max_pool K=2, S=2, relu before, and avg_pool K=3, S=2, P=1, on one 16x32x64 map
(the same map for the three pools); add 16x32x64 + 16x32x64 with relu, concat 16x32x64 ++
8x32x64 -> 24x32x64 (the same first map for both; every input uniform over its type's raw
range). Bit identity, per layer: the checksum bench_layers prints of the layer's output (raw
integers) equals the same checksum of the twin's.

Times, per call: the kernel body (``KernelResult.seconds``, best of N warm calls; for
conv_transpose it includes the zero insertion and the kernel flip, as in the C++) and,
separately, the whole public call (validation, plan, copies), best of the same N calls. Every
call is one layer on one input (linear: one vector of 1024 features, no batch), timed on its
own: the shortest kernel bodies (upsample, max_pool) take ~15 us, still a thousand times
perf_counter's resolution; linear, the pools and the merges take 300 calls instead of 100. The
C++ time is the mean over the calls of a round, best of R rounds; linear takes 4x, the pools and
the merges 16x as many calls per round as the others (bench_layers.cpp's REPEAT_*), so that a
round lasts milliseconds.
"""

from __future__ import annotations

import re
import subprocess

import numpy as np

from benchmarks.common import Row, fmt_time
from benchmarks.kernels import build, checksum, time_kernel
from hls_sim.kernels import KernelConfig, run as run_kind

TARGET = 50.0
_POOL3 = dict(kernel_size=3, stride=2, padding=1)
# row name -> (kind, parameters); the order of bench_layers.cpp's output
LAYERS = {
    "conv2d": ("conv2d", dict(kernel_size=3, stride=1, padding=1)),
    "conv_transpose": ("conv_transpose", dict(kernel_size=3, stride=2, padding=1,
                                              output_padding=1)),
    "upsample": ("upsample", dict(scale=2, mode="nearest")),
    "linear": ("linear", dict(in_features=1024, out_features=256)),
    "max_pool": ("max_pool", dict(kernel_size=2, stride=2, relu="before")),
    "avg_pool_incl": ("avg_pool", dict(_POOL3, count_include_pad=True)),
    "avg_pool_excl": ("avg_pool", dict(_POOL3, count_include_pad=False)),
    "add": ("add", dict(relu=True)),
    "concat": ("concat", dict()),
}
TARGETS = {"conv2d": TARGET, "conv_transpose": TARGET}  # the others: no target
SMALL = ("linear", "max_pool", "avg_pool_incl", "avg_pool_excl", "add", "concat")  # more calls
MERGES = ("add", "concat")  # two inputs: (input, input2)
# the rows with their own types (bench_layers.cpp's bench_add, bench_concat); the others: default
CONFIGS = {
    "add": KernelConfig(in_t="ap_fixed<8,4>", in2_t="ap_fixed<10,3>",
                        out_t="ap_fixed<9,5,AP_RND,AP_SAT>"),
    "concat": KernelConfig(in_t="ap_fixed<8,4>", in2_t="ap_fixed<10,3>",
                           out_t="ap_fixed<8,4,AP_RND_CONV,AP_SAT>"),
}


def _lcg(state: int = 12345):
    while True:
        state = (state * 1664525 + 1013904223) & 0xFFFFFFFF
        yield state


def bench_inputs(config: KernelConfig) -> dict:
    """The inputs exactly as bench_layers.cpp draws them, by row name."""
    g = _lcg()

    def rnd(n: int) -> int:
        return (next(g) >> 8) % n

    def draws(count: int, n: int, shift: int = 0) -> np.ndarray:  # rnd_hi(n) - shift, count x
        return np.array([((next(g) >> 16) % n) - shift for _ in range(count)], dtype=np.int64)

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
    # then, in bench_layers.cpp's order and from its rnd_hi (the LCG's bits 16..31: bits
    # 8..15 repeat every 2^16 draws): linear's input, weight, bias, factor; the pools' map
    lin_in = draws(1024, 256)
    lin_w = draws(256 * 1024, 256, 128).reshape(256, 1024)
    lin_bias = draws(256, 201, 100)
    n = 256 if config.per_channel_factor else 1
    lin_f = config.factor_t.quantize((draws(n, 2001, 1000) / 1000.0 / 1024.0).tolist()).raw
    lin_f = lin_f if config.per_channel_factor else lin_f.reshape(())
    pool_in = draws(16 * 32 * 64, 256).reshape(16, 32, 64)
    pool = (pool_in, None, None, None)
    # the merges' maps, uniform over the raw ranges of ap_fixed<8,4> and ap_fixed<10,3>
    merge_in = draws(16 * 32 * 64, 256, 128).reshape(16, 32, 64)
    add_in2 = draws(16 * 32 * 64, 1024, 512).reshape(16, 32, 64)
    cat_in2 = draws(8 * 32 * 64, 1024, 512).reshape(8, 32, 64)
    return {"conv2d": (conv_in, conv_w, bias, f), "conv_transpose": (deconv_in, deconv_w, bias, f),
            "upsample": (up_in, None, None, None), "linear": (lin_in, lin_w, lin_bias, lin_f),
            "max_pool": pool, "avg_pool_incl": pool, "avg_pool_excl": pool,
            "add": (merge_in, add_in2), "concat": (merge_in, cat_in2)}


def _runner(name: str):  # noqa: ANN202
    kind, params = LAYERS[name]
    if name in MERGES:
        return lambda x, x2, c: run_kind(kind, x, config=c, input2=x2, **params)
    return lambda x, w, b, f, c: run_kind(kind, x, w, b, f, c, **params)


def _what(name: str) -> str:
    kind, params = LAYERS[name]
    if name not in CONFIGS:
        return f"{kind} {params}, default types"
    c = CONFIGS[name]
    return f"{kind} {params}, in_t {c.in_t}, in2_t {c.in2_t}, out_t {c.out_t}"


def run(quick: bool) -> list[Row]:
    calls, small_calls, cpp_calls, cpp_rounds = (5, 5, 2, 1) if quick else (100, 300, 10, 5)
    default = KernelConfig()
    exe = build("bench_layers", ["testbench/bench_layers.cpp"])
    inputs = bench_inputs(default)
    outputs, timing = {}, {}
    for name in LAYERS:
        fn, config = _runner(name), CONFIGS.get(name, default)
        outputs[name] = fn(*inputs[name], config).top.raw  # also loads (or compiles) the twin
        timing[name] = time_kernel(fn, inputs[name], config,
                                   small_calls if name in SMALL else calls)
    out = subprocess.run([str(exe), str(cpp_calls), str(cpp_rounds)], check=True,
                         capture_output=True, text=True).stdout
    fields = dict(re.findall(r"(\w+)=(\S+)", out))
    rows = []
    for name in LAYERS:
        ours, theirs = f"{checksum(outputs[name]):016x}", fields[f"{name}_checksum"]
        same = ours == theirs
        t, cpp = timing[name], float(fields[f"{name}_us"]) * 1e-6
        note = (f"on 1 thread {fmt_time(t['one_thread'])} ({cpp / t['one_thread']:.1f}x); "
                f"whole Python call {fmt_time(t['whole_call'])} ({cpp / t['whole_call']:.1f}x)")
        rows.append(Row(name, _what(name), t["best"], "g++ -O2 (1 thr)", cpp, identical=same,
                        check="checksum of the output " + ("equal" if same else "DIFFERS"),
                        target=TARGETS.get(name),
                        extra=dict(t, note=note,
                                   cpp_calls=int(fields.get(f"{name}_calls", cpp_calls)),
                                   cpp_rounds=cpp_rounds, cpp_checksum=theirs, checksum=ours,
                                   output_shape=list(np.shape(outputs[name])))))
    return rows
