"""The layer arithmetic against onnxruntime, an implementation no one here wrote.

Each case builds a one-node (or Resize+Pad) ONNX model with ``onnx.helper`` and runs it on
integer-valued tensors. onnxruntime's CPU Conv and ConvTranspose exist for float32 only, so
magnitudes are bounded so that every partial sum, in any order, is an exact float32 integer
(the sum of |products| below 2**24); Resize and Pad run on int32. Checked element for element:
(a) the naive oracle's exact sums (and the upsample data mover) against onnxruntime, (b) the
output shape against ``naive.output_size`` and PyTorch's documented formulas, (c) the kind
registry's ``exact_sums`` against the naive oracle.

Pooling and Linear (the second half) compare the registry's values (``kind.sums``) with
onnxruntime directly, and the naive oracle too: MaxPool on float32 and float64, Relu before
and after it; AveragePool, which onnxruntime implements for float32 only, checked exactly (see
``test_registry_avg_pool_matches_onnxruntime``); Gemm on float64 and MatMul on int64.
"""

from __future__ import annotations

import numpy as np
import pytest

import onnx  # noqa: E402 - a test dependency (pyproject [test]): missing is a failure, not a skip
import onnxruntime as ort  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from hls_sim.kernels import KernelConfig  # noqa: E402
from hls_sim.kernels import pool as pool_twin  # noqa: E402
from hls_sim.types import parse  # noqa: E402
from tests.kernels import naive  # noqa: E402
from tests.kernels.matrix import seed_of  # noqa: E402

EXACT_F32 = 2 ** 24  # every integer below this is a float32


def _conv(cin: int, cout: int, h: int, w: int, k: int, s: int = 1, pad: int = 0, d: int = 1,
          g: int = 1, op: int | None = None) -> dict:
    p = dict(in_channels=cin, height=h, width=w, out_channels=cout, kernel_size=k, stride=s,
             padding=pad, dilation=d, groups=g)
    if op is not None:
        p["output_padding"] = op
    return p


def _id(kind: str, p: dict) -> str:
    if kind == "upsample":
        return (f"upsample-c{p['in_channels']}-{p['height']}x{p['width']}-x{p['scale']}-"
                f"{p['mode']}-halo{p['halo']}")
    geo = f"k{p['kernel_size']}s{p['stride']}p{p['padding']}"
    geo += f"d{p['dilation']}" if p["dilation"] != 1 else ""
    geo += f"g{p['groups']}" if p["groups"] != 1 else ""
    geo += f"op{p['output_padding']}" if p.get("output_padding") else ""
    short = "conv" if kind == "conv2d" else "deconv"
    return f"{short}-{p['in_channels']}to{p['out_channels']}-{geo}-{p['height']}x{p['width']}"


