//! `report.html`: one self-contained page (inline SVG plots, inline CSS, no scripts, no
//! external fonts or files) with the headline numbers, the per-class table, the plots and
//! how the run was made.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use behavert::eval::html::{ReportInputs, RunInfo, utc_now, write_report};
//! use behavert::eval::plots::{self, Ethogram, PlotInputs};
//! use behavert::eval::{MetricsReport, training_log::TrainingLog};
//!
//! let names: Vec<String> = ["attack", "other"].map(String::from).to_vec();
//! let (truth, pred) = (vec![Some(0), Some(1), Some(1)], vec![0, 1, 0]);
//! let metrics = MetricsReport::compute(&names, &truth, &pred, None)?;
//! let ethogram = Ethogram::truth_vs_prediction(names, 30.0, &truth, &pred)?;
//! let curves = TrainingLog::read("run/metrics.csv".as_ref())?;
//! let out = std::path::Path::new("out");
//! let run_info = RunInfo { model: "run".into(), date: utc_now(), ..RunInfo::default() };
//! let inputs = ReportInputs {
//!     metrics: &metrics,
//!     ethogram: Some(&ethogram),
//!     curves: Some(&curves),
//!     embeddings: None,
//!     title: "BehavERT evaluation",
//!     run_info: &run_info,
//! };
//! plots::write_all(out, &inputs.plot_inputs())?; // out/<plot>.png and .svg
//! write_report(&out.join("report.html"), &inputs)?;
//! # Ok(())
//! # }
//! ```

use std::fmt::Write as _;
use std::path::Path;

use super::output::write_atomic;
use super::plots::format::thousands;
use super::plots::{self, EmbeddingPlot, Ethogram, PlotInputs, palette};
use super::report::{MacroRow, MetricsReport};
use super::roles::{Mabe2025Score, RoleScores};
use super::training_log::TrainingLog;
use crate::error::Result;
use behavert_pose::role_labels::Role;

/// How the evaluated predictions were made, shown at the top and bottom of the report.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunInfo {
    /// Model checkpoint or name.
    pub model: String,
    /// Dataset and split evaluated.
    pub dataset: String,
    /// When the report was made (see [`utc_now`]).
    pub date: String,
    /// Command line that produced it.
    pub command: String,
    /// Further `(name, value)` lines (seed, task, IoU threshold…).
    pub extra: Vec<(String, String)>,
}

/// Everything `report.html` shows; the optional parts add their plot when present.
#[derive(Clone, Copy, Debug)]
pub struct ReportInputs<'a> {
    /// Frame- and bout-level metrics.
    pub metrics: &'a MetricsReport,
    /// Behaviour over time of one recording.
    pub ethogram: Option<&'a Ethogram>,
    /// The training log of the evaluated model.
    pub curves: Option<&'a TrainingLog>,
    /// Projected embeddings with their labels.
    pub embeddings: Option<&'a EmbeddingPlot>,
    /// Page title.
    pub title: &'a str,
    /// How the run was made.
    pub run_info: &'a RunInfo,
}

impl<'a> ReportInputs<'a> {
    /// The plot part of the inputs.
    pub fn plot_inputs(&self) -> PlotInputs<'a> {
        PlotInputs {
            metrics: self.metrics,
            ethogram: self.ethogram,
            curves: self.curves,
            embeddings: self.embeddings,
        }
    }
}

/// Writes the report to `path` atomically (only that file is created or replaced).
pub fn write_report(path: &Path, inputs: &ReportInputs) -> Result<()> {
    let html = render_report(inputs)?;
    write_atomic(path, html.as_bytes())
}

