//! Where the benchmark's processes run (issue 7): pinned, each measured server gets CPUs of
//! its own and the load generator with the cloud stand-in the others, identically for every
//! target. Unpinned, the scheduler shares all CPUs, which lets a server with many threads
//! (Apache) take CPU time from the load generator that a server with one worker per CPU
//! (the connector, nginx) leaves it.

use std::process::Command;

use anyhow::{bail, Context};
use nix::sched::{sched_getaffinity, sched_setaffinity, CpuSet};
use nix::unistd::Pid;

/// A set of CPU numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cpus(Vec<usize>);

impl Cpus {
    /// The CPUs this thread may run on.
    pub fn allowed() -> anyhow::Result<Self> {
        let set = sched_getaffinity(Pid::from_raw(0)).context("sched_getaffinity")?;
        Ok(Self(
            (0..CpuSet::count())
                .filter(|&cpu| set.is_set(cpu).unwrap_or(false))
                .collect(),
        ))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The CPU numbers.
    pub fn ids(&self) -> &[usize] {
        &self.0
    }

    /// `taskset -c` notation, e.g. `0,1`.
    pub fn list(&self) -> String {
        self.0
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Pins thread `tid` of this process (0: the calling thread) to these CPUs. Threads it
    /// creates afterwards, and processes it forks, inherit the set.
    pub fn pin(&self, tid: i32) -> anyhow::Result<()> {
        let mut set = CpuSet::new();
        for &cpu in &self.0 {
            set.set(cpu).context("CPU number")?;
        }
        sched_setaffinity(Pid::from_raw(tid), &set)
            .with_context(|| format!("sched_setaffinity({tid}, {})", self.list()))
    }
}

/// `--pin`: whether to pin, `auto` meaning when there are at least two CPUs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PinMode {
    Auto,
    On,
    Off,
}

/// Where the servers and the benchmark itself run.
#[derive(Debug, Clone)]
pub enum Placement {
    /// Nothing pinned: every process may run on every one of `cpus`.
    Shared { cpus: Cpus },
    /// The server under test on `server`; the load generator and the stand-in on `bench`
    /// (for "direct" the stand-in is the server and moves to `server`).
    Pinned { bench: Cpus, server: Cpus },
}

impl Placement {
    /// Splits the allowed CPUs between the benchmark (which both drives the load and answers
    /// as the cloud, hence the larger half of an odd count) and the server.
    pub fn plan(mode: PinMode) -> anyhow::Result<Self> {
        let cpus = Cpus::allowed()?;
        match (mode, cpus.len()) {
            (PinMode::Off, _) | (PinMode::Auto, 0..=1) => Ok(Placement::Shared { cpus }),
            (PinMode::On, 0..=1) => bail!(
                "--pin on needs at least 2 CPUs, this process has {}",
                cpus.len()
            ),
            _ => {
                let (bench, server) = split(&cpus);
                Ok(Placement::Pinned { bench, server })
            }
        }
    }

    /// Pins the calling thread to the benchmark's CPUs; call it before the runtime starts so
    /// that its threads inherit the set (and tokio sizes its worker pool by it).
    pub fn pin_bench(&self) -> anyhow::Result<()> {
        match self {
            Placement::Shared { .. } => Ok(()),
            Placement::Pinned { bench, .. } => bench.pin(0),
        }
    }

    /// The CPUs of the server under test, when pinned.
    pub fn server(&self) -> Option<&Cpus> {
        match self {
            Placement::Shared { .. } => None,
            Placement::Pinned { server, .. } => Some(server),
        }
    }

    /// The CPUs of the load generator and the stand-in, when pinned.
    pub fn bench(&self) -> Option<&Cpus> {
        match self {
            Placement::Shared { .. } => None,
            Placement::Pinned { bench, .. } => Some(bench),
        }
    }

    /// The machine's wake-up round trip between the benchmark's CPUs and the server's (all
    /// allowed CPUs on both ends when unpinned), as one sentence for the report.
    pub fn wakeup_floor(&self) -> anyhow::Result<String> {
        let (near, far) = match self {
            Placement::Shared { cpus } => (cpus, cpus),
            Placement::Pinned { bench, server } => (bench, server),
        };
        Ok(crate::wakeup::probe(near, far, crate::wakeup::PINGS)?.describe())
    }

