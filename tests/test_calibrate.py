"""Calibration (hls_sim.calibrate): a float network becomes a network file whose integers fit
their types, whose factors keep their precision, and whose output stays within a derived
bound of the float network; the example network weights/encdec.yaml and its generator."""

from __future__ import annotations

import importlib.util
import io
import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from hls_sim.calibrate import (FloatLayer, FloatNetwork, calibrate, check_network, forward,
                               npz_bytes, sqnr_db)
from hls_sim.kernels import KINDS
from hls_sim.network import load_network, run_network
from hls_sim.runner import factor_precision

WEIGHTS = Path(__file__).resolve().parent.parent / "weights"


def _rng(i: int) -> np.random.Generator:
    return np.random.default_rng([7, i])


def _w(i: int, shape: tuple[int, ...], fan_in: int) -> np.ndarray:
    return (_rng(i).standard_normal(shape) * math.sqrt(2 / fan_in)).astype(np.float32)


def _b(i: int, n: int) -> np.ndarray:
    return (_rng(100 + i).standard_normal(n) * 0.05).astype(np.float32)


def tiny() -> FloatNetwork:
    """Every calibration path: a convolution, a depthwise stride-2 one, a pointwise one, a
    deconvolution, concat and add (scale groups), a signed head without activation."""
    return FloatNetwork([
        FloatLayer("c1", "conv2d", {"out_channels": 8, "kernel_size": 3, "padding": 1},
                   _w(0, (8, 3, 3, 3), 27), _b(0, 8)),
        FloatLayer("dw", "conv2d", {"out_channels": 8, "kernel_size": 3, "stride": 2, "padding": 1,
                                    "groups": 8}, _w(1, (8, 1, 3, 3), 9), _b(1, 8)),
        FloatLayer("pw", "conv2d", {"out_channels": 16, "kernel_size": 1},
                   _w(2, (16, 8, 1, 1), 8), _b(2, 16)),
        FloatLayer("up", "conv_transpose", {"out_channels": 8, "kernel_size": 2, "stride": 2},
                   _w(3, (16, 8, 2, 2), 16), _b(3, 8)),
        FloatLayer("cat", "concat", input="up", input2="c1"),
        FloatLayer("mix", "conv2d", {"out_channels": 8, "kernel_size": 1},
                   _w(4, (8, 16, 1, 1), 16), _b(4, 8)),
        FloatLayer("sum", "add", input="mix", input2="c1"),
        FloatLayer("head", "conv2d", {"out_channels": 3, "kernel_size": 3, "padding": 1,
                                      "activation": "none"}, _w(5, (3, 8, 3, 3), 72), _b(5, 3)),
    ])


def _images() -> np.ndarray:
    return _rng(99).random((2, 3, 12, 16))


@pytest.fixture(scope="module", params=[True, False], ids=["per-channel", "per-tensor"])
def tiny_run(request, tmp_path_factory):  # noqa: ANN001, ANN201
    """The tiny network calibrated, written as a network file and run by hls_sim.network."""
    net, x = tiny(), _images()
    q = calibrate(net, x, input_scale=1 / 255, per_channel=request.param)
    d = tmp_path_factory.mktemp("tiny")
    np.save(d / "x.npy", q.quantize_input(x))
    q.write(d, "tiny", {"file": "x.npy"}, name="tiny")
    run = run_network(load_network(d / "tiny.yaml"), keep_all=True)
    return SimpleNamespace(net=net, x=x, q=q, run=run, dir=d, per_channel=request.param)


def test_integers_fit_their_types(tiny_run):  # noqa: ANN001
    q = tiny_run.q
    geoms = {nl.name: nl.layer.geometry for nl in tiny_run.run.network.layers}
    for ql in q.layers:
        if ql.weight is None:
            continue
        for role, t in (("weight", "weight_t"), ("bias", "bias_t"), ("factor", "factor_t")):
            a, fmt = getattr(ql, role), ql.types[t]
            assert fmt.min_raw <= a.min() and a.max() <= fmt.max_raw, (ql.name, role)
        # symmetric: the largest weight of each channel (of the tensor) reaches max(weight_t)
        kind, geom = KINDS[ql.kind], geoms[ql.name]
        owner = kind.conv.scale_weight(geom, np.ones(ql.weight.shape), np.arange(geom.out_channels, dtype=float))
        peaks = [np.abs(ql.weight[owner == c]).max() for c in range(geom.out_channels)]
        wmax = ql.types["weight_t"].max_raw
        assert (max(peaks) == wmax) if not tiny_run.per_channel else all(p == wmax for p in peaks)
        assert not ql.notes, ql.notes
    assert not q.notes


