"""The numba twins against the C++ kernels compiled with g++ and the real ap_types headers.

Every configuration of the matrix, both kernels, the whole top buffer bit for bit; plus the
seed's own two functions, pasted verbatim, against kernels/ (testbench/seed_equivalence.cpp).
"""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from hls_sim.kernels import RUNNERS
from hls_sim.toolchain import compile_cpp
from tests.kernels import cxx
from tests.kernels.matrix import CONFIGS, EXACT_CONFIG, KERNELS, config_of, make_inputs, seed_of

pytestmark = pytest.mark.toolchain

ALL = {**CONFIGS, "exact-path": EXACT_CONFIG}
CASES = [(k, name) for k in KERNELS for name in ALL]


@pytest.fixture(scope="module")
def runners(toolchain):
    return cxx.build_all([(k, config_of(ALL[name][0])) for k, name in CASES])


@pytest.mark.parametrize("kernel, name", CASES)
def test_twin_equals_cxx_kernel(runners, kernel, name):
    fields, scale = ALL[name]
    c = config_of(fields)
    for seed in range(2):
        inp = make_inputs(kernel, c, scale, seed=seed_of(kernel, name, "cxx", str(seed)))
        want = cxx.run(runners[(kernel, c)], inp)
        got = RUNNERS[kernel](inp["bottom"], inp["top"], inp["weight"], inp["bias"], inp["factor"], c)
        diff = np.argwhere(got.top.raw.astype(np.int64) != want)
        assert diff.size == 0, f"{len(diff)} outputs differ, first at {diff[0].tolist()}"


def test_seed_verbatim_equals_kernels(toolchain, tmp_path):
    exe = compile_cpp([cxx.ROOT / "testbench/seed_equivalence.cpp", cxx.ROOT / "kernels/conv1x1.cpp",
                       cxx.ROOT / "kernels/dw_conv3x3.cpp"], tmp_path / "seed_equivalence",
                      include_dirs=[cxx.ROOT / "kernels", cxx.ROOT / "testbench"], flags=cxx.FLAGS)
    proc = subprocess.run([str(exe)], capture_output=True, text=True)
    assert proc.returncode == 0 and "PASS" in proc.stdout, proc.stdout + proc.stderr
