//! DeepLabCut CSV: conformance on the real sample files, and our writer read back.

use behavert_pose::Space;
use behavert_pose::formats::{self, Format};
use behavert_test_support::same_values;

use crate::common;

#[test]
fn real_predictions_csv_has_exact_names_shapes_and_values() {
    let Some(path) = common::sample("openfield_dlc_inference_example.csv") else {
        return;
    };
    assert_eq!(formats::detect(&path).unwrap(), Format::DlcCsv);
    let pose = formats::read_one(&path, None).unwrap();
    assert_eq!(pose.positions.dim(), (2330, 1, 4, 2));
    assert_eq!(pose.keypoints, ["snout", "leftear", "rightear", "tailbase"]);
    assert_eq!(pose.individuals, ["individual_0"]);
    assert_eq!(pose.space(), Space::Xy);
    assert_eq!(pose.software.as_deref(), Some("DeepLabCut"));
    let conf = pose.confidence.as_ref().unwrap();
    // Every value of a few lines equals the CSV text, rounded to f32.
    for (frame, line) in [(0usize, 4usize), (1234, 1238), (2329, 2333)] {
        let cells = common::csv_line(&path, line);
        for k in 0..4 {
            assert_eq!(pose.positions[[frame, 0, k, 0]], cells[3 * k] as f32);
            assert_eq!(pose.positions[[frame, 0, k, 1]], cells[3 * k + 1] as f32);
            assert_eq!(conf[[frame, 0, k]], cells[3 * k + 2] as f32);
        }
    }
    assert_eq!(pose.positions[[1234, 0, 2, 1]], (370.735_29_f64 as f32));
    assert!(pose.positions.iter().all(|v| v.is_finite()));
}

#[test]
fn real_predictions_csv_with_missing_cells_reads_them_as_nan() {
    let Some(path) = common::sample("openfield_dlc_inference_example_missingdata.csv") else {
        return;
    };
    let pose = formats::read_one(&path, None).unwrap();
    assert_eq!(pose.positions.dim(), (2330, 1, 4, 2));
    // pandas: 6 empty cells, snout x/y/likelihood in frames 0 and 1.
    assert_eq!(pose.positions.iter().filter(|v| v.is_nan()).count(), 4);
    let conf = pose.confidence.as_ref().unwrap();
    assert_eq!(conf.iter().filter(|v| v.is_nan()).count(), 2);
    for frame in [0, 1] {
        assert!(pose.positions[[frame, 0, 0, 0]].is_nan() && conf[[frame, 0, 0]].is_nan());
        assert!(pose.positions[[frame, 0, 1, 0]].is_finite());
    }
    assert_eq!(
        pose.missing_fraction(),
        vec![vec![2.0 / 2330.0, 0.0, 0.0, 0.0]]
    );
}

fn write_read(pose: &behavert_pose::Pose, name: &str) -> behavert_pose::Pose {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join(name);
    formats::write(pose, &out, Format::DlcCsv).unwrap();
    assert_eq!(formats::detect(&out).unwrap(), Format::DlcCsv);
    formats::read_one(&out, None).unwrap()
}

#[test]
fn written_single_animal_csv_reads_back_identically() {
    let Some(path) = common::sample("openfield_dlc_inference_example_missingdata.csv") else {
        return;
    };
    let pose = formats::read_one(&path, None).unwrap();
    let back = write_read(&pose, "out.csv");
    assert_eq!(back.keypoints, pose.keypoints);
    assert_eq!(back.individuals, pose.individuals);
    assert!(same(&back.positions, &pose.positions));
    assert!(same(
        back.confidence.as_ref().unwrap(),
        pose.confidence.as_ref().unwrap()
    ));
}

#[test]
fn multi_animal_3d_csv_round_trips() {
    use ndarray::Array4;
    let mut positions = Array4::<f32>::from_shape_fn((5, 2, 3, 3), |(f, i, k, s)| {
        (f * 100 + i * 10 + k) as f32 + s as f32 * 0.25
    });
    positions[[2, 1, 0, 2]] = f32::NAN;
    let pose = behavert_pose::Pose::new(
        positions,
        vec!["m1".into(), "m,2".into()],
        vec!["nose".into(), "ear".into(), "tail".into()],
    )
    .unwrap();
    let back = write_read(&pose, "multi.csv");
    assert_eq!(back.individuals, ["m1", "m,2"]);
    assert_eq!(back.space(), Space::Xyz);
    assert!(back.confidence.is_none());
    assert!(same(&back.positions, &pose.positions));
}

#[test]
fn labelled_data_csv_with_three_index_columns_and_single_bodyparts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("CollectedData_J.csv");
    std::fs::write(
        &path,
        "scorer,,,J,J,J,J,J,J\n\
         individuals,,,a1,a1,a2,a2,single,single\n\
         bodyparts,,,nose,nose,nose,nose,led,led\n\
         coords,,,x,y,x,y,x,y\n\
         labeled-data,vid,img001.png,1,2,3,4,5,6\n\
         labeled-data,vid,img002.png,,,7.5,8,,\n",
    )
    .unwrap();
    let pose = formats::read_one(&path, None).unwrap();
    assert_eq!(pose.individuals, ["a1", "a2", "single"]);
    assert_eq!(pose.keypoints, ["nose", "led"]);
    assert_eq!(pose.positions.dim(), (2, 3, 2, 2));
    assert_eq!(pose.positions[[0, 2, 1, 1]], 6.0);
    assert_eq!(pose.positions[[1, 1, 0, 0]], 7.5);
    assert!(pose.positions[[1, 0, 0, 0]].is_nan());
    // a1/a2 have no `led`, `single` has no `nose`: NaN, never zero.
    assert!(pose.positions[[0, 0, 1, 0]].is_nan() && pose.positions[[0, 2, 0, 0]].is_nan());
}

fn same<D: ndarray::Dimension>(a: &ndarray::Array<f32, D>, b: &ndarray::Array<f32, D>) -> bool {
    a.shape() == b.shape() && same_values(a, b)
}

#[test]
fn header_rows_longer_than_a_mebibyte_are_read_whole() {
    // 20,000 keypoints with long names: each header row is over 1 MiB, longer than the part
    // of the file format detection and the Lightning Pose check look at.
    let keypoints: Vec<String> = (0..20_000)
        .map(|k| format!("a_keypoint_with_a_long_name_{k}"))
        .collect();
    let positions = ndarray::Array4::from_shape_fn((2, 1, keypoints.len(), 2), |(f, _, k, d)| {
        (f * 100_000 + k * 2 + d) as f32
    });
    let pose = behavert_pose::Pose::new(positions, vec!["mouse".into()], keypoints).unwrap();
    let back = write_read(&pose, "wide.csv");
    assert_eq!(back.keypoints, pose.keypoints);
    assert!(same(&back.positions, &pose.positions));
}
