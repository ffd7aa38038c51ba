//! One entry per fuzz target (`fuzz/fuzz_targets/`): an input run through the reader the
//! target names, so the fuzzers and the regression tests of the inputs they found
//! (`tests/fuzz_regressions.rs`) feed the readers in exactly the same way.
//!
//! The one rule every target checks: a reader may refuse its input, but it must return,
//! without panicking or aborting, and a pose it accepts holds only finite or missing values.

use std::path::Path;

use crate::Format;
use crate::datasets::{DatasetOptions, Split, calms21, deepethogram, mabe22, mat};

/// Every fuzz target.
pub const TARGETS: [&str; 17] = [
    "anipose",
    "calms21_json",
    "deepethogram_yaml",
    "detect",
    "dlc_csv",
    "dlc_h5",
    "labels_csv",
    "lightning_pose",
    "mabe22_keypoints",
    "mat",
    "movement",
    "npy",
    "nwb",
    "pickle",
    "role_labels_csv",
    "sleap_h5",
    "slp",
];

/// Runs `data` through the reader of fuzz target `target`: `Some(accepted)`, or `None` for an
/// unknown target.
pub fn run(target: &str, data: &[u8]) -> Option<bool> {
    let pose = |format: Option<Format>, name: &str| {
        as_file(data, name, |path| {
            crate::formats::read(path, format).map(|poses| {
                for pose in poses {
                    assert!(pose.positions.iter().all(|v| v.is_nan() || v.is_finite()));
                }
            })
        })
    };
    Some(match target {
        "anipose" => pose(Some(Format::Anipose), "pose3d.csv"),
        "detect" => pose(None, "pose"),
        "dlc_csv" => pose(Some(Format::DlcCsv), "pose.csv"),
        "dlc_h5" => pose(Some(Format::DlcH5), "pose.h5"),
        "lightning_pose" => pose(Some(Format::LightningPose), "predictions.csv"),
        "movement" => pose(Some(Format::Movement), "pose.nc"),
        "npy" => pose(Some(Format::Npy), "pose.npy"),
        "nwb" => pose(Some(Format::Nwb), "pose.nwb"),
        "sleap_h5" => pose(Some(Format::SleapH5), "pose.analysis.h5"),
        "slp" => pose(Some(Format::Slp), "labels.slp"),
        "labels_csv" => as_file(data, "labels.csv", |path| {
            crate::label_files::read_labels(path).map(drop)
        }),
        "role_labels_csv" => as_file(data, "roles.csv", |path| {
            let animals = ["mouse1", "mouse2", "mouse3"].map(String::from);
            crate::role_labels::read_role_labels(path, &animals).map(|roles| {
                for bout in &roles.bouts {
                    assert!(bout.frames.start < bout.frames.end);
                    assert!(bout.target.as_ref() != Some(&bout.agent));
                }
            })
        }),
        "calms21_json" => as_file(data, "calms21_task1_train.json", |path| {
            calms21::read_json(path, Split::Train, &DatasetOptions::default(), &mut |_| {
                Ok(true)
            })
            .map(drop)
        }),
        "deepethogram_yaml" => as_file(data, "project_config.yaml", |path| {
            deepethogram::read_config(path).map(drop)
        }),
        "mabe22_keypoints" => as_file(data, "user_train.npy", |path| {
            mabe22::read_keypoints(path, Split::Train, None, &mut |_| Ok(true)).map(drop)
        }),
        "mat" => mat::parse(Path::new("fuzz.mat"), data).is_ok(),
        "pickle" => crate::pickle::loads(data).is_ok(),
        _ => return None,
    })
}

/// Runs every input stored under `root/<target>/` through `run` and returns how many there
/// were: the fuzz finds replayed by the tests. Each must return (most are rightly refused);
/// inputs named `seed*` must be accepted. Panics, as a test should, on an unknown target.
pub fn replay(root: &Path, run: impl Fn(&str, &[u8]) -> Option<bool>) -> usize {
    let mut cases = 0;
    let entries = std::fs::read_dir(root).unwrap_or_else(|e| panic!("{}: {e}", root.display()));
    for entry in entries {
        let dir = entry.expect("a directory entry").path();
        let target = dir
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        for input in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let input = input.expect("a directory entry").path();
            let data = std::fs::read(&input).unwrap_or_else(|e| panic!("{}: {e}", input.display()));
            let accepted = run(&target, &data)
                .unwrap_or_else(|| panic!("{}: no fuzz target `{target}`", dir.display()));
            let seed = input
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("seed"));
            assert!(
                accepted || !seed,
                "{}: a seed must be accepted",
                input.display()
            );
            cases += 1;
        }
    }
    assert!(cases > 0, "no inputs under {}", root.display());
    cases
}

/// Whether `read` accepts `data` written to a file named `name` (readers take paths: the HDF5
/// and CSV readers open files by name, and some read meaning into the name).
fn as_file<T>(data: &[u8], name: &str, read: impl FnOnce(&Path) -> crate::Result<T>) -> bool {
    let dir = tempfile::tempdir().expect("a scratch directory");
    let path = dir.path().join(name);
    std::fs::write(&path, data).expect("a scratch file");
    read(&path).is_ok()
}
