//! Bad input per dataset loader: wrong nesting, missing keys, wrong shapes, unknown pickle
//! globals, truncated files. Each gives an error naming the file and the place; none panics.

use std::path::{Path, PathBuf};

use behavert_pose::datasets::{self, DatasetKind, DatasetOptions, Split, calms21, mabe22, sbea};

use crate::common;

fn bad(name: &str) -> PathBuf {
    common::fixture("datasets/bad").join(name)
}

fn fixture(name: &str) -> PathBuf {
    common::fixture("datasets").join(name)
}

fn calms_json(path: &Path) -> String {
    calms21::read_json(path, Split::Train, &DatasetOptions::default(), &mut |_| {
        Ok(true)
    })
    .unwrap_err()
    .to_string()
}

/// A copy of `src` cut to `keep` of its bytes, in a temp folder under `name`.
fn truncated(src: &Path, name: &str, keep: f64) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(src).unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, &bytes[..(bytes.len() as f64 * keep) as usize]).unwrap();
    (dir, path)
}

#[test]
fn calms21_wrong_nesting_names_sequence_field_and_line() {
    let path = bad("calms21_wrong_nesting.json");
    let err = calms_json(&path);
    assert!(err.contains("calms21_wrong_nesting.json"), "{err}");
    assert!(
        err.contains("sequence `task1/train/bad`, `keypoints`"),
        "{err}"
    );
    assert!(err.contains("line 1, column"), "{err}");
    assert!(err.contains("[frames][2 mice][x, y][7 keypoints]"), "{err}");
}

#[test]
fn calms21_missing_keypoints_is_named() {
    let err = calms_json(&bad("calms21_missing_keypoints.json"));
    assert!(
        err.contains("`keypoints`: expected a `keypoints` entry, found none"),
        "{err}"
    );
}

