//! 2-D PCA of frame embeddings for the embedding plot, by power iteration on the centred
//! data (no LAPACK, so it builds anywhere with Rust alone).

use ndarray::{Array1, Array2, ArrayView2, Axis};

use crate::error::{Error, Result};

/// Default number of frames projected: enough to show the structure, few enough to draw.
pub const DEFAULT_MAX_POINTS: usize = 4000;
const MAX_ITERATIONS: usize = 500;
const TOLERANCE: f64 = 1e-10;

/// Frames projected onto the first two principal components.
#[derive(Clone, Debug, PartialEq)]
pub struct Projection {
    /// Row indices of the frames kept (evenly spaced over the recording), in order.
    pub rows: Vec<usize>,
    /// `[pc1, pc2]` of each kept frame.
    pub points: Vec<[f64; 2]>,
    /// Fraction of the total variance along each component.
    pub explained_variance_ratio: [f64; 2],
}

/// Evenly spaced row indices: all of `0..n` when `n <= max`, else `max` of them.
pub fn subsample(n: usize, max: usize) -> Vec<usize> {
    if n <= max {
        (0..n).collect()
    } else {
        (0..max).map(|i| i * n / max).collect()
    }
}

/// Projects at most `max_points` rows of `embeddings` `[frames, dim]` onto their first two
/// principal components. Components are signed so their largest coefficient is positive,
/// which makes the picture the same run after run.
pub fn pca_2d(embeddings: ArrayView2<f32>, max_points: usize) -> Result<Projection> {
    let (n, dim) = embeddings.dim();
    if n < 2 || dim == 0 || max_points < 2 {
        return Err(Error::data(
            "embeddings for PCA",
            "at least 2 frames, 1 dimension and 2 points to keep",
            format!("{n} frames × {dim} dims, {max_points} points"),
        ));
    }
    let rows = subsample(n, max_points);
    let mut x = Array2::<f64>::zeros((rows.len(), dim));
    for (i, &r) in rows.iter().enumerate() {
        for (j, &v) in embeddings.row(r).iter().enumerate() {
            if !v.is_finite() {
                return Err(Error::NonFinite {
                    what: "embeddings".into(),
                    index: r * dim + j,
                    value: v as f64,
                });
            }
            x[[i, j]] = v as f64;
        }
    }
    let mean = x.mean_axis(Axis(0)).unwrap_or_else(|| Array1::zeros(dim));
    x -= &mean;
    let total: f64 = x.iter().map(|v| v * v).sum();
    let first = leading_component(&x, &[]);
    let second = if dim > 1 {
        leading_component(&x, std::slice::from_ref(&first))
    } else {
        Array1::zeros(dim)
    };
    let pc1 = x.dot(&first);
    let pc2 = x.dot(&second);
    let ratio = |p: &Array1<f64>| {
        if total > 0.0 {
            p.iter().map(|v| v * v).sum::<f64>() / total
        } else {
            0.0
        }
    };
    Ok(Projection {
        points: pc1.iter().zip(pc2.iter()).map(|(&a, &b)| [a, b]).collect(),
        explained_variance_ratio: [ratio(&pc1), ratio(&pc2)],
        rows,
    })
}

/// A linear map to fewer dimensions: `(x − mean) · componentsᵀ`.
#[derive(Clone, Debug, PartialEq)]
pub struct PcaBasis {
    /// Mean of the fitted rows, `[dim]`.
    pub mean: Array1<f64>,
    /// `[k, dim]` orthonormal principal directions, largest variance first.
    pub components: Array2<f64>,
}

impl PcaBasis {
    /// The first `k` principal directions of at most `max_points` evenly spaced rows of
    /// `embeddings`, by block power iteration on the covariance (no LAPACK needed).
    pub fn fit(embeddings: ArrayView2<f32>, k: usize, max_points: usize) -> Result<Self> {
        let (n, dim) = embeddings.dim();
        if n < 2 || k == 0 || k > dim {
            return Err(Error::data(
                "embeddings for PCA",
                format!("at least 2 frames and 1 ≤ k ≤ dim ({dim}) components"),
                format!("{n} frames, k = {k}"),
            ));
        }
        let rows = subsample(n, max_points.max(2));
        let x = Array2::from_shape_fn((rows.len(), dim), |(i, j)| {
            f64::from(embeddings[[rows[i], j]])
        });
        if let Some(index) = x.iter().position(|v| !v.is_finite()) {
            return Err(Error::NonFinite {
                what: "embeddings".into(),
                index,
                value: x.iter().nth(index).copied().unwrap_or(f64::NAN),
            });
        }
        let mean = x.mean_axis(Axis(0)).unwrap_or_else(|| Array1::zeros(dim));
        let centred = &x - &mean;
        let covariance = centred.t().dot(&centred) / (rows.len() as f64);
        // Fixed irregular start, then Q ← orth(C·Q) until the subspace settles.
        let mut q = Array2::from_shape_fn((dim, k), |(i, j)| {
            ((i * 7 + j * 13 + 1) as f64 * 0.618_033_988_75).fract() - 0.5
        });
        gram_schmidt(&mut q);
        for _ in 0..MAX_ITERATIONS {
            let mut next = covariance.dot(&q);
            gram_schmidt(&mut next);
            let change: f64 = (&next - &q).mapv(|d| d * d).sum();
            q = next;
            if change < TOLERANCE * k as f64 {
                break;
            }
        }
        Ok(Self {
            mean,
            components: q.reversed_axes(),
        })
    }

