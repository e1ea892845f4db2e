"""Network golden sets and the generated network top (hls_sim.netgolden, ``hls-sim golden /
csim / verify NET.yaml``): the files, the manifest, refusal and all-or-nothing writing,
verify; then (toolchain tier) the top compiled with g++ and the real headers, run tile by
tile on odd-sized maps with small tiles, every layer checked bit for bit.

One network serves every test: conv2d (dense 3x3 pad 1 with 32 output channels: two channel
groups; depthwise stride 2, groups = channels), max_pool on a signed in_t (the border reads
in_t's minimum), avg_pool (tiled, and one with border divisors that runs as one call),
conv_transpose (kernel 2 stride 2; kernel 3 stride 2 padding 1 output_padding 1 in channel
groups of 8), upsample, add and concat (skip connections); 23x29 images, 8x12 tiles. Its set
is written once per module and its testbench compiled once (cached in build/golden_tb).
"""

from __future__ import annotations

import functools
import json
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import hls_sim.csim as csim
import hls_sim.golden as golden
import hls_sim.netgolden as netgolden
from hls_sim.cli import main
from hls_sim.csim import build_testbench, csim_network, run_testbench
from hls_sim.golden import GoldenError, read_tensor, verify_set, write_golden
from hls_sim.layer import load_layer
from hls_sim.netgolden import ident_of, write_network_golden
from hls_sim.network import load_network, run_network
from hls_sim.toolchain import ToolchainError, find_ap_types
from tests.kernels import cxx

ROOT = Path(__file__).resolve().parent.parent
NET = """\
network: tiles-test
description: 'every tiled kind; not C++: "*/ #include <x> \\ $(touch P)'
input: {generate: {seed: 1}, shape: [2, 3, 23, 29]}
schedule: {tile: [8, 12]}
layers:
  - name: c1
    kernel: conv2d
    out_channels: 32
    kernel_size: 3
    padding: 1
    activation: none
    types: {out_t: 'ap_int<8>'}
    factor: 0.0015
    weight: {generate: {seed: 2, std: 30, distribution: normal}}
    bias: {generate: {seed: 3, low: -40, high: 40}}
  - name: mp
    kernel: max_pool
    kernel_size: 3
    stride: 1
    padding: 1
    types: {out_t: 'ap_int<8>'}
  - name: dw
    kernel: conv2d
    groups: 32
    kernel_size: 3
    stride: 2
    padding: 1
    factor: 0.02
    weight: {generate: {seed: 4, std: 30, distribution: normal}}
    bias: {generate: {seed: 5, low: -40, high: 40}}
  - name: ap
    kernel: avg_pool
    kernel_size: 3
    stride: 1
    padding: 1
  - name: up1
    kernel: conv_transpose
    out_channels: 16
    kernel_size: 2
    stride: 2
    factor: 0.003
    weight: {generate: {seed: 6, std: 30, distribution: normal}}
    bias: {generate: {seed: 7, low: -40, high: 40}}
  - name: up-2.b
    kernel: conv_transpose
    input: ap
    out_channels: 16
    kernel_size: 3
    stride: 2
    padding: 1
    output_padding: 1
    schedule: {channels: 8}
    factor: 0.003
    weight: {generate: {seed: 8, std: 30, distribution: normal}}
    bias: {generate: {seed: 9, low: -40, high: 40}}
  - name: sum
    kernel: add
    input: up1
    input2: up-2.b
    types: {out_t: 'ap_uint<9>'}
  - name: us
    kernel: upsample
    input: dw
    scale: 2
  - name: cat
    kernel: concat
    input: sum
    input2: us
    types: {out_t: 'ap_uint<9>'}
  - name: smooth
    kernel: avg_pool
    kernel_size: 3
    stride: 1
    padding: 1
    count_include_pad: false
"""
IDENTS = ["l0_c1", "l1_mp", "l2_dw", "l3_ap", "l4_up1", "l5_up_2_b", "l6_sum", "l7_us", "l8_cat",
          "l9_smooth"]
