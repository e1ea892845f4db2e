"""The numba kernel twins vs the g++ -O2 build of kernels/*.cpp (testbench/bench_kernels.cpp).

Both sides run on the same inputs: bench_kernels.cpp's splitmix64 data, regenerated here. Then:
- time: numba per call from ``KernelResult.seconds`` (warm calls, best of N); the C++ time is
  what bench_kernels prints (the best over R rounds of the mean of N calls, one thread);
- bit-identity: testbench/run_kernel.cpp runs each C++ kernel once on those inputs and its whole
  ``top`` buffer is compared with the numba one; bench_kernels' checksum of the ``top`` buffer it
  timed is compared with the same checksum of the numba buffers.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numba
import numpy as np

from benchmarks.common import BUILD, REPO, Row, fmt_time
from hls_sim.kernels import KINDS, KernelConfig, run as run_kind
from hls_sim.toolchain import DEFAULT_FLAGS, compile_cpp, find_ap_types

TARGETS = {"conv1x1": 60.0, "dw_conv3x3": 40.0}
KERNEL_MACRO = {"conv1x1": "HLS_SIM_KERNEL_CONV1X1", "dw_conv3x3": "HLS_SIM_KERNEL_DW_CONV_3X3"}
MASK = (1 << 64) - 1


# ---- the inputs of bench_kernels.cpp --------------------------------------------------------
def _splitmix64(state: int):
    while True:
        state = (state + 0x9E3779B97F4A7C15) & MASK
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        yield z ^ (z >> 31)


def bench_inputs(config: KernelConfig) -> dict:
    """bottom, w1, w3, bias, factor exactly as bench_kernels.cpp draws them (seed 12345)."""
    rnd = _splitmix64(12345)
    bottom = np.array([next(rnd) % 256 for _ in range(16 * 34 * 66)]).reshape(16, 34, 66)
    w1, w3, bias = np.empty((16, 16), int), np.empty((16, 3, 3), int), np.empty(16, int)
    for i in range(16):
        w1[i] = [next(rnd) % 256 - 128 for _ in range(16)]
        w3[i] = np.reshape([next(rnd) % 256 - 128 for _ in range(9)], (3, 3))
        bias[i] = next(rnd) % 2001 - 1000
    n = 16 if config.per_channel_factor else 1
    f = [((next(rnd) % 2001) - 1000) / 1000.0 / 256.0 for _ in range(n)]
    factor = config.factor_t.quantize(f).raw
    return dict(bottom=bottom, w1=w1, w3=w3, bias=bias,
                factor=factor if config.per_channel_factor else factor[0])


def checksum(top: np.ndarray) -> int:
    """bench_kernels.cpp's checksum(): s = s*31 + to_uint64() over [c][h][w]."""
    s = 0
    for v in top.ravel().tolist():
        s = (s * 31 + (v & MASK)) & MASK
    return s


# ---- building and running the C++ -------------------------------------------------------------
def build(name: str, sources: list[str], defines: tuple[str, ...] = ()) -> Path:
    """Compile once per distinct source text, headers and flags (kept in build/benchmarks/)."""
    ap_types = find_ap_types()
    h = hashlib.sha256(f"{DEFAULT_FLAGS}{defines}{ap_types}".encode())
    for p in sorted({*sources, *map(str, (REPO / "kernels").glob("*.h")),
                     *map(str, (REPO / "testbench").glob("*.h"))}):
        h.update(Path(REPO, p).read_bytes())
    exe = BUILD / f"{name}-{h.hexdigest()[:16]}"
    if not exe.exists():
        BUILD.mkdir(parents=True, exist_ok=True)
        tmp = exe.with_suffix(".tmp")
        compile_cpp([REPO / s for s in sources], tmp, defines=defines,
                    include_dirs=[REPO / "kernels", REPO / "testbench"])
        tmp.replace(exe)
    return exe


def build_all() -> dict[str, Path]:
    jobs = {"bench": ("bench_kernels", ["testbench/bench_kernels.cpp", "kernels/conv1x1.cpp",
                                        "kernels/dw_conv3x3.cpp"], ())}
    for k, macro in KERNEL_MACRO.items():
        jobs[k] = (f"run_{k}", ["testbench/run_kernel.cpp", f"kernels/{k}.cpp"], (macro,))
    with ThreadPoolExecutor(2) as pool:
        futures = {key: pool.submit(build, *job) for key, job in jobs.items()}
        return {key: f.result() for key, f in futures.items()}


