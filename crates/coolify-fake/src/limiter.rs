//! Coolify's rate limiter and the traffic counters a benchmark reads.
//!
//! Coolify puts every `/api/*` route behind Laravel's `ThrottleRequests` with the named limiter
//! `api`: `API_RATE_LIMIT` requests per minute (default 200), keyed by the token's user (every
//! token of a user shares it), checked after authentication. Laravel counts in a fixed window
//! that starts with the first request after the previous one expired and lasts 60 s; a request
//! past the limit is not counted and gets `429 {"message":"Too Many Attempts."}` with
//! `Retry-After` (the seconds until the window ends) and `X-RateLimit-Reset`; every answer
//! carries `X-RateLimit-Limit` and `X-RateLimit-Remaining`. `/api/health` has its own limiter
//! of 1000 a minute.

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::time::Instant;

use crate::state::RecordedRequest;

/// Laravel's window of the `api` limiter.
const WINDOW: Duration = Duration::from_secs(60);

/// Coolify's default `API_RATE_LIMIT`.
pub(crate) const DEFAULT_RATE_LIMIT: u32 = 200;

/// The limit of `GET /api/health`.
pub(crate) const HEALTH_RATE_LIMIT: u32 = 1000;

/// The fake's clock starts at 2026-08-01T12:00:00Z, this many seconds after the Unix epoch.
pub(crate) const EPOCH_AT_START: u64 = 1_785_585_600;

/// One limiter key: a fixed 60 s window from its first hit.
#[derive(Debug, Clone)]
pub(crate) struct Window {
    limit: u32,
    started: Option<Instant>,
    hits: u32,
}

/// What the limiter decided about one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Throttle {
    /// Counted: answer it, with these headers.
    Allowed { limit: u32, remaining: u32 },
    /// Over the limit: `429` without handling it.
    Refused {
        limit: u32,
        /// Whole seconds until the window ends (at least 1).
        retry_after: u64,
        /// The end of the window on the fake's clock, after its start.
        resets_after: Duration,
    },
}

impl Window {
    pub(crate) fn new(limit: u32) -> Self {
        Self {
            limit,
            started: None,
            hits: 0,
        }
    }

    /// Count a request at `now` (`started` is the fake's start, for `X-RateLimit-Reset`).
    pub(crate) fn hit(&mut self, now: Instant, started: Instant) -> Throttle {
        let window_start = match self.started {
            Some(start) if now < start + WINDOW => start,
            _ => {
                self.hits = 0;
                self.started = Some(now);
                now
            }
        };
        let ends = window_start + WINDOW;
        if self.hits >= self.limit {
            let left = ends.saturating_duration_since(now);
            let retry_after = left.as_secs() + u64::from(left.subsec_nanos() > 0);
            return Throttle::Refused {
                limit: self.limit,
                retry_after: retry_after.max(1),
                resets_after: ends.saturating_duration_since(started),
            };
        }
        self.hits += 1;
        Throttle::Allowed {
            limit: self.limit,
            remaining: self.limit - self.hits,
        }
    }
}

/// What the fake received, counted: requests per route, the `429`s, and the most requests in
/// any 60 s; from [`FakeCoolify::traffic`](crate::FakeCoolify::traffic) or any list of
/// recorded requests ([`Traffic::of`]).
///
/// ```
/// use coolify_fake::{FakeApplication, FakeCoolify, Traffic};
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let fake = FakeCoolify::start().await?;
/// let app = fake.add_application(FakeApplication::new("api"));
/// let client = fake.client_builder().build()?;
/// client.application(&app).await?;
/// client.application(&app).await?;
/// client.version().await?;
/// let traffic = fake.traffic();
/// assert_eq!(traffic.requests(), 3);
/// assert_eq!(traffic.route("GET /api/v1/applications/{uuid}"), 2);
/// assert_eq!((traffic.rate_limited(), traffic.queue_full()), (0, 0));
/// assert_eq!(traffic.peak_per_minute(), 3);
/// assert_eq!(Traffic::of(&fake.requests()[1..]).requests(), 2);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Traffic {
    requests: usize,
    per_route: BTreeMap<String, usize>,
    rate_limited: usize,
    queue_full: usize,
    peak_per_minute: usize,
}

impl Traffic {
    /// Count `requests` (the health endpoints, which Coolify limits apart, are left out).
    #[must_use]
    pub fn of(requests: &[RecordedRequest]) -> Self {
        let mut traffic = Self::default();
        let mut times = Vec::new();
        for request in requests.iter().filter(|request| !request.is_health()) {
            traffic.requests += 1;
            *traffic
                .per_route
                .entry(request.route().to_owned())
                .or_default() += 1;
            if request.was_rate_limited() {
                traffic.rate_limited += 1;
            } else if request.status() == Some(429) {
                traffic.queue_full += 1;
            }
            times.push(request.at());
        }
        times.sort_unstable();
        let mut first = 0;
        for (last, at) in times.iter().enumerate() {
            while *at >= times[first] + WINDOW {
                first += 1;
            }
            traffic.peak_per_minute = traffic.peak_per_minute.max(last + 1 - first);
        }
        traffic
    }

