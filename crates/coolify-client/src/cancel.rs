//! Cancelling a deployment, with the answers each Coolify version gives mapped to types.

use reqwest::Method;

use crate::client::{Endpoint, Replay, is_catch_all_not_found};
use crate::models::DeploymentStatus;
use crate::{Client, DeploymentUuid, Error};

/// The start of Coolify's `400` for a deployment that already ended.
const CANNOT_CANCEL: &str = "Deployment cannot be cancelled. Current status:";

/// How [`Client::cancel_deployment`] cancelled a deployment.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CancelOutcome {
    /// Coolify cancelled it. From 4.3.7 on, the next queued deployment starts at once; before,
    /// the queue moves on only when another deployment ends.
    Cancelled,
    /// Coolify answered a server error, and reading the deployment again shows it cancelled:
    /// Coolify 4.1.0 to 4.3.6 answer `500` after cancelling (and their queue moves on only when
    /// another deployment ends).
    CancelledDespiteError {
        /// Coolify's message, for example `Failed to cancel deployment: …`.
        message: String,
    },
}

impl Client {
    /// Cancel a queued or in-progress deployment (`POST /deployments/{uuid}/cancel`, Coolify
    /// 4.0.0-beta.436 and later; sent once unless Coolify answers 429).
    ///
    /// A `500` (Coolify 4.1.0 to 4.3.6 answer one after cancelling) is checked by reading the
    /// deployment again: cancelled, it is [`CancelOutcome::CancelledDespiteError`].
    ///
    /// ```no_run
    /// use coolify_client::{CancelOutcome, Client, DeployOutcome, Error, ForceRebuild};
    ///
    /// # async fn run(client: &Client, app: &coolify_client::ApplicationUuid) -> Result<(), Error> {
    /// if let DeployOutcome::Queued(deployment) = client.deploy(app, ForceRebuild::No).await? {
    ///     match client.cancel_deployment(&deployment).await {
    ///         Ok(CancelOutcome::CancelledDespiteError { message }) => {
    ///             println!("cancelled {deployment}, though Coolify answered: {message}");
    ///         }
    ///         Ok(_) => println!("cancelled {deployment}"),
    ///         // It finished, failed or was cancelled before the request arrived.
    ///         Err(Error::NotCancellable { .. }) => println!("{deployment} had already ended"),
    ///         Err(other) => return Err(other),
    ///     }
    /// }
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::NotCancellable`] (with its status) for a deployment that already ended,
    /// [`Error::CancelUnsupported`] for a Coolify without the endpoint,
    /// [`Error::MissingAbility`] when the token lacks `deploy`, [`Error::NotFound`] for an
    /// unknown deployment, the server error when the deployment is not cancelled after it,
    /// and any request error of this crate.
    pub async fn cancel_deployment(
        &self,
        deployment: &DeploymentUuid,
    ) -> Result<CancelOutcome, Error> {
        let endpoint = Endpoint::new(
            Method::POST,
            &["deployments", deployment.as_str(), "cancel"],
        );
        let error = match self
            .call(&endpoint, &[], None, Replay::OnlyWhenRateLimited)
            .await
        {
            Ok(_) => {
                tracing::info!(%deployment, "deployment cancelled");
                return Ok(CancelOutcome::Cancelled);
            }
            Err(error) => error,
        };
        match error {
            Error::Api {
                status: 400,
                ref message,
                ..
            } if message.starts_with(CANNOT_CANCEL) => Err(Error::NotCancellable {
                deployment: deployment.clone(),
                status: DeploymentStatus::from(
                    message
                        .trim_start_matches(CANNOT_CANCEL)
                        .trim()
                        .trim_end_matches('.'),
                ),
            }),
            Error::NotFound {
                endpoint,
                ref message,
                ..
            } if is_catch_all_not_found(message) => Err(Error::CancelUnsupported {
                endpoint,
                deployment: deployment.clone(),
            }),
            error if error.status().is_some_and(|status| status >= 500) => {
                match self.deployment(deployment).await {
                    Ok(current) if current.status == DeploymentStatus::CancelledByUser => {
                        tracing::warn!(%deployment, %error, "coolify answered an error but cancelled the deployment");
                        let message = match &error {
                            Error::Api { message, .. } => message.clone(),
                            other => other.to_string(),
                        };
                        Ok(CancelOutcome::CancelledDespiteError { message })
                    }
                    _ => Err(error),
                }
            }
            error => Err(error),
        }
    }
}
