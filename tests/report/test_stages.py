"""The stage model: it reproduces the kernel, its parts add up to the error, and the widths
it reports are the narrowest ones."""

from __future__ import annotations

import numpy as np
import pytest

from hls_sim.kernels import KINDS, KernelConfig
from hls_sim.layer import load_layer
from hls_sim.reference import reference
from hls_sim.report.build import make_context
from hls_sim.report.stages import STAGES, StageModel, extremes, resized, rounding_variant, truncates, wraps
from hls_sim.types import APArray, parse
from tests.report.conftest import BAD, SEED, WEIGHTS

LAYERS = [WEIGHTS / "conv1x1.yaml", WEIGHTS / "dw_conv3x3.yaml", WEIGHTS / "generated_per_channel.yaml"]


@pytest.mark.parametrize("path", LAYERS, ids=lambda p: p.name)
def test_model_reproduces_the_kernel_and_the_parts_add_up(path):
    ly = load_layer(path)
    ctx = make_context(ly)
    assert np.array_equal(ctx.chain[-1].out, ctx.kernel_out)
    parts = sum(ctx.chain[i + 1].out - ctx.chain[i].out for i in range(len(STAGES)))
    np.testing.assert_allclose(parts, ctx.err, atol=1e-9)
    # with every stage exact it is the float reference (exact for the seed's widths)
    ref = reference(ly.spec, ly.geometry, ly.config, ly.input, ly.weight, ly.bias, ly.factor)
    np.testing.assert_array_equal(ctx.ideal, ref)


@pytest.mark.parametrize("name", sorted(BAD))
def test_model_reproduces_bad_configurations(name, layer_dir):
    ctx = make_context(load_layer(layer_dir / f"{name}.yaml"))
    assert np.array_equal(ctx.chain[-1].out, ctx.kernel_out)
    ev = ctx.chain[-1]
    for s, counter in (("acc", "acc_overflow"), ("qd", "qd_overflow"), ("sum", "sum_overflow"),
                       ("out", "out_overflow")):
        assert int(ev.overflowed(s).sum()) == ctx.result.counters[counter], (name, s)
    assert int(ev.rounded("qd").sum()) == ctx.result.counters["qd_rounded"]


def test_narrowest_identical_is_the_narrowest(seed_report):
    ly = load_layer(WEIGHTS / "conv1x1.yaml")
    ctx = make_context(ly)
    rows = {r["stage"]: r for r in seed_report.data["datapath"]["stages"]}
    for s, name in (("acc", "acc_t"), ("qd", "qd_t"), ("sum", "sum_t")):
        t = parse(rows[s]["needs"]["identical_outputs"])
        assert np.array_equal(ctx.model.evaluate({name: t}).out, ctx.kernel_out)
        narrower = resized(t, t.int_bits - 1)
        assert not np.array_equal(ctx.model.evaluate({name: narrower}).out, ctx.kernel_out)
    # the seed data's sums span -22261 .. 27153: 16 bits without overflow, and the acc never
    # needs more than 18 bits for any input with these weights (20 for any weights)
    assert rows["acc"]["value_range"] == [-22261.0, 27153.0]
    assert rows["acc"]["needs"] == {"on_data": "ap_int<16>", "any_input": "ap_int<18>",
                                    "any_weights": "ap_int<20>", "identical_outputs": "ap_int<16>"}


def test_no_overflow_type_by_hand():
    m = StageModel.__new__(StageModel)  # only the width helpers
    v = APArray.from_raw(parse("ap_int<20>"), np.array([-5, 9]))
    assert str(m.no_overflow_type(v, parse("ap_int<32>"))) == "ap_int<5>"  # -16..15
    v = APArray.from_raw(parse("ap_int<20>"), np.array([-17, 3]))
    assert str(m.no_overflow_type(v, parse("ap_int<32>"))) == "ap_int<6>"
    # 7.75 rounds up to 8 in ap_fixed<W,I,AP_RND,AP_SAT> with no fraction bits: needs 5 integer bits
    v = APArray.from_raw(parse("ap_fixed<12,6>"), np.array([7 * 64 + 48]))  # 7.75
    assert str(m.no_overflow_type(v, parse("ap_fixed<16,16,AP_RND,AP_SAT>"))) == "ap_fixed<5,5,AP_RND,AP_SAT>"
    assert str(m.no_overflow_type(v, parse("ap_fixed<16,16,AP_TRN,AP_SAT>"))) == "ap_fixed<4,4,AP_TRN,AP_SAT>"


