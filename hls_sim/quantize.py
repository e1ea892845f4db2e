"""From a float layer to a layer file: the library behind ``hls-sim quantize``.

    from hls_sim.quantize import load_float, quantize_layer, write_layer
    q = quantize_layer(weight, bias, calibration, per_channel=True)   # float numpy arrays
    write_layer(q, "out/", source="w.npy")   # layer.yaml + integer and float .npy files
    print(q.summary())

Symmetric quantization, the kernels' arithmetic read backwards. With real values
``X = s_in * x`` (input), ``W[c] = s_w[c] * w[c]`` (weights), ``Y = s_out * y`` (output), the
float layer ``Y = relu(B + sum W * X)`` becomes ``y = relu(B / s_out + (s_w s_in / s_out) * sum
w x)``: the integer weights are ``w = round(W / s_w)``, the bias ``round(B / s_out)`` and the
factor ``s_w * s_in / s_out``.

- ``s_w = max|W| / max(weight_t)``, for the whole tensor or per output channel;
- ``s_in = P(|X|) / max(in_t)`` and ``s_out = P(Y) / max(out_t)`` over the calibration inputs
  and the float layer's outputs on them, ``P`` the maximum (default) or a percentile.

Every rounding is to nearest (ties to even) with saturation. A scale maps a type's value to a
real value (``real = scale * value``; for ap_int/ap_uint the value is the raw integer).

:func:`float_layer` is the float model of a layer (the same index mapping as the kernels);
the report (:mod:`hls_sim.report`) uses it too.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

from typing import Any

import numpy as np

from hls_sim.kernels import KINDS, KernelConfig
from hls_sim.kernels.hls_config import CHANNELS, HEIGHT, TILE_H, TILE_W, TYPE_NAMES, WIDTH
from hls_sim.types import Format, OMode, QMode

BUFFER = (CHANNELS, HEIGHT, WIDTH)
TILE = (CHANNELS, TILE_H, TILE_W)
# the kinds quantize starts from (the seed pair: a float layer on one tile)
SEED_KINDS = {name: k for name, k in KINDS.items() if k.seed}
WEIGHT_SHAPES = {k.geometry().shape("weight"): name for name, k in SEED_KINDS.items()}
# what write_layer writes
LAYER_FILES = ("layer.yaml", "weight.npy", "bias.npy", "input.npy", "weight_float.npy",
               "bias_float.npy", "input_float.npy")


_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,63}")  # as a layer file's name:


class QuantizeError(ValueError):
    """A problem with quantize's inputs or options: one line, naming the file or option."""


# ---- the float model ---------------------------------------------------------------------------
def float_sums(kernel: str, x: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Sums of products of every written output in float64, ``[..., 16, 32, 64]``.

    ``x``: padded input ``[..., 16, 34, 66]`` (leading axes: samples); the kind's own index
    mapping (the registry's ``sums``: conv1x1 reads h 0..31, w 0..63; the depthwise 3x3 the
    one-pixel halo).
    """
    if kernel not in SEED_KINDS:
        raise ValueError(f"no float model for kernel {kernel!r}")
    kind = SEED_KINDS[kernel]
    geom = kind.geometry()
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(weight, dtype=np.float64)
    flat = x.reshape((-1,) + x.shape[-3:])
    out = np.stack([kind.sums(geom, xs, w) for xs in flat]) if len(flat) else np.zeros((0, *TILE))
    return out.reshape(x.shape[:-3] + out.shape[1:])


def float_layer(layer: Any, weight: np.ndarray, bias: np.ndarray | None, x: np.ndarray,
                relu: bool | None = None) -> np.ndarray:
    """The float layer ``relu(bias + sum weight * x)`` on every written output (real units).

    ``layer``: a seed kind's name, or a :class:`~hls_sim.layer.Layer` (any kind with an
    epilogue; its ``activation`` decides the relu unless ``relu`` is given)."""
    if isinstance(layer, str):
        kernel, kind, geom = layer, KINDS[layer], KINDS[layer].geometry()
    else:
        kernel, kind, geom = layer.kernel, layer.spec, layer.geometry
    if relu is None:
        relu = geom.get("activation", "relu") == "relu"
    if kind.seed:
        y = float_sums(kernel, x, weight)
    else:
        y = kind.sums(geom, np.asarray(x, dtype=np.float64), np.asarray(weight, dtype=np.float64))
    if bias is not None:
        y = y + np.asarray(bias, dtype=np.float64)[:, None, None]
    return np.maximum(y, 0.0) if relu else y


# ---- quantizing ----------------------------------------------------------------------------------
def _nearest(fmt: Format) -> Format:
    """``fmt``'s raw encoding, rounding to nearest (ties to even) and saturating."""
    return Format("fixed", fmt.width, fmt.int_bits, fmt.signed, QMode.AP_RND_CONV, OMode.AP_SAT)


