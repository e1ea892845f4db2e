"""Run batches of ap_int / ap_fixed operations through g++ and the real Xilinx headers.

This is the source of truth for the differential tests: every operation queued on a
:class:`CxxBatch` is executed by a small generated C++ program compiled against the real
``ap_types`` headers (found by :func:`hls_sim.toolchain.find_ap_types`).

Usage::

    b = CxxBatch()
    h = b.binop("*", "ap_fixed<8,3,AP_TRN,AP_WRAP,0>", "ap_uint<5>", [(12, 7), (-3, 31)])
    s = b.to_string("ap_fixed<8,3>", [44], radix=10)
    b.run()
    h.raw, h.type, s.values

Design
------
* Types are C++ spellings (``"ap_fixed<12,4,AP_RND_CONV,AP_SAT_SYM,0>"``, ``"ap_int<70>"``,
  also plain C integer types such as ``"int"`` as operands).
* Values are raw stored integers: ``value = raw * 2**-(width - int_bits)``.  Input raws may be
  signed or the unsigned bit pattern; they are masked to the type's width.  Output raws are
  the result's bit pattern read as signed iff the result type is signed.
* Each distinct (operation, types) combination is one *group*: one small C++ function.  The
  generated source depends only on the set of groups; the values travel in a data file, so
  re-running with new random values never recompiles.
* The groups are spread over several translation units (by a stable hash of each group's
  first type), each compiled to an object once and cached by source hash with
  :func:`hls_sim.toolchain.cached_build` under ``<repo>/build/cxx_ref/``; the objects are
  compiled in parallel (``jobs``, default the CPU count; ``$HLS_SIM_CXX_JOBS``) and linked
  (also cached).  A constant ``main`` looks groups up by name in a registry that the
  translation units fill at start-up.
* A case that dies inside the headers -- an assertion (SIGABRT), a division by zero (SIGFPE),
  the headers' ``exit(1)`` for invalid types -- fails only that case: its result is ``None``
  and ``Handle.errors`` holds the reason (with the assertion text).  The rest of the batch runs.
* Big batches run as ``jobs`` processes at once, each on a slice of the groups.
* Header warnings (NaN assigned to a fixed, negative bounds in ``to_string``...) go to the
  program's stderr, which is captured and kept in :attr:`CxxBatch.stderr`.
* The headers are compiled as Vitis HLS C simulation does by default: *with* their assertions
  (no NDEBUG).  ``CxxBatch(defines=("NDEBUG",))`` compiles them without.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import signal
import struct
import subprocess
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterable, Sequence

from hls_sim.toolchain import (
    ToolchainError,
    cached_build,
    compile_cpp,
    find_ap_types,
    find_cxx,
)

__all__ = ["CxxBatch", "TypeInfo", "Handle", "parse_type", "ToolchainError", "BUILD_DIR"]

REPO_ROOT = Path(__file__).resolve().parents[2]
#: Where compiled objects are cached; ``$HLS_SIM_CXX_REF_BUILD`` moves it (e.g. to time a cold run).
BUILD_DIR = Path(os.environ.get("HLS_SIM_CXX_REF_BUILD") or REPO_ROOT / "build" / "cxx_ref")

#: Compile flags of the generated translation units.  -O0 is the fastest to compile (about
#: 20% less CPU than -O1/-O2 on these units; -O1 is not faster); the programs run only a few
#: million operations, and correctness is all that matters.  The headers never throw, and a
#: failing case leaves by siglongjmp, not by unwinding: dropping exception support and unwind
#: tables saves another ~12% of compile time and changes no result.
CXX_FLAGS = ("-std=c++14", "-O0", "-w", "-fno-exceptions", "-fno-asynchronous-unwind-tables")

#: At most this many translation units (a power of two; empty ones are dropped).  A group's
#: unit is chosen by a hash of its first type, so (a) groups sharing that type share its
#: template instantiations (about 25% less compile time on a realistic pool of types) and
#: (b) adding a group to a batch recompiles only the unit it falls into.
N_SHARDS_MAX = 16
#: Aim for about this many groups per translation unit when the batch is small.
GROUPS_PER_SHARD = 24

Q_MODES = ("AP_RND", "AP_RND_ZERO", "AP_RND_MIN_INF", "AP_RND_INF", "AP_RND_CONV", "AP_TRN", "AP_TRN_ZERO")
O_MODES = ("AP_SAT", "AP_SAT_ZERO", "AP_SAT_SYM", "AP_WRAP", "AP_WRAP_SM")

# C integer types accepted as operand types: spelling -> (width, signed).  x86-64 / LP64.
C_INT_TYPES = {
    "bool": (1, False),
    "char": (8, True),
    "signed char": (8, True),
    "unsigned char": (8, False),
    "short": (16, True),
    "unsigned short": (16, False),
    "int": (32, True),
    "unsigned": (32, False),
    "unsigned int": (32, False),
    "long": (64, True),
    "unsigned long": (64, False),
    "long long": (64, True),
    "unsigned long long": (64, False),
    "ap_slong": (64, True),
    "ap_ulong": (64, False),
}

BINOPS = ("+", "-", "*", "/", "%", "&", "|", "^")
UNOPS = ("-", "+", "~")
SHIFTS = ("<<", ">>")
COMPARES = ("<", "<=", ">", ">=", "==", "!=")
RADIXES = (2, 8, 10, 16)
MAX_WIDTH = 1024  # AP_INT_MAX_W of the headers


# --------------------------------------------------------------------------------------
# Types
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TypeInfo:
    """Shape of an ap type.  ``int_bits == width`` for ap_int/ap_uint (``kind == "int"``)."""

    width: int
    int_bits: int
    signed: bool
    kind: str = "fixed"  # "int" (ap_int_base-like, or a C integer) or "fixed" (ap_fixed_base-like)
    q_mode: str | None = None  # fixed only: "AP_TRN", ...
    o_mode: str | None = None  # fixed only: "AP_WRAP", ...
    sat_bits: int | None = None  # fixed only: the N template argument
    builtin: bool = False  # a plain C integer type (int, unsigned char, ...)

    @property
    def frac_bits(self) -> int:
        return self.width - self.int_bits

    @property
    def spelling(self) -> str:
        """A C++ spelling of the type (ap_fixed/ap_ufixed/ap_int/ap_uint)."""
        if self.kind == "int":
            return f"ap_{'' if self.signed else 'u'}int<{self.width}>"
        return (
            f"ap_{'' if self.signed else 'u'}fixed<{self.width},{self.int_bits},"
            f"{self.q_mode or 'AP_TRN'},{self.o_mode or 'AP_WRAP'},{self.sat_bits or 0}>"
        )

    def mask(self, raw: int) -> int:
        """The W-bit pattern of ``raw`` (signed or unsigned input)."""
        return int(raw) & ((1 << self.width) - 1)

    def from_pattern(self, pattern: int) -> int:
        """Read a W-bit pattern as this type's raw value (signed iff the type is)."""
        pattern &= (1 << self.width) - 1
        if self.signed and pattern >> (self.width - 1):
            pattern -= 1 << self.width
        return pattern

    def value(self, raw: int) -> Fraction:
        """Exact real value of a raw stored integer."""
        return Fraction(raw) * Fraction(2) ** (self.int_bits - self.width)