/// The report as an HTML string.
pub fn render_report(inputs: &ReportInputs) -> Result<String> {
    let m = inputs.metrics;
    let info = inputs.run_info;
    let mut page = page_head(inputs.title, info);
    page.push_str(&summary_cards(m));
    page.push_str(&class_table(m));
    let figures = plots::figures(&inputs.plot_inputs())?;
    if !figures.is_empty() {
        page.push_str("<section>\n<h2>Plots</h2>\n<nav class=\"toc\">");
        for f in &figures {
            let _ = write!(
                page,
                "<a href=\"#{}\">{}</a>",
                plots::Plot::name(f),
                escape(f.title())
            );
        }
        page.push_str("</nav>\n</section>\n");
    }
    for figure in &figures {
        let svg = plots::render_svg(figure)?;
        let _ = write!(
            page,
            "<section class=\"plot\" id=\"{id}\">\n<h2>{}</h2>\n<figure>\n{}\n\
             <figcaption>{}</figcaption>\n</figure>\n</section>\n",
            escape(figure.title()),
            strip_xml_declaration(&svg),
            escape(figure.caption()),
            id = plots::Plot::name(figure),
        );
    }
    page_end(
        &mut page,
        info,
        "metrics follow scikit-learn and the CalMS21 protocol (unlabelled frames ignored).",
    );
    Ok(page)
}

/// Everything the report of a model of who did what to whom shows.
#[derive(Clone, Copy, Debug)]
pub struct RoleReportInputs<'a> {
    /// Per behaviour over (frame, agent, target).
    pub pairs: &'a RoleScores,
    /// The same predictions per behaviour over frames, whoever did it.
    pub frames: &'a RoleScores,
    /// MABe 2025's score and each lab's.
    pub mabe2025: &'a Mabe2025Score,
    /// Each behaviour's role, by name.
    pub roles: &'a [(String, Role)],
    /// One recording, truth above prediction for every agent and target.
    pub ethogram: &'a Ethogram,
    /// How the run was made.
    pub run_info: &'a RunInfo,
}

/// Writes the report of a role model's evaluation (self-contained, like [`write_report`]).
pub fn write_role_report(path: &Path, inputs: &RoleReportInputs) -> Result<()> {
    let html = render_role_report(inputs)?;
    write_atomic(path, html.as_bytes())
}

/// The report of a role model's evaluation as an HTML string: the three headline scores,
/// per-behaviour scores with and without attribution, each lab's MABe 2025 score, the
/// ethogram with one row per agent and target, and the run.
pub fn render_role_report(inputs: &RoleReportInputs) -> Result<String> {
    let info = inputs.run_info;
    let mut page = page_head("BehavERT evaluation: who did what to whom", info);
    page.push_str(&cards(&[
        (
            "Per-pair macro F1",
            fmt3(Some(inputs.pairs.macro_f1)),
            "agent, target and behaviour right".to_string(),
        ),
        (
            "Frame-level macro F1",
            fmt3(Some(inputs.frames.macro_f1)),
            "the same predictions, whoever did it".to_string(),
        ),
        (
            "MABe 2025 F1",
            fmt3(Some(inputs.mabe2025.f1)),
            format!("mean over {} labs", inputs.mabe2025.labs.len()),
        ),
    ]));
    page.push_str(
        "<section>\n<h2>Per-behaviour metrics</h2>\n<table class=\"metrics\">\n<thead><tr>\
         <th class=\"l\">behaviour</th><th>role</th><th>frames</th><th>predicted</th>\
         <th>precision</th><th>recall</th><th>F1 per pair</th><th>F1 per frame</th></tr>\
         </thead>\n<tbody>\n",
    );
    for (pair, frame) in inputs
        .pairs
        .behaviours
        .iter()
        .zip(&inputs.frames.behaviours)
    {
        let role = inputs
            .roles
            .iter()
            .find(|(name, _)| *name == pair.behaviour)
            .map_or("", |(_, role)| match role {
                Role::Solo => "solo",
                Role::Directed => "directed",
            });
        let s = &pair.scores;
        let _ = writeln!(
            page,
            "<tr><td class=\"l\">{}</td><td>{role}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&pair.behaviour),
            thousands(s.support as u64),
            thousands(s.predicted as u64),
            fmt3(Some(s.precision)),
            fmt3(Some(s.recall)),
            fmt3(Some(s.f1)),
            fmt3(Some(frame.scores.f1)),
        );
    }
    page.push_str("</tbody>\n</table>\n</section>\n");
    page.push_str(
        "<section>\n<h2>MABe 2025 score per lab</h2>\n<table class=\"metrics\">\n\
         <thead><tr><th class=\"l\">lab</th><th>behaviours</th><th>mean F1</th></tr></thead>\n\
         <tbody>\n",
    );
    for (lab, scores) in &inputs.mabe2025.labs {
        let _ = writeln!(
            page,
            "<tr><td class=\"l\">{}</td><td>{}</td><td>{}</td></tr>",
            escape(lab),
            scores.behaviours.len(),
            fmt3(Some(scores.macro_f1))
        );
    }
    page.push_str("</tbody>\n</table>\n</section>\n");
    let svg = plots::render_svg(inputs.ethogram)?;
    let _ = write!(
        page,
        "<section class=\"plot\" id=\"ethogram\">\n<h2>Ethogram</h2>\n<figure>\n{}\n\
         <figcaption>One recording: for every agent and target (or agent alone), the annotated \
         behaviour above the predicted one.</figcaption>\n</figure>\n</section>\n",
        strip_xml_declaration(&svg)
    );
    page_end(
        &mut page,
        info,
        "a frame counts for a pair only with the right agent, target and behaviour; \
         MABe 2025 as the challenge scores it.",
    );
    Ok(page)
}

