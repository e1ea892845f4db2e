"""Layer files (hls_sim.layer) and the float reference (hls_sim.reference)."""

from __future__ import annotations

import importlib.util
import zipfile
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from hls_sim.kernels import KernelConfig
from hls_sim.layer import BUFFER, LayerError, load_layer, parse_layer
from hls_sim.kernels import KINDS
from hls_sim.reference import compare_layer, exact_sums, reference
from hls_sim.types import parse
from tests.support.examples import LAYER_EXAMPLES

ROOT = Path(__file__).resolve().parent.parent
WEIGHTS = ROOT / "weights"
EXAMPLES = LAYER_EXAMPLES

# a valid layer with no files: every error case below changes one thing
BASE = """\
kernel: conv1x1
factor: 0.01
weight: {generate: {seed: 1}}
bias: {generate: {seed: 2, low: -100, high: 100}}
input: {generate: {seed: 3}}
"""


def write(tmp_path: Path, text: str, name: str = "layer.yaml", **arrays: np.ndarray) -> Path:
    for fname, arr in arrays.items():
        np.save(tmp_path / f"{fname}.npy", arr)
    p = tmp_path / name
    p.write_text(text)
    return p


def error_of(path: Path) -> LayerError:
    with pytest.raises(LayerError) as ei:
        load_layer(path)
    return ei.value


# ---- the examples --------------------------------------------------------------------------
def test_examples_exist():
    names = {p.name for p in EXAMPLES}
    assert {"conv1x1.yaml", "dw_conv3x3.yaml", "generated_per_channel.yaml"} <= names


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_loads(path):
    ly = load_layer(path)
    g = ly.geometry
    assert ly.input.shape == g.shape("input") and ly.top.shape == g.shape("top")
    if ly.spec.seed:
        assert ly.input.shape == BUFFER and ly.top.shape == BUFFER
    arrays = [ly.input, ly.top]
    if ly.spec.epilogue:
        assert ly.weight.shape == g.shape("weight") and ly.bias.shape == (g.out_channels,)
        arrays += [ly.weight, ly.bias, ly.factor]
    for arr in arrays:
        assert arr.dtype == np.int64


def test_conv1x1_example_is_the_seed_configuration():
    ly = load_layer(WEIGHTS / "conv1x1.yaml")
    assert ly.config == KernelConfig()
    assert ly.kernel == "conv1x1" and ly.name == "seed-conv1x1"
    np.testing.assert_array_equal(ly.weight, np.load(WEIGHTS / "conv1x1_weight.npy"))
    assert int(ly.factor) == int(parse("ap_fixed<32,1>").quantize(0.0115).raw)
    assert not ly.top.any()


def test_dw_example_pads_the_tile_with_a_zero_halo():
    ly = load_layer(WEIGHTS / "dw_conv3x3.yaml")
    with np.load(WEIGHTS / "dw_conv3x3.npz") as z:
        tile = z["input"]
    assert tile.shape == (16, 32, 64)
    np.testing.assert_array_equal(ly.input[:, 1:33, 1:65], tile)
    halo = ly.input.copy()
    halo[:, 1:33, 1:65] = 0
    assert not halo.any()
    assert "padded" in ly.sources["input"]


