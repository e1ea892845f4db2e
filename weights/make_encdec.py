"""Rebuild the example encoder-decoder network: weights/encdec.yaml and its data.

Run from anywhere:  python weights/make_encdec.py [--check]

Everything is deterministic (numpy seeds, no download), so a run rewrites the same bytes:
- encdec_images/scene.png: a synthetic 128x256 RGB scene (sky and ground gradients, a sun,
  hills, houses, a striped road), the network's input and its calibration image;
- the float network: He-normal weights and small biases from fixed seeds (float32, PyTorch
  layouts), kept in encdec_float.npz for the layers' float: blocks;
- encdec.yaml and encdec.npz: the network quantized by hls_sim.calibrate on that image
  (weights symmetric per output channel in ap_int<8>, activations ap_uint<8> with their
  scales from the image, bias in ap_int<16>, per-channel factors in a factor_t per layer).

--check also runs the quantized network (hls_sim.network) and prints its end-to-end error
against the float network.

The network (input 3 x 128 x 256, pixels as p / 255):
  stem     conv2d 3 -> 16, 3x3, pad 1, relu                 16 x 128 x 256
  enc1_dw  conv2d 16 -> 16, 3x3, stride 2, depthwise, relu   16 x 64 x 128
  enc1_pw  conv2d 16 -> 32, 1x1, relu                        32 x 64 x 128
  enc2_dw  conv2d 32 -> 32, 3x3, stride 2, depthwise, relu   32 x 32 x 64
  enc2_pw  conv2d 32 -> 64, 1x1, relu                        64 x 32 x 64
  dec1_up  conv_transpose 64 -> 32, 2x2, stride 2, relu      32 x 64 x 128
  skip1    concat dec1_up, enc1_pw                           64 x 64 x 128
  dec2_up  conv_transpose 64 -> 16, 2x2, stride 2, relu      16 x 128 x 256
  skip2    add dec2_up + stem                                16 x 128 x 256 (ap_uint<9>)
  head     conv2d 16 -> 4, 3x3, pad 1, no activation         4 x 128 x 256 (signed)
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # run from a checkout without installing

from hls_sim.calibrate import FloatLayer, FloatNetwork, QuantizedNetwork, calibrate  # noqa: E402

STEM = "encdec"
IMAGES = "encdec_images"
IMAGE = "scene.png"
HEIGHT, WIDTH = 128, 256
SEED = 2026
HEADER = ("Written by weights/make_encdec.py: `python weights/make_encdec.py` rebuilds it, byte for",
          "byte, with encdec.npz (integer weight, bias, factor), encdec_float.npz (the float",
          "weights of the float: blocks) and encdec_images/scene.png. Calibrated by",
          "hls_sim.calibrate on that image (README, \"The example network\").")
DESCRIPTION = ("an encoder-decoder: a 3x3 stem, two depthwise 3x3 stride-2 + pointwise 1x1 "
               "encoder blocks, two 2x2 stride-2 transposed convolutions back to the input "
               "resolution with skip connections (concat at 1/2, add at full resolution), a 3x3 "
               "head to 4 signed channels; random float weights quantized on the bundled image")


# ---- the image ---------------------------------------------------------------------------------
def scene(height: int = HEIGHT, width: int = WIDTH) -> np.ndarray:
    """A synthetic RGB scene, ``[H][W][3]`` uint8: smooth gradients, flat shapes and edges
    (what convolution features respond to), no noise (it keeps the PNG small)."""
    from PIL import Image, ImageDraw

    yy, xx = np.mgrid[0:height, 0:width].astype(np.float64)
    horizon = 0.55 * height
    sky = np.stack([90 + 80 * yy / horizon, 150 + 60 * yy / horizon, 235 - 20 * yy / horizon], -1)
    g = (yy - horizon) / (height - horizon)
    ground = np.stack([70 + 60 * g + 20 * np.sin(xx / 9), 140 - 40 * g, 60 + 10 * g], -1)
    img = np.where((yy < horizon)[..., None], sky, ground)
    sun = (yy - 0.2 * height) ** 2 + (xx - 0.8 * width) ** 2
    img = np.where((sun < (0.09 * height) ** 2)[..., None], [255.0, 230.0, 120.0], img)
    halo = np.exp(-sun / (2 * (0.18 * height) ** 2))[..., None]
    img = img + 40 * halo * (yy < horizon)[..., None]
    im = Image.fromarray(np.clip(np.rint(img), 0, 255).astype(np.uint8), "RGB")
    d = ImageDraw.Draw(im)
    h, w = height, width
    d.polygon([(0, int(0.62 * h)), (int(0.22 * w), int(0.3 * h)), (int(0.45 * w), int(0.62 * h))],
              fill=(88, 104, 120))
    d.polygon([(int(0.3 * w), int(0.62 * h)), (int(0.52 * w), int(0.38 * h)),
               (int(0.75 * w), int(0.62 * h))], fill=(110, 120, 140))
    for i, (x0, col) in enumerate(((0.08, (200, 60, 50)), (0.3, (230, 200, 80)),
                                   (0.62, (60, 90, 200)))):
        x0p, y0p = int(x0 * w), int((0.5 + 0.06 * i) * h)
        d.rectangle([x0p, y0p, x0p + int(0.12 * w), y0p + int(0.22 * h)], fill=col)
        d.polygon([(x0p - 3, y0p), (x0p + int(0.06 * w), y0p - int(0.1 * h)),
                   (x0p + int(0.12 * w) + 3, y0p)], fill=(120, 40, 40))
        d.rectangle([x0p + 6, y0p + 8, x0p + 14, y0p + 16], fill=(250, 250, 210))
    d.polygon([(int(0.42 * w), h), (int(0.5 * w), int(0.62 * h)), (int(0.54 * w), int(0.62 * h)),
               (int(0.7 * w), h)], fill=(60, 60, 64))
    for k in range(5):
        y0 = int(0.66 * h) + k * 9
        d.rectangle([int(0.515 * w), y0, int(0.525 * w), y0 + 4], fill=(240, 240, 240))
    d.ellipse([int(0.85 * w), int(0.7 * h), int(0.97 * w), int(0.92 * h)], fill=(30, 110, 40))
    return np.asarray(im)


def png_bytes(pixels: np.ndarray) -> bytes:
    """The image as PNG bytes (no time stamp or other varying chunk)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(buf, format="PNG", compress_level=9)
    return buf.getvalue()


