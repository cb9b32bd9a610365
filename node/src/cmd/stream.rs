//! Stream commands (Redis's t_stream.c): XADD, XRANGE, XREVRANGE, XLEN,
//! XDEL, XTRIM, XSETID, XREAD, XREADGROUP and XINFO. The consumer-group
//! commands are in [`super::stream_group`].
//!
//! Like Redis, commands that generate or trim propagate what they did, not
//! what they were asked: XADD with `*` goes out with the ID it made, a `~`
//! trim as the exact `=` one it came to, XREADGROUP as the XCLAIMs and
//! XGROUP SETIDs that rebuild the group's state.

use corvid_proto::resp::{Args, Reply};

use super::{arg_i64, is, read_as, write_as};
use crate::config::keyspace_events::STREAM as EV_STREAM;
use crate::dispatch::{Ctx, Registry};
use crate::errors::{CmdError, CmdResult};
use crate::keyspace::OwnedValue;
use crate::notify::notify;
use crate::stream::{id, AppendError, EntryRef, NodeLimits, Stream, StreamId, TrimTo};

pub const INVALID_ID: &str = "Invalid stream ID specified as stream command argument";

/// An ID where `-` and `+` are not allowed (streamParseStrictIDOrReply).
pub fn strict_id(a: &[u8]) -> Result<StreamId, CmdError> {
    id::parse(a, 0, true, false).map(|p| p.id).ok_or_else(|| CmdError::err(INVALID_ID))
}

/// A range bound (streamParseIntervalIDOrReply): `(` makes it exclusive,
/// which is returned already stepped past (`incr` for a start, else decr).
pub fn interval_id(a: &[u8], missing_seq: u64, start: bool) -> Result<StreamId, CmdError> {
    if a.len() > 1 && a[0] == b'(' {
        let id = id::parse(&a[1..], missing_seq, true, false).ok_or_else(|| CmdError::err(INVALID_ID))?.id;
        return if start {
            id.incr().ok_or_else(|| CmdError::err("invalid start ID for the interval"))
        } else {
            id.decr().ok_or_else(|| CmdError::err("invalid end ID for the interval"))
        };
    }
    id::parse(a, missing_seq, false, false).map(|p| p.id).ok_or_else(|| CmdError::err(INVALID_ID))
}

/// One entry: `[id, [field, value, ...]]`.
pub fn reply_entry(out: &mut Reply, e: &EntryRef<'_>) {
    out.array(2);
    out.bulk(e.id.to_string().as_bytes());
    out.array(2 * e.field_count());
    for (f, v) in e.fields() {
        out.bulk(f);
        out.bulk(v);
    }
}

