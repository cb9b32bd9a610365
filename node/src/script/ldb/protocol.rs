//! The debugging client's side of the wire: the commands it sends
//! (multibulk requests, parsed as Redis's ldbReplParseCommand does) and
//! the log batches it gets back (an array of status lines).
//!
//! The parser is Redis's, forgiving and small on purpose: it looks for the
//! first `*` anywhere in the buffer, limits counts and lengths to 1024,
//! refuses empty arguments, and reads the buffer as a C string where
//! Redis does (its searches stop at a NUL byte; the arguments themselves
//! may hold any byte).

use std::fmt;

/// Most arguments, and most bytes per argument, a debugger command has.
pub const MAX_ARGS: i32 = 1024;
pub const MAX_ARG_LEN: i32 = 1024;

/// The buffer can never become a valid command (Redis's "protocol error",
/// which aborts the script).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProtocolError;

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("protocol error")
    }
}

impl std::error::Error for ProtocolError {}

/// One command from the buffer, or None when more bytes are needed.
pub fn parse_command(buf: &[u8]) -> Result<Option<Vec<Vec<u8>>>, ProtocolError> {
    if buf.is_empty() {
        return Ok(None);
    }
    let Some(star) = find_in_cstr(buf, 0, b"*") else { return Err(ProtocolError) };
    let Some(eol) = find_in_cstr(buf, star, b"\r\n") else { return Ok(None) };
    let argc = atoi(&buf[star + 1..eol]);
    if argc <= 0 || argc > MAX_ARGS {
        return Err(ProtocolError);
    }
    let mut p = eol + 2;
    let mut argv = Vec::with_capacity(argc as usize);
    while argv.len() < argc as usize {
        // The end of the C string: wait for more.
        if p >= buf.len() || buf[p] == 0 {
            return Ok(None);
        }
        if buf[p] != b'$' {
            return Err(ProtocolError);
        }
        let Some(eol) = find_in_cstr(buf, p, b"\r\n") else { return Ok(None) };
        let len = atoi(&buf[p + 1..eol]);
        if len <= 0 || len > MAX_ARG_LEN {
            return Err(ProtocolError);
        }
        let start = eol + 2;
        let len = len as usize;
        if start + len + 2 > buf.len() {
            return Ok(None);
        }
        argv.push(buf[start..start + len].to_vec());
        p = start + len;
        if &buf[p..p + 2] != b"\r\n" {
            return Err(ProtocolError);
        }
        p += 2;
    }
    Ok(Some(argv))
}

/// Where `needle` first occurs in `buf` from `from` on, looking no
/// further than the next NUL byte (strstr on a C string).
fn find_in_cstr(buf: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    let rest = &buf[from.min(buf.len())..];
    let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
    rest[..end].windows(needle.len()).position(|w| w == needle).map(|i| from + i)
}

/// C's atoi as glibc has it: blanks, a sign, digits up to the first other
/// byte, 0 when there are none; out of range saturates as strtol does and
/// is then cut to an int.
pub fn atoi(s: &[u8]) -> i32 {
    let mut i = 0;
    while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r') {
        i += 1;
    }
    let negative = i < s.len() && s[i] == b'-';
    if i < s.len() && (s[i] == b'-' || s[i] == b'+') {
        i += 1;
    }
    let mut n: i64 = 0;
    let mut saturated = false;
    while i < s.len() && s[i].is_ascii_digit() {
        match n.checked_mul(10).and_then(|v| v.checked_add((s[i] - b'0') as i64)) {
            Some(v) => n = v,
            None => saturated = true,
        }
        i += 1;
    }
    let long = match (saturated, negative) {
        (true, false) => i64::MAX,
        (true, true) => i64::MIN,
        (false, true) => -n,
        (false, false) => n,
    };
    long as i32
}

