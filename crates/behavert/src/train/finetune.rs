//! Fine-tuning objective: one loss per head (cross-entropy or focal with class weights,
//! multi-label BCE, regression MSE, clip classification), summed with the heads' weights; and
//! validation macro-F1 of the classification heads.

use burn::tensor::{Device, Tensor};

use super::config::{ClassLoss, ClassWeighting, HeadSection, TargetSource};
use super::losses;
use super::sources::Sources;
use crate::error::{Error, Result};
use crate::eval::classification::{macro_average, precision_recall_f1};
use crate::model::{BehavErt, HeadConfig, HeadKind, HeadLevel};
use crate::train::data::{
    Batch, BatchTargets, Corpus, TargetSpec, ids_tensor, inverse_frequency_weights, values_tensor,
};

/// A head ready to train: its config, targets and class weights.
#[derive(Clone, Debug)]
pub struct HeadPlan {
    /// The `[[heads]]` table.
    pub section: HeadSection,
    /// Where its targets come from, with the vocabulary.
    pub spec: TargetSpec,
    /// Class weights of the loss (multiclass heads with `class_weights` set).
    pub class_weights: Option<Vec<f32>>,
}

impl HeadPlan {
    /// Class names (empty for regression heads).
    pub fn vocabulary(&self) -> Vec<String> {
        match &self.spec {
            TargetSpec::FrameValues { .. } => Vec::new(),
            TargetSpec::FrameClasses { vocabulary }
            | TargetSpec::FrameMulti { vocabulary }
            | TargetSpec::ClipGroup { vocabulary }
            | TargetSpec::ClipDominant { vocabulary } => vocabulary.clone(),
        }
    }

    /// The model's head config.
    pub fn head_config(&self) -> HeadConfig {
        HeadConfig {
            name: self.section.name.clone(),
            level: self.section.level,
            kind: self.section.kind,
            outputs: self.spec.outputs(),
        }
    }
}

/// Resolves each head's vocabulary (from the config, else from the data in first-seen order)
/// and target spec.
pub fn plan_heads(sections: &[HeadSection], sources: &Sources) -> Result<Vec<HeadPlan>> {
    let all = || sources.train.iter().chain(&sources.validation);
    sections
        .iter()
        .enumerate()
        .map(|(i, section)| {
            let from_data = |names: &mut dyn Iterator<Item = String>| {
                let mut out: Vec<String> = Vec::new();
                for name in names {
                    if !out.contains(&name) {
                        out.push(name);
                    }
                }
                out
            };
            let vocabulary = if !section.vocabulary.is_empty() {
                section.vocabulary.clone()
            } else {
                match section.source {
                    TargetSource::Group => {
                        let mut groups = from_data(&mut all().filter_map(|s| s.group.clone()));
                        groups.sort();
                        groups
                    }
                    _ => from_data(
                        &mut all()
                            .filter_map(|s| s.labels.as_ref())
                            .flat_map(|l| l.vocabulary.clone()),
                    ),
                }
            };
            let spec = match (section.level, section.kind, section.source) {
                (HeadLevel::Frame, HeadKind::Regression, _) => {
                    let tasks = all()
                        .find_map(|s| s.targets.as_ref().map(|t| t.tasks.len()))
                        .ok_or_else(|| {
                            Error::data(
                                format!("heads[{i}] ({})", section.name),
                                "numeric targets in the data for a regression head",
                                "no recording with targets",
                            )
                        })?;
                    TargetSpec::FrameValues { tasks }
                }
                (HeadLevel::Frame, HeadKind::Multilabel, _) => {
                    TargetSpec::FrameMulti { vocabulary }
                }
                (HeadLevel::Frame, _, _) => TargetSpec::FrameClasses { vocabulary },
                (HeadLevel::Sequence, _, TargetSource::Group) => {
                    TargetSpec::ClipGroup { vocabulary }
                }
                (HeadLevel::Sequence, _, _) => TargetSpec::ClipDominant { vocabulary },
            };
            if spec.outputs() == 0 {
                return Err(Error::data(
                    format!("heads[{i}] ({})", section.name),
                    "at least one class or target in the data",
                    "none",
                ));
            }
            Ok(HeadPlan {
                section: section.clone(),
                spec,
                class_weights: None,
            })
        })
        .collect()
}

/// Sets class weights measured on the training corpus where asked for.
pub fn weigh_classes(plans: &mut [HeadPlan], train: &Corpus) {
    for (h, plan) in plans.iter_mut().enumerate() {
        let power = match plan.section.class_weights {
            ClassWeighting::None => continue,
            ClassWeighting::InverseFrequency => 1.0,
            ClassWeighting::SqrtInverseFrequency => 0.5,
        };
        match plan.spec {
            TargetSpec::FrameClasses { .. } => {
                let counts = train.class_counts(h, plan.spec.outputs());
                plan.class_weights = Some(inverse_frequency_weights(&counts, power));
            }
            // A behaviour's frames "on" weigh (off / on)^power against its frames "off", as
            // PyTorch's `pos_weight`: rare behaviours are not learnt as never happening.
            TargetSpec::FrameMulti { .. } => {
                let counts = train.label_counts(h, plan.spec.outputs());
                plan.class_weights = Some(
                    counts
                        .iter()
                        .map(|&(on, off)| {
                            if on == 0 {
                                1.0
                            } else {
                                (off as f64 / on as f64).max(1.0).powf(power) as f32
                            }
                        })
                        .collect(),
                );
            }
            _ => {}
        }
    }
}

