//! The latency monitor (`latency-monitor-threshold`, LATENCY LATEST,
//! HISTORY, GRAPH, DOCTOR, RESET): for each event class ("command",
//! "fast-command", "expire-cycle", "eviction-cycle", ...) a ring of the
//! last 160 seconds that saw a spike at or above the threshold, one sample
//! per second (the worst), and the worst spike ever, as Redis's latency.c
//! keeps them. Events are created on their first spike, so the map holds
//! only the classes that have been slow.
//!
//! # Layout
//! - [`LatencyMonitor`]: the time series and their statistics;
//! - [`LatencyMonitor::graph`]: LATENCY GRAPH's sparkline;
//! - [`report`]: LATENCY DOCTOR's text.

/// Samples kept per event (LATENCY_TS_LEN).
const HISTORY_LEN: usize = 160;

#[derive(Clone, Copy, Default)]
struct Sample {
    /// Unix seconds; 0 for a slot never written.
    time: i64,
    /// Milliseconds.
    latency: u64,
}

struct TimeSeries {
    /// Where the next sample goes.
    idx: usize,
    /// The worst latency since the event was created.
    max: u64,
    samples: [Sample; HISTORY_LEN],
}

impl TimeSeries {
    fn new() -> Self {
        TimeSeries { idx: 0, max: 0, samples: [Sample::default(); HISTORY_LEN] }
    }

    /// The samples written, oldest first.
    fn in_order(&self) -> impl Iterator<Item = &Sample> {
        (0..HISTORY_LEN).map(move |j| &self.samples[(self.idx + j) % HISTORY_LEN]).filter(|s| s.time != 0)
    }

    fn last(&self) -> &Sample {
        &self.samples[(self.idx + HISTORY_LEN - 1) % HISTORY_LEN]
    }
}

/// What DOCTOR says of one event (latencyStats).
pub struct EventStats {
    pub samples: u64,
    pub avg: u64,
    /// Mean absolute deviation from `avg`.
    pub mad: u64,
    pub min: u64,
    pub max: u64,
    /// Seconds from the oldest sample to now (at least 1).
    pub period: i64,
}

/// Every event class that has had a spike, in the order they first did.
#[derive(Default)]
pub struct LatencyMonitor {
    events: Vec<(String, TimeSeries)>,
}

impl LatencyMonitor {
    /// Record a spike of `ms` for `event` if the threshold asks for it
    /// (latencyAddSampleIfNeeded); `threshold_ms` 0 turns the monitor off.
    #[inline]
    pub fn sample_if_needed(&mut self, threshold_ms: u64, event: &str, ms: u64) {
        if threshold_ms != 0 && ms >= threshold_ms {
            self.add(event, ms, crate::clock::now_ms() / 1000);
        }
    }