def run_cpp_kernel(exe: Path, bottom, top, weight, bias, factor) -> np.ndarray:
    """One call of a C++ kernel through run_kernel's files (little-endian int64 raws)."""
    with tempfile.TemporaryDirectory() as d:
        for fname, a in (("bottom", bottom), ("top", top), ("weight", weight), ("bias", bias),
                         ("factor", factor)):
            np.asarray(a, dtype="<i8").ravel().tofile(Path(d, f"{fname}.bin"))
        subprocess.run([str(exe), d], check=True, capture_output=True, text=True)
        return np.fromfile(Path(d, "top_out.bin"), dtype="<i8").reshape(np.shape(top))


def run_bench(exe: Path, calls: int, rounds: int) -> dict:
    out = subprocess.run([str(exe), str(calls), str(rounds)], check=True, capture_output=True,
                         text=True).stdout
    fields = dict(re.findall(r"(\w+)=(\S+)", out))
    return {"conv1x1": float(fields["conv1x1_us"]) * 1e-6,
            "dw_conv3x3": float(fields["dw_conv3x3_us"]) * 1e-6, "checksum": fields["checksum"]}


# ---- the benchmark ------------------------------------------------------------------------
def time_calls(runner, args, config, calls: int, budget: float = 10.0) -> dict:
    """``KernelResult.seconds`` of up to ``calls`` warm calls (best, median) and the best wall
    time of a whole call; stops after ``budget`` seconds (a loaded machine makes calls slow)."""
    seconds, walls = [], []
    stop = time.perf_counter() + budget
    while len(seconds) < calls and (len(seconds) < 3 or time.perf_counter() < stop):
        start = time.perf_counter()
        seconds.append(runner(*args, config).seconds)
        walls.append(time.perf_counter() - start)
    seconds.sort()
    return dict(best=seconds[0], median=seconds[len(seconds) // 2], calls=len(seconds),
                whole_call=min(walls))


def time_kernel(runner, args, config, calls: int) -> dict:
    """:func:`time_calls` on numba's threads, and again on one thread (robust under load)."""
    timing = time_calls(runner, args, config, calls)
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        timing["one_thread"] = time_calls(runner, args, config, calls)["best"]
    finally:
        numba.set_num_threads(threads)
    return timing


def _seed_runner(kind: str):  # noqa: ANN202
    """A seed kernel with the C++ argument order (bottom, top, weight, bias, factor, config)."""
    return lambda bottom, top, w, b, f, c: run_kind(kind, bottom, w, b, f, c, top=top)


RUNNERS = {k: _seed_runner(k) for k in TARGETS}


def run(quick: bool) -> list[Row]:
    calls, cpp_calls, cpp_rounds = (5, 2, 1) if quick else (300, 30, 10)
    config = KernelConfig()
    exes = build_all()
    x = bench_inputs(config)
    weights = {"conv1x1": x["w1"], "dw_conv3x3": x["w3"]}

    # as in bench_kernels: conv1x1 on a zero top, then DW_CONV_3x3 on conv1x1's top
    top = np.zeros((16, 34, 66), dtype=np.int64)
    inputs, outputs, timing = {}, {}, {}
    for k in ("conv1x1", "dw_conv3x3"):
        inputs[k] = (x["bottom"], top, weights[k], x["bias"], x["factor"])
        outputs[k] = top = RUNNERS[k](*inputs[k], config).top.raw  # also loads the numba code
        timing[k] = time_kernel(RUNNERS[k], inputs[k], config, calls)

    cpp = run_bench(exes["bench"], cpp_calls, cpp_rounds)
    ours_sum = "".join(f"{checksum(outputs[k]):016x}" for k in ("conv1x1", "dw_conv3x3"))
    sums_equal = ours_sum == cpp["checksum"]
    rows = []
    for k in ("conv1x1", "dw_conv3x3"):
        theirs = run_cpp_kernel(exes[k], *inputs[k])
        same, t = int((theirs == outputs[k]).sum()), timing[k]
        note = (f"on 1 thread {fmt_time(t['one_thread'])} ({cpp[k] / t['one_thread']:.1f}x); "
                f"whole Python call {fmt_time(t['whole_call'])} (validation, plan, copies)")
        rows.append(Row(k, f"{KINDS[k].legacy_cpp}, default config", t["best"],
                        "g++ -O2 (1 thr)", cpp[k], identical=same == theirs.size and sums_equal,
                        check=f"{same}/{theirs.size} top raws, checksum "
                              + ("equal" if sums_equal else "DIFFERS"),
                        target=TARGETS[k],
                        extra=dict(t, note=note, cpp_calls=cpp_calls, cpp_rounds=cpp_rounds,
                                   cpp_checksum=cpp["checksum"], checksum=ours_sum)))
    return rows
