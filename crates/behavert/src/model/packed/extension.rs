//! The kernel as operations of burn's CPU backend (a backend extension), with backward passes
//! of their own under autodiff: training's linear layers run their three products per step on
//! [`super::linear_training`] instead of burn's matmul, bias, GELU and dropout passes,
//! self-attention on [`super::attention_training`] instead of burn's composition of matmuls,
//! softmax and dropout, and each residual join on [`super::residual_norm`] instead of a mask,
//! a sum and LayerNorm's composed operations.

use std::sync::{Arc, OnceLock};

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{
    Autodiff, Backend, BackendTensor, Dispatch, DispatchTensorKind, Flex, TensorMetadata,
    backend_extension,
};
use burn::nn::attention::MultiHeadAttention;
use burn::nn::{Dropout, LayerNorm, Linear};
use burn::tensor::{Bool, DType, Device, Shape, Tensor, TensorData};

use super::attention;
use super::attention_training::{self, Softmax};
use super::hash_dropout::HashDropout;
use super::kernel::Kernel;
use super::linear_training::{self, Forward};
use super::residual_norm;
use crate::device::is_cpu;
use crate::model::dropout;
use crate::model::precision::Precision;

/// Operations of our own on burn's backends.
#[backend_extension(Flex, Autodiff)]
pub trait KernelOps: Backend {
    /// `x W + b` over `x`'s last axis (`weight` `[depth, width]`, `bias` `[width]`), then exact
    /// GELU where `gelu` is set, then `dropout`; its products (the backward pass's too) in
    /// `precision`.
    fn kernel_linear(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        gelu: bool,
        dropout: HashDropout,
        precision: Precision,
    ) -> FloatTensor<Self>;

    /// Self-attention's context `[batch, positions, hidden]` from `projected` `[batch,
    /// positions, 3 × hidden]` (query, key and value side by side) over `heads` heads;
    /// `padding` (per sequence and position) true where a position is never attended to.
    fn kernel_attention(
        projected: FloatTensor<Self>,
        heads: usize,
        padding: Option<Arc<[bool]>>,
        dropout: HashDropout,
    ) -> FloatTensor<Self>;

    /// `LayerNorm(residual + dropout(sublayer)) · γ + β` over the last axis.
    fn kernel_residual_norm(
        residual: FloatTensor<Self>,
        sublayer: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f32,
        dropout: HashDropout,
    ) -> FloatTensor<Self>;
}

/// Whether the operations below take `x`: f32 on the CPU (with or without autodiff). The
/// model's parameters share its device and type.
fn applies(x: &Tensor<3>) -> bool {
    is_cpu(&x.device()) && x.dtype() == DType::F32
}

/// `layer`'s output for `x` (then exact GELU where `gelu` is set, then `dropout`) on the
/// kernel where it applies (f32 on the CPU, with or without autodiff), its products in
/// `precision` (which the caller made sure this CPU runs); `None` where it does not apply,
/// for the caller's own path.
pub fn linear(
    layer: &Linear,
    x: &Tensor<3>,
    gelu: bool,
    dropout: Option<&Dropout>,
    precision: Precision,
) -> Option<Tensor<3>> {
    let bias = layer.bias.as_ref().filter(|_| applies(x))?;
    let y = <Dispatch as KernelOps>::kernel_linear(
        x.clone().into_dispatch(),
        layer.weight.val().into_dispatch(),
        bias.val().into_dispatch(),
        gelu,
        dropout.map_or(HashDropout::NONE, |layer| hash_dropout(layer, &x.device())),
        precision,
    );
    Some(Tensor::from_dispatch(y))
}

