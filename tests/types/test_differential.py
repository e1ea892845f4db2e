"""The differential tier: hls_sim.types against the real Xilinx headers compiled with g++.

Every case is computed twice -- by the model (``hls_sim.types``) and by a C++ program built
from the real ``ap_int.h`` / ``ap_fixed.h`` (:mod:`tests.support.cxx_ref`) -- and the raw
values *and* the result types must agree bit for bit. Where they disagree the headers are
right. All cases of the module share one :class:`CxxBatch` (one compile, cached under
``build/cxx_ref/``, one run split over the CPUs); the few cases where the headers stop on
an assertion are re-run in a second batch compiled with ``NDEBUG``, which computes what the
headers compute without the check, and compared against that.

Categories (see :func:`plan`):

- ``narrow-cast`` / ``narrow-double``: ap_fixed/ap_ufixed targets of every width 1..8, both
  signs, all 7 quantization x 5 overflow modes, N in {0, 1, 2, W} for the wrap modes, with
  integer bits negative, 0, inside, equal to and above the width (two of these per mode
  combination, rotating: see :func:`narrow_targets`); every code of a wider source (whose
  shape rotates too), and doubles on quarter-LSB steps across and a quarter range beyond
  the range, ties and near-ties, extremes, subnormals, NaN and infinities.
- ``int-cast`` / ``int-double``: ap_int/ap_uint targets from ap_fixed sources with I <= 0,
  0 < I < W, I > W, from ap_int/ap_uint, and from doubles (|d| < 0.5, huge, NaN and inf).
- ``wide-cast`` / ``wide-double``: random formats up to 96 bits, 65..200 bits, a few of
  1024 bits; I from -20 to W+20; values at the extremes, near the target's range, ties.
- ``ops``: + - * / (ap_int, ap_uint, ap_fixed, ap_ufixed mixed, and a Python int as a C
  ``int`` on either side), unary minus, << and >> by ints (negative, >= width), comparisons.
- ``to_string`` (radix 2, 8, 10, 16) and ``to_double`` / ``to_float`` against the headers'
  ``to_double()``.

Python cannot tell ``3 < x`` from ``x > 3``, so comparisons with a Python int are the C++
``x OP int``; ``int OP x`` may differ from the headers in one corner (x an ap_ufixed with
exactly 32 integer bits, compared with a negative int), and is not tested.
"""

from __future__ import annotations

import math
import random
import struct
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pytest

from hls_sim.types import Format, OMode, QMode, ap_int, ap_uint, parse
from tests.support.cxx_ref import CxxBatch, Handle, TypeInfo

pytestmark = pytest.mark.toolchain

SEED = 20240611  # the random categories are fixed, so warm runs hit the compile cache

# ---- the record of every case: the model's answer next to the headers' ---------------------


@dataclass
class Entry:
    """One queued C++ call and what the model says it should give."""

    cat: str
    label: str
    inputs: list
    handle: Handle
    model: list | None  # raws / bools / strs / float bit patterns; None when the model raised
    model_type: Format | None = None  # result type, for raw-producing operations
    error: str | None = None  # why the model raised
    requeue: Callable[[CxxBatch, list[int]], Handle] | None = None  # the same call, some cases
    ndebug: bool = False  # checked against the NDEBUG build
    aborts: list | None = None  # for an NDEBUG entry: why the default build stopped


@dataclass
class Plan:
    batch: CxxBatch
    entries: list[Entry] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def add(self, cat: str, label: str, inputs: list, handle: Handle, model: Callable[[], Any],
            requeue=None, typed: bool = True) -> None:
        try:
            out = model()
        except Exception as e:  # noqa: BLE001 - reported as a mismatch, with the reason
            self.entries.append(Entry(cat, label, inputs, handle, None,
                                      error=f"{type(e).__name__}: {e}", requeue=requeue))
            return
        if typed:
            self.entries.append(Entry(cat, label, inputs, handle, _raw_list(out.raw), out.type,
                                      requeue=requeue))
        else:
            self.entries.append(Entry(cat, label, inputs, handle, list(out), requeue=requeue))

    # -- queueing helpers: the C++ call and the model's computation side by side --
    def cast(self, cat: str, src: Format, dst: Format, raws: list[int], x=None) -> None:
        x = src.from_raw(raws) if x is None else x
        self.add(cat, f"{dst.cpp()} <- {src.cpp()}", raws, self.batch.cast(dst.cpp(), src.cpp(), raws),
                 lambda: x.cast(dst),
                 requeue=lambda b, idx: b.cast(dst.cpp(), src.cpp(), [raws[i] for i in idx]))

    def from_double(self, cat: str, dst: Format, values: list[float]) -> None:
        self.add(cat, f"{dst.cpp()} <- double", values, self.batch.from_double(dst.cpp(), values),
                 lambda: dst.quantize(values, nonfinite="header"),
                 requeue=lambda b, idx: b.from_double(dst.cpp(), [values[i] for i in idx]))


