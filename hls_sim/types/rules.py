"""The conversion rules: the one place where precision is lost.

Each function here is plain Python on integers, written so that it gives the same answer on
numpy/numba ``int64`` values (compiled inline into numba loops through :func:`hls_sim.jit.jitable`)
and on unbounded Python ints (the exact path for widths beyond 64 bits). The int64 path is
valid when every source raw fits in int64 and every target is at most 63 bits wide; callers
check that (see :func:`hls_sim.types.format.Format.fast`).

Values are raw two's-complement integers: ``value = raw * 2**-frac``. A conversion takes a
source raw (as a signed mathematical integer), the source's width and fraction bits, and the
target's parameters, and returns ``(raw, status)`` where ``status`` has :data:`INEXACT` set
when quantization changed the value and :data:`OVERFLOW` when the value was out of range
(and the overflow mode acted).

The semantics are those of the Xilinx headers (``ap_fixed_base::operator=``, the
``double`` constructors, ``to_ap_int_base``), including their corner cases; the
differential tests against those headers are the proof.
"""

from __future__ import annotations

from hls_sim.jit import jitable

INEXACT = 1
OVERFLOW = 2

# mode numbers (QMode / OMode), repeated as plain ints for compiled code
AP_RND, AP_RND_ZERO, AP_RND_MIN_INF, AP_RND_INF, AP_RND_CONV, AP_TRN, AP_TRN_ZERO = range(7)
AP_SAT, AP_SAT_ZERO, AP_SAT_SYM, AP_WRAP, AP_WRAP_SM = range(5)

DOUBLE_MAN = 52
DOUBLE_BIAS = 1023


@jitable
def low_bits(x, w):
    """The low ``w`` bits of ``x`` as an unsigned pattern (1 <= w <= 63 on int64)."""
    top = 1 << (w - 1)
    return x & (top + top - 1)


@jitable
def wrap(x, w, signed):
    """``x`` reduced to ``w`` bits, read back signed or unsigned (C++ truncation)."""
    top = 1 << (w - 1)
    u = x & (top + top - 1)
    if signed and u >= top:
        u = u - top - top
    return u


@jitable
def round_shift(v, d, q_mode):
    """``v / 2**d`` (d >= 1) rounded to an integer by ``q_mode``; returns (result, inexact)."""
    neg = v < 0
    # Fold bits far below the rounding point into one sticky bit, so that shifts stay
    # below 63 on int64. The floor, the half bit and "anything below half" are unchanged.
    while d > 62:
        k = d - 62
        if k > 62:
            k = 62
        sticky = (v & ((1 << k) - 1)) != 0
        v = v >> k
        if sticky:
            v = v | 1
        d -= k
    fl = v >> d
    rem = v - (fl << d)
    half = 1 << (d - 1)
    qb = rem >= half
    r = (rem & (half - 1)) != 0
    # `&` and `|` on bools, not `and`/`or`: no data-dependent branches in compiled loops
    # (the mode tests are loop-invariant), about 5x faster on random data
    if q_mode == AP_TRN:
        inc = False
    elif q_mode == AP_RND:
        inc = qb
    elif q_mode == AP_RND_ZERO:
        inc = qb & (neg | r)
    elif q_mode == AP_RND_MIN_INF:
        inc = qb & r
    elif q_mode == AP_RND_INF:
        inc = qb & ((not neg) | r)
    elif q_mode == AP_RND_CONV:
        inc = qb & (((fl & 1) == 1) | r)
    else:  # AP_TRN_ZERO
        inc = neg & (qb | r)
    return fl + inc, rem != 0


@jitable
def _set_bit(u, pos, bit):
    if bit:
        return u | (1 << pos)
    return u & ~(1 << pos)


@jitable
def _range_mask(w, lo, hi):
    """Bits lo..hi (inclusive) of a w-bit word, as a mask."""
    top = 1 << (w - 1)
    upto = (top - 1) if hi == w - 2 else (top + top - 1)
    return upto & ~((1 << lo) - 1)


