//! Who did what to whom through the command: `finetune` with `data.roles`, then `infer` writes
//! long-form predictions and role bouts, and `evaluate` scores pairs, frames and MABe 2025.

use behavert_pose::formats::{Format, write};
use behavert_pose::role_labels::write_role_frames;
use behavert_pose::synth::{Agents, SimulationConfig, simulate};

use crate::common::{arg, behavert};

#[test]
fn a_role_model_trains_labels_pairs_and_is_scored_per_pair() {
    let config = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../configs/training/roles-sim.toml"
    );
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let (ok, text) = behavert(&[
        "finetune",
        "--config",
        config,
        "--output-dir",
        arg(&run),
        "--max-steps",
        "4",
        "--no-progress",
    ]);
    assert!(ok, "{text}");

    // A held-out recording of three mice, one leaving the view for a while.
    let recording = simulate(&SimulationConfig {
        seed: 5,
        frames: 240,
        individuals: 3,
        agents: Agents::All,
        leave_rate: 0.01,
        ..Default::default()
    })
    .unwrap();
    let pose_file = dir.path().join("three_mice.csv");
    write(&recording.pose, &pose_file, Format::DlcCsv).unwrap();
    let labels = dir.path().join("three_mice_roles.csv");
    write_role_frames(&labels, &recording.roles).unwrap();

    let predictions = dir.path().join("predictions.csv");
    let model = run.join("best");
    let (ok, text) = behavert(&[
        "infer",
        "--model",
        arg(&model),
        "--input",
        arg(&pose_file),
        "--output",
        arg(&predictions),
        "--fps",
        "30",
    ]);
    assert!(ok, "{text}");
    assert!(text.contains("3 animals"), "{text}");
    let long = std::fs::read_to_string(&predictions).unwrap();
    assert!(long.starts_with("frame,time_s,agent,target,behaviour,probability\n"));
    assert!(
        long.contains(",resident,intruder_1,attack,"),
        "{}",
        &long[..400]
    );
    let bouts = std::fs::read_to_string(dir.path().join("predictions_bouts.csv")).unwrap();
    assert!(bouts.starts_with("agent,target,behaviour,start_frame,stop_frame\n"));

    let out = dir.path().join("evaluation");
    let (ok, text) = behavert(&[
        "evaluate",
        "--model",
        arg(&model),
        "--input",
        arg(&pose_file),
        "--labels",
        arg(&labels),
        "--output-dir",
        arg(&out),
    ]);
    assert!(ok, "{text}");
    assert!(text.contains("per-pair macro-F1"), "{text}");
    assert!(text.contains("MABe 2025 F1 (mean over 1 labs)"), "{text}");
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap();
    for key in ["pairs", "frames", "mabe2025"] {
        assert!(metrics.get(key).is_some(), "metrics.json has {key}");
    }
    let table = std::fs::read_to_string(out.join("per_behaviour.csv")).unwrap();
    assert!(
        table.contains("\nattack,directed,") && table.contains("\ngrooming,solo,"),
        "{table}"
    );
    assert!(out.join("ethogram.png").is_file() && out.join("three_mice_bouts.csv").is_file());
    let report = std::fs::read_to_string(out.join("report.html")).unwrap();
    for part in [
        "Per-pair macro F1",
        "MABe 2025 F1",
        "F1 per frame",
        "<svg",
        "resident → intruder_1",
    ] {
        assert!(report.contains(part), "report.html shows {part}");
    }

    // Role labels naming an animal the pose does not have are refused with the line.
    let wrong = dir.path().join("wrong_roles.csv");
    std::fs::write(
        &wrong,
        "frame,agent,target,behaviour\n3,resident,mouse_9,attack\n",
    )
    .unwrap();
    let (ok, text) = behavert(&[
        "evaluate",
        "--model",
        arg(&model),
        "--input",
        arg(&pose_file),
        "--labels",
        arg(&wrong),
        "--output-dir",
        arg(&dir.path().join("never")),
    ]);
    assert!(!ok, "{text}");
    assert!(
        text.contains("line 2") && text.contains("mouse_9"),
        "{text}"
    );
}
