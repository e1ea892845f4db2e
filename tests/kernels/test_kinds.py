"""The numba twins of conv2d, conv_transpose and upsample against the naive oracle.

Every case of tests/kernels/kinds_matrix.py: ``hls_sim.kernels.run`` equals
tests/kernels/naive.py (written from docs/kinds.md alone, on Python integers) bit for bit on
the whole output, and its event counters equal the ones the oracle counts, one per output.
The narrow-accumulator families prove the three ``accumulate`` modes are really different
computations (or, for a wrapping ap_int, really the same one). Plus the registry's parameter
rules.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest

from hls_sim.kernels import KernelConfig, run
from hls_sim.kernels.hls_kernels import COUNTER_NAMES
from hls_sim.kernels.kinds import KINDS, get_kind
from tests.kernels import naive
from tests.kernels.kinds_matrix import (BY_ID, CASES, oracle_sums, MODES_AGREE, MODES_DIFFER, NARROW, families,
                                        oracle, selected, twin_run, warm_twins)

IDS = [c.id for c in CASES]


@lru_cache(maxsize=None)
def twin(case_id: str):  # noqa: ANN201 - (inputs, KernelResult)
    """The inputs and the twin's result of one case, once per process."""
    case = BY_ID[case_id]
    inp = case.inputs()
    return inp, twin_run(case, inp)


def test_the_matrix_covers_what_it_claims():
    conv = [c for c in CASES if c.kind in ("conv2d", "conv_transpose")]
    assert 30 <= len(CASES) <= 80 and {"conv2d", "conv_transpose", "upsample", "linear"} <= {c.kind for c in CASES}
    for kind in ("conv2d", "conv_transpose"):
        geoms = [c.geometry for c in conv if c.kind == kind]
        assert any(g["stride"] > g["kernel_size"] for g in geoms), kind
        assert any(g["dilation"] == 2 for g in geoms), kind
        assert {1, 2} <= {g["groups"] for g in geoms}, kind
        assert any(g["groups"] == g["in_channels"] == g["out_channels"] > 1 for g in geoms), kind
        assert {1, 7} <= {g["kernel_size"] for g in geoms}, kind
        assert {3, 16, 24, 32} <= {g["in_channels"] for g in geoms}, kind
        assert set(naive.ACCUMULATE) <= {g["accumulate"] for g in geoms}, kind
        assert "none" in {g["activation"] for g in geoms}, kind
        assert any(c.config.per_channel_factor for c in conv if c.kind == kind), kind
        assert any(c.preset.startswith("fractional") for c in conv if c.kind == kind), kind
        assert any(c.preset == "exact-path" for c in conv if c.kind == kind), kind
        assert any(c.family for c in conv if c.kind == kind), kind
        assert any(max(c.shape[1:]) <= 16 and c.shape[1] % 2 and c.shape[2] % 2
                   for c in conv if c.kind == kind), kind
    assert any(c.geometry["output_padding"] > 0 for c in conv if c.kind == "conv_transpose")
    ups = [c.geometry for c in CASES if c.kind == "upsample"]
    assert {g["mode"] for g in ups} == {"nearest", "zeros"}
    assert {g["scale"] for g in ups} == {2, 3, 4} and {g["halo"] for g in ups} == {0, 1}
    assert any(c.config.out_t.width < c.config.in_t.width for c in CASES if c.kind == "upsample")
    assert all(max(c.shape[1:], default=1) <= 16 for c in CASES)
    lin = [c.geometry for c in CASES if c.kind == "linear"]
    assert set(naive.ACCUMULATE) <= {g["accumulate"] for g in lin}
    assert any(g["in_features"] % 16 for g in lin) and any(g["in_features"] > 64 for g in lin)
    fams = families()
    assert {f["group"].preset for f in fams.values()} == set(MODES_DIFFER) | set(MODES_AGREE)
    assert all(set(f) == set(naive.ACCUMULATE) for f in fams.values())


