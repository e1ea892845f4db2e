"""The network report: which layer adds the quantization error, and what to change first.

For every layer, two errors against the float network: the ONNX model the network file names
in ``float_model:`` (run once per image by onnxruntime, in float32; its tensors that the file
maps to layers), else, and for the layers it does not map, the layers' ``float:`` blocks run
in float64 (:class:`FloatReference`), from the same input image:

- **own**: the layer's exact float input, quantized to its in_t (nearest, saturating), through
  its bit-accurate datapath, against its float layer: the error the layer adds by itself;
- **accumulated**: the quantized network's output of that layer against the float network's:
  everything up to and including it.

The layer with the lowest own SQNR is named; its single-layer report (hls_sim.report) runs on
the input it gets in the quantized network, and each change that report suggests for the
layer's datapath (acc_t, qd_t, sum_t, relu_clip) is tried on the whole network: the advice
gives the final output's SQNR with and without it.

Real values: a tensor's real value is ``scale[c] * value`` (value: the raw integer times
2**-frac of its type). The network input's scale is the ``float.input_scale`` of the layers
that read it; a layer with a float block gives its ``output_scale``; data movers keep their
input's scale (concat stacks its inputs' scales by channel).
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any, Callable

import numpy as np

from hls_sim.report import metrics
from hls_sim.report.build import Report
from hls_sim.types import Format, OMode, QMode

SCHEMA = "hls-sim-network-report/1"
INTERNAL_TYPES = ("acc_t", "qd_t", "sum_t", "product_t", "tree_t")  # changes that keep the wiring
SCALE_RTOL = 1e-6


class NetworkReportError(ValueError):
    """The network cannot be compared with a float network (one line naming the layer)."""


def _frac(fmt: Format) -> int:
    return fmt.frac_bits if fmt.kind == "fixed" else 0


def _values(raw: np.ndarray, fmt: Format) -> np.ndarray:
    """The values of raw integers of ``fmt`` (float64; exact below 2**53)."""
    a = np.asarray(raw)
    if a.dtype == object:
        a = np.array([float(v) for v in a.flat], dtype=np.float64).reshape(a.shape)
    return a.astype(np.float64) * 2.0 ** -_frac(fmt)


def _scaled(scale: np.ndarray, a: np.ndarray) -> np.ndarray:
    """``a`` ([..][C][H][W]) times a per-channel scale."""
    return a * scale.reshape((-1, 1, 1))


def tensor_scales(net: Any) -> tuple[dict[str, np.ndarray], list[str]]:
    """Each tensor's real scale per channel, and warnings where the float blocks disagree."""
    from hls_sim.network import INPUT_NAME

    warnings: list[str] = []
    c_in = net.images.shape[1]
    s_in = [nl.layer.float_model.input_scale for nl in net.layers
            if nl.reads.get("input") == INPUT_NAME and nl.layer.float_model is not None
            and nl.layer.float_model.input_scale is not None]
    if not s_in:
        raise NetworkReportError(f"{net.path}: no layer that reads the network input has "
                                 "float.input_scale, so the input's real values are unknown")
    scales = {INPUT_NAME: np.full(c_in, float(s_in[0]))}
    for nl in net.layers:
        ly, where = nl.layer, f"{net.path}: layer {nl.name}"
        first = scales[nl.reads["input"]]
        if ly.spec.epilogue:
            fm = ly.float_model
            if fm is None:
                raise NetworkReportError(f"{where}: no float: block; the network report compares "
                                         "every layer with weights with its float layer")
            if fm.input_scale is not None and not np.allclose(first, fm.input_scale, rtol=SCALE_RTOL):
                warnings.append(f"layer {nl.name}: float.input_scale {fm.input_scale:.6g} differs from "
                                f"the scale of {nl.reads['input']} ({float(first[0]):.6g}); the "
                                "latter is used")
            scales[nl.name] = np.full(ly.geometry.shape("top")[0], fm.output_scale)
            continue
        second = scales.get(nl.reads.get("input2", ""))
        c_out = ly.geometry.shape("top")[0]
        if second is not None and c_out == first.size + second.size:  # stacked channels
            scales[nl.name] = np.concatenate([first, second])
            continue
        if second is not None and not np.allclose(first, second, rtol=SCALE_RTOL):
            warnings.append(f"layer {nl.name}: its inputs have different scales ({float(first[0]):.6g}, "
                            f"{float(second[0]):.6g}): the integer {ly.kernel} adds values, not "
                            "real numbers")
        scales[nl.name] = first
    return scales, warnings


