"""Tests of hls_sim.report and hls_sim.quantize."""
