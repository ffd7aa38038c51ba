//! The encoder's forward pass over burn's stock post-LN layers (their parameters, and so the
//! checkpoints' tensor names, stay burn's). Attention weights that no dropout touches go
//! through burn's fused attention op (on the CPU one kernel per head: scores, mask, softmax and
//! product without a `[batch, heads, frames, frames]` tensor between them); dropout draws its
//! masks in bulk ([`super::dropout`]).

use burn::nn::activation::Activation;
use burn::nn::attention::MultiHeadAttention;
use burn::nn::transformer::{TransformerEncoder, TransformerEncoderLayer};
use burn::tensor::activation::softmax;
use burn::tensor::module::attention;
use burn::tensor::ops::AttentionModuleOptions;
use burn::tensor::{Bool, Tensor};

use super::dropout::{self, dropout};
use super::gelu::linear_gelu;

/// Hidden states `[batch, positions, hidden]` after every layer; `padding` `[batch,
/// positions]` is true where a position is padding (never attended to).
pub fn encode(
    encoder: &TransformerEncoder,
    tokens: Tensor<3>,
    padding: Tensor<2, Bool>,
) -> Tensor<3> {
    // Most batches are whole windows: masking nothing would still cost a pass over every
    // layer's attention scores, forward and backward.
    let padding = padding
        .clone()
        .any()
        .into_scalar::<bool>()
        .then_some(padding);
    encoder
        .layers
        .iter()
        .fold(tokens, |x, layer| encode_layer(layer, x, padding.as_ref()))
}

/// One BERT layer: attention, dropout, residual, LayerNorm; feed-forward, dropout, residual,
/// LayerNorm.
fn encode_layer(
    layer: &TransformerEncoderLayer,
    x: Tensor<3>,
    padding: Option<&Tensor<2, Bool>>,
) -> Tensor<3> {
    let attended = self_attention(&layer.mha, x.clone(), padding);
    let x = layer.norm_1.forward(x + dropout(&layer.dropout, attended));
    let pwff = &layer.pwff;
    let inner = match pwff.activation {
        Activation::Gelu(_) => linear_gelu(&pwff.linear_inner, x.clone()),
        _ => pwff
            .activation
            .forward(pwff.linear_inner.forward(x.clone())),
    };
    let fed = pwff.linear_outer.forward(dropout(&pwff.dropout, inner));
    layer.norm_2.forward(x + dropout(&layer.dropout, fed))
}

/// Multi-head self-attention of `x` `[batch, positions, hidden]`.
fn self_attention(
    mha: &MultiHeadAttention,
    x: Tensor<3>,
    padding: Option<&Tensor<2, Bool>>,
) -> Tensor<3> {
    let [batch, positions, hidden] = x.dims();
    let heads = |linear: &burn::nn::Linear| {
        linear
            .forward(x.clone())
            .reshape([batch, positions, mha.n_heads, mha.d_k])
            .swap_dims(1, 2)
    };
    let (query, key, value) = (heads(&mha.query), heads(&mha.key), heads(&mha.value));
    let padding = padding.map(|p| p.clone().reshape([batch, 1, 1, positions]));
    let context = if dropout::applies(&mha.dropout, &x.device()) {
        // Dropout acts on the attention weights themselves, so they must exist as a tensor.
        // Scaling the queries touches frames × width numbers, scaling the scores frames².
        let mut scores = query
            .mul_scalar(1.0 / (mha.d_k as f32).sqrt())
            .matmul(key.transpose());
        if let Some(padding) = padding {
            scores = scores.mask_fill(padding, mha.min_float);
        }
        dropout(&mha.dropout, softmax(scores, 3)).matmul(value)
    } else {
        attention(
            query,
            key,
            value,
            padding.map(|p| p.expand([batch, 1, positions, positions])),
            None,
            AttentionModuleOptions::default(),
        )
    };
    let context = context.swap_dims(1, 2).reshape([batch, positions, hidden]);
    mha.output.forward(context)
}
