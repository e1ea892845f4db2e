"""Twin of ``kernels/conv2d.h``: PyTorch Conv2d on a whole feature map (docs/kinds.md).

Input ``[C_IN][H][W]``, weight ``[C_OUT][C_IN/G][K][K]``, output ``[C_OUT][H_OUT][W_OUT]``;
zero padding, stride, dilation, groups. The products of one output are taken in the C++
order: input-channel blocks of 16 (one compute_engine_16 per tap), then kh, then kw, and
accumulated into acc_t by the layer's ``accumulate`` choice (group, exact or tap). Then the
common epilogue. Output channels run in parallel; rows of W_OUT vectorize.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from hls_sim.jit import njit, prange
from hls_sim.kernels.hls_config import Plan
from hls_sim.kernels.hls_kernels import (ACC_OVERFLOW, ENGINE_OVERFLOW, N_COUNTERS,
                                        count_overflowed, finish_row, inside_span, typed_tree)
from hls_sim.kernels.kind import Geometry
from hls_sim.types import Format, result_type
from hls_sim.types.rules import OVERFLOW, conversion_params, convert

ACCUMULATE = ("group", "exact", "tap")
ACTIVATIONS = ("relu", "none", "clip")
MAX_CLIP_RAW = (1 << 31) - 1  # the traits struct carries it as an int


def clip_raw(out_t: Format, geom: Geometry) -> int | None:
    """The raw out_t of ``clip_at`` for ``activation: clip`` (None for the other activations);
    ValueError when the value is not an out_t value above 0."""
    if geom.get("activation") != "clip":
        return None
    v = geom.get("clip_at")
    if v is None:
        raise ValueError("clip_at: missing (activation: clip needs the value to clip at, in "
                         "out_t's units, e.g. 6 for relu6)")
    raw = v * 2.0 ** _frac(out_t)
    if raw != int(raw) or not 0 < raw <= min(out_t.max_raw, MAX_CLIP_RAW):
        raise ValueError(f"clip_at: {v!r} is not a value of {out_t} above 0 (its values are "
                         f"multiples of {out_t.lsb!r} up to {out_t.max_value!r})")
    return int(raw)
GROUP, EXACT, TAP = range(3)


def out_size(n: int, k: int, s: int, p: int, d: int) -> int:
    """PyTorch's Conv2d output size along one axis."""
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


