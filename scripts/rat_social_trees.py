#!/usr/bin/env python3
"""The number to beat on real rat recordings: gradient-boosted trees on kinematic features.

A SimBA/JABS-style pipeline: per-frame kinematics of two tracked rats (inter-animal distances,
speeds, headings, body lengths, relative angles, how much of each animal is tracked), their
centred rolling means and standard deviations, and a LightGBM classifier. Scored by
cross-validation over whole recordings with the folds of experiments/rat-social/folds.csv, so it
is comparable fold by fold with `experiments/rat-social/cross_validate.py`.

    pip install lightgbm pandas scikit-learn
    python3 scripts/rat_social_trees.py [--data ../shared/data/rat-social] [--spans 15,45]

Prints per-fold and mean macro-F1 over aggression/social/nonsocial, and writes them as JSON
with --output. Run by hand; not part of the test suite.
"""

import argparse
import json
import time
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.metrics import f1_score

CLASSES = ["aggression", "social", "nonsocial"]
# Keypoints tracked well enough to build on (tail-m and tail-e are missing 30-70% of frames).
TRUNK = ["top", "body", "tail"]


def read_dlc(path):
    """`{individual: {keypoint: array [frames, 2]}}` from a multi-animal DeepLabCut CSV."""
    table = pd.read_csv(path, header=[0, 1, 2, 3], index_col=0)
    table.columns = table.columns.droplevel(0)
    animals = {}
    for individual in table.columns.get_level_values(0).unique():
        animals[individual] = {
            keypoint: table[individual][keypoint][["x", "y"]].to_numpy(dtype=float)
            for keypoint in table[individual].columns.get_level_values(0).unique()
        }
    return animals


def interpolate(points, max_gap):
    """Fill gaps of at most `max_gap` frames linearly, as `[preprocess] max_gap` does."""
    frame = pd.DataFrame(points)
    return frame.interpolate(limit=max_gap, limit_area="inside").to_numpy()


def animal_kinematics(parts):
    """Per-frame centroid, heading, body length, speed and turning of one animal."""
    centroid = np.nanmean(np.stack([parts[k] for k in TRUNK]), axis=0)
    axis = parts["top"] - parts["tail"]
    heading = np.arctan2(axis[:, 1], axis[:, 0])
    velocity = np.vstack([[np.nan, np.nan], np.diff(centroid, axis=0)])
    turn = np.concatenate([[np.nan], np.angle(np.exp(1j * np.diff(heading)))])
    return {
        "centroid": centroid,
        "heading": heading,
        "length": np.hypot(axis[:, 0], axis[:, 1]),
        "speed": np.hypot(velocity[:, 0], velocity[:, 1]),
        "head_speed": np.hypot(*np.vstack([[np.nan, np.nan], np.diff(parts["top"], axis=0)]).T),
        "turn": np.abs(turn),
        "tracked": np.mean([~np.isnan(parts[k][:, 0]) for k in parts], axis=0),
    }


def bearing(from_kin, to_point):
    """|angle| between an animal's heading and the direction to a point, radians."""
    delta = to_point - from_kin["centroid"]
    angle = np.arctan2(delta[:, 1], delta[:, 0]) - from_kin["heading"]
    return np.abs(np.angle(np.exp(1j * angle)))


def frame_features(animals, max_gap):
    """Identity-symmetric per-frame features of a two-animal recording."""
    a, b = (
        {k: interpolate(v, max_gap) for k, v in animals[name].items()}
        for name in sorted(animals)
    )
    ka, kb = animal_kinematics(a), animal_kinematics(b)
    features = {}

    def pair(name, va, vb):
        # Symmetric in the two animals, so identity swaps of the tracker do not matter.
        features[f"{name}_min"] = np.fmin(va, vb)
        features[f"{name}_max"] = np.fmax(va, vb)

    for key in ["length", "speed", "head_speed", "turn", "tracked"]:
        pair(key, ka[key], kb[key])
    features["centroid_distance"] = np.linalg.norm(ka["centroid"] - kb["centroid"], axis=1)
    for p in TRUNK:
        for q in TRUNK:
            if p <= q:
                d_ab = np.linalg.norm(a[p] - b[q], axis=1)
                d_ba = np.linalg.norm(b[p] - a[q], axis=1)
                if p == q:
                    features[f"{p}_{q}"] = d_ab
                else:
                    pair(f"{p}_{q}", d_ab, d_ba)
    features["relative_heading"] = np.abs(np.angle(np.exp(1j * (ka["heading"] - kb["heading"]))))
    pair("bearing", bearing(ka, kb["centroid"]), bearing(kb, ka["centroid"]))
    approach = np.concatenate([[np.nan], -np.diff(features["centroid_distance"])])
    features["approach_speed"] = approach
    frame = pd.DataFrame(features)
    frame["both_tracked"] = (~np.isnan(ka["centroid"][:, 0]) & ~np.isnan(kb["centroid"][:, 0])).astype(float)
    return frame


