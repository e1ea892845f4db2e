"""Twins of ``kernels/pool.h``: ``max_pool`` and ``avg_pool`` (docs/kinds.md, "max_pool",
"avg_pool"), PyTorch MaxPool2d / AvgPool2d with ceil_mode off.

Input ``[C][H][W]``, output ``[C][H_OUT][W_OUT]``, ``H_OUT = (H + 2P - K) // S + 1`` (the same
for W). A tap outside the input is skipped: it never wins a max (PyTorch pads with -inf) and
adds nothing to a sum (the zero padding of an average).

- max_pool: ``m = max over the taps inside`` in in_t (with the fused relu ``before`` each tap
  or ``after`` the max; both are ``max(0, max(x))``, exactly), then the only conversion
  ``out_t(m)`` (counted in ``out_overflow``).
- avg_pool: ``acc_t sum = 0; sum += in`` for each tap inside (``acc_overflow``), then
  ``qd_t mean = sum * factor_t(1.0 / n)`` (the natural product, one conversion:
  ``qd_overflow``, ``qd_rounded``), then ``out_t(mean)`` (``out_overflow``); ``n = K*K``
  (count_include_pad) or the taps inside. The reciprocals are computed here, once per ``n``,
  by the headers' double-to-ap_* rule, and reach the compiled loop as constants.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from hls_sim.jit import njit, prange
from hls_sim.kernels.hls_config import Plan
from hls_sim.kernels.hls_kernels import (ACC_OVERFLOW, OUT_OVERFLOW, QD_OVERFLOW, QD_ROUNDED,
                                        inside_span)
from hls_sim.kernels.kind import Geometry, Param
from hls_sim.types import Format, result_type
from hls_sim.types.rules import (INEXACT, OVERFLOW, conversion_params, convert, double_to_fixed,
                                 double_to_int)

RELU = ("none", "before", "after")  # max_pool's fused relu; HLS_SIM_POOL_RELU_NONE, ...
MAX_K = 4


@dataclass(frozen=True)
class Flag(Param):
    """A true/false parameter (a layer file's YAML boolean)."""

    def check(self, v: Any) -> Any:
        if not isinstance(v, (bool, np.bool_)):
            raise ValueError(f"expected true or false, got {v!r}")
        return bool(v)


def out_size(n: int, k: int, s: int, p: int) -> int:
    """PyTorch's MaxPool2d / AvgPool2d output size along one axis (ceil_mode off)."""
    return (n + 2 * p - k) // s + 1


def resolve_window(v: dict) -> tuple[int, int, int]:
    """Fill in the stride (default: the kernel size, as PyTorch) and check the padding;
    ``(K, S, P)``. ValueError ``"FIELD: reason"``."""
    k = v["kernel_size"]
    if v["stride"] is None:
        v["stride"] = k
    s, p = v["stride"], v["padding"]
    if p > k // 2:
        raise ValueError(f"padding: {p} is more than half the kernel size ({k}//2 = {k // 2}); "
                         "PyTorch requires padding <= kernel_size / 2")
    return k, s, p


def _frac(f: Format) -> int:
    return f.frac_bits if f.kind == "fixed" else 0


def _taps(geom: Geometry, x: np.ndarray):  # noqa: ANN202 - iterator of (values, inside)
    """For each tap (kh, kw): the input value under it for every output, and whether it is
    inside the input, both ``[C][H_OUT][W_OUT]`` (outside: a clamped index, masked)."""
    _, h, w = geom.shape("input")
    _, ho, wo = geom.shape("top")
    k, s, p = geom["kernel_size"], geom["stride"], geom["padding"]
    for kh in range(k):
        ih = np.arange(ho) * s - p + kh
        for kw in range(k):
            iw = np.arange(wo) * s - p + kw
            inside = ((ih >= 0) & (ih < h))[:, None] & ((iw >= 0) & (iw < w))[None, :]
            vals = x[:, np.clip(ih, 0, h - 1)][:, :, np.clip(iw, 0, w - 1)]
            yield vals, np.broadcast_to(inside, vals.shape)


def tap_counts(geom: Geometry) -> np.ndarray:
    """The taps inside the input of every output position, ``[H_OUT][W_OUT]``."""
    _, h, w = geom.shape("input")
    _, ho, wo = geom.shape("top")
    k, s, p = geom["kernel_size"], geom["stride"], geom["padding"]

    def along(n: int, no: int) -> np.ndarray:
        start = np.arange(no) * s - p
        return np.minimum(start + k, n) - np.maximum(start, 0)

    return along(h, ho)[:, None] * along(w, wo)[None, :]


def divisors(geom: Geometry) -> np.ndarray:
    """avg_pool's n of every output position, ``[H_OUT][W_OUT]``: K*K (count_include_pad) or
    the taps inside the input."""
    n = tap_counts(geom)
    return np.full_like(n, geom["kernel_size"] ** 2) if geom["count_include_pad"] else n


# ---- max_pool -------------------------------------------------------------------------------
def max_sums(geom: Geometry, x: np.ndarray, w: None = None) -> np.ndarray:
    """The value max_pool converts to out_t, ``[C][H_OUT][W_OUT]``: the largest input under
    the window (taps outside never win), with the fused relu; in_t raws (exact, any width)
    or floats for a float model."""
    x = np.asarray(x)
    m = None
    for vals, inside in _taps(geom, x):
        if m is None:  # the window's first tap (kh = kw = 0) may be outside: seed with any tap
            m, have = vals.copy(), inside.copy()
            continue
        take = inside & (~have | (vals > m))
        m = np.where(take, vals, m)
        have = have | inside
    assert have.all()  # padding <= K/2: every window holds a tap inside the input
    if geom["relu"] != "none":
        m = np.where(m < 0, m * 0, m)  # m * 0: a zero of m's own dtype (objects stay ints)
    return m.astype(x.dtype) if x.dtype != object else m


def build_max(plan: Plan, geom: Geometry, jit: Callable = njit) -> Callable:
    """Compile max_pool for one configuration and geometry (constants in capitals)."""
    c = plan.config
    C, H, W = geom.shape("input")
    _, HO, WO = geom.shape("top")
    K, S, P = geom["kernel_size"], geom["stride"], geom["padding"]
    BEFORE, AFTER = geom["relu"] == "before", geom["relu"] == "after"
    TO_OUT = conversion_params(c.in_t, c.out_t)

    @jit(parallel=True)
    def max_pool(x, out, counters):
        for ch in prange(C):
            m = np.empty(WO, dtype=out.dtype)  # object arrays on the exact path
            have = np.empty(WO, dtype=np.uint8)
            n_over = 0
            for oh in range(HO):
                for ow in range(WO):
                    m[ow] = 0
                    have[ow] = 0
                for kh in range(K):
                    ih = oh * S - P + kh
                    if ih < 0 or ih >= H:
                        continue  # outside: never wins
                    for kw in range(K):
                        off = kw - P
                        lo, hi = inside_span(off, S, W, WO)
                        for ow in range(lo, hi):
                            v = x[ch, ih, ow * S + off]
                            if BEFORE and v < 0:
                                v = v * 0
                            if have[ow] == 0 or v > m[ow]:
                                m[ow] = v
                            have[ow] = 1
                for ow in range(WO):
                    v = m[ow]
                    if AFTER and v < 0:
                        v = v * 0
                    r, st = convert(v, TO_OUT)
                    out[ch, oh, ow] = r
                    n_over += (st & OVERFLOW) != 0
            counters[ch, OUT_OVERFLOW] += n_over

    return max_pool


# ---- avg_pool -------------------------------------------------------------------------------
def exact_means(geom: Geometry, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(sums, n)``: the exact sum of the inputs under each window (in_t raws, exact: int64
    or Python ints) and its divisor n, both ``[C][H_OUT][W_OUT]``."""
    x = np.asarray(x)
    total = None
    for vals, inside in _taps(geom, x):
        term = np.where(inside, vals, vals * 0)
        total = term if total is None else total + term
    return total, np.broadcast_to(divisors(geom), total.shape)


def avg_sums(geom: Geometry, x: np.ndarray, w: None = None) -> np.ndarray:
    """The exact mean of every window, ``[C][H_OUT][W_OUT]`` float64, in in_t raw units
    (``sum / n`` correctly rounded to a float64; the sum itself is exact at any width)."""
    x = np.asarray(x)
    if x.dtype.kind == "f":  # a float model: plain float arithmetic
        total, n = exact_means(geom, x)
        return total / n
    if x.dtype != object and x.size and int(np.abs(x).max()) * MAX_K ** 2 < 1 << 53:
        total, n = exact_means(geom, x.astype(np.int64))
        return total.astype(np.float64) / n  # both exact in float64: one correct rounding
    total, n = exact_means(geom, x.astype(object))
    out = np.empty(total.shape, dtype=np.float64)
    out.flat[:] = [int(t) / int(d) for t, d in zip(total.flat, n.flat)]  # Python: correctly rounded
    return out


def reciprocal(factor_t: Format, n: int) -> tuple[int, int]:
    """``factor_t(1.0 / n)`` as the headers compute it: ``(raw, status)``."""
    bits = int(np.array([1.0 / n], dtype=np.float64).view(np.int64)[0])
    if factor_t.kind == "int":
        return double_to_int(bits, factor_t.width, factor_t.signed)
    return double_to_fixed(bits, factor_t.width, factor_t.frac_bits, factor_t.signed,
                           int(factor_t.q_mode), int(factor_t.o_mode), factor_t.n_sat)


def reciprocals(factor_t: Format, k: int) -> tuple[int, ...]:
    """``recip[n] = factor_t(1.0 / n)`` raws for n = 0..K*K (n = 0 unused: 0)."""
    return (0,) + tuple(int(reciprocal(factor_t, n)[0]) for n in range(1, k * k + 1))


def step_type(in_t: Format, acc_t: Format) -> Format | None:
    """What ``acc_t += in_t`` adds: for an ap_int acc_t and an ap_fixed in_t the headers
    first convert the value to ``ap_int_base<max(I, 1)>`` (to_ap_int_base: toward zero), so
    this is that integer type; None when the value is added as it is."""
    if acc_t.kind == "int" and in_t.kind == "fixed":
        w = max(in_t.int_bits, 1)
        return Format("int", w, w, in_t.signed)
    return None


def avg_types(plan: Plan) -> tuple[Format, Format, Format]:
    """``(added, sum, product)``: the type added into acc_t, the natural ``acc_t + added``
    and the natural ``acc_t * factor_t``."""
    c = plan.config
    added = step_type(c.in_t, c.acc_t) or c.in_t
    return added, result_type("+", c.acc_t, added), result_type("*", c.acc_t, c.factor_t)


def avg_intermediates(plan: Plan, geom: Geometry) -> tuple[Format, ...]:
    return avg_types(plan)


def build_avg(plan: Plan, geom: Geometry, jit: Callable = njit) -> Callable:
    """Compile avg_pool for one configuration and geometry (constants in capitals)."""
    c = plan.config
    C, H, W = geom.shape("input")
    _, HO, WO = geom.shape("top")
    K, S, P = geom["kernel_size"], geom["stride"], geom["padding"]
    INCLUDE, KK = bool(geom["count_include_pad"]), K * K
    step = step_type(c.in_t, c.acc_t)
    TO_INT = step is not None
    IN_TO_INT = conversion_params(c.in_t, step if TO_INT else c.in_t)
    added, sum_t, prod_t = avg_types(plan)
    SA, SI = _frac(sum_t) - _frac(c.acc_t), _frac(sum_t) - _frac(added)
    TO_ACC = conversion_params(sum_t, c.acc_t)
    RECIP = reciprocals(c.factor_t, K)
    TO_QD = conversion_params(prod_t, c.qd_t)
    TO_OUT = conversion_params(c.qd_t, c.out_t)

    @jit(parallel=True)
    def avg_pool(x, out, counters):
        for ch in prange(C):
            acc = np.empty(WO, dtype=out.dtype)  # object arrays on the exact path
            n = np.empty(WO, dtype=np.int64)
            flags = np.empty(WO, dtype=np.uint8)
            n_acc = n_qd = n_rnd = n_out = 0
            for oh in range(HO):
                for ow in range(WO):
                    acc[ow] = 0
                    n[ow] = 0
                    flags[ow] = 0
                for kh in range(K):
                    ih = oh * S - P + kh
                    if ih < 0 or ih >= H:
                        continue  # outside: adds nothing
                    for kw in range(K):
                        off = kw - P
                        lo, hi = inside_span(off, S, W, WO)
                        for ow in range(lo, hi):
                            v = x[ch, ih, ow * S + off]
                            if TO_INT:  # ap_int acc_t += ap_fixed: to_ap_int_base() first
                                v, s0 = convert(v, IN_TO_INT)
                            a, st = convert((acc[ow] << SA) + (v << SI), TO_ACC)
                            acc[ow] = a
                            flags[ow] |= st
                            n[ow] += 1
                for ow in range(WO):
                    r = RECIP[KK] if INCLUDE else RECIP[n[ow]]
                    q, st = convert(acc[ow] * r, TO_QD)  # qd_t mean = sum * recip
                    n_qd += (st & OVERFLOW) != 0
                    n_rnd += (st & INEXACT) != 0
                    o, st = convert(q, TO_OUT)
                    out[ch, oh, ow] = o
                    n_out += (st & OVERFLOW) != 0
                    n_acc += (flags[ow] & OVERFLOW) != 0
            counters[ch, ACC_OVERFLOW] += n_acc
            counters[ch, QD_OVERFLOW] += n_qd
            counters[ch, QD_ROUNDED] += n_rnd
            counters[ch, OUT_OVERFLOW] += n_out

    return avg_pool


def avg_note(layer) -> str | None:  # noqa: ANN001 - hls_sim.layer.Layer
    """A remark when a reciprocal the layer uses does not survive factor_t: it overflows
    (e.g. 1.0 in ap_fixed<32,1>) or becomes 0."""
    geom, ft = layer.geometry, layer.config.factor_t
    bad = []
    for n in sorted({int(v) for v in np.unique(divisors(geom))}):
        raw, st = reciprocal(ft, n)
        if st & OVERFLOW or raw == 0:
            got = ft.value_of(raw)
            bad.append(f"1/{n} becomes {got!r}" + (" (overflow)" if st & OVERFLOW else ""))
    if not bad:
        return None
    return (f"factor_t {ft} cannot hold the reciprocal of every window's tap count: "
            f"{', '.join(bad)}; the C++ computes with these values too (choose a factor_t "
            "that holds 1/n, e.g. more integer bits for n = 1)")


# ---- the traits struct -------------------------------------------------------------------------
def _window_traits(geom: Geometry) -> list[tuple[str, int, str]]:
    from hls_sim.kernels.kinds import map_traits

    return map_traits(geom) + [("K", geom["kernel_size"], ""), ("S", geom["stride"], ""),
                               ("P", geom["padding"], "")]


def max_traits(geom: Geometry, config: Any) -> list[tuple[str, int, str]]:
    r = geom["relu"]
    return _window_traits(geom) + [("RELU", RELU.index(r), f"HLS_SIM_POOL_RELU_{r.upper()}")]


def avg_traits(geom: Geometry, config: Any) -> list[tuple[str, int, str]]:
    return _window_traits(geom) + [("COUNT_INCLUDE_PAD", int(geom["count_include_pad"]), "")]
