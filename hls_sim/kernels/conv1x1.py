"""Twin of ``kernels/conv1x1.cpp``: the seed's pointwise 1x1 convolution, 16 -> 16 channels.

Loops and index ranges as in the C++ (h 0..31, w 0..63 of the padded [16][34][66] buffers,
every output channel); what the kernel does not write keeps its value in ``top``.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from hls_sim.jit import njit, prange
from hls_sim.kernels import common
from hls_sim.kernels.hls_config import KernelConfig, Plan
from hls_sim.kernels.hls_kernels import (ENGINE_OVERFLOW, N_COUNTERS, compute_engine_16,
                                        count_overflowed, finish_row, typed_tree)


def build(plan: Plan, jit: Callable = njit) -> Callable:
    """Compile conv1x1 for one configuration; every name in capitals is a constant to numba
    (a kernel captures only constants, so numba's disk cache can key it)."""
    c = plan.config
    (TO_ACC, TO_QD, BIAS_SHIFT, QD_SHIFT, TO_SUM, CLIP, THRESHOLD, OUT_MAX,
     TO_OUT) = plan.finish_constants(plan.engine_t)
    PER_CHANNEL, NC = c.per_channel_factor, N_COUNTERS
    TYPED = c.engine_typed  # product_t / tree_t: the engine converts (hls_layer.h)
    TO_PROD, TO_L1, TO_L = plan.engine_params

    @jit(parallel=True)
    def conv1x1(bottom, top, weight, bias, factor, counters):
        # The C++ nest is h, w, coo; here h, coo, then w innermost so that rows vectorize.
        # Every output depends only on its own (coo, h, w), so the order cannot change a
        # bit (the tests compare with the C++).
        rows = np.empty((32, 16, NC), dtype=np.int64)  # counters per row h: no races
        for h in prange(32):  # the only parallel loop: one launch per call
            totals = np.empty(64, dtype=bottom.dtype)
            vals = np.empty((4, 64), dtype=top.dtype)  # object arrays on the exact path
            sts = np.empty((4, 64), dtype=np.uint8)
            prods = np.empty((16 if TYPED else 0, 64), dtype=top.dtype)
            flags = np.empty(64, dtype=np.uint8)
            for coo in range(16):  # output channel
                for k in range(NC):
                    rows[h, coo, k] = 0
                if TYPED:
                    for k in range(16):
                        wk = weight[coo, k]
                        for w in range(64):
                            prods[k, w] = wk * bottom[k, h, w]
                    for w in range(64):
                        flags[w] = 0
                    typed_tree(prods, 0, 64, flags, TO_PROD, TO_L1, TO_L)
                    for w in range(64):
                        totals[w] = prods[0, w]
                    rows[h, coo, ENGINE_OVERFLOW] += count_overflowed(flags, 0, 64)
                else:
                    compute_engine_16(weight, bottom, coo, h, totals)
                f = factor[coo] if PER_CHANNEL else factor[0]
                finish_row(totals, top[coo, h, 0:64], bias[coo], f, rows[h, coo], vals, sts,
                           TO_ACC, TO_QD, BIAS_SHIFT, QD_SHIFT, TO_SUM, CLIP, THRESHOLD,
                           OUT_MAX, TO_OUT)
        for h in range(32):  # scalar loops: whole-array operations would become parallel loops
            for coo in range(16):
                for k in range(NC):
                    counters[coo, k] += rows[h, coo, k]

    return conv1x1



def conv1x1(bottom: Any, top: Any, weight: Any, bias: Any, factor: Any,
            config: KernelConfig | None = None) -> common.KernelResult:
    """Run the 1x1 convolution on raw integers (or APArrays) of the configured types.

    bottom, top: [16][34][66] of in_t / out_t; weight: [16][16] of weight_t (weight[coo][ci]);
    bias: [16] of bias_t; factor: a scalar factor_t, or [16] when per_channel_factor.
    """
    from hls_sim.kernels.kinds import KINDS

    kind = KINDS["conv1x1"]
    return common.run(kind, kind.geometry(), config, bottom, top, weight, bias, factor)
