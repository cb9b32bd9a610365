//! What each directive holds, how arguments become a value (the checks and
//! error texts of Redis's `*ConfigSet` functions) and how a value is shown by
//! CONFIG GET. Used by redis.conf loading and CONFIG SET alike, so both accept
//! and refuse exactly the same inputs.

use super::syntax::{self, c_str, memtoull, split_spaces, string2d, string2ll, strtoll, strtoll_whole};
use super::table::{Directive, Kind, NumFormat, Special, DIRECTIVES};
use super::{flags, Config};

/// `notify-keyspace-events` bits (Redis's NOTIFY_*), for the pub/sub code.
pub mod keyspace_events {
    pub const KEYSPACE: i32 = 1 << 0;
    pub const KEYEVENT: i32 = 1 << 1;
    pub const GENERIC: i32 = 1 << 2;
    pub const STRING: i32 = 1 << 3;
    pub const LIST: i32 = 1 << 4;
    pub const SET: i32 = 1 << 5;
    pub const HASH: i32 = 1 << 6;
    pub const ZSET: i32 = 1 << 7;
    pub const EXPIRED: i32 = 1 << 8;
    pub const EVICTED: i32 = 1 << 9;
    pub const STREAM: i32 = 1 << 10;
    /// Not part of ALL, on purpose (as in Redis).
    pub const KEY_MISS: i32 = 1 << 11;
    pub const LOADED: i32 = 1 << 12;
    pub const MODULE: i32 = 1 << 13;
    pub const NEW: i32 = 1 << 14;
    /// "A": every class but key-miss and new.
    pub const ALL: i32 = GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE;
}
use keyspace_events as ev;

/// One client class's output buffer limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OutputBufferLimit {
    pub hard_limit_bytes: u64,
    pub soft_limit_bytes: u64,
    pub soft_limit_seconds: i64,
}

impl OutputBufferLimit {
    const fn new(hard: u64, soft: u64, seconds: i64) -> OutputBufferLimit {
        OutputBufferLimit { hard_limit_bytes: hard, soft_limit_bytes: soft, soft_limit_seconds: seconds }
    }
}

/// Client classes in `client-output-buffer-limit` order: normal, replica, pubsub.
const OBUF_DEFAULTS: [OutputBufferLimit; 3] = [
    OutputBufferLimit::new(0, 0, 0),
    OutputBufferLimit::new(256 * 1024 * 1024, 64 * 1024 * 1024, 60),
    OutputBufferLimit::new(32 * 1024 * 1024, 8 * 1024 * 1024, 60),
];
/// CONFIG GET spells the replica class "slave"; REWRITE writes "replica".
const OBUF_CLASS_NAMES: [&str; 3] = ["normal", "slave", "pubsub"];
const OOM_SCORE_ADJ_DEFAULTS: [i32; 3] = [0, 200, 800];
const DEFAULT_BIND: [&str; 2] = ["*", "-::*"];
const MAX_BIND_ADDRS: usize = 16;

/// A directive's current value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Bool(bool),
    /// `None`: unset (an EMPTY_IS_NULL string given "").
    Str(Option<Vec<u8>>),
    Enum(i32),
    /// As Redis's `long long`: see [`Config::get_i64`].
    Num(i64),
    /// The working directory is the value.
    Dir,
    /// (seconds, changes); changes is a C int in Redis.
    Save(Vec<(i64, i32)>),
    OutputBufferLimits([OutputBufferLimit; 3]),
    OomScoreAdj([i32; 3]),
    KeyspaceEvents(i32),
    Bind(Vec<Vec<u8>>),
    /// Master host and port.
    ReplicaOf(Option<(Vec<u8>, i32)>),
    Percentiles(Vec<f64>),
}

impl Value {
    pub(crate) fn default_for(d: &Directive) -> Value {
        match d.kind {
            Kind::Bool { default, .. } => Value::Bool(default),
            Kind::Str { default, .. } => Value::Str(default.map(|s| s.as_bytes().to_vec())),
            Kind::Enum { default, .. } => Value::Enum(default),
            Kind::Num { default, .. } => Value::Num(default),
            Kind::Special(s) => match s {
                Special::Dir => Value::Dir,
                Special::Save => Value::Save(vec![(3600, 1), (300, 100), (60, 10000)]),
                Special::ClientOutputBufferLimit => Value::OutputBufferLimits(OBUF_DEFAULTS),
                Special::OomScoreAdjValues => Value::OomScoreAdj(OOM_SCORE_ADJ_DEFAULTS),
                Special::NotifyKeyspaceEvents => Value::KeyspaceEvents(0),
                Special::Bind => Value::Bind(DEFAULT_BIND.iter().map(|a| a.as_bytes().to_vec()).collect()),
                Special::ReplicaOf => Value::ReplicaOf(None),
                Special::LatencyTrackingInfoPercentiles => Value::Percentiles(vec![50.0, 99.0, 99.9]),
            },
        }
    }
}

