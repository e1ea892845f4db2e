"""Calibration: a float network and calibration images become a quantized network file.

    from hls_sim.calibrate import FloatLayer, FloatNetwork, calibrate, forward
    net = FloatNetwork([
        FloatLayer("stem", "conv2d", {"out_channels": 16, "kernel_size": 3, "padding": 1}, w0, b0),
        FloatLayer("pool", "max_pool", {"kernel_size": 2}),
        FloatLayer("head", "conv2d", {"out_channels": 4, "kernel_size": 1, "activation": "none"},
                   w1, b1)])
    q = calibrate(net, images, input_scale=1 / 255)   # images: float [N][C][H][W], real units
    q.write("out/", "net", input={"images": "photos/"})   # net.yaml, net.npz, net_float.npz
    y = forward(net, images)["head"]                   # the float network, for comparisons

The float description is plain data (kind, parameters, float arrays in PyTorch's layouts,
which tensors each layer reads), independent of any file format, so an importer (ONNX, say)
only has to build a :class:`FloatNetwork`.

**Semantics.** Every tensor has one scale: ``real = scale * value`` (for ap_int / ap_uint the
value is the raw integer). A layer with weights computes ``Y = act(B + sum W X)`` in float;
quantized, ``y = act(bias + (sum w x) * factor)`` in out_t units (README, "The float
reference"), so with ``W = s_w * w`` (per output channel), ``X = s_in * x`` and ``Y = s_out * y``:

- ``w = round(W / s_w)``, ``s_w = max|W| / max(weight_t)`` per output channel (or per tensor);
- ``bias = round(B / s_out)`` in bias_t;
- ``factor = s_w * s_in / s_out`` per output channel, rounded to nearest in a factor_t
  chosen per layer: the fewest integer bits that hold the largest channel's factor and enough
  fraction bits for the smallest to keep ``factor_bits`` (16) significant bits, far inside
  what ``hls-sim run`` warns about (4 bits, 1/16); the file stores the raw integers;
- ``s_out = max(Y) / max(out_t)`` over the calibration images (``max|Y|`` for a signed
  out_t): the largest float output maps to the top of out_t (ap_uint<8> after a relu, a
  saturating ap_fixed<8,8> for ``activation: none``).

Every rounding is to nearest (ties to even) and saturates. Calibrated scales are rounded up to
24 significant bits, so the files do not depend on the float pass's last bits (BLAS sums in
different orders on different machines).

**Merges share a scale.** Data movers (upsample, max_pool, avg_pool) and merges (add,
concat) have no factor: their output carries their input's scale, and add's ``in + in2``
(concat's ``[in; in2]``) means something in real units only when both inputs have the same
scale. So calibration joins every tensor linked by a mover or a merge into one *scale group*
and gives the whole group the largest scale any member needs (``peak / max(type)``): no
member saturates on the calibration data, a member with a smaller range uses fewer levels.
A group that holds the network input takes the input's scale. (The other sound choice,
per-input-channel scales absorbed into the consumer's weights, works for a concat read by a
convolution but not for add, nor with the per-tensor scales of a layer file's ``float:``
block.) add's output type is the exact sum type (two ap_uint<8> make an ap_uint<9>); concat's
is its inputs' common type.

Each layer with weights gets a ``float:`` block (float weight and bias, input and output
scale), so a report can compare each layer with the float layer it stands for.
"""

from __future__ import annotations

import io
import math
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from hls_sim.kernels import KINDS, Geometry, KernelConfig, Kind
from hls_sim.kernels.merge import sum_type
from hls_sim.types import Format, OMode, QMode, parse

INPUT = "input"  # the tensor name of the network input (as in network files)
SHAPE_PARAMS = ("in_channels", "height", "width", "in2_channels", "in_features")
SETTABLE_TYPES = ("out_t", "weight_t", "bias_t", "factor_t", "acc_t", "qd_t", "sum_t",
                  "product_t", "tree_t")
RELU_OUT = "ap_uint<8>"  # out_t after a relu
LINEAR_OUT = "ap_fixed<8,8,AP_TRN,AP_SAT>"  # out_t without one: signed, saturating, integer
FACTOR_BITS = 16  # significant bits every channel's factor keeps by default
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,63}")  # as network files spell names
_NPZ_DATE = (1980, 1, 1, 0, 0, 0)  # a fixed time stamp: the same arrays give the same bytes


# ---- the float description -------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class FloatLayer:
    """One float layer: a registry kind (docs/kinds.md), its parameters, its float weight and
    bias in the kind's (PyTorch's) layout, and the tensors it reads.

    ``params`` leaves out the input's shape (``in_channels``, ``height``, ``width``,
    ``in2_channels``, ``in_features``): it comes from the graph. ``input`` / ``input2`` name
    the network input (``"input"``) or an earlier layer; ``input`` None reads the previous
    layer. ``types`` overrides a type calibration would choose (``out_t``, ``weight_t``,
    ``bias_t``, ``factor_t``, ``acc_t``, ``qd_t``, ``sum_t``, ``product_t``, ``tree_t``).
    ``top`` (a layer with weights and ``activation: relu`` only): relu with a top, ONNX's
    ``Clip(0, top)`` (relu6: 6.0). The float layer computes ``min(max(y, 0), top)``; calibration
    gives its output the scale ``top / max(out_t)``, so the relu's saturation at max(out_t)
    (``relu_clip``) is the clip.
    """

    name: str
    kind: str
    params: Mapping[str, Any] = field(default_factory=dict)
    weight: np.ndarray | None = None
    bias: np.ndarray | None = None
    input: str | None = None
    input2: str | None = None
    types: Mapping[str, str] = field(default_factory=dict)
    top: float | None = None


