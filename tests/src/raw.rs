//! A plain TCP connection that sends exact bytes and returns exact reply bytes: for
//! protocol edge cases and for replies whose bytes are the contract (error strings,
//! RESP3 types, float formatting).

use std::fmt;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::frame;

/// How long a read waits for the server before the test fails.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Encodes `args` as a RESP multibulk request (`*N\r\n$len\r\narg\r\n...`).
pub fn multibulk<A: AsRef<[u8]>>(args: &[A]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        let arg = arg.as_ref();
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// One connection to a server, with its own read buffer so that replies that arrive
/// together are handed back one at a time.
pub struct RawConn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl RawConn {
    pub fn connect(port: u16) -> RawConn {
        let stream = TcpStream::connect(("127.0.0.1", port))
            .unwrap_or_else(|e| panic!("connect to 127.0.0.1:{port}: {e}"));
        stream.set_nodelay(true).unwrap();
        stream.set_read_timeout(Some(DEFAULT_TIMEOUT)).unwrap();
        stream.set_write_timeout(Some(DEFAULT_TIMEOUT)).unwrap();
        RawConn {
            stream,
            buf: Vec::new(),
        }
    }

    /// Changes how long reads wait before the test fails.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.stream.set_read_timeout(Some(timeout)).unwrap();
    }

    /// Writes `bytes` in one `write_all`.
    pub fn send(&mut self, bytes: &[u8]) {
        self.stream
            .write_all(bytes)
            .unwrap_or_else(|e| panic!("write {} bytes: {e}", bytes.len()));
    }

    /// Sends one command as a multibulk request and returns its reply.
    pub fn cmd(&mut self, args: &[&str]) -> Reply {
        self.cmd_bytes(args)
    }

    /// [`RawConn::cmd`] for binary arguments.
    pub fn cmd_bytes<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Reply {
        self.send(&multibulk(args));
        self.read_reply()
    }

    /// Reads exactly one complete reply; panics on timeout, on a closed connection or
    /// on bytes that are not RESP, showing what had arrived.
    pub fn read_reply(&mut self) -> Reply {
        loop {
            match frame::reply_len(&self.buf) {
                Ok(Some(len)) => {
                    let rest = self.buf.split_off(len);
                    return Reply(std::mem::replace(&mut self.buf, rest));
                }
                Ok(None) => {}
                Err(e) => panic!("{e}; received {:?}", Reply(self.buf.clone())),
            }
            match self.fill() {
                Ok(0) => panic!(
                    "connection closed before a complete reply; received {:?}",
                    Reply(self.buf.clone())
                ),
                Ok(_) => {}
                Err(e) => panic!(
                    "no complete reply ({e}); received {:?}",
                    Reply(self.buf.clone())
                ),
            }
        }
    }

    /// Reads `n` replies.
    pub fn read_replies(&mut self, n: usize) -> Vec<Reply> {
        (0..n).map(|_| self.read_reply()).collect()
    }

    /// Reads until the server closes the connection and returns everything received
    /// (including replies already buffered); panics if it stays open past the timeout.
    pub fn read_to_close(&mut self) -> Reply {
        loop {
            match self.fill() {
                Ok(0) => return Reply(std::mem::take(&mut self.buf)),
                Ok(_) => {}
                // A close with unread request bytes still in the server's socket is a reset.
                Err(e) if e.kind() == ErrorKind::ConnectionReset => {
                    return Reply(std::mem::take(&mut self.buf))
                }
                Err(e) => panic!(
                    "connection still open ({e}); received {:?}",
                    Reply(self.buf.clone())
                ),
            }
        }
    }

    fn fill(&mut self) -> std::io::Result<usize> {
        let mut chunk = [0u8; 64 * 1024];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    return Ok(n);
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// The underlying stream, e.g. to shut down one direction.
    pub fn stream(&self) -> &TcpStream {
        &self.stream
    }
}

/// The exact bytes of one reply (or of everything read before a close). Compares equal
/// to `&str` and byte strings, and prints as an escaped byte string so that a failing
/// `assert_eq!` shows `"-ERR ...\r\n"` rather than a list of numbers.
#[derive(Clone, PartialEq, Eq)]
pub struct Reply(pub Vec<u8>);

impl Reply {
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The reply as text, invalid UTF-8 replaced.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0).into_owned()
    }

    pub fn contains(&self, needle: &str) -> bool {
        let needle = needle.as_bytes();
        needle.is_empty() || self.0.windows(needle.len()).any(|w| w == needle)
    }

    pub fn starts_with(&self, prefix: &str) -> bool {
        self.0.starts_with(prefix.as_bytes())
    }
}

impl fmt::Debug for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "b\"{}\"", self.0.escape_ascii())
    }
}

impl PartialEq<&str> for Reply {
    fn eq(&self, other: &&str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl PartialEq<str> for Reply {
    fn eq(&self, other: &str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl PartialEq<&[u8]> for Reply {
    fn eq(&self, other: &&[u8]) -> bool {
        self.0 == *other
    }
}

impl<const N: usize> PartialEq<&[u8; N]> for Reply {
    fn eq(&self, other: &&[u8; N]) -> bool {
        self.0 == other[..]
    }
}

impl PartialEq<Vec<u8>> for Reply {
    fn eq(&self, other: &Vec<u8>) -> bool {
        &self.0 == other
    }
}
