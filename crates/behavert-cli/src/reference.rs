//! `docs/cli.md`: every subcommand's `--help`, generated from the clap definitions so the
//! reference cannot drift from the program (a test compares the file with this output).

use clap::CommandFactory;

use crate::cli::Cli;

/// The whole reference as Markdown.
pub fn markdown() -> String {
    let mut command = Cli::command();
    command.build();
    let mut out = String::from(
        "# Command-line reference\n\n\
         Generated from the program's own `--help` texts; do not edit by hand. After changing a\n\
         flag, regenerate it with\n\
         `BEHAVERT_UPDATE_DOCS=1 cargo test -p behavert-cli --test integration documented_commands`.\n\n",
    );
    out.push_str("## behavert\n\n```text\n");
    out.push_str(command.render_long_help().to_string().trim_end());
    out.push_str("\n```\n");
    for sub in command.get_subcommands_mut() {
        if sub.get_name() == "help" {
            continue;
        }
        out.push_str(&format!("\n## behavert {}\n\n```text\n", sub.get_name()));
        out.push_str(sub.render_long_help().to_string().trim_end());
        out.push_str("\n```\n");
    }
    out
}
