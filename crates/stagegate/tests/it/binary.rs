//! Through the built `stagegate` binary: exit codes, `--format json` and `--help` as a user or
//! CI sees them. The fake and the health servers run in this process on a multi-thread
//! runtime; the child gets only `COOLIFY_URL`, `COOLIFY_TOKEN` and what a process needs.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use stagegate_tests::{TOKEN, TOKEN_NEEDLE, World};

/// The binary in `directory` with `arguments` and a clean environment.
fn command(world: Option<&World>, directory: &Path, arguments: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_stagegate"));
    command
        .args(arguments)
        .current_dir(directory)
        .env_clear()
        .stdin(Stdio::null());
    for name in ["PATH", "HOME", "SYSTEMROOT"] {
        if let Some(value) = std::env::var_os(name) {
            command.env(name, value);
        }
    }
    if let Some(world) = world {
        command
            .env("COOLIFY_URL", world.fake.base_url())
            .env("COOLIFY_TOKEN", TOKEN)
            .env("GITHUB_REPOSITORY", world.github.repository())
            .env("GITHUB_API_URL", world.github.api_url())
            .env("GITHUB_TOKEN", world.github.token());
    }
    command
}

/// Run the binary in `directory` with `arguments` and a clean environment.
async fn stagegate(world: Option<&World>, directory: &Path, arguments: &[&str]) -> Output {
    run(world, command(world, directory, arguments)).await
}

