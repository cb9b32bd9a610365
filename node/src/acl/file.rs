//! Users from outside: `user` lines of redis.conf at start-up, and the ACL
//! file (`aclfile`) that start-up, ACL LOAD and ACL SAVE read and write
//! (acl.c's ACLLoadConfiguredUsers, ACLLoadFromFile, ACLSaveToFile).

use std::io::Write;

use super::user::{merge_selector_args, valid_name, User};
use super::{Acl, RuleError, UserId, DEFAULT_USER};
use crate::config::ConfigError;
use crate::server::Server;

/// Parse an ACL file's text into users, every line checked; Err is every
/// problem found, on one line, as ACL LOAD reports it.
pub fn parse(text: &[u8], filename: &str, all_channels: bool) -> Result<Vec<User>, String> {
    let mut users: Vec<User> = Vec::new();
    let mut errors = String::new();
    for (i, line) in text.split(|&b| b == b'\n').enumerate() {
        let linenum = i + 1;
        let line = trim(line, b" \t\r\n");
        if line.is_empty() {
            continue;
        }
        let argv: Vec<&[u8]> = line.split(|&b| b == b' ').collect();
        if argv[0] != b"user" || argv.len() < 2 {
            errors.push_str(&format!("{filename}:{linenum} should start with user keyword followed by the username. "));
            continue;
        }
        let name = argv[1];
        if !valid_name(name) {
            errors.push_str(&format!(
                "'{filename}:{linenum}: username '{}' contains invalid characters. ",
                String::from_utf8_lossy(name)
            ));
            continue;
        }
        if users.iter().any(|u| u.name == name) {
            errors.push_str(&format!("WARNING: Duplicate user '{}' found on line {linenum}. ", String::from_utf8_lossy(name)));
            continue;
        }
        let mut user = User::new(name, all_channels);
        let rules = match merge_selector_args(&argv[2..]) {
            Ok(r) => r,
            Err(_) => {
                errors.push_str(&format!("{filename}:{linenum}: Unmatched parenthesis in selector definition."));
                Vec::new()
            }
        };
        let mut reported = false;
        for rule in &rules {
            let rule = trim(rule, b"\t\r\n");
            match user.apply(rule, all_channels) {
                Ok(()) => {}
                // Unknown names are safe to show; other errors may quote a
                // password, so only the first is reported.
                Err(e @ RuleError::UnknownCommand) => errors.push_str(&format!(
                    "{filename}:{linenum}: Error in applying operation '{}': {e}. ",
                    String::from_utf8_lossy(rule)
                )),
                Err(e) if !reported => {
                    errors.push_str(&format!("{filename}:{linenum}: {e}. "));
                    reported = true;
                }
                Err(_) => {}
            }
        }
        users.push(user);
    }
    if errors.is_empty() {
        Ok(users)
    } else {
        errors.push_str("WARNING: ACL errors detected, no change to the previously active ACL rules was performed");
        Err(errors)
    }
}

fn trim<'a>(mut s: &'a [u8], set: &[u8]) -> &'a [u8] {
    while let Some((first, rest)) = s.split_first() {
        if !set.contains(first) {
            break;
        }
        s = rest;
    }
    while let Some((last, rest)) = s.split_last() {
        if !set.contains(last) {
            break;
        }
        s = rest;
    }
    s
}

impl Acl {
    /// Put the users of an ACL file in place of every user (the default
    /// user changes in place, and is created as new if the file lacks it).
    /// Returns the ids of the users replaced, whose clients must go.
    pub fn replace_users(&mut self, users: Vec<User>) -> Vec<UserId> {
        let gone: Vec<UserId> = self.by_name.values().copied().filter(|&id| id != DEFAULT_USER).collect();
        let default = Acl::new().slots.swap_remove(DEFAULT_USER).expect("a new ACL has the default user");
        self.slots = vec![Some(default)];
        self.by_name.clear();
        self.by_name.insert(b"default".to_vec(), DEFAULT_USER);
        for u in users {
            if u.name == b"default" {
                self.slots[DEFAULT_USER] = Some(u);
            } else {
                self.by_name.insert(u.name.clone(), self.slots.len());
                self.slots.push(Some(u));
            }
        }
        gone
    }
}

/// ACL LOAD: replace the users by the ACL file's, or change nothing and
/// say why. The clients of replaced users are closed.
pub fn load(srv: &mut Server, current: crate::client::ClientId) -> Result<(), String> {
    let path = String::from_utf8_lossy(&srv.config.get_raw("aclfile")).into_owned();
    let text = std::fs::read(&path).map_err(|e| format!("Error loading ACLs, opening file '{path}': {}", io_error_text(&e)))?;
    let users = parse(&text, &path, srv.acl.pubsub_default_all)?;
    let gone = srv.acl.replace_users(users);
    let victims: Vec<_> = srv.clients.map.values().filter(|c| gone.contains(&c.user)).map(|c| c.id).collect();
    for id in victims {
        if let Some(c) = srv.clients.map.get_mut(&id) {
            c.user = DEFAULT_USER;
            c.authenticated = false;
            if id == current {
                c.close_after_reply = true;
            }
        }
        if id != current {
            srv.clients.kill(id);
        }
    }
    Ok(())
}

