"""Reports: the right stage and advice for bad configurations, the float model's chain, and the
documented JSON schema."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from hls_sim.layer import load_layer
from hls_sim.quantize import quantize_layer, write_layer
from hls_sim.reference import compare_layer
from hls_sim.report import SCHEMA, build_report, render_text
from hls_sim.report.build import COMPONENTS, make_context
from tests.report.conftest import WEIGHTS, float_layer_data


def advice(report, id_):
    found = [a for a in report.data["advice"] if a["id"] == id_]
    assert found, [a["id"] for a in report.data["advice"]]
    return found[0]


def stage(report, s):
    return next(r for r in report.data["datapath"]["stages"] if r["stage"] == s)


# ---- the seed example ----------------------------------------------------------------------------
def test_seed_metrics_agree_with_the_reference_comparison(seed_report):
    ly = load_layer(WEIGHTS / "conv1x1.yaml")
    cmp = compare_layer(ly, ly.run().top.raw)
    m = seed_report.data["datapath"]["metrics"]
    assert m["max_abs_lsb"] == pytest.approx(cmp.max_abs_error)
    assert m["max_abs_at"] == list(cmp.worst)
    assert m["mean_lsb"] == pytest.approx(cmp.mean_error)
    assert m["rmse_lsb"] == pytest.approx(cmp.rms_error)
    assert m["differ"] == cmp.n_differ == 0
    assert m["counters"]["clip_high"] == 149 and m["clip_high_share"] == pytest.approx(149 / 32768)
    chans = seed_report.data["datapath"]["channels"]
    assert sum(c["counters"]["clip_low"] for c in chans) == m["counters"]["clip_low"]
    assert np.mean([c["mse_lsb2"] for c in chans]) == pytest.approx(m["mse_lsb2"])


def test_seed_advice(seed_report):
    d = seed_report.data
    assert d["advice"][-1]["id"] == "datapath-rounding-only" and d["advice"][-1]["severity"] == "ok"
    assert not [a for a in d["advice"] if a["severity"] in ("error", "warning")]
    acc = advice(seed_report, "width-acc")
    assert acc["title"].startswith("the accumulator never needs more than 18 bits")
    assert acc["suggestion"] == {"types": {"acc_t": "ap_int<18>"}}
    assert stage(seed_report, "qd")["share"] == pytest.approx(1.0)  # all of the error is quant_dequant's rounding
    f = advice(seed_report, "factor-range")
    assert f["suggestion"]["factor"] < 0.0115 and f["data"]["clip_high_share_after"] < f["data"]["clip_high_share"]


# ---- deliberately bad configurations ------------------------------------------------------------------
def test_narrow_wrapping_accumulator(bad_reports):
    r = bad_reports["narrow-acc-wrap"]
    a = r.data["advice"][0]
    assert (a["id"], a["severity"], a["stage"]) == ("overflow-acc", "error", "acc")
    assert "wraps around" in a["title"] and a["suggestion"] == {"types": {"acc_t": "ap_int<18>"}}
    assert a["data"]["fixed_max_abs_lsb"] <= 0.5 and a["data"]["now_max_abs_lsb"] > 100
    acc = stage(r, "acc")
    assert acc["overflow"] > 0 and acc["share"] > 0.99 and acc["needs"]["identical_outputs"] is None
    assert r.data["datapath"]["metrics"]["counters"]["acc_overflow"] == acc["overflow"]


def test_truncating_quant_dequant(bad_reports):
    r = bad_reports["qd-trn"]
    a = r.data["advice"][0]
    assert (a["id"], a["severity"], a["stage"]) == ("rounding-qd", "warning", "qd")
    assert a["suggestion"] == {"types": {"qd_t": "ap_fixed<16,16,AP_RND,AP_SAT>"}}
    assert -0.55 < a["data"]["now_mean_lsb"] < -0.4  # about -1/2 LSB (less: relu-clipped outputs)
    assert abs(a["data"]["fixed_mean_lsb"]) < 0.01 and a["data"]["fixed_max_abs_lsb"] <= 0.5
    assert stage(r, "qd")["mean_lsb"] == pytest.approx(r.data["datapath"]["metrics"]["mean_lsb"])


def test_saturating_factor(bad_reports):
    r = bad_reports["saturating-factor"]
    a = r.data["advice"][0]
    assert (a["id"], a["severity"], a["stage"]) == ("factor-range", "warning", "factor")
    assert "saturates the output" in a["title"]
    assert a["suggestion"]["factor"] < 0.2 / 4 and a["suggestion"]["scale_bias_by"] < 0.25
    assert a["data"]["clip_high_share"] > 0.3 and a["data"]["clip_high_share_after"] < 0.01
    qd = advice(r, "overflow-qd")  # quant_dequant saturates too, harmlessly: relu clips those values
    assert qd["stage"] == "qd" and qd["severity"] == "info" and "saturates" in qd["title"]
    assert stage(r, "qd")["overflow"] == r.data["datapath"]["metrics"]["counters"]["qd_overflow"] > 0


def test_unclipped_relu_wraps_the_output(bad_reports):
    r = bad_reports["relu-noclip"]
    a = r.data["advice"][0]
    assert (a["id"], a["severity"], a["stage"]) == ("overflow-out", "error", "out")
    assert a["suggestion"] == {"relu_clip": True}
    assert stage(r, "out")["overflow"] == 149 and stage(r, "out")["max_abs_lsb"] == 256


def test_terminal_report_names_stage_and_advice(bad_reports):
    text = render_text(bad_reports["narrow-acc-wrap"].data)
    assert "[ERROR] acc: acc_t ap_int<14> wraps around" in text
    assert "=> try: acc_t ap_int<18>" in text
    assert "WHERE IT COMES FROM" in text and "QUANTIZATION ERROR: not measured" in text


# ---- against a float model ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def float_report(tmp_path_factory):
    d = float_layer_data()
    q = quantize_layer(d["weight"], d["bias"], d["calibration"], per_channel=True)
    out = tmp_path_factory.mktemp("q")
    write_layer(q, out)
    return build_report(load_layer(out / "layer.yaml")), out


def test_quantization_chain_adds_up(float_report):
    rep, out = float_report
    q = rep.data["quantization"]
    assert [c["component"] for c in q["components"]] == list(COMPONENTS)
    assert all(c["measured"] for c in q["components"])
    ctx = make_context(load_layer(out / "layer.yaml"))
    parts = ctx.float_parts
    total = sum(parts[i + 1] - parts[i] for i in range(len(COMPONENTS)))
    np.testing.assert_allclose(total, rep.arrays["quantization_error"], atol=1e-9)
    m = q["metrics"]
    e = rep.arrays["quantization_error"]
    assert m["rmse_lsb"] == pytest.approx(math.sqrt(np.mean(e ** 2)))
    assert m["rmse_real"] == pytest.approx(m["rmse_lsb"] * rep.data["output"]["real_per_lsb"])
    assert m["sqnr_db"] > 25  # an 8-bit layer
    assert advice(rep, "error-budget")["severity"] == "info"


def test_inconsistent_scales_are_found(float_report, tmp_path):
    _, out = float_report
    text = (out / "layer.yaml").read_text()
    ly = load_layer(out / "layer.yaml")
    s_out = ly.float_model.output_scale
    (out / "wrong.yaml").write_text(text.replace(f"output_scale: {s_out!r}", f"output_scale: {s_out * 1.25!r}"))
    rep = build_report(load_layer(out / "wrong.yaml"))
    a = advice(rep, "factor-scale")
    assert a["severity"] == "warning" and a["stage"] == "factor"
    np.testing.assert_allclose(a["data"]["gain"], 0.8, rtol=5e-3)  # per-channel factors: a gain each
    assert "weights" in advice(rep, "error-budget")["title"]


def test_exactly_representable_float_layer_has_only_datapath_error(tmp_path):
    """Float weights, bias and input that the integers represent exactly: the quantization
    error is the datapath error (plus clipping at the top)."""
    ly = load_layer(WEIGHTS / "conv1x1.yaml")
    s_in, s_out = 0.5, 0.25
    f = float(ly.factor) * 2.0 ** -31
    np.save(tmp_path / "wf.npy", ly.weight * (f * s_out / s_in))
    np.save(tmp_path / "bf.npy", ly.bias * s_out)
    np.save(tmp_path / "xf.npy", ly.input * s_in)
    text = (WEIGHTS / "conv1x1.yaml").read_text().replace("conv1x1_", str(WEIGHTS / "conv1x1_"))
    text += ("float: {weight: {file: wf.npy}, bias: {file: bf.npy}, input: {file: xf.npy}, "
             f"input_scale: {s_in}, output_scale: {s_out}}}\n")
    (tmp_path / "l.yaml").write_text(text)
    rep = build_report(load_layer(tmp_path / "l.yaml"))
    comps = {c["component"]: c for c in rep.data["quantization"]["components"]}
    for name in ("weights", "bias", "input"):
        assert comps[name]["rmse_lsb"] < 1e-9, name
    assert comps["datapath"]["rmse_lsb"] == pytest.approx(rep.data["datapath"]["metrics"]["rmse_lsb"])
    assert comps["output_range"]["rmse_lsb"] > 1  # the 149 outputs clipped at 255
    assert rep.data["output"]["real_per_lsb"] == 0.25


# ---- the JSON document ----------------------------------------------------------------------------
METRIC_KEYS = {"n", "mse_lsb2", "rmse_lsb", "max_abs_lsb", "max_abs_at", "mean_lsb", "mse_real", "rmse_real",
               "max_abs_real", "mean_real", "sqnr_db", "cosine", "exact", "differ"}


def test_json_schema_is_the_documented_one(float_report, seed_report):
    for rep in (seed_report, float_report[0]):
        d = json.loads(rep.to_json())
        assert d["schema"] == SCHEMA == "hls-sim-report/1"
        assert set(d) == {"schema", "generator", "layer", "output", "datapath", "quantization", "advice",
                          "seconds"}
        assert set(d["layer"]) == {"path", "name", "description", "kernel", "params", "types", "relu_clip",
                                   "per_channel_factor", "factor", "region", "channels", "outputs",
                                   "kernel_path", "kernel_seconds"}
        assert set(d["output"]) == {"type", "lsb", "scale", "real_per_lsb", "min_raw", "max_raw", "levels",
                                    "levels_used", "raw_min", "raw_max", "raw_mean"}
        dp = d["datapath"]
        assert set(dp) == {"reference", "model_matches_kernel", "metrics", "channels", "stages"}
        assert dp["model_matches_kernel"] is True
        extra = {"clip_low_share", "clip_high_share", "counters"}
        assert set(dp["metrics"]) == METRIC_KEYS | extra
        assert len(dp["channels"]) == 16 and set(dp["channels"][0]) == METRIC_KEYS | extra | {"channel"}
        assert [s["stage"] for s in dp["stages"]] == ["acc", "qd", "sum", "out"]
        for s in dp["stages"]:
            assert set(s) == {"stage", "type_name", "type", "what", "overflow", "rounded", "changed", "mean_lsb",
                              "rmse_lsb", "max_abs_lsb", "share", "value_range", "needs"}
            if s["needs"] is not None:
                assert set(s["needs"]) == {"on_data", "any_input", "any_weights", "identical_outputs"}
        for a in d["advice"]:
            assert set(a) == {"id", "severity", "stage", "title", "evidence", "data", "suggestion"}
            assert a["severity"] in ("error", "warning", "info", "ok")
            assert a["stage"] in ("acc", "qd", "sum", "out", "factor", "weights", "input", "layer")
            assert a["evidence"] and all(isinstance(e, str) and "\n" not in e for e in a["evidence"])
        q = d["quantization"]
        if q is not None:
            assert set(q) == {"reference", "input", "input_scale", "input_scale_estimated", "output_scale",
                              "metrics", "channels", "components"}
            assert set(q["metrics"]) == METRIC_KEYS and len(q["channels"]) == 16
            assert set(q["components"][0]) == {"component", "what", "measured", "mean_lsb", "rmse_lsb",
                                               "max_abs_lsb", "mean_real", "rmse_real", "share"}
    assert json.loads(seed_report.to_json())["quantization"] is None


def test_a_data_mover_report_counts_its_overflows(tmp_path):
    """upsample into a narrower out_t: the report names the overflowing conversion and the
    narrowest out_t that holds the values; with the default types it is exact."""
    from hls_sim.layer import load_layer
    from hls_sim.report import build_report

    text = (WEIGHTS / "upsample.yaml").read_text()
    (tmp_path / "up.yaml").write_text(text + "types: {out_t: 'ap_uint<6>'}\n")
    rep = build_report(load_layer(tmp_path / "up.yaml"))
    dp = rep.data["datapath"]
    assert rep.data["layer"]["mover"] and dp["stages"] == []
    (cv,) = dp["conversions"]
    assert cv["type_name"] == "out_t" and cv["overflow"] > 0
    err = [a for a in rep.data["advice"] if a["severity"] == "error"]
    assert err and err[0]["suggestion"] == {"types": {"out_t": "ap_uint<8>"}}
    assert dp["metrics"]["max_abs_lsb"] > 0
    ok = build_report(load_layer(WEIGHTS / "upsample.yaml"))
    assert ok.data["datapath"]["metrics"]["max_abs_lsb"] == 0
    assert [a["id"] for a in ok.data["advice"]] == ["exact"]


def test_merge_and_average_reports_count_what_their_conversions_did():
    """add of mixed types: the reference is the exact aligned sum (the example rounds away the
    second input's extra fraction bits, within 0.5 LSB); avg_pool: the qd_t conversion's
    rounded count is the kernel's qd_rounded, named in the advice."""
    from hls_sim.layer import load_layer
    from hls_sim.report import build_report

    ly = load_layer(WEIGHTS / "add.yaml")
    rep = build_report(ly)
    dp = rep.data["datapath"]
    assert rep.data["layer"]["types"]["in2_t"] == "ap_fixed<10,3>"
    assert 0 < dp["metrics"]["max_abs_lsb"] <= 0.5
    (cv,) = dp["conversions"]
    assert cv["counter"] == "out_overflow" and cv["overflow"] == 0 and cv["rounded"] is None
    avg = load_layer(WEIGHTS / "avg_pool.yaml")
    res = avg.run()
    rep = build_report(avg, res)
    qd = next(cv for cv in rep.data["datapath"]["conversions"] if cv["stage"] == "qd")
    assert qd["rounded"] == res.counters["qd_rounded"] > 0
    (adv,) = rep.data["advice"]
    assert adv["id"] == "rounding" and any(f"{qd['rounded']} of" in e for e in adv["evidence"])
