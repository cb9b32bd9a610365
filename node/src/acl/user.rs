//! A user: its flags, password hashes and selectors, and the rules that
//! change them (acl.c's `ACLSetUser` and `ACLDescribeUser`).

use super::selector::{has_spaces, Selector};
use super::RuleError;

/// User flags (USER_FLAG_*); `on` and `off` are separate bits, as a new
/// user has neither `on` nor sanitize flags until told.
pub const ENABLED: u8 = 1;
pub const DISABLED: u8 = 2;
pub const NOPASS: u8 = 4;
pub const SKIP_SANITIZE: u8 = 8;
pub const SANITIZE: u8 = 16;

/// The flag names in the order ACL LIST and GETUSER print them.
const FLAG_NAMES: [(u8, &str); 5] =
    [(ENABLED, "on"), (DISABLED, "off"), (NOPASS, "nopass"), (SKIP_SANITIZE, "skip-sanitize-payload"), (SANITIZE, "sanitize-payload")];

#[derive(Debug, Clone)]
pub struct User {
    pub name: Vec<u8>,
    pub flags: u8,
    /// SHA-256 digests as 64 lowercase hex digits.
    pub passwords: Vec<String>,
    /// The root selector first.
    pub selectors: Vec<Selector>,
    /// Cached: some selector allows every command, key and channel, so
    /// commands need no check (the hot path's single test).
    pub unrestricted: bool,
}

impl User {
    /// A new user: off, no passwords, no permissions (ACLCreateUser).
    pub fn new(name: &[u8], all_channels: bool) -> User {
        User { name: name.to_vec(), flags: DISABLED, passwords: Vec::new(), selectors: vec![Selector::new(all_channels)], unrestricted: false }
    }

    pub fn enabled(&self) -> bool {
        self.flags & DISABLED == 0
    }

    pub fn nopass(&self) -> bool {
        self.flags & NOPASS != 0
    }

    pub fn root(&self) -> &Selector {
        &self.selectors[0]
    }

    /// Apply one rule (ACLSetUser). `all_channels` is what
    /// `acl-pubsub-default` gives new selectors and `reset`.
    pub fn apply(&mut self, op: &[u8], all_channels: bool) -> Result<(), RuleError> {
        let result = self.apply_rule(op, all_channels);
        self.unrestricted = self.selectors.iter().any(Selector::unrestricted);
        result
    }

    fn apply_rule(&mut self, op: &[u8], all_channels: bool) -> Result<(), RuleError> {
        if op.is_empty() {
            return Ok(());
        }
        let is = |word: &str| op.eq_ignore_ascii_case(word.as_bytes());
        if is("on") {
            self.flags = (self.flags | ENABLED) & !DISABLED;
        } else if is("off") {
            self.flags = (self.flags | DISABLED) & !ENABLED;
        } else if is("skip-sanitize-payload") {
            self.flags = (self.flags | SKIP_SANITIZE) & !SANITIZE;
        } else if is("sanitize-payload") {
            self.flags = (self.flags | SANITIZE) & !SKIP_SANITIZE;
        } else if is("nopass") {
            self.flags |= NOPASS;
            self.passwords.clear();
        } else if is("resetpass") {
            self.flags &= !NOPASS;
            self.passwords.clear();
        } else if op[0] == b'>' || op[0] == b'#' {
            let hash = password_hash(op)?;
            if !self.passwords.contains(&hash) {
                self.passwords.push(hash);
            }
            self.flags &= !NOPASS;
        } else if op[0] == b'<' || op[0] == b'!' {
            let hash = password_hash(op)?;
            let at = self.passwords.iter().position(|p| *p == hash).ok_or(RuleError::NoSuchPassword)?;
            self.passwords.remove(at);
        } else if op[0] == b'(' && op[op.len() - 1] == b')' {
            let mut selector = Selector::new(all_channels);
            // Unbalanced quotes leave the selector empty, as in Redis.
            for rule in corvid_proto::resp::split_args(&op[1..op.len() - 1]).unwrap_or_default() {
                selector.apply(&rule)?;
            }
            self.selectors.push(selector);
        } else if is("clearselectors") {
            self.selectors.truncate(1);
        } else if is("reset") {
            for rule in ["resetpass", "resetkeys", "resetchannels"] {
                self.apply_rule(rule.as_bytes(), all_channels)?;
            }
            if all_channels {
                self.apply_rule(b"allchannels", all_channels)?;
            }
            for rule in ["off", "sanitize-payload", "clearselectors", "-@all"] {
                self.apply_rule(rule.as_bytes(), all_channels)?;
            }
        } else {
            self.selectors[0].apply(op)?;
        }
        Ok(())
    }

    /// Whether `pass` logs this user in (ACLCheckUserCredentials, past the
    /// user lookup).
    pub fn accepts(&self, pass: &[u8]) -> bool {
        if !self.enabled() {
            return false;
        }
        if self.nopass() {
            return true;
        }
        let hashed = crate::config::sha256::hex(pass);
        // Every stored hash is compared in full, so timing tells nothing.
        self.passwords.iter().fold(false, |found, p| found | constant_time_eq(p.as_bytes(), hashed.as_bytes()))
    }