/// Where a value comes from. Only `save` cares: in a file the first `save`
/// line replaces the defaults and later ones add to it, while each CONFIG SET
/// replaces the whole list.
pub(crate) enum Origin<'a> {
    Command,
    File { save_loaded: &'a mut bool },
}

/// Redis's `configEnumGetName`: the first exact match, or for flag sets the
/// names of the bits (in table order), or "unknown".
pub(crate) fn enum_name(choices: &[(&str, i32)], value: i32, flag_set: bool) -> String {
    let mut names: Vec<&str> = Vec::new();
    let mut unmatched = value;
    for &(name, v) in choices {
        if v == value {
            return name.to_string();
        }
        if flag_set && v != 0 && v == unmatched & v {
            names.push(name);
            unmatched &= !v;
        }
    }
    if names.is_empty() || unmatched != 0 {
        return "unknown".to_string();
    }
    names.join(" ")
}

/// Redis's `keyspaceEventsFlagsToString`.
pub(crate) fn keyspace_events_string(flags: i32) -> String {
    let mut s = String::new();
    if flags & ev::ALL == ev::ALL {
        s.push('A');
    } else {
        for (bit, c) in [
            (ev::GENERIC, 'g'),
            (ev::STRING, '$'),
            (ev::LIST, 'l'),
            (ev::SET, 's'),
            (ev::HASH, 'h'),
            (ev::ZSET, 'z'),
            (ev::EXPIRED, 'x'),
            (ev::EVICTED, 'e'),
            (ev::STREAM, 't'),
            (ev::MODULE, 'd'),
            (ev::NEW, 'n'),
        ] {
            if flags & bit != 0 {
                s.push(c);
            }
        }
    }
    for (bit, c) in [(ev::KEYSPACE, 'K'), (ev::KEYEVENT, 'E'), (ev::KEY_MISS, 'm')] {
        if flags & bit != 0 {
            s.push(c);
        }
    }
    s
}

fn keyspace_events_flags(classes: &[u8]) -> Option<i32> {
    let mut flags = 0;
    for &c in classes {
        flags |= match c {
            b'A' => ev::ALL,
            b'g' => ev::GENERIC,
            b'$' => ev::STRING,
            b'l' => ev::LIST,
            b's' => ev::SET,
            b'h' => ev::HASH,
            b'z' => ev::ZSET,
            b'x' => ev::EXPIRED,
            b'e' => ev::EVICTED,
            b'K' => ev::KEYSPACE,
            b'E' => ev::KEYEVENT,
            b't' => ev::STREAM,
            b'm' => ev::KEY_MISS,
            b'd' => ev::MODULE,
            b'n' => ev::NEW,
            _ => return None,
        };
    }
    Some(flags)
}

/// The number a directive's text stands for, by Redis's `numericParseString`
/// rules: a memory amount first, then a percentage, then octal, and a plain
/// integer only for directives with no special format.
fn parse_number(format: NumFormat, text: &[u8]) -> Result<i64, &'static str> {
    if matches!(format, NumFormat::Memory | NumFormat::MemoryOrPercent) {
        if let Some(bytes) = memtoull(text) {
            // Stored in a long long, as Redis does: huge values turn negative.
            return Ok(bytes as i64);
        }
    }
    if format == NumFormat::MemoryOrPercent && text.len() > 1 && text.ends_with(b"%") {
        if let Some(p) = string2ll(&text[..text.len() - 1]) {
            if p >= 0 {
                return Ok(-p);
            }
        }
    }
    if format == NumFormat::Octal {
        let digits = c_str(text);
        let r = strtoll(digits, 8);
        if !r.erange && r.end == digits.len() {
            return Ok(r.value);
        }
    }
    if format == NumFormat::Integer {
        if let Some(n) = string2ll(text) {
            return Ok(n);
        }
    }
    Err(match format {
        NumFormat::MemoryOrPercent => "argument must be a memory or percent value",
        NumFormat::Memory => "argument must be a memory value",
        NumFormat::Octal => "argument couldn't be parsed as an octal number",
        NumFormat::Integer => "argument couldn't be parsed into an integer",
    })
}

