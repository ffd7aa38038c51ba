//! Every training config under `experiments/` parses as a [`TrainingConfig`] and passes its
//! data-independent validation, and every recipe folder has its README.md.

use std::path::{Path, PathBuf};

use behavert::train::TrainingConfig;
use behavert::train::config::DataSource;

/// The recipe folders the docs link to, relative to `experiments/`.
const RECIPES: [&str; 12] = [
    "calms21",
    "calms21/task1",
    "calms21/task2",
    "calms21/task3",
    "mabe22",
    "sbea",
    "deepethogram",
    "pair-r24m",
    "rat-social",
    "transfer/calms21-to-sbea",
    "transfer/mabe22-to-pair-r24m",
    "multi-dataset",
];

fn experiments() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments")
}

/// Every file under `dir`, depth first, sorted.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            walk(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn toml_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    walk(&experiments(), &mut files);
    files.retain(|p| p.extension().is_some_and(|e| e == "toml"));
    files
}

#[test]
fn every_experiment_config_parses_and_validates() {
    let files = toml_files();
    assert!(
        !files.is_empty(),
        "no *.toml under {}",
        experiments().display()
    );
    let mut failures = Vec::new();
    for path in &files {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut config = match TrainingConfig::from_toml(&text, &name) {
            Ok(config) => config,
            Err(e) => {
                failures.push(format!("{name}: {e}"));
                continue;
            }
        };
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        let fine_tuning = stem.starts_with("finetune") || !config.heads.is_empty();
        // A recipe for the user's own files gets them from `--input` and `--labels`.
        if config.data.inputs.is_empty() && config.data.source == DataSource::Files {
            config.data.inputs = vec![PathBuf::from("pose.csv")];
            if fine_tuning {
                config.data.labels = vec![PathBuf::from("labels.csv")];
            }
        }
        if let Err(e) = config.validate(fine_tuning) {
            failures.push(format!("{name}: {e}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_recipe_folder_has_a_readme() {
    let root = experiments();
    let mut folders: Vec<PathBuf> = RECIPES.iter().map(|r| root.join(r)).collect();
    // A folder holding a config is a recipe too, listed or not.
    folders.extend(
        toml_files()
            .iter()
            .filter_map(|p| p.parent().map(Path::to_path_buf)),
    );
    folders.sort();
    folders.dedup();
    let missing: Vec<String> = folders
        .iter()
        .filter(|dir| !dir.join("README.md").is_file())
        .map(|dir| dir.display().to_string())
        .collect();
    assert!(
        missing.is_empty(),
        "recipe folders without README.md:\n{}",
        missing.join("\n")
    );
    assert!(
        root.join("README.md").is_file(),
        "experiments/README.md is missing"
    );
}
