//! The one error type of this crate.

use std::time::Duration;

use crate::{DeploymentStatus, DeploymentUuid};

/// Everything that can go wrong while talking to Coolify.
///
/// Every variant names the endpoint it concerns (for example
/// `GET /api/v1/deployments/abc`), which includes the application or deployment uuid.
/// The API token never appears in any message.
///
/// `Display` prints this error's own message only; the underlying error, if any, is its
/// [`std::error::Error::source`], so walking the chain reads each cause once.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A configuration value was rejected before any request was made.
    #[error("invalid client configuration: {field} = {value:?}: {reason}")]
    InvalidConfig {
        /// The setting, for example `base_url`.
        field: &'static str,
        /// The rejected value.
        value: String,
        /// Why it was rejected and what to use instead.
        reason: String,
    },
    /// A value passed to a method was rejected before any request was made.
    #[error("invalid {what} {value:?}: {reason}")]
    InvalidInput {
        /// What the value is, for example `application uuid`.
        what: &'static str,
        /// The rejected value.
        value: String,
        /// Why it was rejected.
        reason: String,
    },
    /// No connection to Coolify could be opened.
    #[error("{endpoint}: could not reach coolify (check the base URL and the network)")]
    Transport {
        /// The endpoint called.
        endpoint: String,
        /// The underlying HTTP client error.
        #[source]
        source: reqwest::Error,
    },
    /// The TLS connection to Coolify failed: its certificate was refused, or the server does
    /// not speak TLS on that port. Not transient: the same request fails again until the
    /// certificate or the URL changes.
    ///
    /// Told apart from [`Error::Transport`] with the `rustls` feature, for the client built here
    /// and for a caller's client on reqwest's rustls alike.
    #[error("{endpoint}: {problem}: {}", problem.fix())]
    Tls {
        /// The endpoint called.
        endpoint: String,
        /// What was wrong with the certificate or the handshake.
        problem: TlsProblem,
        /// The underlying HTTP client error, whose chain holds the TLS library's own words.
        #[source]
        source: reqwest::Error,
    },
    /// The base URL is https, but this build of the crate has no TLS backend and no HTTP
    /// client was given to use instead.
    #[error(
        "{base_url}: https needs TLS, but coolify-client was built without its `rustls` feature: enable the feature, or give ClientBuilder::http_client a reqwest::Client built with TLS"
    )]
    TlsUnavailable {
        /// The base URL as given.
        base_url: String,
    },
    /// The connection reached Coolify (or a proxy in front of it) and closed before a whole
    /// answer arrived: whether a write took effect is unknown.
    #[error(
        "{endpoint}: the connection to coolify closed before an answer arrived (coolify or a proxy in front of it dropped the request; check its logs)"
    )]
    ConnectionClosed {
        /// The endpoint called.
        endpoint: String,
        /// The underlying HTTP client error.
        #[source]
        source: reqwest::Error,
    },
    /// No response arrived within the request timeout.
    #[error(
        "{endpoint}: no response within {}: coolify is slow or unreachable; retry or raise the request timeout",
        human(*after)
    )]
    Timeout {
        /// The endpoint called.
        endpoint: String,
        /// The timeout that elapsed.
        after: Duration,
    },
    /// Coolify rejected the token (401).
    #[error(
        "{endpoint}: coolify rejected the API token ({message}): use a valid, unexpired token of the right team"
    )]
    Unauthenticated {
        /// The endpoint called.
        endpoint: String,
        /// Coolify's message, for example `Unauthenticated.`.
        message: String,
    },
    /// The token lacks an ability the endpoint needs (403).
    #[error(
        "{endpoint}: the API token lacks the `{ability}` ability: create a token with it in Keys & Tokens"
    )]
    MissingAbility {
        /// The endpoint called.
        endpoint: String,
        /// The missing ability as Coolify names it, for example `read` or `deploy`.
        ability: String,
    },
    /// The Coolify API is switched off or refuses this caller's IP (403).
    #[error("{endpoint}: {message}: enable API access in Coolify's settings (and allow this IP)")]
    ApiDisabled {
        /// The endpoint called.
        endpoint: String,
        /// Coolify's message, for example `API is disabled.`.
        message: String,
    },
    /// The resource does not exist or belongs to another team (404).
    #[error("{endpoint}: {resource} not found ({message}): check the uuid and the token's team")]
    NotFound {
        /// The endpoint called.
        endpoint: String,
        /// What was looked for, for example the deployment with a given uuid.
        resource: Resource,
        /// Coolify's message.
        message: String,
    },
    /// Coolify asked the caller to slow down (429) and the retry budget is spent.
    #[error("{endpoint}: rate limited by coolify{}: wait and retry", retry_after.map(|after| format!(" (retry after {})", human(after))).unwrap_or_default())]
    RateLimited {
        /// The endpoint called.
        endpoint: String,
        /// The server's `Retry-After`, when it sent one.
        retry_after: Option<Duration>,
        /// Coolify's message.
        message: String,
    },
    /// The request was not sent: within this client's share of Coolify's rate limit the next
    /// request may only go after the caller's deadline (see [`crate::Client`]'s pacing).
    #[error(
        "{endpoint}: not sent: this client's share of coolify's rate limit lets it send again in {}, after the deadline; raise the deadline or the client's rate limit share",
        human(*wait)
    )]
    Throttled {
        /// The endpoint that would have been called.
        endpoint: String,
        /// How long until the request could have been sent.
        wait: Duration,
    },
    /// Coolify's deployment queue for the application's server is full (429 "Deployment queue
    /// is full."), and stayed full for the retry budget: nothing was queued.
    #[error(
        "{endpoint}: coolify's deployment queue for this application's server is full ({message}){}: nothing was queued; wait until deployments in it end, or raise the server's deployment queue limit in Coolify",
        retry_after.map(|after| format!(", it said to retry after {}", human(after))).unwrap_or_default()
    )]
    QueueFull {
        /// The endpoint called.
        endpoint: String,
        /// The server's `Retry-After`, when it sent one.
        retry_after: Option<Duration>,
        /// Coolify's message.
        message: String,
    },
    /// Coolify answered with an error status and a JSON error body.
    #[error(
        "{endpoint}: coolify answered {status}: {message}{}",
        format_field_errors(errors)
    )]
    Api {
        /// The endpoint called.
        endpoint: String,
        /// The HTTP status.
        status: u16,
        /// Coolify's `message`.
        message: String,
        /// Validation errors as `field: message` lines (422), empty otherwise.
        errors: Vec<String>,
    },
    /// The response was not what Coolify sends: HTML from a proxy, or JSON of another shape.
    #[error(
        "{endpoint}: unexpected response (status {status}): {detail}: check that the base URL points at Coolify and not at a proxy error page"
    )]
    UnexpectedBody {
        /// The endpoint called.
        endpoint: String,
        /// The HTTP status of the response.
        status: u16,
        /// What was wrong, with the start of the body.
        detail: String,
    },
    /// Coolify answered with a redirect, which is not followed so the token stays on its origin.
    #[error(
        "{endpoint}: coolify redirected ({status}) to {location:?}; not followed to keep the token on its origin: set the base URL to the final address"
    )]
    Redirected {
        /// The endpoint called.
        endpoint: String,
        /// The HTTP status (3xx).
        status: u16,
        /// The `Location` header, if any.
        location: String,
    },
    /// Coolify answered 200 but refused to deploy the application (the reason is in the body).
    #[error("{endpoint}: coolify did not queue a deployment: {message}")]
    DeployRejected {
        /// The endpoint called, with the application uuid.
        endpoint: String,
        /// Coolify's message for this application.
        message: String,
    },
    /// The deploy was refused after the commit was pinned (or, for a Docker-image application,
    /// the image tag was set), so the pin was put back to what it was: the application is as
    /// it was before the call.
    #[error(
        "nothing was deployed and application {application} {} again, as before",
        pin.state(restored)
    )]
    PinRestored {
        /// The application.
        application: crate::ApplicationUuid,
        /// What was pinned: a commit or an image tag.
        pin: PinKind,
        /// The pin it has again (`HEAD` when it followed its branch; for an image tag,
        /// `latest` when it had none).
        restored: String,
        /// Why the deploy was refused.
        #[source]
        source: Box<Error>,
    },
    /// The deploy was refused after the pin, and putting the pin back failed too: the
    /// application is left pinned to a commit (or an image tag) nothing deployed.
    #[error(
        "nothing was deployed, but putting the {} of application {application} back to {previous} failed ({restore}), so it {}: set its {} back to {previous} in Coolify before anyone redeploys it",
        pin.noun(),
        pin.still(pinned),
        pin.field()
    )]
    PinLeft {
        /// The application.
        application: crate::ApplicationUuid,
        /// What was pinned: a commit or an image tag.
        pin: PinKind,
        /// The commit (or image tag) it is pinned to now.
        pinned: String,
        /// The pin it had before (`HEAD` when it followed its branch).
        previous: String,
        /// Why putting the pin back failed.
        restore: Box<Error>,
        /// Why the deploy was refused.
        #[source]
        source: Box<Error>,
    },
    /// Coolify answered "already queued" to an image application's deploy twice, each time
    /// after this call waited for the application's deployments to end: other deploys keep
    /// starting. The tag was set, but this call queued nothing.
    #[error(
        "application {application}: coolify skipped the deploy of image tag {tag} twice because another deployment of it started each time this run waited{}; the tag is set, so that deployment may deploy it: follow it in Coolify, or run again once the application's deployments have ended",
        in_flight.as_ref().map(|deployment| format!(" (now {deployment})")).unwrap_or_default()
    )]
    ImageDeployBlocked {
        /// The application.
        application: crate::ApplicationUuid,
        /// The tag set on it.
        tag: String,
        /// The deployment in flight when it gave up, if known.
        in_flight: Option<DeploymentUuid>,
    },
    /// The application's pin changed between this call's pin and its deploy: another client
    /// pinned and deployed it at the same time.
    #[error(
        "application {application} was re-pinned to {found} by someone else right after this run pinned {expected}; another deploy of it is running at the same time: let it end, then run again"
    )]
    PinChanged {
        /// The application.
        application: crate::ApplicationUuid,
        /// The commit this call pinned.
        expected: crate::CommitSha,
        /// The commit the application is pinned to now.
        found: String,
    },
    /// A deployment built another commit than the one pinned for it, and the application is
    /// still pinned to that one: the Coolify server ignores pins.
    #[error(
        "app {application} is still pinned to {}: the Coolify server ignores pinned commits (versions before 4.1.0 do); upgrade Coolify",
        pinned.short()
    )]
    PinIgnored {
        /// The application.
        application: crate::ApplicationUuid,
        /// The commit it is pinned to, which was not built.
        pinned: crate::CommitSha,
    },
    /// A deployment built another commit than the one pinned for it, and the application could
    /// not be read to tell whether it was re-pinned ([`Error::PinChanged`]) or the server
    /// ignores pins ([`Error::PinIgnored`]).
    #[error(
        "application {application} built another commit than {}, and reading the application to find out why failed",
        expected.short()
    )]
    OtherCommitUnexplained {
        /// The application.
        application: crate::ApplicationUuid,
        /// The commit pinned for the deployment.
        expected: crate::CommitSha,
        /// Why the application could not be read.
        #[source]
        source: Box<Error>,
    },
    /// Coolify stopped answering while a deployment was followed, until the deadline passed.
    #[error(
        "deployment {deployment}: coolify did not answer within the {} deadline (last status seen: {}); the deployment may still finish: follow it in Coolify",
        human(*after),
        last_status.as_ref().map_or_else(|| "none".to_owned(), ToString::to_string)
    )]
    Unanswered {
        /// The deployment.
        deployment: DeploymentUuid,
        /// The deadline that elapsed.
        after: Duration,
        /// The last status seen, if any.
        last_status: Option<DeploymentStatus>,
        /// The last request error.
        #[source]
        source: Box<Error>,
    },
    /// The deployment cannot be cancelled: it already ended (400 "Deployment cannot be
    /// cancelled. Current status: …").
    #[error("deployment {deployment} cannot be cancelled: it already ended as {status}")]
    NotCancellable {
        /// The deployment.
        deployment: DeploymentUuid,
        /// The status it ended with.
        status: DeploymentStatus,
    },
    /// The server has no endpoint to cancel a deployment (Coolify before 4.0.0-beta.436
    /// answers its catch-all 404).
    #[error(
        "{endpoint}: this coolify cannot cancel deployments through its API (4.0.0-beta.436 added it): cancel deployment {deployment} in coolify's interface, or upgrade coolify"
    )]
    CancelUnsupported {
        /// The endpoint called.
        endpoint: String,
        /// The deployment.
        deployment: DeploymentUuid,
    },
    /// A preview's URL cannot be computed from the application's settings.
    #[error(
        "application {application}: the URL of the preview of pull request {pull_request} cannot be computed: {reason}"
    )]
    PreviewUrl {
        /// The application.
        application: crate::ApplicationUuid,
        /// The pull request.
        pull_request: crate::PullRequestId,
        /// Why.
        reason: crate::PreviewUrlProblem,
    },
    /// The deployment ended with status `failed`.
    #[error("deployment {deployment} failed{}: read its logs in Coolify", commit_suffix(commit.as_ref()))]
    DeploymentFailed {
        /// The deployment.
        deployment: DeploymentUuid,
        /// The commit it built, when known.
        commit: Option<crate::CommitSha>,
    },
    /// The deployment was cancelled.
    #[error("deployment {deployment} was cancelled{}: deploy again if that was not intended", commit_suffix(commit.as_ref()))]
    DeploymentCancelled {
        /// The deployment.
        deployment: DeploymentUuid,
        /// The commit it built, when known.
        commit: Option<crate::CommitSha>,
    },
    /// A deployment did not reach a terminal status before the deadline.
    #[error(
        "deployment {deployment} still {last_status} after {}: it may still finish; follow it in Coolify or raise the deadline",
        human(*after)
    )]
    DeadlineExceeded {
        /// The deployment.
        deployment: DeploymentUuid,
        /// The deadline that elapsed.
        after: Duration,
        /// The last status seen.
        last_status: DeploymentStatus,
    },
}

