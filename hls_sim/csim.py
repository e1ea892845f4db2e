"""C simulation: a layer's golden set replayed through the C++ kernel by testbench/golden_tb.cpp,
or a network's through its generated top by testbench/net_golden_tb.cpp.

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
import re
import shutil
import signal
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
from hls_sim.netgolden import GENERATED as NET_GENERATED
from hls_sim.network import Network
from hls_sim.toolchain import (BuildError, ToolchainError, compile_cpp, cxx_origin,
                               find_ap_types, find_cxx)

TESTBENCH = Path("testbench") / "golden_tb.cpp"
NET_TESTBENCH = Path("testbench") / "net_golden_tb.cpp"  # a network's set (hls_sim.netgolden)
NET_TESTBENCH_IO = Path("testbench") / "golden_io.h"  # included by it
FLAGS = ("-std=c++14", "-O1", "-w")
UNITY = "HLS_SIM_GOLDEN_UNITY"  # the kernel compiled into the testbench: one pass over the headers
NET_UNITY = "HLS_SIM_NET_UNITY"  # the same for the network top
GENERATED = (SELECT_HEADER, CONFIG_HEADER, KERNEL_SOURCE)
RUN_TIMEOUT_S = 600
PASS, FAIL, UNUSABLE = 0, 1, 2  # the testbench's exit statuses
TIMED_OUT = 124  # run_testbench's status for a testbench that gave no result in time
NDEBUG = "-DNDEBUG"  # --ndebug: the ap_types headers' assertions off

# hls-sim csim's exit statuses, one per outcome (README, docs/golden.md)
EXIT = {
    "pass": 0,          # every bit matches
    "mismatch": 1,      # the testbench compared and found differences
    "toolchain": 2,     # no compiler or no headers (or a bad layer / bad option): one line
    "build": 3,         # the compiler ran and failed
    "crash": 4,         # the testbench crashed, asserted (headers' debug build) or hung
    "unusable": 5,      # the testbench refused the golden set (its exit status 2)
    "sigint": 130,      # interrupted (Ctrl-C)
    "sigterm": 143,     # terminated
}
_SHELL_META = re.compile(r"[\s;&|<>$`\\\"'(){}\[\]*?~!#%^]")


class CflagsError(ValueError):
    """A --cflags word that is not a plain compiler option."""


def parse_cflags(text: str | Sequence[str] | None) -> list[str]:
    """Extra compiler flags: a string split like a shell would (``shlex.split``, nothing
    expanded) or a list; each must start with ``-`` and hold no shell metacharacter or
    whitespace. They are passed to the compiler as arguments, never through a shell."""
    if text is None:
        return []
    if isinstance(text, str):
        try:
            words = shlex.split(text)
        except ValueError as e:
            raise CflagsError(f"--cflags {text!r}: {e}") from None
    else:
        words = list(text)
    for w in words:
        if not w.startswith("-") or len(w) < 2:
            raise CflagsError(f"--cflags: {w!r} is not a compiler option (each flag starts "
                              "with '-')")
        bad = _SHELL_META.search(w)
        if bad:
            raise CflagsError(f"--cflags: {w!r} contains {bad.group()!r} (no whitespace or "
                              "shell metacharacters in flags)")
    return words


def outcome(returncode: int, output: str) -> str:
    """What a testbench run means: a key of :data:`EXIT` (``assertion`` for an assertion in
    the headers' debug build, which exits with status ``crash``)."""
    if returncode == PASS:
        return "pass"
    if returncode == FAIL:
        return "mismatch"
    if returncode == UNUSABLE:
        return "unusable"
    if returncode in (-signal.SIGINT, 128 + signal.SIGINT):
        return "sigint"
    if returncode in (-signal.SIGTERM, 128 + signal.SIGTERM):
        return "sigterm"
    if returncode == -signal.SIGABRT and assertion_line(output):
        return "assertion"
    return "crash"


def assertion_line(output: str) -> str | None:
    """The line of an assertion failure in the testbench's output (glibc's ``Assertion `...'
    failed``, or the headers' own messages), or None."""
    for ln in output.splitlines():
        if "Assertion" in ln or "Attempting to" in ln:
            return ln.strip()
    return None


def _signal_name(n: int) -> str:
    try:
        return signal.Signals(n).name
    except ValueError:
        return f"signal {n}"


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
    returncode: int  # the testbench's: 0 PASS, 1 mismatches, 2 golden set unusable,
    #                  negative: killed by that signal, TIMED_OUT: no result in time
    output: str  # the testbench's summary (stdout, then stderr)
    golden: GoldenSet
    exe: Path
    build_dir: Path | None  # kept for inspection (``keep``), else None (deleted)
    compile_seconds: float
    run_seconds: float
    cxx: str = "g++"  # the compiler that built the testbench
    flags: tuple[str, ...] = FLAGS  # its flags

    @property
    def outcome(self) -> str:
        """``pass``, ``mismatch``, ``unusable``, ``assertion``, ``crash``, ``sigint`` or
        ``sigterm`` (see :func:`outcome`)."""
        return outcome(self.returncode, self.output)

    @property
    def exit_status(self) -> int:
        """hls-sim csim's exit status for this result (:data:`EXIT`)."""
        o = self.outcome
        return EXIT["crash" if o == "assertion" else o]


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
    """Compile testbench/golden_tb.cpp and the golden set's kernel into an executable (for a
    network's set, testbench/net_golden_tb.cpp and the set's network top).

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
    network = (gdir / NET_GENERATED[0]).is_file()  # a network's set: its own testbench
    generated, testbench, unity, stem, extra = (
        (NET_GENERATED, NET_TESTBENCH, NET_UNITY, "net_golden_tb", [root / NET_TESTBENCH_IO])
        if network else (GENERATED, TESTBENCH, UNITY, "golden_tb", []))
    missing = [n for n in generated if not (gdir / n).is_file()]
    if missing:
        raise ToolchainError(f"{gdir}: not a golden set ({missing[0]} missing)")
    kernels = root / "kernels"
    if cache_dir is None:
        exe = Path(output) if output is not None else gdir.absolute().parent / stem
        return compile_cpp([root / testbench], exe, include_dirs=[gdir, kernels],
                           ap_types=headers, flags=flags, defines=[unity])
    sources = ([gdir / n for n in generated] + [root / testbench] + extra
               + sorted(kernels.glob("*.h")) + sorted(kernels.glob("*.cpp")))
    key = _digest(sources, f"{list(flags)}\0{unity}\0{cxx}\0{Path(headers).absolute()}")
    cache = Path(cache_dir)
    exe = cache / f"{stem}-{key}"
    if exe.is_file():
        return exe
    cache.mkdir(parents=True, exist_ok=True)
    src = Path(tempfile.mkdtemp(prefix=f".src-{key}-", dir=cache))
    try:
        for n in generated:
            shutil.copyfile(gdir / n, src / n)
        tmp = src / stem
        pch = _precompiled_headers(cache, cxx, headers, flags)
        compile_cpp([root / testbench], tmp, include_dirs=[src, kernels], ap_types=headers,
                    flags=[*flags, "-include", str(pch)] if pch else flags, defines=[unity])
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
        return TIMED_OUT, f"golden_tb: ERROR: no result within {timeout:g} s (stopped)\n"
    except OSError as e:
        raise ToolchainError(f"cannot run {exe}: {e.strerror or e}") from None
    out = proc.stdout + (proc.stderr if proc.stderr else "")
    if proc.returncode < 0:
        out += f"golden_tb: killed by signal {-proc.returncode}\n"
    return proc.returncode, out


def csim_layer(layer: Layer, *, count: int = 1, ap_types: str | os.PathLike | None = None,
               keep: bool = False, build_dir: str | os.PathLike | None = None,
               cache_dir: str | os.PathLike | None = None, ndebug: bool = False,
               cflags: str | Sequence[str] | None = None) -> CsimResult:
    """Golden set, compile, run: the C++ kernel against the Python twin, every bit.

    The build folder (``build_dir``, or a new temporary folder) holds ``golden/`` (the set)
    and ``golden_tb`` (the executable); it is deleted afterwards unless ``keep``. ``ndebug``
    adds ``-DNDEBUG`` (the headers' assertions off); ``cflags`` are extra compiler flags
    (:func:`parse_cflags`), after the defaults. A failed compile raises
    :class:`~hls_sim.toolchain.BuildError` (its ``build_dir`` set when the folder is kept).
    """
    return _csim(lambda d: write_golden(layer, d, count=count, force=True), "golden_tb",
                 ap_types=ap_types, keep=keep, build_dir=build_dir, cache_dir=cache_dir,
                 ndebug=ndebug, cflags=cflags)


def csim_network(net: Network, *, count: int | None = None,
                 ap_types: str | os.PathLike | None = None, keep: bool = False,
                 build_dir: str | os.PathLike | None = None,
                 cache_dir: str | os.PathLike | None = None, ndebug: bool = False,
                 cflags: str | Sequence[str] | None = None) -> CsimResult:
    """:func:`csim_layer` for a network: its golden set (the first ``count`` images, default
    all: :func:`hls_sim.netgolden.write_network_golden`), the generated network top and
    testbench/net_golden_tb.cpp compiled with g++, run; every layer's output map compared."""
    from hls_sim.netgolden import write_network_golden

    return _csim(lambda d: write_network_golden(net, d, count=count, force=True),
                 "net_golden_tb", ap_types=ap_types, keep=keep, build_dir=build_dir,
                 cache_dir=cache_dir, ndebug=ndebug, cflags=cflags)


def _csim(write, exe_name: str, *, ap_types, keep, build_dir, cache_dir, ndebug,  # noqa: ANN001
          cflags) -> CsimResult:
    flags = (*FLAGS, *([NDEBUG] if ndebug else []), *parse_cflags(cflags))
    cxx = find_cxx()  # a clear error before any work when the toolchain is missing
    find_ap_types(ap_types)
    source_root()
    own = build_dir is None  # a temporary folder of our own: deleted unless keep
    if own:
        build = Path(tempfile.mkdtemp(prefix="hls-sim-csim-"))
    else:
        build = Path(build_dir)
        build.mkdir(parents=True, exist_ok=True)
    try:
        gs = write(build / "golden")
        t0 = time.perf_counter()
        try:
            exe = build_testbench(gs.path, build / exe_name, ap_types=ap_types,
                                  cache_dir=cache_dir, flags=flags)
        except BuildError as e:
            e.build_dir = build if (keep or not own) else None
            raise
        t1 = time.perf_counter()
        rc, out = run_testbench(exe, gs.path)
        t2 = time.perf_counter()
    finally:
        if own and not keep:
            shutil.rmtree(build, ignore_errors=True)
    kept = build if (keep or not own) else None
    return CsimResult(rc == PASS, rc, out, gs, exe, kept, t1 - t0, t2 - t1, cxx, flags)


def verdict(res: CsimResult) -> list[str]:
    """The last lines ``hls-sim csim`` prints: PASS, or FAIL and what kind of failure."""
    o, rc = res.outcome, res.returncode
    if o == "pass":
        return ["PASS"]
    if o == "mismatch":
        return ["FAIL"]
    if o == "unusable":
        return ["FAIL: the testbench refused the golden set as unusable (testbench exit status "
                "2; see its message above); nothing was compared"]
    if o == "assertion":
        return ["FAIL: the ap_types headers' debug build asserted (testbench exit status -6, "
                "SIGABRT):",
                f"  {assertion_line(res.output)}",
                "This is not a mismatch: the testbench stopped at the assertion before "
                "comparing; --ndebug builds with -DNDEBUG (the headers' assertions off)."]
    if o in ("sigint", "sigterm"):
        return [f"FAIL: the testbench was interrupted ({_signal_name(-rc if rc < 0 else rc - 128)})"]
    if rc == TIMED_OUT:
        return ["FAIL: the testbench gave no result in time and was stopped (a hang, not a "
                "mismatch)"]
    how = f"killed by {_signal_name(-rc)}" if rc < 0 else f"exit status {rc}"
    return [f"FAIL: the testbench crashed ({how}); this is not a mismatch"]


def summary(what: Layer | Network, res: CsimResult) -> str:
    """What ``hls-sim csim`` prints: what ran, the testbench's summary, PASS or FAIL."""
    m = res.golden.manifest
    n = res.golden.count
    times = (f"{n} vector{'s' if n != 1 else ''}; {Path(res.cxx).name} "
             f"{res.compile_seconds:.2f} s, testbench {res.run_seconds:.2f} s")
    lines = [f"csim      {what.path}" + (f"  ({what.name})" if what.name else "")]
    if m.get("set") == "network":
        layers = m["network"]["layers"]
        lines.append(f"network   {len(layers)} layers (C++ {m['top']['function']} of "
                     f"{m['top']['source']}: per layer, per channel group and tile, one call of "
                     f"its kernel), configuration {m['config_id']}; {times}")
    else:
        lines.append(f"kernel    {m['kernel']['name']} (C++ {m['kernel']['function']}: "
                     f"{m['kernel']['template']}<hls_sim_layer>), configuration "
                     f"{m['config_id']}; {times}")
    lines += ["| " + ln for ln in res.output.rstrip("\n").splitlines()]
    if res.build_dir is not None:
        lines.append(f"kept      {res.build_dir}  (the golden set in golden/; rerun: "
                     f"{shlex.quote(str(res.exe))} {shlex.quote(str(res.golden.path))})")
    extra = res.flags[len(FLAGS):]
    if extra:
        lines.insert(2, f"flags     {' '.join(shlex.quote(f) for f in res.flags)}")
    lines += verdict(res)
    return "\n".join(lines)
