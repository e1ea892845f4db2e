"""Warm start: a fresh process, numba's disk cache already filled, against a time limit.

:data:`COMMANDS` names what is timed and its limit: the Python snippet (import hls_sim, run
conv1x1 once), the user's ``hls-sim run weights/conv1x1.yaml`` (1 s), and the commands that
compile nothing, ``hls-sim type`` and ``hls-sim --help`` (0.3 s: they never import numba).
Add or swap entries there.

:func:`new_configuration` times ``hls-sim run`` on weights/conv2d.yaml with an accumulator
width not compiled before (a new one each time, in a numba cache folder of the benchmark's
own, removed after): the first result of a new configuration, from the generic kernel (limit
5 s; the generic build itself, compiled once per install, is compiled untimed first), and, for
comparison, the same with ``--kernels specialised`` (compiling first).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import time
import tempfile
from pathlib import Path

from benchmarks.common import REPO, Row, fmt_time
from hls_sim.jit import cache_dir

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


def run_once(cmd: list[str], env: dict | None = None) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=True, env=env)
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


NEW_CONFIG_LIMIT = 5.0
_WIDTHS = list(range(19, 32))  # acc_t ap_int<W>: a configuration per width (int64 path)


def _new_layer(folder: Path, used: set[int]) -> Path:
    """weights/conv2d.yaml with an acc_t width not used before in this run (random, so that
    a rerun of the benchmark is unlikely to meet one it has compiled specialised)."""
    w = random.choice([w for w in _WIDTHS if w not in used])
    used.add(w)
    text = (REPO / "weights" / "conv2d.yaml").read_text() + f"types: {{acc_t: 'ap_int<{w}>'}}\n"
    p = folder / f"conv2d_acc{w}.yaml"
    p.write_text(text)
    return p


def new_configuration(quick: bool) -> list[Row]:
    """The first result of a new configuration, whole process: auto (the generic kernel)
    against the 5 s limit, and against the same run compiling the specialised kernel first."""
    repeat = 1 if quick else 3
    used: set[int] = set()
    walls: dict[str, list[float]] = {"auto": [], "specialised": []}
    tag = f"bench-new-config-{os.getpid()}"  # a numba cache of its own: nothing compiled before
    try:
        with tempfile.TemporaryDirectory() as tmp:
            _new_configurations(Path(tmp), tag, repeat, used, walls)
    finally:
        shutil.rmtree(cache_dir(tag), ignore_errors=True)
    first, compiled = min(walls["auto"]), min(walls["specialised"])
    what = "hls-sim run weights/conv2d.yaml, a new acc_t (never compiled), whole process"
    extra = dict(repeat=repeat, walls=walls)
    return [Row("new_config", what + ": first result (generic kernel)", first, "limit",
                NEW_CONFIG_LIMIT, target=1.0, extra=extra),
            Row("new_config_vs_compile", "the same", first,
                "--kernels specialised (compiles first)", compiled, extra=extra)]


def _new_configurations(tmp: Path, tag: str, repeat: int, used: set[int],
                        walls: dict[str, list[float]]) -> None:
    base = {**os.environ, "HLS_SIM_NUMBA_CACHE_TAG": tag}
    run_once([*_hls_sim(), "run", str(_new_layer(tmp, used))], {**base, "HLS_SIM_KERNELS": "auto"})  # the generic build, once per install: untimed
    for _ in range(repeat):
        for mode in walls:
            env = {**base, "HLS_SIM_KERNELS": mode}
            wall, out = run_once([*_hls_sim(), "run", str(_new_layer(tmp, used))], env)
            line = next(ln for ln in out.splitlines() if ln.startswith("kernel"))
            if ("generic kernel" in line) != (mode == "auto"):
                raise RuntimeError(f"{mode}: not a new configuration? {line}")
            walls[mode].append(wall)
