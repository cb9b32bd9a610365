//! Redis's glob-style matcher (`stringmatchlen` in Redis 7.0's util.c), used by
//! KEYS, SCAN MATCH, PSUBSCRIBE/PUBSUB CHANNELS, CONFIG GET, CLIENT KILL/COMMAND
//! LIST FILTER PATTERN and ACL key/channel patterns.
//!
//! # Syntax
//! - `*` any run of bytes, `?` exactly one byte.
//! - `[abc]`, `[^abc]`, `[a-z]` (a reversed range `[z-a]` is accepted), `\x` inside a
//!   class matches `x` literally (and always case-sensitively, even with `nocase`).
//! - `\x` outside a class matches `x` literally.
//!
//! # Quirks kept on purpose
//! Clients and Redis's own tests depend on the exact answers, so the odd corners
//! behave as in Redis 7.0.15:
//! - a pattern never matches the empty string unless it is empty itself: `*`
//!   does not match `""`;
//! - an unterminated class (`[abc`) ends at the end of the pattern, and `[^` matches
//!   any single byte;
//! - in `[a-]` the `-` opens a range ending at `]`, so the class goes on past it;
//! - range ends compare as C `char`, which is signed: a byte >= 0x80 sorts below
//!   `'\0'` in a range.
//!
//! # Backtracking
//! Redis 7.0.15 stops a `*` from trying longer matches once the rest of the pattern
//! has failed at every later position (the fix for the "a*a*a*…b" blow-up). That
//! rule means only the innermost `*` ever backtracks, so this matcher keeps just
//! that one resume point and runs in a loop: O(pattern × string) time, constant
//! stack, whatever the nesting.

/// Whether `string` matches the glob `pattern`; `nocase` folds ASCII letters.
pub fn glob_match(pattern: &[u8], string: &[u8], nocase: bool) -> bool {
    // Redis reads one byte past the end of the pattern (its strings are
    // NUL-terminated) in a few places; `at` gives those reads the same answer.
    let at = |i: usize| -> u8 { pattern.get(i).copied().unwrap_or(0) };
    let plen = pattern.len();
    let slen = string.len();
    let (mut p, mut s) = (0usize, 0usize);
    // Where the innermost `*` resumes: the pattern after it and the next
    // string position it would try.
    let mut resume: Option<(usize, usize)> = None;

    loop {
        let step_ok = if p < plen && s < slen {
            match pattern[p] {
                b'*' => {
                    while p + 1 < plen && pattern[p + 1] == b'*' {
                        p += 1;
                    }
                    if p + 1 == plen {
                        return true;
                    }
                    resume = Some((p + 1, s + 1));
                    p += 1;
                    continue;
                }
                b'?' => {
                    s += 1;
                    true
                }
                b'[' => {
                    p += 1;
                    let negate = at(p) == b'^';
                    if negate {
                        p += 1;
                    }
                    let c = string[s];
                    let mut matched = false;
                    loop {
                        if at(p) == b'\\' && plen - p >= 2 {
                            p += 1;
                            if pattern[p] == c {
                                matched = true;
                            }
                        } else if at(p) == b']' {
                            break;
                        } else if p >= plen {
                            // Unterminated: step back so the shared advance
                            // below lands exactly on the end.
                            p -= 1;
                            break;
                        } else if plen - p >= 3 && pattern[p + 1] == b'-' {
                            let (mut lo, mut hi) = (signed(pattern[p]), signed(pattern[p + 2]));
                            if lo > hi {
                                std::mem::swap(&mut lo, &mut hi);
                            }
                            let mut ch = signed(c);
                            if nocase {
                                lo = fold(lo);
                                hi = fold(hi);
                                ch = fold(ch);
                            }
                            p += 2;
                            if ch >= lo && ch <= hi {
                                matched = true;
                            }
                        } else if same(pattern[p], c, nocase) {
                            matched = true;
                        }
                        p += 1;
                    }
                    if matched != negate {
                        s += 1;
                        true
                    } else {
                        false
                    }
                }
                b'\\' if plen - p >= 2 => {
                    p += 1;
                    let ok = same(pattern[p], string[s], nocase);
                    s += 1;
                    ok
                }
                other => {
                    let ok = same(other, string[s], nocase);
                    s += 1;
                    ok
                }
            }
        } else {
            // The pattern or the string ran out: a match only if both did.
            if p >= plen && s >= slen {
                return true;
            }
            false
        };

        if step_ok {
            p += 1;
            if s == slen {
                // Trailing stars match the empty rest of the string.
                while at(p) == b'*' {
                    p += 1;
                }
                if p >= plen {
                    return true;
                }
                // The string is used up but pattern is left: fall through to
                // backtracking on the next turn of the loop.
            }
            continue;
        }

        // A mismatch: let the innermost `*` swallow one more byte, unless it has
        // already tried every position (then no longer match can help either).
        match resume {
            Some((after_star, next)) if next < slen => {
                p = after_star;
                s = next;
                resume = Some((after_star, next + 1));
            }
            _ => return false,
        }
    }
}