def _float_layer(nl: Any, xs: dict[str, np.ndarray]) -> np.ndarray:
    """One layer of the float network on real inputs (one image)."""
    from hls_sim.quantize import float_layer

    ly = nl.layer
    x = xs[nl.reads["input"]]
    if ly.spec.epilogue:
        fm = ly.float_model
        bias = fm.bias if fm.bias is not None else fm.output_scale * _values(ly.bias, ly.config.bias_t)
        return float_layer(ly, fm.weight, bias, x)
    y = xs.get(nl.reads.get("input2", ""))
    return np.asarray(ly.spec.sums(ly.geometry, x, y), dtype=np.float64)


def _nearest(fmt: Format) -> Format:
    return Format(fmt.kind if fmt.kind == "fixed" else "fixed", fmt.width, fmt.int_bits,
                  fmt.signed, QMode.AP_RND_CONV, OMode.AP_SAT)


def _quantized_input(real: np.ndarray, scale: np.ndarray, fmt: Format) -> np.ndarray:
    """Raw integers of ``fmt`` nearest to ``real / scale`` (saturating)."""
    from hls_sim.layer import _storage

    q = _nearest(fmt).quantize(real / scale.reshape((-1, 1, 1)))
    return _storage(fmt, q.raw)


@dataclasses.dataclass
class _Pass:
    """One run of the quantized network against the float network, all images."""

    quant: dict[str, list[np.ndarray]]  # name -> per image real output
    own: dict[str, list[np.ndarray]]
    flt: dict[str, list[np.ndarray]]
    counters: dict[str, dict[str, int]]
    raws: dict[str, np.ndarray]  # name -> [N][...] raw outputs of the quantized network


def _run(net: Any, scales: dict[str, np.ndarray], ref: FloatReference, own: bool = True) -> _Pass:
    """The quantized network (its own run), the float network and each layer's own error."""
    from hls_sim.network import INPUT_NAME, run_network

    run = run_network(net, keep_all=True, reference=False)
    names = [nl.name for nl in net.layers]
    quant = {n: [] for n in names}
    own_out = {n: [] for n in names}
    flt = {n: [] for n in names}
    for k in range(net.images.shape[0]):
        xf = ref.image(k)
        for nl in net.layers:
            ly = nl.layer
            flt[nl.name].append(xf[nl.name])
            out_t = ly.config.out_t
            quant[nl.name].append(real_values(net, scales, nl.name, run.saved[nl.name][k]))
            if own:
                given = {r: _quantized_input(xf[src], scales[src],
                                             ly.config.in_t if r == "input" else ly.config.in2_t)
                         for r, src in nl.reads.items()}
                given = {r: a.reshape(ly.geometry.shape(r)) for r, a in given.items()}
                res = dataclasses.replace(ly, **given).run()
                own_out[nl.name].append(_scaled(scales[nl.name], _values(res.top.raw, out_t)))
    counters = {st.name: st.counters for st in run.stats}
    return _Pass(quant, own_out, flt, counters, {INPUT_NAME: net.images, **run.saved})


def has_float_model(net: Any) -> bool:
    """Whether every layer with weights has a ``float:`` block (the float network exists)."""
    return all(nl.layer.float_model is not None for nl in net.layers if nl.layer.spec.epilogue)


