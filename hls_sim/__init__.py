"""hls-sim: bit-accurate, fast simulation of fixed-point Vitis HLS accelerator kernels."""

__version__ = "0.1.0"
