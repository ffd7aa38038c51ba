//! Self-attention's forward and backward passes on the f32 kernel, for training, fused per
//! sequence and head: no `[batch, heads, positions, positions]` tensor outlives a head's turn.
//! The forward pass keeps each query's softmax maximum and normaliser; the backward pass
//! computes the scores again from them (flash-attention's trade: one more `Q·Kᵀ` per head for
//! not keeping the weights). Dropout on the attention weights draws its mask from a hash of
//! the weight's place ([`HashDropout`]), so the backward pass draws the same mask again instead
//! of keeping it.

use rayon::prelude::*;

use crate::model::fast_math::exp;

use super::attention::{Shape, divide_rows, exponentiate};
use super::hash_dropout::HashDropout;
use super::kernel::Kernel;
use super::packing::Packed;

/// Per sequence, head and query (`[batch × heads × positions]` each): the softmax's largest
/// score and the reciprocal of its exponentials' sum, from which the backward pass computes
/// the weights again.
#[derive(Clone, Debug)]
pub struct Softmax {
    /// Each query's largest score.
    pub largest: Vec<f32>,
    /// Each query's softmax normaliser.
    pub inverse_sums: Vec<f32>,
}

/// One head's view of the projection `[positions, 3 × hidden]` of one sequence.
struct Head<'a> {
    sequence: &'a [f32],
    hidden: usize,
    width: usize,
    h: usize,
    positions: usize,
}

impl<'a> Head<'a> {
    /// Head `sequence_head % heads` of sequence `sequence_head / heads` in `projected`.
    fn new(projected: &'a [f32], shape: Shape, sequence_head: usize) -> Self {
        let (b, h) = (sequence_head / shape.heads, sequence_head % shape.heads);
        let hidden = shape.heads * shape.head_width;
        let length = shape.positions * 3 * hidden;
        Self {
            sequence: &projected[b * length..][..length],
            hidden,
            width: shape.head_width,
            h,
            positions: shape.positions,
        }
    }

    /// Row `t` of the query (`which` 0), key (1) or value (2).
    fn part(&self, which: usize, t: usize) -> &[f32] {
        &self.sequence[t * 3 * self.hidden + which * self.hidden + self.h * self.width..]
            [..self.width]
    }

    /// Rows of the queries (`which` 0), keys (1) or values (2), `[positions, width]`.
    fn rows(&self, which: usize) -> Vec<f32> {
        let mut rows = Vec::with_capacity(self.positions * self.width);
        for t in 0..self.positions {
            rows.extend_from_slice(self.part(which, t));
        }
        rows
    }

    /// Unnormalised scores `Q·Kᵀ` with padded keys at the lowest f32, `[positions, positions]`.
    fn scores(&self, kernel: Kernel, padding: Option<&[bool]>) -> Vec<f32> {
        let mask: Vec<f32> = (0..self.positions)
            .map(|t| match padding.is_some_and(|p| p[t]) {
                true => f32::MIN,
                false => 0.0,
            })
            .collect();
        let key = |n: usize| self.part(1, n);
        let keys = kernel.pack_columns::<f32>(self.width, self.positions, key, &mask);
        kernel.multiply_rows(&self.rows(0), &keys, &|_| {})
    }
}

/// The context `[batch, positions, hidden]` (heads side by side) of `projected` (`[batch,
/// positions, 3 × hidden]`: query, key and value side by side), and its softmax statistics;
/// `padding[b × positions + t]` true where position `t` of sequence `b` is never attended to.
pub fn forward(
    kernel: Kernel,
    projected: &[f32],
    shape: Shape,
    padding: Option<&[bool]>,
    dropout: HashDropout,
) -> (Vec<f32>, Softmax) {
    let Shape {
        batch,
        positions,
        heads,
        head_width,
    } = shape;
    let hidden = heads * head_width;
    assert_eq!(
        projected.len(),
        batch * positions * 3 * hidden,
        "attention input"
    );
    let scale = 1.0 / (head_width as f32).sqrt();
    let per_head: Vec<(Vec<f32>, Vec<f32>, Vec<f32>)> = (0..batch * heads)
        .into_par_iter()
        .map(|sequence_head| {
            let b = sequence_head / heads;
            let head = Head::new(projected, shape, sequence_head);
            let padding = padding.map(|p| &p[b * positions..][..positions]);
            let mut weights = head.scores(kernel, padding);
            let mut largest = Vec::with_capacity(positions);
            let mut inverse_sums = Vec::with_capacity(positions);
            kernel.vectorised(
                #[inline(always)]
                || {
                    for (query, row) in weights.chunks_exact_mut(positions).enumerate() {
                        let (top, inverse) = exponentiate(row, scale);
                        largest.push(top);
                        inverse_sums.push(inverse);
                        dropout.apply([row], dropout.row_key(sequence_head * positions + query));
                    }
                },
            );
            let value = |k: usize| head.part(2, k);
            let values = Packed::<f32>::from_rows(positions, head_width, value, &[]);
            let mut context = kernel.multiply_rows(&weights, &values, &|_| {});
            divide_rows(kernel, &mut context, head_width, &inverse_sums);
            (context, largest, inverse_sums)
        })
        .collect();
    let context = gathered(batch * positions, hidden, heads, |row, h| {
        let (b, t) = (row / positions, row % positions);
        &per_head[b * heads + h].0[t * head_width..][..head_width]
    });
    let (largest, inverse_sums) = per_head
        .into_iter()
        .map(|(_, largest, inverse_sums)| (largest, inverse_sums))
        .unzip::<_, _, Vec<_>, Vec<_>>();
    let (largest, inverse_sums) = (largest.concat(), inverse_sums.concat());
    let softmax = Softmax {
        largest,
        inverse_sums,
    };
    (context, softmax)
}