def _stat(a: np.ndarray, percentile: float) -> float:
    if a.size == 0:
        return 0.0
    return float(a.max()) if percentile >= 100 else float(np.percentile(a, percentile))


@dataclasses.dataclass
class Quantized:
    """A quantized layer: raw integers of the configured types, and where they came from."""

    kernel: str
    config: KernelConfig
    weight: np.ndarray  # raw, int64
    bias: np.ndarray
    factor: np.ndarray  # raw, shape () or [16]
    input: np.ndarray  # raw, [16][34][66] (the chosen calibration sample)
    float_weight: np.ndarray
    float_bias: np.ndarray
    float_input: np.ndarray  # [16][34][66]
    input_scale: float
    output_scale: float
    weight_scale: np.ndarray  # [16] (equal entries per tensor)
    factor_value: np.ndarray  # the exact factor before rounding to factor_t, () or [16]
    notes: list[str]

    @property
    def per_channel(self) -> bool:
        return self.config.per_channel_factor

    def summary(self) -> str:
        c = self.config
        fvals = np.ldexp(self.factor.astype(np.float64), -c.factor_t.frac_bits).reshape(-1)
        ws = self.weight_scale
        lines = [f"kernel    {self.kernel}, weights {'per output channel' if self.per_channel else 'per tensor'}"
                 f" (symmetric), types in {c.in_t}, weight {c.weight_t}, bias {c.bias_t}, "
                 f"factor {c.factor_t}, out {c.out_t}",
                 f"scales    input {self.input_scale:.6g}, output {self.output_scale:.6g}, weight "
                 + (f"{ws[0]:.6g}" if not self.per_channel else f"{ws.min():.6g} .. {ws.max():.6g}"),
                 "factor    " + (f"{fvals[0]:.8g}" if fvals.size == 1 else
                                 f"{fvals.min():.6g} .. {fvals.max():.6g} (16 values)")
                 + f" = weight scale x input scale / output scale, rounded to {c.factor_t}"]
        lines += [f"note      {n}" for n in self.notes]
        return "\n".join(lines)


