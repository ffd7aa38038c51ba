//! The process's allocator. Tensors are megabytes each and live for one operation: glibc hands
//! every freed one above its mmap threshold back to the kernel, which zeroes fresh pages for
//! the next (a fifth of an inference pass went there). mimalloc keeps them, once told not to
//! give freed memory back after its 10 ms default.

#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Keeps freed memory in the process for reuse (peak memory is unchanged: it is memory the
/// process already held). Cheap and idempotent; a no-op without the `mimalloc` feature.
pub fn retain_freed_memory() {
    #[cfg(feature = "mimalloc")]
    {
        // mimalloc's option numbers (mimalloc.h, the same in its v2 and v3).
        const ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;
        const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
        // SAFETY: setting an option is allowed at any time from any thread.
        unsafe {
            libmimalloc_sys::mi_option_set(ARENA_EAGER_COMMIT, 1);
            libmimalloc_sys::mi_option_set(PURGE_DELAY, -1);
        }
    }
}
