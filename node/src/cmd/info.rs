//! INFO: Redis 7.0's sections and field names, so monitoring tools and
//! Redis's test suite read Corvid like Redis.

use std::collections::BTreeSet;

use corvid_proto::resp::Args;

use crate::dispatch::{registry, Ctx, Registry};
use crate::errors::CmdResult;
use crate::server::Server;

/// The Redis version Corvid behaves as.
pub const REDIS_VERSION: &str = "7.0.15";

const DEFAULT_SECTIONS: &[&str] =
    &["server", "clients", "memory", "persistence", "stats", "replication", "cpu", "module_list", "errorstats", "cluster", "keyspace"];

/// INFO [section [section ...]]
fn info(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let mut sections: BTreeSet<String> = BTreeSet::new();
    let mut all = false;
    let mut everything = false;
    if args.len() == 1 {
        sections.extend(DEFAULT_SECTIONS.iter().map(|s| s.to_string()));
    }
    for a in args.iter().skip(1) {
        let s = String::from_utf8_lossy(a).to_ascii_lowercase();
        match s.as_str() {
            "default" => sections.extend(DEFAULT_SECTIONS.iter().map(|s| s.to_string())),
            "all" => all = true,
            "everything" => {
                all = true;
                everything = true;
            }
            _ => {
                sections.insert(s);
            }
        }
    }
    let text = render(ctx.srv, &sections, all, everything);
    ctx.out.verbatim("txt", text.as_bytes());
    Ok(())
}

/// Memory figures from the allocator and the kernel.
pub struct MemoryStats {
    pub allocated: usize,
    pub active: usize,
    pub resident: usize,
    pub rss: usize,
}

pub fn memory_stats() -> MemoryStats {
    use tikv_jemalloc_ctl::{epoch, stats};
    let _ = epoch::advance();
    let allocated = stats::allocated::read().unwrap_or(0);
    let active = stats::active::read().unwrap_or(0);
    let resident = stats::resident::read().unwrap_or(0);
    MemoryStats { allocated, active, resident, rss: process_rss() }
}

/// Where used memory goes besides the data (getMemoryOverheadData).
pub struct Overhead {
    pub total: usize,
    pub clients_normal: usize,
    pub clients_replicas: usize,
    pub replica_output: usize,
    pub aof_buffer: usize,
    /// Per database: (index, keys, hash table overhead).
    pub dbs: Vec<(usize, usize, usize)>,
}

pub fn overhead(srv: &Server) -> Overhead {
    let (mut clients_normal, mut clients_replicas, mut replica_output) = (0, 0, 0);
    // A killed client is gone for Redis already; its task lets go of it soon.
    for c in srv.clients.map.values().filter(|c| !c.killed) {
        if c.is_replica && !c.is_monitor {
            clients_replicas += c.memory_bytes();
            replica_output += c.output_bytes();
        } else {
            clients_normal += c.memory_bytes();
        }
    }
    let aof_buffer = srv.aof.buf.capacity();
    let dbs: Vec<(usize, usize, usize)> =
        srv.db.dbs.iter().enumerate().filter(|(_, t)| !t.is_empty()).map(|(i, t)| (i, t.len(), t.overhead_bytes())).collect();
    let tables: usize = srv.db.dbs.iter().map(|t| t.overhead_bytes()).sum();
    let scripts = srv.scripting.scripts_mem;
    let total = srv.startup_memory + clients_normal + clients_replicas + aof_buffer + tables + scripts;
    Overhead { total, clients_normal, clients_replicas, replica_output, aof_buffer, dbs }
}

/// Resident set size from /proc/self/statm.
pub fn process_rss() -> usize {
    let page = 4096;
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|v| v.parse::<usize>().ok()))
        .map(|pages| pages * page)
        .unwrap_or(0)
}

/// bytesToHuman: "1.50M" style.
pub fn human_bytes(n: u64) -> String {
    let n = n as f64;
    if n < 1024.0 {
        format!("{}B", n as u64)
    } else if n < 1024.0 * 1024.0 {
        format!("{:.2}K", n / 1024.0)
    } else if n < 1024.0 * 1024.0 * 1024.0 {
        format!("{:.2}M", n / (1024.0 * 1024.0))
    } else if n < 1024.0 * 1024.0 * 1024.0 * 1024.0 {
        format!("{:.2}G", n / (1024.0 * 1024.0 * 1024.0))
    } else {
        format!("{:.2}T", n / (1024.0 * 1024.0 * 1024.0 * 1024.0))
    }
}

