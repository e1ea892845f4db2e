"""Regenerates the example data next to this file (run once; the outputs are committed).

    python weights/make_examples.py [OUT_DIR]

Raw integers of the seed's types (ap_uint<8> activations, ap_int<8> weights, ap_int<16>
bias), drawn with numpy's default_rng and fixed seeds, with magnitudes like a real
quantized layer: post-ReLU activations (about 40% zeros), weights of standard deviation
~30 LSB, positive biases. With the factors in the .yaml files the outputs spread over
0..255 and few clip at the top. tests/test_layer.py checks that this script reproduces the
committed files exactly.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np


def _activations(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return np.clip(np.rint(rng.normal(10, 50, shape)), 0, 255).astype(np.uint8)


def _weights(rng: np.random.Generator, shape: tuple[int, ...], std: float) -> np.ndarray:
    return np.clip(np.rint(rng.normal(0, std, shape)), -128, 127).astype(np.int8)


def _bias(rng: np.random.Generator) -> np.ndarray:
    return np.clip(np.rint(rng.normal(64, 16, 16)), -32768, 32767).astype(np.int16)


def make(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1001)  # conv1x1: the full padded buffer [16][34][66]
    written = []
    for name, arr in (("conv1x1_input.npy", _activations(rng, (16, 34, 66))),
                      ("conv1x1_weight.npy", _weights(rng, (16, 16), 28)),
                      ("conv1x1_bias.npy", _bias(rng))):
        np.save(out / name, arr, allow_pickle=False)
        written.append(out / name)
    rng = np.random.default_rng(1002)  # dw_conv3x3: the tile [16][32][64], one .npz
    np.savez_compressed(out / "dw_conv3x3.npz", input=_activations(rng, (16, 32, 64)),
                        weight=_weights(rng, (16, 3, 3), 40), bias=_bias(rng))
    written.append(out / "dw_conv3x3.npz")
    return written


if __name__ == "__main__":
    for p in make(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent):
        print(p)
