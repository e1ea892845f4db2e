"""The kernel twins: one module per C++ kernel in kernels/, same names, same loops.

``KERNELS`` is the one registry that the CLI, the tests and the benchmarks share.
"""

from hls_sim.kernels.common import Counters, KernelResult, KernelSpec
from hls_sim.kernels.conv1x1 import SPEC as _CONV1X1, conv1x1
from hls_sim.kernels.dw_conv3x3 import SPEC as _DW, dw_conv3x3
from hls_sim.kernels.hls_config import KernelConfig, Plan

KERNELS: dict[str, KernelSpec] = {s.name: s for s in (_CONV1X1, _DW)}
RUNNERS = {"conv1x1": conv1x1, "dw_conv3x3": dw_conv3x3}

__all__ = ["KERNELS", "RUNNERS", "Counters", "KernelConfig", "KernelResult", "KernelSpec", "Plan",
           "conv1x1", "dw_conv3x3"]
