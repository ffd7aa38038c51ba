//! Tests of preprocessing on hand-made poses and simulated recordings.

use ndarray::{Array3, Array4};

use super::*;
use crate::synth::{NoiseConfig, SimulationConfig, simulate};

fn names(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i}")).collect()
}

/// One individual, keypoints `k0..`, 2D, positions from `f(frame, keypoint) -> (x, y)`.
fn pose_from(frames: usize, keypoints: usize, f: impl Fn(usize, usize) -> (f32, f32)) -> Pose {
    let positions = Array4::from_shape_fn((frames, 1, keypoints, 2), |(t, _, k, d)| {
        let (x, y) = f(t, k);
        if d == 0 { x } else { y }
    });
    Pose::new(positions, names("m", 1), names("k", keypoints)).unwrap()
}

fn from_toml(text: &str) -> std::result::Result<PreprocessConfig, toml::de::Error> {
    toml::from_str(text)
}

#[test]
fn short_gaps_are_interpolated_and_long_gaps_stay_missing() {
    let mut pose = pose_from(20, 1, |t, _| (t as f32, 2.0 * t as f32));
    for t in [3, 4, 5] {
        pose.positions[[t, 0, 0, 0]] = f32::NAN;
    }
    // Only y missing: the whole keypoint counts as missing, and is filled.
    pose.positions[[8, 0, 0, 1]] = f32::NAN;
    for t in 10..16 {
        pose.positions[[t, 0, 0, 1]] = f32::NAN;
    }
    pose.positions[[0, 0, 0, 0]] = f32::NAN;
    let config = PreprocessConfig {
        max_gap: 5,
        ..Default::default()
    };
    let prepared = prepare(&pose, &config).unwrap();
    for t in [4, 8] {
        assert_eq!(prepared.features[[t, 0]], t as f32);
        assert_eq!(prepared.features[[t, 1]], 2.0 * t as f32);
        assert!(prepared.observed[[t, 0]]);
    }
    for t in 10..16 {
        assert!(
            !prepared.observed[[t, 0]] && !prepared.observed[[t, 1]],
            "frame {t}"
        );
    }
    // Nothing to interpolate from before frame 0.
    assert!(!prepared.observed[[0, 0]]);
    assert!(prepared.frame_observed()[9]);
}

#[test]
fn interpolation_recovers_simulated_truth_better_than_holding_the_last_position() {
    // Gaps only, so the error measured is the interpolation's, not the tracker's jitter.
    // Mice turn and dart within a third of a second, so a straight line is not exact.
    let recording = simulate(&SimulationConfig {
        seed: 3,
        frames: 3000,
        noise: NoiseConfig {
            short_gap_rate: 0.02,
            ..NoiseConfig::none()
        },
        ..Default::default()
    })
    .unwrap();
    let pose = &recording.pose;
    let cleaned = Preprocessor::new(&PreprocessConfig::default(), &PoseLayout::of(pose))
        .unwrap()
        .clean(pose)
        .unwrap();
    let truth = &recording.true_positions;
    let (mut filled, mut interpolated, mut held) = (0usize, 0.0f64, 0.0f64);
    for ((f, i, k), &dropped) in recording.dropped.indexed_iter() {
        if !dropped || cleaned.positions[[f, i, k, 0]].is_nan() {
            continue;
        }
        let last = (0..f)
            .rev()
            .find(|&g| !recording.dropped[[g, i, k]])
            .unwrap();
        filled += 1;
        for d in 0..2 {
            let error = cleaned.positions[[f, i, k, d]] - truth[[f, i, k, d]];
            interpolated += (error as f64).powi(2);
            held += ((pose.positions[[last, i, k, d]] - truth[[f, i, k, d]]) as f64).powi(2);
        }
    }
    assert!(filled > 500, "only {filled} keypoints filled");
    let rmse = (interpolated / (2 * filled) as f64).sqrt();
    let hold_rmse = (held / (2 * filled) as f64).sqrt();
    assert!(
        rmse < 8.0 && rmse < 0.5 * hold_rmse,
        "interpolation RMSE {rmse} px, holding {hold_rmse} px, over {filled} keypoints"
    );
}

