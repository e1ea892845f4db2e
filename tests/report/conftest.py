"""Layers shared by the report tests: built once per session (each distinct kernel
configuration costs a numba compilation the first time it is ever seen; every configuration
here is one the kernel tests also run, so numba's disk cache usually has it)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hls_sim.layer import load_layer
from hls_sim.report import build_report

ROOT = Path(__file__).resolve().parents[2]
WEIGHTS = ROOT / "weights"
SEED = f"""\
kernel: conv1x1
weight: {{file: {WEIGHTS / 'conv1x1_weight.npy'}}}
bias: {{file: {WEIGHTS / 'conv1x1_bias.npy'}}}
input: {{file: {WEIGHTS / 'conv1x1_input.npy'}}}
"""
# deliberately bad configurations of the seed conv1x1 data (configurations of tests/kernels/matrix.py)
BAD = {
    "narrow-acc-wrap": SEED + "factor: 0.0115\ntypes: {acc_t: 'ap_int<14>'}\n",
    "qd-trn": SEED + "factor: 0.0115\ntypes: {qd_t: 'ap_fixed<16,16,AP_TRN,AP_SAT>'}\n",
    "saturating-factor": SEED + "factor: 0.2\ntypes: {qd_t: 'ap_fixed<12,12,AP_RND_CONV,AP_SAT_SYM>'}\n",
    "relu-noclip": SEED + "factor: 0.0115\nrelu_clip: false\n",
}


@pytest.fixture(scope="session")
def layer_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("layers")
    for name, text in BAD.items():
        (d / f"{name}.yaml").write_text(text)
    return d


@pytest.fixture(scope="session")
def bad_reports(layer_dir) -> dict:
    return {name: build_report(load_layer(layer_dir / f"{name}.yaml")) for name in BAD}


@pytest.fixture(scope="session")
def seed_report():
    return build_report(load_layer(WEIGHTS / "conv1x1.yaml"))


def float_layer_data(seed: int = 0) -> dict[str, np.ndarray]:
    """A small float conv1x1 layer with post-relu calibration inputs."""
    rng = np.random.default_rng(seed)
    return {"weight": rng.normal(0, 0.1, (16, 16)) * rng.uniform(0.3, 1.0, (16, 1)),
            "bias": rng.normal(0.05, 0.05, 16),
            "calibration": np.maximum(rng.normal(0.2, 1.0, (3, 16, 34, 66)), 0)}
