"""Writing a report to a file (``hls-sim report -o FILE``): .html or .json, never overwriting
unless asked, written to a temporary name and renamed into place (``hls_sim.files``)."""

from __future__ import annotations

from pathlib import Path

from hls_sim.files import write_files
from hls_sim.report.build import Report

FORMATS = {".html": "html", ".htm": "html", ".json": "json"}


class ReportError(ValueError):
    """A problem writing a report (one line, naming the file)."""


def target_format(path: str | Path) -> str:
    p = Path(path)
    fmt = FORMATS.get(p.suffix.lower())
    if fmt is None:
        raise ReportError(f"{path}: expected a file name ending in .html or .json")
    return fmt


def check_target(path: str | Path, force: bool = False) -> Path:
    """Refuse, before any work, a name that is not .html/.json, a folder, a file that exists
    (unless ``force``) or a missing parent folder."""
    target_format(path)
    p = Path(path)
    if p.is_dir():
        raise ReportError(f"{path}: is a folder; give a file name ending in .html or .json")
    if (p.exists() or p.is_symlink()) and not force:
        raise ReportError(f"{path}: already exists; nothing written (pass --force to overwrite)")
    if not p.absolute().parent.is_dir():
        raise ReportError(f"{path}: the folder {p.absolute().parent} does not exist")
    return p


def render(report: Report, fmt: str) -> str:
    """A layer's or a network's report (by its schema) as JSON or HTML."""
    if fmt == "json":
        return report.to_json()
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ReportError("the HTML report needs matplotlib (pip install matplotlib)") from None
    from hls_sim.report import render_html
    from hls_sim.report.network import SCHEMA as NETWORK_SCHEMA, render_network_html

    return render_network_html(report) if report.data["schema"] == NETWORK_SCHEMA else render_html(report)


def write_report(report: Report, path: str | Path, force: bool = False) -> Path:
    """Write ``report`` as HTML or JSON (by the file name's ending); returns the path."""
    p = check_target(path, force)
    text = render(report, target_format(p))
    write_files(p.parent, {p.name: text.encode("utf-8")}, ReportError)
    return p
