"""Issue 13, items 3 and 4: types the headers cannot build are refused at load time, and
conversions the headers leave undefined are reported as warnings."""

from __future__ import annotations

import subprocess

import pytest

from hls_sim.kernels import KernelConfig
from hls_sim.kernels.hls_config import (INT_T, WidthError, _acc_width, _t, compare_width,
                                       undefined_conversions)
from hls_sim.layer import LayerError, load_layer
from hls_sim.runner import run_layer, summary
from hls_sim.types import parse

BASE = """\
kernel: conv1x1
factor: 0.01
weight: {generate: {seed: 1}}
bias: {generate: {seed: 2, low: -100, high: 100}}
input: {generate: {seed: 3}}
"""


def layer_file(tmp_path, types: str):
    p = tmp_path / "layer.yaml"
    p.write_text(BASE + f"types: {{{types}}}\n")
    return p


# ---- item 3: widths ------------------------------------------------------------------------
def test_a_comparison_wider_than_the_headers_is_refused(tmp_path):
    """sum_t ap_fixed<1024,31>: `x < 0` converts the int 0 to ap_fixed<1025,32> (the C++
    stops: "Bitwidth exceeds the default max value 1024"); hls-sim ran it (all zeros)."""
    p = layer_file(tmp_path, "sum_t: 'ap_fixed<1024,31>'")
    with pytest.raises(LayerError) as ei:
        load_layer(p)
    assert str(ei.value) == (f"{p}: types.sum_t: ap_fixed<1024,31>: the relu comparison x < 0 "
                             "(sum_t vs int) needs 1025 bits, more than the headers' 1024")
    load_layer(layer_file(tmp_path, "sum_t: 'ap_fixed<1024,32>'"))  # 1024 bits: fine


def test_x_greater_than_top_is_checked(tmp_path):
    p = layer_file(tmp_path, "sum_t: 'ap_int<1000>', out_t: 'ap_ufixed<8,-16>'")
    with pytest.raises(LayerError) as ei:
        load_layer(p)
    assert "types.sum_t: ap_int<1000>: the relu comparison x > top (sum_t vs out_t) needs 1025 " \
           "bits" in str(ei.value)


def test_plan_refuses_for_every_kind():
    """The check is in Plan (KernelConfig.plan), which every kind's loading goes through."""
    with pytest.raises(WidthError) as ei:
        KernelConfig(acc_t=parse("ap_fixed<1024,1000>")).plan()
    assert ei.value.type_name == "acc_t" and ei.value.width == 1025
    assert "acc_t += acc_t" in str(ei.value)
    with pytest.raises(WidthError, match="the product acc_t \\* factor_t needs 1025 bits"):
        KernelConfig(acc_t=parse("ap_int<993>")).plan()
    KernelConfig(acc_t=parse("ap_int<992>")).plan()


# the same (left, right) pairs run through the real headers below
CASES = [
    ("cmp", "ap_fixed<18,1023>", "int"), ("cmp", "ap_fixed<18,1024>", "int"),
    ("cmp", "ap_fixed<1024,32>", "int"), ("cmp", "ap_fixed<1024,31>", "int"),
    ("cmp", "ap_fixed<18,1023>", "ap_uint<8>"), ("cmp", "ap_fixed<18,1024>", "ap_uint<8>"),
    ("cmp", "ap_int<1000>", "ap_ufixed<8,-15>"), ("cmp", "ap_int<1000>", "ap_ufixed<8,-16>"),
    ("cmp", "ap_int<1024>", "ap_int<1024>"), ("cmp", "ap_ufixed<1024,32>", "int"),
    ("acc", "ap_int<1024>", "ap_int<1024>"), ("acc", "ap_fixed<1023,1000>", "ap_fixed<1023,1000>"),
    ("acc", "ap_fixed<1024,1000>", "ap_fixed<1024,1000>"), ("acc", "ap_int<1024>", "ap_fixed<16,8>"),
]


def _width(op: str, a: str, b: str) -> int:
    ta = _t(parse(a))
    tb = INT_T if b == "int" else _t(parse(b))
    return compare_width(ta, tb) if op == "cmp" else _acc_width(ta, tb)


def test_widths_of_the_cases():
    assert [_width(*c) > 1024 for c in CASES] == [
        False, True, False, True, False, True, False, True, False, False,
        False, False, True, False]


@pytest.mark.toolchain
def test_widths_match_what_the_headers_refuse(toolchain, tmp_path):
    """The headers check widths at run time (report() in the constructors), so each case is
    compiled and run: it stops with "Bitwidth exceeds" exactly when the rule says > 1024."""
    for i, (op, a, b) in enumerate(CASES):
        rhs = "0" if b == "int" else "y"
        expr = f"bool r = x < {rhs}; bool r2 = x > {rhs}; (void)r; (void)r2;" if op == "cmp" \
            else "x += y;"
        src = tmp_path / f"c{i}.cpp"
        src.write_text("#include <ap_int.h>\n#include <ap_fixed.h>\n#include <cstdio>\n"
                       f"int main() {{ {parse(a).cpp()} x = 1; "
                       + (f"{parse(b).cpp()} y = 1; (void)y; " if b != "int" else "")
                       + f"{expr} std::printf(\"ok\\n\"); return 0; }}\n")
        exe = tmp_path / f"c{i}"
        subprocess.run(["g++", "-std=c++14", "-O0", "-w", "-I", str(toolchain), str(src), "-o",
                        str(exe)], check=True, capture_output=True, timeout=300)
        r = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
        refused = "Bitwidth exceeds" in r.stdout + r.stderr
        assert refused == (_width(op, a, b) > 1024), (op, a, b, r.stdout, r.stderr)
        assert refused or r.stdout == "ok\n"


# ---- item 4: undefined conversions ---------------------------------------------------------
def test_a_conversion_from_negative_integer_bits_is_a_warning(tmp_path):
    p = layer_file(tmp_path, "sum_t: 'ap_ufixed<6,-2,AP_TRN,AP_SAT>', out_t: 'ap_uint<10>'")
    ly = load_layer(p)
    assert len(ly.warnings) == 1
    w = ly.warnings[0]
    assert w.startswith("sum_t (ap_ufixed<6,-2,AP_TRN,AP_SAT>, I = -2 < 0) to out_t (ap_uint<10>): "
                        "undefined in the C++")
    text = summary(run_layer(ly, repeat=False))
    assert f"warning   {w}" in text.splitlines()


def test_the_seed_has_no_warning(tmp_path):
    assert load_layer(layer_file(tmp_path, "")).warnings == []
    assert undefined_conversions(KernelConfig().plan()) == []


def test_each_conversion_of_the_datapath_is_checked():
    c = KernelConfig(weight_t=parse("ap_fixed<8,-6>"), in_t=parse("ap_ufixed<8,-6>"),
                     factor_t=parse("ap_fixed<8,-40>"), acc_t=parse("ap_int<32>"),
                     qd_t=parse("ap_int<16>"), bias_t=parse("ap_fixed<8,-30>"),
                     sum_t=parse("ap_int<18>"))
    ws = undefined_conversions(c.plan())
    assert [w.split(" (")[0] for w in ws] == [
        "the adder tree's sum", "the depthwise sum of nine products", "acc_t * factor_t"]
