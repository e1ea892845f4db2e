"""Whole networks: a network file wires layers of any map kind into a graph over named
tensors, checked whole before anything runs, then run on whole feature maps, image by image.

    net = load_network("weights/encdec.yaml")
    run = run_network(net)          # every layer on every image of the input
    run.output                      # [N][C][H][W] raw integers of the last layer's out_t

A network file (docs/network.md) has ``input:`` (a raw-integer ``.npy`` ``[C][H][W]`` or
``[N][C][H][W]``, a folder of PNG/JPEG images, or generated data, with its ``type``),
``layers:`` (each a layer file's mapping plus ``name``, and ``input`` / ``input2`` naming the
tensors it reads: ``input`` for the network's input or any earlier layer; default the
previous layer), ``output`` (default the last layer) and, optionally, ``float_model`` (an
ONNX model and the tensors of it that hold the layers' float outputs: the report's float
reference, only checked here: :class:`FloatModel`). A layer's ``in_t`` / ``in2_t``
default to the type of what feeds it; given, they must equal it. Each layer is validated by
:mod:`hls_sim.layer` with its inputs as :class:`~hls_sim.layer.Feed` objects (shape and type
only), so shape, type and parameter errors name the layer before any kernel runs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import stat
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from hls_sim.kernels import KernelResult
from hls_sim.kernels.hls_kernels import COUNTER_NAMES
from hls_sim.layer import (_NAME, Feed, Layer, LayerError, _kind_of, _Parser, _storage, _typename,
                           parse_layer, read_yaml)
from hls_sim.reference import compare_layer
from hls_sim.schedule import Schedule, ScheduleError, plan_schedule, run_tiled
from hls_sim.types import Format, OMode, QMode, parse

NETWORK_KEYS = ("network", "description", "input", "layers", "output", "schedule", "float_model")
FLOAT_MODEL_KEYS = ("file", "tensors")
MAX_TENSOR_NAME = 4096  # characters of an ONNX tensor name in float_model.tensors
SCHEDULE_KEYS = ("tile", "channels")
INPUT_KEYS = ("file", "key", "images", "generate", "shape", "type", "scale")
INPUT_NAME = "input"  # the tensor name of the network's input
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
MAX_IMAGES = 4096


class NetworkError(LayerError):
    """A problem with a network file: ``file``, ``field`` (``layers[2] (dec1).weight``, ...)
    and ``reason``, one line."""


@dataclass(frozen=True)
class NetLayer:
    """One layer of a network: its name, the tensors it reads, the validated layer (its
    inputs are shape-and-type :class:`Feed` placeholders until the network runs)."""

    name: str
    reads: dict[str, str]  # role (input, input2) -> tensor name
    layer: Layer
    schedule: Schedule | None = None  # its tiles on the accelerator (None: one call)


@dataclass(frozen=True, eq=False)
class FloatModel:
    """A network file's ``float_model:``: the ONNX model the network report runs (with
    onnxruntime) as its float reference, and for each layer it maps the model's tensor that
    holds that layer's float output. Only checked here (a regular ``.onnx`` file inside the
    network file's folder, known layers, names as strings); hls_sim.report.network runs it."""

    file: str  # as the network file writes it
    path: Path  # from the network file's folder
    tensors: dict[str, str]  # layer name -> ONNX tensor name


@dataclass
class Network:
    """A validated network: its input images and the layers in order."""

    path: str
    name: str | None
    description: str | None
    input_type: Format
    images: np.ndarray  # [N][C][H][W] raw integers of input_type
    input_source: str  # in words
    batched: bool  # the input was [N][C][H][W] or a folder (the output keeps the N axis)
    layers: list[NetLayer]
    output: str  # the tensor the network returns
    float_model: FloatModel | None = None  # float_model: (the report's ONNX reference)

    def shapes(self) -> dict[str, tuple[int, ...]]:
        """Every tensor's shape (per image)."""
        out = {INPUT_NAME: tuple(self.images.shape[1:])}
        out.update({nl.name: nl.layer.geometry.shape("top") for nl in self.layers})
        return out

    def last_use(self) -> dict[str, int]:
        """The index of the last layer that reads each tensor (the output: beyond the end)."""
        out = {t: -1 for t in [INPUT_NAME] + [nl.name for nl in self.layers]}
        for i, nl in enumerate(self.layers):
            for t in nl.reads.values():
                out[t] = i
        out[self.output] = len(self.layers)
        return out