WEIGHTED = ["l0_c1", "l2_dw", "l4_up1", "l5_up_2_b"]
GENERATED = ["hls_sim_golden.txt", "hls_sim_net.h", "hls_sim_net_tb.h", "hls_sim_net_top.cpp",
             "manifest.json"]


def names(count: int) -> list[str]:
    stems = [f"{i}_{r}" for i in WEIGHTED for r in ("weight", "bias", "factor")]
    for k in range(count):
        stems += [f"input_{k}", f"output_{k}"] + [f"{i}_out_{k}" for i in IDENTS]
    return sorted([f"{s}.{e}" for s in stems for e in ("dat", "bin")] + GENERATED)


def cli(*args: str):
    return CliRunner().invoke(main, list(args))


def assert_user_error(result, *fragments: str) -> str:
    assert result.exit_code == 2, (result.output, result.exception)
    err = result.stderr
    assert err.count("\n") == 1 and err.startswith("hls-sim: error: "), err
    assert "Traceback" not in result.output
    for f in fragments:
        assert f in err, err
    return err


def contents(d: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(d.iterdir())}


def leftovers(parent: Path) -> list[str]:
    return [p.name for p in parent.iterdir() if p.name.startswith(".")]


@pytest.fixture(scope="module")
def net_file(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("net") / "net.yaml"
    p.write_text(NET)
    return p


@pytest.fixture(scope="module")
def net(net_file):
    return load_network(net_file)


@pytest.fixture(scope="module")
def golden_set(net, tmp_path_factory) -> Path:
    """The network's golden set, both images (written once; tests damage copies)."""
    d = tmp_path_factory.mktemp("netgolden") / "golden"
    write_network_golden(net, d)
    return d


# ---- the files ------------------------------------------------------------------------------------
def test_files_manifest_and_tensors(net, golden_set):
    d = golden_set
    assert sorted(p.name for p in d.iterdir()) == names(2)
    v = verify_set(d)
    assert v.intact, v.problems
    m = json.loads((d / "manifest.json").read_text())
    assert m["format"] == "hls-sim-golden" and m["format_version"] == 1 and m["set"] == "network"
    assert m["top"]["function"] == "hls_sim_net_top"
    assert m["network"]["file"] == "net.yaml" and m["network"]["name"] == "tiles-test"
    assert [ly["ident"] for ly in m["network"]["layers"]] == IDENTS
    assert m["vectors"]["count"] == 2
    assert m["vectors"]["list"][1]["expected"] == [f"{i}_out_1" for i in IDENTS]
    run = run_network(net, keep_all=True)
    for nl, ident in zip(net.layers, IDENTS):
        t = m["tensors"][f"{ident}_out_1"]
        assert t["c_type"] == nl.layer.config.out_t.cpp() and t["layer"] == nl.name
        assert t["argument"] == f"{ident}_out" and t["direction"] == "out"
        for k in range(2):
            np.testing.assert_array_equal(read_tensor(d, f"{ident}_out_{k}"), run.saved[nl.name][k])
    for k in range(2):
        np.testing.assert_array_equal(read_tensor(d, f"input_{k}"), net.images[k])
        np.testing.assert_array_equal(read_tensor(d, f"output_{k}", "dat"), run.output[k])
    for key, want in (("l0_c1", (2, 16, 3, 3, 3)), ("l2_dw", (2, 16, 1, 3, 3)),
                      ("l4_up1", (1, 32, 16, 2, 2)), ("l5_up_2_b", (2, 32, 8, 3, 3))):
        assert m["tensors"][f"{key}_weight"]["shape"] == list(want)


def test_per_group_tensors_are_the_layers_slices(net, golden_set):
    """A channel group's weight, bias and factor, in its call's layout, put back together,
    are the layer's own (conv2d: output channels; conv_transpose: its axis 1)."""
    by = {nl.name: nl.layer for nl in net.layers}
    w = read_tensor(golden_set, "l0_c1_weight")
    np.testing.assert_array_equal(w.reshape(32, 3, 3, 3), by["c1"].weight)
    np.testing.assert_array_equal(read_tensor(golden_set, "l0_c1_bias").ravel(), by["c1"].bias)
    np.testing.assert_array_equal(read_tensor(golden_set, "l0_c1_factor"),
                                  np.full((2, 1), by["c1"].factor))
    np.testing.assert_array_equal(read_tensor(golden_set, "l2_dw_weight").reshape(32, 1, 3, 3),
                                  by["dw"].weight)
    w = read_tensor(golden_set, "l5_up_2_b_weight")  # [group][C_IN][8][3][3]
    np.testing.assert_array_equal(np.concatenate(list(w), axis=1), by["up-2.b"].weight)


def test_the_generated_top(net, golden_set):
    header = (golden_set / "hls_sim_net.h").read_text()
    top = (golden_set / "hls_sim_net_top.cpp").read_text()
    tb = (golden_set / "hls_sim_net_tb.h").read_text()
    plans = netgolden.plan(net)
    for lp in plans:  # each traits struct is the one a layer's set writes for the call geometry
        struct = "\n".join(golden.traits_struct(lp.ident, lp.kind, lp.call, lp.config))
        assert struct in header
        one = golden.layer_header(lp.kind, lp.call, lp.config)
        assert struct.replace(f"struct {lp.ident} {{", "struct hls_sim_layer {") in one
    sig = json.loads((golden_set / "manifest.json").read_text())["top"]["signature"]
    assert sig.startswith("void hls_sim_net_top(hls_sim_net::input_t input[3][23][29], "
                          "hls_sim_net::l0_c1::out_t l0_c1_out[32][23][29], ")
    assert "hls_sim_net::l5_up_2_b::weight_t l5_up_2_b_weight[2][32][8][3][3]" in sig
    declared = re.search(r"\nvoid hls_sim_net_top\((.*?)\);\n", header, re.S).group(1)
    assert " ".join(sig.split()) == f"void hls_sim_net_top({' '.join(declared.split())})"
    # the loops of the 8x12 tiles, the border fill of max_pool (its in_t's minimum) only
    assert "for (int th = 0; th < 3; th++)" in top and "for (int g = 0; g < 2; g++)" in top
    assert top.count("hls_sim_lowest<T::in_t>()") == 1
    assert "hls_sim_gather<32, 16>(l0_c1_out, l1_win, g * 16, th * 8 - 1, tw * 12 - 1, " \
           "hls_sim_lowest<T::in_t>());" in top
    assert "hls_sim_scatter<8, 12, 1, 1, 8, 16>(l5_res, l5_up_2_b_out, g * 8, th * 8, tw * 12);" in top
    assert "avg_pool<hls_sim_net::l9_smooth>(l8_cat_out, l9_smooth_out);" in top  # one call
    # names only as validated, nothing of the file's description
    for text in (header, top, tb):
        assert "touch" not in text and "every tiled kind" not in text and "\\" not in text
    assert '"up-2.b"' in tb


def test_identifiers():
    assert ident_of(3, "enc-1.a") == "l3_enc_1_a"
    assert ident_of(0, "a_b") != ident_of(1, "a-b")
    for bad in ('x"; int y; //', "a b", "", "ä"):
        with pytest.raises(GoldenError, match="name rule"):
            ident_of(0, bad)


def test_deterministic(net, golden_set, tmp_path):
    write_network_golden(net, tmp_path / "again")
    assert contents(tmp_path / "again") == contents(golden_set)


# ---- the command ------------------------------------------------------------------------------------
def test_cli_golden_count_refusal_and_force(net_file, tmp_path):
    out = tmp_path / "g"
    r = cli("golden", str(net_file), "-o", str(out), "--count", "1")
    assert r.exit_code == 0, r.output
    for words in ("golden    ", "network tiles-test", "10 layers, 1 vector (images)",
                  "l5_up_2_b_out_0", "3x3x2 calls of [32][5][7]->[8][11][15]", "1 call",
                  "hls_sim_net_top.cpp", "wrote     "):
        assert words in r.stdout, r.stdout
    assert sorted(p.name for p in out.iterdir()) == names(1)
    before = contents(out)
    assert_user_error(cli("golden", str(net_file), "-o", str(out)), "folder is not empty",
                      "--force")
    assert contents(out) == before
    r = cli("golden", str(net_file), "-o", str(out), "--force", "--hex")
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in out.iterdir()) == names(2)
    assert (out / "input_0.dat").read_text().startswith("0x")
    assert leftovers(tmp_path) == []
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("x")
    assert_user_error(cli("golden", str(net_file), "-o", str(other), "--force"), "not a golden set")
    assert_user_error(cli("golden", str(net_file), "-o", str(tmp_path / "h"), "--count", "3"),
                      "count 3: the network's input holds 2 image(s)")
    assert not (tmp_path / "h").exists()


