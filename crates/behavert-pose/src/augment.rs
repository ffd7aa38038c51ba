//! Pose-aware augmentation of training windows, on tracked coordinates before
//! standardisation: rotation, reflection with left/right keypoints swapped, scaling,
//! translation, Gaussian jitter, time-warp and permutation of interchangeable individuals.
//!
//! An [`Augmenter`] (the config checked against a pose layout) samples an [`Augmentation`] —
//! plain numbers, so a draw can be logged, replayed or tested — which is then applied to a pose
//! and its labels. The same seed gives the same output.
//!
//! ```
//! use behavert_pose::augment::{AugmentConfig, Augmenter};
//! use behavert_pose::preprocess::PoseLayout;
//! use behavert_pose::synth::{SimulationConfig, simulate};
//! let recording = simulate(&SimulationConfig { frames: 120, ..Default::default() }).unwrap();
//! let config: AugmentConfig = toml::from_str(r#"
//!     rotation = 180.0
//!     reflection = 0.5
//!     mirror_pairs = [["left_ear", "right_ear"], ["left_hip", "right_hip"]]
//!     time_warp = [0.8, 1.25]
//! "#).unwrap();
//! let augmenter = Augmenter::new(&config, &PoseLayout::of(&recording.pose)).unwrap();
//! let (pose, labels) = augmenter.augment(&recording.pose, Some(&recording.labels), 7).unwrap();
//! assert_eq!(pose.frames(), labels.unwrap().len());
//! ```

use ndarray::{Array3, Array4, Axis};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::error::{PoseError, Result};
use crate::labels::{FrameLabels, Labels};
use crate::pose::Pose;
use crate::preprocess::PoseLayout;

/// Slowest and fastest time-warp speed factor accepted.
pub const TIME_WARP_LIMITS: [f32; 2] = [0.1, 10.0];

/// Which augmentations to draw and how strong; every default is "off".
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AugmentConfig {
    /// Largest rotation in degrees (x–y plane, about the window's centroid); the angle is
    /// uniform in [−rotation, rotation].
    pub rotation: f32,
    /// Chance of mirroring the window (x about the centroid) and swapping left/right keypoints.
    pub reflection: f32,
    /// Left/right keypoint pairs swapped by a reflection, by name.
    pub mirror_pairs: Vec<[String; 2]>,
    /// Range [low, high] of the scale factor (about the centroid in x–y, about the floor in z).
    pub scale: [f32; 2],
    /// Largest shift along x and along y, in pixels (uniform in [−translation, translation]).
    pub translation: f32,
    /// Standard deviation of Gaussian noise added to every coordinate, in pixels.
    pub jitter: f32,
    /// Range [low, high] of the playback speed: 2 = twice as fast, half the frames.
    pub time_warp: [f32; 2],
    /// Individuals that may trade places, by name (e.g. the unlabelled mice of MABe22).
    pub interchangeable: Vec<String>,
}

impl Default for AugmentConfig {
    fn default() -> Self {
        Self {
            rotation: 0.0,
            reflection: 0.0,
            mirror_pairs: Vec::new(),
            scale: [1.0, 1.0],
            translation: 0.0,
            jitter: 0.0,
            time_warp: [1.0, 1.0],
            interchangeable: Vec::new(),
        }
    }
}

/// One draw of augmentation parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct Augmentation {
    /// Rotation in radians, counter-clockwise in x–y.
    pub angle: f32,
    /// Mirror x about the centroid and swap the mirror pairs.
    pub reflect: bool,
    /// Scale factor.
    pub scale: f32,
    /// Shift along x and y.
    pub shift: [f32; 2],
    /// Standard deviation of the coordinate noise.
    pub jitter: f32,
    /// Seed of the coordinate noise.
    pub jitter_seed: u64,
    /// Playback speed: output frame j shows input time j × speed.
    pub speed: f32,
    /// Output individual i shows input individual `permutation[i]`.
    pub permutation: Vec<usize>,
    /// `(left, right)` keypoint index pairs swapped by a reflection.
    pub mirror_pairs: Vec<(usize, usize)>,
}

impl Augmentation {
    /// The draw that changes nothing, for poses with `individuals` individuals.
    pub fn identity(individuals: usize) -> Self {
        Self {
            angle: 0.0,
            reflect: false,
            scale: 1.0,
            shift: [0.0; 2],
            jitter: 0.0,
            jitter_seed: 0,
            speed: 1.0,
            permutation: (0..individuals).collect(),
            mirror_pairs: Vec::new(),
        }
    }

