//! `behavert demo --quick` end to end: simulated mice → pretraining → fine-tuning →
//! evaluation; every promised file is there and `metrics.json` agrees with a recomputation
//! from the predictions and labels CSVs it was made from.

use std::collections::BTreeMap;
use std::path::Path;

use crate::common::{arg, behavert, read_csv};

/// Per-class F1 averaged over `vocabulary` (0 for a class never true nor predicted).
fn macro_f1(vocabulary: &[String], pairs: &[(String, String)]) -> f64 {
    let f1 = |class: &String| {
        let tp = pairs
            .iter()
            .filter(|(t, p)| t == class && p == class)
            .count() as f64;
        let fp = pairs
            .iter()
            .filter(|(t, p)| t != class && p == class)
            .count() as f64;
        let fn_ = pairs
            .iter()
            .filter(|(t, p)| t == class && p != class)
            .count() as f64;
        if tp == 0.0 {
            0.0
        } else {
            2.0 * tp / (2.0 * tp + fp + fn_)
        }
    };
    vocabulary.iter().map(f1).sum::<f64>() / vocabulary.len() as f64
}

fn column(header: &[String], name: &str) -> usize {
    header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no {name} in {header:?}"))
}

#[test]
fn quick_demo_writes_consistent_results() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo-output");
    let (ok, text) = behavert(&["demo", "--quick", "--output-dir", arg(&out)]);
    assert!(ok, "{text}");
    assert!(text.contains("report.html"), "{text}");
    for file in [
        "pretrain/best/model.safetensors",
        "finetune/best/training.json",
        "finetune/metrics.csv",
        "predictions.csv",
        "predictions_bouts.csv",
        "evaluation/metrics.json",
        "evaluation/per_class.csv",
        "evaluation/report.html",
        "evaluation/plots/ethogram.png",
        "evaluation/plots/confusion_matrix.svg",
        "evaluation/plots/training_curves.png",
        "evaluation/plots/embeddings_pca.png",
    ] {
        assert!(out.join(file).is_file(), "missing {file}\n{text}");
    }
    let html = std::fs::read_to_string(out.join("evaluation/report.html")).unwrap();
    assert!(html.contains("data:image/png;base64,") || html.contains("<svg"));

    let metrics: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("evaluation/metrics.json")).unwrap(),
    )
    .unwrap();
    let vocabulary: Vec<String> = serde_json::from_value(metrics["vocabulary"].clone()).unwrap();
    let mut pairs = Vec::new();
    let mut smoothed_frames = 0;
    for recording in metrics["recordings"].as_array().unwrap() {
        let name = recording["name"].as_str().unwrap();
        let (header, rows) = read_csv(
            &out.join("evaluation")
                .join(recording["predictions"].as_str().unwrap()),
        );
        let (_, truth) = read_csv(&out.join("data").join(format!("{name}_labels.csv")));
        assert_eq!(rows.len(), truth.len());
        let label = column(&header, "label");
        for (row, t) in rows.iter().zip(&truth) {
            if !t[1].is_empty() {
                pairs.push((t[1].clone(), row[label].clone()));
            }
        }
        smoothed_frames += rows.len();
    }
    let recomputed = macro_f1(&vocabulary, &pairs);
    let reported = metrics["frame"]["macro_all"]["f1"].as_f64().unwrap();
    assert!(
        (recomputed - reported).abs() < 1e-9,
        "{recomputed} vs {reported}"
    );
    assert_eq!(
        metrics["frame"]["labelled_frames"].as_u64().unwrap() as usize,
        pairs.len()
    );
    assert!(smoothed_frames > 0 && metrics["smoothed"]["report"]["macro_all"]["f1"].is_number());

    // per_class.csv repeats metrics.json.
    let (header, rows) = read_csv(&out.join("evaluation/per_class.csv"));
    let f1 = column(&header, "f1");
    let from_json: BTreeMap<String, f64> = metrics["frame"]["classes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                c["f1"].as_f64().unwrap(),
            )
        })
        .collect();
    for row in rows.iter().filter(|r| from_json.contains_key(&r[0])) {
        let value: f64 = row[f1].parse().unwrap();
        assert!((value - from_json[&row[0]]).abs() < 1e-6, "{row:?}");
    }

    // The demo refuses to run into its own output.
    let (ok, text) = behavert(&["demo", "--quick", "--output-dir", arg(&out)]);
    assert!(!ok && text.contains("never overwrites"), "{text}");
}