def accumulated_sqnr(net: Any, saved: dict[str, np.ndarray]) -> list[float | None]:
    """Each layer's SQNR (dB; None: exact) against the float network, all images, from the
    quantized network's outputs ``saved`` (``run_network(keep_all=True).saved``)."""
    ref = float_reference(net)
    err = {nl.name: 0.0 for nl in net.layers}
    sig = dict(err)
    for k in range(net.images.shape[0]):
        xf = ref.image(k)
        for nl in net.layers:
            y = xf[nl.name]
            q = real_values(net, ref.scales, nl.name, saved[nl.name][k])
            err[nl.name] += float(np.sum(np.square(q - y)))
            sig[nl.name] += float(np.sum(np.square(y)))
    return [10 * math.log10(sig[n] / err[n]) if err[n] and sig[n] else None for n in err]


def float_network(net: Any, scales: dict[str, np.ndarray], k: int,
                  given: Callable[[np.ndarray], dict[str, np.ndarray]] | None = None
                  ) -> dict[str, np.ndarray]:
    """The float network on image ``k`` of ``net``: every tensor's real values (float64).
    ``given(x)`` (x: the real input image) returns some layers' float outputs (an ONNX run);
    the other layers are computed from their ``float:`` blocks on what feeds them."""
    from hls_sim.network import INPUT_NAME

    xf = {INPUT_NAME: _scaled(scales[INPUT_NAME], _values(net.images[k], net.input_type))}
    known = given(xf[INPUT_NAME]) if given is not None else {}
    for nl in net.layers:
        xf[nl.name] = known[nl.name] if nl.name in known else _float_layer(nl, xf)
    return xf


@dataclasses.dataclass(eq=False)
class FloatReference:
    """Where the float network's tensors come from: the network file's ``float_model`` (an
    ONNX model run by onnxruntime, one session, one run per image with the mapped tensors as
    extra outputs) for the layers it maps, the ``float:`` blocks for the others; the blocks
    alone without ``float_model``, or (``note`` says why) without onnx/onnxruntime or when
    the model's input does not fit the network's. :meth:`image` gives one image's tensors."""

    net: Any
    scales: dict[str, np.ndarray]
    session: Any = None  # an onnxruntime InferenceSession, or None: the float: blocks
    input_name: str = ""
    tensors: dict[str, str] = dataclasses.field(default_factory=dict)  # layer -> ONNX tensor
    note: str | None = None

    @property
    def source(self) -> str:
        return "onnx" if self.session is not None else "float_blocks"

    def image(self, k: int) -> dict[str, np.ndarray]:
        """The float network on image ``k``: every tensor's real values (float64)."""
        return float_network(self.net, self.scales, k,
                             self._onnx if self.session is not None else None)

    def _onnx(self, x: np.ndarray) -> dict[str, np.ndarray]:
        wanted = list(dict.fromkeys(self.tensors.values()))  # two layers may share a tensor
        try:
            ran = self.session.run(wanted, {self.input_name: x[None].astype(np.float32)})
        except Exception as e:  # noqa: BLE001 - onnxruntime's errors are of its own types
            raise NetworkReportError(f"{self.net.path}: float_model.file: onnxruntime cannot run "
                                     f"{self.net.float_model.file!r}: "
                                     f"{' '.join(str(e).split())[:200]}") from None
        outs = dict(zip(wanted, ran))
        got = {}
        shapes = self.net.shapes()
        for n, t in self.tensors.items():
            want = shapes[n]
            a = np.asarray(outs[t], dtype=np.float64)
            if a.shape[:1] != (1,) or a[0].size != int(np.prod(want)):
                raise NetworkReportError(
                    f"{self.net.path}: float_model.tensors.{n}: the ONNX tensor "
                    f"{self.tensors[n]!r} is {list(a.shape)}; layer {n}'s output is "
                    f"[1, {', '.join(str(d) for d in want)}] (a batch of one image)")
            got[n] = a[0].reshape(want)  # [N][C] vectors: [C][1][1], as hls-sim holds them
        return got

    def describe(self) -> str:
        """One line: which float reference, for how many layers."""
        if self.session is None:
            return "the float: blocks (float64)"
        fm = self.net.float_model
        n, m = len(self.tensors), len(self.net.layers)
        return (f"the ONNX model {fm.file} (onnxruntime), {n} of {m} layers"
                + ("; the float: blocks for the others" if n < m else ""))

    def to_dict(self) -> dict:
        fm = self.net.float_model
        return {"source": self.source, "file": fm.file if fm is not None else None,
                "layers": list(self.tensors) if self.session is not None else [],
                "of": len(self.net.layers), "note": self.note, "text": self.describe()}


