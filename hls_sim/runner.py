"""Running a layer: the kernel, the reference comparison, the summary and the output files.

The library behind ``hls-sim run``::

    from hls_sim.layer import load_layer
    from hls_sim.runner import run_layer, summary, write_outputs
    run = run_layer(load_layer("weights/conv1x1.yaml"))
    print(summary(run))
    write_outputs(run, "out/", force=False)   # top.npy, input.npy, ..., layer.yaml
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hls_sim.files import write_files
from hls_sim.jit import kernel_mode
from hls_sim.kernels import KernelResult
from hls_sim.kernels.hls_kernels import ROUNDED_BY
from hls_sim.layer import Layer
from hls_sim.reference import Comparison, compare_layer
from hls_sim.types import Format
from hls_sim.types.format import MAX_WIDTH

# what -o DIR writes; top_initial.npy only when the layer file gave an initial top
OUTPUT_FILES = ("top.npy", "input.npy", "input2.npy", "weight.npy", "bias.npy", "factor.npy",
                "layer.yaml")
_INT64 = (-(1 << 63), (1 << 63) - 1)
REPEATS, REPEAT_BUDGET_S = 3, 0.2


class OutputError(ValueError):
    """A problem writing the output folder (one line, naming the file)."""


@dataclass
class LayerRun:
    """A layer, the kernel's result, its timing and the comparison with the float reference."""

    layer: Layer
    result: KernelResult
    comparison: Comparison
    first_seconds: float  # the first call in this process (includes loading the compiled code)
    seconds: float  # the best of the repeated calls (int64 path), else the first call's time
    total_seconds: float  # run_layer's wall time: kernel calls and reference
    warnings: list[str] = dataclasses.field(default_factory=list)  # one line each


def run_layer(layer: Layer, repeat: bool = True) -> LayerRun:
    """Run ``layer``'s kernel and compare it with the reference.

    On the int64 path the kernel is called again (up to ``REPEATS`` times, within
    ``REPEAT_BUDGET_S``) to time it without the one-off cost of loading (or compiling) its
    machine code; ``seconds`` is the best call. The results of all calls are identical.
    """
    start = time.perf_counter()
    result = layer.run()
    first = steady = result.seconds
    if repeat and result.path == "int64":
        # best of a few calls: the first ones also pay for loading the code and starting
        # the thread pool, and any one call can be slowed by other processes
        spent, calls = 0.0, 0
        while calls < REPEATS and spent < REPEAT_BUDGET_S:
            t = layer.run().seconds
            steady, spent, calls = min(steady, t), spent + t, calls + 1
    comparison = compare_layer(layer, result.top.raw)
    loss = factor_precision(layer)
    return LayerRun(layer, result, comparison, first, steady, time.perf_counter() - start,
                    list(layer.warnings) + ([loss.message()] if loss is not None else []))


# ---- a factor that factor_t cannot hold --------------------------------------------------------
FACTOR_REL_TOL = 1 / 16  # a rounded factor may be off by this much, relative
FACTOR_MIN_BITS = 4  # and must keep this many significant bits (the bit length of |raw|)


