//! Running the `behavert` binary and finding `../shared` in CLI tests.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

pub use behavert_test_support::{read_csv, shared};

/// Runs `behavert args…`: success and stdout + stderr.
pub fn behavert(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_behavert"))
        .args(args)
        .output()
        .expect("run behavert");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

/// A path argument.
pub fn arg(path: &Path) -> &str {
    path.to_str().expect("UTF-8 temp path")
}
