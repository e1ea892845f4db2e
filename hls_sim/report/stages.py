"""The kernels' datapath, stage by stage, on APArrays: what each conversion does to the output.

A kernel computes every output as

    acc = acc_t(total)                 # stage "acc": the exact sum of products, converted
                                       #   (accumulate: group / tap: the kernel's sequence of
                                       #   conversions, one per engine call or product)
    qd  = qd_t(acc * factor)           # stage "qd":  quant_dequant (the product is exact)
    s   = sum_t(bias + qd)             # stage "sum": relu's argument (the addition is exact)
    out = relu(s)                      # stage "out": 0 below 0, max(out_t) above it when
                                       #   relu_clip, else out_t(s)

:class:`StageModel` evaluates this chain with any stage made *exact* (its conversion left out,
the value kept in the natural, lossless C++ type) and any stage's type replaced. It is cheap
(a few milliseconds per evaluation on the int64 path), so the report tries many
"what if this intermediate were narrower" candidates without compiling a kernel for each;
its result with no stage exact is the kernel's output bit for bit (the report checks that).
"""

from __future__ import annotations

import dataclasses
from typing import Iterable

import numpy as np

from hls_sim.kernels import Geometry, KernelConfig, Kind
from hls_sim.kernels import conv2d as _conv2d
from hls_sim.reference import exact_sums
from hls_sim.types import APArray, Format, OMode, QMode

STAGES = ("acc", "qd", "sum", "out")
TYPE_OF = {"acc": "acc_t", "qd": "qd_t", "sum": "sum_t", "out": "out_t"}
WHAT = {"acc": "accumulator: the exact sum of products converted to acc_t",
        "qd": "quant_dequant: acc * factor converted to qd_t",
        "sum": "bias add: bias + qd converted to sum_t (relu's argument)",
        "out": "relu and the output: out_t(x) where relu passes x through"}
MAX_SCAN = 48  # candidate widths tried per stage when looking for the narrowest type


@dataclasses.dataclass
class Evaluation:
    """One evaluation of the chain over every written output (the written region's shape)."""

    out: np.ndarray  # the outputs in out_t LSBs (float64; integers unless "out" is exact)
    pre: dict[str, APArray]  # the value each stage converts (before its conversion)
    post: dict[str, APArray]  # after the conversion (the value itself when the stage is exact)
    low: np.ndarray  # relu set the output to 0
    high: np.ndarray  # relu clipped the output to max(out_t)
    passed: np.ndarray  # relu passed x through (out_t(x))

    def overflowed(self, stage: str) -> np.ndarray:
        m = self.post[stage].overflowed
        return m & self.passed if stage == "out" else m

    def rounded(self, stage: str) -> np.ndarray:
        m = self.post[stage].rounded
        return m & self.passed if stage == "out" else m


def wraps(fmt: Format) -> bool:
    """Whether an overflow in a conversion to ``fmt`` wraps around (else it saturates)."""
    if fmt.kind == "int":
        return True
    if fmt.o_mode == OMode.AP_WRAP:
        return True
    return fmt.o_mode == OMode.AP_WRAP_SM and fmt.signed  # unsigned WRAP_SM saturates


def truncates(fmt: Format, src: Format) -> bool:
    """Whether a conversion from ``src`` to ``fmt`` drops fraction bits without rounding
    to nearest (AP_TRN, AP_TRN_ZERO, or any conversion to ap_int)."""
    if src.frac_bits <= fmt.frac_bits:
        return False
    return fmt.kind == "int" or fmt.q_mode in (QMode.AP_TRN, QMode.AP_TRN_ZERO)


def resized(fmt: Format, int_bits: int, frac_bits: int | None = None) -> Format | None:
    """``fmt`` with other integer (and fraction) bits, same kind, sign and modes; None if
    that is no type (width below 1)."""
    f = fmt.frac_bits if frac_bits is None else frac_bits
    width = int_bits + f
    if width < 1 or width > 1024:
        return None
    if fmt.kind == "int":
        if f != 0:
            return None
        return Format("int", width, width, fmt.signed)
    return Format("fixed", width, int_bits, fmt.signed, fmt.q_mode, fmt.o_mode, min(fmt.n_sat, width))