/// Multi-head self-attention of `x` `[batch, positions, hidden]`, the output projection
/// included, on the kernel where it applies (as for [`linear`]; the projections' products in
/// `precision`, attention's own in f32); `padding` `[batch, positions]` true where a position
/// is never attended to.
pub fn self_attention(
    mha: &MultiHeadAttention,
    x: &Tensor<3>,
    padding: Option<&Tensor<2, Bool>>,
    precision: Precision,
) -> Option<Tensor<3>> {
    let projections = [&mha.query, &mha.key, &mha.value];
    let biases: Option<Vec<_>> = projections
        .iter()
        .map(|p| p.bias.as_ref().map(|b| b.val()))
        .collect();
    let (biases, _) = (biases?, mha.output.bias.as_ref()?);
    if !applies(x) {
        return None;
    }
    let weights = Tensor::cat(projections.iter().map(|p| p.weight.val()).collect(), 1);
    let projected = <Dispatch as KernelOps>::kernel_linear(
        x.clone().into_dispatch(),
        weights.into_dispatch(),
        Tensor::cat(biases, 0).into_dispatch(),
        false,
        HashDropout::NONE,
        precision,
    );
    let device = x.device();
    let padding = padding.map(|p| {
        let mask = p.clone().into_data().convert::<bool>();
        Arc::from(mask.as_slice::<bool>().expect("a bool mask"))
    });
    let dropout = hash_dropout(&mha.dropout, &device);
    let context =
        <Dispatch as KernelOps>::kernel_attention(projected, mha.n_heads, padding, dropout);
    linear(
        &mha.output,
        &Tensor::from_dispatch(context),
        false,
        None,
        precision,
    )
}

/// `norm(residual + dropout(sublayer))` (`norm`'s ε `epsilon`) on our CPU code where it
/// applies (as for [`linear`]).
pub fn residual_norm(
    norm: &LayerNorm,
    dropout_layer: &Dropout,
    epsilon: f64,
    residual: &Tensor<3>,
    sublayer: &Tensor<3>,
) -> Option<Tensor<3>> {
    let beta = norm
        .beta
        .as_ref()
        .filter(|_| applies(residual) && applies(sublayer))?;
    let device = residual.device();
    let output = <Dispatch as KernelOps>::kernel_residual_norm(
        residual.clone().into_dispatch(),
        sublayer.clone().into_dispatch(),
        norm.gamma.val().into_dispatch(),
        beta.val().into_dispatch(),
        epsilon as f32,
        hash_dropout(dropout_layer, &device),
    );
    Some(Tensor::from_dispatch(output))
}

/// `then` of `x`'s values as f32: read in place where `x` is a contiguous f32 tensor of Flex
/// (inference's activations, which the residual join holds too: taking their data would copy
/// them), else a copy.
pub fn with_values<R>(x: &Tensor<3>, then: impl FnOnce(&[f32]) -> R) -> R {
    let dispatch = x.clone().into_dispatch();
    match &dispatch.kind {
        DispatchTensorKind::Flex(BackendTensor::Float(x)) if x.dtype() == DType::F32 => {
            then(&values(x))
        }
        _ => {
            let data = x.clone().into_data().convert::<f32>();
            then(data.as_slice::<f32>().expect("f32 after convert"))
        }
    }
}

/// `layer` as a [`HashDropout`] on `device`: none where it does not apply.
fn hash_dropout(layer: &Dropout, device: &Device) -> HashDropout {
    match dropout::applies(layer, device) {
        true => HashDropout {
            keep: 1.0 - layer.prob as f32,
            seed: dropout::device_seed(device),
        },
        false => HashDropout::NONE,
    }
}

/// `t`'s values, contiguous from its first.
fn values(t: &FlexTensor) -> std::borrow::Cow<'_, [f32]> {
    match t.as_slice::<f32>() {
        Some(values) => values.into(),
        None => t
            .to_contiguous()
            .into_data()
            .try_to_vec::<f32>()
            .expect("f32")
            .into(),
    }
}

/// `t`'s values to change in place: its own memory where nothing else holds it (a gradient
/// handed to its consumer), else a copy first.
fn values_mut(t: &mut FlexTensor) -> &mut [f32] {
    let layout = t.layout();
    if !layout.is_contiguous() || layout.start_offset() != 0 {
        *t = t.to_contiguous();
    }
    let count = t.layout().num_elements();
    &mut t.storage_mut::<f32>()[..count]
}

