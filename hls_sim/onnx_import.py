"""From a trained model to a network file: ONNX graphs become a :class:`FloatNetwork`.

    from hls_sim.onnx_import import import_onnx, load_calibration, onnx_outputs
    imp = import_onnx("model.onnx")           # Imported: the float network, input shape, notes
    x = load_calibration("calib.npy")          # float [N][C][H][W], real units
    q = calibrate(imp.network, x)              # hls_sim.calibrate: the quantized network
    y = onnx_outputs("model.onnx", x)          # the model itself, run with onnxruntime

The importer reads a float ONNX model (NCHW, one input, one output, weights as initializers
or Constant nodes) node by node in the graph's (topological) order and maps each node to a
layer kind of the registry (docs/kinds.md), folding what a kind absorbs:

- ``Conv`` (groups, dilation, symmetric padding) -> conv2d; ``ConvTranspose`` (output_padding)
  -> conv_transpose; ``Gemm`` / ``MatMul`` on a vector -> linear;
- ``BatchNormalization`` right after one of them is folded into its weight and bias; ``Add``
  of a per-channel constant right after one of them is its bias;
- ``Relu`` after one of them is its activation, after an add the add's fused relu, after a
  max_pool its relu; elsewhere a 1x1 max_pool with ``relu: after``. ``Clip(0, top)`` after a
  layer with weights is relu with a top (``FloatLayer.top``);
- ``MaxPool`` / ``AveragePool`` (and the global ones on a square map of at most 4x4) ->
  max_pool / avg_pool; ``Resize`` nearest by an integer factor 2..4 whose coordinate mapping
  repeats each pixel -> upsample; ``Add`` of two maps -> add; ``Concat`` on channels -> concat
  (a chain for more than two inputs);
- ``Flatten`` / ``Reshape`` of a ``[C][1][1]`` map (and back), ``Identity``, ``Dropout``:
  nothing (the linear kind holds vectors as ``[C][1][1]`` maps).

Anything else is refused with one line, ``node NAME (OpType): reason``. onnx is imported
lazily: the base install does not need it (``pip install hls-sim[onnx]``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from hls_sim.calibrate import INPUT, FloatLayer, FloatNetwork
from hls_sim.kernels import KINDS

EXTRA = "onnx"  # the pyproject extra that installs onnx and onnxruntime
_NAME_BAD = re.compile(r"[^A-Za-z0-9_.\-]")


class OnnxImportError(ValueError):
    """A model hls-sim cannot import: one line naming the node, its op type and why."""


def missing(package: str, extra: str = EXTRA) -> OnnxImportError:
    """The error for an optional package that is not installed: which extra installs it."""
    return OnnxImportError(f"the {package} package is not installed: pip install "
                           f"'hls-sim[{extra}]'")


def require_onnx() -> Any:
    """The onnx module, or OnnxImportError saying which extra installs it."""
    try:
        import onnx
    except ImportError:
        raise missing("onnx") from None
    return onnx


# ---- the result ------------------------------------------------------------------------------
@dataclass(eq=False)
class Imported:
    """A float ONNX model as a float network: ``input_shape`` is ``[C][H][W]`` per image;
    ``vector_output``: the model's output is ``[N][C]`` (hls-sim holds it as ``[N][C][1][1]``);
    ``notes``: what was folded or absorbed, one line each; ``tensors``: each layer whose
    output the model holds in one of its tensors (after the folds: a convolution with a
    folded Relu is the Relu's output) -> that tensor's name (a network file's
    ``float_model.tensors``)."""

    network: FloatNetwork
    input_name: str
    input_shape: tuple[int, int, int]
    output_name: str
    vector_output: bool
    notes: list[str] = field(default_factory=list)
    tensors: dict[str, str] = field(default_factory=dict)


@dataclass(eq=False)
class _Layer:
    """A layer being built (mutable while later nodes fold into it)."""

    name: str
    kind: str
    params: dict[str, Any]
    input: str
    input2: str | None = None
    weight: np.ndarray | None = None
    bias: np.ndarray | None = None
    top: float | None = None
    onnx_out: str = ""  # the ONNX tensor holding its output so far (for folding)
    absorbed: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Val:
    """What an ONNX tensor is in hls-sim: a tensor of the network (INPUT or a layer's name),
    a vector ``[N][C]`` or a map ``[N][C][H][W]``."""

    tensor: str
    vector: bool


# ---- loading ---------------------------------------------------------------------------------
def load_model(path: str | Path) -> Any:
    """The ONNX model in ``path`` (a ModelProto), checked by onnx's checker."""
    onnx = require_onnx()
    p = Path(path)
    if not p.is_file():
        raise OnnxImportError("not a file" if p.exists() else "no such file")
    try:
        model = onnx.load(str(p))
        onnx.checker.check_model(model)
    except Exception as e:  # noqa: BLE001 - onnx raises several unrelated types
        raise OnnxImportError(f"not a valid ONNX model: {' '.join(str(e).split())[:300]}") from None
    return model


def import_onnx(model: Any) -> Imported:
    """``model`` (a path or a ModelProto) as a float network; OnnxImportError otherwise."""
    if isinstance(model, (str, Path)):
        model = load_model(model)
    return _Importer(model).run()


def _node_label(node: Any, i: int) -> str:
    return node.name or f"#{i}"


class _Importer:
    def __init__(self, model: Any) -> None:
        from onnx import numpy_helper

        self.np = numpy_helper
        self.graph = model.graph
        self.consts: dict[str, np.ndarray] = {t.name: numpy_helper.to_array(t)
                                              for t in self.graph.initializer}
        self.vals: dict[str, _Val] = {}
        self.layers: list[_Layer] = []
        self.by_name: dict[str, _Layer] = {}
        self.shapes: dict[str, tuple[int, ...]] = {}
        self.notes: list[str] = []
        self.uses: dict[str, int] = {}
        for node in self.graph.node:
            for t in node.input:
                if t:
                    self.uses[t] = self.uses.get(t, 0) + 1
        for o in self.graph.output:
            self.uses[o.name] = self.uses.get(o.name, 0) + 1
        self.names: set[str] = {INPUT}

    # -- the graph's ends --
    def _input(self) -> tuple[str, tuple[int, int, int]]:
        from onnx import TensorProto

        ins = [i for i in self.graph.input if i.name not in self.consts]
        if len(ins) != 1:
            raise OnnxImportError(f"graph: {len(ins)} inputs ({', '.join(i.name for i in ins)}); "
                                  "hls-sim imports a model with one input")
        i = ins[0]
        tt = i.type.tensor_type
        if tt.elem_type != TensorProto.FLOAT:
            raise OnnxImportError(f"input {i.name}: not a float32 tensor")
        dims = [d.dim_value if d.HasField("dim_value") else None for d in tt.shape.dim]
        if len(dims) != 4 or any(d is None or d < 1 for d in dims[1:]):
            raise OnnxImportError(f"input {i.name}: shape {dims}; expected [N, C, H, W] with C, H "
                                  "and W fixed")
        return i.name, (dims[1], dims[2], dims[3])

    def run(self) -> Imported:
        in_name, shape = self._input()
        self.vals[in_name] = _Val(INPUT, False)
        self.shapes[INPUT] = shape
        for i, node in enumerate(self.graph.node):
            self.node(node, _node_label(node, i))
        outs = list(self.graph.output)
        if len(outs) != 1:
            raise OnnxImportError(f"graph: {len(outs)} outputs; hls-sim imports a model with one")
        out = self.vals.get(outs[0].name)
        if out is None or out.tensor == INPUT:
            raise OnnxImportError(f"output {outs[0].name}: not computed by any layer")
        for ly in self.layers:
            if ly.absorbed:
                self.notes.append(f"{ly.name}: {', '.join(ly.absorbed)} folded in")
        layers = [FloatLayer(ly.name, ly.kind, ly.params, ly.weight, ly.bias, ly.input, ly.input2,
                             top=ly.top) for ly in self.layers]
        computed = {t for node in self.graph.node for t in node.output if t}
        tensors = {ly.name: ly.onnx_out for ly in self.layers if ly.onnx_out in computed}
        return Imported(FloatNetwork(layers, output=out.tensor), in_name, shape, outs[0].name,
                        out.vector, self.notes, tensors)

    # -- helpers --
    def err(self, label: str, op: str, reason: str) -> OnnxImportError:
        return OnnxImportError(f"node {label} ({op}): {reason}")

    def const(self, name: str) -> np.ndarray | None:
        return self.consts.get(name) if name else None

    def val(self, node: Any, label: str, k: int = 0) -> _Val:
        name = node.input[k] if k < len(node.input) else ""
        v = self.vals.get(name)
        if v is None:
            what = "a constant" if name in self.consts else "not a tensor hls-sim computes"
            raise self.err(label, node.op_type, f"input {k} ({name or 'empty'}) is {what}; "
                                                "expected a feature map")
        return v

    def weight(self, node: Any, label: str, k: int, what: str) -> np.ndarray:
        w = self.const(node.input[k]) if k < len(node.input) else None
        if w is None:
            raise self.err(label, node.op_type, f"its {what} ({node.input[k] if k < len(node.input) else 'missing'}) "
                                                "is not a constant (an initializer or Constant node)")
        w = np.asarray(w)
        return w if w.dtype in (np.float32, np.float64) else w.astype(np.float64)

    def layer_name(self, label: str, op: str) -> str:
        base = _NAME_BAD.sub("_", label.lstrip("/")).strip("_.-") or op.lower()
        base = base[:56]
        if not re.match(r"[A-Za-z0-9_]", base):
            base = f"l{base}"[:56]
        name, n = base, 1
        while name in self.names:
            name, n = f"{base}_{n}", n + 1
        self.names.add(name)
        return name

    def add(self, node: Any, label: str, kind: str, params: dict[str, Any], src: _Val,
            src2: _Val | None = None, weight: np.ndarray | None = None,
            bias: np.ndarray | None = None, out: str | None = None, vector: bool = False) -> _Layer:
        """A new layer reading ``src`` (``src2``), its shape checked by the registry."""
        name = self.layer_name(label, node.op_type)
        k = KINDS[kind]
        p = dict(params)
        shape = self.shapes[src.tensor]
        if k.input_dims == ("in_features",):
            p["in_features"] = shape[0]
        else:
            p.update(in_channels=shape[0], height=shape[1], width=shape[2])
        if src2 is not None and "in2_channels" in k.param_names:
            p["in2_channels"] = self.shapes[src2.tensor][0]
        try:
            geom = k.geometry(p)
        except ValueError as e:
            raise self.err(label, node.op_type, f"{kind}: {e}") from None
        ly = _Layer(name, kind, dict(params), src.tensor, src2.tensor if src2 else None,
                    weight, bias, onnx_out=out if out is not None else node.output[0])
        self.layers.append(ly)
        self.by_name[name] = ly
        self.shapes[name] = geom.shape("top")
        self.vals[ly.onnx_out] = _Val(name, vector)
        return ly

    def foldable(self, node: Any) -> _Layer | None:
        """The layer whose output this node alone reads (and no one else), if any."""
        src = node.input[0] if node.input else ""
        v = self.vals.get(src)
        if v is None or v.tensor == INPUT:
            return None
        ly = self.by_name[v.tensor]
        if ly.onnx_out != src or self.uses.get(src, 0) != 1:
            return None
        return ly

    def alias(self, node: Any, v: _Val) -> None:
        self.vals[node.output[0]] = v
        if v.tensor != INPUT:
            ly = self.by_name[v.tensor]
            if ly.onnx_out == node.input[0]:
                ly.onnx_out = node.output[0]
                self.uses[node.output[0]] = self.uses.get(node.output[0], 0) + \
                    self.uses.get(node.input[0], 0) - 1

    # -- the nodes --
    def node(self, node: Any, label: str) -> None:
        op = node.op_type
        if node.domain not in ("", "ai.onnx"):
            raise self.err(label, op, f"operator domain {node.domain!r}: only standard ONNX "
                                      "operators (and QONNX Quant nodes) are imported")
        if op == "Constant":
            self.consts[node.output[0]] = self._constant(node, label)
            return
        if all(t in self.consts or not t for t in node.input) and node.input:
            raise self.err(label, op, "computes on constants only; fold it first (e.g. "
                                      "onnx-simplifier)")
        handler = getattr(self, f"op_{op}", None)
        if handler is None:
            raise self.err(label, op, "no layer kind computes this operator")
        extra = [o for o in node.output[1:] if o and self.uses.get(o)]
        if extra:
            raise self.err(label, op, f"its output {extra[0]} is used; hls-sim computes only the "
                                      "first output")
        handler(node, label, _attrs(node))

    def _constant(self, node: Any, label: str) -> np.ndarray:
        from onnx import helper

        for a in node.attribute:
            if a.name == "value":
                return self.np.to_array(a.t)
            if a.name in ("value_float", "value_int", "value_floats", "value_ints"):
                return np.asarray(helper.get_attribute_value(a))
        raise self.err(label, "Constant", "only tensor and number constants are read")

    def _window(self, node: Any, label: str, a: dict[str, Any]) -> tuple[int, int]:
        """Stride and padding of a square 2-D window (same on both axes, both sides)."""
        op = node.op_type
        pad = a.get("auto_pad", "NOTSET")
        if pad not in ("NOTSET", "VALID"):
            raise self.err(label, op, f"auto_pad {pad}: give explicit pads")
        strides = a.get("strides", [1, 1])
        pads = a.get("pads", [0, 0, 0, 0]) if pad == "NOTSET" else [0, 0, 0, 0]
        if len(strides) != 2 or strides[0] != strides[1]:
            raise self.err(label, op, f"strides {strides}: only 2-D windows with one stride")
        if len(pads) != 4 or len(set(pads)) != 1:
            raise self.err(label, op, f"pads {pads}: only the same padding on every side")
        if "dilations" in a and op in ("MaxPool", "AveragePool") and set(a["dilations"]) != {1}:
            raise self.err(label, op, f"dilations {a['dilations']}: pooling windows are dense")
        return int(strides[0]), int(pads[0])

    @staticmethod
    def _square(kshape: Sequence[int]) -> int | None:
        return int(kshape[0]) if len(kshape) == 2 and kshape[0] == kshape[1] else None

    def _map(self, node: Any, label: str) -> _Val:
        v = self.val(node, label)
        if v.vector:
            raise self.err(label, node.op_type, "reads a vector; expected a feature map [N, C, H, W]")
        return v

    def op_Conv(self, node: Any, label: str, a: dict[str, Any]) -> None:
        self._conv(node, label, a, transpose=False)

    def op_ConvTranspose(self, node: Any, label: str, a: dict[str, Any]) -> None:
        self._conv(node, label, a, transpose=True)

    def _conv(self, node: Any, label: str, a: dict[str, Any], transpose: bool) -> None:
        op = node.op_type
        x = self._map(node, label)
        w = self.weight(node, label, 1, "weight")
        if w.ndim != 4:
            raise self.err(label, op, f"weight of {w.ndim - 2} spatial dimensions: only 2-D")
        k = self._square(w.shape[2:])
        if k is None or list(a.get("kernel_shape", w.shape[2:])) != list(w.shape[2:]):
            raise self.err(label, op, f"kernel {list(w.shape[2:])}: only square kernels")
        s, p = self._window(node, label, a)
        dil = a.get("dilations", [1, 1])
        if len(dil) != 2 or dil[0] != dil[1]:
            raise self.err(label, op, f"dilations {dil}: only the same dilation on both axes")
        g = int(a.get("group", 1))
        co = w.shape[1] * g if transpose else w.shape[0]
        params = {"out_channels": int(co), "kernel_size": k, "stride": s, "padding": p,
                  "dilation": int(dil[0]), "groups": g, "activation": "none"}
        if transpose:
            op_pad = a.get("output_padding", [0, 0])
            if len(op_pad) != 2 or op_pad[0] != op_pad[1]:
                raise self.err(label, op, f"output_padding {op_pad}: only the same on both axes")
            params["output_padding"] = int(op_pad[0])
        b = node.input[2] if len(node.input) > 2 else ""
        bias = np.zeros(co, w.dtype) if not b else self.weight(node, label, 2, "bias").reshape(-1)
        ly = self.add(node, label, "conv_transpose" if transpose else "conv2d", params, x,
                      weight=w, bias=bias)
        if transpose and "output_shape" in a:
            want = [int(n) for n in a["output_shape"]][-2:]
            if want != list(self.shapes[ly.name][1:]):
                raise self.err(label, op, f"output_shape {want}: the pads give "
                                          f"{list(self.shapes[ly.name][1:])}; give pads instead")

    def op_Gemm(self, node: Any, label: str, a: dict[str, Any]) -> None:
        x = self._vector(node, label)
        if a.get("transA", 0):
            raise self.err(label, "Gemm", "transA 1: the input must be [N, K]")
        w = self.weight(node, label, 1, "weight B")
        if w.ndim != 2:
            raise self.err(label, "Gemm", f"B of shape {list(w.shape)}: expected a matrix")
        w = w if a.get("transB", 0) else w.T
        if a.get("alpha", 1.0) != 1.0:
            w = w.astype(np.float64) * float(a["alpha"])
        co = w.shape[0]
        bias = np.zeros(co, w.dtype)
        if len(node.input) > 2 and node.input[2]:
            c = self.weight(node, label, 2, "C")
            if c.size not in (1, co) or (c.ndim == 2 and c.shape[0] != 1):
                raise self.err(label, "Gemm", f"C of shape {list(c.shape)}: expected a bias [{co}]")
            bias = np.broadcast_to(c.reshape(-1), (co,))
            if a.get("beta", 1.0) != 1.0:
                bias = bias.astype(np.float64) * float(a["beta"])
        self._linear(node, label, x, w, bias)

    def op_MatMul(self, node: Any, label: str, a: dict[str, Any]) -> None:
        x = self._vector(node, label)
        w = self.weight(node, label, 1, "right operand")
        if w.ndim != 2:
            raise self.err(label, "MatMul", f"right operand of shape {list(w.shape)}: expected a "
                                            "matrix [K, M]")
        self._linear(node, label, x, w.T, np.zeros(w.shape[1], w.dtype))

    def _vector(self, node: Any, label: str) -> _Val:
        v = self.val(node, label)
        if not v.vector:
            raise self.err(label, node.op_type, "reads a feature map; expected a vector [N, K] "
                                                "(Flatten a [N, C, 1, 1] map first)")
        return v

    def _linear(self, node: Any, label: str, x: _Val, w: np.ndarray, bias: np.ndarray) -> None:
        if w.shape[1] != self.shapes[x.tensor][0]:
            raise self.err(label, node.op_type, f"weight for {w.shape[1]} inputs; the input has "
                                                f"{self.shapes[x.tensor][0]}")
        self.add(node, label, "linear", {"out_features": int(w.shape[0]), "activation": "none"},
                 x, weight=np.ascontiguousarray(w), bias=np.array(bias),
                 vector=True)

    def op_BatchNormalization(self, node: Any, label: str, a: dict[str, Any]) -> None:
        ly = self.foldable(node)
        if a.get("training_mode", 0):
            raise self.err(label, node.op_type, "training_mode 1: export the model for inference")
        if ly is None or KINDS[ly.kind].conv is None or not KINDS[ly.kind].epilogue \
                or ly.params.get("activation") != "none" or ly.top is not None:
            raise self.err(label, node.op_type, "not right after a convolution or Gemm it can "
                                                "fold into (nothing else reads that output)")
        gamma, beta, mean, var = (self.weight(node, label, k, n).reshape(-1) for k, n in
                                  enumerate(("scale", "B", "mean", "var"), start=1))
        co = ly.bias.size
        if not all(t.size == co for t in (gamma, beta, mean, var)):
            raise self.err(label, node.op_type, f"parameters of {gamma.size} channels; the layer "
                                                f"has {co}")
        s = gamma / np.sqrt(var + float(a.get("epsilon", 1e-5)))
        # the registry's per-output-channel scaling (it reads only the parameters, e.g. groups)
        ly.weight = KINDS[ly.kind].conv.scale_weight(ly.params, ly.weight.astype(np.float64), s)
        ly.bias = (ly.bias.astype(np.float64) - mean) * s + beta
        self._absorb(node, ly, label)

    def _absorb(self, node: Any, ly: _Layer, label: str) -> None:
        ly.absorbed.append(f"{node.op_type} {label}")
        self.alias(node, self.vals[node.input[0]])

    def op_Relu(self, node: Any, label: str, a: dict[str, Any]) -> None:
        ly = self.foldable(node)
        kind = None if ly is None else KINDS[ly.kind]
        fold = None if kind is None else kind.fused_relu
        if fold is not None and ly.params.get(fold[0], _default(kind, fold[0])) == fold[1]:
            ly.params[fold[0]] = fold[2]
            self._absorb(node, ly, label)
        else:  # a relu on its own: a 1x1 max_pool with relu after
            self.add(node, label, "max_pool", {"kernel_size": 1, "stride": 1, "relu": "after"},
                     self._map(node, label))

    def op_Clip(self, node: Any, label: str, a: dict[str, Any]) -> None:
        lo = self._bound(node, label, a, 1, "min", -math.inf)
        hi = self._bound(node, label, a, 2, "max", math.inf)
        if lo != 0:
            raise self.err(label, "Clip", f"min {lo:g}: only Clip(0, top), a relu with a top")
        if math.isinf(hi):
            self.op_Relu(node, label, a)
            return
        ly = self.foldable(node)
        if ly is None or not KINDS[ly.kind].epilogue or ly.params.get("activation") != "none":
            raise self.err(label, "Clip", "only right after a convolution or Gemm (nothing else "
                                          "reading its output), as its relu with a top")
        if not hi > 0:
            raise self.err(label, "Clip", f"max {hi:g}: the top must be above 0")
        ly.params["activation"] = "relu"
        ly.top = hi
        self._absorb(node, ly, label)

    def _bound(self, node: Any, label: str, a: dict[str, Any], k: int, n: str, default: float) -> float:
        if k < len(node.input) and node.input[k]:
            c = self.const(node.input[k])
            if c is None or np.asarray(c).size != 1:
                raise self.err(label, "Clip", f"{n} is not a constant number")
            return float(np.asarray(c).reshape(()))
        return float(a.get(n, default))

    def _pool(self, node: Any, label: str, a: dict[str, Any], kind: str, k: int | None,
              s: int, p: int, extra: dict[str, Any]) -> None:
        op = node.op_type
        x = self._map(node, label)
        if k is None:
            raise self.err(label, op, f"kernel {a.get('kernel_shape')}: only square windows")
        if a.get("ceil_mode", 0):
            h = self.shapes[x.tensor][1:]
            if any((n + 2 * p - k) % s for n in h):
                raise self.err(label, op, "ceil_mode 1 adds a partial window here; only floor "
                                          "output sizes")
        self.add(node, label, kind, {"kernel_size": k, "stride": s, "padding": p, **extra}, x)

    def op_MaxPool(self, node: Any, label: str, a: dict[str, Any]) -> None:
        k = self._square(a.get("kernel_shape", []))
        s, p = self._window(node, label, a)
        self._pool(node, label, a, "max_pool", k, s, p, {})

    def op_AveragePool(self, node: Any, label: str, a: dict[str, Any]) -> None:
        k = self._square(a.get("kernel_shape", []))
        s, p = self._window(node, label, a)
        self._pool(node, label, a, "avg_pool", k, s, p,
                   {"count_include_pad": bool(a.get("count_include_pad", 0))})

    def _global(self, node: Any, label: str, kind: str) -> None:
        x = self._map(node, label)
        _, h, w = self.shapes[x.tensor]
        if h != w:
            raise self.err(label, node.op_type, f"a {h}x{w} map: only square maps")
        self._pool(node, label, {}, kind, h, h, 0, {})

    def op_GlobalAveragePool(self, node: Any, label: str, a: dict[str, Any]) -> None:
        self._global(node, label, "avg_pool")

    def op_GlobalMaxPool(self, node: Any, label: str, a: dict[str, Any]) -> None:
        self._global(node, label, "max_pool")

    def op_Resize(self, node: Any, label: str, a: dict[str, Any]) -> None:
        x = self._map(node, label)
        mode = a.get("mode", "nearest")
        if mode != "nearest":
            raise self.err(label, "Resize", f"mode {mode}: only nearest")
        ctm = a.get("coordinate_transformation_mode", "half_pixel")
        if ctm == "tf_crop_and_resize":
            raise self.err(label, "Resize", "coordinate_transformation_mode tf_crop_and_resize")
        if "axes" in a and list(a["axes"]) not in ([2, 3], [-2, -1]):
            raise self.err(label, "Resize", f"axes {a['axes']}: only the spatial axes")
        c, h, w = self.shapes[x.tensor]
        scales = self.const(node.input[2]) if len(node.input) > 2 else None
        sizes = self.const(node.input[3]) if len(node.input) > 3 else None
        if scales is not None and np.asarray(scales).size:
            f = [float(v) for v in np.asarray(scales).reshape(-1)][-2:]
        elif sizes is not None and np.asarray(sizes).size:
            n = [int(v) for v in np.asarray(sizes).reshape(-1)][-2:]
            f = [n[0] / h, n[1] / w]
        else:
            raise self.err(label, "Resize", "scales and sizes are not constants")
        if f[0] != f[1] or f[0] not in (2.0, 3.0, 4.0):
            raise self.err(label, "Resize", f"scale {f}: only the same integer factor 2..4 on "
                                            "both axes")
        fac = int(f[0])
        nearest = a.get("nearest_mode", "round_prefer_floor")
        for n in (h, w):
            src = _nearest_source(n, fac, ctm, nearest)
            if src is None or not np.array_equal(src, np.arange(n * fac) // fac):
                raise self.err(label, "Resize", f"coordinate_transformation_mode {ctm} with "
                                                f"nearest_mode {nearest} does not repeat each "
                                                "pixel; upsample cannot compute it")
        self.add(node, label, "upsample", {"scale": fac, "mode": "nearest"}, x)

    def op_Add(self, node: Any, label: str, a: dict[str, Any]) -> None:
        consts = [k for k in (0, 1) if node.input[k] in self.consts]
        if consts:
            self._add_bias(node, label, consts[0])
            return
        x, y = self.val(node, label, 0), self.val(node, label, 1)
        if self.shapes[x.tensor] != self.shapes[y.tensor] or x.vector != y.vector:
            raise self.err(label, "Add", f"shapes {list(self.shapes[x.tensor])} and "
                                         f"{list(self.shapes[y.tensor])}: only maps of one shape")
        self.add(node, label, "add", {}, x, y, vector=x.vector)

    def _add_bias(self, node: Any, label: str, k: int) -> None:
        """``layer + constant``: a per-channel constant after a layer with weights is its bias
        (MatMul + Add is how some exporters write a Linear)."""
        src = node.input[1 - k]
        v = self.vals.get(src)
        ly = self.by_name.get(v.tensor) if v is not None else None
        c = np.asarray(self.consts[node.input[k]], dtype=np.float64)
        ok = (v is not None and ly is not None and ly.onnx_out == src and self.uses.get(src, 0) == 1
              and KINDS[ly.kind].epilogue and ly.params.get("activation") == "none")
        co = ly.bias.size if ok else 0
        shape = list(c.shape)
        while ok and shape and shape[0] == 1 and len(shape) > (1 if v.vector else 3):
            shape.pop(0)
        if not ok or not (c.size == 1 or shape == ([co] if v.vector else [co, 1, 1])):
            raise self.err(label, "Add", "adds a constant that is not the per-channel bias of "
                                         "the convolution or Gemm/MatMul right before it")
        ly.bias = ly.bias.astype(np.float64) + np.broadcast_to(c.reshape(-1), (co,))
        self._absorb_at(node, ly, label, src)

    def _absorb_at(self, node: Any, ly: _Layer, label: str, src: str) -> None:
        ly.absorbed.append(f"{node.op_type} {label}")
        self.vals[node.output[0]] = self.vals[src]
        ly.onnx_out = node.output[0]

    def op_Concat(self, node: Any, label: str, a: dict[str, Any]) -> None:
        vs = [self.val(node, label, k) for k in range(len(node.input))]
        vector = vs[0].vector
        rank = 2 if vector else 4
        if any(v.vector != vector for v in vs) or int(a.get("axis", 1)) not in (1, 1 - rank):
            raise self.err(label, "Concat", f"axis {a.get('axis')}: only along channels (axis 1)")
        if len(vs) == 1:
            self.alias(node, vs[0])
            return
        acc = vs[0]
        for j, v in enumerate(vs[1:], start=1):
            last = j == len(vs) - 1
            ly = self.add(node, label, "concat", {}, acc, v, vector=vector,
                          out=node.output[0] if last else f"{node.output[0]}#{j}")
            acc = _Val(ly.name, vector)

    def op_Flatten(self, node: Any, label: str, a: dict[str, Any]) -> None:
        v = self.val(node, label)
        if int(a.get("axis", 1)) != 1:
            raise self.err(label, "Flatten", f"axis {a.get('axis')}: only axis 1 (keep the batch)")
        self._as_vector(node, label, v)

    def _as_vector(self, node: Any, label: str, v: _Val) -> None:
        c, h, w = self.shapes[v.tensor]
        if (h, w) != (1, 1):
            raise self.err(label, node.op_type, f"flattens a [{c}][{h}][{w}] map; only [C][1][1] "
                                                "maps become vectors (the linear kind reads those)")
        self.alias(node, _Val(v.tensor, True))

    def op_Reshape(self, node: Any, label: str, a: dict[str, Any]) -> None:
        v = self.val(node, label)
        target = self.const(node.input[1])
        if target is None:
            raise self.err(label, "Reshape", "its shape is not a constant")
        c, h, w = self.shapes[v.tensor]
        dims = [int(d) for d in np.asarray(target).reshape(-1)]
        per = dims[1:] if dims and dims[0] in (0, -1, 1) else None
        if per is not None and -1 in per:
            known = int(np.prod([d for d in per if d != -1]))
            per = [c * h * w // known if d == -1 else d for d in per] if known else None
        if per == [c * h * w] and (h, w) == (1, 1):
            self.alias(node, _Val(v.tensor, True))
        elif per == [c, 1, 1] and (h, w) == (1, 1):
            self.alias(node, _Val(v.tensor, False))
        elif per == [c, h, w] and not v.vector:
            self.alias(node, v)
        else:
            raise self.err(label, "Reshape", f"to {dims} from [N, {c}, {h}, {w}]: only between a "
                                             "[N, C, 1, 1] map and an [N, C] vector")

    def op_Identity(self, node: Any, label: str, a: dict[str, Any]) -> None:
        self.alias(node, self.val(node, label))

    op_Dropout = op_Identity


def _attrs(node: Any) -> dict[str, Any]:
    from onnx import helper

    out = {}
    for a in node.attribute:
        v = helper.get_attribute_value(a)
        out[a.name] = v.decode() if isinstance(v, bytes) else (list(v) if isinstance(v, (list, tuple)) or
                                                                type(v).__name__ == "RepeatedScalarContainer" else v)
    return out


def _default(kind: Any, name: str) -> Any:
    """The default of the kind's parameter ``name`` (what a layer that leaves it out gets)."""
    return next(p.default for p in kind.params if p.name == name)


def _nearest_source(n: int, f: int, ctm: str, nearest: str) -> np.ndarray | None:
    """The input index ONNX Resize (mode nearest) reads for each of the ``n*f`` outputs of an
    axis of ``n``, or None for a transformation this does not know."""
    i = np.arange(n * f, dtype=np.float64)
    out = n * f
    if ctm in ("half_pixel", "half_pixel_symmetric"):
        x = (i + 0.5) / f - 0.5  # an integer factor: the symmetric variant's offset is 0
    elif ctm == "pytorch_half_pixel":
        x = (i + 0.5) / f - 0.5 if out > 1 else np.zeros_like(i)
    elif ctm == "asymmetric":
        x = i / f
    elif ctm == "tf_half_pixel_for_nearest":
        x = (i + 0.5) / f
    elif ctm == "align_corners":
        x = i * (n - 1) / (out - 1) if out > 1 else np.zeros_like(i)
    else:
        return None
    frac = x - np.floor(x)
    if nearest == "round_prefer_floor":
        r = np.where(frac == 0.5, np.floor(x), np.round(x))
    elif nearest == "round_prefer_ceil":
        r = np.where(frac == 0.5, np.ceil(x), np.round(x))
    elif nearest == "floor":
        r = np.floor(x)
    elif nearest == "ceil":
        r = np.ceil(x)
    else:
        return None
    return np.clip(r, 0, n - 1).astype(np.int64)


# ---- running the model -------------------------------------------------------------------------
def onnx_outputs(model: Any, images: np.ndarray) -> np.ndarray:
    """The model's output on ``images`` (``[N][C][H][W]`` real values) run by onnxruntime in
    float32, as float64; a vector output ``[N][C]`` comes back as ``[N][C][1][1]``."""
    try:
        import onnxruntime as ort
    except ImportError:
        raise missing("onnxruntime") from None
    model = load_model(model) if isinstance(model, (str, Path)) else model
    sess = session(ort, model)
    name = sess.get_inputs()[0].name
    return image_by_image(lambda img: sess.run(None, {name: img})[0], images)


def session(ort: Any, model: Any) -> Any:
    """An onnxruntime session of ``model`` (a ModelProto) on the CPU, the graph as it is
    (no optimizations: every tensor computed as the model says), warnings off."""
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    opts.log_severity_level = 3
    return ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])


def image_by_image(run_one: Any, images: np.ndarray) -> np.ndarray:
    """``run_one`` (a float32 batch of one image -> the model's output) on each image, the
    outputs stacked as float64; a vector output ``[N][C]`` comes back as ``[N][C][1][1]``."""
    ys = [run_one(img[None].astype(np.float32)) for img in np.asarray(images)]
    y = np.concatenate(ys).astype(np.float64)
    return y.reshape(*y.shape, 1, 1) if y.ndim == 2 else y


# ---- calibration data --------------------------------------------------------------------------
def load_calibration(path: str | Path) -> tuple[np.ndarray, float | None]:
    """Calibration images, ``[N][C][H][W]`` float64 real values, and the input scale they
    imply (None for a .npy batch: calibration picks it; 1/255 for a folder of images, read
    as pixel / 255 like the network file's ``input: {images: ...}`` reads pixels)."""
    from hls_sim.calibrate import _images

    p = Path(path)
    if p.is_dir():
        from hls_sim.layer import LayerError
        from hls_sim.network import _NetParser

        try:  # the network file's own reader of input: {images: ...}: pixels as ap_uint<8>
            _, pixels, _, _ = _NetParser(str(p), p.parent).input({"images": p.name})
        except LayerError as e:
            raise OnnxImportError(e.reason) from None
        return np.asarray(pixels, dtype=np.float64) / 255.0, 1 / 255
    if not p.is_file():
        raise OnnxImportError("no such file or folder")
    try:
        arr = np.load(p, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise OnnxImportError(f"cannot read it as .npy: {e}") from None
    try:
        return _images(arr), None
    except ValueError as e:
        raise OnnxImportError(str(e)) from None




def calibration_for(calibration: str | Path, imp: Imported) -> tuple[np.ndarray, float | None]:
    """:func:`load_calibration`, checked against the model's input shape; OnnxImportError
    naming the calibration file."""
    try:
        x, scale = load_calibration(calibration)
    except OnnxImportError as e:
        raise OnnxImportError(f"{calibration}: {e}") from None
    if tuple(x.shape[1:]) != imp.input_shape:
        raise OnnxImportError(f"{calibration}: images of shape {list(x.shape[1:])}; the model's "
                              f"input {imp.input_name} is {list(imp.input_shape)}")
    return x, scale


# ---- the whole import: model + calibration -> network files ------------------------------------
@dataclass(eq=False)
class Result:
    """An import: the float network, the quantized one, the calibration images, the files to
    write (name -> bytes or array) and the float reference's distance to onnxruntime."""

    imported: Imported
    quantized: Any  # QuantizedNetwork
    images: np.ndarray
    onnx_output: np.ndarray  # onnxruntime on the images, [N][C][H][W] float64
    float_output: np.ndarray  # hls-sim's float network on the images
    files: dict[str, Any]
    stem: str

    @property
    def float_error(self) -> float:
        """max |float network - onnxruntime| over the calibration images."""
        return float(np.abs(self.float_output - self.onnx_output).max())

    def check(self, yaml_path: str | Path) -> str:
        """The written network against the model itself: :func:`quantized_error`."""
        return quantized_error(self, yaml_path)

    def summary(self) -> str:
        q = self.quantized
        lines = [q.summary()]
        lines += [f"folded    {n}" for n in self.imported.notes]
        peak = float(np.abs(self.onnx_output).max())
        lines.append(f"float     hls-sim's float network against onnxruntime on {len(self.images)} "
                     f"calibration image(s): max |difference| {self.float_error:.3g} "
                     f"(output peak {peak:.4g})")
        return "\n".join(lines)


def stem_of(path: str | Path) -> str:
    """A network name from a model's file name (letters, digits, _ - .)."""
    s = _NAME_BAD.sub("_", Path(path).stem).strip("._-")[:64]
    return s or "net"


def import_model(model_path: str | Path, calibration: str | Path | None, *,
                 name: str | None = None, per_channel: bool = True, weight_t: str = "ap_int<8>",
                 bias_t: str = "ap_int<16>", input_type: str = "ap_uint<8>",
                 input_scale: float | None = None, relu_t: str | None = None,
                 linear_t: str | None = None, acc_t: str | None = None,
                 factor_bits: int | None = None, nearest: bool = False,
                 percentile: float = 100.0) -> Result:
    """Import ``model_path`` and calibrate it on ``calibration`` (a ``.npy`` batch of real
    inputs, or a folder of images read as pixel / 255): nothing is written. ``relu_t`` /
    ``linear_t``: out_t of the layers with weights with / without a relu; ``acc_t`` theirs.
    A QONNX model (Quant nodes) goes to :func:`hls_sim.qonnx_import.import_qonnx` instead
    (its Quant nodes fix every type and scale: the calibration is optional, the type options
    do not apply; ``nearest`` is its opt-in to rounding what is not exact).
    OnnxImportError (a model or calibration problem) or ValueError (calibration's own)."""
    from hls_sim.calibrate import FACTOR_BITS, calibrate, forward
    from hls_sim.qonnx_import import import_qonnx, is_qonnx

    try:
        model = load_model(model_path)
        quantized = is_qonnx(model)
        if not quantized and calibration is None:
            raise OnnxImportError("a float model is calibrated: give calibration inputs (-c)")
        imp = None if quantized else import_onnx(model)
    except OnnxImportError as e:
        raise OnnxImportError(f"{model_path}: {e}") from None
    if imp is None:
        return import_qonnx(model_path, calibration, name=name, nearest=nearest)
    x, scale = calibration_for(calibration, imp)
    net = _with_types(imp.network, relu_t, linear_t, acc_t)
    q = calibrate(net, x, input_scale=input_scale if input_scale is not None else scale,
                  input_type=input_type, per_channel=per_channel, weight_t=weight_t, bias_t=bias_t,
                  factor_bits=FACTOR_BITS if factor_bits is None else factor_bits,
                  percentile=percentile)
    stem = name if name is not None else stem_of(model_path)
    how = (f"weights symmetric per {'output channel' if per_channel else 'tensor'} in {weight_t}, "
           f"bias {bias_t}, input {input_type}; activation scales from the "
           + ("largest value" if percentile >= 100 else f"{percentile:g}th percentile of the values")
           + f" on {len(x)} calibration image(s) ({Path(calibration).name})")
    header = (f"Written by `hls-sim import` from the ONNX model {Path(model_path).name!r}:",
              _one_line(how) + ".")
    copy = f"{stem}.onnx"  # the float reference of hls-sim report, next to the network file
    files = q.files(stem, {"file": "input.npy"}, name=stem, header=header,
                    description=f"imported from {Path(model_path).name}",
                    float_model={"file": copy, "tensors": imp.tensors})
    files = {**files, "input.npy": np.asarray(q.quantize_input(x), dtype=np.int64),
             copy: model.SerializeToString()}
    return Result(imp, q, x, onnx_outputs(model, x), forward(net, x, keep=[q.output])[q.output],
                  files, stem)


def model_copy(files: dict[str, Any], out_dir: str | Path, copy: str,
               model_path: str | Path) -> dict[str, Any]:
    """``files`` without the model's copy ``copy`` where that file in ``out_dir`` is the
    model itself (``hls-sim import m.onnx -o .`` in the model's folder): it is already there."""
    target = Path(out_dir) / copy
    try:
        same = copy in files and target.exists() and target.samefile(model_path)
    except OSError:
        same = False
    return {k: v for k, v in files.items() if not (same and k == copy)}


def _with_types(net: FloatNetwork, relu_t: str | None, linear_t: str | None,
                acc_t: str | None) -> FloatNetwork:
    """``net`` with the out_t / acc_t asked for on every layer with weights."""
    if relu_t is None and linear_t is None and acc_t is None:
        return net
    layers = []
    for fl in net.layers:
        if KINDS[fl.kind].epilogue:
            t = dict(fl.types)
            out = relu_t if fl.params.get("activation", "relu") == "relu" else linear_t
            t.update({k: v for k, v in (("out_t", out), ("acc_t", acc_t)) if v is not None})
            fl = FloatLayer(fl.name, fl.kind, fl.params, fl.weight, fl.bias, fl.input, fl.input2,
                            t, fl.top)
        layers.append(fl)
    return FloatNetwork(layers, net.output)


def quantized_error(result: Result, yaml_path: str | Path) -> str:
    """Run the written network file (hls_sim.network) on its input, the calibration images,
    and compare its output (real units) with onnxruntime's: one line."""
    from hls_sim.calibrate import sqnr_db
    from hls_sim.network import load_network, run_network

    q = result.quantized
    run = run_network(load_network(yaml_path), reference=False)
    got = q.real(run.output).reshape(result.onnx_output.shape)
    ref = result.onnx_output
    e = np.abs(got - ref)
    lsb = q.scales[q.output] * q.types[q.output].lsb
    return (f"quantized the network file against onnxruntime on the same images: SQNR "
            f"{sqnr_db(ref, got):.1f} dB, max |error| {e.max():.4g} ({e.max() / lsb:.3g} LSB of "
            f"{q.output}), rms {np.sqrt(np.mean(e ** 2)):.4g}")


def _one_line(s: str) -> str:
    return " ".join(s.split())


__all__ = ["Imported", "OnnxImportError", "Result", "import_model", "import_onnx",
           "load_calibration", "load_model", "model_copy", "onnx_outputs", "quantized_error",
           "require_onnx", "stem_of"]
