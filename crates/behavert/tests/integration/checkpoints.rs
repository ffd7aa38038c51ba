//! Checkpoints of our own models: multi-task heads survive a round trip, damaged or
//! mismatched files get errors that say what is wrong.

use std::path::Path;

use behavert::checkpoint::{load_checkpoint, save_checkpoint};
use behavert::model::{
    Architecture, BehavErt, HeadConfig, HeadKind, HeadLevel, ModelConfig, ModelInput, ModelSize,
};
use burn::tensor::{Device, Distribution, Tensor};
use safetensors::tensor::TensorView;

use crate::common;
use crate::common::{read_safetensors, values};

fn multitask_config() -> ModelConfig {
    let heads = vec![
        HeadConfig::frame("frame", 4),
        HeadConfig {
            name: "grooming".into(),
            level: HeadLevel::Frame,
            kind: HeadKind::Multilabel,
            outputs: 2,
        },
        HeadConfig::sequence("strain", 3),
        HeadConfig {
            name: "speed".into(),
            level: HeadLevel::Sequence,
            kind: HeadKind::Regression,
            outputs: 1,
        },
    ];
    ModelConfig::new(&Architecture::preset(ModelSize::Tiny).unwrap(), 12, heads)
}

fn random_input(device: &Device) -> ModelInput {
    ModelInput::unpadded(Tensor::random(
        [2, 10, 12],
        Distribution::Normal(0.0, 1.0),
        device,
    ))
}

/// Rewrites `dir/model.safetensors` through `edit` (name, shape, f32 values).
fn edit_weights(dir: &Path, edit: impl FnOnce(&mut Vec<(String, Vec<usize>, Vec<f32>)>)) {
    let path = dir.join("model.safetensors");
    let mut tensors: Vec<_> = read_safetensors(&path)
        .into_iter()
        .map(|(name, t)| (name, t.shape, t.values))
        .collect();
    edit(&mut tensors);
    let bytes: Vec<Vec<u8>> = tensors
        .iter()
        .map(|(_, _, v)| v.iter().flat_map(|x| x.to_le_bytes()).collect())
        .collect();
    let views: Vec<_> = tensors
        .iter()
        .zip(&bytes)
        .map(|((name, shape, _), b)| {
            (
                name.clone(),
                TensorView::new(safetensors::Dtype::F32, shape.clone(), b).unwrap(),
            )
        })
        .collect();
    safetensors::serialize_to_file(views, None, &path).unwrap();
}

fn saved_model(device: &Device) -> (BehavErt, tempfile::TempDir) {
    let model = BehavErt::new(&multitask_config(), device).unwrap();
    let dir = tempfile::tempdir().unwrap();
    save_checkpoint(&model, dir.path()).unwrap();
    (model, dir)
}

#[test]
fn multitask_heads_round_trip_by_name() {
    let device = Device::flex();
    let (model, dir) = saved_model(&device);
    let names = read_safetensors(&dir.path().join("model.safetensors"));
    for name in [
        "heads.frame.weight",
        "heads.grooming.bias",
        "heads.strain.weight",
        "heads.speed.bias",
    ] {
        assert!(
            names.contains_key(name),
            "{name} missing from the saved file"
        );
    }
    assert_eq!(
        names["heads.grooming.weight"].shape,
        vec![2, 64],
        "PyTorch [out, in] layout"
    );
    let reloaded = load_checkpoint(dir.path(), &device).unwrap();
    assert_eq!(reloaded.config, model.config);
    let input = random_input(&device);
    let (a, b) = (
        model.forward(&input).unwrap(),
        reloaded.forward(&input).unwrap(),
    );
    for (x, y) in a.frame_logits.into_iter().zip(b.frame_logits) {
        assert_eq!(values(x), values(y));
    }
    for (x, y) in a.sequence_logits.into_iter().zip(b.sequence_logits) {
        assert_eq!(values(x), values(y));
    }
    assert_eq!(values(a.reconstruction), values(b.reconstruction));
}

