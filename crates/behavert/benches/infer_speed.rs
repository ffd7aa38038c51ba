//! `behavert infer` speed: frames per second for the `small` model over a one-hour recording
//! (read a DeepLabCut CSV, preprocess, overlapping windows, write predictions and bouts), and
//! the latency of one new frame in a streaming window — beside the PyTorch reference's
//! forward pass at the same shapes, in one run; in f32, then in bf16 where the CPU has AVX-512
//! BF16 (PyTorch under CPU autocast).
//!
//! `cargo bench -p behavert --bench infer_speed [-- MINUTES]` (default 60 minutes at 30 fps).
//! The model has random weights: speed does not depend on them.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use behavert::checkpoint::save_checkpoint;
use behavert::checkpoint::{HeadVocabulary, TRAINING_FILE, TrainingInfo};
use behavert::infer::predictions::PredictionWriter;
use behavert::infer::{InferOptions, Predictor};
use behavert::model::{Architecture, BehavErt, HeadConfig, ModelConfig, ModelInput, Precision};
use behavert::train::TrainingConfig;
use behavert_pose::preprocess::{NormalisationStats, PoseLayout, Preprocessor};
use behavert_pose::synth::{SimulationConfig, simulate, vocabulary};
use behavert_pose::{Format, formats};
use burn::tensor::{Device, Distribution, Tensor};
use common::{THREADS, TorchCase, cpu_model, median, peak_rss_mb, run_torch};

const FINETUNE: &str = include_str!("../../../configs/training/finetune-sim.toml");
const WINDOW: usize = 64;
const BATCH: usize = 16;
const FPS: f64 = 30.0;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    if args.first().map(String::as_str) == Some("--child") {
        let precision = args[3].parse().expect("precision");
        child(Path::new(&args[1]), Path::new(&args[2]), precision);
        return;
    }
    let minutes: f64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(60.0);
    let frames = (minutes * 60.0 * FPS) as usize;
    let dir = tempfile::tempdir().expect("temp dir");
    let csv = dir.path().join("recording.csv");
    let model = dir.path().join("model");
    let started = Instant::now();
    let features = prepare_inputs(frames, &csv, &model);
    println!(
        "prepared a {minutes}-minute recording ({frames} frames, 2 mice, {features} features) and a random `small` checkpoint in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    for precision in [Precision::F32, Precision::Bf16] {
        if let Err(error) = precision.check() {
            println!("\n{precision}: skipped ({error})");
            continue;
        }
        measure(precision, &model, &csv, frames, features);
    }
    println!("ratio = Rust time / PyTorch time (below 1 is faster)");
}

/// Runs the child in `precision` and prints its times beside PyTorch's in the same precision
/// (bf16: CPU autocast).
fn measure(precision: Precision, model: &Path, csv: &Path, frames: usize, features: usize) {
    let exe = std::env::current_exe().expect("bench executable");
    let output = Command::new(exe)
        .args([
            "--child",
            model.to_str().unwrap(),
            csv.to_str().unwrap(),
            &precision.to_string(),
        ])
        .env("RAYON_NUM_THREADS", THREADS)
        .output()
        .expect("run the Rust measurement");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let value = |key: &str| -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{key} ")))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(f64::NAN)
    };

    println!(
        "\nbehavert infer --precision {precision}, small, window {WINDOW}, stride {}, batch {BATCH}, {THREADS} threads on {}:",
        WINDOW / 2,
        cpu_model()
    );
    println!("  read DLC CSV       {:>8.2} s", value("read_s"));
    println!("  preprocess         {:>8.2} s", value("prepare_s"));
    println!("  model + write CSV  {:>8.2} s", value("model_s"));
    let total = value("read_s") + value("prepare_s") + value("model_s");
    println!(
        "  total              {total:>8.2} s = {:.0} frames/s ({:.0}× real time at {FPS} fps), peak RSS {:.0} MiB",
        frames as f64 / total,
        frames as f64 / total / FPS,
        value("peak_mb")
    );

    println!("forward passes (median), Rust vs PyTorch reference, both {precision}:");
    println!(
        "{:<26} {:>10} {:>10} {:>7}",
        "shape", "Rust ms", "torch ms", "ratio"
    );
    for (batch, length, key) in [
        (BATCH, WINDOW, "batch_ms"),
        (1, WINDOW, "stream64_ms"),
        (1, 256, "stream256_ms"),
    ] {
        let rust = value(key);
        let torch = run_torch(&TorchCase {
            size: "small",
            batch,
            frames: length,
            mode: "infer",
            features,
            classes: vocabulary().len(),
            warmup: 3,
            iters: 20,
            precision: &precision.to_string(),
        });
        let (torch_ms, ratio) = torch.map_or(("-".into(), "-".into()), |t| {
            (
                format!("{:.2}", t.median_ms),
                format!("{:.2}x", rust / t.median_ms),
            )
        });
        let what = if batch == 1 {
            format!("1 new frame, {length}-frame window")
        } else {
            format!("{batch}×{length} batch")
        };
        println!("{what:<26} {rust:>10.2} {torch_ms:>10} {ratio:>7}");
    }
}