#[test]
fn low_confidence_becomes_missing_before_gap_filling() {
    let pose = pose_from(6, 2, |t, k| (t as f32 + k as f32, 0.0));
    let mut confidence = Array3::from_elem((6, 1, 2), 0.9f32);
    confidence[[2, 0, 1]] = 0.05;
    confidence[[3, 0, 0]] = f32::NAN;
    let pose = pose.with_confidence(confidence).unwrap();
    let config = PreprocessConfig {
        max_gap: 0,
        outliers: OutlierConfig {
            min_confidence: Some(0.1),
            ..Default::default()
        },
        ..Default::default()
    };
    let prepared = prepare(&pose, &config).unwrap();
    // Columns: k0.x k0.y k1.x k1.y.
    assert!(!prepared.observed[[2, 2]] && !prepared.observed[[3, 0]]);
    assert!(prepared.observed[[2, 0]] && prepared.observed[[3, 2]]);
}

#[test]
fn jumps_faster_than_the_limit_become_missing_then_the_gap_is_filled() {
    // Body axis k0 -> k1, 10 px long; k0 moves 1 px per frame, with a 200 px spike at frame 5.
    let mut pose = pose_from(12, 2, |t, k| (t as f32 + 10.0 * k as f32, 0.0));
    pose.positions[[5, 0, 0, 1]] = 200.0;
    let config: PreprocessConfig = from_toml(
        r#"
        max_gap = 3
        body_axis = ["k0", "k1"]
        [outliers]
        max_speed = 0.5
        "#,
    )
    .unwrap();
    let cleaned = Preprocessor::new(&config, &PoseLayout::of(&pose))
        .unwrap()
        .clean(&pose)
        .unwrap();
    assert_eq!(cleaned.positions[[5, 0, 0, 0]], 5.0);
    assert_eq!(cleaned.positions[[5, 0, 0, 1]], 0.0);

    // In pixels, a limit of 300 px per frame keeps the spike.
    let config: PreprocessConfig =
        from_toml("[outliers]\nmax_speed = 300.0\nspeed_unit = \"pixels\"").unwrap();
    let prepared = prepare(&pose, &config).unwrap();
    assert_eq!(prepared.features[[5, 1]], 200.0);
}

#[test]
fn a_track_that_really_moved_is_picked_up_again() {
    // Teleport by 30 px at frame 5, then stay: allowance 10 px/frame catches up by frame 8.
    let pose = pose_from(12, 1, |t, _| (if t < 5 { 0.0 } else { 30.0 }, 0.0));
    let config: PreprocessConfig =
        from_toml("max_gap = 0\n[outliers]\nmax_speed = 10.0\nspeed_unit = \"pixels\"").unwrap();
    let prepared = prepare(&pose, &config).unwrap();
    let seen: Vec<bool> = prepared.observed.column(0).to_vec();
    assert_eq!(&seen[5..8], &[false, false, true]);
    assert!(seen[8..].iter().all(|&s| s));
}

#[test]
fn egocentric_alignment_puts_the_body_axis_on_plus_x() {
    let recording = simulate(&SimulationConfig {
        seed: 8,
        frames: 200,
        noise: NoiseConfig::none(),
        ..Default::default()
    })
    .unwrap();
    let pose = &recording.pose;
    let config: PreprocessConfig = from_toml(
        r#"
        body_axis = ["tail", "neck"]
        [align]
        mode = "egocentric"
        individual = "resident"
        centre = ["neck"]
        "#,
    )
    .unwrap();
    let prepared = prepare(pose, &config).unwrap();
    let column = |name: &str| prepared.names.iter().position(|n| n == name).unwrap();
    let (neck_x, neck_y) = (column("resident.neck.x"), column("resident.neck.y"));
    let (tail_x, tail_y) = (column("resident.tail.x"), column("resident.tail.y"));
    for f in 0..pose.frames() {
        let row = prepared.features.row(f);
        assert!(row[neck_x].abs() < 1e-3 && row[neck_y].abs() < 1e-3);
        // The tail lies behind the neck on the x axis.
        assert!(
            row[tail_x] < 0.0 && row[tail_y].abs() < 1e-2,
            "frame {f}: {row}"
        );
        // Rigid motion: the intruder's nose keeps its distance to the resident's neck.
        let nose = column("intruder.nose.x");
        let aligned = (row[nose].powi(2) + row[nose + 1].powi(2)).sqrt();
        let p = &pose.positions;
        let tracked = (p[[f, 1, 0, 0]] - p[[f, 0, 3, 0]]).hypot(p[[f, 1, 0, 1]] - p[[f, 0, 3, 1]]);
        assert!((aligned - tracked).abs() < 1e-2 * tracked.max(1.0));
    }
}

