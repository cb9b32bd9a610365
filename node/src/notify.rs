//! Keyspace notifications (Redis's notify.c): with `notify-keyspace-events`
//! set, a write publishes `<event>` on `__keyspace@<db>__:<key>` and `<key>`
//! on `__keyevent@<db>__:<event>`, for the classes the flags enable.
//!
//! The events of a command are derived here, after it ran, from what it
//! did: its name (Redis's event names: `incrby` for INCR, `hset` for HMSET,
//! `lpop` for a served BLPOP...), its arguments, and which of its keys
//! existed before and after it — a collection emptied by a command also
//! gets Redis's trailing `del`. One table instead of calls scattered through
//! every handler; nothing of it runs while the flags are empty.

use corvid_proto::command_table::{extract_keys, CommandSpec};
use corvid_proto::resp::{Args, Reply};

use crate::config::keyspace_events as ev;
use crate::server::Server;

/// Publish one event (notifyKeyspaceEvent).
pub fn notify(srv: &mut Server, class: i32, event: &str, key: &[u8], db: usize) {
    let flags = srv.notify_flags;
    if flags & class == 0 || !srv.pubsub.has_listeners() {
        return;
    }
    let mut unused = Reply::new(false);
    if flags & ev::KEYSPACE != 0 {
        let mut channel = format!("__keyspace@{db}__:").into_bytes();
        channel.extend_from_slice(key);
        crate::pubsub::publish(srv, crate::pubsub::Kind::Channel, &channel, event.as_bytes(), None, &mut unused);
    }
    if flags & ev::KEYEVENT != 0 {
        let channel = format!("__keyevent@{db}__:{event}");
        crate::pubsub::publish(srv, crate::pubsub::Kind::Channel, channel.as_bytes(), key, None, &mut unused);
    }
}

/// Before a write: which of its keys exist (what `after` compares with).
pub fn before(srv: &Server, spec: &CommandSpec, db: usize, args: &Args<'_>) -> Vec<(Vec<u8>, bool)> {
    let argv: Vec<&[u8]> = args.iter().collect();
    extract_keys(spec, &argv)
        .iter()
        .map(|k| {
            let key = argv[k.pos];
            (key.to_vec(), srv.db.dbs[db].get(key).is_some())
        })
        .collect()
}

fn exists(srv: &Server, db: usize, key: &[u8]) -> bool {
    srv.db.dbs[db].get(key).is_some()
}

/// Whether `word` appears among the arguments from `from` on.
fn has_word(args: &Args<'_>, from: usize, word: &str) -> bool {
    args.iter().skip(from).any(|a| a.eq_ignore_ascii_case(word.as_bytes()))
}

