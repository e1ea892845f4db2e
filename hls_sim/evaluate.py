"""Datasets through the bit-exact network, measured against the float network.

    net, labels = load_dataset("weights/encdec.yaml", "images/")   # or x.npy, or list.txt
    ev = evaluate(net, labels)
    ev.rows          # one dict per image: SQNR, RMSE and max |error| (LSBs of out_t), ...
    ev.summary       # the same over the whole dataset, plus each layer's accumulated SQNR

The data replaces the network file's ``input:``: a ``.npy`` / ``.npz`` batch ``[N][C][H][W]``
(or one ``[C][H][W]``) of raw integers of the input type, a folder of PNG/JPEG images (read
exactly as an ``images:`` input is, with the file's ``scale``), or a text file listing
``.npy`` files (one a line, relative to the list; all of one shape), concatenated in order.
The network is parsed again for the data, so images of any size run (every layer's shapes
follow them).

The metrics are the network report's (hls_sim.report.network): the quantized network's
output, in real units (each channel's scale), against the float network (the network file's
``float_model``, an ONNX model run by onnxruntime, where it names one; else the layers'
``float:`` blocks, float64) on the same image; errors in LSBs of the output's out_t. With
labels (a ``.npy`` of integers, ``[N]`` or ``[N][H][W]``), the arg-max over the output
channels is compared with the labels, for the quantized and for the float network; without
them, the quantized arg-max is still compared with the float one.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from hls_sim.network import (Network, NetworkError, _NetParser, image_files, is_network, parse_network,
                             run_network)

LIST_SUFFIXES = (".txt", ".lst", ".list")
ROW_KEYS = ("image", "sqnr_db", "rmse_lsb", "max_abs_lsb", "mean_lsb", "cosine", "differ", "overflow",
            "argmax_agree", "label_acc", "float_label_acc")
EVAL_SCHEMA = "hls-sim-eval/1"


# ---- the data -----------------------------------------------------------------------------------
def load_dataset(network: str | Path, data: str | Path,
                 labels: str | Path | None = None) -> tuple[Network, np.ndarray | None, list[str]]:
    """The network file ``network`` parsed with ``data`` as its input, the labels (or None)
    and a name per image. Errors are one-line :class:`NetworkError`\\ s."""
    from hls_sim.layer import read_yaml

    network = str(network)
    doc = read_yaml(network)
    if not is_network(doc):
        raise NetworkError(network, "", "not a network file (it has no layers:)")
    given = doc.get("input") if isinstance(doc.get("input"), dict) else {}
    node: dict[str, Any] = {"type": given.get("type", "ap_uint<8>")}
    d = Path(data)
    extra: list[Path] = []
    if d.is_dir():
        node["images"] = str(d.absolute())
        if "scale" in given:
            node["scale"] = given["scale"]
        names = [p.name for p in image_files(d)]
    elif d.suffix.lower() in (".npy", ".npz"):
        node["file"] = str(d.absolute())
        names = []
    elif d.suffix.lower() in LIST_SUFFIXES:
        files = _list_file(d)
        node["file"], extra = str(files[0]), files[1:]
        names = []
    else:
        raise NetworkError(str(data), "", "expected a .npy/.npz batch, a folder of images, or a "
                                          f"list of .npy files ({'/'.join(LIST_SUFFIXES)})"
                           + ("" if d.exists() else " (no such file or folder)"))
    net = parse_network(dict(doc, input=node), network, Path(network).parent)
    if extra:
        parser = _NetParser(network, Path(network).parent)
        parts = [net.images]
        for f in extra:
            _, arr, _, _ = parser.input({"file": str(f), "type": node["type"]})
            if arr.shape[1:] != net.images.shape[1:]:
                raise NetworkError(str(data), f.name, f"its images are {_shape(arr.shape[1:])}, "
                                                      f"the first file's {_shape(net.images.shape[1:])}")
            parts.append(arr)
        images = np.concatenate(parts)
        net = dataclasses.replace(net, images=images, batched=True,
                                  input_source=f"{images.shape[0]} image(s) from {len(parts)} files "
                                               f"listed in {str(data)!r}")
    n = net.images.shape[0]
    names = names if len(names) == n else [str(k) for k in range(n)]
    lab = None if labels is None else read_labels(labels, net)
    return dataclasses.replace(net, batched=True), lab, names


def _list_file(path: Path) -> list[Path]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise NetworkError(str(path), "", f"cannot read the list: {getattr(e, 'strerror', None) or e}") from None
    files = [path.parent / ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    if not files:
        raise NetworkError(str(path), "", "lists no .npy file")
    return [f.absolute() for f in files]


def _shape(shape: tuple[int, ...]) -> str:
    return "".join(f"[{int(v)}]" for v in shape)


def argmax_shape(net: Network) -> tuple[int, ...]:
    """The shape of one image's arg-max over the output channels."""
    return net.shapes()[net.output][1:]


