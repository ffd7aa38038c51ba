//! Checkpoint directories: `config.json` + `model.safetensors` with the reference's tensor
//! names and PyTorch layout, so weights move both ways between BehavERT and PyTorch.

use std::io::Write;
use std::path::Path;

use burn::module::{Module, ModuleVisitor, Param};
use burn::store::{BurnToPyTorchAdapter, ModuleSnapshot, PyTorchToBurnAdapter, SafetensorsStore};
use burn::tensor::{Device, Tensor};

use crate::error::{Error, Result};
use crate::model::tensor_names;
use crate::model::{BehavErt, ModelConfig};

/// File name of the hyper-parameters in a checkpoint directory.
pub const CONFIG_FILE: &str = "config.json";
/// File name of the weights in a checkpoint directory.
pub const WEIGHTS_FILE: &str = "model.safetensors";

/// How many weights of `model` are NaN or infinite.
fn non_finite_weights(model: &BehavErt) -> usize {
    struct Count(usize);
    impl ModuleVisitor for Count {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let data = param.val().into_data();
            self.0 += data
                .as_slice::<f32>()
                .map_or(0, |v| v.iter().filter(|x| !x.is_finite()).count());
        }
    }
    let mut count = Count(0);
    model.visit(&mut count);
    count.0
}

/// Reads the `config.json` of checkpoint directory `dir`.
pub fn load_config(dir: &Path) -> Result<ModelConfig> {
    let path = dir.join(CONFIG_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    ModelConfig::from_json(&text, &path.display().to_string())
}

/// Loads the network saved in checkpoint directory `dir` (ours or the reference's) onto
/// `device`. Every tensor the config calls for must be present with its shape, and the file
/// must hold nothing else.
pub fn load_checkpoint(dir: &Path, device: &Device) -> Result<BehavErt> {
    let config = load_config(dir)?;
    let mut model = BehavErt::new(&config, device)?;
    let path = dir.join(WEIGHTS_FILE);
    if !path.is_file() {
        return Err(Error::checkpoint(
            &path,
            "file",
            "the weights of the checkpoint (model.safetensors)",
            "no such file",
        ));
    }
    let mut store = tensor_names::from_reference(&config).into_iter().fold(
        SafetensorsStore::from_file(&path)
            .with_from_adapter(PyTorchToBurnAdapter)
            .allow_partial(true),
        |store, (from, to)| store.with_key_remapping(from, to),
    );
    let result = model
        .load_from(&mut store)
        .map_err(|e| Error::checkpoint(&path, "contents", "a safetensors file", e))?;
    if let Some(error) = result.errors.first() {
        return Err(Error::checkpoint(
            &path,
            "tensor",
            format!("tensors shaped as {} describes", CONFIG_FILE),
            error,
        ));
    }
    if !result.missing.is_empty() {
        let names: Vec<_> = result
            .missing
            .iter()
            .map(|(name, _)| name.as_str())
            .collect();
        return Err(Error::checkpoint(
            &path,
            "tensors",
            format!("every tensor the {CONFIG_FILE} calls for"),
            format!("none for {}", names.join(", ")),
        ));
    }
    if !result.unused.is_empty() {
        return Err(Error::checkpoint(
            &path,
            "tensors",
            format!("only tensors the {CONFIG_FILE} calls for"),
            format!("also {}", result.unused.join(", ")),
        ));
    }
    let non_finite = non_finite_weights(&model);
    if non_finite > 0 {
        return Err(Error::checkpoint(
            &path,
            "weights",
            "finite numbers (a model that diverged in training gives only NaN outputs)",
            format!("{non_finite} NaN or infinite values"),
        ));
    }
    Ok(model)
}

/// Saves `model` into checkpoint directory `dir` (created if needed). Each file is written
/// beside its destination and renamed over it, so a crash never leaves a half-written file.
pub fn save_checkpoint(model: &BehavErt, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let weights = dir.join(WEIGHTS_FILE);
    let mut store = tensor_names::to_reference(&model.config).into_iter().fold(
        SafetensorsStore::from_file(&weights)
            .with_to_adapter(BurnToPyTorchAdapter)
            .metadata("format", "pt")
            .overwrite(true),
        |store, (from, to)| store.with_key_remapping(from, to),
    );
    model
        .save_into(&mut store)
        .map_err(|e| Error::checkpoint(&weights, "writing", "a writable safetensors file", e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // burn writes through a private (0600) temporary file; a checkpoint is shared like
        // every other output.
        std::fs::set_permissions(&weights, std::fs::Permissions::from_mode(0o644))
            .map_err(|e| Error::io(&weights, e))?;
    }
    write_atomically(&dir.join(CONFIG_FILE), model.config.to_json().as_bytes())
}

/// Writes `bytes` to a temporary file beside `path`, then renames it onto `path`.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let io_error = |e| Error::io(path, e);
    let mut file = behavert_pose::atomic::temp_beside(path)?;
    file.write_all(bytes).map_err(io_error)?;
    file.as_file().sync_all().map_err(io_error)?;
    file.persist(path).map_err(|e| io_error(e.error))?;
    Ok(())
}
