//! A selector: one set of permissions (commands, key patterns, channel
//! patterns). A user has a root selector and any number of added ones; a
//! command is allowed when one of them allows it (acl.c's `aclSelector`).

use corvid_proto::command_table::{self, AclCategories, CmdFlags, CommandSpec, KeyRef, KeySpecFlags};

use super::catalog::{catalog, category, CommandId, MAX_COMMANDS};
use super::RuleError;
use crate::glob::glob_match;

const WORDS: usize = MAX_COMMANDS / 64;

/// Key pattern permissions (ACL_READ_PERMISSION, ACL_WRITE_PERMISSION).
pub const READ: u8 = 1;
pub const WRITE: u8 = 2;
pub const READ_WRITE: u8 = READ | WRITE;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPattern {
    pub pattern: Vec<u8>,
    pub perm: u8,
}

impl KeyPattern {
    /// `~pat`, `%R~pat` or `%W~pat`.
    fn describe(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(match self.perm {
            READ => b"%R~".as_slice(),
            WRITE => b"%W~",
            _ => b"~",
        });
        out.extend_from_slice(&self.pattern);
    }
}

/// Why a selector refuses a command; the order is Redis's (ACL_DENIED_*):
/// of several selectors' refusals, the highest is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Denied {
    Command,
    /// The argument index of the key.
    Key(usize),
    /// The argument index of the channel.
    Channel(usize),
}

impl Denied {
    fn rank(self) -> u8 {
        match self {
            Denied::Command => 1,
            Denied::Key(_) => 2,
            Denied::Channel(_) => 4,
        }
    }

    fn pos(self) -> usize {
        match self {
            Denied::Command => 0,
            Denied::Key(p) | Denied::Channel(p) => p,
        }
    }

    /// Of two refusals, the one Redis reports: the higher reason, then the
    /// later argument (ACLCheckAllUserCommandPerm).
    pub fn worse(self, other: Denied) -> Denied {
        if other.rank() > self.rank() || (other.rank() == self.rank() && other.pos() > self.pos()) {
            other
        } else {
            self
        }
    }
}

/// The keys of one command, found once for all of a user's selectors.
#[derive(Default)]
pub struct KeyCache(Option<Vec<KeyRef>>);

#[derive(Debug, Clone, Default)]
pub struct Selector {
    pub all_keys: bool,
    pub all_channels: bool,
    /// Every command, without reading the bitmap (SELECTOR_FLAG_ALLCOMMANDS):
    /// set by +@all, lost by any removal.
    pub all_commands: bool,
    /// Redis's reserved "future commands" bit: set by +@all, cleared only by
    /// -@all; descriptions start from +@all when it is set.
    future: bool,
    allowed: [u64; WORDS],
    /// Allowed first arguments of otherwise denied commands (+select|0).
    firstargs: Vec<(CommandId, Vec<Vec<u8>>)>,
    pub keys: Vec<KeyPattern>,
    pub channels: Vec<Vec<u8>>,
}

impl Selector {
    /// An empty selector: no commands, no keys, and all channels only when
    /// `acl-pubsub-default` is `allchannels`.
    pub fn new(all_channels: bool) -> Selector {
        Selector { all_channels, ..Selector::default() }
    }

    /// Whether nothing needs checking: every command, key and channel.
    pub fn unrestricted(&self) -> bool {
        self.all_commands && self.all_keys && self.all_channels
    }

    fn bit(&self, id: CommandId) -> bool {
        self.allowed[id / 64] & (1 << (id % 64)) != 0
    }

    fn set_bit(&mut self, id: CommandId, on: bool) {
        if on {
            self.allowed[id / 64] |= 1 << (id % 64);
        } else {
            self.allowed[id / 64] &= !(1 << (id % 64));
            self.all_commands = false;
        }
    }

