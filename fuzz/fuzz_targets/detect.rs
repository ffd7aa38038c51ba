#![no_main]
//! `detect`: see behavert_pose::fuzzing.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    behavert_pose::fuzzing::run("detect", data).expect("a known target");
});