#[test]
fn calms21_truncated_and_non_json_files() {
    let (_dir, path) = truncated(&fixture("calms21/calms21_task1_train.json"), "t.json", 0.6);
    let err = calms_json(&path);
    assert!(err.contains("t.json"), "{err}");
    assert!(err.contains("EOF"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("calms21_task1_train.json");
    std::fs::write(&path, b"[1, 2]").unwrap();
    let err = calms_json(&path);
    assert!(err.contains("top level"), "{err}");
    // A ragged list: the second mouse has one coordinate row too few.
    std::fs::write(
        &path,
        br#"{"g": {"s": {"keypoints": [[[[1,2,3,4,5,6,7],[1,2,3,4,5,6,7]],[[1,2,3,4,5,6,7]]]]}}}"#,
    )
    .unwrap();
    let err = calms_json(&path);
    assert!(err.contains("ragged"), "{err}");
    // Class ids outside the vocabulary.
    std::fs::write(
        &path,
        br#"{"g": {"s": {"keypoints": [[[[1,2,3,4,5,6,7],[1,2,3,4,5,6,7]],[[1,2,3,4,5,6,7],[1,2,3,4,5,6,7]]]], "annotations": [7], "metadata": {"annotator-id": 0, "vocab": {"other": 0}}}}}"#,
    )
    .unwrap();
    let err = calms_json(&path);
    assert!(err.contains("frame 0") && err.contains("found 7"), "{err}");
}

#[test]
fn calms21_missing_folder_and_files() {
    let dir = tempfile::tempdir().unwrap();
    let err = datasets::load(DatasetKind::Calms21, dir.path(), &DatasetOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("calms21_task1_*.json"), "{err}");
    let err = datasets::load(
        DatasetKind::Calms21,
        &dir.path().join("nope"),
        &DatasetOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("nothing at this path"), "{err}");
}

fn mabe_err(path: &Path) -> String {
    mabe22::read_keypoints(path, Split::Train, None, &mut |_| Ok(true))
        .unwrap_err()
        .to_string()
}

#[test]
fn mabe22_wrong_shape_and_missing_key() {
    let err = mabe_err(&bad("mabe22_wrong_shape.npy"));
    assert!(err.contains("sequence `X`, `keypoints`"), "{err}");
    assert!(err.contains("[4, 3, 12]"), "{err}");
    let err = mabe_err(&bad("mabe22_no_sequences.npy"));
    assert!(err.contains("a `sequences` key"), "{err}");
    assert!(err.contains("vocabulary"), "{err}");
}

#[test]
fn mabe22_truncated_file_and_unknown_global() {
    let (_dir, path) = truncated(&fixture("mabe22/mouse_triplet_train.npy"), "t.npy", 0.5);
    let err = mabe_err(&path);
    assert!(
        err.contains("t.npy") && err.contains("pickle at byte"),
        "{err}"
    );
    // np.save header + a pickle calling os.system.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("evil.npy");
    let mut header = "{'descr': '|O', 'fortran_order': False, 'shape': (), }".to_string();
    header.push_str(&" ".repeat(64 - (10 + header.len() + 1) % 64));
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(b"\x80\x03cos\nsystem\nX\x02\x00\x00\x00lsR.");
    std::fs::write(&path, bytes).unwrap();
    let err = mabe_err(&path);
    assert!(err.contains("os.system"), "{err}");
    let err = mabe22::read_frame_number_map(&path)
        .unwrap_err()
        .to_string();
    assert!(err.contains("evil.npy"), "{err}");
}

#[test]
fn mabe22_submission_checks_refuse_non_submissions() {
    let map = mabe22::FrameNumberMap::new(vec![("A".into(), 0..4)]);
    let err = mabe22::validate_submission(
        &fixture("mabe22/frame_number_map.npy"),
        &map,
        mabe22::MOUSE_MAX_DIMS,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("no `frame_number_map`"), "{err}");
}

#[test]
fn sbea_wrong_columns_truncated_and_not_mat() {
    let err = sbea::read(&bad("bad-A1A2-20220101-id3d.mat"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`coords3d`") && err.contains("(3, 50)"),
        "{err}"
    );
    for (file, keep) in [
        ("rec1-A1A6-20220822-id3d.mat", 0.7),
        ("rec2-B2B3-20220823-id3d.mat", 0.8),
    ] {
        let (_dir, path) = truncated(&fixture("sbea").join(file), "x-A1A2-1-id3d.mat", keep);
        let err = sbea::read(&path).unwrap_err().to_string();
        assert!(
            err.contains("x-A1A2-1-id3d.mat") && err.contains("byte"),
            "{err}"
        );
    }
    let err = sbea::read(&fixture("mabe22/frame_number_map.npy"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("endian"), "{err}");
}

#[test]
fn deepethogram_bad_labels_and_config() {
    let src = fixture("deepethogram/mice_project_deepethogram");
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("p");
    copy_dir(&src, &project);
    std::fs::write(
        project.join("DATA/vid1/vid1_labels.csv"),
        ",background,groom,rear\n0,1,0,0\n1,0,2,0\n2,0,1,1\n3,1,0,0\n",
    )
    .unwrap();
    let err = datasets::load(
        DatasetKind::DeepEthogram,
        &project,
        &DatasetOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("vid1_labels.csv: line 3, column `groom`"),
        "{err}"
    );
    std::fs::write(
        project.join("DATA/vid1/vid1_labels.csv"),
        ",background,groom\n0,1,0\n",
    )
    .unwrap();
    let err = datasets::load(
        DatasetKind::DeepEthogram,
        &project,
        &DatasetOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("the project's classes"), "{err}");
    std::fs::write(project.join("project_config.yaml"), "project:\n  name: x\n").unwrap();
    let err = datasets::load(
        DatasetKind::DeepEthogram,
        &project,
        &DatasetOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("project_config.yaml") && err.contains("class_names"),
        "{err}"
    );
}

#[test]
fn pair_r24m_bad_cells_and_missing_sessions() {
    let src = fixture("pair_r24m/PAIR-R24M-Dataset");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("PAIR-R24M-Dataset");
    copy_dir(&src, &root);
    let csv = root.join("20210210_Recording_SR2_SR3_wvid_social_new/markerDataset.csv");
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    lines[2] = lines[2].replacen(',', ",oops", 1);
    std::fs::write(&csv, lines.join("\n")).unwrap();
    let err = datasets::load(DatasetKind::PairR24m, &root, &DatasetOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("markerDataset.csv: line 3, column `absolutePosition_an1_HeadF_y`"),
        "{err}"
    );
    std::fs::remove_dir_all(csv.parent().unwrap()).unwrap();
    let dataset = datasets::load(DatasetKind::PairR24m, &root, &DatasetOptions::default()).unwrap();
    assert_eq!(dataset.sequences.len(), 1);
    assert_eq!(dataset.skipped.len(), 1);
    let err = datasets::load(
        DatasetKind::PairR24m,
        &root,
        &DatasetOptions {
            task: Some("posture".into()),
            ..DatasetOptions::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("coarse, fine or interaction"), "{err}");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

#[test]
fn sleap_instances_naming_tracks_the_file_does_not_list() {
    let path = bad("sleap_tracks_json_empty.slp");
    let err = behavert_pose::formats::read(&path, None)
        .unwrap_err()
        .to_string();
    for part in [
        "sleap_tracks_json_empty.slp",
        "table `instances` row 0, column `track`",
        "no track (dataset `tracks_json` lists none)",
        "found track 0",
    ] {
        assert!(err.contains(part), "{part:?} not in {err}");
    }
}