/// Redis's `numericBoundaryCheck`, with its texts (octal bounds in octal).
fn check_bounds(d: &Directive, n: i64) -> Result<(), String> {
    let Kind::Num { ty, format, min, max, .. } = d.kind else { unreachable!("bounds of a non-number") };
    if ty.unsigned_bounds() {
        let (u, lo, hi) = (n as u64, min as u64, max as u64);
        if u > hi || u < lo {
            return Err(if format == NumFormat::Octal {
                format!("argument must be between {lo:o} and {hi:o} inclusive")
            } else {
                format!("argument must be between {lo} and {hi} inclusive")
            });
        }
    } else if format == NumFormat::MemoryOrPercent && n < 0 {
        if n < min {
            return Err(format!("percentage argument must be less or equal to {}", -min));
        }
    } else if n > max || n < min {
        return Err(format!("argument must be between {min} and {max} inclusive"));
    }
    Ok(())
}

fn yes_no(text: &[u8]) -> Option<bool> {
    let text = c_str(text);
    if text.eq_ignore_ascii_case(b"yes") {
        Some(true)
    } else if text.eq_ignore_ascii_case(b"no") {
        Some(false)
    } else {
        None
    }
}

impl Config {
    /// Set directive `index` from its arguments (one for single-argument
    /// directives). `Ok(true)` when the value changed (or is VOLATILE or a
    /// directive Redis always re-applies), `Ok(false)` when it already had
    /// that value, `Err` with Redis's reason otherwise.
    pub(crate) fn assign(&mut self, index: usize, args: &[Vec<u8>], origin: Origin<'_>) -> Result<bool, String> {
        let d = &DIRECTIVES[index];
        let volatile = d.has(flags::VOLATILE);
        let new = match d.kind {
            Kind::Bool { check, .. } => {
                let b = yes_no(&args[0]).ok_or("argument must be 'yes' or 'no'")?;
                if let Some(check) = check {
                    check(b)?;
                }
                Value::Bool(b)
            }
            Kind::Str { empty_is_null, binary, check, .. } => {
                let text: &[u8] = if binary { &args[0] } else { c_str(&args[0]) };
                if let Some(check) = check {
                    check(text, self)?;
                }
                Value::Str(if empty_is_null && text.is_empty() { None } else { Some(text.to_vec()) })
            }
            Kind::Enum { choices, check, .. } => {
                let flag_set = d.has(flags::MULTI_ARG);
                let v = parse_enum(choices, args, flag_set).ok_or_else(|| enum_error(choices))?;
                if let Some(check) = check {
                    check(v)?;
                }
                Value::Enum(v)
            }
            Kind::Num { format, .. } => {
                let n = parse_number(format, &args[0])?;
                check_bounds(d, n)?;
                Value::Num(n)
            }
            Kind::Special(s) => return self.assign_special(index, s, args, origin),
        };
        let changed = self.values[index] != new;
        self.values[index] = new;
        Ok(changed || volatile)
    }

