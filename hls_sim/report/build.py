"""Assembling a report: run the kernel, the ideal, the stage model and the float model.

:func:`build_report` returns a :class:`Report`: ``data``, the JSON document (schema
``hls-sim-report/1``, documented in docs/report.md), and ``arrays``, the tensors the plots
draw. Everything the advice says is computed here or in :mod:`hls_sim.report.advice` from the
layer's own data.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from importlib import metadata

import numpy as np

from hls_sim.kernels import KernelResult
from hls_sim.kernels.kind import IDENTITY_CONV
from hls_sim.kernels.hls_kernels import COUNTER_NAMES
from hls_sim.layer import Layer
from hls_sim.quantize import float_layer
from hls_sim.report import metrics
from hls_sim.report.stages import STAGES, TYPE_OF, WHAT, Evaluation, StageModel, extremes

SCHEMA = "hls-sim-report/1"
COUNTER_OF = {"acc": "acc_overflow", "qd": "qd_overflow", "sum": "sum_overflow", "out": "out_overflow"}
COMPONENTS = ("weights", "bias", "input", "output_range", "datapath")
COMPONENT_WHAT = {
    "weights": "integer weights x factor instead of the float weights",
    "bias": "integer bias instead of the float bias",
    "input": "integer input instead of the float input",
    "output_range": "relu clipping at the top of out_t",
    "datapath": "the kernel's intermediate types: rounding, truncation, overflow",
}


@dataclasses.dataclass
class Report:
    """A quantization error report: the JSON document and the arrays behind its plots."""

    data: dict
    arrays: dict[str, np.ndarray]

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.data, indent=indent, allow_nan=False) + "\n"


@dataclasses.dataclass
class Context:
    """Everything the report and the advice are computed from."""

    layer: Layer
    result: KernelResult
    model: StageModel
    chain: list[Evaluation]  # [all exact, acc real, acc+qd real, acc+qd+sum real, all real]
    kernel_out: np.ndarray  # [16][32][64] LSBs of out_t
    ideal: np.ndarray  # the ideal output, LSBs
    err: np.ndarray  # kernel - ideal
    offset: tuple[int, int, int]  # where the written region starts in top[16][34][66]
    real_per_lsb: float
    float_out: np.ndarray | None = None  # the float model, LSBs
    float_parts: list[np.ndarray] | None = None  # F0..F5 of the quantization chain, LSBs
    input_scale: float | None = None
    input_scale_estimated: bool = False
    w_eff: np.ndarray | None = None  # the integer weights in real units
    broken: set[str] = dataclasses.field(default_factory=set)
    """Stages (acc, qd, sum) whose overflow changes outputs: wider, the outputs differ."""

    @property
    def config(self):  # noqa: ANN201
        return self.layer.config


def _version() -> str:
    try:
        return metadata.version("hls-sim")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"


def _float(raw: np.ndarray) -> np.ndarray:
    if raw.dtype == object:
        return np.array([float(int(v)) for v in raw.flat], dtype=np.float64).reshape(raw.shape)
    return raw.astype(np.float64)


def _values(raw: np.ndarray, fmt) -> np.ndarray:  # noqa: ANN001
    return np.ldexp(_float(np.asarray(raw)), -fmt.frac_bits)


def factor_values(layer: Layer) -> np.ndarray:
    """The factor per output channel, [C_OUT] float64."""
    n = layer.geometry.out_channels
    f = _values(layer.factor, layer.config.factor_t).reshape(-1)
    return f if layer.config.per_channel_factor else np.repeat(f[:1], n)


def make_context(layer: Layer, result: KernelResult | None = None) -> Context:
    if not layer.spec.epilogue:
        from hls_sim.layer import LayerError

        raise LayerError(layer.path, "kernel", f"kind {layer.kernel} is a data mover: it has no "
                                               "datapath (accumulator, quant_dequant, bias, relu) "
                                               "to report on; hls-sim run compares it with its "
                                               "reference")
    res = layer.run() if result is None else result
    region = layer.geometry.region
    offset = (region[0].start, region[1].start, region[2].start)
    kernel_out = _float(res.top.raw[region])
    model = StageModel(layer.spec, layer.geometry, layer.config, layer.input, layer.weight,
                       layer.bias, layer.factor)
    chain = [model.evaluate(exact=STAGES[i:]) for i in range(len(STAGES) + 1)]
    ideal = chain[0].out
    fm = layer.float_model
    scale = fm.output_scale if fm is not None else 1.0
    ctx = Context(layer, res, model, chain, kernel_out, ideal, kernel_out - ideal, offset,
                  layer.config.out_t.lsb * scale)
    for s in STAGES[:-1]:
        if res.counters[COUNTER_OF[s]]:
            name = TYPE_OF[s]
            t = model.no_overflow_type(chain[-1].pre[s], getattr(layer.config, name))
            if t is None or not np.array_equal(model.evaluate({name: t}).out, kernel_out):
                ctx.broken.add(s)
    if fm is not None:
        _float_chain(ctx)
    return ctx


def _float_chain(ctx: Context) -> None:
    """The float model and the chain from it to the kernel, one quantization at a time:
    F0 float layer; F1 integer weights (x factor); F2 integer bias; F3 integer input (the
    ideal without clipping at the top); F4 the ideal; F5 the kernel."""
    ly, c, fm = ctx.layer, ctx.layer.config, ctx.layer.float_model
    x_val = _values(ly.input, c.in_t)
    s_in = fm.input_scale
    if s_in is None:  # a float input without its scale: the least-squares scale
        den = float(np.sum(x_val * x_val))
        s_in = float(np.sum(fm.input * x_val)) / den if den else 1.0
        ctx.input_scale_estimated = True
    ctx.input_scale = s_in
    s_out = fm.output_scale
    fval = factor_values(ly)
    w_val = _values(ly.weight, c.weight_t)
    w_eff = _scale_weight(ly, s_out * fval / s_in, w_val)
    b_eff = s_out * _values(ly.bias, c.bias_t)
    b = fm.bias if fm.bias is not None else b_eff
    x = fm.input if fm.input is not None else s_in * x_val
    u = ctx.real_per_lsb
    f0 = float_layer(ly, fm.weight, b, x) / u
    f1 = float_layer(ly, w_eff, b, x) / u
    f2 = float_layer(ly, w_eff, b_eff, x) / u
    f3 = ctx.model.evaluate(exact=STAGES, relu_clip=False).out
    ctx.float_parts = [f0, f1, f2, f3, ctx.ideal, ctx.kernel_out]
    ctx.float_out = f0
    ctx.w_eff = w_eff


def _scale_weight(layer: Layer, per_out: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``w`` with each output channel's weights times ``per_out[co]`` (in the kind's own
    weight layout: the registry's ConvForm knows where the output channel is)."""
    conv = layer.spec.conv or IDENTITY_CONV
    return conv.scale_weight(layer.geometry, w, per_out)


