"""Elementwise multiply of two ap_fixed<16,6> arrays (exact: ap_fixed<32,12>), then cast to
ap_fixed<16,6,AP_RND_CONV,AP_SAT>: ``(x * y).cast(T)`` vs APyTypes ``(a * b).cast(...)``."""

from __future__ import annotations

import numpy as np

from benchmarks import apy
from benchmarks.common import Row, best_of
from hls_sim.types import parse

SRC = parse("ap_fixed<16,6>")
T = parse("ap_fixed<16,6,AP_RND_CONV,AP_SAT>")


def run(quick: bool) -> list[Row]:
    import apytypes

    n, repeat = (10_000, 3) if quick else (1_000_000, 15)
    rng = np.random.default_rng(2)
    r1, r2 = (rng.integers(SRC.min_raw, SRC.max_raw + 1, n) for _ in range(2))
    x, y = SRC.from_raw(r1), SRC.from_raw(r2)
    best, median, ours = best_of(lambda: (x * y).cast(T), repeat)
    mul_only, _, _ = best_of(lambda: x * y, repeat)

    # APyTypes 0.5.1 reads signed int64 raws right; unsigned patterns in a numpy array are
    # not reduced to the width (so never pass r & 0xFFFF).
    a = apytypes.APyFixedArray(r1, int_bits=SRC.int_bits, frac_bits=SRC.frac_bits)
    b = apytypes.APyFixedArray(r2, int_bits=SRC.int_bits, frac_bits=SRC.frac_bits)
    assert (apy.raws(a, SRC) == r1).all(), "APyTypes did not read the raw values back"
    cast = apy.cast_args(T)
    a_best, a_median, theirs = best_of(lambda: (a * b).cast(**cast), repeat)

    same = int((apy.raws(theirs, T) == ours.raw).sum())
    return [Row("mul_cast", f"{n:,} x*y -> {T}", best, apy.version(), a_best,
                identical=same == n, check=f"{same:,}/{n:,} raws",
                extra=dict(n=n, repeat=repeat, median=median, anchor_median=a_median,
                           multiply_only=mul_only, saturated=int(ours.overflowed.sum())))]
