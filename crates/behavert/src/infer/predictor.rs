//! A trained checkpoint ready to label poses: the same preprocessing as in training, then
//! overlapping windows whose outputs are averaged per frame and handed out as they finish
//! (a sequence head's output for a window counts for each of its frames).

use std::path::{Path, PathBuf};

use behavert_pose::pose::Pose;
use behavert_pose::preprocess::{PoseLayout, Prepared, Preprocessor};
use burn::tensor::{Bool, Device, Tensor, TensorData};
use ndarray::Array2;

use super::overlap::OverlapAverager;
use crate::checkpoint::{HeadVocabulary, TRAINING_FILE, TrainingInfo, load_checkpoint};
use crate::error::{Error, Result};
use crate::model::{BehavErt, HeadKind, HeadLevel, ModelInput, Precision};

/// How windows are laid over a recording.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InferOptions {
    /// Frames between window starts; `None` = half the training window.
    pub stride: Option<usize>,
    /// Windows per forward pass.
    pub batch_size: usize,
    /// Also average the encoder's per-frame hidden states.
    pub embeddings: bool,
}

impl Default for InferOptions {
    fn default() -> Self {
        Self {
            stride: None,
            batch_size: 16,
            embeddings: false,
        }
    }
}

/// One head as inference reports it. A sequence head's output for a window holds for each of
/// the window's frames, so both levels come out per frame.
#[derive(Clone, Debug, PartialEq)]
pub struct OutputHead {
    /// Name, level, kind and outputs.
    pub vocabulary: HeadVocabulary,
    /// Index among the model's heads of its level.
    index: usize,
}

impl OutputHead {
    /// The head's name.
    pub fn name(&self) -> &str {
        &self.vocabulary.head.name
    }

    /// Softmax, sigmoid or identity.
    pub fn kind(&self) -> HeadKind {
        self.vocabulary.head.kind
    }

    /// Per frame or per window (clip).
    pub fn level(&self) -> HeadLevel {
        self.vocabulary.head.level
    }

    /// Class names (multiclass, multilabel) or `value_<i>` (regression), one per output.
    pub fn output_names(&self) -> Vec<String> {
        match self.kind() {
            HeadKind::Regression => (0..self.vocabulary.head.outputs)
                .map(|i| format!("value_{i}"))
                .collect(),
            _ => self.vocabulary.vocabulary.clone(),
        }
    }
}

/// Finished frames `start..start + n` of one recording.
#[derive(Clone, Debug, PartialEq)]
pub struct FrameBlock {
    /// First frame of the block.
    pub start: usize,
    /// Per head: `[n, outputs]` probabilities (classification) or values (regression).
    pub heads: Vec<Array2<f32>>,
    /// `[n, hidden]` averaged encoder states, when asked for.
    pub embeddings: Option<Array2<f32>>,
}

impl FrameBlock {
    /// Frames in the block.
    pub fn frames(&self) -> usize {
        self.heads
            .first()
            .map(Array2::nrows)
            .or_else(|| self.embeddings.as_ref().map(Array2::nrows))
            .unwrap_or(0)
    }
}

/// Every frame of one recording at once (what [`Predictor::predict`] collects).
#[derive(Clone, Debug, PartialEq)]
pub struct Predictions {
    /// Per head: `[frames, outputs]`.
    pub heads: Vec<Array2<f32>>,
    /// `[frames, hidden]`, when asked for.
    pub embeddings: Option<Array2<f32>>,
}

/// A checkpoint directory loaded for inference.
#[derive(Debug)]
pub struct Predictor {
    model: BehavErt,
    info: TrainingInfo,
    heads: Vec<OutputHead>,
    device: Device,
    dir: PathBuf,
}

