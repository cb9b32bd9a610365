//! Access control lists: users, their passwords and permissions, and the
//! checks every command passes (Redis 7.0's acl.c). The commands (ACL, and
//! the AUTH/HELLO logins) are in `cmd::acl` and `cmd::connection`.
//!
//! # Layout
//! - [`catalog`]: every command and subcommand ACL rules can name, numbered.
//! - [`selector`]: one set of command, key and channel permissions, its
//!   rules, checks and description.
//! - [`user`]: flags, password hashes and selectors of one user.
//! - [`log`]: the ACL LOG of refusals and failed logins.
//! - [`file`]: users from redis.conf's `user` lines and from the ACL file.
//! - this file: the users of a server ([`Acl`]), and the checks against a
//!   client's user that the dispatcher, EXEC and scripts call.
//!
//! The default user allowed everything costs one flag test per command
//! ([`Acl::unrestricted`]); everything else happens only for restricted
//! users.

pub mod catalog;
pub mod file;
pub mod log;
pub mod selector;
pub mod user;

use std::collections::BTreeMap;

use corvid_proto::command_table::CommandSpec;

use crate::client::ClientId;
use crate::errors::CmdError;
use crate::server::Server;
use catalog::CommandId;
use log::{AclLog, Context, Entry, Reason};
use selector::{Denied, KeyCache};
use user::User;

/// Why a rule was refused; the texts are acl.c's `ACLSetUserStringError`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("Unknown command or category name in ACL")]
    UnknownCommand,
    #[error("Syntax error")]
    Syntax,
    #[error("Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns")]
    KeyAfterAll,
    #[error("Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels")]
    ChannelAfterAll,
    #[error("The password you are trying to remove from the user does not exist")]
    NoSuchPassword,
    #[error("The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters")]
    BadHash,
    #[error("Allowing first-arg of a subcommand is not supported")]
    FirstArgOfSubcommand,
}

/// An index into the server's users; a client holds its user's.
pub type UserId = usize;

/// The `default` user, which new connections start as.
pub const DEFAULT_USER: UserId = 0;

/// No user at all: the master's link and the AOF loader run anything
/// (Redis's clients with a NULL user).
pub const SUPERUSER: UserId = UserId::MAX;

/// The users of a server, and the ACL log.
#[derive(Debug)]
pub struct Acl {
    /// By id; a deleted user leaves a hole (its clients are closed).
    slots: Vec<Option<User>>,
    /// Name order, as ACL LIST and USERS print them.
    by_name: BTreeMap<Vec<u8>, UserId>,
    pub log: AclLog,
    /// `acl-pubsub-default allchannels`: new users and selectors get every
    /// channel.
    pub pubsub_default_all: bool,
    /// The `requirepass` last given to the default user.
    requirepass: Option<Vec<u8>>,
}

impl Default for Acl {
    fn default() -> Self {
        Acl::new()
    }
}

impl Acl {
    /// The default user alone, allowed everything without a password
    /// (ACLCreateDefaultUser).
    pub fn new() -> Acl {
        let mut default = User::new(b"default", false);
        for rule in ["+@all", "~*", "&*", "on", "nopass"] {
            default.apply(rule.as_bytes(), false).expect("the default user's rules are valid");
        }
        let mut by_name = BTreeMap::new();
        by_name.insert(b"default".to_vec(), DEFAULT_USER);
        Acl { slots: vec![Some(default)], by_name, log: AclLog::default(), pubsub_default_all: false, requirepass: None }
    }

    /// Whether `id`'s commands need no check: the hot path's only test.
    #[inline]
    pub fn unrestricted(&self, id: UserId) -> bool {
        match self.slots.get(id) {
            Some(Some(u)) => u.unrestricted,
            Some(None) => false,
            None => id == SUPERUSER,
        }
    }

    /// A user by id; a deleted user's clients read as the default user
    /// until they are closed.
    pub fn user(&self, id: UserId) -> &User {
        match self.slots.get(id) {
            Some(Some(u)) => u,
            _ => self.slots[DEFAULT_USER].as_ref().expect("the default user exists"),
        }
    }

    pub fn find(&self, name: &[u8]) -> Option<UserId> {
        self.by_name.get(name).copied()
    }

    /// Every user in name order.
    pub fn users(&self) -> impl Iterator<Item = (UserId, &User)> {
        self.by_name.values().map(move |&id| (id, self.user(id)))
    }

    /// Whether new connections must log in (authRequired): the default
    /// user has a password or is off.
    pub fn auth_required(&self) -> bool {
        let d = self.user(DEFAULT_USER);
        !d.nopass() || !d.enabled()
    }

    /// The user `name` logs in as with `pass`, if they match.
    pub fn login(&self, name: &[u8], pass: &[u8]) -> Option<UserId> {
        self.find(name).filter(|&id| self.user(id).accepts(pass))
    }

