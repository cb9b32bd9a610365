//! RESP2/RESP3 on the wire: a resumable request parser (multibulk and inline
//! commands, as Redis's `processMultibulkBuffer`/`processInlineBuffer`) and a
//! reply encoder that speaks either protocol version.
//!
//! # Layout
//! - [`RequestParser`]: turns the bytes of a connection's read buffer into
//!   commands without copying multibulk arguments ([`Command`] holds ranges).
//! - [`ProtocolError`]: the protocol errors, with Redis's exact texts.
//! - [`Reply`]: an output buffer plus the client's protocol version; every
//!   reply type Redis emits, downgraded to RESP2 the way Redis does it.
//! - [`split_args`]: Redis's `sdssplitargs` (inline commands, redis.conf).

use std::fmt;

/// Longest inline request, or length line, Redis accepts before giving up
/// (PROTO_INLINE_MAX_SIZE).
pub const INLINE_MAX: usize = 64 * 1024;

/// Bulk length from which the read buffer is grown to hold the whole
/// argument at once (PROTO_MBULK_BIG_ARG).
pub const BIG_ARG: usize = 32 * 1024;

/// A protocol error; the connection replies `-ERR <Display>` and closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtocolError {
    TooBigInline,
    UnbalancedQuotes,
    TooBigMultibulkCount,
    InvalidMultibulkLength,
    UnauthenticatedMultibulkLength,
    TooBigBulkCount,
    ExpectedDollar(u8),
    InvalidBulkLength,
    UnauthenticatedBulkLength,
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ProtocolError::*;
        match self {
            TooBigInline => f.write_str("Protocol error: too big inline request"),
            UnbalancedQuotes => f.write_str("Protocol error: unbalanced quotes in request"),
            TooBigMultibulkCount => f.write_str("Protocol error: too big mbulk count string"),
            InvalidMultibulkLength => f.write_str("Protocol error: invalid multibulk length"),
            UnauthenticatedMultibulkLength => {
                f.write_str("Protocol error: unauthenticated multibulk length")
            }
            TooBigBulkCount => f.write_str("Protocol error: too big bulk count string"),
            ExpectedDollar(c) => write!(f, "Protocol error: expected '$', got '{}'", *c as char),
            InvalidBulkLength => f.write_str("Protocol error: invalid bulk length"),
            UnauthenticatedBulkLength => f.write_str("Protocol error: unauthenticated bulk length"),
        }
    }
}

impl std::error::Error for ProtocolError {}

/// Limits the parser enforces, from the node's configuration.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// `proto-max-bulk-len`.
    pub max_bulk_len: i64,
    /// Whether the client still has to authenticate (Redis then caps
    /// multibulk counts at 10 and bulk lengths at 16384).
    pub auth_required: bool,
}

/// Where a parsed argument lives: a range of the read buffer, or (for inline
/// commands, whose quoting is undone) a range of the parser's own store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ArgRange {
    start: u32,
    len: u32,
    inline: bool,
}

/// One parsed command: `argc` arguments starting at `first` in the parser's
/// argument list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Command {
    first: u32,
    argc: u32,
}

impl Command {
    pub fn argc(&self) -> usize {
        self.argc as usize
    }
}

/// A resumable parser for the commands in one connection's read buffer.
///
/// Positions are absolute offsets into the buffer handed to [`parse`]; after
/// the caller drops the consumed prefix of its buffer it calls
/// [`RequestParser::consume`], which rebases a partially read command.
///
/// [`parse`]: RequestParser::parse
/// Argument slots and inline bytes a drained parser keeps for reuse.
const KEEP_ARGS: usize = 1024;
const KEEP_INLINE: usize = 16 * 1024;

#[derive(Debug, Default)]
pub struct RequestParser {
    /// Start of the first unparsed byte.
    pos: usize,
    /// Arguments of the current batch of commands.
    args: Vec<ArgRange>,
    /// Unquoted bytes of inline arguments.
    inline_store: Vec<u8>,
    /// Bulks still to read for the multibulk command in progress (0: none).
    multibulk_left: i64,
    /// Length of the bulk being read, once its `$` line was parsed.
    bulk_len: Option<usize>,
    /// Index in `args` where the command in progress starts.
    cmd_first: usize,
    /// Buffer offset where the command in progress starts.
    partial_start: usize,
}

