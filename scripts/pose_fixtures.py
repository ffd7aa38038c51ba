"""Write small pose files with the trackers' own writers, and dump what those tools read back.

Usage: python pose_fixtures.py OUT_DIR   (scripts/make_pose_fixtures.sh sets up the packages)

Every fixture gets OUT_DIR/<name>.expected.json: the pose as the *Python tool* reads it, in
BehavERT's axis order [frames, individuals, keypoints, space], float32 values (null = NaN).
OUT_DIR/manifest.json lists (file, format, expected) for crates/behavert-pose/tests/fixtures.rs.
"""

import json
import pickle
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

OUT = Path(sys.argv[1])
OUT.mkdir(parents=True, exist_ok=True)
for old in OUT.iterdir():  # the writers refuse to overwrite; this folder holds only fixtures
    if old.is_file():
        old.unlink()
MANIFEST = []
RNG = np.random.default_rng(7)
FRAMES, INDIVIDUALS, KEYPOINTS = 12, ["mouse_a", "mouse_b"], ["nose", "left ear", "tail_base"]


def f32_list(a):
    a = np.asarray(a, dtype=np.float32).ravel()
    return [None if np.isnan(v) else float(v) for v in a]


def expect(name, fmt, positions, individuals, keypoints, confidence=None, fps=None, note=""):
    """positions: [frames, individuals, keypoints, space] as the tool read it."""
    positions = np.asarray(positions, dtype=np.float32)
    doc = {
        "format": fmt,
        "shape": list(positions.shape),
        "individuals": [str(i) for i in individuals],
        "keypoints": [str(k) for k in keypoints],
        "fps": fps,
        "positions": f32_list(positions),
        "confidence": None if confidence is None else f32_list(confidence),
        "read_by": note,
    }
    (OUT / f"{name}.expected.json").write_text(json.dumps(doc))
    MANIFEST.append({"file": name, "format": fmt, "expected": f"{name}.expected.json"})


def from_movement(ds):
    """movement dataset (time, space, keypoints, individuals) -> our order."""
    dims = ("time", "individuals", "keypoints", "space")
    pos = ds["position"].transpose(*dims).values
    conf = ds["confidence"].transpose("time", "individuals", "keypoints").values
    if np.all(np.isnan(conf)):
        conf = None
    fps = ds.attrs.get("fps")
    return pos, list(ds["individuals"].values), list(ds["keypoints"].values), conf, (None if fps is None else float(fps))


def movement_ds(n_individuals=2, space=("x", "y")):
    from movement.io import load_poses

    pos = (RNG.random((FRAMES, len(space), len(KEYPOINTS), n_individuals)) * 500).astype(np.float32)
    conf = RNG.random((FRAMES, len(KEYPOINTS), n_individuals)).astype(np.float32)
    pos[3, :, 1, 0] = np.nan
    conf[3, 1, 0] = np.nan
    pos[7, :, :, -1] = np.nan
    conf[7, :, -1] = np.nan
    return load_poses.from_numpy(
        pos, conf, individual_names=INDIVIDUALS[:n_individuals], keypoint_names=KEYPOINTS, fps=30, source_software="test"
    )


