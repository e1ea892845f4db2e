"""APArray: raw integers plus a Format, with the C++ operators.

Raw values are a numpy int64 array when the format's raws fit in int64, else an object
array of Python ints (the exact path). Arithmetic results are exact by construction (the
C++ result types are wide enough); only conversions lose precision, through
:mod:`hls_sim.types.rules`.
"""

from __future__ import annotations

import struct
from typing import Any

import numpy as np

from hls_sim.types import rules
from hls_sim.types.format import Format, neg_type, result_type

C_INT = Format("int", 32, 32, True)  # a plain C++ `int` operand


# Up to this many elements, conversions run the rules in Python: loading numba and its cached
# loops costs far more than a few values take (``hls-sim type``, a layer's scalar factor).
FEW = 64


def _as_storage(fmt: Format, raw: np.ndarray) -> np.ndarray:
    """Store raws as int64 when the format allows, else as Python ints in an object array."""
    if fmt.fits_int64:
        return raw if raw.dtype == np.int64 else raw.astype(np.int64)
    return raw if raw.dtype == object else _exact(raw)


def _exact(raw: np.ndarray) -> np.ndarray:
    """The same raws as an object array of Python ints (numpy integer scalars converted)."""
    out = np.empty(raw.shape, dtype=object)
    out.flat[:] = [int(v) for v in raw.flat]
    return out


def wrap_raw(raw: np.ndarray, fmt: Format) -> np.ndarray:
    """Reduce raws to ``fmt.width`` bits (C++ truncation), keeping the storage rules."""
    w, s = fmt.width, fmt.signed
    if raw.dtype == np.int64 and w == 64 and s:
        return raw  # int64 arithmetic already wrapped modulo 2**64
    if raw.dtype == np.int64 and w <= 63:
        return _wrap64(raw, w, s)
    flat = [rules.wrap(int(v), w, s) for v in raw.ravel()]
    return _as_storage(fmt, np.array(flat, dtype=object).reshape(raw.shape))


def _wrap64(raw: np.ndarray, w: int, s: bool) -> np.ndarray:
    """``rules.wrap`` on an int64 array, for w <= 63."""
    top, mask = np.int64(1 << (w - 1)), np.int64((1 << w) - 1)  # no int64 overflow at w == 63
    u = raw & mask
    return np.where(u >= top, u - top - top, u) if s else u


