//! Who did what to whom, as a model reads it: a recording seen from each ordered pair of animals
//! (agent, target), its individuals re-arranged as agent, target, then the other animals
//! nearest the agent first, padded with untracked slots to a fixed number. A view depends on
//! the animals' positions only, never on their order in the file: relabelling the animals
//! permutes the views and changes none of them, so one model applied to every view labels
//! pairs permutation-equivariantly by construction, for any number of animals up to its slots.
//!
//! A view's labels are the agent's: its behaviours directed at the target and its solo ones.
//! Frames where the agent is not tracked at all are unlabelled.

use ndarray::{Array3, Array4, s};

use crate::error::{PoseError, Result};
use crate::labels::{FrameLabels, Labels};
use crate::pose::Pose;
use crate::role_labels::{Role, RoleLabels};

/// Name of a view's first individual slot: the animal doing the behaviour.
pub const AGENT: &str = "agent";
/// Name of a view's second individual slot: the animal it is directed at.
pub const TARGET: &str = "target";

/// The individual names of a view with `slots` slots: agent, target, other_1, other_2, …
pub fn slot_names(slots: usize) -> Vec<String> {
    (0..slots)
        .map(|slot| match slot {
            0 => AGENT.to_string(),
            1 => TARGET.to_string(),
            n => format!("other_{}", n - 1),
        })
        .collect()
}

/// One recording seen from one agent and (with two animals or more) one target.
#[derive(Clone, Debug)]
pub struct PairView {
    /// Index of the agent among the recording's individuals.
    pub agent: usize,
    /// Index of the target; `None` only for a recording of one animal.
    pub target: Option<usize>,
    /// The re-arranged pose, individuals named by [`slot_names`].
    pub pose: Pose,
}

/// Every view of `pose` with `slots` individual slots: each ordered pair of different animals
/// (one view without target when the recording has one animal). `slots` must hold them all.
pub fn pair_views(pose: &Pose, slots: usize) -> Result<Vec<PairView>> {
    let animals = pose.individuals.len();
    if slots < 2 || animals > slots {
        return Err(PoseError::invalid(
            "pose individuals",
            format!("1 to {} animals (the model's slots)", slots.max(2)),
            format!("{animals} ({})", pose.individuals.join(", ")),
        ));
    }
    let centres = centres(pose);
    let mut views = Vec::with_capacity(animals * animals.saturating_sub(1));
    for agent in 0..animals {
        let targets: Vec<Option<usize>> = if animals == 1 {
            vec![None]
        } else {
            (0..animals).filter(|&t| t != agent).map(Some).collect()
        };
        for target in targets {
            let mut order = vec![agent];
            order.extend(target);
            let mut others: Vec<(usize, [f32; 3])> = (0..animals)
                .filter(|&i| i != agent && Some(i) != target)
                .map(|i| (i, nearness(&centres, agent, i)))
                .collect();
            others.sort_by(|a, b| {
                a.1.iter()
                    .zip(&b.1)
                    .map(|(x, y)| x.total_cmp(y))
                    .find(|o| o.is_ne())
                    .unwrap_or(std::cmp::Ordering::Equal)
            });
            order.extend(others.iter().map(|(i, _)| *i));
            views.push(PairView {
                agent,
                target,
                pose: arrange(pose, &order, slots)?,
            });
        }
    }
    Ok(views)
}

/// `[frames, individuals]` body centres: the mean of each animal's tracked keypoints (x, y),
/// NaN where none is tracked.
fn centres(pose: &Pose) -> Vec<Vec<Option<[f32; 2]>>> {
    let (frames, individuals, keypoints, _) = pose.positions.dim();
    (0..frames)
        .map(|f| {
            (0..individuals)
                .map(|i| {
                    let (mut sum, mut n) = ([0.0f32; 2], 0);
                    for k in 0..keypoints {
                        let (x, y) = (pose.positions[[f, i, k, 0]], pose.positions[[f, i, k, 1]]);
                        if x.is_finite() && y.is_finite() {
                            sum[0] += x;
                            sum[1] += y;
                            n += 1;
                        }
                    }
                    (n > 0).then(|| [sum[0] / n as f32, sum[1] / n as f32])
                })
                .collect()
        })
        .collect()
}

