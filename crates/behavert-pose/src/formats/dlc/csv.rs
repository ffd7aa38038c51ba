//! DeepLabCut CSV files (pandas `to_csv` of the MultiIndex table, docs/formats/deeplabcut.md): 3 header rows
//! (single animal) or 4 (`individuals`), 1 or 3 index columns, empty cell = NaN.
//!
//! Data lines are split by hand and parsed on all cores because prediction files are large
//! (an hour of two animals is ~140 MB); quoted lines fall back to the `csv` crate.

use std::io::Write;
use std::path::Path;

use super::{DlcColumn, Layout};
use crate::error::{PoseError, Result};
use crate::pose::Pose;

/// The header of a DeepLabCut-style CSV file.
#[derive(Clone, Debug)]
pub struct Header {
    /// Number of leading index columns (1: frame number or image path; 3: split image path).
    pub index_columns: usize,
    /// One entry per value column.
    pub columns: Vec<DlcColumn>,
    /// Number of header lines.
    pub lines: usize,
}

/// Read a DeepLabCut CSV file.
pub fn read(path: &Path) -> Result<Pose> {
    let mut pose = read_table(path)?.0;
    pose.software = Some("DeepLabCut".to_string());
    Ok(pose)
}

/// Read any DeepLabCut-style CSV file, returning its header too (Lightning Pose uses it).
pub(crate) fn read_table(path: &Path) -> Result<(Pose, Header)> {
    let bytes = crate::input_file::read_file(path)?;
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let (header, data_start) = parse_header(path, text)?;
    let layout = super::layout(path, &header.columns, |j| column_place(&header, j))?;
    let (values, rows) = parse_data(path, text, data_start, &header, &layout)?;
    let mut pose = super::to_pose(layout, &values, rows)?;
    pose.source = Some(path.to_path_buf());
    Ok((pose, header))
}

/// True when `start` (the first bytes of a file) looks like a DeepLabCut-style CSV header.
pub fn sniff(start: &[u8]) -> bool {
    let start = start.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(start);
    start.starts_with(b"scorer,") || start.starts_with(b"\"scorer\",")
}

const LEVELS: [&str; 4] = ["scorer", "individuals", "bodyparts", "coords"];

fn parse_header(path: &Path, text: &[u8]) -> Result<(Header, usize)> {
    if text.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(PoseError::format(
            path,
            "line 1",
            "a header row starting `scorer`",
            "an empty file",
        ));
    }
    let mut offset = 0;
    let mut rows: Vec<Vec<String>> = Vec::new();
    while rows.len() < 4 {
        let line_no = rows.len() + 1;
        let Some((line, next)) = next_line(text, offset) else {
            return Err(PoseError::format(
                path,
                format!("line {line_no}"),
                "the header rows scorer, [individuals,] bodyparts, coords",
                "the end of the file",
            ));
        };
        let cells = split_quoted(line);
        let first = cells.first().map(String::as_str).unwrap_or("");
        let allowed: &[&str] = match rows.len() {
            0 => &["scorer"],
            1 => &["individuals", "bodyparts"],
            2 if rows[1][0] == "individuals" => &["bodyparts"],
            _ => &["coords"],
        };
        if !allowed.contains(&first) {
            let found = if LEVELS.contains(&first) || rows.is_empty() {
                format!("`{}`", truncate(first))
            } else {
                format!("`{}` (too few header rows?)", truncate(first))
            };
            return Err(PoseError::format(
                path,
                format!("line {line_no}, column 1"),
                format!(
                    "header row {}",
                    allowed
                        .iter()
                        .map(|a| format!("`{a}`"))
                        .collect::<Vec<_>>()
                        .join(" or ")
                ),
                found,
            ));
        }
        if let Some(first_row) = rows.first()
            && cells.len() != first_row.len()
        {
            return Err(PoseError::format(
                path,
                format!("line {line_no}"),
                format!("{} cells, as in the scorer row", first_row.len()),
                format!("{} cells", cells.len()),
            ));
        }
        offset = next;
        let done = first == "coords";
        rows.push(cells);
        if done {
            break;
        }
    }
    let scorer_row = &rows[0];
    // Index columns have empty header cells (`scorer,,,name…` for a 3-column image index).
    let index_columns = 1 + scorer_row[1..].iter().take_while(|c| c.is_empty()).count();
    if index_columns >= scorer_row.len() {
        return Err(PoseError::format(
            path,
            "line 1",
            "a scorer name above every value column",
            "no value columns",
        ));
    }
    let multi = rows.len() == 4;
    let columns = (index_columns..scorer_row.len())
        .map(|j| DlcColumn {
            scorer: rows[0][j].clone(),
            individual: multi.then(|| rows[1][j].clone()),
            bodypart: rows[rows.len() - 2][j].clone(),
            coord: rows[rows.len() - 1][j].clone(),
        })
        .collect();
    Ok((
        Header {
            index_columns,
            columns,
            lines: rows.len(),
        },
        offset,
    ))
}