# ---- the float network ---------------------------------------------------------------------------
def _he(i: int, shape: tuple[int, ...], fan_in: int, gain: float = 2.0) -> np.ndarray:
    """He-normal float32 weights from layer i's own seed."""
    rng = np.random.default_rng([SEED, i])
    return (rng.standard_normal(shape) * np.sqrt(gain / fan_in)).astype(np.float32)


def _bias(i: int, n: int, std: float = 0.05) -> np.ndarray:
    return (np.random.default_rng([SEED, i, 1]).standard_normal(n) * std).astype(np.float32)


def float_network() -> FloatNetwork:
    """The float encoder-decoder (docstring above), weights in PyTorch's layouts."""
    conv = "conv2d"
    dw = {"kernel_size": 3, "stride": 2, "padding": 1}
    layers = [
        FloatLayer("stem", conv, {"out_channels": 16, "kernel_size": 3, "padding": 1},
                   _he(0, (16, 3, 3, 3), 27), _bias(0, 16)),
        FloatLayer("enc1_dw", conv, {"out_channels": 16, **dw, "groups": 16},
                   _he(1, (16, 1, 3, 3), 9), _bias(1, 16)),
        FloatLayer("enc1_pw", conv, {"out_channels": 32, "kernel_size": 1},
                   _he(2, (32, 16, 1, 1), 16), _bias(2, 32)),
        FloatLayer("enc2_dw", conv, {"out_channels": 32, **dw, "groups": 32},
                   _he(3, (32, 1, 3, 3), 9), _bias(3, 32)),
        FloatLayer("enc2_pw", conv, {"out_channels": 64, "kernel_size": 1},
                   _he(4, (64, 32, 1, 1), 32), _bias(4, 64)),
        FloatLayer("dec1_up", "conv_transpose", {"out_channels": 32, "kernel_size": 2, "stride": 2},
                   _he(5, (64, 32, 2, 2), 64), _bias(5, 32)),
        FloatLayer("skip1", "concat", input="dec1_up", input2="enc1_pw"),
        FloatLayer("dec2_up", "conv_transpose", {"out_channels": 16, "kernel_size": 2, "stride": 2},
                   _he(6, (64, 16, 2, 2), 64), _bias(6, 16)),
        FloatLayer("skip2", "add", input="dec2_up", input2="stem"),
        FloatLayer("head", conv, {"out_channels": 4, "kernel_size": 3, "padding": 1,
                                  "activation": "none"},
                   _he(7, (4, 16, 3, 3), 144, gain=1.0), _bias(7, 4)),
    ]
    return FloatNetwork(layers)