@dataclass
class FactorPrecision:
    """A factor that loses all or most of its precision in factor_t (one value, or one per
    output channel): rounded to 0, or to fewer than ``FACTOR_MIN_BITS`` significant bits, or
    off by more than ``FACTOR_REL_TOL`` of the requested value."""

    fmt: Format
    requested: np.ndarray  # [n] float64: what the layer file asked for (n = 1 or C_OUT)
    got: np.ndarray  # [n] float64: the factor_t values
    bits: np.ndarray  # [n] significant bits kept
    rel_error: np.ndarray  # [n] (got - requested) / |requested| (0 where exact)
    lost: np.ndarray  # [n] bool: the values that lose their precision
    suggestion: Format | None  # the narrowest factor_t that keeps every value; None: none <= 1024 bits
    suggested: np.ndarray | None  # [n] the values in that type

    @property
    def zero(self) -> np.ndarray:
        return self.lost & (self.got == 0)

    def message(self) -> str:
        """One line: what is lost and the factor_t that keeps it."""
        n, lost = self.requested.size, np.flatnonzero(self.lost)

        def what(i: int) -> str:
            v, g = float(self.requested[i]), float(self.got[i])
            if g == 0:
                return f"{v!r} rounds to 0"
            return (f"{v!r} rounds to {g!r} ({int(self.bits[i])} significant bit"
                    f"{'s' if self.bits[i] != 1 else ''}, {self.rel_error[i]:+.1%})")

        if n == 1:
            head = (f"factor {what(0)} in factor_t {self.fmt}: it loses "
                    + ("all its precision and every output is relu(bias)" if self.zero[0]
                       else "most of its precision"))
            keep = "keeps it"
        else:
            shown = ", ".join(f"channel {i}: {what(i)}" for i in lost[:3])
            more = f", and {lost.size - 3} more" if lost.size > 3 else ""
            zeros = int(self.zero.sum())
            head = (f"{lost.size} of {n} channels' factors lose all or most of their precision "
                    f"in factor_t {self.fmt} ({shown}{more})"
                    + (f"; {zeros} channel{'s' if zeros != 1 else ''} output relu(bias)" if zeros else ""))
            keep = "keeps every channel"
        if self.suggestion is None:
            return head + f"; no factor_t of up to {MAX_WIDTH} bits with {self.fmt.int_bits} integer bits holds it"
        shown_s = f" ({float(self.suggested[0]):.6g})" if n == 1 else ""
        return head + f"; use factor_t {self.suggestion}, which {keep} within 1/16{shown_s}"


def _factor_check(values: np.ndarray, fmt: Format):  # noqa: ANN202 - a tuple of arrays
    """(got, bits, relative error, lost) of ``values`` quantized to ``fmt``."""
    q = fmt.quantize(values)
    raw = [int(r) for r in np.asarray(q.raw).reshape(-1)]
    got = np.asarray(q.to_float(), dtype=np.float64).reshape(-1)
    bits = np.array([abs(r).bit_length() for r in raw])
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(values != 0, (got - values) / np.abs(values), np.where(got == 0, 0.0, np.inf))
    rounded = np.asarray(q.rounded).reshape(-1) | np.asarray(q.overflowed).reshape(-1)
    lost = rounded & ((got == 0) | (bits < FACTOR_MIN_BITS) | (np.abs(rel) > FACTOR_REL_TOL))
    return got, bits, rel, lost


def _with_frac_bits(fmt: Format, frac: int) -> Format:
    """``fmt`` with ``frac`` fraction bits: the same integer bits and modes (an ap_int becomes
    the ap_fixed with its integer bits)."""
    if fmt.kind == "int":
        return Format("fixed", fmt.int_bits + frac, fmt.int_bits, fmt.signed)
    return dataclasses.replace(fmt, width=fmt.int_bits + frac)


def factor_precision(layer: Layer) -> FactorPrecision | None:
    """The factor's loss of precision in factor_t, or None when every value keeps it (or the
    file gave raw integers, so nothing was rounded). Compares the values the layer file
    asked for (``layer.factor_requested``) with the factor_t values."""
    req = layer.factor_requested
    if req is None or layer.factor is None:
        return None
    fmt = layer.config.factor_t
    values = np.asarray(req, dtype=np.float64).reshape(-1)
    got, bits, rel, lost = _factor_check(values, fmt)
    if not lost.any():
        return None
    suggestion = suggested = None
    for frac in range(fmt.frac_bits + 1, MAX_WIDTH - fmt.int_bits + 1):
        if fmt.int_bits + frac < 1:
            continue
        cand = _with_frac_bits(fmt, frac)
        g, _, _, bad = _factor_check(values, cand)
        if not bad.any():
            suggestion, suggested = cand, g
            break
    return FactorPrecision(fmt, values, got, bits, rel, lost, suggestion, suggested)


# ---- the summary -----------------------------------------------------------------------------
def _ms(s: float) -> str:
    return f"{s * 1e3:.3g} ms" if s < 1 else f"{s:.3g} s"


def _dims(shape: tuple[int, ...]) -> str:
    return "".join(f"[{n}]" for n in shape) if shape else "scalar"


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[-1] for r in rows]


def _written(geom) -> str:  # noqa: ANN001 - Geometry
    (c0, c1), (h0, h1), (w0, w1) = geom.written
    if geom.written_shape == geom.shape("top"):
        return "all written"
    return f"written h {h0}..{h1 - 1}, w {w0}..{w1 - 1}"