_AP_RE = re.compile(r"^(ap_int|ap_uint|ap_fixed|ap_ufixed)<([^<>]*)>$")


def _canon(spelling: str) -> str:
    s = " ".join(spelling.split())
    s = re.sub(r"\s*([<>,])\s*", r"\1", s)
    return s


def parse_type(spelling: str) -> tuple[str, TypeInfo]:
    """Parse a C++ type spelling; return (canonical spelling, TypeInfo).  Raises ValueError."""
    if not isinstance(spelling, str):
        raise TypeError(f"type spelling must be a str, not {type(spelling).__name__}")
    s = _canon(spelling)
    if s in C_INT_TYPES:
        w, sg = C_INT_TYPES[s]
        return s, TypeInfo(w, w, sg, "int", builtin=True)
    m = _AP_RE.match(s)
    if not m:
        raise ValueError(f"unsupported C++ type spelling: {spelling!r}")
    name, args = m.group(1), [a for a in m.group(2).split(",")]
    try:
        if name in ("ap_int", "ap_uint"):
            if len(args) != 1:
                raise ValueError
            w = int(args[0])
            info = TypeInfo(w, w, name == "ap_int", "int")
        else:
            if not 2 <= len(args) <= 5:
                raise ValueError
            w, i = int(args[0]), int(args[1])
            q = args[2] if len(args) > 2 else "AP_TRN"
            o = args[3] if len(args) > 3 else "AP_WRAP"
            n = int(args[4]) if len(args) > 4 else 0
            if q not in Q_MODES or o not in O_MODES:
                raise ValueError
            info = TypeInfo(w, i, name == "ap_fixed", "fixed", q, o, n)
    except ValueError:
        raise ValueError(f"cannot parse C++ type spelling: {spelling!r}") from None
    if not 1 <= info.width <= MAX_WIDTH:
        raise ValueError(f"{spelling!r}: width must be 1..{MAX_WIDTH}")
    return s, info


# --------------------------------------------------------------------------------------
# Handles
# --------------------------------------------------------------------------------------


class Handle:
    """Result of one queued call; filled in by :meth:`CxxBatch.run`.

    * ``raw``    list[int]: raw stored values of the result (from_double, cast, binop, unop, shift)
    * ``type``   TypeInfo of the C++ result type (the target type for casts/from_double)
    * ``values`` list[bool] (compare), list[str] (to_string), list[float] (to_double), or for
      raw-producing operations the exact values as ``Fraction``.
    """

    def __init__(self, op: str, key: str, cases: list, out_kind: str, label: str):
        self.op = op
        self.key = key  # the group key (one C++ function per distinct key)
        self.cases = cases  # the inputs, as given (after validation)
        self.label = label
        self._out_kind = out_kind  # "raw", "bool", "str", "float"
        self._type: TypeInfo | None = None
        self._raw: list[int] | None = None
        self._values: list | None = None
        #: per case: None, or why the C++ side failed (e.g. "SIGABRT: ...Assertion ... failed.")
        self.errors: list[str | None] = []

    @property
    def ok(self) -> list[bool]:
        """Per case: True unless the C++ side aborted on it."""
        self._need()
        return [e is None for e in self.errors]

    def _need(self):
        if self._raw is None and self._values is None:
            raise RuntimeError(f"{self.label}: CxxBatch.run() has not been called yet")

    @property
    def done(self) -> bool:
        return self._raw is not None or self._values is not None

    @property
    def type(self) -> TypeInfo:
        self._need()
        if self._type is None:
            raise AttributeError(f"{self.label}: this operation has no result type")
        return self._type

    @property
    def raw(self) -> list[int]:
        self._need()
        if self._raw is None:
            raise AttributeError(f"{self.label}: this operation returns values, not raws")
        return self._raw

    @property
    def values(self) -> list:
        self._need()
        if self._values is None:
            t = self._type
            return [None if r is None else t.value(r) for r in self._raw]
        return self._values

    def __len__(self) -> int:
        return len(self.cases)

    def __repr__(self) -> str:
        state = "done" if self.done else "pending"
        return f"<Handle {self.label} n={len(self.cases)} {state}>"