#[test]
fn egocentric_heading_smoothing_and_lost_reference_frames() {
    // The body axis turns by 90° at frame 10; a 5-frame average turns gradually.
    let mut pose = pose_from(20, 2, |t, k| {
        let heading = if t < 10 { (1.0, 0.0) } else { (0.0, 1.0) };
        (10.0 * k as f32 * heading.0, 10.0 * k as f32 * heading.1)
    });
    pose.positions[[15, 0, 1, 0]] = f32::NAN;
    let config: PreprocessConfig = from_toml(
        r#"
        max_gap = 0
        body_axis = ["k0", "k1"]
        [align]
        mode = "egocentric"
        centre = ["k0"]
        heading_smoothing = 5
        "#,
    )
    .unwrap();
    let prepared = prepare(&pose, &config).unwrap();
    // k1 at frame 9: raw heading +x, smoothed over frames 7..=11 (3 along x, 2 along y).
    let (x, y) = (prepared.features[[9, 2]], prepared.features[[9, 3]]);
    assert!(x > 0.0 && y < -1.0, "({x}, {y})");
    assert!((x.hypot(y) - 10.0).abs() < 1e-3);
    // At frame 2 the heading is steady.
    assert!((prepared.features[[2, 2]] - 10.0).abs() < 1e-4);
    // Frame 15 lost its head-end keypoint but the smoothed heading carries it.
    assert!(prepared.observed[[15, 0]]);

    // Without smoothing, the frame without a heading is missing throughout.
    let raw = PreprocessConfig {
        align: AlignConfig::Egocentric(EgocentricConfig {
            centre: vec!["k0".into()],
            ..Default::default()
        }),
        ..config
    };
    let prepared = prepare(&pose, &raw).unwrap();
    assert!(prepared.observed.row(15).iter().all(|&seen| !seen));
}

#[test]
fn arena_normalisation_by_size_or_robust_extent() {
    let pose = pose_from(101, 1, |t, _| (t as f32 * 10.0, 500.0 - t as f32 * 5.0));
    let config: PreprocessConfig =
        from_toml("[align]\nmode = \"arena\"\nsize = [1000.0, 500.0]").unwrap();
    let prepared = prepare(&pose, &config).unwrap();
    assert_eq!(prepared.features[[100, 0]], 1.0);
    assert_eq!(prepared.features[[100, 1]], 0.0);
    assert_eq!(prepared.features[[0, 1]], 1.0);

    let mut spiky = pose.clone();
    spiky.positions[[50, 0, 0, 0]] = 1e6;
    let robust: PreprocessConfig = from_toml("[align]\nmode = \"arena\"\nquantile = 0.02").unwrap();
    let prepared = prepare(&spiky, &robust).unwrap();
    let xs = prepared.features.column(0);
    assert!(xs[2] > -1e-6 && xs[98] < 1.0 + 1e-6 && xs[0] < 0.0);

    // Windows measured against the whole recording share one frame.
    let processor = Preprocessor::new(&robust, &PoseLayout::of(&pose)).unwrap();
    let fixed = processor.with_arena_of(&pose).unwrap();
    let mut window = pose.clone();
    window.positions = pose
        .positions
        .slice(ndarray::s![10..20, .., .., ..])
        .to_owned();
    let whole = fixed.featurise(&pose).unwrap();
    let part = fixed.featurise(&window).unwrap();
    assert_eq!(part.features.row(0), whole.features.row(10));
}

