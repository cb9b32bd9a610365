//! The geo commands (Redis's geo.c): points stored in sorted sets, each
//! member's score its 52-bit geohash ([`crate::geo`]), so GEOADD is a ZADD
//! of computed scores and a search scans the score ranges of a few cells.
//!
//! Arguments are checked in Redis's order (the source key's type first,
//! then the centre, the extent and the options, with FROMMEMBER's member
//! looked up as it is parsed), because which error a bad command gets is
//! part of the protocol.

use corvid_proto::resp::{Args, Reply};

use super::zset::add_pairs;
use super::{arg_f64, arg_i64, is, read_as};
use crate::dispatch::{Ctx, Registry};
use crate::errors::{CmdError, CmdResult};
use crate::geo::hash::{self, LAT_MAX, LAT_MIN, LONG_MAX, LONG_MIN};
use crate::geo::search::{self, Extent, Shape};
use crate::geo::{format_coordinate, format_distance};
use crate::keyspace::OwnedValue;
use crate::zset::{member_bytes, AddFlags, ZSet};

const BAD_MEMBER: &str = "could not decode requested zset member";

// ---------------------------------------------------------------------------
// Arguments.
// ---------------------------------------------------------------------------

/// A unit's size in meters (extractUnitOrReply).
fn arg_unit(a: &[u8]) -> Result<f64, CmdError> {
    match a {
        _ if is(a, "m") => Ok(1.0),
        _ if is(a, "km") => Ok(1000.0),
        _ if is(a, "ft") => Ok(0.3048),
        _ if is(a, "mi") => Ok(1609.34),
        _ => Err(CmdError::err("unsupported unit provided. please use M, KM, FT, MI")),
    }
}

/// A longitude and a latitude, both parsed before the range is checked
/// (extractLongLatOrReply).
fn arg_lon_lat(lon: &[u8], lat: &[u8]) -> Result<(f64, f64), CmdError> {
    let (lon, lat) = (arg_f64(lon)?, arg_f64(lat)?);
    if !(LONG_MIN..=LONG_MAX).contains(&lon) || !(LAT_MIN..=LAT_MAX).contains(&lat) {
        return Err(CmdError::err(format!("invalid longitude,latitude pair {lon:.6},{lat:.6}")));
    }
    Ok((lon, lat))
}

/// A float argument with the error Redis gives it by name.
fn arg_f64_named(a: &[u8], msg: &str) -> Result<f64, CmdError> {
    arg_f64(a).map_err(|_| CmdError::err(msg))
}

/// `radius unit`: the radius and the unit's meters (extractDistanceOrReply).
fn arg_radius(radius: &[u8], unit: &[u8]) -> Result<(Extent, f64), CmdError> {
    let r = arg_f64_named(radius, "need numeric radius")?;
    if r < 0.0 {
        return Err(CmdError::err("radius cannot be negative"));
    }
    Ok((Extent::Radius(r), arg_unit(unit)?))
}

/// `width height unit` (extractBoxOrReply).
fn arg_box(width: &[u8], height: &[u8], unit: &[u8]) -> Result<(Extent, f64), CmdError> {
    let width = arg_f64_named(width, "need numeric width")?;
    let height = arg_f64_named(height, "need numeric height")?;
    if height < 0.0 || width < 0.0 {
        return Err(CmdError::err("height or width cannot be negative"));
    }
    Ok((Extent::Box { width, height }, arg_unit(unit)?))
}

/// A member's position, from its score.
fn position_of(z: &ZSet, member: &[u8]) -> Option<(f64, f64)> {
    z.score(member).and_then(hash::decode_score)
}

/// A coordinate: a bulk string in RESP2, a double in RESP3
/// (addReplyHumanLongDouble).
fn reply_coordinate(out: &mut Reply, v: f64) {
    let text = format_coordinate(v);
    if out.resp3 {
        out.raw(b",");
        out.raw(text.as_bytes());
        out.raw(b"\r\n");
    } else {
        out.bulk(text.as_bytes());
    }
}

// ---------------------------------------------------------------------------
// GEOADD, GEODIST, GEOHASH, GEOPOS.
// ---------------------------------------------------------------------------

