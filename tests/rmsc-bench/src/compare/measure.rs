//! Measuring one target: a workload's statistics plus what the server spent on it (CPU time
//! and peak RSS of its processes; for "direct", the stand-in threads' CPU time), and W4, the
//! memory a server needs to hold many idle authenticated connections.

use std::time::{Duration, Instant};

use super::report::{Busy, Measurement, W4Result, Workload};
use super::standin::StandinRuntime;
use crate::busy::SidesProbe;
use crate::conn::Caller;
use crate::load::Stats;
use crate::placement::{Cpus, Placement};
use crate::procs::{ticks_to_us, Sampler, Server};
use crate::workloads::hold_idle;

/// Connections opened at once while W4 fills up.
const W4_PARALLEL: usize = 32;

/// One target: how to call it and, when it runs as its own process, which one (`None` is
/// "direct": the stand-in inside this process is the server).
pub struct Target {
    pub name: &'static str,
    pub caller: Caller,
    pub server: Option<Server>,
}

/// The stand-in and where it must run for each target.
pub struct Bench<'a> {
    pub standin: &'a StandinRuntime,
    pub placement: &'a Placement,
}

impl Bench<'_> {
    /// Moves the stand-in where `target` needs it: on the server CPUs when it is the server
    /// under test ("direct"), with the load generator otherwise.
    pub fn place(&self, target: &Target) -> anyhow::Result<()> {
        self.move_standin(match target.server {
            None => self.placement.server(),
            Some(_) => self.placement.bench(),
        })
    }

    /// Keeps the stand-in with the load generator whatever the target: for the added-latency
    /// rounds, so that "direct" and the connector differ only by the relay (as in the plain
    /// benchmark) and not also by the stand-in having a CPU to itself in one of them.
    pub fn place_with_generator(&self) -> anyhow::Result<()> {
        self.move_standin(self.placement.bench())
    }

    /// Moves the stand-in's threads to `cpus`; unpinned (`None`) they stay where they are.
    fn move_standin(&self, cpus: Option<&Cpus>) -> anyhow::Result<()> {
        match cpus {
            Some(cpus) => self.standin.move_to(cpus),
            None => Ok(()),
        }
    }

    /// CPU ticks the server of `target` has used so far.
    fn cpu_ticks(&self, target: &Target) -> u64 {
        match target.server {
            Some(server) => server.cpu_ticks(),
            None => self.standin.cpu_ticks(),
        }
    }

    /// Runs `work` against `target` and adds what its server spent on it.
    pub async fn measure<F>(&self, target: &Target, workload: Workload, work: F) -> Measurement
    where
        F: std::future::Future<Output = Stats>,
    {
        eprintln!("measuring {} {}", workload.label(), target.name);
        let before = self.cpu_ticks(target);
        let sides = SidesProbe::start(self.placement.bench(), self.placement.server());
        let sampler = target.server.map(Sampler::start);
        let stats = work.await;
        let used = ticks_to_us(self.cpu_ticks(target).saturating_sub(before));
        let busy = sides
            .and_then(|probe| probe.finish())
            .map(|(generator, server)| Busy { generator, server });
        let peak_rss_kib = match (target.server, sampler) {
            (Some(server), Some(sampler)) => Some(sampler.finish(server).await),
            _ => None,
        };
        Measurement {
            workload,
            target: target.name,
            cpu_us_per_request: (stats.requests > 0).then(|| used as f64 / stats.requests as f64),
            stats,
            peak_rss_kib,
            busy,
        }
    }
}

/// W4 against one target: fill, measure the server's memory with the connections held, let
/// them go, and wait (poll, bounded) until the server has closed them.
pub async fn w4(target: &Target, connections: usize, deadline: Duration) -> Option<W4Result> {
    let server = target.server?;
    eprintln!(
        "W4: opening {connections} idle connections to {}",
        target.name
    );
    let fds_before = server.open_fds();
    let sampler = Sampler::start(server);
    let held = hold_idle(&target.caller, connections, W4_PARALLEL, deadline).await;
    // Let the server settle (buffers released after the first call) before reading memory.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let result = W4Result {
        target: target.name,
        asked: connections,
        held: held.still_open(),
        rss_kib: server.rss_kib(),
        pss_kib: server.pss_kib(),
        peak_rss_kib: sampler.finish(server).await,
        open_secs: held.open_time.as_secs_f64(),
        failed: held.failed,
        first_error: held.first_error.clone(),
    };
    drop(held);
    let end = Instant::now() + Duration::from_secs(30);
    while server.open_fds() > fds_before + 64 && Instant::now() < end {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Some(result)
}