/// Entries as an array of [`reply_entry`]s.
fn reply_entries(out: &mut Reply, entries: &[EntryRef<'_>]) {
    out.array(entries.len());
    for e in entries {
        reply_entry(out, e);
    }
}

pub fn node_limits(ctx: &Ctx<'_>) -> NodeLimits {
    NodeLimits {
        max_bytes: ctx.srv.config.get_i64("stream-node-max-bytes").max(0) as usize,
        max_entries: ctx.srv.config.get_i64("stream-node-max-entries").max(0) as usize,
    }
}

/// The command comes from our master or the AOF: its trims were made exact
/// before they were written (mustObeyClient).
fn must_obey(ctx: &mut Ctx<'_>) -> bool {
    ctx.srv.db.loading || ctx.client().is_master
}

/// XADD/XTRIM's options (streamAddTrimArgs).
#[derive(Default)]
struct AddTrim {
    to: Option<TrimTo>,
    approx: bool,
    limit: u64,
    /// Where the MAXLEN/MINID value is, for the rewrite of `~`.
    value_at: usize,
    nomkstream: bool,
    /// XADD's ID: None for `*`; `(id, seq_given)`.
    id: Option<(StreamId, bool)>,
    /// Where XADD's ID is.
    id_at: usize,
}

/// Parse XADD's or XTRIM's options (streamParseAddOrTrimArgsOrReply).
fn parse_add_trim(ctx: &mut Ctx<'_>, args: &Args<'_>, xadd: bool) -> Result<AddTrim, CmdError> {
    const BOTH: &str = "syntax error, MAXLEN and MINID options at the same time are not compatible";
    let mut o = AddTrim::default();
    let mut limit_given = false;
    let mut i = 2;
    while i < args.len() {
        let more = args.len() - 1 - i;
        let opt = args.get(i);
        if xadd && opt == b"*" {
            break;
        } else if (is(opt, "maxlen") || is(opt, "minid")) && more > 0 {
            if o.to.is_some() {
                return Err(CmdError::err(BOTH));
            }
            o.approx = false;
            let next = args.get(i + 1);
            if more >= 2 && (next == b"~" || next == b"=") {
                o.approx = next == b"~";
                i += 1;
            }
            let v = args.get(i + 1);
            o.to = Some(if is(opt, "maxlen") {
                let n = arg_i64(v)?;
                if n < 0 {
                    return Err(CmdError::err("The MAXLEN argument must be >= 0."));
                }
                TrimTo::MaxLen(n as u64)
            } else {
                TrimTo::MinId(strict_id(v)?)
            });
            i += 1;
            o.value_at = i;
        } else if is(opt, "limit") && more > 0 {
            let n = arg_i64(args.get(i + 1))?;
            if n < 0 {
                return Err(CmdError::err("The LIMIT argument must be >= 0."));
            }
            o.limit = n as u64;
            limit_given = true;
            i += 1;
        } else if xadd && is(opt, "nomkstream") {
            o.nomkstream = true;
        } else if xadd {
            let p = id::parse(opt, 0, true, true).ok_or_else(|| CmdError::err(INVALID_ID))?;
            o.id = Some((p.id, p.seq_given));
            break;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    o.id_at = i;
    if o.limit > 0 && o.to.is_none() {
        return Err(CmdError::err("syntax error, LIMIT cannot be used without specifying a trimming strategy"));
    }
    if !xadd && o.to.is_none() {
        return Err(CmdError::err("syntax error, XTRIM must be called with a trimming strategy"));
    }
    if must_obey(ctx) {
        o.limit = 0;
    } else if limit_given {
        if !o.approx {
            return Err(CmdError::err("syntax error, LIMIT cannot be used without the special ~ option"));
        }
    } else if o.approx {
        // At most about 100 nodes of work, whatever the node size.
        let per_node = ctx.srv.config.get_i64("stream-node-max-entries");
        let limit = per_node.saturating_mul(100);
        o.limit = if limit <= 0 { 10_000 } else { limit.min(1_000_000) } as u64;
    } else {
        o.limit = 0;
    }
    Ok(o)
}

/// After a `~` trim: propagate it as the exact trim it came to, `=` and the
/// resulting length or first ID (streamRewriteTrimArgument).
fn rewrite_approx(argv: &mut [Vec<u8>], o: &AddTrim, s: &Stream) {
    argv[o.value_at - 1] = b"=".to_vec();
    argv[o.value_at] = match o.to {
        Some(TrimTo::MaxLen(_)) => s.length.to_string().into_bytes(),
        _ => s.first_id_with_tombstones().to_bytes(),
    };
}

/// XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value [field value ...]
fn xadd(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let o = parse_add_trim(ctx, args, true)?;
    let fields_at = o.id_at + 1;
    if args.len() < fields_at + 2 || (args.len() - fields_at) % 2 == 1 {
        return Err(CmdError::Arity(ctx.spec.full_name.to_string()));
    }
    if matches!(o.id, Some((id, true)) if id.is_zero()) {
        return Err(CmdError::err("The ID specified in XADD must be greater than 0-0"));
    }
    let (db, key) = (ctx.db, args.get(1));
    let (now, limits) = (ctx.srv.db.now_ms as u64, node_limits(ctx));
    let fields: Vec<&[u8]> = args.iter().skip(fields_at).collect();
    let rewrite_read = ctx.srv.rewrite_wanted();
    let mut fresh = None;
    let s: &mut Stream = match write_as::<Stream>(&mut ctx.srv.db, db, key)? {
        Some(s) => s,
        None if o.nomkstream => {
            ctx.out.null();
            return Ok(());
        }
        None => fresh.insert(Stream::new()),
    };
    if s.last_id == StreamId::MAX {
        return Err(CmdError::err("The stream has exhausted the last possible ID, unable to add more items"));
    }
    let id = s.append(o.id, &fields, now, limits).map_err(|e| match e {
        AppendError::NotGreater => CmdError::err("The ID specified in XADD is equal or smaller than the target stream top item"),
        AppendError::TooLarge => CmdError::err("Elements are too large to be stored"),
    })?;
    // The arguments as replicas and the AOF get them, only if they will.
    let mut argv: Option<Vec<Vec<u8>>> = rewrite_read.then(|| args.iter().map(<[u8]>::to_vec).collect());
    let mut trimmed = 0;
    if let Some(to) = o.to {
        trimmed = s.trim(to, o.approx, o.limit);
        if let Some(argv) = argv.as_mut().filter(|_| o.approx) {
            rewrite_approx(argv, &o, s);
        }
    }
    let rewrite = o.approx || !matches!(o.id, Some((_, true)));
    if let Some(s) = fresh {
        ctx.srv.db.set_owned(db, key, OwnedValue::Stream(Box::new(s)), None);
        // dbAdd leaves `dirty` to the command.
        ctx.srv.db.dirty -= 1;
    }
    let id_text = id.to_string();
    ctx.out.bulk(id_text.as_bytes());
    ctx.srv.db.dirty += 1;
    notify(ctx.srv, EV_STREAM, "xadd", key, db);
    if trimmed > 0 {
        notify(ctx.srv, EV_STREAM, "xtrim", key, db);
    }
    if let Some(mut argv) = argv.filter(|_| rewrite) {
        argv[o.id_at] = id_text.into_bytes();
        ctx.srv.propagate_as = Some(argv);
    }
    Ok(())
}

/// XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count]
fn xtrim(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let o = parse_add_trim(ctx, args, false)?;
    let (db, key) = (ctx.db, args.get(1));
    let rewrite_read = ctx.srv.rewrite_wanted();
    let Some(s) = write_as::<Stream>(&mut ctx.srv.db, db, key)? else {
        ctx.out.int(0);
        return Ok(());
    };
    let deleted = s.trim(o.to.expect("XTRIM has a strategy"), o.approx, o.limit);
    if deleted > 0 && o.approx && rewrite_read {
        let mut argv: Vec<Vec<u8>> = args.iter().map(<[u8]>::to_vec).collect();
        rewrite_approx(&mut argv, &o, s);
        ctx.srv.propagate_as = Some(argv);
    }
    if deleted > 0 {
        notify(ctx.srv, EV_STREAM, "xtrim", key, db);
        ctx.srv.db.dirty += deleted;
    }
    ctx.out.int(deleted as i64);
    Ok(())
}

/// XRANGE key start end [COUNT count] / XREVRANGE key end start [COUNT count]
fn range_generic(ctx: &mut Ctx<'_>, args: &Args<'_>, rev: bool) -> CmdResult {
    let (start_arg, end_arg) = if rev { (args.get(3), args.get(2)) } else { (args.get(2), args.get(3)) };
    let start = interval_id(start_arg, 0, true)?;
    let end = interval_id(end_arg, u64::MAX, false)?;
    let mut count: Option<usize> = None;
    let mut j = 4;
    while j < args.len() {
        if is(args.get(j), "count") && j + 1 < args.len() {
            count = Some(arg_i64(args.get(j + 1))?.max(0) as usize);
            j += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let Some(s) = read_as::<Stream>(&mut ctx.srv.db, ctx.db, args.get(1))? else {
        ctx.out.array(0);
        return Ok(());
    };
    if count == Some(0) {
        ctx.out.null_array();
        return Ok(());
    }
    let entries: Vec<EntryRef<'_>> = s.range(start, end, rev).take(count.unwrap_or(usize::MAX)).collect();
    reply_entries(ctx.out, &entries);
    Ok(())
}

fn xrange(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    range_generic(ctx, args, false)
}

fn xrevrange(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    range_generic(ctx, args, true)
}

/// XLEN key
fn xlen(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let n = read_as::<Stream>(&mut ctx.srv.db, ctx.db, args.get(1))?.map_or(0, |s| s.length);
    ctx.out.int(n as i64);
    Ok(())
}

/// XDEL key id [id ...]
fn xdel(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let ids = args.iter().skip(2).map(strict_id).collect::<Result<Vec<_>, _>>()?;
    let (db, key) = (ctx.db, args.get(1));
    let Some(s) = write_as::<Stream>(&mut ctx.srv.db, db, key)? else {
        ctx.out.int(0);
        return Ok(());
    };
    let mut deleted = 0u64;
    let mut first_gone = false;
    for id in ids {
        if s.delete(id) {
            first_gone |= id == s.first_id;
            s.max_deleted_id = s.max_deleted_id.max(id);
            deleted += 1;
        }
    }
    if deleted > 0 {
        if s.length == 0 {
            s.first_id = StreamId::MIN;
        } else if first_gone {
            s.first_id = s.edge_id(true);
        }
        notify(ctx.srv, EV_STREAM, "xdel", key, db);
        ctx.srv.db.dirty += deleted;
    }
    ctx.out.int(deleted as i64);
    Ok(())
}

/// XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]
fn xsetid(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let id = strict_id(args.get(2))?;
    let mut entries_added: Option<u64> = None;
    let mut max_deleted = StreamId::MIN;
    let mut i = 3;
    while i < args.len() {
        let more = args.len() - 1 - i;
        if is(args.get(i), "entriesadded") && more > 0 {
            let n = arg_i64(args.get(i + 1))?;
            if n < 0 {
                return Err(CmdError::err("entries_added must be positive"));
            }
            entries_added = Some(n as u64);
        } else if is(args.get(i), "maxdeletedid") && more > 0 {
            max_deleted = strict_id(args.get(i + 1))?;
            if id < max_deleted {
                return Err(CmdError::err("The ID specified in XSETID is smaller than the provided max_deleted_entry_id"));
            }
        } else {
            return Err(CmdError::Syntax);
        }
        i += 2;
    }
    let (db, key) = (ctx.db, args.get(1));
    let s = write_as::<Stream>(&mut ctx.srv.db, db, key)?.ok_or(CmdError::NoSuchKey)?;
    if s.length > 0 {
        if id < s.edge_id(false) {
            return Err(CmdError::err("The ID specified in XSETID is smaller than the target stream top item"));
        }
        if entries_added.is_some_and(|n| s.length > n) {
            return Err(CmdError::err("The entries_added specified in XSETID is smaller than the target stream length"));
        }
    }
    s.last_id = id;
    if let Some(n) = entries_added {
        s.entries_added = n;
    }
    if !max_deleted.is_zero() {
        s.max_deleted_id = max_deleted;
    }
    ctx.out.ok();
    ctx.srv.db.dirty += 1;
    notify(ctx.srv, EV_STREAM, "xsetid", key, db);
    Ok(())
}

/// Entries without a COUNT served to a client that blocked
/// (XREAD_BLOCKED_DEFAULT_COUNT).
const BLOCKED_DEFAULT_COUNT: &[u8] = b"1000";

/// XREAD [COUNT count] [BLOCK ms] STREAMS key [key ...] id [id ...] and
/// XREADGROUP GROUP group consumer [COUNT count] [BLOCK ms] [NOACK] STREAMS ...
fn xread(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let readgroup = ctx.spec.name == "xreadgroup";
    let mut timeout: Option<Option<i64>> = None;
    let mut count: usize = 0;
    let mut count_given = false;
    let mut streams_at = 0;
    let mut group: Option<(&[u8], &[u8])> = None;
    let mut noack = false;
    let mut i = 1;
    while i < args.len() {
        let more = args.len() - 1 - i;
        let o = args.get(i);
        if is(o, "block") && more > 0 {
            if ctx.srv.scripting.running.is_some() {
                return Err(CmdError::err(format!(
                    "{} command is not allowed with BLOCK option from scripts",
                    String::from_utf8_lossy(args.get(0))
                )));
            }
            i += 1;
            timeout = Some(crate::blocking::parse_timeout_ms(args.get(i), ctx.srv.db.now_ms)?);
        } else if is(o, "count") && more > 0 {
            i += 1;
            count = arg_i64(args.get(i))?.max(0) as usize;
            count_given = true;
        } else if is(o, "streams") && more > 0 {
            streams_at = i + 1;
            if (args.len() - streams_at) % 2 != 0 {
                return Err(CmdError::err(
                    "Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.",
                ));
            }
            break;
        } else if is(o, "group") && more >= 2 {
            if !readgroup {
                return Err(CmdError::err("The GROUP option is only supported by XREADGROUP. You called XREAD instead."));
            }
            group = Some((args.get(i + 1), args.get(i + 2)));
            i += 2;
        } else if is(o, "noack") {
            if !readgroup {
                return Err(CmdError::err("The NOACK option is only supported by XREADGROUP. You called XREAD instead."));
            }
            noack = true;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    if streams_at == 0 {
        return Err(CmdError::Syntax);
    }
    if readgroup && group.is_none() {
        return Err(CmdError::err("Missing GROUP option for XREADGROUP"));
    }
    let n = (args.len() - streams_at) / 2;
    let db = ctx.db;
    // The ID each stream must be past; MAX stands for XREADGROUP's `>`.
    let mut ids = Vec::with_capacity(n);
    for k in 0..n {
        let key = args.get(streams_at + k);
        let id_arg = args.get(streams_at + n + k);
        let s = read_as::<Stream>(&mut ctx.srv.db, db, key)?;
        if let Some((g, _)) = group {
            if s.is_none_or(|s| !s.groups.contains_key(g)) {
                return Err(CmdError::Coded(format!(
                    "NOGROUP No such key '{}' or consumer group '{}' in XREADGROUP with GROUP option",
                    String::from_utf8_lossy(key),
                    String::from_utf8_lossy(g)
                )));
            }
        }
        if id_arg == b"$" {
            if readgroup {
                return Err(CmdError::err(
                    "The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.",
                ));
            }
            ids.push(s.map_or(StreamId::MIN, |s| s.last_id));
        } else if id_arg == b">" {
            if !readgroup {
                return Err(CmdError::err(
                    "The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.",
                ));
            }
            ids.push(StreamId::MAX);
        } else {
            ids.push(strict_id(id_arg)?);
        }
    }
    let resp3 = ctx.out.resp3;
    let mut body = Reply::new(resp3);
    let mut served = 0;
    let mut propagated: Vec<Vec<Vec<u8>>> = Vec::new();
    for (k, gt) in ids.iter_mut().enumerate() {
        let key = args.get(streams_at + k);
        let now = ctx.srv.db.now_ms;
        let Some(s) = read_as::<Stream>(&mut ctx.srv.db, db, key)? else { continue };
        let mut history = false;
        let serve = match group {
            Some(_) if *gt != StreamId::MAX => {
                history = true;
                true
            }
            Some((g, _)) => {
                let last = s.groups[g].last_id;
                if s.length > 0 && s.edge_id(false) > last {
                    *gt = last;
                    true
                } else {
                    false
                }
            }
            None => s.length > 0 && s.edge_id(false) > *gt,
        };
        if !serve {
            continue;
        }
        served += 1;
        if !resp3 {
            body.array(2);
        }
        body.bulk(key);
        let start = gt.incr().unwrap_or(StreamId::MAX);
        match group {
            None => {
                let entries: Vec<EntryRef<'_>> = s.range(start, StreamId::MAX, false).take(if count == 0 { usize::MAX } else { count }).collect();
                reply_entries(&mut body, &entries);
            }
            Some((g, c)) => {
                let s: &mut Stream = match ctx.srv.db.heap_mut(db, key).and_then(<Stream as super::Collection>::of_mut) {
                    Some(s) => s,
                    None => continue,
                };
                let created = read_group(s, key, g, c, start, count, noack, history, now, &mut body, &mut propagated);
                ctx.srv.db.dirty += 1;
                if created {
                    ctx.srv.db.dirty += 1;
                    notify(ctx.srv, EV_STREAM, "xgroup-createconsumer", key, db);
                }
            }
        }
    }
    if readgroup {
        crate::replication::propagate_instead(ctx.srv, db, &propagated);
    }
    if served > 0 {
        if resp3 {
            ctx.out.map(served);
        } else {
            ctx.out.array(served);
        }
        ctx.out.raw(&body.buf);
        return Ok(());
    }
    let Some(deadline) = timeout else {
        ctx.out.null_array();
        return Ok(());
    };
    // Wait, keeping the command with `$` resolved and a COUNT.
    let resolved: Vec<Vec<u8>> = ids.iter().map(|id| id.to_bytes()).collect();
    let mut argv: Vec<&[u8]> = Vec::with_capacity(args.len() + 2);
    argv.extend(args.iter().take(streams_at + n));
    for (k, id) in resolved.iter().enumerate() {
        let orig = args.get(streams_at + n + k);
        argv.push(if orig == b">" { orig } else { id });
    }
    if !count_given {
        argv.splice(1..1, [&b"COUNT"[..], BLOCKED_DEFAULT_COUNT]);
    }
    let keys: Vec<&[u8]> = (0..n).map(|k| args.get(streams_at + k)).collect();
    crate::blocking::block_as(ctx, args, &argv, &keys, deadline);
    Ok(())
}

/// Serve XREADGROUP from one stream (streamReplyWithRange with a group, or
/// the consumer's own history): reply the entries into `out`, record them
/// as pending, and collect the commands that replay it. True when the
/// consumer was created.
#[allow(clippy::too_many_arguments)]
fn read_group(
    s: &mut Stream,
    key: &[u8],
    gname: &[u8],
    cname: &[u8],
    start: StreamId,
    count: usize,
    noack: bool,
    history: bool,
    now: i64,
    out: &mut Reply,
    propagated: &mut Vec<Vec<Vec<u8>>>,
) -> bool {
    let limit = if count == 0 { usize::MAX } else { count };
    let g = s.groups.get_mut(gname).expect("the group was checked");
    let created = match g.consumers.get_mut(cname) {
        Some(c) => {
            c.seen_time = now;
            false
        }
        None => {
            g.create_consumer(cname, now);
            if noack {
                propagated.push(vec![b"XGROUP".to_vec(), b"CREATECONSUMER".to_vec(), key.to_vec(), gname.to_vec(), cname.to_vec()]);
            }
            true
        }
    };
    if history {
        let ids: Vec<StreamId> = g.consumers[cname].pel.range(start..).take(limit).copied().collect();
        out.array(ids.len());
        for id in ids {
            match s.get(id) {
                Some(e) => {
                    reply_entry(out, &e);
                    let nack = s.groups.get_mut(gname).expect("the group").pel.get_mut(&id).expect("a pending entry");
                    nack.delivery_time = now;
                    nack.delivery_count += 1;
                }
                None => {
                    // Deleted since delivery: the ID with no fields.
                    out.array(2);
                    out.bulk(id.to_string().as_bytes());
                    out.null_array();
                }
            }
        }
        return created;
    }
    let ids: Vec<StreamId> = {
        let entries: Vec<EntryRef<'_>> = s.range(start, StreamId::MAX, false).take(limit).collect();
        reply_entries(out, &entries);
        entries.iter().map(|e| e.id).collect()
    };
    let mut moved_last = false;
    for id in ids {
        let last = s.groups[gname].last_id;
        if id > last {
            let read = s.groups[gname].entries_read;
            let next = match read {
                Some(n) if !s.range_has_tombstones(id, StreamId::MAX) => Some(n + 1),
                _ if s.entries_added > 0 => s.estimate_distance(id),
                other => other,
            };
            let g = s.groups.get_mut(gname).expect("the group");
            g.entries_read = next;
            g.last_id = id;
            moved_last |= noack;
        }
        if !noack {
            let g = s.groups.get_mut(gname).expect("the group");
            let nack = g.deliver(id, cname, now).clone();
            propagated.push(xclaim_argv(key, gname, &id.to_bytes(), &nack, g.last_id));
        }
    }
    if moved_last {
        propagated.push(setid_argv(key, gname, &s.groups[gname]));
    }
    created
}

/// The XCLAIM that recreates a pending entry on replicas and in the AOF
/// (streamPropagateXCLAIM).
pub fn xclaim_argv(key: &[u8], group: &[u8], id: &[u8], nack: &crate::stream::Nack, last_id: StreamId) -> Vec<Vec<u8>> {
    vec![
        b"XCLAIM".to_vec(),
        key.to_vec(),
        group.to_vec(),
        nack.consumer.clone(),
        b"0".to_vec(),
        id.to_vec(),
        b"TIME".to_vec(),
        nack.delivery_time.to_string().into_bytes(),
        b"RETRYCOUNT".to_vec(),
        nack.delivery_count.to_string().into_bytes(),
        b"FORCE".to_vec(),
        b"JUSTID".to_vec(),
        b"LASTID".to_vec(),
        last_id.to_bytes(),
    ]
}

/// The XGROUP SETID that carries a group's last ID and read counter
/// (streamPropagateGroupID).
pub fn setid_argv(key: &[u8], gname: &[u8], g: &crate::stream::Group) -> Vec<Vec<u8>> {
    vec![
        b"XGROUP".to_vec(),
        b"SETID".to_vec(),
        key.to_vec(),
        gname.to_vec(),
        g.last_id.to_bytes(),
        b"ENTRIESREAD".to_vec(),
        g.entries_read.map_or(-1, |n| n as i64).to_string().into_bytes(),
    ]
}

/// Nodes of a radix tree holding the 16-byte block keys, counted as Redis's
/// rax lays them out: a compressed node per run of shared bytes, a branch
/// node where keys part, a leaf per key (XINFO's radix-tree-nodes).
fn radix_nodes(keys: &[[u8; 16]], depth: usize) -> u64 {
    match keys {
        [] => 1,
        [_] => if depth < 16 { 2 } else { 1 },
        _ => {
            let first = &keys[0];
            let last = &keys[keys.len() - 1];
            let mut common = depth;
            while common < 16 && first[common] == last[common] {
                common += 1;
            }
            if common > depth {
                return 1 + radix_nodes(keys, common);
            }
            let mut n = 1;
            let mut from = 0;
            while from < keys.len() {
                let byte = keys[from][depth];
                let to = from + keys[from..].iter().take_while(|k| k[depth] == byte).count();
                n += radix_nodes(&keys[from..to], depth + 1);
                from = to;
            }
            n
        }
    }
}

/// A group's `entries-read` and `lag` (null when not known), as XINFO
/// STREAM FULL and XINFO GROUPS show them.
fn reply_read_counters(out: &mut Reply, s: &Stream, g: &crate::stream::Group) {
    out.bulk(b"entries-read");
    match g.entries_read {
        Some(n) => out.int(n as i64),
        None => out.null(),
    }
    out.bulk(b"lag");
    match s.lag(g) {
        Some(n) => out.int(n as i64),
        None => out.null(),
    }
}

/// XINFO STREAM key [FULL [COUNT count]]
fn xinfo_stream(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let syntax = || {
        CmdError::err(format!(
            "unknown subcommand or wrong number of arguments for '{}'. Try XINFO HELP.",
            String::from_utf8_lossy(args.get(1))
        ))
    };
    let (full, mut count) = match args.len() - 3 {
        0 => (false, 10),
        1 | 3 if is(args.get(3), "full") => {
            if args.len() == 6 {
                if !is(args.get(4), "count") {
                    return Err(syntax());
                }
                (true, arg_i64(args.get(5))?)
            } else {
                (true, 10)
            }
        }
        _ => return Err(syntax()),
    };
    if count < 0 {
        count = 10;
    }
    let s = read_as::<Stream>(&mut ctx.srv.db, ctx.db, args.get(2))?.ok_or(CmdError::NoSuchKey)?;
    let out = &mut *ctx.out;
    let keys: Vec<[u8; 16]> = s.blocks().map(|(m, _)| m.to_be_bytes()).collect();
    out.map(if full { 9 } else { 10 });
    out.bulk(b"length");
    out.int(s.length as i64);
    out.bulk(b"radix-tree-keys");
    out.int(keys.len() as i64);
    out.bulk(b"radix-tree-nodes");
    out.int(radix_nodes(&keys, 0) as i64);
    out.bulk(b"last-generated-id");
    out.bulk(s.last_id.to_string().as_bytes());
    out.bulk(b"max-deleted-entry-id");
    out.bulk(s.max_deleted_id.to_string().as_bytes());
    out.bulk(b"entries-added");
    out.int(s.entries_added as i64);
    out.bulk(b"recorded-first-entry-id");
    out.bulk(s.first_id.to_string().as_bytes());
    if !full {
        out.bulk(b"groups");
        out.int(s.groups.len() as i64);
        out.bulk(b"first-entry");
        match s.range(StreamId::MIN, StreamId::MAX, false).next() {
            Some(e) => reply_entry(out, &e),
            None => out.null(),
        }
        out.bulk(b"last-entry");
        match s.range(StreamId::MIN, StreamId::MAX, true).next() {
            Some(e) => reply_entry(out, &e),
            None => out.null(),
        }
        return Ok(());
    }
    let limit = if count == 0 { usize::MAX } else { count as usize };
    out.bulk(b"entries");
    let entries: Vec<EntryRef<'_>> = s.range(StreamId::MIN, StreamId::MAX, false).take(limit).collect();
    reply_entries(out, &entries);
    out.bulk(b"groups");
    out.array(s.groups.len());
    for (name, g) in &s.groups {
        out.map(7);
        out.bulk(b"name");
        out.bulk(name);
        out.bulk(b"last-delivered-id");
        out.bulk(g.last_id.to_string().as_bytes());
        reply_read_counters(out, s, g);
        out.bulk(b"pel-count");
        out.int(g.pel.len() as i64);
        out.bulk(b"pending");
        let pending: Vec<_> = g.pel.iter().take(limit).collect();
        out.array(pending.len());
        for (id, nack) in pending {
            out.array(4);
            out.bulk(id.to_string().as_bytes());
            out.bulk(&nack.consumer);
            out.int(nack.delivery_time);
            out.int(nack.delivery_count as i64);
        }
        out.bulk(b"consumers");
        out.array(g.consumers.len());
        for (cname, c) in &g.consumers {
            out.map(4);
            out.bulk(b"name");
            out.bulk(cname);
            out.bulk(b"seen-time");
            out.int(c.seen_time);
            out.bulk(b"pel-count");
            out.int(c.pel.len() as i64);
            out.bulk(b"pending");
            let pending: Vec<_> = c.pel.iter().take(limit).collect();
            out.array(pending.len());
            for id in pending {
                let nack = &g.pel[id];
                out.array(3);
                out.bulk(id.to_string().as_bytes());
                out.int(nack.delivery_time);
                out.int(nack.delivery_count as i64);
            }
        }
    }
    Ok(())
}

/// XINFO GROUPS key
fn xinfo_groups(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let s = read_as::<Stream>(&mut ctx.srv.db, ctx.db, args.get(2))?.ok_or(CmdError::NoSuchKey)?;
    let out = &mut *ctx.out;
    out.array(s.groups.len());
    for (name, g) in &s.groups {
        out.map(6);
        out.bulk(b"name");
        out.bulk(name);
        out.bulk(b"consumers");
        out.int(g.consumers.len() as i64);
        out.bulk(b"pending");
        out.int(g.pel.len() as i64);
        out.bulk(b"last-delivered-id");
        out.bulk(g.last_id.to_string().as_bytes());
        reply_read_counters(out, s, g);
    }
    Ok(())
}

/// XINFO CONSUMERS key group
fn xinfo_consumers(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let now = ctx.srv.db.now_ms;
    let s = read_as::<Stream>(&mut ctx.srv.db, ctx.db, args.get(2))?.ok_or(CmdError::NoSuchKey)?;
    let Some(g) = s.groups.get(args.get(3)) else {
        return Err(CmdError::Coded(format!(
            "NOGROUP No such consumer group '{}' for key name '{}'",
            String::from_utf8_lossy(args.get(3)),
            String::from_utf8_lossy(args.get(2))
        )));
    };
    let out = &mut *ctx.out;
    out.array(g.consumers.len());
    for (name, c) in &g.consumers {
        out.map(3);
        out.bulk(b"name");
        out.bulk(name);
        out.bulk(b"pending");
        out.int(c.pel.len() as i64);
        out.bulk(b"idle");
        out.int((now - c.seen_time).max(0));
    }
    Ok(())
}

fn xinfo_help(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    super::reply_help(
        ctx.out,
        b"xinfo",
        &[
            "CONSUMERS <key> <groupname>",
            "    Show consumers of <groupname>.",
            "GROUPS <key>",
            "    Show the stream consumer groups.",
            "STREAM <key> [FULL [COUNT <count>]",
            "    Show information about the stream.",
        ],
    );
    Ok(())
}

pub fn register(r: &mut Registry) {
    r.add("xadd", xadd);
    r.add("xtrim", xtrim);
    r.add("xrange", xrange);
    r.add("xrevrange", xrevrange);
    r.add("xlen", xlen);
    r.add("xdel", xdel);
    r.add("xsetid", xsetid);
    r.add("xread", xread);
    r.add("xreadgroup", xread);
    r.add("xinfo|stream", xinfo_stream);
    r.add("xinfo|groups", xinfo_groups);
    r.add("xinfo|consumers", xinfo_consumers);
    r.add("xinfo|help", xinfo_help);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn radix_nodes_grow_with_keys() {
        assert_eq!(radix_nodes(&[], 0), 1);
        let a = StreamId::new(1, 0).to_be_bytes();
        let b = StreamId::new(2, 0).to_be_bytes();
        assert_eq!(radix_nodes(&[a], 0), 2);
        // A shared prefix, a branch, and a leaf under each.
        assert_eq!(radix_nodes(&[a, b], 0), 1 + 1 + 2 * 2);
    }
}
