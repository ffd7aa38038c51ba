//! Writes a freshly initialised BehavERT checkpoint with inputs and the Rust outputs, in the
//! layout of `scripts/reference/behavert_torch.py`, so PyTorch can check the reverse direction:
//! a checkpoint written here loads in PyTorch and computes the same function.
//!
//! `cargo run -p behavert --release --example export_reference_fixture -- OUT_DIR [SIZE] [SEED]`
//! then `python scripts/check_pytorch_equivalence.py OUT_DIR`.

use std::path::PathBuf;

use behavert::checkpoint::save_checkpoint;
use behavert::model::{Architecture, BehavErt, HeadConfig, ModelConfig, ModelInput};
use burn::tensor::{Bool, Device, Distribution, Tensor, TensorData};
use safetensors::Dtype;
use safetensors::tensor::TensorView;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out = PathBuf::from(
        args.next()
            .ok_or("usage: export_reference_fixture OUT_DIR [SIZE] [SEED]")?,
    );
    let size = args.next().unwrap_or_else(|| "tiny".into());
    let seed: u64 = args.next().map_or(Ok(0), |s| s.parse())?;
    let (batch, frames, features) = (3, 40, 28);

    let device = Device::flex();
    device.seed(seed);
    let heads = vec![
        HeadConfig::frame("frame", 5),
        HeadConfig::sequence("sequence", 2),
    ];
    let config = ModelConfig::new(&Architecture::preset(size.parse()?)?, features, heads);
    let model = BehavErt::new(&config, &device)?;

    let keypoints = Tensor::<3>::random(
        [batch, frames, features],
        Distribution::Normal(0.0, 1.0),
        &device,
    );
    // The last clip ends in padding; about one frame in seven is masked.
    let valid: Vec<i64> = (0..batch * frames)
        .map(|i| i64::from(!(i / frames == batch - 1 && i % frames >= frames - 10)))
        .collect();
    let masked: Vec<i64> = (0..batch * frames).map(|i| i64::from(i % 7 == 3)).collect();
    let as_bool = |v: &[i64]| {
        Tensor::<2, Bool>::from_data(
            TensorData::new(
                v.iter().map(|x| *x != 0).collect::<Vec<_>>(),
                [batch, frames],
            ),
            &device,
        )
    };
    let input = ModelInput {
        keypoints: keypoints.clone(),
        valid: as_bool(&valid),
        masked: Some(as_bool(&masked)),
    };
    let output = model.forward(&input)?;
    save_checkpoint(&model, &out)?;

    let f32_bytes = |t: Vec<f32>| t.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    let i64_bytes = |t: &[i64]| t.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    let floats = |t: Tensor<3>| {
        (
            t.dims().to_vec(),
            f32_bytes(t.into_data().try_to_vec().unwrap()),
        )
    };
    let write = |name: &str, tensors: Vec<(&str, Dtype, Vec<usize>, Vec<u8>)>| {
        let views: Vec<_> = tensors
            .iter()
            .map(|(n, dtype, shape, bytes)| {
                (
                    n.to_string(),
                    TensorView::new(*dtype, shape.clone(), bytes).unwrap(),
                )
            })
            .collect();
        safetensors::serialize_to_file(views, None, &out.join(name))
    };
    let (kp_shape, kp) = floats(keypoints);
    write(
        "inputs.safetensors",
        vec![
            ("keypoints", Dtype::F32, kp_shape, kp),
            (
                "attention_mask",
                Dtype::I64,
                vec![batch, frames],
                i64_bytes(&valid),
            ),
            (
                "masked",
                Dtype::I64,
                vec![batch, frames],
                i64_bytes(&masked),
            ),
        ],
    )?;
    let (h_shape, h) = floats(output.hidden);
    let (f_shape, f) = floats(output.frame_logits[0].clone());
    let (r_shape, r) = floats(output.reconstruction);
    let sequence = output.sequence_logits[0].clone();
    let s_shape = sequence.dims().to_vec();
    let s = f32_bytes(sequence.into_data().try_to_vec().unwrap());
    write(
        "expected.safetensors",
        vec![
            ("hidden", Dtype::F32, h_shape, h),
            ("frame_logits.frame", Dtype::F32, f_shape, f),
            ("sequence_logits.sequence", Dtype::F32, s_shape, s),
            ("reconstruction", Dtype::F32, r_shape, r),
        ],
    )?;
    println!("wrote {}", out.display());
    Ok(())
}
