//! Handing the memory a reload freed back to the system.
//!
//! A reload frees a whole snapshot at once (a config near its budget is tens of megabytes of
//! tree), and its load allocates large transient buffers (file texts, the tokens it counts keys
//! and rules from). glibc's malloc keeps freed memory for reuse: it raises its mmap threshold
//! each time a large block is freed, so the next large buffers come from its arenas instead of
//! their own mappings, and each reload thread gets an arena whose top it does not trim. Without
//! the two calls here, the process keeps the peak of its largest config for good, even after the
//! config is reverted.

/// The size from which glibc serves an allocation from a mapping of its own, returned to the
/// system when freed: glibc's default, fixed so that it no longer grows.
const MMAP_THRESHOLD_BYTES: i32 = 128 * 1024;

/// Fixes glibc's mmap threshold at its default, so large buffers always get mappings of their
/// own and go back to the system as soon as they are freed. Called once at start; a no-op where
/// the allocator is not glibc's.
pub(crate) fn keep_large_buffers_separate() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[allow(unsafe_code)]
    // SAFETY: `mallopt` takes two integers and changes only glibc's own tuning, under its lock;
    // it may be called from any thread at any time.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES);
    }
}

/// Returns the free memory of every malloc arena to the system (`malloc_trim(0)`). Called on the
/// thread that reloaded, after the new snapshot is in and the one it replaced is dropped (unless
/// a request still holds it; the next reload's trim returns that). A no-op where the allocator
/// is not glibc's.
pub(crate) fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[allow(unsafe_code)]
    // SAFETY: `malloc_trim` takes no pointers and touches only glibc's own arenas, under their
    // locks; it may be called from any thread at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}
