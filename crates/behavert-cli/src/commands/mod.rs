//! One module per subcommand; `run` dispatches.

mod convert;
mod embed;
mod infer;
mod inputs;
mod inspect;
mod model_info;
mod train;

use anyhow::bail;

use crate::cli::{Cli, Command};

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let device = behavert::device::parse_device(&cli.device)?;
    match cli.command {
        Command::ModelInfo(args) => model_info::run(&args, &device),
        Command::Demo(_) => not_yet("demo", 7),
        Command::Inspect(args) => inspect::run(&args),
        Command::Pretrain(args) => train::run(&args, behavert::train::Mode::Pretrain, &device),
        Command::Finetune(args) => train::run(&args, behavert::train::Mode::Finetune, &device),
        Command::Evaluate(_) => not_yet("evaluate", 6),
        Command::Infer(args) => infer::run(&args, &device),
        Command::Embed(args) => embed::run(&args, &device),
        Command::Convert(args) => convert::run(&args),
    }
}

fn not_yet(command: &str, issue: u32) -> anyhow::Result<()> {
    bail!("`behavert {command}` is not implemented yet (planned in issue {issue})")
}
