"""The accelerator's schedule: a layer on a whole map, run tile by tile as the hardware does.

A :class:`Schedule` is data: output tiles of ``tile_h x tile_w`` pixels (default the seed's
32x64), output channels in groups (default 16), and for each tile the window of the input it
reads, halo included: rows and columns of neighbouring tiles, and ``fill`` (0, or in_t's
smallest value for max_pool) beyond the image border. Every tile is one call of the layer's
own kernel on a fixed-size window buffer (the layer's parameters with the padding already in
the buffer: the kind's :class:`~hls_sim.kernels.kind.Reach`), whose output is cropped into
the map; edge tiles of a map that is not a multiple of the tile compute on fill and are
cropped. The generated C++ top (golden/csim of a network) loops over the same numbers.

    sched = plan_schedule(layer)           # the default: 32x64 tiles, 16 output channels
    top = run_tiled(layer, sched)          # == layer.run().top.raw, bit for bit (tests)

Per axis, tile t of T outputs starts at output ``t*T`` and reads the input window
``[t*step + offset, ... + window)``; the call's outputs ``[crop, crop + T)`` are the tile's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from hls_sim.kernels.kind import Geometry, Reach

DEFAULT_TILE = (32, 64)  # the seed's tile: [16][34][66] buffers with a one-pixel halo
DEFAULT_CHANNELS = 16


@dataclass(frozen=True)
class Axis:
    """One spatial axis of a schedule (all in pixels)."""

    out_len: int  # the layer's output length
    tile: int  # outputs per tile (T)
    step: int  # input pixels between the windows of consecutive tiles
    offset: int  # the first input pixel of tile 0's window (negative: the border)
    window: int  # input pixels per window (the call's input length)
    crop: int  # the call's first output that is the tile's

    @property
    def n_tiles(self) -> int:
        return -(-self.out_len // self.tile)

    def start(self, t: int) -> int:
        """The first input pixel of tile ``t``'s window."""
        return t * self.step + self.offset


