"""The kernel registry: one :class:`~hls_sim.kernels.kind.Kind` entry per kernel kind.

    from hls_sim.kernels.kinds import KINDS, get_kind
    kind = get_kind("conv_transpose")
    geom = kind.geometry({"in_channels": 16, "height": 16, "width": 32, "out_channels": 16,
                          "kernel_size": 3, "stride": 2, "padding": 1, "output_padding": 1})
    geom.shape("top")            # (16, 32, 64)
    kind.sums(geom, x, w)        # the exact sums of products of every output

Every consumer (layer files, the runner, the reference, the report, golden vectors, csim, the
tests and the benchmarks) asks this registry; docs/kinds.md is the semantics of each entry.
Adding a kind means: its C++ template in kernels/, its twin module here, one entry below.
"""

from __future__ import annotations

from hls_sim.kernels import conv2d as _c2, conv_transpose as _ct, linear as _li, merge as _mg
from hls_sim.kernels import upsample as _up
from hls_sim.kernels.conv1x1 import build as _conv1x1_build
from hls_sim.kernels.dw_conv3x3 import build as _dw_build
from hls_sim.kernels.kind import (IDENTITY_CONV, REQUIRED, ConvForm, Geometry, Kind, Param, Reach,
                                  TensorSpec)

MAX_DIM = 4096
MAX_ELEMENTS = 1 << 26  # per tensor: a layer, not a dataset


def _untyped(sums):  # noqa: ANN001, ANN202 - a kind's sums that need no types
    return lambda geom, x, y=None, config=None: sums(geom, x, y)


def get_kind(name: str) -> Kind:
    """The registry entry of ``name``; ValueError naming the known kinds otherwise."""
    if not isinstance(name, str) or name not in KINDS:
        raise ValueError(f"unknown kernel kind {name!r}; expected one of {', '.join(KINDS)}")
    return KINDS[name]


# ---- the seed pair: fixed [16][34][66] buffers -------------------------------------------------
_SEED_BUFFER = (16, 34, 66)


def _seed_tensors(weight_doc: str) -> tuple[TensorSpec, ...]:
    return (TensorSpec("input", "in_t", "bottom", "in", "the padded buffer [16][34][66]"),
            TensorSpec("top", "out_t", "top", "inout", "the padded buffer [16][34][66]; the "
                                                       "kernel writes a region of it"),
            TensorSpec("weight", "weight_t", "weight", "in", weight_doc),
            TensorSpec("bias", "bias_t", "bias", "in", "[16]"),
            TensorSpec("factor", "factor_t", "factor", "in", "one, or [16] per channel"))


def _seed_resolve(weight: tuple[int, ...], h0: int):  # noqa: ANN202
    def resolve(values: dict):  # noqa: ANN202
        shapes = {"input": _SEED_BUFFER, "top": _SEED_BUFFER, "weight": weight, "bias": (16,)}
        return shapes, ((0, 16), (h0, h0 + 32), (h0, h0 + 64))
    return resolve


_CONV1X1_TILE = ("conv1x1 reads bottom h 0..31, w 0..63: with a padded tile it sees the zero "
                 "halo's first row and column, not the tile's last ones")


def _tile_note(layer) -> str | None:  # noqa: ANN001
    """The kind's tile_note, for a layer whose input is a padded tile."""
    if "tile" not in layer.sources.get("input", ""):
        return None
    return layer.spec.tile_note or None


CONV1X1 = Kind(
    name="conv1x1", doc="the seed's pointwise 1x1 convolution, 16 -> 16 channels, one 32x64 tile",
    cpp_function="conv1x1_layer", cpp_header="conv1x1.h", legacy_cpp="conv1x1", params=(),
    tensors=_seed_tensors("[16][16], weight[coo][ci]"), resolve=_seed_resolve((16, 16), 0),
    sums=lambda geom, x, w, config=None: _reference().conv1x1_sums(x, w),
    build=lambda plan, geom, jit: _conv1x1_build(plan, jit),
    seed=True, total_type=lambda plan, geom: plan.engine_t, note=_tile_note,
    tile_note=_CONV1X1_TILE,
    uses_engine=lambda geom: True)

