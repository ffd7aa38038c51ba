//! Atomic output: write next to the target, then publish it under the user's chosen name in
//! one step that fails if that name exists. A crash never leaves half a file, and of two runs
//! writing one path exactly one succeeds; the other gets a clear error and replaces nothing.

use std::io::Write;
use std::path::Path;

use crate::error::{PoseError, Result};

/// Write `path` through `fill`, which gets a buffered writer on a temporary file in the same
/// directory; the temporary file becomes `path` only once `fill` succeeded, and never replaces
/// an existing file.
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
    publish(temp, path)
}

/// Write `path` through `fill`, which gets the path of a temporary file in the same directory
/// to create (for writers that open files by name, like HDF5).
pub fn write_by_name(path: &Path, fill: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let temp = temp_beside(path)?;
    fill(temp.path())?;
    publish(temp, path)
}

/// Gives `temp` the name `path` unless something already has it (`renameat2` with
/// `RENAME_NOREPLACE`, or link and unlink): the check and the rename are one step.
pub fn publish(temp: tempfile::NamedTempFile, path: &Path) -> Result<()> {
    match temp.persist_noclobber(path) {
        Ok(_) => Ok(()),
        Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => Err(PoseError::format(
            path,
            "output",
            "a new file (behavert never overwrites files)",
            "a file of that name, perhaps written by another run meanwhile",
        )),
        Err(e) => Err(PoseError::io(path, e.error)),
    }
}

/// A temporary file beside `path` (same directory, so the final rename is atomic), named
/// `.<name>.*.tmp`, with the mode of an ordinary new file: outputs are meant to be shared, and
/// tempfile's private 0600 would survive the rename.
pub fn temp_beside(path: &Path) -> Result<tempfile::NamedTempFile> {
    let (dir, prefix) = beside(path);
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

/// A temporary folder beside `path`, named like [`temp_beside`]'s files, readable like an
/// ordinary new folder (tempfile's are private, 0700); removed when dropped unless kept.
pub fn temp_dir_beside(path: &Path) -> Result<tempfile::TempDir> {
    let (dir, prefix) = beside(path);
    let temp = tempfile::Builder::new()
        .prefix(&prefix)
        .suffix(".tmp")
        .tempdir_in(dir)
        .map_err(|e| PoseError::io(path, e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(temp.path(), std::fs::Permissions::from_mode(0o755))
            .map_err(|e| PoseError::io(temp.path(), e))?;
    }
    Ok(temp)
}

/// The folder `path` is in (`.` for a bare name) and the `.<name>.` prefix of its temporaries.
fn beside(path: &Path) -> (&Path, String) {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    (dir, format!(".{name}."))
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Barrier};

    use super::*;

    #[test]
    fn of_two_writers_racing_to_one_path_exactly_one_succeeds() {
        let dir = tempfile::tempdir().unwrap();
        for round in 0..20 {
            let path = dir.path().join(format!("out{round}.csv"));
            let start = Arc::new(Barrier::new(2));
            let writers: Vec<_> = [b'a', b'b']
                .into_iter()
                .map(|byte| {
                    let (path, start) = (path.clone(), Arc::clone(&start));
                    std::thread::spawn(move || {
                        write_with(&path, |out| {
                            start.wait();
                            out.write_all(&[byte; 4096])
                                .map_err(|e| PoseError::io(&path, e))
                        })
                    })
                })
                .collect();
            let results: Vec<Result<()>> = writers.into_iter().map(|w| w.join().unwrap()).collect();
            assert_eq!(
                results.iter().filter(|r| r.is_ok()).count(),
                1,
                "{results:?}"
            );
            let err = results.iter().find_map(|r| r.as_ref().err()).unwrap();
            assert!(err.to_string().contains("never overwrites"), "{err}");
            // The winner's bytes, whole.
            let written = std::fs::read(&path).unwrap();
            assert!(written.len() == 4096 && written.iter().all(|&b| b == written[0]));
        }
        // Nothing else is left behind: no temporary files.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 20);
    }
}
