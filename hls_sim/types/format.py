"""The one immutable format object, its C++ spelling, and the C++ result-type rules."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hls_sim.types.modes import OMode, QMode

if TYPE_CHECKING:
    from hls_sim.types.array import APArray

MAX_WIDTH = 1024  # AP_INT_MAX_W, the headers' default limit
MAX_INT_BITS = 4096  # |I| bound; the headers accept any int, we refuse the absurd


@dataclass(frozen=True)
class Format:
    """An ap_int / ap_uint / ap_fixed / ap_ufixed type.

    ``kind`` is ``"int"`` for ap_int/ap_uint (which have no modes: conversions into them
    follow the headers' integer rules) and ``"fixed"`` for ap_fixed/ap_ufixed.
    Build one with :func:`parse` or the helpers :func:`ap_int`, :func:`ap_fixed`.
    """

    kind: str
    width: int
    int_bits: int
    signed: bool
    q_mode: QMode = QMode.AP_TRN
    o_mode: OMode = OMode.AP_WRAP
    n_sat: int = 0

    def __post_init__(self) -> None:
        name = self._name()
        if self.kind not in ("int", "fixed"):
            raise ValueError(f"kind must be 'int' or 'fixed', got {self.kind!r}")
        if isinstance(self.width, bool) or not isinstance(self.width, int):
            raise ValueError(f"{name}: width must be an integer, got {self.width!r}")
        if not 1 <= self.width <= MAX_WIDTH:
            raise ValueError(f"{name}: width must be 1..{MAX_WIDTH}, got {self.width}")
        if self.kind == "int" and self.int_bits != self.width:
            raise ValueError(f"{name}: an integer type has int_bits == width")
        if not -MAX_INT_BITS <= self.int_bits <= MAX_INT_BITS:
            raise ValueError(f"{name}: integer bits must be within ±{MAX_INT_BITS}, got {self.int_bits}")
        object.__setattr__(self, "q_mode", QMode(self.q_mode))
        object.__setattr__(self, "o_mode", OMode(self.o_mode))
        if not 0 <= self.n_sat <= self.width:
            raise ValueError(f"{name}: saturation bits N must be 0..width ({self.width}), got {self.n_sat}")
        if self.kind == "fixed" and not self.signed and self.o_mode == OMode.AP_WRAP_SM:
            # ap_fixed_base::report(): "ap_ufxied<...> cannot support AP_WRAP_SM." and exit(1)
            # on every construction from a value, so no program can use such a type.
            raise ValueError(f"{name}: AP_WRAP_SM (sign-magnitude wrap) needs a signed type; "
                             "the headers refuse ap_ufixed with AP_WRAP_SM")

    def _name(self) -> str:
        if self.kind == "int":
            return "ap_int" if self.signed else "ap_uint"
        return "ap_fixed" if self.signed else "ap_ufixed"

    # ---- derived properties -------------------------------------------------------
    @property
    def frac_bits(self) -> int:
        """Bits after the binary point (may be negative, or exceed the width)."""
        return self.width - self.int_bits

    @property
    def min_raw(self) -> int:
        return -(1 << (self.width - 1)) if self.signed else 0

    @property
    def max_raw(self) -> int:
        return (1 << (self.width - 1)) - 1 if self.signed else (1 << self.width) - 1

    @property
    def lsb(self) -> float:
        """The value of one raw step, 2**-frac_bits (as a float64: see :meth:`value_of`)."""
        return self.value_of(1)

    @property
    def min_value(self) -> float:
        return self.value_of(self.min_raw)

    @property
    def max_value(self) -> float:
        return self.value_of(self.max_raw)

    def value_of(self, raw: int) -> float:
        """``raw * 2**-frac_bits`` as the nearest float64: correctly rounded, ±inf beyond a
        float64's range and 0.0 below it (integer bits reach 4096 and fraction bits 5120,
        where a float64 ends at 2**1024 and 2**-1074); never an exception."""
        return _scaled(int(raw), -self.frac_bits)

    @property
    def fits_int64(self) -> bool:
        """Raw values of this type are stored in numpy int64 (else: object array of ints)."""
        return self.width <= 64 if self.signed else self.width <= 63

    @property
    def fast_target(self) -> bool:
        """Conversions into this type can run on the int64 path."""
        return self.width <= 63

    def as_fixed(self) -> "Format":
        """The ap_fixed view the headers use for an ap_int operand: ap_fixed<W, W, S>."""
        if self.kind == "fixed":
            return self
        return Format("fixed", self.width, self.width, self.signed)

    # ---- spelling -------------------------------------------------------------------
    def __str__(self) -> str:
        name = self._name()
        if self.kind == "int":
            return f"{name}<{self.width}>"
        args = [str(self.width), str(self.int_bits)]
        if self.n_sat:
            args += [self.q_mode.name, self.o_mode.name, str(self.n_sat)]
        elif self.o_mode != OMode.AP_WRAP:
            args += [self.q_mode.name, self.o_mode.name]
        elif self.q_mode != QMode.AP_TRN:
            args += [self.q_mode.name]
        return f"{name}<{','.join(args)}>"

    def cpp(self) -> str:
        """The full C++ spelling with every template argument (for generated code)."""
        if self.kind == "int":
            return str(self)
        return (f"{self._name()}<{self.width},{self.int_bits},{self.q_mode.name},"
                f"{self.o_mode.name},{self.n_sat}>")

    def __repr__(self) -> str:
        return f"parse({str(self)!r})"

    # ---- values -----------------------------------------------------------------------
    def quantize(self, values: Any, *, nonfinite: str = "raise") -> "APArray":
        """C++ ``T x = (double)v;`` for each value: exact, every mode.

        NaN and infinities raise ValueError unless ``nonfinite="header"``, which computes
        what the headers compute for them (they warn and treat the exponent as 1024).
        """
        from hls_sim.types.array import quantize

        return quantize(self, values, nonfinite=nonfinite)

    def from_raw(self, raw: Any) -> "APArray":
        """Values from stored two's-complement integers (value = raw * 2**-frac_bits)."""
        from hls_sim.types.array import APArray

        return APArray.from_raw(self, raw)


