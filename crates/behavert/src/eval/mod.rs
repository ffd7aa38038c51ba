//! Evaluation metrics: the numbers scientists quote, matching scikit-learn and the official
//! CalMS21 / MABe22 protocols.
//!
//! Everything here is plain Rust over slices and `ndarray` views (no tensors), so it works on
//! predictions read back from `predictions.csv`. Conventions shared by every function:
//!
//! - single-label truth is `&[Option<u32>]`, `None` = an unlabelled frame, which is ignored
//!   everywhere (as in `behavert_pose::labels::FrameLabels::Single`); predictions are `&[u32]`;
//! - multi-label truth is `&[Vec<Option<bool>>]`, `None` ignored for that label only;
//! - regression and MABe22 labels are `f64`, NaN = unlabelled;
//! - zero divisions give 0 (scikit-learn's `zero_division=0`);
//! - bad input (length mismatch, no labelled frame, class id out of range, NaN score) is an
//!   [`crate::Error`], never a panic.
//!
//! Correspondence with scikit-learn (checked to 1e-9 by `tests/metrics_sklearn.rs` against
//! fixtures from `scripts/make_metric_fixtures.py`):
//!
//! | here | scikit-learn |
//! |---|---|
//! | [`precision_recall_f1`], [`macro_average`] | `precision_recall_fscore_support(labels=range(k), zero_division=0)`, `average="macro"` |
//! | [`confusion_matrix`], [`accuracy`] | `confusion_matrix(labels=range(k))`, `accuracy_score` |
//! | [`average_precision`], [`average_precision_per_class`] | `average_precision_score` (one-vs-rest columns) |
//! | [`multilabel_scores`], [`multilabel_average_precision`] | the binary versions per label on its labelled frames |
//! | [`mean_squared_error`], [`r2_score`] | `mean_squared_error`, `r2_score` |
//! | [`Ridge`], [`RidgeClassifier`] | `Ridge`, `RidgeClassifier(class_weight=None / "balanced")` |
//! | [`numpy_rng::train_test_split_indices`] | `train_test_split(test_size=f, random_state=seed)` |

pub mod bouts;
mod checks;
pub mod classification;
pub mod html;
pub mod numpy_rng;
pub mod output;
pub mod plots;
pub mod projection;
pub mod protocols;
pub mod ranking;
pub mod regression;
pub mod report;
pub mod ridge;
pub mod roles;
pub mod smoothing;
pub mod training_log;

pub use bouts::{
    Bout, BoutMatch, BoutReport, BoutScores, bout_metrics, bouts, labelled_bouts, match_bouts,
};
pub use classification::{
    ClassScores, MacroScores, accuracy, binary_scores, confusion_matrix, excluded_classes,
    macro_average, multilabel_scores, precision_recall_f1,
};
pub use protocols::{calms21_task3, calms21_task12, mabe22_summary, mabe22_task_score};
pub use ranking::{
    average_precision, average_precision_per_class, mean_average_precision,
    multilabel_average_precision,
};
pub use regression::{mean_squared_error, r2_score};
pub use report::{ClassRow, MacroRow, MetricsReport, RecordingScores};
pub use ridge::{ClassWeight, Ridge, RidgeClassifier};
pub use smoothing::{majority_filter, median_filter, viterbi_smooth};
