//! What a new team trips on, from `init` to the first hotfix: the health URL of a domain with a
//! path, the team's own checks in every preset or their CI waited for, a release whose push
//! failed, a hotfix deployed from a branch and merged back, a commit that was never pushed,
//! the old pipeline found in its disguises, and the messages that read wrong.

use coolify_fake::FakeApplication;
use stagegate::deploy::{Action, StagingOptions};
use stagegate::init::{InitOptions, InitReport, Preset, ProposalSource, Questions, init_with};
use stagegate::release::{Level, Push, ReleaseOptions};
use stagegate::setup::{Change, SetupOptions};
use stagegate::workflows::{WorkflowsOptions, workflows};
use stagegate::{DryRun, EnvironmentName, Exit};
use stagegate_tests::adopting::python_world;
use stagegate_tests::{Env, Run, World};

fn yes() -> InitOptions {
    InitOptions {
        questions: Questions::AssumeYes,
        ..InitOptions::default()
    }
}

async fn run_init(world: &World, options: InitOptions) -> Run<InitReport> {
    world
        .run(|session| async move { init_with(&session, &options, None).await })
        .await
}

async fn write_workflows(world: &World) -> Run<stagegate::workflows::WorkflowsReport> {
    world
        .run(|session| async move { workflows(&session, WorkflowsOptions::write()) })
        .await
}

fn generated(world: &World, name: &str) -> String {
    std::fs::read_to_string(world.root().join(".github/workflows").join(name)).unwrap()
}

#[tokio::test]
async fn init_keeps_the_port_and_path_of_the_apps_domain_and_never_proposes_one_url_twice() {
    let world = python_world().await.unwrap();
    for (uuid, environment) in [("path-stg", "staging"), ("path-prd", "production")] {
        world.fake.add_application(
            FakeApplication::new(uuid)
                .name(uuid)
                .git_repository("https://github.com/acme/api")
                .fqdn(Some(&format!(
                    "http://127.0.0.1:18765/apps/{uuid},https://{uuid}.example.com"
                )))
                .health_check_path("/healthz")
                .environment("API", environment),
        );
    }
    let chosen = InitOptions {
        staging: Some("path-stg".to_owned()),
        production: Some("path-prd".to_owned()),
        ..yes()
    };

    let run = run_init(&world, chosen.clone()).await;

    let report = run.value();
    assert_eq!(
        report.staging.health_url,
        "http://127.0.0.1:18765/apps/path-stg/healthz"
    );
    assert_eq!(
        report.production.health_url,
        "http://127.0.0.1:18765/apps/path-prd/healthz"
    );
    assert!(!report.staging.health_url_guessed);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    assert!(
        report
            .content
            .contains("repository_url = \"https://github.com/acme/api\""),
        "{}",
        report.content
    );

    // Two apps whose domains give the same health URL: placeholders and a warning, never a
    // config whose probes cannot tell the environments apart.
    for uuid in ["same-stg", "same-prd"] {
        world.fake.add_application(
            FakeApplication::new(uuid)
                .name(uuid)
                .git_repository("https://github.com/acme/api")
                .fqdn(Some("http://127.0.0.1:18765/apps/shared"))
                .health_check_path("/healthz"),
        );
    }
    let run = run_init(
        &world,
        InitOptions {
            staging: Some("same-stg".to_owned()),
            production: Some("same-prd".to_owned()),
            overwrite: stagegate::init::Overwrite::Yes,
            ..yes()
        },
    )
    .await;
    let report = run.value();
    assert!(
        report.warnings[0].contains(
            "staging and production would both be probed at http://127.0.0.1:18765/apps/shared/healthz"
        ),
        "{:?}",
        report.warnings
    );
    assert!(report.staging.health_url_guessed && report.production.health_url_guessed);
    assert_ne!(report.staging.health_url, report.production.health_url);
    assert!(
        run.value()
            .to_string()
            .contains("warning: staging and production would both be probed")
    );
}