impl Predictor {
    /// Loads `dir` (`config.json`, `model.safetensors`, `training.json`) onto `device`.
    pub fn load(dir: &Path, device: &Device) -> Result<Self> {
        let _span = tracing::info_span!("load_predictor", dir = %dir.display()).entered();
        let model = load_checkpoint(dir, device)?;
        let info = TrainingInfo::load(dir)?;
        // Frame heads first: the first head is the one bouts and evaluation read.
        let training_file = dir.join(TRAINING_FILE);
        let heads = [HeadLevel::Frame, HeadLevel::Sequence]
            .iter()
            .flat_map(|&level| info.heads.iter().filter(move |h| h.head.level == level))
            .map(|h| {
                let Some((level, index)) = model
                    .head_index(&h.head.name)
                    .filter(|(level, _)| *level == h.head.level)
                else {
                    return Err(Error::run_dir(
                        &training_file,
                        format!(
                            "{:?} head {:?} in config.json too",
                            h.head.level, h.head.name
                        ),
                        "no such head in the model",
                    ));
                };
                let in_model = &model.config.heads_at(level)[index];
                if *in_model != h.head {
                    return Err(Error::run_dir(
                        &training_file,
                        format!("head {:?} as config.json has it: {in_model:?}", h.head.name),
                        format!("{:?}", h.head),
                    ));
                }
                // One name per output, or the writers would read past the vocabulary.
                if h.head.kind != HeadKind::Regression && h.vocabulary.len() != h.head.outputs {
                    return Err(Error::run_dir(
                        &training_file,
                        format!(
                            "{} behaviour names for head {:?} (one per output)",
                            h.head.outputs, h.head.name
                        ),
                        format!("{} names", h.vocabulary.len()),
                    ));
                }
                Ok(OutputHead {
                    vocabulary: h.clone(),
                    index,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        if info.feature_names.len() != model.config.input_dim {
            return Err(Error::run_dir(
                training_file,
                format!(
                    "{} feature names (config.json input_dim)",
                    model.config.input_dim
                ),
                info.feature_names.len(),
            ));
        }
        Ok(Self {
            model,
            info,
            heads,
            device: device.clone(),
            dir: dir.to_path_buf(),
        })
    }

    /// The arithmetic of the forward passes from here on ([`BehavErt::set_precision`]).
    pub fn set_precision(&mut self, precision: Precision) -> Result<()> {
        self.model.set_precision(precision)
    }

    /// The arithmetic of the forward passes.
    pub fn precision(&self) -> Precision {
        self.model.precision()
    }

    /// What training recorded: vocabularies, preprocessing, window length.
    pub fn info(&self) -> &TrainingInfo {
        &self.info
    }

    /// Every head in output order: frame-level heads, then sequence-level ones.
    pub fn heads(&self) -> &[OutputHead] {
        &self.heads
    }

    /// Width of the embeddings.
    pub fn hidden_size(&self) -> usize {
        self.model.config.hidden_size
    }

    /// The training window length: the default window for inference.
    pub fn window_length(&self) -> usize {
        self.info
            .window_length
            .min(self.model.config.max_frames())
            .max(1)
    }

    /// Preprocessed, standardised features of `pose`, whose keypoints and individuals must be
    /// the ones the model was trained on; `origin` names the pose in errors.
    pub fn prepare(&self, pose: &Pose, origin: &str) -> Result<Prepared> {
        let _span = tracing::info_span!("prepare", frames = pose.frames()).entered();
        let layout = PoseLayout::of(pose);
        let preprocessor = Preprocessor::new(&self.info.preprocess, &layout)
            .map_err(|e| Error::data(origin, "a pose the model's preprocessing fits", e))?;
        let names = preprocessor.feature_names();
        if names != self.info.feature_names.as_slice() {
            let first = names
                .iter()
                .zip(&self.info.feature_names)
                .position(|(a, b)| a != b)
                .unwrap_or(names.len().min(self.info.feature_names.len()));
            return Err(Error::data(
                origin,
                format!(
                    "the {} features the model {} was trained on (feature {first}: {:?}; \
                     individuals.keypoints.axis must match)",
                    self.info.feature_names.len(),
                    self.dir.display(),
                    self.info
                        .feature_names
                        .get(first)
                        .map_or("none", String::as_str),
                ),
                format!(
                    "{} features (feature {first}: {:?}) from individuals {:?}, keypoints {:?}",
                    names.len(),
                    names.get(first).map_or("none", String::as_str),
                    pose.individuals,
                    pose.keypoints,
                ),
            ));
        }
        if pose.frames() == 0 {
            return Err(Error::data(origin, "at least one frame", "none"));
        }
        let mut prepared = preprocessor.with_arena_of(pose)?.prepare(pose)?;
        self.info.normalisation.apply(&mut prepared)?;
        Ok(prepared)
    }

    /// Runs the model over `prepared` in overlapping windows and hands finished frames to
    /// `sink` in order; memory held is a few windows, whatever the recording's length.
    pub fn run(
        &self,
        prepared: &Prepared,
        options: &InferOptions,
        mut sink: impl FnMut(FrameBlock) -> Result<()>,
    ) -> Result<()> {
        let frames = prepared.frames();
        let length = self.window_length().min(frames);
        let stride = options.stride.unwrap_or(length.div_ceil(2)).max(1);
        if stride > length {
            return Err(Error::config(
                "stride",
                format!("at most the window length ({length} frames), so every frame is seen"),
                stride,
            ));
        }
        let batch_size = options.batch_size.max(1);
        let starts: Vec<usize> = (0..frames).step_by(stride).collect();
        // A window that ends at the recording's end makes every later window redundant.
        let starts: Vec<usize> = match starts.iter().position(|&s| s + length >= frames) {
            Some(last) => starts[..=last].to_vec(),
            None => starts,
        };
        let widths: Vec<usize> = self
            .heads
            .iter()
            .map(|h| h.vocabulary.head.outputs)
            .collect();
        let mut averagers: Vec<OverlapAverager> =
            widths.iter().map(|&w| OverlapAverager::new(w)).collect();
        let mut hidden_avg = options
            .embeddings
            .then(|| OverlapAverager::new(self.hidden_size()));
        let features = prepared.features.ncols();
        let values = prepared
            .features
            .as_slice()
            .ok_or_else(|| Error::data("features", "a contiguous array", "a strided one"))?;
        for (b, batch) in starts.chunks(batch_size).enumerate() {
            let _span = tracing::debug_span!("infer_batch", batch = b).entered();
            let mut keypoints = vec![0.0f32; batch.len() * length * features];
            let mut valid = vec![false; batch.len() * length];
            let mut lengths = Vec::with_capacity(batch.len());
            for (i, &start) in batch.iter().enumerate() {
                let n = length.min(frames - start);
                keypoints[i * length * features..(i * length + n) * features]
                    .copy_from_slice(&values[start * features..(start + n) * features]);
                valid[i * length..i * length + n].fill(true);
                lengths.push(n);
            }
            let input = ModelInput {
                keypoints: Tensor::<3>::from_data(
                    TensorData::new(keypoints, [batch.len(), length, features]),
                    &self.device,
                ),
                valid: Tensor::<2, Bool>::from_data(
                    TensorData::new(valid, [batch.len(), length]),
                    &self.device,
                ),
                masked: None,
            };
            let hidden = self.model.encode(&input)?;
            for (head, averager) in self.heads.iter().zip(&mut averagers) {
                let logits = match head.level() {
                    HeadLevel::Frame => self.model.frame_logits(head.index, &hidden),
                    HeadLevel::Sequence => self
                        .model
                        .sequence_logits(head.index, &hidden)
                        .unsqueeze_dim::<3>(1)
                        .repeat_dim(1, length),
                };
                let logits = to_vec(logits)?;
                if let Some((frame, value)) = first_non_finite(batch, &lengths, length, &logits) {
                    return Err(Error::data(
                        format!("the outputs of head {:?} at frame {frame}", head.name()),
                        "finite numbers",
                        format!(
                            "{value} (the checkpoint {} holds non-finite weights, or the input \
                             features overflowed)",
                            self.dir.display()
                        ),
                    ));
                }
                add_windows(averager, batch, &lengths, length, &logits);
            }
            if let Some(averager) = &mut hidden_avg {
                let tokens = to_vec(BehavErt::frame_tokens(&hidden))?;
                add_windows(averager, batch, &lengths, length, &tokens);
            }
            let next = (b + 1) * batch_size;
            let until = starts.get(next).copied().unwrap_or(frames);
            let start = averagers
                .first()
                .map(OverlapAverager::next_frame)
                .or_else(|| hidden_avg.as_ref().map(OverlapAverager::next_frame))
                .unwrap_or(until);
            let heads = self
                .heads
                .iter()
                .zip(&mut averagers)
                .map(|(head, averager)| activate(head.kind(), averager.take_until(until)))
                .collect();
            let embeddings = hidden_avg.as_mut().map(|a| a.take_until(until));
            sink(FrameBlock {
                start,
                heads,
                embeddings,
            })?;
        }
        Ok(())
    }

    /// Every frame's outputs for `pose` at once.
    pub fn predict(
        &self,
        pose: &Pose,
        origin: &str,
        options: &InferOptions,
    ) -> Result<Predictions> {
        let prepared = self.prepare(pose, origin)?;
        let frames = prepared.frames();
        let mut heads: Vec<Array2<f32>> = self
            .heads
            .iter()
            .map(|h| Array2::zeros((frames, h.vocabulary.head.outputs)))
            .collect();
        let mut embeddings = options
            .embeddings
            .then(|| Array2::zeros((frames, self.hidden_size())));
        self.run(&prepared, options, |block| {
            let rows = block.start..block.start + block.frames();
            for (all, part) in heads.iter_mut().zip(&block.heads) {
                all.slice_mut(ndarray::s![rows.clone(), ..]).assign(part);
            }
            if let (Some(all), Some(part)) = (&mut embeddings, &block.embeddings) {
                all.slice_mut(ndarray::s![rows, ..]).assign(part);
            }
            Ok(())
        })?;
        Ok(Predictions { heads, embeddings })
    }
}

/// Adds the valid frames of each window of a batch (`[windows, length, width]` values).
fn add_windows(
    averager: &mut OverlapAverager,
    starts: &[usize],
    lengths: &[usize],
    length: usize,
    values: &[f32],
) {
    let width = values.len() / (starts.len() * length).max(1);
    for (i, (&start, &n)) in starts.iter().zip(lengths).enumerate() {
        let at = i * length * width;
        averager.add(start, &values[at..at + n * width]);
    }
}

/// The first frame (and its value) whose output is NaN or infinite among the valid frames of
/// a batch's windows (`[windows, length, width]` values): never a number to write.
fn first_non_finite(
    starts: &[usize],
    lengths: &[usize],
    length: usize,
    values: &[f32],
) -> Option<(usize, f32)> {
    let width = values.len() / (starts.len() * length).max(1);
    starts
        .iter()
        .zip(lengths)
        .enumerate()
        .find_map(|(i, (&start, &n))| {
            let at = i * length * width;
            let window = &values[at..at + n * width];
            let bad = window.iter().position(|v| !v.is_finite())?;
            Some((start + bad / width.max(1), window[bad]))
        })
}

/// Averaged logits to what a user reads: probabilities or values.
fn activate(kind: HeadKind, mut logits: Array2<f32>) -> Array2<f32> {
    match kind {
        HeadKind::Multiclass => {
            for mut row in logits.rows_mut() {
                let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                row.mapv_inplace(|v| (v - max).exp());
                let sum: f32 = row.sum();
                row.mapv_inplace(|v| v / sum);
            }
        }
        HeadKind::Multilabel => logits.mapv_inplace(|v| 1.0 / (1.0 + (-v).exp())),
        HeadKind::Regression => {}
    }
    logits
}

fn to_vec<const D: usize>(tensor: Tensor<D>) -> Result<Vec<f32>> {
    tensor
        .into_data()
        .try_into_vec::<f32>()
        .map_err(|e| Error::data("model output", "f32 values", format!("{e:?}")))
}
