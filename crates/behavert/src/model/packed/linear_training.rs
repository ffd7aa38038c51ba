//! A linear layer's forward and backward passes on the kernel, for training: the weights
//! change every step, so they are packed at each call (a pass over `depth × width` values
//! against the product's `rows × depth × width` multiply-adds). burn's autodiff runs the same
//! three products per layer on the `gemm` crate, and bias and GELU as passes of their own.
//!
//! In [`Precision::Bf16`] (mixed precision) the three products take bf16-rounded operands
//! and sum in f32, as the bf16 inference path does; parameters, their gradients, the
//! optimizer and everything between the products stay f32.

use rayon::prelude::*;

use super::hash_dropout::HashDropout;
use super::kernel::Kernel;
use super::packing::{PANEL, Packed};
use crate::model::gelu::{gelu, gelu_slope};
use crate::model::precision::Precision;

/// Rows per parallel task of the element-wise passes.
const ROWS_PER_TASK: usize = 16;

/// A forward pass's output, and what its backward pass needs besides the input.
pub struct Forward {
    /// `dropout(activation(x W + b))`, `[rows, width]`.
    pub output: Vec<f32>,
    /// `x W + b` before GELU; `None` without one.
    pub before_gelu: Option<Vec<f32>>,
}

/// `x W + b` (`x` `[rows, depth]`, `weight` `[depth, width]`, `bias` `[width]`) in
/// `precision`, then exact GELU where `gelu_after` is set, then `dropout` (its mask row by row
/// of the output).
pub fn forward(
    kernel: Kernel,
    x: &[f32],
    weight: &[f32],
    bias: &[f32],
    gelu_after: bool,
    dropout: HashDropout,
    precision: Precision,
) -> Forward {
    let (depth, width) = (weight.len() / bias.len(), bias.len());
    let row = |k: usize| &weight[k * width..][..width];
    let product = match precision {
        Precision::F32 => kernel.multiply(x, &Packed::from_rows(depth, width, row, bias), &|_| {}),
        Precision::Bf16 => {
            let packed = Packed::<u32>::from_rows(depth, width, row, bias);
            kernel.multiply(&kernel.to_operands(x, depth), &packed, &|_| {})
        }
    };
    if !gelu_after && !dropout.drops() {
        return Forward {
            output: product,
            before_gelu: None,
        };
    }
    let mut output = Vec::with_capacity(product.len());
    output.spare_capacity_mut()[..product.len()]
        .par_chunks_mut(ROWS_PER_TASK * width)
        .zip(product.par_chunks(ROWS_PER_TASK * width))
        .enumerate()
        .for_each(|(task, (out, product))| {
            let mut factors = vec![0.0; width];
            kernel.vectorised(
                #[inline(always)]
                || {
                    for (r, (out, product)) in out
                        .chunks_exact_mut(width)
                        .zip(product.chunks_exact(width))
                        .enumerate()
                    {
                        dropout.factors(dropout.row_key(task * ROWS_PER_TASK + r), &mut factors);
                        for ((out, &v), &f) in out.iter_mut().zip(product).zip(&factors) {
                            let activated = if gelu_after { gelu(v) } else { v };
                            out.write(activated * f);
                        }
                    }
                },
            )
        });
    // SAFETY: every element was written above.
    unsafe { output.set_len(product.len()) };
    Forward {
        output,
        before_gelu: gelu_after.then_some(product),
    }
}

/// The gradient at `x W + b` (`[rows, width]`) from the gradient at the output, in place:
/// through the dropout mask, and GELU's slope where the forward pass had one (`before_gelu`).
pub fn through_activation(
    kernel: Kernel,
    gradient: &mut [f32],
    width: usize,
    before_gelu: Option<&[f32]>,
    dropout: HashDropout,
) {
    gradient
        .par_chunks_mut(ROWS_PER_TASK * width)
        .enumerate()
        .for_each(|(task, gradient)| {
            let mut factors = vec![0.0; width];
            kernel.vectorised(
                #[inline(always)]
                || {
                    for (r, gradient) in gradient.chunks_exact_mut(width).enumerate() {
                        let row = task * ROWS_PER_TASK + r;
                        dropout.factors(dropout.row_key(row), &mut factors);
                        match before_gelu {
                            Some(before) => {
                                let before = &before[row * width..][..width];
                                for ((g, &v), &f) in gradient.iter_mut().zip(before).zip(&factors) {
                                    *g *= gelu_slope(v) * f;
                                }
                            }
                            None => gradient.iter_mut().zip(&factors).for_each(|(g, f)| *g *= f),
                        }
                    }
                },
            )
        });
}

