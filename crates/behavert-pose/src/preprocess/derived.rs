//! Feature columns: aligned coordinates, then the derived features the config declares
//! (velocities, inter-animal distances, speeds, body lengths, angles, observation flags,
//! confidence, and rolling context of the alignment-free ones), with their names.
//!
//! Features are built in blocks of one kind over every individual (or pair), so that with
//! `derived.anonymous` each block can be sorted per frame and no column belongs to a tracked
//! identity.

use ndarray::Array2;

use super::Shape;
use super::align::Frames;
use super::config::Resolved;
use super::context;
use super::layout::{PoseLayout, axis_name};
use crate::error::Result;

/// What a feature column is: decides its place, whether it is ranked when anonymous, whether
/// it gets context, and what pretraining reconstructs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeatureKind {
    /// An aligned coordinate.
    Coordinate,
    /// A velocity in the aligned axes.
    Velocity,
    /// A measure that does not depend on alignment: distance, speed, length, angle.
    Measure,
    /// An observation flag or a tracker confidence.
    Flag,
    /// A rolling mean or standard deviation of a measure.
    Context,
}

impl FeatureKind {
    /// Tied to tracked identities and the alignment, so never ranked.
    fn aligned(self) -> bool {
        matches!(self, Self::Coordinate | Self::Velocity)
    }
}

use FeatureKind as Kind;

/// Columns of one kind of feature over every individual or pair.
struct Block {
    kind: Kind,
    /// One name per column, naming individuals.
    names: Vec<String>,
    /// The feature's name without individuals, for anonymous columns (`tail.speed`).
    anonymous: String,
}

/// Every block for `layout` under `resolved`, in column order (without context).
fn blocks(layout: &PoseLayout, resolved: &Resolved) -> Vec<Block> {
    let individuals = &layout.individuals;
    let keypoints = &layout.keypoints;
    let per_individual = |kind, what: &dyn Fn(&str) -> String, anonymous: String| Block {
        kind,
        names: individuals.iter().map(|i| what(i)).collect(),
        anonymous,
    };
    let mut out = Vec::new();
    if resolved.coordinates {
        out.push(Block {
            kind: Kind::Coordinate,
            names: layout.coordinate_names(),
            anonymous: String::new(),
        });
    }
    if resolved.velocities {
        let mut names = Vec::new();
        for individual in individuals {
            for keypoint in keypoints {
                for d in 0..layout.space.dims() {
                    names.push(format!("{individual}.{keypoint}.v{}", axis_name(d)));
                }
            }
        }
        out.push(Block {
            kind: Kind::Velocity,
            names,
            anonymous: String::new(),
        });
    }
    for group in distance_blocks(&resolved.distances) {
        let (a, b) = (group[0].1, group[0].3);
        out.push(Block {
            kind: Kind::Measure,
            names: group
                .iter()
                .map(|&(i, _, j, _)| {
                    format!(
                        "distance({}.{},{}.{})",
                        individuals[i], keypoints[a], individuals[j], keypoints[b]
                    )
                })
                .collect(),
            anonymous: format!("distance({},{})", keypoints[a], keypoints[b]),
        });
    }
    for &k in &resolved.speeds {
        let keypoint = &keypoints[k];
        out.push(per_individual(
            Kind::Measure,
            &|i| format!("{i}.{keypoint}.speed"),
            format!("{keypoint}.speed"),
        ));
    }
    for &(a, b) in &resolved.lengths {
        let (a, b) = (&keypoints[a], &keypoints[b]);
        out.push(per_individual(
            Kind::Measure,
            &|i| format!("{i}.length({a},{b})"),
            format!("length({a},{b})"),
        ));
    }
    if resolved.angles.is_some() {
        let mut bearings = Vec::new();
        let mut headings = Vec::new();
        for (i, a) in individuals.iter().enumerate() {
            for (j, b) in individuals.iter().enumerate() {
                if i != j {
                    bearings.push(format!("bearing({a},{b})"));
                }
                if i < j {
                    headings.push(format!("relative_heading({a},{b})"));
                }
            }
        }
        out.push(Block {
            kind: Kind::Measure,
            names: bearings,
            anonymous: "bearing".into(),
        });
        out.push(Block {
            kind: Kind::Measure,
            names: headings,
            anonymous: "relative_heading".into(),
        });
    }
    for (wanted, suffix) in [
        (resolved.observed, "observed"),
        (resolved.confidence, "confidence"),
    ] {
        if wanted {
            for keypoint in keypoints {
                out.push(per_individual(
                    Kind::Flag,
                    &|i| format!("{i}.{keypoint}.{suffix}"),
                    format!("{keypoint}.{suffix}"),
                ));
            }
        }
    }
    // Empty blocks (distances or angles of a single animal) have nothing to say.
    out.retain(|block| !block.names.is_empty());
    out
}

