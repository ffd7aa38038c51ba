#!/usr/bin/env python3
"""Write the small benchmark-dataset fixtures under crates/behavert-pose/tests/fixtures/datasets/.

Each file is written the way the original dataset was written (docs/datasets.md):
  CalMS21       json.dump of nested lists (and np.save of the dict, the npy variant)
  MABe22        np.save of a dict (object array): numpy >= 2 pickles name `numpy._core`,
                numpy < 2 pickles name `numpy.core` (run once more under numpy < 2, see below)
  SBeA          scipy.io.savemat (uncompressed, and one compressed file)
  DeepEthogram  pandas to_csv for the label CSV and the DeepLabCut keypoint CSV, plus the YAML
  PAIR-R24M     pandas to_csv for metadata.csv and markerDataset.csv
  MABe 2025     pandas to_csv for train.csv / test.csv, pandas to_parquet (pyarrow) for the
                tracking and annotation files: snappy and zstd, int8 and int64 ids, float32
                and float64 coordinates, categorical and plain body-part names

Values follow formulas the Rust tests check, so an axis swap shows up as a wrong number:
  2D: x = 100*individual + 10*keypoint + frame,  y = 500 + 100*individual + 10*keypoint + frame
  3D: z = 900 + 100*individual + 10*keypoint + frame (x, y as above)

Run:  python3 scripts/make_dataset_fixtures.py            (numpy >= 2: everything)
      /path/to/numpy1-venv/bin/python scripts/make_dataset_fixtures.py --mabe22-only
          (numpy < 2: writes mabe22_np1/ with a real numpy 1.x np.save)
Needs numpy, scipy, pandas, pyarrow (pip install numpy scipy pandas pyarrow). The outputs are committed; the
tests never run Python.
"""

import argparse
import json
import os
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent.parent / "crates/behavert-pose/tests/fixtures/datasets"
NP2 = int(np.__version__.split(".")[0]) >= 2
# numpy < 2 writes the same MABe22 files into mabe22_np1/ (pickles naming `numpy.core`).
MABE_DIR = "mabe22" if NP2 else "mabe22_np1"


def coord(frame, individual, keypoint, axis):
    return [0.0, 500.0, 900.0][axis] + 100.0 * individual + 10.0 * keypoint + frame


def positions(frames, individuals, keypoints, space):
    """[frames, individuals, keypoints, space] by the formula above."""
    a = np.zeros((frames, individuals, keypoints, space))
    for t in range(frames):
        for i in range(individuals):
            for k in range(keypoints):
                for s in range(space):
                    a[t, i, k, s] = coord(t, i, k, s)
    return a


# ---------------------------------------------------------------- CalMS21 (docs/datasets.md#calms21)
CALMS_VOCAB = {"attack": 0, "investigation": 1, "mount": 2, "other": 3}


def calms_record(frames, annotations, annotator, vocab, labelled=True, seed=0):
    # CalMS21 stores keypoints as [T][mouse][xy][keypoint]: transpose ours (T, mouse, kp, xy).
    kp = positions(frames, 2, 7, 2).transpose(0, 1, 3, 2)
    scores = np.round(np.random.default_rng(seed).uniform(0.5, 1.0, (frames, 2, 7)), 3)
    scores[0, 1, 6] = 0.25  # a recognisable score: frame 0, intruder, tail
    record = {"keypoints": kp.tolist(), "scores": scores.tolist()}
    if labelled:
        record["annotations"] = list(annotations)
    record["metadata"] = {"annotator-id": annotator, "vocab": vocab}
    return record