@jitable
def overflow_adjust(u, w, signed, o_mode, n_sat, ovf, unf, ld, sign):
    """The headers' ``overflow_adjust`` on the wrapped w-bit pattern ``u``."""
    top = 1 << (w - 1)
    full = top + top - 1
    if o_mode == AP_WRAP:
        if n_sat == 0:
            return u
        if signed:
            u = _set_bit(u, w - 1, sign)
            if n_sat > 1:
                m = _range_mask(w, w - n_sat, w - 2)
                u = (u & ~m) if sign else (u | m)
            return u
        return u | _range_mask(w, w - n_sat, w - 1)
    if o_mode == AP_SAT_ZERO:
        return u & 0
    if o_mode == AP_WRAP_SM and signed:
        ro = (u >> (w - 1)) & 1 == 1
        if n_sat == 0:
            if ld != ro:
                u = _set_bit(~u & full, w - 1, ld)
            return u
        if n_sat == 1:
            if sign != ro:
                u = ~u & full
        else:
            lno = (u >> (w - n_sat)) & 1 == 1
            if lno == sign:
                u = ~u & full
            m = _range_mask(w, w - n_sat, w - 2)
            u = (u & ~m) if sign else (u | m)
        return _set_bit(u, w - 1, sign)
    # AP_SAT, AP_SAT_SYM (and AP_WRAP_SM on an unsigned target, which the headers refuse
    # to construct and Format rejects; the headers' overflow_adjust would saturate it)
    if signed:
        if ovf:
            return top - 1
        if unf:
            return (top | 1) if o_mode == AP_SAT_SYM else top
        return u
    if ovf:
        return full
    if unf:
        return u & 0
    return u


@jitable
def _rounded(v, w2, f2, w, f, signed, q_mode, o_mode):
    """The front half of a conversion: round, then compare with the target's range.

    Returns (q, pattern, big, status, ovf, unf): q the rounded value at the target's LSB
    (or, when ``big``, a stand-in with the sign of a value far outside any 64-bit range),
    ``pattern`` an integer whose low w bits are the wrapped result.
    """
    status = 0
    d = f2 - f
    big = False
    if d > 0:
        q, inexact = round_shift(v, d, q_mode)
        if inexact:
            status |= INEXACT
        pattern = q
    elif d < 0:
        s = -d
        if s >= w:
            pattern = v & 0
            q = v
            big = v != 0
        else:
            pattern = v << s
            q = pattern
            if (pattern >> s) != v:  # int64 lost bits: out of any 64-bit range
                big = True
                q = v
    else:
        q = v
        pattern = v
    if signed:
        hi = (1 << (w - 1)) - 1
        lo = -hi - 1
    else:
        hi = (1 << (w - 1)) - 1 + (1 << (w - 1))
        lo = hi & 0
    if big:
        ovf = q > 0
        unf = q < 0
    else:
        ovf = q > hi
        unf = q < lo
        unf = unf | ((o_mode == AP_SAT_SYM) & signed & (q == lo))
    return q, pattern, big, status, ovf, unf


@jitable
def cast_raw(v, w2, f2, w, f, signed, q_mode, o_mode, n_sat):
    """Convert raw ``v`` of a (w2 bits, f2 fraction bits) value to an ap_fixed target.

    C++ ``ap_fixed<w, w-f, q_mode, o_mode, n_sat> t = src;``. Returns (raw, status).
    """
    q, pattern, big, status, ovf, unf = _rounded(v, w2, f2, w, f, signed, q_mode, o_mode)
    u = low_bits(pattern, w)
    if ovf | unf:
        status |= OVERFLOW
        pos1 = f2 - f + w
        ld = False
        if pos1 >= 0 and pos1 < w2:
            ld = (v >> pos1) & 1 == 1
        u = overflow_adjust(u, w, signed, o_mode, n_sat, ovf, unf, ld, q < 0)
    return wrap(u, w, signed), status


@jitable
def fixed_to_int(v, w2, i2, signed2, w, signed):
    """``ap_int<w> t = src;`` for an ap_fixed source (the headers' ``to_ap_int_base``).

    Keeps the integer bits and, for a negative source with fraction bits set, adds one:
    truncation toward zero, done in ``max(i2, 1)`` bits. Returns (raw, status).
    """
    f2 = w2 - i2
    status = 0
    if i2 <= 0:
        r = v & 0
    elif f2 >= 0:
        r = v >> f2
    else:
        k = -f2
        r = (v << k) if k < w else (v & 0)
    if f2 > 0 and signed2 and v < 0:
        nbits = f2 if f2 < w2 else w2
        if (v & ((1 << nbits) - 1)) != 0:
            r += 1
            if i2 <= 0:
                r = wrap(r, 1, True)
    if f2 > 0 and (v & ((1 << (f2 if f2 < w2 else w2)) - 1)) != 0:
        status |= INEXACT
    out = wrap(r, w, signed)
    if out != r or (f2 < 0 and -f2 >= w and v != 0):
        status |= OVERFLOW
    return out, status