    /// Allow or deny a command and, for a container, all its subcommands
    /// (ACLChangeSelectorPerm).
    fn change_perm(&mut self, id: CommandId, allow: bool) {
        self.set_bit(id, allow);
        self.firstargs.retain(|(c, _)| *c != id);
        for &sub in &catalog().subs[id] {
            self.set_bit(sub, allow);
        }
    }

    fn set_category(&mut self, cat: AclCategories, allow: bool) {
        for id in catalog().in_category(cat) {
            self.change_perm(id, allow);
        }
    }

    fn set_all(&mut self, allow: bool) {
        self.allowed = if allow { [!0; WORDS] } else { [0; WORDS] };
        self.all_commands = allow;
        self.future = allow;
        self.firstargs.clear();
    }

    /// Apply one selector rule (ACLSetSelector).
    pub fn apply(&mut self, op: &[u8]) -> Result<(), RuleError> {
        let is = |word: &str| op.eq_ignore_ascii_case(word.as_bytes());
        if op.is_empty() {
            return Err(RuleError::Syntax);
        }
        if is("allkeys") || is("~*") {
            self.all_keys = true;
            self.keys.clear();
        } else if is("resetkeys") {
            self.all_keys = false;
            self.keys.clear();
        } else if is("allchannels") || is("&*") {
            self.all_channels = true;
            self.channels.clear();
        } else if is("resetchannels") {
            self.all_channels = false;
            self.channels.clear();
        } else if is("allcommands") || is("+@all") {
            self.set_all(true);
        } else if is("nocommands") || is("-@all") {
            self.set_all(false);
        } else if op[0] == b'~' || op[0] == b'%' {
            self.add_key_pattern(op)?;
        } else if op[0] == b'&' {
            if self.all_channels {
                return Err(RuleError::ChannelAfterAll);
            }
            let pattern = &op[1..];
            if has_spaces(pattern) {
                return Err(RuleError::Syntax);
            }
            if !self.channels.iter().any(|c| c == pattern) {
                self.channels.push(pattern.to_vec());
            }
        } else if op.len() >= 2 && op[1] == b'@' && (op[0] == b'+' || op[0] == b'-') {
            let cat = category(&op[2..]).ok_or(RuleError::UnknownCommand)?;
            self.set_category(cat, op[0] == b'+');
        } else if op[0] == b'+' {
            self.allow_command(&op[1..])?;
        } else if op[0] == b'-' {
            let id = catalog().find(&op[1..]).ok_or(RuleError::UnknownCommand)?;
            self.change_perm(id, false);
        } else {
            return Err(RuleError::Syntax);
        }
        Ok(())
    }

    /// `~pattern`, `%R~pattern`, `%W~pattern`, `%RW~pattern`.
    fn add_key_pattern(&mut self, op: &[u8]) -> Result<(), RuleError> {
        if self.all_keys {
            return Err(RuleError::KeyAfterAll);
        }
        let (perm, offset) = if op[0] == b'%' {
            let mut perm = 0;
            let mut offset = 1;
            while offset < op.len() {
                match op[offset].to_ascii_uppercase() {
                    b'R' if perm & READ == 0 => perm |= READ,
                    b'W' if perm & WRITE == 0 => perm |= WRITE,
                    b'~' => {
                        offset += 1;
                        break;
                    }
                    _ => return Err(RuleError::Syntax),
                }
                offset += 1;
            }
            (perm, offset)
        } else {
            (READ_WRITE, 1)
        };
        // "%~x" would grant a pattern no permission at all.
        let pattern = &op[offset.min(op.len())..];
        if perm == 0 || has_spaces(pattern) {
            return Err(RuleError::Syntax);
        }
        match self.keys.iter_mut().find(|k| k.pattern == pattern) {
            Some(k) => k.perm |= perm,
            None => self.keys.push(KeyPattern { pattern: pattern.to_vec(), perm }),
        }
        Ok(())
    }