    /// Apply to a pose and, when given, its per-frame labels (resampled alongside).
    pub fn apply(&self, pose: &Pose, labels: Option<&Labels>) -> Result<(Pose, Option<Labels>)> {
        let (frames, individuals, keypoints, dims) = pose.positions.dim();
        if self.permutation.len() != individuals {
            return Err(PoseError::invalid(
                "augmentation",
                format!("a permutation of {individuals} individuals"),
                format!("{:?}", self.permutation),
            ));
        }
        if let Some(&(a, b)) = self
            .mirror_pairs
            .iter()
            .find(|&&(a, b)| a.max(b) >= keypoints)
        {
            return Err(PoseError::invalid(
                "augmentation mirror pair",
                format!("keypoint indices below {keypoints}"),
                format!("({a}, {b})"),
            ));
        }
        if let Some(labels) = labels
            && labels.len() != frames
        {
            return Err(PoseError::invalid(
                "labels to augment",
                format!("{frames} frames, as in the pose"),
                labels.len().to_string(),
            ));
        }
        let _span = tracing::trace_span!("augment", frames).entered();
        let sources = source_times(frames, self.speed);
        let mut positions = warp_positions(&pose.positions, &sources);
        let mut confidence = pose
            .confidence
            .as_ref()
            .map(|c| warp_confidence(c, &sources));
        self.rearrange(&mut positions, confidence.as_mut());
        self.move_rigidly(&mut positions, dims);
        if self.jitter > 0.0 {
            let mut rng = ChaCha8Rng::seed_from_u64(self.jitter_seed);
            let mut normal = Normal::default();
            for v in positions.iter_mut() {
                // Draw for missing values too, so the noise of a keypoint does not depend on
                // which others are missing.
                let noise = self.jitter * normal.sample(&mut rng);
                *v += noise;
            }
        }
        let augmented = Pose {
            positions,
            confidence,
            individuals: pose.individuals.clone(),
            keypoints: pose.keypoints.clone(),
            fps: pose.fps,
            source: pose.source.clone(),
            software: pose.software.clone(),
        };
        let labels = labels.map(|l| warp_labels(l, &sources));
        Ok((augmented, labels))
    }

    /// Permute individuals and, for a reflection, swap left/right keypoints (data moves, names
    /// stay: slot names are positional).
    fn rearrange(&self, positions: &mut Array4<f32>, confidence: Option<&mut Array3<f32>>) {
        let keypoints = positions.dim().2;
        let mut source: Vec<usize> = (0..keypoints).collect();
        if self.reflect {
            for &(a, b) in &self.mirror_pairs {
                source.swap(a, b);
            }
        }
        let identity_keypoints = source.iter().enumerate().all(|(k, &s)| k == s);
        let identity_individuals = self.permutation.iter().enumerate().all(|(i, &p)| i == p);
        if identity_keypoints && identity_individuals {
            return;
        }
        let original = positions.clone();
        for (i, &from_i) in self.permutation.iter().enumerate() {
            for (k, &from_k) in source.iter().enumerate() {
                positions
                    .slice_mut(ndarray::s![.., i, k, ..])
                    .assign(&original.slice(ndarray::s![.., from_i, from_k, ..]));
            }
        }
        if let Some(confidence) = confidence {
            let original = confidence.clone();
            for (i, &from_i) in self.permutation.iter().enumerate() {
                for (k, &from_k) in source.iter().enumerate() {
                    confidence
                        .slice_mut(ndarray::s![.., i, k])
                        .assign(&original.slice(ndarray::s![.., from_i, from_k]));
                }
            }
        }
    }

    /// Mirror, rotate and scale about the centroid of the window's tracked points, then shift.
    fn move_rigidly(&self, positions: &mut Array4<f32>, dims: usize) {
        let moves = self.reflect || self.angle != 0.0 || self.scale != 1.0;
        let shifts = self.shift != [0.0; 2];
        if !moves && !shifts {
            return;
        }
        let centre = if moves {
            centroid(positions, dims)
        } else {
            [0.0; 2]
        };
        let (sin, cos) = self.angle.sin_cos();
        let mirror = if self.reflect { -1.0 } else { 1.0 };
        for point in positions
            .as_slice_mut()
            .expect("warped positions are standard layout")
            .chunks_exact_mut(dims)
        {
            let x = mirror * (point[0] - centre[0]);
            let y = point[1] - centre[1];
            point[0] = centre[0] + self.scale * (cos * x - sin * y) + self.shift[0];
            point[1] = centre[1] + self.scale * (sin * x + cos * y) + self.shift[1];
            if dims == 3 {
                point[2] *= self.scale;
            }
        }
    }
}