    /// How many CPUs one side gets: the stand-in's worker count.
    pub fn side_cpus(&self) -> usize {
        match self {
            Placement::Shared { cpus } => cpus.len().max(1),
            Placement::Pinned { bench, server } => bench.len().max(server.len()),
        }
    }

    /// One line for the report.
    pub fn describe(&self) -> String {
        match self {
            Placement::Shared { cpus } => format!(
                "unpinned: every process may run on CPUs {} (the scheduler shares them between the load generator, the stand-in and the server)",
                cpus.list()
            ),
            Placement::Pinned { bench, server } => format!(
                "pinned: the server under test on CPU {}, the load generator and the stand-in on CPU {}; for \"direct\" the stand-in's threads move to CPU {}",
                server.list(),
                bench.list(),
                server.list()
            ),
        }
    }
}

impl Placement {
    /// One line for the relay-vs-direct report, where the stand-in never moves.
    pub fn describe_relay(&self) -> String {
        match self {
            Placement::Shared { cpus } => format!(
                "unpinned: the load generator, the stand-in and the connector share CPUs {} (the connector's CPU time is taken from the load generator's)",
                cpus.list()
            ),
            Placement::Pinned { bench, server } => format!(
                "pinned: the load generator and the stand-in on CPU {} in both runs, the connector on CPU {} (idle during \"direct\"): the relay runs on a CPU of its own, as the appliance does, and \"direct\" is what the load generator and the stand-in can do on theirs",
                bench.list(),
                server.list()
            ),
        }
    }
}

/// The lower CPUs (the larger half when the count is odd) for the benchmark, the rest for the
/// server.
fn split(cpus: &Cpus) -> (Cpus, Cpus) {
    let n = cpus.len();
    let (bench, server) = cpus.0.split_at(n - n / 2);
    (Cpus(bench.to_vec()), Cpus(server.to_vec()))
}

/// `program` started on `cpus` (through `taskset`, which execs it: the pid is the program's),
/// or plainly when `cpus` is `None`.
pub fn command_on(program: &str, cpus: Option<&Cpus>) -> Command {
    match cpus {
        Some(cpus) => {
            let mut command = Command::new("taskset");
            command.arg("-c").arg(cpus.list()).arg(program);
            command
        }
        None => Command::new(program),
    }
}

/// The CPUs a process may run on, as the kernel reports them (`Cpus_allowed_list`).
pub fn allowed_list(pid: u32) -> Option<String> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
        .map(|v| v.trim().to_owned())
}

/// Threads of process `pid` whose name starts with `prefix` (tokio's workers are named
/// `tokio-runtime-worker`, cut to `tokio-runtime-w` by the kernel).
pub fn threads_named(pid: u32, prefix: &str) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .map(|tasks| {
            tasks
                .flatten()
                .filter(|t| {
                    std::fs::read_to_string(t.path().join("comm"))
                        .is_ok_and(|name| name.starts_with(prefix))
                })
                .count()
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_shares_and_a_split_gives_the_bench_the_larger_half() {
        assert!(matches!(
            Placement::plan(PinMode::Off).expect("plan"),
            Placement::Shared { .. }
        ));
        assert_eq!(split(&Cpus(vec![0, 1])), (Cpus(vec![0]), Cpus(vec![1])));
        assert_eq!(
            split(&Cpus(vec![0, 1, 2])),
            (Cpus(vec![0, 1]), Cpus(vec![2]))
        );
        assert_eq!(Cpus(vec![0, 3]).list(), "0,3");
    }

    #[test]
    fn tokio_sizes_its_pool_by_the_affinity() {
        // In a thread of its own: its CPU set is inherited by the runtime's threads only.
        let workers = std::thread::spawn(|| {
            let one = Cpus(vec![Cpus::allowed().expect("affinity").0[0]]);
            one.pin(0).expect("pin");
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .build()
                .expect("runtime");
            (
                std::thread::available_parallelism().map_or(0, |n| n.get()),
                runtime.metrics().num_workers(),
            )
        })
        .join()
        .expect("thread");
        assert_eq!(workers, (1, 1));
    }

    #[test]
    fn this_process_reports_its_cpus() {
        let allowed = Cpus::allowed().expect("affinity");
        assert!(allowed.len() >= 1);
        assert!(allowed_list(std::process::id()).is_some());
        assert!(threads_named(std::process::id(), "") >= 1);
    }
}
