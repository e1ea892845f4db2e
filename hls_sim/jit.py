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

import contextlib
import hashlib
import os
from pathlib import Path
from typing import Any, Callable, Iterator

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

    ``$HLS_SIM_NUMBA_CACHE_TAG`` gives a process a folder of its own (a clean cache to time
    compilation, say); processes may share one folder (see :func:`_lock_the_disk_cache`).
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
        _lock_the_disk_cache(numba)
        _numba = numba
        for f, inline in _pending:
            _register(f, inline)
        _pending.clear()
    return _numba


def _lock_the_disk_cache(numba: Any) -> None:
    """Make numba's disk cache safe for processes that compile at the same time.

    numba saves a cache entry by reading the function's index, picking the first free data
    file number, and writing index and data, with no lock: two processes that compile
    different configurations of one kernel at once (two hls-sim runs, test workers, Dask
    workers) can both pick data file N, and a later process then loads the other
    configuration's machine code under this one's key and computes wrong results (reproduced:
    4 processes compiling 40 configurations of one closure, 7 of them came back wrong). Here
    a save holds an exclusive lock on the index and a load a shared one, so each
    read-modify-write of an index is atomic. Where fcntl does not exist, nothing changes.
    """
    try:
        import fcntl
    except ImportError:  # not POSIX
        return
    from numba.core import caching

    cls = caching.IndexDataCacheFile
    if getattr(cls, "_hls_sim_locked", False):
        return
    save, load = cls.save, cls.load

    def locked(method: Callable, mode: int) -> Callable:
        def run(self: Any, *args: Any) -> Any:
            try:
                lock = open(self._index_path + ".lock", "a")
            except OSError:  # a folder we may read but not write: numba copes as before
                return method(self, *args)
            with lock:
                fcntl.flock(lock, mode)
                return method(self, *args)  # closing the file releases the lock
        return run

    cls.save = locked(save, fcntl.LOCK_EX)
    cls.load = locked(load, fcntl.LOCK_SH)
    cls._hls_sim_locked = True


@contextlib.contextmanager
def compiles() -> Iterator[list]:
    """Inside, numba's compilations in this process are counted: yields a list that holds one
    entry per compiled function and signature when the block ends (a sweep's worker tasks
    report it: they should only load from the cache)."""
    from numba.core import event

    numba_module()
    found: list = []
    with event.install_recorder("numba:compile") as rec:
        yield found
    found.extend(ev for _, ev in rec.buffer if ev.is_start)


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
