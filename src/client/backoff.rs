//! Backoff between connection attempts: the delay doubles after each failure up to a cap, and
//! a jitter spreads the games that lost the same trainer over the delay, so they do not all
//! knock at the same instant when it comes back. Used by the connection's own reconnect
//! (`reconnect/`) and by the env's (`crate::env`), which runs without jitter.

use std::time::Duration;

/// The delays of successive attempts: see the module documentation.
#[derive(Debug, Clone)]
pub struct Backoff {
    first: Duration,
    max: Duration,
    /// Percentage of each delay that is random: 0 gives exactly `first`, `2 first` ...; 50
    /// gives a delay between half and all of that.
    jitter_percent: u32,
    /// The delay before jitter of the next attempt.
    next: Duration,
}

impl Backoff {
    /// Starts at `first`, doubles up to `max` (at least `first`), `jitter_percent` (0 to 100)
    /// of each delay random.
    pub fn new(first: Duration, max: Duration, jitter_percent: u32) -> Backoff {
        Backoff {
            first,
            max: max.max(first),
            jitter_percent: jitter_percent.min(100),
            next: first,
        }
    }

    /// The delay to wait before the next attempt; the one after it is twice as long (up to the
    /// cap).
    pub fn next_delay(&mut self) -> Duration {
        let base = self.next;
        self.next = (self.next * 2).min(self.max);
        if self.jitter_percent == 0 {
            return base;
        }
        // Up to `jitter_percent` of the delay is taken off at random.
        let spread = base.mul_f64(f64::from(self.jitter_percent) / 100.0);
        base - spread.mul_f64(rand::random::<f64>())
    }

    /// Back to the first delay (a connection opened).
    pub fn reset(&mut self) {
        self.next = self.first;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn without_jitter_delays_double_up_to_the_cap_and_reset() {
        let mut b = Backoff::new(50 * MS, 300 * MS, 0);
        let delays: Vec<Duration> = (0..5).map(|_| b.next_delay()).collect();
        assert_eq!(delays, [50 * MS, 100 * MS, 200 * MS, 300 * MS, 300 * MS]);
        b.reset();
        assert_eq!(b.next_delay(), 50 * MS);
    }

    #[test]
    fn jitter_stays_within_its_share_of_the_delay() {
        let mut b = Backoff::new(100 * MS, 100 * MS, 50);
        let delays: Vec<Duration> = (0..200).map(|_| b.next_delay()).collect();
        assert!(delays.iter().all(|d| *d >= 50 * MS && *d <= 100 * MS));
        // Random: 200 draws that all land on one value would mean no jitter at all.
        assert!(delays.iter().any(|d| *d != delays[0]));
    }

    #[test]
    fn a_cap_below_the_first_delay_is_the_first_delay() {
        let mut b = Backoff::new(80 * MS, 10 * MS, 0);
        assert_eq!((b.next_delay(), b.next_delay()), (80 * MS, 80 * MS));
    }
}