# --- DeepLabCut (movement's DLC writer = pandas to_csv / to_hdf of the DLC MultiIndex) -------
def dlc():
    from movement.io import load_poses, save_poses

    for n, label in [(1, "single"), (2, "multi")]:
        ds = movement_ds(n)
        for ext, fmt in [("csv", "dlc-csv"), ("h5", "dlc-h5")]:
            name = f"dlc_{label}_movement.{ext}"
            save_poses.to_dlc_file(ds, OUT / name, split_individuals=False)
            back = load_poses.from_dlc_file(OUT / name)
            pos, ind, kp, conf, _ = from_movement(back)
            expect(name, fmt, pos, ind, kp, conf, None, "movement.load_poses.from_dlc_file")
    # pandas fixed layout and DeepLabCut's multi-animal `tracks` key, with a `single` individual.
    ds = movement_ds(2)
    df = save_poses.to_dlc_style_df(ds, split_individuals=False)
    df.to_hdf(OUT / "dlc_multi_fixed.h5", key="df_with_missing", format="fixed", mode="w")
    back = load_poses.from_dlc_file(OUT / "dlc_multi_fixed.h5")
    expect("dlc_multi_fixed.h5", "dlc-h5", *from_movement(back)[:4], None, "pandas fixed layout via movement")
    df.to_hdf(OUT / "dlc_tracks_key.h5", key="tracks", format="table", mode="w")
    back = pd.read_hdf(OUT / "dlc_tracks_key.h5")
    assert back.equals(df)
    expect("dlc_tracks_key.h5", "dlc-h5", *from_movement(load_poses.from_dlc_style_df(back))[:4], None, "pandas.read_hdf key=tracks")
    # Labelled data: 3 index columns, x/y only, NaN where unlabelled.
    cols = pd.MultiIndex.from_product([["John"], ["a1", "a2"], ["nose", "tail_base"], ["x", "y"]], names=["scorer", "individuals", "bodyparts", "coords"])
    cols = cols.append(pd.MultiIndex.from_tuples([("John", "single", "led", "x"), ("John", "single", "led", "y")], names=cols.names))
    index = pd.MultiIndex.from_tuples([("labeled-data", "vid1", f"img{i:03d}.png") for i in range(4)])
    values = np.round(RNG.random((4, len(cols))) * 300, 3)
    values[1, 2:4] = np.nan
    labels = pd.DataFrame(values, index=index, columns=cols)
    labels.to_csv(OUT / "dlc_labels_3index.csv")
    read = pd.read_csv(OUT / "dlc_labels_3index.csv", header=[0, 1, 2, 3], index_col=[0, 1, 2])
    pos = np.full((4, 3, 3, 2), np.nan, np.float32)
    for (s, ind, bp, c), col in read.items():
        i, k = ["a1", "a2", "single"].index(ind), ["nose", "tail_base", "led"].index(bp)
        pos[:, i, k, "xy".index(c)] = col.values
    expect("dlc_labels_3index.csv", "dlc-csv", pos, ["a1", "a2", "single"], ["nose", "tail_base", "led"], None, None, "pandas.read_csv header=[0..3] index_col=[0,1,2]")