    /// `+command`, `+container|sub`, or `+command|first-arg`.
    fn allow_command(&mut self, name: &[u8]) -> Result<(), RuleError> {
        let cat = catalog();
        let Some(bar) = name.iter().rposition(|&b| b == b'|') else {
            let id = cat.find(name).ok_or(RuleError::UnknownCommand)?;
            self.change_perm(id, true);
            return Ok(());
        };
        let (base, arg) = (&name[..bar], &name[bar + 1..]);
        let id = cat.find(base).ok_or(RuleError::UnknownCommand)?;
        if cat.is_sub[id] {
            return Err(RuleError::FirstArgOfSubcommand);
        }
        if arg.is_empty() {
            return Err(RuleError::Syntax);
        }
        if !cat.subs[id].is_empty() {
            let sub = cat.find(name).ok_or(RuleError::UnknownCommand)?;
            self.change_perm(sub, true);
            return Ok(());
        }
        // Allowing one first argument of a command without subcommands
        // (SELECT 0, DEBUG OBJECT): Redis logs it as a deprecated misuse.
        tracing::warn!(
            "Deprecation warning: Allowing a first arg of an otherwise blocked command is a misuse of ACL and may get disabled in the future (offender: +{})",
            String::from_utf8_lossy(name)
        );
        match self.firstargs.iter_mut().find(|(c, _)| *c == id) {
            Some((_, args)) => {
                if !args.iter().any(|a| a.eq_ignore_ascii_case(arg)) {
                    args.push(arg.to_vec());
                }
            }
            None => self.firstargs.push((id, vec![arg.to_vec()])),
        }
        Ok(())
    }

    /// Whether this selector lets `argv` run as command `id`
    /// (ACLSelectorCheckCmd).
    pub fn check(&self, id: CommandId, spec: &'static CommandSpec, argv: &[&[u8]], keys: &mut KeyCache) -> Result<(), Denied> {
        if !self.all_commands && !spec.flags.contains(CmdFlags::NO_AUTH) && !self.bit(id) {
            let idx = if catalog().is_sub[id] { 2 } else { 1 };
            let allowed = match (self.firstargs.iter().find(|(c, _)| *c == id), argv.get(idx)) {
                (Some((_, args)), Some(first)) if argv.len() >= 2 => args.iter().any(|a| a.eq_ignore_ascii_case(first)),
                _ => false,
            };
            if !allowed {
                return Err(Denied::Command);
            }
        }
        if !self.all_keys && spec.has_keys() {
            let found = keys.0.get_or_insert_with(|| command_table::extract_keys(spec, argv));
            for k in found.iter() {
                if !self.key_allowed(argv[k.pos], k.flags) {
                    return Err(Denied::Key(k.pos));
                }
            }
        }
        if !self.all_channels {
            if let Some((positions, is_pattern)) = channel_args(spec, argv.len()) {
                for pos in positions {
                    if !channel_allowed(&self.channels, argv[pos], is_pattern) {
                        return Err(Denied::Channel(pos));
                    }
                }
            }
        }
        Ok(())
    }

    /// Whether a key may be used as a key spec with `flags` uses it
    /// (ACLSelectorCheckKey).
    pub fn key_allowed(&self, key: &[u8], flags: KeySpecFlags) -> bool {
        if self.all_keys {
            return true;
        }
        let need = needed_perm(flags);
        self.keys.iter().any(|p| p.perm & need == need && glob_match(&p.pattern, key, false))
    }

    /// Whether every key is allowed for the access in `flags`
    /// (ACLSelectorHasUnrestrictedKeyAccess).
    pub fn all_keys_allowed(&self, flags: KeySpecFlags) -> bool {
        if self.all_keys {
            return true;
        }
        let need = needed_perm(flags);
        self.keys.iter().any(|p| p.perm & need == need && p.pattern == b"*")
    }

