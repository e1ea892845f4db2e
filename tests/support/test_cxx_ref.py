"""The C++ reference harness itself: hand-known facts through g++ and the real headers.

All toolchain cases share one batch (one compile, cached under build/cxx_ref/), so the module
costs one cold compile of ~30 groups and nothing on later runs.
"""

from __future__ import annotations

import math

import pytest

from hls_sim.toolchain import ToolchainError
from tests.support.cxx_ref import CxxBatch, TypeInfo, parse_type

ROUNDTRIP_WIDTHS = (1, 64, 65, 96, 200, 1024)
F83 = "ap_fixed<8,3,AP_TRN,AP_WRAP,0>"
INT70 = (1 << 69) | 0x2_DEAD_BEEF_0123_4567  # a 70-bit pattern with the sign bit set


def _patterns(w: int) -> list[int]:
    """Edge bit patterns of a w-bit word, as unsigned ints."""
    m = (1 << w) - 1
    return sorted({0, 1, m, 1 << (w - 1), (1 << (w - 1)) - 1, 0x9E3779B97F4A7C15F39CC0605CEDC834 & m})


@pytest.fixture(scope="module")
def ref(toolchain):
    b = CxxBatch()
    h = {}
    h["rnd_sat"] = b.from_double("ap_fixed<8,3,AP_RND,AP_SAT>", [1.37, 100.0, -100.0, -5.0, 0.0])
    h["nan"] = b.from_double("ap_fixed<8,3,AP_RND,AP_SAT>", [math.nan, math.inf, -math.inf])
    h["int8_dbl"] = b.from_double("ap_int<8>", [300.7, -300.7, 127.9])
    h["add"] = b.binop("+", "ap_fixed<8,3>", "ap_fixed<8,3>", [(127, 127), (-128, -128)])
    h["mul_mixed"] = b.binop("*", F83, "ap_uint<5>", [(44, 3), (-1, 31)])
    h["div0"] = b.binop("/", "ap_int<8>", "ap_int<8>", [(5, 0), (7, 2)])
    h["neg_u4"] = b.unop("-", "ap_uint<4>", [0, 1, 15])
    h["shl"] = b.shift("<<", "ap_int<8>", [(-3, 1), (-3, 8), (-3, -1), (-3, -100)])
    h["shr"] = b.shift(">>", "ap_int<8>", [(-3, 1), (-3, 100)])
    h["cmp"] = b.compare("<", F83, "ap_int<4>", [(44, 1), (44, 2), (-128, -8)])
    h["str10"] = b.to_string(F83, [44, -44, 0, 127], radix=10)
    h["str2"] = b.to_string(F83, [44], radix=2)
    h["str16"] = b.to_string(F83, [44], radix=16)
    h["str8"] = b.to_string(F83, [44], radix=8)
    h["dbl"] = b.to_double(F83, [44, -128, 1])
    h["dbl_wide"] = b.to_double("ap_fixed<200,100>", [-(1 << 150) - 3])
    h["signed_in"] = b.cast("ap_int<16>", "ap_int<8>", [-3, 0xFD])  # same pattern, two spellings
    h["int70"] = b.cast("ap_int<70>", "ap_int<70>", [INT70, INT70 - (1 << 70)])
    for w in ROUNDTRIP_WIDTHS:
        for t in (f"ap_int<{w}>", f"ap_ufixed<{w},{w + 3}>", f"ap_fixed<{w},-2>"):
            h[("rt", t)] = b.cast(t, t, _patterns(w))
    b.run()
    return b, h


@pytest.mark.toolchain
def test_from_double_rounds_and_saturates(ref):
    _, h = ref
    r = h["rnd_sat"]
    assert r.type == TypeInfo(8, 3, True, "fixed", "AP_RND", "AP_SAT", 0)
    assert r.raw == [44, 127, -128, -128, 0]  # 1.37 -> 1.375; 100 and -5 saturate
    assert r.values[0] == 1.375


@pytest.mark.toolchain
def test_from_double_nan_inf_does_not_crash(ref):
    b, h = ref
    assert h["nan"].raw == [127, 127, -128]
    assert h["nan"].errors == [None] * 3
    assert "NaN" in b.stderr  # the header's warning is captured, not printed


@pytest.mark.toolchain
def test_ap_int_from_double_truncates_then_wraps(ref):
    _, h = ref
    assert h["int8_dbl"].raw == [44, -44, 127]  # 300 mod 256; -300 -> -44


@pytest.mark.toolchain
def test_add_result_type(ref):
    _, h = ref
    r = h["add"]
    assert (r.type.width, r.type.int_bits, r.type.signed, r.type.kind) == (9, 4, True, "fixed")
    assert r.raw == [254, -256]


@pytest.mark.toolchain
def test_fixed_times_uint(ref):
    _, h = ref
    r = h["mul_mixed"]
    assert (r.type.width, r.type.int_bits, r.type.signed) == (13, 8, True)
    assert r.raw == [132, -31]


@pytest.mark.toolchain
def test_division_by_zero_fails_only_its_case(ref):
    _, h = ref
    r = h["div0"]
    assert r.raw[0] is None and r.errors[0].startswith("SIGFPE")
    assert r.raw[1] == 3 and r.errors[1] is None
    assert r.ok == [False, True]


