//! The dataset loaders on format-exact fixtures (written by
//! `scripts/make_dataset_fixtures.py` with the datasets' own writers). Values follow
//! x = 100·individual + 10·keypoint + frame, y = 500 + …, z = 900 + …, so an axis mix-up
//! shows as a wrong number.

use std::path::{Path, PathBuf};

use behavert_pose::datasets::{
    self, DatasetKind, DatasetOptions, Split, calms21, mabe22, mabe2025, pair_r24m, sbea,
};
use behavert_pose::labels::{FrameLabels, TargetKind};
use behavert_pose::pose::Pose;

use crate::common;

fn fixtures(name: &str) -> PathBuf {
    common::fixture("datasets").join(name)
}

fn coord(frame: usize, individual: usize, keypoint: usize, axis: usize) -> f32 {
    [0.0, 500.0, 900.0][axis] + 100.0 * individual as f32 + 10.0 * keypoint as f32 + frame as f32
}

/// Every non-missing coordinate follows the fixture formula (x in x, y in y…).
fn assert_formula(pose: &Pose) {
    for ((t, i, k, s), &v) in pose.positions.indexed_iter() {
        if !v.is_nan() {
            assert_eq!(
                v,
                coord(t, i, k, s),
                "frame {t} individual {i} keypoint {k} axis {s}"
            );
        }
    }
}

fn options(task: &str) -> DatasetOptions {
    DatasetOptions {
        task: Some(task.to_string()),
        ..DatasetOptions::default()
    }
}

#[test]
fn calms21_task1_json_transposes_keypoints_and_reads_vocabulary() {
    let dataset = datasets::load(
        DatasetKind::Calms21,
        &fixtures("calms21"),
        &options("task1"),
    )
    .unwrap();
    assert_eq!(dataset.sequences.len(), 3);
    assert_eq!(
        dataset.vocabulary,
        ["attack", "investigation", "mount", "other"]
    );
    assert_eq!(dataset.left_right_pairs.len(), 2);
    let train: Vec<_> = dataset.split(Split::Train).collect();
    assert_eq!(train.len(), 2);
    assert_eq!(dataset.split(Split::Test).count(), 1);
    let first = train[0];
    assert_eq!(first.id, "task1/train/mouse001_task1_annotator1");
    assert_eq!(first.group.as_deref(), Some("annotator-id_0"));
    assert_eq!(first.pose.positions.dim(), (6, 2, 7, 2));
    assert_eq!(first.pose.individuals, ["resident", "intruder"]);
    assert_eq!(first.pose.keypoints[6], "tail");
    assert_formula(&first.pose);
    // frame 5, intruder, right_hip: x = 100 + 50 + 5, y = 655.
    assert_eq!(first.pose.positions[[5, 1, 5, 0]], 155.0);
    assert_eq!(first.pose.positions[[5, 1, 5, 1]], 655.0);
    assert_eq!(first.pose.confidence.as_ref().unwrap()[[0, 1, 6]], 0.25);
    let labels = first.labels.as_ref().unwrap();
    assert_eq!(
        labels.frames,
        FrameLabels::Single([3, 3, 1, 1, 0, 2].map(Some).to_vec())
    );
    assert_eq!(first.metadata["annotator_id"], 0);
}

#[test]
fn calms21_npy_variant_matches_json() {
    let json = datasets::load(
        DatasetKind::Calms21,
        &fixtures("calms21"),
        &options("task1"),
    )
    .unwrap();
    let npy = datasets::load(
        DatasetKind::Calms21,
        &fixtures("calms21_npy"),
        &options("task1"),
    )
    .unwrap();
    let json_train: Vec<_> = json.split(Split::Train).collect();
    assert_eq!(npy.sequences.len(), 2);
    for (a, b) in json_train.iter().zip(&npy.sequences) {
        assert_eq!(a.id, b.id);
        assert_eq!(a.pose.positions, b.pose.positions);
        assert_eq!(a.labels, b.labels);
    }
}

