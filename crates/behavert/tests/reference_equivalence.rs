//! The Rust network computes the PyTorch reference's function from the reference's checkpoint
//! (DESIGN.md §2), and checkpoints survive a save/load round trip.
//!
//! Reads `$BEHAVERT_REFERENCE_DIR` when set (any checkpoint `behavert_reference.py` writes),
//! `../shared/reference/tiny` otherwise.

mod common;

use std::path::Path;

use behavert::model::{BehavErt, ModelInput, ModelOutput, load_checkpoint, save_checkpoint};
use burn::tensor::{Bool, Device, Tensor, TensorData};
use common::{Stored, float_tensor, read_safetensors, reference_dir, relative_error, values};

/// Tolerance of DESIGN.md §2: relative error in f32.
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

/// The four outputs the reference writes, by its names.
fn named_outputs(
    model: &BehavErt,
    output: ModelOutput,
) -> Vec<(&'static str, Vec<usize>, Vec<f32>)> {
    let (frame, sequence) = (
        model.head_index("frame").unwrap().1,
        model.head_index("sequence").unwrap().1,
    );
    let frame_logits = output.frame_logits[frame].clone();
    let sequence_logits = output.sequence_logits[sequence].clone();
    vec![
        (
            "hidden",
            output.hidden.dims().to_vec(),
            values(output.hidden),
        ),
        (
            "frame_logits",
            frame_logits.dims().to_vec(),
            values(frame_logits),
        ),
        (
            "sequence_logits",
            sequence_logits.dims().to_vec(),
            values(sequence_logits),
        ),
        (
            "reconstruction",
            output.reconstruction.dims().to_vec(),
            values(output.reconstruction),
        ),
    ]
}

#[test]
fn forward_matches_the_pytorch_reference() {
    let Some(dir) = reference_dir() else { return };
    let device = Device::flex();
    let model = load_checkpoint(&dir, &device).unwrap();
    let output = model.forward(&reference_input(&dir, &device)).unwrap();
    let expected = read_safetensors(&dir.join("expected.safetensors"));
    for (name, shape, out) in named_outputs(&model, output) {
        let reference = &expected[name];
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

#[test]
fn saved_checkpoint_has_the_reference_names_layout_and_values() {
    let Some(dir) = reference_dir() else { return };
    let device = Device::flex();
    let model = load_checkpoint(&dir, &device).unwrap();
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
        config(&dir),
        "config.json keys and values"
    );
}

#[test]
fn save_then_load_gives_identical_outputs() {
    let Some(dir) = reference_dir() else { return };
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