/// Current UTC time as `YYYY-MM-DD HH:MM UTC`, for [`RunInfo::date`].
pub fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rest) = ((secs / 86_400) as i64, secs % 86_400);
    // Civil-from-days (H. Hinnant), valid for every date after 1970.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rest / 3600,
        (rest % 3600) / 60
    )
}

fn subtitle(info: &RunInfo) -> String {
    [
        ("model", &info.model),
        ("dataset", &info.dataset),
        ("date", &info.date),
    ]
    .iter()
    .filter(|(_, v)| !v.is_empty())
    .map(|(k, v)| format!("<span>{k}: <b>{}</b></span>", escape(v)))
    .collect::<Vec<_>>()
    .join(" ")
}

fn summary_cards(m: &MetricsReport) -> String {
    let excl = m.macro_excluding_other.as_ref();
    let excl_note = excl
        .map(|r| format!("without {}", r.excluded.join(", ")))
        .unwrap_or_else(|| "no catch-all class".into());
    let map_row = excl.unwrap_or(&m.macro_all);
    cards(&[
        (
            "Macro F1",
            fmt3(Some(m.macro_all.f1)),
            format!("all {} classes", m.macro_all.classes),
        ),
        (
            "Macro F1 excl. other",
            fmt3(excl.map(|r| r.f1)),
            excl_note.clone(),
        ),
        (
            "Accuracy",
            fmt3(Some(m.accuracy)),
            format!("{} labelled frames", thousands(m.labelled_frames as u64)),
        ),
        (
            "mAP",
            fmt3(map_row.mean_average_precision),
            if map_row.mean_average_precision.is_some() {
                if excl.is_some() {
                    excl_note
                } else {
                    "all classes".into()
                }
            } else {
                "needs probabilities".into()
            },
        ),
    ])
}

/// The start of a report page up to its header: `title` and the run's subtitle.
fn page_head(title: &str, info: &RunInfo) -> String {
    let title = escape(title);
    let mut page = String::with_capacity(64 * 1024);
    // `write!` into a String cannot fail; the results are ignored on purpose in this file.
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n\
         <header>\n<h1>{title}</h1>\n<p class=\"sub\">{}</p>\n</header>\n",
        subtitle(info)
    );
    page
}

/// The headline numbers as cards: name, formatted value, note.
fn cards(cards: &[(&str, String, String)]) -> String {
    let mut out = String::from("<section class=\"cards\">\n");
    for (name, value, note) in cards {
        let _ = writeln!(
            out,
            "<div class=\"card\"><div class=\"label\">{}</div><div class=\"value\">{}</div>\
             <div class=\"note\">{}</div></div>",
            escape(name),
            value,
            escape(note)
        );
    }
    out.push_str("</section>\n");
    out
}