#[test]
fn calms21_task2_task3_unlabelled_groups_and_filters() {
    let dir = fixtures("calms21");
    let task2 = datasets::load(DatasetKind::Calms21, &dir, &options("task2")).unwrap();
    let groups: Vec<_> = task2
        .sequences
        .iter()
        .map(|s| s.group.clone().unwrap())
        .collect();
    assert_eq!(groups, ["annotator-id_1", "annotator-id_2"]);
    assert_eq!(task2.sequences[1].metadata["annotator_id"], 2);
    let only = DatasetOptions {
        group: Some("annotator-id_2".into()),
        ..options("task2")
    };
    assert_eq!(
        datasets::load(DatasetKind::Calms21, &dir, &only)
            .unwrap()
            .sequences
            .len(),
        1
    );

    let task3 = datasets::load(DatasetKind::Calms21, &dir, &options("task3")).unwrap();
    assert_eq!(task3.vocabulary, ["other", "approach", "groom"]);
    assert_eq!(
        task3.sequences[1].labels.as_ref().unwrap().vocabulary,
        ["other", "groom"]
    );

    let unlabelled = datasets::load(DatasetKind::Calms21, &dir, &options("unlabeled")).unwrap();
    assert_eq!(unlabelled.sequences.len(), 2);
    assert!(
        unlabelled
            .sequences
            .iter()
            .all(|s| s.labels.is_none() && s.split == Split::Unlabelled)
    );
    assert_formula(&unlabelled.sequences[1].pose);
}

#[test]
fn calms21_streams_one_sequence_at_a_time_and_stops_early() {
    let path = fixtures("calms21").join("calms21_task1_train.json");
    let ids: Vec<String> = calms21::stream(&path, Split::Train)
        .map(|s| s.unwrap().id)
        .collect();
    assert_eq!(ids.len(), 2);
    let limited = DatasetOptions {
        limit: Some(1),
        ..options("task1")
    };
    let dataset = datasets::load(DatasetKind::Calms21, &fixtures("calms21"), &limited).unwrap();
    assert_eq!(dataset.sequences.len(), 1);
}

#[test]
fn calms21_summary_counts_classes_and_splits() {
    let summary = datasets::summarize(
        DatasetKind::Calms21,
        &fixtures("calms21"),
        &options("task1"),
    )
    .unwrap();
    assert_eq!((summary.sequences, summary.frames), (3, 15));
    assert_eq!(summary.splits.len(), 2);
    let counts: Vec<_> = summary
        .vocabulary
        .iter()
        .map(|c| (c.name.as_str(), c.frames))
        .collect();
    assert_eq!(
        counts,
        [
            ("attack", 3),
            ("investigation", 5),
            ("mount", 1),
            ("other", 6)
        ]
    );
    assert_eq!(summary.missing_fraction, 0.0);
    let json = serde_json::to_value(&summary).unwrap();
    assert_eq!(json["dataset"], "calms21");
    assert!(summary.to_string().contains("investigation"));
}

fn check_mabe22(dir: &Path) {
    let dataset = datasets::load(DatasetKind::Mabe22, dir, &DatasetOptions::default()).unwrap();
    assert_eq!(dataset.sequences.len(), 5);
    let train = &dataset.sequences[0];
    assert_eq!(train.id, "0D2SPY7EPE05CRPC8DP0");
    assert_eq!(train.pose.positions.dim(), (5, 3, 12, 2));
    assert_eq!(train.pose.keypoints[4], "left_forepaw");
    assert!(train.pose.positions[[2, 1, 4, 0]].is_nan());
    assert_formula(&train.pose);
    let targets = train.targets.as_ref().unwrap();
    assert_eq!(targets.tasks[1].name, "chases");
    assert_eq!(targets.values.dim(), (5, 2));
    assert!(targets.values[[1, 1]].is_nan());
    assert_eq!(targets.values[[2, 1]], 1.0);

    let test: Vec<_> = dataset.split(Split::Test).collect();
    assert_eq!(test.len(), 3);
    let third = test[2].targets.as_ref().unwrap();
    assert_eq!(third.tasks.len(), 13);
    assert_eq!(third.tasks[1].kind, TargetKind::Continuous);
    assert_eq!(third.tasks[4].kind, TargetKind::Discrete);
    assert_eq!(third.values[[0, 0]], 1.0); // experiment_day of the third sequence
    assert!(third.values[[0, 4]].is_nan()); // chases: unlabelled there
    let second = test[1].targets.as_ref().unwrap();
    assert_eq!(second.values.column(4).to_vec(), [0.0, 0.0, 1.0, 0.0]);

    let map = mabe22::read_frame_number_map(&dir.join("frame_number_map.npy")).unwrap();
    assert_eq!(map.len(), 3);
    assert_eq!(map.get("DURK5RWJG4Y14PGH5PBY"), Some(8..12));
}

#[test]
fn mabe22_numpy2_pickles_load() {
    check_mabe22(&fixtures("mabe22"));
}

