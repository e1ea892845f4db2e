"""Build and run the C++ kernels of kernels/ through testbench/run_kernel.cpp (g++, real headers).

Binaries are cached under build/kernel_runners/, keyed by the generated configuration header,
the kernel and the text of every C++ source involved, so a re-run compiles nothing.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from hls_sim.kernels import KernelConfig
from hls_sim.toolchain import compile_cpp

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "build" / "kernel_runners"
MACRO = {"conv1x1": "HLS_SIM_KERNEL_CONV1X1", "dw_conv3x3": "HLS_SIM_KERNEL_DW_CONV_3X3"}
SOURCE = {"conv1x1": "kernels/conv1x1.cpp", "dw_conv3x3": "kernels/dw_conv3x3.cpp"}
FLAGS = ("-std=c++14", "-O1", "-w")


def _sources_digest() -> str:
    h = hashlib.sha256()
    for p in sorted([*ROOT.glob("kernels/*.h"), *ROOT.glob("kernels/*.cpp"),
                     ROOT / "testbench/run_kernel.cpp", ROOT / "testbench/tb_io.h"]):
        h.update(p.name.encode() + p.read_bytes())
    return h.hexdigest()


def runner(kernel: str, config: KernelConfig, digest: str | None = None) -> Path:
    """The run_kernel binary for this kernel and configuration (compiled once)."""
    header = config.header()
    key = hashlib.sha256(f"{kernel}\0{header}\0{digest or _sources_digest()}".encode()).hexdigest()[:16]
    exe = BUILD / f"run_{kernel}-{key}"
    if exe.exists():
        return exe
    BUILD.mkdir(parents=True, exist_ok=True)
    cfg = BUILD / f"config-{key}.h"
    cfg.write_text(header)
    tmp = BUILD / f".run_{kernel}-{key}.{os.getpid()}.tmp"
    compile_cpp([ROOT / "testbench/run_kernel.cpp", ROOT / SOURCE[kernel]], tmp,
                include_dirs=[ROOT / "kernels", ROOT / "testbench"], flags=FLAGS,
                defines=[MACRO[kernel], f'HLS_SIM_CONFIG="{cfg}"'])
    os.replace(tmp, exe)
    return exe


def build_all(jobs: list[tuple[str, KernelConfig]]) -> dict[tuple[str, KernelConfig], Path]:
    """Compile every (kernel, config) runner, two at a time."""
    digest = _sources_digest()
    with ThreadPoolExecutor(max_workers=max(1, os.cpu_count() or 1)) as pool:
        exes = pool.map(lambda j: runner(j[0], j[1], digest), jobs)
        return dict(zip(jobs, exes))


def run(exe: Path, inputs: dict[str, np.ndarray]) -> np.ndarray:
    """Run a runner on raw inputs; the whole top buffer it wrote, as int64 raws."""
    with tempfile.TemporaryDirectory() as d:
        for name in ("bottom", "top", "weight", "bias", "factor"):
            np.asarray(inputs[name], dtype="<i8").reshape(-1).tofile(Path(d) / f"{name}.bin")
        proc = subprocess.run([str(exe), d], capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"{exe.name} failed ({proc.returncode}): {proc.stderr.strip()}")
        return np.fromfile(Path(d) / "top_out.bin", dtype="<i8").reshape(16, 34, 66)