def test_example_data_is_reproducible(tmp_path):
    spec = importlib.util.spec_from_file_location("make_examples", WEIGHTS / "make_examples.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    for p in mod.make(tmp_path):
        committed = WEIGHTS / p.name
        if p.suffix == ".npy":
            a, b = np.load(p), np.load(committed)
            assert a.dtype == b.dtype
            np.testing.assert_array_equal(a, b)
        else:
            with np.load(p) as za, np.load(committed) as zb:
                assert sorted(za.files) == sorted(zb.files)
                for k in za.files:
                    np.testing.assert_array_equal(za[k], zb[k])


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples_match_the_reference_exactly(path):
    """With the seed's rounding, every output is the correctly rounded reference."""
    ly = load_layer(path)
    res = ly.run()
    cmp = compare_layer(ly, res.top.raw)
    assert cmp.n_differ == 0 and cmp.max_abs_error <= 0.5
    t = res.counters.total()
    assert t["acc_overflow"] == t["qd_overflow"] == t["sum_overflow"] == 0
    # realistic magnitudes: outputs spread over out_t's range (0..255 by default), few clip
    out = res.top.raw[ly.geometry.region]
    hi = ly.config.out_t.max_raw
    assert out.max() >= 0.65 * hi
    if not ly.config.out_t.signed:
        assert out.mean() > (40 if ly.spec.seed else 20) * hi / 255
    assert t["clip_high"] < 0.01 * cmp.n_outputs


# ---- schema ------------------------------------------------------------------------------------
def test_relative_paths_are_taken_from_the_yaml_folder(tmp_path, monkeypatch):
    d = tmp_path / "deep" / "layer"
    d.mkdir(parents=True)
    (d / "data").mkdir()
    w = np.arange(256, dtype=np.int64).reshape(16, 16) - 128
    np.save(d / "data" / "w.npy", w)
    write(d, BASE.replace("weight: {generate: {seed: 1}}", "weight: {file: data/w.npy}"))
    monkeypatch.chdir(tmp_path)
    ly = load_layer("deep/layer/layer.yaml")
    np.testing.assert_array_equal(ly.weight, w)
    assert ly.path == "deep/layer/layer.yaml"


def test_defaults_and_types(tmp_path):
    p = write(tmp_path, BASE + "types:\n  acc_t: ap_int<24>\n  qd_t: 'ap_fixed<16, 16, AP_RND_CONV, AP_SAT>'\n"
              "relu_clip: false\n")
    ly = load_layer(p)
    assert ly.config.acc_t == parse("ap_int<24>")
    assert ly.config.qd_t == parse("ap_fixed<16,16,AP_RND_CONV,AP_SAT>")
    assert ly.config.in_t == parse("ap_uint<8>")  # untouched: the seed default
    assert ly.config.relu_clip is False and ly.config.per_channel_factor is False
    assert ly.name is None and ly.description is None


def test_generate_is_deterministic_and_documented(tmp_path):
    text = BASE.replace("input: {generate: {seed: 3}}",
                        "input: {generate: {seed: 3, distribution: normal, mean: 10, std: 50}}")
    a, b = load_layer(write(tmp_path, text)), load_layer(write(tmp_path, text, "again.yaml"))
    for name in ("input", "weight", "bias"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    # exactly as the README says
    np.testing.assert_array_equal(
        a.weight, np.random.default_rng(1).integers(-128, 127, size=(16, 16), endpoint=True))
    np.testing.assert_array_equal(
        a.bias, np.random.default_rng(2).integers(-100, 100, size=16, endpoint=True))
    expect = np.clip(np.rint(np.random.default_rng(3).normal(10, 50, size=BUFFER)), 0, 255)
    np.testing.assert_array_equal(a.input, expect.astype(np.int64))


def test_generate_zero_halo(tmp_path):
    text = BASE.replace("input: {generate: {seed: 3}}", "input: {generate: {seed: 3, halo: zeros}}")
    ly = load_layer(write(tmp_path, text))
    full = np.random.default_rng(3).integers(0, 255, size=BUFFER, endpoint=True)
    np.testing.assert_array_equal(ly.input[:, 1:33, 1:65], full[:, 1:33, 1:65])
    assert not ly.input[:, 0].any() and not ly.input[:, 33].any()
    assert not ly.input[:, :, 0].any() and not ly.input[:, :, 65].any()


def test_factor_forms(tmp_path):
    f_t = parse("ap_fixed<32,1>")
    one = load_layer(write(tmp_path, BASE))
    assert one.factor.shape == () and int(one.factor) == int(f_t.quantize(0.01).raw)
    assert not one.config.per_channel_factor

    values = [0.001 * (i + 1) for i in range(16)]
    lst = load_layer(write(tmp_path, BASE.replace("factor: 0.01", f"factor: {values}")))
    assert lst.config.per_channel_factor  # inferred from the list
    np.testing.assert_array_equal(lst.factor, f_t.quantize(values).raw)

    raw = load_layer(write(tmp_path, BASE.replace("factor: 0.01", "factor: {raw: 12345}")))
    assert int(raw.factor) == 12345 and raw.factor.shape == ()
    raws = load_layer(write(tmp_path, BASE.replace("factor: 0.01", f"factor: {{raw: {list(range(16))}}}")
                            + "per_channel_factor: true\n"))
    np.testing.assert_array_equal(raws.factor, np.arange(16))

    np.save(tmp_path / "f.npy", np.arange(16, dtype=np.int32) * 1000)
    npy = load_layer(write(tmp_path, BASE.replace("factor: 0.01", "factor: {file: f.npy}")))
    np.testing.assert_array_equal(npy.factor, np.arange(16) * 1000)
    assert npy.config.per_channel_factor


def test_exponent_without_a_dot_is_a_number(tmp_path):
    """PyYAML reads ``1e-2`` as text (YAML 1.1); a layer file means the number."""
    ly = load_layer(write(tmp_path, BASE.replace("factor: 0.01", "factor: 1e-2")))
    assert int(ly.factor) == int(parse("ap_fixed<32,1>").quantize(0.01).raw)


def test_input_and_top_files(tmp_path):
    x = np.full((16, 34, 66), 7, dtype=np.uint8)
    top = np.full((16, 34, 66), 3, dtype=np.int16)
    np.savez(tmp_path / "d.npz", x=x, top=top)
    p = write(tmp_path, BASE.replace("input: {generate: {seed: 3}}", "input: {file: d.npz, key: x}")
              + "top: {file: d.npz, key: top}\n")
    ly = load_layer(p)
    np.testing.assert_array_equal(ly.input, x)
    np.testing.assert_array_equal(ly.top, top)
    res = ly.run()
    assert (res.top.raw[:, 32:, :] == 3).all()  # not written by conv1x1: kept
    assert "top" in ly.given


def test_npz_with_one_array_needs_no_key(tmp_path):
    np.savez(tmp_path / "b.npz", only=np.arange(16))
    ly = load_layer(write(tmp_path, BASE.replace("bias: {generate: {seed: 2, low: -100, high: 100}}",
                                                 "bias: {file: b.npz}")))
    np.testing.assert_array_equal(ly.bias, np.arange(16))


def test_parse_layer_from_a_mapping(tmp_path):
    np.save(tmp_path / "b.npy", np.arange(16))
    d = {"kernel": "dw_conv3x3", "factor": {"raw": 5}, "weight": {"generate": {"seed": 0}},
         "bias": {"file": "b.npy"}, "input": {"generate": {"seed": 1}}}
    ly = parse_layer(d, "inline", tmp_path)
    assert ly.weight.shape == (16, 3, 3) and ly.path == "inline"
    with pytest.raises(LayerError, match=r"^inline: kernel: "):
        parse_layer({**d, "kernel": "conv3d"}, "inline", tmp_path)


def test_wide_types_are_stored_exactly(tmp_path):
    p = write(tmp_path, BASE + "types: {weight_t: 'ap_int<80>', acc_t: 'ap_int<100>'}\n")
    ly = load_layer(p)
    assert ly.weight.dtype == object and isinstance(ly.weight.flat[0], int)
    assert ly.config.weight_t.width == 80


# ---- every error: one line, the file, the field, the reason ---------------------------------------
ERRORS = [
    # (replace, with, field, reason fragment)
    ("", "types:\n  acc_t: ap_int<0>\n", "types.acc_t", "'ap_int<0>': width must be 1..1024"),
    ("", "types:\n  in_t: 'ap_int<8>; system(\"rm\")'\n", "types.in_t", "contains ';'"),
    ("", "types:\n  in_t: 'ap_int<8>\"'\n", "types.in_t", "contains '\"'"),
    ("", "types:\n  in_t: \"ap_int<8>'\"\n", "types.in_t", "contains \"'\""),
    ("", "types:\n  in_t: ap_int<8> // x\n", "types.in_t", "contains '/'"),
    ("", "types:\n  in_t: ap_fixd<8,3>\n", "types.in_t", "not a type"),
    ("", "types:\n  qd_t: ap_fixed<16,16,AP_RND,AP_SATURATE>\n", "types.qd_t", "unknown overflow mode"),
    ("", "types:\n  acc: ap_int<32>\n", "types.acc", "unknown key (did you mean 'acc_t'?)"),
    ("", "types:\n  acc_t: 32\n", "types.acc_t", "expected a C++ type spelling"),
    ("", "types: [ap_int<8>]\n", "types", "expected a mapping"),
    ("", "types: {weight_t: 'ap_int<1000>', in_t: 'ap_uint<100>'}\n", "types.weight_t",
     "ap_int<1000>: the product weight_t * in_t needs 1100 bits, more than the headers' 1024"),
    ("", "wieght: {file: w.npy}\n", "wieght", "unknown key (did you mean 'weight'?)"),
    ("", "relu_clip: yes please\n", "relu_clip", "expected true or false"),
    ("", "relu_clip: 2\n", "relu_clip", "expected true or false"),
    ("", "name: 'a b; rm'\n", "name", "letters, digits"),
    ("", "description: \"a\\x07b\"\n", "description", "control character"),
    ("kernel: conv1x1", "kernel: conv3d", "kernel", "expected one of conv1x1, dw_conv3x3, conv2d"),
    ("kernel: conv1x1\n", "", "kernel", "missing"),
    ("weight: {generate: {seed: 1}}\n", "", "weight", "missing"),
    # factor
    ("factor: 0.01", "factor: .nan", "factor", "NaN is not a number"),
    ("factor: 0.01", "factor: -.inf", "factor", "infinity has no fixed-point value"),
    ("factor: 0.01", "factor: 1.5", "factor", "1.5 is outside the range of ap_fixed<32,1>"),
    ("factor: 0.01", "factor: half", "factor", "expected a number"),
    ("factor: 0.01", "factor: true", "factor", "expected a number"),
    ("factor: 0.01", "factor: [0.1, 0.2]", "factor", "needs 16 numbers, got 2"),
    ("factor: 0.01", "factor: [0.1, 0.1, 0.1, .nan, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1]",
     "factor[3]", "NaN is not a number"),
    ("factor: 0.01", "factor: 0.01\nper_channel_factor: true", "factor", "per_channel_factor is true"),
    ("factor: 0.01", "factor: [0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1]"
     "\nper_channel_factor: false", "factor", "per_channel_factor is false"),
    ("factor: 0.01", "factor: {raw: 4294967296}", "factor.raw",
     "value 4294967296 does not fit ap_fixed<32,1> (range -2147483648..2147483647)"),
    ("factor: 0.01", "factor: {raw: 1.5}", "factor.raw", "expected a raw integer"),
    ("factor: 0.01", "factor: {raw: 1, file: f.npy}", "factor", "takes no other keys"),
    ("factor: 0.01", "factor: {value: 0.1}", "factor.value", "unknown key; expected one of: raw, file, key"),
    ("factor: 0.01", "factor: {raw: [1, 2]}", "factor.raw", "needs 16 raw integers, got 2"),
    ("factor: 0.01", "factor: {file: dw.npy}", "factor", "has shape [16][3][3]; expected a scalar or [16]"),
    ("factor: 0.01", "factor: {generate: {seed: 1}}", "factor.generate", "unknown key"),
    # files
    ("weight: {generate: {seed: 1}}", "weight: {file: w.npy}", "weight", "file 'w.npy' not found (looked in "),
    ("weight: {generate: {seed: 1}}", "weight: {file: w.txt}", "weight.file", "expected a .npy or .npz file"),
    ("weight: {generate: {seed: 1}}", "weight: {file: big.npy}", "weight",
     "value 300 at index [3, 7] does not fit ap_int<8> (range -128..127)"),
    ("weight: {generate: {seed: 1}}", "weight: {file: floats.npy}", "weight", "holds floats; expected the raw integers"),
    ("weight: {generate: {seed: 1}}", "weight: {file: dw.npy}", "weight", "has shape [16][3][3]; expected [16][16]"),
    ("weight: {generate: {seed: 1}}", "weight: {file: garbage.npy}", "weight", "cannot read file 'garbage.npy'"),
    ("weight: {generate: {seed: 1}}", "weight: {file: objects.npy}", "weight", "cannot read file 'objects.npy'"),
    ("weight: {generate: {seed: 1}}", "weight: {file: dw.npy, key: w}", "weight.key", "is a .npy file"),
    ("weight: {generate: {seed: 1}}", "weight: {file: two.npz}", "weight", "holds 2 arrays (a, b); say which with key:"),
    ("weight: {generate: {seed: 1}}", "weight: {file: two.npz, key: c}", "weight.key", "has no array 'c' (it has: a, b)"),
    ("weight: {generate: {seed: 1}}", "weight: {fil: w.npy}", "weight.fil", "unknown key (did you mean 'file'?)"),
    ("weight: {generate: {seed: 1}}", "weight: w.npy", "weight", "expected {file: x.npy}"),
    ("weight: {generate: {seed: 1}}", "weight: {file: dw.npy, generate: {seed: 1}}", "weight", "not both"),
    ("input: {generate: {seed: 3}}", "input: {file: dw.npy}", "input",
     "expected [16][34][66] or [16][32][64] (the tile"),
    # generate
    ("weight: {generate: {seed: 1}}", "weight: {generate: {distribution: uniform}}", "weight.generate.seed", "missing"),
    ("weight: {generate: {seed: 1}}", "weight: {generate: {seed: -1}}", "weight.generate.seed", "integer >= 0"),
    ("weight: {generate: {seed: 1}}", "weight: {generate: {seed: 1, distribution: gauss}}",
     "weight.generate.distribution", "expected one of uniform, normal"),
    ("weight: {generate: {seed: 1}}", "weight: {generate: {seed: 1, low: 5, high: 4}}", "weight.generate.low",
     "above high"),
    ("weight: {generate: {seed: 1}}", "weight: {generate: {seed: 1, low: -129}}", "weight.generate.low",
     "-129 does not fit ap_int<8>"),
    ("weight: {generate: {seed: 1}}", "weight: {generate: {seed: 1, mean: 3}}", "weight.generate.mean",
     "for distribution: normal"),
    ("weight: {generate: {seed: 1}}", "weight: {generate: {seed: 1, distribution: normal}}",
     "weight.generate.std", "missing"),
    ("weight: {generate: {seed: 1}}", "weight: {generate: {seed: 1, distribution: normal, std: .nan}}",
     "weight.generate.std", "not a finite number"),
    ("weight: {generate: {seed: 1}}", "weight: {generate: {seed: 1, halo: zeros}}", "weight.generate.halo",
     "unknown key"),
    ("weight: {generate: {seed: 1}}", "weight: {generate: {seed: 1, sed: 2}}", "weight.generate.sed",
     "did you mean 'seed'?"),
    ("input: {generate: {seed: 3}}", "input: {generate: {seed: 3, halo: none}}", "input.generate.halo",
     "expected random or zeros"),
    # types beyond what float64 (the reference, the report) can count (issue 13, item 5)
    ("", "types:\n  out_t: ap_ufixed<8,1100>\n", "types.out_t",
     "'ap_ufixed<8,1100>': 1100 integer bits: its values reach 2**1100, beyond a float64"),
    ("", "types:\n  out_t: ap_fixed<8,-1070>\n", "types.out_t",
     "1078 fraction bits: its LSB 2**-1078 is below the smallest float64"),
    ("", "types:\n  out_t: ap_fixed<8,-1060>\n", "types",
     "the LSB of in_t ap_uint<8> is 2**1068 LSBs of out_t ap_fixed<8,-1060>, the unit in which"),
    # what a .npy/.npz really is (item 10: not numpy's allow_pickle hint), from the header
    # before the data (item 6)
    ("weight: {generate: {seed: 1}}", "weight: {file: text.npy}", "weight",
     "cannot read file 'text.npy': not a valid .npy file (it does not start with the .npy signature)"),
    ("weight: {generate: {seed: 1}}", "weight: {file: text.npz}", "weight",
     "cannot read file 'text.npz': not a valid .npz file (not a zip archive)"),
    ("weight: {generate: {seed: 1}}", "weight: {file: notnpy.npz}", "weight",
     "cannot read file 'notnpy.npz': array 'w': not a valid .npy file"),
    ("weight: {generate: {seed: 1}}", "weight: {file: header_only_big.npy}", "weight",
     "file 'header_only_big.npy' has shape [1000][1000]; expected [16][16]"),
    ("weight: {generate: {seed: 1}}", "weight: {file: header_only_floats.npy}", "weight",
     "file 'header_only_floats.npy' holds floats; expected the raw integers of ap_int<8>"),
    ("weight: {generate: {seed: 1}}", "weight: {file: truncated.npy}", "weight",
     "cannot read file 'truncated.npy': truncated: its header gives shape [16][16] of int64 "
     "(2048 bytes of data), the file holds fewer"),
]


def npy_header(shape: tuple[int, ...], dtype: str) -> bytes:
    """A .npy header alone (no data) for an array of ``shape`` and ``dtype``."""
    import io

    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)),
                                               "fortran_order": False, "shape": shape})
    return buf.getvalue()