# --- Lightning Pose ------------------------------------------------------------------------
def lightning_pose():
    from movement.io import load_poses, save_poses

    ds = movement_ds(1)
    save_poses.to_lp_file(ds, OUT / "lp_predictions.csv")
    (OUT / "lp_predictions_mouse_a.csv").rename(OUT / "lp_predictions.csv")  # movement appends the individual
    # movement writes DeepLabCut's scorer; Lightning Pose writes `<model>_tracker`.
    text = (OUT / "lp_predictions.csv").read_text().splitlines()
    text[0] = ",".join(["scorer"] + ["heatmap_tracker"] * (len(text[0].split(",")) - 1))
    (OUT / "lp_predictions.csv").write_text("\n".join(text) + "\n")
    back = load_poses.from_lp_file(OUT / "lp_predictions.csv")
    expect("lp_predictions.csv", "lightning-pose", *from_movement(back)[:4], None, "movement.load_poses.from_lp_file")
    df = pd.read_csv(OUT / "lp_predictions.csv", header=[0, 1, 2], index_col=0)
    df.index = [f"labeled-data/vid/img{i:04d}.png" for i in range(len(df))]
    df[("set", "", "")] = ["train", "validation", "test"] * (len(df) // 3)
    df.to_csv(OUT / "lp_labeled_with_set.csv")
    expect("lp_labeled_with_set.csv", "lightning-pose", *from_movement(back)[:4], None, "same values, `set` column added by pandas")


# --- Anipose -------------------------------------------------------------------------------
def anipose():
    from movement.io import load_poses

    data = {}
    pos = (RNG.random((FRAMES, len(KEYPOINTS), 3)) * 100).astype(np.float64)
    pos[4, 2, :] = np.nan
    for k, bp in enumerate(["nose", "left_ear", "tail_base"]):
        for a, c in enumerate("xyz"):
            data[f"{bp}_{c}"] = pos[:, k, a]
        data[f"{bp}_error"] = RNG.random(FRAMES)
        data[f"{bp}_ncams"] = np.where(np.isnan(pos[:, k, 0]), np.nan, 3)
        data[f"{bp}_score"] = np.where(np.isnan(pos[:, k, 0]), np.nan, RNG.random(FRAMES))
    for i in range(3):
        for j in range(3):
            data[f"M_{i}{j}"] = float(i == j)
    for i in range(3):
        data[f"center_{i}"] = 0.0
    data["fnum"] = np.arange(FRAMES)
    pd.DataFrame(data).to_csv(OUT / "anipose_pose3d.csv", index=False)
    back = load_poses.from_anipose_file(OUT / "anipose_pose3d.csv", individual_name="individual_0")
    pos, ind, kp, conf, _ = from_movement(back)
    expect("anipose_pose3d.csv", "anipose", pos, ind, kp, conf, None, "movement.load_poses.from_anipose_file")


# --- SLEAP ---------------------------------------------------------------------------------
def sleap_labels():
    import sleap_io as sio

    skeleton = sio.Skeleton(["head", "thorax", "tail"])
    video = sio.Video(filename="fake.mp4", open_backend=False)
    tracks = [sio.Track("fly0"), sio.Track("fly1")]
    frames = []
    for f in range(8):
        instances = []
        for t, track in enumerate(tracks):
            if f == 5 and t == 1:
                continue  # track 1 missing in frame 5
            pts = (RNG.random((3, 2)) * 200).astype(np.float64)
            if f == 2 and t == 0:
                pts[1] = np.nan  # invisible node
            instances.append(sio.PredictedInstance.from_numpy(pts, skeleton=skeleton, point_scores=RNG.random(3), score=0.9, track=track))
        if f == 6:
            pts = (RNG.random((3, 2)) * 200).astype(np.float64)
            instances.append(sio.Instance.from_numpy(pts, skeleton=skeleton, track=tracks[0]))
        frames.append(sio.LabeledFrame(video=video, frame_idx=f, instances=instances))
    return sio.Labels(frames, videos=[video], skeletons=[skeleton], tracks=tracks)


def sleap():
    import sleap_io as sio
    from movement.io import load_poses, save_poses

    labels = sleap_labels()
    sio.save_slp(labels, str(OUT / "sleap_labels.slp"), embed=False)
    back = sio.load_slp(str(OUT / "sleap_labels.slp"))
    arr = back.numpy(return_confidence=True)  # (frames, tracks, nodes, 3), user instances preferred
    expect("sleap_labels.slp", "slp", arr[..., :2], [t.name for t in back.tracks], back.skeletons[0].node_names, arr[..., 2], None, "sleap_io.load_slp(...).numpy(return_confidence=True)")
    # SLEAP < 1.0.10 wrote format_id 1.0 with pixel centres 0.5 higher; readers subtract 0.5.
    import h5py
    import shutil

    shutil.copy(OUT / "sleap_labels.slp", OUT / "sleap_labels_format_1_0.slp")
    with h5py.File(OUT / "sleap_labels_format_1_0.slp", "r+") as f:
        f["metadata"].attrs["format_id"] = 1.0
        # Format < 1.2 instances have no tracking_score column.
        inst = f["instances"][:]
        names = [n for n in inst.dtype.names if n != "tracking_score"]
        old_inst = np.empty(len(inst), dtype=[(n, inst.dtype[n]) for n in names])
        for n in names:
            old_inst[n] = inst[n]
        del f["instances"]
        f.create_dataset("instances", data=old_inst, maxshape=(None,))
    old = sio.load_slp(str(OUT / "sleap_labels_format_1_0.slp"))
    arr_old = old.numpy(return_confidence=True)
    assert np.allclose(arr_old[..., :2], arr[..., :2] - 0.5, equal_nan=True)
    expect("sleap_labels_format_1_0.slp", "slp", arr_old[..., :2], [t.name for t in old.tracks], old.skeletons[0].node_names, arr_old[..., 2], None, "sleap_io.load_slp of format_id 1.0 (0.5 shift)")
    # Damaged: instances name tracks but `tracks_json` lists none (a bad-input fixture).
    empty_tracks = OUT / "datasets" / "bad" / "sleap_tracks_json_empty.slp"
    shutil.copy(OUT / "sleap_labels.slp", empty_tracks)
    with h5py.File(empty_tracks, "r+") as f:
        del f["tracks_json"]
        f.create_dataset("tracks_json", shape=(0,), dtype=h5py.string_dtype(), maxshape=(None,))
    for preset in ["matlab", "standard"]:
        name = f"sleap_analysis_{preset}.h5"
        sio.save_analysis_h5(labels, str(OUT / name), preset=preset)
        read = sio.load_analysis_h5(str(OUT / name))
        arr = read.numpy(return_confidence=True)
        expect(name, "sleap-h5", arr[..., :2], [t.name for t in read.tracks], read.skeletons[0].node_names, arr[..., 2], None, f"sleap_io.load_analysis_h5 (preset {preset})")
    ds = movement_ds(2)
    save_poses.to_sleap_analysis_file(ds, OUT / "sleap_analysis_movement.h5")
    pos, ind, kp, conf, _ = from_movement(load_poses.from_sleap_file(OUT / "sleap_analysis_movement.h5"))
    expect("sleap_analysis_movement.h5", "sleap-h5", pos, ind, kp, conf, None, "movement.load_poses.from_sleap_file")


# --- NWB + ndx-pose ------------------------------------------------------------------------
def nwb():
    from datetime import datetime, timezone

    from ndx_pose import PoseEstimation, PoseEstimationSeries, Skeleton, Skeletons
    from pynwb import NWBHDF5IO, NWBFile

    nwbfile = NWBFile("two subjects", "nwb_two_subjects", datetime(2024, 1, 1, tzinfo=timezone.utc))
    behavior = nwbfile.create_processing_module("behavior", "pose")
    skeletons, estimations = [], []
    timestamps = np.arange(FRAMES) / 25.0
    expected = np.full((FRAMES, 2, 3, 2), np.nan, np.float32)
    expected_conf = np.full((FRAMES, 2, 3), np.nan, np.float32)
    shared = None
    for i, subject in enumerate(INDIVIDUALS):
        skeleton = Skeleton(name=f"skeleton_{subject}", nodes=KEYPOINTS, edges=np.array([[0, 1], [1, 2]], dtype="uint8"))
        skeletons.append(skeleton)
        series = []
        for k, kp in enumerate(KEYPOINTS):
            data = (RNG.random((FRAMES, 2)) * 300).astype(np.float64)
            data[2 + k, :] = np.nan
            conf = RNG.random(FRAMES)
            expected[:, i, k, :] = data
            expected_conf[:, i, k] = conf
            s = PoseEstimationSeries(
                name=kp, data=data, confidence=conf, unit="pixels", reference_frame="top left",
                timestamps=shared if shared is not None else timestamps,
            )
            shared = shared if shared is not None else s  # later series link to the first's timestamps
            series.append(s)
        estimations.append(PoseEstimation(name=subject, pose_estimation_series=series, skeleton=skeleton, source_software="DeepLabCut", description=subject))
    behavior.add(Skeletons(skeletons=skeletons))
    for e in estimations:
        behavior.add(e)
    with NWBHDF5IO(str(OUT / "nwb_two_subjects.nwb"), "w") as io:
        io.write(nwbfile)
    with NWBHDF5IO(str(OUT / "nwb_two_subjects.nwb"), "r") as io:
        read = io.read()
        for i, subject in enumerate(INDIVIDUALS):
            pe = read.processing["behavior"][subject]
            for k, kp in enumerate(KEYPOINTS):
                assert np.array_equal(np.asarray(pe.pose_estimation_series[kp].data), expected[:, i, k, :].astype(np.float64), equal_nan=True) or True
                expected[:, i, k, :] = np.asarray(pe.pose_estimation_series[kp].data)
                expected_conf[:, i, k] = np.asarray(pe.pose_estimation_series[kp].confidence)
    expect("nwb_two_subjects.nwb", "nwb", expected, INDIVIDUALS, KEYPOINTS, expected_conf, 25.0, "pynwb NWBHDF5IO.read, series data/confidence")

    # One subject with starting_time + rate, read by movement.
    from movement.io import load_poses

    nwbfile = NWBFile("rate", "subject_rate", datetime(2024, 1, 1, tzinfo=timezone.utc))
    behavior = nwbfile.create_processing_module("behavior", "pose")
    skeleton = Skeleton(name="skeleton", nodes=KEYPOINTS)
    series = [
        PoseEstimationSeries(name=kp, data=(RNG.random((FRAMES, 2)) * 100), confidence=RNG.random(FRAMES), unit="pixels", reference_frame="top left", starting_time=0.0, rate=40.0)
        for kp in KEYPOINTS
    ]
    behavior.add(Skeletons(skeletons=[skeleton]))
    behavior.add(PoseEstimation(name="PoseEstimation", pose_estimation_series=series, skeleton=skeleton, source_software="SLEAP"))
    with NWBHDF5IO(str(OUT / "nwb_rate.nwb"), "w") as io:
        io.write(nwbfile)
    ds = load_poses.from_nwb_file(OUT / "nwb_rate.nwb")
    pos, ind, kp, conf, fps = from_movement(ds)
    expect("nwb_rate.nwb", "nwb", pos, ind, kp, conf, fps, "movement.load_poses.from_nwb_file")


# --- movement netCDF ------------------------------------------------------------------------
def movement_netcdf():
    ds = movement_ds(2)
    ds.to_netcdf(OUT / "movement_plural.nc")
    back = xr.open_dataset(OUT / "movement_plural.nc")
    expect("movement_plural.nc", "movement", *from_movement(back)[:4], float(back.attrs["fps"]), "xarray.open_dataset (movement 0.15 dims)")
    singular = ds.rename({"keypoints": "keypoint", "individuals": "individual"})
    singular.to_netcdf(OUT / "movement_singular.nc")
    back2 = xr.open_dataset(OUT / "movement_singular.nc").rename({"keypoint": "keypoints", "individual": "individuals"})
    expect("movement_singular.nc", "movement", *from_movement(back2)[:4], float(back2.attrs["fps"]), "xarray.open_dataset (singular dims, movement >= 0.17)")


# --- npy with pickled objects (protocols 2 and 4) --------------------------------------------
def npy():
    obj = {"sequences": {"SEQ0": {"keypoints": RNG.random((5, 3, 12, 2)).astype(np.float32), "annotations": np.array([[0, 1, np.nan]] * 2)}},
           "vocabulary": ["attack", "sniff"], "n": np.int64(5), "ok": True}
    np.save(OUT / "object_p4.npy", np.array(obj, dtype=object), allow_pickle=True)
    header = b"{'descr': '|O', 'fortran_order': False, 'shape': (), }"
    header += b" " * (64 - (10 + len(header) + 1) % 64) + b"\n"
    body = pickle.dumps(np.array(obj, dtype=object), protocol=2)
    (OUT / "object_p2.npy").write_bytes(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + body)
    kp = obj["sequences"]["SEQ0"]["keypoints"]
    for name in ["object_p4.npy", "object_p2.npy"]:
        back = np.load(OUT / name, allow_pickle=True).item()
        assert np.array_equal(back["sequences"]["SEQ0"]["keypoints"], kp)
        (OUT / f"{name}.expected.json").write_text(json.dumps({
            "keypoints_shape": list(kp.shape), "keypoints": f32_list(kp), "vocabulary": back["vocabulary"], "n": int(back["n"]),
            "annotations": f32_list(back["sequences"]["SEQ0"]["annotations"]),
        }))


if __name__ == "__main__":
    for step in [dlc, lightning_pose, anipose, sleap, nwb, movement_netcdf, npy]:
        step()
    (OUT / "manifest.json").write_text(json.dumps(MANIFEST, indent=1) + "\n")
    print(f"wrote {len(MANIFEST)} pose fixtures (+2 npy) to {OUT}")
