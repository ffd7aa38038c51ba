//! Model hyper-parameters: the reference's `config.json` keys, our head list, size presets.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The feed-forward activation. The network implements exact (erf) GELU, BERT's, only; a
/// `config.json` naming another is refused when read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    /// `gelu`.
    #[default]
    Gelu,
}

/// The size presets of `configs/model/`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelSize {
    /// 2 layers, 64 wide: tests and quick experiments.
    #[default]
    Tiny,
    /// 4 layers, 256 wide.
    Small,
    /// BERT-base: 12 layers, 768 wide.
    Base,
}

impl ModelSize {
    /// Every size, smallest first.
    pub const ALL: [ModelSize; 3] = [ModelSize::Tiny, ModelSize::Small, ModelSize::Base];

    /// The preset's name (`tiny`, `small`, `base`).
    pub fn name(self) -> &'static str {
        match self {
            ModelSize::Tiny => "tiny",
            ModelSize::Small => "small",
            ModelSize::Base => "base",
        }
    }
}

impl ModelSize {
    /// The preset's TOML, built into the binary.
    fn toml(self) -> &'static str {
        match self {
            ModelSize::Tiny => include_str!("../../../../configs/model/tiny.toml"),
            ModelSize::Small => include_str!("../../../../configs/model/small.toml"),
            ModelSize::Base => include_str!("../../../../configs/model/base.toml"),
        }
    }
}

impl std::str::FromStr for ModelSize {
    type Err = Error;

    fn from_str(name: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|size| size.name() == name)
            .ok_or_else(|| {
                Error::config(
                    "model size",
                    format!("one of {}", Self::ALL.map(ModelSize::name).join(", ")),
                    format!("{name:?}"),
                )
            })
    }
}

/// Names no head may take: they are the tensor prefixes of the shared head modules.
const RESERVED_HEAD_NAMES: [&str; 2] = ["pooler", "reconstruction"];

/// Where a head reads from: every frame token, or the pooled CLS token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HeadLevel {
    /// Per-frame outputs from the frame tokens.
    Frame,
    /// One output per clip from the pooled CLS token.
    Sequence,
}

/// What a head's outputs mean, which decides its loss and decoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HeadKind {
    /// One class among `outputs` (softmax).
    Multiclass,
    /// Any subset of `outputs` behaviours (independent sigmoids).
    Multilabel,
    /// `outputs` continuous targets.
    Regression,
}

/// Most weights a model may have: 16 GB of f32, 46 times `base`.
const MAX_WEIGHTS: u64 = 4_000_000_000;

/// One named output head.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeadConfig {
    /// Head name; its tensors are stored as `heads.<name>.{weight,bias}`.
    pub name: String,
    /// Frame-level or sequence-level.
    pub level: HeadLevel,
    /// Classification or regression.
    pub kind: HeadKind,
    /// Number of classes or targets.
    pub outputs: usize,
}

impl HeadConfig {
    /// A multiclass frame head.
    pub fn frame(name: &str, classes: usize) -> Self {
        Self {
            name: name.to_string(),
            level: HeadLevel::Frame,
            kind: HeadKind::Multiclass,
            outputs: classes,
        }
    }

    /// A multiclass sequence head.
    pub fn sequence(name: &str, classes: usize) -> Self {
        Self {
            level: HeadLevel::Sequence,
            ..Self::frame(name, classes)
        }
    }
}

/// Encoder size and regularisation: what a `configs/model/*.toml` preset holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Architecture {
    /// Token width.
    pub hidden_size: usize,
    /// Encoder layers.
    pub num_hidden_layers: usize,
    /// Attention heads per layer.
    pub num_attention_heads: usize,
    /// Feed-forward width.
    pub intermediate_size: usize,
    /// Dropout on embeddings and residual branches.
    pub hidden_dropout_prob: f64,
    /// Dropout on attention probabilities.
    pub attention_probs_dropout_prob: f64,
    /// LayerNorm epsilon.
    pub layer_norm_eps: f64,
    /// Learned positions, CLS included: the longest window is one less.
    pub max_position_embeddings: usize,
}

impl Architecture {
    /// The built-in preset of `size` (`configs/model/<size>.toml`).
    pub fn preset(size: ModelSize) -> Result<Self> {
        Self::from_toml(size.toml(), &format!("configs/model/{}.toml", size.name()))
    }