@pytest.fixture(scope="module")
def compiled_twins(request):
    """The twins of the selected cases compiled in parallel processes first (a speed-up)."""
    warm_twins(selected(request))


@pytest.mark.parametrize("case_id", IDS)
def test_twin_equals_oracle(compiled_twins, case_id):
    case = BY_ID[case_id]
    inp, res = twin(case_id)
    geom = case.geometry
    assert res.path == ("exact" if case.preset == "exact-path" else "int64")
    events: dict = {}
    want = oracle(case, inp, events)
    got = res.top.raw
    assert got.shape == want.shape == geom.shape("top")
    bad = np.argwhere(got.astype(object) != want)
    assert bad.size == 0, (f"{len(bad)} of {want.size} outputs differ; first at {tuple(bad[0])}: "
                           f"twin {got[tuple(bad[0])]}, oracle {want[tuple(bad[0])]}")
    # the counters: the same events, output by output, as the oracle sees them
    counts = res.counters.total()
    assert set(counts) == set(COUNTER_NAMES) == set(naive.COUNTERS)
    assert counts == events
    assert all(v <= want.size for v in counts.values())
    assert counts["clip_low"] + counts["clip_high"] + counts["out_overflow"] <= want.size
    if case.kind == "upsample":
        assert counts["out_overflow"] > 0 if case.preset.startswith("up-narrow") else counts["out_overflow"] == 0
        assert {k: v for k, v in counts.items() if k != "out_overflow"} == dict.fromkeys(
            set(COUNTER_NAMES) - {"out_overflow"}, 0)
        return
    if case.narrow:
        assert counts["acc_overflow"] > 0
    else:
        assert counts["acc_overflow"] == 0
    if case.activation == "none":
        assert counts["clip_low"] == counts["clip_high"] == 0
    # the registry's exact sums are the oracle's
    sums = oracle_sums(case, inp["input"], inp["weight"])
    assert np.array_equal(np.asarray(get_kind(case.kind).sums(geom, inp["input"], inp["weight"])).astype(object),
                          sums)


@pytest.mark.parametrize("case_id", [i for i in IDS if BY_ID[i].preset != "exact-path"])
def test_generic_kernel_equals_the_specialised_one(compiled_twins, case_id):
    """The generic machine code (hls_sim.jit.kernel: the configuration as run-time arguments,
    one build per kernel source) writes the same outputs and counts the same events as the
    specialised twin that test_twin_equals_oracle proves."""
    inp, res = twin(case_id)
    gen = twin_run(BY_ID[case_id], inp, "generic")
    assert (res.kernel, gen.kernel) == ("specialised", "generic")
    assert np.array_equal(gen.top.raw, res.top.raw)
    assert np.array_equal(gen.counters.per_channel, res.counters.per_channel)


def test_exact_sums_overflow_acc_t_only_in_the_narrow_cases():
    """Independent of any accumulation order: the exact sums leave acc_t's range in every
    narrow case and in no other (so ``acc_overflow == 0`` elsewhere is not vacuous)."""
    for case in CASES:
        if not get_kind(case.kind).epilogue:
            continue
        c, inp = case.config, case.inputs()
        sums = oracle_sums(case, inp["input"], inp["weight"])
        prod_t = naive.result_type("*", c.weight_t, c.in_t)
        shift = naive._frac(prod_t) - naive._frac(c.acc_t)
        lo, hi = c.acc_t.min_raw, c.acc_t.max_raw
        out = [v for v in sums.flat if not lo <= (v >> shift if shift >= 0 else v << -shift) <= hi]
        assert bool(out) == case.narrow, case.id