@dataclass(frozen=True, eq=False)
class FloatNetwork:
    """Float layers in order; ``output`` names the tensor the network returns (default: the
    last layer)."""

    layers: Sequence[FloatLayer]
    output: str | None = None


@dataclass(frozen=True, eq=False)
class _Node:
    """A float layer checked against the graph: its kind, geometry and the tensors it reads."""

    layer: FloatLayer
    where: str  # "layers[3] (dec1)", for messages
    kind: Kind
    geom: Geometry
    reads: dict[str, str]  # role (input, input2) -> tensor
    weight: np.ndarray | None  # float64
    bias: np.ndarray | None  # float64 [C_OUT] (zeros when not given)

    @property
    def relu(self) -> bool:
        return self.geom.get("activation", "relu") == "relu"


def check_network(net: FloatNetwork, input_shape: Sequence[int]) -> list[_Node]:
    """Validate ``net`` for an input of shape ``[C][H][W]`` (per image): names, wiring, each
    kind's parameters with the shapes the graph gives, weight and bias shapes. ValueError
    ``layers[i] (name).field: reason`` naming what is wrong."""
    if not isinstance(net, FloatNetwork):
        raise ValueError(f"net: expected a FloatNetwork, got {type(net).__name__}")
    if not net.layers:
        raise ValueError("layers: the network has no layer")
    shapes: dict[str, tuple[int, ...]] = {INPUT: tuple(int(n) for n in input_shape)}
    nodes: list[_Node] = []
    prev = INPUT
    for i, fl in enumerate(net.layers):
        where = f"layers[{i}]"
        if not isinstance(fl, FloatLayer):
            raise ValueError(f"{where}: expected a FloatLayer, got {type(fl).__name__}")
        if not isinstance(fl.name, str) or not _NAME.fullmatch(fl.name):
            raise ValueError(f"{where}.name: {fl.name!r}: use 1 to 64 letters, digits, '_', '-', '.'")
        if fl.name in shapes:
            raise ValueError(f"{where}.name: {fl.name!r} is already the name of "
                             + ("the network input" if fl.name == INPUT else "an earlier layer"))
        where = f"{where} ({fl.name})"
        kind = KINDS.get(fl.kind) if isinstance(fl.kind, str) else None
        if kind is None:
            raise ValueError(f"{where}.kind: expected one of {', '.join(KINDS)}, got {fl.kind!r}")
        if kind.seed:
            raise ValueError(f"{where}.kind: {kind.name} runs on the seed's fixed tile buffers; "
                             "use conv2d (kernel_size 1, or 3 with groups = channels, padding 1)")
        reads = {"input": fl.input if fl.input is not None else prev}
        if kind.has("input2"):
            if fl.input2 is None:
                raise ValueError(f"{where}.input2: missing: {kind.name} merges two tensors")
            reads["input2"] = fl.input2
        elif fl.input2 is not None:
            raise ValueError(f"{where}.input2: kind {kind.name} reads one tensor")
        for role, t in reads.items():
            if not isinstance(t, str) or t not in shapes:
                raise ValueError(f"{where}.{role}: expected the network input or an earlier layer "
                                 f"({', '.join(shapes)}), got {t!r}")
        params = _params(fl, where, kind, shapes[reads["input"]],
                         shapes.get(reads.get("input2", "")))
        try:
            geom = kind.geometry(params)
        except ValueError as e:
            raise ValueError(f"{where}.params.{e}") from None
        for role in ("input", "input2"):
            if role in reads and geom.shape(role) != shapes[reads[role]]:
                raise ValueError(f"{where}.{role}: {reads[role]} has shape "
                                 f"{_dims(shapes[reads[role]])}; {kind.name} needs {_dims(geom.shape(role))}")
        if kind.has("input2") and geom.shape("input")[1:] != shapes[reads["input2"]][1:]:
            raise ValueError(f"{where}.input2: {reads['input2']} is {_dims(shapes[reads['input2']])}, "
                             f"{reads['input']} is {_dims(shapes[reads['input']])}: the maps must "
                             "have the same height and width")
        weight, bias = _float_arrays(fl, where, kind, geom)
        if kind.epilogue and geom.get("activation") == "clip":
            raise ValueError(f"{where}.params.activation: clip is not calibrated yet (use relu "
                             "or none)")
        if fl.top is not None:
            top = fl.top
            if isinstance(top, bool) or not isinstance(top, (int, float, np.floating)) \
                    or not math.isfinite(float(top)) or not top > 0:
                raise ValueError(f"{where}.top: expected a positive finite number, got {top!r}")
            if not kind.epilogue or geom.get("activation") != "relu":
                raise ValueError(f"{where}.top: only for a layer with weights and activation relu")
        for n in fl.types:
            if n not in SETTABLE_TYPES:
                raise ValueError(f"{where}.types.{n}: not a type calibration sets; expected some "
                                 f"of {', '.join(SETTABLE_TYPES)} (in_t follows the graph)")
            try:
                parse(fl.types[n])
            except (ValueError, TypeError) as e:
                raise ValueError(f"{where}.types.{n}: {e}") from None
        nodes.append(_Node(fl, where, kind, geom, reads, weight, bias))
        shapes[fl.name] = geom.shape("top")
        prev = fl.name
    out = net.output if net.output is not None else prev
    if out not in shapes or out == INPUT:
        raise ValueError(f"output: expected the name of a layer, got {out!r}")
    return nodes


