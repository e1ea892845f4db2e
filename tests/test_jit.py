"""The numba policy (hls_sim/jit.py): what the disk cache is keyed on, that processes may share
it, and that commands which compile nothing never import numba."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

def test_numba_cache_is_keyed_on_the_compiled_sources(tmp_path):
    """A change to a module compiled code reaches (rules.py, say) must not reuse kernels
    compiled before it; other modules (the CLI, the network runner) do not matter to them."""
    from hls_sim import jit

    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.py").write_text("y = 2\n")
    before = jit.sources_digest(tmp_path)
    (tmp_path / "sub" / "b.py").write_text("y = 3\n")
    assert jit.sources_digest(tmp_path) != before
    part = jit.sources_digest(tmp_path, ("sub",))
    (tmp_path / "a.py").write_text("x = 2\n")
    assert jit.sources_digest(tmp_path, ("sub",)) == part
    digest = jit.sources_digest(jit.PACKAGE, jit.COMPILED_SOURCES)
    assert jit.cache_dir().name.startswith(f"numba-{digest}")
    assert jit.numba_module().config.CACHE_DIR == str(jit.cache_dir())


def test_compiled_code_imports_nothing_outside_its_sources():
    """What the cache digest covers must be all that compiled code can reach: every module
    that defines compiled functions imports only from those sources."""
    import ast

    from hls_sim import jit

    inside = {"hls_sim." + p.removesuffix(".py") for p in jit.COMPILED_SOURCES}
    for top in jit.COMPILED_SOURCES:
        path = jit.PACKAGE / top
        for f in [path] if path.is_file() else sorted(path.rglob("*.py")):
            if "from hls_sim.jit import" not in f.read_text():
                continue
            for node in ast.walk(ast.parse(f.read_text())):
                names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                         else [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0
                         else [])
                for n in names:
                    if n.startswith("hls_sim"):
                        assert any(n == i or n.startswith(i + ".") for i in inside), (f, n)
                if isinstance(node, ast.ImportFrom) and node.level > 1:
                    raise AssertionError(f"{f}: relative import beyond its package")


def test_commands_that_compile_nothing_do_not_import_numba():
    """``hls-sim type`` and ``--help`` start in a fraction of a second: no numba (issue 13)."""
    code = ("import sys; from click.testing import CliRunner; from hls_sim.cli import main; "
            "r = CliRunner().invoke(main, ['type', 'ap_fixed<8,3,AP_RND,AP_SAT>', '1.37', '-5']); "
            "assert r.exit_code == 0, r.output; assert '1.375' in r.output, r.output; "
            "print('numba' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert out.stdout.strip() == "False"


def test_processes_compiling_at_once_share_the_disk_cache_safely(tmp_path):
    """Four processes compile ten configurations each of one closure into one cache folder at
    the same time; afterwards every configuration loads its own code. Without the lock numba
    loses index entries and hands out another configuration's code (seen here: 7 of 40)."""
    (tmp_path / "confs.py").write_text(textwrap.dedent("""
        from hls_sim.jit import njit

        def make(k):
            K = k

            @njit
            def f(x):
                return x * K + 1
            return f
    """))
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache"),
           "PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPO)])}
    compile_ = "import sys, confs\nfor k in sys.argv[1:]: assert confs.make(int(k))(3) == 3 * int(k) + 1"
    procs = [subprocess.Popen([sys.executable, "-c", compile_, *map(str, range(j, 40, 4))], env=env)
             for j in range(4)]
    assert [p.wait(timeout=300) for p in procs] == [0] * 4
    check = ("import confs\n"
             "print(sum(confs.make(k)(3) != 3 * k + 1 for k in range(40)))")
    out = subprocess.run([sys.executable, "-c", check], env=env, capture_output=True, text=True,
                         check=True, timeout=300).stdout
    assert out.strip() == "0"
    index = next((tmp_path / "cache").rglob("*.nbi"))
    with open(index, "rb") as f:
        pickle.load(f)
        _, entries = pickle.loads(f.read())
    assert len(entries) == 40  # no configuration's entry was lost


