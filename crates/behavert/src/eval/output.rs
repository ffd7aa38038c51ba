//! Atomic file writing shared by the plots and `report.html`.

use std::path::Path;

use crate::error::Result;

/// Writes `bytes` to `path` through a temporary file in the same directory published under
/// `path` only if nothing has that name, so a reader never sees a half-written file, a failed
/// write leaves no debris (the temporary file is removed when dropped) and no file is ever
/// replaced.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    behavert_pose::atomic::write_with(path, |out| {
        out.write_all(bytes)
            .map_err(|e| behavert_pose::PoseError::io(path, e))
    })?;
    Ok(())
}
