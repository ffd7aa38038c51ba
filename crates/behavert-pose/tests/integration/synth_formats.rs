//! Simulated mice written in every format BehavERT writes, and read back by its readers:
//! DeepLabCut CSV and HDF5, SLEAP analysis HDF5, npy, and CalMS21 JSON with labels.

use behavert_pose::datasets::{self, DatasetKind, DatasetOptions, Split, calms21};
use behavert_pose::synth::{SimulationConfig, simulate};
use behavert_pose::{Format, formats};
use behavert_test_support::close_value;
use ndarray::Array4;

fn same_positions(a: &Array4<f32>, b: &Array4<f32>, tolerance: f32, what: &str) {
    assert_eq!(a.dim(), b.dim(), "{what}");
    for (i, (x, y)) in a.iter().zip(b.iter()).enumerate() {
        assert!(
            close_value(*x, *y, tolerance),
            "{what}: value {i}: {x} vs {y}"
        );
    }
}

#[test]
fn simulated_recordings_round_trip_through_every_writer() {
    let recording = simulate(&SimulationConfig {
        frames: 120,
        ..Default::default()
    })
    .unwrap();
    assert!(
        recording.pose.positions.iter().any(|v| v.is_nan()),
        "the tracker noise drops keypoints"
    );
    let dir = tempfile::tempdir().unwrap();
    for (format, file) in [
        (Format::DlcCsv, "mice.csv"),
        (Format::DlcH5, "mice.h5"),
        (Format::SleapH5, "mice.analysis.h5"),
        (Format::Npy, "mice.npy"),
    ] {
        let path = dir.path().join(file);
        formats::write(&recording.pose, &path, format).unwrap();
        let back = formats::read_one(&path, Some(format)).unwrap();
        same_positions(&recording.pose.positions, &back.positions, 1e-3, file);
        assert_eq!(back.keypoints, recording.pose.keypoints, "{file}");
    }
}

#[test]
fn simulated_recordings_as_a_calms21_dataset() {
    let recordings: Vec<_> = (0..3)
        .map(|seed| {
            simulate(&SimulationConfig {
                seed,
                frames: 90,
                ..Default::default()
            })
            .unwrap()
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let sequences = |range: std::ops::Range<usize>, names: &[String]| -> Vec<(String, usize)> {
        range.map(|i| (names[i].clone(), i)).collect()
    };
    let names: Vec<String> = (0..3).map(|i| format!("simulated_{i}")).collect();
    for (file, part) in [
        ("calms21_task1_train.json", sequences(0..2, &names)),
        ("calms21_task1_test.json", sequences(2..3, &names)),
    ] {
        let items: Vec<calms21::JsonSequence> = part
            .iter()
            .map(|(id, i)| calms21::JsonSequence {
                id,
                pose: &recordings[*i].pose,
                labels: Some(&recordings[*i].labels),
            })
            .collect();
        calms21::write_json(&dir.path().join(file), "annotator-id_0", &items).unwrap();
    }
    let dataset =
        datasets::load(DatasetKind::Calms21, dir.path(), &DatasetOptions::default()).unwrap();
    assert_eq!(dataset.sequences.len(), 3);
    for sequence in &dataset.sequences {
        let i: usize = sequence.id.rsplit('_').next().unwrap().parse().unwrap();
        assert_eq!(sequence.split == Split::Test, i == 2, "{}", sequence.id);
        same_positions(
            &recordings[i].pose.positions,
            &sequence.pose.positions,
            1e-4,
            &sequence.id,
        );
        assert_eq!(
            sequence.labels.as_ref(),
            Some(&recordings[i].labels),
            "{}",
            sequence.id
        );
    }
}
