//! Training-step time, inference frames/s and peak memory of BehavERT on the CPU (Flex),
//! side by side with the PyTorch reference (`scripts/reference/torch_bench.py`) in one run.
//!
//! `cargo bench -p behavert --bench model_speed [-- SIZE:BATCHxFRAMES ...]`
//! Default cases: small and base at 16×256 and 4×256; training and inference in f32 and in
//! bf16 (mixed precision; PyTorch under CPU autocast; skipped where the CPU has no AVX-512
//! BF16), and the case's largest matrix product alone (the feed-forward layer's, f32): the
//! ceiling that the matrix-product library of each side reaches on this CPU. Each measurement
//! runs in its own process so its peak resident memory is its own. Set `BEHAVERT_BENCH_PYTHON`
//! to choose the Python interpreter (default `python3`); without torch installed, only Rust is
//! measured.

mod common;

use std::process::Command;
use std::time::Instant;

use behavert::model::{Architecture, BehavErt, HeadConfig, ModelConfig, ModelInput, Precision};
use behavert::train::adamw::AdamW;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{Bool, Device, Distribution, Int, Tensor, TensorData};
use common::{
    Measurement, THREADS, TorchCase, cpu_model, median, parse_result, peak_rss_mb, run_torch,
};

const FEATURES: usize = 28;
const CLASSES: usize = 4;
const WARMUP: usize = 2;
const ITERS: usize = 5;

/// One benchmark case.
#[derive(Clone, Copy)]
struct Case<'a> {
    size: &'a str,
    batch: usize,
    frames: usize,
}

impl<'a> Case<'a> {
    /// The architecture of `size`, with positions for this case's frames.
    fn architecture(&self) -> Architecture {
        let mut architecture =
            Architecture::preset(self.size.parse().expect("model size")).expect("model size");
        architecture.max_position_embeddings = self.frames + 1;
        architecture
    }

    /// The matrix product of a `matmul` row: every position of the batch (CLS included) through
    /// the feed-forward layer's inner map, `[tokens, hidden] × [hidden, intermediate]`.
    fn matmul_shape(&self) -> [usize; 3] {
        let architecture = self.architecture();
        [
            self.batch * (self.frames + 1),
            architecture.hidden_size,
            architecture.intermediate_size,
        ]
    }

    /// Billions of floating-point operations (a multiply-add counts two) in the matrix products
    /// of one `mode` step: the encoder's linear maps and attention's two products per layer;
    /// the embedding and the heads are left out (under 0.1% here).
    fn gflop(&self, mode: &str) -> f64 {
        if mode == "matmul" {
            let [m, k, n] = self.matmul_shape();
            return 2.0 * (m * k * n) as f64 / 1e9;
        }
        let architecture = self.architecture();
        let (width, inner) = (
            architecture.hidden_size as f64,
            architecture.intermediate_size as f64,
        );
        let positions = (self.frames + 1) as f64;
        let tokens = self.batch as f64 * positions;
        let linear = 2.0 * tokens * (4.0 * width * width + 2.0 * width * inner);
        let attention = 2.0 * 2.0 * tokens * positions * width;
        let forward = architecture.num_hidden_layers as f64 * (linear + attention) / 1e9;
        if mode == "train" {
            3.0 * forward
        } else {
            forward
        }
    }