def build() -> tuple[FloatNetwork, np.ndarray, QuantizedNetwork]:
    """The float network, its calibration images (``[1][3][H][W]``, reals p / 255) and the
    quantized network."""
    pixels = scene()
    images = pixels.transpose(2, 0, 1)[None].astype(np.float64) / 255.0
    net = float_network()
    q = calibrate(net, images, input_scale=1 / 255)
    assert np.array_equal(q.quantize_input(images)[0], pixels.transpose(2, 0, 1)), \
        "the network input (the PNG's pixels) must be the quantized calibration image"
    return net, images, q


def generate(out_dir: str | Path, q: QuantizedNetwork | None = None) -> list[Path]:
    """Write encdec.yaml, encdec.npz, encdec_float.npz and encdec_images/scene.png into
    ``out_dir`` (overwriting them); returns their paths. ``q``: the quantized network if
    :func:`build` already made it."""
    out = Path(out_dir)
    q = build()[2] if q is None else q
    files = q.files(STEM, {"images": f"{IMAGES}/"}, name=STEM, description=DESCRIPTION,
                    header=HEADER)
    (out / IMAGES).mkdir(parents=True, exist_ok=True)
    paths = []
    for name, data in list(files.items()) + [(f"{IMAGES}/{IMAGE}", png_bytes(scene()))]:
        p = out / name
        p.write_bytes(data)
        paths.append(p)
    return paths


def check(out_dir: str | Path) -> None:
    """Run the written network and print, per layer and end to end, its error against the
    float network (real units: scale x value)."""
    from hls_sim.calibrate import forward, sqnr_db
    from hls_sim.network import load_network, run_network, summary

    net, images, q = build()
    run = run_network(load_network(Path(out_dir) / f"{STEM}.yaml"), keep_all=True)
    print(summary(run))
    ref = forward(net, images)
    print("against the float network (real units; LSB: one unit of the layer's scale):")
    print("  layer    SQNR dB  max|e| LSB  rms LSB")
    for ql in q.layers:
        f, got = ref[ql.name], q.real(run.saved[ql.name], ql.name)
        e = (got - f) / ql.output_scale
        print(f"  {ql.name:<8} {sqnr_db(f, got):7.2f}  {np.abs(e).max():10.3g}  "
              f"{np.sqrt(np.mean(e ** 2)):7.3g}")
    f, got = ref[q.output], q.real(run.output)
    err = got - f
    print(f"end to end: {q.output} against the float network: SQNR {sqnr_db(f, got):.2f} dB, "
          f"max |error| {np.abs(err).max():.4g} ({np.abs(err).max() / q.scales[q.output]:.3g} LSB), "
          f"rms {np.sqrt(np.mean(err ** 2)):.4g}, float output {f.min():.4g} .. {f.max():.4g}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(HERE), help="folder to write into (default: weights/)")
    ap.add_argument("--check", action="store_true", help="run the network and print its error")
    args = ap.parse_args(argv)
    q = build()[2]
    for p in generate(args.out, q):
        print(f"wrote {p} ({p.stat().st_size} bytes)")
    print(q.summary())
    if args.check:
        check(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
