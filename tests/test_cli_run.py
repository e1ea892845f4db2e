"""``hls-sim run LAYER.yaml [-o DIR] [--force]``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from hls_sim.cli import main
from hls_sim.layer import load_layer
from tests.support.examples import LAYER_EXAMPLES

ROOT = Path(__file__).resolve().parent.parent
WEIGHTS = ROOT / "weights"
EXAMPLES = LAYER_EXAMPLES
WRITTEN = ("top.npy", "input.npy", "weight.npy", "bias.npy", "factor.npy", "layer.yaml")
BASE = """\
kernel: conv1x1
factor: 0.01
weight: {generate: {seed: 1}}
bias: {generate: {seed: 2, low: -100, high: 100}}
input: {generate: {seed: 3}}
"""


def run(*args: str):
    return CliRunner().invoke(main, ["run", *args])


def assert_user_error(result, *fragments: str) -> str:
    """Exit 2, exactly one line on stderr, no traceback, nothing on stdout."""
    assert result.exit_code == 2, (result.output, result.exception)
    assert isinstance(result.exception, SystemExit)
    err = result.stderr
    assert err.count("\n") == 1 and err.startswith("hls-sim: error: "), err
    assert "Traceback" not in result.output
    assert result.stdout == ""
    for f in fragments:
        assert f in err, err
    return err


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_each_example_runs_and_prints_the_summary(path):
    r = run(str(path))
    assert r.exit_code == 0, r.output
    out = r.stdout
    ly = load_layer(path)
    for word in ("layer", "kernel", "tensors", "types", "datapath", "reference", ly.kernel,
                 "int64 path", "per call", "outputs differ from the correctly rounded"):
        assert word in out, out
    n = int(np.prod(ly.geometry.written_shape))
    assert f"0 of {n} outputs differ" in out
    if not ly.spec.epilogue:
        assert "out_t overflow 0" in out
        return
    for t in ("ap_uint<8>", "ap_int<8>", "ap_int<16>", "ap_fixed<32,1>", "ap_int<32>", "ap_int<18>"):
        assert t in out
    assert "overflow acc 0, qd 0, sum 0, out 0" in out


def test_output_folder(tmp_path):
    out = tmp_path / "out"
    r = run(str(WEIGHTS / "conv1x1.yaml"), "-o", str(out))
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in out.iterdir()) == sorted(WRITTEN)
    ly = load_layer(WEIGHTS / "conv1x1.yaml")
    top = np.load(out / "top.npy")
    assert top.dtype == np.int64 and top.shape == (16, 34, 66)
    np.testing.assert_array_equal(top, ly.run().top.raw)
    np.testing.assert_array_equal(np.load(out / "input.npy"), ly.input)
    np.testing.assert_array_equal(np.load(out / "weight.npy"), ly.weight)
    np.testing.assert_array_equal(np.load(out / "bias.npy"), ly.bias)
    assert np.load(out / "factor.npy") == ly.factor
    assert "wrote" in r.stdout and str(out / "top.npy") in r.stdout


def test_generated_inputs_are_written_and_replay(tmp_path):
    out = tmp_path / "out"
    r = run(str(WEIGHTS / "generated_per_channel.yaml"), "-o", str(out))
    assert r.exit_code == 0, r.output
    ly = load_layer(WEIGHTS / "generated_per_channel.yaml")
    np.testing.assert_array_equal(np.load(out / "input.npy"), ly.input)
    np.testing.assert_array_equal(np.load(out / "factor.npy"), ly.factor)
    replay = load_layer(out / "layer.yaml")  # the written layer file reproduces the run
    assert replay.config == ly.config and replay.kernel == ly.kernel
    np.testing.assert_array_equal(replay.run().top.raw, np.load(out / "top.npy"))


def test_initial_top_is_written_when_given(tmp_path):
    np.save(tmp_path / "t.npy", np.full((16, 34, 66), 9, dtype=np.uint8))
    (tmp_path / "l.yaml").write_text(BASE + "top: {file: t.npy}\n")
    r = run(str(tmp_path / "l.yaml"), "-o", str(tmp_path / "o"))
    assert r.exit_code == 0, r.output
    assert (np.load(tmp_path / "o" / "top_initial.npy") == 9).all()
    replay = load_layer(tmp_path / "o" / "layer.yaml")
    np.testing.assert_array_equal(replay.run().top.raw, np.load(tmp_path / "o" / "top.npy"))


def test_refuses_to_overwrite_and_writes_nothing(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "bias.npy").write_bytes(b"precious")
    r = run(str(WEIGHTS / "conv1x1.yaml"), "-o", str(out))
    assert_user_error(r, str(out / "bias.npy"), "already exists", "--force")
    assert (out / "bias.npy").read_bytes() == b"precious"
    assert sorted(p.name for p in out.iterdir()) == ["bias.npy"]  # nothing else written


def test_second_run_refuses_then_force_overwrites(tmp_path):
    out = tmp_path / "out"
    assert run(str(WEIGHTS / "conv1x1.yaml"), "-o", str(out)).exit_code == 0
    before = {n: (out / n).read_bytes() for n in WRITTEN}
    r = run(str(WEIGHTS / "dw_conv3x3.yaml"), "-o", str(out))
    assert_user_error(r, "already exists (and 5 more of the files to write); nothing written")
    assert {n: (out / n).read_bytes() for n in WRITTEN} == before
    r = run(str(WEIGHTS / "dw_conv3x3.yaml"), "-o", str(out), "--force")
    assert r.exit_code == 0, r.output
    top = np.load(out / "top.npy")
    np.testing.assert_array_equal(top, load_layer(WEIGHTS / "dw_conv3x3.yaml").run().top.raw)
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temp files left


def test_output_folder_that_is_a_file(tmp_path):
    (tmp_path / "f").write_text("x")
    assert_user_error(run(str(WEIGHTS / "conv1x1.yaml"), "-o", str(tmp_path / "f")), "not a folder")


@pytest.mark.parametrize("text,fragments", [
    ("kernel: conv1x1\nfactor: [0.1\n", ["line 3", "malformed YAML"]),
    (BASE.replace("factor: 0.01", "factor: .nan"), ["factor: NaN is not a number"]),
    (BASE + "types: {acc_t: 'ap_int<0>'}\n", ["types.acc_t: 'ap_int<0>': width must be 1..1024"]),
    (BASE.replace("weight: {generate: {seed: 1}}", "weight: {file: w.npy}"),
     ["weight: file 'w.npy' not found (looked in "]),
    (BASE + "wieght: 3\n", ["wieght: unknown key (did you mean 'weight'?)"]),
    (BASE + "types: {in_t: 'ap_uint<8>; int x'}\n", ["types.in_t", "contains ';'"]),
    (BASE + "types: {out_t: 'ap_uint<8>\"'}\n", ["types.out_t", "contains '\"'"]),
    (BASE + "types: {out_t: \"ap_uint<8'>\"}\n", ["types.out_t", "contains \"'\""]),
])
def test_bad_layer_files_give_one_line(tmp_path, text, fragments):
    p = tmp_path / "bad.yaml"
    p.write_text(text)
    err = assert_user_error(run(str(p)), str(p), *fragments)
    assert err.startswith(f"hls-sim: error: {p}: ")


def test_missing_layer_file(tmp_path):
    assert_user_error(run(str(tmp_path / "none.yaml")), "none.yaml: file not found")


def test_bad_layer_is_refused_before_any_output(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text(BASE.replace("factor: 0.01", "factor: 2.0"))
    assert_user_error(run(str(p), "-o", str(tmp_path / "out")), "factor: 2.0 is outside the range")
    assert not (tmp_path / "out").exists()


def test_the_installed_command(tmp_path):
    """The real entry point: exit status, stdout summary, one-line stderr, no traceback."""
    exe = Path(sys.executable).parent / "hls-sim"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "hls_sim.cli"]
    ok = subprocess.run(cmd + ["run", "weights/conv1x1.yaml"], cwd=ROOT, capture_output=True,
                        text=True, timeout=300)
    assert ok.returncode == 0, ok.stderr
    assert "reference" in ok.stdout and ok.stderr == ""
    (tmp_path / "bad.yaml").write_text("kernel: conv1x1\n  oops: [\n")
    bad = subprocess.run(cmd + ["run", str(tmp_path / "bad.yaml")], capture_output=True, text=True,
                         timeout=300, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr
    assert bad.stderr.startswith(f"hls-sim: error: {tmp_path / 'bad.yaml'}: line 2, column ")


# ---- issue 13 ---------------------------------------------------------------------------------------
def test_a_type_beyond_float64_is_refused_before_the_run(tmp_path):
    """out_t ap_ufixed<8,1100> ran the kernel for seconds, then failed on its LSB (item 5)."""
    import time

    p = tmp_path / "l.yaml"
    p.write_text(BASE + "types: {out_t: 'ap_ufixed<8,1100>'}\n")
    t0 = time.perf_counter()
    assert_user_error(run(str(p), "-o", str(tmp_path / "out")),
                      f"{p}: types.out_t: 'ap_ufixed<8,1100>': 1100 integer bits")
    assert time.perf_counter() - t0 < 5 and not (tmp_path / "out").exists()


def test_layer_paths_that_are_not_files(tmp_path):
    """/dev/zero (was a MemoryError) and a FIFO (blocked for ever) are refused (item 5)."""
    assert_user_error(run("/dev/zero"), "hls-sim: error: /dev/zero: is a device, not a layer file")
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    exe = Path(sys.executable).parent / "hls-sim"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "hls_sim.cli"]
    r = subprocess.run(cmd + ["run", str(fifo)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr == f"hls-sim: error: {fifo}: is a FIFO (named pipe), not a layer file\n"


def test_a_full_disk_is_named_not_numpy_short_write(tmp_path):
    """A file size limit cuts the write of top.npy short, as a full disk does: numpy's own
    writer said "35904 requested and 18734 written"; the OS error is named (item 10)."""
    out = tmp_path / "out"
    code = ("import resource, signal, sys\n"
            "from hls_sim.cli import main\n"
            "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
            "resource.setrlimit(resource.RLIMIT_FSIZE, (150000, 150000))\n"
            f"sys.argv = ['hls-sim', 'run', {str(WEIGHTS / 'conv1x1.yaml')!r}, '-o', {str(out)!r}]\n"
            "main()\n")
    warm = subprocess.run([sys.executable, "-m", "hls_sim.cli", "run", str(WEIGHTS / "conv1x1.yaml")],
                          capture_output=True, text=True, timeout=300)  # numba's cache, unlimited
    assert warm.returncode == 0, warm.stderr
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 2, r.stderr
    err = r.stderr.strip().splitlines()
    assert len(err) == 1 and "File too large" in err[0] and "requested" not in err[0], r.stderr
    assert not out.exists() or not [p for p in out.iterdir() if p.name.endswith(".npy")]


def test_the_summary_says_which_machine_code_ran(monkeypatch):
    """--kernels picks the kernels' machine code (hls_sim.jit.kernel_mode) and the kernel line
    says when it was the generic kernel; auto adds how to get the specialised one."""
    monkeypatch.setenv("HLS_SIM_KERNELS", "auto")  # the option sets it: restored after the test
    layer = str(WEIGHTS / "conv2d.yaml")
    generic = CliRunner().invoke(main, ["--kernels", "generic", "run", layer])
    assert generic.exit_code == 0, generic.output
    line = next(ln for ln in generic.output.splitlines() if ln.startswith("kernel"))
    assert "int64 path, generic kernel:" in line and "not compiled yet" not in generic.output
    from hls_sim import jit

    with jit.kernels("generic"):
        baseline = load_layer(layer).run().top.raw
    monkeypatch.setenv("HLS_SIM_KERNELS", "auto")
    with monkeypatch.context() as m:
        m.setattr(jit.Kernel, "_loadable", lambda self, args: False)  # as on a fresh cache
        auto = CliRunner().invoke(main, ["run", layer])
    assert "generic kernel" in auto.output and "not compiled yet: `hls-sim --kernels specialised run`" in auto.output
    assert auto.output.replace("\n", " ").count("0 of 30720 outputs differ") == 1
    assert np.array_equal(baseline, load_layer(layer).run().top.raw)