CONV2D = [
    _conv(16, 16, 8, 9, 3, pad=1),
    _conv(3, 8, 5, 7, 3, s=2, pad=1),
    _conv(8, 24, 9, 11, 1),
    _conv(16, 16, 9, 11, 1, s=2),            # stride larger than the kernel
    _conv(8, 8, 9, 11, 2, s=3),              # stride larger than the kernel
    _conv(3, 3, 9, 11, 1, s=4),
    _conv(16, 32, 9, 11, 3, pad=2, d=2),
    _conv(24, 24, 8, 9, 3, pad=1, g=24),     # depthwise
    _conv(32, 32, 9, 11, 3, s=2, pad=1, g=32),
    _conv(16, 32, 8, 9, 3, pad=1, g=2),
    _conv(24, 8, 9, 11, 5, pad=2, g=2),      # 12 channels per group: a partial block
    _conv(3, 16, 9, 11, 7, s=2, pad=3),
    _conv(8, 8, 5, 7, 7, pad=3),
    _conv(32, 16, 9, 11, 3, d=2, g=2),
    _conv(32, 32, 5, 7, 1),
    _conv(24, 16, 9, 11, 3, s=3, pad=1, d=2),
    _conv(16, 16, 8, 9, 7),
    _conv(8, 8, 9, 11, 3, s=4, pad=2, d=3),
    _conv(16, 24, 8, 9, 4, s=2, pad=1, g=8),
]
CONV_TRANSPOSE = [
    _conv(16, 16, 8, 9, 3, pad=1, op=0),
    _conv(16, 8, 5, 7, 4, s=2, pad=1, op=0),
    _conv(8, 16, 5, 7, 3, s=2, pad=1, op=1),
    _conv(3, 8, 5, 7, 2, s=3, op=0),           # stride larger than the kernel: gaps
    _conv(8, 3, 5, 7, 1, s=2, op=1),
    _conv(8, 8, 4, 5, 3, s=4, op=3),
    _conv(16, 16, 5, 7, 3, pad=2, d=2, op=0),
    _conv(8, 8, 5, 7, 3, pad=1, d=2, op=1),    # output_padding below the dilation, stride 1
    _conv(24, 24, 5, 7, 3, s=2, pad=1, g=24, op=1),
    _conv(32, 32, 5, 7, 4, s=2, pad=1, g=32, op=0),
    _conv(16, 32, 5, 7, 3, s=2, pad=1, g=2, op=1),
    _conv(24, 8, 5, 7, 5, s=2, pad=2, g=2, op=0),
    _conv(8, 16, 5, 7, 7, pad=3, op=0),
    _conv(3, 16, 5, 7, 7, s=2, op=0),
    _conv(32, 16, 4, 5, 3, s=3, pad=1, d=2, op=2),
    _conv(16, 16, 9, 11, 1, op=0),
    _conv(8, 8, 9, 11, 2, s=2, op=0),
]
UPSAMPLE = [dict(in_channels=c, height=h, width=w, scale=f, mode=m, halo=halo)
            for c, h, w, f, m, halo in [(16, 5, 7, 2, "nearest", 0), (3, 5, 7, 3, "nearest", 1),
                                        (8, 4, 5, 4, "nearest", 0), (32, 4, 5, 2, "nearest", 1),
                                        (16, 5, 7, 2, "zeros", 0), (3, 5, 7, 3, "zeros", 1),
                                        (24, 4, 5, 4, "zeros", 1), (8, 9, 11, 2, "zeros", 0)]]

CONV_CASES = ([pytest.param("conv2d", p, id=_id("conv2d", p)) for p in CONV2D]
              + [pytest.param("conv_transpose", p, id=_id("conv_transpose", p)) for p in CONV_TRANSPOSE])
UPSAMPLE_CASES = [pytest.param(p, id=_id("upsample", p)) for p in UPSAMPLE]


