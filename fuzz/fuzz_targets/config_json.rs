#![no_main]
//! `config_json`: see behavert::fuzzing.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    behavert::fuzzing::run("config_json", data).expect("a known target");
});
