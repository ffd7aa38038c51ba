//! The kernel as an operation of burn's CPU backend (a backend extension), with its own
//! backward pass under autodiff: training's linear layers run their three products per step on
//! [`super::linear_training`] instead of burn's matmul, bias and GELU passes.

use std::sync::OnceLock;

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Dispatch, Flex, TensorMetadata, backend_extension};
use burn::nn::Linear;
use burn::tensor::{DType, Shape, Tensor, TensorData};

use super::kernel::Kernel;
use super::linear_training::{self, Forward};
use crate::device::is_cpu;

/// Operations of our own on burn's backends.
#[backend_extension(Flex, Autodiff)]
pub trait KernelOps: Backend {
    /// `x W + b` over `x`'s last axis (`weight` `[depth, width]`, `bias` `[width]`), then exact
    /// GELU where `gelu` is set.
    fn kernel_linear(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        gelu: bool,
    ) -> FloatTensor<Self>;
}

/// The f32 kernel, if this CPU runs it (asked once).
fn f32_kernel() -> Option<Kernel> {
    static KERNEL: OnceLock<Option<Kernel>> = OnceLock::new();
    *KERNEL.get_or_init(|| Kernel::detect().filter(|k| k.supports::<f32>()))
}

/// `layer`'s output for `x` (then exact GELU where `gelu` is set) on the kernel where it
/// applies (f32 on the CPU, with or without autodiff, on a CPU with AVX-512 F); `None` where
/// it does not, for the caller's own path.
pub fn linear(layer: &Linear, x: &Tensor<3>, gelu: bool) -> Option<Tensor<3>> {
    let bias = layer.bias.as_ref()?;
    f32_kernel()?;
    if !is_cpu(&x.device()) || x.dtype() != DType::F32 || layer.weight.val().dtype() != DType::F32 {
        return None;
    }
    let y = <Dispatch as KernelOps>::kernel_linear(
        x.clone().into_dispatch(),
        layer.weight.val().into_dispatch(),
        bias.val().into_dispatch(),
        gelu,
    );
    Some(Tensor::from_dispatch(y))
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

/// A tensor of `shape` holding `values`.
fn tensor(values: Vec<f32>, shape: Shape) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape))
}

/// The kernel, which [`linear`] made sure of before routing here.
fn kernel() -> Kernel {
    f32_kernel().expect("kernel operations are routed here only where the kernel runs")
}

/// The forward pass on Flex tensors; the output's shape is `x`'s with the last axis `width`.
fn forward(x: &FlexTensor, weight: &FlexTensor, bias: &FlexTensor, gelu: bool) -> (Forward, Shape) {
    let mut shape = x.shape();
    let last = shape.num_dims() - 1;
    shape[last] = bias.shape()[0];
    let forward =
        linear_training::forward(kernel(), &values(x), &values(weight), &values(bias), gelu);
    (forward, shape)
}

impl KernelOps for Flex {
    fn kernel_linear(
        x: FlexTensor,
        weight: FlexTensor,
        bias: FlexTensor,
        gelu: bool,
    ) -> FlexTensor {
        let (forward, shape) = forward(&x, &weight, &bias, gelu);
        tensor(forward.output, shape)
    }
}

/// What a linear layer's backward pass keeps from its forward pass.
#[derive(Clone, Debug)]
struct LinearState {
    x: FlexTensor,
    weight: FlexTensor,
    /// `x W + b` where GELU followed.
    before_gelu: Option<FlexTensor>,
}

#[derive(Debug)]
struct LinearBackward;

impl Backward<Flex, 3> for LinearBackward {
    type State = LinearState;

    fn backward(self, ops: Ops<LinearState, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [x_node, weight_node, bias_node] = ops.parents;
        let output_gradient = grads.consume::<Flex>(&ops.node);
        let LinearState {
            x,
            weight,
            before_gelu,
        } = ops.state;
        let kernel = kernel();
        let width = weight.shape()[1];
        let mut gradient = values(&output_gradient).into_owned();
        if let Some(before) = &before_gelu {
            linear_training::through_gelu(kernel, &mut gradient, &values(before));
        }
        if let Some(node) = bias_node {
            let bias = linear_training::bias_gradient(&gradient, width);
            grads.register::<Flex>(node.id, tensor(bias, Shape::new([width])));
        }
        if let Some(node) = weight_node {
            let w = linear_training::weight_gradient(kernel, &values(&x), &gradient, width);
            grads.register::<Flex>(node.id, tensor(w, weight.shape()));
        }
        if let Some(node) = x_node {
            let input = linear_training::input_gradient(kernel, &gradient, &values(&weight), width);
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
        let (forward, shape) = forward(&x, &weight, &bias, gelu);
        let output = tensor(forward.output, shape.clone());
        match prepared {
            OpsKind::Tracked(prep) => {
                let before_gelu = forward.before_gelu.map(|v| tensor(v, shape));
                let state = LinearState {
                    x,
                    weight,
                    before_gelu,
                };
                prep.finish(state, output)
            }
            OpsKind::UnTracked(prep) => prep.finish(output),
        }
    }
}

#[cfg(test)]
mod tests {
    use burn::nn::LinearConfig;
    use burn::tensor::activation::gelu;
    use burn::tensor::{Device, Distribution};

    use super::*;

    fn close(got: Tensor<3>, want: Tensor<3>) {
        let (got, want) = (got.into_data(), want.into_data());
        got.assert_approx_eq::<f32>(&want, burn::tensor::Tolerance::absolute(1e-4));
    }

    /// The kernel's outputs and gradients (input, weight, bias) equal burn's own layers'.
    #[test]
    fn forward_and_backward_equal_burn_s_linear_layer() {
        if f32_kernel().is_none() {
            eprintln!("skipped: this CPU has no AVX-512 F");
            return;
        }
        let device = Device::flex().autodiff();
        device.seed(3);
        let layer = LinearConfig::new(19, 70).init(&device);
        for gelu_after in [false, true] {
            let x = Tensor::<3>::random([3, 13, 19], Distribution::Default, &device).require_grad();
            let weights = Tensor::<3>::random([3, 13, 70], Distribution::Default, &device);
            let ours = linear(&layer, &x, gelu_after).expect("the kernel runs here");
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
}