@pytest.fixture
def data_dir(tmp_path):
    w = np.zeros((16, 16), dtype=np.int64)
    w[3, 7] = 300
    np.save(tmp_path / "big.npy", w)
    np.save(tmp_path / "floats.npy", np.zeros((16, 16)))
    np.save(tmp_path / "dw.npy", np.zeros((16, 3, 3), dtype=np.int8))
    np.save(tmp_path / "objects.npy", np.array([1, "x"], dtype=object), allow_pickle=True)
    (tmp_path / "garbage.npy").write_bytes(b"\x93NUMPY not really")
    np.savez(tmp_path / "two.npz", a=np.zeros(2), b=np.zeros(2))
    (tmp_path / "text.npy").write_bytes(b"weight,values\n1,2,3\n")
    (tmp_path / "text.npz").write_bytes(b"weight,values\n1,2,3\n")
    with zipfile.ZipFile(tmp_path / "notnpy.npz", "w") as z:
        z.writestr("w.npy", b"not an array")
    (tmp_path / "header_only_big.npy").write_bytes(npy_header((1000, 1000), "int8"))
    (tmp_path / "header_only_floats.npy").write_bytes(npy_header((16, 16), "float64"))
    (tmp_path / "truncated.npy").write_bytes(npy_header((16, 16), "int64") + bytes(100))
    return tmp_path


