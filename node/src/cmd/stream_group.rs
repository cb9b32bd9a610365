//! Consumer-group commands (Redis's t_stream.c): XGROUP, XACK, XPENDING,
//! XCLAIM, XAUTOCLAIM. XREADGROUP is with XREAD in [`super::stream`].

use corvid_proto::resp::{Args, Reply};

use super::stream::{interval_id, reply_entry, setid_argv, strict_id, xclaim_argv};
use super::{arg_i64, is, read_as, write_as};
use crate::config::keyspace_events::STREAM as EV_STREAM;
use crate::dispatch::{Ctx, Registry};
use crate::errors::{CmdError, CmdResult};
use crate::keyspace::OwnedValue;
use crate::notify::notify;
use crate::stream::{Group, Nack, Stream, StreamId};

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn subcommand_syntax(args: &Args<'_>) -> CmdError {
    CmdError::err(format!(
        "unknown subcommand or wrong number of arguments for '{}'. Try XGROUP HELP.",
        String::from_utf8_lossy(args.get(1))
    ))
}

/// XGROUP's options after `<key> <group> <id>` (MKSTREAM for CREATE,
/// ENTRIESREAD for CREATE and SETID).
fn group_options(args: &Args<'_>, create: bool) -> Result<(bool, Option<u64>), CmdError> {
    let mut mkstream = false;
    let mut entries_read = None;
    let mut i = 5;
    while i < args.len() {
        if create && is(args.get(i), "mkstream") {
            mkstream = true;
            i += 1;
        } else if is(args.get(i), "entriesread") && i + 1 < args.len() {
            let n = arg_i64(args.get(i + 1))?;
            if n < -1 {
                return Err(CmdError::err("value for ENTRIESREAD must be positive or -1"));
            }
            entries_read = (n >= 0).then_some(n as u64);
            i += 2;
        } else {
            return Err(subcommand_syntax(args));
        }
    }
    Ok((mkstream, entries_read))
}

const NEEDS_KEY: &str = "The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.";

fn no_group(args: &Args<'_>) -> CmdError {
    CmdError::Coded(format!("NOGROUP No such consumer group '{}' for key name '{}'", lossy(args.get(3)), lossy(args.get(2))))
}

/// The stream every XGROUP subcommand but CREATE needs to exist.
fn existing_stream<'a>(ctx: &'a mut Ctx<'_>, args: &Args<'_>) -> Result<&'a mut Stream, CmdError> {
    write_as::<Stream>(&mut ctx.srv.db, ctx.db, args.get(2))?.ok_or_else(|| CmdError::err(NEEDS_KEY))
}

/// The group XGROUP SETID, CREATECONSUMER and DELCONSUMER work on.
fn existing_group<'a>(ctx: &'a mut Ctx<'_>, args: &Args<'_>) -> Result<&'a mut Group, CmdError> {
    existing_stream(ctx, args)?.groups.get_mut(args.get(3)).ok_or_else(|| no_group(args))
}

/// XGROUP CREATE key group id|$ [MKSTREAM] [ENTRIESREAD n]
fn xgroup_create(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    if args.len() > 8 {
        return Err(subcommand_syntax(args));
    }
    let (mkstream, entries_read) = group_options(args, true)?;
    let (db, key, name) = (ctx.db, args.get(2), args.get(3));
    let last = write_as::<Stream>(&mut ctx.srv.db, db, key)?.map(|s| s.last_id);
    if last.is_none() && !mkstream {
        return Err(CmdError::err(NEEDS_KEY));
    }
    let id = if args.get(4) == b"$" { last.unwrap_or(StreamId::MIN) } else { strict_id(args.get(4))? };
    if last.is_none() {
        ctx.srv.db.set_owned(db, key, OwnedValue::Stream(Box::default()), None);
        ctx.srv.db.dirty -= 1;
    }
    let s = write_as::<Stream>(&mut ctx.srv.db, db, key)?.expect("the stream exists now");
    if s.groups.contains_key(name) {
        return Err(CmdError::Coded("BUSYGROUP Consumer Group name already exists".into()));
    }
    s.groups.insert(name.to_vec(), Group::new(id, entries_read));
    ctx.out.ok();
    ctx.srv.db.dirty += 1;
    notify(ctx.srv, EV_STREAM, "xgroup-create", key, db);
    Ok(())
}

