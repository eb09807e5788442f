//! The sentence that ends a failure: what each environment runs now.

use std::time::Duration;

use coolify_client::CommitSha;
use tag_policy::Releases;

use super::{Engine, millis, seconds};
use crate::config::EnvironmentName;
use crate::repo::short;

/// How long the reads that describe what each environment runs may take at the end of a
/// failure: a Coolify that stopped answering must not hold the error line back for minutes.
const AFTERMATH_BUDGET: Duration = Duration::from_secs(5);

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
}
