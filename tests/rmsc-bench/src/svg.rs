//! The comparison as an SVG image, written by hand (no plotting crate): left, grouped bars
//! of requests per second per workload and target on a log scale (W3 is tens of times slower
//! than W1); right, each server's RSS idle and with the W4 connections held.

use std::fmt::Write;

use crate::compare::report::{Report, Workload, TARGETS};

const WIDTH: f64 = 960.0;
const HEIGHT: f64 = 440.0;
const TOP: f64 = 60.0;
const BOTTOM: f64 = 370.0;
const COLOURS: [&str; 4] = ["#7f7f7f", "#2ca02c", "#d62728", "#1f77b4"];

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn text(out: &mut String, x: f64, y: f64, anchor: &str, size: u32, body: &str) {
    let _ = writeln!(
        out,
        r#"<text x="{x:.1}" y="{y:.1}" text-anchor="{anchor}" font-size="{size}">{}</text>"#,
        escape(body)
    );
}

fn bar(out: &mut String, x: f64, width: f64, top: f64, colour: &str, label: &str) {
    let _ = writeln!(
        out,
        r#"<rect x="{x:.1}" y="{top:.1}" width="{width:.1}" height="{:.1}" fill="{colour}"/>"#,
        (BOTTOM - top).max(0.0)
    );
    text(out, x + width / 2.0, top - 4.0, "middle", 10, label);
}

/// Requests per second per workload and target, log scale.
fn rates(out: &mut String, report: &Report, left: f64, right: f64) {
    let workloads = [Workload::W1, Workload::W2, Workload::W3];
    let values: Vec<f64> = report
        .rows
        .iter()
        .filter(|m| workloads.contains(&m.workload))
        .map(|m| m.stats.requests_per_sec)
        .filter(|v| *v > 0.0)
        .collect();
    let low = values
        .iter()
        .copied()
        .fold(f64::INFINITY, f64::min)
        .max(1.0)
        .log10()
        .floor();
    let high = values
        .iter()
        .copied()
        .fold(1.0, f64::max)
        .log10()
        .ceil()
        .max(low + 1.0);
    let y = |v: f64| BOTTOM - (v.max(1.0).log10() - low) / (high - low) * (BOTTOM - TOP);
    text(
        out,
        (left + right) / 2.0,
        30.0,
        "middle",
        14,
        "Requests per second (log scale)",
    );
    let mut decade = low;
    while decade <= high {
        let v = 10f64.powf(decade);
        let _ = writeln!(
            out,
            r##"<line x1="{left:.1}" x2="{right:.1}" y1="{0:.1}" y2="{0:.1}" stroke="#ddd"/>"##,
            y(v)
        );
        text(out, left - 6.0, y(v) + 4.0, "end", 10, &format!("{v:.0}"));
        decade += 1.0;
    }
    let group = (right - left) / workloads.len() as f64;
    let width = group * 0.8 / TARGETS.len() as f64;
    for (g, workload) in workloads.iter().enumerate() {
        let x0 = left + g as f64 * group + group * 0.1;
        for (t, target) in TARGETS.iter().enumerate() {
            if let Some(m) = report.find(*workload, target) {
                let rate = m.stats.requests_per_sec;
                let top = if rate > 0.0 { y(rate) } else { BOTTOM };
                bar(
                    out,
                    x0 + t as f64 * width,
                    width * 0.9,
                    top,
                    COLOURS[t],
                    &format!("{rate:.0}"),
                );
            }
        }
        text(
            out,
            x0 + group * 0.4,
            BOTTOM + 18.0,
            "middle",
            12,
            &workload.label(),
        );
    }
}

/// RSS idle and with W4 held, per server, linear MiB.
fn memory(out: &mut String, report: &Report, left: f64, right: f64) {
    let servers = &TARGETS[1..];
    let mib = |kib: u64| kib as f64 / 1024.0;
    let max = servers
        .iter()
        .flat_map(|t| {
            [
                report.idle_of(t).map_or(0.0, |m| mib(m.rss_kib)),
                report.held_by(t).map_or(0.0, |m| mib(m.rss_kib)),
            ]
        })
        .fold(1.0, f64::max)
        * 1.1;
    let y = |v: f64| BOTTOM - v / max * (BOTTOM - TOP);
    text(
        out,
        (left + right) / 2.0,
        30.0,
        "middle",
        14,
        "Server RSS, MiB: idle (light) / W4 held (dark)",
    );
    let _ = writeln!(
        out,
        r##"<line x1="{left:.1}" x2="{right:.1}" y1="{BOTTOM:.1}" y2="{BOTTOM:.1}" stroke="#999"/>"##
    );
    let group = (right - left) / servers.len() as f64;
    let width = group * 0.35;
    for (g, target) in servers.iter().enumerate() {
        let colour = COLOURS[g + 1];
        let x0 = left + g as f64 * group + group * 0.15;
        if let Some(idle) = report.idle_of(target) {
            let v = mib(idle.rss_kib);
            let _ = writeln!(out, r#"<g opacity="0.45">"#);
            bar(out, x0, width, y(v), colour, &format!("{v:.1}"));
            let _ = writeln!(out, "</g>");
        }
        if let Some(held) = report.held_by(target) {
            let v = mib(held.rss_kib);
            let label = if held.held < held.asked {
                format!("{v:.0} ({} conns)", held.held)
            } else {
                format!("{v:.0}")
            };
            bar(out, x0 + width, width, y(v), colour, &label);
        }
        text(out, x0 + width, BOTTOM + 18.0, "middle", 12, target);
    }
}

/// The whole image.
pub fn plot(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif">"#
    );
    let _ = writeln!(out, r#"<rect width="100%" height="100%" fill="white"/>"#);
    rates(&mut out, report, 70.0, 600.0);
    memory(&mut out, report, 650.0, 940.0);
    for (t, target) in TARGETS.iter().enumerate() {
        let x = 70.0 + t as f64 * 130.0;
        let _ = writeln!(
            out,
            r#"<rect x="{x:.1}" y="{:.1}" width="12" height="12" fill="{}"/>"#,
            HEIGHT - 30.0,
            COLOURS[t]
        );
        text(&mut out, x + 18.0, HEIGHT - 20.0, "start", 12, target);
    }
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::report::{Measurement, ServerMemory};
    use crate::load::Stats;

    #[test]
    fn plot_is_one_svg_with_a_bar_per_measurement() {
        let report = Report {
            rows: vec![Measurement {
                workload: Workload::W1,
                target: "connector",
                stats: Stats {
                    requests_per_sec: 1234.0,
                    ..Stats::default()
                },
                cpu_us_per_request: None,
                peak_rss_kib: None,
                busy: None,
            }],
            idle: vec![ServerMemory {
                target: "nginx",
                processes: 3,
                rss_kib: 4096,
                pss_kib: 2048,
            }],
            held: Vec::new(),
            checks: Vec::new(),
            seconds: 1,
            connections: 64,
            w3_callers: 16,
            placement: String::new(),
            observed: Vec::new(),
            added: crate::added::AddedLatency { rounds: Vec::new() },
            latency_notes: Vec::new(),
        };
        let svg = plot(&report);
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains(">1234<"), "{svg}");
        assert!(svg.contains(">4.0<"), "{svg}");
        // Two bars (rate, idle memory) plus the background and four legend squares.
        assert_eq!(svg.matches("<rect").count(), 7);
    }
}