def test_cli_bad_network_is_one_line(tmp_path):
    (tmp_path / "n.yaml").write_text(NET.replace("input2: us", "input2: nowhere"))
    assert_user_error(cli("golden", str(tmp_path / "n.yaml"), "-o", str(tmp_path / "g")),
                      "n.yaml: layers[8] (cat).input2", "nowhere")
    (tmp_path / "n.yaml").write_text(NET.replace("schedule: {channels: 8}", "schedule: {channels: 5}"))
    assert_user_error(cli("golden", str(tmp_path / "n.yaml"), "-o", str(tmp_path / "g")),
                      "layers[5] (up-2.b).schedule.channels", "5 does not divide")
    assert not (tmp_path / "g").exists()


class Interrupted(Exception):
    pass


@pytest.mark.parametrize("error", [Interrupted(), OSError(28, "No space left on device")])
def test_all_or_nothing(net, tmp_path, monkeypatch, error):
    real = golden._write
    calls = [0]

    def write(path, data):
        calls[0] += 1
        if calls[0] > 20:
            raise error
        real(path, data)

    write_golden(load_layer(ROOT / "weights" / "conv1x1.yaml"), tmp_path / "old")
    before = contents(tmp_path / "old")
    monkeypatch.setattr(golden, "_write", write)
    for target, force in ((tmp_path / "g", False), (tmp_path / "old", True)):
        calls[0] = 0
        with pytest.raises((Interrupted, GoldenError)) as e:
            write_network_golden(net, target, force=force)
        if isinstance(error, OSError):
            assert "No space left on device" in str(e.value)
    assert not (tmp_path / "g").exists()
    assert contents(tmp_path / "old") == before  # the old set untouched
    assert leftovers(tmp_path) == []


