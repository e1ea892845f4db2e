"""The HTML form of a report: one self-contained page (inline CSS, plots as PNG data URIs,
the JSON document embedded in a ``<script type="application/json">``); no network access."""

from __future__ import annotations

import json
from html import escape

from hls_sim.report import plots
from hls_sim.report.build import Report
from hls_sim.report.metrics import HEALTHY_RMSE_LSB
# text.py's number formats serve both forms (only SQNR's infinity is spelled differently)
from hls_sim.report.text import COUNTER_NAMES, _at, _cos, _g, _pct, suggestion_text

CSS = """
body{font:14px/1.45 -apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;color:#1d2329;
  margin:0;background:#f4f6f8}
main{max-width:1180px;margin:0 auto;padding:18px 26px 40px}
h1{font-size:22px;margin:6px 0 2px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #d5dbe1;
  padding-bottom:4px}h3{font-size:14px;margin:16px 0 6px}
.sub{color:#56616c}.mono,code,td.mono{font-family:SFMono-Regular,Consolas,'Liberation Mono',monospace;font-size:12.5px}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:14px 0}
.card{background:#fff;border:1px solid #dde3e9;border-radius:6px;padding:8px 12px;min-width:130px}
.card .v{font-size:20px;font-weight:600}.card .k{color:#56616c;font-size:12px}
.card .n{color:#7a858f;font-size:11.5px}
table{border-collapse:collapse;background:#fff;margin:6px 0 10px;font-size:12.5px}
th,td{border:1px solid #e1e6eb;padding:3px 7px;text-align:right;white-space:nowrap}
th{background:#eef2f5;font-weight:600}td.s{font-size:11.5px;white-space:normal;min-width:90px}td.l,th.l{text-align:left}tr.all td{font-weight:600;background:#f8fafb}
.scroll{overflow-x:auto}
.adv{background:#fff;border:1px solid #dde3e9;border-left:5px solid #9aa5b1;border-radius:5px;
  padding:8px 12px;margin:8px 0}
.adv.error{border-left-color:#c62828}.adv.warning{border-left-color:#e08a00}.adv.info{border-left-color:#1f6fb2}
.adv.ok{border-left-color:#2e7d32}
.adv .t{font-weight:600}.adv ul{margin:4px 0 4px 18px;padding:0;color:#37414b}.adv li{margin:1px 0}
.badge{display:inline-block;font-size:11px;font-weight:700;text-transform:uppercase;border-radius:3px;
  padding:1px 6px;margin-right:6px;color:#fff;background:#9aa5b1}
.badge.error{background:#c62828}.badge.warning{background:#e08a00}.badge.info{background:#1f6fb2}
.badge.ok{background:#2e7d32}.stage{color:#56616c;font-size:12px;margin-right:6px}
.try{margin-top:3px}.try code{background:#eef2f5;padding:1px 5px;border-radius:3px}
figure{margin:8px 0 12px;background:#fff;border:1px solid #dde3e9;border-radius:6px;padding:8px}
figure img{max-width:100%;display:block;margin:0 auto}figcaption{color:#56616c;font-size:12px;margin-top:4px}
.grid2{display:grid;grid-template-columns:1fr 1fr;gap:12px}.grid2 figure{margin:8px 0}
footer{color:#7a858f;font-size:12px;margin-top:30px}
"""


def _signed(x: float) -> str:
    return "0" if x == 0 else f"{x:+.3g}"


def _sqnr(m: dict) -> str:
    if m["sqnr_db"] is None:
        return "&infin;" if m["exact"] else "n/a"
    return f"{m['sqnr_db']:.2f}"


def _table(head: list[str], rows: list[list[str]], left: set[int] = frozenset({0}),
           first_bold: bool = False, small: set[int] = frozenset()) -> str:
    th = "".join(f'<th class="{"l" if i in left else ""}">{h}</th>' for i, h in enumerate(head))
    body = []
    for j, r in enumerate(rows):
        cls = ' class="all"' if first_bold and j == 0 else ""
        tds = "".join(f'<td class="{"l " if i in left else ""}{"s " if i in small else ""}mono">'
                      f'{c.replace(",", ",<wbr>") if i in small else c}</td>' for i, c in enumerate(r))
        body.append(f"<tr{cls}>{tds}</tr>")
    return f'<div class="scroll"><table><tr>{th}</tr>{"".join(body)}</table></div>'


