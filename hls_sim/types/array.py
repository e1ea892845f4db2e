"""APArray: raw integers plus a Format, with the C++ operators.

Raw values are a numpy int64 array when the format's raws fit in int64, else an object
array of Python ints (the exact path). Arithmetic results are exact by construction (the
C++ result types are wide enough); only conversions lose precision, through
:mod:`hls_sim.types.rules`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hls_sim.types import _loops, rules
from hls_sim.types.format import Format, neg_type, result_type

C_INT = Format("int", 32, 32, True)  # a plain C++ `int` operand


def _as_storage(fmt: Format, raw: np.ndarray) -> np.ndarray:
    """Store raws as int64 when the format allows, else as Python ints in an object array."""
    if fmt.fits_int64:
        return raw if raw.dtype == np.int64 else raw.astype(np.int64)
    if raw.dtype == object:
        return raw
    out = np.empty(raw.shape, dtype=object)
    out.flat[:] = [int(v) for v in raw.flat]
    return out


def _exact(raw: np.ndarray) -> np.ndarray:
    """The same raws as an object array of Python ints."""
    if raw.dtype == object:
        return raw
    out = np.empty(raw.shape, dtype=object)
    out.flat[:] = raw.ravel().tolist()
    return out


def wrap_raw(raw: np.ndarray, fmt: Format) -> np.ndarray:
    """Reduce raws to ``fmt.width`` bits (C++ truncation), keeping the storage rules."""
    w, s = fmt.width, fmt.signed
    if raw.dtype == np.int64 and w == 64 and s:
        return raw  # int64 arithmetic already wrapped modulo 2**64
    if raw.dtype == np.int64 and w <= 63:
        top = np.int64(1) << np.int64(w - 1)
        u = raw & (top + top - 1)
        return np.where(u >= top, u - top - top, u) if s else u
    flat = [rules.wrap(int(v), w, s) for v in raw.ravel()]
    return _as_storage(fmt, np.array(flat, dtype=object).reshape(raw.shape))


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
            arr = arr.copy()
            arr.flat[:] = [int(v) for v in arr.flat]
            if fmt.fits_int64 and all(-(1 << 63) <= v < (1 << 63) for v in arr.flat):
                arr = arr.astype(np.int64)
        lo, hi = fmt.min_raw, fmt.max_raw
        if arr.dtype.kind == "u" and fmt.fits_int64 and arr.size and int(arr.max()) > hi:
            out = np.flatnonzero(arr.ravel() > hi)
        elif arr.dtype.kind in "iub" and fmt.fits_int64:
            flat = arr.ravel()
            out = np.flatnonzero((flat < lo) | (flat > hi)) if flat.size else np.array([], int)
        else:
            out = np.array([i for i, v in enumerate(arr.flat) if not lo <= int(v) <= hi], dtype=int)
        if out.size:
            first = out[0]
            raise ValueError(
                f"{fmt}: {out.size} raw value(s) outside [{lo}, {hi}] "
                f"(first at flat index {first}: {int(arr.ravel()[first])})")
        return cls(fmt, _as_storage(fmt, arr.astype(np.int64) if arr.dtype.kind in "iub" and fmt.fits_int64 else arr))

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
        """The values as float64, correctly rounded (exact whenever they fit a double)."""
        f = self.type.frac_bits
        if self.raw.dtype == np.int64:
            return np.ldexp(self.raw.astype(np.float64), -f)
        return np.array([_int_to_float(int(v), f) for v in self.raw.flat],
                        dtype=np.float64).reshape(self.shape)

    # ---- conversion --------------------------------------------------------------------
    def cast(self, fmt: Format) -> "APArray":
        """C++ ``U y = x;`` for each element."""
        src = self.type
        flat = self.raw.ravel()
        p = rules.conversion_params(src, fmt)
        if src.fits_int64 and fmt.fast_target and flat.dtype == np.int64:
            out, st = np.empty(flat.size, np.int64), np.empty(flat.size, np.uint8)
            _loops.convert(flat, p, out, st)
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
            raw = wrap_raw(_tdiv(_shl(ra, max(fb, 0)), rb), rt)
        return APArray(rt, _as_storage(rt, np.asarray(raw)))

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
        o = _operand(other)
        if o is NotImplemented:
            return NotImplemented
        fa, fb = _frac(self.type), _frac(o.type)
        f = max(fa, fb)
        exact = (not self.type.fits_int64 or not o.type.fits_int64
                 or self.type.width + f - fa > 63 or o.type.width + f - fb > 63)
        ra, rb = (_exact(self.raw), _exact(o.raw)) if exact else (self.raw, o.raw)
        ra, rb = _shl(ra, f - fa), _shl(rb, f - fb)
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


def _tdiv(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """C integer division: truncate toward zero."""
    a, b = np.broadcast_arrays(a, b)
    if a.dtype == object or b.dtype == object:
        flat = [(abs(x) // abs(y)) * (-1 if (x < 0) != (y < 0) else 1) for x, y in zip(a.flat, b.flat)]
        return np.array(flat, dtype=object).reshape(a.shape)
    q = np.abs(a) // np.abs(b)
    return np.where((a < 0) != (b < 0), -q, q)


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
    if fmt.fast_target:
        out, st = np.empty(flat.size, np.int64), np.empty(flat.size, np.uint8)
        if fmt.kind == "int":
            _loops.quantize_int(bits, fmt.width, fmt.signed, out, st)
        else:
            _loops.quantize_fixed(bits, fmt.width, fmt.frac_bits, fmt.signed,
                                  int(fmt.q_mode), int(fmt.o_mode), fmt.n_sat, out, st)
    elif fmt.kind == "int":
        out, st = _py_map(rules.double_to_int, bits, (fmt.width, fmt.signed))
    else:
        out, st = _py_map(rules.double_to_fixed, bits, (fmt.width, fmt.frac_bits, fmt.signed,
                                                       int(fmt.q_mode), int(fmt.o_mode), fmt.n_sat))
    return APArray(fmt, _as_storage(fmt, out).reshape(shape), st.reshape(shape))
