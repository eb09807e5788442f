//! Writing a run: the deployment GitHub gets, its statuses, and two runs at once.

use github_fake::FakeGitHub;
use release_record::{
    App, Environment, Gate, HistoryQuery, Outcome, Purpose, RanBy, Recorder, ReleaseRef,
    Settlement, Start,
};
use serde_json::json;

use crate::{commit, production, recorder, staging, web, worker};

#[tokio::test(start_paused = true)]
async fn a_run_creates_one_deployment_github_will_accept_and_appends_its_facts() {
    let github = FakeGitHub::start().await.unwrap();
    let recorder = recorder(&github);
    let start = production(commit(1), "v1.2.0");
    let run = recorder.start(&start).await.unwrap();
    tokio::time::advance(std::time::Duration::from_secs(5)).await;
    run.deployment_started(&web(), &"k0w4o8c8s4ggkkw08cwc8s4g".parse().unwrap())
        .await
        .unwrap();
    tokio::time::advance(std::time::Duration::from_secs(60)).await;
    run.deployment_finished(&web()).await.unwrap();
    tokio::time::advance(std::time::Duration::from_secs(20)).await;
    run.settle(&Settlement::verified("web answers 01010101").app(web()))
        .await
        .unwrap();

    let deployments = github.deployments();
    assert_eq!(deployments.len(), 1);
    let deployment = &deployments[0];
    assert_eq!(deployment.sha, commit(1).as_str());
    assert_eq!(deployment.environment, "production");
    assert!(deployment.production);
    assert!(!deployment.transient);
    assert_eq!(deployment.task, "deploy");
    assert_eq!(
        deployment.description,
        "v1.2.0 (0000000) to production by ann on laptop"
    );
    assert_eq!(deployment.payload["format"], "stagegate-release-record");
    assert_eq!(deployment.payload["version"], 1);
    assert_eq!(deployment.payload["tag"], "v1.2.0");
    assert_eq!(
        deployment.payload["ran_by"],
        json!({"kind": "local", "user": "ann", "host": "laptop"})
    );
    let states: Vec<&str> = deployment
        .statuses
        .iter()
        .map(|status| status.state.as_str())
        .collect();
    assert_eq!(
        states,
        ["in_progress", "in_progress", "in_progress", "success"]
    );
    assert!(
        deployment
            .statuses
            .iter()
            .all(|status| status.environment_url.as_deref() == Some("https://example.com/healthz"))
    );
    assert_eq!(
        deployment.statuses[3].description,
        "verified app=vgsco4o4wc8w0ok8gwgk8w0o: web answers 01010101"
    );
    let create = &github.requests()[0];
    let body = create.json().unwrap();
    assert_eq!(body["auto_merge"], false);
    assert_eq!(body["required_contexts"], json!([]));
    for request in github.requests() {
        assert_eq!(
            request.accept.as_deref(),
            Some("application/vnd.github+json")
        );
        assert_eq!(request.api_version.as_deref(), Some("2022-11-28"));
    }

    let history = recorder
        .history(&HistoryQuery::new(["production"]))
        .await
        .unwrap();
    let record = &history.records()[0];
    assert_eq!(record.outcome(), Outcome::Verified);
    assert_eq!(record.tag(), Some("v1.2.0"));
    assert_eq!(record.started_at().as_str(), "2026-08-01T12:00:00.000000Z");
    assert_eq!(
        record.apps()[0].deployment_started_at().unwrap().as_str(),
        "2026-08-01T12:00:05.000000Z"
    );
    assert_eq!(
        record.deployed_at().unwrap().as_str(),
        "2026-08-01T12:01:05.000000Z"
    );
    assert_eq!(
        record.settled_at().unwrap().as_str(),
        "2026-08-01T12:01:25.000000Z"
    );
    assert_eq!(
        record.apps()[0].coolify_deployment().unwrap().as_str(),
        "k0w4o8c8s4ggkkw08cwc8s4g"
    );
    let probe = record.probe().unwrap();
    assert_eq!(probe.url().unwrap().as_str(), "https://example.com/healthz");
    assert_eq!(probe.evidence(), "web answers 01010101");
    assert_eq!(record.ran_by(), &RanBy::local("ann", "laptop"));
    assert_eq!(record.creator(), Some("stagegate-bot"));
    assert_eq!(record.inactive_at(), None);
    let json = serde_json::to_value(record).unwrap();
    assert_eq!(json["outcome"], "verified");
    assert_eq!(
        json["environment"],
        json!({"name": "production", "kind": "production"})
    );
}

