//! The memory and target sections of the comparison's report: each server's RSS idle and
//! with the W4 connections held, and the issue 7 targets as PASS/MISS lines.

use std::fmt::Write;

use super::report::{mib, Report, Workload, TARGETS};

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

fn verdict(ok: bool) -> &'static str {
    if ok {
        "PASS"
    } else {
        "MISS"
    }
}

impl Report {
    pub(super) fn memory(&self, out: &mut String) {
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
        let _ = writeln!(out, "\n(direct: the stand-in runs inside the benchmark process, so its memory is not separable; its CPU is, by thread.)");
    }

    pub(super) fn targets(&self, out: &mut String) {
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
        if let (Some(half), Some(added)) = (self.half(), self.added.median_added_p99_us()) {
            let _ = writeln!(
                out,
                "| p99 added over direct at half peak ({}; median of {} rounds) | {:.2} ms | ≤ 1 ms | {} |",
                half.label(),
                self.added.rounds.len(),
                added as f64 / 1000.0,
                verdict(added <= MAX_ADDED_P99_US && self.added.errors() == 0)
            );
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
    use crate::compare::report::{Measurement, ServerMemory, W4Result};
    use crate::load::Stats;

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
            busy: None,
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
            w3_callers: 16,
            placement: "pinned".to_owned(),
            observed: Vec::new(),
            added: crate::added::AddedLatency {
                rounds: vec![crate::added::Round {
                    direct: row(half, "direct", 450.0, 500),
                    connector: row(half, "connector", 450.0, 2000),
                }],
            },
            latency_notes: vec!["floor".to_owned()],
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
        assert!(
            text.contains("median of 1 rounds) | 1.50 ms | ≤ 1 ms | MISS |"),
            "{text}"
        );
        assert!(text.contains("\nfloor\n"), "{text}");
        assert!(
            text.contains("| Connector idle RSS | 10.0 MiB | ≤ 20 MiB | PASS |"),
            "{text}"
        );
        assert!(text.contains("| 150.0 MiB | ≤ 200 MiB | PASS |"), "{text}");
    }
}
