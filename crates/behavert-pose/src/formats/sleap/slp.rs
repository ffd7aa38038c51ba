//! SLEAP labels and predictions (`.slp`, docs/formats/sleap.md): `/metadata` (JSON skeletons and node
//! names, `format_id`), `tracks_json`, and the `frames` → `instances` → `points`/`pred_points`
//! tables. One pose per video; individuals are the tracks, plus `untracked_N` slots for
//! instances without a track (in their order within each frame). User instances win over
//! predicted ones of the same track, as in sleap-io's `Labels.numpy()`. Files with
//! `format_id` < 1.1 stored pixel centres 0.5 higher; that shift is removed.

use std::path::Path;

use ndarray::{Array3, Array4};

use crate::error::{PoseError, Result};
use crate::hdf5::H5;
use crate::pose::Pose;
use crate::pose::{MAX_FRAMES, check_size};

/// One points table: x, y, visible, and (predicted points) score.
type Points = (Vec<f64>, Vec<f64>, Vec<f64>, Option<Vec<f64>>);

/// True when the file has the `.slp` metadata group and instance table.
pub fn sniff(h5: &H5) -> bool {
    h5.has_group("metadata") && h5.has_dataset("instances") && h5.has_dataset("frames")
}

/// Read the one video of a `.slp` file (several videos are an error; see [`read_all`]).
pub fn read(path: &Path) -> Result<Pose> {
    super::super::read_one(path, Some(super::super::Format::Slp))
}

