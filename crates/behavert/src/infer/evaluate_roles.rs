//! `evaluate` for a model of who did what to whom (`data.roles`): each recording labelled pair
//! by pair, scored per behaviour over pairs and over frames (attribution's cost), and MABe
//! 2025's score over labs. Writes `metrics.json`, `per_behaviour.csv`, each recording's
//! predicted bouts, an ethogram with one row per agent and target, and `report.html`; the
//! folder is published whole, as `evaluate`'s is.

use std::path::{Path, PathBuf};

use behavert_pose::pose::Pose;
use behavert_pose::role_labels::{Role, RoleLabels, write_role_bouts};
use serde::Serialize;

use super::evaluate::{file_name, publish_dir, refuse_used_output_dir, staging_dir};
use super::predictor::{InferOptions, Predictor};
use super::roles::{predict_roles, role_model};
use crate::error::{Error, Result};
use crate::eval::html::{RoleReportInputs, RunInfo, utc_now, write_role_report};
use crate::eval::plots::{Ethogram, EthogramTrack, write_plot};
use crate::eval::roles::{
    Attribution, Mabe2025Score, Mabe2025Video, RoleScores, ScoredRecording, mabe2025_f1,
    role_scores,
};

/// A recording with its role labels, to evaluate a role model on.
#[derive(Clone, Debug)]
pub struct RoleRecording {
    /// Name for files and the report.
    pub name: String,
    /// The pose.
    pub pose: Pose,
    /// Who did what to whom, as annotated.
    pub roles: RoleLabels,
    /// Its lab or dataset, for MABe 2025's mean over labs.
    pub lab: String,
    /// The (agent, target, behaviour) triples annotated in it (MABe 2025's
    /// `behaviors_labeled`; target `None` for solo); `None` = every triple the model knows.
    pub labelled: Option<Vec<(String, Option<String>, String)>>,
}

/// The headline numbers of a role evaluation, and where its files went.
#[derive(Clone, Debug, Serialize)]
pub struct RoleEvaluationSummary {
    /// The output folder.
    pub output_dir: PathBuf,
    /// Per behaviour over (frame, agent, target): who did what to whom.
    pub pairs: RoleScores,
    /// Per behaviour over frames, whoever did it: the same predictions without attribution.
    pub frames: RoleScores,
    /// MABe 2025's score.
    pub mabe2025: Mabe2025Score,
    /// Every file written.
    pub files: Vec<PathBuf>,
}

/// How a role evaluation runs, and what its report says about it.
#[derive(Clone, Debug, Default)]
pub struct RoleEvaluateOptions {
    /// Windows.
    pub infer: InferOptions,
    /// The model, as the report names it.
    pub model: String,
    /// What was evaluated (dataset and split, or files).
    pub dataset: String,
    /// The command line, for the report.
    pub command: String,
}

