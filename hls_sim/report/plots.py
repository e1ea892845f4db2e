"""The report's plots, drawn with matplotlib (Agg, no display) into PNG data URIs."""

from __future__ import annotations

import base64
import io

import numpy as np

DPI = 110
C_DATAPATH = "#1f6fb2"
C_QUANT = "#d9822b"
C_IDEAL = "#444444"


def _plt():  # noqa: ANN202
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 9, "axes.titlesize": 10, "axes.spines.top": False,
                         "axes.spines.right": False, "figure.dpi": DPI})
    return plt


def png_bytes(fig) -> bytes:  # noqa: ANN001
    """The figure as PNG bytes (it is closed)."""
    plt = _plt()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def _uri(fig) -> str:  # noqa: ANN001
    return "data:image/png;base64," + base64.b64encode(png_bytes(fig)).decode("ascii")


def _bins(e: np.ndarray) -> np.ndarray:
    lo, hi = float(e.min()), float(e.max())
    if hi - lo < 1e-9:
        return np.linspace(lo - 0.5, hi + 0.5, 11)
    n = int(min(120, max(20, np.sqrt(e.size))))
    return np.linspace(lo, hi, n + 1)


def histogram(errors: list[tuple[str, np.ndarray, str]]) -> str:
    """Error histograms, one panel per (label, error in LSB, colour)."""
    plt = _plt()
    fig, axes = plt.subplots(1, len(errors), figsize=(5.2 * len(errors), 3.2), squeeze=False)
    for ax, (label, e, color) in zip(axes[0], errors):
        flat = e.ravel()
        ax.hist(flat, bins=_bins(flat), color=color, alpha=0.85)
        ax.set_yscale("log")
        ax.set_xlabel("error (LSB of out_t)")
        ax.set_ylabel("outputs")
        ax.set_title(f"{label}: mean {flat.mean():+.3g}, RMSE {np.sqrt(np.mean(flat ** 2)):.3g} LSB")
        ax.axvline(0, color=C_IDEAL, lw=0.8, ls=":")
    fig.tight_layout()
    return _uri(fig)


def sqnr_bars(series: list[tuple[str, list[float | None], list[bool], str]]) -> str:
    """Per-channel SQNR bars: (label, dB per channel (None: undefined), exact per channel, colour)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(10.4, 3.0))
    n = len(series)
    width = 0.8 / n
    finite = [v for _, vals, _, _ in series for v in vals if v is not None]
    cap = (max(finite) + 10) if finite else 60.0
    x = np.arange(max(len(vals) for _, vals, _, _ in series))
    for i, (label, vals, exact, color) in enumerate(series):
        hs = [cap if (v is None and ex) else (0 if v is None else v) for v, ex in zip(vals, exact)]
        bars = ax.bar(x + (i - (n - 1) / 2) * width, hs, width, label=label, color=color)
        for b, v, ex in zip(bars, vals, exact):
            if v is None and ex:
                b.set_hatch("//")
                ax.text(b.get_x() + b.get_width() / 2, b.get_height(), "inf", ha="center", va="bottom",
                        fontsize=7)
    ax.set_xticks(x)
    ax.set_xlabel("output channel")
    ax.set_ylabel("SQNR (dB)")
    ax.set_title("SQNR per output channel (higher is better)")
    ax.set_ylim(0, cap * 1.2)
    ax.legend(loc="upper right", fontsize=8, frameon=False, ncol=2)
    fig.tight_layout()
    return _uri(fig)


def heatmaps(maps: list[tuple[str, np.ndarray]], offset: tuple[int, int, int]) -> str:
    """RMS of the error over the channels at each pixel (h, w) of the written region."""
    plt = _plt()
    fig, axes = plt.subplots(1, len(maps), figsize=(5.6 * len(maps), 3.2), squeeze=False)
    h0, w0 = offset[1], offset[2]
    for ax, (label, e) in zip(axes[0], maps):
        rms = np.sqrt(np.mean(e ** 2, axis=0))
        im = ax.imshow(rms, cmap="magma", aspect="auto", interpolation="nearest",
                       extent=(w0 - 0.5, w0 + rms.shape[1] - 0.5, h0 + rms.shape[0] - 0.5, h0 - 0.5))
        ax.set_title(f"{label}: RMS over channels (LSB)")
        ax.set_xlabel("w")
        ax.set_ylabel("h")
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.03)
    fig.tight_layout()
    return _uri(fig)


def scatter(x: np.ndarray, y: np.ndarray, xlabel: str, ylabel: str, title: str,
            max_points: int = 12000) -> str:
    """The kernel's output against a reference (subsampled), with the line y = x."""
    plt = _plt()
    xs, ys = x.ravel(), y.ravel()
    if xs.size > max_points:
        pick = np.random.default_rng(0).choice(xs.size, max_points, replace=False)
        xs, ys = xs[pick], ys[pick]
    fig, ax = plt.subplots(figsize=(4.6, 4.2))
    ax.scatter(xs, ys, s=3, alpha=0.35, color=C_DATAPATH, linewidths=0)
    lo, hi = float(min(xs.min(), ys.min())), float(max(xs.max(), ys.max()))
    ax.plot([lo, hi], [lo, hi], color=C_IDEAL, lw=0.8, ls="--", label="y = x")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    fig.tight_layout()
    return _uri(fig)