@pytest.mark.parametrize("old,new,fld,reason", ERRORS, ids=[f"{e[2]}-{i}" for i, e in enumerate(ERRORS)])
def test_errors_are_one_line_with_file_field_reason(data_dir, old, new, fld, reason):
    text = BASE.replace(old, new, 1) if old else BASE + new
    assert text != BASE
    p = write(data_dir, text)
    e = error_of(p)
    msg = str(e)
    assert "\n" not in msg
    assert msg.startswith(f"{p}: {fld}: "), msg
    assert reason in msg, msg
    assert (e.file, e.field) == (str(p), fld)
    assert isinstance(e, ValueError)


def test_not_found_names_the_absolute_folder(data_dir):
    e = error_of(write(data_dir, BASE.replace("weight: {generate: {seed: 1}}", "weight: {file: w.npy}")))
    assert str(e).endswith(f"weight: file 'w.npy' not found (looked in {data_dir.absolute()})")


def test_more_out_of_range_values_are_counted(data_dir):
    np.save(data_dir / "w.npy", np.full((16, 16), 200))
    e = error_of(write(data_dir, BASE.replace("weight: {generate: {seed: 1}}", "weight: {file: w.npy}")))
    assert "value 200 at index [0, 0] does not fit ap_int<8> (range -128..127); 255 more" in str(e)


