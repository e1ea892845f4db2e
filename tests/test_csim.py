"""``hls-sim csim`` and testbench/golden_tb.cpp: PASS, FAIL naming the element, unusable sets,
missing toolchains, paths that look like code, types wider than 64 bits, and the Vitis Tcl
script (run by tclsh against a stand-in for the Vitis commands that compiles with g++).

The matrix of 30 configurations runs in tests/kernels/test_twins_cxx.py.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from hls_sim.cli import main
from hls_sim.csim import build_testbench, csim_layer, run_testbench
from hls_sim.golden import read_tensor, write_golden
from hls_sim.layer import load_layer
from tests.kernels import cxx

ROOT = Path(__file__).resolve().parent.parent
WEIGHTS = ROOT / "weights"
TCL = ROOT / "testbench" / "vitis_hls.tcl"
BASE = """\
kernel: conv1x1
factor: 0.01
weight: {generate: {seed: 1}}
bias: {generate: {seed: 2, low: -100, high: 100}}
input: {generate: {seed: 3}}
"""


def csim_cli(*args: str):
    return CliRunner().invoke(main, ["csim", *args])


def assert_user_error(result, *fragments: str) -> str:
    assert result.exit_code == 2, (result.output, result.exception)
    err = result.stderr
    assert err.count("\n") == 1 and err.startswith("hls-sim: error: "), err
    assert "Traceback" not in result.output
    for f in fragments:
        assert f in err, err
    return err


@pytest.fixture
def private_tmp(tmp_path, monkeypatch):
    """Temporary folders (hls-sim csim's build folder) go under tmp_path/tmp."""
    d = tmp_path / "tmp"
    d.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(d))
    return d


# ---- hls-sim csim -------------------------------------------------------------------------------
@pytest.mark.toolchain
def test_csim_passes_and_cleans_up(toolchain, private_tmp):
    r = csim_cli(str(WEIGHTS / "conv1x1.yaml"))
    assert r.exit_code == 0, r.output
    out = r.stdout
    assert out.rstrip().endswith("\nPASS"), out
    for words in ("csim      ", "kernel    conv1x1 (C++ hls_sim_top: conv1x1_layer<hls_sim_layer>)", "1 vector;", "g++ ",
                  "golden_tb: PASS: 1 vector(s), 1 tensor(s), 35904 elements checked bit for bit, "
                  "0 mismatches"):
        assert words in out, out
    assert list(private_tmp.iterdir()) == []  # the build folder is gone


@pytest.mark.toolchain
def test_csim_keep_count_and_explicit_headers(toolchain, private_tmp):
    r = csim_cli(str(WEIGHTS / "dw_conv3x3.yaml"), "--keep", "--count", "3",
                 "--ap-types", str(toolchain))
    assert r.exit_code == 0, r.output
    assert "golden_tb: PASS: 3 vector(s)" in r.stdout
    for k in range(3):
        assert f"vector {k}: top [16][34][66], 35904 elements, 0 mismatches" in r.stdout
    (build,) = private_tmp.iterdir()
    assert f"kept      {build}" in r.stdout
    assert (build / "golden" / "manifest.json").is_file() and (build / "golden_tb").is_file()
    rc, out = run_testbench(build / "golden_tb", build / "golden")  # it can be rerun
    assert rc == 0 and "PASS" in out


@pytest.mark.toolchain
def test_csim_fails_with_exit_1_when_the_twin_and_the_cxx_differ(toolchain, private_tmp, monkeypatch):
    import hls_sim.golden as golden

    real = golden._run

    def off_by_one(layer, bottom):  # a twin that is wrong in one element
        top = real(layer, bottom).copy()
        top[2, 3, 4] = (top[2, 3, 4] + 1) % 256
        return top

    monkeypatch.setattr(golden, "_run", off_by_one)
    r = csim_cli(str(WEIGHTS / "conv1x1.yaml"))
    assert r.exit_code == 1, r.output
    assert "vector 0 top[2][3][4]: expected" in r.stdout
    assert "golden_tb: FAIL: 1 of 35904 elements differ" in r.stdout
    assert r.stdout.rstrip().endswith("\nFAIL"), r.stdout
    assert list(private_tmp.iterdir()) == []