/// The end of a report page: the run's table and a footer saying how it was scored.
fn page_end(page: &mut String, info: &RunInfo, scoring: &str) {
    page.push_str(&run_table(info));
    let _ = write!(
        page,
        "<footer>Made by BehavERT {} · {}</footer>\n</main>\n</body>\n</html>\n",
        env!("CARGO_PKG_VERSION"),
        escape(scoring)
    );
}

fn class_table(m: &MetricsReport) -> String {
    let colours =
        palette::class_colours(&m.classes.iter().map(|c| c.name.clone()).collect::<Vec<_>>());
    let bouts = m.bouts.as_ref();
    let mut out =
        String::from("<section>\n<h2>Per-class metrics</h2>\n<table class=\"metrics\">\n<thead>");
    if let Some(b) = bouts {
        // Group the columns so frame and bout scores are not mistaken for each other.
        let _ = write!(
            out,
            "<tr class=\"group\"><th></th><th colspan=\"6\">frame level</th>\
             <th colspan=\"5\" class=\"b\">bout level (matched at IoU ≥ {})</th></tr>",
            b.iou_threshold
        );
    }
    out.push_str(
        "<tr><th class=\"l\">behaviour</th><th>support</th><th>predicted</th><th>precision</th>\
         <th>recall</th><th>F1</th><th>AP</th>",
    );
    if let Some(b) = bouts {
        let _ = write!(
            out,
            "<th class=\"b\">true bouts</th><th>bout precision</th><th>bout recall</th><th>bout F1</th>\
             <th title=\"mean |onset error| of matched bouts (IoU ≥ {})\">onset error (frames)</th>",
            b.iou_threshold
        );
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for (c, row) in m.classes.iter().enumerate() {
        let f1_bar = (row.f1.clamp(0.0, 1.0) * 100.0).round();
        let _ = write!(
            out,
            "<tr><td class=\"l\"><span class=\"sw\" style=\"background:{}\"></span>{}</td>\
             <td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td class=\"f1\"><span class=\"bar\" style=\"width:{f1_bar}%\"></span><span>{}</span></td><td>{}</td>",
            palette::hex(colours[c]),
            escape(&row.name),
            thousands(row.support as u64),
            thousands(row.predicted as u64),
            fmt3(Some(row.precision)),
            fmt3(Some(row.recall)),
            fmt3(Some(row.f1)),
            fmt3(row.average_precision),
        );
        if let Some(b) = bouts.and_then(|b| b.per_class.get(c)) {
            let _ = write!(
                out,
                "<td class=\"b\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>",
                thousands(b.true_bouts as u64),
                fmt3(Some(b.precision)),
                fmt3(Some(b.recall)),
                fmt3(Some(b.f1)),
                b.mean_abs_onset_error
                    .map_or_else(|| "—".to_string(), |e| format!("{e:.1}")),
            );
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n<tfoot>\n");
    let span = if bouts.is_some() { 5 } else { 0 };
    let mut macro_line = |label: String, r: &MacroRow| {
        let _ = writeln!(
            out,
            "<tr><td class=\"l\">{}</td><td></td><td></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>{}</tr>",
            escape(&label),
            fmt3(Some(r.precision)),
            fmt3(Some(r.recall)),
            fmt3(Some(r.f1)),
            fmt3(r.mean_average_precision),
            if span > 0 {
                format!("<td colspan=\"{span}\" class=\"b\"></td>")
            } else {
                String::new()
            }
        );
    };
    macro_line("macro average".into(), &m.macro_all);
    if let Some(r) = &m.macro_excluding_other {
        macro_line(
            format!("macro average without {}", r.excluded.join(", ")),
            r,
        );
    }
    out.push_str("</tfoot>\n</table>\n</section>\n");
    out
}

fn run_table(info: &RunInfo) -> String {
    let mut out = String::from("<section>\n<h2>Run</h2>\n<table class=\"run\">\n");
    let mut line = |k: &str, v: &str, code: bool| {
        if v.is_empty() {
            return;
        }
        let v = escape(v);
        let v = if code { format!("<code>{v}</code>") } else { v };
        let _ = writeln!(out, "<tr><th>{}</th><td>{v}</td></tr>", escape(k));
    };
    line("model", &info.model, false);
    line("dataset", &info.dataset, false);
    line("date", &info.date, false);
    line("command", &info.command, true);
    for (k, v) in &info.extra {
        line(k, v, false);
    }
    line("BehavERT version", env!("CARGO_PKG_VERSION"), false);
    out.push_str("</table>\n</section>\n");
    out
}

/// Three decimals, or an em dash for a value that was not computed.
fn fmt3(v: Option<f64>) -> String {
    v.map_or_else(|| "—".to_string(), |v| format!("{v:.3}"))
}

/// Text safe inside HTML elements and double-quoted attributes.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// An `<?xml …?>` line is not allowed inside HTML; inline SVG starts at `<svg`.
fn strip_xml_declaration(svg: &str) -> &str {
    svg.find("<svg").map_or(svg, |i| &svg[i..])
}

const CSS: &str = r#"
:root{--ink:#222;--muted:#666;--line:#e3e3e3;--accent:#08306b;--bg:#fafafa}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:15px/1.5 -apple-system,"Segoe UI",Helvetica,Arial,sans-serif}
main{max-width:1480px;margin:0 auto;padding:28px 32px 40px}
header{border-bottom:2px solid var(--accent);margin-bottom:20px;padding-bottom:10px}
h1{font-size:26px;margin:0 0 4px;font-weight:600}
h2{font-size:19px;margin:28px 0 10px;font-weight:600}
.sub{color:var(--muted);margin:0}.sub span{margin-right:18px}.sub b{color:var(--ink);font-weight:600}
.cards{display:grid;grid-template-columns:repeat(4,1fr);gap:14px}
.card{background:#fff;border:1px solid var(--line);border-radius:6px;padding:14px 16px}
.card .label{color:var(--muted);font-size:14px;font-weight:600}
.card .value{font-size:32px;font-weight:600;font-variant-numeric:tabular-nums;color:var(--accent)}
.card .note{color:var(--muted);font-size:13px}
table{border-collapse:collapse;background:#fff;border:1px solid var(--line)}
table.metrics{width:100%}
th,td{padding:6px 12px;border-bottom:1px solid var(--line);text-align:right;font-variant-numeric:tabular-nums}
thead th{background:#f1f4f8;font-weight:600;font-size:13px}
tr.group th{text-align:center;color:var(--muted);font-weight:normal;border-bottom:none;padding-bottom:0}
th.l,td.l{text-align:left}
th.b,td.b{border-left:1px solid var(--line)}
tfoot td{font-weight:600;background:#f7f7f7}
.sw{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:8px;vertical-align:-1px}
td.f1{position:relative;min-width:90px}
td.f1 .bar{position:absolute;left:0;top:4px;bottom:4px;background:#c6dbef;z-index:0}
td.f1 span:last-child{position:relative;z-index:1;font-weight:600}
.toc a{margin-right:16px;color:var(--accent)}
.plot figure{margin:0;background:#fff;border:1px solid var(--line);border-radius:6px;padding:12px}
.plot svg{display:block;max-width:100%;height:auto;margin:0 auto}
figcaption{color:var(--muted);font-size:13px;margin-top:6px}
table.run th{text-align:left;color:var(--muted);font-weight:normal;width:180px}
table.run td{text-align:left}
code{font:13px/1.4 ui-monospace,Menlo,Consolas,monospace;background:#f3f3f3;padding:2px 5px;border-radius:3px;white-space:pre-wrap;word-break:break-all}
footer{margin-top:32px;color:var(--muted);font-size:12px;border-top:1px solid var(--line);padding-top:10px}
@media (max-width:900px){.cards{grid-template-columns:repeat(2,1fr)}}
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_formats_missing_values() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        assert_eq!(fmt3(None), "—");
        assert_eq!(fmt3(Some(0.12345)), "0.123");
        assert_eq!(
            strip_xml_declaration("<?xml version=\"1.0\"?>\n<svg/>"),
            "<svg/>"
        );
        let now = utc_now();
        assert!(
            now.len() == 20 && now.ends_with(" UTC") && now.starts_with("20"),
            "{now}"
        );
    }
}
