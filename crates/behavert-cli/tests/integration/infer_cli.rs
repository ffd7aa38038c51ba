//! `behavert finetune` on a real DeepLabCut file with a labels CSV, then `behavert infer` on
//! it: one row per frame, probabilities that sum to 1, and the same predictions however the
//! windows are batched.

use std::path::Path;

use behavert_pose::label_files::write_labels;
use behavert_pose::labels::{FrameLabels, Labels};

use crate::common::{arg, behavert, read_csv, shared};

/// "moving" where the snout travels more than 2 px per frame, else "still": a labelling a
/// model can learn from the pose.
fn speed_labels(pose: &behavert_pose::Pose) -> Labels {
    let snout = |f: usize| (pose.positions[[f, 0, 0, 0]], pose.positions[[f, 0, 0, 1]]);
    let ids = (0..pose.frames())
        .map(|f| {
            let ((x0, y0), (x1, y1)) = (snout(f.saturating_sub(1)), snout(f));
            let speed = ((x1 - x0).powi(2) + (y1 - y0).powi(2)).sqrt();
            speed.is_finite().then_some(u32::from(speed > 2.0))
        })
        .collect();
    Labels::new(
        vec!["still".into(), "moving".into()],
        FrameLabels::Single(ids),
    )
    .unwrap()
}

/// Runs `behavert infer --model MODEL --input INPUT --output OUTPUT EXTRA…`: success and
/// stdout + stderr.
fn infer(model: &Path, input: &Path, output: &Path, extra: &[&str]) -> (bool, String) {
    let mut args = vec![
        "infer",
        "--model",
        arg(model),
        "--input",
        arg(input),
        "--output",
        arg(output),
    ];
    args.extend(extra);
    behavert(&args)
}

#[test]
fn infer_on_a_real_deeplabcut_file() {
    let Some(csv) = shared("data/samples/openfield_dlc_inference_example.csv") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let pose = behavert_pose::formats::read_one(&csv, None).unwrap();
    let labels = dir.path().join("labels.csv");
    write_labels(&labels, &speed_labels(&pose)).unwrap();
    let run = dir.path().join("run");
    let (ok, text) = behavert(&[
        "finetune",
        "--input",
        arg(&csv),
        "--labels",
        arg(&labels),
        "--model-size",
        "tiny",
        "--window",
        "64",
        "--batch-size",
        "8",
        "--max-steps",
        "6",
        "--output-dir",
        arg(&run),
        "--no-progress",
    ]);
    assert!(ok, "{text}");
    let model = run.join("best");

    let predictions = dir.path().join("predictions.csv");
    let (ok, text) = infer(
        &model,
        &csv,
        &predictions,
        &["--no-progress", "--log-level", "info"],
    );
    assert!(ok, "{text}");
    // The log names the products' instructions, without colour codes off a terminal.
    assert!(text.contains("packed inference"), "{text}");
    assert!(
        !text.contains('\u{1b}'),
        "escape codes in a piped log: {text:?}"
    );
    let (header, rows) = read_csv(&predictions);
    assert_eq!(header, ["frame", "time_s", "label", "p_moving", "p_still"]);
    assert_eq!(rows.len(), 2330);
    for (f, row) in rows.iter().enumerate() {
        assert_eq!(row[0], f.to_string());
        let p: Vec<f64> = row[3..].iter().map(|v| v.parse().unwrap()).collect();
        assert!(
            p.iter().all(|v| (0.0..=1.0).contains(v)),
            "row {f}: {row:?}"
        );
        assert!(
            (p.iter().sum::<f64>() - 1.0).abs() < 1e-4,
            "row {f}: {row:?}"
        );
        let best = if p[0] > p[1] { "moving" } else { "still" };
        assert!(p[0] == p[1] || row[2] == best, "row {f}: {row:?}");
    }

    // Bouts tile the recording and agree with the labels.
    let (header, bouts) = read_csv(&dir.path().join("predictions_bouts.csv"));
    assert_eq!(
        header,
        [
            "behaviour",
            "start_frame",
            "end_frame",
            "start_s",
            "duration_s",
            "mean_probability"
        ]
    );
    let mut next = 0;
    for bout in &bouts {
        let (start, end): (usize, usize) = (bout[1].parse().unwrap(), bout[2].parse().unwrap());
        assert_eq!(start, next);
        assert!(rows[start..=end].iter().all(|r| r[2] == bout[0]));
        next = end + 1;
    }
    assert_eq!(next, 2330);

    // One window per batch or many: the same file, byte for byte.
    let one_by_one = dir.path().join("one_by_one.csv");
    let (ok, text) = infer(
        &model,
        &csv,
        &one_by_one,
        &["--batch-size", "1", "--no-progress"],
    );
    assert!(ok, "{text}");
    let (_, again) = read_csv(&one_by_one);
    let close = |a: &[String], b: &[String]| {
        a[..3] == b[..3]
            && a[3..]
                .iter()
                .zip(&b[3..])
                .all(|(x, y)| (x.parse::<f64>().unwrap() - y.parse::<f64>().unwrap()).abs() < 1e-5)
    };
    assert!(rows.iter().zip(&again).all(|(a, b)| close(a, b)));

    // Outputs are never overwritten.
    let (ok, text) = infer(&model, &csv, &predictions, &[]);
    assert!(!ok && text.contains("never overwritten"), "{text}");

    no_nan_is_ever_written(&csv, &model, dir.path());
}