#[test]
fn derived_features_follow_the_coordinates_with_names() {
    let positions = Array4::from_shape_fn((4, 2, 2, 2), |(t, i, k, d)| {
        [
            t as f32 * (1.0 + i as f32),
            10.0 * k as f32 + 100.0 * i as f32,
        ][d]
    });
    let pose = Pose::new(positions, names("m", 2), vec!["nose".into(), "tail".into()]).unwrap();
    let config: PreprocessConfig = from_toml(
        r#"
        [derived]
        velocities = true
        distances = [["nose", "nose"], ["nose", "tail"]]
        "#,
    )
    .unwrap();
    let layout = PoseLayout::of(&pose);
    let expected = config.feature_names(&layout).unwrap();
    assert_eq!(config.feature_count(&layout).unwrap(), 8 + 8 + 1 + 2);
    assert_eq!(expected[8], "m0.nose.vx");
    assert_eq!(expected[16], "distance(m0.nose,m1.nose)");
    assert_eq!(expected[17], "distance(m0.nose,m1.tail)");
    assert_eq!(expected[18], "distance(m1.nose,m0.tail)");
    let prepared = prepare(&pose, &config).unwrap();
    assert_eq!(prepared.names, expected);
    assert_eq!(prepared.features.ncols(), expected.len());
    // m1 moves 2 px per frame along x; the first frame borrows the second's velocity.
    assert_eq!(prepared.features[[0, 12]], 2.0);
    assert_eq!(prepared.features[[3, 12]], 2.0);
    // At frame 0 both noses have x = 0: distance is the y offset.
    assert_eq!(prepared.features[[0, 16]], 100.0);
    assert!(prepared.observed.iter().all(|&seen| seen));
}

#[test]
fn standardisation_uses_training_statistics_and_zero_fills_missing() {
    let mut pose = pose_from(100, 1, |t, _| (t as f32, 3.0));
    for t in 40..60 {
        pose.positions[[t, 0, 0, 0]] = f32::NAN;
    }
    let mut prepared = prepare(&pose, &PreprocessConfig::default()).unwrap();
    let stats = NormalisationStats::fit([&prepared]).unwrap();
    // Observed x: 0..40 and 60..100, mean 49.5; y constant: std falls back to 1.
    assert!((stats.mean[0] - 49.5).abs() < 1e-4);
    assert_eq!((stats.mean[1], stats.std[1]), (3.0, 1.0));
    stats.apply(&mut prepared).unwrap();
    assert!(prepared.features.iter().all(|v| v.is_finite()));
    assert_eq!(prepared.features[[50, 0]], 0.0);
    let observed: Vec<f32> = (0..100)
        .filter(|&t| prepared.observed[[t, 0]])
        .map(|t| prepared.features[[t, 0]])
        .collect();
    let mean = observed.iter().sum::<f32>() / observed.len() as f32;
    let var = observed.iter().map(|v| v * v).sum::<f32>() / observed.len() as f32;
    assert!(
        mean.abs() < 1e-5 && (var - 1.0).abs() < 1e-4,
        "{mean} {var}"
    );

    // Statistics survive a round trip through a checkpoint's JSON-like text.
    let text = toml::to_string(&stats).unwrap();
    assert_eq!(toml::from_str::<NormalisationStats>(&text).unwrap(), stats);
    // And refuse data of another width.
    let mut wider = prepare(
        &pose_from(5, 2, |_, _| (0.0, 0.0)),
        &PreprocessConfig::default(),
    )
    .unwrap();
    let err = stats.apply(&mut wider).unwrap_err().to_string();
    assert!(
        err.contains("2 features") && err.contains("found 4"),
        "{err}"
    );
}

