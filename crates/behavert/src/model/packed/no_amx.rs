//! Off x86-64 there are no AMX tiles: nothing to detect.

/// Never constructed off x86-64.
#[derive(Clone, Copy, Debug)]
pub enum Amx {}

impl Amx {
    /// None: no tiles on this architecture.
    pub fn detect() -> Option<Self> {
        None
    }

    /// Unreachable: no `Amx` exists.
    pub const fn columns(self) -> usize {
        match self {}
    }

    /// Unreachable: no `Amx` exists.
    pub const fn rows(self) -> usize {
        match self {}
    }
}
