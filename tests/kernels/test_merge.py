"""add and concat: the twins against the naive oracle and against the C++ of kernels/merge.h
(g++, the real headers, the golden testbench), the registry's exact values against
onnxruntime's Add and Concat, and the rules of the kinds.

The matrix mixes the inputs' types the ways skip connections do: different fraction bits, an
ap_int with an ap_fixed, signed with unsigned, both beyond 64 bits (the exact path); out_t
narrower (wrapping or saturating) and under every quantization mode and four overflow modes.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pytest

from hls_sim import jit
from hls_sim.kernels import KernelConfig, run
from hls_sim.kernels.hls_kernels import COUNTER_NAMES
from hls_sim.kernels.kinds import get_kind
from hls_sim.kernels.merge import sum_type
from hls_sim.layer import Layer
from hls_sim.types import parse
from tests.kernels import cxx, naive
from tests.kernels.kinds_matrix import _draw_wide
from tests.kernels.matrix import seed_of

Q_MODES = ("AP_RND", "AP_RND_ZERO", "AP_RND_MIN_INF", "AP_RND_INF", "AP_RND_CONV", "AP_TRN",
           "AP_TRN_ZERO")
O_MODES = ("AP_WRAP", "AP_SAT_ZERO", "AP_SAT_SYM", "AP_WRAP_SM")
MIXED = {"in_t": "ap_fixed<8,4>", "in2_t": "ap_fixed<10,3>"}  # 4 and 7 fraction bits
PRESETS: dict[str, dict] = {
    "default": {},  # ap_uint<8> + ap_uint<8> -> ap_uint<8>: sums above 255 wrap
    "mixed-sat": {**MIXED, "out_t": "ap_fixed<8,4,AP_RND,AP_SAT>"},
    "mixed-wide-out": {**MIXED, "out_t": "ap_fixed<12,5>"},  # holds every sum: exact
    "int-fixed": {"in_t": "ap_int<6>", "in2_t": "ap_fixed<8,2>", "out_t": "ap_fixed<10,6,AP_RND_CONV,AP_WRAP>"},
    "uint-int": {"in_t": "ap_uint<8>", "in2_t": "ap_int<6>", "out_t": "ap_fixed<8,8,AP_TRN,AP_SAT>"},
    "ufixed": {"in_t": "ap_ufixed<8,2>", "in2_t": "ap_ufixed<6,4>", "out_t": "ap_ufixed<7,4,AP_TRN_ZERO,AP_SAT_ZERO>"},
    "fixed-to-int": {"in_t": "ap_fixed<8,4>", "in2_t": "ap_fixed<8,3>", "out_t": "ap_int<4>"},
    "exact-wide": {"in_t": "ap_fixed<70,30>", "in2_t": "ap_fixed<72,40>",
                   "out_t": "ap_fixed<80,42,AP_RND,AP_SAT>"},
    **{f"q-{m.lower()}": {**MIXED, "out_t": f"ap_fixed<7,4,{m},AP_SAT>"} for m in Q_MODES},
    **{f"o-{m.lower()}": {**MIXED, "out_t": f"ap_fixed<6,2,AP_RND,{m}>"} for m in O_MODES},
}
OVERFLOWS = {"default", "mixed-sat", "int-fixed", "uint-int", "ufixed", "fixed-to-int",
             *(f"o-{m.lower()}" for m in O_MODES)}  # out_t overflows in these (add)


@dataclass(frozen=True)
class Case:
    kind: str
    shape: tuple[int, int, int]
    preset: str
    c2: int | None = None  # concat: the second input's channels
    relu: bool = False

    @property
    def id(self) -> str:
        c, h, w = self.shape
        extra = f"+{self.c2}" if self.c2 else ""
        return f"{self.kind}-c{c}{extra}-{h}x{w}-{self.preset}" + ("-relu" if self.relu else "")

    @property
    def config(self) -> KernelConfig:
        return KernelConfig.from_dict(PRESETS[self.preset])

    @property
    def params(self) -> dict:
        return {"relu": self.relu} if self.kind == "add" else {"in2_channels": self.c2}

    @property
    def geometry(self):  # noqa: ANN201 - Geometry
        c, h, w = self.shape
        return get_kind(self.kind).geometry(dict(in_channels=c, height=h, width=w, **self.params))

    def inputs(self) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng(seed_of("merge", self.id))
        g, c = self.geometry, self.config

        def draw(fmt, shape):  # noqa: ANN001, ANN202
            if fmt.width > 62:
                return _draw_wide(rng, fmt, shape)
            return rng.integers(fmt.min_raw, fmt.max_raw + 1, size=shape, dtype=np.int64)

        return draw(c.in_t, g.shape("input")), draw(c.in2_t, g.shape("input2"))


CASES = [
    Case("add", (16, 8, 9), "default"),
    Case("add", (3, 7, 9), "mixed-sat"),
    Case("add", (3, 7, 9), "mixed-sat", relu=True),
    Case("add", (4, 5, 11), "mixed-wide-out", relu=True),
    Case("add", (2, 9, 5), "int-fixed"),
    Case("add", (2, 9, 5), "uint-int", relu=True),
    Case("add", (3, 6, 7), "ufixed"),
    Case("add", (2, 5, 7), "fixed-to-int"),
    Case("add", (2, 4, 5), "exact-wide", relu=True),
    *[Case("add", (2, 7, 9), f"q-{m.lower()}") for m in Q_MODES],
    *[Case("add", (2, 7, 9), f"o-{m.lower()}") for m in O_MODES],
    Case("concat", (16, 8, 9), "default", c2=16),
    Case("concat", (3, 7, 9), "mixed-sat", c2=5),
    Case("concat", (1, 9, 5), "int-fixed", c2=2),
    Case("concat", (2, 5, 7), "fixed-to-int", c2=3),
    Case("concat", (2, 4, 5), "exact-wide", c2=1),
]
BY_ID = {c.id: c for c in CASES}
assert len(BY_ID) == len(CASES)
IDS = list(BY_ID)
CXX_IDS = [i for i in IDS if not BY_ID[i].preset.startswith(("q-", "o-"))] + [
    f"add-c2-7x9-q-{m.lower()}" for m in ("AP_RND_ZERO", "AP_RND_INF", "AP_TRN_ZERO")] + [
    f"add-c2-7x9-o-{m.lower()}" for m in ("AP_SAT_SYM", "AP_WRAP_SM")]


@lru_cache(maxsize=None)
def twin(case_id: str, variant: str = "specialised"):  # noqa: ANN201 - (x, x2, KernelResult)
    """One case's inputs and the twin's result; ``variant``: its machine code (hls_sim.jit)."""
    case = BY_ID[case_id]
    x, x2 = case.inputs()
    with jit.kernels(variant):
        return x, x2, run(case.kind, x, config=case.config, input2=x2, **case.params)


def _oracle(case: Case, x, x2, events: dict) -> np.ndarray:  # noqa: ANN001
    if case.kind == "add":
        return naive.add_layer(case.config, x, x2, case.relu, events)
    return naive.concat_layer(case.config, x, x2, events)


@pytest.mark.parametrize("case_id, variant", [(i, v) for i in IDS for v in ("specialised", "generic")
                                               if v == "specialised" or BY_ID[i].preset != "exact-wide"])
def test_merge_twin_equals_oracle(case_id, variant):
    case = BY_ID[case_id]
    x, x2, res = twin(case_id, variant)
    wide = case.preset == "exact-wide"
    assert (res.path, res.kernel) == (("exact", "python") if wide else ("int64", variant))
    events: dict = {}
    want = _oracle(case, x, x2, events)
    got = res.top.raw
    assert got.shape == want.shape == case.geometry.shape("top")
    bad = np.argwhere(got.astype(object) != want)
    assert bad.size == 0, (f"{len(bad)} of {want.size} outputs differ; first at {tuple(bad[0])}: "
                           f"twin {got[tuple(bad[0])]}, oracle {want[tuple(bad[0])]}")
    counts = res.counters.total()
    assert set(counts) == set(COUNTER_NAMES) and counts == events
    assert {n for n, v in counts.items() if v} <= {"out_overflow"}
    if case.kind == "add" and case.preset in OVERFLOWS:
        assert counts["out_overflow"] > 0
    if case.preset == "mixed-wide-out":
        assert counts["out_overflow"] == 0
    per = res.counters.per_channel
    assert per.shape[0] == case.geometry.out_channels  # counted per output channel


@pytest.mark.parametrize("case_id", IDS)
def test_exact_values_are_the_aligned_sum_or_stack(case_id):
    """The registry's exact values (the report's reference), checked against Fractions: raws
    of in_t + in2_t's natural type, every input value exact in it."""
    case = BY_ID[case_id]
    x, x2, _ = twin(case_id)
    c = case.config
    st = sum_type(c)
    fs, fa, fb = (naive._frac(t) for t in (st, c.in_t, c.in2_t))
    assert fs == max(fa, fb)
    got = get_kind(case.kind).sums(case.geometry, x, x2, c)
    a = [int(v) << (fs - fa) for v in np.asarray(x).flat]
    b = [int(v) << (fs - fb) for v in np.asarray(x2).flat]
    if case.kind == "add":
        want = [max(0, p + q) if case.relu else p + q for p, q in zip(a, b)]
    else:
        want = a + b
    assert [int(v) for v in np.asarray(got).flat] == want
    assert all(st.min_raw <= v <= st.max_raw for v in want)


