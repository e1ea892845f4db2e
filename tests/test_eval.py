"""hls-sim eval: a dataset through the example network, measured against the float network."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from hls_sim.cli import main
from hls_sim.evaluate import evaluate, load_dataset
from hls_sim.network import NetworkError
from tests.test_calibrate import _make_encdec

ROOT = Path(__file__).resolve().parents[1]
NET = ROOT / "weights" / "encdec.yaml"
OUT_SCALE = 0.04474998265504837  # head's float.output_scale; its out_t is an integer type


def scene_batch() -> np.ndarray:
    """Two images of the example network's size (its kernels are compiled for it): the first
    two of the bundled dataset, the scene and its mirror image, raw ap_uint<8>."""
    return np.load(ROOT / "weights" / "encdec_data.npy")[:2].astype(np.int64)


def test_the_bundled_dataset_is_what_its_script_writes() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_encdec_data", ROOT / "weights" / "make_encdec_data.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    got = np.load(ROOT / "weights" / "encdec_data.npy")
    assert got.dtype == np.uint8 and np.array_equal(got, mod.images())
    assert np.array_equal(got[0], _make_encdec().scene().transpose(2, 0, 1))


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict:
    d = tmp_path_factory.mktemp("evaldata")
    x = scene_batch()
    np.save(d / "batch.npy", x)
    rng = np.random.default_rng(5)
    labels = rng.integers(0, 4, size=(2, 128, 256))
    np.save(d / "labels.npy", labels)
    for k in range(2):
        np.save(d / f"img{k}.npy", x[k])
    (d / "list.txt").write_text("# two images\nimg0.npy\nimg1.npy\n")
    return {"dir": d, "x": x, "labels": labels}


@pytest.fixture(scope="module")
def result(data: dict):  # noqa: ANN201
    net, labels, names = load_dataset(NET, data["dir"] / "batch.npy", data["dir"] / "labels.npy")
    return evaluate(net, labels, names)


def test_metrics_equal_an_independent_float_network(data: dict, result) -> None:  # noqa: ANN001
    """The float network of the generator script (calibrate.forward, its own weights) and
    calibrate.sqnr_db agree with every image's row and with the pooled SQNR."""
    from hls_sim.calibrate import forward, sqnr_db
    from hls_sim.network import run_network

    mk = _make_encdec()
    ref = forward(mk.float_network(), data["x"] / 255.0)["head"]
    got = run_network(result.network, reference=False).output * OUT_SCALE
    for k, row in enumerate(result.rows):
        assert row["sqnr_db"] == pytest.approx(sqnr_db(ref[k], got[k]), abs=1e-9)
        err = (got[k] - ref[k]) / OUT_SCALE
        assert row["rmse_lsb"] == pytest.approx(math.sqrt(np.mean(err ** 2)), rel=1e-9)
        assert row["max_abs_lsb"] == pytest.approx(np.abs(err).max(), rel=1e-9)
        aq, af = got[k].argmax(0), ref[k].argmax(0)
        assert row["argmax_agree"] == pytest.approx(np.mean(aq == af))
        assert row["label_acc"] == pytest.approx(np.mean(aq == data["labels"][k]))
        assert row["float_label_acc"] == pytest.approx(np.mean(af == data["labels"][k]))
    s = result.summary
    assert s["sqnr_db"] == pytest.approx(sqnr_db(ref, got), abs=1e-9)
    assert s["images"] == 2 and s["sqnr_db_min"] == min(r["sqnr_db"] for r in result.rows)
    assert s["sqnr_db"] > 25 and s["argmax_agree"] > 0.99
    assert [r["name"] for r in result.layers][-1] == "head"
    assert result.layers[-1]["sqnr_db"] == pytest.approx(s["sqnr_db"])


def test_a_list_of_npy_files_and_a_folder_give_the_same_rows(data: dict, result, tmp_path: Path) -> None:  # noqa: ANN001
    net, _, names = load_dataset(NET, data["dir"] / "list.txt")
    assert np.array_equal(net.images, data["x"]) and names == ["0", "1"]
    net, _, names = load_dataset(NET, ROOT / "weights" / "encdec_images")
    assert names == ["scene.png"] and np.array_equal(net.images[0], data["x"][0])


@pytest.mark.parametrize("bad, match", [
    ("nothere.bin", "expected a .npy/.npz batch"),
    ("labels_bad", "labels have shape"),
])
def test_bad_data_is_one_line(data: dict, bad: str, match: str) -> None:
    if bad == "labels_bad":
        np.save(data["dir"] / "lab3.npy", np.zeros((3,), dtype=np.int64))
        with pytest.raises(NetworkError, match=match):
            load_dataset(NET, data["dir"] / "batch.npy", data["dir"] / "lab3.npy")
    else:
        with pytest.raises(NetworkError, match=match):
            load_dataset(NET, data["dir"] / bad)


def test_cli_eval_writes_json_and_csv(data: dict, result, tmp_path: Path) -> None:  # noqa: ANN001
    out = tmp_path / "ev"
    r = CliRunner().invoke(main, ["eval", str(NET), "--data", str(data["dir"] / "batch.npy"),
                                  "--labels", str(data["dir"] / "labels.npy"), "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "against the float network: SQNR" in r.output and "label" in r.output
    doc = json.loads((out / "eval.json").read_text())
    assert doc["schema"] == "hls-sim-eval/1"
    assert doc["summary"]["sqnr_db"] == pytest.approx(result.summary["sqnr_db"])
    csv = (out / "images.csv").read_text().splitlines()
    assert csv[0].startswith("image,sqnr_db,") and len(csv) == 3
    again = CliRunner().invoke(main, ["eval", str(NET), "--data", str(data["dir"] / "batch.npy"),
                                      "-o", str(out)])
    assert again.exit_code == 2 and "already exists" in again.output
    bad = CliRunner().invoke(main, ["eval", str(NET), "--data", str(tmp_path / "none.npy")])
    assert bad.exit_code == 2 and bad.output.startswith("hls-sim: error: ")
    assert len(bad.output.strip().splitlines()) == 1
