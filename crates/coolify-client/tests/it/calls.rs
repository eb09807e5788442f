//! One data-driven description of every endpoint method, shared by the test modules.

use std::time::Duration;

use coolify_client::{
    ApplicationPatch, ApplicationUuid, Client, DeploymentUuid, EnvVarInput, EnvVarUuid, Error,
    ForceRebuild, RetryPolicy,
};
use secrecy::SecretString;
use serde_json::json;
use wiremock::ResponseTemplate;

/// A recognizable token; no output may ever contain it.
pub const TOKEN: &str = "42|tok-SENTINEL-never-print";

pub const APP: &str = "app0000000000000000000001";
pub const DEPLOYMENT: &str = "dpl0000000000000000000001";
pub const ENV: &str = "env0000000000000000000001";

pub fn app() -> ApplicationUuid {
    APP.parse().unwrap()
}

pub fn client_with(base_url: &str, retry: RetryPolicy, timeout: Duration) -> Client {
    Client::builder(base_url, SecretString::from(TOKEN))
        .retry_policy(retry)
        .request_timeout(timeout)
        .build()
        .unwrap()
}

/// A quick retry policy for real-time tests: 2 retries from 10 ms.
pub fn quick_retries() -> RetryPolicy {
    RetryPolicy::default()
        .max_retries(2)
        .min_delay(Duration::from_millis(10))
        .max_delay(Duration::from_millis(20))
        .deadline(Duration::from_secs(30))
}

/// Every endpoint method of the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    Version,
    Deploy,
    Deployment,
    Deployments,
    Cancel,
    Application,
    PatchApplication,
    Start,
    Restart,
    Stop,
    Envs,
    CreateEnv,
    UpdateEnv,
    BulkEnvs,
    DeleteEnv,
    InFlight,
    DeletePreview,
}

pub const ALL: [Call; 17] = [
    Call::Version,
    Call::Deploy,
    Call::Deployment,
    Call::Deployments,
    Call::Cancel,
    Call::Application,
    Call::PatchApplication,
    Call::Start,
    Call::Restart,
    Call::Stop,
    Call::Envs,
    Call::CreateEnv,
    Call::UpdateEnv,
    Call::BulkEnvs,
    Call::DeleteEnv,
    Call::InFlight,
    Call::DeletePreview,
];

fn deployment_json(status: &str) -> serde_json::Value {
    json!({
        "id": 12, "application_id": "3", "deployment_uuid": DEPLOYMENT, "pull_request_id": 0,
        "force_rebuild": false, "commit": "0123456789abcdef0123456789abcdef01234567",
        "commit_message": "feat: x\n\nbody", "status": status, "is_webhook": false, "is_api": true,
        "restart_only": false, "rollback": false, "server_id": 0, "server_name": "localhost",
        "application_name": "web", "deployment_url": "/project/p/environment/e/application/a/deployment/d",
        "destination_id": "0", "finished_at": null,
        "created_at": "2026-08-01T12:00:00.000000Z", "updated_at": "2026-08-01T12:00:05.000000Z"
    })
}

fn env_json() -> serde_json::Value {
    json!({"uuid": ENV, "key": "LOG_LEVEL", "is_preview": false, "is_literal": false,
           "is_multiline": false, "is_shown_once": false, "is_runtime": true, "is_buildtime": true,
           "is_shared": false, "comment": null})
}

