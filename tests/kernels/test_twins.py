"""The numba twins against the slow oracle and a stage-by-stage model built on hls_sim.types."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from hls_sim import jit
from hls_sim.kernels import KernelConfig, run
from hls_sim.kernels.hls_kernels import COUNTER_NAMES
from hls_sim.types import APArray, result_type
from tests.kernels import kernel_oracle
from tests.kernels.matrix import (CONFIGS, ENGINE_CONFIGS, EXACT_CONFIG, KERNELS, config_of,
                                  make_inputs, seed_of, written_region)

CASES = [(k, name) for k in KERNELS for name in CONFIGS] + [("conv1x1", n) for n in ENGINE_CONFIGS]
ALL = {**CONFIGS, **ENGINE_CONFIGS}


def engine_totals(c: KernelConfig, w: np.ndarray, b: np.ndarray) -> tuple[APArray, np.ndarray]:
    """compute_engine_16 on whole rows of APArrays, with product_t / tree_t conversions
    (docs/kinds.md); and where one of those conversions overflowed."""
    prod = result_type("*", c.weight_t, c.in_t)
    terms = [APArray.from_raw(prod, w[:, k][:, None, None] * b[k, :32, :64][None]) for k in range(16)]
    over = np.zeros((16, 32, 64), bool)
    if c.product_t is not None:
        terms = [t.cast(c.product_t) for t in terms]
        for t in terms:
            over |= t.overflowed
    while len(terms) > 1:
        terms = [terms[i] + terms[i + 1] for i in range(0, len(terms), 2)]
        if c.tree_t is not None:
            terms = [t.cast(c.tree_t) for t in terms]
            for t in terms:
                over |= t.overflowed
    return terms[0], over


def stagewise(kernel: str, c: KernelConfig, inp: dict) -> tuple[np.ndarray, dict[str, int]]:
    """The whole tile through APArray conversions, stage by stage, and the event counts."""
    plan = c.plan()
    b, w = inp["bottom"].astype(object), inp["weight"].astype(object)
    engine_over = np.zeros(1, bool)
    if kernel == "conv1x1" and c.engine_typed:
        typed, engine_over = engine_totals(c, w, b)
        totals, total_t = typed.raw, typed.type
        assert total_t == plan.engine_t
    elif kernel == "conv1x1":
        totals = np.einsum("ok,khw->ohw", w, b[:, :32, :64])
        total_t = plan.engine_t
    else:
        totals = sum(w[:, dh, dw][:, None, None] * b[:, dh:dh + 32, dw:dw + 64]
                     for dh in range(3) for dw in range(3))
        total_t = plan.chain9_t
    acc = APArray.from_raw(total_t, totals).cast(c.acc_t)
    f = inp["factor"].reshape(-1)
    factor = APArray.from_raw(c.factor_t, (f if c.per_channel_factor else np.repeat(f, 16))[:, None, None])
    qd = (acc * factor).cast(c.qd_t)
    bias = APArray.from_raw(c.bias_t, inp["bias"][:, None, None])
    s = (bias + qd).cast(c.sum_t)
    top_max = APArray.from_raw(c.out_t, c.out_t.max_raw)
    low = s < 0
    high = (s > top_max) & c.relu_clip
    conv = s.cast(c.out_t)
    out = np.where(low, 0, np.where(high, c.out_t.max_raw, conv.raw))
    passed = ~low & ~high
    counts = {"acc_overflow": acc.overflowed.sum(), "qd_overflow": qd.overflowed.sum(),
              "sum_overflow": s.overflowed.sum(), "out_overflow": (conv.overflowed & passed).sum(),
              "clip_low": low.sum(), "clip_high": high.sum(), "qd_rounded": qd.rounded.sum(),
              "engine_overflow": engine_over.sum()}
    return out, {k: int(v) for k, v in counts.items()}


def _run(kernel: str, c: KernelConfig, inp: dict, variant: str = "specialised"):
    with jit.kernels(variant):
        return run(kernel, inp["bottom"], inp["weight"], inp["bias"], inp["factor"], c, top=inp["top"])


def _conv1x1(bottom, top, weight, bias, factor, config=None):  # noqa: ANN001, ANN202
    return run("conv1x1", bottom, weight, bias, factor, config, top=top)


@pytest.mark.parametrize("variant", ["specialised", "generic"])
@pytest.mark.parametrize("kernel, name", CASES)
def test_twin_matches_oracle_and_stagewise_model(kernel, name, variant):
    """Both machine codes of the twin (hls_sim.jit.kernel): constants folded, and the one
    generic build with the configuration as arguments."""
    fields, scale = ALL[name]
    c = config_of(fields)
    inp = make_inputs(kernel, c, scale, seed=seed_of(kernel, name))
    res = _run(kernel, c, inp, variant)
    assert (res.path, res.kernel) == ("int64", variant)
    top = res.top.raw
    for co, h, w in kernel_oracle.sample_positions(kernel, 200, seed=1):
        assert top[co, h, w] == kernel_oracle.output(kernel, c, inp, co, h, w), (co, h, w)
    hs, ws = written_region(kernel)
    want, counts = stagewise(kernel, c, inp)
    assert np.array_equal(top[:, hs, ws], want)
    untouched = np.ones(top.shape, bool)
    untouched[:, hs, ws] = False
    assert np.array_equal(top[untouched], inp["top"][untouched]), "kernel wrote outside its region"
    assert res.counters.total() == counts
    assert set(counts) == set(COUNTER_NAMES)


def test_matrix_exercises_every_stage():
    """The matrix is only worth something if its events actually happen somewhere."""
    seen = dict.fromkeys(COUNTER_NAMES, 0)
    for kernel, name in CASES:
        fields, scale = ALL[name]
        c = config_of(fields)
        res = _run(kernel, c, make_inputs(kernel, c, scale, seed=seed_of(kernel, name)))
        for k, v in res.counters.total().items():
            seen[k] += v
    assert all(v > 0 for v in seen.values()), seen


@pytest.mark.parametrize("kernel", KERNELS)
def test_wide_configuration_takes_the_exact_path(kernel):
    fields, scale = EXACT_CONFIG
    c = config_of(fields)
    inp = make_inputs(kernel, c, scale, seed=7)
    res = _run(kernel, c, inp)
    assert res.path == "exact"
    hs, ws = written_region(kernel)
    want, counts = stagewise(kernel, c, inp)
    assert np.array_equal(res.top.raw[:, hs, ws].astype(np.int64), want.astype(np.int64))
    for co, h, w in kernel_oracle.sample_positions(kernel, 20, seed=2):
        assert res.top.raw[co, h, w] == kernel_oracle.output(kernel, c, inp, co, h, w)


def test_inputs_are_validated():
    c = KernelConfig()
    inp = make_inputs("conv1x1", c, 2.0 ** -14, seed=0)
    args = [inp[k] for k in ("bottom", "top", "weight", "bias", "factor")]
    bad_shape = list(args)
    bad_shape[2] = inp["weight"][:8]
    with pytest.raises(ValueError, match=r"weight: expected shape \[16, 16\], got \[8, 16\]"):
        _conv1x1(*bad_shape)
    bad_range = list(args)
    bad_range[0] = inp["bottom"].copy()
    bad_range[0][1, 2, 3] = 256
    with pytest.raises(ValueError, match=r"bottom: ap_uint<8>: 1 raw value\(s\) outside \[0, 255\]"):
        _conv1x1(*bad_range)
    floats = list(args)
    floats[3] = inp["bias"].astype(float)
    with pytest.raises(ValueError, match="bias: expected raw integers of ap_int<16>, got floats"):
        _conv1x1(*floats)
    wrong_type = list(args)
    wrong_type[4] = APArray.from_raw(result_type("+", c.factor_t, c.factor_t), 5)
    with pytest.raises(ValueError, match=r"factor: has type ap_fixed<33,2>, the configuration says ap_fixed<32,1>"):
        _conv1x1(*wrong_type)
    per_channel = list(args)
    with pytest.raises(ValueError, match=r"factor: expected shape \[16\], got \[\]"):
        _conv1x1(*per_channel, KernelConfig(per_channel_factor=True))


def test_second_process_loads_compiled_kernels_from_cache():
    """No numba compilation on a second run (numba's own counters say so, no timing): the
    specialised machine code is loaded from the disk cache."""
    code = ("import numpy as np\n"
            "from hls_sim.kernels import KINDS, KernelConfig, run\n"
            "from hls_sim.kernels.common import compiled\n"
            "c = KernelConfig()\n"
            "for name in ('conv1x1', 'dw_conv3x3', 'conv2d'):\n"
            "    kind = KINDS[name]\n"
            "    p = {} if kind.seed else {'in_channels': 16, 'height': 8, 'width': 8, 'kernel_size': 3}\n"
            "    g = kind.geometry(p)\n"
            "    z = np.zeros(g.shape('input'), np.int64)\n"
            "    run(name, z, np.zeros(g.shape('weight'), np.int64), np.zeros(16, np.int64), 0, c, **p)\n"
            "    k = compiled(kind, g, c, True)\n"
            "    s = k.dispatcher().stats\n"
            "    print(name, sum(s.cache_hits.values()), sum(s.cache_misses.values()))\n")
    env = {**os.environ, "HLS_SIM_KERNELS": "specialised"}
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, env=env)
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True,
                         env=env).stdout
    for line in out.splitlines():
        name, hits, misses = line.split()
        assert (int(hits), int(misses)) == (1, 0), line
