"""Seed 004's depthwise-separable deconvolution, built from the seed kernels.

A [16][16][32] tile is upsampled x2 into the seed's [16][34][66] buffer (zero insertion, the
pixel at the top left of each 2x2 cell, a one-pixel zero halo), run through the seed's
DW_CONV_3x3 with the kernel flipped by 180 degrees, moved to where the seed's conv1x1 reads
(h 0..31, w 0..63) and run through conv1x1. That is exactly a depthwise ConvTranspose2d
(groups=16, K=3, S=2, P=1, output_padding=1) followed by a 1x1 convolution, which this script
also runs with the whole-map kinds, and compares bit for bit. ``--mode nearest`` swaps the
zero insertion for nearest-neighbour upsampling (a "resize-convolution": a different layer, so
it is only run, not compared).

    python weights/separable_deconv.py [--mode zeros|nearest]
"""

from __future__ import annotations

import argparse

import numpy as np

from hls_sim.kernels import KernelConfig, run

DW_FACTOR = 0.004     # requantization of the depthwise stage
PW_FACTOR = 0.0066    # and of the pointwise one


def data(seed: int = 4) -> dict[str, np.ndarray]:
    """A tile, depthwise weights in ConvTranspose2d's layout [16][1][3][3], pointwise weights
    [16][16], biases and factors (raw integers of the seed's types)."""
    rng = np.random.default_rng(seed)
    cfg = KernelConfig()
    return {"x": rng.integers(0, 256, (16, 16, 32)),
            "w_dw": np.clip(np.rint(rng.normal(0, 40, (16, 1, 3, 3))), -128, 127).astype(np.int64),
            "b_dw": rng.integers(-20, 40, 16), "w_pw": rng.integers(-60, 61, (16, 16)),
            "b_pw": rng.integers(-20, 40, 16),
            "f_dw": cfg.factor_t.quantize(DW_FACTOR).raw, "f_pw": cfg.factor_t.quantize(PW_FACTOR).raw}


def seed_chain(d: dict, mode: str = "zeros") -> dict[str, np.ndarray]:
    """upsample -> DW_CONV_3x3 (flipped kernel) -> conv1x1, on the seed's buffers."""
    up = run("upsample", d["x"], scale=2, mode=mode, halo=1).top.raw           # [16][34][66]
    w_flipped = d["w_dw"][:, 0, ::-1, ::-1]                                     # [16][3][3]
    zero = np.zeros((16, 34, 66), dtype=np.int64)
    dw = run("dw_conv3x3", up, np.ascontiguousarray(w_flipped), d["b_dw"], d["f_dw"], top=zero)
    moved = np.zeros((16, 34, 66), dtype=np.int64)
    moved[:, 0:32, 0:64] = dw.top.raw[:, 1:33, 1:65]   # DW writes h 1..32; conv1x1 reads h 0..31
    pw = run("conv1x1", moved, d["w_pw"], d["b_pw"], d["f_pw"], top=zero)
    return {"upsampled": up, "depthwise": dw.top.raw[:, 1:33, 1:65],
            "output": pw.top.raw[:, 0:32, 0:64]}


def whole_map_chain(d: dict) -> dict[str, np.ndarray]:
    """conv_transpose (depthwise, K=3, S=2, P=1, output_padding=1) -> conv2d 1x1."""
    ct = run("conv_transpose", d["x"], d["w_dw"], d["b_dw"], d["f_dw"], kernel_size=3, stride=2,
             padding=1, output_padding=1, groups=16)
    pw = run("conv2d", ct.top.raw, d["w_pw"].reshape(16, 16, 1, 1), d["b_pw"], d["f_pw"],
             kernel_size=1)
    return {"depthwise": ct.top.raw, "output": pw.top.raw}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mode", choices=("zeros", "nearest"), default="zeros")
    mode = ap.parse_args().mode
    d = data()
    seed = seed_chain(d, mode)
    print(f"seed chain ({mode}): upsample [16][16][32] -> [16][34][66], DW_CONV_3x3 (flipped), "
          f"conv1x1: output [16][32][64], raw {seed['output'].min()}..{seed['output'].max()}")
    if mode == "zeros":
        whole = whole_map_chain(d)
        for k in ("depthwise", "output"):
            same = int(np.count_nonzero(seed[k] == whole[k]))
            print(f"{k:9s} equal to conv_transpose -> conv2d 1x1: {same} of {seed[k].size} values")


if __name__ == "__main__":
    main()
