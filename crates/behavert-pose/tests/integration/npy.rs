//! `.npy`: numeric arrays, pickled objects (real MABe22 files), and pose files with sidecars.

use behavert_pose::formats::{self, Format, npy};
use behavert_pose::pickle::PickleValue;
use behavert_test_support::same_values;

use crate::common;

#[test]
fn real_mabe22_frame_map_has_3736_sequences_and_6724800_frames() {
    let Some(path) = common::sample("mouse_frame_number_map.npy") else {
        return;
    };
    let map = npy::read_object(&path).unwrap();
    let PickleValue::Dict(entries) = &map else {
        panic!("{}", map.kind())
    };
    assert_eq!(entries.len(), 3736);
    let (first, range) = &entries[0];
    assert_eq!(first.as_str(), Some("0D2SPY7EPE05CRPC8DP0"));
    assert_eq!(
        range,
        &PickleValue::Tuple(vec![PickleValue::Int(0), PickleValue::Int(1800)])
    );
    let mut total = 0;
    let mut end = 0;
    for (_, range) in entries {
        let r = range.as_seq().unwrap();
        let (start, stop) = (r[0].as_i64().unwrap(), r[1].as_i64().unwrap());
        assert_eq!(start, end, "contiguous blocks");
        total += stop - start;
        end = stop;
    }
    assert_eq!(total, 6_724_800);
}

#[test]
fn real_mabe22_labels_hold_float32_arrays_and_vocabulary() {
    let Some(path) = common::sample("example_labels.npy") else {
        return;
    };
    let labels = npy::read_object(&path).unwrap();
    let vocabulary: Vec<&str> = labels
        .get("vocabulary")
        .unwrap()
        .as_seq()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(vocabulary.len(), 13);
    assert_eq!(
        (vocabulary[0], vocabulary[12]),
        ("experiment_day", "lights")
    );
    let task_type = labels.get("task_type").unwrap().as_seq().unwrap();
    assert_eq!(task_type[0].as_str(), Some("Continious"));
    let annotations = labels.get("annotations").unwrap();
    let PickleValue::Dict(sequences) = annotations else {
        panic!()
    };
    assert_eq!(sequences.len(), 6);
    let PickleValue::NdArray(first) = &sequences[0].1 else {
        panic!()
    };
    assert_eq!(sequences[0].0.as_str(), Some("95M5XNPQQ4SBG2QOT3JU"));
    assert_eq!(
        (first.shape.clone(), first.dtype.descr()),
        (vec![13, 100], "<f4".to_string())
    );
    let values = first.to_f64().unwrap();
    assert_eq!(values.iter().filter(|v| v.is_nan()).count(), 195);
    assert_eq!(values[100] as f32, (0.778_318_3_f64 as f32));
    let sum: f64 = values.iter().filter(|v| !v.is_nan()).sum();
    assert!((sum - 190.70883).abs() < 1e-3, "{sum}");
}

#[test]
fn real_mabe22_embeddings_are_float64_600_by_20() {
    let Some(path) = common::sample("example_embeddings.npy") else {
        return;
    };
    let sub = npy::read_object(&path).unwrap();
    let PickleValue::NdArray(e) = sub.get("embeddings").unwrap() else {
        panic!()
    };
    assert_eq!(
        (e.shape.clone(), e.dtype.descr()),
        (vec![600, 20], "<f8".to_string())
    );
    let values = e.to_f64().unwrap();
    assert_eq!(values[0], 0.268_059_296_413_711_2);
    assert!((values.iter().sum::<f64>() - 5973.055290217759).abs() < 1e-6);
}

#[test]
fn pose_npy_round_trips_with_names_and_confidence() {
    let Some(path) = common::sample("openfield_dlc_inference_example_missingdata.csv") else {
        return;
    };
    let mut pose = formats::read_one(&path, None).unwrap();
    pose.fps = Some(30.0);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pose.npy");
    formats::write(&pose, &out, Format::Npy).unwrap();
    assert!(
        dir.path().join("pose.json").is_file() && dir.path().join("pose.confidence.npy").is_file()
    );
    assert_eq!(formats::detect(&out).unwrap(), Format::Npy);
    let back = formats::read_one(&out, None).unwrap();
    assert_eq!(back.keypoints, pose.keypoints);
    assert_eq!(back.fps, Some(30.0));
    assert!(same_values(&back.positions, &pose.positions));
    assert!(same_values(
        &back.confidence.unwrap(),
        &pose.confidence.unwrap()
    ));
}

/// A pose `.npy` set is written as a unit: when its last file cannot be written (here: it
/// exists already), the files this write made are removed and the existing one is untouched.
#[test]
fn a_failed_pose_npy_write_leaves_no_partial_set() {
    let positions = ndarray::Array4::<f32>::zeros((3, 1, 2, 2));
    let pose = behavert_pose::Pose::new(positions, vec!["m".into()], vec!["a".into(), "b".into()])
        .unwrap()
        .with_confidence(ndarray::Array3::<f32>::ones((3, 1, 2)))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pose.npy");
    std::fs::write(&out, b"someone else's file").unwrap();
    let err = formats::write(&pose, &out, Format::Npy)
        .unwrap_err()
        .to_string();
    assert!(err.contains("never overwrites"), "{err}");
    assert_eq!(std::fs::read(&out).unwrap(), b"someone else's file");
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, ["pose.npy"], "partial set left behind");
}