def calms21():
    out = OUT / "calms21"
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "calms21_task1_train.json": {
            "annotator-id_0": {
                "task1/train/mouse001_task1_annotator1": calms_record(
                    6, [3, 3, 1, 1, 0, 2], 0, CALMS_VOCAB, seed=1
                ),
                "task1/train/mouse002_task1_annotator1": calms_record(
                    4, [3, 0, 0, 3], 0, CALMS_VOCAB, seed=2
                ),
            }
        },
        "calms21_task1_test.json": {
            "annotator-id_0": {
                "task1/test/mouse071_task1_annotator1": calms_record(
                    5, [1, 1, 1, 3, 3], 0, CALMS_VOCAB, seed=3
                ),
            }
        },
        "calms21_task2_train.json": {
            f"annotator-id_{k}": {
                f"task2/annotator{k}/train/mouse00{k}_task2_annotator{k}": calms_record(
                    3, [k % 4, 3, 2], k, CALMS_VOCAB, seed=10 + k
                )
            }
            for k in (1, 2)
        },
        "calms21_task3_train.json": {
            behaviour: {
                f"task3/{behaviour}/train/mouse00{j}_task3_{behaviour}": calms_record(
                    4, [0, 1, 1, 0], 0, {"other": 0, behaviour: 1}, seed=20 + j
                )
            }
            for j, behaviour in enumerate(["approach", "groom"])
        },
        "calms21_unlabeled_videos_part1.json": {
            "unlabeled_videos": {
                "unlabeled/mouse501": calms_record(3, [], -1, {}, labelled=False, seed=30),
                "unlabeled/mouse502": calms_record(2, [], -1, {}, labelled=False, seed=31),
            }
        },
    }
    for name, content in files.items():
        with open(out / name, "w") as f:
            json.dump(content, f)  # as the CalMS21 release: one line, default separators
    # npy variant (calms21_convert_to_npy.py): the same dict, lists turned into arrays.
    npy = OUT / "calms21_npy"
    npy.mkdir(parents=True, exist_ok=True)
    task1 = files["calms21_task1_train.json"]
    converted = {
        group: {
            sid: {
                "keypoints": np.array(r["keypoints"]),
                "scores": np.array(r["scores"]),
                "annotations": np.array(r["annotations"]),
                "metadata": r["metadata"],
            }
            for sid, r in seqs.items()
        }
        for group, seqs in task1.items()
    }
    np.save(npy / "calms21_task1_train.npy", converted, allow_pickle=True)
    # Bad input: a sequence whose keypoints are nested one level too shallow, a record without
    # keypoints.
    bad = OUT / "bad"
    bad.mkdir(parents=True, exist_ok=True)
    good = calms_record(2, [3, 3], 0, CALMS_VOCAB)
    shallow = dict(good, keypoints=[[row[0] for row in frame] for frame in good["keypoints"]])
    with open(bad / "calms21_wrong_nesting.json", "w") as f:
        json.dump({"annotator-id_0": {"task1/train/bad": shallow}}, f)
    missing = {k: v for k, v in good.items() if k != "keypoints"}
    with open(bad / "calms21_missing_keypoints.json", "w") as f:
        json.dump({"annotator-id_0": {"task1/train/bad": missing}}, f)


# ---------------------------------------------------------------- MABe22 (docs/datasets.md#mabe22-mouse-triplets)
MABE_IDS = ["0D2SPY7EPE05CRPC8DP0", "HQU0RZZFDFINVHEBMNIZ"]
TEST_IDS = ["95M5XNPQQ4SBG2QOT3JU", "WQPK2Y3X9G573N5QAS5H", "DURK5RWJG4Y14PGH5PBY"]
TASKS = [
    "experiment_day", "time_of_day", "strain", "approaches", "chases", "close", "contact",
    "huddles", "oral_ear_contact", "oral_genital_contact", "oral_oral_contact", "watching",
    "lights",
]


def mabe_keypoints(frames, mice=3, keypoints=12, dtype="float32"):
    # MABe22 is (frame, mouse, keypoint, xy): already our order.
    kp = positions(frames, mice, keypoints, 2).astype(dtype)
    kp[2, 1, 4, :] = np.nan  # one missing keypoint: frame 2, mouse 1, left_forepaw
    return kp


