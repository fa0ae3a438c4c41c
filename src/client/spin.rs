//! When a direct wait spins before it sleeps: [`SpinRule`], the adaptive rule kept per
//! connection and direction (the waits themselves are in `wait.rs`).

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

/// EWMA weight of the newest wait, as a shift: 1/4, so the last four waits or so decide.
const WEIGHT_SHIFT: u32 = 2;
/// A wait longer than this many budgets counts as this many (a 1 s wait must not take a
/// hundred fast ones to forget).
const CAP_BUDGETS: u64 = 2;
/// After the rule stops spinning, every this many-th wait spins anyway (a probe), to notice
/// that answers became fast again; each probe that finds no answer in time makes the gap
/// `PROBE_GAP_GROWTH` times longer, up to `LAST_PROBE_GAP`. With a 50 µs budget that is 3 ns of
/// spinning per wait in the long run, whatever the waits last, and the whole series costs 5
/// probes (250 µs) over the first 5,456 slow waits: under 0.5 % of the CPU a game waiting 1 ms per
/// answer burns anyway (`make bench`, workload `wait`; gaps doubling up to 1,024 cost 8 probes
/// over the first 3,000 waits, which that bench could see). The price: once answers become
/// fast again the spin resumes after at most `LAST_PROBE_GAP` waits (under a second at 50 µs
/// each), or at once if a sleeping wait ends within the budget.
const FIRST_PROBE_GAP: u32 = 16;
const PROBE_GAP_GROWTH: u32 = 4;
const LAST_PROBE_GAP: u32 = 16384;
/// A probe that catches an answer turns the spin back on, but the gap it reached is kept
/// until the spin has paid off this many waits in a row: an answer that came fast by chance
/// among slow ones costs one more spin, not a new series of probes from `FIRST_PROBE_GAP`.
const TRUSTED_AFTER: u32 = 64;

/// The adaptive rule for one connection and direction: spin only while recent answers came
/// within the budget.
///
/// It keeps an exponentially weighted average of how long the recent waits lasted (each
/// capped at `CAP_BUDGETS` budgets; a wait that slept counts its whole length, wake-up
/// included). While the average is within the budget, every wait spins first. When it goes
/// above (about two waits in a row that found no answer within the budget, or one after a
/// probe), waits sleep at once, except the probes (see `FIRST_PROBE_GAP`); a probe, or any
/// wait, that finds the answer within the budget starts spinning again. Only one thread waits
/// per connection and direction at a time, so plain loads and stores suffice; the atomics only
/// make it `Sync`.
pub struct SpinRule {
    budget_ns: u64,
    /// The weighted average wait, in nanoseconds.
    average_ns: AtomicU64,
    /// 0 while spinning; otherwise the number of waits between probes.
    probe_gap: AtomicU32,
    /// Waits left before the next probe.
    until_probe: AtomicU32,
    /// The gap to use when the spin stops next (see `TRUSTED_AFTER`).
    next_gap: AtomicU32,
    /// Waits in a row that found their answer within the budget.
    in_time: AtomicU32,
}

impl SpinRule {
    pub fn new(budget: Duration) -> SpinRule {
        let budget_ns = u64::try_from(budget.as_nanos()).unwrap_or(u64::MAX);
        SpinRule {
            budget_ns,
            // Starts as if the last waits took the whole budget: one fast answer keeps the
            // spin on, one slow one turns it off.
            average_ns: AtomicU64::new(budget_ns),
            probe_gap: AtomicU32::new(0),
            until_probe: AtomicU32::new(0),
            next_gap: AtomicU32::new(FIRST_PROBE_GAP),
            in_time: AtomicU32::new(0),
        }
    }

    /// How long the next wait may spin (zero: sleep at once).
    pub fn plan(&self) -> Duration {
        if self.budget_ns == 0 {
            return Duration::ZERO;
        }
        let gap = self.probe_gap.load(Ordering::Relaxed);
        if gap > 0 {
            let left = self.until_probe.load(Ordering::Relaxed);
            if left > 1 {
                self.until_probe.store(left - 1, Ordering::Relaxed);
                return Duration::ZERO;
            }
            self.until_probe.store(gap, Ordering::Relaxed);
        }
        Duration::from_nanos(self.budget_ns)
    }

