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
        if not name.startswith("warm_start"):
            assert row["identical"] is True, row


def test_type_benchmarks(tmp_path):
    pytest.importorskip("apytypes")
    stdout, report = _bench(tmp_path, "quantize", "mul_cast")
    _check(stdout, report, {"quantize", "mul_cast"})


@pytest.mark.toolchain
def test_all_benchmarks(tmp_path, toolchain):
    pytest.importorskip("apytypes")
    stdout, report = _bench(tmp_path)
    _check(stdout, report,
           {"quantize", "mul_cast", "conv1x1", "dw_conv3x3", "conv2d", "conv_transpose", "upsample",
            "warm_start", "warm_start_cli"})
    assert "ratio = anchor time / hls-sim time" in stdout
