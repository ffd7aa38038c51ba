//! The integration tests of `behavert-pose` in one binary (one link instead of eleven): pose
//! files, datasets, fixtures written by the real tools, bad input, fuzz finds.

mod bad_input;
mod common;
mod datasets;
mod datasets_bad_input;
mod datasets_mabe22_real;
mod dlc_csv;
mod dlc_h5;
mod fixtures;
mod fuzz_regressions;
mod npy;
mod sleap_nwb;
mod synth_formats;