@pytest.mark.parametrize("text,where,reason", [
    ("kernel: conv1x1\nfactor: [0.1\n", "line 3", "malformed YAML"),
    ("kernel: conv1x1\n  factor: 1\n", "line 2", "malformed YAML: mapping values are not allowed"),
    ("kernel: conv1x1\nkernel: dw_conv3x3\n", "line 2", "duplicate key 'kernel' (first on line 1)"),
    ("weight: {generate: {seed: 1, seed: 2}}\n", "line 1", "duplicate key 'seed'"),
    ("\t- tab\n", "line 1", "malformed YAML"),
])
def test_malformed_yaml(tmp_path, text, where, reason):
    p = write(tmp_path, text)
    msg = str(error_of(p))
    assert msg.startswith(f"{p}: {where}, column "), msg
    assert reason in msg and "\n" not in msg


@pytest.mark.parametrize("text,reason", [
    ("", "the file is empty"),
    ("- kernel: conv1x1\n", "expected a mapping of fields"),
    ("just text\n", "expected a mapping of fields"),
    ("\x00\x01\x02", "malformed YAML"),
])
def test_not_a_layer(tmp_path, text, reason):
    p = write(tmp_path, text)
    msg = str(error_of(p))
    assert msg.startswith(f"{p}: ") and reason in msg and "\n" not in msg


