"""The conversion rules against the oracle, and the int64 path against the exact path."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from hls_sim.types import Format, OMode, QMode, ap_fixed, parse
from hls_sim.types import _loops, rules
from hls_sim.types.array import FEW
from tests import oracle


ORACLE_WIDTHS = range(1, 6)  # the g++ tier covers 1..8 exhaustively; the oracle backs the fast paths


def _narrow_targets():
    """Every mode pair, several N, on targets of 1..5 bits with I below, inside and above W."""
    for w in ORACLE_WIDTHS:
        for i in sorted({-1, 0, 1, w // 2, w, w + 2}):
            for q, o in itertools.product(QMode, OMode):
                ns = (0, 1, 2, w) if o in (OMode.AP_WRAP, OMode.AP_WRAP_SM) else (0,)
                for n in sorted({x for x in ns if x <= w}):
                    for s in (True, False):
                        if s or o != OMode.AP_WRAP_SM:  # ap_ufixed + AP_WRAP_SM is refused
                            yield Format("fixed", w, i, s, q, o, n)


NARROW = list(_narrow_targets())


@pytest.mark.parametrize("w", ORACLE_WIDTHS)
def test_narrow_casts_exhaustive_against_oracle(w):
    """All source codes of a wider format, through every narrow target of width w."""
    for t in (t for t in NARROW if t.width == w):
        for src in (Format("fixed", w + 3, t.int_bits + 2, True), Format("fixed", w + 2, t.int_bits, False)):
            raws = np.arange(src.min_raw, src.max_raw + 1, dtype=np.int64)
            got = src.from_raw(raws).cast(t).raw.tolist()
            want = [oracle.cast(int(r), src, t) for r in raws]
            assert got == want, f"{src} -> {t}: first diff at raw {raws[np.flatnonzero(np.array(got) != np.array(want))[0]]}"


@pytest.mark.parametrize("w", ORACLE_WIDTHS)
def test_narrow_quantize_exhaustive_against_oracle(w):
    """Doubles on every half-LSB and quarter-LSB step across and beyond the range."""
    for t in (t for t in NARROW if t.width == w):
        lsb = 2.0 ** -t.frac_bits
        grid = np.arange(-(2 ** (w + 1)) * 4 - 8, (2 ** (w + 1)) * 4 + 8) * (lsb / 4)
        grid = grid[grid != 0]
        got = t.quantize(grid).raw.tolist()
        want = [oracle.from_double(float(d), t) for d in grid]
        assert got == want, f"{t}: first diff at {grid[np.flatnonzero(np.array(got) != np.array(want))[0]]}"


def test_int_targets_against_oracle():
    for w in (1, 3, 8, 16):
        for s in (True, False):
            t = Format("int", w, w, s)
            for src in (ap_fixed(10, 4), ap_fixed(6, 0), ap_fixed(6, 9), parse("ap_ufixed<7,3>"), parse("ap_int<12>")):
                raws = np.arange(src.min_raw, src.max_raw + 1, dtype=np.int64)
                got = src.from_raw(raws).cast(t).raw.tolist()
                assert got == [oracle.cast(int(r), src, t) for r in raws], f"{src} -> {t}"
            grid = np.linspace(-600, 600, 4801)
            grid = np.concatenate([grid, [-0.3, -0.49, -0.5, -0.51, 0.3, 1e30, -1e30, 2.0 ** 60]])
            grid = grid[grid != 0]
            assert t.quantize(grid).raw.tolist() == [oracle.from_double(float(d), t) for d in grid]


# ---- fast (numba int64) path == exact (Python int) path == oracle, on random formats ----
def _fixed(w, di, s, q, o, n):
    # AP_WRAP_SM needs a signed type (the headers refuse ap_ufixed with it)
    return Format("fixed", w, w - di, s or o == OMode.AP_WRAP_SM, q, o, min(n, w))


formats = st.builds(
    _fixed, st.integers(1, 63), st.integers(-70, 80), st.booleans(), st.sampled_from(list(QMode)),
    st.sampled_from(list(OMode)), st.integers(0, 4))
wide_formats = st.builds(
    _fixed, st.integers(1, 300), st.integers(-150, 300), st.booleans(), st.sampled_from(list(QMode)),
    st.sampled_from(list(OMode)), st.integers(0, 4))


def _past_few(values: list) -> list:
    """The values repeated past FEW, so that the compiled loops (not the rules in Python) run."""
    return values * (FEW // len(values) + 1)


@settings(max_examples=300, deadline=None)
@given(src=formats, dst=formats, data=st.data())
def test_int64_path_equals_exact_path(src, dst, data):
    raws = _past_few(data.draw(st.lists(st.integers(src.min_raw, src.max_raw), min_size=1, max_size=20)))
    x = src.from_raw(raws)
    fast = x.cast(dst)  # int64 path (both formats fit, and enough values for the compiled loop)
    args = (src.width, src.frac_bits, dst.width, dst.frac_bits, dst.signed, int(dst.q_mode), int(dst.o_mode), dst.n_sat)
    exact = [rules.cast_raw(int(r), *args) for r in raws]
    assert fast.raw.tolist() == [r for r, _ in exact]
    assert fast.status.tolist() == [s for _, s in exact]


@settings(max_examples=300, deadline=None)
@given(src=wide_formats, dst=wide_formats, data=st.data())
def test_exact_path_equals_oracle(src, dst, data):
    raws = data.draw(st.lists(st.integers(src.min_raw, src.max_raw), min_size=1, max_size=10))
    got = src.from_raw(raws).cast(dst).raw.tolist()
    assert got == [oracle.cast(r, src, dst) for r in raws]


@settings(max_examples=300, deadline=None)
@given(dst=wide_formats, values=st.lists(st.floats(allow_nan=False, allow_infinity=False, allow_subnormal=False), min_size=1, max_size=10))
def test_quantize_equals_oracle(dst, values):
    got = dst.quantize(values).raw.tolist()
    assert got == [oracle.from_double(v, dst) for v in values]


@settings(max_examples=200, deadline=None)
@given(dst=formats, values=st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=1, max_size=20))
def test_quantize_int64_path_equals_exact_path(dst, values):
    values = _past_few(values)
    fast = dst.quantize(values, nonfinite="header")
    bits = np.array(values, dtype=np.float64).view(np.int64)
    args = (dst.width, dst.frac_bits, dst.signed, int(dst.q_mode), int(dst.o_mode), dst.n_sat)
    assert fast.raw.tolist() == [rules.double_to_fixed(int(b), *args)[0] for b in bits]


def test_ties_are_exact_not_double_rounded():
    """Values a hair away from a tie must not be rounded as ties."""
    t = parse("ap_fixed<8,4,AP_RND_CONV>")
    half = 2.0 ** -5  # half an LSB of 4 fraction bits
    vals = [0.5 * 2 ** -4 * 3, 3 * half, np.nextafter(3 * half, 0), np.nextafter(3 * half, 1)]
    assert t.quantize(vals).raw.tolist() == [2, 2, 1, 2]


def test_nan_and_inf_raise_unless_asked():
    t = parse("ap_fixed<8,3,AP_RND,AP_SAT>")
    with pytest.raises(ValueError, match=r"2 non-finite value\(s\) \(1 NaN, 1 infinite\), first at flat index 1"):
        t.quantize([0.5, np.nan, np.inf])
    assert t.quantize([np.inf, -np.inf], nonfinite="header").raw.tolist() == [127, -128]


def test_status_flags_say_rounded_and_saturated():
    x = parse("ap_fixed<8,3,AP_RND,AP_SAT>").quantize([1.37, 1.375, 100.0])
    assert x.rounded.tolist() == [True, False, False]
    assert x.overflowed.tolist() == [False, False, True]


any_formats = st.one_of(
    formats, st.builds(lambda w, s: Format("int", w, w, s), st.integers(1, 40), st.booleans()))


@settings(max_examples=200, deadline=None)
@given(a=any_formats, b=any_formats, data=st.data())
def test_division_int64_path_equals_exact_path(a, b, data):
    """The headers' division (array._divide): numpy below 63 bits, rules.div beyond."""
    from hls_sim.types.array import _divide
    from hls_sim.types.format import result_type

    rt = result_type("/", a, b)
    n = data.draw(st.integers(1, 12))
    ra = data.draw(st.lists(st.integers(a.min_raw, a.max_raw), min_size=n, max_size=n))
    rb = data.draw(st.lists(st.integers(b.min_raw, b.max_raw).filter(bool), min_size=n, max_size=n))
    if not (a.fits_int64 and b.fits_int64):
        return
    fast = _divide(a, b, np.array(ra, np.int64), np.array(rb, np.int64), rt)
    exact = _divide(a, b, np.array(ra, dtype=object), np.array(rb, dtype=object), rt)
    assert [int(v) for v in fast.ravel()] == [int(v) for v in exact.ravel()]
