"""The numba twins against the C++ kernels compiled with g++ and the real ap_types headers.

Every configuration of the matrix, both kernels (30 layers): the twin writes a golden set (two
vectors, the whole top buffer each), and testbench/golden_tb.cpp replays it through the C++
kernel and compares every bit -- through hls_sim.csim.csim_layer, the library function of
``hls-sim csim``, so the tests, the command and Vitis users share one harness. Plus the seed's
own two functions, pasted verbatim, against kernels/ (testbench/seed_equivalence.cpp).
"""

from __future__ import annotations

import subprocess

import pytest

from hls_sim.toolchain import compile_cpp
from tests.kernels import cxx
from tests.kernels.matrix import CONFIGS, ENGINE_CONFIGS, EXACT_CONFIG, KERNELS, config_of

pytestmark = pytest.mark.toolchain

ALL = {**CONFIGS, "exact-path": EXACT_CONFIG, **ENGINE_CONFIGS}
CASES = [(k, name) for k in KERNELS for name in ALL if k == "conv1x1" or name not in ENGINE_CONFIGS]
VECTORS = 2


def test_the_matrix_is_large_enough():
    assert len(CASES) >= 24 and {k for k, _ in CASES} == set(KERNELS)


@pytest.fixture(scope="module")
def testbenches(toolchain):
    """Every testbench compiled before the first test runs, in parallel (or from the cache)."""
    return cxx.prebuild([(k, config_of(ALL[name][0])) for k, name in CASES])


@pytest.mark.parametrize("kernel, name", CASES)
def test_golden_set_passes_the_cxx_testbench(testbenches, tmp_path, kernel, name):
    fields, scale = ALL[name]
    layer = cxx.layer_of(kernel, name, config_of(fields), scale)
    cxx.assert_csim_passes(layer, testbenches[(kernel, layer.config)], tmp_path, VECTORS)


def test_seed_verbatim_equals_kernels(toolchain, tmp_path):
    exe = compile_cpp([cxx.ROOT / "testbench/seed_equivalence.cpp", cxx.ROOT / "kernels/conv1x1.cpp",
                       cxx.ROOT / "kernels/dw_conv3x3.cpp"], tmp_path / "seed_equivalence",
                      include_dirs=[cxx.ROOT / "kernels", cxx.ROOT / "testbench"], flags=cxx.FLAGS)
    proc = subprocess.run([str(exe)], capture_output=True, text=True)
    assert proc.returncode == 0 and "PASS" in proc.stdout, proc.stdout + proc.stderr
