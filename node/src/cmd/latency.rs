//! LATENCY: the latency monitor's events (LATEST, HISTORY, GRAPH, DOCTOR,
//! RESET; see [`crate::latency`]) and the per-command latency histograms
//! (HISTOGRAM; see [`crate::latency_histogram`]).

use corvid_proto::resp::Args;

use super::reply_help;
use crate::dispatch::{registry, CommandDef, Ctx, Registry};
use crate::errors::{CmdError, CmdResult};

/// LATENCY LATEST
fn latest(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    let rows: Vec<(String, i64, u64, u64)> =
        ctx.srv.latency_events.latest().map(|(e, t, l, m)| (e.to_string(), t, l, m)).collect();
    ctx.out.array(rows.len());
    for (event, time, latency, max) in rows {
        ctx.out.array(4);
        ctx.out.bulk(event.as_bytes());
        ctx.out.int(time);
        ctx.out.int(latency as i64);
        ctx.out.int(max as i64);
    }
    Ok(())
}

/// LATENCY HISTORY event
fn history(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let samples = ctx.srv.latency_events.history(args.get(2));
    ctx.out.array(samples.len());
    for (time, latency) in samples {
        ctx.out.array(2);
        ctx.out.int(time);
        ctx.out.int(latency as i64);
    }
    Ok(())
}

/// LATENCY GRAPH event
fn graph(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let Some(text) = ctx.srv.latency_events.graph(args.get(2)) else {
        return Err(CmdError::err(format!(
            "No samples available for event '{}'",
            String::from_utf8_lossy(args.get(2))
        )));
    };
    ctx.out.verbatim("txt", text.as_bytes());
    Ok(())
}

/// LATENCY DOCTOR
fn doctor(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    let srv = &*ctx.srv;
    let report = crate::latency::report(
        &srv.latency_events,
        &crate::latency::ReportContext {
            threshold_ms: srv.latency_monitor_threshold,
            slowlog_slower_than_us: srv.config.get_i64("slowlog-log-slower-than"),
            hz: srv.config.get_i64("hz"),
            fsync_always: srv.config.get_str("appendfsync") == "always",
            anon_huge_pages: anon_huge_pages(),
        },
    );
    ctx.out.verbatim("txt", report.as_bytes());
    Ok(())
}

/// The process's AnonHugePages, summed over /proc/self/smaps (Redis's
/// THPGetAnonHugePagesSize); 0 where it cannot be read.
fn anon_huge_pages() -> u64 {
    let Ok(text) = std::fs::read_to_string("/proc/self/smaps") else { return 0 };
    text.lines()
        .filter_map(|l| l.strip_prefix("AnonHugePages:"))
        .filter_map(|rest| rest.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .sum::<u64>()
        * 1024
}

/// LATENCY RESET [event ...]
fn reset(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let resets = if args.len() == 2 {
        ctx.srv.latency_events.reset(None)
    } else {
        (2..args.len()).map(|i| ctx.srv.latency_events.reset(Some(args.get(i)))).sum()
    };
    ctx.out.int(resets as i64);
    Ok(())
}

/// LATENCY HISTOGRAM [command ...]: for each command (a container stands
/// for its subcommands) timed since the last CONFIG RESETSTAT, its calls
/// and cumulative latency buckets; unknown names are skipped.
fn histogram(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let reg = registry();
    let mut chosen: Vec<&CommandDef> = Vec::new();
    if args.len() == 2 {
        let mut all: Vec<&CommandDef> = reg.top_level().collect();
        all.sort_by_key(|d| d.spec.full_name);
        for def in all {
            chosen.push(def);
            chosen.extend(subcommands(reg, def));
        }
    } else {
        for i in 2..args.len() {
            if let Some(def) = super::command::by_full_name(reg, args.get(i)) {
                chosen.push(def);
                chosen.extend(subcommands(reg, def));
            }
        }
    }
    let with_data: Vec<(&str, &crate::latency_histogram::LatencyHistogram)> =
        chosen.iter().filter_map(|d| ctx.srv.cmd_latency.get(d.id).map(|h| (d.spec.full_name, h))).collect();
    ctx.out.map(with_data.len());
    for (name, h) in with_data {
        ctx.out.bulk(name.as_bytes());
        ctx.out.map(2);
        ctx.out.bulk(b"calls");
        ctx.out.int(h.len() as i64);
        ctx.out.bulk(b"histogram_usec");
        let buckets = h.cumulative_usec();
        ctx.out.map(buckets.len());
        for (usec, count) in buckets {
            ctx.out.int(usec as i64);
            ctx.out.int(count as i64);
        }
    }
    Ok(())
}

/// A container's subcommands, by name.
fn subcommands<'r>(reg: &'r Registry, def: &CommandDef) -> Vec<&'r CommandDef> {
    let mut subs: Vec<&CommandDef> = def.subs.values().map(|&id| &reg.defs[id]).collect();
    subs.sort_by_key(|d| d.spec.full_name);
    subs
}

fn help(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    reply_help(
        ctx.out,
        args.get(0),
        &[
            "DOCTOR",
            "    Return a human readable latency analysis report.",
            "GRAPH <event>",
            "    Return an ASCII latency graph for the <event> class.",
            "HISTORY <event>",
            "    Return time-latency samples for the <event> class.",
            "LATEST",
            "    Return the latest latency samples for all events.",
            "RESET [<event> ...]",
            "    Reset latency data of one or more <event> classes.",
            "    (default: reset all data for all event classes)",
            "HISTOGRAM [COMMAND ...]",
            "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
            "    If no commands are specified then all histograms are replied.",
        ],
    );
    Ok(())
}

pub fn register(r: &mut Registry) {
    r.add("latency|latest", latest);
    r.add("latency|history", history);
    r.add("latency|graph", graph);
    r.add("latency|doctor", doctor);
    r.add("latency|reset", reset);
    r.add("latency|histogram", histogram);
    r.add("latency|help", help);
}
