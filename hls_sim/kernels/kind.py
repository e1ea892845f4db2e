"""What a kernel kind is, as data: :class:`Param`, :class:`TensorSpec`, :class:`Geometry`,
:class:`Kind`. The entries themselves live in :mod:`hls_sim.kernels.kinds` (the registry).

A :class:`Kind` says everything a consumer needs: the parameters a layer file may set (with
defaults and ranges), the tensors and their shapes for given parameters, the region of the
output the kernel writes, the exact sums of products (the ideal reference and the report's
stage model), the C++ template and header, whether it ends in the common epilogue, and how to
build its numba twin. Consumers never test a kind's name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

REQUIRED = object()  # a parameter without a default
ROLES = ("input", "input2", "weight", "bias", "factor", "top")
ALL_TYPES = ("in_t", "out_t", "weight_t", "bias_t", "factor_t", "acc_t", "qd_t", "sum_t")


@dataclass(frozen=True)
class Param:
    """One parameter of a kind, as a layer file's top-level key."""

    name: str
    doc: str
    default: Any = REQUIRED
    lo: int | None = None
    hi: int | None = None
    choices: tuple[str, ...] = ()
    number: bool = False  # a real number (finite), not an integer

    def check(self, v: Any) -> Any:
        """The validated value; ValueError with the reason otherwise."""
        if self.number:
            if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
                raise ValueError(f"expected a number, got {v!r}")
            if not np.isfinite(float(v)):
                raise ValueError(f"expected a finite number, got {v!r}")
            return float(v)
        if self.choices:
            if v not in self.choices:
                raise ValueError(f"expected one of {', '.join(self.choices)}, got {v!r}")
            return v
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise ValueError(f"expected an integer, got {v!r}")
        v = int(v)
        if self.lo is not None and v < self.lo or self.hi is not None and v > self.hi:
            rng = f"{self.lo}..{self.hi}" if self.hi is not None else f">= {self.lo}"
            raise ValueError(f"must be {rng}, got {v}")
        return v


@dataclass(frozen=True)
class TensorSpec:
    """One argument of the kernel: its role, its element type's name and its C++ name."""

    role: str  # input | input2 | weight | bias | factor | top
    type_name: str  # in_t, weight_t, ...
    cpp_arg: str
    direction: str  # in | out | inout (the seed kinds' top: the kernel writes a region)
    doc: str


@dataclass(frozen=True)
class Geometry:
    """A kind's parameters, validated, with every shape they imply. Hashable: it is part of
    the key of a compiled kernel."""

    kind: str
    values: tuple[tuple[str, Any], ...]
    shapes: tuple[tuple[str, tuple[int, ...]], ...]
    written: tuple[tuple[int, int], ...]  # [start, stop) per axis of top

    def __getitem__(self, name: str) -> Any:
        return dict(self.values)[name]

    def get(self, name: str, default: Any = None) -> Any:
        return dict(self.values).get(name, default)

    def shape(self, role: str) -> tuple[int, ...]:
        return dict(self.shapes)[role]

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.values)

    @property
    def region(self) -> tuple[slice, ...]:
        """Index of the outputs the kernel writes, in ``top``."""
        return tuple(slice(a, b) for a, b in self.written)

    @property
    def out_channels(self) -> int:
        a, b = self.written[0]
        return b - a

    @property
    def written_shape(self) -> tuple[int, ...]:
        return tuple(b - a for a, b in self.written)


@dataclass(frozen=True)
class ConvForm:
    """How a kind with weights runs as a conv2d (the report's stage model and advice, the
    traits struct's wide_t): a deconvolution runs on the zero-inserted input with the
    flipped weight, a linear layer as a 1x1 convolution of a 1x1 map."""

    geometry: Callable[["Geometry"], "Geometry"]
    """the conv2d geometry the kind runs as"""
    operands: Callable[["Geometry", Any, Any], tuple[Any, Any]]
    """``(geom, x, w) -> (x, w)`` in that conv2d's layout (either may be None)"""
    scale_weight: Callable[["Geometry", np.ndarray, np.ndarray], np.ndarray]
    """``(geom, w, per_out) -> w`` with each output channel's weights times ``per_out[co]``,
    in the kind's own weight layout"""


