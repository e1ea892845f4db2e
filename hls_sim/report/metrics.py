"""Error metrics of an output tensor against a reference: plain numpy, any shape.

Every function takes the error ``err = output - reference`` and the reference (the signal)
in LSBs of the output type, and ``real_per_lsb``, the real value of one LSB (out_t's LSB
times the output scale, 1 when the layer gives none), for the metrics in real units.
"""

from __future__ import annotations

import math

import numpy as np

HEALTHY_RMSE_LSB = 1 / math.sqrt(12)  # a uniform rounding error on [-0.5, 0.5): 0.2887 LSB


def sqnr_db(signal: np.ndarray, err: np.ndarray) -> float | None:
    """``10 log10(sum signal^2 / sum err^2)``; None when undefined: no error (infinite
    SQNR) or no signal."""
    ps = float(np.sum(np.square(signal, dtype=np.float64)))
    pe = float(np.sum(np.square(err, dtype=np.float64)))
    if pe == 0 or ps == 0:
        return None
    return 10 * math.log10(ps / pe)


def cosine(a: np.ndarray, b: np.ndarray) -> float | None:
    """Cosine similarity of two tensors (flattened); 1.0 when both are all zero, None when
    exactly one is."""
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    if na == 0 and nb == 0:
        return 1.0
    if na == 0 or nb == 0:
        return None
    return float(np.clip(np.dot(a, b) / (na * nb), -1.0, 1.0))


def error_metrics(err: np.ndarray, reference: np.ndarray, real_per_lsb: float = 1.0,
                  offset: tuple[int, ...] | None = None) -> dict:
    """MSE, RMSE, max |error| and where, mean error, SQNR and cosine of ``err``.

    ``err`` and ``reference`` are in LSBs; ``offset`` is added to the index of the largest
    error (e.g. the written region's first h and w in the output buffer). The keys are those
    of the report's JSON schema (docs/report.md, "metrics").
    """
    e = np.asarray(err, dtype=np.float64)
    r = np.asarray(reference, dtype=np.float64)
    n = int(e.size)
    if n == 0:
        raise ValueError("no outputs to measure")
    a = np.abs(e)
    k = int(np.argmax(a))  # the first largest in C order
    at = [int(i) for i in np.unravel_index(k, e.shape)]
    if offset is not None:
        at = [i + o for i, o in zip(at, offset)]
    mse = float(np.mean(np.square(e)))
    mean = float(np.mean(e))
    u = float(real_per_lsb)
    return {
        "n": n,
        "mse_lsb2": mse,
        "rmse_lsb": math.sqrt(mse),
        "max_abs_lsb": float(a.ravel()[k]),
        "max_abs_at": at,
        "mean_lsb": mean,
        "mse_real": mse * u * u,
        "rmse_real": math.sqrt(mse) * u,
        "max_abs_real": float(a.ravel()[k]) * u,
        "mean_real": mean * u,
        "sqnr_db": sqnr_db(r, e),
        "cosine": cosine(r + e, r),
        "exact": bool(not a.any()),
        "differ": int(np.count_nonzero(a > 0.5)),
    }


def per_channel(err: np.ndarray, reference: np.ndarray, real_per_lsb: float = 1.0,
                offset: tuple[int, ...] | None = None) -> list[dict]:
    """:func:`error_metrics` of each index of the first axis (the output channel), with
    ``"channel"`` and the largest error's index in the whole tensor."""
    base = tuple(offset) if offset is not None else (0,) * err.ndim
    out = []
    for c in range(err.shape[0]):
        m = error_metrics(err[c:c + 1], reference[c:c + 1], real_per_lsb, (base[0] + c,) + base[1:])
        out.append({"channel": c, **m})
    return out