/// An [`AugmentConfig`] checked against a pose layout.
#[derive(Clone, Debug)]
pub struct Augmenter {
    config: AugmentConfig,
    mirror_pairs: Vec<(usize, usize)>,
    interchangeable: Vec<usize>,
    individuals: usize,
}

fn invalid(field: &str, expected: impl Into<String>, found: impl std::fmt::Display) -> PoseError {
    PoseError::invalid(
        format!("augment config `{field}`"),
        expected,
        found.to_string(),
    )
}

fn check_range(field: &str, [low, high]: [f32; 2], limits: [f32; 2]) -> Result<()> {
    if !(low.is_finite()
        && high.is_finite()
        && limits[0] <= low
        && low <= high
        && high <= limits[1])
    {
        return Err(invalid(
            field,
            format!(
                "[low, high] with {} <= low <= high <= {}",
                limits[0], limits[1]
            ),
            format!("[{low}, {high}]"),
        ));
    }
    Ok(())
}

impl Augmenter {
    /// Check `config` against `layout`; errors name the field at fault.
    pub fn new(config: &AugmentConfig, layout: &PoseLayout) -> Result<Self> {
        if !(config.rotation.is_finite() && (0.0..=180.0).contains(&config.rotation)) {
            return Err(invalid("rotation", "degrees in [0, 180]", config.rotation));
        }
        if !(config.reflection.is_finite() && (0.0..=1.0).contains(&config.reflection)) {
            return Err(invalid(
                "reflection",
                "a probability in [0, 1]",
                config.reflection,
            ));
        }
        check_range("scale", config.scale, [1e-3, 1e3])?;
        check_range("time_warp", config.time_warp, TIME_WARP_LIMITS)?;
        for (field, value) in [
            ("translation", config.translation),
            ("jitter", config.jitter),
        ] {
            if !(value.is_finite() && value >= 0.0) {
                return Err(invalid(field, "a non-negative number of pixels", value));
            }
        }
        let mut paired = vec![false; layout.keypoints.len()];
        let mut mirror_pairs = Vec::new();
        for [left, right] in &config.mirror_pairs {
            let field = "augment config `mirror_pairs`";
            let (a, b) = (
                layout.keypoint(left, field)?,
                layout.keypoint(right, field)?,
            );
            for (k, name) in [(a, left), (b, right)] {
                if paired[k] {
                    return Err(invalid(
                        "mirror_pairs",
                        "each keypoint in at most one pair",
                        format!("{name:?} twice"),
                    ));
                }
                paired[k] = true;
            }
            if a == b {
                return Err(invalid("mirror_pairs", "two different keypoints", left));
            }
            mirror_pairs.push((a, b));
        }
        let mut interchangeable = Vec::new();
        for name in &config.interchangeable {
            let i = layout.individual(name, "augment config `interchangeable`")?;
            if interchangeable.contains(&i) {
                return Err(invalid(
                    "interchangeable",
                    "each individual once",
                    format!("{name:?} twice"),
                ));
            }
            interchangeable.push(i);
        }
        Ok(Self {
            config: config.clone(),
            mirror_pairs,
            interchangeable,
            individuals: layout.individuals.len(),
        })
    }

