//! Every input a fuzzer found crashing a reader (`tests/fixtures/fuzz/<target>/`), run
//! through that reader again: each must now end in a result or a clear error.

use std::path::Path;

use behavert_pose::fuzzing::{TARGETS, replay, run};

#[test]
fn inputs_that_once_crashed_a_reader_now_end_cleanly() {
    replay(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz"),
        run,
    );
}

#[test]
fn every_fuzz_target_has_a_reader() {
    for target in TARGETS {
        assert!(run(target, b"not a pose file").is_some(), "{target}");
    }
    assert_eq!(run("no_such_target", b""), None);
    // A cargo-fuzz binary per target (the behavert crate's checkpoint tests check that
    // there are no others).
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/fuzz_targets");
    for target in TARGETS {
        assert!(
            dir.join(format!("{target}.rs")).is_file(),
            "no fuzz binary for {target}"
        );
    }
}