/// What [`Error::PinRestored`] and [`Error::PinLeft`] put back: the commit a git application
/// is pinned to, or the image tag a Docker-image application deploys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PinKind {
    /// The git commit (`git_commit_sha`), set by [`crate::Client::deploy_commit`].
    Commit,
    /// The image tag (`docker_registry_image_tag`), set by [`crate::Client::deploy_image_tag`].
    ImageTag,
}

impl PinKind {
    /// `pin` or `image tag`.
    #[must_use]
    pub fn noun(self) -> &'static str {
        match self {
            Self::Commit => "pin",
            Self::ImageTag => "image tag",
        }
    }

    /// The application's field in Coolify's words: `git commit` or `image tag`.
    #[must_use]
    pub fn field(self) -> &'static str {
        match self {
            Self::Commit => "git commit",
            Self::ImageTag => "image tag",
        }
    }

    /// `is still pinned to VALUE` or `still has the image tag VALUE`.
    fn still(self, value: &str) -> String {
        match self {
            Self::Commit => format!("is still pinned to {value}"),
            Self::ImageTag => format!("still has the image tag {value}"),
        }
    }

    /// `is pinned to VALUE` or `has the image tag VALUE`.
    fn state(self, value: &str) -> String {
        match self {
            Self::Commit => format!("is pinned to {value}"),
            Self::ImageTag => format!("has the image tag {value}"),
        }
    }
}

