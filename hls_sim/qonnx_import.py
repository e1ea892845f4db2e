"""QONNX models (``Quant`` nodes) to network files whose integer datapath is the model's own.

    from hls_sim.qonnx_import import is_qonnx, import_qonnx, qonnx_outputs
    res = import_qonnx("model.onnx")            # nothing written; res.quantized, res.files
    res.quantized.summary()

A QONNX model carries its own quantization, so nothing is calibrated. The importer reads the
graph with the float importer (hls_sim.onnx_import) and adds the ``Quant`` node
(domain ``qonnx.custom_op.general``: inputs x, scale, zero point, bit width; attributes
``signed``, ``narrow``, ``rounding_mode``), which computes
``scale * round_mode(clip(x / scale, lo, hi))`` with ``lo``/``hi`` the range of a ``bits``-wide
integer (signed or not; ``narrow`` drops the most negative value of a signed range, the
largest of an unsigned one):

- a Quant on a constant (a weight or a bias) is folded: the weight becomes integers of
  ``ap_int<bits>`` (``ap_uint`` unsigned) with its scale per tensor or per output channel;
  a bias stays a real number;
- a Quant on the network input gives the input type (``ap_int<bits>`` / ``ap_uint<bits>``)
  and the input scale;
- a Quant after a layer (after its Relu where it has one) gives that layer's out_t,
  ``ap_fixed<bits, bits, Q, O>`` (``ap_ufixed`` unsigned): Q the rounding mode (ROUND and
  HALF_EVEN: AP_RND_CONV, FLOOR: AP_TRN, DOWN: AP_TRN_ZERO, HALF_UP: AP_RND_INF, HALF_DOWN:
  AP_RND_ZERO; CEIL and UP have no ap_* mode), O AP_SAT (AP_SAT_SYM for a narrow signed
  range); an unsigned Quant after a layer without a relu is a relu; a narrow unsigned one is
  ``activation: clip`` at ``2**bits - 2``.

A layer with weights then computes, in its output's units,
``round(sum(w * x) * s_w * s_in / s_out + B / s_out)`` saturated: the factor is
``s_w * s_in / s_out`` per output channel and the bias ``B / s_out``, both held exactly in
fixed-point types chosen here (factor_t, bias_t up to 64 bits), and acc_t, qd_t and sum_t are
wide enough that nothing rounds or overflows before out_t: the one rounding is the Quant's.
A factor or a bias that no such type holds exactly (a scale ratio that is not a dyadic
fraction) is refused, naming the node, unless ``nearest=True``: then the nearest value of a
24-significant-bit type is used and a note says so. Data movers and merges keep their input's
scale (a merge's inputs must share one); a Quant after them, of that same scale, sets their
out_t (a saturation: the values are integers).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from hls_sim.calibrate import INPUT, FloatLayer, FloatNetwork, QuantizedLayer, QuantizedNetwork
from hls_sim.kernels import KINDS
from hls_sim.onnx_import import (Imported, OnnxImportError, Result, _attrs, _Importer, _Val,
                                 calibration_for, image_by_image, load_model, missing, stem_of)
from hls_sim.types import Format, OMode, QMode

DOMAINS = ("qonnx.custom_op.general",)
EXTRA = "qonnx"  # the pyproject extra that installs qonnx (for the check against its execution)
MAX_BITS = 64  # the widest factor_t / bias_t the exact mapping chooses
NEAREST_BITS = 24  # significant bits of a factor rounded under nearest=True
# QONNX rounding modes with an ap_* quantization mode that computes the same integer
ROUNDING = {"ROUND": QMode.AP_RND_CONV, "HALF_EVEN": QMode.AP_RND_CONV, "FLOOR": QMode.AP_TRN,
            "DOWN": QMode.AP_TRN_ZERO, "HALF_UP": QMode.AP_RND_INF,
            "HALF_DOWN": QMode.AP_RND_ZERO}
_ROUND_FN = {"ROUND": np.round, "HALF_EVEN": np.round, "FLOOR": np.floor, "CEIL": np.ceil,
             "DOWN": np.trunc,
             "UP": lambda v: np.sign(v) * np.ceil(np.abs(v)),
             "HALF_UP": lambda v: np.sign(v) * np.floor(np.abs(v) + 0.5),
             "HALF_DOWN": lambda v: np.sign(v) * np.ceil(np.abs(v) - 0.5)}


def is_qonnx(model: Any) -> bool:
    """Whether the model (a ModelProto) has a QONNX ``Quant`` node."""
    return any(n.domain in DOMAINS and n.op_type == "Quant" for n in model.graph.node)


# ---- one Quant node --------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Quant:
    """A Quant node's arithmetic: ``scale`` (float64, the node's shape), ``bits``, ``signed``,
    ``narrow``, ``mode`` (the rounding mode's name) and where it is (``label``)."""

    label: str
    scale: np.ndarray
    bits: int
    signed: bool
    narrow: bool
    mode: str

    @property
    def lo(self) -> int:
        return -(1 << (self.bits - 1)) + int(self.narrow) if self.signed else 0

    @property
    def hi(self) -> int:
        return (1 << (self.bits - 1)) - 1 if self.signed else (1 << self.bits) - 1 - int(self.narrow)

    @property
    def scalar(self) -> float | None:
        """The scale when it is one number, else None."""
        s = np.unique(self.scale)
        return float(s[0]) if s.size == 1 else None

    def integers(self, x: np.ndarray) -> np.ndarray:
        """``round_mode(clip(x / scale))`` as int64 (the Quant before its final rescale), in
        float64 arithmetic."""
        v = np.clip(np.asarray(x, dtype=np.float64) / self.scale, self.lo, self.hi)
        return _ROUND_FN[self.mode](v).astype(np.int64)

    def int_type(self) -> Format:
        """ap_int<bits> / ap_uint<bits>: the raw integers of a weight or of the input."""
        return Format("int", self.bits, self.bits, self.signed)

    def out_type(self, q_mode: QMode) -> Format:
        """``ap_fixed<bits, bits, q_mode, AP_SAT>`` (ap_ufixed unsigned; AP_SAT_SYM narrow
        signed): a layer's out_t, rounding the way the Quant does."""
        o = OMode.AP_SAT_SYM if self.narrow and self.signed else OMode.AP_SAT
        return Format("fixed", self.bits, self.bits, self.signed, q_mode, o)


def parse_quant(node: Any, label: str, consts: dict[str, np.ndarray]) -> Quant:
    """A Quant node's constants and attributes, or OnnxImportError naming the node."""
    def err(reason: str) -> OnnxImportError:
        return OnnxImportError(f"node {label} (Quant): {reason}")

    if len(node.input) != 4:
        raise err(f"{len(node.input)} inputs; expected x, scale, zero point, bit width")
    vals = []
    for k, what in ((1, "scale"), (2, "zero point"), (3, "bit width")):
        c = consts.get(node.input[k])
        if c is None:
            raise err(f"its {what} ({node.input[k]}) is not a constant")
        vals.append(np.asarray(c, dtype=np.float64))
    scale, zp, bw = vals
    if not np.isfinite(scale).all() or not (scale > 0).all():
        raise err("scale: expected positive finite numbers")
    if np.any(zp != 0):
        raise err(f"zero point {zp.reshape(-1)[:4].tolist()}: only 0 (symmetric quantization)")
    if bw.size != 1 or bw.reshape(()) != int(bw.reshape(())):
        raise err(f"bit width {bw.reshape(-1)[:4].tolist()}: expected one integer")
    a = _attrs(node)
    for n in ("signed", "narrow"):
        if n not in a:
            raise err(f"attribute {n} missing: give it (the QONNX spec and the qonnx package "
                      "disagree on its default)")
    bits, signed, narrow = int(bw.reshape(())), bool(a["signed"]), bool(a["narrow"])
    if not (2 if signed else 1) <= bits <= 32:
        raise err(f"bit width {bits}: expected {2 if signed else 1}..32")
    mode = str(a.get("rounding_mode", "ROUND")).upper()
    if mode not in _ROUND_FN:
        raise err(f"rounding_mode {mode}: not a QONNX rounding mode")
    return Quant(label, scale, bits, signed, narrow, mode)


# ---- the graph: the float importer plus Quant nodes --------------------------------------------
@dataclass(eq=False)
class _QGraph:
    """What the graph says beyond the float network: the input's Quant, each layer's output
    Quant, each layer's weight scales (per weight, the kind's layout), each layer's node."""

    imported: Imported
    input_quant: Quant
    out_quant: dict[str, Quant]
    weight_quant: dict[str, tuple[Quant, np.ndarray]]  # layer -> (Quant, per-weight scale)
    origin: dict[str, tuple[str, str]]  # layer -> (node label, op type)


class _QImporter(_Importer):
    """The float importer, taught Quant nodes."""

    def __init__(self, model: Any, nearest: bool) -> None:
        super().__init__(model)
        self.nearest = nearest
        self.folded: dict[str, Quant] = {}  # constant tensor made by a Quant -> that Quant
        self.input_quant: Quant | None = None
        self.out_quant: dict[str, Quant] = {}
        self.weight_quant: dict[str, tuple[Quant, np.ndarray]] = {}
        self.origin: dict[str, tuple[str, str]] = {}
        self.graph_input = ""

    def run_q(self) -> _QGraph:
        self.graph_input = self._input()[0]
        imp = self.run()
        if self.input_quant is None:
            raise OnnxImportError(f"input {imp.input_name}: no Quant node reads it; a QONNX "
                                  "model quantizes its input first")
        for ly in self.layers:
            if KINDS[ly.kind].epilogue and ly.name not in self.out_quant:
                label, op = self.origin[ly.name]
                raise self.err(label, op, "its output is not quantized: a Quant node must follow "
                                          "it (after its Relu, if any)")
        layers = []
        for fl in imp.network.layers:  # each Quant's type is the layer's out_t
            q = self.out_quant.get(fl.name)
            if q is not None:
                fl = FloatLayer(fl.name, fl.kind, fl.params, fl.weight, fl.bias, fl.input,
                                fl.input2, {"out_t": str(q.out_type(self.q_mode(q)))}, fl.top)
            layers.append(fl)
        imp.network = FloatNetwork(layers, imp.network.output)
        return _QGraph(imp, self.input_quant, self.out_quant, self.weight_quant, self.origin)

    def q_mode(self, q: Quant) -> QMode:
        return ROUNDING.get(q.mode, QMode.AP_RND_CONV)  # others: refused unless nearest

    def node(self, node: Any, label: str) -> None:
        if node.domain in DOMAINS:
            if node.op_type != "Quant":
                raise self.err(label, node.op_type, "of the QONNX operators only Quant is imported")
            self.quant(node, label)
            return
        if self.graph_input in node.input:
            raise self.err(label, node.op_type, f"reads the float input {self.graph_input}; a "
                                                "QONNX model quantizes it with a Quant node first")
        if node.op_type in ("BatchNormalization", "AveragePool", "GlobalAveragePool"):
            raise self.err(label, node.op_type, "not in a QONNX model: "
                           + ("fold it into the weights before quantizing them"
                              if node.op_type == "BatchNormalization" else
                              "an average's requantization is not mapped yet"))
        n = len(self.layers)
        super().node(node, label)
        for ly in self.layers[n:]:
            self.origin[ly.name] = (label, node.op_type)
        if len(self.layers) > n and KINDS[self.layers[-1].kind].epilogue:
            self.weight_scale(node, label, self.layers[-1], _attrs(node))

    def weight_scale(self, node: Any, label: str, ly: Any, a: dict[str, Any]) -> None:
        """The layer's weight Quant and its scale per weight, in the kind's layout (Gemm's
        and MatMul's operands transposed as the importer transposes the weight)."""
        q = self.folded.get(node.input[1])
        if q is None:
            raise self.err(label, node.op_type, f"its weight {node.input[1]} is not quantized "
                                                "(no Quant node on it)")
        s = np.broadcast_to(q.scale, self.consts[node.input[1]].shape).astype(np.float64)
        if node.op_type == "MatMul" or (node.op_type == "Gemm" and not a.get("transB", 0)):
            s = s.T
        if node.op_type == "Gemm":
            s = s * float(a.get("alpha", 1.0))
        self.weight_quant[ly.name] = (q, np.ascontiguousarray(s))

    def quant(self, node: Any, label: str) -> None:
        q = parse_quant(node, label, self.consts)
        src, out = node.input[0], node.output[0]
        if src in self.consts:  # a weight or a bias: fold it into integers times the scale
            try:
                ints = q.integers(self.consts[src])
            except ValueError as e:
                raise self.err(label, "Quant", f"scale of shape {list(q.scale.shape)} does not "
                                               f"fit its constant: {e}") from None
            self.consts[out] = ints * q.scale
            self.folded[out] = q
            return
        if q.scalar is None:
            raise self.err(label, "Quant", f"scale of shape {list(q.scale.shape)}: activations "
                                           "need one scale (per tensor)")
        if src == self.graph_input:  # hls-sim's input is its integers: any rounding mode
            if self.input_quant is not None:
                raise self.err(label, "Quant", "a second Quant on the network input")
            self.input_quant = q
            self.vals[out] = _Val(INPUT, False)
            return
        if q.mode not in ROUNDING and not self.nearest:
            raise self.err(label, "Quant", f"rounding_mode {q.mode}: no ap_* quantization mode "
                                           "rounds this way; --nearest rounds to nearest (ties "
                                           "to even) instead")
        ly = self.foldable(node)
        if ly is None:
            v = self.vals.get(src)
            why = ("requantizes the network input" if v is not None and v.tensor == INPUT else
                   "its input is not a layer's output that only this node reads")
            raise self.err(label, "Quant", why)
        if ly.name in self.out_quant:
            raise self.err(label, "Quant", f"{ly.name}'s output is already quantized (by node "
                                           f"{self.out_quant[ly.name].label})")
        self.out_quant[ly.name] = q
        self._absorb(node, ly, label)


# ---- the quantized network ----------------------------------------------------------------------
def _dyadic(v: Fraction) -> int | None:
    """The fraction bits that hold ``v`` exactly, or None when its denominator is not a
    power of two."""
    d = v.denominator
    return d.bit_length() - 1 if d & (d - 1) == 0 else None


def _fixed(raws: list[int], frac: int) -> Format:
    """The narrowest signed ap_fixed with ``frac`` fraction bits holding every raw integer
    (an ap_int for frac 0)."""
    width = max(2, 1 + max(abs(r) for r in raws).bit_length()) if raws else 2
    if frac == 0:
        return Format("int", width, width, True)
    return Format("fixed", width, width - frac, True)


def _exact(values: list[Fraction]) -> tuple[list[int], int] | None:
    """``values`` as raw integers of a common number of fraction bits, or None when some
    value is not a dyadic fraction or the type would pass MAX_BITS bits."""
    fr = [_dyadic(v) for v in values]
    if any(f is None for f in fr):
        return None
    f = max([0, *fr])
    raws = [int(v * (1 << f)) for v in values]
    if raws and 1 + max(abs(r) for r in raws).bit_length() > MAX_BITS:
        return None
    return raws, f


class _Mapper:
    """Builds the QuantizedNetwork from the graph, layer by layer."""

    def __init__(self, g: _QGraph, nearest: bool) -> None:
        from hls_sim.calibrate import _tensor_types, check_network

        self.g, self.nearest = g, nearest
        imp = g.imported
        self.nodes = check_network(imp.network, imp.input_shape)
        in_t = g.input_quant.int_type()
        self.types = _tensor_types(self.nodes, in_t)
        self.scales: dict[str, float] = {INPUT: float(g.input_quant.scalar)}
        self.notes: list[str] = []

    def err(self, layer: str, reason: str) -> OnnxImportError:
        label, op = self.g.origin[layer]
        return OnnxImportError(f"node {label} ({op}): {reason}")

    def qerr(self, q: Quant, reason: str) -> OnnxImportError:
        return OnnxImportError(f"node {q.label} (Quant): {reason}")

    def run(self) -> QuantizedNetwork:
        g = self.g
        layers = [self.layer(nd) for nd in self.nodes]
        for q in g.out_quant.values():
            if q.mode not in ROUNDING:
                self.notes.append(f"node {q.label} (Quant): rounding_mode {q.mode} is computed "
                                  "as round to nearest, ties to even (--nearest): outputs may "
                                  "differ from the model's by 1 LSB")
        iq = g.input_quant
        return QuantizedNetwork(iq.int_type(), float(iq.scalar), layers, g.imported.network.output
                                or self.nodes[-1].layer.name, self.types, self.scales,
                                dict.fromkeys(self.types, 0.0), self.notes)

    def layer(self, nd: Any) -> QuantizedLayer:
        name, kind = nd.layer.name, nd.kind
        out_t = self.types[name]
        q = self.g.out_quant.get(name)
        if not kind.epilogue:
            s = [self.scales[t] for t in nd.reads.values()]
            if len(set(s)) > 1:
                raise self.err(name, f"inputs of scales {s[0]:.9g} and {s[1]:.9g}: {kind.name} "
                                     "needs one scale on both (quantize them alike)")
            if q is not None and q.scalar != s[0]:
                raise self.qerr(q, f"scale {q.scalar:.9g} after {kind.name} {name} of scale "
                                   f"{s[0]:.9g}: {kind.name} cannot rescale")
            if q is not None and q.narrow and not q.signed:
                if not self.nearest:
                    raise self.qerr(q, "a narrow unsigned range after a layer without weights: "
                                       "no ap_* saturation stops at 2**bits - 2; --nearest "
                                       "saturates at 2**bits - 1")
                self.notes.append(f"node {q.label} (Quant): saturates at {q.hi + 1}, not {q.hi} "
                                  "(--nearest)")
            self.scales[name] = s[0]
            return QuantizedLayer(name, kind.name, dict(nd.layer.params), dict(nd.reads),
                                  {"out_t": out_t}, out_t, s[0])
        return self.weighted(nd, q, out_t)

    def held(self, layer: str, values: list[Fraction], what: str, type_name: str,
             notes: list[str], frac: int) -> tuple[list[int], int]:
        """``values`` as raw integers and their fraction bits: exact, or (nearest) rounded to
        ``frac`` fraction bits with a note; else OnnxImportError naming the layer's node."""
        got = _exact(values)
        if got is not None:
            return got
        if not self.nearest:
            bad = next(c for c, v in enumerate(values) if _exact([v]) is None)
            raise self.err(layer, f"{what} = {float(values[bad]):.9g} (channel {bad}) is not "
                                  f"exactly representable in a fixed-point {type_name} of at "
                                  f"most {MAX_BITS} bits; --nearest rounds it to the nearest")
        raws = [round(v * (1 << frac)) for v in values]  # Fraction rounds half to even
        err = max(abs(float(Fraction(r, 1 << frac) / v - 1)) if v else 0.0
                  for r, v in zip(raws, values))
        notes.append(f"{what} rounded to {frac} fraction bits (--nearest): relative error up "
                     f"to {err:.2g}")
        return raws, frac

    def weighted(self, nd: Any, q: Quant, out_t: Format) -> QuantizedLayer:
        name, kind, geom = nd.layer.name, nd.kind, nd.geom
        wq, wscale = self.g.weight_quant[name]
        s_in, in_t = self.scales[nd.reads["input"]], self.types[nd.reads["input"]]
        s_out = float(q.scalar)
        notes: list[str] = []
        co = geom.out_channels
        owner = kind.conv.scale_weight(geom, np.ones(wscale.shape), np.arange(co, dtype=np.float64))
        s_w = np.empty(co)
        for c in range(co):
            u = np.unique(wscale[owner == c])
            if u.size > 1:
                raise self.err(name, f"weight scales vary within output channel {c}: only per "
                                     "tensor or per output channel")
            s_w[c] = u[0] if u.size else 1.0
        w_int = np.rint(nd.weight / wscale).astype(np.int64)
        fs = [Fraction(float(s)) * Fraction(s_in) / Fraction(s_out) for s in s_w]
        bs = [Fraction(float(b)) / Fraction(s_out) for b in nd.bias]
        # the factor: exact, or the nearest of a 24-significant-bit factor_t
        f_raw, ff = self.held(name, fs, "factor s_w * s_in / s_out", "factor_t", notes,
                              NEAREST_BITS - math.floor(math.log2(float(min(fs)))))
        factor_t = _fixed(f_raw, ff)
        b_raw, fb = self.held(name, bs, "bias / s_out", "bias_t", notes, ff)
        bias_t = _fixed(b_raw, fb)
        # wide enough that acc, qd and sum are exact: the only rounding is out_t's
        x_peak = max(abs(in_t.min_raw), abs(in_t.max_raw))
        acc_peak = max(int(np.abs(w_int[owner == c]).sum()) for c in range(co)) * x_peak
        acc_t = _fixed([acc_peak], 0)
        qd_peak = acc_peak * max(abs(r) for r in f_raw)
        qd_t = _fixed([qd_peak], ff)
        fs_ = max(ff, fb)
        sum_t = _fixed([(qd_peak << (fs_ - ff)) + (max(abs(r) for r in b_raw) << (fs_ - fb))], fs_)
        params = dict(nd.layer.params)
        if not q.signed and params.get("activation") == "none":
            params["activation"] = "relu"
            notes.append(f"the unsigned Quant {q.label} clips at 0: activation relu")
        if q.narrow and not q.signed:
            params.update(activation="clip", clip_at=float(q.hi))
        types = {"weight_t": wq.int_type(), "bias_t": bias_t, "factor_t": factor_t,
                 "out_t": out_t, "acc_t": acc_t, "qd_t": qd_t, "sum_t": sum_t}
        per_channel = len(set(f_raw)) > 1
        f_arr = np.array(f_raw, dtype=np.int64)
        self.scales[name] = s_out
        return QuantizedLayer(name, kind.name, params, dict(nd.reads), types, out_t, s_out, s_in,
                              w_int, np.array(b_raw, dtype=np.int64),
                              f_arr if per_channel else f_arr[:1].reshape(()),
                              np.array([float(f) for f in fs]) if per_channel else
                              np.asarray(float(fs[0])), s_w, np.asarray(nd.weight, np.float64),
                              np.asarray(nd.bias, np.float64), notes)


# ---- running the model with qonnx -------------------------------------------------------------
def qonnx_outputs(model: Any, images: np.ndarray) -> np.ndarray:
    """The model's output on ``images`` (``[N][C][H][W]`` real values, fed as float32) as the
    qonnx package executes it (``execute_onnx``), float64; ``[N][C]`` comes back as
    ``[N][C][1][1]``. OnnxImportError when qonnx is not installed."""
    try:
        from qonnx.core.modelwrapper import ModelWrapper
        from qonnx.core.onnx_exec import execute_onnx
        from qonnx.transformation.infer_shapes import InferShapes
    except ImportError:
        raise missing("qonnx", EXTRA) from None
    model = load_model(model) if isinstance(model, (str, Path)) else model
    model = type(model).FromString(model.SerializeToString())  # a copy, batch 1, shapes inferred
    for vi in (*model.graph.input, *model.graph.output):
        dims = vi.type.tensor_type.shape.dim
        if dims:
            dims[0].dim_value = 1
    mw = ModelWrapper(model).transform(InferShapes())
    name, out = mw.graph.input[0].name, mw.graph.output[0].name
    return image_by_image(lambda img: execute_onnx(mw, {name: img})[out], images)


# ---- the whole import ---------------------------------------------------------------------------
@dataclass(eq=False)
class QonnxResult(Result):
    """A QONNX import: as :class:`hls_sim.onnx_import.Result`, with ``onnx_output`` qonnx's
    execution (None when qonnx is not installed) and ``float_output`` unused (None)."""

    model: Any = None
    nearest: bool = False
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        lines = [self.quantized.summary()]
        lines += [f"folded    {n}" for n in self.imported.notes]
        return "\n".join(lines)

    def check(self, yaml_path: str | Path) -> str:
        """Run the written network file on its input and compare it, element for element,
        with qonnx's execution of the model on the same input: one line."""
        from hls_sim.network import load_network, run_network

        if self.onnx_output is None:
            return f"skipped: qonnx is not installed (pip install 'hls-sim[{EXTRA}]')"
        q = self.quantized
        run = run_network(load_network(yaml_path), reference=False)
        got = q.real(run.output).reshape(self.onnx_output.shape)
        ref = self.onnx_output
        differ = int((got != ref).sum())
        where = f"qonnx's execution of the model on {len(self.images)} image(s)"
        if differ == 0:
            return f"bit-exact against {where}: all {ref.size} outputs equal"
        lsb = q.scales[q.output] * q.types[q.output].lsb
        return (f"{differ} of {ref.size} outputs differ from {where}: max |error| "
                f"{np.abs(got - ref).max() / lsb:.3g} LSB of {q.output}"
                + (" (--nearest)" if self.nearest else ""))


def import_qonnx(model_path: str | Path, calibration: str | Path | None = None, *,
                 name: str | None = None, nearest: bool = False, seed: int = 1) -> QonnxResult:
    """Import a QONNX model: the network its Quant nodes define, nothing calibrated and
    nothing written yet. ``calibration`` (optional: a ``.npy`` batch of real inputs or a
    folder of images) becomes the network's input, quantized by the input's Quant; without
    it the input is one seeded image of random integers of the input type. ``nearest``:
    round factors, biases and rounding modes that the types cannot hold exactly (else
    OnnxImportError naming the node)."""
    try:
        model = load_model(model_path)
        g = _QImporter(model, nearest).run_q()
        q = _Mapper(g, nearest).run()
    except OnnxImportError as e:
        raise OnnxImportError(f"{model_path}: {e}") from None
    imp = g.imported
    if calibration is not None:
        x, _ = calibration_for(calibration, imp)
        raw = g.input_quant.integers(x)  # the input Quant's own rounding, exact
        source = f"the inputs {Path(calibration).name}, quantized by the input's Quant"
    else:
        iq = g.input_quant
        rng = np.random.default_rng(seed)
        raw = rng.integers(iq.lo, iq.hi + 1, size=(1, *imp.input_shape), dtype=np.int64)
        x = raw * float(iq.scalar)
        source = f"one image of random {q.input_type} integers (seed {seed})"
    stem = name if name is not None else stem_of(model_path)
    header = (f"Written by `hls-sim import` from the QONNX model {Path(model_path).name!r}:",
              "types, scales and factors from its Quant nodes, nothing calibrated; input: "
              f"{source}.")
    files = q.files(stem, {"file": "input.npy"}, name=stem, header=header,
                    description=f"imported from {Path(model_path).name} (QONNX)")
    files = {**files, "input.npy": np.asarray(raw, dtype=np.int64)}
    try:
        ref = qonnx_outputs(model, x)
    except OnnxImportError:
        ref = None
    return QonnxResult(imp, q, x, ref, None, files, stem, model=model, nearest=nearest)


__all__ = ["DOMAINS", "Quant", "QonnxResult", "ROUNDING", "import_qonnx", "is_qonnx",
           "parse_quant", "qonnx_outputs"]
