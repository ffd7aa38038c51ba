//! Tests of the simulator: determinism, shapes, noise, label semantics, geometry, and that a
//! threshold baseline cannot solve the task.

mod baseline;
mod features;

use super::*;
use crate::pose::Space;
use features::{kinematics, median_where};

fn config(seed: u64, frames: usize) -> SimulationConfig {
    SimulationConfig {
        seed,
        frames,
        ..Default::default()
    }
}

fn noiseless(seed: u64, frames: usize) -> SimulationConfig {
    SimulationConfig {
        noise: NoiseConfig::none(),
        ..config(seed, frames)
    }
}

fn is(behaviours: &[Behaviour], which: Behaviour) -> impl Fn(usize) -> bool + '_ {
    move |f| behaviours[f] == which
}

fn positions_equal(a: &Recording, b: &Recording) -> bool {
    // NaN != NaN, so compare bit patterns.
    a.pose
        .positions
        .iter()
        .zip(b.pose.positions.iter())
        .all(|(x, y)| x.to_bits() == y.to_bits())
}

#[test]
fn same_seed_same_recording_and_different_seed_different_recording() {
    let first = simulate(&config(11, 600)).unwrap();
    let again = simulate(&config(11, 600)).unwrap();
    assert!(positions_equal(&first, &again));
    assert_eq!(first.pose.confidence, again.pose.confidence);
    assert_eq!(first.labels, again.labels);
    assert_eq!(first.true_positions, again.true_positions);

    let other = simulate(&config(12, 600)).unwrap();
    assert!(!positions_equal(&first, &other));
    assert_ne!(first.true_positions, other.true_positions);
}

#[test]
fn noise_settings_do_not_change_what_the_animals_did() {
    let noisy = simulate(&config(5, 900)).unwrap();
    let clean = simulate(&noiseless(5, 900)).unwrap();
    assert_eq!(noisy.true_positions, clean.true_positions);
    assert_eq!(noisy.labels, clean.labels);
    assert_eq!(clean.pose.positions, clean.true_positions);
    assert!(
        clean
            .pose
            .confidence
            .as_ref()
            .unwrap()
            .iter()
            .all(|&c| c == 1.0)
    );
}

#[test]
fn shapes_names_and_fps_follow_the_config() {
    for (skeleton, keypoints) in [(Skeleton::Calms21, 7), (Skeleton::Mabe22, 12)] {
        for space in [Space::Xy, Space::Xyz] {
            for individuals in 1..=MAX_INDIVIDUALS {
                let cfg = SimulationConfig {
                    skeleton,
                    space,
                    individuals,
                    fps: 25.0,
                    ..config(3, 250)
                };
                let rec = simulate(&cfg).unwrap();
                let pose = &rec.pose;
                assert_eq!(
                    pose.positions.dim(),
                    (250, individuals, keypoints, space.dims())
                );
                assert_eq!(
                    pose.confidence.as_ref().unwrap().dim(),
                    (250, individuals, keypoints)
                );
                assert_eq!(rec.true_positions.dim(), pose.positions.dim());
                assert_eq!(rec.dropped.dim(), (250, individuals, keypoints));
                assert_eq!(pose.keypoints, skeleton.keypoints());
                assert_eq!(pose.individuals.len(), individuals);
                assert_eq!(pose.fps, Some(25.0));
                assert_eq!(pose.software.as_deref(), Some(SOFTWARE));
                assert_eq!(rec.labels.len(), 250);
                assert_eq!(rec.labels.vocabulary, vocabulary());
            }
        }
    }
    let calms = simulate(&config(1, 10)).unwrap();
    assert_eq!(calms.pose.individuals, ["resident", "intruder"]);
    assert_eq!(calms.pose.keypoints[6], "tail");
}

