"""hls_sim.kernels.common: the pieces every kind's wrapper shares."""

from __future__ import annotations

import numpy as np

from hls_sim.kernels import common


def test_lanes_narrow_big_maps_exactly_and_contiguously():
    """A network's feature maps become the kernels' int32 lanes in a parallel copy: the same
    values as numpy's, contiguous, for any layout of the int64 input."""
    rng = np.random.default_rng(7)
    big = rng.integers(-(1 << 31), 1 << 31, size=(4, 96, 200), dtype=np.int64)
    assert big.size >= common.NARROW_PARALLEL
    for a in (big, big[:, ::-1, 3:], big.transpose(2, 0, 1)):
        got = common._lanes(a, np.int32)
        assert got.dtype == np.int32 and got.flags.c_contiguous and got.shape == a.shape
        assert np.array_equal(got, a.astype(np.int32))
    small = big[0, :2, :5]
    assert np.array_equal(common._lanes(small, np.int32), small)
    assert common._lanes(big, np.int64) is big  # int64 lanes: no copy
