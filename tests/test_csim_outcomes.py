"""``hls-sim csim``'s outcomes and their exit statuses (issue 13, item 7): an assertion in the
ap_types headers' debug build is said in words (not a mismatch; ``--ndebug``), a failed
compile names the compiler that ran and what it said, crashes / unusable sets / interrupts
each have their own status, and ``--cflags`` is validated and part of the cache key."""

from __future__ import annotations

import os
import signal
import stat
import sys
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

import hls_sim.csim as csim
from hls_sim.cli import main
from hls_sim.csim import (EXIT, FLAGS, NDEBUG, CflagsError, build_testbench, parse_cflags,
                          run_testbench)
from hls_sim.golden import write_golden
from hls_sim.layer import load_layer

ROOT = Path(__file__).resolve().parent.parent
SEED = str(ROOT / "weights" / "conv1x1.yaml")
ASSERTING = """\
kernel: conv1x1
factor: {raw: 5}
types: {acc_t: 'ap_fixed<14,9>', factor_t: 'ap_fixed<6,-25>', qd_t: 'ap_fixed<17,13,AP_RND_CONV,AP_WRAP_SM>'}
weight: {generate: {seed: 1}}
bias: {generate: {seed: 2, low: -100, high: 100}}
input: {generate: {seed: 3}}
"""


def csim_cli(*args: str):
    return CliRunner().invoke(main, ["csim", *args])


@pytest.fixture
def private_tmp(tmp_path, monkeypatch):
    d = tmp_path / "tmp"
    d.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(d))
    return d


@pytest.fixture
def fake_headers(tmp_path):
    """A folder with an ap_fixed.h: enough for the checks before the compiler runs."""
    d = tmp_path / "ap_types"
    d.mkdir()
    (d / "ap_fixed.h").write_text("#error not a real header\n")
    return d


def script(path: Path, body: str) -> Path:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


# ---- the headers' debug build asserting ---------------------------------------------------------
@pytest.mark.toolchain
def test_a_debug_build_assertion_is_said_in_words_and_ndebug_passes(toolchain, tmp_path, private_tmp):
    layer = tmp_path / "assert.yaml"
    layer.write_text(ASSERTING)
    r = csim_cli(str(layer))
    assert r.exit_code == EXIT["crash"] == 4, r.output
    out = r.stdout
    assert "FAIL: the ap_types headers' debug build asserted" in out, out
    (quoted,) = [ln for ln in out.splitlines() if ln.startswith("  ") and "Assertion" in ln]
    assert "Attempting to read bit beyond MSB" in quoted
    assert "This is not a mismatch" in out and "--ndebug builds with -DNDEBUG" in out
    assert "testbench exit status -6)" not in out.splitlines()[-1]  # not the old bare FAIL
    assert list(private_tmp.iterdir()) == []
    for args in (["--ndebug"], ["--cflags", "-DNDEBUG"]):
        r = csim_cli(str(layer), *args)
        assert r.exit_code == 0, r.output
        assert "flags     -std=c++14 -O1 -w -DNDEBUG" in r.stdout
        assert "0 mismatches" in r.stdout and r.stdout.rstrip().endswith("\nPASS")


@pytest.mark.toolchain
def test_cflags_are_part_of_the_testbench_cache_key(toolchain, tmp_path):
    d = tmp_path / "golden"
    layer = tmp_path / "assert.yaml"
    layer.write_text(ASSERTING)
    write_golden(load_layer(layer), d)
    cache = tmp_path / "cache"
    debug = build_testbench(d, cache_dir=cache)
    release = build_testbench(d, cache_dir=cache, flags=(*FLAGS, NDEBUG))
    assert debug != release
    rc, out = run_testbench(debug, d)
    assert rc == -signal.SIGABRT and csim.outcome(rc, out) == "assertion", out
    rc, out = run_testbench(release, d)
    assert rc == 0 and csim.outcome(rc, out) == "pass", out


# ---- --cflags ---------------------------------------------------------------------------------------
def test_parse_cflags():
    assert parse_cflags("-DNDEBUG  -O2 '-I/a/b' -Wl,--x -DA=1") == [
        "-DNDEBUG", "-O2", "-I/a/b", "-Wl,--x", "-DA=1"]
    assert parse_cflags(None) == [] and parse_cflags("") == []


@pytest.mark.parametrize("text,fragment", [
    ("-O2; touch PWNED", "';'"),
    ("-O2 foo", "'foo' is not a compiler option"),
    ("'-DA=1 2'", "' '"),
    ("-DX=$(touch PWNED)", "'$'"),
    ("-DX=`id`", "'`'"),
    ("-O2 '-DX", "No closing quotation"),
    ("-", "not a compiler option"),
])
def test_bad_cflags_are_one_line_before_any_work(text, fragment, tmp_path, monkeypatch, private_tmp):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CflagsError):
        parse_cflags(text)
    r = csim_cli(SEED, "--cflags", text)
    assert r.exit_code == 2, r.output
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("hls-sim: error: --cflags")
    assert fragment in r.stderr, r.stderr
    assert list(private_tmp.iterdir()) == [] and not list(tmp_path.rglob("PWNED*"))


