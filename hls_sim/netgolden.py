"""Golden sets of whole networks, with the network's top in C++.

The library behind ``hls-sim golden NET.yaml`` (and ``hls-sim csim NET.yaml``)::

    from hls_sim.network import load_network
    from hls_sim.netgolden import write_network_golden
    gs = write_network_golden(load_network("net.yaml"), "golden/")

A network's golden set is one folder (docs/golden.md, "Network golden sets"):

- ``hls_sim_net.h``: one traits struct per layer, ``hls_sim_net::l<i>_<name>``, generated from
  the geometry of the layer's kernel call (a tile's, from its :class:`~hls_sim.schedule.Schedule`;
  the whole map's for a layer that runs as one call) exactly as a layer's golden set
  generates ``hls_sim_layer`` (the registry's ``Kind.types``, ``extra_types`` and ``traits``),
  and the declaration of the network top ``hls_sim_net_top``;
- ``hls_sim_net_top.cpp``: the top. Its arguments are the network's input map, every layer's
  output map (the DRAM buffers of an accelerator) and every layer's weights, biases and
  factors, one set per channel group. Per layer it loops over channel groups and tiles:
  gathers the tile's input window (fill beyond the border) into a fixed-size buffer, calls the
  kind's template of ``kernels/`` with the layer's traits struct and scatters the call's
  cropped outputs into the layer's map, as :func:`hls_sim.schedule.run_tiled` does;
- ``hls_sim_net_tb.h``: what ``testbench/net_golden_tb.cpp`` is built with (the configuration
  id, the tensor tables, one call of the top);
- per image K of the network's input (the vectors): ``input_K``, every layer's expected
  output ``l<i>_<name>_out_K`` and the network's output ``output_K``; once: every layer's
  ``l<i>_<name>_weight``, ``_bias``, ``_factor`` stacked per channel group ``[G][...]``, in the
  call's own layout (the kind-specific slicing is done here, not in C++);
- ``hls_sim_golden.txt`` (the index the testbench reads) and ``manifest.json``.

Everything in the C++ comes from the parsed, validated network: types re-spelled from parsed
formats, numbers formatted here, identifiers made from the layer's index and its validated
name (``-`` and ``.`` become ``_``) and checked, layer names only where they match the name
rule; nothing of the file's text (its description, its paths) is written into C++.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import os
import re
from pathlib import Path
from typing import Any, Callable

import numpy as np

import hls_sim
from hls_sim import golden as _golden
from hls_sim.golden import (ENCODINGS, FORMAT_NAME, FORMAT_VERSION, INDEX, MANIFEST, MAX_COUNT,
                            GoldenError, GoldenSet, Verification, _Checks, _config_info,
                            _dump_json, _format_info, _get, _ident, _sha, cpp_type, element_bytes,
                            encode_bin, encode_dat, traits_struct)
from hls_sim.kernels import Geometry, KernelConfig, Kind
from hls_sim.network import INPUT_NAME, NetLayer, Network, NetworkRun, run_network
from hls_sim.schedule import GroupTensors, Schedule, group_tensors
from hls_sim.types import Format

SET = "network"  # manifest.json's "set" of a network's golden set
NET_HEADER = "hls_sim_net.h"  # the traits structs and the top's declaration (the design header)
NET_SOURCE = "hls_sim_net_top.cpp"  # the top (the design source)
NET_TB_HEADER = "hls_sim_net_tb.h"  # the testbench's tables
GENERATED = (NET_TB_HEADER, NET_HEADER, NET_SOURCE)
NET_TOP = "hls_sim_net_top"
NAMESPACE = "hls_sim_net"
PARAMS = ("weight", "bias", "factor")  # a layer's fixed tensors, in the kernels' order

_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,63}")  # hls_sim.layer's name rule
_LITERAL = re.compile(r'"[A-Za-z0-9_.\-]*"')  # the only string literals generated C++ holds
_PRINTABLE = re.compile(r"[ -~]*")


# ---- the plan: what the top does per layer ------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class LayerPlan:
    """One layer of the top: its kernel call (a tile's, or the whole map's) and its maps."""

    index: int
    net_layer: NetLayer
    ident: str  # l<i>_<name>: the traits struct, the top's arguments and the files' stems
    call: Geometry  # the geometry of one kernel call: the traits struct's
    groups: int  # channel groups (kernel calls per tile)
    in_step: int  # the first input channel of group g is g * in_step (0: all channels)
    in2_step: int  # the same for the second input

    @property
    def name(self) -> str:
        return self.net_layer.name

    @property
    def layer(self) -> Any:
        return self.net_layer.layer

    @property
    def kind(self) -> Kind:
        return self.net_layer.layer.spec

    @property
    def config(self) -> KernelConfig:
        return self.net_layer.layer.config

    @property
    def schedule(self) -> Schedule | None:
        return self.net_layer.schedule

    @property
    def out(self) -> str:
        """The top's argument (and the files' stem) of the layer's output map."""
        return f"{self.ident}_out"

    @property
    def traits(self) -> str:
        return f"{NAMESPACE}::{self.ident}"

    @property
    def params(self) -> list[str]:
        return [r for r in PARAMS if self.kind.has(r)]

    def param_shape(self, role: str) -> tuple[int, ...]:
        """The C++ shape of one channel group's ``role`` tensor."""
        if role == "factor":
            return (self.call.out_channels if self.config.per_channel_factor else 1,)
        return tuple(self.kind.cpp_shape(role, self.call.shape(role)))


