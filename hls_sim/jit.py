"""The project's numba policy, in one place.

Every compiled function in hls-sim is made with :func:`njit` from here: results are
cached on disk, per version of the package's sources (a second run pays no compilation), the GIL is released, and fastmath is
never on (the kernels are bit-accurate integer code; reassociation or flush-to-zero would
change answers). ``parallel=True`` is opt-in per function, for loops that are safe to split.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any, Callable

import numba
import numba.extending

POLICY = dict(cache=True, nogil=True, fastmath=False, error_model="numpy")

# Parallel loops: numba's default layer (OpenMP here), with OpenMP threads that sleep rather
# than spin while waiting. Measured on a seed tile (2 cores): spinning OpenMP 50 us quiet but
# 5 ms with two busy processes beside it; numba's workqueue 145-180 us (its launch cost);
# passive OpenMP 65-87 us quiet and 58-77 us under that load. The user's own settings win.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def sources_digest(root: Path = Path(__file__).parent) -> str:
    """A digest of every .py file of the package (names and contents)."""
    h = hashlib.sha256()
    for p in sorted(root.rglob("*.py")):
        h.update(p.relative_to(root).as_posix().encode() + b"\0" + p.read_bytes())
    return h.hexdigest()[:16]


# numba checks a cached function against its own source file only, not against the
# functions it calls: editing or upgrading rules.py would leave kernels compiled with the old
# rules. So the cache lives in a folder named after the whole package's sources.
# An explicit NUMBA_CACHE_DIR still wins.
if "NUMBA_CACHE_DIR" not in os.environ:
    _base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    numba.config.CACHE_DIR = str(_base / "hls-sim" / f"numba-{sources_digest()}")


def njit(fn: Callable | None = None, *, parallel: bool = False) -> Any:
    """``numba.njit`` with the project's policy; use bare (``@njit``) or as ``@njit(parallel=True)``."""
    decorate = numba.njit(parallel=parallel, **POLICY)
    return decorate(fn) if fn is not None else decorate


prange = numba.prange


def jitable(fn: Callable | None = None, *, inline: bool = False) -> Any:
    """Mark a plain-Python function as callable from numba code.

    Called from Python it stays plain Python (so it also runs on unbounded Python ints:
    this is how the int64 path and the exact path share one implementation). Inside a
    compiled loop that passes constant parameters, LLVM inlines it and folds the constants.
    ``inline=True`` inlines at numba level instead: only for a thin layer such as a row
    epilogue whose callees stay calls (numba-inlining a deep call chain compiles very slowly).
    """
    def decorate(f: Callable) -> Callable:
        if inline:
            return numba.extending.register_jitable(inline="always")(f)
        return numba.extending.register_jitable(f)

    return decorate(fn) if fn is not None else decorate


def python(fn: Callable | None = None, *, parallel: bool = False) -> Any:
    """Drop-in for :func:`njit` that leaves the function as plain Python (the exact path)."""
    return fn if fn is not None else (lambda f: f)
