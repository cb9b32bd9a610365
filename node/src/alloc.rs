//! The allocator's running total: `used_memory`, kept as Redis's zmalloc
//! keeps it, by counting every allocation's usable size as it is made and
//! freed. `maxmemory` is checked before every command, so the figure must be
//! exact at any moment and cheap to read: jemalloc's own statistics lag
//! (freed blocks sit in thread caches) and need an epoch refresh to read.
//!
//! The binary installs [`Counting`] around jemalloc; in unit tests (system
//! allocator, nothing counted) [`used_memory`] stays 0.

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

static USED: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

/// Bytes allocated through the global allocator now, size classes included.
#[inline]
pub fn used_memory() -> usize {
    USED.load(Relaxed)
}

/// The highest [`used_memory`] seen by [`note_peak`] (used_memory_peak):
/// sampled, as Redis samples it, after commands and in the cron.
pub fn peak_memory() -> usize {
    note_peak();
    PEAK.load(Relaxed)
}

/// Record the current figure if it is a new peak.
#[inline]
pub fn note_peak() {
    let used = USED.load(Relaxed);
    if used > PEAK.load(Relaxed) {
        PEAK.store(used, Relaxed);
    }
}

/// jemalloc's usable size for `layout`: the size class it will hand out
/// (what malloc_usable_size would say of the block).
#[inline]
fn usable(layout: Layout) -> usize {
    // jemalloc aligns every block to at least 16 bytes (and to its size
    // class); only stricter alignments need saying (MALLOCX_ALIGN).
    let flags = if layout.align() <= 16 && layout.align() <= layout.size() { 0 } else { layout.align().trailing_zeros() as i32 };
    // SAFETY: nallocx only computes; it is defined for any non-zero size,
    // which every GlobalAlloc request is.
    match unsafe { tikv_jemalloc_sys::nallocx(layout.size(), flags) } {
        0 => layout.size(),
        n => n,
    }
}

/// A global allocator that counts what `A` hands out.
pub struct Counting<A>(pub A);

// SAFETY: every call is forwarded unchanged to `A`; the count is only
// bookkeeping beside it.
unsafe impl<A: GlobalAlloc> GlobalAlloc for Counting<A> {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { self.0.alloc(layout) };
        if !p.is_null() {
            USED.fetch_add(usable(layout), Relaxed);
        }
        p
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { self.0.alloc_zeroed(layout) };
        if !p.is_null() {
            USED.fetch_add(usable(layout), Relaxed);
        }
        p
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        USED.fetch_sub(usable(layout), Relaxed);
        unsafe { self.0.dealloc(ptr, layout) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { self.0.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            // SAFETY: the caller guarantees new_size is valid for this alignment.
            let new = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
            let (before, after) = (usable(layout), usable(new));
            if after >= before {
                USED.fetch_add(after - before, Relaxed);
            } else {
                USED.fetch_sub(before - after, Relaxed);
            }
        }
        p
    }
}
