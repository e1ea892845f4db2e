"""hls_sim.quantize and ``hls-sim quantize``: symmetric scales, the layer file it writes, errors."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from hls_sim.cli import main
from hls_sim.kernels import KernelConfig
from hls_sim.layer import load_layer
from hls_sim.quantize import (LAYER_FILES, QuantizeError, float_layer, float_sums, padded_inputs,
                              quantize_layer, write_layer)
from tests.report.conftest import float_layer_data


def test_float_model_by_hand():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(16, 34, 66))
    w1, w3 = rng.normal(size=(16, 16)), rng.normal(size=(16, 3, 3))
    s1, s3 = float_sums("conv1x1", x, w1), float_sums("dw_conv3x3", x, w3)
    for c, h, w in [(0, 0, 0), (5, 31, 63), (15, 7, 40)]:
        assert s1[c, h, w] == pytest.approx(sum(w1[c, k] * x[k, h, w] for k in range(16)))
        # dw writes top[c][h+1][w+1] from bottom[c][h..h+2][w..w+2]
        assert s3[c, h, w] == pytest.approx(sum(w3[c, i, j] * x[c, h + i, w + j] for i in range(3) for j in range(3)))
    b = rng.normal(size=16)
    y = float_layer("conv1x1", w1, b, x)
    np.testing.assert_allclose(y, np.maximum(s1 + b[:, None, None], 0))
    assert float_sums("conv1x1", np.stack([x, 2 * x]), w1).shape == (2, 16, 32, 64)


@pytest.mark.parametrize("per_channel", [False, True])
def test_symmetric_scales(per_channel):
    d = float_layer_data()
    q = quantize_layer(d["weight"], d["bias"], d["calibration"], per_channel=per_channel, sample=1)
    c = q.config
    assert c.per_channel_factor == per_channel and q.kernel == "conv1x1"
    peaks = np.abs(q.weight).max(axis=1)
    if per_channel:
        assert (peaks == 127).all()
        np.testing.assert_allclose(q.weight_scale, np.abs(d["weight"]).max(axis=1) / 127)
    else:
        assert peaks.max() == 127 and np.ptp(q.weight_scale) == 0
    np.testing.assert_array_equal(q.weight, np.rint(d["weight"] / q.weight_scale[:, None]))
    x = padded_inputs(d["calibration"])
    assert q.input_scale == pytest.approx(x.max() / 255)
    y = float_layer("conv1x1", d["weight"], d["bias"], x)
    assert q.output_scale == pytest.approx(y.max() / 255)
    want = q.weight_scale * q.input_scale / q.output_scale
    got = q.factor.reshape(-1) * 2.0 ** -31
    np.testing.assert_allclose(got, want if per_channel else want[:1], atol=2.0 ** -32)
    np.testing.assert_array_equal(q.bias, np.rint(d["bias"] / q.output_scale))
    np.testing.assert_array_equal(q.input, np.clip(np.rint(x[1] / q.input_scale), 0, 255))
    np.testing.assert_array_equal(q.float_input, x[1])


def test_written_layer_loads_and_runs(tmp_path):
    d = float_layer_data()
    q = quantize_layer(d["weight"], d["bias"], d["calibration"], per_channel=True)
    written = write_layer(q, tmp_path, name="fl-1", source="w.npy: x")
    assert [p.name for p in written] == list(LAYER_FILES)
    ly = load_layer(tmp_path / "layer.yaml")
    assert ly.name == "fl-1" and ly.config == q.config
    np.testing.assert_array_equal(ly.weight, q.weight)
    np.testing.assert_array_equal(ly.factor, q.factor)
    fm = ly.float_model
    assert fm.input_scale == q.input_scale and fm.output_scale == q.output_scale
    np.testing.assert_array_equal(fm.weight, d["weight"])
    assert ly.run().counters["acc_overflow"] == 0
    with pytest.raises(QuantizeError, match="already exists"):
        write_layer(q, tmp_path)


def test_tiles_and_dw(tmp_path):
    rng = np.random.default_rng(1)
    w = rng.normal(0, 0.3, (16, 3, 3))
    x = np.abs(rng.normal(size=(2, 16, 32, 64)))
    q = quantize_layer(w, None, x)
    assert q.kernel == "dw_conv3x3" and q.input.shape == (16, 34, 66) and not q.notes
    assert (q.input[:, 0, :] == 0).all() and not q.bias.any()
    q1 = quantize_layer(rng.normal(size=(16, 16)), None, x)
    assert any("zero halo" in n for n in q1.notes)  # conv1x1 and tiles: the seed's asymmetry


@pytest.mark.parametrize("args,message", [
    (dict(weight=np.zeros((16, 8))), "weight: shape [16][8]; expected"),
    (dict(weight=np.zeros((16, 16))), "every weight is 0"),
    (dict(weight=np.full((16, 16), np.nan)), "NaN or infinite"),
    (dict(bias=np.zeros(3)), "bias: shape [3]"),
    (dict(calibration=np.zeros((2, 16, 10, 10))), "calibration: shape [2][16][10][10]"),
    (dict(calibration=-np.ones((16, 34, 66))), "every input value is 0"),
    (dict(sample=5), "sample: 5 is not one of the 1 calibration inputs"),
    (dict(percentile=0), "percentile"),
    (dict(kernel="dw_conv3x3"), "dw_conv3x3 needs [16][3][3]"),
])
def test_errors(args, message):
    rng = np.random.default_rng(0)
    base = dict(weight=rng.normal(size=(16, 16)), bias=None, calibration=np.abs(rng.normal(size=(16, 34, 66))))
    base.update(args)
    w, b, x = base.pop("weight"), base.pop("bias"), base.pop("calibration")
    with pytest.raises(QuantizeError) as ei:
        quantize_layer(w, b, x, **base)
    assert message in str(ei.value) and "\n" not in str(ei.value)


def test_factor_out_of_range():
    """A weight on an input that is always 0 sets the weight scale but no output: factor > 1."""
    rng = np.random.default_rng(0)
    x = np.abs(rng.normal(size=(16, 34, 66)))
    x[0] = 0
    w = rng.normal(0, 0.01, (16, 16))
    w[:, 0] = 1000.0
    with pytest.raises(QuantizeError, match=r"factor: .* exceeds ap_fixed<32,1>'s largest value"):
        quantize_layer(w, None, x)
    wide = KernelConfig(factor_t="ap_fixed<32,12>")
    assert quantize_layer(w, None, x, config=wide).factor.reshape(-1)[0] * 2.0 ** -20 > 1


# ---- the command -----------------------------------------------------------------------------------
@pytest.fixture
def npy(tmp_path):
    d = float_layer_data()
    for k in ("weight", "bias", "calibration"):
        np.save(tmp_path / f"{k}.npy", d[k])
    return tmp_path


def cli(*args: str):
    return CliRunner().invoke(main, list(args))


def test_quantize_then_report(npy):
    out = npy / "layer"
    r = cli("quantize", str(npy / "weight.npy"), "-c", str(npy / "calibration.npy"), "-b", str(npy / "bias.npy"),
            "--per-channel", "-o", str(out), "--name", "demo", "-t", "out_t=ap_uint<8>")
    assert r.exit_code == 0, r.output
    assert "weights per output channel" in r.stdout and f"hls-sim report {out / 'layer.yaml'}" in r.stdout
    r = cli("report", str(out / "layer.yaml"))
    assert r.exit_code == 0, r.output
    assert "QUANTIZATION ERROR: kernel - float model (float input" in r.stdout
    assert "FROM FLOAT TO KERNEL" in r.stdout and "weights" in r.stdout


@pytest.mark.parametrize("extra,fragments", [
    (["--percentile", "abc"], ["--percentile: 'abc' is not a number"]),
    (["--sample", "-1"], ["--sample: '-1' is not an index"]),
    (["--sample", "\u00b2"], ["--sample: '\u00b2' is not an index"]),  # '²'.isdigit() is True
    (["--sample", "\u0663"], ["--sample: '\u0663' is not an index"]),  # an Arabic-Indic 3
    (["-t", "out_t=ap_ufixed<8,1100>"], ["1100 bits, more than the headers' 1024"]),
    (["-t", "acc=ap_int<8>"], ["expected NAME=TYPE with NAME one of"]),
    (["-t", "acc_t=ap_int<0>"], ["--type: acc_t: 'ap_int<0>': width must be 1..1024"]),
    (["--kernel", "conv2d"], ["kernel: expected one of conv1x1, dw_conv3x3"]),
    (["--name", "a b"], ["name: 'a b'"]),
])
def test_bad_options_give_one_line(npy, extra, fragments):
    r = cli("quantize", str(npy / "weight.npy"), "-c", str(npy / "calibration.npy"), "-o", str(npy / "o"), *extra)
    assert r.exit_code == 2, r.output
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("hls-sim: error: "), r.stderr
    for f in fragments:
        assert f in r.stderr, r.stderr
    assert not (npy / "o").exists()


def test_bad_files_name_the_file(npy):
    np.save(npy / "bad.npy", np.zeros((16, 5)))
    r = cli("quantize", str(npy / "bad.npy"), "-c", str(npy / "calibration.npy"), "-o", str(npy / "o"))
    assert r.exit_code == 2 and r.stderr.startswith(f"hls-sim: error: {npy / 'bad.npy'}: weight: shape [16][5]")
    r = cli("quantize", str(npy / "none.npy"), "-c", str(npy / "calibration.npy"), "-o", str(npy / "o"))
    assert r.exit_code == 2 and f"{npy / 'none.npy'}: weight: file not found" in r.stderr
    (npy / "o").mkdir()
    (npy / "o" / "layer.yaml").write_text("mine")
    r = cli("quantize", str(npy / "weight.npy"), "-c", str(npy / "calibration.npy"), "-o", str(npy / "o"))
    assert r.exit_code == 2 and "already exists" in r.stderr and r.stderr.count("\n") == 1
    assert (npy / "o" / "layer.yaml").read_text() == "mine"


def test_a_file_that_is_not_npy_is_named_as_such(npy):
    """Not numpy's "Cannot load file containing pickled data when allow_pickle=False"."""
    (npy / "w.npy").write_bytes(b"0.1,0.2,0.3\n")
    r = cli("quantize", str(npy / "w.npy"), "-c", str(npy / "calibration.npy"), "-o", str(npy / "o"))
    assert r.exit_code == 2, r.output
    assert r.stderr == (f"hls-sim: error: {npy / 'w.npy'}: weight: cannot read: not a valid .npy file "
                        "(it does not start with the .npy signature)\n")
    assert "pickle" not in r.stderr


def test_the_suggested_command_is_shell_quoted(npy, monkeypatch):
    """``next hls-sim report DIR/layer.yaml`` pasted into a shell runs no substitution (item 11)."""
    import shlex
    import subprocess

    monkeypatch.chdir(npy)
    out = npy / "q $(touch P7)"
    r = cli("quantize", str(npy / "weight.npy"), "-c", str(npy / "calibration.npy"), "-o", str(out))
    assert r.exit_code == 0, r.output
    (line,) = [ln for ln in r.stdout.splitlines() if ln.startswith("next      ")]
    command = line[len("next      "):]
    assert shlex.split(command) == ["hls-sim", "report", str(out / "layer.yaml")]
    # pasted into a shell (echo standing in for hls-sim): one argument, nothing run
    echoed = subprocess.run(["sh", "-c", "echo " + command.split(" ", 2)[2]], capture_output=True,
                            text=True, cwd=npy).stdout
    assert echoed == f"{out / 'layer.yaml'}\n"
    assert not list(npy.rglob("P7"))
