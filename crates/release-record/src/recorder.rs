//! [`Recorder`]: writes runs as GitHub deployments and reads them back.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use coolify_client::{ApplicationUuid, CommitSha, DeploymentUuid};
use reqwest::{Method, StatusCode};
use secrecy::SecretString;
use serde::Deserialize;
use url::Url;

use crate::answers::parse;
use crate::client::{Access, Http, RecorderBuilder, Replay, RetryPolicy};
use crate::encoding::{
    Assembled, DESCRIPTION_LIMIT, Event, RawDeployment, RawStatus, assemble, payload, truncate,
};
use crate::model::{App, Environment, EnvironmentKind, Outcome, Settlement, Start};
use crate::read::{History, HistoryQuery};
use crate::{DeploymentId, Error, Record, Repository};

/// The page size of every list: GitHub's maximum.
const PAGE: usize = 100;

/// The fields of one deployment the readers need, with its statuses.
const RECORD_FIELDS: &str = "fragment RecordFields on Deployment { databaseId commitOid createdAt environment payload creator { login } statuses(first: 100) { pageInfo { hasNextPage } nodes { state description createdAt } } }";

/// The history of environments, newest first, 100 deployments with their statuses a request.
const HISTORY_QUERY: &str = "query History($owner: String!, $name: String!, $environments: [String!], $first: Int!, $after: String) { repository(owner: $owner, name: $name) { deployments(environments: $environments, first: $first, after: $after, orderBy: {field: CREATED_AT, direction: DESC}) { pageInfo { hasNextPage endCursor } nodes { ...RecordFields } } } }";

/// Deployments by their node ids, with their statuses.
const NODES_QUERY: &str = "query Deployments($ids: [ID!]!) { nodes(ids: $ids) { ... on Deployment { ...RecordFields } } }";

/// Writes the record of runs to GitHub Deployments and reads it back; cheap to clone,
/// `Send + Sync`.
///
/// See the [crate docs](crate) for an example and the format.
#[derive(Clone, Debug)]
pub struct Recorder {
    pub(crate) http: Arc<Http>,
}

impl Recorder {
    /// Start configuring a recorder for `repository` with a token that may read and write its
    /// deployments (`deployments: write` in a workflow's `permissions:`).
    #[must_use]
    pub fn builder(repository: Repository, token: SecretString) -> RecorderBuilder {
        RecorderBuilder {
            repository,
            token,
            api_url: "https://api.github.com".to_owned(),
            graphql_url: None,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            user_agent: concat!("release-record/", env!("CARGO_PKG_VERSION")).to_owned(),
            retry: RetryPolicy::default(),
            http_client: None,
            redact: None,
        }
    }

    /// The repository it records in.
    #[must_use]
    pub fn repository(&self) -> &Repository {
        &self.http.repository
    }

    /// The REST API root it calls (ends in `/`).
    #[must_use]
    pub fn api_url(&self) -> &Url {
        self.http.api_url()
    }

    /// The GraphQL endpoint it reads from.
    #[must_use]
    pub fn graphql_url(&self) -> &Url {
        self.http.graphql_url()
    }