def float_reference(net: Any, scales: dict[str, np.ndarray] | None = None) -> FloatReference:
    """The float reference of ``net`` (:class:`FloatReference`): its ``float_model`` run by
    onnxruntime when the file names one and onnx is installed. NetworkReportError (one line
    naming the file and field) for a model that cannot be read or lacks a mapped tensor."""
    scales = tensor_scales(net)[0] if scales is None else scales
    fm = net.float_model
    if fm is None:
        return FloatReference(net, scales)
    if not fm.tensors:
        return FloatReference(net, scales, note="float_model maps no layer (tensors: {}): the "
                                                "float: blocks are the reference")
    try:
        import onnx
        import onnxruntime as ort
    except ImportError:
        return FloatReference(net, scales, note="float_model: onnx/onnxruntime are not installed "
                              "(pip install 'hls-sim[onnx]'); the float: blocks are the reference")
    where = f"{net.path}: float_model"
    try:
        model = onnx.load(str(fm.path))
    except Exception as e:  # noqa: BLE001 - onnx and protobuf raise several unrelated types
        raise NetworkReportError(f"{where}.file: {fm.file!r} is not an ONNX model: "
                                 f"{' '.join(str(e).split())[:200]}") from None
    g = model.graph
    inits = {t.name for t in g.initializer}
    inputs = [i for i in g.input if i.name not in inits]
    if len(inputs) != 1:
        raise NetworkReportError(f"{where}.file: the model has {len(inputs)} inputs; the network "
                                 "has one")
    computed = {t for node in g.node for t in node.output if t}
    for layer, t in fm.tensors.items():
        if t not in computed:
            raise NetworkReportError(f"{where}.tensors.{layer}: no node of {fm.file} computes a "
                                     f"tensor {t!r}")
    dims = [d.dim_value if d.HasField("dim_value") else None
            for d in inputs[0].type.tensor_type.shape.dim]
    have = list(net.images.shape[1:])
    if len(dims) != 4 or any(d is not None and d != h for d, h in zip(dims[1:], have)):
        shown = "[" + ", ".join("N" if d is None else str(d) for d in dims) + "]"
        return FloatReference(net, scales, note=f"float_model: the ONNX model's input is {shown}, "
                              f"the network's images are {have}: the float: blocks are the reference")
    listed = {o.name for o in g.output}
    for t in dict.fromkeys(fm.tensors.values()):
        if t not in listed:  # an intermediate tensor becomes an extra output of the graph
            g.output.append(onnx.helper.make_tensor_value_info(t, onnx.TensorProto.FLOAT, None))
    from hls_sim.onnx_import import session

    try:
        sess = session(ort, model)
    except Exception as e:  # noqa: BLE001 - onnxruntime's errors are of its own types
        raise NetworkReportError(f"{where}.file: onnxruntime cannot run {fm.file!r}: "
                                 f"{' '.join(str(e).split())[:200]}") from None
    return FloatReference(net, scales, sess, inputs[0].name, dict(fm.tensors))


def real_values(net: Any, scales: dict[str, np.ndarray], name: str, raw: np.ndarray) -> np.ndarray:
    """The real values of one image's raw output of layer ``name`` (its out_t, its scale)."""
    out_t = next(nl.layer.config.out_t for nl in net.layers if nl.name == name)
    return _scaled(scales[name], _values(raw, out_t))


