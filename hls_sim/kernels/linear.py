"""Twin of ``kernels/linear.h``: a fully connected layer, ``out[co] = epilogue(sum_ci
weight[co][ci] * in[ci])``, PyTorch Linear's weight layout ``[C_OUT][C_IN]``.

The C++ takes the inputs in blocks of 16, one compute_engine_16 step per block, and
accumulates as ``accumulate`` says: the very order conv2d uses for a 1x1 convolution of a 1x1
map. So the twin *is* that conv2d (its compiled loop nest), on the input as ``[C_IN][1][1]``
and the weight as ``[C_OUT][C_IN][1][1]``; hls-sim holds the layer's input and output as
``[C][1][1]`` maps for the same reason (docs/kinds.md, "linear").
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from hls_sim.jit import njit
from hls_sim.kernels import conv2d
from hls_sim.kernels.hls_config import Plan
from hls_sim.kernels.kind import Geometry


def as_conv(geom: Geometry) -> Geometry:
    """The conv2d (1x1 kernel, 1x1 map) the layer runs as."""
    from hls_sim.kernels.kinds import KINDS

    p = geom.params
    return KINDS["conv2d"].geometry({
        "in_channels": p["in_features"], "height": 1, "width": 1,
        "out_channels": p["out_features"], "kernel_size": 1, "accumulate": p["accumulate"],
        "activation": p["activation"], "clip_at": p["clip_at"]})


def operands(geom: Geometry, x: np.ndarray | None, w: np.ndarray | None) -> tuple:
    """Input and weight in the layout of that conv2d."""
    return (None if x is None else np.asarray(x).reshape(-1, 1, 1),
            None if w is None else np.asarray(w)[:, :, None, None])


def sums(geom: Geometry, x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The exact sums of products, ``[C_OUT][1][1]``."""
    xc, wc = operands(geom, x, w)
    return conv2d.conv_sums(xc, wc, geom["out_features"], 1, 1, 1, 1, 0, 1, 1)


def intermediates(plan: Plan, geom: Geometry) -> tuple:
    return conv2d.intermediates(plan, as_conv(geom))


def total_type(plan: Plan, geom: Geometry):  # noqa: ANN201 - Format
    return conv2d.total_type(plan, as_conv(geom))


def build(plan: Plan, geom: Geometry, jit: Callable = njit) -> Callable:
    """The layer for one configuration and size: conv2d's compiled loop nest."""
    inner = conv2d.build(plan, as_conv(geom), jit)

    def linear(x, out, weight, bias, factor, counters):  # noqa: ANN001, ANN202
        inner(x, out, np.ascontiguousarray(weight[:, :, None, None]), bias, factor, counters)

    return linear
