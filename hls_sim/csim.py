"""C simulation: a layer's golden set replayed through the C++ kernel by testbench/golden_tb.cpp.

The library behind ``hls-sim csim``::

    from hls_sim.layer import load_layer
    from hls_sim.csim import csim_layer
    res = csim_layer(load_layer("weights/conv1x1.yaml"), count=2)
    res.passed, res.output        # PASS/FAIL and the testbench's summary

Steps: the golden set (:func:`hls_sim.golden.write_golden`) into a build folder; the
testbench and the kernel compiled by g++ against the ap_types headers
(:func:`hls_sim.toolchain.find_ap_types`) with the set's generated configuration header; the
testbench run on the set. No shell is involved: every command is an argument list, and no text
from the layer file reaches a command line (paths are arguments, never code).

:func:`build_testbench` and :func:`run_testbench` are the two halves, for callers that build
many sets (the tests cache binaries by the content of everything compiled).
"""

from __future__ import annotations

import hashlib
import os
import shlex
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from hls_sim.golden import (CONFIG_HEADER, KERNEL_SOURCE, SELECT_HEADER, GoldenSet,
                            write_golden)
from hls_sim.layer import Layer
from hls_sim.toolchain import ToolchainError, compile_cpp, find_ap_types, find_cxx

TESTBENCH = Path("testbench") / "golden_tb.cpp"
FLAGS = ("-std=c++14", "-O1", "-w")
UNITY = "HLS_SIM_GOLDEN_UNITY"  # the kernel compiled into the testbench: one pass over the headers
GENERATED = (SELECT_HEADER, CONFIG_HEADER, KERNEL_SOURCE)
RUN_TIMEOUT_S = 600
PASS, FAIL, UNUSABLE = 0, 1, 2  # the testbench's exit statuses


def source_root() -> Path:
    """The folder holding ``kernels/`` and ``testbench/`` (the project checkout)."""
    root = Path(__file__).resolve().parent.parent
    if not (root / TESTBENCH).is_file() or not (root / "kernels" / "hls_config.h").is_file():
        raise ToolchainError(f"C++ sources not found: expected kernels/ and {TESTBENCH} in "
                             f"{root} (hls-sim csim runs from a source checkout)")
    return root


@dataclass
class CsimResult:
    """The outcome of one C simulation."""

    passed: bool
    returncode: int  # the testbench's: 0 PASS, 1 mismatches, 2 golden set unusable
    output: str  # the testbench's summary (stdout, then stderr)
    golden: GoldenSet
    exe: Path
    build_dir: Path | None  # kept for inspection (``keep``), else None (deleted)
    compile_seconds: float
    run_seconds: float


def _digest(paths: Sequence[Path], extra: str) -> str:
    h = hashlib.sha256(extra.encode())
    for p in paths:
        h.update(b"\0" + p.name.encode() + b"\0" + p.read_bytes())
    return h.hexdigest()[:20]


PCH_TEXT = "".join(f"#include <{h}>\n" for h in ("ap_int.h", "ap_fixed.h", "cstdio", "cstdlib",
                                                  "cstring", "string", "vector"))
_PCH_LOCK = threading.Lock()


def _precompiled_headers(cache: Path, cxx: str, headers: Path,
                         flags: Sequence[str]) -> Path | None:
    """A g++ precompiled header of the ap_types headers in the cache (built once; about 40% of
    each testbench compile is parsing them), or None where it cannot be had (not g++, or the
    build fails: the compile then simply parses the headers)."""
    name = Path(cxx).name
    if "g++" not in name or "clang" in name:
        return None
    ap_fixed = Path(headers) / "ap_fixed.h"
    key = hashlib.sha256(f"{PCH_TEXT}\0{list(flags)}\0{cxx}\0{Path(headers).absolute()}\0"
                         f"{ap_fixed.stat().st_size}\0{ap_fixed.stat().st_mtime_ns}"
                         .encode()).hexdigest()[:20]
    d = cache / f"pch-{key}"
    header = d / "hls_sim_pch.h"
    with _PCH_LOCK:
        if (d / "hls_sim_pch.h.gch").is_file():
            return header
        tmp = Path(tempfile.mkdtemp(prefix=f".pch-{key}-", dir=cache))
        try:
            (tmp / header.name).write_text(PCH_TEXT)
            compile_cpp([tmp / header.name], tmp / "hls_sim_pch.h.gch", ap_types=headers,
                        flags=[*flags, "-x", "c++-header"])
            try:
                os.rename(tmp, d)
            except OSError:  # another process got there first
                pass
        except ToolchainError:
            return None
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return header if (d / "hls_sim_pch.h.gch").is_file() else None