fn cpu_times() -> (f64, f64, f64, f64) {
    fn tv(t: libc::timeval) -> f64 {
        t.tv_sec as f64 + t.tv_usec as f64 / 1e6
    }
    // SAFETY: getrusage only writes into the zeroed struct we hand it.
    unsafe {
        let mut me: libc::rusage = std::mem::zeroed();
        let mut ch: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut me);
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut ch);
        (tv(me.ru_stime), tv(me.ru_utime), tv(ch.ru_stime), tv(ch.ru_utime))
    }
}

fn total_system_memory() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("MemTotal:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map(|kb| kb * 1024)
        .unwrap_or(0)
}

/// The INFO text for the chosen sections (genRedisInfoString).
pub fn render(srv: &Server, sections: &BTreeSet<String>, all: bool, _everything: bool) -> String {
    use std::fmt::Write;
    let want = |name: &str| all || sections.contains(name);
    let mut s = String::new();
    let section = |s: &mut String, title: &str| {
        if !s.is_empty() {
            s.push_str("\r\n");
        }
        let _ = write!(s, "# {title}\r\n");
    };
    let now_ms = crate::clock::now_ms();
    let uptime = srv.uptime_secs();
    if want("server") {
        section(&mut s, "Server");
        let hz = srv.config.get_i64("hz");
        let _ = write!(
            s,
            "redis_version:{REDIS_VERSION}\r\nredis_git_sha1:00000000\r\nredis_git_dirty:0\r\nredis_build_id:corvid{ver}\r\nredis_mode:standalone\r\nos:{os} {arch}\r\narch_bits:64\r\nmonotonic_clock:POSIX clock_gettime\r\nmultiplexing_api:epoll\r\natomicvar_api:c11-builtin\r\ngcc_version:0.0.0\r\nprocess_id:{pid}\r\nprocess_supervised:no\r\nrun_id:{run_id}\r\ntcp_port:{port}\r\nserver_time_usec:{us}\r\nuptime_in_seconds:{uptime}\r\nuptime_in_days:{days}\r\nhz:{hz}\r\nconfigured_hz:{hz}\r\nlru_clock:{lru}\r\nexecutable:{exe}\r\nconfig_file:{cfg}\r\nio_threads_active:0\r\ncorvid_version:{ver}\r\n",
            ver = env!("CARGO_PKG_VERSION"),
            os = std::env::consts::OS,
            arch = std::env::consts::ARCH,
            pid = srv.pid,
            run_id = srv.run_id,
            port = srv.tcp_port,
            us = crate::clock::now_us(),
            days = uptime / 86400,
            lru = crate::access::redis_lru_clock(now_ms),
            exe = srv.executable,
            cfg = srv.config_file.clone().unwrap_or_default(),
        );
        if let Some(ms) = crate::shutdown::remaining_ms(srv, now_ms) {
            let _ = write!(s, "shutdown_in_milliseconds:{ms}\r\n");
        }
    }
    if want("clients") {
        section(&mut s, "Clients");
        let max_in = srv.clients.map.values().map(|c| c.qbuf).max().unwrap_or(0);
        let max_out = srv.clients.map.values().map(|c| c.obl).max().unwrap_or(0);
        let blocked = srv.blocking.count + srv.clients.postponed;
        let _ = write!(
            s,
            "connected_clients:{}\r\ncluster_connections:0\r\nmaxclients:{}\r\nclient_recent_max_input_buffer:{max_in}\r\nclient_recent_max_output_buffer:{max_out}\r\nblocked_clients:{blocked}\r\ntracking_clients:{}\r\nclients_in_timeout_table:0\r\n",
            // Replicas are not counted (listLength(server.slaves) is taken off).
            srv.clients.len() - srv.replicas.ids.len(),
            srv.config.get_i64("maxclients"),
            srv.tracking.clients,
        );
    }
    if want("memory") {
        section(&mut s, "Memory");
        let m = memory_stats();
        let used = crate::alloc::used_memory();
        let peak = crate::alloc::peak_memory();
        let o = overhead(srv);
        let maxmemory = srv.config.get_i64("maxmemory") as u64;
        let sysmem = total_system_memory();
        let frag = if used > 0 { m.rss as f64 / used as f64 } else { 0.0 };
        let (lua_mem, fvm_mem) = (srv.scripting.vm.memory(), srv.scripting.fvm.memory());
        let _ = write!(
            s,
            "used_memory:{used}\r\nused_memory_human:{used_h}\r\nused_memory_rss:{rss}\r\nused_memory_rss_human:{rss_h}\r\nused_memory_peak:{peak}\r\nused_memory_peak_human:{peak_h}\r\nused_memory_peak_perc:{peak_perc:.2}%\r\nused_memory_overhead:{overhead}\r\nused_memory_startup:{startup}\r\nused_memory_dataset:{dataset}\r\nused_memory_dataset_perc:{dataset_perc:.2}%\r\nallocator_allocated:{allocated}\r\nallocator_active:{active}\r\nallocator_resident:{resident}\r\ntotal_system_memory:{sysmem}\r\ntotal_system_memory_human:{sysmem_h}\r\nused_memory_lua:{lua}\r\nused_memory_vm_eval:{lua}\r\nused_memory_lua_human:{lua_h}\r\nused_memory_scripts_eval:{scripts_mem}\r\nnumber_of_cached_scripts:{nscripts}\r\nnumber_of_functions:{nfuncs}\r\nnumber_of_libraries:{nlibs}\r\nused_memory_vm_functions:{fvm}\r\nused_memory_vm_total:{vm_total}\r\nused_memory_vm_total_human:{vm_total_h}\r\nused_memory_functions:0\r\nused_memory_scripts:{scripts_mem}\r\nused_memory_scripts_human:{scripts_mem_h}\r\nmaxmemory:{maxmemory}\r\nmaxmemory_human:{maxmemory_h}\r\nmaxmemory_policy:{policy}\r\nallocator_frag_ratio:{afr:.2}\r\nallocator_frag_bytes:{afb}\r\nallocator_rss_ratio:{arr:.2}\r\nallocator_rss_bytes:{arb}\r\nrss_overhead_ratio:1.00\r\nrss_overhead_bytes:0\r\nmem_fragmentation_ratio:{frag:.2}\r\nmem_fragmentation_bytes:{fragb}\r\nmem_not_counted_for_evict:{not_counted}\r\nmem_replication_backlog:0\r\nmem_total_replication_buffers:{replica_out}\r\nmem_clients_slaves:{clients_replicas}\r\nmem_clients_normal:{clients_normal}\r\nmem_cluster_links:0\r\nmem_aof_buffer:{aof_buf}\r\nmem_allocator:jemalloc-5.3.0\r\nactive_defrag_running:0\r\nlazyfree_pending_objects:{lazy_pending}\r\nlazyfreed_objects:{lazy_freed}\r\n",
            used = used,
            used_h = human_bytes(used as u64),
            peak = peak,
            peak_h = human_bytes(peak as u64),
            peak_perc = used as f64 * 100.0 / peak.max(1) as f64,
            allocated = m.allocated,
            rss = m.rss,
            rss_h = human_bytes(m.rss as u64),
            active = m.active,
            resident = m.resident,
            sysmem_h = human_bytes(sysmem),
            maxmemory_h = human_bytes(maxmemory),
            policy = srv.config.get_str("maxmemory-policy"),
            afr = if m.allocated > 0 { m.active as f64 / m.allocated as f64 } else { 0.0 },
            afb = m.active.saturating_sub(m.allocated),
            arr = if m.active > 0 { m.resident as f64 / m.active as f64 } else { 0.0 },
            arb = m.resident.saturating_sub(m.active),
            fragb = m.rss as i64 - used as i64,
            lua = lua_mem,
            lua_h = human_bytes(lua_mem as u64),
            scripts_mem = srv.scripting.scripts_mem,
            scripts_mem_h = human_bytes(srv.scripting.scripts_mem as u64),
            nscripts = srv.scripting.scripts.len(),
            nfuncs = srv.scripting.libraries.function_count(),
            nlibs = srv.scripting.libraries.libs.len(),
            fvm = fvm_mem,
            vm_total = lua_mem + fvm_mem,
            vm_total_h = human_bytes((lua_mem + fvm_mem) as u64),
            overhead = o.total,
            startup = srv.startup_memory,
            dataset = used.saturating_sub(o.total),
            dataset_perc = used.saturating_sub(o.total) as f64 * 100.0 / used.saturating_sub(srv.startup_memory).max(1) as f64,
            not_counted = crate::evict::not_counted(srv),
            replica_out = o.replica_output,
            clients_replicas = o.clients_replicas,
            clients_normal = o.clients_normal,
            aof_buf = o.aof_buffer,
            lazy_pending = crate::lazyfree::pending(),
            lazy_freed = crate::lazyfree::freed(),
        );
    }
    if want("persistence") {
        section(&mut s, "Persistence");
        let job = srv.rdb.job.as_ref();
        let _ = write!(
            s,
            "loading:{}\r\nasync_loading:0\r\ncurrent_cow_peak:0\r\ncurrent_cow_size:0\r\ncurrent_cow_size_age:0\r\ncurrent_fork_perc:{:.2}\r\ncurrent_save_keys_processed:{}\r\ncurrent_save_keys_total:{}\r\nrdb_changes_since_last_save:{}\r\nrdb_bgsave_in_progress:{}\r\nrdb_last_save_time:{}\r\nrdb_last_bgsave_status:{}\r\nrdb_last_bgsave_time_sec:{}\r\nrdb_current_bgsave_time_sec:{}\r\nrdb_saves:{}\r\nrdb_last_cow_size:0\r\nrdb_last_load_keys_expired:{}\r\nrdb_last_load_keys_loaded:{}\r\naof_enabled:{}\r\naof_rewrite_in_progress:{}\r\naof_rewrite_scheduled:{}\r\naof_last_rewrite_time_sec:{}\r\naof_current_rewrite_time_sec:{}\r\naof_last_bgrewrite_status:{}\r\naof_rewrites:{}\r\naof_rewrites_consecutive_failures:{}\r\naof_last_write_status:{}\r\naof_last_cow_size:0\r\nmodule_fork_in_progress:0\r\nmodule_fork_last_cow_size:0\r\n",
            srv.rdb.loading.is_some() as u8,
            job.map_or(0.0, |b| b.percent()),
            job.map_or(0, |b| b.keys_saved()),
            job.map_or(0, |b| b.keys_total),
            srv.db.dirty,
            srv.rdb.bgsave().is_some() as u8,
            srv.last_save_secs,
            if srv.rdb.last_bgsave_ok { "ok" } else { "err" },
            srv.rdb.last_bgsave_secs,
            srv.rdb.bgsave().map_or(-1, |b| b.elapsed_secs()),
            srv.rdb.saves,
            srv.rdb.last_load.expired,
            srv.rdb.last_load.loaded,
            srv.aof.on as u8,
            srv.rdb.aof_rewrite().is_some() as u8,
            srv.aof.rewrite_scheduled as u8,
            srv.aof.last_rewrite_secs,
            srv.rdb.aof_rewrite().map_or(-1, |j| j.elapsed_secs()),
            if srv.aof.last_rewrite_ok { "ok" } else { "err" },
            srv.aof.rewrites,
            srv.aof.rewrite_failures,
            if srv.aof.write_error.is_none() { "ok" } else { "err" },
        );
        if srv.aof.on {
            let a = &srv.aof;
            let _ = write!(
                s,
                "aof_current_size:{}\r\naof_base_size:{}\r\naof_pending_rewrite:{}\r\naof_buffer_length:{}\r\naof_pending_bio_fsync:{}\r\naof_delayed_fsync:0\r\n",
                a.current_size,
                a.base_size,
                a.rewrite_scheduled as u8,
                a.buf.len(),
                a.pending_fsyncs()
            );
        }
        if let Some(p) = &srv.rdb.loading {
            let _ = write!(
                s,
                "loading_start_time:{}\r\nloading_total_bytes:{}\r\nloading_loaded_bytes:{}\r\nloading_loaded_perc:{:.2}\r\nloading_eta_seconds:{}\r\n",
                p.start_secs,
                p.total_bytes,
                p.loaded_bytes,
                p.percent(),
                p.eta_secs()
            );
        }
    }
    if want("stats") {
        section(&mut s, "Stats");
        let st = &srv.stats;
        let ks = &srv.db.stats;
        let _ = write!(
            s,
            "total_connections_received:{}\r\ntotal_commands_processed:{}\r\ninstantaneous_ops_per_sec:{}\r\ntotal_net_input_bytes:{}\r\ntotal_net_output_bytes:{}\r\ntotal_net_repl_input_bytes:0\r\ntotal_net_repl_output_bytes:0\r\ninstantaneous_input_kbps:{:.2}\r\ninstantaneous_output_kbps:{:.2}\r\ninstantaneous_input_repl_kbps:0.00\r\ninstantaneous_output_repl_kbps:0.00\r\nrejected_connections:{}\r\nsync_full:{}\r\nsync_partial_ok:{}\r\nsync_partial_err:{}\r\nexpired_keys:{}\r\nexpired_stale_perc:{:.2}\r\nexpired_time_cap_reached_count:{}\r\nexpire_cycle_cpu_milliseconds:{}\r\nevicted_keys:{}\r\nevicted_clients:{}\r\ntotal_eviction_exceeded_time:{}\r\ncurrent_eviction_exceeded_time:{}\r\nkeyspace_hits:{}\r\nkeyspace_misses:{}\r\npubsub_channels:{}\r\npubsub_patterns:{}\r\npubsubshard_channels:{}\r\nlatest_fork_usec:0\r\ntotal_forks:{}\r\nmigrate_cached_sockets:{}\r\nslave_expires_tracked_keys:0\r\nactive_defrag_hits:0\r\nactive_defrag_misses:0\r\nactive_defrag_key_hits:0\r\nactive_defrag_key_misses:0\r\ntotal_active_defrag_time:0\r\ncurrent_active_defrag_time:0\r\ntracking_total_keys:{}\r\ntracking_total_items:{}\r\ntracking_total_prefixes:{}\r\nunexpected_error_replies:{}\r\ntotal_error_replies:{}\r\ndump_payload_sanitizations:0\r\ntotal_reads_processed:{}\r\ntotal_writes_processed:{}\r\nio_threaded_reads_processed:0\r\nio_threaded_writes_processed:0\r\nreply_buffer_shrinks:0\r\nreply_buffer_expands:0\r\n",
            st.total_connections_received,
            st.total_commands_processed,
            st.inst_ops.per_sec(),
            st.net_input_bytes,
            st.net_output_bytes,
            st.inst_input.per_sec() as f64 / 1024.0,
            st.inst_output.per_sec() as f64 / 1024.0,
            st.rejected_connections,
            st.sync_full,
            st.sync_partial_ok,
            st.sync_partial_err,
            ks.expired,
            ks.expired_stale_perc * 100.0,
            ks.expired_time_cap_reached,
            ks.expire_cycle_cpu_ms,
            srv.eviction.evicted_keys,
            st.evicted_clients,
            srv.eviction.total_exceeded_ms(),
            srv.eviction.exceeded_now_ms(),
            ks.hits,
            ks.misses,
            srv.pubsub.count(crate::pubsub::Kind::Channel),
            srv.pubsub.count(crate::pubsub::Kind::Pattern),
            srv.pubsub.count(crate::pubsub::Kind::Shard),
            srv.rdb.jobs_started,
            srv.migrate_sockets.len(),
            srv.tracking.total_keys(),
            srv.tracking.total_items(),
            srv.tracking.total_prefixes(),
            st.unexpected_error_replies,
            st.total_error_replies,
            st.total_reads_processed,
            st.total_writes_processed,
        );
    }
    if want("replication") {
        section(&mut s, "Replication");
        match &srv.master {
            None => s.push_str("role:master\r\n"),
            Some(m) => {
                let now = crate::clock::now_ms();
                let _ = write!(
                    s,
                    "role:slave\r\nmaster_host:{}\r\nmaster_port:{}\r\nmaster_link_status:{}\r\nmaster_last_io_seconds_ago:{}\r\nmaster_sync_in_progress:{}\r\nslave_read_repl_offset:{}\r\nslave_repl_offset:{}\r\n",
                    m.host,
                    m.port,
                    if m.link_up() { "up" } else { "down" },
                    if m.link_up() { (now - m.last_io_ms) / 1000 } else { -1 },
                    (m.state == crate::replica::LinkState::Transfer) as u8,
                    m.offset + m.unapplied,
                    m.offset,
                );
                if !m.link_up() {
                    let _ = write!(s, "master_link_down_since_seconds:{}\r\n", (now - m.down_since_ms) / 1000);
                }
                let _ = write!(
                    s,
                    "slave_priority:{}\r\nslave_read_only:{}\r\nreplica_announced:{}\r\n",
                    srv.config.get_i64("replica-priority"),
                    srv.config.get_bool("replica-read-only") as u8,
                    srv.config.get_bool("replica-announced") as u8
                );
            }
        }
        let _ = write!(s, "connected_slaves:{}\r\n", srv.replicas.ids.len());
        for (i, id) in srv.replicas.ids.iter().enumerate() {
            if let Some(c) = srv.clients.map.get(id) {
                let lag = (srv.db.now_ms - c.repl_ack_time_ms).max(0) / 1000;
                let _ = write!(
                    s,
                    "slave{i}:ip={},port={},state={},offset={},lag={lag}\r\n",
                    c.replica_ip(),
                    c.repl_listening_port,
                    c.repl_state.name(),
                    c.repl_ack_offset
                );
            }
        }
        let backlog = srv.replicas.backlog.as_ref();
        let _ = write!(
            s,
            "master_failover_state:{}\r\nmaster_replid:{}\r\nmaster_replid2:{}\r\nmaster_repl_offset:{}\r\nsecond_repl_offset:{}\r\nrepl_backlog_active:{}\r\nrepl_backlog_size:{}\r\nrepl_backlog_first_byte_offset:{}\r\nrepl_backlog_histlen:{}\r\n",
            crate::failover::state_name(srv),
            srv.replid,
            srv.replid2,
            // A replica's offset is that of the stream it applies.
            srv.master.as_ref().map_or(srv.replicas.offset as i64, |m| m.offset),
            srv.replicas.second_offset.map_or(-1, |o| o as i64),
            backlog.is_some() as u8,
            srv.config.get_i64("repl-backlog-size"),
            backlog.map_or(0, |b| b.first_byte_offset()),
            backlog.map_or(0, |b| b.histlen()),
        );
    }
    if want("cpu") {
        section(&mut s, "CPU");
        let (sys, user, csys, cuser) = cpu_times();
        let _ = write!(
            s,
            "used_cpu_sys:{sys:.6}\r\nused_cpu_user:{user:.6}\r\nused_cpu_sys_children:{csys:.6}\r\nused_cpu_user_children:{cuser:.6}\r\n"
        );
    }
    if want("module_list") || want("modules") {
        section(&mut s, "Modules");
    }
    if want("commandstats") {
        section(&mut s, "Commandstats");
        commandstats(&mut s, srv, registry());
    }
    if want("errorstats") {
        section(&mut s, "Errorstats");
        let mut errs: Vec<_> = srv.stats.errors.iter().collect();
        errs.sort();
        for (code, n) in errs {
            let _ = write!(s, "errorstat_{code}:count={n}\r\n");
        }
    }
    if want("latencystats") {
        section(&mut s, "Latencystats");
        if srv.latency_tracking {
            latencystats(&mut s, srv, registry());
        }
    }
    if want("cluster") {
        section(&mut s, "Cluster");
        s.push_str("cluster_enabled:0\r\n");
    }
    if want("keyspace") {
        section(&mut s, "Keyspace");
        for (i, t) in srv.db.dbs.iter().enumerate() {
            if !t.is_empty() {
                let _ = write!(s, "db{i}:keys={},expires={},avg_ttl=0\r\n", t.len(), t.volatile_len());
            }
        }
    }
    s
}

