//! The markdown report: one row per measurement, then the issue 2 targets with PASS/MISS.

use std::fmt::Write;

use crate::added::AddedLatency;
use crate::load::Stats;

/// One measurement of one target under one workload.
pub struct Row {
    pub workload: String,
    pub target: &'static str,
    pub stats: Stats,
}

/// Everything the report shows. Rows come in (direct, connector) pairs: W1, W2, and for half
/// load the round whose p99 difference is the median.
pub struct Measured {
    pub rows: Vec<Row>,
    pub idle_rss_kib: u64,
    pub busy_rss_kib: u64,
    pub seconds: u64,
    pub connections: usize,
    /// Where the processes ran ([`crate::placement::Placement::describe_relay`]).
    pub placement: String,
    /// Every round of the half-peak latency measurement.
    pub added: AddedLatency<Stats>,
    /// The connector's own processing time during those rounds, from its metrics.
    pub own_time: String,
    /// The machine's cross-CPU wake-up round trip.
    pub wakeup_floor: String,
}

/// Issue 2: connector throughput at least this fraction of direct.
const MIN_THROUGHPUT_RATIO: f64 = 0.80;
/// Issue 2: p99 latency the connector adds at half its peak, at most (µs).
const MAX_ADDED_P99_US: i64 = 1000;
/// Issue 2: idle resident memory of the connector, at most (KiB).
const MAX_IDLE_RSS_KIB: u64 = 20 * 1024;

fn verdict(ok: bool) -> &'static str {
    if ok {
        "PASS"
    } else {
        "MISS"
    }
}

fn pair(rows: &[Row], index: usize) -> Option<(&Stats, &Stats)> {
    Some((&rows.get(index * 2)?.stats, &rows.get(index * 2 + 1)?.stats))
}

/// Connector throughput over direct throughput.
fn ratio(direct: &Stats, connector: &Stats) -> f64 {
    if direct.requests_per_sec > 0.0 {
        connector.requests_per_sec / direct.requests_per_sec
    } else {
        0.0
    }
}

/// Renders the report as markdown.
pub fn render(m: &Measured) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "### rmsc-bench: connector relay vs direct to the stand-in (loopback)\n"
    );
    let _ = writeln!(out, "{} connections, {} s per measurement, operation `Certify` on `certification/ServerCertification.asmx`.\n", m.connections, m.seconds);
    let _ = writeln!(out, "Placement: {}.\n", m.placement);
    let _ = writeln!(
        out,
        "| Workload | Target | req/s | p50 µs | p99 µs | p99.9 µs | errors | connector/direct |"
    );
    let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---:|---:|");
    for (i, row) in m.rows.iter().enumerate() {
        let s = &row.stats;
        let ratio_cell = match (row.target, pair(&m.rows, i / 2)) {
            ("connector", Some((d, c))) => format!("{:.0}%", ratio(d, c) * 100.0),
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {:.0} | {} | {} | {} | {} | {} |",
            row.workload,
            row.target,
            s.requests_per_sec,
            s.p50_us,
            s.p99_us,
            s.p999_us,
            s.errors,
            ratio_cell
        );
    }
    let _ = writeln!(out, "\n| Target (issue 2) | Measured | Goal | Result |");
    let _ = writeln!(out, "|---|---:|---:|---|");
    for (index, name) in [
        (0, "W1 throughput connector/direct"),
        (1, "W2 throughput connector/direct"),
    ] {
        if let Some((d, c)) = pair(&m.rows, index) {
            let r = ratio(d, c);
            let _ = writeln!(
                out,
                "| {name} | {:.0}% | ≥ 80% | {} |",
                r * 100.0,
                verdict(r >= MIN_THROUGHPUT_RATIO && c.errors == 0)
            );
        }
    }
    if let Some(added) = m.added.median_added_p99_us() {
        let _ = writeln!(
            out,
            "| p99 added at half peak (connector − direct, median of {} rounds) | {added} µs | ≤ 1000 µs | {} |",
            m.added.rounds.len(),
            verdict(added <= MAX_ADDED_P99_US && m.added.errors() == 0)
        );
    }
    let _ = writeln!(
        out,
        "| Connector idle RSS (separate process) | {:.1} MiB | ≤ 20 MiB | {} |",
        m.idle_rss_kib as f64 / 1024.0,
        verdict(m.idle_rss_kib <= MAX_IDLE_RSS_KIB)
    );
    let _ = writeln!(
        out,
        "\nConnector RSS after the runs: {:.1} MiB.",
        m.busy_rss_kib as f64 / 1024.0
    );
    out.push_str(&m.added.markdown(
        "Half-peak latency, round by round (direct and connector alternate, ABBA order):",
    ));
    let _ = writeln!(out, "\n{}\n\n{}", m.own_time, m.wakeup_floor);
    if let Some(error) = m
        .rows
        .iter()
        .find_map(|r| r.stats.first_error.as_ref().map(|e| (r, e)))
    {
        let _ = writeln!(
            out,
            "\nFirst error ({} {}): `{}`",
            error.0.workload,
            error.0.target,
            error.1.replace('`', "'")
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(rps: f64, p99: u64) -> Stats {
        Stats {
            requests_per_sec: rps,
            p99_us: p99,
            ..Stats::default()
        }
    }

    #[test]
    fn report_marks_each_target_pass_or_miss() {
        let row = |workload: &str, target: &'static str, s: Stats| Row {
            workload: workload.into(),
            target,
            stats: s,
        };
        let m = Measured {
            rows: vec![
                row("W1", "direct", stats(1000.0, 900)),
                row("W1", "connector", stats(900.0, 1200)),
                row("W2", "direct", stats(1000.0, 900)),
                row("W2", "connector", stats(500.0, 1200)),
            ],
            idle_rss_kib: 10 * 1024,
            busy_rss_kib: 30 * 1024,
            seconds: 1,
            connections: 64,
            placement: "pinned".into(),
            added: AddedLatency {
                rounds: [(500, 2000), (600, 900), (500, 2500)]
                    .map(|(d, c)| crate::added::Round {
                        direct: stats(450.0, d),
                        connector: stats(450.0, c),
                    })
                    .into(),
            },
            own_time: "own".into(),
            wakeup_floor: "floor".into(),
        };
        let text = render(&m);
        assert!(
            text.contains("| W1 throughput connector/direct | 90% | ≥ 80% | PASS |"),
            "{text}"
        );
        assert!(
            text.contains("| W2 throughput connector/direct | 50% | ≥ 80% | MISS |"),
            "{text}"
        );
        assert!(
            text.contains("median of 3 rounds) | 1500 µs | ≤ 1000 µs | MISS |"),
            "{text}"
        );
        assert!(text.contains("| 2 | 0 | 600 | 0 | 900 | 300 |"), "{text}");
        assert!(text.contains("| 10.0 MiB | ≤ 20 MiB | PASS |"), "{text}");
    }
}