def test_extremes_by_hand():
    c = KernelConfig()
    w = np.zeros((16, 16), dtype=np.int64)
    w[0, :3] = [2, -3, 5]
    e = extremes(KINDS["conv1x1"], KINDS["conv1x1"].geometry(), c, w)
    assert e.shape == (16, 1, 2)
    assert list(e[0, 0]) == [-3 * 255, 7 * 255] and list(e[1, 0]) == [0, 0]
    any_w = extremes(KINDS["dw_conv3x3"], KINDS["dw_conv3x3"].geometry(), c, None)
    assert list(any_w[5, 0]) == [9 * -128 * 255, 9 * 127 * 255]


def test_mode_helpers():
    assert wraps(parse("ap_int<8>")) and wraps(parse("ap_fixed<8,8>"))
    assert not wraps(parse("ap_fixed<8,8,AP_TRN,AP_SAT>"))
    assert wraps(parse("ap_fixed<8,8,AP_TRN,AP_WRAP_SM>")) and not wraps(parse("ap_ufixed<8,8,AP_TRN,AP_SAT_ZERO>"))
    wide = parse("ap_fixed<64,33>")
    assert truncates(parse("ap_fixed<16,16,AP_TRN,AP_SAT>"), wide)
    assert truncates(parse("ap_int<16>"), wide)
    assert not truncates(parse("ap_fixed<16,16,AP_RND,AP_SAT>"), wide)
    assert not truncates(parse("ap_fixed<16,16>"), parse("ap_int<8>"))  # nothing to drop
    assert str(rounding_variant(parse("ap_fixed<16,16,AP_TRN,AP_SAT>"))) == "ap_fixed<16,16,AP_RND,AP_SAT>"
    assert str(rounding_variant(parse("ap_int<16>"))) == "ap_fixed<16,16,AP_RND>"
    assert resized(parse("ap_int<8>"), 0) is None
    assert str(resized(parse("ap_fixed<10,4,AP_RND,AP_SAT,2>"), 3, 2)) == "ap_fixed<5,3,AP_RND,AP_SAT,2>"


ENGINE_TYPES = "types: {product_t: 'ap_fixed<12,16,AP_RND,AP_SAT>', tree_t: 'ap_fixed<10,14,AP_TRN,AP_SAT>'}\n"


@pytest.mark.parametrize("base", ["conv1x1", "conv2d"])
def test_model_reproduces_compute_engine_types(base, tmp_path):
    """product_t / tree_t: the model's acc stage runs each engine call through them, and
    reproduces the kernel bit for bit; the engine's losses are part of the acc stage."""
    text = (SEED + "factor: 0.0115\n") if base == "conv1x1" else (WEIGHTS / "conv2d.yaml").read_text()
    (tmp_path / "l.yaml").write_text(text + ENGINE_TYPES)
    ly = load_layer(tmp_path / "l.yaml")
    assert ly.config.engine_typed
    ctx = make_context(ly)
    assert ctx.result.counters["engine_overflow"] > 0
    assert np.array_equal(ctx.chain[-1].out, ctx.kernel_out)
    assert not np.array_equal(ctx.chain[1].out, ctx.chain[0].out)  # the acc stage loses
    parts = sum(ctx.chain[i + 1].out - ctx.chain[i].out for i in range(len(STAGES)))
    np.testing.assert_allclose(parts, ctx.err, atol=1e-9)
