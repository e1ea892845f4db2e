"""hls-sim import of QONNX models (hls_sim.qonnx_import): models built here with onnx.helper
(Quant nodes on the input, the weights and after every layer) become network files whose
bit-accurate run equals the qonnx package's own execution of the model, element for element,
wherever the arithmetic is representable (power-of-two and few-bit scales, small integers:
the float32 execution is exact there); what is not representable is refused per node, or
rounded to the nearest with --nearest and said so."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import onnx  # test dependencies (pyproject [test]): missing is a failure, not a skip
import qonnx  # noqa: F401  # the reference executor
from onnx import TensorProto, helper, numpy_helper

from hls_sim.cli import main
from hls_sim.files import write_files
from hls_sim.network import load_network, run_network
from hls_sim.qonnx_import import import_qonnx, qonnx_outputs
from hls_sim.types import OMode, QMode

DOMAIN = "qonnx.custom_op.general"
P2 = 2.0 ** np.arange(0, -12, -1)  # power-of-two scales: P2[k] = 2**-k


class QG:
    """A QONNX graph under construction: initializers with fresh names, Quant nodes."""

    def __init__(self, seed: int) -> None:
        self.nodes: list = []
        self.inits: list = []
        self.n = 0
        self.rng = np.random.default_rng([12, seed])

    def init(self, a, dtype=np.float32) -> str:  # noqa: ANN001
        self.n += 1
        self.inits.append(numpy_helper.from_array(np.asarray(a, dtype=dtype), f"c{self.n}"))
        return f"c{self.n}"

    def op(self, op: str, inputs: list[str], name: str | None = None, **attrs) -> str:  # noqa: ANN003
        self.n += 1
        name = name or f"{op.lower()}{self.n}"
        self.nodes.append(helper.make_node(op, inputs, [f"{name}_out"], name=name, **attrs))
        return f"{name}_out"

    def quant(self, x: str, scale, bits: int = 8, signed: int = 0, narrow: int = 0,  # noqa: ANN001
              mode: str = "ROUND", zp: float = 0.0, name: str | None = None) -> str:
        self.n += 1
        name = name or f"quant{self.n}"
        self.nodes.append(helper.make_node(
            "Quant", [x, self.init(scale), self.init(zp), self.init(float(bits))],
            [f"{name}_out"], name=name, domain=DOMAIN, signed=signed, narrow=narrow,
            rounding_mode=mode))
        return f"{name}_out"

    def wq(self, shape: tuple[int, ...], per: tuple[int, ...] | None = None, k: tuple[int, int] = (4, 7),
           bits: int = 8) -> str:
        """A float weight (off the grid: the Quant rounds it) behind a signed narrow Quant
        with power-of-two scales, per tensor or of shape ``per`` (per output channel)."""
        s = P2[self.rng.integers(*k, size=per)] if per else P2[k[0]]
        w = self.rng.standard_normal(shape) * 40 * np.max(s)
        return self.quant(self.init(w), s, bits=bits, signed=1, narrow=1)

    def bias(self, co: int, s_out: float) -> str:
        """A float bias on a quarter of the output's scale (B / s_out has ties)."""
        return self.init(self.rng.integers(-40, 40, co) * s_out / 4)

    def conv(self, x: str, ci: int, co: int, s_out: float, k: int = 3, g: int = 1,
             relu: bool = True, name: str | None = None, **attrs) -> str:  # noqa: ANN003
        y = self.op("Conv", [x, self.wq((co, ci // g, k, k), (co, 1, 1, 1)), self.bias(co, s_out)],
                    name=name, group=g, pads=[k // 2] * 4, **attrs)
        return self.quant(self.op("Relu", [y]) if relu else y, s_out)

    def model(self, out: str, c: int = 3, h: int = 8, w: int = 8) -> onnx.ModelProto:
        g = helper.make_graph(self.nodes, "t", [helper.make_tensor_value_info(
            "x", TensorProto.FLOAT, ["N", c, h, w])], [helper.make_tensor_value_info(
                out, TensorProto.FLOAT, ["N", None, None, None])], self.inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17),
                                              helper.make_opsetid(DOMAIN, 1)])
        onnx.checker.check_model(m)
        return m


def _x(n: int, c: int, h: int, w: int, top: float = 8.0) -> np.ndarray:
    """Real inputs in [-top/4, top): the input Quant rounds and clips them."""
    return np.random.default_rng([13, c, h]).random((n, c, h, w)) * top * 1.25 - top / 4


def _run(m: onnx.ModelProto, x: np.ndarray, tmp: Path, **kw) -> tuple:  # noqa: ANN003
    """Import, write, run the network file: (hls-sim's output in real units, qonnx's, result)."""
    onnx.save(m, tmp / "m.onnx")
    np.save(tmp / "x.npy", x)
    res = import_qonnx(tmp / "m.onnx", tmp / "x.npy", **kw)
    written = write_files(tmp / "out", res.files, ValueError)
    run = run_network(load_network(written[0]), reference=False)
    got = res.quantized.real(run.output).reshape(res.onnx_output.shape)
    assert np.array_equal(res.onnx_output, qonnx_outputs(m, x))  # the result holds qonnx's run
    return got, res.onnx_output, res


def _exact(m: onnx.ModelProto, x: np.ndarray, tmp: Path, levels: int = 8) -> object:
    got, ref, res = _run(m, x, tmp)
    assert got.shape == ref.shape
    assert np.array_equal(got, ref), f"{int((got != ref).sum())} of {ref.size} differ"
    assert np.unique(ref).size >= levels, "a live output: the comparison means something"
    return res


# ---- exact against qonnx ----------------------------------------------------------------------
def test_conv_relu_quant_equals_qonnx_element_for_element(tmp_path: Path):
    g = QG(1)
    y = g.conv(g.quant("x", P2[3], name="qin"), 3, 6, P2[2], name="conv")
    res = _exact(g.model(y), _x(2, 3, 8, 8), tmp_path)
    (ql,) = res.quantized.layers
    assert ql.params["activation"] == "relu"
    assert str(ql.types["out_t"]) == "ap_ufixed<8,8,AP_RND_CONV,AP_SAT>"
    assert str(ql.types["weight_t"]) == "ap_int<8>" and res.quantized.input_type.width == 8
    assert ql.factor.shape == (6,)  # per-channel weight scales: per-channel factors
    # the factor is exactly s_w * s_in / s_out, and every intermediate type is exact
    assert np.array_equal(ql.factor_values(), ql.weight_scale * P2[3] / P2[2])
    assert "Quant" in res.summary() and "folded" in res.summary()


def test_depthwise_signed_narrow_floor(tmp_path: Path):
    """group = channels, no relu, a signed narrow FLOOR Quant: AP_TRN, AP_SAT_SYM."""
    g = QG(2)
    x = g.quant("x", P2[4], bits=8, signed=1)
    y = g.op("Conv", [x, g.wq((4, 1, 3, 3), (4, 1, 1, 1)), g.bias(4, P2[3])], group=4,
             pads=[1, 1, 1, 1], strides=[2, 2])
    y = g.quant(y, P2[3], bits=6, signed=1, narrow=1, mode="FLOOR")
    res = _exact(g.model(y, c=4, h=12, w=12), _x(2, 4, 12, 12), tmp_path)
    out_t = res.quantized.layers[0].out_type
    assert (out_t.q_mode, out_t.o_mode, out_t.width, out_t.signed) == (QMode.AP_TRN,
                                                                       OMode.AP_SAT_SYM, 6, True)
    assert res.quantized.input_type.signed


def test_conv_transpose_per_tensor_half_up(tmp_path: Path):
    """ConvTranspose stride 2 (per-tensor weight scale), HALF_UP (AP_RND_INF) without a relu,
    then an unsigned Quant: a relu in hls-sim."""
    g = QG(3)
    x = g.quant("x", P2[3])
    y = g.op("ConvTranspose", [x, g.wq((3, 4, 3, 3)), g.bias(4, P2[2])], strides=[2, 2],
             pads=[1, 1, 1, 1], output_padding=[1, 1])
    y = g.quant(y, P2[2], bits=8, signed=1, mode="HALF_UP")
    y = g.quant(g.op("Relu", [g.op("ConvTranspose", [y, g.wq((4, 2, 2, 2)), g.bias(2, P2[1])],
                                   strides=[2, 2])]), P2[1], bits=4, narrow=1)
    res = _exact(g.model(y, c=3, h=6, w=6), _x(2, 3, 6, 6), tmp_path, levels=5)
    a, b = res.quantized.layers
    assert a.out_type.q_mode == QMode.AP_RND_INF
    assert (b.params["activation"], b.params["clip_at"]) == ("clip", 14.0)  # narrow unsigned


def test_add_and_concat_with_equal_scales(tmp_path: Path):
    g = QG(4)
    x = g.quant("x", P2[3])
    a = g.conv(x, 3, 4, P2[2], k=1)
    b = g.conv(x, 3, 4, P2[2])
    s = g.quant(g.op("Relu", [g.op("Add", [a, b], name="add")]), P2[2], bits=8)
    c = g.op("Concat", [s, a], axis=1, name="cat")
    y = g.conv(c, 8, 3, P2[1], k=1, relu=False, name="head")
    res = _exact(g.model(y), _x(2, 3, 8, 8), tmp_path)
    q = res.quantized
    assert [ql.kind for ql in q.layers] == ["conv2d", "conv2d", "add", "concat", "conv2d"]
    assert q.layer("add").params["relu"] is True
    assert str(q.types["add"]) == "ap_ufixed<8,8,AP_RND_CONV,AP_SAT>"  # the Quant after it


def test_gemm_after_flatten(tmp_path: Path):
    """MaxPool to a 1x1 map, Flatten, Gemm (transB, alpha 0.5: folded into the weight scale),
    a signed Quant: the linear kind, exact."""
    g = QG(9)
    s = g.conv(g.quant("x", P2[3]), 3, 4, P2[2])
    v = g.op("Flatten", [g.op("MaxPool", [s], kernel_shape=[4, 4], strides=[4, 4])])
    y = g.op("Gemm", [v, g.wq((5, 4), (5, 1)), g.bias(5, P2[2])], transB=1, alpha=0.5)
    m = g.model(g.quant(y, P2[2], signed=1), h=4, w=4)
    del m.graph.output[0].type.tensor_type.shape.dim[2:]  # [N, 5]
    res = _exact(m, _x(3, 3, 4, 4), tmp_path, levels=3)
    assert [ql.kind for ql in res.quantized.layers] == ["conv2d", "max_pool", "linear"]


def encdec(g: QG) -> str:
    """16x16: stem conv + relu -> max pool -> conv -> ConvTranspose x2 + relu -> add the stem
    (skip) -> a 9-bit Quant -> concat with the stem (skip) -> 1x1 head."""
    x = g.quant("x", P2[4])
    s = g.conv(x, 3, 4, P2[2], name="stem")
    p = g.op("MaxPool", [s], kernel_shape=[2, 2], strides=[2, 2], name="pool")
    e = g.conv(p, 4, 8, P2[2], name="enc")
    u = g.quant(g.op("Relu", [g.op("ConvTranspose", [e, g.wq((8, 4, 2, 2), (1, 4, 1, 1)),
                                                     g.bias(4, P2[2])], strides=[2, 2],
                                   name="up")]), P2[2])
    a = g.quant(g.op("Add", [u, s], name="skip_add"), P2[2], bits=9)
    c = g.op("Concat", [a, s], axis=1, name="skip_cat")
    return g.conv(c, 8, 2, P2[3], k=1, relu=False, name="head")


def test_encoder_decoder_with_skip_connections(tmp_path: Path):
    g = QG(5)
    res = _exact(g.model(encdec(g), h=16, w=16), _x(2, 3, 16, 16), tmp_path)
    kinds = [ql.kind for ql in res.quantized.layers]
    assert kinds == ["conv2d", "max_pool", "conv2d", "conv_transpose", "add", "concat", "conv2d"]


def test_cli_without_calibration_writes_and_checks_bit_exact(tmp_path: Path):
    """-c is optional for QONNX: the input is seeded random integers; the check line is the
    written network against qonnx, element for element."""
    g = QG(5)
    onnx.save(g.model(encdec(g), h=16, w=16), tmp_path / "ed.onnx")
    res = CliRunner().invoke(main, ["import", str(tmp_path / "ed.onnx"), "-o", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["ed.npz", "ed.yaml",
                                                                 "ed_float.npz", "input.npy"]
    m = re.search(r"check +bit-exact against qonnx's execution of the model on 1 image\(s\): all "
                  r"(\d+) outputs equal", res.output)
    assert m and int(m.group(1)) == 2 * 16 * 16, res.output
    assert "ap_ufixed<8,8,AP_RND_CONV,AP_SAT>" in res.output and "next      hls-sim report" in res.output
    raw = np.load(tmp_path / "o" / "input.npy")
    assert raw.shape == (1, 3, 16, 16) and raw.min() >= 0 and raw.max() <= 255


# ---- refusals, and --nearest -------------------------------------------------------------------
def _bad(case: str) -> onnx.ModelProto:
    g = QG(6)
    x = g.quant("x", P2[3])
    if case == "rounding mode":
        y = g.op("Conv", [x, g.wq((4, 3, 1, 1))], name="cv")
        return g.model(g.quant(y, P2[2], signed=1, mode="CEIL", name="qc"))
    if case == "zero point":
        y = g.op("Conv", [x, g.wq((4, 3, 1, 1))], name="cv")
        return g.model(g.quant(y, P2[2], zp=3.0, name="qz"))
    if case == "factor":
        y = g.op("Conv", [x, g.wq((4, 3, 1, 1))], name="cv")
        return g.model(g.quant(y, 0.1, name="q10"))
    if case == "bias":  # factor 3 * 2**-7 * 2**-3 / (3 * 2**-4) is exact; 0.3 / 0.1875 is not
        w = g.quant(g.init(g.rng.standard_normal((4, 3, 1, 1))), 3 * P2[7], signed=1, narrow=1)
        y = g.op("Conv", [x, w, g.init(np.full(4, 0.3))], name="cv")
        return g.model(g.quant(y, 3 * P2[4], name="qb"))
    if case == "float weight":
        y = g.op("Conv", [x, g.init(np.ones((4, 3, 1, 1)))], name="cv")
        return g.model(g.quant(y, P2[2]))
    if case == "unquantized output":
        return g.model(g.op("Relu", [g.op("Conv", [x, g.wq((4, 3, 1, 1))], name="cv")]))
    if case == "float input":
        return g.model(g.quant(g.op("Conv", ["x", g.wq((4, 3, 1, 1))], name="cv"), P2[2]))
    if case == "merge scales":
        a = g.conv(x, 3, 4, P2[2], k=1)
        b = g.conv(x, 3, 4, P2[3], k=1)
        return g.model(g.op("Add", [a, b], name="ad"))
    if case == "batchnorm":
        y = g.op("Conv", [x, g.wq((4, 3, 1, 1))], name="cv")
        y = g.op("BatchNormalization", [y, *(g.init(np.ones(4)) for _ in range(2)),
                                        g.init(np.zeros(4)), g.init(np.ones(4))], name="bn")
        return g.model(g.quant(y, P2[2]))
    raise AssertionError(case)


BAD = {"rounding mode": r"node qc \(Quant\): rounding_mode CEIL: no ap_\* quantization mode.*--nearest",
       "zero point": r"node qz \(Quant\): zero point \[3\.0\]: only 0",
       "factor": r"node cv \(Conv\): factor s_w \* s_in / s_out = .* is not exactly "
                 r"representable .*--nearest",
       "bias": r"node cv \(Conv\): bias / s_out = 1\.6\d* \(channel 0\) is not exactly representable",
       "float weight": r"node cv \(Conv\): its weight c\d+ is not quantized",
       "unquantized output": r"node cv \(Conv\): its output is not quantized",
       "float input": r"node cv \(Conv\): reads the float input x",
       "merge scales": r"node ad \(Add\): inputs of scales 0\.25 and 0\.125: add needs one scale",
       "batchnorm": r"node bn \(BatchNormalization\): not in a QONNX model"}


def _cli(tmp: Path, m: onnx.ModelProto, *args: str):  # noqa: ANN202
    onnx.save(m, tmp / "m.onnx")
    np.save(tmp / "x.npy", _x(2, 3, 8, 8))
    return CliRunner().invoke(main, ["import", str(tmp / "m.onnx"), "-c", str(tmp / "x.npy"),
                                     "-o", str(tmp / "out"), *args])


@pytest.mark.parametrize("case", list(BAD))
def test_refusals_name_the_node_and_write_nothing(case: str, tmp_path: Path):
    res = _cli(tmp_path, _bad(case))
    assert res.exit_code == 2, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"hls-sim: error: {tmp_path / 'm.onnx'}: ")
    assert re.search(BAD[case], lines[0]), lines[0]
    assert not (tmp_path / "out").exists()


def test_nearest_accepts_and_says_so(tmp_path: Path):
    """A factor that is not a dyadic fraction (s_out 0.1) and a CEIL Quant: refused alone
    (above), accepted with --nearest, each with its note; the check counts the differences."""
    g = QG(6)
    y = g.op("Conv", [g.quant("x", P2[3]), g.wq((4, 3, 1, 1))], name="cv")
    m = g.model(g.quant(y, 0.1, signed=1, mode="CEIL", name="qc"))
    assert _cli(tmp_path, m).exit_code == 2 and not (tmp_path / "out").exists()
    res = _cli(tmp_path, m, "--nearest")
    assert res.exit_code == 0, res.output
    for note in (r"note: cv: factor s_w \* s_in / s_out rounded to \d+ fraction bits "
                 r"\(--nearest\): relative error up to",
                 r"note: node qc \(Quant\): rounding_mode CEIL is computed as round to nearest"):
        assert re.search(note, res.output), res.output
    m = re.search(r"check +(\d+) of 512 outputs differ from qonnx's execution .* \(--nearest\)",
                  res.output)
    assert m and 0 < int(m.group(1)) < 512, res.output
    assert (tmp_path / "out" / "m.yaml").exists()
