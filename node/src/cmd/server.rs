//! Server commands (Redis's server.c, config.c and debug.c parts): CONFIG,
//! DEBUG, TIME, LASTSAVE, SHUTDOWN. INFO lives in `info`, COMMAND in `command`.

use corvid_proto::resp::Args;
use sha1::{Digest, Sha1};

use super::{arg_positive, is, reply_help};
use crate::dispatch::{Ctx, Registry};
use crate::errors::{CmdError, CmdResult};
use crate::keyspace::{Entry, NewValue, StrEncoding, ValueRef};
use crate::server::Stats;

/// CONFIG GET parameter [parameter ...]
fn config_get(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let patterns: Vec<&[u8]> = args.iter().skip(2).collect();
    let pairs = ctx.srv.config.get(&patterns);
    ctx.out.map(pairs.len());
    for (k, v) in pairs {
        ctx.out.bulk(k.as_bytes());
        ctx.out.bulk(v.as_bytes());
    }
    Ok(())
}

/// CONFIG SET parameter value [parameter value ...]
fn config_set(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    if args.len() % 2 != 0 {
        return Err(CmdError::Arity(ctx.spec.full_name.to_string()));
    }
    let pairs: Vec<(&[u8], &[u8])> = (2..args.len()).step_by(2).map(|i| (args.get(i), args.get(i + 1))).collect();
    let who = crate::config::SetContext {
        local_client: ctx.client().is_local(),
        loading: ctx.srv.rdb.loading.is_some() || ctx.srv.db.loading,
    };
    // An apply that fails puts every directive of the call back, and
    // applies them again (configSetCommand's restoreBackupConfig).
    let backup = ctx.srv.config.clone();
    let changed = ctx.srv.config.set_with(&pairs, who).map_err(|e| config_error(&e))?;
    ctx.srv.refresh_cached_config();
    if let Err((arg, reason)) = apply_changes(ctx.srv, &changed, &backup) {
        let failed = std::mem::replace(&mut ctx.srv.config, backup);
        ctx.srv.refresh_cached_config();
        if let Err((_, e)) = apply_changes(ctx.srv, &changed, &failed) {
            tracing::warn!("Failed applying restored failed CONFIG SET command: {e}");
        }
        return Err(config_error(&crate::config::ConfigError::SetFailed { arg: arg.to_string(), reason: Some(reason) }));
    }
    if changed.iter().any(|&n| n == "maxmemory-clients" || n == "maxmemory") {
        crate::client_eviction::refresh(ctx.srv);
    }
    for name in changed {
        if name == "loglevel" || name == "logfile" {
            tracing::info!("CONFIG SET {name}: takes effect at the next start");
        }
    }
    ctx.out.ok();
    Ok(())
}

