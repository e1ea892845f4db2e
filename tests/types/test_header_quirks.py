"""Header behaviours that surprised us, pinned without a toolchain.

Each expected value below is what the real headers compute (found, and kept checked, by
tests/types/test_differential.py against g++); these tests keep the model honest where g++
is not available.
"""

import struct

import pytest

from hls_sim.types import ap_int, ap_uint, parse, rules


def _bits(x: float) -> int:
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def test_mixed_sign_compare_is_unsigned_when_the_unsigned_side_is_as_wide():
    # ap_fixed<29,38> aligned to the integer's LSB is 39 bits, the ap_uint 49: the headers
    # compare unsigned, so a negative value is *not* below zero
    a = parse("ap_fixed<29,38>").from_raw([-(1 << 28)])
    b = parse("ap_uint<49>").from_raw([0])
    assert (a < b).tolist() == [False] and (a > b).tolist() == [True]
    assert (ap_uint(93).from_raw([0]) >= -1).tolist() == [False]  # C: 0u >= -1 is false
    # both narrower than 32 bits: compared as ints, exactly
    assert (ap_int(8).from_raw([-1]) < ap_uint(8).from_raw([0])).tolist() == [True]


def test_mixed_sign_equality_is_modulo_the_wider_width():
    assert (ap_int(1).from_raw([-1]) == ap_uint(67).from_raw([(1 << 67) - 1])).tolist() == [True]
    assert (ap_int(8).from_raw([-1]) == ap_uint(8).from_raw([255])).tolist() == [False]


def test_int_division_takes_the_signedness_of_the_wider_operand():
    q = ap_uint(93).from_raw([1, 14819656238271324]) / -1  # -1 becomes 2**94 - 1
    assert q.type == ap_int(94) and q.raw.tolist() == [0, 0]


def test_fixed_division_of_the_minimum_by_minus_one_overflows():
    q = parse("ap_fixed<33,32>").from_raw([-(1 << 32)]) / -1
    assert q.raw.tolist() == [-(1 << 32)]


def test_int_on_the_left_of_a_division_gets_the_swapped_result_type():
    x = parse("ap_ufixed<86,-3>").from_raw([1])
    q = 1 / x
    assert q.type == parse("ap_fixed<87,-2>")  # the type of x / 1; the true quotient wraps away
    assert q.raw.tolist() == [0]


def test_wide_division_keeps_the_headers_long_division_bug():
    u, v = ((1 << 76) - 1) << 120, (1 << 99) - 1
    assert u // v == 158456325028528675187085803520
    assert rules.udiv(u, v, 197) == 79228162514264337593546047487  # what ap_private computes
    a = parse("ap_fixed<77,-6>").from_raw([-((1 << 76) - 1)])
    b = parse("ap_fixed<100,-20>").from_raw([-((1 << 99) - 1)])
    assert (a / b).raw.tolist() == [79228162514264337593546047487]


def test_to_string_with_more_integer_bits_than_width_loses_the_top():
    x = parse("ap_fixed<8,11>").from_raw([-128, -127, 83])
    assert x.to_string(10).tolist() == ["-0", "-504", "152"]  # true values -1024, -1016, 664


def test_to_string_radix2_of_a_negative_with_no_integer_bits():
    assert parse("ap_fixed<8,-3>").from_raw([-128]).to_string(2).tolist() == ["0b0.11110000000"]


def test_to_double_of_wide_ap_int_reads_the_low_word():
    x = ap_int(65).from_raw([-(1 << 64), -(1 << 64) + 1, (1 << 64) - 2])
    assert x.to_double().tolist() == [0.0, 1.0, -2.0]
    assert x.to_float().tolist() == [-(2.0 ** 64), -(2.0 ** 64), 2.0 ** 64]


def test_to_double_wraps_the_exponent_outside_the_double_range():
    x = parse("ap_ufixed<64,-1060>").from_raw([1])  # 2**-1124, below every double
    assert _bits(x.to_double()[0]) == 8768508474490355712
    assert x.to_float().tolist() == [0.0]


@pytest.mark.parametrize("spelling", ["ap_ufixed<8,4,AP_TRN,AP_WRAP_SM>", "ap_ufixed<1,1,AP_RND,AP_WRAP_SM,1>"])
def test_unsigned_sign_magnitude_wrap_is_refused(spelling):
    with pytest.raises(ValueError, match="needs a signed type"):
        parse(spelling)
