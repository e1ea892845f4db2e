"""Quantization error reports: where the error of a fixed-point layer comes from.

    from hls_sim.layer import load_layer
    from hls_sim.report import build_report, render_text, render_html
    rep = build_report(load_layer("weights/conv1x1.yaml"))
    print(render_text(rep.data))          # the terminal tables and the advice
    rep.to_json()                         # the JSON document (schema hls-sim-report/1)
    html = render_html(rep)               # one self-contained page with plots

Two references: the *datapath error* is the kernel against the ideal computation on the same
integers (it isolates rounding, truncation bias, wrap-around and clipping in the hardware
datapath, stage by stage); the *quantization error* is the kernel against the float model when
the layer file has a ``float:`` block (it adds weight, bias and input quantization).
docs/report.md documents every field of the JSON document.
"""

from hls_sim.report.build import SCHEMA, Report, build_report
from hls_sim.report.text import render_text


def render_html(report: Report) -> str:
    """The self-contained HTML page of a report (plots as embedded PNG; needs matplotlib)."""
    from hls_sim.report.html import render_html as _render

    return _render(report)


__all__ = ["SCHEMA", "Report", "build_report", "render_html", "render_text"]
