#!/usr/bin/env python3
"""Cross-validate a BehavERT recipe on the rat-social recordings, holding out whole recordings.

For each fold of folds.csv: (optionally) pretrain on every recording's poses except the fold's,
fine-tune on the other folds' labelled recordings, and score the fold's recordings with
`behavert evaluate`. Prints per-fold and mean macro-F1 over aggression/social/nonsocial (raw
and after evaluate's smoothing) and writes everything to OUT/summary.json.

    python3 experiments/rat-social/cross_validate.py --output-dir runs/rat-social \\
        [--data ../shared/data/rat-social] [--seeds 1,2,3] [--folds 0,1,2,3,4] \\
        [--pretrain-config experiments/rat-social/pretrain.toml] [-- extra finetune flags]

Only the standard library; the `behavert` binary is built with cargo unless --behavert is given.
"""

import argparse
import csv
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


def run(command, log):
    """Run one behavert command, its output to `log`; stop the whole run if it fails."""
    started = time.time()
    with open(log, "w") as out:
        done = subprocess.run([str(c) for c in command], stdout=out, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        sys.exit(f"failed ({done.returncode}): {' '.join(map(str, command))}\nsee {log}")
    return time.time() - started


def peak_rss_mib(log):
    """Peak resident memory GNU time wrote at the end of `log`, if it did."""
    for line in reversed(Path(log).read_text().splitlines()):
        if "Maximum resident set size" in line:
            return int(line.split(":")[1]) / 1024
    return None


def pretrain(args, behavert, timed, fold, seed, fold_of, pose, run_dir):
    """Pretrain for one fold and seed; return its time and checkpoint.

    On the training folds' poses the pretraining belongs to the run; on all twenty it does not
    depend on the fold, so one per seed is shared by every fold (and timed once).
    """
    if args.pretrain_on == "all":
        output = args.output_dir / f"pretrain-seed{seed}"
        unlabelled = sorted(fold_of)
    else:
        output = run_dir / "pretrain"
        unlabelled = sorted(r for r, f in fold_of.items() if f != fold)
    if (output / "best").exists():
        return 0.0, output / "best"
    shutil.rmtree(output, ignore_errors=True)
    seconds = run([*timed, behavert, "pretrain", "--config", args.pretrain_config,
                   "--seed", seed, "--no-progress", "--output-dir", output,
                   "--input", *map(pose, unlabelled), *args.pretrain_args.split()],
                  output.with_name(output.name + ".log"))
    return seconds, output / "best"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared/data/rat-social")
    parser.add_argument("--folds-file", type=Path, default=HERE / "folds.csv")
    parser.add_argument("--folds", default="0,1,2,3,4")
    parser.add_argument("--seeds", default="1")
    parser.add_argument("--config", type=Path, default=HERE / "finetune.toml")
    parser.add_argument("--pretrain-config", type=Path, help="pretrain per fold first")
    parser.add_argument("--pretrain-args", default="", help="extra flags for pretrain")
    parser.add_argument("--pretrain-on", choices=["train", "all"], default="train",
                        help="pretrain on the training folds' poses only, or on all twenty "
                             "(the held-out fold's poses too, never its labels)")
    parser.add_argument("--train-recordings", type=int,
                        help="fine-tune on only this many of the fold's training recordings "
                             "(the validation ones and those before them): a learning curve")
    parser.add_argument("--output-dir", type=Path, required=True)
    parser.add_argument("--behavert", type=Path, help="the behavert binary (default: cargo build)")
    parser.add_argument("finetune_args", nargs="*", help="extra flags for finetune (after --)")
    args = parser.parse_args()

    behavert = args.behavert
    if behavert is None:
        subprocess.run(["cargo", "build", "--release", "--locked", "-p", "behavert-cli"],
                       cwd=ROOT, check=True)
        behavert = ROOT / "target/release/behavert"
    timed = ["/usr/bin/time", "-v"] if Path("/usr/bin/time").exists() else []

    with open(args.folds_file) as f:
        # Rows run from the most to the least aggression.
        rows = list(csv.DictReader(f))
    fold_of = {row["recording"]: int(row["fold"]) for row in rows}
    rank = {row["recording"]: i for i, row in enumerate(rows)}
    pose = lambda r: args.data / "pose" / f"{r}.csv"
    labels = lambda r: args.data / "labels" / f"{r}.csv"
    args.output_dir.mkdir(parents=True, exist_ok=True)

    results = []
    for fold in [int(f) for f in args.folds.split(",")]:
        test = sorted(r for r, f in fold_of.items() if f == fold)
        # Validation (best checkpoint, early stopping) is the last fifth of the training
        # recordings: the previous fold's, most aggression last, so every behaviour is there.
        train = sorted((r for r, f in fold_of.items() if f != fold),
                       key=lambda r: ((fold_of[r] - fold) % 5, -rank[r]))
        if args.train_recordings:
            train = train[-args.train_recordings:]
        for seed in [int(s) for s in args.seeds.split(",")]:
            run_dir = args.output_dir / f"fold{fold}-seed{seed}"
            if (run_dir / "evaluation/metrics.json").exists():
                print(f"fold {fold} seed {seed}: already done, reading {run_dir}")
            else:
                # An interrupted run left folders the CLI will not overwrite: start it again.
                shutil.rmtree(run_dir, ignore_errors=True)
                run_dir.mkdir(parents=True)
                times = {}
                finetune = [*timed, behavert, "finetune", "--config", args.config,
                            "--seed", seed, "--no-progress", "--output-dir", run_dir / "finetune",
                            "--input", *map(pose, train), "--labels", *map(labels, train),
                            *args.finetune_args]
                if args.pretrain_config:
                    times["pretrain_s"], pretrained = pretrain(args, behavert, timed, fold, seed,
                                                               fold_of, pose, run_dir)
                    finetune += ["--pretrained", pretrained]
                times["finetune_s"] = run(finetune, run_dir / "finetune.log")
                times["evaluate_s"] = run(
                    [behavert, "evaluate", "--model", run_dir / "finetune/best",
                     "--no-progress", "--output-dir", run_dir / "evaluation",
                     "--input", *map(pose, test), "--labels", *map(labels, test)],
                    run_dir / "evaluate.log")
                times["finetune_peak_mib"] = peak_rss_mib(run_dir / "finetune.log")
                (run_dir / "times.json").write_text(json.dumps(times, indent=2))
            metrics = json.loads((run_dir / "evaluation/metrics.json").read_text())
            times = json.loads((run_dir / "times.json").read_text())
            raw = metrics["frame"]["macro_all"]["f1"]
            smoothed = metrics["smoothed"]["report"]["macro_all"]["f1"]
            per_class = {c["name"]: c["f1"] for c in metrics["frame"]["classes"]}
            results.append({"fold": fold, "seed": seed, "test": test, "f1_macro": raw,
                            "f1_macro_smoothed": smoothed, "f1_per_class": per_class, **times})
            print(f"fold {fold} seed {seed} ({', '.join(test)}): macro-F1 {raw:.3f} "
                  f"(smoothed {smoothed:.3f})  "
                  + "  ".join(f"{c} {v:.3f}" for c, v in per_class.items())
                  + f"  [{times.get('pretrain_s', 0) + times['finetune_s']:.0f} s]", flush=True)

    summary = {"config": str(args.config), "finetune_args": args.finetune_args, "runs": results}
    for key in ["f1_macro", "f1_macro_smoothed"]:
        seeds = sorted({r["seed"] for r in results})
        # One cross-validated score per seed: the mean over its folds.
        per_seed = [statistics.mean(r[key] for r in results if r["seed"] == s) for s in seeds]
        summary[key] = {"per_seed": dict(zip(map(str, seeds), per_seed)),
                        "mean": statistics.mean(per_seed)}
        print(f"{key}: mean over folds per seed "
              + ", ".join(f"{s}: {v:.3f}" for s, v in zip(seeds, per_seed))
              + f"; mean {statistics.mean(per_seed):.3f}")
    (args.output_dir / "summary.json").write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
