"""The example network (weights/encdec.yaml) on one 3x256x512 image: hls-sim's bit-accurate
run against two anchors, and its peak memory.

- hls-sim: ``run_network(net, reference=False)``, warm (kernels compiled and loaded), best of
  N: the whole public call and, separately, the sum of the kernel bodies; the difference is
  Python's share (validation, wrapping, the graph), target under 5% of the call.
- g++ -O2: the network's generated C++ top (hls_sim.netgolden: the accelerator's tile loops
  over the kernels of kernels/, real ap_types headers), timed inside its own process, best of
  R runs of the whole network on the same image; its output must equal hls-sim's bit for bit.
  Target: hls-sim at least 100x faster.
- float32: the same layers in float32 numpy/BLAS with no requantization (convolutions as one
  matrix product per tap, deconvolutions as a scatter of one product per tap, pools and merges
  in numpy): a lower bound of what any simulator of this network costs on this machine.
  Target: hls-sim within 5x of it.
- Memory: tracemalloc's peak during the hls-sim call against the largest sum of the feature
  maps alive at once (hls-sim holds maps as int64 raws); target at most 3x.
"""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import numpy as np

from benchmarks.common import BUILD, REPO, Row, best_of

NET = REPO / "weights" / "encdec.yaml"
SHAPE = (3, 256, 512)
QUICK_SHAPE = (3, 128, 256)  # the bundled image's: the kernels the tests compiled serve


def load(shape: tuple[int, int, int]):  # noqa: ANN201 - a Network
    """The example network with a generated input of ``shape`` (the weights do not depend on
    the map size)."""
    import yaml

    from hls_sim.network import parse_network

    data = yaml.safe_load(NET.read_text())
    data["input"] = {"generate": {"seed": 1}, "shape": list(shape)}
    return parse_network(data, str(NET), NET.parent)


# ---- the float32 lower bound ------------------------------------------------------------------
def _conv32(x: np.ndarray, w: np.ndarray, geom) -> np.ndarray:  # noqa: ANN001
    k, s, p, d, g = (geom[n] for n in ("kernel_size", "stride", "padding", "dilation", "groups"))
    co, ho, wo = geom.shape("top")
    ci = x.shape[0]
    xp = np.zeros((ci, x.shape[1] + 2 * p, x.shape[2] + 2 * p), dtype=np.float32)
    xp[:, p:p + x.shape[1], p:p + x.shape[2]] = x
    out = np.zeros((co, ho, wo), dtype=np.float32)
    cg, cog = ci // g, co // g
    for kh in range(k):
        for kw in range(k):
            xs = xp[:, kh * d:kh * d + s * (ho - 1) + 1:s, kw * d:kw * d + s * (wo - 1) + 1:s]
            if cg == 1 and cog == 1:  # depthwise: an elementwise product per tap
                out += w[:, 0, kh, kw, None, None] * xs
                continue
            for grp in range(g):
                out[grp * cog:(grp + 1) * cog] += (w[grp * cog:(grp + 1) * cog, :, kh, kw]
                                                   @ xs[grp * cg:(grp + 1) * cg].reshape(cg, -1)
                                                   ).reshape(cog, ho, wo)
    return out


def _deconv32(x: np.ndarray, w: np.ndarray, geom) -> np.ndarray:  # noqa: ANN001
    k, s, p, d = (geom[n] for n in ("kernel_size", "stride", "padding", "dilation"))
    assert geom["groups"] == 1
    co, ho, wo = geom.shape("top")
    ci, h, wd = x.shape
    full = np.zeros((co, (h - 1) * s + d * (k - 1) + 1 + s, (wd - 1) * s + d * (k - 1) + 1 + s),
                    dtype=np.float32)
    flat = x.reshape(ci, -1)
    for kh in range(k):
        for kw in range(k):
            y = (w[:, :, kh, kw].T @ flat).reshape(co, h, wd)
            full[:, kh * d:kh * d + (h - 1) * s + 1:s, kw * d:kw * d + (wd - 1) * s + 1:s] += y
    return full[:, p:p + ho, p:p + wo]


def float32_network(net) -> float:  # noqa: ANN001 - a Network
    """One run of the network's layers in float32, no requantization; seconds."""
    x = {"input": net.images[0].astype(np.float32)}
    w = {nl.name: nl.layer.weight.astype(np.float32) for nl in net.layers if nl.layer.weight is not None}
    start = time.perf_counter()
    for nl in net.layers:
        ly, geom = nl.layer, nl.layer.geometry
        a = x[nl.reads["input"]]
        reach = ly.spec.reach(geom)
        if ly.spec.conv is not None and reach is not None and reach.up:  # a deconvolution
            y = _deconv32(a, w[nl.name], geom)
        elif ly.spec.conv is not None:  # a convolution (linear: a 1x1 one on a 1x1 map)
            y = _conv32(a.reshape(geom.shape("input")), w[nl.name].reshape(ly.spec.conv.geometry(geom)
                                                                          .shape("weight")),
                        ly.spec.conv.geometry(geom))
        else:  # pools, upsample, merges: the registry's float model, in float32
            y = np.asarray(ly.spec.sums(geom, a, x.get(nl.reads.get("input2", ""))),
                           dtype=np.float32)
        if ly.spec.epilogue:
            y = y + ly.bias.astype(np.float32)[:, None, None]
            if geom["activation"] != "none":
                np.maximum(y, 0, out=y)
        x[nl.name] = y
    return time.perf_counter() - start


