//! What Coolify's deployment queue holds, for the message of a deploy it refused as full.

use super::Engine;
use super::outcome::{Cause, CoolifyProblem, Stopped};

impl Engine {
    /// A deploy refused because Coolify's queue is full carries what the queue holds now.
    pub(super) async fn with_queue(&self, mut stopped: Stopped) -> Stopped {
        if let Cause::Coolify {
            problem: CoolifyProblem::QueueFull,
            queue,
            ..
        } = &mut *stopped.cause
        {
            *queue = Some(self.queue_contents().await);
        }
        stopped
    }

    /// What Coolify's deployment queue holds now, in one sentence; the read takes at most
    /// five seconds.
    async fn queue_contents(&self) -> String {
        const SHOWN: usize = 5;
        let read = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            self.coolify.deployments_in_flight(),
        )
        .await;
        match read {
            Ok(Ok(deployments)) if deployments.is_empty() => {
                "Coolify's queue is empty again by now".to_owned()
            }
            Ok(Ok(deployments)) => {
                let mut items: Vec<String> = deployments
                    .iter()
                    .take(SHOWN)
                    .map(|deployment| {
                        let app = deployment.application_name.as_deref().unwrap_or("an app");
                        let commit = deployment
                            .resolved_commit()
                            .map(|commit| format!(" of {}", commit.short()))
                            .unwrap_or_default();
                        format!(
                            "{} ({app}{commit}, {})",
                            deployment.deployment_uuid, deployment.status
                        )
                    })
                    .collect();
                if deployments.len() > SHOWN {
                    items.push(format!("and {} more", deployments.len() - SHOWN));
                }
                format!(
                    "Coolify's queue holds {} deployment(s) now: {}",
                    deployments.len(),
                    items.join(", ")
                )
            }
            _ => "what Coolify's queue holds could not be read".to_owned(),
        }
    }
}
