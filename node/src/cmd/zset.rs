//! The sorted-set commands (Redis's t_zset.c) on [`ZSet`]. ZSCAN lives with
//! the other SCANs; the blocking BZPOPMIN, BZPOPMAX and BZMPOP come with
//! blocked-client support.
//!
//! Arguments are checked in Redis's order (options, then ranges, then the
//! key's type), because which error a bad command gets is part of the
//! protocol. A sorted set a command empties is deleted.

use std::collections::{HashMap, HashSet};

use corvid_proto::resp::{Args, Reply};
use rand::Rng;

use super::{clamp_range, bulk_element, read_as, write_as, arg_i64, arg_i64_between, arg_i64_range, arg_positive, is};
use crate::db::{Databases, Lookup};
use crate::dispatch::{Ctx, Registry};
use crate::errors::{CmdError, CmdResult};
use crate::float::{string2d, strtod};
use crate::keyspace::{OwnedValue, Table, ValueRef};
use crate::listpack::LpValue;
use crate::server::Server;
use crate::set::Set;
use crate::zset::{member_bytes, AddFlags, Added, ZSet};

const NAN_SCORE: &str = "resulting score is not a number (NaN)";
const NOT_FLOAT_RANGE: &str = "min or max is not a float";
const NOT_LEX_RANGE: &str = "min or max not valid string range item";

/// Most elements ZRANDMEMBER repeats with a negative count. Redis builds
/// any reply and counts on output-buffer limits to drop the client; Corvid
/// refuses a count whose reply would take gigabytes instead.
const MAX_RANDOM_PICKS: u64 = 1 << 26;

/// `zset-max-listpack-entries` and `zset-max-listpack-value`.
pub(crate) fn thresholds(srv: &Server) -> (usize, usize) {
    let get = |name| srv.config.get_i64(name).max(0) as usize;
    (get("zset-max-listpack-entries"), get("zset-max-listpack-value"))
}

// ---------------------------------------------------------------------------
// Numbers and ranges, parsed as C's strtod and Redis's range parsers do.
// ---------------------------------------------------------------------------

/// A score, increment or weight (getDoubleFromObject).
fn arg_score(a: &[u8]) -> Result<f64, CmdError> {
    string2d(a).ok_or(CmdError::NotFloat)
}

/// A score interval (zrangespec).
#[derive(Clone, Copy, Debug)]
struct ScoreRange {
    min: f64,
    max: f64,
    min_exclusive: bool,
    max_exclusive: bool,
}

impl ScoreRange {
    /// zslParseRange: each bound is a number, "(" before it for an open
    /// end; parsed as a C string by strtod (so "" is 0 and a NUL ends it).
    fn parse(min: &[u8], max: &[u8]) -> Result<ScoreRange, CmdError> {
        let bound = |a: &[u8]| {
            let a = &a[..a.iter().position(|&b| b == 0).unwrap_or(a.len())];
            let (exclusive, text) = match a.first() {
                Some(b'(') => (true, &a[1..]),
                _ => (false, a),
            };
            let r = strtod(text);
            (r.len == text.len() && !r.value.is_nan()).then_some((r.value, exclusive))
        };
        let err = || CmdError::err(NOT_FLOAT_RANGE);
        let (min, min_exclusive) = bound(min).ok_or_else(err)?;
        let (max, max_exclusive) = bound(max).ok_or_else(err)?;
        Ok(ScoreRange { min, max, min_exclusive, max_exclusive })
    }

    fn above_min(&self, v: f64) -> bool {
        if self.min_exclusive {
            v > self.min
        } else {
            v >= self.min
        }
    }

    fn below_max(&self, v: f64) -> bool {
        if self.max_exclusive {
            v < self.max
        } else {
            v <= self.max
        }
    }
}