def _metrics(out: list[np.ndarray], ref: list[np.ndarray], lsb_real: np.ndarray) -> dict:
    """Error metrics in LSBs of out_t (per channel's scale) and real units, all images."""
    o, r = np.stack(out), np.stack(ref)
    unit = lsb_real.reshape((1, -1) + (1,) * (o.ndim - 2))
    m = metrics.error_metrics((o - r) / unit, r / unit, 1.0)
    m["rmse_real"] = float(np.sqrt(np.mean(np.square(o - r))))
    m["max_abs_real"] = float(np.max(np.abs(o - r)))
    m["sqnr_db"] = metrics.sqnr_db(r, o - r)
    for k in ("mse_real", "mean_real"):
        m.pop(k, None)
    return m


def build_network_report(net: Any) -> Report:
    """The network report (schema ``hls-sim-network-report/1``, docs/report.md)."""
    scales, warnings = tensor_scales(net)
    ref = float_reference(net, scales)
    p = _run(net, scales, ref)
    layers = []
    for nl in net.layers:
        ly = nl.layer
        lsb = scales[nl.name] * ly.config.out_t.lsb
        own = _metrics(p.own[nl.name], p.flt[nl.name], lsb)
        acc = _metrics(p.quant[nl.name], p.flt[nl.name], lsb)
        over = sum(v for n, v in p.counters[nl.name].items() if n.endswith("overflow"))
        layers.append({"name": nl.name, "kind": ly.kernel, "reads": list(nl.reads.values()),
                       "shape": list(ly.geometry.shape("top")), "out_t": str(ly.config.out_t),
                       "scale": [float(scales[nl.name].min()), float(scales[nl.name].max())],
                       "overflow": int(over), "own": own, "accumulated": acc,
                       "float_tensor": ref.tensors.get(nl.name) if ref.session is not None else None})
    worst = min(layers, key=lambda r: math.inf if r["own"]["sqnr_db"] is None else r["own"]["sqnr_db"])
    out_row = next(r for r in layers if r["name"] == net.output)
    data = {"schema": SCHEMA, "network": {"path": net.path, "name": net.name,
                                          "input": list(net.images.shape[1:]),
                                          "images": int(net.images.shape[0]), "output": net.output},
            "layers": layers, "output": out_row["accumulated"],
            "worst": {"layer": worst["name"], "own_sqnr_db": worst["own"]["sqnr_db"]},
            "advice": _advice(net, ref, p, worst["name"], out_row["accumulated"]["sqnr_db"]),
            "warnings": warnings,
            "float_reference": ref.to_dict()}
    final_err = np.stack(p.quant[net.output]) - np.stack(p.flt[net.output])
    lsb = scales[net.output] * next(nl for nl in net.layers if nl.name == net.output).layer.config.out_t.lsb
    arrays = {"final_error_lsb": final_err[0] / lsb.reshape((-1, 1, 1))}
    return Report(_clean(data), arrays)


def _advice(net: Any, ref: FloatReference, p: _Pass, name: str,
            final_sqnr: float | None) -> list[dict]:
    """The worst layer's own report's advice, each datapath change tried on the network."""
    from hls_sim.report import build_report
    from hls_sim.report.mover import mover_report

    idx = [nl.name for nl in net.layers].index(name)
    nl = net.layers[idx]
    ly = nl.layer
    run_inputs = {}
    for r, src in nl.reads.items():  # the input it gets in the quantized network (image 0)
        run_inputs[r] = p.raws[src][0].reshape(ly.geometry.shape(r))
    layer = dataclasses.replace(ly, **run_inputs)
    rep = build_report(layer) if ly.spec.epilogue else mover_report(layer)
    out = []
    for it in rep.data.get("advice", []):
        if it["severity"] == "ok":
            continue
        it = dict(it, layer=name)
        change = _network_change(it.get("suggestion"))
        if change is not None:
            tried = _try(net, ref, idx, change)
            it["network"] = {"change": change, "final_sqnr_db_before": final_sqnr,
                             "final_sqnr_db_after": tried}
        out.append(it)
    if not out:
        out.append({"id": "healthy", "severity": "ok", "stage": "layer", "layer": name,
                    "title": f"layer {name} adds the most error, but its own report finds no "
                             "datapath change that lowers it: its error is the types' "
                             "resolution (widen its out_t or weight_t, or revisit the scales)",
                    "evidence": [], "data": {}, "suggestion": None})
    return out


