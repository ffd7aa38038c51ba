//! Every input a fuzzer found crashing a reader (`tests/fixtures/fuzz/<target>/`), run
//! through that reader again: each must now end in a result or a clear error.

use std::path::Path;

use behavert_pose::fuzzing::{TARGETS, run};

#[test]
fn inputs_that_once_crashed_a_reader_now_end_cleanly() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz");
    let mut cases = 0;
    for entry in std::fs::read_dir(&root).unwrap() {
        let dir = entry.unwrap().path();
        let target = dir.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            TARGETS.contains(&target.as_str()),
            "{}: no fuzz target `{target}`",
            dir.display()
        );
        for input in std::fs::read_dir(&dir).unwrap() {
            let input = input.unwrap().path();
            let data = std::fs::read(&input).unwrap();
            // Returning at all is the point; most of these are (rightly) refused.
            run(&target, &data).unwrap();
            cases += 1;
        }
    }
    assert!(cases > 0, "no regression inputs under {}", root.display());
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
