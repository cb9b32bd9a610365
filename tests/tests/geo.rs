//! The geo commands through the real door: GEOADD's scores (Redis's 52-bit
//! geohash), GEOPOS/GEOHASH/GEODIST text, the search family's replies,
//! options, stores and errors, in both sorted-set encodings and both
//! protocols, and GEOADD's replication as ZADD. Every expected reply was
//! taken from redis-server 7.0.15 and holds for it too.

use corvid_tests::{RawConn, Server};

const SYNTAX: &str = "-ERR syntax error\r\n";
const WRONGTYPE: &str = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";

/// A server whose sorted sets are listpacks, and one where they are
/// skiplists from the first member on: the search scans both alike.
fn servers() -> [Server; 2] {
    [Server::start(&[]), Server::start(&["--zset-max-listpack-entries", "0"])]
}

/// Redis's documentation example, plus two points near Palermo's circle.
fn sicily(c: &mut RawConn) {
    assert_eq!(c.cmd(&["GEOADD", "Sicily", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"]), ":2\r\n");
    assert_eq!(c.cmd(&["GEOADD", "Sicily", "12.758489", "38.788135", "edge1", "17.241510", "38.788135", "edge2"]), ":2\r\n");
}

#[test]
fn scores_positions_hashes_and_distances() {
    for server in servers() {
        let mut c = server.raw();
        sicily(&mut c);
        assert_eq!(c.cmd(&["ZSCORE", "Sicily", "Palermo"]), "$16\r\n3479099956230698\r\n");
        assert_eq!(
            c.cmd(&["GEOPOS", "Sicily", "Palermo", "nosuch"]),
            "*2\r\n*2\r\n$20\r\n13.36138933897018433\r\n$20\r\n38.11555639549629859\r\n*-1\r\n"
        );
        assert_eq!(c.cmd(&["GEOHASH", "Sicily", "Palermo", "Catania", "nosuch"]), "*3\r\n$11\r\nsqc8b49rny0\r\n$11\r\nsqdtr74hyu0\r\n$-1\r\n");
        assert_eq!(c.cmd(&["GEODIST", "Sicily", "Palermo", "Catania"]), "$11\r\n166274.1516\r\n");
        assert_eq!(c.cmd(&["GEODIST", "Sicily", "Palermo", "Catania", "km"]), "$8\r\n166.2742\r\n");
        assert_eq!(c.cmd(&["GEODIST", "Sicily", "Palermo", "Catania", "MI"]), "$8\r\n103.3182\r\n");
        assert_eq!(c.cmd(&["GEODIST", "Sicily", "Palermo", "Catania", "ft"]), "$11\r\n545518.8700\r\n");
        assert_eq!(c.cmd(&["GEODIST", "Sicily", "Palermo", "Palermo"]), "$6\r\n0.0000\r\n");
        assert_eq!(c.cmd(&["GEODIST", "Sicily", "Palermo", "nosuch"]), "$-1\r\n");
        assert_eq!(c.cmd(&["GEODIST", "nokey", "a", "b"]), "$-1\r\n");
        // A missing key reads as an empty set.
        assert_eq!(c.cmd(&["GEOPOS", "nokey", "a"]), "*1\r\n*-1\r\n");
        assert_eq!(c.cmd(&["GEOHASH", "nokey", "a"]), "*1\r\n$-1\r\n");
        // The projection's corners are valid points (the north-east one
        // decodes past the range and is clamped).
        assert_eq!(c.cmd(&["GEOADD", "corners", "-180", "-85.05112878", "sw", "180", "85.05112878", "ne"]), ":2\r\n");
        assert_eq!(
            c.cmd(&["GEOPOS", "corners", "sw", "ne"]),
            "*2\r\n*2\r\n$22\r\n-179.99999731779098511\r\n$21\r\n-85.05112751263942528\r\n\
             *2\r\n$3\r\n180\r\n$19\r\n85.0511287799999991\r\n"
        );

        // RESP3: coordinates are doubles, a missing position a null.
        c.cmd(&["HELLO", "3"]);
        assert_eq!(c.cmd(&["GEOPOS", "Sicily", "Palermo", "nosuch"]), "*2\r\n*2\r\n,13.36138933897018433\r\n,38.11555639549629859\r\n_\r\n");
        assert_eq!(
            c.cmd(&["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "100", "km", "WITHCOORD", "WITHDIST"]),
            "*1\r\n*3\r\n$7\r\nCatania\r\n$7\r\n56.4413\r\n*2\r\n,15.08726745843887329\r\n,37.50266842333162032\r\n"
        );
    }
}

#[test]
fn geoadd_options_and_errors() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    assert_eq!(c.cmd(&["GEOADD", "k", "1", "1", "a"]), ":1\r\n");
    assert_eq!(c.cmd(&["GEOADD", "k", "1", "1", "a"]), ":0\r\n");
    // CH counts changed positions too; NX and XX as in ZADD.
    assert_eq!(c.cmd(&["GEOADD", "k", "CH", "2", "2", "a", "3", "3", "b"]), ":2\r\n");
    assert_eq!(c.cmd(&["GEOADD", "k", "NX", "CH", "9", "9", "a", "4", "4", "c"]), ":1\r\n");
    assert_eq!(c.cmd(&["GEOADD", "k", "XX", "CH", "5", "5", "a", "6", "6", "d"]), ":1\r\n");
    assert_eq!(c.cmd(&["ZCARD", "k"]), ":3\r\n");
    assert_eq!(c.cmd(&["GEOADD", "absent", "XX", "1", "1", "a"]), ":0\r\n");
    assert_eq!(c.cmd(&["EXISTS", "absent"]), ":0\r\n");

    for (args, reply) in [
        (&["GEOADD", "k", "NX", "XX", "1", "1", "a"][..], SYNTAX),
        (&["GEOADD", "k", "FOO", "1", "1", "a"], SYNTAX),
        (&["GEOADD", "k", "1", "1", "a", "2"], SYNTAX),
        (&["GEOADD", "k", "CH", "NX", "CH"], SYNTAX),
        (&["GEOADD", "k", "abc", "1", "a"], "-ERR value is not a valid float\r\n"),
        (&["GEOADD", "k", "200", "100", "a"], "-ERR invalid longitude,latitude pair 200.000000,100.000000\r\n"),
        (&["GEOADD", "k", "1", "85.06", "a"], "-ERR invalid longitude,latitude pair 1.000000,85.060000\r\n"),
        // A bad point anywhere means nothing is added.
        (&["GEOADD", "k", "7", "7", "e", "-181", "0", "f"], "-ERR invalid longitude,latitude pair -181.000000,0.000000\r\n"),
    ] {
        assert_eq!(c.cmd(args), reply, "{args:?}");
    }
    assert_eq!(c.cmd(&["ZCARD", "k"]), ":3\r\n");
    c.cmd(&["SET", "str", "x"]);
    assert_eq!(c.cmd(&["GEOADD", "str", "1", "1", "a"]), WRONGTYPE);
    assert_eq!(c.cmd(&["GEOPOS", "str", "a"]), WRONGTYPE);
    assert_eq!(c.cmd(&["GEOHASH", "str", "a"]), WRONGTYPE);
    assert_eq!(c.cmd(&["GEODIST", "str", "a", "b"]), WRONGTYPE);
    assert_eq!(c.cmd(&["GEODIST", "str", "a", "b", "parsec"]), "-ERR unsupported unit provided. please use M, KM, FT, MI\r\n");
    assert_eq!(c.cmd(&["GEODIST", "k", "a", "b", "km", "extra"]), SYNTAX);
}

#[test]
fn searches() {
    for server in servers() {
        let mut c = server.raw();
        sicily(&mut c);
        assert_eq!(
            c.cmd(&["GEORADIUS", "Sicily", "15", "37", "200", "km", "WITHDIST", "WITHCOORD", "WITHHASH", "ASC"]),
            "*2\r\n*4\r\n$7\r\nCatania\r\n$7\r\n56.4413\r\n:3479447370796909\r\n*2\r\n$20\r\n15.08726745843887329\r\n$20\r\n37.50266842333162032\r\n\
             *4\r\n$7\r\nPalermo\r\n$8\r\n190.4424\r\n:3479099956230698\r\n*2\r\n$20\r\n13.36138933897018433\r\n$20\r\n38.11555639549629859\r\n"
        );
        assert_eq!(c.cmd(&["GEORADIUS", "Sicily", "15", "37", "200", "km", "DESC", "COUNT", "2"]), "*2\r\n$7\r\nPalermo\r\n$7\r\nCatania\r\n");
        assert_eq!(
            c.cmd(&["GEORADIUSBYMEMBER", "Sicily", "Palermo", "100", "km", "WITHDIST"]),
            "*2\r\n*2\r\n$7\r\nPalermo\r\n$6\r\n0.0000\r\n*2\r\n$5\r\nedge1\r\n$7\r\n91.4007\r\n"
        );
        assert_eq!(
            c.cmd(&["GEORADIUSBYMEMBER_RO", "Sicily", "Palermo", "100", "km"]),
            "*2\r\n$7\r\nPalermo\r\n$5\r\nedge1\r\n"
        );
        assert_eq!(
            c.cmd(&["GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYBOX", "400", "400", "km", "ASC", "WITHDIST"]),
            "*3\r\n*2\r\n$7\r\nPalermo\r\n$6\r\n0.0000\r\n*2\r\n$5\r\nedge1\r\n$7\r\n91.4007\r\n*2\r\n$7\r\nCatania\r\n$8\r\n166.2742\r\n"
        );
        // ANY takes the first points the scan finds, not the nearest.
        assert_eq!(c.cmd(&["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "COUNT", "1", "ANY"]), "*1\r\n$7\r\nPalermo\r\n");
        assert_eq!(c.cmd(&["GEOSEARCH", "Sicily", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km"]), "*0\r\n");
        assert_eq!(c.cmd(&["GEOSEARCH", "nokey", "FROMMEMBER", "x", "BYRADIUS", "1", "km"]), "*0\r\n");
    }
}

#[test]
fn search_errors_in_redis_order() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    sicily(&mut c);
    c.cmd(&["SET", "str", "x"]);
    for (args, reply) in [
        // The source's type is checked before anything else.
        (&["GEORADIUS", "str", "15", "37", "200", "parsec"][..], WRONGTYPE),
        (&["GEORADIUS", "Sicily", "15", "37", "-1", "km"], "-ERR radius cannot be negative\r\n"),
        (&["GEORADIUS", "Sicily", "15", "37", "abc", "km"], "-ERR need numeric radius\r\n"),
        (&["GEORADIUS", "Sicily", "15", "37", "200", "km", "COUNT", "0"], "-ERR COUNT must be > 0\r\n"),
        (&["GEORADIUS", "Sicily", "15", "37", "200", "km", "COUNT", "abc"], "-ERR value is not an integer or out of range\r\n"),
        (&["GEORADIUS", "Sicily", "15", "37", "200", "km", "COUNT"], SYNTAX),
        (&["GEORADIUS", "Sicily", "15", "37", "200", "km", "ANY"], "-ERR the ANY argument requires COUNT argument\r\n"),
        (&["GEORADIUS", "Sicily", "15", "37", "200", "km", "STORE", "d", "WITHDIST"], "-ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options\r\n"),
        (&["GEORADIUS_RO", "Sicily", "15", "37", "200", "km", "STORE", "d"], SYNTAX),
        (&["GEORADIUSBYMEMBER", "Sicily", "nosuch", "200", "km"], "-ERR could not decode requested zset member\r\n"),
        // Without a source no member is resolved and no radius parsed.
        (&["GEORADIUSBYMEMBER", "nokey", "nosuch", "abc", "km"], "*0\r\n"),
        (&["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "FROMMEMBER", "Palermo", "BYRADIUS", "1", "km"], SYNTAX),
        (&["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "1", "1", "km", "BYRADIUS", "1", "km"], SYNTAX),
        (&["GeoSearch", "Sicily", "BYRADIUS", "1", "km", "ASC", "WITHDIST"], "-ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for GeoSearch\r\n"),
        (&["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "ASC", "WITHHASH"], "-ERR exactly one of BYRADIUS and BYBOX can be specified for GEOSEARCH\r\n"),
        (&["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "-1", "1", "km"], "-ERR height or width cannot be negative\r\n"),
        (&["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "a", "1", "km"], "-ERR need numeric width\r\n"),
        (&["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "1", "a", "km"], "-ERR need numeric height\r\n"),
        (&["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "1", "1", "parsec"], "-ERR unsupported unit provided. please use M, KM, FT, MI\r\n"),
        (&["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "km", "STORE", "d"], SYNTAX),
        (&["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "km", "STOREDIST"], SYNTAX),
        (&["GEOSEARCH", "Sicily", "FROMMEMBER", "nosuch", "BYRADIUS", "1", "km"], "-ERR could not decode requested zset member\r\n"),
        (&["GEOSEARCHSTORE", "d", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "km", "WITHDIST"], "-ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options\r\n"),
    ] {
        assert_eq!(c.cmd(args), reply, "{args:?}");
    }
    assert_eq!(c.cmd(&["EXISTS", "d"]), ":0\r\n");
}

#[test]
fn stores() {
    for (server, encoding) in servers().into_iter().zip(["listpack", "skiplist"]) {
        let mut c = server.raw();
        sicily(&mut c);
        assert_eq!(c.cmd(&["GEORADIUS", "Sicily", "15", "37", "200", "km", "STORE", "near"]), ":2\r\n");
        assert_eq!(
            c.cmd(&["ZRANGE", "near", "0", "-1", "WITHSCORES"]),
            "*4\r\n$7\r\nPalermo\r\n$16\r\n3479099956230698\r\n$7\r\nCatania\r\n$16\r\n3479447370796909\r\n"
        );
        assert_eq!(c.cmd(&["GEORADIUS", "Sicily", "15", "37", "200", "km", "STOREDIST", "near"]), ":2\r\n");
        assert_eq!(
            c.cmd(&["ZRANGE", "near", "0", "-1", "WITHSCORES"]),
            "*4\r\n$7\r\nCatania\r\n$18\r\n56.441257870158204\r\n$7\r\nPalermo\r\n$18\r\n190.44242984775784\r\n"
        );
        assert_eq!(c.cmd(&["GEORADIUSBYMEMBER", "Sicily", "Palermo", "100", "km", "STORE", "near"]), ":2\r\n");
        assert_eq!(c.cmd(&["ZRANGE", "near", "0", "-1"]), "*2\r\n$7\r\nPalermo\r\n$5\r\nedge1\r\n");
        assert_eq!(c.cmd(&["GEOSEARCHSTORE", "near2", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "100", "km", "STOREDIST"]), ":1\r\n");
        assert_eq!(c.cmd(&["ZRANGE", "near2", "0", "-1", "WITHSCORES"]), "*2\r\n$7\r\nCatania\r\n$18\r\n56.441257870158204\r\n");
        // Stored results take the encoding their size calls for.
        assert_eq!(c.cmd(&["OBJECT", "ENCODING", "near2"]).text(), format!("${}\r\n{encoding}\r\n", encoding.len()));
        // An empty result, or a missing source, deletes the destination.
        assert_eq!(c.cmd(&["GEOSEARCHSTORE", "near2", "Sicily", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km"]), ":0\r\n");
        assert_eq!(c.cmd(&["EXISTS", "near2"]), ":0\r\n");
        assert_eq!(c.cmd(&["GEORADIUS", "nokey", "0", "0", "1", "km", "STORE", "near"]), ":0\r\n");
        assert_eq!(c.cmd(&["EXISTS", "near"]), ":0\r\n");
        // The source may be the destination.
        assert_eq!(c.cmd(&["GEOSEARCHSTORE", "Sicily", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS", "100", "km"]), ":2\r\n");
        assert_eq!(c.cmd(&["ZCARD", "Sicily"]), ":2\r\n");
    }
}

#[test]
fn writes_notify_and_replicate_as_redis() {
    let server = Server::start(&["--appendonly", "yes", "--appendfsync", "always", "--notify-keyspace-events", "KEA"]);
    let mut sub = server.raw();
    sub.cmd(&["PSUBSCRIBE", "__keyevent@0__:*"]);
    let mut c = server.raw();
    assert_eq!(c.cmd(&["GEOADD", "Sicily", "13.361389", "38.115556", "Palermo"]), ":1\r\n");
    assert_eq!(c.cmd(&["GEOSEARCHSTORE", "d", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS", "1", "km"]), ":1\r\n");
    assert_eq!(c.cmd(&["GEORADIUS", "Sicily", "0", "0", "1", "km", "STORE", "d"]), ":0\r\n");
    assert_eq!(c.cmd(&["GEORADIUS", "Sicily", "13", "38", "100", "km", "STORE", "d"]), ":1\r\n");
    let events: Vec<String> = sub.read_replies(4).iter().map(|r| r.text()).collect();
    for (event, reply) in ["zadd", "geosearchstore", "del", "georadiusstore"].iter().zip(&events) {
        assert!(reply.contains(&format!("__keyevent@0__:{event}\r\n")), "{event}: {reply}");
    }
    // GEOADD goes to the AOF as the ZADD it performed.
    let dir = server.dir().join("appendonlydir");
    let incr = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).find(|p| p.to_string_lossy().ends_with(".incr.aof")).unwrap();
    let aof = String::from_utf8_lossy(&std::fs::read(incr).unwrap()).into_owned();
    assert!(aof.contains("*4\r\n$4\r\nzadd\r\n$6\r\nSicily\r\n$16\r\n3479099956230698\r\n$7\r\nPalermo\r\n"), "{aof}");
}
