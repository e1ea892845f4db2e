"""The bundled examples in weights/: layer files and network files (the tests that try every
layer file must not be handed a network)."""

from __future__ import annotations

from pathlib import Path

from hls_sim.layer import read_yaml
from hls_sim.network import is_network

WEIGHTS = Path(__file__).resolve().parents[2] / "weights"
ALL = sorted(WEIGHTS.glob("*.yaml"))
NETWORK_EXAMPLES = [p for p in ALL if is_network(read_yaml(p))]
LAYER_EXAMPLES = [p for p in ALL if p not in NETWORK_EXAMPLES]
