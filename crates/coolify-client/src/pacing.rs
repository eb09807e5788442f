//! Pacing under Coolify's rate limit, shared by every clone of a [`Client`](crate::Client).
//!
//! Coolify limits each user to `API_RATE_LIMIT` requests a minute (200 by default) across all
//! of that user's tokens, in a fixed 60 s window, and announces the limit and what is left of
//! it on every answer (`X-RateLimit-Limit`, `X-RateLimit-Remaining`). The pacer reads both and
//! keeps the client to its share of the limit (ADR 0017):
//!
//! - its own requests stay within `share` percent of the limit in any 60 s: a burst of a
//!   quarter of that, then evenly spaced (a generic cell rate algorithm);
//! - when what is left for the user is nearly spent (by this client or another tool), it sends
//!   nothing more until Coolify's window has certainly ended;
//! - a `429` stops every request of the client until its `Retry-After`, together, once.
//!
//! Before the first answer that carries the headers it does not pace (a server that sends none
//! is not paced at all), and it never waits past a caller's deadline: it says so instead.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use reqwest::header::HeaderMap;
use tokio::time::Instant;

/// The length of Coolify's (Laravel's) rate-limit window.
const WINDOW: Duration = Duration::from_secs(60);

/// The share of Coolify's limit a client keeps to unless told otherwise: half, so that other
/// tools of the same user (a CLI, a second pipeline) keep the other half.
pub(crate) const DEFAULT_SHARE: u8 = 50;

/// One client's pacing state.
#[derive(Debug)]
pub(crate) struct Pacer {
    share: u8,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// `X-RateLimit-Limit` of the latest answer that had it.
    limit: Option<u32>,
    /// `X-RateLimit-Remaining` of that answer.
    remaining: Option<u32>,
    /// The generic cell rate algorithm's theoretical arrival time of the next request.
    next: Option<Instant>,
    /// No request starts before this: a `429`'s `Retry-After`, or the end of a window whose
    /// budget is nearly spent.
    hold_until: Option<Instant>,
    /// The latest time Coolify's current window can end.
    window_ends_by: Option<Instant>,
}

/// The pacing derived from a limit: the budget per window, the burst, the spacing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Rate {
    burst: u32,
    spacing: Duration,
}

impl Rate {
    /// At most `budget` requests in any 60 s: `burst` at once, then one per `spacing`
    /// (a window then holds at most `60 s / spacing + burst`).
    fn of(limit: u32, share: u8) -> Self {
        let budget = (u64::from(limit) * u64::from(share) / 100).max(1);
        let burst = (budget / 4).max(1);
        let spaced = u32::try_from((budget - burst).max(1)).unwrap_or(u32::MAX);
        Self {
            burst: u32::try_from(burst).unwrap_or(u32::MAX),
            spacing: WINDOW / spaced,
        }
    }
}