def mabe22():
    out = OUT / MABE_DIR
    out.mkdir(parents=True, exist_ok=True)
    train = {
        "vocabulary": ["lights", "chases"],
        "sequences": {
            sid: {
                "keypoints": mabe_keypoints(5),
                "annotations": np.array(
                    [[1, 1, 1, 1, 1], [0, np.nan, 1, 1, 0]], dtype="float32"
                ),
            }
            for sid in MABE_IDS
        },
    }
    np.save(out / f"mouse_triplet_train.npy", train, allow_pickle=True)
    test = {"sequences": {sid: {"keypoints": mabe_keypoints(4)} for sid in TEST_IDS}}
    np.save(out / f"mouse_triplet_test.npy", test, allow_pickle=True)
    frame_map = {sid: (4 * i, 4 * i + 4) for i, sid in enumerate(TEST_IDS)}
    np.save(out / f"frame_number_map.npy", frame_map, allow_pickle=True)
    label_array = np.full((13, 12), np.nan)
    label_array[0, :] = np.repeat([3.0, 7.0, 1.0], 4)  # experiment_day: per sequence
    label_array[1, :] = np.linspace(0.25, 0.75, 12)  # time_of_day: continuous
    label_array[4, :8] = [0, 1, 1, 0, 0, 0, 1, 0]  # chases: the third sequence unlabelled
    labels = {
        "frame_number_map": frame_map,
        "label_array": label_array,
        "vocabulary": TASKS,
        "task_type": ["Continious", "Continious"] + ["Discrete"] * 11,
    }
    np.save(out / f"mouse_triplets_test_labels.npy", labels, allow_pickle=True)
    if not NP2:
        return
    # Fly groups: (frame, fly 0..10, 24 feature rows, 2); absent flies are all NaN.
    fly = OUT / "mabe22_fly"
    fly.mkdir(parents=True, exist_ok=True)
    kp = positions(3, 11, 24, 2)
    kp[:, 8:, :, :] = np.nan
    np.save(
        fly / "user_train.npy",
        {"vocabulary": ["female"], "sequences": {"FLY0001": {
            "keypoints": kp, "annotations": np.ones((1, 3))}}},
        allow_pickle=True,
    )
    bad = OUT / "bad"
    bad.mkdir(parents=True, exist_ok=True)
    np.save(
        bad / "mabe22_wrong_shape.npy",
        {"sequences": {"X": {"keypoints": np.zeros((4, 3, 12))}}},
        allow_pickle=True,
    )
    np.save(bad / "mabe22_no_sequences.npy", {"vocabulary": []}, allow_pickle=True)


# ---------------------------------------------------------------- SBeA (docs/datasets.md#sbea)
def sbea():
    import scipy.io

    out = OUT / "sbea"
    out.mkdir(parents=True, exist_ok=True)
    for name, animals, frames, compress in [
        ("rec1-A1A6-20220822", ["A1", "A6"], 4, False),
        ("rec2-B2B3-20220823", ["B2", "B3"], 3, True),
    ]:
        # coords3d (T, animals*48): animal m in columns [48m, 48m+48), keypoint k at 3k..3k+2.
        coords = positions(frames, len(animals), 16, 3).reshape(frames, -1)
        coords[1, 48 + 3 * 13 : 48 + 3 * 13 + 3] = np.nan  # frame 1, animal 1, root_tail
        scipy.io.savemat(
            out / f"{name}-id3d.mat",
            {"name3d": np.array(animals), "coords3d": coords},
            do_compression=compress,
        )
    bad = OUT / "bad"
    bad.mkdir(parents=True, exist_ok=True)
    scipy.io.savemat(bad / "bad-A1A2-20220101-id3d.mat", {"coords3d": np.zeros((3, 50))})