    fn parse(text: &'a str) -> Option<Self> {
        let (size, shape) = text.split_once(':')?;
        let (batch, frames) = shape.split_once('x')?;
        Some(Self {
            size,
            batch: batch.parse().ok()?,
            frames: frames.parse().ok()?,
        })
    }
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    if args.first().map(String::as_str) == Some("--child") {
        let case = Case::parse(&args[1]).expect("child case");
        let precision = args[3].parse().expect("precision");
        let median_ms = match args[2].as_str() {
            "matmul" => measure_matmul(case),
            mode => measure_rust(case, mode, precision),
        };
        println!("RESULT {median_ms} {}", peak_rss_mb());
        return;
    }
    let cases: Vec<String> = if args.is_empty() {
        ["small:16x256", "small:4x256", "base:16x256", "base:4x256"]
            .map(String::from)
            .to_vec()
    } else {
        args
    };
    println!(
        "BehavERT (burn 0.22.1, Flex CPU) vs PyTorch reference on {}; {THREADS} threads, median of {ITERS} steps after {WARMUP} warm-up",
        cpu_model()
    );
    println!(
        "{:<14} {:<12} {:>11} {:>11} {:>7} {:>12} {:>12} {:>9} {:>9} {:>9} {:>9} {:>6}",
        "case",
        "mode",
        "rust ms",
        "torch ms",
        "ratio",
        "rust fr/s",
        "torch fr/s",
        "rust GF/s",
        "torch GF/s",
        "rust MB",
        "torch MB",
        "mem×"
    );
    for text in &cases {
        let case = Case::parse(text)
            .unwrap_or_else(|| panic!("case {text:?}: expected SIZE:BATCHxFRAMES"));
        let modes = [
            ("train", "f32"),
            ("train", "bf16"),
            ("infer", "f32"),
            ("infer", "bf16"),
            ("matmul", "f32"),
        ];
        for (mode, precision) in modes {
            let Some(rust) = run_child(text, mode, precision) else {
                println!("{text:<14} {mode}-{precision}: skipped, no AVX-512 BF16 on this CPU");
                continue;
            };
            let torch = run_torch(&TorchCase {
                size: case.size,
                batch: case.batch,
                frames: case.frames,
                mode,
                features: FEATURES,
                classes: CLASSES,
                warmup: WARMUP,
                iters: ITERS,
                precision,
            });
            let frames = (case.batch * case.frames) as f64;
            let gflop = case.gflop(mode);
            let (torch_ms, torch_fps, torch_gflops, torch_mb, ratio, mem_ratio) = match &torch {
                Some(t) => (
                    format!("{:.1}", t.median_ms),
                    format!("{:.0}", frames / t.median_ms * 1e3),
                    format!("{:.1}", gflop / t.median_ms * 1e3),
                    format!("{:.0}", t.peak_mb),
                    format!("{:.2}x", rust.median_ms / t.median_ms),
                    format!("{:.2}x", rust.peak_mb / t.peak_mb),
                ),
                None => Default::default(),
            };
            println!(
                "{:<14} {:<12} {:>11.1} {:>11} {:>7} {:>12.0} {:>12} {:>9.1} {:>9} {:>9.0} {:>9} {:>6}",
                text,
                format!("{mode} {precision}"),
                rust.median_ms,
                torch_ms,
                ratio,
                frames / rust.median_ms * 1e3,
                torch_fps,
                gflop / rust.median_ms * 1e3,
                torch_gflops,
                rust.peak_mb,
                torch_mb,
                mem_ratio
            );
        }
    }
    println!(
        "ratio = Rust time / PyTorch time (below 1 is faster); mem× = Rust peak RSS / PyTorch peak RSS;\n\
         GF/s = billions of floating-point operations per second (a multiply-add counts two) in the\n\
         encoder's matrix products (a training step counts three passes: forward, and the two\n\
         products of each backward), or in the one product of a matmul row (whose frames/s means\n\
         nothing)"
    );
}

