"""Compiled array loops over the rules in :mod:`hls_sim.types.rules` (int64 path only).

The exact path calls the very same rule functions from Python, element by element.

Each loop exists twice, parallel and serial: starting numba's thread pool costs about
0.1 ms a call, more than a few thousand conversions take, so small arrays run serially.
"""

from __future__ import annotations

from hls_sim.jit import njit, prange
from hls_sim.types import rules

PARALLEL_MIN = 20_000  # elements; below this the serial loop is faster
SPECIALISE_MIN = 1_000_000  # elements; from here a conversion gets its own compiled loop


@njit(parallel=True)
def _quantize_fixed_par(bits, w, f, signed, q_mode, o_mode, n_sat, out, status):
    for i in prange(bits.size):
        out[i], st = rules.double_to_fixed(bits[i], w, f, signed, q_mode, o_mode, n_sat)
        status[i] = st


@njit
def _quantize_fixed_ser(bits, w, f, signed, q_mode, o_mode, n_sat, out, status):
    for i in range(bits.size):
        out[i], st = rules.double_to_fixed(bits[i], w, f, signed, q_mode, o_mode, n_sat)
        status[i] = st


@njit(parallel=True)
def _quantize_int_par(bits, w, signed, out, status):
    for i in prange(bits.size):
        out[i], st = rules.double_to_int(bits[i], w, signed)
        status[i] = st


@njit
def _quantize_int_ser(bits, w, signed, out, status):
    for i in range(bits.size):
        out[i], st = rules.double_to_int(bits[i], w, signed)
        status[i] = st


@njit(parallel=True)
def _convert_par(raw, p, out, status):
    for i in prange(raw.size):
        out[i], st = rules.convert(raw[i], p)
        status[i] = st


@njit
def _convert_ser(raw, p, out, status):
    for i in range(raw.size):
        out[i], st = rules.convert(raw[i], p)
        status[i] = st


def quantize_fixed(bits, w, f, signed, q_mode, o_mode, n_sat, out, status):
    """``rules.double_to_fixed`` over an int64 array of double bit patterns."""
    fn = _quantize_fixed_par if bits.size >= PARALLEL_MIN else _quantize_fixed_ser
    fn(bits, w, f, signed, q_mode, o_mode, n_sat, out, status)


def quantize_int(bits, w, signed, out, status):
    """``rules.double_to_int`` over an int64 array of double bit patterns."""
    fn = _quantize_int_par if bits.size >= PARALLEL_MIN else _quantize_int_ser
    fn(bits, w, signed, out, status)


_SPECIALISED: dict[tuple, object] = {}


def _specialised(p: tuple):
    """A parallel loop compiled for the one conversion ``p`` (its parameters are constants,
    so the rule folds to a few vector instructions); numba caches it on disk per ``p``."""
    if p not in _SPECIALISED:
        @njit(parallel=True)
        def convert_one_kind(raw, out, status):
            for i in prange(raw.size):
                out[i], st = rules.convert(raw[i], p)
                status[i] = st

        _SPECIALISED[p] = convert_one_kind
    return _SPECIALISED[p]


def convert(raw, p, out, status):
    """``rules.convert`` over an int64 array of raws.

    Arrays of SPECIALISE_MIN elements or more get a loop compiled for this exact
    conversion: 30-50x faster than the generic loop, at a one-off compile of about a
    second per new conversion (then cached on disk).
    """
    if raw.size >= SPECIALISE_MIN:
        _specialised(tuple(int(x) for x in p))(raw, out, status)
        return
    fn = _convert_par if raw.size >= PARALLEL_MIN else _convert_ser
    fn(raw, p, out, status)
