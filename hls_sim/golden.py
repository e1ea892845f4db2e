"""Golden vectors: everything a testbench needs to check a C++ kernel bit for bit.

The library behind ``hls-sim golden``::

    from hls_sim.layer import load_layer
    from hls_sim.golden import write_golden
    gs = write_golden(load_layer("weights/conv1x1.yaml"), "golden/", count=4)
    gs.path, gs.manifest["tensors"]["expected_0"]

A golden set is one folder (docs/golden.md is the reference):

- every tensor the kernel reads or writes, as the raw stored integers of its type (never
  rounded floats), twice: ``NAME.dat`` (text, one value per line, decimal or hex) and
  ``NAME.bin`` (little-endian two's complement, 8 bytes per element up to 64 bits);
  ``weight``, ``bias``, ``factor`` once, and per vector ``k``: ``input_k`` (the ``bottom``
  buffer), ``top_k`` (``top`` before the call) and ``expected_k`` (``top`` after it);
- ``hls_sim_layer.h`` (the layer's traits struct ``hls_sim_layer``: its types and sizes),
  ``hls_sim_golden.h`` (the kind's header, the tensor table and the design top's declaration)
  and ``hls_sim_kernel.cpp`` (the design top ``hls_sim_top``: the kind's template of
  ``kernels/`` called with ``hls_sim_layer``): what ``testbench/golden_tb.cpp`` is built with;
- ``hls_sim_golden.txt``: a plain-text index the C++ testbench reads (it parses no JSON);
- ``manifest.json``: every tensor with its files, C type, shape, layout, format and sha256,
  and the layer configuration that produced the set.

The output is deterministic (sorted keys, no timestamps, no absolute paths): the same layer
gives byte-identical files on any machine. Vector 0 is the layer's own input; vectors 1.. draw
their inputs from the layer's input values with seeds derived from the layer's content.

Safety: nothing from the layer file becomes C++ text. Types are re-emitted from the parsed
:class:`~hls_sim.types.Format` (and re-parsed as a check), every identifier written into C++
is checked against ``[A-Za-z_][A-Za-z0-9_]*``, numbers are formatted here, and file names are
fixed by this module.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import dataclasses
import hashlib
import json
import math
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np

import hls_sim
from hls_sim.kernels import KINDS, Geometry, KernelConfig, Kind
from hls_sim.kernels import conv2d as _conv2d
from hls_sim.kernels.hls_config import ENGINE_TYPES
from hls_sim.layer import Layer, NotRegularError, open_regular
from hls_sim.types import Format, parse

FORMAT_NAME = "hls-sim-golden"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
INDEX = "hls_sim_golden.txt"
CONFIG_HEADER = "hls_sim_layer.h"
TOP_FUNCTION = "hls_sim_top"  # the design top of every golden set (Vitis set_top)
SELECT_HEADER = "hls_sim_golden.h"
KERNEL_SOURCE = "hls_sim_kernel.cpp"
MAX_COUNT = 1000
ENCODINGS = ("decimal", "hex")

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_FILE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.]*")
_CPP_TYPE = re.compile(r"ap_u?(int|fixed)<[0-9A-Z_,\-]+>")


class GoldenError(ValueError):
    """A problem with the output folder or the request (one line, naming the path)."""


@dataclasses.dataclass
class GoldenSet:
    """A golden set on disk: its folder, its manifest and the files it holds (sorted)."""

    path: Path
    manifest: dict
    files: list[str]

    @property
    def kernel(self) -> str:
        return self.manifest["kernel"]["name"]

    @property
    def count(self) -> int:
        return self.manifest["vectors"]["count"]


# ---- checks on what becomes C++ -----------------------------------------------------------------
def _ident(name: str) -> str:
    if not isinstance(name, str) or not _IDENT.fullmatch(name):
        raise GoldenError(f"{name!r} is not a C++ identifier; refusing to write it into C++")
    return name


def cpp_type(fmt: Format) -> str:
    """The C++ spelling of ``fmt``, re-emitted from the parsed format and checked: it must use
    only the characters of an ap_* spelling and parse back to the very same format."""
    if not isinstance(fmt, Format):
        raise GoldenError(f"expected a parsed Format, got {type(fmt).__name__}")
    text = fmt.cpp()
    if not _CPP_TYPE.fullmatch(text) or parse(text) != fmt:
        raise GoldenError(f"{text!r}: not a safe re-spelling of {fmt}")
    return text


_TRAITS_LINE = re.compile(r"(//[^\n]*|#pragma once|#include \"hls_layer\.h\"|struct [A-Za-z_][A-Za-z0-9_]* \{|\};|"
                          r"    typedef ap_u?(int|fixed)<[0-9A-Z_,\-]+> [a-z_][a-z0-9_]*;|"
                          r"    static const int [A-Z_][A-Z0-9_]* = -?[0-9]+;( +// [A-Za-z_ ]+)?)")


def _traits_values(kind: Kind, geom: Geometry, config: KernelConfig) -> tuple[list, list]:
    """The traits struct's typedefs and integer members for a layer of ``kind`` (the kind's
    registry entry says which types and members)."""
    c = config
    types = [(n, getattr(c, n)) for n in kind.types] + list(kind.extra_types(c.plan(), geom))
    types += [(n, getattr(c, n)) for n in ENGINE_TYPES if getattr(c, n) is not None]
    ints: list[tuple[str, int, str]] = [("RELU_CLIP", int(c.relu_clip), "")]
    if kind.epilogue:
        n_factor = geom.out_channels if c.per_channel_factor else 1
        act = geom.get("activation", "relu")
        ints += [("N_FACTOR", n_factor, ""),
                 ("ACTIVATION", _conv2d.ACTIVATIONS.index(act), f"HLS_SIM_ACT_{act.upper()}")]
        if act == "clip":
            ints.append(("CLIP_RAW", _conv2d.clip_raw(c.out_t, geom), "the raw out_t of clip_at"))
    return types, ints + list(kind.traits(geom, c))


def layer_header(kind: Kind, geom: Geometry, config: KernelConfig) -> str:
    """The traits struct ``hls_sim_layer`` of one layer (kernels take their types and sizes
    from it). Every spelling is re-emitted from a parsed Format and every number formatted
    here; each line is checked to be of a generated form."""
    lines = [f"// Generated by hls-sim golden: the types and sizes of this {kind.name} layer.",
             "#pragma once", '#include "hls_layer.h"']
    lines += traits_struct("hls_sim_layer", kind, geom, config)
    return "\n".join(lines) + "\n"


def traits_struct(name: str, kind: Kind, geom: Geometry, config: KernelConfig) -> list[str]:
    """The lines of the traits struct ``name`` of a call of ``kind`` with ``geom`` (its types
    and integer members, from the registry entry): ``struct NAME { ... };``. Every spelling is
    re-emitted from a parsed Format, every number formatted here, and each line is checked to
    be of a generated form."""
    types, ints = _traits_values(kind, geom, config)
    lines = [f"struct {_ident(name)} {{"]
    lines += [f"    typedef {cpp_type(f)} {_ident(n)};" for n, f in types]
    lines += [f"    static const int {_ident(n)} = {int(v)};" + (f"  // {c}" if c else "")
              for n, v, c in ints]
    lines.append("};")
    for line in lines:
        if not _TRAITS_LINE.fullmatch(line):
            raise GoldenError(f"layer header line {line!r} is not of a generated form")
    return lines


def config_id(kernel: str, header: str) -> str:
    """A short id of (kernel, layer header): the testbench refuses a set built for another
    configuration than the one it was compiled with."""
    return hashlib.sha256(f"{kernel}\n{header}".encode()).hexdigest()[:16]


def _dims_cpp(shape: tuple[int, ...]) -> str:
    return "".join(f"[{int(n)}]" for n in shape)


def _arguments(kind: Kind, geom: Geometry, config: KernelConfig) -> list[tuple[str, str, tuple]]:
    """The design top's parameters, in the kernel's order: (role, C++ name, shape)."""
    n_factor = geom.out_channels if config.per_channel_factor else 1
    out = []
    for t in kind.tensors:
        shape = (n_factor,) if t.role == "factor" else kind.cpp_shape(t.role, geom.shape(t.role))
        out.append((t.role, _ident(t.cpp_arg), shape))
    return out


def signature(kind: Kind, geom: Geometry, config: KernelConfig) -> str:
    """``void hls_sim_top(...)``: the design top of a golden set (the kind's template called
    with ``hls_sim_layer``)."""
    params = ", ".join(f"hls_sim_layer::{_ident(kind.tensor(r).type_name)} {n}{_dims_cpp(sh)}"
                       for r, n, sh in _arguments(kind, geom, config))
    return f"void {TOP_FUNCTION}({params})"


def select_header(kind: Kind, geom: Geometry, config: KernelConfig, cid: str) -> str:
    if not re.fullmatch(r"[0-9a-f]{16}", cid):
        raise GoldenError(f"bad configuration id {cid!r}")
    if not _FILE.fullmatch(kind.cpp_header):
        raise GoldenError(f"bad kernel header name {kind.cpp_header!r}")
    args = _arguments(kind, geom, config)
    fixed = [(r, n, sh) for r, n, sh in args if r not in ("input", "top")]
    table = " ".join(f"X({r}, hls_sim_layer::{_ident(kind.tensor(r).type_name)}, "
                     f"{int(np.prod(sh, dtype=np.int64))})" for r, n, sh in fixed)
    call = []
    for r, n, sh in args:
        t = f"hls_sim_layer::{_ident(kind.tensor(r).type_name)}"
        src = {"input": "in", "top": "out"}.get(r, f"gtb_{r}")
        call.append(f"reinterpret_cast<{t} (*){_dims_cpp(sh[1:])}>({src})" if len(sh) > 1
                    else src)
    top = geom.shape("top")
    return "\n".join([
        "// Generated by hls-sim golden: the layer, kernel and tensors of this golden set.",
        "// Included first by testbench/golden_tb.cpp and by hls_sim_kernel.cpp.",
        "#ifndef HLS_SIM_GOLDEN_H",
        "#define HLS_SIM_GOLDEN_H",
        "#include <ap_int.h>",
        "#include <ap_fixed.h>",
        f'#include "{CONFIG_HEADER}"',
        f'#include "{kind.cpp_header}"',
        f'#define HLS_SIM_GOLDEN_KERNEL "{_ident(kind.name)}"',
        f'#define HLS_SIM_GOLDEN_FUNCTION "{TOP_FUNCTION}"',
        f'#define HLS_SIM_GOLDEN_TEMPLATE "{_ident(kind.cpp_function)}"',
        f'#define HLS_SIM_GOLDEN_CONFIG_ID "{cid}"',
        "// the tensors read once: X(name, element type, elements)",
        f"#define GTB_FIXED_TENSORS(X) {table}",
        "#define GTB_INPUT_TYPE hls_sim_layer::in_t",
        f"#define GTB_INPUT_ELEMENTS {int(np.prod(geom.shape('input'), dtype=np.int64))}",
        "#define GTB_OUTPUT_TYPE hls_sim_layer::out_t",
        f"#define GTB_OUTPUT_C {int(top[0])}",
        f"#define GTB_OUTPUT_H {int(top[1])}",
        f"#define GTB_OUTPUT_W {int(top[2])}",
        f"{signature(kind, geom, config)};",
        "// one call of the design top on flat buffers (in, out) and the fixed tensors",
        f"#define GTB_CALL(in, out) {TOP_FUNCTION}({', '.join(call)})",
        "#endif",
        ""])


def kernel_source(kind: Kind, geom: Geometry, config: KernelConfig) -> str:
    names = ", ".join(n for _, n, _ in _arguments(kind, geom, config))
    return "\n".join([
        f"// Generated by hls-sim golden: the design top of this golden set, the {kind.name} kernel",
        f"// ({_ident(kind.cpp_function)}<hls_sim_layer> of kernels/{kind.cpp_header}) for this layer's",
        f"// types and sizes ({CONFIG_HEADER}). Add this file as the design source, with this folder",
        "// and kernels/ on the include path (-I); the top function is hls_sim_top.",
        f'#include "{SELECT_HEADER}"',
        "",
        signature(kind, geom, config) + " {",
        f"    {_ident(kind.cpp_function)}<hls_sim_layer>({names});",
        "}",
        ""])


def generated_files(kernel: str, config: KernelConfig, geom: Geometry | None = None) -> dict[str, bytes]:
    """The three generated C++ files of a golden set (they depend only on the kind, its
    geometry and the configuration): what testbench/golden_tb.cpp is compiled with."""
    if kernel not in KINDS:
        raise GoldenError(f"unknown kernel kind {kernel!r}")
    kind = KINDS[kernel]
    geom = kind.geometry() if geom is None else geom
    header = layer_header(kind, geom, config)
    cid = config_id(kernel, header)
    return {CONFIG_HEADER: header.encode("ascii"),
            SELECT_HEADER: select_header(kind, geom, config, cid).encode("ascii"),
            KERNEL_SOURCE: kernel_source(kind, geom, config).encode("ascii")}


# ---- encodings ------------------------------------------------------------------------------------
def element_bytes(fmt: Format) -> int:
    """Bytes per element in a ``.bin`` file: 8 per started 64 bits of the type."""
    return 8 * ((fmt.width + 63) // 64)


def encode_bin(fmt: Format, raw: np.ndarray) -> bytes:
    """Raw integers as little-endian two's complement, ``element_bytes(fmt)`` each
    (sign-extended for signed types, zero-extended for unsigned ones)."""
    a = np.asarray(raw)
    n = element_bytes(fmt)
    if n == 8 and a.dtype != object:
        return np.ascontiguousarray(a, dtype="<i8").tobytes()
    mod = 1 << (8 * n)
    return b"".join((int(v) % mod).to_bytes(n, "little") for v in a.ravel().tolist())


def decode_bin(fmt: Format, data: bytes, shape: tuple[int, ...]) -> np.ndarray:
    """The inverse of :func:`encode_bin` (int64, or an object array of ints beyond 64 bits)."""
    n = element_bytes(fmt)
    if n == 8 and fmt.fits_int64:
        return np.frombuffer(data, dtype="<i8").astype(np.int64).reshape(shape)
    vals = [int.from_bytes(data[i:i + n], "little", signed=fmt.signed)
            for i in range(0, len(data), n)]
    out = np.empty(len(vals), dtype=object)
    out[:] = vals
    return out.reshape(shape)


def encode_dat(fmt: Format, raw: np.ndarray, encoding: str = "decimal") -> bytes:
    """One raw integer per line: signed decimal, or the type's bit pattern in hex
    (``0x`` and ``ceil(width/4)`` lowercase digits)."""
    vals = np.asarray(raw).ravel().tolist()
    if encoding == "decimal":
        lines = map(str, vals)
    elif encoding == "hex":
        mask, digits = (1 << fmt.width) - 1, (fmt.width + 3) // 4
        lines = (f"0x{int(v) & mask:0{digits}x}" for v in vals)
    else:
        raise GoldenError(f"unknown .dat encoding {encoding!r}; expected one of {', '.join(ENCODINGS)}")
    return ("\n".join(lines) + "\n").encode("ascii")


def decode_dat(fmt: Format, data: bytes, shape: tuple[int, ...]) -> np.ndarray:
    """The inverse of :func:`encode_dat` (either encoding)."""
    vals = []
    for line in data.decode("ascii").split():
        if line.startswith("0x"):
            v = int(line, 16)
            if fmt.signed and v >> (fmt.width - 1):
                v -= 1 << fmt.width
        else:
            v = int(line)
        vals.append(v)
    out = np.empty(len(vals), dtype=object)
    out[:] = vals
    return (out.astype(np.int64) if fmt.fits_int64 else out).reshape(shape)


# ---- what goes in a set -------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class _Tensor:
    name: str          # file stem
    role: str          # weight | bias | factor | input | top | expected
    typedef: str       # in_t, out_t, ...
    argument: str      # the kernel's C++ parameter
    direction: str     # in | out
    vector: int | None


def _tensors(kind: Kind, count: int) -> Iterator[_Tensor]:
    """The files of a set, from the kind's tensors: the fixed ones once, then per vector the
    input, the output buffer before the call (``top``) and after it (``expected``)."""
    for t in kind.tensors:
        if t.role not in ("input", "top"):
            yield _Tensor(t.role, t.role, t.type_name, t.cpp_arg, "in", None)
    inp, top = kind.tensor("input"), kind.tensor("top")
    for k in range(count):
        yield _Tensor(f"input_{k}", "input", inp.type_name, inp.cpp_arg, "in", k)
        yield _Tensor(f"top_{k}", "top", top.type_name, top.cpp_arg, "in", k)
        yield _Tensor(f"expected_{k}", "expected", top.type_name, top.cpp_arg, "out", k)


def _layer_digest(layer: Layer) -> bytes:
    """A digest of everything that determines the kernel's behaviour: seeds derive from it."""
    h = hashlib.sha256()
    c = layer.config
    h.update(f"{layer.kernel}\n{layer_header(layer.spec, layer.geometry, c)}".encode())
    for t in layer.spec.tensors:
        name, fmt = t.role, getattr(c, t.type_name)
        arr = getattr(layer, name)
        h.update(f"\n{name}{list(np.shape(arr))}\n".encode())
        h.update(encode_bin(fmt, arr))
    return h.digest()


