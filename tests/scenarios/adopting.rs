//! Adopting stagegate in a team's existing repository: `init` against the fake Coolify, the
//! workflows for the repository's own language, the team's own files left alone, the old
//! pipeline that still deploys production found. The runs through the built binary (`init` in
//! CI, `docs/ADOPTING.md` command by command) are `stagegate`'s own tests, in
//! `crates/stagegate/tests/cli/adopting.rs`.

use coolify_client::EnvVarInput;
use coolify_fake::FakeApplication;
use stagegate::Exit;
use stagegate::init::Preset;
use stagegate::init::{Ask, InitOptions, InitReport, Overwrite, Questions, Written, init_with};

use stagegate::workflows::{FileState, WorkflowsOptions, workflows};
use stagegate_tests::adopting::{THEIR_CI_CD, THEIR_PR_VALIDATION, python_world};
use stagegate_tests::{Env, PRODUCTION_APP, Run, STAGING_APP, World};

/// A Node (npm) service.
async fn node_world() -> World {
    let world = World::adopting().await.unwrap();
    world
        .repo
        .commit_file(
            "package-lock.json",
            "{\"lockfileVersion\": 3}\n",
            "chore: lock",
        )
        .unwrap();
    world
}

async fn run_init(
    world: &World,
    options: InitOptions,
    ask: Option<&mut dyn Ask>,
) -> Run<InitReport> {
    world
        .run(|session| async move { init_with(&session, &options, ask).await })
        .await
}

/// What the command line would print for the flow's report.
fn shown<T: std::fmt::Display + std::fmt::Debug>(run: &Run<T>) -> String {
    run.value().to_string()
}

fn yes() -> InitOptions {
    InitOptions {
        questions: Questions::AssumeYes,
        ..InitOptions::default()
    }
}

/// Answers prompts from a script, recording the questions.
struct Scripted {
    answers: Vec<usize>,
    questions: Vec<String>,
}

impl Ask for Scripted {
    fn choose(
        &mut self,
        question: &str,
        options: &[String],
        _default: Option<usize>,
    ) -> std::io::Result<usize> {
        self.questions
            .push(format!("{question} {}", options.join(" | ")));
        Ok(self.answers.remove(0))
    }
}

#[tokio::test]
async fn init_finds_both_apps_of_the_repository_and_writes_a_config_that_loads() {
    let world = python_world().await.unwrap();
    let staging = world.app(Env::Staging);
    world.fake.set_env_var(
        &staging,
        &EnvVarInput::new("DATABASE_URL", "postgres://user:hunter2@db/api"),
    );
    world
        .fake
        .set_env_var(&staging, &EnvVarInput::new("LOG_LEVEL", "DEBUG"));
    world.fake.add_application(
        FakeApplication::new("website-app")
            .name("website")
            .git_repository("acme/web"),
    );

    let run = run_init(&world, yes(), None).await;

    let report = run.value();
    assert_eq!(report.repository, "github.com/acme/api");
    assert_eq!(report.staging.uuid, STAGING_APP);
    assert_eq!(report.production.uuid, PRODUCTION_APP);
    assert_eq!(
        report.staging.coolify_environment.as_deref(),
        Some("staging")
    );
    assert_eq!(report.staging.health_url, world.staging_health.url());
    assert!(!report.staging.health_url_guessed);
    assert_eq!(report.staging.variables, ["DATABASE_URL", "LOG_LEVEL"]);
    assert_eq!(report.preset, Some(Preset::PythonUv));
    assert_eq!(
        (report.config, report.gitignore),
        (Written::Written, Written::Written)
    );

    let config = std::fs::read_to_string(world.root().join("deploy.toml")).unwrap();
    assert_eq!(config, report.content);
    assert!(config.contains("#   DATABASE_URL, LOG_LEVEL"), "{config}");
    assert!(
        !config.contains("hunter2") && !shown(&run).contains("hunter2"),
        "a variable value leaked"
    );
    assert!(config.contains("preset = \"python-uv\""), "{config}");
    // What it wrote loads as a valid config: a command that reads it and contacts nothing.
    world
        .run(|session| async move {
            stagegate::workflows::workflows(
                &session,
                stagegate::workflows::WorkflowsOptions::dry_run(),
            )
        })
        .await
        .value();
    let gitignore = std::fs::read_to_string(world.root().join(".gitignore")).unwrap();
    assert!(
        gitignore.starts_with("__pycache__/\n.venv\n") && gitignore.ends_with(".stagegate/\n"),
        "{gitignore}"
    );

    // What it prints: the health handler, the old pipeline, the next steps.
    assert!(
        shown(&run).contains("SOURCE_COMMIT") && shown(&run).contains("FastAPI"),
        "{}",
        shown(&run)
    );
    assert_eq!(
        report.production_deploys_on_push.len(),
        1,
        "{:?}",
        report.production_deploys_on_push
    );
    assert!(
        shown(&run).contains(".github/workflows/ci-cd.yml, line 16, still deploys production"),
        "{}",
        shown(&run)
    );
    for step in [
        "stagegate backup staging",
        "stagegate setup --dry-run",
        "stagegate workflows",
        "stagegate deploy staging",
    ] {
        assert!(
            shown(&run).contains(step),
            "next steps lack {step}:\n{}",
            shown(&run)
        );
    }
    assert!(
        run.requests.iter().all(|request| request.method() == "GET"),
        "init only reads Coolify"
    );
    world.assert_token_never_leaked();
}