    /// Record the start of a run: create its deployment (`auto_merge: false`,
    /// `required_contexts: []`, the environment's kind, the payload) and its first status,
    /// `in_progress` with `started`.
    ///
    /// Creating the deployment is never repeated after an answer that leaves unknown whether
    /// it was created (see [`RetryPolicy`]); the status is.
    ///
    /// # Errors
    ///
    /// [`Error::MissingPermission`] when the token lacks `deployments: write`,
    /// [`Error::Api`] with 422 when GitHub does not know the commit (it was not pushed), and any
    /// request error of this crate. When the deployment was created but its first status could
    /// not be written, the deployment stays and reads as [`Outcome::InProgress`].
    pub async fn start(&self, start: &Start) -> Result<RunRecord, Error> {
        let environment = &start.environment;
        let redactor = &self.http.redactor;
        let description = redactor.text(&start.full_description());
        let mut body = serde_json::json!({
            "ref": start.commit.as_str(),
            "task": "deploy",
            "auto_merge": false,
            "required_contexts": [],
            "environment": environment.name(),
            "production_environment": environment.kind() == EnvironmentKind::Production,
            "transient_environment": environment.kind() == EnvironmentKind::Transient,
            "payload": payload(start),
            "description": truncate(&description, DESCRIPTION_LIMIT),
        });
        redactor.value(&mut body);
        let call = self
            .http
            .rest(
                Method::POST,
                &["deployments"],
                Access::Write,
                Replay::WhenNothingHappened,
            )
            .body(body);
        let answer = self.http.send(&call, None).await?;
        if answer.status == StatusCode::ACCEPTED {
            #[derive(Deserialize)]
            struct Message {
                #[serde(default)]
                message: String,
            }
            let message: Message = parse(&call, &answer)?;
            return Err(Error::NotCreated {
                endpoint: call.label,
                message: message.message,
            });
        }
        #[derive(Deserialize)]
        struct Created {
            id: u64,
        }
        let created: Created = parse(&call, &answer)?;
        let run = RunRecord {
            recorder: self.clone(),
            deployment: DeploymentId::new(created.id),
            environment: environment.clone(),
            apps: Arc::new(start.apps.clone()),
            log_url: start.ran_by.run_url().cloned(),
            environment_url: start.shown_url(),
        };
        tracing::info!(deployment = %run.deployment, environment = %environment, commit = %start.commit, "release record started");
        run.post(&Event::Started {
            text: start.full_description(),
        })
        .await?;
        Ok(run)
    }

    /// A run recorded earlier, to append to it (for example from another process of the same
    /// run). `apps` are the apps it was started with.
    #[must_use]
    pub fn resume(
        &self,
        deployment: DeploymentId,
        environment: Environment,
        apps: Vec<App>,
    ) -> RunRecord {
        RunRecord {
            recorder: self.clone(),
            deployment,
            environment,
            apps: Arc::new(apps),
            log_url: None,
            environment_url: None,
        }
    }

    /// Mark a deployment inactive: it no longer runs in its environment (a removed preview).
    /// For a transient environment GitHub shows it as destroyed.
    ///
    /// # Errors
    ///
    /// [`Error::MissingPermission`] without `deployments: write`, [`Error::NotFound`] for an
    /// unknown deployment, and any request error of this crate.
    pub async fn mark_inactive(&self, deployment: DeploymentId, reason: &str) -> Result<(), Error> {
        self.post_status(
            deployment,
            &Event::Inactive {
                text: crate::model::one_line(reason),
            },
            None,
            None,
        )
        .await
    }

    /// Every run of `commit` on `environment`, newest first: what a gate asks. Two requests for
    /// up to 100 runs (the REST list filtered by commit and environment, then one GraphQL query
    /// for their statuses).
    ///
    /// [`crate::newest_settled`] picks the run a gate relies on for an app.
    ///
    /// # Errors
    ///
    /// [`Error::MissingPermission`] without `deployments: read`, [`Error::NotFound`] for a
    /// repository the token cannot see, and any request error of this crate.
    pub async fn outcomes_of_commit(
        &self,
        environment: &str,
        commit: &CommitSha,
    ) -> Result<Vec<Record>, Error> {
        #[derive(Deserialize)]
        struct Listed {
            node_id: String,
        }
        let mut ids = Vec::new();
        for page in 1.. {
            let call = self
                .http
                .rest(Method::GET, &["deployments"], Access::Read, Replay::Safe)
                .query(vec![
                    ("sha", commit.as_str().to_owned()),
                    ("environment", environment.to_owned()),
                    ("per_page", PAGE.to_string()),
                    ("page", page.to_string()),
                ]);
            let answer = self.http.send(&call, None).await?;
            let listed: Vec<Listed> = parse(&call, &answer)?;
            let full = listed.len() == PAGE;
            ids.extend(listed.into_iter().map(|listed| listed.node_id));
            if !full {
                break;
            }
        }
        let counter = AtomicU32::new(0);
        let mut records = Vec::new();
        for chunk in ids.chunks(PAGE) {
            let call = self.http.graphql(
                "deployments of a commit",
                &format!("{NODES_QUERY} {RECORD_FIELDS}"),
                serde_json::json!({ "ids": chunk }),
            );
            let answer = self.http.send(&call, Some(&counter)).await?;
            let data: Graphql<NodesData> = parse(&call, &answer)?;
            let nodes = data.data.map(|data| data.nodes).unwrap_or_default();
            for node in nodes.into_iter().flatten() {
                if let Assembled::Record(record) = assemble(self.raw(node, &counter).await?) {
                    records.push(*record);
                }
            }
        }
        records.sort_by_key(|record| std::cmp::Reverse(record.deployment));
        Ok(records)
    }