def _identity_operands(geom: "Geometry", x: Any, w: Any) -> tuple[Any, Any]:
    return x, w


def _scale_axis0(geom: "Geometry", w: np.ndarray, per_out: np.ndarray) -> np.ndarray:
    return per_out.reshape((-1,) + (1,) * (np.ndim(w) - 1)) * w


IDENTITY_CONV = ConvForm(lambda geom: geom, _identity_operands, _scale_axis0)


@dataclass(frozen=True)
class Reach:
    """Which inputs an output reads along each spatial axis (the same for both), for tiling
    (hls_sim.schedule): what a tile of outputs needs from its neighbours and the border.

    ``up`` False (convolution, pooling, merges): output o reads inputs o*S - P + j,
    0 <= j < E (E = D(K-1) + 1). ``up`` True (deconvolution, upsampling): output o reads the
    inputs i with o = i*S - P + j, 0 <= j < E. Inputs outside the map read as ``fill``: 0,
    or ``min`` (in_t's smallest value: a max over it never changes)."""

    up: bool
    s: int
    e: int
    p: int
    call: tuple[tuple[str, Any], ...]
    """the parameters of a tile's kernel call that differ from the layer's (padding 0, ...):
    a tile's window is padded already, with neighbours' inputs and the border's fill"""
    channels: str = "depthwise"
    """how output channels read input channels: depthwise (channel c reads c), grouped (the
    groups of a convolution), none (the channels cannot be split: concat)"""
    fill: str = "zero"
    weight: Callable | None = None
    """``(w, co, ci) -> w``: the weight of a tile's call that computes output channels ``co``
    (a slice) from input channels ``ci`` (a slice), in the kind's own layout"""