/// A tensor of `shape` holding `values`.
fn tensor(values: Vec<f32>, shape: Shape) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape))
}

/// This CPU's kernel (asked once).
fn kernel() -> Kernel {
    static KERNEL: OnceLock<Kernel> = OnceLock::new();
    *KERNEL.get_or_init(Kernel::detect)
}

/// The forward pass on Flex tensors; the output's shape is `x`'s with the last axis `width`.
fn forward(
    x: &FlexTensor,
    weight: &FlexTensor,
    bias: &FlexTensor,
    gelu: bool,
    dropout: HashDropout,
    precision: Precision,
) -> (Forward, Shape) {
    let mut shape = x.shape();
    let last = shape.num_dims() - 1;
    shape[last] = bias.shape()[0];
    let forward = linear_training::forward(
        kernel(),
        &values(x),
        &values(weight),
        &values(bias),
        gelu,
        dropout,
        precision,
    );
    (forward, shape)
}

impl KernelOps for Flex {
    fn kernel_linear(
        x: FlexTensor,
        weight: FlexTensor,
        bias: FlexTensor,
        gelu: bool,
        dropout: HashDropout,
        precision: Precision,
    ) -> FlexTensor {
        let (forward, shape) = forward(&x, &weight, &bias, gelu, dropout, precision);
        tensor(forward.output, shape)
    }

    fn kernel_attention(
        projected: FlexTensor,
        heads: usize,
        padding: Option<Arc<[bool]>>,
        dropout: HashDropout,
    ) -> FlexTensor {
        let (shape, context_shape) = attention_shape(&projected, heads);
        let (context, _) = attention_training::forward(
            kernel(),
            &values(&projected),
            shape,
            padding.as_deref(),
            dropout,
        );
        tensor(context, context_shape)
    }

    fn kernel_residual_norm(
        residual: FlexTensor,
        sublayer: FlexTensor,
        gamma: FlexTensor,
        beta: FlexTensor,
        epsilon: f32,
        dropout: HashDropout,
    ) -> FlexTensor {
        let shape = residual.shape();
        let forward = residual_norm::forward(
            kernel(),
            &values(&residual),
            &values(&sublayer),
            &values(&gamma),
            &values(&beta),
            epsilon,
            dropout,
        );
        tensor(forward.output, shape)
    }
}

/// What the residual join's backward pass keeps from its forward pass.
#[derive(Clone, Debug)]
struct ResidualNormState {
    normalized: FlexTensor,
    inverse_deviations: Arc<[f32]>,
    gamma: FlexTensor,
    dropout: HashDropout,
}

#[derive(Debug)]
struct ResidualNormBackward;

impl Backward<Flex, 4> for ResidualNormBackward {
    type State = ResidualNormState;

    fn backward(self, ops: Ops<ResidualNormState, 4>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [residual_node, sublayer_node, gamma_node, beta_node] = ops.parents;
        let output_gradient = grads.consume::<Flex>(&ops.node);
        let state = ops.state;
        let shape = state.normalized.shape();
        let width = state.gamma.shape()[0];
        let gradients = residual_norm::backward(
            kernel(),
            &values(&output_gradient),
            &values(&state.normalized),
            &state.inverse_deviations,
            &values(&state.gamma),
            state.dropout,
        );
        let parameter = |values| tensor(values, Shape::new([width]));
        for (node, gradient) in [
            (residual_node, tensor(gradients.residual, shape.clone())),
            (sublayer_node, tensor(gradients.sublayer, shape)),
            (gamma_node, parameter(gradients.gamma)),
            (beta_node, parameter(gradients.beta)),
        ] {
            if let Some(node) = node {
                grads.register::<Flex>(node.id, gradient);
            }
        }
    }
}