/// The distances `(i, a, j, b)` cut into blocks of one keypoint pair `(a, b)`, in order: one
/// block per kind of distance, for names and values alike.
fn distance_blocks(
    distances: &[(usize, usize, usize, usize)],
) -> impl Iterator<Item = &[(usize, usize, usize, usize)]> {
    distances.chunk_by(|x, y| (x.1, x.3) == (y.1, y.3))
}

/// The names of `block`'s columns: per individual, or by rank when anonymous.
fn block_names(block: &Block, anonymous: bool) -> Vec<String> {
    if anonymous && !block.kind.aligned() {
        (1..=block.names.len())
            .map(|rank| format!("{}.rank{rank}", block.anonymous))
            .collect()
    } else {
        block.names.clone()
    }
}

/// Names and kinds of every feature column for `layout` under `resolved`, in column order:
/// coordinates, velocities, distances, speeds, lengths, angles, observation flags, confidence,
/// context.
pub(crate) fn feature_columns(
    layout: &PoseLayout,
    resolved: &Resolved,
) -> (Vec<String>, Vec<FeatureKind>) {
    let (mut names, mut kinds) = (Vec::new(), Vec::new());
    let mut measures = Vec::new();
    for block in blocks(layout, resolved) {
        let these = block_names(&block, resolved.anonymous);
        if block.kind == Kind::Measure {
            measures.extend(these.iter().cloned());
        }
        kinds.extend(std::iter::repeat_n(block.kind, these.len()));
        names.extend(these);
    }
    let context = context::names(&measures, &resolved.context_seconds);
    kinds.extend(std::iter::repeat_n(Kind::Context, context.len()));
    names.extend(context);
    (names, kinds)
}

/// `[frames, features]` from cleaned positions (and confidence, `[frames, individuals,
/// keypoints]`) and per-frame transforms; NaN where missing. `fps` turns context spans into
/// frames.
pub(crate) fn feature_rows(
    positions: &[f32],
    confidence: Option<&[f32]>,
    shape: Shape,
    frames: &Frames,
    resolved: &Resolved,
    fps: Option<f64>,
) -> Result<Array2<f32>> {
    let columns = Columns {
        positions,
        shape,
        frames,
    };
    let mut blocks: Vec<(Kind, Vec<Vec<f32>>)> = Vec::new();
    if resolved.coordinates {
        blocks.push((Kind::Coordinate, columns.coordinates()));
    }
    if resolved.velocities {
        blocks.push((Kind::Velocity, columns.velocities()));
    }
    for group in distance_blocks(&resolved.distances) {
        let block = group
            .iter()
            .map(|&(i, a, j, b)| columns.distance((i, a), (j, b)))
            .collect();
        blocks.push((Kind::Measure, block));
    }
    let individuals = 0..shape.individuals;
    for &k in &resolved.speeds {
        blocks.push((
            Kind::Measure,
            individuals.clone().map(|i| columns.speed(i, k)).collect(),
        ));
    }
    for &(a, b) in &resolved.lengths {
        let lengths = individuals
            .clone()
            .map(|i| columns.length(i, a, b))
            .collect();
        blocks.push((Kind::Measure, lengths));
    }
    if let Some(axis) = resolved.angles {
        let (mut bearings, mut headings) = (Vec::new(), Vec::new());
        for i in individuals.clone() {
            for j in individuals.clone() {
                if i != j {
                    bearings.push(columns.bearing(i, j, axis));
                }
                if i < j {
                    headings.push(columns.relative_heading(i, j, axis));
                }
            }
        }
        blocks.push((Kind::Measure, bearings));
        blocks.push((Kind::Measure, headings));
    }
    if resolved.observed {
        for k in 0..shape.keypoints {
            let flags = individuals
                .clone()
                .map(|i| columns.observed(i, k))
                .collect();
            blocks.push((Kind::Flag, flags));
        }
    }
    if resolved.confidence {
        for k in 0..shape.keypoints {
            let scores = individuals
                .clone()
                .map(|i| match confidence {
                    Some(c) => (0..shape.frames)
                        .map(|f| c[(f * shape.individuals + i) * shape.keypoints + k])
                        .collect(),
                    None => vec![f32::NAN; shape.frames],
                })
                .collect();
            blocks.push((Kind::Flag, scores));
        }
    }
    blocks.retain(|(_, block)| !block.is_empty());
    if resolved.anonymous {
        for (kind, block) in &mut blocks {
            if !kind.aligned() {
                sort_per_frame(block);
            }
        }
    }
    let free: Vec<&[f32]> = blocks
        .iter()
        .filter(|(kind, _)| *kind == Kind::Measure)
        .flat_map(|(_, block)| block.iter().map(Vec::as_slice))
        .collect();
    let context = context::rolling(&free, &resolved.context_seconds, fps)?;
    let all: Vec<Vec<f32>> = blocks
        .into_iter()
        .flat_map(|(_, block)| block)
        .chain(context)
        .collect();
    Ok(Array2::from_shape_fn(
        (shape.frames, all.len()),
        |(f, c)| all[c][f],
    ))
}

