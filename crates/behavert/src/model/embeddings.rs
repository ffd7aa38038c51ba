//! Frames to tokens: projection of the flattened pose, mask and CLS tokens, learned positions.

use burn::module::{Module, Param};
use burn::nn::{
    Dropout, DropoutConfig, Embedding, EmbeddingConfig, LayerNorm, LayerNormConfig, Linear,
};
use burn::tensor::{Bool, Device, Distribution, Tensor};

use super::config::ModelConfig;
use super::init::{INITIALIZER_RANGE, bert_linear, bert_normal};

/// The embedding block of the reference's `Embeddings`.
#[derive(Module, Debug)]
pub struct Embeddings {
    /// Features of one frame to a token.
    pub keypoint_projection: Linear,
    /// The clip token prepended at position 0.
    pub cls_token: Param<Tensor<1>>,
    /// Replaces the token of a masked frame.
    pub mask_token: Param<Tensor<1>>,
    /// Learned absolute positions; 0 is the CLS token.
    pub position_embeddings: Embedding,
    /// Normalises token + position.
    pub layer_norm: LayerNorm,
    /// Regularises the tokens.
    pub dropout: Dropout,
}

impl Embeddings {
    /// A freshly initialised embedding block.
    pub fn new(config: &ModelConfig, device: &Device) -> Self {
        let hidden = config.hidden_size;
        let token = || {
            Param::from_tensor(Tensor::random(
                [hidden],
                Distribution::Normal(0.0, INITIALIZER_RANGE),
                device,
            ))
        };
        Self {
            keypoint_projection: bert_linear(config.input_dim, hidden, device),
            cls_token: token(),
            mask_token: token(),
            position_embeddings: EmbeddingConfig::new(config.max_position_embeddings, hidden)
                .with_initializer(bert_normal())
                .init(device),
            layer_norm: LayerNormConfig::new(hidden)
                .with_epsilon(config.layer_norm_eps)
                .init(device),
            dropout: DropoutConfig::new(config.hidden_dropout_prob).init(),
        }
    }

    /// Tokens `[batch, frames + 1, hidden]` from keypoints `[batch, frames, features]`;
    /// frames where `masked` is true are replaced by the mask token. The caller checks that
    /// `frames + 1` positions exist.
    pub fn forward(&self, keypoints: Tensor<3>, masked: Option<Tensor<2, Bool>>) -> Tensor<3> {
        let [batch, frames, _] = keypoints.dims();
        let [_, hidden] = self.position_embeddings.weight.dims();
        let mut tokens = self.keypoint_projection.forward(keypoints);
        if let Some(masked) = masked {
            let mask_token = self
                .mask_token
                .val()
                .reshape([1, 1, hidden])
                .expand([batch, frames, hidden]);
            let where_masked = masked.unsqueeze_dim::<3>(2).expand([batch, frames, hidden]);
            tokens = tokens.mask_where(where_masked, mask_token);
        }
        let cls = self
            .cls_token
            .val()
            .reshape([1, 1, hidden])
            .expand([batch, 1, hidden]);
        let positions = self
            .position_embeddings
            .weight
            .val()
            .slice(0..frames + 1)
            .unsqueeze_dim::<3>(0);
        let tokens = Tensor::cat(vec![cls, tokens], 1) + positions;
        super::dropout::dropout(&self.dropout, self.layer_norm.forward(tokens))
    }
}
