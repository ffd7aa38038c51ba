"""Round trip: BehavERT's writers' files, read back by the Python tools, must equal what those
tools read from the original files.

Usage: scripts/pose_roundtrip.sh (builds the `convert` example, sets up the same packages as
make_pose_fixtures.sh). Prints one line per check and closes with 'N passed, M failed'.
"""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

CONVERT, FIXTURES = Path(sys.argv[1]), Path(sys.argv[2])
SAMPLES = Path(sys.argv[3]) if len(sys.argv) > 3 else None


def load_expected(name):
    d = json.loads((FIXTURES / f"{name}.expected.json").read_text())
    shape = d["shape"]
    pos = np.array([np.nan if v is None else v for v in d["positions"]], np.float32).reshape(shape)
    conf = None if d["confidence"] is None else np.array([np.nan if v is None else v for v in d["confidence"]], np.float32).reshape(shape[:3])
    return pos, d["individuals"], d["keypoints"], conf


def from_movement(ds):
    pos = ds["position"].transpose("time", "individuals", "keypoints", "space").values.astype(np.float32)
    conf = ds["confidence"].transpose("time", "individuals", "keypoints").values.astype(np.float32)
    return pos, [str(x) for x in ds["individuals"].values], [str(x) for x in ds["keypoints"].values], conf


def readers(fmt, path):
    """(tool name, pose as read by it) for every Python reader of `fmt`."""
    from movement.io import load_poses

    if fmt == "npy":
        pos = np.load(path)
        side = json.loads(path.with_suffix(".json").read_text())
        conf = np.load(path.with_name(side["confidence"])) if side["confidence"] else None
        yield "numpy.load + .json", (pos, side["individuals"], side["keypoints"], conf)
    elif fmt in ("dlc-csv", "dlc-h5"):
        yield "movement.from_dlc_file", from_movement(load_poses.from_dlc_file(path))
        df = pd.read_hdf(path) if fmt == "dlc-h5" else pd.read_csv(path, header=[0, 1, 2, 3] if "individuals" in path.read_text()[:4000].split("\n")[1] else [0, 1, 2], index_col=0)
        yield ("pandas.read_hdf" if fmt == "dlc-h5" else "pandas.read_csv"), from_movement(load_poses.from_dlc_style_df(df))
    elif fmt == "sleap-h5":
        import sleap_io as sio

        yield "movement.from_sleap_file", from_movement(load_poses.from_sleap_file(path))
        labels = sio.load_analysis_h5(str(path))
        arr = labels.numpy(return_confidence=True)
        yield "sleap_io.load_analysis_h5", (arr[..., :2], [t.name for t in labels.tracks], labels.skeletons[0].node_names, arr[..., 2])


def same(a, b):
    return a.shape == b.shape and np.array_equal(a.astype(np.float32), b.astype(np.float32), equal_nan=True)


def compare(theirs, ours, check_conf):
    pos0, ind0, kp0, conf0 = theirs
    pos1, ind1, kp1, conf1 = ours
    if sorted(ind0) != sorted(ind1) or sorted(kp0) != sorted(kp1):
        return f"names {ind1}/{kp1} vs {ind0}/{kp0}"
    ii, kk = [ind1.index(i) for i in ind0], [kp1.index(k) for k in kp0]
    pos1 = np.asarray(pos1)[:, ii][:, :, kk]
    if not same(pos0, pos1):
        return "positions differ"
    if check_conf and conf0 is not None and conf1 is not None:
        conf1 = np.asarray(conf1)[:, ii][:, :, kk]
        if not same(conf0, conf1):
            return "confidence differs"
    return None


def main():
    inputs = ["dlc_multi_movement.csv", "dlc_single_movement.h5", "sleap_analysis_matlab.h5", "sleap_labels.slp", "nwb_two_subjects.nwb", "movement_plural.nc", "lp_predictions.csv", "anipose_pose3d.csv"]
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name in inputs:
            expected = load_expected(name)
            space = expected[0].shape[3]
            for fmt, ext in [("npy", "npy"), ("dlc-csv", "csv"), ("dlc-h5", "h5"), ("sleap-h5", "analysis.h5")]:
                if fmt == "sleap-h5" and space != 2:
                    continue
                out = Path(tmp) / f"{Path(name).stem}.{fmt}.{ext}"
                run = subprocess.run([str(CONVERT), str(FIXTURES / name), str(out), fmt], capture_output=True, text=True)
                if run.returncode != 0:
                    print(f"FAIL {name} -> {fmt}: {run.stderr.strip()}")
                    failed += 1
                    continue
                for tool, pose in readers(fmt, out):
                    # SLEAP stores no confidence for absent points and DLC none in labels: compare
                    # confidence where both sides have one.
                    problem = compare(expected, pose, check_conf=True)
                    print(("ok  " if problem is None else "FAIL") + f" {name} -> {fmt}, read by {tool}" + ("" if problem is None else f": {problem}"))
                    passed += problem is None
                    failed += problem is not None
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


main()
