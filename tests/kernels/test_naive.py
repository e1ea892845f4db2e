"""Sanity tests of the naive oracle of the new kinds (tests/kernels/naive.py) itself.

It must agree with the seed oracle where the kinds overlap (a 1x1 conv2d is conv1x1, a
depthwise 3x3 conv2d is dw_conv3x3), its three accumulate modes must agree wherever acc_t
cannot overflow, and its zero-insertion conv_transpose must equal PyTorch's scatter sums.
"""

from __future__ import annotations

import numpy as np
import pytest

from hls_sim.kernels import KernelConfig
from hls_sim.types import result_type
from tests.kernels import kernel_oracle, naive
from tests.kernels.matrix import CONFIGS, config_of, make_inputs, seed_of


def _p(cin: int, cout: int, h: int, w: int, k: int, s: int = 1, pad: int = 0, d: int = 1,
       g: int = 1, op: int | None = None) -> dict:
    p = dict(in_channels=cin, height=h, width=w, out_channels=cout, kernel_size=k, stride=s,
             padding=pad, dilation=d, groups=g)
    if op is not None:
        p["output_padding"] = op
    return p


def _seed_compare(kernel: str, name: str, modes: tuple[str, ...], h: int = 4, w: int = 5) -> None:
    """conv2d as the seed kernel on an h x w corner of the seed's random data."""
    fields, scale = CONFIGS[name]
    c = config_of(fields)
    inp = make_inputs(kernel, c, scale, seed=seed_of("naive", kernel, name))
    if kernel == "conv1x1":
        x, wt, p = inp["bottom"][:, :h, :w], inp["weight"][:, :, None, None], _p(16, 16, h, w, 1)
        at = (0, 0)  # conv2d output (i, j) is the seed's top[0 + i][0 + j]
    else:
        # the seed reads bottom[h-1..h+1]: a zero ring around the data is conv2d's padding
        x, wt = inp["bottom"][:, 1:1 + h, 1:1 + w].copy(), inp["weight"][:, None]
        p = _p(16, 16, h, w, 3, pad=1, g=16)
        inp["bottom"] = np.zeros_like(inp["bottom"])
        inp["bottom"][:, 1:1 + h, 1:1 + w] = x
        at = (1, 1)
    want = np.empty((16, h, w), dtype=object)
    for (co, i, j), _ in np.ndenumerate(want):
        want[co, i, j] = kernel_oracle.output(kernel, c, inp, co, at[0] + i, at[1] + j)
    for mode in modes:
        got = naive.conv2d_layer(p, c, x, wt, inp["bias"], inp["factor"], mode)
        assert np.array_equal(got, want), (name, mode)


@pytest.mark.parametrize("name", list(CONFIGS))
def test_conv2d_k1_equals_seed_conv1x1(name):
    # one block and one tap: group's acc_t(0 + acc_t(E)) is the seed's acc_t(E), for any types
    _seed_compare("conv1x1", name, ("group", "exact"))


def test_conv2d_k1_every_mode_equals_seed_conv1x1_default_types():
    _seed_compare("conv1x1", "seed-default", naive.ACCUMULATE, h=8, w=9)


def test_depthwise_equals_seed_dw_conv3x3_default_types():
    _seed_compare("dw_conv3x3", "seed-default", naive.ACCUMULATE, h=8, w=9)


@pytest.mark.parametrize("name", list(CONFIGS))
def test_depthwise_exact_mode_equals_seed_dw_conv3x3(name):
    # the seed converts the exact sum of nine products once, as the exact mode does
    _seed_compare("dw_conv3x3", name, ("exact",))


# a wide accumulator: no mode can overflow or round, so all three give the exact sums
WIDE = {"int": {"acc_t": "ap_int<40>", "qd_t": "ap_fixed<16,16,AP_RND,AP_SAT>"},
        "fractional": {"in_t": "ap_ufixed<8,4>", "weight_t": "ap_fixed<8,2>",
                       "acc_t": "ap_fixed<44,28,AP_RND,AP_SAT>", "factor_t": "ap_ufixed<16,4>",
                       "qd_t": "ap_fixed<20,10,AP_RND_CONV,AP_SAT>",
                       "sum_t": "ap_fixed<22,12,AP_TRN,AP_WRAP>", "bias_t": "ap_fixed<12,6>",
                       "out_t": "ap_ufixed<8,4,AP_RND,AP_SAT>", "per_channel_factor": True}}
WIDE_CASES = [
    pytest.param("conv2d", _p(24, 8, 5, 7, 3, pad=1), "int", id="conv-24to8-k3p1-2blocks-int"),
    pytest.param("conv2d", _p(40, 4, 5, 7, 3, s=2, pad=2, d=2), "fractional", id="conv-40to4-k3s2p2d2-3blocks-frac"),
    pytest.param("conv2d", _p(16, 4, 5, 7, 5, pad=2, g=2), "int", id="conv-16to4-k5p2g2-int"),
    pytest.param("conv2d", _p(8, 8, 8, 9, 3, s=2, pad=1, g=8), "fractional", id="conv-8to8-k3s2p1-dw-frac"),
    pytest.param("conv_transpose", _p(8, 8, 4, 5, 3, s=2, pad=1, op=1), "int", id="deconv-8to8-k3s2p1op1-int"),
    pytest.param("conv_transpose", _p(20, 4, 3, 4, 2, s=3, op=2), "fractional", id="deconv-20to4-k2s3op2-frac"),
    pytest.param("conv_transpose", _p(8, 8, 4, 5, 3, pad=1, d=2, op=1), "int", id="deconv-8to8-k3p1d2op1-int"),
    pytest.param("conv_transpose", _p(16, 8, 3, 4, 4, s=2, pad=1, g=4), "fractional", id="deconv-16to8-k4s2p1g4-frac"),
    pytest.param("conv_transpose", _p(4, 4, 4, 5, 3, s=2, pad=2), "int", id="deconv-4to4-k3s2p2-Q0-int"),
]