def quantize_layer(weight: np.ndarray, bias: np.ndarray | None, calibration: np.ndarray, *,
                   kernel: str | None = None, per_channel: bool = False,
                   config: KernelConfig | None = None, sample: int = 0,
                   percentile: float = 100.0) -> Quantized:
    """Quantize a float layer symmetrically (see the module docstring).

    ``weight`` ``[16][16]`` (conv1x1, ``weight[out][in]``) or ``[16][3][3]`` (dw_conv3x3; the
    kernel follows from the shape unless given), ``bias`` ``[16]`` or None (zeros),
    ``calibration`` float inputs ``[N][16][34][66]`` or tiles ``[N][16][32][64]`` (or one
    sample without the leading axis). ``sample`` picks the calibration input the layer file
    runs on. Raises :class:`QuantizeError`.
    """
    w = _finite(weight, "weight")
    if kernel is None:
        kernel = WEIGHT_SHAPES.get(w.shape)
        if kernel is None:
            raise QuantizeError(f"weight: shape {_dims(w.shape)}; expected [16][16] (conv1x1) or "
                                "[16][3][3] (dw_conv3x3)")
    if kernel not in SEED_KINDS:
        raise QuantizeError(f"kernel: expected one of {', '.join(SEED_KINDS)}, got {kernel!r}")
    wshape = SEED_KINDS[kernel].geometry().shape("weight")
    if w.shape != wshape:
        raise QuantizeError(f"weight: shape {_dims(w.shape)}; {kernel} needs {_dims(wshape)}")
    b = np.zeros(CHANNELS) if bias is None else _finite(bias, "bias")
    if b.shape != (CHANNELS,):
        raise QuantizeError(f"bias: shape {_dims(b.shape)}; expected [16]")
    x = padded_inputs(calibration)
    if not 0 <= sample < x.shape[0]:
        raise QuantizeError(f"sample: {sample} is not one of the {x.shape[0]} calibration inputs "
                            f"(0..{x.shape[0] - 1})")
    if not 0 < percentile <= 100:
        raise QuantizeError(f"percentile: expected a number in (0, 100], got {percentile!r}")
    c = dataclasses.replace(config or KernelConfig(), per_channel_factor=per_channel)
    wide = [n for n in TYPE_NAMES if not getattr(c, n).fits_int64]
    if wide:
        raise QuantizeError(f"type {wide[0]}: {getattr(c, wide[0])} is wider than 64 bits; quantize "
                            "writes int64 .npy files")
    from hls_sim.layer import float_range_problem, lsb_units_problem

    for n in TYPE_NAMES:  # the layer file it writes must load
        problem = float_range_problem(getattr(c, n))
        if problem:
            raise QuantizeError(f"type {n}: {getattr(c, n)}: {problem}")
    problem = lsb_units_problem(c)
    if problem:
        raise QuantizeError(f"type: {problem}")
    notes: list[str] = []

    # weights: symmetric, per tensor or per output channel
    wmax = c.weight_t.max_value
    flat = np.abs(w).reshape(CHANNELS, -1).max(axis=1)
    peak = flat if per_channel else np.full(CHANNELS, flat.max())
    s_w = np.where(peak > 0, peak / wmax, 1.0)
    wq = _nearest(c.weight_t).quantize(w / s_w.reshape((CHANNELS,) + (1,) * (w.ndim - 1)))
    w_raw = _storage(wq.raw)
    if not flat.any():
        raise QuantizeError("weight: every weight is 0; nothing to quantize")

    # input scale from the calibration inputs
    in_max = c.in_t.max_value
    neg = int(np.count_nonzero(x < 0))
    if not c.in_t.signed and neg:
        notes.append(f"{neg} negative calibration input value(s) ({neg / x.size:.2%}) clip to 0 "
                     f"in {c.in_t}")
    mags = x if not c.in_t.signed else np.abs(x)
    peak_in = _stat(mags[mags > 0], percentile)
    if peak_in <= 0:
        raise QuantizeError("calibration: every input value is 0 (or negative for an unsigned "
                            f"in_t {c.in_t}); cannot choose an input scale")
    s_in = peak_in / in_max

    # output scale from the float layer on the calibration inputs
    y = float_layer(kernel, w, b, x)
    peak_out = _stat(y[y > 0], percentile)
    if peak_out <= 0:
        raise QuantizeError("calibration: the float layer's output is 0 on every calibration "
                            "input (relu of a negative sum); cannot choose an output scale")
    s_out = peak_out / c.out_t.max_value

    # factor = s_w * s_in / s_out, rounded to nearest in factor_t
    fval = s_w * s_in / s_out
    fval = fval if per_channel else np.asarray(fval[0])
    ft = c.factor_t
    if fval.max() > ft.max_value:
        raise QuantizeError(f"factor: {float(fval.max()):.6g} (weight scale x input scale / output "
                            f"scale) exceeds {ft}'s largest value {ft.max_value!r}; give factor_t "
                            "more integer bits (--type factor_t=ap_fixed<32,4>)")
    fq = _nearest(ft).quantize(fval)
    f_raw = _storage(fq.raw)
    if (f_raw == 0).any():
        raise QuantizeError(f"factor: {float(fval.min()):.3g} rounds to 0 in {ft}; give factor_t "
                            "more fraction bits")
    rel = np.abs(np.ldexp(f_raw.astype(np.float64), -ft.frac_bits) / fval - 1).max()
    if rel > 1e-3:
        notes.append(f"the factor loses {rel:.2%} of its value rounding to {ft}")

    # bias in units of the output
    bq = _nearest(c.bias_t).quantize(b / s_out)
    if bq.overflowed.any():
        notes.append(f"{int(bq.overflowed.sum())} bias value(s) saturated in {c.bias_t}")
    if SEED_KINDS[kernel].tile_note and np.asarray(calibration).shape[-3:] == TILE:
        notes.append(f"{SEED_KINDS[kernel].tile_note} (give [16][34][66] buffers)")
    x_raw = _nearest(c.in_t).quantize(x[sample] / s_in)
    n_sat = int(x_raw.overflowed.sum())
    if n_sat:
        notes.append(f"{n_sat} value(s) of calibration input {sample} saturate in {c.in_t} "
                     f"(percentile {percentile:g})")
    return Quantized(kernel, c, w_raw, _storage(bq.raw), f_raw.reshape(fval.shape),
                     _storage(x_raw.raw), w, b, x[sample], s_in, s_out, s_w, fval, notes)