    /// latencyAddSample: a second already sampled keeps its worst value.
    fn add(&mut self, event: &str, ms: u64, now: i64) {
        let ts = match self.events.iter().position(|(e, _)| e == event) {
            Some(i) => &mut self.events[i].1,
            None => {
                self.events.push((event.to_string(), TimeSeries::new()));
                &mut self.events.last_mut().expect("just pushed").1
            }
        };
        ts.max = ts.max.max(ms);
        let prev = (ts.idx + HISTORY_LEN - 1) % HISTORY_LEN;
        if ts.samples[prev].time == now {
            ts.samples[prev].latency = ts.samples[prev].latency.max(ms);
            return;
        }
        ts.samples[ts.idx] = Sample { time: now, latency: ms };
        ts.idx = (ts.idx + 1) % HISTORY_LEN;
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// LATENCY RESET: drop `event` (any case), or every event for None;
    /// returns how many were dropped.
    pub fn reset(&mut self, event: Option<&[u8]>) -> usize {
        let before = self.events.len();
        self.events.retain(|(e, _)| event.is_some_and(|want| !e.as_bytes().eq_ignore_ascii_case(want)));
        before - self.events.len()
    }

    fn find(&self, event: &[u8]) -> Option<&(String, TimeSeries)> {
        self.events.iter().find(|(e, _)| e.as_bytes() == event)
    }

    /// LATENCY HISTORY: (time, latency) pairs, oldest first.
    pub fn history(&self, event: &[u8]) -> Vec<(i64, u64)> {
        self.find(event).map(|(_, ts)| ts.in_order().map(|s| (s.time, s.latency)).collect()).unwrap_or_default()
    }

    /// LATENCY LATEST: (event, time, latency, all-time max) per event.
    pub fn latest(&self) -> impl Iterator<Item = (&str, i64, u64, u64)> {
        self.events.iter().map(|(e, ts)| (e.as_str(), ts.last().time, ts.last().latency, ts.max))
    }

    /// analyzeLatencyForEvent.
    pub fn stats(&self, ts_name: &str) -> Option<EventStats> {
        let (_, ts) = self.find(ts_name.as_bytes())?;
        let written: Vec<&Sample> = ts.samples.iter().filter(|s| s.time != 0).collect();
        let mut st = EventStats { samples: written.len() as u64, avg: 0, mad: 0, min: 0, max: 0, period: 0 };
        if written.is_empty() {
            return Some(st);
        }
        st.min = written.iter().map(|s| s.latency).min().unwrap_or(0);
        st.max = written.iter().map(|s| s.latency).max().unwrap_or(0);
        st.avg = written.iter().map(|s| s.latency).sum::<u64>() / st.samples;
        let oldest = written.iter().map(|s| s.time).min().unwrap_or(0);
        st.period = (crate::clock::now_ms() / 1000 - oldest).max(1);
        st.mad = written.iter().map(|s| (st.avg as i64 - s.latency as i64).unsigned_abs()).sum::<u64>() / st.samples;
        Some(st)
    }

    /// LATENCY GRAPH (latencyCommandGenSparkeline): a header, a rule and
    /// a four-row sparkline of the samples, each labelled with how long ago
    /// it was; None when the event has no samples.
    pub fn graph(&self, event: &[u8]) -> Option<String> {
        let (name, ts) = self.find(event)?;
        let now = crate::clock::now_ms() / 1000;
        let mut seq = Sparkline::default();
        for s in ts.in_order() {
            let elapsed = now - s.time;
            let label = match elapsed {
                e if e < 60 => format!("{e}s"),
                e if e < 3600 => format!("{}m", e / 60),
                e if e < 86400 => format!("{}h", e / 3600),
                e => format!("{}d", e / 86400),
            };
            seq.add(s.latency as f64, label);
        }
        let (lo, hi) = ts.in_order().fold(None, |acc: Option<(u64, u64)>, s| {
            Some(acc.map_or((s.latency, s.latency), |(lo, hi)| (lo.min(s.latency), hi.max(s.latency))))
        })?;
        let mut out = format!("{name} - high {hi} ms, low {lo} ms (all time high {} ms)\n", ts.max);
        out.push_str(&"-".repeat(GRAPH_COLUMNS));
        out.push('\n');
        seq.render(&mut out, GRAPH_COLUMNS, 4);
        Some(out)
    }

    /// The event names, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.events.iter().map(|(e, _)| e.as_str())
    }

    /// The all-time worst spike of `event`.
    pub fn max_of(&self, event: &str) -> u64 {
        self.find(event.as_bytes()).map_or(0, |(_, ts)| ts.max)
    }
}

const GRAPH_COLUMNS: usize = 80;

/// A sequence drawn as a filled sparkline (Redis's sparkline.c with
/// SPARKLINE_FILL): `rows` rows of three levels each, then the labels
/// written vertically under their columns.
#[derive(Default)]
struct Sparkline {
    samples: Vec<(f64, String)>,
    min: f64,
    max: f64,
}

/// The fill characters, lowest level first.
const FILL: &[u8; 3] = b"_o#";

impl Sparkline {
    fn add(&mut self, value: f64, label: String) {
        if self.samples.is_empty() {
            self.min = value;
            self.max = value;
        } else if value < self.min {
            self.min = value;
        } else if value > self.max {
            self.max = value;
        }
        self.samples.push((value, label));
    }