/// `∂L/∂x = ∂L/∂y · Wᵀ`, `[rows, depth]`, for `gradient` `[rows, width]`, in `precision`.
pub fn input_gradient(
    kernel: Kernel,
    gradient: &[f32],
    weight: &[f32],
    width: usize,
    precision: Precision,
) -> Vec<f32> {
    let depth = weight.len() / width;
    // Wᵀ's column k is W's row k.
    let column = |k: usize| &weight[k * width..][..width];
    match precision {
        Precision::F32 => {
            let transposed = kernel.pack_columns::<f32>(width, depth, column, &[]);
            kernel.multiply(gradient, &transposed, &|_| {})
        }
        Precision::Bf16 => {
            let transposed = kernel.pack_columns::<u32>(width, depth, column, &[]);
            kernel.multiply(&kernel.to_operands(gradient, width), &transposed, &|_| {})
        }
    }
}

/// `∂L/∂W = xᵀ · ∂L/∂y` (`[depth, width]`) for `x` `[rows, depth]`, in `precision`, and
/// `∂L/∂b`, the gradient's column sums (`[width]`, f32 either way: the same in both).
pub fn weight_and_bias_gradients(
    kernel: Kernel,
    x: &[f32],
    gradient: &[f32],
    width: usize,
    precision: Precision,
) -> (Vec<f32>, Vec<f32>) {
    let rows = gradient.len() / width;
    let row = |r: usize| &gradient[r * width..][..width];
    match precision {
        // The sums are taken while the gradient is packed for the product.
        Precision::F32 => {
            let (packed, sums) = Packed::<f32>::from_rows_with_sums(rows, width, row);
            (kernel.multiply_transposed(x, &packed), sums)
        }
        Precision::Bf16 => {
            let depth = x.len() / rows.max(1);
            let (transposed, steps) = kernel.to_transposed_pairs(x, depth);
            // The rows past the gradient's pair with the zeros past `x`'s.
            let no_row = vec![0.0; width];
            let padded_row = |r: usize| if r < rows { row(r) } else { &no_row[..] };
            let packed = Packed::<u32>::from_rows(2 * steps, width, padded_row, &[]);
            let product = kernel.multiply(&transposed, &packed, &|_| {});
            (product, column_sums(gradient, width))
        }
    }
}

/// The column sums of `m` (`[rows, width]`), each adding its rows in order as
/// [`Packed::from_rows_with_sums`] does: bit for bit the same, whatever the threads' timing.
fn column_sums(m: &[f32], width: usize) -> Vec<f32> {
    let sums: Vec<Vec<f32>> = (0..width.div_ceil(PANEL))
        .into_par_iter()
        .map(|panel| {
            let columns = panel * PANEL..width.min((panel + 1) * PANEL);
            let mut sums = vec![0.0; columns.len()];
            for row in m.chunks_exact(width) {
                sums.iter_mut()
                    .zip(&row[columns.clone()])
                    .for_each(|(s, v)| *s += v);
            }
            sums
        })
        .collect();
    sums.concat()
}

/// The sum of `parts` (each `width` long), added in their order: a parallel reduction's tree
/// follows the threads' timing, and a run must repeat bit for bit (resuming after a kill).
pub fn sum_in_order(parts: Vec<Vec<f32>>, width: usize) -> Vec<f32> {
    parts.into_iter().fold(vec![0.0; width], |mut total, part| {
        total.iter_mut().zip(&part).for_each(|(t, p)| *t += p);
        total
    })
}

#[cfg(test)]
mod tests {
    use super::super::packing::to_bf16;
    use super::*;

    /// `a` `[rows, depth]` times `b` `[depth, width]` in f64.
    fn product(a: &[f32], b: &[f32], rows: usize, depth: usize, width: usize) -> Vec<f64> {
        let mut c = vec![0.0; rows * width];
        for r in 0..rows {
            for k in 0..depth {
                for n in 0..width {
                    c[r * width + n] += f64::from(a[r * depth + k]) * f64::from(b[k * width + n]);
                }
            }
        }
        c
    }