@jitable
def double_parts(bits):
    """Split the IEEE-754 pattern of a double (as a signed 64-bit int) the headers' way.

    Returns (is_zero, negative, mantissa with the leading one set, unbiased exponent).
    Like the headers, subnormals keep the implicit one and inf/NaN read as exponent 1024.
    """
    neg = bits < 0
    expf = (bits >> DOUBLE_MAN) & 0x7FF
    man = (bits & ((1 << DOUBLE_MAN) - 1)) | (1 << DOUBLE_MAN)
    is_zero = (bits & 0x7FFFFFFFFFFFFFFF) == 0
    return is_zero, neg, man, expf - DOUBLE_BIAS


@jitable
def double_to_fixed(bits, w, f, signed, q_mode, o_mode, n_sat):
    """``ap_fixed<...> t = d;`` from the double's bit pattern. Returns (raw, status)."""
    is_zero, neg, man, exp = double_parts(bits)
    if is_zero:
        return bits & 0, 0
    v = -man if neg else man
    # the headers view the double as ap_fixed<54, exp+2> holding the signed mantissa
    return cast_raw(v, DOUBLE_MAN + 2, DOUBLE_MAN - exp, w, f, signed, q_mode, o_mode, n_sat)


@jitable
def double_to_int(bits, w, signed):
    """``ap_int<w> t = d;``: the headers truncate the magnitude, then negate. Returns (raw, status)."""
    is_zero, neg, man, exp = double_parts(bits)
    if is_zero:
        return bits & 0, 0
    status = 0
    sh = DOUBLE_MAN - exp
    if sh == 0:
        mag = man
    elif sh > 0:
        if sh < DOUBLE_MAN + 2:
            mag = man >> sh
            if (man & ((1 << sh) - 1)) != 0:
                status |= INEXACT
        else:
            # |d| < 0.5: the headers store -1 for negative inputs, then negate it
            mag = -1 if neg else 0
            status |= INEXACT
    else:
        s = -sh
        mag = (man << s) if s < w else (man & 0)
        if s >= w or (mag >> s) != man:
            status |= OVERFLOW
    val = -mag if neg else mag
    out = wrap(val, w, signed)
    if out != val:
        status |= OVERFLOW
    return out, status


# ---- one dispatch for every ap_* to ap_* conversion ------------------------------------
TO_FIXED, TO_INT_FROM_FIXED = 0, 1


def conversion_params(src, dst) -> tuple:
    """The integer parameters of C++ ``dst t = src;`` (both :class:`Format`), for :func:`convert`.

    ap_int sources are ap_fixed<W, W, S>; an ap_int target from an ap_int keeps the low bits
    (a TRN/WRAP conversion); an ap_int target from an ap_fixed uses the headers' integer rule.
    """
    src_frac = src.frac_bits if src.kind == "fixed" else 0
    if dst.kind == "int" and src.kind == "fixed":
        return (TO_INT_FROM_FIXED, src.width, src_frac, src.int_bits, int(src.signed),
                dst.width, 0, int(dst.signed), AP_TRN, AP_WRAP, 0)
    if dst.kind == "int":
        return (TO_FIXED, src.width, src_frac, src.width, int(src.signed),
                dst.width, 0, int(dst.signed), AP_TRN, AP_WRAP, 0)
    return (TO_FIXED, src.width, src_frac, src.int_bits, int(src.signed), dst.width,
            dst.frac_bits, int(dst.signed), int(dst.q_mode), int(dst.o_mode), dst.n_sat)


@jitable
def convert(v, p):
    """Convert raw ``v`` by the parameters ``p`` of :func:`conversion_params`; (raw, status)."""
    if p[0] == TO_INT_FROM_FIXED:
        return fixed_to_int(v, p[1], p[3], p[4] != 0, p[5], p[7] != 0)
    return cast_raw(v, p[1], p[2], p[5], p[6], p[7] != 0, p[8], p[9], p[10])


# ---- division: the headers' ap_private long division (exact path, plain Python) -----------
# Integer division truncates (toward zero for signed operands), so it lives here with the
# other rules. Up to 64 bits the headers divide natively and the result is the exact
# quotient. Wider, ap_private runs Knuth's algorithm D on 32-bit digits, ported from an old
# LLVM APInt with a bug: when a trial quotient digit is one too large (rare: about 2 in
# 2**32 digits, but runs of ones hit it), step D4 negates the partial remainder -- all of
# it, not just the current window -- before adding the divisor back, and the quotient
# comes out wrong (e.g. ((2**76-1) << 120) / (2**99-1) gives about half the true value).
# The headers are the truth, so the port below keeps the bug; the differential tests
# pin it down.

