"""The C++ side of the kernel tests: the matrix's layers through the one harness,
testbench/golden_tb.cpp, via hls_sim.csim (the library behind ``hls-sim csim``).

Testbench binaries are cached under build/golden_tb/, keyed by the text of everything compiled
(the golden set's generated headers, the testbench, kernels/), so a re-run compiles nothing;
:func:`prebuild` compiles a whole matrix in parallel, one g++ per core.
"""

from __future__ import annotations

import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from hls_sim.csim import build_testbench
from hls_sim.golden import generated_files
from hls_sim.kernels import KernelConfig
from hls_sim.layer import Layer
from tests.kernels.matrix import make_inputs, seed_of

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / "build" / "golden_tb"
FLAGS = ("-std=c++14", "-O1", "-w")  # for the other C++ programs the tests compile


def layer_of(kernel: str, name: str, config: KernelConfig, scale: float, *parts: str) -> Layer:
    """A layer of the matrix: random raw inputs (matrix.make_inputs) seeded by its names."""
    inp = make_inputs(kernel, config, scale, seed=seed_of(kernel, name, "golden", *parts))
    return Layer(path=f"{kernel}-{name}.yaml", kernel=kernel, config=config, input=inp["bottom"],
                 weight=inp["weight"], bias=inp["bias"], factor=inp["factor"], top=inp["top"],
                 name=name)


def _jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def prebuild(jobs: list[tuple]) -> dict[tuple, Path]:
    """Compile (or find in the cache) the testbench of every (kernel, configuration) or
    (kernel, configuration, geometry), in parallel. Only the generated headers are needed for
    that, not the data."""
    with tempfile.TemporaryDirectory() as tmp:
        def one(i: int) -> Path:
            kernel, config, *geom = jobs[i]
            d = Path(tmp) / str(i)
            d.mkdir()
            for n, data in generated_files(kernel, config, *geom).items():
                (d / n).write_bytes(data)
            return build_testbench(d, cache_dir=CACHE)

        with ThreadPoolExecutor(max_workers=_jobs()) as pool:
            return dict(zip(jobs, pool.map(one, range(len(jobs)))))


def assert_csim_passes(layer: Layer, exe: Path, tmp_path: Path, vectors: int) -> None:
    """Run ``layer``'s golden set (``vectors`` vectors) through its prebuilt testbench ``exe``
    and assert that every output element matched, bit for bit."""
    from hls_sim.csim import csim_layer

    res = csim_layer(layer, count=vectors, build_dir=tmp_path, cache_dir=CACHE)
    assert res.exe == exe  # the prebuilt binary, not a new one
    assert res.passed and res.returncode == 0, res.output
    n = int(np.prod(np.shape(layer.top))) if layer.spec.seed else int(np.prod(layer.geometry.shape("top")))
    assert (f"PASS: {vectors} vector(s), {vectors} tensor(s), {vectors * n} elements "
            "checked bit for bit, 0 mismatches") in res.output, res.output
