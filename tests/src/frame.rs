//! Where one RESP2/RESP3 reply ends in a byte buffer, so [`crate::RawConn`] can hand back
//! replies one at a time with their exact bytes. This is deliberately independent of
//! `corvid-proto`'s codec: the tests must not share the code they check.

/// Length in bytes of the first complete reply at the start of `buf`; `Ok(None)` while
/// more bytes are needed; `Err` describing the problem when `buf` is not RESP.
pub fn reply_len(buf: &[u8]) -> Result<Option<usize>, String> {
    end_of(buf, 0)
}

/// End offset of the reply starting at `pos`.
fn end_of(buf: &[u8], pos: usize) -> Result<Option<usize>, String> {
    let Some(line_end) = find_crlf(buf, pos) else {
        return Ok(None);
    };
    let kind = buf[pos];
    let line = &buf[pos + 1..line_end];
    let after_line = line_end + 2;
    match kind {
        // Simple string, error, integer, RESP3 null, double, big number, boolean.
        b'+' | b'-' | b':' | b'_' | b',' | b'(' | b'#' => Ok(Some(after_line)),
        // Bulk string, RESP3 blob error and verbatim string: length-prefixed payload.
        b'$' | b'!' | b'=' => {
            let len = number(line)?;
            if len < 0 {
                return Ok(Some(after_line));
            }
            let end = after_line + len as usize + 2;
            if buf.len() < end {
                return Ok(None);
            }
            if &buf[end - 2..end] != b"\r\n" {
                return Err(format!("bulk payload at {pos} not followed by CRLF"));
            }
            Ok(Some(end))
        }
        // Array, RESP3 set and push: `count` children; maps and attributes: pairs.
        b'*' | b'~' | b'>' | b'%' | b'|' => {
            let count = number(line)?;
            if count < 0 {
                return Ok(Some(after_line));
            }
            let children = if matches!(kind, b'%' | b'|') {
                count * 2
            } else {
                count
            };
            let mut at = after_line;
            for _ in 0..children {
                match end_of(buf, at)? {
                    Some(end) => at = end,
                    None => return Ok(None),
                }
            }
            if kind == b'|' {
                // An attribute map is followed by the reply it annotates.
                return end_of(buf, at);
            }
            Ok(Some(at))
        }
        other => Err(format!(
            "not a RESP reply: type byte {:?} at offset {pos}",
            char::from(other)
        )),
    }
}

fn find_crlf(buf: &[u8], from: usize) -> Option<usize> {
    buf.get(from..)?
        .windows(2)
        .position(|w| w == b"\r\n")
        .map(|i| from + i)
}

fn number(line: &[u8]) -> Result<i64, String> {
    std::str::from_utf8(line)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad length {:?}", line.escape_ascii().to_string()))
}

#[cfg(test)]
mod tests {
    use super::reply_len;

    #[test]
    fn whole_replies_of_every_kind() {
        for reply in [
            &b"+OK\r\n"[..],
            b"-ERR x\r\n",
            b":12\r\n",
            b"$-1\r\n",
            b"$0\r\n\r\n",
            b"$5\r\nhe\r\no\r\n",
            b"*-1\r\n",
            b"*2\r\n$1\r\na\r\n:1\r\n",
            b"%1\r\n+k\r\n*1\r\n_\r\n",
            b"~2\r\n,1.5\r\n#t\r\n",
            b">2\r\n+a\r\n(123\r\n",
            b"=7\r\ntxt:abc\r\n",
            b"|1\r\n+a\r\n+b\r\n+reply\r\n",
        ] {
            assert_eq!(
                reply_len(reply),
                Ok(Some(reply.len())),
                "{}",
                reply.escape_ascii()
            );
            assert_eq!(
                reply_len(&reply[..reply.len() - 1]),
                Ok(None),
                "{}",
                reply.escape_ascii()
            );
        }
    }

    #[test]
    fn first_reply_of_several() {
        assert_eq!(reply_len(b"+PONG\r\n+PONG\r\n"), Ok(Some(7)));
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(reply_len(b"hello\r\n").is_err());
        assert!(reply_len(b"$x\r\n").is_err());
    }
}