/// What the parser found next.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    /// A complete command (possibly with zero arguments for an empty line or
    /// `*0`, which the caller skips as Redis does).
    Command(Command),
    /// More bytes are needed; `need` is a hint of the total buffer length
    /// that would complete the current argument (0 when unknown).
    Incomplete { need: usize },
}

impl RequestParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Bytes of the buffer that belong to fully parsed commands.
    pub fn parsed_len(&self) -> usize {
        if self.in_progress() {
            // Only what precedes a command in progress is consumable: its own
            // argument ranges must survive.
            self.partial_start
        } else {
            self.pos
        }
    }

    /// How Redis would account a command still arriving in `buf_len`
    /// bytes (CLIENT LIST's qbuf and argv-mem): the bytes past the last
    /// parsed element (Redis's query buffer, trimmed as it parses), and
    /// the lengths of the command's arguments already complete (copied to
    /// argv in Redis).
    pub fn pending(&self, buf_len: usize) -> (usize, usize) {
        let argv = if self.in_progress() { self.args[self.cmd_first..].iter().map(|a| a.len as usize).sum() } else { 0 };
        (buf_len.saturating_sub(self.pos), argv)
    }

    fn in_progress(&self) -> bool {
        self.multibulk_left > 0
    }

    /// The arguments of a parsed command; valid until the next `parse` or
    /// `consume`.
    pub fn args<'a>(&'a self, buf: &'a [u8], cmd: Command) -> Args<'a> {
        Args {
            buf,
            store: &self.inline_store,
            ranges: &self.args[cmd.first as usize..(cmd.first + cmd.argc) as usize],
        }
    }

    /// Forget the parsed commands and the first `n` bytes of the buffer
    /// (`n` must be `parsed_len()`), keeping a command in progress.
    pub fn consume(&mut self, n: usize) {
        debug_assert!(n == self.parsed_len());
        if self.in_progress() {
            // Multibulk arguments only: inline commands parse in one step.
            self.args.drain(..self.cmd_first);
            for a in self.args.iter_mut() {
                a.start -= n as u32;
            }
        } else {
            self.args.clear();
            // A command with a hundred thousand arguments must not leave
            // its argument table behind (its memory counts as used_memory).
            self.args.shrink_to(KEEP_ARGS);
        }
        self.inline_store.clear();
        self.inline_store.shrink_to(KEEP_INLINE);
        self.cmd_first = 0;
        self.pos -= n;
        self.partial_start = self.partial_start.saturating_sub(n);
    }

    /// Parse the next command from `buf[pos..]`.
    pub fn parse(&mut self, buf: &[u8], limits: &Limits) -> Result<Parsed, ProtocolError> {
        if self.multibulk_left == 0 {
            if self.pos >= buf.len() {
                return Ok(Parsed::Incomplete { need: 0 });
            }
            self.cmd_first = self.args.len();
            self.partial_start = self.pos;
            if buf[self.pos] != b'*' {
                return self.parse_inline(buf);
            }
            // The multibulk count line.
            let rest = &buf[self.pos..];
            let Some(cr) = memchr(b'\r', rest) else {
                if rest.len() > INLINE_MAX {
                    return Err(ProtocolError::TooBigMultibulkCount);
                }
                return Ok(Parsed::Incomplete { need: 0 });
            };
            if cr + 2 > rest.len() {
                return Ok(Parsed::Incomplete { need: 0 });
            }
            let count = parse_i64(&rest[1..cr]).filter(|&n| n <= i32::MAX as i64);
            let Some(count) = count else {
                return Err(ProtocolError::InvalidMultibulkLength);
            };
            if count > 10 && limits.auth_required {
                return Err(ProtocolError::UnauthenticatedMultibulkLength);
            }
            self.pos += cr + 2;
            if count <= 0 {
                return Ok(Parsed::Command(Command { first: self.cmd_first as u32, argc: 0 }));
            }
            self.multibulk_left = count;
            self.args.reserve((count as usize).min(1024));
        }
        while self.multibulk_left > 0 {
            let len = match self.bulk_len {
                Some(len) => len,
                None => {
                    let rest = &buf[self.pos..];
                    let Some(cr) = memchr(b'\r', rest) else {
                        if rest.len() > INLINE_MAX {
                            return Err(ProtocolError::TooBigBulkCount);
                        }
                        return Ok(Parsed::Incomplete { need: 0 });
                    };
                    if cr + 2 > rest.len() {
                        return Ok(Parsed::Incomplete { need: 0 });
                    }
                    if rest[0] != b'$' {
                        return Err(ProtocolError::ExpectedDollar(rest[0]));
                    }
                    let len = match parse_i64(&rest[1..cr]) {
                        Some(n) if n >= 0 && n <= limits.max_bulk_len => n,
                        _ => return Err(ProtocolError::InvalidBulkLength),
                    };
                    if len > 16384 && limits.auth_required {
                        return Err(ProtocolError::UnauthenticatedBulkLength);
                    }
                    if len > u32::MAX as i64 - 2 {
                        return Err(ProtocolError::InvalidBulkLength);
                    }
                    self.pos += cr + 2;
                    self.bulk_len = Some(len as usize);
                    len as usize
                }
            };
            // Redis skips the two bytes after the data without checking them.
            if buf.len() - self.pos < len + 2 {
                return Ok(Parsed::Incomplete { need: self.pos + len + 2 });
            }
            self.args.push(ArgRange { start: self.pos as u32, len: len as u32, inline: false });
            self.pos += len + 2;
            self.bulk_len = None;
            self.multibulk_left -= 1;
        }
        let argc = (self.args.len() - self.cmd_first) as u32;
        Ok(Parsed::Command(Command { first: self.cmd_first as u32, argc }))
    }

    fn parse_inline(&mut self, buf: &[u8]) -> Result<Parsed, ProtocolError> {
        let rest = &buf[self.pos..];
        let Some(nl) = memchr(b'\n', rest) else {
            if rest.len() > INLINE_MAX {
                return Err(ProtocolError::TooBigInline);
            }
            return Ok(Parsed::Incomplete { need: 0 });
        };
        let line_end = if nl > 0 && rest[nl - 1] == b'\r' { nl - 1 } else { nl };
        let words = split_args(&rest[..line_end]).ok_or(ProtocolError::UnbalancedQuotes)?;
        self.pos += nl + 1;
        for w in &words {
            let start = self.inline_store.len() as u32;
            self.inline_store.extend_from_slice(w);
            self.args.push(ArgRange { start, len: w.len() as u32, inline: true });
        }
        Ok(Parsed::Command(Command { first: self.cmd_first as u32, argc: words.len() as u32 }))
    }
}