@pytest.mark.toolchain
def test_unary_minus_of_uint(ref):
    _, h = ref
    r = h["neg_u4"]
    assert r.type == TypeInfo(5, 5, True, "int")
    assert r.raw == [0, -1, -15]


@pytest.mark.toolchain
def test_shifts(ref):
    _, h = ref
    assert h["shl"].type == TypeInfo(8, 8, True, "int")  # shifts keep the left operand's type
    assert h["shl"].raw == [-6, 0, -2, -1]  # << 8 drops everything; << -k is >> k
    assert h["shr"].raw == [-2, -1]  # >> past the width sign-fills


@pytest.mark.toolchain
def test_compare(ref):
    _, h = ref
    assert h["cmp"].values == [False, True, False]  # 1.375 < 1; 1.375 < 2; -4 < -8


@pytest.mark.toolchain
def test_to_string_formats(ref):
    _, h = ref
    assert h["str10"].values == ["1.375", "-1.375", "0", "3.96875"]
    assert h["str2"].values == ["0b01.01100"]
    assert h["str16"].values == ["0x1.60p0"]
    assert h["str8"].values == ["0o1.30"]


@pytest.mark.toolchain
def test_to_double_exact(ref):
    _, h = ref
    assert h["dbl"].values == [1.375, -4.0, 2.0**-5]
    assert h["dbl_wide"].values == [float(-(2**50))]  # (-(2^150) - 3) * 2^-100, rounded


@pytest.mark.toolchain
def test_signed_or_unsigned_input_raws(ref):
    _, h = ref
    assert h["signed_in"].raw == [-3, -3]


@pytest.mark.toolchain
@pytest.mark.parametrize("w", ROUNDTRIP_WIDTHS)
def test_raw_roundtrip(ref, w):
    _, h = ref
    for t in (f"ap_int<{w}>", f"ap_ufixed<{w},{w + 3}>", f"ap_fixed<{w},-2>"):
        r = h[("rt", t)]
        _, info = parse_type(t)
        assert r.type.width == w
        assert r.raw == [info.from_pattern(p) for p in _patterns(w)], t


@pytest.mark.toolchain
def test_ap_int70_pattern(ref):
    _, h = ref
    r = h["int70"]
    assert r.type == TypeInfo(70, 70, True, "int")
    assert r.raw == [INT70 - (1 << 70)] * 2


@pytest.mark.toolchain
def test_rerun_with_new_values_does_not_recompile(ref):
    b1, _ = ref
    b = CxxBatch()
    b.from_double("ap_fixed<8,3,AP_RND,AP_SAT>", [0.1])
    b.from_double("ap_fixed<8,3,AP_RND,AP_SAT>", [0.2, 0.3])  # same group, more values
    b.run()
    b2 = CxxBatch()
    h = b2.from_double("ap_fixed<8,3,AP_RND,AP_SAT>", [2.0, -0.0625])
    b2.run()
    assert b2.stats["units_compiled"] == 0 and not b2.stats["linked"]
    assert h.raw == [64, -2]


@pytest.mark.toolchain
def test_compile_error_names_the_group(toolchain):
    b = CxxBatch()
    b.binop("%", "ap_fixed<8,3>", "ap_fixed<8,3>", [(1, 1)])  # no operator% for ap_fixed
    with pytest.raises(ToolchainError, match=r"binop\|%\|ap_fixed<8,3>\|ap_fixed<8,3>"):
        b.run()


# ---- no toolchain needed ---------------------------------------------------------------


@pytest.mark.parametrize(
    "spelling, info",
    [
        ("ap_fixed<12,4,AP_RND_CONV,AP_SAT_SYM,0>", TypeInfo(12, 4, True, "fixed", "AP_RND_CONV", "AP_SAT_SYM", 0)),
        ("ap_ufixed< 8 , -2 >", TypeInfo(8, -2, False, "fixed", "AP_TRN", "AP_WRAP", 0)),
        ("ap_int<70>", TypeInfo(70, 70, True, "int")),
        ("ap_uint<1>", TypeInfo(1, 1, False, "int")),
        ("unsigned  int", TypeInfo(32, 32, False, "int", builtin=True)),
    ],
)
def test_parse_type(spelling, info):
    assert parse_type(spelling)[1] == info


@pytest.mark.parametrize("bad", ["ap_fixed<8>", "ap_int<0>", "ap_int<1025>", "ap_fixed<8,3,AP_FOO>", "float"])
def test_parse_type_rejects(bad):
    with pytest.raises(ValueError):
        parse_type(bad)


def test_missing_compiler_raises_toolchain_error(monkeypatch):
    monkeypatch.setenv("CXX", "no-such-compiler-hls-sim")
    b = CxxBatch()
    b.unop("-", "ap_int<4>", [1])
    with pytest.raises(ToolchainError):
        b.run()


def test_missing_headers_raise_toolchain_error(monkeypatch, tmp_path):
    monkeypatch.delenv("XILINX_HLS", raising=False)
    monkeypatch.setenv("HLS_SIM_AP_TYPES", str(tmp_path))
    b = CxxBatch()
    b.unop("-", "ap_int<4>", [1])
    with pytest.raises(ToolchainError):
        b.run()
