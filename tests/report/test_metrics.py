"""The metrics against values computed by hand on tiny tensors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hls_sim.report.metrics import HEALTHY_RMSE_LSB, cosine, error_metrics, per_channel, sqnr_db


def test_error_metrics_by_hand():
    err = np.array([[[1.0, -1.0, 0.5, 0.0]]])
    ref = np.array([[[2.0, 4.0, 0.0, 1.0]]])
    m = error_metrics(err, ref, real_per_lsb=0.5, offset=(0, 1, 1))
    assert m["n"] == 4
    assert m["mse_lsb2"] == pytest.approx((1 + 1 + 0.25 + 0) / 4)  # 0.5625
    assert m["rmse_lsb"] == pytest.approx(0.75)
    assert m["max_abs_lsb"] == 1.0 and m["max_abs_at"] == [0, 1, 1]  # the first of two 1s, + offset
    assert m["mean_lsb"] == pytest.approx(0.5 / 4)
    assert m["mse_real"] == pytest.approx(0.5625 * 0.25)
    assert m["rmse_real"] == pytest.approx(0.375)
    assert m["max_abs_real"] == pytest.approx(0.5) and m["mean_real"] == pytest.approx(0.0625)
    # signal energy 4 + 16 + 0 + 1 = 21, noise energy 1 + 1 + 0.25 = 2.25
    assert m["sqnr_db"] == pytest.approx(10 * math.log10(21 / 2.25))  # 9.70 dB
    # kernel = ref + err = [3, 3, 0.5, 1]: dot 19, norms sqrt(19.25) and sqrt(21)
    assert m["cosine"] == pytest.approx(19 / math.sqrt(19.25 * 21))
    assert m["differ"] == 2 and m["exact"] is False


def test_index_of_the_largest_error_is_the_first_in_c_order():
    err = np.zeros((2, 3, 4))
    err[1, 2, 3] = -2
    err[0, 1, 0] = 1.5
    m = error_metrics(err, np.ones_like(err), offset=(0, 1, 1))
    assert m["max_abs_at"] == [1, 3, 4] and m["max_abs_lsb"] == 2


def test_undefined_sqnr_and_cosine():
    z = np.zeros((1, 2, 2))
    m = error_metrics(z, np.ones_like(z))
    assert m["sqnr_db"] is None and m["exact"] is True and m["cosine"] == 1.0
    assert sqnr_db(np.zeros(3), np.ones(3)) is None  # no signal
    assert cosine(np.zeros(3), np.zeros(3)) == 1.0
    assert cosine(np.zeros(3), np.ones(3)) is None


def test_uniform_rounding_sits_at_0_29_lsb():
    x = np.random.default_rng(0).uniform(0, 100, (4, 64, 64))
    m = error_metrics(np.rint(x) - x, x)
    assert HEALTHY_RMSE_LSB == pytest.approx(0.2887, abs=1e-4)
    assert m["rmse_lsb"] == pytest.approx(HEALTHY_RMSE_LSB, abs=0.005)
    assert abs(m["mean_lsb"]) < 0.01
    t = error_metrics(np.floor(x) - x, x)  # truncation: a bias of -1/2 LSB
    assert t["mean_lsb"] == pytest.approx(-0.5, abs=0.01)


def test_per_channel():
    err = np.array([[[0.5, -0.5]], [[0.0, 2.0]]])
    ref = np.array([[[1.0, 1.0]], [[3.0, 4.0]]])
    rows = per_channel(err, ref, offset=(0, 1, 1))
    assert [r["channel"] for r in rows] == [0, 1]
    assert rows[0]["mse_lsb2"] == pytest.approx(0.25) and rows[0]["mean_lsb"] == 0
    assert rows[0]["max_abs_at"] == [0, 1, 1]
    assert rows[1]["max_abs_at"] == [1, 1, 2] and rows[1]["max_abs_lsb"] == 2
    assert rows[1]["sqnr_db"] == pytest.approx(10 * math.log10(25 / 4))
