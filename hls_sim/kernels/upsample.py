"""Twin of ``kernels/upsample.h``: nearest-neighbour upsampling or zero insertion, a data mover.

``out[c][HALO + i][HALO + j] = out_t(v)``: ``v = x[c][i/F][j/F]`` (nearest), or that value at
the top left of each F x F cell and 0 elsewhere (zeros); a zero border of HALO pixels
(docs/kinds.md). The only conversion is ``out_t(in_t)``, exact by default.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from hls_sim.jit import njit, prange
from hls_sim.kernels.hls_config import Plan
from hls_sim.kernels.hls_kernels import OUT_OVERFLOW
from hls_sim.kernels.kind import Geometry
from hls_sim.types.rules import OVERFLOW, conversion_params, convert

MODES = ("nearest", "zeros")


def sums(geom: Geometry, x: np.ndarray, w: None = None) -> np.ndarray:
    """The values the kernel moves (before the conversion to out_t), ``[C][H_OUT][W_OUT]``."""
    f, halo, mode = geom["scale"], geom["halo"], geom["mode"]
    x = np.asarray(x)
    c, h, w_ = x.shape
    out = np.zeros((c, h * f + 2 * halo, w_ * f + 2 * halo), dtype=x.dtype)
    if mode == "nearest":
        out[:, halo:halo + h * f, halo:halo + w_ * f] = x.repeat(f, axis=1).repeat(f, axis=2)
    else:
        out[:, halo:halo + h * f:f, halo:halo + w_ * f:f] = x
    return out


def build(plan: Plan, geom: Geometry, jit: Callable = njit) -> Callable:
    """Compile the upsampler for one configuration and geometry (constants in capitals)."""
    c = plan.config
    C, H, W = geom.shape("input")
    F, HALO, ZEROS = geom["scale"], geom["halo"], geom["mode"] == "zeros"
    _, HO, WO = geom.shape("top")
    TO_OUT = conversion_params(c.in_t, c.out_t)

    @jit(parallel=True)
    def upsample(x, out, counters):
        for ch in prange(C):
            n_over = 0
            for i in range(HO):  # the halo (and every cell) starts at zero
                for j in range(WO):
                    out[ch, i, j] = 0
            for i in range(H * F):
                for j in range(W * F):
                    if ZEROS and (i % F != 0 or j % F != 0):
                        continue
                    v, st = convert(x[ch, i // F, j // F], TO_OUT)
                    out[ch, HALO + i, HALO + j] = v
                    n_over += (st & OVERFLOW) != 0
            counters[ch, OUT_OVERFLOW] += n_over

    return upsample