# ---- the document ------------------------------------------------------------------------------
def _layer_info(ctx: Context) -> dict:
    ly, c = ctx.layer, ctx.config
    region = ly.geometry.region
    fvals = _values(ly.factor, c.factor_t).reshape(-1)
    return {
        "path": ly.path, "name": ly.name, "description": ly.description, "kernel": ly.kernel,
        "types": {n: str(f) for n, f in c.named_types()},
        "relu_clip": c.relu_clip, "per_channel_factor": c.per_channel_factor,
        "factor": [float(v) for v in fvals],
        "params": dict(ly.geometry.values),
        "region": {"h": [region[1].start, region[1].stop - 1], "w": [region[2].start, region[2].stop - 1]},
        "channels": ly.geometry.out_channels, "outputs": int(ctx.kernel_out.size),
        "kernel_path": ctx.result.path, "kernel_seconds": float(ctx.result.seconds),
    }


def _output_info(ctx: Context) -> dict:
    c = ctx.config
    raw = ctx.result.top.raw[ctx.layer.geometry.region]
    fm = ctx.layer.float_model
    levels = c.out_t.max_raw - c.out_t.min_raw + 1
    used = np.unique(ctx.kernel_out).size
    return {
        "type": str(c.out_t), "lsb": c.out_t.lsb,
        "scale": fm.output_scale if fm is not None else None,
        "real_per_lsb": ctx.real_per_lsb,
        "min_raw": c.out_t.min_raw, "max_raw": c.out_t.max_raw,
        "levels": levels if levels < 2 ** 53 else float(levels), "levels_used": int(used),
        "raw_min": int(min(raw.flat)), "raw_max": int(max(raw.flat)),
        "raw_mean": float(np.mean(ctx.kernel_out)),
    }


