//! The BehavERT network (docs/architecture.md#the-model-contract): embeddings, a post-LN BERT
//! encoder and output heads, and the mapping of its parameters to the PyTorch reference's
//! tensor names (checkpoints themselves are [`crate::checkpoint`]).

pub mod config;
mod dropout;
pub mod embeddings;
mod encoder;
mod fast_math;
mod gelu;
pub mod heads;
mod init;
pub mod network;
mod packed;
mod precision;
pub(crate) mod tensor_names;

pub use config::{
    Activation, Architecture, HeadConfig, HeadKind, HeadLevel, ModelConfig, ModelSize,
};
pub use network::{BehavErt, ModelInput, ModelOutput};
pub use precision::Precision;