class APArray:
    """An array of ap_* values: ``raw`` stored integers and their ``type``.

    ``status`` (uint8 per element) records what the conversion that made the values did:
    bit 0 set where quantization rounded, bit 1 where the overflow mode acted.
    """

    __slots__ = ("type", "raw", "status")
    __array_priority__ = 1000  # numpy scalars on the left defer to our operators
    __hash__ = None  # == is elementwise

    def __init__(self, fmt: Format, raw: np.ndarray, status: np.ndarray | None = None):
        self.type = fmt
        self.raw = raw
        self.status = np.zeros(raw.shape, np.uint8) if status is None else status

    # ---- construction ------------------------------------------------------------------
    @classmethod
    def from_raw(cls, fmt: Format, raw: Any) -> "APArray":
        """Wrap stored integers; each must lie in ``[fmt.min_raw, fmt.max_raw]``."""
        arr = raw if isinstance(raw, np.ndarray) else np.array(raw, dtype=object)
        if arr.dtype.kind not in "iubO":
            raise ValueError(f"{fmt}: raw values must be integers, got dtype {arr.dtype}")
        if arr.dtype == object:
            bad = [i for i, v in enumerate(arr.flat) if not isinstance(v, (int, np.integer))]
            if bad:
                raise ValueError(f"{fmt}: raw values must be integers (flat index {bad[0]} is "
                                 f"{arr.flat[bad[0]]!r})")
            arr = _exact(arr.astype(object))
        lo, hi = fmt.min_raw, fmt.max_raw
        if arr.dtype.kind in "iub":  # numpy compares exactly against Python ints of any size
            inside = arr.size == 0 or (int(arr.min()) >= lo and int(arr.max()) <= hi)  # no temporaries
            out = np.flatnonzero(((arr < lo) | (arr > hi)).ravel()) if not inside else np.empty(0, int)
        else:
            out = np.array([i for i, v in enumerate(arr.flat) if not lo <= v <= hi], dtype=int)
        if out.size:
            first = out[0]
            raise ValueError(
                f"{fmt}: {out.size} raw value(s) outside [{lo}, {hi}] "
                f"(first at flat index {first}: {int(arr.ravel()[first])})")
        return cls(fmt, _as_storage(fmt, arr))

    # ---- basic protocol ------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return self.raw.shape

    @property
    def size(self) -> int:
        return self.raw.size

    def __len__(self) -> int:
        return len(self.raw)

    def __getitem__(self, idx: Any) -> "APArray":
        return APArray(self.type, np.asarray(self.raw[idx]), np.asarray(self.status[idx]))

    @property
    def rounded(self) -> np.ndarray:
        """Where the conversion that made these values changed them by rounding."""
        return (self.status & rules.INEXACT) != 0

    @property
    def overflowed(self) -> np.ndarray:
        """Where the conversion that made these values met an out-of-range value."""
        return (self.status & rules.OVERFLOW) != 0

    def to_float(self) -> np.ndarray:
        """The values as float64, correctly rounded (ties to even; exact whenever they fit).

        This is the headers' ``to_double()`` bit for bit wherever theirs is meaningful: ap_int
        up to 64 bits, and ap_fixed values inside a double's normal range. Beyond, the headers
        compute garbage (see :meth:`to_double`); ``to_float`` gives the true value, rounded
        (to a subnormal, or to infinity).
        """
        t = self.type
        f = t.frac_bits
        if self.raw.dtype == np.int64:
            with np.errstate(over="ignore", under="ignore"):  # to infinity / a subnormal, as documented
                return np.ldexp(self.raw.astype(np.float64), -f)
        return np.array([_int_to_float(int(v), f) for v in self.raw.flat],
                        dtype=np.float64).reshape(self.shape)

    def to_double(self) -> np.ndarray:
        """The headers' ``x.to_double()``, bit for bit, quirks included.

        Equal to :meth:`to_float` except where the headers go wrong: an ``ap_int``/``ap_uint``
        wider than 64 bits converts only its low 64 bits (read as int64/uint64); an
        ``ap_fixed`` value outside a double's normal range gets its exponent wrapped modulo
        2048 (no infinities, no subnormals). Use it to reproduce a C++ program's output.
        """
        t = self.type
        if t.kind == "int":
            if t.width <= 64:
                return self.to_float()
            lo = [int(v) & ((1 << 64) - 1) for v in self.raw.flat]
            vals = [float(v - (1 << 64) if t.signed and v >> 63 else v) for v in lo]
            return np.array(vals, dtype=np.float64).reshape(self.shape)
        out = np.array(self.to_float(), dtype=np.float64)
        flat = out.reshape(-1)
        raw = self.raw.reshape(-1)
        # the vectorised value is the headers' wherever the result is a normal double
        bad = np.flatnonzero((raw != 0) & ~(np.abs(flat) >= 2.0 ** -1022) | ~np.isfinite(flat))
        for i in bad.tolist():
            flat[i] = _fixed_to_double(int(raw[i]), t.width, t.int_bits)
        return out

    # ---- conversion --------------------------------------------------------------------
    def cast(self, fmt: Format) -> "APArray":
        """C++ ``U y = x;`` for each element."""
        src = self.type
        flat = self.raw.ravel()
        p = rules.conversion_params(src, fmt)
        if src.fits_int64 and fmt.fast_target and flat.dtype == np.int64 and flat.size > FEW:
            out, st = np.empty(flat.size, np.int64), np.empty(flat.size, np.uint8)
            _loops().convert(flat, p, out, st)
        else:
            out, st = _py_map(rules.convert, flat, (p,))
        return APArray(fmt, _as_storage(fmt, out).reshape(self.shape), st.reshape(self.shape))

    # ---- arithmetic ----------------------------------------------------------------------
    def _binary(self, other: Any, op: str, reflected: bool = False) -> "APArray":
        o = _operand(other)
        if o is NotImplemented:
            return NotImplemented
        a, b = (o, self) if reflected else (self, o)
        rt = result_type(op, a.type, b.type)
        exact = not (a.type.fits_int64 and b.type.fits_int64 and rt.fits_int64)
        ra, rb = (_exact(a.raw), _exact(b.raw)) if exact else (a.raw, b.raw)
        fa, fb = _frac(a.type), _frac(b.type)
        if op in "+-":
            f = max(fa, fb)
            ra, rb = _shl(ra, f - fa), _shl(rb, f - fb)
            raw = ra + rb if op == "+" else ra - rb
        elif op == "*":
            raw = ra * rb
        else:
            if np.any(rb == 0):
                raise ZeroDivisionError(f"{a.type} / {b.type}: division by zero")
            raw = _divide(a.type, b.type, a.raw, b.raw, rt)
        out = APArray(rt, _as_storage(rt, np.asarray(raw)))
        if reflected and rt != result_type(op, b.type, a.type):
            # `int OP x`: the headers declare the result type of `x OP int` (operands swapped;
            # only / differs) and convert the true result into it (AP_TRN, AP_WRAP)
            return out.cast(result_type(op, b.type, a.type))
        return out

    def __add__(self, other: Any) -> "APArray":
        return self._binary(other, "+")

    def __radd__(self, other: Any) -> "APArray":
        return self._binary(other, "+", True)

    def __sub__(self, other: Any) -> "APArray":
        return self._binary(other, "-")

    def __rsub__(self, other: Any) -> "APArray":
        return self._binary(other, "-", True)

    def __mul__(self, other: Any) -> "APArray":
        return self._binary(other, "*")

    def __rmul__(self, other: Any) -> "APArray":
        return self._binary(other, "*", True)

    def __truediv__(self, other: Any) -> "APArray":
        return self._binary(other, "/")

    def __rtruediv__(self, other: Any) -> "APArray":
        return self._binary(other, "/", True)

    def __neg__(self) -> "APArray":
        rt = neg_type(self.type)
        raw = -(self.raw if rt.fits_int64 else _exact(self.raw))
        return APArray(rt, _as_storage(rt, np.asarray(raw)))

    def __pos__(self) -> "APArray":
        return self

    def __lshift__(self, k: int) -> "APArray":
        return self._shift(int(k))

    def __rshift__(self, k: int) -> "APArray":
        return self._shift(-int(k))

    def _shift(self, k: int) -> "APArray":
        """Shift left by k (right for k < 0); the result keeps the operand's type, wrapping."""
        t = self.type
        if k >= 0:
            if k >= t.width:
                raw = np.zeros(self.shape, np.int64) if t.fits_int64 else _exact(np.zeros(self.shape, np.int64))
            else:
                raw = wrap_raw(_shl(self.raw, k), t)
        else:
            raw = _shr(self.raw, min(-k, t.width))
        return APArray(t, _as_storage(t, np.asarray(raw)))

    # ---- comparison ----------------------------------------------------------------------
    def _compare(self, other: Any, op: str) -> np.ndarray:
        """``a OP b`` as the headers compute it.

        Both operands are aligned to a common LSB (exactly, as the headers do), then the
        underlying integers are compared by ``ap_private``'s rules, which follow C's: with
        mixed signedness the comparison is *unsigned* when the unsigned operand is at least as
        wide as the signed one (and not both narrower than 32 bits), so a negative value
        compares greater than, and can even equal, an unsigned one. See :func:`_compare_rule`.
        """
        o = _operand(other)
        if o is NotImplemented:
            return NotImplemented
        ta, tb = self.type, o.type
        wl, wr = ta.width, tb.width
        fa, fb = _frac(ta), _frac(tb)
        f = max(fa, fb)
        if not (ta.kind == "int" and tb.kind == "int"):
            # ap_fixed_base::operator OP: the operand with fewer fraction bits is converted to
            # a type with the other's fraction bits (the left one also gains an integer bit)
            if fa > fb:
                wr = max(wr + fa - fb, 1)
            elif fa < fb:
                wl = max(wl + fb - fa + 1, 1)
        exact = (not ta.fits_int64 or not tb.fits_int64 or wl > 62 or wr > 62)
        ra, rb = (_exact(self.raw), _exact(o.raw)) if exact else (self.raw, o.raw)
        ra, rb = _shl(ra, f - fa), _shl(rb, f - fb)
        rule, m = _compare_rule(op, wl, ta.signed, wr, tb.signed)
        if rule == "modulo":  # == and != on m-bit patterns
            mask = (1 << m) - 1
            if ra.dtype == object or rb.dtype == object or m > 62:
                ra, rb = _exact(np.asarray(ra)), _exact(np.asarray(rb))
                ra, rb = np.broadcast_arrays(ra, rb)
                same = np.array([(x - y) & mask == 0 for x, y in zip(ra.flat, rb.flat)],
                                dtype=bool).reshape(ra.shape)
            else:
                same = ((ra - rb) & np.int64(mask)) == 0
            return np.asarray(same if op == "==" else ~same, dtype=bool)
        if rule == "unsigned":  # both as m-bit unsigned patterns
            mask = (1 << m) - 1
            ra, rb = _exact(np.asarray(ra)), _exact(np.asarray(rb))
            ra = np.array([x & mask for x in ra.flat], dtype=object).reshape(ra.shape)
            rb = np.array([x & mask for x in rb.flat], dtype=object).reshape(rb.shape)
        res = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal,
               "==": np.equal, "!=": np.not_equal}[op](ra, rb)
        return np.asarray(res, dtype=bool)

    def __lt__(self, other: Any) -> np.ndarray:
        return self._compare(other, "<")

    def __le__(self, other: Any) -> np.ndarray:
        return self._compare(other, "<=")

    def __gt__(self, other: Any) -> np.ndarray:
        return self._compare(other, ">")

    def __ge__(self, other: Any) -> np.ndarray:
        return self._compare(other, ">=")

    def __eq__(self, other: Any) -> np.ndarray:  # type: ignore[override]
        return self._compare(other, "==")

    def __ne__(self, other: Any) -> np.ndarray:  # type: ignore[override]
        return self._compare(other, "!=")

    # ---- printing ------------------------------------------------------------------------
    def to_string(self, radix: int = 2, sign: bool | None = None) -> np.ndarray:
        """Each value as the headers' ``to_string(radix)`` prints it (radix 2, 8, 10, 16)."""
        from hls_sim.types.printing import to_string

        return to_string(self, radix, sign)

    def __repr__(self) -> str:
        from hls_sim.types.printing import describe

        return describe(self)