# ---- loading ---------------------------------------------------------------------------------
def is_network(data: Any) -> bool:
    """Whether a parsed YAML document is a network file (it has ``layers:``)."""
    return isinstance(data, dict) and "layers" in data


def load_network(path: str | Path) -> Network:
    """Read and validate a network file; relative paths are taken from its folder."""
    return parse_network(read_yaml(path), str(path), Path(path).parent)


def load(path: str | Path) -> Layer | Network:
    """A layer file's :class:`Layer`, or a network file's :class:`Network` (``layers:``)."""
    data = read_yaml(path)
    if is_network(data):
        return parse_network(data, str(path), Path(path).parent)
    return parse_layer(data, str(path), Path(path).parent)


def parse_network(data: Any, file: str = "<network>", base_dir: str | Path = ".") -> Network:
    """Validate an already-parsed network mapping (as from YAML)."""
    return _NetParser(file, Path(base_dir)).network(data)


class _NetParser(_Parser):
    def err(self, fld: str, reason: str) -> NetworkError:
        return NetworkError(self.file, fld, reason)

    def network(self, data: Any) -> Network:
        if not isinstance(data, dict):
            raise self.err("", f"expected a mapping with input: and layers:, got {_typename(data)}")
        self.check_keys(data, NETWORK_KEYS, "")
        name = self.text(data, "network", single_line=True)
        if name is not None and not _NAME.fullmatch(name):
            raise self.err("network", f"{name!r}: use 1 to 64 letters, digits, '_', '-', '.'")
        description = self.text(data, "description", single_line=False)
        if "input" not in data:
            raise self.err("input", "missing: {file: x.npy, type: ap_uint<8>}, {images: folder/} "
                                    "or {generate: {seed: 1}, shape: [3, 64, 128]}")
        fmt, images, src, batched = self.input(data["input"])
        layers = data["layers"]
        if not isinstance(layers, list) or not layers:
            raise self.err("layers", f"expected a list of layers, got {_typename(layers)}")
        self.default_schedule = self.schedule_node(data.get("schedule"), "schedule") or {}
        feeds: dict[str, Feed] = {INPUT_NAME: Feed(tuple(images.shape[1:]), fmt, "the network input")}
        out: list[NetLayer] = []
        prev = INPUT_NAME
        for i, entry in enumerate(layers):
            nl = self.layer(i, entry, feeds, prev)
            feeds[nl.name] = Feed(nl.layer.geometry.shape("top"), nl.layer.config.out_t,
                                  f"layer {nl.name}'s output")
            out.append(nl)
            prev = nl.name
        output = data.get("output", prev)
        if not isinstance(output, str) or output not in feeds or output == INPUT_NAME:
            raise self.err("output", f"expected the name of a layer ({', '.join(feeds) if len(feeds) < 12 else '...'}), "
                                     f"got {output!r}")
        fm = None
        if "float_model" in data:
            fm = self.float_model(data["float_model"], [nl.name for nl in out])
        return Network(self.file, name, description, fmt, images, src, batched, out, output, fm)

    def float_model(self, node: Any, layers: list[str]) -> FloatModel:
        """``float_model: {file: model.onnx, tensors: {layer: ONNX tensor name, ...}}``."""
        fld = "float_model"
        if not isinstance(node, dict):
            raise self.err(fld, "expected {file: model.onnx, tensors: {layer: ONNX tensor name, "
                                f"...}}}}, got {_typename(node)}")
        self.check_keys(node, FLOAT_MODEL_KEYS, fld)
        for k in FLOAT_MODEL_KEYS:
            if k not in node:
                raise self.err(f"{fld}.{k}", "missing: " + ("the ONNX model's file name" if k == "file"
                                                           else "{layer: ONNX tensor name, ...}"))
        name = node["file"]
        if not isinstance(name, str) or not name or "\x00" in name:
            raise self.err(f"{fld}.file", f"expected a file name, got {_typename(name)}")
        rel = Path(name)
        if rel.is_absolute() or ".." in rel.parts:
            raise self.err(f"{fld}.file", f"{name!r}: give a path inside the network file's folder "
                                          "(relative, without ..)")
        if rel.suffix.lower() != ".onnx":
            raise self.err(f"{fld}.file", f"{name!r}: expected an .onnx file")
        path = self.base / rel
        try:
            mode = os.stat(path).st_mode
        except FileNotFoundError:
            raise self.err(f"{fld}.file", f"file {name!r} not found (looked in "
                                          f"{path.absolute().parent})") from None
        except OSError as e:
            raise self.err(f"{fld}.file", f"cannot read file {name!r}: {e.strerror or e}") from None
        if not stat.S_ISREG(mode):
            raise self.err(f"{fld}.file", f"file {name!r} {_kind_of(mode)}, not an ONNX model")
        tensors = node["tensors"]
        if not isinstance(tensors, dict):
            raise self.err(f"{fld}.tensors", "expected a mapping {layer: ONNX tensor name, ...}, got "
                                             f"{_typename(tensors)}")
        for layer, t in tensors.items():
            where = f"{fld}.tensors.{layer}"
            if not isinstance(layer, str) or layer not in layers:
                known = ", ".join(layers) if len(layers) < 12 else ", ".join(layers[:11]) + ", ..."
                raise self.err(where, f"{layer!r} is not a layer of the network ({known})")
            if not isinstance(t, str) or not t or "\x00" in t or len(t) > MAX_TENSOR_NAME:
                raise self.err(where, "expected the name of a tensor of the model (a string of 1 to "
                                      f"{MAX_TENSOR_NAME} characters), got {_typename(t)}")
        return FloatModel(name, path, dict(tensors))

    def layer(self, i: int, entry: Any, feeds: dict[str, Feed], prev: str) -> NetLayer:
        where = f"layers[{i}]"
        if not isinstance(entry, dict):
            raise self.err(where, f"expected a layer mapping (kernel:, ...), got {_typename(entry)}")
        name = entry.get("name", f"layer{i}")
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise self.err(f"{where}.name", f"{name!r}: use 1 to 64 letters, digits, '_', '-', '.'")
        if name in feeds:
            raise self.err(f"{where}.name", f"{name!r} is already the name of "
                                            + ("the network input" if name == INPUT_NAME else "an earlier layer"))
        where = f"{where} ({name})"
        from hls_sim.kernels import KINDS

        kind = KINDS.get(entry.get("kernel")) if isinstance(entry.get("kernel"), str) else None
        if kind is not None and kind.seed:
            raise self.err(f"{where}.kernel", f"{kind.name} runs on the seed's fixed [16][34][66] "
                                              "tile buffers; in a network use conv2d (kernel_size 1, "
                                              "or 3 with groups = channels, padding 1)")
        roles = [t.role for t in kind.tensors if t.role in ("input", "input2")] if kind else ["input"]
        d = dict(entry)
        d["name"] = name
        sched = self.schedule_node(d.pop("schedule", None), f"{where}.schedule")
        types = d.get("types") if isinstance(d.get("types"), dict) else {}
        types = dict(types)
        reads: dict[str, str] = {}
        for role in roles:
            src = d.get(role, prev if role == "input" else None)
            if src is None:
                raise self.err(f"{where}.{role}", "missing: the name of the tensor it reads (input, "
                                                  "or an earlier layer)")
            if not isinstance(src, str) or src not in feeds:
                known = ", ".join(feeds)
                raise self.err(f"{where}.{role}", f"expected the name of the network input or an "
                                                  f"earlier layer ({known}), got {src!r}")
            feed = feeds[src]
            tname = "in_t" if role == "input" else "in2_t"
            if tname in types:
                try:
                    given = parse(types[tname]) if isinstance(types[tname], str) else None
                except ValueError:
                    given = None  # the layer's own parser names the bad spelling
                if given is not None and given != feed.fmt:
                    raise self.err(f"{where}.types.{tname}", f"{given}, but its {role} is "
                                                             f"{feed.source}, of type {feed.fmt}")
            else:
                types[tname] = str(feed.fmt)
            d[role] = feed
            reads[role] = src
        if kind is not None:
            d["types"] = types
        try:
            layer = parse_layer(d, f"{self.file}: {where}", self.base)
        except LayerError as e:
            raise self.err(f"{where}.{e.field}" if e.field else where, e.reason) from None
        if sched == "whole":
            return NetLayer(name, reads, layer, None)
        given = {**self.default_schedule, **(sched or {})}
        try:
            schedule = plan_schedule(layer, given.get("tile"), given.get("channels"))
        except ScheduleError as e:
            src = ("schedule" if e.field in self.default_schedule and e.field not in (sched or {})
                   else f"{where}.schedule")
            raise self.err(f"{src}.{e.field}", e.reason) from None
        return NetLayer(name, reads, layer, schedule)

    def schedule_node(self, node: Any, fld: str) -> dict | str | None:
        """``schedule:`` ``{tile: [H, W], channels: N}`` (either optional) or ``whole``."""
        if node is None:
            return None
        if node == "whole" and fld != "schedule":
            return "whole"
        if not isinstance(node, dict):
            raise self.err(fld, "expected {tile: [height, width], channels: N}"
                           + (" or whole" if fld != "schedule" else "") + f", got {_typename(node)}")
        self.check_keys(node, SCHEDULE_KEYS, fld)
        out = dict(node)
        if "tile" in out:
            t = out["tile"]
            if (not isinstance(t, list) or len(t) != 2
                    or not all(isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= 4096 for n in t)):
                raise self.err(f"{fld}.tile", f"expected [height, width], integers 1..4096, got {t!r}")
            out["tile"] = tuple(t)
        if "channels" in out:
            c = out["channels"]
            if not isinstance(c, int) or isinstance(c, bool) or not 1 <= c <= 4096:
                raise self.err(f"{fld}.channels", f"expected an integer 1..4096, got {c!r}")
        return out

    def input(self, node: Any) -> tuple[Format, np.ndarray, str, bool]:
        if not isinstance(node, dict):
            raise self.err("input", f"expected a mapping ({{file: x.npy}}, {{images: folder/}} or "
                                    f"{{generate: ...}}), got {_typename(node)}")
        self.check_keys(node, INPUT_KEYS, "input")
        fmt = self.spelling(node.get("type", "ap_uint<8>"), "input.type")
        forms = [k for k in ("file", "images", "generate") if k in node]
        if len(forms) != 1:
            raise self.err("input", "give exactly one of file:, images:, generate:"
                           + (f" (got {', '.join(forms)})" if forms else ""))
        if "scale" in node and forms[0] != "images":
            raise self.err("input.scale", "only for images: (pixel values times scale)")
        if "shape" in node and forms[0] != "generate":
            raise self.err("input.shape", "only for generate: (a file or images give their own)")
        if forms[0] == "images":
            return (fmt,) + self.images(node, fmt)
        if forms[0] == "generate":
            shape = node.get("shape")
            if (not isinstance(shape, list) or len(shape) not in (3, 4)
                    or not all(isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= 1 << 16 for n in shape)):
                raise self.err("input.shape", f"expected [C, H, W] or [N, C, H, W] (positive integers), "
                                              f"got {shape!r}")
            arr, src = self.generated(node["generate"], "input.generate", fmt, tuple(shape), False)
        else:
            shape, _ = self.load({k: node[k] for k in ("file", "key") if k in node}, "input", header_only=True)
            if len(shape) not in (3, 4):
                raise self.err("input", f"file {node['file']!r} has shape {_dims(shape)}; expected a "
                                        "feature map [C][H][W] or a batch [N][C][H][W]")
            arr, src = self.array({k: node[k] for k in ("file", "key") if k in node}, "input", fmt,
                                  {tuple(shape): None}, generate=False)
        batched = arr.ndim == 4
        return fmt, arr if batched else arr[None], src, batched

    def images(self, node: dict, fmt: Format) -> tuple[np.ndarray, str, bool]:
        """A folder of PNG/JPEG images, sorted by file name: ``[N][C][H][W]``, C = 3 (RGB) or
        1 (grayscale); each pixel (0..255) times ``scale`` rounded to nearest (ties to even) and
        saturated to the input type."""
        folder = node["images"]
        if not isinstance(folder, str) or not folder or "\x00" in folder:
            raise self.err("input.images", f"expected a folder name, got {_typename(folder)}")
        scale = self.number(node.get("scale", 1.0), "input.scale")
        if not scale > 0:
            raise self.err("input.scale", f"must be above 0, got {scale!r}")
        d = self.base / folder
        if not d.is_dir():
            raise self.err("input.images", f"{folder!r} is not a folder (looked in {d.absolute().parent})")
        files = image_files(d)
        if not files:
            raise self.err("input.images", f"{folder!r} holds no .png/.jpg/.jpeg file")
        if len(files) > MAX_IMAGES:
            raise self.err("input.images", f"{folder!r} holds {len(files)} images; at most {MAX_IMAGES}")
        from PIL import Image, UnidentifiedImageError

        pixels = []
        for p in files:
            try:
                with Image.open(p) as im:
                    gray = im.mode in ("1", "L", "LA", "I", "I;16", "F")
                    a = np.asarray(im.convert("L" if gray else "RGB"), dtype=np.float64)
            except (OSError, UnidentifiedImageError, ValueError) as e:
                raise self.err("input.images", f"cannot read image {p.name!r}: {e}") from None
            a = a[None] if a.ndim == 2 else a.transpose(2, 0, 1)
            if pixels and a.shape != pixels[0].shape:
                raise self.err("input.images", f"image {p.name!r} is {_dims(a.shape)}, but "
                                               f"{files[0].name!r} is {_dims(pixels[0].shape)}: all "
                                               "images must have the same size and colour mode")
            pixels.append(a)
        target = Format(fmt.kind if fmt.kind == "fixed" else "fixed", fmt.width,
                        fmt.int_bits, fmt.signed, QMode.AP_RND_CONV, OMode.AP_SAT)
        q = target.quantize(np.stack(pixels) * scale)
        n_sat = int(q.overflowed.sum())
        src = (f"{len(files)} image(s) from {folder!r} ({'grayscale' if pixels[0].shape[0] == 1 else 'RGB'}"
               f", pixel x {scale:g}, rounded to nearest, {n_sat} saturated)")
        return _storage(fmt, q.raw), src, True