_M32 = (1 << 32) - 1
_M64 = (1 << 64) - 1


def _knuth_div(u: list, v: list, q: list, m: int, n: int) -> None:
    """``ap_private_ops::KnuthDiv`` (quotient only), on lists of 32-bit digits, in place."""
    b = 1 << 32
    shift = 32 - v[n - 1].bit_length()  # CountLeadingZeros_32
    if shift:
        u_carry = v_carry = 0
        for i in range(m + n):
            u_tmp = u[i] >> (32 - shift)
            u[i] = ((u[i] << shift) & _M32) | u_carry
            u_carry = u_tmp
        for i in range(n):
            v_tmp = v[i] >> (32 - shift)
            v[i] = ((v[i] << shift) & _M32) | v_carry
            v_carry = v_tmp
        u[m + n] = u_carry
    else:
        u[m + n] = 0
    j = m
    while True:
        dividend = (u[j + n] << 32) + u[j + n - 1]
        qp, rp = divmod(dividend, v[n - 1])
        if qp == b or ((qp * v[n - 2]) & _M64) > b * rp + u[j + n - 2]:
            qp -= 1
            rp += v[n - 1]
            if rp < b and (qp == b or ((qp * v[n - 2]) & _M64) > b * rp + u[j + n - 2]):
                qp -= 1
        is_neg = False
        for i in range(n):
            u_tmp = u[j + i] | (u[j + i + 1] << 32)
            subtrahend = (qp * v[i]) & _M64
            borrow = subtrahend > u_tmp
            result = (u_tmp - subtrahend) & _M64
            k = j + i
            u[k] = result & _M32
            u[k + 1] = result >> 32
            k += 2
            while borrow and k <= m + n:
                borrow = u[k] == 0
                u[k] = (u[k] - 1) & _M32
                k += 1
            is_neg = is_neg or borrow
        if is_neg:  # the bug: b's complement of all of u, not of u[j..j+n]
            carry = True
            for i in range(m + n + 1):
                u[i] = (~u[i] + carry) & _M32
                carry = carry and u[i] == 0
        q[j] = qp & _M32
        if is_neg:
            q[j] = (q[j] - 1) & _M32
            carry = False
            for i in range(n):
                limit = min(u[j + i], v[i])
                u[j + i] = (u[j + i] + v[i] + carry) & _M32
                carry = u[j + i] < limit or (carry and u[j + i] == limit)
            u[j + n] = (u[j + n] + carry) & _M32
        j -= 1
        if j < 0:
            return


def udiv(u: int, v: int, m: int) -> int:
    """``ap_private<m, false>::udiv``: ``u / v`` for m-bit patterns u, v (v != 0)."""
    if m <= 64 or v > u or u == 0:
        return u // v
    if u == v:
        return 1
    lhs_words, rhs_words = (u.bit_length() + 63) // 64, (v.bit_length() + 63) // 64
    if lhs_words == 1:  # both fit a word: native division
        return u // v
    n = rhs_words * 2
    mm = lhs_words * 2 - n
    uu = [(u >> (32 * i)) & _M32 for i in range(mm + n)] + [0]
    vv = [(v >> (32 * i)) & _M32 for i in range(n)]
    qq = [0] * (mm + n)
    while n > 0 and vv[n - 1] == 0:  # strip leading zero digits
        n -= 1
        mm += 1
    while mm + n > 0 and uu[mm + n - 1] == 0:
        mm -= 1
    if n == 1:  # short division: exact
        return u // v
    _knuth_div(uu, vv, qq, mm, n)
    return sum(d << (32 * i) for i, d in enumerate(qq)) & ((1 << m) - 1)


def div(a: int, b: int, m: int, signed: bool) -> int:
    """``ap_private<m, signed>`` division of a by b (values of that type, b != 0), as
    ``sdiv`` (signed) or ``udiv``: magnitudes divided, sign applied, result wrapped to m bits."""
    mask = (1 << m) - 1
    if not signed:
        return udiv(a & mask, b & mask, m)
    q = udiv((-a if a < 0 else a) & mask, (-b if b < 0 else b) & mask, m)
    return wrap(-q if (a < 0) != (b < 0) else q, m, True)
