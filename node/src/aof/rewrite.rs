//! A base file in command form (`aof-use-rdb-preamble no`): the commands
//! that rebuild the dataset, as Redis's rewriteAppendOnlyFileRio writes
//! them — SELECT per database, then per key SET / RPUSH / SADD / ZADD /
//! HMSET with at most 64 elements a command, and PEXPIREAT for a TTL.

use corvid_proto::resp::{encode_command, format_double_17g};

use crate::db::Databases;
use crate::keyspace::ValueRef;

/// Elements per command (AOF_REWRITE_ITEMS_PER_CMD).
const ITEMS_PER_CMD: usize = 64;

/// The command image of every database, after a FUNCTION LOAD per
/// function library.
pub fn dataset_commands(dbs: &Databases, functions: &[&[u8]], timestamp: Option<i64>) -> Vec<u8> {
    let mut out = Vec::new();
    write_header(&mut out, functions, timestamp);
    for (index, table) in dbs.dbs.iter().enumerate() {
        if table.is_empty() {
            continue;
        }
        write_select(&mut out, index);
        for e in table.iter() {
            write_key(&mut out, &e);
        }
    }
    out
}

/// What comes before the first database: the timestamp annotation
/// (`aof-timestamp-enabled`) and a FUNCTION LOAD per library.
pub fn write_header(out: &mut Vec<u8>, functions: &[&[u8]], timestamp: Option<i64>) {
    if let Some(ts) = timestamp {
        out.extend_from_slice(format!("#TS:{ts}\r\n").as_bytes());
    }
    for code in functions {
        encode_command(out, &[&b"FUNCTION"[..], b"LOAD", code]);
    }
}

/// SELECT: the keys that follow belong to database `db`.
pub fn write_select(out: &mut Vec<u8>, db: usize) {
    encode_command(out, &[&b"SELECT"[..], db.to_string().as_bytes()]);
}

/// The commands that rebuild one key, then its TTL.
pub fn write_key(out: &mut Vec<u8>, e: &crate::keyspace::Entry<'_>) {
    let key = e.key();
    match e.value() {
        ValueRef::List(q) => batched(out, b"RPUSH", key, q.iter().map(|el| vec![el.to_bytes()])),
        ValueRef::Set(s) => batched(out, b"SADD", key, s.iter().map(|m| vec![m.to_bytes()])),
        ValueRef::ZSet(z) => {
            batched(out, b"ZADD", key, z.iter().map(|(m, score)| vec![format_double_17g(score).into_bytes(), m.to_bytes()]))
        }
        ValueRef::Hash(h) => batched(out, b"HMSET", key, h.iter().map(|(f, v)| vec![f.to_bytes(), v.to_bytes()])),
        ValueRef::Stream(s) => stream_commands(out, key, s),
        string => {
            let bytes = string.string_bytes().expect("a string");
            encode_command(out, &[&b"SET"[..], key, &bytes]);
        }
    }
    if let Some(at) = e.expire_at() {
        encode_command(out, &[&b"PEXPIREAT"[..], key, at.to_string().as_bytes()]);
    }
}

/// `name key item...` commands of at most ITEMS_PER_CMD items each.
fn batched(out: &mut Vec<u8>, name: &[u8], key: &[u8], items: impl Iterator<Item = Vec<Vec<u8>>>) {
    let mut argv: Vec<Vec<u8>> = Vec::new();
    let mut count = 0;
    let flush = |argv: &mut Vec<Vec<u8>>, out: &mut Vec<u8>| {
        let mut full = vec![name.to_vec(), key.to_vec()];
        full.append(argv);
        encode_command(out, &full);
    };
    for item in items {
        argv.extend(item);
        count += 1;
        if count == ITEMS_PER_CMD {
            flush(&mut argv, out);
            count = 0;
        }
    }
    if count > 0 {
        flush(&mut argv, out);
    }
}

/// The commands that rebuild a stream (rewriteStreamObject): its entries,
/// its counters, then each group with its consumers and pending entries.
fn stream_commands(out: &mut Vec<u8>, key: &[u8], s: &crate::stream::Stream) {
    use crate::stream::StreamId;
    if s.length > 0 {
        for e in s.range(StreamId::MIN, StreamId::MAX, false) {
            let id = e.id.to_bytes();
            let mut argv: Vec<&[u8]> = vec![b"XADD", key, &id];
            for (f, v) in e.fields() {
                argv.push(f);
                argv.push(v);
            }
            encode_command(out, &argv);
        }
    } else {
        // An empty stream still exists: add an entry and trim it away.
        encode_command(out, &[&b"XADD"[..], key, b"MAXLEN", b"0", b"0-1", b"x", b"y"]);
    }
    let (last, added, maxdel) = (s.last_id.to_bytes(), s.entries_added.to_string(), s.max_deleted_id.to_bytes());
    encode_command(out, &[&b"XSETID"[..], key, &last, b"ENTRIESADDED", added.as_bytes(), b"MAXDELETEDID", &maxdel]);
    for (name, g) in &s.groups {
        let read = g.entries_read.map_or(-1, |n| n as i64).to_string();
        encode_command(out, &[&b"XGROUP"[..], b"CREATE", key, name, &g.last_id.to_bytes(), b"ENTRIESREAD", read.as_bytes()]);
        for (cname, c) in &g.consumers {
            if c.pel.is_empty() {
                encode_command(out, &[&b"XGROUP"[..], b"CREATECONSUMER", key, name, cname]);
                continue;
            }
            for id in &c.pel {
                let nack = &g.pel[id];
                let (time, count) = (nack.delivery_time.to_string(), nack.delivery_count.to_string());
                let id = id.to_bytes();
                encode_command(
                    out,
                    &[&b"XCLAIM"[..], key, name, cname, b"0", &id, b"TIME", time.as_bytes(), b"RETRYCOUNT", count.as_bytes(), b"JUSTID", b"FORCE"],
                );
            }
        }
    }
}