def _counters(per: np.ndarray) -> dict:
    return {n: int(per[i]) for i, n in enumerate(COUNTER_NAMES)}


def _datapath(ctx: Context) -> dict:
    cnt = ctx.result.counters
    n_ch = ctx.kernel_out[0].size
    total = metrics.error_metrics(ctx.err, ctx.ideal, ctx.real_per_lsb, ctx.offset)
    t = cnt.total()
    total.update(clip_low_share=t["clip_low"] / ctx.err.size, clip_high_share=t["clip_high"] / ctx.err.size,
                 counters=t)
    chans = metrics.per_channel(ctx.err, ctx.ideal, ctx.real_per_lsb, ctx.offset)
    for ch in chans:
        per = _counters(cnt.per_channel[ch["channel"]])
        ch.update(clip_low_share=per["clip_low"] / n_ch, clip_high_share=per["clip_high"] / n_ch,
                  counters=per)
    return {
        "reference": "ideal: relu(bias + sum(weight * input) * factor) on the same integers, "
                     "exact, no intermediate type" + (", clipped to max(out_t)" if ctx.config.relu_clip else ""),
        "model_matches_kernel": bool(np.array_equal(ctx.chain[-1].out, ctx.kernel_out)),
        "metrics": total,
        "channels": chans,
        "stages": _stages(ctx),
    }


def _stages(ctx: Context) -> list[dict]:
    c, model = ctx.config, ctx.model
    e2 = float(np.sum(ctx.err ** 2))
    last = ctx.chain[-1]
    # the chain with any overflowing upstream stage made exact: what the data needs
    wrapped = {s for s in STAGES if ctx.result.counters[COUNTER_OF[s]] > 0}
    clean = model.evaluate(exact=wrapped) if wrapped else last
    ly = ctx.layer
    any_in = StageModel(ly.spec, ly.geometry, c, ly.input, ly.weight, ly.bias, ly.factor,
                        totals=extremes(ly.spec, ly.geometry, c, ly.weight))
    any_w = StageModel(ly.spec, ly.geometry, c, ly.input, ly.weight, ly.bias, ly.factor,
                       totals=extremes(ly.spec, ly.geometry, c, None))
    worst = _upstream_exact(any_in)
    # an overflow that changes outputs leaves nothing worth keeping identical: then no stage
    # gets an "identical outputs" type (fix the overflow first)
    broken = bool(ctx.broken)
    out = []
    for i, s in enumerate(STAGES):
        d = ctx.chain[i + 1].out - ctx.chain[i].out
        a = np.abs(d)
        fmt = getattr(c, TYPE_OF[s])
        row = {
            "stage": s, "type_name": TYPE_OF[s], "type": str(fmt), "what": WHAT[s],
            "overflow": int(ctx.result.counters[COUNTER_OF[s]]),
            "rounded": int(last.rounded(s).sum()),
            "changed": int(np.count_nonzero(d)),
            "mean_lsb": float(d.mean()), "rmse_lsb": float(math.sqrt(np.mean(d * d))),
            "max_abs_lsb": float(a.max()),
            "share": float(np.sum(d * d) / e2) if e2 else 0.0,
            "value_range": None,
            "needs": None,
        }
        if s != "out":
            lo_hi = clean.pre[s]
            data_t = model.no_overflow_type(lo_hi, fmt)
            row["value_range"] = [float(v) for v in _range(lo_hi)]
            row["needs"] = {
                "on_data": _str(data_t),
                "any_input": _str(model.no_overflow_type(worst.pre[s], fmt)),
                "any_weights": _str(model.no_overflow_type(any_w.totals, fmt)) if s == "acc" else None,
                "identical_outputs": None if broken else _str(model.narrowest_identical(s, ctx.kernel_out)),
            }
        out.append(row)
    return out


