//! The comparison's report: per workload and target the rate, latency quantiles, server CPU
//! per request and peak memory; the connector's ratios to each peer; memory idle and with
//! the W4 connections held; and the issue 7 targets as PASS/MISS lines.

use std::fmt::Write;

use crate::load::Stats;

/// The workloads of issue 7 (W4 is reported on its own: it measures memory, not rate).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Workload {
    W1,
    W2,
    W3,
    /// W1 paced (open loop) at this many requests per second: half the connector's peak.
    W1Half(u64),
}

impl Workload {
    pub fn label(&self) -> String {
        match self {
            Workload::W1 => "W1 64 keep-alive, 4 KB req / 8 KB resp".to_owned(),
            Workload::W2 => "W2 64 keep-alive, 64 KB req".to_owned(),
            Workload::W3 => "W3 new TLS + auth per call".to_owned(),
            Workload::W1Half(rate) => format!("W1 paced at {rate} req/s (half peak)"),
        }
    }

    pub fn short(&self) -> &'static str {
        match self {
            Workload::W1 => "W1",
            Workload::W2 => "W2",
            Workload::W3 => "W3",
            Workload::W1Half(_) => "W1 half",
        }
    }
}

/// One workload against one target.
pub struct Measurement {
    pub workload: Workload,
    pub target: &'static str,
    pub stats: Stats,
    /// Server CPU (user + system, all its processes) per successful request, µs.
    pub cpu_us_per_request: Option<f64>,
    /// Peak of the server's summed RSS during the measurement, KiB.
    pub peak_rss_kib: Option<u64>,
}

/// A server's memory before any caller.
pub struct ServerMemory {
    pub target: &'static str,
    pub processes: usize,
    pub rss_kib: u64,
    pub pss_kib: u64,
}

/// W4 against one target.
pub struct W4Result {
    pub target: &'static str,
    pub asked: usize,
    /// Connections still open when memory was read.
    pub held: usize,
    pub rss_kib: u64,
    pub pss_kib: u64,
    pub peak_rss_kib: u64,
    pub open_secs: f64,
    pub failed: u64,
    pub first_error: Option<String>,
}

/// Everything measured.
pub struct Report {
    pub rows: Vec<Measurement>,
    pub idle: Vec<ServerMemory>,
    pub held: Vec<W4Result>,
    /// Authorization checks made before measuring.
    pub checks: Vec<String>,
    pub seconds: u64,
    pub connections: usize,
    pub w3_workers: usize,
}

/// The peers in report order.
pub const TARGETS: [&str; 4] = ["direct", "nginx", "apache", "connector"];
/// Issue 7: connector throughput over Apache's in W1 and W3, at least.
const MIN_OVER_APACHE: f64 = 2.0;
/// Issue 7: connector throughput over nginx's in W1, at least.
const MIN_OVER_NGINX: f64 = 0.8;
/// Issue 7: p99 the connector adds over direct at half its peak, at most (µs).
const MAX_ADDED_P99_US: i64 = 1000;
/// Issue 7: idle RSS at most (KiB).
const MAX_IDLE_RSS_KIB: u64 = 20 * 1024;
/// Issue 7: RSS with the W4 connections held, at most (KiB).
const MAX_W4_RSS_KIB: u64 = 200 * 1024;

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "PASS"
    } else {
        "MISS"
    }
}

impl Report {
    pub fn find(&self, workload: Workload, target: &str) -> Option<&Measurement> {
        self.rows
            .iter()
            .find(|m| m.workload == workload && m.target == target)
    }

    /// Connector req/s over `peer`'s under `workload`.
    pub fn ratio(&self, workload: Workload, peer: &str) -> Option<f64> {
        let connector = self.find(workload, "connector")?.stats.requests_per_sec;
        let peer = self.find(workload, peer)?.stats.requests_per_sec;
        (peer > 0.0).then(|| connector / peer)
    }

    pub fn idle_of(&self, target: &str) -> Option<&ServerMemory> {
        self.idle.iter().find(|m| m.target == target)
    }

    pub fn held_by(&self, target: &str) -> Option<&W4Result> {
        self.held.iter().find(|m| m.target == target)
    }

