"""hls-sim import (hls_sim.onnx_import): float ONNX models built here with onnx.helper become
float networks whose float reference equals onnxruntime's output; the calibrated network
file runs, and its error against the ONNX model is reported; the bundled example exported to
ONNX imports into the very network weights/encdec.npz holds; unsupported nodes are one line
naming the node, and nothing is written."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import onnx  # a test dependency (pyproject [test]): missing is a failure, not a skip
from onnx import TensorProto, helper, numpy_helper

from hls_sim.calibrate import FloatLayer, FloatNetwork, calibrate, forward, sqnr_db
from hls_sim.cli import main
from hls_sim.network import load_network, run_network
from hls_sim.onnx_import import (OnnxImportError, import_onnx, load_calibration, onnx_outputs,
                                 require_onnx)
from hls_sim.report.network import (NetworkReportError, float_network, float_reference,
                                    real_values, render_network_text, tensor_scales)

WEIGHTS = Path(__file__).resolve().parent.parent / "weights"
H = W = 8


def _rng(i: int) -> np.random.Generator:
    return np.random.default_rng([11, i])


class G:
    """A graph under construction: initializers with fresh names, nodes named after their op."""

    def __init__(self) -> None:
        self.nodes: list = []
        self.inits: list = []
        self.n = 0

    def init(self, a: np.ndarray, dtype=np.float32) -> str:  # noqa: ANN001
        self.n += 1
        name = f"c{self.n}"
        self.inits.append(numpy_helper.from_array(np.asarray(a, dtype=dtype), name))
        return name

    def w(self, shape: tuple[int, ...], std: float = 0.4) -> str:
        self.n += 1
        return self.init(_rng(self.n).standard_normal(shape) * std)

    def op(self, op: str, inputs: list[str], name: str | None = None, **attrs) -> str:  # noqa: ANN003
        self.n += 1
        name = name or f"{op.lower()}{self.n}"
        self.nodes.append(helper.make_node(op, inputs, [f"{name}_out"], name=name, **attrs))
        return f"{name}_out"

    def model(self, out: str, c: int = 3, h: int = H, w: int = W, rank: int = 4) -> onnx.ModelProto:
        g = helper.make_graph(self.nodes, "t", [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                                            ["N", c, h, w])],
                              [helper.make_tensor_value_info(out, TensorProto.FLOAT,
                                                             ["N"] + [None] * (rank - 1))],
                              self.inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17),
                                              helper.make_opsetid("com.example", 1)])
        onnx.checker.check_model(m)
        return m

    def conv(self, x: str, ci: int, co: int, k: int = 3, g: int = 1, **attrs) -> str:  # noqa: ANN003
        return self.op("Conv", [x, self.w((co, ci // g, k, k)), self.w((co,), 0.1)], group=g, **attrs)

    def bn(self, x: str, c: int) -> str:
        r = _rng(1000 + self.n)
        return self.op("BatchNormalization", [x, self.init(r.random(c) + 0.5),
                                              self.init(r.standard_normal(c) * 0.1),
                                              self.init(r.standard_normal(c) * 0.1),
                                              self.init(r.random(c) + 0.5)], epsilon=1e-3)


def _images(n: int = 2, c: int = 3, h: int = H, w: int = W) -> np.ndarray:
    return _rng(99).random((n, c, h, w))


# ---- every supported op alone (and the folds), float reference against onnxruntime -----------
def _single(case: str) -> onnx.ModelProto:
    g = G()
    if case == "conv-groups-dilation-stride":
        return g.model(g.conv("x", 4, 6, k=3, g=2, pads=[2, 2, 2, 2], strides=[2, 2],
                              dilations=[2, 2]), c=4)
    if case == "conv-depthwise-nobias":
        return g.model(g.op("Conv", ["x", g.w((3, 1, 3, 3))], group=3, pads=[1, 1, 1, 1]))
    if case == "conv-auto_pad-valid":
        return g.model(g.conv("x", 3, 4, k=3, auto_pad="VALID"))
    if case == "convtranspose-groups-outpad":
        return g.model(g.op("ConvTranspose", ["x", g.w((4, 3, 3, 3)), g.w((6,), 0.1)], group=2,
                            strides=[2, 2], pads=[1, 1, 1, 1], output_padding=[1, 1]), c=4)
    if case == "convtranspose-bn-groups":
        y = g.op("ConvTranspose", ["x", g.w((4, 3, 2, 2))], group=2, strides=[2, 2])
        return g.model(g.bn(y, 6), c=4)
    if case == "conv-bn-relu":
        return g.model(g.op("Relu", [g.bn(g.conv("x", 3, 5), 5)]))
    if case == "relu-alone":
        return g.model(g.op("Relu", ["x"]))
    if case == "clip-relu6":
        return g.model(g.op("Clip", [g.conv("x", 3, 4, pads=[1, 1, 1, 1]), g.init(0.0), g.init(0.3)]))
    if case == "maxpool-k3s2p1":
        return g.model(g.op("MaxPool", ["x"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]))
    if case == "maxpool-relu":
        return g.model(g.op("Relu", [g.op("MaxPool", ["x"], kernel_shape=[2, 2], strides=[2, 2])]))
    if case in ("avgpool-pad-include", "avgpool-pad-exclude"):
        return g.model(g.op("AveragePool", ["x"], kernel_shape=[3, 3], strides=[2, 2],
                            pads=[1, 1, 1, 1], count_include_pad=int(case.endswith("include"))))
    if case == "globalavgpool":
        return g.model(g.op("GlobalAveragePool", ["x"]), h=4, w=4)
    if case == "resize-scales-half_pixel":
        return g.model(g.op("Resize", ["x", "", g.init([1, 1, 2, 2])], mode="nearest"))
    if case == "resize-sizes-asymmetric":
        return g.model(g.op("Resize", ["x", "", "", g.init([1, 3, 3 * H, 3 * W], np.int64)],
                            mode="nearest", coordinate_transformation_mode="asymmetric",
                            nearest_mode="floor"))
    if case == "gemm-flatten":
        v = g.op("Flatten", [g.op("GlobalAveragePool", [g.conv("x", 3, 8, k=1)])])
        return g.model(g.op("Relu", [g.op("Gemm", [v, g.w((5, 8)), g.w((5,), 0.1)], transB=1)]),
                       h=4, w=4, rank=2)
    if case == "matmul-add-reshape":
        v = g.op("Reshape", [g.op("GlobalMaxPool", ["x"]), g.init([-1, 3], np.int64)])
        y = g.op("Add", [g.op("MatMul", [v, g.w((3, 6))]), g.w((6,), 0.1)])
        return g.model(g.op("Gemm", [y, g.w((6, 4))], alpha=0.5), h=4, w=4, rank=2)
    if case == "conv-add-bias":
        y = g.op("Conv", ["x", g.w((4, 3, 1, 1))])
        return g.model(g.op("Relu", [g.op("Add", [g.w((1, 4, 1, 1)), y])]))
    if case == "add-two-maps":
        return g.model(g.op("Add", [g.conv("x", 3, 4, pads=[1, 1, 1, 1]), g.conv("x", 3, 4, k=1)]))
    if case == "concat-three":
        return g.model(g.op("Concat", [g.conv("x", 3, 2, k=1), "x", g.conv("x", 3, 4, k=1)], axis=1))
    raise AssertionError(case)


CASES = ["conv-groups-dilation-stride", "conv-depthwise-nobias", "conv-auto_pad-valid",
         "convtranspose-groups-outpad", "convtranspose-bn-groups", "conv-bn-relu", "conv-add-bias", "relu-alone",
         "clip-relu6", "maxpool-k3s2p1", "maxpool-relu", "avgpool-pad-include",
         "avgpool-pad-exclude", "globalavgpool", "resize-scales-half_pixel",
         "resize-sizes-asymmetric", "gemm-flatten", "matmul-add-reshape", "add-two-maps",
         "concat-three"]
KINDS_OF = {"conv": "conv2d", "convtranspose": "conv_transpose", "relu": "max_pool",
            "clip": "conv2d", "maxpool": "max_pool", "avgpool": "avg_pool",
            "globalavgpool": "avg_pool", "resize": "upsample", "gemm": "linear",
            "matmul": "linear", "add": "add", "concat": "concat"}


def _close(ref: np.ndarray, got: np.ndarray) -> float:
    """max |got - ref|, asserted within float32 rounding of the ONNX run (onnxruntime runs
    the model in float32; hls-sim's float network in float64)."""
    assert got.shape == ref.shape
    err = float(np.abs(got - ref).max())
    assert err <= 2e-6 * max(1.0, float(np.abs(ref).max())), err
    return err


@pytest.mark.parametrize("case", CASES)
def test_each_op_float_reference_equals_onnxruntime(case: str):
    m = _single(case)
    imp = import_onnx(m)
    shape = tuple(d.dim_value for d in m.graph.input[0].type.tensor_type.shape.dim[1:])
    x = _images(2, *shape) * 2 - 0.5  # negative values too: relu and max pooling see them
    ref = onnx_outputs(m, x)
    got = forward(imp.network, x, keep=[imp.network.output])[imp.network.output]
    _close(ref, got)
    assert np.abs(ref).max() > 0.1  # a live output: the comparison means something
    kinds = [fl.kind for fl in imp.network.layers]
    assert KINDS_OF[case.split("-")[0]] in kinds, kinds
    if "bn" in case or case in ("conv-add-bias", "clip-relu6", "maxpool-relu", "matmul-add-reshape"):
        assert imp.notes, "the fold is reported"
        assert len(kinds) == len(set(kinds)) or case == "matmul-add-reshape"


def test_folds_leave_one_layer_with_the_activation():
    imp = import_onnx(_single("conv-bn-relu"))
    (fl,) = imp.network.layers
    assert (fl.kind, fl.params["activation"]) == ("conv2d", "relu")
    imp = import_onnx(_single("clip-relu6"))
    (fl,) = imp.network.layers
    assert (fl.params["activation"], fl.top) == ("relu", pytest.approx(0.3))
    imp = import_onnx(_single("maxpool-relu"))
    assert [(fl.kind, fl.params.get("relu")) for fl in imp.network.layers] == [("max_pool", "after")]
    imp = import_onnx(_single("concat-three"))
    assert [fl.kind for fl in imp.network.layers].count("concat") == 2


def test_clip_top_is_the_output_scale_or_an_activation_clip():
    """Alone, the top maps to max(out_t) (relu saturates there); sharing a larger scale (a
    concat with a wider tensor), it becomes activation: clip at the top in out_t units."""
    x = _images()
    q = calibrate(import_onnx(_single("clip-relu6")).network, x, input_scale=1 / 255)
    (ql,) = q.layers
    assert ql.output_scale * 255 == pytest.approx(0.3, rel=1e-6)
    assert ql.params["activation"] == "relu"
    g = G()
    y = g.op("Clip", [g.conv("x", 3, 4, k=1, name="c_clip"), g.init(0.0), g.init(0.05)])
    m = g.model(g.op("Concat", [y, g.conv("x", 3, 4, k=1)], axis=1))
    q = calibrate(import_onnx(m).network, x, input_scale=1 / 255)
    ql = q.layer("c_clip")
    assert ql.params["activation"] == "clip"
    assert abs(ql.params["clip_at"] * ql.output_scale - 0.05) <= ql.output_scale / 2


# ---- an encoder-decoder with skip connections: import, write, run -------------------------------
def encdec_model() -> onnx.ModelProto:
    """3x16x16 -> conv+BN+relu -> depthwise stride 2 + relu -> 1x1 + relu6 -> deconv x2 + relu
    -> add skip + relu -> max pool -> resize x2 -> concat skip -> 1x1 head (no activation)."""
    g = G()
    s = g.op("Relu", [g.bn(g.conv("x", 3, 8, pads=[1, 1, 1, 1], name="stem"), 8)])
    d = g.op("Relu", [g.conv(s, 8, 8, g=8, strides=[2, 2], pads=[1, 1, 1, 1], name="enc_dw")])
    p = g.op("Clip", [g.conv(d, 8, 16, k=1, name="enc_pw"), g.init(0.0), g.init(6.0)])
    u = g.op("Relu", [g.op("ConvTranspose", [p, g.w((16, 8, 2, 2), 0.3), g.w((8,), 0.1)],
                           strides=[2, 2], name="dec_up")])
    a = g.op("Relu", [g.op("Add", [u, s], name="skip_add")])
    r = g.op("Resize", [g.op("MaxPool", [a], kernel_shape=[2, 2], strides=[2, 2], name="pool"),
                        "", g.init([1, 1, 2, 2])], mode="nearest", name="up")
    c = g.op("Concat", [r, s], axis=1, name="skip_cat")
    return g.model(g.conv(c, 16, 4, k=1, name="head"), h=16, w=16)


ENCDEC_TENSORS = {"stem": "relu11_out", "enc_dw": "relu17_out", "enc_pw": "clip25_out",
                  "dec_up": "relu31_out", "skip_add": "relu33_out", "pool": "pool_out",
                  "up": "up_out", "skip_cat": "skip_cat_out", "head": "head_out"}


@pytest.fixture(scope="module")
def encdec_cli(tmp_path_factory):  # noqa: ANN001, ANN201
    d = tmp_path_factory.mktemp("encdec")
    onnx.save(encdec_model(), d / "encdec_test.onnx")
    np.save(d / "calib.npy", _images(3, 3, 16, 16))
    res = CliRunner().invoke(main, ["import", str(d / "encdec_test.onnx"), "-c",
                                    str(d / "calib.npy"), "-o", str(d / "out")])
    return d, res


def test_encdec_imports_writes_and_reports_its_error(encdec_cli):  # noqa: ANN001
    d, res = encdec_cli
    assert res.exit_code == 0, res.output
    out = d / "out"
    assert sorted(p.name for p in out.iterdir()) == ["encdec_test.npz", "encdec_test.onnx",
                                                    "encdec_test.yaml", "encdec_test_float.npz",
                                                    "input.npy"]
    # the model's copy, and each layer's ONNX tensor after its folds (relu, clip included)
    copy = onnx.load(out / "encdec_test.onnx")
    assert copy.SerializeToString() == onnx.load(d / "encdec_test.onnx").SerializeToString()
    assert load_network(out / "encdec_test.yaml").float_model.tensors == ENCDEC_TENSORS
    # the chosen types are printed and written
    text = (out / "encdec_test.yaml").read_text()
    for name in ("stem", "enc_dw", "enc_pw", "dec_up", "skip_add", "pool", "up", "skip_cat", "head"):
        assert f"- name: {name}\n" in text
    assert "factor_t: 'ap_fixed<" in text and "ap_fixed<" in res.output
    m = re.search(r"max \|difference\| (\S+)", res.output)
    assert m and float(m.group(1)) < 1e-4
    m = re.search(r"check .* SQNR (\S+) dB", res.output)
    assert m, res.output
    # the reported error is that of the written network against onnxruntime: recompute it
    x = _images(3, 3, 16, 16)
    ref = onnx_outputs(encdec_model(), x)
    imp = import_onnx(encdec_model())
    q = calibrate(imp.network, x)
    run = run_network(load_network(out / "encdec_test.yaml"), reference=False)
    got = q.real(run.output)
    assert float(m.group(1)) == pytest.approx(sqnr_db(ref, got), abs=0.06)
    assert sqnr_db(ref, got) > 25  # an 8-bit network close to its float model
    _close(ref, forward(imp.network, x, keep=["head"])["head"])


def test_written_network_reports_and_refuses_overwrite(encdec_cli):  # noqa: ANN001
    d, _ = encdec_cli
    before = {p.name: p.read_bytes() for p in (d / "out").iterdir()}
    res = CliRunner().invoke(main, ["import", str(d / "encdec_test.onnx"), "-c",
                                    str(d / "calib.npy"), "-o", str(d / "out"), "--per-tensor"])
    assert res.exit_code == 2 and "already exists" in res.output and "--force" in res.output
    assert {p.name: p.read_bytes() for p in (d / "out").iterdir()} == before
    res = CliRunner().invoke(main, ["report", str(d / "out" / "encdec_test.yaml"), "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert doc["layers"][-1]["name"] == "head"
    # the float reference is the model itself: every layer's mapped tensor, by onnxruntime
    ref = doc["float_reference"]
    assert (ref["source"], ref["file"], ref["layers"], ref["of"]) == (
        "onnx", "encdec_test.onnx", list(ENCDEC_TENSORS), 9)
    assert [r["float_tensor"] for r in doc["layers"]] == list(ENCDEC_TENSORS.values())
    assert ("float     reference: the ONNX model encdec_test.onnx (onnxruntime), 9 of 9 layers\n"
            in render_network_text(doc))
    # the output's accumulated error is against onnxruntime's output (computed here apart)
    net = load_network(d / "out" / "encdec_test.yaml")
    scales, _ = tensor_scales(net)
    x = np.stack([scales["input"][:, None, None] * img for img in net.images])
    ref_out = onnx_outputs(encdec_model(), x)
    got = np.stack([real_values(net, scales, "head", a) for a in run_network(net).output])
    assert doc["output"]["sqnr_db"] == pytest.approx(sqnr_db(ref_out, got), abs=1e-9)
    assert doc["output"]["max_abs_real"] == pytest.approx(np.abs(got - ref_out).max(), rel=1e-9)


def test_the_models_copy_is_written_once_and_never_over_a_file(tmp_path: Path):
    """Imported into the model's own folder, the model is not copied onto itself (the file
    names it); a NAME.onnx already in the output folder is refused like the other files."""
    onnx.save(encdec_model(), tmp_path / "m.onnx")
    before = (tmp_path / "m.onnx").read_bytes()
    np.save(tmp_path / "c.npy", _images(1, 3, 16, 16))
    args = ["import", str(tmp_path / "m.onnx"), "-c", str(tmp_path / "c.npy"), "--no-check"]
    res = CliRunner().invoke(main, args + ["-o", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert "m.onnx" not in res.output.split("wrote")[1].split("\n")[0]
    assert (tmp_path / "m.onnx").read_bytes() == before
    assert load_network(tmp_path / "m.yaml").float_model.path.samefile(tmp_path / "m.onnx")
    (tmp_path / "o").mkdir()
    (tmp_path / "o" / "m.onnx").write_bytes(b"mine")
    res = CliRunner().invoke(main, args + ["-o", str(tmp_path / "o")])
    assert res.exit_code == 2 and "m.onnx: already exists" in res.output, res.output
    assert [p.name for p in (tmp_path / "o").iterdir()] == ["m.onnx"]
    assert (tmp_path / "o" / "m.onnx").read_bytes() == b"mine"


def test_folder_of_images_calibrates_as_pixels(tmp_path: Path):
    from PIL import Image

    (tmp_path / "imgs").mkdir()
    pix = (_rng(5).random((2, 16, 16, 3)) * 255).astype(np.uint8)
    for i, p in enumerate(pix):
        Image.fromarray(p, "RGB").save(tmp_path / "imgs" / f"{i}.png")
    x, scale = load_calibration(tmp_path / "imgs")
    assert scale == pytest.approx(1 / 255)
    assert np.array_equal(x, pix.transpose(0, 3, 1, 2) / 255.0)
    q = calibrate(import_onnx(encdec_model()).network, x, input_scale=scale)
    assert np.array_equal(q.quantize_input(x), pix.transpose(0, 3, 1, 2))


# ---- the report's float reference: the ONNX model itself, by onnxruntime ----------------------
def _intermediates(model: str | Path, names: list[str], x: np.ndarray) -> dict[str, np.ndarray]:
    """Tensors ``names`` of the model on one real image ``x``, made graph outputs here and run
    by onnxruntime with its default (optimizing) session: apart from hls-sim's own run."""
    import onnxruntime as ort

    m = onnx.load(str(model))
    del m.graph.output[:]
    m.graph.output.extend(helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in names)
    sess = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
    return dict(zip(names, sess.run(names, {"x": x[None].astype(np.float32)})))


def test_report_float_reference_is_onnxruntimes_tensors(encdec_cli):  # noqa: ANN001
    """Every layer's float output in the report is the ONNX model's tensor the file maps it to
    (float32, as onnxruntime computes it), and within float32 rounding of the float: blocks
    (float64); eval and run's float column take the same reference."""
    from hls_sim.evaluate import evaluate

    d, _ = encdec_cli
    net = load_network(d / "out" / "encdec_test.yaml")
    ref = float_reference(net)
    assert ref.source == "onnx" and ref.tensors == ENCDEC_TENSORS and ref.note is None
    vs_onnx = vs_blocks = 0.0
    for k in range(net.images.shape[0]):
        xf, blocks = ref.image(k), float_network(net, ref.scales, k)
        direct = _intermediates(d / "out" / "encdec_test.onnx", list(ENCDEC_TENSORS.values()),
                                xf["input"])
        for layer, t in ENCDEC_TENSORS.items():
            want = direct[t][0]
            assert xf[layer].shape == want.shape == blocks[layer].shape
            peak = float(np.abs(want).max())
            vs_onnx = max(vs_onnx, float(np.abs(xf[layer] - want).max()) / peak)
            vs_blocks = max(vs_blocks, float(np.abs(xf[layer] - blocks[layer]).max()) / peak)
    assert vs_onnx <= 1e-6, vs_onnx  # measured: 0 to a few 1e-7 (float32 sums in other orders)
    assert 0 < vs_blocks <= 1e-5, vs_blocks  # measured about 3e-7: float32 against float64
    ev = evaluate(net, layers=False)
    assert ev.float_reference["source"] == "onnx"
    x = np.stack([ref.scales["input"][:, None, None] * img for img in net.images])
    ref_out = onnx_outputs(encdec_model(), x)
    run = run_network(net, float_model=True)
    got = np.stack([real_values(net, ref.scales, "head", a) for a in run.output])
    assert ev.summary["sqnr_db"] == pytest.approx(sqnr_db(ref_out, got), abs=1e-9)
    assert run.stats[-1].float_sqnr_db == pytest.approx(sqnr_db(ref_out, got), abs=1e-9)


@pytest.mark.parametrize("case", ["gemm-flatten", "clip-relu6"])
def test_vectors_and_clips_take_the_models_tensors(case: str, tmp_path: Path):
    """A vector [N][C] becomes hls-sim's [C][1][1]; a folded Clip's top is the model's (the
    float: blocks hold no top: their relu is unbounded)."""
    from hls_sim.files import write_files
    from hls_sim.onnx_import import import_model

    m = _single(case)
    onnx.save(m, tmp_path / "m.onnx")
    shape = tuple(dm.dim_value for dm in m.graph.input[0].type.tensor_type.shape.dim[1:])
    np.save(tmp_path / "c.npy", _images(2, *shape))
    res = import_model(tmp_path / "m.onnx", tmp_path / "c.npy")
    write_files(tmp_path / "out", res.files, ValueError)
    net = load_network(tmp_path / "out" / "m.yaml")
    ref = float_reference(net)
    assert list(ref.tensors) == [nl.name for nl in net.layers]  # every layer has its tensor
    xf, blocks = ref.image(0), float_network(net, ref.scales, 0)
    want = onnx_outputs(m, xf["input"][None])[0]
    assert xf[net.output].shape == want.shape == blocks[net.output].shape
    assert np.abs(xf[net.output] - want).max() <= 1e-6 * np.abs(want).max()
    if case == "clip-relu6":
        top = float(xf[net.output].max())
        assert top == pytest.approx(0.3) and blocks[net.output].max() > 0.3 + 1


def test_without_onnxruntime_or_a_fitting_input_the_float_blocks_are_the_reference(
        encdec_cli, monkeypatch):  # noqa: ANN001
    import dataclasses

    d, _ = encdec_cli
    net = load_network(d / "out" / "encdec_test.yaml")
    other = dataclasses.replace(net, images=net.images[:, :, :8, :8])  # eval on other sizes
    ref = float_reference(other)
    assert ref.source == "float_blocks" and "input is [N, 3, 16, 16], the network's images are [3, 8, 8]" in ref.note
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    ref = float_reference(net)
    assert ref.source == "float_blocks" and ref.describe() == "the float: blocks (float64)"
    assert "pip install 'hls-sim[onnx]'" in ref.note and "\n" not in ref.note
    assert ref.to_dict()["note"] == ref.note
    xf, blocks = ref.image(0), float_network(net, ref.scales, 0)
    assert all(np.array_equal(xf[n], blocks[n]) for n in blocks)


def _edited(d: Path, tmp_path: Path, old: str, new: str) -> Path:
    """The imported network copied to tmp_path, ``old`` replaced by ``new`` in its file."""
    import shutil

    out = tmp_path / "net"
    shutil.copytree(d / "out", out)
    p = out / "encdec_test.yaml"
    text = p.read_text()
    assert old in text
    p.write_text(text.replace(old, new))
    return p


BAD_FLOAT_MODEL = {  # old -> new in the file: the one-line error
    ("\"head\": \"head_out\"", "\"head\": \"head_out\"\n    \"nope\": \"x\""):
        r"float_model\.tensors\.nope: 'nope' is not a layer of the network \(stem, ",
    ("\"stem\": \"relu11_out\"", "\"stem\": 5"):
        r"float_model\.tensors\.stem: expected the name of a tensor of the model .*got the number 5",
    ("\"stem\": \"relu11_out\"", "input: \"x\""):
        r"float_model\.tensors\.input: 'input' is not a layer",
    ("file: \"encdec_test.onnx\"", "file: \"missing.onnx\""):
        r"float_model\.file: file 'missing\.onnx' not found",
    ("file: \"encdec_test.onnx\"", "file: \"../encdec_test.onnx\""):
        r"float_model\.file: '\.\./encdec_test\.onnx': give a path inside the network file's folder",
    ("file: \"encdec_test.onnx\"", "file: \"encdec_test.npz\""):
        r"float_model\.file: 'encdec_test\.npz': expected an \.onnx file",
    ("file: \"encdec_test.onnx\"", "file: \"sub.onnx\""):
        r"float_model\.file: file 'sub\.onnx' is a directory, not an ONNX model",
    ("  tensors:", "  tensor:"):
        r"float_model\.tensor: unknown key \(did you mean 'tensors'\?\)",
    ("\"stem\": \"relu11_out\"", "\"stem\": \"no_such\""):  # found when the report runs
        r"float_model\.tensors\.stem: no node of encdec_test\.onnx computes a tensor 'no_such'",
    ("file: \"encdec_test.onnx\"", "file: \"bad.onnx\""):
        r"float_model\.file: 'bad\.onnx' is not an ONNX model: ",
}


@pytest.mark.parametrize("edit", list(BAD_FLOAT_MODEL), ids=lambda e: e[1][:20])
def test_a_bad_float_model_entry_is_one_line(encdec_cli, tmp_path: Path, edit):  # noqa: ANN001
    d, _ = encdec_cli
    p = _edited(d, tmp_path, *edit)
    (p.parent / "sub.onnx").mkdir()
    (p.parent / "bad.onnx").write_bytes(b"not a protobuf \xff\xff")
    res = CliRunner().invoke(main, ["report", str(p)])
    assert res.exit_code == 2, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"hls-sim: error: {p}: float_model."), lines
    assert re.search(BAD_FLOAT_MODEL[edit], lines[0]), lines[0]


def test_a_mapped_tensor_of_another_shape_is_named(encdec_cli, tmp_path: Path):  # noqa: ANN001
    d, _ = encdec_cli
    p = _edited(d, tmp_path, "\"stem\": \"relu11_out\"", "\"stem\": \"relu17_out\"")
    with pytest.raises(NetworkReportError, match=re.escape(
            f"{p}: float_model.tensors.stem: the ONNX tensor 'relu17_out' is [1, 8, 8, 8]; layer "
            "stem's output is [1, 8, 16, 16]")):
        float_reference(load_network(p)).image(0)


def test_the_bundled_example_has_no_float_model():
    net = load_network(WEIGHTS / "encdec.yaml")
    assert net.float_model is None and "float_model" not in (WEIGHTS / "encdec.yaml").read_text()
    ref = float_reference(net)
    assert (ref.source, ref.note, ref.to_dict()["layers"]) == ("float_blocks", None, [])
    assert ref.describe() == "the float: blocks (float64)"


# ---- the bundled example, exported to ONNX -----------------------------------------------------
def _make_encdec():  # noqa: ANN202
    spec = importlib.util.spec_from_file_location("make_encdec", WEIGHTS / "make_encdec.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def export(net: FloatNetwork, shape: tuple[int, int, int]) -> onnx.ModelProto:
    """A float network as an ONNX graph, one node per layer named after it (the relus as
    their own nodes), weights as float32 initializers: what torch.onnx.export would give."""
    nodes, inits, prev = [], [], "input"
    out = {"input": "x"}

    def const(name: str, a: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(np.asarray(a, dtype=np.float32), name))
        return name

    for fl in net.layers:
        p, src = fl.params, out[fl.input or prev]
        y = f"{fl.name}_y"
        if fl.kind in ("conv2d", "conv_transpose"):
            k, s, pad = p["kernel_size"], p.get("stride", 1), p.get("padding", 0)
            op = "Conv" if fl.kind == "conv2d" else "ConvTranspose"
            nodes.append(helper.make_node(op, [src, const(f"{fl.name}.w", fl.weight),
                                               const(f"{fl.name}.b", fl.bias)], [y], name=fl.name,
                                          kernel_shape=[k, k], strides=[s, s], pads=[pad] * 4,
                                          group=p.get("groups", 1)))
            if p.get("activation", "relu") == "relu":
                nodes.append(helper.make_node("Relu", [y], [y + "r"], name=f"{fl.name}_relu"))
                y += "r"
        elif fl.kind == "concat":
            nodes.append(helper.make_node("Concat", [src, out[fl.input2]], [y], name=fl.name, axis=1))
        elif fl.kind == "add":
            nodes.append(helper.make_node("Add", [src, out[fl.input2]], [y], name=fl.name))
        else:
            raise AssertionError(fl.kind)
        out[fl.name] = y
        prev = fl.name
    g = helper.make_graph(nodes, "encdec", [helper.make_tensor_value_info(
        "x", TensorProto.FLOAT, ["N", *shape])], [helper.make_tensor_value_info(
            out[prev], TensorProto.FLOAT, ["N", None, None, None])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(m)
    return m


def test_bundled_example_exported_to_onnx_imports_to_the_same_network(tmp_path: Path):
    """weights/encdec's float network exported to ONNX: the import gives back its layers,
    weights and biases (float32 kept), its float reference equals onnxruntime, and `hls-sim
    import` calibrated on the bundled image writes weights/encdec.npz byte for byte."""
    me = _make_encdec()
    net = me.float_network()
    m = export(net, (3, me.HEIGHT, me.WIDTH))
    imp = import_onnx(m)
    assert [fl.name for fl in imp.network.layers] == [fl.name for fl in net.layers]
    for a, b in zip(imp.network.layers, net.layers):
        assert (a.kind, a.input2) == (b.kind, b.input2)
        assert {k: v for k, v in a.params.items() if k in b.params} == dict(b.params)
        if b.weight is not None:
            assert a.weight.dtype == np.float32 and np.array_equal(a.weight, b.weight)
            assert np.array_equal(a.bias, b.bias)
    crop = me.scene()[40:72, 96:160].transpose(2, 0, 1)[None] / 255.0  # a part: fast
    _close(onnx_outputs(export(net, crop.shape[1:]), crop),
           forward(imp.network, crop, keep=["head"])["head"])
    onnx.save(m, tmp_path / "encdec.onnx")
    res = CliRunner().invoke(main, ["import", str(tmp_path / "encdec.onnx"), "-c",
                                    str(WEIGHTS / me.IMAGES), "-o", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    for f in ("encdec.npz", "encdec_float.npz"):
        assert (tmp_path / "out" / f).read_bytes() == (WEIGHTS / f).read_bytes(), f
    pixels = me.scene().transpose(2, 0, 1)[None]
    assert np.array_equal(np.load(tmp_path / "out" / "input.npy"), pixels)
    m = re.search(r"check .* SQNR (\S+) dB", res.output)
    assert m and float(m.group(1)) > 25, res.output


# ---- refusals: one line naming the node, nothing written ---------------------------------------
def _bad(case: str) -> onnx.ModelProto:
    g = G()
    if case == "unsupported op":
        return g.model(g.op("Sigmoid", [g.conv("x", 3, 4)], name="sig"))
    if case == "auto_pad same":
        return g.model(g.op("Conv", ["x", g.w((4, 3, 3, 3))], name="cv", auto_pad="SAME_UPPER"))
    if case == "asymmetric pads":
        return g.model(g.op("Conv", ["x", g.w((4, 3, 3, 3))], name="cv", pads=[0, 0, 1, 1]))
    if case == "resize linear":
        return g.model(g.op("Resize", ["x", "", g.init([1, 1, 2, 2])], name="rs", mode="linear"))
    if case == "resize floor half_pixel":
        return g.model(g.op("Resize", ["x", "", g.init([1, 1, 2, 2])], name="rs", mode="nearest",
                            nearest_mode="floor"))
    if case == "weight not constant":
        return g.model(g.op("Conv", ["x", g.op("Relu", ["x"])], name="cv"))
    if case == "batchnorm alone":
        return g.model(g.bn(g.op("MaxPool", ["x"], kernel_shape=[2, 2]), 3))
    if case == "clip min":
        return g.model(g.op("Clip", [g.conv("x", 3, 4), g.init(-1.0), g.init(1.0)], name="cl"))
    if case == "add a row":
        return g.model(g.op("Add", [g.conv("x", 3, 4, k=1), g.w((W,))], name="ad"))
    if case == "flatten a map":
        v = g.op("Flatten", ["x"], name="fl")
        return g.model(g.op("Gemm", [v, g.w((3 * H * W, 4))], name="fc"), rank=2)
    if case == "custom domain":  # QONNX Quant nodes: tests/test_qonnx_import.py
        g.nodes.append(helper.make_node("Quant", ["x", g.init(0.1), g.init(0.0), g.init(8.0)],
                                        ["q"], name="qx", domain="com.example"))
        return g.model("q")
    raise AssertionError(case)


BAD = {"unsupported op": r"node sig \(Sigmoid\): no layer kind",
       "auto_pad same": r"node cv \(Conv\): auto_pad SAME_UPPER",
       "asymmetric pads": r"node cv \(Conv\): pads \[0, 0, 1, 1\]",
       "resize linear": r"node rs \(Resize\): mode linear",
       "resize floor half_pixel": r"node rs \(Resize\): coordinate_transformation_mode half_pixel",
       "weight not constant": r"node cv \(Conv\): its weight .* is not a constant",
       "batchnorm alone": r"\(BatchNormalization\): not right after a convolution",
       "clip min": r"node cl \(Clip\): min -1",
       "add a row": r"node ad \(Add\): adds a constant that is not the per-channel bias",
       "flatten a map": r"node fl \(Flatten\): flattens a \[3\]\[8\]\[8\] map",
       "custom domain": r"node qx \(Quant\): operator domain 'com.example'"}


@pytest.mark.parametrize("case", list(BAD))
def test_unsupported_nodes_are_one_line_and_nothing_is_written(case: str, tmp_path: Path):
    m = _bad(case)
    onnx.save(m, tmp_path / "m.onnx", save_as_external_data=False)
    np.save(tmp_path / "calib.npy", _images())
    res = CliRunner().invoke(main, ["import", str(tmp_path / "m.onnx"), "-c",
                                    str(tmp_path / "calib.npy"), "-o", str(tmp_path / "out")])
    assert res.exit_code == 2, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"hls-sim: error: {tmp_path / 'm.onnx'}: ")
    assert re.search(BAD[case], lines[0]), lines[0]
    assert not (tmp_path / "out").exists()


def test_calibration_that_does_not_fit_is_refused(tmp_path: Path):
    onnx.save(_single("relu-alone"), tmp_path / "m.onnx")
    np.save(tmp_path / "calib.npy", _images(2, 3, 4, 4))
    res = CliRunner().invoke(main, ["import", str(tmp_path / "m.onnx"), "-c",
                                    str(tmp_path / "calib.npy"), "-o", str(tmp_path / "out")])
    assert res.exit_code == 2 and "calib.npy: images of shape [3, 4, 4]" in res.output
    assert not (tmp_path / "out").exists()


def test_percentile_option_is_checked_and_said(tmp_path: Path):
    onnx.save(_single("relu-alone"), tmp_path / "m.onnx")
    np.save(tmp_path / "calib.npy", _images(2, 3, 8, 8))
    args = ["import", str(tmp_path / "m.onnx"), "-c", str(tmp_path / "calib.npy"), "--no-check"]
    bad = CliRunner().invoke(main, [*args, "-o", str(tmp_path / "bad"), "--percentile", "20"])
    assert bad.exit_code == 2 and len(bad.output.strip().splitlines()) == 1
    assert "--percentile" in bad.output and not (tmp_path / "bad").exists()
    ok = CliRunner().invoke(main, [*args, "-o", str(tmp_path / "ok"), "--percentile", "99.9"])
    assert ok.exit_code == 0, ok.output
    assert "99.9th percentile" in (tmp_path / "ok" / "m.yaml").read_text()


def test_without_onnx_the_extra_is_named(monkeypatch):  # noqa: ANN001
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(OnnxImportError, match=r"pip install 'hls-sim\[onnx\]'"):
        require_onnx()
    res = CliRunner().invoke(main, ["import", "m.onnx", "-c", "c.npy"])
    assert res.exit_code == 2 and "hls-sim[onnx]" in res.output


def test_clip_top_must_be_a_relu_layer():
    w = np.ones((2, 3, 1, 1))
    with pytest.raises(ValueError, match=r"top: only for a layer with weights and activation relu"):
        forward(FloatNetwork([FloatLayer("c", "conv2d", {"out_channels": 2, "kernel_size": 1,
                                                         "activation": "none"}, w, top=1.0)]),
                _images())
