//! String commands (Redis's t_string.c).

use corvid_proto::resp::Args;

use super::{arg_i64, is, reply_value, string_encoding, value_bytes, value_len};
use crate::db::Lookup;
use crate::dispatch::{Ctx, Registry};
use crate::errors::{CmdError, CmdResult};
use crate::keyspace::{NewValue, StrEncoding, ValueRef};

/// The string value of a key as owned bytes, or WRONGTYPE for other types.
/// Shared by every command that reads a string to modify it.
fn read_string(ctx: &mut Ctx<'_>, key: &[u8], flags: Lookup) -> Result<Option<Vec<u8>>, CmdError> {
    let db = ctx.db;
    ctx.srv.db.lookup(db, key, flags).map(|e| value_bytes(&e.value())).transpose()
}

/// Options of SET and GETEX (parseExtendedStringArgumentsOrReply).
#[derive(Default, Debug)]
struct SetOptions {
    nx: bool,
    xx: bool,
    get: bool,
    keepttl: bool,
    persist: bool,
    /// (unit is seconds, absolute, the raw argument)
    expire: Option<(bool, bool, Vec<u8>)>,
}

#[derive(PartialEq)]
enum OptionsFor {
    Set,
    GetEx,
}

fn parse_set_options(args: &Args<'_>, first: usize, cmd: OptionsFor) -> Result<SetOptions, CmdError> {
    let mut o = SetOptions::default();
    let mut j = first;
    while j < args.len() {
        let a = args.get(j);
        let next = j + 1 < args.len();
        let has_expire = o.expire.is_some();
        if is(a, "nx") && !o.xx && cmd == OptionsFor::Set {
            o.nx = true;
        } else if is(a, "xx") && !o.nx && cmd == OptionsFor::Set {
            o.xx = true;
        } else if is(a, "get") && cmd == OptionsFor::Set {
            o.get = true;
        } else if is(a, "keepttl") && !o.persist && !has_expire && cmd == OptionsFor::Set {
            o.keepttl = true;
        } else if is(a, "persist") && cmd == OptionsFor::GetEx && !has_expire && !o.keepttl {
            o.persist = true;
        } else if (is(a, "ex") || is(a, "px") || is(a, "exat") || is(a, "pxat"))
            && !o.keepttl
            && !o.persist
            && !has_expire
            && next
        {
            let secs = is(a, "ex") || is(a, "exat");
            let abs = is(a, "exat") || is(a, "pxat");
            o.expire = Some((secs, abs, args.get(j + 1).to_vec()));
            j += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    Ok(o)
}

/// An expiry argument turned into an absolute unix-ms time
/// (getExpireMillisecondsOrReply). Used by SET, SETEX, PSETEX, GETEX.
fn expire_at(ctx: &Ctx<'_>, raw: &[u8], seconds: bool, absolute: bool) -> Result<i64, CmdError> {
    let v = arg_i64(raw)?;
    let invalid = || CmdError::err(format!("invalid expire time in '{}' command", ctx.spec.full_name));
    if v <= 0 || (seconds && v > i64::MAX / 1000) {
        return Err(invalid());
    }
    let mut ms = if seconds { v * 1000 } else { v };
    if !absolute {
        ms = ms.wrapping_add(ctx.srv.db.now_ms);
    }
    if ms <= 0 {
        return Err(invalid());
    }
    Ok(ms)
}

/// SET key value [NX|XX] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|KEEPTTL]
fn set(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let o = parse_set_options(args, 3, OptionsFor::Set)?;
    let expire = match &o.expire {
        Some((secs, abs, raw)) => Some(expire_at(ctx, raw, *secs, *abs)?),
        None => None,
    };
    let key = args.get(1);
    let db = ctx.db;
    let found = if o.get {
        // SET ... GET replies with the old value (or nil) whatever happens next.
        match ctx.srv.db.lookup(db, key, Lookup::READ) {
            Some(e) => {
                reply_value(ctx.out, &e.value())?;
                true
            }
            None => {
                ctx.out.null();
                false
            }
        }
    } else {
        ctx.srv.db.lookup(db, key, Lookup::WRITE).is_some()
    };
    if (o.nx && found) || (o.xx && !found) {
        if !o.get {
            ctx.out.null();
        }
        return Ok(());
    }
    store(ctx, key, args.get(2), expire, o.keepttl && found);
    if !o.get {
        ctx.out.ok();
    }
    Ok(())
}

/// Store a string under `key` (setKey): the value takes the compact
/// encoding it qualifies for; the TTL is replaced unless `keep_ttl`.
fn store(ctx: &mut Ctx<'_>, key: &[u8], value: &[u8], expire: Option<i64>, keep_ttl: bool) {
    let db = ctx.db;
    if let Some(at) = expire {
        // Relative or absolute, a TTL goes out as an absolute one, so
        // replicas and the AOF expire the key when the master did.
        ctx.srv.rewrite_as(|| vec![b"SET".to_vec(), key.to_vec(), value.to_vec(), b"PXAT".to_vec(), at.to_string().into_bytes()]);
    }
    let v = string_encoding(value);
    if keep_ttl {
        ctx.srv.db.overwrite(db, key, v);
    } else {
        ctx.srv.db.set(db, key, v, expire);
    }
}

/// GET key
fn get(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let db = ctx.db;
    match ctx.srv.db.lookup(db, args.get(1), Lookup::READ) {
        Some(e) => reply_value(ctx.out, &e.value())?,
        None => ctx.out.null(),
    }
    Ok(())
}

/// SETNX key value
fn setnx(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let db = ctx.db;
    if ctx.srv.db.lookup(db, args.get(1), Lookup::WRITE).is_some() {
        ctx.out.int(0);
    } else {
        store(ctx, args.get(1), args.get(2), None, false);
        ctx.out.int(1);
    }
    Ok(())
}

/// SETEX key seconds value
fn setex(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let at = expire_at(ctx, args.get(2), true, false)?;
    store(ctx, args.get(1), args.get(3), Some(at), false);
    ctx.out.ok();
    Ok(())
}

/// PSETEX key milliseconds value
fn psetex(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let at = expire_at(ctx, args.get(2), false, false)?;
    store(ctx, args.get(1), args.get(3), Some(at), false);
    ctx.out.ok();
    Ok(())
}

/// GETEX key [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|PERSIST]
fn getex(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let o = parse_set_options(args, 2, OptionsFor::GetEx)?;
    let expire = match &o.expire {
        Some((secs, abs, raw)) => Some(expire_at(ctx, raw, *secs, *abs)?),
        None => None,
    };
    let key = args.get(1);
    let db = ctx.db;
    let Some(e) = ctx.srv.db.lookup(db, key, Lookup::READ) else {
        ctx.out.null();
        return Ok(());
    };
    reply_value(ctx.out, &e.value())?;
    let has_ttl = e.expire_at().is_some();
    // GETEX never goes out as itself (getexCommand).
    if let Some(at) = expire {
        if at <= ctx.srv.db.now_ms {
            ctx.srv.db.delete(db, key);
            ctx.srv.rewrite_as(|| vec![b"DEL".to_vec(), key.to_vec()]);
        } else {
            ctx.srv.db.set_expire(db, key, Some(at));
            ctx.srv.rewrite_as(|| vec![b"PEXPIREAT".to_vec(), key.to_vec(), at.to_string().into_bytes()]);
        }
    } else if o.persist && has_ttl {
        ctx.srv.db.set_expire(db, key, None);
        ctx.srv.rewrite_as(|| vec![b"PERSIST".to_vec(), key.to_vec()]);
    }
    Ok(())
}

/// GETDEL key
fn getdel(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let db = ctx.db;
    let key = args.get(1);
    match ctx.srv.db.lookup(db, key, Lookup::READ) {
        Some(e) => {
            reply_value(ctx.out, &e.value())?;
            ctx.srv.db.delete(db, key);
            ctx.srv.rewrite_as(|| vec![b"DEL".to_vec(), key.to_vec()]);
        }
        None => ctx.out.null(),
    }
    Ok(())
}

/// GETSET key value
fn getset(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let db = ctx.db;
    match ctx.srv.db.lookup(db, args.get(1), Lookup::READ) {
        Some(e) => reply_value(ctx.out, &e.value())?,
        None => ctx.out.null(),
    }
    store(ctx, args.get(1), args.get(2), None, false);
    ctx.srv.rewrite_as(|| vec![b"SET".to_vec(), args.get(1).to_vec(), args.get(2).to_vec()]);
    Ok(())
}

/// MGET key [key ...]
fn mget(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let db = ctx.db;
    ctx.out.array(args.len() - 1);
    for i in 1..args.len() {
        // A key of another type reads as nil here, not as an error.
        match ctx.srv.db.lookup(db, args.get(i), Lookup::READ).map(|e| e.value()) {
            Some(v @ (ValueRef::Int(_) | ValueRef::Str(..))) => reply_value(ctx.out, &v)?,
            _ => ctx.out.null(),
        }
    }
    Ok(())
}

/// MSET key value [key value ...]
fn mset(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    if args.len() % 2 == 0 {
        return Err(CmdError::Arity(ctx.spec.full_name.to_string()));
    }
    for i in (1..args.len()).step_by(2) {
        store(ctx, args.get(i), args.get(i + 1), None, false);
    }
    ctx.out.ok();
    Ok(())
}

/// MSETNX key value [key value ...]
fn msetnx(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    if args.len() % 2 == 0 {
        return Err(CmdError::Arity(ctx.spec.full_name.to_string()));
    }
    let db = ctx.db;
    for i in (1..args.len()).step_by(2) {
        if ctx.srv.db.lookup(db, args.get(i), Lookup::WRITE).is_some() {
            ctx.out.int(0);
            return Ok(());
        }
    }
    for i in (1..args.len()).step_by(2) {
        store(ctx, args.get(i), args.get(i + 1), None, false);
    }
    ctx.out.int(1);
    Ok(())
}

/// checkStringLength: a string may not grow beyond proto-max-bulk-len.
fn check_length(ctx: &Ctx<'_>, len: i64) -> CmdResult {
    if len > ctx.srv.proto_max_bulk_len {
        return Err(CmdError::err("string exceeds maximum allowed size (proto-max-bulk-len)"));
    }
    Ok(())
}

/// APPEND key value
fn append(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let db = ctx.db;
    let key = args.get(1);
    let add = args.get(2);
    let cur_len = match ctx.srv.db.lookup(db, key, Lookup::WRITE) {
        None => {
            ctx.srv.db.set(db, key, NewValue::Str(add, StrEncoding::Raw), None);
            ctx.out.int(add.len() as i64);
            return Ok(());
        }
        Some(e) => value_len(&e.value())?,
    };
    check_length(ctx, (cur_len + add.len()) as i64)?;
    let raw = ctx.srv.db.dbs[db].raw_mut(key).expect("key looked up above");
    raw.extend_from_slice(add);
    let n = raw.len();
    ctx.srv.db.dirty += 1;
    ctx.out.int(n as i64);
    Ok(())
}

/// STRLEN key
fn strlen(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let db = ctx.db;
    let n = ctx.srv.db.lookup(db, args.get(1), Lookup::READ).map(|e| value_len(&e.value())).transpose()?.unwrap_or(0);
    ctx.out.int(n as i64);
    Ok(())
}

/// SETRANGE key offset value
fn setrange(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let offset = arg_i64(args.get(2))?;
    if offset < 0 {
        return Err(CmdError::err("offset is out of range"));
    }
    let value = args.get(3);
    let key = args.get(1);
    let db = ctx.db;
    let existing = ctx.srv.db.lookup(db, key, Lookup::WRITE).map(|e| value_len(&e.value())).transpose()?;
    match existing {
        None => {
            if value.is_empty() {
                ctx.out.int(0);
                return Ok(());
            }
            check_length(ctx, offset.saturating_add(value.len() as i64))?;
            let mut s = vec![0u8; offset as usize];
            s.extend_from_slice(value);
            ctx.srv.db.set(db, key, NewValue::Str(&s, StrEncoding::Raw), None);
            ctx.out.int(s.len() as i64);
        }
        Some(len) => {
            if value.is_empty() {
                ctx.out.int(len as i64);
                return Ok(());
            }
            check_length(ctx, offset.saturating_add(value.len() as i64))?;
            let raw = ctx.srv.db.dbs[db].raw_mut(key).expect("key looked up above");
            let end = offset as usize + value.len();
            if raw.len() < end {
                raw.resize(end, 0);
            }
            raw[offset as usize..end].copy_from_slice(value);
            let n = raw.len();
            ctx.srv.db.dirty += 1;
            ctx.out.int(n as i64);
        }
    }
    Ok(())
}

/// GETRANGE key start end (and the deprecated SUBSTR)
fn getrange(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let mut start = arg_i64(args.get(2))?;
    let mut end = arg_i64(args.get(3))?;
    let db = ctx.db;
    let Some(e) = ctx.srv.db.lookup(db, args.get(1), Lookup::READ) else {
        ctx.out.bulk(b"");
        return Ok(());
    };
    let bytes = value_bytes(&e.value())?;
    let len = bytes.len() as i64;
    if start < 0 && end < 0 && start > end {
        ctx.out.bulk(b"");
        return Ok(());
    }
    if start < 0 {
        start += len;
    }
    if end < 0 {
        end += len;
    }
    start = start.max(0);
    end = end.max(0);
    if end >= len {
        end = len - 1;
    }
    if start > end || len == 0 {
        ctx.out.bulk(b"");
    } else {
        ctx.out.bulk(&bytes[start as usize..=end as usize]);
    }
    Ok(())
}

/// INCR/DECR/INCRBY/DECRBY share this (incrDecrCommand).
fn incr_by(ctx: &mut Ctx<'_>, key: &[u8], by: i64) -> CmdResult {
    let db = ctx.db;
    let current = match ctx.srv.db.lookup(db, key, Lookup::WRITE) {
        None => None,
        Some(e) => Some(match e.value() {
            ValueRef::Int(n) => n,
            ValueRef::Str(s, _) => corvid_proto::resp::parse_i64(s).ok_or(CmdError::NotInteger)?,
            _ => return Err(CmdError::WrongType),
        }),
    };
    let old = current.unwrap_or(0);
    let new = old.checked_add(by).ok_or(CmdError::Overflow)?;
    if current.is_some() {
        ctx.srv.db.overwrite(db, key, NewValue::Int(new));
    } else {
        ctx.srv.db.set(db, key, NewValue::Int(new), None);
    }
    ctx.out.int(new);
    Ok(())
}

/// INCR key
fn incr(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    incr_by(ctx, args.get(1), 1)
}

/// DECR key
fn decr(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    incr_by(ctx, args.get(1), -1)
}

/// INCRBY key increment
fn incrby(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let by = arg_i64(args.get(2))?;
    incr_by(ctx, args.get(1), by)
}

/// DECRBY key decrement
fn decrby(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let by = arg_i64(args.get(2))?;
    if by == i64::MIN {
        return Err(CmdError::err("decrement would overflow"));
    }
    incr_by(ctx, args.get(1), -by)
}

/// INCRBYFLOAT key increment — in C long double, as Redis computes it, so
/// results print identically (see `longdouble.c`).
fn incrbyfloat(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let key = args.get(1);
    let current = read_string(ctx, key, Lookup::WRITE)?;
    let exists = current.is_some();
    let base = current.unwrap_or_else(|| b"0".to_vec());
    let result = crate::longdouble::add(&base, args.get(2)).map_err(|e| match e {
        crate::longdouble::AddError::NotFloat => CmdError::NotFloat,
        crate::longdouble::AddError::NanOrInfinity => CmdError::NanOrInfinity,
    })?;
    let db = ctx.db;
    let v = NewValue::Str(&result, if result.len() <= super::EMBSTR_MAX { StrEncoding::Embstr } else { StrEncoding::Raw });
    if exists {
        ctx.srv.db.overwrite(db, key, v);
    } else {
        ctx.srv.db.set(db, key, v, None);
    }
    // The result, not the increment, so float formatting can never make
    // replicas or a reloaded AOF differ.
    ctx.srv.rewrite_as(|| vec![b"SET".to_vec(), key.to_vec(), result.clone(), b"KEEPTTL".to_vec()]);
    ctx.out.bulk(&result);
    Ok(())
}

/// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN min-match-len] [WITHMATCHLEN]
fn lcs(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    // LCS has its own message for keys of another type (lcsCommand).
    let not_strings = |e: CmdError| match e {
        CmdError::WrongType => CmdError::err("The specified keys must contain string values"),
        other => other,
    };
    let a = read_string(ctx, args.get(1), Lookup::READ).map_err(not_strings)?.unwrap_or_default();
    let b = read_string(ctx, args.get(2), Lookup::READ).map_err(not_strings)?.unwrap_or_default();
    let (mut getlen, mut getidx, mut withmatchlen, mut minmatchlen) = (false, false, false, 0i64);
    let mut j = 3;
    while j < args.len() {
        let opt = args.get(j);
        let more = args.len() - 1 - j;
        if is(opt, "idx") {
            getidx = true;
        } else if is(opt, "len") {
            getlen = true;
        } else if is(opt, "withmatchlen") {
            withmatchlen = true;
        } else if is(opt, "minmatchlen") && more > 0 {
            minmatchlen = arg_i64(args.get(j + 1))?.max(0);
            j += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    if getlen && getidx {
        return Err(CmdError::err("If you want both the length and indexes, please just use IDX."));
    }
    if a.len() >= u32::MAX as usize - 1 || b.len() >= u32::MAX as usize - 1 {
        return Err(CmdError::err("String too long for LCS"));
    }
    let (alen, blen) = (a.len(), b.len());
    let cells = (alen as u64 + 1) * (blen as u64 + 1);
    if cells * 4 > ctx.srv.proto_max_bulk_len as u64 {
        return Err(CmdError::err("Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"));
    }
    let w = blen + 1;
    let mut t = vec![0u32; cells as usize];
    for i in 1..=alen {
        for j in 1..=blen {
            t[i * w + j] = if a[i - 1] == b[j - 1] { t[(i - 1) * w + j - 1] + 1 } else { t[(i - 1) * w + j].max(t[i * w + j - 1]) };
        }
    }
    let total = t[alen * w + blen];
    if getlen {
        ctx.out.int(total as i64);
        return Ok(());
    }
    // Walk back from the end, collecting the LCS and the matching ranges.
    let mut result = vec![0u8; total as usize];
    let mut idx = total as usize;
    let mut ranges: Vec<[i64; 5]> = Vec::new();
    let (mut i, mut j) = (alen, blen);
    let unset = alen;
    let (mut a_start, mut a_end, mut b_start, mut b_end) = (unset, 0usize, 0usize, 0usize);
    while i > 0 && j > 0 {
        let mut emit = false;
        if a[i - 1] == b[j - 1] {
            result[idx - 1] = a[i - 1];
            if a_start == unset {
                a_start = i - 1;
                a_end = i - 1;
                b_start = j - 1;
                b_end = j - 1;
            } else if a_start == i && b_start == j {
                a_start -= 1;
                b_start -= 1;
            } else {
                emit = true;
            }
            if a_start == 0 || b_start == 0 {
                emit = true;
            }
            idx -= 1;
            i -= 1;
            j -= 1;
        } else {
            if t[(i - 1) * w + j] > t[i * w + j - 1] {
                i -= 1;
            } else {
                j -= 1;
            }
            if a_start != unset {
                emit = true;
            }
        }
        let match_len = a_end as i64 - a_start as i64 + 1;
        if emit {
            if minmatchlen == 0 || match_len >= minmatchlen {
                ranges.push([a_start as i64, a_end as i64, b_start as i64, b_end as i64, match_len]);
            }
            a_start = unset;
        }
    }
    if getidx {
        ctx.out.map(2);
        ctx.out.bulk(b"matches");
        ctx.out.array(ranges.len());
        for r in &ranges {
            ctx.out.array(2 + withmatchlen as usize);
            ctx.out.array(2);
            ctx.out.int(r[0]);
            ctx.out.int(r[1]);
            ctx.out.array(2);
            ctx.out.int(r[2]);
            ctx.out.int(r[3]);
            if withmatchlen {
                ctx.out.int(r[4]);
            }
        }
        ctx.out.bulk(b"len");
        ctx.out.int(total as i64);
    } else {
        ctx.out.bulk(&result);
    }
    Ok(())
}

pub fn register(r: &mut Registry) {
    r.add("get", get);
    r.add("set", set);
    r.add("setnx", setnx);
    r.add("setex", setex);
    r.add("psetex", psetex);
    r.add("getex", getex);
    r.add("getdel", getdel);
    r.add("getset", getset);
    r.add("mget", mget);
    r.add("mset", mset);
    r.add("msetnx", msetnx);
    r.add("append", append);
    r.add("strlen", strlen);
    r.add("setrange", setrange);
    r.add("getrange", getrange);
    r.add("substr", getrange);
    r.add("incr", incr);
    r.add("decr", decr);
    r.add("incrby", incrby);
    r.add("decrby", decrby);
    r.add("incrbyfloat", incrbyfloat);
    r.add("lcs", lcs);
}
