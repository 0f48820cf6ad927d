//! The load generator: a fixed number of keep-alive connections sending the same SOAP call,
//! either as fast as answers come back (closed loop, for peak throughput) or paced at a fixed
//! total rate (open loop, for latency at a given load).

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{HeaderName, HeaderValue};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tokio::time::MissedTickBehavior;

/// One HTTP client for both targets: plain HTTP to the connector, mutual TLS to the stand-in.
pub type HttpClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// Builds a client that keeps up to `connections` idle connections per host.
pub fn http_client(tls: rustls::ClientConfig, connections: usize) -> HttpClient {
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .build();
    Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(connections)
        .pool_idle_timeout(Duration::from_secs(60))
        .build(connector)
}

/// Where the requests go and what they carry.
#[derive(Clone)]
pub struct Target {
    pub client: HttpClient,
    pub url: String,
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

impl Target {
    /// Sends one request; `Ok` only for a 200 answer whose body was read completely.
    async fn call(&self, body: &Bytes) -> Result<(), String> {
        let mut request = hyper::Request::builder().method("POST").uri(&self.url);
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        let request = request
            .body(Full::new(body.clone()))
            .map_err(|e| e.to_string())?;
        let response = self
            .client
            .request(request)
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        if status == hyper::StatusCode::OK {
            Ok(())
        } else {
            Err(format!(
                "status {status}: {}",
                String::from_utf8_lossy(&body[..body.len().min(300)])
            ))
        }
    }

    /// One request that must succeed, to check the set-up before measuring.
    pub async fn probe(&self, body: &Bytes) -> anyhow::Result<()> {
        self.call(body)
            .await
            .map_err(|e| anyhow::anyhow!("probe of {} failed: {e}", self.url))
    }
}

/// How the workers send.
#[derive(Debug, Clone, Copy)]
pub enum Pace {
    /// Each connection sends its next request as soon as the previous answer is read.
    Closed,
    /// All connections together send this many requests per second.
    Rate(f64),
}

/// What one measurement found.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// Successful requests.
    pub requests: u64,
    pub requests_per_sec: f64,
    pub p50_us: u64,
    pub p99_us: u64,
    pub p999_us: u64,
    pub errors: u64,
    pub first_error: Option<String>,
}

/// The value at quantile `q` of sorted latencies.
fn quantile(sorted: &[u64], q: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((sorted.len() as f64) * q).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Summarises the latencies (µs) of successful requests over the measured `elapsed`.
pub fn summarise(
    mut latencies: Vec<u64>,
    errors: u64,
    first_error: Option<String>,
    elapsed: Duration,
) -> Stats {
    latencies.sort_unstable();
    let secs = elapsed.as_secs_f64().max(f64::EPSILON);
    Stats {
        requests: latencies.len() as u64,
        requests_per_sec: latencies.len() as f64 / secs,
        p50_us: quantile(&latencies, 0.50),
        p99_us: quantile(&latencies, 0.99),
        p999_us: quantile(&latencies, 0.999),
        errors,
        first_error,
    }
}

/// What workers found: latencies (µs) of successful calls, failures and the first error.
#[derive(Default)]
pub struct Tally {
    pub latencies: Vec<u64>,
    pub errors: u64,
    pub first_error: Option<String>,
}

impl Tally {
    /// Records one call that started at `started`.
    pub fn record(&mut self, started: Instant, outcome: Result<(), String>) {
        match outcome {
            Ok(()) => self.latencies.push(started.elapsed().as_micros() as u64),
            Err(error) => {
                self.errors += 1;
                self.first_error.get_or_insert(error);
            }
        }
    }

    /// Adds another worker's findings.
    pub fn merge(&mut self, other: Tally) {
        self.latencies.extend(other.latencies);
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }

    /// Collects the workers' tallies; a worker that panicked counts as one error.
    pub async fn join(workers: Vec<tokio::task::JoinHandle<Tally>>) -> Tally {
        let mut all = Tally::default();
        for worker in workers {
            match worker.await {
                Ok(tally) => all.merge(tally),
                Err(join) => all.record(Instant::now(), Err(join.to_string())),
            }
        }
        all
    }

    /// The statistics of this tally over the measured `elapsed`.
    pub fn summarise(self, elapsed: Duration) -> Stats {
        summarise(self.latencies, self.errors, self.first_error, elapsed)
    }
}

/// When one of `connections` workers sends its next request under `pace`.
pub struct Pacer(Option<tokio::time::Interval>);

impl Pacer {
    pub fn new(pace: Pace, index: usize, connections: usize) -> Self {
        Self(match pace {
            Pace::Closed => None,
            Pace::Rate(rate) => {
                // Each worker sends every `connections / rate` seconds; starts are staggered
                // so the total is evenly spread rather than arriving in bursts of
                // `connections`.
                let period = Duration::from_secs_f64(connections as f64 / rate.max(1.0));
                let offset = period.mul_f64(index as f64 / connections as f64);
                let mut interval =
                    tokio::time::interval_at(tokio::time::Instant::now() + offset, period);
                interval.set_missed_tick_behavior(MissedTickBehavior::Burst);
                Some(interval)
            }
        })
    }

    /// Waits for the next send time and returns it. Open loop: latency counts from the
    /// scheduled send time, so a slow answer that delays the next request is charged to that
    /// request instead of hidden.
    pub async fn next_start(&mut self) -> Instant {
        match self.0.as_mut() {
            Some(interval) => interval.tick().await.into_std(),
            None => Instant::now(),
        }
    }
}

/// Runs `connections` workers against `target` for `duration` and summarises them.
pub async fn run(
    target: &Target,
    body: Bytes,
    connections: usize,
    duration: Duration,
    pace: Pace,
) -> Stats {
    let start = Instant::now();
    let end = start + duration;
    let body = Arc::new(body);
    let mut workers = Vec::with_capacity(connections);
    for index in 0..connections {
        let target = target.clone();
        let body = Arc::clone(&body);
        workers.push(tokio::spawn(async move {
            worker(target, body, index, connections, end, pace).await
        }));
    }
    Tally::join(workers).await.summarise(start.elapsed())
}

async fn worker(
    target: Target,
    body: Arc<Bytes>,
    index: usize,
    connections: usize,
    end: Instant,
    pace: Pace,
) -> Tally {
    let mut result = Tally::default();
    let mut pacer = Pacer::new(pace, index, connections);
    loop {
        let started = pacer.next_start().await;
        if started >= end {
            break;
        }
        result.record(started, target.call(&body).await);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_pick_the_rank_at_or_above_the_fraction() {
        let values: Vec<u64> = (1..=1000).collect();
        assert_eq!(quantile(&values, 0.5), 500);
        assert_eq!(quantile(&values, 0.99), 990);
        assert_eq!(quantile(&values, 0.999), 999);
        assert_eq!(quantile(&[], 0.99), 0);
    }

    #[test]
    fn summary_divides_successes_by_the_duration() {
        let stats = summarise(vec![10; 200], 3, None, Duration::from_secs(2));
        assert!((stats.requests_per_sec - 100.0).abs() < 1e-9);
        assert_eq!(stats.errors, 3);
    }
}