    /// The command rules that rebuild this selector's bitmap, from +@all or
    /// -@all, then the best-fitting categories, then single commands
    /// (ACLDescribeSelectorCommandRules).
    pub fn describe_commands(&self) -> Vec<u8> {
        let cat = catalog();
        let n = cat.specs.len();
        let additive = !self.future;
        let mut rules: Vec<u8> = Vec::new();
        let mut fake = Selector::default();
        fake.set_all(!additive);
        rules.extend_from_slice(if additive { b"-@all " } else { b"+@all " });
        // Categories applied so far are undone on `temp`, so each round
        // measures what is left to explain.
        let mut temp = Selector { allowed: self.allowed, ..Selector::default() };
        let categories: Vec<(&str, AclCategories)> =
            AclCategories::all_names().map(|name| (name, AclCategories::from_name(name.as_bytes()).expect("a category's own name"))).collect();
        let mut applied = vec![false; categories.len()];
        loop {
            let mut best = None;
            let (mut mindiff, mut maxsame) = (usize::MAX, 0);
            for (j, &(_, flag)) in categories.iter().enumerate() {
                if applied[j] {
                    continue;
                }
                let (mut on, mut off) = (0, 0);
                for id in cat.in_category(flag) {
                    if temp.bit(id) {
                        on += 1;
                    } else {
                        off += 1;
                    }
                }
                let (diff, same) = if additive { (off, on) } else { (on, off) };
                if same > diff && (diff < mindiff || (diff == mindiff && same > maxsame)) {
                    best = Some(j);
                    mindiff = diff;
                    maxsame = same;
                }
            }
            let Some(j) = best else { break };
            let (name, flag) = categories[j];
            fake.set_category(flag, additive);
            temp.set_category(flag, !additive);
            rules.push(if additive { b'+' } else { b'-' });
            rules.push(b'@');
            rules.extend_from_slice(name.as_bytes());
            rules.push(b' ');
            applied[j] = true;
        }
        // Single commands make up the difference; firstargs follow their
        // command's subcommands.
        for id in (0..n).filter(|&id| !cat.is_sub[id]) {
            for c in std::iter::once(id).chain(cat.subs[id].iter().copied()) {
                let mine = self.bit(c);
                if mine != fake.bit(c) {
                    rules.push(if mine { b'+' } else { b'-' });
                    rules.extend_from_slice(cat.specs[c].full_name.as_bytes());
                    rules.push(b' ');
                    fake.change_perm(c, mine);
                }
            }
            if !self.bit(id) {
                if let Some((_, args)) = self.firstargs.iter().find(|(c, _)| *c == id) {
                    for a in args {
                        rules.push(b'+');
                        rules.extend_from_slice(cat.specs[id].full_name.as_bytes());
                        rules.push(b'|');
                        rules.extend_from_slice(a);
                        rules.push(b' ');
                    }
                }
            }
        }
        debug_assert!((0..n).all(|id| fake.bit(id) == self.bit(id)), "described rules rebuild the bitmap");
        rules.pop();
        rules
    }

    /// GETUSER's `keys` field.
    pub fn describe_keys(&self) -> Vec<u8> {
        if self.all_keys {
            return b"~*".to_vec();
        }
        let mut out = Vec::new();
        for (i, k) in self.keys.iter().enumerate() {
            if i > 0 {
                out.push(b' ');
            }
            k.describe(&mut out);
        }
        out
    }

    /// GETUSER's `channels` field.
    pub fn describe_channels(&self) -> Vec<u8> {
        if self.all_channels {
            return b"&*".to_vec();
        }
        let mut out = Vec::new();
        for (i, c) in self.channels.iter().enumerate() {
            if i > 0 {
                out.push(b' ');
            }
            out.push(b'&');
            out.extend_from_slice(c);
        }
        out
    }

