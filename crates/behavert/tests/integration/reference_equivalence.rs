//! The Rust network computes the PyTorch reference's function from the reference's checkpoint
//! (docs/architecture.md#the-model-contract), and checkpoints survive a save/load round trip.
//!
//! Reads the repository's own fixture (`tests/fixtures/reference/`, written by
//! `scripts/reference/behavert_torch.py`), and also `$BEHAVERT_REFERENCE_DIR` when set or
//! `../shared/reference/tiny` when it is there.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use behavert::checkpoint::{load_checkpoint, save_checkpoint};
use behavert::model::{BehavErt, HeadLevel, ModelInput, ModelOutput, Precision};
use burn::tensor::{Bool, Device, Tensor, TensorData};

use crate::common::{
    Stored, float_tensor, read_safetensors, reference_dir, relative_error, values,
};

/// Tolerance of docs/architecture.md#the-model-contract: relative error in f32.
const TOLERANCE: f64 = 1e-4;

fn bool_tensor(stored: &Stored, device: &Device) -> Tensor<2, Bool> {
    let flags: Vec<bool> = stored.values.iter().map(|v| *v != 0.0).collect();
    Tensor::from_data(TensorData::new(flags, stored.shape.clone()), device)
}

fn reference_input(dir: &Path, device: &Device) -> ModelInput {
    let inputs = read_safetensors(&dir.join("inputs.safetensors"));
    ModelInput {
        keypoints: float_tensor(&inputs["keypoints"], device),
        valid: bool_tensor(&inputs["attention_mask"], device),
        masked: Some(bool_tensor(&inputs["masked"], device)),
    }
}

/// Every output by the name the PyTorch definition gives it: `hidden`, `reconstruction`, and
/// `frame_logits.<head>` / `sequence_logits.<head>` per head.
fn named_outputs(model: &BehavErt, output: ModelOutput) -> Vec<(String, Vec<usize>, Vec<f32>)> {
    let named = |name: String, dims: &[usize], values: Vec<f32>| (name, dims.to_vec(), values);
    let mut outputs = vec![
        named(
            "hidden".into(),
            &output.hidden.dims(),
            values(output.hidden),
        ),
        named(
            "reconstruction".into(),
            &output.reconstruction.dims(),
            values(output.reconstruction),
        ),
    ];
    for (level, logits) in [
        (
            HeadLevel::Frame,
            output
                .frame_logits
                .into_iter()
                .map(|t| (t.dims().to_vec(), values(t)))
                .collect::<Vec<_>>(),
        ),
        (
            HeadLevel::Sequence,
            output
                .sequence_logits
                .into_iter()
                .map(|t| (t.dims().to_vec(), values(t)))
                .collect(),
        ),
    ] {
        let prefix = match level {
            HeadLevel::Frame => "frame_logits",
            HeadLevel::Sequence => "sequence_logits",
        };
        for (head, (dims, values)) in model.config.heads_at(level).iter().zip(logits) {
            outputs.push(named(format!("{prefix}.{}", head.name), &dims, values));
        }
    }
    outputs
}

/// The reference's output called `name`; fixtures of the single-head layout (the shared
/// `tiny`) name the logits `frame_logits` and `sequence_logits`.
fn expected_output<'a>(expected: &'a HashMap<String, Stored>, name: &str) -> &'a Stored {
    expected
        .get(name)
        .or_else(|| expected.get(name.split('.').next().unwrap()))
        .unwrap_or_else(|| panic!("no {name} in expected.safetensors"))
}

/// The fixtures to check: the repository's own (`scripts/reference/behavert_torch.py`, four
/// heads of every kind and level), and `$BEHAVERT_REFERENCE_DIR` or `../shared/reference/tiny`.
fn fixtures() -> Vec<PathBuf> {
    let own = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reference");
    std::iter::once(own).chain(reference_dir()).collect()
}

#[test]
fn forward_matches_the_pytorch_reference() {
    for dir in fixtures() {
        forward_matches(&dir);
    }
}