/// Files of a repository: (path, text).
type Files = Vec<(&'static str, &'static str)>;

/// For each preset: the file that picks it, a linter configuration, and the checks the preset
/// then runs: that linter first, then the tests.
fn presets() -> [(Preset, Files, &'static [&'static str]); 4] {
    [
        (
            Preset::PythonUv,
            vec![
                ("uv.lock", "version = 1\n"),
                ("ruff.toml", "line-length = 100\n"),
            ],
            &["uvx ruff check", "uv run pytest"],
        ),
        (
            Preset::NodeNpm,
            vec![
                ("package-lock.json", "{\"lockfileVersion\": 3}\n"),
                (
                    "package.json",
                    "{\"scripts\": {\"lint\": \"eslint .\", \"test\": \"vitest run\"}}\n",
                ),
            ],
            &["npm run lint", "npm test"],
        ),
        (
            Preset::RustCargo,
            vec![
                ("Cargo.toml", "[package]\nname = \"api\"\n"),
                ("rustfmt.toml", "edition = \"2024\"\n"),
            ],
            &["cargo fmt --all --check", "cargo test --workspace --locked"],
        ),
        (
            Preset::Go,
            vec![("go.mod", "module example.com/api\n")],
            &["go vet ./...", "go test ./..."],
        ),
    ]
}

const TEAM_CHECKS: &str = "name: PR validation\non:\n  pull_request:\n    branches: [main]\njobs:\n  checks:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1\n      - run: make install\n      - run: make lint\n      - name: tests\n        run: |\n          make test\n      - run: echo \"${{ github.head_ref }}\"\n";

#[tokio::test]
async fn in_every_preset_init_proposes_the_teams_checks_or_the_linters_the_repository_configures() {
    for (preset, files, preset_checks) in presets() {
        for with_team_checks in [true, false] {
            let world = World::adopting().await.unwrap();
            for (file, text) in &files {
                world
                    .repo
                    .commit_file(file, text, "chore: the project")
                    .unwrap();
            }
            if with_team_checks {
                world
                    .repo
                    .commit_file(
                        ".github/workflows/pr-validation.yml",
                        TEAM_CHECKS,
                        "ci: checks",
                    )
                    .unwrap();
            }

            let run = run_init(&world, yes()).await;

            let report = run.value();
            assert_eq!(report.preset, Some(preset));
            let expected: Vec<String> = if with_team_checks {
                assert_eq!(
                    report.workflows.source,
                    ProposalSource::TeamChecks,
                    "{preset}"
                );
                assert_eq!(
                    report.workflows.file.as_deref(),
                    Some(".github/workflows/pr-validation.yml")
                );
                ["make install", "make lint", "make test"]
                    .map(str::to_owned)
                    .to_vec()
            } else {
                assert_eq!(report.workflows.source, ProposalSource::Preset, "{preset}");
                preset_checks
                    .iter()
                    .map(|&check| check.to_owned())
                    .collect()
            };
            assert_eq!(report.workflows.checks, expected, "{preset}");
            let shown = run.value().to_string();
            for check in &expected {
                assert!(shown.contains(check.as_str()), "{preset}: {shown}");
            }

            let written = write_workflows(&world).await;
            assert_eq!(written.exit(), Exit::Done, "{preset}: {:?}", written.result);
            let staging = generated(&world, "staging-deploy.yml");
            for check in &expected {
                assert!(
                    staging.contains(&format!("run: '{check}'")),
                    "{preset} runs {check}:\n{staging}"
                );
            }
            assert!(!staging.contains("github.head_ref"), "{staging}");
            assert!(
                staging.contains("deployments: write") && staging.contains("deployment: false"),
                "{staging}"
            );
        }
    }
}