@pytest.mark.parametrize("name", sorted(families()))
def test_accumulate_modes(name):
    """Same data under group, exact and tap: where acc_t saturates or truncates, every mode
    gives different outputs from the others somewhere; a wrapping ap_int<12> is arithmetic
    modulo 2**12, the same in any order, so there all three agree bit for bit."""
    fam = families()[name]
    outs = {m: twin(c.id)[1].top.raw for m, c in fam.items()}
    inputs = [twin(c.id)[0] for c in fam.values()]
    assert all(np.array_equal(i["input"], inputs[0]["input"]) and
               np.array_equal(i["weight"], inputs[0]["weight"]) for i in inputs)
    pairs = [("group", "exact"), ("group", "tap"), ("exact", "tap")]
    preset = fam["group"].preset
    assert preset in NARROW
    if preset in MODES_DIFFER:
        for a, b in pairs:
            assert not np.array_equal(outs[a], outs[b]), (a, b)
    else:
        for a, b in pairs:
            assert np.array_equal(outs[a], outs[b]), (a, b)
        assert all(twin(c.id)[1].counters["acc_overflow"] > 0 for c in fam.values())


# ---- parameter rules ----------------------------------------------------------------------------
def _geo(kind: str, **p):  # noqa: ANN202
    base = {"in_channels": 4, "height": 5, "width": 5}
    return get_kind(kind).geometry({**base, **p})


@pytest.mark.parametrize("kind, params, field", [
    pytest.param("conv_transpose", dict(kernel_size=3, padding=3), "padding", id="deconv-padding-above-D(K-1)"),
    pytest.param("conv_transpose", dict(kernel_size=3, padding=5, dilation=2), "padding", id="deconv-padding-above-D(K-1)-d2"),
    pytest.param("conv_transpose", dict(kernel_size=3, stride=2, output_padding=2), "output_padding", id="deconv-op-equals-stride"),
    pytest.param("conv_transpose", dict(kernel_size=3, output_padding=1), "output_padding", id="deconv-op-with-stride1-dilation1"),
    pytest.param("conv_transpose", dict(kernel_size=3, stride=2, dilation=3, output_padding=3), "output_padding", id="deconv-op-equals-dilation"),
    pytest.param("conv2d", dict(kernel_size=1, out_channels=6, groups=4), "groups", id="conv-groups-not-dividing-out"),
    pytest.param("conv2d", dict(kernel_size=1, groups=3), "groups", id="conv-groups-not-dividing-in"),
    pytest.param("conv_transpose", dict(kernel_size=1, out_channels=6, groups=4), "groups", id="deconv-groups-not-dividing"),
    pytest.param("conv2d", dict(kernel_size=7), "kernel_size", id="conv-kernel-larger-than-input"),
    pytest.param("conv2d", dict(kernel_size=3, dilation=3), "kernel_size", id="conv-dilated-kernel-larger-than-input"),
    pytest.param("conv2d", dict(kernel_size=3, stride=5), "stride", id="conv-stride-out-of-range"),
    pytest.param("conv2d", dict(kernel_size=8), "kernel_size", id="conv-k8"),
    pytest.param("conv2d", dict(kernel_size=3, accumulate="sum"), "accumulate", id="conv-bad-accumulate"),
    pytest.param("conv_transpose", dict(kernel_size=3, activation="gelu"), "activation", id="deconv-bad-activation"),
    pytest.param("conv2d", dict(kernel_size=3, output_padding=1), "output_padding", id="conv-has-no-output-padding"),
    pytest.param("conv2d", dict(), "kernel_size", id="conv-kernel-size-missing"),
    pytest.param("upsample", dict(scale=5), "scale", id="up-scale-5"),
    pytest.param("upsample", dict(scale=2, halo=2), "halo", id="up-halo-2"),
    pytest.param("upsample", dict(scale=2, mode="bilinear"), "mode", id="up-bad-mode"),
])
def test_bad_parameters_name_the_field(kind, params, field):
    with pytest.raises(ValueError, match=rf"^{field}: "):
        _geo(kind, **params)