/// XGROUP SETID key group id|$ [ENTRIESREAD n]
fn xgroup_setid(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    if args.len() != 5 && args.len() != 7 {
        return Err(subcommand_syntax(args));
    }
    let (_, entries_read) = group_options(args, false)?;
    let (db, key) = (ctx.db, args.get(2));
    let s = existing_stream(ctx, args)?;
    let last = s.last_id;
    let g = s.groups.get_mut(args.get(3)).ok_or_else(|| no_group(args))?;
    let id = if args.get(4) == b"$" { last } else { interval_id_plain(args.get(4))? };
    g.last_id = id;
    g.entries_read = entries_read;
    ctx.out.ok();
    ctx.srv.db.dirty += 1;
    notify(ctx.srv, EV_STREAM, "xgroup-setid", key, db);
    Ok(())
}

/// An ID where `-` and `+` are allowed (streamParseIDOrReply).
fn interval_id_plain(a: &[u8]) -> Result<StreamId, CmdError> {
    crate::stream::id::parse(a, 0, false, false).map(|p| p.id).ok_or_else(|| CmdError::err(super::stream::INVALID_ID))
}

/// XGROUP DESTROY key group
fn xgroup_destroy(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let (db, key) = (ctx.db, args.get(2));
    if existing_stream(ctx, args)?.groups.remove(args.get(3)).is_none() {
        ctx.out.int(0);
        return Ok(());
    }
    ctx.out.int(1);
    ctx.srv.db.dirty += 1;
    notify(ctx.srv, EV_STREAM, "xgroup-destroy", key, db);
    Ok(())
}

/// XGROUP CREATECONSUMER key group consumer
fn xgroup_createconsumer(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let now = ctx.srv.db.now_ms;
    let (db, key) = (ctx.db, args.get(2));
    let created = existing_group(ctx, args)?.create_consumer(args.get(4), now);
    ctx.out.int(created as i64);
    if created {
        ctx.srv.db.dirty += 1;
        notify(ctx.srv, EV_STREAM, "xgroup-createconsumer", key, db);
    }
    Ok(())
}

/// XGROUP DELCONSUMER key group consumer: the pending entries it had.
fn xgroup_delconsumer(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let (db, key) = (ctx.db, args.get(2));
    let removed = existing_group(ctx, args)?.delete_consumer(args.get(4));
    ctx.out.int(removed.unwrap_or(0) as i64);
    if removed.is_some() {
        ctx.srv.db.dirty += 1;
        notify(ctx.srv, EV_STREAM, "xgroup-delconsumer", key, db);
    }
    Ok(())
}

fn xgroup_help(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    super::reply_help(
        ctx.out,
        b"xgroup",
        &[
            "CREATE <key> <groupname> <id|$> [option]",
            "    Create a new consumer group. Options are:",
            "    * MKSTREAM",
            "      Create the empty stream if it does not exist.",
            "    * ENTRIESREAD entries_read",
            "      Set the group's entries_read counter (internal use).",
            "CREATECONSUMER <key> <groupname> <consumer>",
            "    Create a new consumer in the specified group.",
            "DELCONSUMER <key> <groupname> <consumer>",
            "    Remove the specified consumer.",
            "DESTROY <key> <groupname>",
            "    Remove the specified group.",
            "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
            "    Set the current group ID and entries_read counter.",
        ],
    );
    Ok(())
}

/// XACK key group id [id ...]
fn xack(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let (db, key) = (ctx.db, args.get(1));
    let exists = read_as::<Stream>(&mut ctx.srv.db, db, key)?.is_some_and(|s| s.groups.contains_key(args.get(2)));
    if !exists {
        ctx.out.int(0);
        return Ok(());
    }
    let ids = args.iter().skip(3).map(strict_id).collect::<Result<Vec<_>, _>>()?;
    let s = write_as::<Stream>(&mut ctx.srv.db, db, key)?.expect("checked above");
    let g = s.groups.get_mut(args.get(2)).expect("checked above");
    let acked = ids.into_iter().filter(|id| g.ack(*id)).count();
    ctx.srv.db.dirty += acked as u64;
    ctx.out.int(acked as i64);
    Ok(())
}

