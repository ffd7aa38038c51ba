//! Every `behavert …` (and `cargo run … -- …`) command shown in README.md, docs/ and
//! experiments/ parses with the real command-line grammar, and docs/cli.md is the current
//! generated reference. (The commands themselves run in the demo, infer and train tests.)

use std::path::{Path, PathBuf};

use behavert_cli::cli::Cli;
use clap::Parser;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn markdown_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            markdown_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "md") {
            out.push(path);
        }
    }
}

/// `(file:line, command line)` of every line in a ```sh block.
fn shell_lines() -> Vec<(String, String)> {
    let mut files = vec![root().join("README.md")];
    markdown_files(&root().join("docs"), &mut files);
    markdown_files(&root().join("experiments"), &mut files);
    let mut lines = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let mut in_sh = false;
        for (n, line) in text.lines().enumerate() {
            let trimmed = line.trim();
            if trimmed.starts_with("```") {
                in_sh = !in_sh && (trimmed == "```sh" || trimmed == "```bash");
                continue;
            }
            if in_sh && !trimmed.is_empty() && !trimmed.starts_with('#') {
                let place = format!(
                    "{}:{}",
                    file.strip_prefix(root()).unwrap_or(&file).display(),
                    n + 1
                );
                lines.push((place, trimmed.to_string()));
            }
        }
    }
    lines
}

/// Words of a command line, honouring simple quotes.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '"' | '\'') => quote = Some(c),
            (None, c) if c.is_whitespace() => {
                if !word.is_empty() {
                    out.push(std::mem::take(&mut word));
                }
            }
            (None, c) => word.push(c),
        }
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

#[test]
fn documented_commands_parse() {
    let lines = shell_lines();
    let mut checked = 0;
    let mut failures = Vec::new();
    for (place, line) in &lines {
        let words = words(line);
        let args: Vec<String> = match words.first().map(String::as_str) {
            Some("behavert") => words.clone(),
            Some("cargo") if words.get(1).is_some_and(|w| w == "run") => {
                match words.iter().position(|w| w == "--") {
                    Some(i) if words.iter().any(|w| w == "behavert-cli") => {
                        std::iter::once("behavert".to_string())
                            .chain(words[i + 1..].iter().cloned())
                            .collect()
                    }
                    _ => continue,
                }
            }
            _ => continue,
        };
        checked += 1;
        let displays = |e: &clap::Error| {
            matches!(
                e.kind(),
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion
            )
        };
        if let Err(e) = Cli::try_parse_from(&args)
            && !displays(&e)
        {
            failures.push(format!("{place}: `{line}`\n{e}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(checked > 50, "only {checked} documented commands found");
}

#[test]
fn cli_reference_is_current() {
    let path = root().join("docs/cli.md");
    let generated = behavert_cli::reference::markdown();
    if std::env::var_os("BEHAVERT_UPDATE_DOCS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == generated,
        "docs/cli.md is out of date; run BEHAVERT_UPDATE_DOCS=1 cargo test -p behavert-cli --test integration documented_commands"
    );
}

/// The quickstart's commands on the demo's files run as written, from a fresh folder.
#[test]
fn quickstart_demo_commands_run() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[String]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_behavert"))
            .args(args)
            .current_dir(dir.path())
            .output()
            .expect("run behavert")
    };
    let demo = run(&["demo".into(), "--quick".into()]);
    assert!(
        demo.status.success(),
        "{}",
        String::from_utf8_lossy(&demo.stderr)
    );
    let mut ran = 0;
    for (place, line) in shell_lines() {
        if !place.starts_with("docs/quickstart.md") || !line.contains("demo-output/") {
            continue;
        }
        let words = words(&line);
        let out = run(&words[1..]);
        assert!(
            out.status.success(),
            "{place}: `{line}`\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        ran += 1;
    }
    assert!(
        ran >= 3,
        "only {ran} quickstart commands use the demo's files"
    );
}
