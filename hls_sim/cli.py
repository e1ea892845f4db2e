"""The ``hls-sim`` command line: thin click commands over library functions.

Every user error becomes one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import math
import sys

import click

from hls_sim.types import parse


class UserError(click.ClickException):
    """A one-line error for the user (exit status 2)."""

    exit_code = 2

    def show(self, file=None) -> None:  # noqa: ANN001 - click's signature
        click.echo(f"hls-sim: error: {self.format_message()}", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="hls-sim")
def main() -> None:
    """Bit-accurate, fast simulation of fixed-point Vitis HLS kernels."""


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
               f"{'signed' if t.signed else 'unsigned'}; range [{t.min_value!r}, {t.max_value!r}], "
               f"lsb {t.lsb!r}")
    rows = [("input", "value", "raw", "bits", "note")]
    for text, v, raw, rnd, ovf in zip(values, x.to_float().tolist(), x.raw.tolist(),
                                         x.rounded.tolist(), x.overflowed.tolist()):
        note = ", ".join(n for n, flag in (("rounded", rnd), (_overflow_word(t), ovf)) if flag) or "exact"
        rows.append((text, repr(v), str(raw), format(int(raw) & ((1 << t.width) - 1), f"0{t.width}b"), note))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    for r in rows:
        click.echo("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())


def _overflow_word(t) -> str:  # noqa: ANN001
    name = t.o_mode.name
    if t.kind == "int" or name.startswith("AP_WRAP"):
        return "wrapped"
    return "saturated"


@main.command("run")
@click.argument("layer_file", metavar="LAYER.yaml")
@click.option("-o", "--out", "out_dir", metavar="DIR",
              help="Write top.npy and the inputs the kernel ran on (raw int64 .npy) and a "
                   "replayable layer.yaml into DIR.")
@click.option("--force", is_flag=True, help="Overwrite files that already exist in DIR.")
def run_cmd(layer_file: str, out_dir: str | None, force: bool) -> None:
    """Run the kernel a layer file describes and compare it with the float reference.

    Example: hls-sim run weights/conv1x1.yaml -o out/
    """
    from hls_sim.layer import LayerError, load_layer
    from hls_sim.runner import OutputError, check_outputs, output_names, run_layer, summary, write_outputs

    try:
        layer = load_layer(layer_file)
        if out_dir is not None:  # refuse before doing any work
            check_outputs(out_dir, output_names(layer), force)
        run = run_layer(layer)
        click.echo(summary(run))
        if out_dir is not None:
            written = write_outputs(run, out_dir, force)
            click.echo(f"wrote     {', '.join(str(p) for p in written)}")
    except (LayerError, OutputError) as e:
        raise UserError(str(e)) from None


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