# ---------------------------------------------------------------- DeepEthogram (docs/datasets.md#deepethogram)
def deepethogram():
    import pandas as pd

    root = OUT / "deepethogram" / "mice_project_deepethogram"
    classes = ["background", "groom", "rear"]
    (root / "models").mkdir(parents=True, exist_ok=True)
    with open(root / "project_config.yaml", "w") as f:
        f.write(
            "project:\n"
            "  class_names:\n" + "".join(f"  - {c}\n" for c in classes) +
            "  data_path: DATA\n"
            "  labeler: null\n"
            "  model_path: models\n"
            "  name: mice\n"
            f"  path: /home/user/{root.name}\n"
        )
    videos = {
        "vid1": np.array([[1, 0, 0], [0, 1, 0], [0, 1, 1], [1, 0, 0]]),
        "vid2": np.array([[0, 1, 0], [-1, -1, -1], [-1, -1, -1]]),
        "vid3": np.array([[1, 0, 0], [1, 0, 0]]),  # no keypoints: skipped by the loader
    }
    for video, labels in videos.items():
        d = root / "DATA" / video
        d.mkdir(parents=True, exist_ok=True)
        pd.DataFrame(labels, columns=classes).to_csv(d / f"{video}_labels.csv")
        (d / f"{video}.mp4").write_bytes(b"")
        if video == "vid3":
            continue
        frames = len(labels)
        bodyparts = ["nose", "left_ear", "right_ear", "tail_base"]
        scorer = "DLC_resnet50_miceJan1shuffle1_1000"
        columns = pd.MultiIndex.from_product(
            [[scorer], bodyparts, ["x", "y", "likelihood"]],
            names=["scorer", "bodyparts", "coords"],
        )
        values = np.zeros((frames, len(columns)))
        for t in range(frames):
            for k in range(len(bodyparts)):
                values[t, 3 * k : 3 * k + 3] = [coord(t, 0, k, 0), coord(t, 0, k, 1), 0.9]
        pd.DataFrame(values, columns=columns).to_csv(d / f"{video}{scorer}.csv")


# ---------------------------------------------------------------- PAIR-R24M (docs/datasets.md#pair-r24m)
PAIR_MARKERS = [
    "HeadF", "HeadB", "HeadL", "SpineF", "SpineM", "SpineL",
    "Offset1", "Offset2", "HipL", "HipR", "ShoulderL", "ShoulderR",
]


def pair_r24m():
    import pandas as pd

    root = OUT / "pair_r24m" / "PAIR-R24M-Dataset"
    sessions = [
        ("20210205_Recording_SR1_SR6m_wvid_social_new", 5),
        ("20210210_Recording_SR2_SR3_wvid_social_new", 3),
    ]
    root.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(
        {"FolderPath": [s for s, _ in sessions], "Pair": ["SR1_SR6", "SR2_SR3"]}
    ).to_csv(root / "metadata.csv", index=False)
    for session, frames in sessions:
        pos = positions(frames, 2, 12, 3)
        cols = {}
        for family, offset in [("absolutePosition", 0.0), ("relativePosition", -1000.0)]:
            for an in (1, 2):
                for k, marker in enumerate(PAIR_MARKERS):
                    for s, axis in enumerate("xyz"):
                        cols[f"{family}_an{an}_{marker}_{axis}"] = pos[:, an - 1, k, s] + offset
        for an in (1, 2):
            for s, axis in enumerate("xyz"):
                cols[f"centerOfmass_an{an}_{axis}"] = pos[:, an - 1, :, s].mean(axis=1)
        good1 = np.ones(frames)
        good1[1] = 0  # frame 1 of rat 1 is a bad frame
        cols["goodFrame_an1"] = good1
        cols["goodFrame_an2"] = np.ones(frames)
        cols["behaviorCoarse_an1"] = (np.arange(frames) % 3 + 1).astype(float)
        cols["behaviorCoarse_an2"] = np.full(frames, 2.0)
        cols["behaviorFine_an1"] = (np.arange(frames) % 5 + 1).astype(float)
        cols["behaviorFine_an2"] = np.full(frames, 4.0)
        inter = np.full(frames, np.nan)
        inter[0] = 2.0
        cols["interactionCat"] = inter
        df = pd.DataFrame(cols)
        df.loc[2, "absolutePosition_an2_HeadF_x"] = np.nan  # missing mocap marker
        d = root / session
        d.mkdir(parents=True, exist_ok=True)
        df.to_csv(d / "markerDataset.csv", index=False)