DW_CONV3X3 = Kind(
    name="dw_conv3x3", doc="the seed's depthwise 3x3 convolution (DW_CONV_3x3), one 32x64 tile",
    cpp_function="dw_conv3x3_layer", cpp_header="dw_conv3x3.h", legacy_cpp="DW_CONV_3x3",
    params=(), tensors=_seed_tensors("[16][3][3]"), resolve=_seed_resolve((16, 3, 3), 1),
    sums=lambda geom, x, w, config=None: _reference().dw_conv3x3_sums(x, w),
    build=lambda plan, geom, jit: _dw_build(plan, jit),
    seed=True, total_type=lambda plan, geom: plan.chain9_t)


def _reference():  # noqa: ANN202 - the module (imported late: it imports this registry)
    from hls_sim import reference

    return reference


# ---- whole feature maps --------------------------------------------------------------------
def _map_params(out: bool = True) -> tuple[Param, ...]:
    ps = (Param("in_channels", "input channels; read from the input file when left out", None, 1, MAX_DIM),
          Param("height", "input height; read from the input file when left out", None, 1, MAX_DIM),
          Param("width", "input width; read from the input file when left out", None, 1, MAX_DIM))
    if out:
        ps += (Param("out_channels", "output channels (default: in_channels)", None, 1, MAX_DIM),)
    return ps


def _conv_params(transpose: bool) -> tuple[Param, ...]:
    ps = _map_params() + (
        Param("kernel_size", "K: the kernel is K x K", REQUIRED, 1, 7),
        Param("stride", "S", 1, 1, 4),
        Param("padding", "P: zero padding on every side" if not transpose else
              "P: PyTorch's padding (the zero-inserted map is padded by dilation*(K-1) - P)", 0, 0, 28),
    )
    if transpose:
        ps += (Param("output_padding", "extra rows and columns at the bottom and right "
                                       "(below max(stride, dilation))", 0, 0, 3),)
    return ps + (
        Param("dilation", "D", 1, 1, 4),
        Param("groups", "G: divides both channel counts; = channels for depthwise", 1, 1, MAX_DIM),
        Param("accumulate", "how products reach acc_t: group (one conversion per "
                            "compute_engine_16 call), exact (one conversion of the exact total), "
                            "tap (one per product)", "group", choices=_c2.ACCUMULATE),
        Param("activation", "relu (clipped at max(out_t) when relu_clip), none, or clip "
                            "(relu6-style: 0 below 0, clip_at above it)", "relu",
              choices=_c2.ACTIVATIONS),
        Param("clip_at", "activation: clip: the value to clip at, in out_t's units (6 for relu6)",
              None, number=True),
    )


def _map_in(v: dict) -> tuple[int, int, int]:
    for n in ("in_channels", "height", "width"):
        if v[n] is None:
            raise ValueError(f"{n}: missing (give it, or an input file to read it from)")
    return v["in_channels"], v["height"], v["width"]


def _check_size(role: str, shape: tuple[int, ...]) -> None:
    n = 1
    for d in shape:
        n *= d
    if n > MAX_ELEMENTS:
        raise ValueError(f"{role}: {list(shape)} has {n} elements, more than the {MAX_ELEMENTS} "
                         "one layer may hold")


def _activation(v: dict) -> None:
    clip = v["activation"] == "clip"
    if clip and v["clip_at"] is None:
        raise ValueError("clip_at: missing (activation: clip needs the value to clip at, in "
                         "out_t's units, e.g. 6 for relu6)")
    if not clip and v["clip_at"] is not None:
        raise ValueError(f"clip_at: only for activation: clip (activation is {v['activation']})")
    if clip and not v["clip_at"] > 0:
        raise ValueError(f"clip_at: must be above 0, got {v['clip_at']!r}")


