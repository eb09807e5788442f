//! Pull-request previews: the pull request's own commit, proven live through the preview's
//! URL, reported to the pull request as a GitHub deployment of `pr-N`, and removed on close.

use std::time::Duration;

use coolify_fake::GitSource;
use stagegate::Exit;
use stagegate::preview::{DeployOptions, PreviewAction, RemoveAction, Trigger};
use stagegate_tests::{Env, PreviewApp, World};

/// The pull request of every scenario.
const PR: u64 = 42;

/// The preview's URL, as Coolify makes it from the staging app's domain.
const PREVIEW_URL: &str = "http://42.staging.scenario.test/";

/// The fake GitHub's deployments of `environment`, each as its states, oldest first.
fn states(world: &World, environment: &str) -> Vec<Vec<String>> {
    world
        .github
        .deployments()
        .into_iter()
        .filter(|deployment| deployment.environment == environment)
        .map(|deployment| {
            deployment
                .statuses
                .iter()
                .map(|status| status.state.clone())
                .collect()
        })
        .collect()
}

/// Assert the newest status of the newest GitHub deployment: its state, and the code its
/// description starts with.
fn assert_recorded(world: &World, state: &str, code: &str) {
    let deployments = world.github.deployments();
    let status = deployments.last().unwrap().statuses.last().unwrap();
    assert_eq!(status.state, state, "{status:?}");
    assert!(status.description.starts_with(code), "{status:?}");
}

/// A pull request: a branch `feature` off `main` with one commit; returns (main's head, the
/// pull request's head).
fn open_pull_request(world: &World, message: &str) -> (String, String) {
    let main = world.repo.resolve("main").unwrap();
    world.repo.branch_from("feature", "main").unwrap();
    world.repo.switch("feature").unwrap();
    let head = world.repo.commit("src/app.txt", message).unwrap();
    (main, head)
}

fn git_app(source: GitSource, enabled: bool) -> PreviewApp {
    PreviewApp::Git { source, enabled }
}

#[tokio::test(start_paused = true)]
async fn an_image_apps_preview_runs_the_pull_requests_image_and_is_reported_to_it() {
    let world = World::with_previews(PreviewApp::Image).await.unwrap();
    let (_, head) = open_pull_request(&world, "feat: greet reviewers");
    world.push_image(&head);
    let preview = world.serve_preview(PR).await.unwrap();
    // Under Actions the checkout is the merge commit: the head comes from the event.
    world.repo.switch("main").unwrap();
    let (output, summary) = world
        .run_as_workflow(&serde_json::json!({
            "pull_request": { "number": PR, "head": { "sha": head } }
        }))
        .unwrap();

    let run = world.preview_deploy(PR).await;

    let report = run.value();
    assert_eq!(report.action, PreviewAction::Verified);
    assert_eq!(report.trigger, Some(Trigger::ImageTag));
    assert_eq!(report.commit, head);
    assert_eq!(report.url, PREVIEW_URL);
    assert_eq!(report.health_url, "http://42.staging.scenario.test/healthz");
    assert_eq!(report.image_tag, Some(format!("sha-{head}")));
    assert_eq!(preview.commit(), head);
    // One write: the preview's deploy, with the pull request and the commit's tag.
    let staging = world.app(Env::Staging);
    let writes = run.writes_to(&staging);
    assert_eq!(writes.len(), 1, "{writes:?}");
    let body = writes[0].json().unwrap();
    assert_eq!(body["pull_request_id"], PR);
    assert_eq!(body["docker_tag"], format!("sha-{head}"));
    assert!(run.writes_to(&world.app(Env::Production)).is_empty());
    // Staging itself still runs what it ran: a preview is not staging's deployment.
    assert_eq!(world.health(Env::Staging).commit(), "");
    assert_eq!(world.image_tag(&staging).as_deref(), Some("bootstrap"));

    // The pull request shows a transient deployment of pr-42, verified, with its links.
    let deployments: Vec<_> = world
        .github
        .deployments()
        .into_iter()
        .filter(|deployment| deployment.environment == "pr-42")
        .collect();
    assert_eq!(deployments.len(), 1);
    let deployment = &deployments[0];
    assert!(deployment.transient && !deployment.production);
    assert_eq!(deployment.sha, head);
    let last = deployment.statuses.last().unwrap();
    assert_eq!(last.state, "success");
    assert!(last.description.starts_with("verified"), "{last:?}");
    assert_eq!(last.environment_url.as_deref(), Some(PREVIEW_URL));
    assert_eq!(
        last.log_url.as_deref(),
        Some("https://github.com/acme/api/actions/runs/4711")
    );
    assert_eq!(
        states(&world, "pr-42"),
        [["in_progress", "in_progress", "in_progress", "success"]]
    );
    let outputs = std::fs::read_to_string(output).unwrap();
    assert!(outputs.contains(&format!("url={PREVIEW_URL}")), "{outputs}");
    let summary = std::fs::read_to_string(summary).unwrap();
    assert!(
        summary.contains("### preview of pull request 42"),
        "{summary}"
    );
    assert!(
        summary.contains("| preview | http://42.staging.scenario.test/ |"),
        "{summary}"
    );
    world.assert_token_never_leaked();
}