    /// Draw one augmentation.
    pub fn sample(&self, rng: &mut impl Rng) -> Augmentation {
        let config = &self.config;
        let mut uniform = |low: f32, high: f32| low + (high - low) * rng.random::<f32>();
        let angle = uniform(-config.rotation, config.rotation).to_radians();
        let reflect = uniform(0.0, 1.0) < config.reflection;
        let scale = uniform(config.scale[0], config.scale[1]);
        let shift = [
            uniform(-config.translation, config.translation),
            uniform(-config.translation, config.translation),
        ];
        // Speeds are drawn log-uniformly, so 0.5 and 2 are equally likely in [0.5, 2].
        let [slow, fast] = config.time_warp.map(f32::ln);
        let speed = uniform(slow, fast).exp();
        let mut permutation: Vec<usize> = (0..self.individuals).collect();
        // Fisher–Yates over the interchangeable slots only.
        for a in (1..self.interchangeable.len()).rev() {
            let b = rng.random_range(0..=a);
            permutation.swap(self.interchangeable[a], self.interchangeable[b]);
        }
        Augmentation {
            angle,
            reflect,
            scale,
            shift,
            jitter: config.jitter,
            jitter_seed: rng.random(),
            speed,
            permutation,
            mirror_pairs: self.mirror_pairs.clone(),
        }
    }

    /// Draw with a ChaCha8 stream seeded by `seed` and apply: same seed, same output.
    pub fn augment(
        &self,
        pose: &Pose,
        labels: Option<&Labels>,
        seed: u64,
    ) -> Result<(Pose, Option<Labels>)> {
        let augmentation = self.sample(&mut ChaCha8Rng::seed_from_u64(seed));
        augmentation.apply(pose, labels)
    }
}

/// Input time of each output frame at `speed`: `round(frames / speed)` outputs (at least 1).
fn source_times(frames: usize, speed: f32) -> Vec<f32> {
    if frames == 0 {
        return Vec::new();
    }
    if speed == 1.0 {
        return (0..frames).map(|f| f as f32).collect();
    }
    let outputs = ((frames as f64 / speed as f64).round() as usize).max(1);
    let last = (frames - 1) as f32;
    (0..outputs).map(|j| (j as f32 * speed).min(last)).collect()
}

/// Linear interpolation between the two frames around each source time; missing if either is.
fn warp_positions(positions: &Array4<f32>, sources: &[f32]) -> Array4<f32> {
    let (_, individuals, keypoints, dims) = positions.dim();
    let mut out = Array4::<f32>::zeros((sources.len(), individuals, keypoints, dims));
    for (mut row, &t) in out.axis_iter_mut(Axis(0)).zip(sources) {
        let (before, after, w) = neighbours(t, positions.dim().0);
        let (a, b) = (
            positions.index_axis(Axis(0), before),
            positions.index_axis(Axis(0), after),
        );
        ndarray::Zip::from(&mut row)
            .and(&a)
            .and(&b)
            .for_each(|o, &a, &b| *o = if w == 0.0 { a } else { a + w * (b - a) });
    }
    out
}

fn warp_confidence(confidence: &Array3<f32>, sources: &[f32]) -> Array3<f32> {
    let (_, individuals, keypoints) = confidence.dim();
    let mut out = Array3::<f32>::zeros((sources.len(), individuals, keypoints));
    for (mut row, &t) in out.axis_iter_mut(Axis(0)).zip(sources) {
        let (before, after, w) = neighbours(t, confidence.dim().0);
        let (a, b) = (
            confidence.index_axis(Axis(0), before),
            confidence.index_axis(Axis(0), after),
        );
        ndarray::Zip::from(&mut row)
            .and(&a)
            .and(&b)
            .for_each(|o, &a, &b| *o = if w == 0.0 { a } else { a + w * (b - a) });
    }
    out
}

/// Frames either side of time `t` and the weight of the later one.
fn neighbours(t: f32, frames: usize) -> (usize, usize, f32) {
    let before = (t.floor() as usize).min(frames - 1);
    let after = (before + 1).min(frames - 1);
    let w = if after == before {
        0.0
    } else {
        t - before as f32
    };
    (before, after, w)
}

/// Labels of the nearest input frame.
fn warp_labels(labels: &Labels, sources: &[f32]) -> Labels {
    let last = labels.len().saturating_sub(1);
    let nearest = |t: f32| (t.round() as usize).min(last);
    let frames = match &labels.frames {
        FrameLabels::Single(ids) => {
            FrameLabels::Single(sources.iter().map(|&t| ids[nearest(t)]).collect())
        }
        FrameLabels::Multi(rows) => {
            FrameLabels::Multi(sources.iter().map(|&t| rows[nearest(t)].clone()).collect())
        }
    };
    Labels {
        vocabulary: labels.vocabulary.clone(),
        frames,
    }
}

