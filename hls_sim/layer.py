"""Layer files: one YAML file that describes one call of a kernel.

    from hls_sim.layer import load_layer
    layer = load_layer("weights/conv1x1.yaml")   # validated; raises LayerError on bad input
    result = layer.run()                          # a hls_sim.kernels.KernelResult

A layer file names the kernel, its eight types and two switches (defaults: the seed's),
the requantization factor, and where the weight, bias, input (the padded ``bottom`` buffer)
and, optionally, the initial ``top`` come from: a ``.npy``/``.npz`` file of raw integers
(paths relative to the YAML file's folder) or a seeded generator. The README section
"Layer files" is the reference; this module is its one implementation. An optional
``float:`` block gives the float layer it quantizes (:class:`FloatModel`, docs/report.md).

Every problem becomes a :class:`LayerError` whose message is one line naming the file, the
field and the reason: ``layer.yaml: weight: file 'w.npy' not found (looked in /abs/dir)``.
Type spellings are parsed into :class:`~hls_sim.types.Format` objects and re-emitted from
them; no text from the file reaches generated code.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import os
import re
import stat
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from hls_sim.kernels import KINDS, Geometry, KernelConfig, KernelResult, Kind
from hls_sim.kernels.hls_config import (CHANNELS, CONFIG_TYPES, HEIGHT, TILE_H, TILE_W, WIDTH,
                                       WidthError, undefined_conversions)
from hls_sim.types import Format, OMode, QMode, parse

MAX_LAYER_FILE_BYTES = 1 << 20  # a layer file is a few lines; arrays go in .npy files
BASE_KEYS = ("kernel", "name", "description", "types", "relu_clip", "per_channel_factor",
             "factor", "weight", "bias", "input", "input2", "top", "float")
PARAM_KEYS = tuple(dict.fromkeys(n for k in KINDS.values() for n in k.param_names))
TOP_KEYS = BASE_KEYS + PARAM_KEYS
REQUIRED_KEYS = ("kernel", "factor", "weight", "bias", "input")  # a kind with the epilogue
SOURCE_KEYS = ("file", "key", "generate")
FLOAT_KEYS = ("weight", "bias", "input", "input_scale", "output_scale")
GENERATE_KEYS = ("seed", "distribution", "low", "high", "mean", "std", "halo")
DISTRIBUTIONS = ("uniform", "normal")
NORMAL_BOUND = 1 << 53  # normal draws are rounded float64s: bounds within +-2**53
BUFFER = (CHANNELS, HEIGHT, WIDTH)  # [16][34][66], the padded bottom/top buffers
TILE = (CHANNELS, TILE_H, TILE_W)  # [16][32][64], the tile without its one-pixel halo
_SPELLING_CHARS = re.compile(r"[A-Za-z0-9_<>,+\- \t]*")
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,63}")


class LayerError(ValueError):
    """A problem with a layer file: ``file``, ``field`` (dotted, may be empty) and ``reason``.

    ``str(err)`` is the one-line message ``FILE: FIELD: REASON``.
    """

    def __init__(self, file: Any, field: str, reason: str):
        self.file = str(file)
        self.field = field
        self.reason = " ".join(str(reason).splitlines())
        super().__init__(f"{self.file}: {field}: {self.reason}" if field
                         else f"{self.file}: {self.reason}")


@dataclasses.dataclass(frozen=True)
class Feed:
    """An input a network wires to a layer (never from YAML): the output of an earlier layer
    (or the network's input), with its shape and type. ``array`` None: only the shape is
    known yet (the graph is checked before anything runs)."""

    shape: tuple[int, ...]
    fmt: Format
    source: str  # in words, e.g. "the output of layer enc1 [16][32][64]"
    array: np.ndarray | None = None


@dataclasses.dataclass
class FloatModel:
    """The float layer a quantized layer stands for (a layer file's ``float:`` block).

    Real values: ``weight`` (shaped as the layer's weight) and ``bias`` ``[16]`` (None: the
    integer bias's real value, ``bias * output_scale``), ``input`` the padded
    ``[16][34][66]`` float input (None: ``input_scale`` times the integer input's values).
    A scale maps a type's value to a real value: ``real = scale * value`` (for ap_int and
    ap_uint the value is the raw integer).
    """

    weight: np.ndarray
    output_scale: float
    bias: np.ndarray | None = None
    input: np.ndarray | None = None
    input_scale: float | None = None
    sources: dict[str, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class Layer:
    """A validated layer: the kernel, its configuration and the raw integers of every input.

    Arrays hold raw stored integers of their types (numpy int64, or an object array of Python
    ints for types wider than 64 bits), shaped as the C++ arrays the kind's registry entry
    names (``geometry.shape(role)``): for the seed kinds ``input`` and ``top`` are the padded
    ``[16][34][66]`` buffers; ``factor`` is a 0-d array (one factor) or ``[C_OUT]`` (per
    channel). A kind without the epilogue (upsample, pooling, add, concat) has no weight,
    bias or factor (None); ``input2`` is a merge kind's second input (None for the others).
    """

    path: str
    kernel: str
    config: KernelConfig
    input: np.ndarray
    weight: np.ndarray | None
    bias: np.ndarray | None
    factor: np.ndarray | None
    top: np.ndarray
    name: str | None = None
    description: str | None = None
    sources: dict[str, str] = dataclasses.field(default_factory=dict)
    """How each of input/weight/bias/factor/top was obtained, in words (for summaries)."""
    given: tuple[str, ...] = ()
    """The optional fields the file set (e.g. ``"top"``)."""
    float_model: FloatModel | None = None
    """The float layer this one quantizes (the file's ``float:`` block), or None."""
    geometry: Geometry | None = None
    """The kind's parameters and shapes (None: the kind's defaults, for the seed kinds)."""
    input2: np.ndarray | None = None
    """A merge kind's second input (add, concat), raw integers of in2_t."""
    factor_requested: np.ndarray | None = None
    """The factor's values as the file wrote them (float64, shaped as ``factor``), before
    rounding to factor_t; None when it gave raw integers ({raw: ...} or {file: ...})."""
    warnings: list[str] = dataclasses.field(default_factory=list)
    """One line for each conversion of the datapath whose C++ result is undefined (the
    headers' ap_fixed -> ap_int conversion of a source with I < 0; see README, "Header
    behaviours worth knowing"); empty for the seed."""

    def __post_init__(self) -> None:
        if self.geometry is None:
            self.geometry = KINDS[self.kernel].geometry()

    @property
    def spec(self) -> Kind:
        """The kind's registry entry."""
        return KINDS[self.kernel]

    def run(self, checked: bool = False) -> KernelResult:
        """Run the kernel twin on this layer's buffers (the layer's arrays are not changed).
        ``checked``: the arrays are known raws of their types (skip the range checks)."""
        from hls_sim.kernels import common

        return common.run(self.spec, self.geometry, self.config, self.input, self.top,
                          self.weight, self.bias, self.factor, self.input2, checked)

    @property
    def second(self) -> np.ndarray | None:
        """The second operand of the kind's exact sums: the weight, or input2 (merge kinds)."""
        return self.input2 if self.spec.has("input2") else self.weight


# ---- loading ---------------------------------------------------------------------------------
def load_layer(path: str | Path) -> Layer:
    """Read and validate a layer file; relative data paths are taken from its folder."""
    return parse_layer(read_yaml(path), str(path), Path(path).parent)


def read_yaml(path: str | Path) -> Any:
    """The parsed YAML of a layer or network file (at most MAX_LAYER_FILE_BYTES, duplicate
    keys refused); LayerError naming the file otherwise."""
    p = Path(path)
    shown = str(path)
    too_big = (f"file is more than {MAX_LAYER_FILE_BYTES} bytes; a layer file is a few lines of "
               "YAML (put arrays in .npy files)")
    try:
        with open_regular(p) as f:
            text = f.read(MAX_LAYER_FILE_BYTES + 1)  # never more, whatever the size says
    except FileNotFoundError:
        raise LayerError(shown, "", f"file not found (looked in {p.absolute().parent})") from None
    except NotRegularError as e:
        raise LayerError(shown, "", f"{e.what}, not a layer file") from None
    except OSError as e:
        raise LayerError(shown, "", f"cannot read: {e.strerror or e}") from None
    if len(text) > MAX_LAYER_FILE_BYTES:
        raise LayerError(shown, "", too_big)
    return _yaml(text, shown)


class NotRegularError(OSError):
    """A path that is not a regular file (a folder, a device, a FIFO, a socket): ``what``."""

    def __init__(self, what: str):
        super().__init__(what)
        self.what = what


def _kind_of(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "is a directory"
    if stat.S_ISFIFO(mode):
        return "is a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "is a device"
    if stat.S_ISSOCK(mode):
        return "is a socket"
    return "is not a regular file"


def open_regular(path: str | Path):  # noqa: ANN201 - a binary file object
    """Open ``path`` for reading only if it is a regular file (symbolic links followed).

    Checked before opening (a FIFO would block the open, a device never ends) and again on
    the open file (the path could change in between; the open does not block). Raises
    :class:`NotRegularError` (``.what``: "is a directory", "is a FIFO (named pipe)", ...),
    or the OSError of the stat or the open.
    """
    mode = os.stat(path).st_mode
    if not stat.S_ISREG(mode):
        raise NotRegularError(_kind_of(mode))
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotRegularError(_kind_of(mode))
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


class ArrayFileError(ValueError):
    """A ``.npy``/``.npz`` file that cannot be used: ``reason`` (one line, without the file's
    name) and ``about``: ``"read"`` (not readable as an array), ``"choose"`` (a .npz of several
    arrays and no key) or ``"key"`` (the .npz has no such array)."""

    def __init__(self, reason: str, about: str = "read"):
        super().__init__(reason)
        self.reason, self.about = reason, about


def _npy_header(fp: Any) -> tuple[tuple[int, ...], bool, np.dtype]:
    """Shape, Fortran order and dtype from a .npy header; ``fp`` is left at the data."""
    from numpy.lib import format as npy

    try:
        version = npy.read_magic(fp)
    except ValueError:
        raise ArrayFileError("not a valid .npy file (it does not start with the .npy "
                             "signature)") from None
    if version not in ((1, 0), (2, 0), (3, 0)):
        raise ArrayFileError(f"not a valid .npy file (unknown format version "
                             f"{version[0]}.{version[1]})")
    try:
        read = npy.read_array_header_1_0 if version == (1, 0) else npy.read_array_header_2_0
        shape, fortran, dtype = read(fp)  # 3.0 differs from 2.0 only in a UTF-8 header
    except (ValueError, TypeError, SyntaxError, UnicodeDecodeError) as e:
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise ArrayFileError(f"not a valid .npy file (its header is damaged: {first})") from None
    if not all(isinstance(n, int) and n >= 0 for n in shape):
        raise ArrayFileError(f"not a valid .npy file (its header gives the shape {shape})")
    return tuple(shape), bool(fortran), dtype


def _npy_data(fp: Any, shape: tuple[int, ...], fortran: bool, dtype: np.dtype,
              available: int) -> np.ndarray:
    """The data after a .npy header: exactly the bytes the header's shape needs."""
    n = math.prod(shape) * dtype.itemsize
    short = (f"truncated: its header gives shape {_dims(shape)} of {dtype} ({n} bytes of "
             "data), the file holds fewer")
    if available < n:
        raise ArrayFileError(short)
    buf = bytearray(n)
    view, got = memoryview(buf), 0
    while got < n:
        k = fp.readinto(view[got:])
        if not k:
            raise ArrayFileError(short)
        got += k
    arr = np.frombuffer(buf, dtype=dtype)
    if fortran:
        return arr.reshape(shape[::-1]).transpose()
    return arr.reshape(shape)


def read_array(path: str | Path, key: str | None = None, check: Any = None, *,
               header_only: bool = False) -> tuple[Any, str | None]:
    """An array from a ``.npy`` file, or from the array ``key`` of a ``.npz`` file (``key``
    may be left out when it holds one array); which by the file's suffix.

    Only the array's header is read before ``check(shape, dtype, key)`` (which raises to
    refuse), so a wrong shape or dtype is refused before any data is read or decompressed;
    then exactly the bytes the shape needs. ``header_only``: return the shape, read no data.
    Returns ``(array or shape, key)``. Raises :class:`ArrayFileError` for a file that is not a
    valid .npy/.npz (pickled Python objects included: never loaded), :class:`NotRegularError`
    and OSError; zip and zlib errors as they come.
    """
    def member(fp: Any, k: str | None, size: int) -> Any:
        shape, fortran, dtype = _npy_header(fp)
        if dtype.hasobject:
            raise ArrayFileError("it holds Python objects (pickled data), which hls-sim does "
                                 "not load")
        if check is not None:
            check(shape, dtype, k)
        if header_only:
            return shape
        # the file's size (a .npz member's declared size): whether the data can all be there,
        # before a buffer for it is made (a member that declares more is still read only so far)
        return _npy_data(fp, shape, fortran, dtype, size - fp.tell())

    with open_regular(path) as f:
        if Path(path).suffix.lower() != ".npz":
            return member(f, None, os.fstat(f.fileno()).st_size), None
        try:
            z = zipfile.ZipFile(f)
        except zipfile.BadZipFile:
            raise ArrayFileError("not a valid .npz file (not a zip archive)") from None
        with z:
            infos = {(i.filename[:-4] if i.filename.endswith(".npy") else i.filename): i
                     for i in z.infolist()}
            keys = list(infos)
            if key is None:
                if len(keys) != 1:
                    raise ArrayFileError(f"holds {len(keys)} arrays ({', '.join(keys) or 'none'})",
                                         "choose")
                key = keys[0]
            elif key not in infos:
                raise ArrayFileError(f"has no array {key!r} (it has: {', '.join(keys) or 'none'})",
                                     "key")
            with z.open(infos[key]) as m:
                try:
                    return member(m, key, infos[key].file_size), key
                except ArrayFileError as e:
                    raise ArrayFileError(f"array {key!r}: {e.reason}") from None


def parse_layer(data: Any, file: str = "<layer>", base_dir: str | Path = ".") -> Layer:
    """Validate an already-parsed layer mapping (as from YAML); data paths are relative to
    ``base_dir``. Raises :class:`LayerError` naming ``file``."""
    return _Parser(file, Path(base_dir)).layer(data)


class _UniqueKeyLoader:
    """Built lazily: a SafeLoader that refuses duplicate keys (a silent overwrite otherwise).

    Merge keys (``<<: *defaults``, ``<<: [*a, *b]``) work as YAML specifies: the mapping's own
    keys override the merged ones (PyYAML's ``flatten_mapping``), so only the keys written in
    the mapping itself are checked for duplicates (and ``<<`` itself, once per mapping).
    """

    cls = None
    MERGE_TAG = "tag:yaml.org,2002:merge"

    @classmethod
    def get(cls):  # noqa: ANN206
        if cls.cls is None:
            import yaml

            class Loader(yaml.SafeLoader):
                pass

            def construct_mapping(loader, node, deep=False):  # noqa: ANN001, ANN202
                seen: dict[Any, Any] = {}
                merges = [k for k, _ in node.value if k.tag == cls.MERGE_TAG]
                if len(merges) > 1:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"duplicate key '<<' (first on line {merges[0].start_mark.line + 1}; "
                                    "merge several mappings with <<: [*a, *b])", merges[1].start_mark)
                for key_node, _ in node.value:
                    if key_node.tag == cls.MERGE_TAG:
                        continue  # merged by flatten_mapping below; the keys here override it
                    key = loader.construct_object(key_node, deep=deep)
                    try:
                        hash(key)
                    except TypeError:
                        continue  # let PyYAML report unhashable keys its own way
                    if key in seen:
                        m = key_node.start_mark
                        raise yaml.constructor.ConstructorError(
                            None, None, f"duplicate key {key!r} (first on line "
                                        f"{seen[key].line + 1})", m)
                    seen[key] = key_node.start_mark
                return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)

            Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
            cls.cls = Loader
        return cls.cls


def _yaml(text: bytes, file: str) -> Any:
    import yaml

    try:
        return yaml.load(text, Loader=_UniqueKeyLoader.get())  # noqa: S506 - a SafeLoader
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        what = e.problem or e.context or "malformed YAML"
        ctx = f" ({e.context})" if e.context and e.problem else ""
        raise LayerError(file, where, f"malformed YAML: {what}{ctx}") from None
    except yaml.YAMLError as e:
        raise LayerError(file, "", f"malformed YAML: {e}") from None
    except (RecursionError, MemoryError):
        raise LayerError(file, "", "malformed YAML: nested too deeply or too large") from None


FLOAT_MAX_INT_BITS = 1024  # a float64 ends at 2**1024 ...
FLOAT_MAX_FRAC_BITS = 1074  # ... and its smallest number is 2**-1074
LSB_UNITS_MAX_BITS = 400  # a type's LSB in LSBs of out_t: see lsb_units_problem


def float_range_problem(fmt: Format) -> str | None:
    """Why a layer cannot use ``fmt`` (None: it can): the reference, the summaries and the
    report compute in float64, so every type's values and LSB must be float64 numbers."""
    if fmt.int_bits > FLOAT_MAX_INT_BITS:
        return (f"{fmt.int_bits} integer bits: its values reach 2**{fmt.int_bits}, beyond a "
                f"float64 (up to 2**{FLOAT_MAX_INT_BITS}), in which hls-sim computes the "
                f"reference and the report; use at most {FLOAT_MAX_INT_BITS} integer bits")
    if fmt.frac_bits > FLOAT_MAX_FRAC_BITS:
        return (f"{fmt.frac_bits} fraction bits: its LSB 2**-{fmt.frac_bits} is below the "
                f"smallest float64 (2**-{FLOAT_MAX_FRAC_BITS}), in which hls-sim computes the "
                f"reference and the report; use at most {FLOAT_MAX_FRAC_BITS} fraction bits")
    return None


def lsb_units_problem(config: KernelConfig) -> str | None:
    """Why a layer cannot use these types together (None: it can): the reference and the
    report count in LSBs of out_t, in float64, so no type's LSB may be too far from out_t's:
    at most 2**400 of them (raws of up to 64 bits then stay below 2**464, whose squares, summed,
    are float64 numbers) and at least the smallest float64."""
    out = config.out_t
    fo = out.frac_bits
    for n, t in config.named_types():
        shift = fo - t.frac_bits  # t's LSB is 2**shift LSBs of out_t
        if shift > LSB_UNITS_MAX_BITS or -shift > FLOAT_MAX_FRAC_BITS:
            return (f"the LSB of {n} {t} is 2**{shift} LSBs of out_t {out}, the unit in which "
                    "the reference and the report compute (and square) errors in float64; "
                    f"keep it within 2**-{FLOAT_MAX_FRAC_BITS} .. 2**{LSB_UNITS_MAX_BITS} (the "
                    "two types' fraction bits closer together)")
    return None


def _typename(x: Any) -> str:
    if x is None:
        return "nothing (null)"
    if isinstance(x, bool):
        return f"a boolean ({str(x).lower()})"
    if isinstance(x, dict):
        return "a mapping"
    if isinstance(x, list):
        return "a list"
    if isinstance(x, str):
        return f"the text {x!r}" if len(x) <= 60 else f"a text of {len(x)} characters"
    if isinstance(x, (int, float)):
        return f"the number {x!r}"
    return type(x).__name__


def _index(flat: int, shape: tuple[int, ...]) -> str:
    return str(list(int(i) for i in np.unravel_index(flat, shape))) if shape else "[]"


def _dims(shape: tuple[int, ...]) -> str:
    return "".join(f"[{n}]" for n in shape) if shape else "a scalar"


class _Parser:
    def __init__(self, file: str, base: Path):
        self.file, self.base = file, base

    def err(self, fld: str, reason: str) -> LayerError:
        return LayerError(self.file, fld, reason)

    def check_keys(self, d: dict, allowed: tuple[str, ...], where: str) -> None:
        for k in d:
            if not isinstance(k, str):
                raise self.err(where or "", f"key {k!r} is not a name")
            if k not in allowed:
                close = difflib.get_close_matches(k, allowed, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise self.err(f"{where}.{k}" if where else k,
                               f"unknown key{hint}; expected one of: {', '.join(allowed)}")

    # ---- the whole file -----------------------------------------------------------------
    def layer(self, data: Any) -> Layer:
        if data is None:
            raise self.err("", "the file is empty; expected a mapping with kernel:, factor:, "
                               "weight:, bias:, input:")
        if not isinstance(data, dict):
            raise self.err("", f"expected a mapping of fields (kernel:, types:, ...), got "
                               f"{_typename(data)}")
        self.check_keys(data, TOP_KEYS, "")
        if "kernel" not in data:
            raise self.err("kernel", f"missing; expected one of {', '.join(KINDS)}")
        kernel = data["kernel"]
        if not isinstance(kernel, str) or kernel not in KINDS:
            raise self.err("kernel", f"expected one of {', '.join(KINDS)}, got {_typename(kernel)}")
        kind = KINDS[kernel]
        fl = data.get("float")
        required = REQUIRED_KEYS if kind.epilogue else ("kernel",) + tuple(
            t.role for t in kind.tensors if t.role != "top")
        for k in required:
            if k not in data:
                if k == "input" and isinstance(fl, dict) and "input" in fl and "input_scale" in fl:
                    continue  # quantized from float.input below
                raise self.err(k, "missing (required: " + ", ".join(required) + ")"
                               + ("; or float.input with float.input_scale" if k == "input" else ""))
        for k in ("factor", "weight", "bias", "per_channel_factor", "float"):
            if not kind.epilogue and k in data:
                raise self.err(k, f"kind {kernel} has no weight, bias or factor (it ends in no "
                                  "epilogue; leave the key out)")
        if "input2" in data and not kind.has("input2"):
            raise self.err("input2", f"kind {kernel} has one input (only {_two_input_kinds()} "
                                     "read a second one; leave the key out)")
        if "top" in data and not kind.seed:
            raise self.err("top", f"kind {kernel} writes its whole output; it reads no initial "
                                  "top (leave the key out)")
        name = self.text(data, "name", single_line=True)
        if name is not None and not _NAME.fullmatch(name):
            raise self.err("name", f"{name!r}: use 1 to 64 letters, digits, '_', '-', '.' "
                                   "(it may name files and generated code)")
        description = self.text(data, "description", single_line=False)
        config = self.config(data)
        geom = self.geometry(kind, data, config)
        problem = kind.engine_types_problem(geom, config)
        if problem:
            raise self.err(f"types.{problem[0]}", problem[1])
        if "in2_t" in (data.get("types") or {}) and not kind.has("input2"):
            raise self.err("types.in2_t", f"the second input's type, but kind {kernel} has one "
                                          f"input (only {_two_input_kinds()} read a second one)")
        c = config
        factor = weight = bias = None
        sources: dict[str, str] = {}
        if kind.epilogue:
            factor, sources["factor"], per_channel = self.factor(data["factor"], config, data,
                                                                geom.out_channels)
            if per_channel != config.per_channel_factor:
                config = c = dataclasses.replace(config, per_channel_factor=per_channel)
            weight, sources["weight"] = self.array(data["weight"], "weight", c.weight_t,
                                                   {geom.shape("weight"): None})
            bias, sources["bias"] = self.array(data["bias"], "bias", c.bias_t,
                                               {geom.shape("bias"): None})
        float_model = self.float_model(data["float"], kind, geom) if "float" in data else None
        in_shapes = {BUFFER: None, TILE: "tile"} if kind.seed else {geom.shape("input"): None}
        if len(kind.input_dims) == 1:  # a vector kind: its [C] file as hls-sim's [C][1][1]
            in_shapes[geom.shape("input")[:1]] = "vector"
        if "input" in data:
            bottom, sources["input"] = self.array(data["input"], "input", c.in_t, in_shapes,
                                                  buffer=True)
        else:
            bottom, sources["input"] = _quantize_input(float_model, c.in_t)
        input2 = None
        if kind.has("input2"):
            input2, sources["input2"] = self.array(data["input2"], "input2", c.in2_t,
                                                   {geom.shape("input2"): None})
        if "top" in data:
            top, sources["top"] = self.array(data["top"], "top", c.out_t, {BUFFER: None}, buffer=True)
        else:
            top, sources["top"] = _zeros(c.out_t, geom.shape("top")), "zeros (default)"
        return Layer(self.file, kernel, config, bottom, weight, bias, factor, top, name,
                     description, sources,
                     tuple(k for k in ("top", "name", "description", "float") if k in data),
                     float_model, geom, input2, getattr(self, "factor_requested", None),
                     undefined_conversions(config.plan()))

    def geometry(self, kind: Kind, data: dict, config: KernelConfig) -> Geometry:
        """The kind's parameters from the file's top-level keys; the input's channels and
        size from its file when the keys are left out."""
        for k in PARAM_KEYS:
            if k in data and k not in kind.param_names:
                raise self.err(k, f"not a parameter of kind {kind.name}"
                                  + (f" (it has: {', '.join(kind.param_names)})" if kind.params
                                     else " (it has none)"))
        params = {k: data[k] for k in kind.param_names if k in data}
        for role, dims in (kind.file_dims if not kind.seed else ()):
            if isinstance(data.get(role), Feed):
                self.dims_from_shape(data[role].shape, data[role].source, role, dims, params)
            elif isinstance(data.get(role), dict) and "file" in data[role]:
                self.dims_from_file(data[role], role, dims, params)
        try:
            geom = kind.geometry(params)
            if "activation" in geom.params:
                from hls_sim.kernels.conv2d import clip_raw

                clip_raw(config.out_t, geom)
            return geom
        except ValueError as e:
            fld, _, reason = str(e).partition(": ")
            raise self.err(fld, reason) from None

    def dims_from_file(self, node: dict, role: str, dims: tuple[str, ...], params: dict) -> None:
        """Fill in the parameters ``dims`` from the shape of the file ``node`` (of ``role``);
        a parameter the file also gives must agree with it."""

        # only the header: the data is read (and its shape checked again) by self.array
        shape, src = self.load(node, role, header_only=True)
        self.dims_from_shape(shape, src, role, dims, params)

    def dims_from_shape(self, shape: tuple[int, ...], src: str, role: str,
                        dims: tuple[str, ...], params: dict) -> None:
        """Fill in the parameters ``dims`` from ``shape``, the shape of ``src`` (the ``role``
        input); a parameter also given must agree with it."""
        if len(dims) == 1 and len(shape) == 3 and shape[1:] == (1, 1):
            shape = shape[:1]
        if len(shape) != len(dims):
            want = "a feature map [C][H][W]" if len(dims) == 3 else "a vector [C] (or [C][1][1])"
            raise self.err(role, f"{src} has shape {_dims(shape)}; expected {want}")
        for d, n in zip(dims, shape):
            if d in params and params[d] != n:
                if role == "input":
                    raise self.err(d, f"{params[d]!r}, but the input ({src}) has shape {_dims(shape)}")
                raise self.err(role, f"{src} has shape {_dims(shape)}, but {d} is {params[d]!r} "
                                     "(the input's, or the key's)")
            params.setdefault(d, int(n))

    def text(self, data: dict, key: str, single_line: bool) -> str | None:
        if key not in data or data[key] is None:
            return None
        v = data[key]
        if not isinstance(v, str):
            raise self.err(key, f"expected text, got {_typename(v)}")
        allowed = "" if single_line else "\n\t"
        bad = [ch for ch in v if (ord(ch) < 32 and ch not in allowed) or ord(ch) == 127]
        if bad:
            raise self.err(key, f"contains the control character {bad[0]!r}")
        return v

    # ---- types and switches ---------------------------------------------------------------
    def config(self, data: dict) -> KernelConfig:
        types = data.get("types")
        if types is None:
            types = {}
        if not isinstance(types, dict):
            raise self.err("types", f"expected a mapping of type names (in_t: ap_uint<8>, ...), "
                                    f"got {_typename(types)}")
        self.check_keys(types, CONFIG_TYPES, "types")
        fmts: dict[str, Any] = {}
        for n, v in types.items():
            fmts[n] = self.spelling(v, f"types.{n}")
            problem = float_range_problem(fmts[n])
            if problem:
                raise self.err(f"types.{n}", f"{v!r}: {problem}")
        switches: dict[str, bool] = {}
        for n in ("relu_clip", "per_channel_factor"):
            if n in data:
                v = data[n]
                if isinstance(v, bool):
                    switches[n] = v
                elif isinstance(v, int) and v in (0, 1):
                    switches[n] = bool(v)
                else:
                    raise self.err(n, f"expected true or false (or 1 or 0), got {_typename(v)}")
        try:
            config = KernelConfig(**fmts, **switches)
        except ValueError as e:
            raise self.err("types", str(e)) from None
        problem = lsb_units_problem(config)
        if problem:
            raise self.err("types", problem)
        try:  # every expression's width: what the headers can build
            config.plan()
        except WidthError as e:
            raise self.err(f"types.{e.type_name}", e.reason) from None
        except ValueError as e:
            raise self.err("types", str(e)) from None
        return config

    def spelling(self, v: Any, fld: str) -> Format:
        if not isinstance(v, str):
            raise self.err(fld, f"expected a C++ type spelling such as 'ap_int<32>', got {_typename(v)}")
        if not _SPELLING_CHARS.fullmatch(v):
            ch = next(c for c in v if not _SPELLING_CHARS.fullmatch(c))
            raise self.err(fld, f"{v!r} contains {ch!r}, which cannot appear in a type spelling "
                                "(ap_int<W>, ap_uint<W>, ap_fixed<W,I,Q,O,N>, ap_ufixed<...>)")
        try:
            return parse(v)
        except ValueError as e:
            raise self.err(fld, str(e)) from None

    # ---- the factor -----------------------------------------------------------------------
    def factor(self, node: Any, c: KernelConfig, data: dict,
               channels: int = CHANNELS) -> tuple[np.ndarray, str, bool]:
        """The factor's raw integers, a description, and whether it is per channel."""
        self.channels = channels
        self.factor_requested = None  # the values asked for, when the file gives numbers
        fmt = c.factor_t
        explicit = "per_channel_factor" in data
        if isinstance(node, dict):
            self.check_keys(node, ("raw", "file", "key"), "factor")
            if len(node) == 1 and "raw" in node:
                raw = self.raw_numbers(node["raw"], "factor.raw", fmt)
                src = "raw"
            else:
                if "raw" in node:
                    raise self.err("factor", "{raw: ...} takes no other keys")
                raw, src = self.array(node, "factor", fmt, {(): None, (channels,): None},
                                      generate=False)
        elif isinstance(node, list):
            values = [self.number(v, f"factor[{i}]") for i, v in enumerate(node)]
            if len(values) != channels:
                raise self.err("factor", f"a per-channel factor needs {channels} numbers, got {len(values)}")
            raw, src = self.quantize(values, fmt, "factor")
            self.factor_requested = np.array(values, dtype=np.float64)
        else:
            raw, src = self.quantize([self.number(node, "factor")], fmt, "factor")
            raw = raw.reshape(())
            self.factor_requested = np.array(self.number(node, "factor"), dtype=np.float64)
        per_channel = raw.ndim == 1
        if explicit and per_channel != c.per_channel_factor:
            if c.per_channel_factor:
                raise self.err("factor", f"per_channel_factor is true, so factor must give "
                                         f"{channels} factors (a list, or raw/file of shape "
                                         f"[{channels}]); got one")
            raise self.err("factor", f"{channels} factors given but per_channel_factor is false "
                                     "(set it to true, or leave it out)")
        return raw, src, per_channel

    def number(self, v: Any, fld: str) -> float:
        v = _float_text(v)
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise self.err(fld, f"expected a number, a list of {getattr(self, 'channels', CHANNELS)} "
                                f"numbers, {{raw: ...}} or {{file: ...}}, got {_typename(v)}")
        if isinstance(v, float) and math.isnan(v):
            raise self.err(fld, "NaN is not a number")
        if isinstance(v, float) and math.isinf(v):
            raise self.err(fld, "infinity has no fixed-point value")
        try:
            return float(v)
        except OverflowError:
            raise self.err(fld, f"{v} is too large for a float64") from None

    def quantize(self, values: list[float], fmt: Format, fld: str) -> tuple[np.ndarray, str]:
        q = fmt.quantize(values)
        over = np.flatnonzero(q.overflowed.ravel())
        if over.size:
            i = int(over[0])
            where = f"[{i}]" if len(values) > 1 else ""
            raise self.err(fld + where, f"{values[i]!r} is outside the range of {fmt} "
                                        f"({fmt.min_value!r} .. {fmt.max_value!r})")
        n_round = int(q.rounded.sum())
        if len(values) == 1:
            got = float(q.to_float().ravel()[0])
            note = f"rounded to {got!r}" if n_round else "exact"
            src = f"{values[0]!r} ({note})"
        else:
            src = f"{len(values)} values, {n_round} rounded" if n_round else f"{len(values)} values, exact"
        return q.raw, src

    def raw_numbers(self, v: Any, fld: str, fmt: Format) -> np.ndarray:
        items = v if isinstance(v, list) else [v]
        for i, x in enumerate(items):
            if isinstance(x, bool) or not isinstance(x, int):
                where = f"[{i}]" if isinstance(v, list) else ""
                raise self.err(fld + where, f"expected a raw integer of {fmt}, got {_typename(x)}")
        n = getattr(self, "channels", CHANNELS)
        if isinstance(v, list) and len(items) != n:
            raise self.err(fld, f"a per-channel factor needs {n} raw integers, got {len(items)}")
        arr = np.empty(len(items), dtype=object)
        arr[:] = items
        return self.checked(arr if isinstance(v, list) else arr.reshape(()), fld, fmt)

    # ---- the float model -------------------------------------------------------------------
    def float_model(self, node: Any, kind: Kind, geom: Geometry) -> FloatModel:
        """The ``float:`` block: float weight, bias, input and the two scales."""
        if not isinstance(node, dict):
            raise self.err("float", "expected a mapping (weight:, bias:, input:, input_scale:, "
                                    f"output_scale:), got {_typename(node)}")
        self.check_keys(node, FLOAT_KEYS, "float")
        for k in ("weight", "output_scale"):
            if k not in node:
                raise self.err(f"float.{k}", "missing (the float model needs float.weight and "
                                             "float.output_scale)")
        if "input" not in node and "input_scale" not in node:
            raise self.err("float.input_scale", "missing: give float.input_scale (the real value "
                                                "of one unit of in_t) or a float input, float.input")
        sources: dict[str, str] = {}
        weight, sources["weight"] = self.float_array(node["weight"], "float.weight",
                                                     {geom.shape("weight"): None})
        bias = inp = None
        if "bias" in node:
            bias, sources["bias"] = self.float_array(node["bias"], "float.bias",
                                                     {geom.shape("bias"): None})
        if "input" in node:
            shapes = {BUFFER: None, TILE: "tile"} if kind.seed else {geom.shape("input"): None}
            if len(kind.input_dims) == 1:  # a vector kind: [C] as well as [C][1][1]
                shapes[geom.shape("input")[:1]] = "vector"
            inp, sources["input"] = self.float_array(node["input"], "float.input", shapes)
        out_scale = self.scale(node["output_scale"], "float.output_scale")
        in_scale = self.scale(node["input_scale"], "float.input_scale") if "input_scale" in node else None
        return FloatModel(weight, out_scale, bias, inp, in_scale, sources)

    def scale(self, v: Any, fld: str) -> float:
        v = _float_text(v)
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise self.err(fld, f"expected a positive number, got {_typename(v)}")
        try:
            f = float(v)
        except OverflowError:
            raise self.err(fld, f"{v} is too large for a float64") from None
        if not math.isfinite(f) or f <= 0:
            raise self.err(fld, f"expected a positive finite number, got {v!r}")
        return f

    def float_array(self, node: Any, fld: str,
                    shapes: dict[tuple[int, ...], str | None]) -> tuple[np.ndarray, str]:
        """Real values (float64) from ``{file: x.npy}`` / ``{file: x.npz, key: name}``."""
        if not isinstance(node, dict):
            raise self.err(fld, f"expected {{file: x.npy}} or {{file: x.npz, key: name}}, got "
                                f"{_typename(node)}")
        self.check_keys(node, ("file", "key"), fld)
        if "file" not in node:
            raise self.err(fld, "expected {file: x.npy} or {file: x.npz, key: name}")

        def check(shape: tuple[int, ...], dtype: np.dtype, src: str) -> None:
            if dtype.kind not in "fiu" or dtype.itemsize > 8:
                raise self.err(fld, f"{src} holds {dtype} data; expected real numbers (floats)")
            self.check_shape(shape, shapes, fld, src)

        arr, src = self.load(node, fld, check)  # the data is read only after check passed
        shape = tuple(arr.shape)
        a = np.asarray(arr, dtype=np.float64)
        bad = ~np.isfinite(a)
        if bad.any():
            i = int(np.flatnonzero(bad.ravel())[0])
            raise self.err(fld, f"{src}: {int(bad.sum())} value(s) are NaN or infinite (first at "
                                f"index {_index(i, shape)})")
        if shapes[shape] == "vector":
            return a.reshape(-1, 1, 1), f"{src} (a vector, held as {_dims(a.shape + (1, 1))})"
        if shapes[shape] == "tile":
            padded = np.zeros(BUFFER, dtype=np.float64)
            padded[:, 1:1 + TILE_H, 1:1 + TILE_W] = a
            return padded, f"{src} (tile {_dims(shape)}, padded with a zero halo)"
        return np.ascontiguousarray(a), src

    # ---- arrays ---------------------------------------------------------------------------
    def array(self, node: Any, fld: str, fmt: Format, shapes: dict[tuple[int, ...], str | None],
              buffer: bool = False, generate: bool = True) -> tuple[np.ndarray, str]:
        """Raw integers from ``{file: ..}`` / ``{file: .., key: ..}`` / ``{generate: {..}}``."""
        forms = "{file: x.npy}, {file: x.npz, key: name}" + (" or {generate: {seed: 1, ...}}"
                                                              if generate else "")
        if isinstance(node, Feed):
            self.check_shape(node.shape, shapes, fld, node.source)
            if node.fmt != fmt:
                raise self.err(fld, f"{node.source} is {node.fmt}; this layer reads {fmt}")
            arr = node.array if node.array is not None else np.broadcast_to(
                np.zeros((), dtype=np.int64 if fmt.fits_int64 else object), node.shape)
            if shapes[node.shape] == "vector":
                return arr.reshape(-1, 1, 1), node.source
            return arr, node.source
        if not isinstance(node, dict):
            raise self.err(fld, f"expected {forms}, got {_typename(node)}")
        self.check_keys(node, SOURCE_KEYS if generate else ("file", "key"), fld)
        if "generate" in node:
            if "file" in node or "key" in node:
                raise self.err(fld, "give either file: or generate:, not both")
            shape = next(s for s, kind in shapes.items() if kind is None)
            return self.generated(node["generate"], f"{fld}.generate", fmt, shape, buffer)
        if "file" not in node:
            raise self.err(fld, f"expected {forms}")

        def check(shape: tuple[int, ...], dtype: np.dtype, src: str) -> None:
            if dtype.kind not in "iu":
                what = "floats" if dtype.kind == "f" else f"{dtype} data"
                raise self.err(fld, f"{src} holds {what}; expected the raw integers of {fmt} "
                                    f"(e.g. {fmt}.quantize(values).raw, saved as an integer array)")
            self.check_shape(shape, shapes, fld, src)

        arr, src = self.load(node, fld, check)  # the data is read only after check passed
        shape = tuple(arr.shape)
        raw = self.checked(arr, fld, fmt)
        if shapes[shape] == "vector":
            return raw.reshape(-1, 1, 1), f"{src} (a vector, held as {_dims(raw.shape + (1, 1))})"
        if shapes[shape] == "tile":
            padded = _zeros(fmt, BUFFER)
            padded[:, 1:1 + TILE_H, 1:1 + TILE_W] = raw
            return padded, f"{src} (tile {_dims(shape)}, padded with a zero halo)"
        return raw, src

    def check_shape(self, shape: tuple[int, ...], shapes: dict[tuple[int, ...], str | None],
                    fld: str, src: str) -> None:
        if shape not in shapes:
            want = " or ".join(_dims(s) + (" (the tile; padded here with a zero halo)"
                                           if kind == "tile" else "") for s, kind in shapes.items())
            raise self.err(fld, f"{src} has shape {_dims(shape)}; expected {want}")

    def load(self, node: dict, fld: str, check: Any = None,
             header_only: bool = False) -> tuple[Any, str]:
        """The array of ``{file: ..}`` / ``{file: .., key: ..}`` and its description.

        ``check(shape, dtype, src)`` sees the array's header before any of its data is read
        (it raises to refuse); ``header_only``: return the shape, read no data.
        """
        name = node["file"]
        if not isinstance(name, str) or not name:
            raise self.err(f"{fld}.file", f"expected a file name, got {_typename(name)}")
        if "\x00" in name:
            raise self.err(f"{fld}.file", "file name contains a NUL character")
        key = node.get("key")
        path = self.base / name
        suffix = path.suffix.lower()
        if suffix not in (".npy", ".npz"):
            raise self.err(f"{fld}.file", f"{name!r}: expected a .npy or .npz file")
        if key is not None and suffix != ".npz":
            raise self.err(f"{fld}.key", "key: names an array inside a .npz file; "
                                         f"{name!r} is a .npy file")
        if key is not None and not isinstance(key, str):
            raise self.err(f"{fld}.key", f"expected an array name, got {_typename(key)}")
        where = f"(looked in {path.absolute().parent})"

        def src_of(k: str | None) -> str:
            return f"file {name!r}" if k is None else f"file {name!r}, key {k!r}"

        def on_header(shape: tuple[int, ...], dtype: np.dtype, k: str | None) -> None:
            if check is not None:
                check(shape, dtype, src_of(k))

        try:
            arr, key = read_array(path, key, on_header, header_only=header_only)
            return arr, src_of(key)
        except LayerError:
            raise
        except FileNotFoundError:
            raise self.err(fld, f"file {name!r} not found {where}") from None
        except NotRegularError as e:
            raise self.err(fld, f"file {name!r} {e.what}, not a .npy/.npz file {where}") from None
        except ArrayFileError as e:
            if e.about == "choose":
                raise self.err(fld, f"file {name!r} {e.reason}; say which with key:") from None
            if e.about == "key":
                raise self.err(f"{fld}.key", f"file {name!r} {e.reason}") from None
            raise self.err(fld, f"cannot read file {name!r}: {e.reason}") from None
        except OSError as e:
            raise self.err(fld, f"cannot read file {name!r}: {e.strerror or e}") from None
        except Exception as e:  # noqa: BLE001 - zip and zlib raise many kinds; report in one line
            reason = str(e).splitlines()[0] if str(e) else type(e).__name__
            raise self.err(fld, f"cannot read file {name!r}: {reason}") from None

    def checked(self, arr: np.ndarray, fld: str, fmt: Format) -> np.ndarray:
        """``arr`` as stored raws of ``fmt``; refuses the first value that does not fit."""
        lo, hi = fmt.min_raw, fmt.max_raw
        if arr.dtype.kind in "iu":
            info = np.iinfo(arr.dtype)
            bad = np.zeros(arr.shape, dtype=bool)
            if lo > info.min:
                bad |= arr < lo
            if hi < info.max:
                bad |= arr > hi
        else:
            bad = np.array([not lo <= int(v) <= hi for v in arr.flat], dtype=bool).reshape(arr.shape)
        n_bad = int(np.count_nonzero(bad))
        if n_bad:
            i = int(np.flatnonzero(bad.ravel())[0])
            more = f"; {n_bad - 1} more value(s) out of range" if n_bad > 1 else ""
            at = f" at index {_index(i, arr.shape)}" if arr.shape else ""
            raise self.err(fld, f"value {int(arr.ravel()[i])}{at} does not fit {fmt} "
                                f"(range {lo}..{hi}){more}")
        return _storage(fmt, arr)

    def generated(self, g: Any, fld: str, fmt: Format, shape: tuple[int, ...],
                  buffer: bool) -> tuple[np.ndarray, str]:
        if not isinstance(g, dict):
            raise self.err(fld, f"expected a mapping such as {{seed: 1, distribution: uniform}}, "
                                f"got {_typename(g)}")
        allowed = GENERATE_KEYS if buffer else tuple(k for k in GENERATE_KEYS if k != "halo")
        self.check_keys(g, allowed, fld)
        if "seed" not in g:
            raise self.err(f"{fld}.seed", "missing (an integer >= 0, so the data is reproducible)")
        seed = g["seed"]
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise self.err(f"{fld}.seed", f"expected an integer >= 0, got {_typename(seed)}")
        dist = g.get("distribution", "uniform")
        if dist not in DISTRIBUTIONS:
            raise self.err(f"{fld}.distribution", f"expected one of {', '.join(DISTRIBUTIONS)}, "
                                                  f"got {_typename(dist)}")
        normal = dist == "normal"
        if not normal:
            for k in ("mean", "std"):
                if k in g:
                    raise self.err(f"{fld}.{k}", "mean and std are for distribution: normal")
        cap = NORMAL_BOUND if normal else 1 << 63
        lo = self.gen_int(g, "low", fld, fmt, max(fmt.min_raw, -cap), cap)
        hi = self.gen_int(g, "high", fld, fmt, min(fmt.max_raw, cap - 1), cap)
        if lo > hi:
            raise self.err(f"{fld}.low", f"low ({lo}) is above high ({hi})")
        halo = g.get("halo", "random")
        if halo not in ("random", "zeros"):
            raise self.err(f"{fld}.halo", f"expected random or zeros, got {_typename(halo)}")
        rng = np.random.default_rng(seed)
        if normal:
            if "std" not in g:
                raise self.err(f"{fld}.std", "missing (distribution: normal needs std)")
            mean = self.gen_float(g, "mean", fld, 0.0)
            std = self.gen_float(g, "std", fld, 1.0)
            if std < 0:
                raise self.err(f"{fld}.std", f"must be >= 0, got {std!r}")
            raw = np.clip(np.rint(rng.normal(mean, std, size=shape)), lo, hi).astype(np.int64)
            src = f"generated: seed {seed}, normal(mean {mean!r}, std {std!r}) rounded, clipped to {lo}..{hi}"
        else:
            raw = rng.integers(lo, hi, size=shape, dtype=np.int64, endpoint=True)
            src = f"generated: seed {seed}, uniform {lo}..{hi}"
        if halo == "zeros":
            raw[:, 0, :] = raw[:, -1, :] = raw[:, :, 0] = raw[:, :, -1] = 0
            src += ", zero halo"
        return _storage(fmt, raw), src

    def gen_int(self, g: dict, k: str, fld: str, fmt: Format, default: int, cap: int) -> int:
        if k not in g:
            return default
        v = g[k]
        if isinstance(v, bool) or not isinstance(v, int):
            raise self.err(f"{fld}.{k}", f"expected a raw integer of {fmt}, got {_typename(v)}")
        if not fmt.min_raw <= v <= fmt.max_raw:
            raise self.err(f"{fld}.{k}", f"{v} does not fit {fmt} (range {fmt.min_raw}..{fmt.max_raw})")
        if not -cap <= v < cap:
            raise self.err(f"{fld}.{k}", f"{v} is beyond what the generator draws (|value| < 2**"
                                         f"{cap.bit_length() - 1})")
        return v

    def gen_float(self, g: dict, k: str, fld: str, default: float) -> float:
        if k not in g:
            return default
        v = _float_text(g[k])
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise self.err(f"{fld}.{k}", f"expected a number, got {_typename(v)}")
        if not math.isfinite(float(v)):
            raise self.err(f"{fld}.{k}", f"{v!r} is not a finite number")
        return float(v)


_FLOAT_TEXT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)[eE][+-]?\d+")


def _two_input_kinds() -> str:
    return " and ".join(k.name for k in KINDS.values() if k.has("input2"))


def _float_text(v: Any) -> Any:
    """``1e-2`` as a number: YAML 1.1 (PyYAML) reads an exponent without a dot as text."""
    if isinstance(v, str) and _FLOAT_TEXT.fullmatch(v.strip()):
        return float(v)
    return v


def _storage(fmt: Format, arr: np.ndarray) -> np.ndarray:
    """Raws in the project's storage: int64 when they fit, else an object array of ints."""
    if fmt.fits_int64 and arr.dtype != object:  # range already checked: the values fit
        a = np.asarray(arr, dtype=np.int64)  # (np.ascontiguousarray would make 0-d arrays 1-d)
        return a if a.flags.c_contiguous else a.copy()
    if arr.dtype == object:
        out = arr.copy()
        out.flat[:] = [int(v) for v in arr.flat]
        if fmt.fits_int64:
            return out.astype(np.int64)
        return out
    out = np.empty(arr.shape, dtype=object)
    out.flat[:] = arr.ravel().tolist()
    return out


def _quantize_input(fm: FloatModel, in_t: Format) -> tuple[np.ndarray, str]:
    """The integer input from ``float.input / float.input_scale``: rounded to nearest (ties to
    even) and saturated to in_t's range."""
    target = Format("fixed", in_t.width, in_t.int_bits, in_t.signed, QMode.AP_RND_CONV, OMode.AP_SAT)
    q = target.quantize(fm.input / fm.input_scale)
    n_sat = int(q.overflowed.sum())
    src = (f"quantized from float.input / input_scale {fm.input_scale!r} (rounded to nearest, "
           f"{n_sat} saturated)")
    return _storage(in_t, q.raw), src


def _zeros(fmt: Format, shape: tuple[int, ...]) -> np.ndarray:
    return _storage(fmt, np.zeros(shape, dtype=np.int64))
