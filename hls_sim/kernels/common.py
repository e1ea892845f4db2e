"""What the kernel twins share: input validation, the compiled-kernel cache, results.

A kernel module provides a ``build(plan)`` factory returning a compiled function with the
C++ signature on raw arrays (plus a counters array); :func:`run` validates the inputs,
picks the int64 path or the exact path, and wraps the output.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from hls_sim.jit import njit, python
from hls_sim.kernels.hls_config import CHANNELS, HEIGHT, TILE_H, TILE_W, WIDTH, KernelConfig, Plan
from hls_sim.kernels.hls_kernels import COUNTER_NAMES, N_COUNTERS
from hls_sim.types import APArray, Format


@dataclass(frozen=True)
class KernelSpec:
    """One kernel: its C++ name, weight shape, and the factory of its compiled twin."""

    name: str
    cpp_name: str
    weight_shape: tuple[int, ...]
    build: Callable[[Plan, Callable], Callable]


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


_COMPILED: dict[tuple[str, KernelConfig, bool], Callable] = {}


def compiled(spec: KernelSpec, config: KernelConfig, plan: Plan) -> Callable:
    """The kernel specialised for ``config``: numba on the int64 path, plain Python on the
    exact path. Built once per process; numba also caches the machine code on disk."""
    key = (spec.name, config, plan.fast)
    if key not in _COMPILED:
        _COMPILED[key] = spec.build(plan, njit if plan.fast else python)
    return _COMPILED[key]


def _raws(x: Any, fmt: Format, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """Raw integers of an input, checked against its type and expected shape."""
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


def run(spec: KernelSpec, bottom: Any, top: Any, weight: Any, bias: Any, factor: Any,
        config: KernelConfig | None = None) -> KernelResult:
    """Validate, run the twin of ``spec`` on copies of the buffers, return the new ``top``."""
    c = config or KernelConfig()
    plan = c.plan()
    buf = (CHANNELS, HEIGHT, WIDTH)
    b = _raws(bottom, c.in_t, "bottom", buf)
    t = _raws(top, c.out_t, "top", buf)
    w = _raws(weight, c.weight_t, "weight", spec.weight_shape)
    bi = _raws(bias, c.bias_t, "bias", (CHANNELS,))
    fshape = (CHANNELS,) if c.per_channel_factor else ()
    f = _raws(factor, c.factor_t, "factor", fshape).reshape(-1)
    kernel = compiled(spec, c, plan)
    counters = np.zeros((CHANNELS, N_COUNTERS), dtype=np.int64)
    if plan.fast:
        out = np.array(t, dtype=np.int64, copy=True)
        # the products and their sums are exact; int32 lanes when every partial sum fits
        mac = np.int32 if max(plan.engine_t.width, plan.chain9_t.width) <= 32 else np.int64
        args = [np.ascontiguousarray(b, dtype=mac), np.ascontiguousarray(w, dtype=mac),
                np.ascontiguousarray(bi, dtype=np.int64), np.ascontiguousarray(f, dtype=np.int64)]
        start = time.perf_counter()
        kernel(args[0], out, args[1], args[2], args[3], counters)
        path = "int64"
    else:
        out = _objects(t)
        args = [_objects(a) for a in (b, w, bi, f)]
        start = time.perf_counter()
        kernel(args[0], out, args[1], args[2], args[3], counters)
        path = "exact"
    seconds = time.perf_counter() - start
    result = APArray.from_raw(c.out_t, out)
    return KernelResult(result, Counters(counters, TILE_H * TILE_W), seconds, path)


def _objects(a: np.ndarray) -> np.ndarray:
    out = np.empty(a.shape, dtype=object)
    out.flat[:] = [int(v) for v in a.flat]
    return out
