#![no_main]
//! `lightning_pose`: see behavert_pose::fuzzing.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    behavert_pose::fuzzing::run("lightning_pose", data).expect("a known target");
});
