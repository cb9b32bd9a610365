//! Connection commands (Redis's networking.c and acl.c parts): PING, ECHO,
//! QUIT, RESET, AUTH, HELLO and CLIENT (its TRACKING, CACHING, GETREDIR and
//! TRACKINGINFO drive [`crate::tracking`]).

use corvid_proto::resp::{parse_i64, Args};

use super::{is, reply_help};
use crate::client::{ClientId, ReplyMode};
use crate::dispatch::{Ctx, Registry};
use crate::errors::{CmdError, CmdResult};
use crate::server::Pause;

/// PING [message]
fn ping(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    if args.len() > 2 {
        return Err(CmdError::Arity(ctx.spec.full_name.to_string()));
    }
    let c = ctx.client();
    if c.resp == 2 && c.subs.is_subscribed() {
        // A subscribed RESP2 client reads pushes: PING answers in their shape.
        ctx.out.array(2);
        ctx.out.bulk(b"pong");
        ctx.out.bulk(if args.len() == 2 { args.get(1) } else { b"" });
    } else if args.len() == 2 {
        ctx.out.bulk(args.get(1));
    } else {
        ctx.out.simple(b"PONG");
    }
    Ok(())
}

/// ECHO message
fn echo(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    ctx.out.bulk(args.get(1));
    Ok(())
}

/// QUIT
fn quit(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    ctx.out.ok();
    ctx.client().close_after_reply = true;
    Ok(())
}

/// RESET: back to a fresh connection's state.
fn reset(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    let authenticated = !ctx.srv.acl.auth_required();
    crate::cmd::multi::unwatch_all(ctx.srv, ctx.client_id);
    crate::pubsub::forget(ctx.srv, ctx.client_id);
    crate::cmd::server::stop_monitoring(ctx.srv, ctx.client_id);
    crate::tracking::disable(ctx.srv, ctx.client_id);
    let c = ctx.client();
    c.multi = None;
    c.db = 0;
    c.resp = 2;
    c.name = None;
    c.reply_mode = ReplyMode::On;
    c.no_evict = false;
    c.no_touch = false;
    c.user = crate::acl::DEFAULT_USER;
    c.authenticated = authenticated;
    ctx.db = 0;
    ctx.out.resp3 = false;
    ctx.out.simple(b"RESET");
    Ok(())
}

/// Log a client in as `user` (ACLAuthenticateUser): true on success; a
/// failure is logged in the ACL log with the command as typed.
fn authenticate(ctx: &mut Ctx<'_>, cmd: &[u8], user: &[u8], pass: &[u8]) -> bool {
    match ctx.srv.acl.login(user, pass) {
        Some(id) => {
            let c = ctx.client();
            c.user = id;
            c.authenticated = true;
            true
        }
        None => {
            crate::acl::log_auth_failure(ctx.srv, ctx.client_id, user, cmd);
            false
        }
    }
}

const WRONGPASS: &str = "WRONGPASS invalid username-password pair or user is disabled.";

/// AUTH [username] password
fn auth(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    if args.len() > 3 {
        return Err(CmdError::Syntax);
    }
    let (user, pass): (&[u8], &[u8]) = if args.len() == 2 { (b"default", args.get(1)) } else { (args.get(1), args.get(2)) };
    if args.len() == 2 && ctx.srv.acl.user(crate::acl::DEFAULT_USER).nopass() {
        return Err(CmdError::err("AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"));
    }
    if !authenticate(ctx, args.get(0), user, pass) {
        return Err(CmdError::Coded(WRONGPASS.into()));
    }
    ctx.out.ok();
    Ok(())
}

/// CLIENT SETNAME's rule: no spaces, newlines or special characters.
fn validate_name(name: &[u8]) -> CmdResult {
    if name.iter().any(|&b| !(b'!'..=b'~').contains(&b)) {
        return Err(CmdError::err("Client names cannot contain spaces, newlines or special characters."));
    }
    Ok(())
}

