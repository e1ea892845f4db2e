"""The layer arithmetic against onnxruntime, an implementation no one here wrote.

Each case builds a one-node (or Resize+Pad) ONNX model with ``onnx.helper`` and runs it on
integer-valued tensors. onnxruntime's CPU Conv and ConvTranspose exist for float32 only, so
magnitudes are bounded so that every partial sum, in any order, is an exact float32 integer
(the sum of |products| below 2**24); Resize and Pad run on int32. Checked element for element:
(a) the naive oracle's exact sums (and the upsample data mover) against onnxruntime, (b) the
output shape against ``naive.output_size`` and PyTorch's documented formulas, (c) the kind
registry's ``exact_sums`` against the naive oracle.
"""

from __future__ import annotations

import numpy as np
import pytest

import onnx  # noqa: E402 - a test dependency (pyproject [test]): missing is a failure, not a skip
import onnxruntime as ort  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from hls_sim.kernels import KernelConfig  # noqa: E402
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


def _session(nodes: list, inputs: dict[str, tuple[int, list[int]]], initializers: list):
    graph = helper.make_graph(
        nodes, "layer",
        [helper.make_tensor_value_info(n, t, shape) for n, (t, shape) in inputs.items()],
        [helper.make_tensor_value_info("Y", next(iter(inputs.values()))[0], ["n", "c", "h", "w"])],
        initializer=initializers)
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
