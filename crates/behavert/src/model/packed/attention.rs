//! Self-attention on the packed kernel (f32 or bf16 operands), straight from the
//! query/key/value projection `[batch, positions, 3 × hidden]` (no reshaping into heads): per
//! sequence and head, scores `Q·Kᵀ` (f32 sums), softmax's exponentials in f32, then
//! `weights·V` and softmax's division last. Sequences and heads are spread over the cores.

use rayon::prelude::*;

use super::super::fast_math::exp;
use super::kernel::Kernel;
use super::operand::Operand;
use super::packing::Packed;

/// What one attention call needs to know about its input.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    /// Sequences in the batch.
    pub batch: usize,
    /// Positions per sequence.
    pub positions: usize,
    /// Attention heads.
    pub heads: usize,
    /// Width of one head.
    pub head_width: usize,
}

/// The context `[batch, positions, hidden]` of `projected` (`[batch, positions, 3 × hidden]`,
/// query, key and value side by side); `padding[b × positions + t]` is true where position `t`
/// of sequence `b` must not be attended to.
pub fn attention<E: Operand>(
    kernel: Kernel,
    projected: &[f32],
    shape: Shape,
    padding: Option<&[bool]>,
) -> Vec<f32> {
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
    let per_head: Vec<Vec<f32>> = (0..batch * heads)
        .into_par_iter()
        .map(|sequence_head| {
            let (b, h) = (sequence_head / heads, sequence_head % heads);
            let sequence = &projected[b * positions * 3 * hidden..][..positions * 3 * hidden];
            let padding = padding.map(|p| &p[b * positions..][..positions]);
            head::<E>(kernel, sequence, shape, h, padding)
        })
        .collect();
    let mut context = vec![0.0; batch * positions * hidden];
    for (sequence_head, out) in per_head.iter().enumerate() {
        let (b, h) = (sequence_head / heads, sequence_head % heads);
        for (t, row) in out.chunks_exact(head_width).enumerate() {
            context[(b * positions + t) * hidden + h * head_width..][..head_width]
                .copy_from_slice(row);
        }
    }
    context
}

/// Head `h` of one sequence: `[positions, head_width]`.
fn head<E: Operand>(
    kernel: Kernel,
    sequence: &[f32],
    shape: Shape,
    h: usize,
    padding: Option<&[bool]>,
) -> Vec<f32> {
    let (positions, width) = (shape.positions, shape.head_width);
    let hidden = shape.heads * width;
    let part =
        |which: usize, t: usize| &sequence[t * 3 * hidden + which * hidden + h * width..][..width];

    let query = kernel.rows_to_operands::<E>((0..positions).map(|t| part(0, t)), width);
    // Keys (and so the scores' columns and the values' rows) run to a width the kernel takes
    // whole; the extra keys are padding, like the masked ones.
    let keys_width = kernel.whole_columns::<E>(positions);
    // Padding enters as a bias of the lowest f32 on its columns: its weight comes out 0.
    let mask: Vec<f32> = (0..keys_width)
        .map(|t| {
            let masked = t >= positions || padding.is_some_and(|p| p[t]);
            if masked { f32::MIN } else { 0.0 }
        })
        .collect();
    let no_key = vec![0.0; width];
    let key = |n: usize| if n < positions { part(1, n) } else { &no_key };
    let keys = kernel.pack_columns::<E>(width, keys_width, key, &mask);
    let scale = 1.0 / (width as f32).sqrt();
    let mut scores = kernel.multiply_rows(&query, &keys, &|_| {});

    // A plain loop: an iterator's `collect` may not inline into the vectorised closure.
    let mut inverse_sums = Vec::with_capacity(positions);
    kernel.vectorised(
        #[inline(always)]
        || {
            for row in scores.chunks_exact_mut(keys_width) {
                inverse_sums.push(exponentiate(row, scale).1);
            }
        },
    );
    let weights = kernel.rows_to_operands::<E>(scores.chunks_exact(keys_width), keys_width);
    let value = |k: usize| if k < positions { part(2, k) } else { &no_key };
    let values = Packed::<E>::from_rows(keys_width, width, value, &[]);
    let mut context = kernel.multiply_rows(&weights, &values, &|_| {});
    divide_rows(kernel, &mut context, width, &inverse_sums);
    context
}