def blocks(geom: Geometry) -> int:
    """Input-channel blocks of 16 per group (one compute_engine_16 call per block and tap)."""
    return -(-(geom["in_channels"] // geom["groups"]) // 16)


def wide_type(plan: Plan, geom: Geometry) -> Format:
    """``wide_t``: the exact accumulator of ``accumulate: exact``, the product type widened
    by enough integer bits for every product of one output."""
    p = plan.product_t
    n = blocks(geom) * 16 * geom["kernel_size"] ** 2
    extra = max(1, math.ceil(math.log2(n)))
    if p.kind == "int":
        return Format("int", p.width + extra, p.width + extra, p.signed)
    return Format("fixed", p.width + extra, p.int_bits + extra, p.signed)


def group_is_exact(plan: Plan, geom: Geometry) -> bool:
    """Whether ``accumulate: group`` equals the exact sum for every input of these types:
    each engine total converts to acc_t exactly (acc_t has its fraction bits) and no running
    sum of the steps can leave acc_t's range. Then its per-step conversions change nothing
    and the twin may skip them (bit for bit the same outputs and counters)."""
    c, e = plan.config, plan.engine_t
    acc = c.acc_t
    shift = _frac(acc) - _frac(e)
    if shift < 0 or (not acc.signed and (c.in_t.signed or c.weight_t.signed)):
        return False
    def most(f: Format) -> int:  # noqa: E306
        return max(abs(f.min_raw), abs(f.max_raw))
    steps = blocks(geom) * geom["kernel_size"] ** 2
    bound = steps * 16 * most(c.in_t) * most(c.weight_t) << shift
    return bound <= acc.max_raw


def tap_sum_type(plan: Plan) -> Format:
    """The type of ``acc + product`` (``accumulate: tap``)."""
    return result_type("+", plan.config.acc_t, plan.product_t)


def intermediates(plan: Plan, geom: Geometry) -> tuple[Format, ...]:
    c = plan.config
    return (wide_type(plan, geom), tap_sum_type(plan), result_type("+", c.acc_t, c.acc_t))


def total_type(plan: Plan, geom: Geometry) -> Format:
    """The type the accumulator converts from in ``accumulate: exact`` (and, per call, the
    engine's in ``group``)."""
    return wide_type(plan, geom) if geom["accumulate"] == "exact" else plan.engine_t


def _frac(f: Format) -> int:
    return f.frac_bits if f.kind == "fixed" else 0


def sums(geom: Geometry, x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The exact sum of products of every output, ``[C_OUT][H_OUT][W_OUT]`` (numpy; Python
    ints when int64 could overflow; floats for the float model)."""
    ci, h, wd = geom.shape("input")
    co, ho, wo = geom.shape("top")
    k, s, p, d, g = (geom[n] for n in ("kernel_size", "stride", "padding", "dilation", "groups"))
    return conv_sums(np.asarray(x), np.asarray(w), co, ho, wo, k, s, p, d, g)


def conv_sums(x: np.ndarray, w: np.ndarray, co: int, ho: int, wo: int, k: int, s: int, p: int,
              d: int, g: int) -> np.ndarray:
    """Conv2d's sums of products (zero padding p, stride s, dilation d, groups g)."""
    ci = x.shape[0]
    exact = x.dtype == object or w.dtype == object
    blas = False  # integers whose every partial sum is below 2**53: float64 BLAS, exactly
    if x.dtype.kind in "iu" and w.dtype.kind in "iu" and x.size and w.size:
        bound = int(np.abs(x).max()) * int(np.abs(w).max()) * w[0].size
        exact = exact or bound >= 1 << 62
        blas = bound < 1 << 53
    dt = object if exact else (np.float64 if blas or "f" in (x.dtype.kind, w.dtype.kind) else np.int64)
    xp = np.zeros((ci, x.shape[1] + 2 * p, x.shape[2] + 2 * p), dtype=dt)
    xp[:, p:p + x.shape[1], p:p + x.shape[2]] = x
    wt = w.astype(dt)
    out = np.zeros((co, ho, wo), dtype=dt)
    cg, cog = ci // g, co // g
    for kh in range(k):
        for kw in range(k):
            xs = xp[:, kh * d:kh * d + s * (ho - 1) + 1:s, kw * d:kw * d + s * (wo - 1) + 1:s]
            for grp in range(g):
                wg = wt[grp * cog:(grp + 1) * cog, :, kh, kw]  # [cog][cg]
                xg = xs[grp * cg:(grp + 1) * cg].reshape(cg, -1)
                out[grp * cog:(grp + 1) * cog] += (wg @ xg).reshape(cog, ho, wo)
    return out.astype(np.int64) if blas else out


def build(plan: Plan, geom: Geometry, jit: Callable = njit, zero_stride: int = 1,
          zero_offset: int = 0) -> Callable:
    """Compile conv2d for one configuration and geometry; every name in capitals is a
    constant to numba (the kernel captures only constants, so the disk cache can key it).

    ``zero_stride`` > 1 (a deconvolution's zero-inserted map, stride 1): the input is zero
    except at rows and columns ``zero_offset + k * zero_stride``; the engine steps that read
    only zeros are skipped (a zero product leaves acc unchanged in every mode, bit for bit)."""
    c = plan.config
    CI, H, W = geom.shape("input")
    CO, HO, WO = geom.shape("top")
    K, S, P, D, G = (geom[n] for n in ("kernel_size", "stride", "padding", "dilation", "groups"))
    CG, COG, NB = CI // G, CO // G, blocks(geom)
    ZS, ZQ = zero_stride, zero_offset
    assert ZS == 1 or S == 1
    MODE = ACCUMULATE.index(geom["accumulate"])
    RELU = geom["activation"] != "none"
    TOP = clip_raw(c.out_t, geom)
    PER_CHANNEL, NC = c.per_channel_factor, N_COUNTERS
    E_TO_ACC = conversion_params(plan.engine_t, c.acc_t)
    ADD_TO_ACC = conversion_params(result_type("+", c.acc_t, c.acc_t), c.acc_t)
    tap_t = tap_sum_type(plan)
    TAP_TO_ACC = conversion_params(tap_t, c.acc_t)
    TAP_SA, TAP_SP = _frac(tap_t) - _frac(c.acc_t), _frac(tap_t) - _frac(plan.product_t)
    TYPED = c.engine_typed  # product_t / tree_t (group mode only: Kind.engine_types_problem)
    TO_PROD, TO_L1, TO_L = plan.engine_params
    if MODE == GROUP and not TYPED and group_is_exact(plan, geom):
        MODE = EXACT  # no step can round or overflow: the same sums without the conversions
    finish_from = wide_type(plan, geom) if MODE == EXACT else c.acc_t
    (TO_ACC, TO_QD, BIAS_SHIFT, QD_SHIFT, TO_SUM, CLIP, THRESHOLD, OUT_MAX,
     TO_OUT) = plan.finish_constants(finish_from, TOP)

    @jit(parallel=True)
    def conv2d(x, out, weight, bias, factor, counters):
        for co in prange(CO):  # the only parallel loop: output channels
            grp = co // COG
            f = factor[co] if PER_CHANNEL else factor[0]
            acc = np.empty(WO, dtype=out.dtype)  # object arrays on the exact path
            e = np.empty(WO, dtype=out.dtype)
            flags = np.empty(WO, dtype=np.uint8)
            eflags = np.empty(WO, dtype=np.uint8)  # the engine's own conversions (TYPED)
            prods = np.empty((16 if TYPED else 0, WO), dtype=out.dtype)
            vals = np.empty((4, WO), dtype=out.dtype)
            sts = np.empty((4, WO), dtype=np.uint8)
            for k in range(NC):
                counters[co, k] = 0
            for oh in range(HO):
                for i in range(WO):
                    acc[i] = 0
                    flags[i] = 0
                    eflags[i] = 0
                for b in range(NB):  # input-channel block: one engine call per tap
                    for kh in range(K):
                        ih = oh * S - P + kh * D
                        if ih < 0 or ih >= H or (ih - ZQ) % ZS != 0:
                            continue  # the engine sees zeros: acc unchanged
                        for kw in range(K):
                            off = kw * D - P
                            lo, hi = inside_span(off, S, W, WO)
                            if lo >= hi:
                                continue
                            first = lo + (ZQ - off - lo) % ZS  # the first output on a nonzero column
                            if MODE == TAP:  # acc = acc_t(acc + product), channel by channel
                                for kk in range(16):
                                    cl = 16 * b + kk
                                    if cl >= CG:
                                        break
                                    wv = weight[co, cl, kh, kw]
                                    ch = grp * CG + cl
                                    for ow in range(first, hi, ZS):
                                        pv = wv * x[ch, ih, ow * S + off]
                                        a, st = convert((acc[ow] << TAP_SA) + (pv << TAP_SP), TAP_TO_ACC)
                                        acc[ow] = a
                                        flags[ow] |= st
                                continue
                            if TYPED:  # compute_engine_16 with product_t / tree_t
                                for kk in range(16):
                                    cl = 16 * b + kk
                                    for ow in range(lo, hi):
                                        prods[kk, ow] = 0
                                    if cl >= CG:
                                        continue
                                    wv = weight[co, cl, kh, kw]
                                    ch = grp * CG + cl
                                    for ow in range(lo, hi):
                                        prods[kk, ow] = wv * x[ch, ih, ow * S + off]
                                typed_tree(prods, lo, hi, eflags, TO_PROD, TO_L1, TO_L)
                                for ow in range(lo, hi):
                                    ev, s1 = convert(prods[0, ow], E_TO_ACC)
                                    a, s2 = convert(acc[ow] + ev, ADD_TO_ACC)
                                    acc[ow] = a
                                    flags[ow] |= s1 | s2
                                continue
                            for ow in range(first, hi, ZS):
                                e[ow] = 0
                            for kk in range(16):  # compute_engine_16: the exact total
                                cl = 16 * b + kk
                                if cl >= CG:
                                    break
                                wv = weight[co, cl, kh, kw]
                                ch = grp * CG + cl
                                for ow in range(first, hi, ZS):
                                    e[ow] += wv * x[ch, ih, ow * S + off]
                            if MODE == EXACT:
                                for ow in range(first, hi, ZS):
                                    acc[ow] += e[ow]
                            else:  # acc += engine(...): acc_t(acc + acc_t(E))
                                for ow in range(first, hi, ZS):
                                    ev, s1 = convert(e[ow], E_TO_ACC)
                                    a, s2 = convert(acc[ow] + ev, ADD_TO_ACC)
                                    acc[ow] = a
                                    flags[ow] |= s1 | s2
                finish_row(acc, out[co, oh, 0:WO], bias[co], f, counters[co], vals, sts,
                           TO_ACC, TO_QD, BIAS_SHIFT, QD_SHIFT, TO_SUM, CLIP, THRESHOLD,
                           OUT_MAX, TO_OUT, RELU)
                counters[co, ACC_OVERFLOW] += count_overflowed(flags, 0, WO)
                counters[co, ENGINE_OVERFLOW] += count_overflowed(eflags, 0, WO)

    return conv2d