def ident_of(index: int, name: str) -> str:
    """A layer's C++ identifier: ``l<index>_`` and its name with ``-`` and ``.`` as ``_``
    (unique: the index comes first)."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise GoldenError(f"layer name {name!r} does not follow the name rule; refusing to "
                          "write it into C++")
    return _ident(f"l{int(index)}_" + re.sub(r"[^A-Za-z0-9_]", "_", name))


def plan(net: Network) -> list[LayerPlan]:
    """Every layer's plan, checked against its schedule (the channels a group reads)."""
    out = []
    for i, nl in enumerate(net.layers):
        ly, s = nl.layer, nl.schedule
        geom = ly.geometry
        ident = ident_of(i, nl.name)
        if s is None:
            out.append(LayerPlan(i, nl, ident, geom, 1, 0, 0))
            continue
        ci_all = geom.shape("input")[0]
        in_step = s.group(1, ci_all, geom.get("groups", 1))[1].start  # group g's: g * in_step
        in2_step = in_step if s.in_slice == "depthwise" else 0
        lp = LayerPlan(i, nl, ident, s.call, s.n_channel_groups, in_step, in2_step)
        want = in_step or ci_all
        if s.call.shape("input")[0] != want:
            raise GoldenError(f"layer {nl.name}: a call reads {s.call.shape('input')[0]} input "
                              f"channels, but its channel groups give {want}")
        if lp.kind.has("input2"):
            want2 = in2_step or geom.shape("input2")[0]
            if s.call.shape("input2")[0] != want2:
                raise GoldenError(f"layer {nl.name}: a call reads {s.call.shape('input2')[0]} "
                                  f"channels of its second input, but its groups give {want2}")
        for role, step in (("input", in_step), ("input2", in2_step)):
            if lp.kind.has(role) and step * (lp.groups - 1) + s.call.shape(role)[0] > geom.shape(role)[0]:
                raise GoldenError(f"layer {nl.name}: its channel groups read beyond the "
                                  f"{geom.shape(role)[0]} channels of its {role}")
        if s.call.shape("top")[0] * s.n_channel_groups != geom.shape("top")[0]:
            raise GoldenError(f"layer {nl.name}: {s.n_channel_groups} calls of "
                              f"{s.call.shape('top')[0]} channels do not make its output")
        if s.fill not in (0, ly.config.in_t.min_raw):
            raise GoldenError(f"layer {nl.name}: fill {s.fill} is neither 0 nor in_t's minimum")
        out.append(lp)
    return out


def group_params(lp: LayerPlan) -> dict[str, np.ndarray]:
    """A layer's weight, bias and factor per channel group, stacked: ``[G][...]`` in the
    call's own layout (the kind's Reach.weight slicing; per-channel factors by output channel)."""
    ly, s = lp.layer, lp.schedule
    per: dict[str, list] = {r: [] for r in lp.params}
    for g in range(lp.groups):
        t = (group_tensors(ly, s, g) if s is not None else
             GroupTensors(slice(None), ly.input, ly.input2, ly.weight, ly.bias, ly.factor))
        for role in lp.params:
            a = np.asarray(getattr(t, role))
            if role == "factor":
                a = a.reshape(-1)  # one factor: [1]
            a = a.reshape(lp.kind.cpp_shape(role, a.shape)) if role == "weight" else a
            if tuple(a.shape) != lp.param_shape(role):
                raise GoldenError(f"layer {lp.name}: a channel group's {role} has shape "
                                  f"{list(a.shape)}, but its call takes {list(lp.param_shape(role))}")
            per[role].append(a)
    return {r: np.stack(v) for r, v in per.items()}


# ---- the generated C++ ----------------------------------------------------------------------------
def _dims(shape: tuple[int, ...] | list[int]) -> str:
    return "".join(f"[{int(n)}]" for n in shape)


