"""The network report (hls_sim.report.network): the float network against a plain float
computation written here, own vs accumulated errors, the worst layer, advice tried on the
network, scales through movers, errors and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from hls_sim.cli import main
from hls_sim.network import load_network
from hls_sim.report.network import NetworkReportError, build_network_report, render_network_text, tensor_scales

S_IN = 1 / 255


def _conv(x: np.ndarray, w: np.ndarray, b: np.ndarray, pad: int, relu: bool) -> np.ndarray:
    """A float conv2d (stride 1, groups 1), one output at a time."""
    c, h, wd = x.shape
    k = w.shape[-1]
    xp = np.zeros((c, h + 2 * pad, wd + 2 * pad))
    xp[:, pad:pad + h, pad:pad + wd] = x
    out = np.zeros((w.shape[0], h + 2 * pad - k + 1, wd + 2 * pad - k + 1))
    for co in range(out.shape[0]):
        for i in range(out.shape[1]):
            for j in range(out.shape[2]):
                out[co, i, j] = np.sum(w[co] * xp[:, i:i + k, j:j + k]) + b[co]
    return np.maximum(out, 0) if relu else out


def _maxpool2(x: np.ndarray) -> np.ndarray:
    c, h, w = x.shape
    return x[:, :h // 2 * 2, :w // 2 * 2].reshape(c, h // 2, 2, w // 2, 2).max(axis=(2, 4))


def _network(tmp_path: Path, acc_t: str = "ap_int<32>") -> tuple[Path, dict]:
    """conv 3x3 (3 -> 8, relu) -> max_pool 2 -> conv 1x1 (8 -> 4, no activation, signed out),
    integer weights and scales from a float forward pass done here."""
    rng = np.random.default_rng(7)
    x = rng.integers(0, 256, size=(3, 9, 11))
    w1, b1 = rng.normal(0, 0.3, (8, 3, 3, 3)), rng.normal(0, 0.05, 8)
    w3, b3 = rng.normal(0, 0.4, (4, 8, 1, 1)), rng.normal(0, 0.05, 4)
    f1 = _conv(x * S_IN, w1, b1, 1, True)
    f2 = _maxpool2(f1)
    f3 = _conv(f2, w3, b3, 0, False)
    s1, s3 = float(f1.max() / 255), float(np.abs(f3).max() / 127)
    sw1, sw3 = float(np.abs(w1).max() / 127), float(np.abs(w3).max() / 127)
    np.save(tmp_path / "x.npy", x)
    np.savez(tmp_path / "w.npz", w1=np.rint(w1 / sw1).astype(np.int64), b1=np.rint(b1 / s1).astype(np.int64),
             w3=np.rint(w3 / sw3).astype(np.int64), b3=np.rint(b3 / s3).astype(np.int64))
    np.savez(tmp_path / "f.npz", w1=w1, b1=b1, w3=w3, b3=b3)
    text = f"""\
network: small
input: {{file: x.npy}}
layers:
  - name: c1
    kernel: conv2d
    out_channels: 8
    kernel_size: 3
    padding: 1
    types: {{factor_t: 'ap_fixed<32,1>', acc_t: 'ap_int<32>'}}
    factor: {sw1 * S_IN / s1!r}
    weight: {{file: w.npz, key: w1}}
    bias: {{file: w.npz, key: b1}}
    float: {{weight: {{file: f.npz, key: w1}}, bias: {{file: f.npz, key: b1}}, input_scale: {S_IN!r}, output_scale: {s1!r}}}
  - name: p1
    kernel: max_pool
    kernel_size: 2
  - name: c3
    kernel: conv2d
    out_channels: 4
    kernel_size: 1
    activation: none
    types: {{out_t: 'ap_int<8>', factor_t: 'ap_fixed<32,1>', acc_t: '{acc_t}'}}
    factor: {sw3 * s1 / s3!r}
    weight: {{file: w.npz, key: w3}}
    bias: {{file: w.npz, key: b3}}
    float: {{weight: {{file: f.npz, key: w3}}, bias: {{file: f.npz, key: b3}}, input_scale: {s1!r}, output_scale: {s3!r}}}
