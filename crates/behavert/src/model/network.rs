//! The whole network: embeddings, post-LN BERT encoder, heads.

use std::sync::Arc;

use burn::module::Module;
use burn::nn::DropoutConfig;
use burn::nn::transformer::{TransformerEncoder, TransformerEncoderConfig};
use burn::tensor::{Bool, Device, Tensor, TensorData};

use super::config::{HeadLevel, ModelConfig};
use super::embeddings::Embeddings;
use super::heads::Heads;
use super::init::bert_normal;
use super::packed::PackedEncoder;
use super::precision::Precision;
use crate::device::is_cpu;
use crate::error::{Error, Result};

/// One batch of clips for the network.
#[derive(Clone, Debug)]
pub struct ModelInput {
    /// `[batch, frames, input_dim]` preprocessed pose features.
    pub keypoints: Tensor<3>,
    /// `[batch, frames]`, true for a real frame, false for padding.
    pub valid: Tensor<2, Bool>,
    /// `[batch, frames]`, true where the frame is replaced by the mask token (pretraining).
    pub masked: Option<Tensor<2, Bool>>,
}

impl ModelInput {
    /// Clips with no padding and no masked frames.
    pub fn unpadded(keypoints: Tensor<3>) -> Self {
        let [batch, frames, _] = keypoints.dims();
        let valid = Tensor::<2, Bool>::from_data(
            TensorData::new(vec![true; batch * frames], [batch, frames]),
            &keypoints.device(),
        );
        Self {
            keypoints,
            valid,
            masked: None,
        }
    }
}

/// Every output of the network, as the reference's `forward` returns them.
#[derive(Clone, Debug)]
pub struct ModelOutput {
    /// `[batch, frames + 1, hidden]`, index 0 is the CLS token.
    pub hidden: Tensor<3>,
    /// One `[batch, frames, outputs]` tensor per frame head, in config order.
    pub frame_logits: Vec<Tensor<3>>,
    /// One `[batch, outputs]` tensor per sequence head, in config order.
    pub sequence_logits: Vec<Tensor<2>>,
    /// `[batch, frames, input_dim]` reconstructed features.
    pub reconstruction: Tensor<3>,
}

/// The BehavERT network of docs/architecture.md#the-model-contract.
#[derive(Module, Debug)]
pub struct BehavErt {
    /// Frames to tokens.
    pub embeddings: Embeddings,
    /// burn's stock encoder in post-LN form: the structure of a BERT layer (run by
    /// [`super::encoder`]).
    pub encoder: TransformerEncoder,
    /// Output heads.
    pub heads: Heads,
    /// The hyper-parameters the network was built from.
    #[module(skip)]
    pub config: ModelConfig,
    /// The encoder's weights packed for our CPU kernels, where inference runs on them
    /// ([`Self::set_precision`]).
    #[module(skip)]
    packed: Option<Arc<PackedEncoder>>,
    /// The arithmetic of the encoder's linear products in training passes
    /// ([`Self::set_training_precision`]).
    #[module(skip)]
    training_precision: Precision,
}

impl BehavErt {
    /// A freshly initialised network (BERT initialisation) on `device`.
    pub fn new(config: &ModelConfig, device: &Device) -> Result<Self> {
        config.validate("model config")?;
        // Every run that trains or labels builds a network first: from here on, the
        // megabyte tensors' memory is reused rather than given back and zeroed again.
        crate::allocator::retain_freed_memory();
        let mut encoder = TransformerEncoderConfig::new(
            config.hidden_size,
            config.intermediate_size,
            config.num_attention_heads,
            config.num_hidden_layers,
        )
        .with_dropout(config.hidden_dropout_prob)
        .with_norm_first(false)
        .with_layer_norm_eps(config.layer_norm_eps)
        .with_initializer(bert_normal())
        .init(device);
        // burn uses one dropout rate per layer; BERT has a separate one for attention weights.
        for layer in &mut encoder.layers {
            layer.mha.dropout = DropoutConfig::new(config.attention_probs_dropout_prob).init();
        }
        Ok(Self {
            embeddings: Embeddings::new(config, device),
            encoder,
            heads: Heads::new(config, device),
            config: config.clone(),
            packed: None,
            training_precision: Precision::F32,
        })
    }

    /// The arithmetic of inference passes from here on (training's is
    /// [`Self::set_training_precision`]), packing the encoder's current weights for our CPU
    /// kernels: set it after loading them. f32 runs on burn's layers off the CPU.
    pub fn set_precision(&mut self, precision: Precision) -> Result<()> {
        let device = self.embeddings.keypoint_projection.weight.device();
        self.packed = match precision {
            Precision::F32 if !is_cpu(&device) => None,
            Precision::Bf16 if !is_cpu(&device) => return Err(bf16_off_the_cpu(&device)),
            _ => Some(Arc::new(PackedEncoder::new(&self.encoder, precision)?)),
        };
        Ok(())
    }

    /// The arithmetic of the encoder's linear products in training passes (under autodiff)
    /// from here on: bf16 is mixed precision, bf16-rounded operands summed in f32, with the
    /// parameters, gradients and everything between the products f32.
    pub fn set_training_precision(&mut self, precision: Precision) -> Result<()> {
        let device = self.embeddings.keypoint_projection.weight.device();
        if precision == Precision::Bf16 {
            if !is_cpu(&device) {
                return Err(bf16_off_the_cpu(&device));
            }
            super::packed::detect(precision)?;
        }
        self.training_precision = precision;
        Ok(())
    }

