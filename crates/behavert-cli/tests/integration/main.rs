//! The integration tests of the `behavert` command in one binary (one link instead of six):
//! each test runs the built command in a child process.

mod cli;
mod common;
mod dataset_cli;
mod demo_cli;
mod documented_commands;
mod infer_cli;
mod roles_cli;
mod train_cli;