@dataclass(frozen=True)
class Kind:
    """One kernel kind: everything about it that hls-sim's consumers ask."""

    name: str
    doc: str
    cpp_function: str  # the C++ template called with the layer's traits struct
    cpp_header: str  # under kernels/
    params: tuple[Param, ...]
    tensors: tuple[TensorSpec, ...]
    resolve: Callable[[dict], tuple[dict[str, tuple[int, ...]], tuple[tuple[int, int], ...]]]
    """validated parameters -> (shape per role, written region of top); ValueError
    ``"FIELD: reason"`` for combinations the kind cannot compute."""
    sums: Callable[..., np.ndarray]
    """``(geom, x, y, config=None)``: the exact sums of products of every written output
    (integers in, integers out; floats work too, for the float model); ``y`` is the weight, or
    a merge kind's second input. For a kind without the epilogue: the values it converts to
    out_t, as raws of :attr:`moved_type`. ``config`` (None: the defaults) matters only where
    the inputs' types must be aligned (add, concat)."""
    build: Callable
    """``build(plan, geometry, jit)``: the compiled twin (see hls_sim.kernels.common)."""
    epilogue: bool = True  # ends in bias + quant_dequant + activation
    seed: bool = False  # one of the seed's fixed-buffer kernels
    legacy_cpp: str = ""  # the seed's non-template function (global hls_config.h typedefs)
    intermediates: Callable = field(default=lambda plan, geom: ())
    """``(plan, geometry) -> Formats`` of the exact intermediate values the twin holds in
    int64 (beyond the Plan's own): they decide between the int64 and the exact path."""
    total_type: Callable = field(default=lambda plan, geom: plan.engine_t)
    """``(plan, geometry) -> Format`` of the exact sum before the accumulator."""
    note: Callable = field(default=lambda layer: None)
    """``layer -> str | None``: a remark ``hls-sim run`` prints (e.g. the seed's asymmetry)."""
    tile_note: str = ""
    """a seed kind fed a [16][32][64] tile padded into its buffer: what it then reads amiss
    (conv1x1 the halo's first row and column); "" where nothing is"""
    types: tuple[str, ...] = ALL_TYPES
    """the KernelConfig type names the kind's C++ uses (its traits struct's typedefs)"""
    traits: Callable = field(default=lambda geom, config: [])
    """``(geom, config) -> [(name, value, comment)]``: the kind's integer members of the traits
    struct (sizes, parameters, switches), beyond the ones every kind with an epilogue has"""
    extra_types: Callable = field(default=lambda plan, geom: [])
    """``(plan, geom) -> [(name, Format)]``: typedefs the traits struct needs beyond
    ``types`` (e.g. wide_t), derived by hls-sim, not set by the user"""
    conv: ConvForm | None = None
    """how the kind runs as a conv2d (None: it does not, e.g. the seed kinds, data movers)"""
    conversions: tuple[tuple[str, str, str, str], ...] = ()
    """a kind without the epilogue: its conversions, ``(counter, type name, what, stage)``
    (the report's table; the counter is one of hls_kernels.COUNTER_NAMES)"""
    reference_doc: str = "the exact sums of products"
    """what :attr:`sums` is, in words (the report's reference line)"""
    input_dims: tuple[str, ...] = ("in_channels", "height", "width")
    """the parameters a layer file may leave out and take from its input file's shape"""
    cpp_shape: Callable = field(default=lambda role, shape: shape)
    """``(role, shape) -> shape`` of the C++ array (linear: ``[C]`` for hls-sim's ``[C][1][1]``)"""
    moved_type: Callable = field(default=lambda config: config.in_t)
    """``config -> Format``: a kind without the epilogue: the type whose raw units
    :attr:`sums` returns"""
    input2_dims: tuple[str, ...] = ()
    """a merge kind: the parameters its second input file's shape gives (or must agree with)"""
    reach: Callable = field(default=lambda geom: None)
    """``geom -> Reach | None``: how the kind's outputs read its inputs, for tiling (None:
    the layer runs as one tile, e.g. linear, or avg_pool's border divisors)"""
    uses_engine: Callable = field(default=lambda geom: False)
    """``geom -> bool``: whether the kernel sums its products with compute_engine_16 (then
    product_t / tree_t may set the engine's types)"""
    fused_relu: tuple[str, Any, Any] | None = None
    """``(parameter, without, with)``: a relu right after the layer folds into it by setting
    the parameter from ``without`` to ``with`` (an importer's fold); None: it cannot"""

    def engine_types_problem(self, geom: Geometry, config: Any) -> tuple[str, str] | None:
        """``(type name, reason)`` when ``config`` sets product_t / tree_t for a layer that
        does not call compute_engine_16 (None: fine)."""
        for n in ("product_t", "tree_t"):
            if getattr(config, n, None) is not None and not self.uses_engine(geom):
                how = (f"accumulate: {geom.get('accumulate')} adds products one by one"
                       if geom.get("accumulate") else f"kind {self.name} has no adder tree")
                return n, (f"sets compute_engine_16's types, but this layer does not call it "
                           f"({how}; only conv1x1 and accumulate: group do)")
        return None

    @property
    def file_dims(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """``(role, parameter names)`` for each input whose file's shape gives parameters."""
        return (("input", self.input_dims),) + ((("input2", self.input2_dims),)
                                                 if self.input2_dims else ())

    def tensor(self, role: str) -> TensorSpec:
        for t in self.tensors:
            if t.role == role:
                return t
        raise KeyError(role)

    def has(self, role: str) -> bool:
        return any(t.role == role for t in self.tensors)

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    def geometry(self, params: dict | None = None) -> Geometry:
        """Validate ``params`` (defaults filled in) and resolve the shapes they imply.

        Raises ValueError ``"NAME: reason"`` naming the parameter at fault.
        """
        given = dict(params or {})
        unknown = sorted(set(given) - set(self.param_names))
        if unknown:
            raise ValueError(f"{unknown[0]}: not a parameter of kind {self.name}"
                             + (f" (it has: {', '.join(self.param_names)})" if self.params
                                else " (it has none)"))
        values: dict[str, Any] = {}
        for p in self.params:
            if p.name in given and given[p.name] is not None:
                try:
                    values[p.name] = p.check(given[p.name])
                except ValueError as e:
                    raise ValueError(f"{p.name}: {e}") from None
            elif p.default is REQUIRED:
                raise ValueError(f"{p.name}: missing ({p.doc})")
            else:
                values[p.name] = p.default
        shapes, written = self.resolve(values)
        return Geometry(self.name, tuple(values.items()), tuple(shapes.items()), written)
