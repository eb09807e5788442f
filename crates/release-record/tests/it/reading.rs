//! Reading the record: the gate's question, the history, GitHub's `auto_inactive`, paging.

use std::time::Duration;

use github_fake::FakeGitHub;
use release_record::{
    Gate, GateKind, HistoryQuery, Outcome, Record, Settlement, SkipReason, Verdict, newest_settled,
    verdict,
};
use serde_json::json;

use crate::{commit, production, recorder, staging, web, worker};

#[tokio::test(start_paused = true)]
async fn verified_then_superseded_by_auto_inactive_still_reads_verified() {
    let github = FakeGitHub::start().await.unwrap();
    let recorder = recorder(&github);
    let first = recorder.start(&staging(commit(1))).await.unwrap();
    first
        .settle(&Settlement::verified("web answers 1"))
        .await
        .unwrap();
    tokio::time::advance(Duration::from_secs(600)).await;
    let second = recorder.start(&staging(commit(2))).await.unwrap();
    second
        .settle(&Settlement::verified("web answers 2"))
        .await
        .unwrap();

    // GitHub retired the first deployment when the second succeeded.
    let deployments = github.deployments();
    assert_eq!(deployments[0].state(), "inactive");
    assert_eq!(deployments[1].state(), "success");

    let runs = recorder
        .outcomes_of_commit("staging", &commit(1))
        .await
        .unwrap();
    let relied_on = newest_settled(&runs, &web()).unwrap();
    assert_eq!(relied_on.outcome(), Outcome::Verified);
    assert_eq!(
        relied_on.inactive_at().unwrap().as_str(),
        "2026-08-01T12:10:00.000000Z"
    );
    assert_eq!(
        relied_on.settled_at().unwrap().as_str(),
        "2026-08-01T12:00:00.000000Z"
    );
    assert!(newest_settled(&runs, &worker()).is_some());
}

