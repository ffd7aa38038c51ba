//! Who did what to whom: behaviour labels that name the animal doing it (the agent) and, for a
//! social behaviour, the animal it is directed at (the target). Two CSV layouts, both read and
//! written:
//!
//! - frames, one row per labelled frame and role: `frame,agent,target,behaviour` (target empty
//!   for a solo behaviour such as grooming or rearing);
//! - bouts, MABe 2025's annotation layout: `agent,target,behaviour,start_frame,stop_frame`, the
//!   stop frame excluded as that challenge scores it.
//!
//! A behaviour is solo or directed, never both; agents and targets must be animals of the
//! recording and differ; the bouts of one agent, target and behaviour may not overlap. Frame-level
//! labels without roles (`labels.rs`) keep working beside these.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;

use crate::error::{PoseError, Result};
use crate::label_files::frame_number;
use crate::pose::MAX_FRAMES;

/// One run of one behaviour by one agent, alone or towards a target.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RoleBout {
    /// The animal doing it.
    pub agent: String,
    /// The animal it is directed at; `None` for a solo behaviour.
    pub target: Option<String>,
    /// The behaviour's name.
    pub behaviour: String,
    /// First frame and the frame after the last (`start_frame..stop_frame`).
    pub frames: Range<usize>,
}

impl RoleBout {
    /// Order of bouts: by agent, target, behaviour, then start and stop.
    fn order(&self) -> (&str, Option<&str>, &str, usize, usize) {
        (
            &self.agent,
            self.target.as_deref(),
            &self.behaviour,
            self.frames.start,
            self.frames.end,
        )
    }
}

/// Whether a behaviour is done alone or towards another animal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Done alone (grooming, rearing): no target.
    Solo,
    /// Directed at another animal (attack, sniffing): a target.
    Directed,
}

/// The role-labelled bouts of one recording, checked against its animals.
#[derive(Clone, Debug, PartialEq)]
pub struct RoleLabels {
    /// The recording's animals, as the pose names its individuals.
    pub animals: Vec<String>,
    /// Each behaviour with its role, by name.
    pub behaviours: Vec<(String, Role)>,
    /// Bouts sorted by agent, target, behaviour and start.
    pub bouts: Vec<RoleBout>,
}

impl RoleLabels {
    /// Checks `bouts` (each with the place it came from, for messages: a line of a file, a
    /// bout of a caller's list) against `animals`.
    fn checked(animals: &[String], bouts: Vec<(String, RoleBout)>, source: &str) -> Result<Self> {
        let places: Vec<&str> = bouts.iter().map(|(place, _)| place.as_str()).collect();
        let fail = |i: usize, what: &str, expected: String, found: String| {
            PoseError::invalid(format!("{source}, {} ({what})", places[i]), expected, found)
        };
        let known = |name: &str| animals.iter().any(|a| a == name);
        let mut behaviours: Vec<(String, Role, usize)> = Vec::new();
        for (i, (_, bout)) in bouts.iter().enumerate() {
            if !known(&bout.agent) {
                return Err(fail(
                    i,
                    "agent",
                    format!("one of the recording's animals ({})", animals.join(", ")),
                    format!("`{}`", bout.agent),
                ));
            }
            if let Some(target) = &bout.target {
                if !known(target) {
                    return Err(fail(
                        i,
                        "target",
                        format!("one of the recording's animals ({})", animals.join(", ")),
                        format!("`{target}`"),
                    ));
                }
                if *target == bout.agent {
                    return Err(fail(
                        i,
                        "target",
                        "another animal than the agent (leave the target empty for a solo behaviour)"
                            .into(),
                        format!("`{target}`, the agent itself"),
                    ));
                }
            }
            if bout.frames.start >= bout.frames.end || bout.frames.end > MAX_FRAMES {
                return Err(fail(
                    i,
                    "frames",
                    format!("a start before the stop, at most {MAX_FRAMES}"),
                    format!("{}..{}", bout.frames.start, bout.frames.end),
                ));
            }
            let role = if bout.target.is_some() {
                Role::Directed
            } else {
                Role::Solo
            };
            match behaviours
                .iter()
                .find(|(name, _, _)| *name == bout.behaviour)
            {
                Some((_, known_role, first)) if *known_role != role => {
                    let (expected, found) = match known_role {
                        Role::Directed => ("a target", "none".to_string()),
                        Role::Solo => ("no target", "a target".to_string()),
                    };
                    return Err(fail(
                        i,
                        "target",
                        format!(
                            "{expected} (`{}` is {} at {})",
                            bout.behaviour,
                            match known_role {
                                Role::Directed => "directed at another animal",
                                Role::Solo => "done alone",
                            },
                            places[*first]
                        ),
                        found,
                    ));
                }
                Some(_) => {}
                None => behaviours.push((bout.behaviour.clone(), role, i)),
            }
        }
        let mut order: Vec<usize> = (0..bouts.len()).collect();
        order.sort_by(|&a, &b| bouts[a].1.order().cmp(&bouts[b].1.order()));
        for pair in order.windows(2) {
            let (earlier, later) = (&bouts[pair[0]].1, &bouts[pair[1]].1);
            let same = earlier.agent == later.agent
                && earlier.target == later.target
                && earlier.behaviour == later.behaviour;
            if same && later.frames.start < earlier.frames.end {
                return Err(fail(
                    pair[1],
                    "frames",
                    format!(
                        "no overlap with the bout {}..{} of the same agent, target and behaviour \
                         at {}",
                        earlier.frames.start, earlier.frames.end, places[pair[0]]
                    ),
                    format!("{}..{}", later.frames.start, later.frames.end),
                ));
            }
        }
        let mut bouts: Vec<RoleBout> = bouts.into_iter().map(|(_, bout)| bout).collect();
        bouts.sort_by(|a, b| a.order().cmp(&b.order()));
        let mut behaviours: Vec<(String, Role)> = behaviours
            .into_iter()
            .map(|(name, role, _)| (name, role))
            .collect();
        behaviours.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(Self {
            animals: animals.to_vec(),
            behaviours,
            bouts,
        })
    }