/// What was wrong with a TLS connection to Coolify; see [`Error::Tls`].
///
/// Its [`Display`](std::fmt::Display) says what happened, [`TlsProblem::fix`] what to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TlsProblem {
    /// The certificate is not signed by a certificate authority the client trusts: a
    /// self-signed certificate, or one of a private CA.
    UntrustedCertificate,
    /// The certificate has expired (or this machine's clock is ahead).
    ExpiredCertificate,
    /// The certificate is not valid yet (or this machine's clock is behind).
    CertificateNotYetValid,
    /// The certificate is valid for other host names than the base URL's.
    CertificateForAnotherHost,
    /// The certificate was revoked by its issuer.
    RevokedCertificate,
    /// The certificate was refused for another reason (malformed, a signature algorithm the
    /// client does not support, not meant for a server).
    InvalidCertificate,
    /// The handshake failed before any certificate was judged: the port may serve plain
    /// http, or the server offers no protocol version or cipher the client supports.
    Handshake,
}

impl TlsProblem {
    /// What to do about it, in a few words.
    #[must_use]
    pub fn fix(self) -> &'static str {
        match self {
            Self::UntrustedCertificate => {
                "trust the CA that signed it (or the self-signed certificate itself) with ClientBuilder::trust_certificate, or serve Coolify with a publicly trusted certificate"
            }
            Self::ExpiredCertificate => {
                "renew the certificate, or set this machine's clock right if it is ahead"
            }
            Self::CertificateNotYetValid => "set this machine's clock right",
            Self::CertificateForAnotherHost => {
                "use a host name in the base URL that the certificate names, or give Coolify a certificate for this one"
            }
            Self::RevokedCertificate => "give Coolify a new certificate",
            Self::InvalidCertificate => {
                "check the certificate chain the server sends (for example with `openssl s_client -connect HOST:443`)"
            }
            Self::Handshake => {
                "check the scheme and port of the base URL (Coolify's own install serves plain http on port 8000)"
            }
        }
    }
}