def rounding_variant(fmt: Format) -> Format:
    """The same width with round-to-nearest (AP_RND); ap_int<W> becomes ap_fixed<W,W,AP_RND>
    (which wraps as ap_int does)."""
    if fmt.kind == "int":
        return Format("fixed", fmt.width, fmt.width, fmt.signed, QMode.AP_RND, OMode.AP_WRAP)
    return dataclasses.replace(fmt, q_mode=QMode.AP_RND)


class StageModel:
    """The datapath of one layer, evaluated on APArrays (see the module docstring)."""

    def __init__(self, kind: Kind, geom: Geometry, config: KernelConfig, bottom: np.ndarray,
                 weight: np.ndarray, bias: np.ndarray, factor: np.ndarray,
                 totals: np.ndarray | None = None):
        self.kind, self.geom, self.config = kind, geom, config
        self.channels = geom.out_channels
        plan = config.plan()
        typed = config.engine_typed  # compute_engine_16 converts: its calls are the terms
        if totals is not None or (kind.seed and not typed):
            self.mode = "exact"
        else:
            self.mode = "group" if kind.seed else geom["accumulate"]
        if kind.seed:
            self.total_t = _natural_tree(plan) if typed else kind.total_type(plan, geom)
        else:
            self.total_t = _conv2d.wide_type(plan, kind.conv.geometry(geom))
        sums = exact_sums(kind, geom, bottom, weight) if totals is None else totals
        self.totals = APArray.from_raw(self.total_t, sums)
        if self.mode == "exact":
            self.terms = None
        elif kind.seed:  # conv1x1: one engine call per output
            self.terms = [engine_total(config, [exact_sums(kind, geom, bottom, _lane(weight, k))
                                                for k in range(16)])]
        else:
            self.terms = _terms(kind, geom, config, bottom, weight, self.mode)
        self.factor_raw = np.asarray(factor).reshape(-1)
        self.bias_raw = np.asarray(bias).reshape(-1)

    def _factor(self, factor: np.ndarray | None) -> APArray:
        n = self.channels
        f = self.factor_raw if factor is None else np.asarray(factor).reshape(-1)
        f = f if self.config.per_channel_factor else np.repeat(f[:1], n)
        return APArray.from_raw(self.config.factor_t, f.reshape(n, 1, 1))

    def accumulate(self, acc_t: Format) -> APArray:
        """acc as the kernel computes it with accumulator type ``acc_t``: one conversion of the
        exact total, or the kernel's sequence (group: ``acc_t(acc + acc_t(E))`` per engine
        call; tap: ``acc_t(acc + p)`` per product)."""
        if self.terms is None:
            return self.totals.cast(acc_t)
        acc = APArray.from_raw(acc_t, np.zeros(self.totals.shape, dtype=np.int64))
        for term in self.terms:
            if self.mode == "group":
                acc = (acc + term.cast(acc_t)).cast(acc_t)
            else:
                acc = (acc + term).cast(acc_t)
        return acc

    def evaluate(self, types: dict[str, Format] | None = None, exact: Iterable[str] = (),
                 relu_clip: bool | None = None, factor: np.ndarray | None = None,
                 bias: np.ndarray | None = None) -> Evaluation:
        """The chain with ``types`` replacing configured ones (by name, e.g. ``{"acc_t": ...}``),
        the stages in ``exact`` left unconverted, and optionally another relu_clip, factor or
        bias (raw integers of factor_t / bias_t)."""
        c = dataclasses.replace(self.config, **(types or {}))
        ex = set(exact)
        clip = c.relu_clip if relu_clip is None else relu_clip
        pre: dict[str, APArray] = {}
        post: dict[str, APArray] = {}
        pre["acc"] = self.totals
        acc = post["acc"] = self.totals if "acc" in ex else self.accumulate(c.acc_t)
        pre["qd"] = scaled = acc * self._factor(factor)
        qd = post["qd"] = scaled if "qd" in ex else scaled.cast(c.qd_t)
        b = self.bias_raw if bias is None else np.asarray(bias).reshape(-1)
        pre["sum"] = biased = APArray.from_raw(c.bias_t, b.reshape(self.channels, 1, 1)) + qd
        s = post["sum"] = biased if "sum" in ex else biased.cast(c.sum_t)
        pre["out"] = s
        act = self.geom.get("activation", "relu")
        top_raw = _conv2d.clip_raw(c.out_t, self.geom) if act == "clip" else c.out_t.max_raw
        top = APArray.from_raw(c.out_t, top_raw)
        relu = act != "none"
        low = np.broadcast_to((s < 0) & relu, s.shape)
        high = np.broadcast_to((s > top) & (clip or act == "clip") & relu, s.shape)
        passed = ~low & ~high
        fo = c.out_t.frac_bits
        if "out" in ex:
            post["out"] = s
            through = np.ldexp(s.to_float(), fo)
        else:
            conv = post["out"] = s.cast(c.out_t)
            through = _float(conv.raw)
        out = np.where(low, 0.0, np.where(high, float(top_raw), through))
        return Evaluation(out, pre, post, low, high, passed)

    # ---- widths -------------------------------------------------------------------------------
    def fits(self, values: APArray, fmt: Format) -> bool:
        return not values.cast(fmt).overflowed.any()

    def no_overflow_type(self, values: APArray, fmt: Format) -> Format | None:
        """The narrowest ``fmt`` (same fraction bits and modes) into which every value converts
        without overflow; None if none within the natural width of the values."""
        lo = 1 - fmt.frac_bits if fmt.kind == "fixed" else 1
        hi = max(values.type.int_bits + 2, fmt.int_bits)
        cand = resized(fmt, hi)
        if cand is None or not self.fits(values, cand):
            return None
        while lo < hi:  # overflow is monotonic in the integer bits: bisect
            mid = (lo + hi) // 2
            t = resized(fmt, mid)
            if t is not None and self.fits(values, t):
                hi = mid
            else:
                lo = mid + 1
        return resized(fmt, hi)

    def narrowest_identical(self, stage: str, target: np.ndarray) -> Format | None:
        """The narrowest type for ``stage`` (same modes; first fewer integer bits, then fewer
        fraction bits) whose outputs equal ``target`` bit for bit, scanning down from the
        configured type; None when even that one differs."""
        name = TYPE_OF[stage]
        fmt = getattr(self.config, name)

        def same(t: Format | None) -> bool:
            return t is not None and np.array_equal(self.evaluate({name: t}).out, target)

        if not same(fmt):
            return None
        best = fmt
        for _ in range(MAX_SCAN):
            t = resized(best, best.int_bits - 1)
            if not same(t):
                break
            best = t
        if best.kind == "fixed":
            for _ in range(MAX_SCAN):
                if best.frac_bits <= 0:
                    break
                t = resized(best, best.int_bits, best.frac_bits - 1)
                if not same(t):
                    break
                best = t
        return best


