//! Permissions, rate limits, faults and secrets.

use std::time::Duration;

use github_fake::{FakeGitHub, Fault, FaultRule, Permission, RecordedRequest};
use release_record::{Error, HistoryQuery, Outcome, Recorder, Settlement};

use crate::{commit, recorder, staging};

/// How many of `requests` are `POST …/statuses`.
fn status_posts(requests: &[RecordedRequest]) -> usize {
    requests
        .iter()
        .filter(|request| request.method == "POST" && request.path.ends_with("/statuses"))
        .count()
}

#[tokio::test(start_paused = true)]
async fn a_token_without_deployments_write_is_told_which_permission_to_add() {
    let github = FakeGitHub::start().await.unwrap();
    github.set_permission(Permission::Read);
    let recorder = recorder(&github);
    let error = recorder.start(&staging(commit(1))).await.unwrap_err();
    assert!(
        matches!(
            error,
            Error::MissingPermission {
                permission: "deployments: write",
                ..
            }
        ),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains("`deployments: write`"), "{message}");
    assert!(
        message.contains("Resource not accessible by integration"),
        "{message}"
    );
    assert_eq!(github.requests().len(), 1, "a refusal is not retried");
    // Reading still works with `deployments: read`.
    recorder
        .history(&HistoryQuery::new(["staging"]))
        .await
        .unwrap();

    github.set_permission(Permission::None);
    let error = recorder
        .history(&HistoryQuery::new(["staging"]))
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::MissingPermission {
                permission: "deployments: read",
                ..
            }
        ),
        "{error:?}"
    );
    let error = recorder
        .outcomes_of_commit("staging", &commit(1))
        .await
        .unwrap_err();
    assert!(error.is_token_problem(), "{error:?}");
}

#[tokio::test(start_paused = true)]
async fn a_rejected_token_says_so() {
    let github = FakeGitHub::start().await.unwrap();
    let recorder = Recorder::builder(
        github.repository().parse().unwrap(),
        "ghs_wrong".to_owned().into(),
    )
    .api_url(github.api_url())
    .build()
    .unwrap();
    let error = recorder.start(&staging(commit(1))).await.unwrap_err();
    assert!(matches!(error, Error::Unauthorized { .. }), "{error:?}");
    assert!(
        error
            .to_string()
            .contains("github rejected the token (Bad credentials)"),
        "{error}"
    );
    let error = recorder
        .history(&HistoryQuery::new(["staging"]))
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(401), "{error:?}");
}

#[tokio::test(start_paused = true)]
async fn a_secondary_rate_limit_is_waited_out_then_the_write_succeeds() {
    let github = FakeGitHub::start().await.unwrap();
    github.fail(
        FaultRule::on_path(
            "/deployments",
            Fault::SecondaryRateLimit {
                retry_after: Some(Duration::from_secs(30)),
            },
        )
        .method("POST")
        .times(1),
    );
    let recorder = recorder(&github);
    let started = tokio::time::Instant::now();
    let run = recorder.start(&staging(commit(1))).await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(30),
        "retry-after honoured: {:?}",
        started.elapsed()
    );
    run.settle(&Settlement::verified("ok")).await.unwrap();
    let creates = github
        .requests()
        .into_iter()
        .filter(|request| request.method == "POST" && request.path.ends_with("/deployments"))
        .count();
    assert_eq!(creates, 2, "the refused create, then the one that worked");
    assert_eq!(github.deployments().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn the_fakes_write_limit_per_minute_is_waited_out() {
    let github = FakeGitHub::start().await.unwrap();
    github.limit_writes_per_minute(Some(3));
    let recorder = recorder(&github);
    let run = recorder.start(&staging(commit(1))).await.unwrap();
    run.deployment_finished(&crate::web()).await.unwrap();
    let before = github.requests().len();
    let statuses_before = github.deployments()[0].statuses.len();
    // The fourth write in the minute is refused with retry-after: 60, then accepted.
    let started = tokio::time::Instant::now();
    run.settle(&Settlement::verified("ok")).await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(60),
        "the fake's one-minute window was waited out: {:?}",
        started.elapsed()
    );
    let settle_posts = status_posts(&github.requests()[before..]);
    assert_eq!(settle_posts, 2, "the refused status, then the accepted one");
    assert_eq!(
        github.deployments()[0].statuses.len(),
        statuses_before + 1,
        "only the accepted status was appended"
    );
    let history = recorder
        .history(&HistoryQuery::new(["staging"]))
        .await
        .unwrap();
    assert_eq!(history.records()[0].outcome(), Outcome::Verified);
}

