//! Closed-form ridge regression and classification, as scikit-learn's `Ridge` and
//! `RidgeClassifier` (dense input, `fit_intercept=True`) compute them.
//!
//! With sample weights `w` the fit centres features and targets on their `w`-weighted means,
//! solves `(X̃ᵀ W X̃ + αI) β = X̃ᵀ W ỹ` on the centred data by Cholesky, and sets the intercept
//! to `ȳ − x̄ᵀβ`; the intercept is not penalised. This is scikit-learn's `cholesky` solver
//! (its `auto` choice for dense data); its other solvers reach the same minimiser.
//!
//! Arithmetic is f64 throughout. scikit-learn keeps float32 input in float32, so the official
//! MABe22 evaluator, fed float32 embeddings, computes in single precision: decision values can
//! differ from ours around 1e-6, which can flip a frame whose decision value is that close to 0.

use ndarray::{Array1, Array2, ArrayView2};
use serde::{Deserialize, Serialize};

use super::checks::{all_finite, same_len};
use crate::error::{Error, Result};

/// A fitted linear model `y = x·coefᵀ + intercept` with one row of `coef` per target.
#[derive(Clone, Debug, PartialEq)]
pub struct Ridge {
    /// Weights, `[targets, features]`.
    pub coef: Array2<f64>,
    /// Intercepts, one per target.
    pub intercept: Array1<f64>,
    /// Regularisation strength used.
    pub alpha: f64,
}

/// Checks a feature matrix: at least one row and column, every value finite.
fn check_features<T: Copy + Into<f64>>(x: &ArrayView2<T>) -> Result<()> {
    if x.nrows() == 0 {
        return Err(Error::empty("features"));
    }
    if x.ncols() == 0 {
        return Err(Error::data("feature columns", "at least 1", 0));
    }
    if let Some((index, value)) = x
        .iter()
        .map(|&v| v.into())
        .enumerate()
        .find(|(_, v): &(usize, f64)| !v.is_finite())
    {
        return Err(Error::NonFinite {
            what: "features".into(),
            index,
            value,
        });
    }
    Ok(())
}

impl Ridge {
    /// Fits `targets[[sample, target]]` on `x[[sample, feature]]` with optional per-sample weights.
    pub fn fit<T: Copy + Into<f64>>(
        x: ArrayView2<T>,
        targets: ArrayView2<f64>,
        sample_weight: Option<&[f64]>,
        alpha: f64,
    ) -> Result<Self> {
        check_features(&x)?;
        let (n, d) = x.dim();
        same_len("feature rows and targets", n, targets.nrows())?;
        if targets.ncols() == 0 {
            return Err(Error::data("target columns", "at least 1", 0));
        }
        all_finite("targets", targets.iter())?;
        if !(alpha.is_finite() && alpha >= 0.0) {
            return Err(Error::data("alpha", "a finite value ≥ 0", alpha));
        }
        let ones;
        let w = match sample_weight {
            Some(w) => {
                same_len("feature rows and sample weights", n, w.len())?;
                all_finite("sample weights", w)?;
                if let Some((i, &v)) = w.iter().enumerate().find(|(_, v)| **v < 0.0) {
                    return Err(Error::data(format!("sample weight {i}"), "a value ≥ 0", v));
                }
                w
            }
            None => {
                ones = vec![1.0; n];
                &ones[..]
            }
        };
        let total: f64 = w.iter().sum();
        if total <= 0.0 {
            return Err(Error::data("sum of sample weights", "> 0", total));
        }
        let k = targets.ncols();
        // Weighted means of features and targets (np.average(…, weights=w)).
        let mut x_mean = Array1::<f64>::zeros(d);
        let mut y_mean = Array1::<f64>::zeros(k);
        for i in 0..n {
            for j in 0..d {
                x_mean[j] += w[i] * x[[i, j]].into();
            }
            for t in 0..k {
                y_mean[t] += w[i] * targets[[i, t]];
            }
        }
        x_mean /= total;
        y_mean /= total;
        // Gram matrix and right-hand side on centred data, upper triangle in flat row-major
        // buffers (contiguous inner loops: this is the O(n·d²) part on millions of frames).
        let mut gram = vec![0.0; d * d];
        let mut rhs = vec![0.0; d * k];
        let mut row = vec![0.0; d];
        let mut y_row = vec![0.0; k];
        for i in 0..n {
            for (j, r) in row.iter_mut().enumerate() {
                *r = x[[i, j]].into() - x_mean[j];
            }
            for (t, v) in y_row.iter_mut().enumerate() {
                *v = targets[[i, t]] - y_mean[t];
            }
            for a in 0..d {
                let wa = w[i] * row[a];
                for (g, &rb) in gram[a * d + a..(a + 1) * d].iter_mut().zip(&row[a..]) {
                    *g += wa * rb;
                }
                for (r, &yt) in rhs[a * k..(a + 1) * k].iter_mut().zip(&y_row) {
                    *r += wa * yt;
                }
            }
        }
        let shape_err = |e| Error::data("ridge system shape", "matching buffers", e);
        let mut gram = Array2::from_shape_vec((d, d), gram).map_err(shape_err)?;
        let rhs = Array2::from_shape_vec((d, k), rhs).map_err(shape_err)?;
        for a in 0..d {
            gram[[a, a]] += alpha;
            for b in 0..a {
                gram[[a, b]] = gram[[b, a]];
            }
        }
        let beta = cholesky_solve(gram, rhs)?; // [features, targets]
        let coef = beta.t().as_standard_layout().into_owned();
        let intercept = &y_mean - &coef.dot(&x_mean);
        Ok(Self {
            coef,
            intercept,
            alpha,
        })
    }