    /// Labels from bouts, checked against `animals`; `source` names them in messages.
    pub fn from_bouts(animals: &[String], bouts: Vec<RoleBout>, source: &str) -> Result<Self> {
        let placed = bouts
            .into_iter()
            .enumerate()
            .map(|(i, bout)| (format!("bout {i}"), bout))
            .collect();
        Self::checked(animals, placed, source)
    }

    /// One row per labelled frame and role, as the frames layout lists them: `(frame, agent,
    /// target, behaviour)`, by frame.
    pub fn frame_rows(&self) -> Vec<(usize, &str, Option<&str>, &str)> {
        let mut rows: Vec<_> = self
            .bouts
            .iter()
            .flat_map(|b| {
                b.frames.clone().map(move |f| {
                    (
                        f,
                        b.agent.as_str(),
                        b.target.as_deref(),
                        b.behaviour.as_str(),
                    )
                })
            })
            .collect();
        rows.sort();
        rows
    }
}

/// Reads role labels in either layout (told apart by the header) for a recording of `animals`.
pub fn read_role_labels(path: &Path, animals: &[String]) -> Result<RoleLabels> {
    let (mut reader, header) = crate::input_file::open_csv(path, "a role labels CSV", false)?;
    let header: Vec<String> = header
        .iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    let column = |name: &str| header.iter().position(|h| h == name);
    let layout = match (
        column("agent"),
        column("target"),
        column("behaviour").or_else(|| column("action")),
    ) {
        (Some(agent), Some(target), Some(behaviour)) => {
            match (column("frame"), column("start_frame"), column("stop_frame")) {
                (Some(frame), None, None) => Layout::Frames {
                    agent,
                    target,
                    behaviour,
                    frame,
                },
                (None, Some(start), Some(stop)) => Layout::Bouts {
                    agent,
                    target,
                    behaviour,
                    start,
                    stop,
                },
                _ => return Err(bad_header(path, &header)),
            }
        }
        _ => return Err(bad_header(path, &header)),
    };
    let source = path.display().to_string();
    let mut bouts: Vec<(String, RoleBout)> = Vec::new();
    // The frames layout's rows of each (agent, target, behaviour), with their lines.
    let mut frame_rows: BTreeMap<RoleKey, Vec<(usize, usize)>> = BTreeMap::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let record = record.map_err(|e| {
            PoseError::format(path, format!("line {line}"), "a CSV row", e.to_string())
        })?;
        let cell = |c: usize| record.get(c).map(str::trim).unwrap_or("");
        let number =
            |c: usize, what: &str| frame_number(path, format!("line {line} ({what})"), cell(c));
        let (agent, target, behaviour) = layout.roles();
        let agent = cell(agent).to_string();
        let target = Some(cell(target).to_string()).filter(|t| !t.is_empty());
        let behaviour = cell(behaviour).to_string();
        for (what, expected, value) in [
            ("agent", "an agent", &agent),
            ("behaviour", "a behaviour", &behaviour),
        ] {
            if value.is_empty() {
                return Err(PoseError::format(
                    path,
                    format!("line {line} ({what})"),
                    expected,
                    "an empty cell",
                ));
            }
        }
        match layout {
            Layout::Bouts { start, stop, .. } => {
                let frames = number(start, "start_frame")?..number(stop, "stop_frame")?;
                let bout = RoleBout {
                    agent,
                    target,
                    behaviour,
                    frames,
                };
                bouts.push((format!("line {line}"), bout));
            }
            Layout::Frames { frame, .. } => {
                let frame = number(frame, "frame")?;
                frame_rows
                    .entry((agent, target, behaviour))
                    .or_default()
                    .push((frame, line));
            }
        }
    }
    // Frame rows become bouts: runs of consecutive frames, in any row order.
    for ((agent, target, behaviour), mut rows) in frame_rows {
        rows.sort_unstable();
        if let Some(pair) = rows.windows(2).find(|p| p[0].0 == p[1].0) {
            let (first, repeat) = (pair[0].1.min(pair[1].1), pair[0].1.max(pair[1].1));
            return Err(PoseError::format(
                path,
                format!("line {repeat}"),
                "each frame, agent, target and behaviour once",
                format!("a repeat of line {first}"),
            ));
        }
        for run in rows.chunk_by(|a, b| b.0 == a.0 + 1) {
            let bout = RoleBout {
                agent: agent.clone(),
                target: target.clone(),
                behaviour: behaviour.clone(),
                frames: run[0].0..run[run.len() - 1].0 + 1,
            };
            bouts.push((format!("line {}", run[0].1), bout));
        }
    }
    RoleLabels::checked(animals, bouts, &source)
}

