//! What the benchmarks share: the PyTorch reference's script run in a child process, peak
//! memory, medians.
#![allow(dead_code)]

use std::process::Command;

use behavert::model::Precision;

/// Threads for both sides: the laptop-CPU setting.
pub const THREADS: &str = "2";

/// One measurement: median time and peak resident memory of its process.
pub struct Measurement {
    pub median_ms: f64,
    pub peak_mb: f64,
}

/// One PyTorch case for `torch_bench.py`.
pub struct TorchCase<'a> {
    pub size: &'a str,
    pub batch: usize,
    pub frames: usize,
    pub mode: &'a str,
    pub features: usize,
    pub classes: usize,
    pub warmup: usize,
    pub iters: usize,
    /// `f32`, or `bf16` (inference under CPU autocast).
    pub precision: &'a str,
}

/// Runs the reference's benchmark script and reads its median; reports the peak RSS of the
/// Python process, which the script itself does not print. `None` without torch.
pub fn run_torch(case: &TorchCase) -> Option<Measurement> {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scripts/reference/torch_bench.py"
    );
    if !std::path::Path::new(script).is_file() {
        return None;
    }
    let python = std::env::var("BEHAVERT_BENCH_PYTHON").unwrap_or_else(|_| "python3".into());
    let TorchCase {
        size,
        batch,
        frames,
        mode,
        features,
        classes,
        warmup,
        iters,
        precision,
    } = case;
    let wrapper = format!(
        "import json, resource, runpy, sys, io, contextlib\n\
         sys.argv = ['torch_bench.py', '--size', '{size}', '--batch', '{batch}', '--frames', '{frames}', '--mode', '{mode}', \
         '--iters', '{iters}', '--warmup', '{warmup}', '--threads', '{THREADS}', '--classes', '{classes}', '--features', '{features}', '--precision', '{precision}']\n\
         out = io.StringIO()\n\
         with contextlib.redirect_stdout(out):\n    runpy.run_path({script:?}, run_name='__main__')\n\
         line = json.loads(out.getvalue().strip().splitlines()[-1])\n\
         print('RESULT', line['median_ms'], resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)\n",
    );
    let output = Command::new(python)
        .args(["-c", &wrapper])
        .env("RAYON_NUM_THREADS", THREADS)
        .output()
        .ok()?;
    let result = parse_result(&output.stdout);
    if result.is_none() {
        eprintln!(
            "PyTorch side skipped: {}",
            String::from_utf8_lossy(&output.stderr)
                .lines()
                .last()
                .unwrap_or("")
        );
    }
    result
}

/// The `RESULT <median_ms> <peak_mb>` line of a child's stdout.
pub fn parse_result(stdout: &[u8]) -> Option<Measurement> {
    let text = String::from_utf8_lossy(stdout);
    let line = text.lines().find_map(|l| l.strip_prefix("RESULT "))?;
    let mut numbers = line.split_whitespace().map(|n| n.parse::<f64>());
    Some(Measurement {
        median_ms: numbers.next()?.ok()?,
        peak_mb: numbers.next()?.ok()?,
    })
}

/// Peak resident set size of this process in MiB (Linux).
pub fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// The CPU's model name and what its products run on in f32 and bf16, for the results'
/// header: ratios differ between CPUs and between those paths.
pub fn cpu_model() -> String {
    let linux = || {
        let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
        info.lines()
            .find_map(|l| l.strip_prefix("model name")?.split_once(':'))
            .map(|(_, name)| name.trim().to_string())
    };
    // macOS (e.g. "Apple M2 Pro"), and ARM Linux, whose /proc/cpuinfo names no model.
    let command = |program: &str, args: &[&str], key: Option<&str>| {
        let output = Command::new(program).args(args).output().ok()?;
        let text = String::from_utf8(output.stdout).ok()?;
        let name = match key {
            Some(key) => text
                .lines()
                .find_map(|l| l.strip_prefix(key))?
                .trim()
                .to_string(),
            None => text.trim().to_string(),
        };
        (!name.is_empty()).then_some(name)
    };
    let name = linux()
        .or_else(|| command("sysctl", &["-n", "machdep.cpu.brand_string"], None))
        .or_else(|| command("lscpu", &[], Some("Model name:")))
        .unwrap_or_else(|| "unknown CPU".into());
    let products = |precision: Precision| precision.products().unwrap_or("none on this CPU");
    format!(
        "{name} (products: f32 on {}, bf16 on {})",
        products(Precision::F32),
        products(Precision::Bf16)
    )
}

/// Median of `times` (the upper one for an even count).
pub fn median(mut times: Vec<f64>) -> f64 {
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}