def read_labels(path: str | Path, net: Network) -> np.ndarray:
    """Integer labels, one per image (``[N]``) or per output position (``[N][H][W]``),
    shaped ``[N]`` + the arg-max's shape."""
    from hls_sim.layer import ArrayFileError, NotRegularError, read_array

    try:
        arr, _ = read_array(path)
    except (ArrayFileError, NotRegularError, OSError, ValueError) as e:
        raise NetworkError(str(path), "", f"cannot read the labels: {getattr(e, 'strerror', None) or e}") from None
    arr = np.asarray(arr)
    if arr.dtype.kind not in "iu":
        raise NetworkError(str(path), "", f"labels must be integers, got {arr.dtype}")
    n, want = net.images.shape[0], argmax_shape(net)
    if arr.shape[:1] != (n,) or (arr.shape[1:] != want and arr[0].size != int(np.prod(want))):
        raise NetworkError(str(path), "", f"labels have shape {_shape(arr.shape)}; expected "
                                          f"[{n}] + the output's positions {_shape(want) or '(one)'}")
    return arr.reshape((n,) + want).astype(np.int64)


# ---- the metrics --------------------------------------------------------------------------------
@dataclass
class Evaluation:
    """Per-image rows, the dataset summary, and the per-layer accumulated SQNR (or empty)."""

    network: Network
    rows: list[dict]
    summary: dict
    layers: list[dict]
    seconds: float
    float_reference: dict | None = None  # FloatReference.to_dict() (None: outputs given)


@dataclass
class _Totals:
    """Sums over images, for the pooled metrics."""

    n: int = 0
    sq_lsb: float = 0.0
    sum_lsb: float = 0.0
    max_lsb: float = 0.0
    differ: int = 0
    overflow: int = 0
    signal: float = 0.0
    noise: float = 0.0

    def add(self, err_lsb: np.ndarray, ref: np.ndarray, err: np.ndarray, overflow: int) -> None:
        self.n += err_lsb.size
        self.sq_lsb += float(np.sum(np.square(err_lsb)))
        self.sum_lsb += float(np.sum(err_lsb))
        self.max_lsb = max(self.max_lsb, float(np.max(np.abs(err_lsb))))
        self.differ += int(np.count_nonzero(np.abs(err_lsb) > 0.5))
        self.overflow += overflow
        self.signal += float(np.sum(np.square(ref)))
        self.noise += float(np.sum(np.square(err)))


def _db(signal: float, noise: float) -> float | None:
    """SQNR in dB of summed powers; None where undefined (no error, or no signal), as the
    report's metrics.sqnr_db."""
    return 10 * math.log10(signal / noise) if signal > 0 and noise > 0 else None


def float_outputs(net: Network) -> list[np.ndarray]:
    """The float network's output (real values) on each image (its float reference:
    hls_sim.report.network.float_reference)."""
    from hls_sim.report.network import float_reference

    ref = float_reference(net)
    return [ref.image(k)[net.output] for k in range(net.images.shape[0])]


