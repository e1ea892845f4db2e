"""A slow, obviously correct model of ap_* conversions: exact rationals, one value at a time.

Written from the meaning of each mode (round this value, then handle the overflow), not
from the bit-level code in hls_sim.types.rules, so the two can check each other. Where the
headers do something a reader would not guess, the oracle says so in a comment.
"""

from __future__ import annotations

import math
import struct
from fractions import Fraction

from hls_sim.types import Format
from hls_sim.types.modes import OMode, QMode


def value(raw: int, fmt: Format) -> Fraction:
    return Fraction(raw) / Fraction(2) ** fmt.frac_bits if fmt.kind == "fixed" else Fraction(raw)


def round_int(x: Fraction, q: QMode) -> int:
    """x rounded to an integer by the quantization mode."""
    fl = math.floor(x)
    rest = x - fl
    if q == QMode.AP_TRN:
        return fl
    if q == QMode.AP_TRN_ZERO:
        return fl if x >= 0 else math.ceil(x)
    if rest < Fraction(1, 2):
        return fl
    if rest > Fraction(1, 2):
        return fl + 1
    # exactly half way
    return {
        QMode.AP_RND: fl + 1,
        QMode.AP_RND_ZERO: fl + 1 if x < 0 else fl,
        QMode.AP_RND_MIN_INF: fl,
        QMode.AP_RND_INF: fl if x < 0 else fl + 1,
        QMode.AP_RND_CONV: fl if fl % 2 == 0 else fl + 1,
    }[q]


def _bits(u: int, lo: int, hi: int) -> int:
    return (u >> lo) & ((1 << (hi - lo + 1)) - 1)


def to_fixed(x: Fraction, t: Format, *, src_signed: bool, src_bit_above: bool) -> int:
    """``T t = src`` for an ap_fixed target, src having the exact value x.

    ``src_bit_above`` is the source's stored bit just above the target's MSB (0 when that
    position lies outside the source's stored bits); only AP_WRAP_SM uses it.
    """
    w, s, n = t.width, t.signed, t.n_sat
    q = round_int(x * Fraction(2) ** t.frac_bits, t.q_mode)
    lo, hi = t.min_raw, t.max_raw
    over, under = q > hi, q < lo
    if t.o_mode == OMode.AP_SAT_SYM and s and src_signed and q == lo:
        under = True  # symmetric: the most negative code is never produced
    wrapped = q % (1 << w)  # the low w bits, as a pattern
    if not (over or under):
        return wrapped - (1 << w) if s and wrapped >> (w - 1) else wrapped
    neg = q < 0
    o = t.o_mode
    if o == OMode.AP_SAT_ZERO:
        return 0
    if o == OMode.AP_WRAP and n == 0:
        u = wrapped
    elif o == OMode.AP_WRAP:
        # the N MSBs are forced: signed keeps the sign there and fills the rest with
        # not-sign; unsigned (surprisingly) sets them all to 1 even on underflow
        bits = list(format(wrapped, f"0{w}b"))  # bits[0] is the MSB
        if s:
            bits[0] = "1" if neg else "0"
            for k in range(1, n):
                bits[k] = "0" if neg else "1"
        else:
            for k in range(n):
                bits[k] = "1"
        u = int("".join(bits), 2)
    elif o == OMode.AP_WRAP_SM and s:
        bits = list(format(wrapped, f"0{w}b"))
        msb = bits[0] == "1"
        flip = lambda bs: ["1" if b == "0" else "0" for b in bs]  # noqa: E731
        if n == 0:
            if src_bit_above != msb:
                bits = flip(bits)
                bits[0] = "1" if src_bit_above else "0"
        else:
            if n == 1:
                if neg != msb:
                    bits = flip(bits)
            else:
                if (bits[n - 1] == "1") == neg:
                    bits = flip(bits)
                for k in range(1, n):
                    bits[k] = "0" if neg else "1"
            bits[0] = "1" if neg else "0"
        u = int("".join(bits), 2)
    else:  # AP_SAT, AP_SAT_SYM (ap_ufixed with AP_WRAP_SM is refused: see Format)
        if s:
            if over:
                return hi
            if o == OMode.AP_SAT_SYM:
                # min + 1, built as (1 << (W-1)) | 1: for W == 1 that is the code 1, i.e. -1
                return lo + 1 if w > 1 else -1
            return lo
        return hi if over else 0
    return u - (1 << w) if s and u >> (w - 1) else u


def wrap_int(v: int, t: Format) -> int:
    u = v % (1 << t.width)
    return u - (1 << t.width) if t.signed and u >> (t.width - 1) else u


def cast(raw: int, src: Format, t: Format) -> int:
    """C++ ``T t = src;`` for any pair of ap_* types."""
    x = value(raw, src)
    if t.kind == "int":
        if src.kind == "int":
            return wrap_int(raw, t)
        # to_ap_int_base: keep the integer bits, then round toward zero like C. In
        # max(I, 1) bits, so for I <= 0 a negative source becomes -1, not 0.
        r = math.trunc(x)
        if src.int_bits <= 0:
            r = -1 if (src.signed and x < 0) else 0
        return wrap_int(r, t)
    f_src = src.frac_bits if src.kind == "fixed" else 0
    pos = f_src - t.frac_bits + t.width  # source bit aligned with target bit W
    above = 0 <= pos < src.width and (raw >> pos) & 1 == 1
    return to_fixed(x, t, src_signed=src.signed, src_bit_above=above)


def from_double(d: float, t: Format) -> int:
    """C++ ``T t = d;`` for a finite double."""
    if d == 0:
        return 0
    bits = struct.unpack("<q", struct.pack("<d", d))[0]
    if (bits >> 52) & 0x7FF == 0:
        raise ValueError("the headers misread subnormals; the oracle does not model them")
    x = Fraction(d)
    if t.kind == "int":
        # the headers truncate the magnitude; for |d| < 0.5 a negative d gives +1 (!)
        if d < 0 and abs(d) < 0.5:
            return wrap_int(1, t)
        return wrap_int(math.trunc(x), t)
    # the headers view d as ap_fixed<54, e+2> holding the signed 53-bit mantissa
    m, e = math.frexp(abs(d))  # d = m * 2**e, 0.5 <= m < 1
    man = int(m * (1 << 53)) * (-1 if d < 0 else 1)
    src = Format("fixed", 54, e + 1, True)  # value = man * 2**(e - 53)
    return cast(man, src, t)