/// The gradient at `projected` (`[batch, positions, 3 × hidden]`) from the gradient at the
/// context, given the forward pass's input, output and softmax statistics.
#[allow(clippy::too_many_arguments)]
pub fn backward(
    kernel: Kernel,
    projected: &[f32],
    context: &[f32],
    softmax: &Softmax,
    context_gradient: &[f32],
    shape: Shape,
    padding: Option<&[bool]>,
    dropout: HashDropout,
) -> Vec<f32> {
    let Shape {
        batch,
        positions,
        heads,
        head_width,
    } = shape;
    let hidden = heads * head_width;
    let scale = 1.0 / (head_width as f32).sqrt();
    let per_head: Vec<[Vec<f32>; 3]> = (0..batch * heads)
        .into_par_iter()
        .map(|sequence_head| {
            let (b, h) = (sequence_head / heads, sequence_head % heads);
            let head = Head::new(projected, shape, sequence_head);
            let head_rows = |m: &[f32]| {
                let mut rows = Vec::with_capacity(positions * head_width);
                for t in 0..positions {
                    rows.extend_from_slice(
                        &m[(b * positions + t) * hidden + h * head_width..][..head_width],
                    );
                }
                rows
            };
            let output_gradient = head_rows(context_gradient);
            let output = head_rows(context);
            let statistics = sequence_head * positions..(sequence_head + 1) * positions;
            let (largest, inverse_sums) = (
                &softmax.largest[statistics.clone()],
                &softmax.inverse_sums[statistics],
            );
            let padding = padding.map(|p| &p[b * positions..][..positions]);

            // The softmax weights P again, and the gradient at the dropped weights dO·Vᵀ.
            let mut weights = head.scores(kernel, padding);
            let value = |n: usize| head.part(2, n);
            let values_transposed = kernel.pack_columns::<f32>(head_width, positions, value, &[]);
            let mut score_gradient =
                kernel.multiply_rows(&output_gradient, &values_transposed, &|_| {});
            // The dropped weights D = P ⊙ mask, for ∂V = Dᵀ·dO.
            let mut dropped = vec![0.0; positions * positions];
            kernel.vectorised(
                #[inline(always)]
                || {
                    for query in 0..positions {
                        let row = &mut weights[query * positions..][..positions];
                        let (top, inverse) = (largest[query], inverse_sums[query]);
                        for w in row.iter_mut() {
                            *w = exp((*w - top) * scale) * inverse;
                        }
                        let dropped_row = &mut dropped[query * positions..][..positions];
                        dropped_row.copy_from_slice(row);
                        // ∂P = mask ⊙ ∂D; softmax: ∂S = P ⊙ (∂P − Σ ∂P ⊙ P), and Σ ∂P ⊙ P = dO · O.
                        let gradient_row = &mut score_gradient[query * positions..][..positions];
                        let row_key = dropout.row_key(sequence_head * positions + query);
                        dropout.apply([dropped_row, &mut *gradient_row], row_key);
                        let centre: f32 = output_gradient[query * head_width..][..head_width]
                            .iter()
                            .zip(&output[query * head_width..][..head_width])
                            .map(|(g, o)| g * o)
                            .sum();
                        for (g, &p) in gradient_row.iter_mut().zip(row.iter()) {
                            *g = p * (*g - centre) * scale;
                        }
                    }
                },
            );
            let gradient_rows = |m: &[f32]| {
                Packed::<f32>::from_rows(
                    positions,
                    head_width,
                    |t| &m[t * head_width..][..head_width],
                    &[],
                )
            };
            let value_gradient =
                kernel.multiply_transposed(&dropped, &gradient_rows(&output_gradient));
            let key = |n: usize| head.part(1, n);
            let keys = Packed::<f32>::from_rows(positions, head_width, key, &[]);
            let query_gradient = kernel.multiply_rows(&score_gradient, &keys, &|_| {});
            let query = |n: usize| head.part(0, n);
            let queries = Packed::<f32>::from_rows(positions, head_width, query, &[]);
            let key_gradient = kernel.multiply_transposed(&score_gradient, &queries);
            [query_gradient, key_gradient, value_gradient]
        })
        .collect();
    // Row pieces in order: every head's query, then key, then value gradient.
    gathered(batch * positions, 3 * hidden, 3 * heads, |row, piece| {
        let (b, t) = (row / positions, row % positions);
        let (which, h) = (piece / heads, piece % heads);
        &per_head[b * heads + h][which][t * head_width..][..head_width]
    })
}

/// A `[rows, width]` matrix whose row `r` is `piece(r, 0)`, …, `piece(r, pieces − 1)` side by
/// side (the heads' parts of it), rows gathered in parallel.
fn gathered<'a>(
    rows: usize,
    width: usize,
    pieces: usize,
    piece: impl Fn(usize, usize) -> &'a [f32] + Sync,
) -> Vec<f32> {
    let mut out = Vec::with_capacity(rows * width);
    out.spare_capacity_mut()[..rows * width]
        .par_chunks_mut(width)
        .enumerate()
        .for_each(|(row, out)| {
            let mut written = 0;
            for i in 0..pieces {
                let values = piece(row, i);
                for (out, &v) in out[written..written + values.len()].iter_mut().zip(values) {
                    out.write(v);
                }
                written += values.len();
            }
            assert_eq!(written, width, "a row's pieces fill it");
        });
    // SAFETY: every row was written whole (asserted above).
    unsafe { out.set_len(rows * width) };
    out
}