def test_factors_keep_their_precision(tiny_run):  # noqa: ANN001
    for ql in tiny_run.q.layers:
        if ql.weight is None:
            continue
        layer = SimpleNamespace(factor_requested=ql.factor_value, factor=ql.factor,
                                config=SimpleNamespace(factor_t=ql.factor_t))
        assert factor_precision(layer) is None, ql.name  # hls-sim run's warning rule
        rel = np.abs(ql.factor_values() / ql.factor_value - 1)
        assert rel.max() <= 2.0 ** -16, (ql.name, rel.max())  # 16 significant bits, rounded
        assert ql.factor_t.width + 32 <= 64  # acc_t * factor_t stays on the int64 path


def test_scale_groups_share_one_scale(tiny_run):  # noqa: ANN001
    s = tiny_run.q.scales
    assert s["up"] == s["c1"] == s["cat"] == s["mix"] == s["sum"]  # concat, then add, link them
    assert tiny_run.q.types["sum"].width == 9  # add: the exact sum of two ap_uint<8>
    for t, fmt in tiny_run.q.types.items():  # no tensor's float peak is beyond its type's top
        assert tiny_run.q.peaks[t] <= s[t] * fmt.max_value * (1 + 1e-12), t


def _rounding(ql) -> float:  # noqa: ANN001
    """The largest relative rounding of a layer's factors in factor_t."""
    return float(np.abs(ql.factor_values() / ql.factor_value - 1).max())


def _absums(kind, geom, a: np.ndarray, w: np.ndarray) -> np.ndarray:  # noqa: ANN001
    return kind.sums(geom, np.abs(a), np.abs(w))


def test_each_layer_within_its_derived_bound(tiny_run):  # noqa: ANN001
    """Each layer on the inputs it got: the kernel against the float layer on the real value
    of the same integer input, clipped to out_t's range as the kernel clips. With W the
    float weights, W_e = s_w * w the integer weights in real units, X the real input and r
    the largest relative rounding of a factor in factor_t:
      |kernel - float| <= s_out/2 (the bias rounded to out_t units)
                        + s_out/2 (quant_dequant rounds acc * factor to an integer)
                        + sum |W - W_e| |X|  +  r * sum |W_e| |X|
    (relu and the clip are 1-Lipschitz). A merge is exact: the real values of its output
    are the sum (the stack) of its inputs' real values, which checks the shared scales."""
    q, run, nls = tiny_run.q, tiny_run.run, tiny_run.run.network.layers
    raw = {"input": q.quantize_input(tiny_run.x), **run.saved}
    for nl, fl, ql in zip(nls, tiny_run.net.layers, q.layers):
        kind, geom = KINDS[ql.kind], nl.layer.geometry
        xs = q.real(raw[nl.reads["input"]], nl.reads["input"])
        got = q.real(run.saved[ql.name], ql.name)
        if ql.weight is None:
            x2 = q.real(raw[nl.reads["input2"]], nl.reads["input2"])
            want = np.concatenate([xs, x2], axis=1) if ql.kind == "concat" else xs + x2
            assert np.array_equal(got, want), ql.name
            continue
        w_e = kind.conv.scale_weight(geom, ql.weight.astype(np.float64), ql.weight_scale)
        w_f = fl.weight.astype(np.float64)
        lo, hi = ql.out_type.min_value * ql.output_scale, ql.out_type.max_value * ql.output_scale
        r = _rounding(ql)
        for x, y in zip(xs, got):
            f = kind.sums(geom, x, w_f) + fl.bias.astype(np.float64)[:, None, None]
            f = np.clip(np.maximum(f, 0) if geom["activation"] == "relu" else f, lo, hi)
            bound = (ql.output_scale + _absums(kind, geom, x, w_f - w_e)
                     + r * _absums(kind, geom, x, w_e))
            assert (np.abs(y - f) <= bound * (1 + 1e-9)).all(), (ql.name, float((np.abs(y - f) - bound).max()))


