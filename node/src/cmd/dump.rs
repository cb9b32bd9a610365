//! DUMP, RESTORE and MIGRATE (Redis's cluster.c parts): values travel in
//! Redis's DUMP payload format (`rdb::payload`), so a key dumped by Redis
//! restores here and back, and MIGRATE talks to Redis or Corvid alike.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use corvid_proto::resp::Args;

use super::{arg_i64, is};
use crate::db::Lookup;
use crate::dispatch::{Ctx, Registry};
use crate::errors::{CmdError, CmdResult};
use crate::rdb::payload::{self, ChecksumPolicy};
use crate::keyspace::ValueRef;
use crate::rdb::object::{to_owned_value, EncodingLimits};
use crate::server::Server;

/// Idle cached MIGRATE connections close after this long (MIGRATE_SOCKET_CACHE_TTL).
pub const MIGRATE_SOCKET_TTL_MS: i64 = 10_000;
/// At most this many cached MIGRATE connections (MIGRATE_SOCKET_CACHE_ITEMS).
const MIGRATE_SOCKET_MAX: usize = 64;

/// A cached connection to a MIGRATE target.
pub struct MigrateSocket {
    reader: BufReader<TcpStream>,
    last_use_ms: i64,
    /// The database last SELECTed on it (-1: unknown).
    last_db: i64,
}

/// Close cached MIGRATE connections idle for too long (serverCron's
/// migrateCloseTimedoutSockets).
pub fn close_idle_migrate_sockets(srv: &mut Server, now_ms: i64) {
    srv.migrate_sockets.retain(|_, s| now_ms - s.last_use_ms <= MIGRATE_SOCKET_TTL_MS);
}

/// The DUMP payload of a value (DUMP, MIGRATE, DEBUG OBJECT's serializedlength).
pub fn payload_of(v: &ValueRef<'_>, compress: bool) -> Vec<u8> {
    match v {
        ValueRef::Int(_) | ValueRef::Str(..) => {
            payload::dump_string(&v.string_bytes().expect("a string"), compress)
        }
        other => payload::dump_value(other, compress),
    }
}

/// DUMP key
fn dump(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let db = ctx.db;
    let compress = ctx.srv.config.get_bool("rdbcompression");
    match ctx.srv.db.lookup(db, args.get(1), Lookup::READ) {
        Some(e) => {
            let p = payload_of(&e.value(), compress);
            ctx.out.bulk(&p);
        }
        None => ctx.out.null(),
    }
    Ok(())
}

/// RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]
fn restore(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let (mut replace, mut absttl) = (false, false);
    let (mut idle, mut freq): (Option<i64>, Option<i64>) = (None, None);
    let mut j = 4;
    while j < args.len() {
        let more = args.len() - j - 1;
        let a = args.get(j);
        if is(a, "replace") {
            replace = true;
        } else if is(a, "absttl") {
            absttl = true;
        } else if is(a, "idletime") && more >= 1 && freq.is_none() {
            let v = arg_i64(args.get(j + 1))?;
            if v < 0 {
                return Err(CmdError::err("Invalid IDLETIME value, must be >= 0"));
            }
            idle = Some(v);
            j += 1;
        } else if is(a, "freq") && more >= 1 && idle.is_none() {
            let v = arg_i64(args.get(j + 1))?;
            if !(0..=255).contains(&v) {
                return Err(CmdError::err("Invalid FREQ value, must be >= 0 and <= 255"));
            }
            freq = Some(v);
            j += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    let key = args.get(1);
    let db = ctx.db;
    if !replace && ctx.srv.db.lookup(db, key, Lookup::WRITE).is_some() {
        return Err(CmdError::BusyKey);
    }
    let mut ttl = arg_i64(args.get(2))?;
    if ttl < 0 {
        return Err(CmdError::err("Invalid TTL value, must be >= 0"));
    }
    // `sanitize-dump-payload` (no, yes, clients) is accepted but changes
    // nothing: every payload is validated deeply, which Redis allows for
    // any setting; its cost is one pass over the value.
    let checksum = if ctx.srv.skip_checksum_validation { ChecksumPolicy::Skip } else { ChecksumPolicy::Verify };
    let limits = EncodingLimits::from_config(&ctx.srv.config);
    let value = payload::restore_with(args.get(3), checksum).and_then(|v| to_owned_value(v, &limits)).map_err(|e| {
        // Redis logs the failed check at verbose level (rdbReportError).
        tracing::debug!("Internal error in RDB reading: {}", e.reason());
        CmdError::err(e.to_string())
    })?;
    let deleted = replace && ctx.srv.db.delete(db, key);
    let now = ctx.srv.db.now_ms;
    if ttl != 0 && !absttl {
        ttl = ttl.saturating_add(now);
        // The TTL goes out as an absolute one.
        let mut argv: Vec<Vec<u8>> = args.iter().map(<[u8]>::to_vec).collect();
        argv[2] = ttl.to_string().into_bytes();
        argv.push(b"ABSTTL".to_vec());
        ctx.srv.rewrite_as(|| argv);
    }
    if ttl != 0 && ttl <= now {
        ctx.srv.rewrite_as(|| if deleted { vec![b"DEL".to_vec(), key.to_vec()] } else { Vec::new() });
        ctx.out.ok();
        return Ok(());
    }
    let expire = if ttl != 0 { Some(ttl) } else { None };
    ctx.srv.db.set_owned(db, key, value, expire);
    let policy = ctx.srv.db.policy;
    if let Some(lru) = policy.restored(freq.map(|f| f as u32), idle, now) {
        ctx.srv.db.dbs[db].set_lru(key, lru);
    }
    ctx.out.ok();
    Ok(())
}

/// MIGRATE host port <key | ""> destination-db timeout [COPY] [REPLACE]
///   [AUTH password | AUTH2 username password] [KEYS key [key ...]]
///
/// Like Redis, this blocks the server while it talks to the target.
fn migrate(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let (mut copy, mut replace) = (false, false);
    let mut auth: Option<(Option<Vec<u8>>, Vec<u8>)> = None;
    let mut keys: Vec<Vec<u8>> = vec![args.get(3).to_vec()];
    let mut j = 6;
    while j < args.len() {
        let more = args.len() - 1 - j;
        let a = args.get(j);
        if is(a, "copy") {
            copy = true;
        } else if is(a, "replace") {
            replace = true;
        } else if is(a, "auth") {
            if more < 1 {
                return Err(CmdError::Syntax);
            }
            auth = Some((None, args.get(j + 1).to_vec()));
            j += 1;
        } else if is(a, "auth2") {
            if more < 2 {
                return Err(CmdError::Syntax);
            }
            auth = Some((Some(args.get(j + 1).to_vec()), args.get(j + 2).to_vec()));
            j += 2;
        } else if is(a, "keys") {
            if !args.get(3).is_empty() {
                return Err(CmdError::err("When using MIGRATE KEYS option, the key argument must be set to the empty string"));
            }
            keys = args.iter().skip(j + 1).map(|k| k.to_vec()).collect();
            break;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    let mut timeout = arg_i64(args.get(5))?;
    let dest_db = arg_i64(args.get(4))?;
    if timeout <= 0 {
        timeout = 1000;
    }
    let db = ctx.db;
    let present: Vec<Vec<u8>> =
        keys.into_iter().filter(|k| ctx.srv.db.lookup(db, k, Lookup::READ).is_some()).collect();
    if present.is_empty() {
        ctx.out.simple(b"NOKEY");
        return Ok(());
    }
    let host = String::from_utf8_lossy(args.get(1)).into_owned();
    let port = String::from_utf8_lossy(args.get(2)).into_owned();
    let name = format!("{host}:{port}");
    let timeout = Duration::from_millis(timeout as u64);

    // The whole request: AUTH, SELECT and one RESTORE per live key.
    let build = |ctx: &mut Ctx<'_>, last_db: i64| {
        let mut cmd = Vec::new();
        if let Some((user, pass)) = &auth {
            let mut parts: Vec<&[u8]> = vec![b"AUTH"];
            if let Some(u) = user {
                parts.push(u);
            }
            parts.push(pass);
            corvid_proto::resp::encode_command(&mut cmd, &parts);
        }
        let select = last_db != dest_db;
        if select {
            corvid_proto::resp::encode_command(&mut cmd, &[b"SELECT", dest_db.to_string().as_bytes()]);
        }
        let now = crate::clock::now_ms();
        let mut sent = Vec::new();
        for k in &present {
            let Some(e) = ctx.srv.db.dbs[db].get(k) else { continue };
            let ttl = match e.expire_at() {
                Some(at) if at - now < 0 => continue,
                Some(at) => (at - now).max(1),
                None => 0,
            };
            let p = payload_of(&e.value(), ctx.srv.config.get_bool("rdbcompression"));
            let ttl_s = ttl.to_string();
            let mut parts: Vec<&[u8]> = vec![b"RESTORE", k, ttl_s.as_bytes(), &p];
            if replace {
                parts.push(b"REPLACE");
            }
            corvid_proto::resp::encode_command(&mut cmd, &parts);
            sent.push(k.clone());
        }
        (cmd, select, sent)
    };

    let mut may_retry = true;
    loop {
        let now = crate::clock::now_ms();
        if !ctx.srv.migrate_sockets.contains_key(&name) {
            if ctx.srv.migrate_sockets.len() >= MIGRATE_SOCKET_MAX {
                // Make room by dropping a random cached connection, as Redis does.
                if let Some(k) = ctx.srv.migrate_sockets.keys().next().cloned() {
                    ctx.srv.migrate_sockets.remove(&k);
                }
            }
            let addr = format!("{host}:{port}").to_socket_addrs().ok().and_then(|mut a| a.next());
            let stream = addr.and_then(|a| TcpStream::connect_timeout(&a, timeout).ok());
            let Some(stream) = stream else {
                return Err(CmdError::Coded("IOERR error or timeout connecting to the client".into()));
            };
            let _ = stream.set_nodelay(true);
            ctx.srv.migrate_sockets.insert(name.clone(), MigrateSocket { reader: BufReader::new(stream), last_use_ms: now, last_db: -1 });
        }
        let last_db = ctx.srv.migrate_sockets[&name].last_db;
        let (cmd, select, sent) = build(ctx, last_db);
        let sock = ctx.srv.migrate_sockets.get_mut(&name).expect("inserted above");
        sock.last_use_ms = now;
        let s = sock.reader.get_mut();
        let _ = s.set_write_timeout(Some(timeout));
        let _ = s.set_read_timeout(Some(timeout));
        if s.write_all(&cmd).is_err() {
            ctx.srv.migrate_sockets.remove(&name);
            if may_retry {
                may_retry = false;
                continue;
            }
            return Err(CmdError::Coded("IOERR error or timeout writing to target instance".into()));
        }
        // A read that timed out is not retried (the target may still apply
        // what was sent, as Redis's ETIMEDOUT check assumes).
        let timed_out = std::cell::Cell::new(false);
        let read_line = |sock: &mut MigrateSocket| -> Option<String> {
            let mut line = String::new();
            match sock.reader.read_line(&mut line) {
                Ok(n) if n > 0 => Some(line.trim_end_matches(['\r', '\n']).to_string()),
                Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                    timed_out.set(true);
                    None
                }
                _ => None,
            }
        };
        let auth_reply = if auth.is_some() { read_line(sock) } else { Some(String::new()) };
        let select_reply = if select { read_line(sock) } else { Some(String::new()) };
        let (Some(auth_reply), Some(select_reply)) = (auth_reply, select_reply) else {
            ctx.srv.migrate_sockets.remove(&name);
            if may_retry && !timed_out.get() {
                may_retry = false;
                continue;
            }
            return Err(CmdError::Coded("IOERR error or timeout reading to target instance".into()));
        };
        let mut error: Option<String> = None;
        let mut socket_error = false;
        let mut done = 0;
        for k in &sent {
            let sock = ctx.srv.migrate_sockets.get_mut(&name).expect("cached");
            let Some(reply) = read_line(sock) else {
                socket_error = true;
                break;
            };
            done += 1;
            let err = [&auth_reply, &select_reply, &reply].into_iter().find(|r| r.starts_with('-')).cloned();
            match err {
                Some(e) => {
                    if error.is_none() {
                        error = Some(e[1..].to_string());
                    }
                }
                None => {
                    if !copy {
                        ctx.srv.db.delete(db, k);
                    }
                }
            }
        }
        if socket_error {
            ctx.srv.migrate_sockets.remove(&name);
            if done == 0 && error.is_none() && may_retry && !timed_out.get() {
                may_retry = false;
                continue;
            }
            if error.is_none() {
                return Err(CmdError::Coded("IOERR error or timeout reading to target instance".into()));
            }
        }
        if let Some(e) = error {
            if let Some(s) = ctx.srv.migrate_sockets.get_mut(&name) {
                s.last_db = -1;
            }
            return Err(CmdError::err(format!("Target instance replied with error: {e}")));
        }
        if let Some(s) = ctx.srv.migrate_sockets.get_mut(&name) {
            s.last_db = dest_db;
        }
        ctx.out.ok();
        return Ok(());
    }
}

pub fn register(r: &mut Registry) {
    r.add("dump", dump);
    r.add("restore", restore);
    r.add("migrate", migrate);
}
