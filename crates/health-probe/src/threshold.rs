//! The threshold state machine: consecutive passes make a target healthy, consecutive failures
//! (when a failure threshold is set) make it unhealthy early.
//!
//! Pure and tiny on purpose, so that a property test can hold it against a model.

/// The result of one attempt as far as the thresholds care.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Check {
    Pass,
    Fail,
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
        let trailing = |wanted: Check| history.iter().rev().take_while(|&&c| c == wanted).count();
        if history.last() == Some(&Check::Pass) && trailing(Check::Pass) >= success {
            Decision::Healthy
        } else if failure > 0
            && history.last() == Some(&Check::Fail)
            && trailing(Check::Fail) >= failure as usize
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
            .map(|c| thresholds.record(if c == 'p' { Check::Pass } else { Check::Fail }))
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

    proptest! {
        #[test]
        fn agrees_with_the_model(
            history in proptest::collection::vec(any::<bool>(), 0..64),
            success in 0u32..6,
            failure in 0u32..6,
        ) {
            let history: Vec<Check> = history
                .into_iter()
                .map(|pass| if pass { Check::Pass } else { Check::Fail })
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
