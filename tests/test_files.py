"""All-or-nothing output files (``hls_sim.files.write_files``) for ``run -o``, ``quantize -o``
and ``report -o``: a full disk, a failed rename or an interrupt leaves the folder as it was."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from hls_sim.cli import main
from hls_sim.files import write_files
from tests.report.conftest import float_layer_data

ROOT = Path(__file__).resolve().parent.parent
CONV1X1 = str(ROOT / "weights" / "conv1x1.yaml")
QUOTA = 400 * 1024  # bytes: the 400 KB tmpfs of the issue


class Failed(ValueError):
    pass


def listing(d: Path) -> dict[str, bytes]:
    """Every file under ``d`` (hidden ones included) and its content."""
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


@pytest.fixture
def full_disk(monkeypatch):
    """A disk of QUOTA bytes: fsync of a file fails with ENOSPC once the bytes written so far
    exceed it (what a full tmpfs does to the write; the file is left as written)."""
    used = {"bytes": 0}
    real = os.fsync

    def fsync(fd: int) -> None:
        st = os.fstat(fd)
        if not os.path.isdir(f"/proc/self/fd/{fd}") and st.st_size:
            used["bytes"] += st.st_size
            if used["bytes"] > QUOTA:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    return used


def invoke(*args: str):
    return CliRunner().invoke(main, list(args))


def assert_disk_full(r, *fragments: str) -> None:
    assert r.exit_code == 2, (r.output, r.exception)
    err = r.stderr
    assert err.count("\n") == 1 and "No space left on device" in err, err
    assert "already exists" not in err
    for f in fragments:
        assert f in err, err


def quantize_inputs(d: Path) -> tuple[str, str, str]:
    data = float_layer_data()
    for k in ("weight", "bias", "calibration"):
        np.save(d / f"{k}.npy", data[k])
    return str(d / "weight.npy"), str(d / "bias.npy"), str(d / "calibration.npy")


# ---- the commands on a full disk ----------------------------------------------------------------
def test_run_on_a_full_disk_writes_nothing_and_a_rerun_says_why(tmp_path, full_disk):
    out = tmp_path / "out"
    assert_disk_full(invoke("run", CONV1X1, "-o", str(out)), "nothing written")
    assert not out.exists()  # the folder it created is gone too: no top.npy, no temp files
    full_disk["bytes"] = 0
    assert_disk_full(invoke("run", CONV1X1, "-o", str(out)))  # not "already exists"
    assert list(tmp_path.iterdir()) == []


def test_quantize_on_a_full_disk_leaves_no_layer_yaml(tmp_path, full_disk):
    src = tmp_path / "src"
    src.mkdir()
    w, b, c = quantize_inputs(src)
    out = tmp_path / "q"
    out.mkdir()
    assert_disk_full(invoke("quantize", w, "-b", b, "-c", c, "-o", str(out)))
    assert list(out.iterdir()) == []  # no layer.yaml pointing at missing files, no temp files
    full_disk["bytes"] = 0
    assert_disk_full(invoke("quantize", w, "-b", b, "-c", c, "-o", str(out)))


def test_forced_run_on_a_full_disk_keeps_the_previous_files(tmp_path, monkeypatch):
    out = tmp_path / "out"
    assert invoke("run", CONV1X1, "-o", str(out)).exit_code == 0
    before = listing(out)
    calls = {"n": 0}
    real = os.fsync

    def fsync(fd: int) -> None:  # the third file does not fit
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    r = invoke("run", str(ROOT / "weights" / "dw_conv3x3.yaml"), "-o", str(out), "--force")
    assert_disk_full(r, str(out / "weight.npy"))
    assert listing(out) == before  # every old file byte for byte, nothing else


def test_report_on_a_full_disk_writes_nothing(tmp_path, monkeypatch):
    def fsync(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", fsync)
    r = invoke("report", CONV1X1, "-o", str(tmp_path / "r.json"))
    assert r.exit_code == 2 and "No space left on device" in r.stderr, r.output
    assert list(tmp_path.iterdir()) == []


# ---- a real 400 KB tmpfs ------------------------------------------------------------------------
@pytest.fixture
def tmpfs(tmp_path):
    """A 400 KB tmpfs, where the test runs as root and may mount one; else skipped."""
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root and mount(8)")
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=400k", "tmpfs", str(mnt)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"mount -t tmpfs is not permitted here: {r.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


def test_run_and_quantize_on_a_real_full_tmpfs(tmp_path, tmpfs):
    out = tmpfs / "out"
    for _ in range(2):  # the rerun fails the same way, not with "already exists"
        assert_disk_full(invoke("run", CONV1X1, "-o", str(out)), "nothing written")
        assert list(tmpfs.iterdir()) == []
    w, b, c = quantize_inputs(tmp_path)
    for _ in range(2):
        assert_disk_full(invoke("quantize", w, "-b", b, "-c", c, "-o", str(tmpfs / "q")))
        assert list(tmpfs.iterdir()) == []
    r = invoke("report", CONV1X1, "-o", str(tmpfs / "r.json"))  # what fits is written whole
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in tmpfs.iterdir()) == ["r.json"]


# ---- write_files itself -------------------------------------------------------------------------
def test_write_files_writes_every_file(tmp_path):
    arr = np.arange(6).reshape(2, 3)
    got = write_files(tmp_path / "a" / "b", {"x.npy": arr, "t.txt": b"hi"}, Failed)
    assert got == [tmp_path / "a" / "b" / "x.npy", tmp_path / "a" / "b" / "t.txt"]
    np.testing.assert_array_equal(np.load(got[0]), arr)
    assert got[1].read_bytes() == b"hi"
    assert sorted(listing(tmp_path)) == ["a/b/t.txt", "a/b/x.npy"]
    umask = os.umask(0)
    os.umask(umask)
    assert got[1].stat().st_mode & 0o777 == 0o666 & ~umask  # as open() would make it


def test_a_failed_rename_puts_everything_back(tmp_path, monkeypatch):
    (tmp_path / "a").write_bytes(b"old a")
    (tmp_path / "c").write_bytes(b"old c")
    before = listing(tmp_path)
    real, calls = os.replace, {"n": 0}

    def replace(src, dst):  # noqa: ANN001
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        real(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(Failed, match=r"/c: cannot write: Input/output error; nothing written"):
        write_files(tmp_path, {"a": b"new a", "b": b"new b", "c": b"new c"}, Failed)
    monkeypatch.undo()
    assert listing(tmp_path) == before


def test_an_interrupt_removes_the_temporary_files(tmp_path, monkeypatch):
    (tmp_path / "keep").write_bytes(b"k")
    real, calls = os.fsync, {"n": 0}

    def fsync(fd: int) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    with pytest.raises(KeyboardInterrupt):
        write_files(tmp_path, {"keep": b"new", "other": b"o"}, Failed)
    assert listing(tmp_path) == {"keep": b"k"}


def test_a_folder_that_cannot_be_created(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(Failed, match="cannot create the folder"):
        write_files(tmp_path / "f" / "sub", {"a": b"1"}, Failed)


def test_sigterm_inside_a_destructor_still_interrupts():
    """A SIGTERM handled inside a ``__del__`` (numba's compiler frees LLVM strings there)
    raises where Python drops exceptions; hls-sim must still stop, not run on to exit 0."""
    import signal

    from hls_sim.files import Terminated, sigterm_exits

    class SignalsInDestructor:
        def __del__(self) -> None:
            os.kill(os.getpid(), signal.SIGTERM)
            total = 0
            for i in range(1000):  # the handler runs here, inside __del__
                total += i

    reached_the_end = False
    with pytest.raises(Terminated) as e:
        with sigterm_exits():
            obj = SignalsInDestructor()
            del obj
            import time

            time.sleep(2)  # the signal is sent again within 0.01 s and ends the sleep
            reached_the_end = True
    assert e.value.code == 128 + signal.SIGTERM and not reached_the_end
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # restored on the way out


def test_after_sigterm_half_built_objects_die_quietly():
    """The process is exiting after SIGTERM: destructors of objects the signal interrupted
    (llvmlite's handles, seen in CI) fail, and their tracebacks must not bury the one line."""
    import signal
    import sys

    code = """if True:
        import os, signal
        from hls_sim.files import sigterm_exits

        class HalfBuilt:
            def __del__(self):
                raise AttributeError("half-built handle")

        kept = [HalfBuilt()]  # dies at exit, after the signal
        with sigterm_exits():
            os.kill(os.getpid(), signal.SIGTERM)
            for _ in range(10 ** 6):
                pass
    """
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "hls-sim: interrupted by SIGTERM; temporary files removed, nothing written"], proc.stderr
