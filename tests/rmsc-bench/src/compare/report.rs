//! The comparison's report: per workload and target the rate, latency quantiles, server CPU
//! per request and peak memory, where each process ran, and the connector's ratios to each
//! peer. Memory and the issue 7 targets are in `report_sections.rs`.

use std::fmt::Write;

use crate::added::{AddedLatency, HasStats};
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
#[derive(Clone)]
pub struct Measurement {
    pub workload: Workload,
    pub target: &'static str,
    pub stats: Stats,
    /// Server CPU (user + system, all its processes) per successful request, µs.
    pub cpu_us_per_request: Option<f64>,
    /// Peak of the server's summed RSS during the measurement, KiB.
    pub peak_rss_kib: Option<u64>,
    /// Busy share of the load generator's CPUs and of the server's, when pinned.
    pub busy: Option<Busy>,
}

/// How busy each side's CPUs were (0 to 1): the side near 1 set the pace.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Busy {
    pub generator: f64,
    pub server: f64,
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
    pub w3_callers: usize,
    /// Where the processes ran (`Placement::describe`).
    pub placement: String,
    /// What the kernel reported about each server's CPUs and threads during the run.
    pub observed: Vec<String>,
    /// Every round of the half-peak latency measurement (the rows hold the median round).
    pub added: AddedLatency<Measurement>,
    /// Sentences under the added-latency rounds: the connector's own time, the machine floor.
    pub latency_notes: Vec<String>,
}

impl HasStats for Measurement {
    fn stats(&self) -> &Stats {
        &self.stats
    }
}

/// The peers in report order.
pub const TARGETS: [&str; 4] = ["direct", "nginx", "apache", "connector"];

pub(super) fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
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

    pub(super) fn half(&self) -> Option<Workload> {
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
             All on one machine: load generator and stand-in in one process (the stand-in on a runtime of its own), each server in its own. \
             CPU = server user+system time (all its processes; for direct, the stand-in's threads) per successful request; busy % = how busy the load generator's CPUs (with the stand-in, except for direct) and the server's CPUs were, from /proc/stat: the side near 100 set the pace; RSS summed over its processes (shared pages counted once per process; PSS shown for memory).\n",
            self.seconds,
            self.connections,
            self.w3_callers,
        );
        let _ = writeln!(out, "Placement: {}.\n", self.placement);
        for line in &self.observed {
            let _ = writeln!(out, "- {line}");
        }
        if !self.observed.is_empty() {
            let _ = writeln!(out);
        }
        self.table(&mut out);
        self.ratios(&mut out);
        self.memory(&mut out);
        self.targets(&mut out);
        out.push_str(&self.added.markdown(
            "Half-peak latency, round by round (direct and connector alternate, ABBA order, the stand-in on the load generator's CPUs in both, as in the plain benchmark; the table above shows the median round):",
        ));
        for note in &self.latency_notes {
            let _ = writeln!(out, "\n{note}");
        }
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
        let _ = writeln!(out, "| Workload | Target | req/s | p50 ms | p99 ms | p99.9 ms | CPU µs/req | busy % gen / server | peak RSS MiB | errors |");
        let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        for m in &self.rows {
            let s = &m.stats;
            let _ = writeln!(
                out,
                "| {} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {} | {} | {} | {} |",
                m.workload.label(),
                m.target,
                s.requests_per_sec,
                ms(s.p50_us),
                ms(s.p99_us),
                ms(s.p999_us),
                m.cpu_us_per_request
                    .map_or("n/a".to_owned(), |c| format!("{c:.0}")),
                m.busy.map_or("n/a".to_owned(), |b| format!(
                    "{:.0} / {:.0}",
                    b.generator * 100.0,
                    b.server * 100.0
                )),
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
}