    /// sparklineRender: the sequence in chunks of `columns`.
    fn render(&self, out: &mut String, columns: usize, rows: usize) {
        for (i, chunk) in self.samples.chunks(columns).enumerate() {
            if i != 0 {
                out.push('\n');
            }
            self.render_range(out, chunk, rows);
        }
    }

    fn render_range(&self, out: &mut String, chunk: &[(f64, String)], rows: usize) {
        let relmax = if self.max - self.min == 0.0 { 1.0 } else { self.max - self.min };
        let steps = (FILL.len() * rows) as i64;
        let has_labels = chunk.iter().any(|(_, l)| !l.is_empty()) || self.samples.iter().any(|(_, l)| !l.is_empty());
        let mut row = 0usize;
        loop {
            let mut more = false;
            let mut line = vec![b' '; chunk.len()];
            for (j, (value, label)) in chunk.iter().enumerate() {
                let step = (((value - self.min) * steps as f64) / relmax) as i64;
                let step = step.clamp(0, steps - 1);
                if row < rows {
                    more = true;
                    let idx = step - ((rows - row - 1) * FILL.len()) as i64;
                    if (0..FILL.len() as i64).contains(&idx) {
                        line[j] = FILL[idx as usize];
                    } else if idx >= FILL.len() as i64 {
                        line[j] = b'|';
                    }
                } else {
                    // One blank row between the graph and its labels.
                    if has_labels && row - rows < 1 {
                        more = true;
                        break;
                    }
                    let at = row - rows - 1;
                    if let Some(&c) = label.as_bytes().get(at) {
                        more = true;
                        line[j] = c;
                    }
                }
            }
            if !more {
                break;
            }
            row += 1;
            out.push_str(&String::from_utf8_lossy(&line));
            out.push('\n');
        }
    }
}

/// What LATENCY DOCTOR needs beyond the samples.
pub struct ReportContext {
    pub threshold_ms: u64,
    pub slowlog_slower_than_us: i64,
    pub hz: i64,
    pub fsync_always: bool,
    /// AnonHugePages of the process, in bytes.
    pub anon_huge_pages: u64,
}

