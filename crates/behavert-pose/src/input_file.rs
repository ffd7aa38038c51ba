//! Users' input files are opened only when they are ordinary files: a FIFO, socket or device
//! would block a reader for ever or feed it endless bytes, and a directory is a mistyped path.

use std::path::Path;

use crate::error::{PoseError, Result};

/// Refuses what is not an ordinary file, naming what it is.
pub(crate) fn regular_file(path: &Path) -> Result<()> {
    let metadata = std::fs::metadata(path).map_err(|e| PoseError::io(path, e))?;
    if metadata.is_dir() {
        return Err(PoseError::format(path, "path", "a file", "a directory"));
    }
    if !metadata.is_file() {
        return Err(PoseError::format(
            path,
            "path",
            "a file on disk",
            "a pipe, socket or device (save the stream to a file first)",
        ));
    }
    Ok(())
}

/// The whole content of `path`, with errors naming it (only an ordinary file is read).
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>> {
    regular_file(path)?;
    std::fs::read(path).map_err(|e| PoseError::io(path, e))
}

/// Opens the CSV file `path` (an ordinary file holding `what`) and reads its header row;
/// `flexible` lets rows have other lengths than the header.
pub(crate) fn open_csv(
    path: &Path,
    what: &str,
    flexible: bool,
) -> Result<(csv::Reader<std::fs::File>, csv::StringRecord)> {
    regular_file(path)?;
    let mut reader = csv::ReaderBuilder::new()
        .flexible(flexible)
        .from_path(path)
        .map_err(|e| PoseError::format(path, "file", what, e.to_string()))?;
    let header = reader
        .headers()
        .map_err(|e| PoseError::format(path, "line 1", "a header row", e.to_string()))?
        .clone();
    Ok((reader, header))
}
