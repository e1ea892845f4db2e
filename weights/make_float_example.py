"""Rebuild weights/float_conv1x1/: a float 1x1 convolution quantized by `hls-sim quantize`.

Run from the repository root: python weights/make_float_example.py
"""

import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

rng = np.random.default_rng(2026)
w = rng.normal(0, 0.25, (16, 16)).astype(np.float32)  # 16 -> 16 channels
w[3] *= 0.2                                             # one weak output channel
b = rng.normal(0, 0.3, 16).astype(np.float32)
x = np.abs(rng.normal(0, 1.0, (4, 16, 32, 64))).astype(np.float32)  # post-relu activations
with tempfile.TemporaryDirectory() as d:
    for name, arr in (("w", w), ("b", b), ("x", x)):
        np.save(Path(d) / f"{name}.npy", arr)
    subprocess.run([sys.executable, "-m", "hls_sim.cli", "quantize", f"{d}/w.npy", "-b", f"{d}/b.npy",
                    "-c", f"{d}/x.npy", "--per-channel", "--name", "float-conv1x1",
                    "-o", "weights/float_conv1x1", "--force"], check=True)
# the temporary paths make poor documentation: say what the layer is instead
layer = Path("weights/float_conv1x1/layer.yaml")
lines = layer.read_text().splitlines()
lines[0] = ("# Written by hls-sim quantize (weights/make_float_example.py rebuilds it) "
            "from float weights, bias and calibration inputs.")
lines = [("description: a float 1x1 convolution (random normal weights, one weak channel) "
          "quantized per output channel by hls-sim quantize") if ln.startswith("description:") else ln
         for ln in lines]
layer.write_text("\n".join(lines) + "\n")