    /// Predictions `[samples, targets]`.
    pub fn predict<T: Copy + Into<f64>>(&self, x: ArrayView2<T>) -> Result<Array2<f64>> {
        check_features(&x)?;
        same_len(
            "feature columns and model inputs",
            x.ncols(),
            self.coef.ncols(),
        )?;
        let xf = x.mapv(Into::into);
        Ok(xf.dot(&self.coef.t()) + &self.intercept)
    }
}

/// Solves `a · x = b` for symmetric positive definite `a` by Cholesky decomposition.
fn cholesky_solve(mut a: Array2<f64>, mut b: Array2<f64>) -> Result<Array2<f64>> {
    let d = a.nrows();
    // In place: the lower triangle of `a` becomes L with a = L Lᵀ.
    for j in 0..d {
        let mut diag = a[[j, j]];
        for p in 0..j {
            diag -= a[[j, p]] * a[[j, p]];
        }
        if diag.is_nan() || diag <= 0.0 {
            return Err(Error::data(
                "ridge system",
                "a positive definite matrix (use alpha > 0 or more samples)",
                format!("pivot {diag:e} at feature {j}"),
            ));
        }
        let l_jj = diag.sqrt();
        a[[j, j]] = l_jj;
        for i in j + 1..d {
            let mut v = a[[i, j]];
            for p in 0..j {
                v -= a[[i, p]] * a[[j, p]];
            }
            a[[i, j]] = v / l_jj;
        }
    }
    for t in 0..b.ncols() {
        // Forward: L z = b.
        for i in 0..d {
            let mut v = b[[i, t]];
            for p in 0..i {
                v -= a[[i, p]] * b[[p, t]];
            }
            b[[i, t]] = v / a[[i, i]];
        }
        // Backward: Lᵀ x = z.
        for i in (0..d).rev() {
            let mut v = b[[i, t]];
            for p in i + 1..d {
                v -= a[[p, i]] * b[[p, t]];
            }
            b[[i, t]] = v / a[[i, i]];
        }
    }
    Ok(b)
}

/// How training samples are weighted by class.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClassWeight {
    /// Every sample weighs 1.
    Uniform,
    /// scikit-learn's `"balanced"`: a sample of class c weighs `n / (classes · count_c)`.
    Balanced,
}

/// A ridge classifier: ridge regression on ±1 targets, one column per class (one column in
/// total for two classes), predicting the class with the largest decision value.
#[derive(Clone, Debug, PartialEq)]
pub struct RidgeClassifier {
    /// Class ids seen in training, ascending.
    pub classes: Vec<u32>,
    /// The underlying regression on ±1 targets.
    pub ridge: Ridge,
}

impl RidgeClassifier {
    /// Fits on `x[[sample, feature]]` and class ids `y` (at least two distinct).
    pub fn fit<T: Copy + Into<f64>>(
        x: ArrayView2<T>,
        y: &[u32],
        class_weight: ClassWeight,
        alpha: f64,
    ) -> Result<Self> {
        same_len("feature rows and labels", x.nrows(), y.len())?;
        let mut classes: Vec<u32> = y.to_vec();
        classes.sort_unstable();
        classes.dedup();
        if classes.len() < 2 {
            return Err(Error::data(
                "training labels",
                "at least two classes",
                format!("classes {classes:?}"),
            ));
        }
        let index = |c: u32| classes.binary_search(&c).unwrap_or(0);
        // LabelBinarizer(pos_label=1, neg_label=-1): one column for two classes (positive =
        // the larger id), else one column per class.
        let columns = if classes.len() == 2 { 1 } else { classes.len() };
        let mut targets = Array2::<f64>::from_elem((y.len(), columns), -1.0);
        for (i, &c) in y.iter().enumerate() {
            let k = index(c);
            if columns == 1 {
                targets[[i, 0]] = if k == 1 { 1.0 } else { -1.0 };
            } else {
                targets[[i, k]] = 1.0;
            }
        }
        let weights = match class_weight {
            ClassWeight::Uniform => None,
            ClassWeight::Balanced => {
                let mut counts = vec![0usize; classes.len()];
                for &c in y {
                    counts[index(c)] += 1;
                }
                let n = y.len() as f64;
                let k = classes.len() as f64;
                Some(
                    y.iter()
                        .map(|&c| n / (k * counts[index(c)] as f64))
                        .collect::<Vec<f64>>(),
                )
            }
        };
        let ridge = Ridge::fit(x, targets.view(), weights.as_deref(), alpha)?;
        Ok(Self { classes, ridge })
    }

    /// Decision values `[samples, columns]` (one column for two classes).
    pub fn decision_function<T: Copy + Into<f64>>(&self, x: ArrayView2<T>) -> Result<Array2<f64>> {
        self.ridge.predict(x)
    }

    /// Predicted class ids: decision > 0 picks the larger of two classes; with more classes the
    /// first largest decision value wins.
    pub fn predict<T: Copy + Into<f64>>(&self, x: ArrayView2<T>) -> Result<Vec<u32>> {
        let scores = self.decision_function(x)?;
        Ok(scores
            .rows()
            .into_iter()
            .map(|row| {
                if row.len() == 1 {
                    self.classes[usize::from(row[0] > 0.0)]
                } else {
                    let mut best = 0;
                    for (k, &v) in row.iter().enumerate() {
                        if v > row[best] {
                            best = k;
                        }
                    }
                    self.classes[best]
                }
            })
            .collect())
    }
}
