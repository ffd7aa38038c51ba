//! The integration tests of `behavert` in one binary, except the training runs: those
//! (tests/training.rs) seed the device's random generator for bit-identical results, so they
//! keep a process of their own, where no other test draws from it.

mod checkpoints;
#[path = "../common/mod.rs"]
mod common;
mod experiment_configs;
mod metrics_cases;
mod metrics_sklearn;
mod reference_equivalence;
mod report_plots;
