"""Warm start: a fresh process, numba's disk cache already filled, against a time limit.

:data:`COMMANDS` names what is timed and its limit: the Python snippet (import hls_sim, run
conv1x1 once), the user's ``hls-sim run weights/conv1x1.yaml`` (1 s), and the commands that
compile nothing, ``hls-sim type`` and ``hls-sim --help`` (0.3 s: they never import numba).
Add or swap entries there.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.common import REPO, Row, fmt_time

SNIPPET = """
import json, time
t0 = time.perf_counter()
import numpy as np
from hls_sim.kernels import conv1x1
t1 = time.perf_counter()
z = np.zeros((16, 34, 66), dtype=np.int64)
r = conv1x1(z, z, np.ones((16, 16), dtype=np.int64), np.zeros(16, dtype=np.int64), 1)
t2 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "first_call_s": t2 - t1}))
"""


def _hls_sim() -> list[str]:
    script = Path(sys.executable).with_name("hls-sim")  # the entry point next to this python
    return [str(script)] if script.exists() else [sys.executable, "-m", "hls_sim.cli"]


# name -> (what the table says, the command line, its limit in seconds)
COMMANDS = {
    "warm_start": ("new process: import + conv1x1 once", lambda: [sys.executable, "-c", SNIPPET], 2.0),
    "warm_start_cli": ("hls-sim run weights/conv1x1.yaml",
                       lambda: [*_hls_sim(), "run", "weights/conv1x1.yaml"], 1.0),
    "start_type": ("hls-sim type 'ap_fixed<8,3,AP_RND,AP_SAT>' 1.37",
                   lambda: [*_hls_sim(), "type", "ap_fixed<8,3,AP_RND,AP_SAT>", "1.37"], 0.3),
    "start_help": ("hls-sim --help", lambda: [*_hls_sim(), "--help"], 0.3),
}


def run_once(cmd: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=True)
    return time.perf_counter() - start, proc.stdout


def _python_startup() -> float:
    return run_once([sys.executable, "-c", "pass"])[0]


def run(quick: bool) -> list[Row]:
    repeat = 1 if quick else 5
    base = min(_python_startup() for _ in range(repeat))
    rows = []
    for name, (what, command, limit) in COMMANDS.items():
        cmd = command()
        run_once(cmd)  # fills the numba cache if it is cold; not timed
        runs = sorted(run_once(cmd) for _ in range(repeat))
        wall, stdout = runs[0]
        extra: dict = dict(repeat=repeat, walls=[r[0] for r in runs], python_startup=base)
        if name == "warm_start":
            extra.update(json.loads(stdout.strip().splitlines()[-1]))
            extra["note"] = (f"python startup {fmt_time(base)}, import hls_sim "
                             f"{fmt_time(extra['import_s'])}, first conv1x1 call "
                             f"{fmt_time(extra['first_call_s'])} (loads numba's cached code)")
        rows.append(Row(name, what, wall, "limit", limit, target=1.0, extra=extra))
    return rows
