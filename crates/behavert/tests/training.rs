//! Training end to end on simulated animals: fine-tuning beats the baselines, a killed and
//! resumed run ends with the same weights, bad configs fail before any work.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

use behavert::checkpoint::load_checkpoint;
use behavert::infer::{ClipSummary, InferOptions, Predictor};
use behavert::train::{Mode, RunOptions, TrainingConfig, resume, train};
use behavert_pose::synth::{SimulationConfig, simulate};
use burn::tensor::Device;

#[path = "training/roles.rs"]
mod roles;

/// The device RNG is process-wide: runs in parallel test threads would draw each other's
/// dropout masks, so training tests take turns.
static ONE_RUN_AT_A_TIME: Mutex<()> = Mutex::new(());

fn turn() -> std::sync::MutexGuard<'static, ()> {
    ONE_RUN_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

/// The training-loss rows of `run`'s `metrics.csv`, as the training-curves plot reads them.
fn train_losses(run: &Path) -> Vec<f64> {
    let log = behavert::eval::training_log::TrainingLog::read(&run.join("metrics.csv")).unwrap();
    log.series("train", "loss")
        .into_iter()
        .map(|(_, loss)| loss)
        .collect()
}

/// A small fine-tuning run on simulated recordings.
fn finetune_config(extra: &str) -> TrainingConfig {
    let text = format!(
        r#"
[data]
source = "simulated"
recordings = 8
validation_recordings = 2
[data.simulation]
seed = 7
frames = 1800
[preprocess]
body_axis = ["tail", "neck"]
[preprocess.align]
mode = "egocentric"
individual = "resident"
centre = ["neck"]
[preprocess.derived]
velocities = true
distances = [["nose", "nose"], ["nose", "tail"]]
[window]
length = 48
stride = 24
[optimizer]
learning_rate = 1e-3
[schedule]
warmup_steps = 20
[training]
seed = 1
batch_size = 16
epochs = 8
progress = false
[[heads]]
name = "behaviour"
class_weights = "inverse_frequency"
{extra}
"#
    );
    TrainingConfig::from_toml(&text, "test config").unwrap()
}

/// Every tensor of a checkpoint by name (the file's header order may differ between runs).
fn weights(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let bytes = std::fs::read(dir.join("model.safetensors")).unwrap();
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    file.tensors()
        .into_iter()
        .map(|(name, view)| (name, view.data().to_vec()))
        .collect()
}

#[test]
fn finetuning_beats_the_knn_baseline_on_held_out_recordings() {
    let _turn = turn();
    let out = tempfile::tempdir().unwrap();
    let run = out.path().join("run");
    let summary = train(
        Mode::Finetune,
        finetune_config(""),
        &run,
        &Device::flex(),
        &RunOptions::default(),
    )
    .unwrap();
    let eval = summary.last_evaluation.clone().unwrap();
    println!(
        "steps {} best macro-F1 {:?} last {:?}; data {:.2} ms/batch (wait {:.2} ms) vs step {:.1} ms",
        summary.steps,
        summary.best,
        eval.f1_macro,
        summary.data_ms,
        summary.wait_ms,
        summary.step_ms
    );
    // The simulator's single-frame kNN baseline scores ~0.33, always-other ~0.11.
    assert!(summary.best.unwrap() > 0.5, "{summary:?}");
    assert!(summary.wait_ms < summary.step_ms / 10.0, "{summary:?}");
    for file in [
        "config.toml",
        "metrics.csv",
        "best/training.json",
        "best/model.safetensors",
        "last/optimizer.bpk",
        "last/resume.json",
    ] {
        assert!(run.join(file).is_file(), "{file}");
    }
    let csv = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    assert!(csv.starts_with("step,epoch,split,loss,f1_macro"), "{csv}");
    assert!(csv.contains(",validation,"), "{csv}");
    let info: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("best/training.json")).unwrap())
            .unwrap();
    assert_eq!(info["heads"][0]["vocabulary"][0], "attack");
    assert_eq!(info["window_length"], 48);
    assert_eq!(
        info["normalisation"]["mean"].as_array().unwrap().len(),
        info["feature_names"].as_array().unwrap().len()
    );
    load_checkpoint(&run.join("best"), &Device::flex()).unwrap();
}

