//! Training and validation recordings from the `[data]` section: the simulator, a dataset
//! loader or pose files; few-label runs keep one labelled stretch per recording.

use behavert_pose::datasets::{self, DatasetKind, DatasetOptions, Split};
use behavert_pose::formats::read_one;
use behavert_pose::label_files::read_labels;
use behavert_pose::labels::{FrameLabels, Labels, TargetKind, TargetTask, Targets};
use behavert_pose::pair_views::{pair_views, view_labels};
use behavert_pose::preprocess::PoseLayout;
use behavert_pose::role_labels::{Role, read_role_labels};
use behavert_pose::synth::{Recording, SimulationConfig, recording_seed, simulate};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::config::{DataSection, DataSource};
use crate::checkpoint::RoleModel;
use crate::error::{Error, Result};
use crate::train::data::{Source, derive_seed};

/// Recordings to train on and to validate on.
#[derive(Clone, Debug, Default)]
pub struct Sources {
    /// Training recordings.
    pub train: Vec<Source>,
    /// Held-out recordings (may be empty).
    pub validation: Vec<Source>,
    /// With `data.roles`: how the recordings became pair views (each source above is one).
    pub roles: Option<RoleModel>,
}

/// Loads the recordings `data` describes; `seed` picks the labelled stretches.
pub fn load_sources(data: &DataSection, seed: u64) -> Result<Sources> {
    let _span = tracing::info_span!("load_data", source = ?data.source).entered();
    let mut sources = load_source(data)?;
    if sources.train.is_empty() {
        return Err(Error::data(
            "[data]",
            "at least one training recording",
            "none",
        ));
    }
    for extra in &data.extra {
        // Role labels are run-wide: every source keeps them when the run trains on pairs.
        let more = load_source(&DataSection {
            roles: data.roles,
            ..extra.clone()
        })?;
        sources.train.extend(more.train);
        sources.validation.extend(more.validation);
    }
    if data.roles {
        sources = pair_sources(sources, data.slots)?;
    }
    // One model reads one skeleton: every source must track what the first recording does.
    let layout = PoseLayout::of(&sources.train[0].pose);
    for source in sources.train.iter().chain(&sources.validation) {
        layout.check(&source.pose, &source.id)?;
    }
    if data.label_fraction < 1.0 {
        for (i, source) in sources.train.iter_mut().enumerate() {
            let mut rng = ChaCha8Rng::seed_from_u64(derive_seed(seed, &[3, i as u64]));
            keep_labelled_stretches(source, data.label_fraction, data.label_stretches, &mut rng);
        }
    }
    tracing::info!(
        train = sources.train.len(),
        validation = sources.validation.len(),
        "recordings loaded"
    );
    Ok(sources)
}

/// The recordings of one source (`[data]` itself or one `[[data.extra]]`).
fn load_source(data: &DataSection) -> Result<Sources> {
    match data.source {
        DataSource::Simulated => simulated(data),
        DataSource::Dataset => dataset(data),
        DataSource::Files => files(data),
    }
}

fn simulated(data: &DataSection) -> Result<Sources> {
    let one = |index: usize| -> Result<Source> {
        let seed = recording_seed(data.simulation.seed, index as u64);
        let recording = simulate(&SimulationConfig {
            seed,
            ..data.simulation.clone()
        })
        .map_err(|e| Error::config("data.simulation", "valid simulator settings", e))?;
        let targets = kinematic_targets(&recording)?;
        Ok(Source {
            id: format!("simulated-{index}-seed{seed}"),
            pose: recording.pose,
            labels: Some(recording.labels),
            roles: data.roles.then_some(recording.roles),
            targets: Some(targets),
            group: None,
        })
    };
    let total = data.recordings + data.validation_recordings;
    let mut all = (0..total).map(one).collect::<Result<Vec<_>>>()?;
    let validation = all.split_off(data.recordings);
    Ok(Sources {
        train: all,
        validation,
        roles: None,
    })
}

