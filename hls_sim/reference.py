"""The float reference: what a layer is meant to compute, without the datapath's rounding.

For every output the kernel writes, from the very same raw integers and factor:

    y = relu(bias + (sum of the exact products weight * input) * factor)

with ``relu(x) = max(0, x)`` and, when ``relu_clip`` is on, also ``min(x, max(out_t))``
(``activation: none``: no relu). The sums come from the kind's registry entry. No
intermediate type is applied: no conversion to ``acc_t``, ``qd_t`` or ``sum_t``, no rounding,
no overflow. ``y`` is expressed in units of out_t's LSB, so that the kernel's raw output
integers compare with it directly.

Arithmetic (vectorized numpy):

- the sum of products is computed exactly on the raw integers (int64 where the bound
  ``taps * max|w| * max|x|`` stays below 2**62, Python integers otherwise);
- it is converted to float64 (exact below 2**53), multiplied by the factor's raw integer as
  float64 -- **the one float rounding of the product**, correctly rounded, and exact whenever
  ``|sum * raw factor| < 2**53`` -- and scaled by a power of two (exact);
- the bias (exact) is added: one more correctly rounded float64 addition, exact whenever the
  two addends and their sum are multiples of a common power of two within 53 bits.

With the seed's types every step is exact (``|sum| < 2**19``, ``|raw factor| < 2**31``), so
the reference is the exact rational result. In general its relative error is below 2**-52.

The comparison counts an output as differing from the correctly rounded reference when it
is more than half an LSB away (``|kernel - y| > 0.5``): at an exact tie both neighbours are
correctly rounded.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hls_sim.kernels.hls_config import CHANNELS, TILE_H, TILE_W, KernelConfig
from hls_sim.kernels.kind import Geometry, Kind

_INT64_SAFE = 1 << 62


def _max_abs(a: np.ndarray) -> int:
    if a.size == 0:
        return 0
    if a.dtype == object:
        return max(abs(int(v)) for v in a.flat)
    return int(np.abs(a).max())


def _as_exact(a: np.ndarray, exact: bool) -> np.ndarray:
    if not exact:
        return np.asarray(a, dtype=np.int64)
    out = np.empty(a.shape, dtype=object)
    out.flat[:] = [int(v) for v in a.flat]
    return out


def _to_float(a: np.ndarray) -> np.ndarray:
    if a.dtype == object:
        return np.array([float(int(v)) for v in a.flat], dtype=np.float64).reshape(a.shape)
    return a.astype(np.float64)


def _exact_operands(bottom: np.ndarray, weight: np.ndarray, taps: int) -> tuple:
    """Both as Python-int object arrays when a sum of ``taps`` products could leave int64;
    both as float64 when either holds floats (the float model of hls_sim.quantize)."""
    bottom, weight = np.asarray(bottom), np.asarray(weight)
    if "f" in (bottom.dtype.kind, weight.dtype.kind):
        return bottom.astype(np.float64), weight.astype(np.float64)
    exact = taps * _max_abs(weight) * _max_abs(bottom) >= _INT64_SAFE
    return _as_exact(bottom, exact), _as_exact(weight, exact)


def conv1x1_sums(bottom: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """conv1x1's exact sums, [16][32][64]: top[coo][h][w] = sum_ci weight[coo][ci] *
    bottom[ci][h][w], h 0..31, w 0..63."""
    x, w = _exact_operands(bottom, weight, 16)
    tile = x[:, 0:TILE_H, 0:TILE_W].reshape(CHANNELS, -1)
    return (w @ tile).reshape(CHANNELS, TILE_H, TILE_W)


def dw_conv3x3_sums(bottom: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """DW_CONV_3x3's exact sums, [16][32][64]: top[c][h][w] = sum_ij weight[c][i][j] *
    bottom[c][h-1+i][w-1+j], h 1..32, w 1..64."""
    x, w = _exact_operands(bottom, weight, 9)
    s = None
    for i in range(3):
        for j in range(3):
            term = w[:, i, j, None, None] * x[:, i:i + TILE_H, j:j + TILE_W]
            s = term if s is None else s + term
    return s


def exact_sums(kind: Kind, geom: Geometry, bottom: np.ndarray, weight: np.ndarray | None,
               config: KernelConfig | None = None) -> np.ndarray:
    """The exact sums of raw products of every written output (the registry's ``sums``;
    ``weight`` is a merge kind's second input)."""
    return kind.sums(geom, bottom, weight, config)


def reference(kind: Kind, geom: Geometry, config: KernelConfig, bottom: np.ndarray,
              weight: np.ndarray | None, bias: np.ndarray | None,
              factor: np.ndarray | None) -> np.ndarray:
    """The float64 reference of every written output (shaped as the written region), in
    out_t LSBs.

    Arguments are raw integers of the configured types (as in :class:`hls_sim.layer.Layer`).
    A kind without the epilogue: the value it converts to out_t, exactly (``weight`` is a
    merge kind's second input).
    """
    c = config
    s = _to_float(exact_sums(kind, geom, bottom, weight, c))
    fo = c.out_t.frac_bits
    if not kind.epilogue:
        return np.ldexp(s, fo - kind.moved_type(c).frac_bits)
    n = geom.out_channels
    f = _to_float(np.asarray(factor)).reshape(-1)
    f = f[:, None, None] if f.size == n and np.ndim(factor) == 1 else f.reshape(())
    b = _to_float(np.asarray(bias)).reshape(n, 1, 1)
    scale = fo - c.in_t.frac_bits - c.weight_t.frac_bits - c.factor_t.frac_bits
    y = np.ldexp(s * f, scale) + np.ldexp(b, fo - c.bias_t.frac_bits)
    act = geom.get("activation", "relu")
    if act == "relu":
        y = np.maximum(y, 0.0)
        if c.relu_clip:
            y = np.minimum(y, float(c.out_t.max_raw))
    elif act == "clip":
        from hls_sim.kernels.conv2d import clip_raw

        y = np.minimum(np.maximum(y, 0.0), float(clip_raw(c.out_t, geom)))
    return y


@dataclass(frozen=True)
class Comparison:
    """The kernel's output against the float reference, over the written region, in LSBs."""

    reference: np.ndarray  # the written region, float64, out_t LSBs
    error: np.ndarray  # kernel - reference, float64
    max_abs_error: float
    worst: tuple[int, int, int]  # index into top of the largest |error|
    mean_error: float  # signed: a bias shows here
    rms_error: float
    n_differ: int  # outputs more than 0.5 LSB from the reference
    n_outputs: int


def compare(kind: Kind, geom: Geometry, config: KernelConfig, bottom: np.ndarray,
            weight: np.ndarray | None, bias: np.ndarray | None, factor: np.ndarray | None,
            top: np.ndarray) -> Comparison:
    """Compare ``top`` (the kernel's output buffer, raw integers) with the reference."""
    ref = reference(kind, geom, config, bottom, weight, bias, factor)
    region = geom.region
    got = _to_float(np.asarray(top)[region])
    err = got - ref
    a = np.abs(err)
    k = int(np.argmax(a))
    c, h, w = (int(i) for i in np.unravel_index(k, err.shape))
    worst = (c + region[0].start, h + region[1].start, w + region[2].start)
    return Comparison(ref, err, float(a.ravel()[k]), worst, float(err.mean()),
                      float(np.sqrt(np.mean(err * err))), int(np.count_nonzero(a > 0.5)), err.size)


def compare_layer(layer, top: np.ndarray) -> Comparison:  # noqa: ANN001 - hls_sim.layer.Layer
    """:func:`compare` for a :class:`hls_sim.layer.Layer` and the raw output buffer ``top``."""
    return compare(layer.spec, layer.geometry, layer.config, layer.input, layer.second,
                   layer.bias, layer.factor, top)