#[test]
fn nan_only_where_dropped_and_confidence_tracks_the_error() {
    let rec = simulate(&SimulationConfig {
        individuals: 3,
        skeleton: Skeleton::Mabe22,
        ..config(21, 6000)
    })
    .unwrap();
    let confidence = rec.pose.confidence.as_ref().unwrap();
    let (frames, individuals, keypoints, dims) = rec.pose.positions.dim();
    let (mut dropped, mut short_runs, mut long_runs) = (0usize, 0usize, 0usize);
    let (mut good, mut bad) = ((0.0f64, 0usize), (0.0f64, 0usize));
    for i in 0..individuals {
        for k in 0..keypoints {
            let mut run = 0;
            for f in 0..frames {
                let nan = (0..dims).any(|d| rec.pose.positions[[f, i, k, d]].is_nan());
                let all_nan = (0..dims).all(|d| rec.pose.positions[[f, i, k, d]].is_nan());
                assert_eq!(
                    nan,
                    rec.dropped[[f, i, k]],
                    "frame {f} individual {i} keypoint {k}"
                );
                assert_eq!(nan, all_nan, "a dropped keypoint loses every coordinate");
                let c = confidence[[f, i, k]];
                assert!((0.0..=1.0).contains(&c), "confidence {c}");
                if nan {
                    dropped += 1;
                    run += 1;
                    continue;
                }
                if run > 0 {
                    if run <= 5 {
                        short_runs += 1
                    } else {
                        long_runs += 1
                    }
                }
                run = 0;
                let error = (0..dims)
                    .map(|d| {
                        (rec.pose.positions[[f, i, k, d]] - rec.true_positions[[f, i, k, d]])
                            .powi(2)
                    })
                    .sum::<f32>()
                    .sqrt();
                let bucket = if error > 10.0 { &mut bad } else { &mut good };
                bucket.0 += c as f64;
                bucket.1 += 1;
            }
        }
    }
    let fraction = dropped as f64 / (frames * individuals * keypoints) as f64;
    assert!(
        fraction > 0.001 && fraction < 0.2,
        "dropped fraction {fraction}"
    );
    assert!(
        short_runs > 10 && long_runs > 3,
        "gaps: {short_runs} short, {long_runs} long"
    );
    assert!(
        bad.1 > 50,
        "too few large errors (swaps, poor tracking): {}",
        bad.1
    );
    let (good_mean, bad_mean) = (good.0 / good.1 as f64, bad.0 / bad.1 as f64);
    assert!(
        good_mean > 0.85 && bad_mean < good_mean - 0.3,
        "confidence {good_mean} vs {bad_mean}"
    );
}

#[test]
fn invalid_configs_are_refused_naming_the_field() {
    let cases: Vec<(SimulationConfig, &str)> = vec![
        (
            SimulationConfig {
                individuals: 0,
                ..config(0, 10)
            },
            "individuals",
        ),
        (
            SimulationConfig {
                individuals: 5,
                ..config(0, 10)
            },
            "individuals",
        ),
        (
            SimulationConfig {
                leave_rate: 0.01,
                ..config(0, 10)
            },
            "leave_rate",
        ),
        (config(0, 0), "frames"),
        (config(0, MAX_FRAMES + 1), "frames"),
        (
            SimulationConfig {
                fps: 0.0,
                ..config(0, 10)
            },
            "fps",
        ),
        (
            SimulationConfig {
                fps: f64::NAN,
                ..config(0, 10)
            },
            "fps",
        ),
        (
            SimulationConfig {
                arena: Some([100.0, 100.0]),
                ..config(0, 10)
            },
            "arena",
        ),
        (
            SimulationConfig {
                body_length: Some(-1.0),
                ..config(0, 10)
            },
            "body_length",
        ),
        (
            SimulationConfig {
                bout_seconds: [2.0, 1.0],
                ..config(0, 10)
            },
            "bout_seconds",
        ),
        (
            SimulationConfig {
                bout_seconds: [0.0, 1.0],
                ..config(0, 10)
            },
            "bout_seconds",
        ),
        (
            SimulationConfig {
                noise: NoiseConfig {
                    swap_rate: 1.5,
                    ..Default::default()
                },
                ..config(0, 10)
            },
            "noise.swap_rate",
        ),
        (
            SimulationConfig {
                noise: NoiseConfig {
                    jitter: -1.0,
                    ..Default::default()
                },
                ..config(0, 10)
            },
            "noise.jitter",
        ),
        (
            SimulationConfig {
                individuals: 1,
                behaviours: Some(vec![Behaviour::Attack]),
                ..config(0, 10)
            },
            "behaviours",
        ),
    ];
    for (cfg, field) in cases {
        let err = simulate(&cfg).unwrap_err().to_string();
        assert!(err.contains(&format!("`{field}`")), "{field}: {err}");
    }
}