#[tokio::test(start_paused = true)]
async fn a_git_apps_preview_is_the_webhooks_deployment_followed_and_verified() {
    let world = World::with_previews(git_app(GitSource::GithubApp, true))
        .await
        .unwrap();
    let (_, head) = open_pull_request(&world, "feat: greet reviewers");
    let preview = world.serve_preview(PR).await.unwrap();
    let staging = world.app(Env::Staging);

    // GitHub's webhook reaches Coolify a few seconds after the job started.
    let (run, _) = tokio::join!(world.preview_deploy(PR), async {
        tokio::time::sleep(Duration::from_secs(5)).await;
        world.fake.pull_request_opened(&staging, PR, &head)
    });

    let report = run.value();
    assert_eq!(report.trigger, Some(Trigger::Webhook));
    assert_eq!(preview.commit(), head);
    // stagegate only followed: nothing was written to Coolify.
    assert!(
        run.writes_to(&staging).is_empty(),
        "{:?}",
        run.writes_to(&staging)
    );
    assert!(
        run.stderr.contains("started by Coolify's webhook"),
        "{}",
        run.stderr
    );
    assert_eq!(
        states(&world, "pr-42"),
        [["in_progress", "in_progress", "in_progress", "success"]]
    );
    world.assert_token_never_leaked();
}

#[tokio::test(start_paused = true)]
async fn previews_off_say_so_and_how_to_turn_them_on_before_any_write() {
    let world = World::with_previews(git_app(GitSource::GithubApp, false))
        .await
        .unwrap();
    open_pull_request(&world, "feat: greet reviewers");

    let run = world.preview_deploy(PR).await;

    run.assert_failed(
        Exit::Refused,
        &[
            "preview deploy --pr 42",
            "preview deployments are off for app staging-app in Coolify",
            "add a [preview] table to",
            "`stagegate setup`",
        ],
    );
    assert!(run.writes_to(&world.app(Env::Staging)).is_empty());
    assert!(states(&world, "pr-42").is_empty());
}

#[tokio::test(start_paused = true)]
async fn coolify_without_a_preview_says_what_creates_one() {
    let world = World::with_previews(git_app(GitSource::GithubApp, true))
        .await
        .unwrap();
    open_pull_request(&world, "feat: greet reviewers");
    let started = tokio::time::Instant::now();

    // No webhook ever comes.
    let run = world.preview_deploy(PR).await;

    run.assert_failed(
        Exit::Failed,
        &[
            "Coolify has no preview of pull request 42 for app staging-app",
            "Pull request 42 not found for this resource.",
            "only Coolify's pull-request webhook creates a preview",
            "GitHub App source",
        ],
    );
    // It waited for the webhook's deployment, then asked Coolify once.
    assert!(started.elapsed() >= Duration::from_secs(60));
    assert_eq!(run.deploys_of(&world.app(Env::Staging)).len(), 1);
    assert!(states(&world, "pr-42").is_empty(), "nothing was deployed");
}