def image_files(folder: Path) -> list[Path]:
    """The images of a folder, as an ``images:`` input reads them: PNG/JPEG, by file name."""
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


def _dims(shape) -> str:  # noqa: ANN001
    return "".join(f"[{int(n)}]" for n in shape)


WIRING_TYPES = ("in_t", "in2_t", "out_t")  # what feeds the next layer: not changeable here


def with_config(net: Network, changes: dict[str, dict[str, Any]]) -> Network:
    """A copy of ``net`` with some layers' configurations changed, the weights and wiring
    kept: ``{layer name: {type name: spelling or Format, relu_clip: bool, ...}}``. Each changed
    configuration is validated as a layer file's ``types:`` are (one-line NetworkError naming
    the layer and field); in_t, in2_t and out_t cannot change (they wire layers together)."""
    index = {nl.name: i for i, nl in enumerate(net.layers)}
    layers = list(net.layers)
    for name, change in changes.items():
        if name not in index:
            raise NetworkError(net.path, name, f"no such layer; the layers: {', '.join(index)}")
        i = index[name]
        nl = layers[i]
        where = f"layers[{i}] ({name})"
        fields = nl.layer.config.to_dict()
        types = {k: v for k, v in fields.items() if k not in ("relu_clip", "per_channel_factor")}
        node: dict[str, Any] = {k: fields[k] for k in ("relu_clip", "per_channel_factor")}
        for k, v in change.items():
            if k in WIRING_TYPES:
                raise NetworkError(net.path, f"{where}.types.{k}", "it wires the layer to its "
                                   "neighbours; change it in the network file")
            if k in node:
                node[k] = v
            else:
                types[k] = str(v) if isinstance(v, Format) else v
        node["types"] = types
        try:
            config = _Parser(net.path, Path(net.path).parent).config(node)
        except LayerError as e:
            raise NetworkError(net.path, f"{where}.{e.field}" if e.field else where, e.reason) from None
        layers[i] = dataclasses.replace(nl, layer=dataclasses.replace(nl.layer, config=config))
    return dataclasses.replace(net, layers=layers)