def summary(run: LayerRun) -> str:
    """The report ``hls-sim run`` prints: kernel, tensors, types, timing, counters, reference."""
    ly, res, cmp = run.layer, run.result, run.comparison
    c = ly.config
    kind, geom = ly.spec, ly.geometry
    lines = [f"layer     {ly.path}" + (f"  ({ly.name})" if ly.name else "")]
    if ly.description:
        lines.append(f"          {' '.join(ly.description.split())}")
    cpp = kind.legacy_cpp or f"{kind.cpp_function}<...>"
    lines.append(f"kernel    {ly.kernel} (C++ {cpp}), {res.path} path"
                 + (", generic kernel" if res.kernel == "generic" else "")
                 + f": {_ms(run.seconds)} per call"
                 + (f" (first call {_ms(run.first_seconds)}, with loading the compiled code)"
                    if run.first_seconds > 2 * run.seconds else ""))
    if res.kernel == "generic" and kernel_mode() == "auto":
        lines.append("          (this configuration's specialised kernel is not compiled yet: "
                     "`hls-sim --kernels specialised run` compiles it once, for faster calls)")
    if kind.params:
        lines.append("params    " + ", ".join(f"{k} {v}" for k, v in geom.values))
    tensors = []
    for t in kind.tensors:
        if t.role == "top":
            continue
        arr = getattr(ly, t.role)
        tensors.append((t.role, _dims(np.shape(arr)), t.type_name, str(getattr(c, t.type_name)),
                        ly.sources[t.role]))
    tensors.append(("top", _dims(ly.top.shape), "out_t", str(c.out_t),
                    f"initial {ly.sources['top']}; {_written(geom)}" if kind.seed
                    else _written(geom)))
    lines += [("tensors   " if i == 0 else " " * 10) + r for i, r in enumerate(_table(tensors))]
    if kind.epilogue:
        inner = [(n, str(getattr(c, n))) for n in ("acc_t", "qd_t", "sum_t")]
        lines.append("types     " + ", ".join(f"{n} {t}" for n, t in inner)
                     + f"; relu_clip {int(c.relu_clip)}, per_channel_factor {int(c.per_channel_factor)}")
    else:
        lines.append("types     " + "; ".join(f"{what} [{tn} {getattr(c, tn)}]"
                                              for _, tn, what, _ in kind.conversions)
                     + "".join(f"; {n} {getattr(c, n)}" for n in kind.types
                               if n not in {cv[1] for cv in kind.conversions} | {"in_t", "in2_t"}))
    note = kind.note(ly)
    if note:
        lines.append(f"note      {note}")
    t = res.counters.total()
    n = cmp.n_outputs
    if kind.epilogue:
        lines.append(f"datapath  {n} outputs: overflow acc {t['acc_overflow']}, qd {t['qd_overflow']}, "
                     f"sum {t['sum_overflow']}, out {t['out_overflow']}; qd rounded {t['qd_rounded']}")
        top = (f"at clip_at {geom['clip_at']!r}" if geom.get("activation") == "clip"
               else "at the top of out_t")
        lines.append(f"          relu clipped at 0: {t['clip_low']}, {top}: {t['clip_high']}")
    else:
        lines.append(f"datapath  {n} outputs: " + ", ".join(
            f"{tn} overflow {t[counter]}" + (f", rounded {t[ROUNDED_BY[counter]]}"
                                             if counter in ROUNDED_BY else "")
            for counter, tn, _, _ in kind.conversions))
    out = res.top.raw[geom.region]
    if out.dtype == object:
        lo, hi = min(out.flat), max(out.flat)
        mean = float(np.mean([float(v) for v in out.flat]))
    else:
        lo, hi, mean = int(out.min()), int(out.max()), float(out.mean())
    lines.append(f"output    raw min {lo}, max {hi}, mean {mean:.2f}"
                 + (f" (LSB {c.out_t.lsb!r})" if c.out_t.frac_bits else ""))
    wc, wh, ww = cmp.worst
    lines.append(f"reference max |error| {cmp.max_abs_error:.4g} LSB at top[{wc}][{wh}][{ww}], "
                 f"mean {cmp.mean_error:+.4g} LSB, rms {cmp.rms_error:.4g} LSB")
    lines.append(f"          {cmp.n_differ} of {n} outputs differ from the correctly rounded "
                 "float reference (by more than 0.5 LSB)")
    lines += [f"warning   {w}" for w in run.warnings]
    return "\n".join(lines)


