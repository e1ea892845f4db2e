"""The report of a kind without the weights epilogue (upsample, pooling): its output against
the exact value it moves or computes, and what each of its conversions did.

Such a kind has no accumulator, quant_dequant, bias or relu to attribute error to, so the
document (same schema as :mod:`hls_sim.report.build`, ``layer.mover`` true) replaces the
stage table by ``datapath.conversions``: one row per conversion the registry entry declares
(``Kind.conversions``: counter, type name, what), with its overflow count. The error against
the reference is the whole story: 0 for an exact mover, the rounding of an average.
"""

from __future__ import annotations

import time

import numpy as np

from hls_sim.kernels.hls_kernels import ROUNDED_BY
from hls_sim.layer import Layer
from hls_sim.reference import reference
from hls_sim.report import metrics
from hls_sim.report.advice import item
from hls_sim.types import Format


def holding_type(fmt: Format, lo: float, hi: float) -> Format | None:
    """The narrowest ``fmt`` (same kind, fraction bits, sign and modes) whose range holds
    [lo, hi] (real values); None if no type up to 1024 bits does."""
    from hls_sim.report.stages import resized

    f = fmt.frac_bits if fmt.kind == "fixed" else 0
    for i in range(1 - f, 1025 - f):
        t = resized(fmt, i)
        if t is not None and t.min_value <= lo and t.max_value >= hi:
            return t
    return None


def _advice(layer: Layer, dp: dict, ideal: np.ndarray) -> list[dict]:
    c = layer.config
    out = []
    for cv in dp["conversions"]:
        if not cv["overflow"]:
            continue
        sug = None
        evidence = [f"{cv['overflow']} of {ideal.size} outputs overflowed in {cv['what']}"]
        if cv["type_name"] == "out_t":
            lo, hi = float(ideal.min()) * c.out_t.lsb, float(ideal.max()) * c.out_t.lsb
            t = holding_type(c.out_t, lo, hi)
            evidence.append(f"the exact values span {lo:.6g} .. {hi:.6g}; {c.out_t} holds "
                            f"{c.out_t.min_value:.6g} .. {c.out_t.max_value:.6g}")
            if t is not None:
                sug = {"types": {"out_t": str(t)}}
        out.append(item(f"overflow-{cv['stage']}", "error", cv["stage"],
                        f"{cv['type_name']} {cv['type']} overflows", evidence, suggestion=sug))
    m = dp["metrics"]
    if m["max_abs_lsb"] == 0:
        out.append(item("exact", "ok", "out", f"exact: the kernel equals the reference on all "
                                              f"{ideal.size} outputs", [dp["reference"]]))
    elif not out:
        evidence = [dp["reference"]]
        evidence += [f"{cv['rounded']} of {ideal.size} values lost bits in {cv['what']} "
                     f"({cv['type_name']} {cv['type']})"
                     for cv in dp["conversions"] if cv.get("rounded")]
        note = layer.spec.note(layer)
        if note:
            evidence.append(note)
        out.append(item("rounding", "info", "out",
                        f"rounding only: RMSE {m['rmse_lsb']:.4g} LSB, max |error| "
                        f"{m['max_abs_lsb']:.4g} LSB, mean {m['mean_lsb']:+.3g} LSB from the "
                        "exact value", evidence))
    return out


def mover_report(layer: Layer, result=None):  # noqa: ANN001, ANN201 - KernelResult, Report
    """The report of ``layer``, a kind without the epilogue (runs its kernel unless
    ``result`` is given)."""
    from hls_sim.report.build import SCHEMA, Report, _clean, _float, _version

    start = time.perf_counter()
    kind, geom, c = layer.spec, layer.geometry, layer.config
    res = layer.run() if result is None else result
    region = geom.region
    kernel_out = _float(res.top.raw[region])
    ideal = reference(kind, geom, c, layer.input, layer.second, None, None)
    err = kernel_out - ideal
    offset = (region[0].start, region[1].start, region[2].start)
    cnt = res.counters
    total = metrics.error_metrics(err, ideal, 1.0, offset)
    total.update(clip_low_share=0.0, clip_high_share=0.0, counters=cnt.total())
    chans = metrics.per_channel(err, ideal, 1.0, offset)
    for ch in chans:
        per = {n: int(v) for n, v in zip(cnt.total(), cnt.per_channel[ch["channel"]])}
        ch.update(clip_low_share=0.0, clip_high_share=0.0, counters=per)
    conversions = [{"stage": stage, "type_name": tn, "type": str(getattr(c, tn)), "what": what,
                    "counter": counter, "overflow": int(cnt[counter]),
                    "rounded": int(cnt[ROUNDED_BY[counter]]) if counter in ROUNDED_BY else None}
                   for counter, tn, what, stage in kind.conversions]
    dp = {"reference": f"exact: {kind.reference_doc} on the same integers, no intermediate type",
          "model_matches_kernel": True, "metrics": total, "channels": chans, "stages": [],
          "conversions": conversions}
    raw = res.top.raw[region]
    levels = c.out_t.max_raw - c.out_t.min_raw + 1
    data = {
        "schema": SCHEMA, "generator": f"hls-sim {_version()}",
        "layer": {"path": layer.path, "name": layer.name, "description": layer.description,
                  "kernel": layer.kernel, "mover": True,
                  "types": {n: str(getattr(c, n)) for n in kind.types},
                  "relu_clip": c.relu_clip, "per_channel_factor": False, "factor": [],
                  "params": dict(geom.values),
                  "region": {"h": [region[1].start, region[1].stop - 1],
                             "w": [region[2].start, region[2].stop - 1]},
                  "channels": geom.out_channels, "outputs": int(kernel_out.size),
                  "kernel_path": res.path, "kernel_seconds": float(res.seconds)},
        "output": {"type": str(c.out_t), "lsb": c.out_t.lsb, "scale": None, "real_per_lsb": 1.0,
                   "min_raw": c.out_t.min_raw, "max_raw": c.out_t.max_raw,
                   "levels": levels if levels < 2 ** 53 else float(levels),
                   "levels_used": int(np.unique(kernel_out).size),
                   "raw_min": int(min(raw.flat)), "raw_max": int(max(raw.flat)),
                   "raw_mean": float(np.mean(kernel_out))},
        "datapath": dp,
        "quantization": None,
    }
    data["advice"] = _advice(layer, dp, ideal)
    data["seconds"] = time.perf_counter() - start
    return Report(_clean(data), {"kernel": kernel_out, "ideal": ideal, "datapath_error": err})