def test_the_matrix_covers_what_it_claims():
    adds = [c for c in CASES if c.kind == "add"]
    cfgs = [c.config for c in adds]
    assert any(f.in_t.frac_bits != f.in2_t.frac_bits and f.in_t.kind == f.in2_t.kind == "fixed" for f in cfgs)
    assert any(f.in_t.kind != f.in2_t.kind for f in cfgs)
    assert any(f.in_t.signed != f.in2_t.signed for f in cfgs)
    assert {f.out_t.q_mode.name for f in cfgs} >= set(Q_MODES)
    assert {f.out_t.o_mode.name for f in cfgs} >= set(O_MODES) | {"AP_SAT"}
    assert {c.relu for c in adds} == {True, False}
    cats = [c for c in CASES if c.kind == "concat"]
    assert any(c.c2 != c.shape[0] for c in cats) and any(c.config.in_t != c.config.in2_t for c in cats)
    # the rounding modes differ from each other on this data
    outs = {m: twin(f"add-c2-7x9-q-{m.lower()}")[2].top.raw for m in Q_MODES}
    assert len({o.tobytes() for o in outs.values()}) == len(Q_MODES)


def test_add_aligns_fraction_bits_as_the_headers_do():
    """ap_fixed<8,4> 1.5 (raw 24) + ap_fixed<10,3> 0.0078125 (raw 1) = 1.5078125: exact in the
    natural sum (7 fraction bits), then rounded by out_t."""
    cfg = KernelConfig(in_t=parse("ap_fixed<8,4>"), in2_t=parse("ap_fixed<10,3>"),
                       out_t=parse("ap_fixed<12,5>"))
    a, b = np.full((1, 1, 1), 24), np.full((1, 1, 1), 1)
    assert str(sum_type(cfg)) == "ap_fixed<12,5>"
    assert run("add", a, config=cfg, input2=b).top.raw[0, 0, 0] == 24 * 8 + 1
    rnd = KernelConfig(in_t=cfg.in_t, in2_t=cfg.in2_t, out_t=parse("ap_fixed<8,4,AP_RND>"))
    assert run("add", a, config=rnd, input2=np.full((1, 1, 1), 4)).top.raw[0, 0, 0] == 25  # 1.53125 -> 1.5625
    assert run("add", a, config=rnd, input2=np.full((1, 1, 1), 3)).top.raw[0, 0, 0] == 24  # 1.5234 -> 1.5


