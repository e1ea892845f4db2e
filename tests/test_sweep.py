"""hls-sim sweep: configurations, the serial run, a local Dask cluster (identical results, a
worker killed mid-sweep), resuming, and a `dask scheduler` with two `dask worker` processes."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import distributed  # noqa: F401 - a test dependency (the `test` extra): missing is an error
import numpy as np
import pytest
from click.testing import CliRunner

from hls_sim import sweep
from hls_sim.cli import main
from hls_sim.network import NetworkError
from tests.test_eval import NET, scene_batch

VARY = "head.acc_t=ap_int<12>,ap_int<18>"
QD = "head.qd_t=ap_fixed<16,16>,ap_fixed<16,16,AP_RND,AP_SAT>"  # 2 x 2, and the network as written


@pytest.fixture(scope="module")
def job(tmp_path_factory: pytest.TempPathFactory) -> sweep.Job:
    d = tmp_path_factory.mktemp("sweepdata")
    np.save(d / "batch.npy", scene_batch())
    return sweep.Job(str(NET), str(d / "batch.npy"))


@pytest.fixture(scope="module")
def configs(job: sweep.Job) -> list[sweep.Config]:
    net = sweep.prepared_network(job)
    return sweep.grid(net, [sweep.parse_vary(VARY, net), sweep.parse_vary(QD, net)])


@pytest.fixture(scope="module")
def serial(job: sweep.Job, configs: list, tmp_path_factory: pytest.TempPathFactory) -> sweep.SweepResult:
    return sweep.run_sweep(job, configs, tmp_path_factory.mktemp("serial"), serial=True, bar=False)


def stable(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k not in sweep.VOLATILE} for r in rows]


def lines(folder: Path) -> list[dict]:
    return [json.loads(ln) for ln in (folder / sweep.RESULTS).read_text().splitlines()]


# ---- configurations ------------------------------------------------------------------------------------
def test_vary_ranges_lists_and_every_layer(job: sweep.Job) -> None:
    net = sweep.prepared_network(job)
    ax = sweep.parse_vary("head.acc_t=ap_int<14..16>", net)
    assert ax.values == ("ap_int<14>", "ap_int<15>", "ap_int<16>") and ax.layers == ("head",)
    ax = sweep.parse_vary("stem.qd_t=ap_fixed<16,4..5>, ap_fixed<18,6,AP_RND,AP_SAT>", net)
    assert ax.values == ("ap_fixed<16,4>", "ap_fixed<16,5>", "ap_fixed<18,6,AP_RND,AP_SAT>")
    ax = sweep.parse_vary("*.acc_t=ap_int<20>", net)
    assert ax.layers == ("stem", "enc1_dw", "enc1_pw", "enc2_dw", "enc2_pw", "dec1_up", "dec2_up", "head")
    configs = sweep.grid(net, [ax])
    assert [c.baseline for c in configs] == [True, False]
    assert configs[0].bits == 8 * 32 and configs[1].bits == 8 * 20
    assert len({c.id for c in sweep.grid(net, [sweep.parse_vary("head.acc_t=ap_int<32>", net)])}) == 1


@pytest.mark.parametrize("text, match", [
    ("nope.acc_t=ap_int<20>", "no layer 'nope'"),
    ("head.out_t=ap_int<20>", "internal types"),
    ("head.acc_t=ap_int<20..14>", "A <= B"),
    ("head.acc_t=ap_nt<20>", "ap_nt"),
    ("head.acc_t", "LAYER.TYPE=VALUES"),
])
def test_bad_vary_is_one_line(job: sweep.Job, text: str, match: str) -> None:
    with pytest.raises(NetworkError, match=match) as e:
        sweep.parse_vary(text, sweep.prepared_network(job))
    assert "\n" not in str(e.value)


def test_pareto_and_choice() -> None:
    rows = [{"id": "a", "bits": 10, "sqnr_db": 5.0}, {"id": "b", "bits": 12, "sqnr_db": 20.0},
            {"id": "c", "bits": 12, "sqnr_db": 19.0}, {"id": "d", "bits": 14, "sqnr_db": 18.0},
            {"id": "e", "bits": 16, "sqnr_db": None}, {"id": "w", "bits": 32, "sqnr_db": 20.5,
                                                        "baseline": True}]
    assert sweep.pareto(rows) == ["a", "b", "e"]
    assert sweep.choose(rows, 1.0)["id"] == "b"
    assert sweep.choose(rows, 0.1)["id"] == "e"  # exact: better than the network as written
    assert sweep.choose(rows[:4] + rows[5:], 0.1)["id"] == "w"


# ---- running --------------------------------------------------------------------------------------------
def test_serial_sweep_writes_every_configuration(serial: sweep.SweepResult, configs: list) -> None:
    assert serial.failed == [] and len(serial.rows) == len(configs) == 5
    base = next(r for r in serial.rows if r["baseline"])
    narrow = [r for r in serial.rows if r["settings"]["head.acc_t"] == "ap_int<12>"]
    assert all(r["overflow"] > base["overflow"] and r["sqnr_db"] < base["sqnr_db"] - 10 for r in narrow)
    names = {p.name for p in serial.written}
    assert names == {"sweep.json", "sweep.csv", "sweep.png"}


def test_resume_runs_only_the_missing_configurations(job: sweep.Job, configs: list, serial,  # noqa: ANN001
                                                     tmp_path: Path) -> None:
    first = sweep.run_sweep(job, configs[:2], tmp_path, serial=True, bar=False)
    assert sorted(first.computed) == sorted(c.id for c in configs[:2])
    with open(tmp_path / sweep.RESULTS, "a") as f:  # a write cut short by a kill
        f.write('{"id": "0123')
    again = sweep.run_sweep(job, configs, tmp_path, serial=True, bar=False)
    assert sorted(again.computed) == sorted(c.id for c in configs[2:])
    assert stable(again.rows) == stable(serial.rows)
    assert len(lines(tmp_path)) == len(configs)
    other = sweep.Job(job.network, job.data, str(tmp_path / "labels.npy"))
    np.save(other.labels, np.zeros((2, 128, 256), dtype=np.int64))
    with pytest.raises(NetworkError, match="another network, dataset or labels"):
        sweep.run_sweep(other, configs, tmp_path, serial=True, bar=False)


def test_a_failing_configuration_is_retried_then_reported(job: sweep.Job, configs: list, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = sweep.evaluate_config

    def flaky(j: sweep.Job, c: sweep.Config) -> dict:
        calls.append(c.id)
        if c.id == configs[1].id:
            raise RuntimeError("broken")
        return real(j, c)

    monkeypatch.setattr(sweep, "evaluate_config", flaky)
    res = sweep.run_sweep(job, configs[:3], tmp_path, serial=True, bar=False)
    assert calls.count(configs[1].id) == 2
    assert [f["id"] for f in res.failed] == [configs[1].id] and "broken" in res.failed[0]["error"]
    assert len(res.rows) == 2 and len(lines(tmp_path)) == 2
    assert configs[1].id in json.loads((tmp_path / "sweep.json").read_text())["failed"][0]["id"]


def test_local_cluster_equals_serial_and_compiles_nothing(job: sweep.Job, configs: list, serial,  # noqa: ANN001
                                                          tmp_path: Path) -> None:
    for c in configs:  # what the sweep's own warm-up does: then the workers only load
        sweep.compile_config(job, c)
    said: list[str] = []
    res = sweep.run_sweep(job, configs, tmp_path, workers=2, bar=False, log=said.append)
    assert [r["compiled"] for r in res.rows] == [0] * len(configs)  # the workers only loaded
    assert res.failed == [] and "local Dask cluster of 2" in res.where
    assert any(re.search(r"dashboard http://\S+:\d+/status", line) for line in said), said
    assert stable(res.rows) == stable(serial.rows)
    assert len({r["pid"] for r in res.rows}) == 2  # both workers took part


def test_a_worker_killed_mid_sweep(job: sweep.Job, configs: list, serial, tmp_path: Path) -> None:  # noqa: ANN001
    killed = []

    def kill_once(row: dict) -> None:
        if not killed:  # the worker that sent it has already taken the next configuration
            killed.append(row["pid"])
            os.kill(row["pid"], signal.SIGKILL)

    res = sweep.run_sweep(job, configs, tmp_path, workers=2, bar=False, on_row=kill_once)
    assert killed and res.failed == []
    rows = lines(tmp_path)
    assert len(rows) == len({r["id"] for r in rows}) == len(configs)  # no duplicate row
    assert stable(res.rows) == stable(serial.rows)


def test_cli_sweep(job: sweep.Job, serial, tmp_path: Path) -> None:  # noqa: ANN001
    r = CliRunner().invoke(main, ["sweep", str(NET), "--data", job.data, "--vary", VARY,
                                  "--vary", QD, "-o", str(tmp_path),
                                  "--serial", "--max-sqnr-loss", "1dB"])
    assert r.exit_code == 0, r.output
    assert "choice    within 1 dB" in r.output and "(as written)" in r.output
    table = (tmp_path / "sweep.csv").read_text().splitlines()
    assert table[0].startswith("id,head.acc_t,head.qd_t,bits,sqnr_db") and len(table) == 6
    doc = json.loads((tmp_path / "sweep.json").read_text())
    assert doc["choice"] in doc["pareto"]
    bad = CliRunner().invoke(main, ["sweep", str(NET), "--data", job.data, "--vary",
                                    "head.acc_t=ap_int<0>", "-o", str(tmp_path / "x"), "--serial"])
    assert bad.exit_code == 2 and len(bad.output.strip().splitlines()) == 1
    assert bad.output.startswith("hls-sim: error: ")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.toolchain
def test_dask_scheduler_and_two_workers(job: sweep.Job, configs: list, serial, tmp_path: Path) -> None:  # noqa: ANN001
    """`dask scheduler` and two `dask worker` processes on 127.0.0.1, used by address."""
    dask = Path(sys.executable).with_name("dask")
    assert dask.exists(), f"{dask}: the dask command (dask[distributed], the test extra) is missing"
    port = _free_port()
    addr = f"tcp://127.0.0.1:{port}"
    env = dict(os.environ, **sweep.WORKER_ENV)
    procs = [subprocess.Popen([str(dask), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                               "--dashboard-address", ":0"], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)]
    try:
        for _ in range(2):
            procs.append(subprocess.Popen([str(dask), "worker", addr, "--nthreads", "1", "--nworkers", "1",
                                           "--host", "127.0.0.1", "--no-dashboard"], env=env,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        from distributed import Client

        with Client(addr, timeout=60) as c:
            c.wait_for_workers(2, timeout=60)
        res = sweep.run_sweep(job, configs, tmp_path, scheduler=addr, bar=False)
        assert res.failed == [] and f"at {addr} (2 worker(s))" in res.where
        assert stable(res.rows) == stable(serial.rows)
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
