//! Plots and `report.html` from synthetic evaluation data: valid PNG and SVG files, a
//! self-contained page with the report's numbers, and no file written that was not asked for.
//!
//! `BEHAVERT_REPORT_OUT=DIR cargo test -p behavert --test integration report_plots` also leaves the plots
//! and `report.html` in DIR, to look at them (see `scripts/check_report_in_chromium.sh`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use behavert::eval::MetricsReport;
use behavert::eval::html::{ReportInputs, RunInfo, render_report, write_report};
use behavert::eval::plots::format::thousands;
use behavert::eval::plots::{
    self, ClassScoresPlot, ConfusionMatrixPlot, EmbeddingPlot, Ethogram, Plot, PlotInputs,
    TrainingCurvesPlot,
};
use behavert::eval::report::RecordingScores;
use behavert::eval::training_log::TrainingLog;
use ndarray::Array2;

const FPS: f64 = 30.0;

/// Small deterministic generator (no RNG crate needed for fixtures).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn vocabulary() -> Vec<String> {
    ["attack", "investigation", "mount", "other"]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

/// Synthetic recording: truth bouts, a noisy prediction, probabilities and embeddings.
struct Fixture {
    truth: Vec<Option<u32>>,
    pred: Vec<u32>,
    probs: Array2<f64>,
    embeddings: Array2<f32>,
}

fn fixture(frames: usize) -> Fixture {
    let mut rng = Lcg(7);
    let mut truth = Vec::with_capacity(frames);
    while truth.len() < frames {
        let label = match rng.next() {
            r if r < 0.45 => 3,
            r if r < 0.7 => 1,
            r if r < 0.85 => 0,
            r if r < 0.95 => 2,
            _ => u32::MAX, // an unlabelled stretch
        };
        let len = 10 + (rng.next() * 150.0) as usize;
        for _ in 0..len.min(frames - truth.len()) {
            truth.push((label != u32::MAX).then_some(label));
        }
    }
    let mut pred = Vec::with_capacity(frames);
    let mut wrong = 0usize;
    let mut wrong_label = 0u32;
    for t in &truth {
        if wrong == 0 && rng.next() < 0.004 {
            wrong = 5 + (rng.next() * 40.0) as usize;
            wrong_label = (rng.next() * 4.0) as u32;
        }
        let p = if wrong > 0 {
            wrong -= 1;
            wrong_label
        } else {
            t.unwrap_or(3)
        };
        pred.push(p);
    }
    let mut probs = Array2::<f64>::zeros((frames, 4));
    for (f, &p) in pred.iter().enumerate() {
        let confidence = 0.55 + 0.4 * rng.next();
        for c in 0..4 {
            probs[[f, c]] = if c as u32 == p {
                confidence
            } else {
                (1.0 - confidence) / 3.0
            };
        }
    }
    let dim = 12;
    let mut embeddings = Array2::<f32>::zeros((frames, dim));
    for (f, t) in truth.iter().enumerate() {
        let class = t.unwrap_or(3) as usize;
        for d in 0..dim {
            let centre = if d % 4 == class { 3.0 } else { 0.0 };
            embeddings[[f, d]] = (centre + (rng.next() - 0.5) * 2.5) as f32;
        }
    }
    Fixture {
        truth,
        pred,
        probs,
        embeddings,
    }
}

fn metrics(fx: &Fixture) -> MetricsReport {
    MetricsReport::evaluate_recordings(
        &vocabulary(),
        &[RecordingScores {
            truth: &fx.truth,
            pred: &fx.pred,
            probs: Some(fx.probs.view()),
        }],
        0.5,
    )
    .expect("metrics")
}

fn training_log() -> TrainingLog {
    let mut text = String::from("step,split,loss,f1,accuracy\n");
    for step in (0..=3000).step_by(50) {
        let s = step as f64;
        text.push_str(&format!(
            "{step},train,{:.4},,\n",
            1.4 * (-s / 900.0).exp() + 0.25
        ));
        if step % 500 == 0 {
            text.push_str(&format!(
                "{step},val,{:.4},{:.4},{:.4}\n",
                1.3 * (-s / 1000.0).exp() + 0.4,
                0.75 - 0.55 * (-s / 800.0).exp(),
                0.9 - 0.4 * (-s / 700.0).exp()
            ));
        }
    }
    TrainingLog::from_reader(text.as_bytes(), "metrics.csv").expect("log")
}

