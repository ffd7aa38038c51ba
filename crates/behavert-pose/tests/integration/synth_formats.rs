//! Simulated mice written in every format BehavERT writes, and read back by its readers:
//! DeepLabCut CSV and HDF5, SLEAP analysis HDF5, npy, and CalMS21 JSON with labels.

use std::path::Path;

use behavert_pose::datasets::{self, DatasetKind, DatasetOptions, Split};
use behavert_pose::labels::FrameLabels;
use behavert_pose::synth::{Recording, SimulationConfig, simulate};
use behavert_pose::{Format, formats};
use behavert_test_support::close_value;
use ndarray::Array4;

/// Simulated recordings as a CalMS21 JSON file under `group`, laid out as the dataset's files
/// are (`{group: {id: {keypoints [T][2][x, y][7], scores [T][2][7], annotations,
/// metadata.vocab}}}`), missing coordinates `null` as Python's json writes None.
fn write_calms21_json(path: &Path, group: &str, sequences: &[(&str, &Recording)]) {
    let finite = |v: f32| v.is_finite().then_some(v);
    let mut records = serde_json::Map::new();
    for (id, recording) in sequences {
        let (positions, confidence) = (&recording.pose.positions, &recording.pose.confidence);
        let (frames, mice, keypoints, _) = positions.dim();
        let xy: Vec<Vec<Vec<Vec<Option<f32>>>>> = (0..frames)
            .map(|f| {
                (0..mice)
                    .map(|m| {
                        (0..2)
                            .map(|d| {
                                (0..keypoints)
                                    .map(|k| finite(positions[[f, m, k, d]]))
                                    .collect()
                            })
                            .collect()
                    })
                    .collect()
            })
            .collect();
        let scores: Vec<Vec<Vec<Option<f32>>>> = (0..frames)
            .map(|f| {
                (0..mice)
                    .map(|m| {
                        (0..keypoints)
                            .map(|k| confidence.as_ref().and_then(|c| finite(c[[f, m, k]])))
                            .collect()
                    })
                    .collect()
            })
            .collect();
        let FrameLabels::Single(ids) = &recording.labels.frames else {
            panic!("{id}: one behaviour per frame");
        };
        let annotations: Vec<u32> = ids
            .iter()
            .map(|i| i.expect("every frame labelled"))
            .collect();
        let vocab: serde_json::Map<String, serde_json::Value> =
            (recording.labels.vocabulary.iter())
                .enumerate()
                .map(|(i, name)| (name.clone(), i.into()))
                .collect();
        records.insert(
            id.to_string(),
            serde_json::json!({
                "keypoints": xy,
                "scores": scores,
                "annotations": annotations,
                "metadata": {"annotator-id": 0, "vocab": vocab},
            }),
        );
    }
    let root = serde_json::json!({ group: records });
    std::fs::write(path, serde_json::to_vec(&root).unwrap()).unwrap();
}

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
        let items: Vec<(&str, &Recording)> = part
            .iter()
            .map(|(id, i)| (id.as_str(), &recordings[*i]))
            .collect();
        write_calms21_json(&dir.path().join(file), "annotator-id_0", &items);
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
