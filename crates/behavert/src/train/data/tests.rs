//! Tests of the data pipeline on simulated recordings.

use std::sync::Arc;

use behavert_pose::augment::{AugmentConfig, Augmenter};
use behavert_pose::preprocess::{PoseLayout, PreprocessConfig, Preprocessor, StatsAccumulator};
use behavert_pose::synth::{SimulationConfig, simulate, vocabulary};

use ndarray::Array2;

use super::*;
use crate::train::config::MaskingSection;

fn corpus() -> (Corpus, PoseLayout) {
    let recording = simulate(&SimulationConfig {
        seed: 3,
        frames: 300,
        ..Default::default()
    })
    .unwrap();
    let source = Source {
        id: "sim".into(),
        pose: recording.pose,
        labels: Some(recording.labels),
        roles: None,
        targets: None,
        group: None,
    };
    let config: PreprocessConfig = toml::from_str(
        "body_axis = [\"tail\", \"neck\"]\n[align]\nmode = \"egocentric\"\n\
         [derived]\nvelocities = true\n",
    )
    .unwrap();
    let layout = PoseLayout::of(&source.pose);
    let preprocessor = Preprocessor::new(&config, &layout).unwrap();
    let mut acc = StatsAccumulator::new(preprocessor.feature_count());
    acc.add(&preprocessor.prepare(&source.pose).unwrap())
        .unwrap();
    let specs = [TargetSpec::FrameClasses {
        vocabulary: vocabulary().iter().map(|v| v.to_string()).collect(),
    }];
    let sources = [source];
    let mut corpus = Corpus::build(&sources, &preprocessor, &acc.finish(), &specs).unwrap();
    corpus.keep_poses(&sources, &preprocessor).unwrap();
    (corpus, layout)
}

fn batch(corpus: &Corpus, config: &AugmentConfig, layout: &PoseLayout, seed: u64) -> Batch {
    let plan = AugmentPlan {
        augmenter: Augmenter::new(config, layout).unwrap(),
        seed,
    };
    let windows = corpus.windows(48, 48, false);
    Batch::assemble(corpus, &windows[1..4], None, Some((&plan, 0))).unwrap()
}

#[test]
fn a_worker_that_panics_ends_the_epoch_with_an_error() {
    let (corpus, _) = corpus();
    let windows = corpus.windows(48, 48, false);
    // A window of a track the corpus does not have: assembling it panics on the worker.
    let broken = WindowRef {
        track: 7,
        ..windows[0]
    };
    let batches = vec![windows[..2].to_vec(), vec![broken], windows[2..4].to_vec()];
    let mut prefetcher = Prefetcher::spawn(Arc::new(corpus), batches, 0, None, None, 2);
    assert!(prefetcher.next().unwrap().is_ok());
    let err = prefetcher.next().unwrap().err().expect("an error");
    assert!(err.to_string().contains("panicked"), "{err}");
    assert!(prefetcher.next().is_none());
}

#[test]
fn an_epoch_cuts_batches_of_one_length_and_mixes_the_lengths() {
    let window = |track: usize, length: usize| WindowRef {
        track,
        start: 0,
        valid: length,
        length,
    };
    let single: Vec<WindowRef> = (0..10).map(|t| window(t, 48)).collect();
    let batches = epoch_batches(&single, 4, 3, 0);
    assert_eq!(batches.iter().map(Vec::len).collect::<Vec<_>>(), [4, 4, 2]);
    assert_eq!(batches_per_epoch(&single, 4), 3);

    let mixed: Vec<WindowRef> = (0..10)
        .map(|t| window(t, 48))
        .chain((0..7).map(|t| window(t, 96)))
        .collect();
    let batches = epoch_batches(&mixed, 4, 3, 0);
    assert_eq!(batches.len(), batches_per_epoch(&mixed, 4));
    assert_eq!(batches.len(), 3 + 2);
    for batch in &batches {
        assert!(
            batch.iter().all(|w| w.length == batch[0].length),
            "{batch:?}"
        );
    }
    let mut seen: Vec<WindowRef> = batches.concat();
    seen.sort_by_key(|w| (w.length, w.track));
    let mut all = mixed.clone();
    all.sort_by_key(|w| (w.length, w.track));
    assert_eq!(seen, all, "every window once per epoch");
    let firsts: Vec<Vec<usize>> = (0..8)
        .map(|epoch| {
            epoch_batches(&mixed, 4, 3, epoch)
                .iter()
                .map(|b| b[0].length)
                .collect()
        })
        .collect();
    assert!(
        firsts.iter().any(|order| order != &firsts[0]),
        "the lengths are not interleaved: {firsts:?}"
    );

    let corpus_windows = [window(0, 48), window(1, 96)];
    let (corpus, _) = corpus();
    let err = Batch::assemble(&corpus, &corpus_windows, None, None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("one length"), "{err}");
}