const CI_THAT_CHECKS_AND_DEPLOYS: &str = "name: CI/CD\n\non:\n  push:\n    branches: [main]\n\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: uv run pytest\n      - run: uv run ruff check\n  release:\n    needs: test\n    runs-on: ubuntu-latest\n    environment: production\n    steps:\n      - run: curl -fsS -X POST \"$COOLIFY/api/v1/deploy?uuid=$APP\" -H \"Authorization: Bearer $TOKEN\"\n        env:\n          APP: ${{ vars.APP_UUID }}\n          TOKEN: ${{ secrets.COOLIFY_TOKEN }}\n      - run: curl -fsS -X POST \"${{ secrets.COOLIFY_WEBHOOK }}\"\n";

#[tokio::test]
async fn init_waits_for_a_ci_workflow_that_checks_every_push_and_names_its_deploy_lines() {
    let world = World::adopting().await.unwrap();
    world
        .repo
        .commit_file("uv.lock", "version = 1\n", "chore: lock")
        .unwrap();
    world
        .repo
        .commit_file(
            ".github/workflows/ci-cd.yml",
            CI_THAT_CHECKS_AND_DEPLOYS,
            "ci: test and deploy",
        )
        .unwrap();

    let run = run_init(&world, yes()).await;

    let report = run.value();
    assert_eq!(report.workflows.source, ProposalSource::After);
    assert_eq!(report.workflows.after.as_deref(), Some("CI/CD"));
    assert_eq!(
        report.workflows.checks,
        ["uv run pytest", "uv run ruff check"]
    );
    assert!(
        report.content.contains("after = \"CI/CD\""),
        "{}",
        report.content
    );
    // The old pipeline in its disguises: a job of the production environment calling the
    // deploy API through a variable, and a Coolify webhook secret.
    let lines: Vec<usize> = report
        .production_deploys_on_push
        .iter()
        .map(|finding| finding.line)
        .collect();
    assert_eq!(lines, [18, 22], "{:#?}", report.production_deploys_on_push);
    let shown = run.value().to_string();
    assert!(
        shown.contains("ci-cd.yml, line 18, still deploys production")
            && shown.contains("in a job of the `production` environment"),
        "{shown}"
    );
    assert!(
        shown.contains("Retire the old pipeline: remove the deploy steps of .github/workflows/ci-cd.yml (lines 18, 22"),
        "{shown}"
    );

    let written = write_workflows(&world).await;
    let staging = generated(&world, "staging-deploy.yml");
    assert!(staging.contains("workflows: ['CI/CD']"), "{staging}");
    assert!(!staging.contains("needs: test"), "{staging}");
    // `workflows` names the same lines as init.
    let text = written.value().to_string();
    assert!(
        text.contains("warning: .github/workflows/ci-cd.yml, line 22, still deploys production"),
        "{text}"
    );
}

#[tokio::test]
async fn workflows_and_setup_name_the_old_staging_deploy_and_staging_auto_deploy_goes_off_with_it()
{
    let world = python_world().await.unwrap();
    run_init(&world, yes()).await.value();
    let setup = |dry_run: DryRun| {
        let options = SetupOptions {
            dry_run,
            ..SetupOptions::default()
        };
        world.run(|session| async move { stagegate::setup::setup(&session, &options).await })
    };

    let before = setup(DryRun::Yes).await;
    let report = before.value();
    assert_eq!(report.staging_auto_deploy_left_on, ["staging-app"]);
    assert!(
        !report.changes.iter().any(|change| matches!(
            change,
            Change::AutoDeployOff {
                environment: EnvironmentName::Staging,
                ..
            }
        )),
        "{:?}",
        report.changes
    );
    assert!(
        before
            .value()
            .to_string()
            .contains("staging's auto-deploy is still on (staging-app)"),
        "{}",
        before.value()
    );

    let written = write_workflows(&world).await;
    let text = written.value().to_string();
    assert!(
        text.contains(
            "warning: .github/workflows/ci-cd.yml, line 12, deploys staging on every push"
        ) && text.contains(".github/workflows/ci-cd.yml, line 16, still deploys production"),
        "{text}"
    );

    let after = setup(DryRun::No).await;
    let report = after.value();
    assert!(
        report.changes.iter().any(|change| matches!(
            change,
            Change::AutoDeployOff {
                environment: EnvironmentName::Staging,
                ..
            }
        )),
        "{:?}",
        report.changes
    );
    let staging = world.fake.application(&world.app(Env::Staging)).unwrap();
    assert_eq!(staging.is_auto_deploy_enabled(), Some(false));
    assert!(
        after
            .value()
            .to_string()
            .contains("every push is built twice"),
        "{}",
        after.value()
    );
}

