"""Every function of the Python API, against the command line's outputs for the same model and
files: the `behavert` binary `cargo test` built (target/debug), or where there is none the same
command run in this process through `behavert._native.run_command`."""

import json
import subprocess
import threading

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import behavert
from behavert import _native

from conftest import FIXTURES, REPOSITORY

FPS = 30.0
BINARY = REPOSITORY / "target" / "debug" / "behavert"


def cli(*args):
    args = [str(a) for a in args]
    if BINARY.is_file():
        done = subprocess.run([str(BINARY), *args], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    else:
        _native.run_command(args)


def test_read_pose_gives_movements_layout_and_values():
    path = FIXTURES / "dlc_multi_movement.csv"
    pose = behavert.read_pose(path, fps=FPS)
    assert pose["position"].dims == ("time", "space", "keypoints", "individuals")
    assert pose["confidence"].dims == ("time", "keypoints", "individuals")
    assert pose.attrs["source_software"] == "DeepLabCut"
    assert pose.attrs["fps"] == FPS and pose.attrs["time_unit"] == "seconds"
    np.testing.assert_allclose(pose["time"].values[:3], [0, 1 / FPS, 2 / FPS])
    # The values the file holds, as the fixture's expectation (written by the tool) says.
    expected = json.loads((FIXTURES / "dlc_multi_movement.csv.expected.json").read_text())
    assert list(pose["individuals"].values) == expected["individuals"]
    assert list(pose["keypoints"].values) == expected["keypoints"]
    frames, individuals, keypoints, space = expected["shape"]
    assert (pose.sizes["time"], pose.sizes["space"]) == (frames, space)
    # The expectation is flat in [frames, individuals, keypoints, space] order.
    position = pose["position"].transpose("time", "individuals", "keypoints", "space").values
    np.testing.assert_allclose(position.ravel(), np.array(expected["positions"], dtype=float), rtol=1e-6)


def test_read_pose_matches_movement_itself():
    movement_io = pytest.importorskip("movement.io")
    path = FIXTURES / "dlc_multi_movement.h5"
    ours = behavert.read_pose(path)
    theirs = movement_io.load_dataset(path, source_software="DeepLabCut")
    assert ours["position"].dims == theirs["position"].dims
    for name in ("individuals", "keypoints", "space"):
        assert list(ours[name].values) == list(theirs[name].values)
    np.testing.assert_allclose(ours["position"].values, theirs["position"].values, rtol=1e-6, equal_nan=True)
    np.testing.assert_allclose(ours["confidence"].values, theirs["confidence"].values, rtol=1e-6, equal_nan=True)


def test_errors_are_python_exceptions_with_the_clear_message(tmp_path):
    missing = tmp_path / "nowhere.csv"
    with pytest.raises(behavert.BehavertError, match="nowhere.csv"):
        behavert.read_pose(missing)
    bad = tmp_path / "bad.csv"
    bad.write_text("scorer,a,a\nbodyparts,nose,nose\ncoords,x,y\n0,1,zz\n")
    with pytest.raises(behavert.BehavertError, match=r"bad.csv: line 4, column 3 \(nose/y\): expected a number"):
        behavert.read_pose(bad)
    with pytest.raises(behavert.BehavertError, match="format"):
        behavert.read_pose(FIXTURES / "dlc_multi_movement.csv", format="no-such-format")
    with pytest.raises(behavert.BehavertError, match="cannot load the model"):
        behavert.Model.load(tmp_path)
    with pytest.raises(ValueError, match="--no-such-flag"):
        _native.run_command(["finetune", "--no-such-flag"])


def test_predict_equals_the_cli(model, model_dir, recordings, tmp_path):
    pose_file = recordings[0][0]
    out = tmp_path / "predictions.csv"
    cli("infer", "--model", model_dir, "--input", pose_file, "--output", out, "--fps", FPS, "--no-progress")
    theirs = pd.read_csv(out)
    ours = model.predict(pose_file, fps=FPS)
    assert list(ours.columns) == list(theirs.columns)
    assert len(ours) == len(theirs) > 0
    assert (ours["label"] == theirs["label"]).all()
    np.testing.assert_array_equal(ours["frame"], theirs["frame"])
    np.testing.assert_allclose(ours["time_s"], theirs["time_s"], atol=5e-5)
    probabilities = [c for c in ours.columns if c.startswith("p_")]
    assert probabilities
    (head,) = model.heads
    assert (head["kind"], head["level"]) == ("multiclass", "frame")
    assert probabilities == [f"p_{name}" for name in head["outputs"]]
    assert model.window_length > 0
    # The CSV holds 6 decimals.
    np.testing.assert_allclose(ours[probabilities], theirs[probabilities], atol=5e-7)
    np.testing.assert_allclose(ours[probabilities].sum(axis=1), 1.0, atol=1e-5)

    bouts = model.predict_bouts(pose_file, fps=FPS)
    their_bouts = pd.read_csv(tmp_path / "predictions_bouts.csv")
    assert list(bouts.columns) == list(their_bouts.columns)
    assert (bouts["behaviour"] == their_bouts["behaviour"]).all()
    np.testing.assert_array_equal(bouts[["start_frame", "end_frame"]], their_bouts[["start_frame", "end_frame"]])
    np.testing.assert_allclose(bouts["mean_probability"], their_bouts["mean_probability"], atol=5e-7)
    assert bouts["end_frame"].iloc[-1] == len(ours) - 1


def test_bf16_labels_as_f32_does_or_says_why_not(model, model_dir, recordings):
    pose_file = recordings[0][0]
    try:
        fast = behavert.Model.load(model_dir, precision="bf16")
    except behavert.BehavertError as error:
        assert "AVX-512 BF16" in str(error)
        return
    ours, theirs = fast.predict(pose_file, fps=FPS), model.predict(pose_file, fps=FPS)
    probabilities = [c for c in ours.columns if c.startswith("p_")]
    np.testing.assert_allclose(ours[probabilities], theirs[probabilities], atol=0.02)
    assert (ours["label"] == theirs["label"]).mean() > 0.99
    with pytest.raises(behavert.BehavertError, match="expected f32 or bf16"):
        behavert.Model.load(model_dir, precision="fp8")


def test_embed_equals_the_cli(model, model_dir, recordings, tmp_path):
    pose_file = recordings[0][0]
    out = tmp_path / "embeddings.npy"
    cli("embed", "--model", model_dir, "--input", pose_file, "--output", out, "--fps", FPS, "--no-progress")
    ours = model.embed(pose_file, fps=FPS)
    assert ours.dtype == np.float32 and ours.flags["C_CONTIGUOUS"]
    np.testing.assert_array_equal(ours, np.load(out))


def test_a_movement_dataset_is_a_pose_like_any_file(model, recordings):
    movement_io = pytest.importorskip("movement.io")
    pose_file = recordings[0][0]
    loaded = movement_io.load_dataset(pose_file, source_software="DeepLabCut", fps=FPS)
    from_movement = model.predict(loaded)
    from_file = model.predict(pose_file, fps=FPS)
    pd.testing.assert_frame_equal(from_movement, from_file, check_exact=False, atol=1e-6)
    # Our own Dataset, edited as a user would (one keypoint lost for a while), is taken too.
    ours = behavert.read_pose(pose_file, fps=FPS)
    ours["position"][10:20, :, 0, :] = np.nan
    assert len(model.predict(ours)) == ours.sizes["time"]


def test_write_pose_round_trips_and_never_overwrites(tmp_path):
    pose = behavert.read_pose(FIXTURES / "dlc_multi_movement.csv")
    for format in ("dlc-h5", "dlc-csv", "npy"):
        path = behavert.write_pose(pose, tmp_path / f"pose.{format}", format=format)
        back = behavert.read_pose(path, format=format)
        np.testing.assert_allclose(back["position"].values, pose["position"].values, equal_nan=True)
        assert list(back["individuals"].values) == list(pose["individuals"].values)
        with pytest.raises(behavert.BehavertError, match="pose"):
            behavert.write_pose(pose, path, format=format)
    with pytest.raises(behavert.BehavertError, match="writable"):
        behavert.write_pose(pose, tmp_path / "x.nwb", format="nwb")


def test_a_dataset_without_positions_is_refused(model):
    with pytest.raises(behavert.BehavertError, match="position"):
        model.predict(xr.Dataset({"speed": ("time", np.zeros(5))}))


def test_threads_label_at_once(model, recordings):
    # The GIL is released while the model runs: threads interleave and each gets its own answer.
    results = {}

    def label(i, path):
        results[i] = model.predict(path, fps=FPS)["label"].tolist()

    threads = [threading.Thread(target=label, args=(i, p)) for i, (p, _) in enumerate(recordings[:2])]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, (path, _) in enumerate(recordings[:2]):
        assert results[i] == model.predict(path, fps=FPS)["label"].tolist()


def test_finetune_pretrain_and_evaluate(recordings, tmp_path):
    inputs = [p for p, _ in recordings]
    labels = [lab for _, lab in recordings]
    config = {"model": {"size": "tiny"}, "window": {"length": 64, "stride": 32}, "training": {"batch_size": 8}}
    # Poses as Datasets, as a user edited them, train as files do.
    datasets = [behavert.read_pose(p) for p in inputs]
    pre = behavert.pretrain(config, output_dir=tmp_path / "pre", inputs=datasets, max_steps=4, no_progress=True)
    assert (pre / "best" / "model.safetensors").is_file()
    run = behavert.finetune(
        config,
        output_dir=tmp_path / "fine",
        inputs=inputs,
        labels=labels,
        pretrained=pre / "best",
        max_steps=4,
        no_progress=True,
    )
    assert (run / "best" / "model.safetensors").is_file()
    metrics = behavert.evaluate(
        run / "best", output_dir=tmp_path / "eval", inputs=inputs, labels=labels, fps=FPS, no_progress=True
    )
    assert metrics == json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert 0.0 <= metrics["frame"]["macro_all"]["f1"] <= 1.0
    # A bad value is refused before any work, with the command line's message.
    with pytest.raises(behavert.BehavertError, match="learning_rate"):
        behavert.finetune(config, output_dir=tmp_path / "bad", inputs=inputs, labels=labels, learning_rate=-1)
    assert not (tmp_path / "bad").exists()


def test_a_role_model_labels_who_did_what_to_whom_as_the_cli_does(recordings, tmp_path):
    config = REPOSITORY / "configs" / "training" / "roles-sim.toml"
    run = behavert.finetune(config, output_dir=tmp_path / "roles", max_steps=4, no_progress=True)
    model = behavert.Model.load(run / "best")
    roles = model.roles
    assert roles["slots"] == 4 and roles["behaviours"]["attack"] == "directed"
    assert roles["behaviours"]["grooming"] == "solo"
    path = recordings[0][0]
    table = model.predict_roles(path, fps=FPS)
    assert list(table.columns) == ["frame", "time_s", "agent", "target", "behaviour", "probability"]
    assert set(table["agent"]) == {"resident", "intruder"}
    assert table.loc[table["behaviour"] == "grooming", "target"].isna().all()
    out = tmp_path / "roles.csv"
    cli("infer", "--model", run / "best", "--input", path, "--output", out, "--fps", FPS)
    written = pd.read_csv(out)
    assert len(written) == len(table)
    assert written["agent"].tolist() == table["agent"].tolist()
    assert written["behaviour"].tolist() == table["behaviour"].tolist()
    assert written["target"].isna().tolist() == table["target"].isna().tolist()
    assert np.allclose(written["probability"], table["probability"], atol=1e-6)
    with pytest.raises(behavert.BehavertError, match="predict_roles"):
        model.predict(path, fps=FPS)
    assert behavert.Model.load(run / "best").roles is not None
