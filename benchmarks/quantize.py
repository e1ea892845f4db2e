"""Quantize float64 values to ap_fixed<16,6,AP_RND_CONV,AP_SAT>: ``Format.quantize`` vs APyTypes.

APyTypes 0.5 reads floats only with RND_INF/WRAP (``from_array``), so its conversion is two
steps: an exact read into a wide format, then ``cast`` with RND_CONV/SAT. The wide format keeps
``frac + 54`` fraction bits: every double with ``|x| >= 2**-(frac+2)`` is exact there, and the
smaller ones read as at most ``2**-(frac+2)``, which both sides round to 0 -- so no double rounding.
"""

from __future__ import annotations

import numpy as np

from benchmarks import apy
from benchmarks.common import Row, best_of
from hls_sim.types import parse

T = parse("ap_fixed<16,6,AP_RND_CONV,AP_SAT>")
SCALE = 12.0  # |x| > 32 (saturation) for about 0.8% of the normal values
EDGES = [0.0, -0.0, 5e-324, -5e-324, 2.0**-11, -(2.0**-11), 3 * 2.0**-11, T.max_value, 32.0,
         -32.0, T.min_value - 2.0**-11, 1000.0, -1000.0]


def data(n: int, seed: int = 1) -> np.ndarray:
    """Scaled normal values; a tenth of them exact ties (k + 1/2) * lsb; a few edge cases."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n) * SCALE
    ties = rng.choice(n, n // 10, replace=False)
    lsb = T.lsb
    x[ties] = (rng.integers(int(T.min_value / lsb) - 64, int(T.max_value / lsb) + 64, ties.size)
               + 0.5) * lsb
    x[: len(EDGES)] = EDGES
    return x


def run(quick: bool) -> list[Row]:
    import apytypes

    n, repeat = (100_000, 3) if quick else (10_000_000, 7)
    x = data(n)
    best, median, ours = best_of(lambda: T.quantize(x), repeat)

    int_bits = int(np.ceil(np.log2(np.abs(x).max() + 1))) + 2
    wide = dict(int_bits=int_bits, frac_bits=T.frac_bits + 54)
    cast = apy.cast_args(T)
    a_best, a_median, theirs = best_of(
        lambda: apytypes.APyFixedArray.from_array(x, **wide).cast(**cast), repeat)

    same = int((apy.raws(theirs, T) == ours.raw).sum())
    return [Row("quantize", f"{n:,} doubles -> {T}", best, apy.version(), a_best,
                identical=same == n, check=f"{same:,}/{n:,} raws",
                extra=dict(n=n, repeat=repeat, median=median, anchor_median=a_median,
                           saturated=int(ours.overflowed.sum()),
                           ties=int(((x / T.lsb) % 1 == 0.5).sum()),
                           anchor_steps="from_array(RND_INF, WRAP; exact) + cast"))]
