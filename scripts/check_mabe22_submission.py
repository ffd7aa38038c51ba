#!/usr/bin/env python3
"""Check a MABe22 submission written by BehavERT with numpy, applying the rules of the
challenge's validator (hierAS-eval `validate_submission`): dict with `frame_number_map` equal
to the provided map entry by entry, `embeddings` a 2-D numpy array, at most 128 columns,
element type float32, all finite; plus rows == the map's total frames.

    BEHAVERT_KEEP_SUBMISSION=/tmp/sub.npy cargo test -p behavert-pose --test integration datasets_mabe22_real
    python3 scripts/check_mabe22_submission.py /tmp/sub.npy ../shared/data/samples/mouse_frame_number_map.npy
"""
import sys
import warnings

import numpy as np


def check(submission_path, frame_map_path, max_dims=128):
    warnings.simplefilter("error")  # a DeprecationWarning (e.g. numpy.core) counts as a failure
    submission = np.load(submission_path, allow_pickle=True).item()
    frame_map = np.load(frame_map_path, allow_pickle=True).item()
    assert isinstance(submission, dict), "submission should be a dict"
    assert "frame_number_map" in submission, "frame number map missing"
    for key, value in frame_map.items():
        assert submission["frame_number_map"][key] == value, f"frame map differs at {key}"
    assert submission["frame_number_map"] == frame_map, "frame map not identical"
    emb = submission["embeddings"]
    assert isinstance(emb, np.ndarray), "embeddings should be a numpy array"
    assert emb.ndim == 2, "embeddings should be 2-D"
    assert emb.shape[1] <= max_dims, f"embeddings wider than {max_dims}"
    assert isinstance(emb[0, 0], np.float32), "embeddings are not float32"
    assert np.isfinite(emb).all(), "embeddings contain NaN or infinity"
    total = max(stop for _, stop in frame_map.values())
    assert emb.shape[0] == total, f"{emb.shape[0]} rows for {total} frames"
    print(f"numpy {np.__version__}: all checks passed ({emb.shape[0]} x {emb.shape[1]}, "
          f"{len(frame_map)} sequences); embeddings[1801] = {emb[1801].tolist()}")


if __name__ == "__main__":
    check(sys.argv[1], sys.argv[2])
