"""A slow, obviously correct oracle of the conv2d, conv_transpose and upsample kinds.

Written from docs/kinds.md alone, on plain Python integers, one loop per output element:

- :func:`conv2d_sums` and :func:`conv_transpose_sums` are the exact sums of products with no
  intermediate type; conv_transpose by PyTorch's scatter definition, which shares nothing with
  the zero-insertion formulation the kernels (and :func:`conv_transpose_layer`) use;
- :func:`conv2d_layer` and :func:`conv_transpose_layer` are the whole kernel: the products
  added in the spec's order, converted to acc_t as the ``accumulate`` mode says (group, exact,
  tap), then the common epilogue, one value at a time through ``hls_sim.types.rules.convert``
  with the C++ natural result types of ``hls_sim.types.result_type``;
- :func:`upsample_layer` is the data mover.

Given an ``events`` dict, the layer functions also count the datapath events the twins count
(``hls_sim.kernels.hls_kernels.COUNTER_NAMES``), one per output: ``acc_overflow`` (some
conversion to acc_t overflowed on the way to that output), ``qd_overflow`` and
``qd_rounded`` (the qd_t conversion overflowed / lost bits), ``sum_overflow``,
``out_overflow`` (the out_t conversion overflowed where its value is written), ``clip_low``
and ``clip_high`` (relu wrote 0 / max(out_t)).

``p`` is a plain dict: in_channels, height, width, out_channels, kernel_size, stride, padding,
dilation, groups, and output_padding (conv_transpose). Tensors hold raw integers.
"""

from __future__ import annotations

import numpy as np

from functools import lru_cache

from hls_sim.kernels import KernelConfig
from hls_sim.types import Format
from hls_sim.types import result_type as _result_type
from hls_sim.types.rules import INEXACT, OVERFLOW, conversion_params, convert

BLOCK = 16  # compute_engine_16: input channels per block
ACCUMULATE = ("group", "exact", "tap")
ACTIVATIONS = ("relu", "none")


# ---- shapes ---------------------------------------------------------------------------------
def output_size(kind: str, p: dict) -> tuple[int, int, int]:
    """``(C_OUT, H_OUT, W_OUT)`` by PyTorch's documented formulas (upsample: H*F + 2*HALO)."""
    if kind == "upsample":
        f, halo = p["scale"], p.get("halo", 0)
        return p["in_channels"], p["height"] * f + 2 * halo, p["width"] * f + 2 * halo
    k, s, pad, d = p["kernel_size"], p["stride"], p["padding"], p["dilation"]
    if kind == "conv2d":
        def size(n: int) -> int:
            return (n + 2 * pad - d * (k - 1) - 1) // s + 1
    elif kind == "conv_transpose":
        def size(n: int) -> int:
            return (n - 1) * s - 2 * pad + d * (k - 1) + p.get("output_padding", 0) + 1
    else:
        raise ValueError(f"unknown kind {kind!r}")
    h, w = size(p["height"]), size(p["width"])
    if h < 1 or w < 1:
        raise ValueError(f"{kind}: no output ({h} x {w}) for {p}")
    return p["out_channels"], h, w


