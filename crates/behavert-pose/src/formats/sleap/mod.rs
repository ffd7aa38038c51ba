//! SLEAP files: analysis HDF5 exports and `.slp` labels/predictions.

pub mod analysis;
pub mod slp;