# ---- construction helpers ------------------------------------------------------------
def _scaled(raw: int, exp: int) -> float:
    """``raw * 2**exp``, correctly rounded to float64 (±inf on overflow, 0.0 on underflow)."""
    if abs(raw) < 1 << 53 and -1000 < exp < 1000:
        return raw * 2.0 ** exp  # exact: a 53-bit integer times a normal power of two
    try:
        if exp >= 0:
            return float(raw << exp)
        return raw / (1 << -exp)  # int / int: one correct rounding
    except OverflowError:
        return math.inf if raw > 0 else -math.inf


def ap_int(width: int) -> Format:
    return Format("int", width, width, True)


def ap_uint(width: int) -> Format:
    return Format("int", width, width, False)


def ap_fixed(width: int, int_bits: int, q_mode: QMode | str = QMode.AP_TRN,
             o_mode: OMode | str = OMode.AP_WRAP, n_sat: int = 0, *, signed: bool = True) -> Format:
    q = QMode[q_mode] if isinstance(q_mode, str) else q_mode
    o = OMode[o_mode] if isinstance(o_mode, str) else o_mode
    return Format("fixed", width, int_bits, signed, q, o, n_sat)


def ap_ufixed(width: int, int_bits: int, q_mode: QMode | str = QMode.AP_TRN,
              o_mode: OMode | str = OMode.AP_WRAP, n_sat: int = 0) -> Format:
    return ap_fixed(width, int_bits, q_mode, o_mode, n_sat, signed=False)


_SPELLING = re.compile(r"\s*(ap_int|ap_uint|ap_fixed|ap_ufixed)\s*<(.*)>\s*", re.S)
_INT = re.compile(r"[+-]?\d+")


