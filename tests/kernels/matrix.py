"""The configurations the kernel tests run (both kernels each), and their random inputs.

Shared by the oracle tier and the g++ tier, so both prove the same matrix.
"""

from __future__ import annotations

import zlib

import numpy as np

from hls_sim.kernels import KernelConfig

KERNELS = ("conv1x1", "dw_conv3x3")
WEIGHT_SHAPE = {"conv1x1": (16, 16), "dw_conv3x3": (16, 3, 3)}

# id -> (KernelConfig fields, factor magnitude as a fraction of factor_t's range)
CONFIGS: dict[str, tuple[dict, float]] = {
    "seed-default": ({}, 2.0 ** -14),
    "per-channel": ({"per_channel_factor": True}, 2.0 ** -14),
    "qd-trn-sat": ({"qd_t": "ap_fixed<16,16,AP_TRN,AP_SAT>"}, 0.5),
    "qd-conv-satsym": ({"qd_t": "ap_fixed<12,12,AP_RND_CONV,AP_SAT_SYM>"}, 2.0 ** -4),
    "qd-rndzero-wrap": ({"qd_t": "ap_fixed<10,10,AP_RND_ZERO,AP_WRAP>"}, 2.0 ** -5),
    "qd-rndinf-satzero-pc": ({"qd_t": "ap_fixed<10,10,AP_RND_INF,AP_SAT_ZERO>",
                              "per_channel_factor": True}, 2.0 ** -5),
    "qd-minf-wrapsm": ({"qd_t": "ap_fixed<10,10,AP_RND_MIN_INF,AP_WRAP_SM>"}, 2.0 ** -5),
    "qd-trnzero-wrap-n2": ({"qd_t": "ap_fixed<10,10,AP_TRN_ZERO,AP_WRAP,2>"}, 2.0 ** -5),
    "relu-noclip-wrap": ({"relu_clip": False}, 2.0 ** -13),
    "relu-noclip-sat-out": ({"relu_clip": False, "out_t": "ap_ufixed<8,8,AP_RND,AP_SAT>"}, 2.0 ** -13),
    "narrow-acc-wrap": ({"acc_t": "ap_int<14>"}, 2.0 ** -10),
    "acc-sat-fixed": ({"acc_t": "ap_fixed<14,14,AP_TRN,AP_SAT>", "per_channel_factor": True}, 2.0 ** -10),
    "fractional-datapath": ({"in_t": "ap_ufixed<8,4>", "weight_t": "ap_fixed<8,2>",
                             "acc_t": "ap_fixed<24,12,AP_RND,AP_SAT>",
                             "factor_t": "ap_ufixed<16,4>",
                             "qd_t": "ap_fixed<20,10,AP_RND_CONV,AP_SAT>",
                             "sum_t": "ap_fixed<22,12,AP_TRN,AP_WRAP>",
                             "bias_t": "ap_fixed<12,6>",
                             "out_t": "ap_ufixed<8,4,AP_RND,AP_SAT>"}, 2.0 ** -6),
    "narrow-sum-signed-out": ({"sum_t": "ap_int<9>", "out_t": "ap_int<8>", "qd_t": "ap_int<16>"},
                              2.0 ** -13),
}

# compute_engine_16 with its own types (conv1x1 only: DW_CONV_3x3 has no adder tree): products
# rounded and saturated, adders saturating; then adders that wrap, on natural products
ENGINE_CONFIGS: dict[str, tuple[dict, float]] = {
    "engine-product-tree-sat": ({"product_t": "ap_fixed<12,16,AP_RND,AP_SAT>",
                                 "tree_t": "ap_fixed<14,16,AP_TRN,AP_SAT>"}, 2.0 ** -14),
    "engine-tree-wrap": ({"tree_t": "ap_fixed<17,17,AP_RND_CONV,AP_WRAP>",
                          "per_channel_factor": True}, 2.0 ** -14),
    "engine-fractional": ({**CONFIGS["fractional-datapath"][0],
                           "product_t": "ap_fixed<10,4,AP_RND_CONV,AP_SAT>"}, 2.0 ** -6),
}

# a configuration whose quant_dequant product needs 72 bits: the exact (Python int) path
EXACT_CONFIG = ({"acc_t": "ap_int<40>", "weight_t": "ap_int<16>", "in_t": "ap_uint<16>"}, 2.0 ** -22)


def config_of(fields: dict) -> KernelConfig:
    return KernelConfig.from_dict(fields)


def _uniform(rng: np.random.Generator, fmt, shape) -> np.ndarray:
    return rng.integers(fmt.min_raw, fmt.max_raw + 1, size=shape, dtype=np.int64)


def make_inputs(kernel: str, cfg: KernelConfig, scale: float, seed: int) -> dict[str, np.ndarray]:
    """Random raw inputs; the factor is drawn around ``scale`` (relative to factor_t's max) so
    that outputs spread over the output range instead of all saturating."""
    rng = np.random.default_rng(seed)
    f_t = cfg.factor_t
    n_f = 16 if cfg.per_channel_factor else 1
    mag = max(1, int(f_t.max_raw * scale))
    lo = f_t.min_raw if f_t.signed else 0
    factor = np.clip(rng.integers(-mag if f_t.signed else 0, mag + 1, size=n_f) + mag // 2, lo, f_t.max_raw)
    return {
        "bottom": _uniform(rng, cfg.in_t, (16, 34, 66)),
        "top": _uniform(rng, cfg.out_t, (16, 34, 66)),
        "weight": _uniform(rng, cfg.weight_t, WEIGHT_SHAPE[kernel]),
        "bias": _uniform(rng, cfg.bias_t, (16,)) // 64,
        "factor": factor if cfg.per_channel_factor else factor.reshape(()),
    }


def written_region(kernel: str) -> tuple[slice, slice]:
    """The (h, w) region of top that a kernel writes."""
    return (slice(0, 32), slice(0, 64)) if kernel == "conv1x1" else (slice(1, 33), slice(1, 65))


def seed_of(*parts: str) -> int:
    """A seed that is the same in every process (unlike hash() of a str)."""
    return zlib.crc32("/".join(parts).encode())