def vector_seed(digest: bytes, k: int) -> int:
    """The seed of vector ``k`` (k >= 1): from the layer's content, the same on every machine."""
    d = hashlib.sha256(b"hls-sim golden vector\0" + digest + f"\0{k}".encode()).digest()
    return int.from_bytes(d[:8], "little") >> 1


def _halo_is_zero(a: np.ndarray) -> bool:
    edges = (a[:, 0, :], a[:, -1, :], a[:, :, 0], a[:, :, -1])
    return all(not np.any(e != 0) for e in edges)


def vector_input(layer: Layer, seed: int) -> np.ndarray:
    """An input buffer drawn (with replacement) from the values of the layer's input, with
    ``numpy.random.default_rng(seed)``; a zero halo in the layer stays a zero halo."""
    src = np.asarray(layer.input)
    zero_halo = layer.spec.seed and _halo_is_zero(src)
    pool = (src[:, 1:-1, 1:-1] if zero_halo else src).ravel()
    rng = np.random.default_rng(seed)
    out = pool[rng.integers(0, pool.size, size=src.shape, dtype=np.int64)]
    if zero_halo:
        out[:, 0, :] = out[:, -1, :] = out[:, :, 0] = out[:, :, -1] = 0
    return out


def _run(layer: Layer, bottom: np.ndarray) -> np.ndarray:
    return dataclasses.replace(layer, input=bottom).run().top.raw