/// GEOADD key [NX|XX] [CH] longitude latitude member [longitude latitude
/// member ...]: ZADD of each point's geohash score; replicated as that
/// ZADD.
fn geoadd(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let (mut flags, mut changed, mut at) = (AddFlags::default(), false, 2);
    while at < args.len() {
        match args.get(at) {
            o if is(o, "nx") => flags.nx = true,
            o if is(o, "xx") => flags.xx = true,
            o if is(o, "ch") => changed = true,
            _ => break,
        }
        at += 1;
    }
    let rest = args.len() - at;
    if rest == 0 || !rest.is_multiple_of(3) || (flags.xx && flags.nx) {
        return Err(CmdError::Syntax);
    }
    let mut pairs = Vec::with_capacity(rest / 3);
    for i in (at..args.len()).step_by(3) {
        let (lon, lat) = arg_lon_lat(args.get(i), args.get(i + 1))?;
        let score = hash::score_of(lon, lat).expect("checked within range");
        pairs.push((score as f64, args.get(i + 2)));
    }
    if crate::replication::propagating(ctx.srv) {
        let mut argv: Vec<Vec<u8>> = Vec::with_capacity(at + 2 * pairs.len());
        argv.push(b"zadd".to_vec());
        argv.extend((1..at).map(|i| args.get(i).to_vec()));
        for &(score, member) in &pairs {
            argv.push(itoa::Buffer::new().format(score as u64).as_bytes().to_vec());
            argv.push(member.to_vec());
        }
        ctx.srv.rewrite_as(|| argv);
    }
    add_pairs(ctx, args.get(1), flags, changed, &pairs)
}

/// GEODIST key member1 member2 [M|KM|FT|MI]: null if either is missing.
fn geodist(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let to_meters = match args.len() {
        4 => 1.0,
        5 => arg_unit(args.get(4))?,
        _ => return Err(CmdError::Syntax),
    };
    let Some(z) = read_as::<ZSet>(&mut ctx.srv.db, ctx.db, args.get(1))? else {
        ctx.out.null();
        return Ok(());
    };
    match (position_of(z, args.get(2)), position_of(z, args.get(3))) {
        (Some((lon1, lat1)), Some((lon2, lat2))) => {
            let d = search::distance(lon1, lat1, lon2, lat2) / to_meters;
            ctx.out.bulk(format_distance(d).as_bytes());
        }
        _ => ctx.out.null(),
    }
    Ok(())
}

/// GEOHASH key [member ...]: each member's standard 11-character geohash,
/// null for missing ones.
fn geohash(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let z = read_as::<ZSet>(&mut ctx.srv.db, ctx.db, args.get(1))?;
    ctx.out.array(args.len() - 2);
    for member in args.iter().skip(2) {
        match z.and_then(|z| position_of(z, member)) {
            Some((lon, lat)) => ctx.out.bulk(&hash::standard_string(lon, lat)),
            None => ctx.out.null(),
        }
    }
    Ok(())
}