    fn half(&self) -> Option<Workload> {
        self.rows
            .iter()
            .map(|m| m.workload)
            .find(|w| matches!(w, Workload::W1Half(_)))
    }

    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "### rmsc-bench compare: connector vs nginx vs Apache httpd vs direct (issue 7)\n"
        );
        let _ = writeln!(
            out,
            "{} s per measurement; W1/W2 {} keep-alive TLS connections (closed loop), W3 {} callers each opening a new TLS connection (full handshake, no resumption) and, for Kerberos targets, making a new GSSAPI initiation per call; operation `Certify`. \
             All on one {}-core machine: load generator and stand-in in one process, each server in its own. \
             CPU = server user+system time (all its processes) per successful request; RSS summed over its processes (shared pages counted once per process; PSS shown for memory).\n",
            self.seconds,
            self.connections,
            self.w3_workers,
            std::thread::available_parallelism().map_or(0, |n| n.get())
        );
        self.table(&mut out);
        self.ratios(&mut out);
        self.memory(&mut out);
        self.targets(&mut out);
        if !self.checks.is_empty() {
            let _ = writeln!(out, "\nAuthorization checked before measuring:");
            for check in &self.checks {
                let _ = writeln!(out, "- {check}");
            }
        }
        let errors: Vec<String> = self
            .rows
            .iter()
            .filter_map(|m| {
                let e = m.stats.first_error.as_ref()?;
                Some(format!(
                    "- {} {}: {} errors, first: `{}`",
                    m.workload.short(),
                    m.target,
                    m.stats.errors,
                    e.chars().take(160).collect::<String>().replace('`', "'")
                ))
            })
            .chain(self.held.iter().filter_map(|h| {
                let e = h.first_error.as_ref()?;
                Some(format!(
                    "- W4 {}: {} failed, first: `{}`",
                    h.target,
                    h.failed,
                    e.chars().take(160).collect::<String>().replace('`', "'")
                ))
            }))
            .collect();
        if !errors.is_empty() {
            let _ = writeln!(out, "\nErrors:\n{}", errors.join("\n"));
        }
        out
    }

    fn table(&self, out: &mut String) {
        let _ = writeln!(out, "| Workload | Target | req/s | p50 ms | p99 ms | p99.9 ms | CPU µs/req | peak RSS MiB | errors |");
        let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---:|---:|---:|");
        for m in &self.rows {
            let s = &m.stats;
            let _ = writeln!(
                out,
                "| {} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {} | {} | {} |",
                m.workload.label(),
                m.target,
                s.requests_per_sec,
                ms(s.p50_us),
                ms(s.p99_us),
                ms(s.p999_us),
                m.cpu_us_per_request
                    .map_or("n/a".to_owned(), |c| format!("{c:.0}")),
                m.peak_rss_kib
                    .map_or("n/a".to_owned(), |k| format!("{:.1}", mib(k))),
                s.errors
            );
        }
    }

    fn ratios(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "\nConnector / peer (req/s ratio; CPU per request ratio, below 1 = the connector spends less):\n"
        );
        let _ = writeln!(out, "| Workload | vs direct | vs nginx | vs Apache |");
        let _ = writeln!(out, "|---|---:|---:|---:|");
        for workload in [Workload::W1, Workload::W2, Workload::W3] {
            let cell = |peer: &str| {
                let rate = self
                    .ratio(workload, peer)
                    .map_or("n/a".to_owned(), |r| format!("{r:.2}×"));
                let cpu = match (
                    self.find(workload, "connector")
                        .and_then(|m| m.cpu_us_per_request),
                    self.find(workload, peer).and_then(|m| m.cpu_us_per_request),
                ) {
                    (Some(c), Some(p)) if p > 0.0 => format!("; CPU {:.2}×", c / p),
                    _ => String::new(),
                };
                format!("{rate}{cpu}")
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                workload.short(),
                cell("direct"),
                cell("nginx"),
                cell("apache")
            );
        }
    }

    fn memory(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "\nMemory (W4: idle authenticated TLS connections held open, each after one call):\n"
        );
        let _ = writeln!(out, "| Target | processes | idle RSS MiB | idle PSS MiB | W4 held | W4 RSS MiB | W4 PSS MiB | W4 peak RSS MiB | KiB/conn (RSS) | W4 open s |");
        let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        for target in TARGETS.iter().skip(1) {
            let idle = self.idle_of(target);
            let held = self.held_by(target);
            let per_conn = match (idle, held) {
                (Some(i), Some(h)) if h.held > 0 => format!(
                    "{:.1}",
                    h.rss_kib.saturating_sub(i.rss_kib) as f64 / h.held as f64
                ),
                _ => "n/a".to_owned(),
            };
            let _ = writeln!(
                out,
                "| {target} | {} | {} | {} | {} | {} | {} | {} | {per_conn} | {} |",
                idle.map_or("n/a".to_owned(), |i| i.processes.to_string()),
                idle.map_or("n/a".to_owned(), |i| format!("{:.1}", mib(i.rss_kib))),
                idle.map_or("n/a".to_owned(), |i| format!("{:.1}", mib(i.pss_kib))),
                held.map_or("n/a".to_owned(), |h| format!("{} / {}", h.held, h.asked)),
                held.map_or("n/a".to_owned(), |h| format!("{:.1}", mib(h.rss_kib))),
                held.map_or("n/a".to_owned(), |h| format!("{:.1}", mib(h.pss_kib))),
                held.map_or("n/a".to_owned(), |h| format!("{:.1}", mib(h.peak_rss_kib))),
                held.map_or("n/a".to_owned(), |h| format!("{:.1}", h.open_secs)),
            );
        }
        let _ = writeln!(out, "\n(direct: the stand-in runs inside the benchmark process, so its CPU and memory are not separable.)");
    }

    fn targets(&self, out: &mut String) {
        let _ = writeln!(out, "\n| Target (issue 7) | Measured | Goal | Result |");
        let _ = writeln!(out, "|---|---:|---:|---|");
        let errors = |w: Workload| self.find(w, "connector").map_or(1, |m| m.stats.errors);
        for (workload, peer, goal) in [
            (Workload::W1, "apache", MIN_OVER_APACHE),
            (Workload::W3, "apache", MIN_OVER_APACHE),
            (Workload::W1, "nginx", MIN_OVER_NGINX),
        ] {
            let measured = self.ratio(workload, peer);
            let _ = writeln!(
                out,
                "| {} connector/{peer} req/s | {} | ≥ {goal:.1}× | {} |",
                workload.short(),
                measured.map_or("n/a".to_owned(), |r| format!("{r:.2}×")),
                verdict(measured.is_some_and(|r| r >= goal) && errors(workload) == 0)
            );
        }
        if let Some(half) = self.half() {
            if let (Some(d), Some(c)) = (self.find(half, "direct"), self.find(half, "connector")) {
                let added = c.stats.p99_us as i64 - d.stats.p99_us as i64;
                let _ = writeln!(
                    out,
                    "| p99 added over direct at half peak ({}) | {:.2} ms | ≤ 1 ms | {} |",
                    half.label(),
                    added as f64 / 1000.0,
                    verdict(added <= MAX_ADDED_P99_US && c.stats.errors == 0)
                );
            }
        }
        if let Some(idle) = self.idle_of("connector") {
            let _ = writeln!(
                out,
                "| Connector idle RSS | {:.1} MiB | ≤ 20 MiB | {} |",
                mib(idle.rss_kib),
                verdict(idle.rss_kib <= MAX_IDLE_RSS_KIB)
            );
        }
        if let Some(h) = self.held_by("connector") {
            let _ = writeln!(
                out,
                "| Connector RSS with W4 ({} of {} held) | {:.1} MiB | ≤ 200 MiB | {} |",
                h.held,
                h.asked,
                mib(h.rss_kib),
                verdict(h.rss_kib <= MAX_W4_RSS_KIB && h.held == h.asked)
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(workload: Workload, target: &'static str, rps: f64, p99_us: u64) -> Measurement {
        Measurement {
            workload,
            target,
            stats: Stats {
                requests: 100,
                requests_per_sec: rps,
                p99_us,
                ..Stats::default()
            },
            cpu_us_per_request: Some(100.0),
            peak_rss_kib: Some(10 * 1024),
        }
    }

    #[test]
    fn targets_compare_the_connector_with_each_peer() {
        let half = Workload::W1Half(450);
        let report = Report {
            rows: vec![
                row(Workload::W1, "direct", 1000.0, 900),
                row(Workload::W1, "nginx", 1000.0, 900),
                row(Workload::W1, "apache", 400.0, 900),
                row(Workload::W1, "connector", 900.0, 900),
                row(Workload::W3, "apache", 100.0, 900),
                row(Workload::W3, "connector", 150.0, 900),
                row(half, "direct", 450.0, 500),
                row(half, "connector", 450.0, 2000),
            ],
            idle: vec![ServerMemory {
                target: "connector",
                processes: 1,
                rss_kib: 10 * 1024,
                pss_kib: 9 * 1024,
            }],
            held: vec![W4Result {
                target: "connector",
                asked: 10_000,
                held: 10_000,
                rss_kib: 150 * 1024,
                pss_kib: 150 * 1024,
                peak_rss_kib: 160 * 1024,
                open_secs: 10.0,
                failed: 0,
                first_error: None,
            }],
            checks: Vec::new(),
            seconds: 1,
            connections: 64,
            w3_workers: 16,
        };
        let text = report.markdown();
        assert!(
            text.contains("| W1 connector/apache req/s | 2.25× | ≥ 2.0× | PASS |"),
            "{text}"
        );
        assert!(
            text.contains("| W3 connector/apache req/s | 1.50× | ≥ 2.0× | MISS |"),
            "{text}"
        );
        assert!(
            text.contains("| W1 connector/nginx req/s | 0.90× | ≥ 0.8× | PASS |"),
            "{text}"
        );
        assert!(text.contains("| 1.50 ms | ≤ 1 ms | MISS |"), "{text}");
        assert!(
            text.contains("| Connector idle RSS | 10.0 MiB | ≤ 20 MiB | PASS |"),
            "{text}"
        );
        assert!(text.contains("| 150.0 MiB | ≤ 200 MiB | PASS |"), "{text}");
    }
}
