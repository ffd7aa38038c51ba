#![no_main]
//! `calms21_json`: see behavert_pose::fuzzing.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    behavert_pose::fuzzing::run("calms21_json", data).expect("a known target");
});
