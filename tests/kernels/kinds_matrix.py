"""The case matrix of the kinds on whole feature maps (conv2d, conv_transpose, upsample).

Shared by the oracle tier (tests/kernels/test_kinds.py: the numba twin against
tests/kernels/naive.py) and the g++ tier (tests/kernels/test_kinds_cxx.py: the C++ templates
against the twin's golden vectors), so both prove the same matrix.

A :class:`Case` is a kind, its parameters, the input's shape, a KernelConfig preset and how
large the random inputs are; :meth:`Case.inputs` draws them from a numpy rng seeded by the
case's id, with a factor chosen so that the outputs spread over out_t's range (as
tests/kernels/matrix.py's ``make_inputs`` does for the seed kernels, but derived from the
exact sums, so one rule fits every geometry).

Narrow accumulators come in *families*: the same kind, geometry, configuration and data under
each ``accumulate`` mode. ``acc12-sat`` and ``accfrac-wrap`` are where the three modes must
give different outputs (saturation, and truncation of fraction bits, are not associative);
``acc12-wrap`` is a plain ``ap_int<12>``, where wrapping is arithmetic modulo 2**12, so the
three modes must give the *same* outputs (and still overflow).
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from hls_sim import jit
from hls_sim.kernels import KernelConfig, run
from hls_sim.kernels.kinds import get_kind
from hls_sim.kernels.kind import Geometry
from tests.kernels import naive
from tests.kernels.matrix import CONFIGS, seed_of

KINDS = ("conv2d", "conv_transpose", "upsample", "linear")

# KernelConfig presets: name -> fields
PRESETS: dict[str, dict] = {
    "default": {},
    "per-channel": {"per_channel_factor": True},
    "signed-out": {"out_t": "ap_fixed<8,8,AP_TRN,AP_SAT>"},  # activation none: a signed output
    "fractional": dict(CONFIGS["fractional-datapath"][0]),  # tests/kernels/matrix.py's
    "fractional-pc": {**CONFIGS["fractional-datapath"][0], "per_channel_factor": True},
    # qd_t and sum_t that overflow (and an unsigned out_t under activation none)
    "narrow-epilogue": {"qd_t": "ap_fixed<8,8,AP_RND,AP_WRAP>", "sum_t": "ap_int<8>"},
    # narrow accumulators
    "acc12-wrap": {"acc_t": "ap_int<12>"},
    "acc12-sat": {"acc_t": "ap_fixed<12,12,AP_TRN,AP_SAT>", "per_channel_factor": True},
    "accfrac-wrap": {**CONFIGS["fractional-datapath"][0], "acc_t": "ap_fixed<14,8>"},  # AP_TRN, AP_WRAP
    # beyond 64 bits: acc_t * factor_t needs 72 bits, the exact (plain Python) path
    "exact-path": {"acc_t": "ap_int<40>", "weight_t": "ap_int<16>", "in_t": "ap_uint<16>"},
    # compute_engine_16's own types: products rounded to 4 LSBs fewer and saturated, adders
    # saturating at 16 bits (both overflow with full-range data); a wrapping tree alone
    "engine-both": {"product_t": "ap_fixed<12,16,AP_RND,AP_SAT>",
                    "tree_t": "ap_fixed<14,16,AP_TRN,AP_SAT>"},
    "engine-tree-wrap": {"tree_t": "ap_fixed<17,17,AP_RND_CONV,AP_WRAP>", "acc_t": "ap_int<20>"},
    # upsample: an out_t narrower than in_t
    "up-narrow-wrap": {"out_t": "ap_uint<6>"},
    "up-narrow-sat": {"in_t": "ap_fixed<10,4>", "out_t": "ap_fixed<6,2,AP_RND,AP_SAT>"},
}
NARROW = ("acc12-wrap", "acc12-sat", "accfrac-wrap")  # acc_t overflows in these, and only these
MODES_DIFFER = ("acc12-sat", "accfrac-wrap")  # families whose three modes must all differ
MODES_AGREE = ("acc12-wrap",)  # families whose modes must agree (wrapping is modular)


@dataclass
class Case:
    id: str
    kind: str
    shape: tuple[int, int, int]  # the input's [C][H][W]
    params: dict  # the kind's parameters beyond in_channels/height/width
    preset: str
    amp: float = 1.0  # inputs and weights drawn from this fraction of their types' ranges
    family: str | None = None  # cases that differ only in ``accumulate``
    fields: dict = field(init=False)

    def __post_init__(self) -> None:
        self.fields = PRESETS[self.preset]

    @property
    def config(self) -> KernelConfig:
        return KernelConfig.from_dict(self.fields)

    @property
    def narrow(self) -> bool:
        return self.preset in NARROW

    @property
    def run_params(self) -> dict:
        """What ``hls_sim.kernels.run`` takes as ``**params`` (the shape comes from x)."""
        return dict(self.params)

    @property
    def geometry(self) -> Geometry:
        kind = get_kind(self.kind)
        return kind.geometry({**dict(zip(kind.input_dims, self.shape)), **self.params})

    @property
    def oracle_params(self) -> dict:
        """naive.py's plain dict (every conv parameter spelled out, defaults filled in)."""
        return dict(self.geometry.params)

    @property
    def accumulate(self) -> str:
        return self.params.get("accumulate", "group")

    @property
    def activation(self) -> str:
        return self.params.get("activation", "relu")

    def inputs(self) -> dict[str, np.ndarray | None]:
        return make_inputs(self)