/// How near animal `other` keeps to `agent`, as a sort key: the median distance between their
/// centres over the frames both are tracked, then the other's mean position (infinite when
/// never tracked), so equal keys mean equal tracks.
fn nearness(centres: &[Vec<Option<[f32; 2]>>], agent: usize, other: usize) -> [f32; 3] {
    let mut distances: Vec<f32> = centres
        .iter()
        .filter_map(|frame| {
            let (a, o) = (frame[agent]?, frame[other]?);
            Some((a[0] - o[0]).hypot(a[1] - o[1]))
        })
        .collect();
    distances.sort_by(f32::total_cmp);
    let median = distances
        .get(distances.len() / 2)
        .copied()
        .unwrap_or(f32::INFINITY);
    let tracked: Vec<[f32; 2]> = centres.iter().filter_map(|f| f[other]).collect();
    let mean = |axis: usize| {
        if tracked.is_empty() {
            f32::INFINITY
        } else {
            tracked.iter().map(|c| c[axis]).sum::<f32>() / tracked.len() as f32
        }
    };
    [median, mean(0), mean(1)]
}

/// `pose` with its individuals in `order`, padded with untracked slots to `slots`.
fn arrange(pose: &Pose, order: &[usize], slots: usize) -> Result<Pose> {
    let (frames, _, keypoints, dims) = pose.positions.dim();
    let mut positions = Array4::from_elem((frames, slots, keypoints, dims), f32::NAN);
    for (slot, &i) in order.iter().enumerate() {
        positions
            .slice_mut(s![.., slot, .., ..])
            .assign(&pose.positions.slice(s![.., i, .., ..]));
    }
    let mut view = Pose::new(positions, slot_names(slots), pose.keypoints.clone())?;
    if let Some(confidence) = &pose.confidence {
        let mut arranged = Array3::zeros((frames, slots, keypoints));
        for (slot, &i) in order.iter().enumerate() {
            arranged
                .slice_mut(s![.., slot, ..])
                .assign(&confidence.slice(s![.., i, ..]));
        }
        view = view.with_confidence(arranged)?;
    }
    view.fps = pose.fps;
    view.source = pose.source.clone();
    view.software = pose.software.clone();
    Ok(view)
}

