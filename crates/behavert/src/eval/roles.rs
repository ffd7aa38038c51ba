//! Scores of who did what to whom. An item is one frame of one agent's behaviour towards one
//! target (solo behaviours: no target); a predicted item is right only with the right agent,
//! target and behaviour. Counts are summed over the recordings before F1 is taken, per
//! behaviour, as MABe 2025 scores a lab; its final score averages the labs' macro-F1
//! ([`mabe2025_f1`]).

use std::collections::HashSet;

use behavert_pose::pose::Pose;
use behavert_pose::role_labels::{Role, RoleBout, RoleLabels, runs};
use serde::{Deserialize, Serialize};

use super::classification::ClassScores;
use crate::error::{Error, Result};

/// One behaviour's counts and F1.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BehaviourScores {
    /// The behaviour.
    pub behaviour: String,
    /// Its counts and scores.
    pub scores: ClassScores,
}

/// Per-behaviour scores and their unweighted mean F1.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoleScores {
    /// One entry per behaviour scored, in the order asked.
    pub behaviours: Vec<BehaviourScores>,
    /// Mean F1 over them.
    pub macro_f1: f64,
}

/// One recording's truth and predictions.
#[derive(Clone, Copy, Debug)]
pub struct ScoredRecording<'a> {
    /// The annotated roles.
    pub truth: &'a RoleLabels,
    /// The predicted roles.
    pub predicted: &'a RoleLabels,
}

/// How an item is told apart from another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attribution {
    /// Frame, agent and target must all match: who did what to whom.
    Pairs,
    /// Only the frame: the behaviour happened, whoever did it (frame-level labels).
    Frames,
}

/// Scores of `behaviours` over `recordings`, items counted as `attribution` says.
pub fn role_scores(
    recordings: &[ScoredRecording<'_>],
    behaviours: &[String],
    attribution: Attribution,
) -> Result<RoleScores> {
    if behaviours.is_empty() {
        return Err(Error::empty("behaviours to score"));
    }
    let scored = behaviours
        .iter()
        .map(|behaviour| {
            let (mut tp, mut support, mut predicted) = (0, 0, 0);
            for recording in recordings {
                let truth = items(recording.truth, behaviour, attribution);
                let guess = items(recording.predicted, behaviour, attribution);
                tp += truth.intersection(&guess).count();
                support += truth.len();
                predicted += guess.len();
            }
            BehaviourScores {
                behaviour: behaviour.clone(),
                scores: ClassScores::from_counts(tp, support, predicted),
            }
        })
        .collect::<Vec<_>>();
    let macro_f1 = scored.iter().map(|s| s.scores.f1).sum::<f64>() / scored.len() as f64;
    Ok(RoleScores {
        behaviours: scored,
        macro_f1,
    })
}

/// The items of `behaviour` in `labels`: (frame, agent, target), agent and target left out
/// when only frames count.
fn items<'a>(
    labels: &'a RoleLabels,
    behaviour: &str,
    attribution: Attribution,
) -> HashSet<(usize, &'a str, Option<&'a str>)> {
    labels
        .bouts
        .iter()
        .filter(|b| b.behaviour == behaviour)
        .flat_map(|b| {
            b.frames.clone().map(move |f| match attribution {
                Attribution::Pairs => (f, b.agent.as_str(), b.target.as_deref()),
                Attribution::Frames => (f, "", None),
            })
        })
        .collect()
}

/// One video as MABe 2025 scores it.
#[derive(Clone, Copy, Debug)]
pub struct Mabe2025Video<'a> {
    /// The lab (or dataset) the video belongs to.
    pub lab: &'a str,
    /// The annotated roles.
    pub truth: &'a RoleLabels,
    /// The predicted roles.
    pub predicted: &'a RoleLabels,
    /// The (agent, target, behaviour) triples annotated in this video (`behaviors_labeled`;
    /// target `None` for `self`): predictions of any other are not scored.
    pub labelled: &'a [(String, Option<String>, String)],
}

/// MABe 2025's score and each lab's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Mabe2025Score {
    /// The mean of the labs' scores.
    pub f1: f64,
    /// Per lab, in order of first appearance: its mean F1 over the behaviours annotated in
    /// its videos, and those behaviours' scores.
    pub labs: Vec<(String, RoleScores)>,
}