def _raw_list(raw: np.ndarray) -> list[int]:
    return [int(v) for v in raw.ravel().tolist()]


def _float_bits(values) -> list[int]:
    return [struct.unpack("<Q", struct.pack("<d", float(v)))[0] for v in values]


def type_matches(fmt: Format, ti: TypeInfo) -> bool:
    """The model's Format is the C++ type the headers report (kind, width, I, sign, modes)."""
    if fmt.kind == "int":
        return ti.kind == "int" and not ti.builtin and (ti.width, ti.signed) == (fmt.width, fmt.signed)
    return ti.kind == "fixed" and (ti.width, ti.int_bits, ti.signed, ti.q_mode, ti.o_mode, ti.sat_bits) == (
        fmt.width, fmt.int_bits, fmt.signed, fmt.q_mode.name, fmt.o_mode.name, fmt.n_sat)


# ---- format and value generators ------------------------------------------------------------
WRAPS = (OMode.AP_WRAP, OMode.AP_WRAP_SM)
#: Source shapes for the narrow casts: (extra integer bits, extra fraction bits, signed).
#: 3 extra bits keep the codes at 8x the target's; the shape rotates with I (see narrow_targets).
SOURCE_SHAPES = ((1, 2, True), (1, 2, False), (2, 1, True), (0, 3, False), (3, 0, True))
I_PER_MODE = 2  # integer-bit values per (W, S, Q, O, N) combination


