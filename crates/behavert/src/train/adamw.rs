//! AdamW in one pass over each parameter on the CPU. burn's AdamW composes about fourteen tensor
//! operations per parameter, each a pass over it and a new allocation: a sixth of a `base`
//! training step. Same state as burn's (`AdamWState`, so a run's checkpoints resume either
//! way) and the same arithmetic; elsewhere (another device, non-f32 tensors) burn's own.

use burn::optim::{AdamWConfig, AdamWState, AdaptiveMomentumState, LearningRate, Optimizer};
use burn::tensor::{DType, Device, Tensor, TensorData};
use rayon::prelude::*;

use crate::device::is_cpu;

/// Values per parallel task.
const VALUES_PER_TASK: usize = 64 * 1024;

/// AdamW with decoupled weight decay (Loshchilov & Hutter), as burn's `AdamW`.
#[derive(Clone)]
pub struct AdamW {
    beta_1: f32,
    beta_2: f32,
    epsilon: f32,
    weight_decay: f32,
    /// burn's, where the fused pass does not apply.
    burn_s: burn::optim::AdamW,
}

impl AdamW {
    /// AdamW with these moments' decays, ε and weight decay.
    pub fn new(beta_1: f32, beta_2: f32, epsilon: f32, weight_decay: f32) -> Self {
        let burn_s = AdamWConfig::new()
            .with_beta_1(beta_1)
            .with_beta_2(beta_2)
            .with_epsilon(epsilon)
            .with_weight_decay(weight_decay)
            .build();
        Self {
            beta_1,
            beta_2,
            epsilon,
            weight_decay,
            burn_s,
        }
    }
}

impl Optimizer for AdamW {
    type State<const D: usize> = AdamWState<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        let device = tensor.device();
        let amsgrad = state
            .as_ref()
            .is_some_and(|s| s.momentum.max_moment_2.is_some());
        if !is_cpu(&device) || tensor.dtype() != DType::F32 || grad.dtype() != DType::F32 || amsgrad
        {
            return self.burn_s.step(lr, tensor, grad, state);
        }
        let shape = tensor.shape();
        let (time, moments) = match state {
            Some(state) => (
                state.momentum.time + 1,
                Some((state.momentum.moment_1, state.momentum.moment_2)),
            ),
            None => (1, None),
        };
        let f32_values = |t: Tensor<D>| {
            t.into_data()
                .convert::<f32>()
                .try_into_vec::<f32>()
                .expect("f32 after convert")
        };
        let mut parameter = f32_values(tensor);
        let gradient = f32_values(grad);
        let (mut first, mut second) = match moments {
            Some((first, second)) => (f32_values(first), f32_values(second)),
            None => (vec![0.0; parameter.len()], vec![0.0; parameter.len()]),
        };
        let (beta_1, beta_2) = (self.beta_1, self.beta_2);
        let correction_1 = 1.0 - beta_1.powi(time as i32);
        let correction_2 = 1.0 - beta_2.powi(time as i32);
        let decay = (1.0 - lr * f64::from(self.weight_decay)) as f32;
        let lr = lr as f32;
        let epsilon = self.epsilon;
        parameter
            .par_chunks_mut(VALUES_PER_TASK)
            .zip(gradient.par_chunks(VALUES_PER_TASK))
            .zip(first.par_chunks_mut(VALUES_PER_TASK))
            .zip(second.par_chunks_mut(VALUES_PER_TASK))
            .for_each(|(((parameter, gradient), first), second)| {
                for (((p, &g), m), v) in parameter.iter_mut().zip(gradient).zip(first).zip(second) {
                    *m = *m * beta_1 + g * (1.0 - beta_1);
                    *v = *v * beta_2 + g * g * (1.0 - beta_2);
                    let step = (*m / correction_1) / ((*v / correction_2).sqrt() + epsilon);
                    *p = *p * decay - step * lr;
                }
            });
        let tensor =
            |values: Vec<f32>| Tensor::from_data(TensorData::new(values, shape.clone()), &device);
        let momentum = AdaptiveMomentumState::new(time, tensor(first), tensor(second));
        (tensor(parameter), Some(AdamWState::new(momentum)))
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        burn::optim::AdamW::to_device(state, device)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Distribution, Tolerance};

    /// Five steps of ours and of burn's from the same start give the same parameters and
    /// moments.
    #[test]
    fn steps_equal_burn_s_adamw() {
        let _turn = crate::device::generator_turn();
        let device = Device::flex();
        device.seed(1);
        let ours = AdamW::new(0.9, 0.98, 1e-6, 0.01);
        let burn_s = AdamWConfig::new()
            .with_beta_1(0.9)
            .with_beta_2(0.98)
            .with_epsilon(1e-6)
            .with_weight_decay(0.01)
            .build();
        let start = Tensor::<2>::random([70, 300], Distribution::Default, &device);
        let (mut mine, mut theirs) = ((start.clone(), None), (start, None));
        for _ in 0..5 {
            let grad = Tensor::<2>::random([70, 300], Distribution::Default, &device);
            mine = ours.step(1e-3, mine.0, grad.clone(), mine.1);
            theirs = burn_s.step(1e-3, theirs.0, grad, theirs.1);
        }
        let tolerance = Tolerance::<f32>::absolute(1e-6);
        mine.0
            .into_data()
            .assert_approx_eq(&theirs.0.into_data(), tolerance);
        let (mine, theirs) = (mine.1.unwrap().momentum, theirs.1.unwrap().momentum);
        assert_eq!(mine.time, theirs.time);
        (mine.moment_1.into_data()).assert_approx_eq(&theirs.moment_1.into_data(), tolerance);
        (mine.moment_2.into_data()).assert_approx_eq(&theirs.moment_2.into_data(), tolerance);
    }
}