# ---- running -----------------------------------------------------------------------------------
@dataclass
class LayerStats:
    """One layer over all images: time, counters, and its error against its exact reference
    (on the inputs it actually got), in LSBs of its out_t."""

    name: str
    kind: str
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    out_type: str
    seconds: float = 0.0  # the kernel bodies, all images
    total_seconds: float = 0.0  # the whole layer: validation, kernel, reference
    path: str = "int64"
    kernel: str = "specialised"  # the machine code of the last run (KernelResult.kernel)
    counters: dict[str, int] = dataclasses.field(default_factory=lambda: dict.fromkeys(COUNTER_NAMES, 0))
    max_abs_lsb: float | None = 0.0  # None: run without the reference
    sq_sum: float = 0.0
    n_differ: int = 0
    n_outputs: int = 0
    tiled_differ: int | None = None  # with check_tiles: outputs where the tiled run differs
    float_sqnr_db: float | None = None  # with float_model: against the float network (None: exact)

    @property
    def rms_lsb(self) -> float:
        return float(np.sqrt(self.sq_sum / self.n_outputs)) if self.n_outputs else 0.0


@dataclass
class NetworkRun:
    network: Network
    output: np.ndarray  # [N][C][H][W] raw integers of the output layer's out_t
    stats: list[LayerStats]
    seconds: float  # the whole run, compiling included
    saved: dict[str, np.ndarray]  # with keep_all: every layer's output, [N][...]
    compile_seconds: float = 0.0  # compiling (first time) or loading (cached) the kernels