# ---- memory ---------------------------------------------------------------------------------------
def alive_bytes(net) -> int:  # noqa: ANN001 - a Network
    """The largest sum, over the layers, of the int64 maps alive while the layer runs (its
    inputs, its output and every map a later layer still reads)."""
    shapes, last = net.shapes(), net.last_use()
    order = ["input"] + [nl.name for nl in net.layers]
    most = 0
    for i in range(len(net.layers)):
        alive = [t for j, t in enumerate(order) if j <= i + 1 and last[t] >= i]
        most = max(most, sum(int(np.prod(shapes[t])) * 8 for t in alive))
    return most


def run(quick: bool = False) -> list[Row]:
    from hls_sim.network import run_network

    net = load(QUICK_SHAPE if quick else SHAPE)
    repeat = 3 if quick else 7
    run_network(net, reference=False)  # compile or load every kernel
    best, median, res = best_of(lambda: run_network(net, reference=False), repeat)
    kernels = min(sum(st.seconds for st in r.stats) for r in [res])
    python_share = (best - kernels) / best
    f32, _, _ = best_of(lambda: float32_network(net), repeat)
    tracemalloc.start()
    run_network(net, reference=False)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    maps = alive_bytes(net)
    size = "x".join(map(str, net.images.shape[1:]))
    extra = {"kernel_bodies_s": kernels, "python_share": python_share, "median_s": median,
             "peak_bytes": peak, "alive_maps_bytes": maps, "peak_over_maps": peak / maps}
    rows = [Row("network encdec float32", f"run_network {size}, whole call (kernel bodies {kernels * 1e3:.1f} "
                                  f"ms, Python {python_share:.1%}; peak memory {peak / 1e6:.0f} MB = "
                                  f"{peak / maps:.2f}x the maps alive at once)", best,
                "float32 numpy/BLAS", f32, check="float32 lower bound: ratio at least 1/5",
                target=0.2, extra=extra)]
    return _cpp_rows(net, best, quick) + rows


def _cpp_rows(net, best: float, quick: bool) -> list[Row]:  # noqa: ANN001
    """The g++ -O2 anchor: the network's golden set (hls_sim.netgolden: the generated top, the
    expected maps of every layer), its testbench built with -O2 and NTB_TIME_CALLS, run once:
    it times the top and then checks every layer's map bit for bit (PASS: identical)."""
    import hashlib
    import re
    import subprocess
    import tempfile

    from hls_sim.netgolden import write_network_golden
    from hls_sim.toolchain import DEFAULT_FLAGS, compile_cpp, find_ap_types

    calls = 1 if quick else 3
    with tempfile.TemporaryDirectory() as tmp:
        gdir = Path(tmp) / "golden"
        write_network_golden(net, gdir, count=1)
        h = hashlib.sha256(f"{DEFAULT_FLAGS}{calls}{find_ap_types()}".encode())
        for p in sorted([*gdir.glob("hls_sim_net*"), *(REPO / "kernels").glob("*.h"),
                         *(REPO / "testbench").glob("*.h"), REPO / "testbench" / "net_golden_tb.cpp"]):
            h.update(p.name.encode() + p.read_bytes())
        exe = BUILD / f"net_golden_tb-{h.hexdigest()[:16]}"
        if not exe.exists():
            BUILD.mkdir(parents=True, exist_ok=True)
            tmp_exe = exe.with_suffix(".tmp")
            compile_cpp([REPO / "testbench" / "net_golden_tb.cpp"], tmp_exe,
                        include_dirs=[gdir, REPO / "kernels", REPO / "testbench"],
                        defines=("HLS_SIM_NET_UNITY", f"NTB_TIME_CALLS={calls}"))
            tmp_exe.replace(exe)
        proc = subprocess.run([str(exe), str(gdir)], capture_output=True, text=True)
    found = re.search(r"best ([0-9.]+) s", proc.stdout)
    if found is None:
        raise RuntimeError(f"the network testbench did not time the top: {proc.stdout[-400:]}")
    size = "x".join(map(str, net.images.shape[1:]))
    return [Row("network encdec g++", f"run_network {size}, whole call, vs the generated C++ top",
                best, "g++ -O2 network top", float(found.group(1)), identical=proc.returncode == 0,
                check="every layer's map bit for bit (net_golden_tb PASS)", target=100.0,
                extra={"cpp_calls": calls, "testbench": proc.stdout.strip().splitlines()[-1]})]


__all__ = ["alive_bytes", "float32_network", "load", "run"]
