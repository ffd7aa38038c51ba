//! Choosing the compute device from a user's `--device` string.

use burn::tensor::Device;

use crate::error::{Error, Result};

/// Taken by every unit test that seeds or draws from burn's generator, which is one for the
/// whole process: a test drawing between another's `seed` and its draws would change them.
#[cfg(test)]
pub(crate) fn generator_turn() -> std::sync::MutexGuard<'static, ()> {
    static GENERATOR: std::sync::Mutex<()> = std::sync::Mutex::new(());
    GENERATOR
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The device named by `name`: `cpu` (the Flex backend, always built), `cuda`, `cuda:N` or
/// `wgpu`, `wgpu:N` (only in builds with the matching cargo feature).
pub fn parse_device(name: &str) -> Result<Device> {
    let unavailable = |feature: &str| Error::Device {
        name: name.to_string(),
        reason: format!(
            "this build has no {feature} backend; rebuild with `--features {feature}` \
             (devices available here: cpu)"
        ),
    };
    let (kind, index) = match name.split_once(':') {
        Some((kind, index)) => {
            let index = index.parse::<usize>().map_err(|_| Error::Device {
                name: name.to_string(),
                reason: format!("expected a device index after ':', found {index:?}"),
            })?;
            (kind, Some(index))
        }
        None => (name, None),
    };
    match kind {
        "cpu" | "flex" => Ok(Device::flex()),
        "cuda" => {
            #[cfg(feature = "cuda")]
            return Ok(Device::cuda(index.unwrap_or(0)));
            #[cfg(not(feature = "cuda"))]
            {
                let _ = index;
                Err(unavailable("cuda"))
            }
        }
        "wgpu" => {
            #[cfg(feature = "wgpu")]
            return Ok(Device::wgpu(match index {
                Some(i) => burn::tensor::DeviceKind::DiscreteGpu(i),
                None => burn::tensor::DeviceKind::DefaultDevice,
            }));
            #[cfg(not(feature = "wgpu"))]
            {
                let _ = index;
                Err(unavailable("wgpu"))
            }
        }
        _ => Err(Error::Device {
            name: name.to_string(),
            reason: "expected one of cpu, cuda, cuda:N, wgpu".to_string(),
        }),
    }
}

/// Whether `device` is the CPU (Flex) backend, with or without autodiff: where the model's
/// own CPU kernels apply.
pub fn is_cpu(device: &Device) -> bool {
    let cpu = Device::flex();
    *device == cpu || *device == cpu.autodiff()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_is_always_available_and_unknown_names_are_refused() {
        assert!(parse_device("cpu").is_ok());
        let err = parse_device("tpu").unwrap_err().to_string();
        assert!(err.contains("cpu, cuda"), "{err}");
        let err = parse_device("cuda:x").unwrap_err().to_string();
        assert!(err.contains("device index"), "{err}");
    }
}