# ---- helpers ------------------------------------------------------------------------------
def _frac(fmt: Format) -> int:
    return fmt.frac_bits if fmt.kind == "fixed" else 0


def _shl(raw: np.ndarray, k: int) -> np.ndarray:
    if k == 0:
        return raw
    if raw.dtype == object:
        return np.array([v << k for v in raw.flat], dtype=object).reshape(raw.shape)
    return raw << np.int64(k)


def _shr(raw: np.ndarray, k: int) -> np.ndarray:
    if raw.dtype == object:
        return np.array([v >> k for v in raw.flat], dtype=object).reshape(raw.shape)
    return raw >> np.int64(min(k, 63))


def _compare_rule(op: str, wl: int, sl: bool, wr: int, sr: bool) -> tuple[str, int]:
    """How ``ap_private<wl, sl> OP ap_private<wr, sr>`` compares: ("exact", 0), or
    ("unsigned", m) -- both values as m-bit unsigned patterns --, or ("modulo", m) --
    equal when equal modulo 2**m. The rule is symmetric in its two operands."""
    if sl == sr:
        return "exact", 0
    if op in ("==", "!="):
        # both converted to ap_private<max(wl, wr, 32), false>; two single-word values of the
        # same width compare their 64-bit (sign- or zero-extended) words instead
        return "modulo", 64 if (wl == wr and wl <= 64) else max(wl, wr, 32)
    if wl < 32 and wr < 32:  # both narrower than int: exact, like C's promotion to int
        return "exact", 0
    unsigned_wider = wr >= wl if sl else wl >= wr
    return ("unsigned", max(wl, wr) + 1) if unsigned_wider else ("exact", 0)