def test_relu_is_on_the_sum_before_out_t():
    cfg = KernelConfig(in_t=parse("ap_int<8>"), in2_t=parse("ap_int<8>"), out_t=parse("ap_int<8>"))
    a = np.array([-100, -100, 100, 100]).reshape(1, 1, 4)
    b = np.array([-100, 50, 100, -101]).reshape(1, 1, 4)
    assert run("add", a, config=cfg, input2=b).top.raw.ravel().tolist() == [56, -50, -56, -1]  # wraps
    assert run("add", a, config=cfg, input2=b, relu=True).top.raw.ravel().tolist() == [0, 0, -56, 0]


@pytest.mark.parametrize("kind, params, field", [
    pytest.param("add", dict(relu=1), "relu", id="add-relu-int"),
    pytest.param("add", dict(in2_channels=3), "in2_channels", id="add-has-no-in2-channels"),
    pytest.param("concat", dict(), "in2_channels", id="concat-in2-missing"),
    pytest.param("concat", dict(in2_channels=0), "in2_channels", id="concat-in2-zero"),
    pytest.param("concat", dict(in2_channels=2, relu=True), "relu", id="concat-has-no-relu"),
])
def test_bad_parameters_name_the_field(kind, params, field):
    with pytest.raises(ValueError, match=rf"^{field}: "):
        get_kind(kind).geometry(dict(in_channels=2, height=3, width=4, **params))


