"""The C++ templates of conv2d, conv_transpose and upsample against their numba twins, with g++
and the real ap_types headers.

Every case of tests/kernels/kinds_matrix.py (the matrix test_kinds.py proves the twins on
against the naive oracle) becomes a Layer; its golden set (two vectors, the whole output each)
goes through testbench/golden_tb.cpp by hls_sim.csim.csim_layer, the library function of
``hls-sim csim``, which compares every bit. The exact-path case is included: its golden
vectors come from the twin's plain-Python path, and its maps are tiny.

The golden vectors come from the twins' generic machine code (hls_sim.jit.kernel: one build per
kind, no compile per case); test_kinds.py proves it equal, on these same inputs, to the
specialised code and to the oracle, so the C++ equals all three.
"""

from __future__ import annotations

import numpy as np
import pytest

from hls_sim import jit
from hls_sim.layer import Layer
from tests.kernels import cxx
from tests.kernels.kinds_matrix import BY_ID, CASES, Case

pytestmark = pytest.mark.toolchain

IDS = [c.id for c in CASES]
VECTORS = 2


def layer_of(case: Case) -> Layer:
    inp = case.inputs()
    geom = case.geometry
    return Layer(path=f"{case.id}.yaml", kernel=case.kind, config=case.config, input=inp["input"],
                 weight=inp["weight"], bias=inp["bias"], factor=inp["factor"],
                 top=np.zeros(geom.shape("top"), dtype=np.int64), name=case.id, geometry=geom)


@pytest.fixture(scope="module")
def testbenches(toolchain):
    """Every testbench compiled before the first test runs, in parallel (or from the cache)."""
    return cxx.prebuild([(c.kind, c.config, c.geometry) for c in CASES])


@pytest.mark.parametrize("case_id", IDS)
def test_golden_set_passes_the_cxx_testbench(testbenches, tmp_path, case_id):
    case = BY_ID[case_id]
    with jit.kernels("generic"):
        cxx.assert_csim_passes(layer_of(case), testbenches[(case.kind, case.config, case.geometry)],
                               tmp_path, VECTORS)