/// Numeric per-frame targets of a simulated recording from its true keypoints, for regression
/// heads: the resident's neck speed and the nose-to-nose distance (NaN alone), both in body
/// lengths (per second for the speed).
fn kinematic_targets(recording: &Recording) -> Result<Targets> {
    let pose = &recording.pose;
    let truth = &recording.true_positions;
    let (frames, individuals, _, _) = truth.dim();
    let keypoint = |name: &str| pose.keypoints.iter().position(|k| k == name);
    let (Some(nose), Some(neck)) = (keypoint("nose"), keypoint("neck")) else {
        return Err(Error::data(
            "simulated recording",
            "nose and neck keypoints",
            format!("{:?}", pose.keypoints),
        ));
    };
    let fps = pose.fps.unwrap_or(30.0) as f32;
    let length = recording
        .body_lengths
        .first()
        .copied()
        .unwrap_or(1.0)
        .max(1e-6);
    let at = |f: usize, i: usize, k: usize| (truth[[f, i, k, 0]], truth[[f, i, k, 1]]);
    let mut values = ndarray::Array2::<f32>::from_elem((frames, 2), f32::NAN);
    for f in 0..frames {
        let (x, y) = at(f, 0, neck);
        let (px, py) = at(f.saturating_sub(1), 0, neck);
        let step = if f == 0 { 0.0 } else { (x - px).hypot(y - py) };
        values[[f, 0]] = step * fps / length;
        if individuals > 1 {
            let ((ax, ay), (bx, by)) = (at(f, 0, nose), at(f, 1, nose));
            values[[f, 1]] = (ax - bx).hypot(ay - by) / length;
        }
    }
    let task = |name: &str| TargetTask {
        name: name.into(),
        kind: TargetKind::Continuous,
    };
    Ok(Targets::new(
        vec![task("resident_speed"), task("nose_distance")],
        values,
    )?)
}

fn dataset(data: &DataSection) -> Result<Sources> {
    let kind = data
        .dataset
        .ok_or_else(|| Error::config("data.dataset", "a dataset name", "none"))?;
    let dir = data.data_dir.clone().unwrap_or_default();
    let options = DatasetOptions {
        task: data.task.clone(),
        group: data.group.clone(),
        limit: data.limit,
        ..Default::default()
    };
    let loaded = datasets::load(kind, &dir, &options)?;
    if let Some(group) = &data.group
        && loaded.sequences.is_empty()
    {
        return Err(unknown_group(kind, &dir, options, group));
    }
    // The official test split is left for `behavert evaluate`: choosing the best checkpoint
    // or stopping early on it would leak test labels into the reported numbers.
    let mut train: Vec<Source> = loaded
        .sequences
        .into_iter()
        .filter(|sequence| sequence.split != Split::Test)
        .map(|sequence| Source {
            id: sequence.id,
            pose: sequence.pose,
            labels: sequence.labels,
            roles: sequence.roles,
            targets: sequence.targets,
            group: sequence.group,
        })
        .collect();
    let validation = hold_out(&mut train, data.validation_fraction);
    Ok(Sources {
        train,
        validation,
        roles: None,
    })
}

/// `data.group` matched no sequence: the error lists the groups there are.
fn unknown_group(
    kind: DatasetKind,
    dir: &std::path::Path,
    options: DatasetOptions,
    group: &str,
) -> Error {
    let mut groups: Vec<String> = Vec::new();
    let listed = datasets::for_each(
        kind,
        dir,
        &DatasetOptions {
            group: None,
            ..options
        },
        &mut |sequence| {
            if let Some(name) = sequence.group
                && !groups.contains(&name)
            {
                groups.push(name);
            }
            Ok(true)
        },
    );
    let expected = match listed {
        Ok(_) if groups.is_empty() => format!("a group of {kind} (this task has none)"),
        Ok(_) => format!("one of the groups of {kind}: {}", groups.join(", ")),
        Err(_) => format!("a group of {kind}"),
    };
    Error::config("data.group", expected, format!("{group:?}"))
}

