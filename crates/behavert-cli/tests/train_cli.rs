//! `behavert pretrain` and `behavert finetune` run briefly on simulated data, and a pretrained
//! run feeds a fine-tuning one.

mod common;

use common::behavert;

#[test]
fn pretrain_then_finetune_on_simulated_data() {
    let configs = concat!(env!("CARGO_MANIFEST_DIR"), "/../../configs/training");
    let dir = tempfile::tempdir().unwrap();
    let pre = dir.path().join("pre");
    let (ok, text) = behavert(&[
        "pretrain",
        "--config",
        &format!("{configs}/pretrain-sim.toml"),
        "--output-dir",
        pre.to_str().unwrap(),
        "--max-steps",
        "4",
        "--no-progress",
    ]);
    assert!(ok, "{text}");
    assert!(pre.join("best/training.json").is_file(), "{text}");
    let fine = dir.path().join("fine");
    let (ok, text) = behavert(&[
        "finetune",
        "--config",
        &format!("{configs}/finetune-sim.toml"),
        "--pretrained",
        pre.join("best").to_str().unwrap(),
        "--output-dir",
        fine.to_str().unwrap(),
        "--max-steps",
        "4",
        "--no-progress",
    ]);
    assert!(ok, "{text}");
    assert!(text.contains("validation macro-F1 (behaviour)"), "{text}");
    // Running into an existing run is refused; --resume continues it.
    let (ok, text) = behavert(&[
        "finetune",
        "--config",
        &format!("{configs}/finetune-sim.toml"),
        "--output-dir",
        fine.to_str().unwrap(),
        "--no-progress",
    ]);
    assert!(!ok && text.contains("--resume"), "{text}");
    let (ok, text) = behavert(&["finetune", "--resume", fine.to_str().unwrap()]);
    assert!(ok && text.contains("steps: 4"), "{text}");
}

#[test]
fn bad_flags_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("r");
    let (ok, text) = behavert(&[
        "finetune",
        "--output-dir",
        run.to_str().unwrap(),
        "--learning-rate",
        "-1",
    ]);
    assert!(!ok && text.contains("optimizer.learning_rate"), "{text}");
}