#[test]
fn mabe22_numpy1_pickles_load() {
    // Written by numpy 1.26 (protocol 3, `numpy.core.multiarray`).
    let dir = fixtures("mabe22_np1");
    let head = std::fs::read(dir.join("frame_number_map.npy")).unwrap();
    assert!(head.windows(22).any(|w| w == b"cnumpy.core.multiarray"));
    check_mabe22(&dir);
}

#[test]
fn mabe22_fly_layout_keeps_the_19_keypoints() {
    let dataset = datasets::load(
        DatasetKind::Mabe22,
        &fixtures("mabe22_fly"),
        &options("fly"),
    )
    .unwrap();
    let pose = &dataset.sequences[0].pose;
    assert_eq!(pose.positions.dim(), (3, 11, 19, 2));
    assert_eq!(pose.fps, Some(150.0));
    assert_eq!(pose.keypoints[8], "tip_abdomen");
    assert_formula(pose);
    assert!(
        pose.positions
            .slice(ndarray::s![.., 8.., .., ..])
            .iter()
            .all(|v| v.is_nan())
    );
}

#[test]
fn sbea_columns_split_into_animals_keypoints_xyz() {
    let dataset = datasets::load(
        DatasetKind::Sbea,
        &fixtures("sbea"),
        &DatasetOptions::default(),
    )
    .unwrap();
    assert_eq!(dataset.sequences.len(), 2);
    for sequence in &dataset.sequences {
        assert_eq!(
            sequence.pose.positions.dim().1..=sequence.pose.positions.dim().3,
            2..=3
        );
        assert_formula(&sequence.pose);
        assert!(sequence.pose.positions[[1, 1, 13, 2]].is_nan()); // root_tail of animal 1
    }
    let first = &dataset.sequences[0];
    assert_eq!(first.id, "rec1-A1A6-20220822");
    assert_eq!(first.pose.individuals, ["A1", "A6"]);
    assert_eq!(first.pose.positions.dim(), (4, 2, 16, 3));
    assert_eq!(
        first.pose.positions[[3, 1, 15, 2]],
        900.0 + 100.0 + 150.0 + 3.0
    );
    assert_eq!(first.metadata["date"], "20220822");
    // The second file is zlib-compressed.
    assert_eq!(dataset.sequences[1].pose.individuals, ["B2", "B3"]);
    assert_eq!(sbea::split_animals("B2B3"), ["B2", "B3"]);
}

#[test]
fn deepethogram_multilabel_with_unlabelled_rows_and_dlc_keypoints() {
    let dir = fixtures("deepethogram/mice_project_deepethogram");
    let dataset =
        datasets::load(DatasetKind::DeepEthogram, &dir, &DatasetOptions::default()).unwrap();
    assert_eq!(dataset.sequences.len(), 2);
    assert_eq!(dataset.vocabulary, ["background", "groom", "rear"]);
    assert_eq!(dataset.skipped.len(), 1);
    assert!(dataset.skipped[0].path.ends_with("vid3"));
    let vid1 = &dataset.sequences[0];
    assert_eq!(vid1.id, "vid1");
    assert_eq!(vid1.pose.positions.dim(), (4, 1, 4, 2));
    assert_formula(&vid1.pose);
    let FrameLabels::Multi(rows) = &vid1.labels.as_ref().unwrap().frames else {
        panic!("multi-label expected");
    };
    assert_eq!(rows[2], [Some(false), Some(true), Some(true)]);
    let FrameLabels::Multi(rows) = &dataset.sequences[1].labels.as_ref().unwrap().frames else {
        panic!("multi-label expected");
    };
    assert_eq!(rows[1], [None, None, None]);
    let summary =
        datasets::summarize(DatasetKind::DeepEthogram, &dir, &DatasetOptions::default()).unwrap();
    assert_eq!((summary.labelled_frames, summary.unlabelled_frames), (5, 2));
}

