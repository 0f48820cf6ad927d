//! The machine's own floor for a relay's added latency: the round trip of one byte between a
//! thread on the load generator's CPU and one on the server's CPU, the second asleep between
//! pings. A relay on a CPU of its own adds two such round trips to every request (caller to
//! relay and back, relay to cloud and back), so on a virtual machine whose idle vCPUs take
//! long to wake (guest halt polling off, an overcommitted host) this, not the relay's code,
//! sets much of its added p99. The report prints it next to the added latency, with the
//! guest's halt-polling setting where the kernel exposes it.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::placement::Cpus;

/// Round trips the benchmark measures (about a second).
pub const PINGS: usize = 4000;
/// Pause between pings, so the far thread's CPU has gone idle when the next one arrives,
/// as the relay's CPU has between requests at half load.
const GAP: Duration = Duration::from_micros(200);

/// The probe's result, µs.
pub struct Wakeup {
    pub p50_us: u64,
    pub p99_us: u64,
    pub p999_us: u64,
}

/// Measures `pings` round trips between a thread on `near` and one on `far`.
pub fn probe(near: &Cpus, far: &Cpus, pings: usize) -> anyhow::Result<Wakeup> {
    anyhow::ensure!(pings > 0, "no pings");
    let (mut a, mut b) = UnixStream::pair().context("socketpair")?;
    let far = far.clone();
    let echo = std::thread::spawn(move || -> anyhow::Result<()> {
        far.pin(0)?;
        let mut byte = [0u8; 1];
        // Ends when the near side closes its end.
        while b.read(&mut byte)? == 1 {
            b.write_all(&byte)?;
        }
        Ok(())
    });
    let near = near.clone();
    let timed = std::thread::spawn(move || -> anyhow::Result<Vec<u64>> {
        near.pin(0)?;
        let mut samples = Vec::with_capacity(pings);
        let mut byte = [1u8; 1];
        for _ in 0..pings {
            // Pacing of a probe, not a wait for a condition.
            std::thread::sleep(GAP);
            let start = Instant::now();
            a.write_all(&byte)?;
            a.read_exact(&mut byte)?;
            samples.push(start.elapsed().as_micros() as u64);
        }
        Ok(samples)
    });
    let mut samples = timed
        .join()
        .map_err(|_| anyhow::anyhow!("probe thread panicked"))??;
    echo.join()
        .map_err(|_| anyhow::anyhow!("echo thread panicked"))??;
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
    Ok(Wakeup {
        p50_us: at(0.5),
        p99_us: at(0.99),
        p999_us: at(0.999),
    })
}

/// The guest's halt-polling window (cpuidle-haltpoll), when this kernel has one.
pub fn guest_halt_poll_ns() -> Option<u64> {
    std::fs::read_to_string("/sys/module/haltpoll/parameters/guest_halt_poll_ns")
        .ok()?
        .trim()
        .parse()
        .ok()
}

impl Wakeup {
    /// One markdown sentence for the report.
    pub fn describe(&self) -> String {
        let polling = match guest_halt_poll_ns() {
            Some(0) => "guest halt polling off (`haltpoll.guest_halt_poll_ns=0`; Linux's default is 200000)".to_owned(),
            Some(ns) => format!("guest halt polling {ns} ns"),
            None => "no guest halt-polling driver".to_owned(),
        };
        format!(
            "Machine floor: a one-byte round trip between the load generator's CPU and the \
             server's (idle between pings) takes p50 {} µs, p99 {} µs, p99.9 {} µs; {polling}. \
             A relay on a CPU of its own adds two such round trips per request.",
            self.p50_us, self.p99_us, self.p999_us
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_probe_measures_a_round_trip_on_the_allowed_cpus() {
        let cpus = Cpus::allowed().expect("allowed CPUs");
        let w = probe(&cpus, &cpus, 50).expect("probe");
        assert!(w.p50_us <= w.p99_us && w.p99_us <= w.p999_us);
        assert!(w.describe().contains("Machine floor"));
    }
}
