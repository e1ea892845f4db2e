"""The project's numba policy, in one place.

Every compiled function in hls-sim is made with :func:`njit` from here: results are
cached on disk, per version of the sources compiled code can reach (a second run pays no
compilation), the GIL is released, and fastmath is never on (the kernels are bit-accurate
integer code; reassociation or flush-to-zero would change answers). ``parallel=True`` is
opt-in per function, for loops that are safe to split.

numba itself (about 0.15 s to import, more to load cached code) is imported only when the
first compiled function is defined, so commands that compile nothing (``hls-sim type``,
``--help``) start without it; :func:`jitable` only marks functions until then.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any, Callable

POLICY = dict(cache=True, nogil=True, fastmath=False, error_model="numpy")

# Parallel loops: numba's default layer (OpenMP here), with OpenMP threads that sleep rather
# than spin while waiting. Measured on a seed tile (2 cores): spinning OpenMP 50 us quiet but
# 5 ms with two busy processes beside it; numba's workqueue 145-180 us (its launch cost);
# passive OpenMP 65-87 us quiet and 58-77 us under that load. The user's own settings win.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

PACKAGE = Path(__file__).parent
# The code numba compiles lives here and imports nothing from the rest of the package
# (a test checks): the type rules, the kernels, and this policy.
COMPILED_SOURCES = ("jit.py", "types", "kernels")


def sources_digest(root: Path = PACKAGE, parts: tuple[str, ...] | None = None) -> str:
    """A digest of the .py files (names and contents) under ``root``, or under its ``parts``."""
    h = hashlib.sha256()
    tops = [root / p for p in parts] if parts else [root]
    files = sorted(f for t in tops for f in ([t] if t.is_file() else t.rglob("*.py")))
    for p in files:
        h.update(p.relative_to(root).as_posix().encode() + b"\0" + p.read_bytes())
    return h.hexdigest()[:16]


def cache_dir() -> Path:
    """Where compiled kernels are kept: one folder per version of the compiled sources.

    ``$HLS_SIM_NUMBA_CACHE_TAG`` gives a process a folder of its own. numba's cache is not
    safe for two processes that compile different configurations of one kernel at once (both
    may pick the same data file for different index entries, and a later load then runs the
    wrong code), so parallel test workers take a tag each (tests/conftest.py).
    """
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    tag = os.environ.get("HLS_SIM_NUMBA_CACHE_TAG", "")
    if tag and not tag.replace("-", "").replace("_", "").isalnum():
        raise ValueError(f"HLS_SIM_NUMBA_CACHE_TAG={tag!r}: letters, digits, - and _ only")
    name = f"numba-{sources_digest(PACKAGE, COMPILED_SOURCES)}" + (f"-{tag}" if tag else "")
    return base / "hls-sim" / name


_numba: Any = None
_pending: list[tuple[Callable, bool]] = []


def _register(f: Callable, inline: bool) -> None:
    import numba.extending
    if inline:
        numba.extending.register_jitable(inline="always")(f)
    else:
        numba.extending.register_jitable(f)


def numba_module() -> Any:
    """numba, imported and configured on first use (cache folder, pending jitables)."""
    global _numba
    if _numba is None:
        import numba
        # numba checks a cached function against its own source file only, not against the
        # functions it calls: editing or upgrading rules.py would leave kernels compiled with
        # the old rules. So the cache lives in a folder named after every source compiled
        # code can reach. An explicit NUMBA_CACHE_DIR still wins.
        if "NUMBA_CACHE_DIR" not in os.environ:
            numba.config.CACHE_DIR = str(cache_dir())
        _numba = numba
        for f, inline in _pending:
            _register(f, inline)
        _pending.clear()
    return _numba


def njit(fn: Callable | None = None, *, parallel: bool = False) -> Any:
    """``numba.njit`` with the project's policy; use bare (``@njit``) or as ``@njit(parallel=True)``."""
    decorate = numba_module().njit(parallel=parallel, **POLICY)
    return decorate(fn) if fn is not None else decorate


def __getattr__(name: str) -> Any:
    if name == "prange":  # ``from hls_sim.jit import prange`` loads numba, as njit does
        return numba_module().prange
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def jitable(fn: Callable | None = None, *, inline: bool = False) -> Any:
    """Mark a plain-Python function as callable from numba code.

    Called from Python it stays plain Python (so it also runs on unbounded Python ints:
    this is how the int64 path and the exact path share one implementation). Inside a
    compiled loop that passes constant parameters, LLVM inlines it and folds the constants.
    ``inline=True`` inlines at numba level instead: only for a thin layer such as a row
    epilogue whose callees stay calls (numba-inlining a deep call chain compiles very slowly).
    """
    def decorate(f: Callable) -> Callable:
        if _numba is None:
            _pending.append((f, inline))
        else:
            _register(f, inline)
        return f

    return decorate(fn) if fn is not None else decorate


def python(fn: Callable | None = None, *, parallel: bool = False) -> Any:
    """Drop-in for :func:`njit` that leaves the function as plain Python (the exact path)."""
    return fn if fn is not None else (lambda f: f)