_READY: set[tuple] = set()  # the (kind, geometry, configuration) of every layer run once


def run_network(net: Network, keep_all: bool = False,
                progress: Callable[[int, int, str], None] | None = None,
                check_tiles: bool = False, reference: bool = True,
                float_model: bool = False) -> NetworkRun:
    """Run every layer on every image, in order; tensors are freed after their last reader.

    Each layer runs on its whole map (one compiled call); ``check_tiles`` also runs it tile by
    tile as its schedule says (hls_sim.schedule, a kernel call per tile, slower) and counts
    the outputs where the two differ (``LayerStats.tiled_differ``; 0 unless hls-sim is wrong).
    ``reference`` False skips each layer's exact reference (it costs more than the kernels:
    for datasets and benchmarks); the error columns then stay empty (None). ``float_model``
    (when every layer with weights has a ``float:`` block) also sets each layer's SQNR against
    the float network (``LayerStats.float_sqnr_db``; hls_sim.report.network); it keeps every
    layer's output until the end.

    Each layer's compiled twin is made ready first (numba compiles it once per configuration
    and geometry, then loads it from its disk cache), by one call on zeros the first time a
    process meets it, so the times per layer are the kernels' own. ``progress(done, total, what)`` is called after each step."""
    start = time.perf_counter()
    for i, nl in enumerate(net.layers):
        key = (nl.layer.kernel, nl.layer.geometry, nl.layer.config)
        if key not in _READY:  # once per process: later runs find the kernel loaded
            nl.layer.run()  # its inputs are still the zero placeholders
            _READY.add(key)
        if progress is not None:
            progress(i + 1, len(net.layers), f"compiling/loading layer {nl.name}")
    compile_seconds = time.perf_counter() - start
    last = net.last_use()
    stats = [LayerStats(nl.name, nl.layer.kernel,
                        tuple(nl.layer.input.shape) if nl.layer.spec.input_dims != ("in_features",)
                        else (nl.layer.geometry["in_features"],),
                        nl.layer.geometry.shape("top"), str(nl.layer.config.out_t)) for nl in net.layers]
    n_img = net.images.shape[0]
    outs: list[np.ndarray] = []
    from hls_sim.report.network import accumulated_sqnr, has_float_model

    float_model = float_model and has_float_model(net)
    keep = keep_all or float_model
    saved: dict[str, list[np.ndarray]] = {nl.name: [] for nl in net.layers} if keep else {}
    total = n_img * len(net.layers)
    done = 0
    for k in range(n_img):
        alive: dict[str, np.ndarray] = {INPUT_NAME: net.images[k]}
        for i, nl in enumerate(net.layers):
            t0 = time.perf_counter()
            arrays = {role: alive[src] for role, src in nl.reads.items()}
            ly = dataclasses.replace(nl.layer, **{r: _as_input(nl.layer, r, a) for r, a in arrays.items()})
            res = ly.run(checked=True)  # validated when the network loaded, or made by its kernels
            _account(stats[i], ly, res, reference)
            if check_tiles:
                tiled = run_tiled(ly, nl.schedule) if nl.schedule is not None else res.top.raw
                stats[i].tiled_differ = (stats[i].tiled_differ or 0) + int(
                    np.count_nonzero(tiled != res.top.raw))
            stats[i].total_seconds += time.perf_counter() - t0
            alive[nl.name] = res.top.raw
            if keep:
                saved[nl.name].append(res.top.raw)
            for t in list(alive):
                if last[t] <= i and t != net.output:
                    del alive[t]
            done += 1
            if progress is not None:
                progress(done, total, f"image {k + 1}/{n_img}, layer {nl.name}")
        outs.append(alive[net.output])
    kept = {n: np.stack(v) for n, v in saved.items()}
    if float_model:
        for st, db in zip(stats, accumulated_sqnr(net, kept)):
            st.float_sqnr_db = db
    return NetworkRun(net, np.stack(outs), stats, time.perf_counter() - start,
                      kept if keep_all else {}, compile_seconds)


