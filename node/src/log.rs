//! Logs in Redis's line format, which tools and Redis's test suite read:
//! `<pid>:M 24 Nov 2026 00:47:05.123 * message`, with `.` debug, `-` verbose,
//! `*` notice and `#` warning. `tracing` carries the events; this is its
//! formatter, configured from `loglevel` and `logfile`.

use std::fmt;
use std::io::Write;

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

struct RedisFormat {
    pid: u32,
}

impl<S, N> FormatEvent<S, N> for RedisFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(&self, ctx: &FmtContext<'_, S, N>, mut w: Writer<'_>, event: &Event<'_>) -> fmt::Result {
        let mark = match *event.metadata().level() {
            Level::TRACE => '.',
            Level::DEBUG => '-',
            Level::INFO => '*',
            _ => '#',
        };
        write!(w, "{}:M {} {} ", self.pid, timestamp(crate::clock::now_ms()), mark)?;
        ctx.field_format().format_fields(w.by_ref(), event)?;
        writeln!(w)
    }
}

/// "24 Nov 2026 00:47:05.123" in UTC.
pub fn timestamp(ms: i64) -> String {
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86400);
    let rem = secs.rem_euclid(86400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{:02} {} {} {:02}:{:02}:{:02}.{:03}",
        d,
        MONTHS[(m - 1) as usize],
        y,
        rem / 3600,
        (rem / 60) % 60,
        rem % 60,
        ms.rem_euclid(1000)
    )
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719468;
    let era = z.div_euclid(146097);
    let doe = z.rem_euclid(146097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Where the log goes (`logfile`; empty: stdout), for [`raw`].
static LOGFILE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
/// The same path, ready for open(2) inside a signal handler.
static LOGFILE_C: std::sync::OnceLock<std::ffi::CString> = std::sync::OnceLock::new();

/// A line from inside a signal handler (serverLogFromHandler): only
/// open, write and close, nothing that allocates or locks.
/// `<pid>:signal-handler (<unix time>) <msg>`.
pub fn from_handler(msg: &str) {
    // SAFETY: getpid, time, open, write and close are async-signal-safe;
    // the buffers are on the stack and the path was made at start-up.
    unsafe {
        let mut pid = itoa::Buffer::new();
        let mut now = itoa::Buffer::new();
        let parts: [&[u8]; 6] = [
            pid.format(libc::getpid()).as_bytes(),
            b":signal-handler (",
            now.format(libc::time(std::ptr::null_mut())).as_bytes(),
            b") ",
            msg.as_bytes(),
            b"\n",
        ];
        let fd = match LOGFILE_C.get() {
            Some(path) => libc::open(path.as_ptr(), libc::O_APPEND | libc::O_CREAT | libc::O_WRONLY, 0o644),
            None => libc::STDOUT_FILENO,
        };
        if fd < 0 {
            return;
        }
        for part in parts {
            libc::write(fd, part.as_ptr().cast(), part.len());
        }
        if fd != libc::STDOUT_FILENO {
            libc::close(fd);
        }
    }
}

/// Write `text` as is to the log, past the formatter and its level (the
/// crash report, which must get out whatever state the process is in).
pub fn raw(text: &str) {
    let path = LOGFILE.get().map(String::as_str).unwrap_or("");
    if !path.is_empty() {
        if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
            let _ = f.write_all(text.as_bytes());
            return;
        }
    }
    // Straight to the descriptor: std's stdout takes a lock and a RefCell
    // that the code a signal interrupted may be holding (a log line being
    // written), and re-entering it would panic inside the handler.
    let mut rest = text.as_bytes();
    while !rest.is_empty() {
        // SAFETY: writing initialized bytes to fd 1.
        let n = unsafe { libc::write(libc::STDOUT_FILENO, rest.as_ptr().cast(), rest.len()) };
        if n <= 0 {
            break;
        }
        rest = &rest[n as usize..];
    }
}

/// Install the global subscriber. `loglevel` is Redis's (debug, verbose,
/// notice, warning, nothing); `logfile` empty means stdout.
pub fn init(loglevel: &str, logfile: &str) {
    let level = match loglevel {
        "debug" => Some(Level::TRACE),
        "verbose" => Some(Level::DEBUG),
        "notice" => Some(Level::INFO),
        "warning" => Some(Level::WARN),
        _ => None,
    };
    let _ = LOGFILE.set(logfile.to_string());
    if !logfile.is_empty() {
        if let Ok(c) = std::ffi::CString::new(logfile) {
            let _ = LOGFILE_C.set(c);
        }
    }
    let Some(level) = level else { return };
    let fmt = RedisFormat { pid: std::process::id() };
    let builder = tracing_subscriber::fmt().with_max_level(level).event_format(fmt);
    let result = if logfile.is_empty() {
        builder.with_writer(std::io::stdout).try_init()
    } else {
        let path = logfile.to_string();
        builder
            .with_writer(move || -> Box<dyn Write> {
                match std::fs::OpenOptions::new().create(true).append(true).open(&path) {
                    Ok(f) => Box::new(f),
                    Err(_) => Box::new(std::io::stdout()),
                }
            })
            .try_init()
    };
    // A second init (tests starting several nodes in one process) keeps the first.
    let _ = result;
}

#[cfg(test)]
mod tests {
    #[test]
    fn timestamp_format() {
        assert_eq!(super::timestamp(0), "01 Jan 1970 00:00:00.000");
        assert_eq!(super::timestamp(1_795_481_225_123), "24 Nov 2026 00:47:05.123");
    }
}
