"""Find g++ and the Xilinx ap_types headers, and compile C++ against them.

One place decides where the headers come from, in this order:

1. an explicit directory (``--ap-types DIR`` on the command line),
2. ``$XILINX_HLS/include`` (a Vitis HLS installation),
3. ``$HLS_SIM_AP_TYPES`` (a directory holding ``ap_fixed.h``),
4. the copy shipped inside the ``hls4ml`` package on PyPI
   (``hls4ml/templates/vivado/ap_types``; only the headers are used, hls4ml is never imported).

Compilation never goes through a shell: arguments are passed as a list.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Sequence

HEADER = "ap_fixed.h"
HLS4ML_SUBDIR = ("templates", "vivado", "ap_types")
DEFAULT_FLAGS = ("-std=c++14", "-O2", "-w")


class ToolchainError(RuntimeError):
    """g++ or the ap_types headers are missing, or a compile failed."""


class BuildError(ToolchainError):
    """The compiler ran and failed: which compiler, its exit status and what it said."""

    def __init__(self, message: str, *, cxx: str, returncode: int, output: str,
                 errors: Sequence[str]) -> None:
        super().__init__(message)
        self.cxx = cxx  # the compiler that ran (a path)
        self.returncode = returncode
        self.output = output  # its stderr, then stdout
        self.errors = list(errors)  # its first error lines (or first lines), for display


ERROR_LINES = 8  # lines of the compiler's output a BuildError quotes


def cxx_origin() -> str:
    """Where the compiler :func:`find_cxx` returns comes from: ``$CXX`` or the default."""
    return f"$CXX={os.environ['CXX']}" if os.environ.get("CXX") else "g++ on PATH"


def first_errors(output: str, limit: int = ERROR_LINES) -> list[str]:
    """The compiler's first error lines: from the first line saying ``error`` (with the lines
    after it, its context), else the output's first lines; at most ``limit``."""
    lines = [ln for ln in output.splitlines() if ln.strip()]
    start = next((i for i, ln in enumerate(lines) if "error" in ln.lower()), 0)
    return lines[start:start + limit]


def _has_header(d: Path) -> bool:
    return (d / HEADER).is_file()


def find_ap_types(explicit: str | os.PathLike | None = None) -> Path:
    """Return the directory holding ``ap_fixed.h``, or raise ToolchainError saying how to get one."""
    if explicit is not None:
        d = Path(explicit)
        if not _has_header(d):
            raise ToolchainError(f"--ap-types {d}: no {HEADER} in that directory")
        return d
    xilinx = os.environ.get("XILINX_HLS")
    if xilinx:
        d = Path(xilinx) / "include"
        if _has_header(d):
            return d
    env = os.environ.get("HLS_SIM_AP_TYPES")
    if env:
        d = Path(env)
        if not _has_header(d):
            raise ToolchainError(f"HLS_SIM_AP_TYPES={d}: no {HEADER} in that directory")
        return d
    spec = importlib.util.find_spec("hls4ml")  # locates the package without importing it
    if spec is not None and spec.submodule_search_locations:
        for root in spec.submodule_search_locations:
            d = Path(root).joinpath(*HLS4ML_SUBDIR)
            if _has_header(d):
                return d
    raise ToolchainError(
        "ap_types headers not found: set XILINX_HLS, pass --ap-types DIR, set HLS_SIM_AP_TYPES, "
        "or run `pip install --no-deps hls4ml==1.3.0` (it ships the headers)"
    )


def find_cxx() -> str:
    """Return the C++ compiler to use: ``$CXX`` if set, else g++ on PATH."""
    cxx = os.environ.get("CXX") or "g++"
    path = shutil.which(cxx)
    if path is None:
        raise ToolchainError(f"C++ compiler {cxx!r} not found on PATH: install g++ or set CXX")
    return path


def have_toolchain() -> str | None:
    """None when g++ and the headers are both available, else the reason they are not."""
    try:
        find_cxx()
        find_ap_types()
    except ToolchainError as e:
        return str(e)
    return None


def compile_cpp(
    sources: Sequence[os.PathLike | str],
    output: os.PathLike | str,
    *,
    include_dirs: Sequence[os.PathLike | str] = (),
    ap_types: os.PathLike | str | None = None,
    flags: Sequence[str] = DEFAULT_FLAGS,
    defines: Sequence[str] = (),
) -> Path:
    """Compile ``sources`` into the executable ``output`` against the ap_types headers."""
    cmd = [find_cxx(), *flags]
    cmd += [f"-D{d}" for d in defines]
    cmd += [f"-I{Path(d)}" for d in include_dirs]
    cmd += [f"-I{find_ap_types(ap_types)}"]
    cmd += [str(Path(s)) for s in sources]
    cmd += ["-o", str(Path(output))]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True)
    except OSError as e:  # found on PATH but not runnable
        raise ToolchainError(f"C++ compiler {cmd[0]} ({cxx_origin()}) cannot be run: "
                             f"{e.strerror or e}") from None
    if proc.returncode != 0:
        output = proc.stderr + proc.stdout
        errors = first_errors(output)
        status = (f"killed by signal {-proc.returncode}" if proc.returncode < 0
                  else f"exit status {proc.returncode}")
        said = ": " + errors[0] if errors else " (no output)"
        raise BuildError(f"C++ compiler {cmd[0]} ({cxx_origin()}) failed with {status} "
                         f"compiling {', '.join(map(str, sources))}{said}",
                         cxx=cmd[0], returncode=proc.returncode, output=output, errors=errors)
    return Path(output)


def cached_build(
    source_text: str,
    build_dir: os.PathLike | str,
    name: str,
    *,
    include_dirs: Sequence[os.PathLike | str] = (),
    flags: Sequence[str] = DEFAULT_FLAGS,
) -> Path:
    """Compile a generated C++ source once per distinct text (keyed by its hash); return the binary.

    Safe when several processes or threads build the same text at once: each writes its
    source and output under names of its own and renames them into place, so nobody ever
    compiles a half-written file or sees a half-written binary.
    """
    build = Path(build_dir)
    build.mkdir(parents=True, exist_ok=True)
    key = hashlib.sha256(
        (source_text + "\0" + " ".join(flags) + "\0" + str(find_ap_types())).encode()
    ).hexdigest()[:16]
    exe = build / f"{name}-{key}"
    if exe.exists():
        return exe
    src = build / f"{name}-{key}.cpp"
    own = f"{os.getpid()}.{threading.get_ident()}"
    tmp_src = build / f".{name}-{key}.{own}.cpp"
    tmp = build / f".{name}-{key}.{own}.tmp"
    try:
        tmp_src.write_text(source_text)
        compile_cpp([tmp_src], tmp, include_dirs=include_dirs, flags=flags)
        os.replace(tmp_src, src)  # kept next to the binary, for reading compile errors
        os.replace(tmp, exe)
    finally:
        for leftover in (tmp_src, tmp):
            leftover.unlink(missing_ok=True)
    return exe