def padded_inputs(calibration: np.ndarray) -> np.ndarray:
    """Calibration inputs as ``[N][16][34][66]`` float64 (tiles padded with a zero halo)."""
    x = _finite(calibration, "calibration")
    if x.ndim == 3:
        x = x[None]
    if x.ndim != 4 or x.shape[1:] not in (BUFFER, TILE) or x.shape[0] == 0:
        raise QuantizeError(f"calibration: shape {_dims(x.shape)}; expected [N][16][34][66] "
                            "(padded buffers) or [N][16][32][64] (tiles), N >= 1, or one of them")
    if x.shape[1:] == TILE:
        p = np.zeros((x.shape[0],) + BUFFER)
        p[:, :, 1:1 + TILE_H, 1:1 + TILE_W] = x
        x = p
    return x


def finite_reals(a: Any, what: str, error: type[Exception] = ValueError) -> np.ndarray:
    """``a`` as float64; ``error`` naming ``what`` for non-numbers, NaN and infinities."""
    a = np.asarray(a)
    if a.dtype.kind not in "fiu":
        raise error(f"{what}: holds {a.dtype} data; expected real numbers")
    a = a.astype(np.float64)
    bad = ~np.isfinite(a)
    if bad.any():
        raise error(f"{what}: {int(bad.sum())} value(s) are NaN or infinite")
    return a


def _finite(a: np.ndarray, what: str) -> np.ndarray:
    return finite_reals(a, what, QuantizeError)


def _storage(raw: np.ndarray) -> np.ndarray:
    return np.asarray(raw, dtype=np.int64) if raw.dtype != object else raw


def _dims(shape: tuple[int, ...]) -> str:
    return "".join(f"[{n}]" for n in shape) if shape else "a scalar"


# ---- reading inputs ----------------------------------------------------------------------------
def load_float(path: str | Path, what: str) -> np.ndarray:
    """A float array from a ``.npy`` file or a ``.npz`` holding one array (one-line errors)."""
    from hls_sim.layer import ArrayFileError, NotRegularError, read_array

    p = Path(path)
    if p.suffix.lower() not in (".npy", ".npz"):
        raise QuantizeError(f"{path}: {what}: expected a .npy or .npz file")

    def real(shape: tuple[int, ...], dtype: np.dtype, key: str | None) -> None:
        if dtype.kind not in "fiu":  # refused from the header, before any data is read
            raise QuantizeError(f"{path}: {what}: holds {dtype} data; expected real numbers")

    try:
        arr, _ = read_array(p, None, real)
    except QuantizeError:
        raise
    except FileNotFoundError:
        raise QuantizeError(f"{path}: {what}: file not found (looked in {p.absolute().parent})") from None
    except NotRegularError as e:
        raise QuantizeError(f"{path}: {what}: {e.what}, not a .npy/.npz file") from None
    except ArrayFileError as e:
        if e.about == "choose":
            raise QuantizeError(f"{path}: {what}: {e.reason}; give a .npy or a .npz with one "
                                "array") from None
        raise QuantizeError(f"{path}: {what}: cannot read: {e.reason}") from None
    except OSError as e:
        raise QuantizeError(f"{path}: {what}: cannot read: {e.strerror or e}") from None
    except Exception as e:  # noqa: BLE001 - zip and zlib raise many kinds; one line
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise QuantizeError(f"{path}: {what}: cannot read: {reason}") from None
    try:
        return _finite(arr, what)
    except QuantizeError as e:
        raise QuantizeError(f"{path}: {e}") from None