impl Call {
    pub fn method(self) -> &'static str {
        match self {
            Self::Version
            | Self::Deployment
            | Self::Deployments
            | Self::Application
            | Self::Envs
            | Self::InFlight => "GET",
            Self::Deploy
            | Self::Cancel
            | Self::Start
            | Self::Restart
            | Self::Stop
            | Self::CreateEnv => "POST",
            Self::PatchApplication | Self::UpdateEnv | Self::BulkEnvs => "PATCH",
            Self::DeleteEnv | Self::DeletePreview => "DELETE",
        }
    }

    pub fn path(self) -> String {
        match self {
            Self::Version => "/api/v1/version".to_owned(),
            Self::Deploy => "/api/v1/deploy".to_owned(),
            Self::Deployment => format!("/api/v1/deployments/{DEPLOYMENT}"),
            Self::Deployments => format!("/api/v1/deployments/applications/{APP}"),
            Self::Cancel => format!("/api/v1/deployments/{DEPLOYMENT}/cancel"),
            Self::Application | Self::PatchApplication => format!("/api/v1/applications/{APP}"),
            Self::Start => format!("/api/v1/applications/{APP}/start"),
            Self::Restart => format!("/api/v1/applications/{APP}/restart"),
            Self::Stop => format!("/api/v1/applications/{APP}/stop"),
            Self::Envs | Self::CreateEnv | Self::UpdateEnv => {
                format!("/api/v1/applications/{APP}/envs")
            }
            Self::BulkEnvs => format!("/api/v1/applications/{APP}/envs/bulk"),
            Self::DeleteEnv => format!("/api/v1/applications/{APP}/envs/{ENV}"),
            Self::InFlight => "/api/v1/deployments".to_owned(),
            Self::DeletePreview => format!("/api/v1/applications/{APP}/previews/7"),
        }
    }

    /// Whether the client may replay this call after a 5xx or a timeout (GETs only).
    pub fn is_idempotent(self) -> bool {
        self.method() == "GET"
    }

    /// The success response Coolify sends, in its real shape.
    pub fn success(self) -> ResponseTemplate {
        let (status, body) = self.success_body();
        let template = ResponseTemplate::new(status);
        match body {
            serde_json::Value::String(text) => template.set_body_string(text),
            json => template.set_body_json(json),
        }
    }

    /// The status and body of [`Call::success`]: JSON, or a JSON string for a plain-text body.
    pub fn success_body(self) -> (u16, serde_json::Value) {
        match self {
            Self::Version => (200, json!("4.3.11")),
            Self::Deploy => (
                200,
                json!({"deployments": [{
                    "deployment_uuid": DEPLOYMENT, "message": "Application web deployment queued.", "resource_uuid": APP
                }]}),
            ),
            Self::Deployment => (200, deployment_json("in_progress")),
            Self::Deployments => (
                200,
                json!({"count": 1, "deployments": [deployment_json("finished")]}),
            ),
            Self::Cancel => (
                200,
                json!({"message": "Deployment cancelled successfully.", "deployment_uuid": DEPLOYMENT, "status": "cancelled-by-user"}),
            ),
            Self::Application => (
                200,
                json!({
                    "uuid": APP, "name": "web", "git_branch": "main", "git_commit_sha": "HEAD",
                    "status": "running:healthy", "settings": {"is_auto_deploy_enabled": false}
                }),
            ),
            Self::PatchApplication => (200, json!({"uuid": APP})),
            Self::Start => (
                200,
                json!({"message": "Deployment request queued.", "deployment_uuid": DEPLOYMENT}),
            ),
            Self::Restart => (
                200,
                json!({"message": "Restart request queued.", "deployment_uuid": DEPLOYMENT}),
            ),
            Self::Stop => (
                200,
                json!({"message": "Application stopping request queued."}),
            ),
            Self::Envs => (200, json!([env_json()])),
            Self::CreateEnv => (201, json!({"uuid": ENV})),
            Self::UpdateEnv => (201, env_json()),
            Self::BulkEnvs => (201, json!([env_json()])),
            Self::DeleteEnv => (200, json!({"message": "Environment variable deleted."})),
            Self::InFlight => (200, json!([deployment_json("in_progress")])),
            Self::DeletePreview => (200, json!({"message": "Preview deletion request queued."})),
        }
    }

    /// Run the call and check the parsed success value.
    pub async fn run(self, client: &Client) -> Result<(), Error> {
        let app = app();
        let deployment: DeploymentUuid = DEPLOYMENT.parse().unwrap();
        let input = EnvVarInput::new("LOG_LEVEL", "INFO");
        match self {
            Self::Version => assert_eq!(client.version().await?, "4.3.11"),
            Self::Deploy => assert_eq!(
                client.deploy(&app, ForceRebuild::No).await?,
                coolify_client::DeployOutcome::Queued(deployment)
            ),
            Self::Deployment => {
                let found = client.deployment(&deployment).await?;
                assert_eq!(found.status, coolify_client::DeploymentStatus::InProgress);
                assert_eq!(found.commit_message.as_deref(), Some("feat: x\n\nbody"));
            }
            Self::Deployments => {
                let page = client.deployments(&app, 0, 10).await?;
                assert_eq!((page.count, page.deployments.len()), (1, 1));
            }
            Self::Cancel => assert_eq!(
                client.cancel_deployment(&deployment).await?,
                coolify_client::CancelOutcome::Cancelled
            ),
            Self::Application => {
                let found = client.application(&app).await?;
                assert_eq!(found.is_auto_deploy_enabled(), Some(false));
                assert_eq!(found.git_branch.as_deref(), Some("main"));
            }
            Self::PatchApplication => {
                client
                    .update_application(&app, &ApplicationPatch::new().git_branch("main"))
                    .await?;
            }
            Self::Start => assert!(matches!(
                client.start_application(&app, ForceRebuild::No).await?,
                coolify_client::DeployOutcome::Queued(_)
            )),
            Self::Restart => assert!(matches!(
                client.restart_application(&app).await?,
                coolify_client::DeployOutcome::Queued(_)
            )),
            Self::Stop => client.stop_application(&app).await?,
            Self::Envs => {
                let envs = client.env_vars(&app).await?;
                assert_eq!(envs[0].value, None, "a hidden value must read as None");
            }
            Self::CreateEnv => assert_eq!(client.create_env_var(&app, &input).await?.as_str(), ENV),
            Self::UpdateEnv => {
                assert_eq!(client.update_env_var(&app, &input).await?.key, "LOG_LEVEL")
            }
            Self::BulkEnvs => assert_eq!(client.upsert_env_vars(&app, &[input]).await?.len(), 1),
            Self::DeleteEnv => {
                client
                    .delete_env_var(&app, &ENV.parse::<EnvVarUuid>().unwrap())
                    .await?
            }
            Self::InFlight => {
                let listed = client.deployments_in_flight().await?;
                assert_eq!(listed[0].deployment_uuid, deployment);
            }
            Self::DeletePreview => assert_eq!(
                client.delete_preview(&app, "7".parse().unwrap()).await?,
                coolify_client::PreviewRemoval::Removed
            ),
        }
        Ok(())
    }
}

/// Assert no error text or debug output carries the token.
pub fn assert_no_token(error: &Error) {
    assert!(
        !error.to_string().contains("SENTINEL"),
        "token in display: {error}"
    );
    assert!(
        !format!("{error:?}").contains("SENTINEL"),
        "token in debug: {error:?}"
    );
}