def _format_info(fmt: Format) -> dict:
    return {"width": fmt.width, "int_bits": fmt.int_bits, "frac_bits": fmt.frac_bits,
            "signed": fmt.signed, "q_mode": fmt.q_mode.name, "o_mode": fmt.o_mode.name,
            "n_sat": fmt.n_sat}


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _dump_json(obj: Any) -> bytes:
    return (json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=True) + "\n").encode("ascii")


def _write(path: Path, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _fill(layer: Layer, d: Path, count: int, encoding: str) -> dict:
    """Write the whole set into the (empty, private) folder ``d``; return the manifest."""
    kernel = layer.kernel
    c = layer.config
    kind = layer.spec
    generated = generated_files(kernel, c, layer.geometry)
    cid = config_id(kernel, generated[CONFIG_HEADER].decode("ascii"))
    for name, data in generated.items():
        _write(d / name, data)

    digest = _layer_digest(layer)
    seeds: list[int | None] = [None] + [vector_seed(digest, k) for k in range(1, count)]
    tensors: dict[str, dict] = {}

    def put(t: _Tensor, raw: np.ndarray) -> None:
        fmt: Format = getattr(c, t.typedef)
        shape = [int(n) for n in np.shape(raw)]
        dat = encode_dat(fmt, raw, encoding)
        binary = encode_bin(fmt, raw)
        _write(d / f"{t.name}.dat", dat)
        _write(d / f"{t.name}.bin", binary)
        tensors[t.name] = {
            "role": t.role, "vector": t.vector, "argument": t.argument, "direction": t.direction,
            "typedef": t.typedef, "c_type": cpp_type(fmt), "format": _format_info(fmt),
            "shape": shape, "elements": int(np.prod(shape, dtype=np.int64)), "layout": "C",
            "files": {
                "dat": {"file": f"{t.name}.dat", "encoding": encoding, "sha256": _sha(dat)},
                "bin": {"file": f"{t.name}.bin", "byte_order": "little",
                        "element_bytes": element_bytes(fmt), "sha256": _sha(binary)},
            },
        }

    fixed = {t.role: getattr(layer, t.role) for t in kind.tensors if t.role not in ("input", "top")}
    vectors = []
    for t in _tensors(kind, count):
        if t.vector is None:
            put(t, fixed[t.role])
            continue
        k = t.vector
        if t.role == "input":
            bottom = layer.input if k == 0 else vector_input(layer, seeds[k])
            put(t, bottom)
        elif t.role == "top":
            put(t, layer.top)
        else:
            put(t, _run(layer, bottom))
            vectors.append({"index": k, "input": f"input_{k}", "top": f"top_{k}",
                            "expected": f"expected_{k}", "seed": seeds[k],
                            "source": "the layer's input" if k == 0 else
                            "drawn from the layer's input values (numpy default_rng(seed), "
                            "with replacement; a zero halo stays zero)"})

    index = "\n".join([
        f"hls_sim_golden {FORMAT_VERSION}",
        f"kernel {_ident(kernel)}",
        f"function {TOP_FUNCTION}",
        f"config {cid}",
        f"vectors {count}"]
        + [f"elements_{_ident(n)} {tensors[n]['elements']}" for n in fixed]
        + [f"elements_input {tensors['input_0']['elements']}",
           f"elements_output {tensors['expected_0']['elements']}", ""]).encode("ascii")
    _write(d / INDEX, index)

    files = {name: {"sha256": _sha(data)} for name, data in generated.items()}
    files[INDEX] = {"sha256": _sha(index)}
    manifest = {
        "format": FORMAT_NAME, "format_version": FORMAT_VERSION,
        "generator": f"hls-sim {hls_sim.__version__}",
        "kernel": {"name": kernel, "function": TOP_FUNCTION, "template": kind.cpp_function,
                   "source": f"kernels/{kind.cpp_header}",
                   "signature": signature(kind, layer.geometry, c),
                   "params": dict(layer.geometry.values)},
        "layer": {"file": Path(layer.path).name, "name": layer.name,
                  "description": layer.description, "config": _config_info(c),
                  "sources": dict(sorted(layer.sources.items()))},
        "config_id": cid,
        "vectors": {"count": count, "list": vectors},
        "tensors": tensors,
        "files": files,
        "binary": "little-endian two's complement, sign-extended (signed types) or zero-extended "
                  "(unsigned) to element_bytes = 8 * ceil(width / 64) bytes per element",
        "dat": "one raw stored integer per line in C order; decimal: the signed raw value; hex: "
               "0x and ceil(width/4) lowercase digits of the width-bit two's-complement pattern",
        "value": "value = raw * 2**-frac_bits",
        "expected": "expected_k is the whole output buffer after one call of the kernel on "
                    "input_k, top_k (the output buffer before the call) and the fixed tensors",
    }
    _write(d / MANIFEST, _dump_json(manifest))
    return manifest


def _config_info(c: KernelConfig) -> dict:
    d = c.to_dict()
    d["cpp"] = {n: cpp_type(f) for n, f in c.named_types()}
    return d


# ---- the output folder ---------------------------------------------------------------------------
def check_target(out_dir: str | os.PathLike, force: bool = False) -> Path:
    """Refuse, before any work, a target that is not a folder, or a non-empty folder without
    ``force``."""
    d = Path(out_dir)
    full = Path(os.path.abspath(d))
    if full.parent == full or full == Path.cwd() or full in Path.cwd().parents:
        raise GoldenError(f"{d}: is the current folder or one above it; give a folder of its own")
    if d.is_symlink():
        raise GoldenError(f"{d}: is a symbolic link; give the folder itself")
    if d.exists():
        if not d.is_dir():
            raise GoldenError(f"{d}: exists and is not a folder")
        if any(d.iterdir()):
            if not force:
                raise GoldenError(f"{d}: folder is not empty; nothing written (pass --force to "
                                  "replace a previous golden set)")
            if not _is_golden_set(d):
                raise GoldenError(f"{d}: not a golden set (no {MANIFEST} written by hls-sim "
                                  "golden); --force replaces only a previous golden set, so "
                                  "nothing was written")
    return d


def _is_golden_set(d: Path) -> bool:
    try:
        m = read_manifest(d)  # a regular file only: never waits on a FIFO
    except GoldenError:
        return False
    return isinstance(m, dict) and m.get("format") == FORMAT_NAME


def _check_count(count: Any) -> int:
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_COUNT:
        raise GoldenError(f"count must be an integer from 1 to {MAX_COUNT}, got {count!r}")
    return count


def write_golden(layer: Layer, out_dir: str | os.PathLike, *, count: int = 1,
                 encoding: str = "decimal", force: bool = False) -> GoldenSet:
    """Write the golden set of ``layer`` into ``out_dir`` (``count`` vectors, one weight set).

    Refuses a non-empty folder unless ``force``. The set is written into a temporary folder
    beside ``out_dir`` and renamed into place, so an interrupted run leaves no half-written
    set; with ``force`` the old folder is swapped out atomically where the system allows
    (Linux ``renameat2``), else by two renames, and then deleted.
    """
    count = _check_count(count)
    if encoding not in ENCODINGS:
        raise GoldenError(f"unknown .dat encoding {encoding!r}; expected one of {', '.join(ENCODINGS)}")
    return write_set(out_dir, lambda tmp: _fill(layer, tmp, count, encoding), force=force)


def write_set(out_dir: str | os.PathLike, fill: Callable[[Path], dict], *,
              force: bool = False) -> GoldenSet:
    """Write a golden set into ``out_dir``, all or nothing: ``fill(tmp)`` writes every file
    into an empty private folder and returns the manifest, which is then renamed into place
    (refused: a non-empty ``out_dir`` unless ``force``, and then only a previous golden set).
    The layer sets (:func:`write_golden`) and the network sets (hls_sim.netgolden) share it."""
    d = Path(os.path.abspath(check_target(out_dir, force)))
    shown = Path(out_dir)
    parent = d.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise GoldenError(f"{parent}: cannot create the folder: {e.strerror or e}") from None
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{d.name}.tmp-", dir=parent))
    except OSError as e:
        raise GoldenError(f"{parent}: cannot write there: {e.strerror or e}") from None
    try:
        try:
            manifest = fill(tmp)
        except OSError as e:
            raise GoldenError(f"{shown}: cannot write: {e.strerror or e}") from None
        _chmod_like_mkdir(tmp)
        _move_into_place(tmp, d, force)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return GoldenSet(shown, manifest, sorted(p.name for p in d.iterdir()))


def _chmod_like_mkdir(p: Path) -> None:
    """mkdtemp makes a 0700 folder; give the finished set the mode a plain mkdir would."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(p, 0o777 & ~umask)


_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    at_fdcwd = -100
    return fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE) == 0


def _move_into_place(tmp: Path, d: Path, force: bool) -> None:
    try:
        if not d.exists():
            os.rename(tmp, d)
            return
        if not any(d.iterdir()):
            os.rmdir(d)
            os.rename(tmp, d)
            return
        check_target(d, force)  # filled meanwhile by someone else: refuse as before
        if _exchange(tmp, d):  # tmp now holds the old set; the caller deletes it
            return
        old = Path(tempfile.mkdtemp(prefix=f".{d.name}.old-", dir=d.parent))
        os.rmdir(old)
        os.rename(d, old)
        try:
            os.rename(tmp, d)
        except OSError:
            os.rename(old, d)  # put the old set back
            raise
        shutil.rmtree(old, ignore_errors=True)
    except OSError as e:
        raise GoldenError(f"{d}: cannot move the finished set into place: {e.strerror or e}") from None


# ---- reading a set back --------------------------------------------------------------------------
MAX_MANIFEST_BYTES = 256 << 20  # 1000 vectors of 3 tensors: about 2 MB


def read_manifest(golden_dir: str | os.PathLike) -> dict:
    """``manifest.json`` of a golden set, parsed (a regular file only: a FIFO or a device
    under that name is refused, never waited on or read without end)."""
    p = Path(golden_dir) / MANIFEST
    try:
        with open_regular(p) as f:
            data = f.read(MAX_MANIFEST_BYTES + 1)
    except FileNotFoundError:
        raise GoldenError(f"{p}: not found; not a golden set") from None
    except NotRegularError as e:
        raise GoldenError(f"{p}: {e.what}; not a golden set") from None
    except OSError as e:
        raise GoldenError(f"{p}: cannot read: {e.strerror or e}") from None
    if len(data) > MAX_MANIFEST_BYTES:
        raise GoldenError(f"{p}: more than {MAX_MANIFEST_BYTES} bytes; not a golden set manifest")
    try:
        return json.loads(data.decode("ascii"))
    except (ValueError, RecursionError) as e:
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise GoldenError(f"{p}: cannot read: {reason}") from None


def read_tensor(golden_dir: str | os.PathLike, name: str, kind: str = "bin") -> np.ndarray:
    """A tensor of a golden set as raw integers, from its ``.bin`` (or ``.dat``) file."""
    m = read_manifest(golden_dir)
    if name not in m["tensors"]:
        raise GoldenError(f"{golden_dir}: no tensor {name!r}")
    t = m["tensors"][name]
    fmt = parse(t["c_type"])
    data = (Path(golden_dir) / t["files"][kind]["file"]).read_bytes()
    shape = tuple(t["shape"])
    return decode_bin(fmt, data, shape) if kind == "bin" else decode_dat(fmt, data, shape)


def verify(golden_dir: str | os.PathLike) -> list[str]:
    """The files whose sha256 differs from the manifest's (empty: the set is intact)."""
    m = read_manifest(golden_dir)
    d = Path(golden_dir)
    bad = []
    named = dict(m["files"])
    for t in m["tensors"].values():
        for f in t["files"].values():
            named[f["file"]] = {"sha256": f["sha256"]}
    for name, info in sorted(named.items()):
        p = d / name
        if not p.is_file() or _sha(p.read_bytes()) != info["sha256"]:
            bad.append(name)
    return bad


@dataclasses.dataclass
class Verification:
    """What :func:`verify_set` found: ``problems`` as (file, why), empty for an intact set."""

    path: Path
    manifest: dict
    problems: list[tuple[str, str]]
    hashed: int  # files whose sha256 was compared with the manifest's
    tensors: int  # tensors whose shape, elements and file sizes were checked
    ignored: list[str]  # files in the folder that are no part of a set (not checked)

    @property
    def intact(self) -> bool:
        return not self.problems


_SET_LIKE = re.compile(r"(.*\.(bin|dat)|hls_sim_.*)")  # names a set's files have


def _scan(p: Path) -> tuple[str, int, int]:
    """sha256, size and newline count of a regular file, read in chunks."""
    h, size, lines = hashlib.sha256(), 0, 0
    with open_regular(p) as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
            size += len(chunk)
            lines += chunk.count(b"\n")
    return h.hexdigest(), size, lines


def _get(d: Any, *keys: str) -> Any:
    for k in keys:
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d


def verify_set(golden_dir: str | os.PathLike) -> Verification:
    """Check a golden set against its manifest: every file's sha256; that the manifest agrees
    with itself (each tensor's elements = the product of its shape, its format = its C type,
    its ``.bin`` size = elements * element_bytes, its ``.dat`` one line per element; vectors
    listed 0..count-1, each with its input, top and expected tensors); that the index
    (``hls_sim_golden.txt``) agrees with the manifest (format, kernel, function, configuration,
    vector count, every element count); that the configuration id is the one of the layer
    header; and that the folder holds no set files the manifest does not list (an
    ``input_K.bin`` beyond the vector count, say). A network's set (``"set": "network"``) is
    checked the same way by :func:`hls_sim.netgolden.verify_network_set`.

    Raises :class:`GoldenError` for a folder that is not a golden set at all (no folder, no
    readable manifest.json, not of format hls-sim-golden 1).
    """
    d = Path(golden_dir)
    if not d.exists():
        raise GoldenError(f"{d}: not found")
    if not d.is_dir():
        raise GoldenError(f"{d}: not a folder; give a golden set's folder")
    m = read_manifest(d)
    if not isinstance(m, dict) or m.get("format") != FORMAT_NAME:
        raise GoldenError(f"{d / MANIFEST}: not a golden set manifest (no \"format\": "
                          f"\"{FORMAT_NAME}\")")
    if m.get("format_version") != FORMAT_VERSION:
        raise GoldenError(f"{d / MANIFEST}: format version {m.get('format_version')!r}; this "
                          f"hls-sim reads version {FORMAT_VERSION}")
    if m.get("set", "layer") != "layer":
        if m.get("set") != "network":
            raise GoldenError(f"{d / MANIFEST}: \"set\": {m.get('set')!r}; this hls-sim reads "
                              "layer and network sets")
        from hls_sim.netgolden import verify_network_set

        return verify_network_set(d, m)
    return _verify_layer_set(d, m)


class _Checks:
    """What the set checks share: the problems found, the files hashed, the tensors checked."""

    def __init__(self, d: Path, m: dict) -> None:
        self.d, self.m = d, m
        self.problems: list[tuple[str, str]] = []
        self.named: dict[str, Any] = {}  # every file the manifest names -> its sha256
        self.scans: dict[str, tuple[str, int, int]] = {}
        self.elements: dict[str, int] = {}
        self.n_tensors = 0
        self.index: dict[str, str] = {}

    def bad(self, file: str, why: str) -> None:
        self.problems.append((file, why))

    def files(self, required: Sequence[str]) -> dict:
        """Every file the manifest names (``required`` among them): present, a regular file,
        its sha256. Returns the tensors table."""
        m, bad = self.m, self.bad
        files = m.get("files")
        if not isinstance(files, dict):
            bad(MANIFEST, "no \"files\" table")
            files = {}
        for n in required:
            if n not in files:
                bad(MANIFEST, f"\"files\" does not list {n}")
        tensors = m.get("tensors")
        if not isinstance(tensors, dict) or not tensors:
            bad(MANIFEST, "no \"tensors\" table")
            tensors = {}
        named = self.named
        named.update({n: _get(info, "sha256") for n, info in files.items()})
        for t in tensors.values():
            for f in (_get(t, "files") or {}).values():
                if isinstance(_get(f, "file"), str):
                    named[f["file"]] = _get(f, "sha256")
        for name, sha in sorted(named.items()):
            if not isinstance(name, str) or not _FILE.fullmatch(name):
                bad(MANIFEST, f"names the file {name!r}, not a plain file name")
                continue
            try:
                self.scans[name] = _scan(self.d / name)
            except FileNotFoundError:
                bad(name, "missing (manifest.json lists it)")
                continue
            except NotRegularError as e:
                bad(name, f"{e.what}, not a regular file")
                continue
            except OSError as e:
                bad(name, f"cannot read: {e.strerror or e}")
                continue
            if self.scans[name][0] != sha:
                bad(name, "sha256 differs from manifest.json's (the file was changed after the "
                          "set was written)")
        return tensors

    def tensors(self, tensors: dict) -> None:
        """Every tensor consistent with itself: shape, elements, format, file sizes."""
        bad, scans = self.bad, self.scans
        for name, t in sorted(tensors.items()):
            shape, n = _get(t, "shape"), _get(t, "elements")
            if not isinstance(shape, list) or not all(isinstance(k, int) and not isinstance(k, bool)
                                                      and k >= 0 for k in shape):
                bad(MANIFEST, f"tensor {name}: \"shape\" {shape!r} is not a list of sizes")
                continue
            if n != math.prod(shape):
                bad(MANIFEST, f"tensor {name}: elements {n!r}, but its shape {shape} holds "
                              f"{math.prod(shape)}")
                continue
            self.elements[name] = n
            try:
                if not isinstance(_get(t, "c_type"), str):
                    raise ValueError("not a type spelling")
                fmt = parse(t["c_type"])
            except ValueError as e:
                bad(MANIFEST, f"tensor {name}: c_type {_get(t, 'c_type')!r}: {e}")
                continue
            if _get(t, "format") != _format_info(fmt):
                bad(MANIFEST, f"tensor {name}: \"format\" does not describe its c_type {fmt.cpp()}")
            self.n_tensors += 1
            binf, datf = _get(t, "files", "bin", "file"), _get(t, "files", "dat", "file")
            if binf is None or datf is None:
                bad(MANIFEST, f"tensor {name}: no .bin or no .dat file listed")
                continue
            eb = _get(t, "files", "bin", "element_bytes")
            if eb != element_bytes(fmt):
                bad(MANIFEST, f"tensor {name}: element_bytes {eb!r}; {fmt.cpp()} takes "
                              f"{element_bytes(fmt)}")
            if binf in scans and scans[binf][1] != n * element_bytes(fmt):
                bad(binf, f"{scans[binf][1]} bytes; {n} elements of {element_bytes(fmt)} bytes are "
                          f"{n * element_bytes(fmt)}")
            if datf in scans and scans[datf][2] != n:
                bad(datf, f"{scans[datf][2]} lines; the tensor has {n} elements (one per line)")

    def count(self) -> tuple[int | None, list]:
        """vectors.count and vectors.list, checked to be a count and a list of that length."""
        m, bad = self.m, self.bad
        count, listed = _get(m, "vectors", "count"), _get(m, "vectors", "list")
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            bad(MANIFEST, f"vectors.count {count!r} is not a number of vectors")
            count = None
        if not isinstance(listed, list):
            bad(MANIFEST, "no vectors.list")
            listed = []
        if count is not None and len(listed) != count:
            bad(MANIFEST, f"vectors.list has {len(listed)} entries, vectors.count says {count}")
        return count, listed

    def beyond(self, tensors: dict, count: int | None) -> None:
        for name, t in sorted(tensors.items()):
            k = _get(t, "vector")
            if k is not None and (count is None or not isinstance(k, int) or not 0 <= k < count):
                self.bad(MANIFEST, f"tensor {name} is of vector {k!r}, beyond the {count} vector(s)")

    def read_index(self) -> bool:
        """The index's ``key value`` lines into ``self.index`` (False: none to check)."""
        if INDEX not in self.scans:
            return False
        try:
            with open_regular(self.d / INDEX) as f:
                lines = f.read().decode("ascii").splitlines()
        except (OSError, UnicodeDecodeError) as e:
            self.bad(INDEX, f"cannot read: {e}")
            lines = []
        for ln in lines:
            key, _, val = ln.strip().partition(" ")
            if not key:
                continue
            if key in self.index:
                self.bad(INDEX, f"{key} given twice")
            self.index[key] = val.strip()
        return True

    def agree(self, key: str, want: Any, what: str) -> None:
        got = self.index.get(key)
        if got is None:
            self.bad(INDEX, f"no {key} line")
        elif got != str(want):
            self.bad(INDEX, f"{key} {got}, but {what} {want}")

    def unknown_keys(self, known: set[str]) -> None:
        for key in sorted(set(self.index) - known):
            self.bad(INDEX, f"{key}: not a line of this set (manifest.json has no such tensor)")

    def config_id(self, made: str | None, source: str, how: str, select: str, macro: str) -> None:
        """The manifest's configuration id is the one ``source`` gives (``made``; None: not
        readable) and the one the header ``select`` defines as ``macro``."""
        cid = _get(self.m, "config_id")
        if made is not None and made != cid:
            self.bad(source, f"{how}its configuration id is {made}, manifest.json says {cid}")
        if isinstance(cid, str):
            text = self.read_text(select)
            if text is not None and f'#define {macro} "{cid}"' not in text:
                self.bad(select, f"does not define configuration {cid}, manifest.json's")

    def read_text(self, name: str) -> str | None:
        if name not in self.scans:
            return None
        try:
            with open_regular(self.d / name) as f:
                return f.read().decode("ascii")
        except (OSError, UnicodeDecodeError) as e:
            self.bad(name, f"cannot read: {e}")
            return None

    def result(self) -> Verification:
        """Files of a set that the manifest does not list are problems; other files ignored."""
        ignored = []
        for p in sorted(self.d.iterdir()):
            if p.name == MANIFEST or p.name in self.named:
                continue
            if _SET_LIKE.fullmatch(p.name):
                self.bad(p.name, "not listed in manifest.json (a file of another set, or of more "
                                 "vectors than this one has?)")
            else:
                ignored.append(p.name)
        return Verification(self.d, self.m, self.problems, len(self.scans), self.n_tensors, ignored)


def _verify_layer_set(d: Path, m: dict) -> Verification:
    ck = _Checks(d, m)
    bad = ck.bad
    tensors = ck.files((CONFIG_HEADER, SELECT_HEADER, KERNEL_SOURCE, INDEX))
    ck.tensors(tensors)
    elements = ck.elements

    # the vectors: 0..count-1, each with its three tensors
    count, listed = ck.count()
    for i, v in enumerate(listed):
        if _get(v, "index") != i:
            bad(MANIFEST, f"vectors.list[{i}] has index {_get(v, 'index')!r}, expected {i}")
            continue
        for role in ("input", "top", "expected"):
            want = f"{role}_{i}"
            if _get(v, role) != want:
                bad(MANIFEST, f"vector {i}: {role} is {_get(v, role)!r}, expected {want!r}")
            elif _get(tensors, want, "vector") != i or _get(tensors, want, "role") != role:
                bad(MANIFEST, f"vector {i}: no tensor {want} of role {role} for vector {i}")
    ck.beyond(tensors, count)
    per_vector = {role: {elements[f"{role}_{i}"] for i in range(len(listed))
                         if f"{role}_{i}" in elements} for role in ("input", "top", "expected")}
    for role, sizes in per_vector.items():
        if len(sizes) > 1:
            bad(MANIFEST, f"the {role} tensors differ in size ({', '.join(map(str, sorted(sizes)))})")

    # the index the C++ testbench reads
    if ck.read_index():
        ck.agree("hls_sim_golden", FORMAT_VERSION, "this is format version")
        ck.agree("kernel", _get(m, "kernel", "name"), "manifest.json says kernel")
        ck.agree("function", _get(m, "kernel", "function"), "manifest.json says function")
        ck.agree("config", _get(m, "config_id"), "manifest.json says config")
        if count is not None:
            ck.agree("vectors", count, "manifest.json lists vectors")
        fixed = [n for n, t in tensors.items() if _get(t, "vector") is None]
        for n in fixed:
            if n in elements:
                ck.agree(f"elements_{n}", elements[n], f"manifest.json's tensor {n} has elements")
        for key, role in (("elements_input", "input"), ("elements_output", "expected")):
            if f"{role}_0" in elements:
                ck.agree(key, elements[f"{role}_0"], f"manifest.json's tensor {role}_0 has elements")
        ck.unknown_keys({"hls_sim_golden", "kernel", "function", "config", "vectors",
                         "elements_input", "elements_output"} | {f"elements_{n}" for n in fixed})

    # the configuration id is the layer header's
    made = None
    if isinstance(_get(m, "kernel", "name"), str):
        header = ck.read_text(CONFIG_HEADER)
        made = None if header is None else config_id(m["kernel"]["name"], header)
    ck.config_id(made, CONFIG_HEADER, "", SELECT_HEADER, "HLS_SIM_GOLDEN_CONFIG_ID")
    return ck.result()


def verification_summary(v: Verification) -> str:
    """What ``hls-sim verify`` prints."""
    m = v.manifest
    count = _get(m, "vectors", "count")
    what = _get(m, "kernel", "name")
    if m.get("set") == "network":
        layers = _get(m, "network", "layers")
        what = (f"network {_get(m, 'network', 'name') or '(no name)'}, "
                f"{len(layers) if isinstance(layers, list) else '?'} layers")
    lines = [f"verify    {v.path}  ({what}; {count} vector"
             f"{'' if count == 1 else 's'}, config {_get(m, 'config_id')})",
             f"checked   {v.hashed} files against the sha256 in {MANIFEST}; {v.tensors} tensors "
             "(elements = product of the shape, .bin bytes, .dat lines); the vector list; the "
             f"index {INDEX}"]
    if v.ignored:
        lines.append(f"ignored   {len(v.ignored)} other file(s), no part of a set: "
                     + ", ".join(v.ignored[:5]) + (", ..." if len(v.ignored) > 5 else ""))
    for file, why in sorted(v.problems, key=lambda p: p[0]):
        lines.append(f"BAD       {file}: {why}")
    if v.intact:
        lines.append("OK        the golden set is intact: every file is the one manifest.json "
                     "describes")
    else:
        n = len(v.problems)
        lines.append(f"FAIL      {n} problem{'' if n == 1 else 's'}: the golden set is not what "
                     f"{MANIFEST} describes")
    return "\n".join(lines)


def describe(gs: GoldenSet) -> str:
    """What ``hls-sim golden`` prints: the set, its tensors and files."""
    m = gs.manifest
    n_files = len(gs.files)
    size = sum((gs.path / f).stat().st_size for f in gs.files)
    ts = m["tensors"]
    lines = [f"golden    {gs.path}  ({m['kernel']['name']}, C++ {m['kernel']['function']}; "
             f"{gs.count} vector{'s' if gs.count != 1 else ''}, config {m['config_id']})"]
    rows = []
    for name in [n for n in ts if ts[n]["vector"] is None] + ["input_0", "top_0", "expected_0"]:
        t = ts[name]
        dims = "".join(f"[{n}]" for n in t["shape"]) or "scalar"
        stem = name[:-2] + "_K" if t["vector"] is not None and gs.count > 1 else name
        rows.append((stem, dims, t["typedef"], t["c_type"], f"{stem}.dat {stem}.bin"))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for i, r in enumerate(rows):
        lines.append(("tensors   " if i == 0 else " " * 10)
                     + "  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[-1])
    enc = next(iter(ts.values()))["files"]["dat"]["encoding"]
    lines.append(f"files     .dat {enc}, .bin little-endian; {CONFIG_HEADER}, {SELECT_HEADER}, "
                 f"{KERNEL_SOURCE}, {INDEX}, {MANIFEST}")
    lines.append(f"wrote     {n_files} files, {size} bytes")
    return "\n".join(lines)