#[test]
fn config_reads_from_toml() {
    let text = r#"
        seed = 9
        frames = 120
        individuals = 3
        skeleton = "mabe22"
        space = "3D"
        behaviours = ["attack", "grooming"]
        [noise]
        jitter = 0.5
    "#;
    let cfg: SimulationConfig = toml::from_str(text).unwrap();
    assert_eq!(cfg.skeleton, Skeleton::Mabe22);
    assert_eq!(cfg.space, Space::Xyz);
    assert_eq!(cfg.noise.jitter, 0.5);
    assert_eq!(cfg.noise.swap_rate, NoiseConfig::default().swap_rate);
    assert_eq!(
        simulate(&cfg).unwrap().pose.positions.dim(),
        (120, 3, 12, 3)
    );
    assert!(
        toml::from_str::<SimulationConfig>("frame = 3").is_err(),
        "unknown keys are refused"
    );
}

#[test]
fn every_behaviour_appears_in_bouts_of_realistic_length() {
    let rec = simulate(&config(42, 10_000)).unwrap();
    let counts = rec.labels.class_counts();
    for behaviour in Behaviour::ALL {
        assert!(
            counts[behaviour.id() as usize] >= 100,
            "{behaviour}: {counts:?}"
        );
    }
    let bouts = rec.bouts();
    let (last, complete) = bouts.split_last().unwrap();
    for bout in complete.iter().filter(|b| b.behaviour != Behaviour::Other) {
        let seconds = (bout.end - bout.start) as f64 / 30.0;
        assert!((0.29..=5.01).contains(&seconds), "{bout:?}: {seconds} s");
    }
    assert_eq!(last.end, 10_000);
}

#[test]
fn enabled_behaviours_and_single_animals_are_respected() {
    let solo = simulate(&SimulationConfig {
        individuals: 1,
        ..config(8, 3000)
    })
    .unwrap();
    assert!(
        solo.behaviours()
            .iter()
            .all(|b| matches!(b, Behaviour::Grooming | Behaviour::Other))
    );
    assert!(solo.behaviours().contains(&Behaviour::Grooming));
    let only = simulate(&SimulationConfig {
        behaviours: Some(vec![Behaviour::Mount]),
        ..config(8, 3000)
    })
    .unwrap();
    assert!(
        only.behaviours()
            .iter()
            .all(|b| matches!(b, Behaviour::Mount | Behaviour::Other))
    );
    assert!(only.behaviours().contains(&Behaviour::Mount));
}

#[test]
fn datasets_have_distinct_reproducible_recordings() {
    let cfg = config(77, 200);
    let dataset = simulate_dataset(&cfg, 3).unwrap();
    assert_eq!(dataset.len(), 3);
    let seeds: Vec<u64> = dataset.iter().map(|r| r.seed).collect();
    assert_eq!(
        seeds,
        (0..3).map(|i| recording_seed(77, i)).collect::<Vec<_>>()
    );
    assert!(seeds[0] != seeds[1] && seeds[1] != seeds[2] && seeds[0] != seeds[2]);
    assert_ne!(dataset[0].true_positions, dataset[1].true_positions);
    assert_ne!(
        dataset[0].body_lengths, dataset[1].body_lengths,
        "different animals"
    );
    let again = simulate_dataset(&cfg, 2).unwrap();
    assert_eq!(again[1].true_positions, dataset[1].true_positions);
}

