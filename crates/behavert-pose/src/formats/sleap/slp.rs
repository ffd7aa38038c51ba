//! (in progress)

use std::path::Path;

use crate::error::{PoseError, Result};
use crate::hdf5::H5;
use crate::pose::Pose;

/// True when the file looks like this format.
pub fn sniff(_h5: &H5) -> bool {
    false
}

/// Read the file.
pub fn read(path: &Path) -> Result<Pose> {
    Err(PoseError::invalid(path.display().to_string(), "a supported format", "not yet"))
}

/// Write the file.
pub fn write(_pose: &Pose, path: &Path) -> Result<()> {
    Err(PoseError::invalid(path.display().to_string(), "a supported format", "not yet"))
}
/// all
pub fn read_all(path: &Path) -> Result<Vec<Pose>> { Ok(vec![read(path)?]) }
