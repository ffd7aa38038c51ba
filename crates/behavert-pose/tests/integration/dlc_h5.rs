//! DeepLabCut HDF5: the real PyTables table-layout labels file, and our writer read back.

use behavert_pose::formats::{self, Format};
use behavert_test_support::same_values;

use crate::common;

#[test]
fn real_labels_h5_table_layout_has_exact_names_shapes_and_values() {
    let Some(path) = common::sample("dlc_openfield_CollectedData_Pranav.h5") else {
        return;
    };
    assert_eq!(formats::detect(&path).unwrap(), Format::DlcH5);
    let pose = formats::read_one(&path, None).unwrap();
    assert_eq!(pose.positions.dim(), (116, 1, 4, 2));
    assert_eq!(pose.keypoints, ["snout", "leftear", "rightear", "tailbase"]);
    assert!(pose.confidence.is_none(), "labels have x, y only");
    // pandas: df.iloc[0] and df.iloc[5] (labeled-data/m4s1/img0005.png).
    let row0 = [
        21.521, 265.428, 33.819, 265.941, 19.984, 250.056, 87.11, 152.698,
    ];
    let row5 = [
        23.571, 327.43, 30.745, 339.215, 28.183, 321.793, 131.177, 318.719,
    ];
    for (frame, row) in [(0, row0), (5, row5)] {
        for k in 0..4 {
            assert_eq!(pose.positions[[frame, 0, k, 0]], row[2 * k] as f32);
            assert_eq!(pose.positions[[frame, 0, k, 1]], row[2 * k + 1] as f32);
        }
    }
    assert_eq!(pose.positions.iter().filter(|v| v.is_nan()).count(), 0);
}

#[test]
fn written_h5_reads_back_identically() {
    let Some(path) = common::sample("openfield_dlc_inference_example_missingdata.csv") else {
        return;
    };
    let pose = formats::read_one(&path, None).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.h5");
    formats::write(&pose, &out, Format::DlcH5).unwrap();
    assert_eq!(formats::detect(&out).unwrap(), Format::DlcH5);
    let back = formats::read_one(&out, None).unwrap();
    assert_eq!(
        (back.individuals.clone(), back.keypoints.clone()),
        (pose.individuals.clone(), pose.keypoints.clone())
    );
    assert!(same_values(&back.positions, &pose.positions));
    assert!(same_values(
        &back.confidence.unwrap(),
        &pose.confidence.unwrap()
    ));
}