#[test]
fn pair_r24m_markers_labels_and_bad_frames() {
    let dir = fixtures("pair_r24m/PAIR-R24M-Dataset");
    let dataset = datasets::load(DatasetKind::PairR24m, &dir, &DatasetOptions::default()).unwrap();
    assert_eq!(dataset.sequences.len(), 2);
    let first = &dataset.sequences[0];
    assert_eq!(first.id, "20210205_Recording_SR1_SR6m_wvid_social_new");
    assert_eq!(first.group.as_deref(), Some("SR1_SR6m"));
    assert_eq!(first.pose.positions.dim(), (5, 2, 12, 3));
    assert_eq!(first.pose.keypoints, pair_r24m::SPEC.keypoints);
    assert_formula(&first.pose);
    assert!(
        first
            .pose
            .positions
            .slice(ndarray::s![1, 0, .., ..])
            .iter()
            .all(|v| v.is_nan())
    );
    assert!(first.pose.positions[[2, 1, 0, 0]].is_nan());
    assert_eq!(first.pose.positions[[2, 1, 0, 1]], coord(2, 1, 0, 1));
    assert_eq!(first.metadata["bad_frames_an1"], 1);
    let coarse = first.labels.as_ref().unwrap();
    assert_eq!(
        coarse.frames,
        FrameLabels::Single([1, 2, 3, 1, 2].map(Some).to_vec())
    );
    assert_eq!(coarse.vocabulary.len(), 4);
    let (name, interaction) = &first.extra_labels[4];
    assert_eq!(name, "interactionCat");
    assert_eq!(
        interaction.frames,
        FrameLabels::Single(vec![Some(2), None, None, None, None])
    );
    let keep = DatasetOptions {
        keep_bad_frames: true,
        task: Some("fine".into()),
        ..DatasetOptions::default()
    };
    let kept = datasets::load(DatasetKind::PairR24m, &dir, &keep).unwrap();
    assert_formula(&kept.sequences[0].pose);
    assert_eq!(
        kept.sequences[0].pose.positions[[1, 0, 0, 0]],
        coord(1, 0, 0, 0)
    );
    assert_eq!(kept.vocabulary.len(), 6);
}

#[test]
fn mabe2025_parquet_tracking_and_annotations_become_poses_and_roles() {
    let dir = fixtures("mabe2025");
    let dataset = datasets::load(DatasetKind::Mabe2025, &dir, &DatasetOptions::default()).unwrap();
    let ids: Vec<(&str, Split, Option<&str>)> = dataset
        .sequences
        .iter()
        .map(|s| (s.id.as_str(), s.split, s.group.as_deref()))
        .collect();
    assert_eq!(
        ids,
        [
            ("101", Split::Train, Some("AdaptableSnail")),
            ("102", Split::Train, Some("AdaptableSnail")),
            ("201", Split::Train, Some("CalMS21_task1")),
            ("301", Split::Test, Some("AdaptableSnail")),
        ]
    );
    // Video 101: snappy, int8 ids, float32, dictionary-encoded body parts, shuffled rows.
    let video = &dataset.sequences[0];
    let pose = &video.pose;
    assert_eq!(pose.individuals, ["mouse1", "mouse2", "mouse3"]);
    assert_eq!(
        pose.keypoints,
        ["nose", "ear_left", "ear_right", "tail_base"]
    );
    assert_eq!(pose.frames(), 10);
    assert_eq!(pose.fps, Some(30.0));
    assert_formula(pose);
    // Mouse 3 has no rows in frames 4 to 6: out of view, missing.
    for frame in 0..10 {
        let missing = pose
            .positions
            .slice(ndarray::s![frame, 2, .., ..])
            .iter()
            .all(|v| v.is_nan());
        assert_eq!(missing, (4..=6).contains(&frame), "frame {frame}");
    }
    let roles = video.roles.as_ref().unwrap();
    let bouts: Vec<(&str, Option<&str>, &str, std::ops::Range<usize>)> = roles
        .bouts
        .iter()
        .map(|b| {
            (
                b.agent.as_str(),
                b.target.as_deref(),
                b.behaviour.as_str(),
                b.frames.clone(),
            )
        })
        .collect();
    assert_eq!(
        bouts,
        [
            ("mouse1", None, "selfgroom", 5..9),
            ("mouse1", Some("mouse2"), "sniff", 0..5),
            ("mouse2", Some("mouse3"), "attack", 2..4),
        ]
    );
    // behaviors_labeled, stray quotes removed; `self` is a solo behaviour.
    let labelled = video.metadata[mabe2025::BEHAVIORS_LABELED]
        .as_array()
        .unwrap();
    assert_eq!(labelled[2], "mouse2,mouse3,attack");
    assert_eq!(
        mabe2025::labelled_triple("mouse1,self,selfgroom"),
        Some(("mouse1".into(), None, "selfgroom".into()))
    );
    // Video 102: zstd, int64 ids, float64, plain strings.
    let other = &dataset.sequences[1];
    assert_eq!(other.pose.individuals, ["mouse1", "mouse2"]);
    assert_formula(&other.pose);
    assert_eq!(other.roles.as_ref().unwrap().bouts.len(), 1);
    // No annotation file: pose only; other body parts in their listed order.
    let unlabelled = &dataset.sequences[2];
    assert!(unlabelled.roles.is_none());
    assert_eq!(unlabelled.pose.keypoints, ["nose", "neck", "tail_base"]);
    assert_formula(&unlabelled.pose);
    // One lab, one split.
    let lab = DatasetOptions {
        group: Some("CalMS21_task1".into()),
        ..DatasetOptions::default()
    };
    let only = datasets::load(DatasetKind::Mabe2025, &dir, &lab).unwrap();
    assert_eq!(only.sequences.len(), 1);
    let test = DatasetOptions {
        split: Some(Split::Test),
        ..DatasetOptions::default()
    };
    assert_eq!(
        datasets::load(DatasetKind::Mabe2025, &dir, &test)
            .unwrap()
            .sequences
            .len(),
        1
    );
}