def _card(value: str, key: str, note: str = "") -> str:
    n = f'<div class="n">{note}</div>' if note else ""
    return f'<div class="card"><div class="v">{value}</div><div class="k">{key}</div>{n}</div>'


def _advice(advice: list[dict]) -> str:
    out = []
    for a in advice:
        ev = "".join(f"<li>{escape(e)}</li>" for e in a["evidence"])
        sug = suggestion_text(a["suggestion"])
        try_ = f'<div class="try">try: <code>{escape(sug)}</code></div>' if sug else ""
        out.append(f'<div class="adv {a["severity"]}"><span class="badge {a["severity"]}">{a["severity"]}</span>'
                   f'<span class="stage">{escape(a["stage"])}</span><span class="t">{escape(a["title"])}</span>'
                   f"<ul>{ev}</ul>{try_}</div>")
    return "".join(out) or "<p>No advice.</p>"


def _datapath_rows(dp: dict) -> list[list[str]]:
    rows = []
    for label, m in [("all", dp["metrics"])] + [(str(c["channel"]), c) for c in dp["channels"]]:
        ov = "/".join(str(m["counters"][n]) for n in COUNTER_NAMES[:4])
        rows.append([label, _g(m["mse_lsb2"]), _g(m["rmse_lsb"]), _g(m["max_abs_lsb"]), _at(m["max_abs_at"]),
                     _signed(m["mean_lsb"]), _sqnr(m), _cos(m), _pct(m["clip_low_share"]),
                     _pct(m["clip_high_share"]), ov, str(m["counters"]["qd_rounded"])])
    return rows


def _quant_rows(q: dict) -> list[list[str]]:
    rows = []
    for label, m in [("all", q["metrics"])] + [(str(c["channel"]), c) for c in q["channels"]]:
        rows.append([label, _g(m["mse_real"]), _g(m["rmse_real"]), _g(m["rmse_lsb"]), _g(m["max_abs_real"]),
                     _g(m["max_abs_lsb"]), _at(m["max_abs_at"]), _signed(m["mean_lsb"]), _sqnr(m), _cos(m)])
    return rows