def _params(fl: FloatLayer, where: str, kind: Kind, shape: tuple[int, ...],
            shape2: tuple[int, ...] | None) -> dict[str, Any]:
    """The kind's parameters: the layer's own plus the input shape the graph gives."""
    if not isinstance(fl.params, Mapping):
        raise ValueError(f"{where}.params: expected a mapping, got {type(fl.params).__name__}")
    p = dict(fl.params)
    for n in SHAPE_PARAMS:
        if n in p:
            raise ValueError(f"{where}.params.{n}: comes from the graph (the tensor the layer "
                             "reads); leave it out")
    if len(shape) != 3:
        raise ValueError(f"{where}.input: a map [C][H][W] is needed, the tensor is {_dims(shape)}")
    if kind.input_dims == ("in_features",):
        if shape[1:] != (1, 1):
            raise ValueError(f"{where}.input: {kind.name} reads a vector ([C][1][1]), the tensor "
                             f"is {_dims(shape)}")
        p["in_features"] = shape[0]
    else:
        p.update(in_channels=shape[0], height=shape[1], width=shape[2])
    if "in2_channels" in kind.param_names and shape2 is not None:
        p["in2_channels"] = shape2[0]
    return p


def _float_arrays(fl: FloatLayer, where: str, kind: Kind,
                  geom: Geometry) -> tuple[np.ndarray | None, np.ndarray | None]:
    if not kind.epilogue:
        for n in ("weight", "bias"):
            if getattr(fl, n) is not None:
                raise ValueError(f"{where}.{n}: kind {kind.name} has no weight or bias")
        return None, None
    if fl.weight is None:
        raise ValueError(f"{where}.weight: missing ({_dims(geom.shape('weight'))} for {kind.name})")
    w = _real(fl.weight, f"{where}.weight")
    if w.shape != geom.shape("weight"):
        raise ValueError(f"{where}.weight: shape {_dims(w.shape)}; {kind.name} with these "
                         f"parameters needs {_dims(geom.shape('weight'))}")
    b = np.zeros(geom.shape("bias")) if fl.bias is None else _real(fl.bias, f"{where}.bias")
    if b.shape != geom.shape("bias"):
        raise ValueError(f"{where}.bias: shape {_dims(b.shape)}; expected {_dims(geom.shape('bias'))}")
    return w, b


def _real(a: Any, what: str) -> np.ndarray:
    """``a`` as float64, refusing non-numbers, NaN and infinities (ValueError)."""
    from hls_sim.quantize import finite_reals

    return finite_reals(a, what)


def _images(images: Any) -> np.ndarray:
    x = _real(images, "images")
    if x.ndim == 3:
        x = x[None]
    if x.ndim != 4 or 0 in x.shape:
        raise ValueError(f"images: shape {_dims(x.shape)}; expected [N][C][H][W] (or one "
                         "[C][H][W]), no axis empty")
    return x


# ---- the float forward pass -----------------------------------------------------------------
def _run_float(nodes: list[_Node], x: np.ndarray) -> Iterable[tuple[str, np.ndarray]]:
    """``(tensor, value)`` for the input and every layer's output, one image ``[C][H][W]``,
    in order (each kind's registry ``sums`` on float64, then bias and activation)."""
    yield INPUT, x
    alive = {INPUT: x}
    for nd in nodes:
        a = alive[nd.reads["input"]]
        if nd.kind.epilogue:
            y = nd.kind.sums(nd.geom, a, nd.weight) + nd.bias[:, None, None]
            y = np.maximum(y, 0.0) if nd.relu else y
            y = y if nd.layer.top is None else np.minimum(y, float(nd.layer.top))
        else:
            y = np.asarray(nd.kind.sums(nd.geom, a, alive.get(nd.reads.get("input2", ""))),
                           dtype=np.float64)
        alive[nd.layer.name] = y
        yield nd.layer.name, y


def forward(net: FloatNetwork, images: Any, keep: Iterable[str] | None = None) -> dict[str, np.ndarray]:
    """The float network on ``images`` (real values, ``[N][C][H][W]`` or one ``[C][H][W]``):
    each tensor in ``keep`` (default: every layer's output), ``[N][C][H][W]`` float64."""
    x = _images(images)
    nodes = check_network(net, x.shape[1:])
    names = [nd.layer.name for nd in nodes]
    want = names if keep is None else list(keep)
    for t in want:
        if t not in names and t != INPUT:
            raise ValueError(f"keep: {t!r} is not a tensor of the network ({', '.join(names)})")
    out: dict[str, list[np.ndarray]] = {t: [] for t in want}
    for img in x:
        for t, v in _run_float(nodes, img):
            if t in out:
                out[t].append(v)
    return {t: np.stack(v) for t, v in out.items()}