#[test]
fn a_killed_and_resumed_run_ends_with_the_same_weights() {
    let _turn = turn();
    let out = tempfile::tempdir().unwrap();
    let config = || {
        let mut c = finetune_config("");
        c.data.recordings = 2;
        c.data.validation_recordings = 1;
        c.data.simulation.frames = 600;
        c.training.epochs = 2;
        c.training.checkpoint_every = 7;
        // Multi-scale: batches of 48- and 32-frame windows, shuffled together.
        c.window.extra_lengths = vec![32];
        // Augmented windows are redrawn from seeds, so they must resume exactly too.
        c.augment = behavert_pose::augment::AugmentConfig {
            reflection: 0.5,
            mirror_pairs: vec![
                ["left_ear".into(), "right_ear".into()],
                ["left_hip".into(), "right_hip".into()],
            ],
            jitter: 1.0,
            time_warp: [0.8, 1.25],
            ..Default::default()
        };
        c
    };
    let device = Device::flex();
    let whole = out.path().join("whole");
    let s = train(
        Mode::Finetune,
        config(),
        &whole,
        &device,
        &RunOptions::default(),
    )
    .unwrap();
    let half = s.steps / 2;
    let killed = out.path().join("killed");
    train(
        Mode::Finetune,
        config(),
        &killed,
        &device,
        &RunOptions {
            stop_after: Some(half),
        },
    )
    .unwrap();
    let resumed = resume(&killed, &device, &RunOptions::default()).unwrap();
    assert_eq!(resumed.steps, s.steps);
    assert!(
        weights(&whole.join("last")) == weights(&killed.join("last")),
        "weights differ after resume"
    );
    // Same seed, same data: identical weights from a second uninterrupted run too.
    let again = out.path().join("again");
    train(
        Mode::Finetune,
        config(),
        &again,
        &device,
        &RunOptions::default(),
    )
    .unwrap();
    assert!(
        weights(&whole.join("last")) == weights(&again.join("last")),
        "not deterministic"
    );
}

#[test]
fn a_run_killed_before_its_first_checkpoint_restarts_and_a_busy_one_is_refused() {
    let _turn = turn();
    let out = tempfile::tempdir().unwrap();
    let config = || {
        let mut c = finetune_config("");
        c.data.recordings = 1;
        c.data.validation_recordings = 1;
        c.data.simulation.frames = 300;
        c.training.max_steps = Some(2);
        c
    };
    let device = Device::flex();
    let finetune = |dir: &Path| {
        train(
            Mode::Finetune,
            config(),
            dir,
            &device,
            &RunOptions::default(),
        )
    };
    let run = out.path().join("run");
    // What a run killed during its first steps leaves: its config and a metrics row.
    std::fs::create_dir(&run).unwrap();
    std::fs::write(run.join("config.toml"), config().to_toml()).unwrap();
    std::fs::write(run.join("metrics.csv"), "step\n1\n").unwrap();
    let err = resume(&run, &device, &RunOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("before its first checkpoint"), "{err}");
    let summary = finetune(&run).unwrap();
    assert_eq!(summary.steps, 2);
    assert!(run.join("best/model.safetensors").is_file());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(run.join("best/model.safetensors"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(
            mode & 0o777,
            0o644,
            "weights readable like every other output"
        );
    }
    // Now it is a run: starting another into it is refused.
    let err = finetune(&run).unwrap_err().to_string();
    assert!(err.contains("--resume"), "{err}");

    // Another process training in a directory holds its lock: nothing else may train there.
    let busy = out.path().join("busy");
    std::fs::create_dir(&busy).unwrap();
    let lock = std::fs::File::create(busy.join(".lock")).unwrap();
    lock.try_lock().unwrap();
    let err = finetune(&busy).unwrap_err().to_string();
    assert!(err.contains("in use"), "{err}");
    assert!(!busy.join("config.toml").exists());
}

#[test]
fn pretraining_reduces_the_reconstruction_error() {
    let _turn = turn();
    let out = tempfile::tempdir().unwrap();
    let mut config = finetune_config("");
    config.heads.clear();
    config.data.recordings = 4;
    config.data.validation_recordings = 1;
    config.training.epochs = 4;
    config.training.monitor = behavert::train::config::Monitor::Loss;
    let run = out.path().join("pre");
    let summary = train(
        Mode::Pretrain,
        config,
        &run,
        &Device::flex(),
        &RunOptions::default(),
    )
    .unwrap();
    let train_losses = train_losses(&run);
    println!("pretrain losses {train_losses:?} summary {summary:?}");
    assert!(
        train_losses.last().unwrap() < &(train_losses[0] * 0.9),
        "{train_losses:?}"
    );
    let info: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("last/training.json")).unwrap())
            .unwrap();
    assert_eq!(info["mode"], "pretrain");
}