/// ACL SAVE: write every user to the ACL file, replacing it whole.
pub fn save(srv: &Server) -> std::io::Result<()> {
    let path = String::from_utf8_lossy(&srv.config.get_raw("aclfile")).into_owned();
    let mut text = Vec::new();
    for line in srv.acl.descriptions() {
        text.extend_from_slice(b"user ");
        text.extend_from_slice(&line);
        text.push(b'\n');
    }
    let tmp = format!("{path}.tmp-{}-{}", std::process::id(), crate::clock::now_ms());
    let written = (|| {
        let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).open(&tmp)?;
        f.write_all(&text)?;
        drop(f);
        std::fs::rename(&tmp, &path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// strerror's text, without Rust's "(os error N)".
fn io_error_text(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(at) => s[..at].to_string(),
        None => s,
    }
}

/// Start-up: the `user` lines of the config, or the ACL file, never both
/// (ACLLoadUsersAtStartup). Err is what to print before exiting.
pub fn load_at_startup(srv: &mut Server) -> Result<(), String> {
    let aclfile = srv.config.get_raw("aclfile");
    let directives = srv.config.file_directives().users.clone();
    if !aclfile.is_empty() && !directives.is_empty() {
        return Err("Configuring Redis with users defined in redis.conf and at the same setting an ACL file path is invalid. This setup is very likely to lead to configuration errors and security holes, please define either an ACL file or declare users directly in your redis.conf, but not both.".into());
    }
    let all_channels = srv.acl.pubsub_default_all;
    let mut seen: Vec<&str> = Vec::new();
    for d in &directives {
        let name = d.value[0].as_str();
        let fail = |reason: String| ConfigError::at_line(d, &reason).to_string();
        if seen.contains(&name) {
            return Err(fail(format!("Error in user declaration '{name}': Duplicate user found. A user can only be defined once in config files")));
        }
        seen.push(name);
        if !valid_name(name.as_bytes()) {
            return Err(fail("Spaces not allowed in ACL usernames".into()));
        }
        let rules: Vec<&[u8]> = d.value[1..].iter().map(|r| r.as_bytes()).collect();
        let rules = merge_selector_args(&rules)
            .map_err(|start| fail(format!("Error in user declaration '{}': Syntax error", String::from_utf8_lossy(start))))?;
        let mut user = User::new(name.as_bytes(), all_channels);
        if name == "default" {
            user.apply(b"reset", all_channels).expect("reset is a valid rule");
        }
        for rule in &rules {
            user.apply(rule, all_channels)
                .map_err(|e| fail(format!("Error in user declaration '{}': {e}", String::from_utf8_lossy(rule))))?;
        }
        if !user.enabled() {
            tracing::info!(
                "The user '{name}' is disabled (there is no 'on' modifier in the user description). Make sure this is not a configuration error."
            );
        }
        install(&mut srv.acl, user);
    }
    if !aclfile.is_empty() {
        let path = String::from_utf8_lossy(&aclfile).into_owned();
        let text = std::fs::read(&path).map_err(|e| format!("Error loading ACLs, opening file '{path}': {}", io_error_text(&e)))?;
        let users = parse(&text, &path, all_channels).map_err(|e| format!("Aborting Redis startup because of ACL errors: {e}"))?;
        srv.acl.replace_users(users);
    }
    Ok(())
}

/// Add a user from the config, or put it in place of the default user.
fn install(acl: &mut Acl, user: User) {
    match acl.find(&user.name) {
        Some(id) => acl.slots[id] = Some(user),
        None => {
            acl.by_name.insert(user.name.clone(), acl.slots.len());
            acl.slots.push(Some(user));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_acl_files() {
        let users = parse(b"user alice on allcommands allkeys &* >alice\n\nuser bob on -@all +@set ~set* >bob\n", "f", false).unwrap();
        assert_eq!(users.len(), 2);
        assert!(users[0].accepts(b"alice") && users[0].unrestricted);
        let e = parse(b"user alice on\nuser alice off\n", "users.acl", false).unwrap_err();
        assert!(e.contains("Duplicate user 'alice' found on line 2"), "{e}");
        let e = parse(b"nope\n", "users.acl", false).unwrap_err();
        assert!(e.starts_with("users.acl:1 should start with user keyword"), "{e}");
        let e = parse(b"user a +nosuch\n", "f", false).unwrap_err();
        assert!(e.contains("f:1: Error in applying operation '+nosuch': Unknown command or category name in ACL."), "{e}");
    }

    #[test]
    fn replacing_users_keeps_the_default_id() {
        let mut acl = Acl::new();
        acl.set_user(b"x", &[b"on"]).unwrap();
        let users = parse(b"user y on nopass\n", "f", false).unwrap();
        let gone = acl.replace_users(users);
        assert_eq!(gone.len(), 1);
        assert!(acl.find(b"x").is_none() && acl.find(b"y").is_some());
        assert_eq!(acl.find(b"default"), Some(DEFAULT_USER));
        assert!(acl.user(DEFAULT_USER).unrestricted);
    }
}