fn files(data: &DataSection) -> Result<Sources> {
    let mut train = data
        .inputs
        .iter()
        .enumerate()
        .map(|(i, path)| {
            let pose = read_one(path, None)?;
            let (labels, roles) = match data.labels.get(i) {
                Some(labels) if data.roles => {
                    (None, Some(read_role_labels(labels, &pose.individuals)?))
                }
                Some(labels) => (Some(labels_for(labels, pose.frames())?), None),
                None => (None, None),
            };
            Ok(Source {
                id: path.display().to_string(),
                pose,
                labels,
                roles,
                targets: None,
                group: None,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let validation = hold_out(&mut train, data.validation_fraction);
    Ok(Sources {
        train,
        validation,
        roles: None,
    })
}

/// Every recording as its pair views (`data.roles`), each labelled from the recording's role
/// labels over the behaviours of all of them (by name); training and validation stay split by
/// recording.
fn pair_sources(sources: Sources, slots: Option<usize>) -> Result<Sources> {
    let all = || sources.train.iter().chain(&sources.validation);
    let mut behaviours: Vec<(String, Role)> = Vec::new();
    for (source, roles) in all().filter_map(|s| Some((s, s.roles.as_ref()?))) {
        for (name, role) in &roles.behaviours {
            match behaviours.iter().find(|(known, _)| known == name) {
                Some((_, known)) if known != role => {
                    return Err(Error::data(
                        format!("role labels of {}", source.id),
                        format!("`{name}` {known:?} as in the recordings before"),
                        format!("{role:?}"),
                    ));
                }
                Some(_) => {}
                None => behaviours.push((name.clone(), *role)),
            }
        }
    }
    behaviours.sort_by(|a, b| a.0.cmp(&b.0));
    let most = all().map(|s| s.pose.individuals.len()).max().unwrap_or(0);
    let slots = slots.unwrap_or(most).max(2);
    let views = |recordings: Vec<Source>| -> Result<Vec<Source>> {
        let mut out = Vec::new();
        for source in recordings {
            let views = pair_views(&source.pose, slots).map_err(|e| {
                Error::data(
                    &source.id,
                    format!("at most data.slots = {slots} animals"),
                    e,
                )
            })?;
            let names = &source.pose.individuals;
            for view in views {
                let target = view.target.map_or("none", |t| names[t].as_str());
                out.push(Source {
                    id: format!("{} ({} → {target})", source.id, names[view.agent]),
                    labels: source
                        .roles
                        .as_ref()
                        .map(|roles| view_labels(roles, &behaviours, &view)),
                    pose: view.pose,
                    roles: None,
                    targets: None,
                    group: source.group.clone(),
                });
            }
        }
        Ok(out)
    };
    Ok(Sources {
        train: views(sources.train)?,
        validation: views(sources.validation)?,
        roles: Some(RoleModel { slots, behaviours }),
    })
}

/// The labels CSV `path` for a pose of `frames` frames: shorter files leave the last frames
/// unlabelled, longer ones are an error.
pub fn labels_for(path: &std::path::Path, frames: usize) -> Result<Labels> {
    let mut labels = read_labels(path)?;
    if labels.len() > frames {
        return Err(Error::data(
            path.display().to_string(),
            format!("labels for at most the pose's {frames} frames"),
            format!("{} frames", labels.len()),
        ));
    }
    if let FrameLabels::Single(ids) = &mut labels.frames {
        ids.resize(frames, None);
    }
    if let FrameLabels::Multi(rows) = &mut labels.frames {
        let width = labels.vocabulary.len();
        rows.resize(frames, vec![None; width]);
    }
    Ok(labels)
}

/// The last `fraction` of `train` (at least one when there are two or more, never all).
fn hold_out(train: &mut Vec<Source>, fraction: f64) -> Vec<Source> {
    if train.len() < 2 || fraction <= 0.0 {
        return Vec::new();
    }
    let n = ((train.len() as f64 * fraction).round() as usize).clamp(1, train.len() - 1);
    train.split_off(train.len() - n)
}

/// Forgets every label outside `stretches` stretches that together cover `fraction` of the
/// frames, one at a seeded position inside each of `stretches` equal parts of the recording.
fn keep_labelled_stretches(
    source: &mut Source,
    fraction: f64,
    stretches: usize,
    rng: &mut impl Rng,
) {
    let frames = source.pose.frames();
    let stretches = stretches.clamp(1, frames.max(1));
    let keep = ((frames as f64 * fraction).round() as usize).clamp(1, frames.max(1));
    let part = frames / stretches;
    let each = keep.div_ceil(stretches).min(part.max(1));
    let kept: Vec<std::ops::Range<usize>> = (0..stretches)
        .map(|i| {
            let start = i * part + rng.random_range(0..=part.saturating_sub(each));
            start..(start + each).min(frames)
        })
        .collect();
    let inside = |f: usize| kept.iter().any(|r| r.contains(&f));
    if let Some(labels) = &mut source.labels {
        let frames = match &labels.frames {
            FrameLabels::Single(ids) => FrameLabels::Single(
                ids.iter()
                    .enumerate()
                    .map(|(f, id)| id.filter(|_| inside(f)))
                    .collect(),
            ),
            FrameLabels::Multi(rows) => FrameLabels::Multi(
                rows.iter()
                    .enumerate()
                    .map(|(f, row)| {
                        if inside(f) {
                            row.clone()
                        } else {
                            vec![None; row.len()]
                        }
                    })
                    .collect(),
            ),
        };
        *labels = Labels {
            vocabulary: labels.vocabulary.clone(),
            frames,
        };
    }
    if let Some(targets) = &mut source.targets {
        for (f, mut row) in targets.values.rows_mut().into_iter().enumerate() {
            if !inside(f) {
                row.fill(f32::NAN);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use behavert_pose::formats::dlc;

    fn simulated_section(recordings: usize, individuals: usize) -> DataSection {
        DataSection {
            recordings,
            validation_recordings: 1,
            simulation: SimulationConfig {
                frames: 120,
                individuals,
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[test]
    fn extra_sources_are_mixed_into_training_and_validation() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("my_mice.csv");
        let recording = simulate(&SimulationConfig {
            seed: 41,
            frames: 90,
            ..Default::default()
        })
        .unwrap();
        dlc::csv::write(&recording.pose, &file).unwrap();
        let data = DataSection {
            extra: vec![DataSection {
                source: DataSource::Files,
                inputs: vec![file.clone()],
                ..Default::default()
            }],
            ..simulated_section(2, 2)
        };
        let sources = load_sources(&data, 0).unwrap();
        let ids: Vec<&str> = sources.train.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids.len(), 3, "{ids:?}");
        assert_eq!(ids[2], file.display().to_string());
        assert!(sources.train[2].labels.is_none());
        assert_eq!(sources.train[2].pose.frames(), 90);
        assert_eq!(sources.validation.len(), 1);
    }

    #[test]
    fn few_label_runs_keep_the_fraction_in_one_stretch_per_part_of_the_recording() {
        let labelled_runs = |stretches: usize, seed: u64| {
            let mut source = simulated(&simulated_section(1, 2)).unwrap().train.remove(0);
            let frames = source.pose.frames();
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            keep_labelled_stretches(&mut source, 0.1, stretches, &mut rng);
            let Some(FrameLabels::Single(ids)) = source.labels.map(|l| l.frames) else {
                panic!("simulated labels are single-label");
            };
            let mut runs: Vec<(usize, usize)> = Vec::new();
            for (f, id) in ids.iter().enumerate() {
                match (id, runs.last_mut()) {
                    (Some(_), Some((_, end))) if *end == f => *end = f + 1,
                    (Some(_), _) => runs.push((f, f + 1)),
                    (None, _) => {}
                }
            }
            (frames, runs)
        };
        let (frames, one) = labelled_runs(1, 3);
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].1 - one[0].0, frames / 10);
        for seed in 0..5 {
            let (_, three) = labelled_runs(3, seed);
            assert_eq!(three.len(), 3, "{three:?}");
            for (i, &(start, end)) in three.iter().enumerate() {
                assert_eq!(end - start, frames / 30);
                assert!(
                    start >= i * frames / 3 && end <= (i + 1) * frames / 3,
                    "{three:?}"
                );
            }
        }
    }

    #[test]
    fn an_extra_source_with_another_skeleton_is_refused_naming_the_recording() {
        let data = DataSection {
            extra: vec![simulated_section(1, 1)],
            ..simulated_section(2, 2)
        };
        let err = load_sources(&data, 0).unwrap_err().to_string();
        assert!(
            err.contains("simulated-0-seed")
                && err.contains("2 individuals")
                && err.contains("1 individuals"),
            "{err}"
        );
    }
}