#[tokio::test(start_paused = true)]
async fn a_deploy_key_apps_api_preview_of_the_base_branch_is_explained_not_timed_out() {
    let world = World::with_previews(git_app(GitSource::DeployKey, true))
        .await
        .unwrap();
    let staging = world.app(Env::Staging);
    let (main, first) = open_pull_request(&world, "feat: greet reviewers");
    world.fake.set_branch_head(&staging, &main);
    world.serve_preview(PR).await.unwrap();
    // The pull request was opened: its webhook made the preview (of its first commit).
    world
        .fake
        .pull_request_opened(&staging, PR, &first)
        .unwrap();
    tokio::time::sleep(Duration::from_secs(5)).await;
    // A second push whose webhook never reaches Coolify.
    let head = world
        .repo
        .commit("src/app.txt", "fix: greet them politely")
        .unwrap();

    let run = world.preview_deploy(PR).await;

    run.assert_failed(
        Exit::Failed,
        &[
            &format!(
                "built {} (the head of main, the pull request's base branch) instead of the pull request's head {}",
                &main[..7],
                &head[..7]
            ),
            "deploy key or plain git",
            "Let Coolify's webhook deploy previews",
        ],
    );
    let message = run.message();
    assert!(!message.contains("deadline"), "{message}");
    // No probe ran: Coolify's deployment said which commit it built.
    assert!(!run.stderr.contains("probing"), "{}", run.stderr);
    assert_recorded(&world, "failure", "failed_verification");
}

#[tokio::test(start_paused = true)]
async fn remove_takes_the_preview_down_marks_it_inactive_and_is_idempotent() {
    let world = World::with_previews(PreviewApp::Image).await.unwrap();
    let (_, head) = open_pull_request(&world, "feat: greet reviewers");
    world.push_image(&head);
    world.serve_preview(PR).await.unwrap();
    world.preview_deploy(PR).await.value();
    let staging = world.app(Env::Staging);
    assert_eq!(world.fake.previews(&staging).len(), 1);

    let removed = world.preview_remove(PR).await;

    let report = removed.value();
    assert_eq!(report.action, RemoveAction::Removed);
    assert_eq!(report.marked_inactive, 1);
    assert!(world.fake.previews(&staging).is_empty());
    assert_eq!(
        states(&world, "pr-42"),
        [[
            "in_progress",
            "in_progress",
            "in_progress",
            "success",
            "inactive"
        ]]
    );

    let again = world.preview_remove(PR).await;

    let report = again.value();
    assert_eq!(report.action, RemoveAction::NoPreview);
    assert_eq!(report.marked_inactive, 0);
    assert!(
        report.to_string().contains(
            "pull request 42 has no preview in Coolify (app staging-app): nothing to remove there"
        ),
        "{report}"
    );
    assert_eq!(states(&world, "pr-42")[0].len(), 5, "nothing more recorded");
    let listed = world.preview_list().await;
    assert!(listed.value().previews.is_empty(), "{}", listed.value());
}

#[tokio::test(start_paused = true)]
async fn a_second_push_supersedes_the_first_preview() {
    let world = World::with_previews(git_app(GitSource::GithubApp, true))
        .await
        .unwrap();
    let staging = world.app(Env::Staging);
    let (_, first) = open_pull_request(&world, "feat: greet reviewers");
    let preview = world.serve_preview(PR).await.unwrap();
    world
        .fake
        .pull_request_opened(&staging, PR, &first)
        .unwrap();
    world.preview_deploy(PR).await.value();
    assert_eq!(
        states(&world, "pr-42"),
        [["in_progress", "in_progress", "in_progress", "success"]]
    );

    let second = world
        .repo
        .commit("src/app.txt", "fix: greet them politely")
        .unwrap();
    world
        .fake
        .pull_request_opened(&staging, PR, &second)
        .unwrap();
    let run = world.preview_deploy(PR).await;

    let report = run.value();
    assert_eq!(report.commit, second);
    assert_eq!(report.retired, 1);
    assert_eq!(preview.commit(), second);
    // The first run keeps its outcome, and no longer shows as live.
    assert_eq!(
        states(&world, "pr-42"),
        [
            vec![
                "in_progress",
                "in_progress",
                "in_progress",
                "success",
                "inactive"
            ],
            vec!["in_progress", "in_progress", "in_progress", "success"],
        ]
    );
    let first_run = &world.github.deployments()[0];
    assert_eq!(first_run.sha, first);
    let retired = first_run.statuses.last().unwrap();
    assert!(
        retired
            .description
            .contains(&format!("pr-42 now runs {}", &second[..7])),
        "{retired:?}"
    );

    let listed = world.preview_list().await;
    let list = listed.value();
    assert_eq!(list.previews.len(), 1, "{list}");
    let open = &list.previews[0];
    assert_eq!(
        (open.pull_request, open.commit.as_str()),
        (PR, second.as_str())
    );
    assert_eq!(open.url.as_deref(), Some(PREVIEW_URL));
    assert_eq!(open.outcome.as_deref(), Some("verified"));
    assert_eq!(open.deployment_status.as_deref(), Some("finished"));
    assert!(open.recorded);
    assert!(list.to_string().contains("pr-42"), "{list}");
}

