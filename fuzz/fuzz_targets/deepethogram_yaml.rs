#![no_main]
//! `deepethogram_yaml`: see behavert_pose::fuzzing.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    behavert_pose::fuzzing::run("deepethogram_yaml", data).expect("a known target");
});