def _as_input(layer: Layer, role: str, arr: np.ndarray) -> np.ndarray:
    """A tensor as ``layer`` holds it (a vector kind's [C] input as [C][1][1])."""
    want = layer.geometry.shape(role)
    return arr.reshape(want) if arr.shape != want and arr.size == int(np.prod(want)) else arr


def _account(st: LayerStats, ly: Layer, res: KernelResult, reference: bool) -> None:
    st.seconds += res.seconds
    st.path, st.kernel = res.path, res.kernel
    for n, v in res.counters.total().items():
        st.counters[n] += v
    if not reference:
        st.max_abs_lsb = None
        return
    cmp = compare_layer(ly, res.top.raw)
    st.max_abs_lsb = max(st.max_abs_lsb, cmp.max_abs_error)
    st.sq_sum += cmp.rms_error ** 2 * cmp.n_outputs
    st.n_differ += cmp.n_differ
    st.n_outputs += cmp.n_outputs


@contextlib.contextmanager
def progress_bar(delay: float = 1.0):  # noqa: ANN201 - a context manager of a progress callback
    """A progress callback for :func:`run_network` drawing a bar on stderr (tqdm) once the
    run has taken ``delay`` seconds; nothing on a short run."""
    from tqdm import tqdm

    bar = None

    def update(done: int, total: int, what: str) -> None:
        nonlocal bar
        if bar is not None and (bar.total != total or done < bar.n):  # the next phase
            bar.close()  # (reset() would draw it at once, even on a short run)
            bar = None
        if bar is None:
            bar = tqdm(total=total, unit="layer", delay=delay, leave=False, dynamic_ncols=True)
        bar.set_description_str(what, refresh=False)
        bar.update(done - bar.n)

    try:
        yield update
    finally:
        if bar is not None:
            bar.close()