def test_missing_layer_file_and_folder(tmp_path):
    e = error_of(tmp_path / "nope.yaml")
    assert str(e) == f"{tmp_path / 'nope.yaml'}: file not found (looked in {tmp_path})"
    assert "is a directory" in str(error_of(tmp_path))


def test_huge_layer_file_is_refused(tmp_path):
    p = tmp_path / "big.yaml"
    p.write_text("# " + "x" * (1 << 20) + "\n" + BASE)
    assert "a layer file is a few lines" in str(error_of(p))


# ---- the float reference ----------------------------------------------------------------------
def _naive(kernel, config, bottom, weight, bias, factor, c, h, w) -> Fraction:
    """One output of the reference, in exact rationals (LSBs of out_t)."""
    fi, fw = config.in_t.frac_bits, config.weight_t.frac_bits
    if kernel == "conv1x1":
        s = sum(int(weight[c, k]) * int(bottom[k, h, w]) for k in range(16))
    else:
        s = sum(int(weight[c, i, j]) * int(bottom[c, h - 1 + i, w - 1 + j])
                for i in range(3) for j in range(3))
    f = int(factor[c] if factor.shape else factor)
    y = (Fraction(int(bias[c]), 2 ** config.bias_t.frac_bits)
         + Fraction(s, 2 ** (fi + fw)) * Fraction(f, 2 ** config.factor_t.frac_bits))
    y *= 2 ** config.out_t.frac_bits
    y = max(y, Fraction(0))
    if config.relu_clip:
        y = min(y, Fraction(config.out_t.max_raw))
    return y


