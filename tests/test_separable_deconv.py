"""Seed 004's depthwise-separable deconvolution (weights/separable_deconv.py): the seed kernels
on zero-inserted data equal conv_transpose followed by a 1x1 conv2d, bit for bit."""

from __future__ import annotations

import importlib.util

import numpy as np

from hls_sim.kernels import get_kind
from tests.report.conftest import WEIGHTS

spec = importlib.util.spec_from_file_location("separable_deconv", WEIGHTS / "separable_deconv.py")
example = importlib.util.module_from_spec(spec)
spec.loader.exec_module(example)


def test_accumulators_equal_the_transposed_convolution():
    d = example.data()
    up = example.seed_chain(d)["upsampled"]
    dw, ct = get_kind("dw_conv3x3"), get_kind("conv_transpose")
    seed_sums = dw.sums(dw.geometry(), up, np.ascontiguousarray(d["w_dw"][:, 0, ::-1, ::-1]))
    g = ct.geometry({"in_channels": 16, "height": 16, "width": 32, "kernel_size": 3, "stride": 2,
                     "padding": 1, "output_padding": 1, "groups": 16})
    assert g.shape("top") == (16, 32, 64)
    np.testing.assert_array_equal(seed_sums, ct.sums(g, d["x"], d["w_dw"]))
    assert np.count_nonzero(seed_sums) > 0.9 * seed_sums.size


def test_the_whole_chain_equals_conv_transpose_then_conv1x1():
    d = example.data()
    seed, whole = example.seed_chain(d), example.whole_map_chain(d)
    for k in ("depthwise", "output"):
        np.testing.assert_array_equal(seed[k], whole[k])
    assert seed["output"].max() > 100 and np.unique(seed["output"]).size > 50  # not a trivial map


def test_nearest_upsampling_is_a_different_layer():
    d = example.data()
    near = example.seed_chain(d, "nearest")
    assert not np.array_equal(near["output"], example.seed_chain(d, "zeros")["output"])
    np.testing.assert_array_equal(near["upsampled"][:, 1:33, 1:65],
                                  d["x"].repeat(2, axis=1).repeat(2, axis=2))