/// After a write that changed the dataset: its events.
/// `rewritten` is how it propagates (GETEX's effect), `modified` the keys
/// it said it changed (SMOVE's destination only if it grew).
pub fn after(
    srv: &mut Server,
    spec: &CommandSpec,
    db: usize,
    args: &Args<'_>,
    before: &[(Vec<u8>, bool)],
    rewritten: Option<&[Vec<u8>]>,
    modified: Option<&[(usize, Vec<u8>)]>,
) {
    use ev::{GENERIC, HASH, LIST, SET, STRING, ZSET};
    let name = spec.full_name;
    let key = |i: usize| before.get(i).map(|(k, _)| k.clone()).unwrap_or_default();
    let first = key(0);
    let side = |a: &[u8]| if a.eq_ignore_ascii_case(b"left") { "l" } else { "r" };
    // (class, event, key) in Redis's order.
    let mut events: Vec<(i32, String, Vec<u8>)> = Vec::new();
    let mut one = |class: i32, event: &str, key: Vec<u8>| events.push((class, event.to_string(), key));
    // Keys the command created come first: Redis's dbAdd sends "new" as it
    // adds one. RENAME, COPY, MOVE and RESTORE always add theirs (after
    // deleting what was there); other commands created the keys that were
    // missing before and are there now.
    if srv.notify_flags & ev::NEW != 0 {
        match name {
            "rename" | "renamenx" => notify(srv, ev::NEW, "new", &key(1), db),
            // (Not one restored with a TTL already past.)
            "restore" if exists(srv, db, &first) => notify(srv, ev::NEW, "new", &first, db),
            "restore" => {}
            "copy" => notify(srv, ev::NEW, "new", &key(1), copy_target(args, db)),
            "move" => {
                if let Some(to) = move_target(args) {
                    notify(srv, ev::NEW, "new", &first, to);
                }
            }
            _ => {
                for (k, existed) in before {
                    if !existed && exists(srv, db, k) {
                        notify(srv, ev::NEW, "new", k, db);
                    }
                }
            }
        }
    }
    match name {
        "set" | "setnx" | "getset" | "setex" | "psetex" => {
            one(STRING, "set", first.clone());
            // A TTL shows in the rewrite every one of them propagates as (SET ... PXAT).
            if rewritten.is_some_and(|r| r.iter().any(|a| a.eq_ignore_ascii_case(b"pxat"))) {
                one(GENERIC, "expire", first.clone());
            }
        }
        "mset" | "msetnx" => before.iter().for_each(|(k, _)| one(STRING, "set", k.clone())),
        "incr" | "decr" | "incrby" | "decrby" => one(STRING, "incrby", first.clone()),
        "incrbyfloat" | "append" | "setrange" | "setbit" => one(STRING, name, first.clone()),
        "bitfield" => one(STRING, "setbit", first.clone()),
        "getdel" => one(GENERIC, "del", first.clone()),
        // PFMERGE is a mass add to its destination: Redis names it pfadd too.
        "pfadd" | "pfmerge" => one(STRING, "pfadd", first.clone()),
        "bitop" => {
            if exists(srv, db, &first) {
                one(STRING, "set", first.clone());
            } else {
                one(GENERIC, "del", first.clone());
            }
        }
        "getex" => match rewritten.and_then(|r| r.first()).map(|w| w.to_ascii_lowercase()) {
            Some(w) if w == b"pexpireat" => one(GENERIC, "expire", first.clone()),
            Some(w) if w == b"persist" => one(GENERIC, "persist", first.clone()),
            Some(w) if w == b"del" => one(GENERIC, "del", first.clone()),
            _ => {}
        },
        "del" | "unlink" => before.iter().filter(|(k, existed)| *existed && !exists(srv, db, k)).for_each(|(k, _)| one(GENERIC, "del", k.clone())),
        "expire" | "pexpire" | "expireat" | "pexpireat" => {
            one(GENERIC, if exists(srv, db, &first) { "expire" } else { "del" }, first.clone());
        }
        "persist" => one(GENERIC, "persist", first.clone()),
        "rename" | "renamenx" => {
            one(GENERIC, "rename_from", first.clone());
            one(GENERIC, "rename_to", key(1));
        }
        "restore" => one(GENERIC, "restore", first.clone()),
        "move" => {
            notify(srv, GENERIC, "move_from", &first, db);
            if let Some(to) = move_target(args) {
                notify(srv, GENERIC, "move_to", &first, to);
            }
            return;
        }
        "copy" => {
            notify(srv, GENERIC, "copy_to", &key(1), copy_target(args, db));
            return;
        }
        "lpush" | "lpushx" => one(LIST, "lpush", first.clone()),
        "rpush" | "rpushx" => one(LIST, "rpush", first.clone()),
        "lpop" | "blpop" => one(LIST, "lpop", served_key(before)),
        "rpop" | "brpop" => one(LIST, "rpop", served_key(before)),
        "lmpop" | "blmpop" => {
            let dir = args.iter().find(|a| a.eq_ignore_ascii_case(b"left") || a.eq_ignore_ascii_case(b"right")).map(side).unwrap_or("l");
            one(LIST, &format!("{dir}pop"), served_key(before));
        }
        "lmove" | "blmove" | "rpoplpush" | "brpoplpush" => {
            let (from, to) = if name.ends_with("move") { (side(args.get(3)), side(args.get(4))) } else { ("r", "l") };
            one(LIST, &format!("{from}pop"), first.clone());
            if !exists(srv, db, &first) && before[0].1 {
                one(GENERIC, "del", first.clone());
            }
            one(LIST, &format!("{to}push"), key(1));
            return publish_all(srv, db, events);
        }
        "lset" | "linsert" | "lrem" | "ltrim" => one(LIST, name, first.clone()),
        "sadd" | "srem" | "spop" => one(SET, name, first.clone()),
        "smove" => {
            one(SET, "srem", first.clone());
            if !exists(srv, db, &first) {
                one(GENERIC, "del", first.clone());
            }
            let dst_grew = modified.is_none_or(|m| m.iter().any(|(_, k)| *k == key(1)));
            if dst_grew {
                one(SET, "sadd", key(1));
            }
            return publish_all(srv, db, events);
        }
        "zadd" => one(ZSET, if has_word(args, 2, "incr") { "zincr" } else { "zadd" }, first.clone()),
        // GEOADD runs as the ZADD it replicates as.
        "geoadd" => one(ZSET, "zadd", first.clone()),
        "zincrby" => one(ZSET, "zincr", first.clone()),
        "zrem" | "zremrangebyrank" | "zremrangebyscore" | "zremrangebylex" => one(ZSET, name, first.clone()),
        "zpopmin" | "bzpopmin" => one(ZSET, "zpopmin", served_key(before)),
        "zpopmax" | "bzpopmax" => one(ZSET, "zpopmax", served_key(before)),
        "zmpop" | "bzmpop" => {
            let ev = if has_word(args, 1, "max") { "zpopmax" } else { "zpopmin" };
            one(ZSET, ev, served_key(before));
        }
        "georadius" | "georadiusbymember" | "geosearchstore" => {
            // The destination, which the command named as the key it changed.
            let Some(dst) = modified.and_then(|m| m.first()).map(|(_, k)| k.clone()) else { return };
            if exists(srv, db, &dst) {
                one(ZSET, if name == "geosearchstore" { name } else { "georadiusstore" }, dst);
            } else {
                one(GENERIC, "del", dst);
            }
            return publish_all(srv, db, events);
        }
        "hset" | "hmset" | "hsetnx" => one(HASH, "hset", first.clone()),
        "hincrby" | "hincrbyfloat" | "hdel" => one(HASH, name, first.clone()),
        "sinterstore" | "sunionstore" | "sdiffstore" | "zunionstore" | "zinterstore" | "zdiffstore" | "zrangestore" | "sort" => {
            // The destination: its own event, or del when the result was empty.
            let dst = if name == "sort" {
                let Some(i) = args.iter().position(|a| a.eq_ignore_ascii_case(b"store")) else { return };
                args.get(i + 1).to_vec()
            } else {
                first.clone()
            };
            let (class, event) = match name {
                "sort" => (LIST, "sortstore"),
                n if n.starts_with('s') => (SET, n),
                n => (ZSET, n),
            };
            if exists(srv, db, &dst) {
                one(class, event, dst);
            } else {
                one(GENERIC, "del", dst);
            }
            return publish_all(srv, db, events);
        }
        _ => {}
    }
    // A collection the command emptied is gone: Redis says so after the event.
    let emptied = matches!(spec.doc.group, "list" | "set" | "sorted-set" | "hash")
        && events.first().is_some_and(|(_, e, k)| e != "del" && before.iter().any(|(bk, existed)| bk == k && *existed) && !exists(srv, db, k));
    if emptied {
        let k = events[0].2.clone();
        events.push((GENERIC, "del".to_string(), k));
    }
    publish_all(srv, db, events);
}

/// The key a pop worked on: BLPOP, LMPOP and friends serve the first of
/// their keys that exists (a stored collection is never empty).
fn served_key(before: &[(Vec<u8>, bool)]) -> Vec<u8> {
    before.iter().find(|(_, existed)| *existed).map(|(k, _)| k.clone()).unwrap_or_default()
}

/// MOVE key db: the database the key went to.
fn move_target(args: &Args<'_>) -> Option<usize> {
    corvid_proto::resp::parse_i64(args.get(2)).and_then(|d| usize::try_from(d).ok())
}

/// COPY source destination [DB db]: the destination's database.
fn copy_target(args: &Args<'_>, db: usize) -> usize {
    args.iter()
        .position(|a| a.eq_ignore_ascii_case(b"db"))
        .and_then(|i| corvid_proto::resp::parse_i64(args.get(i + 1)))
        .and_then(|d| usize::try_from(d).ok())
        .unwrap_or(db)
}

fn publish_all(srv: &mut Server, db: usize, events: Vec<(i32, String, Vec<u8>)>) {
    for (class, event, key) in events {
        notify(srv, class, &event, &key, db);
    }
}
