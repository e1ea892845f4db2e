"""Compiled array loops over the rules in :mod:`hls_sim.types.rules` (int64 path only).

The exact path calls the very same rule functions from Python, element by element.
"""

from __future__ import annotations

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
def convert(raw, p, out, status):
    for i in prange(raw.size):
        out[i], st = rules.convert(raw[i], p)
        status[i] = st
