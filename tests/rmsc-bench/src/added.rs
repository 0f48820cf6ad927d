//! The p99 latency the connector adds over direct at one paced load, measured in alternating
//! rounds. On a shared virtual machine a single run's p99 moves by milliseconds with what the
//! host does meanwhile (a vCPU descheduled, another guest busy); alternating direct and
//! connector runs, in ABBA order so that a slow drift falls on both alike, and taking the
//! median of the per-round differences keeps one such burst from deciding the verdict. Every
//! round is printed, so nothing is hidden by the median.

use std::fmt::Write;
use std::future::Future;

use crate::load::Stats;

/// One direct run and one connector run at the same rate, back to back.
pub struct Round<T> {
    pub direct: T,
    pub connector: T,
}

/// The rounds of one added-latency measurement.
pub struct AddedLatency<T> {
    pub rounds: Vec<Round<T>>,
}

/// What the verdict needs of a measurement: its latency statistics.
pub trait HasStats {
    fn stats(&self) -> &Stats;
}

impl HasStats for Stats {
    fn stats(&self) -> &Stats {
        self
    }
}

impl<T: HasStats> Round<T> {
    /// Connector p99 minus direct p99, µs.
    pub fn added_p99_us(&self) -> i64 {
        self.connector.stats().p99_us as i64 - self.direct.stats().p99_us as i64
    }
}

impl<T: HasStats> AddedLatency<T> {
    /// The round whose difference is the median (the lower middle one for an even count).
    pub fn median_round(&self) -> Option<&Round<T>> {
        let mut order: Vec<&Round<T>> = self.rounds.iter().collect();
        order.sort_by_key(|r| r.added_p99_us());
        order.get(order.len().saturating_sub(1) / 2).copied()
    }

    /// The median of the per-round p99 differences, µs.
    pub fn median_added_p99_us(&self) -> Option<i64> {
        self.median_round().map(Round::added_p99_us)
    }

    /// Failed requests over every round of either target.
    pub fn errors(&self) -> u64 {
        self.rounds
            .iter()
            .map(|r| r.direct.stats().errors + r.connector.stats().errors)
            .sum()
    }

    /// A markdown table of every round: both p99s and their difference.
    pub fn markdown(&self, heading: &str) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "\n{heading}\n");
        let _ = writeln!(
            out,
            "| Round | direct p50 µs | direct p99 µs | connector p50 µs | connector p99 µs | p99 added µs |"
        );
        let _ = writeln!(out, "|---:|---:|---:|---:|---:|---:|");
        for (i, round) in self.rounds.iter().enumerate() {
            let (d, c) = (round.direct.stats(), round.connector.stats());
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                i + 1,
                d.p50_us,
                d.p99_us,
                c.p50_us,
                c.p99_us,
                round.added_p99_us()
            );
        }
        if let Some(median) = self.median_added_p99_us() {
            let _ = writeln!(out, "\nMedian p99 added: {median} µs.");
        }
        out
    }
}

/// Runs `rounds` rounds, direct first in even rounds and the connector first in odd ones.
pub async fn alternate<T, D, C, FD, FC>(
    rounds: usize,
    mut direct: D,
    mut connector: C,
) -> AddedLatency<T>
where
    D: FnMut(usize) -> FD,
    C: FnMut(usize) -> FC,
    FD: Future<Output = anyhow::Result<T>>,
    FC: Future<Output = anyhow::Result<T>>,
{
    let mut out = Vec::with_capacity(rounds);
    for round in 0..rounds.max(1) {
        let pair = if round % 2 == 0 {
            let d = direct(round).await;
            (d, connector(round).await)
        } else {
            let c = connector(round).await;
            (direct(round).await, c)
        };
        match pair {
            (Ok(direct), Ok(connector)) => out.push(Round { direct, connector }),
            (Err(error), _) | (_, Err(error)) => {
                eprintln!("added-latency round {} left out: {error:#}", round + 1);
            }
        }
    }
    AddedLatency { rounds: out }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(p99_us: u64) -> Stats {
        Stats {
            p99_us,
            ..Stats::default()
        }
    }

    fn latency(pairs: &[(u64, u64)]) -> AddedLatency<Stats> {
        AddedLatency {
            rounds: pairs
                .iter()
                .map(|&(d, c)| Round {
                    direct: stats(d),
                    connector: stats(c),
                })
                .collect(),
        }
    }

    #[test]
    fn the_median_difference_ignores_one_outlying_round() {
        let l = latency(&[
            (3000, 3500),
            (3000, 9000),
            (2500, 3200),
            (4000, 3900),
            (3000, 3600),
        ]);
        assert_eq!(l.median_added_p99_us(), Some(600));
        let text = l.markdown("### rounds");
        assert!(
            text.contains("| 2 | 0 | 3000 | 0 | 9000 | 6000 |"),
            "{text}"
        );
        assert!(text.contains("Median p99 added: 600 µs."), "{text}");
    }

    #[test]
    fn an_even_count_takes_the_lower_middle_and_none_gives_none() {
        assert_eq!(
            latency(&[(1000, 1500), (1000, 1100)]).median_added_p99_us(),
            Some(100)
        );
        assert_eq!(latency(&[]).median_added_p99_us(), None);
    }

    #[tokio::test]
    async fn rounds_alternate_in_abba_order() {
        let order = std::sync::Mutex::new(Vec::new());
        let l = alternate(
            3,
            |round| {
                order.lock().expect("order").push(format!("d{round}"));
                async { Ok(stats(1000)) }
            },
            |round| {
                order.lock().expect("order").push(format!("c{round}"));
                async { Ok(stats(1200)) }
            },
        )
        .await;
        assert_eq!(
            *order.lock().expect("order"),
            ["d0", "c0", "c1", "d1", "d2", "c2"]
        );
        assert_eq!(l.median_added_p99_us(), Some(200));
    }
}
