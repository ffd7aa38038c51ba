//! Preprocessing throughput on a one-hour 30 fps recording (108,000 frames, 2 mice, 12
//! keypoints): seconds per stage for a few configs (not a timed test).
//!
//! `cargo run -p behavert-pose --release --example preprocess_throughput [frames]`

use std::time::Instant;

use behavert_pose::preprocess::{NormalisationStats, PoseLayout, PreprocessConfig, Preprocessor};
use behavert_pose::synth::{SimulationConfig, Skeleton, simulate};

const FULL: &str = r#"
max_gap = 10
body_axis = ["tail_base", "neck"]
[outliers]
min_confidence = 0.2
max_speed = 0.5
[align]
mode = "egocentric"
centre = ["center_back"]
heading_smoothing = 5
[derived]
velocities = true
distances = [["nose", "nose"], ["nose", "tail_base"]]
"#;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let frames: usize = match std::env::args().nth(1) {
        Some(arg) => arg.parse()?,
        None => 108_000,
    };
    let recording = simulate(&SimulationConfig {
        seed: 1,
        frames,
        individuals: 2,
        skeleton: Skeleton::Mabe22,
        ..Default::default()
    })?;
    let pose = &recording.pose;
    let layout = PoseLayout::of(pose);
    println!(
        "{frames} frames, {} individuals, {} keypoints",
        layout.individuals.len(),
        layout.keypoints.len()
    );
    println!(
        "{:<10} {:>9} {:>9} {:>9} {:>11} {:>9} {:>13}",
        "config", "features", "clean s", "feat. s", "standard. s", "total s", "frames/s"
    );
    let arena = "[align]\nmode = \"arena\"\n[derived]\nvelocities = true";
    for (name, text) in [("default", ""), ("arena", arena), ("full", FULL)] {
        let config: PreprocessConfig = toml::from_str(text)?;
        let processor = Preprocessor::new(&config, &layout)?;
        let start = Instant::now();
        let cleaned = processor.clean(pose)?;
        let cleaned_at = start.elapsed().as_secs_f64();
        let mut prepared = processor.featurise(&cleaned)?;
        let featurised_at = start.elapsed().as_secs_f64();
        let stats = NormalisationStats::fit([&prepared])?;
        stats.apply(&mut prepared)?;
        let total = start.elapsed().as_secs_f64();
        println!(
            "{name:<10} {:>9} {cleaned_at:>9.3} {:>9.3} {:>11.3} {total:>9.3} {:>13.0}",
            prepared.features.ncols(),
            featurised_at - cleaned_at,
            total - featurised_at,
            frames as f64 / total
        );
    }
    Ok(())
}
