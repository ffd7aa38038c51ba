//! Where there are no kernels (not x86-64): nothing to detect.

use super::operand::{Operand, Operands};
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
    pub fn supports<E: Operand>(self) -> bool {
        match self {}
    }

    /// Unreachable: no `Kernel` exists.
    pub fn whole_columns<E: Operand>(self, _: usize) -> usize {
        match self {}
    }

    /// Unreachable: no `Kernel` exists.
    pub fn name<E: Operand>(self) -> &'static str {
        match self {}
    }

    /// Unreachable: no `Kernel` exists.
    pub fn to_operands<E: Operand>(self, _: &[f32], _: usize) -> Operands<E> {
        match self {}
    }

    /// Unreachable: no `Kernel` exists.
    pub fn pack_columns<'a, E: Operand>(
        self,
        _: usize,
        _: usize,
        _: impl Fn(usize) -> &'a [f32] + Sync,
        _: &[f32],
    ) -> Packed<E> {
        match self {}
    }

    /// Unreachable: no `Kernel` exists.
    pub fn to_transposed_pairs(self, _: &[f32], _: usize) -> (Operands<u32>, usize) {
        match self {}
    }

    /// Unreachable: no `Kernel` exists.
    pub fn rows_to_operands<'a, E: Operand>(
        self,
        _: impl ExactSizeIterator<Item = &'a [f32]>,
        _: usize,
    ) -> Operands<E> {
        match self {}
    }

    /// Unreachable: no `Kernel` exists.
    pub fn multiply<E: Operand>(
        self,
        _: &[E],
        _: &Packed<E>,
        _: &(dyn Fn(&mut [f32]) + Sync),
    ) -> Vec<f32> {
        match self {}
    }

    /// Unreachable: no `Kernel` exists.
    pub fn multiply_through<E: Operand>(
        self,
        _: &[f32],
        _: &Packed<E>,
        _: &(dyn Fn(&mut [f32]) + Sync),
        _: &Packed<E>,
    ) -> Vec<f32> {
        match self {}
    }

    /// Unreachable: no `Kernel` exists.
    pub fn multiply_rows<E: Operand>(
        self,
        _: &[E],
        _: &Packed<E>,
        _: &(dyn Fn(&mut [f32]) + Sync),
    ) -> Vec<f32> {
        match self {}
    }

    /// Unreachable: no `Kernel` exists.
    pub fn vectorised<R>(self, _: impl FnOnce() -> R) -> R {
        match self {}
    }
}
