//! One module per subcommand; `run` dispatches.

mod convert;
mod demo;
mod embed;
mod evaluate;
mod infer;
mod inputs;
mod inspect;
mod model_info;
mod train;

use crate::cli::{Cli, Command};

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let device = behavert::device::parse_device(&cli.device)?;
    match cli.command {
        Command::ModelInfo(args) => model_info::run(&args, &device),
        Command::Demo(args) => demo::run(&args, &device),
        Command::Inspect(args) => inspect::run(&args),
        Command::Pretrain(args) => train::run(&args, behavert::train::Mode::Pretrain, &device),
        Command::Finetune(args) => train::run(&args, behavert::train::Mode::Finetune, &device),
        Command::Evaluate(args) => evaluate::run(&args, &device),
        Command::Infer(args) => infer::run(&args, &device),
        Command::Embed(args) => embed::run(&args, &device),
        Command::Convert(args) => convert::run(&args),
    }
}