/// Scores `predictor` (a `data.roles` model) on `recordings` into `output_dir` (new or
/// empty), decisions at probability 0.5.
pub fn evaluate_roles(
    predictor: &Predictor,
    recordings: &[RoleRecording],
    options: &RoleEvaluateOptions,
    output_dir: &Path,
) -> Result<RoleEvaluationSummary> {
    let infer = &options.infer;
    let model = role_model(predictor)?;
    if recordings.is_empty() {
        return Err(Error::data(
            "evaluation",
            "at least one recording with role labels",
            "none",
        ));
    }
    refuse_used_output_dir(output_dir)?;
    let staging = staging_dir(output_dir)?;
    let dir = &staging.path().to_path_buf();
    let mut files = Vec::new();
    let mut predicted = Vec::with_capacity(recordings.len());
    for (r, recording) in recordings.iter().enumerate() {
        let roles =
            predict_roles(predictor, &recording.pose, &recording.name, infer)?.decided(0.5)?;
        let bouts = dir.join(format!("{}_bouts.csv", file_name(&recording.name, r)));
        write_role_bouts(&bouts, &roles)?;
        files.push(bouts);
        predicted.push(roles);
    }
    let names: Vec<String> = model.behaviours.iter().map(|(n, _)| n.clone()).collect();
    let scored: Vec<ScoredRecording<'_>> = recordings
        .iter()
        .zip(&predicted)
        .map(|(r, predicted)| ScoredRecording {
            truth: &r.roles,
            predicted,
        })
        .collect();
    let pairs = role_scores(&scored, &names, Attribution::Pairs)?;
    let frames = role_scores(&scored, &names, Attribution::Frames)?;
    let everything: Vec<Vec<(String, Option<String>, String)>> = recordings
        .iter()
        .map(|r| every_triple(&r.pose.individuals, &model.behaviours))
        .collect();
    let videos: Vec<Mabe2025Video<'_>> = recordings
        .iter()
        .zip(&predicted)
        .zip(&everything)
        .map(|((r, predicted), all)| Mabe2025Video {
            lab: &r.lab,
            truth: &r.roles,
            predicted,
            labelled: r.labelled.as_deref().unwrap_or(all),
        })
        .collect();
    let mabe2025 = mabe2025_f1(&videos)?;

    let metrics = dir.join("metrics.json");
    let json = serde_json::to_string_pretty(&serde_json::json!({
        "recordings": recordings.iter().map(|r| &r.name).collect::<Vec<_>>(),
        "behaviours": model.behaviours,
        "pairs": pairs,
        "frames": frames,
        "mabe2025": mabe2025,
    }))
    .map_err(|e| Error::data("metrics.json", "serialisable metrics", e))?;
    crate::eval::output::write_atomic(&metrics, json.as_bytes())?;
    files.push(metrics);
    let table = dir.join("per_behaviour.csv");
    let mut text = String::from(
        "behaviour,role,support,predicted,precision,recall,f1,f1_without_attribution\n",
    );
    for ((pair, frame), (_, role)) in pairs
        .behaviours
        .iter()
        .zip(&frames.behaviours)
        .zip(&model.behaviours)
    {
        let s = &pair.scores;
        text.push_str(&format!(
            "{},{},{},{},{:.6},{:.6},{:.6},{:.6}\n",
            pair.behaviour,
            match role {
                Role::Solo => "solo",
                Role::Directed => "directed",
            },
            s.support,
            s.predicted,
            s.precision,
            s.recall,
            s.f1,
            frame.scores.f1
        ));
    }
    crate::eval::output::write_atomic(&table, text.as_bytes())?;
    files.push(table);
    let shown = &recordings[0];
    let ethogram = role_ethogram(&names, shown, &predicted[0])?;
    files.extend(write_plot(&ethogram, dir)?);
    let run_info = RunInfo {
        model: options.model.clone(),
        dataset: options.dataset.clone(),
        date: utc_now(),
        command: options.command.clone(),
        extra: vec![
            ("recordings".to_string(), recordings.len().to_string()),
            ("ethogram".to_string(), shown.name.clone()),
            (
                "decision".to_string(),
                "the likeliest behaviour at 0.5 or more per agent and target".to_string(),
            ),
        ],
    };
    let report = dir.join("report.html");
    write_role_report(
        &report,
        &RoleReportInputs {
            pairs: &pairs,
            frames: &frames,
            mabe2025: &mabe2025,
            roles: &model.behaviours,
            ethogram: &ethogram,
            run_info: &run_info,
        },
    )?;
    files.push(report);

    publish_dir(staging, output_dir)?;
    let files = files
        .iter()
        .map(|f| output_dir.join(f.strip_prefix(dir).unwrap_or(f)))
        .collect();
    Ok(RoleEvaluationSummary {
        output_dir: output_dir.to_path_buf(),
        pairs,
        frames,
        mabe2025,
        files,
    })
}

/// Every (agent, target, behaviour) a model of `behaviours` can predict among `animals`.
fn every_triple(
    animals: &[String],
    behaviours: &[(String, Role)],
) -> Vec<(String, Option<String>, String)> {
    let mut triples = Vec::new();
    for agent in animals {
        for (name, role) in behaviours {
            match role {
                Role::Solo => triples.push((agent.clone(), None, name.clone())),
                Role::Directed => triples.extend(
                    animals
                        .iter()
                        .filter(|t| *t != agent)
                        .map(|t| (agent.clone(), Some(t.clone()), name.clone())),
                ),
            }
        }
    }
    triples
}

/// Truth above prediction for every agent and target (or agent alone) either of them names.
fn role_ethogram(
    behaviours: &[String],
    recording: &RoleRecording,
    predicted: &RoleLabels,
) -> Result<Ethogram> {
    let frames = recording.pose.frames();
    let mut keys: Vec<(String, Option<String>)> = recording
        .roles
        .bouts
        .iter()
        .chain(&predicted.bouts)
        .map(|b| (b.agent.clone(), b.target.clone()))
        .collect();
    keys.sort();
    keys.dedup();
    let row = |labels: &RoleLabels, key: &(String, Option<String>)| -> Vec<Option<u32>> {
        let mut row = vec![None; frames];
        for bout in labels
            .bouts
            .iter()
            .filter(|b| b.agent == key.0 && b.target == key.1)
        {
            let id = behaviours.iter().position(|n| *n == bout.behaviour);
            for frame in bout.frames.clone().filter(|&f| f < frames) {
                row[frame] = row[frame].or(id.map(|i| i as u32));
            }
        }
        row
    };
    let mut tracks = Vec::new();
    for key in &keys {
        let who = match &key.1 {
            Some(target) => format!("{} → {target}", key.0),
            None => key.0.clone(),
        };
        tracks.push(EthogramTrack {
            name: format!("{who}: truth"),
            labels: row(&recording.roles, key),
        });
        tracks.push(EthogramTrack {
            name: format!("{who}: predicted"),
            labels: row(predicted, key),
        });
    }
    if tracks.is_empty() {
        tracks.push(EthogramTrack {
            name: "no behaviour".into(),
            labels: vec![None; frames.max(1)],
        });
    }
    Ethogram::new(
        behaviours.to_vec(),
        recording.pose.fps.unwrap_or(30.0),
        tracks,
    )
}