def _maps(net: Network, plans: list[LayerPlan]) -> dict[str, tuple[str, str, tuple[int, ...]]]:
    """Every map: tensor name -> (the top's argument, its element type, its shape)."""
    shapes = net.shapes()
    out = {INPUT_NAME: ("input", f"{NAMESPACE}::input_t", tuple(shapes[INPUT_NAME]))}
    for lp in plans:
        out[lp.name] = (lp.out, f"{lp.traits}::out_t", tuple(shapes[lp.name]))
    return out


def _arguments(net: Network, plans: list[LayerPlan]) -> list[tuple[str, str, tuple[int, ...]]]:
    """The top's parameters: (C++ name, element type, shape): the input, every layer's output
    map, then every layer's weight, bias and factor per channel group."""
    maps = _maps(net, plans)
    args = [maps[INPUT_NAME]] + [maps[lp.name] for lp in plans]
    for lp in plans:
        for role in lp.params:
            t = _ident(lp.kind.tensor(role).type_name)
            args.append((f"{lp.ident}_{role}", f"{lp.traits}::{t}",
                         (lp.groups,) + lp.param_shape(role)))
    return [(_ident(n), t, tuple(int(k) for k in sh)) for n, t, sh in args]


def signature(net: Network, plans: list[LayerPlan], one_line: bool = False) -> str:
    """``void hls_sim_net_top(...)``."""
    params = [f"{t} {n}{_dims(sh)}" for n, t, sh in _arguments(net, plans)]
    head = f"void {NET_TOP}("
    sep = ", " if one_line else ",\n" + " " * len(head)
    return head + sep.join(params) + ")"


def _describe_layer(lp: LayerPlan) -> str:
    s = lp.schedule
    reads = ", ".join(lp.net_layer.reads.values())
    what = (s.describe() if s is not None else
            f"one call on the whole map: {_dims(lp.call.shape('input'))} -> "
            f"{_dims(lp.call.shape('top'))}")
    return f"layer {lp.index} {lp.name}: {lp.kind.name}, reads {reads}; {what}"


def _affine(var: str, mul: int, add: int) -> str:
    """``var * mul + add`` as C++ (``0`` for ``mul`` 0)."""
    if mul == 0:
        return str(int(add))
    text = f"{var} * {int(mul)}"
    return text if add == 0 else f"{text} {'+' if add > 0 else '-'} {abs(int(add))}"


def _header(net: Network, plans: list[LayerPlan]) -> str:
    headers = sorted({lp.kind.cpp_header for lp in plans})
    for h in headers:
        if not _golden._FILE.fullmatch(h):
            raise GoldenError(f"bad kernel header name {h!r}")
    lines = ["// Generated by hls-sim golden: the network top's declaration and one traits struct",
             "// per layer, the types and sizes of one call of its kernel (a tile of the layer, or",
             "// its whole map when it runs as one call). Include it in the design source, with",
             "// kernels/ on the include path.",
             "#ifndef HLS_SIM_NET_H",
             "#define HLS_SIM_NET_H",
             '#include "hls_layer.h"',
             '#include "hls_net.h"']
    lines += [f'#include "{h}"' for h in headers]
    lines += ["", f"namespace {NAMESPACE} {{", "",
              f"typedef {cpp_type(net.input_type)} input_t;  // the network's input"]
    for lp in plans:
        lines += ["", f"// {_describe_layer(lp)}"]
        lines += traits_struct(lp.ident, lp.kind, lp.call, lp.config)
    lines += ["", f"}}  // namespace {NAMESPACE}", "",
              "// The network top: the input map, every layer's output map, every layer's weights,",
              "// biases and factors per channel group ([G][...]).",
              signature(net, plans) + ";", "", "#endif  // HLS_SIM_NET_H", ""]
    return "\n".join(lines)


