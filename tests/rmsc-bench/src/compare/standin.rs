//! The cloud stand-in on a tokio runtime of its own, inside the benchmark process: its
//! threads are known, so they can be moved between CPU sets (with the load generator while a
//! relay is measured, on the server's CPUs while "direct" is) and their CPU time read, which
//! gives "direct" a CPU time per request like the servers'.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use rmsc_e2e::Lab;

use crate::placement::Cpus;

/// A runtime whose threads are recorded (and pinned to the current set) as they start.
pub struct StandinRuntime {
    runtime: Option<tokio::runtime::Runtime>,
    threads: Arc<Mutex<Vec<i32>>>,
    cpus: Arc<Mutex<Option<Cpus>>>,
}

/// Thread ids of this process that still run, out of `tids`.
fn alive(tids: &[i32]) -> Vec<i32> {
    tids.iter()
        .copied()
        .filter(|tid| std::path::Path::new(&format!("/proc/self/task/{tid}")).exists())
        .collect()
}

/// `utime + stime` of one thread of this process, in ticks.
fn thread_ticks(tid: i32) -> u64 {
    let Ok(text) = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")) else {
        return 0;
    };
    let fields: Vec<&str> = text
        .rfind(')')
        .and_then(|i| text.get(i + 1..))
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    let number = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok());
    number(11).unwrap_or(0) + number(12).unwrap_or(0)
}

impl StandinRuntime {
    /// A runtime with `workers` workers, its threads on `cpus` (or anywhere).
    pub fn new(workers: usize, cpus: Option<Cpus>) -> anyhow::Result<Self> {
        let threads = Arc::new(Mutex::new(Vec::new()));
        let cpus = Arc::new(Mutex::new(cpus));
        let (recorded, placed) = (Arc::clone(&threads), Arc::clone(&cpus));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers.max(1))
            .thread_name("rmsc-standin")
            // Blocking threads that exited would take their CPU time with them.
            .thread_keep_alive(Duration::from_secs(24 * 3600))
            .on_thread_start(move || {
                let tid = nix::unistd::gettid().as_raw();
                if let Some(cpus) = placed.lock().map(|c| c.clone()).unwrap_or_default() {
                    // A thread left where it was born still works; only fairness suffers.
                    let _ = cpus.pin(tid);
                }
                if let Ok(mut threads) = recorded.lock() {
                    threads.push(tid);
                }
            })
            .enable_all()
            .build()
            .context("stand-in runtime")?;
        Ok(Self {
            runtime: Some(runtime),
            threads,
            cpus,
        })
    }

    /// Starts the stand-in (and the lab directory) on this runtime.
    pub async fn start_lab(&self) -> anyhow::Result<Lab> {
        let runtime = self.runtime.as_ref().context("stand-in runtime stopped")?;
        runtime
            .spawn(Lab::start())
            .await
            .context("stand-in start task")?
    }

    fn tids(&self) -> Vec<i32> {
        self.threads.lock().map(|t| alive(&t)).unwrap_or_default()
    }

    /// Moves every thread of the runtime (and those it starts later) to `cpus`.
    pub fn move_to(&self, cpus: &Cpus) -> anyhow::Result<()> {
        if let Ok(mut current) = self.cpus.lock() {
            *current = Some(cpus.clone());
        }
        for tid in self.tids() {
            cpus.pin(tid)?;
        }
        Ok(())
    }

    /// CPU time its threads have used, in ticks.
    pub fn cpu_ticks(&self) -> u64 {
        self.tids().into_iter().map(thread_ticks).sum()
    }

    /// Its threads' CPU sets as the kernel reports them, for the report.
    pub fn allowed_lists(&self) -> Vec<String> {
        let mut lists: Vec<String> = self
            .tids()
            .into_iter()
            .filter_map(|tid| {
                let text = std::fs::read_to_string(format!("/proc/self/task/{tid}/status")).ok()?;
                text.lines()
                    .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
                    .map(|v| v.trim().to_owned())
            })
            .collect();
        lists.sort();
        lists.dedup();
        lists
    }
}

impl Drop for StandinRuntime {
    fn drop(&mut self) {
        // Dropping a runtime blocks, which is not allowed inside the benchmark's own runtime.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}
