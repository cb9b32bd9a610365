//! Streams through the real door: a consumer-group work queue where
//! producers XADD, consumers XREADGROUP BLOCK and XACK, and a crashed
//! consumer's entries are taken over with XAUTOCLAIM; and a stream with
//! groups that survives DEBUG RELOAD and DUMP/RESTORE unchanged. Every
//! assertion holds for Redis 7.0 too.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;

use corvid_tests::Server;
use redis::Value;

const EVENTS: usize = 20_000;
const PRODUCERS: usize = 4;
const CONSUMERS: usize = 8;

/// The entry IDs and their `n` field in an XREADGROUP / XAUTOCLAIM entry list.
fn entries(v: &Value) -> Vec<(String, String)> {
    let Value::Array(items) = v else { return Vec::new() };
    items
        .iter()
        .filter_map(|e| {
            let Value::Array(pair) = e else { return None };
            let id: String = redis::from_redis_value(pair[0].clone()).ok()?;
            let fields: Vec<String> = redis::from_redis_value(pair[1].clone()).ok()?;
            let n = fields.chunks(2).find(|c| c[0] == "n").map(|c| c[1].clone())?;
            Some((id, n))
        })
        .collect()
}

#[test]
fn consumer_group_delivers_every_event_once() {
    let server = Server::start(&[]);
    let mut admin = server.client();
    let _: () = redis::cmd("XGROUP").arg("CREATE").arg("events").arg("workers").arg("$").arg("MKSTREAM").query(&mut admin).unwrap();

    // A consumer that reads ten entries and dies without acknowledging them.
    let _: String = redis::cmd("XADD").arg("events").arg("*").arg("n").arg("early-0").query(&mut admin).unwrap();
    for i in 1..10 {
        let _: String = redis::cmd("XADD").arg("events").arg("*").arg("n").arg(format!("early-{i}")).query(&mut admin).unwrap();
    }
    let lost: Value = redis::cmd("XREADGROUP")
        .arg("GROUP").arg("workers").arg("crashed").arg("COUNT").arg(10)
        .arg("STREAMS").arg("events").arg(">")
        .query(&mut admin)
        .unwrap();
    let Value::Array(streams) = &lost else { panic!("{lost:?}") };
    let Value::Array(kv) = &streams[0] else { panic!() };
    assert_eq!(entries(&kv[1]).len(), 10);

    let acked = Arc::new(AtomicUsize::new(0));
    let (seen_tx, seen_rx) = mpsc::channel::<String>();
    let consumers: Vec<_> = (0..CONSUMERS)
        .map(|i| {
            let mut con = server.client();
            let acked = acked.clone();
            let seen = seen_tx.clone();
            thread::spawn(move || {
                let name = format!("worker-{i}");
                // The first worker takes over what the crashed one held.
                if i == 0 {
                    let claimed: Value = redis::cmd("XAUTOCLAIM")
                        .arg("events").arg("workers").arg(&name).arg(0).arg("0-0").arg("COUNT").arg(100)
                        .query(&mut con)
                        .unwrap();
                    let Value::Array(parts) = &claimed else { panic!("{claimed:?}") };
                    for (id, n) in entries(&parts[1]) {
                        let n_acked: i64 = redis::cmd("XACK").arg("events").arg("workers").arg(&id).query(&mut con).unwrap();
                        assert_eq!(n_acked, 1);
                        seen.send(n).unwrap();
                        acked.fetch_add(1, Ordering::SeqCst);
                    }
                }
                while acked.load(Ordering::SeqCst) < EVENTS + 10 {
                    let got: Value = redis::cmd("XREADGROUP")
                        .arg("GROUP").arg("workers").arg(&name).arg("COUNT").arg(50).arg("BLOCK").arg(100)
                        .arg("STREAMS").arg("events").arg(">")
                        .query(&mut con)
                        .unwrap();
                    let Value::Array(streams) = &got else { continue };
                    let Value::Array(kv) = &streams[0] else { panic!("{got:?}") };
                    for (id, n) in entries(&kv[1]) {
                        let n_acked: i64 = redis::cmd("XACK").arg("events").arg("workers").arg(&id).query(&mut con).unwrap();
                        assert_eq!(n_acked, 1, "{id} was pending exactly once");
                        seen.send(n).unwrap();
                        acked.fetch_add(1, Ordering::SeqCst);
                    }
                }
            })
        })
        .collect();
    drop(seen_tx);

    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let mut con = server.client();
            thread::spawn(move || {
                for i in (p..EVENTS).step_by(PRODUCERS) {
                    let _: String = redis::cmd("XADD").arg("events").arg("*").arg("n").arg(i).query(&mut con).unwrap();
                }
            })
        })
        .collect();
    for t in producers {
        t.join().unwrap();
    }
    for t in consumers {
        t.join().unwrap();
    }
    let mut counts: HashMap<String, usize> = HashMap::new();
    for n in seen_rx {
        *counts.entry(n).or_default() += 1;
    }
    assert_eq!(counts.len(), EVENTS + 10, "every event seen");
    assert!(counts.values().all(|&c| c == 1), "no event seen twice");
    let pending: Value = redis::cmd("XPENDING").arg("events").arg("workers").query(&mut admin).unwrap();
    let Value::Array(summary) = &pending else { panic!("{pending:?}") };
    assert_eq!(summary[0], Value::Int(0), "nothing left pending");
    let len: usize = redis::cmd("XLEN").arg("events").query(&mut admin).unwrap();
    assert_eq!(len, EVENTS + 10);
}