def axis(reach: Reach, out_len: int, tile: int) -> Axis:
    """The tiling of one axis with ``tile`` outputs per tile (for an upsampling kind a
    multiple of its stride, so that every tile's window lines up alike)."""
    s, e, p = reach.s, reach.e, reach.p
    if not reach.up:  # output o reads o*S - P + j, 0 <= j < E
        return Axis(out_len, tile, tile * s, -p, (tile - 1) * s + e, 0)
    if tile % s:
        raise ValueError(f"{tile} is not a multiple of the stride {s} (an upsampling layer's "
                         "tiles must start on a whole input pixel)")
    offset = min(-((e - 1 - p) // s), p // s)  # ceil((P - (E - 1)) / S), and crop >= 0
    crop = p - offset * s
    # the inputs the tile reads; more when E < S, so that the call's (window-1)*S + E outputs
    # reach the tile's last one (outputs that read no input still come out of the call)
    window = max((tile - 1 + p) // s - offset + 1, -(-(crop + tile - e) // s) + 1)
    return Axis(out_len, tile, tile // s, offset, window, crop)


@dataclass(frozen=True)
class Schedule:
    """How a layer runs on the accelerator: its tiles, channel groups and the kernel call."""

    kind: str
    h: Axis
    w: Axis
    channels: int  # output channels per call
    out_channels: int
    call: Geometry  # the kernel's geometry for one tile (the window buffer in, the tile out)
    fill: int  # the raw in_t value beyond the image border
    in_slice: str  # how a channel group's inputs are chosen: depthwise, grouped, none
    groups_per_call: int = 1  # grouped: the convolution groups in one call

    @property
    def n_channel_groups(self) -> int:
        return self.out_channels // self.channels

    def group(self, g: int, in_channels: int, groups: int = 1) -> tuple[slice, slice]:
        """Channel group ``g``'s output channels and the input channels they read (a layer
        of ``in_channels`` inputs in ``groups`` convolution groups)."""
        co = slice(g * self.channels, (g + 1) * self.channels)
        if self.in_slice == "depthwise":
            return co, co
        if self.in_slice == "grouped" and groups > 1:
            n_in = self.groups_per_call * (in_channels // groups)
            return co, slice(g * n_in, (g + 1) * n_in)
        return co, slice(0, in_channels)

    @property
    def n_calls(self) -> int:
        return self.h.n_tiles * self.w.n_tiles * self.n_channel_groups

    def describe(self) -> str:
        """One line: tiles, the buffers of a call."""
        dims = lambda s: "".join(f"[{n}]" for n in s)  # noqa: E731
        calls = (f"{self.h.n_tiles}x{self.w.n_tiles} tiles of {self.h.tile}x{self.w.tile}"
                 + (f" x {self.n_channel_groups} channel groups of {self.channels}"
                    if self.n_channel_groups > 1 else ""))
        return (f"{calls}: {dims(self.call.shape('input'))} -> {dims(self.call.shape('top'))} "
                f"per call")


class ScheduleError(ValueError):
    """A tiling the layer cannot run with: ``field`` (tile, channels) and the reason."""

    def __init__(self, field: str, reason: str):
        self.field, self.reason = field, reason
        super().__init__(f"{field}: {reason}")


def plan_schedule(layer: Any, tile: tuple[int, int] | None = None,
                  channels: int | None = None) -> Schedule | None:
    """The schedule of ``layer`` (a :class:`hls_sim.layer.Layer` on a whole map), or None for
    a layer that runs as one call (linear, the seed kinds, avg_pool with border divisors).

    ``tile`` (output height, width) defaults to 32x64; it is cut to the map (and then, or when
    it is the default, rounded up to an upsampling kind's stride); ``channels`` (output
    channels per call) defaults to 16 where it divides the output channels and fits the kind's
    groups, else all of them.
    ScheduleError for a tile or channel group the layer cannot use."""
    kind, geom = layer.spec, layer.geometry
    reach = kind.reach(geom)
    if reach is None:
        return None
    co, ho, wo = geom.shape("top")
    tile = DEFAULT_TILE if tile is None else tile
    for t in tile:
        if isinstance(t, bool) or not isinstance(t, (int, np.integer)) or t < 1:
            raise ScheduleError("tile", f"expected [height, width], positive integers, got {list(tile)}")
    # at most the map; an upsampling kind's default rounded up to its stride
    cut = [min(int(t), n) for t, n in zip(tile, (ho, wo))]
    if reach.up:
        cut = [-(-c // reach.s) * reach.s if c < int(t) or tile is DEFAULT_TILE else c
               for c, t in zip(cut, tile)]
    try:
        h, w = (axis(reach, n, t) for n, t in zip((ho, wo), cut))
    except ValueError as e:
        raise ScheduleError("tile", str(e)) from None
    cg, in_ch, groups = _channel_group(reach, geom, channels)
    params = dict(geom.params)
    params.update(dict(reach.call))
    params.update(height=h.window, width=w.window)
    if "in_channels" in params:
        params["in_channels"] = in_ch
    if "out_channels" in params:
        params["out_channels"] = cg
    if "groups" in params:
        params["groups"] = groups
    try:
        call = kind.geometry(params)
    except ValueError as e:
        raise ScheduleError("tile", f"the tile's kernel call cannot be built: {e}") from None
    _, ch, cw = call.shape("top")
    assert ch >= h.crop + h.tile and cw >= w.crop + w.tile, (call, h, w)
    fill = layer.config.in_t.min_raw if reach.fill == "min" else 0
    cog = co // geom.get("groups", 1)
    return Schedule(kind.name, h, w, cg, co, call, fill, reach.channels,
                    max(1, cg // cog) if geom.get("groups", 1) > 1 else 1)


def _channel_group(reach: Reach, geom: Geometry, channels: int | None) -> tuple[int, int, int]:
    """(output channels per call, input channels per call, groups per call)."""
    co = geom.shape("top")[0]
    ci = geom.shape("input")[0]
    g = geom.get("groups", 1)
    cog, cig = co // g, ci // g

    def fits(n: int) -> str | None:
        if co % n:
            return f"{n} does not divide the {co} output channels"
        if reach.channels == "none" and n != co:
            return f"kind {geom.kind}'s output channels cannot be split (use {co})"
        if reach.channels == "grouped" and g > 1 and n % cog:
            return (f"{n} is not a multiple of the {cog} output channels of one of the "
                    f"{g} groups")
        return None

    if channels is None:
        channels = DEFAULT_CHANNELS if fits(DEFAULT_CHANNELS) is None else co
    elif isinstance(channels, bool) or not isinstance(channels, (int, np.integer)) or channels < 1:
        raise ScheduleError("channels", f"expected a positive integer, got {channels!r}")
    problem = fits(int(channels))
    if problem:
        raise ScheduleError("channels", problem)
    n = int(channels)
    if reach.channels == "grouped":
        return (n, ci, 1) if g == 1 else (n, (n // cog) * cig, n // cog)
    return n, (n if reach.channels == "depthwise" else ci), 1


def _window(x: np.ndarray, ax_h: Axis, ax_w: Axis, th: int, tw: int, fill: int) -> np.ndarray:
    """Tile (th, tw)'s input window of ``x`` [C][H][W], ``fill`` beyond the map."""
    c, hh, ww = x.shape
    buf = np.full((c, ax_h.window, ax_w.window), fill, dtype=x.dtype)
    h0, w0 = ax_h.start(th), ax_w.start(tw)
    a, b = max(h0, 0), min(h0 + ax_h.window, hh)
    cc, d = max(w0, 0), min(w0 + ax_w.window, ww)
    if a < b and cc < d:
        buf[:, a - h0:b - h0, cc - w0:d - w0] = x[:, a:b, cc:d]
    return buf


@dataclass(frozen=True)
class GroupTensors:
    """What one channel group's calls take: its slice of each tensor of the layer (None where
    the kind has no such tensor)."""

    co: slice
    input: np.ndarray
    input2: np.ndarray | None
    weight: np.ndarray | None
    bias: np.ndarray | None
    factor: np.ndarray | None


def group_tensors(layer: Any, sched: Schedule, g: int) -> GroupTensors:
    """Channel group ``g``'s inputs, weight (the kind's Reach slices its own layout), bias and
    factor (per channel: its channels'; else the one factor)."""
    geom = layer.geometry
    co, ci = sched.group(g, geom.shape("input")[0], geom.get("groups", 1))
    x2 = layer.input2
    if x2 is not None and sched.in_slice == "depthwise":
        x2 = x2[ci]
    weight = layer.spec.reach(geom).weight(layer.weight, co, ci) if layer.weight is not None else None
    factor = layer.factor
    if factor is not None and layer.config.per_channel_factor:
        factor = factor[co]
    return GroupTensors(co, layer.input[ci], x2, weight,
                        layer.bias[co] if layer.bias is not None else None, factor)


def run_tiled(layer: Any, sched: Schedule) -> np.ndarray:
    """The layer's output map computed tile by tile and channel group by channel group, as
    the accelerator does: raw integers of out_t, ``[C_OUT][H_OUT][W_OUT]``."""
    from hls_sim.kernels import common

    kind, geom = layer.spec, layer.geometry
    h, w = sched.h, sched.w
    out = np.zeros(geom.shape("top"), dtype=np.int64 if layer.config.out_t.fits_int64 else object)
    for g in range(sched.n_channel_groups):
        t = group_tensors(layer, sched, g)
        co, x, x2, weight, bias, factor = t.co, t.input, t.input2, t.weight, t.bias, t.factor
        for th in range(h.n_tiles):
            for tw in range(w.n_tiles):
                win = _window(x, h, w, th, tw, sched.fill)
                win2 = _window(x2, h, w, th, tw, 0) if x2 is not None else None
                res = common.run(kind, sched.call, layer.config, win, None, weight, bias, factor, win2,
                                 checked=True)  # slices of the layer's validated arrays
                o_h, o_w = th * h.tile, tw * w.tile
                nh, nw = min(h.tile, h.out_len - o_h), min(w.tile, w.out_len - o_w)
                out[co, o_h:o_h + nh, o_w:o_w + nw] = \
                    res.top.raw[:, h.crop:h.crop + nh, w.crop:w.crop + nw]
    return out


__all__ = ["Axis", "DEFAULT_TILE", "GroupTensors", "Schedule", "ScheduleError", "axis",
           "group_tensors", "plan_schedule", "run_tiled"]
