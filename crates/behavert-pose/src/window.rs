//! Windows over a recording: overlapping, fixed-length cuts (unfold) for the model, and the
//! way back (overlap-averaged reassembly) from per-window outputs to one value per frame.
//!
//! Windows start every `stride` frames; the last one reaches past the end and is padded, with
//! a validity mask saying which of its frames are real. With `stride ≤ length` every frame is
//! covered by at least one window.
//!
//! ```
//! use behavert_pose::window::{WindowSpec, reassemble, unfold};
//! use ndarray::Array2;
//! let signal = Array2::from_shape_fn((10, 1), |(f, _)| f as f32);
//! let spec = WindowSpec::new(4, 3).unwrap();
//! let unfolded = unfold(signal.view(), spec, 0.0).unwrap();
//! assert_eq!(unfolded.data.dim(), (3, 4, 1));
//! let back = reassemble(unfolded.data.view(), &unfolded.windows, 10).unwrap();
//! assert_eq!(back, signal);
//! ```

use std::ops::Range;

use ndarray::{Array2, Array3, ArrayView2, ArrayView3, Axis, s};

use crate::error::{PoseError, Result};
use crate::labels::{FrameLabels, Labels};
use crate::pose::Pose;

/// Window length and stride, checked: `1 ≤ stride ≤ length`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WindowSpec {
    length: usize,
    stride: usize,
}

impl WindowSpec {
    /// A spec with `length` frames per window, starting every `stride` frames.
    pub fn new(length: usize, stride: usize) -> Result<Self> {
        if length == 0 {
            return Err(PoseError::invalid("window length", "at least 1 frame", "0"));
        }
        if stride == 0 || stride > length {
            return Err(PoseError::invalid(
                "window stride",
                format!("1 to {length} frames (the window length), so every frame is covered"),
                stride.to_string(),
            ));
        }
        Ok(Self { length, stride })
    }

    /// Frames per window.
    pub fn length(&self) -> usize {
        self.length
    }

    /// Frames between window starts.
    pub fn stride(&self) -> usize {
        self.stride
    }

    /// The windows over a recording of `frames` frames (none when it is empty).
    pub fn windows(&self, frames: usize) -> Vec<Window> {
        let mut windows = Vec::new();
        let mut start = 0;
        while start < frames {
            let valid = self.length.min(frames - start);
            windows.push(Window {
                start,
                valid,
                length: self.length,
            });
            if start + self.length >= frames {
                break;
            }
            start += self.stride;
        }
        windows
    }
}

/// One window: `length` frames from `start`, of which the first `valid` are real.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// First frame.
    pub start: usize,
    /// Real frames; the rest of the window is padding.
    pub valid: usize,
    /// Frames including padding.
    pub length: usize,
}

impl Window {
    /// The recording frames this window holds.
    pub fn frames(&self) -> Range<usize> {
        self.start..self.start + self.valid
    }
}

/// Windows as the trainer batches them.
#[derive(Clone, Debug, PartialEq)]
pub struct Unfolded<T> {
    /// `[windows, length, features]`, padding rows filled with the pad value.
    pub data: Array3<T>,
    /// `[windows, length]`: true for real frames, false for padding.
    pub valid: Array2<bool>,
    /// Where each window sits in the recording.
    pub windows: Vec<Window>,
}

/// Cut `[frames, features]` data into overlapping windows, padding the last with `pad`.
pub fn unfold<T: Clone>(data: ArrayView2<T>, spec: WindowSpec, pad: T) -> Result<Unfolded<T>> {
    let (frames, features) = data.dim();
    if frames == 0 {
        return Err(PoseError::invalid(
            "windows",
            "a recording of at least one frame",
            "0 frames",
        ));
    }
    let windows = spec.windows(frames);
    let mut out = Array3::from_elem((windows.len(), spec.length, features), pad);
    let mut valid = Array2::from_elem((windows.len(), spec.length), false);
    for (w, window) in windows.iter().enumerate() {
        out.slice_mut(s![w, ..window.valid, ..])
            .assign(&data.slice(s![window.frames(), ..]));
        valid.slice_mut(s![w, ..window.valid]).fill(true);
    }
    Ok(Unfolded {
        data: out,
        valid,
        windows,
    })
}