def _layer_body(lp: LayerPlan, maps: dict) -> list[str]:
    """The top's code for one layer."""
    kind, s, i = lp.kind, lp.schedule, lp.index
    fn = _ident(kind.cpp_function)
    src = {role: maps[t] for role, t in lp.net_layer.reads.items()}
    out_map = maps[lp.name]
    lines = [f"    // {_describe_layer(lp)}"]
    if s is None:  # one call on the whole maps
        args = []
        for t in kind.tensors:
            if t.role in ("input", "input2", "top"):
                name, _, shape = out_map if t.role == "top" else src[t.role]
                call_shape = kind.cpp_shape(t.role, lp.call.shape(t.role))
                if math.prod(shape) != math.prod(call_shape):
                    raise GoldenError(f"layer {lp.name}: its {t.role} map {_dims(shape)} does not "
                                      f"hold the call's {_dims(call_shape)}")
                if len(call_shape) == 3:
                    if tuple(call_shape) != tuple(shape):
                        raise GoldenError(f"layer {lp.name}: its {t.role} map {_dims(shape)} is "
                                          f"not the call's {_dims(call_shape)}")
                    args.append(name)
                else:  # a vector kind: the map's elements, in C order
                    args.append(f"&{name}[0][0][0]")
            else:
                args.append(f"{lp.ident}_{t.role}[0]")
        return lines + [f"    {fn}<{lp.traits}>({', '.join(args)});", ""]

    h, w = s.h, s.w
    p = f"l{i}"
    win_shape = lp.call.shape("input")
    fill = "hls_sim_lowest<T::in_t>()" if s.fill != 0 else "T::in_t(0)"
    lines += ["    {",
              f"        typedef {lp.traits} T;",
              f"        static T::in_t {p}_win{_dims(win_shape)};  // a tile's input window"]
    if kind.has("input2"):
        lines.append(f"        static T::in2_t {p}_win2{_dims(lp.call.shape('input2'))};")
    lines += [f"        static T::out_t {p}_res{_dims(lp.call.shape('top'))};  // a call's output",
              f"    L{i}_GROUP:",
              f"        for (int g = 0; g < {lp.groups}; g++) {{",
              f"        L{i}_ROW:",
              f"            for (int th = 0; th < {h.n_tiles}; th++) {{",
              f"            L{i}_COL:",
              f"                for (int tw = 0; tw < {w.n_tiles}; tw++) {{"]
    ind = " " * 20
    rows, cols = _affine("th", h.step, h.offset), _affine("tw", w.step, w.offset)
    lines.append(f"{ind}hls_sim_gather<{src['input'][2][0]}, {win_shape[0]}>({src['input'][0]}, "
                 f"{p}_win, {_affine('g', lp.in_step, 0)}, {rows}, {cols}, {fill});")
    if kind.has("input2"):
        lines.append(f"{ind}hls_sim_gather<{src['input2'][2][0]}, {lp.call.shape('input2')[0]}>("
                     f"{src['input2'][0]}, {p}_win2, {_affine('g', lp.in2_step, 0)}, {rows}, "
                     f"{cols}, T::in2_t(0));")
    args = {"input": f"{p}_win", "input2": f"{p}_win2", "top": f"{p}_res"}
    call = ", ".join(args.get(t.role, f"{lp.ident}_{t.role}[g]") for t in kind.tensors)
    lines.append(f"{ind}{fn}<T>({call});")
    lines.append(f"{ind}hls_sim_scatter<{h.tile}, {w.tile}, {h.crop}, {w.crop}, "
                 f"{lp.call.shape('top')[0]}, {out_map[2][0]}>({p}_res, "
                 f"{out_map[0]}, {_affine('g', s.channels, 0)}, {_affine('th', h.tile, 0)}, "
                 f"{_affine('tw', w.tile, 0)});")
    lines += ["                }", "            }", "        }", "    }", ""]
    return lines


def _source(net: Network, plans: list[LayerPlan]) -> str:
    maps = _maps(net, plans)
    lines = ["// Generated by hls-sim golden: the network top. Per layer, per channel group and tile:",
             "// the tile's input window gathered from the layer's input map (fill beyond the",
             "// border), one call of the kind's template of kernels/ with the layer's traits",
             f"// struct ({NET_HEADER}), the call's outputs that are the tile's scattered into the",
             "// layer's output map. Add this file as the design source, with this folder and",
             f"// kernels/ on the include path; the top function is {NET_TOP}.",
             f'#include "{NET_HEADER}"',
             "",
             signature(net, plans) + " {"]
    for lp in plans:
        lines += _layer_body(lp, maps)
    lines[-1:] = ["}", ""]
    return "\n".join(lines)


def net_config_id(header: str, source: str) -> str:
    """A short id of the generated top (its header and source): the testbench refuses a set
    written for another network or configuration than the one it was compiled with."""
    return hashlib.sha256(f"{SET}\n{header}\n{source}".encode()).hexdigest()[:16]


