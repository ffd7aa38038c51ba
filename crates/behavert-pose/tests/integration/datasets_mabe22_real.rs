//! The real MABe22 files in `../shared/data/samples/` (BehaveMAE hierAS-eval): the test frame
//! map, the example labels and the example submission; and a submission written by us from the
//! real frame map passes the official validation rules.

use std::time::Instant;

use behavert_pose::datasets::mabe22::{self, FrameNumberMap, MOUSE_MAX_DIMS};
use behavert_pose::labels::TargetKind;
use ndarray::Array2;

use crate::common;

#[test]
fn real_frame_number_map_loads() {
    let Some(path) = common::sample("mouse_frame_number_map.npy") else {
        return;
    };
    let start = Instant::now();
    let map = mabe22::read_frame_number_map(&path).unwrap();
    eprintln!("mouse_frame_number_map.npy read in {:?}", start.elapsed());
    assert_eq!(map.len(), 3736);
    assert_eq!(map.total_frames(), 6_724_800);
    assert_eq!(map.get("0D2SPY7EPE05CRPC8DP0"), Some(0..1800));
    assert_eq!(map.get("HQU0RZZFDFINVHEBMNIZ"), Some(1800..3600));
    // Contiguous blocks of 1800 frames, in file order.
    let mut next = 0;
    for (_, range) in map.iter() {
        assert_eq!((range.start, range.len()), (next, 1800));
        next = range.end;
    }
}

#[test]
fn real_example_labels_load() {
    let Some(path) = common::sample("example_labels.npy") else {
        return;
    };
    let labels = mabe22::read_test_labels(&path).unwrap();
    assert_eq!(labels.tasks.len(), 13);
    assert_eq!(labels.tasks[0].name, "experiment_day");
    assert_eq!(labels.tasks[12].name, "lights");
    let kinds: Vec<_> = labels.tasks.iter().map(|t| t.kind).collect();
    assert_eq!(kinds[..2], [TargetKind::Continuous; 2]);
    assert!(kinds[2..].iter().all(|k| *k == TargetKind::Discrete));
    assert_eq!(labels.frame_number_map.len(), 6);
    assert_eq!(labels.values.dim(), (13, 600));
    assert_eq!(
        labels.frame_number_map.get("WQPK2Y3X9G573N5QAS5H"),
        Some(100..200)
    );
    assert_eq!(labels.values[[0, 0]], 0.5);
    // NaN = unlabelled: 65 of the 600 frames of every task (counted with numpy).
    for row in labels.values.rows() {
        assert_eq!(row.iter().filter(|v| v.is_nan()).count(), 65);
    }
}

#[test]
fn real_example_submission_is_float64_and_fails_the_float32_rule() {
    let (Some(path), Some(labels)) = (
        common::sample("example_embeddings.npy"),
        common::sample("example_labels.npy"),
    ) else {
        return;
    };
    let map = mabe22::read_test_labels(&labels).unwrap().frame_number_map;
    let err = mabe22::validate_submission(&path, &map, MOUSE_MAX_DIMS)
        .unwrap_err()
        .to_string();
    // The example was saved from float64: the official check `isinstance(e[0, 0], np.float32)`
    // refuses it too.
    assert!(err.contains("<f8, not float32"), "{err}");
}

#[test]
fn submission_written_from_the_real_map_passes_validation() {
    let Some(path) = common::sample("mouse_frame_number_map.npy") else {
        return;
    };
    let map = mabe22::read_frame_number_map(&path).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("submission.npy");
    // Two dimensions keep the file small (54 MB); the width limit is checked separately.
    let frames = map.total_frames();
    let embeddings = Array2::from_shape_fn((frames, 2), |(f, d)| (f % 1800) as f32 + d as f32);
    let start = Instant::now();
    mabe22::write_submission(&out, &map, &embeddings).unwrap();
    let written = start.elapsed();
    let start = Instant::now();
    let check = mabe22::validate_submission(&out, &map, MOUSE_MAX_DIMS).unwrap();
    eprintln!(
        "submission {frames}x2: written in {written:?}, read back and validated in {:?}",
        start.elapsed()
    );
    assert_eq!(
        (check.frames, check.dims, check.sequences),
        (6_724_800, 2, 3736)
    );
    // For the outside check with numpy (scripts/check_mabe22_submission.py).
    if let Ok(keep) = std::env::var("BEHAVERT_KEEP_SUBMISSION") {
        std::fs::copy(&out, keep).unwrap();
    }

    // The rules, one by one.
    let too_wide = Array2::<f32>::zeros((10, MOUSE_MAX_DIMS + 1));
    let small = FrameNumberMap::new(vec![("A".into(), 0..10)]);
    let err = mabe22::write_submission(&dir.path().join("w.npy"), &small, &too_wide).unwrap_err();
    assert!(err.to_string().contains("at most 128"), "{err}");
    let mut nan = Array2::<f32>::zeros((10, 4));
    nan[[3, 1]] = f32::NAN;
    let err = mabe22::write_submission(&dir.path().join("n.npy"), &small, &nan).unwrap_err();
    assert!(err.to_string().contains("row 3, column 1"), "{err}");
    let short = Array2::<f32>::zeros((9, 4));
    assert!(mabe22::write_submission(&dir.path().join("s.npy"), &small, &short).is_err());
    assert!(!dir.path().join("s.npy").exists());
    // A map that differs from the provided one.
    let ok = dir.path().join("ok.npy");
    mabe22::write_submission(&ok, &small, &Array2::zeros((10, 4))).unwrap();
    let other = FrameNumberMap::new(vec![("A".into(), 0..9), ("B".into(), 9..10)]);
    let err = mabe22::validate_submission(&ok, &other, MOUSE_MAX_DIMS).unwrap_err();
    assert!(err.to_string().contains("frame_number_map"), "{err}");
}

#[test]
fn submission_pickle_is_a_0d_object_array_as_np_save_writes() {
    // np.load(...).item() needs the dict wrapped in a 0-d object array, not a bare dict.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.npy");
    let map = FrameNumberMap::new(vec![("A".into(), 0..3)]);
    mabe22::write_submission(&path, &map, &Array2::from_elem((3, 2), 0.5)).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    assert_eq!((10 + header_len) % 64, 0);
    let value = behavert_pose::pickle::loads(&bytes[10 + header_len..]).unwrap();
    let behavert_pose::pickle::PickleValue::ObjectArray { shape, items } = value else {
        panic!("not an object array: {value:?}");
    };
    assert!(shape.is_empty() && items.len() == 1);
    assert!(items[0].get("embeddings").is_some());
}
