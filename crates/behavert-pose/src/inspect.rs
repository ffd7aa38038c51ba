//! What a pose file holds, for `behavert inspect`: a serialisable summary with a human-readable
//! `Display`.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::formats::{self, Format};
use crate::pose::{Pose, Space};

/// A summary of one recording.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct PoseSummary {
    /// The file's format, when known.
    pub format: Option<Format>,
    /// The file the pose came from.
    pub source: Option<PathBuf>,
    /// The software that wrote it.
    pub software: Option<String>,
    /// Number of frames.
    pub frames: usize,
    /// Frames per second, when known.
    pub fps: Option<f64>,
    /// Duration in seconds (frames / fps), when fps is known.
    pub duration_s: Option<f64>,
    /// Individual names.
    pub individuals: Vec<String>,
    /// Keypoint names.
    pub keypoints: Vec<String>,
    /// 2D or 3D.
    pub space: Space,
    /// True when the file has per-keypoint confidence.
    pub confidence: bool,
    /// Fraction of frames each keypoint is missing in, as `[individual][keypoint]`.
    pub missing_fraction: Vec<Vec<f64>>,
    /// Fraction of all (frame, individual, keypoint) points that are missing.
    pub missing_overall: f64,
}

impl PoseSummary {
    /// Summarise `pose`, read from a file of `format`.
    pub fn new(pose: &Pose, format: Option<Format>) -> Self {
        let missing_fraction = pose.missing_fraction();
        let cells = missing_fraction.iter().map(Vec::len).sum::<usize>().max(1);
        let missing_overall = missing_fraction.iter().flatten().sum::<f64>() / cells as f64;
        Self {
            format,
            source: pose.source.clone(),
            software: pose.software.clone(),
            frames: pose.frames(),
            fps: pose.fps,
            duration_s: pose
                .fps
                .filter(|f| *f > 0.0)
                .map(|f| pose.frames() as f64 / f),
            individuals: pose.individuals.clone(),
            keypoints: pose.keypoints.clone(),
            space: pose.space(),
            confidence: pose.confidence.is_some(),
            missing_fraction,
            missing_overall,
        }
    }
}

/// Read `path` (format detected unless given) and summarise every recording in it.
pub fn inspect(path: &Path, format: Option<Format>) -> Result<Vec<PoseSummary>> {
    let format = match format {
        Some(f) => f,
        None => formats::detect(path)?,
    };
    Ok(formats::read(path, Some(format))?
        .iter()
        .map(|p| PoseSummary::new(p, Some(format)))
        .collect())
}

impl fmt::Display for PoseSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(source) = &self.source {
            writeln!(f, "file:        {}", source.display())?;
        }
        let format = self.format.map_or("?".to_string(), |x| x.to_string());
        let software = self.software.as_deref().unwrap_or("unknown");
        writeln!(f, "format:      {format} (written by {software})")?;
        let timing = match (self.fps, self.duration_s) {
            (Some(fps), Some(d)) => format!(" at {fps} fps ({d:.1} s)"),
            _ => " (fps unknown)".to_string(),
        };
        writeln!(f, "frames:      {}{timing}", self.frames)?;
        writeln!(
            f,
            "individuals: {} ({})",
            self.individuals.len(),
            self.individuals.join(", ")
        )?;
        writeln!(
            f,
            "keypoints:   {} ({})",
            self.keypoints.len(),
            self.keypoints.join(", ")
        )?;
        writeln!(f, "space:       {}", self.space)?;
        writeln!(
            f,
            "confidence:  {}",
            if self.confidence { "yes" } else { "no" }
        )?;
        writeln!(
            f,
            "missing:     {:.1}% of points",
            100.0 * self.missing_overall
        )?;
        let width = self
            .keypoints
            .iter()
            .map(|k| k.chars().count())
            .max()
            .unwrap_or(8)
            .max(8);
        write!(f, "  {:width$}", "keypoint")?;
        for individual in &self.individuals {
            write!(f, "  {individual:>10}")?;
        }
        writeln!(f)?;
        for (k, keypoint) in self.keypoints.iter().enumerate() {
            write!(f, "  {keypoint:width$}")?;
            for row in &self.missing_fraction {
                write!(
                    f,
                    "  {:>9.1}%",
                    100.0 * row.get(k).copied().unwrap_or(f64::NAN)
                )?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array4;

    #[test]
    fn summary_counts_missing_points_and_prints_a_table() {
        let mut positions = Array4::<f32>::zeros((4, 2, 1, 2));
        positions[[0, 1, 0, 0]] = f32::NAN;
        let mut pose =
            Pose::new(positions, vec!["a".into(), "b".into()], vec!["nose".into()]).unwrap();
        pose.fps = Some(2.0);
        let s = PoseSummary::new(&pose, Some(Format::DlcCsv));
        assert_eq!(s.missing_fraction, vec![vec![0.0], vec![0.25]]);
        assert_eq!((s.missing_overall, s.duration_s), (0.125, Some(2.0)));
        let text = s.to_string();
        assert!(
            text.contains("dlc-csv") && text.contains("25.0%") && text.contains("4 at 2 fps"),
            "{text}"
        );
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["format"], "dlc-csv");
        assert_eq!(json["space"], "2D");
    }
}