    /// The runs of the environments the query names, newest first, since its date: what a
    /// history, a status and a rollback ask. 100 deployments with their statuses a request
    /// (GraphQL): 1,000 deployments take 10 requests.
    ///
    /// A deployment with more than 100 statuses (none this crate writes has) takes one more
    /// REST request per 100 of them.
    ///
    /// # Errors
    ///
    /// [`Error::MissingPermission`] without `deployments: read`, [`Error::NotFound`] for a
    /// repository the token cannot see, and any request error of this crate.
    pub async fn history(&self, query: &HistoryQuery) -> Result<History, Error> {
        let counter = AtomicU32::new(0);
        let repository = &self.http.repository;
        let environments = (!query.environments.is_empty()).then(|| query.environments.clone());
        let mut records = Vec::new();
        let mut skipped = Vec::new();
        let mut after: Option<String> = None;
        let mut read = 0usize;
        let mut complete = true;
        'pages: loop {
            let first = query
                .limit
                .map_or(PAGE, |limit| limit.saturating_sub(read).min(PAGE));
            if first == 0 {
                complete = false;
                break;
            }
            let call = self.http.graphql(
                "deployment history",
                &format!("{HISTORY_QUERY} {RECORD_FIELDS}"),
                serde_json::json!({
                    "owner": repository.owner(),
                    "name": repository.name(),
                    "environments": environments,
                    "first": first,
                    "after": after,
                }),
            );
            let answer = self.http.send(&call, Some(&counter)).await?;
            let data: Graphql<HistoryData> = parse(&call, &answer)?;
            let Some(connection) = data
                .data
                .and_then(|data| data.repository)
                .map(|repository| repository.deployments)
            else {
                return Err(Error::NotFound {
                    endpoint: call.label,
                    resource: format!("repository {repository}"),
                    message: "the answer has no repository".to_owned(),
                });
            };
            for node in connection.nodes.into_iter().flatten() {
                read += 1;
                let created = coolify_client::Timestamp::from_text(node.created_at.clone());
                if let (Some(since), Some(created)) = (query.since, created.system_time())
                    && created < since
                {
                    break 'pages;
                }
                match assemble(self.raw(node, &counter).await?) {
                    Assembled::Record(record) => records.push(*record),
                    Assembled::Skipped(skip) => skipped.push(skip),
                }
            }
            match connection.page_info {
                PageInfo {
                    has_next_page: true,
                    end_cursor: Some(cursor),
                } => after = Some(cursor),
                _ => break,
            }
        }
        Ok(History {
            records,
            skipped,
            complete,
            requests: counter.load(Ordering::Relaxed),
        })
    }

    /// A GraphQL node as a raw deployment, reading the rest of its statuses over REST when it
    /// has more than one page of them.
    async fn raw(&self, node: Node, counter: &AtomicU32) -> Result<RawDeployment, Error> {
        let id = DeploymentId::new(node.database_id.unwrap_or_default());
        let mut statuses: Vec<RawStatus> = Vec::new();
        let more = node
            .statuses
            .as_ref()
            .is_some_and(|connection| connection.page_info.has_next_page);
        if more {
            statuses = self.all_statuses(id, counter).await?;
        } else if let Some(connection) = node.statuses {
            statuses = connection
                .nodes
                .into_iter()
                .flatten()
                .map(|status| RawStatus {
                    state: status.state,
                    description: status.description.unwrap_or_default(),
                    created_at: status.created_at,
                })
                .collect();
        }
        Ok(RawDeployment {
            id,
            environment: node.environment.unwrap_or_default(),
            commit: node.commit_oid.unwrap_or_default(),
            created_at: node.created_at,
            payload: node
                .payload
                .map_or(serde_json::Value::Null, serde_json::Value::String),
            creator: node.creator.map(|creator| creator.login),
            statuses,
        })
    }

    /// Every status of a deployment over REST, 100 a request.
    async fn all_statuses(
        &self,
        deployment: DeploymentId,
        counter: &AtomicU32,
    ) -> Result<Vec<RawStatus>, Error> {
        #[derive(Deserialize)]
        struct Listed {
            state: String,
            #[serde(default)]
            description: Option<String>,
            created_at: String,
        }
        let id = deployment.to_string();
        let mut statuses = Vec::new();
        for page in 1.. {
            let call = self
                .http
                .rest(
                    Method::GET,
                    &["deployments", &id, "statuses"],
                    Access::Read,
                    Replay::Safe,
                )
                .query(vec![
                    ("per_page", PAGE.to_string()),
                    ("page", page.to_string()),
                ]);
            let answer = self.http.send(&call, Some(counter)).await?;
            let listed: Vec<Listed> = parse(&call, &answer)?;
            let full = listed.len() == PAGE;
            statuses.extend(listed.into_iter().map(|status| RawStatus {
                state: status.state,
                description: status.description.unwrap_or_default(),
                created_at: status.created_at,
            }));
            if !full {
                break;
            }
        }
        Ok(statuses)
    }

    async fn post_status(
        &self,
        deployment: DeploymentId,
        event: &Event,
        log_url: Option<&Url>,
        environment_url: Option<&Url>,
    ) -> Result<(), Error> {
        let mut body = serde_json::json!({
            "state": event.state(),
            "description": event.description(&self.http.redactor)?,
        });
        if let Some(fields) = body.as_object_mut() {
            if let Some(url) = log_url {
                fields.insert("log_url".to_owned(), url.as_str().into());
            }
            if let Some(url) = environment_url {
                fields.insert("environment_url".to_owned(), url.as_str().into());
            }
        }
        self.http.redactor.value(&mut body);
        let id = deployment.to_string();
        let call = self
            .http
            .rest(
                Method::POST,
                &["deployments", &id, "statuses"],
                Access::Write,
                Replay::Safe,
            )
            .body(body);
        self.http.send(&call, None).await?;
        Ok(())
    }
}