/// Writes the recording as a DeepLabCut CSV and a `small` checkpoint fitted to its layout;
/// returns the features per frame.
fn prepare_inputs(frames: usize, csv: &Path, model_dir: &Path) -> usize {
    let recording = simulate(&SimulationConfig {
        frames,
        fps: FPS,
        ..Default::default()
    })
    .expect("simulate");
    formats::write(&recording.pose, csv, Format::DlcCsv).expect("write CSV");
    let preprocess = TrainingConfig::from_toml(FINETUNE, "finetune-sim.toml")
        .expect("config")
        .preprocess;
    let preprocessor =
        Preprocessor::new(&preprocess, &PoseLayout::of(&recording.pose)).expect("preprocessor");
    let prepared = preprocessor.prepare(&recording.pose).expect("prepare");
    let normalisation = NormalisationStats::fit([&prepared]).expect("statistics");
    let features = preprocessor.feature_count();
    let head = HeadConfig::frame("behaviour", vocabulary().len());
    let config = ModelConfig::new(
        &Architecture::preset(behavert::model::ModelSize::Small).expect("small"),
        features,
        vec![head.clone()],
    );
    let model = BehavErt::new(&config, &Device::flex()).expect("model");
    std::fs::create_dir_all(model_dir).expect("model dir");
    save_checkpoint(&model, model_dir).expect("save");
    let info = TrainingInfo {
        mode: behavert::checkpoint::Mode::Finetune,
        heads: vec![HeadVocabulary {
            head,
            vocabulary: vocabulary(),
        }],
        preprocess,
        normalisation,
        feature_names: preprocessor.feature_names().to_vec(),
        window_length: WINDOW,
        roles: None,
        seed: 0,
        step: 0,
        metrics: Default::default(),
        versions: TrainingInfo::current_versions(),
    };
    std::fs::write(
        model_dir.join(TRAINING_FILE),
        serde_json::to_string(&info).expect("json"),
    )
    .expect("write training.json");
    features
}

/// What `behavert infer` does, timed by phase, then single forward passes.
fn child(model_dir: &Path, csv: &Path, precision: Precision) {
    let device = Device::flex();
    let mut predictor = Predictor::load(model_dir, &device).expect("load");
    predictor.set_precision(precision).expect("precision");
    let t = Instant::now();
    let pose = formats::read_one(csv, None).expect("read");
    println!("read_s {}", t.elapsed().as_secs_f64());
    let t = Instant::now();
    let prepared = predictor.prepare(&pose, "recording").expect("prepare");
    println!("prepare_s {}", t.elapsed().as_secs_f64());
    let out = csv.with_file_name(format!("predictions-{precision}.csv"));
    let t = Instant::now();
    let mut writer = PredictionWriter::create(&out, predictor.heads(), Some(FPS)).expect("writer");
    let options = InferOptions {
        batch_size: BATCH,
        ..Default::default()
    };
    predictor
        .run(&prepared, &options, |block| writer.write(&block))
        .expect("infer");
    writer.finish().expect("finish");
    println!("model_s {}", t.elapsed().as_secs_f64());
    println!("peak_mb {}", peak_rss_mb());

    let mut model = behavert::checkpoint::load_checkpoint(model_dir, &device).expect("model");
    model.set_precision(precision).expect("precision");
    let features = model.config.input_dim;
    for (batch, length, key) in [
        (BATCH, WINDOW, "batch_ms"),
        (1, WINDOW, "stream64_ms"),
        (1, 256, "stream256_ms"),
    ] {
        let input = ModelInput::unpadded(Tensor::<3>::random(
            [batch, length, features],
            Distribution::Normal(0.0, 1.0),
            &device,
        ));
        let mut times = Vec::new();
        for i in 0..23 {
            let t = Instant::now();
            let hidden = model.encode(&input).expect("encode");
            let _: f32 = model.frame_logits(0, &hidden).sum().into_scalar();
            if i >= 3 {
                times.push(t.elapsed().as_secs_f64() * 1e3);
            }
        }
        println!("{key} {}", median(times));
    }
}
