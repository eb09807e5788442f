//! The threshold state machine: consecutive passes make a target healthy, consecutive failures
//! (when a failure threshold is set) make it unhealthy early. An attempt that fails without
//! being held against the target (within the switch-over window, or an answer from another
//! version) breaks a run of passes but leaves the failure count as it is.
//!
//! Pure and tiny on purpose, so that a property test can hold it against a model.

/// The result of one attempt as far as the thresholds care.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Check {
    Pass,
    Fail,
    /// Not a pass, not a counted failure: resets the passes, keeps the failures.
    Uncounted,
}

/// What the thresholds say after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Decision {
    /// Keep probing.
    Continue,
    /// `success_threshold` consecutive passes.
    Healthy,
    /// `failure_threshold` consecutive failures.
    Unhealthy,
}

/// Counts consecutive passes and failures.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Thresholds {
    success_threshold: u32,
    failure_threshold: u32,
    passes: u32,
    failures: u32,
}

impl Thresholds {
    /// `success_threshold` is at least 1 (0 is read as 1); a `failure_threshold` of 0 means
    /// failures never end the probe early.
    pub(crate) fn new(success_threshold: u32, failure_threshold: u32) -> Self {
        Self {
            success_threshold: success_threshold.max(1),
            failure_threshold,
            passes: 0,
            failures: 0,
        }
    }

    /// Records one attempt and decides.
    pub(crate) fn record(&mut self, check: Check) -> Decision {
        match check {
            Check::Pass => {
                self.failures = 0;
                self.passes = self.passes.saturating_add(1);
                if self.passes >= self.success_threshold {
                    return Decision::Healthy;
                }
            }
            Check::Fail => {
                self.passes = 0;
                self.failures = self.failures.saturating_add(1);
                if self.failure_threshold > 0 && self.failures >= self.failure_threshold {
                    return Decision::Unhealthy;
                }
            }
            Check::Uncounted => self.passes = 0,
        }
        Decision::Continue
    }

    /// Consecutive passes so far.
    pub(crate) fn passes(&self) -> u32 {
        self.passes
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The model: look back over the whole history, no counters.
    fn model(history: &[Check], success: u32, failure: u32) -> Decision {
        let success = success.max(1) as usize;
        let trailing_passes = history
            .iter()
            .rev()
            .take_while(|&&c| c == Check::Pass)
            .count();
        // Counted failures since the last pass; uncounted attempts neither add nor break.
        let failures_since_pass = history
            .iter()
            .rev()
            .take_while(|&&c| c != Check::Pass)
            .filter(|&&c| c == Check::Fail)
            .count();
        if history.last() == Some(&Check::Pass) && trailing_passes >= success {
            Decision::Healthy
        } else if failure > 0
            && history.last() == Some(&Check::Fail)
            && failures_since_pass >= failure as usize
        {
            Decision::Unhealthy
        } else {
            Decision::Continue
        }
    }

    fn check(sequence: &str, success: u32, failure: u32, expected: &[Decision]) {
        let mut thresholds = Thresholds::new(success, failure);
        let decisions: Vec<Decision> = sequence
            .chars()
            .map(|c| {
                thresholds.record(match c {
                    'p' => Check::Pass,
                    'u' => Check::Uncounted,
                    _ => Check::Fail,
                })
            })
            .collect();
        assert_eq!(decisions, expected, "sequence {sequence}");
    }

    #[test]
    fn needs_consecutive_passes() {
        use Decision::{Continue as C, Healthy as H};
        check("pp", 2, 0, &[C, H]);
        check("pfp", 2, 0, &[C, C, C]);
        check("pfpp", 2, 0, &[C, C, C, H]);
        check("p", 1, 0, &[H]);
        check("p", 0, 0, &[H]);
    }

    #[test]
    fn failure_threshold_zero_never_gives_up() {
        check("ffffffff", 2, 0, &[Decision::Continue; 8]);
    }

    #[test]
    fn a_pass_resets_the_failure_count() {
        use Decision::{Continue as C, Unhealthy as U};
        check("ffpfff", 3, 3, &[C, C, C, C, C, U]);
    }

    #[test]
    fn uncounted_attempts_break_passes_but_keep_failures() {
        use Decision::{Continue as C, Healthy as H, Unhealthy as U};
        // Another version between two passes: the passes start over.
        check("pupp", 2, 3, &[C, C, C, H]);
        // Uncounted attempts never end the probe, however many.
        check("uuuuuuuu", 2, 1, &[C; 8]);
        // Interleaved with counted failures, they neither add to nor reset the count.
        check("fufuf", 2, 3, &[C, C, C, C, U]);
        // A pass still resets it.
        check("ffupfff", 2, 3, &[C, C, C, C, C, C, U]);
    }

    proptest! {
        #[test]
        fn agrees_with_the_model(
            history in proptest::collection::vec(0u8..3, 0..64),
            success in 0u32..6,
            failure in 0u32..6,
        ) {
            let history: Vec<Check> = history
                .into_iter()
                .map(|kind| match kind {
                    0 => Check::Pass,
                    1 => Check::Fail,
                    _ => Check::Uncounted,
                })
                .collect();
            let mut thresholds = Thresholds::new(success, failure);
            for end in 1..=history.len() {
                let decision = thresholds.record(history[end - 1]);
                prop_assert_eq!(decision, model(&history[..end], success, failure));
                if decision != Decision::Continue {
                    break;
                }
            }
        }
    }
}
