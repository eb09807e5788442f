//! Pull-request previews: deploy one, remove one, find its deployments, compute its URL.
//!
//! Coolify 4.3 keeps a preview per application and pull request. For a git application only a
//! pull-request webhook creates it (and only with preview deployments on); `POST /deploy` with
//! `pull_request_id` redeploys an existing one, and for a Docker-image application given a
//! `docker_tag` it creates it too. Without a preview Coolify answers `200` with "Pull request N
//! not found for this resource." and no deployment: [`PreviewOutcome::NoPreview`]. There is no
//! API that returns a preview's URL: [`Application::preview_url`] computes it as Coolify does.

use std::fmt;
use std::str::FromStr;

use reqwest::Method;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::client::{ALREADY_QUEUED, Endpoint, Replay};
use crate::models::{Application, Deployment, ForceRebuild};
use crate::operations::PlannedRequest;
use crate::{ApplicationUuid, Client, CommitSha, Error, ImageTag};

/// Coolify's default `preview_url_template`: the pull request's number before the
/// application's domain (`https://42.api.example.com`).
pub const DEFAULT_PREVIEW_URL_TEMPLATE: &str = "{{pr_id}}.{{domain}}";

/// A pull request's number, as Coolify's `pull_request_id` (1 or more; 0 means "not a
/// preview" in Coolify's deployments).
///
/// ```
/// use coolify_client::PullRequestId;
///
/// let pull_request: PullRequestId = "42".parse().unwrap();
/// assert_eq!(pull_request.get(), 42);
/// assert_eq!(pull_request.to_string(), "42");
/// assert!("0".parse::<PullRequestId>().is_err());
/// assert!("#42".parse::<PullRequestId>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u64", into = "u64")]
pub struct PullRequestId(u64);

impl PullRequestId {
    /// A pull request number.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for 0.
    pub fn new(number: u64) -> Result<Self, Error> {
        if number == 0 {
            return Err(Error::InvalidInput {
                what: "pull request number",
                value: number.to_string(),
                reason: "pull requests are numbered from 1".to_owned(),
            });
        }
        Ok(Self(number))
    }

    /// The number.
    #[must_use]
    pub fn get(self) -> u64 {
        self.0
    }
}

impl TryFrom<u64> for PullRequestId {
    type Error = Error;

    fn try_from(number: u64) -> Result<Self, Error> {
        Self::new(number)
    }
}

impl From<PullRequestId> for u64 {
    fn from(pull_request: PullRequestId) -> Self {
        pull_request.0
    }
}

impl FromStr for PullRequestId {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        let number = text
            .trim()
            .parse::<u64>()
            .map_err(|_| Error::InvalidInput {
                what: "pull request number",
                value: text.to_owned(),
                reason: "a number such as 42, without `#`".to_owned(),
            })?;
        Self::new(number)
    }
}

impl fmt::Display for PullRequestId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}", self.0)
    }
}

/// Whether an application gets previews from pull-request webhooks
/// (`is_preview_deployments_enabled`), for [`ApplicationPatch::preview_deployments`](crate::ApplicationPatch::preview_deployments).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PreviewDeployments {
    /// Webhooks create and deploy previews.
    Enabled,
    /// They do not (Coolify's default); the API still redeploys an existing preview.
    Disabled,
}

/// What [`Client::deploy_preview`] did.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PreviewOutcome {
    /// A preview deployment was queued.
    Queued(crate::DeploymentUuid),
    /// One of the same commit (and image tag) is already queued or running; Coolify's answer
    /// carries a uuid that does not exist, dropped here. Find the real one with
    /// [`Client::latest_preview_deployment`].
    AlreadyQueued,
    /// Coolify has no preview of this pull request ("Pull request N not found for this
    /// resource.", a `200` without a deployment): for a git application, only its pull-request
    /// webhook creates one, with preview deployments on; for a Docker-image application, deploy
    /// with a `docker_tag`.
    NoPreview,
}

/// What [`Client::delete_preview`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PreviewRemoval {
    /// Coolify removed the preview: its container, and its queued and running deployments
    /// (cancelled).
    Removed,
    /// There was no preview of this pull request ("Preview not found."): nothing to remove.
    NoPreview,
}

/// Why a preview's URL cannot be computed; in [`Error::PreviewUrl`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PreviewUrlProblem {
    /// The template uses `{{random}}`, which Coolify replaces by a new random value when it
    /// creates the preview: only Coolify's interface shows the result.
    RandomInTemplate {
        /// The application's `preview_url_template`.
        template: String,
    },
    /// The application has no domain, so Coolify gives its previews no URL.
    NoDomain,
    /// The application's first domain is not a URL with a host.
    InvalidDomain {
        /// The domain.
        domain: String,
    },
    /// The template makes something that is not a URL.
    InvalidUrl {
        /// What it makes.
        url: String,
    },
}

