//! Off x86-64 there are no AMX tiles: nothing to detect, and their block sizes only for the
//! kernel's task sizes.

/// Rows of A per block (the kernel's tasks are whole blocks of rows).
pub const BLOCK_ROWS: usize = 32;

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
}