/// Sorts the values of each frame across the columns of `block`, largest first and missing
/// values last, so a column is a rank rather than an individual.
fn sort_per_frame(block: &mut [Vec<f32>]) {
    let frames = block.first().map_or(0, Vec::len);
    let mut values = Vec::with_capacity(block.len());
    for f in 0..frames {
        values.clear();
        values.extend(block.iter().map(|column| column[f]));
        values.sort_by(|a, b| match (a.is_nan(), b.is_nan()) {
            (false, false) => b.total_cmp(a),
            (a_missing, b_missing) => a_missing.cmp(&b_missing),
        });
        for (column, &v) in block.iter_mut().zip(&values) {
            column[f] = v;
        }
    }
}

/// Computes one column (a value per frame) from cleaned positions.
struct Columns<'a> {
    positions: &'a [f32],
    shape: Shape,
    frames: &'a Frames,
}

impl Columns<'_> {
    /// Keypoint `k` of individual `i` in frame `f`.
    fn at(&self, f: usize, i: usize, k: usize) -> &[f32] {
        let o = self.shape.index(f, i, k);
        &self.positions[o..o + self.shape.dims]
    }

    fn coordinate_count(&self) -> usize {
        self.shape.individuals * self.shape.keypoints * self.shape.dims
    }

    /// Aligned coordinates, one column per individual, keypoint and axis.
    fn coordinates(&self) -> Vec<Vec<f32>> {
        let (dims, width) = (self.shape.dims, self.coordinate_count());
        let mut block = vec![vec![0.0f32; self.shape.frames]; width];
        let mut out = [0.0f32; 3];
        for f in 0..self.shape.frames {
            let transform = self.frames.at(f);
            let here = &self.positions[f * width..(f + 1) * width];
            for (c, p) in here.chunks_exact(dims).enumerate() {
                transform.point(p, &mut out[..dims]);
                for (column, value) in block[c * dims..(c + 1) * dims].iter_mut().zip(&out) {
                    column[f] = *value;
                }
            }
        }
        block
    }

    /// Velocities in the aligned axes: backward differences, the first frame borrowing the
    /// second's.
    fn velocities(&self) -> Vec<Vec<f32>> {
        let (dims, width, frames) = (self.shape.dims, self.coordinate_count(), self.shape.frames);
        let mut block = vec![vec![f32::NAN; frames]; width];
        let (mut step, mut out) = ([0.0f32; 3], [0.0f32; 3]);
        for f in 0..frames {
            let (a, b) = match f {
                0 if frames > 1 => (0, 1),
                0 => continue,
                _ => (f - 1, f),
            };
            let transform = self.frames.at(f);
            let before = &self.positions[a * width..(a + 1) * width];
            let after = &self.positions[b * width..(b + 1) * width];
            for (c, (p, q)) in before
                .chunks_exact(dims)
                .zip(after.chunks_exact(dims))
                .enumerate()
            {
                for d in 0..dims {
                    step[d] = q[d] - p[d];
                }
                transform.vector(&step[..dims], &mut out[..dims]);
                for (column, value) in block[c * dims..(c + 1) * dims].iter_mut().zip(&out) {
                    column[f] = *value;
                }
            }
        }
        block
    }

    /// Distance from `(individual, keypoint)` `p` to `q`, in the aligned scale.
    fn distance(&self, p: (usize, usize), q: (usize, usize)) -> Vec<f32> {
        let dims = self.shape.dims;
        (0..self.shape.frames)
            .map(|f| {
                let diff = displacement(self.at(f, p.0, p.1), self.at(f, q.0, q.1));
                self.frames.at(f).length(&diff[..dims])
            })
            .collect()
    }

    /// Distance keypoint `k` of individual `i` moved since the previous frame; the first frame
    /// borrows the second's, as velocities do.
    fn speed(&self, i: usize, k: usize) -> Vec<f32> {
        (0..self.shape.frames)
            .map(|f| match f {
                0 if self.shape.frames > 1 => distance(self.at(1, i, k), self.at(0, i, k)),
                0 => f32::NAN,
                _ => distance(self.at(f, i, k), self.at(f - 1, i, k)),
            })
            .collect()
    }

    /// Distance between keypoints `a` and `b` of individual `i`.
    fn length(&self, i: usize, a: usize, b: usize) -> Vec<f32> {
        (0..self.shape.frames)
            .map(|f| distance(self.at(f, i, a), self.at(f, i, b)))
            .collect()
    }

    /// Floor-plane direction of individual `i`'s body axis `(tail, head)` in frame `f`.
    fn heading(&self, f: usize, i: usize, (tail, head): (usize, usize)) -> [f32; 2] {
        difference(self.at(f, i, head), self.at(f, i, tail))
    }

    /// Angle between `i`'s heading and the direction from its head end to the middle of
    /// `j`'s body axis.
    fn bearing(&self, i: usize, j: usize, axis: (usize, usize)) -> Vec<f32> {
        (0..self.shape.frames)
            .map(|f| {
                let (tail, head) = (self.at(f, j, axis.0), self.at(f, j, axis.1));
                let middle = [(tail[0] + head[0]) / 2.0, (tail[1] + head[1]) / 2.0];
                let towards = difference(&middle, self.at(f, i, axis.1));
                angle_between(self.heading(f, i, axis), towards)
            })
            .collect()
    }

    /// Angle between the headings of `i` and `j`.
    fn relative_heading(&self, i: usize, j: usize, axis: (usize, usize)) -> Vec<f32> {
        (0..self.shape.frames)
            .map(|f| angle_between(self.heading(f, i, axis), self.heading(f, j, axis)))
            .collect()
    }

    /// 1 where keypoint `k` of individual `i` is present, 0 where missing.
    fn observed(&self, i: usize, k: usize) -> Vec<f32> {
        (0..self.shape.frames)
            .map(|f| f32::from(u8::from(!self.at(f, i, k)[0].is_nan())))
            .collect()
    }
}

/// Euclidean length of `v`.
fn norm(v: &[f32]) -> f32 {
    v.iter().map(|x| x * x).sum::<f32>().sqrt()
}

/// `p − q` for points of up to three coordinates (the unused ones 0).
fn displacement(p: &[f32], q: &[f32]) -> [f32; 3] {
    let mut diff = [0.0f32; 3];
    for (d, (a, b)) in p.iter().zip(q).enumerate() {
        diff[d] = a - b;
    }
    diff
}

/// Distance between two points (NaN if either is missing).
fn distance(p: &[f32], q: &[f32]) -> f32 {
    norm(&displacement(p, q)[..p.len()])
}

/// `p − q` in the floor plane.
fn difference(p: &[f32], q: &[f32]) -> [f32; 2] {
    [p[0] - q[0], p[1] - q[1]]
}

/// Unsigned angle between two floor-plane directions, in [0, π]; NaN if either is missing or
/// has no length.
fn angle_between(u: [f32; 2], v: [f32; 2]) -> f32 {
    let cross = u[0] * v[1] - u[1] * v[0];
    let dot = u[0] * v[0] + u[1] * v[1];
    if cross == 0.0 && dot == 0.0 {
        return f32::NAN;
    }
    cross.atan2(dot).abs()
}
