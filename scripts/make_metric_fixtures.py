#!/usr/bin/env python3
"""Generate the scikit-learn reference values the Rust metrics are tested against.

Run once from the repository root (needs numpy and scikit-learn):

    python3 scripts/make_metric_fixtures.py

writes small JSON files to crates/behavert/tests/fixtures/metrics/. The tests read the committed
files and never run Python. Conventions in the JSON: class -1 / boolean label -1 = unlabelled
frame; null = NaN label (MABe22) or "not applicable".
"""

import json
import math
import warnings
from pathlib import Path

import numpy as np
import sklearn
from sklearn.linear_model import Ridge, RidgeClassifier
from sklearn.metrics import (
    average_precision_score,
    confusion_matrix,
    f1_score,
    mean_squared_error,
    precision_recall_fscore_support,
    r2_score,
)
from sklearn.model_selection import train_test_split

OUT = Path(__file__).resolve().parent.parent / "crates/behavert/tests/fixtures/metrics"
warnings.filterwarnings("ignore")  # zero-division and no-positive warnings are the point


def floats(a):
    return [None if (isinstance(v, float) and math.isnan(v)) else float(v) for v in np.ravel(a)]


def dump(name, obj):
    obj = {"sklearn": sklearn.__version__, "numpy": np.__version__, **obj}
    (OUT / name).write_text(json.dumps(obj, indent=None, separators=(",", ":")) + "\n")
    print("wrote", OUT / name)


def multiclass_case(rng, n, k, *, absent_true=(), absent_pred=(), unlabelled=0.0, ties=False):
    """Random labels over k classes; some classes never true / never predicted."""
    allowed_true = [c for c in range(k) if c not in absent_true]
    allowed_pred = [c for c in range(k) if c not in absent_pred]
    truth = rng.choice(allowed_true, size=n)
    # Predictions agree with truth half the time, so scores are neither 0 nor 1.
    pred = np.where(rng.random(n) < 0.5, truth, rng.choice(allowed_pred, size=n))
    pred = np.array([p if p in allowed_pred else allowed_pred[0] for p in pred])
    logits = rng.normal(size=(n, k)) + 1.5 * np.eye(k)[truth]
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    if ties:
        probs = np.round(probs, 1)
    mask = rng.random(n) < unlabelled
    t_json = np.where(mask, -1, truth)
    lab = ~mask
    t, p, s = truth[lab], pred[lab], probs[lab]
    labels = list(range(k))
    prec, rec, f1, sup = precision_recall_fscore_support(t, p, labels=labels, zero_division=0)
    ap = [average_precision_score((t == c).astype(int), s[:, c]) for c in labels]
    return {
        "classes": k,
        "truth": t_json.tolist(),
        "pred": pred.tolist(),
        "probs": floats(probs),
        "confusion": confusion_matrix(t, p, labels=labels).tolist(),
        "precision": floats(prec),
        "recall": floats(rec),
        "f1": floats(f1),
        "support": sup.tolist(),
        "macro_f1": float(f1_score(t, p, labels=labels, average="macro", zero_division=0)),
        "macro_precision": float(np.mean(prec)),
        "macro_recall": float(np.mean(rec)),
        "accuracy": float(np.mean(t == p)),
        "ap": floats(ap),
        "map": float(np.mean(ap)),
    }


def classification(rng):
    cases = [
        multiclass_case(rng, 50, 3),
        multiclass_case(rng, 200, 4, unlabelled=0.2),
        multiclass_case(rng, 120, 5, absent_true=(3,), unlabelled=0.1),
        multiclass_case(rng, 120, 5, absent_pred=(1,)),
        multiclass_case(rng, 150, 6, absent_true=(2, 4), absent_pred=(4, 5), unlabelled=0.3),
        multiclass_case(rng, 300, 4, ties=True, unlabelled=0.1),
        multiclass_case(rng, 7, 3, absent_true=(1,), absent_pred=(1,)),
    ]
    dump("classification.json", {"cases": cases})


def average_precision_cases(rng):
    cases = []
    for truth, scores in [
        ([0, 1, 0, 1], [0.5, 0.5, 0.2, 0.9]),
        ([1, 0, 1, 1, 0], [0.9, 0.8, 0.7, 0.7, 0.1]),
        ([0, 0, 0], [0.1, 0.5, 0.2]),
        ([1, 1, 1], [0.1, 0.5, 0.2]),
        ([1, 0], [0.3, 0.3]),
        ([0, 1, 1, 0, 1, 0, 0, 1], [1, 1, 1, 1, 0, 0, 0, 0]),
    ]:
        cases.append({"truth": truth, "scores": floats(scores)})
    for n in [10, 100, 1000]:
        t = (rng.random(n) < 0.3).astype(int)
        s = rng.random(n) + 0.3 * t
        cases.append({"truth": t.tolist(), "scores": floats(s)})
        s = np.round(s, 1)  # many ties
        cases.append({"truth": t.tolist(), "scores": floats(s)})
    for c in cases:
        c["ap"] = float(average_precision_score(c["truth"], c["scores"]))
    dump("average_precision.json", {"cases": cases})


