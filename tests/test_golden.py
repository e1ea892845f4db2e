"""``hls-sim golden``: the files, the manifest, determinism, refusal, atomicity, safety.

No compiler needed here; tests/test_csim.py runs golden sets through the C++ testbench.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import hls_sim.golden as golden
from hls_sim.cli import main
from hls_sim.golden import (GoldenError, decode_bin, decode_dat, encode_bin, encode_dat,
                            read_tensor, verify, write_golden)
from hls_sim.kernels import KernelConfig
from hls_sim.layer import load_layer
from hls_sim.types import parse

ROOT = Path(__file__).resolve().parent.parent
WEIGHTS = ROOT / "weights"
BASE = """\
kernel: conv1x1
factor: 0.01
weight: {generate: {seed: 1}}
bias: {generate: {seed: 2, low: -100, high: 100}}
input: {generate: {seed: 3}}
"""
GENERATED = ["hls_sim_golden.h", "hls_sim_golden.txt", "hls_sim_kernel.cpp", "hls_sim_layer.h",
             "manifest.json"]


def names(count: int) -> list[str]:
    stems = ["weight", "bias", "factor"] + [f"{s}_{k}" for k in range(count)
                                            for s in ("input", "top", "expected")]
    return sorted([f"{s}.{e}" for s in stems for e in ("dat", "bin")] + GENERATED)


def golden_cli(*args: str):
    return CliRunner().invoke(main, ["golden", *args])


def assert_user_error(result, *fragments: str) -> str:
    assert result.exit_code == 2, (result.output, result.exception)
    err = result.stderr
    assert err.count("\n") == 1 and err.startswith("hls-sim: error: "), err
    assert "Traceback" not in result.output and result.stdout == ""
    for f in fragments:
        assert f in err, err
    return err


def contents(d: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(d.iterdir())}


def leftovers(parent: Path) -> list[str]:
    return [p.name for p in parent.iterdir() if p.name.startswith(".")]


# ---- the files ------------------------------------------------------------------------------------
def test_writes_every_file_and_says_so(tmp_path):
    out = tmp_path / "g"
    r = golden_cli(str(WEIGHTS / "conv1x1.yaml"), "-o", str(out))
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in out.iterdir()) == names(1)
    for word in ("golden", "conv1x1", "1 vector", "weight", "expected_0", "ap_uint<8>",
                 "manifest.json", "wrote     17 files"):
        assert word in r.stdout, r.stdout
    assert verify(out) == []


def test_tensors_are_the_layer_and_the_kernel_raw_integers(tmp_path):
    ly = load_layer(WEIGHTS / "conv1x1.yaml")
    write_golden(ly, tmp_path / "g")
    g = tmp_path / "g"
    for name, want in (("input_0", ly.input), ("top_0", ly.top), ("weight", ly.weight),
                       ("bias", ly.bias), ("factor", ly.factor),
                       ("expected_0", ly.run().top.raw)):
        for kind in ("bin", "dat"):
            got = read_tensor(g, name, kind)
            assert got.shape == np.shape(want), name
            np.testing.assert_array_equal(got, want, err_msg=f"{name}.{kind}")
    # the .bin format, by hand: little-endian int64, C order
    raw = np.fromfile(g / "input_0.bin", dtype="<i8")
    np.testing.assert_array_equal(raw, ly.input.ravel())
    dat = (g / "bias.dat").read_text().split("\n")
    assert dat[:-1] == [str(v) for v in ly.bias.tolist()] and dat[-1] == ""


def test_manifest(tmp_path):
    ly = load_layer(WEIGHTS / "generated_per_channel.yaml")
    gs = write_golden(ly, tmp_path / "g", count=2)
    text = (tmp_path / "g" / "manifest.json").read_text()
    m = json.loads(text)
    assert m == gs.manifest
    assert text == json.dumps(m, indent=2, sort_keys=True) + "\n"  # sorted keys, stable form
    assert m["format"] == "hls-sim-golden" and m["format_version"] == 1
    assert m["kernel"]["name"] == "conv1x1" and m["kernel"]["function"] == "hls_sim_top"
    assert m["kernel"]["template"] == "conv1x1_layer"
    assert m["kernel"]["signature"].endswith("hls_sim_layer::bias_t bias[16], "
                                             "hls_sim_layer::factor_t factor[16])")
    assert m["layer"]["file"] == "generated_per_channel.yaml"  # the name, never a full path
    assert m["layer"]["name"] == "generated-per-channel"
    assert m["layer"]["config"]["qd_t"] == "ap_fixed<16,16,AP_RND_CONV,AP_SAT>"
    assert m["layer"]["config"]["per_channel_factor"] is True
    assert m["vectors"]["count"] == 2 and len(m["vectors"]["list"]) == 2
    assert m["vectors"]["list"][0]["seed"] is None and isinstance(m["vectors"]["list"][1]["seed"], int)
    assert set(m["tensors"]) == {"weight", "bias", "factor", "input_0", "top_0", "expected_0",
                                 "input_1", "top_1", "expected_1"}
    c = ly.config
    for name, t in m["tensors"].items():
        fmt = getattr(c, t["typedef"])
        assert t["c_type"] == fmt.cpp() and parse(t["c_type"]) == fmt
        assert t["layout"] == "C"
        assert t["format"]["width"] == fmt.width and t["format"]["signed"] == fmt.signed
        assert t["elements"] == int(np.prod(t["shape"]))
        for kind, f in t["files"].items():
            data = (tmp_path / "g" / f["file"]).read_bytes()
            assert hashlib.sha256(data).hexdigest() == f["sha256"], f["file"]
        assert t["files"]["bin"]["element_bytes"] == 8 and t["files"]["dat"]["encoding"] == "decimal"
        assert len((tmp_path / "g" / t["files"]["bin"]["file"]).read_bytes()) == 8 * t["elements"]
    assert m["tensors"]["factor"]["shape"] == [16]
    assert m["tensors"]["input_1"]["shape"] == [16, 34, 66]
    assert m["tensors"]["expected_1"]["direction"] == "out"
    assert m["tensors"]["top_1"]["argument"] == "top" and m["tensors"]["input_1"]["argument"] == "bottom"
    for name, f in m["files"].items():
        assert hashlib.sha256((tmp_path / "g" / name).read_bytes()).hexdigest() == f["sha256"]


def test_generated_headers(tmp_path):
    ly = load_layer(WEIGHTS / "dw_conv3x3.yaml")
    write_golden(ly, tmp_path / "g", count=3)
    g = tmp_path / "g"
    traits = (g / "hls_sim_layer.h").read_text()
    assert "struct hls_sim_layer {" in traits
    for n in ("in_t", "out_t", "weight_t", "bias_t", "factor_t", "acc_t", "qd_t", "sum_t"):
        assert f"    typedef {getattr(ly.config, n).cpp()} {n};" in traits
    assert "    static const int RELU_CLIP = 1;" in traits and "    static const int N_FACTOR = 1;" in traits
    sel = (g / "hls_sim_golden.h").read_text()
    assert '#include "hls_sim_layer.h"' in sel and '#include "dw_conv3x3.h"' in sel
    assert "conv1x1" not in sel
    assert "#define GTB_FIXED_TENSORS(X) X(weight, hls_sim_layer::weight_t, 144)" in sel
    src = (g / "hls_sim_kernel.cpp").read_text()
    assert "    dw_conv3x3_layer<hls_sim_layer>(bottom, top, weight, bias, factor);" in src
    index = (g / "hls_sim_golden.txt").read_text().splitlines()
    assert index[0] == "hls_sim_golden 1"
    assert {"kernel dw_conv3x3", "function hls_sim_top", "vectors 3", "elements_factor 1",
            "elements_weight 144", "elements_input 35904", "elements_output 35904"} <= set(index)


def test_hex(tmp_path):
    ly = load_layer(WEIGHTS / "conv1x1.yaml")
    r = golden_cli(str(WEIGHTS / "conv1x1.yaml"), "-o", str(tmp_path / "g"), "--hex")
    assert r.exit_code == 0, r.output
    lines = (tmp_path / "g" / "weight.dat").read_text().split()
    assert lines[:4] == [f"0x{v & 0xff:02x}" for v in ly.weight.ravel()[:4].tolist()]
    assert (tmp_path / "g" / "factor.dat").read_text() == f"0x{int(ly.factor) & 0xffffffff:08x}\n"
    np.testing.assert_array_equal(read_tensor(tmp_path / "g", "weight", "dat"), ly.weight)
    m = json.loads((tmp_path / "g" / "manifest.json").read_text())
    assert m["tensors"]["bias"]["files"]["dat"]["encoding"] == "hex"
    # the .bin files do not depend on the text encoding
    write_golden(ly, tmp_path / "d")
    assert (tmp_path / "g" / "expected_0.bin").read_bytes() == (tmp_path / "d" / "expected_0.bin").read_bytes()


@pytest.mark.parametrize("spelling", ["ap_int<1>", "ap_uint<1>", "ap_int<7>", "ap_uint<63>",
                                      "ap_int<64>", "ap_uint<64>", "ap_int<65>", "ap_uint<72>",
                                      "ap_fixed<100,3>", "ap_ufixed<128,0>", "ap_int<129>"])
def test_encodings_round_trip(spelling):
    fmt = parse(spelling)
    edge = [fmt.min_raw, fmt.max_raw, 0, fmt.min_raw + 1, fmt.max_raw // 3]
    vals = np.empty(len(edge), dtype=object)
    vals[:] = edge
    data = encode_bin(fmt, vals)
    n = 8 * ((fmt.width + 63) // 64)
    assert len(data) == n * len(edge)
    for i, v in enumerate(edge):  # two's complement, sign- or zero-extended, little-endian
        assert int.from_bytes(data[i * n:(i + 1) * n], "little", signed=fmt.signed) == v
    assert decode_bin(fmt, data, (len(edge),)).tolist() == edge
    for enc in ("decimal", "hex"):
        assert decode_dat(fmt, encode_dat(fmt, vals, enc), (len(edge),)).tolist() == edge
    hexed = encode_dat(fmt, vals, "hex").decode().split()
    assert all(len(h) == 2 + (fmt.width + 3) // 4 for h in hexed)


# ---- --count -----------------------------------------------------------------------------------
def test_count_gives_independent_vectors_for_one_weight_set(tmp_path):
    ly = load_layer(WEIGHTS / "dw_conv3x3.yaml")
    r = golden_cli(str(WEIGHTS / "dw_conv3x3.yaml"), "-o", str(tmp_path / "g"), "--count", "4")
    assert r.exit_code == 0, r.output
    g = tmp_path / "g"
    assert sorted(p.name for p in g.iterdir()) == names(4)
    inputs = [read_tensor(g, f"input_{k}") for k in range(4)]
    np.testing.assert_array_equal(inputs[0], ly.input)  # vector 0 is the layer's own input
    for k in range(4):
        x = inputs[k]
        assert not any((x == inputs[j]).all() for j in range(k))
        # drawn from the layer's values; the layer's zero halo stays zero
        assert set(np.unique(x[:, 1:-1, 1:-1])) <= set(np.unique(ly.input))
        assert not x[:, 0, :].any() and not x[:, :, 0].any() and not x[:, -1, :].any()
        got = read_tensor(g, f"expected_{k}")
        want = ly.__class__(**{**ly.__dict__, "input": x}).run().top.raw
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(read_tensor(g, f"top_{k}"), ly.top)
    seeds = [v["seed"] for v in json.loads((g / "manifest.json").read_text())["vectors"]["list"]]
    assert seeds[0] is None and len(set(seeds[1:])) == 3


@pytest.mark.parametrize("count", ["0", "-1", "1001", "two"])
def test_bad_count(tmp_path, count):
    r = golden_cli(str(WEIGHTS / "conv1x1.yaml"), "-o", str(tmp_path / "g"), "--count", count)
    assert r.exit_code == 2
    assert not (tmp_path / "g").exists()


# ---- determinism --------------------------------------------------------------------------------
def test_byte_identical_across_runs_folders_and_working_dirs(tmp_path, monkeypatch):
    a, b = tmp_path / "a", tmp_path / "elsewhere" / "b"
    assert golden_cli(str(WEIGHTS / "conv1x1.yaml"), "-o", str(a), "--count", "3").exit_code == 0
    # the same layer and data from another folder, run from another working folder
    other = tmp_path / "copy"
    other.mkdir()
    for f in ("conv1x1.yaml", "conv1x1_bias.npy", "conv1x1_input.npy", "conv1x1_weight.npy"):
        shutil.copy(WEIGHTS / f, other / f)
    monkeypatch.chdir(other)
    r = golden_cli("conv1x1.yaml", "-o", str(b), "--count", "3")
    assert r.exit_code == 0, r.output
    assert contents(a) == contents(b)


def test_byte_identical_with_generated_data(tmp_path):
    ly = load_layer(WEIGHTS / "generated_per_channel.yaml")
    write_golden(ly, tmp_path / "a", count=2, encoding="hex")
    write_golden(load_layer(WEIGHTS / "generated_per_channel.yaml"), tmp_path / "b", count=2,
                 encoding="hex")
    assert contents(tmp_path / "a") == contents(tmp_path / "b")


# ---- refusal, --force, atomicity -------------------------------------------------------------------
def test_refuses_a_non_empty_folder(tmp_path):
    out = tmp_path / "g"
    out.mkdir()
    (out / "notes.txt").write_text("precious")
    r = golden_cli(str(WEIGHTS / "conv1x1.yaml"), "-o", str(out))
    assert_user_error(r, str(out), "not empty", "--force")
    assert contents(out) == {"notes.txt": b"precious"}
    # --force replaces only a previous golden set, never an arbitrary folder
    r = golden_cli(str(WEIGHTS / "conv1x1.yaml"), "-o", str(out), "--force")
    assert_user_error(r, "not a golden set")
    assert contents(out) == {"notes.txt": b"precious"}
    assert leftovers(tmp_path) == []


def test_empty_folder_is_fine_and_keeps_a_plain_mode(tmp_path):
    out = tmp_path / "g"
    out.mkdir()
    assert golden_cli(str(WEIGHTS / "conv1x1.yaml"), "-o", str(out)).exit_code == 0
    assert sorted(p.name for p in out.iterdir()) == names(1)
    mask = os.umask(0)
    os.umask(mask)
    assert out.stat().st_mode & 0o777 == 0o777 & ~mask


def test_force_replaces_a_previous_set_entirely(tmp_path):
    out = tmp_path / "g"
    assert golden_cli(str(WEIGHTS / "conv1x1.yaml"), "-o", str(out), "--count", "3").exit_code == 0
    before = contents(out)
    r = golden_cli(str(WEIGHTS / "dw_conv3x3.yaml"), "-o", str(out))
    assert_user_error(r, "not empty")
    assert contents(out) == before
    r = golden_cli(str(WEIGHTS / "dw_conv3x3.yaml"), "-o", str(out), "--force")
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in out.iterdir()) == names(1)  # vectors 1, 2 are gone
    assert json.loads((out / "manifest.json").read_text())["kernel"]["name"] == "dw_conv3x3"
    assert leftovers(tmp_path) == []


def test_target_that_is_a_file_or_the_working_folder(tmp_path, monkeypatch):
    (tmp_path / "f").write_text("x")
    assert_user_error(golden_cli(str(WEIGHTS / "conv1x1.yaml"), "-o", str(tmp_path / "f")),
                      "not a folder")
    monkeypatch.chdir(tmp_path)
    for target in (".", "..", str(tmp_path)):
        assert_user_error(golden_cli(str(WEIGHTS / "conv1x1.yaml"), "-o", target, "--force"),
                          "current folder")
    assert (tmp_path / "f").read_text() == "x"


class Interrupted(BaseException):
    """Stands in for a KeyboardInterrupt or a crash half way through."""


def interrupt_after(monkeypatch, n: int) -> None:
    real = golden._write
    calls = [0]

    def write(path, data):
        calls[0] += 1
        if calls[0] > n:
            raise Interrupted()
        real(path, data)

    monkeypatch.setattr(golden, "_write", write)


def test_an_interrupted_run_leaves_no_half_written_set(tmp_path, monkeypatch):
    ly = load_layer(WEIGHTS / "conv1x1.yaml")
    interrupt_after(monkeypatch, 7)
    with pytest.raises(Interrupted):
        write_golden(ly, tmp_path / "g", count=2)
    assert not (tmp_path / "g").exists()
    assert leftovers(tmp_path) == []


def test_an_interrupted_force_leaves_the_old_set(tmp_path, monkeypatch):
    ly = load_layer(WEIGHTS / "conv1x1.yaml")
    write_golden(ly, tmp_path / "g")
    before = contents(tmp_path / "g")
    interrupt_after(monkeypatch, 12)
    with pytest.raises(Interrupted):
        write_golden(load_layer(WEIGHTS / "dw_conv3x3.yaml"), tmp_path / "g", force=True)
    assert contents(tmp_path / "g") == before
    assert leftovers(tmp_path) == []


def test_force_without_an_atomic_exchange(tmp_path, monkeypatch):
    monkeypatch.setattr(golden, "_exchange", lambda a, b: False)  # the two-rename fallback
    ly = load_layer(WEIGHTS / "conv1x1.yaml")
    write_golden(ly, tmp_path / "g", count=2)
    write_golden(ly, tmp_path / "g", force=True)
    assert sorted(p.name for p in (tmp_path / "g").iterdir()) == names(1)
    assert leftovers(tmp_path) == []


# ---- safety: nothing from the layer file becomes code -----------------------------------------------
@pytest.mark.parametrize("extra,fragments", [
    ("types: {in_t: 'ap_uint<8>; system(\"rm -rf /\")'}\n", ["types.in_t", "contains ';'"]),
    ("types: {acc_t: 'ap_int<32> acc_t; int evil'}\n", ["types.acc_t", "contains ';'"]),
    ("types: {qd_t: 'ap_fixed<16,16>\\n#include </etc/passwd>'}\n", ["types.qd_t"]),
    ("name: 'x\"; int evil; //'\n", ["name", "use 1 to 64 letters"]),
    ("name: \"it's\"\n", ["name", "use 1 to 64 letters"]),
])
def test_crafted_layer_files_are_refused(tmp_path, extra, fragments):
    (tmp_path / "l.yaml").write_text(BASE + extra)
    r = golden_cli(str(tmp_path / "l.yaml"), "-o", str(tmp_path / "g"))
    assert_user_error(r, *fragments)
    assert not (tmp_path / "g").exists()


def test_paths_with_spaces_and_shell_syntax_are_only_paths(tmp_path, monkeypatch):
    d = tmp_path / "my layers $(touch PWNED) `touch PWNED2`"
    d.mkdir()
    np.save(d / "w $(touch PWNED).npy", np.ones((16, 16), dtype=np.int64))
    (d / "l; rm -rf x.yaml").write_text(BASE.replace("weight: {generate: {seed: 1}}",
                                                     "weight: {file: 'w $(touch PWNED).npy'}"))
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out $(touch PWNED)"
    r = golden_cli(str(d / "l; rm -rf x.yaml"), "-o", str(out))
    assert r.exit_code == 0, r.output
    m = json.loads((out / "manifest.json").read_text())
    assert m["layer"]["file"] == "l; rm -rf x.yaml"  # data in JSON, never in C++ or a command
    assert "w $(touch PWNED).npy" in m["layer"]["sources"]["weight"]
    generated = "".join((out / n).read_text() for n in ("hls_sim_layer.h", "hls_sim_golden.h",
                                                        "hls_sim_kernel.cpp", "hls_sim_golden.txt"))
    assert "PWNED" not in generated and "$(" not in generated and "rm -rf" not in generated
    np.testing.assert_array_equal(read_tensor(out, "weight"), np.ones((16, 16)))
    assert not list(tmp_path.rglob("PWNED*"))


def test_a_header_that_is_not_of_a_generated_form_is_refused(tmp_path, monkeypatch):
    ly = load_layer(WEIGHTS / "conv1x1.yaml")
    import hls_sim.golden as golden

    real = golden._traits_values
    monkeypatch.setattr(golden, "_traits_values",
                        lambda *a: (real(*a)[0], real(*a)[1] + [("EXTRA", 0, "x; system(1)")]))
    with pytest.raises(GoldenError, match="not of a generated form"):
        write_golden(ly, tmp_path / "g")
    assert not (tmp_path / "g").exists() and leftovers(tmp_path) == []


# ---- hls-sim verify -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def golden_set(tmp_path_factory) -> Path:
    """A golden set of 2 vectors (written once; each test damages a copy)."""
    d = tmp_path_factory.mktemp("verify") / "golden"
    write_golden(load_layer(WEIGHTS / "conv1x1.yaml"), d, count=2)
    return d


def verify_cli(*args: str):
    return CliRunner().invoke(main, ["verify", *args])


def test_verify_an_intact_set(golden_set):
    r = verify_cli(str(golden_set))
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert lines[0].startswith(f"verify    {golden_set}  (conv1x1; 2 vectors, config ")
    assert lines[1].startswith("checked   22 files against the sha256 in manifest.json; 9 tensors")
    assert lines[-1].startswith("OK        the golden set is intact")
    assert "BAD" not in r.stdout


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def _manifest_edit(d: Path, fn) -> None:  # noqa: ANN001
    m = json.loads((d / "manifest.json").read_text())
    fn(m)
    (d / "manifest.json").write_text(json.dumps(m))


@pytest.mark.parametrize("damage,bad", [
    (lambda d: (d / "expected_1.bin").write_bytes(b"\1" + (d / "expected_1.bin").read_bytes()[1:]),
     ["expected_1.bin: sha256 differs from manifest.json's"]),
    (lambda d: (d / "bias.dat").unlink(), ["bias.dat: missing (manifest.json lists it)"]),
    # the tampered vector count: index and manifest disagree, and a file is left over
    (lambda d: _edit(d / "hls_sim_golden.txt", "vectors 2", "vectors 1"),
     ["hls_sim_golden.txt: sha256 differs", "hls_sim_golden.txt: vectors 1, but manifest.json lists vectors 2"]),
    (lambda d: _edit(d / "hls_sim_golden.txt", "elements_bias 16", "elements_bias 15"),
     ["hls_sim_golden.txt: elements_bias 15, but manifest.json's tensor bias has elements 16"]),
    # a manifest edited consistently with the files' hashes still has to agree with itself
    (lambda d: _manifest_edit(d, lambda m: m["tensors"]["bias"].update(elements=17)),
     ["manifest.json: tensor bias: elements 17, but its shape [16] holds 16"]),
    (lambda d: _manifest_edit(d, lambda m: m["tensors"]["weight"].update(shape=[16, 8], elements=128)),
     ["weight.bin: 2048 bytes; 128 elements of 8 bytes are 1024",
      "weight.dat: 256 lines; the tensor has 128 elements (one per line)",
      "hls_sim_golden.txt: elements_weight 256, but manifest.json's tensor weight has elements 128"]),
    (lambda d: _manifest_edit(d, lambda m: m["vectors"]["list"].reverse()),
     ["manifest.json: vectors.list[0] has index 1, expected 0"]),
    (lambda d: _manifest_edit(d, lambda m: (m["vectors"].update(count=1), m["vectors"]["list"].pop())),
     ["hls_sim_golden.txt: vectors 2, but manifest.json lists vectors 1",
      "manifest.json: tensor expected_1 is of vector 1, beyond the 1 vector(s)"]),
    (lambda d: (d / "input_2.bin").write_bytes((d / "input_1.bin").read_bytes()),
     ["input_2.bin: not listed in manifest.json"]),
    (lambda d: _edit(d / "hls_sim_layer.h", "ap_int<32>", "ap_int<33>"),
     ["hls_sim_layer.h: sha256 differs", "hls_sim_layer.h: its configuration id is "]),
    (lambda d: _edit(d / "hls_sim_golden.h", '#define HLS_SIM_GOLDEN_CONFIG_ID "',
                     '#define HLS_SIM_GOLDEN_CONFIG_ID "x'),
     ["hls_sim_golden.h: sha256 differs", "hls_sim_golden.h: does not define configuration "]),
])
def test_verify_names_every_bad_file(golden_set, tmp_path, damage, bad):
    d = tmp_path / "g"
    shutil.copytree(golden_set, d)
    damage(d)
    r = verify_cli(str(d))
    assert r.exit_code == 1, r.output
    for b in bad:
        assert f"\nBAD       {b}" in r.stdout, r.stdout
    n = r.stdout.count("\nBAD       ")
    assert r.stdout.rstrip().splitlines()[-1].startswith(f"FAIL      {n} problem")
    assert "OK " not in r.stdout


def test_verify_an_unusable_folder_is_one_line_exit_2(golden_set, tmp_path):
    assert_user_error(verify_cli(str(tmp_path / "none")), f"{tmp_path / 'none'}: not found")
    (tmp_path / "f").write_text("x")
    assert_user_error(verify_cli(str(tmp_path / "f")), "not a folder")
    assert_user_error(verify_cli(str(tmp_path)), "manifest.json: not found; not a golden set")
    d = tmp_path / "g"
    shutil.copytree(golden_set, d)
    (d / "manifest.json").write_text("{not json")
    assert_user_error(verify_cli(str(d)), "manifest.json: cannot read")
    (d / "manifest.json").write_text('{"format": "something else"}')
    assert_user_error(verify_cli(str(d)), 'not a golden set manifest (no "format": "hls-sim-golden")')
    (d / "manifest.json").unlink()
    os.mkfifo(d / "manifest.json")  # never waited on
    assert_user_error(verify_cli(str(d)), "manifest.json: is a FIFO (named pipe); not a golden set")


def test_verify_ignores_files_that_are_no_part_of_a_set(golden_set, tmp_path):
    d = tmp_path / "g"
    shutil.copytree(golden_set, d)
    (d / "notes.txt").write_text("mine")
    r = verify_cli(str(d))
    assert r.exit_code == 0, r.output
    assert "ignored   1 other file(s), no part of a set: notes.txt" in r.stdout