# ---- the quantized network --------------------------------------------------------------------
@dataclass(eq=False)
class QuantizedLayer:
    """One layer of a quantized network: what its entry in the network file says.

    Arrays are raw integers (int64) of their types; ``factor`` is ``[C_OUT]`` (per channel)
    or ``[]``; ``factor_value`` the exact ``s_w * s_in / s_out`` before rounding."""

    name: str
    kind: str
    params: dict[str, Any]  # the kind's parameters the file writes (not the graph's shapes)
    reads: dict[str, str]  # role -> tensor
    types: dict[str, Format]  # the types the file sets (in_t follows the graph)
    out_type: Format
    output_scale: float
    input_scale: float | None = None
    weight: np.ndarray | None = None
    bias: np.ndarray | None = None
    factor: np.ndarray | None = None
    factor_value: np.ndarray | None = None
    weight_scale: np.ndarray | None = None  # [C_OUT]
    float_weight: np.ndarray | None = None  # as given (its dtype kept)
    float_bias: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def factor_t(self) -> Format | None:
        return self.types.get("factor_t")

    def factor_values(self) -> np.ndarray:
        """The factors as factor_t holds them (float64)."""
        return np.ldexp(self.factor.astype(np.float64), -_frac(self.factor_t))


@dataclass(eq=False)
class QuantizedNetwork:
    """A calibrated network: its layers, every tensor's type and scale, and remarks."""

    input_type: Format
    input_scale: float
    layers: list[QuantizedLayer]
    output: str
    types: dict[str, Format]  # every tensor's type
    scales: dict[str, float]  # every tensor's scale: real = scale * value
    peaks: dict[str, float]  # every tensor's largest float value (|value| for signed types)
    notes: list[str] = field(default_factory=list)

    def layer(self, name: str) -> QuantizedLayer:
        for ql in self.layers:
            if ql.name == name:
                return ql
        raise ValueError(f"no layer {name!r} (layers: {', '.join(q.name for q in self.layers)})")

    def real(self, raw: Any, tensor: str | None = None) -> np.ndarray:
        """Raw integers of a tensor (default: the output) as real values (float64)."""
        t = self.output if tensor is None else tensor
        if t not in self.types:
            raise ValueError(f"tensor: {t!r} is not a tensor of the network")
        return self.scales[t] * np.asarray(raw, dtype=np.float64) * self.types[t].lsb

    def quantize_input(self, images: Any) -> np.ndarray:
        """Real images as raw integers of the input type: ``round(x / input_scale)``, to
        nearest (ties to even), saturated."""
        return np.asarray(_nearest(self.input_type).quantize(_images(images) / self.input_scale).raw,
                          dtype=np.int64)

    def arrays(self) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """The integer arrays (weight, bias, factor per layer, each in the narrowest integer
        dtype that holds its type) and the float ones (weight, bias), keyed ``layer.role``."""
        ints: dict[str, np.ndarray] = {}
        floats: dict[str, np.ndarray] = {}
        for ql in self.layers:
            if ql.weight is None:
                continue
            ints[f"{ql.name}.weight"] = _compact(ql.weight, ql.types["weight_t"])
            ints[f"{ql.name}.bias"] = _compact(ql.bias, ql.types["bias_t"])
            ints[f"{ql.name}.factor"] = _compact(ql.factor, ql.types["factor_t"])
            floats[f"{ql.name}.weight"] = ql.float_weight
            floats[f"{ql.name}.bias"] = ql.float_bias
        return ints, floats

    def yaml(self, stem: str, input: Mapping[str, Any], *, name: str | None = None,
             description: str | None = None, header: Sequence[str] = (),
             float_model: Mapping[str, Any] | None = None) -> str:
        """The network file (docs/network.md); its arrays in ``STEM.npz`` (integers) and
        ``STEM_float.npz`` (the float: blocks). ``input``: the file's ``input:`` mapping
        (``{"images": "photos/"}``, ``{"file": "x.npy"}``, ...; ``type`` is added when the
        input type is not ap_uint<8>). ``header``: comment lines to start with.
        ``float_model``: ``{"file": "m.onnx", "tensors": {layer: ONNX tensor}}``, the model
        the network report takes as its float reference (written quoted, any characters)."""
        lines = [f"# {h}".rstrip() for h in header]
        if name is not None:
            if not _NAME.fullmatch(name):
                raise ValueError(f"name: {name!r}: use 1 to 64 letters, digits, '_', '-', '.'")
            lines.append(f"network: {name}")
        if description is not None:
            lines.append(f"description: {_yaml_text(description)}")
        node = dict(input)
        if self.input_type != parse("ap_uint<8>") and "type" not in node:
            node["type"] = str(self.input_type)
        lines.append(f"input: {_flow(node)}    # real = {_num(self.input_scale)} x value")
        lines.append("layers:")
        data, fdata = f"{stem}.npz", f"{stem}_float.npz"
        for ql in self.layers:
            lines.append(f"  - name: {ql.name}")
            lines.append(f"    kernel: {ql.kind}")
            for r, t in ql.reads.items():
                lines.append(f"    {r}: {t}")
            for k, v in ql.params.items():
                lines.append(f"    {k}: {_scalar(v)}")
            if ql.types:
                lines.append("    types: {" + ", ".join(f"{n}: '{f}'" for n, f in ql.types.items()) + "}")
            if ql.weight is not None:
                fv = ql.factor_values().reshape(-1)
                lines.append(f"    factor: {{file: {data}, key: {ql.name}.factor}}    # raw; "
                             + (f"{fv.min():.6g} .. {fv.max():.6g}" if fv.size > 1 else f"{fv[0]:.6g}"))
                lines.append(f"    weight: {{file: {data}, key: {ql.name}.weight}}")
                lines.append(f"    bias: {{file: {data}, key: {ql.name}.bias}}")
                lines.append("    float:")
                lines.append(f"      weight: {{file: {fdata}, key: {ql.name}.weight}}")
                lines.append(f"      bias: {{file: {fdata}, key: {ql.name}.bias}}")
                lines.append(f"      input_scale: {_num(ql.input_scale)}")
                lines.append(f"      output_scale: {_num(ql.output_scale)}")
            else:
                lines.append(f"    # scale {_num(ql.output_scale)} (its input's)")
        lines.append(f"output: {self.output}")
        if float_model is not None:
            lines += _float_model_lines(float_model, {ql.name for ql in self.layers})
        return "\n".join(lines) + "\n"

    def files(self, stem: str, input: Mapping[str, Any], **yaml_args: Any) -> dict[str, bytes]:
        """``{STEM.yaml, STEM.npz, STEM_float.npz: bytes}``; the same network gives the same
        bytes (the .npz members are stored with a fixed time stamp)."""
        if not isinstance(stem, str) or not _NAME.fullmatch(stem):
            raise ValueError(f"stem: {stem!r}: use 1 to 64 letters, digits, '_', '-', '.'")
        ints, floats = self.arrays()
        return {f"{stem}.yaml": self.yaml(stem, input, **yaml_args).encode(),
                f"{stem}.npz": npz_bytes(ints), f"{stem}_float.npz": npz_bytes(floats)}

    def write(self, out_dir: str | Path, stem: str, input: Mapping[str, Any], *,
              force: bool = False, **yaml_args: Any) -> list[Path]:
        """Write :meth:`files` into ``out_dir``, all or nothing; nothing is overwritten
        unless ``force``."""
        from hls_sim.files import write_files
        from hls_sim.runner import OutputError, check_outputs

        payload = self.files(stem, input, **yaml_args)
        try:
            d = check_outputs(out_dir, tuple(payload), force)
        except OutputError as e:
            raise ValueError(str(e)) from None
        return write_files(d, payload, ValueError)

    def summary(self) -> str:
        """One line per layer: kind, reads, output type and scale, factor_t and factors."""
        rows = [("layer", "kind", "reads", "out_t", "scale", "factor_t", "factor")]
        for ql in self.layers:
            f = ""
            if ql.weight is not None:
                fv = ql.factor_values().reshape(-1)
                f = f"{fv.min():.4g} .. {fv.max():.4g}" if fv.size > 1 else f"{fv[0]:.4g}"
            rows.append((ql.name, ql.kind, ", ".join(ql.reads.values()), str(ql.out_type),
                         f"{ql.output_scale:.4g}", str(ql.factor_t or ""), f))
        widths = [max(len(r[j]) for r in rows) for j in range(len(rows[0]))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
        lines += [f"note: {ql.name}: {n}" for ql in self.layers for n in ql.notes]
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)