#[tokio::test(start_paused = true)]
async fn a_dry_run_reads_and_plans_but_writes_nothing() {
    let world = World::with_previews(PreviewApp::Image).await.unwrap();
    let (_, head) = open_pull_request(&world, "feat: greet reviewers");

    let run = world
        .preview_deploy_with(DeployOptions {
            dry_run: stagegate::DryRun::Yes,
            ..DeployOptions::pull_request(PR)
        })
        .await;

    let report = run.value();
    assert_eq!(report.action, PreviewAction::Planned);
    let text = report.to_string();
    for expected in [
        &format!(
            "dry run: would deploy {} as the preview of pull request 42 at {PREVIEW_URL}",
            &head[..7]
        ),
        "POST /api/v1/deploy",
        &format!("\"docker_tag\": \"sha-{head}\""),
        "probe http://42.staging.scenario.test/healthz",
        "GitHub deployment of pr-42 (transient)",
    ] {
        assert!(text.contains(expected), "{expected:?} in {text}");
    }
    assert!(run.writes_to(&world.app(Env::Staging)).is_empty());
    assert!(world.github.deployments().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_random_url_template_without_the_override_is_refused_naming_the_fix() {
    let world = World::with_previews(PreviewApp::Image).await.unwrap();
    let staging = world.app(Env::Staging);
    world.fake.application(&staging).expect("the staging app");
    let client = world.fake.client_builder().build().unwrap();
    client
        .update_application(
            &staging,
            &coolify_client::ApplicationPatch::new().preview_url_template("{{random}}.{{domain}}"),
        )
        .await
        .unwrap();
    open_pull_request(&world, "feat: greet reviewers");

    let run = world.preview_deploy(PR).await;

    run.assert_failed(
        Exit::BadInput,
        &[
            "`preview.url`",
            "\"{{random}}.{{domain}}\"",
            "add a [preview] table with the URL your previews answer on",
        ],
    );
    assert!(run.writes_to(&staging).is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_preview_that_keeps_answering_another_commit_fails_verification_saying_which() {
    let world = World::with_previews(PreviewApp::Image).await.unwrap();
    let (_, head) = open_pull_request(&world, "feat: greet reviewers");
    world.push_image(&head);
    let preview = world.serve_preview(PR).await.unwrap();
    preview.serve(&"b".repeat(40));
    preview.set_mode(stagegate_tests::HealthMode::StaysOnOld);

    let run = world.preview_deploy(PR).await;

    run.assert_failed(
        Exit::Failed,
        &[
            &format!(
                "the preview of pull request 42 at http://42.staging.scenario.test/healthz reports bbbbbbb instead of {} until the probe's deadline",
                &head[..7]
            ),
            "Now: the preview of pull request 42 (http://42.staging.scenario.test/) answers bbbbbbb",
        ],
    );
    assert_recorded(&world, "failure", "failed_verification");
}

#[tokio::test(start_paused = true)]
async fn an_image_ci_never_pushed_fails_in_coolify_naming_the_tag() {
    let world = World::with_previews(PreviewApp::Image).await.unwrap();
    let (_, head) = open_pull_request(&world, "feat: greet reviewers");
    world.serve_preview(PR).await.unwrap();
    // A token that may read deployment logs: the message quotes Coolify's line.
    world.fake.set_abilities(&[
        coolify_fake::Ability::Read,
        coolify_fake::Ability::ReadSensitive,
        coolify_fake::Ability::Write,
        coolify_fake::Ability::Deploy,
    ]);

    let run = world.preview_deploy(PR).await;

    run.assert_failed(
        Exit::Failed,
        &[
            &format!("Coolify could not start ghcr.io/acme/api:sha-{head} for the preview of pull request 42"),
            "manifest unknown",
            &format!("Push the image of {}", &head[..7]),
        ],
    );
    assert_recorded(&world, "failure", "failed_in_coolify");
}