impl std::fmt::Display for TlsProblem {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(match self {
            Self::UntrustedCertificate => {
                "coolify's TLS certificate is not signed by a certificate authority this client trusts"
            }
            Self::ExpiredCertificate => "coolify's TLS certificate has expired",
            Self::CertificateNotYetValid => "coolify's TLS certificate is not valid yet",
            Self::CertificateForAnotherHost => {
                "coolify's TLS certificate is for another host name"
            }
            Self::RevokedCertificate => "coolify's TLS certificate was revoked",
            Self::InvalidCertificate => "coolify's TLS certificate was refused",
            Self::Handshake => "the TLS handshake with coolify failed",
        })
    }
}

/// What a request looked for; see [`Error::NotFound`].
///
/// Its [`Display`](std::fmt::Display) names it in words: `deployment d1`,
/// `environment variable e1 of application a1`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Resource {
    /// An application.
    Application(crate::ApplicationUuid),
    /// A deployment.
    Deployment(DeploymentUuid),
    /// An environment variable of an application; `None` when it was looked for by key.
    EnvVar {
        /// The application.
        application: crate::ApplicationUuid,
        /// The variable.
        variable: Option<crate::EnvVarUuid>,
    },
    /// A project.
    Project(crate::ProjectUuid),
    /// A deployment of a commit that is queued or in progress.
    InFlightDeployment {
        /// The application.
        application: crate::ApplicationUuid,
        /// The commit.
        commit: crate::CommitSha,
    },
    /// A path under `/api/v1/` that Coolify does not know, for example on an older server.
    Path(String),
}