#[test]
fn config_round_trips_and_has_defaults() {
    let config: PreprocessConfig = from_toml(
        r#"
        max_gap = 15
        body_axis = ["tail", "neck"]
        [outliers]
        min_confidence = 0.2
        max_speed = 0.4
        [align]
        mode = "egocentric"
        centre = ["left_hip", "right_hip"]
        heading_smoothing = 5
        [derived]
        velocities = true
        distances = [["nose", "tail"]]
        "#,
    )
    .unwrap();
    assert_eq!(config.outliers.speed_unit, SpeedUnit::BodyLengths);
    let text = toml::to_string(&config).unwrap();
    assert_eq!(from_toml(&text).unwrap(), config);
    assert_eq!(from_toml("").unwrap(), PreprocessConfig::default());
    let pose = simulate(&SimulationConfig {
        frames: 50,
        ..Default::default()
    })
    .unwrap()
    .pose;
    let layout = PoseLayout::of(&pose);
    // 2 × 7 × 2 coordinates, as many velocities, 2 ordered nose→tail distances.
    assert_eq!(config.feature_count(&layout).unwrap(), 28 + 28 + 2);
    assert_eq!(prepare(&pose, &config).unwrap().features.ncols(), 58);
}

#[test]
fn bad_configs_are_refused_naming_the_field() {
    let layout = PoseLayout {
        individuals: names("m", 2),
        keypoints: vec!["nose".into(), "neck".into(), "tail".into()],
        space: crate::pose::Space::Xy,
    };
    let refused = |text: &str, needle: &str| {
        let err = match from_toml(text) {
            Err(e) => e.to_string(),
            Ok(config) => config.validate(&layout).unwrap_err().to_string(),
        };
        assert!(err.contains(needle), "{text:?} gave {err}");
    };
    refused("max_gap = -3", "max_gap");
    refused("maxgap = 3", "unknown field");
    refused("[outliers]\nmin_conf = 0.3", "unknown field");
    refused(
        "[align]\nmode = \"egocentric\"\ncentre = [\"nose\"]\nsmooth = 2",
        "smooth",
    );
    refused("[align]\nmode = \"sideways\"", "sideways");
    refused("body_axis = [\"tail\", \"snout\"]", "\"snout\"");
    refused(
        "body_axis = [\"tail\", \"tail\"]",
        "two different keypoints",
    );
    refused("[align]\nmode = \"egocentric\"", "body_axis");
    refused("[outliers]\nmax_speed = 0.5", "body_axis");
    refused(
        "[outliers]\nmax_speed = -1.0\nspeed_unit = \"pixels\"",
        "positive",
    );
    refused("[outliers]\nmin_confidence = 1.5", "[0, 1]");
    refused(
        "body_axis = [\"tail\", \"neck\"]\n[align]\nmode = \"egocentric\"\nindividual = \"rat\"",
        "\"rat\"",
    );
    refused(
        "body_axis = [\"tail\", \"neck\"]\n[align]\nmode = \"egocentric\"\ncentre = [\"a\", \"b\", \"c\"]",
        "one or two",
    );
    refused("[align]\nmode = \"arena\"\nsize = [100.0]", "2 numbers");
    refused("[align]\nmode = \"arena\"\nsize = [100.0, 0.0]", "positive");
    refused("[align]\nmode = \"arena\"\nquantile = 0.7", "quantile");
    refused("[derived]\ndistances = [[\"nose\", \"ear\"]]", "\"ear\"");
    refused("[derived]\nspeeds = [\"ear\"]", "\"ear\"");
    refused(
        "[derived]\nlengths = [[\"nose\", \"nose\"]]",
        "two different",
    );
    refused("[derived]\nangles = true", "body_axis");
    refused("[derived]\ncontext_seconds = [0.0]", "positive spans");
    refused("fps = -30.0", "positive frame rate");
    refused("coordinates = false", "no derived features");
}

/// Two rats, keypoints `tail`, `head`, 2D, 30 fps: `a` at the origin facing +x, `b` 10 px
/// ahead of it facing +y and walking 3 px per frame along +y; `b`'s head is lost in frame 2.
fn two_rats() -> Pose {
    let mut positions = Array4::from_shape_fn((5, 2, 2, 2), |(t, i, k, d)| {
        let (x, y) = match (i, k) {
            (0, 0) => (0.0, 0.0),
            (0, _) => (4.0, 0.0),
            (_, 0) => (10.0, 3.0 * t as f32),
            (_, _) => (10.0, 3.0 * t as f32 + 4.0),
        };
        [x, y][d]
    });
    positions[[2, 1, 1, 0]] = f32::NAN;
    positions[[2, 1, 1, 1]] = f32::NAN;
    let mut pose = Pose::new(positions, names("r", 2), vec!["tail".into(), "head".into()]).unwrap();
    pose.fps = Some(30.0);
    pose
}