fn column_place(header: &Header, j: usize) -> String {
    let c = &header.columns[j];
    let who = match &c.individual {
        Some(i) => format!("{i}/{}", c.bodypart),
        None => c.bodypart.clone(),
    };
    format!(
        "column {} ({who}/{})",
        header.index_columns + j + 1,
        c.coord
    )
}

fn truncate(s: &str) -> String {
    if s.chars().count() > 40 {
        format!("{}…", s.chars().take(40).collect::<String>())
    } else {
        s.to_string()
    }
}

/// The line starting at `offset` (without `\r\n`) and where the next one starts.
fn next_line(text: &[u8], offset: usize) -> Option<(&[u8], usize)> {
    if offset >= text.len() {
        return None;
    }
    let rest = &text[offset..];
    let (line, next) = match memchr(b'\n', rest) {
        Some(i) => (&rest[..i], offset + i + 1),
        None => (rest, text.len()),
    };
    Some((line.strip_suffix(b"\r").unwrap_or(line), next))
}

fn memchr(needle: u8, haystack: &[u8]) -> Option<usize> {
    haystack.iter().position(|&b| b == needle)
}

fn split_quoted(line: &[u8]) -> Vec<String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(line);
    match reader.byte_records().next() {
        Some(Ok(record)) => record
            .iter()
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect(),
        _ => vec![String::from_utf8_lossy(line).into_owned()],
    }
}

/// A data-line failure, located by byte offset (turned into a line number only when reported).
struct BadCell {
    offset: usize,
    column: Option<usize>,
    expected: String,
    found: String,
}

fn parse_data(
    path: &Path,
    text: &[u8],
    start: usize,
    header: &Header,
    layout: &Layout,
) -> Result<(Vec<f32>, usize)> {
    let data = &text[start.min(text.len())..];
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    let chunks = split_at_lines(data, if data.len() > (1 << 20) { threads } else { 1 });
    let width = header.columns.len();
    let wanted: Vec<bool> = layout
        .slots
        .iter()
        .map(|s| *s != super::Slot::Skip)
        .collect();
    let results: Vec<std::result::Result<ParsedLines, BadCell>> = std::thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .iter()
            .map(|&(from, to)| {
                let wanted = &wanted;
                scope.spawn(move || {
                    parse_lines(
                        &data[from..to],
                        start + from,
                        header.index_columns,
                        width,
                        wanted,
                    )
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(BadCell {
                        offset: start,
                        column: None,
                        expected: "parsable lines".into(),
                        found: "a parser failure".into(),
                    })
                })
            })
            .collect()
    });
    let mut values = Vec::new();
    let mut index = Vec::new();
    for result in results {
        match result {
            Ok((v, i)) => {
                if values.is_empty() {
                    values = v;
                } else {
                    values.extend_from_slice(&v);
                }
                index.extend(i);
            }
            Err(bad) => {
                let line = 1 + text[..bad.offset.min(text.len())]
                    .iter()
                    .filter(|&&b| b == b'\n')
                    .count();
                let place = match bad.column {
                    Some(j) if j >= header.index_columns => {
                        format!(
                            "line {line}, {}",
                            column_place(header, j - header.index_columns)
                        )
                    }
                    Some(j) => format!("line {line}, column {} (index)", j + 1),
                    None => format!("line {line}"),
                };
                return Err(PoseError::format(path, place, bad.expected, bad.found));
            }
        }
    }
    if index.is_empty() {
        return Err(PoseError::format(
            path,
            format!("line {}", header.lines + 1),
            "at least one data row after the header",
            "the end of the file",
        ));
    }
    at_frame_numbers(path, header, values, &index)
}

