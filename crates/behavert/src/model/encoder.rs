//! The encoder's forward pass over burn's stock post-LN layers (their parameters, and so the
//! checkpoints' tensor names, stay burn's). Where our CPU kernels run (f32 on a CPU with
//! AVX-512, [`super::packed`]), the linear maps, self-attention and the residual joins run on
//! them, training included (operations with their own backward passes); inference with packed
//! weights multiplies by weights packed once. Elsewhere burn's layers: attention weights that no
//! dropout touches through burn's fused attention op, dropout masks drawn in bulk
//! ([`super::dropout`]).

use burn::nn::activation::Activation;
use burn::nn::attention::MultiHeadAttention;
use burn::nn::transformer::{PositionWiseFeedForward, TransformerEncoder, TransformerEncoderLayer};
use burn::nn::{LayerNorm, Linear};
use burn::tensor::activation::softmax;
use burn::tensor::module::attention;
use burn::tensor::ops::AttentionModuleOptions;
use burn::tensor::{Bool, Tensor};

use super::dropout::{self, dropout};
use super::gelu::linear_gelu;
use super::packed::{
    PackedEncoder, PackedLayer, kernel_linear, kernel_residual_norm, kernel_self_attention,
};

/// Hidden states `[batch, positions, hidden]` after every layer; `padding` `[batch,
/// positions]` is true where a position is padding (never attended to).
pub fn encode(
    encoder: &TransformerEncoder,
    packed: Option<&PackedEncoder>,
    layer_norm_eps: f64,
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
        .enumerate()
        .fold(tokens, |x, (i, layer)| {
            let packed = packed.map(|packed| &packed.layers[i]);
            encode_layer(layer, packed, layer_norm_eps, x, padding.as_ref())
        })
}

/// One BERT layer: attention, dropout, residual, LayerNorm; feed-forward, dropout, residual,
/// LayerNorm. `packed`: the layer's linear maps packed for our kernels; `layer_norm_eps` the
/// LayerNorms' ε (burn keeps its own private).
fn encode_layer(
    layer: &TransformerEncoderLayer,
    packed: Option<&PackedLayer>,
    layer_norm_eps: f64,
    x: Tensor<3>,
    padding: Option<&Tensor<2, Bool>>,
) -> Tensor<3> {
    let attended = match packed {
        Some(packed) => packed.self_attention(&x, layer.mha.n_heads, padding),
        None => kernel_self_attention(&layer.mha, &x, padding)
            .unwrap_or_else(|| self_attention(&layer.mha, x.clone(), padding)),
    };
    let join = |norm: &LayerNorm, x: Tensor<3>, sublayer: Tensor<3>| {
        kernel_residual_norm(norm, &layer.dropout, layer_norm_eps, &x, &sublayer)
            .unwrap_or_else(|| norm.forward(x + dropout(&layer.dropout, sublayer)))
    };
    let x = join(&layer.norm_1, x, attended);
    let pwff = &layer.pwff;
    let fed = match packed {
        // Nothing between the two maps but GELU: they run block of rows by block of rows.
        Some(packed)
            if matches!(pwff.activation, Activation::Gelu(_))
                && !dropout::applies(&pwff.dropout, &x.device()) =>
        {
            packed.feed_forward(&x)
        }
        Some(packed) => {
            let inner = inner_activations(pwff, Some(packed), x.clone());
            packed.outer.forward(&inner)
        }
        None => linear(&pwff.linear_outer, inner_activations(pwff, None, x.clone())),
    };
    join(&layer.norm_2, x, fed)
}

/// The feed-forward's inner activations, after its dropout.
fn inner_activations(
    pwff: &PositionWiseFeedForward,
    packed: Option<&PackedLayer>,
    x: Tensor<3>,
) -> Tensor<3> {
    let gelu = matches!(pwff.activation, Activation::Gelu(_));
    if packed.is_none() && gelu {
        // The kernel's pass after the product takes the dropout too.
        if let Some(dropped) = kernel_linear(&pwff.linear_inner, &x, true, Some(&pwff.dropout)) {
            return dropped;
        }
    }
    let inner = match (packed, gelu) {
        (Some(packed), true) => packed.inner.forward_gelu(&x),
        (Some(packed), false) => pwff.activation.forward(packed.inner.forward(&x)),
        (None, true) => linear_gelu(&pwff.linear_inner, x),
        (None, false) => pwff.activation.forward(linear(&pwff.linear_inner, x)),
    };
    dropout(&pwff.dropout, inner)
}

/// Multi-head self-attention of `x` `[batch, positions, hidden]`.
fn self_attention(
    mha: &MultiHeadAttention,
    x: Tensor<3>,
    padding: Option<&Tensor<2, Bool>>,
) -> Tensor<3> {
    let [batch, positions, hidden] = x.dims();
    let heads = |projected: Tensor<3>| {
        projected
            .reshape([batch, positions, mha.n_heads, mha.d_k])
            .swap_dims(1, 2)
    };
    let (query, key, value) = (
        heads(linear(&mha.query, x.clone())),
        heads(linear(&mha.key, x.clone())),
        heads(linear(&mha.value, x.clone())),
    );
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
    linear(&mha.output, context)
}

/// `layer`'s output for `x`: on our kernel where it runs, else burn's.
fn linear(layer: &Linear, x: Tensor<3>) -> Tensor<3> {
    kernel_linear(layer, &x, false, None).unwrap_or_else(|| layer.forward(x))
}
