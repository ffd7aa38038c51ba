#![no_main]
//! `training_toml`: see behavert::fuzzing.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    behavert::fuzzing::run("training_toml", data).expect("a known target");
});