def _upstream_exact(model: StageModel) -> Evaluation:
    """The chain on extreme sums, with every stage that overflows there made exact (so each
    stage sees the range it would see if the ones before it were wide enough)."""
    exact: set[str] = set()
    for s in STAGES[:-1]:
        ev = model.evaluate(exact=exact)
        if ev.post[s].overflowed.any():
            exact.add(s)
    return model.evaluate(exact=exact)


def _range(a) -> tuple[float, float]:  # noqa: ANN001 - APArray
    v = a.to_float()
    return float(v.min()), float(v.max())


def _str(fmt) -> str | None:  # noqa: ANN001
    return None if fmt is None else str(fmt)


def _quantization(ctx: Context) -> dict | None:
    if ctx.float_parts is None:
        return None
    fm = ctx.layer.float_model
    parts = ctx.float_parts
    f0 = parts[0]
    q_err = ctx.kernel_out - f0
    e2 = float(np.sum(q_err ** 2))
    u = ctx.real_per_lsb
    measured = {"weights": True, "bias": fm.bias is not None, "input": fm.input is not None,
                "output_range": ctx.config.relu_clip, "datapath": True}
    comps = []
    for i, name in enumerate(COMPONENTS):
        d = parts[i + 1] - parts[i]
        rms = float(math.sqrt(np.mean(d * d)))
        comps.append({"component": name, "what": COMPONENT_WHAT[name], "measured": measured[name],
                      "mean_lsb": float(d.mean()), "rmse_lsb": rms, "max_abs_lsb": float(np.abs(d).max()),
                      "mean_real": float(d.mean()) * u, "rmse_real": rms * u,
                      "share": float(np.sum(d * d) / e2) if e2 else 0.0})
    return {
        "reference": "float model: relu(float bias + sum(float weight * float input)), no clipping",
        "input": "float input" if fm.input is not None else "input_scale x the integer input",
        "input_scale": ctx.input_scale, "input_scale_estimated": ctx.input_scale_estimated,
        "output_scale": fm.output_scale,
        "metrics": metrics.error_metrics(q_err, f0, u, ctx.offset),
        "channels": metrics.per_channel(q_err, f0, u, ctx.offset),
        "components": comps,
    }


def build_report(layer: Layer, result: KernelResult | None = None) -> Report:
    """The quantization error report of ``layer`` (runs its kernel unless ``result`` is given)."""
    from hls_sim.report.advice import advise

    if not layer.spec.epilogue:
        from hls_sim.report.mover import mover_report

        return mover_report(layer, result)
    start = time.perf_counter()
    ctx = make_context(layer, result)
    data = {
        "schema": SCHEMA,
        "generator": f"hls-sim {_version()}",
        "layer": _layer_info(ctx),
        "output": _output_info(ctx),
        "datapath": _datapath(ctx),
        "quantization": _quantization(ctx),
    }
    data["advice"] = advise(ctx, data)
    data["seconds"] = time.perf_counter() - start
    arrays = {"kernel": ctx.kernel_out, "ideal": ctx.ideal, "datapath_error": ctx.err}
    if ctx.float_out is not None:
        arrays["float"] = ctx.float_out
        arrays["quantization_error"] = ctx.kernel_out - ctx.float_out
    return Report(_clean(data), arrays)


def _clean(x):  # noqa: ANN001, ANN202
    """Plain JSON types; NaN and infinities become null."""
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return float(x) if math.isfinite(x) else None
    return x