def _check(kind: str, p: dict, x: np.ndarray, w: np.ndarray) -> None:
    """The parameter rules of docs/kinds.md, and the tensors' shapes."""
    c_in, c_out, g, k = p["in_channels"], p["out_channels"], p["groups"], p["kernel_size"]
    if c_in % g or c_out % g:
        raise ValueError(f"groups {g} must divide in_channels {c_in} and out_channels {c_out}")
    if not (1 <= k <= 7 and 1 <= p["stride"] <= 4 and 1 <= p["dilation"] <= 4 and p["padding"] >= 0):
        raise ValueError(f"{kind}: parameter out of range: {p}")
    if x.shape != (c_in, p["height"], p["width"]):
        raise ValueError(f"input shape {x.shape}, expected {(c_in, p['height'], p['width'])}")
    want = (c_out, c_in // g, k, k) if kind == "conv2d" else (c_in, c_out // g, k, k)
    if w.shape != want:
        raise ValueError(f"weight shape {w.shape}, expected {want}")
    if kind == "conv_transpose":
        op, d = p.get("output_padding", 0), p["dilation"]
        if p["padding"] > d * (k - 1):
            raise ValueError(f"padding {p['padding']} above dilation*(kernel_size-1) = {d * (k - 1)}")
        if not 0 <= op < max(p["stride"], d):
            raise ValueError(f"output_padding {op} must be below max(stride, dilation)")
    output_size(kind, p)


def _ints(a: np.ndarray) -> list:
    """Nested lists of Python ints (no int64 arithmetic anywhere below)."""
    return np.asarray(a).astype(object).tolist()


# ---- the exact sums ---------------------------------------------------------------------------
def conv2d_sums(p: dict, x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """PyTorch Conv2d's exact sums of raw products, ``[C_OUT][H_OUT][W_OUT]`` Python ints."""
    _check("conv2d", p, x, w)
    c_out, h_out, w_out = output_size("conv2d", p)
    h, wd, k, s, pad, d = p["height"], p["width"], p["kernel_size"], p["stride"], p["padding"], p["dilation"]
    cg, per_group = p["in_channels"] // p["groups"], c_out // p["groups"]
    xl, wl = _ints(x), _ints(w)
    out = np.empty((c_out, h_out, w_out), dtype=object)
    for co in range(c_out):
        g = co // per_group
        for oh in range(h_out):
            for ow in range(w_out):
                total = 0
                for ci in range(cg):
                    for kh in range(k):
                        i = oh * s - pad + kh * d
                        for kw in range(k):
                            j = ow * s - pad + kw * d
                            if 0 <= i < h and 0 <= j < wd:  # zero padding outside
                                total += wl[co][ci][kh][kw] * xl[g * cg + ci][i][j]
                out[co, oh, ow] = total
    return out


def conv_transpose_sums(p: dict, x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """PyTorch ConvTranspose2d's exact sums by its scatter definition: every input pixel adds
    ``w[ci][co_local][kh][kw] * x[ci][i][j]`` at ``(i*S - P + kh*D, j*S - P + kw*D)``; what
    falls outside ``H_OUT x W_OUT`` is cropped (the padding)."""
    _check("conv_transpose", p, x, w)
    c_out, h_out, w_out = output_size("conv_transpose", p)
    k, s, pad, d = p["kernel_size"], p["stride"], p["padding"], p["dilation"]
    cg, per_group = p["in_channels"] // p["groups"], c_out // p["groups"]
    xl, wl = _ints(x), _ints(w)
    out = [[[0] * w_out for _ in range(h_out)] for _ in range(c_out)]
    for ci in range(p["in_channels"]):
        g = ci // cg
        for col in range(per_group):
            dst = out[g * per_group + col]
            for i in range(p["height"]):
                for j in range(p["width"]):
                    v = xl[ci][i][j]
                    for kh in range(k):
                        oh = i * s - pad + kh * d
                        if not 0 <= oh < h_out:
                            continue
                        for kw in range(k):
                            ow = j * s - pad + kw * d
                            if 0 <= ow < w_out:
                                dst[oh][ow] += wl[ci][col][kh][kw] * v
    res = np.empty((c_out, h_out, w_out), dtype=object)
    res[...] = out
    return res


# ---- conversions and types --------------------------------------------------------------------
# the type rules are pure functions of hashable Formats: memoized only for speed
result_type = lru_cache(maxsize=None)(_result_type)
_params = lru_cache(maxsize=None)(conversion_params)


def _frac(t: Format) -> int:
    return t.frac_bits if t.kind == "fixed" else 0


def _add_raw(a: int, ta: Format, b: int, tb: Format) -> tuple[int, Format]:
    """C++ ``a + b`` on raws: the exact sum in the natural result type (as
    tests/kernels/kernel_oracle.py does it)."""
    t = result_type("+", ta, tb)
    f = _frac(t)
    return (a << (f - _frac(ta))) + (b << (f - _frac(tb))), t


def cast_status(v: int, src: Format, dst: Format) -> tuple[int, int]:
    """C++ ``dst t = src_value;`` on one raw value: (raw, status bits INEXACT | OVERFLOW)."""
    return convert(int(v), _params(src, dst))


def cast(v: int, src: Format, dst: Format) -> int:
    """C++ ``dst t = src_value;`` on one raw value."""
    return cast_status(v, src, dst)[0]


def wide_type(product_t: Format, n_terms: int) -> Format:
    """A signed type that holds any sum of ``n_terms`` products exactly (the exact mode's
    ``wide_t``; docs/kinds.md only asks that it never overflows)."""
    extra = n_terms.bit_length() + 1
    if product_t.kind == "int":
        return Format("int", product_t.width + extra, product_t.width + extra, True)
    return Format("fixed", product_t.width + extra, product_t.int_bits + extra, True)


def engine(prods: list[int], prod_t: Format, c: KernelConfig) -> tuple[int, Format, int]:
    """compute_engine_16 as docs/kinds.md says: each natural product converted to product_t
    and each adder's sum to tree_t when the configuration sets them (else natural types).
    Returns the total, its type and the status bits of those conversions."""
    st = 0
    if c.product_t is not None:
        conv = [cast_status(q, prod_t, c.product_t) for q in prods]
        prods, prod_t = [q[0] for q in conv], c.product_t
        for q in conv:
            st |= q[1]
    level, types = prods, [prod_t] * len(prods)
    while len(level) > 1:
        nxt, nt = [], []
        for i in range(0, len(level), 2):
            v, t = _add_raw(level[i], types[i], level[i + 1], types[i + 1])
            if c.tree_t is not None:
                v, s1 = cast_status(v, t, c.tree_t)
                t, st = c.tree_t, st | s1
            nxt.append(v)
            nt.append(t)
        level, types = nxt, nt
    return level[0], types[0], st


# ---- the kernels ------------------------------------------------------------------------------
def conv2d_acc(p: dict, config: KernelConfig, x: np.ndarray, w: np.ndarray,
               accumulate: str = "group", overflow: np.ndarray | None = None,
               engine_overflow: np.ndarray | None = None) -> np.ndarray:
    """The acc_t raws of every conv2d output: products in the spec's order (input-channel
    block, then kh, then kw, then the 16 channels of the block), converted as
    ``accumulate`` says. ``overflow`` (bool, the output's shape): set where some conversion
    to acc_t overflowed."""
    if accumulate not in ACCUMULATE:
        raise ValueError(f"accumulate must be one of {ACCUMULATE}, got {accumulate!r}")
    _check("conv2d", p, x, w)
    c = config
    c_out, h_out, w_out = output_size("conv2d", p)
    h, wd, k, s, pad, d = p["height"], p["width"], p["kernel_size"], p["stride"], p["padding"], p["dilation"]
    cg, per_group = p["in_channels"] // p["groups"], c_out // p["groups"]
    blocks = -(-cg // BLOCK)
    prod_t = result_type("*", c.weight_t, c.in_t)
    wide_t = wide_type(prod_t, blocks * BLOCK * k * k)
    xl, wl = _ints(x), _ints(w)
    out = np.empty((c_out, h_out, w_out), dtype=object)
    for co in range(c_out):
        g = co // per_group
        for oh in range(h_out):
            for ow in range(w_out):
                acc = 0  # acc_t raw (group, tap) or wide_t raw (exact)
                st = 0  # the status bits of every conversion to acc_t
                est = 0  # ... and of the engine's product_t / tree_t conversions
                for b in range(blocks):
                    for kh in range(k):
                        i = oh * s - pad + kh * d
                        for kw in range(k):
                            j = ow * s - pad + kw * d
                            inside = 0 <= i < h and 0 <= j < wd
                            prods = []
                            for kk in range(BLOCK):
                                ci = BLOCK * b + kk  # past cg: a zero weight (padded block)
                                xv = xl[g * cg + ci][i][j] if ci < cg and inside else 0
                                prods.append(wl[co][ci][kh][kw] * xv if ci < cg else 0)
                            if accumulate == "group":
                                e, e_t, s0 = engine(prods, prod_t, c)
                                est |= s0
                                ev, s1 = cast_status(e, e_t, c.acc_t)
                                t, t_t = _add_raw(acc, c.acc_t, ev, c.acc_t)
                                acc, s2 = cast_status(t, t_t, c.acc_t)
                                st |= s1 | s2
                            elif accumulate == "tap":
                                for q in prods:
                                    t, t_t = _add_raw(acc, c.acc_t, q, prod_t)
                                    acc, s1 = cast_status(t, t_t, c.acc_t)
                                    st |= s1
                            else:
                                acc += sum(prods)  # wide_t: exact
                if accumulate == "exact":
                    acc, st = cast_status(acc, wide_t, c.acc_t)
                out[co, oh, ow] = acc
                if overflow is not None:
                    overflow[co, oh, ow] = bool(st & OVERFLOW)
                if engine_overflow is not None:
                    engine_overflow[co, oh, ow] = bool(est & OVERFLOW)
    return out


COUNTERS = ("acc_overflow", "qd_overflow", "sum_overflow", "out_overflow", "clip_low",
            "clip_high", "qd_rounded", "engine_overflow")


def _count(events: dict | None, name: str, hit: bool | int) -> None:
    if events is not None:
        events[name] = events.get(name, 0) + int(bool(hit))


def epilogue(config: KernelConfig, acc: int, co: int, factor: np.ndarray, bias: np.ndarray,
             activation: str = "relu", events: dict | None = None) -> int:
    """The raw out_t of one output from its acc_t raw, as tests/kernels/kernel_oracle.py does
    it: ``qd_t(acc * factor)``, ``sum_t(bias + qd)``, then relu (clipped at max(out_t) when
    relu_clip) or a plain ``out_t(s)``."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
    c = config
    f = int(np.asarray(factor).reshape(-1)[co if c.per_channel_factor else 0])
    qd, st = cast_status(int(acc) * f, result_type("*", c.acc_t, c.factor_t), c.qd_t)
    _count(events, "qd_overflow", st & OVERFLOW)
    _count(events, "qd_rounded", st & INEXACT)
    t, t_t = _add_raw(int(bias[co]), c.bias_t, qd, c.qd_t)
    x, st = cast_status(t, t_t, c.sum_t)
    _count(events, "sum_overflow", st & OVERFLOW)
    if activation == "relu":
        # relu(sum_t x): the comparisons are on values (x's LSB is 2**-frac(sum_t))
        if x < 0:
            _count(events, "clip_low", True)
            return 0
        top = c.out_t.max_raw
        fs = c.sum_t.frac_bits if c.sum_t.kind == "fixed" else 0
        fo = c.out_t.frac_bits if c.out_t.kind == "fixed" else 0
        if c.relu_clip and x * 2 ** max(fo - fs, 0) > top * 2 ** max(fs - fo, 0):
            _count(events, "clip_high", True)
            return top
    out, st = cast_status(x, c.sum_t, c.out_t)
    _count(events, "out_overflow", st & OVERFLOW)
    return out


def finish(config: KernelConfig, acc: np.ndarray, factor: np.ndarray, bias: np.ndarray,
           activation: str = "relu", events: dict | None = None) -> np.ndarray:
    """:func:`epilogue` on every element of ``acc [C_OUT][H_OUT][W_OUT]`` (acc_t raws)."""
    out = np.empty(acc.shape, dtype=object)
    for (co, oh, ow), a in np.ndenumerate(acc):
        out[co, oh, ow] = epilogue(config, a, co, factor, bias, activation, events)
    return out


def _layer(acc_fn, p: dict, config: KernelConfig, x: np.ndarray, w: np.ndarray,  # noqa: ANN001
           bias: np.ndarray, factor: np.ndarray, accumulate: str, activation: str,
           events: dict | None) -> np.ndarray:
    if events is None:
        return finish(config, acc_fn(p, config, x, w, accumulate), factor, bias, activation)
    for n in COUNTERS:
        events.setdefault(n, 0)
    shape = output_size("conv2d" if acc_fn is conv2d_acc else "conv_transpose", p)
    overflow, engine_overflow = np.zeros(shape, bool), np.zeros(shape, bool)
    acc = acc_fn(p, config, x, w, accumulate, overflow, engine_overflow)
    events["acc_overflow"] += int(overflow.sum())
    events["engine_overflow"] += int(engine_overflow.sum())
    return finish(config, acc, factor, bias, activation, events)


def conv2d_layer(p: dict, config: KernelConfig, x: np.ndarray, w: np.ndarray, bias: np.ndarray,
                 factor: np.ndarray, accumulate: str = "group", activation: str = "relu",
                 events: dict | None = None) -> np.ndarray:
    """The conv2d kernel's raw out_t output ``[C_OUT][H_OUT][W_OUT]``."""
    return _layer(conv2d_acc, p, config, x, w, bias, factor, accumulate, activation, events)


def linear_sums(p: dict, x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """PyTorch Linear's exact sums ``sum_ci w[co][ci] * x[ci]``, ``[C_OUT][1][1]``."""
    xl, wl = [int(v) for v in np.asarray(x).reshape(-1)], _ints(w)
    if len(xl) != p["in_features"] or np.shape(w) != (p["out_features"], p["in_features"]):
        raise ValueError(f"linear: shapes {np.shape(x)}, {np.shape(w)} do not fit {p}")
    out = np.empty((p["out_features"], 1, 1), dtype=object)
    for co in range(p["out_features"]):
        out[co, 0, 0] = sum(wl[co][ci] * xl[ci] for ci in range(len(xl)))
    return out


def linear_layer(p: dict, config: KernelConfig, x: np.ndarray, w: np.ndarray, bias: np.ndarray,
                 factor: np.ndarray, accumulate: str = "group", activation: str = "relu",
                 events: dict | None = None) -> np.ndarray:
    """The linear kernel's raw out_t output ``[C_OUT][1][1]``: docs/kinds.md defines it as the
    1x1 convolution of a 1x1 map (blocks of 16 input features, one engine call each)."""
    pc = dict(in_channels=p["in_features"], height=1, width=1, out_channels=p["out_features"],
              kernel_size=1, stride=1, padding=0, dilation=1, groups=1)
    xc = np.asarray(x).reshape(-1, 1, 1)
    wc = np.asarray(w)[:, :, None, None]
    return conv2d_layer(pc, config, xc, wc, bias, factor, accumulate, activation, events)


def zero_inserted(p: dict, x: np.ndarray, w: np.ndarray) -> tuple[dict, np.ndarray, np.ndarray]:
    """conv_transpose as docs/kinds.md computes it: the parameters, input ``xz`` and weight
    ``wf`` of the equivalent stride-1, unpadded conv2d."""
    _check("conv_transpose", p, x, w)
    c_in, c_out, g = p["in_channels"], p["out_channels"], p["groups"]
    h, wd, k, s, d = p["height"], p["width"], p["kernel_size"], p["stride"], p["dilation"]
    op = p.get("output_padding", 0)
    q = d * (k - 1) - p["padding"]
    hz, wz = (h - 1) * s + 1 + 2 * q + op, (wd - 1) * s + 1 + 2 * q + op
    xz = np.zeros((c_in, hz, wz), dtype=object)
    for c in range(c_in):
        for i in range(h):
            for j in range(wd):
                xz[c, q + i * s, q + j * s] = int(x[c, i, j])
    cg, per_group = c_in // g, c_out // g
    wf = np.zeros((c_out, cg, k, k), dtype=object)
    for co in range(c_out):
        for ci in range(cg):
            for kh in range(k):
                for kw in range(k):
                    wf[co, ci, kh, kw] = int(w[(co // per_group) * cg + ci, co % per_group, k - 1 - kh, k - 1 - kw])
    pz = dict(in_channels=c_in, height=hz, width=wz, out_channels=c_out, kernel_size=k,
              stride=1, padding=0, dilation=d, groups=g)
    return pz, xz, wf


def conv_transpose_acc(p: dict, config: KernelConfig, x: np.ndarray, w: np.ndarray,
                       accumulate: str = "group", overflow: np.ndarray | None = None,
                       engine_overflow: np.ndarray | None = None) -> np.ndarray:
    """The acc_t raws of every conv_transpose output: conv2d's order over the zero-inserted,
    padded input and the flipped weight (its zero products change no bit, docs/kinds.md)."""
    pz, xz, wf = zero_inserted(p, x, w)
    acc = conv2d_acc(pz, config, xz, wf, accumulate, overflow, engine_overflow)
    assert acc.shape == output_size("conv_transpose", p)
    return acc


def conv_transpose_layer(p: dict, config: KernelConfig, x: np.ndarray, w: np.ndarray,
                         bias: np.ndarray, factor: np.ndarray, accumulate: str = "group",
                         activation: str = "relu", events: dict | None = None) -> np.ndarray:
    """The conv_transpose kernel's raw out_t output ``[C_OUT][H_OUT][W_OUT]``."""
    return _layer(conv_transpose_acc, p, config, x, w, bias, factor, accumulate, activation, events)


def upsample_layer(p: dict, config: KernelConfig, x: np.ndarray, scale: int, mode: str,
                   halo: int, events: dict | None = None) -> np.ndarray:
    """The upsample kernel's raw out_t output ``[C][H*F + 2*HALO][W*F + 2*HALO]``:
    ``out[c][HALO+i][HALO+j] = out_t(v)``, v the nearest pixel, or (zeros) the pixel at the
    top left of its F x F cell and 0 elsewhere; a zero border of width HALO."""
    if mode not in ("nearest", "zeros") or not 2 <= scale <= 4 or halo not in (0, 1):
        raise ValueError(f"upsample: bad scale {scale}, mode {mode!r} or halo {halo}")
    c, h, w = x.shape
    if (p.get("in_channels", c), p.get("height", h), p.get("width", w)) != (c, h, w):
        raise ValueError(f"input shape {x.shape} does not match {p}")
    shape = output_size("upsample", dict(in_channels=c, height=h, width=w, scale=scale, halo=halo))
    if events is not None:
        for n in COUNTERS:
            events.setdefault(n, 0)
    xl = _ints(x)
    out = np.zeros(shape, dtype=object)
    for ch in range(c):
        for i in range(h * scale):
            for j in range(w * scale):
                on_grid = i % scale == 0 and j % scale == 0
                v = xl[ch][i // scale][j // scale] if mode == "nearest" or on_grid else 0
                out[ch, halo + i, halo + j], st = cast_status(v, config.in_t, config.out_t)
                _count(events, "out_overflow", st & OVERFLOW)
    return out


# ---- pooling: max_pool, avg_pool ------------------------------------------------------------------
# ``p``: in_channels, height, width, kernel_size, stride, padding, and relu (max_pool) or
# count_include_pad (avg_pool), every one given (the registry's geometry values).
def pool_output_size(p: dict) -> tuple[int, int, int]:
    """``(C, H_OUT, W_OUT)`` by PyTorch's MaxPool2d / AvgPool2d formula, ceil_mode off:
    floor((n + 2 * padding - kernel_size) / stride) + 1."""
    k, s, pad = p["kernel_size"], p["stride"], p["padding"]
    if not (1 <= k <= 4 and 1 <= s <= 4 and 0 <= 2 * pad <= k):
        raise ValueError(f"pool: parameter out of range: {p}")
    h, w = ((n + 2 * pad - k) // s + 1 for n in (p["height"], p["width"]))
    if h < 1 or w < 1:
        raise ValueError(f"pool: no output ({h} x {w}) for {p}")
    return p["in_channels"], h, w


def _pool_windows(p: dict, x: np.ndarray):  # noqa: ANN202 - iterator
    """``((c, oh, ow), values)`` for every output: the Python-int inputs under its window
    that lie inside the input, in (kh, kw) order."""
    c_n, h_out, w_out = pool_output_size(p)
    if x.shape != (c_n, p["height"], p["width"]):
        raise ValueError(f"input shape {x.shape} does not match {p}")
    k, s, pad = p["kernel_size"], p["stride"], p["padding"]
    xl = _ints(x)
    for c in range(c_n):
        for oh in range(h_out):
            for ow in range(w_out):
                vals = []
                for kh in range(k):
                    for kw in range(k):
                        i, j = oh * s - pad + kh, ow * s - pad + kw
                        if 0 <= i < p["height"] and 0 <= j < p["width"]:
                            vals.append(xl[c][i][j])
                yield (c, oh, ow), vals


def max_pool_values(p: dict, x: np.ndarray) -> np.ndarray:
    """The value each max_pool output converts: the largest input inside its window, then
    max(0, .) when a relu is fused (before or after: the same value). Python ints."""
    out = np.empty(pool_output_size(p), dtype=object)
    for idx, vals in _pool_windows(p, x):
        m = max(vals)
        out[idx] = max(m, 0) if p["relu"] != "none" else m
    return out


def max_pool_layer(p: dict, config: KernelConfig, x: np.ndarray,
                   events: dict | None = None) -> np.ndarray:
    """The max_pool kernel's raw out_t output, the fused relu applied in the order it names
    (before: on each input; after: on the max), then ``out_t(m)``."""
    if events is not None:
        for n in COUNTERS:
            events.setdefault(n, 0)
    out = np.empty(pool_output_size(p), dtype=object)
    for idx, vals in _pool_windows(p, x):
        if p["relu"] == "before":
            vals = [v if v >= 0 else 0 for v in vals]
        m = vals[0]
        for v in vals[1:]:
            if v > m:
                m = v
        if p["relu"] == "after" and m < 0:
            m = 0
        out[idx], st = cast_status(m, config.in_t, config.out_t)
        _count(events, "out_overflow", st & OVERFLOW)
    return out


def pool_divisor(p: dict, inside: int) -> int:
    """avg_pool's n: K*K with count_include_pad, else the taps inside the input."""
    return p["kernel_size"] ** 2 if p["count_include_pad"] else inside


def avg_pool_sums(p: dict, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(sums, n)``: the exact sum of the inputs inside each window and its divisor, Python
    ints (the exact mean is sums / n)."""
    shape = pool_output_size(p)
    sums, ns = np.empty(shape, dtype=object), np.empty(shape, dtype=object)
    for idx, vals in _pool_windows(p, x):
        sums[idx], ns[idx] = sum(vals), pool_divisor(p, len(vals))
    return sums, ns


def avg_pool_layer(p: dict, config: KernelConfig, x: np.ndarray,
                   events: dict | None = None) -> np.ndarray:
    """The avg_pool kernel's raw out_t output, as docs/kinds.md writes the C++:
    ``acc_t sum = 0; sum += in`` per tap inside (an ap_int acc_t adds an ap_fixed input as
    its to_ap_int_base() value, ap_int<max(I,1)> toward zero; otherwise the natural sum
    converted to acc_t), ``qd_t mean = sum * factor_t(1.0 / n)``, ``out_t(mean)``."""
    c = config
    if events is not None:
        for n in COUNTERS:
            events.setdefault(n, 0)
    step_t = c.in_t
    if c.acc_t.kind == "int" and c.in_t.kind == "fixed":
        step_t = Format("int", max(c.in_t.int_bits, 1), max(c.in_t.int_bits, 1), c.in_t.signed)
    prod_t = result_type("*", c.acc_t, c.factor_t)
    out = np.empty(pool_output_size(p), dtype=object)
    for idx, vals in _pool_windows(p, x):
        acc, over = 0, False
        for v in vals:
            if step_t is not c.in_t:
                v = cast(v, c.in_t, step_t)
            t, t_t = _add_raw(acc, c.acc_t, v, step_t)
            acc, st = cast_status(t, t_t, c.acc_t)
            over |= bool(st & OVERFLOW)
        _count(events, "acc_overflow", over)
        n = pool_divisor(p, len(vals))
        recip = int(c.factor_t.quantize(1.0 / n).raw)  # C++ factor_t(1.0 / n)
        mean, st = cast_status(acc * recip, prod_t, c.qd_t)
        _count(events, "qd_overflow", st & OVERFLOW)
        _count(events, "qd_rounded", st & INEXACT)
        out[idx], st = cast_status(mean, c.qd_t, c.out_t)
        _count(events, "out_overflow", st & OVERFLOW)
    return out


# ---- the merge kinds: add, concat ---------------------------------------------------------------
def add_layer(config: KernelConfig, x: np.ndarray, x2: np.ndarray, relu: bool,
              events: dict | None = None) -> np.ndarray:
    """add's raw out_t output: ``out_t(a + b)``, the C++ ``in_t + in2_t`` (aligned to the finer
    LSB, exact), ``max(0, .)`` first with relu; one element at a time."""
    if np.shape(x) != np.shape(x2):
        raise ValueError(f"add: shapes {np.shape(x)} and {np.shape(x2)} differ")
    if events is not None:
        for n in COUNTERS:
            events.setdefault(n, 0)
    out = np.zeros(np.shape(x), dtype=object)
    for idx in np.ndindex(*np.shape(x)):
        s, s_t = _add_raw(int(x[idx]), config.in_t, int(x2[idx]), config.in2_t)
        if relu and s < 0:
            s = 0
        out[idx], st = cast_status(s, s_t, config.out_t)
        _count(events, "out_overflow", st & OVERFLOW)
    return out


def concat_layer(config: KernelConfig, x: np.ndarray, x2: np.ndarray,
                 events: dict | None = None) -> np.ndarray:
    """concat's raw out_t output ``[C+C2][H][W]``: out_t(a) for the first C channels, then
    out_t(b)."""
    if np.shape(x)[1:] != np.shape(x2)[1:]:
        raise ValueError(f"concat: sizes {np.shape(x)} and {np.shape(x2)} differ")
    if events is not None:
        for n in COUNTERS:
            events.setdefault(n, 0)
    c1 = np.shape(x)[0]
    out = np.zeros((c1 + np.shape(x2)[0],) + tuple(np.shape(x)[1:]), dtype=object)
    for idx in np.ndindex(*out.shape):
        src, t = (x[idx], config.in_t) if idx[0] < c1 else (x2[(idx[0] - c1,) + idx[1:]], config.in2_t)
        out[idx], st = cast_status(int(src), t, config.out_t)
        _count(events, "out_overflow", st & OVERFLOW)
    return out