def test_run_checks_the_second_input():
    x = np.zeros((2, 3, 4), dtype=np.int64)
    with pytest.raises(ValueError, match=r"^input2: missing"):
        run("add", x)
    with pytest.raises(ValueError, match=r"^input2: expected shape \[2, 3, 4\], got \[2, 3, 5\]"):
        run("add", x, input2=np.zeros((2, 3, 5), dtype=np.int64))
    with pytest.raises(ValueError, match=r"^input2: "):
        run("add", x, config=KernelConfig(in2_t=parse("ap_int<4>")), input2=np.full((2, 3, 4), 9))
    assert run("concat", x, input2=np.zeros((5, 3, 4), dtype=np.int64)).top.raw.shape == (7, 3, 4)


# ---- onnxruntime: Add and Concat on the same values --------------------------------------------
def _ort(op: str, a: np.ndarray, b: np.ndarray, **attrs) -> np.ndarray:
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper

    ins = [helper.make_tensor_value_info(n, TensorProto.DOUBLE, [1, *v.shape]) for n, v in (("A", a), ("B", b))]
    shape = [1, a.shape[0] + b.shape[0], *a.shape[1:]] if op == "Concat" else [1, *a.shape]
    out = helper.make_tensor_value_info("Y", TensorProto.DOUBLE, shape)
    graph = helper.make_graph([helper.make_node(op, ["A", "B"], ["Y"], **attrs)], "g", ins, [out])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, {"A": a[None].astype(np.float64), "B": b[None].astype(np.float64)})[0][0]


@pytest.mark.parametrize("case_id", [i for i in IDS if BY_ID[i].preset != "exact-wide"
                                     and not BY_ID[i].preset.startswith(("q-", "o-"))])
def test_exact_values_equal_onnxruntime(case_id):
    """Add (then Relu's max(0, .)) and Concat along channels of the two inputs' real values,
    in float64 (every value and sum here is exact in it), equal the registry's exact values
    divided by the LSB of in_t + in2_t."""
    case = BY_ID[case_id]
    x, x2, _ = twin(case_id)
    c = case.config
    a = np.ldexp(x.astype(np.float64), -naive._frac(c.in_t))
    b = np.ldexp(x2.astype(np.float64), -naive._frac(c.in2_t))
    if case.kind == "add":
        want = _ort("Add", a, b)
        if case.relu:
            want = np.maximum(want, 0.0)
    else:
        want = _ort("Concat", a, b, axis=1)
    got = np.asarray(get_kind(case.kind).sums(case.geometry, x, x2, c), dtype=np.float64)
    assert want.shape == got.shape
    assert np.array_equal(np.ldexp(got, -naive._frac(sum_type(c))), want)


# ---- the C++ tier: kernels/merge.h through the golden testbench (g++, real headers) -----------
VECTORS = 2


def layer_of(case: Case) -> Layer:
    x, x2 = case.inputs()
    geom = case.geometry
    return Layer(path=f"{case.id}.yaml", kernel=case.kind, config=case.config, input=x, weight=None,
                 bias=None, factor=None, top=np.zeros(geom.shape("top"), dtype=np.int64),
                 name=case.id, geometry=geom, input2=x2)


@pytest.fixture(scope="module")
def testbenches(toolchain):
    return cxx.prebuild([(BY_ID[i].kind, BY_ID[i].config, BY_ID[i].geometry) for i in CXX_IDS])


@pytest.mark.toolchain
@pytest.mark.parametrize("case_id", CXX_IDS)
def test_merge_golden_set_passes_the_cxx_testbench(testbenches, tmp_path, case_id):
    case = BY_ID[case_id]
    cxx.assert_csim_passes(layer_of(case), testbenches[(case.kind, case.config, case.geometry)],
                           tmp_path, VECTORS)