fn ethogram(fx: &Fixture) -> Ethogram {
    Ethogram::truth_vs_prediction(vocabulary(), FPS, &fx.truth, &fx.pred).expect("ethogram")
}

fn embedding_plot(fx: &Fixture) -> EmbeddingPlot {
    EmbeddingPlot::from_embeddings(vocabulary(), fx.embeddings.view(), &fx.truth, 3000)
        .expect("embedding plot")
}

fn run_info() -> RunInfo {
    RunInfo {
        model: "runs/demo/finetune <best>".into(),
        dataset: "simulated mice (test split)".into(),
        date: "2025-01-01 12:00 UTC".into(),
        command: "behavert evaluate --model runs/demo --dataset sim --output-dir out".into(),
        extra: vec![("seed".into(), "7".into())],
    }
}

/// Leaves copies for a person to look at when `BEHAVERT_REPORT_OUT` is set.
fn keep(dir: &Path, subdir: &str) {
    if let Some(out) = std::env::var_os("BEHAVERT_REPORT_OUT") {
        let out = PathBuf::from(out).join(subdir);
        std::fs::create_dir_all(&out).unwrap();
        for entry in std::fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), out.join(entry.file_name())).unwrap();
        }
    }
}

fn files_in(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

/// Decodes the PNG fully; returns its size and whether it has more than one colour.
fn check_png(path: &Path) -> ((u32, u32), bool) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().expect("PNG header");
    let mut buf = vec![0; reader.output_buffer_size().expect("buffer size")];
    let info = reader.next_frame(&mut buf).expect("PNG data");
    let pixels = &buf[..info.buffer_size()];
    let varied = pixels.chunks(3).any(|p| p != &pixels[..3]);
    ((info.width, info.height), varied)
}

/// Parses the SVG; returns its declared size and all its text.
fn check_svg(path: &Path) -> ((u32, u32), String) {
    let text = std::fs::read_to_string(path).unwrap();
    let doc = roxmltree::Document::parse(&text).expect("SVG is well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    let attr = |n: &str| {
        root.attribute(n)
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap()
    };
    let texts: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text())
        .map(str::trim)
        .collect();
    ((attr("width"), attr("height")), texts.join("|"))
}

fn check_plot(plot: &impl Plot, expect_text: &[&str], subdir: &str) {
    let dir = tempfile::tempdir().unwrap();
    let written = plots::write_plot(plot, dir.path()).expect("write plot");
    assert_eq!(written.len(), 2);
    let (png_size, varied) = check_png(&written[0]);
    assert_eq!(png_size, plot.size(), "{}", plot.name());
    assert!(varied, "{} PNG is one colour", plot.name());
    let (svg_size, texts) = check_svg(&written[1]);
    assert_eq!(svg_size, plot.size());
    for t in expect_text {
        assert!(
            texts.contains(t),
            "{}: no text {t:?} in {texts}",
            plot.name()
        );
    }
    assert_eq!(
        files_in(dir.path()),
        [
            format!("{}.png", plot.name()),
            format!("{}.svg", plot.name())
        ]
        .into(),
        "only the two plot files remain"
    );
    keep(dir.path(), subdir);
}

#[test]
fn ethogram_of_100k_frames_draws_bounded_rectangles() {
    let fx = fixture(100_000);
    let plot = ethogram(&fx);
    check_plot(
        &plot,
        &["truth", "prediction", "attack", "other", "time (s)"],
        "ethogram_of_100k_frames_draws_bounded_rectangles",
    );
    let svg = plots::render_svg(&plot).unwrap();
    let rects = svg.matches("<rect").count();
    assert!(rects < 3_000, "{rects} rectangles for 100k frames");
}

