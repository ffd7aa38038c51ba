//! The dataset paths of the commands on the small dataset fixtures: fine-tune on CalMS21 and
//! evaluate on its test split; pretrain on MABe22 and write a checked challenge submission.

use std::path::{Path, PathBuf};

use crate::common::{arg, behavert};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../behavert-pose/tests/fixtures/datasets")
        .join(name)
}

/// `behavert finetune` of `tiny` on the CalMS21 fixture for a few steps, with `task` (`--task
/// …`, `--group …`) into `run`.
fn finetune_calms21(task: &[&str], run: &Path) -> (bool, String) {
    let data = fixture("calms21");
    let mut args = vec!["finetune", "--dataset", "calms21", "--data-dir", arg(&data)];
    args.extend_from_slice(task);
    args.extend_from_slice(&[
        "--model-size",
        "tiny",
        "--window",
        "4",
        "--batch-size",
        "2",
        "--max-steps",
        "3",
        "--output-dir",
        arg(run),
        "--no-progress",
    ]);
    behavert(&args)
}

/// `behavert evaluate` of `model` on the CalMS21 fixture's `task` into `out`: its metrics.json.
fn evaluate_calms21(model: &Path, task: &[&str], out: &Path) -> serde_json::Value {
    let data = fixture("calms21");
    let mut args = vec![
        "evaluate",
        "--model",
        arg(model),
        "--dataset",
        "calms21",
        "--data-dir",
        arg(&data),
        "--output-dir",
        arg(out),
    ];
    args.extend_from_slice(task);
    let (ok, text) = behavert(&args);
    assert!(ok, "{text}");
    serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap()
}

#[test]
fn calms21_finetune_then_evaluate_on_the_test_split() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let (ok, text) = finetune_calms21(&["--task", "task1"], &run);
    assert!(ok, "{text}");
    let out = dir.path().join("evaluation");
    let metrics = evaluate_calms21(&run.join("best"), &["--task", "task1"], &out);
    // The fixture's test split: one sequence of 5 labelled frames.
    assert_eq!(metrics["frame"]["labelled_frames"], 5);
    assert_eq!(metrics["recordings"].as_array().unwrap().len(), 1);
    assert!(out.join("report.html").is_file() && out.join("per_class.csv").is_file());
}

#[test]
fn calms21_task3_one_behaviour_against_other() {
    let dir = tempfile::tempdir().unwrap();
    let typo = dir.path().join("typo");
    let (ok, text) = finetune_calms21(&["--task", "task3", "--group", "sniff"], &typo);
    assert!(!ok, "{text}");
    assert!(
        text.contains("data.group") && text.contains("approach, groom") && text.contains("sniff"),
        "{text}"
    );
    assert!(!typo.exists());

    let run = dir.path().join("groom");
    let groom = ["--task", "task3", "--group", "groom"];
    let (ok, text) = finetune_calms21(&groom, &run);
    assert!(ok, "{text}");
    let info: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("best/training.json")).unwrap())
            .unwrap();
    assert_eq!(
        info["heads"][0]["vocabulary"],
        serde_json::json!(["other", "groom"])
    );

    // The fixture has no test split: evaluate scores the group's labelled sequences.
    let metrics = evaluate_calms21(&run.join("best"), &groom, &dir.path().join("evaluation"));
    assert_eq!(metrics["frame"]["labelled_frames"], 4);
    assert_eq!(
        metrics["recordings"][0]["name"],
        "task3/groom/train/mouse001_task3_groom"
    );
}

#[test]
fn mabe22_submission_from_a_pretrained_model() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("pre");
    let data = fixture("mabe22");
    let (ok, text) = behavert(&[
        "pretrain",
        "--dataset",
        "mabe22",
        "--data-dir",
        arg(&data),
        "--model-size",
        "tiny",
        "--window",
        "8",
        "--max-steps",
        "2",
        "--output-dir",
        arg(&run),
        "--no-progress",
    ]);
    assert!(ok, "{text}");
    let submission = dir.path().join("submission.npy");
    let (ok, text) = behavert(&[
        "embed",
        "--model",
        arg(&run.join("best")),
        "--dataset",
        "mabe22",
        "--data-dir",
        arg(&data),
        "--mabe22-submission",
        arg(&submission),
    ]);
    assert!(ok, "{text}");
    assert!(text.contains("checked against the rules"), "{text}");
    let (ok, text) = behavert(&[
        "embed",
        "--model",
        arg(&run.join("best")),
        "--dataset",
        "mabe22",
        "--data-dir",
        arg(&data),
        "--mabe22-submission",
        arg(&submission),
    ]);
    assert!(!ok && text.contains("never overwritten"), "{text}");
}
