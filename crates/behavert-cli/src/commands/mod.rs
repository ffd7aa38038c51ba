//! One module per subcommand; `run` dispatches.

mod convert;
mod inspect;
mod model_info;

use anyhow::bail;

use crate::cli::{Cli, Command};

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let device = behavert::device::parse_device(&cli.device)?;
    match cli.command {
        Command::ModelInfo(args) => model_info::run(&args, &device),
        Command::Demo(_) => not_yet("demo", 7),
        Command::Inspect(args) => inspect::run(&args),
        Command::Pretrain(_) => not_yet("pretrain", 5),
        Command::Finetune(_) => not_yet("finetune", 5),
        Command::Evaluate(_) => not_yet("evaluate", 6),
        Command::Infer(_) => not_yet("infer", 6),
        Command::Embed(_) => not_yet("embed", 6),
        Command::Convert(args) => convert::run(&args),
    }
}

fn not_yet(command: &str, issue: u32) -> anyhow::Result<()> {
    bail!("`behavert {command}` is not implemented yet (planned in issue {issue})")
}