# ---- calibration -----------------------------------------------------------------------------
def calibrate(net: FloatNetwork, images: Any, *, input_scale: float | None = None,
              input_type: str | Format = "ap_uint<8>", per_channel: bool = True,
              weight_t: str | Format = "ap_int<8>", bias_t: str | Format = "ap_int<16>",
              factor_bits: int = FACTOR_BITS, percentile: float = 100.0) -> QuantizedNetwork:
    """Quantize ``net`` with scales from ``images`` (real values, ``[N][C][H][W]``); see the
    module docstring for the rules.

    ``input_scale``: the real value of one unit of the input type (1/255 for pixels as
    [0, 1] reals); None: the images' largest value maps to the top of ``input_type``.
    ``per_channel``: symmetric weight scales (and factors) per output channel, else per tensor.
    ``percentile``: each tensor's scale reaches this percentile of its values over the images
    (of their magnitudes for a signed type) instead of the largest (100): outliers above it
    saturate. Raises ValueError naming what is wrong."""
    x = _images(images)
    nodes = check_network(net, x.shape[1:])
    in_t = _format(input_type, "input_type")
    wt, bt = _format(weight_t, "weight_t"), _format(bias_t, "bias_t")
    if wt.max_value <= 0 or not wt.signed:
        raise ValueError(f"weight_t: {wt} must be signed (symmetric weights)")
    if not isinstance(per_channel, bool):
        raise ValueError(f"per_channel: expected true or false, got {per_channel!r}")
    if isinstance(factor_bits, bool) or not isinstance(factor_bits, int) or not 4 <= factor_bits <= 52:
        raise ValueError(f"factor_bits: expected an integer 4..52, got {factor_bits!r}")
    if isinstance(percentile, bool) or not isinstance(percentile, (int, float, np.floating)) \
            or not 50 <= float(percentile) <= 100:
        raise ValueError(f"percentile: expected a number in [50, 100], got {percentile!r}")
    if input_scale is not None:
        if isinstance(input_scale, bool) or not isinstance(input_scale, (int, float, np.floating)) \
                or not math.isfinite(float(input_scale)) or not input_scale > 0:
            raise ValueError(f"input_scale: expected a positive finite number, got {input_scale!r}")
        input_scale = float(input_scale)

    types = _tensor_types(nodes, in_t)
    peaks = _peaks(nodes, x, types, float(percentile))
    notes: list[str] = []
    if not in_t.signed and (x < 0).any():
        notes.append(f"{int((x < 0).sum())} negative input value(s) clip to 0 in {in_t}")
    if input_scale is None:
        if peaks[INPUT] <= 0:
            raise ValueError("images: every value is 0 (or negative for an unsigned input "
                             "type); cannot choose an input scale")
        input_scale = _round_up(peaks[INPUT] / in_t.max_value)
    scales = _group_scales(nodes, types, peaks, input_scale, notes)

    layers = []
    for nd in nodes:
        name = nd.layer.name
        out_t = types[name]
        given = {n: parse(s) for n, s in nd.layer.types.items()}
        params = dict(nd.layer.params)
        if not nd.kind.epilogue:
            lt = {"out_t": out_t}
            lt.update({n: f for n, f in given.items() if n != "out_t"})
            layers.append(QuantizedLayer(name, nd.kind.name, params, dict(nd.reads), lt, out_t,
                                         scales[name]))
            continue
        layers.append(_quantize(nd, out_t, given, scales[nd.reads["input"]], scales[name],
                                types[nd.reads["input"]], wt, bt, per_channel, factor_bits))
    out = net.output if net.output is not None else nodes[-1].layer.name
    return QuantizedNetwork(in_t, input_scale, layers, out, types, scales, peaks, notes)