/// A run being recorded: appends what it learns to its deployment. Cheap to clone, `Send +
/// Sync`; from [`Recorder::start`] or [`Recorder::resume`].
#[derive(Clone, Debug)]
pub struct RunRecord {
    recorder: Recorder,
    deployment: DeploymentId,
    environment: Environment,
    apps: Arc<Vec<App>>,
    log_url: Option<Url>,
    environment_url: Option<Url>,
}

impl RunRecord {
    /// The GitHub deployment that holds the record.
    #[must_use]
    pub fn deployment(&self) -> DeploymentId {
        self.deployment
    }

    /// The environment.
    #[must_use]
    pub fn environment(&self) -> &Environment {
        &self.environment
    }

    fn app(&self, uuid: &ApplicationUuid) -> Result<&App, Error> {
        self.apps
            .iter()
            .find(|app| app.uuid() == uuid)
            .ok_or_else(|| Error::InvalidInput {
                what: "application",
                value: uuid.to_string(),
                reason: "the run was not started with this application".to_owned(),
            })
    }

    /// Record that Coolify started deploying `app` as `deployment`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for an app the run was not started with, and any request error.
    pub async fn deployment_started(
        &self,
        app: &ApplicationUuid,
        deployment: &DeploymentUuid,
    ) -> Result<(), Error> {
        let label = self.app(app)?.label().to_owned();
        self.post(&Event::Deploying {
            app: app.clone(),
            deployment: deployment.clone(),
            text: format!("{label}: coolify deployment {deployment} started"),
        })
        .await
    }