#[test]
fn labels_cause_the_kinematics_they_name() {
    let rec = simulate(&noiseless(42, 10_000)).unwrap();
    let k = kinematics(
        &rec.true_positions,
        Skeleton::Calms21,
        30.0,
        rec.body_lengths[0],
    );
    let b = rec.behaviours();
    use Behaviour::*;
    let med = |values: &[f32], which| median_where(values, is(&b, which));
    // Investigation: nose on the other animal, moving slowly.
    assert!(med(&k.nose_distance, Investigation) < 0.5 * med(&k.nose_distance, Other));
    assert!(med(&k.body_speed, Investigation) < 0.6 * med(&k.body_speed, Chase));
    // Attack: faster than grooming and investigation, in contact with jitter.
    assert!(med(&k.body_speed, Attack) > 10.0 * med(&k.body_speed, Grooming));
    assert!(med(&k.body_speed, Attack) > 3.0 * med(&k.body_speed, Investigation));
    assert!(med(&k.nose_distance, Attack) < med(&k.nose_distance, Other));
    // Mount: bodies overlap and point the same way.
    assert!(med(&k.centre_distance, Mount) < 0.5);
    assert!(med(&k.centre_distance, Mount) < 0.6 * med(&k.centre_distance, Other));
    assert!(med(&k.alignment, Mount) > 0.95);
    // Chase: both animals fast, the resident behind the partner.
    assert!(med(&k.body_speed, Chase) > 1.5 && med(&k.partner_speed, Chase) > 1.5);
    // Grooming: body still, head moving more than when resting otherwise.
    assert!(med(&k.body_speed, Grooming) < 0.15);
    let still_other = |f: usize| b[f] == Other && k.body_speed[f] < 0.15;
    let grooming_head = med(&k.head_motion, Grooming);
    assert!(
        grooming_head > 1.5 * median_where(&k.head_motion, still_other),
        "{grooming_head}"
    );
}

#[test]
fn animals_stay_in_the_arena_with_plausible_bodies() {
    for (skeleton, space) in [
        (Skeleton::Calms21, Space::Xy),
        (Skeleton::Mabe22, Space::Xyz),
    ] {
        let rec = simulate(&SimulationConfig {
            skeleton,
            space,
            individuals: 3,
            ..config(13, 5000)
        })
        .unwrap();
        let [width, height] = rec.arena;
        let longest = rec.body_lengths.iter().cloned().fold(0.0, f32::max);
        for (positions, ceiling) in [
            (&rec.true_positions, 0.6 * longest),
            (&rec.pose.positions, f32::INFINITY),
        ] {
            for point in positions.lanes(ndarray::Axis(3)) {
                if point[0].is_nan() {
                    continue;
                }
                assert!(
                    (0.0..=width).contains(&point[0]) && (0.0..=height).contains(&point[1]),
                    "{point}"
                );
                if space == Space::Xyz {
                    assert!(point[2] >= 0.0 && point[2] < ceiling, "height {}", point[2]);
                }
            }
        }
        let tail = features::tail_base(skeleton);
        let (hip_l, hip_r) = match skeleton {
            Skeleton::Calms21 => (4, 5),
            Skeleton::Mabe22 => (7, 8),
        };
        let p = &rec.true_positions;
        let xy = |f: usize, i: usize, k: usize| [p[[f, i, k, 0]], p[[f, i, k, 1]]];
        let d = |a: [f32; 2], b: [f32; 2]| (a[0] - b[0]).hypot(a[1] - b[1]);
        for f in 0..rec.pose.frames() {
            for (i, &length) in rec.body_lengths.iter().enumerate() {
                let nose = xy(f, i, 0);
                let neck = xy(f, i, 3);
                let tail_base = xy(f, i, tail);
                let hips = [
                    (xy(f, i, hip_l)[0] + xy(f, i, hip_r)[0]) / 2.0,
                    (xy(f, i, hip_l)[1] + xy(f, i, hip_r)[1]) / 2.0,
                ];
                // Near a wall the clamp can squash a body; judge bodies clear of the walls.
                let clear = [nose, tail_base]
                    .iter()
                    .all(|q| q[0] > 1.0 && q[1] > 1.0 && q[0] < width - 1.0 && q[1] < height - 1.0);
                if !clear {
                    continue;
                }
                for ear in [1, 2] {
                    assert!(d(nose, xy(f, i, ear)) < 0.35 * length, "ear far from nose");
                }
                let spine = d(nose, tail_base) / length;
                assert!(
                    (0.6..=1.05).contains(&spine),
                    "nose to tail base {spine} body lengths"
                );
                // Tail base behind the hips: the hips lie between neck and tail.
                let forward = [neck[0] - hips[0], neck[1] - hips[1]];
                let back = [tail_base[0] - hips[0], tail_base[1] - hips[1]];
                assert!(
                    forward[0] * back[0] + forward[1] * back[1] < 0.0,
                    "tail not behind hips"
                );
            }
        }
        let mean = rec.body_lengths.iter().sum::<f32>() / rec.body_lengths.len() as f32;
        let expected = skeleton.default_body_length();
        assert!(
            rec.body_lengths
                .iter()
                .all(|l| (0.8 * expected..=1.2 * expected).contains(l))
        );
        assert!((mean - expected).abs() < 0.2 * expected);
    }
}