    /// How many requests.
    #[must_use]
    pub fn requests(&self) -> usize {
        self.requests
    }

    /// The requests per route, keyed like `GET /api/v1/deployments/{uuid}` (see
    /// [`RecordedRequest::route`]).
    #[must_use]
    pub fn per_route(&self) -> &BTreeMap<String, usize> {
        &self.per_route
    }

    /// The requests of one route (`GET /api/v1/deployments`), 0 when none.
    #[must_use]
    pub fn route(&self, route: &str) -> usize {
        self.per_route.get(route).copied().unwrap_or(0)
    }

    /// How many were refused by the rate limiter (`429 Too Many Attempts.`, injected ones
    /// included).
    #[must_use]
    pub fn rate_limited(&self) -> usize {
        self.rate_limited
    }

    /// How many deploys were refused because the server's deployment queue was full (`429
    /// Deployment queue is full.`).
    #[must_use]
    pub fn queue_full(&self) -> usize {
        self.queue_full
    }

    /// The most requests received in any 60 s (sliding, so it may exceed what Coolify's fixed
    /// windows allow, up to twice the limit across a window's end).
    #[must_use]
    pub fn peak_per_minute(&self) -> usize {
        self.peak_per_minute
    }
}

/// The route of a request: its method and path with each id replaced by its name in
/// Coolify's routes (`{uuid}`, `{env_uuid}`, `{pull_request_id}`).
pub(crate) fn route_of(method: &str, path: &str) -> String {
    let Some(rest) = path.strip_prefix("/api/v1/") else {
        return format!("{method} {path}");
    };
    let segments: Vec<&str> = rest.split('/').collect();
    let templated: Vec<&str> = match segments.as_slice() {
        ["deployments", "applications", _] => vec!["deployments", "applications", "{uuid}"],
        ["deployments", _, rest @ ..] => ["deployments", "{uuid}"]
            .into_iter()
            .chain(rest.iter().copied())
            .collect(),
        ["applications", _, "envs", env] if *env != "bulk" => {
            vec!["applications", "{uuid}", "envs", "{env_uuid}"]
        }
        ["applications", _, "previews", _] => {
            vec!["applications", "{uuid}", "previews", "{pull_request_id}"]
        }
        ["applications" | "projects", _, rest @ ..] => [segments[0], "{uuid}"]
            .into_iter()
            .chain(rest.iter().copied())
            .collect(),
        _ => segments,
    };
    format!("{method} /api/v1/{}", templated.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_window_counts_from_its_first_hit_and_refuses_past_the_limit() {
        let started = Instant::now();
        let mut window = Window::new(3);
        tokio::time::advance(Duration::from_secs(10)).await;
        let remaining: Vec<Throttle> = (0..3)
            .map(|_| window.hit(Instant::now(), started))
            .collect();
        assert_eq!(
            remaining,
            [2, 1, 0].map(|remaining| Throttle::Allowed {
                limit: 3,
                remaining
            })
        );
        tokio::time::advance(Duration::from_millis(20_500)).await;
        assert_eq!(
            window.hit(Instant::now(), started),
            Throttle::Refused {
                limit: 3,
                retry_after: 40,
                resets_after: Duration::from_secs(70)
            }
        );
        tokio::time::advance(Duration::from_millis(39_500)).await;
        assert_eq!(
            window.hit(Instant::now(), started),
            Throttle::Allowed {
                limit: 3,
                remaining: 2
            }
        );
    }

    #[test]
    fn routes_name_their_ids() {
        for (path, route) in [
            ("/api/v1/deployments", "GET /api/v1/deployments"),
            ("/api/v1/deployments/d1", "GET /api/v1/deployments/{uuid}"),
            (
                "/api/v1/deployments/d1/cancel",
                "GET /api/v1/deployments/{uuid}/cancel",
            ),
            (
                "/api/v1/deployments/applications/a1",
                "GET /api/v1/deployments/applications/{uuid}",
            ),
            ("/api/v1/applications/a1", "GET /api/v1/applications/{uuid}"),
            (
                "/api/v1/applications/a1/envs/bulk",
                "GET /api/v1/applications/{uuid}/envs/bulk",
            ),
            (
                "/api/v1/applications/a1/envs/e1",
                "GET /api/v1/applications/{uuid}/envs/{env_uuid}",
            ),
            (
                "/api/v1/applications/a1/previews/7",
                "GET /api/v1/applications/{uuid}/previews/{pull_request_id}",
            ),
            ("/api/v1/projects/p1", "GET /api/v1/projects/{uuid}"),
            ("/api/health", "GET /api/health"),
        ] {
            assert_eq!(route_of("GET", path), route, "{path}");
        }
    }
}