#[tokio::test(start_paused = true)]
async fn a_spent_primary_budget_is_a_typed_error_with_the_wait() {
    let github = FakeGitHub::start().await.unwrap();
    github.set_rate_limit(1);
    let recorder = recorder(&github);
    recorder
        .history(&HistoryQuery::new(["staging"]))
        .await
        .unwrap();
    let error = recorder
        .history(&HistoryQuery::new(["staging"]))
        .await
        .unwrap_err();
    let Error::RateLimited {
        secondary,
        retry_after,
        ..
    } = &error
    else {
        panic!("{error:?}");
    };
    assert!(!secondary);
    assert!(retry_after.unwrap() > Duration::from_secs(3000), "{error}");
    let error = recorder.start(&staging(commit(1))).await.unwrap_err();
    assert!(
        matches!(
            error,
            Error::RateLimited {
                secondary: false,
                ..
            }
        ),
        "{error:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn creating_a_deployment_is_never_repeated_when_it_may_have_worked() {
    let github = FakeGitHub::start().await.unwrap();
    let recorder = recorder(&github);
    github.fail(
        FaultRule::on_path("/deployments", Fault::CloseAfterHandling)
            .method("POST")
            .times(1),
    );
    let error = recorder.start(&staging(commit(1))).await.unwrap_err();
    assert!(matches!(error, Error::Transport { .. }), "{error:?}");
    assert_eq!(github.deployments().len(), 1, "created once, not twice");

    github.fail(
        FaultRule::on_path("/deployments", Fault::BadGatewayHtml)
            .method("POST")
            .times(1),
    );
    let error = recorder.start(&staging(commit(2))).await.unwrap_err();
    assert!(
        matches!(error, Error::UnexpectedBody { status: 502, .. }),
        "{error:?}"
    );
    assert!(error.is_transient());
}

#[tokio::test(start_paused = true)]
async fn statuses_and_reads_are_retried_after_server_errors() {
    let github = FakeGitHub::start().await.unwrap();
    let recorder = recorder(&github);
    let run = recorder.start(&staging(commit(1))).await.unwrap();
    let before = github.requests().len();
    github.fail(FaultRule::on_path("/statuses", Fault::BadGatewayHtml).times(2));
    run.settle(&Settlement::verified("ok")).await.unwrap();
    assert_eq!(
        status_posts(&github.requests()[before..]),
        3,
        "two injected 502s, then the status that was accepted"
    );
    github.fail(FaultRule::on_path("/graphql", Fault::CloseConnection).times(1));
    github.fail(
        FaultRule::on_path(
            "/graphql",
            Fault::TooManyRequests {
                retry_after: Duration::from_secs(2),
            },
        )
        .times(1),
    );
    let history = recorder
        .history(&HistoryQuery::new(["staging"]))
        .await
        .unwrap();
    assert_eq!(history.records()[0].outcome(), Outcome::Verified);
    assert_eq!(history.requests(), 3);
}

#[tokio::test(start_paused = true)]
async fn the_token_never_appears_in_errors_or_debug_output() {
    let github = FakeGitHub::start().await.unwrap();
    let token = github.token();
    let recorder = recorder(&github);
    assert!(!format!("{recorder:?}").contains(&token));
    github.fail(FaultRule::on_path("/graphql", Fault::EchoingProxyError));
    let error = recorder
        .history(&HistoryQuery::new(["staging"]))
        .await
        .unwrap_err();
    let mut text = format!("{error} {error:?}");
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    assert!(text.contains("[redacted]"), "{text}");
    assert!(!text.contains(&token), "{text}");
    let builder = Recorder::builder(github.repository().parse().unwrap(), token.clone().into());
    assert!(!format!("{builder:?}").contains(&token));
}

#[tokio::test(start_paused = true)]
async fn github_enterprise_server_paths_are_used() {
    let github = FakeGitHub::builder()
        .base_path("/api/v3")
        .start()
        .await
        .unwrap();
    let recorder = recorder(&github);
    assert!(recorder.graphql_url().as_str().ends_with("/api/graphql"));
    let run = recorder.start(&staging(commit(1))).await.unwrap();
    run.settle(&Settlement::verified("ok")).await.unwrap();
    let history = recorder
        .history(&HistoryQuery::new(["staging"]))
        .await
        .unwrap();
    assert_eq!(history.records().len(), 1);
    let paths: Vec<String> = github
        .requests()
        .into_iter()
        .map(|request| request.path)
        .collect();
    assert_eq!(paths[0], "/api/v3/repos/acme/api/deployments");
    assert!(paths[1].starts_with("/api/v3/repos/acme/api/deployments/"));
    assert_eq!(paths.last().unwrap(), "/api/graphql");
}

#[tokio::test(start_paused = true)]
async fn an_unknown_repository_is_not_found() {
    let github = FakeGitHub::start().await.unwrap();
    let recorder = Recorder::builder("acme/other".parse().unwrap(), github.token().into())
        .api_url(github.api_url())
        .build()
        .unwrap();
    let error = recorder
        .history(&HistoryQuery::new(["staging"]))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::NotFound { .. }), "{error:?}");
    assert!(
        error
            .to_string()
            .contains("repository acme/other not found"),
        "{error}"
    );
    let error = recorder.start(&staging(commit(1))).await.unwrap_err();
    assert!(matches!(error, Error::NotFound { .. }), "{error:?}");
}

#[test]
fn bad_configuration_is_refused_before_any_request() {
    let builder = || Recorder::builder("acme/api".parse().unwrap(), "ghs_token".to_owned().into());
    let error = builder()
        .api_url("http://api.github.com")
        .build()
        .unwrap_err();
    assert!(error.to_string().contains("clear text"), "{error}");
    let error = Recorder::builder("acme/api".parse().unwrap(), " ".to_owned().into())
        .build()
        .unwrap_err();
    assert!(
        matches!(error, Error::InvalidConfig { field: "token", .. }),
        "{error:?}"
    );
    assert!("acme".parse::<release_record::Repository>().is_err());
    assert!("acme/../x".parse::<release_record::Repository>().is_err());
}