def _format(spelling: str | Format, what: str) -> Format:
    if isinstance(spelling, Format):
        return spelling
    try:
        return parse(spelling)
    except (ValueError, TypeError) as e:
        raise ValueError(f"{what}: {e}") from None


def _tensor_types(nodes: list[_Node], in_t: Format) -> dict[str, Format]:
    """Every tensor's type: relu layers ap_uint<8>, the others a saturating ap_fixed<8,8>,
    movers their input's, add the exact sum, concat the common type; ``types`` overrides."""
    types = {INPUT: in_t}
    for nd in nodes:
        a = types[nd.reads["input"]]
        given = nd.layer.types.get("out_t")
        if given is not None:
            t = parse(given)
        elif nd.kind.epilogue:
            t = parse(RELU_OUT if nd.relu else LINEAR_OUT)
        elif nd.kind.has("input2"):
            b = types[nd.reads["input2"]]
            both = sum_type(KernelConfig(in_t=a, in2_t=b))
            stacks = nd.geom.shape("top")[0] == nd.geom.shape("input")[0] + nd.geom.shape("input2")[0]
            t = a if stacks and a == b else both  # concat keeps a common type; add's values grow
        else:
            t = a
        types[nd.layer.name] = t
    return types


def _peaks(nodes: list[_Node], x: np.ndarray, types: dict[str, Format],
           percentile: float = 100.0) -> dict[str, float]:
    """The largest float value of every tensor over the images (largest magnitude for a
    signed type), or that percentile of them: what its scale must reach."""
    peaks = dict.fromkeys(types, 0.0)
    seen: dict[str, list[np.ndarray]] = {t: [] for t in types}
    for img in x:
        for t, v in _run_float(nodes, img):
            v = np.abs(v) if types[t].signed else v
            if percentile < 100:
                seen[t].append(np.ravel(v))
            else:
                peaks[t] = max(peaks[t], float(v.max()))
    if percentile < 100:
        peaks = {t: max(0.0, float(np.percentile(np.concatenate(seen[t]), percentile)))
                 for t in types}
    for nd in nodes:  # relu with a top: the top maps to max(out_t), where relu saturates
        if nd.layer.top is not None:
            peaks[nd.layer.name] = float(nd.layer.top)
    return peaks


def _scale_groups(nodes: list[_Node]) -> list[list[str]]:
    """The tensors that must share one scale: a mover's or a merge's output and inputs."""
    parent: dict[str, str] = {INPUT: INPUT}

    def find(t: str) -> str:
        while parent[t] != t:
            parent[t] = parent[parent[t]]
            t = parent[t]
        return t

    for nd in nodes:
        parent[nd.layer.name] = nd.layer.name
        if not nd.kind.epilogue:
            for src in nd.reads.values():
                parent[find(src)] = find(nd.layer.name)
    groups: dict[str, list[str]] = {}
    for t in parent:
        groups.setdefault(find(t), []).append(t)
    return list(groups.values())


def _group_scales(nodes: list[_Node], types: dict[str, Format], peaks: dict[str, float],
                  input_scale: float, notes: list[str]) -> dict[str, float]:
    scales: dict[str, float] = {}
    for group in _scale_groups(nodes):
        need = {t: peaks[t] / types[t].max_value for t in group}
        if INPUT in group:
            s = input_scale
            over = [t for t in group if need[t] > s * (1 + 1e-12)]
            if over:
                notes.append(f"{', '.join(over)} share the input's scale {s:.6g} and saturate "
                             "on the calibration images")
        else:
            s = _round_up(max(need.values()))
            if not s > 0:
                raise ValueError(f"layer {group[0]}: its float output (and that of "
                                 f"{', '.join(group[1:]) or 'no other tensor'} sharing its scale) "
                                 "is 0 on every calibration image; cannot choose a scale")
        scales.update(dict.fromkeys(group, s))
    return scales


def _round_up(s: float) -> float:
    """``s`` rounded up to 24 significant bits (a float32): calibrated scales, and so every
    file, then do not depend on the last bits of the float forward pass (BLAS libraries sum
    in different orders on different machines)."""
    r = np.float32(s)
    if float(r) < s:
        r = np.nextafter(r, np.float32(np.inf))
    return float(r)