def _propagated_bound(tiny_run) -> dict[str, np.ndarray]:  # noqa: ANN001
    """A worst-case bound on |quantized - float| (real units) of every tensor, propagated
    from the network input (half an input LSB): a layer with weights adds to the bound above
    the input's error through its weights, ``sum |W_e| E (1 + r)``; relu and the clip never
    add error (the float values lie inside out_t's range: the calibration images are the
    test images); concat stacks the bounds, add adds them. Loose (every error is taken at
    its worst, with every sign against), but a bound."""
    q, net = tiny_run.q, tiny_run.net
    f = forward(net, tiny_run.x, keep=["input"] + [fl.name for fl in net.layers])
    bound = {"input": np.full(tiny_run.x.shape, q.input_scale / 2)}
    for nl, fl, ql in zip(tiny_run.run.network.layers, net.layers, q.layers):
        geom, kind, src = nl.layer.geometry, KINDS[ql.kind], nl.reads["input"]
        if ql.weight is None:
            a, b = bound[src], bound[nl.reads["input2"]]
            bound[ql.name] = np.concatenate([a, b], axis=1) if ql.kind == "concat" else a + b
            continue
        w_e = kind.conv.scale_weight(geom, ql.weight.astype(np.float64), ql.weight_scale)
        dw, r = fl.weight.astype(np.float64) - w_e, _rounding(ql)
        bound[ql.name] = np.stack([
            ql.output_scale + _absums(kind, geom, x, dw) + _absums(kind, geom, e, w_e)
            + r * _absums(kind, geom, np.abs(x) + e, w_e) for x, e in zip(f[src], bound[src])])
    return bound


def test_output_within_the_propagated_bound_of_the_float_network(tiny_run):  # noqa: ANN001
    q, run = tiny_run.q, tiny_run.run
    for st in run.stats:  # the bounds assume no intermediate type overflows (the head's
        over = {n: v for n, v in st.counters.items() if n.endswith("overflow") and v}
        assert not over or (st.name == "head" and set(over) == {"out_overflow"}), (st.name, over)
        # saturation at out_t's range only moves it toward the float value)
    f = forward(tiny_run.net, tiny_run.x)
    bound = _propagated_bound(tiny_run)
    for ql in q.layers:
        err = np.abs(q.real(run.saved[ql.name], ql.name) - f[ql.name])
        assert (err <= bound[ql.name] * (1 + 1e-9)).all(), (ql.name, float((err - bound[ql.name]).max()))
    # the worst case is far from typical: eight layers of 8-bit rounding keep the output's
    # error energy under 1% of the signal's (measured: 34.8 dB per channel, 34.3 dB per tensor)
    assert sqnr_db(f["head"], q.real(run.output)) > 20


def test_files_load_with_float_blocks(tiny_run):  # noqa: ANN001
    net = load_network(tiny_run.dir / "tiny.yaml")
    q = tiny_run.q
    for nl in net.layers:
        ql = q.layer(nl.name)
        assert nl.layer.config.out_t == ql.out_type
        if ql.weight is None:
            assert nl.layer.float_model is None
            continue
        fm = nl.layer.float_model
        assert fm.input_scale == ql.input_scale and fm.output_scale == ql.output_scale
        assert np.array_equal(fm.weight, ql.float_weight.astype(np.float64))
        assert nl.layer.config.per_channel_factor == tiny_run.per_channel
        assert np.array_equal(nl.layer.factor, ql.factor) and np.array_equal(nl.layer.weight, ql.weight)
    with pytest.raises(ValueError, match="already exists"):
        q.write(tiny_run.dir, "tiny", {"file": "x.npy"})


# ---- bad input ------------------------------------------------------------------------------------
def _with(i: int, **change) -> FloatNetwork:  # noqa: ANN003
    layers = list(tiny().layers)
    d = {k: getattr(layers[i], k) for k in ("name", "kind", "params", "weight", "bias", "input",
                                            "input2", "types")}
    d.update(change)
    layers[i] = FloatLayer(**d)
    return FloatNetwork(layers)