impl Pacer {
    pub(crate) fn new(share: u8) -> Self {
        Self {
            share,
            state: Mutex::new(State::default()),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Take the next turn: when the next request may start. `Err(wait)` (and no turn taken)
    /// when that is after `until`.
    pub(crate) fn reserve(&self, until: Option<Instant>) -> Result<Instant, Duration> {
        let now = Instant::now();
        let mut state = self.state();
        let held = state.hold_until.filter(|hold| *hold > now).unwrap_or(now);
        let (start, next) = match state.limit {
            None => (held, None),
            Some(limit) => {
                let rate = Rate::of(limit, self.share);
                let tolerance = rate.spacing * (rate.burst - 1);
                let theoretical = state.next.unwrap_or(now).max(held);
                let start = held.max(theoretical.checked_sub(tolerance).unwrap_or(now));
                (start, Some(theoretical.max(start) + rate.spacing))
            }
        };
        if let Some(until) = until
            && start > until
        {
            return Err(start - now);
        }
        if next.is_some() {
            state.next = next;
        }
        Ok(start)
    }

    /// Read the rate-limit headers of an answer to a request sent at `sent`.
    pub(crate) fn observe(&self, sent: Instant, headers: &HeaderMap) {
        let number = |name: &str| {
            headers
                .get(name)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.trim().parse::<u32>().ok())
        };
        let (Some(limit), Some(remaining)) =
            (number("x-ratelimit-limit"), number("x-ratelimit-remaining"))
        else {
            return;
        };
        let mut state = self.state();
        // A window that was seen ending, or more left than before: a new one began, at the
        // latest when this request arrived.
        let renewed = state.remaining.is_none_or(|before| remaining > before)
            || state.window_ends_by.is_none_or(|ends| sent >= ends);
        if renewed {
            state.window_ends_by = Some(sent + WINDOW);
        }
        if state.limit != Some(limit) {
            state.limit = Some(limit);
            state.next = None;
        }
        state.remaining = Some(remaining);
        let floor = (limit / 20).max(1);
        if remaining <= floor
            && let Some(ends) = state.window_ends_by
            && state.hold_until.is_none_or(|hold| hold < ends)
        {
            tracing::info!(
                remaining,
                limit,
                "coolify's rate limit is nearly spent; waiting for its window to end"
            );
            state.hold_until = Some(ends);
        }
    }

    /// Coolify answered `429` to the rate limit: hold every request until `retry_after` has
    /// passed (Laravel's `Retry-After` is the end of the window, which replaces any estimate),
    /// or until the window has certainly ended when it sent none.
    pub(crate) fn rate_limited(&self, retry_after: Option<Duration>) {
        let now = Instant::now();
        let mut state = self.state();
        let until = match (retry_after, state.window_ends_by) {
            (Some(after), _) => now + after,
            (None, Some(ends)) if ends > now => ends,
            (None, _) => now + WINDOW,
        };
        state.hold_until = Some(until);
        state.window_ends_by = Some(until);
        state.remaining = None;
        state.next = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(limit: u32, remaining: u32) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-ratelimit-limit", limit.into());
        headers.insert("x-ratelimit-remaining", remaining.into());
        headers
    }

    #[test]
    fn the_rate_keeps_any_minute_within_the_share() {
        for (limit, share) in [
            (200, 50),
            (60, 50),
            (200, 100),
            (1000, 30),
            (1, 50),
            (10, 1),
        ] {
            let rate = Rate::of(limit, share);
            let budget = (u64::from(limit) * u64::from(share) / 100).max(1);
            let most = WINDOW.as_nanos() / rate.spacing.as_nanos() + u128::from(rate.burst);
            assert!(
                most <= u128::from(budget).max(2),
                "{limit}/{share}: {most} > {budget}"
            );
        }
        assert_eq!(
            Rate::of(200, 50),
            Rate {
                burst: 25,
                spacing: Duration::from_millis(800)
            }
        );
    }

    #[tokio::test(start_paused = true)]
    async fn nothing_is_paced_before_coolify_announces_its_limit() {
        let pacer = Pacer::new(50);
        let now = Instant::now();
        for _ in 0..100 {
            assert_eq!(pacer.reserve(None), Ok(now));
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_then_even_spacing() {
        let pacer = Pacer::new(50);
        let start = Instant::now();
        pacer.observe(start, &headers(200, 199));
        let turns: Vec<Duration> = (0..30)
            .map(|_| pacer.reserve(None).unwrap() - start)
            .collect();
        assert!(turns[..25].iter().all(Duration::is_zero), "{turns:?}");
        assert_eq!(turns[25], Duration::from_millis(800));
        assert_eq!(turns[29], Duration::from_millis(4000));
    }

    #[tokio::test(start_paused = true)]
    async fn a_turn_past_the_deadline_is_refused_and_not_taken() {
        let pacer = Pacer::new(50);
        let start = Instant::now();
        pacer.observe(start, &headers(8, 7));
        // Budget 4: a burst of 1, then one every 20 s.
        assert_eq!(pacer.reserve(None), Ok(start));
        let deadline = start + Duration::from_secs(10);
        assert_eq!(pacer.reserve(Some(deadline)), Err(Duration::from_secs(20)));
        assert_eq!(
            pacer.reserve(None),
            Ok(start + Duration::from_secs(20)),
            "the refused turn was not taken"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_holds_every_request_until_retry_after_once() {
        let pacer = Pacer::new(50);
        let start = Instant::now();
        pacer.observe(start, &headers(200, 150));
        pacer.rate_limited(Some(Duration::from_secs(30)));
        pacer.rate_limited(Some(Duration::from_secs(30)));
        let after = start + Duration::from_secs(30);
        assert_eq!(pacer.reserve(None), Ok(after));
        assert_eq!(pacer.reserve(None), Ok(after));
        let deadline = start + Duration::from_secs(29);
        assert_eq!(pacer.reserve(Some(deadline)), Err(Duration::from_secs(30)));
    }

    #[tokio::test(start_paused = true)]
    async fn a_nearly_spent_budget_holds_until_the_window_has_ended() {
        let pacer = Pacer::new(50);
        let start = Instant::now();
        pacer.observe(start, &headers(200, 120));
        tokio::time::advance(Duration::from_secs(20)).await;
        // Another tool spent the rest: 10 left is the floor (a twentieth).
        pacer.observe(Instant::now(), &headers(200, 10));
        assert_eq!(pacer.reserve(None), Ok(start + WINDOW));
        // The next window: the answer shows more left, and requests flow again.
        tokio::time::advance(Duration::from_secs(40)).await;
        let renewed = Instant::now();
        pacer.observe(renewed, &headers(200, 199));
        assert_eq!(pacer.reserve(None), Ok(renewed));
    }
}