#[tokio::test(start_paused = true)]
async fn a_failure_then_its_rollback_reads_as_rolled_back_with_both_kept() {
    let github = FakeGitHub::start().await.unwrap();
    let recorder = recorder(&github);
    let run = recorder
        .start(&production(commit(2), "v1.2.0"))
        .await
        .unwrap();
    run.settle(&Settlement::failed_verification("health 503 after the switch-over").app(web()))
        .await
        .unwrap();
    tokio::time::advance(std::time::Duration::from_secs(30)).await;
    let previous = ReleaseRef::tagged(commit(1), "v1.1.0").unwrap();
    run.settle(&Settlement::rolled_back(
        previous.clone(),
        "production runs v1.1.0 again",
    ))
    .await
    .unwrap();
    let restore = production(commit(1), "v1.1.0").purpose(Purpose::Restore {
        after: ReleaseRef::tagged(commit(2), "v1.2.0").unwrap(),
    });
    let restored = recorder.start(&restore).await.unwrap();
    restored
        .settle(&Settlement::verified("web answers v1.1.0"))
        .await
        .unwrap();

    let history = recorder
        .history(&HistoryQuery::new(["production"]))
        .await
        .unwrap();
    let [newest, failed] = history.records() else {
        panic!("two records: {history:#?}");
    };
    assert_eq!(
        newest.purpose(),
        &Purpose::Restore {
            after: ReleaseRef::tagged(commit(2), "v1.2.0").unwrap()
        }
    );
    assert_eq!(newest.outcome(), Outcome::Verified);
    assert_eq!(failed.outcome(), Outcome::RolledBack);
    assert!(failed.outcome().is_failure());
    assert_eq!(failed.rolled_back_to(), Some(&previous));
    let outcomes: Vec<Outcome> = failed
        .outcomes()
        .iter()
        .map(|entry| entry.outcome())
        .collect();
    assert_eq!(outcomes, [Outcome::FailedVerification, Outcome::RolledBack]);
    assert_eq!(
        failed.settled_at().unwrap().as_str(),
        "2026-08-01T12:00:00.000000Z"
    );
    assert_eq!(
        failed.outcomes()[1].at().as_str(),
        "2026-08-01T12:00:30.000000Z"
    );
    assert_eq!(
        failed.probe().unwrap().evidence(),
        "production runs v1.1.0 again"
    );
    assert_eq!(github.deployments()[0].state(), "failure");
}