# ---- hls-sim verify ----------------------------------------------------------------------------------
def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_verify_an_intact_network_set(golden_set):
    r = cli("verify", str(golden_set))
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith(f"verify    {golden_set}  (network tiles-test, 10 layers; 2 vectors, ")
    assert "checked   76 files" in r.stdout and "36 tensors" in r.stdout
    assert r.stdout.rstrip().splitlines()[-1].startswith("OK ")


@pytest.mark.parametrize("damage,bad", [
    (lambda d: (d / "l3_ap_out_1.bin").write_bytes(b"\1" + (d / "l3_ap_out_1.bin").read_bytes()[1:]),
     ["l3_ap_out_1.bin: sha256 differs"]),
    (lambda d: _edit(d / "hls_sim_golden.txt", "vectors 2", "vectors 1"),
     ["hls_sim_golden.txt: vectors 1, but manifest.json lists vectors 2"]),
    (lambda d: _edit(d / "hls_sim_golden.txt", "elements_l2_dw_out 5760", "elements_l2_dw_out 5761"),
     ["hls_sim_golden.txt: elements_l2_dw_out 5761, but manifest.json's tensor l2_dw_out_0 has"]),
    (lambda d: (d / "input_2.bin").write_bytes((d / "input_1.bin").read_bytes()),
     ["input_2.bin: not listed in manifest.json"]),
    (lambda d: _edit(d / "hls_sim_net_top.cpp", "th * 8 - 1", "th * 8"),
     ["hls_sim_net_top.cpp: sha256 differs", "hls_sim_net.h: with hls_sim_net_top.cpp, its "
      "configuration id is "]),
    (lambda d: _edit(d / "hls_sim_net_tb.h", '#define HLS_SIM_NET_CONFIG_ID "',
                     '#define HLS_SIM_NET_CONFIG_ID "x'),
     ["hls_sim_net_tb.h: sha256 differs", "hls_sim_net_tb.h: does not define configuration "]),
    (lambda d: (d / "l6_sum_out_0.dat").unlink(), ["l6_sum_out_0.dat: missing"]),
])
def test_verify_names_every_bad_file(golden_set, tmp_path, damage, bad):
    d = tmp_path / "g"
    shutil.copytree(golden_set, d)
    damage(d)
    r = cli("verify", str(d))
    assert r.exit_code == 1, r.output
    for b in bad:
        assert f"\nBAD       {b}" in r.stdout, r.stdout
    assert r.stdout.rstrip().splitlines()[-1].startswith("FAIL ")