def _float(raw: np.ndarray) -> np.ndarray:
    if raw.dtype == object:
        return np.array([float(int(v)) for v in raw.flat], dtype=np.float64).reshape(raw.shape)
    return raw.astype(np.float64)


def _conv_layout(kind: Kind, geom: Geometry, x: np.ndarray, w: np.ndarray):  # noqa: ANN202
    """Input, weight and geometry of the conv2d the kernel runs as (kind.conv)."""
    xc, wc = kind.conv.operands(geom, np.asarray(x), np.asarray(w))
    return xc, wc, kind.conv.geometry(geom)


def _natural_tree(plan) -> Format:  # noqa: ANN001 - Plan
    """The exact type of 16 natural products' sum (what the engine's total is without
    product_t / tree_t)."""
    from hls_sim.types import result_type

    t = plan.product_t
    for _ in range(4):
        t = result_type("+", t, t)
    return t


def _lane(w: np.ndarray, k: int) -> np.ndarray:
    """conv1x1's weight [16][16] with only input channel k kept."""
    wm = np.zeros_like(np.asarray(w))
    wm[:, k] = np.asarray(w)[:, k]
    return wm


def engine_total(config: KernelConfig, lanes: list) -> APArray:
    """compute_engine_16 on APArrays: ``lanes`` the 16 lanes' natural products (raws; None
    for a zero lane), each converted to product_t and each adder's sum to tree_t where the
    configuration sets them (hls_layer.h)."""
    plan = config.plan()
    shape = next(np.shape(v) for v in lanes if v is not None)
    terms = [APArray.from_raw(plan.product_t, np.zeros(shape, dtype=np.int64) if v is None else v)
             for v in lanes]
    if config.product_t is not None:
        terms = [t.cast(config.product_t) for t in terms]
    while len(terms) > 1:
        terms = [terms[i] + terms[i + 1] for i in range(0, len(terms), 2)]
        if config.tree_t is not None:
            terms = [t.cast(config.tree_t) for t in terms]
    return terms[0]


