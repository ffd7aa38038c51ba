//! Times reading a one-hour, 30 fps, two-animal, 12-keypoint DeepLabCut CSV (108,000 frames).
//! Run: `cargo bench -p behavert-pose --bench read_dlc_csv`.

use std::time::Instant;

use behavert_pose::Pose;
use behavert_pose::formats::{self, Format};
use ndarray::{Array3, Array4};

fn main() {
    let (frames, animals, keypoints) = (108_000, 2, 12);
    // Values with the full float32 precision DeepLabCut writes (e.g. 402.7938232421875).
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 40) as f32 / (1u64 << 24) as f32
    };
    let positions = Array4::from_shape_fn((frames, animals, keypoints, 2), |_| next() * 800.0);
    let confidence = Array3::from_shape_fn((frames, animals, keypoints), |_| next());
    let pose = Pose::new(
        positions,
        (0..animals).map(|i| format!("mouse{i}")).collect(),
        (0..keypoints).map(|k| format!("bodypart{k}")).collect(),
    )
    .and_then(|p| p.with_confidence(confidence))
    .expect("valid pose");
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("hour.csv");
    formats::write(&pose, &path, Format::DlcCsv).expect("write");
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let _ = formats::read_one(&path, Some(Format::DlcCsv)); // warm the page cache
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        let start = Instant::now();
        let back = formats::read_one(&path, None).expect("read");
        best = best.min(start.elapsed().as_secs_f64());
        assert_eq!(back.positions.dim(), (frames, animals, keypoints, 2));
    }
    println!(
        "read_dlc_csv: {frames} frames x {animals} animals x {keypoints} keypoints ({:.1} MB): best of 5 = {:.3} s ({:.0} MB/s)",
        size as f64 / 1e6,
        best,
        size as f64 / 1e6 / best
    );
}