/// One end of a lexicographic interval (zlexrangespec's items).
#[derive(Clone, Copy, Debug)]
enum LexBound<'a> {
    /// "-": before every string.
    First,
    /// "+": after every string.
    Last,
    Inclusive(&'a [u8]),
    Exclusive(&'a [u8]),
}

impl<'a> LexBound<'a> {
    /// zslParseLexRangeItem.
    fn parse(a: &'a [u8]) -> Option<LexBound<'a>> {
        match a.first()? {
            b'-' if a.len() == 1 => Some(LexBound::First),
            b'+' if a.len() == 1 => Some(LexBound::Last),
            b'(' => Some(LexBound::Exclusive(&a[1..])),
            b'[' => Some(LexBound::Inclusive(&a[1..])),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct LexRange<'a> {
    min: LexBound<'a>,
    max: LexBound<'a>,
}

impl<'a> LexRange<'a> {
    fn parse(min: &'a [u8], max: &'a [u8]) -> Result<LexRange<'a>, CmdError> {
        let err = || CmdError::err(NOT_LEX_RANGE);
        Ok(LexRange { min: LexBound::parse(min).ok_or_else(err)?, max: LexBound::parse(max).ok_or_else(err)? })
    }

    /// sdscmplex(min, max) > 0, or equal with an open end ("-" and "+"
    /// count as open).
    fn is_void(&self) -> bool {
        use std::cmp::Ordering::*;
        use LexBound::*;
        let (order, open) = match (self.min, self.max) {
            (First, First) | (Last, Last) => (Equal, true),
            (First, _) | (_, Last) => (Less, false),
            (Last, _) | (_, First) => (Greater, false),
            (Inclusive(a) | Exclusive(a), Inclusive(b) | Exclusive(b)) => {
                (a.cmp(b), matches!(self.min, Exclusive(_)) || matches!(self.max, Exclusive(_)))
            }
        };
        order == Greater || (order == Equal && open)
    }

    fn above_min(&self, m: &[u8]) -> bool {
        match self.min {
            LexBound::First => true,
            LexBound::Last => false,
            LexBound::Inclusive(b) => m >= b,
            LexBound::Exclusive(b) => m > b,
        }
    }

    fn below_max(&self, m: &[u8]) -> bool {
        match self.max {
            LexBound::First => false,
            LexBound::Last => true,
            LexBound::Inclusive(b) => m <= b,
            LexBound::Exclusive(b) => m < b,
        }
    }
}

/// A score or lexicographic interval, as the range commands use them.
#[derive(Clone, Copy, Debug)]
enum Interval<'a> {
    Score(ScoreRange),
    Lex(LexRange<'a>),
}

impl Interval<'_> {
    fn above_min(&self, m: &[u8], s: f64) -> bool {
        match self {
            Interval::Score(r) => r.above_min(s),
            Interval::Lex(r) => r.above_min(m),
        }
    }

    fn below_max(&self, m: &[u8], s: f64) -> bool {
        match self {
            Interval::Score(r) => r.below_max(s),
            Interval::Lex(r) => r.below_max(m),
        }
    }

    /// Whether the bounds alone leave nothing (min above max, or equal with
    /// an open end), as zslIsInRange and zslIsInLexRange check first.
    fn is_void(&self) -> bool {
        match self {
            Interval::Score(r) => r.min > r.max || (r.min == r.max && (r.min_exclusive || r.max_exclusive)),
            Interval::Lex(r) => r.is_void(),
        }
    }

    fn holds_above_min(&self, (m, s): (LpValue<'_>, f64)) -> bool {
        self.above_min(member_bytes(m, &mut itoa::Buffer::new()), s)
    }

    fn holds_below_max(&self, (m, s): (LpValue<'_>, f64)) -> bool {
        self.below_max(member_bytes(m, &mut itoa::Buffer::new()), s)
    }

    /// zzlIsInRange: the bounds are not void, the highest element is above
    /// the minimum and the lowest below the maximum.
    fn may_hold(&self, z: &ZSet) -> bool {
        !self.is_void()
            && z.iter_rev().next().is_some_and(|e| self.holds_above_min(e))
            && z.iter().next().is_some_and(|e| self.holds_below_max(e))
    }

    /// Rank of the first element inside (zslFirstInRange).
    fn first(&self, z: &ZSet) -> Option<usize> {
        if !self.may_hold(z) {
            return None;
        }
        let rank = z.count_while(|m, s| !self.above_min(m, s));
        z.iter_from(rank, false).next().filter(|&e| self.holds_below_max(e)).map(|_| rank)
    }

    /// Rank of the last element inside (zslLastInRange).
    fn last(&self, z: &ZSet) -> Option<usize> {
        if !self.may_hold(z) {
            return None;
        }
        let rank = z.last_where(|m, s| self.below_max(m, s))?;
        z.iter_from(rank, false).next().filter(|&e| self.holds_above_min(e)).map(|_| rank)
    }

    /// Ranks `first..end` that a walk up from the first element inside
    /// covers while elements stay below the maximum (what ZREMRANGEBYSCORE
    /// and ZREMRANGEBYLEX delete).
    fn walked_ranks(&self, z: &ZSet) -> (usize, usize) {
        match self.first(z) {
            None => (0, 0),
            Some(first) => (first, first + z.iter_from(first, false).take_while(|&e| self.holds_below_max(e)).count()),
        }
    }

    /// How many elements are inside: walked in a listpack, from the ranks
    /// of the first and last in a skiplist (as ZCOUNT and ZLEXCOUNT do).
    fn count(&self, z: &ZSet) -> usize {
        if z.dict().is_none() {
            let (first, end) = self.walked_ranks(z);
            return end - first;
        }
        match (self.first(z), self.last(z)) {
            (Some(first), Some(last)) if last >= first => last - first + 1,
            _ => 0,
        }
    }
}

// ---------------------------------------------------------------------------
// Keys and replies.
// ---------------------------------------------------------------------------

/// A sorted set the command already looked up, read straight from the table
/// so that the database's random generator can be borrowed alongside.
fn peek<'a>(table: &'a Table, key: &[u8]) -> &'a ZSet {
    match table.get(key).map(|e| e.value()) {
        Some(ValueRef::ZSet(z)) => z,
        _ => unreachable!("looked up as a sorted set"),
    }
}

/// After a command removed `changes` elements: delete `key` if that
/// `emptied` its set.
fn finish_removal(db: &mut Databases, index: usize, key: &[u8], changes: usize, emptied: bool) {
    if emptied {
        db.delete(index, key);
    }
    db.dirty += changes as u64;
}

/// The header of a reply of `n` elements, with scores or not: RESP2 flat
/// (member, score, member…), RESP3 one [member, score] array each.
fn elements_header(out: &mut Reply, n: usize, with_scores: bool) {
    out.array(if with_scores && !out.resp3 { 2 * n } else { n });
}

/// One element of such a reply.
fn element(out: &mut Reply, member: LpValue<'_>, score: Option<f64>) {
    if score.is_some() && out.resp3 {
        out.array(2);
    }
    bulk_element(out, member);
    if let Some(s) = score {
        out.double(s);
    }
}

/// Store a result built from scratch under `dst` (ZRANGESTORE, ZUNIONSTORE…):
/// the set if it has elements, else delete `dst`. Replies with the size.
fn store_result(ctx: &mut Ctx<'_>, dst: &[u8], z: ZSet) {
    let n = z.len();
    if n > 0 {
        ctx.srv.db.set_owned(ctx.db, dst, OwnedValue::ZSet(z), None);
    } else {
        ctx.srv.db.delete(ctx.db, dst);
    }
    ctx.out.int(n as i64);
}

// ---------------------------------------------------------------------------
// ZADD, ZINCRBY, ZREM, ZREMRANGEBY*.
// ---------------------------------------------------------------------------

/// ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]
/// and ZINCRBY key increment member (zaddGenericCommand).
fn add_generic(ctx: &mut Ctx<'_>, args: &Args<'_>, mut flags: AddFlags) -> CmdResult {
    let mut changed = false;
    let mut at = 2;
    while at < args.len() {
        let opt = args.get(at);
        match () {
            _ if is(opt, "nx") => flags.nx = true,
            _ if is(opt, "xx") => flags.xx = true,
            _ if is(opt, "ch") => changed = true,
            _ if is(opt, "incr") => flags.incr = true,
            _ if is(opt, "gt") => flags.gt = true,
            _ if is(opt, "lt") => flags.lt = true,
            _ => break,
        }
        at += 1;
    }
    let pairs = args.len() - at;
    if pairs == 0 || !pairs.is_multiple_of(2) {
        return Err(CmdError::Syntax);
    }
    if flags.nx && flags.xx {
        return Err(CmdError::err("XX and NX options at the same time are not compatible"));
    }
    if (flags.gt || flags.lt) && flags.nx || flags.gt && flags.lt {
        return Err(CmdError::err("GT, LT, and/or NX options at the same time are not compatible"));
    }
    if flags.incr && pairs > 2 {
        return Err(CmdError::err("INCR option supports a single increment-element pair"));
    }
    let pairs = (at..args.len()).step_by(2).map(|i| Ok((arg_score(args.get(i))?, args.get(i + 1)))).collect::<Result<Vec<_>, CmdError>>()?;
    add_pairs(ctx, args.get(1), flags, changed, &pairs)
}

/// The work of ZADD once its arguments are parsed, shared with GEOADD
/// (which is a ZADD of computed scores): add or update each (score,
/// member), creating the key if needed, and reply as ZADD does.
pub(crate) fn add_pairs(ctx: &mut Ctx<'_>, key: &[u8], flags: AddFlags, changed: bool, pairs: &[(f64, &[u8])]) -> CmdResult {
    let db = ctx.db;
    let (max_entries, max_value) = thresholds(ctx.srv);
    let created = match write_as::<ZSet>(&mut ctx.srv.db, db, key)? {
        Some(_) => false,
        None if flags.xx => {
            match flags.incr {
                true => ctx.out.null(),
                false => ctx.out.int(0),
            }
            return Ok(());
        }
        None => {
            let z = ZSet::for_first_member(pairs[0].1.len(), max_entries, max_value);
            ctx.srv.db.set_owned(db, key, OwnedValue::ZSet(z), None);
            true
        }
    };
    if created {
        // Redis counts the elements added, not the key's creation.
        ctx.srv.db.dirty -= 1;
    }
    let z = write_as::<ZSet>(&mut ctx.srv.db, db, key)?.expect("present or just created");
    let (mut added, mut updated, mut processed) = (0usize, 0usize, 0usize);
    let mut last_score = 0.0;
    let mut result = Ok(());
    for &(score, member) in pairs {
        match z.add(member, score, flags, max_entries, max_value) {
            Err(_) => {
                result = Err(CmdError::err(NAN_SCORE));
                break;
            }
            Ok(Added::Skipped) => {}
            Ok(Added::New(s)) => (added, processed, last_score) = (added + 1, processed + 1, s),
            Ok(Added::Updated(s)) => (updated, processed, last_score) = (updated + 1, processed + 1, s),
            Ok(Added::Unchanged(s)) => (processed, last_score) = (processed + 1, s),
        }
    }
    let emptied = z.is_empty();
    finish_removal(&mut ctx.srv.db, db, key, 0, emptied);
    result?;
    ctx.srv.db.dirty += (added + updated) as u64;
    if flags.incr {
        match processed {
            0 => ctx.out.null(),
            _ => ctx.out.double(last_score),
        }
    } else {
        ctx.out.int((if changed { added + updated } else { added }) as i64);
    }
    Ok(())
}

fn zadd(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    add_generic(ctx, args, AddFlags::default())
}

fn zincrby(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    add_generic(ctx, args, AddFlags { incr: true, ..AddFlags::default() })
}

/// ZREM key member [member ...]
fn zrem(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let (db, key) = (ctx.db, args.get(1));
    let Some(z) = write_as::<ZSet>(&mut ctx.srv.db, db, key)? else {
        ctx.out.int(0);
        return Ok(());
    };
    let mut removed = 0;
    for member in args.iter().skip(2) {
        removed += usize::from(z.remove(member));
        if z.is_empty() {
            break;
        }
    }
    let emptied = z.is_empty();
    finish_removal(&mut ctx.srv.db, db, key, removed, emptied);
    ctx.out.int(removed as i64);
    Ok(())
}

/// What a ZREMRANGEBY* command removes.
enum RemoveRange<'a> {
    Ranks(i64, i64),
    Within(Interval<'a>),
}

/// ZREMRANGEBYRANK/BYSCORE/BYLEX key min max (zremrangeGenericCommand).
fn remove_range(ctx: &mut Ctx<'_>, key: &[u8], range: RemoveRange<'_>) -> CmdResult {
    let db = ctx.db;
    let Some(z) = write_as::<ZSet>(&mut ctx.srv.db, db, key)? else {
        ctx.out.int(0);
        return Ok(());
    };
    let (first, end) = match range {
        RemoveRange::Ranks(start, stop) => match clamp_range(start, stop, z.len()) {
            Some((first, last)) => (first, last + 1),
            None => (0, 0),
        },
        RemoveRange::Within(interval) => interval.walked_ranks(z),
    };
    let removed = if first < end { z.remove_ranks(first, end - 1) } else { 0 };
    let emptied = z.is_empty();
    finish_removal(&mut ctx.srv.db, db, key, removed, emptied);
    ctx.out.int(removed as i64);
    Ok(())
}

/// ZREMRANGEBYRANK key start stop
fn zremrangebyrank(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let range = RemoveRange::Ranks(arg_i64(args.get(2))?, arg_i64(args.get(3))?);
    remove_range(ctx, args.get(1), range)
}

/// ZREMRANGEBYSCORE key min max
fn zremrangebyscore(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let range = ScoreRange::parse(args.get(2), args.get(3))?;
    remove_range(ctx, args.get(1), RemoveRange::Within(Interval::Score(range)))
}

/// ZREMRANGEBYLEX key min max
fn zremrangebylex(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let range = LexRange::parse(args.get(2), args.get(3))?;
    remove_range(ctx, args.get(1), RemoveRange::Within(Interval::Lex(range)))
}

// ---------------------------------------------------------------------------
// ZCARD, ZSCORE, ZMSCORE, ZRANK, ZREVRANK, ZCOUNT, ZLEXCOUNT.
// ---------------------------------------------------------------------------

/// ZCARD key
fn zcard(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let n = read_as::<ZSet>(&mut ctx.srv.db, ctx.db, args.get(1))?.map_or(0, ZSet::len);
    ctx.out.int(n as i64);
    Ok(())
}

/// ZSCORE key member
fn zscore(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    match read_as::<ZSet>(&mut ctx.srv.db, ctx.db, args.get(1))?.and_then(|z| z.score(args.get(2))) {
        Some(s) => ctx.out.double(s),
        None => ctx.out.null(),
    }
    Ok(())
}

/// ZMSCORE key member [member ...]
fn zmscore(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let z = read_as::<ZSet>(&mut ctx.srv.db, ctx.db, args.get(1))?;
    ctx.out.array(args.len() - 2);
    for member in args.iter().skip(2) {
        match z.and_then(|z| z.score(member)) {
            Some(s) => ctx.out.double(s),
            None => ctx.out.null(),
        }
    }
    Ok(())
}

/// ZRANK/ZREVRANK key member
fn rank_generic(ctx: &mut Ctx<'_>, args: &Args<'_>, reverse: bool) -> CmdResult {
    let Some(z) = read_as::<ZSet>(&mut ctx.srv.db, ctx.db, args.get(1))? else {
        ctx.out.null();
        return Ok(());
    };
    match z.rank(args.get(2)) {
        Some(r) if reverse => ctx.out.int((z.len() - 1 - r) as i64),
        Some(r) => ctx.out.int(r as i64),
        None => ctx.out.null(),
    }
    Ok(())
}

fn zrank(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    rank_generic(ctx, args, false)
}

fn zrevrank(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    rank_generic(ctx, args, true)
}

/// ZCOUNT/ZLEXCOUNT: elements inside the interval.
fn count_within(ctx: &mut Ctx<'_>, key: &[u8], interval: Interval<'_>) -> CmdResult {
    let n = read_as::<ZSet>(&mut ctx.srv.db, ctx.db, key)?.map_or(0, |z| interval.count(z));
    ctx.out.int(n as i64);
    Ok(())
}

/// ZCOUNT key min max
fn zcount(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let range = ScoreRange::parse(args.get(2), args.get(3))?;
    count_within(ctx, args.get(1), Interval::Score(range))
}

/// ZLEXCOUNT key min max
fn zlexcount(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let range = LexRange::parse(args.get(2), args.get(3))?;
    count_within(ctx, args.get(1), Interval::Lex(range))
}

// ---------------------------------------------------------------------------
// ZRANGE and its older forms, ZRANGESTORE.
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum RangeKind {
    Rank,
    Score,
    Lex,
}

/// A parsed range request (zrangeGenericCommand's options).
struct RangeRequest<'a> {
    selection: Selection<'a>,
    reverse: bool,
    with_scores: bool,
}

enum Selection<'a> {
    Ranks(i64, i64),
    /// An interval, after `offset` elements, at most `limit` (negative: all).
    Within { interval: Interval<'a>, offset: i64, limit: i64 },
}

impl<'a> RangeRequest<'a> {
    /// Parse `<src> <min> <max> [options]` from `at` (the source key).
    /// `kind` and `reverse` are fixed by the older commands and chosen by
    /// BYSCORE/BYLEX/REV for ZRANGE and ZRANGESTORE.
    fn parse(
        args: &Args<'a>,
        at: usize,
        store: bool,
        mut kind: Option<RangeKind>,
        mut reverse: Option<bool>,
    ) -> Result<RangeRequest<'a>, CmdError> {
        let mut with_scores = false;
        let (mut offset, mut limit) = (0i64, -1i64);
        let mut j = at + 3;
        while j < args.len() {
            let opt = args.get(j);
            let left = args.len() - j - 1;
            if !store && is(opt, "withscores") {
                with_scores = true;
            } else if is(opt, "limit") && left >= 2 {
                offset = arg_i64(args.get(j + 1))?;
                limit = arg_i64(args.get(j + 2))?;
                j += 2;
            } else if reverse.is_none() && is(opt, "rev") {
                reverse = Some(true);
            } else if kind.is_none() && is(opt, "bylex") {
                kind = Some(RangeKind::Lex);
            } else if kind.is_none() && is(opt, "byscore") {
                kind = Some(RangeKind::Score);
            } else {
                return Err(CmdError::Syntax);
            }
            j += 1;
        }
        let kind = kind.unwrap_or(RangeKind::Rank);
        let reverse = reverse.unwrap_or(false);
        if limit != -1 && kind == RangeKind::Rank {
            return Err(CmdError::err(
                "syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
            ));
        }
        if with_scores && kind == RangeKind::Lex {
            return Err(CmdError::err("syntax error, WITHSCORES not supported in combination with BYLEX"));
        }
        // Reversed intervals are written max first.
        let (lo, hi) = match reverse && kind != RangeKind::Rank {
            true => (args.get(at + 2), args.get(at + 1)),
            false => (args.get(at + 1), args.get(at + 2)),
        };
        let selection = match kind {
            RangeKind::Rank => Selection::Ranks(arg_i64(lo)?, arg_i64(hi)?),
            RangeKind::Score => Selection::Within { interval: Interval::Score(ScoreRange::parse(lo, hi)?), offset, limit },
            RangeKind::Lex => Selection::Within { interval: Interval::Lex(LexRange::parse(lo, hi)?), offset, limit },
        };
        Ok(RangeRequest { selection, reverse, with_scores })
    }

    /// The selected elements in reply order, and their number when known
    /// before walking them (rank ranges).
    fn select<'z>(&self, z: &'z ZSet) -> (Option<usize>, Box<dyn Iterator<Item = (LpValue<'z>, f64)> + 'z>)
    where
        'a: 'z,
    {
        let len = z.len();
        match self.selection {
            Selection::Ranks(start, stop) => match clamp_range(start, stop, len) {
                None => (Some(0), Box::new(std::iter::empty())),
                Some((first, last)) => {
                    let n = last - first + 1;
                    let from = if self.reverse { len - 1 - first } else { first };
                    (Some(n), Box::new(z.iter_from(from, self.reverse).take(n)))
                }
            },
            Selection::Within { interval, offset, limit } => {
                // A negative offset skips everything, as Redis's `offset--` loop does.
                let Ok(offset) = usize::try_from(offset) else { return (None, Box::new(std::iter::empty())) };
                let limit = usize::try_from(limit).unwrap_or(usize::MAX);
                let start = match self.reverse {
                    true => interval.last(z).and_then(|last| last.checked_sub(offset)),
                    false => interval.first(z).and_then(|first| first.checked_add(offset)).filter(|&r| r < len),
                };
                let iter: Box<dyn Iterator<Item = (LpValue<'z>, f64)>> = match (start, self.reverse) {
                    (None, _) => Box::new(std::iter::empty()),
                    (Some(from), true) => {
                        Box::new(z.iter_from(from, true).take_while(move |&e| interval.holds_above_min(e)))
                    }
                    (Some(from), false) => {
                        Box::new(z.iter_from(from, false).take_while(move |&e| interval.holds_below_max(e)))
                    }
                };
                (None, Box::new(iter.take(limit)))
            }
        }
    }
}