    /// `m` `[rows, columns]` transposed.
    fn transpose(m: &[f32], rows: usize, columns: usize) -> Vec<f32> {
        let mut out = vec![0.0; m.len()];
        for r in 0..rows {
            for c in 0..columns {
                out[c * rows + r] = m[r * columns + c];
            }
        }
        out
    }

    fn values(count: usize, seed: u32) -> Vec<f32> {
        (0..count as u32)
            .map(|i| ((i.wrapping_mul(2_654_435_761) ^ seed) % 2001) as f32 / 1000.0 - 1.0)
            .collect()
    }

    fn assert_close(got: &[f32], want: &[f64]) {
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(want) {
            assert!(
                (f64::from(*g) - w).abs() < 1e-4 * (1.0 + w.abs()),
                "{g} against {w}"
            );
        }
    }

    /// `values` as `precision` multiplies them: bf16-rounded for bf16.
    fn held(values: &[f32], precision: Precision) -> Vec<f32> {
        match precision {
            Precision::F32 => values.to_vec(),
            Precision::Bf16 => values
                .iter()
                .map(|&v| f32::from_bits(u32::from(to_bf16(v)) << 16))
                .collect(),
        }
    }

    #[test]
    fn the_three_products_and_the_bias_sum_equal_their_definitions() {
        let kernel = Kernel::detect();
        // Sizes off every tile, panel and pair boundary, then whole AMX blocks and edges.
        for (rows, depth, width) in [(37, 19, 70), (101, 64, 130)] {
            for kernel in kernel.with_portable() {
                products_equal_their_definitions(kernel, rows, depth, width);
            }
        }
    }

    fn products_equal_their_definitions(kernel: Kernel, rows: usize, depth: usize, width: usize) {
        let x = values(rows * depth, 1);
        let weight = values(depth * width, 2);
        let bias = values(width, 3);
        let gradient = values(rows * width, 4);
        let dropout = HashDropout { keep: 0.8, seed: 5 };
        let mut mask = vec![0.0; rows * width];
        for (r, out) in mask.chunks_exact_mut(width).enumerate() {
            dropout.factors(dropout.row_key(r), out);
        }
        assert!(mask.contains(&0.0));
        let precisions = [Precision::F32, Precision::Bf16];
        for precision in precisions.into_iter().filter(|p| match p {
            Precision::F32 => true,
            Precision::Bf16 => kernel.supports::<u32>(),
        }) {
            let (x_held, weight_held) = (held(&x, precision), held(&weight, precision));
            let gradient_held = held(&gradient, precision);

            let forward = forward(kernel, &x, &weight, &bias, true, dropout, precision);
            let before = product(&x_held, &weight_held, rows, depth, width);
            let before: Vec<f64> = before
                .iter()
                .enumerate()
                .map(|(i, v)| v + f64::from(bias[i % width]))
                .collect();
            assert_close(forward.before_gelu.as_ref().unwrap(), &before);
            let after: Vec<f64> = before
                .iter()
                .zip(&mask)
                .map(|(&v, &m)| f64::from(gelu(v as f32)) * f64::from(m))
                .collect();
            assert_close(&forward.output, &after);

            let transposed_weight = transpose(&weight_held, depth, width);
            assert_close(
                &input_gradient(kernel, &gradient, &weight, width, precision),
                &product(&gradient_held, &transposed_weight, rows, width, depth),
            );
            let (weight_gradient, bias_gradient) =
                weight_and_bias_gradients(kernel, &x, &gradient, width, precision);
            assert_close(
                &weight_gradient,
                &product(
                    &transpose(&x_held, rows, depth),
                    &gradient_held,
                    depth,
                    rows,
                    width,
                ),
            );
            // The bias gradient is f32 in both, added in the same order.
            let sums: Vec<f32> = (0..width)
                .map(|n| (0..rows).map(|r| gradient[r * width + n]).sum())
                .collect();
            assert_eq!(bias_gradient, sums, "{precision}");

            let mut through = gradient.clone();
            let before_gelu = forward.before_gelu.as_deref();
            through_activation(kernel, &mut through, width, before_gelu, dropout);
            for (((t, g), b), m) in through
                .iter()
                .zip(&gradient)
                .zip(before_gelu.unwrap())
                .zip(&mask)
            {
                assert!((t - g * gelu_slope(*b) * m).abs() < 1e-6);
            }
        }
    }
}