/// The labels of `view` over `behaviours` (one multi-label column each): the agent's bouts
/// directed at the view's target and its solo bouts; frames where the agent is untracked are
/// unlabelled.
pub fn view_labels(roles: &RoleLabels, behaviours: &[(String, Role)], view: &PairView) -> Labels {
    let frames = view.pose.frames();
    let agent = &roles.animals[view.agent];
    let target = view.target.map(|t| roles.animals[t].as_str());
    let mut rows: Vec<Vec<Option<bool>>> = (0..frames)
        .map(|f| {
            let tracked = view
                .pose
                .positions
                .slice(s![f, 0, .., ..])
                .iter()
                .any(|v| v.is_finite());
            vec![tracked.then_some(false); behaviours.len()]
        })
        .collect();
    for bout in roles.bouts.iter().filter(|b| &b.agent == agent) {
        if bout.target.is_some() && bout.target.as_deref() != target {
            continue;
        }
        let Some(column) = behaviours
            .iter()
            .position(|(name, _)| *name == bout.behaviour)
        else {
            continue;
        };
        for row in rows
            .iter_mut()
            .take(bout.frames.end)
            .skip(bout.frames.start)
        {
            if let Some(on) = &mut row[column] {
                *on = true;
            }
        }
    }
    Labels {
        vocabulary: behaviours.iter().map(|(name, _)| name.clone()).collect(),
        frames: FrameLabels::Multi(rows),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::role_labels::RoleBout;
    use ndarray::Array4;

    /// Three animals standing still at x = 0, 10 and 100, one keypoint pair each.
    fn three_animals() -> Pose {
        let mut positions = Array4::zeros((4, 3, 2, 2));
        for (i, x) in [0.0, 10.0, 100.0].into_iter().enumerate() {
            positions.slice_mut(s![.., i, 0, 0]).fill(x);
            positions.slice_mut(s![.., i, 1, 0]).fill(x + 1.0);
        }
        positions.slice_mut(s![2, 0, .., ..]).fill(f32::NAN);
        Pose::new(
            positions,
            vec!["a".into(), "b".into(), "c".into()],
            vec!["nose".into(), "tail".into()],
        )
        .unwrap()
    }

    #[test]
    fn every_ordered_pair_is_a_view_with_the_others_nearest_first() {
        let views = pair_views(&three_animals(), 4).unwrap();
        let pairs: Vec<(usize, Option<usize>)> =
            views.iter().map(|v| (v.agent, v.target)).collect();
        assert_eq!(
            pairs,
            [
                (0, Some(1)),
                (0, Some(2)),
                (1, Some(0)),
                (1, Some(2)),
                (2, Some(0)),
                (2, Some(1))
            ]
        );
        let c_to_a = &views[4].pose;
        assert_eq!(
            c_to_a.individuals,
            ["agent", "target", "other_1", "other_2"]
        );
        assert_eq!(c_to_a.positions[[0, 0, 0, 0]], 100.0);
        assert_eq!(c_to_a.positions[[0, 1, 0, 0]], 0.0);
        assert_eq!(c_to_a.positions[[0, 2, 0, 0]], 10.0);
        assert!(
            c_to_a
                .positions
                .slice(s![.., 3, .., ..])
                .iter()
                .all(|v| v.is_nan())
        );
        // The agent-to-other order follows distance, not the file's order.
        assert_eq!(views[1].pose.positions[[0, 2, 0, 0]], 10.0);
    }

    #[test]
    fn relabelling_the_animals_permutes_the_views_and_changes_none() {
        let pose = three_animals();
        let mut shuffled = pose.clone();
        let order = [2, 0, 1];
        for (new, &old) in order.iter().enumerate() {
            shuffled
                .positions
                .slice_mut(s![.., new, .., ..])
                .assign(&pose.positions.slice(s![.., old, .., ..]));
        }
        let original = pair_views(&pose, 3).unwrap();
        let relabelled = pair_views(&shuffled, 3).unwrap();
        for view in &relabelled {
            let agent = order[view.agent];
            let target = view.target.map(|t| order[t]);
            let same = original
                .iter()
                .find(|v| v.agent == agent && v.target == target)
                .unwrap();
            let bits = |p: &Pose| p.positions.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&view.pose), bits(&same.pose));
        }
    }

    #[test]
    fn a_view_is_labelled_with_its_agents_directed_and_solo_bouts() {
        let pose = three_animals();
        let animals = pose.individuals.clone();
        let bout = |agent: &str, target: Option<&str>, behaviour: &str, frames| RoleBout {
            agent: agent.into(),
            target: target.map(Into::into),
            behaviour: behaviour.into(),
            frames,
        };
        let roles = RoleLabels::from_bouts(
            &animals,
            vec![
                bout("a", Some("b"), "attack", 0..3),
                bout("a", None, "grooming", 3..4),
                bout("b", Some("a"), "attack", 1..2),
            ],
            "test",
        )
        .unwrap();
        let behaviours = vec![
            ("attack".to_string(), Role::Directed),
            ("grooming".to_string(), Role::Solo),
        ];
        let views = pair_views(&pose, 3).unwrap();
        let labels = |i: usize| match view_labels(&roles, &behaviours, &views[i]).frames {
            FrameLabels::Multi(rows) => rows,
            FrameLabels::Single(_) => unreachable!(),
        };
        let (on, off, none) = (Some(true), Some(false), None);
        // a → b: attack on 0..3 (frame 2 untracked), grooming at 3.
        assert_eq!(labels(0), [[on, off], [on, off], [none, none], [off, on]]);
        // a → c: no attack on c, the grooming still a's.
        assert_eq!(labels(1), [[off, off], [off, off], [none, none], [off, on]]);
        // b → a.
        assert_eq!(labels(2), [[off, off], [on, off], [off, off], [off, off]]);
    }

    #[test]
    fn more_animals_than_slots_is_an_error() {
        let error = pair_views(&three_animals(), 2).unwrap_err().to_string();
        assert!(error.contains("1 to 2 animals"), "{error}");
        assert!(error.contains("3 (a, b, c)"), "{error}");
    }
}