    fn assign_special(
        &mut self,
        index: usize,
        which: Special,
        args: &[Vec<u8>],
        origin: Origin<'_>,
    ) -> Result<bool, String> {
        const WRONG_ARGS: &str = "wrong number of arguments";
        let new = match which {
            Special::Dir => {
                if args.len() != 1 {
                    return Err(WRONG_ARGS.into());
                }
                use std::os::unix::ffi::OsStrExt;
                let path = std::ffi::OsStr::from_bytes(c_str(&args[0]));
                std::env::set_current_dir(path).map_err(|e| syntax::strerror(&e))?;
                Value::Dir
            }
            Special::Save => {
                let mut args = args;
                let mut points = match &self.values[index] {
                    Value::Save(p) => p.clone(),
                    _ => unreachable!("save holds save points"),
                };
                // A single "" means "no save points"; Redis clears the list at
                // once, before even looking at the file/command distinction.
                if args.len() == 1 && c_str(&args[0]).is_empty() {
                    points.clear();
                    args = &[];
                }
                if args.len() % 2 == 1 {
                    return Err("Invalid save parameters".into());
                }
                let mut numbers = Vec::with_capacity(args.len());
                for (j, a) in args.iter().enumerate() {
                    match strtoll_whole(a) {
                        Some(v) if (j % 2 == 0 && v >= 1) || (j % 2 == 1 && v >= 0) => numbers.push(v),
                        _ => return Err("Invalid save parameters".into()),
                    }
                }
                match origin {
                    Origin::Command => points.clear(),
                    Origin::File { save_loaded } => {
                        // The first save line of a file replaces the defaults,
                        // the following ones add to it.
                        if !*save_loaded {
                            *save_loaded = true;
                            points.clear();
                        }
                    }
                }
                for pair in numbers.chunks(2) {
                    // `changes` is a C int: Redis truncates larger numbers.
                    points.push((pair[0], pair[1] as i32));
                }
                Value::Save(points)
            }
            Special::ClientOutputBufferLimit => {
                let mut limits = match &self.values[index] {
                    Value::OutputBufferLimits(l) => *l,
                    _ => unreachable!("client-output-buffer-limit holds limits"),
                };
                if args.len() % 4 != 0 {
                    return Err("Wrong number of arguments in buffer limit configuration.".into());
                }
                let mut updates = Vec::new();
                for group in args.chunks(4) {
                    let class = match c_str(&group[0]).to_ascii_lowercase().as_slice() {
                        b"normal" => 0,
                        b"slave" | b"replica" => 1,
                        b"pubsub" => 2,
                        _ => return Err("Invalid client class specified in buffer limit configuration.".into()),
                    };
                    let hard = memtoull(&group[1]);
                    let soft = memtoull(&group[2]);
                    // soft_seconds is a C int, checked after truncation.
                    let seconds = strtoll_whole(&group[3]).map(|s| s as i32);
                    match (hard, soft, seconds) {
                        (Some(h), Some(s), Some(secs)) if secs >= 0 => {
                            updates.push((class, OutputBufferLimit::new(h, s, i64::from(secs))))
                        }
                        _ => {
                            return Err(
                                "Error in hard, soft or soft_seconds setting in buffer limit configuration.".into()
                            )
                        }
                    }
                }
                for (class, limit) in updates {
                    limits[class] = limit;
                }
                Value::OutputBufferLimits(limits)
            }
            Special::OomScoreAdjValues => {
                if args.len() != 3 {
                    return Err(WRONG_ARGS.into());
                }
                let mut scores = [0i32; 3];
                for (slot, a) in scores.iter_mut().zip(args) {
                    match strtoll_whole(a) {
                        Some(v) if (-2000..=2000).contains(&v) => *slot = v as i32,
                        _ => {
                            return Err("Invalid oom-score-adj-values, elements must be between -2000 and 2000.".into())
                        }
                    }
                }
                let changed = self.values[index] != Value::OomScoreAdj(scores);
                self.values[index] = Value::OomScoreAdj(scores);
                return Ok(changed);
            }
            Special::NotifyKeyspaceEvents => {
                if args.len() != 1 {
                    return Err(WRONG_ARGS.into());
                }
                let flags = keyspace_events_flags(c_str(&args[0]))
                    .ok_or("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")?;
                Value::KeyspaceEvents(flags)
            }
            Special::Bind => {
                if args.len() > MAX_BIND_ADDRS {
                    return Err("Too many bind addresses specified.".into());
                }
                if args.len() == 1 && args[0].is_empty() {
                    Value::Bind(Vec::new())
                } else {
                    Value::Bind(args.iter().map(|a| c_str(a).to_vec()).collect())
                }
            }
            Special::ReplicaOf => {
                if args.len() != 2 {
                    return Err(WRONG_ARGS.into());
                }
                let (host, port) = (c_str(&args[0]), c_str(&args[1]));
                if host.eq_ignore_ascii_case(b"no") && port.eq_ignore_ascii_case(b"one") {
                    Value::ReplicaOf(None)
                } else {
                    // strtol into a C int, range-checked after truncation.
                    let r = strtoll(port, 10);
                    let p = r.value as i32;
                    if r.end != port.len() || !(0..=65535).contains(&p) {
                        return Err("Invalid master port".into());
                    }
                    Value::ReplicaOf(Some((host.to_vec(), p)))
                }
            }
            Special::LatencyTrackingInfoPercentiles => {
                let mut percentiles = Vec::with_capacity(args.len());
                if !(args.len() == 1 && args[0].is_empty()) {
                    for a in args {
                        let p = string2d(a).ok_or("Invalid latency-tracking-info-percentiles parameters")?;
                        if !(0.0..=100.0).contains(&p) {
                            return Err(
                                "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]".into()
                            );
                        }
                        percentiles.push(p);
                    }
                }
                Value::Percentiles(percentiles)
            }
        };
        self.values[index] = new;
        // Redis reports every other special directive as changed.
        Ok(true)
    }

