//! One entry per fuzz target of this crate (`fuzz/fuzz_targets/`): the files a user or a
//! damaged run folder hands to training and inference — a training config (TOML), a
//! checkpoint's `config.json` and its `training.json`. The fuzzers and the regression tests of
//! what they found (`tests/fuzz_regressions.rs`) feed them in exactly the same way.
//!
//! The rule every target checks: a file may be refused, but the program must return without
//! panicking or aborting, and what it accepts must work — a model config builds a model, a
//! `training.json` beside a good checkpoint labels a recording with finite probabilities.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use behavert_pose::pose::Pose;
use behavert_pose::preprocess::{
    AlignConfig, DerivedConfig, EgocentricConfig, NormalisationStats, OutlierConfig, PoseLayout,
    PreprocessConfig, Preprocessor,
};
use behavert_pose::synth::{SimulationConfig, simulate};
use burn::tensor::Device;

use crate::checkpoint::{HeadVocabulary, Mode, TRAINING_FILE, TrainingInfo, save_checkpoint};
use crate::infer::{InferOptions, Predictor};
use crate::model::{Architecture, BehavErt, HeadConfig, ModelConfig, ModelSize};
use crate::train::TrainingConfig;

/// Every fuzz target of this crate.
pub const TARGETS: [&str; 3] = ["config_json", "training_json", "training_toml"];

/// Model configs with more weights than this are only validated, not built: building one is
/// allowed, but not a fuzzer's business (its memory limit is 2 GB).
const MOST_WEIGHTS_BUILT: u64 = 1 << 20;

/// Runs `data` through what reads the file of fuzz target `target`: `Some(accepted)`, or
/// `None` for an unknown target.
pub fn run(target: &str, data: &[u8]) -> Option<bool> {
    let text = String::from_utf8_lossy(data);
    Some(match target {
        "training_toml" => TrainingConfig::from_toml(&text, "fuzz.toml")
            .and_then(|config| {
                config.validate(false)?;
                config.validate(true)
            })
            .is_ok(),
        "config_json" => match ModelConfig::from_json(&text, "config.json") {
            Ok(config) if config.approximate_weights() <= MOST_WEIGHTS_BUILT => {
                BehavErt::new(&config, &Device::flex()).is_ok()
            }
            Ok(_) => true,
            Err(_) => false,
        },
        "training_json" => label_with_training_json(data),
        _ => return None,
    })
}

/// A `training.json` that fits [`checkpoint`]: the seed of the `training_json` target.
pub fn seed_training_json() -> Vec<u8> {
    let fixture = checkpoint();
    serde_json::to_vec_pretty(&fixture.info).expect("a training.json always serialises")
}

/// A small trained-looking checkpoint (random `tiny` weights) and a recording it fits, made
/// once per process; the lock keeps two callers from writing its `training.json` at once.
struct Checkpoint {
    dir: Mutex<PathBuf>,
    info: TrainingInfo,
    pose: Pose,
    _scratch: tempfile::TempDir,
}

fn checkpoint() -> &'static Checkpoint {
    static CHECKPOINT: OnceLock<Checkpoint> = OnceLock::new();
    CHECKPOINT.get_or_init(|| {
        let pose = simulate(&SimulationConfig {
            frames: 40,
            ..SimulationConfig::default()
        })
        .expect("the simulator's default recording")
        .pose;
        let preprocess = every_feature_kind();
        let layout = PoseLayout::of(&pose);
        let feature_names = preprocess
            .feature_names(&layout)
            .expect("the default preprocessing fits a simulated pose");
        let prepared = Preprocessor::new(&preprocess, &layout)
            .and_then(|p| p.prepare(&pose))
            .expect("a simulated pose preprocesses");
        let head = HeadConfig::frame("behaviour", 3);
        let config = ModelConfig::new(
            &Architecture::preset(ModelSize::Tiny).expect("the tiny preset"),
            feature_names.len(),
            vec![head.clone()],
        );
        let scratch = tempfile::tempdir().expect("a scratch directory");
        let model = BehavErt::new(&config, &Device::flex()).expect("a tiny model");
        save_checkpoint(&model, scratch.path()).expect("a checkpoint in the scratch directory");
        let info = TrainingInfo {
            mode: Mode::Finetune,
            heads: vec![HeadVocabulary {
                head,
                vocabulary: vec!["other".into(), "attack".into(), "mount".into()],
            }],
            preprocess,
            normalisation: NormalisationStats::fit([&prepared]).expect("statistics of a pose"),
            feature_names,
            window_length: 16,
            roles: None,
            seed: 0,
            step: 0,
            metrics: Default::default(),
            versions: TrainingInfo::current_versions(),
        };
        Checkpoint {
            dir: Mutex::new(scratch.path().to_path_buf()),
            info,
            pose,
            _scratch: scratch,
        }
    })
}

/// Preprocessing with every kind of cleaning, alignment and feature, so a mutated
/// `training.json` reaches all of them.
fn every_feature_kind() -> PreprocessConfig {
    let pair = |a: &str, b: &str| [a.to_string(), b.to_string()];
    PreprocessConfig {
        body_axis: Some(pair("tail", "neck")),
        outliers: OutlierConfig {
            min_confidence: Some(0.1),
            max_speed: Some(1.0),
            ..OutlierConfig::default()
        },
        align: AlignConfig::Egocentric(EgocentricConfig {
            heading_smoothing: 5,
            ..EgocentricConfig::default()
        }),
        fps: Some(30.0),
        derived: DerivedConfig {
            velocities: true,
            distances: vec![pair("nose", "nose"), pair("nose", "tail")],
            observed: true,
            confidence: true,
            speeds: vec!["nose".into()],
            lengths: vec![pair("tail", "neck")],
            angles: true,
            anonymous: true,
            context_seconds: vec![0.25],
        },
        ..PreprocessConfig::default()
    }
}

/// Whether `data` as the `training.json` of [`checkpoint`] labels its recording; what it
/// labels must be finite.
fn label_with_training_json(data: &[u8]) -> bool {
    let fixture = checkpoint();
    let dir = fixture
        .dir
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    std::fs::write(Path::new(&*dir).join(TRAINING_FILE), data).expect("a scratch file");
    let labelled = Predictor::load(&dir, &Device::flex()).and_then(|predictor| {
        predictor.predict(&fixture.pose, "fuzz pose", &InferOptions::default())
    });
    match labelled {
        Ok(predictions) => {
            for head in &predictions.heads {
                assert!(head.iter().all(|p| p.is_finite()), "non-finite output");
            }
            true
        }
        Err(_) => false,
    }
}
