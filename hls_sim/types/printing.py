"""How values print: the headers' ``to_string(radix)``, and a readable ``repr``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from hls_sim.types.array import APArray

_PREFIX = {2: "0b", 8: "0o", 16: "0x", 10: ""}
_STEP = {2: 1, 8: 3, 16: 4}


def _private_to_string(u: int, width: int, radix: int, want_signed: bool) -> str:
    """``ap_private<width>::toString``: ``u`` is the unsigned bit pattern.

    The headers have two implementations (up to 64 bits, and wider) that differ in
    digit case, in how zero prints and in when a leading 0 is added; both are kept.
    """
    small = width <= 64
    digits = "0123456789abcdef" if small else "0123456789ABCDEF"
    full = (1 << width) - 1
    neg = want_signed and (u >> (width - 1)) & 1 == 1
    mag = ((~u) + 1) & full if neg else u
    sign = "-" if neg else ""
    if radix == 10:
        return sign + str(mag) if mag else "0"
    if u == 0:
        return _PREFIX[radix] + "0" if small else "0"
    shift = _STEP[radix]
    out: list[str] = []
    bits = 0
    msb = False
    while mag:
        d = mag & (radix - 1)
        out.append(digits[d])
        mag >>= shift
        bits += 1
        msb = (d >> (shift - 1)) == 1
    bits *= shift
    lead = bits < width and not neg and (msb if small else True)
    return sign + _PREFIX[radix] + ("0" if lead else "") + "".join(reversed(out))


def _int_to_string(raw: int, width: int, signed: bool, radix: int, sign: bool | None) -> str:
    """``ap_int_base::to_string(radix, sign)``."""
    want = signed if sign is None else sign
    if radix == 2:
        want = False
    if radix == 10:
        want = signed  # ap_private::to_string ignores the flag for radix 10
    return _private_to_string(raw & ((1 << width) - 1), width, radix, want)


def _fixed_to_string(raw: int, width: int, int_bits: int, signed: bool, radix: int,
                     sign: bool | None) -> str:
    """``ap_fixed_base::to_string(radix, sign)``."""
    want = signed if sign is None else sign
    if radix == 2:
        want = False
    frac = width - int_bits
    text = ""
    tmp = raw  # ap_fixed<W+1, I+1>: the same value, one more bit
    if want and raw < 0:
        tmp = -raw
        text = "-"
    bits = tmp & ((1 << (width + 1)) - 1)  # tmp.V, its W+1 bits
    if int_bits > 0:
        # int_part = tmp.V.range(W, W-I): for I > W the low index is negative, and the
        # headers shift the W+1 bits *left* by I-W within those W+1 bits, so integer bits
        # above bit W of tmp.V are lost (ap_fixed<8,11> value -1024 prints as "-0")
        ip = bits >> frac if frac >= 0 else (bits << -frac) & ((1 << (width + 1)) - 1)
        ip &= (1 << (int_bits + 1)) - 1
        text += _int_to_string(ip, int_bits + 1, False, radix, False)
    else:
        text += _PREFIX[radix] + "0"
    if frac <= 0:
        return text
    # frac_part = ap_ufixed<F, 0>(tmp): the value modulo 1, so for I < 0 the bits above
    # tmp's W+1 bits are tmp's sign (radix 2 prints negatives unsigned: -0.0625 in
    # ap_fixed<8,-3> prints as 0b0.11110000000)
    fpart = tmp & ((1 << frac) - 1)
    if fpart == 0:
        return text
    text += "."
    if radix == 10:
        while fpart:
            fpart *= 10
            text += str(fpart >> frac)
            fpart &= (1 << frac) - 1
        return text
    step = _STEP[radix]
    i = frac - 1
    while i >= 0:
        lo = max(0, i - step + 1)
        digit = (fpart >> lo) & ((1 << (i - lo + 1)) - 1)
        digit <<= -min(0, i - step + 1)
        text += "0123456789abcdef"[digit]
        i -= step
    if radix == 16:
        text += "p0"
    return text


def to_string(x: "APArray", radix: int = 2, sign: bool | None = None) -> np.ndarray:
    """Each element of ``x`` as the headers print it; an array of str with x's shape."""
    if radix not in (2, 8, 10, 16):
        raise ValueError(f"radix must be 2, 8, 10 or 16, got {radix}")
    t = x.type
    if t.kind == "int":
        strs = [_int_to_string(int(v), t.width, t.signed, radix, sign) for v in x.raw.flat]
    else:
        strs = [_fixed_to_string(int(v), t.width, t.int_bits, t.signed, radix, sign)
                for v in x.raw.flat]
    return np.array(strs, dtype=object).reshape(x.shape)


def describe(x: "APArray", limit: int = 8) -> str:
    """``value  type  bits`` per element, the way an HLS engineer reads a value."""
    vals = x.to_float().ravel()
    flat = x.raw.ravel()
    rows = []
    for i in range(min(limit, flat.size)):
        bits = format(int(flat[i]) & ((1 << x.type.width) - 1), f"0{x.type.width}b")
        rows.append(f"{float(vals[i])!r} (raw {int(flat[i])}, 0b{bits})")
    more = f", ... {flat.size - limit} more" if flat.size > limit else ""
    if x.raw.ndim == 0:
        return f"{rows[0]} {x.type}"
    return f"APArray({x.type}, shape={x.shape}: {', '.join(rows)}{more})"