/// f32 on the operations of training's forward pass (as loaded), then on the weights packed
/// once for inference.
fn forward_matches(dir: &Path) {
    let device = Device::flex();
    let mut model = load_checkpoint(dir, &device).unwrap();
    outputs_match(&model, dir, "training's operations");
    model.set_precision(Precision::F32).unwrap();
    let instructions = (model.packed_instructions()).expect("packed f32 inference on the CPU");
    outputs_match(&model, dir, instructions);
}

fn outputs_match(model: &BehavErt, dir: &Path, path: &str) {
    let device = Device::flex();
    let output = model.forward(&reference_input(dir, &device)).unwrap();
    let expected = read_safetensors(&dir.join("expected.safetensors"));
    println!("{} on {path}", dir.display());
    for (name, shape, out) in named_outputs(model, output) {
        let reference = expected_output(&expected, &name);
        assert_eq!(shape, reference.shape, "{name} shape");
        assert!(
            out.iter().all(|v| v.is_finite()),
            "{name} has a non-finite element"
        );
        let error = relative_error(&out, &reference.values);
        println!(
            "{name}: relative error {error:.3e} over {} elements",
            out.len()
        );
        assert!(
            error <= TOLERANCE,
            "{name}: relative error {error:e} > {TOLERANCE:e}"
        );
    }
}

/// Largest relative error of bf16 inference (`--precision bf16`) against the f32 reference;
/// the measured values are in docs/benchmarks.md.
const BF16_TOLERANCE: f64 = 2e-2;

#[test]
fn bf16_forward_stays_near_the_pytorch_reference() {
    for dir in fixtures() {
        let device = Device::flex();
        let mut model = load_checkpoint(&dir, &device).unwrap();
        if let Err(error) = model.set_precision(Precision::Bf16) {
            println!("skipped: {error}");
            return;
        }
        let output = model.forward(&reference_input(&dir, &device)).unwrap();
        let expected = read_safetensors(&dir.join("expected.safetensors"));
        println!("{} in bf16", dir.display());
        for (name, _, out) in named_outputs(&model, output) {
            let error = relative_error(&out, &expected_output(&expected, &name).values);
            println!("{name}: relative error {error:.3e}");
            // Above f32's error: the rounding happened, so the bf16 kernel ran.
            assert!(
                error > 1e-5 && error <= BF16_TOLERANCE,
                "{name}: relative error {error:e} outside (1e-5, {BF16_TOLERANCE:e}]"
            );
        }
    }
}