def _value_to_raw(fmt, v: float) -> int:  # noqa: ANN001
    return int(round(v * 2 ** (fmt.frac_bits if fmt.kind == "fixed" else 0)))


def _draw(rng: np.random.Generator, fmt, shape, amp: float) -> np.ndarray:  # noqa: ANN001
    lo = int(np.floor(fmt.min_raw * amp)) if fmt.signed else 0
    hi = int(np.ceil(fmt.max_raw * amp))
    return rng.integers(lo, hi + 1, size=shape, dtype=np.int64)


def _value(fmt, raw) -> float:  # noqa: ANN001
    return float(raw) / 2 ** (fmt.frac_bits if fmt.kind == "fixed" else 0)


def make_inputs(case: Case) -> dict[str, np.ndarray | None]:
    """Deterministic raw inputs of ``case``: input, weight, bias, factor (None for upsample).

    The factor maps the typical accumulator value (the standard deviation of the exact sums,
    or acc_t's own range where that is smaller) to about half of out_t's range, so that relu
    clips some outputs at each end and the rest spread; per-channel factors vary by 0.5..1.5.
    """
    c = case.config
    geom = case.geometry
    rng = np.random.default_rng(seed_of("kinds", case.family or case.id))  # a family: one data set
    if case.kind in POOL_KINDS:  # the pooling section below
        return pool_inputs(case, rng)
    x = _draw(rng, c.in_t, geom.shape("input"), case.amp)
    if case.kind == "upsample":
        return {"input": x, "weight": None, "bias": None, "factor": None}
    w = _draw(rng, c.weight_t, geom.shape("weight"), case.amp)
    sums = oracle_sums(case, x, w)
    prod_t = naive.result_type("*", c.weight_t, c.in_t)
    spread = max(float(np.std(sums.astype(float))) / 2 ** naive._frac(prod_t), 1e-9)
    spread = min(spread, _value(c.acc_t, c.acc_t.max_raw))
    out_max = _value(c.out_t, c.out_t.max_raw)
    n_out = geom.out_channels
    bias_mag = max(1, min(c.bias_t.max_raw, _value_to_raw(c.bias_t, out_max / 4)))
    bias = rng.integers(-bias_mag, bias_mag + 1, size=n_out, dtype=np.int64)
    n_f = n_out if c.per_channel_factor else 1
    f = (out_max / 2) / spread * rng.uniform(0.5, 1.5, size=n_f)
    f_raw = np.array([min(c.factor_t.max_raw, max(1, _value_to_raw(c.factor_t, v))) for v in f],
                     dtype=np.int64)
    return {"input": x, "weight": w, "bias": bias,
            "factor": f_raw if c.per_channel_factor else f_raw.reshape(())}