    /// CONFIG GET's text for directive `index`.
    pub(crate) fn render(&self, index: usize) -> Vec<u8> {
        let d = &DIRECTIVES[index];
        match (&d.kind, &self.values[index]) {
            (_, Value::Bool(b)) => {
                if *b {
                    b"yes".to_vec()
                } else {
                    b"no".to_vec()
                }
            }
            (_, Value::Str(s)) => s.clone().unwrap_or_default(),
            (Kind::Enum { choices, .. }, Value::Enum(v)) => {
                enum_name(choices, *v, d.has(flags::MULTI_ARG)).into_bytes()
            }
            (Kind::Num { format, .. }, Value::Num(n)) => {
                let n = *n;
                match format {
                    NumFormat::MemoryOrPercent if n < 0 => format!("{}%", -n),
                    NumFormat::Memory | NumFormat::MemoryOrPercent => (n as u64).to_string(),
                    NumFormat::Octal => format!("{:o}", n as u64),
                    NumFormat::Integer => n.to_string(),
                }
                .into_bytes()
            }
            (_, Value::Dir) => {
                use std::os::unix::ffi::OsStrExt;
                std::env::current_dir().map(|p| p.as_os_str().as_bytes().to_vec()).unwrap_or_default()
            }
            (_, Value::Save(points)) => {
                points.iter().map(|(s, c)| format!("{s} {c}")).collect::<Vec<_>>().join(" ").into_bytes()
            }
            (_, Value::OutputBufferLimits(limits)) => limits
                .iter()
                .zip(OBUF_CLASS_NAMES)
                .map(|(l, class)| {
                    format!("{class} {} {} {}", l.hard_limit_bytes, l.soft_limit_bytes, l.soft_limit_seconds)
                })
                .collect::<Vec<_>>()
                .join(" ")
                .into_bytes(),
            (_, Value::OomScoreAdj(v)) => format!("{} {} {}", v[0], v[1], v[2]).into_bytes(),
            (_, Value::KeyspaceEvents(f)) => keyspace_events_string(*f).into_bytes(),
            (_, Value::Bind(addrs)) => addrs.join(&b' '),
            (_, Value::ReplicaOf(master)) => match master {
                Some((host, port)) => {
                    let mut v = host.clone();
                    v.extend_from_slice(format!(" {port}").as_bytes());
                    // Redis formats into a 256-byte buffer.
                    v.truncate(255);
                    v
                }
                None => Vec::new(),
            },
            (_, Value::Percentiles(p)) => {
                p.iter().map(|&v| syntax::format_double(v)).collect::<Vec<_>>().join(" ").into_bytes()
            }
            (kind, value) => unreachable!("directive {} of kind {kind:?} holds {value:?}", d.name),
        }
    }
}

/// Redis's `configEnumGetValue`: one name (case-insensitive), or for flag
/// sets one or more names whose values are or-ed.
fn parse_enum(choices: &[(&str, i32)], args: &[Vec<u8>], flag_set: bool) -> Option<i32> {
    if args.is_empty() || (!flag_set && args.len() != 1) {
        return None;
    }
    let mut value = 0;
    for a in args {
        let a = c_str(a);
        let mut matched = false;
        for &(name, v) in choices {
            if a.eq_ignore_ascii_case(name.as_bytes()) {
                value |= v;
                matched = true;
            }
        }
        if !matched {
            return None;
        }
    }
    Some(value)
}

/// "argument(s) must be one of the following: a, b, c", cut to Redis's
/// 255-byte buffer.
fn enum_error(choices: &[(&str, i32)]) -> String {
    let names: Vec<&str> = choices.iter().map(|(n, _)| *n).collect();
    let mut s = format!("argument(s) must be one of the following: {}", names.join(", "));
    s.truncate(255);
    s
}

/// A CONFIG SET value as arguments: multi-argument directives split it on
/// spaces, the others take it whole.
pub(crate) fn command_args(d: &Directive, value: &[u8]) -> Vec<Vec<u8>> {
    if d.has(flags::MULTI_ARG) {
        split_spaces(value)
    } else {
        vec![value.to_vec()]
    }
}