    /// The arithmetic of inference passes: without packed weights, f32 on burn's layers.
    pub fn precision(&self) -> Precision {
        self.packed
            .as_ref()
            .map_or(Precision::F32, |packed| packed.precision)
    }

    /// The instructions inference passes run on when the packed kernels do (else burn's
    /// layers), for logs, benchmarks and tests.
    pub fn packed_instructions(&self) -> Option<&'static str> {
        self.packed.as_ref().map(|packed| packed.instructions)
    }

    /// Position of the head `name` among the heads of its level.
    pub fn head_index(&self, name: &str) -> Option<(HeadLevel, usize)> {
        [HeadLevel::Frame, HeadLevel::Sequence]
            .into_iter()
            .find_map(|level| {
                let heads = self.config.heads_at(level);
                heads
                    .iter()
                    .position(|h| h.name == name)
                    .map(|i| (level, i))
            })
    }

    /// Hidden states `[batch, frames + 1, hidden]` (CLS first) of a batch.
    pub fn encode(&self, input: &ModelInput) -> Result<Tensor<3>> {
        self.check_input(input)?;
        let [batch, _, _] = input.keypoints.dims();
        let _span = tracing::trace_span!("encode", batch).entered();
        let tokens = self
            .embeddings
            .forward(input.keypoints.clone(), input.masked.clone());
        let cls_is_real = Tensor::<2, Bool>::from_data(
            TensorData::new(vec![false; batch], [batch, 1]),
            &tokens.device(),
        );
        let padding = Tensor::cat(vec![cls_is_real, input.valid.clone().bool_not()], 1);
        // Weights packed once serve inference only: training's change every step.
        let training = tokens.device().is_autodiff();
        let packed = self.packed.as_deref().filter(|_| !training);
        let precision = match training {
            true => self.training_precision,
            false => Precision::F32,
        };
        Ok(super::encoder::encode(
            &self.encoder,
            packed,
            precision,
            self.config.layer_norm_eps,
            tokens,
            padding,
        ))
    }

    /// Frame tokens `[batch, frames, hidden]`: the hidden states without the CLS token.
    pub fn frame_tokens(hidden: &Tensor<3>) -> Tensor<3> {
        let [batch, positions, width] = hidden.dims();
        hidden.clone().slice([0..batch, 1..positions, 0..width])
    }

    /// Logits `[batch, frames, outputs]` of frame head `head`.
    pub fn frame_logits(&self, head: usize, hidden: &Tensor<3>) -> Tensor<3> {
        self.heads.frame[head].forward(Self::frame_tokens(hidden))
    }

    /// Logits `[batch, outputs]` of sequence head `head`.
    pub fn sequence_logits(&self, head: usize, hidden: &Tensor<3>) -> Tensor<2> {
        self.heads.sequence[head].forward(self.heads.pool(hidden))
    }

    /// Reconstructed features `[batch, frames, input_dim]` of every frame.
    pub fn reconstruct(&self, hidden: &Tensor<3>) -> Tensor<3> {
        self.heads
            .reconstruction
            .forward(Self::frame_tokens(hidden))
    }

    /// Every output, as the reference computes them.
    pub fn forward(&self, input: &ModelInput) -> Result<ModelOutput> {
        let hidden = self.encode(input)?;
        let frame_logits = (0..self.heads.frame.len())
            .map(|i| self.frame_logits(i, &hidden))
            .collect();
        let sequence_logits = (0..self.heads.sequence.len())
            .map(|i| self.sequence_logits(i, &hidden))
            .collect();
        let reconstruction = self.reconstruct(&hidden);
        Ok(ModelOutput {
            hidden,
            frame_logits,
            sequence_logits,
            reconstruction,
        })
    }

    fn check_input(&self, input: &ModelInput) -> Result<()> {
        let [batch, frames, features] = input.keypoints.dims();
        if features != self.config.input_dim {
            return Err(Error::input(
                "keypoints",
                format!(
                    "{} features per frame (the model's input_dim)",
                    self.config.input_dim
                ),
                features,
            ));
        }
        if frames == 0 || frames > self.config.max_frames() {
            return Err(Error::input(
                "keypoints",
                format!(
                    "between 1 and {} frames per clip (max_position_embeddings - 1)",
                    self.config.max_frames()
                ),
                frames,
            ));
        }
        let masks = std::iter::once(("valid", &input.valid))
            .chain(input.masked.iter().map(|m| ("masked", m)));
        for (name, mask) in masks {
            if mask.dims() != [batch, frames] {
                return Err(Error::input(
                    name,
                    format!("shape [{batch}, {frames}] like the keypoints"),
                    format!("{:?}", mask.dims()),
                ));
            }
        }
        Ok(())
    }
}

/// Why bf16 does not run on `device`: our bf16 kernels are the CPU's.
fn bf16_off_the_cpu(device: &Device) -> Error {
    Error::Device {
        name: format!("{device:?}"),
        reason: "--precision bf16 runs on the CPU only (--device cpu)".into(),
    }
}