# ---- writing the layer file ------------------------------------------------------------------------
def _num(v: float) -> str:
    """A float as YAML 1.1 reads it back as the same float64."""
    r = repr(float(v))
    if "e" in r and "." not in r.split("e")[0]:
        m, e = r.split("e")
        r = f"{m}.0e{e}"
    return r


def layer_yaml(q: Quantized, name: str | None = None, source: str = "float arrays") -> str:
    """The layer file for ``q`` (data in the files of :data:`LAYER_FILES`)."""
    c = q.config
    fvals = np.ldexp(q.factor.astype(np.float64), -c.factor_t.frac_bits).reshape(-1)
    how = "per output channel" if q.per_channel else "per tensor"
    lines = [f"# Written by hls-sim quantize from {' '.join(source.split())}.",
             f"# Symmetric {how}: weight = round(float weight / weight scale), bias = round(float",
             "# bias / output scale), factor = weight scale * input scale / output scale.",
             "# Report its quantization error:  hls-sim report layer.yaml",
             f"kernel: {q.kernel}"]
    if name:
        lines.append(f"name: {name}")
    lines.append("description: " + json.dumps(f"quantized {how} from {' '.join(source.split())}"[:300]))
    lines.append("types:")
    lines += [f"  {n}: {getattr(c, n)}" for n in TYPE_NAMES]
    lines.append(f"relu_clip: {'true' if c.relu_clip else 'false'}")
    lines.append(f"per_channel_factor: {'true' if q.per_channel else 'false'}")
    raws = [int(v) for v in q.factor.reshape(-1)]
    vals = ", ".join(f"{v:.6g}" for v in fvals)
    if q.per_channel:
        lines.append(f"factor: {{raw: [{', '.join(map(str, raws))}]}}")
        lines.append(f"# factor values: {vals}")
    else:
        lines.append(f"factor: {{raw: {raws[0]}}}    # {vals}")
    lines += ["weight: {file: weight.npy}     # raw integers of weight_t",
              "bias: {file: bias.npy}         # raw integers of bias_t",
              "input: {file: input.npy}       # the calibration input, quantized to in_t",
              "float:                         # the float layer, for the report's quantization error",
              "  weight: {file: weight_float.npy}",
              "  bias: {file: bias_float.npy}",
              "  input: {file: input_float.npy}",
              f"  input_scale: {_num(q.input_scale)}     # real = input_scale * in_t value",
              f"  output_scale: {_num(q.output_scale)}    # real = output_scale * out_t value"]
    return "\n".join(lines) + "\n"


def write_layer(q: Quantized, out_dir: str | Path, *, name: str | None = None,
                source: str = "float arrays", force: bool = False) -> list[Path]:
    """Write ``layer.yaml`` and its ``.npy`` files into ``out_dir``; nothing is overwritten
    unless ``force`` (every target is checked first; each file is written to a temporary
    name and renamed into place)."""
    from hls_sim.files import write_files
    from hls_sim.runner import OutputError, check_outputs

    if name is not None and not _NAME.fullmatch(name):
        raise QuantizeError(f"name: {name!r}: use 1 to 64 letters, digits, '_', '-', '.'")
    try:
        d = check_outputs(out_dir, LAYER_FILES, force)
    except OutputError as e:
        raise QuantizeError(str(e)) from None
    payload: dict[str, bytes | np.ndarray] = {
        "layer.yaml": layer_yaml(q, name, source).encode(),
        "weight.npy": q.weight, "bias.npy": q.bias, "input.npy": q.input,
        "weight_float.npy": q.float_weight, "bias_float.npy": q.float_bias,
        "input_float.npy": q.float_input}
    return write_files(d, {f: payload[f] for f in LAYER_FILES}, QuantizeError)