    /// The selector as ACL rules (ACLDescribeSelector): keys, channels,
    /// commands.
    pub fn describe(&self) -> Vec<u8> {
        let mut out = Vec::new();
        if self.all_keys {
            out.extend_from_slice(b"~* ");
        } else {
            for k in &self.keys {
                k.describe(&mut out);
                out.push(b' ');
            }
        }
        if self.all_channels {
            out.extend_from_slice(b"&* ");
        } else {
            out.extend_from_slice(b"resetchannels ");
            for c in &self.channels {
                out.push(b'&');
                out.extend_from_slice(c);
                out.push(b' ');
            }
        }
        out.extend_from_slice(&self.describe_commands());
        out
    }
}

/// The permission a key spec's flags need: read for ACCESS, write for
/// INSERT, DELETE or UPDATE.
fn needed_perm(flags: KeySpecFlags) -> u8 {
    let mut need = 0;
    if flags.contains(KeySpecFlags::ACCESS) {
        need |= READ;
    }
    if flags.intersects(KeySpecFlags::INSERT | KeySpecFlags::DELETE | KeySpecFlags::UPDATE) {
        need |= WRITE;
    }
    need
}

/// The channel arguments ACLs check, and whether they are patterns
/// (db.c's commands_with_channels, publish and subscribe entries only).
pub fn channel_args(spec: &CommandSpec, argc: usize) -> Option<(std::ops::Range<usize>, bool)> {
    match spec.full_name {
        "publish" | "spublish" => Some((1..argc.min(2), false)),
        "subscribe" | "ssubscribe" => Some((1..argc, false)),
        "psubscribe" => Some((1..argc, true)),
        _ => None,
    }
}

/// A channel against a list of allowed patterns: a channel name matches a
/// pattern, a subscribed pattern only an identical one
/// (ACLCheckChannelAgainstList).
pub fn channel_allowed(list: &[Vec<u8>], channel: &[u8], is_pattern: bool) -> bool {
    list.iter().any(|p| if is_pattern { p == channel } else { glob_match(p, channel, false) })
}