/// GEOPOS key [member ...]: each member's [longitude, latitude], a null
/// array for missing ones.
fn geopos(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let z = read_as::<ZSet>(&mut ctx.srv.db, ctx.db, args.get(1))?;
    ctx.out.array(args.len() - 2);
    for member in args.iter().skip(2) {
        match z.and_then(|z| position_of(z, member)) {
            Some((lon, lat)) => {
                ctx.out.array(2);
                reply_coordinate(ctx.out, lon);
                reply_coordinate(ctx.out, lat);
            }
            None => ctx.out.null_array(),
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// GEOSEARCH, GEOSEARCHSTORE and the GEORADIUS family.
// ---------------------------------------------------------------------------

/// Which command of the search family runs (georadiusGeneric's flags).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Variant {
    /// GEORADIUS[_RO] key longitude latitude radius unit ...
    Radius { store_allowed: bool },
    /// GEORADIUSBYMEMBER[_RO] key member radius unit ...
    RadiusByMember { store_allowed: bool },
    /// GEOSEARCH key FROMMEMBER|FROMLONLAT ... BYRADIUS|BYBOX ...
    Search,
    /// GEOSEARCHSTORE destination source ... [STOREDIST]
    SearchStore,
}

impl Variant {
    fn is_search(self) -> bool {
        matches!(self, Variant::Search | Variant::SearchStore)
    }

    fn store_allowed(self) -> bool {
        matches!(self, Variant::Radius { store_allowed: true } | Variant::RadiusByMember { store_allowed: true })
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Order {
    Unsorted,
    Asc,
    Desc,
}

/// A parsed search. `shape` is None only when the source key is missing,
/// as then a member centre cannot be resolved (nor needs to be).
struct Request<'a> {
    shape: Option<Shape>,
    with_dist: bool,
    with_hash: bool,
    with_coord: bool,
    order: Order,
    /// At most this many results; 0 for all.
    count: usize,
    /// Stop scanning once `count` points were found, nearest or not.
    any: bool,
    /// Where to store the results, and whether as distances.
    store: Option<(&'a [u8], bool)>,
}

/// Parse a search's arguments, the source set (if any) at hand for member
/// centres.
fn parse_search<'a>(args: &Args<'a>, variant: Variant, z: Option<&ZSet>) -> Result<Request<'a>, CmdError> {
    let mut center: Option<(f64, f64)> = None;
    let mut extent: Option<(Extent, f64)> = None;
    let mut store = None;
    let base = match variant {
        Variant::Radius { .. } => {
            center = Some(arg_lon_lat(args.get(2), args.get(3))?);
            extent = Some(arg_radius(args.get(4), args.get(5))?);
            6
        }
        Variant::RadiusByMember { .. } => {
            if let Some(z) = z {
                center = Some(position_of(z, args.get(2)).ok_or_else(|| CmdError::err(BAD_MEMBER))?);
                extent = Some(arg_radius(args.get(3), args.get(4))?);
            }
            5
        }
        Variant::Search => 2,
        Variant::SearchStore => {
            store = Some((args.get(1), false));
            3
        }
    };
    let mut req = Request { shape: None, with_dist: false, with_hash: false, with_coord: false, order: Order::Unsorted, count: 0, any: false, store };
    let (mut from_member, mut from_lonlat, mut by_radius, mut by_box) = (false, false, false, false);
    let mut i = base;
    while i < args.len() {
        let arg = args.get(i);
        let remaining = args.len() - i - 1;
        let search = variant.is_search();
        match () {
            _ if is(arg, "withdist") => req.with_dist = true,
            _ if is(arg, "withhash") => req.with_hash = true,
            _ if is(arg, "withcoord") => req.with_coord = true,
            _ if is(arg, "any") => req.any = true,
            _ if is(arg, "asc") => req.order = Order::Asc,
            _ if is(arg, "desc") => req.order = Order::Desc,
            _ if is(arg, "count") && remaining >= 1 => {
                let n = arg_i64(args.get(i + 1))?;
                if n <= 0 {
                    return Err(CmdError::err("COUNT must be > 0"));
                }
                req.count = usize::try_from(n).unwrap_or(usize::MAX);
                i += 1;
            }
            _ if (is(arg, "store") || is(arg, "storedist")) && remaining >= 1 && variant.store_allowed() => {
                req.store = Some((args.get(i + 1), is(arg, "storedist")));
                i += 1;
            }
            _ if is(arg, "storedist") && variant == Variant::SearchStore => {
                req.store = Some((args.get(1), true));
            }
            _ if is(arg, "frommember") && remaining >= 1 && search && !from_lonlat => {
                if let Some(z) = z {
                    center = Some(position_of(z, args.get(i + 1)).ok_or_else(|| CmdError::err(BAD_MEMBER))?);
                }
                from_member = true;
                i += 1;
            }
            _ if is(arg, "fromlonlat") && remaining >= 2 && search && !from_member => {
                center = Some(arg_lon_lat(args.get(i + 1), args.get(i + 2))?);
                from_lonlat = true;
                i += 2;
            }
            _ if is(arg, "byradius") && remaining >= 2 && search && !by_box => {
                extent = Some(arg_radius(args.get(i + 1), args.get(i + 2))?);
                by_radius = true;
                i += 2;
            }
            _ if is(arg, "bybox") && remaining >= 3 && search && !by_radius => {
                extent = Some(arg_box(args.get(i + 1), args.get(i + 2), args.get(i + 3))?);
                by_box = true;
                i += 3;
            }
            _ => return Err(CmdError::Syntax),
        }
        i += 1;
    }
    if req.store.is_some() && (req.with_dist || req.with_hash || req.with_coord) {
        let what = if variant == Variant::SearchStore { "GEOSEARCHSTORE" } else { "STORE option in GEORADIUS" };
        return Err(CmdError::err(format!("{what} is not compatible with WITHDIST, WITHHASH and WITHCOORD options")));
    }
    let name = String::from_utf8_lossy(args.get(0));
    if variant.is_search() && !(from_member || from_lonlat) {
        return Err(CmdError::err(format!("exactly one of FROMMEMBER or FROMLONLAT can be specified for {name}")));
    }
    if variant.is_search() && !(by_radius || by_box) {
        return Err(CmdError::err(format!("exactly one of BYRADIUS and BYBOX can be specified for {name}")));
    }
    if req.any && req.count == 0 {
        return Err(CmdError::err("the ANY argument requires COUNT argument"));
    }
    if let (Some((longitude, latitude)), Some((extent, to_meters))) = (center, extent) {
        req.shape = Some(Shape { longitude, latitude, extent, to_meters });
    }
    Ok(req)
}

/// A point a search found.
struct Found {
    member: Vec<u8>,
    score: f64,
    longitude: f64,
    latitude: f64,
    /// From the centre, in meters.
    dist: f64,
}

/// The points of `z` within `shape`, cell by cell in Redis's order;
/// scanning stops once `limit` points were found (0: no limit).
fn points_within(z: &ZSet, shape: &Shape, limit: usize) -> Vec<Found> {
    let mut found = Vec::new();
    let cells = shape.cells();
    let mut last_scanned = 0;
    let full = |found: &Vec<Found>| limit > 0 && found.len() >= limit;
    for (i, cell) in cells.iter().enumerate() {
        if cell.is_none() {
            continue;
        }
        // Huge radii can make neighbours coincide; scan each once. (The
        // centre cell is index 0, which Redis never compares against.)
        if last_scanned != 0 && *cell == cells[last_scanned] {
            continue;
        }
        if full(&found) {
            break;
        }
        let (min, max) = search::score_range(*cell);
        let first = z.count_while(|_, s| s < min);
        let mut buf = itoa::Buffer::new();
        for (member, score) in z.iter_from(first, false) {
            if score >= max {
                break;
            }
            if let Some((longitude, latitude)) = hash::decode_score(score) {
                if let Some(dist) = shape.contains(longitude, latitude) {
                    let member = member_bytes(member, &mut buf).to_vec();
                    found.push(Found { member, score, longitude, latitude, dist });
                }
            }
            if full(&found) {
                break;
            }
        }
        last_scanned = i;
    }
    found
}

/// The search commands' shared body (georadiusGeneric).
fn search_generic(ctx: &mut Ctx<'_>, args: &Args<'_>, variant: Variant) -> CmdResult {
    let db = ctx.db;
    let src = args.get(if variant == Variant::SearchStore { 2 } else { 1 });
    let z = read_as::<ZSet>(&mut ctx.srv.db, db, src)?;
    let req = parse_search(args, variant, z)?;
    let (Some(z), Some(shape)) = (z, req.shape) else {
        match req.store {
            Some((dst, _)) => {
                if ctx.srv.db.delete(db, dst) {
                    ctx.srv.modified_keys = Some(vec![(db, dst.to_vec())]);
                }
                ctx.out.int(0);
            }
            None => ctx.out.array(0),
        }
        return Ok(());
    };
    let order = if req.count != 0 && req.order == Order::Unsorted && !req.any { Order::Asc } else { req.order };
    let mut found = points_within(z, &shape, if req.any { req.count } else { 0 });
    if found.is_empty() && req.store.is_none() {
        ctx.out.array(0);
        return Ok(());
    }
    // A stable sort, as glibc's qsort sorts small arrays.
    match order {
        Order::Asc => found.sort_by(|a, b| a.dist.partial_cmp(&b.dist).unwrap_or(std::cmp::Ordering::Equal)),
        Order::Desc => found.sort_by(|a, b| b.dist.partial_cmp(&a.dist).unwrap_or(std::cmp::Ordering::Equal)),
        Order::Unsorted => {}
    }
    if req.count != 0 {
        found.truncate(req.count);
    }
    match req.store {
        None => reply_found(ctx.out, &req, &found, shape.to_meters),
        Some((dst, store_dist)) => {
            let (max_entries, max_value) = super::zset::thresholds(ctx.srv);
            let mut result = ZSet::default();
            for p in &found {
                let score = if store_dist { p.dist / shape.to_meters } else { p.score };
                result.insert(&p.member, score, max_entries, max_value);
            }
            let n = found.len();
            if n > 0 {
                ctx.srv.db.set_owned(db, dst, OwnedValue::ZSet(result), None);
                // Redis counts the elements stored, not the key.
                ctx.srv.db.dirty += n as u64 - 1;
                ctx.srv.modified_keys = Some(vec![(db, dst.to_vec())]);
            } else if ctx.srv.db.delete(db, dst) {
                ctx.srv.modified_keys = Some(vec![(db, dst.to_vec())]);
            }
            ctx.out.int(n as i64);
        }
    }
    Ok(())
}

/// The found points as a reply: bare members, or [member, distance?,
/// hash?, [longitude, latitude]?] each with options.
fn reply_found(out: &mut Reply, req: &Request<'_>, found: &[Found], to_meters: f64) {
    let options = req.with_dist as usize + req.with_hash as usize + req.with_coord as usize;
    out.array(found.len());
    for p in found {
        if options > 0 {
            out.array(options + 1);
        }
        out.bulk(&p.member);
        if req.with_dist {
            out.bulk(format_distance(p.dist / to_meters).as_bytes());
        }
        if req.with_hash {
            out.int(p.score as i64);
        }
        if req.with_coord {
            out.array(2);
            reply_coordinate(out, p.longitude);
            reply_coordinate(out, p.latitude);
        }
    }
}

/// GEORADIUS key longitude latitude radius M|KM|FT|MI [WITHCOORD]
/// [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC|DESC] [STORE key]
/// [STOREDIST key]
fn georadius(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    search_generic(ctx, args, Variant::Radius { store_allowed: true })
}

/// GEORADIUS_RO: GEORADIUS without STORE and STOREDIST.
fn georadius_ro(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    search_generic(ctx, args, Variant::Radius { store_allowed: false })
}

/// GEORADIUSBYMEMBER key member radius M|KM|FT|MI [options as GEORADIUS]
fn georadiusbymember(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    search_generic(ctx, args, Variant::RadiusByMember { store_allowed: true })
}

/// GEORADIUSBYMEMBER_RO: GEORADIUSBYMEMBER without STORE and STOREDIST.
fn georadiusbymember_ro(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    search_generic(ctx, args, Variant::RadiusByMember { store_allowed: false })
}

/// GEOSEARCH key FROMMEMBER member|FROMLONLAT longitude latitude
/// BYRADIUS radius unit|BYBOX width height unit [ASC|DESC]
/// [COUNT count [ANY]] [WITHCOORD] [WITHDIST] [WITHHASH]
fn geosearch(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    search_generic(ctx, args, Variant::Search)
}

/// GEOSEARCHSTORE destination source FROMMEMBER ...|FROMLONLAT ...
/// BYRADIUS ...|BYBOX ... [ASC|DESC] [COUNT count [ANY]] [STOREDIST]
fn geosearchstore(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    search_generic(ctx, args, Variant::SearchStore)
}

pub fn register(r: &mut Registry) {
    r.add("geoadd", geoadd);
    r.add("geodist", geodist);
    r.add("geohash", geohash);
    r.add("geopos", geopos);
    r.add("georadius", georadius);
    r.add("georadius_ro", georadius_ro);
    r.add("georadiusbymember", georadiusbymember);
    r.add("georadiusbymember_ro", georadiusbymember_ro);
    r.add("geosearch", geosearch);
    r.add("geosearchstore", geosearchstore);
}