    /// An architecture from TOML text; `origin` names it in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self> {
        toml::from_str(text).map_err(|e| {
            Error::config(
                origin,
                "a model size table (configs/model/*.toml)",
                e.message(),
            )
        })
    }
}

/// Everything needed to build the network: exactly the keys of the reference's `config.json`,
/// plus the optional `heads` list for multi-task models.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    /// Always `"behavert"`.
    pub model_type: String,
    /// Features per frame (individuals × keypoints × space, plus derived features).
    pub input_dim: usize,
    /// Token width.
    pub hidden_size: usize,
    /// Encoder layers.
    pub num_hidden_layers: usize,
    /// Attention heads per layer.
    pub num_attention_heads: usize,
    /// Feed-forward width.
    pub intermediate_size: usize,
    /// Feed-forward activation.
    pub hidden_act: Activation,
    /// Dropout on embeddings and residual branches.
    pub hidden_dropout_prob: f64,
    /// Dropout on attention probabilities.
    pub attention_probs_dropout_prob: f64,
    /// LayerNorm epsilon.
    pub layer_norm_eps: f64,
    /// Learned positions, CLS included.
    pub max_position_embeddings: usize,
    /// Classes of the head named `frame` (0 if there is none).
    pub num_frame_classes: usize,
    /// Classes of the head named `sequence` (0 if there is none).
    pub num_sequence_classes: usize,
    /// Output heads in order; absent in reference checkpoints, which have exactly one
    /// `frame` and one `sequence` head.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heads: Option<Vec<HeadConfig>>,
    /// Keys this version does not know, kept so a round trip loses nothing.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

impl ModelConfig {
    /// A config of the given size for `input_dim` features and the given heads.
    pub fn new(architecture: &Architecture, input_dim: usize, heads: Vec<HeadConfig>) -> Self {
        let classes_of = |name: &str| {
            heads
                .iter()
                .find(|h| h.name == name)
                .map_or(0, |h| h.outputs)
        };
        Self {
            model_type: "behavert".to_string(),
            input_dim,
            hidden_size: architecture.hidden_size,
            num_hidden_layers: architecture.num_hidden_layers,
            num_attention_heads: architecture.num_attention_heads,
            intermediate_size: architecture.intermediate_size,
            hidden_act: Activation::Gelu,
            hidden_dropout_prob: architecture.hidden_dropout_prob,
            attention_probs_dropout_prob: architecture.attention_probs_dropout_prob,
            layer_norm_eps: architecture.layer_norm_eps,
            max_position_embeddings: architecture.max_position_embeddings,
            num_frame_classes: classes_of("frame"),
            num_sequence_classes: classes_of("sequence"),
            heads: Some(heads),
            extra: BTreeMap::new(),
        }
    }

    /// A config from `config.json` text; `origin` names it in errors.
    pub fn from_json(text: &str, origin: &str) -> Result<Self> {
        let config: Self = serde_json::from_str(text).map_err(|e| {
            Error::config(
                format!("{origin} line {} column {}", e.line(), e.column()),
                "a BehavERT config.json",
                e,
            )
        })?;
        config.validate(origin)?;
        Ok(config)
    }