impl std::fmt::Display for Resource {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Application(application) => write!(formatter, "application {application}"),
            Self::Deployment(deployment) => write!(formatter, "deployment {deployment}"),
            Self::EnvVar {
                application,
                variable: Some(variable),
            } => write!(
                formatter,
                "environment variable {variable} of application {application}"
            ),
            Self::EnvVar {
                application,
                variable: None,
            } => write!(
                formatter,
                "environment variable of application {application}"
            ),
            Self::Project(project) => write!(formatter, "project {project}"),
            Self::InFlightDeployment {
                application,
                commit,
            } => write!(
                formatter,
                "in-flight deployment of commit {commit} of application {application}"
            ),
            Self::Path(path) => write!(formatter, "/api/v1/{path}"),
        }
    }
}

impl Error {
    /// The HTTP status Coolify answered with, when the error came from a response.
    #[must_use]
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Unauthenticated { .. } => Some(401),
            Self::MissingAbility { .. } | Self::ApiDisabled { .. } => Some(403),
            Self::NotFound { .. } => Some(404),
            Self::RateLimited { .. } | Self::QueueFull { .. } => Some(429),
            Self::Api { status, .. }
            | Self::UnexpectedBody { status, .. }
            | Self::Redirected { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The `Retry-After` delay Coolify asked for, if this is a rate-limit error.
    #[must_use]
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after, .. } | Self::QueueFull { retry_after, .. } => {
                *retry_after
            }
            _ => None,
        }
    }

    /// Whether Coolify answered in a way that proves it queued nothing and changed nothing
    /// (a 4xx, or a 200 that lists no deployment); transport errors, timeouts and 5xx leave it
    /// unknown.
    #[must_use]
    pub fn proves_nothing_happened(&self) -> bool {
        match self {
            Self::DeployRejected { .. } | Self::InvalidInput { .. } | Self::Throttled { .. } => {
                true
            }
            Self::PinRestored { source, .. } | Self::PinLeft { source, .. } => {
                source.proves_nothing_happened()
            }
            _ => self
                .status()
                .is_some_and(|status| (400..500).contains(&status)),
        }
    }

    /// Whether this is Coolify (or the way to it) failing for a while: a timeout, a dropped
    /// connection, a 5xx, a rate limit or a full queue. Running the same command again later
    /// may succeed.
    #[must_use]
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Transport { .. }
            | Self::ConnectionClosed { .. }
            | Self::Timeout { .. }
            | Self::RateLimited { .. }
            | Self::QueueFull { .. }
            | Self::Throttled { .. }
            | Self::Unanswered { .. } => true,
            Self::PinRestored { source, .. } | Self::PinLeft { source, .. } => {
                source.is_transient()
            }
            Self::Api { status, .. } | Self::UnexpectedBody { status, .. } => *status >= 500,
            _ => false,
        }
    }

    /// Whether the API token is at fault: rejected, or missing an ability.
    #[must_use]
    pub fn is_token_problem(&self) -> bool {
        match self {
            Self::Unauthenticated { .. } | Self::MissingAbility { .. } => true,
            Self::PinRestored { source, .. } | Self::PinLeft { source, .. } => {
                source.is_token_problem()
            }
            _ => false,
        }
    }
}