def _layer_inputs(kind: str, p: dict, c: KernelConfig, seed: int):
    """Random raws of the configured types: input, weight, bias and factor."""
    rng = np.random.default_rng(seed)
    k, g = p["kernel_size"], p["groups"]
    wshape = ((p["out_channels"], p["in_channels"] // g, k, k) if kind == "conv2d"
              else (p["in_channels"], p["out_channels"] // g, k, k))

    def draw(t, shape):
        return rng.integers(t.min_raw, t.max_raw + 1, size=shape, dtype=np.int64)

    x = draw(c.in_t, (p["in_channels"], p["height"], p["width"]))
    n_f = p["out_channels"] if c.per_channel_factor else 1
    f_t = c.factor_t
    factor = rng.integers(1, max(2, f_t.max_raw >> 12), size=n_f, dtype=np.int64)
    return (x, draw(c.weight_t, wshape), draw(c.bias_t, (p["out_channels"],)) // 8,
            factor if c.per_channel_factor else factor.reshape(()))


@pytest.mark.parametrize("kind, p, types", WIDE_CASES)
def test_modes_agree_with_a_wide_accumulator_and_equal_the_exact_sums(kind, p, types):
    c = config_of(WIDE[types])
    x, w, bias, factor = _layer_inputs(kind, p, c, seed_of("wide", kind, str(sorted(p.items())), types))
    sums = (naive.conv2d_sums if kind == "conv2d" else naive.conv_transpose_sums)(p, x, w)
    prod_t = result_type("*", c.weight_t, c.in_t)
    sums_t = naive.wide_type(prod_t, p["in_channels"] * p["kernel_size"] ** 2)
    acc = np.vectorize(lambda v: naive.cast(v, sums_t, c.acc_t), otypes=[object])(sums)
    assert np.array_equal(np.vectorize(lambda v: naive.cast(v, c.acc_t, sums_t), otypes=[object])(acc), sums), \
        "acc_t is not wide enough for this test"
    layer_acc = naive.conv2d_acc if kind == "conv2d" else naive.conv_transpose_acc
    for mode in naive.ACCUMULATE:
        assert np.array_equal(layer_acc(p, c, x, w, mode), acc), mode
    layer = naive.conv2d_layer if kind == "conv2d" else naive.conv_transpose_layer
    for activation in naive.ACTIVATIONS:
        assert np.array_equal(layer(p, c, x, w, bias, factor, "exact", activation),
                              naive.finish(c, acc, factor, bias, activation)), activation


def test_modes_round_differently_where_acc_t_saturates():
    """A hand-worked output: acc_t = ap_fixed<4,4,AP_TRN,AP_SAT> ([-8, 7]), two channels,
    taps (0,0) (0,1) (1,0) (1,1) with products (6, 6) (6, -6) (-3, -3) (0, 0), weights 1.

    exact: 6; group: sat(12) = 7, 7 + 0, 7 - 6 = 1, 1; tap: 6, sat(12) = 7, sat(13) = 7, 1,
    -2, -5, -5, -5.
    """
    c = config_of({"in_t": "ap_int<8>", "acc_t": "ap_fixed<4,4,AP_TRN,AP_SAT>"})
    x = np.array([[[6, 6], [-3, 0]], [[6, -6], [-3, 0]]])
    w = np.ones((1, 2, 2, 2), dtype=np.int64)
    p = _p(2, 1, 2, 2, 2)
    assert naive.conv2d_sums(p, x, w)[0, 0, 0] == 6
    got = {m: naive.conv2d_acc(p, c, x, w, m)[0, 0, 0] for m in naive.ACCUMULATE}
    assert got == {"exact": 6, "group": 1, "tap": -5}


def test_modes_differ_on_random_data_with_a_narrow_accumulator():
    """The modes are distinguishable at all: with acc_t ap_fixed<14,14,AP_TRN,AP_SAT> they
    give different outputs somewhere (else the wide-accumulator test proves little)."""
    c = config_of({"acc_t": "ap_fixed<14,14,AP_TRN,AP_SAT>"})
    p = _p(24, 2, 4, 5, 3, pad=1)
    x, w, _, _ = _layer_inputs("conv2d", p, c, seed=7)
    acc = {m: naive.conv2d_acc(p, c, x, w, m) for m in naive.ACCUMULATE}
    assert not np.array_equal(acc["exact"], acc["group"])
    assert not np.array_equal(acc["group"], acc["tap"])


@pytest.mark.parametrize("kind, p, msg", [
    pytest.param("conv_transpose", _p(2, 2, 3, 3, 3, pad=3, op=0), "padding", id="deconv-negative-Q"),
    pytest.param("conv_transpose", _p(2, 2, 3, 3, 3, s=2, op=2), "output_padding", id="deconv-op-too-large"),
    pytest.param("conv2d", _p(4, 6, 3, 3, 1, g=4), "groups", id="conv-groups-not-dividing"),
    pytest.param("conv2d", _p(2, 2, 3, 3, 5), "no output", id="conv-empty-output"),
])
def test_parameter_rules(kind, p, msg):
    k, g = p["kernel_size"], p["groups"]
    wshape = ((p["out_channels"], p["in_channels"] // g, k, k) if kind == "conv2d"
              else (p["in_channels"], p["out_channels"] // g, k, k))
    sums = naive.conv2d_sums if kind == "conv2d" else naive.conv_transpose_sums
    with pytest.raises(ValueError, match=msg):
        sums(p, np.zeros((p["in_channels"], p["height"], p["width"]), np.int64), np.zeros(wshape, np.int64))