/// MABe 2025's score, to the challenge's published metric: per lab, each behaviour that the
/// lab's annotations contain is scored over the frames of every (video, agent, target) (counts
/// summed over the lab's videos; predictions of triples a video's `behaviors_labeled` does not
/// list are dropped), F1 averaged over those behaviours; the score is the mean over labs.
/// Like the challenge, refuses predictions of two behaviours for one agent and target (or
/// agent alone) in one frame.
pub fn mabe2025_f1(videos: &[Mabe2025Video<'_>]) -> Result<Mabe2025Score> {
    if videos.is_empty() {
        return Err(Error::empty("videos to score"));
    }
    let mut labs: Vec<&str> = Vec::new();
    for video in videos {
        if !labs.contains(&video.lab) {
            labs.push(video.lab);
        }
    }
    let mut scored = Vec::with_capacity(labs.len());
    for lab in labs {
        let members: Vec<&Mabe2025Video<'_>> = videos.iter().filter(|v| v.lab == lab).collect();
        let mut behaviours: Vec<String> = members
            .iter()
            .flat_map(|v| v.truth.bouts.iter().map(|b| b.behaviour.clone()))
            .collect();
        behaviours.sort();
        behaviours.dedup();
        let kept: Vec<RoleLabels> = members
            .iter()
            .map(|v| scorable_predictions(v))
            .collect::<Result<_>>()?;
        let recordings: Vec<ScoredRecording<'_>> = members
            .iter()
            .zip(&kept)
            .map(|(v, predicted)| ScoredRecording {
                truth: v.truth,
                predicted,
            })
            .collect();
        let scores = if behaviours.is_empty() {
            RoleScores {
                behaviours: Vec::new(),
                macro_f1: 0.0,
            }
        } else {
            role_scores(&recordings, &behaviours, Attribution::Pairs)?
        };
        scored.push((lab.to_string(), scores));
    }
    let f1 = scored.iter().map(|(_, s)| s.macro_f1).sum::<f64>() / scored.len() as f64;
    Ok(Mabe2025Score { f1, labs: scored })
}

/// A video's predictions the challenge scores: those of its annotated triples, checked for
/// one behaviour per agent and target in each frame.
fn scorable_predictions(video: &Mabe2025Video<'_>) -> Result<RoleLabels> {
    let bouts: Vec<RoleBout> = video
        .predicted
        .bouts
        .iter()
        .filter(|b| {
            video
                .labelled
                .iter()
                .any(|(a, t, name)| *a == b.agent && *t == b.target && *name == b.behaviour)
        })
        .cloned()
        .collect();
    let mut taken: HashSet<(usize, &str, Option<&str>)> = HashSet::new();
    for bout in &bouts {
        for frame in bout.frames.clone() {
            if !taken.insert((frame, &bout.agent, bout.target.as_deref())) {
                return Err(Error::data(
                    format!(
                        "predictions of {} → {} at frame {frame}",
                        bout.agent,
                        bout.target.as_deref().unwrap_or("self")
                    ),
                    "one behaviour per agent and target in a frame (MABe 2025 scores no more)",
                    "two or more",
                ));
            }
        }
    }
    Ok(RoleLabels {
        animals: video.predicted.animals.clone(),
        behaviours: video.predicted.behaviours.clone(),
        bouts,
    })
}

/// The "nearest animal" baseline: `predicted`'s directed behaviours kept only as frames (that
/// the behaviour happened), each then given to the ordered pair whose agent's `nose` keypoint
/// is nearest the target's body centre in that frame. Solo behaviours are dropped.
pub fn nearest_animal_attribution(
    predicted: &RoleLabels,
    pose: &Pose,
    nose: usize,
) -> Result<RoleLabels> {
    let frames = pose.frames();
    let animals = pose.individuals.len();
    let centre = |f: usize, i: usize| -> Option<[f32; 2]> {
        let points: Vec<[f32; 2]> = pose
            .positions
            .slice(ndarray::s![f, i, .., ..])
            .outer_iter()
            .map(|p| [p[0], p[1]])
            .filter(|p| p[0].is_finite() && p[1].is_finite())
            .collect();
        (!points.is_empty()).then(|| {
            let n = points.len() as f32;
            [
                points.iter().map(|p| p[0]).sum::<f32>() / n,
                points.iter().map(|p| p[1]).sum::<f32>() / n,
            ]
        })
    };
    let nearest_pair = |f: usize| -> Option<(usize, usize)> {
        let mut best: Option<(f32, usize, usize)> = None;
        for agent in 0..animals {
            let (x, y) = (
                pose.positions[[f, agent, nose, 0]],
                pose.positions[[f, agent, nose, 1]],
            );
            if !(x.is_finite() && y.is_finite()) {
                continue;
            }
            for target in (0..animals).filter(|&t| t != agent) {
                let Some(c) = centre(f, target) else { continue };
                let d = (x - c[0]).hypot(y - c[1]);
                if best.is_none_or(|(b, _, _)| d < b) {
                    best = Some((d, agent, target));
                }
            }
        }
        best.map(|(_, a, t)| (a, t))
    };
    let directed: Vec<&str> = predicted
        .behaviours
        .iter()
        .filter(|(_, role)| *role == Role::Directed)
        .map(|(name, _)| name.as_str())
        .collect();
    let mut bouts = Vec::new();
    for behaviour in directed {
        let happening: HashSet<usize> = items(predicted, behaviour, Attribution::Frames)
            .into_iter()
            .map(|(f, _, _)| f)
            .collect();
        let pairs = (0..frames).map(|f| happening.contains(&f).then(|| nearest_pair(f)).flatten());
        for ((agent, target), frames) in runs(pairs) {
            bouts.push(RoleBout {
                agent: pose.individuals[agent].clone(),
                target: Some(pose.individuals[target].clone()),
                behaviour: behaviour.to_string(),
                frames,
            });
        }
    }
    Ok(RoleLabels::from_bouts(
        &pose.individuals,
        bouts,
        "nearest-animal attribution",
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(bouts: &[(&str, Option<&str>, &str, std::ops::Range<usize>)]) -> RoleLabels {
        let animals: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        RoleLabels::from_bouts(
            &animals,
            bouts
                .iter()
                .map(|(agent, target, behaviour, frames)| RoleBout {
                    agent: agent.to_string(),
                    target: target.map(String::from),
                    behaviour: behaviour.to_string(),
                    frames: frames.clone(),
                })
                .collect(),
            "test",
        )
        .unwrap()
    }

    #[test]
    fn the_wrong_target_is_a_miss_for_pairs_and_a_hit_for_frames() {
        let truth = labels(&[
            ("a", Some("b"), "attack", 0..10),
            ("c", None, "groom", 0..4),
        ]);
        let predicted = labels(&[
            ("a", Some("c"), "attack", 0..5),
            ("a", Some("b"), "attack", 5..10),
            ("c", None, "groom", 2..6),
        ]);
        let recordings = [ScoredRecording {
            truth: &truth,
            predicted: &predicted,
        }];
        let names = ["attack", "groom"].map(String::from);
        let pairs = role_scores(&recordings, &names, Attribution::Pairs).unwrap();
        let attack = &pairs.behaviours[0].scores;
        assert_eq!(
            (attack.true_positives, attack.support, attack.predicted),
            (5, 10, 10)
        );
        assert!((attack.f1 - 0.5).abs() < 1e-12);
        let groom = &pairs.behaviours[1].scores;
        assert_eq!(
            (groom.true_positives, groom.support, groom.predicted),
            (2, 4, 4)
        );
        assert!((pairs.macro_f1 - 0.5).abs() < 1e-12);
        let frames = role_scores(&recordings, &names, Attribution::Frames).unwrap();
        assert_eq!(frames.behaviours[0].scores.f1, 1.0);
    }

    /// The examples of the challenge's metric documentation, animals named "1" and "2".
    #[test]
    fn mabe2025_f1_gives_the_published_examples() {
        let animals: Vec<String> = ["1", "2"].map(String::from).to_vec();
        let roles = |bouts: &[(&str, std::ops::Range<usize>)]| {
            RoleLabels::from_bouts(
                &animals,
                bouts
                    .iter()
                    .map(|(action, frames)| RoleBout {
                        agent: "1".into(),
                        target: Some("2".into()),
                        behaviour: action.to_string(),
                        frames: frames.clone(),
                    })
                    .collect(),
                "test",
            )
            .unwrap()
        };
        let attack_only = vec![("1".to_string(), Some("2".to_string()), "attack".to_string())];
        let truth = roles(&[("attack", 0..9), ("mount", 15..24)]);
        let guess = roles(&[("attack", 0..9)]);
        let none = roles(&[]);
        let video = |lab, predicted| Mabe2025Video {
            lab,
            truth: &truth,
            predicted,
            labelled: &attack_only,
        };
        // Attack found, mount (annotated though not listed) missed: 0.5.
        let one = mabe2025_f1(&[video("1", &guess)]).unwrap();
        assert!((one.f1 - 0.5).abs() < 1e-12, "{one:?}");
        // A second lab with nothing predicted: the mean of 0.5 and 0.
        let two = mabe2025_f1(&[video("1", &guess), video("2", &none)]).unwrap();
        assert!((two.f1 - 0.25).abs() < 1e-12, "{two:?}");
        // Two touching bouts of one key, one prediction over both: 1.
        let joined = roles(&[("attack", 0..10), ("attack", 10..20)]);
        let whole = roles(&[("attack", 0..20)]);
        let touching = Mabe2025Video {
            lab: "1",
            truth: &joined,
            predicted: &whole,
            labelled: &attack_only,
        };
        assert_eq!(mabe2025_f1(&[touching]).unwrap().f1, 1.0);
        // Two bouts with a gap, predicted as one: 20 right, 20 wrong, F1 2/3.
        let apart = roles(&[("attack", 0..10), ("attack", 30..40)]);
        let long = roles(&[("attack", 0..40)]);
        let gap = Mabe2025Video {
            lab: "1",
            truth: &apart,
            predicted: &long,
            labelled: &attack_only,
        };
        assert!((mabe2025_f1(&[gap]).unwrap().f1 - 2.0 / 3.0).abs() < 1e-12);
        // Predictions of triples the video was not annotated for do not count.
        let mounts = roles(&[("attack", 0..9), ("mount", 15..24)]);
        let unlisted = mabe2025_f1(&[video("1", &mounts)]).unwrap();
        assert!((unlisted.f1 - 0.5).abs() < 1e-12);
        // Two behaviours of one pair in one frame are refused.
        let both = roles(&[("attack", 0..9), ("sniff", 5..7)]);
        let listed = vec![
            ("1".to_string(), Some("2".to_string()), "attack".to_string()),
            ("1".to_string(), Some("2".to_string()), "sniff".to_string()),
        ];
        let error = mabe2025_f1(&[Mabe2025Video {
            lab: "1",
            truth: &truth,
            predicted: &both,
            labelled: &listed,
        }])
        .unwrap_err()
        .to_string();
        assert!(error.contains("1 → 2 at frame 5"), "{error}");
    }

    #[test]
    fn nearest_animal_attribution_gives_each_frame_to_the_closest_pair() {
        use ndarray::Array4;
        // a's nose touches c's body for the first 3 frames, b's for the last 3.
        let mut positions = Array4::from_elem((6, 3, 2, 2), 0.0f32);
        let place = |p: &mut Array4<f32>, f: usize, i: usize, x: f32| {
            p[[f, i, 0, 0]] = x;
            p[[f, i, 1, 0]] = x + 2.0;
        };
        for f in 0..6 {
            place(&mut positions, f, 0, 0.0);
            place(&mut positions, f, 1, if f < 3 { 50.0 } else { -2.0 });
            place(&mut positions, f, 2, if f < 3 { -2.0 } else { 50.0 });
        }
        let pose = Pose::new(
            positions,
            ["a", "b", "c"].map(String::from).to_vec(),
            vec!["nose".into(), "tail".into()],
        )
        .unwrap();
        let predicted = labels(&[("b", Some("a"), "attack", 0..6), ("a", None, "groom", 0..2)]);
        let baseline = nearest_animal_attribution(&predicted, &pose, 0).unwrap();
        let bouts: Vec<(&str, Option<&str>, std::ops::Range<usize>)> = baseline
            .bouts
            .iter()
            .map(|b| (b.agent.as_str(), b.target.as_deref(), b.frames.clone()))
            .collect();
        assert_eq!(bouts, [("a", Some("b"), 3..6), ("a", Some("c"), 0..3)]);
    }
}