#[test]
fn confusion_matrix_and_class_scores_plots() {
    let fx = fixture(20_000);
    let m = metrics(&fx);
    let confusion = ConfusionMatrixPlot::from_report(&m).unwrap();
    let total: u64 = m.confusion_matrix[0].iter().sum();
    check_plot(
        &confusion,
        &[
            "attack",
            "mount",
            "predicted behaviour",
            &thousands(m.confusion_matrix[0][0]),
        ],
        "confusion_matrix_and_class_scores_plots",
    );
    assert!(total > 0);
    check_plot(
        &ClassScoresPlot::from_report(&m).unwrap(),
        &["investigation", "precision", "recall", "F1"],
        "confusion_matrix_and_class_scores_plots",
    );
}

#[test]
fn training_curves_and_embeddings_plots() {
    check_plot(
        &TrainingCurvesPlot {
            log: training_log(),
        },
        &["loss", "f1", "accuracy", "train", "val", "step"],
        "training_curves_and_embeddings_plots",
    );
    let fx = fixture(12_000);
    let plot = embedding_plot(&fx);
    assert_eq!(plot.points.len(), 3000);
    check_plot(
        &plot,
        &["PC1", "PC2", "mount", "unlabelled"],
        "training_curves_and_embeddings_plots",
    );
}

#[test]
fn many_classes_with_long_names_still_lay_out() {
    let names: Vec<String> = (0..14)
        .map(|i| match i {
            0 => "other".to_string(),
            i if i % 3 == 0 => format!("approach and sniff anogenital {i}"),
            i => format!("behaviour {i}"),
        })
        .collect();
    let frames = 6_000;
    let truth: Vec<Option<u32>> = (0..frames).map(|f| Some(((f / 97) % 14) as u32)).collect();
    let pred: Vec<u32> = (0..frames).map(|f| ((f / 89) % 14) as u32).collect();
    let m = MetricsReport::compute(&names, &truth, &pred, None).unwrap();
    let confusion = ConfusionMatrixPlot::from_report(&m).unwrap();
    check_plot(
        &confusion,
        &["approach and sniff anogenital 3", "behaviour 13"],
        "many_classes_with_long_names_still_lay_out",
    );
    let (w, h) = confusion.size();
    assert!(w < 2000 && h < 2000, "{w}x{h}");
    check_plot(
        &ClassScoresPlot::from_report(&m).unwrap(),
        &["approach and sniff anogenital 12"],
        "many_classes_with_long_names_still_lay_out",
    );
    let eth = Ethogram::truth_vs_prediction(names, 25.0, &truth, &pred).unwrap();
    check_plot(
        &eth,
        &["behaviour 13"],
        "many_classes_with_long_names_still_lay_out",
    );
}

#[test]
fn write_all_writes_only_the_plot_files() {
    let fx = fixture(5_000);
    let m = metrics(&fx);
    let (eth, log, emb) = (ethogram(&fx), training_log(), embedding_plot(&fx));
    let dir = tempfile::tempdir().unwrap();
    let bystander = dir.path().join("notes.txt");
    std::fs::write(&bystander, "keep me").unwrap();
    let inputs = PlotInputs {
        metrics: &m,
        ethogram: Some(&eth),
        curves: Some(&log),
        embeddings: Some(&emb),
    };
    let written = plots::write_all(dir.path(), &inputs).unwrap();
    let stems = [
        "ethogram",
        "confusion_matrix",
        "per_class_scores",
        "training_curves",
        "embeddings_pca",
    ];
    let mut expected: BTreeSet<String> = stems
        .iter()
        .flat_map(|s| [format!("{s}.png"), format!("{s}.svg")])
        .collect();
    let names: BTreeSet<String> = written
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, expected);
    expected.insert("notes.txt".into());
    assert_eq!(
        files_in(dir.path()),
        expected,
        "no temp files or extras left"
    );
    assert_eq!(std::fs::read_to_string(&bystander).unwrap(), "keep me");

    // Without the optional inputs only the metrics plots are written.
    let dir2 = tempfile::tempdir().unwrap();
    let only = PlotInputs {
        metrics: &m,
        ethogram: None,
        curves: None,
        embeddings: None,
    };
    assert_eq!(plots::write_all(dir2.path(), &only).unwrap().len(), 4);
}