impl fmt::Display for PreviewUrlProblem {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::RandomInTemplate { template } => write!(
                formatter,
                "its preview URL template {template:?} uses {{{{random}}}}, which Coolify replaces by a new random value for each preview; give the preview's URL yourself"
            ),
            Self::NoDomain => {
                formatter.write_str("the application has no domain, so its previews have none")
            }
            Self::InvalidDomain { domain } => {
                write!(
                    formatter,
                    "its first domain {domain:?} is not a URL with a host"
                )
            }
            Self::InvalidUrl { url } => {
                write!(
                    formatter,
                    "its preview URL template makes {url:?}, which is not a URL"
                )
            }
        }
    }
}

impl Application {
    /// Whether pull-request webhooks create previews (`settings.is_preview_deployments_enabled`);
    /// `None` when the server does not say.
    #[must_use]
    pub fn previews_enabled(&self) -> Option<bool> {
        self.settings
            .as_ref()
            .and_then(|settings| settings.is_preview_deployments_enabled)
    }

    /// The URL of the preview of `pull_request`, as Coolify generates it: the application's
    /// first domain's host put into `preview_url_template` (default
    /// `{{pr_id}}.{{domain}}`), with that domain's scheme, port and path kept.
    ///
    /// ```
    /// # let json = r#"{"uuid": "app1", "fqdn": "https://api.example.com:8443/app,https://www.example.com"}"#;
    /// let app: coolify_client::Application = serde_json::from_str(json).unwrap();
    /// let url = app.preview_url("42".parse().unwrap()).unwrap();
    /// assert_eq!(url.as_str(), "https://42.api.example.com:8443/app");
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::PreviewUrl`] when it cannot be computed: the template uses `{{random}}`, the
    /// application has no domain, or the result is not a URL.
    pub fn preview_url(&self, pull_request: PullRequestId) -> Result<Url, Error> {
        let problem = |reason| Error::PreviewUrl {
            application: self.uuid.clone(),
            pull_request,
            reason,
        };
        let template = self
            .preview_url_template
            .as_deref()
            .map(str::trim)
            .filter(|template| !template.is_empty())
            .unwrap_or(DEFAULT_PREVIEW_URL_TEMPLATE);
        if template.contains("{{random}}") {
            return Err(problem(PreviewUrlProblem::RandomInTemplate {
                template: template.to_owned(),
            }));
        }
        let domain = *self
            .domains()
            .first()
            .ok_or_else(|| problem(PreviewUrlProblem::NoDomain))?;
        let invalid_domain = || {
            problem(PreviewUrlProblem::InvalidDomain {
                domain: domain.to_owned(),
            })
        };
        let first = Url::parse(domain).map_err(|_| invalid_domain())?;
        let host = first.host_str().ok_or_else(invalid_domain)?;
        let name = template
            .replace("{{domain}}", host)
            .replace("{{pr_id}}", &pull_request.to_string());
        let port = first
            .port()
            .map(|port| format!(":{port}"))
            .unwrap_or_default();
        let path = match first.path() {
            "" | "/" => "",
            path => path,
        };
        let url = format!("{}://{name}{port}{path}", first.scheme());
        Url::parse(&url).map_err(|_| problem(PreviewUrlProblem::InvalidUrl { url }))
    }
}

/// The body of `POST /deploy` for a preview.
fn preview_body(
    application: &ApplicationUuid,
    pull_request: PullRequestId,
    docker_tag: Option<&ImageTag>,
    force: ForceRebuild,
) -> serde_json::Value {
    let mut body = serde_json::json!({
        "uuid": application.as_str(),
        "pull_request_id": pull_request.get(),
        "force": force == ForceRebuild::Yes,
    });
    if let (Some(tag), Some(fields)) = (docker_tag, body.as_object_mut()) {
        fields.insert("docker_tag".to_owned(), tag.as_str().into());
    }
    body
}

impl Client {
    /// The request [`Client::deploy_preview`] would send, for a dry run: nothing is sent.
    ///
    /// ```
    /// use coolify_client::{Client, ForceRebuild};
    ///
    /// let app = "vgsco4o4wc8w0ok8gwgk8w0o".parse().unwrap();
    /// let tag = "sha-4f2a9c1".parse().unwrap();
    /// let planned = Client::planned_deploy_preview(&app, "42".parse().unwrap(), Some(&tag), ForceRebuild::No);
    /// assert_eq!(
    ///     planned.to_string(),
    ///     r#"POST /api/v1/deploy {"docker_tag": "sha-4f2a9c1", "force": false, "pull_request_id": 42, "uuid": "vgsco4o4wc8w0ok8gwgk8w0o"}"#
    /// );
    /// ```
    #[must_use]
    pub fn planned_deploy_preview(
        application: &ApplicationUuid,
        pull_request: PullRequestId,
        docker_tag: Option<&ImageTag>,
        force: ForceRebuild,
    ) -> PlannedRequest {
        PlannedRequest::new(
            "POST",
            &["deploy"],
            preview_body(application, pull_request, docker_tag, force),
        )
    }