/// Make the running server follow the directives CONFIG SET changed, in
/// the order given, each apply once (Redis's apply functions); `before`
/// holds the values they had. The first failure names its directive.
fn apply_changes(srv: &mut crate::server::Server, changed: &[&'static str], before: &crate::config::Config) -> Result<(), (&'static str, String)> {
    let mut oom_done = false;
    for &name in changed {
        let applied = match name {
            "port" => crate::listeners::change_port(srv, srv.config.get_i64("port") as u16),
            "bind" => crate::listeners::change_bind(srv, &before.bind_addrs()),
            "oom-score-adj" | "oom-score-adj-values" if !oom_done => {
                oom_done = true;
                crate::oom::apply(srv).map_err(|_| "Failed to set current oom_score_adj. Check server logs.".to_string())
            }
            "appendonly" => super::aof::apply_appendonly(srv).map_err(|_| "Unable to turn on AOF. Check server logs.".to_string()),
            "aof-disable-auto-gc" => {
                // Turning the collection back on collects at once
                // (updateAofAutoGCEnabled).
                let paths = crate::aof::Paths::of(&srv.config);
                crate::aof::delete_history(srv, &paths);
                Ok(())
            }
            "maxmemory" => {
                crate::evict::limit_changed(srv);
                Ok(())
            }
            "crash-log-enabled" => {
                crate::crash::set_enabled(srv.config.get_bool("crash-log-enabled"));
                Ok(())
            }
            _ => Ok(()),
        };
        applied.map_err(|reason| (name, reason))?;
    }
    Ok(())
}

/// Config errors carry Redis's full text, "ERR ..." included.
fn config_error(e: &crate::config::ConfigError) -> CmdError {
    let text = e.to_string();
    match text.strip_prefix("ERR ") {
        Some(rest) => CmdError::err(rest),
        None => CmdError::Coded(text),
    }
}

/// CONFIG RESETSTAT
fn config_resetstat(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    ctx.srv.stats = Stats::default();
    for s in ctx.srv.cmd_stats.iter_mut() {
        *s = Default::default();
    }
    ctx.srv.cmd_latency.reset();
    ctx.srv.db.stats = Default::default();
    ctx.srv.eviction.reset_stats();
    crate::lazyfree::reset_stats();
    ctx.out.ok();
    Ok(())
}

/// CONFIG REWRITE
fn config_rewrite(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    ctx.srv.config.rewrite().map_err(|e| config_error(&e))?;
    tracing::info!("CONFIG REWRITE executed with success.");
    ctx.out.ok();
    Ok(())
}

fn config_help(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    reply_help(
        ctx.out,
        args.get(0),
        &[
            "GET <pattern>",
            "    Return parameters matching the glob-like <pattern> and their values.",
            "SET <directive> <value>",
            "    Set the configuration <directive> to <value>.",
            "RESETSTAT",
            "    Reset statistics reported by the INFO command.",
            "REWRITE",
            "    Rewrite the configuration file.",
        ],
    );
    Ok(())
}

/// TIME
fn time(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    let us = crate::clock::now_us();
    ctx.out.array(2);
    ctx.out.bulk_int(us / 1_000_000);
    ctx.out.bulk_int(us % 1_000_000);
    Ok(())
}

/// LASTSAVE
fn lastsave(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    let t = ctx.srv.last_save_secs;
    ctx.out.int(t);
    Ok(())
}

/// SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT] (see [`crate::shutdown`]):
/// the client is blocked while the shutdown waits for replicas, and gets an
/// error if it fails; on success the process exits without a reply.
fn shutdown(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    use crate::shutdown::{Outcome, FORCE, NOSAVE, NOW, SAVE};
    if args.len() > 5 {
        return Err(CmdError::Syntax);
    }
    let (mut flags, mut abort) = (0, false);
    for a in args.iter().skip(1) {
        if is(a, "nosave") {
            flags |= NOSAVE;
        } else if is(a, "save") {
            flags |= SAVE;
        } else if is(a, "now") {
            flags |= NOW;
        } else if is(a, "force") {
            flags |= FORCE;
        } else if is(a, "abort") {
            abort = true;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    if (abort && flags != 0) || (flags & NOSAVE != 0 && flags & SAVE != 0) {
        return Err(CmdError::Syntax);
    }
    if abort {
        if crate::shutdown::abort(ctx.srv) {
            ctx.out.ok();
            return Ok(());
        }
        return Err(CmdError::err("No shutdown in progress."));
    }
    // Inside EXEC nothing may block (CLIENT_DENY_BLOCKING).
    if flags & NOW == 0 && ctx.srv.in_exec {
        return Err(CmdError::err("SHUTDOWN without NOW or ABORT isn't allowed for DENY BLOCKING client"));
    }
    match crate::shutdown::prepare(ctx.srv, flags) {
        Outcome::Exit => {
            ctx.client().close_after_reply = true;
            Ok(())
        }
        Outcome::Waiting => {
            crate::shutdown::wait(ctx.srv, ctx.client_id);
            crate::blocking::block(ctx, args, &[], None);
            Ok(())
        }
        Outcome::Failed => Err(CmdError::err(crate::shutdown::FAILED_REPLY)),
    }
}

/// DEBUG subcommand ... (the parts Redis's tooling and test suite use).
fn debug(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let sub = args.get(1).to_ascii_lowercase();
    let argc = args.len();
    match (sub.as_slice(), argc) {
        (b"help", 2) => {
            reply_help(
                ctx.out,
                args.get(0),
                &[
                    "CHANGE-REPL-ID",
                    "    Change the replication IDs of the instance.",
                    "    Dangerous: should be used only for testing the replication subsystem.",
                    "CONFIG-REWRITE-FORCE-ALL",
                    "    Like CONFIG REWRITE but writes all configuration options, including",
                    "    keywords not listed in original configuration file or default values.",
                    "DIGEST",
                    "    Output a hex signature representing the current DB content.",
                    "DIGEST-VALUE <key> [<key> ...]",
                    "    Output a hex signature of the values of all the specified keys.",
                    "LOG <message>",
                    "    Write <message> to the server log.",
                    "MALLCTL <key> [<val>]",
                    "    Get or set a malloc tuning integer.",
                    "MALLCTL-STR <key> [<val>]",
                    "    Get or set a malloc tuning string.",
                    "OBJECT <key>",
                    "    Show low level info about the `key` and associated value.",
                    "POPULATE <count> [<prefix>] [<size>]",
                    "    Create <count> string keys named key:<num>. If <prefix> is specified then",
                    "    it is used instead of the 'key' prefix. These are not propagated to",
                    "    replicas. Cluster slots are not respected so keys not belonging to the",
                    "    current node can be created in cluster mode.",
                    "PROTOCOL <type>",
                    "    Reply with a test value of the specified type. <type> can be: string,",
                    "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
                    "    true, false.",
                    "RELOAD [option ...]",
                    "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
                    "    * MERGE: conflicting keys will be loaded from RDB.",
                    "    * NOFLUSH: the existing database will not be removed before load, but",
                    "      conflicting keys will generate an exception and kill the server.",
                    "    * NOSAVE: the database will be loaded from an existing RDB file.",
                    "    Examples:",
                    "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
                    "      the database.",
                    "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
                    "      existing RDB file.",
                    "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
                    "      file to the database.",
                    "REPLICATE <command> [<arg> ...]",
                    "    Send <command> to the replicas as if it had run here, without running it.",
                    "SEGFAULT",
                    "    Crash the server with sigsegv.",
                    "SET-ACTIVE-EXPIRE <0|1>",
                    "    Setting it to 0 disables expiring keys in background when they are not",
                    "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
                    "    default.",
                    "SET-SKIP-CHECKSUM-VALIDATION <0|1>",
                    "    Enables or disables the checksum check of RESTORE's payload.",
                    "QUICKLIST-PACKED-THRESHOLD <size>",
                    "    Sets the threshold for elements to be inserted as plain vs packed nodes",
                    "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
                    "SLEEP <seconds>",
                    "    Stop the server for <seconds>. Decimals allowed.",
                ],
            );
        }
        (b"sleep", 3) => {
            let secs = super::arg_f64(args.get(2))?;
            if secs > 0.0 {
                // DEBUG SLEEP stops the whole server, as Redis's does.
                std::thread::sleep(std::time::Duration::from_secs_f64(secs));
            }
            ctx.out.ok();
        }
        (b"segfault", 2) => {
            // The crash report's own test: the process dies of SIGSEGV,
            // reporting it (see crate::crash).
            // SAFETY: raising a signal is always defined; its handler ends the process.
            unsafe {
                libc::raise(libc::SIGSEGV);
            }
        }
        (b"pause-cron", 3) => {
            ctx.srv.cron_paused = super::arg_i64(args.get(2))? != 0;
            ctx.out.ok();
        }
        (b"set-active-expire", 3) => {
            let v = super::arg_i64(args.get(2))?;
            ctx.srv.active_expire_enabled = v != 0;
            ctx.out.ok();
        }
        (b"set-skip-checksum-validation", 3) => {
            ctx.srv.skip_checksum_validation = super::arg_i64(args.get(2))? != 0;
            ctx.out.ok();
        }
        (b"set-disable-deny-scripts", 3) => {
            ctx.srv.scripting.disable_deny_script = super::arg_i64(args.get(2))? != 0;
            ctx.out.ok();
        }
        (b"reload", _) => debug_reload(ctx, args)?,
        (b"loadaof", 2) => super::aof::debug_loadaof(ctx)?,
        (b"aof-flush-sleep", 3) => {
            ctx.srv.aof.flush_sleep_us = super::arg_i64(args.get(2))?.max(0) as u64;
            ctx.out.ok();
        }
        (b"quicklist-packed-threshold", 3) => {
            let size = crate::config::syntax::memtoull(args.get(2));
            if !size.is_some_and(crate::quicklist::set_packed_threshold) {
                return Err(CmdError::err("argument must be a memory value bigger than 1 and smaller than 4gb"));
            }
            ctx.out.ok();
        }
        (b"replicate", n) if n >= 3 => {
            // A fake entry in the replication stream (replicationFeedSlaves).
            let argv: Vec<&[u8]> = args.iter().skip(2).collect();
            crate::replication::propagate_to_replicas(ctx.srv, ctx.db, &argv);
            ctx.out.ok();
        }
        (b"change-repl-id", 2) => {
            crate::replication::change_replid(ctx.srv);
            ctx.out.ok();
        }
        (b"object", 3) => {
            let db = ctx.db;
            let Some(e) = ctx.srv.db.dbs[db].get(args.get(2)) else {
                return Err(CmdError::NoSuchKey);
            };
            let now = ctx.srv.db.now_ms;
            let v = e.value();
            // The payload less its type byte and 10-byte footer: the RDB body.
            let serialized = super::dump::payload_of(&v, true).len() - 11;
            let extra = match v {
                ValueRef::List(q) => format!(
                    " ql_nodes:{} ql_avg_node:{:.2} ql_listpack_max:{} ql_compressed:0 ql_uncompressed_size:{}",
                    q.nodes().len(),
                    q.len() as f64 / q.nodes().len() as f64,
                    q.fill(),
                    q.packed_bytes()
                ),
                _ => String::new(),
            };
            let line = format!(
                "Value at:{:p} refcount:1 encoding:{} serializedlength:{} lru:{} lru_seconds_idle:{}{}",
                e.key().as_ptr(),
                super::keyspace::encoding_name(&v),
                serialized,
                // Redis's field: its one-second clock under LRU, the LFU pair as it is.
                if ctx.srv.db.policy.lfu { e.lru() } else { e.lru() >> 4 },
                crate::access::idle_ms(e.lru(), now) / 1000,
                extra
            );
            ctx.out.simple(line.as_bytes());
        }
        (b"populate", 3..=5) => {
            let count = arg_positive(args.get(2))?;
            let size = if argc == 5 { arg_positive(args.get(4))? as usize } else { 0 };
            let prefix: Vec<u8> = if argc >= 4 { args.get(3).to_vec() } else { b"key".to_vec() };
            let db = ctx.db;
            let lru = ctx.srv.db.policy.initial(ctx.srv.db.now_ms);
            let mut key = Vec::new();
            let mut val = Vec::new();
            for j in 0..count {
                key.clear();
                key.extend_from_slice(&prefix);
                key.push(b':');
                key.extend_from_slice(itoa::Buffer::new().format(j).as_bytes());
                if ctx.srv.db.exists(db, &key) {
                    continue;
                }
                val.clear();
                val.extend_from_slice(b"value:");
                val.extend_from_slice(itoa::Buffer::new().format(j).as_bytes());
                if size > 0 {
                    val.resize(size, 0);
                }
                let enc = if val.len() <= super::EMBSTR_MAX { StrEncoding::Embstr } else { StrEncoding::Raw };
                ctx.srv.db.dbs[db].insert(&key, NewValue::Str(&val, enc), None, lru);
            }
            ctx.out.ok();
        }
        (b"log", 3) => {
            tracing::warn!("DEBUG LOG: {}", String::from_utf8_lossy(args.get(2)));
            ctx.out.ok();
        }
        (b"digest", 2) => {
            let d = dataset_digest(ctx);
            ctx.out.simple(hex(&d).as_bytes());
        }
        (b"digest-value", _) => {
            let db = ctx.db;
            ctx.out.array(argc - 2);
            for i in 2..argc {
                let mut d = [0u8; 20];
                if let Some(e) = ctx.srv.db.dbs[db].get(args.get(i)) {
                    value_digest(&mut d, &e);
                }
                ctx.out.simple(hex(&d).as_bytes());
            }
        }
        (b"protocol", 3) => debug_protocol(ctx, args.get(2))?,
        (b"mallctl", 3..) => super::memory::debug_mallctl(ctx, args)?,
        (b"mallctl-str", 3..) => super::memory::debug_mallctl_str(ctx, args)?,
        (b"config-rewrite-force-all", 2) => {
            use crate::config::ConfigError;
            match ctx.srv.config.rewrite_force_all() {
                Ok(()) => ctx.out.ok(),
                Err(ConfigError::Rewrite(why)) => {
                    return Err(CmdError::err(format!("CONFIG-REWRITE-FORCE-ALL failed: {why}")))
                }
                Err(e) => return Err(config_error(&e)),
            }
        }
        _ => {
            return Err(CmdError::err(format!(
                "unknown subcommand or wrong number of arguments for '{}'. Try DEBUG HELP.",
                String::from_utf8_lossy(args.get(1))
            )))
        }
    }
    Ok(())
}

fn debug_protocol(ctx: &mut Ctx<'_>, name: &[u8]) -> CmdResult {
    let out = &mut *ctx.out;
    if is(name, "string") {
        out.bulk(b"Hello World");
    } else if is(name, "integer") {
        out.int(12345);
    } else if is(name, "double") {
        // Redis's DEBUG PROTOCOL double is exactly 3.141, not pi.
        #[allow(clippy::approx_constant)]
        out.double(3.141);
    } else if is(name, "bignum") {
        if out.resp3 {
            out.raw(b"(1234567999999999999999999999999999999\r\n");
        } else {
            out.bulk(b"1234567999999999999999999999999999999");
        }
    } else if is(name, "null") {
        out.null();
    } else if is(name, "array") {
        out.array(3);
        (0..3).for_each(|j| out.int(j));
    } else if is(name, "set") {
        out.set(3);
        (0..3).for_each(|j| out.int(j));
    } else if is(name, "map") {
        out.map(3);
        for j in 0..3 {
            out.int(j);
            out.boolean(j == 1);
        }
    } else if is(name, "attrib") {
        if out.resp3 {
            out.raw(b"|1\r\n");
            out.bulk(b"key-popularity");
            out.array(2);
            out.bulk(b"key:123");
            out.int(90);
        }
        out.bulk(b"Some real reply following the attribute");
    } else if is(name, "push") {
        if !out.resp3 {
            return Err(CmdError::err("RESP2 is not supported by this command"));
        }
        out.push(2);
        out.bulk(b"server-cpu-usage");
        out.int(42);
        out.bulk(b"Some real reply following the push reply");
    } else if is(name, "true") {
        out.boolean(true);
    } else if is(name, "false") {
        out.boolean(false);
    } else if is(name, "verbatim") {
        out.verbatim("txt", b"This is a verbatim\nstring");
    } else {
        return Err(CmdError::err("Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false"));
    }
    Ok(())
}

/// The snapshot written before exiting; false when it failed and the
/// shutdown must not go on (`force` exits anyway).
pub fn final_save(srv: &mut crate::server::Server, force: bool) -> bool {
    tracing::info!("Saving the final RDB snapshot before exiting.");
    match save_rdb(srv) {
        Ok(()) => true,
        Err(_) if force => {
            tracing::warn!("Error trying to save the DB. Exit anyway.");
            true
        }
        Err(_) => {
            tracing::warn!("Error trying to save the DB, can't exit.");
            false
        }
    }
}

/// SAVE: write the snapshot now, blocking every client until it is done.
fn save(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    if ctx.srv.rdb.bgsave().is_some() {
        return Err(CmdError::err("Background save already in progress"));
    }
    ctx.srv.rdb.saves += 1;
    match save_rdb(ctx.srv) {
        Ok(()) => {
            ctx.out.ok();
            Ok(())
        }
        // Redis's shared.err: a bare "-ERR".
        Err(_) => Err(CmdError::Coded("ERR".into())),
    }
}

/// Write the dataset to `dbfilename` in `dir` (rdbSave): the file image,
/// then an atomic replace; on success the dirty counter restarts and
/// LASTSAVE moves.
pub fn save_rdb(srv: &mut crate::server::Server) -> std::io::Result<()> {
    use crate::rdb::file;
    let aux = file::AuxInfo { repl: crate::replication::save_info(srv), ..file::AuxInfo::current(false) };
    let compress = srv.config.get_bool("rdbcompression");
    let checksum = srv.config.get_bool("rdbchecksum");
    let delay = srv.config.get_i64("rdb-key-save-delay");
    let key_delay = (delay > 0).then(|| std::time::Duration::from_micros(delay as u64));
    let path = std::path::PathBuf::from(srv.config.get_str("dbfilename"));
    let functions = srv.scripting.library_codes();
    if let Err(e) = file::write_atomically_with(&path, |f| file::serialize_to(f, &srv.db, &functions, &aux, compress, checksum, key_delay)) {
        tracing::warn!("Failed saving the DB: {e}");
        return Err(e);
    }
    tracing::info!("DB saved on disk");
    srv.db.dirty = 0;
    srv.last_save_secs = crate::clock::now_secs();
    srv.rdb.last_bgsave_ok = true;
    Ok(())
}

/// BGSAVE [SCHEDULE]: start a point-in-time snapshot that is written while
/// clients go on (see `crate::snapshot`). Inside EXEC it waits for the
/// cron, as Redis's does.
fn bgsave(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let schedule = match args.len() {
        1 => false,
        2 if is(args.get(1), "schedule") => true,
        _ => return Err(CmdError::Syntax),
    };
    if ctx.srv.rdb.bgsave().is_some() {
        return Err(CmdError::err("Background save already in progress"));
    }
    if ctx.srv.in_exec || (schedule && ctx.srv.rdb.job.is_some()) {
        ctx.srv.rdb.scheduled = true;
        ctx.out.simple(b"Background saving scheduled");
        return Ok(());
    }
    match crate::snapshot::start(ctx.srv) {
        Ok(()) => {
            ctx.out.simple(b"Background saving started");
            Ok(())
        }
        Err(e @ crate::snapshot::StartError::OtherJob) => Err(CmdError::err(e.to_string())),
        // Redis's shared.err: a bare "-ERR".
        Err(_) => Err(CmdError::Coded("ERR".into())),
    }
}

/// DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: save the dataset, empty it and
/// load the file back, exercising the whole RDB path.
fn debug_reload(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let (mut flush, mut save, mut merge) = (true, true, false);
    for opt in args.iter().skip(2) {
        if is(opt, "merge") {
            // Duplicate keys replace what is there either way; duplicate
            // libraries do only with MERGE.
            merge = true;
        } else if is(opt, "noflush") {
            flush = false;
        } else if is(opt, "nosave") {
            save = false;
        } else {
            return Err(CmdError::err("DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options."));
        }
    }
    // Saving and flushing here would race a BGSAVE's rename.
    crate::snapshot::abort(ctx.srv);
    if save {
        if let Err(e) = save_rdb(ctx.srv) {
            tracing::warn!("Failed saving the DB: {e}");
            // Redis's shared.err: a bare "-ERR".
            return Err(CmdError::Coded("ERR".into()));
        }
    }
    if flush {
        ctx.srv.db.flush_all();
        // Emptied as by FLUSHALL: cached keys are all invalid (emptyData).
        crate::tracking::invalidate_all(ctx.srv);
        ctx.srv.scripting.flush_functions();
    }
    let limits = crate::rdb::object::EncodingLimits::from_config(&ctx.srv.config);
    let path = std::path::PathBuf::from(ctx.srv.config.get_str("dbfilename"));
    let now = ctx.srv.db.now_ms;
    let mut functions = Vec::new();
    let loaded = crate::rdb::file::load_file(&path, &mut ctx.srv.db, &mut functions, &limits, now)
        .map_err(|e| e.to_string())
        .and_then(|counts| ctx.srv.scripting.install_libraries(&functions, merge).map(|_| counts));
    match loaded {
        Ok(counts) => ctx.srv.rdb.last_load = counts,
        Err(e) => {
            tracing::warn!("Error loading the RDB file {}: {e}", path.display());
            return Err(CmdError::err("Error trying to load the RDB dump"));
        }
    }
    tracing::warn!("DB reloaded by DEBUG RELOAD");
    ctx.out.ok();
    Ok(())
}

fn hex(d: &[u8; 20]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// digest ^= SHA1(data) — order-independent accumulation (xorDigest).
fn xor_digest(digest: &mut [u8; 20], data: &[u8]) {
    let h = Sha1::digest(data);
    for (d, x) in digest.iter_mut().zip(h.iter()) {
        *d ^= x;
    }
}

/// digest = SHA1(digest ^ SHA1(data)) — order-dependent (mixDigest).
fn mix_digest(digest: &mut [u8; 20], data: &[u8]) {
    xor_digest(digest, data);
    let h = Sha1::digest(&digest[..]);
    digest.copy_from_slice(&h);
}

/// One key's value digest (xorObjectDigest), as Redis computes it so
/// DEBUG DIGEST-VALUE agrees across servers.
fn value_digest(digest: &mut [u8; 20], e: &Entry<'_>) {
    // Redis's object type numbers (OBJ_STRING … OBJ_HASH) come first.
    let pair_digest = |parts: &[&[u8]]| {
        let mut d = [0u8; 20];
        for p in parts {
            mix_digest(&mut d, p);
        }
        d
    };
    match e.value() {
        ValueRef::List(q) => {
            mix_digest(digest, &1u32.to_be_bytes());
            for element in q.iter() {
                mix_digest(digest, &element.to_bytes());
            }
        }
        ValueRef::Set(s) => {
            mix_digest(digest, &2u32.to_be_bytes());
            for m in s.iter() {
                xor_digest(digest, &m.to_bytes());
            }
        }
        ValueRef::ZSet(z) => {
            mix_digest(digest, &3u32.to_be_bytes());
            for (m, score) in z.iter() {
                let score = corvid_proto::resp::format_g(score, 17);
                xor_digest(digest, &pair_digest(&[&m.to_bytes(), score.as_bytes()]));
            }
        }
        ValueRef::Hash(h) => {
            mix_digest(digest, &4u32.to_be_bytes());
            for (f, v) in h.iter() {
                xor_digest(digest, &pair_digest(&[&f.to_bytes(), &v.to_bytes()]));
            }
        }
        ValueRef::Stream(s) => {
            mix_digest(digest, &6u32.to_be_bytes());
            for entry in s.range(crate::stream::StreamId::MIN, crate::stream::StreamId::MAX, false) {
                mix_digest(digest, format!("{}.{}", entry.id.ms, entry.id.seq).as_bytes());
                for (f, v) in entry.fields() {
                    mix_digest(digest, f);
                    mix_digest(digest, v);
                }
            }
        }
        string => {
            mix_digest(digest, &0u32.to_be_bytes());
            mix_digest(digest, &string.string_bytes().expect("a string"));
        }
    }
    if e.expire_at().is_some() {
        xor_digest(digest, b"!!expire!!");
    }
}

/// DEBUG DIGEST: all zeroes for an empty dataset (computeDatasetDigest).
fn dataset_digest(ctx: &Ctx<'_>) -> [u8; 20] {
    let mut fin = [0u8; 20];
    for (j, t) in ctx.srv.db.dbs.iter().enumerate() {
        if t.is_empty() {
            continue;
        }
        mix_digest(&mut fin, &(j as u32).to_be_bytes());
        for e in t.iter() {
            let mut d = [0u8; 20];
            mix_digest(&mut d, e.key());
            value_digest(&mut d, &e);
            xor_digest(&mut fin, &d);
        }
    }
    fin
}

/// MONITOR: from now on the client receives every command the server runs.
fn monitor(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    let c = ctx.client();
    if c.is_replica || c.is_monitor {
        return Ok(());
    }
    c.is_monitor = true;
    let id = ctx.client_id;
    ctx.srv.monitors.push(id);
    ctx.out.ok();
    Ok(())
}

/// Leave MONITOR mode (RESET, disconnection).
pub fn stop_monitoring(srv: &mut crate::server::Server, id: crate::client::ClientId) {
    srv.monitors.retain(|&m| m != id);
    if let Some(c) = srv.clients.map.get_mut(&id) {
        c.is_monitor = false;
    }
}

/// Show a command to the monitors (replicationFeedMonitors):
/// `+<secs>.<usecs> [<db> <addr>] "arg" "arg"...`.
pub fn feed_monitors(srv: &mut crate::server::Server, id: crate::client::ClientId, args: &Args<'_>) {
    let Some(c) = srv.clients.map.get(&id) else { return };
    let us = crate::clock::now_us();
    let from = if c.is_script { "lua".to_string() } else { c.addr_string() };
    let mut line = format!("+{}.{:06} [{} {}]", us / 1_000_000, us % 1_000_000, c.db, from);
    let secret = crate::redact::secret_args(args, crate::config::Config::is_sensitive);
    for (i, a) in args.iter().enumerate() {
        line.push(' ');
        if secret.contains(&i) {
            line.push_str("\"(redacted)\"");
        } else {
            line.push_str(&crate::config::syntax::repr(a));
        }
    }
    line.push_str("\r\n");
    for m in srv.monitors.clone() {
        if let Some(mc) = srv.clients.map.get_mut(&m) {
            mc.send(line.as_bytes());
        }
    }
}

pub fn register(r: &mut Registry) {
    r.add("monitor", monitor);
    r.add("config|get", config_get);
    r.add("config|set", config_set);
    r.add("config|resetstat", config_resetstat);
    r.add("config|rewrite", config_rewrite);
    r.add("config|help", config_help);
    r.add("time", time);
    r.add("lastsave", lastsave);
    r.add("save", save);
    r.add("bgsave", bgsave);
    r.add("shutdown", shutdown);
    r.add("debug", debug);
}