/// The Rust measurement in its own process; `None` where this CPU cannot run `precision`.
fn run_child(case: &str, mode: &str, precision: &str) -> Option<Measurement> {
    if precision.parse::<Precision>().ok()?.check().is_err() {
        return None;
    }
    let exe = std::env::current_exe().expect("bench executable");
    let output = Command::new(exe)
        .args(["--child", case, mode, precision])
        .env("RAYON_NUM_THREADS", THREADS)
        .output()
        .expect("run the Rust measurement");
    let measurement = parse_result(&output.stdout).unwrap_or_else(|| {
        panic!(
            "Rust measurement failed: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    Some(measurement)
}

/// Same work as the PyTorch script: forward, frame cross-entropy + masked-frame MSE, backward,
/// AdamW (train); or an eval-mode forward of every head (infer) in `precision`.
fn measure_rust(case: Case, mode: &str, precision: Precision) -> f64 {
    let architecture = case.architecture();
    let heads = vec![
        HeadConfig::frame("frame", CLASSES),
        HeadConfig::sequence("sequence", 2),
    ];
    let config = ModelConfig::new(&architecture, FEATURES, heads);
    let (b, t) = (case.batch, case.frames);
    let base = Device::flex();
    base.seed(0);
    let device = if mode == "train" {
        base.autodiff()
    } else {
        base
    };
    let keypoints = Tensor::<3>::random([b, t, FEATURES], Distribution::Normal(0.0, 1.0), &device);
    let masked_flags: Vec<bool> = (0..b * t).map(|i| (i * 7919) % 100 < 15).collect();
    let masked_count = masked_flags.iter().filter(|m| **m).count() as f64;
    let masked = Tensor::<2, Bool>::from_data(TensorData::new(masked_flags, [b, t]), &device);
    let labels = Tensor::<1, Int>::from_data(
        TensorData::new(
            (0..b * t).map(|i| (i % CLASSES) as i64).collect::<Vec<_>>(),
            [b * t],
        ),
        &device,
    );
    let input = ModelInput {
        masked: Some(masked.clone()),
        ..ModelInput::unpadded(keypoints.clone())
    };
    let mut model = BehavErt::new(&config, &device).expect("model");
    match mode {
        "train" => model.set_training_precision(precision),
        _ => model.set_precision(precision),
    }
    .expect("precision");
    let mut times = Vec::new();
    if mode == "train" {
        // The trainer's AdamW (ours, one pass per parameter), as PyTorch's script uses its own.
        let mut optimizer = ModuleOptimizer::from(AdamW::new(0.9, 0.999, 1e-5, 0.01));
        let cross_entropy = CrossEntropyLossConfig::new().init(&device);
        let mask = masked.float().unsqueeze_dim::<3>(2);
        for i in 0..WARMUP + ITERS {
            let start = Instant::now();
            let hidden = model.encode(&input).expect("encode");
            let logits = model.frame_logits(0, &hidden).reshape([b * t, CLASSES]);
            let ce = cross_entropy.forward(logits, labels.clone());
            let error = model.reconstruct(&hidden) - keypoints.clone();
            let mse =
                (error.clone() * error * mask.clone()).sum() / (masked_count * FEATURES as f64);
            let loss = ce + mse;
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optimizer.step(1e-4, model, grads);
            device.sync().expect("sync");
            if i >= WARMUP {
                times.push(start.elapsed().as_secs_f64() * 1e3);
            }
        }
    } else {
        for i in 0..WARMUP + ITERS {
            let start = Instant::now();
            let output = model.forward(&input).expect("forward");
            let _: f32 = output.frame_logits[0].clone().sum().into_scalar();
            if i >= WARMUP {
                times.push(start.elapsed().as_secs_f64() * 1e3);
            }
        }
    }
    median(times)
}

/// The case's feed-forward matrix product alone, on burn's f32 kernels (the `gemm` crate).
fn measure_matmul(case: Case) -> f64 {
    let [m, k, n] = case.matmul_shape();
    let device = Device::flex();
    device.seed(0);
    let tokens = Tensor::<2>::random([m, k], Distribution::Normal(0.0, 1.0), &device);
    let weight = Tensor::<2>::random([k, n], Distribution::Normal(0.0, 1.0), &device);
    let times = (0..WARMUP + ITERS)
        .map(|_| {
            let start = Instant::now();
            let product = tokens.clone().matmul(weight.clone());
            device.sync().expect("sync");
            drop(product);
            start.elapsed().as_secs_f64() * 1e3
        })
        .skip(WARMUP)
        .collect();
    median(times)
}
