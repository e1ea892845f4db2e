"""``hls-sim report``: every example in weights/ in all three forms; bad input, one line."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from hls_sim.cli import main
from hls_sim.layer import load_layer
from tests.report.conftest import WEIGHTS
from tests.support.examples import LAYER_EXAMPLES

EXAMPLES = LAYER_EXAMPLES


def cli(*args: str):
    return CliRunner().invoke(main, list(args))


def assert_user_error(result, *fragments: str) -> str:
    assert result.exit_code == 2, (result.output, result.exception)
    err = result.stderr
    assert err.count("\n") == 1 and err.startswith("hls-sim: error: "), err
    assert "Traceback" not in result.output and result.stdout == ""
    for f in fragments:
        assert f in err, err
    return err


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_in_all_three_forms(path, tmp_path):
    r = cli("report", str(path))
    mover = not load_layer(path).spec.epilogue  # no weights: a conversions table, no stages
    assert r.exit_code == 0, r.output
    heads = ("DATAPATH ERROR", "CONVERSIONS", "ADVICE", "all ") if mover else \
        ("DATAPATH ERROR", "WHERE IT COMES FROM", "QUANTIZATION ERROR", "ADVICE", "all ")
    for head in heads:
        assert head in r.stdout
    html = tmp_path / "r.html"
    r = cli("report", str(path), "--json", "-o", str(html))
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["schema"] == "hls-sim-report/1" and d["layer"]["path"] == str(path)
    assert d["datapath"]["model_matches_kernel"] and d["advice"]
    assert r.stderr == f"wrote     {html}\n"
    page = html.read_text()
    assert page.startswith("<!doctype html>") and page.rstrip().endswith("</html>")
    imgs = re.findall(r'<img src="data:image/png;base64,[A-Za-z0-9+/=]+"', page)
    assert len(imgs) == 4 + (not mover)  # histogram, scatter, (stages,) heat map, SQNR bars
    assert not re.search(r'(src|href)="(https?:|//)', page)  # self-contained
    embedded = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', page, re.S)
    assert json.loads(embedded.group(1).replace("<\\/", "</"))["layer"] == d["layer"]
    for a in d["advice"]:
        assert a["severity"] in page


def test_json_output_file(tmp_path):
    out = tmp_path / "r.json"
    r = cli("report", str(WEIGHTS / "dw_conv3x3.yaml"), "-o", str(out))
    assert r.exit_code == 0, r.output
    assert "ADVICE" in r.stdout and f"wrote     {out}" in r.stdout
    assert json.loads(out.read_text())["layer"]["kernel"] == "dw_conv3x3"


def test_refuses_to_overwrite(tmp_path):
    out = tmp_path / "r.html"
    out.write_text("precious")
    assert_user_error(cli("report", str(WEIGHTS / "conv1x1.yaml"), "-o", str(out)), "already exists",
                      "--force")
    assert out.read_text() == "precious"
    r = cli("report", str(WEIGHTS / "conv1x1.yaml"), "-o", str(out), "--force")
    assert r.exit_code == 0 and out.read_text().startswith("<!doctype html>")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("make,fragments", [
    (lambda d: ["report", str(d / "none.yaml")], ["none.yaml: file not found"]),
    (lambda d: ["report", str(WEIGHTS / "conv1x1.yaml"), "-o", str(d / "r.txt")], ["ending in .html or .json"]),
    (lambda d: ["report", str(WEIGHTS / "conv1x1.yaml"), "-o", str(d / "no" / "r.html")], ["does not exist"]),
    (lambda d: ["report", str(WEIGHTS / "conv1x1.yaml"), "-o", str(d)], ["ending in .html or .json"]),
])
def test_bad_input_gives_one_line(tmp_path, make, fragments):
    assert_user_error(cli(*make(tmp_path)), *fragments)


def test_bad_layer_file_gives_one_line(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("kernel: conv1x1\nfactor: 0.01\nweight: {generate: {seed: 1}}\nbias: {generate: {seed: 2}}\n"
                 "input: {generate: {seed: 3}}\nfloat: {weight: {file: w.npy}}\n")
    err = assert_user_error(cli("report", str(p), "-o", str(tmp_path / "r.html")), f"{p}: float.output_scale: missing")
    assert err.startswith(f"hls-sim: error: {p}: ")
    assert not (tmp_path / "r.html").exists()


def test_an_undefined_sqnr_reads_null_in_the_tables_as_in_the_json(tmp_path):
    """No error at all: the JSON (and docs/report.md) say SQNR null; the text said "inf"."""
    p = tmp_path / "exact.yaml"
    p.write_text("kernel: conv1x1\nfactor: 0.01\nweight: {generate: {seed: 1, low: 0, high: 0}}\n"
                 "bias: {generate: {seed: 2, low: 1, high: 100}}\ninput: {generate: {seed: 3}}\n")
    doc = json.loads(cli("report", str(p), "--json").stdout)
    assert doc["datapath"]["metrics"]["sqnr_db"] is None and doc["datapath"]["metrics"]["exact"]
    r = cli("report", str(p))
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    head = next(i for i, ln in enumerate(lines) if ln.startswith("DATAPATH ERROR"))
    cols = lines[head + 1].split()
    row = lines[head + 2].split()
    assert cols[6:8] == ["SQNR", "dB"] and row[0] == "all"
    assert row[6] == "null", lines[head + 2]
    assert not re.search(r"\binf\b", r.stdout)
