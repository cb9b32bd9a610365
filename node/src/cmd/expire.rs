//! Expiry commands (Redis's expire.c): EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT
//! (with NX|XX|GT|LT), TTL, PTTL, EXPIRETIME, PEXPIRETIME, PERSIST.

use corvid_proto::resp::Args;

use super::{arg_i64, is};
use crate::db::Lookup;
use crate::dispatch::{Ctx, Registry};
use crate::errors::{CmdError, CmdResult};

#[derive(Default)]
struct Conditions {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
}

fn parse_conditions(args: &Args<'_>) -> Result<Conditions, CmdError> {
    let mut c = Conditions::default();
    for i in 3..args.len() {
        let a = args.get(i);
        if is(a, "nx") {
            c.nx = true;
        } else if is(a, "xx") {
            c.xx = true;
        } else if is(a, "gt") {
            c.gt = true;
        } else if is(a, "lt") {
            c.lt = true;
        } else {
            return Err(CmdError::err(format!("Unsupported option {}", String::from_utf8_lossy(a))));
        }
    }
    if c.nx && (c.xx || c.gt || c.lt) {
        return Err(CmdError::err("NX and XX, GT or LT options at the same time are not compatible"));
    }
    if c.gt && c.lt {
        return Err(CmdError::err("GT and LT options at the same time are not compatible"));
    }
    Ok(c)
}

/// The shared body of the EXPIRE family (expireGenericCommand): `basetime`
/// is now for relative forms and 0 for the *AT forms.
fn expire_generic(ctx: &mut Ctx<'_>, args: &Args<'_>, basetime: i64, seconds: bool) -> CmdResult {
    let cond = parse_conditions(args)?;
    let mut when = arg_i64(args.get(2))?;
    let invalid = || CmdError::err(format!("invalid expire time in '{}' command", ctx.spec.full_name));
    if seconds {
        if !(i64::MIN / 1000..=i64::MAX / 1000).contains(&when) {
            return Err(invalid());
        }
        when *= 1000;
    }
    if when > i64::MAX - basetime {
        return Err(invalid());
    }
    when += basetime;
    let key = args.get(1);
    let db = ctx.db;
    let Some(e) = ctx.srv.db.lookup(db, key, Lookup::WRITE) else {
        ctx.out.int(0);
        return Ok(());
    };
    let current = e.expire_at();
    let refused = (cond.nx && current.is_some())
        || (cond.xx && current.is_none())
        || (cond.gt && current.is_none_or(|cur| when <= cur))
        || (cond.lt && current.is_some_and(|cur| when >= cur));
    if refused {
        ctx.out.int(0);
        return Ok(());
    }
    if when <= ctx.srv.db.now_ms && !ctx.srv.db.loading {
        ctx.srv.db.delete(db, key);
        // An expiry in the past deletes the key, and replicas see a DEL.
        ctx.srv.rewrite_as(|| vec![b"DEL".to_vec(), key.to_vec()]);
    } else {
        ctx.srv.db.set_expire(db, key, Some(when));
        // Replicas get the absolute time, whatever form the client used.
        ctx.srv.rewrite_as(|| vec![b"PEXPIREAT".to_vec(), key.to_vec(), when.to_string().into_bytes()]);
    }
    ctx.out.int(1);
    Ok(())
}

/// EXPIRE key seconds [NX|XX|GT|LT]
fn expire(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let now = ctx.srv.db.now_ms;
    expire_generic(ctx, args, now, true)
}

/// PEXPIRE key milliseconds [NX|XX|GT|LT]
fn pexpire(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let now = ctx.srv.db.now_ms;
    expire_generic(ctx, args, now, false)
}

/// EXPIREAT key unix-time-seconds [NX|XX|GT|LT]
fn expireat(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    expire_generic(ctx, args, 0, true)
}

/// PEXPIREAT key unix-time-milliseconds [NX|XX|GT|LT]
fn pexpireat(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    expire_generic(ctx, args, 0, false)
}

/// The TTL family (ttlGenericCommand): -2 missing, -1 no expiry.
fn ttl_generic(ctx: &mut Ctx<'_>, args: &Args<'_>, ms: bool, absolute: bool) -> CmdResult {
    let db = ctx.db;
    let now = ctx.srv.db.now_ms;
    let Some(e) = ctx.srv.db.lookup(db, args.get(1), Lookup::NOTOUCH) else {
        ctx.out.int(-2);
        return Ok(());
    };
    match e.expire_at() {
        None => ctx.out.int(-1),
        Some(at) => {
            let ttl = if absolute { at } else { at - now }.max(0);
            ctx.out.int(if ms { ttl } else { (ttl + 500) / 1000 });
        }
    }
    Ok(())
}

fn ttl(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    ttl_generic(ctx, args, false, false)
}

fn pttl(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    ttl_generic(ctx, args, true, false)
}

fn expiretime(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    ttl_generic(ctx, args, false, true)
}

fn pexpiretime(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    ttl_generic(ctx, args, true, true)
}

/// PERSIST key
fn persist(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let db = ctx.db;
    let key = args.get(1);
    let had = ctx.srv.db.lookup(db, key, Lookup::WRITE).map(|e| e.expire_at().is_some());
    match had {
        Some(true) => {
            ctx.srv.db.set_expire(db, key, None);
            ctx.out.int(1);
        }
        _ => ctx.out.int(0),
    }
    Ok(())
}

pub fn register(r: &mut Registry) {
    r.add("expire", expire);
    r.add("pexpire", pexpire);
    r.add("expireat", expireat);
    r.add("pexpireat", pexpireat);
    r.add("ttl", ttl);
    r.add("pttl", pttl);
    r.add("expiretime", expiretime);
    r.add("pexpiretime", pexpiretime);
    r.add("persist", persist);
}