/// Rows moved to the frame numbers of their index column, when every row has one (an image
/// path index, as in labelled-data files, keeps the rows in order): a file with rows left out
/// keeps its frames where they were, the missing ones NaN, instead of closing the gaps.
/// Returns the values and the number of frames.
fn at_frame_numbers(
    path: &Path,
    header: &Header,
    values: Vec<f32>,
    index: &[Option<usize>],
) -> Result<(Vec<f32>, usize)> {
    let rows = index.len();
    let Some(frames) = index.iter().copied().collect::<Option<Vec<usize>>>() else {
        return Ok((values, rows));
    };
    if let Some(row) = (1..rows).find(|&r| frames[r] <= frames[r - 1]) {
        return Err(PoseError::format(
            path,
            format!("data row {} (after the header), column 1 (index)", row + 1),
            format!("a frame number above {} (the row before)", frames[row - 1]),
            frames[row].to_string(),
        ));
    }
    let last = frames[rows - 1];
    if last + 1 == rows {
        return Ok((values, rows));
    }
    let width = header.columns.len();
    crate::formats::check_frames_left_out(path, "column 1 (index)", rows, last)?;
    crate::pose::check_size(path, "column 1 (index)", last + 1, 1, width)?;
    Ok((
        crate::formats::place_rows(&values, width, &frames),
        last + 1,
    ))
}

/// Split `data` into up to `parts` ranges that end at line ends.
fn split_at_lines(data: &[u8], parts: usize) -> Vec<(usize, usize)> {
    let mut ranges = Vec::new();
    let mut from = 0;
    for p in 1..parts.max(1) {
        let target = data.len() * p / parts;
        if target <= from {
            continue;
        }
        match memchr(b'\n', &data[target..]) {
            Some(i) => {
                ranges.push((from, target + i + 1));
                from = target + i + 1;
            }
            None => break,
        }
    }
    ranges.push((from, data.len()));
    ranges
}

/// Values of some lines, row-major, and each line's frame number (its index cell as a whole
/// number, when the file has one index column holding one).
type ParsedLines = (Vec<f32>, Vec<Option<usize>>);