/// HELLO [protover [AUTH username password] [SETNAME clientname]]
fn hello(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let mut ver = None;
    let mut i = 1;
    if args.len() >= 2 {
        let v = parse_i64(args.get(1)).ok_or_else(|| CmdError::err("Protocol version is not an integer or out of range"))?;
        if !(2..=3).contains(&v) {
            return Err(CmdError::Coded("NOPROTO unsupported protocol version".into()));
        }
        ver = Some(v as u8);
        i = 2;
    }
    let mut creds = None;
    let mut name = None;
    while i < args.len() {
        let more = args.len() - 1 - i;
        let opt = args.get(i);
        if is(opt, "auth") && more >= 2 {
            creds = Some((args.get(i + 1), args.get(i + 2)));
            i += 3;
        } else if is(opt, "setname") && more >= 1 {
            name = Some(args.get(i + 1));
            i += 2;
        } else {
            return Err(CmdError::err(format!("Syntax error in HELLO option '{}'", String::from_utf8_lossy(opt))));
        }
    }
    if let Some((user, pass)) = creds {
        if !authenticate(ctx, args.get(0), user, pass) {
            return Err(CmdError::Coded(WRONGPASS.into()));
        }
    }
    if !ctx.client().authenticated {
        return Err(CmdError::Coded("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time".into()));
    }
    if let Some(n) = name {
        validate_name(n)?;
        ctx.client().name = if n.is_empty() { None } else { Some(n.to_vec()) };
    }
    if let Some(v) = ver {
        ctx.client().resp = v;
        ctx.out.resp3 = v == 3;
    }
    let (id, resp) = {
        let c = ctx.client();
        (c.id, c.resp)
    };
    let out = &mut *ctx.out;
    out.map(7);
    out.bulk(b"server");
    out.bulk(b"redis");
    out.bulk(b"version");
    out.bulk(crate::cmd::info::REDIS_VERSION.as_bytes());
    out.bulk(b"proto");
    out.int(resp as i64);
    out.bulk(b"id");
    out.int(id as i64);
    out.bulk(b"mode");
    out.bulk(b"standalone");
    out.bulk(b"role");
    out.bulk(b"master");
    out.bulk(b"modules");
    out.array(0);
    Ok(())
}

/// CLIENT ID
fn client_id(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    let id = ctx.client_id;
    ctx.out.int(id as i64);
    Ok(())
}

/// CLIENT SETNAME connection-name
fn client_setname(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let n = args.get(2);
    validate_name(n)?;
    ctx.client().name = if n.is_empty() { None } else { Some(n.to_vec()) };
    ctx.out.ok();
    Ok(())
}

/// CLIENT GETNAME
fn client_getname(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    match ctx.client().name.clone() {
        Some(n) => ctx.out.bulk(&n),
        None => ctx.out.null(),
    }
    Ok(())
}

/// The client types CLIENT LIST/KILL filter on; every client here is
/// "normal" until replication and pub/sub arrive.
fn parse_client_type(t: &[u8]) -> Result<&'static str, CmdError> {
    let lower = t.to_ascii_lowercase();
    match lower.as_slice() {
        b"normal" => Ok("normal"),
        b"slave" | b"replica" => Ok("replica"),
        b"master" => Ok("master"),
        b"pubsub" => Ok("pubsub"),
        _ => Err(CmdError::err(format!("Unknown client type '{}'", String::from_utf8_lossy(t)))),
    }
}

/// CLIENT LIST [TYPE <NORMAL | MASTER | REPLICA | PUBSUB>] [ID client-id [client-id ...]]
fn client_list(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let mut only_type = None;
    let mut ids: Option<Vec<ClientId>> = None;
    if args.len() == 4 && is(args.get(2), "type") {
        only_type = Some(parse_client_type(args.get(3))?);
    } else if args.len() >= 4 && is(args.get(2), "id") {
        let mut v = Vec::new();
        for i in 3..args.len() {
            match parse_i64(args.get(i)) {
                Some(id) if id > 0 => v.push(id as ClientId),
                _ => return Err(CmdError::err("Invalid client ID")),
            }
        }
        ids = Some(v);
    } else if args.len() != 2 {
        return Err(CmdError::Syntax);
    }
    let now = ctx.srv.db.now_ms;
    let mut text = String::new();
    for c in ctx.srv.clients.map.values() {
        // Redis frees a killed client at once; here its task closes it a
        // moment later, so it is already gone for CLIENT LIST.
        if c.killed {
            continue;
        }
        if only_type.is_some_and(|t| t != c.client_type()) {
            continue;
        }
        if ids.as_ref().is_some_and(|ids| !ids.contains(&c.id)) {
            continue;
        }
        text.push_str(&crate::acl::client_info(ctx.srv, c, now));
        text.push('\n');
    }
    ctx.out.verbatim("txt", text.as_bytes());
    Ok(())
}

