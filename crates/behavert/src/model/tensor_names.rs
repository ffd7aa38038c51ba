//! The mapping between burn's module paths and the reference's `state_dict()` names.
//!
//! burn's stock encoder layer has a BERT layer's structure under other names; the heads are
//! stored by index here and by name in the reference. Each rule is a regex on a whole name
//! prefix; the rules of one direction never match each other's output, so applying them in
//! sequence is the same as applying the one that matches.

use super::config::{HeadLevel, ModelConfig};

/// Encoder and LayerNorm renames, burn path prefix ↔ reference prefix (`{}` = layer number).
const FIXED: [(&str, &str); 8] = [
    (r"embeddings\.layer_norm\.", "embeddings.LayerNorm."),
    (
        r"encoder\.layers\.(\d+)\.mha\.(query|key|value)\.",
        "encoder.layer.$1.attention.self.$2.",
    ),
    (
        r"encoder\.layers\.(\d+)\.mha\.output\.",
        "encoder.layer.$1.attention.output.dense.",
    ),
    (
        r"encoder\.layers\.(\d+)\.norm_1\.",
        "encoder.layer.$1.attention.output.LayerNorm.",
    ),
    (
        r"encoder\.layers\.(\d+)\.pwff\.linear_inner\.",
        "encoder.layer.$1.intermediate.dense.",
    ),
    (
        r"encoder\.layers\.(\d+)\.pwff\.linear_outer\.",
        "encoder.layer.$1.output.dense.",
    ),
    (
        r"encoder\.layers\.(\d+)\.norm_2\.",
        "encoder.layer.$1.output.LayerNorm.",
    ),
    (
        r"heads\.reconstruction\.transform\.layer_norm\.",
        "heads.reconstruction.transform.LayerNorm.",
    ),
];

/// The reverse rules of `FIXED`, reference prefix → burn prefix.
const FIXED_REVERSE: [(&str, &str); 8] = [
    (r"embeddings\.LayerNorm\.", "embeddings.layer_norm."),
    (
        r"encoder\.layer\.(\d+)\.attention\.self\.(query|key|value)\.",
        "encoder.layers.$1.mha.$2.",
    ),
    (
        r"encoder\.layer\.(\d+)\.attention\.output\.dense\.",
        "encoder.layers.$1.mha.output.",
    ),
    (
        r"encoder\.layer\.(\d+)\.attention\.output\.LayerNorm\.",
        "encoder.layers.$1.norm_1.",
    ),
    (
        r"encoder\.layer\.(\d+)\.intermediate\.dense\.",
        "encoder.layers.$1.pwff.linear_inner.",
    ),
    (
        r"encoder\.layer\.(\d+)\.output\.dense\.",
        "encoder.layers.$1.pwff.linear_outer.",
    ),
    (
        r"encoder\.layer\.(\d+)\.output\.LayerNorm\.",
        "encoder.layers.$1.norm_2.",
    ),
    (
        r"heads\.reconstruction\.transform\.LayerNorm\.",
        "heads.reconstruction.transform.layer_norm.",
    ),
];

fn level_field(level: HeadLevel) -> &'static str {
    match level {
        HeadLevel::Frame => "frame",
        HeadLevel::Sequence => "sequence",
    }
}

fn head_rules(config: &ModelConfig) -> Vec<(String, String)> {
    [HeadLevel::Frame, HeadLevel::Sequence]
        .into_iter()
        .flat_map(|level| {
            config
                .heads_at(level)
                .into_iter()
                .enumerate()
                .map(move |(i, head)| {
                    (
                        format!("heads.{}.{i}.", level_field(level)),
                        format!("heads.{}.", head.name),
                    )
                })
        })
        .collect()
}

/// Rules (regex, replacement) that turn burn paths into reference names, for saving.
pub fn to_reference(config: &ModelConfig) -> Vec<(String, String)> {
    let fixed = FIXED
        .iter()
        .map(|(from, to)| (format!("^{from}"), to.to_string()));
    // An index path `heads.frame.0.` becomes a name path `heads.attack.`, which has no index
    // segment, so no later head rule can match it again.
    let heads = head_rules(config)
        .into_iter()
        .map(|(burn, reference)| (format!("^{}", regex_escape(&burn)), reference));
    fixed.chain(heads).collect()
}

/// Rules (regex, replacement) that turn reference names into burn paths, for loading.
pub fn from_reference(config: &ModelConfig) -> Vec<(String, String)> {
    let fixed = FIXED_REVERSE
        .iter()
        .map(|(from, to)| (format!("^{from}"), to.to_string()));
    // Anchored on the parameter too: after one rule, `heads.frame.0.weight` has four segments
    // and cannot match another head's `heads.<name>.weight`.
    let heads = head_rules(config).into_iter().map(|(burn, reference)| {
        (
            format!("^{}(weight|bias)$", regex_escape(&reference)),
            format!("{burn}$1"),
        )
    });
    fixed.chain(heads).collect()
}

fn regex_escape(text: &str) -> String {
    text.replace('.', r"\.").replace('-', r"\-")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::config::{Architecture, HeadConfig, ModelSize};

    fn apply(rules: &[(String, String)], name: &str) -> String {
        rules.iter().fold(name.to_string(), |name, (from, to)| {
            regex::Regex::new(from)
                .unwrap()
                .replace_all(&name, to.as_str())
                .into_owned()
        })
    }

    #[test]
    fn every_name_round_trips() {
        let arch = Architecture::preset(ModelSize::Tiny).unwrap();
        let heads = vec![
            HeadConfig::frame("frame", 4),
            HeadConfig::frame("sequence-like", 2),
            HeadConfig::sequence("sequence", 3),
        ];
        let config = ModelConfig::new(&arch, 8, heads);
        let (to, from) = (to_reference(&config), from_reference(&config));
        for (burn, reference) in [
            ("embeddings.layer_norm.gamma", "embeddings.LayerNorm.gamma"),
            (
                "encoder.layers.1.mha.key.weight",
                "encoder.layer.1.attention.self.key.weight",
            ),
            (
                "encoder.layers.0.mha.output.bias",
                "encoder.layer.0.attention.output.dense.bias",
            ),
            (
                "encoder.layers.0.norm_1.beta",
                "encoder.layer.0.attention.output.LayerNorm.beta",
            ),
            (
                "encoder.layers.3.pwff.linear_inner.weight",
                "encoder.layer.3.intermediate.dense.weight",
            ),
            (
                "encoder.layers.3.pwff.linear_outer.weight",
                "encoder.layer.3.output.dense.weight",
            ),
            (
                "encoder.layers.0.norm_2.gamma",
                "encoder.layer.0.output.LayerNorm.gamma",
            ),
            ("heads.frame.0.weight", "heads.frame.weight"),
            ("heads.frame.1.bias", "heads.sequence-like.bias"),
            ("heads.sequence.0.weight", "heads.sequence.weight"),
            ("heads.pooler.weight", "heads.pooler.weight"),
            ("embeddings.cls_token", "embeddings.cls_token"),
        ] {
            assert_eq!(apply(&to, burn), reference, "saving {burn}");
            assert_eq!(apply(&from, reference), burn, "loading {reference}");
        }
    }
}
