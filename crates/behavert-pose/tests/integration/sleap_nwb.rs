//! SLEAP analysis HDF5 and NWB: conformance on the real legacy/ndx-pose 0.1.1 samples, and the
//! SLEAP writer read back.

use behavert_pose::formats::{self, Format};
use behavert_test_support::same_values;

use crate::common;

#[test]
fn real_legacy_sleap_analysis_has_exact_names_shapes_and_values() {
    let Some(path) = common::sample("ethome_sample_sleap_analysis.h5") else {
        return;
    };
    assert_eq!(formats::detect(&path).unwrap(), Format::SleapH5);
    let pose = formats::read_one(&path, None).unwrap();
    assert_eq!(pose.positions.dim(), (3000, 2, 13, 2));
    assert_eq!(pose.individuals, ["track_0", "track_1"]);
    assert_eq!(
        pose.keypoints,
        [
            "head",
            "thorax",
            "abdomen",
            "wingL",
            "wingR",
            "forelegL4",
            "forelegR4",
            "midlegL4",
            "midlegR4",
            "hindlegL4",
            "hindlegR4",
            "eyeL",
            "eyeR"
        ]
    );
    assert!(
        pose.confidence.is_none(),
        "legacy files have no point_scores"
    );
    // h5py: tracks[track, xy, node, frame]
    assert_eq!(
        pose.positions[[0, 0, 0, 0]],
        (756.806_762_695_312_5_f64 as f32)
    );
    assert_eq!(
        pose.positions[[2000, 1, 5, 1]],
        (616.203_735_351_562_5_f64 as f32)
    );
    assert_eq!(pose.positions[[2999, 0, 12, 0]], (709.203_125_f64 as f32));
    assert_eq!(pose.positions.iter().filter(|v| v.is_nan()).count(), 3052);
    let missing = pose.missing_fraction();
    assert_eq!((missing[0][4] + missing[1][4]) * 3000.0, 329.0);
}

#[test]
fn real_nwb_ndx_pose_0_1_1_has_exact_names_shapes_and_values() {
    let Some(path) = common::sample("ethome_sample_nwb.nwb") else {
        return;
    };
    assert_eq!(formats::detect(&path).unwrap(), Format::Nwb);
    let pose = formats::read_one(&path, None).unwrap();
    assert_eq!(pose.positions.dim(), (2330, 1, 4, 2));
    assert_eq!(
        pose.keypoints,
        [
            "ind1_snout",
            "ind1_leftear",
            "ind1_rightear",
            "ind1_tailbase"
        ]
    );
    assert_eq!(
        pose.individuals,
        ["DLC_resnet50_openfieldAug20shuffle1_30000"]
    );
    assert_eq!(pose.software.as_deref(), Some("DeepLabCut"));
    assert_eq!(pose.fps, Some(1.0), "timestamps are 0, 1, 2… seconds");
    assert_eq!(
        pose.positions[[0, 0, 0, 0]],
        (77.297_805_786_132_81_f64 as f32)
    );
    assert_eq!(pose.positions[[1000, 0, 3, 0]], (335.804_718_02_f64 as f32));
    assert_eq!(pose.positions[[1000, 0, 3, 1]], (356.876_922_61_f64 as f32));
    assert_eq!(
        pose.confidence.as_ref().unwrap()[[1000, 0, 3]],
        (0.999_363_124_370_575_f64 as f32)
    );
}

#[test]
fn written_sleap_analysis_reads_back_identically() {
    let Some(path) = common::sample("ethome_sample_sleap_analysis.h5") else {
        return;
    };
    let pose = formats::read_one(&path, None).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.analysis.h5");
    formats::write(&pose, &out, Format::SleapH5).unwrap();
    assert_eq!(formats::detect(&out).unwrap(), Format::SleapH5);
    let back = formats::read_one(&out, None).unwrap();
    assert_eq!(
        (back.individuals.clone(), back.keypoints.clone()),
        (pose.individuals.clone(), pose.keypoints.clone())
    );
    assert!(same_values(&back.positions, &pose.positions));
}