# ---- the C++: g++ and the real headers ------------------------------------------------------------------
@pytest.fixture
def private_tmp(tmp_path, monkeypatch):
    d = tmp_path / "tmp"
    d.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(d))
    return d


@pytest.fixture(scope="module")
def testbench(toolchain, golden_set) -> Path:
    """The network's testbench, compiled once (cached by the text of what it compiles)."""
    return build_testbench(golden_set, cache_dir=cxx.CACHE)


@pytest.mark.toolchain
def test_csim_passes_every_layer_bit_for_bit(net, testbench, tmp_path):
    res = csim_network(net, build_dir=tmp_path / "b", cache_dir=cxx.CACHE)
    assert res.exe == testbench  # the one build
    assert res.passed and res.exit_status == 0, res.output
    for k in range(2):
        for nl, (kind, dims) in zip(net.layers, [
                ("conv2d", "[32][23][29]"), ("max_pool", "[32][23][29]"), ("conv2d", "[32][12][15]"),
                ("avg_pool", "[32][12][15]"), ("conv_transpose", "[16][24][30]"),
                ("conv_transpose", "[16][24][30]"), ("add", "[16][24][30]"),
                ("upsample", "[32][24][30]"), ("concat", "[48][24][30]"), ("avg_pool", "[48][24][30]")]):
            assert f"vector {k}: layer {nl.name} ({kind}) {dims}: " in res.output, res.output
    assert "net_golden_tb: PASS: 2 vector(s), 10 layer output(s) and the network output each, " \
           "430976 elements checked bit for bit, 0 mismatches" in res.output


@pytest.mark.toolchain
def test_a_tampered_expected_output_fails_naming_the_layer(golden_set, testbench, tmp_path):
    d = tmp_path / "g"
    shutil.copytree(golden_set, d)
    raw = np.fromfile(d / "l3_ap_out_1.bin", dtype="<i8")
    c, h, w = 20, 11, 14  # the last row and column: an edge tile's output
    i = (c * 12 + h) * 15 + w
    old = int(raw[i])
    raw[i] = new = (old + 3) % 256
    raw.tofile(d / "l3_ap_out_1.bin")
    rc, out = run_testbench(testbench, d)
    assert rc == 1, out
    assert (f"vector 1: layer ap (avg_pool) [32][12][15]: 1 mismatch of 5760; the first at "
            f"[{c}][{h}][{w}]: expected {new} (0x{new:02x}), got {old} (0x{old:02x})") in out, out
    assert "vector 0: layer ap (avg_pool) [32][12][15]: 5760 elements, 0 mismatches" in out
    assert "net_golden_tb: FAIL: 1 of 430976 elements differ, in 1 of 2 vector(s); layer(s) " \
           "that differ: ap" in out
    assert "PASS" not in out


@pytest.mark.toolchain
@pytest.mark.parametrize("damage,fragment", [
    (lambda d: _edit(d / "hls_sim_golden.txt", "vectors 2", "vectors 1"),
     "gives 1 vector(s), but "),
    (lambda d: _edit(d / "hls_sim_golden.txt", "config ", "config 0"), "configuration"),
    (lambda d: (d / "l0_c1_bias.bin").write_bytes(b"\0" * 8), "l0_c1_bias.bin: expected 256 bytes"),
    (lambda d: (d / "l1_mp_out_0.bin").write_bytes(np.full(21344, 200, "<i8").tobytes()),
     "l1_mp_out_0.bin: the value at index 0 does not fit the element type (8 bits)"),
])
def test_an_unusable_set_is_an_error(golden_set, testbench, tmp_path, damage, fragment):
    d = tmp_path / "g"
    shutil.copytree(golden_set, d)
    damage(d)
    rc, out = run_testbench(testbench, d)
    assert rc == 2 and "net_golden_tb: ERROR: " in out and fragment in out, out