/// A training pass (autodiff) with bf16 products (`--precision bf16` in pretrain and
/// finetune) stays near f32's: the hidden states and the gradients of the first and last
/// layers' weights, the embedding's and the heads'. Dropout is off: its masks come from the
/// device's process-wide generator, which other tests of this binary draw from in parallel,
/// so two passes' masks could differ (seen once in CI). The bf16 products under a dropout
/// mask are checked in `linear_training`'s unit test.
#[test]
fn bf16_training_pass_stays_near_f32() {
    let dir = &fixtures()[0];
    let without_dropout = tempfile::tempdir().unwrap();
    let without_dropout = without_dropout.path();
    let config = std::fs::read_to_string(dir.join("config.json")).unwrap();
    let config = config
        .replace(
            "\"hidden_dropout_prob\": 0.1",
            "\"hidden_dropout_prob\": 0.0",
        )
        .replace(
            "\"attention_probs_dropout_prob\": 0.1",
            "\"attention_probs_dropout_prob\": 0.0",
        );
    assert!(!config.contains("dropout_prob\": 0.1"), "dropout left on");
    std::fs::write(without_dropout.join("config.json"), config).unwrap();
    std::fs::copy(
        dir.join("model.safetensors"),
        without_dropout.join("model.safetensors"),
    )
    .unwrap();
    let device = Device::flex().autodiff();
    let pass = |precision: Precision| {
        let mut model = load_checkpoint(without_dropout, &device).unwrap();
        model.set_training_precision(precision)?;
        let input = reference_input(dir, &device);
        let output = model.forward(&input).unwrap();
        let reconstruction = output.reconstruction.clone();
        let loss =
            output.hidden.clone().powi_scalar(2).mean() + reconstruction.powi_scalar(2).mean();
        let grads = loss.backward();
        let values = |t: Tensor<2>| t.into_data().convert::<f32>().try_to_vec::<f32>().unwrap();
        let layers = &model.encoder.layers;
        let last = layers.len() - 1;
        let named = [
            ("hidden", output.hidden.inner().flatten::<2>(0, 1)),
            (
                "layer 0 query",
                layers[0].mha.query.weight.grad(&grads).unwrap(),
            ),
            (
                "layer 0 feed-forward inner",
                layers[0].pwff.linear_inner.weight.grad(&grads).unwrap(),
            ),
            (
                "last layer feed-forward outer",
                layers[last].pwff.linear_outer.weight.grad(&grads).unwrap(),
            ),
            (
                "embedding",
                model
                    .embeddings
                    .keypoint_projection
                    .weight
                    .grad(&grads)
                    .unwrap(),
            ),
        ];
        Ok::<_, behavert::Error>(named.map(|(name, t)| (name, values(t))))
    };
    let f32_pass = pass(Precision::F32).unwrap();
    let bf16_pass = match pass(Precision::Bf16) {
        Ok(pass) => pass,
        Err(error) => {
            println!("skipped: {error}");
            return;
        }
    };
    for ((name, f32_values), (_, bf16_values)) in f32_pass.iter().zip(&bf16_pass) {
        let error = relative_error(bf16_values, f32_values);
        println!("{name}: bf16 against f32, relative error {error:.3e}");
        // Above zero: the rounding happened, so the bf16 products ran.
        assert!(
            error > 1e-5 && error <= BF16_TOLERANCE,
            "{name}: relative error {error:e} outside (1e-5, {BF16_TOLERANCE:e}]"
        );
    }
}

#[test]
fn saved_checkpoint_has_the_reference_names_layout_and_values() {
    for dir in fixtures() {
        saved_checkpoint_matches(&dir);
    }
}

fn saved_checkpoint_matches(dir: &Path) {
    let device = Device::flex();
    let model = load_checkpoint(dir, &device).unwrap();
    let out = tempfile::tempdir().unwrap();
    save_checkpoint(&model, out.path()).unwrap();

    let original = read_safetensors(&dir.join("model.safetensors"));
    let saved = read_safetensors(&out.path().join("model.safetensors"));
    let mut names: Vec<_> = saved.keys().collect();
    names.sort();
    let mut expected_names: Vec<_> = original.keys().collect();
    expected_names.sort();
    assert_eq!(
        names, expected_names,
        "tensor names differ from the reference state_dict"
    );
    for (name, tensor) in &original {
        assert_eq!(
            saved[name].shape, tensor.shape,
            "{name} shape (PyTorch layout)"
        );
        assert_eq!(saved[name].values, tensor.values, "{name} values");
    }
    let config = |d: &Path| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(d.join("config.json")).unwrap()).unwrap()
    };
    assert_eq!(
        config(out.path()),
        config(dir),
        "config.json keys and values"
    );
}

#[test]
fn save_then_load_gives_identical_outputs() {
    let dir = fixtures().remove(0);
    let device = Device::flex();
    let model = load_checkpoint(&dir, &device).unwrap();
    let input = reference_input(&dir, &device);
    let out = tempfile::tempdir().unwrap();
    save_checkpoint(&model, out.path()).unwrap();
    let reloaded = load_checkpoint(out.path(), &device).unwrap();
    let before = named_outputs(&model, model.forward(&input).unwrap());
    let after = named_outputs(&reloaded, reloaded.forward(&input).unwrap());
    for ((name, _, a), (_, _, b)) in before.iter().zip(&after) {
        assert_eq!(a, b, "{name} changed across save/load");
    }
}