/// A batch of log lines as the client reads it: an array of status
/// replies, with CR and LF inside a line turned into spaces (ldbSendLogs).
pub fn encode_logs(lines: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + lines.iter().map(|l| l.len() + 3).sum::<usize>());
    out.push(b'*');
    out.extend_from_slice(itoa::Buffer::new().format(lines.len()).as_bytes());
    out.extend_from_slice(b"\r\n");
    for line in lines {
        out.push(b'+');
        out.extend(line.iter().map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b }));
        out.extend_from_slice(b"\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&[u8]]) -> Option<Vec<Vec<u8>>> {
        Some(v.iter().map(|a| a.to_vec()).collect())
    }

    #[test]
    fn whole_commands() {
        assert_eq!(parse_command(b"*1\r\n$4\r\nstep\r\n"), Ok(args(&[b"step"])));
        assert_eq!(parse_command(b"*2\r\n$1\r\np\r\n$3\r\nfoo\r\n"), Ok(args(&[b"p", b"foo"])));
        // Garbage before the first '*' is skipped.
        assert_eq!(parse_command(b"xx*1\r\n$1\r\nc\r\n"), Ok(args(&[b"c"])));
        // NUL bytes inside an argument are kept.
        assert_eq!(parse_command(b"*1\r\n$8\r\nh\0ello\0w\r\n"), Ok(args(&[b"h\0ello\0w"])));
    }

    #[test]
    fn partial_commands_wait_for_more() {
        assert_eq!(parse_command(b""), Ok(None));
        assert_eq!(parse_command(b"*2"), Ok(None));
        assert_eq!(parse_command(b"*2\r\n"), Ok(None));
        assert_eq!(parse_command(b"*2\r\n$1\r\np\r\n"), Ok(None));
        assert_eq!(parse_command(b"*2\r\n$1\r\np\r\n$3\r\nfo"), Ok(None));
        assert_eq!(parse_command(b"*1\r\n$3\r\nfoo"), Ok(None));
    }

    #[test]
    fn protocol_errors() {
        assert_eq!(parse_command(b"step\r\n"), Err(ProtocolError));
        assert_eq!(parse_command(b"*0\r\n"), Err(ProtocolError));
        assert_eq!(parse_command(b"*1025\r\n"), Err(ProtocolError));
        assert_eq!(parse_command(b"*1\r\n:1\r\n"), Err(ProtocolError));
        assert_eq!(parse_command(b"*1\r\n$0\r\n\r\n"), Err(ProtocolError));
        assert_eq!(parse_command(b"*1\r\n$1025\r\n"), Err(ProtocolError));
        assert_eq!(parse_command(b"*1\r\n$1\r\nabc\r\n"), Err(ProtocolError));
        // A NUL before the '*' ends the C string.
        assert_eq!(parse_command(b"\0*1\r\n$1\r\nc\r\n"), Err(ProtocolError));
    }

    #[test]
    fn the_most_arguments() {
        let mut cmd = b"*1024\r\n".to_vec();
        for _ in 0..1024 {
            cmd.extend_from_slice(b"$1\r\nx\r\n");
        }
        assert_eq!(parse_command(&cmd).unwrap().unwrap().len(), 1024);
    }

    #[test]
    fn atoi_as_c() {
        assert_eq!(atoi(b"12"), 12);
        assert_eq!(atoi(b" -7x"), -7);
        assert_eq!(atoi(b"+3"), 3);
        assert_eq!(atoi(b"abc"), 0);
        assert_eq!(atoi(b""), 0);
        assert_eq!(atoi(b"99999999999999999999"), -1);
        assert_eq!(atoi(b"4294967297"), 1);
    }

    #[test]
    fn log_batches() {
        assert_eq!(encode_logs(&[]), b"*0\r\n");
        assert_eq!(encode_logs(&[b"a\r\nb".to_vec(), b"<endsession>".to_vec()]), b"*2\r\n+a  b\r\n+<endsession>\r\n");
    }
}
