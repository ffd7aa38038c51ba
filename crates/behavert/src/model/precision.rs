//! The arithmetic of the encoder's linear products: f32 (the default, equal to the reference)
//! or bf16, in inference and in training.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::Result;

/// How the encoder's linear layers compute.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// f32 throughout: equal to the PyTorch reference.
    #[default]
    #[serde(alias = "fp32")]
    F32,
    /// Activations and weights of the encoder's linear layers rounded to bf16, products
    /// accumulated in f32 (CPUs with AVX-512 BF16).
    Bf16,
}

impl Precision {
    /// Whether this machine computes in this precision; if not, why not.
    pub fn check(self) -> Result<()> {
        match self {
            Self::F32 => Ok(()),
            Self::Bf16 => super::packed::detect(self).map(|_| ()),
        }
    }

    /// What this CPU's products run on in this precision (e.g. `AVX-512 F`, `Accelerate
    /// (CBLAS)`), for logs and benchmarks; why not, where it cannot.
    pub fn products(self) -> Result<&'static str> {
        super::packed::detect(self).map(|kernel| super::packed::products(kernel, self))
    }
}

impl FromStr for Precision {
    type Err = String;

    fn from_str(name: &str) -> std::result::Result<Self, Self::Err> {
        match name {
            "f32" | "fp32" => Ok(Self::F32),
            "bf16" => Ok(Self::Bf16),
            _ => Err(format!("expected f32 or bf16, found {name:?}")),
        }
    }
}

impl fmt::Display for Precision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::F32 => "f32",
            Self::Bf16 => "bf16",
        })
    }
}