/// Per-frame values from per-window outputs `[windows, length, channels]`: each frame gets
/// the mean over the windows covering it; padding is ignored.
pub fn reassemble(
    outputs: ArrayView3<f32>,
    windows: &[Window],
    frames: usize,
) -> Result<Array2<f32>> {
    let (count, length, channels) = outputs.dim();
    if count != windows.len() {
        return Err(PoseError::invalid(
            "window outputs",
            format!("{} windows", windows.len()),
            format!("{count}"),
        ));
    }
    let mut sum = Array2::<f32>::zeros((frames, channels));
    let mut covered = vec![0u32; frames];
    for (w, window) in windows.iter().enumerate() {
        if window.valid > length || window.start + window.valid > frames {
            return Err(PoseError::invalid(
                format!("window {w}"),
                format!("at most {length} frames within the recording's {frames}"),
                format!("frames {:?}", window.frames()),
            ));
        }
        let mut target = sum.slice_mut(s![window.frames(), ..]);
        target += &outputs.slice(s![w, ..window.valid, ..]);
        for c in &mut covered[window.frames()] {
            *c += 1;
        }
    }
    if let Some(frame) = covered.iter().position(|&c| c == 0) {
        return Err(PoseError::invalid(
            format!("frame {frame}"),
            "covered by at least one window",
            "no window",
        ));
    }
    for (mut row, &c) in sum.axis_iter_mut(Axis(0)).zip(&covered) {
        row /= c as f32;
    }
    Ok(sum)
}

/// Mean of per-frame outputs reassembled at several window lengths (multi-scale inference).
pub fn average_scales(scales: &[Array2<f32>]) -> Result<Array2<f32>> {
    let Some(first) = scales.first() else {
        return Err(PoseError::invalid(
            "multi-scale outputs",
            "at least one scale",
            "none",
        ));
    };
    let mut sum = first.clone();
    for (i, scale) in scales.iter().enumerate().skip(1) {
        if scale.dim() != first.dim() {
            return Err(PoseError::invalid(
                format!("multi-scale output {i}"),
                format!("shape {:?} like the first", first.shape()),
                format!("{:?}", scale.shape()),
            ));
        }
        sum += scale;
    }
    sum /= scales.len() as f32;
    Ok(sum)
}

/// Window sizes from a config: one or several lengths (multi-scale), each with a stride as a
/// fraction of its length.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WindowConfig {
    /// Window lengths in frames; several = multi-scale.
    pub lengths: Vec<usize>,
    /// Stride as a fraction of each length, in (0, 1]: 0.5 = half-overlapping windows.
    pub stride: f32,
}

impl Default for WindowConfig {
    fn default() -> Self {
        Self {
            lengths: vec![256],
            stride: 0.5,
        }
    }
}

impl WindowConfig {
    /// The checked specs, one per length; `max_length` is the longest window the model takes.
    pub fn specs(&self, max_length: usize) -> Result<Vec<WindowSpec>> {
        if self.lengths.is_empty() {
            return Err(PoseError::invalid(
                "window config `lengths`",
                "at least one window length",
                "[]",
            ));
        }
        if !(self.stride.is_finite() && self.stride > 0.0 && self.stride <= 1.0) {
            return Err(PoseError::invalid(
                "window config `stride`",
                "a fraction of the length in (0, 1]",
                self.stride.to_string(),
            ));
        }
        self.lengths
            .iter()
            .map(|&length| {
                if length == 0 || length > max_length {
                    return Err(PoseError::invalid(
                        "window config `lengths`",
                        format!("lengths from 1 to {max_length} frames (the model's longest)"),
                        length.to_string(),
                    ));
                }
                let stride = ((length as f32 * self.stride).round() as usize).clamp(1, length);
                WindowSpec::new(length, stride)
            })
            .collect()
    }
}

/// The frames `range` of `pose` as a pose of their own (for augmenting one window).
pub fn pose_window(pose: &Pose, range: Range<usize>) -> Result<Pose> {
    check_range(&range, pose.frames(), "pose window")?;
    Ok(Pose {
        positions: pose
            .positions
            .slice(s![range.clone(), .., .., ..])
            .to_owned(),
        confidence: pose
            .confidence
            .as_ref()
            .map(|c| c.slice(s![range.clone(), .., ..]).to_owned()),
        individuals: pose.individuals.clone(),
        keypoints: pose.keypoints.clone(),
        fps: pose.fps,
        source: pose.source.clone(),
        software: pose.software.clone(),
    })
}

/// The frames `range` of `labels`.
pub fn labels_window(labels: &Labels, range: Range<usize>) -> Result<Labels> {
    check_range(&range, labels.len(), "labels window")?;
    let frames = match &labels.frames {
        FrameLabels::Single(ids) => FrameLabels::Single(ids[range].to_vec()),
        FrameLabels::Multi(rows) => FrameLabels::Multi(rows[range].to_vec()),
    };
    Ok(Labels {
        vocabulary: labels.vocabulary.clone(),
        frames,
    })
}