@pytest.mark.parametrize("kernel", ["conv1x1", "dw_conv3x3"])
@pytest.mark.parametrize("cfg", [
    {},
    {"out_t": "ap_fixed<8,6>", "in_t": "ap_ufixed<8,2>", "bias_t": "ap_fixed<16,10>",
     "weight_t": "ap_fixed<8,1>", "relu_clip": False, "per_channel_factor": True},
])
def test_reference_is_the_exact_rational(kernel, cfg):
    config = KernelConfig(**cfg)
    rng = np.random.default_rng(5)
    bottom = rng.integers(config.in_t.min_raw, config.in_t.max_raw, BUFFER, endpoint=True)
    wshape = (16, 16) if kernel == "conv1x1" else (16, 3, 3)
    weight = rng.integers(config.weight_t.min_raw, config.weight_t.max_raw, wshape, endpoint=True)
    bias = rng.integers(-3000, 3000, 16)
    factor = rng.integers(1, 1 << 24, 16 if config.per_channel_factor else ())
    kind = KINDS[kernel]
    ref = reference(kind, kind.geometry(), config, bottom, weight, bias, factor)
    assert ref.shape == (16, 32, 64)
    h0 = kind.geometry().written[1][0]
    picks = [(int(c), int(h), int(w)) for c, h, w in zip(rng.integers(0, 16, 200), rng.integers(0, 32, 200),
                                                         rng.integers(0, 64, 200))]
    for c, h, w in picks:
        exact = _naive(kernel, config, bottom, weight, bias, factor, c, h + h0, w + h0)
        assert Fraction(ref[c, h, w]) == exact  # exact for these widths


def test_reference_sums_switch_to_python_ints_when_int64_could_overflow():
    bottom = np.full(BUFFER, (1 << 40) - 1, dtype=np.int64)
    weight = np.full((16, 16), -(1 << 30), dtype=np.int64)
    s = exact_sums(KINDS["conv1x1"], KINDS["conv1x1"].geometry(), bottom, weight)
    assert s.dtype == object and s[0, 0, 0] == 16 * ((1 << 40) - 1) * -(1 << 30)


def test_reference_shows_a_wrapping_accumulator(tmp_path):
    """A too-narrow acc_t: the counters and the reference comparison both show it."""
    p = write(tmp_path, BASE.replace("input: {generate: {seed: 3}}", "input: {generate: {seed: 3, low: 100}}")
              .replace("weight: {generate: {seed: 1}}", "weight: {generate: {seed: 1, low: 50}}")
              + "types: {acc_t: 'ap_int<16>'}\n")
    ly = load_layer(p)
    res = ly.run()
    cmp = compare_layer(ly, res.top.raw)
    assert res.counters["acc_overflow"] > 0
    assert cmp.n_differ > 0 and cmp.max_abs_error > 1


def test_error_messages_never_span_lines():
    e = LayerError("f.yaml", "weight", "first\nsecond")
    assert str(e) == "f.yaml: weight: first second"
    assert str(LayerError("f.yaml", "", "why")) == "f.yaml: why"



# ---- issue 13: hostile and unusual inputs ---------------------------------------------------------
def test_yaml_merge_keys_work_and_explicit_keys_override_them(tmp_path):
    """``<<: *defaults`` (item 9): the merged keys are defaults the mapping's own keys override."""
    text = BASE.replace("weight: {generate: {seed: 1}}",
                        "weight: {generate: &gen {seed: 1, distribution: normal, std: 20}}") \
               .replace("bias: {generate: {seed: 2, low: -100, high: 100}}",
                        "bias: {generate: {<<: *gen, seed: 2, std: 5}}")
    ly = load_layer(write(tmp_path, text))
    assert ly.sources["bias"].startswith("generated: seed 2, normal(mean 0.0, std 5.0)")
    expect = np.clip(np.rint(np.random.default_rng(2).normal(0, 5, size=16)), -32768, 32767)
    np.testing.assert_array_equal(ly.bias, expect.astype(np.int64))
    # a list of merges; a merge that the mapping's own key overrides entirely
    text2 = ("kernel: conv1x1\nfactor: 0.01\nweight: &src {generate: {seed: 1}}\n"
             "bias: {generate: {seed: 2, low: -100, high: 100}}\n"
             "input: {<<: [*src], generate: {seed: 3}}\n")
    ly2 = load_layer(write(tmp_path, text2, "two.yaml"))
    assert ly2.sources["input"] == "generated: seed 3, uniform 0..255"


@pytest.mark.parametrize("text,where,reason", [
    ("a: &d {seed: 1}\nweight: {generate: {<<: *d, seed: 2, seed: 3}}\n", "line 2",
     "duplicate key 'seed' (first on line 2)"),
    ("a: &d {seed: 1}\nweight: {generate: {<<: *d, <<: *d}}\n", "line 2", "duplicate key '<<'"),
    ("weight: {generate: {<<: 5}}\n", "line 1", "malformed YAML"),
])
def test_yaml_merge_keys_keep_the_duplicate_check(tmp_path, text, where, reason):
    msg = str(error_of(write(tmp_path, text)))
    assert msg.startswith(f"{tmp_path / 'layer.yaml'}: {where}, column "), msg
    assert reason in msg and "\n" not in msg


