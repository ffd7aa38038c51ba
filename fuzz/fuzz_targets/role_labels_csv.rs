#![no_main]
//! `role_labels_csv`: see behavert_pose::fuzzing.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    behavert_pose::fuzzing::run("role_labels_csv", data).expect("a known target");
});