/// CLIENT INFO
fn client_info(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    let now = ctx.srv.db.now_ms;
    let mut line = crate::acl::client_info(ctx.srv, &ctx.srv.clients.map[&ctx.client_id], now);
    line.push('\n');
    ctx.out.verbatim("txt", line.as_bytes());
    Ok(())
}

/// CLIENT KILL ip:port | CLIENT KILL <filter value> ...
fn client_kill(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let me = ctx.client_id;
    if args.len() == 3 {
        // The old form: one address, replies OK or an error.
        let addr = String::from_utf8_lossy(args.get(2)).into_owned();
        let target = ctx.srv.clients.map.values().find(|c| c.addr_string() == addr).map(|c| c.id);
        let Some(id) = target else {
            return Err(CmdError::err("No such client"));
        };
        kill_client(ctx, id, me);
        ctx.out.ok();
        return Ok(());
    }
    if args.len() % 2 != 0 {
        return Err(CmdError::Syntax);
    }
    let mut id_filter = None;
    let mut addr_filter = None;
    let mut laddr_filter = None;
    let mut type_filter = None;
    let mut user_filter = None;
    let mut maxage = None;
    let mut skipme = true;
    for i in (2..args.len()).step_by(2) {
        let (opt, val) = (args.get(i), args.get(i + 1));
        if is(opt, "id") {
            match parse_i64(val) {
                Some(id) if id > 0 => id_filter = Some(id as ClientId),
                _ => return Err(CmdError::err("client-id should be greater than 0")),
            }
        } else if is(opt, "type") {
            type_filter = Some(parse_client_type(val)?);
        } else if is(opt, "addr") {
            addr_filter = Some(String::from_utf8_lossy(val).into_owned());
        } else if is(opt, "laddr") {
            laddr_filter = Some(String::from_utf8_lossy(val).into_owned());
        } else if is(opt, "user") {
            let Some(id) = ctx.srv.acl.find(val) else {
                return Err(CmdError::err(format!("No such user '{}'", String::from_utf8_lossy(val))));
            };
            user_filter = Some(id);
        } else if is(opt, "skipme") {
            if is(val, "yes") {
                skipme = true;
            } else if is(val, "no") {
                skipme = false;
            } else {
                return Err(CmdError::Syntax);
            }
        } else if is(opt, "maxage") {
            maxage = Some(parse_i64(val).ok_or(CmdError::NotInteger)?);
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let now = ctx.srv.db.now_ms;
    let victims: Vec<ClientId> = ctx
        .srv
        .clients
        .map
        .values()
        .filter(|c| id_filter.is_none_or(|id| c.id == id))
        .filter(|c| addr_filter.as_ref().is_none_or(|a| &c.addr_string() == a))
        .filter(|c| laddr_filter.as_ref().is_none_or(|a| &c.laddr_string() == a))
        .filter(|c| user_filter.is_none_or(|u| c.user == u))
        .filter(|c| type_filter.is_none_or(|t| t == c.client_type()))
        .filter(|c| maxage.is_none_or(|age| (now - c.created_ms) / 1000 >= age))
        .filter(|c| !(skipme && c.id == me))
        .map(|c| c.id)
        .collect();
    for &id in &victims {
        kill_client(ctx, id, me);
    }
    ctx.out.int(victims.len() as i64);
    Ok(())
}

fn kill_client(ctx: &mut Ctx<'_>, id: ClientId, me: ClientId) {
    if id == me {
        // Our own reply must still go out: close after writing it.
        ctx.client().close_after_reply = true;
    } else {
        ctx.srv.clients.kill(id);
    }
}

/// CLIENT REPLY ON|OFF|SKIP
fn client_reply(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let mode = args.get(2);
    let c = ctx.client();
    if is(mode, "on") {
        c.reply_mode = ReplyMode::On;
        ctx.out.ok();
    } else if is(mode, "off") {
        c.reply_mode = ReplyMode::Off;
    } else if is(mode, "skip") {
        if c.reply_mode != ReplyMode::Off {
            c.reply_mode = ReplyMode::SkipNext;
        }
    } else {
        return Err(CmdError::Syntax);
    }
    Ok(())
}

/// CLIENT NO-EVICT ON|OFF
fn client_no_evict(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    ctx.client().no_evict = on_off(args.get(2))?;
    ctx.out.ok();
    Ok(())
}

/// CLIENT NO-TOUCH ON|OFF (Redis 7.2): while on, this client's commands
/// leave keys' LRU/LFU bits alone, except TOUCH itself.
fn client_no_touch(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    ctx.client().no_touch = on_off(args.get(2))?;
    ctx.out.ok();
    Ok(())
}

/// The ON|OFF argument of CLIENT NO-EVICT and NO-TOUCH.
fn on_off(v: &[u8]) -> Result<bool, CmdError> {
    if is(v, "on") {
        Ok(true)
    } else if is(v, "off") {
        Ok(false)
    } else {
        Err(CmdError::Syntax)
    }
}

/// CLIENT PAUSE timeout [WRITE|ALL]
fn client_pause(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let t = parse_i64(args.get(2)).ok_or_else(|| CmdError::err("timeout is not an integer or out of range"))?;
    if t < 0 {
        return Err(CmdError::err("timeout is negative"));
    }
    let write_only = match args.len() {
        3 => false,
        4 if is(args.get(3), "all") => false,
        4 if is(args.get(3), "write") => true,
        _ => return Err(CmdError::Syntax),
    };
    let until = ctx.srv.db.now_ms.saturating_add(t);
    // A longer or stricter pause already in force wins (pauseClients).
    let pause = match ctx.srv.pause {
        Some(p) if p.until_ms > until || (!p.write_only && write_only) => Pause {
            until_ms: p.until_ms.max(until),
            write_only: p.write_only && write_only,
        },
        _ => Pause { until_ms: until, write_only },
    };
    ctx.srv.pause = Some(pause);
    ctx.out.ok();
    Ok(())
}

/// CLIENT UNPAUSE
fn client_unpause(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    ctx.srv.pause = None;
    ctx.srv.wake_paused = true;
    ctx.out.ok();
    Ok(())
}

/// Whether a client with this id is connected (a killed one is gone, as
/// Redis frees it at once).
fn client_exists(ctx: &Ctx<'_>, id: i64) -> bool {
    u64::try_from(id).ok().and_then(|id| ctx.srv.clients.map.get(&id)).is_some_and(|c| !c.killed)
}

/// CLIENT TRACKING ON|OFF [REDIRECT client-id] [PREFIX prefix [PREFIX prefix ...]] [BCAST] [OPTIN] [OPTOUT] [NOLOOP]
fn client_tracking(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let mut opts = crate::tracking::Options::default();
    let mut j = 3;
    while j < args.len() {
        let more = args.len() - 1 - j;
        let opt = args.get(j);
        if is(opt, "redirect") && more > 0 {
            j += 1;
            if opts.redirect != 0 {
                return Err(CmdError::err("A client can only redirect to a single other client"));
            }
            let id = parse_i64(args.get(j)).ok_or(CmdError::NotInteger)?;
            // The client must exist now, though it may go away later.
            if !client_exists(ctx, id) {
                return Err(CmdError::err("The client ID you want redirect to does not exist"));
            }
            opts.redirect = id as ClientId;
        } else if is(opt, "bcast") {
            opts.bcast = true;
        } else if is(opt, "optin") {
            opts.optin = true;
        } else if is(opt, "optout") {
            opts.optout = true;
        } else if is(opt, "noloop") {
            opts.noloop = true;
        } else if is(opt, "prefix") && more > 0 {
            j += 1;
            opts.prefixes.push(args.get(j).to_vec());
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    let mode = args.get(2);
    if is(mode, "off") {
        crate::tracking::disable(ctx.srv, ctx.client_id);
        ctx.out.ok();
        return Ok(());
    }
    if !is(mode, "on") {
        return Err(CmdError::Syntax);
    }
    if !opts.bcast && !opts.prefixes.is_empty() {
        return Err(CmdError::err("PREFIX option requires BCAST mode to be enabled"));
    }
    let current = ctx.client().tracking.as_deref().cloned();
    if current.as_ref().is_some_and(|t| t.bcast != opts.bcast) {
        return Err(CmdError::err(
            "You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.",
        ));
    }
    if opts.bcast && (opts.optin || opts.optout) {
        return Err(CmdError::err("OPTIN and OPTOUT are not compatible with BCAST"));
    }
    if opts.optin && opts.optout {
        return Err(CmdError::err("You can't specify both OPTIN mode and OPTOUT mode"));
    }
    if current.as_ref().is_some_and(|t| (opts.optin && t.optout) || (opts.optout && t.optin)) {
        return Err(CmdError::err(
            "You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.",
        ));
    }
    if opts.bcast {
        let existing = current.map(|t| t.prefixes).unwrap_or_default();
        if let Some(e) = crate::tracking::prefix_collision(&existing, &opts.prefixes) {
            return Err(CmdError::Err(e));
        }
    }
    crate::tracking::enable(ctx.srv, ctx.client_id, opts);
    ctx.out.ok();
    Ok(())
}

/// CLIENT CACHING YES|NO: whether the next command's reads are tracked,
/// in OPTIN (YES) or OPTOUT (NO) mode.
fn client_caching(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let Some(t) = ctx.client().tracking.as_deref_mut() else {
        return Err(CmdError::err("CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled"));
    };
    let v = args.get(2);
    if is(v, "yes") {
        if !t.optin {
            return Err(CmdError::err("CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode."));
        }
    } else if is(v, "no") {
        if !t.optout {
            return Err(CmdError::err("CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode."));
        }
    } else {
        return Err(CmdError::Syntax);
    }
    t.caching = true;
    ctx.out.ok();
    Ok(())
}

/// CLIENT GETREDIR: the redirect client's id, 0 for none, -1 when
/// tracking is off.
fn client_getredir(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    let redirect = ctx.client().tracking.as_ref().map_or(-1, |t| t.redirect as i64);
    ctx.out.int(redirect);
    Ok(())
}

/// CLIENT TRACKINGINFO: flags, redirect and prefixes of this client's tracking.
fn client_trackinginfo(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    let t = ctx.client().tracking.as_deref().cloned();
    let mut flags: Vec<&[u8]> = vec![if t.is_some() { b"on" } else { b"off" }];
    if let Some(t) = &t {
        if t.bcast {
            flags.push(b"bcast");
        }
        if t.optin {
            flags.push(b"optin");
            if t.caching {
                flags.push(b"caching-yes");
            }
        }
        if t.optout {
            flags.push(b"optout");
            if t.caching {
                flags.push(b"caching-no");
            }
        }
        if t.noloop {
            flags.push(b"noloop");
        }
        if t.broken_redirect {
            flags.push(b"broken_redirect");
        }
    }
    let out = &mut *ctx.out;
    out.map(3);
    out.bulk(b"flags");
    out.set(flags.len());
    for f in flags {
        out.bulk(f);
    }
    out.bulk(b"redirect");
    out.int(t.as_ref().map_or(-1, |t| t.redirect as i64));
    out.bulk(b"prefixes");
    let prefixes = t.map(|t| t.prefixes).unwrap_or_default();
    out.array(prefixes.len());
    for p in &prefixes {
        out.bulk(p);
    }
    Ok(())
}

fn client_help(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    reply_help(
        ctx.out,
        args.get(0),
        &[
            "CACHING (YES|NO)",
            "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
            "GETREDIR",
            "    Return the client ID we are redirecting to when tracking is enabled.",
            "GETNAME",
            "    Return the name of the current connection.",
            "ID",
            "    Return the ID of the current connection.",
            "INFO",
            "    Return information about the current client connection.",
            "KILL <ip:port>",
            "    Kill connection made from <ip:port>.",
            "KILL <option> <value> [<option> <value> [...]]",
            "    Kill connections. Options are:",
            "    * ADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made from the specified address",
            "    * LADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made to specified local address",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Kill connections by type.",
            "    * USER <username>",
            "      Kill connections authenticated by <username>.",
            "    * SKIPME (YES|NO)",
            "      Skip killing current connection (default: yes).",
            "    * ID <client-id>",
            "      Kill connections by client id.",
            "    * MAXAGE <maxage>",
            "      Kill connections older than the specified age.",
            "LIST [options ...]",
            "    Return information about client connections. Options:",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Return clients of specified type.",
            "UNPAUSE",
            "    Stop the current client pause, resuming traffic.",
            "PAUSE <timeout> [WRITE|ALL]",
            "    Suspend all, or just write, clients for <timeout> milliseconds.",
            "REPLY (ON|OFF|SKIP)",
            "    Control the replies sent to the current connection.",
            "SETNAME <name>",
            "    Assign the name <name> to the current connection.",
            "UNBLOCK <clientid> [TIMEOUT|ERROR]",
            "    Unblock the specified blocked client.",
            "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
            "         [OPTIN] [OPTOUT] [NOLOOP]",
            "    Control server assisted client side caching.",
            "TRACKINGINFO",
            "    Report tracking status for the current connection.",
            "NO-EVICT (ON|OFF)",
            "    Protect current client connection from eviction.",
        ],
    );
    Ok(())
}

/// CLIENT UNBLOCK <clientid> [TIMEOUT|ERROR]: end another client's wait
/// as a timeout would (a null array) or with an UNBLOCKED error.
fn client_unblock(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    if args.len() > 4 {
        return Err(CmdError::Syntax);
    }
    let as_error = match args.len() {
        4 if is(args.get(3), "timeout") => false,
        4 if is(args.get(3), "error") => true,
        4 => return Err(CmdError::err("CLIENT UNBLOCK reason should be TIMEOUT or ERROR")),
        _ => false,
    };
    let id = parse_i64(args.get(2)).ok_or(CmdError::NotInteger)?;
    let target = u64::try_from(id).ok().and_then(|id| ctx.srv.clients.map.get(&id).map(|c| (id, c.resp == 3)));
    let Some((id, resp3)) = target.filter(|(id, _)| ctx.srv.clients.map[id].blocked.is_some()) else {
        ctx.out.int(0);
        return Ok(());
    };
    let mut reply = corvid_proto::resp::Reply { buf: Vec::new(), resp3 };
    crate::blocking::unblock_counted(ctx.srv, id, as_error);
    if as_error {
        let e = CmdError::Coded("UNBLOCKED client unblocked via CLIENT UNBLOCK".into());
        crate::dispatch::count_error(ctx.srv, &e);
        reply.error(&e.to_string());
    } else {
        reply.null_array();
    }
    if let Some(c) = ctx.srv.clients.map.get_mut(&id) {
        c.blocked_reply = Some(reply.buf);
        c.wake.notify_one();
    }
    ctx.out.int(1);
    Ok(())
}

pub fn register(r: &mut Registry) {
    r.add("client|unblock", client_unblock);
    r.add("ping", ping);
    r.add("echo", echo);
    r.add("quit", quit);
    r.add("reset", reset);
    r.add("auth", auth);
    r.add("hello", hello);
    r.add("client|id", client_id);
    r.add("client|setname", client_setname);
    r.add("client|getname", client_getname);
    r.add("client|list", client_list);
    r.add("client|info", client_info);
    r.add("client|kill", client_kill);
    r.add("client|reply", client_reply);
    r.add("client|no-evict", client_no_evict);
    r.add("client|no-touch", client_no_touch);
    r.add("client|pause", client_pause);
    r.add("client|unpause", client_unpause);
    r.add("client|help", client_help);
    r.add("client|tracking", client_tracking);
    r.add("client|caching", client_caching);
    r.add("client|getredir", client_getredir);
    r.add("client|trackinginfo", client_trackinginfo);
}
