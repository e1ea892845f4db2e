"""SIGTERM during ``hls-sim golden`` or ``hls-sim csim`` runs the cleanups: no ``.DIR.tmp-*``
folder and no ``hls-sim-csim-*`` build folder is left behind, and the exit status (143 =
128 + SIGTERM) and one line on stderr say that it was interrupted."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONV1X1 = str(ROOT / "weights" / "conv1x1.yaml")
START_S = 120  # the command's start (numba loading or compiling the kernel) may be slow


def start(args: list[str], cwd: Path, tmpdir: Path) -> subprocess.Popen:
    env = {**os.environ, "TMPDIR": str(tmpdir)}
    return subprocess.Popen([sys.executable, "-m", "hls_sim.cli", *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_files(proc: subprocess.Popen, where: Path, prefix: str) -> Path:
    """Wait until a folder named ``prefix*`` under ``where`` holds a written file."""
    deadline = time.monotonic() + START_S
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        for d in where.glob(prefix + "*"):
            if any(p.is_file() and p.stat().st_size for p in d.rglob("*")):
                return d
        time.sleep(0.05)
    proc.kill()
    pytest.fail(f"no {prefix}* folder with files appeared within {START_S} s")


def terminate(proc: subprocess.Popen) -> tuple[int, str]:
    proc.send_signal(signal.SIGTERM)
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail("the command did not stop within 60 s of SIGTERM")
    return proc.returncode, err


def assert_interrupted(rc: int, err: str) -> None:
    assert rc == 128 + signal.SIGTERM, (rc, err)
    assert "Traceback" not in err, err
    assert err.strip().splitlines()[-1] == ("hls-sim: interrupted by SIGTERM; temporary files "
                                            "removed, nothing written"), err


def test_sigterm_during_golden_leaves_nothing(tmp_path):
    work, tmp = tmp_path / "work", tmp_path / "tmp"
    work.mkdir()
    tmp.mkdir()
    proc = start(["golden", CONV1X1, "-o", "g", "--count", "1000"], work, tmp)
    try:
        wait_for_files(proc, work, ".g.tmp-")
        rc, err = terminate(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert_interrupted(rc, err)
    assert list(work.iterdir()) == [] and list(tmp.iterdir()) == []


@pytest.mark.toolchain
def test_sigterm_during_csim_leaves_nothing(toolchain, tmp_path):
    work, tmp = tmp_path / "work", tmp_path / "tmp"
    work.mkdir()
    tmp.mkdir()
    proc = start(["csim", CONV1X1, "--count", "1000"], work, tmp)
    try:
        wait_for_files(proc, tmp, "hls-sim-csim-")
        rc, err = terminate(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert_interrupted(rc, err)
    assert list(work.iterdir()) == [] and list(tmp.iterdir()) == []