    /// Deploy the preview of `pull_request` (`POST /deploy` with `pull_request_id`, and
    /// `docker_tag` for a Docker-image application): sent exactly once unless Coolify answers
    /// 429.
    ///
    /// With a `docker_tag`, Coolify creates the preview of a Docker-image application if it
    /// has none and pulls that tag. Otherwise the preview must exist: for a git application,
    /// its pull-request webhook creates it. Coolify does not check
    /// `is_preview_deployments_enabled` here. A deploy-key or plain-git application builds its
    /// base branch, not the pull request, in a preview deployed this way (Coolify passes no
    /// `git_type`): check the commit the preview reports.
    ///
    /// ```no_run
    /// use coolify_client::{ApplicationUuid, Client, ForceRebuild, PreviewOutcome};
    ///
    /// # async fn run(client: &Client, web: &ApplicationUuid, api: &ApplicationUuid) -> Result<(), Box<dyn std::error::Error>> {
    /// let pull_request = "42".parse()?;
    /// // A git application: its pull-request webhook made the preview, this redeploys it.
    /// match client.deploy_preview(web, pull_request, None, ForceRebuild::No).await? {
    ///     PreviewOutcome::Queued(deployment) => println!("preview deployment {deployment}"),
    ///     PreviewOutcome::NoPreview => println!("no preview yet: the webhook creates it"),
    ///     other => println!("{other:?}"),
    /// }
    /// // A Docker-image application: the pull request's image tag, preview made if needed.
    /// let tag = "sha-4f2a9c1".parse()?;
    /// client.deploy_preview(api, pull_request, Some(&tag), ForceRebuild::No).await?;
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::DeployRejected`] when Coolify answers `200` without a deployment for another
    /// reason (a `docker_tag` for an application that is not a Docker-image one, a
    /// permission), [`Error::NotFound`] for an unknown application, [`Error::QueueFull`], and
    /// any request error of this crate; the token needs `deploy`.
    pub async fn deploy_preview(
        &self,
        application: &ApplicationUuid,
        pull_request: PullRequestId,
        docker_tag: Option<&ImageTag>,
        force: ForceRebuild,
    ) -> Result<PreviewOutcome, Error> {
        let body = preview_body(application, pull_request, docker_tag, force);
        let answer = self.post_deploy(application, body).await?;
        let message = answer.message.trim();
        if message == ALREADY_QUEUED {
            return Ok(PreviewOutcome::AlreadyQueued);
        }
        if message == format!("Pull request {pull_request} not found for this resource.") {
            tracing::info!(%application, %pull_request, "coolify has no preview of this pull request");
            return Ok(PreviewOutcome::NoPreview);
        }
        match answer.deployment {
            Some(deployment) => {
                tracing::info!(%application, %pull_request, %deployment, "preview deployment queued");
                Ok(PreviewOutcome::Queued(deployment))
            }
            None => Err(answer.rejected()),
        }
    }

    /// Remove the preview of `pull_request` (`DELETE /applications/{uuid}/previews/{pr}`,
    /// Coolify 4.0.0-beta.474 and later): its container, and its queued and running
    /// deployments. Removing one that does not exist is [`PreviewRemoval::NoPreview`].
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] for an unknown application (or a Coolify without the endpoint,
    /// whose message is `Not found.`), and any request error of this crate; the token needs
    /// `write`.
    pub async fn delete_preview(
        &self,
        application: &ApplicationUuid,
        pull_request: PullRequestId,
    ) -> Result<PreviewRemoval, Error> {
        let number = pull_request.to_string();
        let endpoint = Endpoint::new(
            Method::DELETE,
            &["applications", application.as_str(), "previews", &number],
        );
        match self.call(&endpoint, &[], None, Replay::Never).await {
            Ok(_) => Ok(PreviewRemoval::Removed),
            Err(Error::NotFound { message, .. }) if message.starts_with("Preview not found") => {
                Ok(PreviewRemoval::NoPreview)
            }
            Err(error) => Err(error),
        }
    }

    /// The newest deployment of the preview of `pull_request` (any status) among the
    /// application's [`HISTORY_WINDOW`](crate::HISTORY_WINDOW) newest.
    ///
    /// # Errors
    ///
    /// The errors of [`Client::deployments`].
    pub async fn latest_preview_deployment(
        &self,
        application: &ApplicationUuid,
        pull_request: PullRequestId,
    ) -> Result<Option<Deployment>, Error> {
        self.scan(application, |deployment| {
            deployment.pull_request() == Some(pull_request)
        })
        .await
    }

    /// The newest deployment of the preview of `pull_request` that builds `commit` (any
    /// status), among the application's [`HISTORY_WINDOW`](crate::HISTORY_WINDOW) newest: the
    /// deployment a webhook started for a pull request's head.
    ///
    /// # Errors
    ///
    /// The errors of [`Client::deployments`].
    pub async fn find_preview_deployment(
        &self,
        application: &ApplicationUuid,
        pull_request: PullRequestId,
        commit: &CommitSha,
    ) -> Result<Option<Deployment>, Error> {
        self.scan(application, |deployment| {
            deployment.pull_request() == Some(pull_request) && deployment.is_of_commit(commit)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(fqdn: Option<&str>, template: Option<&str>) -> Application {
        let mut app = Application::new("a1".parse().unwrap());
        app.fqdn = fqdn.map(str::to_owned);
        app.preview_url_template = template.map(str::to_owned);
        app
    }

    fn pr(number: u64) -> PullRequestId {
        PullRequestId::new(number).unwrap()
    }

    #[test]
    fn preview_urls_are_computed_as_coolify_generates_them() {
        for (fqdn, template, expected) in [
            (
                "https://api.example.com",
                None,
                "https://7.api.example.com/",
            ),
            (
                "http://api.example.test:8080/v1/,https://www.example.com",
                Some("pr-{{pr_id}}.{{domain}}"),
                "http://pr-7.api.example.test:8080/v1/",
            ),
            (
                "https://api.example.com",
                Some("{{pr_id}}.preview.example.com"),
                "https://7.preview.example.com/",
            ),
            (
                "https://api.example.com",
                Some("  "),
                "https://7.api.example.com/",
            ),
        ] {
            assert_eq!(
                app(Some(fqdn), template)
                    .preview_url(pr(7))
                    .unwrap()
                    .as_str(),
                expected,
                "{fqdn} {template:?}"
            );
        }
    }

    #[test]
    fn a_preview_url_that_cannot_be_computed_says_why() {
        for (fqdn, template, reason) in [
            (
                Some("https://api.example.com"),
                Some("{{random}}.{{domain}}"),
                PreviewUrlProblem::RandomInTemplate {
                    template: "{{random}}.{{domain}}".to_owned(),
                },
            ),
            (None, None, PreviewUrlProblem::NoDomain),
            (Some(" , "), None, PreviewUrlProblem::NoDomain),
            (
                Some("api.example.com"),
                None,
                PreviewUrlProblem::InvalidDomain {
                    domain: "api.example.com".to_owned(),
                },
            ),
            (
                Some("https://api.example.com"),
                Some("{{pr_id}} .{{domain}}"),
                PreviewUrlProblem::InvalidUrl {
                    url: "https://7 .api.example.com".to_owned(),
                },
            ),
        ] {
            let error = app(fqdn, template).preview_url(pr(7)).unwrap_err();
            let Error::PreviewUrl {
                reason: found,
                pull_request,
                ..
            } = &error
            else {
                panic!("{error:?}")
            };
            assert_eq!((found, *pull_request), (&reason, pr(7)));
            let message = error.to_string();
            assert!(
                message.starts_with("application a1: the URL of the preview of pull request 7"),
                "{message}"
            );
            assert!(!message.ends_with('.'), "{message}");
        }
        let random = app(Some("https://a.example.com"), Some("{{random}}.{{domain}}"))
            .preview_url(pr(7))
            .unwrap_err()
            .to_string();
        assert!(random.contains("{{random}}"), "{random}");
    }

    #[test]
    fn pull_request_ids_round_trip_and_refuse_zero() {
        let id: PullRequestId = serde_json::from_str("42").unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), "42");
        assert!(serde_json::from_str::<PullRequestId>("0").is_err());
        assert!(PullRequestId::new(0).is_err());
        assert_eq!(" 7 ".parse::<PullRequestId>().unwrap(), pr(7));
    }
}
