//! `cargo run --example convert -- IN OUT FORMAT`: read any pose file, write it as FORMAT
//! (used by `scripts/pose_fixtures.py` to check that Python tools read our writers' files).

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, input, output, format] = &args[..] else {
        eprintln!("usage: convert IN OUT FORMAT");
        std::process::exit(2);
    };
    let result = format.parse().and_then(|format| {
        let pose = behavert_pose::formats::read_one(input.as_ref(), None)?;
        behavert_pose::formats::write(&pose, output.as_ref(), format)
    });
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