def _quantize(nd: _Node, out_t: Format, given: dict[str, Format], s_in: float, s_out: float,
              in_t: Format, wt: Format, bt: Format, per_channel: bool,
              factor_bits: int) -> QuantizedLayer:
    """One layer with weights: integer weight, bias, factor and the factor_t that keeps it."""
    name, kind, geom = nd.layer.name, nd.kind, nd.geom
    wt, bt = given.get("weight_t", wt), given.get("bias_t", bt)
    notes: list[str] = []
    co = geom.out_channels
    w = nd.weight
    # each weight's output channel, in the kind's own layout (the registry knows where it is)
    owner = kind.conv.scale_weight(geom, np.ones_like(w), np.arange(co, dtype=np.float64))
    peak = np.array([np.abs(w[owner == c]).max(initial=0.0) for c in range(co)])
    if not per_channel:
        peak = np.full(co, peak.max())
    live = peak > 0
    s_w = np.where(live, peak / wt.max_value, 1.0)
    wq = _nearest(wt).quantize(w / kind.conv.scale_weight(geom, np.ones_like(w), s_w))
    fval = np.where(live, s_w * s_in / s_out, 0.0)
    if not live.any():
        notes.append("every weight is 0: the output is relu(bias)")
    ft = given.get("factor_t") or _factor_type(fval, _acc_width(given), factor_bits)
    fq = _nearest(ft).quantize(fval)
    if fq.overflowed.any():
        raise ValueError(f"{nd.where}.types.factor_t: {ft} cannot hold the factor "
                         f"{float(fval.max()):.6g} (weight scale x input scale / output scale)")
    lost = _factor_loss(fval, fq.raw, ft)
    if lost is not None:
        if "factor_t" not in given:  # pragma: no cover - _factor_type keeps 4+ bits by construction
            raise AssertionError(f"{name}: chosen factor_t {ft} loses the factor: {lost}")
        notes.append(f"factor_t {ft}: {lost}")
    bq = _nearest(bt).quantize(nd.bias / s_out)
    if bq.overflowed.any():
        notes.append(f"{int(bq.overflowed.sum())} bias value(s) saturate in {bt}")
    acc_t = given.get("acc_t") or KernelConfig().acc_t
    bound = _acc_bound(kind, geom, np.asarray(wq.raw, dtype=np.int64), in_t)
    if bound > acc_t.max_value:
        notes.append(f"acc_t {acc_t} can overflow: a sum of products can reach {bound:.6g}")
    fvals = fval if per_channel else np.asarray(fval[0])
    f_raw = np.asarray(fq.raw, dtype=np.int64)
    types = {"weight_t": wt, "bias_t": bt, "factor_t": ft, "out_t": out_t}
    types.update({n: f for n, f in given.items() if n not in types})
    params = dict(nd.layer.params)
    top = nd.layer.top
    if top is not None and top / s_out < out_t.max_value * (1 - 1e-6):
        # the scale is shared with a larger tensor: the top is an activation: clip below max(out_t)
        raw = max(1, min(int(np.rint(top / s_out / out_t.lsb)), int(out_t.max_raw)))
        params.update(activation="clip", clip_at=raw * out_t.lsb)
        if abs(raw * out_t.lsb * s_out - top) > 1e-9 * top:
            notes.append(f"top {top:g} clips at {raw * out_t.lsb:g} in out_t units "
                         f"({raw * out_t.lsb * s_out:.6g} real)")
    return QuantizedLayer(
        name, kind.name, params, dict(nd.reads), types, out_t, s_out, s_in,
        np.asarray(wq.raw, dtype=np.int64), np.asarray(bq.raw, dtype=np.int64),
        f_raw if per_channel else f_raw[:1].reshape(()), fvals, s_w,
        _as_given(nd.layer.weight), _as_given(nd.layer.bias if nd.layer.bias is not None
                                               else np.zeros(co)), notes)


def _acc_width(given: dict[str, Format]) -> int:
    return (given.get("acc_t") or KernelConfig().acc_t).width


def _factor_type(values: np.ndarray, acc_width: int, bits: int) -> Format:
    """``ap_fixed<W, I>``: I integer bits hold the largest factor (after rounding), and the
    smallest nonzero one keeps ``bits`` significant bits; W is capped where ``acc_t *
    factor_t`` would leave int64 (the fast path) as long as every factor still keeps 8
    significant bits."""
    nz = values[values > 0]
    if nz.size == 0:
        return KernelConfig().factor_t
    hi, lo = float(nz.max()), float(nz.min())
    i_bits = 1
    while 2.0 ** (i_bits - 1) <= hi * (1 + 2.0 ** -bits):
        i_bits += 1

    def frac_for(b: int) -> int:
        return max(0, math.ceil(b - 1 - math.log2(lo)))

    width = i_bits + frac_for(bits)
    if width > 64 - acc_width:
        width = max(64 - acc_width, i_bits + frac_for(8))
    return Format("fixed", width, i_bits, True)


def _factor_loss(values: np.ndarray, raw: Any, ft: Format) -> str | None:
    """``hls-sim run``'s factor-precision rule (README: rounds to 0, under 4 significant
    bits or more than 1/16 off), as its message, or None when every factor keeps it."""
    from hls_sim.runner import factor_precision

    layer = SimpleNamespace(factor_requested=np.asarray(values, dtype=np.float64),
                            factor=np.asarray(raw), config=SimpleNamespace(factor_t=ft))
    fp = factor_precision(layer)
    return None if fp is None else fp.message()