/// The arguments of one command, borrowed from the read buffer.
#[derive(Clone, Copy)]
pub struct Args<'a> {
    buf: &'a [u8],
    store: &'a [u8],
    ranges: &'a [ArgRange],
}

impl<'a> Args<'a> {
    pub fn len(&self) -> usize {
        self.ranges.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Argument `i` (0 is the command name). Panics if out of range: the
    /// dispatcher checks arity before handlers index.
    #[inline]
    pub fn get(&self, i: usize) -> &'a [u8] {
        let r = self.ranges[i];
        let src = if r.inline { self.store } else { self.buf };
        &src[r.start as usize..(r.start + r.len) as usize]
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = &'a [u8]> + '_ {
        (0..self.len()).map(move |i| self.get(i))
    }

    /// Total bytes of all arguments (CLIENT LIST's `argv-mem`).
    pub fn byte_len(&self) -> usize {
        self.ranges.iter().map(|r| r.len as usize).sum()
    }
}

/// An argument vector built by the server itself (a script's
/// `redis.call`), readable as [`Args`] like one parsed from a socket; its
/// buffers are kept between commands.
#[derive(Debug, Default)]
pub struct ArgVec {
    buf: Vec<u8>,
    ranges: Vec<ArgRange>,
}

impl ArgVec {
    pub fn clear(&mut self) {
        self.buf.clear();
        self.ranges.clear();
    }

    pub fn push(&mut self, arg: &[u8]) {
        let start = self.buf.len() as u32;
        self.buf.extend_from_slice(arg);
        self.ranges.push(ArgRange { start, len: arg.len() as u32, inline: false });
    }

