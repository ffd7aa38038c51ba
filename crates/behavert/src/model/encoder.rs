//! The encoder's forward pass over burn's stock post-LN layers (their parameters, and so the
//! checkpoints' tensor names, stay burn's). On the CPU, in f32, the linear maps, self-attention
//! and the residual joins run on our kernels ([`super::packed`]), training included
//! (operations with their own backward passes); inference with packed weights multiplies by
//! weights packed once. Elsewhere (another device) burn's layers: attention weights that no
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
use super::packed::{
    PackedEncoder, PackedLayer, kernel_linear, kernel_residual_norm, kernel_self_attention,
};
use super::precision::Precision;

/// Hidden states `[batch, positions, hidden]` after every layer; `padding` `[batch,
/// positions]` is true where a position is padding (never attended to). Without `packed`
/// weights, the linear layers' products run in `precision` where our kernels run.
pub fn encode(
    encoder: &TransformerEncoder,
    packed: Option<&PackedEncoder>,
    precision: Precision,
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
            encode_layer(
                layer,
                packed,
                precision,
                layer_norm_eps,
                x,
                padding.as_ref(),
            )
        })
}

/// One BERT layer: attention, dropout, residual, LayerNorm; feed-forward, dropout, residual,
/// LayerNorm. `packed`: the layer's linear maps packed for our kernels; `layer_norm_eps` the
/// LayerNorms' ε (burn keeps its own private).
fn encode_layer(
    layer: &TransformerEncoderLayer,
    packed: Option<&PackedLayer>,
    precision: Precision,
    layer_norm_eps: f64,
    x: Tensor<3>,
    padding: Option<&Tensor<2, Bool>>,
) -> Tensor<3> {
    let attended = match packed {
        Some(packed) => packed.self_attention(&x, layer.mha.n_heads, padding),
        None => kernel_self_attention(&layer.mha, &x, padding, precision)
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
            let inner = inner_activations(pwff, Some(packed), precision, x.clone());
            packed.outer.forward(&inner)
        }
        None => {
            let inner = inner_activations(pwff, None, precision, x.clone());
            linear(&pwff.linear_outer, inner, precision)
        }
    };
    join(&layer.norm_2, x, fed)
}

/// The feed-forward's inner activations, after its dropout.
fn inner_activations(
    pwff: &PositionWiseFeedForward,
    packed: Option<&PackedLayer>,
    precision: Precision,
    x: Tensor<3>,
) -> Tensor<3> {
    let gelu = matches!(pwff.activation, Activation::Gelu(_));
    if packed.is_none() && gelu {
        // The kernel's pass after the product takes the dropout too.
        let dropout = Some(&pwff.dropout);
        if let Some(dropped) = kernel_linear(&pwff.linear_inner, &x, true, dropout, precision) {
            return dropped;
        }
    }
    let inner = match (packed, gelu) {
        (Some(packed), true) => packed.inner.forward_gelu(&x),
        (Some(packed), false) => pwff.activation.forward(packed.inner.forward(&x)),
        (None, _) => pwff
            .activation
            .forward(linear(&pwff.linear_inner, x, precision)),
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
    // Where the kernels do not run (and so f32 only), burn's layers.
    let (query, key, value) = (
        heads(linear(&mha.query, x.clone(), Precision::F32)),
        heads(linear(&mha.key, x.clone(), Precision::F32)),
        heads(linear(&mha.value, x.clone(), Precision::F32)),
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
    linear(&mha.output, context, Precision::F32)
}

/// `layer`'s output for `x`: on our kernel where it runs (its products in `precision`), else
/// burn's.
fn linear(layer: &Linear, x: Tensor<3>, precision: Precision) -> Tensor<3> {
    kernel_linear(layer, &x, false, None, precision).unwrap_or_else(|| layer.forward(x))
}