# ---- text summary and output files --------------------------------------------------------------
def summary(run: NetworkRun) -> str:
    """The terminal summary: one row per layer, then the totals."""
    net = run.network
    n_img = net.images.shape[0]
    lines = [f"network   {net.path}" + (f"  ({net.name})" if net.name else "")]
    if net.description:
        lines.append(f"          {' '.join(net.description.split())}")
    lines.append(f"input     {_dims(net.images.shape[1:])} {net.input_type}, {n_img} image(s): "
                 f"{net.input_source}")
    checked = any(st.tiled_differ is not None for st in run.stats)
    floats = any(st.float_sqnr_db is not None for st in run.stats)
    rows = [("layer", "kind", "reads", "output", "out_t", "tiles", "kernel ms", "overflow",
             "max|e| LSB", "rms LSB", "differ") + (("tiled",) if checked else ())
            + (("vs float dB",) if floats else ())]
    for nl, st in zip(net.layers, run.stats):
        over = sum(v for n, v in st.counters.items() if n.endswith("overflow"))
        sc = nl.schedule
        tiles = f"{sc.h.n_tiles}x{sc.w.n_tiles}x{sc.n_channel_groups}" if sc else "1 call"
        rows.append((st.name, st.kind, ", ".join(nl.reads.values()), _dims(st.out_shape), st.out_type,
                     tiles, f"{st.seconds * 1e3:.3g}", str(over))
                    + ((f"{st.max_abs_lsb:.3g}", f"{st.rms_lsb:.3g}", str(st.n_differ))
                       if st.max_abs_lsb is not None else ("-", "-", "-"))
                    + ((("equal" if not st.tiled_differ else f"{st.tiled_differ} differ"),)
                       if checked else ())
                    + (("exact" if st.float_sqnr_db is None else f"{st.float_sqnr_db:.1f}",)
                       if floats else ()))
    widths = [max(len(r[j]) for r in rows) for j in range(len(rows[0]))]
    for r in rows:
        lines.append("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    kern = sum(st.seconds for st in run.stats)
    lines.append(f"output    {net.output}: {_dims(run.output.shape[1:])}"
                 + (f" x {n_img} images" if net.batched else "")
                 + f"; {_time(run.seconds)} in all: kernels {_time(kern)}, "
                 f"compiling/loading them {_time(run.compile_seconds)}")
    generic = [st.name for st in run.stats if st.kernel == "generic"]
    if generic:
        lines.append(f"          generic kernels (not compiled for their configuration yet: the same "
                     f"bits, slower calls): {', '.join(generic)}; `hls-sim --kernels specialised` "
                     "compiles them once")
    lines.append("          tiles: rows x columns x channel groups of the accelerator's schedule; "
                 "max|e|, rms: each layer against its exact reference on the inputs it got "
                 "(LSBs of its out_t); differ: outputs more than 0.5 LSB away"
                 + ("; tiled: the layer run tile by tile against its whole-map run" if checked else "")
                 + ("; vs float: SQNR of the layer's output against the float network (the "
                    "float_model's ONNX tensors where the file maps them, else the float: blocks; "
                    "hls-sim report NET.yaml says which layer adds the error)" if floats else ""))
    return "\n".join(lines)


def _time(seconds: float) -> str:
    """``0.412 ms``, ``62.2 ms``, ``38.2 s``."""
    return f"{seconds * 1e3:.3g} ms" if seconds < 1 else f"{seconds:.1f} s"


def output_names(net: Network, save_all: bool) -> tuple[str, ...]:
    """The files ``-o DIR`` writes: output.npy, and with ``--save all`` <layer>.npy each."""
    return ("output.npy",) + (tuple(f"{nl.name}.npy" for nl in net.layers) if save_all else ())


def write_outputs(run: NetworkRun, out_dir: str | Path, save_all: bool, force: bool) -> list[Path]:
    """Write the output (and every layer's output) as raw int64 .npy, all or nothing;
    ``[N][C][H][W]`` for a batch, else ``[C][H][W]``."""
    from hls_sim.runner import OutputError, _int64, check_outputs
    from hls_sim.files import write_files

    net = run.network
    names = output_names(net, save_all)
    d = check_outputs(out_dir, names, force)

    def shaped(a: np.ndarray) -> np.ndarray:
        return _int64(a if net.batched else a[0], "output")

    payload = {"output.npy": shaped(run.output)}
    if save_all:
        payload.update({f"{n}.npy": shaped(a) for n, a in run.saved.items()})
    return write_files(d, payload, OutputError)


__all__ = ["FloatModel", "Network", "NetworkError", "NetworkRun", "is_network", "load_network", "parse_network",
           "run_network", "summary", "with_config", "write_outputs"]