    pub fn len(&self) -> usize {
        self.ranges.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    pub fn args(&self) -> Args<'_> {
        Args { buf: &self.buf, store: &[], ranges: &self.ranges }
    }
}

#[inline]
pub fn memchr(needle: u8, hay: &[u8]) -> Option<usize> {
    hay.iter().position(|&b| b == needle)
}

/// Redis's `string2ll`: an optional '-', digits, no leading zeros (except
/// "0"), no '+', no spaces, within i64.
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (neg, digits) = if s[0] == b'-' { (true, &s[1..]) } else { (false, s) };
    if digits.is_empty() || digits[0] == b'0' {
        return None;
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    if neg {
        if v > i64::MAX as u64 + 1 {
            None
        } else {
            Some((v as i64).wrapping_neg())
        }
    } else if v > i64::MAX as u64 {
        None
    } else {
        Some(v as i64)
    }
}

/// Redis's `sdssplitargs`: split a line into arguments, honouring "double
/// quotes" (with \n \r \t \b \a \\ \" and \xHH escapes) and 'single quotes'
/// (with \' only). `None` on unbalanced quotes, or when a closing quote is
/// not followed by a space. Like the C function it reads a C string: a NUL
/// byte ends the line, which is how redis.conf lines are read. (Redis's
/// inline parser never answers such a line at all: its search for the
/// newline stops at the NUL too, so it waits for more input; Corvid answers
/// the part before the NUL instead of holding the connection.)
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let line = match line.iter().position(|&b| b == 0) {
        Some(n) => &line[..n],
        None => line,
    };
    let mut out = Vec::new();
    let mut i = 0;
    let n = line.len();
    loop {
        while i < n && is_space(line[i]) {
            i += 1;
        }
        if i >= n {
            return Some(out);
        }
        let mut cur = Vec::new();
        let mut inq = false;
        let mut insq = false;
        loop {
            if inq {
                if i >= n {
                    return None;
                }
                let c = line[i];
                if c == b'\\'
                    && i + 3 < n
                    && line[i + 1] == b'x'
                    && line[i + 2].is_ascii_hexdigit()
                    && line[i + 3].is_ascii_hexdigit()
                {
                    cur.push(hex(line[i + 2]) * 16 + hex(line[i + 3]));
                    i += 3;
                } else if c == b'\\' && i + 1 < n {
                    i += 1;
                    cur.push(match line[i] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 8,
                        b'a' => 7,
                        other => other,
                    });
                } else if c == b'"' {
                    // The closing quote must be followed by a space or the end.
                    if i + 1 < n && !is_space(line[i + 1]) {
                        return None;
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(c);
                }
            } else if insq {
                if i >= n {
                    return None;
                }
                let c = line[i];
                if c == b'\\' && i + 1 < n && line[i + 1] == b'\'' {
                    i += 1;
                    cur.push(b'\'');
                } else if c == b'\'' {
                    if i + 1 < n && !is_space(line[i + 1]) {
                        return None;
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(c);
                }
            } else {
                if i >= n {
                    break;
                }
                match line[i] {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => break,
                    b'"' => inq = true,
                    b'\'' => insq = true,
                    c => cur.push(c),
                }
            }
            i += 1;
        }
        out.push(cur);
    }
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\n' | b'\r' | b'\t' | 0x0b | 0x0c)
}

fn hex(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => c - b'A' + 10,
    }
}

/// Reply encoder for one client: RESP3 types are downgraded for RESP2
/// clients the way Redis's `addReply*` functions do.
#[derive(Debug, Default)]
pub struct Reply {
    pub buf: Vec<u8>,
    pub resp3: bool,
}

