//! The workloads of issue 7 on [`Caller`] connections, whatever the target: keep-alive
//! connections authenticated once (W1, W2, and W1 paced), a new TLS connection and a new
//! Kerberos authentication per call (W3), and many idle authenticated connections held open
//! (W4). Every run is bounded in time; W4 also in count.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::conn::{Caller, Sender};
use crate::load::{Pace, Pacer, Stats, Tally};

/// Longest wait for one connection to open and answer its first call.
const OPEN_TIMEOUT: Duration = Duration::from_secs(10);

/// Opens `count` authenticated connections, `parallel` at a time, starting none after
/// `until`; failures are tallied.
async fn open_many(
    caller: &Caller,
    count: usize,
    parallel: usize,
    until: Instant,
) -> (Vec<Sender>, Tally) {
    let next = Arc::new(AtomicUsize::new(0));
    let mut openers = Vec::new();
    for _ in 0..parallel.clamp(1, count.max(1)) {
        let caller = caller.clone();
        let next = Arc::clone(&next);
        openers.push(tokio::spawn(async move {
            let mut opened = Vec::new();
            let mut tally = Tally::default();
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                if index >= count || Instant::now() >= until {
                    break;
                }
                let started = Instant::now();
                match tokio::time::timeout(OPEN_TIMEOUT, caller.open(index)).await {
                    Ok(Ok(sender)) => opened.push(sender),
                    Ok(Err(error)) => tally.record(started, Err(error.to_string())),
                    Err(_) => tally.record(started, Err("opening timed out".into())),
                }
            }
            (opened, tally)
        }));
    }
    let mut senders = Vec::with_capacity(count);
    let mut tally = Tally::default();
    for opener in openers {
        match opener.await {
            Ok((opened, found)) => {
                senders.extend(opened);
                tally.merge(found);
            }
            Err(join) => tally.record(Instant::now(), Err(join.to_string())),
        }
    }
    (senders, tally)
}

/// W1/W2: `connections` keep-alive connections, each authenticated by its first call, then
/// calls without tokens for `duration` at `pace`. Connections that failed to open count as
/// errors.
pub async fn keep_alive(
    caller: &Caller,
    connections: usize,
    duration: Duration,
    pace: Pace,
) -> Stats {
    let until = Instant::now() + OPEN_TIMEOUT;
    let (senders, failed) = open_many(caller, connections, 16, until).await;
    let start = Instant::now();
    let end = start + duration;
    let count = senders.len();
    let mut workers = Vec::new();
    for (index, mut sender) in senders.into_iter().enumerate() {
        let caller = caller.clone();
        workers.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            let mut pacer = Pacer::new(pace, index, count);
            loop {
                let started = pacer.next_start().await;
                if started >= end {
                    break;
                }
                let outcome = caller.call(&mut sender, None).await;
                tally.record(started, outcome.map_err(|e| e.to_string()));
            }
            tally
        }));
    }
    let mut tally = Tally::join(workers).await;
    tally.merge(failed);
    tally.summarise(start.elapsed())
}

/// W3: `workers` callers, each repeatedly opening a TLS connection, authenticating (a fresh
/// GSSAPI initiation for a Kerberos target), sending one call and closing.
pub async fn new_connection_per_call(caller: &Caller, workers: usize, duration: Duration) -> Stats {
    let start = Instant::now();
    let end = start + duration;
    let mut handles = Vec::new();
    for index in 0..workers {
        let caller = caller.clone();
        handles.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            while Instant::now() < end {
                let started = Instant::now();
                let outcome = tokio::time::timeout(OPEN_TIMEOUT, caller.open(index))
                    .await
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("timed out")))
                    .map(drop);
                tally.record(started, outcome.map_err(|e| e.to_string()));
            }
            tally
        }));
    }
    Tally::join(handles).await.summarise(start.elapsed())
}

/// W4: connections held open and idle after one authenticated call each.
pub struct Held {
    senders: Vec<Sender>,
    pub failed: u64,
    pub first_error: Option<String>,
    pub open_time: Duration,
}

impl Held {
    /// Connections the server has not closed.
    pub fn still_open(&self) -> usize {
        self.senders.iter().filter(|s| !s.is_closed()).count()
    }
}

/// W4: opens up to `count` authenticated connections (`parallel` at a time) and keeps them;
/// starts no new one after `deadline`.
pub async fn hold_idle(caller: &Caller, count: usize, parallel: usize, deadline: Duration) -> Held {
    let start = Instant::now();
    let (senders, tally) = open_many(caller, count, parallel, start + deadline).await;
    Held {
        senders,
        failed: tally.errors,
        first_error: tally.first_error,
        open_time: start.elapsed(),
    }
}