fn commandstats(s: &mut String, srv: &Server, reg: &Registry) {
    use std::fmt::Write;
    let mut rows: Vec<(&str, usize)> = reg.defs.iter().map(|d| (d.spec.full_name, d.id)).collect();
    rows.sort();
    for (name, id) in rows {
        let Some(st) = srv.cmd_stats.get(id) else { continue };
        if st.calls == 0 && st.failed_calls == 0 && st.rejected_calls == 0 {
            continue;
        }
        let per = if st.calls == 0 { 0.0 } else { st.usec as f64 / st.calls as f64 };
        let _ = write!(
            s,
            "cmdstat_{}:calls={},usec={},usec_per_call={:.2},rejected_calls={},failed_calls={}\r\n",
            name, st.calls, st.usec, per, st.rejected_calls, st.failed_calls
        );
    }
}

/// One line per command timed since the last CONFIG RESETSTAT, with the
/// `latency-tracking-info-percentiles` (genRedisInfoStringLatencyStats).
fn latencystats(s: &mut String, srv: &Server, reg: &Registry) {
    let percentiles = srv.config.latency_tracking_info_percentiles();
    let mut rows: Vec<(&str, usize)> = reg.defs.iter().map(|d| (d.spec.full_name, d.id)).collect();
    rows.sort();
    for (name, id) in rows {
        if let Some(h) = srv.cmd_latency.get(id) {
            crate::latency_histogram::write_percentiles(s, name, h, &percentiles);
        }
    }
}

pub fn register(r: &mut Registry) {
    r.add("info", info);
}
