//! How busy a set of CPUs was over a measurement, from `/proc/stat`: shows, row by row,
//! whether the server under test or the load generator (with the stand-in) set the pace.

use crate::placement::Cpus;

/// Jiffies a set of CPUs spent busy and in all, at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CpuTime {
    busy: u64,
    total: u64,
}

impl CpuTime {
    /// The current counters of `cpus`, summed; `None` when `/proc/stat` cannot be read.
    pub fn now(cpus: &Cpus) -> Option<Self> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        Some(Self::of(&stat, cpus.ids()))
    }

    /// Sums the `cpuN` lines of `stat` for the CPUs in `ids`. Idle and I/O wait count as not
    /// busy; everything else (user, nice, system, interrupts, steal) as busy.
    pub fn of(stat: &str, ids: &[usize]) -> Self {
        let mut sum = Self::default();
        for line in stat.lines() {
            let mut fields = line.split_ascii_whitespace();
            let Some(id) = fields
                .next()
                .and_then(|name| name.strip_prefix("cpu"))
                .and_then(|n| n.parse::<usize>().ok())
            else {
                continue;
            };
            if !ids.contains(&id) {
                continue;
            }
            let values: Vec<u64> = fields.filter_map(|v| v.parse().ok()).collect();
            let total: u64 = values.iter().sum();
            let idle = values.get(3).copied().unwrap_or(0) + values.get(4).copied().unwrap_or(0);
            sum.total += total;
            sum.busy += total.saturating_sub(idle);
        }
        sum
    }

    /// The busy share (0 to 1) between `self` and the `later` reading.
    pub fn busy_until(&self, later: &Self) -> Option<f64> {
        let total = later.total.checked_sub(self.total)?;
        let busy = later.busy.checked_sub(self.busy)?;
        (total > 0).then(|| busy as f64 / total as f64)
    }
}

/// Readings of both sides taken at the start of a measurement.
pub struct SidesProbe<'a> {
    generator: (&'a Cpus, CpuTime),
    server: (&'a Cpus, CpuTime),
}

impl<'a> SidesProbe<'a> {
    /// Starts on the load generator's and the server's CPUs; `None` when unpinned (one
    /// shared set says nothing about sides) or `/proc/stat` cannot be read.
    pub fn start(generator: Option<&'a Cpus>, server: Option<&'a Cpus>) -> Option<Self> {
        let (generator, server) = (generator?, server?);
        Some(Self {
            generator: (generator, CpuTime::now(generator)?),
            server: (server, CpuTime::now(server)?),
        })
    }

    /// The busy shares (generator, server) since the start.
    pub fn finish(&self) -> Option<(f64, f64)> {
        let share = |(cpus, start): (&Cpus, CpuTime)| start.busy_until(&CpuTime::now(cpus)?);
        Some((share(self.generator)?, share(self.server)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BEFORE: &str = "cpu  10 0 10 100 0 0 0 0 0 0\n\
        cpu0 5 0 5 50 0 0 0 0 0 0\n\
        cpu1 5 0 5 50 0 0 0 0 0 0\n\
        intr 1 2 3\n";
    const AFTER: &str = "cpu  100 0 100 110 0 0 0 0 0 0\n\
        cpu0 95 0 5 60 0 0 0 0 0 0\n\
        cpu1 5 0 95 50 0 0 0 0 0 0\n";

    #[test]
    fn each_set_counts_only_its_cpus() {
        let share = |ids: &[usize]| CpuTime::of(BEFORE, ids).busy_until(&CpuTime::of(AFTER, ids));
        // cpu0: 90 busy of 100; cpu1: 90 of 90; both: 180 of 190.
        assert_eq!(share(&[0]), Some(0.9));
        assert_eq!(share(&[1]), Some(1.0));
        assert_eq!(share(&[0, 1]), Some(180.0 / 190.0));
        assert_eq!(share(&[7]), None, "no such CPU: no time passed");
    }

    #[test]
    fn counters_that_went_backwards_give_nothing() {
        let later = CpuTime::of(BEFORE, &[0]);
        assert_eq!(CpuTime::of(AFTER, &[0]).busy_until(&later), None);
    }
}