#[test]
fn augmented_windows_are_seeded_and_match_the_corpus_when_off() {
    let (corpus, layout) = corpus();
    let windows = corpus.windows(48, 48, false);
    let plain = Batch::assemble(&corpus, &windows[1..4], None, None).unwrap();
    let identity = batch(&corpus, &AugmentConfig::default(), &layout, 1);
    // Per-window featurising only differs at each window's first frame, whose velocity
    // borrows the next frame's instead of looking back.
    let f = plain.features;
    for (i, (a, b)) in plain.keypoints.iter().zip(&identity.keypoints).enumerate() {
        if !(i / f).is_multiple_of(48) {
            assert!((a - b).abs() < 1e-4, "feature {i}: {a} vs {b}");
        }
    }
    assert_eq!(plain.goal, identity.goal);

    let config = AugmentConfig {
        reflection: 0.5,
        mirror_pairs: vec![
            ["left_ear".into(), "right_ear".into()],
            ["left_hip".into(), "right_hip".into()],
        ],
        jitter: 2.0,
        time_warp: [0.7, 1.4],
        ..Default::default()
    };
    let a = batch(&corpus, &config, &layout, 1);
    assert_eq!(a.keypoints, batch(&corpus, &config, &layout, 1).keypoints);
    assert_ne!(a.keypoints, batch(&corpus, &config, &layout, 2).keypoints);
    assert_ne!(a.keypoints, plain.keypoints);
    assert!(a.keypoints.iter().all(|v| v.is_finite()));
    assert_eq!(a.valid.len(), 3 * 48);
}

#[test]
fn smoothed_targets_average_observed_neighbours() {
    let features =
        Array2::from_shape_vec((4, 2), vec![1.0, 10.0, 2.0, 0.0, 4.0, 30.0, 8.0, 40.0]).unwrap();
    let mut observed = Array2::from_elem((4, 2), true);
    observed[[1, 1]] = false;
    let smoothed = smooth_features(&features, &observed, 3);
    let expected = [
        [1.5, 10.0],
        [7.0 / 3.0, 20.0],
        [14.0 / 3.0, 35.0],
        [6.0, 35.0],
    ];
    for ((t, c), v) in smoothed.indexed_iter() {
        assert!((v - expected[t][c]).abs() < 1e-6, "{t},{c}: {v}");
    }
    assert_eq!(smooth_features(&features, &observed, 1), features);
}

#[test]
fn pretraining_batches_carry_smoothed_targets_only_when_asked() {
    let (mut corpus, _) = corpus();
    let windows = corpus.windows(48, 48, false);
    let plan = |k| MaskPlan {
        section: MaskingSection {
            target_smoothing: k,
            random_fraction: 0.0,
            ..Default::default()
        },
        seed: 0,
    };
    let raw = Batch::assemble(&corpus, &windows[1..3], Some((&plan(0), 0)), None).unwrap();
    let targets = |b: &Batch| b.masked_frames().unwrap().targets.clone();
    assert!(targets(&raw).is_none());
    let on_the_fly = Batch::assemble(&corpus, &windows[1..3], Some((&plan(5), 0)), None).unwrap();
    corpus.smooth_targets(5);
    let stored = Batch::assemble(&corpus, &windows[1..3], Some((&plan(5), 0)), None).unwrap();
    assert_eq!(targets(&on_the_fly), targets(&stored));
    assert_eq!(stored.keypoints, raw.keypoints);
    assert_ne!(targets(&stored).as_ref(), Some(&raw.keypoints));
}

#[test]
fn chosen_frames_are_masked_kept_or_swapped_and_all_are_scored_against_the_original() {
    let (corpus, _) = corpus();
    let windows = corpus.windows(48, 48, false);
    let plan = |unchanged, random| MaskPlan {
        section: MaskingSection {
            mask_fraction: 0.5,
            unchanged_fraction: unchanged,
            random_fraction: random,
            ..Default::default()
        },
        seed: 0,
    };
    let plain = Batch::assemble(&corpus, &windows[..3], None, None).unwrap();
    let tokens_only =
        Batch::assemble(&corpus, &windows[..3], Some((&plan(0.0, 0.0), 0)), None).unwrap();
    let tokens_only = tokens_only.masked_frames().unwrap();
    assert_eq!(tokens_only.masked, tokens_only.predicted);
    assert!(tokens_only.targets.is_none());

    let mixed = Batch::assemble(&corpus, &windows[..3], Some((&plan(0.3, 0.3), 0)), None).unwrap();
    let MaskedFrames {
        masked,
        predicted,
        targets,
    } = mixed.masked_frames().unwrap();
    // Which frames are chosen does not depend on how they are shown.
    assert_eq!(predicted, &tokens_only.predicted);
    assert_eq!(targets.as_ref(), Some(&plain.keypoints));
    let f = mixed.features;
    let row = |v: &[f32], j: usize| v[j * f..(j + 1) * f].to_vec();
    let (mut tokens, mut kept, mut swapped) = (0, 0, 0);
    for j in (0..predicted.len()).filter(|&j| predicted[j]) {
        if masked[j] {
            tokens += 1;
        } else if row(&mixed.keypoints, j) == row(&plain.keypoints, j) {
            kept += 1;
        } else {
            swapped += 1;
            let shown = row(&mixed.keypoints, j);
            assert!(
                (0..plain.valid.len()).any(|k| plain.valid[k] && row(&plain.keypoints, k) == shown),
                "frame {j} shows no real frame of the batch"
            );
        }
    }
    for j in (0..predicted.len()).filter(|&j| !predicted[j]) {
        assert!(!masked[j]);
        assert_eq!(row(&mixed.keypoints, j), row(&plain.keypoints, j));
    }
    assert!(
        tokens > 0 && kept > 0 && swapped > 0,
        "{tokens} {kept} {swapped}"
    );
}