def _tb_header(net: Network, plans: list[LayerPlan], cid: str) -> str:
    if not re.fullmatch(r"[0-9a-f]{16}", cid):
        raise GoldenError(f"bad configuration id {cid!r}")
    args = _arguments(net, plans)
    maps = _maps(net, plans)
    fixed = args[1 + len(plans):]
    in_name, in_t, in_shape = maps[INPUT_NAME]

    def map_entry(lp: LayerPlan) -> str:
        name, t, (c, h, w) = maps[lp.name]
        return (f"X({name}, {t}, {int(c)}, {int(h)}, {int(w)}, \"{lp.name}\", "
                f"\"{_ident(lp.kind.name)}\")")

    out_lp = next(lp for lp in plans if lp.name == net.output)
    call = []
    for n, t, sh in args:
        call.append(f"reinterpret_cast<{t} (*){_dims(sh[1:])}>(ntb_{n})" if len(sh) > 1 else f"ntb_{n}")
    name = net.name or ""
    if not (name == "" or _NAME.fullmatch(name)):
        raise GoldenError(f"network name {name!r} does not follow the name rule")
    return "\n".join([
        "// Generated by hls-sim golden: what testbench/net_golden_tb.cpp is built with for this",
        "// network: the configuration id, the tensors and one call of the top.",
        "#ifndef HLS_SIM_NET_TB_H",
        "#define HLS_SIM_NET_TB_H",
        f'#include "{NET_HEADER}"',
        f'#define HLS_SIM_NET_NAME "{name}"',
        f'#define HLS_SIM_NET_FUNCTION "{NET_TOP}"',
        f'#define HLS_SIM_NET_CONFIG_ID "{cid}"',
        f"#define HLS_SIM_NET_LAYERS {len(plans)}",
        f"#define NTB_INPUT_TYPE {in_t}",
        f"#define NTB_INPUT_ELEMENTS {math.prod(in_shape)}",
        "// the tensors read once: X(name, element type, elements)",
        "#define NTB_FIXED(X) " + " ".join(f"X({n}, {t}, {math.prod(sh)})" for n, t, sh in fixed),
        "// every layer's output map: X(name, element type, channels, height, width, layer, kind)",
        "#define NTB_MAPS(X) " + " ".join(map_entry(lp) for lp in plans),
        "// the network's output: the map of its output layer",
        f"#define NTB_OUTPUT_MAP(X) {map_entry(out_lp)}",
        "// one call of the top on the testbench's flat buffers",
        f"#define NTB_CALL() {NET_TOP}({', '.join(call)})",
        "#endif  // HLS_SIM_NET_TB_H",
        ""])


def _check_cpp(name: str, text: str) -> None:
    """Generated C++ holds printable ASCII only, no backslash, block comment or trigraph, and
    no string literal beyond names and numbers."""
    for n, line in enumerate(text.split("\n"), 1):
        bad = (not _PRINTABLE.fullmatch(line) or "\\" in line or "/*" in line or "*/" in line
               or "??" in line or line.count('"') % 2
               or any(not _LITERAL.fullmatch(s) for s in re.findall(r'"[^"]*"', line)))
        if bad:
            raise GoldenError(f"{name} line {n} {line[:80]!r} is not of a generated form")


def generated_files(net: Network, plans: list[LayerPlan] | None = None) -> dict[str, bytes]:
    """The three generated C++ files of a network's set (they depend only on the network's
    structure, types and schedules): what testbench/net_golden_tb.cpp is compiled with."""
    plans = plan(net) if plans is None else plans
    header, source = _header(net, plans), _source(net, plans)
    cid = net_config_id(header, source)
    files = {NET_TB_HEADER: _tb_header(net, plans, cid), NET_HEADER: header, NET_SOURCE: source}
    for n, text in files.items():
        _check_cpp(n, text)
    return {n: text.encode("ascii") for n, text in files.items()}


# ---- writing a set ---------------------------------------------------------------------------------
def _check_count(net: Network, count: Any) -> int:
    n = int(net.images.shape[0])
    if count is None:
        if n > MAX_COUNT:
            raise GoldenError(f"the network's input holds {n} images; a golden set holds at most "
                              f"{MAX_COUNT} (pass --count N for the first N)")
        return n
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_COUNT:
        raise GoldenError(f"count must be an integer from 1 to {MAX_COUNT}, got {count!r}")
    if count > n:
        raise GoldenError(f"count {count}: the network's input holds {n} image(s); a network's "
                          "vectors are its images")
    return count


def _expected(net: Network, progress: Callable[[int, int, str], None] | None = None) -> NetworkRun:
    """Every layer's output on every image (the whole-map runs of hls_sim.network; the
    layers' reference checks skipped: a golden set needs the outputs only)."""
    return run_network(net, keep_all=True, progress=progress, reference=False)


def _tensor_entry(name: str, role: str, vector: int | None, argument: str, direction: str,
                  typedef: str, fmt: Format, shape: list[int], encoding: str, dat: bytes,
                  binary: bytes, layer: str | None) -> dict:
    return {"role": role, "vector": vector, "argument": argument, "direction": direction,
            "typedef": typedef, "c_type": cpp_type(fmt), "format": _format_info(fmt),
            "shape": shape, "elements": int(math.prod(shape)), "layout": "C", "layer": layer,
            "files": {"dat": {"file": f"{name}.dat", "encoding": encoding, "sha256": _sha(dat)},
                      "bin": {"file": f"{name}.bin", "byte_order": "little",
                              "element_bytes": element_bytes(fmt), "sha256": _sha(binary)}}}


