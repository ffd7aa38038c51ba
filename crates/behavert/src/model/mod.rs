//! The BehavERT network (docs/architecture.md#the-model-contract): embeddings, a post-LN BERT encoder, output heads, and
//! checkpoints that load and save with the PyTorch reference's tensor names.

pub mod checkpoint;
pub mod config;
pub mod embeddings;
pub mod heads;
mod init;
pub mod network;
mod tensor_names;

pub use checkpoint::{load_checkpoint, save_checkpoint};
pub use config::{Architecture, HeadConfig, HeadKind, HeadLevel, ModelConfig};
pub use network::{BehavErt, ModelInput, ModelOutput};
