"""Parsing, spelling and result-type rules of hls_sim.types.Format."""

import pytest

from hls_sim.types import OMode, QMode, ap_fixed, ap_int, ap_uint, neg_type, parse, result_type


@pytest.mark.parametrize("text, w, i, s, q, o, n", [
    ("ap_int<8>", 8, 8, True, QMode.AP_TRN, OMode.AP_WRAP, 0),
    ("ap_uint<1>", 1, 1, False, QMode.AP_TRN, OMode.AP_WRAP, 0),
    ("ap_fixed<12, 4, AP_RND_CONV, AP_SAT_SYM>", 12, 4, True, QMode.AP_RND_CONV, OMode.AP_SAT_SYM, 0),
    (" ap_ufixed<8,-2> ", 8, -2, False, QMode.AP_TRN, OMode.AP_WRAP, 0),
    ("ap_fixed<8,12,AP_TRN_ZERO,AP_WRAP_SM,3>", 8, 12, True, QMode.AP_TRN_ZERO, OMode.AP_WRAP_SM, 3),
    ("ap_fixed<1024,1>", 1024, 1, True, QMode.AP_TRN, OMode.AP_WRAP, 0),
])
def test_parse_fields(text, w, i, s, q, o, n):
    t = parse(text)
    assert (t.width, t.int_bits, t.signed, t.q_mode, t.o_mode, t.n_sat) == (w, i, s, q, o, n)
    assert t.frac_bits == w - i
    assert parse(str(t)) == t and parse(t.cpp()) == t
    assert eval(repr(t), {"parse": parse}) == t


def test_canonical_spelling_omits_defaults():
    assert str(parse("ap_fixed<8,3,AP_TRN,AP_WRAP,0>")) == "ap_fixed<8,3>"
    assert str(parse("ap_fixed<8,3,AP_RND>")) == "ap_fixed<8,3,AP_RND>"
    assert str(parse("ap_fixed<8,3,AP_TRN,AP_SAT>")) == "ap_fixed<8,3,AP_TRN,AP_SAT>"
    assert parse("ap_fixed<8,3>").cpp() == "ap_fixed<8,3,AP_TRN,AP_WRAP,0>"


@pytest.mark.parametrize("bad, words", [
    ("ap_fixed<0,1>", "width must be 1..1024"),
    ("ap_int<5000>", "width must be 1..1024"),
    ("ap_fixed<8,3,AP_FOO>", "unknown quantization mode 'AP_FOO'"),
    ("ap_fixed<8,3,AP_RND,AP_BAR>", "unknown overflow mode 'AP_BAR'"),
    ("ap_fixed<8,3", "unbalanced"),
    ("ap_fixed<8,3>>", "unbalanced"),
    ("ap_int<8,2>", "exactly one argument"),
    ("ap_fixed<8>", "2 to 5 arguments"),
    ("ap_fixed<8,x>", "integer bits must be an integer"),
    ("ap_fixed<8,3,AP_RND,AP_SAT,9>", "saturation bits N must be 0..width"),
    ("ap_ufixed<8,3,AP_RND,AP_WRAP_SM>", "AP_WRAP_SM .* needs a signed type"),
    ("ap_fixed<8,,3>", "empty template argument"),
    ("int", "not a type"),
    ("ap_int<8>; system(\"rm\")", "not a type"),
])
def test_parse_rejects(bad, words):
    with pytest.raises(ValueError, match=words.replace("(", r"\(")):
        parse(bad)


def test_result_types_follow_the_headers():
    a, b = parse("ap_fixed<8,3>"), parse("ap_ufixed<6,2>")
    assert result_type("+", a, b) == ap_fixed(9, 4)           # I: max(3, 2+1)+1, F: max(5, 4)
    assert result_type("-", b, b) == ap_fixed(7, 3)           # minus is always signed
    assert result_type("*", a, b) == ap_fixed(14, 5)
    assert result_type("/", a, b) == ap_fixed(12, 7)          # W: S2+W1+max(F2,0), I: S2+I1+F2
    assert result_type("/", a, a) == ap_fixed(14, 9)
    assert result_type("+", ap_int(8), ap_uint(8)) == ap_int(10)
    assert result_type("*", ap_uint(4), ap_uint(5)) == ap_uint(9)
    assert result_type("/", ap_uint(8), ap_int(4)) == ap_int(9)
    assert result_type("+", ap_int(8), a) == ap_fixed(14, 9)  # ap_int is ap_fixed<8,8>
    assert neg_type(a) == ap_fixed(9, 4)
    assert neg_type(ap_uint(7)) == ap_int(8)
    with pytest.raises(ValueError, match="exceeds 1024"):
        result_type("*", ap_int(1000), ap_int(100))


@pytest.mark.parametrize("spelling", ["ap_fixed<8,2000>", "ap_ufixed<8,1100>", "ap_ufixed<1024,-4096>",
                                      "ap_uint<1024>", "ap_fixed<1,4096>", "ap_fixed<64,-1060>",
                                      "ap_fixed<1024,1030>", "ap_fixed<8,3>", "ap_int<1024>"])
def test_range_and_lsb_are_float64s_for_every_format(spelling):
    """min_value, max_value and lsb: the correctly rounded float64, ±inf beyond its range and
    0.0 below it; never an OverflowError (issue 13, item 5)."""
    from fractions import Fraction

    t = parse(spelling)

    def nearest(raw: int) -> float:
        exact = Fraction(raw) * Fraction(2) ** -t.frac_bits
        try:
            return float(exact)
        except OverflowError:
            return float("inf") if exact > 0 else float("-inf")

    assert t.min_value == nearest(t.min_raw)
    assert t.max_value == nearest(t.max_raw)
    assert t.lsb == nearest(1)
    assert t.value_of(-3) == nearest(-3)