    /// The config as pretty JSON, the layout of the reference's `config.json`.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a config always serialises")
    }

    /// The output heads in order: the `heads` list, or the reference's `frame` and `sequence`.
    pub fn heads(&self) -> Vec<HeadConfig> {
        match &self.heads {
            Some(heads) => heads.clone(),
            None => [
                HeadConfig::frame("frame", self.num_frame_classes),
                HeadConfig::sequence("sequence", self.num_sequence_classes),
            ]
            .into_iter()
            .filter(|h| h.outputs > 0)
            .collect(),
        }
    }

    /// Heads of one level, in order.
    pub fn heads_at(&self, level: HeadLevel) -> Vec<HeadConfig> {
        self.heads()
            .into_iter()
            .filter(|h| h.level == level)
            .collect()
    }

    /// Longest clip the positions can hold (one position is the CLS token's).
    pub fn max_frames(&self) -> usize {
        self.max_position_embeddings.saturating_sub(1)
    }

    /// Roughly how many weights the network holds: the encoder's matrices and the embeddings
    /// (biases, norms and heads are small beside them).
    pub fn approximate_weights(&self) -> u64 {
        let (h, i) = (self.hidden_size as u64, self.intermediate_size as u64);
        self.num_hidden_layers as u64 * (4 * h * h + 2 * h * i)
            + (self.input_dim + self.max_position_embeddings) as u64 * h
    }

    /// Checks every value; `origin` names the config in errors.
    pub fn validate(&self, origin: &str) -> Result<()> {
        let place = |key: &str| format!("{origin}: {key}");
        if self.model_type != "behavert" {
            return Err(Error::config(
                place("model_type"),
                "\"behavert\"",
                &self.model_type,
            ));
        }
        // Upper bounds far beyond any real model: a damaged or hostile config.json must fail
        // here, not in an allocation of terabytes.
        for (key, value, most) in [
            ("input_dim", self.input_dim, 1 << 20),
            ("hidden_size", self.hidden_size, 1 << 14),
            ("num_hidden_layers", self.num_hidden_layers, 256),
            ("num_attention_heads", self.num_attention_heads, 1 << 10),
            ("intermediate_size", self.intermediate_size, 1 << 16),
        ] {
            if !(1..=most).contains(&value) {
                return Err(Error::config(
                    place(key),
                    format!("a positive integer up to {most}"),
                    value,
                ));
            }
        }
        if !(2..=1 << 16).contains(&self.max_position_embeddings) {
            return Err(Error::config(
                place("max_position_embeddings"),
                "2 (the CLS token and one frame) to 65536",
                self.max_position_embeddings,
            ));
        }
        let weights = self.approximate_weights();
        if weights > MAX_WEIGHTS {
            return Err(Error::config(
                place("num_hidden_layers × hidden_size × intermediate_size"),
                format!("at most {MAX_WEIGHTS} weights (16 GB)"),
                format!("about {weights} weights"),
            ));
        }
        if !self.hidden_size.is_multiple_of(self.num_attention_heads) {
            return Err(Error::config(
                place("hidden_size"),
                format!(
                    "a multiple of num_attention_heads ({})",
                    self.num_attention_heads
                ),
                self.hidden_size,
            ));
        }
        for (key, p) in [
            ("hidden_dropout_prob", self.hidden_dropout_prob),
            (
                "attention_probs_dropout_prob",
                self.attention_probs_dropout_prob,
            ),
        ] {
            if !(0.0..1.0).contains(&p) {
                return Err(Error::config(place(key), "a probability in [0, 1)", p));
            }
        }
        if !(self.layer_norm_eps > 0.0 && self.layer_norm_eps.is_finite()) {
            return Err(Error::config(
                place("layer_norm_eps"),
                "a small positive number",
                self.layer_norm_eps,
            ));
        }
        self.validate_heads(origin)
    }

    fn validate_heads(&self, origin: &str) -> Result<()> {
        let heads = self.heads();
        for (i, head) in heads.iter().enumerate() {
            let place = format!("{origin}: heads[{i}]");
            let well_formed = head.name.starts_with(|c: char| c.is_ascii_alphabetic())
                && head
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            if !well_formed || RESERVED_HEAD_NAMES.contains(&head.name.as_str()) {
                return Err(Error::config(
                    format!("{place}.name"),
                    format!(
                        "a name of letters, digits, '_' or '-' starting with a letter, not {}",
                        RESERVED_HEAD_NAMES.join(" or ")
                    ),
                    format!("{:?}", head.name),
                ));
            }
            if heads[..i].iter().any(|h| h.name == head.name) {
                return Err(Error::config(
                    format!("{place}.name"),
                    "a name used by no other head",
                    format!("{:?} twice", head.name),
                ));
            }
            if !(1..=1 << 16).contains(&head.outputs) {
                return Err(Error::config(
                    format!("{place}.outputs"),
                    "a positive number of classes or targets, up to 65536",
                    head.outputs,
                ));
            }
        }
        if self.heads.is_some() {
            for (name, key, declared) in [
                ("frame", "num_frame_classes", self.num_frame_classes),
                (
                    "sequence",
                    "num_sequence_classes",
                    self.num_sequence_classes,
                ),
            ] {
                let actual = heads
                    .iter()
                    .find(|h| h.name == name)
                    .map_or(0, |h| h.outputs);
                if actual != declared {
                    return Err(Error::config(
                        format!("{origin}: {key}"),
                        format!("the outputs of the head named {name:?} ({actual})"),
                        declared,
                    ));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REFERENCE_CONFIG: &str = r#"{
      "model_type": "behavert", "input_dim": 28, "hidden_size": 64, "num_hidden_layers": 2,
      "num_attention_heads": 4, "intermediate_size": 128, "hidden_act": "gelu",
      "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1, "layer_norm_eps": 1e-12,
      "max_position_embeddings": 129, "num_frame_classes": 4, "num_sequence_classes": 3
    }"#;

    #[test]
    fn reference_config_reads_and_writes_the_same_keys() {
        let config = ModelConfig::from_json(REFERENCE_CONFIG, "config.json").unwrap();
        assert_eq!(
            config.heads(),
            vec![
                HeadConfig::frame("frame", 4),
                HeadConfig::sequence("sequence", 3)
            ]
        );
        let written: serde_json::Value = serde_json::from_str(&config.to_json()).unwrap();
        let original: serde_json::Value = serde_json::from_str(REFERENCE_CONFIG).unwrap();
        assert_eq!(written, original);
    }

    #[test]
    fn unknown_keys_survive_a_round_trip() {
        let text = REFERENCE_CONFIG.replacen('{', r#"{"torch_dtype": "float32","#, 1);
        let config = ModelConfig::from_json(&text, "config.json").unwrap();
        assert!(config.to_json().contains("torch_dtype"));
    }

    #[test]
    fn presets_have_the_documented_sizes() {
        let small = Architecture::preset(ModelSize::Small).unwrap();
        assert_eq!(
            (
                small.num_hidden_layers,
                small.hidden_size,
                small.num_attention_heads
            ),
            (4, 256, 4)
        );
        assert_eq!(small.intermediate_size, 1024);
        let base = Architecture::preset(ModelSize::Base).unwrap();
        assert_eq!(
            (
                base.num_hidden_layers,
                base.hidden_size,
                base.num_attention_heads
            ),
            (12, 768, 12)
        );
        assert_eq!(base.intermediate_size, 3072);
        let err = "huge".parse::<ModelSize>().unwrap_err().to_string();
        assert!(err.contains("tiny, small, base"), "{err}");
    }

    #[test]
    fn bad_values_are_named() {
        let bad = REFERENCE_CONFIG.replace("\"hidden_size\": 64", "\"hidden_size\": 66");
        let err = ModelConfig::from_json(&bad, "ckpt/config.json")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("ckpt/config.json: hidden_size") && err.contains("66"),
            "{err}"
        );
        let bad = REFERENCE_CONFIG.replace("\"gelu\"", "\"relu\"");
        let err = ModelConfig::from_json(&bad, "c").unwrap_err().to_string();
        assert!(err.contains("`relu`") && err.contains("`gelu`"), "{err}");
        let bad = REFERENCE_CONFIG.replace("\"input_dim\": 28,", "");
        let err = ModelConfig::from_json(&bad, "c").unwrap_err().to_string();
        assert!(err.contains("input_dim"), "{err}");
        // Sizes that would allocate terabytes are refused before anything is built.
        let huge =
            REFERENCE_CONFIG.replace("\"num_hidden_layers\": 2", "\"num_hidden_layers\": 1000000");
        let err = ModelConfig::from_json(&huge, "c").unwrap_err().to_string();
        assert!(
            err.contains("num_hidden_layers") && err.contains("1000000"),
            "{err}"
        );
        let huge = REFERENCE_CONFIG
            .replace("\"hidden_size\": 64", "\"hidden_size\": 16384")
            .replace("\"num_hidden_layers\": 2", "\"num_hidden_layers\": 64");
        let err = ModelConfig::from_json(&huge, "c").unwrap_err().to_string();
        assert!(err.contains("weights"), "{err}");
    }

    #[test]
    fn head_names_are_checked() {
        let arch = Architecture::preset(ModelSize::Tiny).unwrap();
        let heads = vec![
            HeadConfig::frame("attack", 2),
            HeadConfig::frame("attack", 3),
        ];
        let err = ModelConfig::new(&arch, 8, heads)
            .validate("c")
            .unwrap_err()
            .to_string();
        assert!(err.contains("twice"), "{err}");
        let heads = vec![HeadConfig::frame("pooler", 2)];
        assert!(ModelConfig::new(&arch, 8, heads).validate("c").is_err());
        let heads = vec![
            HeadConfig::frame("frame", 4),
            HeadConfig::sequence("strain", 2),
        ];
        let config = ModelConfig::new(&arch, 8, heads);
        config.validate("c").unwrap();
        assert_eq!(
            (config.num_frame_classes, config.num_sequence_classes),
            (4, 0)
        );
    }
}
