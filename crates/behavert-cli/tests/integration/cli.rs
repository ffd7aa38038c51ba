//! The `behavert` command as a user runs it.

use std::path::Path;
use std::process::{Command, Output};

use crate::common::shared;

fn behavert(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_behavert"))
        .args(args)
        .output()
        .expect("run behavert")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn every_subcommand_has_help() {
    for command in [
        "demo",
        "inspect",
        "pretrain",
        "finetune",
        "evaluate",
        "infer",
        "embed",
        "convert",
        "model-info",
    ] {
        let output = behavert(&[command, "--help"]);
        assert!(
            output.status.success(),
            "{command} --help failed: {}",
            stderr(&output)
        );
        assert!(
            stdout(&output).contains("Usage: behavert"),
            "{command} --help: {}",
            stdout(&output)
        );
    }
}

#[test]
fn a_missing_model_is_one_line_naming_it() {
    let output = behavert(&[
        "infer",
        "--model",
        "no/such/model",
        "--input",
        "pose.csv",
        "--output",
        "p.csv",
    ]);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert_eq!(message.trim().lines().count(), 1, "{message}");
    assert!(message.contains("no/such/model"), "{message}");
}

#[test]
fn model_info_describes_presets_and_checkpoints() {
    let output = behavert(&["model-info", "--size", "small"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("4 layers, 256 wide, 4 heads, feed-forward 1024"),
        "{}",
        stdout(&output)
    );

    let Some(tiny) = shared("reference/tiny") else {
        return;
    };
    let output = behavert(&["model-info", "--json", tiny.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    let info: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    // The element count of the reference's state_dict (sum over model.safetensors).
    assert_eq!(info["parameters"], 88035);
    assert_eq!(info["num_hidden_layers"], 2);
}

#[test]
fn bad_devices_and_missing_checkpoints_are_explained() {
    let output = behavert(&["--device", "tpu", "model-info", "--size", "tiny"]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("expected one of cpu"),
        "{}",
        stderr(&output)
    );
    let output = behavert(&["model-info", "/nonexistent/checkpoint"]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("/nonexistent/checkpoint/config.json"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn inspect_reports_a_deeplabcut_file_as_json() {
    let Some(csv) = shared("data/samples/openfield_dlc_inference_example.csv") else {
        return;
    };
    let output = behavert(&["inspect", "--json", csv.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    let summary: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(summary["format"], "dlc-csv");
    assert_eq!(summary["frames"], 2330);
    assert_eq!(
        summary["keypoints"],
        serde_json::json!(["snout", "leftear", "rightear", "tailbase"])
    );
    assert_eq!(summary["space"], "2D");
    for key in ["fps", "individuals", "missing_fraction"] {
        assert!(summary.get(key).is_some(), "no {key} in {summary}");
    }
}

#[test]
fn inspect_summarises_a_dataset() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../behavert-pose/tests/fixtures/datasets/calms21");
    let output = behavert(&[
        "inspect",
        "--dataset",
        "calms21",
        "--json",
        fixture.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let summary: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(summary["dataset"], "calms21");
}

#[test]
fn convert_writes_npy_and_never_overwrites() {
    let Some(csv) = shared("data/samples/openfield_dlc_inference_example.csv") else {
        return;
    };
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("pose.npy");
    let args = [
        "convert",
        csv.to_str().unwrap(),
        "--to",
        "npy",
        "--output",
        target.to_str().unwrap(),
    ];
    let output = behavert(&args);
    assert!(output.status.success(), "{}", stderr(&output));
    let bytes = std::fs::read(&target).unwrap();
    assert!(bytes.starts_with(b"\x93NUMPY"));
    let header = String::from_utf8_lossy(&bytes[10..128]);
    assert!(
        header.contains("'shape': (2330, 1, 4, 2)") && header.contains("<f4"),
        "{header}"
    );

    // The disk fills while the set is being written (a file-size limit, with SIGXFSZ ignored so
    // a write fails as on a full disk: the confidence file fits, the positions do not): an
    // error naming the file, and nothing of the set left to be read wrongly or to block the
    // next attempt.
    #[cfg(unix)]
    {
        let full = out.path().join("full.npy");
        let limited = std::process::Command::new("sh")
            .arg("-c")
            .arg("trap '' XFSZ; ulimit -f 100; exec \"$0\" \"$@\"")
            .arg(env!("CARGO_BIN_EXE_behavert"))
            .args(["convert", csv.to_str().unwrap(), "--to", "npy", "--output"])
            .arg(&full)
            .output()
            .unwrap();
        assert!(!limited.status.success());
        assert!(stderr(&limited).contains("full"), "{}", stderr(&limited));
        let left: Vec<_> = std::fs::read_dir(out.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.contains("full"))
            .collect();
        assert!(left.is_empty(), "left behind: {left:?}");
        let mut again = args;
        again[5] = full.to_str().unwrap();
        let output = behavert(&again);
        assert!(output.status.success(), "{}", stderr(&output));
    }

    std::fs::write(&target, b"user data").unwrap();
    let output = behavert(&args);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("already exists"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        std::fs::read(&target).unwrap(),
        b"user data",
        "an existing file was touched"
    );
}