async fn run(world: Option<&World>, mut command: Command) -> Output {
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .unwrap();
    if let Some(world) = world {
        world.record(&String::from_utf8_lossy(&output.stdout));
        world.record(&String::from_utf8_lossy(&output.stderr));
    }
    output
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn help_lists_the_commands() {
    let directory = tempfile::tempdir().unwrap();

    let output = stagegate(None, directory.path(), &["--help"]).await;

    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let help = text(&output.stdout);
    for command in [
        "deploy", "rollback", "release", "status", "notes", "--format",
    ] {
        assert!(help.contains(command), "--help lacks {command}:\n{help}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_tag_exits_2_without_contacting_coolify() {
    let world = World::new().await.unwrap();
    world
        .repo
        .commit("src/app.txt", "feat: greet users")
        .unwrap();

    let output = stagegate(
        Some(&world),
        world.root(),
        &["deploy", "production", "--tag", "v1.2"],
    )
    .await;

    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    let stderr = text(&output.stderr);
    let error = stderr
        .lines()
        .find(|line| line.contains("error:"))
        .expect(&stderr);
    assert!(error.contains("v1.2"), "{error}");
    assert_eq!(stderr.matches("error:").count(), 1, "{stderr}");
    assert!(
        world.fake.requests().is_empty(),
        "{:?}",
        world.fake.requests()
    );
    world.assert_token_never_leaked();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_config_key_exits_2_naming_it_and_its_line() {
    let world = World::new().await.unwrap();
    let config = world
        .config()
        .replace("[deploy]\n", "[deploy]\ntimout = \"5m\"\n");
    let line = config
        .lines()
        .position(|l| l.starts_with("timout"))
        .unwrap()
        + 1;
    let path = world.root().join("broken.toml");
    std::fs::write(&path, config).unwrap();

    let output = stagegate(
        Some(&world),
        world.root(),
        &["--config", path.to_str().unwrap(), "deploy", "staging"],
    )
    .await;

    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("timout"), "{stderr}");
    assert!(stderr.contains(&format!("line {line}")), "{stderr}");
    assert!(world.fake.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn format_json_prints_one_document_on_stdout() {
    let world = World::new().await.unwrap();
    let commit = world
        .repo
        .commit("src/app.txt", "feat: greet users")
        .unwrap();

    let output = stagegate(
        Some(&world),
        world.root(),
        &["--format", "json", "deploy", "staging"],
    )
    .await;

    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    let document: serde_json::Value = serde_json::from_str(&stdout).expect(&stdout);
    assert_eq!(document["commit"], commit.as_str());
    assert_eq!(document["environment"], "staging");
    assert_eq!(document["action"], "deployed");
    assert!(!text(&output.stderr).is_empty(), "logs go to stderr");
    assert_eq!(world.staging_health.commit(), commit);
    assert!(!stdout.contains(TOKEN_NEEDLE));
    world.assert_token_never_leaked();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn format_json_failures_are_one_document_with_the_exit_code() {
    let world = World::new().await.unwrap();
    world
        .repo
        .commit("src/app.txt", "feat: greet users")
        .unwrap();
    world.repo.tag_lightweight("v1.0.0", "HEAD").unwrap();

    let output = stagegate(
        Some(&world),
        world.root(),
        &[
            "--format",
            "json",
            "deploy",
            "production",
            "--tag",
            "v1.0.0",
        ],
    )
    .await;

    assert_eq!(output.status.code(), Some(3), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    let document: serde_json::Value = serde_json::from_str(&stdout).expect(&stdout);
    assert_eq!(document["exit_code"], 3);
    assert!(
        document["error"].as_str().unwrap().contains("staging gate"),
        "{document}"
    );
    world.assert_token_never_leaked();
}

/// Start the binary, wait for a stderr line containing `ready`, send `signal` with `kill`,
/// and return its exit code and everything it wrote to stderr.
#[cfg(unix)]
async fn interrupt_when(
    world: &World,
    arguments: &[&str],
    ready: &'static str,
    signal: &'static str,
) -> (Option<i32>, String) {
    use std::io::{BufRead as _, BufReader};

    let mut command = command(Some(world), world.root(), arguments);
    command.stdout(Stdio::null()).stderr(Stdio::piped());
    let (code, stderr) = tokio::task::spawn_blocking(move || {
        let mut child = command.spawn().unwrap();
        let pid = child.id().to_string();
        let reader = BufReader::new(child.stderr.take().unwrap());
        let mut stderr = String::new();
        let mut sent = false;
        for line in reader.lines() {
            let line = line.unwrap();
            stderr.push_str(&line);
            stderr.push('\n');
            if !sent && line.contains(ready) {
                let status = Command::new("kill")
                    .args([&format!("-{signal}"), &pid])
                    .status()
                    .unwrap();
                assert!(status.success());
                sent = true;
            }
        }
        assert!(sent, "never saw {ready:?}:\n{stderr}");
        (child.wait().unwrap().code(), stderr)
    })
    .await
    .unwrap();
    world.record(&stderr);
    (code, stderr)
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_while_following_names_the_deployment_and_what_each_environment_runs() {
    let world = World::new().await.unwrap();
    let commit = world
        .repo
        .commit("src/app.txt", "feat: greet users")
        .unwrap();
    let staging = world.app(stagegate_tests::Env::Staging);
    world
        .fake
        .next_deployment_takes(&staging, std::time::Duration::from_secs(3600));

    let (code, stderr) =
        interrupt_when(&world, &["deploy", "staging"], "in_progress", "TERM").await;

    assert_eq!(code, Some(1), "{stderr}");
    let deployment = world.fake.deployments_of(&staging)[0]
        .deployment_uuid
        .to_string();
    let error = stderr
        .lines()
        .find(|line| line.contains("error:"))
        .expect(&stderr);
    for expected in [
        "interrupted by SIGTERM",
        &format!("pin staging (app staging-app) to {}", &commit[..7]),
        &format!("it started staging deployment {deployment}"),
        "staging runs no finished deployment",
        &format!("deployment {deployment} still in_progress"),
        "stagegate status",
        &format!("stagegate deploy staging --commit {commit}"),
    ] {
        assert!(error.contains(expected), "{expected:?} in: {error}");
    }
    // The release record's run says it was cancelled, instead of staying in progress.
    let recorded = world.github.deployments();
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    let last = recorded[0].statuses.last().expect("a status");
    assert_eq!(last.state, "error", "{recorded:?}");
    assert!(
        last.description
            .starts_with("cancelled: interrupted by SIGTERM"),
        "{recorded:?}"
    );
    world.assert_token_never_leaked();
}

/// A staging run interrupted before its verification is recorded as cancelled, which is not
/// "verified": the gate then checks staging live, and while the interrupted deployment is still
/// in flight, neither a finished deployment of the commit in Coolify's list nor a health
/// endpoint that already reports it lets the commit through, by `release` or by a tag made by
/// hand.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_staging_run_is_not_verified_and_its_commit_stays_out_of_production() {
    let world = World::new().await.unwrap();
    let commit = world
        .repo
        .commit("src/app.txt", "feat: greet users")
        .unwrap();
    let staging = world.app(stagegate_tests::Env::Staging);
    let production = world.app(stagegate_tests::Env::Production);
    world
        .fake
        .next_deployment_takes(&staging, std::time::Duration::from_secs(3600));
    let (code, stderr) = interrupt_when(&world, &["deploy", "staging"], "in_progress", "INT").await;
    assert_eq!(code, Some(1), "{stderr}");

    // Coolify's list has a finished deployment of the commit, and staging's health endpoint
    // reports it, while the interrupted deployment still runs.
    world.fake.seed_deployment(
        &staging,
        &commit,
        coolify_client::DeploymentStatus::Finished,
    );
    let health = world.health(stagegate_tests::Env::Staging);
    health.serve(&commit);
    assert_eq!(
        health.commit(),
        commit,
        "staging's health endpoint reports the commit"
    );
    let asked_production = world.fake.requests_for(&production).len();

    // A release of it is refused ...
    let output = stagegate(Some(&world), world.root(), &["release", "1.0.0"]).await;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    for expected in [
        "the record's newest run of it on staging's app staging-app was cancelled at",
        "the live check fails",
        "is in_progress",
    ] {
        assert!(stderr.contains(expected), "{expected:?} in: {stderr}");
    }
    assert!(world.repo.tags().is_empty(), "no tag was made");

    // ... and so is the tag a user makes by hand, whether pushed or deployed from a laptop.
    world.repo.tag_lightweight("v1.0.0", "HEAD").unwrap();
    let output = stagegate(
        Some(&world),
        world.root(),
        &["deploy", "production", "--tag", "v1.0.0", "--auto-rollback"],
    )
    .await;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    for expected in [
        &format!("v1.0.0 ({}) is not verified on staging", &commit[..7]),
        "the record's newest run of it on staging's app staging-app was cancelled at",
        "the live check fails",
        "is in_progress",
        &format!("stagegate deploy staging --commit {commit}"),
    ] {
        assert!(stderr.contains(expected), "{expected:?} in: {stderr}");
    }
    assert!(
        world.fake.requests_for(&production)[asked_production..]
            .iter()
            .all(|request| request.method() == "GET"),
        "nothing was written to production"
    );
    world.assert_token_never_leaked();
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_while_waiting_for_a_colleagues_deployment_says_nothing_was_changed() {
    let world = World::new().await.unwrap();
    world.ship("feat: greet users", "1.0.0").await.unwrap();
    world
        .repo
        .commit("src/app.txt", "feat: say goodbye")
        .unwrap();
    world.deploy_staging().await.value();
    world.release_version("1.1.0").await.value();
    let production = world.app(stagegate_tests::Env::Production);
    world
        .fake
        .next_deployment_takes(&production, std::time::Duration::from_secs(3600));
    world.fake.trigger_deployment(&production, None).unwrap();
    let writes_before = world
        .fake
        .requests_for(&production)
        .iter()
        .filter(|request| request.method() != "GET")
        .count();

    let (code, stderr) = interrupt_when(
        &world,
        &["deploy", "production", "--tag", "v1.1.0"],
        "waiting for it before deploying",
        "HUP",
    )
    .await;

    assert_eq!(code, Some(1), "{stderr}");
    let error = stderr
        .lines()
        .find(|line| line.contains("error:"))
        .expect(&stderr);
    for expected in [
        "interrupted by SIGHUP before this command changed anything",
        "nothing was written to Coolify",
        "stagegate deploy production --tag v1.1.0",
    ] {
        assert!(error.contains(expected), "{expected:?} in: {error}");
    }
    assert!(!error.contains("may still be running"), "{error}");
    let writes_after = world
        .fake
        .requests_for(&production)
        .iter()
        .filter(|request| request.method() != "GET")
        .count();
    assert_eq!(writes_before, writes_after);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn format_json_under_github_actions_keeps_stdout_one_document() {
    let world = World::new().await.unwrap();
    world
        .repo
        .commit("src/app.txt", "feat: greet users")
        .unwrap();
    world.repo.tag_lightweight("v1.0.0", "HEAD").unwrap();
    world
        .fake
        .fail_next_deployment(&world.app(stagegate_tests::Env::Production));
    let mut command = command(
        Some(&world),
        world.root(),
        &[
            "--format",
            "json",
            "deploy",
            "production",
            "--tag",
            "v1.0.0",
            "--skip-staging-gate",
        ],
    );
    command.env("GITHUB_ACTIONS", "true");

    let output = run(Some(&world), command).await;

    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    let document: serde_json::Value = serde_json::from_str(&stdout).expect(&stdout);
    assert_eq!(document["exit_code"], 1);
    let stderr = text(&output.stderr);
    assert!(stderr.contains("::error::"), "{stderr}");
    assert!(stderr.contains("::warning::"), "{stderr}");
    assert!(!stdout.contains("::"), "{stdout}");
    world.assert_token_never_leaked();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_usage_error_with_format_json_is_the_error_document() {
    let directory = tempfile::tempdir().unwrap();

    let output = stagegate(
        None,
        directory.path(),
        &["--format", "json", "deploy", "production"],
    )
    .await;

    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    let document: serde_json::Value = serde_json::from_str(&stdout).expect(&stdout);
    assert_eq!(document["exit_code"], 2);
    assert!(
        document["error"].as_str().unwrap().starts_with(
            "the following required arguments were not provided: --tag <TAG>; usage: "
        ),
        "{document}"
    );
    assert!(text(&output.stderr).contains("error:"));
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_while_the_deploy_request_is_in_flight_says_a_deployment_may_be_queued() {
    use coolify_fake::{Fault, FaultRule};

    let world = World::new().await.unwrap();
    let commit = world
        .repo
        .commit("src/app.txt", "feat: greet users")
        .unwrap();
    let staging = world.app(stagegate_tests::Env::Staging);
    // Coolify takes its time to answer the deploy request (the ability check is not delayed).
    world.fake.inject(
        FaultRule::on_path(
            "/api/v1/deploy",
            Fault::Delay(std::time::Duration::from_secs(30)),
        )
        .method("POST")
        .application(&staging),
    );

    let (code, stderr) =
        interrupt_when(&world, &["deploy", "staging"], "and deploying", "INT").await;

    assert_eq!(code, Some(1), "{stderr}");
    let error = stderr
        .lines()
        .find(|line| line.contains("error:"))
        .expect(&stderr);
    for expected in [
        "interrupted by Ctrl-C",
        &format!("pin staging (app staging-app) to {}", &commit[..7]),
        "while its request to deploy staging (app staging-app) was in flight: Coolify may have queued that deployment",
        "See whether it did with `stagegate status`",
        &format!("run `stagegate deploy staging --commit {commit}` again to join it"),
    ] {
        assert!(error.contains(expected), "{expected:?} in: {error}");
    }
    assert!(
        !error.contains("before a deployment was started"),
        "{error}"
    );
    world.assert_token_never_leaked();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_as_json_without_a_file_prints_the_report() {
    let world = World::new().await.unwrap();

    let output = stagegate(
        Some(&world),
        world.root(),
        &["--format", "json", "backup", "staging"],
    )
    .await;

    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    let document: serde_json::Value = serde_json::from_str(&stdout).expect(&stdout);
    assert!(document["path"].is_null(), "{document}");
    assert_eq!(document["backup"]["environment"], "staging", "{document}");
    assert_eq!(document["backups"].as_array().map(Vec::len), Some(1));
    world.assert_token_never_leaked();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn env_diff_exit_code_exits_1_when_a_variable_differs() {
    let world = World::new().await.unwrap();
    world.fake.set_env_var(
        &world.app(stagegate_tests::Env::Staging),
        &coolify_client::EnvVarInput::new("NOT_DECLARED", "x"),
    );

    let plain = stagegate(Some(&world), world.root(), &["env", "diff", "staging"]).await;
    assert_eq!(plain.status.code(), Some(0), "{}", text(&plain.stderr));

    let output = stagegate(
        Some(&world),
        world.root(),
        &["--format", "json", "env", "diff", "staging", "--exit-code"],
    )
    .await;

    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    let document: serde_json::Value = serde_json::from_str(&stdout).expect(&stdout);
    assert_eq!(document["keys"][0]["key"], "NOT_DECLARED", "{document}");
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains(
            "error: env diff staging: deploy.toml and Coolify differ in 1 variable (--exit-code)"
        ),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_probe_header_credential_echoed_by_the_health_endpoint_is_never_printed() {
    const SECRET: &str = "probe-header-SECRET-value";
    // A header is a credential because it is a probe header, whatever its name.
    const SIGNATURE: &str = "deploy-signature-value";
    let world = World::new().await.unwrap();
    world
        .repo
        .commit("src/app.txt", "feat: greet users")
        .unwrap();
    let config = world.config().replace(
        "success_threshold = 2\n",
        &format!(
            "success_threshold = 2\nheaders = {{ X-Api-Key = \"{SECRET}\", X-Deploy-Signature = \"{SIGNATURE}\" }}\n"
        ),
    );
    world.write_file("deploy.toml", &config).unwrap();
    world
        .staging_health
        .set_mode(stagegate_tests::HealthMode::EchoesRequest);

    let output = stagegate(
        Some(&world),
        world.root(),
        &["--format", "json", "-v", "deploy", "staging"],
    )
    .await;

    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    let document: serde_json::Value = serde_json::from_str(&stdout).expect(&stdout);
    let excerpts = document["rollout"]["probe"]["attempts"].to_string();
    assert!(excerpts.contains("[redacted]"), "{excerpts}");
    for printed in [&stdout, &text(&output.stderr)] {
        assert!(
            !printed.contains(SECRET) && !printed.contains(SIGNATURE),
            "{printed}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_warning_in_a_log_has_no_escapes_and_the_flows_line_shape() {
    use coolify_fake::{Fault, FaultRule};

    let world = World::new().await.unwrap();
    world
        .repo
        .commit("src/app.txt", "feat: greet users")
        .unwrap();
    world.fake.inject(
        FaultRule::on_path("/api/v1/applications/staging-app", Fault::BadGatewayHtml)
            .method("GET")
            .times(1),
    );

    // stderr is a pipe here, as in a CI log.
    let output = stagegate(Some(&world), world.root(), &["status"]).await;

    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains('\x1b'), "escape bytes in: {stderr:?}");
    let warning = stderr
        .lines()
        .find(|line| line.contains("retrying coolify request"))
        .expect(&stderr);
    // `2026-11-26T18:07:32Z warning: ...`, like every other line of the run.
    let (stamp, rest) = warning.split_once(' ').expect(warning);
    assert!(
        stamp.len() == "2026-11-26T18:07:32Z".len() && stamp.ends_with('Z'),
        "{warning}"
    );
    assert!(
        rest.starts_with("warning: retrying coolify request"),
        "{warning}"
    );
    world.assert_token_never_leaked();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_environment_is_a_usage_error_listing_the_known_ones() {
    let world = World::new().await.unwrap();

    let output = stagegate(Some(&world), world.root(), &["env", "diff", "qa"]).await;

    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("[possible values: staging, production]"),
        "{stderr}"
    );
    assert!(world.fake.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_tag_is_refused_before_the_config_and_the_token_are_read() {
    // No repository, no deploy.toml, no token: only the tag can be judged.
    let directory = tempfile::tempdir().unwrap();

    for tag in ["1.2", "vx"] {
        let output = stagegate(
            None,
            directory.path(),
            &["deploy", "production", "--tag", tag],
        )
        .await;

        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        for expected in [&format!("`{tag}`"), "MAJOR.MINOR.PATCH, e.g. v1.4.2"] {
            assert!(stderr.contains(expected), "{expected:?} in: {stderr}");
        }
        for not_reached in ["deploy.toml", "COOLIFY_TOKEN"] {
            assert!(!stderr.contains(not_reached), "{not_reached} in: {stderr}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_a_preview_that_does_not_exist_exits_0_and_pull_request_0_exits_2() {
    let world = World::new().await.unwrap();

    let output = stagegate(
        Some(&world),
        world.root(),
        &["preview", "remove", "--pr", "42", "--format", "json"],
    )
    .await;

    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let document: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(document["action"], "no_preview");
    assert_eq!(document["environment"], "pr-42");
    assert_eq!(document["marked_inactive"], 0);
    assert!(
        document["no_record"].is_null(),
        "the fake GitHub is reachable, so the record was read: {document}"
    );
    assert!(
        world.github.deployments().is_empty()
            && world
                .github
                .requests()
                .iter()
                .all(|request| request.method == "GET" || request.path.ends_with("/graphql")),
        "removing a preview that never existed writes nothing to the record"
    );

    let asked = world.fake.requests().len();
    let output = stagegate(
        Some(&world),
        world.root(),
        &["preview", "deploy", "--pr", "0"],
    )
    .await;

    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("error: --pr 0 is not a pull request: pull requests are numbered from 1"),
        "{stderr}"
    );
    assert_eq!(
        world.fake.requests().len(),
        asked,
        "nothing was asked of Coolify for --pr 0"
    );
    world.assert_token_never_leaked();
}

/// `history` reads git and the release record only: it runs on a laptop without the Coolify
/// token and contacts nothing but GitHub.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_needs_no_coolify_token_and_never_contacts_coolify() {
    let world = World::new().await.unwrap();
    let commit = world
        .repo
        .commit("src/app.txt", "feat: greet users")
        .unwrap();
    let output = stagegate(Some(&world), world.root(), &["deploy", "staging"]).await;
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let asked_coolify = world.fake.requests().len();

    let mut history = command(Some(&world), world.root(), &["history", "staging"]);
    history
        .env_remove("COOLIFY_TOKEN")
        .env_remove("COOLIFY_URL");
    let output = run(Some(&world), history).await;
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    for expected in [&commit[..7], "staging", "verified"] {
        assert!(stdout.contains(expected), "{expected:?} in: {stdout}");
    }
    assert_eq!(
        world.fake.requests().len(),
        asked_coolify,
        "history sent nothing to Coolify"
    );
    world.assert_token_never_leaked();
}