/// Hostile input never ends in a NaN written with exit 0: infinite and absurd coordinates
/// become missing keypoints, and a checkpoint with NaN weights or a vocabulary shorter than
/// its head is refused at load.
fn no_nan_is_ever_written(csv: &Path, model: &Path, dir: &Path) {
    let text = std::fs::read_to_string(csv).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let mut spoil = |line: usize, value: &str| {
        let mut cells: Vec<&str> = lines[line].split(',').collect();
        cells[1] = value;
        lines[line] = cells.join(",");
    };
    let last = text.lines().count() - 1;
    spoil(3, "inf");
    spoil(last, "1e300");
    let hostile = dir.join("hostile.csv");
    std::fs::write(&hostile, lines.join("\n") + "\n").unwrap();
    let output = dir.join("hostile_predictions.csv");
    let (ok, text) = infer(model, &hostile, &output, &["--no-progress"]);
    assert!(ok, "{text}");
    let (_, rows) = read_csv(&output);
    assert_eq!(rows.len(), 2330);
    assert!(
        rows.iter()
            .flat_map(|r| &r[3..])
            .all(|p| p.parse::<f64>().unwrap().is_finite()),
        "NaN probabilities written"
    );

    let tampered = |name: &str, change: &dyn Fn(&Path)| {
        let copy = dir.join(name);
        std::fs::create_dir(&copy).unwrap();
        for entry in std::fs::read_dir(model).unwrap() {
            let path = entry.unwrap().path();
            std::fs::copy(&path, copy.join(path.file_name().unwrap())).unwrap();
        }
        change(&copy);
        let output = dir.join(format!("{name}.csv"));
        let (ok, text) = infer(&copy, csv, &output, &["--no-progress"]);
        assert!(!ok && !output.exists(), "{text}");
        text
    };
    // The tensor data runs to the end of a safetensors file: its last 4 bytes are a weight.
    let text = tampered("nan_weights", &|copy| {
        let path = copy.join("model.safetensors");
        let mut bytes = std::fs::read(&path).unwrap();
        let end = bytes.len();
        bytes[end - 4..].copy_from_slice(&f32::NAN.to_le_bytes());
        std::fs::write(&path, bytes).unwrap();
    });
    assert!(
        text.contains("model.safetensors") && text.contains("NaN"),
        "{text}"
    );
    let text = tampered("short_vocabulary", &|copy| {
        let path = copy.join("training.json");
        let mut info: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        info["heads"][0]["vocabulary"].as_array_mut().unwrap().pop();
        std::fs::write(&path, info.to_string()).unwrap();
    });
    assert!(
        text.contains("training.json") && text.contains("behaviour names"),
        "{text}"
    );
}

#[test]
fn infer_refuses_a_pose_the_model_was_not_trained_on() {
    let (Some(csv), Some(sleap)) = (
        shared("data/samples/openfield_dlc_inference_example.csv"),
        shared("data/samples/ethome_sample_sleap_analysis.h5"),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let (ok, text) = behavert(&[
        "pretrain",
        "--input",
        arg(&csv),
        "--model-size",
        "tiny",
        "--window",
        "32",
        "--max-steps",
        "1",
        "--output-dir",
        arg(&run),
        "--no-progress",
    ]);
    assert!(ok, "{text}");
    // A pretrained-only model has no behaviour head.
    let (ok, text) = infer(&run.join("best"), &csv, &dir.path().join("p.csv"), &[]);
    assert!(!ok && text.contains("at least one head"), "{text}");
    let (ok, text) = behavert(&[
        "embed",
        "--model",
        arg(&run.join("best")),
        "--input",
        arg(&sleap),
        "--output",
        arg(&dir.path().join("e.npy")),
    ]);
    assert!(
        !ok && text.contains("features") && text.contains("keypoints"),
        "{text}"
    );
}
