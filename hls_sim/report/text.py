"""The terminal form of a report: summary tables and the advice, plain text."""

from __future__ import annotations

import textwrap

from hls_sim.kernels.hls_kernels import COUNTER_NAMES

WIDTH = 110
MARK = {"error": "ERROR", "warning": "WARN", "info": "info", "ok": "ok"}


def _g(x: float | None, digits: int = 4) -> str:
    if x is None:
        return "inf"
    if x == 0:
        return "0"
    return f"{x:.{digits}g}"


def _signed(x: float, digits: int = 3) -> str:
    return "0" if x == 0 else f"{x:+.{digits}g}"


def _pct(x: float) -> str:
    return "0" if x == 0 else f"{x:.2%}"


def _at(idx: list[int]) -> str:
    return "".join(f"[{i}]" for i in idx)


def table(rows: list[list[str]], right: set[int] = frozenset()) -> list[str]:
    """Columns padded to their widest cell; columns in ``right`` aligned right."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = []
    for r in rows:
        cells = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))]
        out.append("  ".join(cells).rstrip())
    return out


def _overflow(counters: dict) -> str:
    return "/".join(str(counters[n]) for n in COUNTER_NAMES[:4])


def _sqnr(m: dict) -> str:
    # as the JSON and docs/report.md say: null when there is no error (or no signal)
    return "null" if m["sqnr_db"] is None else f"{m['sqnr_db']:.2f}"


def _cos(m: dict) -> str:
    return "n/a" if m["cosine"] is None else f"{m['cosine']:.6f}"


def datapath_table(dp: dict) -> list[str]:
    head = ["ch", "MSE", "RMSE", "max|e|", "at", "mean", "SQNR dB", "cosine", "clip@0", "clip@top",
            "overflow acc/qd/sum/out"]
    rows = [head]
    for label, m in [("all", dp["metrics"])] + [(str(c["channel"]), c) for c in dp["channels"]]:
        rows.append([label, _g(m["mse_lsb2"]), _g(m["rmse_lsb"]), _g(m["max_abs_lsb"]), _at(m["max_abs_at"]),
                     _signed(m["mean_lsb"]), _sqnr(m), _cos(m), _pct(m["clip_low_share"]),
                     _pct(m["clip_high_share"]), _overflow(m["counters"])])
    return table(rows, right={1, 2, 3, 5, 6, 7, 8, 9})


def stages_table(stages: list[dict]) -> list[str]:
    rows = [["stage", "type", "overflow", "rounded", "changed", "mean", "RMSE", "max|e|", "share",
             "narrowest: identical outputs / any input"]]
    for s in stages:
        n = s["needs"]
        narrow = "-" if n is None else f"{n['identical_outputs'] or '-'} / {n['any_input'] or '-'}"
        rows.append([s["stage"], s["type"], str(s["overflow"]), str(s["rounded"]), str(s["changed"]),
                     _signed(s["mean_lsb"]), _g(s["rmse_lsb"]), _g(s["max_abs_lsb"]),
                     f"{s['share']:.0%}", narrow])
    return table(rows, right={2, 3, 4, 5, 6, 7, 8})


def conversions_table(conversions: list[dict]) -> list[str]:
    rows = [["stage", "type", "overflow", "rounded", "what"]]
    rows += [[cv["stage"], f"{cv['type_name']} {cv['type']}", str(cv["overflow"]),
              "-" if cv.get("rounded") is None else str(cv["rounded"]), cv["what"]]
             for cv in conversions]
    return table(rows, right={2, 3})


def quantization_table(q: dict) -> list[str]:
    rows = [["ch", "MSE (real)", "RMSE (real)", "RMSE/LSB", "max|e| (real)", "max/LSB", "at", "mean/LSB",
             "SQNR dB", "cosine"]]
    for label, m in [("all", q["metrics"])] + [(str(c["channel"]), c) for c in q["channels"]]:
        rows.append([label, _g(m["mse_real"]), _g(m["rmse_real"]), _g(m["rmse_lsb"]), _g(m["max_abs_real"]),
                     _g(m["max_abs_lsb"]), _at(m["max_abs_at"]), _signed(m["mean_lsb"]), _sqnr(m), _cos(m)])
    return table(rows, right={1, 2, 3, 4, 5, 7, 8, 9})


def components_table(q: dict) -> list[str]:
    rows = [["component", "RMSE/LSB", "RMSE (real)", "mean/LSB", "max/LSB", "share", "what"]]
    for cp in q["components"]:
        if not cp["measured"]:
            rows.append([cp["component"], "-", "-", "-", "-", "-", cp["what"] + " (not measured)"])
            continue
        rows.append([cp["component"], _g(cp["rmse_lsb"]), _g(cp["rmse_real"]), _signed(cp["mean_lsb"]),
                     _g(cp["max_abs_lsb"]), f"{cp['share']:.0%}", cp["what"]])
    return table(rows, right={1, 2, 3, 4, 5})


def suggestion_text(s: dict | None) -> str | None:
    if not s:
        return None
    parts = []
    for name, t in (s.get("types") or {}).items():
        parts.append(f"{name} {t}")
    if "factor" in s:
        f = s["factor"]
        parts.append("factor " + (f"{f:.6g}" if isinstance(f, float) else
                                  "[" + ", ".join(f"{v:.5g}" for v in f) + "]"))
    if "scale_bias_by" in s:
        k = s["scale_bias_by"]
        parts.append(f"bias x{k:.4g}" if isinstance(k, float) else
                     f"bias x{min(k):.3g} .. x{max(k):.3g} (as each channel's factor)")
    if "per_channel_factor" in s:
        parts.append(f"per_channel_factor: {str(s['per_channel_factor']).lower()}")
    if "relu_clip" in s:
        parts.append(f"relu_clip: {str(s['relu_clip']).lower()}")
    if "scale_weights_by" in s:
        parts.append(f"weights x{s['scale_weights_by']} and factor /{s['scale_weights_by']}")
    return "; ".join(parts)


def advice_lines(advice: list[dict]) -> list[str]:
    out = []
    for i, a in enumerate(advice, 1):
        head = f"{i:2d}. [{MARK[a['severity']]}] {a['stage']}: "
        out += textwrap.wrap(a["title"], WIDTH, initial_indent=head, subsequent_indent=" " * len(head))
        pad = " " * 8
        for e in a["evidence"]:
            out += textwrap.wrap(e, WIDTH, initial_indent=pad + "- ", subsequent_indent=pad + "  ")
        sug = suggestion_text(a["suggestion"])
        if sug:
            out += textwrap.wrap(sug, WIDTH, initial_indent=pad + "=> try: ", subsequent_indent=pad + "   ")
    return out


def render_text(data: dict) -> str:
    """The terminal report of a report document (:attr:`Report.data`)."""
    ly, o, dp, q = data["layer"], data["output"], data["datapath"], data["quantization"]
    t = ly["types"]
    lines = [f"report    {ly['path']}" + (f"  ({ly['name']})" if ly["name"] else "")]
    if ly["description"]:
        lines.append(f"          {' '.join(ly['description'].split())}")
    f = ly["factor"]
    fac = ("" if not f else f"; factor {f[0]:.8g}" if len(f) == 1 else
           f"; factor per channel {min(f):.6g} .. {max(f):.6g}")
    n_c = ly["channels"]
    lines.append(f"layer     {ly['kernel']}: {ly['outputs']} outputs = {n_c} channels x "
                 f"{ly['region']['h'][1] - ly['region']['h'][0] + 1} x "
                 f"{ly['region']['w'][1] - ly['region']['w'][0] + 1} (top h "
                 f"{ly['region']['h'][0]}..{ly['region']['h'][1]}, w {ly['region']['w'][0]}.."
                 f"{ly['region']['w'][1]}){fac}")
    mover = ly.get("mover", False)
    if mover:
        lines.append("types     " + ", ".join(f"{n} {v}" for n, v in t.items()))
    else:
        lines.append(f"types     in {t['in_t']}, weight {t['weight_t']}, bias {t['bias_t']}, factor "
                     f"{t['factor_t']}, out {t['out_t']}")
        lines.append(f"          acc {t['acc_t']}, qd {t['qd_t']}, sum {t['sum_t']}; relu_clip "
                     f"{int(ly['relu_clip'])}, per_channel_factor {int(ly['per_channel_factor'])}")
    real = f"1 LSB = {o['lsb']!r}" + (f" x output scale {o['scale']:.6g} = {o['real_per_lsb']:.6g} real"
                                      if o["scale"] is not None else "")
    lines.append(f"output    {o['type']}: {real}; raw {o['raw_min']}..{o['raw_max']}, mean "
                 f"{o['raw_mean']:.2f}; {o['levels_used']} of {o['levels']} levels used")
    lines.append("")
    lines.append("DATAPATH ERROR: kernel - ideal on the same integers (exact, no intermediate type), "
                 "in LSBs of out_t")
    lines += datapath_table(dp)
    lines.append("")
    if mover:
        lines.append("CONVERSIONS: the kind's own conversions (no weights, bias or factor)")
        lines += conversions_table(dp["conversions"])
    else:
        lines.append("WHERE IT COMES FROM: each stage's part of kernel - ideal (the parts add up to "
                     "the error)")
        lines += stages_table(dp["stages"])
        if not dp["model_matches_kernel"]:
            lines.append("WARNING: the stage model does not reproduce the kernel's output")
    if q is not None:
        lines.append("")
        src = q["input"] + (f" (input scale {q['input_scale']:.6g}"
                            + (", estimated)" if q["input_scale_estimated"] else ")"))
        lines.append(f"QUANTIZATION ERROR: kernel - float model ({src}); output scale "
                     f"{q['output_scale']:.6g}")
        lines += quantization_table(q)
        lines.append("")
        lines.append("FROM FLOAT TO KERNEL: one quantization at a time (the parts add up to the error)")
        lines += components_table(q)
    elif not mover:
        lines.append("")
        lines.append("QUANTIZATION ERROR: not measured; give the layer file a float: block (float "
                     "weights, bias, scales) or start from hls-sim quantize")
    lines.append("")
    lines.append("ADVICE")
    lines += advice_lines(data["advice"]) or ["    (none)"]
    return "\n".join(lines)
