"""Slow, obviously correct outputs of the seed kernels, one element at a time, from the C++ text.

Each output follows the C++ expression: sum the products exactly, convert to acc_t, multiply
by the factor exactly, convert to qd_t, add the bias exactly, convert to sum_t, relu, convert
to out_t. Conversions use tests/oracle.py (exact rationals); the C++ types of intermediate
expressions come from hls_sim.types.result_type (tested on its own against the headers).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from hls_sim.kernels import KernelConfig
from hls_sim.types import Format, result_type
from tests import oracle


def _frac(t: Format) -> int:
    return t.frac_bits if t.kind == "fixed" else 0


def _add_raw(a: int, ta: Format, b: int, tb: Format) -> tuple[int, Format]:
    t = result_type("+", ta, tb)
    f = _frac(t)
    return (a << (f - _frac(ta))) + (b << (f - _frac(tb))), t


def output(kernel: str, c: KernelConfig, inputs: dict, co: int, h: int, w: int) -> int:
    """The raw out_t value the C++ kernel writes at top[co][h][w]."""
    b, wt = inputs["bottom"], inputs["weight"]
    prod_t = result_type("*", c.weight_t, c.in_t)
    if kernel == "conv1x1":
        terms = [int(wt[co, k]) * int(b[k, h, w]) for k in range(16)]
        if c.product_t is not None:  # the engine's products converted (hls_layer.h)
            terms, prod_t = [oracle.cast(t, prod_t, c.product_t) for t in terms], c.product_t
        # compute_engine_16: a balanced tree of additions (each sum to tree_t when set)
        level, types = terms, [prod_t] * 16
        while len(level) > 1:
            pairs = [_add_raw(level[i], types[i], level[i + 1], types[i + 1]) for i in range(0, len(level), 2)]
            if c.tree_t is not None:
                pairs = [(oracle.cast(v, t, c.tree_t), c.tree_t) for v, t in pairs]
            level, types = [p[0] for p in pairs], [p[1] for p in pairs]
        total, total_t = level[0], types[0]
    else:
        total, total_t = None, None
        for dh in range(3):
            for dw in range(3):
                p = int(wt[co, dh, dw]) * int(b[co, h - 1 + dh, w - 1 + dw])
                if total is None:
                    total, total_t = p, prod_t
                else:
                    total, total_t = _add_raw(total, total_t, p, prod_t)
    mid = oracle.cast(total, total_t, c.acc_t)                         # mid_result = ...
    f = int(inputs["factor"].reshape(-1)[co if c.per_channel_factor else 0])
    qd = oracle.cast(mid * f, result_type("*", c.acc_t, c.factor_t), c.qd_t)
    s_raw, s_t = _add_raw(int(inputs["bias"][co]), c.bias_t, qd, c.qd_t)
    x = oracle.cast(s_raw, s_t, c.sum_t)                              # relu(sum_t x)
    xv = oracle.value(x, c.sum_t)
    if xv < 0:
        return 0
    top = c.out_t.max_raw
    if c.relu_clip and xv > oracle.value(top, c.out_t):
        return top
    return oracle.cast(x, c.sum_t, c.out_t)


def sample_positions(kernel: str, n: int, seed: int) -> list[tuple[int, int, int]]:
    """Random written positions plus the corners of the written region."""
    rng = np.random.default_rng(seed)
    h0, w0 = (0, 0) if kernel == "conv1x1" else (1, 1)
    pos = [(int(c), int(h0 + rng.integers(32)), int(w0 + rng.integers(64))) for c in rng.integers(16, size=n)]
    pos += [(c, h0 + dh, w0 + dw) for c in (0, 15) for dh in (0, 31) for dw in (0, 63)]
    return pos


__all__ = ["output", "sample_positions", "Fraction"]
