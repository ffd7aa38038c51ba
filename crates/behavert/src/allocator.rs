//! How the process's allocator treats tensors. They are megabytes each and most live for one
//! operation; glibc serves blocks above its mmap threshold straight from the kernel and hands
//! them back when freed, so the next tensor faults in freshly zeroed pages (a fifth of an
//! inference pass went there), and it trims the heap's free top the same way.

/// Keeps freed memory in the process for reuse: blocks up to 32 MiB come from the heap, whose
/// free top is trimmed only beyond 2 GiB, and the heap grows 64 MiB at a time. Peak memory is
/// what the tensors need (measured: equal or lower than glibc's defaults in training, as fast
/// as mimalloc). Cheap and idempotent; a no-op outside glibc.
pub fn retain_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; glibc takes its own lock.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX);
        libc::mallopt(libc::M_TOP_PAD, 64 << 20);
    }
}