/// Usernames, key and channel patterns can hold no whitespace or NUL
/// (ACLStringHasSpaces).
pub fn has_spaces(s: &[u8]) -> bool {
    s.iter().any(|&b| b == 0 || b.is_ascii_whitespace() || b == 0x0b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sel(rules: &[&str]) -> Selector {
        let mut s = Selector::new(false);
        for r in rules {
            s.apply(r.as_bytes()).unwrap_or_else(|e| panic!("{r}: {e}"));
        }
        s
    }

    fn cmds(s: &Selector) -> String {
        String::from_utf8(s.describe_commands()).unwrap()
    }

    #[test]
    fn describes_commands_like_redis() {
        assert_eq!(cmds(&sel(&[])), "-@all");
        assert_eq!(cmds(&sel(&["+@all"])), "+@all");
        assert_eq!(cmds(&sel(&["+@all", "-client|kill"])), "+@all -client|kill");
        assert_eq!(cmds(&sel(&["+memory|doctor"])), "-@all +memory|doctor");
        assert_eq!(cmds(&sel(&["+memory|doctor", "+memory"])), "-@all +memory");
        assert_eq!(cmds(&sel(&["+@all", "-memory"])), "+@all -memory");
        let s = cmds(&sel(&["+@all", "-client", "+client|id"]));
        assert!(s.starts_with("+@all") && s.contains("-client +client|id"), "{s}");
        let s = cmds(&sel(&["+@all", "-debug", "+debug|digest"]));
        assert!(s.contains("-debug +debug|digest"), "{s}");
        assert_eq!(cmds(&sel(&["+select|0"])), "-@all +select|0");
        // Every category alone is described as itself.
        for name in AclCategories::all_names() {
            assert_eq!(cmds(&sel(&["+@all", &format!("-@{name}")])), format!("+@all -@{name}"));
            assert_eq!(cmds(&sel(&["-@all", &format!("+@{name}")])), format!("-@all +@{name}"));
        }
    }

    #[test]
    fn rule_errors() {
        let mut s = Selector::new(false);
        assert_eq!(s.apply(b"+nosuch"), Err(RuleError::UnknownCommand));
        assert_eq!(s.apply(b"+@nosuch"), Err(RuleError::UnknownCommand));
        assert_eq!(s.apply(b"+config|get|x"), Err(RuleError::FirstArgOfSubcommand));
        assert_eq!(s.apply(b"+config|asdf"), Err(RuleError::UnknownCommand));
        assert_eq!(s.apply(b"-config|asdf"), Err(RuleError::UnknownCommand));
        assert_eq!(s.apply(b"+get|a|b"), Err(RuleError::UnknownCommand));
        assert_eq!(s.apply(b"+debug|"), Err(RuleError::Syntax));
        assert_eq!(s.apply(b"bogus"), Err(RuleError::Syntax));
        assert_eq!(s.apply(b"%X~a"), Err(RuleError::Syntax));
        s.apply(b"allkeys").unwrap();
        assert_eq!(s.apply(b"~a"), Err(RuleError::KeyAfterAll));
        s.apply(b"allchannels").unwrap();
        assert_eq!(s.apply(b"&a"), Err(RuleError::ChannelAfterAll));
    }

    #[test]
    fn key_permissions() {
        let s = sel(&["%R~foo", "%W~foo", "%RW~bar", "%R~r*"]);
        assert_eq!(s.describe_keys(), b"~foo ~bar %R~r*");
        assert!(s.key_allowed(b"rx", KeySpecFlags::RO | KeySpecFlags::ACCESS));
        assert!(!s.key_allowed(b"rx", KeySpecFlags::RW | KeySpecFlags::UPDATE));
        // No access flags (EXISTS-like): any matching pattern will do.
        assert!(s.key_allowed(b"rx", KeySpecFlags::RO));
        assert!(!s.key_allowed(b"zz", KeySpecFlags::RO));
        assert!(!s.all_keys_allowed(KeySpecFlags::ACCESS));
        assert!(sel(&["%R~*"]).all_keys_allowed(KeySpecFlags::ACCESS));
    }

    #[test]
    fn checks_commands_keys_and_channels() {
        let c = catalog();
        let get = command_table::lookup(b"get").unwrap();
        let publish = command_table::lookup(b"publish").unwrap();
        let psub = command_table::lookup(b"psubscribe").unwrap();
        let s = sel(&["+get", "+publish", "+psubscribe", "~k*", "&news.*"]);
        let check = |spec, argv: &[&[u8]]| s.check(c.id_of(spec).unwrap(), spec, argv, &mut KeyCache::default());
        assert_eq!(check(get, &[b"get", b"k1"]), Ok(()));
        assert_eq!(check(get, &[b"get", b"x"]), Err(Denied::Key(1)));
        assert_eq!(check(publish, &[b"publish", b"news.a", b"m"]), Ok(()));
        assert_eq!(check(publish, &[b"publish", b"other", b"m"]), Err(Denied::Channel(1)));
        assert_eq!(check(psub, &[b"psubscribe", b"news.*"]), Ok(()));
        assert_eq!(check(psub, &[b"psubscribe", b"news.a"]), Err(Denied::Channel(1)));
        let set = command_table::lookup(b"set").unwrap();
        assert_eq!(s.check(c.id_of(set).unwrap(), set, &[b"set", b"k", b"v"], &mut KeyCache::default()), Err(Denied::Command));
        let select = command_table::lookup(b"select").unwrap();
        let s = sel(&["+select|0"]);
        let id = c.id_of(select).unwrap();
        assert_eq!(s.check(id, select, &[b"select", b"0"], &mut KeyCache::default()), Ok(()));
        assert_eq!(s.check(id, select, &[b"select", b"1"], &mut KeyCache::default()), Err(Denied::Command));
    }
}