#[test]
fn alignment_free_features_measure_movement_and_relations_with_flags() {
    let config: PreprocessConfig = from_toml(
        r#"
        body_axis = ["tail", "head"]
        coordinates = false
        max_gap = 0
        [derived]
        observed = true
        confidence = true
        speeds = ["tail"]
        lengths = [["tail", "head"]]
        angles = true
        "#,
    )
    .unwrap();
    let pose = two_rats();
    let prepared = prepare(&pose, &config).unwrap();
    let column = |name: &str| {
        let c = prepared
            .names
            .iter()
            .position(|n| n == name)
            .unwrap_or_else(|| {
                panic!("{name} not among {:?}", prepared.names);
            });
        prepared.features.column(c).to_vec()
    };
    assert_eq!(column("r0.tail.speed"), [0.0; 5]);
    assert_eq!(column("r1.tail.speed"), [3.0; 5]);
    assert_eq!(column("r0.length(tail,head)"), [4.0; 5]);
    // r0's head (4, 0) looks along +x; r1's middle at frame 0 is (10, 2): atan(2/6).
    let bearing = column("bearing(r0,r1)");
    assert!(
        (bearing[0] - (2.0f32 / 6.0).atan()).abs() < 1e-6,
        "{bearing:?}"
    );
    // r1 faces +y, r0 lies behind and to its right.
    assert!(column("bearing(r1,r0)")[0] > std::f32::consts::FRAC_PI_2);
    let relative = column("relative_heading(r0,r1)");
    assert!((relative[0] - std::f32::consts::FRAC_PI_2).abs() < 1e-6);
    // r1's head is lost in frame 2: its length and the angles that need it are missing, the
    // flag says so, and nothing else is.
    assert!(relative[2].is_nan() && column("r1.length(tail,head)")[2].is_nan());
    assert_eq!(column("r1.head.observed"), [1.0, 1.0, 0.0, 1.0, 1.0]);
    assert_eq!(column("r0.head.observed"), [1.0; 5]);
    // The pose has no confidence: the column is there, missing throughout.
    assert!(column("r0.tail.confidence").iter().all(|v| v.is_nan()));
    assert!(!prepared.names.iter().any(|n| n.ends_with(".x")));
    assert_eq!(
        prepared.names.len(),
        config.feature_count(&PoseLayout::of(&pose)).unwrap()
    );
    assert!(
        prepared
            .observed
            .column(
                prepared
                    .names
                    .iter()
                    .position(|n| n == "r1.head.observed")
                    .unwrap()
            )
            .iter()
            .all(|&seen| seen),
        "flags are never missing themselves"
    );
}

#[test]
fn context_features_are_rolling_statistics_over_seconds() {
    let config: PreprocessConfig = from_toml(
        r#"
        coordinates = false
        fps = 10.0
        [derived]
        speeds = ["tail"]
        observed = true
        context_seconds = [0.3]
        "#,
    )
    .unwrap();
    let mut pose = two_rats();
    // 0.3 s at 10 fps is 3 frames.
    pose.fps = None;
    let prepared = prepare(&pose, &config).unwrap();
    let names = &prepared.names;
    // Context follows the flags, and covers only the alignment-free features.
    assert_eq!(
        names[6..],
        [
            "r0.tail.speed.mean0.3s",
            "r0.tail.speed.std0.3s",
            "r1.tail.speed.mean0.3s",
            "r1.tail.speed.std0.3s",
        ]
    );
    assert_eq!(prepared.features.column(8).to_vec(), [3.0; 5]);
    assert_eq!(prepared.features.column(9).to_vec(), [0.0; 5]);
    let speeds_changed = {
        let mut pose = pose.clone();
        pose.positions[[4, 1, 0, 1]] += 30.0;
        prepare(&pose, &config).unwrap()
    };
    // r1's tail jumps 33 px in the last frame: frames 3 and 4 see it, frame 2 does not.
    assert_eq!(speeds_changed.features[[2, 8]], 3.0);
    assert_eq!(speeds_changed.features[[3, 8]], 13.0);
    assert_eq!(speeds_changed.features[[4, 8]], 18.0);
    pose.fps = Some(10.0);
    let stated = PreprocessConfig {
        fps: None,
        ..config.clone()
    };
    assert!(prepare(&pose, &stated).is_ok(), "the file states its rate");
    pose.fps = None;
    let err = prepare(
        &pose,
        &PreprocessConfig {
            fps: None,
            ..config
        },
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("context_seconds") && err.contains("preprocess.fps"),
        "{err}"
    );
}

