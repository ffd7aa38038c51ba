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