/// ZRANGE and the older range commands: reply with the selection.
fn range_reply(ctx: &mut Ctx<'_>, args: &Args<'_>, kind: Option<RangeKind>, reverse: Option<bool>) -> CmdResult {
    let req = RangeRequest::parse(args, 1, false, kind, reverse)?;
    let Some(z) = read_as::<ZSet>(&mut ctx.srv.db, ctx.db, args.get(1))? else {
        ctx.out.array(0);
        return Ok(());
    };
    let out = &mut *ctx.out;
    let score = |s: f64| req.with_scores.then_some(s);
    match req.select(z) {
        (Some(n), elements) => {
            elements_header(out, n, req.with_scores);
            elements.for_each(|(m, s)| element(out, m, score(s)));
        }
        (None, elements) => {
            let at = out.len();
            let n = elements.map(|(m, s)| element(out, m, score(s))).count();
            out.insert_array_header(at, if req.with_scores && !out.resp3 { 2 * n } else { n });
        }
    }
    Ok(())
}

/// ZRANGE key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]
fn zrange(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    range_reply(ctx, args, None, None)
}

/// ZREVRANGE key start stop [WITHSCORES]
fn zrevrange(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    range_reply(ctx, args, Some(RangeKind::Rank), Some(true))
}

/// ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count]
fn zrangebyscore(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    range_reply(ctx, args, Some(RangeKind::Score), Some(false))
}

/// ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count]
fn zrevrangebyscore(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    range_reply(ctx, args, Some(RangeKind::Score), Some(true))
}

/// ZRANGEBYLEX key min max [LIMIT offset count]
fn zrangebylex(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    range_reply(ctx, args, Some(RangeKind::Lex), Some(false))
}

/// ZREVRANGEBYLEX key max min [LIMIT offset count]
fn zrevrangebylex(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    range_reply(ctx, args, Some(RangeKind::Lex), Some(true))
}

/// ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]:
/// the selection becomes `dst`, built as zrangeResultBeginStore does (a
/// skiplist from the start for more ranks than a listpack holds).
fn zrangestore(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let req = RangeRequest::parse(args, 2, true, None, None)?;
    let (max_entries, max_value) = thresholds(ctx.srv);
    let mut dst = ZSet::default();
    if let Some(z) = read_as::<ZSet>(&mut ctx.srv.db, ctx.db, args.get(2))? {
        let (known, elements) = req.select(z);
        if known.is_some_and(|n| n > max_entries) {
            dst = ZSet::new_skiplist();
        }
        for (m, s) in elements {
            dst.insert(&m.to_bytes(), s, max_entries, max_value);
        }
    }
    store_result(ctx, args.get(1), dst);
    Ok(())
}