fn parse_lines(
    data: &[u8],
    base: usize,
    index_columns: usize,
    width: usize,
    wanted: &[bool],
) -> std::result::Result<ParsedLines, BadCell> {
    let estimate = data.iter().filter(|&&b| b == b'\n').count() + 1;
    let mut values = Vec::with_capacity(estimate * width);
    let mut index = Vec::with_capacity(estimate);
    let mut offset = 0;
    let total = index_columns + width;
    while let Some((line, next)) = next_line(data, offset) {
        let line_start = base + offset;
        offset = next;
        if line.iter().all(|b| b.is_ascii_whitespace()) {
            continue; // pandas skips blank lines too
        }
        let mut frame = None;
        let mut push = |j: usize, cell: &[u8]| -> std::result::Result<(), BadCell> {
            if j < index_columns {
                if index_columns == 1 {
                    frame = std::str::from_utf8(cell.trim_ascii())
                        .ok()
                        .and_then(|c| c.parse().ok());
                }
                return Ok(());
            }
            let v = j - index_columns;
            if v >= width {
                return Ok(()); // counted and reported below
            }
            if !wanted[v] {
                values.push(f32::NAN);
                return Ok(());
            }
            values.push(parse_cell(cell).ok_or_else(|| BadCell {
                offset: line_start,
                column: Some(j),
                expected: "a number or an empty cell".into(),
                found: format!("`{}`", truncate(&String::from_utf8_lossy(cell))),
            })?);
            Ok(())
        };
        let cells = if line.contains(&b'"') {
            let fields = split_quoted(line);
            for (j, cell) in fields.iter().enumerate() {
                push(j, cell.as_bytes())?;
            }
            fields.len()
        } else {
            let mut n = 0;
            for cell in line.split(|&b| b == b',') {
                push(n, cell)?;
                n += 1;
            }
            n
        };
        if cells != total {
            return Err(BadCell {
                offset: line_start,
                column: None,
                expected: format!(
                    "{total} cells ({index_columns} index + {width} values, as in the header)"
                ),
                found: format!("{cells} cells"),
            });
        }
        index.push(frame);
    }
    Ok((values, index))
}

fn parse_cell(cell: &[u8]) -> Option<f32> {
    let cell = cell.trim_ascii();
    if cell.is_empty() {
        return Some(f32::NAN);
    }
    // Parse as f64 then round, exactly as numpy's `astype(float32)` of pandas' float64 column.
    fast_float2::parse::<f64, _>(cell).ok().map(|v| v as f32)
}

/// Write `pose` as a DeepLabCut CSV file: 3 header rows for one individual, 4 otherwise;
/// frame-number index; NaN as an empty cell.
pub fn write(pose: &Pose, path: &Path) -> Result<()> {
    let columns = super::columns_for(pose, &super::scorer_of(pose));
    crate::atomic::write_with(path, |out| {
        write_header(out, &columns).map_err(|e| PoseError::io(path, e))?;
        let mut row = Vec::new();
        let mut line = String::new();
        for frame in 0..pose.frames() {
            super::row_values(pose, frame, &mut row);
            line.clear();
            use std::fmt::Write as _;
            let _ = write!(line, "{frame}");
            for v in &row {
                line.push(',');
                if !v.is_nan() {
                    let _ = write!(line, "{v}");
                }
            }
            line.push('\n');
            out.write_all(line.as_bytes())
                .map_err(|e| PoseError::io(path, e))?;
        }
        Ok(())
    })
}

fn write_header(out: &mut dyn Write, columns: &[DlcColumn]) -> std::io::Result<()> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(out);
    let multi = columns.first().is_some_and(|c| c.individual.is_some());
    let mut row = |name: &str, get: &dyn Fn(&DlcColumn) -> String| {
        let mut record = vec![name.to_string()];
        record.extend(columns.iter().map(get));
        writer.write_record(&record)
    };
    row("scorer", &|c| c.scorer.clone())?;
    if multi {
        row("individuals", &|c| c.individual.clone().unwrap_or_default())?;
    }
    row("bodyparts", &|c| c.bodypart.clone())?;
    row("coords", &|c| c.coord.clone())?;
    writer.flush()
}

/// The header of the DeepLabCut-style CSV at `path`, reading only the file's start unless
/// the header rows are longer than that (thousands of keypoints and animals).
pub(crate) fn peek_header(path: &Path) -> Result<Header> {
    const START: usize = 1 << 20;
    let mut start = vec![0u8; START];
    let n = crate::hdf5::read_prefix(path, &mut start)?;
    start.truncate(n);
    let whole;
    let bytes = if n == START && !header_ends_within(&start) {
        whole = crate::input_file::read_file(path)?;
        &whole
    } else {
        &start
    };
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    Ok(parse_header(path, text)?.0)
}

/// Whether `start` holds four whole lines: every header row there can be.
fn header_ends_within(start: &[u8]) -> bool {
    start.iter().filter(|&&b| b == b'\n').count() >= LEVELS.len()
}