/// Attention's shape for `projected` `[batch, positions, 3 × hidden]` over `heads` heads, and
/// its context's.
fn attention_shape(projected: &FlexTensor, heads: usize) -> (attention::Shape, Shape) {
    let [batch, positions, tripled] = projected.shape().dims::<3>();
    let hidden = tripled / 3;
    let shape = attention::Shape {
        batch,
        positions,
        heads,
        head_width: hidden / heads,
    };
    (shape, Shape::new([batch, positions, hidden]))
}

/// What self-attention's backward pass keeps from its forward pass.
#[derive(Clone, Debug)]
struct AttentionState {
    projected: FlexTensor,
    context: FlexTensor,
    softmax: Arc<Softmax>,
    heads: usize,
    padding: Option<Arc<[bool]>>,
    dropout: HashDropout,
}

#[derive(Debug)]
struct AttentionBackward;

impl Backward<Flex, 1> for AttentionBackward {
    type State = AttentionState;

    fn backward(self, ops: Ops<AttentionState, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [Some(node)] = ops.parents else {
            return;
        };
        let context_gradient = grads.consume::<Flex>(&ops.node);
        let state = ops.state;
        let (shape, _) = attention_shape(&state.projected, state.heads);
        let gradient = attention_training::backward(
            kernel(),
            &values(&state.projected),
            &values(&state.context),
            &state.softmax,
            &values(&context_gradient),
            shape,
            state.padding.as_deref(),
            state.dropout,
        );
        grads.register::<Flex>(node.id, tensor(gradient, state.projected.shape()));
    }
}

/// What a linear layer's backward pass keeps from its forward pass.
#[derive(Clone, Debug)]
struct LinearState {
    x: FlexTensor,
    weight: FlexTensor,
    /// `x W + b` where GELU followed.
    before_gelu: Option<FlexTensor>,
    dropout: HashDropout,
    precision: Precision,
}

#[derive(Debug)]
struct LinearBackward;

impl Backward<Flex, 3> for LinearBackward {
    type State = LinearState;

    fn backward(self, ops: Ops<LinearState, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [x_node, weight_node, bias_node] = ops.parents;
        let mut output_gradient = grads.consume::<Flex>(&ops.node);
        let LinearState {
            x,
            weight,
            before_gelu,
            dropout,
            precision,
        } = ops.state;
        let kernel = kernel();
        let width = weight.shape()[1];
        if before_gelu.is_some() || dropout.drops() {
            let before = before_gelu.as_ref().map(values);
            linear_training::through_activation(
                kernel,
                values_mut(&mut output_gradient),
                width,
                before.as_deref(),
                dropout,
            );
        }
        let gradient = values(&output_gradient);
        // Both from one packing of the gradient; where only the bias were tracked (BehavERT
        // freezes whole layers, never a weight alone) the weight's product would be spare work.
        if weight_node.is_some() || bias_node.is_some() {
            let (w, b) = linear_training::weight_and_bias_gradients(
                kernel,
                &values(&x),
                &gradient,
                width,
                precision,
            );
            if let Some(node) = weight_node {
                grads.register::<Flex>(node.id, tensor(w, weight.shape()));
            }
            if let Some(node) = bias_node {
                grads.register::<Flex>(node.id, tensor(b, Shape::new([width])));
            }
        }
        if let Some(node) = x_node {
            let weight = values(&weight);
            let input =
                linear_training::input_gradient(kernel, &gradient, &weight, width, precision);
            grads.register::<Flex>(node.id, tensor(input, x.shape()));
        }
    }
}