/// `remote.origin.pushurl` of an adopting world, and a way to break it.
fn push_url(world: &World) -> String {
    world
        .repo
        .git()
        .config()
        .unwrap()
        .get_string("remote.origin.pushurl")
        .unwrap()
}

fn set_push_url(world: &World, url: &str) {
    world
        .repo
        .git()
        .config()
        .unwrap()
        .set_str("remote.origin.pushurl", url)
        .unwrap();
}

/// The deploy runs on the paused clock; the pushes run `git` for real, so the clock resumes
/// before them (a paused clock would jump past their deadline while a process runs).
#[tokio::test(start_paused = true)]
async fn a_release_whose_push_failed_is_finished_by_running_it_again() {
    let world = World::adopting().await.unwrap();
    world
        .repo
        .commit_file("deploy.toml", &world.config(), "chore: deploy config")
        .unwrap();
    world
        .repo
        .commit("src/app.txt", "feat: greet users")
        .unwrap();
    world.deploy_staging().await.value();
    tokio::time::resume();
    let origin = push_url(&world);
    set_push_url(&world, "/nonexistent/origin.git");
    let release = |push: Push| ReleaseOptions {
        level: "0.1.0".parse::<Level>().unwrap(),
        push,
        ..ReleaseOptions::default()
    };

    let failed = world.release_with(release(Push::To("origin".into()))).await;
    failed.assert_failed(
        Exit::Failed,
        &["push it with `git push origin refs/tags/v0.1.0`"],
    );
    assert_eq!(world.repo.tags(), ["v0.1.0"]);
    assert!(world.pushed_tags().is_empty());
    set_push_url(&world, &origin);

    // Without --push: exactly that the tag is unpushed.
    let unpushed = world.release_with(release(Push::No)).await;
    unpushed.assert_failed(
        Exit::BadInput,
        &[
            "is already released as v0.1.0",
            "the tag is only in this clone, origin does not have it",
            "stagegate release --push",
        ],
    );

    let finished = world.release_with(release(Push::To("origin".into()))).await;
    let report = finished.value();
    assert_eq!(report.tag, "v0.1.0");
    assert_eq!(report.pushed_to.as_deref(), Some("origin"));
    assert!(report.notes.contains("greet users"), "{}", report.notes);
    assert_eq!(world.pushed_tags(), ["v0.1.0"]);

    let again = world.release_with(release(Push::No)).await;
    again.assert_failed(
        Exit::BadInput,
        &[
            "is already released as v0.1.0",
            "origin has it too",
            "commit something new first",
        ],
    );
    world.assert_token_never_leaked();
}