/// Agent, target and behaviour: what a bout is of.
type RoleKey = (String, Option<String>, String);

fn bad_header(path: &Path, header: &[String]) -> PoseError {
    PoseError::format(
        path,
        "line 1",
        "a header `frame,agent,target,behaviour` or `agent,target,behaviour,start_frame,stop_frame`",
        format!("`{}`", header.join(",")),
    )
}

/// Which columns hold what.
#[derive(Clone, Copy)]
enum Layout {
    Frames {
        agent: usize,
        target: usize,
        behaviour: usize,
        frame: usize,
    },
    Bouts {
        agent: usize,
        target: usize,
        behaviour: usize,
        start: usize,
        stop: usize,
    },
}

impl Layout {
    fn roles(self) -> (usize, usize, usize) {
        match self {
            Layout::Frames {
                agent,
                target,
                behaviour,
                ..
            }
            | Layout::Bouts {
                agent,
                target,
                behaviour,
                ..
            } => (agent, target, behaviour),
        }
    }
}

/// The maximal runs of equal values in a per-frame sequence (`None` = nothing in that frame):
/// `(value, frames)` in frame order. What turns per-frame decisions into bouts.
pub fn runs<T: PartialEq + Copy>(
    per_frame: impl IntoIterator<Item = Option<T>>,
) -> Vec<(T, Range<usize>)> {
    let mut runs: Vec<(T, Range<usize>)> = Vec::new();
    for (frame, value) in per_frame.into_iter().enumerate() {
        let Some(value) = value else { continue };
        match runs.last_mut() {
            Some((last, frames)) if *last == value && frames.end == frame => frames.end += 1,
            _ => runs.push((value, frame..frame + 1)),
        }
    }
    runs
}

/// Writes `labels` as one row per labelled frame and role (`frame,agent,target,behaviour`).
pub fn write_role_frames(path: &Path, labels: &RoleLabels) -> Result<()> {
    write_rows(
        path,
        &["frame", "agent", "target", "behaviour"],
        labels
            .frame_rows()
            .into_iter()
            .map(|(frame, agent, target, behaviour)| {
                [
                    frame.to_string(),
                    agent.into(),
                    target.unwrap_or("").into(),
                    behaviour.into(),
                ]
                .to_vec()
            }),
    )
}

/// Writes `labels` as bouts in MABe 2025's layout (`agent,target,behaviour,start_frame,stop_frame`).
pub fn write_role_bouts(path: &Path, labels: &RoleLabels) -> Result<()> {
    write_rows(
        path,
        &["agent", "target", "behaviour", "start_frame", "stop_frame"],
        labels.bouts.iter().map(|b| {
            [
                b.agent.clone(),
                b.target.clone().unwrap_or_default(),
                b.behaviour.clone(),
                b.frames.start.to_string(),
                b.frames.end.to_string(),
            ]
            .to_vec()
        }),
    )
}

fn write_rows(path: &Path, header: &[&str], rows: impl Iterator<Item = Vec<String>>) -> Result<()> {
    crate::atomic::write_with(path, |out| {
        let mut writer = csv::Writer::from_writer(out);
        let io = |e: csv::Error| PoseError::io(path, e.into());
        writer.write_record(header).map_err(io)?;
        for row in rows {
            writer.write_record(&row).map_err(io)?;
        }
        writer.flush().map_err(|e| PoseError::io(path, e))
    })
}

#[cfg(test)]
mod tests;