impl<C: CheckpointStrategy> KernelOps for Autodiff<Flex, C> {
    fn kernel_linear(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        gelu: bool,
        dropout: HashDropout,
        precision: Precision,
    ) -> FloatTensor<Self> {
        let prepared = LinearBackward
            .prepare::<C>([x.node(), weight.node(), bias.node()])
            .compute_bound()
            .stateful();
        let (x, weight, bias) = (
            x.into_primitive(),
            weight.into_primitive(),
            bias.into_primitive(),
        );
        let (forward, shape) = forward(&x, &weight, &bias, gelu, dropout, precision);
        let output = tensor(forward.output, shape.clone());
        match prepared {
            OpsKind::Tracked(prep) => {
                let before_gelu = forward.before_gelu.map(|v| tensor(v, shape));
                let state = LinearState {
                    x,
                    weight,
                    before_gelu,
                    dropout,
                    precision,
                };
                prep.finish(state, output)
            }
            OpsKind::UnTracked(prep) => prep.finish(output),
        }
    }

    fn kernel_attention(
        projected: FloatTensor<Self>,
        heads: usize,
        padding: Option<Arc<[bool]>>,
        dropout: HashDropout,
    ) -> FloatTensor<Self> {
        let prepared = AttentionBackward
            .prepare::<C>([projected.node()])
            .compute_bound()
            .stateful();
        let projected = projected.into_primitive();
        let (shape, context_shape) = attention_shape(&projected, heads);
        let (context, softmax) = attention_training::forward(
            kernel(),
            &values(&projected),
            shape,
            padding.as_deref(),
            dropout,
        );
        let context = tensor(context, context_shape);
        match prepared {
            OpsKind::Tracked(prep) => {
                let state = AttentionState {
                    projected,
                    context: context.clone(),
                    softmax: Arc::new(softmax),
                    heads,
                    padding,
                    dropout,
                };
                prep.finish(state, context)
            }
            OpsKind::UnTracked(prep) => prep.finish(context),
        }
    }

