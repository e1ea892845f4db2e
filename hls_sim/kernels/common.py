"""What the kernel twins share: input validation, the compiled-kernel cache, results.

A kind's ``build(plan, geometry, jit)`` returns a compiled function with the C++ signature on
raw arrays (plus a counters array); :func:`run` validates the inputs, picks the int64 path or
the exact path, and wraps the output.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

import hls_sim.jit as jit
from hls_sim.jit import njit, prange, python
from hls_sim.kernels.hls_config import KernelConfig, Plan
from hls_sim.kernels.hls_kernels import COUNTER_NAMES, N_COUNTERS
from hls_sim.kernels.kind import Geometry, Kind
from hls_sim.types import APArray, Format
from hls_sim.types.array import _as_storage


@dataclass
class Counters:
    """Datapath events per output channel: overflows at each stage, relu clipping."""

    per_channel: np.ndarray  # [16, len(COUNTER_NAMES)] int64
    outputs: int  # outputs written per channel

    def total(self) -> dict[str, int]:
        return {n: int(self.per_channel[:, i].sum()) for i, n in enumerate(COUNTER_NAMES)}

    def __getitem__(self, name: str) -> int:
        return self.total()[name]


@dataclass
class KernelResult:
    top: APArray
    counters: Counters
    seconds: float = 0.0
    path: str = "int64"
    kernel: str = "specialised"  # the int64 path's machine code (hls_sim.jit): or "generic"; "python" on the exact path


_COMPILED: dict[tuple, Callable] = {}


def compiled(kind: Kind, geom: Geometry, config: KernelConfig, fast: bool) -> Callable:
    """The twin of ``kind`` for ``config`` and ``geom``: numba on the int64 path (specialised
    or generic machine code, :func:`hls_sim.jit.kernel`), plain Python on the exact path.
    Built once per process; numba also caches the machine code on disk."""
    key = (kind.name, geom, config, fast)
    if key not in _COMPILED:
        _COMPILED[key] = kind.build(config.plan(), geom, jit.kernel if fast else python)
    return _COMPILED[key]


def is_fast(kind: Kind, geom: Geometry, plan: Plan) -> bool:
    """Whether every raw value of the datapath fits the int64 path."""
    return plan.fast and all(t.fits_int64 for t in kind.intermediates(plan, geom))


def _raws(x: Any, fmt: Format, name: str, shape: tuple[int, ...], checked: bool = False) -> np.ndarray:
    """Raw integers of an input, checked against its type (unless ``checked``: raws of the
    type already) and its expected shape."""
    if checked and isinstance(x, np.ndarray) and x.dtype.kind in "iuO":
        if x.shape != shape:
            raise ValueError(f"{name}: expected shape {list(shape)}, got {list(x.shape)}")
        return _as_storage(fmt, x)
    if isinstance(x, APArray):
        if x.type != fmt:
            raise ValueError(f"{name}: has type {x.type}, the configuration says {fmt}")
        arr = x
    else:
        a = np.asarray(x)
        if a.dtype.kind == "f":
            raise ValueError(f"{name}: expected raw integers of {fmt}, got floats "
                             f"(quantize them first, e.g. {fmt}.quantize(values))")
        try:
            arr = APArray.from_raw(fmt, a)
        except ValueError as e:
            raise ValueError(f"{name}: {e}") from None
    if arr.shape != shape:
        raise ValueError(f"{name}: expected shape {list(shape)}, got {list(arr.shape)}")
    return arr.raw


def run(kind: Kind, geom: Geometry, config: KernelConfig | None, input: Any, top: Any = None,
        weight: Any = None, bias: Any = None, factor: Any = None,
        input2: Any = None, checked: bool = False) -> KernelResult:
    """Validate, run the twin of ``kind`` on copies of the buffers, return the new ``top``.

    ``top`` None: a zero output buffer (the kinds on whole maps write all of it). The
    compiled twin takes its arrays in the order of the kind's tensors (the C++ signature),
    then the counters. ``checked``: the integer arrays are known raws of their types (a
    network's tensors, validated when it loaded and produced by its kernels), so only their
    shapes are checked."""
    c = config or KernelConfig()
    problem = kind.engine_types_problem(geom, c)
    if problem:
        raise ValueError(f"{problem[0]}: {problem[1]}")
    plan = c.plan()
    t_shape = geom.shape("top")
    writes_all = all(b - a == n for (a, b), n in zip(geom.written, t_shape))
    given_top = None if top is None else _raws(top, c.out_t, "top", t_shape, checked)
    if writes_all:
        top = None  # the kernel writes all of it: its initial values do not matter
    if top is not None:
        t = given_top
    elif c.out_t.fits_int64:  # every element written by the kernel: no need to clear it
        t = _uncleared(t_shape) if writes_all else np.zeros(t_shape, dtype=np.int64)
    else:
        t = _objects(np.zeros(t_shape, dtype=np.int64))
    n_ch = geom.out_channels
    if "activation" in geom.params:
        from hls_sim.kernels.conv2d import clip_raw

        clip_raw(c.out_t, geom)  # a clip value that out_t cannot hold: ValueError naming clip_at
    given = {"input": input, "input2": input2, "weight": weight, "bias": bias}
    data: dict[str, np.ndarray] = {}
    for ts in kind.tensors:
        fmt = getattr(c, ts.type_name)
        if ts.role == "factor":
            fshape = (n_ch,) if c.per_channel_factor else ()
            data["factor"] = _raws(factor, fmt, "factor", fshape, checked).reshape(-1)
        elif ts.role != "top":
            name = "bottom" if kind.seed and ts.role == "input" else ts.role
            if given[ts.role] is None:
                raise ValueError(f"{name}: missing (kind {kind.name} reads {ts.doc})")
            data[ts.role] = _raws(given[ts.role], fmt, name, geom.shape(ts.role), checked)
    fast = is_fast(kind, geom, plan)
    kernel = compiled(kind, geom, c, fast)
    counters = np.zeros((n_ch, N_COUNTERS), dtype=np.int64)
    if fast:
        out = t if top is None else np.array(t, dtype=np.int64, copy=True)  # fresh zeros: no copy
        # the products and their sums are exact; int32 lanes when every partial sum fits
        mac = np.int32 if kind.epilogue and plan.mac_width <= 32 else np.int64
        args = {r: _lanes(a, mac if r in ("input", "weight") else np.int64)
                for r, a in data.items()}
        path = "int64"
    else:
        out = _objects(t)
        args = {r: _objects(a) for r, a in data.items()}
        path = "exact"
    ordered = [out if ts.role == "top" else args[ts.role] for ts in kind.tensors]
    jit.forget_variant()
    start = time.perf_counter()
    kernel(*ordered, counters)
    seconds = time.perf_counter() - start
    variant = jit.last_variant() or "python"
    # the twin writes raws of out_t only (its conversions): no range check needed
    result = APArray(c.out_t, _as_storage(c.out_t, out))
    per_channel = int(np.prod(geom.written_shape[1:]))
    return KernelResult(result, Counters(counters, per_channel), seconds, path, variant)


NARROW_PARALLEL = 1 << 16  # elements; below this numpy's copy is as fast


def _lanes(a: np.ndarray, dtype: type) -> np.ndarray:
    """``a`` as a contiguous array of the kernel's lane type: int32 lanes for a feature map
    of int64 raws is a copy, done on every core for big maps (in a network it is most of what
    a layer spends outside its kernel)."""
    if dtype is np.int32 and a.dtype == np.int64 and a.size >= NARROW_PARALLEL:
        out = np.empty(a.shape, dtype=np.int32)
        _narrow(np.ascontiguousarray(a).reshape(-1), out.reshape(-1))
        return out
    return np.ascontiguousarray(a, dtype=dtype)


@njit(parallel=True)
def _narrow(src, dst):  # noqa: ANN001, ANN202 - int64 raws that fit int32 (their type says so)
    for i in prange(src.size):
        dst[i] = src[i]


def _uncleared(shape: tuple[int, ...]) -> np.ndarray:
    """An int64 output buffer the kernel overwrites whole (tests fill it with a sentinel)."""
    return np.empty(shape, dtype=np.int64)


def _objects(a: np.ndarray) -> np.ndarray:
    out = np.empty(a.shape, dtype=object)
    out.flat[:] = [int(v) for v in a.flat]
    return out