def _divide(ta: Format, tb: Format, ra: np.ndarray, rb: np.ndarray, rt: Format) -> np.ndarray:
    """The raws of ``a / b`` (b has no zeros) as the headers compute them.

    Both operands go into one ``ap_private<m, s>`` and are divided there (:func:`rules.div`):
    ap_int / ap_int uses m = max(W1, W2) + (S1 or S2) and the signedness of the *wider*
    operand (either's, at equal widths) -- so dividing by a negative C int an ap_uint wider
    than 32 bits divides by a huge unsigned number --; with an ap_fixed involved, the dividend
    is scaled by 2**max(F2, 0) and m is just wide enough, signed if either is. The m-bit
    quotient (wrapped: min / -1 overflows) is then truncated to the result type.
    """
    w1, s1, w2, s2 = ta.width, ta.signed, tb.width, tb.signed
    if ta.kind == "int" and tb.kind == "int":
        m = max(w1, w2) + (s1 or s2)
        s = s1 if w1 > w2 else s2 if w2 > w1 else (s1 or s2)
        shift = 0
    else:
        shift = max(_frac(tb), 0)
        m = max(w1 + shift + (s2 and not s1), w2 + (s1 and not s2))
        s = s1 or s2
    ra, rb = np.broadcast_arrays(np.asarray(ra), np.asarray(rb))
    if m <= 62 and ra.dtype == np.int64 and rb.dtype == np.int64:  # exact in int64
        x, y = _wrap64(ra << np.int64(shift), m, s), _wrap64(rb, m, s)
        q = np.abs(x) // np.abs(y)
        q = np.where((x < 0) != (y < 0), -q, q)
        return wrap_raw(_wrap64(q, m, s), rt)  # wrapped: min / -1 overflows m bits
    flat = [rules.wrap(rules.div(rules.wrap(int(x) << shift, m, s), rules.wrap(int(y), m, s), m, s),
                       rt.width, rt.signed)
            for x, y in zip(ra.flat, rb.flat)]
    return _as_storage(rt, np.array(flat, dtype=object).reshape(ra.shape))