"""
    p = tmp_path / "net.yaml"
    p.write_text(text)
    return p, {"c1": f1, "p1": f2, "c3": f3, "s1": s1, "s3": s3}


def test_float_network_and_errors(tmp_path):
    p, ref = _network(tmp_path)
    net = load_network(p)
    scales, warnings = tensor_scales(net)
    assert not warnings
    assert np.allclose(scales["p1"], ref["s1"]) and np.allclose(scales["c3"], ref["s3"])  # a mover keeps its scale
    rep = build_network_report(net)
    d = rep.data
    assert [r["name"] for r in d["layers"]] == ["c1", "p1", "c3"]
    c1, p1, c3 = d["layers"]
    assert c1["own"] == c1["accumulated"]  # the network input is exact: the same input
    # the report's float network is the float computation above: its error against the
    # quantized network's output, recomputed here
    run_c3 = rep.arrays["final_error_lsb"] * ref["s3"] * net.layers[2].layer.config.out_t.lsb + ref["c3"]
    assert np.allclose(c3["accumulated"]["rmse_real"], np.sqrt(np.mean((run_c3 - ref["c3"]) ** 2)))
    assert c3["accumulated"]["sqnr_db"] > 25 and c1["own"]["rmse_lsb"] < 0.6  # a sane 8-bit network
    # pooling rounds nothing: a max of quantized values is a quantized value
    assert p1["own"]["rmse_lsb"] < 0.5 and p1["own"]["max_abs_lsb"] <= 0.5 + 1e-9
    assert d["worst"]["layer"] == min(d["layers"], key=lambda r: r["own"]["sqnr_db"])["name"]
    text = render_network_text(d)
    assert "worst" in text and "c3" in text
    json.dumps(d, allow_nan=False)


def test_a_wrapping_accumulator_is_named_and_its_fix_tried_on_the_network(tmp_path):
    p, _ = _network(tmp_path, acc_t="ap_int<10>")
    d = build_network_report(load_network(p)).data
    c3 = d["layers"][2]
    assert c3["overflow"] > 0 and d["worst"]["layer"] == "c3"
    fixes = [a for a in d["advice"] if a.get("network") and "acc_t" in a["network"]["change"].get("types", {})]
    assert fixes, d["advice"]
    net = fixes[0]["network"]
    assert net["final_sqnr_db_after"] > net["final_sqnr_db_before"] + 10


def test_layers_without_float_blocks_are_refused(tmp_path):
    p, _ = _network(tmp_path)
    text = p.read_text().replace("    float: {weight: {file: f.npz, key: w3}", "    flo: {weight: {file: f.npz, key: w3}")
    text = "\n".join(line for line in text.splitlines() if not line.startswith("    flo:")) + "\n"
    p.write_text(text)
    with pytest.raises(NetworkReportError, match="layer c3: no float: block"):
        build_network_report(load_network(p))
    r = CliRunner().invoke(main, ["report", str(p)])
    assert r.exit_code == 2 and "layer c3: no float: block" in r.output


def test_cli_json_and_html(tmp_path):
    p, _ = _network(tmp_path)
    r = CliRunner().invoke(main, ["report", str(p), "--json", "-o", str(tmp_path / "r.html")])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output[:r.output.rindex("}") + 1])
    assert doc["schema"] == "hls-sim-network-report/1" and len(doc["layers"]) == 3
    html = (tmp_path / "r.html").read_text()
    assert "Network report: small" in html and "data:image/png;base64," in html
    embedded = html.split("id='report-data'>")[1].split("</script>")[0]
    assert json.loads(embedded)["worst"] == doc["worst"]
    r = CliRunner().invoke(main, ["report", str(p), "-o", str(tmp_path / "r.html")])
    assert r.exit_code == 2 and "already exists" in r.output


def test_run_shows_each_layer_against_the_float_network(tmp_path):
    from hls_sim.network import run_network, summary

    p, _ = _network(tmp_path)
    net = load_network(p)
    rep = build_network_report(net).data
    run = run_network(net, float_model=True)
    assert [st.float_sqnr_db for st in run.stats] == pytest.approx(
        [r["accumulated"]["sqnr_db"] for r in rep["layers"]])
    assert run.saved == {}  # the outputs were kept for the comparison only
    assert "vs float dB" in summary(run)
    r = CliRunner().invoke(main, ["run", str(p)])
    assert r.exit_code == 0 and "vs float dB" in r.output, r.output
    assert all(st.float_sqnr_db is None for st in run_network(net).stats)  # off by default