@dataclass
class _Group:
    key: str
    fname: str
    body: str  # C++ function body (the function itself)
    out_kind: str
    cluster: str = ""  # groups with the same cluster share a translation unit (shared instantiations)


# --------------------------------------------------------------------------------------
# C++ runtime shared by every translation unit
# --------------------------------------------------------------------------------------

_RUNTIME = r"""
// ---- cxx_ref runtime ----
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <map>
#include <type_traits>
#include <utility>
#include <csetjmp>
#include <csignal>
#include <unistd.h>

namespace cxr {
typedef unsigned long long u64;

struct In {
  const char* p;
  // Next whitespace-delimited token; returns its start, sets len.
  const char* tok(size_t& len) {
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r') ++p;
    const char* s = p;
    while (*p && *p != ' ' && *p != '\n' && *p != '\t' && *p != '\r') ++p;
    len = (size_t)(p - s);
    if (len == 0) { fprintf(stderr, "cxx_ref: unexpected end of input\n"); exit(3); }
    return s;
  }
  // A hex token into n little-endian 64-bit limbs.
  void hex(u64* limbs, int n) {
    size_t len; const char* s = tok(len);
    for (int i = 0; i < n; ++i) limbs[i] = 0;
    int bit = 0;
    for (size_t k = len; k-- > 0;) {
      char c = s[k]; unsigned d;
      if (c >= '0' && c <= '9') d = c - '0';
      else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
      else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
      else { fprintf(stderr, "cxx_ref: bad hex digit\n"); exit(3); }
      if (bit / 64 < n) limbs[bit / 64] |= (u64)d << (bit % 64);
      bit += 4;
    }
  }
  long dec() { size_t len; const char* s = tok(len); return strtol(s, 0, 10); }
  std::string word() { size_t len; const char* s = tok(len); return std::string(s, len); }
};

struct Out {
  FILE* f;
};

typedef void (*GroupFn)(In&, Out&, long);
std::map<std::string, GroupFn>& registry();
struct Reg { Reg(const char* name, GroupFn fn) { registry()[name] = fn; } };

// Crash isolation: an assertion (SIGABRT) or a division by zero (SIGFPE) inside the headers
// fails only its own case, reported as "X <signal> <stderr offset before> <after>".
// The jump buffer is armed once per run of good cases, not once per case (sigsetjmp saves
// the signal mask: a system call), so millions of cases cost no system calls; "before" is
// the stderr offset when the buffer was armed, so the failing case's message is the last
// line of that stretch.
extern sigjmp_buf g_env;
extern volatile sig_atomic_t g_armed;
extern volatile sig_atomic_t g_sig;
typedef void (*CaseFn)(In&, Out&);
inline void skip(In& in, int tokens) { size_t len; for (int k = 0; k < tokens; ++k) in.tok(len); }
inline void drive(In& in, Out& out, long n, int tpc, CaseFn fn) {
  volatile long i = 0;           // volatile: read after siglongjmp
  const char* volatile start = in.p;
  while (i < n) {
    off_t before = lseek(2, 0, SEEK_CUR);
    if (sigsetjmp(g_env, 1) == 0) {
      g_armed = 1;
      for (; i < n; i = i + 1) {
        start = in.p;
        fn(in, out);
      }
      g_armed = 0;
    } else {
      g_armed = 0;
      in.p = start;
      skip(in, tpc);
      fprintf(out.f, "X %d %lld %lld\n", (int)g_sig, (long long)before,
              (long long)lseek(2, 0, SEEK_CUR));
      i = i + 1;
    }
  }
}
}  // namespace cxr
"""

# The part of the runtime that needs the ap headers (not included by main).
_RUNTIME_AP = r"""
namespace cxr {

// Bits <-> ap values: the 64-bit limbs of the underlying ap_private (the public
// set_pVal/get_pVal/clearUnusedBits API), so no helper ap type is instantiated.  The limbs
// of a signed value are sign-extended above the MSB; Python masks to the width.
template <int W, bool S>
inline void load(ap_private<W, S>& v, In& in) {
  enum { N = (W + 63) / 64 };
  u64 l[N];
  in.hex(l, N);
  for (int i = 0; i < N; ++i) v.set_pVal(i, l[i]);
  v.clearUnusedBits();
}
template <int W, bool S>
inline void store(Out& out, const ap_private<W, S>& v) {
  enum { N = (W + 63) / 64 };
  bool lead = true;
  for (int i = N - 1; i >= 0; --i) {
    u64 x = (u64)v.get_pVal(i);
    if (W % 64 && i == N - 1) x &= ~0ULL >> (64 - W % 64);
    if (lead) { if (x == 0 && i > 0) continue; fprintf(out.f, "%llx", x); lead = false; }
    else fprintf(out.f, "%016llx", x);
  }
  fputc('\n', out.f);
}

template <int W, bool S>
inline void set_raw(ap_int_base<W, S>& x, In& in) { load(x.V, in); }
template <int W, int I, bool S, ap_q_mode Q, ap_o_mode O, int N>
inline void set_raw(ap_fixed_base<W, I, S, Q, O, N>& x, In& in) { load(x.V, in); }
template <class T>
inline typename std::enable_if<std::is_integral<T>::value>::type set_raw(T& x, In& in) {
  u64 l; in.hex(&l, 1); x = (T)l;
}

template <int W, bool S>
inline void put_raw(Out& out, const ap_int_base<W, S>& x) { store(out, x.V); }
template <int W, int I, bool S, ap_q_mode Q, ap_o_mode O, int N>
inline void put_raw(Out& out, const ap_fixed_base<W, I, S, Q, O, N>& x) { store(out, x.V); }
template <class T>
inline typename std::enable_if<std::is_integral<T>::value>::type put_raw(Out& out, const T& x) {
  fprintf(out.f, "%llx\n", (u64)x);
}

// Result-type introspection: overloads on the bases, so derived ap_int/ap_fixed match.
// Line: T <kind> <width> <iwidth> <signed> <q> <o> <n> <builtin>
template <int W, bool S>
inline void info_of(Out& out, const ap_int_base<W, S>*) {
  fprintf(out.f, "T int %d %d %d -1 -1 -1 0\n", W, W, (int)S);
}
template <int W, int I, bool S, ap_q_mode Q, ap_o_mode O, int N>
inline void info_of(Out& out, const ap_fixed_base<W, I, S, Q, O, N>*) {
  typedef ap_fixed_base<W, I, S, Q, O, N> F;
  fprintf(out.f, "T fixed %d %d %d %d %d %d 0\n", (int)F::width, (int)F::iwidth, (int)S,
          (int)Q, (int)O, N);
}
template <class T>
inline typename std::enable_if<std::is_integral<T>::value>::type info_of(Out& out, const T*) {
  int w = std::is_same<T, bool>::value ? 1 : (int)(sizeof(T) * 8);
  fprintf(out.f, "T int %d %d %d -1 -1 -1 1\n", w, w, (int)std::is_signed<T>::value);
}
template <class T>
inline void put_info(Out& out) { info_of(out, (const T*)0); }

inline void put_double(Out& out, double d) {
  u64 b; memcpy(&b, &d, sizeof b); fprintf(out.f, "%llx\n", b);
}
inline double get_double(In& in) {
  u64 b; in.hex(&b, 1); double d; memcpy(&d, &b, sizeof d); return d;
}
}  // namespace cxr

#define CXR_DECAY(E) typename std::remove_cv<typename std::remove_reference<decltype(E)>::type>::type
"""