    /// ACL SETUSER's rules, all or none (ACLStringSetUser): the user's id
    /// and, for an existing user, what it was before. Err is the error text
    /// after "ERR ".
    pub fn set_user(&mut self, name: &[u8], rules: &[&[u8]]) -> Result<(UserId, Option<User>), String> {
        let rules = user::merge_selector_args(rules).map_err(|start| {
            format!("Unmatched parenthesis in acl selector starting at '{}'.", String::from_utf8_lossy(start))
        })?;
        let existing = self.find(name);
        let mut staged = match existing {
            Some(id) => self.user(id).clone(),
            None => User::new(name, self.pubsub_default_all),
        };
        for rule in &rules {
            staged.apply(rule, self.pubsub_default_all).map_err(|e| {
                format!("Error in ACL SETUSER modifier '{}': {e}", String::from_utf8_lossy(rule))
            })?;
        }
        Ok(match existing {
            Some(id) => (id, self.slots[id].replace(staged)),
            None => {
                let id = self.slots.iter().position(Option::is_none).unwrap_or(self.slots.len());
                if id == self.slots.len() {
                    self.slots.push(None);
                }
                self.slots[id] = Some(staged);
                self.by_name.insert(name.to_vec(), id);
                (id, None)
            }
        })
    }

    /// Remove a user (never the default one); its id, to close its clients.
    pub fn delete(&mut self, name: &[u8]) -> Option<UserId> {
        if name == b"default" {
            return None;
        }
        let id = self.by_name.remove(name)?;
        self.slots[id] = None;
        Some(id)
    }

    /// `requirepass` sets the default user's only password, or makes it
    /// nopass when empty (ACLUpdateDefaultUserPassword); applied only when
    /// the directive changed (returns whether it did).
    pub fn set_requirepass(&mut self, pass: Option<&[u8]>) -> bool {
        if self.requirepass.as_deref() == pass {
            return false;
        }
        self.requirepass = pass.map(<[u8]>::to_vec);
        let default = self.slots[DEFAULT_USER].as_mut().expect("the default user exists");
        let _ = default.apply(b"resetpass", false);
        let rule = match pass {
            Some(p) => [b">".as_slice(), p].concat(),
            None => b"nopass".to_vec(),
        };
        let _ = default.apply(&rule, false);
        true
    }

    /// Whether `user` may run `argv` as command `cmd` (ACLCheckAllUserCommandPerm):
    /// one selector allowing it is enough; else the most telling refusal.
    pub fn check(&self, user: UserId, cmd: CommandId, spec: &'static CommandSpec, argv: &[&[u8]]) -> Result<(), Denied> {
        if self.unrestricted(user) {
            return Ok(());
        }
        let u = self.user(user);
        let mut keys = KeyCache::default();
        let mut worst = Denied::Command;
        for s in &u.selectors {
            match s.check(cmd, spec, argv, &mut keys) {
                Ok(()) => return Ok(()),
                Err(d) => worst = worst.worse(d),
            }
        }
        Err(worst)
    }

    /// Whether `user` may run the command and read or write (as `flags`
    /// say) every key (ACLUserCheckCmdWithUnrestrictedKeyAccess): SORT's BY
    /// and GET patterns.
    pub fn check_with_all_keys(
        &self,
        user: UserId,
        cmd: CommandId,
        spec: &'static CommandSpec,
        argv: &[&[u8]],
        flags: corvid_proto::command_table::KeySpecFlags,
    ) -> bool {
        let u = self.user(user);
        let mut keys = KeyCache::default();
        self.unrestricted(user) || u.selectors.iter().any(|s| s.check(cmd, spec, argv, &mut keys).is_ok() && s.all_keys_allowed(flags))
    }

    /// The users as CONFIG REWRITE and ACL SAVE write them, without "user ".
    pub fn descriptions(&self) -> Vec<Vec<u8>> {
        self.users()
            .map(|(_, u)| {
                let mut line = u.name.clone();
                line.push(b' ');
                line.extend_from_slice(&u.describe());
                line
            })
            .collect()
    }
}

/// Give CONFIG REWRITE the users as they are now (it writes them as
/// `user` lines).
pub fn sync_config(srv: &mut Server) {
    let users = srv.acl.descriptions().into_iter().map(|d| String::from_utf8_lossy(&d).into_owned()).collect();
    srv.config.set_acl_users(users);
}

/// When a user's channel permissions shrank: the channels it still has,
/// for finding which of its subscribers must go; None when none can have
/// lost anything (ACLKillPubsubClientsIfNeeded's shortcuts).
pub fn revoked_channels(old: &User, new: &User) -> Option<Vec<Vec<u8>>> {
    if new.selectors.iter().any(|s| s.all_channels) {
        return None;
    }
    let upcoming: Vec<Vec<u8>> = new.selectors.iter().flat_map(|s| s.channels.iter().cloned()).collect();
    let kept = old.selectors.iter().all(|s| !s.all_channels && s.channels.iter().all(|c| upcoming.contains(c)));
    if kept {
        None
    } else {
        Some(upcoming)
    }
}

