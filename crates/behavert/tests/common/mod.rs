//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use burn::tensor::{Device, Tensor, TensorData};
use safetensors::{Dtype, SafeTensors};

/// `../shared/<relative>` beside the repository (see [`behavert_test_support::shared`]).
pub fn shared_dir(relative: &str) -> Option<PathBuf> {
    behavert_test_support::shared(relative)
}

/// The reference checkpoint directory: `$BEHAVERT_REFERENCE_DIR`, or `../shared/reference/tiny`.
pub fn reference_dir() -> Option<PathBuf> {
    match std::env::var_os("BEHAVERT_REFERENCE_DIR") {
        Some(dir) => Some(PathBuf::from(dir)),
        None => shared_dir("reference/tiny"),
    }
}

/// A tensor of a safetensors file: its shape and values as f32 (integers converted).
pub struct Stored {
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
}

/// Every tensor of a safetensors file, by name.
pub fn read_safetensors(path: &Path) -> HashMap<String, Stored> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let file = SafeTensors::deserialize(&bytes).unwrap();
    file.tensors()
        .into_iter()
        .map(|(name, view)| {
            let data = view.data();
            let values = match view.dtype() {
                Dtype::F32 => data
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
                    .collect(),
                Dtype::I64 => data
                    .chunks_exact(8)
                    .map(|b| i64::from_le_bytes(b.try_into().unwrap()) as f32)
                    .collect(),
                other => panic!("{name}: unexpected dtype {other:?}"),
            };
            (
                name,
                Stored {
                    shape: view.shape().to_vec(),
                    values,
                },
            )
        })
        .collect()
}

/// A float tensor from stored values.
pub fn float_tensor<const D: usize>(stored: &Stored, device: &Device) -> Tensor<D> {
    Tensor::from_data(
        TensorData::new(stored.values.clone(), stored.shape.clone()),
        device,
    )
}

/// Values of a float tensor.
pub fn values<const D: usize>(tensor: Tensor<D>) -> Vec<f32> {
    tensor.into_data().try_to_vec::<f32>().unwrap()
}

/// ‖out − ref‖ / ‖ref‖.
pub fn relative_error(out: &[f32], reference: &[f32]) -> f64 {
    assert_eq!(out.len(), reference.len());
    let diff: f64 = out
        .iter()
        .zip(reference)
        .map(|(a, b)| (*a as f64 - *b as f64).powi(2))
        .sum();
    let norm: f64 = reference.iter().map(|b| (*b as f64).powi(2)).sum();
    (diff / norm).sqrt()
}
