//! A cache prefetch hint, for the passes that start loading what a
//! pipelined batch will touch before its commands run (see
//! `connection::prefetch_keys`).

/// Start loading the cache line holding `p` into every cache level. A hint
/// only: it never faults, whatever the address, and does nothing off x86-64.
#[inline(always)]
pub fn read(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: prefetching is a hint; it never faults, whatever the address.
    unsafe {
        std::arch::x86_64::_mm_prefetch(p as *const i8, std::arch::x86_64::_MM_HINT_T0);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}