# The headers call exit(1) for a few invalid types (ap_ufixed with AP_WRAP_SM, ap_fixed wider
# than AP_INT_MAX_W); route that through cxr::fail_exit so that it fails only its own case.
# The standard headers are included first so that the macro only applies to the ap headers.
_HEADERS = r"""
#include <cassert>
#include <cfenv>
#include <cmath>
#include <iostream>
#include <sstream>
#include <stdint.h>
#include <math.h>
#include <string.h>
namespace cxr { [[noreturn]] void fail_exit(int code); }
#define exit(code) ::cxr::fail_exit(code)
#include <ap_int.h>
#include <ap_fixed.h>
#undef exit
"""

_MAIN = r"""
namespace cxr {
std::map<std::string, GroupFn>& registry() {
  static std::map<std::string, GroupFn> r;
  return r;
}
sigjmp_buf g_env;
volatile sig_atomic_t g_armed = 0;
volatile sig_atomic_t g_sig = 0;
[[noreturn]] void fail_exit(int code) {
  if (g_armed) { g_armed = 0; g_sig = 256 + (code & 255); siglongjmp(g_env, 1); }
  fflush(0);
  ::exit(code);
}
static void on_signal(int sig) {
  if (g_armed) { g_armed = 0; g_sig = sig; siglongjmp(g_env, 1); }
  signal(sig, SIG_DFL);
  raise(sig);
}
}  // namespace cxr

// usage: prog INPUT OUTPUT.  INPUT: records "G <name> <count>" followed by the values.
int main(int argc, char** argv) {
  if (argc != 3) { fprintf(stderr, "usage: %s INPUT OUTPUT\n", argv[0]); return 2; }
  FILE* fi = fopen(argv[1], "rb");
  if (!fi) { perror(argv[1]); return 2; }
  std::string data;
  char buf[1 << 16];
  size_t k;
  while ((k = fread(buf, 1, sizeof buf, fi)) > 0) data.append(buf, k);
  fclose(fi);
  FILE* fo = fopen(argv[2], "wb");
  if (!fo) { perror(argv[2]); return 2; }
  signal(SIGABRT, cxr::on_signal);
  signal(SIGFPE, cxr::on_signal);
  signal(SIGSEGV, cxr::on_signal);
  signal(SIGBUS, cxr::on_signal);
  cxr::In in; in.p = data.c_str();
  cxr::Out out; out.f = fo;
  for (;;) {
    while (*in.p == ' ' || *in.p == '\n' || *in.p == '\t' || *in.p == '\r') ++in.p;
    if (!*in.p) break;
    std::string tag = in.word();
    if (tag != "G") { fprintf(stderr, "cxx_ref: bad record %s\n", tag.c_str()); return 3; }
    std::string name = in.word();
    long n = in.dec();
    std::map<std::string, cxr::GroupFn>::iterator it = cxr::registry().find(name);
    if (it == cxr::registry().end()) { fprintf(stderr, "cxx_ref: unknown group %s\n", name.c_str()); return 3; }
    fprintf(fo, "G %s\n", name.c_str());
    fflush(fo);  // so that a crash can be traced to its group
    it->second(in, out, n);
  }
  fprintf(fo, "END\n");
  fclose(fo);
  return 0;
}
"""


# --------------------------------------------------------------------------------------
# Batch
# --------------------------------------------------------------------------------------


def _hex(pattern: int) -> str:
    return format(pattern, "x")


def _encode_raws(raws, width: int) -> tuple[list[int], list[str]]:
    """Raws (signed or unsigned) -> (ints, hex lines of their ``width``-bit patterns)."""
    cases = [int(r) for r in raws]
    m = (1 << width) - 1
    return cases, [format(r & m, "x") for r in cases]


def _encode_doubles(values, _how) -> tuple[list[float], list[str]]:
    """Doubles -> (floats, hex lines of their IEEE-754 bit patterns)."""
    vals = [float(v) for v in values]
    bits = struct.unpack(f"<{len(vals)}Q", struct.pack(f"<{len(vals)}d", *vals))
    return vals, [format(b, "x") for b in bits]