fn no_key_or_group(key: &[u8], group: &[u8]) -> CmdError {
    CmdError::Coded(format!("NOGROUP No such key '{}' or consumer group '{}'", lossy(key), lossy(group)))
}

/// XPENDING key group [[IDLE min-idle] start end count [consumer]]
fn xpending(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let argc = args.len();
    if argc != 3 && !(6..=9).contains(&argc) {
        return Err(CmdError::Syntax);
    }
    let mut range = None;
    if argc >= 6 {
        let mut at = 3;
        let mut min_idle = 0;
        if is(args.get(3), "idle") {
            min_idle = arg_i64(args.get(4))?;
            if argc < 8 {
                return Err(CmdError::Syntax);
            }
            at += 2;
        }
        let count = arg_i64(args.get(at + 2))?.max(0) as usize;
        let start = interval_id(args.get(at), 0, true)?;
        let end = interval_id(args.get(at + 1), u64::MAX, false)?;
        let consumer = (at + 3 < argc).then(|| args.get(at + 3));
        range = Some((min_idle, start, end, count, consumer));
    }
    let (key, gname) = (args.get(1), args.get(2));
    let now = ctx.srv.db.now_ms;
    let s = read_as::<Stream>(&mut ctx.srv.db, ctx.db, key)?;
    let Some(g) = s.and_then(|s| s.groups.get(gname)) else { return Err(no_key_or_group(key, gname)) };
    let out = &mut *ctx.out;
    let Some((min_idle, start, end, count, consumer)) = range else {
        out.array(4);
        out.int(g.pel.len() as i64);
        match (g.pel.keys().next(), g.pel.keys().next_back()) {
            (Some(first), Some(last)) => {
                out.bulk(first.to_string().as_bytes());
                out.bulk(last.to_string().as_bytes());
                let owners: Vec<_> = g.consumers.iter().filter(|(_, c)| !c.pel.is_empty()).collect();
                out.array(owners.len());
                for (name, c) in owners {
                    out.array(2);
                    out.bulk(name);
                    out.bulk_int(c.pel.len() as i64);
                }
            }
            _ => {
                out.null();
                out.null();
                out.null_array();
            }
        }
        return Ok(());
    };
    let ids: Vec<StreamId> = match consumer {
        Some(name) => match g.consumers.get(name) {
            Some(c) if start <= end => c.pel.range(start..=end).copied().collect(),
            Some(_) => Vec::new(),
            None => {
                out.array(0);
                return Ok(());
            }
        },
        None if start <= end => g.pel.range(start..=end).map(|(id, _)| *id).collect(),
        None => Vec::new(),
    };
    let rows: Vec<(StreamId, &Nack)> =
        ids.into_iter().map(|id| (id, &g.pel[&id])).filter(|(_, n)| min_idle == 0 || now - n.delivery_time >= min_idle).take(count).collect();
    out.array(rows.len());
    for (id, nack) in rows {
        out.array(4);
        out.bulk(id.to_string().as_bytes());
        out.bulk(&nack.consumer);
        out.int((now - nack.delivery_time).max(0));
        out.int(nack.delivery_count as i64);
    }
    Ok(())
}

/// Make sure consumer `name` exists for a claim (streamLookupConsumer, else
/// streamCreateConsumer); true when it was created.
fn claiming_consumer(g: &mut Group, name: &[u8], now: i64) -> bool {
    match g.consumers.get_mut(name) {
        Some(c) => {
            c.seen_time = now;
            false
        }
        None => g.create_consumer(name, now),
    }
}

/// After XCLAIM or XAUTOCLAIM: count the changes, announce a consumer the
/// claim created, and replace the command by the XCLAIMs that replay it.
fn finish_claim(ctx: &mut Ctx<'_>, key: &[u8], dirty: u64, created: bool, propagated: &[Vec<Vec<u8>>]) {
    let db = ctx.db;
    ctx.srv.db.dirty += dirty;
    if created {
        ctx.srv.db.dirty += 1;
        notify(ctx.srv, EV_STREAM, "xgroup-createconsumer", key, db);
    }
    crate::replication::propagate_instead(ctx.srv, db, propagated);
}

/// XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms] [TIME unix-ms]
/// [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID id]
fn xclaim(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let (db, key, gname, cname) = (ctx.db, args.get(1), args.get(2), args.get(3));
    let exists = read_as::<Stream>(&mut ctx.srv.db, db, key)?.is_some_and(|s| s.groups.contains_key(gname));
    if !exists {
        return Err(no_key_or_group(key, gname));
    }
    let min_idle = arg_i64(args.get(4)).map_err(|_| CmdError::err("Invalid min-idle-time argument for XCLAIM"))?.max(0);
    let mut ids = Vec::new();
    let mut j = 5;
    while j < args.len() {
        match crate::stream::id::parse(args.get(j), 0, true, false) {
            Some(p) => ids.push((p.id, j)),
            None => break,
        }
        j += 1;
    }
    let now = ctx.srv.db.now_ms;
    let (mut force, mut justid) = (false, false);
    let mut delivery: Option<i64> = None;
    let mut retry: Option<i64> = None;
    let mut last_id = StreamId::MIN;
    while j < args.len() {
        let more = args.len() - 1 - j;
        let opt = args.get(j);
        let number = |a: &[u8], what: &str| arg_i64(a).map_err(|_| CmdError::err(format!("Invalid {what} option argument for XCLAIM")));
        if is(opt, "force") {
            force = true;
        } else if is(opt, "justid") {
            justid = true;
        } else if is(opt, "idle") && more > 0 {
            j += 1;
            delivery = Some(now - number(args.get(j), "IDLE")?);
        } else if is(opt, "time") && more > 0 {
            j += 1;
            delivery = Some(number(args.get(j), "TIME")?);
        } else if is(opt, "retrycount") && more > 0 {
            j += 1;
            retry = Some(number(args.get(j), "RETRYCOUNT")?);
        } else if is(opt, "lastid") && more > 0 {
            j += 1;
            last_id = strict_id(args.get(j))?;
        } else {
            return Err(CmdError::err(format!("Unrecognized XCLAIM option '{}'", lossy(opt))));
        }
        j += 1;
    }
    let delivery = match delivery {
        Some(t) if t < 0 || t > now => now,
        Some(t) => t,
        None => now,
    };
    let s = write_as::<Stream>(&mut ctx.srv.db, db, key)?.expect("checked above");
    let mut propagate_last = false;
    {
        let g = s.groups.get_mut(gname).expect("checked above");
        if last_id > g.last_id {
            g.last_id = last_id;
            propagate_last = true;
        }
    }
    let mut body = Reply::new(ctx.out.resp3);
    let mut claimed = 0;
    let mut dirty = 0u64;
    let mut created = false;
    let mut propagated: Vec<Vec<Vec<u8>>> = Vec::new();
    for (id, at) in ids {
        let exists = s.contains(id);
        let g = s.groups.get_mut(gname).expect("checked above");
        if !exists {
            if let Some(nack) = g.pel.get(&id).cloned() {
                propagated.push(xclaim_argv(key, gname, args.get(at), &nack, g.last_id));
                propagate_last = false;
                dirty += 1;
                g.ack(id);
            }
            continue;
        }
        let forced = force && !g.pel.contains_key(&id);
        if !forced {
            let Some(nack) = g.pel.get(&id) else { continue };
            if min_idle > 0 && now - nack.delivery_time < min_idle {
                continue;
            }
        }
        created |= claiming_consumer(g, cname, now);
        if forced {
            // A new pending entry counts one delivery already (streamCreateNACK).
            g.pel.insert(id, Nack { delivery_time: now, delivery_count: 1, consumer: cname.to_vec() });
            g.consumers.get_mut(cname).expect("just made").pel.insert(id);
        } else {
            g.reassign(id, cname);
        }
        let nack = g.pel.get_mut(&id).expect("pending");
        nack.delivery_time = delivery;
        match retry {
            Some(n) if n >= 0 => nack.delivery_count = n as u64,
            _ if !justid => nack.delivery_count += 1,
            _ => {}
        }
        let nack = nack.clone();
        propagated.push(xclaim_argv(key, gname, args.get(at), &nack, g.last_id));
        propagate_last = false;
        dirty += 1;
        claimed += 1;
        if justid {
            body.bulk(id.to_string().as_bytes());
        } else {
            reply_entry(&mut body, &s.get(id).expect("exists"));
        }
    }
    if propagate_last {
        propagated.push(setid_argv(key, gname, &s.groups[gname]));
        dirty += 1;
    }
    ctx.out.array(claimed);
    ctx.out.raw(&body.buf);
    finish_claim(ctx, key, dirty, created, &propagated);
    Ok(())
}

/// XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]
fn xautoclaim(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let (db, key, gname, cname) = (ctx.db, args.get(1), args.get(2), args.get(3));
    let min_idle = arg_i64(args.get(4)).map_err(|_| CmdError::err("Invalid min-idle-time argument for XAUTOCLAIM"))?.max(0);
    let start = interval_id(args.get(5), 0, true)?;
    let mut count: i64 = 100;
    let mut justid = false;
    let mut j = 6;
    while j < args.len() {
        let more = args.len() - 1 - j;
        if is(args.get(j), "count") && more > 0 {
            let max = i64::MAX / 16;
            count = super::arg_i64_range(args.get(j + 1), 1, max, "COUNT must be > 0")?;
            j += 1;
        } else if is(args.get(j), "justid") {
            justid = true;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    let exists = read_as::<Stream>(&mut ctx.srv.db, db, key)?.is_some_and(|s| s.groups.contains_key(gname));
    if !exists {
        return Err(no_key_or_group(key, gname));
    }
    let now = ctx.srv.db.now_ms;
    let s = write_as::<Stream>(&mut ctx.srv.db, db, key)?.expect("checked above");
    let mut attempts = count.saturating_mul(10);
    let candidates: Vec<StreamId> =
        s.groups[gname].pel.range(start..).map(|(id, _)| *id).take(usize::try_from(attempts).unwrap_or(usize::MAX).saturating_add(1)).collect();
    let mut body = Reply::new(ctx.out.resp3);
    let (mut claimed, mut dirty, mut created) = (0usize, 0u64, false);
    let mut deleted = Vec::new();
    let mut propagated: Vec<Vec<Vec<u8>>> = Vec::new();
    let mut next = 0;
    while attempts > 0 && count > 0 && next < candidates.len() {
        attempts -= 1;
        let id = candidates[next];
        next += 1;
        let exists = s.contains(id);
        let g = s.groups.get_mut(gname).expect("checked above");
        let Some(nack) = g.pel.get(&id).cloned() else { continue };
        if !exists {
            propagated.push(xclaim_argv(key, gname, &id.to_bytes(), &nack, g.last_id));
            dirty += 1;
            g.ack(id);
            deleted.push(id);
            count -= 1;
            continue;
        }
        if min_idle > 0 && now - nack.delivery_time < min_idle {
            continue;
        }
        created |= claiming_consumer(g, cname, now);
        g.reassign(id, cname);
        let nack = g.pel.get_mut(&id).expect("pending");
        nack.delivery_time = now;
        if !justid {
            nack.delivery_count += 1;
        }
        let nack = nack.clone();
        propagated.push(xclaim_argv(key, gname, &id.to_bytes(), &nack, g.last_id));
        dirty += 1;
        claimed += 1;
        count -= 1;
        if justid {
            body.bulk(id.to_string().as_bytes());
        } else {
            reply_entry(&mut body, &s.get(id).expect("exists"));
        }
    }
    let cursor = candidates.get(next).copied().unwrap_or(StreamId::MIN);
    let out = &mut *ctx.out;
    out.array(3);
    out.bulk(cursor.to_string().as_bytes());
    out.array(claimed);
    out.raw(&body.buf);
    out.array(deleted.len());
    for id in &deleted {
        out.bulk(id.to_string().as_bytes());
    }
    finish_claim(ctx, key, dirty, created, &propagated);
    Ok(())
}

pub fn register(r: &mut Registry) {
    r.add("xgroup|create", xgroup_create);
    r.add("xgroup|setid", xgroup_setid);
    r.add("xgroup|destroy", xgroup_destroy);
    r.add("xgroup|createconsumer", xgroup_createconsumer);
    r.add("xgroup|delconsumer", xgroup_delconsumer);
    r.add("xgroup|help", xgroup_help);
    r.add("xack", xack);
    r.add("xpending", xpending);
    r.add("xclaim", xclaim);
    r.add("xautoclaim", xautoclaim);
}
