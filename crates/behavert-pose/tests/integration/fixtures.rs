//! Conformance with the trackers' own writers: every file in `tests/fixtures/manifest.json` was
//! written by the real tool (`scripts/make_pose_fixtures.sh`), and `<file>.expected.json` holds
//! what that tool reads back. Ours must equal theirs to the float32, NaN for NaN.

use behavert_pose::formats::{self, Format, npy};
use behavert_pose::pickle::PickleValue;
use behavert_test_support::first_difference;
use serde_json::Value;

use crate::common;

fn floats(v: &Value) -> Vec<f32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().map_or(f32::NAN, |f| f as f32))
        .collect()
}

fn same(ours: &[f32], theirs: &[f32]) -> Option<usize> {
    first_difference(ours, theirs)
}

#[test]
fn every_fixture_reads_as_its_writer_reads_it() {
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(common::fixture("manifest.json")).unwrap())
            .unwrap();
    let entries = manifest.as_array().unwrap();
    assert!(entries.len() >= 18);
    let mut failures = Vec::new();
    for entry in entries {
        let file = entry["file"].as_str().unwrap();
        let path = common::fixture(file);
        let format: Format = entry["format"].as_str().unwrap().parse().unwrap();
        let expected: Value = serde_json::from_str(
            &std::fs::read_to_string(common::fixture(entry["expected"].as_str().unwrap())).unwrap(),
        )
        .unwrap();
        let detected = formats::detect(&path);
        if detected.as_ref().ok() != Some(&format) {
            failures.push(format!("{file}: detected {detected:?}, expected {format}"));
        }
        let pose = match formats::read_one(&path, None) {
            Ok(p) => p,
            Err(e) => {
                failures.push(format!("{file}: {e}"));
                continue;
            }
        };
        let shape: Vec<usize> = expected["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_u64().unwrap() as usize)
            .collect();
        if pose.positions.shape() != shape.as_slice() {
            failures.push(format!(
                "{file}: shape {:?}, theirs {shape:?}",
                pose.positions.shape()
            ));
            continue;
        }
        let names = |key: &str| {
            expected[key]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n.as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        };
        let (their_ind, their_kp) = (names("individuals"), names("keypoints"));
        // Same names, compared name by name: movement sorts keypoints alphabetically for
        // Anipose and NWB, where we keep the file's (skeleton's) order.
        let order = |ours: &[String], theirs: &[String]| -> Option<Vec<usize>> {
            let mut sorted_ours = ours.to_vec();
            let mut sorted_theirs = theirs.to_vec();
            sorted_ours.sort();
            sorted_theirs.sort();
            (sorted_ours == sorted_theirs).then(|| {
                ours.iter()
                    .map(|n| theirs.iter().position(|t| t == n).unwrap())
                    .collect()
            })
        };
        let (Some(io), Some(ko)) = (
            order(&pose.individuals, &their_ind),
            order(&pose.keypoints, &their_kp),
        ) else {
            failures.push(format!(
                "{file}: names {:?}/{:?}, theirs {their_ind:?}/{their_kp:?}",
                pose.individuals, pose.keypoints
            ));
            continue;
        };
        let (ni, nk, ns) = (shape[1], shape[2], shape[3]);
        let reorder = |flat: Vec<f32>, space: usize| -> Vec<f32> {
            let mut out = Vec::with_capacity(flat.len());
            for f in 0..shape[0] {
                for &i in &io {
                    for &k in &ko {
                        for s in 0..space {
                            out.push(flat[((f * ni + i) * nk + k) * space + s]);
                        }
                    }
                }
            }
            out
        };
        if let Some(i) = same(
            pose.positions.as_slice().unwrap(),
            &reorder(floats(&expected["positions"]), ns),
        ) {
            failures.push(format!("{file}: positions differ at flat index {i}"));
        }
        match (&pose.confidence, expected["confidence"].is_null()) {
            (Some(c), false) => {
                if let Some(i) = same(
                    c.as_slice().unwrap(),
                    &reorder(floats(&expected["confidence"]), 1),
                ) {
                    failures.push(format!("{file}: confidence differs at flat index {i}"));
                }
            }
            (None, true) => {}
            (Some(c), true) if c.iter().all(|v| v.is_nan()) => {}
            (ours, _) => failures.push(format!(
                "{file}: confidence present {} vs theirs {}",
                ours.is_some(),
                !expected["confidence"].is_null()
            )),
        }
        if let Some(fps) = expected["fps"].as_f64()
            && pose.fps != Some(fps)
        {
            failures.push(format!("{file}: fps {:?}, theirs {fps}", pose.fps));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} fixtures differ:\n{}",
        failures.len(),
        entries.len(),
        failures.join("\n")
    );
}

#[test]
fn pickled_npy_protocols_2_and_4_read_as_numpy_does() {
    for name in ["object_p4.npy", "object_p2.npy"] {
        let expected: Value = serde_json::from_str(
            &std::fs::read_to_string(common::fixture(&format!("{name}.expected.json"))).unwrap(),
        )
        .unwrap();
        let value = npy::read_object(&common::fixture(name)).unwrap();
        let seq = value.get("sequences").and_then(|s| s.get("SEQ0")).unwrap();
        let Some(PickleValue::NdArray(kp)) = seq.get("keypoints") else {
            panic!("{name}")
        };
        let shape: Vec<usize> = expected["keypoints_shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_u64().unwrap() as usize)
            .collect();
        assert_eq!(kp.shape, shape, "{name}");
        let ours: Vec<f32> = kp.to_f64().unwrap().into_iter().map(|v| v as f32).collect();
        assert_eq!(same(&ours, &floats(&expected["keypoints"])), None, "{name}");
        let Some(PickleValue::NdArray(ann)) = seq.get("annotations") else {
            panic!("{name}")
        };
        let ours: Vec<f32> = ann
            .to_f64()
            .unwrap()
            .into_iter()
            .map(|v| v as f32)
            .collect();
        assert_eq!(
            same(&ours, &floats(&expected["annotations"])),
            None,
            "{name}"
        );
        assert_eq!(
            value.get("n"),
            Some(&PickleValue::Int(expected["n"].as_i64().unwrap()))
        );
        assert_eq!(value.get("ok"), Some(&PickleValue::Bool(true)));
        let vocab: Vec<&str> = value
            .get("vocabulary")
            .unwrap()
            .as_seq()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(vocab, ["attack", "sniff"]);
    }
}

#[test]
fn nwb_keypoints_follow_the_linked_skeleton_and_subjects_become_individuals() {
    let pose = formats::read_one(&common::fixture("nwb_two_subjects.nwb"), None).unwrap();
    assert_eq!(pose.individuals, ["mouse_a", "mouse_b"]);
    assert_eq!(
        pose.keypoints,
        ["nose", "left ear", "tail_base"],
        "order of the skeleton reached through its soft link"
    );
    assert_eq!(
        pose.fps,
        Some(25.0),
        "from timestamps shared through soft links"
    );
    let rate = formats::read_one(&common::fixture("nwb_rate.nwb"), None).unwrap();
    assert_eq!(
        (rate.fps, rate.individuals.clone()),
        (Some(40.0), vec!["subject_rate".to_string()])
    );
}