def _network_change(suggestion: dict | None) -> dict | None:
    """A suggestion the network can take without rewiring: internal types, relu_clip."""
    if not suggestion:
        return None
    types = suggestion.get("types", {})
    if any(t not in INTERNAL_TYPES for t in types):
        return None
    change = {k: v for k, v in suggestion.items() if k in ("types", "relu_clip")}
    return change or None


def _try(net: Any, ref: FloatReference, idx: int, change: dict) -> float | None:
    """The final output's SQNR with ``change`` made to layer ``idx``."""
    from hls_sim.network import NetworkError, with_config

    kw = dict(change.get("types", {}))
    if "relu_clip" in change:
        kw["relu_clip"] = bool(change["relu_clip"])
    try:
        changed = with_config(net, {net.layers[idx].name: kw})
    except NetworkError:
        return None
    p = _run(changed, ref.scales, ref, own=False)
    return metrics.sqnr_db(np.stack(p.flt[net.output]),
                           np.stack(p.quant[net.output]) - np.stack(p.flt[net.output]))


def _clean(x: Any) -> Any:
    """JSON-safe: numpy scalars to Python, non-finite floats to None."""
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return float(x) if math.isfinite(float(x)) else None
    return x


__all__ = ["SCHEMA", "FloatReference", "NetworkReportError", "accumulated_sqnr",
           "build_network_report", "float_network", "float_reference", "has_float_model",
           "real_values", "tensor_scales"]


# ---- rendering ------------------------------------------------------------------------------------
def _db(x: float | None) -> str:
    return "exact" if x is None else f"{x:.1f}"


def render_network_text(d: dict) -> str:
    """The terminal form: one row per layer, the output, the worst layer and the advice."""
    from hls_sim.report.text import MARK, _g, table

    n = d["network"]
    lines = [f"network   {n['path']}" + (f"  ({n['name']})" if n["name"] else "")
             + f": input {''.join(f'[{v}]' for v in n['input'])}, {n['images']} image(s), "
             f"against the float network"]
    rows = [["layer", "kind", "out_t", "own SQNR dB", "own rms LSB", "accum. SQNR dB",
             "accum. rms LSB", "max|e| LSB", "overflow"]]
    for r in d["layers"]:
        rows.append([r["name"], r["kind"], r["out_t"], _db(r["own"]["sqnr_db"]),
                     _g(r["own"]["rmse_lsb"], 3), _db(r["accumulated"]["sqnr_db"]),
                     _g(r["accumulated"]["rmse_lsb"], 3), _g(r["accumulated"]["max_abs_lsb"], 3),
                     str(r["overflow"])])
    lines += ["  " + t for t in table(rows, right=set(range(3, 9)))]
    lines += reference_lines(d)
    o = d["output"]
    lines.append(f"output    {n['output']}: SQNR {_db(o['sqnr_db'])} dB, rms {_g(o['rmse_lsb'], 3)} LSB "
                 f"({_g(o['rmse_real'], 3)} real), max |error| {_g(o['max_abs_lsb'], 3)} LSB")
    w = d["worst"]
    lines.append(f"worst     {w['layer']}: own SQNR {_db(w['own_sqnr_db'])} dB, the lowest: the layer "
                 "to change first")
    for a in d["advice"]:
        lines.append(f"advice    [{MARK[a['severity']]}] {a['layer']}: {a['title']}")
        net = a.get("network")
        if net:
            lines.append(f"          tried on the network: final SQNR {_db(net['final_sqnr_db_before'])} -> "
                         f"{_db(net['final_sqnr_db_after'])} dB")
    for wline in d["warnings"]:
        lines.append(f"warning   {wline}")
    lines.append("          own: the layer's exact float input through its quantized datapath vs its "
                 "float layer; accum.: the quantized network up to the layer vs the float network; "
                 "LSBs of the layer's out_t")
    return "\n".join(lines)


