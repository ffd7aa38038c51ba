//! Who did what to whom, from a model trained on pair views (`data.roles`): the model labels
//! each ordered pair's view of a recording, the agent's directed behaviours become that pair's,
//! and its solo behaviours are averaged over the views it leads. Written in long form
//! (`frame,time_s,agent,target,behaviour,probability`) and as bouts in MABe 2025's layout.

use std::path::Path;

use behavert_pose::pair_views::pair_views;
use behavert_pose::pose::Pose;
use behavert_pose::role_labels::{Role, RoleBout, RoleLabels, runs, write_role_bouts};

use super::predictions::PendingCsv;
use super::predictor::{InferOptions, Predictor};
use crate::checkpoint::RoleModel;
use crate::error::{Error, Result};
use crate::model::{HeadKind, HeadLevel};

/// One behaviour's probability per frame for one agent and (directed behaviours) one target;
/// NaN where the agent or the target is not tracked at all (no prediction there).
#[derive(Clone, Debug, PartialEq)]
pub struct RoleTrack {
    /// Index of the agent among the recording's animals.
    pub agent: usize,
    /// Index of the target; `None` for a solo behaviour.
    pub target: Option<usize>,
    /// Index into [`RolePredictions::behaviours`].
    pub behaviour: usize,
    /// Probability per frame.
    pub probability: Vec<f32>,
}

/// Every agent's (and pair's) behaviour probabilities over one recording.
#[derive(Clone, Debug, PartialEq)]
pub struct RolePredictions {
    /// The recording's animals.
    pub animals: Vec<String>,
    /// The behaviours with their roles, as the model knows them.
    pub behaviours: Vec<(String, Role)>,
    /// Frames of the recording.
    pub frames: usize,
    /// Directed behaviours: one track per ordered pair; solo ones: one per animal. Ordered by
    /// agent, target, behaviour.
    pub tracks: Vec<RoleTrack>,
}

/// What a role model reads: the `data.roles` description of its checkpoint.
pub fn role_model(predictor: &Predictor) -> Result<&RoleModel> {
    predictor.info().roles.as_ref().ok_or_else(|| {
        Error::data(
            "model",
            "a model trained with data.roles = true to label who did what to whom",
            "a model of frame labels",
        )
    })
}

/// Labels who did what to whom in `pose` (`origin` names it in errors).
pub fn predict_roles(
    predictor: &Predictor,
    pose: &Pose,
    origin: &str,
    options: &InferOptions,
) -> Result<RolePredictions> {
    let model = role_model(predictor)?;
    let head = predictor
        .heads()
        .iter()
        .position(|h| h.level() == HeadLevel::Frame && h.kind() == HeadKind::Multilabel)
        .ok_or_else(|| Error::data("model", "a frame multilabel head", "none"))?;
    let behaviours = &model.behaviours;
    let views = pair_views(pose, model.slots).map_err(|e| {
        Error::data(
            origin,
            format!("at most {} animals (the model's slots)", model.slots),
            e,
        )
    })?;
    let frames = pose.frames();
    let animals = pose.individuals.len();
    let tracked: Vec<Vec<bool>> = (0..animals)
        .map(|i| {
            (0..frames)
                .map(|f| {
                    pose.positions
                        .slice(ndarray::s![f, i, .., ..])
                        .iter()
                        .any(|v| v.is_finite())
                })
                .collect()
        })
        .collect();
    let mut tracks = Vec::new();
    // Per agent and solo behaviour: the sum of its views' probabilities, and their count.
    let mut solo = vec![vec![(vec![0.0f32; frames], 0usize); behaviours.len()]; animals];
    for view in &views {
        let predictions = predictor.predict(&view.pose, origin, options)?;
        let outputs = &predictions.heads[head];
        for (b, (_, role)) in behaviours.iter().enumerate() {
            let column = outputs.column(b);
            match role {
                Role::Directed => {
                    let Some(target) = view.target else { continue };
                    let probability = (0..frames)
                        .map(|f| {
                            if tracked[view.agent][f] && tracked[target][f] {
                                column[f]
                            } else {
                                f32::NAN
                            }
                        })
                        .collect();
                    tracks.push(RoleTrack {
                        agent: view.agent,
                        target: Some(target),
                        behaviour: b,
                        probability,
                    });
                }
                Role::Solo => {
                    let (sum, views) = &mut solo[view.agent][b];
                    for (s, p) in sum.iter_mut().zip(column) {
                        *s += p;
                    }
                    *views += 1;
                }
            }
        }
    }
    for (agent, per_behaviour) in solo.into_iter().enumerate() {
        for (b, (sum, views)) in per_behaviour.into_iter().enumerate() {
            if views == 0 {
                continue;
            }
            let probability = sum
                .iter()
                .enumerate()
                .map(|(f, s)| {
                    if tracked[agent][f] {
                        s / views as f32
                    } else {
                        f32::NAN
                    }
                })
                .collect();
            tracks.push(RoleTrack {
                agent,
                target: None,
                behaviour: b,
                probability,
            });
        }
    }
    tracks.sort_by_key(|t| (t.agent, t.target, t.behaviour));
    Ok(RolePredictions {
        animals: pose.individuals.clone(),
        behaviours: behaviours.clone(),
        frames,
        tracks,
    })
}

