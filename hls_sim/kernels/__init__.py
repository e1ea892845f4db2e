"""The kernel twins: one module per C++ kernel in kernels/, same names, same loops.

``KINDS`` (:mod:`hls_sim.kernels.kinds`) is the one registry of kernel kinds that the layer
files, the reference, the report, golden vectors, csim, the tests and the benchmarks share;
:func:`run` runs any kind on raw integers.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hls_sim.kernels.common import Counters, KernelResult
from hls_sim.kernels.conv1x1 import conv1x1
from hls_sim.kernels.dw_conv3x3 import dw_conv3x3
from hls_sim.kernels.hls_config import KernelConfig, Plan
from hls_sim.kernels.kind import Geometry, Kind
from hls_sim.kernels.kinds import KINDS, get_kind


def run(kind: str, input: Any, weight: Any = None, bias: Any = None, factor: Any = None,
        config: KernelConfig | None = None, top: Any = None, input2: Any = None,
        **params: Any) -> KernelResult:
    """Run kernel kind ``kind`` on raw integers (or APArrays) of the configured types.

    ``params`` are the kind's parameters (``kernel_size=3, stride=2, ...``); the input's
    channels, height and width are read from its shape when not given (and a merge kind's
    ``input2`` channels from its shape)::

        res = run("conv_transpose", x, w, b, f, cfg, kernel_size=3, stride=2, padding=1,
                  output_padding=1)
        res.top.raw          # [C_OUT][H_OUT][W_OUT] raw out_t integers
        run("add", a, config=cfg, input2=b, relu=True)
    """
    k = get_kind(kind)
    given = {"input": input, "input2": input2}
    for role, dims in (k.file_dims if not k.seed else ()):
        arr = given[role]
        shape = np.shape(arr.raw if hasattr(arr, "raw") else arr)
        if dims and len(shape) in (len(dims), 3):
            for n, v in zip(dims, shape):
                params.setdefault(n, v)
    geom = k.geometry(params)
    shape = np.shape(input.raw if hasattr(input, "raw") else input)
    if len(k.input_dims) == 1 and len(shape) == 1:  # a vector kind: [C] as hls-sim's [C][1][1]
        input = input.reshape(-1, 1, 1)
    from hls_sim.kernels import common

    return common.run(k, geom, config, input, top, weight, bias, factor, input2)


__all__ = ["KINDS", "Counters", "Geometry", "Kind", "KernelConfig", "KernelResult", "Plan",
           "conv1x1", "dw_conv3x3", "get_kind", "run"]