    fn kernel_residual_norm(
        residual: FloatTensor<Self>,
        sublayer: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f32,
        dropout: HashDropout,
    ) -> FloatTensor<Self> {
        let prepared = ResidualNormBackward
            .prepare::<C>([residual.node(), sublayer.node(), gamma.node(), beta.node()])
            // What the backward pass needs is kept in its state: nothing to recompute.
            .compute_bound()
            .stateful();
        let (residual, sublayer) = (residual.into_primitive(), sublayer.into_primitive());
        let (gamma, beta) = (gamma.into_primitive(), beta.into_primitive());
        let shape = residual.shape();
        let forward = residual_norm::forward(
            kernel(),
            &values(&residual),
            &values(&sublayer),
            &values(&gamma),
            &values(&beta),
            epsilon,
            dropout,
        );
        let output = tensor(forward.output, shape.clone());
        match prepared {
            OpsKind::Tracked(prep) => {
                let state = ResidualNormState {
                    normalized: tensor(forward.normalized, shape),
                    inverse_deviations: forward.inverse_deviations.into(),
                    gamma,
                    dropout,
                };
                prep.finish(state, output)
            }
            OpsKind::UnTracked(prep) => prep.finish(output),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::MutexGuard;

    use burn::nn::attention::{MhaInput, MultiHeadAttentionConfig};
    use burn::nn::{DropoutConfig, LayerNormConfig, LinearConfig};
    use burn::tensor::activation::{gelu, softmax};
    use burn::tensor::{Device, Distribution};

    use super::*;

    /// The CPU autodiff device seeded with `seed`, and the generator's turn (held for the
    /// test).
    fn autodiff_device(seed: u64) -> (MutexGuard<'static, ()>, Device) {
        let turn = crate::device::generator_turn();
        let device = Device::flex().autodiff();
        device.seed(seed);
        (turn, device)
    }

    fn close(got: Tensor<3>, want: Tensor<3>) {
        let (got, want) = (got.into_data(), want.into_data());
        got.assert_approx_eq::<f32>(&want, burn::tensor::Tolerance::absolute(1e-4));
    }

    /// The kernel's outputs and gradients (input, weight, bias) equal burn's own layers'.
    #[test]
    fn forward_and_backward_equal_burn_s_linear_layer() {
        let (_turn, device) = autodiff_device(3);
        let layer = LinearConfig::new(19, 70).init(&device);
        for gelu_after in [false, true] {
            let x = Tensor::<3>::random([3, 13, 19], Distribution::Default, &device).require_grad();
            let weights = Tensor::<3>::random([3, 13, 70], Distribution::Default, &device);
            let ours =
                linear(&layer, &x, gelu_after, None, Precision::F32).expect("the kernel runs here");
            let burn_s = match gelu_after {
                true => gelu(layer.forward(x.clone())),
                false => layer.forward(x.clone()),
            };
            let gradients = |y: Tensor<3>| {
                let grads = (y * weights.clone()).sum().backward();
                (
                    x.grad(&grads).unwrap(),
                    layer.weight.grad(&grads).unwrap(),
                    layer.bias.as_ref().unwrap().grad(&grads).unwrap(),
                )
            };
            close(ours.clone().inner(), burn_s.clone().inner());
            let (ours, burn_s) = (gradients(ours), gradients(burn_s));
            close(ours.0, burn_s.0);
            close(ours.1.unsqueeze(), burn_s.1.unsqueeze());
            close(ours.2.unsqueeze(), burn_s.2.unsqueeze());
        }
    }

    /// Self-attention on the kernel (with padding, without dropout) equals burn's multi-head
    /// attention, outputs and gradients.
    #[test]
    fn self_attention_equals_burn_s_forward_and_backward() {
        let (_turn, device) = autodiff_device(5);
        let mha = MultiHeadAttentionConfig::new(24, 3)
            .with_dropout(0.0)
            .init(&device);
        let x = Tensor::<3>::random([2, 11, 24], Distribution::Default, &device).require_grad();
        let padding = Tensor::<2, Bool>::from_data(
            TensorData::new((0..22).map(|i| i >= 19).collect::<Vec<bool>>(), [2, 11]),
            &device,
        );
        let weights = Tensor::<3>::random([2, 11, 24], Distribution::Default, &device);
        let ours =
            self_attention(&mha, &x, Some(&padding), Precision::F32).expect("the kernel runs here");
        let burn_s = mha
            .forward(MhaInput::self_attn(x.clone()).mask_pad(padding))
            .context;
        close(ours.clone().inner(), burn_s.clone().inner());
        let gradients = |y: Tensor<3>| {
            let grads = (y * weights.clone()).sum().backward();
            (
                x.grad(&grads).unwrap(),
                mha.query.weight.grad(&grads).unwrap(),
                mha.key.bias.as_ref().unwrap().grad(&grads).unwrap(),
                mha.value.weight.grad(&grads).unwrap(),
            )
        };
        let (ours, burn_s) = (gradients(ours), gradients(burn_s));
        close(ours.0, burn_s.0);
        close(ours.1.unsqueeze(), burn_s.1.unsqueeze());
        close(ours.2.unsqueeze(), burn_s.2.unsqueeze());
        close(ours.3.unsqueeze(), burn_s.3.unsqueeze());
    }

    /// With dropout on the weights, the op's output and gradient equal burn's composition
    /// (scores, softmax, the same mask, product), and about the dropped share is dropped.
    #[test]
    fn dropped_attention_weights_are_dropped_alike_forward_and_backward() {
        let (_turn, device) = autodiff_device(9);
        let (batch, positions, heads, width) = (2, 33, 2, 8);
        let hidden = heads * width;
        let projected = Tensor::<3>::random(
            [batch, positions, 3 * hidden],
            Distribution::Default,
            &device,
        )
        .require_grad();
        let dropout = HashDropout {
            keep: 0.75,
            seed: 17,
        };
        let ours = Tensor::<3>::from_dispatch(<Dispatch as KernelOps>::kernel_attention(
            projected.clone().into_dispatch(),
            heads,
            None,
            dropout,
        ));

        let mut factors = Vec::new();
        for sequence_head in 0..batch * heads {
            for query in 0..positions {
                let mut row = vec![0.0f32; positions];
                dropout.factors(dropout.row_key(sequence_head * positions + query), &mut row);
                factors.extend(row);
            }
        }
        let dropped = factors.iter().filter(|f| **f == 0.0).count() as f64;
        let share = dropped / factors.len() as f64;
        assert!((share - 0.25).abs() < 0.03, "dropped share {share}");
        let factors = Tensor::<4>::from_data(
            TensorData::new(factors, [batch, heads, positions, positions]),
            &device,
        );
        let split = |which: usize| {
            projected
                .clone()
                .narrow(2, which * hidden, hidden)
                .reshape([batch, positions, heads, width])
                .swap_dims(1, 2)
        };
        let scores = split(0).matmul(split(1).transpose()) / (width as f32).sqrt();
        let composed = (softmax(scores, 3) * factors)
            .matmul(split(2))
            .swap_dims(1, 2)
            .reshape([batch, positions, hidden]);
        close(ours.clone().inner(), composed.clone().inner());

        let weights =
            Tensor::<3>::random([batch, positions, hidden], Distribution::Default, &device);
        let gradient = |y: Tensor<3>| {
            let grads = (y * weights.clone()).sum().backward();
            projected.grad(&grads).unwrap()
        };
        close(gradient(ours), gradient(composed));
    }

    /// The residual join (dropout, sum, LayerNorm) equals burn's composition with the same
    /// mask, outputs and the gradients at all four inputs.
    #[test]
    fn residual_join_equals_burn_s_layer_norm_of_the_dropped_sum() {
        let (_turn, device) = autodiff_device(21);
        let (batch, positions, width) = (3, 7, 40);
        let mut norm = LayerNormConfig::new(width)
            .with_epsilon(1e-12)
            .init(&device);
        // Not the initial ones and zeros, so that γ and β matter.
        norm.gamma = norm
            .gamma
            .map(|g| g.random_like(Distribution::Default).require_grad());
        let beta = norm.beta.take().unwrap();
        norm.beta = Some(beta.map(|b| b.random_like(Distribution::Default).require_grad()));
        let residual =
            Tensor::<3>::random([batch, positions, width], Distribution::Default, &device)
                .require_grad();
        let sublayer =
            Tensor::<3>::random([batch, positions, width], Distribution::Default, &device)
                .require_grad();
        let weights =
            Tensor::<3>::random([batch, positions, width], Distribution::Default, &device);
        let dropout_layer = DropoutConfig::new(0.2).init();

        device.seed(4);
        let ours = residual_norm(&norm, &dropout_layer, 1e-12, &residual, &sublayer)
            .expect("the kernel runs here");
        // The same seed, so the same mask, rebuilt from the hash.
        device.seed(4);
        let dropout = hash_dropout(&dropout_layer, &device);
        let mut mask = vec![0.0f32; batch * positions * width];
        for (row, out) in mask.chunks_exact_mut(width).enumerate() {
            dropout.factors(dropout.row_key(row), out);
        }
        assert!(mask.contains(&0.0) && dropout.drops());
        let mask =
            Tensor::<3>::from_data(TensorData::new(mask, [batch, positions, width]), &device);
        let burn_s = norm.forward(residual.clone() + sublayer.clone() * mask);
        close(ours.clone().inner(), burn_s.clone().inner());

        let gradients = |y: Tensor<3>| {
            let grads = (y * weights.clone()).sum().backward();
            (
                residual.grad(&grads).unwrap(),
                sublayer.grad(&grads).unwrap(),
                norm.gamma.grad(&grads).unwrap(),
                norm.beta.as_ref().unwrap().grad(&grads).unwrap(),
            )
        };
        let (ours, burn_s) = (gradients(ours), gradients(burn_s));
        close(ours.0, burn_s.0);
        close(ours.1, burn_s.1);
        close(ours.2.unsqueeze(), burn_s.2.unsqueeze());
        close(ours.3.unsqueeze(), burn_s.3.unsqueeze());
    }
}