/// Softmax's division, on a head's width of context values per query (`inverse_sums` from
/// [`exponentiate`]) instead of on every key's weight.
pub(super) fn divide_rows(kernel: Kernel, context: &mut [f32], width: usize, inverse_sums: &[f32]) {
    kernel.vectorised(
        #[inline(always)]
        || {
            for (row, &inverse) in context.chunks_exact_mut(width).zip(inverse_sums) {
                row.iter_mut().for_each(|v| *v *= inverse);
            }
        },
    );
}

/// Softmax of `scale × row` but for its division: `exp(scale × (v − max))` in place; the
/// maximum and the reciprocal of the exponentials' sum returned. The maximum and the sum run in
/// 16 lanes: a single running total is a chain of dependent additions the compiler may not
/// reorder into vectors.
#[inline(always)]
pub(super) fn exponentiate(row: &mut [f32], scale: f32) -> (f32, f32) {
    // Whole chunks of sixteen, so the loops below compile to one vector per chunk; the tail
    // (fewer than sixteen) runs the same steps lane by lane.
    let mut lanes = [f32::MIN; 16];
    let mut chunks = row.chunks_exact(16);
    for chunk in &mut chunks {
        lanes
            .iter_mut()
            .zip(chunk)
            .for_each(|(l, &v)| *l = l.max(v));
    }
    let tail_largest = chunks.remainder().iter().fold(f32::MIN, |m, &v| m.max(v));
    let largest = lanes.iter().fold(tail_largest, |m, &l| m.max(l));
    let mut sums = [0.0f32; 16];
    let mut chunks = row.chunks_exact_mut(16);
    for chunk in &mut chunks {
        sums.iter_mut().zip(chunk).for_each(|(s, v)| {
            *v = exp((*v - largest) * scale);
            *s += *v;
        });
    }
    let mut tail_sum = 0.0;
    for v in chunks.into_remainder() {
        *v = exp((*v - largest) * scale);
        tail_sum += *v;
    }
    (largest, 1.0 / (sums.iter().sum::<f32>() + tail_sum))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn softmax_sums_to_one_and_ignores_the_lowest_float() {
        let mut row = vec![1.0, 2.0, f32::MIN, 3.0];
        let (largest, inverse) = exponentiate(&mut row, 0.5);
        assert_eq!(largest, 3.0);
        row.iter_mut().for_each(|v| *v *= inverse);
        let expected: Vec<f64> = [0.5f64, 1.0, 1.5].iter().map(|v| v.exp()).collect();
        let total: f64 = expected.iter().sum();
        for (got, want) in [row[0], row[1], row[3]].iter().zip(&expected) {
            assert!((f64::from(*got) - want / total).abs() < 1e-6);
        }
        assert!(row[2] < 1e-30);
    }

    /// Rows of whole chunks of sixteen and a tail: the same softmax as in f64.
    #[test]
    fn softmax_of_a_long_row_with_a_tail() {
        for length in [32, 37] {
            let values: Vec<f32> = (0..length).map(|i| (i * 7 % 23) as f32 * 0.3).collect();
            let mut row = values.clone();
            let (largest, inverse) = exponentiate(&mut row, 0.5);
            assert_eq!(largest, values.iter().fold(f32::MIN, |m, &v| m.max(v)));
            let exact: Vec<f64> = values.iter().map(|&v| (0.5 * f64::from(v)).exp()).collect();
            let total: f64 = exact.iter().sum();
            for (got, want) in row.iter().zip(&exact) {
                let got = f64::from(*got * inverse);
                assert!(
                    (got - want / total).abs() < 1e-6,
                    "{length}: {got} vs {}",
                    want / total
                );
            }
        }
    }
}