def _pairs(cases, n: int, what: str) -> list[tuple]:
    out = []
    for c in cases:
        t = tuple(c)
        if len(t) != n:
            raise ValueError(f"{what}: expected {n}-tuples, got {c!r}")
        out.append(t)
    return out


class CxxBatch:
    """Queue ap_* operations, then :meth:`run` them all through one generated C++ program."""

    def __init__(self, build_dir: os.PathLike | str | None = None, jobs: int | None = None,
                 defines: Sequence[str] = ()):
        """``defines``: extra preprocessor definitions for the generated code, e.g.
        ``("NDEBUG",)`` to compile the headers without their assertions and warnings (Vitis HLS
        C simulation normally runs *with* them, which is the default here)."""
        self.build_dir = Path(build_dir) if build_dir is not None else BUILD_DIR
        self.defines = tuple(defines)
        self.jobs = jobs or int(os.environ.get("HLS_SIM_CXX_JOBS", 0)) or (os.cpu_count() or 2)
        self._groups: dict[str, _Group] = {}
        self._handles: list[Handle] = []
        self.stderr = ""  # what the program wrote to stderr (header warnings) on the last run
        self.stdout = ""  # and to stdout (normally nothing)
        self.stats: dict = {}  # timings and counts of the last run
        self._encoded: dict = {}  # see _encode

    # ---- queueing -------------------------------------------------------------------

    def _encode(self, how, values, fn) -> tuple[list, list[str]]:
        """``fn(values, how)`` -> (cases, data lines), shared when the very same list or tuple
        of values is queued again (one source's codes cast to many targets)."""
        if not isinstance(values, (list, tuple)):
            return fn(values, how)
        key = (how, id(values))
        hit = self._encoded.get(key)
        if hit is None or hit[0] is not values:
            hit = (values, *fn(values, how))
            self._encoded[key] = hit
        return hit[1], hit[2]

    def _queue(self, op: str, key: str, typedefs: Sequence[tuple[str, str]], result: str | None,
               case: str, tpc: int, cases: list, lines: list[str], out_kind: str, label: str) -> Handle:
        """Queue one call.  ``case`` is the C++ body run per case (reads ``tpc`` tokens from
        ``in``, writes one line to ``out``); ``result`` the C++ type whose info is reported."""
        g = self._groups.get(key)
        if g is None:
            fname = "g_" + hashlib.sha1(key.encode()).hexdigest()[:20]
            tds = "".join(f"  typedef {t} {n};\n" for n, t in typedefs)
            if result:
                tds += f"  typedef {result} R;\n"
            body = (
                f"struct {fname}_case {{\n{tds}"
                f"  static void run(cxr::In& in, cxr::Out& out) {{\n{case}  }}\n}};\n"
                f"static void {fname}(cxr::In& in, cxr::Out& out, long n) {{\n"
                + (f"  cxr::put_info<{fname}_case::R>(out);\n" if result else "")
                + f"  cxr::drive(in, out, n, {tpc}, &{fname}_case::run);\n}}\n"
            )
            g = _Group(key, fname, body, out_kind, typedefs[0][1])
            self._groups[key] = g
        h = Handle(op, key, cases, out_kind, label)
        h._fname = g.fname  # the C++ function (group) that computes it
        h._lines = lines  # its cases, encoded for the data file
        self._handles.append(h)
        return h

    def from_double(self, t: str, values: Iterable[float]) -> Handle:
        """``T x = (double)v;`` for each v (NaN and inf allowed: the headers warn on stderr)."""
        ts, ti = parse_type(t)
        if ti.builtin:
            raise ValueError("from_double: needs an ap type (double -> C integer is plain C, UB out of range)")
        vals, lines = self._encode("double", values, _encode_doubles)
        case = "    double d = cxr::get_double(in);\n    T t = d;\n    cxr::put_raw(out, t);\n"
        return self._queue("from_double", f"from_double|{ts}", [("T", ts)], "T", case, 1, vals,
                           lines, "raw", f"from_double({ts})")

    def cast(self, t: str, s: str, raws: Iterable[int]) -> Handle:
        """``S s; s.V = raw; T t = s;`` -> raws of T."""
        ts, ti = parse_type(t)
        ss, si = parse_type(s)
        cases, lines = self._encode(si.width, raws, _encode_raws)
        case = "    S s; cxr::set_raw(s, in);\n    T t = s;\n    cxr::put_raw(out, t);\n"
        return self._queue("cast", f"cast|{ts}|{ss}", [("T", ts), ("S", ss)], "T", case, 1, cases,
                           lines, "raw", f"cast({ts} <- {ss})")

    def _binary(self, kind: str, op: str, a: str, b: str, pairs, out_kind: str) -> Handle:
        as_, ai = parse_type(a)
        bs, bi = parse_type(b)
        if ai.builtin and bi.builtin:
            raise ValueError(f"{kind}: at least one operand must be an ap type ({a!r}, {b!r})")
        cases = [(int(x), int(y)) for x, y in _pairs(pairs, 2, kind)]
        lines = [f"{_hex(ai.mask(x))} {_hex(bi.mask(y))}" for x, y in cases]
        head = "    A a; B b; cxr::set_raw(a, in); cxr::set_raw(b, in);\n"
        if out_kind == "raw":
            case = head + f"    R r = a {op} b;\n    cxr::put_raw(out, r);\n"
            result = f"CXR_DECAY(std::declval<A&>() {op} std::declval<B&>())"
        else:
            case = head + f"    bool r = (a {op} b);\n    fputs(r ? \"1\\n\" : \"0\\n\", out.f);\n"
            result = None
        return self._queue(kind, f"{kind}|{op}|{as_}|{bs}", [("A", as_), ("B", bs)], result, case, 2,
                           cases, lines, out_kind, f"{kind}({as_} {op} {bs})")

    def binop(self, op: str, a: str, b: str, pairs: Iterable[tuple[int, int]]) -> Handle:
        """``A a; B b; (set raws); auto r = a OP b;`` for OP in + - * / (also % & | ^).
        Division by zero is reported per case (SIGFPE), see :attr:`Handle.errors`."""
        if op not in BINOPS:
            raise ValueError(f"binop: unsupported operator {op!r} (one of {BINOPS})")
        return self._binary("binop", op, a, b, pairs, "raw")

    def shift(self, op: str, a: str, pairs: Iterable[tuple[int, int]], amount_type: str = "int") -> Handle:
        """``a OP k`` for OP in << >>; ``k`` has C++ type ``amount_type`` (default ``int``;
        may be negative).  ``amount_type`` may also be e.g. ``"unsigned"`` or ``"ap_int<5>"``
        (then k is a raw of that type)."""
        if op not in SHIFTS:
            raise ValueError(f"shift: unsupported operator {op!r} (one of {SHIFTS})")
        return self._binary("shift", op, a, amount_type, pairs, "raw")

    def compare(self, op: str, a: str, b: str, pairs: Iterable[tuple[int, int]]) -> Handle:
        """``a OP b`` for OP in < <= > >= == != -> list[bool]."""
        if op not in COMPARES:
            raise ValueError(f"compare: unsupported operator {op!r} (one of {COMPARES})")
        return self._binary("compare", op, a, b, pairs, "bool")

    def unop(self, op: str, a: str, raws: Iterable[int]) -> Handle:
        """``auto r = OP a;`` for OP in - (also + ~)."""
        if op not in UNOPS:
            raise ValueError(f"unop: unsupported operator {op!r} (one of {UNOPS})")
        as_, ai = parse_type(a)
        cases = [int(r) for r in raws]
        lines = [_hex(ai.mask(r)) for r in cases]
        case = f"    A a; cxr::set_raw(a, in);\n    R r = {op}a;\n    cxr::put_raw(out, r);\n"
        return self._queue("unop", f"unop|{op}|{as_}", [("A", as_)],
                           f"CXR_DECAY({op}std::declval<A&>())", case, 1, cases, lines, "raw",
                           f"unop({op}{as_})")

    def to_string(self, a: str, raws: Iterable[int], radix: int = 2, sign: bool | None = None) -> Handle:
        """``x.to_string(radix)`` (or ``x.to_string(radix, sign)`` when sign is given) -> list[str]."""
        if radix not in RADIXES:
            raise ValueError(f"to_string: radix must be one of {RADIXES} (others abort in the headers)")
        as_, ai = parse_type(a)
        if ai.builtin:
            raise ValueError("to_string: needs an ap type")
        cases = [int(r) for r in raws]
        lines = [f"{radix} {_hex(ai.mask(r))}" for r in cases]
        call = "a.to_string(rd)" if sign is None else f"a.to_string(rd, {'true' if sign else 'false'})"
        case = (
            "    int rd = (int)in.dec();\n    A a; cxr::set_raw(a, in);\n"
            f"    std::string s = {call};\n    fprintf(out.f, \"S%s\\n\", s.c_str());\n"
        )
        sk = "" if sign is None else f"|sign={int(bool(sign))}"
        return self._queue("to_string", f"to_string|{as_}{sk}", [("A", as_)], None, case, 2, cases,
                           lines, "str", f"to_string({as_}, radix={radix}{sk})")

    def to_double(self, a: str, raws: Iterable[int]) -> Handle:
        """``x.to_double()`` -> list[float] (bit-exact)."""
        as_, ai = parse_type(a)
        if ai.builtin:
            raise ValueError("to_double: needs an ap type")
        cases = [int(r) for r in raws]
        lines = [_hex(ai.mask(r)) for r in cases]
        case = "    A a; cxr::set_raw(a, in);\n    cxr::put_double(out, a.to_double());\n"
        return self._queue("to_double", f"to_double|{as_}", [("A", as_)], None, case, 1, cases,
                           lines, "float", f"to_double({as_})")

    # ---- introspection --------------------------------------------------------------

    @property
    def n_groups(self) -> int:
        return len(self._groups)

    def __len__(self) -> int:
        return len(self._handles)

    # ---- source generation ----------------------------------------------------------

    def _shards(self) -> list[list[_Group]]:
        n = len(self._groups)
        n_shards = max(1, min(N_SHARDS_MAX, math.ceil(n / GROUPS_PER_SHARD)))
        # Round up to a power of two so that a group's unit only changes when the batch
        # size crosses a power-of-two boundary.
        n_shards = 1 << (n_shards - 1).bit_length()
        # A cluster bigger than a unit is split (by group hash) into a power-of-two number of
        # parts, so that one heavily used type cannot serialise the whole compile.
        sizes: dict[str, int] = {}
        for g in self._groups.values():
            sizes[g.cluster] = sizes.get(g.cluster, 0) + 1
        shards: list[list[_Group]] = [[] for _ in range(n_shards)]
        for key in sorted(self._groups):
            g = self._groups[key]
            parts = 1 << (math.ceil(sizes[g.cluster] / GROUPS_PER_SHARD) - 1).bit_length()
            part = int(g.fname[2:10], 16) % parts
            h = hashlib.sha1(f"{g.cluster}#{part}".encode()).hexdigest()
            shards[int(h[:8], 16) % n_shards].append(g)
        return [s for s in shards if s]

    @staticmethod
    def _unit_source(groups: Sequence[_Group]) -> str:
        parts = [_RUNTIME, _HEADERS, _RUNTIME_AP, "\nnamespace {\n"]
        for g in groups:
            parts.append(f"// group: {g.key}\n")
            parts.append(g.body)
        parts.append("}  // namespace\n\n")
        for g in groups:
            parts.append(f"static cxr::Reg reg_{g.fname}(\"{g.fname}\", &{g.fname});\n")
        return "".join(parts)

    def sources(self) -> dict[str, str]:
        """The generated translation units (name -> text); for debugging."""
        out = {"cxx_ref_main": _RUNTIME + _MAIN}
        for i, sh in enumerate(self._shards()):
            out[f"cxx_ref_unit{i}"] = self._unit_source(sh)
        return out

    # ---- build ----------------------------------------------------------------------

    def build(self) -> Path:
        """Compile (cached) and link the program for the queued groups; return the executable."""
        import time

        find_cxx()  # raise ToolchainError early and clearly
        find_ap_types()
        t0 = time.perf_counter()
        build = self.build_dir
        build.mkdir(parents=True, exist_ok=True)
        units = [("cxx_ref_main", _RUNTIME + _MAIN, None)]
        # Largest units first, so that the parallel compiles finish close together.
        shards = sorted(self._shards(), key=len, reverse=True)
        units = [("cxx_ref_unit", self._unit_source(sh), sh) for sh in shards] + units
        flags = self._flags() + ("-c",)

        def compile_unit(u):
            name, text, groups = u
            try:
                return cached_build(text, build, name, flags=flags)
            except ToolchainError as e:
                raise ToolchainError(self._explain_compile_error(e, text, groups)) from None

        # How many units need compiling (for stats only).
        fresh = sum(1 for _, text, _g in units if not _cached_object(text, build, _g is None, flags).exists())
        with ThreadPoolExecutor(max_workers=max(1, self.jobs)) as pool:
            objects = list(pool.map(compile_unit, units))
        t1 = time.perf_counter()
        key = hashlib.sha256("\0".join(sorted(o.name for o in objects)).encode()).hexdigest()[:16]
        exe = build / f"cxx_ref-{key}"
        linked = False
        if not exe.exists():
            tmp = build / f".cxx_ref-{key}.{os.getpid()}.{threading.get_ident()}.tmp"
            try:
                compile_cpp(objects, tmp, flags=("-std=c++14",))
                os.replace(tmp, exe)
            finally:
                tmp.unlink(missing_ok=True)
            linked = True
        t2 = time.perf_counter()
        self.stats.update(
            groups=len(self._groups), units=len(units) - 1, units_compiled=fresh,
            compile_s=t1 - t0, link_s=t2 - t1, linked=linked, exe=str(exe),
        )
        return exe

    def _flags(self) -> tuple[str, ...]:
        return CXX_FLAGS + tuple(f"-D{d}" for d in self.defines)

    def _explain_compile_error(self, err: ToolchainError, text: str, groups) -> str:
        """Re-run g++ on a failing unit to name the group that broke it."""
        if not groups:
            return f"cxx_ref runtime failed to compile: {err}"
        with tempfile.TemporaryDirectory() as td:
            src = Path(td) / "unit.cpp"
            src.write_text(text)
            proc = subprocess.run(
                [find_cxx(), *self._flags(), "-fsyntax-only", f"-I{find_ap_types()}", str(src)],
                capture_output=True, text=True,
            )
        lines = text.splitlines()
        culprit = None
        first_error = None
        for ln in proc.stderr.splitlines():
            if first_error is None and "error" in ln:
                first_error = ln.replace(str(src), "unit.cpp")
            m = re.match(re.escape(str(src)) + r":(\d+):", ln)
            if m and culprit is None and ("error" in ln or "required from" in ln):
                lineno = int(m.group(1))
                for j in range(min(lineno, len(lines)) - 1, -1, -1):
                    if lines[j].startswith("// group: "):
                        culprit = lines[j][len("// group: "):]
                        break
        msg = f"generated C++ failed to compile: {first_error or err}"
        if culprit:
            msg += f"\n  in group: {culprit}"
        return msg

    # ---- run ------------------------------------------------------------------------

    def run(self, timeout: float | None = 600) -> "CxxBatch":
        """Generate, compile (cached), run; fill in every pending handle.

        Raises ToolchainError when g++ or the headers are missing, the generated code does not
        compile (naming the group), or the program dies outside a case.  A case that aborts
        inside the headers (an assertion: SIGABRT; a division by zero: SIGFPE) does not fail
        the batch: its result is None and :attr:`Handle.errors` says why.

        Large batches are split into up to ``jobs`` slices of about equal case counts, each
        run by its own process at the same time (the program is single-threaded).
        """
        import time

        pending = [h for h in self._handles if not h.done]
        if not pending:
            return self
        exe = self.build()
        t0 = time.perf_counter()
        slices = _split(pending, self.jobs)
        with tempfile.TemporaryDirectory(prefix="cxx_ref-") as td:
            with ThreadPoolExecutor(max_workers=len(slices)) as pool:
                results = list(pool.map(lambda a: self._run_slice(exe, Path(td), *a, timeout),
                                        enumerate(slices)))
        self.stderr = "".join(r[1].decode(errors="replace") for r in results)
        self.stdout = "".join(r[2] for r in results)
        for part, (text, err_bytes, _out) in zip(slices, results):
            self._parse(part, text, err_bytes)
        self.stats["run_s"] = time.perf_counter() - t0
        self.stats["processes"] = len(slices)
        return self

    def _run_slice(self, exe: Path, td: Path, k: int, part: list[Handle],
                   timeout: float | None) -> tuple[str, bytes, str]:
        """Run the program on the cases of ``part``; return (output, stderr bytes, stdout)."""
        inp, outp = td / f"in{k}.txt", td / f"out{k}.txt"
        errp, stdp = td / f"err{k}.txt", td / f"stdout{k}.txt"
        chunks = []
        for h in part:
            chunks.append(f"G {h._fname} {len(h._lines)}\n")
            if h._lines:
                chunks.append("\n".join(h._lines))
                chunks.append("\n")
        inp.write_text("".join(chunks))
        # stderr goes to a regular file: the program records its offset around failing cases
        # to attach the header's message to them.
        with open(errp, "wb") as ferr, open(stdp, "wb") as fstd:
            try:
                proc = subprocess.run([str(exe), str(inp), str(outp)], stdout=fstd,
                                      stderr=ferr, timeout=timeout)
            except subprocess.TimeoutExpired:
                raise ToolchainError(f"cxx_ref program timed out after {timeout}s") from None
        err_bytes = errp.read_bytes()
        text = outp.read_text() if outp.exists() else ""
        if proc.returncode != 0:
            names = re.findall(r"^G (\S+)$", text, re.M)
            where = ""
            if names:
                key = next((g.key for g in self._groups.values() if g.fname == names[-1]), names[-1])
                where = f" while running group {key}"
            rc = proc.returncode
            why = f"signal {_signame(-rc)}" if rc < 0 else f"exit status {rc}"
            tail = err_bytes.decode(errors="replace").strip().splitlines()[-5:]
            raise ToolchainError(
                f"cxx_ref program failed ({why}){where}" + ("\n  " + "\n  ".join(tail) if tail else "")
            )
        return text, err_bytes, stdp.read_text(errors="replace")

    @staticmethod
    def _parse(pending: list[Handle], text: str, err: bytes) -> None:
        lines = text.split("\n")
        failures = "\nX " in text  # any failing case at all (else skip the per-line check)
        pos = 0
        for h in pending:
            if lines[pos] != f"G {h._fname}":
                raise ToolchainError(f"cxx_ref: output out of step at {h.label}: {lines[pos]!r}")
            pos += 1
            n = len(h._lines)
            if h._out_kind == "raw":
                f = lines[pos].split()
                pos += 1
                if f[0] != "T":
                    raise ToolchainError(f"cxx_ref: missing type line for {h.label}")
                kind, w, i, sg = f[1], int(f[2]), int(f[3]), f[4] == "1"
                q, o, nb, builtin = int(f[5]), int(f[6]), int(f[7]), f[8] == "1"
                if kind == "fixed":
                    h._type = TypeInfo(w, i, sg, "fixed", Q_MODES[q], O_MODES[o], nb)
                else:
                    h._type = TypeInfo(w, w, sg, "int", builtin=builtin)
            t = h._type
            chunk = lines[pos:pos + n]
            if (h._out_kind == "raw" and not t.builtin and len(chunk) == n
                    and not (failures and any(x[:1] == "X" for x in chunk))):
                # the common case, fast: every case ran, one hex pattern per line (ap types
                # print exactly their width; C integers print 64 bits and take the slow path)
                out = [int(x, 16) for x in chunk]
                if t.signed:
                    top, full = 1 << (t.width - 1), 1 << t.width
                    out = [v - full if v >= top else v for v in out]
                h._raw = out
                h.errors = [None] * n
                pos += n
                continue
            out: list = []
            errors: list = []
            for x in chunk:
                if x.startswith("X "):
                    _, sig, b0, b1 = x.split()
                    sig = int(sig)
                    msg = f"exit({sig - 256})" if sig >= 256 else _signame(sig)
                    b0, b1 = int(b0), int(b1)
                    if 0 <= b0 <= b1:
                        detail = [ln for ln in err[b0:b1].decode(errors="replace").splitlines() if ln.strip()]
                        if detail:
                            msg += ": " + _clean_message(detail[-1])
                    out.append(None)
                    errors.append(msg)
                    continue
                errors.append(None)
                if h._out_kind == "raw":
                    out.append(t.from_pattern(int(x, 16)))
                elif h._out_kind == "bool":
                    out.append(x == "1")
                elif h._out_kind == "str":
                    out.append(x[1:])
                else:
                    out.append(struct.unpack("<d", struct.pack("<Q", int(x, 16)))[0])
            if len(out) != n:
                raise ToolchainError(f"cxx_ref: short output for {h.label}")
            if h._out_kind == "raw":
                h._raw = out
            else:
                h._values = out
            h.errors = errors
            pos += n
        if lines[pos] != "END":
            raise ToolchainError(f"cxx_ref: unexpected trailing output {lines[pos]!r}")


