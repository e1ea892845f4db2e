"""max_pool and avg_pool: the twins against the naive oracle and against the C++ of
kernels/pool.h (g++, the real headers, the golden testbench), plus the rules of the kinds.

The case matrix is tests/kernels/kinds_matrix.py's POOL_CASES. Beyond bit equality with the
oracle (tests/kernels/naive.py, written from docs/kinds.md), independent checks: relu before
and after the max agree bit for bit; with exact reciprocals every qd_t quantization mode
rounds the exact mean (a Fraction) as that mode says, and the seven modes all differ; an
ap_int acc_t adds an ap_fixed input as its to_ap_int_base() value (and that rule is not the
natural sum's, so the C++ tier's agreement decides it); the output size is PyTorch's formula.
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import lru_cache

import numpy as np
import pytest

from hls_sim.kernels import KernelConfig, run
from hls_sim.kernels.hls_kernels import COUNTER_NAMES
from hls_sim.kernels.kinds import get_kind
from hls_sim.kernels.pool import reciprocal
from hls_sim.layer import Layer
from hls_sim.types import parse
from hls_sim.types.rules import OVERFLOW
from tests.kernels import cxx, naive
from tests.kernels.kinds_matrix import (BY_ID, POOL_CASES, POOL_EXACT, POOL_NARROW, QD_MODES, Case,
                                        oracle, selected, twin_run, warm_twins)

IDS = [c.id for c in POOL_CASES]


@lru_cache(maxsize=None)
def twin(case_id: str):  # noqa: ANN201 - (inputs, KernelResult)
    case = BY_ID[case_id]
    inp = case.inputs()
    return inp, twin_run(case, inp)


@pytest.mark.parametrize("case_id", [i for i in IDS if BY_ID[i].preset not in POOL_EXACT])
def test_generic_kernel_equals_the_specialised_one(compiled_twins, case_id):
    """The generic machine code (hls_sim.jit.kernel) against the specialised twin that
    test_pool_twin_equals_oracle proves: the same outputs, the same events."""
    inp, res = twin(case_id)
    gen = twin_run(BY_ID[case_id], inp, "generic")
    assert (res.kernel, gen.kernel) == ("specialised", "generic")
    assert np.array_equal(gen.top.raw, res.top.raw)
    assert np.array_equal(gen.counters.per_channel, res.counters.per_channel)


def _expected_overflow(case: Case) -> set[str]:
    """The counters that must fire in ``case`` (all others must stay 0)."""
    want = {POOL_NARROW[case.preset]} if case.preset in POOL_NARROW else set()
    if case.preset == "pool-acc-wrap":
        want.add("out_overflow")  # a wrapped sum is negative: out_t ap_uint<8> wraps it too
    if case.kind == "avg_pool" and case.geometry["kernel_size"] == 1 and case.preset == "default":
        want.add("out_overflow")  # factor_t(1.0) wraps to -1 in ap_fixed<32,1>
    return want


def test_the_pool_matrix_covers_what_it_claims():
    geoms = {c.id: c.geometry for c in POOL_CASES}
    for kind in ("max_pool", "avg_pool"):
        cs = [c for c in POOL_CASES if c.kind == kind]
        gs = [geoms[c.id] for c in cs]
        assert {1, 2, 3, 4} <= {g["kernel_size"] for g in gs}, kind
        assert any(g["stride"] > g["kernel_size"] for g in gs), kind
        assert any(g["stride"] not in (1, g["kernel_size"]) for g in gs), kind
        assert {0, 1, 2} <= {g["padding"] for g in gs}, kind
        assert any(g["padding"] * 2 == g["kernel_size"] for g in gs), kind
        assert any(c.shape[1] % 2 and c.shape[2] % 2 for c in cs), kind
        assert {"exact"} == {"exact" for c in cs if c.preset in POOL_EXACT} and \
            any(c.preset == "pool-exact-wide" for c in cs), kind
        assert any(c.preset in POOL_NARROW and "wrap" in c.preset for c in cs), kind
        assert any(c.preset in POOL_NARROW and "sat" in c.preset for c in cs), kind
    mx = [geoms[c.id] for c in POOL_CASES if c.kind == "max_pool"]
    assert {g["relu"] for g in mx} == {"none", "before", "after"}
    assert any(c.config.in_t.signed and geoms[c.id]["padding"] for c in POOL_CASES if c.kind == "max_pool")
    av = [c for c in POOL_CASES if c.kind == "avg_pool"]
    assert {geoms[c.id]["count_include_pad"] for c in av} == {True, False}
    assert {c.config.qd_t.q_mode.name for c in av} >= set(QD_MODES)
    assert {"acc_overflow", "out_overflow"} <= set(POOL_NARROW.values())
    assert all(max(c.shape[1:]) <= 16 for c in POOL_CASES)


@pytest.fixture(scope="module")
def compiled_twins(request):
    warm_twins(selected(request))


@pytest.mark.parametrize("case_id", IDS)
def test_pool_twin_equals_oracle(compiled_twins, case_id):
    case = BY_ID[case_id]
    inp, res = twin(case_id)
    geom = case.geometry
    assert res.path == ("exact" if case.preset in POOL_EXACT else "int64")
    events: dict = {}
    want = oracle(case, inp, events)
    got = res.top.raw
    assert got.shape == want.shape == geom.shape("top") == naive.pool_output_size(case.oracle_params)
    bad = np.argwhere(got.astype(object) != want)
    assert bad.size == 0, (f"{len(bad)} of {want.size} outputs differ; first at {tuple(bad[0])}: "
                           f"twin {got[tuple(bad[0])]}, oracle {want[tuple(bad[0])]}")
    counts = res.counters.total()
    assert set(counts) == set(COUNTER_NAMES) and counts == events
    overflowing = {n for n in ("acc_overflow", "qd_overflow", "sum_overflow", "out_overflow",
                               "engine_overflow") if counts[n]}
    assert overflowing == _expected_overflow(case)
    assert counts["clip_low"] == counts["clip_high"] == counts["sum_overflow"] == 0
    if case.kind == "max_pool":
        assert counts["qd_rounded"] == 0
    # the registry's exact values (the report's ideal) are the oracle's
    sums = np.asarray(get_kind(case.kind).sums(geom, inp["input"]))
    if case.kind == "max_pool":
        assert np.array_equal(sums.astype(object), naive.max_pool_values(case.oracle_params, inp["input"]))
    else:
        s, n = naive.avg_pool_sums(case.oracle_params, inp["input"])
        assert sums.dtype == np.float64
        assert [float(v) for v in sums.flat] == [int(a) / int(b) for a, b in zip(s.flat, n.flat)]


def test_relu_before_equals_after():
    """max(relu(x)) == relu(max(x)) bit for bit (relu is monotonic), on the matrix's signed
    family and on more geometries; both equal the plain max clamped at 0 when out_t holds
    in_t."""
    fam = [c for c in POOL_CASES if c.family == "maxpool-relu-family"]
    assert {c.geometry["relu"] for c in fam} == {"before", "after"}
    a, b = (twin(c.id)[1].top.raw for c in fam)
    assert np.array_equal(a, b) and (a == 0).any() and (a > 0).any()
    rng = np.random.default_rng(7)
    cfg = KernelConfig(in_t=parse("ap_fixed<9,3>"), out_t=parse("ap_fixed<9,3>"))
    for k, s, p in [(2, 2, 0), (3, 1, 1), (3, 2, 1), (4, 3, 2), (1, 1, 0)]:
        x = rng.integers(-256, 256, size=(3, 7, 10))
        outs = {r: run("max_pool", x, config=cfg, kernel_size=k, stride=s, padding=p, relu=r).top.raw
                for r in ("none", "before", "after")}
        assert np.array_equal(outs["before"], outs["after"])
        assert np.array_equal(outs["before"], np.maximum(outs["none"], 0))


def _round(x: Fraction, mode: str) -> int:
    """x rounded to an integer by an ap_fixed quantization mode (their documented meaning)."""
    fl = math.floor(x)
    frac = x - fl
    if mode == "AP_TRN":
        return fl
    if mode == "AP_TRN_ZERO":
        return math.trunc(x)
    if frac != Fraction(1, 2):
        return fl + (frac > Fraction(1, 2))
    return {"AP_RND": fl + 1, "AP_RND_MIN_INF": fl, "AP_RND_ZERO": fl + (x < 0),
            "AP_RND_INF": fl + (x > 0), "AP_RND_CONV": fl + (fl % 2)}[mode]


def test_every_qd_rounding_mode_rounds_the_exact_mean():
    """With reciprocals 1, 1/2, 1/4 (exact in factor_t) the product is the exact mean, so qd_t
    rounds it exactly as its mode says; on signed data with ties, the seven modes differ."""
    fam = {c.config.qd_t.q_mode.name: c for c in POOL_CASES if c.family == "avgpool-qd-family"}
    assert set(fam) == set(QD_MODES)
    inp = twin(next(iter(fam.values())).id)[0]
    first = next(iter(fam.values()))
    s, n = naive.avg_pool_sums(first.oracle_params, inp["input"])
    assert set(n.flat) == {1, 2, 4}
    means = [Fraction(int(a), int(b)) for a, b in zip(s.flat, n.flat)]
    assert any(m.denominator == 2 and m < 0 for m in means) and any(m.denominator == 2 and m > 0 for m in means)
    outs = {}
    for mode, case in fam.items():
        got = twin(case.id)[1].top.raw
        assert [int(v) for v in got.flat] == [_round(m, mode) for m in means], mode
        outs[mode] = got
    for a in QD_MODES:
        for b in QD_MODES:
            if a < b:
                assert not np.array_equal(outs[a], outs[b]), (a, b)


def test_int_acc_adds_the_inputs_integer_part():
    """acc_t ap_int += in_t ap_fixed adds in.to_ap_int_base() (toward zero), as the headers'
    operator+= does; the natural sum converted to acc_t would give other outputs (so the C++
    tier's agreement with the twin decides between the two)."""
    case = next(c for c in POOL_CASES if c.preset == "pool-int-acc")
    inp, res = twin(case.id)
    c, p = case.config, case.oracle_params
    prod_t = naive.result_type("*", c.acc_t, c.factor_t)
    natural = np.empty(res.top.raw.shape, dtype=object)
    for idx, vals in naive._pool_windows(p, inp["input"]):
        acc = 0
        for v in vals:
            t, t_t = naive._add_raw(acc, c.acc_t, v, c.in_t)
            acc = naive.cast(t, t_t, c.acc_t)
        recip = int(c.factor_t.quantize(1.0 / naive.pool_divisor(p, len(vals))).raw)
        natural[idx] = naive.cast(naive.cast(acc * recip, prod_t, c.qd_t), c.qd_t, c.out_t)
    assert not np.array_equal(res.top.raw.astype(object), natural)


@pytest.mark.parametrize("fmt", ["ap_fixed<32,1>", "ap_fixed<18,2>", "ap_ufixed<16,1>", "ap_int<4>",
                                 "ap_fixed<8,1,AP_RND,AP_SAT>", "ap_ufixed<70,1,AP_RND_CONV>"])
def test_reciprocals_are_the_headers_double_conversion(fmt):
    f = parse(fmt)
    for n in range(1, 17):
        q = f.quantize(1.0 / n)
        assert reciprocal(f, n) == (int(q.raw), int(q.status)), (fmt, n)
    assert reciprocal(parse("ap_fixed<32,1>"), 1)[1] & OVERFLOW  # 1.0 does not fit


@pytest.mark.parametrize("h", [1, 2, 5, 8, 9, 16])
@pytest.mark.parametrize("kind", ["max_pool", "avg_pool"])
def test_output_size_is_pytorchs(kind, h):
    """floor((H + 2P - K) / S) + 1, ceil_mode off; stride defaults to kernel_size."""
    for k in range(1, 5):
        for p in range(0, k // 2 + 1):
            for s in (None, 1, 2, 3, 4):
                want = math.floor((h + 2 * p - k) / (s or k)) + 1
                params = dict(in_channels=2, height=h, width=h + 3, kernel_size=k, padding=p)
                if s is not None:
                    params["stride"] = s
                if want < 1:
                    with pytest.raises(ValueError, match="^kernel_size: "):
                        get_kind(kind).geometry(params)
                    continue
                g = get_kind(kind).geometry(params)
                assert g["stride"] == (s or k)
                assert g.shape("top") == (2, want, math.floor((h + 3 + 2 * p - k) / (s or k)) + 1)


def _geo(kind: str, **p):  # noqa: ANN202
    return get_kind(kind).geometry({"in_channels": 4, "height": 5, "width": 5, **p})


@pytest.mark.parametrize("kind, params, field", [
    pytest.param("max_pool", dict(kernel_size=3, padding=2), "padding", id="max-padding-above-K/2"),
    pytest.param("avg_pool", dict(kernel_size=2, padding=2), "padding", id="avg-padding-above-K/2"),
    pytest.param("avg_pool", dict(kernel_size=1, padding=1), "padding", id="avg-k1-padding"),
    pytest.param("max_pool", dict(kernel_size=5), "kernel_size", id="max-k5"),
    pytest.param("avg_pool", dict(kernel_size=0), "kernel_size", id="avg-k0"),
    pytest.param("max_pool", dict(), "kernel_size", id="max-kernel-size-missing"),
    pytest.param("max_pool", dict(kernel_size=2, stride=5), "stride", id="max-stride-5"),
    pytest.param("max_pool", dict(kernel_size=2, relu="both"), "relu", id="max-bad-relu"),
    pytest.param("avg_pool", dict(kernel_size=2, count_include_pad=1), "count_include_pad", id="avg-cip-int"),
    pytest.param("avg_pool", dict(kernel_size=2, count_include_pad="yes"), "count_include_pad", id="avg-cip-str"),
    pytest.param("avg_pool", dict(kernel_size=2, relu="after"), "relu", id="avg-has-no-relu"),
    pytest.param("max_pool", dict(kernel_size=2, count_include_pad=True), "count_include_pad", id="max-has-no-cip"),
    pytest.param("max_pool", dict(kernel_size=2, out_channels=8), "out_channels", id="max-no-out-channels"),
])
def test_bad_parameters_name_the_field(kind, params, field):
    with pytest.raises(ValueError, match=rf"^{field}: "):
        _geo(kind, **params)


def test_window_larger_than_the_input_names_kernel_size():
    with pytest.raises(ValueError, match=r"^kernel_size: a 4x4 window does not fit the 2x9 input"):
        get_kind("max_pool").geometry(dict(in_channels=1, height=2, width=9, kernel_size=4, padding=0))
    assert get_kind("max_pool").geometry(dict(in_channels=1, height=2, width=9, kernel_size=4,
                                              padding=1)).shape("top") == (1, 1, 2)


def test_avg_note_names_a_reciprocal_factor_t_cannot_hold():
    kind = get_kind("avg_pool")

    class L:  # the two attributes the note reads
        def __init__(self, geometry, config):
            self.geometry, self.config = geometry, config

    k1 = _geo("avg_pool", kernel_size=1)
    note = kind.note(L(k1, KernelConfig()))
    assert note and "1/1 becomes -1.0 (overflow)" in note and "ap_fixed<32,1>" in note
    assert kind.note(L(k1, KernelConfig(factor_t=parse("ap_fixed<32,2>")))) is None
    assert kind.note(L(_geo("avg_pool", kernel_size=3, padding=1), KernelConfig())) is None
    # count_include_pad false: n = 1 at a corner of a 2x2 window padded by 1
    nopad = _geo("avg_pool", kernel_size=2, padding=1, count_include_pad=False)
    assert "1/1 becomes" in kind.note(L(nopad, KernelConfig()))
    assert "1/9 becomes 0" in kind.note(L(_geo("avg_pool", kernel_size=3), KernelConfig(factor_t=parse("ap_ufixed<3,0>"))))


def test_count_include_pad_changes_only_the_border():
    x = np.random.default_rng(3).integers(0, 256, size=(2, 6, 7))
    inc = run("avg_pool", x, kernel_size=3, stride=1, padding=1).top.raw
    exc = run("avg_pool", x, kernel_size=3, stride=1, padding=1, count_include_pad=False).top.raw
    assert np.array_equal(inc[:, 1:-1, 1:-1], exc[:, 1:-1, 1:-1])
    assert (inc[:, 0, :] <= exc[:, 0, :]).all() and not np.array_equal(inc[:, 0, :], exc[:, 0, :])


# ---- the C++ tier: kernels/pool.h through the golden testbench (g++, real headers) -----------
VECTORS = 2


def layer_of(case: Case) -> Layer:
    inp = case.inputs()
    geom = case.geometry
    return Layer(path=f"{case.id}.yaml", kernel=case.kind, config=case.config, input=inp["input"],
                 weight=None, bias=None, factor=None,
                 top=np.zeros(geom.shape("top"), dtype=np.int64), name=case.id, geometry=geom)


@pytest.fixture(scope="module")
def testbenches(toolchain, request):
    benches = cxx.prebuild([(c.kind, c.config, c.geometry) for c in POOL_CASES])
    warm_twins(selected(request))
    return benches


@pytest.mark.toolchain
@pytest.mark.parametrize("case_id", IDS)
def test_pool_golden_set_passes_the_cxx_testbench(testbenches, tmp_path, case_id):
    case = BY_ID[case_id]
    cxx.assert_csim_passes(layer_of(case), testbenches[(case.kind, case.config, case.geometry)],
                           tmp_path, VECTORS)