# ---- layer files and the CLI --------------------------------------------------------------------
ADD_YAML = """\
kernel: add
types:
  in_t: ap_fixed<8,4>
  in2_t: ap_fixed<10,3>
  out_t: ap_fixed<9,5,AP_RND,AP_SAT>
relu: true
input: {file: a.npy}
input2: {file: b.npy}
"""


def _files(tmp_path, text: str, **arrays):  # noqa: ANN001, ANN202
    for n, a in arrays.items():
        np.save(tmp_path / f"{n}.npy", a)
    p = tmp_path / "layer.yaml"
    p.write_text(text)
    return p


def test_a_layer_file_runs_add_and_writes_every_input(tmp_path):
    from click.testing import CliRunner

    from hls_sim.cli import main
    from hls_sim.layer import load_layer

    rng = np.random.default_rng(5)
    a, b = rng.integers(-128, 128, (3, 4, 5)), rng.integers(-512, 512, (3, 4, 5))
    p = _files(tmp_path, ADD_YAML, a=a, b=b)
    ly = load_layer(p)
    assert ly.geometry.shape("input2") == (3, 4, 5) and str(ly.config.in2_t) == "ap_fixed<10,3>"
    want = naive.add_layer(ly.config, a, b, True)
    assert np.array_equal(ly.run().top.raw.astype(object), want)
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["run", str(p), "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert sorted(f.name for f in out.iterdir()) == ["input.npy", "input2.npy", "layer.yaml", "top.npy"]
    assert np.array_equal(np.load(out / "input2.npy"), b)
    replay = load_layer(out / "layer.yaml")
    assert replay.config == ly.config and np.array_equal(replay.run().top.raw, np.load(out / "top.npy"))


def test_concat_reads_in2_channels_from_the_second_file(tmp_path):
    from hls_sim.layer import load_layer

    text = "kernel: concat\ninput: {file: a.npy}\ninput2: {file: b.npy}\n"
    p = _files(tmp_path, text, a=np.zeros((3, 4, 5), dtype=np.int64), b=np.ones((2, 4, 5), dtype=np.int64))
    ly = load_layer(p)
    assert ly.geometry["in2_channels"] == 2 and ly.geometry.shape("top") == (5, 4, 5)
    assert ly.run().top.raw[3:].min() == 1


@pytest.mark.parametrize("text, arrays, field, reason", [
    pytest.param(ADD_YAML.replace("input2: {file: b.npy}\n", ""), {}, "input2", "missing", id="add-no-input2"),
    pytest.param(ADD_YAML, {"b": np.zeros((3, 4, 6), dtype=np.int64)}, "input2", "has shape [3][4][6]",
                 id="add-input2-shape"),
    pytest.param("kernel: concat\ninput: {file: a.npy}\ninput2: {file: b.npy}\n",
                 {"b": np.zeros((2, 5, 5), dtype=np.int64)}, "input2", "but height is 4", id="concat-height"),
    pytest.param("kernel: upsample\nscale: 2\ninput: {file: a.npy}\ninput2: {file: b.npy}\n", {},
                 "input2", "has one input", id="upsample-input2"),
    pytest.param("kernel: max_pool\nkernel_size: 2\ntypes:\n  in2_t: ap_int<8>\ninput: {file: a.npy}\n", {},
                 "types.in2_t", "has one input", id="pool-in2-t"),
    pytest.param(ADD_YAML.replace("ap_fixed<10,3>", "ap_fixd<10,3>"), {}, "types.in2_t", "", id="bad-spelling"),
    pytest.param(ADD_YAML, {"b": np.full((3, 4, 5), 600)}, "input2", "", id="input2-out-of-range"),
])
def test_bad_merge_layer_files_name_the_field(tmp_path, text, arrays, field, reason):
    from hls_sim.layer import LayerError, load_layer

    arrays = {"a": np.zeros((3, 4, 5), dtype=np.int64), "b": np.zeros((3, 4, 5), dtype=np.int64), **arrays}
    p = _files(tmp_path, text, **arrays)
    with pytest.raises(LayerError) as e:
        load_layer(p)
    assert e.value.field == field and reason in e.value.reason, str(e.value)