#[test]
fn evaluate_command_on_the_demo_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let (ok, text) = behavert(&["demo", "--quick", "--output-dir", arg(&out)]);
    assert!(ok, "{text}");
    let data = out.join("data");
    // Two held-out files, evaluated into `output_dir` with `flags` added.
    let evaluate_held_out = |output_dir: &Path, flags: &[&str]| {
        let model = out.join("finetune/best");
        let (inputs, labels) = (
            [data.join("mouse_0.csv"), data.join("mouse_1.csv")],
            [
                data.join("mouse_0_labels.csv"),
                data.join("mouse_1_labels.csv"),
            ],
        );
        let mut args = vec!["evaluate", "--model", arg(&model), "--input"];
        args.extend(inputs.iter().map(|p| arg(p)));
        args.push("--labels");
        args.extend(labels.iter().map(|p| arg(p)));
        args.extend(["--output-dir", arg(output_dir)]);
        args.extend(flags);
        behavert(&args)
    };
    let eval = dir.path().join("eval");
    let (ok, text) = evaluate_held_out(&eval, &["--fps", "30"]);
    assert!(ok, "{text}");
    assert!(text.contains("macro-F1"), "{text}");
    // Same model, same files, same windows: the demo's own evaluation numbers.
    let read = |p: &Path| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
    };
    let ours = read(&eval.join("metrics.json"));
    let demo = read(&out.join("evaluation/metrics.json"));
    assert_eq!(
        ours["frame"]["confusion_matrix"],
        demo["frame"]["confusion_matrix"]
    );

    // bf16 arithmetic labels the held-out files as well as f32 does, or says why this CPU
    // cannot run it.
    let bf16 = dir.path().join("eval-bf16");
    let (ok, text) = evaluate_held_out(&bf16, &["--precision", "bf16"]);
    if ok {
        let f1 =
            |metrics: &serde_json::Value| metrics["frame"]["macro_all"]["f1"].as_f64().unwrap();
        let bf16_f1 = f1(&read(&bf16.join("metrics.json")));
        assert!(
            (bf16_f1 - f1(&ours)).abs() <= 0.005,
            "bf16 macro-F1 {bf16_f1} against f32 {}",
            f1(&ours)
        );
    } else {
        assert!(text.contains("AVX-512 BF16"), "{text}");
    }

    // Two evaluations started together into one new folder: exactly one publishes its
    // whole folder, the other says why it wrote nothing, and no staging folder is left.
    let raced = dir.path().join("raced");
    let racers: Vec<_> = (0..2)
        .map(|_| {
            std::process::Command::new(env!("CARGO_BIN_EXE_behavert"))
                .args(["evaluate", "--model", arg(&out.join("finetune/best"))])
                .args(["--input", arg(&data.join("mouse_0.csv"))])
                .args(["--labels", arg(&data.join("mouse_0_labels.csv"))])
                .args(["--output-dir", arg(&raced)])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outcomes: Vec<(bool, String)> = racers
        .into_iter()
        .map(|racer| {
            let out = racer.wait_with_output().unwrap();
            let text = String::from_utf8_lossy(&out.stderr).into_owned();
            (out.status.success(), text)
        })
        .collect();
    assert_eq!(
        outcomes.iter().filter(|(ok, _)| *ok).count(),
        1,
        "{outcomes:?}"
    );
    let (_, loser) = outcomes.iter().find(|(ok, _)| !ok).unwrap();
    assert!(loser.contains("never overwritten"), "{loser}");
    assert!(read(&raced.join("metrics.json"))["frame"]["confusion_matrix"].is_array());
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".tmp"))
        .collect();
    assert!(left.is_empty(), "{left:?}");

    // Wrong labels are named.
    let (ok, text) = behavert(&[
        "evaluate",
        "--model",
        arg(&out.join("finetune/best")),
        "--input",
        arg(&data.join("mouse_0.csv")),
        "--labels",
        arg(&data.join("mouse_0.csv")),
        "--output-dir",
        arg(&dir.path().join("bad")),
    ]);
    assert!(!ok, "{text}");
}
