//! What a server costs, read from `/proc`: CPU time and resident memory summed over the
//! server's processes (an nginx master and its workers, Apache's parent and children, the
//! connector's single process), and a sampler for the peak memory during a measurement.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// `/proc` reports CPU times in USER_HZ, which Linux fixes at 100 for user space whatever the
/// kernel's own tick rate.
const TICKS_PER_SEC: u64 = 100;

/// One server: the process the benchmark started and everything descending from it.
#[derive(Debug, Clone, Copy)]
pub struct Server {
    pub root: u32,
}

/// `(ppid, utime + stime, cutime + cstime)` from `/proc/PID/stat`.
fn stat(pid: u32) -> Option<(u32, u64, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces and parentheses; the fields follow the last ')'.
    let fields: Vec<&str> = text
        .get(text.rfind(')')? + 1..)?
        .split_whitespace()
        .collect();
    let number = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok());
    let ppid = number(1)? as u32;
    Some((ppid, number(11)? + number(12)?, number(13)? + number(14)?))
}

/// A `kB` line of `/proc/PID/status` (`VmRSS`, `VmHWM`).
fn status_kib(pid: u32, key: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Proportional set size (shared pages divided among their users), in KiB.
fn pss_kib(pid: u32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("Pss:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

impl Server {
    /// The root and its live descendants.
    pub fn pids(&self) -> Vec<u32> {
        let mut parents: HashMap<u32, Vec<u32>> = HashMap::new();
        if let Ok(entries) = std::fs::read_dir("/proc") {
            for entry in entries.flatten() {
                let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
                    continue;
                };
                if let Some((ppid, _, _)) = stat(pid) {
                    parents.entry(ppid).or_default().push(pid);
                }
            }
        }
        let mut found = vec![self.root];
        let mut index = 0;
        // Bounded: each pid is visited once, and /proc lists finitely many.
        while index < found.len() {
            let children: Vec<u32> = parents
                .get(&found[index])
                .map(|c| c.iter().copied().filter(|c| !found.contains(c)).collect())
                .unwrap_or_default();
            found.extend(children);
            index += 1;
        }
        found
    }

    /// CPU time used so far, in ticks: the root's own and its reaped children's, plus the
    /// live descendants' own (a reaped child's time moves into the root's `cutime`).
    pub fn cpu_ticks(&self) -> u64 {
        self.pids()
            .into_iter()
            .filter_map(|pid| {
                let (_, own, reaped) = stat(pid)?;
                Some(if pid == self.root { own + reaped } else { own })
            })
            .sum()
    }

    /// Resident memory summed over the processes, in KiB. For several processes this counts
    /// shared pages once per process: an upper bound (see [`Server::pss_kib`]).
    pub fn rss_kib(&self) -> u64 {
        self.pids()
            .into_iter()
            .filter_map(|p| status_kib(p, "VmRSS"))
            .sum()
    }

    /// Proportional set size summed over the processes, in KiB.
    pub fn pss_kib(&self) -> u64 {
        self.pids().into_iter().filter_map(pss_kib).sum()
    }

    /// Open file descriptors summed over the processes.
    pub fn open_fds(&self) -> usize {
        self.pids()
            .into_iter()
            .filter_map(|p| std::fs::read_dir(format!("/proc/{p}/fd")).ok())
            .map(|d| d.count())
            .sum()
    }
}

/// Converts a tick delta into microseconds.
pub fn ticks_to_us(ticks: u64) -> u64 {
    ticks * 1_000_000 / TICKS_PER_SEC
}

/// Samples a server's summed RSS every 100 ms until stopped and keeps the peak.
pub struct Sampler {
    peak: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl Sampler {
    pub fn start(server: Server) -> Self {
        let peak = Arc::new(AtomicU64::new(server.rss_kib()));
        let stop = Arc::new(AtomicBool::new(false));
        let task = {
            let (peak, stop) = (Arc::clone(&peak), Arc::clone(&stop));
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let rss = tokio::task::spawn_blocking(move || server.rss_kib())
                        .await
                        .unwrap_or_default();
                    peak.fetch_max(rss, Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            })
        };
        Self { peak, stop, task }
    }

    /// Stops sampling and returns the peak (KiB), including one last sample.
    pub async fn finish(self, server: Server) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        // The task ends within one sampling period; an error means it panicked, and the peak
        // seen so far still stands.
        let _ = self.task.await;
        self.peak.load(Ordering::Relaxed).max(server.rss_kib())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_cpu_time_memory_and_descriptors() {
        let me = Server {
            root: std::process::id(),
        };
        let spin = std::time::Instant::now();
        while spin.elapsed() < Duration::from_millis(30) {
            std::hint::black_box(0u64);
        }
        assert!(me.cpu_ticks() > 0);
        assert!(me.rss_kib() > 0);
        assert!(me.open_fds() > 0);
        assert!(me.pids().contains(&std::process::id()));
    }

    #[test]
    fn ticks_are_hundredths_of_a_second() {
        assert_eq!(ticks_to_us(3), 30_000);
    }
}
