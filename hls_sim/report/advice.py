"""Advice computed from the layer's data, each item with the evidence that supports it.

Every rule looks at the measured numbers (kernel counters, the stage-by-stage attribution,
the ideal and the float model) and, where it suggests a change, evaluates that change with
the stage model on the same data and reports the result as evidence. An item is a dict:

    {"id", "severity" (error | warning | info | ok), "stage", "title",
     "evidence": [one-line strings], "data": {numbers}, "suggestion": {...} or null}
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from hls_sim.report.build import COUNTER_OF, Context, factor_values
from hls_sim.report.metrics import HEALTHY_RMSE_LSB
from hls_sim.report.stages import (STAGES, TYPE_OF, StageModel, rounding_variant, truncates,
                                   wraps)
from hls_sim.runner import FactorPrecision, factor_precision
from hls_sim.types import Format, OMode, QMode, parse

SEVERITIES = ("error", "warning", "info", "ok")
STAGE_ORDER = STAGES + ("factor", "weights", "input", "layer")
BIAS_LSB = 0.05  # a stage's mean contribution that counts as a bias
GAIN = 0.75  # a change is worth advising when it lowers the error (MSE) to 75% or less
K_GRID = 2.0 ** np.arange(-6, 6 + 1 / 64, 1 / 32)  # factor multipliers tried: 1/64 .. 64


def item(id_: str, severity: str, stage: str, title: str, evidence: list[str],
         data: dict | None = None, suggestion: dict | None = None) -> dict:
    return {"id": id_, "severity": severity, "stage": stage, "title": title,
            "evidence": evidence, "data": data or {}, "suggestion": suggestion}


def _g(x: float, digits: int = 4) -> str:
    return f"{x:.{digits}g}"


def _per_out(layer, w: np.ndarray) -> np.ndarray:  # noqa: ANN001 - Layer
    """A weight tensor as [C_OUT][...], in the layout of the conv2d the kind runs as (a
    deconvolution's [C_IN][C_OUT/G][K][K] flipped)."""
    w = np.asarray(w)
    if layer.spec.conv is not None:
        w = layer.spec.conv.operands(layer.geometry, None, w)[1]
    return w.reshape(w.shape[0], -1)


def _channels(mask: np.ndarray) -> str:
    idx = [int(i) for i in np.flatnonzero(mask)]
    if len(idx) == mask.size:
        return f"all {mask.size} channels"
    return ("channel " if len(idx) == 1 else "channels ") + ", ".join(map(str, idx))


def _err_summary(out: np.ndarray, ideal: np.ndarray) -> dict:
    e = out - ideal
    return {"max_abs_lsb": float(np.abs(e).max()), "rmse_lsb": float(math.sqrt(np.mean(e * e))),
            "mean_lsb": float(e.mean()), "differ": int(np.count_nonzero(np.abs(e) > 0.5))}


def _describe(s: dict) -> str:
    return (f"max |error| {_g(s['max_abs_lsb'])} LSB, RMSE {_g(s['rmse_lsb'])} LSB, mean "
            f"{s['mean_lsb']:+.3g} LSB, {s['differ']} outputs off by more than 0.5 LSB")


def advise(ctx: Context, data: dict) -> list[dict]:
    items: list[dict] = []
    dp = data["datapath"]
    if not dp["model_matches_kernel"]:
        items.append(item("model-mismatch", "error", "layer",
                          "the stage model does not reproduce the kernel's output; the stage "
                          "attribution below is unreliable (please report this)",
                          [f"{int(np.count_nonzero(ctx.chain[-1].out != ctx.kernel_out))} outputs differ"]))
    rows = {r["stage"]: r for r in dp["stages"]}
    for s in STAGES:
        items += _overflow(ctx, rows[s])
    for s in STAGES:
        items += _rounding(ctx, rows[s])
    for s in STAGES[:-1]:
        items += _width(ctx, rows[s])
    loss = factor_precision(ctx.layer)
    # a factor that lost its value first needs its bits; its range advice comes after that
    items += _factor_precision(ctx, loss) if loss is not None else _factor(ctx, data)
    items += _weights(ctx, data)
    if data["quantization"] is not None:
        items += _float_advice(ctx, data)
    items += _healthy(ctx, data)
    items.sort(key=lambda a: (SEVERITIES.index(a["severity"]), STAGE_ORDER.index(a["stage"])))
    return items


# ---- overflow: wrap-around and saturation --------------------------------------------------------
def _overflow(ctx: Context, row: dict) -> list[dict]:
    s, n = row["stage"], row["overflow"]
    if n == 0:
        return []
    c, name = ctx.config, TYPE_OF[row["stage"]]
    fmt = getattr(c, name)
    wrap = wraps(fmt)
    per = ctx.result.counters.per_channel[:, list(COUNTER_OF).index(s)] > 0
    total = ctx.kernel_out.size
    ev_lines = [f"{n} of {total} values overflow {name} {fmt} ({_channels(per)})"]
    now = _err_summary(ctx.kernel_out, ctx.ideal)
    if s == "out":  # relu passed a value above max(out_t) through: relu_clip is off
        fix_ev = ctx.model.evaluate(relu_clip=True)
        after = _err_summary(fix_ev.out, ctx.model.evaluate(exact=STAGES, relu_clip=True).out)
        changed = int(np.count_nonzero(fix_ev.out != ctx.kernel_out))
        verb = "wraps" if wrap else "saturates"
        ev_lines.append(f"relu_clip is off, so relu passes x > max(out_t) to out_t(x), which {verb}")
        ev_lines.append(f"now: {_describe(now)}")
        ev_lines.append(f"with relu_clip on (HLS_SIM_RELU_CLIP 1) {changed} outputs change: they "
                        f"clip to max(out_t) = {c.out_t.max_value!r}; against the clipped ideal: "
                        f"{_describe(after)}")
        sev = "error" if wrap and now["max_abs_lsb"] > 1 else "warning"
        return [item(f"overflow-{s}", sev, s,
                     f"out_t {fmt} {verb} on {n} outputs that relu passes through (relu_clip off)",
                     ev_lines, {"overflow": n, "changed_by_fix": changed, **{f"now_{k}": v for k, v in now.items()}},
                     {"relu_clip": True})]
    needs = row["needs"]
    lo, hi = row["value_range"]
    fix_s = needs["any_input"] or needs["on_data"]
    fix = parse(fix_s) if fix_s else None
    ev_lines.append(f"the values {name} receives span {_g(lo, 7)} .. {_g(hi, 7)}"
                    + (f", which needs {needs['on_data']}" if needs["on_data"] else ""))
    if needs["any_input"]:
        ev_lines.append(f"{needs['any_input']} holds every value for any input of "
                        f"{c.in_t} with these weights")
    data = {"overflow": n, "value_min": lo, "value_max": hi, **{f"now_{k}": v for k, v in now.items()}}
    changed = 0
    if fix is not None:
        fix_out = ctx.model.evaluate({name: fix}).out
        changed = int(np.count_nonzero(fix_out != ctx.kernel_out))
        after = _err_summary(fix_out, ctx.ideal)
        data.update({f"fixed_{k}": v for k, v in after.items()}, changed_by_fix=changed)
        ev_lines.append(f"now: {_describe(now)}")
        ev_lines.append(f"with {name} {fix}: {changed} outputs change; {_describe(after)}")
    suggestion = {"types": {name: str(fix)}} if fix is not None else None
    if wrap:
        sev = "error" if changed else "info"
        title = (f"{name} {fmt} wraps around on {n} values: "
                 + (f"the outputs are wrong by up to {_g(now['max_abs_lsb'])} LSB; use {fix}" if changed
                    else "no output changes on this data (relu hides it), but it is one input away"))
        return [item(f"overflow-{s}", sev, s, title, ev_lines, data, suggestion)]
    sev = "warning" if changed else "info"
    what = ("the factor makes acc * factor too large for qd_t" if s == "qd" else f"{name} is too narrow")
    title = (f"{name} {fmt} saturates on {n} values ({what}): "
             + (f"{changed} outputs change; widen it to {fix}" + (" or lower the factor" if s == "qd" else "")
                if changed
                else "no output changes, relu clips those values anyway"))
    if not changed:
        ev_lines.append("every saturated value ends clipped at 0 or max(out_t), as the ideal is")
    return [item(f"overflow-{s}", sev, s, title, ev_lines, data, suggestion if changed else None)]


# ---- rounding bias ----------------------------------------------------------------------------------
def _rounding(ctx: Context, row: dict) -> list[dict]:
    s = row["stage"]
    name = TYPE_OF[s]
    fmt = getattr(ctx.config, name)
    src = ctx.chain[-1].pre[s].type
    if not truncates(fmt, src) or row["rounded"] == 0 or abs(row["mean_lsb"]) < BIAS_LSB:
        return []
    alt = rounding_variant(fmt)
    alt_out = ctx.model.evaluate({name: alt}).out
    now = _err_summary(ctx.kernel_out, ctx.ideal)
    after = _err_summary(alt_out, ctx.ideal)
    mode = "truncates toward zero (ap_int)" if fmt.kind == "int" else f"truncates ({fmt.q_mode.name})"
    ev = [f"{name} rounds {row['rounded']} of {ctx.kernel_out.size} values, always toward "
          f"{'zero' if fmt.kind == 'int' or fmt.q_mode == QMode.AP_TRN_ZERO else 'minus infinity'}: "
          f"this stage shifts the outputs by {row['mean_lsb']:+.3f} LSB on average "
          f"(RMSE {_g(row['rmse_lsb'])} LSB)",
          f"now: {_describe(now)}",
          f"with {name} {alt}: {_describe(after)}",
          "AP_RND costs one half-LSB addition before the truncation"]
    sev = "warning" if abs(now["mean_lsb"]) >= BIAS_LSB else "info"
    return [item(f"rounding-{s}", sev, s,
                 f"{name} {mode}: the outputs are biased by {now['mean_lsb']:+.2f} LSB; AP_RND removes "
                 f"the bias (mean {after['mean_lsb']:+.3f} LSB)",
                 ev, {"stage_mean_lsb": row["mean_lsb"], "rounded": row["rounded"],
                      **{f"now_{k}": v for k, v in now.items()},
                      **{f"fixed_{k}": v for k, v in after.items()}},
                 {"types": {name: str(alt)}})]


# ---- widths ----------------------------------------------------------------------------------------
def _width(ctx: Context, row: dict) -> list[dict]:
    s = row["stage"]
    if row["overflow"]:
        return []
    name = TYPE_OF[s]
    fmt = getattr(ctx.config, name)
    needs = row["needs"]
    ident = parse(needs["identical_outputs"]) if needs["identical_outputs"] else None
    safe = parse(needs["any_input"]) if needs["any_input"] else None
    if ident is None or ident.width >= fmt.width:
        return []
    lo, hi = row["value_range"]
    ev = [f"on this data the values {name} receives span {_g(lo, 7)} .. {_g(hi, 7)}"
          + (f" (no overflow from {needs['on_data']} up)" if needs["on_data"] else "")]
    if safe is not None:
        ev.append(f"for any input of {ctx.config.in_t} with these weights, {safe} never overflows")
    if needs.get("any_weights"):
        ev.append(f"for any weights of {ctx.config.weight_t} and any input, {needs['any_weights']} "
                  "never overflows")
    ev.append(f"every output bit stays identical on this data down to {ident} "
              "(each narrower width tried with the stage model)")
    if s == "acc":
        bits = safe.width if safe is not None else ident.width
        title = (f"the accumulator never needs more than {bits} bits: acc_t {fmt} has "
                 f"{fmt.width - bits} to spare" if safe is not None and safe.width < fmt.width else
                 f"acc_t {fmt} could be {ident} on this data (identical outputs)")
    else:
        title = (f"{name} {fmt} is wider than it needs: {safe} never overflows; {ident} keeps "
                 "every output bit on this data" if safe is not None and safe.width < fmt.width else
                 f"{name} {fmt} could be {ident} on this data (identical outputs)")
    choice = safe if safe is not None and safe.width < fmt.width else ident
    return [item(f"width-{s}", "info", s, title, ev,
                 {"width": fmt.width, "identical_width": ident.width,
                  "any_input_width": safe.width if safe is not None else None},
                 {"types": {name: str(choice)}})]


# ---- the factor's precision ------------------------------------------------------------------------
def _factor_precision(ctx: Context, loss: FactorPrecision) -> list[dict]:
    """The factor rounds to 0, or keeps fewer than 4 significant bits, or is off by more than
    1/16: an error, with the narrowest factor_t (more fraction bits) that keeps it."""
    ly, c, fmt = ctx.layer, ctx.config, loss.fmt
    n, lost = loss.requested.size, np.flatnonzero(loss.lost)
    where = (lambda i: "the factor") if n == 1 else (lambda i: f"channel {i}")
    ev = [f"{where(i)}: {float(loss.requested[i])!r} in the layer file, {float(loss.got[i])!r} in "
          f"factor_t ({int(loss.bits[i])} significant bits, {loss.rel_error[i]:+.2%})"
          for i in lost[:4]]
    if lost.size > 4:
        ev.append(f"and {lost.size - 4} more of the {n} channels")
    ev.append(f"factor_t {fmt} has {fmt.frac_bits} fraction bits (LSB {fmt.lsb!r}); a factor "
              "keeps its value when it is within 1/16 of it with 4 or more significant bits")
    if loss.zero.any():
        who = "every output is" if loss.zero.all() else f"{_channels(loss.zero)} output"
        ev.append(f"qd_t(acc * 0) is 0: {who} relu(bias), whatever the input; the comparison "
                  "with the ideal cannot see this (the ideal uses the same factor)")
    data = {"requested": [float(v) for v in loss.requested], "factor_t_values": [float(v) for v in loss.got],
            "significant_bits": [int(b) for b in loss.bits],
            "relative_error": [float(r) for r in loss.rel_error], "lost": [int(i) for i in lost]}
    suggestion = None
    if loss.suggestion is not None:
        new_raw = loss.suggestion.quantize(loss.requested).raw.reshape(np.shape(ly.factor))
        model = StageModel(ly.spec, ly.geometry, dataclasses.replace(c, factor_t=loss.suggestion),
                           ly.input, ly.weight, ly.bias, new_raw)
        new_out = model.evaluate().out
        changed = int(np.count_nonzero(new_out != ctx.kernel_out))
        shown = (_g(float(loss.suggested[0]), 6) if n == 1 else
                 f"{_g(float(loss.suggested.min()), 4)} .. {_g(float(loss.suggested.max()), 4)}")
        ev.append(f"with factor_t {loss.suggestion} (the narrowest with {fmt.int_bits} integer "
                  f"bit{'s' if fmt.int_bits != 1 else ''} and these modes that keeps {'it' if n == 1 else 'every channel'}) the factor "
                  f"is {shown} and {changed} of {ctx.kernel_out.size} outputs change (stage model, "
                  "same data)")
        data.update(suggested_factor_t=str(loss.suggestion), changed_by_fix=changed)
        suggestion = {"types": {"factor_t": str(loss.suggestion)}}
    ev.append("the factor's range advice (factor-range) follows once the factor keeps its value")
    return [item("factor-precision", "error", "factor", loss.message(), ev, data, suggestion)]


# ---- the factor and the output range ------------------------------------------------------------------
def _best_k(r: np.ndarray, top: float, ks: np.ndarray) -> tuple[float, float, np.ndarray]:
    """The multiplier of the factor that minimises the output's clipping-plus-rounding error
    against the unclipped ideal ``r`` (in today's LSBs): (best k, its MSE, MSE for every k)."""
    flat = r.reshape(-1)
    mse = np.empty(ks.size)
    for i, k in enumerate(ks):
        q = np.minimum(np.rint(flat * k), top) / k
        mse[i] = np.mean((q - flat) ** 2)
    j = int(np.argmin(mse))
    return float(ks[j]), float(mse[j]), mse


def _nearest(fmt: Format) -> Format:
    return Format("fixed", fmt.width, fmt.int_bits, fmt.signed, QMode.AP_RND_CONV, OMode.AP_SAT)


def _factor(ctx: Context, data: dict) -> list[dict]:
    c, ly = ctx.config, ctx.layer
    top = float(c.out_t.max_raw)
    z = np.ldexp(ctx.chain[0].pre["out"].to_float(), c.out_t.frac_bits)  # ideal before relu
    r = np.maximum(z, 0.0)
    if not (r > 0).any():
        return [item("factor-range", "warning", "factor",
                     "every ideal output is 0: relu removes the whole layer on this data",
                     ["the largest ideal value before relu is " + _g(float(z.max())) + " LSB"])]
    fvals = factor_values(ly)
    fmax = c.factor_t.max_value
    # with any overflow that changes outputs left out (its own advice says how to fix it)
    fixed = sorted(ctx.broken)
    now_ev = ctx.model.evaluate(exact=fixed) if fixed else ctx.chain[-1]
    now_out = now_ev.out
    now_mse = float(np.mean((now_out - r) ** 2))
    clip_now = float(np.mean(now_ev.high | now_ev.overflowed("out")))  # clipped, or out_t overflowed
    hit = "clip at the top" if c.relu_clip else "overflow out_t (relu_clip is off)"
    peak = float(r.max())
    used_now = int(np.unique(now_out).size)
    levels = data["output"]["levels"]
    n_ch = ctx.layer.geometry.out_channels
    if c.per_channel_factor:
        ks = np.empty(n_ch)
        for ch in range(n_ch):
            grid = K_GRID[K_GRID * fvals[ch] <= fmax]
            ks[ch] = _best_k(r[ch], top, grid)[0] if grid.size else 1.0
    else:
        grid = K_GRID[K_GRID * fvals.max() <= fmax]
        k = _best_k(r, top, grid)[0] if grid.size else 1.0
        ks = np.full(n_ch, k)
    new_f = _nearest(c.factor_t).quantize(fvals * ks if c.per_channel_factor else fvals[0] * ks[0])
    new_b = _nearest(c.bias_t).quantize(_bias_values(ctx) * ks)
    ev_new = ctx.model.evaluate(factor=new_f.raw, bias=new_b.raw, exact=fixed)
    kk = ks.reshape(n_ch, 1, 1)
    after_mse = float(np.mean((ev_new.out / kk - r) ** 2))
    clip_after = float(np.mean(ev_new.high | ev_new.overflowed("out")))
    used_after = int(np.unique(ev_new.out).size)
    base = [f"the ideal output (before clipping) reaches {_g(peak)} LSB; out_t's top is {_g(top)}"
            + (f" (measured with {', '.join(TYPE_OF[s] for s in fixed)} wide enough not to overflow)"
               if fixed else ""),
            f"now: {clip_now:.2%} of outputs {hit}, {used_now} of {levels} output levels "
            f"used, error against the unclipped ideal {_g(now_mse)} LSB^2 (MSE)"]
    data_ = {"peak_ideal_lsb": peak, "clip_high_share": clip_now, "levels_used": used_now,
             "mse_vs_unclipped_lsb2": now_mse}
    out: list[dict] = []
    if after_mse <= GAIN * now_mse and not np.allclose(ks, 1.0):
        fsug = [float(v) for v in np.ldexp(np.asarray(new_f.raw, dtype=np.float64).reshape(-1),
                                         -c.factor_t.frac_bits)]
        kdesc = (f"x{_g(ks[0], 3)}" if not c.per_channel_factor else
                 f"x{_g(ks.min(), 3)} .. x{_g(ks.max(), 3)} per channel")
        shown = _g(fsug[0], 5) if len(fsug) == 1 else f"{_g(min(fsug), 4)} .. {_g(max(fsug), 4)}"
        gain = (f"factor {kdesc} ({shown}) lowers the error against the unclipped ideal from "
                f"{_g(now_mse, 3)} to {_g(after_mse, 3)} LSB^2")
        wastes = peak < top / 2
        if clip_now > 0.01:
            title = f"the factor saturates the output: {clip_now:.1%} of outputs {hit}; {gain}"
        elif (ks >= 1).all():
            title = (f"the output wastes levels (the ideal peaks at {_g(peak, 3)} of {_g(top)}); {gain}")
        elif (ks <= 1).all():
            title = (f"{clip_now:.2%} of outputs {hit} (the ideal reaches {_g(peak, 4)} of "
                     f"{_g(top)}); {gain}")
        else:
            title = f"the per-channel factors do not fit the channels' ranges; {gain}"
        ev = base + [f"with factor {kdesc} and the bias scaled alike (stage model, same data): "
                     f"{clip_after:.2%} {hit.split(' (')[0]}, {used_after} levels used, error {_g(after_mse)} "
                     "LSB^2 in today's LSBs",
                     "the output scale changes by the same factor (the next layer's input scale)"]
        sev = "warning" if (clip_now > 0.01 or wastes) else "info"
        out.append(item("factor-range", sev, "factor", title, ev,
                        {**data_, "k": [float(v) for v in ks] if c.per_channel_factor else float(ks[0]),
                         "clip_high_share_after": clip_after, "levels_used_after": used_after,
                         "mse_vs_unclipped_after_lsb2": after_mse},
                        {"factor": fsug if c.per_channel_factor else fsug[0],
                         "scale_bias_by": [float(v) for v in ks] if c.per_channel_factor else float(ks[0])}))
    else:
        out.append(item("factor-range", "ok", "factor",
                        f"the factor suits the output range: {used_now} of {levels} levels used, "
                        f"{clip_now:.2%} {hit.split(' (')[0]}",
                        base + ["no factor from x1/64 to x64 lowers that error by 25% or more"],
                        data_))
    if not c.per_channel_factor:
        out += _per_channel_factor(ctx, r, top, fvals, fmax, now_mse, after_mse if out[0]["severity"] != "ok" else now_mse)
    return out


def _bias_values(ctx: Context) -> np.ndarray:
    c = ctx.config
    return np.ldexp(np.asarray(ctx.layer.bias, dtype=np.float64), -c.bias_t.frac_bits)


def _per_channel_factor(ctx: Context, r: np.ndarray, top: float, fvals: np.ndarray, fmax: float,
                        now_mse: float, tensor_mse: float) -> list[dict]:
    n_ch = ctx.layer.geometry.out_channels
    ks = np.empty(n_ch)
    mses = np.empty(n_ch)
    for ch in range(n_ch):
        grid = K_GRID[K_GRID * fvals[ch] <= fmax]
        ks[ch], mses[ch], _ = _best_k(r[ch], top, grid) if grid.size else (1.0, np.nan, None)
    pc_mse = float(np.mean(mses))
    if not pc_mse <= GAIN * tensor_mse or ks.max() < 2 * ks.min():
        return []
    peaks = r.reshape(n_ch, -1).max(axis=1)
    return [item("per-channel-factor", "info", "factor",
                 f"the channels' ranges differ {_g(float(peaks.max() / max(peaks.min(), 1e-300)), 3)}x: "
                 "a factor per output channel would lower the output error",
                 [f"ideal peaks per channel from {_g(float(peaks.min()))} to {_g(float(peaks.max()))} LSB",
                  f"best single factor: error {_g(tensor_mse)} LSB^2; best factor per channel "
                  f"(x{_g(ks.min(), 3)} .. x{_g(ks.max(), 3)}): {_g(pc_mse)} LSB^2 (now {_g(now_mse)})",
                  "set per_channel_factor: true (HLS_SIM_PER_CHANNEL_FACTOR 1)"],
                 {"k": [float(v) for v in ks], "mse_per_channel_lsb2": pc_mse, "mse_tensor_lsb2": tensor_mse},
                 {"per_channel_factor": True, "factor": [float(v) for v in fvals * ks],
                  "scale_bias_by": [float(v) for v in ks]})]


# ---- weights ---------------------------------------------------------------------------------------
def _weights(ctx: Context, data: dict) -> list[dict]:
    c = ctx.config
    w = np.abs(_per_out(ctx.layer, np.asarray(ctx.layer.weight, dtype=np.float64))).max(axis=1)
    wmax = float(c.weight_t.max_raw)
    unused = np.log2(wmax / np.maximum(w, 1))  # bits of weight_t's range left unused per channel
    q = data["quantization"]
    out = []
    if not c.per_channel_factor and unused.min() < 1 and (unused >= 2).any():
        low = unused >= 2
        ev = [f"largest |weight| per channel: {', '.join(str(int(v)) for v in w)} (of {int(wmax)})",
              f"{_channels(low)} {'use' if low.sum() > 1 else 'uses'} less than a quarter of "
              f"{c.weight_t}'s range"]
        if q is not None and ctx.w_eff is not None:
            ev.append(_weight_error_line(ctx, low))
        out.append(item("weight-range", "info", "weights",
                        f"{int(low.sum())} channel{'s' if low.sum() > 1 else ''} leave{'' if low.sum() > 1 else 's'} "
                        "2 or more bits of weight_t unused: per-channel "
                        "weight scales would give each channel its full range",
                        ev + ["quantize per output channel (hls-sim quantize --per-channel) and set "
                              "per_channel_factor: true"],
                        {"max_abs_weight": [int(v) for v in w], "unused_bits": [float(v) for v in unused]},
                        {"per_channel_factor": True}))
    elif unused.min() >= 1:
        k = 2 ** math.floor(unused.min())
        out.append(item("weight-range", "info", "weights",
                        f"the weights use at most {int(w.max())} of {c.weight_t}'s {int(wmax)}: "
                        f"{_g(float(unused.min()), 2)} bits unused in every channel",
                        [f"weights x{k} and factor /{k} compute the same layer with "
                         f"{int(math.floor(unused.min()))} more bits of weight precision"],
                        {"max_abs_weight": [int(v) for v in w], "unused_bits": [float(v) for v in unused]},
                        {"scale_weights_by": k}))
    return out


def _weight_error_line(ctx: Context, mask: np.ndarray) -> str:
    f0, f1 = ctx.float_parts[0], ctx.float_parts[1]
    d = (f1 - f0).reshape(f0.shape[0], -1)
    sig = np.sqrt(np.mean(f0.reshape(f0.shape[0], -1) ** 2, axis=1))
    rel = np.sqrt(np.mean(d ** 2, axis=1)) / np.maximum(sig, 1e-300)
    return (f"the weights' share of the error relative to the signal: {_g(float(rel[mask].mean()), 3)} in "
            f"those channels, {_g(float(rel[~mask].mean()), 3)} in the others")


# ---- against the float model -------------------------------------------------------------------------
def _float_advice(ctx: Context, data: dict) -> list[dict]:
    q = data["quantization"]
    out = []
    comps = [cp for cp in q["components"] if cp["measured"]]
    ranked = sorted(comps, key=lambda cp: -cp["share"])
    lines = [f"{cp['component']}: RMSE {_g(cp['rmse_lsb'], 3)} LSB ({_g(cp['rmse_real'], 3)} real), "
             f"mean {cp['mean_lsb']:+.3g} LSB, {cp['share']:.0%} of the error energy ({cp['what']})"
             for cp in ranked]
    not_measured = [cp["component"] for cp in q["components"] if not cp["measured"]]
    if not_measured:
        lines.append(f"not measured (the layer gives no float value for them): {', '.join(not_measured)}")
    top = ranked[0]
    m = q["metrics"]
    out.append(item("error-budget", "info", "layer",
                    f"against the float model (SQNR {_g(m['sqnr_db'], 3) if m['sqnr_db'] is not None else 'inf'} dB) "
                    f"most of the error comes from {top['component'].replace('_', ' ')} "
                    f"({top['share']:.0%} of the error energy)",
                    lines, {cp["component"]: cp["share"] for cp in q["components"]}))
    # the factor against the float weights: the gain that fits the integer weights (in real
    # units) to the float ones, per channel with per-channel factors, else one for the tensor
    fm = ctx.layer.float_model
    we = _per_out(ctx.layer, ctx.w_eff)
    wf = _per_out(ctx.layer, fm.weight)
    per = ctx.config.per_channel_factor
    num, den = np.sum(we * wf, axis=1), np.sum(we * we, axis=1)
    if per:
        gain = np.where(den > 0, num / np.where(den > 0, den, 1), 1.0)
    else:
        gain = np.full(we.shape[0], float(num.sum() / den.sum()) if den.sum() > 0 else 1.0)
    dev = np.abs(gain - 1)
    if dev.max() > 0.02:
        worst = int(np.argmax(dev))
        fvals = factor_values(ctx.layer)
        where = f" (channel {worst})" if per else ""
        out.append(item("factor-scale", "warning", "factor",
                        f"the factor and the scales do not match the float weights: integer weights x "
                        f"factor x output scale / input scale fit them with a gain of "
                        f"{_g(float(gain[worst]), 4)}{where}",
                        [("best-fit gain per channel: " + ", ".join(_g(float(g), 3) for g in gain)) if per else
                         f"best-fit gain over the tensor: {_g(float(gain[0]), 4)}",
                         "a consistent factor is weight scale x input scale / output scale",
                         f"the weights component is {_comp(q, 'weights')['share']:.0%} of the error energy"],
                        {"gain": [float(g) for g in gain] if per else float(gain[0])},
                        {"factor": [float(v) for v in fvals * gain] if per else float(fvals[0] * gain[0])}))
    if fm.input is not None:
        c = ctx.config
        xs = fm.input / ctx.input_scale
        top = c.in_t.max_value
        sat = float(np.mean(xs > top + c.in_t.lsb / 2))
        neg = float(np.mean(xs < c.in_t.min_value - c.in_t.lsb / 2))
        if sat > 0 or neg > 0:
            cp = _comp(q, "input")
            out.append(item("input-range", "warning" if cp["share"] > 0.25 and sat > 0.001 else "info", "input",
                            f"the input scale clips {sat:.2%} of the float input at max(in_t)"
                            + (f" and {neg:.2%} below min(in_t)" if neg else ""),
                            [f"input scale {_g(ctx.input_scale, 6)}: in_t {c.in_t} covers real values "
                             f"{_g(c.in_t.min_value * ctx.input_scale, 4)} .. {_g(top * ctx.input_scale, 4)}; "
                             f"the float input reaches {_g(float(fm.input.max()), 4)}",
                             f"the input component is {cp['share']:.0%} of the error energy "
                             f"(RMSE {_g(cp['rmse_lsb'], 3)} LSB)"],
                            {"saturated_share": sat, "below_share": neg}))
    return out


def _comp(q: dict, name: str) -> dict:
    return next(cp for cp in q["components"] if cp["component"] == name)


# ---- all is well ---------------------------------------------------------------------------------
def _healthy(ctx: Context, data: dict) -> list[dict]:
    m = data["datapath"]["metrics"]
    over = {s: r["overflow"] for s, r in ((r["stage"], r) for r in data["datapath"]["stages"])}
    if any(over.values()) or abs(m["mean_lsb"]) >= BIAS_LSB or m["rmse_lsb"] > 0.35 or m["differ"]:
        return []
    return [item("datapath-rounding-only", "ok", "layer",
                 f"the datapath adds rounding error only: RMSE {_g(m['rmse_lsb'], 3)} LSB "
                 f"(a uniform rounding gives {_g(HEALTHY_RMSE_LSB, 3)}), mean {m['mean_lsb']:+.3g} LSB, "
                 f"max {_g(m['max_abs_lsb'], 3)} LSB",
                 ["no stage overflows (acc, qd, sum, out counters all 0)",
                  f"{m['differ']} of {m['n']} outputs are further than 0.5 LSB from the ideal"],
                 {"rmse_lsb": m["rmse_lsb"], "mean_lsb": m["mean_lsb"]})]
