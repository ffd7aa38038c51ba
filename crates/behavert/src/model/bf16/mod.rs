//! bf16 inference on CPUs with AVX-512 BF16: every linear layer of the encoder multiplies
//! bf16-rounded activations by weights packed once as bf16 ([`kernel`]), accumulating in f32;
//! attention's two products run on the same kernel ([`attention`]). Softmax, GELU, LayerNorm,
//! residuals, the embeddings and the heads stay f32.

#[cfg(target_arch = "x86_64")]
mod amx;
mod attention;
#[cfg_attr(not(target_arch = "x86_64"), path = "no_kernel.rs")]
mod kernel;
mod packing;

use std::fmt;

use burn::nn::Linear;
use burn::nn::transformer::TransformerEncoder;
use burn::tensor::{Bool, Tensor, TensorData};

use self::kernel::Kernel;
use self::packing::Packed;
use super::gelu::gelu_in_place;
use crate::error::{Error, Result};

/// The encoder's linear layers, packed for the bf16 kernel.
pub struct Bf16Encoder {
    /// One entry per encoder layer.
    pub layers: Vec<Bf16Layer>,
}

/// One encoder layer's linear maps.
pub struct Bf16Layer {
    /// Query, key and value side by side: one product instead of three.
    pub query_key_value: PackedLinear,
    /// Attention's output projection.
    pub output: PackedLinear,
    /// The feed-forward's inner map (GELU follows).
    pub inner: PackedLinear,
    /// The feed-forward's outer map.
    pub outer: PackedLinear,
}

impl fmt::Debug for Bf16Encoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Bf16Encoder({} layers)", self.layers.len())
    }
}

impl Bf16Encoder {
    /// Packs `encoder`'s weights; an error where this CPU lacks the instructions.
    pub fn new(encoder: &TransformerEncoder) -> Result<Self> {
        let kernel = detect()?;
        tracing::info!(kernel = kernel.name(), "bf16 inference");
        let layers = encoder
            .layers
            .iter()
            .map(|layer| {
                let mha = &layer.mha;
                Bf16Layer {
                    query_key_value: PackedLinear::new(kernel, &[&mha.query, &mha.key, &mha.value]),
                    output: PackedLinear::new(kernel, &[&mha.output]),
                    inner: PackedLinear::new(kernel, &[&layer.pwff.linear_inner]),
                    outer: PackedLinear::new(kernel, &[&layer.pwff.linear_outer]),
                }
            })
            .collect();
        Ok(Self { layers })
    }
}

impl Bf16Layer {
    /// Multi-head self-attention of `x` `[batch, positions, hidden]` with `heads` heads, the
    /// output projection included; `padding` `[batch, positions]` is true where a position is
    /// never attended to.
    pub fn self_attention(
        &self,
        x: Tensor<3>,
        heads: usize,
        padding: Option<&Tensor<2, Bool>>,
    ) -> Tensor<3> {
        let device = x.device();
        let [batch, positions, hidden] = x.dims();
        let projected = self.query_key_value.forward(x).into_data();
        let padding = padding.map(|p| p.clone().into_data());
        let shape = attention::Shape {
            batch,
            positions,
            heads,
            head_width: hidden / heads,
        };
        let context = attention::attention(
            self.query_key_value.kernel,
            projected.as_slice::<f32>().expect("the kernel writes f32"),
            shape,
            padding
                .as_ref()
                .map(|p| p.as_slice::<bool>().expect("a bool mask")),
        );
        let context = Tensor::from_data(
            TensorData::new(context, [batch, positions, hidden]),
            &device,
        );
        self.output.forward(context)
    }
}

/// The kernel, or why bf16 cannot run here.
pub(super) fn detect() -> Result<Kernel> {
    Kernel::detect().ok_or_else(|| Error::Device {
        name: "cpu".into(),
        reason: "--precision bf16 needs a CPU with AVX-512 BF16 instructions (AMD Zen 4 and \
                 later, Intel Cooper Lake, Sapphire Rapids and later); this one has none, so \
                 use the default f32"
            .into(),
    })
}

/// A linear map `x W + b` with `W` packed as bf16.
pub struct PackedLinear {
    kernel: Kernel,
    map: Packed,
}

impl PackedLinear {
    /// Packs `layers` (same input width) as one map whose outputs are theirs side by side.
    fn new(kernel: Kernel, layers: &[&Linear]) -> Self {
        let depth = layers[0].weight.dims()[0];
        let weights: Vec<Tensor<2>> = layers.iter().map(|l| l.weight.val()).collect();
        let weights = Tensor::cat(weights, 1).into_data().convert::<f32>();
        let weights = weights.as_slice::<f32>().expect("f32 after convert");
        let width = weights.len() / depth;
        let bias: Vec<f32> = layers
            .iter()
            .flat_map(|l| match &l.bias {
                Some(b) => b
                    .val()
                    .into_data()
                    .convert::<f32>()
                    .try_into_vec::<f32>()
                    .expect("f32 after convert"),
                None => vec![0.0; l.weight.dims()[1]],
            })
            .collect();
        Self {
            kernel,
            map: Packed::from_rows(depth, width, |k| &weights[k * width..][..width], &bias),
        }
    }

    /// `x W + b` for `x` `[batch, positions, depth]` f32.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        self.forward_then(x, &|_| {})
    }

    /// `gelu(x W + b)` (exact GELU), the activation applied in place.
    pub fn forward_gelu(&self, x: Tensor<3>) -> Tensor<3> {
        let kernel = self.kernel;
        self.forward_then(x, &move |values| {
            kernel.vectorised(|| gelu_in_place(values))
        })
    }

    /// `x W + b`, then `activation` over the values in place.
    fn forward_then(&self, x: Tensor<3>, activation: &(dyn Fn(&mut [f32]) + Sync)) -> Tensor<3> {
        let device = x.device();
        let [batch, positions, depth] = x.dims();
        assert_eq!(depth, self.map.depth, "bf16 linear: input width");
        let x = x.into_data().convert::<f32>();
        let x = x.as_slice::<f32>().expect("f32 after convert");
        let pairs = self.kernel.to_pairs(x, depth);
        let y = self.kernel.multiply(&pairs, &self.map, activation);
        Tensor::from_data(
            TensorData::new(y, [batch, positions, self.map.width]),
            &device,
        )
    }
}
