//! Inference on weights packed once for our own CPU kernels (AVX-512 where the CPU has it, the
//! gemm crate's or, on macOS, Accelerate's f32 products where not): every linear layer of the
//! encoder multiplies activations by weights laid out for the kernel ([`kernel`]), in f32 or,
//! with `--precision bf16`, in bf16 rounded operands (AVX-512 BF16, AMX tiles where the CPU has
//! them); sums are f32 either way. Attention's two products run on the same kernel
//! ([`attention`]). Softmax, GELU, LayerNorm, residuals, the embeddings and the heads stay f32.

#[cfg_attr(not(target_arch = "x86_64"), path = "no_amx.rs")]
mod amx;
mod attention;
mod attention_training;
#[cfg(any(target_os = "macos", feature = "openblas"))]
mod blas;
mod extension;
mod hash_dropout;
mod kernel;
mod linear_training;
mod operand;
mod packing;
mod portable;
mod residual_norm;
#[cfg(target_arch = "x86_64")]
mod tiles;
#[cfg(target_arch = "x86_64")]
mod transpose;

use std::fmt;

use burn::nn::Linear;
use burn::nn::transformer::TransformerEncoder;
use burn::tensor::{Bool, Tensor, TensorData};

use self::extension::with_values;
pub use self::extension::{
    linear as kernel_linear, residual_norm as kernel_residual_norm,
    self_attention as kernel_self_attention,
};
use self::kernel::Kernel;
use self::packing::Packed;
use super::gelu::gelu_in_place;
use super::precision::Precision;
use crate::error::{Error, Result};

/// The encoder's linear layers, packed for the kernel.
pub struct PackedEncoder {
    /// One entry per encoder layer.
    pub layers: Vec<PackedLayer>,
    /// The operands' precision.
    pub precision: Precision,
    /// The instructions the products run on.
    pub instructions: &'static str,
}

/// One encoder layer's linear maps.
pub struct PackedLayer {
    /// Query, key and value side by side: one product instead of three.
    pub query_key_value: PackedLinear,
    /// Attention's output projection.
    pub output: PackedLinear,
    /// The feed-forward's inner map (GELU follows).
    pub inner: PackedLinear,
    /// The feed-forward's outer map.
    pub outer: PackedLinear,
}

impl fmt::Debug for PackedEncoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (layers, precision) = (self.layers.len(), self.precision);
        write!(f, "PackedEncoder({layers} layers, {precision})")
    }
}

impl PackedEncoder {
    /// Packs `encoder`'s weights in `precision`; an error where this CPU lacks the
    /// instructions.
    pub fn new(encoder: &TransformerEncoder, precision: Precision) -> Result<Self> {
        let kernel = detect(precision)?;
        let instructions = products(kernel, precision);
        tracing::info!(%precision, instructions, "packed inference");
        let linear = |layers: &[&Linear]| PackedLinear::new(kernel, precision, layers);
        let layers = encoder
            .layers
            .iter()
            .map(|layer| {
                let mha = &layer.mha;
                PackedLayer {
                    query_key_value: linear(&[&mha.query, &mha.key, &mha.value]),
                    output: linear(&[&mha.output]),
                    inner: linear(&[&layer.pwff.linear_inner]),
                    outer: linear(&[&layer.pwff.linear_outer]),
                }
            })
            .collect();
        Ok(Self {
            layers,
            precision,
            instructions,
        })
    }
}

impl PackedLayer {
    /// Multi-head self-attention of `x` `[batch, positions, hidden]` with `heads` heads, the
    /// output projection included; `padding` `[batch, positions]` is true where a position is
    /// never attended to.
    pub fn self_attention(
        &self,
        x: &Tensor<3>,
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
        let projected = projected.as_slice::<f32>().expect("the kernel writes f32");
        let padding = padding
            .as_ref()
            .map(|p| p.as_slice::<bool>().expect("a bool mask"));
        let kernel = self.query_key_value.kernel;
        let context = match self.query_key_value.map {
            Map::F32(_) => attention::attention::<f32>(kernel, projected, shape, padding),
            Map::Bf16(_) => attention::attention::<u32>(kernel, projected, shape, padding),
        };
        let context = Tensor::from_data(
            TensorData::new(context, [batch, positions, hidden]),
            &device,
        );
        self.output.forward(&context)
    }

