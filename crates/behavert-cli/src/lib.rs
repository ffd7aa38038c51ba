//! The `behavert` command line as a library: the clap grammar, the commands, and the
//! generated CLI reference (so tests can check documented commands against the grammar).

pub mod cli;
pub mod commands;
pub mod reference;