def multilabel(rng):
    n, labels = 200, 4
    truth = (rng.random((n, labels)) < [0.3, 0.05, 0.5, 0.0]).astype(int)
    scores = rng.random((n, labels)) + 0.4 * truth
    pred = (scores > 0.6).astype(int)
    pred[:, 1] = 0  # a label never predicted
    unlabelled = rng.random((n, labels)) < 0.15
    t_json = np.where(unlabelled, -1, truth)
    out = {"truth": t_json.tolist(), "pred": pred.tolist(), "scores": floats(scores), "labels": labels}
    out["precision"], out["recall"], out["f1"], out["ap"], out["support"] = [], [], [], [], []
    for l in range(labels):
        keep = ~unlabelled[:, l]
        p, r, f, s = precision_recall_fscore_support(
            truth[keep, l], pred[keep, l], average="binary", zero_division=0
        )
        out["precision"].append(float(p))
        out["recall"].append(float(r))
        out["f1"].append(float(f))
        out["support"].append(int(truth[keep, l].sum()))
        out["ap"].append(float(average_precision_score(truth[keep, l], scores[keep, l])))
    dump("multilabel.json", out)


def regression(rng):
    cases = []
    for n in [5, 50, 500]:
        t = rng.normal(size=n)
        p = t + rng.normal(scale=0.5, size=n)
        nan = rng.random(n) < 0.1
        cases.append({"truth": floats(np.where(nan, np.nan, t)), "pred": floats(p),
                      "mse": float(mean_squared_error(t[~nan], p[~nan])),
                      "r2": float(r2_score(t[~nan], p[~nan]))})
    for t, p in [([2.0, 2.0, 2.0], [2.0, 2.0, 2.0]), ([2.0, 2.0, 2.0], [1.0, 2.0, 3.0])]:
        cases.append({"truth": t, "pred": p, "mse": float(mean_squared_error(t, p)),
                      "r2": float(r2_score(t, p))})
    dump("regression.json", {"cases": cases})


def ridge(rng):
    cases = []
    for n, d, targets, weighted, alpha in [(40, 5, 1, False, 1.0), (100, 8, 3, True, 0.5),
                                           (12, 20, 1, False, 2.0), (150, 12, 1, True, 1.0)]:
        x = rng.normal(size=(n, d)) * rng.uniform(0.5, 3, size=d) + rng.normal(size=d)
        y = x @ rng.normal(size=(d, targets)) + rng.normal(size=(n, targets)) + 3.0
        w = rng.uniform(0.1, 3.0, size=n) if weighted else None
        x_test = rng.normal(size=(10, d))
        m = Ridge(alpha=alpha).fit(x, y, sample_weight=w)
        cases.append({"x": floats(x), "n": n, "d": d, "targets": targets, "y": floats(y),
                      "weights": None if w is None else floats(w), "alpha": alpha,
                      "coef": floats(np.atleast_2d(m.coef_)), "intercept": floats(m.intercept_),
                      "x_test": floats(x_test), "pred": floats(m.predict(x_test))})
    classifiers = []
    for n, d, k, balanced in [(80, 6, 2, True), (120, 10, 3, True), (60, 4, 2, False),
                              (120, 8, 4, False)]:
        y = rng.choice(k, size=n, p=np.arange(1, k + 1) / np.arange(1, k + 1).sum())
        x = rng.normal(size=(n, d)) + 0.8 * rng.normal(size=(k, d))[y]
        x_test = rng.normal(size=(25, d))
        m = RidgeClassifier(alpha=1.0, class_weight="balanced" if balanced else None).fit(x, y)
        classifiers.append({"x": floats(x), "n": n, "d": d, "y": y.tolist(), "balanced": balanced,
                            "classes": m.classes_.tolist(), "coef": floats(np.atleast_2d(m.coef_)),
                            "intercept": floats(m.intercept_), "x_test": floats(x_test),
                            "decision": floats(m.decision_function(x_test)),
                            "pred": m.predict(x_test).tolist()})
    dump("ridge.json", {"regressors": cases, "classifiers": classifiers})


def numpy_rng():
    perms = [{"seed": s, "n": n, "perm": np.random.RandomState(s).permutation(n).tolist()}
             for s in [0, 42, 43, 44, 12345] for n in [1, 2, 10, 37, 500]]
    splits = []
    for s in [42, 43, 44]:
        for n in [10, 11, 99, 1600]:
            train, test = train_test_split(list(range(n)), test_size=0.1, random_state=s)
            splits.append({"seed": s, "n": n, "train": train, "test": test})
    dump("numpy_rng.json", {"permutations": perms, "splits": splits})


