"""Twin of ``kernels/conv_transpose.h``: PyTorch ConvTranspose2d as the accelerator runs it.

As in the C++ (and the design documents): insert S-1 zeros between the input pixels, pad by
Q = D(K-1) - P on every side plus output_padding at the bottom and right, then run conv2d
(stride 1, no padding, dilation D, groups G) with the kernel flipped by 180 degrees and its
channel axes swapped. The zero-inserted map and the flipped weight are built here, the
convolution is conv2d's compiled twin (docs/kinds.md).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from hls_sim.jit import njit
from hls_sim.kernels import conv2d
from hls_sim.kernels.hls_config import Plan
from hls_sim.kernels.kind import Geometry


def out_size(n: int, k: int, s: int, p: int, d: int, op: int) -> int:
    """PyTorch's ConvTranspose2d output size along one axis."""
    return (n - 1) * s - 2 * p + d * (k - 1) + op + 1


def zero_insert(x: np.ndarray, geom: Geometry) -> np.ndarray:
    """``xz``: S-1 zeros between pixels, Q = D(K-1)-P around, output_padding more at the
    bottom and right."""
    s, q, op = geom["stride"], pad_of(geom), geom["output_padding"]
    c, h, w = x.shape
    hz, wz = (h - 1) * s + 1 + 2 * q + op, (w - 1) * s + 1 + 2 * q + op
    xz = np.zeros((c, hz, wz), dtype=x.dtype)
    xz[:, q:q + (h - 1) * s + 1:s, q:q + (w - 1) * s + 1:s] = x
    return xz


def flip(w: np.ndarray, geom: Geometry) -> np.ndarray:
    """``wf[co][ci][kh][kw] = weight[g*Cg + ci][co mod (C_OUT/G)][K-1-kh][K-1-kw]``."""
    g = geom["groups"]
    ci_total, cog, k, _ = w.shape
    cg = ci_total // g
    wf = np.empty((g * cog, cg, k, k), dtype=w.dtype)
    for grp in range(g):
        blk = w[grp * cg:(grp + 1) * cg]  # [cg][cog][k][k]
        wf[grp * cog:(grp + 1) * cog] = blk.transpose(1, 0, 2, 3)[:, :, ::-1, ::-1]
    return wf


def pad_of(geom: Geometry) -> int:
    return geom["dilation"] * (geom["kernel_size"] - 1) - geom["padding"]


def as_conv(geom: Geometry) -> Geometry:
    """The conv2d geometry the deconvolution runs as (on the zero-inserted map)."""
    from hls_sim.kernels.kinds import KINDS

    ci, h, w = geom.shape("input")
    s, q, op = geom["stride"], pad_of(geom), geom["output_padding"]
    p = dict(geom.params)
    return KINDS["conv2d"].geometry({
        "in_channels": ci, "height": (h - 1) * s + 1 + 2 * q + op,
        "width": (w - 1) * s + 1 + 2 * q + op, "out_channels": p["out_channels"],
        "kernel_size": p["kernel_size"], "stride": 1, "padding": 0, "dilation": p["dilation"],
        "groups": p["groups"], "accumulate": p["accumulate"], "activation": p["activation"],
        "clip_at": p["clip_at"]})


def operands(geom: Geometry, x: np.ndarray | None, w: np.ndarray | None) -> tuple:
    """Input and weight of the conv2d the deconvolution runs as (either may be None)."""
    return (None if x is None else zero_insert(np.asarray(x), geom),
            None if w is None else flip(np.asarray(w), geom))


def scale_weight(geom: Geometry, w: np.ndarray, per_out: np.ndarray) -> np.ndarray:
    """``w`` ([C_IN][C_OUT/G][K][K]) with output channel co's weights times ``per_out[co]``
    (the output channel is axis 1, within each group's block of input channels)."""
    g = geom["groups"]
    ci, cog = w.shape[:2]
    out = np.empty_like(w, dtype=np.float64)
    for grp in range(g):
        blk = slice(grp * (ci // g), (grp + 1) * (ci // g))
        out[blk] = w[blk] * per_out[grp * cog:(grp + 1) * cog].reshape(1, cog, 1, 1)
    return out


def sums(geom: Geometry, x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The exact sums of products, computed as the kernel does (zero insertion, flip)."""
    cg = as_conv(geom)
    co, ho, wo = cg.shape("top")
    return conv2d.conv_sums(zero_insert(np.asarray(x), geom), flip(np.asarray(w), geom), co, ho,
                            wo, cg["kernel_size"], 1, 0, cg["dilation"], cg["groups"])


def intermediates(plan: Plan, geom: Geometry) -> tuple:
    return conv2d.intermediates(plan, as_conv(geom))


def total_type(plan: Plan, geom: Geometry):  # noqa: ANN201 - Format
    return conv2d.total_type(plan, as_conv(geom))


def build(plan: Plan, geom: Geometry, jit: Callable = njit) -> Callable:
    """The deconvolution for one configuration and geometry: zero insertion and the flipped
    weight (numpy), then conv2d's compiled loop nest, which skips the engine steps that read
    only inserted zeros (the C++ runs them: they add nothing)."""
    # the zero-inserted map is zero except at rows and columns Q + i*S: skip the rest
    inner = conv2d.build(plan, as_conv(geom), jit, geom["stride"], pad_of(geom))

    def conv_transpose(x, out, weight, bias, factor, counters):  # noqa: ANN001, ANN202
        inner(zero_insert(x, geom), out, np.ascontiguousarray(flip(weight, geom)), bias, factor,
              counters)

    return conv_transpose
