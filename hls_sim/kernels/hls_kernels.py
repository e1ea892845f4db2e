"""Twin of ``kernels/hls_kernels.h``: compute_engine_16, quant_dequant, relu, on raw integers.

Arithmetic inside the C++ helpers is exact (natural ap_* result types), so each helper is
"exact arithmetic, then one conversion", and every conversion is
:func:`hls_sim.types.rules.convert`, the project's single precision-losing rule.

Speed comes from specialisation: each kernel is built per configuration with the conversion
parameters as constants, and :func:`finish_row` runs each conversion as its own simple loop,
which LLVM folds down to a few vector instructions. On the exact path the same functions run
as plain Python on Python ints.
"""

from __future__ import annotations

from hls_sim.jit import jitable
from hls_sim.types.rules import INEXACT, OVERFLOW, convert

# datapath counters, per output channel (see hls_sim.kernels.Counters)
COUNTER_NAMES = ("acc_overflow", "qd_overflow", "sum_overflow", "out_overflow",
                 "clip_low", "clip_high", "qd_rounded", "engine_overflow")
(ACC_OVERFLOW, QD_OVERFLOW, SUM_OVERFLOW, OUT_OVERFLOW, CLIP_LOW, CLIP_HIGH, QD_ROUNDED,
 ENGINE_OVERFLOW) = range(8)
N_COUNTERS = len(COUNTER_NAMES)
ROUNDED_BY = {"qd_overflow": "qd_rounded"}  # a conversion's overflow counter -> its lost-bits one


@jitable
def compute_engine_16(weight, bottom, coo, h, totals):
    """compute_engine_16 along one row: totals[w] = sum_k weight[coo][k] * bottom[k][h][w].

    The C++ adder tree has natural (growing) widths, so its total is exact: the only
    rounding or overflow is the conversion to acc_t, the first stage of finish_row.
    """
    for w in range(totals.size):
        totals[w] = 0
    for k in range(16):
        wk = weight[coo, k]
        for w in range(totals.size):
            totals[w] += wk * bottom[k, h, w]


@jitable
def typed_tree(prods, lo, hi, flags, to_prod, to_level1, to_level):
    """compute_engine_16 with product_t / tree_t (hls_layer.h), over outputs lo..hi-1:
    ``prods[k][i]`` holds the 16 natural products of output i (zeros for padded lanes); on
    return ``prods[0][i]`` is the tree's total (of type plan.engine_t). Each product is
    converted by ``to_prod``, each first-level sum by ``to_level1``, each later one by
    ``to_level`` (no-op conversions where a type is natural); ``flags[i]`` collects the
    conversions' statuses."""
    for k in range(16):
        for i in range(lo, hi):
            v, st = convert(prods[k, i], to_prod)
            prods[k, i] = v
            flags[i] |= st
    n = 8
    first = True
    while n >= 1:
        for k in range(n):
            for i in range(lo, hi):
                if first:
                    v, st = convert(prods[2 * k, i] + prods[2 * k + 1, i], to_level1)
                else:
                    v, st = convert(prods[2 * k, i] + prods[2 * k + 1, i], to_level)
                prods[k, i] = v
                flags[i] |= st
        n //= 2
        first = False


@jitable
def inside_span(off, s, n_in, n_out):
    """The outputs ``o`` (lo <= o < hi, of n_out) whose input position ``o*s + off`` lies
    inside ``0 .. n_in-1``: the columns a kernel tap at offset ``off`` reads (stride s)."""
    lo = 0 if off >= 0 else (-off + s - 1) // s
    hi = min(n_out, (n_in - 1 - off) // s + 1) if n_in - 1 - off >= 0 else 0
    return lo, hi


@jitable
def count_overflowed(flags, lo, hi):
    """How many of flags[lo:hi] have the OVERFLOW bit."""
    n = 0
    for i in range(lo, hi):
        n += (flags[i] & OVERFLOW) != 0
    return n


@jitable(inline=True)
def finish_row(totals, out, bias, factor, cnt, vals, sts, to_acc, to_qd, bias_shift, qd_shift,
               to_sum, clip, threshold, out_max, to_out, relu=True):
    """``top[..] = relu(bias + qunat_dequant2(acc_t(total), factor))`` along one row
    (``relu=False``: the activation ``none``, ``out_t(bias + qd)``).

    ``totals``: exact sums of products; ``out``: the row of ``top`` to write; ``cnt``: this
    channel's counters; ``vals``/``sts``: [4][n] scratch rows (values, statuses). ``bias_shift`` /
    ``qd_shift`` align the addends to the fraction bits of ``bias_t + qd_t``; ``threshold``
    is the largest sum_t raw not above max(out_t) (relu's ``x > top`` test).

    Inlined into each kernel, whose constants make every ``convert`` loop below a
    specialised, vectorizable one.
    """
    n = totals.size
    acc, scaled, biased, res = vals[0], vals[1], vals[2], vals[3]
    for i in range(n):                            # mid_result = acc_t(total)
        acc[i], sts[0, i] = convert(totals[i], to_acc)
    for i in range(n):                            # quant_dequant: acc * factor, exact ...
        scaled[i] = acc[i] * factor
    for i in range(n):                            # ... then qd_t(...)
        res[i], sts[1, i] = convert(scaled[i], to_qd)
    for i in range(n):
        biased[i] = (bias << bias_shift) + (res[i] << qd_shift)
    for i in range(n):                            # relu's parameter: sum_t(bias + qd)
        acc[i], sts[2, i] = convert(biased[i], to_sum)
    for i in range(n):                            # out_t(x), where relu passes x through
        res[i], sts[3, i] = convert(acc[i], to_out)
    n_low = n_high = 0
    for i in range(n):                            # relu
        x = acc[i]
        if not relu:
            out[i] = res[i]
        elif x < 0:
            out[i] = out_max & 0
            sts[3, i] = 0
            n_low += 1
        elif clip and x > threshold:
            out[i] = out_max
            sts[3, i] = 0
            n_high += 1
        else:
            out[i] = res[i]
    n_acc = n_qd = n_sum = n_out = n_rnd = 0
    for i in range(n):
        n_acc += (sts[0, i] & OVERFLOW) != 0
        n_qd += (sts[1, i] & OVERFLOW) != 0
        n_rnd += (sts[1, i] & INEXACT) != 0
        n_sum += (sts[2, i] & OVERFLOW) != 0
        n_out += (sts[3, i] & OVERFLOW) != 0
    cnt[ACC_OVERFLOW] += n_acc
    cnt[QD_OVERFLOW] += n_qd
    cnt[SUM_OVERFLOW] += n_sum
    cnt[OUT_OVERFLOW] += n_out
    cnt[CLIP_LOW] += n_low
    cnt[CLIP_HIGH] += n_high
    cnt[QD_ROUNDED] += n_rnd