/// LATENCY DOCTOR (createLatencyReport): each event's statistics, then
/// the advice they call for, in Redis's words.
pub fn report(mon: &LatencyMonitor, ctx: &ReportContext) -> String {
    if mon.is_empty() && ctx.threshold_ms == 0 {
        return "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n".to_string();
    }
    #[derive(Default)]
    struct Advice {
        slowlog_enabled: bool,
        slowlog_tuning: bool,
        slowlog_inspect: bool,
        disk_contention: bool,
        scheduler: bool,
        data_writeback: bool,
        no_appendfsync: bool,
        local_disk: bool,
        ssd: bool,
        write_load_info: bool,
        hz: bool,
        large_objects: bool,
        mass_eviction: bool,
        relax_fsync_policy: bool,
        disable_thp: bool,
    }
    let mut a = Advice::default();
    let mut advices = 0;
    let mut out = String::new();
    let mut eventnum = 0;
    for event in mon.names() {
        let Some(st) = mon.stats(event) else { continue };
        eventnum += 1;
        if eventnum == 1 {
            out.push_str("Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n");
        }
        out.push_str(&format!(
            "{eventnum}. {event}: {} latency spikes (average {}ms, mean deviation {}ms, period {:.2} sec). Worst all time event {}ms.",
            st.samples,
            st.avg,
            st.mad,
            st.period as f64 / st.samples.max(1) as f64,
            mon.max_of(event)
        ));
        match event {
            "command" => {
                if ctx.slowlog_slower_than_us < 0 {
                    a.slowlog_enabled = true;
                    advices += 1;
                } else if (ctx.slowlog_slower_than_us / 1000) as u64 > ctx.threshold_ms {
                    a.slowlog_tuning = true;
                    advices += 1;
                }
                a.slowlog_inspect = true;
                a.large_objects = true;
                advices += 2;
            }
            "fast-command" => {
                a.scheduler = true;
                advices += 1;
            }
            "aof-write-pending-fsync" => {
                (a.local_disk, a.disk_contention, a.ssd, a.data_writeback) = (true, true, true, true);
                advices += 4;
            }
            "aof-write-active-child" => {
                (a.no_appendfsync, a.data_writeback, a.ssd) = (true, true, true);
                advices += 3;
            }
            "aof-write-alone" => {
                (a.local_disk, a.data_writeback, a.ssd) = (true, true, true);
                advices += 3;
            }
            "aof-fsync-always" => {
                a.relax_fsync_policy = true;
                advices += 1;
            }
            "aof-fstat" | "rdb-unlink-temp-file" => {
                (a.disk_contention, a.local_disk) = (true, true);
                advices += 2;
            }
            "aof-rewrite-diff-write" | "aof-rename" => {
                (a.write_load_info, a.data_writeback, a.ssd, a.local_disk) = (true, true, true, true);
                advices += 4;
            }
            "expire-cycle" => {
                (a.hz, a.large_objects) = (true, true);
                advices += 2;
            }
            "eviction-del" => {
                a.large_objects = true;
                advices += 1;
            }
            "eviction-cycle" => {
                a.mass_eviction = true;
                advices += 1;
            }
            _ => {}
        }
        out.push('\n');
    }
    if ctx.anon_huge_pages > 0 {
        a.disable_thp = true;
        advices += 1;
    }
    if eventnum == 0 && advices == 0 {
        out.push_str("Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n");
        return out;
    }
    if eventnum > 0 && advices == 0 {
        out.push_str("\nWhile there are latency events logged, I'm not able to suggest any easy fix. Please use the Redis community to get some help, providing this report in your help request.\n");
        return out;
    }
    out.push_str("\nI have a few advices for you:\n\n");
    let slowlog_value = ctx.threshold_ms * 1000;
    if a.slowlog_enabled {
        out.push_str(&format!("- There are latency issues with potentially slow commands you are using. Try to enable the Slow Log Redis feature using the command 'CONFIG SET slowlog-log-slower-than {slowlog_value}'. If the Slow log is disabled Redis is not able to log slow commands execution for you.\n"));
    }
    if a.slowlog_tuning {
        out.push_str(&format!("- Your current Slow Log configuration only logs events that are slower than your configured latency monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than {slowlog_value}'.\n"));
    }
    if a.slowlog_inspect {
        out.push_str("- Check your Slow Log to understand what are the commands you are running which are too slow to execute. Please check https://redis.io/commands/slowlog for more information.\n");
    }
    if a.scheduler {
        out.push_str(concat!(
            "- The system is slow to execute Redis code paths not containing system calls. This usually means the system does not provide Redis CPU time to run for long periods. You should try to:\n",
            "  1) Lower the system load.\n",
            "  2) Use a computer / VM just for Redis if you are running other software in the same system.\n",
            "  3) Check if you have a \"noisy neighbour\" problem.\n",
            "  4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic latency in your system.\n",
            "  5) Check if the problem is allocator-related by recompiling Redis with MALLOC=libc, if you are using Jemalloc. However this may create fragmentation problems.\n"
        ));
    }
    if a.local_disk {
        out.push_str("- It is strongly advised to use local disks for persistence, especially if you are using AOF. Remote disks provided by platform-as-a-service providers are known to be slow.\n");
    }
    if a.ssd {
        out.push_str("- SSD disks are able to reduce fsync latency, and total time needed for snapshotting and AOF log rewriting (resulting in smaller memory usage). With extremely high write load SSD disks can be a good option. However Redis should perform reasonably with high load using normal disks. Use this advice as a last resort.\n");
    }
    if a.data_writeback {
        out.push_str("- Mounting ext3/4 filesystems with data=writeback can provide a performance boost compared to data=ordered, however this mode of operation provides less guarantees, and sometimes it can happen that after a hard crash the AOF file will have a half-written command at the end and will require to be repaired before Redis restarts.\n");
    }
    if a.disk_contention {
        out.push_str("- Try to lower the disk contention. This is often caused by other disk intensive processes running in the same computer (including other Redis instances).\n");
    }
    if a.no_appendfsync {
        out.push_str("- Assuming from the point of view of data safety this is viable in your environment, you could try to enable the 'no-appendfsync-on-rewrite' option, so that fsync will not be performed while there is a child rewriting the AOF file or producing an RDB file (the moment where there is high disk contention).\n");
    }
    if a.relax_fsync_policy && ctx.fsync_always {
        out.push_str("- Your fsync policy is set to 'always'. It is very hard to get good performances with such a setup, if possible try to relax the fsync policy to 'onesec'.\n");
    }
    if a.write_load_info {
        out.push_str("- Latency during the AOF atomic rename operation or when the final difference is flushed to the AOF file at the end of the rewrite, sometimes is caused by very high write load, causing the AOF buffer to get very large. If possible try to send less commands to accomplish the same work, or use Lua scripts to group multiple operations into a single EVALSHA call.\n");
    }
    if a.hz && ctx.hz < 100 {
        out.push_str("- In order to make the Redis keys expiring process more incremental, try to set the 'hz' configuration parameter to 100 using 'CONFIG SET hz 100'.\n");
    }
    if a.large_objects {
        out.push_str("- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking operation. If you have very large objects that are often deleted, expired, or evicted, try to fragment those objects into multiple smaller objects.\n");
    }
    if a.mass_eviction {
        out.push_str("- Sudden changes to the 'maxmemory' setting via 'CONFIG SET', or allocation of large objects via sets or sorted sets intersections, STORE option of SORT, Redis Cluster large keys migrations (RESTORE command), may create sudden memory pressure forcing the server to block trying to evict keys. \n");
    }
    if a.disable_thp {
        out.push_str("- I detected a non zero amount of anonymous huge pages used by your process. This creates very serious latency events in different conditions, especially when Redis is persisting on disk. To disable THP support use the command 'echo never > /sys/kernel/mm/transparent_hugepage/enabled', make sure to also add it into /etc/rc.local so that the command will be executed again after a reboot. Note that even if you have already disabled THP, you still need to restart the Redis process to get rid of the huge pages already created.\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_sample_per_second_keeps_the_worst() {
        let mut m = LatencyMonitor::default();
        m.add("command", 300, 100);
        m.add("command", 500, 100);
        m.add("command", 200, 100);
        m.add("command", 250, 101);
        assert_eq!(m.history(b"command"), vec![(100, 500), (101, 250)]);
        assert_eq!(m.latest().collect::<Vec<_>>(), vec![("command", 101, 250, 500)]);
    }

    #[test]
    fn the_ring_keeps_the_last_160_seconds() {
        let mut m = LatencyMonitor::default();
        for t in 1..=200 {
            m.add("expire-cycle", t as u64, t);
        }
        let h = m.history(b"expire-cycle");
        assert_eq!(h.len(), HISTORY_LEN);
        assert_eq!(h.first(), Some(&(41, 41)));
        assert_eq!(h.last(), Some(&(200, 200)));
    }

    #[test]
    fn reset_matches_names_in_any_case() {
        let mut m = LatencyMonitor::default();
        m.add("command", 10, 1);
        m.add("fast-command", 10, 1);
        assert_eq!(m.reset(Some(b"nosuch")), 0);
        assert_eq!(m.reset(Some(b"COMMAND")), 1);
        assert_eq!(m.reset(None), 1);
        assert!(m.is_empty());
    }

    #[test]
    fn below_the_threshold_nothing_is_kept() {
        let mut m = LatencyMonitor::default();
        m.sample_if_needed(0, "command", 1000);
        m.sample_if_needed(100, "command", 99);
        assert!(m.is_empty());
        m.sample_if_needed(100, "command", 100);
        assert!(!m.is_empty());
    }

    #[test]
    fn sparkline_fills_up_to_the_sample_and_labels_below() {
        let mut s = Sparkline::default();
        s.add(0.0, "2s".into());
        s.add(12.0, "1s".into());
        let mut out = String::new();
        s.render(&mut out, 80, 4);
        // Four rows of graph (the high sample reaches the top), a blank
        // row, then the labels one character per row.
        assert_eq!(out, " #\n |\n |\n_|\n  \n21\nss\n");
    }
}