impl RolePredictions {
    /// The predicted bouts, as role labels: in each frame, for each agent and target (and each
    /// agent alone), the likeliest behaviour if its probability is `threshold` or more. One
    /// behaviour per pair and frame, as MABe 2025 annotates and scores.
    pub fn decided(&self, threshold: f32) -> Result<RoleLabels> {
        let mut keys: Vec<(usize, Option<usize>)> =
            self.tracks.iter().map(|t| (t.agent, t.target)).collect();
        keys.dedup();
        let mut bouts = Vec::new();
        for (agent, target) in keys {
            let tracks: Vec<&RoleTrack> = self
                .tracks
                .iter()
                .filter(|t| t.agent == agent && t.target == target)
                .collect();
            let chosen = (0..self.frames).map(|f| {
                tracks
                    .iter()
                    .filter_map(|t| {
                        let p = self.probability_at(t, f)?;
                        (p >= threshold).then_some((p, t.behaviour))
                    })
                    .max_by(|a, b| a.0.total_cmp(&b.0))
                    .map(|(_, behaviour)| behaviour)
            });
            for (behaviour, frames) in runs(chosen) {
                bouts.push(RoleBout {
                    agent: self.animals[agent].clone(),
                    target: target.map(|t| self.animals[t].clone()),
                    behaviour: self.behaviours[behaviour].0.clone(),
                    frames,
                });
            }
        }
        Ok(RoleLabels::from_bouts(
            &self.animals,
            bouts,
            "predicted bouts",
        )?)
    }

    fn probability_at(&self, track: &RoleTrack, frame: usize) -> Option<f32> {
        track
            .probability
            .get(frame)
            .copied()
            .filter(|p| p.is_finite())
    }

    /// Writes `path` in long form, one row per frame and track where a prediction exists
    /// (`frame,time_s,agent,target,behaviour,probability`, target empty for solo behaviours),
    /// and `bouts` (the bouts at 0.5, MABe 2025's `agent,target,behaviour,start_frame,
    /// stop_frame`); neither may exist yet.
    pub fn write(&self, path: &Path, bouts: &Path, fps: Option<f64>) -> Result<()> {
        super::predictions::refuse_existing(bouts)?;
        let header = [
            "frame",
            "time_s",
            "agent",
            "target",
            "behaviour",
            "probability",
        ]
        .map(String::from);
        let mut csv = PendingCsv::create(path, &header)?;
        let fps = fps.filter(|f| f.is_finite() && *f > 0.0);
        for frame in 0..self.frames {
            let time = fps.map_or_else(String::new, |fps| format!("{:.4}", frame as f64 / fps));
            for track in &self.tracks {
                let Some(p) = self.probability_at(track, frame) else {
                    continue;
                };
                csv.row(&[
                    frame.to_string(),
                    time.clone(),
                    self.animals[track.agent].clone(),
                    track
                        .target
                        .map_or_else(String::new, |t| self.animals[t].clone()),
                    self.behaviours[track.behaviour].0.clone(),
                    format!("{p:.6}"),
                ])?;
            }
        }
        let decided = self.decided(0.5)?;
        csv.finish()?;
        write_role_bouts(bouts, &decided)?;
        Ok(())
    }
}
