"""Write weights/encdec_data.npy: a small dataset for the example network (hls-sim eval and
hls-sim sweep; docs/eval.md): the bundled scene and its three mirror images (left-right,
up-down, both), [4][3][128][256] raw ap_uint<8> pixels stored as uint8.

`python weights/make_encdec_data.py` rewrites it, byte for byte.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # run from a checkout without installing


def images() -> np.ndarray:
    """The four images, [4][3][128][256] uint8."""
    from PIL import Image

    with Image.open(HERE / "encdec_images" / "scene.png") as im:
        x = np.asarray(im.convert("RGB"), dtype=np.uint8).transpose(2, 0, 1)
    return np.ascontiguousarray(np.stack([x, x[:, :, ::-1], x[:, ::-1, :], x[:, ::-1, ::-1]]))


def main() -> int:
    np.save(HERE / "encdec_data.npy", images(), allow_pickle=False)
    print(f"wrote {HERE / 'encdec_data.npy'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
