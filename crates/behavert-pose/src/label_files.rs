//! Behaviour labels as CSV files beside pose files: `frame,label` (one behaviour name per
//! frame, empty = unlabelled) or a DeepEthogram-style one-hot table; and writing the former.

use std::path::Path;

use crate::datasets::deepethogram;
use crate::error::{PoseError, Result};
use crate::labels::{FrameLabels, Labels};
use crate::pose::MAX_FRAMES;

/// A labels file's frame number at `place`: a whole number below [`MAX_FRAMES`].
pub(crate) fn frame_number(path: &Path, place: String, cell: &str) -> Result<usize> {
    cell.parse::<usize>()
        .ok()
        .filter(|&f| f < MAX_FRAMES)
        .ok_or_else(|| {
            PoseError::format(
                path,
                place,
                format!("a frame number (0, 1, 2, …) below {MAX_FRAMES}"),
                format!("`{cell}`"),
            )
        })
}

/// Reads a labels CSV: a `label` column (with an optional `frame` column; unlisted frames are
/// unlabelled) or DeepEthogram's one-hot layout. One-hot rows with exactly one behaviour on
/// become single labels.
pub fn read_labels(path: &Path) -> Result<Labels> {
    let (mut reader, header) = crate::input_file::open_csv(path, "a labels CSV", true)?;
    let column = |name: &str| {
        header
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name))
    };
    let Some(label_column) = column("label") else {
        // A first row of numbers is data without its header, not a one-hot table.
        if header.iter().any(|c| c.trim().parse::<f64>().is_ok()) && header.len() <= 2 {
            return Err(PoseError::format(
                path,
                "line 1",
                "a header row `frame,label` (or DeepEthogram's one-hot columns)",
                format!(
                    "`{}`, a data row",
                    header.iter().collect::<Vec<_>>().join(",")
                ),
            ));
        }
        return deepethogram::read_labels(path, &[]).map(single_if_exclusive);
    };
    let frame_column = column("frame");
    let mut names: Vec<(Option<usize>, String)> = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let record = record.map_err(|e| {
            PoseError::format(path, format!("line {line}"), "a CSV row", e.to_string())
        })?;
        let cell = |c: usize| record.get(c).map(str::trim).unwrap_or("");
        let frame = match frame_column {
            Some(c) => Some(frame_number(
                path,
                format!("line {line}, column `frame`"),
                cell(c),
            )?),
            None => None,
        };
        names.push((frame, cell(label_column).to_string()));
    }
    let mut vocabulary: Vec<String> = names
        .iter()
        .filter(|(_, n)| !n.is_empty())
        .map(|(_, n)| n.clone())
        .collect();
    vocabulary.sort();
    vocabulary.dedup();
    let frames = names
        .iter()
        .enumerate()
        .map(|(i, (f, _))| f.unwrap_or(i) + 1)
        .max()
        .unwrap_or(0);
    let mut ids: Vec<Option<u32>> = vec![None; frames];
    let mut seen = vec![false; frames];
    for (i, (frame, name)) in names.iter().enumerate() {
        let frame = frame.unwrap_or(i);
        if std::mem::replace(&mut seen[frame], true) {
            return Err(PoseError::format(
                path,
                format!("line {}", i + 2),
                "each frame listed once",
                format!("frame {frame} again"),
            ));
        }
        if !name.is_empty() {
            ids[frame] = vocabulary.binary_search(name).ok().map(|c| c as u32);
        }
    }
    Labels::new(vocabulary, FrameLabels::Single(ids))
}

/// One-hot annotations where every labelled frame has exactly one behaviour on, as single
/// labels; anything else unchanged.
pub fn single_if_exclusive(labels: Labels) -> Labels {
    let FrameLabels::Multi(rows) = &labels.frames else {
        return labels;
    };
    let mut ids = Vec::with_capacity(rows.len());
    for row in rows {
        if row.iter().all(Option::is_none) {
            ids.push(None);
            continue;
        }
        let on: Vec<usize> = (0..row.len()).filter(|&c| row[c] == Some(true)).collect();
        if on.len() != 1 || row.iter().any(Option::is_none) {
            return labels;
        }
        ids.push(Some(on[0] as u32));
    }
    Labels {
        vocabulary: labels.vocabulary,
        frames: FrameLabels::Single(ids),
    }
}

/// Writes single labels as `frame,label` (empty = unlabelled), atomically.
pub fn write_labels(path: &Path, labels: &Labels) -> Result<()> {
    let FrameLabels::Single(ids) = &labels.frames else {
        return Err(PoseError::invalid(
            format!("labels for {}", path.display()),
            "one behaviour per frame",
            "multi-label annotations",
        ));
    };
    crate::atomic::write_with(path, |out| {
        let mut writer = csv::Writer::from_writer(out);
        let io = |e: csv::Error| PoseError::io(path, e.into());
        writer.write_record(["frame", "label"]).map_err(io)?;
        for (frame, id) in ids.iter().enumerate() {
            let name = id.map_or("", |c| labels.vocabulary[c as usize].as_str());
            writer
                .write_record([frame.to_string().as_str(), name])
                .map_err(io)?;
        }
        writer.flush().map_err(|e| PoseError::io(path, e))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &str) -> tempfile::TempPath {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), text).unwrap();
        file.into_temp_path()
    }

    #[test]
    fn frame_label_columns_with_gaps_and_unlabelled_cells() {
        let path = write("frame,label,annotator\n0,sniff,a\n1,,a\n3,attack,b\n");
        let labels = read_labels(&path).unwrap();
        assert_eq!(labels.vocabulary, ["attack", "sniff"]);
        assert_eq!(
            labels.frames,
            FrameLabels::Single(vec![Some(1), None, None, Some(0)])
        );
    }

    #[test]
    fn one_hot_rows_with_one_behaviour_become_single_labels() {
        let path = write(",background,groom\n0,1,0\n1,0,1\n2,-1,-1\n");
        let labels = read_labels(&path).unwrap();
        assert_eq!(
            labels.frames,
            FrameLabels::Single(vec![Some(0), Some(1), None])
        );
        let path = write(",background,groom\n0,1,1\n");
        assert!(matches!(
            read_labels(&path).unwrap().frames,
            FrameLabels::Multi(_)
        ));
    }

    #[test]
    fn round_trip_and_clear_errors() {
        let labels = Labels::new(
            vec!["a".into(), "b".into()],
            FrameLabels::Single(vec![Some(1), None, Some(0)]),
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("labels.csv");
        write_labels(&path, &labels).unwrap();
        assert_eq!(read_labels(&path).unwrap(), labels);
        let bad = write("frame,label\n0,a\nx,b\n");
        let message = read_labels(&bad).unwrap_err().to_string();
        assert!(
            message.contains("line 3") && message.contains("`x`"),
            "{message}"
        );
        for huge in ["18446744073709551615", "1000000000000"] {
            let path = write(&format!("frame,label\n0,a\n{huge},b\n"));
            let err = read_labels(&path).unwrap_err().to_string();
            assert!(err.contains("line 3") && err.contains(huge), "{err}");
        }
        let headless = write("0,attack\n1,attack\n");
        let err = read_labels(&headless).unwrap_err().to_string();
        assert!(
            err.contains("frame,label") && err.contains("`0,attack`"),
            "{err}"
        );
        let twice = write("frame,label\n0,a\n0,b\n");
        assert!(
            read_labels(&twice)
                .unwrap_err()
                .to_string()
                .contains("frame 0 again")
        );
    }
}
