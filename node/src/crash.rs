//! The crash report (Redis's sigsegvHandler and bug report): a fatal signal
//! (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT) or a panic writes what
//! happened and the stack trace to the log, in Redis's shape, before the
//! process dies of the signal as it would have without us.
//!
//! The report is made inside the signal handler, allocating and
//! symbolizing as Redis's does: a process that got SIGSEGV is already
//! lost, and the report is what makes the bug fixable. A second fault while
//! reporting kills the process at once (SA_RESETHAND).

use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};

/// `crash-log-enabled`: whether a fatal signal is reported (CONFIG SET
/// changes it while running).
static ENABLED: AtomicBool = AtomicBool::new(true);

const FATAL: [libc::c_int; 5] = [libc::SIGSEGV, libc::SIGBUS, libc::SIGFPE, libc::SIGILL, libc::SIGABRT];

/// Install the handlers and the panic report.
pub fn install(enabled: bool) {
    set_enabled(enabled);
    for sig in FATAL {
        // SAFETY: a zeroed sigaction with a valid handler and flags; the
        // handler's signature is the one SA_SIGINFO calls.
        unsafe {
            let mut act: libc::sigaction = std::mem::zeroed();
            act.sa_sigaction = handler as *const () as usize;
            act.sa_flags = libc::SA_SIGINFO | libc::SA_NODEFER | libc::SA_RESETHAND;
            libc::sigemptyset(&mut act.sa_mask);
            libc::sigaction(sig, &act, std::ptr::null_mut());
        }
    }
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let mut report = String::new();
        let _ = writeln!(report, "Guru Meditation: {info}");
        crate::log::raw(&bug_report(&report));
        default_hook(info);
    }));
}

/// CONFIG SET crash-log-enabled.
pub fn set_enabled(on: bool) {
    ENABLED.store(on, Ordering::Relaxed);
}

extern "C" fn handler(sig: libc::c_int, info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    if ENABLED.load(Ordering::Relaxed) {
        let mut head = String::new();
        let _ = writeln!(head, "Corvid {} crashed by signal: {sig}, si_code: {}", env!("CARGO_PKG_VERSION"), si_code(info));
        // SAFETY: the kernel passes a valid siginfo to an SA_SIGINFO handler.
        unsafe {
            if !info.is_null() {
                let i = &*info;
                // A fault the kernel raised (si_code > 0) has an address.
                if i.si_code > 0 && matches!(sig, libc::SIGSEGV | libc::SIGBUS | libc::SIGFPE | libc::SIGILL) {
                    let _ = writeln!(head, "Accessing address: {:p}", i.si_addr());
                }
                if i.si_code == libc::SI_USER || i.si_code == libc::SI_TKILL {
                    let _ = writeln!(head, "Killed by PID: {}, UID: {}", i.si_pid(), i.si_uid());
                }
            }
        }
        crate::log::raw(&bug_report(&head));
    }
    // SAFETY: SA_RESETHAND put the default action back; raising the signal
    // again ends the process by it (a core file where enabled).
    unsafe {
        libc::raise(sig);
    }
}

fn si_code(info: *const libc::siginfo_t) -> libc::c_int {
    // SAFETY: read only when the kernel gave one.
    if info.is_null() { 0 } else { unsafe { (*info).si_code } }
}

/// The report around `what`: the banner, the stack trace, the footer.
fn bug_report(what: &str) -> String {
    let mut s = String::new();
    s.push_str("\n\n=== CORVID BUG REPORT START: Cut & paste starting from here ===\n");
    s.push_str(what);
    s.push_str("\n------ STACK TRACE ------\n");
    let _ = writeln!(s, "{}", std::backtrace::Backtrace::force_capture());
    s.push_str("\n=== CORVID BUG REPORT END. Make sure to include from START to END. ===\n\n");
    s.push_str("       Please report the crash by opening an issue on the project's tracker,\n");
    s.push_str("  with this report and the version, commit and configuration of the node.\n\n");
    s
}