    /// Record that Coolify finished deploying `app` (the probe starts).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for an app the run was not started with, and any request error.
    pub async fn deployment_finished(&self, app: &ApplicationUuid) -> Result<(), Error> {
        let label = self.app(app)?.label().to_owned();
        self.post(&Event::Deployed {
            app: app.clone(),
            text: format!("{label}: coolify finished, probing"),
        })
        .await
    }

    /// Record how the run ended. A rollback after a failure is a second settlement of the same
    /// run ([`Settlement::rolled_back`]): both are kept, the newest is the outcome.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for an app the run was not started with, and any request error.
    pub async fn settle(&self, settlement: &Settlement) -> Result<(), Error> {
        if let Some(app) = &settlement.app {
            self.app(app)?;
        }
        if settlement.outcome == Outcome::InProgress {
            return Err(Error::InvalidInput {
                what: "settlement",
                value: Outcome::InProgress.to_string(),
                reason: "a run settles with a final outcome".to_owned(),
            });
        }
        tracing::info!(deployment = %self.deployment, outcome = %settlement.outcome, "release record settled");
        self.post(&Event::Settled(settlement.clone())).await
    }

    /// Mark the run's deployment inactive (see [`Recorder::mark_inactive`]).
    ///
    /// # Errors
    ///
    /// Any request error of this crate.
    pub async fn mark_inactive(&self, reason: &str) -> Result<(), Error> {
        self.post(&Event::Inactive {
            text: crate::model::one_line(reason),
        })
        .await
    }

    async fn post(&self, event: &Event) -> Result<(), Error> {
        self.recorder
            .post_status(
                self.deployment,
                event,
                self.log_url.as_ref(),
                self.environment_url.as_ref(),
            )
            .await
    }
}

#[derive(Deserialize)]
struct Graphql<T> {
    data: Option<T>,
}

#[derive(Deserialize)]
struct HistoryData {
    repository: Option<RepositoryData>,
}

#[derive(Deserialize)]
struct RepositoryData {
    deployments: Connection,
}

#[derive(Deserialize)]
struct NodesData {
    #[serde(default)]
    nodes: Vec<Option<Node>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Connection {
    page_info: PageInfo,
    #[serde(default)]
    nodes: Vec<Option<Node>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PageInfo {
    has_next_page: bool,
    #[serde(default)]
    end_cursor: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Node {
    #[serde(default)]
    database_id: Option<u64>,
    #[serde(default)]
    commit_oid: Option<String>,
    created_at: String,
    #[serde(default)]
    environment: Option<String>,
    #[serde(default)]
    payload: Option<String>,
    #[serde(default)]
    creator: Option<Login>,
    #[serde(default)]
    statuses: Option<StatusConnection>,
}

#[derive(Deserialize)]
struct Login {
    login: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StatusConnection {
    page_info: StatusPageInfo,
    #[serde(default)]
    nodes: Vec<Option<StatusNode>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StatusPageInfo {
    has_next_page: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StatusNode {
    state: String,
    #[serde(default)]
    description: Option<String>,
    created_at: String,
}

/// The futures a caller may `tokio::spawn` are `Send`: checked when this crate compiles.
const _: () = {
    fn send<T: Send>(_: T) {}
    #[allow(dead_code, clippy::too_many_arguments)]
    fn futures_are_send(
        recorder: &Recorder,
        run: &RunRecord,
        start: &Start,
        query: &HistoryQuery,
        commit: &CommitSha,
        app: &ApplicationUuid,
        deployment: &DeploymentUuid,
        settlement: &Settlement,
    ) {
        send(recorder.start(start));
        send(recorder.history(query));
        send(recorder.outcomes_of_commit("staging", commit));
        send(recorder.mark_inactive(DeploymentId::new(1), "removed"));
        send(run.deployment_started(app, deployment));
        send(run.deployment_finished(app));
        send(run.settle(settlement));
        send(run.mark_inactive("removed"));
    }
};