def _groups(v: dict, ci: int, co: int) -> int:
    g = v["groups"]
    if ci % g or co % g:
        raise ValueError(f"groups: {g} must divide in_channels ({ci}) and out_channels ({co})")
    return g


def _conv2d_resolve(v: dict):  # noqa: ANN202
    ci, h, w = _map_in(v)
    co = v["out_channels"] = v["out_channels"] or ci
    g = _groups(v, ci, co)
    _activation(v)
    k, s, p, d = v["kernel_size"], v["stride"], v["padding"], v["dilation"]
    ho, wo = _c2.out_size(h, k, s, p, d), _c2.out_size(w, k, s, p, d)
    if ho < 1 or wo < 1:
        raise ValueError(f"kernel_size: a {k}x{k} kernel with dilation {d} does not fit the "
                         f"{h}x{w} input padded by {p} (the output would be {ho}x{wo})")
    shapes = {"input": (ci, h, w), "top": (co, ho, wo), "weight": (co, ci // g, k, k), "bias": (co,)}
    for r, sh in shapes.items():
        _check_size(r, sh)
    return shapes, ((0, co), (0, ho), (0, wo))


def _conv_transpose_resolve(v: dict):  # noqa: ANN202
    ci, h, w = _map_in(v)
    co = v["out_channels"] = v["out_channels"] or ci
    g = _groups(v, ci, co)
    _activation(v)
    k, s, p, d, op = v["kernel_size"], v["stride"], v["padding"], v["dilation"], v["output_padding"]
    if p > d * (k - 1):
        raise ValueError(f"padding: {p} is more than dilation*(kernel_size-1) = {d * (k - 1)}: the "
                         "zero-inserted map would need negative padding, which the hardware "
                         "cannot do")
    if op >= max(s, d):
        raise ValueError(f"output_padding: {op} must be smaller than stride ({s}) or dilation "
                         f"({d}), as PyTorch requires")
    ho, wo = _ct.out_size(h, k, s, p, d, op), _ct.out_size(w, k, s, p, d, op)
    if ho < 1 or wo < 1:
        raise ValueError(f"padding: the output would be {ho}x{wo}")
    shapes = {"input": (ci, h, w), "top": (co, ho, wo), "weight": (ci, co // g, k, k), "bias": (co,)}
    hz, wz = (h - 1) * s + 1 + 2 * (d * (k - 1) - p) + op, (w - 1) * s + 1 + 2 * (d * (k - 1) - p) + op
    for r, sh in {**shapes, "zero-inserted input": (ci, hz, wz)}.items():
        _check_size(r, sh)
    return shapes, ((0, co), (0, ho), (0, wo))


def _upsample_resolve(v: dict):  # noqa: ANN202
    c, h, w = _map_in(v)
    f, halo = v["scale"], v["halo"]
    shapes = {"input": (c, h, w), "top": (c, h * f + 2 * halo, w * f + 2 * halo)}
    for r, sh in shapes.items():
        _check_size(r, sh)
    return shapes, ((0, c), (0, shapes["top"][1]), (0, shapes["top"][2]))


def _map_tensors(weight_doc: str) -> tuple[TensorSpec, ...]:
    return (TensorSpec("input", "in_t", "in", "in", "the feature map [C_IN][H][W]"),
            TensorSpec("top", "out_t", "out", "out", "the output [C_OUT][H_OUT][W_OUT], all written"),
            TensorSpec("weight", "weight_t", "weight", "in", weight_doc),
            TensorSpec("bias", "bias_t", "bias", "in", "[C_OUT]"),
            TensorSpec("factor", "factor_t", "factor", "in", "one, or [C_OUT] per channel"))


def map_traits(geom: Geometry) -> list[tuple[str, int, str]]:
    """The traits members of a kind on whole maps: C_IN, C_OUT, H, W, H_OUT, W_OUT."""
    ci, h, w = geom.shape("input")
    co, ho, wo = geom.shape("top")
    return [("C_IN", ci, ""), ("C_OUT", co, ""), ("H", h, ""), ("W", w, ""),
            ("H_OUT", ho, ""), ("W_OUT", wo, "")]


def _conv_traits(geom: Geometry, config) -> list[tuple[str, int, str]]:  # noqa: ANN001
    acc = geom["accumulate"]
    return map_traits(geom) + [
        ("K", geom["kernel_size"], ""), ("S", geom["stride"], ""), ("P", geom["padding"], ""),
        ("D", geom["dilation"], ""), ("G", geom["groups"], ""),
        ("OUT_PAD", geom.get("output_padding", 0), ""),
        ("ACCUMULATE", _c2.ACCUMULATE.index(acc), f"HLS_SIM_ACC_{acc.upper()}")]


def _conv_extra_types(conv: ConvForm):  # noqa: ANN202
    return lambda plan, geom: [("wide_t", _c2.wide_type(plan, conv.geometry(geom)))]


def _group_mode(geom: Geometry) -> bool:
    return geom["accumulate"] == "group"


_DECONV = ConvForm(_ct.as_conv, _ct.operands, _ct.scale_weight)


def _extent(geom: Geometry) -> int:
    return geom["dilation"] * (geom["kernel_size"] - 1) + 1


def _conv2d_reach(geom: Geometry) -> Reach:
    return Reach(False, geom["stride"], _extent(geom), geom["padding"], (("padding", 0),),
                 "grouped", weight=lambda w, co, ci: w[co])


def _deconv_reach(geom: Geometry) -> Reach:
    whole_groups = geom["groups"] > 1  # a tile's channels are whole groups: all of axis 1
    return Reach(True, geom["stride"], _extent(geom), geom["padding"],
                 (("padding", 0), ("output_padding", 0)), "grouped",
                 weight=lambda w, co, ci: w[ci, :] if whole_groups else w[ci, co])

_ACTIVATION_RELU = ("activation", "none", "relu")  # the kinds with weights: their activation

CONV2D = Kind(
    name="conv2d", doc="PyTorch Conv2d: K x K, stride, zero padding, dilation, groups",
    cpp_function="conv2d", cpp_header="conv2d.h", params=_conv_params(False),
    tensors=_map_tensors("[C_OUT][C_IN/G][K][K]"), resolve=_conv2d_resolve, sums=_untyped(_c2.sums),
    build=_c2.build, intermediates=_c2.intermediates, total_type=_c2.total_type,
    traits=_conv_traits, extra_types=_conv_extra_types(IDENTITY_CONV), conv=IDENTITY_CONV,
    uses_engine=_group_mode, reach=_conv2d_reach, fused_relu=_ACTIVATION_RELU)

CONV_TRANSPOSE = Kind(
    name="conv_transpose", doc="PyTorch ConvTranspose2d, as zero insertion + a flipped-kernel conv2d",
    cpp_function="conv_transpose", cpp_header="conv_transpose.h", params=_conv_params(True),
    tensors=_map_tensors("[C_IN][C_OUT/G][K][K] (PyTorch's layout)"),
    resolve=_conv_transpose_resolve, sums=_untyped(_ct.sums), build=_ct.build,
    intermediates=_ct.intermediates, total_type=_ct.total_type,
    traits=_conv_traits, extra_types=_conv_extra_types(_DECONV), conv=_DECONV,
    uses_engine=_group_mode, reach=_deconv_reach, fused_relu=_ACTIVATION_RELU)

UPSAMPLE = Kind(
    name="upsample", doc="nearest-neighbour upsampling or zero insertion (a data mover)",
    cpp_function="upsample", cpp_header="upsample.h",
    params=_map_params(out=False) + (
        Param("scale", "F: each pixel becomes an F x F cell", REQUIRED, 2, 4),
        Param("mode", "nearest (repeat the pixel) or zeros (the pixel, then zeros)", "nearest",
              choices=_up.MODES),
        Param("halo", "a zero border of this many pixels around the output", 0, 0, 1)),
    tensors=(TensorSpec("input", "in_t", "in", "in", "the feature map [C][H][W]"),
             TensorSpec("top", "out_t", "out", "out", "[C][H*F+2*HALO][W*F+2*HALO], all written")),
    resolve=_upsample_resolve, sums=_untyped(_up.sums), build=_up.build, epilogue=False,
    total_type=lambda plan, geom: plan.config.in_t, types=("in_t", "out_t"),
    traits=lambda geom, config: map_traits(geom) + [
        ("F", geom["scale"], ""), ("HALO", geom["halo"], ""),
        ("MODE", _up.MODES.index(geom["mode"]), f"HLS_SIM_UP_{geom['mode'].upper()}")],
    conversions=(("out_overflow", "out_t", "the conversion out_t(in_t value)", "out"),),
    reference_doc="the input values moved (zeros where the kind inserts them)",
    reach=lambda geom: Reach(True, geom["scale"], geom["scale"], -geom["halo"], (("halo", 0),)))

# ---- pooling: max_pool, avg_pool (kernels/pool.h, hls_sim/kernels/pool.py) ---------------------
from hls_sim.kernels import pool as _pool  # noqa: E402


def _pool_params(extra: tuple[Param, ...]) -> tuple[Param, ...]:
    return _map_params(out=False) + (
        Param("kernel_size", "K: the window is K x K", REQUIRED, 1, _pool.MAX_K),
        Param("stride", "S (default: kernel_size, as PyTorch)", None, 1, 4),
        Param("padding", "P on every side, at most kernel_size // 2 (PyTorch's rule); taps "
                         "outside the input never win a max and add nothing to a sum", 0, 0,
              _pool.MAX_K // 2),
    ) + extra


def _pool_resolve(v: dict):  # noqa: ANN202
    c, h, w = _map_in(v)
    k, s, p = _pool.resolve_window(v)
    ho, wo = _pool.out_size(h, k, s, p), _pool.out_size(w, k, s, p)
    if ho < 1 or wo < 1:
        raise ValueError(f"kernel_size: a {k}x{k} window does not fit the {h}x{w} input padded "
                         f"by {p} (the output would be {ho}x{wo})")
    shapes = {"input": (c, h, w), "top": (c, ho, wo)}
    for r, sh in shapes.items():
        _check_size(r, sh)
    return shapes, ((0, c), (0, ho), (0, wo))


def _pool_tensors() -> tuple[TensorSpec, ...]:
    return (TensorSpec("input", "in_t", "in", "in", "the feature map [C][H][W]"),
            TensorSpec("top", "out_t", "out", "out", "[C][H_OUT][W_OUT], all written"))


MAX_POOL = Kind(
    name="max_pool", doc="PyTorch MaxPool2d (ceil_mode off), with an optional fused relu",
    cpp_function="max_pool", cpp_header="pool.h",
    params=_pool_params((Param("relu", "fused relu: none, before (on each input, then the max: "
                                       "Relu_Max_Pooling) or after (on the max); before and "
                                       "after agree bit for bit", "none", choices=_pool.RELU),)),
    tensors=_pool_tensors(), resolve=_pool_resolve, sums=_untyped(_pool.max_sums), build=_pool.build_max,
    epilogue=False, total_type=lambda plan, geom: plan.config.in_t, types=("in_t", "out_t"),
    traits=_pool.max_traits,
    conversions=(("out_overflow", "out_t", "the conversion out_t(in_t max)", "out"),),
    reference_doc="the window's maximum (after the fused relu)",
    reach=lambda geom: Reach(False, geom["stride"], geom["kernel_size"], geom["padding"],
                             (("padding", 0),), fill="min"),
    fused_relu=("relu", "none", "after"))

def _avg_pool_reach(geom: Geometry) -> Reach | None:
    if geom["padding"] and not geom["count_include_pad"]:
        return None  # a border window's divisor counts its taps inside the map
    return Reach(False, geom["stride"], geom["kernel_size"], geom["padding"], (("padding", 0),))


AVG_POOL = Kind(
    name="avg_pool", doc="PyTorch AvgPool2d (ceil_mode off): sum in acc_t, times factor_t(1.0/n)",
    cpp_function="avg_pool", cpp_header="pool.h",
    params=_pool_params((_pool.Flag("count_include_pad", "true: divide by K*K (PyTorch's "
                                                         "default); false: by the taps inside "
                                                         "the input", True),)),
    tensors=_pool_tensors(), resolve=_pool_resolve, sums=_untyped(_pool.avg_sums), build=_pool.build_avg,
    epilogue=False, intermediates=_pool.avg_intermediates,
    total_type=lambda plan, geom: _pool.avg_types(plan)[1],
    types=("in_t", "acc_t", "factor_t", "qd_t", "out_t"), traits=_pool.avg_traits,
    note=_pool.avg_note,
    conversions=(("acc_overflow", "acc_t", "the running sum acc_t += in_t", "acc"),
                 ("qd_overflow", "qd_t", "the mean qd_t(sum * factor_t(1.0 / n))", "qd"),
                 ("out_overflow", "out_t", "the conversion out_t(qd_t mean)", "out")),
    reference_doc="the window's exact mean (sum of its inputs / n)",
    reach=_avg_pool_reach)

def _linear_resolve(v: dict):  # noqa: ANN202
    if v["in_features"] is None:
        raise ValueError("in_features: missing (give it, or an input file to read it from)")
    ci = v["in_features"]
    co = v["out_features"] = v["out_features"] or ci
    _activation(v)
    shapes = {"input": (ci, 1, 1), "top": (co, 1, 1), "weight": (co, ci), "bias": (co,)}
    for r, sh in shapes.items():
        _check_size(r, sh)
    return shapes, ((0, co), (0, 1), (0, 1))


_LINEAR_CONV = ConvForm(_li.as_conv, _li.operands,
                        lambda geom, w, per_out: per_out.reshape(-1, 1) * w)

LINEAR = Kind(
    name="linear", doc="PyTorch Linear on compute_engine_16 (a 1x1 convolution of a 1x1 map)",
    cpp_function="linear", cpp_header="linear.h",
    params=(Param("in_features", "input features; read from the input file when left out", None, 1,
                  MAX_DIM * 16),
            Param("out_features", "output features (default: in_features)", None, 1, MAX_DIM * 16))
    + tuple(p for p in _conv_params(False) if p.name in ("accumulate", "activation", "clip_at")),
    tensors=(TensorSpec("input", "in_t", "in", "in", "the input vector [C_IN] (also as [C_IN][1][1])"),
             TensorSpec("top", "out_t", "out", "out", "the output [C_OUT] (hls-sim holds it as [C_OUT][1][1])"),
             TensorSpec("weight", "weight_t", "weight", "in", "[C_OUT][C_IN] (PyTorch's layout)"),
             TensorSpec("bias", "bias_t", "bias", "in", "[C_OUT]"),
             TensorSpec("factor", "factor_t", "factor", "in", "one, or [C_OUT] per channel")),
    resolve=_linear_resolve, sums=_untyped(_li.sums), build=_li.build, intermediates=_li.intermediates,
    total_type=_li.total_type,
    traits=lambda geom, config: [
        ("C_IN", geom["in_features"], ""), ("C_OUT", geom["out_features"], ""),
        ("ACCUMULATE", _c2.ACCUMULATE.index(geom["accumulate"]),
         f"HLS_SIM_ACC_{geom['accumulate'].upper()}")],
    extra_types=_conv_extra_types(_LINEAR_CONV), conv=_LINEAR_CONV, uses_engine=_group_mode,
    input_dims=("in_features",),
    cpp_shape=lambda role, shape: shape[:1] if role in ("input", "top") else shape,
    fused_relu=_ACTIVATION_RELU)


# ---- the merge layers of skip connections: add, concat (kernels/merge.h, merge.py) -------------
def _add_resolve(v: dict):  # noqa: ANN202
    c, h, w = _map_in(v)
    shapes = {"input": (c, h, w), "input2": (c, h, w), "top": (c, h, w)}
    for r, sh in shapes.items():
        _check_size(r, sh)
    return shapes, ((0, c), (0, h), (0, w))


def _concat_resolve(v: dict):  # noqa: ANN202
    c, h, w = _map_in(v)
    if v["in2_channels"] is None:
        raise ValueError("in2_channels: missing (give it, or an input2 file to read it from)")
    c2 = v["in2_channels"]
    shapes = {"input": (c, h, w), "input2": (c2, h, w), "top": (c + c2, h, w)}
    for r, sh in shapes.items():
        _check_size(r, sh)
    return shapes, ((0, c + c2), (0, h), (0, w))


def _merge_traits(geom: Geometry, config) -> list[tuple[str, int, str]]:  # noqa: ANN001
    extra = [("RELU", int(geom["relu"]), "")] if "relu" in geom.params else []
    return map_traits(geom) + [("C_IN2", geom.shape("input2")[0], "")] + extra


def _merge_intermediates(plan, geom: Geometry):  # noqa: ANN001, ANN202
    return (plan.config.in2_t, _mg.sum_type(plan.config))


ADD = Kind(
    name="add", doc="elementwise add of two feature maps (a residual merge), with an optional relu",
    cpp_function="add", cpp_header="merge.h",
    params=_map_params(out=False) + (
        _pool.Flag("relu", "true: out_t(max(0, a + b)), the residual block's relu fused", False),),
    tensors=(TensorSpec("input", "in_t", "in", "in", "the first map [C][H][W]"),
             TensorSpec("input2", "in2_t", "in2", "in", "the second map [C][H][W], of in2_t"),
             TensorSpec("top", "out_t", "out", "out", "[C][H][W], all written")),
    resolve=_add_resolve, sums=_mg.add_sums, build=_mg.build_add, epilogue=False,
    intermediates=_merge_intermediates, types=("in_t", "in2_t", "out_t"), traits=_merge_traits,
    moved_type=_mg.sum_type, input2_dims=("in_channels", "height", "width"),
    conversions=(("out_overflow", "out_t", "the conversion out_t(in_t + in2_t)", "out"),),
    reference_doc="the exact sum of the two inputs (after the fused relu)",
    reach=lambda geom: Reach(False, 1, 1, 0, ()), fused_relu=("relu", False, True))

CONCAT = Kind(
    name="concat", doc="channel concatenation of two feature maps (a U-Net skip merge)",
    cpp_function="concat", cpp_header="merge.h",
    params=_map_params(out=False) + (
        Param("in2_channels", "the second input's channels; read from its file when left out",
              None, 1, MAX_DIM),),
    tensors=(TensorSpec("input", "in_t", "in", "in", "the first map [C][H][W]: channels 0..C-1"),
             TensorSpec("input2", "in2_t", "in2", "in", "the second map [C2][H][W], of in2_t: "
                                                       "channels C..C+C2-1"),
             TensorSpec("top", "out_t", "out", "out", "[C+C2][H][W], all written")),
    resolve=_concat_resolve, sums=_mg.concat_sums, build=_mg.build_concat, epilogue=False,
    intermediates=_merge_intermediates, types=("in_t", "in2_t", "out_t"), traits=_merge_traits,
    moved_type=_mg.sum_type, input2_dims=("in2_channels", "height", "width"),
    conversions=(("out_overflow", "out_t", "the conversions out_t(in_t), out_t(in2_t)", "out"),),
    reference_doc="the two inputs' values, stacked along channels",
    reach=lambda geom: Reach(False, 1, 1, 0, (), "none"))

KINDS: dict[str, Kind] = {k.name: k for k in (CONV1X1, DW_CONV3X3, CONV2D, CONV_TRANSPOSE, UPSAMPLE,
                                              LINEAR, MAX_POOL, AVG_POOL, ADD, CONCAT)}

__all__ = ["KINDS", "Geometry", "Kind", "get_kind"]
