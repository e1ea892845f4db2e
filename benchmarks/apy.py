"""The APyTypes side of the type benchmarks (https://apytypes.github.io), and raw-int readback."""

from __future__ import annotations

import numpy as np

from hls_sim.types import Format, QMode, OMode

# The hls-sim modes that have an APyTypes twin with the same semantics.
Q_TWIN = {QMode.AP_RND_CONV: "RND_CONV", QMode.AP_TRN: "TRN", QMode.AP_RND: "RND"}
O_TWIN = {OMode.AP_SAT: "SAT", OMode.AP_WRAP: "WRAP"}


def cast_args(fmt: Format) -> dict:
    """Keyword arguments of ``APyFixedArray.cast`` for an ap_fixed format."""
    from apytypes import OverflowMode, QuantizationMode

    return dict(int_bits=fmt.int_bits, frac_bits=fmt.frac_bits,
                quantization=QuantizationMode[Q_TWIN[fmt.q_mode]],
                overflow=OverflowMode[O_TWIN[fmt.o_mode]])


def raws(a, fmt: Format) -> np.ndarray:
    """The stored integers of an APyFixedArray, signed like ``fmt`` (int64)."""
    bits = np.asarray(a.to_bits(numpy=True)).astype(np.int64)
    if fmt.signed:
        bits = np.where(bits >= 1 << (fmt.width - 1), bits - (1 << fmt.width), bits)
    return bits


def version() -> str:
    import apytypes

    return f"APyTypes {apytypes.__version__} ({apytypes.n_threads()} thr)"
