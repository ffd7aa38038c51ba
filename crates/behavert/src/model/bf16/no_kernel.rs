//! Where there is no AVX-512 BF16 kernel (not x86-64): nothing to detect.

use super::packing::Packed;

/// Never constructed off x86-64.
#[derive(Clone, Copy, Debug)]
pub enum Kernel {}

impl Kernel {
    /// None: no kernel on this architecture.
    pub fn detect() -> Option<Self> {
        None
    }

    /// Unreachable: no `Kernel` exists.
    pub fn whole_columns(self, _: usize) -> usize {
        match self {}
    }

    /// Unreachable: no `Kernel` exists.
    pub fn name(self) -> &'static str {
        match self {}
    }

    /// Unreachable: no `Kernel` exists.
    pub fn to_pairs(self, _: &[f32], _: usize) -> Vec<u32> {
        match self {}
    }

    /// Unreachable: no `Kernel` exists.
    pub fn multiply(self, _: &[u32], _: &Packed, _: &(dyn Fn(&mut [f32]) + Sync)) -> Vec<f32> {
        match self {}
    }

    /// Unreachable: no `Kernel` exists.
    pub fn multiply_rows(self, _: &[u32], _: &Packed, _: &(dyn Fn(&mut [f32]) + Sync)) -> Vec<f32> {
        match self {}
    }

    /// Unreachable: no `Kernel` exists.
    pub fn vectorised<R>(self, _: impl FnOnce() -> R) -> R {
        match self {}
    }

    /// Unreachable: no `Kernel` exists.
    pub fn rows_to_pairs<'a>(self, _: impl Iterator<Item = &'a [f32]>, _: usize) -> Vec<u32> {
        match self {}
    }

    /// Unreachable: no `Kernel` exists.
    pub fn row_to_pairs(self, _: &[f32], _: &mut [u32]) {
        match self {}
    }
}