#[tokio::test(start_paused = true)]
async fn a_hotfix_released_from_its_branch_is_named_by_status_until_merged_back() {
    let world = World::new().await.unwrap();
    world.ship("feat: greet users", "1.0.0").await.unwrap();
    world
        .repo
        .commit("src/app.txt", "feat: on main, not released")
        .unwrap();
    world.repo.branch_from("hotfix/1.0.1", "v1.0.0").unwrap();
    let hotfix = world.repo.commit("src/fix.txt", "fix: urgent").unwrap();
    world
        .deploy_staging_with(StagingOptions::revision(&hotfix))
        .await
        .value();
    world.release_version("1.0.1").await.value();
    world.deploy_production("v1.0.1").await.value();
    world.repo.switch("main").unwrap();

    let run = world
        .run(|session| async move { stagegate::status::status(&session).await })
        .await;

    let report = run.value();
    assert_eq!(report.production_on_branch, Some(false));
    let text = report.to_string();
    assert!(
        text.contains(&format!(
            "warning: production runs v1.0.1 ({}), which is not on main yet: merge the hotfix back into main",
            &hotfix[..7]
        )),
        "{text}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_commit_that_was_never_pushed_is_refused_before_the_pin() {
    let world = World::new().await.unwrap();
    let pushed = world
        .repo
        .commit("src/app.txt", "feat: greet users")
        .unwrap();
    world
        .repo
        .git()
        .reference(
            "refs/remotes/origin/main",
            git2::Oid::from_str(&pushed).unwrap(),
            true,
            "fetch",
        )
        .unwrap();
    let local = world.repo.commit("src/fix.txt", "fix: only here").unwrap();

    let run = world.deploy_staging().await;

    run.assert_failed(
        Exit::Refused,
        &[
            &local[..7],
            "is on no branch of the remote",
            "push it first",
            "nothing was changed",
        ],
    );
    assert!(run.writes_to(&world.app(Env::Staging)).is_empty());
    assert_eq!(
        world
            .deploy_staging_with(StagingOptions::revision(&pushed))
            .await
            .value()
            .action,
        Action::Deployed
    );
}

#[tokio::test(start_paused = true)]
async fn a_failed_staging_build_says_the_commit_may_not_be_on_the_remote() {
    let world = World::new().await.unwrap();
    world
        .repo
        .commit("src/app.txt", "feat: greet users")
        .unwrap();
    world.fake.fail_next_deployment(&world.app(Env::Staging));

    let run = world.deploy_staging().await;

    run.assert_failed(
        Exit::Failed,
        &["the commit may not be on the remote Coolify builds from: push it"],
    );
}

#[tokio::test(start_paused = true)]
async fn a_rollback_to_what_production_runs_says_there_is_nothing_to_roll_back() {
    let world = World::new().await.unwrap();
    world.ship("feat: greet users", "1.0.0").await.unwrap();

    let run = world.rollback(Some("v1.0.0")).await;

    assert_eq!(run.value().action, Action::AlreadyLive);
    assert!(
        run.stderr
            .contains("production runs v1.0.0 already: nothing to roll back"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("rolling production back"),
        "{}",
        run.stderr
    );
}

#[tokio::test(start_paused = true)]
async fn below_1_0_a_breaking_change_releases_a_minor_version_and_says_so() {
    let world = World::new().await.unwrap();
    world.ship("feat: greet users", "0.2.0").await.unwrap();
    world
        .repo
        .commit("src/app.txt", "feat!: greetings are a list")
        .unwrap();
    world.deploy_staging().await.value();

    let run = world.release_with(ReleaseOptions::default()).await;

    assert_eq!(run.value().tag, "v0.3.0");
    assert!(
        run.stderr.contains("1 commit since v0.2.0: a minor release (below 1.0.0 a breaking change bumps the minor version; `stagegate release major` releases 1.0.0)"),
        "{}",
        run.stderr
    );
}

#[tokio::test(start_paused = true)]
async fn status_reads_an_image_apps_latest_deployment_from_its_tag() {
    let world = World::with_images().await.unwrap();
    let commit = world
        .repo
        .commit("src/app.txt", "feat: greet users")
        .unwrap();
    world.push_image(&commit);
    world.deploy_staging().await.value();

    let run = world
        .run(|session| async move { stagegate::status::status(&session).await })
        .await;

    let report = run.value();
    let staging = &report.environments[0].apps[0];
    let latest = staging.latest_deployment.as_ref().unwrap();
    assert_eq!(
        latest.image_tag.as_deref(),
        Some(format!("sha-{commit}").as_str())
    );
    assert_eq!(latest.commit.as_deref(), Some(commit.as_str()));
    let text = report.to_string();
    assert!(
        text.contains(&format!(
            "finished (image tag sha-{commit}, {})",
            &commit[..7]
        )),
        "{text}"
    );
    assert!(!text.contains("commit not resolved"), "{text}");
}
