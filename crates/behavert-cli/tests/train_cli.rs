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

/// The rat-social recipe, as its README runs it, learns real DeepLabCut tracks: trained on
/// three recordings, it labels a fourth, held-out one far better than the majority class.
#[test]
fn rat_social_recipe_labels_a_held_out_real_recording() {
    let Some(data) = common::shared("data/rat-social") else {
        return;
    };
    let recipe = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../experiments/rat-social/finetune.toml"
    );
    let file = |kind: &str, rat: &str| data.join(kind).join(format!("{rat}.csv"));
    // The last one validates; each shows every behaviour.
    let train = ["rat28", "rat08", "rat05"];
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let mut args = vec![
        "finetune".to_string(),
        "--config".into(),
        recipe.into(),
        "--epochs".into(),
        "2".into(),
        "--no-progress".into(),
        "--output-dir".into(),
        common::arg(&run).into(),
        "--input".into(),
    ];
    args.extend(train.map(|r| common::arg(&file("pose", r)).to_string()));
    args.push("--labels".into());
    args.extend(train.map(|r| common::arg(&file("labels", r)).to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (ok, text) = behavert(&args);
    assert!(ok, "{text}");

    let evaluation = dir.path().join("evaluation");
    let (ok, text) = behavert(&[
        "evaluate",
        "--model",
        common::arg(&run.join("best")),
        "--no-progress",
        "--output-dir",
        common::arg(&evaluation),
        "--input",
        common::arg(&file("pose", "rat01")),
        "--labels",
        common::arg(&file("labels", "rat01")),
    ]);
    assert!(ok, "{text}");
    let metrics: serde_json::Value =
        serde_json::from_slice(&std::fs::read(evaluation.join("metrics.json")).unwrap()).unwrap();
    let f1 = metrics["frame"]["macro_all"]["f1"].as_f64().unwrap();
    let aggression = metrics["frame"]["classes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "aggression")
        .and_then(|c| c["f1"].as_f64())
        .unwrap();
    // Calling every frame by rat01's commonest class ("nonsocial") scores macro-F1 0.17; this
    // run scored 0.757 (aggression 0.718) when written.
    assert!(
        f1 > 0.6 && aggression > 0.5,
        "macro-F1 {f1:.3}, aggression F1 {aggression:.3}"
    );
}