    /// The feed-forward `gelu(x W₁ + b₁) W₂ + b₂` (exact GELU) of `x` `[batch, positions,
    /// hidden]`, rows block by block ([`Kernel::multiply_through`]): the inner activations
    /// never exist whole (for `base` at 16 × 256, 50 MB written out and read back at every
    /// layer, and converted once more in bf16).
    pub fn feed_forward(&self, x: &Tensor<3>) -> Tensor<3> {
        let device = x.device();
        let [batch, positions, depth] = x.dims();
        let kernel = self.inner.kernel;
        let gelu = move |values: &mut [f32]| {
            kernel.vectorised(
                #[inline(always)]
                || gelu_in_place(values),
            )
        };
        let (y, width) = with_values(x, |x| match (&self.inner.map, &self.outer.map) {
            (Map::F32(inner), Map::F32(outer)) => {
                assert_eq!(depth, inner.depth, "packed feed-forward: input width");
                (kernel.multiply_through(x, inner, &gelu, outer), outer.width)
            }
            (Map::Bf16(inner), Map::Bf16(outer)) => {
                assert_eq!(depth, inner.depth, "packed feed-forward: input width");
                (kernel.multiply_through(x, inner, &gelu, outer), outer.width)
            }
            _ => unreachable!("one precision per encoder"),
        });
        Tensor::from_data(TensorData::new(y, [batch, positions, width]), &device)
    }
}

/// Whether the packed kernels multiply in `precision` on this CPU; if not, why not.
pub(super) fn detect(precision: Precision) -> Result<Kernel> {
    let kernel = Kernel::detect();
    match precision {
        Precision::Bf16 if !kernel.supports::<u32>() => Err(Error::Device {
            name: "cpu".into(),
            reason: "--precision bf16 needs a CPU with AVX-512 BF16 instructions (AMD Zen 4 and \
                     later, Intel Cooper Lake, Sapphire Rapids and later); this one has none, \
                     so use the default f32"
                .into(),
        }),
        _ => Ok(kernel),
    }
}

/// The instructions (or library) `kernel`'s products run on in `precision`.
pub(super) fn products(kernel: Kernel, precision: Precision) -> &'static str {
    match precision {
        Precision::F32 => kernel.name::<f32>(),
        Precision::Bf16 => kernel.name::<u32>(),
    }
}

/// A linear map `x W + b` with `W` packed for the kernel.
pub struct PackedLinear {
    kernel: Kernel,
    map: Map,
}

/// A packed weight matrix in its operands' precision.
enum Map {
    F32(Packed<f32>),
    Bf16(Packed<u32>),
}

impl PackedLinear {
    /// Packs `layers` (same input width) as one map whose outputs are theirs side by side.
    fn new(kernel: Kernel, precision: Precision, layers: &[&Linear]) -> Self {
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
        let row = |k: usize| &weights[k * width..][..width];
        let map = match precision {
            Precision::F32 => Map::F32(Packed::from_rows(depth, width, row, &bias)),
            Precision::Bf16 => Map::Bf16(Packed::from_rows(depth, width, row, &bias)),
        };
        Self { kernel, map }
    }

    /// `x W + b` for `x` `[batch, positions, depth]` f32.
    pub fn forward(&self, x: &Tensor<3>) -> Tensor<3> {
        self.forward_then(x, &|_| {})
    }

    /// `gelu(x W + b)` (exact GELU), the activation applied in place.
    pub fn forward_gelu(&self, x: &Tensor<3>) -> Tensor<3> {
        let kernel = self.kernel;
        self.forward_then(x, &move |values| {
            kernel.vectorised(
                #[inline(always)]
                || gelu_in_place(values),
            )
        })
    }

    /// `x W + b`, then `activation` over the values in place.
    fn forward_then(&self, x: &Tensor<3>, activation: &(dyn Fn(&mut [f32]) + Sync)) -> Tensor<3> {
        let device = x.device();
        let [batch, positions, depth] = x.dims();
        let (y, width) = with_values(x, |x| match &self.map {
            // f32 rows are their own operands.
            Map::F32(map) => {
                assert_eq!(depth, map.depth, "packed linear: input width");
                (self.kernel.multiply(x, map, activation), map.width)
            }
            Map::Bf16(map) => {
                assert_eq!(depth, map.depth, "packed linear: input width");
                let pairs = self.kernel.to_operands::<u32>(x, depth);
                (self.kernel.multiply(&pairs, map, activation), map.width)
            }
        });
        Tensor::from_data(TensorData::new(y, [batch, positions, width]), &device)
    }
}
