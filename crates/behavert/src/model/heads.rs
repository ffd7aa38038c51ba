//! Output heads: per-frame and per-clip logits, and the masked-frame reconstruction.

use burn::module::Module;
use burn::nn::{LayerNorm, LayerNormConfig, Linear};
use burn::tensor::activation::gelu;
use burn::tensor::{Device, Tensor};

use super::config::{HeadLevel, ModelConfig};
use super::init::bert_linear;
use super::packed::kernel_linear;
use super::precision::Precision;

/// The reconstruction head's hidden transform (`transform.dense`, `transform.LayerNorm`).
#[derive(Module, Debug)]
pub struct Transform {
    /// Hidden to hidden.
    pub dense: Linear,
    /// Normalises after the GELU.
    pub layer_norm: LayerNorm,
}

/// Masked-frame modelling head: dense, GELU, LayerNorm, then a decoder back to the features.
#[derive(Module, Debug)]
pub struct ReconstructionHead {
    /// The hidden transform.
    pub transform: Transform,
    /// Hidden to input features.
    pub decoder: Linear,
}

impl ReconstructionHead {
    /// Pose features `[.., input_dim]` from frame tokens `[.., hidden]`.
    pub fn forward(&self, frames: Tensor<3>) -> Tensor<3> {
        // On the CPU our kernel's GELU runs in the pass after the product, vectorised; burn's
        // calls libm's scalar `erff` per value.
        let dense = &self.transform.dense;
        let x = kernel_linear(dense, &frames, true, None, Precision::F32)
            .unwrap_or_else(|| gelu(dense.forward(frames)));
        self.decoder.forward(self.transform.layer_norm.forward(x))
    }
}

/// Every head of the model. Frame and sequence heads are kept in config order; their names
/// live in the config and are mapped onto tensor names when checkpoints are read or written.
#[derive(Module, Debug)]
pub struct Heads {
    /// Per-frame linear heads.
    pub frame: Vec<Linear>,
    /// CLS token to the pooled clip vector (followed by tanh).
    pub pooler: Linear,
    /// Per-clip linear heads on the pooled vector.
    pub sequence: Vec<Linear>,
    /// Masked-frame reconstruction.
    pub reconstruction: ReconstructionHead,
}

impl Heads {
    /// Freshly initialised heads for `config`.
    pub fn new(config: &ModelConfig, device: &Device) -> Self {
        let hidden = config.hidden_size;
        let linear_heads = |level| {
            config
                .heads_at(level)
                .iter()
                .map(|head| bert_linear(hidden, head.outputs, device))
                .collect()
        };
        Self {
            frame: linear_heads(HeadLevel::Frame),
            pooler: bert_linear(hidden, hidden, device),
            sequence: linear_heads(HeadLevel::Sequence),
            reconstruction: ReconstructionHead {
                transform: Transform {
                    dense: bert_linear(hidden, hidden, device),
                    layer_norm: LayerNormConfig::new(hidden)
                        .with_epsilon(config.layer_norm_eps)
                        .init(device),
                },
                decoder: bert_linear(hidden, config.input_dim, device),
            },
        }
    }

    /// The pooled clip vector `[batch, hidden]`: tanh(pooler(CLS)).
    pub fn pool(&self, hidden: &Tensor<3>) -> Tensor<2> {
        let [batch, _, width] = hidden.dims();
        let cls = hidden
            .clone()
            .slice([0..batch, 0..1])
            .reshape([batch, width]);
        self.pooler.forward(cls).tanh()
    }
}