def _acc_bound(kind: Kind, geom: Geometry, w_raw: np.ndarray, in_t: Format) -> float:
    """The largest |sum of products| any input of in_t can give: the weight magnitudes of
    one output channel times the largest input magnitude."""
    x_peak = max(abs(in_t.max_raw), abs(in_t.min_raw))
    owner = kind.conv.scale_weight(geom, np.ones(w_raw.shape), np.arange(geom.out_channels,
                                                                         dtype=np.float64))
    per = [float(np.abs(w_raw[owner == c]).sum()) for c in range(geom.out_channels)]
    return max(per) * x_peak


# ---- helpers -----------------------------------------------------------------------------------
def sqnr_db(reference: Any, test: Any) -> float:
    """Signal-to-quantization-noise ratio of ``test`` against ``reference``, in dB:
    ``10 log10(sum ref^2 / sum (test - ref)^2)`` (inf when they are equal)."""
    r = np.asarray(reference, dtype=np.float64)
    t = np.asarray(test, dtype=np.float64)
    if r.shape != t.shape:
        raise ValueError(f"test: shape {_dims(t.shape)}, reference {_dims(r.shape)}")
    noise = float(np.sum((t - r) ** 2))
    signal = float(np.sum(r * r))
    if noise == 0:
        return math.inf
    return 10 * math.log10(signal / noise) if signal > 0 else -math.inf


def npz_bytes(arrays: Mapping[str, np.ndarray]) -> bytes:
    """A ``.npz`` (uncompressed zip of ``.npy`` members, as ``numpy.savez`` writes) whose bytes
    depend only on the arrays: members in the given order, a fixed time stamp."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for key, arr in arrays.items():
            info = zipfile.ZipInfo(f"{key}.npy", date_time=_NPZ_DATE)
            info.create_system = 3
            info.external_attr = 0o644 << 16
            member = io.BytesIO()
            np.lib.format.write_array(member, np.asarray(arr, order="C"), allow_pickle=False)
            z.writestr(info, member.getvalue())
    return buf.getvalue()


def _nearest(fmt: Format) -> Format:
    """``fmt``'s raw encoding, rounding to nearest (ties to even) and saturating."""
    return Format("fixed", fmt.width, fmt.int_bits, fmt.signed, QMode.AP_RND_CONV, OMode.AP_SAT)


def _frac(fmt: Format) -> int:
    return fmt.frac_bits if fmt.kind == "fixed" else 0


def _compact(raw: np.ndarray, fmt: Format) -> np.ndarray:
    """Raw integers in the narrowest numpy integer dtype that holds every value of ``fmt``."""
    for dt in (np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.int64):
        info = np.iinfo(dt)
        if info.min <= fmt.min_raw and fmt.max_raw <= info.max:
            return np.asarray(raw).astype(dt)
    return np.asarray(raw, dtype=np.int64)


def _as_given(a: np.ndarray) -> np.ndarray:
    """A float array in its own float dtype (float32 stays float32), else float64."""
    a = np.asarray(a)
    return np.ascontiguousarray(a if a.dtype in (np.float32, np.float64) else a.astype(np.float64))


def _dims(shape: Sequence[int]) -> str:
    return "".join(f"[{int(n)}]" for n in shape) if len(shape) else "a scalar"


def _num(v: float) -> str:
    """A float as YAML 1.1 reads it back as the same float64 (quantize's rule)."""
    from hls_sim.quantize import _num as yaml_float

    return yaml_float(v)


def _scalar(v: Any) -> str:
    if isinstance(v, (bool, np.bool_)):
        return "true" if v else "false"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return _num(v)
    if isinstance(v, str) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", v) and v.lower() not in (
            "null", "true", "false", "yes", "no", "on", "off", "y", "n"):
        return v
    raise ValueError(f"params: cannot write {v!r} as a parameter value")


def _flow(node: Mapping[str, Any]) -> str:
    parts = []
    for k, v in node.items():
        if isinstance(v, str):
            if not re.fullmatch(r"[A-Za-z0-9_./<>,\-]+", v):
                raise ValueError(f"input.{k}: {v!r}: use letters, digits and _ . / - < > , only")
            parts.append(f"{k}: '{v}'" if "," in v or "<" in v else f"{k}: {v}")
        else:
            parts.append(f"{k}: {_scalar(v)}")
    return "{" + ", ".join(parts) + "}"


def _float_model_lines(fm: Mapping[str, Any], layers: set[str]) -> list[str]:
    """The network file's ``float_model:`` block; keys and names as JSON strings (a YAML
    double-quoted scalar: ONNX tensor names may hold any character)."""
    import json

    unknown = sorted(set(fm["tensors"]) - layers)
    if unknown:
        raise ValueError(f"float_model.tensors: {unknown[0]!r} is not a layer of the network")
    lines = ["float_model:    # hls-sim report's float reference: this ONNX model, run by onnxruntime",
             f"  file: {json.dumps(str(fm['file']))}",
             "  tensors:" + ("       # layer: the ONNX tensor that holds its float output"
                             if fm["tensors"] else " {}")]
    lines += [f"    {json.dumps(k)}: {json.dumps(str(v))}" for k, v in fm["tensors"].items()]
    return lines


def _yaml_text(s: str) -> str:
    import json

    return json.dumps(" ".join(str(s).split()))


__all__ = ["FloatLayer", "FloatNetwork", "QuantizedLayer", "QuantizedNetwork", "calibrate",
           "check_network", "forward", "npz_bytes", "sqnr_db"]