def narrow_int_bits(w: int) -> list[int]:
    """I negative, 0, inside (0 < I < W, where there is room), = W, > W."""
    neg, over = -1 - w % 3, w + 1 + w % 2
    return sorted({neg, 0, max(1, w // 2), w, over})


def narrow_targets():
    """(target, source, also from_double) for the narrow category.

    Every width 1..8, both signs, every (Q, O, N) combination, each with ``I_PER_MODE`` of
    the values of :func:`narrow_int_bits` (the first of them also converts the double grid),
    rotating so that every I value meets every Q and every O mode of its width and sign. All
    five I values for every combination would be 4641 targets, about 20 minutes of g++ on
    two cores (it was run once, and matched); and since each source is placed relative to
    its target, I moves no bit in the headers' conversion code. The source's shape rotates
    too, so each (Q, O) pair meets every shape of SOURCE_SHAPES.
    ap_ufixed with AP_WRAP_SM is refused by the headers: see the test of its own.
    """
    for w in range(1, 9):
        ints = narrow_int_bits(w)
        for s in (True, False):
            c = 0  # running index of the (Q, O, N) combination
            for q in QMode:
                for o in OMode:
                    if o == OMode.AP_WRAP_SM and not s:
                        continue
                    for n in (sorted({0, 1, 2, w} & set(range(w + 1))) if o in WRAPS else [0]):
                        for k in range(I_PER_MODE):
                            i = ints[(c + 2 * k) % len(ints)]
                            di, df, ss = SOURCE_SHAPES[(c + 3 * k) % len(SOURCE_SHAPES)]
                            yield (Format("fixed", w, i, s, q, o, n),
                                   Format("fixed", w + di + df, i + di, ss), k == 0)
                        c += 1


def double_grid(t: Format) -> list[float]:
    """Doubles on quarter-LSB steps across the range and a quarter range beyond it (ties
    included), sparse points far beyond, near-ties, and extremes."""
    f = t.frac_bits
    r = 1 << t.width
    lo, hi = t.min_raw - r // 4 - 2, t.max_raw + r // 4 + 2
    vals = [math.ldexp(k, -f - 2) for k in range(4 * lo, 4 * hi + 1)]
    for j in range(t.width, t.width + 5):
        for q in (0, 1, 2, 3):
            vals += [math.ldexp((1 << (j + 2)) + q, -f - 2), -math.ldexp((1 << (j + 2)) + q, -f - 2)]
    for tie in (0.5, -0.5, 1.5, -1.5, t.max_raw + 0.5, t.min_raw - 0.5):
        for eps in (2.0 ** -40, -(2.0 ** -40)):
            vals.append(math.ldexp(tie + eps, -f))
    return vals + SPECIAL_DOUBLES


SPECIAL_DOUBLES = [0.0, -0.0, 1e300, -1e300, 2.0 ** 70, -(2.0 ** 70), 2.0 ** -100, -(2.0 ** -100),
                   5e-324, -5e-324, 2.2250738585072014e-308, -2.2250738585072014e-308,
                   math.nan, math.inf, -math.inf]


def _in(fmt: Format, r: int) -> bool:
    return fmt.min_raw <= r <= fmt.max_raw


def random_raws(rng: random.Random, fmt: Format, n: int) -> list[int]:
    """Edge codes, uniform codes, and codes of random bit lengths (small magnitudes)."""
    lo, hi = fmt.min_raw, fmt.max_raw
    out = {lo, hi, 0, min(1, hi), lo + 1 if lo < hi else lo, hi - 1 if hi > lo else hi, hi // 2, lo // 2}
    if fmt.signed:
        out.add(-1)
    n = min(n, hi - lo + 1)
    while len(out) < n:
        if rng.random() < 0.5:
            out.add(rng.randint(lo, hi))
        else:
            k = rng.randint(0, fmt.width - 1)
            v = rng.getrandbits(k) if k else 0
            out.add(-v if fmt.signed and rng.random() < 0.5 else v)
    return sorted(r for r in out if _in(fmt, r))


def near_target_raws(rng: random.Random, src: Format, dst: Format) -> list[int]:
    """Source codes on, beside, and half way between the target's codes near its limits."""
    f2 = src.frac_bits if src.kind == "fixed" else 0
    f = dst.frac_bits if dst.kind == "fixed" else 0
    d = f2 - f  # the source has 2**d codes per target code (d < 0: fewer)
    out = set()
    targets = [dst.max_raw, dst.max_raw + 1, dst.min_raw, dst.min_raw - 1, 0, 1, -1,
               rng.randint(dst.min_raw, dst.max_raw)]
    for k in targets:
        for frac in ((0, 1), (1, 2), (1, 4), (3, 4)):  # k + num/den target LSBs
            num, den = frac
            if d >= 0:
                base = k << d
                if den > 1 and d >= den.bit_length() - 1:
                    base += (num << d) // den
                for e in (-1, 0, 1):
                    out.add(base + e)
            else:
                out.add(k >> -d)
    return [r for r in out if _in(src, r)]


def random_format(rng: random.Random, *, int_share: float = 0.2, widths: str = "mixed") -> Format:
    u = rng.random()
    if widths == "narrow" or (widths == "mixed" and u < 0.65):
        w = rng.randint(1, 96)
    else:
        w = rng.randint(65, 200)
    s = rng.random() < 0.6
    if rng.random() < int_share:
        return Format("int", w, w, s)
    i = rng.randint(-20, w + 20)
    q = rng.choice(list(QMode))
    o = rng.choice([m for m in OMode if s or m != OMode.AP_WRAP_SM])
    n = 0
    if o in WRAPS:
        n = min(w, rng.choice([0, 0, 1, 2, 3, w]))
    return Format("fixed", w, i, s, q, o, n)


def random_doubles(rng: random.Random, t: Format, n: int) -> list[float]:
    """Doubles near the target's limits and codes, ties, random magnitudes, extremes."""
    f = t.frac_bits if t.kind == "fixed" else 0
    out = []
    for k in (t.max_raw, t.min_raw, 0, 1, -1, rng.randint(t.min_raw, t.max_raw)):
        for frac in (0.0, 0.25, 0.5, 0.75, 1.0, -0.5, 2.0 ** -30):
            sh = max(0, abs(k).bit_length() - 1000)  # keep float(k) finite for 1024-bit codes
            try:
                out.append(math.ldexp(float(k >> sh) + frac, sh - f))
            except OverflowError:  # beyond any double: the extremes below stand in
                pass
    while len(out) < n:
        e = rng.randint(-f - 8, t.width - f + 8)
        m = rng.getrandbits(53) | (1 << 52)
        v = math.ldexp(m, e - 52) if -1074 < e - 52 and e < 1000 else 0.0
        out.append(-v if rng.random() < 0.5 else v)
    return [x for x in out if math.isfinite(x)] + SPECIAL_DOUBLES


# ---- the plan: every case of the module -------------------------------------------------------
INT_TARGET_WIDTHS = (1, 2, 3, 4, 5, 6, 7, 8, 16, 32, 33, 63, 64, 65, 100)
INT_CAST_SOURCES = ("ap_fixed<10,-2>", "ap_fixed<8,0>", "ap_fixed<10,4>", "ap_ufixed<9,3>",
                    "ap_fixed<6,9>", "ap_ufixed<5,8>", "ap_int<11>", "ap_uint<10>")
WIDE_PAIRS = 200
WIDE_1024 = (("ap_fixed<1024,500,AP_RND_CONV,AP_SAT>", "ap_fixed<1024,1030>"),
             ("ap_fixed<1024,-20,AP_RND,AP_WRAP_SM,2>", "ap_fixed<300,-100>"),
             ("ap_ufixed<1024,1000,AP_TRN_ZERO,AP_SAT_SYM>", "ap_int<1024>"),
             ("ap_int<1024>", "ap_fixed<1024,1044>"),
             ("ap_fixed<100,50,AP_RND_INF,AP_WRAP,3>", "ap_fixed<1024,60>"),
             ("ap_uint<1024>", "ap_fixed<700,-20>"))
OP_PAIRS = 40
C_INTS = (1, -1, 7, -100, 2 ** 31 - 1, -(2 ** 31), 123456789)
STRING_INT_WIDTHS = (1, 8, 13, 64, 65, 128, 200)
STRING_FIXED = ((8, 3), (8, 0), (8, -3), (8, 11), (1, 1), (1, -1), (13, 5), (64, 32), (64, -4),
                (64, 70), (65, 1), (70, 35), (100, -10), (100, 110), (200, 3))


def plan(batch: CxxBatch, parts=("narrow", "int", "wide", "ops", "strings")) -> Plan:
    """Queue every case (``parts`` picks some, when debugging one category)."""
    p = Plan(batch)
    for part in parts:
        rng = random.Random(f"{SEED}-{part}")  # each part's cases do not depend on the others
        {"narrow": lambda: _plan_narrow(p), "int": lambda: _plan_int_targets(p, rng),
         "wide": lambda: _plan_wide(p, rng), "ops": lambda: _plan_ops(p, rng),
         "strings": lambda: _plan_strings(p, rng)}[part]()
    return p


def _plan_narrow(p: Plan) -> None:
    codes: dict[Format, tuple[list[int], Any]] = {}
    for t, src, grid in narrow_targets():
        if src not in codes:
            raws = list(range(src.min_raw, src.max_raw + 1))
            codes[src] = (raws, src.from_raw(raws))
        raws, x = codes[src]
        p.cast("narrow-cast", src, t, raws, x)
        if grid:
            p.from_double("narrow-double", t, double_grid(t))
    # ap_ufixed with AP_WRAP_SM: the headers print "cannot support AP_WRAP_SM" and exit(1)
    p.extra["wrap_sm_unsigned"] = [
        (t, batch_pair(p.batch, t)) for t in ("ap_ufixed<1,1,AP_TRN,AP_WRAP_SM,0>",
                                              "ap_ufixed<8,4,AP_RND,AP_WRAP_SM,2>",
                                              "ap_ufixed<70,-3,AP_RND_CONV,AP_WRAP_SM,0>")]


def batch_pair(b: CxxBatch, t: str) -> tuple[Handle, Handle]:
    return b.cast(t, "ap_fixed<12,4>", [0, 5, -5, 2047]), b.from_double(t, [0.0, 0.5, -3.25, 1e9])


def _plan_int_targets(p: Plan, rng: random.Random) -> None:
    for w in INT_TARGET_WIDTHS:
        for t in (ap_int(w), ap_uint(w)):
            for s in INT_CAST_SOURCES:
                src = parse(s)
                p.cast("int-cast", src, t, list(range(src.min_raw, src.max_raw + 1)))
            vals = [-0.3, -0.49999999999999994, -0.5, -0.5000000000000001, -1e-300, -5e-324,
                    0.3, 0.5, 0.49999999999999994, -0.75, -1.0, -1.5, 2.0 ** 62, -(2.0 ** 62),
                    2.0 ** 63, -(2.0 ** 63), 2.0 ** 64, -(2.0 ** 64), 2.0 ** 100 + 2.0 ** 60,
                    -(2.0 ** 100), 1e300, -1e300, 1.7976931348623157e308]
            if w <= 8:
                r = 1 << w
                vals += [k / 4 for k in range(-5 * r, 5 * r + 1)]
            else:
                vals += random_doubles(rng, t, 60)
            p.from_double("int-double", t, vals + SPECIAL_DOUBLES)
    # wide ap_fixed sources into ap_int targets (random codes)
    for s, t in (("ap_fixed<80,30>", "ap_int<20>"), ("ap_fixed<70,-3>", "ap_int<65>"),
                 ("ap_ufixed<90,100>", "ap_uint<120>"), ("ap_fixed<100,100>", "ap_int<64>"),
                 ("ap_fixed<200,150,AP_RND,AP_SAT>", "ap_uint<63>"), ("ap_int<100>", "ap_uint<70>")):
        src, dst = parse(s), parse(t)
        p.cast("int-cast", src, dst, random_raws(rng, src, 60))


def _plan_wide(p: Plan, rng: random.Random) -> None:
    pairs = [(random_format(rng), random_format(rng)) for _ in range(WIDE_PAIRS)]
    pairs += [(parse(t), parse(s)) for t, s in WIDE_1024]
    seen = set()
    for t, src in pairs:
        raws = sorted(set(random_raws(rng, src, 30)) | set(near_target_raws(rng, src, t)))
        p.cast("wide-cast", src, t, raws)
        if t not in seen:
            seen.add(t)
            p.from_double("wide-double", t, random_doubles(rng, t, 40))
    # subnormal doubles: only formats with more than 1022 fraction bits can tell the headers'
    # reading (an implicit leading one) from the true value
    for t in ("ap_fixed<1024,-20,AP_RND_CONV,AP_SAT>", "ap_ufixed<1024,-5>", "ap_fixed<1024,-40,AP_TRN_ZERO>"):
        p.from_double("wide-double", parse(t), [5e-324, -5e-324, 1e-310, -2.5e-308, 2.2250738585072014e-308,
                                                2.225073858507201e-308, 1e-300, -1e-300])


def _plan_ops(p: Plan, rng: random.Random) -> None:
    b = p.batch
    for k in range(OP_PAIRS):
        A = random_format(rng, int_share=0.35)
        B = random_format(rng, int_share=0.35)
        ra = random_raws(rng, A, 12)
        rb = random_raws(rng, B, 12)
        pairs = [(x, y) for x in ra[:6] for y in rb[:6]] + list(zip(ra, reversed(rb)))
        pairs += equal_pairs(A, B, ra)
        xa = A.from_raw([x for x, _ in pairs])
        xb = B.from_raw([y for _, y in pairs])
        a_s, b_s = A.cpp(), B.cpp()
        for op in "+-*/":
            prs = pairs if op != "/" else [(x, y) for x, y in pairs if y != 0]
            if op == "/":
                xa_, xb_ = A.from_raw([x for x, _ in prs]), B.from_raw([y for _, y in prs])
            else:
                xa_, xb_ = xa, xb
            p.add("ops", f"{a_s} {op} {b_s}", prs, b.binop(op, a_s, b_s, prs),
                  lambda xa_=xa_, xb_=xb_, op=op: _arith(xa_, xb_, op))
        cmps = ("<", "<=", ">", ">=", "==", "!=") if k % 3 == 0 else (("<", "==", ">="), ("<=", "!=", ">"))[k % 2]
        for op in cmps:
            p.add("ops", f"{a_s} {op} {b_s}", pairs, b.compare(op, a_s, b_s, pairs),
                  lambda xa=xa, xb=xb, op=op: _compare(xa, xb, op).tolist(), typed=False)
        # a Python int is a C int, on either side
        c_op = "+-*/"[k % 4]
        ks = list(C_INTS)
        ra6 = ra[:8]
        prs = [(x, c) for x in ra6 for c in ks]
        p.add("ops", f"{a_s} {c_op} int", prs, b.binop(c_op, a_s, "int", prs),
              lambda A=A, ra6=ra6, ks=ks, c_op=c_op: _with_int(A, ra6, ks, c_op, False), typed=True)
        r_op = "+-*/"[(k + 1) % 4]
        nz = [x for x in ra6 if x != 0] if r_op == "/" else ra6
        prs_r = [(c, x) for x in nz for c in ks]
        p.add("ops", f"int {r_op} {a_s}", prs_r, b.binop(r_op, "int", a_s, prs_r),
              lambda A=A, nz=nz, ks=ks, r_op=r_op: _with_int(A, nz, ks, r_op, True), typed=True)
        cmp_op = ("<", "<=", ">", ">=", "==", "!=")[k % 6]
        p.add("ops", f"{a_s} {cmp_op} int", prs, b.compare(cmp_op, a_s, "int", prs),
              lambda A=A, ra6=ra6, ks=ks, cmp_op=cmp_op: _cmp_int(A, ra6, ks, cmp_op), typed=False)
        # unary minus and shifts (the shifted value keeps its type, modes included)
        xa_all = A.from_raw(ra)
        p.add("ops", f"-{a_s}", ra, b.unop("-", a_s, ra), lambda xa_all=xa_all: -xa_all)
        amounts = sorted({-A.width - 1, -3, -1, 0, 1, 3, A.width - 1, A.width, A.width + 5, 100})
        for sop in ("<<", ">>"):
            sp = [(x, m) for x in ra for m in amounts]
            p.add("ops", f"{a_s} {sop} int", sp, b.shift(sop, a_s, sp),
                  lambda A=A, ra=ra, amounts=amounts, sop=sop: _shifted(A, ra, amounts, sop))
    # division by zero: the model raises; the headers die (checked in its own test)
    p.extra["div0"] = [(f, b.binop("/", f, f, [(5, 0), (-3, 0)]))
                       for f in ("ap_int<8>", "ap_uint<70>", "ap_fixed<12,4>", "ap_fixed<90,20>")]


def equal_pairs(A: Format, B: Format, raws: list[int]) -> list[tuple[int, int]]:
    """(a, b) with b the same value as a in B, where B can hold it exactly."""
    fa = A.frac_bits if A.kind == "fixed" else 0
    fb = B.frac_bits if B.kind == "fixed" else 0
    out = []
    for x in raws:
        y = x << (fb - fa) if fb >= fa else (x >> (fa - fb) if x % (1 << (fa - fb)) == 0 else None)
        if y is not None and _in(B, y):
            out.append((x, y))
    return out


class _Stacked:
    """Concatenation of same-typed APArrays (the model's answers for several scalar operands)."""

    def __init__(self, parts):
        types = {x.type for x in parts}
        assert len(types) == 1, types
        self.type = parts[0].type
        self.raw = np.concatenate([np.asarray(x.raw).ravel() for x in parts])


def _arith(xa, xb, op):
    return {"+": lambda: xa + xb, "-": lambda: xa - xb, "*": lambda: xa * xb, "/": lambda: xa / xb}[op]()


def _compare(xa, xb, op):
    return {"<": xa < xb, "<=": xa <= xb, ">": xa > xb, ">=": xa >= xb, "==": xa == xb, "!=": xa != xb}[op]


def _with_int(A: Format, raws, ks, op, reflected):
    parts = []
    for x in raws:
        v = A.from_raw([x] * len(ks))
        outs = [(_arith_int(v[j:j + 1], c, op, reflected)) for j, c in enumerate(ks)]
        parts.extend(outs)
    return _Stacked(parts)


def _arith_int(v, c, op, reflected):
    if reflected:
        return {"+": lambda: c + v, "-": lambda: c - v, "*": lambda: c * v, "/": lambda: c / v}[op]()
    return {"+": lambda: v + c, "-": lambda: v - c, "*": lambda: v * c, "/": lambda: v / c}[op]()


def _cmp_int(A: Format, raws, ks, op):
    out = []
    for x in raws:
        v = A.from_raw([x])
        for c in ks:
            out.append(bool(_compare(v, c, op)[0]))
    return out


def _shifted(A: Format, raws, amounts, sop):
    v = A.from_raw(raws)
    parts = []
    for j in range(len(raws)):
        for m in amounts:
            parts.append(v[j:j + 1] << m if sop == "<<" else v[j:j + 1] >> m)
    return _Stacked(parts)


def _plan_strings(p: Plan, rng: random.Random) -> None:
    fmts = [Format("int", w, w, s) for w in STRING_INT_WIDTHS for s in (True, False)]
    fmts += [Format("fixed", w, i, s) for w, i in STRING_FIXED for s in (True, False)]
    for f in fmts:
        raws = random_raws(rng, f, 14)
        x = f.from_raw(raws)
        for radix in (2, 8, 10, 16):
            p.add("to_string", f"{f.cpp()}.to_string({radix})", raws,
                  p.batch.to_string(f.cpp(), raws, radix=radix),
                  lambda x=x, radix=radix: x.to_string(radix).tolist(), typed=False)
        h = p.batch.to_double(f.cpp(), raws)
        p.add("to_float", f"{f.cpp()}.to_double()", raws, h,
              lambda x=x: _float_bits(x.to_double()), typed=False)
        if f.kind == "fixed" or f.width <= 64:  # where the headers' to_double is the value
            p.add("to_float", f"{f.cpp()}.to_double() vs to_float()", raws, h,
                  lambda x=x: _float_bits(x.to_float()), typed=False)
    # values far outside a double's range, and below its smallest normal: the headers wrap
    # the exponent (to_double reproduces it; to_float gives the rounded true value)
    for f in (Format("fixed", 200, 1200, True), Format("fixed", 100, -1000, True),
              Format("fixed", 64, -1060, False), Format("fixed", 300, 1100, False),
              Format("fixed", 60, -1000, True), Format("fixed", 70, 1030, True)):
        raws = random_raws(rng, f, 14)
        x = f.from_raw(raws)
        p.add("to_float", f"{f.cpp()}.to_double()", raws, p.batch.to_double(f.cpp(), raws),
              lambda x=x: _float_bits(x.to_double()), typed=False)


# ---- running and comparing ---------------------------------------------------------------------


def run_plan(parts=("narrow", "int", "wide", "ops", "strings"), build_dir=None) -> Plan:
    """Plan, compile, run; then re-run with NDEBUG the cases that stopped on an assertion."""
    p = plan(CxxBatch(build_dir), parts)
    p.batch.run()
    # Casts that round away more bits than the source has make the headers assert
    # (ap_private::get_bit past the MSB); Vitis csim keeps the assertions, but a user's
    # NDEBUG build computes a value, and that is what the model gives.
    nd = CxxBatch(build_dir, defines=("NDEBUG",))
    redo = []
    for e in p.entries:
        if e.model is None or e.requeue is None or not e.handle.done:
            continue
        idx = [i for i, err in enumerate(e.handle.errors) if err is not None and err.startswith("SIGABRT")]
        if idx:
            redo.append(Entry(e.cat, e.label + " [NDEBUG]", [e.inputs[i] for i in idx],
                              e.requeue(nd, idx), [e.model[i] for i in idx], e.model_type,
                              ndebug=True, aborts=[e.handle.errors[i] for i in idx]))
    if redo:
        nd.run()
    p.extra["ndebug"] = redo
    p.extra["stats"] = (p.batch.stats, nd.stats)
    return p


@pytest.fixture(scope="module")
def diff(toolchain):
    return run_plan()


def mismatches(entries, limit: int = 12) -> tuple[list[str], Counter]:
    """Describe every disagreement; count the cases compared."""
    bad: list[str] = []
    n = Counter()
    for e in entries:
        h = e.handle
        if e.model is None:
            bad.append(f"{e.label}: the model raised {e.error}")
            continue
        got = h.raw if h._out_kind == "raw" else h.values
        if h._out_kind == "float":
            got = _float_bits(v if v is not None else math.nan for v in got)
        n[e.cat] += len(got)
        if e.model_type is not None and not type_matches(e.model_type, h.type):
            bad.append(f"{e.label}: result type: model {e.model_type.cpp()}, headers {h.type}")
        diffs = [i for i, (g, m, err) in enumerate(zip(got, e.model, h.errors))
                 if err is None and g != m]
        # assertions (SIGABRT) were re-run with NDEBUG; any other failure is a finding
        errs = [i for i, err in enumerate(h.errors)
                if err is not None and (e.ndebug or e.requeue is None or not err.startswith("SIGABRT"))]
        if errs:
            bad.append(f"{e.label}: headers failed on {len(errs)} case(s), first {e.inputs[errs[0]]!r}: "
                       f"{h.errors[errs[0]]}")
        if diffs:
            shown = ", ".join(f"{e.inputs[i]!r}: model {e.model[i]!r} headers {got[i]!r}" for i in diffs[:4])
            bad.append(f"{e.label}: {len(diffs)}/{len(got)} differ ({shown})")
    return bad[:limit] + ([f"... {len(bad) - limit} more"] if len(bad) > limit else []), n


def _check(diff, *cats):
    entries = [e for e in diff.entries if e.cat in cats]
    bad, n = mismatches(entries)
    bad_nd, n_nd = mismatches([e for e in diff.extra["ndebug"] if e.cat in cats])
    assert sum(n.values()) > 0
    assert not (bad + bad_nd), "\n".join(bad + bad_nd)


def test_narrow_casts_every_mode_every_code(diff):
    _check(diff, "narrow-cast")


def test_narrow_from_double_grid(diff):
    _check(diff, "narrow-double")


def test_int_targets(diff):
    _check(diff, "int-cast", "int-double")


def test_wide_random_casts(diff):
    _check(diff, "wide-cast")


def test_wide_random_from_double(diff):
    _check(diff, "wide-double")


def test_operators_values_and_result_types(diff):
    _check(diff, "ops")


def test_to_string(diff):
    _check(diff, "to_string")


def test_to_float_is_to_double(diff):
    _check(diff, "to_float")


def test_asserting_casts_were_compared_without_ndebug(diff):
    """Casts that round away more bits than the source has make the headers assert; every
    such case was re-run with NDEBUG (and matched, see the category tests)."""
    redo = diff.extra["ndebug"]
    assert redo, "the random casts should include some that round away a whole source"
    for e in redo:
        assert e.cat in ("wide-cast", "int-cast") and all("Assertion" in a for a in e.aborts), e.aborts[:3]


MIN_CASES = {"narrow-cast": 1_000_000, "narrow-double": 400_000, "int-cast": 150_000,
             "int-double": 10_000, "wide-cast": 8_000, "wide-double": 8_000, "ops": 25_000,
             "to_string": 2_000, "to_float": 1_000}


def test_every_category_ran(diff):
    """The plan really compared what it says (guards against a silently shrunken plan)."""
    _, n = mismatches(diff.entries, limit=0)
    short = {c: n[c] for c, k in MIN_CASES.items() if n[c] < k}
    assert not short, short


def test_unsigned_wrap_sm_is_refused_by_both(diff):
    for t, (hc, hd) in diff.extra["wrap_sm_unsigned"]:
        for h in (hc, hd):
            assert all(err is not None and err.startswith("exit(1)") for err in h.errors), (t, h.errors)
        with pytest.raises(ValueError, match="AP_WRAP_SM"):
            parse(t)
    assert "cannot support AP_WRAP_SM" in diff.batch.stderr


def test_division_by_zero(diff):
    for f, h in diff.extra["div0"]:
        assert all(err is not None for err in h.errors), (f, h.errors)
        x = parse(f).from_raw([5, 3])
        with pytest.raises(ZeroDivisionError, match="division by zero"):
            x / parse(f).from_raw([0, 1])