#[tokio::test]
async fn an_unclear_role_asks_on_a_terminal_and_otherwise_names_the_flag() {
    let world = python_world().await.unwrap();
    world.fake.add_application(
        FakeApplication::new("preview-app")
            .name("api-preview")
            .git_repository("ssh://git@github.com/acme/api.git")
            .environment("API", "staging"),
    );

    let run = run_init(&world, yes(), None).await;
    run.assert_failed(
        Exit::BadInput,
        &[
            "cannot tell which app is staging",
            "--staging APP",
            "api-preview (preview-app",
            "api-staging (staging-app",
        ],
    );
    assert!(!world.root().join("deploy.toml").exists());

    let mut terminal = Scripted {
        answers: vec![2, 1],
        questions: Vec::new(),
    };
    let run = run_init(&world, InitOptions::default(), Some(&mut terminal)).await;
    let report = run.value();
    assert_eq!(
        (
            report.staging.uuid.as_str(),
            report.production.uuid.as_str()
        ),
        (STAGING_APP, PRODUCTION_APP)
    );
    assert!(
        terminal.questions[0].starts_with("Which Coolify app is staging?"),
        "{:?}",
        terminal.questions
    );

    let flagged = InitOptions {
        staging: Some("api-staging".to_owned()),
        overwrite: Overwrite::Yes,
        ..yes()
    };
    let run = run_init(&world, flagged, None).await;
    assert_eq!(run.value().staging.uuid, STAGING_APP);
    assert_eq!(run.value().production.uuid, PRODUCTION_APP);
}

#[tokio::test]
async fn the_flags_take_a_uuid_or_a_unique_name() {
    let world = node_world().await;
    // A second app named like production, elsewhere.
    world.fake.add_application(
        FakeApplication::new("other-prod")
            .name("api-production")
            .git_repository("acme/other"),
    );

    let by_name = InitOptions {
        staging: Some("api-staging".to_owned()),
        production: Some("api-production".to_owned()),
        ..yes()
    };
    let run = run_init(&world, by_name, None).await;
    run.assert_failed(
        Exit::BadInput,
        &[
            "--production api-production",
            "2 applications have that name",
            "other-prod",
            PRODUCTION_APP,
        ],
    );

    let by_uuid = InitOptions {
        staging: Some(STAGING_APP.to_owned()),
        production: Some(PRODUCTION_APP.to_owned()),
        ..yes()
    };
    let run = run_init(&world, by_uuid, None).await;
    assert_eq!(run.value().production.name, "api-production");
    assert_eq!(run.value().preset, Some(Preset::NodeNpm));
    assert!(run.value().to_string().contains("Node (Express)"));

    let unknown = InitOptions {
        staging: Some("nope".to_owned()),
        overwrite: Overwrite::Yes,
        ..yes()
    };
    run_init(&world, unknown, None).await.assert_failed(
        Exit::BadInput,
        &[
            "--staging nope",
            "no Coolify application has that uuid or name",
        ],
    );
}

#[tokio::test]
async fn with_no_app_of_this_repository_init_lists_the_apps_there_are() {
    let world = python_world().await.unwrap();
    world
        .repo
        .git()
        .remote_set_url("origin", "git@github.com:acme/other-service.git")
        .unwrap();

    let run = run_init(&world, yes(), None).await;

    run.assert_failed(
        Exit::BadInput,
        &[
            "no Coolify application builds github.com/acme/other-service",
            "api-staging (staging-app, https://github.com/acme/api)",
            "stagegate init --staging APP --production APP",
        ],
    );
    let explicit = InitOptions {
        staging: Some("api-staging".to_owned()),
        production: Some("api-production".to_owned()),
        ..yes()
    };
    assert_eq!(run_init(&world, explicit, None).await.exit(), Exit::Done);
}

#[tokio::test]
async fn dry_run_prints_the_file_and_writes_nothing() {
    let world = python_world().await.unwrap();
    let gitignore = std::fs::read_to_string(world.root().join(".gitignore")).unwrap();

    let run = run_init(
        &world,
        InitOptions {
            dry_run: stagegate::DryRun::Yes,
            ..yes()
        },
        None,
    )
    .await;

    let report = run.value();
    assert_eq!(
        (report.config, report.gitignore),
        (Written::WouldWrite, Written::WouldWrite)
    );
    assert!(
        shown(&run).contains("(dry run: not written)")
            && shown(&run).contains("[environments.production]"),
        "{}",
        shown(&run)
    );
    assert!(!world.root().join("deploy.toml").exists());
    assert_eq!(
        std::fs::read_to_string(world.root().join(".gitignore")).unwrap(),
        gitignore
    );
}

