"""Compiled array loops over the rules in :mod:`hls_sim.types.rules` (int64 path only).

The exact path calls the very same rule functions from Python, element by element.
"""

from __future__ import annotations

import numpy as np

from hls_sim.jit import njit, prange
from hls_sim.types import rules


@njit(parallel=True)
def quantize_fixed(bits, w, f, signed, q_mode, o_mode, n_sat, out, status):
    for i in prange(bits.size):
        out[i], st = rules.double_to_fixed(bits[i], w, f, signed, q_mode, o_mode, n_sat)
        status[i] = st


@njit(parallel=True)
def quantize_int(bits, w, signed, out, status):
    for i in prange(bits.size):
        out[i], st = rules.double_to_int(bits[i], w, signed)
        status[i] = st


@njit(parallel=True)
def cast_fixed(raw, w2, f2, w, f, signed, q_mode, o_mode, n_sat, out, status):
    for i in prange(raw.size):
        out[i], st = rules.cast_raw(raw[i], w2, f2, w, f, signed, q_mode, o_mode, n_sat)
        status[i] = st


@njit(parallel=True)
def cast_to_int(raw, w2, i2, signed2, w, signed, out, status):
    for i in prange(raw.size):
        out[i], st = rules.fixed_to_int(raw[i], w2, i2, signed2, w, signed)
        status[i] = st


def empty_like_status(n: int) -> np.ndarray:
    return np.zeros(n, dtype=np.uint8)