def oracle_sums(case: Case, x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """naive.py's exact sums of products of a kind with weights."""
    return {"conv2d": naive.conv2d_sums, "conv_transpose": naive.conv_transpose_sums,
            "linear": naive.linear_sums}[case.kind](case.oracle_params, x, w)


def oracle(case: Case, inp: dict, events: dict | None = None) -> np.ndarray:
    """naive.py's whole output of ``case`` (Python ints), counting events into ``events``."""
    c, p = case.config, case.oracle_params
    if case.kind in POOL_KINDS:  # the pooling section below
        return pool_oracle(case, inp, events)
    if case.kind == "upsample":
        return naive.upsample_layer(p, c, inp["input"], p["scale"], p["mode"], p["halo"], events)
    layer = {"conv2d": naive.conv2d_layer, "conv_transpose": naive.conv_transpose_layer,
             "linear": naive.linear_layer}[case.kind]
    return layer(p, c, inp["input"], inp["weight"], inp["bias"], inp["factor"], case.accumulate,
                 case.activation, events)


def _conv_id(kind: str, shape: tuple[int, int, int], p: dict) -> str:
    ci, h, w = shape
    co = p.get("out_channels", ci)
    geo = f"k{p['kernel_size']}"
    for key, tag in (("stride", "s"), ("padding", "p"), ("dilation", "d"), ("groups", "g"),
                     ("output_padding", "op")):
        if p.get(key):
            if key in ("stride", "dilation", "groups") and p[key] == 1:
                continue
            geo += f"{tag}{p[key]}"
    short = "conv" if kind == "conv2d" else "deconv"
    return f"{short}-{ci}to{co}-{geo}-{h}x{w}"


def _conv(kind: str, shape: tuple[int, int, int], preset: str, co: int | None = None, *,
          k: int, s: int = 1, pad: int = 0, d: int = 1, g: int = 1, op: int = 0,
          acc: str = "group", act: str = "relu", amp: float = 1.0, tag: str = "") -> list[Case]:
    """One case, or (``acc="all"``) a family of three, one per accumulate mode."""
    p: dict = {"kernel_size": k}
    if co is not None:
        p["out_channels"] = co
    for key, v, default in (("stride", s, 1), ("padding", pad, 0), ("dilation", d, 1),
                            ("groups", g, 1)):
        if v != default:
            p[key] = v
    if kind == "conv_transpose" and op:
        p["output_padding"] = op
    if act != "relu":
        p["activation"] = act
    base = _conv_id(kind, shape, p) + f"-{preset}" + (f"-{tag}" if tag else "")
    modes = naive.ACCUMULATE if acc == "all" else (acc,)
    family = base if acc == "all" else None
    return [Case(f"{base}-{m}" + ("" if act == "relu" else f"-{act}"), kind, shape,
                 {**p, "accumulate": m}, preset, amp, family) for m in modes]


def _up(shape: tuple[int, int, int], scale: int, mode: str, halo: int, preset: str = "default") -> Case:
    c, h, w = shape
    return Case(f"up-c{c}-{h}x{w}-x{scale}-{mode}-halo{halo}-{preset}", "upsample", shape,
                {"scale": scale, "mode": mode, "halo": halo}, preset)


def _lin(n_in: int, n_out: int, preset: str, acc: str = "group", act: str = "relu") -> list[Case]:
    """A linear layer, or (``acc="all"``) a family of three, one per accumulate mode."""
    p: dict = {"out_features": n_out}
    if act != "relu":
        p["activation"] = act
    base = f"linear-{n_in}to{n_out}-{preset}"
    modes = naive.ACCUMULATE if acc == "all" else (acc,)
    family = base if acc == "all" else None
    return [Case(f"{base}-{m}" + ("" if act == "relu" else f"-{act}"), "linear", (n_in,),
                 {**p, "accumulate": m}, preset, 1.0 if acc != "all" else 1 / 4, family)
            for m in modes]


C2, CT = "conv2d", "conv_transpose"
CASES: list[Case] = [
    # ---- conv2d ----
    *_conv(C2, (16, 8, 9), "default", k=3, pad=1),                           # the baseline
    *_conv(C2, (3, 9, 11), "default", 8, k=3, s=2, pad=1, acc="tap"),         # 3 channels, odd map
    *_conv(C2, (16, 9, 11), "per-channel", k=1, s=2, acc="exact"),            # K=1, stride > kernel
    *_conv(C2, (8, 9, 11), "default", k=2, s=3),                              # stride > kernel
    *_conv(C2, (16, 9, 11), "default", 32, k=3, pad=2, d=2, acc="exact"),     # dilation 2
    *_conv(C2, (24, 8, 9), "per-channel", k=3, pad=1, g=24),                  # depthwise, C=24
    *_conv(C2, (16, 8, 9), "default", 32, k=3, pad=1, g=2, acc="tap"),        # groups 2
    *_conv(C2, (24, 5, 7), "default", 16, k=3, pad=1),                        # a partial block
    *_conv(C2, (32, 9, 11), "default", 16, k=3, s=2, pad=1, acc="tap"),       # two input blocks
    *_conv(C2, (3, 9, 11), "default", 16, k=7, s=2, pad=3),                   # K=7
    *_conv(C2, (32, 5, 7), "fractional", k=1, acc="exact"),                   # fractional, K=1
    *_conv(C2, (24, 5, 7), "fractional-pc", 8, k=5, pad=2, g=2, acc="tap"),   # 12 channels a group
    *_conv(C2, (16, 5, 7), "signed-out", k=3, pad=1, act="none"),             # activation none
    *_conv(C2, (16, 5, 7), "narrow-epilogue", 8, k=3, pad=1, act="none", acc="tap"),  # qd, sum wrap
    *_conv(C2, (32, 5, 7), "acc12-sat", 8, k=3, pad=1, acc="all", amp=1 / 8),
    *_conv(C2, (16, 5, 7), "acc12-wrap", 8, k=3, pad=1, acc="all", amp=1 / 4),
    *_conv(C2, (2, 2, 3), "exact-path", k=3, pad=1),
    *_conv(C2, (24, 5, 7), "engine-both", 8, k=3, pad=1),                     # product_t, tree_t
    *_conv(C2, (32, 5, 7), "engine-tree-wrap", 8, k=1),                        # tree_t, 2 blocks
    # ---- conv_transpose ----
    *_conv(CT, (16, 8, 9), "default", k=3, pad=1),                            # stride 1
    *_conv(CT, (16, 5, 7), "default", 8, k=4, s=2, pad=1, acc="tap"),         # the usual 2x up
    *_conv(CT, (8, 5, 7), "per-channel", 16, k=3, s=2, pad=1, op=1),          # output_padding
    *_conv(CT, (3, 5, 7), "default", 8, k=2, s=3, op=2, acc="exact"),         # stride > kernel
    *_conv(CT, (8, 5, 7), "default", k=3, pad=1, d=2, op=1, acc="tap"),       # dilation 2, op < D
    *_conv(CT, (24, 5, 7), "per-channel", k=3, s=2, pad=1, g=24, op=1),       # depthwise, C=24
    *_conv(CT, (32, 4, 5), "default", 16, k=4, s=2, pad=1, g=2, acc="exact"),  # groups 2
    *_conv(CT, (32, 4, 5), "default", 8, k=3, s=2, pad=1),                    # two input blocks
    *_conv(CT, (24, 5, 7), "fractional", 8, k=1, s=2, op=1, acc="tap"),       # K=1, partial block
    *_conv(CT, (8, 3, 4), "fractional-pc", k=7, pad=3),                       # K=7
    *_conv(CT, (16, 4, 5), "signed-out", 8, k=3, s=2, pad=1, op=1, act="none"),
    *_conv(CT, (16, 4, 5), "accfrac-wrap", 8, k=3, s=2, pad=1, op=1, acc="all"),
    *_conv(CT, (2, 2, 3), "exact-path", k=3, s=2, pad=1, op=1, acc="tap"),
    *_conv(CT, (16, 4, 5), "engine-both", 8, k=3, s=2, pad=1, op=1),
    # ---- linear ----
    *_lin(16, 10, "default"),                               # one block
    *_lin(40, 24, "per-channel", acc="tap"),                # a partial block
    *_lin(100, 7, "fractional", acc="exact"),               # 7 blocks, fractional types
    *_lin(48, 16, "signed-out", act="none"),
    *_lin(64, 12, "engine-both"),                           # compute_engine_16's own types
    *_lin(3, 5, "exact-path"),                              # beyond 64 bits
    # ---- upsample ----
    _up((16, 5, 7), 2, "nearest", 0),
    _up((3, 5, 7), 2, "zeros", 1),
    _up((8, 4, 5), 3, "nearest", 1),
    _up((8, 3, 4), 4, "zeros", 0),
    _up((16, 4, 5), 2, "nearest", 1, "up-narrow-wrap"),
    _up((8, 4, 5), 3, "zeros", 0, "up-narrow-sat"),
]
BY_ID: dict[str, Case] = {c.id: c for c in CASES}
assert len(BY_ID) == len(CASES), "case ids must be unique"


def families() -> dict[str, dict[str, Case]]:
    """family name -> {accumulate mode: case}."""
    out: dict[str, dict[str, Case]] = {}
    for c in CASES:
        if c.family:
            out.setdefault(c.family, {})[c.accumulate] = c
    return out


def twin_run(case: Case, inp: dict, variant: str = "specialised", **override):  # noqa: ANN201
    """``hls_sim.kernels.run`` on one case (``override``: parameters to change), a
    KernelResult; ``variant``: which machine code (``hls_sim.jit.kernels``)."""
    params = {**case.run_params, **override}
    with jit.kernels(variant):
        if case.kind == "upsample" or case.kind in POOL_KINDS:
            return run(case.kind, inp["input"], config=case.config, **params)
        return run(case.kind, inp["input"], inp["weight"], inp["bias"], inp["factor"], case.config,
                   **params)


def _warm_one(case_id: str) -> None:
    case = BY_ID[case_id]
    twin_run(case, case.inputs())


def warm_twins(case_ids: list[str]) -> None:
    """Compile the numba twins of these cases in parallel, one fresh process per core: each
    twin is a numba compilation of its own (geometry and types are constants), seconds each,
    and numba's disk cache then serves them to this process. Only a speed-up: failures are
    left for the tests themselves to report, and a single core just compiles as it goes."""
    from hls_sim.kernels import common

    loaded = getattr(common, "_COMPILED", {})  # compiled in this process already (an earlier module)
    ids = [i for i in dict.fromkeys(case_ids) if BY_ID[i].preset != "exact-path"  # plain Python
           and (BY_ID[i].kind, BY_ID[i].geometry, BY_ID[i].config, True) not in loaded]
    try:
        jobs = len(os.sched_getaffinity(0))
    except AttributeError:
        jobs = os.cpu_count() or 1
    if jobs < 2 or len(ids) < 2:
        return
    try:
        with ProcessPoolExecutor(min(jobs, len(ids)), mp_context=multiprocessing.get_context("spawn")) as pool:
            for f in [pool.submit(_warm_one, i) for i in ids]:
                try:
                    f.result()
                except Exception:  # noqa: BLE001 - the test of that case reports it
                    pass
    except OSError:
        pass


def selected(request, argname: str = "case_id") -> list[str]:  # noqa: ANN001
    """The case ids of the tests of this module that pytest will run (for :func:`warm_twins`)."""
    out = []
    for item in request.session.items:
        cs = getattr(item, "callspec", None)
        if cs is not None and item.module is request.module and argname in cs.params:
            out.append(cs.params[argname])
    return out


# ---- pooling: max_pool, avg_pool --------------------------------------------------------------
# Their own list, POOL_CASES (in BY_ID, so twin_run, oracle, warm_twins and the C++ harness
# take them), proven by tests/kernels/test_pool.py on both tiers: the twin against naive.py's
# pooling oracles, and the C++ (kernels/pool.h) through the golden testbench.
POOL_KINDS = ("max_pool", "avg_pool")
QD_MODES = ("AP_RND", "AP_RND_ZERO", "AP_RND_MIN_INF", "AP_RND_INF", "AP_RND_CONV", "AP_TRN",
            "AP_TRN_ZERO")
_WIDE = {"in_t": "ap_int<72>", "out_t": "ap_int<72>", "acc_t": "ap_int<80>", "factor_t": "ap_fixed<32,2>",
         "qd_t": "ap_fixed<80,79,AP_RND_CONV,AP_SAT>"}  # every value beyond 64 bits
PRESETS.update({
    "pool-signed": {"in_t": "ap_int<8>", "out_t": "ap_int<8>"},
    "pool-out-wrap": {"in_t": "ap_int<8>", "out_t": "ap_int<5>"},  # out_t(in_t) wraps
    "pool-out-sat": {"in_t": "ap_fixed<10,4>", "out_t": "ap_fixed<6,2,AP_RND,AP_SAT>"},
    # every quantization mode of qd_t rounding the mean to an integer; signed data and the
    # exact reciprocals 1, 1/2, 1/4, so that ties are real ties (and some negative)
    **{f"pool-qd-{m.lower()}": {"in_t": "ap_int<8>", "out_t": "ap_int<8>", "acc_t": "ap_int<12>",
                                "factor_t": "ap_fixed<18,2>", "qd_t": f"ap_fixed<10,10,{m},AP_SAT>"}
       for m in QD_MODES},
    "pool-acc-wrap": {"acc_t": "ap_int<9>"},  # the sums of ap_uint<8> wrap in ap_int<9>
    "pool-acc-sat": {"acc_t": "ap_fixed<10,10,AP_TRN,AP_SAT>"},
    "pool-avg-out-wrap": {"out_t": "ap_uint<6>"},
    "pool-avg-out-sat": {"in_t": "ap_fixed<10,4>", "acc_t": "ap_fixed<16,8>",
                         "qd_t": "ap_fixed<12,6,AP_RND,AP_SAT>",
                         "out_t": "ap_fixed<6,2,AP_RND,AP_SAT>"},
    # an ap_int acc_t and a signed ap_fixed in_t: acc += in adds in.to_ap_int_base() (toward 0)
    "pool-int-acc": {"in_t": "ap_fixed<8,4>", "acc_t": "ap_int<12>", "out_t": "ap_int<8>"},
    "pool-fractional": {"in_t": "ap_ufixed<8,4>", "acc_t": "ap_fixed<16,8>",
                        "factor_t": "ap_ufixed<16,1>", "qd_t": "ap_fixed<12,6,AP_RND_CONV,AP_SAT>",
                        "out_t": "ap_ufixed<8,4,AP_RND,AP_SAT>"},
    # the exact path: acc_t * factor_t needs 72 bits; and every type beyond 64 bits
    "pool-exact": {"acc_t": "ap_int<40>"},
    "pool-exact-wide": dict(_WIDE),
})
POOL_NARROW = {"pool-out-wrap": "out_overflow", "pool-out-sat": "out_overflow",
               "pool-acc-wrap": "acc_overflow", "pool-acc-sat": "acc_overflow",
               "pool-avg-out-wrap": "out_overflow", "pool-avg-out-sat": "out_overflow"}
POOL_EXACT = ("pool-exact", "pool-exact-wide")  # the plain-Python path


def _pool(kind: str, shape: tuple[int, int, int], preset: str = "default", *, k: int,
          s: int | None = None, pad: int = 0, tag: str = "", family: str | None = None,
          **extra) -> Case:
    c, h, w = shape
    p: dict = {"kernel_size": k, **extra}
    geo = f"k{k}"
    if s is not None:
        p["stride"] = s
        geo += f"s{s}"
    if pad:
        p["padding"] = pad
        geo += f"p{pad}"
    short = "maxpool" if kind == "max_pool" else "avgpool"
    return Case(f"{short}-c{c}-{h}x{w}-{geo}-{preset}" + (f"-{tag}" if tag else ""), kind, shape,
                p, preset, family=family)


MP, AP = "max_pool", "avg_pool"
POOL_CASES: list[Case] = [
    # ---- max_pool ----
    _pool(MP, (16, 8, 9), k=2),                                           # the usual 2x2/2
    _pool(MP, (3, 7, 9), "pool-signed", k=3, s=2, pad=1),                 # padding never wins
    *[_pool(MP, (8, 7, 9), "pool-signed", k=3, s=2, pad=1, relu=r, tag=f"relu-{r}",
            family="maxpool-relu-family") for r in ("before", "after")],  # same data: equal
    _pool(MP, (8, 9, 11), "pool-out-wrap", k=3, s=1, pad=1),
    _pool(MP, (4, 9, 11), "pool-out-sat", k=4, s=3, pad=2),               # K=4, P=K/2, S != K
    _pool(MP, (5, 9, 11), k=1, s=2),                                      # K=1: subsampling
    _pool(MP, (3, 5, 7), k=2, s=3),                                       # stride > kernel
    _pool(MP, (2, 4, 5), "pool-exact-wide", k=2, s=1, pad=1, relu="after"),
    # ---- avg_pool ----
    _pool(AP, (16, 8, 9), k=2),                                           # n = 4: exact 1/4
    _pool(AP, (8, 9, 11), k=3, s=2, pad=1),                               # n = 9, padding counted
    _pool(AP, (8, 9, 11), k=3, s=2, pad=1, count_include_pad=False, tag="nopad"),  # n = 4, 6, 9
    *[_pool(AP, (4, 7, 9), f"pool-qd-{m.lower()}", k=2, s=2, pad=1, count_include_pad=False,
            tag="nopad", family="avgpool-qd-family") for m in QD_MODES],  # n = 1, 2, 4
    _pool(AP, (8, 7, 9), "pool-acc-wrap", k=3, s=1, pad=1),
    _pool(AP, (8, 8, 9), "pool-acc-sat", k=4, s=2, pad=2),
    _pool(AP, (8, 9, 11), "pool-avg-out-wrap", k=2, s=3),                 # stride > kernel
    _pool(AP, (4, 9, 11), "pool-avg-out-sat", k=3, s=2, pad=1, count_include_pad=False, tag="nopad"),
    _pool(AP, (8, 7, 9), "pool-int-acc", k=3, s=2, pad=1),
    _pool(AP, (8, 7, 9), "pool-fractional", k=3, s=1, pad=1, count_include_pad=False, tag="nopad"),
    _pool(AP, (5, 7, 9), k=1, s=2),  # factor_t(1.0) wraps to -1 in ap_fixed<32,1>: as the C++ does
    _pool(AP, (4, 5, 7), "pool-exact", k=2, s=1, pad=1),
    _pool(AP, (2, 4, 5), "pool-exact-wide", k=2, s=1, pad=1, count_include_pad=False, tag="nopad"),
]
_POOL_BY_ID = {c.id: c for c in POOL_CASES}
assert len(_POOL_BY_ID) == len(POOL_CASES) and not set(_POOL_BY_ID) & set(BY_ID), "case ids must be unique"
BY_ID.update(_POOL_BY_ID)


def _draw_wide(rng: np.random.Generator, fmt, shape) -> np.ndarray:  # noqa: ANN001
    """Uniform raws over all of fmt's range, as Python ints (any width)."""
    span, nbytes = fmt.max_raw - fmt.min_raw + 1, fmt.width // 8 + 2
    out = np.empty(shape, dtype=object)
    out.flat[:] = [fmt.min_raw + int.from_bytes(rng.bytes(nbytes), "little") % span
                   for _ in range(out.size)]
    return out


def pool_inputs(case: Case, rng: np.random.Generator) -> dict[str, np.ndarray | None]:
    """A pooling case's raw input: uniform over in_t's range (a data mover has no weight)."""
    c, shape = case.config, case.geometry.shape("input")
    x = _draw(rng, c.in_t, shape, case.amp) if c.in_t.width <= 62 else _draw_wide(rng, c.in_t, shape)
    return {"input": x, "weight": None, "bias": None, "factor": None}


def pool_oracle(case: Case, inp: dict, events: dict | None = None) -> np.ndarray:
    layer = naive.max_pool_layer if case.kind == "max_pool" else naive.avg_pool_layer
    return layer(case.oracle_params, case.config, inp["input"], events)