/// One head's loss on a batch, and its `[n, classes]` logits with targets and mask for
/// classification heads (for metrics).
pub struct HeadOutput {
    /// The head's (unweighted) loss.
    pub loss: Tensor<1>,
    /// Logits, target ids and mask of a classification head.
    pub classes: Option<(Tensor<2>, Vec<i64>, Vec<f32>)>,
}

/// Every head's output on `batch`.
pub fn forward_heads(
    model: &BehavErt,
    plans: &[HeadPlan],
    batch: &Batch,
    device: &Device,
) -> Result<Vec<HeadOutput>> {
    let hidden = model.encode(&batch.input(device))?;
    let (b, t) = (batch.size(), batch.length);
    plans
        .iter()
        .zip(batch.heads())
        .map(|(plan, targets)| {
            let name = &plan.section.name;
            let (_, slot) = model.head_index(name).ok_or_else(|| {
                Error::config(
                    "heads",
                    format!("a head named {name:?} in the model"),
                    "none",
                )
            })?;
            let outputs = plan.spec.outputs();
            let logits = match plan.section.level {
                HeadLevel::Frame => model.frame_logits(slot, &hidden).reshape([b * t, outputs]),
                HeadLevel::Sequence => model.sequence_logits(slot, &hidden),
            };
            Ok(match targets {
                BatchTargets::Classes { ids, mask } => {
                    let weights = match &plan.class_weights {
                        Some(w) => mask
                            .iter()
                            .zip(ids)
                            .map(|(m, &c)| m * w[c as usize])
                            .collect(),
                        None => mask.clone(),
                    };
                    let focal =
                        (plan.section.loss == ClassLoss::Focal).then_some(plan.section.focal_gamma);
                    let loss = losses::classification(
                        logits.clone(),
                        ids_tensor(ids, device),
                        values_tensor(&weights, device),
                        focal,
                    );
                    HeadOutput {
                        loss,
                        classes: Some((logits, ids.clone(), mask.clone())),
                    }
                }
                BatchTargets::Dense { values, mask, .. } => {
                    let shape = [b * t, outputs];
                    let dense = |v: &Vec<f32>| values_tensor(v, device).reshape(shape);
                    let loss = match plan.section.kind {
                        HeadKind::Multilabel => {
                            let weights = match &plan.class_weights {
                                Some(on_weights) => mask
                                    .iter()
                                    .zip(values)
                                    .enumerate()
                                    .map(|(i, (m, &v))| {
                                        if v > 0.5 {
                                            m * on_weights[i % outputs]
                                        } else {
                                            *m
                                        }
                                    })
                                    .collect(),
                                None => mask.clone(),
                            };
                            losses::binary_cross_entropy(logits, dense(values), dense(&weights))
                        }
                        _ => losses::squared_error(logits, dense(values), dense(mask)),
                    };
                    HeadOutput {
                        loss,
                        classes: None,
                    }
                }
            })
        })
        .collect()
}

/// The weighted sum of the head losses: what fine-tuning minimises.
pub fn loss(
    model: &BehavErt,
    plans: &[HeadPlan],
    batch: &Batch,
    device: &Device,
) -> Result<Tensor<1>> {
    let outputs = forward_heads(model, plans, batch, device)?;
    let mut total: Option<Tensor<1>> = None;
    for (plan, out) in plans.iter().zip(outputs) {
        let term = out.loss.mul_scalar(plan.section.loss_weight);
        total = Some(match total {
            Some(t) => t + term,
            None => term,
        });
    }
    total.ok_or_else(|| Error::config("heads", "at least one head", "none"))
}

/// Validation results of fine-tuning.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct HeadScores {
    /// Mean loss over batches.
    pub loss: f64,
    /// Macro-F1 (every class) of each classification head, by name.
    pub f1_macro: Vec<(String, f64)>,
}

/// Loss and macro-F1 of `model` (in validation mode) over `batches` of `corpus`.
pub fn evaluate(
    model: &BehavErt,
    plans: &[HeadPlan],
    batches: &[Batch],
    device: &Device,
) -> Result<HeadScores> {
    let mut loss_sum = 0.0;
    let mut truth: Vec<Vec<Option<u32>>> = vec![Vec::new(); plans.len()];
    let mut preds: Vec<Vec<u32>> = vec![Vec::new(); plans.len()];
    for batch in batches {
        let outputs = forward_heads(model, plans, batch, device)?;
        for (h, (plan, out)) in plans.iter().zip(outputs).enumerate() {
            loss_sum += f64::from(out.loss.into_scalar::<f32>()) * plan.section.loss_weight;
            if let Some((logits, ids, mask)) = out.classes {
                let predicted = logits
                    .argmax(1)
                    .into_data()
                    .convert::<i64>()
                    .try_to_vec::<i64>()
                    .unwrap_or_default();
                for ((p, id), m) in predicted.iter().zip(&ids).zip(&mask) {
                    if *m > 0.0 {
                        truth[h].push(Some(*id as u32));
                        preds[h].push(*p as u32);
                    }
                }
            }
        }
    }
    let mut f1_macro = Vec::new();
    for (h, plan) in plans.iter().enumerate() {
        if !truth[h].is_empty() {
            let scores = precision_recall_f1(&truth[h], &preds[h], plan.spec.outputs())?;
            f1_macro.push((plan.section.name.clone(), macro_average(&scores, &[])?.f1));
        }
    }
    Ok(HeadScores {
        loss: loss_sum / batches.len().max(1) as f64,
        f1_macro,
    })
}