def mabe22(rng):
    """A miniature MABe22 evaluation, scored the way the official evaluator code does."""
    clip_len, n_train_clips, n_test_clips, dims = 30, 20, 8, 6
    n_clips = n_train_clips + n_test_clips
    clips = [(i * clip_len, (i + 1) * clip_len) for i in range(n_clips)]
    rows = n_clips * clip_len
    emb = rng.normal(size=(rows, dims)).astype(np.float32).astype(np.float64)
    w = rng.normal(size=dims)
    score = emb @ w + np.repeat(rng.normal(size=n_clips), clip_len)
    tasks = {
        "chases": ("Discrete", False, (score > 1.0).astype(float)),
        "strain": ("Discrete", True, np.repeat((rng.random(n_clips) < 0.4).astype(float), clip_len)),
        "time_of_day": ("Continious", False, score + rng.normal(scale=0.3, size=rows)),
    }
    for _, _, y in tasks.values():
        y[rng.random(rows) < 0.15] = np.nan  # unlabelled frames
    # Some test clips wholly unlabelled.
    tasks["strain"][2][clips[n_train_clips][0]:clips[n_train_clips][1]] = np.nan
    train_names = list(range(n_train_clips))
    test_names = list(range(n_train_clips, n_clips))
    seeds = [42, 43, 44]
    seed_train = [train_test_split(train_names, test_size=0.1, random_state=s)[0] for s in seeds]

    def mask(names):
        m = np.zeros(rows, bool)
        for c in names:
            m[clips[c][0]:clips[c][1]] = True
        return m

    out_tasks = []
    for name, (kind, seq, y) in tasks.items():
        test_idx = mask(test_names)
        x_test, y_test = emb[test_idx], y[test_idx]
        keep = ~np.isnan(y_test)
        x_test, y_test = x_test[keep], y_test[keep]
        preds = []
        for tr in seed_train:
            idx = mask(tr)
            x_tr, y_tr = emb[idx], y[idx]
            k = ~np.isnan(y_tr)
            model = (RidgeClassifier(class_weight="balanced", alpha=1.0) if kind == "Discrete"
                     else Ridge(alpha=1.0)).fit(x_tr[k], y_tr[k])
            preds.append(model.predict(x_test))
        if kind == "Discrete":
            agg = np.float32(np.mean(np.concatenate([preds]), axis=0) > 0)
            metric = lambda t, p: f1_score(t, p, average="binary")
        else:
            agg = np.mean(np.concatenate([preds]), axis=0)
            metric = mean_squared_error
        pooled = None
        if seq:
            start, pt, pp = 0, [], []
            for c in test_names:
                yo = y[clips[c][0]:clips[c][1]]
                yo = yo[~np.isnan(yo)]
                if len(yo):
                    gt, pr = np.mean(yo), np.mean(agg[start:start + len(yo)])
                    if kind == "Discrete":
                        gt, pr = int(gt >= 0.5), int(pr >= 0.5)
                    pt.append(gt)
                    pp.append(pr)
                    start += len(yo)
            pooled = float(metric(pt, pp))
        per_seed = [float(metric(y_test, p)) for p in preds]
        out_tasks.append({"name": name, "kind": kind, "sequence_level": seq, "labels": floats(y),
                          "score": float(metric(y_test, agg)), "per_seed": per_seed,
                          "no_ensemble": float(np.mean(per_seed)), "pooled": pooled,
                          "test_frames": int(len(y_test))})
    dump("mabe22.json", {"rows": rows, "dims": dims, "embeddings": floats(emb), "clips": clips,
                         "train_clips": train_names, "test_clips": test_names, "seeds": seeds,
                         "seed_train_clips": seed_train, "tasks": out_tasks})


def calms21(rng):
    """Task 1 style (other last) and task 3 style (binary tasks), argmax predictions."""
    def task(n, k, unlabelled, other_first=False):
        truth = rng.choice(k, size=n, p=[0.15] * (k - 1) + [1 - 0.15 * (k - 1)])
        logits = rng.normal(size=(n, k)) + 1.2 * np.eye(k)[truth]
        probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
        behaviours = list(range(k - 1))  # every class but `other` (the last)
        if other_first:  # task 3 columns are (other, behaviour)
            truth, probs, behaviours = k - 1 - truth, probs[:, ::-1], list(range(1, k))
        mask = rng.random(n) < unlabelled
        t, p = truth[~mask], probs[~mask]
        pred = np.argmax(p, axis=1)
        f1 = f1_score(t, pred, labels=behaviours, average=None, zero_division=0)
        ap = [average_precision_score(t == c, p[:, c]) for c in behaviours]
        return {"truth": np.where(mask, -1, truth).tolist(), "probs": floats(probs), "classes": k,
                "f1": floats(f1), "ap": floats(ap), "macro_f1": float(np.mean(f1)),
                "map": float(np.mean(ap)), "accuracy": float(np.mean(t == pred))}
    task1 = task(400, 4, 0.05)
    task3 = [task(int(n), 2, 0.0, other_first=True) for n in rng.integers(50, 150, size=7)]
    dump("calms21.json", {"task1": task1, "task3": task3,
                          "task3_f1": float(np.mean([t["macro_f1"] for t in task3])),
                          "task3_map": float(np.mean([t["map"] for t in task3]))})


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20240605)
    classification(rng)
    average_precision_cases(rng)
    multilabel(rng)
    regression(rng)
    ridge(rng)
    numpy_rng()
    mabe22(rng)
    calms21(rng)
