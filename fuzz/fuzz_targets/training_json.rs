#![no_main]
//! `training_json`: see behavert::fuzzing.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    behavert::fuzzing::run("training_json", data).expect("a known target");
});