def _axis_info(ax: Any) -> dict:
    return {"out_len": ax.out_len, "tile": ax.tile, "tiles": ax.n_tiles, "step": ax.step,
            "offset": ax.offset, "window": ax.window, "crop": ax.crop}


def _layer_info(lp: LayerPlan) -> dict:
    s = lp.schedule
    ly = lp.layer
    return {
        "index": lp.index, "name": lp.name, "ident": lp.ident, "kind": lp.kind.name,
        "template": lp.kind.cpp_function, "source": f"kernels/{lp.kind.cpp_header}",
        "traits": lp.traits, "reads": dict(lp.net_layer.reads),
        "params": dict(ly.geometry.values), "call": dict(lp.call.values),
        "call_shapes": {r: list(sh) for r, sh in lp.call.shapes},
        "config": _config_info(lp.config),
        "sources": {k: v for k, v in sorted(ly.sources.items()) if k not in ("input", "input2")},
        "schedule": None if s is None else {
            "h": _axis_info(s.h), "w": _axis_info(s.w), "channels": s.channels,
            "channel_groups": s.n_channel_groups, "fill": s.fill, "in_slice": s.in_slice,
            "groups_per_call": s.groups_per_call, "in_step": lp.in_step, "in2_step": lp.in2_step,
            "calls": s.n_calls},
        "output": lp.out,
        "tensors": [f"{lp.ident}_{r}" for r in lp.params],
    }


def _fill(net: Network, plans: list[LayerPlan], run: NetworkRun, d: Path, count: int,
          encoding: str) -> dict:
    """Write the whole set into the (empty, private) folder ``d``; return the manifest."""
    write = _golden._write  # looked up at call time (the tests interrupt it)
    generated = generated_files(net, plans)
    for name, data in generated.items():
        write(d / name, data)
    header, source = (generated[n].decode("ascii") for n in (NET_HEADER, NET_SOURCE))
    cid = net_config_id(header, source)
    tensors: dict[str, dict] = {}

    def put(name: str, role: str, vector: int | None, argument: str, direction: str,
            typedef: str, fmt: Format, raw: np.ndarray, layer: str | None) -> None:
        dat, binary = encode_dat(fmt, raw, encoding), encode_bin(fmt, raw)
        write(d / f"{name}.dat", dat)
        write(d / f"{name}.bin", binary)
        tensors[name] = _tensor_entry(name, role, vector, argument, direction, typedef, fmt,
                                      [int(n) for n in np.shape(raw)], encoding, dat, binary, layer)

    for lp in plans:
        for role, arr in group_params(lp).items():
            t = lp.kind.tensor(role).type_name
            put(f"{lp.ident}_{role}", role, None, f"{lp.ident}_{role}", "in", f"{lp.traits}::{t}",
                getattr(lp.config, t), arr, lp.name)
    out_lp = next(lp for lp in plans if lp.name == net.output)
    vectors = []
    for k in range(count):
        put(f"input_{k}", "input", k, "input", "in", f"{NAMESPACE}::input_t", net.input_type,
            net.images[k], None)
        for lp in plans:
            put(f"{lp.out}_{k}", "expected", k, lp.out, "out", f"{lp.traits}::out_t",
                lp.config.out_t, run.saved[lp.name][k], lp.name)
        put(f"output_{k}", "output", k, out_lp.out, "out", f"{out_lp.traits}::out_t",
            out_lp.config.out_t, run.saved[out_lp.name][k], out_lp.name)
        vectors.append({"index": k, "input": f"input_{k}", "output": f"output_{k}",
                        "expected": [f"{lp.out}_{k}" for lp in plans],
                        "source": f"image {k} of the network's input"})

    fixed = [n for n, t in tensors.items() if t["vector"] is None]
    index = "\n".join(
        [f"hls_sim_golden {FORMAT_VERSION}", f"set {SET}", f"function {NET_TOP}", f"config {cid}",
         f"vectors {count}", f"layers {len(plans)}",
         f"elements_input {tensors['input_0']['elements']}",
         f"elements_output {tensors['output_0']['elements']}"]
        + [f"elements_{_ident(lp.out)} {tensors[f'{lp.out}_0']['elements']}" for lp in plans]
        + [f"elements_{_ident(n)} {tensors[n]['elements']}" for n in fixed] + [""]).encode("ascii")
    write(d / INDEX, index)

    files = {name: {"sha256": _sha(data)} for name, data in generated.items()}
    files[INDEX] = {"sha256": _sha(index)}
    manifest = {
        "format": FORMAT_NAME, "format_version": FORMAT_VERSION, "set": SET,
        "generator": f"hls-sim {hls_sim.__version__}",
        "config_id": cid,
        "top": {"function": NET_TOP, "source": NET_SOURCE, "header": NET_HEADER,
                "testbench_header": NET_TB_HEADER, "namespace": NAMESPACE,
                "signature": signature(net, plans, one_line=True),
                "helpers": "kernels/hls_net.h"},
        "network": {"file": Path(net.path).name, "name": net.name, "description": net.description,
                    "input": {"type": cpp_type(net.input_type),
                              "shape": list(net.shapes()[INPUT_NAME]),
                              "images": int(net.images.shape[0]), "source": net.input_source},
                    "output": net.output, "output_map": out_lp.out,
                    "layers": [_layer_info(lp) for lp in plans]},
        "vectors": {"count": count, "list": vectors},
        "tensors": tensors,
        "files": files,
        "binary": "little-endian two's complement, sign-extended (signed types) or zero-extended "
                  "(unsigned) to element_bytes = 8 * ceil(width / 64) bytes per element",
        "dat": "one raw stored integer per line in C order; decimal: the signed raw value; hex: "
               "0x and ceil(width/4) lowercase digits of the width-bit two's-complement pattern",
        "value": "value = raw * 2**-frac_bits",
        "expected": "<layer>_out_k is the layer's whole output map on image k of the network's "
                    "input (input_k), each layer run on its whole map by hls-sim; output_k is "
                    "the network output layer's map",
    }
    write(d / MANIFEST, _dump_json(manifest))
    return manifest


