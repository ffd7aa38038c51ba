#![no_main]
//! `mat`: see behavert_pose::fuzzing.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    behavert_pose::fuzzing::run("mat", data).expect("a known target");
});