#[test]
fn report_html_is_self_contained_with_numbers_and_every_plot() {
    let fx = fixture(100_000);
    let m = metrics(&fx);
    let (eth, log, emb) = (ethogram(&fx), training_log(), embedding_plot(&fx));
    let info = run_info();
    let inputs = ReportInputs {
        metrics: &m,
        ethogram: Some(&eth),
        curves: Some(&log),
        embeddings: Some(&emb),
        title: "BehavERT evaluation — simulated mice",
        run_info: &info,
    };
    let dir = tempfile::tempdir().unwrap();
    let bystander = dir.path().join("metrics.json");
    std::fs::write(&bystander, "{}").unwrap();
    let path = dir.path().join("report.html");
    write_report(&path, &inputs).unwrap();
    assert_eq!(
        files_in(dir.path()),
        ["metrics.json".to_string(), "report.html".to_string()].into()
    );
    assert_eq!(std::fs::read_to_string(&bystander).unwrap(), "{}");
    let html = std::fs::read_to_string(&path).unwrap();
    assert_eq!(html, render_report(&inputs).unwrap());

    // Self-contained: nothing fetched from the network or from other files.
    let lower = html.to_ascii_lowercase();
    for forbidden in [
        "http://", "https://", "src=", "<script", "<link", "@import", "url(",
    ] {
        // The SVG namespace is an identifier, never fetched; allow exactly that.
        let hits = lower.matches(forbidden).count()
            - if forbidden == "http://" {
                lower
                    .matches("xmlns=\"http://www.w3.org/2000/svg\"")
                    .count()
            } else {
                0
            };
        assert_eq!(hits, 0, "report contains {forbidden}");
    }

    // The report's numbers.
    let f3 = |v: f64| format!("{v:.3}");
    assert!(html.contains(&f3(m.macro_all.f1)));
    let excl = m.macro_excluding_other.as_ref().unwrap();
    assert!(html.contains(&f3(excl.f1)));
    assert!(html.contains(&f3(m.accuracy)));
    assert!(html.contains(&f3(excl.mean_average_precision.unwrap())));
    for row in &m.classes {
        assert!(
            html.contains(&format!(">{}</td>", row.name)),
            "{}",
            row.name
        );
        for v in [row.precision, row.recall, row.f1] {
            assert!(html.contains(&f3(v)), "{} {v}", row.name);
        }
        assert!(html.contains(&format!("<td>{}</td>", thousands(row.support as u64))));
    }

    // Every plot is embedded inline, once.
    for id in [
        "ethogram",
        "confusion_matrix",
        "per_class_scores",
        "training_curves",
        "embeddings_pca",
    ] {
        assert_eq!(html.matches(&format!("id=\"{id}\"")).count(), 1, "{id}");
    }
    assert_eq!(html.matches("<svg").count(), 5);
    assert_eq!(html.matches("</svg>").count(), 5);
    assert!(!html.contains("<?xml"));

    // Run info is shown and escaped.
    assert!(html.contains("runs/demo/finetune &lt;best&gt;"));
    assert!(html.contains("behavert evaluate --model runs/demo"));
    keep(dir.path(), "report");
}

#[test]
fn names_with_markup_are_escaped_in_plots_and_page() {
    let names = vec!["a<b & \"c\"".to_string(), "</svg><script>".to_string()];
    let truth = vec![Some(0), Some(1), Some(1), Some(0)];
    let pred = vec![0, 1, 0, 0];
    let m = MetricsReport::compute(&names, &truth, &pred, None).unwrap();
    let eth = Ethogram::truth_vs_prediction(names, 10.0, &truth, &pred).unwrap();
    let info = RunInfo {
        command: "behavert evaluate --title '<b>'".into(),
        ..RunInfo::default()
    };
    let html = render_report(&ReportInputs {
        metrics: &m,
        ethogram: Some(&eth),
        curves: None,
        embeddings: None,
        title: "<i>title</i>",
        run_info: &info,
    })
    .unwrap();
    assert!(!html.contains("<script"));
    assert!(!html.contains("<b>'"));
    assert!(!html.contains("<i>title"));
    assert!(html.contains("a&lt;b &amp; &quot;c&quot;"));
    // One opening and one closing tag per plot: the class name did not close an SVG early.
    assert_eq!(html.matches("<svg").count(), 3);
    assert_eq!(html.matches("</svg>").count(), 3);
    // mAP is shown as not computed without probabilities.
    assert!(html.contains("needs probabilities"));
}