#[test]
fn bad_configs_fail_before_any_work() {
    let _turn = turn();
    let device = Device::flex();
    let out = tempfile::tempdir().unwrap();
    // The error of fine-tuning `config` into run directory `run`.
    let refused = |config: TrainingConfig, run: &str| {
        train(
            Mode::Finetune,
            config,
            &out.path().join(run),
            &device,
            &RunOptions::default(),
        )
        .unwrap_err()
        .to_string()
    };
    let err = TrainingConfig::from_toml("[training]\nbatch_sise = 4\n", "c.toml")
        .unwrap_err()
        .to_string();
    assert!(err.contains("batch_sise"), "{err}");
    let mut c = finetune_config("");
    c.optimizer.learning_rate = -0.1;
    let err = refused(c, "a");
    assert!(err.contains("optimizer.learning_rate"), "{err}");
    let mut c = finetune_config("");
    c.window.length = 1000;
    c.window.stride = 10;
    let err = refused(c, "b");
    assert!(
        err.contains("window.length") && err.contains("1000"),
        "{err}"
    );
    let mut c = finetune_config("");
    c.window.extra_lengths = vec![96, 600];
    let err = refused(c, "b2");
    assert!(
        err.contains("window.extra_lengths") && err.contains("600"),
        "{err}"
    );
    let c = finetune_config(r#"vocabulary = ["attack", "chase", "other"]"#);
    let err = refused(c, "c");
    assert!(
        err.contains("vocabulary") && err.contains("investigation"),
        "{err}"
    );
    assert!(
        !out.path().join("c").exists(),
        "a run directory was created for a bad config"
    );
}

/// What a short fine-tuning run with the `[[heads]]` tables `heads` left behind.
struct HeadRun {
    /// Mean training loss of the first and of the last logged rows.
    first_loss: f64,
    last_loss: f64,
    /// `best/training.json`.
    info: serde_json::Value,
    /// The last evaluation.
    evaluation: behavert::train::Evaluation,
    /// Holds the run directory `run/`.
    dir: tempfile::TempDir,
}

/// Fine-tunes the tiny model with `heads` (TOML `[[heads]]` tables) on two short simulated
/// recordings.
fn finetune_heads(heads: &str) -> HeadRun {
    let _turn = turn();
    let out = tempfile::tempdir().unwrap();
    let mut config = finetune_config("");
    config.heads = TrainingConfig::from_toml(heads, "heads").unwrap().heads;
    config.data.recordings = 3;
    config.data.validation_recordings = 1;
    config.data.simulation.frames = 600;
    config.training.epochs = 10;
    config.optimizer.learning_rate = 2e-3;
    config.schedule.warmup_steps = 5;
    let run = out.path().join("run");
    let summary = train(
        Mode::Finetune,
        config,
        &run,
        &Device::flex(),
        &RunOptions::default(),
    )
    .unwrap();
    let losses = train_losses(&run);
    assert!(losses.len() >= 3, "{losses:?}");
    let info =
        serde_json::from_str(&std::fs::read_to_string(run.join("best/training.json")).unwrap())
            .unwrap();
    load_checkpoint(&run.join("best"), &Device::flex()).unwrap();
    HeadRun {
        first_loss: losses[0],
        last_loss: *losses.last().unwrap(),
        info,
        evaluation: summary.last_evaluation.unwrap(),
        dir: out,
    }
}

fn assert_learns(run: &HeadRun) {
    assert!(
        run.first_loss.is_finite() && run.last_loss < run.first_loss * 0.9,
        "loss {} → {}",
        run.first_loss,
        run.last_loss
    );
    assert!(run.evaluation.loss.is_finite(), "{:?}", run.evaluation);
}

#[test]
fn a_multilabel_frame_head_trains_with_binary_cross_entropy() {
    let run = finetune_heads(
        "[[heads]]\nname = \"behaviours\"\nkind = \"multilabel\"\nsource = \"labels\"\n",
    );
    assert_learns(&run);
    let head = &run.info["heads"][0];
    assert_eq!(head["head"]["kind"], "multilabel");
    assert_eq!(head["head"]["outputs"], 6);
    assert_eq!(head["vocabulary"].as_array().unwrap().len(), 6);
}

#[test]
fn a_regression_head_trains_on_the_simulated_kinematics() {
    let run = finetune_heads(
        "[[heads]]\nname = \"kinematics\"\nkind = \"regression\"\nsource = \"targets\"\n",
    );
    assert_learns(&run);
    let head = &run.info["heads"][0];
    assert_eq!(head["head"]["kind"], "regression");
    assert_eq!(head["head"]["outputs"], 2);
    assert!(head["vocabulary"].as_array().unwrap().is_empty());
    assert!(run.evaluation.f1_macro.is_none(), "{:?}", run.evaluation);
}

#[test]
fn a_sequence_head_classifies_each_window_by_its_dominant_behaviour() {
    let run =
        finetune_heads("[[heads]]\nname = \"clip\"\nlevel = \"sequence\"\nsource = \"dominant\"\n");
    assert_learns(&run);
    assert_eq!(run.info["heads"][0]["head"]["level"], "sequence");
    let f1 = run.evaluation.f1_macro.unwrap();
    assert!((0.0..=1.0).contains(&f1), "{f1}");
}

#[test]
fn inference_gives_a_sequence_heads_window_answer_to_each_of_its_frames() {
    let run = finetune_heads(
        "[[heads]]\nname = \"clip\"\nlevel = \"sequence\"\nsource = \"dominant\"\n\
         [[heads]]\nname = \"behaviour\"\n",
    );
    let predictor = Predictor::load(&run.dir.path().join("run/best"), &Device::flex()).unwrap();
    let names: Vec<&str> = predictor.heads().iter().map(|h| h.name()).collect();
    assert_eq!(names, ["behaviour", "clip"], "frame heads come first");
    let pose = simulate(&SimulationConfig {
        seed: 99,
        frames: 200,
        ..SimulationConfig::default()
    })
    .unwrap()
    .pose;
    // Windows of 48 frames side by side: 0..48, 48..96, …, 192..200.
    let options = InferOptions {
        stride: Some(48),
        ..InferOptions::default()
    };
    let mut summary = ClipSummary::new(predictor.heads());
    let prepared = predictor.prepare(&pose, "test pose").unwrap();
    predictor
        .run(&prepared, &options, |block| {
            summary.add(&block);
            Ok(())
        })
        .unwrap();
    let clip = &predictor
        .predict(&pose, "test pose", &options)
        .unwrap()
        .heads[1];
    assert_eq!(clip.dim(), (200, 6));
    for row in clip.rows() {
        assert!((row.sum() - 1.0).abs() < 1e-5, "{row}");
    }
    let windows: Vec<_> = (0..200).step_by(48).map(|start| clip.row(start)).collect();
    for (f, row) in clip.rows().into_iter().enumerate() {
        assert_eq!(
            row,
            windows[f / 48],
            "frame {f} differs from its window's answer"
        );
    }
    assert!(windows.iter().any(|w| *w != windows[0]), "{windows:?}");

    let means = clip.mean_axis(ndarray::Axis(0)).unwrap();
    let best = means
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .unwrap()
        .0;
    let lines = summary.lines();
    assert_eq!(lines.len(), 1, "{lines:?}");
    let class = &predictor.heads()[1].output_names()[best];
    let expected = format!("clip over the whole recording: {class} (mean probability ");
    assert!(lines[0].starts_with(&expected), "{lines:?} vs {expected}");
    let shown: f64 = lines[0][expected.len()..lines[0].len() - 1]
        .parse()
        .unwrap();
    assert!(
        (shown - f64::from(means[best])).abs() < 1e-3,
        "{lines:?} {means}"
    );
}

#[test]
fn focal_loss_trains_a_frame_head() {
    let run = finetune_heads(
        "[[heads]]\nname = \"behaviour\"\nloss = \"focal\"\nfocal_gamma = 2.0\n\
         class_weights = \"inverse_frequency\"\n",
    );
    assert_learns(&run);
    // The always-`other` answer scores about 0.11.
    assert!(
        run.evaluation.f1_macro.unwrap() > 0.2,
        "{:?}",
        run.evaluation
    );
}

#[test]
fn two_heads_train_together_and_are_both_saved() {
    let run = finetune_heads(
        "[[heads]]\nname = \"behaviour\"\n\
         [[heads]]\nname = \"kinematics\"\nkind = \"regression\"\nsource = \"targets\"\n\
         loss_weight = 0.5\n",
    );
    assert_learns(&run);
    let heads = run.info["heads"].as_array().unwrap();
    let names: Vec<_> = heads.iter().map(|h| h["head"]["name"].clone()).collect();
    assert_eq!(names, ["behaviour", "kinematics"]);
    assert_eq!(heads[0]["vocabulary"][0], "attack");
    let per_head = &run.evaluation.per_head;
    assert_eq!(per_head.len(), 1, "{per_head:?}");
    assert!(per_head[0].1.is_finite());
}