// ---------------------------------------------------------------------------
// ZUNION, ZINTER, ZDIFF, their STORE forms, ZINTERCARD.
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum SetOp {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

impl Aggregate {
    /// zunionInterAggregate: a sum of +inf and -inf counts as 0.
    fn apply(self, target: &mut f64, v: f64) {
        match self {
            Aggregate::Sum => {
                *target += v;
                if target.is_nan() {
                    *target = 0.0;
                }
            }
            Aggregate::Min => *target = if v < *target { v } else { *target },
            Aggregate::Max => *target = if v > *target { v } else { *target },
        }
    }
}

/// One input of a set operation: a sorted set, a plain set (every member
/// scoring 1), or a missing key (empty).
#[derive(Clone, Copy)]
enum Source<'a> {
    Missing,
    Sorted(&'a ZSet),
    Plain(&'a Set),
}

impl<'a> Source<'a> {
    fn len(&self) -> usize {
        match self {
            Source::Missing => 0,
            Source::Sorted(z) => z.len(),
            Source::Plain(s) => s.len(),
        }
    }

    /// The members as zuiNext yields them: a sorted set from its highest
    /// score down (which decides the order floating-point sums are made in).
    fn iter(&self) -> Box<dyn Iterator<Item = (LpValue<'a>, f64)> + 'a> {
        match *self {
            Source::Missing => Box::new(std::iter::empty()),
            Source::Sorted(z) => z.iter_rev(),
            Source::Plain(s) => Box::new(s.iter().map(|m| (m, 1.0))),
        }
    }

    fn score(&self, member: &[u8]) -> Option<f64> {
        match self {
            Source::Missing => None,
            Source::Sorted(z) => z.score(member),
            Source::Plain(s) => s.contains(member).then_some(1.0),
        }
    }

    /// Whether both are the same stored value (the same key given twice).
    fn same_value(&self, other: &Source<'_>) -> bool {
        match (self, other) {
            (Source::Sorted(a), Source::Sorted(b)) => std::ptr::eq(*a, *b),
            (Source::Plain(a), Source::Plain(b)) => std::ptr::eq(*a, *b),
            _ => false,
        }
    }
}

/// The options after the keys (zunionInterDiffGenericCommand).
struct SetOpOptions {
    weights: Vec<f64>,
    aggregate: Aggregate,
    with_scores: bool,
    /// ZINTERCARD's LIMIT; 0 for none.
    limit: usize,
}

fn parse_set_op_options(
    args: &Args<'_>,
    mut j: usize,
    numkeys: usize,
    op: SetOp,
    store: bool,
    card_only: bool,
) -> Result<SetOpOptions, CmdError> {
    let mut o = SetOpOptions { weights: vec![1.0; numkeys], aggregate: Aggregate::Sum, with_scores: false, limit: 0 };
    let combines = op != SetOp::Diff && !card_only;
    while j < args.len() {
        let (opt, left) = (args.get(j), args.len() - j);
        if combines && left > numkeys && is(opt, "weights") {
            for (i, w) in o.weights.iter_mut().enumerate() {
                *w = string2d(args.get(j + 1 + i)).ok_or_else(|| CmdError::err("weight value is not a float"))?;
            }
            j += 1 + numkeys;
        } else if combines && left >= 2 && is(opt, "aggregate") {
            let a = args.get(j + 1);
            o.aggregate = match () {
                _ if is(a, "sum") => Aggregate::Sum,
                _ if is(a, "min") => Aggregate::Min,
                _ if is(a, "max") => Aggregate::Max,
                _ => return Err(CmdError::Syntax),
            };
            j += 2;
        } else if !store && !card_only && is(opt, "withscores") {
            o.with_scores = true;
            j += 1;
        } else if card_only && left >= 2 && is(opt, "limit") {
            let limit = corvid_proto::resp::parse_i64(args.get(j + 1))
                .filter(|n| *n >= 0)
                .ok_or_else(|| CmdError::err("LIMIT can't be negative"))?;
            o.limit = usize::try_from(limit).unwrap_or(usize::MAX);
            j += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    Ok(o)
}

/// The members of the intersection with their aggregated scores, or only
/// how many there are (up to `limit`, 0 for all) when `card_only`.
fn intersect(srcs: &[(Source<'_>, f64)], o: &SetOpOptions, card_only: bool) -> (Vec<(Vec<u8>, f64)>, usize) {
    let mut found = Vec::new();
    let mut card = 0;
    let (first, w0) = srcs[0];
    'members: for (m, s) in first.iter() {
        let member = m.to_bytes();
        let mut score = w0 * s;
        if score.is_nan() {
            score = 0.0;
        }
        for &(src, w) in &srcs[1..] {
            let v = if src.same_value(&first) { Some(s) } else { src.score(&member) };
            match v {
                Some(v) => o.aggregate.apply(&mut score, v * w),
                None => continue 'members,
            }
        }
        if card_only {
            card += 1;
            if o.limit > 0 && card >= o.limit {
                break;
            }
        } else {
            found.push((member, score));
        }
    }
    (found, card)
}

fn union(srcs: &[(Source<'_>, f64)], o: &SetOpOptions) -> Vec<(Vec<u8>, f64)> {
    let largest = srcs.last().map_or(0, |(s, _)| s.len());
    let mut acc: HashMap<Vec<u8>, f64, foldhash::fast::RandomState> =
        HashMap::with_capacity_and_hasher(largest, Default::default());
    for &(src, w) in srcs {
        for (m, s) in src.iter() {
            let mut score = w * s;
            if score.is_nan() {
                score = 0.0;
            }
            let mut buf = itoa::Buffer::new();
            match acc.get_mut(member_bytes(m, &mut buf)) {
                Some(total) => o.aggregate.apply(total, score),
                None => {
                    acc.insert(m.to_bytes(), score);
                }
            }
        }
    }
    acc.into_iter().collect()
}

/// The first input's members found in no other input, with its scores.
fn difference(srcs: &[(Source<'_>, f64)]) -> Vec<(Vec<u8>, f64)> {
    let first = srcs[0].0;
    if srcs[1..].iter().any(|(s, _)| s.same_value(&first)) {
        return Vec::new();
    }
    first
        .iter()
        .map(|(m, s)| (m.to_bytes(), s))
        .filter(|(m, _)| srcs[1..].iter().all(|(src, _)| src.score(m).is_none()))
        .collect()
}

/// ZUNION, ZINTER, ZDIFF, ZUNIONSTORE, ZINTERSTORE, ZDIFFSTORE and
/// ZINTERCARD (zunionInterDiffGenericCommand); `numkeys_at` is 1, or 2
/// after a destination.
fn set_op_generic(ctx: &mut Ctx<'_>, args: &Args<'_>, numkeys_at: usize, op: SetOp, card_only: bool) -> CmdResult {
    let store = numkeys_at == 2;
    let numkeys = arg_i64(args.get(numkeys_at))?;
    if numkeys < 1 {
        return Err(CmdError::err(format!("at least 1 input key is needed for '{}' command", ctx.spec.full_name)));
    }
    if numkeys > (args.len() - numkeys_at - 1) as i64 {
        return Err(CmdError::Syntax);
    }
    let numkeys = numkeys as usize;
    let keys = numkeys_at + 1..numkeys_at + 1 + numkeys;
    // Every key is looked up (and type checked) before the options are read.
    for key in keys.clone().map(|i| args.get(i)) {
        match ctx.srv.db.lookup(ctx.db, key, Lookup::READ).map(|e| e.value()) {
            None | Some(ValueRef::ZSet(_) | ValueRef::Set(_)) => {}
            Some(_) => return Err(CmdError::WrongType),
        }
    }
    let o = parse_set_op_options(args, keys.end, numkeys, op, store, card_only)?;

    let table = &ctx.srv.db.dbs[ctx.db];
    let mut srcs: Vec<(Source<'_>, f64)> = keys
        .map(|i| match table.get(args.get(i)).map(|e| e.value()) {
            Some(ValueRef::ZSet(z)) => Source::Sorted(z),
            Some(ValueRef::Set(s)) => Source::Plain(s),
            _ => Source::Missing,
        })
        .zip(o.weights.iter().copied())
        .collect();
    if op != SetOp::Diff {
        // Smallest first: the intersection walks the smallest input.
        srcs.sort_by_key(|(s, _)| s.len());
    }
    let (mut result, card) = match op {
        _ if srcs[0].0.len() == 0 && op != SetOp::Union => (Vec::new(), 0),
        SetOp::Inter => intersect(&srcs, &o, card_only),
        SetOp::Union => (union(&srcs, &o), 0),
        SetOp::Diff => (difference(&srcs), 0),
    };
    if card_only {
        ctx.out.int(card as i64);
        return Ok(());
    }
    result.sort_by(|a, b| crate::skiplist::order((&a.0, a.1), (&b.0, b.1)));
    if store {
        let (max_entries, max_value) = thresholds(ctx.srv);
        store_result(ctx, args.get(1), ZSet::from_sorted_pairs(&result, max_entries, max_value));
        return Ok(());
    }
    elements_header(ctx.out, result.len(), o.with_scores);
    for (m, s) in &result {
        element(ctx.out, LpValue::Str(m), o.with_scores.then_some(*s));
    }
    Ok(())
}

/// ZUNION numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]
fn zunion(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    set_op_generic(ctx, args, 1, SetOp::Union, false)
}

/// ZINTER numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]
fn zinter(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    set_op_generic(ctx, args, 1, SetOp::Inter, false)
}

/// ZDIFF numkeys key [key ...] [WITHSCORES]
fn zdiff(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    set_op_generic(ctx, args, 1, SetOp::Diff, false)
}

/// ZUNIONSTORE destination numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX]
fn zunionstore(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    set_op_generic(ctx, args, 2, SetOp::Union, false)
}

/// ZINTERSTORE destination numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX]
fn zinterstore(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    set_op_generic(ctx, args, 2, SetOp::Inter, false)
}

/// ZDIFFSTORE destination numkeys key [key ...]
fn zdiffstore(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    set_op_generic(ctx, args, 2, SetOp::Diff, false)
}

/// ZINTERCARD numkeys key [key ...] [LIMIT limit]
fn zintercard(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    set_op_generic(ctx, args, 1, SetOp::Inter, true)
}

// ---------------------------------------------------------------------------
// ZPOPMIN, ZPOPMAX, ZMPOP, ZRANDMEMBER.
// ---------------------------------------------------------------------------

/// How a pop replies (genericZpopCommand's emitkey / use_nested_array /
/// reply_nil_when_empty).
#[derive(Clone, Copy)]
enum PopReply {
    /// ZPOPMIN/ZPOPMAX: [member, score, ...] (RESP3 with a count: pairs).
    Flat { nested: bool },
    /// BZPOPMIN/BZPOPMAX: [key, member, score].
    KeyFlat,
    /// ZMPOP: [key, [[member, score], ...]], nil when nothing to pop.
    WithKey,
}

/// Pop up to `count` (None: one, Some(0): none) elements from the lowest
/// or (`highest`) the highest end of the first existing set among `keys`.
fn pop_generic<'k>(
    ctx: &mut Ctx<'_>,
    keys: impl Iterator<Item = &'k [u8]>,
    highest: bool,
    count: Option<usize>,
    shape: PopReply,
) -> CmdResult {
    let db = ctx.db;
    let mut found = None;
    for key in keys {
        if write_as::<ZSet>(&mut ctx.srv.db, db, key)?.is_some() {
            found = Some(key);
            break;
        }
    }
    let Some(key) = found else {
        match shape {
            PopReply::WithKey | PopReply::KeyFlat => ctx.out.null_array(),
            PopReply::Flat { .. } => ctx.out.array(0),
        }
        return Ok(());
    };
    if count == Some(0) {
        ctx.out.array(0);
        return Ok(());
    }
    let z = write_as::<ZSet>(&mut ctx.srv.db, db, key)?.expect("found above");
    let n = count.unwrap_or(1).min(z.len());
    let nested = match shape {
        PopReply::Flat { nested: false } => {
            ctx.out.array(2 * n);
            false
        }
        PopReply::Flat { nested: true } => {
            ctx.out.array(n);
            true
        }
        PopReply::WithKey => {
            ctx.out.array(2);
            ctx.out.bulk(key);
            ctx.out.array(n);
            true
        }
        PopReply::KeyFlat => {
            ctx.out.array(3);
            ctx.out.bulk(key);
            false
        }
    };
    for _ in 0..n {
        let (member, score) = z.pop(highest).expect("counted");
        if nested {
            ctx.out.array(2);
        }
        ctx.out.bulk(&member);
        ctx.out.double(score);
    }
    let emptied = z.is_empty();
    finish_removal(&mut ctx.srv.db, db, key, n, emptied);
    if let PopReply::WithKey = shape {
        // ZMPOP and BZMPOP reach replicas as the plain pop with a count.
        let name: &[u8] = if highest { b"ZPOPMAX" } else { b"ZPOPMIN" };
        ctx.srv.rewrite_as(|| vec![name.to_vec(), key.to_vec(), n.to_string().into_bytes()]);
    }
    Ok(())
}

/// ZPOPMIN/ZPOPMAX key [count]
fn pop_min_max(ctx: &mut Ctx<'_>, args: &Args<'_>, highest: bool) -> CmdResult {
    if args.len() > 3 {
        return Err(CmdError::Syntax);
    }
    let count = match args.len() {
        3 => Some(usize::try_from(arg_positive(args.get(2))?).unwrap_or(usize::MAX)),
        _ => None,
    };
    let nested = ctx.out.resp3 && count.is_some();
    pop_generic(ctx, std::iter::once(args.get(1)), highest, count, PopReply::Flat { nested })
}

fn zpopmin(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    pop_min_max(ctx, args, false)
}

fn zpopmax(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    pop_min_max(ctx, args, true)
}

/// The keys, end and count of ZMPOP/BZMPOP, whose `numkeys` is `args[at]`.
fn parse_zmpop<'a>(args: &Args<'a>, at: usize) -> Result<(Vec<&'a [u8]>, bool, usize), CmdError> {
    let numkeys = arg_i64_range(args.get(at), 1, i64::MAX, "numkeys should be greater than 0")? as usize;
    let end_at = numkeys.checked_add(at + 1).filter(|&i| i < args.len()).ok_or(CmdError::Syntax)?;
    let which = args.get(end_at);
    let highest = match () {
        _ if is(which, "min") => false,
        _ if is(which, "max") => true,
        _ => return Err(CmdError::Syntax),
    };
    let mut count = None;
    let mut j = end_at + 1;
    while j < args.len() {
        if count.is_none() && is(args.get(j), "count") && j + 1 < args.len() {
            count = Some(arg_i64_range(args.get(j + 1), 1, i64::MAX, "count should be greater than 0")? as usize);
            j += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    Ok(((at + 1..end_at).map(|i| args.get(i)).collect(), highest, count.unwrap_or(1)))
}

/// ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]
fn zmpop(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let (keys, highest, count) = parse_zmpop(args, 1)?;
    pop_generic(ctx, keys.into_iter(), highest, Some(count), PopReply::WithKey)
}

/// The first of `keys` holding a sorted set (WRONGTYPE for another type).
fn first_zset<'k>(ctx: &mut Ctx<'_>, keys: &[&'k [u8]]) -> Result<Option<&'k [u8]>, CmdError> {
    for &k in keys {
        if write_as::<ZSet>(&mut ctx.srv.db, ctx.db, k)?.is_some() {
            return Ok(Some(k));
        }
    }
    Ok(None)
}

/// BZPOPMIN/BZPOPMAX key [key ...] timeout: [key, member, score] from the
/// first non-empty set, else wait.
fn blocking_pop_min_max(ctx: &mut Ctx<'_>, args: &Args<'_>, highest: bool) -> CmdResult {
    let deadline = crate::blocking::parse_timeout(args.get(args.len() - 1), ctx.srv.db.now_ms)?;
    let keys: Vec<&[u8]> = (1..args.len() - 1).map(|i| args.get(i)).collect();
    match first_zset(ctx, &keys)? {
        Some(key) => {
            pop_generic(ctx, std::iter::once(key), highest, None, PopReply::KeyFlat)?;
            let name: &[u8] = if highest { b"ZPOPMAX" } else { b"ZPOPMIN" };
            ctx.srv.rewrite_as(|| vec![name.to_vec(), key.to_vec()]);
        }
        None => crate::blocking::block(ctx, args, &keys, deadline),
    }
    Ok(())
}

fn bzpopmin(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    blocking_pop_min_max(ctx, args, false)
}

fn bzpopmax(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    blocking_pop_min_max(ctx, args, true)
}

/// BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]
fn bzmpop(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let deadline = crate::blocking::parse_timeout(args.get(1), ctx.srv.db.now_ms)?;
    let (keys, highest, count) = parse_zmpop(args, 2)?;
    match first_zset(ctx, &keys)? {
        Some(key) => pop_generic(ctx, std::iter::once(key), highest, Some(count), PopReply::WithKey)?,
        None => crate::blocking::block(ctx, args, &keys, deadline),
    }
    Ok(())
}

/// ZRANDMEMBER key [count [WITHSCORES]]
fn zrandmember(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    if args.len() < 3 {
        let db = ctx.db;
        if read_as::<ZSet>(&mut ctx.srv.db, db, args.get(1))?.is_none() {
            ctx.out.null();
            return Ok(());
        }
        let d = &mut ctx.srv.db;
        let (m, _) = peek(&d.dbs[db], args.get(1)).random(&mut d.rng).expect("stored sets are never empty");
        bulk_element(ctx.out, m);
        return Ok(());
    }
    let count = arg_i64_between(args.get(2), -i64::MAX, i64::MAX)?;
    if args.len() > 4 || (args.len() == 4 && !is(args.get(3), "withscores")) {
        return Err(CmdError::Syntax);
    }
    let with_scores = args.len() == 4;
    if with_scores && !(-i64::MAX / 2..=i64::MAX / 2).contains(&count) {
        return Err(CmdError::OutOfRange);
    }
    random_members(ctx, args.get(1), count, with_scores)
}

/// ZRANDMEMBER with a count (zrandmemberWithCountCommand): negative means
/// repeats allowed, in random order; positive means distinct members, all
/// of them once the count reaches the size.
fn random_members(ctx: &mut Ctx<'_>, key: &[u8], count: i64, with_scores: bool) -> CmdResult {
    let db = ctx.db;
    if read_as::<ZSet>(&mut ctx.srv.db, db, key)?.is_none() || count == 0 {
        ctx.out.array(0);
        return Ok(());
    }
    let d = &mut ctx.srv.db;
    let z = peek(&d.dbs[db], key);
    let (out, rng) = (&mut *ctx.out, &mut d.rng);
    let score = |s: f64| with_scores.then_some(s);
    let size = z.len();
    let wanted = count.unsigned_abs();
    if count < 0 || wanted == 1 {
        if wanted > MAX_RANDOM_PICKS {
            return Err(CmdError::OutOfRange);
        }
        let n = wanted as usize;
        elements_header(out, n, with_scores);
        // A listpack is walked once rather than once per pick.
        let all: Vec<(LpValue<'_>, f64)> = match z.dict() {
            None => z.iter().collect(),
            Some(_) => Vec::new(),
        };
        for _ in 0..n {
            let (m, s) = match all.is_empty() {
                true => z.random(rng).expect("non-empty"),
                false => all[rng.random_range(0..all.len())],
            };
            element(out, m, score(s));
        }
        return Ok(());
    }
    let n = (wanted as usize).min(size);
    elements_header(out, n, with_scores);
    if n == size {
        // All of them, in zuiNext's order: highest score first.
        z.iter_rev().for_each(|(m, s)| element(out, m, score(s)));
        return Ok(());
    }
    // Redis's ZRANDMEMBER_SUB_STRATEGY_MUL: when most members are wanted
    // (or the set is a small listpack), draw from a copy of all of them;
    // else pick at random until enough are distinct.
    if n * 3 > size || z.dict().is_none() {
        let mut all: Vec<(LpValue<'_>, f64)> = z.iter().collect();
        for i in 0..n {
            let j = rng.random_range(i..all.len());
            all.swap(i, j);
        }
        all[..n].iter().for_each(|&(m, s)| element(out, m, score(s)));
        return Ok(());
    }
    let mut seen = HashSet::with_capacity(n);
    while seen.len() < n {
        let (m, s) = z.random(rng).expect("non-empty");
        if seen.insert(m.to_bytes()) {
            element(out, m, score(s));
        }
    }
    Ok(())
}

pub fn register(r: &mut Registry) {
    r.add("zadd", zadd);
    r.add("zincrby", zincrby);
    r.add("zrem", zrem);
    r.add("zremrangebyrank", zremrangebyrank);
    r.add("zremrangebyscore", zremrangebyscore);
    r.add("zremrangebylex", zremrangebylex);
    r.add("zcard", zcard);
    r.add("zscore", zscore);
    r.add("zmscore", zmscore);
    r.add("zrank", zrank);
    r.add("zrevrank", zrevrank);
    r.add("zcount", zcount);
    r.add("zlexcount", zlexcount);
    r.add("zrange", zrange);
    r.add("zrevrange", zrevrange);
    r.add("zrangebyscore", zrangebyscore);
    r.add("zrevrangebyscore", zrevrangebyscore);
    r.add("zrangebylex", zrangebylex);
    r.add("zrevrangebylex", zrevrangebylex);
    r.add("zrangestore", zrangestore);
    r.add("zunion", zunion);
    r.add("zinter", zinter);
    r.add("zdiff", zdiff);
    r.add("zunionstore", zunionstore);
    r.add("zinterstore", zinterstore);
    r.add("zdiffstore", zdiffstore);
    r.add("zintercard", zintercard);
    r.add("zpopmin", zpopmin);
    r.add("zpopmax", zpopmax);
    r.add("zmpop", zmpop);
    r.add("bzpopmin", bzpopmin);
    r.add("bzpopmax", bzpopmax);
    r.add("bzmpop", bzmpop);
    r.add("zrandmember", zrandmember);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse_like_redis() {
        let r = ScoreRange::parse(b"(1", b"").unwrap();
        assert!(r.min_exclusive && r.min == 1.0 && !r.max_exclusive && r.max == 0.0);
        assert!(ScoreRange::parse(b"( 1", b" 2").is_ok());
        assert!(ScoreRange::parse(b"1 ", b"2").is_err());
        assert!(ScoreRange::parse(b"nan", b"2").is_err());
        assert!(LexRange::parse(b"-", b"+").is_ok());
        assert!(LexRange::parse(b"-a", b"+").is_err());
        assert!(LexRange::parse(b"a", b"+").is_err());
        assert!(LexRange::parse(b"(", b"[").is_ok());
        assert_eq!(clamp_range(-100, 100, 3), Some((0, 2)));
        assert_eq!(clamp_range(2, 1, 3), None);
        assert_eq!(clamp_range(i64::MIN, -1, 3), Some((0, 2)));
    }
}