fn node_names(path: &Path, metadata: &serde_json::Value) -> Result<Vec<String>> {
    let all: Vec<String> = metadata["nodes"]
        .as_array()
        .map(|nodes| {
            nodes
                .iter()
                .map(|n| n["name"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default();
    let skeleton = &metadata["skeletons"][0];
    let ids: Option<Vec<usize>> = skeleton["nodes"].as_array().map(|nodes| {
        nodes
            .iter()
            .filter_map(|n| n["id"].as_u64().map(|i| i as usize))
            .collect()
    });
    let names = match ids {
        Some(ids) if !ids.is_empty() && ids.iter().all(|&i| i < all.len()) => {
            ids.iter().map(|&i| all[i].clone()).collect()
        }
        _ => all,
    };
    if names.is_empty() {
        return Err(PoseError::format(
            path,
            "group `metadata` attribute `json`",
            "skeleton nodes",
            "none",
        ));
    }
    Ok(names)
}

/// Read every video of a `.slp` file, one pose each (frames 0…last labelled frame).
pub fn read_all(path: &Path) -> Result<Vec<Pose>> {
    let h5 = H5::open(path)?;
    let json = h5.group_attr_string("metadata", "json").ok_or_else(|| {
        PoseError::format(
            path,
            "group `metadata`",
            "attribute `json`",
            "no such attribute",
        )
    })?;
    let metadata: serde_json::Value = serde_json::from_str(&json).map_err(|e| {
        PoseError::format(
            path,
            "group `metadata` attribute `json`",
            "JSON",
            e.to_string(),
        )
    })?;
    let nodes = node_names(path, &metadata)?;
    let shift = match h5.group_attr_f64("metadata", "format_id") {
        Some(id) if id < 1.1 => 0.5,
        _ => 0.0,
    };
    let tracks: Vec<String> = if h5.has_dataset("tracks_json") {
        h5.read_strings("tracks_json")?
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let v: serde_json::Value = serde_json::from_str(t).map_err(|e| {
                    PoseError::format(
                        path,
                        format!("dataset `tracks_json` row {i}"),
                        "JSON `[spawned_on, name]`",
                        e.to_string(),
                    )
                })?;
                Ok(v[1]
                    .as_str()
                    .map_or_else(|| format!("track_{i}"), str::to_string))
            })
            .collect::<Result<_>>()?
    } else {
        Vec::new()
    };
    let n_videos = if h5.has_dataset("videos_json") {
        h5.read_strings("videos_json")?.len().max(1)
    } else {
        1
    };
    let frames = h5.read_table("frames")?;
    let f_video = frames.column("video")?;
    let f_idx = frames.column("frame_idx")?;
    let f_start = frames.column("instance_id_start")?;
    let f_end = frames.column("instance_id_end")?;
    let inst = h5.read_table("instances")?;
    let i_type = inst.column("instance_type")?;
    let i_track = inst.column("track")?;
    let i_start = inst.column("point_id_start")?;
    let i_end = inst.column("point_id_end")?;
    let read_points = |name: &str| -> Result<Option<Points>> {
        if !h5.has_dataset(name) {
            return Ok(None);
        }
        let t = h5.read_table(name)?;
        let score = if t.fields().contains(&"score") {
            Some(t.column("score")?)
        } else {
            None
        };
        Ok(Some((
            t.column("x")?,
            t.column("y")?,
            t.column("visible")?,
            score,
        )))
    };
    // Before any frame is laid out: an instance of an unlisted track would leave no slot.
    if let Some(i) = i_track.iter().position(|&t| t >= tracks.len() as f64) {
        return Err(PoseError::format(
            path,
            format!("table `instances` row {i}, column `track`"),
            match tracks.len() {
                0 => "no track (dataset `tracks_json` lists none)".to_string(),
                n => format!("one of the {n} tracks `tracks_json` lists (0–{})", n - 1),
            },
            format!("track {}", i_track[i]),
        ));
    }
    let user_points = read_points("points")?;
    let pred_points = read_points("pred_points")?;
    let nk = nodes.len();
    check_frames(path, &f_video, &f_idx, n_videos)?;
    let mut poses = Vec::new();
    for video in 0..n_videos {
        let rows: Vec<usize> = (0..frames.rows)
            .filter(|&r| f_video[r] as usize == video)
            .collect();
        if rows.is_empty() && n_videos > 1 {
            continue;
        }
        let n_frames = rows
            .iter()
            .map(|&r| f_idx[r] as usize + 1)
            .max()
            .unwrap_or(0);
        // Slots: tracks first, then as many untracked slots as the busiest frame needs.
        let mut untracked_slots = 0;
        for &r in &rows {
            let (a, b) = (f_start[r] as usize, f_end[r] as usize);
            let n = (a..b.min(inst.rows)).filter(|&i| i_track[i] < 0.0).count();
            untracked_slots = untracked_slots.max(n);
        }
        let ni = tracks.len() + untracked_slots;
        let mut individuals = tracks.clone();
        individuals.extend((0..untracked_slots).map(|j| format!("untracked_{j}")));
        if ni == 0 {
            continue;
        }
        check_size(path, "table `frames`", n_frames, ni, nk)?;
        let mut positions = Array4::<f32>::from_elem((n_frames, ni, nk, 2), f32::NAN);
        let mut confidence = Array3::<f32>::from_elem((n_frames, ni, nk), f32::NAN);
        let mut from_user = vec![false; n_frames * ni];
        for &r in &rows {
            let frame = f_idx[r] as usize;
            let (a, b) = (f_start[r] as usize, f_end[r] as usize);
            if a > b || b > inst.rows {
                return Err(PoseError::format(
                    path,
                    format!("table `frames` row {r}"),
                    format!("instance ids within 0..{}", inst.rows),
                    format!("{a}..{b}"),
                ));
            }
            let mut untracked = 0;
            for i in a..b {
                let slot = if i_track[i] >= 0.0 {
                    i_track[i] as usize
                } else {
                    untracked += 1;
                    tracks.len() + untracked - 1
                };
                let user = i_type[i] == 0.0;
                if from_user[frame * ni + slot] && !user {
                    continue; // a user instance already fills this slot
                }
                let table = if user { &user_points } else { &pred_points };
                let Some((x, y, visible, score)) = table else {
                    return Err(PoseError::format(
                        path,
                        format!("table `instances` row {i}"),
                        "its points table",
                        if user {
                            "no `points` dataset"
                        } else {
                            "no `pred_points` dataset"
                        },
                    ));
                };
                let (p0, p1) = (i_start[i] as usize, i_end[i] as usize);
                if p0 > p1 || p1 > x.len() || p1 - p0 > nk {
                    return Err(PoseError::format(
                        path,
                        format!("table `instances` row {i}"),
                        format!("at most {nk} points within 0..{}", x.len()),
                        format!("points {p0}..{p1}"),
                    ));
                }
                from_user[frame * ni + slot] = user;
                for (k, p) in (p0..p1).enumerate() {
                    let seen = visible[p] != 0.0;
                    positions[[frame, slot, k, 0]] = if seen {
                        (x[p] - shift) as f32
                    } else {
                        f32::NAN
                    };
                    positions[[frame, slot, k, 1]] = if seen {
                        (y[p] - shift) as f32
                    } else {
                        f32::NAN
                    };
                    // As sleap-io's `Labels.numpy(return_confidence=True)`: the stored score of
                    // every predicted point (visible or not), 1 for user-labelled points.
                    confidence[[frame, slot, k]] = match score {
                        _ if user => 1.0,
                        Some(s) => s[p] as f32,
                        None => f32::NAN,
                    };
                }
            }
        }
        let mut pose =
            Pose::new(positions, individuals, nodes.clone())?.with_confidence(confidence)?;
        pose.source = Some(path.to_path_buf());
        pose.software = Some("SLEAP".to_string());
        poses.push(pose);
    }
    if poses.is_empty() {
        return Err(PoseError::format(
            path,
            "table `frames`",
            "at least one labelled frame",
            "none",
        ));
    }
    Ok(poses)
}

/// Every row of the `frames` table names a video of the file and a frame number (a whole
/// number below [`MAX_FRAMES`]), and no video frame twice: a damaged table must not become a
/// pose of billions of frames, or one whose frames are read twice.
fn check_frames(path: &Path, videos: &[f64], frames: &[f64], n_videos: usize) -> Result<()> {
    let whole_below = |v: f64, end: usize| v >= 0.0 && v.fract() == 0.0 && v < end as f64;
    let mut seen = std::collections::HashSet::new();
    for (r, (&video, &frame)) in videos.iter().zip(frames).enumerate() {
        let place = format!("table `frames` row {r}");
        if !whole_below(video, n_videos) {
            return Err(PoseError::format(
                path,
                place,
                format!("a video index below {n_videos}"),
                video.to_string(),
            ));
        }
        if !whole_below(frame, MAX_FRAMES) {
            return Err(PoseError::format(
                path,
                place,
                format!("a frame index (0, 1, 2, …) below {MAX_FRAMES}"),
                frame.to_string(),
            ));
        }
        if !seen.insert((video as usize, frame as usize)) {
            return Err(PoseError::format(
                path,
                place,
                "each video frame once",
                format!("video {video} frame {frame} again"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_rows_are_checked_before_anything_is_allocated() {
        let path = Path::new("labels.slp");
        let message = |videos: &[f64], frames: &[f64]| {
            check_frames(path, videos, frames, 2)
                .err()
                .map(|e| e.to_string())
        };
        assert_eq!(message(&[0.0, 1.0, 0.0], &[0.0, 0.0, 7.0]), None);
        for (videos, frames, fragment) in [
            (&[0.0][..], &[1e12][..], "row 0"),
            (&[0.0], &[-1.0], "frame index"),
            (&[0.0], &[f64::NAN], "frame index"),
            (&[0.0], &[2.5], "frame index"),
            (&[2.0], &[0.0], "video index below 2"),
            (&[0.0, 1.0, 0.0], &[3.0, 3.0, 3.0], "row 2"),
        ] {
            let text = message(videos, frames).expect("an error");
            assert!(
                text.contains(fragment) && text.contains("labels.slp"),
                "{text}"
            );
        }
    }
}
