#![no_main]
//! `mabe22_keypoints`: see behavert_pose::fuzzing.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    behavert_pose::fuzzing::run("mabe22_keypoints", data).expect("a known target");
});