#[test]
fn missing_extra_and_misshapen_tensors_are_named() {
    let device = Device::flex();
    let (_, dir) = saved_model(&device);
    let error = |dir: &Path| load_checkpoint(dir, &device).unwrap_err().to_string();

    edit_weights(dir.path(), |t| {
        t.retain(|(name, _, _)| name != "heads.pooler.bias")
    });
    let message = error(dir.path());
    assert!(
        message.contains("model.safetensors") && message.contains("heads.pooler.bias"),
        "{message}"
    );

    let (_, dir) = saved_model(&device);
    edit_weights(dir.path(), |t| {
        t.push(("heads.attack.weight".into(), vec![1], vec![0.0]))
    });
    let message = error(dir.path());
    assert!(message.contains("heads.attack.weight"), "{message}");

    let (_, dir) = saved_model(&device);
    edit_weights(dir.path(), |t| {
        let decoder = t
            .iter_mut()
            .find(|(n, _, _)| n == "heads.reconstruction.decoder.bias")
            .unwrap();
        *decoder = (decoder.0.clone(), vec![5], vec![0.0; 5]);
    });
    let message = error(dir.path());
    assert!(
        message.contains("decoder") && message.contains("12"),
        "{message}"
    );

    let (_, dir) = saved_model(&device);
    std::fs::write(
        dir.path().join("model.safetensors"),
        b"not a safetensors file",
    )
    .unwrap();
    let message = error(dir.path());
    assert!(message.contains("model.safetensors"), "{message}");

    std::fs::remove_file(dir.path().join("model.safetensors")).unwrap();
    assert!(error(dir.path()).contains("no such file"));

    std::fs::write(
        dir.path().join("config.json"),
        "{\"model_type\": \"behavert\"",
    )
    .unwrap();
    let message = error(dir.path());
    assert!(message.contains("config.json line 1"), "{message}");
}

#[test]
fn padding_does_not_change_real_frames() {
    let device = Device::flex();
    let model = BehavErt::new(&multitask_config(), &device).unwrap();
    let real = Tensor::<3>::random([1, 6, 12], Distribution::Normal(0.0, 1.0), &device);
    let alone = model.forward(&ModelInput::unpadded(real.clone())).unwrap();
    let junk = Tensor::<3>::random([1, 4, 12], Distribution::Normal(5.0, 3.0), &device);
    let padded_keypoints = Tensor::cat(vec![real, junk], 1);
    let valid = Tensor::from_data(
        burn::tensor::TensorData::new([vec![true; 6], vec![false; 4]].concat(), [1, 10]),
        &device,
    );
    let padded = model
        .forward(&ModelInput {
            keypoints: padded_keypoints,
            valid,
            masked: None,
        })
        .unwrap();
    let first_six = padded.frame_logits[0].clone().slice([0..1, 0..6]);
    let diff = common::relative_error(&values(first_six), &values(alone.frame_logits[0].clone()));
    assert!(
        diff < 1e-5,
        "padding changed real frames' logits by {diff:e}"
    );
    let diff = common::relative_error(
        &values(padded.sequence_logits[0].clone()),
        &values(alone.sequence_logits[0].clone()),
    );
    assert!(diff < 1e-5, "padding changed the clip logits by {diff:e}");
}

#[test]
fn inputs_that_do_not_fit_are_refused() {
    let device = Device::flex();
    let model = BehavErt::new(&multitask_config(), &device).unwrap();
    let wrong_features = ModelInput::unpadded(Tensor::zeros([1, 4, 11], &device));
    let message = model.forward(&wrong_features).unwrap_err().to_string();
    assert!(
        message.contains("12 features") && message.contains("11"),
        "{message}"
    );
    let too_long = ModelInput::unpadded(Tensor::zeros([1, 513, 12], &device));
    let message = model.forward(&too_long).unwrap_err().to_string();
    assert!(message.contains("512 frames"), "{message}");
}

/// The fuzz targets' seeds (`seed*`, which must be accepted) and every input a fuzzer found
/// crashing one (`tests/fixtures/fuzz/<target>/`): each must end in a result or a clear error.
#[test]
fn fuzzed_configs_and_checkpoint_files_end_cleanly() {
    use behavert::fuzzing::{TARGETS, run};
    behavert_pose::fuzzing::replay(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz"),
        run,
    );
    // One cargo-fuzz binary per target of either crate, and no other.
    let mut expected: Vec<&str> = TARGETS
        .iter()
        .chain(&behavert_pose::fuzzing::TARGETS)
        .copied()
        .collect();
    expected.sort();
    let binaries = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/fuzz_targets");
    let mut found: Vec<String> = std::fs::read_dir(binaries)
        .unwrap()
        .map(|e| {
            e.unwrap()
                .path()
                .file_stem()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    found.sort();
    assert_eq!(found, expected);
}