fn check_range(range: &Range<usize>, frames: usize, context: &str) -> Result<()> {
    if range.start > range.end || range.end > frames {
        return Err(PoseError::invalid(
            context,
            format!("frames within 0..{frames}"),
            format!("{range:?}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(frames: usize) -> Array2<f32> {
        Array2::from_shape_fn((frames, 2), |(f, c)| (f * 2 + c) as f32)
    }

    #[test]
    fn unfold_then_reassemble_returns_the_signal_and_covers_every_frame() {
        for frames in [1, 2, 7, 64, 65, 100, 257] {
            for length in [1, 3, 16, 64, 300] {
                for stride in [1, 2, length / 2, length - 1, length] {
                    let Ok(spec) = WindowSpec::new(length, stride) else {
                        continue;
                    };
                    let signal = identity(frames);
                    let unfolded = unfold(signal.view(), spec, f32::NAN).unwrap();
                    let back = reassemble(unfolded.data.view(), &unfolded.windows, frames);
                    assert_eq!(back.unwrap(), signal, "{frames} frames, {spec:?}");
                    // Windows tile the recording from frame 0 to the end, without gaps.
                    let windows = &unfolded.windows;
                    assert_eq!(windows[0].start, 0);
                    assert_eq!(windows.last().unwrap().frames().end, frames);
                    assert!(windows.windows(2).all(|w| w[1].start <= w[0].frames().end));
                }
            }
        }
    }

    #[test]
    fn padding_is_masked_and_filled_with_the_pad_value() {
        let spec = WindowSpec::new(8, 4).unwrap();
        let unfolded = unfold(identity(10).view(), spec, -1.0).unwrap();
        assert_eq!(unfolded.windows.len(), 2);
        assert_eq!(
            unfolded.windows[1],
            Window {
                start: 4,
                valid: 6,
                length: 8
            }
        );
        assert_eq!(
            unfolded.valid.row(1).to_vec(),
            [true, true, true, true, true, true, false, false]
        );
        assert_eq!(unfolded.data[[1, 6, 0]], -1.0);
        assert!(unfolded.valid.row(0).iter().all(|&v| v));
        // Shorter than one window: a single padded window.
        let short = unfold(identity(3).view(), spec, 0.0).unwrap();
        assert_eq!(short.valid.row(0).iter().filter(|&&v| v).count(), 3);
    }

    #[test]
    fn a_frame_gets_the_mean_of_the_windows_covering_it() {
        let spec = WindowSpec::new(4, 2).unwrap();
        let windows = spec.windows(6);
        assert_eq!(windows.len(), 2);
        // Window w outputs w + 1 everywhere: frames 2 and 3 are in both windows.
        let outputs = Array3::from_shape_fn((2, 4, 1), |(w, _, _)| w as f32 + 1.0);
        let back = reassemble(outputs.view(), &windows, 6).unwrap();
        assert_eq!(back.column(0).to_vec(), [1.0, 1.0, 1.5, 1.5, 2.0, 2.0]);
        let err = reassemble(outputs.view(), &windows[..1], 6)
            .unwrap_err()
            .to_string();
        assert!(err.contains("1 windows"), "{err}");
        let err = reassemble(outputs.slice(s![..1, .., ..]), &windows[..1], 6).unwrap_err();
        assert!(err.to_string().contains("frame 4"), "{err}");
    }

    #[test]
    fn multi_scale_config_gives_checked_specs_and_averages() {
        let config: WindowConfig =
            toml::from_str("lengths = [64, 128, 256]\nstride = 0.25").unwrap();
        let specs = config.specs(512).unwrap();
        assert_eq!(specs[1], WindowSpec::new(128, 32).unwrap());
        let signal = identity(300);
        let scales: Vec<Array2<f32>> = specs
            .iter()
            .map(|&spec| {
                let u = unfold(signal.view(), spec, 0.0).unwrap();
                reassemble(u.data.view(), &u.windows, 300).unwrap()
            })
            .collect();
        assert_eq!(average_scales(&scales).unwrap(), signal);

        let err = config.specs(200).unwrap_err().to_string();
        assert!(err.contains("1 to 200") && err.contains("256"), "{err}");
        let bad: WindowConfig = toml::from_str("stride = 1.5").unwrap();
        assert!(bad.specs(512).unwrap_err().to_string().contains("stride"));
        assert!(toml::from_str::<WindowConfig>("length = 3").is_err());
        assert!(WindowSpec::new(4, 5).is_err() && WindowSpec::new(0, 1).is_err());
        assert_eq!(WindowConfig::default().specs(512).unwrap()[0].stride(), 128);
    }

    #[test]
    fn pose_and_label_windows_cut_the_same_frames() {
        let recording = crate::synth::simulate(&crate::synth::SimulationConfig {
            frames: 40,
            ..Default::default()
        })
        .unwrap();
        let pose = pose_window(&recording.pose, 10..20).unwrap();
        assert_eq!(pose.frames(), 10);
        assert_eq!(
            pose.positions.slice(s![0, .., .., ..]),
            recording.pose.positions.slice(s![10, .., .., ..])
        );
        let labels = labels_window(&recording.labels, 10..20).unwrap();
        assert_eq!(labels.len(), 10);
        assert!(pose_window(&recording.pose, 30..41).is_err());
        assert!(
            unfold(
                Array2::<f32>::zeros((0, 3)).view(),
                WindowSpec::new(2, 1).unwrap(),
                0.0
            )
            .is_err()
        );
    }
}
