//! A post-LN layer's join for training, in one pass each way: `LayerNorm(residual +
//! dropout(sublayer)) · γ + β` per row. burn's autodiff composes the same from a mask tensor,
//! a multiply, an add and LayerNorm's nine operations, each a pass over the activations with
//! its own saved tensor.

use rayon::prelude::*;

use super::hash_dropout::HashDropout;
use super::kernel::Kernel;
use super::linear_training::sum_in_order;

/// Rows per parallel task.
const ROWS_PER_TASK: usize = 32;

/// A forward pass's output and what its backward pass needs.
pub struct Forward {
    /// The layer's output `[rows, width]`.
    pub output: Vec<f32>,
    /// The normalised sums `(z − mean) / deviation`, `[rows, width]`.
    pub normalized: Vec<f32>,
    /// Each row's `1 / √(variance + ε)`.
    pub inverse_deviations: Vec<f32>,
}

/// The gradients at the join's four inputs.
pub struct Backward {
    /// At the residual: the gradient at the sum.
    pub residual: Vec<f32>,
    /// At the sublayer: the sum's gradient through the dropout mask.
    pub sublayer: Vec<f32>,
    /// At γ.
    pub gamma: Vec<f32>,
    /// At β.
    pub beta: Vec<f32>,
}

/// The forward pass over rows of `gamma.len()` values.
pub fn forward(
    kernel: Kernel,
    residual: &[f32],
    sublayer: &[f32],
    gamma: &[f32],
    beta: &[f32],
    epsilon: f32,
    dropout: HashDropout,
) -> Forward {
    let width = gamma.len();
    let rows = residual.len() / width;
    let mut output = vec![0.0; residual.len()];
    let mut normalized = vec![0.0; residual.len()];
    let mut inverse_deviations = vec![0.0; rows];
    let task = ROWS_PER_TASK * width;
    output
        .par_chunks_mut(task)
        .zip(normalized.par_chunks_mut(task))
        .zip(inverse_deviations.par_chunks_mut(ROWS_PER_TASK))
        .enumerate()
        .for_each(|(chunk, ((output, normalized), inverse_deviations))| {
            let first = chunk * ROWS_PER_TASK;
            let mut factors = vec![0.0; width];
            kernel.vectorised(
                #[inline(always)]
                || {
                    for (r, ((out, norm), inverse)) in output
                        .chunks_exact_mut(width)
                        .zip(normalized.chunks_exact_mut(width))
                        .zip(inverse_deviations.iter_mut())
                        .enumerate()
                    {
                        let row = first + r;
                        dropout.factors(dropout.row_key(row), &mut factors);
                        let residual = &residual[row * width..][..width];
                        let sublayer = &sublayer[row * width..][..width];
                        for (((n, &x), &s), &f) in
                            norm.iter_mut().zip(residual).zip(sublayer).zip(&factors)
                        {
                            *n = x + s * f;
                        }
                        let mean = lane_sum(norm, |v| v) / width as f32;
                        norm.iter_mut().for_each(|n| *n -= mean);
                        let variance = lane_sum(norm, |v| v * v) / width as f32;
                        *inverse = 1.0 / (variance + epsilon).sqrt();
                        for (((o, n), &g), &b) in
                            out.iter_mut().zip(norm.iter_mut()).zip(gamma).zip(beta)
                        {
                            *n *= *inverse;
                            *o = *n * g + b;
                        }
                    }
                },
            )
        });
    Forward {
        output,
        normalized,
        inverse_deviations,
    }
}

/// The backward pass: gradients at the residual, the sublayer, γ and β from the gradient at
/// the output.
pub fn backward(
    kernel: Kernel,
    output_gradient: &[f32],
    normalized: &[f32],
    inverse_deviations: &[f32],
    gamma: &[f32],
    dropout: HashDropout,
) -> Backward {
    let width = gamma.len();
    let mut residual = vec![0.0; output_gradient.len()];
    let mut sublayer = vec![0.0; output_gradient.len()];
    let task = ROWS_PER_TASK * width;
    let (gamma_parts, beta_parts): (Vec<_>, Vec<_>) = residual
        .par_chunks_mut(task)
        .zip(sublayer.par_chunks_mut(task))
        .enumerate()
        .map(|(chunk, (residual, sublayer))| {
            let first = chunk * ROWS_PER_TASK;
            let (mut gamma_sum, mut beta_sum) = (vec![0.0f32; width], vec![0.0f32; width]);
            let mut factors = vec![0.0; width];
            let mut scaled = vec![0.0; width];
            kernel.vectorised(
                #[inline(always)]
                || {
                    for (r, (residual, sublayer)) in residual
                        .chunks_exact_mut(width)
                        .zip(sublayer.chunks_exact_mut(width))
                        .enumerate()
                    {
                        let row = first + r;
                        let gradient = &output_gradient[row * width..][..width];
                        let norm = &normalized[row * width..][..width];
                        for ((((s, gs), bs), (&g, &n)), &gamma) in scaled
                            .iter_mut()
                            .zip(gamma_sum.iter_mut())
                            .zip(beta_sum.iter_mut())
                            .zip(gradient.iter().zip(norm))
                            .zip(gamma)
                        {
                            *gs += g * n;
                            *bs += g;
                            *s = g * gamma;
                        }
                        // ∂z = (∂n − mean(∂n) − n · mean(∂n ⊙ n)) / deviation, ∂n = ∂y ⊙ γ.
                        let mean = lane_sum(&scaled, |v| v) / width as f32;
                        let along: f32 = lane_sum_of_products(&scaled, norm) / width as f32;
                        let inverse = inverse_deviations[row];
                        dropout.factors(dropout.row_key(row), &mut factors);
                        for ((((res, sub), &s), &n), &f) in residual
                            .iter_mut()
                            .zip(sublayer.iter_mut())
                            .zip(&scaled)
                            .zip(norm)
                            .zip(&factors)
                        {
                            let z = (s - mean - n * along) * inverse;
                            *res = z;
                            *sub = z * f;
                        }
                    }
                },
            );
            (gamma_sum, beta_sum)
        })
        .unzip();
    // Added in order, not by a parallel reduction: a run repeats bit for bit.
    let gamma_gradient = sum_in_order(gamma_parts, width);
    let beta_gradient = sum_in_order(beta_parts, width);
    Backward {
        residual,
        sublayer,
        gamma: gamma_gradient,
        beta: beta_gradient,
    }
}

/// Σ `f(v)` over `values`, in 16 lanes (a single running total would not vectorise).
#[inline(always)]
fn lane_sum(values: &[f32], f: impl Fn(f32) -> f32) -> f32 {
    let mut lanes = [0.0f32; 16];
    for chunk in values.chunks(16) {
        lanes.iter_mut().zip(chunk).for_each(|(l, &v)| *l += f(v));
    }
    lanes.iter().sum()
}

/// Σ `a ⊙ b`, in 16 lanes.
#[inline(always)]
fn lane_sum_of_products(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 16];
    for (a, b) in a.chunks(16).zip(b.chunks(16)) {
        lanes
            .iter_mut()
            .zip(a.iter().zip(b))
            .for_each(|(l, (&a, &b))| *l += a * b);
    }
    lanes.iter().sum()
}
