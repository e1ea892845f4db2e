"""The kernels' datapath, stage by stage, on APArrays: what each conversion does to the output.

A kernel computes every output as

    acc = acc_t(total)                 # stage "acc": the exact sum of products, converted
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

from hls_sim.kernels import KernelConfig
from hls_sim.kernels.hls_config import CHANNELS
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
    """One evaluation of the chain over every written output ``[16][32][64]``."""

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

    def __init__(self, kernel: str, config: KernelConfig, bottom: np.ndarray, weight: np.ndarray,
                 bias: np.ndarray, factor: np.ndarray, totals: np.ndarray | None = None):
        self.kernel, self.config = kernel, config
        plan = config.plan()
        self.total_t = plan.engine_t if kernel == "conv1x1" else plan.chain9_t
        sums = exact_sums(kernel, bottom, weight) if totals is None else totals
        self.totals = APArray.from_raw(self.total_t, sums)
        self.factor_raw = np.asarray(factor).reshape(-1)
        self.bias_raw = np.asarray(bias).reshape(-1)

    def _factor(self, factor: np.ndarray | None) -> APArray:
        f = self.factor_raw if factor is None else np.asarray(factor).reshape(-1)
        f = f if f.size == CHANNELS else np.repeat(f, CHANNELS)
        return APArray.from_raw(self.config.factor_t, f.reshape(CHANNELS, 1, 1))

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
        acc = post["acc"] = self.totals if "acc" in ex else self.totals.cast(c.acc_t)
        pre["qd"] = scaled = acc * self._factor(factor)
        qd = post["qd"] = scaled if "qd" in ex else scaled.cast(c.qd_t)
        b = self.bias_raw if bias is None else np.asarray(bias).reshape(-1)
        pre["sum"] = biased = APArray.from_raw(c.bias_t, b.reshape(CHANNELS, 1, 1)) + qd
        s = post["sum"] = biased if "sum" in ex else biased.cast(c.sum_t)
        pre["out"] = s
        top = APArray.from_raw(c.out_t, c.out_t.max_raw)
        low = np.broadcast_to(s < 0, s.shape)
        high = np.broadcast_to((s > top) & clip, s.shape)
        passed = ~low & ~high
        fo = c.out_t.frac_bits
        if "out" in ex:
            post["out"] = s
            through = np.ldexp(s.to_float(), fo)
        else:
            conv = post["out"] = s.cast(c.out_t)
            through = _float(conv.raw)
        out = np.where(low, 0.0, np.where(high, float(c.out_t.max_raw), through))
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


def extremes(kernel: str, config: KernelConfig, weight: np.ndarray | None) -> np.ndarray:
    """The smallest and largest exact sum of products any input of in_t can give, per output
    channel, ``[16][1][2]``: with these weights, or with any weights of weight_t (None)."""
    xlo, xhi = config.in_t.min_raw, config.in_t.max_raw
    taps = 16 if kernel == "conv1x1" else 9
    if weight is None:
        wt = config.weight_t
        corners = [wt.min_raw * xlo, wt.min_raw * xhi, wt.max_raw * xlo, wt.max_raw * xhi]
        lo, hi = taps * min(corners), taps * max(corners)
        out = np.empty((CHANNELS, 1, 2), dtype=object)
        out[..., 0], out[..., 1] = lo, hi
        return out
    w = np.asarray(weight, dtype=object).reshape(CHANNELS, -1)
    out = np.empty((CHANNELS, 1, 2), dtype=object)
    for c in range(CHANNELS):
        lo = sum(min(int(v) * xlo, int(v) * xhi) for v in w[c])
        hi = sum(max(int(v) * xlo, int(v) * xhi) for v in w[c])
        out[c, 0, 0], out[c, 0, 1] = lo, hi
    return out
