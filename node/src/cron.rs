//! Periodic work, `hz` times a second (Redis's serverCron and
//! databasesCron): the active expiry cycle, idle-client timeouts and
//! incremental rehashing, each bounded so one tick stays short.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::server::{Server, Shared};

/// Keys sampled per database per loop of the expiry cycle
/// (ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP at active-expire-effort 1).
const KEYS_PER_LOOP: usize = 20;
/// A loop whose sample was more than this percent stale runs again.
const ACCEPTABLE_STALE: usize = 10;
/// How often the instantaneous INFO metrics are sampled (serverCron's run_with_period(100)).
const METRICS_PERIOD_MS: i64 = 100;
/// Percent of one tick the slow cycle may use (ACTIVE_EXPIRE_CYCLE_SLOW_TIME_PERC).
const SLOW_TIME_PERC: u64 = 25;

pub async fn run(shared: Arc<Shared>) {
    loop {
        let hz = shared.lock_async().await.config.get_i64("hz").clamp(1, 500) as u64;
        tokio::time::sleep(Duration::from_millis(1000 / hz)).await;
        let mut srv = shared.lock_async().await;
        if srv.cron_paused {
            continue;
        }
        // A signal's shutdown starts here, between commands, and one
        // waiting for replicas ends here.
        if crate::shutdown::cron(&mut srv, crate::clock::now_ms()) {
            shared.shutdown.notify_one();
            return;
        }
        if std::mem::take(&mut srv.wake_paused) {
            shared.unpaused.notify_waiters();
        }
        tick(&mut srv, hz);
        // What the tick expired or invalidated reaches BCAST clients now.
        crate::tracking::broadcast(&mut srv);
        crate::replica::connect_if_due(&shared, &mut srv);
        let now = crate::clock::now_ms();
        crate::replication::cron(&mut srv, now);
    }
}

fn tick(srv: &mut Server, hz: u64) {
    crate::alloc::note_peak();
    let now = crate::clock::now_ms();
    srv.db.now_ms = now;
    if let Some(p) = srv.pause {
        if p.until_ms <= now {
            srv.pause = None;
        }
    }
    if now - srv.metrics_sampled_ms >= METRICS_PERIOD_MS {
        srv.metrics_sampled_ms = now;
        let st = &mut srv.stats;
        st.inst_ops.track(now, st.total_commands_processed as i64);
        st.inst_input.track(now, st.net_input_bytes as i64);
        st.inst_output.track(now, st.net_output_bytes as i64);
    }
    close_idle_clients(srv, now);
    enforce_soft_output_limits(srv, now);
    crate::client_eviction::refresh(srv);
    // Also here, so a limit lowered by CONFIG SET applies on an idle server.
    if srv.tracking.clients > 0 {
        crate::tracking::limit_keys(srv);
    }
    // Nothing touches the keyspace while it loads.
    if srv.rdb.loading.is_some() {
        return;
    }
    crate::cmd::dump::close_idle_migrate_sockets(srv, now);
    // A replica's keys expire by its master's DELs (replicas do not run
    // activeExpireCycle).
    if srv.active_expire_enabled && srv.master.is_none() && srv.clients_paused(now) {
        // Nothing expires while clients are paused.
    } else if srv.active_expire_enabled && srv.master.is_none() {
        srv.db.expiry = crate::db::Expiry::Master;
        let budget = Duration::from_micros(1_000_000 * SLOW_TIME_PERC / 100 / hz);
        active_expire_cycle(srv, budget);
        crate::dispatch::after_expiry(srv);
    } else if srv.active_expire_enabled {
        srv.db.now_ms = now;
        srv.db.expire_replica_keys(Duration::from_millis(1));
    }
    // After expiry, so its deletions are written this tick.
    crate::cmd::aof::cron(srv);
    crate::snapshot::cron(srv);
    if srv.config.get_bool("activerehashing") {
        let started = Instant::now();
        for t in srv.db.dbs.iter_mut() {
            while t.rehash_step(100) {
                if started.elapsed() > Duration::from_millis(1) {
                    return;
                }
            }
        }
    }
}

fn close_idle_clients(srv: &mut Server, now: i64) {
    let timeout = srv.config.get_i64("timeout");
    if timeout <= 0 {
        return;
    }
    let idle: Vec<u64> = srv
        .clients
        .map
        .values()
        .filter(|c| !c.is_replica && (now - c.last_interaction_ms) / 1000 > timeout)
        .map(|c| c.id)
        .collect();
    for id in idle {
        tracing::debug!("Closing idle client");
        srv.clients.kill(id);
    }
}

/// A client over its soft output limit is closed once it stayed over for
/// the limit's seconds even if nothing more is sent to it (clientsCron's
/// checkClientOutputBufferLimits).
fn enforce_soft_output_limits(srv: &mut Server, now: i64) {
    let limits = srv.obuf_limits;
    for c in srv.clients.map.values_mut().filter(|c| c.obuf_soft_since_ms.is_some() && !c.killed) {
        crate::pubsub::check_output_limit(c, limits[c.output_class()], now);
        if c.killed {
            c.wake.notify_one();
        }
    }
}

/// Sample keys with an expiry and delete the expired ones, repeating on a
/// database while more than ACCEPTABLE_STALE percent of a sample was expired,
/// within `budget` (activeExpireCycle, slow mode).
pub fn active_expire_cycle(srv: &mut Server, budget: Duration) {
    let started = Instant::now();
    expire_sweep(srv, budget, started);
    let ms = started.elapsed().as_millis() as u64;
    srv.latency_events.sample_if_needed(srv.latency_monitor_threshold, "expire-cycle", ms);
}

fn expire_sweep(srv: &mut Server, budget: Duration, started: Instant) {
    let now = srv.db.now_ms;
    let mut sampled_total = 0usize;
    let mut expired_total = 0usize;
    let dbs = srv.db.dbs.len();
    for db in 0..dbs {
        loop {
            let volatile = srv.db.dbs[db].volatile_len();
            if volatile == 0 {
                break;
            }
            let n = volatile.min(KEYS_PER_LOOP);
            let mut expired = 0;
            for _ in 0..n {
                let key = {
                    let rng = &mut srv.db.rng;
                    match srv.db.dbs[db].random_volatile(rng) {
                        Some(e) if e.expire_at().is_some_and(|at| at <= now) => Some(e.key().to_vec()),
                        _ => None,
                    }
                };
                if let Some(k) = key {
                    srv.db.dbs[db].remove_lazily(&k, crate::lazyfree::lazy_expire());
                    srv.db.stats.expired += 1;
                    srv.db.dirty += 1;
                    expired += 1;
                    if let Some(log) = &mut srv.db.expired_log {
                        log.push((db, k));
                    }
                }
            }
            sampled_total += n;
            expired_total += expired;
            if started.elapsed() > budget {
                srv.db.stats.expired_time_cap_reached += 1;
                record_stale(srv, sampled_total, expired_total);
                return;
            }
            if expired * 100 / n <= ACCEPTABLE_STALE {
                break;
            }
        }
    }
    record_stale(srv, sampled_total, expired_total);
}

fn record_stale(srv: &mut Server, sampled: usize, expired: usize) {
    let current = if sampled > 0 { expired as f64 / sampled as f64 } else { 0.0 };
    srv.db.stats.expired_stale_perc = current * 0.05 + srv.db.stats.expired_stale_perc * 0.95;
}