#[test]
fn mounting_lifts_the_resident_in_3d() {
    let rec = simulate(&SimulationConfig {
        space: Space::Xyz,
        ..noiseless(42, 6000)
    })
    .unwrap();
    let b = rec.behaviours();
    let neck_height: Vec<f32> = (0..b.len())
        .map(|f| rec.true_positions[[f, 0, 3, 2]])
        .collect();
    let mount = median_where(&neck_height, is(&b, Behaviour::Mount));
    let other = median_where(&neck_height, is(&b, Behaviour::Other));
    assert!(
        mount > other + 0.1 * rec.body_lengths[0],
        "mount {mount} other {other}"
    );
}

/// The task must not be solvable frame by frame from nose distance and speed, yet it must be
/// learnable from the pose: a kNN on those two features (as good as any thresholds on them) stays
/// far below 0.9 macro-F1, and the same classifier with a second of context does much better.
#[test]
fn threshold_baseline_is_far_from_perfect_but_context_helps() {
    let train = simulate(&config(101, 10_000)).unwrap();
    let test = simulate(&config(202, 10_000)).unwrap();
    let (train_k, test_k) = (
        baseline::tracked_kinematics(&train),
        baseline::tracked_kinematics(&test),
    );
    let (train_b, test_b) = (train.behaviours(), test.behaviours());
    let frame = baseline::knn_predict(
        baseline::frame_features(&train_k),
        &train_b,
        baseline::frame_features(&test_k),
        15,
        4,
    );
    let (frame_f1, frame_per_class) = baseline::macro_f1(&test_b, &frame);
    let window = baseline::knn_predict(
        baseline::window_features(&train_k, 15),
        &train_b,
        baseline::window_features(&test_k, 15),
        15,
        4,
    );
    let (window_f1, window_per_class) = baseline::macro_f1(&test_b, &window);
    // Chance: always "other" scores one class's F1 over six classes.
    let majority = vec![Behaviour::Other; test_b.len()];
    let (chance_f1, _) = baseline::macro_f1(&test_b, &majority);
    println!("chance (always other) macro-F1 {chance_f1:.3}");
    println!(
        "frame kNN (nose distance, speed) macro-F1 {frame_f1:.3} per class {frame_per_class:.2?}"
    );
    println!(
        "±0.5 s window kNN (7 features) macro-F1 {window_f1:.3} per class {window_per_class:.2?}"
    );
    assert!(
        frame_f1 < 0.6,
        "single-frame thresholds solve the task: {frame_f1}"
    );
    assert!(
        frame_f1 > chance_f1 + 0.1,
        "behaviours leave no trace in the kinematics: {frame_f1}"
    );
    assert!(
        window_f1 < 0.9,
        "hand features with context solve the task: {window_f1}"
    );
    assert!(
        window_f1 > frame_f1 + 0.15,
        "temporal context does not help: {window_f1} vs {frame_f1}"
    );
}

/// Tuning aid, not a check: baseline scores and key statistics over several seeds
/// (`cargo test -p behavert-pose sweep_seeds -- --ignored --nocapture`).
#[test]
#[ignore]
fn sweep_seeds() {
    for seed in 0..8u64 {
        let train = simulate(&config(1000 + seed, 10_000)).unwrap();
        let test = simulate(&config(2000 + seed, 10_000)).unwrap();
        let (train_k, test_k) = (
            baseline::tracked_kinematics(&train),
            baseline::tracked_kinematics(&test),
        );
        let (train_b, test_b) = (train.behaviours(), test.behaviours());
        let frame = baseline::knn_predict(
            baseline::frame_features(&train_k),
            &train_b,
            baseline::frame_features(&test_k),
            15,
            4,
        );
        let window = baseline::knn_predict(
            baseline::window_features(&train_k, 15),
            &train_b,
            baseline::window_features(&test_k, 15),
            15,
            4,
        );
        let counts = test.labels.class_counts();
        let k = kinematics(
            &test.true_positions,
            Skeleton::Calms21,
            30.0,
            test.body_lengths[0],
        );
        let b = test.behaviours();
        let still_other = |f: usize| b[f] == Behaviour::Other && k.body_speed[f] < 0.15;
        println!(
            "seed {seed} frame {:.3} window {:.3} counts {counts:?} groom head {:.2} still other head {:.2} mount centre {:.2} align {:.2}",
            baseline::macro_f1(&test_b, &frame).0,
            baseline::macro_f1(&test_b, &window).0,
            median_where(&k.head_motion, is(&b, Behaviour::Grooming)),
            median_where(&k.head_motion, still_other),
            median_where(&k.centre_distance, is(&b, Behaviour::Mount)),
            median_where(&k.alignment, is(&b, Behaviour::Mount))
        );
    }
}

