//! Pull-request previews: the rows webhooks and docker-tag deploys create, their URLs, their
//! deployments, and their removal.
//!
//! As Coolify 4.3.11 does: a git application's preview row is created only by a pull-request
//! webhook, and only while `is_preview_deployments_enabled`; `POST /deploy` with
//! `pull_request_id` creates one only for a Docker-image application given a `docker_tag`, and
//! otherwise answers `200` with "Pull request N not found for this resource." and no deployment
//! uuid when the row is missing (without looking at `is_preview_deployments_enabled`).

use std::sync::{Arc, Mutex};

use coolify_client::url::Url;
use coolify_client::{ApplicationUuid, DeploymentUuid};

use crate::lifecycle::{NewDeployment, Queueing, queue_deployment, schedule};
use crate::routes::{cancel_one, not_found_route};
use crate::server::{FakeCoolify, generated_deployment_uuid, lock};
use crate::state::{State, StoredPreview};
use crate::version::Version;
use crate::wire::{Reply, message};

/// A preview of an application as the fake holds it: from [`FakeCoolify::previews`].
///
/// `#[non_exhaustive]` with private fields: only the fake makes one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct FakePreview {
    pull_request_id: u64,
    url: Option<String>,
    docker_tag: Option<String>,
    running: Option<String>,
}

impl FakePreview {
    /// The pull request.
    #[must_use]
    pub fn pull_request_id(&self) -> u64 {
        self.pull_request_id
    }

    /// Its URL, generated as Coolify does from the application's first domain and
    /// `preview_url_template`; `None` when the application has no domain.
    #[must_use]
    pub fn url(&self) -> Option<&str> {
        self.url.as_deref()
    }

    /// The image tag of a Docker-image application's preview.
    #[must_use]
    pub fn docker_tag(&self) -> Option<&str> {
        self.docker_tag.as_deref()
    }

    /// What its container runs: the commit a finished preview deployment built (the image tag
    /// for a Docker-image application); `None` before one finished.
    #[must_use]
    pub fn running(&self) -> Option<&str> {
        self.running.as_deref()
    }
}

/// A preview's URL as Coolify's `generate_preview_fqdn` makes it: the host of the application's
/// first domain put into `template` (`{{domain}}`, `{{pr_id}}`, `{{random}}`), with the domain's
/// scheme, port and path kept; `None` without a domain.
pub(crate) fn preview_fqdn(
    fqdn: Option<&str>,
    template: &str,
    pull_request: u64,
    random: &str,
) -> Option<String> {
    let first = fqdn?
        .split(',')
        .map(str::trim)
        .find(|domain| !domain.is_empty())?;
    let url = Url::parse(first).ok()?;
    let host = url.host_str()?;
    let name = template
        .replace("{{random}}", random)
        .replace("{{domain}}", host)
        .replace("{{pr_id}}", &pull_request.to_string());
    let port = url
        .port()
        .map(|port| format!(":{port}"))
        .unwrap_or_default();
    let path = match url.path() {
        "" | "/" => "",
        path => path,
    };
    Some(format!("{}://{name}{port}{path}", url.scheme()))
}

/// Create the preview row if it is missing, and (re)generate its URL.
fn upsert_preview(state: &mut State, app: &str, pull_request: u64, docker_tag: Option<&str>) {
    let (_, random) = state.fresh("");
    let Some(stored) = state.applications.get_mut(app) else {
        return;
    };
    let fqdn = preview_fqdn(
        stored.spec.fqdn.as_deref(),
        &stored.spec.preview_url_template,
        pull_request,
        &random,
    );
    let preview = stored
        .previews
        .entry(pull_request)
        .or_insert_with(|| StoredPreview {
            fqdn: None,
            docker_tag: None,
            running: None,
        });
    preview.fqdn = fqdn;
    if let Some(tag) = docker_tag {
        preview.docker_tag = Some(tag.to_owned());
    }
}

/// `POST /deploy` with `pull_request_id` for one application: the queuing, or the message of
/// an entry without a deployment.
pub(crate) fn deploy_preview(
    shared: &Arc<Mutex<State>>,
    app: &str,
    pull_request: u64,
    docker_tag: Option<&str>,
    force: bool,
) -> Result<Option<Queueing>, String> {
    let docker_tag = {
        let mut state = lock(shared);
        let Some(stored) = state.applications.get(app) else {
            return Ok(None);
        };
        let image_app = stored.spec.is_image_app();
        if docker_tag.is_some() && !image_app {
            return Err("docker_tag can only be used with Docker Image applications.".to_owned());
        }
        if image_app && docker_tag.is_some() {
            upsert_preview(&mut state, app, pull_request, docker_tag);
        }
        let Some(preview) = state
            .applications
            .get(app)
            .and_then(|stored| stored.previews.get(&pull_request))
        else {
            return Err(format!(
                "Pull request {pull_request} not found for this resource."
            ));
        };
        preview.docker_tag.clone()
    };
    let new = NewDeployment {
        force_rebuild: force,
        is_api: true,
        pull_request_id: pull_request,
        docker_tag,
        ..NewDeployment::default()
    };
    Ok(queue_deployment(shared, app, new))
}

