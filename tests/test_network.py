"""Network files (hls_sim.network): the graph checked whole before anything runs, every layer
run on whole maps image by image, equal to the same layers run one by one; the CLI."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from hls_sim.cli import main
from hls_sim.kernels import KernelConfig, run
from hls_sim.network import NetworkError, load_network, run_network, summary
from hls_sim.types import parse

NET = """\
network: tiny
input: {file: x.npy}
layers:
  - name: enc1
    kernel: conv2d
    out_channels: 16
    kernel_size: 3
    padding: 1
    factor: 0.01
    weight: {generate: {seed: 2, std: 20, distribution: normal}}
    bias: {generate: {seed: 3, low: -50, high: 50}}
  - name: pool1
    kernel: max_pool
    kernel_size: 2
  - name: up1
    kernel: conv_transpose
    kernel_size: 2
    stride: 2
    factor: 0.01
    weight: {generate: {seed: 4, std: 20, distribution: normal}}
    bias: {generate: {seed: 5, low: -50, high: 50}}
  - name: skip
    kernel: add
    input: up1
    input2: enc1
    types:
      out_t: ap_uint<9>
  - name: cat
    kernel: concat
    input: skip
    input2: input
    types:
      out_t: ap_uint<9>
"""


def _write(tmp_path: Path, text: str, x: np.ndarray | None = None) -> Path:
    if x is not None:
        np.save(tmp_path / "x.npy", x)
    p = tmp_path / "net.yaml"
    p.write_text(text)
    return p


def _image(seed: int, shape=(3, 10, 14)) -> np.ndarray:  # noqa: ANN001
    return np.random.default_rng(seed).integers(0, 256, size=shape)


def _by_hand(net, x: np.ndarray) -> dict[str, np.ndarray]:  # noqa: ANN001
    """The same layers through hls_sim.kernels.run, one call each, wired by hand."""
    t = {"input": x}
    for nl in net.layers:
        ly = nl.layer
        p = {k: v for k, v in ly.geometry.values if k not in ("in_channels", "height", "width", "in2_channels")}
        a = t[nl.reads["input"]]
        if ly.spec.epilogue:
            res = run(ly.kernel, a, ly.weight, ly.bias, ly.factor, ly.config, **p)
        else:
            res = run(ly.kernel, a, config=ly.config, input2=t.get(nl.reads.get("input2")), **p)
        t[nl.name] = res.top.raw
    return t


def test_a_network_equals_its_layers_run_one_by_one(tmp_path):
    x = _image(1)
    net = load_network(_write(tmp_path, NET, x))
    assert [nl.name for nl in net.layers] == ["enc1", "pool1", "up1", "skip", "cat"]
    assert net.shapes()["cat"] == (19, 10, 14) and not net.batched
    assert str(net.layers[3].layer.config.in2_t) == "ap_uint<8>"  # in2_t from what feeds it
    r = run_network(net, keep_all=True)
    want = _by_hand(net, x)
    for name in ("enc1", "pool1", "up1", "skip", "cat"):
        assert np.array_equal(r.saved[name][0], want[name]), name
    assert np.array_equal(r.output[0], want["cat"])
    assert np.array_equal(r.output[0, 16:], x)  # concat's second input is the network input
    assert all(st.n_differ == 0 and st.max_abs_lsb <= 0.5 for st in r.stats)
    assert sum(st.n_outputs for st in r.stats) == sum(int(np.prod(s)) for n, s in net.shapes().items() if n != "input")
    text = summary(r)
    assert "skip" in text and "up1, enc1" in text and "[19][10][14]" in text


def test_a_batch_runs_image_by_image(tmp_path):
    xs = np.stack([_image(k) for k in range(3)])
    net = load_network(_write(tmp_path, NET, xs))
    assert net.batched and net.images.shape == (3, 3, 10, 14)
    r = run_network(net)
    assert r.output.shape == (3, 19, 10, 14)
    for k in range(3):
        assert np.array_equal(r.output[k], _by_hand(net, xs[k])["cat"])


def test_tensors_are_freed_after_their_last_reader(tmp_path):
    net = load_network(_write(tmp_path, NET, _image(1)))
    assert net.last_use() == {"input": 4, "enc1": 3, "pool1": 2, "up1": 3, "skip": 4, "cat": 5}


def test_images_become_the_input_type(tmp_path):
    from PIL import Image

    d = tmp_path / "img"
    d.mkdir()
    rgb = [_image(k, (10, 14, 3)).astype(np.uint8) for k in range(2)]
    for k, a in enumerate(rgb):
        Image.fromarray(a, "RGB").save(d / f"im{k}.png")
    text = NET.replace("input: {file: x.npy}", "input: {images: img}")
    net = load_network(_write(tmp_path, text))
    assert net.batched and net.images.shape == (2, 3, 10, 14)
    assert np.array_equal(net.images[1], rgb[1].transpose(2, 0, 1))
    half = NET.replace("input: {file: x.npy}", "input: {images: img, scale: 0.5, type: 'ap_ufixed<8,7>'}")
    text = half.replace("    kernel: conv2d\n", "    kernel: conv2d\n    types:\n      in_t: ap_ufixed<8,7>\n")
    net = load_network(_write(tmp_path, text))
    # pixel * 0.5 in ap_ufixed<8,7> (one fraction bit): the raw is the pixel itself
    assert np.array_equal(net.images[0], rgb[0].transpose(2, 0, 1))


@pytest.mark.parametrize("edit, field, reason", [
    pytest.param(("input: up1\n", "input: nowhere\n"), "layers[3] (skip).input", "got 'nowhere'", id="unknown-tensor"),
    pytest.param(("input: up1\n", "input: cat\n"), "layers[3] (skip).input", "got 'cat'", id="later-layer"),
    pytest.param(("    input2: enc1\n", ""), "layers[3] (skip).input2", "missing", id="add-without-input2"),
    pytest.param(("    input2: enc1\n", "    input2: pool1\n"), "layers[3] (skip).input2",
                 "layer pool1's output has shape [16][5][7]", id="add-shape-mismatch"),
    pytest.param(("  - name: pool1\n", "  - name: enc1\n"), "layers[1].name", "already the name", id="duplicate-name"),
    pytest.param(("  - name: pool1\n", "  - name: input\n"), "layers[1].name", "network input", id="name-input"),
    pytest.param(("    kernel: max_pool\n", "    kernel: max_pool\n    types:\n      in_t: ap_int<8>\n"),
                 "layers[1] (pool1).types.in_t", "layer enc1's output, of type ap_uint<8>", id="type-mismatch"),
    pytest.param(("    out_channels: 16\n", "    out_channels: 16\n    in_channels: 4\n"), "layers[0] (enc1).in_channels",
                 "the network input", id="in-channels-mismatch"),
    pytest.param(("    kernel: max_pool\n", "    kernel: dw_conv3x3\n"), "layers[1] (pool1).kernel",
                 "seed's fixed", id="seed-kind"),
    pytest.param(("    kernel_size: 2\n    stride: 2\n", "    kernel_size: 2\n    stride: 9\n"),
                 "layers[2] (up1).stride", "must be 1..4", id="bad-parameter"),
    pytest.param(("network: tiny\n", "network: tiny\noutput: nope\n"), "output", "got 'nope'", id="bad-output"),
    pytest.param(("input: {file: x.npy}", "input: {file: x.npy, scale: 2}"), "input.scale", "only for images",
                 id="scale-on-a-file"),
    pytest.param(("input: {file: x.npy}", "input: {generate: {seed: 1}}"), "input.shape", "expected [C, H, W]",
                 id="generate-without-shape"),
    pytest.param(("input: {file: x.npy}", "input: {file: y.npy}"), "input", "not found", id="missing-file"),
    pytest.param(("input: {file: x.npy}", "input: {file: x.npy, type: 'ap_uint<4>'}"), "input", "does not fit",
                 id="input-out-of-range"),
    pytest.param(("network: tiny\n", "network: tiny\nschedule: {tile: [0, 4]}\n"), "schedule.tile",
                 "integers 1..4096", id="schedule-bad-tile"),
    pytest.param(("network: tiny\n", "network: tiny\nschedule: {tiles: [4, 4]}\n"), "schedule.tiles",
                 "did you mean 'tile'", id="schedule-unknown-key"),
    pytest.param(("network: tiny\n", "network: tiny\nschedule: whole\n"), "schedule",
                 "expected {tile: [height, width], channels: N}, got", id="schedule-whole-for-all"),
    pytest.param(("    kernel_size: 2\n    stride: 2\n", "    kernel_size: 2\n    stride: 2\n    schedule: {tile: [3, 4]}\n"),
                 "layers[2] (up1).schedule.tile", "not a multiple of the stride 2", id="schedule-deconv-tile"),
    pytest.param(("network: tiny\n", "network: tiny\nschedule: {tile: [3, 3]}\n"), "schedule.tile",
                 "not a multiple of the stride 2", id="schedule-default-blamed"),
    pytest.param(("    out_channels: 16\n", "    out_channels: 16\n    schedule: {channels: 5}\n"),
                 "layers[0] (enc1).schedule.channels", "5 does not divide the 16", id="schedule-channels"),
])
def test_bad_networks_name_the_layer_and_field(tmp_path, edit, field, reason):
    p = _write(tmp_path, NET.replace(*edit), _image(1))
    with pytest.raises(NetworkError) as e:
        load_network(p)
    assert e.value.field == field and reason in e.value.reason, str(e.value)
    assert "\n" not in str(e.value)


def test_run_writes_the_output_and_every_layer_all_or_nothing(tmp_path):
    p = _write(tmp_path, NET, _image(1))
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["run", str(p), "-o", str(out), "--save", "all"])
    assert r.exit_code == 0, r.output
    assert sorted(f.name for f in out.iterdir()) == sorted(
        ["output.npy", "enc1.npy", "pool1.npy", "up1.npy", "skip.npy", "cat.npy"])
    assert np.load(out / "output.npy").shape == (19, 10, 14)
    assert np.array_equal(np.load(out / "output.npy"), np.load(out / "cat.npy"))
    before = (out / "output.npy").read_bytes()
    r = CliRunner().invoke(main, ["run", str(p), "-o", str(out)])
    assert r.exit_code != 0 and "already exists" in r.output and (out / "output.npy").read_bytes() == before
    r = CliRunner().invoke(main, ["run", str(p), "-o", str(out), "--force"])
    assert r.exit_code == 0, r.output
    bad = _write(tmp_path, NET.replace("input: nowhere", "x").replace("input: up1", "input: nowhere"))
    r = CliRunner().invoke(main, ["run", str(bad)])
    assert r.exit_code != 0 and "layers[3] (skip).input" in r.output


def test_save_all_is_only_for_networks():
    r = CliRunner().invoke(main, ["run", "weights/upsample.yaml", "--save", "all"])
    assert r.exit_code != 0 and "only for a network file" in r.output


def test_schedules_from_the_file_and_check_tiles(tmp_path):
    text = NET.replace("network: tiny\n", "network: tiny\nschedule: {tile: [4, 6], channels: 8}\n")
    text = text.replace("    kernel: max_pool\n", "    kernel: max_pool\n    schedule: whole\n")
    text = text.replace("    kernel: concat\n", "    kernel: concat\n    schedule: {tile: [3, 5], channels: 19}\n")
    p = _write(tmp_path, text, _image(1))
    net = load_network(p)
    sc = {nl.name: nl.schedule for nl in net.layers}
    assert sc["pool1"] is None
    assert (sc["enc1"].h.tile, sc["enc1"].w.tile, sc["enc1"].channels) == (4, 6, 8)
    assert (sc["enc1"].h.n_tiles, sc["enc1"].w.n_tiles, sc["enc1"].n_channel_groups) == (3, 3, 2)
    assert (sc["cat"].h.tile, sc["cat"].w.tile, sc["cat"].channels) == (3, 5, 19)
    r = run_network(net, check_tiles=True)
    assert [st.tiled_differ for st in r.stats] == [0] * 5
    assert "3x3x2" in summary(r) and "1 call" in summary(r)
    res = CliRunner().invoke(main, ["run", str(p), "--check-tiles"])
    assert res.exit_code == 0, res.output
    assert res.output.count(" equal") == 5


def test_check_tiles_fails_loudly_when_tiles_differ(tmp_path, monkeypatch):
    import hls_sim.network as network

    p = _write(tmp_path, NET, _image(1))
    monkeypatch.setattr(network, "run_tiled", lambda layer, sched: layer.run().top.raw + 1)
    res = CliRunner().invoke(main, ["run", str(p), "--check-tiles"])
    assert res.exit_code == 1 and "differs from the whole-map run" in res.output
    r = CliRunner().invoke(main, ["run", "weights/upsample.yaml", "--check-tiles"])
    assert r.exit_code == 2 and "only for a network file" in r.output


def test_no_reference_skips_the_error_columns(tmp_path):
    p = _write(tmp_path, NET, _image(1))
    net = load_network(p)
    r = run_network(net, reference=False)
    assert all(st.max_abs_lsb is None and st.n_outputs == 0 for st in r.stats)
    assert np.array_equal(r.output, run_network(net).output)
    res = CliRunner().invoke(main, ["run", str(p), "--no-reference"])
    assert res.exit_code == 0, res.output
    assert "enc1" in res.output and "  -  " in res.output
