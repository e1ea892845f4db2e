"""The ``hls-sim`` command line: thin click commands over library functions.

Every user error becomes one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import decimal
import math
import os
import re
import shlex
import sys

import click

from hls_sim.files import sigterm_exits
from hls_sim.jit import KERNEL_MODES, kernel_mode
from hls_sim.types import parse


class UserError(click.ClickException):
    """A one-line error for the user (exit status 2)."""

    exit_code = 2

    def show(self, file=None) -> None:  # noqa: ANN001 - click's signature
        click.echo(f"hls-sim: error: {self.format_message()}", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="hls-sim")
@click.option("--kernels", type=click.Choice(KERNEL_MODES), default=None,
              help="Machine code of the kernels: auto (default: specialised when compiled, "
                   "else the generic kernel at once), specialised (compile each new "
                   "configuration first, 5-10 s, for 2-20x faster calls) or generic. "
                   "Also $HLS_SIM_KERNELS.")
def main(kernels: str | None) -> None:
    """Bit-accurate, fast simulation of fixed-point Vitis HLS kernels."""
    if kernels is not None:
        os.environ["HLS_SIM_KERNELS"] = kernels  # worker processes (sweep) inherit it
    try:
        kernel_mode()
    except ValueError as e:
        raise UserError(str(e)) from None


def _parse_number(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise UserError(f"value {text!r}: not a number") from None
    if math.isnan(v) or math.isinf(v):
        raise UserError(f"value {text!r}: NaN and infinities have no fixed-point value")
    return v


@main.command("type", context_settings={"ignore_unknown_options": True})
@click.argument("spelling")
@click.argument("values", nargs=-1, required=True, type=click.UNPROCESSED)
def type_cmd(spelling: str, values: tuple[str, ...]) -> None:
    """Quantize VALUES to the C++ type SPELLING and show value, raw integer and bits.

    Example: hls-sim type "ap_fixed<8,3,AP_RND,AP_SAT>" 1.37 -5 0.0625
    """
    try:
        t = parse(spelling)
    except ValueError as e:
        raise UserError(str(e)) from None
    nums = [_parse_number(v) for v in values]
    x = t.quantize(nums)
    click.echo(f"{t}: {t.width} bits, {t.int_bits} integer, {t.frac_bits} fraction, "
               f"{'signed' if t.signed else 'unsigned'}; range [{_value_text(t, t.min_raw)}, "
               f"{_value_text(t, t.max_raw)}], lsb {_value_text(t, 1)}")
    rows = [("input", "value", "raw", "bits", "note")]
    for text, raw, rnd, ovf in zip(values, x.raw.tolist(), x.rounded.tolist(), x.overflowed.tolist()):
        note = ", ".join(n for n, flag in (("rounded", rnd), (_overflow_word(t), ovf)) if flag) or "exact"
        rows.append((text, _value_text(t, raw), str(raw), format(int(raw) & ((1 << t.width) - 1),
                                                                 f"0{t.width}b"), note))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    for r in rows:
        click.echo("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())


def _value_text(t, raw: int) -> str:  # noqa: ANN001 - a Format
    """The value ``raw * 2**-frac_bits``: the float64's repr where a float64 holds it (to its
    precision), else the exact value to 17 significant digits (integer bits reach 4096 and
    fraction bits 5120; a float64 ends at 2**1024 and 2**-1074)."""
    raw = int(raw)
    v = t.value_of(raw)
    if raw == 0 or (math.isfinite(v) and abs(v) >= sys.float_info.min):
        return repr(v)
    f = t.frac_bits  # value = n * 10**-f with n = raw * 5**f (f > 0), or raw * 2**-f
    n = abs(raw) * 5 ** f if f > 0 else abs(raw) << -f
    with decimal.localcontext() as ctx:
        ctx.prec, ctx.Emax, ctx.Emin = 4000, 10 ** 6, -10 ** 6
        d = decimal.Decimal(n).scaleb(-f if f > 0 else 0)
    mant, _, exp = format(d, ".16e").partition("e")
    mant = mant.rstrip("0").rstrip(".") if "." in mant else mant
    return f"{'-' if raw < 0 else ''}{mant}e{exp}"


def _overflow_word(t) -> str:  # noqa: ANN001
    name = t.o_mode.name
    if t.kind == "int" or name.startswith("AP_WRAP"):
        return "wrapped"
    return "saturated"


@main.command("run")
@click.argument("layer_file", metavar="LAYER.yaml|NET.yaml")
@click.option("-o", "--out", "out_dir", metavar="DIR",
              help="Layer: write top.npy, the inputs the kernel ran on (raw int64 .npy) and a "
                   "replayable layer.yaml into DIR. Network: write output.npy (and with --save "
                   "all every layer's output).")
@click.option("--save", type=click.Choice(["output", "all"]), default="output", show_default=True,
              help="Network: write only the output, or every layer's output too (<layer>.npy).")
@click.option("--force", is_flag=True, help="Overwrite files that already exist in DIR.")
@click.option("--check-tiles", is_flag=True,
              help="Network: also run every layer tile by tile as its schedule says (slower) and "
                   "check that it equals the whole-map run; exit status 1 if any output differs.")
@click.option("--no-reference", is_flag=True,
              help="Network: skip each layer's exact reference (faster; no error columns).")
@sigterm_exits()  # SIGTERM runs the cleanups: no temporary files left
def run_cmd(layer_file: str, out_dir: str | None, save: str, force: bool, check_tiles: bool,
            no_reference: bool) -> None:
    """Run the kernel a layer file describes, or every layer of a network file (it has
    layers:), and compare each with its exact reference.

    Example: hls-sim run weights/conv1x1.yaml -o out/
    """
    from hls_sim.layer import LayerError
    from hls_sim.network import Network, load
    from hls_sim.runner import OutputError, check_outputs, output_names, run_layer, summary, write_outputs

    try:
        what = load(layer_file)
        if isinstance(what, Network):
            _run_network(what, out_dir, save == "all", force, check_tiles, not no_reference)
            return
        if save != "output":
            raise UserError("--save all: only for a network file (a layer writes all its files)")
        if check_tiles or no_reference:
            raise UserError(f"--{'check-tiles' if check_tiles else 'no-reference'}: only for a "
                            "network file")
        layer = what
        if out_dir is not None:  # refuse before doing any work
            check_outputs(out_dir, output_names(layer), force)
        run = run_layer(layer)
        click.echo(summary(run))
        for w in run.warnings:  # also the summary's "warning" lines
            click.echo(f"hls-sim: warning: {w}", err=True)
        if out_dir is not None:
            written = write_outputs(run, out_dir, force)
            click.echo(f"wrote     {', '.join(str(p) for p in written)}")
    except (LayerError, OutputError) as e:
        raise UserError(str(e)) from None


def _run_network(net, out_dir: str | None, save_all: bool, force: bool,  # noqa: ANN001
                 check_tiles: bool = False, reference: bool = True) -> None:
    from hls_sim import network
    from hls_sim.runner import check_outputs

    if out_dir is not None:  # refuse before doing any work
        check_outputs(out_dir, network.output_names(net, save_all), force)
    with network.progress_bar() as bar:
        run = network.run_network(net, keep_all=save_all, progress=bar, check_tiles=check_tiles,
                                  reference=reference, float_model=reference)
    click.echo(network.summary(run))
    if out_dir is not None:
        written = network.write_outputs(run, out_dir, save_all, force)
        click.echo(f"wrote     {', '.join(str(p) for p in written)}")
    bad = [st.name for st in run.stats if st.tiled_differ]
    if bad:
        click.echo(f"hls-sim: the tiled run differs from the whole-map run in layer(s) "
                   f"{', '.join(bad)}: please report this as a bug", err=True)
        sys.exit(1)


@main.command("golden")
@click.argument("layer_file", metavar="LAYER.yaml|NET.yaml")
@click.option("-o", "--out", "out_dir", metavar="DIR", required=True,
              help="The folder to write the golden set into (created; must be empty or absent).")
@click.option("--count", type=int, default=None, metavar="N",
              help="Layer: input/expected vectors for the one weight set (default 1; vector 0 "
                   "is the layer's input). Network: the first N images of its input (default: "
                   "all of them).")
@click.option("--hex", "hex_", is_flag=True, help="Write .dat files in hex (the bit pattern) "
              "instead of signed decimal.")
@click.option("--force", is_flag=True, help="Replace DIR if it holds a previous golden set.")
@sigterm_exits()  # SIGTERM runs the cleanups: no temporary files left
def golden_cmd(layer_file: str, out_dir: str, count: int | None, hex_: bool, force: bool) -> None:
    """Write golden vectors for LAYER.yaml: raw integers (.dat and .bin), the configuration
    header, an index for testbench/golden_tb.cpp and manifest.json (docs/golden.md). For a
    network file (it has layers:): its input, every layer's expected output and the output,
    per image, and the generated network top (hls_sim_net_top) for testbench/net_golden_tb.cpp.

    Example: hls-sim golden weights/conv1x1.yaml -o golden/ --count 4
    """
    from hls_sim.golden import GoldenError, check_target, describe, write_golden
    from hls_sim.layer import LayerError
    from hls_sim.network import Network, load

    encoding = "hex" if hex_ else "decimal"
    try:
        what = load(layer_file)
        check_target(out_dir, force)  # refuse before doing any work
        if isinstance(what, Network):
            from hls_sim import netgolden
            from hls_sim.network import progress_bar

            with progress_bar() as bar:
                gs = netgolden.write_network_golden(what, out_dir, count=count,
                                                    encoding=encoding, force=force, progress=bar)
            click.echo(netgolden.describe(gs))
            return
        gs = write_golden(what, out_dir, count=1 if count is None else count, encoding=encoding,
                          force=force)
    except (LayerError, GoldenError) as e:
        raise UserError(str(e)) from None
    click.echo(describe(gs))


@main.command("verify")
@click.argument("golden_dir", metavar="GOLDEN_DIR")
def verify_cmd(golden_dir: str) -> None:
    """Check a golden set (hls-sim golden) against its manifest.json: every file's sha256,
    the tensors' shapes and file sizes, the vector list and the testbench's index. Exit
    status 0 when intact, 1 naming each bad file, 2 for a folder that is not a golden set.

    Example: hls-sim verify golden/
    """
    from hls_sim.golden import GoldenError, verification_summary, verify_set

    try:
        v = verify_set(golden_dir)
    except GoldenError as e:
        raise UserError(str(e)) from None
    click.echo(verification_summary(v))
    if not v.intact:
        sys.exit(1)


@main.command("csim")
@click.argument("layer_file", metavar="LAYER.yaml|NET.yaml")
@click.option("--ap-types", "ap_types", metavar="DIR",
              help="The folder holding ap_fixed.h (default: $XILINX_HLS/include, "
                   "$HLS_SIM_AP_TYPES, then the hls4ml package's copy).")
@click.option("--keep", is_flag=True, help="Keep the build folder (golden set and testbench) "
              "and print where it is.")
@click.option("--count", type=int, default=None, metavar="N",
              help="Vectors to check: layer, default 1 (vector 0 is the layer's input); "
                   "network, the first N images of its input (default: all of them).")
@click.option("--ndebug", is_flag=True, help="Build with -DNDEBUG: the ap_types headers' "
              "assertions off (their debug build is the default).")
@click.option("--cflags", metavar='"FLAGS"', help="Extra compiler flags, split like a shell "
              "would; each starts with '-' (no shell metacharacters). Passed as arguments.")
@sigterm_exits()  # SIGTERM runs the cleanups: no temporary files left
def csim_cmd(layer_file: str, ap_types: str | None, keep: bool, count: int | None, ndebug: bool,
             cflags: str | None) -> None:
    """C simulation: LAYER.yaml's golden set through testbench/golden_tb.cpp and the C++
    kernel, compiled with g++ ($CXX); a network file's through its generated top (every
    layer tile by tile, as its schedule says) and testbench/net_golden_tb.cpp, every layer's
    output checked. Exit status 0 PASS, 1 mismatches, 2 bad input or no toolchain, 3 the
    compile failed, 4 the testbench crashed or the headers' debug build asserted, 5 the
    testbench refused the golden set, 130/143 interrupted (SIGINT/SIGTERM).

    Example: hls-sim csim weights/conv1x1.yaml --count 4
    """
    from hls_sim import csim
    from hls_sim.csim import EXIT, CflagsError, parse_cflags, summary
    from hls_sim.golden import GoldenError
    from hls_sim.layer import LayerError
    from hls_sim.network import Network, load
    from hls_sim.toolchain import BuildError, ToolchainError

    try:
        extra = parse_cflags(cflags)  # refused before any work
        layer = load(layer_file)
        if isinstance(layer, Network):
            res = csim.csim_network(layer, count=count, ap_types=ap_types, keep=keep,
                                    ndebug=ndebug, cflags=extra)
        else:
            res = csim.csim_layer(layer, count=1 if count is None else count, ap_types=ap_types,
                                  keep=keep, ndebug=ndebug, cflags=extra)
    except BuildError as e:
        click.echo(f"hls-sim: error: build failed: {e.cxx} ({_cxx_origin()}) "
                   + (f"was killed by signal {-e.returncode}" if e.returncode < 0
                      else f"exited with status {e.returncode}")
                   + (":" if e.errors else " and printed nothing (no output)"), err=True)
        for ln in e.errors:
            click.echo(f"  {ln}", err=True)
        if getattr(e, "build_dir", None) is not None:
            click.echo(f"kept      {e.build_dir}", err=True)
        sys.exit(EXIT["build"])
    except (LayerError, GoldenError, ToolchainError, CflagsError) as e:
        raise UserError(" ".join(str(e).split())) from None
    except KeyboardInterrupt:
        click.echo("hls-sim: interrupted by SIGINT; temporary files removed", err=True)
        sys.exit(EXIT["sigint"])
    click.echo(summary(layer, res))
    if res.outcome in ("sigint", "sigterm"):
        click.echo(f"hls-sim: interrupted by {res.outcome.upper()}; temporary files removed",
                   err=True)
    sys.exit(res.exit_status)


def _cxx_origin() -> str:
    from hls_sim.toolchain import cxx_origin

    return cxx_origin()


@main.command("report")
@click.argument("layer_file", metavar="LAYER.yaml|NET.yaml")
@click.option("--json", "as_json", is_flag=True,
              help="Print the JSON document (schema hls-sim-report/1, docs/report.md) instead of "
                   "the tables.")
@click.option("-o", "--out", "out_file", metavar="FILE",
              help="Also write the report to FILE: .html (one self-contained page with plots) or "
                   ".json (the JSON document).")
@click.option("--force", is_flag=True, help="Overwrite FILE if it exists.")
@sigterm_exits()  # SIGTERM runs the cleanups: no temporary files left
def report_cmd(layer_file: str, as_json: bool, out_file: str | None, force: bool) -> None:
    """Quantization error report: where the error of LAYER.yaml's kernel comes from, stage by
    stage, against the ideal and (with a float: block) the float model, with advice. For a
    network file: each layer's own and accumulated error against the float network, the layer
    to change first, and its advice tried on the whole network.

    Example: hls-sim report weights/conv1x1.yaml -o report.html
    """
    from hls_sim.layer import LayerError
    from hls_sim.network import Network, load
    from hls_sim.report import build_report, render_text
    from hls_sim.report.network import NetworkReportError, build_network_report, render_network_text
    from hls_sim.report.output import ReportError, check_target, write_report

    try:
        what = load(layer_file)
        if out_file is not None:  # refuse before doing any work
            check_target(out_file, force)
        if isinstance(what, Network):
            rep = build_network_report(what)
            text = render_network_text(rep.data)
        else:
            rep = build_report(what)
            text = render_text(rep.data)
        written = write_report(rep, out_file, force) if out_file is not None else None
    except (LayerError, ReportError, NetworkReportError) as e:
        raise UserError(str(e)) from None
    click.echo(rep.to_json() if as_json else text, nl=not as_json)
    if written is not None:
        click.echo(f"wrote     {written}", err=as_json)


@main.command("quantize")
@click.argument("weight_file", metavar="WEIGHT.npy")
@click.option("-c", "--calibration", "calib_file", metavar="INPUTS.npy", required=True,
              help="Float calibration inputs: [N][16][34][66] padded buffers or [N][16][32][64] "
                   "tiles (or one, without N).")
@click.option("-b", "--bias", "bias_file", metavar="BIAS.npy", help="Float bias [16] (default: 0).")
@click.option("-o", "--out", "out_dir", metavar="DIR", required=True,
              help="Write layer.yaml and its .npy files (integer and float) into DIR.")
@click.option("--per-channel/--per-tensor", default=False,
              help="One weight scale (and factor) per output channel, or one for the tensor "
                   "(default).")
@click.option("--kernel", metavar="KERNEL", help="conv1x1 or dw_conv3x3 (default: from the "
                                                  "weight's shape).")
@click.option("--percentile", metavar="P", default="100",
              help="Scales from this percentile of the calibration inputs and outputs (default "
                   "100: the maximum).")
@click.option("--sample", metavar="I", default="0",
              help="The calibration input the layer file runs on (default 0).")
@click.option("-t", "--type", "types", metavar="NAME=TYPE", multiple=True,
              help="A type other than the seed's, e.g. -t 'weight_t=ap_int<6>' (repeatable).")
@click.option("--name", metavar="NAME", help="The layer's name.")
@click.option("--force", is_flag=True, help="Overwrite files that already exist in DIR.")
@sigterm_exits()  # SIGTERM runs the cleanups: no temporary files left
def quantize_cmd(weight_file: str, calib_file: str, bias_file: str | None, out_dir: str,
                 per_channel: bool, kernel: str | None, percentile: str, sample: str,
                 types: tuple[str, ...], name: str | None, force: bool) -> None:
    """Quantize a float layer (symmetric): float weights and calibration inputs become the
    integer weights, bias and factor of a layer file, with a float: block for hls-sim report.

    Example: hls-sim quantize w.npy -c x.npy -b b.npy --per-channel -o layer/
    """
    from hls_sim.kernels import KernelConfig
    from hls_sim.kernels.hls_config import TYPE_NAMES
    from hls_sim.quantize import (LAYER_FILES, QuantizeError, load_float, quantize_layer,
                                  write_layer)
    from hls_sim.runner import OutputError, check_outputs

    try:
        p = float(percentile)
    except ValueError:
        raise UserError(f"--percentile: {percentile!r} is not a number") from None
    if not re.fullmatch(r"[0-9]{1,9}", sample):  # str.isdigit() also takes '²', which int() refuses
        raise UserError(f"--sample: {sample!r} is not an index (0, 1, ...)")
    fields = {}
    for t in types:
        n, sep, spelling = t.partition("=")
        n = n.strip()
        if not sep or n not in TYPE_NAMES:
            raise UserError(f"--type {t!r}: expected NAME=TYPE with NAME one of {', '.join(TYPE_NAMES)}")
        fields[n] = spelling.strip()
    try:
        config = KernelConfig(**fields)
        config.plan()
    except ValueError as e:
        raise UserError(f"--type: {e}") from None
    try:
        check_outputs(out_dir, LAYER_FILES, force)  # refuse before doing any work
        w = load_float(weight_file, "weight")
        b = load_float(bias_file, "bias") if bias_file else None
        x = load_float(calib_file, "calibration")
        q = quantize_layer(w, b, x, kernel=kernel, per_channel=per_channel, config=config,
                           sample=int(sample), percentile=p)
        src = ", ".join([weight_file] + ([bias_file] if bias_file else []) + [f"calibration {calib_file}"])
        written = write_layer(q, out_dir, name=name, source=src, force=force)
    except (QuantizeError, OutputError) as e:
        msg, head = str(e), str(e).split(":", 1)[0]
        file = {"weight": weight_file, "bias": bias_file, "calibration": calib_file}.get(head)
        raise UserError(f"{file}: {msg}" if file else msg) from None
    click.echo(q.summary())
    click.echo(f"wrote     {', '.join(str(p) for p in written)}")
    click.echo(f"next      hls-sim report {shlex.quote(str(written[0]))}")


def _percentile(text: str) -> float:
    p = _parse_number(text)
    if not 50 <= p <= 100:
        raise UserError(f"--percentile: {text!r}: expected a number from 50 to 100")
    return p


@main.command("import")
@click.argument("model_file", metavar="MODEL.onnx")
@click.option("-c", "--calibration", "calib", metavar="CALIBRATION",
              help="Real-valued inputs [N][C][H][W] (.npy), or a folder of PNG/JPEG images "
                   "(read as pixel / 255). Required for a float model; for a QONNX model "
                   "optional (the network's input; default: seeded random integers).")
@click.option("-o", "--out", "out_dir", metavar="DIR", default=".", show_default=True,
              help="Write NAME.yaml, NAME.npz, NAME_float.npz, input.npy and (a float model) "
                   "NAME.onnx, the model the report runs as its float reference, into DIR.")
@click.option("--name", metavar="NAME", help="The network's name and file stem (default: the "
                                              "model's file name).")
@click.option("--per-channel/--per-tensor", default=True,
              help="Weight scales (and factors) per output channel (default) or per tensor.")
@click.option("--weight-type", default="ap_int<8>", show_default=True, metavar="TYPE",
              help="weight_t of every layer with weights (signed; symmetric).")
@click.option("--bias-type", default="ap_int<16>", show_default=True, metavar="TYPE")
@click.option("--input-type", default="ap_uint<8>", show_default=True, metavar="TYPE")
@click.option("--input-scale", metavar="S", help="Real value of one input unit (default: "
              "1/255 for images, else the calibration's largest value maps to the type's top).")
@click.option("--relu-type", metavar="TYPE", help="out_t after a relu (default ap_uint<8>).")
@click.option("--linear-type", metavar="TYPE", help="out_t without one (default "
                                                     "ap_fixed<8,8,AP_TRN,AP_SAT>).")
@click.option("--acc-type", metavar="TYPE", help="acc_t (default ap_int<32>).")
@click.option("--percentile", metavar="P", default="100", show_default=True,
              help="Float models: activation scales reach this percentile of each tensor's "
                   "calibration values (50..100; 100: the largest), so outliers saturate.")
@click.option("--nearest", is_flag=True, help="QONNX: where a factor, a bias or a rounding "
              "mode has no exact fixed-point form, use the nearest one (and say so) instead of "
              "refusing.")
@click.option("--no-check", is_flag=True, help="Do not run the written network against "
                                                "onnxruntime (QONNX: qonnx) afterwards.")
@click.option("--force", is_flag=True, help="Overwrite files that already exist in DIR.")
@sigterm_exits()  # SIGTERM runs the cleanups: no temporary files left
def import_cmd(model_file: str, calib: str | None, out_dir: str, name: str | None,
               per_channel: bool, weight_type: str, bias_type: str, input_type: str,
               input_scale: str | None, relu_type: str | None, linear_type: str | None,
               acc_type: str | None, percentile: str, nearest: bool, no_check: bool,
               force: bool) -> None:
    """Import a float ONNX model: calibrate it on CALIBRATION and write a network file (its
    integer weights and float: blocks) for hls-sim run, report, golden and csim. A QONNX
    model (Quant nodes) is taken as it is quantized: nothing is calibrated, the type options
    do not apply, and the written network is checked bit for bit against qonnx.

    Example: hls-sim import model.onnx -c calib.npy -o net/
    """
    from hls_sim.files import write_files
    from hls_sim.onnx_import import (OnnxImportError, import_model, model_copy, require_onnx,
                                     stem_of)
    from hls_sim.runner import OutputError, check_outputs

    scale = None if input_scale is None else _parse_number(input_scale)
    stem = name if name is not None else stem_of(model_file)
    names = (f"{stem}.yaml", f"{stem}.npz", f"{stem}_float.npz", "input.npy")
    try:
        require_onnx()
        check_outputs(out_dir, names, force)  # refuse before doing any work
        res = import_model(model_file, calib, name=name, per_channel=per_channel,
                           weight_t=weight_type, bias_t=bias_type, input_type=input_type,
                           input_scale=scale, relu_t=relu_type, linear_t=linear_type,
                           acc_t=acc_type, nearest=nearest, percentile=_percentile(percentile))
        files = model_copy(res.files, out_dir, f"{res.stem}.onnx", model_file)
        check_outputs(out_dir, tuple(files), force)  # NAME.onnx too (a float model's copy)
        written = write_files(out_dir, files, OutputError)
    except OnnxImportError as e:
        raise UserError(str(e)) from None
    except (ValueError, OutputError) as e:  # calibration's own refusals, the output folder
        raise UserError(" ".join(str(e).split())) from None
    click.echo(res.summary())
    click.echo(f"wrote     {', '.join(str(p) for p in written)}")
    if not no_check:
        click.echo(f"check     {res.check(written[0])}")
    click.echo(f"next      hls-sim report {shlex.quote(str(written[0]))}")


@main.command("eval")
@click.argument("net_file", metavar="NET.yaml")
@click.option("--data", required=True, metavar="DATA",
              help="The images: a .npy/.npz batch [N][C][H][W] of raw integers of the input type, a "
                   "folder of PNG/JPEG images, or a .txt list of .npy files (one a line).")
@click.option("--labels", metavar="LABELS.npy",
              help="Integer labels, [N] or one per output position [N][H][W]: the arg-max's accuracy.")
@click.option("-o", "--out", "out_dir", metavar="DIR",
              help="Write eval.json (the summary, each layer, each image) and images.csv into DIR.")
@click.option("--parquet", is_flag=True, help="With -o: also images.parquet (needs pyarrow).")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON document instead of the tables.")
@click.option("--force", is_flag=True, help="Overwrite files that already exist in DIR.")
@sigterm_exits()  # SIGTERM runs the cleanups: no temporary files left
def eval_cmd(net_file: str, data: str, labels: str | None, out_dir: str | None, parquet: bool,
             as_json: bool, force: bool) -> None:
    """Run a dataset through the bit-exact network and measure every image's output against
    the float network (the layers' float: blocks): SQNR, RMSE and max error in LSBs, overflows,
    the arg-max's agreement with the float network's and with LABELS (docs/eval.md).

    Example: hls-sim eval weights/encdec.yaml --data weights/encdec_images/ -o eval/
    """
    import json

    from hls_sim import evaluate as ev_mod
    from hls_sim.layer import LayerError
    from hls_sim.network import progress_bar
    from hls_sim.report.network import NetworkReportError
    from hls_sim.runner import OutputError, check_outputs

    names = ("eval.json", "images.csv") + (("images.parquet",) if parquet else ())
    try:
        if parquet and out_dir is None:
            raise UserError("--parquet: only with -o DIR")
        if out_dir is not None:
            check_outputs(out_dir, names, force)  # refuse before doing any work
        if parquet:
            ev_mod.parquet_bytes([], ())  # pyarrow is there, before any work
        net, lab, image_names = ev_mod.load_dataset(net_file, data, labels)
        with progress_bar() as bar:
            ev = ev_mod.evaluate(net, lab, image_names, progress=bar)
        if as_json:
            click.echo(json.dumps(ev_mod.eval_document(ev), indent=1))
        else:
            click.echo(ev_mod.summary_text(ev))
        if out_dir is not None:
            written = ev_mod.write_eval(ev, out_dir, parquet, force)
            click.echo(f"wrote     {', '.join(str(p) for p in written)}", err=as_json)
    except (LayerError, OutputError, NetworkReportError) as e:
        raise UserError(" ".join(str(e).split())) from None


def _decibels(text: str) -> float:
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*(dB|db)?\s*", text)
    if not m:
        raise UserError(f"--max-sqnr-loss {text!r}: expected decibels, e.g. 1dB or 0.5")
    return float(m.group(1))


@main.command("sweep")
@click.argument("net_file", metavar="NET.yaml")
@click.option("--data", required=True, metavar="DATA", help="The images, as for hls-sim eval.")
@click.option("--labels", metavar="LABELS.npy", help="Integer labels, as for hls-sim eval.")
@click.option("--vary", "vary", multiple=True, metavar="LAYER.TYPE=VALUES",
              help="An axis of the grid: LAYER a layer name or * (every layer with weights), TYPE "
                   "acc_t, qd_t, sum_t, product_t or tree_t, VALUES spellings separated by commas; "
                   "A..B stands for each integer from A to B: 'head.acc_t=ap_int<14..24>'. Repeat "
                   "for more axes (their product).")
@click.option("--configs", "configs_file", metavar="LIST.yaml",
              help="Instead of --vary: a YAML list of configurations, each {LAYER.TYPE: spelling, ...}.")
@click.option("-o", "--out", "out_dir", required=True, metavar="DIR",
              help="The results folder: results.jsonl (one line per finished configuration, "
                   "written at once), then sweep.csv, sweep.json and sweep.png. A sweep started "
                   "again on DIR runs only the configurations not yet in it.")
@click.option("--max-sqnr-loss", "max_loss", metavar="DB",
              help="Name the narrowest configuration whose output SQNR is at most DB (e.g. 1dB) "
                   "below the network as written.")
@click.option("--workers", type=click.IntRange(1, 1024), metavar="N",
              help="Worker processes of the local Dask cluster (default: the cores).")
@click.option("--scheduler", metavar="ADDRESS",
              help="Use the running Dask cluster at ADDRESS (tcp://host:8786) instead of a local one.")
@click.option("--serial", is_flag=True, help="Run every configuration in this process (no Dask).")
@click.option("--fresh", is_flag=True, help="Forget the results already in DIR and start over.")
@sigterm_exits()  # SIGTERM runs the cleanups: no temporary files left
def sweep_cmd(net_file: str, data: str, labels: str | None, vary: tuple[str, ...],
              configs_file: str | None, out_dir: str, max_loss: str | None, workers: int | None,
              scheduler: str | None, serial: bool, fresh: bool) -> None:
    """Evaluate many datapath configurations of NET.yaml on a dataset, on a Dask cluster (a
    local one by default) or serially: a table and a plot of the output SQNR against the
    bits, the Pareto front, and the narrowest configuration within --max-sqnr-loss of the
    network as written (docs/eval.md). Exit status 1 when a configuration failed (the others
    are written).

    Example: hls-sim sweep weights/encdec.yaml --data weights/encdec_images/
    --vary 'head.acc_t=ap_int<14..24>' -o sweep/ --max-sqnr-loss 1dB
    """
    import os

    from hls_sim import sweep
    from hls_sim.layer import LayerError
    from hls_sim.report.network import NetworkReportError

    bound = None if max_loss is None else _decibels(max_loss)
    if serial and (workers or scheduler):
        raise UserError("--serial: not with --workers or --scheduler")
    if workers and scheduler:
        raise UserError("--workers: not with --scheduler (the cluster has its workers)")
    if bool(vary) == bool(configs_file):
        raise UserError("give --vary (one or more) or --configs LIST.yaml")
    try:
        job = sweep.Job(os.path.abspath(net_file), os.path.abspath(data),
                        None if labels is None else os.path.abspath(labels))
        net = sweep.prepared_network(job)
        configs = (sweep.read_config_list(configs_file, net) if configs_file
                   else sweep.grid(net, [sweep.parse_vary(v, net) for v in vary]))
        res = sweep.run_sweep(job, configs, out_dir, serial=serial, scheduler=scheduler,
                              workers=workers, fresh=fresh, max_loss_db=bound,
                              log=lambda s: click.echo(s, err=True))
    except (LayerError, NetworkReportError) as e:
        raise UserError(" ".join(str(e).split())) from None
    click.echo(sweep.table_text(res, bound))
    click.echo(f"time      {res.seconds:.1f} s ({res.where}; {len(res.computed)} configuration(s) "
               f"run, compiling first {res.compile_seconds:.1f} s)")
    click.echo(f"wrote     {', '.join(str(p) for p in res.written)}")
    if res.failed:
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
