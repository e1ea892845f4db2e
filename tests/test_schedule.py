"""The accelerator's schedule (hls_sim.schedule): every kind run tile by tile, with halos from
the neighbouring tiles, fill at the image border and edge tiles of odd-sized maps, equals the
same layer run on its whole map, bit for bit; the tiling arithmetic against brute force."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

from hls_sim.kernels import KINDS
from hls_sim.kernels.kind import Reach
from hls_sim.layer import parse_layer
from hls_sim.schedule import ScheduleError, axis, plan_schedule, run_tiled

H, W = 23, 29  # odd, and no multiple of any tile below


def _layer(kernel: str, channels: int = 16, **params):  # noqa: ANN003, ANN202
    d = {"kernel": kernel, "in_channels": channels, "height": H, "width": W,
         "input": {"generate": {"seed": 1}}, **params}
    if KINDS[kernel].epilogue:
        d.update(factor=0.01, weight={"generate": {"seed": 2}}, bias={"generate": {"seed": 3}})
    return parse_layer(d, "<test>")


# (id, kind, layer parameters, tile or None for the default, output channels per call or None)
CASES = [
    ("conv3x3-dense-32ch", "conv2d", dict(out_channels=32, kernel_size=3, padding=1), (8, 12), 16),
    ("conv-depthwise-s2", "conv2d", dict(kernel_size=3, padding=1, stride=2, groups=16), (5, 6), None),
    ("conv-k5-d2-groups4", "conv2d", dict(out_channels=32, kernel_size=5, padding=3, stride=2,
                                          dilation=2, groups=4, accumulate="tap"), (4, 7), 16),
    ("conv1x1-exact", "conv2d", dict(out_channels=24, kernel_size=1, accumulate="exact",
                                     activation="none", types={"out_t": "ap_int<8>"}), (7, 9), 8),
    ("deconv-k2-s2", "conv_transpose", dict(kernel_size=2, stride=2), (10, 16), None),
    ("deconv-k3-s2-p1-op1", "conv_transpose", dict(out_channels=32, kernel_size=3, stride=2,
                                                   padding=1, output_padding=1), (10, 14), 16),
    ("deconv-k4-s3-d2-g16", "conv_transpose", dict(out_channels=32, kernel_size=4, stride=3, padding=2,
                                                   dilation=2, output_padding=1, groups=16), (9, 12), 16),
    ("upsample-nearest-halo", "upsample", dict(scale=2, halo=1), (10, 16), 8),
    ("upsample-zeros-x3", "upsample", dict(scale=3, mode="zeros"), (9, 12), None),
    ("maxpool-signed-p1", "max_pool", dict(kernel_size=3, stride=2, padding=1,
                                          types={"in_t": "ap_int<8>", "out_t": "ap_int<8>"}), (5, 6), None),
    ("avgpool-k3-p1", "avg_pool", dict(kernel_size=3, stride=2, padding=1), (5, 4), None),
    ("add-relu", "add", dict(input2={"generate": {"seed": 4}}, relu=True,
                             types={"in_t": "ap_int<8>", "in2_t": "ap_fixed<8,4>",
                                    "out_t": "ap_fixed<10,7>"}), (6, 8), 8),
    ("concat", "concat", dict(input2={"generate": {"seed": 5}}, in2_channels=8), (6, 8), None),
]


@pytest.mark.parametrize("kernel,params,tile,channels", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_tiled_equals_whole_map(kernel: str, params: dict, tile, channels) -> None:  # noqa: ANN001
    ly = _layer(kernel, **params)
    sched = plan_schedule(ly, tile, channels)
    assert sched is not None
    assert sched.h.n_tiles > 1 and sched.w.n_tiles > 1  # halos cross tile edges
    assert sched.h.out_len % sched.h.tile or sched.w.out_len % sched.w.tile  # an edge tile
    whole = ly.run().top.raw
    tiled = run_tiled(ly, sched)
    np.testing.assert_array_equal(tiled, whole)
    if kernel == "max_pool":  # the border must read as in_t's minimum, not 0
        assert sched.fill == ly.config.in_t.min_raw
        zero_fill = run_tiled(ly, dataclasses.replace(sched, fill=0))
        assert not np.array_equal(zero_fill, whole)


def test_every_map_kind_has_a_tiling_case() -> None:
    tiled_kinds = {k for k, kind in KINDS.items() if not kind.seed and kind.name != "linear"}
    assert tiled_kinds == {c[1] for c in CASES}


def test_untiled_layers() -> None:
    lin = parse_layer({"kernel": "linear", "in_features": 20, "out_features": 4, "factor": 0.1,
                       "input": {"generate": {"seed": 1}}, "weight": {"generate": {"seed": 2}},
                       "bias": {"generate": {"seed": 3}}}, "<t>")
    assert plan_schedule(lin) is None
    excl = _layer("avg_pool", kernel_size=3, padding=1, count_include_pad=False)
    assert plan_schedule(excl) is None  # a border window divides by its taps inside the map
    incl = _layer("avg_pool", kernel_size=3, padding=1)
    assert plan_schedule(incl) is not None


def test_defaults() -> None:
    s = plan_schedule(_layer("conv2d", channels=3, out_channels=48, kernel_size=3, padding=1))
    assert (s.h.tile, s.w.tile) == (H, W)  # a map smaller than 32x64 is one tile
    assert s.channels == 16 and s.n_channel_groups == 3
    assert s.call.shape("input") == (3, H + 2, W + 2)  # the seed's one-pixel halo
    s = plan_schedule(_layer("conv2d", channels=3, out_channels=20, kernel_size=1))
    assert s.channels == 20  # 16 does not divide 20: all channels in one call
    s = plan_schedule(_layer("conv_transpose", kernel_size=3, stride=3))
    assert (s.h.tile % 3, s.w.tile % 3) == (0, 0)  # rounded up to the stride
    s = plan_schedule(_layer("conv2d", kernel_size=3), (40, 4))
    assert (s.h.tile, s.w.tile) == (H - 2, 4)  # cut to the map


@pytest.mark.parametrize("kernel,params,tile,channels,field,match", [
    ("conv_transpose", dict(kernel_size=2, stride=2), (7, 8), None, "tile", "not a multiple of the stride 2"),
    ("conv2d", dict(out_channels=32, kernel_size=3), (4, 4), 12, "channels", "12 does not divide"),
    ("conv2d", dict(out_channels=32, kernel_size=3, groups=4), (4, 4), 4, "channels", "multiple of the 8"),
    ("concat", dict(input2={"generate": {"seed": 5}}, in2_channels=8), (4, 4), 8, "channels", "cannot be split"),
])
def test_schedule_errors(kernel, params, tile, channels, field, match) -> None:  # noqa: ANN001
    with pytest.raises(ScheduleError, match=match) as e:
        plan_schedule(_layer(kernel, **params), tile, channels)
    assert e.value.field == field


def _reads(reach: Reach, o: int) -> set[int]:
    """The input pixels output o reads, straight from the Reach definition."""
    if not reach.up:
        return {o * reach.s - reach.p + j for j in range(reach.e)}
    return {i for i in range(-50, 200) for j in range(reach.e) if o == i * reach.s - reach.p + j}


@pytest.mark.parametrize("up,s,e,p", [(u, s, e, p) for u, s, e, p in
                                      itertools.product((False, True), (1, 2, 3, 4), (1, 2, 3, 5, 7),
                                                        (-1, 0, 1, 2, 3)) if p < e])
def test_axis_windows_cover_what_each_output_reads(up: bool, s: int, e: int, p: int) -> None:
    """For every tile size: each output of a tile reads only inputs inside the tile's window,
    and a call on the window (padding 0) puts it at the crop offset."""
    reach, call = Reach(up, s, e, p, ()), Reach(up, s, e, 0, ())
    for tile in range(s, 3 * s + 4):
        if up and tile % s:
            continue
        ax = axis(reach, 40, tile)
        call_len = (ax.window - 1) * s + e if up else (ax.window - e) // s + 1
        for t in range(3):
            lo = ax.start(t)
            for o in range(t * tile, (t + 1) * tile):
                reads = _reads(reach, o)
                assert all(lo <= i < lo + ax.window for i in reads), (ax, t, o)
                u = o - t * tile + ax.crop  # the call's output for o, on the window
                assert 0 <= u < call_len, (ax, t, o)
                assert {lo + i for i in _reads(call, u)} == reads, (ax, t, o)


@pytest.mark.parametrize("kernel,params", [c[1:3] for c in CASES], ids=[c[0] for c in CASES])
def test_every_map_kind_writes_all_of_its_output(kernel: str, params: dict, monkeypatch) -> None:
    """The twins get an uncleared output buffer (their written region is the whole map): a
    sentinel in it must not survive."""
    from hls_sim.kernels import common

    sentinel, made = -(1 << 62), []

    def uncleared(shape):  # noqa: ANN001, ANN202
        made.append(shape)
        return np.full(shape, sentinel, dtype=np.int64)

    monkeypatch.setattr(common, "_uncleared", uncleared)
    ly = _layer(kernel, **params)
    out = ly.run().top.raw
    assert made == [ly.geometry.shape("top")] and not np.any(out == sentinel)