#[tokio::test]
async fn an_existing_config_is_replaced_only_with_force() {
    let world = python_world().await.unwrap();
    world.write_file("deploy.toml", "# ours\n").unwrap();

    let run = run_init(&world, yes(), None).await;
    run.assert_failed(
        Exit::BadInput,
        &[
            "deploy.toml exists already",
            "--force",
            "stagegate init --force",
        ],
    );
    assert_eq!(
        std::fs::read_to_string(world.root().join("deploy.toml")).unwrap(),
        "# ours\n"
    );
    assert!(run.requests.is_empty(), "refused before contacting Coolify");

    let run = run_init(
        &world,
        InitOptions {
            overwrite: Overwrite::Yes,
            ..yes()
        },
        None,
    )
    .await;
    assert_eq!(run.value().config, Written::Written);
    assert!(
        std::fs::read_to_string(world.root().join("deploy.toml"))
            .unwrap()
            .contains("[workflows]")
    );
}

#[tokio::test]
async fn each_preset_gets_its_own_workflows_and_the_teams_files_stay_as_they_are() {
    for preset in Preset::ALL {
        let world = python_world().await.unwrap();
        run_init(&world, yes(), None).await.value();
        let config_path = world.root().join("deploy.toml");
        let config = std::fs::read_to_string(&config_path)
            .unwrap()
            .replace("preset = \"python-uv\"", &format!("preset = \"{preset}\""))
            .replace("pr_validation = false", "pr_validation = true");
        std::fs::write(&config_path, config).unwrap();

        let dry = world
            .run(|session| async move { workflows(&session, WorkflowsOptions::dry_run()) })
            .await;
        assert!(
            shown(&dry).contains("+name: Staging deploy"),
            "{preset}: {}",
            shown(&dry)
        );
        assert!(
            !world
                .root()
                .join(".github/workflows/staging-deploy.yml")
                .exists()
        );

        let run = world
            .run(|session| async move { workflows(&session, WorkflowsOptions::write()) })
            .await;
        let report = run.value();
        let state = |name: &str| {
            report
                .files
                .iter()
                .find(|file| file.path.ends_with(name))
                .map(|file| file.state)
        };
        assert_eq!(
            state("pr-validation.yml"),
            Some(FileState::UserOwned),
            "{preset}"
        );
        assert_eq!(
            state("staging-deploy.yml"),
            Some(FileState::Written),
            "{preset}"
        );
        assert!(
            shown(&run).contains("left .github/workflows/pr-validation.yml untouched"),
            "{}",
            shown(&run)
        );
        let workflows_dir = world.root().join(".github/workflows");
        assert_eq!(
            std::fs::read_to_string(workflows_dir.join("pr-validation.yml")).unwrap(),
            THEIR_PR_VALIDATION
        );
        assert_eq!(
            std::fs::read_to_string(workflows_dir.join("ci-cd.yml")).unwrap(),
            THEIR_CI_CD
        );
        let staging = std::fs::read_to_string(workflows_dir.join("staging-deploy.yml")).unwrap();
        let uses_rust = staging.contains("cargo") || staging.contains("rustup");
        assert_eq!(
            uses_rust,
            preset == Preset::RustCargo,
            "{preset}:\n{staging}"
        );
        assert!(
            staging.contains("uses: stagegate/stagegate@"),
            "{preset}:\n{staging}"
        );
        assert!(
            staging.contains(&format!("version: {}", env!("CARGO_PKG_VERSION"))),
            "{staging}"
        );

        let check = world
            .run(|session| async move { workflows(&session, WorkflowsOptions::check()) })
            .await;
        assert_eq!(
            check.exit(),
            Exit::Done,
            "--check ignores the team's own file: {:?}",
            check.result
        );
    }
}

#[tokio::test]
async fn setup_plans_the_removal_of_the_old_production_deploy() {
    let world = python_world().await.unwrap();
    run_init(&world, yes(), None).await.value();

    let run = world
        .run(|session| async move {
            stagegate::setup::setup(
                &session,
                &stagegate::setup::SetupOptions {
                    dry_run: stagegate::DryRun::Yes,
                    ..Default::default()
                },
            )
            .await
        })
        .await;

    let report = run.value();
    assert_eq!(report.production_deploys_on_push.len(), 1);
    assert!(shown(&run).contains("auto-deploy"), "{}", shown(&run));
    assert!(
        shown(&run).contains("not done by setup: production still deploys on a push"),
        "{}",
        shown(&run)
    );
    assert!(
        shown(&run).contains("ci-cd.yml, line 16"),
        "{}",
        shown(&run)
    );
}