def build_testbench(golden_dir: str | os.PathLike, output: str | os.PathLike | None = None, *,
                    ap_types: str | os.PathLike | None = None,
                    cache_dir: str | os.PathLike | None = None,
                    flags: Sequence[str] = FLAGS) -> Path:
    """Compile testbench/golden_tb.cpp and the golden set's kernel into an executable.

    With ``cache_dir``, the binary is kept there under a key made of the text of every file
    compiled (the set's three generated files, the testbench, kernels/), the flags, the
    compiler and the headers' folder, and reused while they are unchanged (a precompiled
    header of the ap_types headers is kept there too); otherwise it is written to ``output``
    (default ``golden_dir/../golden_tb``).
    """
    root = source_root()
    cxx = find_cxx()
    headers = find_ap_types(ap_types)
    gdir = Path(golden_dir)
    missing = [n for n in GENERATED if not (gdir / n).is_file()]
    if missing:
        raise ToolchainError(f"{gdir}: not a golden set ({missing[0]} missing)")
    kernels = root / "kernels"
    if cache_dir is None:
        exe = Path(output) if output is not None else gdir.absolute().parent / "golden_tb"
        return compile_cpp([root / TESTBENCH], exe, include_dirs=[gdir, kernels],
                           ap_types=headers, flags=flags, defines=[UNITY])
    sources = ([gdir / n for n in GENERATED] + [root / TESTBENCH]
               + sorted(kernels.glob("*.h")) + sorted(kernels.glob("*.cpp")))
    key = _digest(sources, f"{list(flags)}\0{UNITY}\0{cxx}\0{Path(headers).absolute()}")
    cache = Path(cache_dir)
    exe = cache / f"golden_tb-{key}"
    if exe.is_file():
        return exe
    cache.mkdir(parents=True, exist_ok=True)
    src = Path(tempfile.mkdtemp(prefix=f".src-{key}-", dir=cache))
    try:
        for n in GENERATED:
            shutil.copyfile(gdir / n, src / n)
        tmp = src / "golden_tb"
        pch = _precompiled_headers(cache, cxx, headers, flags)
        compile_cpp([root / TESTBENCH], tmp, include_dirs=[src, kernels], ap_types=headers,
                    flags=[*flags, "-include", str(pch)] if pch else flags, defines=[UNITY])
        os.replace(tmp, exe)
    finally:
        shutil.rmtree(src, ignore_errors=True)
    return exe


def run_testbench(exe: str | os.PathLike, golden_dir: str | os.PathLike,
                  timeout: float = RUN_TIMEOUT_S) -> tuple[int, str]:
    """Run the testbench on a golden set: (exit status, its output)."""
    try:
        proc = subprocess.run([str(exe), str(golden_dir)], capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return UNUSABLE, f"golden_tb: ERROR: no result within {timeout:g} s\n"
    except OSError as e:
        raise ToolchainError(f"cannot run {exe}: {e.strerror or e}") from None
    out = proc.stdout + (proc.stderr if proc.stderr else "")
    if proc.returncode < 0:
        out += f"golden_tb: killed by signal {-proc.returncode}\n"
    return proc.returncode, out


def csim_layer(layer: Layer, *, count: int = 1, ap_types: str | os.PathLike | None = None,
               keep: bool = False, build_dir: str | os.PathLike | None = None,
               cache_dir: str | os.PathLike | None = None) -> CsimResult:
    """Golden set, compile, run: the C++ kernel against the Python twin, every bit.

    The build folder (``build_dir``, or a new temporary folder) holds ``golden/`` (the set)
    and ``golden_tb`` (the executable); it is deleted afterwards unless ``keep``.
    """
    find_cxx()  # a clear error before any work when the toolchain is missing
    find_ap_types(ap_types)
    source_root()
    own = build_dir is None  # a temporary folder of our own: deleted unless keep
    if own:
        build = Path(tempfile.mkdtemp(prefix="hls-sim-csim-"))
    else:
        build = Path(build_dir)
        build.mkdir(parents=True, exist_ok=True)
    try:
        gs = write_golden(layer, build / "golden", count=count, force=True)
        t0 = time.perf_counter()
        exe = build_testbench(gs.path, build / "golden_tb", ap_types=ap_types,
                              cache_dir=cache_dir)
        t1 = time.perf_counter()
        rc, out = run_testbench(exe, gs.path)
        t2 = time.perf_counter()
    finally:
        if own and not keep:
            shutil.rmtree(build, ignore_errors=True)
    kept = build if (keep or not own) else None
    return CsimResult(rc == PASS, rc, out, gs, exe, kept, t1 - t0, t2 - t1)


def summary(layer: Layer, res: CsimResult) -> str:
    """What ``hls-sim csim`` prints: what ran, the testbench's summary, PASS or FAIL."""
    m = res.golden.manifest
    n = res.golden.count
    lines = [f"csim      {layer.path}" + (f"  ({layer.name})" if layer.name else ""),
             f"kernel    {m['kernel']['name']} (C++ {m['kernel']['function']}: "
             f"{m['kernel']['template']}<hls_sim_layer>), configuration "
             f"{m['config_id']}; {n} vector{'s' if n != 1 else ''}; g++ "
             f"{res.compile_seconds:.2f} s, testbench {res.run_seconds:.2f} s"]
    lines += ["| " + ln for ln in res.output.rstrip("\n").splitlines()]
    if res.build_dir is not None:
        lines.append(f"kept      {res.build_dir}  (the golden set in golden/; rerun: "
                     f"{shlex.quote(str(res.exe))} {shlex.quote(str(res.golden.path))})")
    lines.append("PASS" if res.passed else
                 "FAIL" + ("" if res.returncode == FAIL else f" (testbench exit status {res.returncode})"))
    return "\n".join(lines)
