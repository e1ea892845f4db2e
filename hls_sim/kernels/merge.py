"""Twins of ``kernels/merge.h``: ``add`` and ``concat``, the merge layers of skip connections
(docs/kinds.md, "add", "concat").

- add: ``out = out_t(a + b)``, ``a`` of in_t, ``b`` of in2_t, both ``[C][H][W]``. The sum is
  the headers' natural ``in_t + in2_t`` (:func:`sum_type`: both aligned to the finer LSB, one
  integer bit more than the wider, signed if either is), exact; the fused relu (``relu: true``)
  takes ``max(0, sum)``; then the only conversion, to out_t (``out_overflow``).
- concat: ``out[0:C] = out_t(a)``, ``out[C:C+C2] = out_t(b)`` along channels, each its own
  conversion (``out_overflow``, counted per output channel).

:func:`add_sums` / :func:`concat_sums` give the values before the conversion as raw integers
of :func:`sum_type` (concat's two inputs aligned to one LSB), the report's exact reference.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from hls_sim.jit import njit, prange
from hls_sim.kernels.hls_config import KernelConfig, Plan
from hls_sim.kernels.hls_kernels import OUT_OVERFLOW
from hls_sim.kernels.kind import Geometry
from hls_sim.types import Format, result_type
from hls_sim.types.rules import OVERFLOW, conversion_params, convert


def _frac(f: Format) -> int:
    return f.frac_bits if f.kind == "fixed" else 0


def sum_type(config: KernelConfig) -> Format:
    """The headers' type of ``in_t + in2_t``: add's sum, and the common holder of concat's
    values (any value of either input is exact in it)."""
    return result_type("+", config.in_t, config.in2_t)


def _aligned(config: KernelConfig, x: np.ndarray, x2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both inputs' raws in units of sum_type's LSB (exact: object arrays stay Python ints)."""
    f = _frac(sum_type(config))
    a = np.asarray(x) * (1 << (f - _frac(config.in_t)))
    b = np.asarray(x2) * (1 << (f - _frac(config.in2_t)))
    return a, b


def add_sums(geom: Geometry, x: np.ndarray, x2: np.ndarray | None = None,
             config: KernelConfig | None = None) -> np.ndarray:
    """add's exact values before out_t: ``a + b`` (then ``max(0, .)`` with relu), raws of
    :func:`sum_type` (``config`` None: the default types)."""
    a, b = _aligned(config or KernelConfig(), x, x2)
    s = a + b
    return np.where(s < 0, 0, s) if geom["relu"] else s


def concat_sums(geom: Geometry, x: np.ndarray, x2: np.ndarray | None = None,
                config: KernelConfig | None = None) -> np.ndarray:
    """concat's values before out_t, ``[C+C2][H][W]`` raws of :func:`sum_type`."""
    a, b = _aligned(config or KernelConfig(), x, x2)
    return np.concatenate([a, b], axis=0)


def build_add(plan: Plan, geom: Geometry, jit: Callable = njit) -> Callable:
    """Compile add for one configuration and geometry (constants in capitals)."""
    c = plan.config
    C, H, W = geom.shape("input")
    st = sum_type(c)
    MA, MB = 1 << (_frac(st) - _frac(c.in_t)), 1 << (_frac(st) - _frac(c.in2_t))
    RELU = bool(geom["relu"])
    TO_OUT = conversion_params(st, c.out_t)

    @jit(parallel=True)
    def add(x, x2, out, counters):
        for ch in prange(C):
            n_over = 0
            for i in range(H):
                for j in range(W):
                    s = x[ch, i, j] * MA + x2[ch, i, j] * MB
                    if RELU and s < 0:
                        s = 0
                    v, status = convert(s, TO_OUT)
                    out[ch, i, j] = v
                    n_over += (status & OVERFLOW) != 0
            counters[ch, OUT_OVERFLOW] += n_over

    return add


def build_concat(plan: Plan, geom: Geometry, jit: Callable = njit) -> Callable:
    """Compile concat for one configuration and geometry (constants in capitals)."""
    c = plan.config
    C1, H, W = geom.shape("input")
    C2 = geom.shape("input2")[0]
    TO_OUT1, TO_OUT2 = conversion_params(c.in_t, c.out_t), conversion_params(c.in2_t, c.out_t)

    @jit(parallel=True)
    def concat(x, x2, out, counters):
        for ch in prange(C1 + C2):
            n_over = 0
            for i in range(H):
                for j in range(W):
                    if ch < C1:
                        v, status = convert(x[ch, i, j], TO_OUT1)
                    else:
                        v, status = convert(x2[ch - C1, i, j], TO_OUT2)
                    out[ch, i, j] = v
                    n_over += (status & OVERFLOW) != 0
            counters[ch, OUT_OVERFLOW] += n_over

    return concat