    /// Records a wait that ended with the socket ready after `waited`; `spun` says whether it
    /// spun first. (A wait ended by a timeout or by `close` tells nothing and is not recorded.)
    pub fn record(&self, waited: Duration, spun: bool) {
        if self.budget_ns == 0 {
            return;
        }
        let waited = u64::try_from(waited.as_nanos()).unwrap_or(u64::MAX);
        let in_time = waited <= self.budget_ns;
        let capped = waited.min(self.budget_ns.saturating_mul(CAP_BUDGETS));
        let gap = self.probe_gap.load(Ordering::Relaxed);
        if gap > 0 {
            if in_time {
                // Spin again; one more slow answer stops it (the average starts at the budget).
                self.average_ns.store(self.budget_ns, Ordering::Relaxed);
                self.probe_gap.store(0, Ordering::Relaxed);
                self.in_time.store(1, Ordering::Relaxed);
            } else if spun {
                let gap = gap.saturating_mul(PROBE_GAP_GROWTH).min(LAST_PROBE_GAP);
                self.probe_gap.store(gap, Ordering::Relaxed);
                self.until_probe.store(gap, Ordering::Relaxed);
                self.next_gap.store(gap, Ordering::Relaxed);
            }
            return;
        }
        if in_time {
            let row = self.in_time.load(Ordering::Relaxed).saturating_add(1);
            self.in_time.store(row, Ordering::Relaxed);
            if row >= TRUSTED_AFTER {
                self.next_gap.store(FIRST_PROBE_GAP, Ordering::Relaxed);
            }
        } else {
            self.in_time.store(0, Ordering::Relaxed);
        }
        let average = self.average_ns.load(Ordering::Relaxed);
        let average = average - (average >> WEIGHT_SHIFT) + (capped >> WEIGHT_SHIFT);
        self.average_ns.store(average, Ordering::Relaxed);
        if average > self.budget_ns {
            let gap = self.next_gap.load(Ordering::Relaxed);
            self.probe_gap.store(gap, Ordering::Relaxed);
            self.until_probe.store(gap, Ordering::Relaxed);
        }
    }

    /// Whether the next wait spins (tests and diagnostics; `plan` is what waits use).
    #[cfg(test)]
    fn spinning(&self) -> bool {
        self.budget_ns > 0 && self.probe_gap.load(Ordering::Relaxed) == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUDGET: Duration = Duration::from_micros(50);
    const FAST: Duration = Duration::from_micros(10);
    const SLOW: Duration = Duration::from_millis(5);

    /// Runs one wait through the rule as `Waker::wait` does; whether it spun.
    fn wait(rule: &SpinRule, took: Duration) -> bool {
        let spun = !rule.plan().is_zero();
        rule.record(took, spun);
        spun
    }

    #[test]
    fn fast_answers_keep_the_spin_on_and_one_slow_answer_does_not_stop_it() {
        let rule = SpinRule::new(BUDGET);
        for _ in 0..100 {
            assert!(wait(&rule, FAST));
        }
        assert!(wait(&rule, SLOW)); // spun, found nothing in time
        assert!(
            rule.spinning(),
            "one late answer among fast ones keeps the spin"
        );
        assert!(wait(&rule, FAST));
    }

    #[test]
    fn slow_answers_stop_the_spin_and_probes_become_rare() {
        let rule = SpinRule::new(BUDGET);
        assert!(wait(&rule, SLOW));
        assert!(!rule.spinning(), "a slow first answer stops the spin");
        // From now on a wait spins only as a probe, at growing gaps up to LAST_PROBE_GAP.
        let waits = 100_000;
        let spins = (0..waits).filter(|_| wait(&rule, SLOW)).count();
        assert!(spins > 0, "probes still happen");
        assert!(
            spins * LAST_PROBE_GAP as usize <= waits + 16 * LAST_PROBE_GAP as usize,
            "{spins} spins in {waits} slow waits"
        );
    }

    #[test]
    fn a_probe_that_catches_a_fast_answer_turns_the_spin_back_on() {
        let rule = SpinRule::new(BUDGET);
        wait(&rule, SLOW);
        assert!(!rule.spinning());
        let mut n = 0;
        while !wait(&rule, FAST) {
            n += 1;
            assert!(
                n <= FIRST_PROBE_GAP,
                "a probe comes within FIRST_PROBE_GAP waits"
            );
        }
        assert!(rule.spinning());
    }

    #[test]
    fn a_sleeping_wait_that_ends_within_the_budget_turns_the_spin_back_on() {
        let rule = SpinRule::new(BUDGET);
        wait(&rule, SLOW);
        assert!(!rule.spinning());
        assert!(rule.plan().is_zero());
        rule.record(FAST, false);
        assert!(rule.spinning());
    }

    #[test]
    fn a_fast_answer_by_chance_among_slow_ones_costs_one_spin_not_new_probes() {
        let rule = SpinRule::new(BUDGET);
        // Slow answers until the probes are LAST_PROBE_GAP apart.
        for _ in 0..10_000 {
            wait(&rule, SLOW);
        }
        assert_eq!(rule.next_gap.load(Ordering::Relaxed), LAST_PROBE_GAP);
        while !wait(&rule, FAST) {} // the next probe catches one fast answer
        assert!(rule.spinning());
        assert!(wait(&rule, SLOW), "spins once more");
        assert!(!rule.spinning(), "and stops after that one slow answer");
        let spins = (0..LAST_PROBE_GAP - 1)
            .filter(|_| wait(&rule, SLOW))
            .count();
        assert_eq!(spins, 0, "the next probe is LAST_PROBE_GAP waits away");
    }

    #[test]
    fn zero_budget_never_spins() {
        let rule = SpinRule::new(Duration::ZERO);
        for _ in 0..100 {
            assert!(!wait(&rule, FAST));
        }
    }
}
