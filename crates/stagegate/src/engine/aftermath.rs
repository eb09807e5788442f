//! The sentence that ends a failure: what each environment runs now.

use std::time::Duration;

use coolify_client::CommitSha;
use tag_policy::Releases;

use super::{Engine, first_few, millis, seconds};
use crate::config::EnvironmentName;
use crate::repo::short;

/// How long the reads that describe what each environment runs may take at the end of a
/// failure: a Coolify that stopped answering must not hold the error line back for minutes.
const AFTERMATH_BUDGET: Duration = Duration::from_secs(5);

/// Up to how many apps an environment is described app by app (two reads each); one with more
/// is described by its apps' pins, from two reads whatever their number.
const DESCRIBED_ONE_BY_ONE: usize = 4;

/// How many apps of a group a description names before it counts the rest.
const NAMED: usize = 3;

impl Engine {
    /// A sentence on what each environment runs now, for the end of a failure message; it
    /// never fails (an unreadable environment is said to be unknown) and takes at most
    /// [`AFTERMATH_BUDGET`].
    pub(crate) async fn aftermath(&self, releases: &Releases) -> String {
        self.aftermath_with(releases, None).await
    }

    /// [`Engine::aftermath`], adding what an environment's health endpoint reported when
    /// that differs from what Coolify deployed.
    pub(crate) async fn aftermath_with(
        &self,
        releases: &Releases,
        health: Option<(EnvironmentName, String)>,
    ) -> String {
        let until = tokio::time::Instant::now() + AFTERMATH_BUDGET;
        let mut parts = Vec::new();
        for environment in EnvironmentName::ALL {
            let section = self.config.environment(environment);
            let reported = health
                .as_ref()
                .filter(|(name, _)| *name == environment)
                .map(|(_, reported)| reported);
            if section.apps.len() > DESCRIBED_ONE_BY_ONE {
                parts.push(self.pins_of(environment, releases, until).await);
                continue;
            }
            let mut texts = Vec::new();
            for app in &section.apps {
                let pinned =
                    match tokio::time::timeout_at(until, self.coolify.application(&app.uuid)).await
                    {
                        Ok(Ok(application)) => application.pinned_commit().map(str::to_owned),
                        _ => None,
                    };
                let live =
                    tokio::time::timeout_at(until, self.app_live(environment, app, releases)).await;
                let (runs, unknown) = match live {
                    Err(_) => (
                        format!(
                            "unknown (Coolify did not answer within {})",
                            seconds(millis(AFTERMATH_BUDGET))
                        ),
                        true,
                    ),
                    Ok(Err(_)) => ("unknown (Coolify unreachable)".to_owned(), true),
                    Ok(Ok(live)) => {
                        let mut text = live.describe();
                        if let Some(pinned) = pinned
                            && live.commit.as_ref().map(CommitSha::as_str) != Some(pinned.as_str())
                        {
                            text.push_str(&format!(" (app pinned to {})", short(&pinned)));
                        }
                        if let Some(in_flight) = live.in_flight {
                            text.push_str(&format!(
                                ", deployment {} still {}",
                                in_flight.deployment, in_flight.status
                            ));
                        }
                        (text, false)
                    }
                };
                texts.push((app, runs, unknown));
            }
            let text = match texts.as_slice() {
                [(_, runs, true)] => format!("{environment}: {runs}"),
                [(_, runs, false)] => match reported {
                    Some(reported) => format!(
                        "{environment}'s latest finished Coolify deployment is {runs}, but its health endpoint still reports {reported}"
                    ),
                    None => format!("{environment} runs {runs}"),
                },
                several => {
                    let mut text = format!(
                        "{environment}: {}",
                        several
                            .iter()
                            .map(|(app, runs, unknown)| if *unknown {
                                format!("{} {runs}", app.label)
                            } else {
                                format!("{} runs {runs}", app.label)
                            })
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                    if let Some(reported) = reported {
                        text.push_str(&format!(" (a health endpoint still reports {reported})"));
                    }
                    text
                }
            };
            parts.push(text);
        }
        parts.join("; ")
    }

    /// An environment of many apps in a few words, from one read of every application and one
    /// of the deployments in flight: how many apps are pinned to each release (the apps of
    /// every group but the largest named), and the deployments still in flight; `status`
    /// lists each app.
    async fn pins_of(
        &self,
        environment: EnvironmentName,
        releases: &Releases,
        until: tokio::time::Instant,
    ) -> String {
        let section = self.config.environment(environment);
        let count = section.apps.len();
        let status = self.invocation.command("status");
        let applications = match tokio::time::timeout_at(until, self.coolify.applications()).await {
            Ok(Ok(applications)) => applications,
            _ => {
                return format!(
                    "{environment} ({count} apps): unknown (Coolify did not answer); `{status}` lists each app"
                );
            }
        };
        let mut groups: Vec<(String, Vec<&str>)> = Vec::new();
        let mut names = Vec::new();
        for app in &section.apps {
            let application = applications
                .iter()
                .find(|application| application.uuid == app.uuid);
            if let Some(application) = application {
                names.push((application.name.clone(), app.label.as_str()));
            }
            let pinned = match (application, &app.image) {
                (None, _) => "unknown (not found in Coolify)".to_owned(),
                (Some(application), Some(_)) => {
                    let tag = application
                        .docker_registry_image_tag
                        .clone()
                        .unwrap_or_else(|| "latest".to_owned());
                    match self.commit_of_image_tag(app, &tag, releases) {
                        Some(commit) => format!("set to {}", describe(&commit, releases)),
                        None => format!("set to image tag {tag}"),
                    }
                }
                (Some(application), None) => match application
                    .pinned_commit()
                    .and_then(|pin| pin.parse::<CommitSha>().ok())
                {
                    Some(commit) => format!("pinned to {}", describe(&commit, releases)),
                    None => "not pinned".to_owned(),
                },
            };
            match groups.iter_mut().find(|(text, _)| *text == pinned) {
                Some((_, labels)) => labels.push(app.label.as_str()),
                None => groups.push((pinned, vec![app.label.as_str()])),
            }
        }
        groups.sort_by_key(|(_, labels)| std::cmp::Reverse(labels.len()));
        let mut text = format!(
            "{environment} ({count} apps): {}",
            groups
                .iter()
                .enumerate()
                .map(|(position, (pinned, labels))| {
                    if position == 0 {
                        format!("{} {pinned}", labels.len())
                    } else {
                        format!("{} {pinned} ({})", labels.len(), first_few(labels, NAMED))
                    }
                })
                .collect::<Vec<_>>()
                .join(", ")
        );
        if let Ok(Ok(in_flight)) =
            tokio::time::timeout_at(until, self.coolify.deployments_in_flight()).await
        {
            let ours: Vec<String> = in_flight
                .iter()
                .filter(|deployment| !deployment.is_preview())
                .filter_map(|deployment| {
                    let name = deployment.application_name.as_deref()?;
                    let label = names
                        .iter()
                        .find(|(application, _)| application.as_deref() == Some(name))
                        .map(|(_, label)| *label)?;
                    Some(format!(
                        "{label} ({}, {})",
                        deployment.deployment_uuid, deployment.status
                    ))
                })
                .collect();
            if !ours.is_empty() {
                let labels: Vec<&str> = ours.iter().map(String::as_str).collect();
                text.push_str(&format!(
                    ", {} deployment{} still in flight: {}",
                    ours.len(),
                    if ours.len() == 1 { "" } else { "s" },
                    first_few(&labels, NAMED)
                ));
            }
        }
        text.push_str(&format!("; `{status}` lists what each app runs"));
        text
    }
}

/// `v1.2.0 (abc1234)`, or the short commit of a commit no release tags.
fn describe(commit: &CommitSha, releases: &Releases) -> String {
    let tag = crate::repo::oid(commit).and_then(|oid| {
        releases
            .at_commit(oid)
            .last()
            .map(|r| r.tag().name().to_owned())
    });
    match tag {
        Some(tag) => format!("{tag} ({})", commit.short()),
        None => commit.short().to_owned(),
    }
}
