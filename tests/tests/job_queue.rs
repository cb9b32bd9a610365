//! A real job-queue workload, the reliable-queue pattern Sidekiq-style
//! workers use: producers LPUSH jobs, consumers move each job atomically
//! to a processing list (BRPOPLPUSH or BLMOVE), work on it and acknowledge
//! with LREM. 50k jobs, 20 consumers, 5 producers: every job must be
//! processed exactly once and nothing may be left in either list. Holds for
//! Redis 7.0 too.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;

use corvid_tests::Server;

const JOBS: usize = 50_000;
const PRODUCERS: usize = 5;
const CONSUMERS: usize = 20;

#[test]
fn every_job_is_processed_exactly_once() {
    let server = Server::start(&[]);
    let acked = Arc::new(AtomicUsize::new(0));
    let (done_tx, done_rx) = mpsc::channel::<String>();

    let consumers: Vec<_> = (0..CONSUMERS)
        .map(|i| {
            let mut con = server.client();
            let acked = acked.clone();
            let done = done_tx.clone();
            thread::spawn(move || {
                while acked.load(Ordering::SeqCst) < JOBS {
                    // Half the workers use the old command, half its successor.
                    let job: Option<String> = if i % 2 == 0 {
                        redis::cmd("BRPOPLPUSH").arg("queue").arg("processing").arg(0.1).query(&mut con).unwrap()
                    } else {
                        redis::cmd("BLMOVE").arg("queue").arg("processing").arg("RIGHT").arg("LEFT").arg(0.1).query(&mut con).unwrap()
                    };
                    let Some(job) = job else { continue };
                    let removed: i64 = redis::cmd("LREM").arg("processing").arg(1).arg(&job).query(&mut con).unwrap();
                    assert_eq!(removed, 1, "{job} was in the processing list exactly once");
                    acked.fetch_add(1, Ordering::SeqCst);
                    done.send(job).unwrap();
                }
            })
        })
        .collect();
    drop(done_tx);

    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let mut con = server.client();
            thread::spawn(move || {
                let per = JOBS / PRODUCERS;
                for batch in 0..per / 100 {
                    let mut cmd = redis::cmd("LPUSH");
                    cmd.arg("queue");
                    for j in 0..100 {
                        cmd.arg(format!("job:{p}:{}", batch * 100 + j));
                    }
                    let _: i64 = cmd.query(&mut con).unwrap();
                }
            })
        })
        .collect();
    for p in producers {
        p.join().unwrap();
    }
    for c in consumers {
        c.join().unwrap();
    }

    let mut seen: HashMap<String, usize> = HashMap::new();
    for job in done_rx {
        *seen.entry(job).or_default() += 1;
    }
    assert_eq!(seen.len(), JOBS, "every job was processed");
    assert!(seen.values().all(|&n| n == 1), "no job was processed twice");
    let mut con = server.client();
    let left: (i64, i64) = redis::pipe().cmd("LLEN").arg("queue").cmd("LLEN").arg("processing").query(&mut con).unwrap();
    assert_eq!(left, (0, 0));
}