def test_csim_missing_compiler_is_one_line(tmp_path, monkeypatch, private_tmp):
    monkeypatch.setenv("CXX", str(tmp_path / "no-such-g++"))
    assert_user_error(csim_cli(str(WEIGHTS / "conv1x1.yaml")), "C++ compiler", "not found")
    assert list(private_tmp.iterdir()) == []


def test_csim_missing_headers_is_one_line(tmp_path, monkeypatch, private_tmp):
    monkeypatch.setenv("CXX", sys.executable)  # any program: the headers are checked first
    (tmp_path / "empty").mkdir()
    assert_user_error(csim_cli(str(WEIGHTS / "conv1x1.yaml"), "--ap-types", str(tmp_path / "empty")),
                      "--ap-types", "no ap_fixed.h")
    assert list(private_tmp.iterdir()) == []


def test_csim_bad_layer_is_one_line(tmp_path, private_tmp):
    (tmp_path / "l.yaml").write_text(BASE + "types: {in_t: 'ap_uint<8>; int x'}\n")
    assert_user_error(csim_cli(str(tmp_path / "l.yaml")), "types.in_t", "contains ';'")


# ---- the testbench -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def seed_set(toolchain, tmp_path_factory):
    """A golden set of the seed conv1x1 (3 vectors) and its testbench (cached build)."""
    d = tmp_path_factory.mktemp("seed") / "golden"
    write_golden(load_layer(WEIGHTS / "conv1x1.yaml"), d, count=3)
    return d, build_testbench(d, cache_dir=cxx.CACHE)


