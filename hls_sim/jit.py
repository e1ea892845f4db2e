"""The project's numba policy, in one place.

Every compiled function in hls-sim is made with :func:`njit` from here: results are
cached on disk, per version of the sources compiled code can reach (a second run pays no
compilation), the GIL is released, and fastmath is never on (the kernels are bit-accurate
integer code; reassociation or flush-to-zero would change answers). ``parallel=True`` is
opt-in per function, for loops that are safe to split. A kernel twin built per configuration
is made with :func:`kernel` instead: it runs specialised or generic machine code (below).

numba itself (about 0.15 s to import, more to load cached code) is imported only when the
first compiled function is defined, so commands that compile nothing (``hls-sim type``,
``--help``) start without it; :func:`jitable` only marks functions until then.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import inspect
import os
import textwrap
import threading
import time
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


def cache_dir(tag: str | None = None) -> Path:
    """Where compiled kernels are kept: one folder per version of the compiled sources.

    ``$HLS_SIM_NUMBA_CACHE_TAG`` (or ``tag``) gives a process a folder of its own (a clean
    cache to time compilation, say); processes may share one (see :func:`_lock_the_disk_cache`).
    """
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    tag = os.environ.get("HLS_SIM_NUMBA_CACHE_TAG", "") if tag is None else tag
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


# ---- per-configuration kernels: specialised machine code, or one generic build ---------------
# A kernel twin is built per configuration: a closure whose captured names (widths, modes,
# shapes) are constants to numba, so LLVM folds every conversion down to a few vector
# instructions -- at 5-10 s of compilation per configuration. The same source also runs as a
# *generic* kernel: one compiled function per kernel source in which those names are run-time
# arguments, compiled once and cached for good, 2-20x slower per call. A configuration runs
# the generic kernel until its specialised machine code exists (in this process or numba's disk
# cache) or its generic calls have cost TIER_UP_SECONDS (then compiling pays for itself).
KERNEL_MODES = ("auto", "specialised", "generic")
TIER_UP_SECONDS = 5.0
_mode_override: list[str] = []
_last = threading.local()


def kernel_mode() -> str:
    """Which machine code per-configuration kernels run: ``auto`` (the default: specialised
    when it exists, else generic until that has cost TIER_UP_SECONDS), ``specialised`` (compile
    before the first call) or ``generic``; ``$HLS_SIM_KERNELS`` sets it, :func:`kernels` too."""
    if _mode_override:
        return _mode_override[-1]
    mode = os.environ.get("HLS_SIM_KERNELS", "auto") or "auto"
    if mode not in KERNEL_MODES:
        raise ValueError(f"HLS_SIM_KERNELS={mode!r}: one of {', '.join(KERNEL_MODES)}")
    return mode


@contextlib.contextmanager
def kernels(mode: str) -> Iterator[None]:
    """Inside, per-configuration kernels run as ``mode`` says (see :func:`kernel_mode`)."""
    if mode not in KERNEL_MODES:
        raise ValueError(f"kernels: {mode!r} is not one of {', '.join(KERNEL_MODES)}")
    _mode_override.append(mode)
    try:
        yield
    finally:
        _mode_override.pop()


def last_variant() -> str | None:
    """The variant (``specialised`` or ``generic``) of the last per-configuration kernel this
    thread ran; None after :func:`forget_variant` if none ran since (plain Python)."""
    return getattr(_last, "variant", None)


def forget_variant() -> None:
    _last.variant = None


class Kernel:
    """One configuration of a kernel twin (see :func:`kernel`): callable like the closure."""

    def __init__(self, fn: Callable, parallel: bool):
        self.fn, self.parallel = fn, parallel
        self.constants = tuple(c.cell_contents for c in fn.__closure__ or ())
        for name, value in zip(fn.__code__.co_freevars, self.constants):
            if not _plain(value):  # as an argument it would make a generic build per value
                raise TypeError(f"kernel {fn.__qualname__}: captured {name} is a "
                                f"{type(value).__name__}; a kernel captures only numbers, bools, "
                                "None and tuples of them")
        self.specialised: Any = None  # numba's dispatcher, made on first need
        self.ready = False  # the specialised machine code is loaded
        self.missing: set = set()  # argument types found missing from the disk cache
        self.generic_seconds = 0.0

    def __call__(self, *args: Any) -> Any:
        mode = kernel_mode()
        if mode == "generic" or (mode == "auto" and not self.ready
                                 and self.generic_seconds < TIER_UP_SECONDS
                                 and not self._loadable(args)):
            generic = _generic(self.fn, self.parallel)
            warm = bool(generic.overloads)  # else this call also compiles or loads it: not counted
            start = time.perf_counter()
            out = generic(*args, *self.constants)
            self.generic_seconds += (time.perf_counter() - start) if warm else 0.0
            _last.variant = "generic"
            return out
        out = self.dispatcher()(*args)
        self.ready = True
        _last.variant = "specialised"
        return out

    def dispatcher(self) -> Any:
        """numba's dispatcher of the specialised machine code (it compiles on first call)."""
        if self.specialised is None:
            self.specialised = njit(self.fn, parallel=self.parallel)
        return self.specialised

    def _loadable(self, args: tuple) -> bool:
        """Whether the specialised machine code for ``args`` is in this process or numba's disk
        cache (loading it if so), without compiling it."""
        from numba.core.compiler_lock import global_compiler_lock

        disp = self.dispatcher()
        sig = tuple(disp.typeof_pyval(a) for a in args)
        if sig in disp.overloads:
            return True
        if sig in self.missing:
            return False
        with global_compiler_lock:
            cres = disp._cache.load_overload(sig, disp.targetctx)  # what numba's compile() does first
            if cres is None:
                self.missing.add(sig)
                return False
            disp.targetctx.insert_user_function(cres.entry_point, cres.fndesc, [cres.library])
            disp.add_overload(cres)
        return True


def _plain(value: Any) -> bool:
    if isinstance(value, tuple):
        return all(_plain(v) for v in value)
    return value is None or isinstance(value, (bool, int, float))


def kernel(fn: Callable | None = None, *, parallel: bool = False) -> Any:
    """Drop-in for :func:`njit` for a per-configuration kernel: a closure whose captured names
    are its configuration's constants (ints, bools, None, tuples of them). It runs specialised
    or generic as :func:`kernel_mode` says; both compute the same bits (tests check)."""
    def decorate(f: Callable) -> Kernel:
        return Kernel(f, parallel)

    return decorate(fn) if fn is not None else decorate


_GENERIC: dict[tuple, Any] = {}


def _generic(fn: Callable, parallel: bool) -> Any:
    """The generic build of a kernel closure: its source compiled again with every captured
    name as an extra trailing parameter (so the constants are arguments), one numba dispatcher
    per kernel source, cached on disk like any other function."""
    code = fn.__code__  # the same for every configuration of the kernel
    key = (code, parallel)
    if key not in _GENERIC:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
        node = tree.body[0]
        assert isinstance(node, ast.FunctionDef), "a kernel is a plain def"
        node.decorator_list = []
        node.name = f"{fn.__name__}_generic"
        node.args.args += [ast.arg(arg=n) for n in code.co_freevars]
        ast.fix_missing_locations(tree)
        ast.increment_lineno(tree, code.co_firstlineno - 1)  # tracebacks point at the source
        scope: dict = {}
        exec(compile(tree, code.co_filename, "exec"), fn.__globals__, scope)
        _GENERIC[key] = njit(scope[node.name], parallel=parallel)
    return _GENERIC[key]


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