def evaluate(net: Network, labels: np.ndarray | None = None, names: list[str] | None = None,
             layers: bool = True, reference: list[np.ndarray] | None = None,
             progress: Callable[[int, int, str], None] | None = None) -> Evaluation:
    """Run every image through the bit-exact network, one at a time, and measure its output
    against the float network's. ``layers``: also each layer's accumulated SQNR (all images);
    ``reference``: the float outputs, when known (:func:`float_outputs`), else computed."""
    from hls_sim.report.network import _metrics, float_reference, real_values, tensor_scales

    start = time.perf_counter()
    scales, _ = tensor_scales(net)
    ref = float_reference(net, scales) if layers or reference is None else None
    out_t = next(nl.layer.config.out_t for nl in net.layers if nl.name == net.output)
    lsb = scales[net.output] * out_t.lsb
    unit = lsb.reshape((-1,) + (1,) * (len(net.shapes()[net.output]) - 1))
    n_img = net.images.shape[0]
    names = names or [str(k) for k in range(n_img)]
    rows: list[dict] = []
    tot = _Totals()
    per_layer = {nl.name: [0.0, 0.0] for nl in net.layers} if layers else {}  # signal, noise
    agree = [0.0, 0.0, 0.0]  # sums over images: argmax vs float, vs labels, float vs labels
    for k in range(n_img):
        run = run_network(dataclasses.replace(net, images=net.images[k:k + 1]), keep_all=layers,
                          reference=False)
        xf = ref.image(k) if ref is not None else {}
        y = reference[k] if reference is not None else xf[net.output]
        q = real_values(net, scales, net.output, run.output[0])
        m = _metrics([q], [y], lsb)
        over = sum(v for st in run.stats for n, v in st.counters.items() if n.endswith("overflow"))
        tot.add((q - y) / unit, y, q - y, over)
        for nl in net.layers if layers else ():
            qa = real_values(net, scales, nl.name, run.saved[nl.name][0])
            per_layer[nl.name][0] += float(np.sum(np.square(xf[nl.name])))
            per_layer[nl.name][1] += float(np.sum(np.square(qa - xf[nl.name])))
        row = {"image": names[k], **{key: m[key] for key in ROW_KEYS[1:6]}, "differ": m["differ"],
               "overflow": int(over)}
        aq, af = np.argmax(q, axis=0), np.argmax(y, axis=0)
        row["argmax_agree"] = float(np.mean(aq == af))
        agree[0] += row["argmax_agree"]
        if labels is not None:
            row["label_acc"] = float(np.mean(aq == labels[k]))
            row["float_label_acc"] = float(np.mean(af == labels[k]))
            agree[1] += row["label_acc"]
            agree[2] += row["float_label_acc"]
        rows.append(row)
        if progress is not None:
            progress(k + 1, n_img, f"image {k + 1}/{n_img}")
    per_image = [r["sqnr_db"] for r in rows]
    finite = [v for v in per_image if v is not None]
    summary = {"images": n_img, "sqnr_db": _db(tot.signal, tot.noise),
               "sqnr_db_mean": float(np.mean(finite)) if finite else None,
               "sqnr_db_min": min(finite) if finite else None,
               "exact_images": sum(v is None for v in per_image),
               "rmse_lsb": math.sqrt(tot.sq_lsb / tot.n), "max_abs_lsb": tot.max_lsb,
               "mean_lsb": tot.sum_lsb / tot.n, "differ": tot.differ, "overflow": tot.overflow,
               "argmax_agree": agree[0] / n_img,
               "label_acc": agree[1] / n_img if labels is not None else None,
               "float_label_acc": agree[2] / n_img if labels is not None else None}
    layer_rows = [{"name": n, "sqnr_db": _db(*t)} for n, t in per_layer.items()]
    return Evaluation(net, rows, summary, layer_rows, time.perf_counter() - start,
                      ref.to_dict() if ref is not None else None)


# ---- output --------------------------------------------------------------------------------------
def _num(v: Any, spec: str = ".4g") -> str:
    if v is None:
        return "-"
    return format(v, spec) if isinstance(v, float) else str(v)


