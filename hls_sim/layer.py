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
import re
from pathlib import Path
from typing import Any

import numpy as np

from hls_sim.kernels import KINDS, Geometry, KernelConfig, KernelResult, Kind
from hls_sim.kernels.hls_config import CHANNELS, HEIGHT, TILE_H, TILE_W, TYPE_NAMES, WIDTH
from hls_sim.types import Format, OMode, QMode, parse

MAX_LAYER_FILE_BYTES = 1 << 20  # a layer file is a few lines; arrays go in .npy files
BASE_KEYS = ("kernel", "name", "description", "types", "relu_clip", "per_channel_factor",
             "factor", "weight", "bias", "input", "top", "float")
PARAM_KEYS = tuple(dict.fromkeys(n for k in KINDS.values() for n in k.param_names))
TOP_KEYS = BASE_KEYS + PARAM_KEYS
REQUIRED_KEYS = ("kernel", "factor", "weight", "bias", "input")  # input only, for a data mover
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
    channel). A data mover (upsample) has no weight, bias or factor (None).
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

    def __post_init__(self) -> None:
        if self.geometry is None:
            self.geometry = KINDS[self.kernel].geometry()

    @property
    def spec(self) -> Kind:
        """The kind's registry entry."""
        return KINDS[self.kernel]

    def run(self) -> KernelResult:
        """Run the kernel twin on this layer's buffers (the layer's arrays are not changed)."""
        from hls_sim.kernels import common

        return common.run(self.spec, self.geometry, self.config, self.input, self.top,
                          self.weight, self.bias, self.factor)


# ---- loading ---------------------------------------------------------------------------------
def load_layer(path: str | Path) -> Layer:
    """Read and validate a layer file; relative data paths are taken from its folder."""
    p = Path(path)
    shown = str(path)
    try:
        size = p.stat().st_size
    except FileNotFoundError:
        raise LayerError(shown, "", f"file not found (looked in {p.absolute().parent})") from None
    except OSError as e:
        raise LayerError(shown, "", f"cannot read: {e.strerror or e}") from None
    if p.is_dir():
        raise LayerError(shown, "", "is a directory, not a layer file")
    if size > MAX_LAYER_FILE_BYTES:
        raise LayerError(shown, "", f"file is {size} bytes; a layer file is a few lines of YAML "
                                    "(put arrays in .npy files)")
    try:
        text = p.read_bytes()
    except OSError as e:
        raise LayerError(shown, "", f"cannot read: {e.strerror or e}") from None
    data = _yaml(text, shown)
    return parse_layer(data, shown, p.parent)


def parse_layer(data: Any, file: str = "<layer>", base_dir: str | Path = ".") -> Layer:
    """Validate an already-parsed layer mapping (as from YAML); data paths are relative to
    ``base_dir``. Raises :class:`LayerError` naming ``file``."""
    return _Parser(file, Path(base_dir)).layer(data)