def _split(handles: list[Handle], jobs: int) -> list[list[Handle]]:
    """Contiguous slices of about equal case counts (one when the batch is small)."""
    total = sum(len(h._lines) for h in handles)
    n = max(1, min(jobs, total // 20000))
    if n == 1:
        return [handles]
    out: list[list[Handle]] = [[]]
    acc = 0
    for h in handles:
        if acc >= total * len(out) / n and len(out) < n:
            out.append([])
        out[-1].append(h)
        acc += len(h._lines)
    return [p for p in out if p]


def _clean_message(line: str) -> str:
    """Drop the program name and directories from an assertion message."""
    line = line.strip()
    line = re.sub(r"^cxx_ref-[0-9a-f]+: ", "", line)
    line = re.sub(r"(?:/[^/\s:]+)+/([^/\s:]+\.h)", r"\1", line)
    return line


def _signame(sig: int) -> str:
    try:
        return signal.Signals(sig).name
    except ValueError:
        return f"signal {sig}"


def _cached_object(text: str, build: Path, is_main: bool, flags) -> Path:
    """The path cached_build gives ``text`` (mirrors its key), to count cache misses."""
    name = "cxx_ref_main" if is_main else "cxx_ref_unit"
    key = hashlib.sha256((text + "\0" + " ".join(flags) + "\0" + str(find_ap_types())).encode()).hexdigest()[:16]
    return build / f"{name}-{key}"