/// A pattern byte as the C `char` Redis compares in ranges (signed on x86/ARM Linux).
fn signed(b: u8) -> i32 {
    b as i8 as i32
}

/// C `tolower` in the "C" locale: only ASCII letters change.
fn fold(c: i32) -> i32 {
    if (b'A' as i32..=b'Z' as i32).contains(&c) {
        c + 32
    } else {
        c
    }
}

fn same(a: u8, b: u8, nocase: bool) -> bool {
    if nocase {
        a.eq_ignore_ascii_case(&b)
    } else {
        a == b
    }
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    fn m(p: &str, s: &str) -> bool {
        glob_match(p.as_bytes(), s.as_bytes(), false)
    }

    #[test]
    fn literals_and_wildcards() {
        assert!(m("foo", "foo"));
        assert!(!m("foo", "fo"));
        assert!(!m("fo", "foo"));
        assert!(m("f?o", "fxo"));
        assert!(!m("f?o", "fo"));
        assert!(m("foo*", "foo"));
        assert!(m("foo*", "foobar"));
        assert!(m("*bar", "foobar"));
        assert!(m("*o*a*", "foobar"));
        assert!(m("a**b", "ab"));
        assert!(m("a*", "a"));
        assert!(m("", ""));
        assert!(!m("", "a"));
        // keyspace.tcl "KEYS with pattern": foo* picks foo_a, foo_b, foo_c only.
        for k in ["foo_a", "foo_b", "foo_c"] {
            assert!(m("foo*", k));
        }
        assert!(!m("foo*", "key_x"));
        // scan.tcl: "key:1??"
        assert!(m("key:1??", "key:123"));
        assert!(!m("key:1??", "key:12"));
        assert!(!m("key:1??", "key:1234"));
        // pubsub.tcl psubscribe foo.* / chan.*
        assert!(m("foo.*", "foo.bar"));
        assert!(!m("foo.*", "foo"));
    }

    #[test]
    fn star_never_matches_empty_string() {
        assert!(!m("*", ""));
        assert!(!m("**", ""));
        assert!(!m("?", ""));
        assert!(m("*", "x"));
    }

    #[test]
    fn classes() {
        assert!(m("h[ae]llo", "hello"));
        assert!(m("h[ae]llo", "hallo"));
        assert!(!m("h[ae]llo", "hillo"));
        assert!(m("h[^e]llo", "hallo"));
        assert!(!m("h[^e]llo", "hello"));
        assert!(m("h[a-b]llo", "hbllo"));
        assert!(m("h[b-a]llo", "hallo"), "reversed ranges are swapped");
        assert!(!m("h[a-b]llo", "hcllo"));
        assert!(m("[\\]]", "]"));
        assert!(m("[\\-]", "-"));
        assert!(m("[a\\-z]", "-"));
        assert!(!m("[a\\-z]", "b"));
    }

    #[test]
    fn unterminated_and_odd_classes() {
        assert!(!m("[", "a"));
        assert!(!m("[abc", "d"));
        assert!(m("[abc", "b"));
        assert!(m("[^", "x"), "an empty negated class matches any byte");
        assert!(!m("[^", "xy"));
        // `a-]` is a range up to ']', and the class continues with "b".
        assert!(m("[a-]b", "b"));
        assert!(m("[a-]b", "_"));
        assert!(!m("[a-]b]", "b]"));
        assert!(!m("[]", "]"));
    }

    #[test]
    fn escapes() {
        assert!(m("\\*", "*"));
        assert!(!m("\\*", "a"));
        assert!(m("a\\?b", "a?b"));
        assert!(!m("a\\?b", "axb"));
        assert!(m("\\", "\\"), "a trailing backslash is literal");
        assert!(m("a\\", "a\\"));
    }

    #[test]
    fn nocase() {
        assert!(glob_match(b"MAX*", b"maxmemory", true));
        assert!(glob_match(b"[A-C]x", b"bX", true));
        assert!(!glob_match(b"[A-C]x", b"bX", false));
        // An escaped byte inside a class is compared case-sensitively even then.
        assert!(!glob_match(b"[\\A]", b"a", true));
        assert!(glob_match(b"[\\A]", b"A", true));
    }

    #[test]
    fn high_bytes_compare_as_signed_chars() {
        // 'a'..0xff is swapped to 0xff(-1)..'a', which takes in '0' but not 'b'.
        assert!(glob_match(b"[a-\xff]", b"0", false));
        assert!(!glob_match(b"[a-\xff]", b"b", false));
        assert!(glob_match(b"[\x80-\xff]", b"\x90", false));
    }

    #[test]
    fn long_nested_loops_finish_quickly() {
        // keyspace.tcl "Regression for pattern matching long nested loops".
        let key = "a".repeat(40);
        assert!(!m("a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b", &key));
        let pat = "a*".repeat(5000) + "b";
        assert!(!m(&pat, &"a".repeat(20000)));
        assert!(m(&("a*".repeat(5000)), &"a".repeat(20000)));
    }
}