def _data(kind: str, p: dict) -> tuple[np.ndarray, np.ndarray]:
    """Integer input and weight, signed, bounded so that float32 sums stay exact."""
    rng = np.random.default_rng(seed_of(kind, _id(kind, p)))
    cin, cout, g, k = p["in_channels"], p["out_channels"], p["groups"], p["kernel_size"]
    terms = cin // g * k * k  # the most products any output adds (either kind)
    wmax = 127
    xmax = min(255, (EXACT_F32 - 1) // (terms * wmax))
    assert terms * xmax * wmax < EXACT_F32
    x = rng.integers(-xmax, xmax + 1, size=(cin, p["height"], p["width"]), dtype=np.int64)
    wshape = (cout, cin // g, k, k) if kind == "conv2d" else (cin, cout // g, k, k)
    return x, rng.integers(-wmax, wmax + 1, size=wshape, dtype=np.int64)


def _session(nodes: list, inputs: dict[str, tuple[int, list[int]]], initializers: list,
             outputs: dict[str, list] | None = None):
    """One model; its output is ``Y`` [n, c, h, w], or ``outputs`` (name: shape), all of the
    first input's element type."""
    elem = next(iter(inputs.values()))[0]
    outs = ([helper.make_tensor_value_info("Y", elem, ["n", "c", "h", "w"])] if outputs is None
            else [helper.make_tensor_value_info(n, elem, shape) for n, shape in outputs.items()])
    graph = helper.make_graph(
        nodes, "layer",
        [helper.make_tensor_value_info(n, t, shape) for n, (t, shape) in inputs.items()],
        outs, initializer=initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    onnx.checker.check_model(model)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    return ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])


def _ort_conv(kind: str, p: dict, x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """onnxruntime's Conv / ConvTranspose on float32 copies; [C_OUT][H_OUT][W_OUT] int64."""
    k, pad, op = p["kernel_size"], p["padding"], p.get("output_padding", 0)
    attrs = dict(kernel_shape=[k, k], strides=[p["stride"]] * 2, pads=[pad] * 4,
                 dilations=[p["dilation"]] * 2, group=p["groups"])
    if kind == "conv_transpose" and op >= p["stride"]:
        # onnxruntime refuses output_padding >= stride (PyTorch allows it below the dilation);
        # the same output is the crop by padding P at the top/left and P - output_padding at
        # the bottom/right
        assert pad >= op
        attrs["pads"] = [pad, pad, pad - op, pad - op]
    elif kind == "conv_transpose":
        attrs["output_padding"] = [op] * 2
    node = helper.make_node("Conv" if kind == "conv2d" else "ConvTranspose", ["X", "W"], ["Y"], **attrs)
    sess = _session([node], {"X": (TensorProto.FLOAT, [1, *x.shape]), "W": (TensorProto.FLOAT, list(w.shape))}, [])
    y = sess.run(None, {"X": x[None].astype(np.float32), "W": w.astype(np.float32)})[0][0]
    assert np.array_equal(y, np.round(y)), "onnxruntime returned a non-integer"
    return y.astype(np.int64)


def _ort_upsample(p: dict, x: np.ndarray) -> np.ndarray:
    """nearest: Resize (floor, asymmetric) on int32; zeros: a depthwise 1x1 ConvTranspose of
    weight 1, stride F, output_padding F-1 (the deconvolution's zero insertion) on float32;
    then a zero Pad of HALO."""
    f, halo, c = p["scale"], p["halo"], p["in_channels"]
    pads = numpy_helper.from_array(np.array([0, 0, halo, halo, 0, 0, halo, halo], np.int64), "pads")
    pad = helper.make_node("Pad", ["U", "pads"], ["Y"], mode="constant")
    if p["mode"] == "nearest":
        scales = numpy_helper.from_array(np.array([1, 1, f, f], np.float32), "scales")
        up = helper.make_node("Resize", ["X", "", "scales"], ["U"], mode="nearest", nearest_mode="floor",
                              coordinate_transformation_mode="asymmetric")
        sess = _session([up, pad], {"X": (TensorProto.INT32, [1, *x.shape])}, [scales, pads])
        return sess.run(None, {"X": x[None].astype(np.int32)})[0][0].astype(np.int64)
    ones = numpy_helper.from_array(np.ones((c, 1, 1, 1), np.float32), "W")
    up = helper.make_node("ConvTranspose", ["X", "W"], ["U"], kernel_shape=[1, 1], strides=[f, f],
                          output_padding=[f - 1, f - 1], group=c)
    sess = _session([up, pad], {"X": (TensorProto.FLOAT, [1, *x.shape])}, [ones, pads])
    return sess.run(None, {"X": x[None].astype(np.float32)})[0][0].astype(np.int64)


def _torch_shape(kind: str, p: dict) -> tuple[int, int, int]:
    """The output shape, in the words of PyTorch's Conv2d / ConvTranspose2d / Upsample docs."""
    def dim(n: int) -> int:
        if kind == "conv2d":
            return int(np.floor((n + 2 * p["padding"] - p["dilation"] * (p["kernel_size"] - 1) - 1)
                                / p["stride"] + 1))
        if kind == "conv_transpose":
            return ((n - 1) * p["stride"] - 2 * p["padding"] + p["dilation"] * (p["kernel_size"] - 1)
                    + p["output_padding"] + 1)
        return int(np.floor(n * p["scale"])) + 2 * p["halo"]  # Upsample, then the zero border
    return p.get("out_channels", p["in_channels"]), dim(p["height"]), dim(p["width"])


def _naive_sums(kind: str, p: dict, x: np.ndarray, w: np.ndarray) -> np.ndarray:
    return (naive.conv2d_sums if kind == "conv2d" else naive.conv_transpose_sums)(p, x, w)


@pytest.mark.parametrize("kind, p", CONV_CASES)
def test_naive_sums_match_onnxruntime(kind, p):
    x, w = _data(kind, p)
    want = _ort_conv(kind, p, x, w)
    assert want.shape == naive.output_size(kind, p) == _torch_shape(kind, p)
    got = _naive_sums(kind, p, x, w)
    assert got.shape == want.shape
    assert np.array_equal(got.astype(np.int64), want)


@pytest.mark.parametrize("p", UPSAMPLE_CASES)
def test_naive_upsample_matches_onnxruntime(p):
    rng = np.random.default_rng(seed_of("upsample", _id("upsample", p)))
    x = rng.integers(0, 256, size=(p["in_channels"], p["height"], p["width"]), dtype=np.int64)
    want = _ort_upsample(p, x)
    assert want.shape == naive.output_size("upsample", p) == _torch_shape("upsample", p)
    got = naive.upsample_layer(p, KernelConfig(), x, p["scale"], p["mode"], p["halo"])
    assert got.shape == want.shape
    assert np.array_equal(got.astype(np.int64), want)


# ---- the project's kind registry (hls_sim.kernels.kinds) ---------------------------------------
def _kind(name: str):
    from hls_sim.kernels.kinds import get_kind

    return get_kind(name)


@pytest.mark.parametrize("kind, p", CONV_CASES)
def test_registry_exact_sums_match_naive(kind, p):
    k = _kind(kind)
    geom = k.geometry(p)
    assert geom.written_shape == naive.output_size(kind, p)
    x, w = _data(kind, p)
    got = np.asarray(k.sums(geom, x, w))
    assert got.shape == geom.written_shape
    assert np.array_equal(got.astype(object), _naive_sums(kind, p, x, w))


@pytest.mark.parametrize("p", UPSAMPLE_CASES)
def test_registry_upsample_matches_naive(p):
    k = _kind("upsample")
    geom = k.geometry(p)
    assert geom.written_shape == naive.output_size("upsample", p)
    rng = np.random.default_rng(seed_of("upsample", _id("upsample", p)))
    x = rng.integers(0, 256, size=(p["in_channels"], p["height"], p["width"]), dtype=np.int64)
    got = np.asarray(k.sums(geom, x, None))
    want = naive.upsample_layer(p, KernelConfig(), x, p["scale"], p["mode"], p["halo"])
    assert np.array_equal(got.astype(object), want)


# ---- pooling: max_pool, avg_pool against MaxPool / AveragePool ----------------------------------
def _pool(c: int, h: int, w: int, k: int, s: int | None = None, pad: int = 0) -> dict:
    return dict(in_channels=c, height=h, width=w, kernel_size=k, stride=k if s is None else s,
                padding=pad)


def _pool_id(p: dict) -> str:
    return (f"pool-c{p['in_channels']}-{p['height']}x{p['width']}-"
            f"k{p['kernel_size']}s{p['stride']}p{p['padding']}")


POOL = [
    _pool(3, 7, 9, 1),                 # K = 1: a copy
    _pool(4, 7, 9, 1, s=2),            # stride larger than the kernel: a subsampling
    _pool(2, 9, 7, 1, s=3),
    _pool(3, 7, 9, 2),                 # PyTorch's default stride: the kernel size
    _pool(8, 8, 9, 2, s=1),            # overlapping windows
    _pool(3, 7, 9, 2, s=3),            # gaps between the windows
    _pool(4, 7, 9, 2, s=2, pad=1),     # the corner window: one tap inside
    _pool(5, 9, 7, 2, s=1, pad=1),
    _pool(3, 7, 9, 3),
    _pool(16, 7, 9, 3, s=1, pad=1),
    _pool(3, 7, 9, 3, s=2, pad=1),
    _pool(4, 9, 11, 3, s=4, pad=1),    # stride larger than the kernel, padded
    _pool(2, 5, 5, 3, s=2),
    _pool(3, 7, 9, 4),
    _pool(4, 7, 9, 4, s=1, pad=2),     # padding K//2 on a K = 4 window
    _pool(3, 9, 7, 4, s=3, pad=2),
    _pool(5, 8, 9, 4, s=2, pad=1),
    _pool(1, 4, 4, 4, pad=2),          # every window: 2 of its 4 rows and columns inside
    _pool(2, 1, 9, 1, s=2),            # one row
    _pool(3, 3, 4, 3, s=1, pad=1),     # a window as tall as the input
]
POOL_CASES = [pytest.param(p, id=_pool_id(p)) for p in POOL]
ORT_FLOAT = {np.float32: TensorProto.FLOAT, np.float64: TensorProto.DOUBLE}
NCHW = ["n", "c", "h", "w"]


def _pool_attrs(p: dict) -> dict:
    k, pad = p["kernel_size"], p["padding"]
    return dict(kernel_shape=[k, k], strides=[p["stride"]] * 2, pads=[pad] * 4)  # ceil_mode 0


def _pool_input(tag: str, p: dict, xmax: int) -> np.ndarray:
    """Signed integers in -xmax..xmax, ``[C][H][W]`` int64."""
    rng = np.random.default_rng(seed_of(tag, _pool_id(p)))
    return rng.integers(-xmax, xmax + 1, size=(p["in_channels"], p["height"], p["width"]),
                        dtype=np.int64)


def _pool_shape(p: dict) -> tuple[int, int, int]:
    """PyTorch's MaxPool2d / AvgPool2d documentation (ceil_mode off)."""
    def dim(n: int) -> int:
        return int(np.floor((n + 2 * p["padding"] - p["kernel_size"]) / p["stride"] + 1))
    return p["in_channels"], dim(p["height"]), dim(p["width"])


def _ort_max_pool(p: dict, x: np.ndarray, dtype: type) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """onnxruntime on ``dtype`` copies of x: (MaxPool(x), MaxPool(Relu(x)), Relu(MaxPool(x))),
    each [C][H_OUT][W_OUT] int64. MaxPool's padding never wins (ONNX pads a max with -inf)."""
    nodes = [helper.make_node("MaxPool", ["X"], ["P"], **_pool_attrs(p)),
             helper.make_node("Relu", ["X"], ["R"]),
             helper.make_node("MaxPool", ["R"], ["B"], **_pool_attrs(p)),
             helper.make_node("Relu", ["P"], ["A"])]
    sess = _session(nodes, {"X": (ORT_FLOAT[dtype], [1, *x.shape])}, [],
                    outputs=dict.fromkeys("PBA", NCHW))
    xf = x[None].astype(dtype)
    assert np.array_equal(xf.astype(np.int64), x[None])  # the integers are exact in dtype
    outs = []
    for y in sess.run(None, {"X": xf}):
        assert y.dtype == dtype and np.array_equal(y, np.round(y))
        outs.append(y[0].astype(np.int64))
    return tuple(outs)


def _pool_config(in_t: str) -> KernelConfig:
    """in_t = out_t = a type that holds the test data: out_t(m) is m."""
    return KernelConfig(in_t=parse(in_t), out_t=parse(in_t))


# float32 data spans the whole exact range, float64 well beyond int32 and float32
MAX_POOL_XMAX = {np.float32: EXACT_F32 - 1, np.float64: 2 ** 53 - 1}


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("p", POOL_CASES)
def test_registry_max_pool_matches_onnxruntime(p, dtype):
    k = _kind("max_pool")
    geom = k.geometry({**p, "relu": "none"})
    x = _pool_input("max_pool", p, MAX_POOL_XMAX[dtype])
    want, _, _ = _ort_max_pool(p, x, dtype)
    assert want.shape == geom.shape("top") == _pool_shape(p)
    assert want.shape == naive.pool_output_size({**p, "relu": "none"})
    got = np.asarray(k.sums(geom, x, None))
    assert got.shape == want.shape
    assert np.array_equal(got.astype(np.int64), want)
    # the same model on floats (the float reference's path) gives the same values
    assert np.array_equal(np.asarray(k.sums(geom, x.astype(dtype), None)), want.astype(dtype))
    oracle = naive.max_pool_values({**p, "relu": "none"}, x)
    assert np.array_equal(oracle.astype(np.int64), want)


@pytest.mark.parametrize("relu", ["before", "after"])
@pytest.mark.parametrize("p", POOL_CASES)
def test_registry_max_pool_relu_matches_onnxruntime(p, relu):
    """relu: before is ONNX Relu -> MaxPool, after is MaxPool -> Relu; both are max(0, MaxPool)."""
    k = _kind("max_pool")
    geom = k.geometry({**p, "relu": relu})
    x = _pool_input("max_pool_relu", p, 2 ** 40)
    plain, before, after = _ort_max_pool(p, x, np.float64)
    assert np.array_equal(before, np.maximum(plain, 0)) and np.array_equal(after, np.maximum(plain, 0))
    got = np.asarray(k.sums(geom, x, None)).astype(np.int64)
    assert np.array_equal(got, before if relu == "before" else after)
    assert got.min() >= 0
    assert np.array_equal(naive.max_pool_values({**p, "relu": relu}, x).astype(np.int64), got)
    assert np.array_equal(naive.max_pool_layer({**p, "relu": relu}, _pool_config("ap_int<48>"), x)
                          .astype(np.int64), got)


def _ort_avg_pool(p: dict, include_pad: bool, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """onnxruntime on float32 copies of x: (AveragePool(x) float32, the window sums int64),
    both [C][H_OUT][W_OUT]; the sums are a depthwise Conv with an all-ones kernel over the same
    zero-padded windows (exact: every partial sum is an integer below 2**24)."""
    c, kk = p["in_channels"], p["kernel_size"]
    ones = numpy_helper.from_array(np.ones((c, 1, kk, kk), np.float32), "ONES")
    nodes = [helper.make_node("AveragePool", ["X"], ["A"], count_include_pad=int(include_pad),
                              **_pool_attrs(p)),
             helper.make_node("Conv", ["X", "ONES"], ["S"], group=c, **_pool_attrs(p))]
    sess = _session(nodes, {"X": (TensorProto.FLOAT, [1, *x.shape])}, [ones],
                    outputs=dict.fromkeys("AS", NCHW))
    a, s = sess.run(None, {"X": x[None].astype(np.float32)})
    assert a.dtype == s.dtype == np.float32 and np.array_equal(s, np.round(s))
    return a[0], s[0].astype(np.int64)


@pytest.mark.parametrize("include_pad", [True, False], ids=["include_pad", "exclude_pad"])
@pytest.mark.parametrize("p", POOL_CASES)
def test_registry_avg_pool_matches_onnxruntime(p, include_pad):
    """avg_pool's values are the exact window means (float64, correctly rounded); onnxruntime's
    AveragePool exists for float32 only, so it is checked without any tolerance this way:

    - the window sums S and the taps inside N come from onnxruntime Conv with an all-ones
      depthwise kernel, on x and on ones: integers, exact in float32 (|x| * K*K < 2**24);
    - AveragePool(x) is exactly float32(S / n), the correctly rounded float32 of the exact mean,
      with n = K*K (count_include_pad=1) or N (=0): onnxruntime sums in float32 (exact here)
      and divides once. This pins the divisor it uses: data this wide (|x| up to 2**24 / K*K)
      makes a wrong n, or a multiplication by a rounded 1/n, differ in the last bits;
    - AveragePool(ones) is exactly float32(N / K*K) or 1: onnxruntime's taps counted;
    - then pool.divisors / tap_counts are n / N, the registry's sums are float64(S / n) bit for
      bit (and so round to onnxruntime's float32), and the naive oracle's sums are S.

    float64(S / n) rounded to float32 is the correctly rounded float32 of S / n (no double
    rounding: a quotient with n <= 16 is never within 2**-53 of a float32 midpoint unless it
    is one exactly, and then float64 holds it exactly)."""
    k = _kind("avg_pool")
    pp = {**p, "count_include_pad": include_pad}
    geom = k.geometry(pp)
    kk = p["kernel_size"] ** 2
    x = _pool_input("avg_pool", p, (EXACT_F32 - 1) // kk)
    ort_mean, sums = _ort_avg_pool(p, include_pad, x)
    ort_ones, taps = _ort_avg_pool(p, include_pad, np.ones_like(x))
    assert ort_mean.shape == geom.shape("top") == naive.pool_output_size(pp) == _pool_shape(p)
    n = np.full(taps.shape, kk) if include_pad else taps
    assert np.array_equal(ort_mean, (sums / n).astype(np.float32))
    ones_mean = (taps / kk).astype(np.float32) if include_pad else np.ones_like(ort_ones)
    assert np.array_equal(ort_ones, ones_mean)
    assert np.array_equal(np.broadcast_to(pool_twin.tap_counts(geom), taps.shape), taps)
    assert np.array_equal(np.broadcast_to(pool_twin.divisors(geom), n.shape), n)
    got = np.asarray(k.sums(geom, x, None))
    assert got.dtype == np.float64 and got.shape == ort_mean.shape
    assert np.array_equal(got, sums.astype(np.float64) / n)
    assert np.array_equal(got.astype(np.float32), ort_mean)
    oracle_sums, oracle_n = naive.avg_pool_sums(pp, x)
    assert np.array_equal(oracle_sums.astype(np.int64), sums)
    assert np.array_equal(oracle_n.astype(np.int64), n)


# ---- linear against Gemm / MatMul ----------------------------------------------------------
LINEAR = [(1, 1), (7, 5), (16, 16), (17, 3), (33, 40), (100, 10), (256, 64), (300, 17), (1000, 4)]
LINEAR_CASES = [pytest.param(ci, co, id=f"linear-{ci}to{co}") for ci, co in LINEAR]
LINEAR_MAX = 2 ** 15  # |w * x| up to 2**30, sums up to 2**40: beyond float32, exact in float64


def _ort_linear(x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """onnxruntime's Gemm(transB=1) on float64 and MatMul(x, w^T) on int64: ``[C_OUT]`` each."""
    gemm = helper.make_node("Gemm", ["X", "W"], ["Y"], transB=1)
    sess = _session([gemm], {"X": (TensorProto.DOUBLE, [1, x.size]),
                             "W": (TensorProto.DOUBLE, list(w.shape))}, [],
                    outputs={"Y": [1, "co"]})
    yf = sess.run(None, {"X": x.reshape(1, -1).astype(np.float64), "W": w.astype(np.float64)})[0]
    assert yf.dtype == np.float64 and np.array_equal(yf, np.round(yf))
    mm = helper.make_node("MatMul", ["X", "WT"], ["Y"])
    sess = _session([mm], {"X": (TensorProto.INT64, [1, x.size]),
                           "WT": (TensorProto.INT64, [w.shape[1], w.shape[0]])}, [],
                    outputs={"Y": [1, "co"]})
    yi = sess.run(None, {"X": x.reshape(1, -1).astype(np.int64), "WT": np.ascontiguousarray(w.T)})[0]
    return yf[0].astype(np.int64), yi[0]


@pytest.mark.parametrize("ci, co", LINEAR_CASES)
def test_registry_linear_matches_onnxruntime(ci, co):
    k = _kind("linear")
    geom = k.geometry(dict(in_features=ci, out_features=co))
    assert geom.shape("input") == (ci, 1, 1) and geom.shape("weight") == (co, ci)
    rng = np.random.default_rng(seed_of("linear", str(ci), str(co)))
    x = rng.integers(-LINEAR_MAX, LINEAR_MAX + 1, size=(ci, 1, 1), dtype=np.int64)
    w = rng.integers(-LINEAR_MAX, LINEAR_MAX + 1, size=(co, ci), dtype=np.int64)
    assert ci * LINEAR_MAX ** 2 < 2 ** 53  # every partial sum, in any order, is a float64 integer
    gemm, matmul = _ort_linear(x, w)
    assert np.array_equal(gemm, matmul)
    want = gemm.reshape(co, 1, 1)
    got = np.asarray(k.sums(geom, x, w))
    assert got.shape == geom.shape("top") == (co, 1, 1)
    assert np.array_equal(got.astype(np.int64), want)
    p = dict(in_features=ci, out_features=co)
    assert np.array_equal(naive.linear_sums(p, x, w).astype(np.int64), want)
