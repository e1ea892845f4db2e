"""Twin of ``kernels/dw_conv3x3.cpp``: the seed's depthwise 3x3 convolution (DW_CONV_3x3).

Loops and index ranges as in the C++: every channel, the interior h 1..32, w 1..64 of the
padded [16][34][66] buffers, reading the one-pixel halo; the halo of ``top`` is left as it was.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from hls_sim.jit import njit, prange
from hls_sim.kernels import common
from hls_sim.kernels.hls_config import KernelConfig, Plan
from hls_sim.kernels.hls_kernels import finish_row


def build(plan: Plan, jit: Callable = njit) -> Callable:
    """Compile DW_CONV_3x3 for one configuration; every name in capitals is a constant to
    numba (a kernel captures only constants, so numba's disk cache can key it)."""
    c = plan.config
    (TO_ACC, TO_QD, BIAS_SHIFT, QD_SHIFT, TO_SUM, CLIP, THRESHOLD, OUT_MAX,
     TO_OUT) = plan.finish_constants(plan.chain9_t)
    PER_CHANNEL = c.per_channel_factor

    @jit(parallel=True)
    def DW_CONV_3x3(bottom, top, weight, bias, factor, counters):
        for co in prange(16):
            f = factor[co] if PER_CHANNEL else factor[0]
            totals = np.empty(64, dtype=bottom.dtype)
            vals = np.empty((4, 64), dtype=top.dtype)  # object arrays on the exact path
            sts = np.empty((4, 64), dtype=np.uint8)
            for h in range(1, 33):
                for w in range(1, 65):
                    totals[w - 1] = ((weight[co, 0, 0] * bottom[co, h - 1, w - 1])
                                     + (weight[co, 0, 1] * bottom[co, h - 1, w])
                                     + (weight[co, 0, 2] * bottom[co, h - 1, w + 1])
                                     + (weight[co, 1, 0] * bottom[co, h, w - 1])
                                     + (weight[co, 1, 1] * bottom[co, h, w])
                                     + (weight[co, 1, 2] * bottom[co, h, w + 1])
                                     + (weight[co, 2, 0] * bottom[co, h + 1, w - 1])
                                     + (weight[co, 2, 1] * bottom[co, h + 1, w])
                                     + (weight[co, 2, 2] * bottom[co, h + 1, w + 1]))
                # mid_result = acc_t(total); top[co][h][w] = relu(bias + qunat_dequant2(...))
                finish_row(totals, top[co, h, 1:65], bias[co], f, counters[co], vals, sts,
                           TO_ACC, TO_QD, BIAS_SHIFT, QD_SHIFT, TO_SUM, CLIP, THRESHOLD,
                           OUT_MAX, TO_OUT)

    return DW_CONV_3x3



def dw_conv3x3(bottom: Any, top: Any, weight: Any, bias: Any, factor: Any,
               config: KernelConfig | None = None) -> common.KernelResult:
    """Run the depthwise 3x3 convolution on raw integers (or APArrays) of the configured types.

    bottom, top: [16][34][66] of in_t / out_t; weight: [16][3][3] of weight_t;
    bias: [16] of bias_t; factor: a scalar factor_t, or [16] when per_channel_factor.
    """
    from hls_sim.kernels.kinds import KINDS

    kind = KINDS["dw_conv3x3"]
    return common.run(kind, kind.geometry(), config, bottom, top, weight, bias, factor)