def parse(spelling: str) -> Format:
    """Parse a C++ type spelling such as ``"ap_fixed<12, 4, AP_RND_CONV, AP_SAT_SYM>"``.

    Raises ValueError naming the problem for anything the headers would not accept
    (or that hls-sim does not model).
    """
    if not isinstance(spelling, str):
        raise ValueError(f"type spelling must be a string, got {type(spelling).__name__}")
    text = spelling.strip()
    if text.count("<") != text.count(">"):
        raise ValueError(f"{spelling!r}: unbalanced angle brackets")
    m = _SPELLING.fullmatch(text)
    if not m:
        raise ValueError(
            f"{spelling!r}: not a type; expected ap_int<W>, ap_uint<W>, "
            "ap_fixed<W,I[,Q[,O[,N]]]> or ap_ufixed<W,I[,Q[,O[,N]]]>")
    name, inner = m.group(1), m.group(2)
    args = [a.strip() for a in inner.split(",")]
    if any(a == "" for a in args):
        raise ValueError(f"{spelling!r}: empty template argument")

    def integer(a: str, what: str) -> int:
        if not _INT.fullmatch(a):
            raise ValueError(f"{spelling!r}: {what} must be an integer, got {a!r}")
        return int(a)

    if name in ("ap_int", "ap_uint"):
        if len(args) != 1:
            raise ValueError(f"{spelling!r}: {name} takes exactly one argument (the width)")
        w = integer(args[0], "width")
        if not 1 <= w <= MAX_WIDTH:
            raise ValueError(f"{spelling!r}: width must be 1..{MAX_WIDTH}, got {w}")
        return Format("int", w, w, name == "ap_int")
    if not 2 <= len(args) <= 5:
        raise ValueError(f"{spelling!r}: {name} takes 2 to 5 arguments (W, I, Q, O, N), got {len(args)}")
    w = integer(args[0], "width")
    i = integer(args[1], "integer bits")
    if not 1 <= w <= MAX_WIDTH:
        raise ValueError(f"{spelling!r}: width must be 1..{MAX_WIDTH}, got {w}")
    q, o, n = QMode.AP_TRN, OMode.AP_WRAP, 0
    if len(args) > 2:
        if args[2] not in QMode.__members__:
            raise ValueError(f"{spelling!r}: unknown quantization mode {args[2]!r}; "
                             f"expected one of {', '.join(QMode.__members__)}")
        q = QMode[args[2]]
    if len(args) > 3:
        if args[3] not in OMode.__members__:
            raise ValueError(f"{spelling!r}: unknown overflow mode {args[3]!r}; "
                             f"expected one of {', '.join(OMode.__members__)}")
        o = OMode[args[3]]
    if len(args) > 4:
        n = integer(args[4], "saturation bits")
    try:
        return Format("fixed", w, i, name == "ap_fixed", q, o, n)
    except ValueError as e:
        raise ValueError(f"{spelling!r}: {str(e).split(': ', 1)[-1]}") from None


# ---- the C++ result-type rules (ap_int_base::RType, ap_fixed_base::RType) ------------
def _check_width(w: int, op: str, a: Format, b: Format) -> None:
    if w > MAX_WIDTH:
        raise ValueError(f"{a} {op} {b}: result width {w} exceeds {MAX_WIDTH}")


def result_type(op: str, a: Format, b: Format) -> Format:
    """The C++ type of ``a op b`` for op in + - * /."""
    if a.kind == "int" and b.kind == "int":
        w1, s1, w2, s2 = a.width, a.signed, b.width, b.signed
        if op in "+-":
            w = max(w1 + (s2 and not s1), w2 + (s1 and not s2)) + 1
            s = True if op == "-" else (s1 or s2)
        elif op == "*":
            w, s = w1 + w2, s1 or s2
        elif op == "/":
            w, s = w1 + s2, s1 or s2
        else:
            raise ValueError(f"unknown operator {op!r}")
        _check_width(w, op, a, b)
        return Format("int", w, w, s)
    fa, fb = a.as_fixed(), b.as_fixed()
    w1, i1, s1, f1 = fa.width, fa.int_bits, fa.signed, fa.frac_bits
    w2, i2, s2, f2 = fb.width, fb.int_bits, fb.signed, fb.frac_bits
    if op in "+-":
        i = max(i1 + (s2 and not s1), i2 + (s1 and not s2)) + 1
        w = i + max(f1, f2)
        s = True if op == "-" else (s1 or s2)
    elif op == "*":
        w, i, s = w1 + w2, i1 + i2, s1 or s2
    elif op == "/":
        w, i, s = s2 + w1 + max(f2, 0), s2 + i1 + f2, s1 or s2
    else:
        raise ValueError(f"unknown operator {op!r}")
    _check_width(w, op, a, b)
    return Format("fixed", w, i, s)


def neg_type(a: Format) -> Format:
    """The C++ type of ``-a``."""
    if a.kind == "int":
        return result_type("-", Format("int", 1, 1, False), a)
    return Format("fixed", a.width + 1, a.int_bits + 1, True)