def reference_lines(d: dict) -> list[str]:
    """``float reference: ...`` and, where the ONNX model could not be used, why."""
    ref = d.get("float_reference") or {}
    lines = [f"float     reference: {ref.get('text', 'the float: blocks (float64)')}"]
    return lines + ([f"note      {ref['note']}"] if ref.get("note") else [])


def render_network_html(report: Report) -> str:
    """One self-contained page: the table, the per-layer bars, the final error map, advice."""
    from html import escape

    from hls_sim.report import plots
    from hls_sim.report.html import CSS, _advice, _card, _table
    from hls_sim.report.text import _g

    d = report.data
    n, o, w = d["network"], d["output"], d["worst"]
    title = escape(n["name"] or n["path"])
    cards = [_card(_db(o["sqnr_db"]), "output SQNR vs float (dB)", escape(n["output"])),
             _card(_g(o["rmse_lsb"], 3), "output RMSE (LSB)", f"{_g(o['rmse_real'], 3)} real"),
             _card(escape(w["layer"]), "change first", f"own SQNR {_db(w['own_sqnr_db'])} dB")]
    head = ["layer", "kind", "out_t", "own SQNR dB", "own RMSE LSB", "accum. SQNR dB",
            "accum. RMSE LSB", "max |e| LSB", "overflow"]
    rows = [[escape(r["name"]), escape(r["kind"]), escape(r["out_t"]), _db(r["own"]["sqnr_db"]),
             _g(r["own"]["rmse_lsb"], 3), _db(r["accumulated"]["sqnr_db"]),
             _g(r["accumulated"]["rmse_lsb"], 3), _g(r["accumulated"]["max_abs_lsb"], 3),
             str(r["overflow"])] for r in d["layers"]]
    bars = plots.layer_sqnr([r["name"] for r in d["layers"]], [r["own"]["sqnr_db"] for r in d["layers"]],
                            [r["accumulated"]["sqnr_db"] for r in d["layers"]])
    emap = plots.error_map(report.arrays["final_error_lsb"],
                           f"{n['output']}: error vs float, RMS over channels (LSB), image 1")
    advice = [dict(a, title=f"{a['layer']}: {a['title']}"
                   + (f" (tried on the network: final SQNR {_db(a['network']['final_sqnr_db_before'])}"
                      f" -> {_db(a['network']['final_sqnr_db_after'])} dB)" if a.get("network") else ""))
              for a in d["advice"]]
    warn = "".join(f"<li>{escape(x)}</li>" for x in d["warnings"])
    doc = json.dumps(d, allow_nan=False).replace("</", "<\\/")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>hls-sim network report: {title}"
            f"</title><style>{CSS}</style></head><body><main><h1>Network report: {title}</h1>"
            f"<div class='sub'>{escape(n['path'])}: input {''.join(f'[{v}]' for v in n['input'])}, "
            f"{n['images']} image(s), against the float network; float reference: "
            f"{escape(d.get('float_reference', {}).get('text', 'the float: blocks'))}</div>"
            f"<div class='cards'>{''.join(cards)}</div>"
            f"<h2>Layers</h2><div class='scroll'>{_table(head, rows, left={0, 1, 2})}</div>"
            "<p class='sub'>own: the layer's exact float input through its quantized datapath, against "
            "its float layer; accum.: the quantized network up to the layer against the float network.</p>"
            f"<figure><img src='{bars}' alt='SQNR per layer'></figure>"
            f"<figure><img src='{emap}' alt='final error map'></figure>"
            f"<h2>Advice</h2>{_advice(advice)}"
            + (f"<h2>Warnings</h2><ul>{warn}</ul>" if warn else "")
            + f"<footer>schema {escape(d['schema'])}: the JSON document is embedded in this page "
            f"(script#report-data).</footer><script type='application/json' id='report-data'>{doc}"
            "</script></main></body></html>\n")