    /// `[frames, k]` projection of `embeddings` `[frames, dim]`.
    pub fn project(&self, embeddings: ArrayView2<f32>) -> Array2<f32> {
        let x = embeddings.mapv(f64::from) - &self.mean;
        x.dot(&self.components.t()).mapv(|v| v as f32)
    }
}

/// Orthonormalises the columns of `q` in place (modified Gram–Schmidt); a column with nothing
/// left becomes zero.
fn gram_schmidt(q: &mut Array2<f64>) {
    for j in 0..q.ncols() {
        for p in 0..j {
            let d = q.column(j).dot(&q.column(p));
            let previous = q.column(p).to_owned();
            q.column_mut(j).scaled_add(-d, &previous);
        }
        let norm = q.column(j).dot(&q.column(j)).sqrt();
        if norm > 1e-12 {
            q.column_mut(j).mapv_inplace(|v| v / norm);
        } else {
            q.column_mut(j).fill(0.0);
        }
    }
}

/// Unit eigenvector of `xᵀx` with the largest eigenvalue, orthogonal to `previous`:
/// power iteration `v ← xᵀ(x v)` without forming the covariance matrix.
fn leading_component(x: &Array2<f64>, previous: &[Array1<f64>]) -> Array1<f64> {
    let dim = x.ncols();
    // A fixed, irregular start: not orthogonal to any component in practice, and the same
    // on every run.
    let mut v: Array1<f64> = (0..dim)
        .map(|j| 1.0 + ((j as f64 + 1.0) * 0.618_033_988_75).fract())
        .collect();
    let orthonormalise = |v: &mut Array1<f64>| -> bool {
        for p in previous {
            let d = v.dot(p);
            v.scaled_add(-d, p);
        }
        let norm = v.dot(v).sqrt();
        if norm > 0.0 && norm.is_finite() {
            *v /= norm;
            true
        } else {
            false
        }
    };
    if !orthonormalise(&mut v) {
        return Array1::zeros(dim);
    }
    for _ in 0..MAX_ITERATIONS {
        let mut next = x.t().dot(&x.dot(&v));
        if !orthonormalise(&mut next) {
            // No variance left outside `previous`.
            return Array1::zeros(dim);
        }
        let change = (&next - &v).mapv(|d| d * d).sum();
        v = next;
        if change < TOLERANCE {
            break;
        }
    }
    let largest = v.iter().copied().fold(
        0.0f64,
        |best, c| if c.abs() > best.abs() { c } else { best },
    );
    if largest < 0.0 {
        v.mapv_inplace(|c| -c);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn basis_keeps_the_largest_variance_directions_in_order() {
        // Variance 9 along (1, 1, 0, 0, 0)/√2, 2 along the third axis, 1.5 along (1, -1, 0, 0, 1)/√3.
        let mut data = Array2::<f32>::zeros((500, 5));
        for i in 0..500 {
            let t = i as f32;
            let (a, b, c) = (
                (t * 0.37).sin() * 3.0,
                (t * 1.13).cos() * 2.0,
                (t * 2.71).sin(),
            );
            data.row_mut(i)
                .assign(&ndarray::arr1(&[a + c, a - c, b, 0.5, c]));
        }
        let basis = PcaBasis::fit(data.view(), 2, 10_000).unwrap();
        let projected = basis.project(data.view());
        let var = |c: usize| {
            projected
                .column(c)
                .mapv(|v| f64::from(v * v))
                .mean()
                .unwrap()
        };
        assert!(
            (var(0) - 9.0).abs() < 0.3 && (var(1) - 2.0).abs() < 0.1,
            "{} {}",
            var(0),
            var(1)
        );
        let c = &basis.components;
        assert!((c.row(0).dot(&c.row(1))).abs() < 1e-9);
        assert!(PcaBasis::fit(data.view(), 6, 100).is_err());
    }

    #[test]
    fn finds_the_axes_of_an_elongated_cloud() {
        // Points spread along (1, 1, 0) a lot and along (1, -1, 0) a little.
        let mut data = Array2::<f32>::zeros((200, 3));
        for i in 0..200 {
            let a = (i as f32 - 100.0) / 10.0;
            let b = if i % 2 == 0 { 0.5 } else { -0.5 };
            data.row_mut(i).assign(&array![a + b, a - b, 0.0]);
        }
        let p = pca_2d(data.view(), 1000).unwrap();
        assert_eq!(p.rows.len(), 200);
        let [r1, r2] = p.explained_variance_ratio;
        assert!(
            r1 > 0.99 && r2 > 0.0 && (r1 + r2 - 1.0).abs() < 1e-9,
            "{r1} {r2}"
        );
        // pc1 grows with i (sign fixed); pc2 is about ±b·√2 (a and b correlate slightly).
        assert!(p.points[199][0] > p.points[0][0]);
        assert!((p.points[0][1].abs() - 0.5f64.sqrt()).abs() < 0.05);
    }

    #[test]
    fn subsamples_evenly_and_rejects_bad_input() {
        assert_eq!(subsample(10, 4), vec![0, 2, 5, 7]);
        assert!(pca_2d(Array2::<f32>::zeros((1, 3)).view(), 100).is_err());
        let mut bad = Array2::<f32>::zeros((3, 2));
        bad[[1, 1]] = f32::NAN;
        assert!(pca_2d(bad.view(), 100).is_err());
    }
}