@pytest.mark.parametrize("net, match", [
    (_with(0, kind="conv3d"), r"layers\[0\] \(c1\)\.kind: expected one of"),
    (_with(0, kind="conv1x1"), r"kind: conv1x1 runs on the seed's"),
    (_with(1, name="c1"), r"layers\[1\]\.name: 'c1' is already the name of an earlier layer"),
    (_with(0, input="mix"), r"\(c1\)\.input: expected the network input or an earlier layer"),
    (_with(2, weight=np.zeros((16, 8, 3, 3))),
     r"\(pw\)\.weight: shape \[16\]\[8\]\[3\]\[3\]; conv2d .* needs \[16\]\[8\]\[1\]\[1\]"),
    (_with(2, bias=np.zeros(3)), r"\(pw\)\.bias: shape \[3\]; expected \[16\]"),
    (_with(2, weight=np.full((16, 8, 1, 1), np.nan)), r"\(pw\)\.weight: 128 value\(s\) are NaN"),
    (_with(2, weight=None), r"\(pw\)\.weight: missing"),
    (_with(2, params={"out_channels": 16, "kernel_size": 1, "in_channels": 8}),
     r"params\.in_channels: comes from the graph"),
    (_with(2, params={"out_channels": 16, "kernel_size": 9}), r"\(pw\)\.params\.kernel_size: must be 1\.\.7"),
    (_with(2, params={"out_channels": 16, "kernel_size": 1, "activation": "clip", "clip_at": 6}),
     r"activation: clip is not calibrated"),
    (_with(4, input2=None), r"\(cat\)\.input2: missing"),
    (_with(4, weight=np.ones(3)), r"\(cat\)\.weight: kind concat has no weight"),
    (_with(6, input2="pw"), r"\(sum\)\.input2: pw has shape \[16\]\[6\]\[8\]; add needs \[8\]\[12\]\[16\]"),
    (_with(2, types={"in_t": "ap_uint<8>"}), r"types\.in_t: not a type calibration sets"),
    (_with(2, types={"out_t": "ap_int<0>"}), r"types\.out_t: .*width"),
    (FloatNetwork([]), r"layers: the network has no layer"),
    (FloatNetwork(tiny().layers, output="nope"), r"output: expected the name of a layer"),
])
def test_bad_networks_are_refused(net, match):  # noqa: ANN001
    with pytest.raises(ValueError, match=match):
        calibrate(net, _images())


@pytest.mark.parametrize("kwargs, match", [
    (dict(images=np.zeros((3, 12))), r"images: shape \[3\]\[12\]; expected \[N\]\[C\]\[H\]\[W\]"),
    (dict(images=np.full((1, 3, 12, 16), np.inf)), r"images: 576 value\(s\) are NaN or infinite"),
    (dict(images=np.zeros((1, 3, 12, 16))), r"images: every value is 0"),
    (dict(input_scale=-1.0), r"input_scale: expected a positive finite number"),
    (dict(weight_t="ap_uint<8>"), r"weight_t: ap_uint<8> must be signed"),
    (dict(input_type="ap_uint<8"), r"input_type: "),
    (dict(factor_bits=2), r"factor_bits: expected an integer 4\.\.52"),
    (dict(per_channel="yes"), r"per_channel: expected true or false"),
])
def test_bad_arguments_are_refused(kwargs, match):  # noqa: ANN001
    args = dict(images=_images(), input_scale=None)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        calibrate(tiny(), args.pop("images"), **args)


def test_dead_relu_layer_is_named():
    layers = list(tiny().layers)  # a bias far below zero: the relu is 0 everywhere
    layers[2] = FloatLayer("pw", "conv2d", {"out_channels": 16, "kernel_size": 1},
                           layers[2].weight, np.full(16, -100.0, dtype=np.float32))
    with pytest.raises(ValueError, match=r"layer pw: its float output .* is 0 on every calibration image"):
        calibrate(FloatNetwork(layers[:3]), _images())