#[test]
fn mabe2025_damaged_files_are_refused_naming_the_place() {
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path();
    let source = fixtures("mabe2025");
    std::fs::copy(source.join("train.csv"), dir.join("train.csv")).unwrap();
    let lab = dir.join("train_tracking/AdaptableSnail");
    std::fs::create_dir_all(&lab).unwrap();
    // An annotation file where a tracking file belongs: no `video_frame` column.
    std::fs::copy(
        source.join("train_annotation/AdaptableSnail/101.parquet"),
        lab.join("101.parquet"),
    )
    .unwrap();
    let error = datasets::load(DatasetKind::Mabe2025, dir, &DatasetOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("101.parquet") && error.contains("`video_frame`"),
        "{error}"
    );
    assert!(
        error.contains("agent_id"),
        "lists the columns there are: {error}"
    );
    // Not Parquet at all.
    std::fs::write(lab.join("101.parquet"), b"video_frame,mouse_id\n0,1\n").unwrap();
    let error = datasets::load(DatasetKind::Mabe2025, dir, &DatasetOptions::default())
        .unwrap_err()
        .to_string();
    assert!(error.contains("a Parquet file"), "{error}");
    // A missing tracking file is skipped, with the reason.
    std::fs::remove_file(lab.join("101.parquet")).unwrap();
    let loaded = datasets::load(DatasetKind::Mabe2025, dir, &DatasetOptions::default()).unwrap();
    assert!(loaded.sequences.is_empty());
    assert!(
        loaded.skipped[0]
            .reason
            .contains("no tracking file for video 101")
    );
}

#[test]
fn dataset_names_parse_and_print() {
    for kind in DatasetKind::all() {
        assert_eq!(kind.to_string().parse::<DatasetKind>().unwrap(), kind);
    }
    assert_eq!(
        "PAIR_R24M".parse::<DatasetKind>().unwrap(),
        DatasetKind::PairR24m
    );
    let err = "calms".parse::<DatasetKind>().unwrap_err().to_string();
    assert!(err.contains("calms21, mabe22"), "{err}");
}

#[test]
fn configs_match_the_specs_and_preprocess_keys() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs/data");
    for kind in DatasetKind::all() {
        let path = root.join(format!("{}.toml", kind.name()));
        let text = std::fs::read_to_string(&path).unwrap();
        let config: toml::Value = toml::from_str(&text).unwrap();
        let spec = kind.spec();
        let names = |key: &str| -> Vec<String> {
            config[key]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
                .collect()
        };
        assert_eq!(
            config["name"].as_str(),
            Some(spec.name),
            "{}",
            path.display()
        );
        assert_eq!(
            config.get("fps").and_then(|v| v.as_float()),
            spec.fps,
            "{}",
            path.display()
        );
        assert_eq!(config["space"].as_str().unwrap(), spec.space.to_string());
        assert_eq!(names("keypoints"), spec.keypoints, "{}", path.display());
        assert_eq!(names("individuals"), spec.individuals, "{}", path.display());
        let pairs: Vec<(String, String)> = config["left_right_pairs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p[0].as_str().unwrap().into(), p[1].as_str().unwrap().into()))
            .collect();
        let expected: Vec<(String, String)> = spec
            .left_right_pairs
            .iter()
            .map(|(l, r)| (l.to_string(), r.to_string()))
            .collect();
        assert_eq!(pairs, expected, "{}", path.display());
        let preprocess: behavert_pose::preprocess::PreprocessConfig =
            config["preprocess"].clone().try_into().unwrap();
        if let Some([a, b]) = &preprocess.body_axis {
            assert!(spec.keypoints.contains(&a.as_str()) && spec.keypoints.contains(&b.as_str()));
        }
    }
}