# ---- build failures -----------------------------------------------------------------------------------
def test_a_compiler_that_fails_silently_is_named_with_its_status(fake_headers, monkeypatch, private_tmp):
    monkeypatch.setenv("CXX", "/bin/false")
    r = csim_cli(SEED, "--ap-types", str(fake_headers))
    assert r.exit_code == EXIT["build"] == 3, r.output
    err = r.stderr
    assert "build failed: /bin/false ($CXX=/bin/false) exited with status 1" in err, err
    assert "no output" in err and "g++" not in err, err
    assert list(private_tmp.iterdir()) == []


def test_a_compile_error_shows_the_compilers_first_error_lines(fake_headers, tmp_path, monkeypatch,
                                                               private_tmp):
    cc = script(tmp_path / "my-cc", "echo 'In file included from x.h:1:' >&2\n"
                "for i in 1 2 3 4 5 6 7 8 9 10 11 12; do\n"
                "  echo \"golden_tb.cpp:$i:1: error: boom $i\" >&2\ndone\nexit 7\n")
    monkeypatch.setenv("CXX", str(cc))
    r = csim_cli(SEED, "--ap-types", str(fake_headers), "--keep")
    assert r.exit_code == 3, r.output
    err = r.stderr.splitlines()
    assert err[0] == f"hls-sim: error: build failed: {cc} ($CXX={cc}) exited with status 7:", err
    assert err[1] == "  golden_tb.cpp:1:1: error: boom 1"  # from the first error line on
    assert "  golden_tb.cpp:8:1: error: boom 8" in err and "  golden_tb.cpp:9:1: error: boom 9" not in err
    (kept,) = private_tmp.iterdir()
    assert err[-1] == f"kept      {kept}" and (kept / "golden" / "manifest.json").is_file()


# ---- what the testbench did --------------------------------------------------------------------------
TESTBENCHES = {  # a stand-in testbench (a shell script), its exit status, words in the output
    "pass": ("echo 'golden_tb: PASS'; exit 0", 0, "\nPASS"),
    "mismatch": ("echo 'golden_tb: FAIL: 1 of 9 elements differ'; exit 1", 1, "\nFAIL"),
    "unusable": ("echo 'golden_tb: ERROR: index: bad' >&2; exit 2", 5,
                 "FAIL: the testbench refused the golden set as unusable"),
    "assertion": ("echo \"golden_tb: ap_private.h:1: f: Assertion \\`i < 3' failed.\" >&2; "
                  "kill -ABRT $$", 4, "FAIL: the ap_types headers' debug build asserted"),
    "abort": ("echo 'terminate called' >&2; kill -ABRT $$", 4,
              "FAIL: the testbench crashed (killed by SIGABRT); this is not a mismatch"),
    "segv": ("kill -SEGV $$", 4, "FAIL: the testbench crashed (killed by SIGSEGV)"),
    "odd-status": ("exit 9", 4, "FAIL: the testbench crashed (exit status 9)"),
    "sigint": (None, 130, "FAIL: the testbench was interrupted (SIGINT)"),
    "sigterm": (None, 143, "FAIL: the testbench was interrupted (SIGTERM)"),
}
# A signal the shell may have been started ignoring (a test run started as `make test &` from
# a script ignores SIGINT, and so do its children): these testbenches restore it first.
SELF_KILL = ("#!{python}\nimport os, signal\nsignal.signal(signal.{sig}, signal.SIG_DFL)\n"
             "os.kill(os.getpid(), signal.{sig})\n")


def stand_in(name: str, path: Path) -> Path:
    body = TESTBENCHES[name][0]
    if body is not None:
        return script(path, body + "\n")
    path.write_text(SELF_KILL.format(python=sys.executable, sig=name.upper()))
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.mark.parametrize("name", list(TESTBENCHES))
def test_each_testbench_outcome_has_its_exit_status_and_words(name, tmp_path, fake_headers,
                                                              monkeypatch, private_tmp):
    _, status, words = TESTBENCHES[name]
    tb = stand_in(name, tmp_path / "tb")
    monkeypatch.setenv("CXX", sys.executable)  # found, never run: the build is stubbed
    monkeypatch.setattr(csim, "build_testbench", lambda *a, **k: tb)
    r = csim_cli(SEED, "--ap-types", str(fake_headers))
    assert r.exit_code == status, r.output
    assert words in r.stdout, r.stdout
    if name == "assertion":
        assert "  golden_tb: ap_private.h:1: f: Assertion `i < 3' failed." in r.stdout
        assert "This is not a mismatch" in r.stdout and "--ndebug" in r.stdout
    assert list(private_tmp.iterdir()) == []


def test_a_hung_testbench_is_a_crash_not_an_unusable_set(tmp_path):
    tb = script(tmp_path / "tb", "sleep 30\n")
    rc, out = run_testbench(tb, tmp_path, timeout=0.5)
    assert rc == csim.TIMED_OUT and csim.outcome(rc, out) == "crash"
    assert "no result within 0.5 s" in out


@pytest.mark.parametrize("exc,status,words", [
    (KeyboardInterrupt, 130, "interrupted by SIGINT"),
])
def test_an_interrupt_while_building_exits_130_and_cleans_up(exc, status, words, fake_headers,
                                                             monkeypatch, private_tmp):
    def interrupted(*a, **k):
        raise exc

    monkeypatch.setenv("CXX", sys.executable)
    monkeypatch.setattr(csim, "build_testbench", interrupted)
    r = csim_cli(SEED, "--ap-types", str(fake_headers))
    assert r.exit_code == status, r.output
    assert words in r.stderr
    assert list(private_tmp.iterdir()) == []