def test_check_network_gives_shapes_and_forward_keeps_what_is_asked():
    nodes = check_network(tiny(), (3, 12, 16))
    assert [nd.geom.shape("top") for nd in nodes][-4:] == [(16, 12, 16), (8, 12, 16), (8, 12, 16), (3, 12, 16)]
    out = forward(tiny(), _images()[0], keep=["up", "input"])
    assert set(out) == {"up", "input"} and out["up"].shape == (1, 8, 12, 16)
    with pytest.raises(ValueError, match="keep: 'nope' is not a tensor"):
        forward(tiny(), _images(), keep=["nope"])


def test_npz_bytes_are_reproducible_and_load():
    a = {"x.weight": np.arange(6, dtype=np.int8).reshape(2, 3), "x.bias": np.array([1.5], np.float32)}
    b = npz_bytes(a)
    assert b == npz_bytes(dict(a))
    z = np.load(io.BytesIO(b))
    assert list(z) == ["x.weight", "x.bias"] and np.array_equal(z["x.weight"], a["x.weight"])


def test_sqnr():
    assert sqnr_db([1.0, 2.0], [1.0, 2.0]) == math.inf
    assert sqnr_db([3.0, 4.0], [3.0, 4.5]) == pytest.approx(10 * math.log10(25 / 0.25))
    with pytest.raises(ValueError, match="shape"):
        sqnr_db([1.0], [1.0, 2.0])


# ---- the example network ------------------------------------------------------------------------
def _make_encdec():  # noqa: ANN202 - the generator script, imported from weights/
    spec = importlib.util.spec_from_file_location("make_encdec", WEIGHTS / "make_encdec.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_example_network_runs_close_to_its_float_network():
    mk = _make_encdec()
    net, images, q = mk.build()
    run = run_network(load_network(WEIGHTS / "encdec.yaml"))
    assert run.output.shape == (1, 4, 128, 256)
    got, ref = q.real(run.output), forward(net, images, keep=["head"])["head"]
    # 8-bit activations through ten layers: measured 32.9 dB; 25 dB is an error energy of
    # 0.3% of the signal's, which a broken scale, factor or merge falls far short of
    assert sqnr_db(ref, got) > 25
    for st in run.stats:  # every layer is its exact reference, to rounding (the head's one
        assert st.max_abs_lsb <= 0.5 or st.name == "head"   # saturated output aside)


def test_example_files_regenerate_byte_for_byte(tmp_path: Path):
    mk = _make_encdec()
    paths = mk.generate(tmp_path)
    assert {p.relative_to(tmp_path).as_posix() for p in paths} == {
        "encdec.yaml", "encdec.npz", "encdec_float.npz", "encdec_images/scene.png"}
    for p in paths:
        rel = p.relative_to(tmp_path)
        if rel.suffix == ".png":  # the pixels: PNG bytes depend on the zlib PIL links
            from PIL import Image

            assert np.array_equal(np.asarray(Image.open(p)), np.asarray(Image.open(WEIGHTS / rel))), rel
        else:
            assert p.read_bytes() == (WEIGHTS / rel).read_bytes(), \
                f"{rel} differs from the committed file: rerun python weights/make_encdec.py"


def test_percentile_scales_reach_that_percentile_not_the_largest_value():
    """calibrate(percentile=P): a tensor's scale puts the P-th percentile of its calibration
    values (magnitudes where signed) at the top of its type, so the largest ones saturate."""
    from hls_sim.calibrate import forward

    net, x = tiny(), _images()
    full = calibrate(net, x, input_scale=1 / 255)
    p99 = calibrate(net, x, input_scale=1 / 255, percentile=99)
    y = forward(net, x)
    for name in ("dw", "pw"):  # no merge joins their scales to another tensor's
        t = full.types[name]
        want = float(np.percentile(y[name], 99)) / t.max_value
        assert p99.scales[name] == pytest.approx(want, rel=1e-6)  # rounded up to 24 bits
        assert p99.scales[name] < full.scales[name]
        assert (y[name] > p99.scales[name] * t.max_value).mean() == pytest.approx(0.01, abs=0.005)
    assert calibrate(net, x, input_scale=1 / 255, percentile=100).scales == full.scales
    for bad in (49, 100.5, float("nan"), True):
        with pytest.raises(ValueError, match="percentile"):
            calibrate(net, x, input_scale=1 / 255, percentile=bad)
