"""The layer file's float: block (hls_sim.layer): values, defaults, one-line errors."""

from __future__ import annotations

import numpy as np
import pytest

from hls_sim.layer import LayerError, load_layer

BASE = """\
kernel: conv1x1
factor: 0.01
weight: {generate: {seed: 1}}
bias: {generate: {seed: 2, low: -100, high: 100}}
input: {generate: {seed: 3}}
"""
FLOAT = "float: {weight: {file: wf.npy}, output_scale: 0.05, input_scale: 0.02}\n"


@pytest.fixture
def d(tmp_path):
    rng = np.random.default_rng(0)
    np.save(tmp_path / "wf.npy", rng.normal(size=(16, 16)))
    np.save(tmp_path / "bf.npy", rng.normal(size=16))
    np.save(tmp_path / "xf.npy", np.abs(rng.normal(size=(16, 32, 64))) * 3)
    np.save(tmp_path / "nan.npy", np.full((16, 16), np.nan))
    np.save(tmp_path / "text.npy", np.array(["a"] * 16))
    return tmp_path


def load(d, text):
    (d / "l.yaml").write_text(text)
    return load_layer(d / "l.yaml")


def test_float_block(d):
    ly = load(d, BASE + FLOAT)
    fm = ly.float_model
    assert fm.weight.dtype == np.float64 and fm.weight.shape == (16, 16)
    assert fm.bias is None and fm.input is None
    assert (fm.input_scale, fm.output_scale) == (0.02, 0.05)
    assert "float" in ly.given
    assert load(d, BASE).float_model is None


def test_input_from_the_float_input(d):
    text = BASE.replace("input: {generate: {seed: 3}}\n", "") + (
        "float: {weight: {file: wf.npy}, bias: {file: bf.npy}, input: {file: xf.npy}, input_scale: 0.02,"
        " output_scale: 1e-2}\n")
    ly = load(d, text)
    x = np.load(d / "xf.npy")
    want = np.clip(np.rint(x / 0.02), 0, 255)  # rounded to nearest (ties to even), saturated
    np.testing.assert_array_equal(ly.input[:, 1:33, 1:65], want)
    assert not ly.input[:, 0].any() and ly.float_model.input.shape == (16, 34, 66)
    assert "quantized from float.input" in ly.sources["input"] and "saturated" in ly.sources["input"]
    assert ly.float_model.output_scale == 0.01


@pytest.mark.parametrize("text,fld,reason", [
    (BASE + "float: 3\n", "float", "expected a mapping"),
    (BASE + "float: {weight: {file: wf.npy}}\n", "float.output_scale", "missing"),
    (BASE + "float: {output_scale: 1, input_scale: 1}\n", "float.weight", "missing"),
    (BASE + "float: {weight: {file: wf.npy}, output_scale: 1}\n", "float.input_scale", "missing"),
    (BASE + "float: {weight: {file: wf.npy}, output_scale: -1, input_scale: 1}\n", "float.output_scale",
     "positive finite number"),
    (BASE + "float: {weight: {file: wf.npy}, output_scale: .inf, input_scale: 1}\n", "float.output_scale",
     "positive finite number"),
    (BASE + "float: {weight: {file: wf.npy}, output_scale: x, input_scale: 1}\n", "float.output_scale",
     "expected a positive number"),
    (BASE + "float: {weight: {file: bf.npy}, output_scale: 1, input_scale: 1}\n", "float.weight",
     "has shape [16]; expected [16][16]"),
    (BASE + "float: {weight: {file: nan.npy}, output_scale: 1, input_scale: 1}\n", "float.weight",
     "256 value(s) are NaN or infinite (first at index [0, 0])"),
    (BASE + "float: {weight: {file: wf.npy}, bias: {file: text.npy}, output_scale: 1, input_scale: 1}\n",
     "float.bias", "expected real numbers"),
    (BASE + "float: {weight: {file: no.npy}, output_scale: 1, input_scale: 1}\n", "float.weight",
     "file 'no.npy' not found"),
    (BASE + "float: {wieght: {file: wf.npy}}\n", "float.wieght", "did you mean 'weight'?"),
    (BASE + "float: {weight: {generate: {seed: 1}}, output_scale: 1, input_scale: 1}\n", "float.weight.generate",
     "unknown key"),
    (BASE.replace("input: {generate: {seed: 3}}\n", "") + "float: {weight: {file: wf.npy}, input: {file: xf.npy},"
     " output_scale: 1}\n", "input", "missing"),
])
def test_errors_are_one_line(d, text, fld, reason):
    with pytest.raises(LayerError) as ei:
        load(d, text)
    msg = str(ei.value)
    assert msg.startswith(f"{d / 'l.yaml'}: {fld}: "), msg
    assert reason in msg and "\n" not in msg


def test_a_linear_layers_float_input_may_be_a_vector(tmp_path):
    """A linear layer's float.input may be [C] (as its integer input may): held as [C][1][1]."""
    from hls_sim.layer import parse_layer

    rng = np.random.default_rng(3)
    np.save(tmp_path / "fx.npy", rng.normal(size=20))
    np.save(tmp_path / "fw.npy", rng.normal(size=(4, 20)))
    ly = parse_layer({"kernel": "linear", "in_features": 20, "out_features": 4, "factor": 0.01,
                      "input": {"generate": {"seed": 1}}, "weight": {"generate": {"seed": 2}},
                      "bias": {"generate": {"seed": 3}},
                      "float": {"weight": {"file": "fw.npy"}, "input": {"file": "fx.npy"},
                                "output_scale": 0.1}}, "<t>", tmp_path)
    assert ly.float_model.input.shape == (20, 1, 1)
    assert np.array_equal(ly.float_model.input.ravel(), np.load(tmp_path / "fx.npy"))