# ---- output files ----------------------------------------------------------------------------
def output_names(layer: Layer) -> tuple[str, ...]:
    """The files ``write_outputs`` writes for ``layer``: the output, one file per input
    tensor of its kind, the replaying layer file."""
    extra = ("top_initial.npy",) if "top" in layer.given else ()
    names = tuple(n for n in OUTPUT_FILES
                  if n in ("top.npy", "layer.yaml") or layer.spec.has(n.removesuffix(".npy")))
    return names + extra


def check_outputs(out_dir: str | Path, names: tuple[str, ...], force: bool) -> Path:
    """Refuse (before any work) when DIR is not a folder, or a target exists without force."""
    d = Path(out_dir)
    if d.exists() and not d.is_dir():
        raise OutputError(f"{d}: exists and is not a folder")
    targets = [d / n for n in names]
    dirs = [p for p in targets if p.is_dir()]
    if dirs:
        raise OutputError(f"{dirs[0]}: is a folder; cannot write a file there")
    existing = [p for p in targets if p.exists() or p.is_symlink()]
    if existing and not force:
        more = f" (and {len(existing) - 1} more of the files to write)" if len(existing) > 1 else ""
        raise OutputError(f"{existing[0]}: already exists{more}; nothing written "
                          "(pass --force to overwrite)")
    return d


def _int64(arr: np.ndarray, what: str) -> np.ndarray:
    a = np.asarray(arr)
    if a.dtype == object:
        vals = [int(v) for v in a.flat]
        if vals and not (_INT64[0] <= min(vals) and max(vals) <= _INT64[1]):
            raise OutputError(f"{what}: raw values beyond 64 bits cannot be written to .npy "
                              "(nothing written)")
        return np.array(vals, dtype=np.int64).reshape(a.shape)
    return a.astype(np.int64)


def _replay_yaml(run: LayerRun, names: tuple[str, ...]) -> str:
    """A layer file that reproduces this run from the written .npy files."""
    import yaml

    ly = run.layer
    d: dict = {"kernel": ly.kernel}
    if ly.name:
        d["name"] = ly.name
    d["description"] = f"written by hls-sim run from {ly.path}"
    d.update(ly.geometry.values)
    cfg = ly.config.to_dict()
    d["types"] = {n: str(f) for n, f in ly.config.named_types()}
    d["relu_clip"] = cfg["relu_clip"]
    if ly.spec.epilogue:
        d["per_channel_factor"] = cfg["per_channel_factor"]
    for t in ly.spec.tensors:
        if t.role != "top":
            d[t.role] = {"file": f"{t.role}.npy"}
    if "top_initial.npy" in names:
        d["top"] = {"file": "top_initial.npy"}
    return ("# Replays the run that wrote this folder: hls-sim run layer.yaml\n"
            + yaml.safe_dump(d, sort_keys=False, default_flow_style=False))


def write_outputs(run: LayerRun, out_dir: str | Path, force: bool = False) -> list[Path]:
    """Write the output buffer and every input the kernel ran on, as raw int64 .npy files,
    plus ``layer.yaml`` replaying the run from them. Returns the paths written.

    Nothing is overwritten unless ``force``; every target is checked before the first is
    written; the files are written all or nothing (``hls_sim.files.write_files``).
    """
    ly = run.layer
    names = output_names(ly)
    arrays = {"top.npy": _int64(run.result.top.raw, "top")}
    arrays.update({f"{t.role}.npy": _int64(getattr(ly, t.role), t.role)
                   for t in ly.spec.tensors if t.role != "top"})
    if "top_initial.npy" in names:
        arrays["top_initial.npy"] = _int64(ly.top, "top")
    texts = {"layer.yaml": _replay_yaml(run, names).encode()}
    d = check_outputs(out_dir, names, force)
    payload = {name: arrays[name] if name in arrays else texts[name] for name in names}
    return write_files(d, payload, OutputError)