def corrupted(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


@pytest.mark.toolchain
def test_a_corrupted_expected_value_fails_and_is_named(seed_set, tmp_path):
    src, exe = seed_set
    d = corrupted(src, tmp_path / "g")
    exp = read_tensor(d, "expected_1")
    c, h, w = 5, 17, 42
    flat = (c * 34 + h) * 66 + w
    raw = np.fromfile(d / "expected_1.bin", dtype="<i8")
    old = int(raw[flat])
    new = (old + 1) % 256
    raw[flat] = new
    raw.tofile(d / "expected_1.bin")
    rc, out = run_testbench(exe, d)
    assert rc == 1, out
    assert f"vector 1 top[{c}][{h}][{w}]: expected {new} (0x{new:02x}), got {old} (0x{old:02x})" in out, out
    assert "vector 1: top [16][34][66], 35904 elements, 1 mismatch\n" in out
    assert "vector 0: top [16][34][66], 35904 elements, 0 mismatches" in out
    assert "golden_tb: FAIL: 1 of 107712 elements differ, in 1 of 3 vector(s)" in out
    assert "PASS" not in out
    assert exp[c, h, w] == old


@pytest.mark.toolchain
def test_many_mismatches_are_counted_and_the_first_listed(seed_set, tmp_path):
    src, exe = seed_set
    d = corrupted(src, tmp_path / "g")
    raw = np.fromfile(d / "expected_0.bin", dtype="<i8")
    raw[:100] = (raw[:100] + 1) % 256  # [0][0][0..65] and [0][1][0..33]
    raw.tofile(d / "expected_0.bin")
    rc, out = run_testbench(exe, d)
    assert rc == 1
    assert "vector 0 top[0][0][0]:" in out and "vector 0 top[0][0][9]:" in out
    assert "top[0][0][10]:" not in out  # the first 10 listed
    assert "FAIL: 100 of 107712 elements differ, in 1 of 3 vector(s) (the first 10 listed)" in out


@pytest.mark.toolchain
@pytest.mark.parametrize("damage,fragments", [
    (lambda d: (d / "expected_2.bin").write_bytes(
        np.full(16 * 34 * 66, 300, dtype="<i8").tobytes()),
     ["expected_2.bin: the value at index 0 does not fit the element type (8 bits)"]),
    (lambda d: (d / "bias.bin").write_bytes(b"\0" * 100), ["bias.bin: expected 128 bytes, got 100"]),
    (lambda d: (d / "input_1.bin").unlink(), ["input_1.bin: cannot open"]),
    (lambda d: (d / "hls_sim_golden.txt").write_text(
        (d / "hls_sim_golden.txt").read_text().replace("config ", "config 0")),
     ["configuration"]),
    (lambda d: (d / "hls_sim_golden.txt").write_text(
        (d / "hls_sim_golden.txt").read_text().replace("kernel conv1x1", "kernel dw_conv3x3")),
     ["the golden set is for kernel dw_conv3x3"]),
    # an index edited to fewer vectors than the set has (would skip vector 2 and PASS)
    (lambda d: (d / "hls_sim_golden.txt").write_text(
        (d / "hls_sim_golden.txt").read_text().replace("vectors 3", "vectors 2")),
     ["the index (hls_sim_golden.txt) gives 2 vector(s), but ", "input_2.bin exists: the index "
      "does not match the set's files"]),
])
def test_an_unusable_set_is_an_error_not_a_pass(seed_set, tmp_path, damage, fragments):
    src, exe = seed_set
    d = corrupted(src, tmp_path / "g")
    damage(d)
    rc, out = run_testbench(exe, d)
    assert rc == 2, out
    assert "golden_tb: ERROR: " in out and "FAIL" in out and "PASS" not in out
    for f in fragments:
        assert f in out, out


@pytest.mark.toolchain
def test_a_testbench_refuses_a_set_of_another_configuration(seed_set, tmp_path):
    _, exe = seed_set
    write_golden(load_layer(WEIGHTS / "generated_per_channel.yaml"), tmp_path / "g")
    rc, out = run_testbench(exe, tmp_path / "g")
    assert rc == 2 and "configuration" in out, out


@pytest.mark.toolchain
def test_types_wider_than_64_bits(toolchain, tmp_path):
    """Multi-word .bin elements: a 72-bit bias, an 80-bit sum, a 70-bit fixed-point output."""
    (tmp_path / "wide.yaml").write_text("""\
kernel: dw_conv3x3
types: {bias_t: 'ap_int<72>', sum_t: 'ap_int<80>', out_t: 'ap_fixed<70,66,AP_RND,AP_SAT>',
        factor_t: 'ap_fixed<66,2>', qd_t: 'ap_fixed<70,40,AP_RND,AP_SAT>'}
factor: 0.0095
weight: {generate: {seed: 1}}
bias: {generate: {seed: 2, low: -100000, high: 100000}}
input: {generate: {seed: 3, halo: zeros}}
top: {generate: {seed: 4}}
""")
    ly = load_layer(tmp_path / "wide.yaml")
    res = csim_layer(ly, count=2, build_dir=tmp_path / "b", cache_dir=cxx.CACHE)
    assert res.passed, res.output
    m = res.golden.manifest
    assert m["tensors"]["bias"]["files"]["bin"]["element_bytes"] == 16
    assert m["tensors"]["expected_0"]["files"]["bin"]["element_bytes"] == 16
    # a one-LSB change in a 70-bit element is caught and printed exactly
    d = res.golden.path
    data = bytearray((d / "expected_0.bin").read_bytes())
    flat = (3 * 34 + 10) * 66 + 20
    data[16 * flat] ^= 1
    (d / "expected_0.bin").write_bytes(bytes(data))
    rc, out = run_testbench(res.exe, d)
    assert rc == 1 and "FAIL: 1 of 71808" in out, out
    # the value exactly, and the 70-bit pattern as 18 hex digits
    assert re.search(r"vector 0 top\[3\]\[10\]\[20\]: expected -?[0-9.]+ \(0x[0-9a-f]{18}\), "
                     r"got -?[0-9.]+ \(0x[0-9a-f]{18}\)", out), out


# ---- paths that look like code ------------------------------------------------------------------------
@pytest.mark.toolchain
def test_paths_with_spaces_and_shell_syntax(toolchain, tmp_path, monkeypatch):
    """A layer, data and build folder whose names hold spaces, quotes and $(...): compiled and
    run without a shell, so they stay names."""
    d = tmp_path / "layer dir $(touch PWNED) 'q'"
    d.mkdir()
    np.save(d / "w $(touch PWNED).npy", np.ones((16, 16), dtype=np.int64))
    (d / "layer $(touch PWNED).yaml").write_text(
        BASE.replace("weight: {generate: {seed: 1}}", "weight: {file: 'w $(touch PWNED).npy'}"))
    builds = tmp_path / "build `touch PWNED2` $(touch PWNED)"
    builds.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(builds))
    monkeypatch.chdir(tmp_path)
    r = csim_cli(str(d / "layer $(touch PWNED).yaml"), "--keep")
    assert r.exit_code == 0, r.output
    assert "PASS" in r.stdout
    (kept,) = builds.iterdir()
    assert (kept / "golden_tb").is_file()
    assert not list(tmp_path.rglob("PWNED*"))
    # the rerun command it prints is shell-quoted: pasted into a shell, it reruns the testbench
    (line,) = [ln for ln in r.stdout.splitlines() if ln.startswith("kept      ")]
    command = line.split("rerun: ", 1)[1][:-1]
    assert shlex.split(command) == [str(kept / "golden_tb"), str(kept / "golden")]
    rerun = subprocess.run(["sh", "-c", command], capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0 and "golden_tb: PASS" in rerun.stdout, rerun.stdout + rerun.stderr
    assert not list(tmp_path.rglob("PWNED*"))


# ---- the Vitis HLS script ----------------------------------------------------------------------------
MOCK_VITIS = r"""
# Stand-ins for the Vitis HLS commands testbench/vitis_hls.tcl uses. They log each call;
# csim_design compiles the design and the testbench sources separately with their -cflags
# (as Vitis does, no unity build), copies the -tb data files into a fresh working folder and
# runs the testbench there with no arguments.
set ::log [open $::env(MOCK_LOG) w]
set ::design {}
set ::tbsrc {}
set ::tbdata {}
proc open_project {args} { puts $::log "open_project $args" }
proc set_top {name} { puts $::log "set_top $name" }
proc open_solution {args} { puts $::log "open_solution $args" }
proc set_part {p} { puts $::log "set_part $p" }
proc create_clock {args} { puts $::log "create_clock $args" }
proc csynth_design {args} { puts $::log "csynth_design" }
proc cosim_design {args} { puts $::log "cosim_design" }
proc add_files {args} {
    set tb 0
    set cflags ""
    set files {}
    for {set i 0} {$i < [llength $args]} {incr i} {
        set a [lindex $args $i]
        if {$a eq "-tb"} { set tb 1 } elseif {$a eq "-cflags"} { incr i; set cflags [lindex $args $i] } else { lappend files $a }
    }
    foreach f $files {
        puts $::log "add_files tb=$tb [file tail $f]"
        if {[string match *.cpp $f]} {
            if {$tb} { lappend ::tbsrc [list $f $cflags] } else { lappend ::design [list $f $cflags] }
        } else {
            lappend ::tbdata $f
        }
    }
}
proc csim_design {args} {
    set build [file join [pwd] csim_build]
    file mkdir $build
    foreach f $::tbdata { file copy -force $f $build }
    set objs {}
    foreach src [concat $::design $::tbsrc] {
        lassign $src f cflags
        set o [file join $build [file rootname [file tail $f]].o]
        exec $::env(MOCK_CXX) -c -O1 -w {*}$cflags -I$::env(MOCK_AP_TYPES) $f -o $o
        lappend objs $o
    }
    exec $::env(MOCK_CXX) {*}$objs -o [file join $build csim.exe]
    set here [pwd]
    cd $build
    set rc [catch {exec ./csim.exe 2>@1} out opts]
    cd $here
    set status 0
    if {$rc} { set status [lindex [dict get $opts -errorcode] 2] }
    puts $::log "csim_status $status"
    puts $::log $out
}
rename exit ::mock_real_exit
proc exit {{code 0}} { close $::log; ::mock_real_exit $code }
source $::env(MOCK_SCRIPT)
"""


def run_tcl(tmp_path: Path, args: list[str], ap_types: Path, env: dict | None = None):
    tclsh = shutil.which("tclsh")
    if tclsh is None:
        pytest.skip("tclsh not installed (the Vitis script is checked with it)")
    mock = tmp_path / "mock_vitis.tcl"
    mock.write_text(MOCK_VITIS)
    log = tmp_path / "vitis.log"
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    full_env = {**os.environ, "MOCK_LOG": str(log), "MOCK_SCRIPT": str(TCL),
                "MOCK_CXX": shutil.which(os.environ.get("CXX") or "g++") or "g++",
                "MOCK_AP_TYPES": str(ap_types), **(env or {})}
    proc = subprocess.run([tclsh, str(mock), *args], cwd=work, env=full_env, capture_output=True,
                          text=True, timeout=300)
    return proc, (log.read_text() if log.exists() else "")


@pytest.mark.toolchain
def test_vitis_tcl_runs_csim_synthesis_and_cosim(toolchain, tmp_path):
    g = tmp_path / "golden_dw"
    write_golden(load_layer(WEIGHTS / "dw_conv3x3.yaml"), g, count=2)
    proc, log = run_tcl(tmp_path, [str(g)], toolchain)
    assert proc.returncode == 0, proc.stdout + proc.stderr + log
    lines = log.splitlines()
    assert "open_project -reset hls_sim_dw_conv3x3" in lines
    assert "set_top hls_sim_top" in lines
    assert "set_part xczu7ev-ffvc1156-2-e" in lines
    assert "create_clock -period 5 -name default" in lines
    assert "add_files tb=0 hls_sim_kernel.cpp" in lines and "add_files tb=1 golden_tb.cpp" in lines
    for f in ("hls_sim_golden.txt", "weight.bin", "input_1.bin", "expected_1.bin"):
        assert f"add_files tb=1 {f}" in lines
    assert "csim_status 0" in lines, log
    assert "golden_tb: PASS: 2 vector(s)" in log and "from the working folder" in log
    order = [ln for ln in lines if ln in ("csynth_design", "cosim_design") or ln.startswith("csim_status")]
    assert order == ["csim_status 0", "csynth_design", "cosim_design"]


@pytest.mark.toolchain
def test_vitis_tcl_fails_on_a_mismatch_and_takes_part_clock_steps(toolchain, tmp_path):
    g = tmp_path / "golden"
    write_golden(load_layer(WEIGHTS / "conv1x1.yaml"), g)
    raw = np.fromfile(g / "expected_0.bin", dtype="<i8")
    raw[66] = (raw[66] + 1) % 256
    raw.tofile(g / "expected_0.bin")
    proc, log = run_tcl(tmp_path, [str(g), "xcvu9p-flga2104-2-i", "3.3", "csim"], toolchain,
                        env={"HLS_SIM_PROJECT": "myproj"})
    assert proc.returncode == 0, proc.stdout + proc.stderr + log
    lines = log.splitlines()
    assert "open_project -reset myproj" in lines and "set_top hls_sim_top" in lines
    assert "set_part xcvu9p-flga2104-2-i" in lines and "create_clock -period 3.3 -name default" in lines
    assert "csim_status 1" in lines, log
    assert "vector 0 top[0][1][0]: expected" in log
    assert "csynth_design" not in lines and "cosim_design" not in lines


def test_vitis_tcl_refuses_bad_arguments(tmp_path):
    g = tmp_path / "with space"
    g.mkdir()
    proc, log = run_tcl(tmp_path, [str(g)], tmp_path)
    assert proc.returncode == 2 and "contains a space" in proc.stdout
    proc, log = run_tcl(tmp_path, [str(tmp_path / "nothing")], tmp_path)
    assert proc.returncode == 2 and "not a golden set" in proc.stdout
    proc, log = run_tcl(tmp_path, [], tmp_path)
    assert proc.returncode == 2 and "usage" in proc.stdout
    proc, log = run_tcl(tmp_path, [str(tmp_path / "nothing"), "part", "fast"], tmp_path)
    assert proc.returncode == 2 and "CLOCK_NS" in proc.stdout
    assert "open_project" not in log