def test_limits_are_accepted():
    """The edges of the rules are legal: padding == D(K-1), output_padding just below
    max(stride, dilation), a kernel exactly as large as the padded input, depthwise."""
    assert _geo("conv_transpose", kernel_size=3, padding=2).shape("top") == (4, 3, 3)
    assert _geo("conv_transpose", kernel_size=3, stride=2, output_padding=1).shape("top") == (4, 12, 12)
    assert _geo("conv_transpose", kernel_size=3, dilation=3, output_padding=2).shape("top") == (4, 13, 13)
    assert _geo("conv2d", kernel_size=5).shape("top") == (4, 1, 1)
    assert _geo("conv2d", kernel_size=7, padding=1).shape("top") == (4, 1, 1)
    assert _geo("conv2d", kernel_size=3, groups=4).shape("weight") == (4, 1, 3, 3)


def test_unknown_kind_is_an_error():
    for name in ("conv3d", "", "Conv2d"):
        with pytest.raises(ValueError, match="unknown kernel kind"):
            get_kind(name)
    with pytest.raises(ValueError, match="unknown kernel kind 'deconv'"):
        run("deconv", np.zeros((1, 2, 2), np.int64))
    assert {"conv2d", "conv_transpose", "upsample"} <= set(KINDS)


def test_engine_types_change_the_result_and_are_counted():
    """product_t / tree_t really enter the datapath: with them the engine-both case differs
    from the same data on natural types, and its overflows are counted as engine_overflow."""
    case = next(c for c in CASES if c.preset == "engine-both" and c.kind == "conv2d")
    inp = case.inputs()
    typed = twin_run(case, inp)
    natural = run(case.kind, inp["input"], inp["weight"], inp["bias"], inp["factor"],
                  KernelConfig(), **case.run_params)
    assert typed.counters["engine_overflow"] > 0
    assert natural.counters["engine_overflow"] == 0
    assert not np.array_equal(typed.top.raw, natural.top.raw)


@pytest.mark.parametrize("kind, params, fields", [
    pytest.param("conv2d", dict(kernel_size=3, accumulate="tap"), {"product_t": "ap_int<12>"}, id="tap"),
    pytest.param("conv2d", dict(kernel_size=3, accumulate="exact"), {"tree_t": "ap_int<20>"}, id="exact"),
    pytest.param("upsample", dict(scale=2), {"tree_t": "ap_int<20>"}, id="upsample"),
])
def test_engine_types_only_where_the_engine_runs(kind, params, fields):
    x = np.zeros((4, 6, 6), np.int64)
    w = np.zeros((4, 4, 3, 3), np.int64)
    args = (x,) if kind == "upsample" else (x, w, np.zeros(4, np.int64), np.int64(1))
    name = next(iter(fields))
    with pytest.raises(ValueError, match=rf"^{name}: sets compute_engine_16's types"):
        run(kind, *args, config=KernelConfig.from_dict(fields), **params)


@pytest.mark.parametrize("kind", ["conv2d", "conv_transpose"])
def test_clip_activation_is_relu_then_the_clip(kind):
    """activation: clip at 6 equals relu (clipped at max(out_t)) followed by min(., 6), for
    every kind with weights (a deconvolution passes clip_at on to the conv2d it runs as)."""
    rng = np.random.default_rng(5)
    x = rng.integers(0, 256, size=(8, 5, 6))
    extra = dict(stride=2, padding=1, output_padding=1) if kind == "conv_transpose" else dict(padding=1)
    w = rng.integers(-128, 128, size=(8, 8, 3, 3))
    b, f = rng.integers(-50, 50, size=8), np.int64(1 << 24)
    clip = run(kind, x, w, b, f, kernel_size=3, activation="clip", clip_at=6, **extra)
    relu = run(kind, x, w, b, f, kernel_size=3, **extra)
    assert clip.top.raw.max() == 6 and relu.top.raw.max() > 6
    assert np.array_equal(clip.top.raw, np.minimum(relu.top.raw, 6))
