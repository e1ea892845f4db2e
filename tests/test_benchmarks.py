"""Smoke test of benchmarks/ (``python -m benchmarks --quick``): the code runs, the results are
bit-identical to the anchors, and the table has its rows. Timings are never asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _bench(tmp_path: Path, *only: str) -> tuple[str, dict]:
    out = tmp_path / "bench.json"
    cmd = [sys.executable, "-m", "benchmarks", "--quick", "--json", str(out)]
    cmd += ["--only", *only] if only else []
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout, json.loads(out.read_text())


def _check(stdout: str, report: dict, names: set[str]) -> None:
    rows = {r["name"]: r for r in report["rows"]}
    assert set(rows) == names and not report["errors"] and not report["skipped"]
    lines = stdout.splitlines()
    for name, row in rows.items():
        assert sum(line.startswith(f"{name}: ") for line in lines) == 1  # its table row
        assert row["seconds"] > 0 and row["anchor_seconds"] > 0
        # the start-up rows, a float anchor and the Dask overhead have no bits to compare
        if not name.startswith(("warm_start", "start_", "new_config")) and not name.endswith("float32") \
                and name != "sweep overhead":
            assert row["identical"] is True, row


LAYER_ROWS = {"conv2d", "conv_transpose", "upsample", "linear", "max_pool", "avg_pool_incl",
              "avg_pool_excl", "add", "concat"}


@pytest.fixture(scope="module")
def every_benchmark(tmp_path_factory, toolchain):  # noqa: ANN001, ANN201
    """One run of the whole registry (its stdout and JSON report), for the tests below."""
    pytest.importorskip("apytypes")
    return _bench(tmp_path_factory.mktemp("bench"))


@pytest.mark.toolchain
def test_layer_benchmarks(every_benchmark):  # noqa: ANN001
    """Every layer row checked on its own checksum (twin == C++), with its C++ call count."""
    _, report = every_benchmark
    rows = {r["name"]: r for r in report["rows"] if r["name"] in LAYER_ROWS}
    assert set(rows) == LAYER_ROWS
    for row in rows.values():
        assert row["extra"]["checksum"] == row["extra"]["cpp_checksum"], row["name"]
    assert rows["linear"]["extra"]["output_shape"] == [256, 1, 1]
    assert rows["max_pool"]["extra"]["output_shape"] == [16, 16, 32]
    assert rows["avg_pool_excl"]["extra"]["checksum"] != rows["avg_pool_incl"]["extra"]["checksum"]
    assert rows["linear"]["extra"]["cpp_calls"] == 4 * rows["conv2d"]["extra"]["cpp_calls"]
    # the merges: their own types (not the defaults), two inputs, 16x the C++ calls a round
    assert rows["add"]["extra"]["output_shape"] == [16, 32, 64]
    assert rows["concat"]["extra"]["output_shape"] == [24, 32, 64]
    assert "in2_t ap_fixed<10,3>" in rows["add"]["what"]
    assert "out_t ap_fixed<8,4,AP_RND_CONV,AP_SAT>" in rows["concat"]["what"]
    for name in ("add", "concat"):
        assert rows[name]["extra"]["cpp_calls"] == 16 * rows["conv2d"]["extra"]["cpp_calls"]


def test_type_benchmarks(tmp_path):
    pytest.importorskip("apytypes")
    stdout, report = _bench(tmp_path, "quantize", "mul_cast")
    _check(stdout, report, {"quantize", "mul_cast"})


@pytest.mark.toolchain
def test_all_benchmarks(every_benchmark):  # noqa: ANN001
    stdout, report = every_benchmark
    _check(stdout, report,
           {"quantize", "mul_cast", "conv1x1", "dw_conv3x3", *LAYER_ROWS,
            "warm_start", "warm_start_cli", "start_type", "start_help", "new_config",
            "new_config_vs_compile", "network encdec g++", "network encdec float32",
            "sweep 2 workers", "sweep overhead"})
    assert "ratio = anchor time / hls-sim time" in stdout
