//! `behavert`: learn animal behaviour from pose tracks. A thin clap layer over the
//! `behavert-pose` and `behavert` libraries.

use behavert_cli::{cli, commands};
use clap::Parser;
use std::io::IsTerminal;

fn main() -> std::process::ExitCode {
    // Rust ignores SIGPIPE, so printing into a closed pipe would panic; a command-line tool
    // should just stop, as `head` expects.
    #[cfg(unix)]
    // SAFETY: called first thing, before any thread exists; SIG_DFL is a valid action.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = cli::Cli::parse();
    init_logging(&cli.log_level);
    match commands::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("behavert: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Structured logs on stderr; `--log-level` (or `RUST_LOG`) chooses how much. Colours only on
/// a terminal: a job's log file or a notebook cell would show their escape codes as text.
fn init_logging(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .init();
}
