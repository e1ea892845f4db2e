"""Bit-accurate model of the Vitis HLS arbitrary-precision types.

    from hls_sim.types import parse
    T = parse("ap_fixed<12, 4, AP_RND_CONV, AP_SAT_SYM>")
    x = T.quantize([1.37, -5.0])     # C++ `T x = (double)v;`
    x.raw, x.to_float(), x.cast(U), x + y, x < y
"""

from hls_sim.types.array import APArray, quantize
from hls_sim.types.format import (Format, ap_fixed, ap_int, ap_ufixed, ap_uint, neg_type, parse,
                                  result_type)
from hls_sim.types.modes import OMode, QMode

__all__ = ["APArray", "Format", "OMode", "QMode", "ap_fixed", "ap_int", "ap_ufixed", "ap_uint",
           "neg_type", "parse", "quantize", "result_type"]
