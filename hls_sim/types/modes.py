"""Quantization and overflow modes, numbered as in the headers' ``ap_q_mode`` / ``ap_o_mode``."""

from __future__ import annotations

from enum import IntEnum


class QMode(IntEnum):
    """How bits below the target's LSB are removed (``ap_q_mode``)."""

    AP_RND = 0
    """Round to nearest; ties toward plus infinity."""
    AP_RND_ZERO = 1
    """Round to nearest; ties toward zero."""
    AP_RND_MIN_INF = 2
    """Round to nearest; ties toward minus infinity."""
    AP_RND_INF = 3
    """Round to nearest; ties away from zero."""
    AP_RND_CONV = 4
    """Round to nearest; ties to even (convergent rounding)."""
    AP_TRN = 5
    """Truncate toward minus infinity (drop the bits). The default."""
    AP_TRN_ZERO = 6
    """Truncate toward zero."""


class OMode(IntEnum):
    """What happens to a value outside the target's range (``ap_o_mode``)."""

    AP_SAT = 0
    """Saturate to the largest or smallest representable value."""
    AP_SAT_ZERO = 1
    """Any overflow gives zero."""
    AP_SAT_SYM = 2
    """Saturate symmetrically: signed results never take the most negative value."""
    AP_WRAP = 3
    """Keep the low bits (two's-complement wrap-around). The default. With N>0 the N MSBs
    are forced as the headers do (sign kept, saturation bits set)."""
    AP_WRAP_SM = 4
    """Sign-magnitude wrap-around. Signed types only: the headers refuse ``ap_ufixed`` with
    AP_WRAP_SM (they print an error and exit), and so does :class:`~hls_sim.types.Format`."""