/// The NOPERM error of a refused command (processCommand).
fn noperm(denied: Denied, spec: &CommandSpec) -> CmdError {
    CmdError::Coded(match denied {
        Denied::Command => format!("NOPERM this user has no permissions to run the '{}' command", spec.full_name),
        Denied::Key(_) => "NOPERM this user has no permissions to access one of the keys used as arguments".into(),
        Denied::Channel(_) => "NOPERM this user has no permissions to access one of the channels used as arguments".into(),
    })
}

/// Check a client's command before it runs or is queued, logging a
/// refusal (processCommand's ACLCheckAllPerm). Called only for users that
/// are not [`Acl::unrestricted`].
pub fn check_client(srv: &mut Server, client_id: ClientId, cmd: CommandId, spec: &'static CommandSpec, argv: &[&[u8]]) -> Result<(), CmdError> {
    let Some(client) = srv.clients.map.get(&client_id) else { return Ok(()) };
    let context = if client.multi.is_some() { Context::Multi } else { Context::Toplevel };
    let user = client.user;
    srv.acl.check(user, cmd, spec, argv).map_err(|d| {
        log_denied(srv, client_id, user, d, context, spec, argv);
        noperm(d, spec)
    })
}

/// EXEC's check of a queued command, in case the rules changed since it
/// was queued (execCommand).
pub fn check_queued(srv: &mut Server, client_id: ClientId, cmd: CommandId, spec: &'static CommandSpec, argv: &[&[u8]]) -> Result<(), CmdError> {
    let Some(user) = srv.clients.map.get(&client_id).map(|c| c.user) else { return Ok(()) };
    if srv.acl.unrestricted(user) {
        return Ok(());
    }
    srv.acl.check(user, cmd, spec, argv).map_err(|d| {
        log_denied(srv, client_id, user, d, Context::Multi, spec, argv);
        let reason = match d {
            Denied::Command => "no permission to execute the command or subcommand",
            Denied::Key(_) => "no permission to touch the specified keys",
            Denied::Channel(_) => "no permission to access one of the channels used as arguments",
        };
        CmdError::Coded(format!(
            "NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: {reason}"
        ))
    })
}

/// A script's redis.call, checked against the user of the client that
/// ran the script (scriptVerifyACL).
pub fn check_script(srv: &mut Server, caller: ClientId, cmd: CommandId, spec: &'static CommandSpec, argv: &[&[u8]]) -> Result<(), CmdError> {
    let user = srv.clients.map.get(&caller).map_or(crate::acl::DEFAULT_USER, |c| c.user);
    if srv.acl.unrestricted(user) {
        return Ok(());
    }
    srv.acl.check(user, cmd, spec, argv).map_err(|d| {
        log_denied(srv, caller, user, d, Context::Lua, spec, argv);
        let what = match d {
            Denied::Command => "can't run this command or subcommand",
            Denied::Key(_) => "can't access at least one of the keys mentioned in the command arguments",
            Denied::Channel(_) => "can't publish to the channel mentioned in the command",
        };
        CmdError::err(format!("The user executing the script {what}"))
    })
}

fn log_denied(srv: &mut Server, client_id: ClientId, user: UserId, d: Denied, context: Context, spec: &CommandSpec, argv: &[&[u8]]) {
    let (reason, object) = match d {
        Denied::Command => (Reason::Command, spec.full_name.as_bytes().to_vec()),
        Denied::Key(p) => (Reason::Key, argv[p].to_vec()),
        Denied::Channel(p) => (Reason::Channel, argv[p].to_vec()),
    };
    let username = srv.acl.user(user).name.clone();
    add_log_entry(srv, client_id, reason, context, object, username);
}

/// Log a failed AUTH or HELLO AUTH (`object` is the command as typed).
pub fn log_auth_failure(srv: &mut Server, client_id: ClientId, username: &[u8], object: &[u8]) {
    let in_multi = srv.clients.map.get(&client_id).is_some_and(|c| c.multi.is_some());
    let context = if in_multi { Context::Multi } else { Context::Toplevel };
    add_log_entry(srv, client_id, Reason::Auth, context, object.to_vec(), username.to_vec());
}

fn add_log_entry(srv: &mut Server, client_id: ClientId, reason: Reason, context: Context, object: Vec<u8>, username: Vec<u8>) {
    let now = crate::clock::now_ms();
    let client_info = srv.clients.map.get(&client_id).map(|c| client_info(srv, c, now)).unwrap_or_default();
    let max_len = srv.config.get_i64("acllog-max-len").max(0) as usize;
    srv.acl.log.add(Entry { count: 1, reason, context, object, username, ctime_ms: now, client_info }, max_len);
}

/// CLIENT INFO's line for a client, with its user's name.
pub fn client_info(srv: &Server, c: &crate::client::Client, now_ms: i64) -> String {
    let name: &[u8] = if c.user == SUPERUSER { b"(superuser)" } else { &srv.acl.user(c.user).name };
    c.info_line(now_ms, name)
}