class _UniqueKeyLoader:
    """Built lazily: a SafeLoader that refuses duplicate keys (a silent overwrite otherwise)."""

    cls = None

    @classmethod
    def get(cls):  # noqa: ANN206
        if cls.cls is None:
            import yaml

            class Loader(yaml.SafeLoader):
                pass

            def construct_mapping(loader, node, deep=False):  # noqa: ANN001, ANN202
                seen: dict[Any, Any] = {}
                for key_node, _ in node.value:
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
        required = REQUIRED_KEYS if kind.epilogue else ("kernel", "input")
        for k in required:
            if k not in data:
                if k == "input" and isinstance(fl, dict) and "input" in fl and "input_scale" in fl:
                    continue  # quantized from float.input below
                raise self.err(k, "missing (required: " + ", ".join(required) + ")"
                               + ("; or float.input with float.input_scale" if k == "input" else ""))
        for k in ("factor", "weight", "bias", "per_channel_factor", "float"):
            if not kind.epilogue and k in data:
                raise self.err(k, f"kind {kernel} is a data mover: it has no weight, bias or "
                                  "factor (leave the key out)")
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
        if "input" in data:
            bottom, sources["input"] = self.array(data["input"], "input", c.in_t, in_shapes,
                                                  buffer=True)
        else:
            bottom, sources["input"] = _quantize_input(float_model, c.in_t)
        if "top" in data:
            top, sources["top"] = self.array(data["top"], "top", c.out_t, {BUFFER: None}, buffer=True)
        else:
            top, sources["top"] = _zeros(c.out_t, geom.shape("top")), "zeros (default)"
        return Layer(self.file, kernel, config, bottom, weight, bias, factor, top, name,
                     description, sources,
                     tuple(k for k in ("top", "name", "description", "float") if k in data),
                     float_model, geom)

    def geometry(self, kind: Kind, data: dict, config: KernelConfig) -> Geometry:
        """The kind's parameters from the file's top-level keys; the input's channels and
        size from its file when the keys are left out."""
        for k in PARAM_KEYS:
            if k in data and k not in kind.param_names:
                raise self.err(k, f"not a parameter of kind {kind.name}"
                                  + (f" (it has: {', '.join(kind.param_names)})" if kind.params
                                     else " (it has none)"))
        params = {k: data[k] for k in kind.param_names if k in data}
        dims = ("in_channels", "height", "width")
        if all(d in kind.param_names for d in dims) and isinstance(data.get("input"), dict) \
                and "file" in data["input"]:
            arr, src = self.load(data["input"], "input")
            if arr.ndim != 3:
                raise self.err("input", f"{src} has shape {_dims(tuple(arr.shape))}; expected a "
                                        "feature map [C][H][W]")
            for d, n in zip(dims, arr.shape):
                if d in params and params[d] != n:
                    raise self.err(d, f"{params[d]!r}, but the input {src} has shape "
                                      f"{_dims(tuple(arr.shape))}")
                params.setdefault(d, int(n))
        try:
            return kind.geometry(params)
        except ValueError as e:
            fld, _, reason = str(e).partition(": ")
            raise self.err(fld, reason) from None

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
        self.check_keys(types, TYPE_NAMES, "types")
        fmts: dict[str, Any] = {}
        for n, v in types.items():
            fmts[n] = self.spelling(v, f"types.{n}")
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
            config.plan()
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
        else:
            raw, src = self.quantize([self.number(node, "factor")], fmt, "factor")
            raw = raw.reshape(())
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
        arr, src = self.load(node, fld)
        if arr.dtype.kind not in "fiu" or arr.dtype.itemsize > 8:
            raise self.err(fld, f"{src} holds {arr.dtype} data; expected real numbers (floats)")
        shape = tuple(arr.shape)
        if shape not in shapes:
            want = " or ".join(_dims(s) + (" (the tile; padded here with a zero halo)"
                                           if kind == "tile" else "") for s, kind in shapes.items())
            raise self.err(fld, f"{src} has shape {_dims(shape)}; expected {want}")
        a = np.asarray(arr, dtype=np.float64)
        bad = ~np.isfinite(a)
        if bad.any():
            i = int(np.flatnonzero(bad.ravel())[0])
            raise self.err(fld, f"{src}: {int(bad.sum())} value(s) are NaN or infinite (first at "
                                f"index {_index(i, shape)})")
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
        arr, src = self.load(node, fld)
        if arr.dtype.kind not in "iu":
            what = "floats" if arr.dtype.kind == "f" else f"{arr.dtype} data"
            raise self.err(fld, f"{src} holds {what}; expected the raw integers of {fmt} "
                                f"(e.g. {fmt}.quantize(values).raw, saved as an integer array)")
        shape = tuple(arr.shape)
        if shape not in shapes:
            want = " or ".join(_dims(s) + (" (the tile; padded here with a zero halo)"
                                           if kind == "tile" else "") for s, kind in shapes.items())
            raise self.err(fld, f"{src} has shape {_dims(shape)}; expected {want}")
        raw = self.checked(arr, fld, fmt)
        if shapes[shape] == "tile":
            padded = _zeros(fmt, BUFFER)
            padded[:, 1:1 + TILE_H, 1:1 + TILE_W] = raw
            return padded, f"{src} (tile {_dims(shape)}, padded with a zero halo)"
        return raw, src

    def load(self, node: dict, fld: str) -> tuple[np.ndarray, str]:
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
        if not path.is_file():
            why = "is not a file" if path.exists() else "not found"
            raise self.err(fld, f"file {name!r} {why} (looked in {path.absolute().parent})")
        try:
            if suffix == ".npy":
                return np.load(path, allow_pickle=False), f"file {name!r}"
            with np.load(path, allow_pickle=False) as z:
                keys = list(z.files)
                if key is None:
                    if len(keys) != 1:
                        raise self.err(fld, f"file {name!r} holds {len(keys)} arrays "
                                            f"({', '.join(keys) or 'none'}); say which with key:")
                    key = keys[0]
                elif key not in keys:
                    raise self.err(f"{fld}.key", f"file {name!r} has no array {key!r} "
                                                 f"(it has: {', '.join(keys) or 'none'})")
                return z[key], f"file {name!r}, key {key!r}"
        except LayerError:
            raise
        except Exception as e:  # noqa: BLE001 - numpy's readers raise many kinds; report in one line
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