impl Reply {
    pub fn new(resp3: bool) -> Self {
        Reply { buf: Vec::with_capacity(16 * 1024), resp3 }
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    #[inline]
    pub fn raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    #[inline]
    pub fn ok(&mut self) {
        self.buf.extend_from_slice(b"+OK\r\n");
    }

    /// `+text\r\n`; newlines in `s` would break framing, callers pass safe text.
    pub fn simple(&mut self, s: &[u8]) {
        self.buf.push(b'+');
        self.buf.extend_from_slice(s);
        self.buf.extend_from_slice(b"\r\n");
    }

    /// An error reply. `msg` is the text after '-', e.g. "ERR syntax error";
    /// like Redis, line breaks inside it are replaced by spaces.
    pub fn error(&mut self, msg: &str) {
        self.buf.push(b'-');
        for &b in msg.as_bytes() {
            self.buf.push(if b == b'\r' || b == b'\n' { b' ' } else { b });
        }
        self.buf.extend_from_slice(b"\r\n");
    }

    #[inline]
    pub fn int(&mut self, n: i64) {
        self.prefixed_num(b':', n);
    }

    #[inline]
    fn prefixed_num(&mut self, prefix: u8, n: i64) {
        self.buf.push(prefix);
        let mut b = itoa::Buffer::new();
        self.buf.extend_from_slice(b.format(n).as_bytes());
        self.buf.extend_from_slice(b"\r\n");
    }

    #[inline]
    pub fn bulk(&mut self, s: &[u8]) {
        if s.len() < 10 {
            // A one-digit length, as most elements of LRANGE and the like
            // have, without formatting it and copying the digits.
            self.buf.extend_from_slice(&[b'$', b'0' + s.len() as u8, b'\r', b'\n']);
        } else {
            self.prefixed_num(b'$', s.len() as i64);
        }
        self.buf.extend_from_slice(s);
        self.buf.extend_from_slice(b"\r\n");
    }

    /// A bulk string holding the decimal form of `n`.
    pub fn bulk_int(&mut self, n: i64) {
        let mut b = itoa::Buffer::new();
        let s = b.format(n);
        self.bulk(s.as_bytes());
    }

    /// The null bulk string (`$-1` / `_`).
    #[inline]
    pub fn null(&mut self) {
        self.buf.extend_from_slice(if self.resp3 { b"_\r\n" } else { b"$-1\r\n" });
    }

    /// The null array (`*-1` / `_`).
    pub fn null_array(&mut self) {
        self.buf.extend_from_slice(if self.resp3 { b"_\r\n" } else { b"*-1\r\n" });
    }

    #[inline]
    pub fn array(&mut self, n: usize) {
        self.prefixed_num(b'*', n as i64);
    }

    /// A map of `n` pairs (RESP2: a flat array of 2n).
    pub fn map(&mut self, n: usize) {
        if self.resp3 {
            self.prefixed_num(b'%', n as i64);
        } else {
            self.prefixed_num(b'*', 2 * n as i64);
        }
    }

    /// A set (RESP2: an array).
    pub fn set(&mut self, n: usize) {
        self.prefixed_num(if self.resp3 { b'~' } else { b'*' }, n as i64);
    }

    /// A push message header (RESP2: an array).
    pub fn push(&mut self, n: usize) {
        self.prefixed_num(if self.resp3 { b'>' } else { b'*' }, n as i64);
    }

    /// A boolean (RESP2: integer 1/0).
    pub fn boolean(&mut self, b: bool) {
        if self.resp3 {
            self.buf.extend_from_slice(if b { b"#t\r\n" } else { b"#f\r\n" });
        } else {
            self.int(b as i64);
        }
    }

    /// A double as Redis 7.0's addReplyDouble: RESP3 `,` with "%.17g"
    /// (inf/-inf/nan spelled out), RESP2 a bulk string of the same text.
    pub fn double(&mut self, d: f64) {
        let text = format_double_17g(d);
        if self.resp3 {
            self.buf.push(b',');
            self.buf.extend_from_slice(text.as_bytes());
            self.buf.extend_from_slice(b"\r\n");
        } else {
            self.bulk(text.as_bytes());
        }
    }

    /// A verbatim string (RESP3 `=`, with a 3-letter format such as "txt");
    /// RESP2 gets a plain bulk string.
    pub fn verbatim(&mut self, format: &str, s: &[u8]) {
        if self.resp3 {
            self.prefixed_num(b'=', (s.len() + 4) as i64);
            self.buf.extend_from_slice(format.as_bytes());
            self.buf.push(b':');
            self.buf.extend_from_slice(s);
            self.buf.extend_from_slice(b"\r\n");
        } else {
            self.bulk(s);
        }
    }

    /// Insert a header before already written content: used when the count
    /// of a reply is only known after producing its elements.
    pub fn insert_array_header(&mut self, at: usize, n: usize) {
        let mut hdr = Vec::with_capacity(16);
        hdr.push(b'*');
        let mut b = itoa::Buffer::new();
        hdr.extend_from_slice(b.format(n).as_bytes());
        hdr.extend_from_slice(b"\r\n");
        self.buf.splice(at..at, hdr);
    }
}

/// Append one command as a RESP multibulk request, as a client sends it
/// (MIGRATE's RESTOREs, the replication stream, queued MULTI commands).
pub fn encode_command<A: AsRef<[u8]>>(out: &mut Vec<u8>, args: &[A]) {
    let mut n = itoa::Buffer::new();
    out.push(b'*');
    out.extend_from_slice(n.format(args.len()).as_bytes());
    out.extend_from_slice(b"\r\n");
    for a in args {
        let a = a.as_ref();
        out.push(b'$');
        out.extend_from_slice(n.format(a.len()).as_bytes());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

/// C's `printf("%.17g", d)` with Redis's spellings for infinities and NaN.
pub fn format_double_17g(d: f64) -> String {
    format_g(d, 17)
}

/// C's `%.<prec>g`.
pub fn format_g(d: f64, prec: usize) -> String {
    if d.is_nan() {
        return "nan".into();
    }
    if d.is_infinite() {
        return if d > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if d == 0.0 {
        return if d.is_sign_negative() { "-0".into() } else { "0".into() };
    }
    let p = prec.max(1);
    // Scientific form with p significant digits gives the exponent C uses to
    // choose between %e and %f.
    let sci = format!("{:.*e}", p - 1, d);
    let (mant, exp) = sci.split_once('e').expect("scientific format has an exponent");
    let exp: i32 = exp.parse().expect("exponent is an integer");
    if exp < -4 || exp >= p as i32 {
        let mant = strip_zeros(mant);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}e{}{:02}", mant, sign, exp.abs())
    } else {
        let decimals = (p as i32 - 1 - exp).max(0) as usize;
        strip_zeros(&format!("{:.*}", decimals, d)).to_string()
    }
}

fn strip_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIM: Limits = Limits { max_bulk_len: 512 * 1024 * 1024, auth_required: false };

    fn parse_all(input: &[u8]) -> Result<Vec<Vec<Vec<u8>>>, ProtocolError> {
        let mut p = RequestParser::new();
        let mut cmds = Vec::new();
        loop {
            match p.parse(input, &LIM)? {
                Parsed::Command(c) => {
                    cmds.push(p.args(input, c).iter().map(|a| a.to_vec()).collect());
                }
                Parsed::Incomplete { .. } => return Ok(cmds),
            }
        }
    }

    #[test]
    fn commands_encode_as_multibulk() {
        let mut out = Vec::new();
        encode_command(&mut out, &[&b"SET"[..], b"k", b""]);
        assert_eq!(out, b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n");
        assert_eq!(parse_all(&out).unwrap(), vec![vec![b"SET".to_vec(), b"k".to_vec(), Vec::new()]]);
    }

    #[test]
    fn multibulk_and_inline() {
        let cmds = parse_all(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\nPING\r\nset a \"b c\"\n").unwrap();
        assert_eq!(cmds.len(), 3);
        assert_eq!(cmds[0], vec![b"GET".to_vec(), b"k".to_vec()]);
        assert_eq!(cmds[1], vec![b"PING".to_vec()]);
        assert_eq!(cmds[2], vec![b"set".to_vec(), b"a".to_vec(), b"b c".to_vec()]);
    }

    #[test]
    fn incremental_bytes() {
        let input = b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n*1\r\n$4\r\nPING\r\n";
        let mut p = RequestParser::new();
        let mut buf = Vec::new();
        let mut got = Vec::new();
        for &b in input.iter() {
            buf.push(b);
            while let Parsed::Command(c) = p.parse(&buf, &LIM).unwrap() {
                got.push(p.args(&buf, c).iter().map(|a| a.to_vec()).collect::<Vec<_>>());
            }
            let n = p.parsed_len();
            buf.drain(..n);
            p.consume(n);
        }
        assert_eq!(got.len(), 2);
        assert_eq!(got[0][2], b"value");
        assert_eq!(got[1][0], b"PING");
        assert!(buf.is_empty());
    }

    #[test]
    fn protocol_errors() {
        assert_eq!(parse_all(b"*1\r\nfoo\r\n"), Err(ProtocolError::ExpectedDollar(b'f')));
        assert_eq!(parse_all(b"*abc\r\n"), Err(ProtocolError::InvalidMultibulkLength));
        assert_eq!(parse_all(b"*3000000000\r\n"), Err(ProtocolError::InvalidMultibulkLength));
        assert_eq!(parse_all(b"*1\r\n$-5\r\n"), Err(ProtocolError::InvalidBulkLength));
        assert_eq!(parse_all(b"*1\r\n$2000000000\r\n"), Err(ProtocolError::InvalidBulkLength));
        assert_eq!(parse_all(b"set a \"b\n"), Err(ProtocolError::UnbalancedQuotes));
        let big = vec![b'a'; INLINE_MAX + 1];
        assert_eq!(parse_all(&big), Err(ProtocolError::TooBigInline));
        let mut big = b"*1\r\n$".to_vec();
        big.extend(std::iter::repeat_n(b'1', INLINE_MAX + 1));
        assert_eq!(parse_all(&big), Err(ProtocolError::TooBigBulkCount));
        assert_eq!(ProtocolError::ExpectedDollar(b'f').to_string(), "Protocol error: expected '$', got 'f'");
    }

    #[test]
    fn unauthenticated_limits() {
        let lim = Limits { max_bulk_len: 1 << 29, auth_required: true };
        let mut p = RequestParser::new();
        assert_eq!(p.parse(b"*11\r\n", &lim), Err(ProtocolError::UnauthenticatedMultibulkLength));
        let mut p = RequestParser::new();
        assert_eq!(p.parse(b"*1\r\n$16385\r\n", &lim), Err(ProtocolError::UnauthenticatedBulkLength));
    }

    #[test]
    fn empty_commands() {
        let cmds = parse_all(b"*0\r\n\r\n*-1\r\nPING\r\n").unwrap();
        assert_eq!(cmds.iter().filter(|c| !c.is_empty()).count(), 1);
    }

    #[test]
    fn split_args_stops_at_nul() {
        assert_eq!(split_args(b"set a b\0c d"), Some(vec![b"set".to_vec(), b"a".to_vec(), b"b".to_vec()]));
        assert_eq!(split_args(b"\0\"unbalanced"), Some(vec![]));
    }

    #[test]
    fn split_args_like_sds() {
        assert_eq!(split_args(b"a 'b c' \"\\x41\\n\"").unwrap(), vec![b"a".to_vec(), b"b c".to_vec(), b"A\n".to_vec()]);
        assert_eq!(split_args(b"  ").unwrap(), Vec::<Vec<u8>>::new());
        assert!(split_args(b"\"a\"b").is_none());
        assert!(split_args(b"'a").is_none());
        assert_eq!(split_args(b"''").unwrap(), vec![Vec::<u8>::new()]);
    }

    #[test]
    fn string2ll_rules() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"-0"), None);
        assert_eq!(parse_i64(b"01"), None);
        assert_eq!(parse_i64(b"+1"), None);
        assert_eq!(parse_i64(b" 1"), None);
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64(b"9223372036854775808"), None);
    }

    #[test]
    fn g_formatting() {
        assert_eq!(format_double_17g(1.5), "1.5");
        assert_eq!(format_double_17g(0.1), "0.10000000000000001");
        assert_eq!(format_double_17g(1e20), "1e+20");
        assert_eq!(format_double_17g(123456.0), "123456");
        assert_eq!(format_double_17g(1e-5), "1.0000000000000001e-05");
        assert_eq!(format_double_17g(f64::INFINITY), "inf");
        assert_eq!(format_g(3.0, 17), "3");
    }

    #[test]
    fn resp2_downgrades() {
        let mut r = Reply::new(false);
        r.map(2);
        r.null();
        r.boolean(true);
        assert_eq!(r.buf, b"*4\r\n$-1\r\n:1\r\n");
        let mut r = Reply::new(true);
        r.map(2);
        r.null();
        r.boolean(true);
        r.double(2.5);
        assert_eq!(r.buf, b"%2\r\n_\r\n#t\r\n,2.5\r\n");
    }
}