#[test]
fn the_residents_roles_are_its_frame_labels_with_its_partner_as_target() {
    let rec = simulate(&SimulationConfig {
        individuals: 3,
        ..config(4, 1500)
    })
    .unwrap();
    let behaviours = rec.behaviours();
    assert!(rec.roles.bouts.iter().all(|b| b.agent == "resident"));
    let mut labelled = vec![None; behaviours.len()];
    for bout in &rec.roles.bouts {
        for frame in bout.frames.clone() {
            assert!(
                labelled[frame].is_none(),
                "two bouts of the resident at frame {frame}"
            );
            labelled[frame] = Some(bout.behaviour.as_str());
        }
        let social = Behaviour::ALL
            .iter()
            .find(|b| b.name() == bout.behaviour)
            .unwrap()
            .is_social();
        assert_eq!(bout.target.is_some(), social, "{bout:?}");
        assert_ne!(bout.target.as_deref(), Some("resident"));
    }
    for (frame, behaviour) in behaviours.iter().enumerate() {
        let expected = (*behaviour != Behaviour::Other).then(|| behaviour.name());
        assert_eq!(labelled[frame], expected, "frame {frame}");
    }
    assert!(rec.roles.bouts.iter().any(|b| b.target.is_some()));
}

#[test]
fn with_every_animal_acting_different_animals_do_different_things_at_once() {
    let rec = simulate(&SimulationConfig {
        individuals: 4,
        agents: Agents::All,
        leave_rate: 0.001,
        ..config(11, 6000)
    })
    .unwrap();
    let names = &rec.pose.individuals;
    let agents: std::collections::BTreeSet<&str> =
        rec.roles.bouts.iter().map(|b| b.agent.as_str()).collect();
    assert_eq!(agents.len(), 4, "every animal leads bouts: {agents:?}");
    let rows = rec.roles.frame_rows();
    // Per frame: distinct agents with a directed behaviour, and whether a target was taken twice.
    let mut directed: Vec<Vec<(&str, &str)>> = vec![Vec::new(); 6000];
    for (frame, agent, target, _) in &rows {
        if let Some(target) = target {
            directed[*frame].push((agent, target));
        }
        for animal in std::iter::once(agent).chain(target) {
            let i = names.iter().position(|n| n == animal).unwrap();
            assert!(
                rec.in_view[[*frame, i]],
                "{animal} has a role at frame {frame} while out of view"
            );
        }
    }
    let simultaneous = directed.iter().filter(|pairs| pairs.len() >= 2).count();
    assert!(
        simultaneous > 100,
        "{simultaneous} frames with two social bouts"
    );
    for (frame, pairs) in directed.iter().enumerate() {
        let mut targets: Vec<&str> = pairs.iter().map(|(_, t)| *t).collect();
        targets.sort_unstable();
        targets.dedup();
        assert_eq!(
            targets.len(),
            pairs.len(),
            "one leader per target, frame {frame}"
        );
    }
    // Animals leave and come back: whole frames of an animal untracked, then tracked again.
    let (frames, individuals, _, _) = rec.pose.positions.dim();
    let mut absences = 0;
    for i in 0..individuals {
        let gone: Vec<bool> = (0..frames).map(|f| !rec.in_view[[f, i]]).collect();
        absences += gone.windows(2).filter(|w| w[0] && !w[1]).count();
        for f in (0..frames).filter(|&f| gone[f]) {
            let pose = rec.pose.positions.slice(ndarray::s![f, i, .., ..]);
            assert!(
                pose.iter().all(|v| v.is_nan()),
                "{i} tracked out of view at {f}"
            );
        }
    }
    assert!(absences >= 2, "{absences} returns into view");
}