def _terms(kind: Kind, geom: Geometry, config: KernelConfig, x: np.ndarray, w: np.ndarray,
           mode: str) -> list[APArray]:
    """The addends of the kernel's accumulation in its order (docs/kinds.md): per input-channel
    block, kh, kw the engine's sum E (group: exact, or through product_t / tree_t), or each
    product (tap)."""
    x, w, g = _conv_layout(kind, geom, x, w)
    co, ho, wo = g.shape("top")
    k, s, p, d, grp = (g[n] for n in ("kernel_size", "stride", "padding", "dilation", "groups"))
    cg = g["in_channels"] // grp
    plan = config.plan()
    out = []

    def lane_sums(sel: list[int], kh: int, kw: int) -> np.ndarray:
        wm = np.zeros_like(w)
        wm[:, sel, kh, kw] = w[:, sel, kh, kw]
        return _conv2d.conv_sums(x, wm, co, ho, wo, k, s, p, d, grp)

    for b in range(_conv2d.blocks(g)):
        chans = range(16 * b, min(16 * b + 16, cg))
        for kh in range(k):
            for kw in range(k):
                if mode == "group" and config.engine_typed:
                    out.append(engine_total(config, [lane_sums([c], kh, kw) if c < cg else None
                                                     for c in range(16 * b, 16 * b + 16)]))
                    continue
                groups = [list(chans)] if mode == "group" else [[c] for c in chans]
                for sel in groups:
                    out.append(APArray.from_raw(plan.engine_t if mode == "group" else plan.product_t,
                                                lane_sums(sel, kh, kw)))
    return out


def extremes(kind: Kind, geom: Geometry, config: KernelConfig, weight: np.ndarray | None) -> np.ndarray:
    """The smallest and largest exact sum of products any input of in_t can give, per output
    channel, ``[C_OUT][1][2]``: with these weights, or with any weights of weight_t (None)."""
    xlo, xhi = config.in_t.min_raw, config.in_t.max_raw
    n = geom.out_channels
    if kind.seed:
        per_out = [np.asarray(weight, dtype=object).reshape(n, -1)[c] for c in range(n)] \
            if weight is not None else None
        taps = int(np.prod(geom.shape("weight")[1:]))
    else:
        wc = kind.conv.operands(geom, None, weight)[1] if weight is not None else None
        per_out = [np.asarray(wc, dtype=object)[c].ravel() for c in range(n)] if weight is not None \
            else None
        g = kind.conv.geometry(geom)
        taps = g["in_channels"] // g["groups"] * g["kernel_size"] ** 2
    if per_out is None:
        wt = config.weight_t
        corners = [wt.min_raw * xlo, wt.min_raw * xhi, wt.max_raw * xlo, wt.max_raw * xhi]
        lo, hi = taps * min(corners), taps * max(corners)
        out = np.empty((n, 1, 2), dtype=object)
        out[..., 0], out[..., 1] = lo, hi
        return out
    out = np.empty((n, 1, 2), dtype=object)
    for c in range(n):
        lo = sum(min(int(v) * xlo, int(v) * xhi) for v in per_out[c])
        hi = sum(max(int(v) * xlo, int(v) * xhi) for v in per_out[c])
        out[c, 0, 0], out[c, 0, 1] = lo, hi
    return out