def write_network_golden(net: Network, out_dir: str | os.PathLike, *, count: int | None = None,
                         encoding: str = "decimal", force: bool = False,
                         progress: Callable[[int, int, str], None] | None = None) -> GoldenSet:
    """Write the golden set of ``net`` into ``out_dir``: the first ``count`` images of its
    input (default: all) are the vectors. All or nothing, refusing a non-empty folder unless
    ``force`` (and then only a previous golden set), as :func:`hls_sim.golden.write_golden`.
    ``progress`` is :func:`hls_sim.network.run_network`'s (the run that gives the outputs)."""
    count = _check_count(net, count)
    if encoding not in ENCODINGS:
        raise GoldenError(f"unknown .dat encoding {encoding!r}; expected one of {', '.join(ENCODINGS)}")
    _golden.check_target(out_dir, force)  # refuse before any work
    plans = plan(net)
    generated_files(net, plans)  # every check of the C++ before the network runs
    sub = dataclasses.replace(net, images=net.images[:count])
    run = _expected(sub, progress) if progress is not None else _expected(sub)
    return _golden.write_set(out_dir, lambda tmp: _fill(sub, plans, run, tmp, count, encoding),
                             force=force)


# ---- checking a set -----------------------------------------------------------------------------
def verify_network_set(d: Path, m: dict) -> Verification:
    """:func:`hls_sim.golden.verify_set` for a network's set: every file's sha256, the tensors
    against themselves, the vectors (input, every layer's expected map, output), the index
    against the manifest, the configuration id against the generated top, stray files."""
    ck = _Checks(d, m)
    bad = ck.bad
    tensors = ck.files((*GENERATED, INDEX))
    ck.tensors(tensors)
    elements = ck.elements
    layers = _get(m, "network", "layers")
    idents: list[str] = []
    if not isinstance(layers, list) or not layers:
        bad(MANIFEST, "no network.layers list")
    else:
        for i, info in enumerate(layers):
            ident = _get(info, "ident")
            if not isinstance(ident, str) or not re.fullmatch(rf"l{i}_[A-Za-z0-9_]+", ident):
                bad(MANIFEST, f"network.layers[{i}]: ident {ident!r} is not l{i}_<name>")
                continue
            idents.append(ident)

    count, listed = ck.count()
    for i, v in enumerate(listed):
        if _get(v, "index") != i:
            bad(MANIFEST, f"vectors.list[{i}] has index {_get(v, 'index')!r}, expected {i}")
            continue
        wants = [("input", f"input_{i}", _get(v, "input")), ("output", f"output_{i}", _get(v, "output"))]
        got = _get(v, "expected")
        want_maps = [f"{ident}_out_{i}" for ident in idents]
        if got != want_maps:
            bad(MANIFEST, f"vector {i}: expected is {got!r}, expected the layers' maps {want_maps!r}")
        wants += [("expected", w, w) for w in want_maps]
        for role, want, given in wants:
            if given != want:
                bad(MANIFEST, f"vector {i}: {role} is {given!r}, expected {want!r}")
            elif _get(tensors, want, "vector") != i or _get(tensors, want, "role") != role:
                bad(MANIFEST, f"vector {i}: no tensor {want} of role {role} for vector {i}")
    ck.beyond(tensors, count)
    for stem in ["input", "output"] + [f"{ident}_out" for ident in idents]:
        sizes = {elements[f"{stem}_{i}"] for i in range(len(listed)) if f"{stem}_{i}" in elements}
        if len(sizes) > 1:
            bad(MANIFEST, f"the {stem} tensors differ in size ({', '.join(map(str, sorted(sizes)))})")

    if ck.read_index():
        ck.agree("hls_sim_golden", FORMAT_VERSION, "this is format version")
        ck.agree("set", SET, "manifest.json says set")
        ck.agree("function", _get(m, "top", "function"), "manifest.json says function")
        ck.agree("config", _get(m, "config_id"), "manifest.json says config")
        if count is not None:
            ck.agree("vectors", count, "manifest.json lists vectors")
        if isinstance(layers, list):
            ck.agree("layers", len(layers), "manifest.json lists layers")
        fixed = [n for n, t in tensors.items() if _get(t, "vector") is None]
        known = {"hls_sim_golden", "set", "function", "config", "vectors", "layers"}
        for key, tensor in ([("elements_input", "input_0"), ("elements_output", "output_0")]
                            + [(f"elements_{ident}_out", f"{ident}_out_0") for ident in idents]
                            + [(f"elements_{n}", n) for n in fixed]):
            known.add(key)
            if tensor in elements:
                ck.agree(key, elements[tensor], f"manifest.json's tensor {tensor} has elements")
        ck.unknown_keys(known)

    header, source = ck.read_text(NET_HEADER), ck.read_text(NET_SOURCE)
    made = None if header is None or source is None else net_config_id(header, source)
    ck.config_id(made, NET_HEADER, f"with {NET_SOURCE}, ", NET_TB_HEADER, "HLS_SIM_NET_CONFIG_ID")
    return ck.result()