#[tokio::test(start_paused = true)]
async fn two_recorders_writing_at_once_leave_both_records_intact() {
    let github = FakeGitHub::start().await.unwrap();
    let first = recorder(&github);
    let second = recorder(&github);
    let run_of = |recorder: release_record::Recorder, commit| async move {
        let run = recorder.start(&staging(commit)).await.unwrap();
        for app in [web(), worker()] {
            run.deployment_started(&app, &"k0w4o8c8s4ggkkw08cwc8s4g".parse().unwrap())
                .await
                .unwrap();
            tokio::task::yield_now().await;
            run.deployment_finished(&app).await.unwrap();
        }
        run.settle(&Settlement::verified("both answer"))
            .await
            .unwrap();
    };
    tokio::join!(run_of(first.clone(), commit(3)), run_of(second, commit(4)));

    let history = first
        .history(&HistoryQuery::new(["staging"]))
        .await
        .unwrap();
    assert_eq!(history.records().len(), 2);
    for record in history.records() {
        assert_eq!(record.outcome(), Outcome::Verified, "{record:#?}");
        assert!(record.deployed_at().is_some(), "{record:#?}");
        assert!(
            record
                .apps()
                .iter()
                .all(|app| app.coolify_deployment().is_some())
        );
    }
    let mut commits: Vec<String> = history
        .records()
        .iter()
        .map(|record| record.commit().to_string())
        .collect();
    commits.sort();
    assert_eq!(commits, [commit(3).to_string(), commit(4).to_string()]);
    for deployment in github.deployments() {
        let ours = deployment
            .statuses
            .iter()
            .filter(|status| !status.description.is_empty())
            .count();
        assert_eq!(ours, 6, "{deployment:#?}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_preview_is_transient_and_removing_it_marks_it_inactive() {
    let github = FakeGitHub::start().await.unwrap();
    let recorder = recorder(&github);
    let start = Start::new(
        Environment::transient("pr-17").unwrap(),
        commit(5),
        RanBy::github_actions(|name| {
            Some(
                match name {
                    "GITHUB_ACTIONS" => "true",
                    "GITHUB_ACTOR" => "octocat",
                    "GITHUB_SERVER_URL" => "https://github.com",
                    "GITHUB_REPOSITORY" => "acme/api",
                    "GITHUB_RUN_ID" => "4711",
                    _ => return None,
                }
                .to_owned(),
            )
        })
        .unwrap(),
    )
    .app(
        App::new(web(), "web")
            .health_url("https://17.staging.example.com/healthz".parse().unwrap()),
    )
    .environment_url("https://17.staging.example.com".parse().unwrap());
    let run = recorder.start(&start).await.unwrap();
    run.settle(&Settlement::verified("pr-17 answers"))
        .await
        .unwrap();
    let history = recorder
        .history(&HistoryQuery::new(["pr-17"]))
        .await
        .unwrap();
    recorder
        .mark_inactive(history.records()[0].deployment(), "pull request closed")
        .await
        .unwrap();

    let deployment = &github.deployments()[0];
    assert!(deployment.transient);
    assert!(!deployment.production);
    assert_eq!(deployment.state(), "inactive");
    assert_eq!(
        deployment.description,
        format!("{} to pr-17 by octocat", commit(5).short())
    );
    let verified = &deployment.statuses[1];
    assert_eq!(
        verified.environment_url.as_deref(),
        Some("https://17.staging.example.com/")
    );
    assert_eq!(
        verified.log_url.as_deref(),
        Some("https://github.com/acme/api/actions/runs/4711")
    );
    let record = recorder
        .history(&HistoryQuery::new(["pr-17"]))
        .await
        .unwrap()
        .into_records()
        .remove(0);
    assert_eq!(record.outcome(), Outcome::Verified);
    assert!(record.inactive_at().is_some());
    assert_eq!(
        record.ran_by().run_url().unwrap().as_str(),
        "https://github.com/acme/api/actions/runs/4711"
    );
}

#[tokio::test(start_paused = true)]
// An in-progress settlement cannot be built through the public API (`Settlement` has no such
// constructor), so only unknown apps are checked here.
async fn unknown_apps_are_refused_before_any_request() {
    let github = FakeGitHub::start().await.unwrap();
    let recorder = recorder(&github);
    let run = recorder.start(&staging(commit(6))).await.unwrap();
    let before = github.requests().len();
    let statuses_before = github.deployments()[0].statuses.len();
    let stranger: release_record::coolify_client::ApplicationUuid = "str4ng3r".parse().unwrap();

    let error = run.deployment_finished(&stranger).await.unwrap_err();
    assert!(error.to_string().contains("str4ng3r"), "{error}");
    assert_eq!(github.requests().len(), before, "deployment_finished");

    let error = run
        .settle(&Settlement::verified("x").app(stranger.clone()))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("str4ng3r"), "{error}");
    assert_eq!(github.requests().len(), before, "settle");

    let deployment_uuid = "k0w4o8c8s4ggkkw08cwc8s4g".parse().unwrap();
    let error = run
        .deployment_started(&stranger, &deployment_uuid)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("str4ng3r"), "{error}");
    assert_eq!(github.requests().len(), before, "deployment_started");
    assert_eq!(
        github.deployments()[0].statuses.len(),
        statuses_before,
        "nothing was appended"
    );
}

#[tokio::test(start_paused = true)]
async fn what_the_caller_redacts_and_the_token_are_never_sent() {
    let github = FakeGitHub::start().await.unwrap();
    let token = github.token();
    let recorder = Recorder::builder(github.repository().parse().unwrap(), token.clone().into())
        .api_url(github.api_url())
        .redact(|text| text.replace("s3cret", "[redacted]"))
        .build()
        .unwrap();
    let start = Start::new(
        Environment::persistent("staging").unwrap(),
        commit(1),
        RanBy::local("ann s3cret", "laptop"),
    )
    .app(App::new(web(), "web s3cret"))
    .gate(Gate::live(&format!("checked live with s3cret and {token}")));
    let run = recorder.start(&start).await.unwrap();
    run.settle(&Settlement::failed_verification(&format!(
        "health 503: echoed s3cret and {token}"
    )))
    .await
    .unwrap();

    let sent: String = github
        .requests()
        .iter()
        .filter_map(|request| request.json())
        .map(|body| body.to_string())
        .collect();
    assert!(sent.contains("web [redacted]"), "{sent}");
    assert!(sent.contains("echoed [redacted] and [redacted]"), "{sent}");
    assert!(!sent.contains("s3cret") && !sent.contains(&token), "{sent}");
}