def test_compiles_counts_what_numba_compiles_not_what_it_loads():
    """What a sweep's tasks report: a function compiled in the block counts, a call of one
    already compiled does not."""
    import random

    from hls_sim import jit

    def make(k: int):  # noqa: ANN202
        @jit.njit
        def f(x):  # noqa: ANN001, ANN202
            return x + k
        return f

    f = make(random.randrange(1 << 40))  # a closure constant no cache has seen
    with jit.compiles() as first:
        f(1)
    with jit.compiles() as again:
        f(2)
    assert (len(first), len(again)) == (1, 0)


# ---- per-configuration kernels: specialised or generic machine code ---------------------------
KERNEL_MODULE = '''
import sys
from hls_sim import jit

def build(scale, shift, clip):
    @jit.kernel(parallel=True)
    def scaled(x, out):
        for i in jit.prange(x.size):
            v = (x[i] * scale) >> shift
            out[i] = min(v, clip) if clip is not None else v
    return scaled
'''

RUN_KERNEL = '''
import sys
import numpy as np
sys.path.insert(0, sys.argv[1])
import kernels_under_test as m
from hls_sim import jit
if len(sys.argv) > 3:
    jit.TIER_UP_SECONDS = float(sys.argv[3])
x = np.arange(-50, 50, dtype=np.int64)
for scale, shift, clip in [(3, 1, None), (5, 2, 7), (7, 3, None)][:int(sys.argv[2])]:
    k = m.build(scale, shift, clip)
    seen = []
    for _ in range(3):
        out = np.empty_like(x)
        k(x, out)
        want = (x * scale) >> shift
        assert (out == (np.minimum(want, clip) if clip is not None else want)).all()
        seen.append(jit.last_variant())
    print(",".join(seen))
'''


def _kernel_process(tmp_path: Path, mode: str, configs: int, tier_up: float | None = None) -> list[str]:
    """Run RUN_KERNEL in a fresh process with its own numba cache: per configuration, the
    variants of three calls."""
    (tmp_path / "kernels_under_test.py").write_text(KERNEL_MODULE)
    env = {**os.environ, "HLS_SIM_KERNELS": mode, "NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    args = [sys.executable, "-c", RUN_KERNEL, str(tmp_path), str(configs)]
    out = subprocess.run(args + ([] if tier_up is None else [str(tier_up)]), env=env, cwd=REPO,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


def test_kernels_run_generic_until_specialised_code_exists(tmp_path):
    """auto: a configuration whose specialised machine code is not compiled runs the one
    generic build (the configuration as arguments, same results); once a process has compiled
    the specialised code into the disk cache, the next process loads and runs it."""
    assert _kernel_process(tmp_path, "auto", 2) == ["generic,generic,generic"] * 2
    assert _kernel_process(tmp_path, "specialised", 1) == ["specialised,specialised,specialised"]
    assert _kernel_process(tmp_path, "auto", 2) == ["specialised,specialised,specialised",
                                                    "generic,generic,generic"]
    assert _kernel_process(tmp_path, "generic", 1) == ["generic,generic,generic"]


def test_kernels_tier_up_once_generic_calls_have_cost_enough(tmp_path):
    """The first generic call (it compiles or loads the generic code) does not count; after
    TIER_UP_SECONDS of generic calls the configuration compiles its specialised code."""
    assert _kernel_process(tmp_path, "auto", 1, tier_up=1e-9) == ["generic,generic,specialised"]


def test_kernel_mode_is_checked(monkeypatch):
    from hls_sim import jit

    monkeypatch.setenv("HLS_SIM_KERNELS", "fast")
    with pytest.raises(ValueError, match="HLS_SIM_KERNELS='fast': one of auto, specialised, generic"):
        jit.kernel_mode()
    with jit.kernels("generic"):
        assert jit.kernel_mode() == "generic"
    with pytest.raises(ValueError, match="kernels: 'quick'"):
        with jit.kernels("quick"):
            pass
    out = subprocess.run([sys.executable, "-m", "hls_sim.cli", "--kernels", "quick", "type", "ap_int<4>", "1"],
                         capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 2 and "'quick' is not one of" in out.stderr


def test_a_kernel_captures_only_plain_constants():
    """A captured function or array would become a generic argument whose type differs per
    configuration (a generic build each): refused when the kernel is built."""
    from hls_sim import jit

    table = [1, 2]

    def build():
        @jit.kernel
        def k(x):
            return x + table[0]
        return k

    with pytest.raises(TypeError, match="captured table is a list; a kernel captures only numbers"):
        build()