def text_table(rows: list[tuple[str, ...]]) -> list[str]:
    """Left-aligned columns, two spaces apart."""
    widths = [max(len(r[j]) for r in rows) for j in range(len(rows[0]))]
    return ["  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]


def summary_text(ev: Evaluation, per_image: int = 20) -> str:
    """The terminal summary: the dataset's metrics, the layers, the first images."""
    net, s = ev.network, ev.summary
    lines = [f"network   {net.path}" + (f"  ({net.name})" if net.name else ""),
             f"data      {_shape(net.images.shape[1:])} {net.input_type}, {s['images']} image(s): "
             f"{net.input_source}",
             f"output    {net.output} against the float network: SQNR {_sqnr(s['sqnr_db'])} (per image: "
             f"mean {_sqnr(s['sqnr_db_mean'])}, worst {_sqnr(s['sqnr_db_min'])}, "
             f"{s['exact_images']} exact); RMSE {s['rmse_lsb']:.4g} LSB, max |e| "
             f"{s['max_abs_lsb']:.4g} LSB, {s['differ']} outputs differ by more than 0.5 LSB; "
             f"{s['overflow']} overflows",
             f"arg-max   agrees with the float network's at {100 * s['argmax_agree']:.2f}% of positions"
             + (f"; against the labels: {100 * s['label_acc']:.2f}% (float network "
                f"{100 * s['float_label_acc']:.2f}%)" if s["label_acc"] is not None else "")]
    if ev.float_reference is not None:
        from hls_sim.report.network import reference_lines

        lines += reference_lines({"float_reference": ev.float_reference})
    if ev.layers:
        lines.append("layers    accumulated SQNR against the float network (dB): "
                     + ", ".join(f"{r['name']} {_sqnr(r['sqnr_db'], False)}" for r in ev.layers))
    shown = ev.rows[:per_image]
    head = ("image", "SQNR dB", "RMSE LSB", "max|e| LSB", "differ", "overflow", "arg-max %") + (
        ("label %",) if s["label_acc"] is not None else ())
    body = [(r["image"], _sqnr(r["sqnr_db"], False), _num(r["rmse_lsb"]), _num(r["max_abs_lsb"]),
             str(r["differ"]), str(r["overflow"]), f"{100 * r['argmax_agree']:.2f}")
            + ((f"{100 * r['label_acc']:.2f}",) if s["label_acc"] is not None else ()) for r in shown]
    lines += text_table([head] + body)
    if len(ev.rows) > len(shown):
        lines.append(f"          ... {len(ev.rows) - len(shown)} more image(s): -o DIR writes them all")
    lines.append(f"time      {ev.seconds:.2f} s ({1e3 * ev.seconds / s['images']:.1f} ms per image, "
                 "float network included)")
    return "\n".join(lines)


def _sqnr(v: float | None, unit: bool = True) -> str:
    return "exact" if v is None else f"{v:.2f}" + (" dB" if unit else "")


def eval_document(ev: Evaluation) -> dict:
    """The JSON document (schema ``hls-sim-eval/1``)."""
    from hls_sim.report.network import _clean

    net = ev.network
    return _clean({"schema": EVAL_SCHEMA,
                   "network": {"path": net.path, "name": net.name, "output": net.output,
                               "input": list(net.images.shape[1:]), "input_type": str(net.input_type),
                               "data": net.input_source},
                   "summary": ev.summary, "float_reference": ev.float_reference,
                   "layers": ev.layers, "images": ev.rows,
                   "seconds": ev.seconds})


def csv_bytes(rows: list[dict], keys: list[str] | tuple[str, ...]) -> bytes:
    """Rows as CSV (empty cells for None)."""
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(keys)
    for r in rows:
        w.writerow(["" if r.get(k) is None else r.get(k) for k in keys])
    return buf.getvalue().encode()


def parquet_bytes(rows: list[dict], keys: list[str] | tuple[str, ...]) -> bytes:
    """Rows as Parquet (needs pyarrow)."""
    import io

    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise NetworkError("--parquet", "", "needs pyarrow (pip install pyarrow)") from None
    buf = io.BytesIO()
    pq.write_table(pa.table({k: [r.get(k) for r in rows] for k in keys}), buf)
    return buf.getvalue()


def write_eval(ev: Evaluation, out_dir: str | Path, parquet: bool, force: bool) -> list[Path]:
    """eval.json and images.csv (and images.parquet) into ``out_dir``, all or nothing."""
    import json

    from hls_sim.files import write_files
    from hls_sim.runner import OutputError, check_outputs

    names = ("eval.json", "images.csv") + (("images.parquet",) if parquet else ())
    keys = [k for k in ROW_KEYS if any(k in r for r in ev.rows)]
    payload = {"eval.json": (json.dumps(eval_document(ev), indent=1) + "\n").encode(),
               "images.csv": csv_bytes(ev.rows, keys)}
    if parquet:
        payload["images.parquet"] = parquet_bytes(ev.rows, keys)
    d = check_outputs(out_dir, names, force)
    return write_files(d, payload, OutputError)


__all__ = ["Evaluation", "EVAL_SCHEMA", "evaluate", "float_outputs", "load_dataset", "read_labels",
           "summary_text", "write_eval"]