/// Mean x and y of every tracked keypoint in the window (origin when none is tracked).
fn centroid(positions: &Array4<f32>, dims: usize) -> [f32; 2] {
    let (mut sx, mut sy, mut n) = (0.0f64, 0.0f64, 0usize);
    for point in positions
        .as_slice()
        .expect("standard layout")
        .chunks_exact(dims)
    {
        if !point[0].is_nan() && !point[1].is_nan() {
            sx += point[0] as f64;
            sy += point[1] as f64;
            n += 1;
        }
    }
    if n == 0 {
        [0.0; 2]
    } else {
        [(sx / n as f64) as f32, (sy / n as f64) as f32]
    }
}

/// Standard normal draws by Marsaglia's polar method (rand_distr would pull in another rand).
#[derive(Default)]
struct Normal {
    spare: Option<f32>,
}

impl Normal {
    fn sample(&mut self, rng: &mut impl Rng) -> f32 {
        if let Some(z) = self.spare.take() {
            return z;
        }
        loop {
            let u = 2.0 * rng.random::<f32>() - 1.0;
            let v = 2.0 * rng.random::<f32>() - 1.0;
            let s = u * u + v * v;
            if s > 0.0 && s < 1.0 {
                let scale = (-2.0 * s.ln() / s).sqrt();
                self.spare = Some(v * scale);
                return u * scale;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::{NoiseConfig, SimulationConfig, simulate};

    fn recording(frames: usize) -> crate::synth::Recording {
        simulate(&SimulationConfig {
            seed: 2,
            frames,
            individuals: 3,
            noise: NoiseConfig {
                short_gap_rate: 0.05,
                ..NoiseConfig::default()
            },
            ..Default::default()
        })
        .unwrap()
    }

    fn augmenter(pose: &Pose, text: &str) -> Augmenter {
        let config: AugmentConfig = toml::from_str(text).unwrap();
        Augmenter::new(&config, &PoseLayout::of(pose)).unwrap()
    }

    fn same_bits(a: &Array4<f32>, b: &Array4<f32>) -> bool {
        a.iter()
            .zip(b.iter())
            .all(|(x, y)| x.to_bits() == y.to_bits())
    }

    fn close(a: &Array4<f32>, b: &Array4<f32>, tolerance: f32) -> bool {
        a.iter()
            .zip(b.iter())
            .all(|(x, y)| (x.is_nan() && y.is_nan()) || (x - y).abs() <= tolerance)
    }

    const PAIRS: &str = r#"mirror_pairs = [["left_ear", "right_ear"], ["left_hip", "right_hip"]]"#;

    #[test]
    fn reflecting_twice_is_the_identity() {
        let pose = recording(100).pose;
        let augmenter = augmenter(&pose, &format!("reflection = 1.0\n{PAIRS}"));
        let reflect = augmenter.sample(&mut ChaCha8Rng::seed_from_u64(0));
        assert!(reflect.reflect);
        let (once, _) = reflect.apply(&pose, None).unwrap();
        let (twice, _) = reflect.apply(&once, None).unwrap();
        assert!(!close(&once.positions, &pose.positions, 1.0));
        assert!(close(&twice.positions, &pose.positions, 1e-3));
        assert_eq!(twice.confidence, pose.confidence);
    }

    #[test]
    fn reflection_swaps_the_named_keypoints_and_mirrors_x() {
        let pose = recording(50).pose;
        let augmenter = augmenter(&pose, &format!("reflection = 1.0\n{PAIRS}"));
        let (mirrored, _) = augmenter.augment(&pose, None, 3).unwrap();
        let centre = centroid(&pose.positions, 2);
        let (left_ear, right_ear, nose) = (1, 2, 0);
        for f in 0..pose.frames() {
            for i in 0..3 {
                let p = |k: usize, d: usize| pose.positions[[f, i, k, d]];
                let m = |k: usize, d: usize| mirrored.positions[[f, i, k, d]];
                for (to, from) in [(left_ear, right_ear), (right_ear, left_ear), (nose, nose)] {
                    if p(from, 0).is_nan() {
                        assert!(m(to, 0).is_nan());
                        continue;
                    }
                    assert!((m(to, 0) - (2.0 * centre[0] - p(from, 0))).abs() < 1e-3);
                    assert_eq!(m(to, 1), p(from, 1));
                }
            }
        }
        assert_eq!(mirrored.keypoints, pose.keypoints);
    }

    #[test]
    fn rotation_preserves_distances_and_scaling_scales_them() {
        let pose = recording(60).pose;
        let distances = |pose: &Pose| -> Vec<f32> {
            let p = &pose.positions;
            let mut out = Vec::new();
            for f in 0..pose.frames() {
                for a in 0..p.dim().1 * p.dim().2 {
                    let (ia, ka) = (a / p.dim().2, a % p.dim().2);
                    for b in 0..a {
                        let (ib, kb) = (b / p.dim().2, b % p.dim().2);
                        let dx = p[[f, ia, ka, 0]] - p[[f, ib, kb, 0]];
                        let dy = p[[f, ia, ka, 1]] - p[[f, ib, kb, 1]];
                        out.push(dx.hypot(dy));
                    }
                }
            }
            out
        };
        let before = distances(&pose);
        for (text, factor) in [("rotation = 180.0", 1.0), ("scale = [1.5, 1.5]", 1.5)] {
            let (turned, _) = augmenter(&pose, text).augment(&pose, None, 11).unwrap();
            let after = distances(&turned);
            for (b, a) in before.iter().zip(&after) {
                assert!(
                    (b.is_nan() && a.is_nan()) || (a - factor * b).abs() < 1e-3 * b.max(1.0),
                    "{text}: {b} became {a}"
                );
            }
        }
        let (turned, _) = augmenter(&pose, "rotation = 180.0")
            .augment(&pose, None, 11)
            .unwrap();
        assert!(!close(&turned.positions, &pose.positions, 1.0));
    }

    #[test]
    fn time_warp_changes_length_by_the_factor_and_keeps_labels_aligned() {
        // x of every keypoint is the frame number; the label changes every 7 frames.
        let frames = 100;
        let positions =
            Array4::from_shape_fn(
                (frames, 1, 2, 2),
                |(f, _, _, d)| {
                    if d == 0 { f as f32 } else { 1.0 }
                },
            );
        let pose = Pose::new(positions, vec!["m".into()], vec!["a".into(), "b".into()]).unwrap();
        let class = |f: usize| Some(((f / 7) % 3) as u32);
        let labels = Labels::new(
            vec!["x".into(), "y".into(), "z".into()],
            FrameLabels::Single((0..frames).map(class).collect()),
        )
        .unwrap();
        for speed in [0.5f32, 0.8, 1.25, 2.0] {
            let warp = Augmentation {
                speed,
                ..Augmentation::identity(1)
            };
            let (warped, warped_labels) = warp.apply(&pose, Some(&labels)).unwrap();
            let expected = (frames as f32 / speed).round() as usize;
            assert_eq!(warped.frames(), expected, "speed {speed}");
            let FrameLabels::Single(ids) = warped_labels.unwrap().frames else {
                unreachable!()
            };
            assert_eq!(ids.len(), expected);
            for (j, id) in ids.iter().enumerate() {
                let t = warped.positions[[j, 0, 1, 0]];
                assert!((t - (j as f32 * speed).min(99.0)).abs() < 1e-3);
                assert_eq!(*id, class(t.round() as usize), "speed {speed}, frame {j}");
            }
        }
        let sampled = augmenter(&pose, "time_warp = [0.5, 2.0]");
        let (warped, _) = sampled.augment(&pose, None, 5).unwrap();
        assert!((50..=200).contains(&warped.frames()));
    }

    #[test]
    fn same_seed_same_output_different_seed_different_output() {
        let recording = recording(80);
        let pose = &recording.pose;
        let augmenter = augmenter(
            pose,
            &format!(
                "rotation = 90.0\nreflection = 0.5\n{PAIRS}\nscale = [0.9, 1.1]\n\
                 translation = 20.0\njitter = 1.0\ntime_warp = [0.8, 1.25]\n\
                 interchangeable = [\"intruder_1\", \"intruder_2\"]"
            ),
        );
        let (a, la) = augmenter
            .augment(pose, Some(&recording.labels), 42)
            .unwrap();
        let (b, lb) = augmenter
            .augment(pose, Some(&recording.labels), 42)
            .unwrap();
        assert!(same_bits(&a.positions, &b.positions));
        assert_eq!(la, lb);
        let (c, _) = augmenter
            .augment(pose, Some(&recording.labels), 43)
            .unwrap();
        assert!(a.positions.dim() != c.positions.dim() || !same_bits(&a.positions, &c.positions));
    }

    #[test]
    fn permutation_moves_only_interchangeable_individuals() {
        let pose = recording(30).pose;
        let augmenter = augmenter(&pose, r#"interchangeable = ["intruder_1", "intruder_2"]"#);
        let mut seen_swap = false;
        for seed in 0..20 {
            let draw = augmenter.sample(&mut ChaCha8Rng::seed_from_u64(seed));
            assert_eq!(draw.permutation[0], 0);
            let (moved, _) = draw.apply(&pose, None).unwrap();
            if draw.permutation == [0, 2, 1] {
                seen_swap = true;
                let slot = |p: &Pose, i: usize| p.positions.index_axis(Axis(1), i).to_owned();
                assert!(same_bits(
                    &slot(&moved, 1).insert_axis(Axis(1)),
                    &slot(&pose, 2).insert_axis(Axis(1))
                ));
            }
        }
        assert!(seen_swap);
    }

    #[test]
    fn jitter_has_the_configured_spread_and_keeps_missing_missing() {
        let pose = recording(200).pose;
        let (noisy, _) = augmenter(&pose, "jitter = 2.0")
            .augment(&pose, None, 9)
            .unwrap();
        let diffs: Vec<f32> = noisy
            .positions
            .iter()
            .zip(pose.positions.iter())
            .filter(|(_, p)| !p.is_nan())
            .map(|(n, p)| n - p)
            .collect();
        let sd = (diffs.iter().map(|d| d * d).sum::<f32>() / diffs.len() as f32).sqrt();
        assert!((sd - 2.0).abs() < 0.1, "{sd}");
        let missing = |p: &Pose| p.positions.iter().filter(|v| v.is_nan()).count();
        assert_eq!(missing(&noisy), missing(&pose));
    }

    #[test]
    fn egocentric_features_do_not_see_rotation_or_translation_of_the_arena() {
        // The training path: clean once, cut a window, augment it, featurise it.
        let recording = recording(120);
        let config: crate::preprocess::PreprocessConfig =
            toml::from_str("body_axis = [\"tail\", \"neck\"]\n[align]\nmode = \"egocentric\"")
                .unwrap();
        let layout = PoseLayout::of(&recording.pose);
        let processor = crate::preprocess::Preprocessor::new(&config, &layout).unwrap();
        let cleaned = processor.clean(&recording.pose).unwrap();
        let window = crate::window::pose_window(&cleaned, 20..84).unwrap();
        let moved = augmenter(&window, "rotation = 180.0\ntranslation = 300.0")
            .augment(&window, None, 4)
            .unwrap()
            .0;
        let (a, b) = (
            processor.featurise(&window).unwrap(),
            processor.featurise(&moved).unwrap(),
        );
        assert_eq!(a.observed, b.observed);
        for (x, y) in a.features.iter().zip(b.features.iter()) {
            assert!(x.is_nan() || (x - y).abs() < 1e-2, "{x} vs {y}");
        }
    }

    #[test]
    fn default_config_changes_nothing_and_bad_configs_are_refused() {
        let pose = recording(40).pose;
        let (same, _) = augmenter(&pose, "").augment(&pose, None, 1).unwrap();
        assert!(same_bits(&same.positions, &pose.positions));

        let layout = PoseLayout::of(&pose);
        let refused = |text: &str, needle: &str| {
            let err = match toml::from_str::<AugmentConfig>(text) {
                Err(e) => e.to_string(),
                Ok(config) => Augmenter::new(&config, &layout).unwrap_err().to_string(),
            };
            assert!(err.contains(needle), "{text:?} gave {err}");
        };
        refused("rotate = 10.0", "unknown field");
        refused("rotation = 270.0", "[0, 180]");
        refused("reflection = 2.0", "probability");
        refused(
            r#"mirror_pairs = [["left_ear", "right_eye"]]"#,
            "\"right_eye\"",
        );
        refused(
            r#"mirror_pairs = [["left_ear", "right_ear"], ["left_ear", "right_hip"]]"#,
            "at most one pair",
        );
        refused("scale = [1.2, 0.8]", "low <= high");
        refused("time_warp = [0.0, 2.0]", "0.1 <= low");
        refused("jitter = -1.0", "non-negative");
        refused(r#"interchangeable = ["intruder_9"]"#, "\"intruder_9\"");
    }
}