def _fixed_to_double(raw: int, width: int, int_bits: int) -> float:
    """``ap_fixed_base::to_double()`` of one value: round the magnitude to 53 bits (ties to
    even), then write sign, exponent and mantissa fields -- the exponent modulo 2048, so
    values outside a double's normal range come out as garbage, as in the headers."""
    if raw == 0:
        return 0.0
    neg = raw < 0
    mag = -raw if neg else raw
    n = mag.bit_length()  # width - countLeadingZeros
    e = int_bits - (width - n) - 1 + 1023
    lsb = n - 53  # index of the lowest bit kept
    a = lsb >= 2 and (mag & ((1 << (lsb - 1)) - 1)) != 0  # sticky bits below the round bit
    if lsb >= 0:
        a = a or (mag >> lsb) & 1 == 1  # or the kept LSB (ties to even)
    m = (mag >> (lsb - 1)) if lsb >= 1 else (mag << (1 - lsb))
    m = (m + a) >> 1
    if (m >> 53) & 1:
        e += 1  # rounding carried into a new bit
    bits = (m & ((1 << 52) - 1)) | ((e & 0x7FF) << 52) | (int(neg) << 63)
    return struct.unpack("<d", struct.pack("<Q", bits))[0]


def _operand(x: Any) -> "APArray | Any":
    """Another APArray, or a Python int taken as a C++ ``int`` (ap_int<32>)."""
    if isinstance(x, APArray):
        return x
    if isinstance(x, (int, np.integer)) and not isinstance(x, bool):
        return APArray.from_raw(C_INT, int(x))
    return NotImplemented


def _int_to_float(v: int, f: int) -> float:
    try:
        return v / (1 << f) if f >= 0 else float(v << -f)
    except OverflowError:
        return float("inf") if v > 0 else float("-inf")


def _loops():  # noqa: ANN202
    """The compiled loops; importing them loads numba, which a few values do not need."""
    from hls_sim.types import _loops as loops
    return loops


def _py_map(fn: Any, flat: np.ndarray, args: tuple) -> tuple[np.ndarray, np.ndarray]:
    """The exact path: apply a rule to each raw as a Python int."""
    out = np.empty(flat.size, dtype=object)
    st = np.empty(flat.size, dtype=np.uint8)
    for i, v in enumerate(flat.tolist()):
        out[i], st[i] = fn(int(v), *args)
    return out, st


def quantize(fmt: Format, values: Any, *, nonfinite: str = "raise") -> APArray:
    """C++ ``T x = (double)v;`` for each value (see :meth:`Format.quantize`)."""
    if nonfinite not in ("raise", "header"):
        raise ValueError(f"nonfinite must be 'raise' or 'header', got {nonfinite!r}")
    x = np.asarray(values, dtype=np.float64)
    shape = x.shape
    flat = np.ascontiguousarray(x.ravel())
    if nonfinite == "raise":
        bad = np.flatnonzero(~np.isfinite(flat))
        if bad.size:
            nans = int(np.isnan(flat[bad]).sum())
            raise ValueError(
                f"{fmt}: {bad.size} non-finite value(s) ({nans} NaN, {bad.size - nans} infinite), "
                f"first at flat index {bad[0]}; pass nonfinite='header' for the headers' behaviour")
    bits = flat.view(np.int64)
    if fmt.fast_target and flat.size > FEW:
        out, st = np.empty(flat.size, np.int64), np.empty(flat.size, np.uint8)
        if fmt.kind == "int":
            _loops().quantize_int(bits, fmt.width, fmt.signed, out, st)
        else:
            _loops().quantize_fixed(bits, fmt.width, fmt.frac_bits, fmt.signed,
                                  int(fmt.q_mode), int(fmt.o_mode), fmt.n_sat, out, st)
    elif fmt.kind == "int":
        out, st = _py_map(rules.double_to_int, bits, (fmt.width, fmt.signed))
    else:
        out, st = _py_map(rules.double_to_fixed, bits, (fmt.width, fmt.frac_bits, fmt.signed,
                                                       int(fmt.q_mode), int(fmt.o_mode), fmt.n_sat))
    return APArray(fmt, _as_storage(fmt, out).reshape(shape), st.reshape(shape))
