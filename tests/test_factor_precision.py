"""A factor that factor_t rounds to 0 (or to a few bits, or far off) is a warning in
``hls-sim run`` and an error in the report's advice, with the narrowest factor_t that keeps it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from hls_sim.cli import main
from hls_sim.layer import load_layer
from hls_sim.report import build_report
from hls_sim.runner import factor_precision, run_layer, summary
from tests.support.examples import LAYER_EXAMPLES

ROOT = Path(__file__).resolve().parent.parent
DATA = """\
weight: {generate: {seed: 1}}
bias: {generate: {seed: 2, low: -100, high: 100}}
input: {generate: {seed: 3}}
"""


def layer_file(tmp_path: Path, factor: str, factor_t: str = "ap_fixed<8,1>") -> Path:
    p = tmp_path / "l.yaml"
    p.write_text(f"kernel: conv1x1\ntypes: {{factor_t: '{factor_t}'}}\nfactor: {factor}\n" + DATA)
    return p


def test_a_factor_that_rounds_to_zero_is_a_warning_in_run(tmp_path):
    p = layer_file(tmp_path, "0.0035")
    r = CliRunner().invoke(main, ["run", str(p)])
    assert r.exit_code == 0, r.output
    want = ("factor 0.0035 rounds to 0 in factor_t ap_fixed<8,1>: it loses all its precision and "
            "every output is relu(bias); use factor_t ap_fixed<13,1>, which keeps it within 1/16")
    assert [ln for ln in r.stdout.splitlines() if ln.startswith("warning")] == \
        [f"warning   {want} (0.00341797)"]
    assert r.stderr == f"hls-sim: warning: {want} (0.00341797)\n"
    # every output is indeed relu(bias)
    ly = load_layer(p)
    out = ly.run().top.raw[ly.geometry.region]
    np.testing.assert_array_equal(out, np.broadcast_to(np.maximum(ly.bias, 0)[:, None, None], out.shape))


def test_the_suggested_factor_t_is_the_narrowest_that_keeps_it(tmp_path):
    loss = factor_precision(load_layer(layer_file(tmp_path, "0.0035")))
    assert str(loss.suggestion) == "ap_fixed<13,1>"
    assert loss.suggested[0] == 14 / 4096  # 4 significant bits, -2.3%
    for t, kept in (("ap_fixed<12,1>", False), ("ap_fixed<13,1>", True)):
        assert (factor_precision(load_layer(layer_file(tmp_path, "0.0035", t))) is None) == kept
    # modes are kept: 0.0039 * 2**11 = 7.99 truncates to 7 (3 bits) but rounds to 8
    loss = factor_precision(load_layer(layer_file(tmp_path, "0.0039")))
    assert str(loss.suggestion) == "ap_fixed<13,1>"
    loss = factor_precision(load_layer(layer_file(tmp_path, "0.0039", "ap_fixed<8,1,AP_RND,AP_SAT>")))
    assert str(loss.suggestion) == "ap_fixed<12,1,AP_RND,AP_SAT>"


@pytest.mark.parametrize("factor, lost, bits", [
    ("0.03", "0.0234375 (2 significant bits, -21.9%)", 2),       # fewer than 4 significant bits
    ("0.070234375", "0.0625 (4 significant bits, -11.0%)", 4),   # 4 bits, but 11% off
])
def test_most_of_the_precision_lost(tmp_path, factor, lost, bits):
    loss = factor_precision(load_layer(layer_file(tmp_path, factor)))
    assert loss is not None and int(loss.bits[0]) == bits
    assert loss.message().startswith(f"factor {factor} rounds to {lost} in factor_t ap_fixed<8,1>: "
                                     "it loses most of its precision; use factor_t ap_fixed<")


@pytest.mark.parametrize("factor, factor_t", [
    ("0.5", "ap_fixed<8,1>"),            # exact
    ("0.2", "ap_fixed<8,1>"),            # 25 / 128: 5 bits, -2.3%
    ("0.0115", "ap_fixed<32,1>"),        # the seed
    ("{raw: 0}", "ap_fixed<8,1>"),       # raw integers are what the file means: nothing rounded
])
def test_factors_that_keep_their_value(tmp_path, factor, factor_t):
    p = layer_file(tmp_path, factor, factor_t)
    assert factor_precision(load_layer(p)) is None
    r = CliRunner().invoke(main, ["run", str(p)])
    assert r.exit_code == 0 and r.stderr == "" and "\nwarning" not in r.stdout, r.output


def test_examples_have_no_warning():
    for p in LAYER_EXAMPLES:
        ly = load_layer(p)
        assert factor_precision(ly) is None, p


def test_per_channel_names_every_channel(tmp_path):
    f = [0.5] * 16
    f[3], f[7] = 0.0035, 0.03
    p = layer_file(tmp_path, "[" + ", ".join(map(str, f)) + "]")
    run = run_layer(load_layer(p), repeat=False)
    assert run.warnings == [
        "2 of 16 channels' factors lose all or most of their precision in factor_t ap_fixed<8,1> "
        "(channel 3: 0.0035 rounds to 0, channel 7: 0.03 rounds to 0.0234375 (2 significant "
        "bits, -21.9%)); 1 channel output relu(bias); use factor_t ap_fixed<13,1>, which keeps "
        "every channel within 1/16"]
    assert "\nwarning   2 of 16 channels' factors" in summary(run)


def test_report_advice_is_an_error_not_ok(tmp_path):
    p = layer_file(tmp_path, "0.0035")
    advice = build_report(load_layer(p)).data["advice"]
    first = advice[0]
    assert (first["id"], first["severity"], first["stage"]) == ("factor-precision", "error", "factor")
    assert first["suggestion"] == {"types": {"factor_t": "ap_fixed<13,1>"}}
    assert first["data"]["requested"] == [0.0035] and first["data"]["factor_t_values"] == [0.0]
    assert first["data"]["changed_by_fix"] > 0
    assert any("every output is relu(bias)" in e for e in first["evidence"])
    assert not [a for a in advice if a["stage"] == "factor" and a["severity"] == "ok"]
    r = CliRunner().invoke(main, ["report", str(p)])
    assert r.exit_code == 0 and "[ERROR] factor: factor 0.0035 rounds to 0" in r.stdout, r.output
    assert "[ok] factor" not in r.stdout
    # the suggested type, applied, gives a layer with no such item
    fixed = layer_file(tmp_path, "0.0035", first["suggestion"]["types"]["factor_t"])
    ids = [a["id"] for a in build_report(load_layer(fixed)).data["advice"]]
    assert "factor-precision" not in ids and "factor-range" in ids


def test_report_per_channel(tmp_path):
    f = [0.5] * 16
    f[3] = 0.0035
    p = layer_file(tmp_path, "[" + ", ".join(map(str, f)) + "]")
    rep = build_report(load_layer(p)).data
    first = rep["advice"][0]
    assert first["id"] == "factor-precision" and first["data"]["lost"] == [3]
    assert first["suggestion"] == {"types": {"factor_t": "ap_fixed<13,1>"}}
    assert first["data"]["requested"] == f
