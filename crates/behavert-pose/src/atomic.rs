//! Atomic output: write next to the target, then rename, so a crash never leaves half a file
//! under the user's chosen name (DESIGN.md §6).

use std::io::Write;
use std::path::Path;

use crate::error::{PoseError, Result};

/// Write `path` through `fill`, which gets a buffered writer on a temporary file in the same
/// directory; the temporary file replaces `path` only once `fill` succeeded.
pub fn write_with(path: &Path, fill: impl FnOnce(&mut dyn Write) -> Result<()>) -> Result<()> {
    let mut temp = temp_beside(path)?;
    {
        let mut out = std::io::BufWriter::new(temp.as_file_mut());
        fill(&mut out)?;
        out.flush().map_err(|e| PoseError::io(path, e))?;
    }
    temp.as_file()
        .sync_all()
        .map_err(|e| PoseError::io(path, e))?;
    temp.persist(path)
        .map_err(|e| PoseError::io(path, e.error))?;
    Ok(())
}

/// Write `path` through `fill`, which gets the path of a temporary file in the same directory
/// to create (for writers that open files by name, like HDF5).
pub fn write_by_name(path: &Path, fill: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let temp = temp_beside(path)?;
    fill(temp.path())?;
    temp.persist(path)
        .map_err(|e| PoseError::io(path, e.error))?;
    Ok(())
}

/// A temporary file beside `path` (same directory, so the final rename is atomic), named
/// `.<name>.*.tmp`, with the mode of an ordinary new file: outputs are meant to be shared, and
/// tempfile's private 0600 would survive the rename.
pub fn temp_beside(path: &Path) -> Result<tempfile::NamedTempFile> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let stem = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let prefix = format!(".{stem}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // umask still applies.
        builder.permissions(std::fs::Permissions::from_mode(0o644));
    }
    builder.tempfile_in(dir).map_err(|e| PoseError::io(path, e))
}