#[test]
fn streams_with_groups_survive_reload_and_restore() {
    let server = Server::start(&["--enable-debug-command", "yes"]);
    let mut c = server.client();
    for i in 0..1000 {
        // Two field layouts, so blocks hold entries with and without the
        // master fields.
        let mut cmd = redis::cmd("XADD");
        cmd.arg("s").arg(format!("{}-{}", 1000 + i / 3, i % 3));
        if i % 7 == 0 {
            cmd.arg("other").arg(i);
        } else {
            cmd.arg("a").arg(i).arg("b").arg("x".repeat(i % 50));
        }
        let _: String = cmd.query(&mut c).unwrap();
    }
    let _: i64 = redis::cmd("XDEL").arg("s").arg("1010-1").arg("1200-0").query(&mut c).unwrap();
    let _: i64 = redis::cmd("XTRIM").arg("s").arg("MAXLEN").arg(900).query(&mut c).unwrap();
    let _: () = redis::cmd("XGROUP").arg("CREATE").arg("s").arg("g1").arg("0").query(&mut c).unwrap();
    let _: () = redis::cmd("XGROUP").arg("CREATE").arg("s").arg("g2").arg("$").query(&mut c).unwrap();
    let _: Value = redis::cmd("XREADGROUP").arg("GROUP").arg("g1").arg("alice").arg("COUNT").arg(5).arg("STREAMS").arg("s").arg(">").query(&mut c).unwrap();
    let _: i64 = redis::cmd("XGROUP").arg("CREATECONSUMER").arg("s").arg("g1").arg("bob").query(&mut c).unwrap();

    let full = |c: &mut redis::Connection| -> Value { redis::cmd("XINFO").arg("STREAM").arg("s").arg("FULL").arg("COUNT").arg(0).query(c).unwrap() };
    let range = |c: &mut redis::Connection, key: &str| -> Value { redis::cmd("XRANGE").arg(key).arg("-").arg("+").query(c).unwrap() };
    let before = (full(&mut c), range(&mut c, "s"));

    let _: () = redis::cmd("DEBUG").arg("RELOAD").query(&mut c).unwrap();
    assert_eq!((full(&mut c), range(&mut c, "s")), before, "DEBUG RELOAD keeps the stream and its groups");

    let payload: Vec<u8> = redis::cmd("DUMP").arg("s").query(&mut c).unwrap();
    let _: () = redis::cmd("RESTORE").arg("copy").arg(0).arg(payload).query(&mut c).unwrap();
    assert_eq!(range(&mut c, "copy"), before.1, "RESTORE gives the same entries");
    let groups = |c: &mut redis::Connection, key: &str| -> Value { redis::cmd("XINFO").arg("GROUPS").arg(key).query(c).unwrap() };
    assert_eq!(groups(&mut c, "copy"), groups(&mut c, "s"));

    // A corrupted payload is refused, not loaded half-way.
    let mut bad: Vec<u8> = redis::cmd("DUMP").arg("s").query(&mut c).unwrap();
    let mid = bad.len() / 2;
    bad[mid] ^= 0xff;
    let refused: redis::RedisResult<()> = redis::cmd("RESTORE").arg("bad").arg(0).arg(bad).query(&mut c);
    assert!(refused.is_err());
    let exists: i64 = redis::cmd("EXISTS").arg("bad").query(&mut c).unwrap();
    assert_eq!(exists, 0);
}