def test_a_layer_path_that_is_a_device_is_refused_without_reading(tmp_path):
    """``/dev/zero`` never ends (item 5): refused as a device, nothing read."""
    e = error_of(Path("/dev/zero"))
    assert str(e) == "/dev/zero: is a device, not a layer file"
    (tmp_path / "zero.yaml").symlink_to("/dev/zero")
    assert str(error_of(tmp_path / "zero.yaml")).endswith("zero.yaml: is a device, not a layer file")


def _without_blocking(fn, timeout=20.0):
    """``fn()`` in a thread: its result or exception, or a failure if it blocks."""
    import threading

    out: dict = {}

    def target():
        try:
            out["value"] = fn()
        except BaseException as e:  # noqa: BLE001 - handed back to the test
            out["error"] = e

    th = threading.Thread(target=target, daemon=True)
    th.start()
    th.join(timeout)
    return th.is_alive(), out


def test_a_layer_path_that_is_a_fifo_is_refused_before_opening(tmp_path):
    """A FIFO (item 5): opening it blocks until a writer comes; it is refused before that."""
    import os

    fifo = tmp_path / "layer.yaml"
    os.mkfifo(fifo)
    try:
        blocked, out = _without_blocking(lambda: load_layer(fifo))
    finally:  # release a reader stuck in open() (the unfixed code), if any
        try:
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:
            pass
    assert not blocked, "load_layer blocked on a FIFO"
    assert isinstance(out.get("error"), LayerError), out
    assert str(out["error"]) == f"{fifo}: is a FIFO (named pipe), not a layer file"


def test_data_files_that_are_devices_or_fifos_are_refused(tmp_path):
    import os

    (tmp_path / "w.npy").symlink_to("/dev/zero")
    os.mkfifo(tmp_path / "b.npy")
    text = BASE.replace("weight: {generate: {seed: 1}}", "weight: {file: w.npy}")
    assert "weight: file 'w.npy' is a device, not a .npy/.npz file" in str(error_of(write(tmp_path, text)))
    text = BASE.replace("bias: {generate: {seed: 2, low: -100, high: 100}}", "bias: {file: b.npy}")
    blocked, out = _without_blocking(lambda: load_layer(write(tmp_path, text)))
    assert not blocked
    assert "bias: file 'b.npy' is a FIFO (named pipe)" in str(out.get("error")), out


@pytest.fixture(scope="module")
def npz_bomb(tmp_path_factory) -> Path:
    """A 260 kB .npz whose one array, uint8 [16][4096][4096], expands to 256 MiB (item 6)."""
    d = tmp_path_factory.mktemp("bomb")
    header = npy_header((16, 4096, 4096), "uint8")
    with zipfile.ZipFile(d / "bomb.npz", "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        with z.open("x.npy", "w", force_zip64=True) as m:
            m.write(header)
            chunk = bytes(1 << 22)
            for _ in range(16 * 4096 * 4096 // len(chunk)):
                m.write(chunk)
    assert (d / "bomb.npz").stat().st_size < 1 << 20
    return d


def _peak_bytes(fn) -> tuple[Exception | None, int]:
    import tracemalloc

    tracemalloc.start()
    try:
        fn()
        err = None
    except Exception as e:  # noqa: BLE001
        err = e
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return err, peak


@pytest.mark.parametrize("text,reason", [
    (BASE.replace("weight: {generate: {seed: 1}}", "weight: {file: bomb.npz, key: x}"),
     "weight: file 'bomb.npz', key 'x' has shape [16][4096][4096]; expected [16][16]"),
    (BASE.replace("input: {generate: {seed: 3}}", "input: {file: bomb.npz}"),
     "input: file 'bomb.npz', key 'x' has shape [16][4096][4096]; expected [16][34][66] or [16][32][64]"),
    # a whole-map kind reads the input's size from its header alone: refused by the geometry
    ("kernel: conv2d\nkernel_size: 3\npadding: 1\nfactor: 0.01\nweight: {generate: {seed: 1}}\n"
     "bias: {generate: {seed: 2, low: -100, high: 100}}\ninput: {file: bomb.npz}\n",
     "input: [16, 4096, 4096] has 268435456 elements, more than the"),
])
def test_a_wrong_shape_is_refused_from_the_header_before_the_data_is_read(npz_bomb, text, reason):
    p = write(npz_bomb, text, "bomb.yaml")
    err, peak = _peak_bytes(lambda: load_layer(p))
    assert isinstance(err, LayerError), err
    assert reason in str(err), str(err)
    assert peak < 16 << 20, f"{peak} bytes allocated: the array was read before its shape was checked"