def render_html(report: Report) -> str:
    d, arr = report.data, report.arrays
    ly, o, dp, q = d["layer"], d["output"], d["datapath"], d["quantization"]
    m = dp["metrics"]
    title = escape(ly["name"] or ly["path"])
    offset = (0, ly["region"]["h"][0], ly["region"]["w"][0])
    cnt = m["counters"]
    overflows = sum(cnt[n] for n in COUNTER_NAMES[:4])
    verdict = [a["title"] for a in d["advice"] if a["severity"] in ("error", "warning")][:2]
    if not verdict:
        verdict = [a["title"] for a in d["advice"] if a["id"] in ("datapath-rounding-only", "error-budget")]
    cards = [
        _card(_g(m["rmse_lsb"], 3), "datapath RMSE (LSB)", f"uniform rounding: {HEALTHY_RMSE_LSB:.3f}"),
        _card(_g(m["max_abs_lsb"], 3), "datapath max |error| (LSB)", f"at {_at(m['max_abs_at'])}"),
        _card(_signed(m["mean_lsb"]), "datapath mean error (LSB)", "truncation shows as about -0.5"),
        _card(_sqnr(m), "datapath SQNR (dB)", f"cosine {_cos(m)}"),
        _card(f"{m['clip_low_share']:.1%} / {m['clip_high_share']:.1%}", "clipped at 0 / at the top"),
        _card(str(overflows), "overflows (acc, qd, sum, out)", "/".join(str(cnt[n]) for n in COUNTER_NAMES[:4])),
    ]
    if q is not None:
        qm = q["metrics"]
        cards += [_card(_sqnr(qm), "vs float: SQNR (dB)", f"cosine {_cos(qm)}"),
                  _card(_g(qm["rmse_lsb"], 3), "vs float: RMSE (LSB)", f"{_g(qm['rmse_real'], 3)} real")]
    t = ly["types"]
    types_rows = [[escape(n), escape(v)] for n, v in t.items()]
    mover = ly.get("mover", False)
    if not mover:
        types_rows += [["relu_clip", str(ly["relu_clip"]).lower()],
                       ["per_channel_factor", str(ly["per_channel_factor"]).lower()],
                       ["factor", escape(", ".join(f"{v:.8g}" for v in ly["factor"]))]]

    errs = [("datapath", arr["datapath_error"], plots.C_DATAPATH)]
    maps = [("datapath", arr["datapath_error"])]
    series = [("datapath (vs ideal)", [c["sqnr_db"] for c in dp["channels"]],
               [c["exact"] for c in dp["channels"]], plots.C_DATAPATH)]
    if q is not None:
        errs.append(("vs float model", arr["quantization_error"], plots.C_QUANT))
        maps.append(("vs float model", arr["quantization_error"]))
        series.append(("quantization (vs float)", [c["sqnr_db"] for c in q["channels"]],
                       [c["exact"] for c in q["channels"]], plots.C_QUANT))
        u = o["real_per_lsb"]
        sc = plots.scatter(arr["float"] * u, arr["kernel"] * u, "float model (real)", "kernel (real)",
                           "fixed point against the float model")
        sc_cap = "Each dot is one output (a random 12000 of them); off the dashed line is error."
    else:
        sc = plots.scatter(arr["ideal"], arr["kernel"], "ideal (LSB of out_t)", "kernel (LSB of out_t)",
                           "fixed point against the ideal")
        sc_cap = ("Each dot is one output (a random 12000 of them) against the exact ideal on the same "
                  "integers; the layer gives no float model.")
    figs = {
        "hist": plots.histogram(errs),
        "sqnr": plots.sqnr_bars(series),
        "heat": plots.heatmaps(maps, offset),
        "scatter": sc,
        "stages": plots.stage_bars(dp["stages"], q["components"] if q is not None else None),
    }

    def fig(key: str, caption: str, alt: str) -> str:
        return (f'<figure><img src="{figs[key]}" alt="{escape(alt)}">'
                f"<figcaption>{escape(caption)}</figcaption></figure>")

    stage_rows = []
    for s in dp["stages"]:
        n = s["needs"]
        stage_rows.append([s["stage"], escape(s["type"]), str(s["overflow"]), str(s["rounded"]),
                           str(s["changed"]), _signed(s["mean_lsb"]), _g(s["rmse_lsb"]), _g(s["max_abs_lsb"]),
                           f"{s['share']:.0%}",
                           "-" if n is None else escape(n["identical_outputs"] or "-"),
                           "-" if n is None else escape(n["any_input"] or "-")])
    parts = [
        "<!doctype html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>hls-sim report: {title}</title><style>{CSS}</style></head><body><main>",
        f"<h1>Quantization error report: {title}</h1>",
        f'<div class="sub mono">{escape(ly["path"])} &middot; {escape(ly["kernel"])} &middot; '
        f'{ly["outputs"]} outputs ({ly["channels"]} channels x '
        f'{ly["region"]["h"][1] - ly["region"]["h"][0] + 1} x '
        f'{ly["region"]["w"][1] - ly["region"]["w"][0] + 1})</div>',
    ]
    if ly["description"]:
        parts.append(f'<div class="sub">{escape(ly["description"])}</div>')
    parts.append(f'<div class="cards">{"".join(cards)}</div>')
    if verdict:
        parts.append("<p><b>Verdict:</b> " + "<br>".join(escape(v) for v in verdict) + "</p>")
    two = q is not None  # the error plots get a second panel (against the float model)
    if mover:
        parts += ["<h2>Conversions</h2>",
                  "<p>The kind moves or pools values: it has no weights, bias or factor; its only "
                  "losses are these conversions, and the error above is against the exact value.</p>",
                  _table(["stage", "type", "overflow", "rounded", "what"],
                         [[cv["stage"], escape(f"{cv['type_name']} {cv['type']}"), str(cv["overflow"]),
                           "-" if cv.get("rounded") is None else str(cv["rounded"]),
                           escape(cv["what"])] for cv in dp["conversions"]], left={0, 1, 4})]
    else:
        parts += ["<h2>Where the error comes from</h2>",
                  "<p>Each stage's part of <i>kernel - ideal</i> (the datapath error): the chain evaluated "
                  "with the stages before it as the kernel has them and the ones after it exact; the parts "
                  "add up to the error. <i>Narrowest</i> keeps the fraction bits and modes: the narrowest "
                  "type that leaves every output bit identical on this data / that never overflows for any "
                  "input with these weights.</p>",
                  _table(["stage", "type", "overflow", "rounded", "changed", "mean", "RMSE", "max |e|",
                          "share", "narrowest:<br>identical outputs", "narrowest:<br>never overflows"],
                         stage_rows, left={0, 1, 9, 10}, small={1, 9, 10})]
    if q is not None:
        parts += ["<p>Against the float model: the chain from the float layer to the kernel, one "
                  "quantization at a time (the parts add up to <i>kernel - float</i>).</p>",
                  _table(["component", "RMSE/LSB", "RMSE (real)", "mean/LSB", "max/LSB", "share", "what"],
                         [[cp["component"], _g(cp["rmse_lsb"]) if cp["measured"] else "-",
                           _g(cp["rmse_real"]) if cp["measured"] else "-",
                           _signed(cp["mean_lsb"]) if cp["measured"] else "-",
                           _g(cp["max_abs_lsb"]) if cp["measured"] else "-",
                           f"{cp['share']:.0%}" if cp["measured"] else "-",
                           escape(cp["what"]) + ("" if cp["measured"] else " (not measured)")]
                          for cp in q["components"]], left={0, 6})]
    parts += ["<h2>Advice</h2>", _advice(d["advice"])]
    figures = [
        (fig("hist", "Histogram of the error (log scale). A healthy rounding datapath is flat between "
                     "-0.5 and +0.5 LSB; truncation shifts it to [-1, 0).", "error histogram"), two),
        (fig("scatter", sc_cap, "kernel against reference"), False),
        *([] if mover else [
            (fig("stages", "RMSE of each stage's part of the datapath error"
                           + (" and of each quantization step." if two else "."), "error by stage"), two)]),
        (fig("heat", f"Where in the map the error is: RMS over the {ly['channels']} channels at each (h, w).",
             "error heat map"), two),
        (fig("sqnr", "Signal to quantization noise ratio per output channel (inf: no error at all).",
             "SQNR per channel"), True),
    ]
    parts.append("<h2>Plots</h2>")
    pending: list[str] = []
    for html, wide in figures:
        if wide:
            parts.append(html)
            continue
        pending.append(html)
        if len(pending) == 2:
            parts.append(f'<div class="grid2">{"".join(pending)}</div>')
            pending = []
    if pending:
        parts.append(f'<div class="grid2">{"".join(pending)}</div>')
    parts += ["<h2>Datapath error per channel: kernel - ideal on the same integers</h2>",
              f"<p>{escape(dp['reference'])}. In LSBs of out_t ({escape(o['type'])}); "
              f"{o['levels_used']} of {o['levels']} output levels used, raw {o['raw_min']}..{o['raw_max']}, "
              f"mean {o['raw_mean']:.2f}.</p>",
              _table(["ch", "MSE", "RMSE", "max |e|", "at", "mean", "SQNR dB", "cosine", "clip@0", "clip@top",
                      "overflow acc/qd/sum/out", "qd rounded"], _datapath_rows(dp), left={0, 4},
                     first_bold=True)]
    if q is not None:
        parts += ["<h2>Quantization error per channel: kernel - float model</h2>",
                  f"<p>{escape(q['reference'])}; input: {escape(q['input'])}, input scale "
                  f"{_g(q['input_scale'], 6)}{' (estimated)' if q['input_scale_estimated'] else ''}, "
                  f"output scale {_g(q['output_scale'], 6)} (1 LSB = {_g(o['real_per_lsb'], 6)} real).</p>",
                  _table(["ch", "MSE (real)", "RMSE (real)", "RMSE/LSB", "max |e| (real)", "max/LSB", "at",
                          "mean/LSB", "SQNR dB", "cosine"], _quant_rows(q), left={0, 6}, first_bold=True)]
    parts += ["<h2>Layer</h2>", _table(["name", "value"], types_rows, left={0, 1})]
    js = json.dumps(d, allow_nan=False).replace("</", "<\\/")
    parts += [f'<footer>{escape(d["generator"])} &middot; schema {escape(d["schema"])} &middot; '
              f'built in {d["seconds"]:.2f} s. The JSON document is embedded in this page '
              '(script#report-data).</footer>',
              f'<script type="application/json" id="report-data">{js}</script>',
              "</main></body></html>"]
    return "\n".join(parts) + "\n"