@pytest.mark.toolchain
def test_the_layer_testbench_and_the_network_testbench_refuse_each_others_sets(testbench, tmp_path):
    write_golden(load_layer(ROOT / "weights" / "conv1x1.yaml"), tmp_path / "layer")
    rc, out = run_testbench(testbench, tmp_path / "layer")
    assert rc == 2 and "not a network's (set layer)" in out, out


@pytest.mark.toolchain
def test_cli_csim_pass_and_a_mismatch(net_file, testbench, private_tmp, monkeypatch):
    monkeypatch.setattr(csim, "csim_network", functools.partial(csim.csim_network,
                                                                cache_dir=cxx.CACHE))
    r = cli("csim", str(net_file), "--count", "1")
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith(f"csim      {net_file}  (tiles-test)\nnetwork   10 layers (C++ "
                               "hls_sim_net_top of hls_sim_net_top.cpp")
    assert "| net_golden_tb: PASS: 1 vector(s)" in r.stdout and r.stdout.rstrip().endswith("\nPASS")
    assert list(private_tmp.iterdir()) == []

    real = netgolden._expected

    def off_by_one(n):  # hls-sim wrong in one element of layer dw
        run = real(n)
        run.saved["dw"][0, 5, 3, 4] = (run.saved["dw"][0, 5, 3, 4] + 1) % 256
        return run

    monkeypatch.setattr(netgolden, "_expected", off_by_one)
    r = cli("csim", str(net_file), "--count", "1")
    assert r.exit_code == 1, r.output
    assert "vector 0: layer dw (conv2d) [32][12][15]: 1 mismatch of 5760; the first at [5][3][4]" \
           in r.stdout
    assert "layer(s) that differ: dw" in r.stdout and r.stdout.rstrip().endswith("\nFAIL")


def test_cli_csim_build_failure_and_bad_input(net_file, tmp_path, monkeypatch, private_tmp):
    try:
        find_ap_types()
    except ToolchainError:
        pytest.skip("no ap_types headers: the build failure needs them found")
    monkeypatch.setenv("CXX", "/bin/false")
    r = cli("csim", str(net_file), "--count", "1")
    assert r.exit_code == 3, r.output
    assert "hls-sim: error: build failed: /bin/false ($CXX=/bin/false)" in r.stderr
    assert list(private_tmp.iterdir()) == []
    (tmp_path / "n.yaml").write_text(NET.replace("kernel: upsample", "kernel: upsample\n    scale2: 3"))
    assert_user_error(cli("csim", str(tmp_path / "n.yaml")), "layers[7] (us).scale2")


@pytest.mark.toolchain
def test_the_example_network_passes_csim(toolchain, tmp_path):
    """weights/encdec.yaml (the README's first command): its top, with the default 32x64 tiles
    and 16-channel groups, matches hls-sim on every layer bit for bit."""
    from tests.support.examples import WEIGHTS

    net = load_network(WEIGHTS / "encdec.yaml")
    for nl in net.layers:  # the seed's 32x64 tiles: 1 (at 1/4 resolution) to 16 per map
        _, h, w = nl.layer.geometry.shape("top")
        assert (nl.schedule.h.n_tiles, nl.schedule.w.n_tiles) == (-(-h // 32), -(-w // 64))
    assert max(nl.schedule.h.n_tiles * nl.schedule.w.n_tiles for nl in net.layers) == 16
    res = csim_network(net, build_dir=tmp_path / "b", cache_dir=cxx.CACHE)
    assert res.passed and res.exit_status == 0, res.output
    assert "net_golden_tb: PASS: 1 vector(s), 10 layer output(s)" in res.output