# ---- what the commands print ------------------------------------------------------------------------
def describe(gs: GoldenSet) -> str:
    """What ``hls-sim golden NET.yaml`` prints: the set, its layers and files."""
    m = gs.manifest
    net = m["network"]
    ts = m["tensors"]
    n_files = len(gs.files)
    size = sum((gs.path / f).stat().st_size for f in gs.files)
    count = gs.count
    k = "K" if count > 1 else "0"
    lines = [f"golden    {gs.path}  (network {net['name'] or '(no name)'}, C++ {m['top']['function']}; "
             f"{len(net['layers'])} layers, {count} vector{'s' if count != 1 else ''} (images), "
             f"config {m['config_id']})"]
    rows = [("input", f"input_{k}", _dims(ts["input_0"]["shape"]), ts["input_0"]["c_type"], "", "")]
    for info in net["layers"]:
        s = info["schedule"]
        tiles = ("1 call" if s is None else
                 f"{s['h']['tiles']}x{s['w']['tiles']}x{s['channel_groups']} calls of "
                 f"{_dims(info['call_shapes']['input'])}->{_dims(info['call_shapes']['top'])}")
        t = ts[f"{info['output']}_0"]
        rows.append((info["name"], f"{info['output']}_{k}", _dims(t["shape"]), t["c_type"],
                     f"{info['kind']}<{info['traits']}>", tiles))
    o = ts["output_0"]
    rows.append(("output", f"output_{k}", _dims(o["shape"]), o["c_type"], f"layer {net['output']}", ""))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for i, r in enumerate(rows):
        lines.append(("maps      " if i == 0 else " " * 10)
                     + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    fixed = [n for n, t in ts.items() if t["vector"] is None]
    lines.append(f"weights   {len(fixed)} tensors per layer and channel group ([G][...]): "
                 + (", ".join(fixed[:6]) + (", ..." if len(fixed) > 6 else "") if fixed else "none"))
    enc = next(iter(ts.values()))["files"]["dat"]["encoding"]
    lines.append(f"files     .dat {enc}, .bin little-endian; {NET_HEADER}, {NET_SOURCE}, "
                 f"{NET_TB_HEADER}, {INDEX}, {MANIFEST}")
    lines.append(f"wrote     {n_files} files, {size} bytes")
    return "\n".join(lines)


__all__ = ["GENERATED", "LayerPlan", "NET_HEADER", "NET_SOURCE", "NET_TB_HEADER", "NET_TOP",
           "describe", "generated_files", "group_params", "ident_of", "net_config_id", "plan",
           "signature", "verify_network_set", "write_network_golden"]