#[tokio::test(start_paused = true)]
async fn a_later_failure_of_the_same_commit_wins_over_an_earlier_verification() {
    let github = FakeGitHub::start().await.unwrap();
    let recorder = recorder(&github);
    let verified = recorder.start(&staging(commit(1))).await.unwrap();
    verified
        .settle(&Settlement::verified("web answers"))
        .await
        .unwrap();
    tokio::time::advance(Duration::from_secs(60)).await;
    let failed = recorder.start(&staging(commit(1))).await.unwrap();
    failed
        .settle(&Settlement::failed_verification("health 503 after the switch-over").app(web()))
        .await
        .unwrap();
    tokio::time::advance(Duration::from_secs(60)).await;
    let running = recorder.start(&staging(commit(1))).await.unwrap();

    github.clear_requests();
    let runs = recorder
        .outcomes_of_commit("staging", &commit(1))
        .await
        .unwrap();
    assert_eq!(github.requests().len(), 2, "one list, one graphql query");
    assert_eq!(runs.len(), 3);
    assert_eq!(runs[0].deployment(), running.deployment());
    assert_eq!(runs[0].outcome(), Outcome::InProgress);
    let relied_on = newest_settled(&runs, &web()).unwrap();
    assert_eq!(relied_on.deployment(), failed.deployment());
    assert_eq!(relied_on.outcome(), Outcome::FailedVerification);
    assert_eq!(
        relied_on.probe().unwrap().evidence(),
        "health 503 after the switch-over"
    );
    assert!(
        recorder
            .outcomes_of_commit("staging", &commit(9))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        recorder
            .outcomes_of_commit("production", &commit(1))
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(start_paused = true)]
async fn the_history_of_1000_runs_takes_10_requests() {
    let github = FakeGitHub::start().await.unwrap();
    let recorder = recorder(&github);
    for seed in 0..1000u32 {
        let environment = if seed % 4 == 0 {
            "production"
        } else {
            "staging"
        };
        let start = if environment == "production" {
            crate::production(commit(seed), &format!("v1.{seed}.0"))
        } else {
            staging(commit(seed))
        };
        let run = recorder.start(&start).await.unwrap();
        let settlement = if seed % 10 == 7 {
            Settlement::failed_verification("health 503")
        } else {
            Settlement::verified("answers")
        };
        run.settle(&settlement).await.unwrap();
        if seed == 499 {
            tokio::time::advance(Duration::from_secs(3600)).await;
        }
    }
    github.clear_requests();
    let history = recorder
        .history(&HistoryQuery::new(["staging", "production"]))
        .await
        .unwrap();
    assert_eq!(history.records().len(), 1000);
    assert!(history.complete());
    assert_eq!(history.requests(), 10);
    assert_eq!(github.requests().len(), 10);
    assert!(github.requests().iter().all(|request| request.graphql));
    assert!(
        history
            .records()
            .windows(2)
            .all(|pair| pair[0].deployment() > pair[1].deployment())
    );
    let failed = history
        .records()
        .iter()
        .filter(|record| record.outcome() == Outcome::FailedVerification)
        .count();
    assert_eq!(failed, 100);

    // Since the second half: reading stops at the first older run.
    github.clear_requests();
    let since = github.now() - Duration::from_secs(60);
    let recent = recorder
        .history(&HistoryQuery::new(["staging", "production"]).since(since))
        .await
        .unwrap();
    assert_eq!(recent.records().len(), 500);
    assert_eq!(github.requests().len(), 6);

    let production = recorder
        .history(&HistoryQuery::new(["production"]))
        .await
        .unwrap();
    assert_eq!(production.records().len(), 250);
    assert_eq!(production.requests(), 3);
    let limited = recorder
        .history(&HistoryQuery::new(["staging"]).limit(150))
        .await
        .unwrap();
    assert_eq!(limited.records().len(), 150);
    assert!(!limited.complete());
}

#[tokio::test(start_paused = true)]
async fn deployments_not_written_in_this_format_are_skipped_and_named() {
    let github = FakeGitHub::start().await.unwrap();
    let recorder = recorder(&github);
    let repository = github.repository();
    let sha = commit(1).to_string();
    github.insert_deployment(&repository, "staging", &sha, json!({}), &[("success", "")]);
    github.insert_deployment(
        &repository,
        "staging",
        &sha,
        json!({"format": "stagegate-release-record", "version": 2}),
        &[],
    );
    github.insert_deployment(
        &repository,
        "staging",
        &sha,
        json!({"format": "stagegate-release-record", "version": 1, "commit": "HEAD"}),
        &[],
    );
    let run = recorder.start(&staging(commit(1))).await.unwrap();
    run.settle(&Settlement::verified("ok")).await.unwrap();

    let history = recorder
        .history(&HistoryQuery::new(["staging"]))
        .await
        .unwrap();
    assert_eq!(history.records().len(), 1);
    let reasons: Vec<&SkipReason> = history
        .skipped()
        .iter()
        .map(|skipped| skipped.reason())
        .collect();
    assert!(
        matches!(reasons[0], SkipReason::Malformed { .. }),
        "{reasons:?}"
    );
    assert_eq!(reasons[1], &SkipReason::NewerFormat { version: 2 });
    assert_eq!(reasons[2], &SkipReason::NotARecord);
    assert_eq!(history.skipped()[2].creator(), Some("stagegate-bot"));
}

#[tokio::test(start_paused = true)]
async fn a_run_with_more_statuses_than_a_page_is_read_whole() {
    let github = FakeGitHub::start().await.unwrap();
    let recorder = recorder(&github);
    let run = recorder.start(&staging(commit(1))).await.unwrap();
    for _ in 0..105 {
        run.deployment_finished(&worker()).await.unwrap();
    }
    tokio::time::advance(Duration::from_secs(1)).await;
    run.settle(&Settlement::verified("finally")).await.unwrap();
    github.clear_requests();
    let history = recorder
        .history(&HistoryQuery::new(["staging"]))
        .await
        .unwrap();
    assert_eq!(history.records()[0].outcome(), Outcome::Verified);
    assert_eq!(
        history.requests(),
        3,
        "one query, then two pages of statuses"
    );
}

#[tokio::test(start_paused = true)]
async fn the_gate_a_run_relied_on_reads_back_and_an_unknown_kind_reads_as_none() {
    let github = FakeGitHub::start().await.unwrap();
    let recorder = recorder(&github);
    let skipped = production(commit(1), "v1.2.0").gate(Gate::skipped(
        "--skip-staging-gate:\n  no proof that staging ran it",
    ));
    let run = recorder.start(&skipped).await.unwrap();
    run.settle(&Settlement::verified("ok")).await.unwrap();
    assert_eq!(
        github.deployments()[0].payload["gate"],
        json!({"kind": "skipped", "detail": "--skip-staging-gate: no proof that staging ran it"})
    );
    // A newer writer's kind of gate: the run still counts, without a gate.
    let mut payload = github.deployments()[0].payload.clone();
    payload["gate"] = json!({"kind": "signed_attestation", "detail": "…"});
    github.insert_deployment(
        &github.repository(),
        "production",
        commit(2).as_str(),
        payload,
        &[("success", "verified: ok")],
    );

    let history = recorder
        .history(&HistoryQuery::new(["production"]))
        .await
        .unwrap();
    assert!(history.skipped().is_empty(), "{:?}", history.skipped());
    let gates: Vec<Option<GateKind>> = history
        .records()
        .iter()
        .map(|record| record.gate().map(Gate::kind))
        .collect();
    assert_eq!(gates, [None, Some(GateKind::Skipped)]);
    let record = &history.records()[1];
    assert_eq!(
        record.gate().unwrap().detail(),
        "--skip-staging-gate: no proof that staging ran it"
    );
    assert_eq!(
        serde_json::to_value(record).unwrap()["gate"]["kind"],
        "skipped"
    );
}

/// What a gate must read: a failure stands whatever came after it without a verdict; a run
/// started after a verification that has none makes the record unable to tell; a failure wins
/// a tie within GitHub's whole second.
#[tokio::test(start_paused = true)]
async fn a_verdict_weighs_the_runs_that_never_settled_and_failures_win_ties() {
    let github = FakeGitHub::start().await.unwrap();
    let recorder = recorder(&github);
    let runs_of = |seed| {
        let recorder = recorder.clone();
        async move {
            recorder
                .outcomes_of_commit("staging", &commit(seed))
                .await
                .unwrap()
        }
    };

    // Failed, then an interrupted run of the same commit: still failed.
    let failed = recorder.start(&staging(commit(1))).await.unwrap();
    failed
        .settle(&Settlement::failed_verification("health 503"))
        .await
        .unwrap();
    tokio::time::advance(Duration::from_secs(60)).await;
    let interrupted = recorder.start(&staging(commit(1))).await.unwrap();
    interrupted
        .settle(&Settlement::cancelled("interrupted"))
        .await
        .unwrap();
    let runs = runs_of(1).await;
    assert!(
        matches!(verdict(&runs, &web()), Verdict::Failed(run) if run.deployment() == failed.deployment()),
        "{:?}",
        verdict(&runs, &web())
    );

    // Verified, then a run whose verdict was never written: the record cannot tell.
    let verified = recorder.start(&staging(commit(2))).await.unwrap();
    verified.settle(&Settlement::verified("ok")).await.unwrap();
    let runs = runs_of(2).await;
    assert!(matches!(verdict(&runs, &web()), Verdict::Verified(_)));
    tokio::time::advance(Duration::from_secs(60)).await;
    let unsettled = recorder.start(&staging(commit(2))).await.unwrap();
    let runs = runs_of(2).await;
    assert!(
        matches!(verdict(&runs, &web()), Verdict::Unknown { newest: Some(run) } if run.deployment() == unsettled.deployment()),
        "{:?}",
        verdict(&runs, &web())
    );

    // Two runs settle within the same second, the failure written first: it wins.
    let first = recorder.start(&staging(commit(3))).await.unwrap();
    let second = recorder.start(&staging(commit(3))).await.unwrap();
    first
        .settle(&Settlement::failed_verification("health 503"))
        .await
        .unwrap();
    second.settle(&Settlement::verified("ok")).await.unwrap();
    let runs = runs_of(3).await;
    assert!(
        matches!(verdict(&runs, &web()), Verdict::Failed(run) if run.deployment() == first.deployment()),
        "{:?}",
        verdict(&runs, &web())
    );
    assert_eq!(
        newest_settled(&runs, &web()).map(Record::deployment),
        Some(first.deployment())
    );

    // No run at all.
    assert!(matches!(
        verdict(&runs_of(4).await, &web()),
        Verdict::Unknown { newest: None }
    ));
}