#[test]
fn poses_of_another_layout_or_with_nothing_tracked_are_refused() {
    let processor = Preprocessor::new(
        &PreprocessConfig::default(),
        &PoseLayout::of(&pose_from(3, 2, |_, _| (0.0, 0.0))),
    )
    .unwrap();
    let err = processor
        .prepare(&pose_from(3, 3, |_, _| (0.0, 0.0)))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("2 keypoints") && err.contains("found 1 individuals, 3"),
        "{err}"
    );

    let empty = pose_from(4, 1, |_, _| (f32::NAN, f32::NAN));
    let arena: PreprocessConfig = from_toml("[align]\nmode = \"arena\"").unwrap();
    let err = prepare(&empty, &arena).unwrap_err().to_string();
    assert!(err.contains("every keypoint missing"), "{err}");
    // Without arena measurement a NaN-only pose is simply unobserved.
    let prepared = prepare(&empty, &PreprocessConfig::default()).unwrap();
    assert_eq!(prepared.observed_fraction(), 0.0);
}

#[test]
fn anonymous_features_do_not_change_when_tracks_swap_identities() {
    let config: PreprocessConfig = from_toml(
        r#"
        body_axis = ["tail", "head"]
        coordinates = false
        fps = 30.0
        max_gap = 0
        [derived]
        distances = [["head", "tail"]]
        observed = true
        speeds = ["tail"]
        angles = true
        anonymous = true
        context_seconds = [0.1]
        "#,
    )
    .unwrap();
    let pose = two_rats();
    let mut swapped = pose.clone();
    // From frame 2 on the tracker calls each rat by the other's name.
    for t in 2..pose.frames() {
        for i in 0..2 {
            for k in 0..2 {
                for d in 0..2 {
                    swapped.positions[[t, i, k, d]] = pose.positions[[t, 1 - i, k, d]];
                }
            }
        }
    }
    let (plain, mixed) = (
        prepare(&pose, &config).unwrap(),
        prepare(&swapped, &config).unwrap(),
    );
    assert_eq!(plain.names, mixed.names);
    assert!(
        plain.names.contains(&"tail.speed.rank1".to_string()),
        "{:?}",
        plain.names
    );
    // Speeds at the swap itself differ (the tracks jump), and so does the context around
    // it; every other value agrees.
    let context = plain
        .names
        .iter()
        .position(|n| n.contains(".mean"))
        .unwrap();
    for t in [0, 1, 3, 4] {
        for c in 0..context {
            let (a, b) = (plain.features[[t, c]], mixed.features[[t, c]]);
            assert!(
                a == b || a.is_nan() && b.is_nan(),
                "{} at {t}: {a} vs {b}",
                plain.names[c]
            );
        }
    }
    // Ranked: the larger speed first, missing values last.
    let ranks = |frame: usize, name: &str| {
        let first = plain.names.iter().position(|n| n == name).unwrap();
        [
            plain.features[[frame, first]],
            plain.features[[frame, first + 1]],
        ]
    };
    assert_eq!(ranks(1, "tail.speed.rank1"), [3.0, 0.0]);
    assert_eq!(ranks(2, "head.observed.rank1"), [1.0, 0.0]);
}
