#![no_main]
//! `dlc_h5`: see behavert_pose::fuzzing.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    behavert_pose::fuzzing::run("dlc_h5", data).expect("a known target");
});