def mabe2025():
    """Kaggle's MABe 2025 layout: metadata CSVs, per-video tracking and annotation parquet.

    Tracking rows are long (video_frame, mouse_id, bodypart, x, y) with x, y by the formula of
    coord() (individual = mouse_id - 1, keypoint = index in body_parts_tracked); rows are
    shuffled, and mouse 3 of video 101 is out of view (no rows) in frames 4 to 6.
    """
    import pandas as pd

    root = OUT / "mabe2025"
    bodyparts = ["nose", "ear_left", "ear_right", "tail_base"]
    other_parts = ["nose", "neck", "tail_base"]

    def tracking(frames, mice, parts, absent=()):
        rows = []
        for t in range(frames):
            for m in range(1, mice + 1):
                if (m, t) in absent:
                    continue
                for k, part in enumerate(parts):
                    rows.append((t, m, part, coord(t, m - 1, k, 0), coord(t, m - 1, k, 1)))
        df = pd.DataFrame(rows, columns=["video_frame", "mouse_id", "bodypart", "x", "y"])
        return df.sample(frac=1.0, random_state=0).reset_index(drop=True)

    def meta(lab, video, mice, parts, labelled):
        row = {"lab_id": lab, "video_id": video}
        for m in range(1, 5):
            row[f"mouse{m}_strain"] = "C57Bl/6J" if m <= mice else None
        row.update(
            frames_per_second=30.0,
            video_duration_sec=1.0,
            pix_per_cm_approx=10.0,
            video_width_pix=1024,
            video_height_pix=570,
            body_parts_tracked=json.dumps(parts),
            behaviors_labeled=json.dumps(labelled) if labelled is not None else None,
            tracking_method="DeepLabCut",
        )
        return row

    def write(df, path, compression):
        path.parent.mkdir(parents=True, exist_ok=True)
        df.to_parquet(path, engine="pyarrow", compression=compression, index=False)

    # Lab 1, video 101: three mice, int8 ids, float32 coordinates, categorical body parts.
    t101 = tracking(10, 3, bodyparts, absent={(3, 4), (3, 5), (3, 6)})
    t101["mouse_id"] = t101["mouse_id"].astype("int8")
    t101[["x", "y"]] = t101[["x", "y"]].astype("float32")
    t101["bodypart"] = t101["bodypart"].astype("category")
    write(t101, root / "train_tracking/AdaptableSnail/101.parquet", "snappy")
    a101 = pd.DataFrame(
        {
            "agent_id": [1, 1, 2],
            "target_id": [2, 1, 3],
            "action": ["sniff", "selfgroom", "attack"],
            "start_frame": [0, 5, 2],
            "stop_frame": [5, 9, 4],
        }
    )
    write(a101, root / "train_annotation/AdaptableSnail/101.parquet", "snappy")
    # Some releases quote names inside the strings; readers strip the quotes.
    labelled101 = ["mouse1,mouse2,sniff", "mouse1,self,selfgroom", "'mouse2','mouse3','attack'",
                   "mouse3,mouse1,attack"]
    # Lab 1, video 102: two mice, int64 ids, float64, plain strings, zstd; one bout.
    t102 = tracking(6, 2, bodyparts)
    write(t102, root / "train_tracking/AdaptableSnail/102.parquet", "zstd")
    a102 = pd.DataFrame({"agent_id": [2], "target_id": [1], "action": ["sniff"],
                         "start_frame": [1], "stop_frame": [3]})
    write(a102, root / "train_annotation/AdaptableSnail/102.parquet", "zstd")
    labelled102 = ["mouse2,mouse1,sniff", "mouse1,mouse2,sniff"]
    # Lab 2, video 201: other body parts, no annotation file (tracking only).
    write(tracking(5, 2, other_parts), root / "train_tracking/CalMS21_task1/201.parquet", "snappy")
    train = pd.DataFrame([
        meta("AdaptableSnail", 101, 3, bodyparts, labelled101),
        meta("AdaptableSnail", 102, 2, bodyparts, labelled102),
        meta("CalMS21_task1", 201, 2, other_parts, None),
    ])
    train.to_csv(root / "train.csv", index=False)
    # Test: tracking only.
    write(tracking(4, 2, bodyparts), root / "test_tracking/AdaptableSnail/301.parquet", "snappy")
    test = pd.DataFrame([meta("AdaptableSnail", 301, 2, bodyparts, ["mouse1,mouse2,sniff"])])
    test.to_csv(root / "test.csv", index=False)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mabe22-only", action="store_true")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    mabe22()
    if args.mabe22_only:
        return
    calms21()
    sbea()
    deepethogram()
    pair_r24m()
    mabe2025()
    print(f"fixtures written under {os.path.relpath(OUT)} (numpy {np.__version__})")


if __name__ == "__main__":
    main()