def with_context(frame, spans):
    """Append centred rolling means and standard deviations over each span (frames)."""
    columns = [frame]
    for span in spans:
        rolling = frame.rolling(span, center=True, min_periods=1)
        columns.append(rolling.mean().add_suffix(f"_mean{span}"))
        columns.append(rolling.std().add_suffix(f"_std{span}"))
    return pd.concat(columns, axis=1)


def main():
    here = Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=here.parent / "shared/data/rat-social")
    parser.add_argument("--folds", type=Path, default=here / "experiments/rat-social/folds.csv")
    parser.add_argument("--spans", default="15,45", help="rolling-window spans, frames")
    parser.add_argument("--max-gap", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=400)
    parser.add_argument("--class-weight", default="balanced", choices=["balanced", "none"])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--output", type=Path, help="write per-fold results as JSON")
    args = parser.parse_args()
    spans = [int(s) for s in args.spans.split(",") if s]
    started = time.time()

    folds = pd.read_csv(args.folds)
    recordings = {}
    for name in folds.recording:
        frame = with_context(frame_features(read_dlc(args.data / "pose" / f"{name}.csv"), args.max_gap), spans)
        labels = pd.read_csv(args.data / "labels" / f"{name}.csv")
        if len(labels) != len(frame) or (labels.frame.to_numpy() != np.arange(len(frame))).any():
            raise SystemExit(f"{name}: labels do not cover frames 0..{len(frame) - 1}")
        recordings[name] = (frame, labels.label.map(CLASSES.index).to_numpy())
    print(f"features: {recordings[folds.recording[0]][0].shape[1]} columns, "
          f"read in {time.time() - started:.0f} s")

    results = []
    for fold in sorted(folds.fold.unique()):
        test = folds.recording[folds.fold == fold].tolist()
        train = folds.recording[folds.fold != fold].tolist()
        x_train = pd.concat([recordings[r][0] for r in train])
        y_train = np.concatenate([recordings[r][1] for r in train])
        model = lgb.LGBMClassifier(
            n_estimators=args.rounds,
            learning_rate=0.05,
            num_leaves=31,
            subsample=0.8,
            subsample_freq=1,
            colsample_bytree=0.8,
            min_child_samples=100,
            class_weight="balanced" if args.class_weight == "balanced" else None,
            random_state=args.seed,
            n_jobs=2,
            verbose=-1,
        )
        model.fit(x_train, y_train)
        x_test = pd.concat([recordings[r][0] for r in test])
        y_test = np.concatenate([recordings[r][1] for r in test])
        predicted = model.predict(x_test)
        f1 = f1_score(y_test, predicted, labels=range(len(CLASSES)), average="macro", zero_division=0)
        per_class = f1_score(y_test, predicted, labels=range(len(CLASSES)), average=None, zero_division=0)
        results.append({"fold": int(fold), "test": test, "f1_macro": f1,
                        "f1_per_class": dict(zip(CLASSES, per_class.tolist()))})
        print(f"fold {fold} ({', '.join(test)}): macro-F1 {f1:.3f}  "
              + "  ".join(f"{c} {v:.3f}" for c, v in zip(CLASSES, per_class)))
    scores = [r["f1_macro"] for r in results]
    print(f"mean macro-F1 {np.mean(scores):.3f} (folds {min(scores):.3f}-{max(scores):.3f}), "
          f"{time.time() - started:.0f} s")
    if args.output:
        args.output.write_text(json.dumps({"spans": spans, "folds": results,
                                           "mean_f1_macro": float(np.mean(scores))}, indent=2))


if __name__ == "__main__":
    main()
