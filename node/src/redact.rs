//! Which arguments of a command are secrets that the slow log and MONITOR
//! show as `(redacted)`: what Redis's handlers pass to
//! redactClientCommandArgument as they parse. Redis redacts while parsing,
//! so an argument after the point where parsing gave up with an error is
//! shown as sent; the rules below stop at the same points.

use corvid_proto::resp::Args;

/// The indexes of `args`' secret arguments, ascending; `sensitive(name)`
/// tells whether a config directive's value is a secret (CONFIG SET). Empty,
/// without allocating, for every command but AUTH, HELLO, MIGRATE, ACL
/// SETUSER and CONFIG SET.
pub fn secret_args(args: &Args<'_>, sensitive: impl Fn(&[u8]) -> bool) -> Vec<usize> {
    let n = args.len();
    let is = |i: usize, word: &str| i < n && args.get(i).eq_ignore_ascii_case(word.as_bytes());
    let mut secret = Vec::new();
    if is(0, "auth") {
        // More than AUTH user pass is a syntax error, before any redaction.
        if n <= 3 {
            secret.extend(1..n);
        }
    } else if is(0, "hello") {
        if n >= 2 && !matches!(corvid_proto::resp::parse_i64(args.get(1)), Some(2..=3)) {
            return secret;
        }
        let mut i = 2;
        while i < n {
            let more = n - 1 - i;
            if is(i, "auth") && more >= 2 {
                // (A failed authentication stops HELLO here too; whether it
                // fails is not the arguments' business, and a second AUTH
                // after a failed one is the only argument it would change.)
                secret.extend([i + 1, i + 2]);
                i += 3;
            } else if is(i, "setname") && more >= 1 && valid_client_name(args.get(i + 1)) {
                i += 2;
            } else {
                break;
            }
        }
    } else if is(0, "migrate") {
        let mut i = 6;
        while i < n {
            let more = n - 1 - i;
            if is(i, "copy") || is(i, "replace") {
                i += 1;
            } else if is(i, "auth") && more >= 1 {
                secret.push(i + 1);
                i += 2;
            } else if is(i, "auth2") && more >= 2 {
                secret.extend([i + 1, i + 2]);
                i += 3;
            } else {
                // KEYS ends the options; anything else is an error.
                break;
            }
        }
    } else if is(0, "acl") && is(1, "setuser") {
        // The user name too: nothing about the user is shown.
        secret.extend(2..n);
    } else if is(0, "config") && is(1, "set") && n % 2 == 0 {
        // Every pair is looked at, even past an error in an earlier one.
        secret.extend((2..n).step_by(2).filter(|&i| sensitive(args.get(i))).map(|i| i + 1));
    }
    secret
}

/// CLIENT SETNAME's rule (printable ASCII, no spaces); HELLO stops at a
/// name it refuses.
fn valid_client_name(name: &[u8]) -> bool {
    name.iter().all(|b| (b'!'..=b'~').contains(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use corvid_proto::resp::{Limits, Parsed, RequestParser};

    fn secrets(words: &[&str]) -> Vec<usize> {
        let mut buf = Vec::new();
        let argv: Vec<&[u8]> = words.iter().map(|w| w.as_bytes()).collect();
        corvid_proto::resp::encode_command(&mut buf, &argv);
        let mut parser = RequestParser::new();
        let limits = Limits { max_bulk_len: i64::MAX, auth_required: false };
        let Ok(Parsed::Command(cmd)) = parser.parse(&buf, &limits) else { panic!("parses") };
        let args = parser.args(&buf, cmd);
        secret_args(&args, |name| name.eq_ignore_ascii_case(b"masterauth"))
    }

    #[test]
    fn auth() {
        assert_eq!(secrets(&["AUTH", "pw"]), vec![1]);
        assert_eq!(secrets(&["auth", "user", "pw"]), vec![1, 2]);
        assert_eq!(secrets(&["auth", "a", "b", "c"]), Vec::<usize>::new());
    }

    #[test]
    fn hello() {
        assert_eq!(secrets(&["hello", "3", "auth", "u", "p"]), vec![3, 4]);
        assert_eq!(secrets(&["hello", "3", "setname", "n", "auth", "u", "p"]), vec![5, 6]);
        assert_eq!(secrets(&["hello", "4", "auth", "u", "p"]), Vec::<usize>::new());
        assert_eq!(secrets(&["hello", "2", "setname", "a b", "auth", "u", "p"]), Vec::<usize>::new());
        assert_eq!(secrets(&["hello", "2", "auth", "u"]), Vec::<usize>::new());
    }

    #[test]
    fn migrate() {
        let base = ["migrate", "h", "1", "key", "0", "5000"];
        let with = |extra: &[&'static str]| secrets(&[&base[..], extra].concat());
        assert_eq!(with(&[]), Vec::<usize>::new());
        assert_eq!(with(&["copy", "AUTH", "pw"]), vec![8]);
        assert_eq!(with(&["AUTH2", "u", "pw", "replace"]), vec![7, 8]);
        assert_eq!(with(&["bogus", "AUTH", "pw"]), Vec::<usize>::new());
        assert_eq!(with(&["keys", "auth", "pw"]), Vec::<usize>::new());
        assert_eq!(with(&["auth"]), Vec::<usize>::new());
    }

    #[test]
    fn acl_setuser_and_config_set() {
        assert_eq!(secrets(&["acl", "setuser", "u", "on", ">pw"]), vec![2, 3, 4]);
        assert_eq!(secrets(&["acl", "getuser", "u"]), Vec::<usize>::new());
        assert_eq!(secrets(&["config", "set", "maxmemory", "1", "MASTERAUTH", "pw"]), vec![5]);
        assert_eq!(secrets(&["config", "set", "masterauth", "pw", "x"]), Vec::<usize>::new());
        assert_eq!(secrets(&["get", "auth"]), Vec::<usize>::new());
    }
}