/// A duration rounded for people: `250ms`, `1.0s`, `8.0s`, `2m`, `1m 30s`.
#[must_use]
pub(crate) fn human(duration: Duration) -> String {
    let millis = duration.as_millis();
    if millis < 1000 {
        format!("{millis}ms")
    } else if millis < 60_000 {
        format!("{:.1}s", duration.as_secs_f64())
    } else {
        let seconds = (millis + 500) / 1000;
        match (seconds / 60, seconds % 60) {
            (minutes, 0) => format!("{minutes}m"),
            (minutes, rest) => format!("{minutes}m {rest}s"),
        }
    }
}

fn format_field_errors(errors: &[String]) -> String {
    if errors.is_empty() {
        String::new()
    } else {
        format!(" ({})", errors.join("; "))
    }
}

fn commit_suffix(commit: Option<&crate::CommitSha>) -> String {
    commit
        .map(|commit| format!(" building commit {commit}"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_lowercase_without_trailing_period() {
        let error = Error::MissingAbility {
            endpoint: "POST /api/v1/deploy (application app1)".to_owned(),
            ability: "deploy".to_owned(),
        };
        let message = error.to_string();
        assert!(message.starts_with("POST /api/v1/deploy (application app1): "));
        assert!(message.contains("`deploy`"));
        assert!(!message.ends_with('.'));
        assert_eq!(error.status(), Some(403));
    }

    #[test]
    fn no_message_repeats_its_source() {
        let inner = Error::Timeout {
            endpoint: "GET /api/v1/deployments/d1".to_owned(),
            after: Duration::from_secs(5),
        };
        let inner_text = inner.to_string();
        let errors = [
            Error::PinRestored {
                application: crate::ApplicationUuid::new("a1").unwrap(),
                pin: PinKind::Commit,
                restored: "HEAD".to_owned(),
                source: Box::new(Error::DeployRejected {
                    endpoint: "POST /api/v1/deploy".to_owned(),
                    message: "no".to_owned(),
                }),
            },
            Error::Unanswered {
                deployment: DeploymentUuid::new("d1").unwrap(),
                after: Duration::from_secs(60),
                last_status: None,
                source: Box::new(inner),
            },
        ];
        for error in errors {
            let source = std::error::Error::source(&error).unwrap().to_string();
            assert!(!error.to_string().contains(&source), "{error}");
        }
        assert!(!inner_text.is_empty());
    }

    #[test]
    fn pin_messages_read_right_for_commits_and_image_tags() {
        let refused = || {
            Box::new(Error::DeployRejected {
                endpoint: "POST /api/v1/deploy".to_owned(),
                message: "no".to_owned(),
            })
        };
        let restored = Error::PinRestored {
            application: crate::ApplicationUuid::new("a1").unwrap(),
            pin: PinKind::ImageTag,
            restored: "1.4.0".to_owned(),
            source: refused(),
        };
        assert_eq!(
            restored.to_string(),
            "nothing was deployed and application a1 has the image tag 1.4.0 again, as before"
        );
        let left = Error::PinLeft {
            application: crate::ApplicationUuid::new("a1").unwrap(),
            pin: PinKind::ImageTag,
            pinned: "1.5.0".to_owned(),
            previous: "1.4.0".to_owned(),
            restore: refused(),
            source: refused(),
        };
        let text = left.to_string();
        assert!(
            text.contains("putting the image tag of application a1 back to 1.4.0 failed"),
            "{text}"
        );
        assert!(
            text.contains("so it still has the image tag 1.5.0"),
            "{text}"
        );
        assert!(text.contains("set its image tag back to 1.4.0"), "{text}");
    }

    #[test]
    fn durations_are_rounded_for_people() {
        assert_eq!(human(Duration::from_nanos(995_578_653)), "995ms");
        assert_eq!(human(Duration::from_millis(1000)), "1.0s");
        assert_eq!(human(Duration::from_millis(8_049)), "8.0s");
        assert_eq!(human(Duration::from_secs(120)), "2m");
        assert_eq!(human(Duration::from_secs(90)), "1m 30s");
    }

    #[test]
    fn validation_errors_are_listed() {
        let error = Error::Api {
            endpoint: "PATCH /api/v1/applications/app1".to_owned(),
            status: 422,
            message: "Validation failed.".to_owned(),
            errors: vec!["foo: This field is not allowed.".to_owned()],
        };
        assert!(
            error
                .to_string()
                .ends_with("(foo: This field is not allowed.)")
        );
    }
}