/// Remove a preview: its row, its container, its queued and in-progress deployments
/// (cancelled). Returns whether it existed.
fn remove_preview(shared: &Arc<Mutex<State>>, app: &str, pull_request: u64) -> bool {
    let removed = {
        let mut state = lock(shared);
        let existed = state
            .applications
            .get_mut(app)
            .and_then(|stored| stored.previews.remove(&pull_request))
            .is_some();
        if existed {
            let now = state.timestamp();
            for deployment in state.deployments.iter_mut().filter(|deployment| {
                deployment.application == app
                    && deployment.pull_request_id == pull_request
                    && deployment.status.is_in_flight()
            }) {
                cancel_one(deployment, now.clone());
            }
        }
        existed
    };
    if removed {
        schedule(shared);
    }
    removed
}

/// `DELETE /applications/{uuid}/previews/{pull_request_id}` (Coolify 4.0.0-beta.474 and later).
pub(crate) fn delete_preview(shared: &Arc<Mutex<State>>, app: &str, pull_request: &str) -> Reply {
    {
        let state = lock(shared);
        if !state.version_at_least(Version::beta(4, 0, 0, 474)) {
            return not_found_route();
        }
        if !state.applications.contains_key(app) {
            return message(404, "Application not found.");
        }
    }
    let Some(pull_request) = pull_request
        .parse::<u64>()
        .ok()
        .filter(|number| *number > 0)
    else {
        return message(422, "Invalid pull_request_id.");
    };
    if remove_preview(shared, app, pull_request) {
        message(200, "Preview deletion request queued.")
    } else {
        message(404, "Preview not found.")
    }
}

impl FakeCoolify {
    /// Imitate GitHub's `pull_request` webhook for `opened` (or `synchronize`, `reopened`) of
    /// pull request `number` with head commit `head`, to the application whose base branch it
    /// targets: Coolify creates the preview row (with its URL) if missing and queues a
    /// deployment of `head` (`git_type` `github`, so it builds the pull request's head whatever
    /// the application's source).
    ///
    /// Returns that deployment, or `None` when the application has preview deployments off
    /// (nothing happens, as in Coolify), when an identical deployment is already in flight, or
    /// the server's queue is full. The head is remembered either way: a later API-triggered
    /// preview of a GitHub App application builds it.
    pub fn pull_request_opened(
        &self,
        application: &ApplicationUuid,
        number: u64,
        head: &str,
    ) -> Option<DeploymentUuid> {
        {
            let mut state = lock(&self.state);
            let stored = state.applications.get_mut(application.as_str())?;
            stored.pull_request_heads.insert(number, head.to_owned());
            if !stored.spec.previews_enabled || number == 0 {
                return None;
            }
            if !stored.previews.contains_key(&number) {
                upsert_preview(&mut state, application.as_str(), number, None);
            }
        }
        let new = NewDeployment {
            commit: Some(head.to_owned()),
            pull_request_id: number,
            git_type: Some("github".to_owned()),
            ..NewDeployment::default()
        };
        match queue_deployment(&self.state, application.as_str(), new)? {
            Queueing::Queued(uuid) => Some(generated_deployment_uuid(uuid)),
            Queueing::AlreadyQueued | Queueing::QueueFull => None,
        }
    }

    /// Imitate GitHub's `pull_request` webhook for `closed`: Coolify removes the preview (its
    /// row and container) and cancels its queued and in-progress deployments. Returns whether
    /// there was one.
    pub fn pull_request_closed(&self, application: &ApplicationUuid, number: u64) -> bool {
        remove_preview(&self.state, application.as_str(), number)
    }

    /// The application's previews, by pull request.
    #[must_use]
    pub fn previews(&self, application: &ApplicationUuid) -> Vec<FakePreview> {
        lock(&self.state)
            .applications
            .get(application.as_str())
            .map(|stored| {
                stored
                    .previews
                    .iter()
                    .map(|(number, preview)| FakePreview {
                        pull_request_id: *number,
                        url: preview.fqdn.clone(),
                        docker_tag: preview.docker_tag.clone(),
                        running: preview.running.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_takes_the_first_domain_with_its_scheme_port_and_path() {
        let cases = [
            (
                "https://api.example.com,https://www.example.com",
                "{{pr_id}}.{{domain}}",
                "https://7.api.example.com",
            ),
            (
                "http://api.example.test:8080/app/",
                "pr-{{pr_id}}.{{domain}}",
                "http://pr-7.api.example.test:8080/app/",
            ),
            (
                "https://api.example.com/",
                "{{random}}-{{pr_id}}.preview.example.com",
                "https://r4nd0m-7.preview.example.com",
            ),
        ];
        for (fqdn, template, expected) in cases {
            assert_eq!(
                preview_fqdn(Some(fqdn), template, 7, "r4nd0m").as_deref(),
                Some(expected),
                "{fqdn} {template}"
            );
        }
        assert_eq!(preview_fqdn(None, "{{pr_id}}.{{domain}}", 7, "r"), None);
        assert_eq!(
            preview_fqdn(Some(" , "), "{{pr_id}}.{{domain}}", 7, "r"),
            None
        );
    }
}