    /// GETUSER's flags, in Redis's order.
    pub fn flag_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        FLAG_NAMES.iter().filter(|(f, _)| self.flags & f != 0).map(|(_, n)| *n)
    }

    /// The user as rules (ACLDescribeUser): what ACL LIST prints after the
    /// name, and what CONFIG REWRITE and ACL SAVE write.
    pub fn describe(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for name in self.flag_names() {
            out.extend_from_slice(name.as_bytes());
            out.push(b' ');
        }
        for p in &self.passwords {
            out.push(b'#');
            out.extend_from_slice(p.as_bytes());
            out.push(b' ');
        }
        out.extend_from_slice(&self.selectors[0].describe());
        for s in &self.selectors[1..] {
            out.extend_from_slice(b" (");
            out.extend_from_slice(&s.describe());
            out.push(b')');
        }
        out
    }
}

/// The stored form of a `>pass`, `<pass`, `#hash` or `!hash` rule.
fn password_hash(op: &[u8]) -> Result<String, RuleError> {
    let rest = &op[1..];
    if op[0] == b'>' || op[0] == b'<' {
        return Ok(crate::config::sha256::hex(rest));
    }
    if rest.len() != 64 || !rest.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(RuleError::BadHash);
    }
    Ok(String::from_utf8_lossy(rest).into_owned())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

/// Usernames follow the pattern rule: no whitespace, no NUL.
pub fn valid_name(name: &[u8]) -> bool {
    !has_spaces(name)
}

/// Merge a selector spread over several arguments ("(~a" "+get)") into
/// one (ACLMergeSelectorArguments); Err with the argument that opened an
/// unmatched parenthesis.
pub fn merge_selector_args<'a>(args: &[&'a [u8]]) -> Result<Vec<std::borrow::Cow<'a, [u8]>>, &'a [u8]> {
    use std::borrow::Cow;
    let mut out: Vec<Cow<'a, [u8]>> = Vec::new();
    let mut open: Option<(&'a [u8], Vec<u8>)> = None;
    for &op in args {
        if let Some((start, mut merged)) = open.take() {
            merged.push(b' ');
            merged.extend_from_slice(op);
            if op.last() == Some(&b')') {
                out.push(Cow::Owned(merged));
            } else {
                open = Some((start, merged));
            }
            continue;
        }
        if op.first() == Some(&b'(') && op.last() != Some(&b')') {
            open = Some((op, op.to_vec()));
            continue;
        }
        out.push(Cow::Borrowed(op));
    }
    match open {
        Some((start, _)) => Err(start),
        None => Ok(out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(rules: &[&str]) -> User {
        let mut u = User::new(b"u", false);
        for r in rules {
            u.apply(r.as_bytes(), false).unwrap_or_else(|e| panic!("{r}: {e}"));
        }
        u
    }

    fn describe(u: &User) -> String {
        String::from_utf8(u.describe()).unwrap()
    }

    #[test]
    fn describes_users_like_acl_list() {
        assert_eq!(describe(&user(&[])), "off resetchannels -@all");
        assert_eq!(describe(&user(&["reset"])), "off sanitize-payload resetchannels -@all");
        assert_eq!(describe(&user(&["on", "nopass", "resetchannels", "&foo", "+@all"])), "on nopass resetchannels &foo +@all");
        let u = user(&["on", ">pass", "~k*", "(+get ~x)"]);
        assert_eq!(
            describe(&u),
            format!("on #{} ~k* resetchannels -@all (~x resetchannels -@all +get)", crate::config::sha256::hex(b"pass"))
        );
    }

    #[test]
    fn passwords() {
        let mut u = user(&["on", ">a", ">b"]);
        assert!(u.accepts(b"a") && u.accepts(b"b") && !u.accepts(b"c"));
        u.apply(b"<a", false).unwrap();
        assert!(!u.accepts(b"a"));
        assert_eq!(u.apply(b"<a", false), Err(RuleError::NoSuchPassword));
        assert_eq!(u.apply(b"#abc", false), Err(RuleError::BadHash));
        let hash = crate::config::sha256::hex(b"h");
        u.apply(format!("#{hash}").as_bytes(), false).unwrap();
        assert!(u.accepts(b"h"));
        u.apply(b"off", false).unwrap();
        assert!(!u.accepts(b"h"));
        u.apply(b"on", false).unwrap();
        u.apply(b"nopass", false).unwrap();
        assert!(u.accepts(b"anything") && u.passwords.is_empty());
    }

    #[test]
    fn merges_selectors() {
        let args: Vec<&[u8]> = vec![b"on", b"(~a", b"+get", b")", b"(~b)"];
        let merged = merge_selector_args(&args).unwrap();
        let merged: Vec<&[u8]> = merged.iter().map(|c| c.as_ref()).collect();
        assert_eq!(merged, vec![&b"on"[..], b"(~a +get )", b"(~b)"]);
        assert_eq!(merge_selector_args(&[b"("]).unwrap_err(), b"(");
        assert_eq!(merge_selector_args(&[b"(~a", b"+get"]).unwrap_err(), b"(~a");
    }
}