def stage_bars(stages: list[dict], components: list[dict] | None) -> str:
    """RMSE of each stage's part of the datapath error (and of each quantization component)."""
    plt = _plt()
    panels = 1 + (components is not None)
    fig, axes = plt.subplots(1, panels, figsize=(5.2 * panels, 2.4), squeeze=False)
    ax = axes[0][0]
    names = [s["stage"] for s in stages]
    ax.barh(names[::-1], [s["rmse_lsb"] for s in stages][::-1], color=C_DATAPATH)
    ax.set_xlabel("RMSE of the stage's part (LSB)")
    ax.set_title("datapath error by stage")
    if components is not None:
        ax = axes[0][1]
        cs = [c for c in components]
        ax.barh([c["component"] for c in cs][::-1], [c["rmse_lsb"] if c["measured"] else 0 for c in cs][::-1],
                color=C_QUANT)
        ax.set_xlabel("RMSE of the component (LSB)")
        ax.set_title("quantization error by component")
    fig.tight_layout()
    return _uri(fig)


def layer_sqnr(names: list[str], own: list[float | None], accumulated: list[float | None]) -> str:
    """The network report's bars: each layer's own SQNR beside the accumulated one (dB; an
    exact layer, None, drawn hatched at the top)."""
    plt = _plt()
    finite = [v for v in own + accumulated if v is not None]
    cap = (max(finite) + 10) if finite else 60.0
    x = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(max(6.0, 0.75 * len(names) + 2), 3.2))
    for i, (label, vals, color) in enumerate((("own (the layer alone)", own, C_QUANT),
                                               ("accumulated (up to it)", accumulated, C_DATAPATH))):
        bars = ax.bar(x + (i - 0.5) * 0.4, [cap if v is None else v for v in vals], 0.4,
                      label=label, color=color)
        for b, v in zip(bars, vals):
            if v is None:
                b.set_hatch("//")
    ax.set_xticks(x)
    ax.set_xticklabels(names, rotation=30, ha="right")
    ax.set_ylabel("SQNR vs float (dB)")
    ax.set_title("error per layer (higher is better): the lowest own bar is the layer to widen first")
    ax.set_ylim(0, cap * 1.15)
    ax.legend(loc="upper right", fontsize=8, frameon=False, ncol=2)
    fig.tight_layout()
    return _uri(fig)


def error_map(err: np.ndarray, title: str) -> str:
    """RMS over the channels of an output error ([C][H][W], LSB) at each pixel."""
    plt = _plt()
    rms = np.sqrt(np.mean(np.square(err), axis=0))
    h, w = rms.shape
    fig, ax = plt.subplots(figsize=(min(10.0, 2.0 + 6.0 * w / max(h, 1)), 3.6))
    im = ax.imshow(rms, cmap="magma", aspect="equal", interpolation="nearest")
    ax.set_title(title)
    ax.set_xlabel("w")
    ax.set_ylabel("h")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.03)
    fig.tight_layout()
    return _uri(fig)
