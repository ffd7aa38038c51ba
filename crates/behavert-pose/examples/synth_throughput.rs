//! Simulator throughput: frames per second for a few recording shapes (not a timed test).
//!
//! `cargo run -p behavert-pose --release --example synth_throughput [frames]`

use std::time::Instant;

use behavert_pose::Space;
use behavert_pose::synth::{SimulationConfig, Skeleton, simulate};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let frames: usize = match std::env::args().nth(1) {
        Some(arg) => arg.parse()?,
        None => 100_000,
    };
    println!(
        "{:<28} {:>10} {:>10} {:>14}",
        "recording", "frames", "seconds", "frames/s"
    );
    for (skeleton, space, individuals) in [
        (Skeleton::Calms21, Space::Xy, 2),
        (Skeleton::Calms21, Space::Xy, 3),
        (Skeleton::Mabe22, Space::Xy, 3),
        (Skeleton::Mabe22, Space::Xyz, 3),
    ] {
        let config = SimulationConfig {
            seed: 1,
            frames,
            individuals,
            skeleton,
            space,
            noise: if std::env::var_os("NO_NOISE").is_some() {
                behavert_pose::synth::NoiseConfig::none()
            } else {
                Default::default()
            },
            ..Default::default()
        };
        let start = Instant::now();
        let recording = simulate(&config)?;
        let seconds = start.elapsed().as_secs_f64();
        assert_eq!(recording.pose.frames(), frames);
        let name = format!("{skeleton:?} {space} x{individuals}");
        println!(
            "{name:<28} {frames:>10} {seconds:>10.3} {:>14.0}",
            frames as f64 / seconds
        );
    }
    Ok(())
}
