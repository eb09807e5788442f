//! Adopting stagegate in a team's existing repository: `init` against the fake Coolify, the
//! workflows for the repository's own language, the team's own files left alone, the old
//! pipeline that still deploys production found, and `docs/ADOPTING.md` run command by command
//! through the built binary.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use coolify_client::EnvVarInput;
use coolify_fake::FakeApplication;
use stagegate::Exit;
use stagegate::config::Preset;
use stagegate::init::{InitOptions, InitReport, Overwrite, Questions, Written, init_with};
use stagegate::prompt::Ask;
use stagegate::workflows::{FileState, WorkflowsOptions, workflows};
use stagegate_tests::{
    Env, PRODUCTION_APP, Run, STAGING_APP, TOKEN, World, stagegate_binary, workspace_root,
};

/// The team's own pull-request checks, which stagegate must never touch.
const THEIR_PR_VALIDATION: &str = "name: PR validation\n\non:\n  pull_request:\n    branches: [main]\n\npermissions:\n  contents: read\n\njobs:\n  checks:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1\n        with:\n          persist-credentials: false\n      - run: pipx run uv run pytest\n      - run: pipx run bandit -r src\n      - run: pipx run ruff check\n      - run: pipx run actionlint\n";

/// Their old pipeline: both apps deployed on every push to main.
const THEIR_CI_CD: &str = "name: CI/CD\n\non:\n  push:\n    branches: [main]\n\njobs:\n  deploy:\n    runs-on: ubuntu-latest\n    steps:\n      - name: Deploy staging\n        run: curl -fsS \"$COOLIFY_URL/api/v1/deploy?uuid=staging-app\" -H \"Authorization: Bearer $TOKEN\"\n        env:\n          TOKEN: ${{ secrets.COOLIFY_TOKEN }}\n      - name: Deploy production\n        run: curl -fsS \"$COOLIFY_URL/api/v1/deploy?uuid=production-app\" -H \"Authorization: Bearer $TOKEN\"\n        env:\n          TOKEN: ${{ secrets.COOLIFY_TOKEN }}\n";

/// A Python (uv) service with its own PR checks and the old pipeline, committed.
async fn python_world() -> World {
    let world = World::adopting().await.unwrap();
    let repo = &world.repo;
    repo.commit_file(
        "pyproject.toml",
        "[project]\nname = \"api\"\nversion = \"0.1.0\"\ndependencies = [\"fastapi>=0.115\"]\n",
        "feat: the service",
    )
    .unwrap();
    repo.commit_file("uv.lock", "version = 1\n", "chore: lock")
        .unwrap();
    repo.commit_file(
        ".gitignore",
        "__pycache__/\n.venv\n",
        "chore: ignore caches",
    )
    .unwrap();
    repo.commit_file(
        ".github/workflows/pr-validation.yml",
        THEIR_PR_VALIDATION,
        "ci: checks",
    )
    .unwrap();
    repo.commit_file(".github/workflows/ci-cd.yml", THEIR_CI_CD, "ci: deploy")
        .unwrap();
    world
}

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
    let world = python_world().await;
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
    stagegate::config::Config::parse(
        &config,
        Path::new("deploy.toml"),
        &stagegate::environment::Environment::default(),
    )
    .unwrap();
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
        run.requests.iter().all(|request| request.method == "GET"),
        "init only reads Coolify"
    );
    world.assert_token_never_leaked();
}

#[tokio::test]
async fn an_unclear_role_asks_on_a_terminal_and_otherwise_names_the_flag() {
    let world = python_world().await;
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
    let world = python_world().await;
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
    let world = python_world().await;
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
    let world = python_world().await;
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
        let world = python_world().await;
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
    let world = python_world().await;
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

/// Run the built binary in the world's repository, as a user at a shell with the two
/// variables exported.
async fn stagegate(world: &World, arguments: &[&str]) -> Output {
    let mut command = Command::new(stagegate_binary().unwrap());
    command
        .args(arguments)
        .current_dir(world.root())
        .env_clear()
        .env("COOLIFY_URL", world.fake.base_url())
        .env("COOLIFY_TOKEN", TOKEN)
        .env("CI", "true")
        .stdin(Stdio::null());
    for name in ["PATH", "HOME", "SYSTEMROOT"] {
        if let Some(value) = std::env::var_os(name) {
            command.env(name, value);
        }
    }
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .unwrap();
    world.record(&String::from_utf8_lossy(&output.stdout));
    world.record(&String::from_utf8_lossy(&output.stderr));
    output
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_ci_init_asks_nothing_and_names_the_missing_flag() {
    let world = python_world().await;
    world.fake.add_application(
        FakeApplication::new("preview-app")
            .name("api-preview")
            .git_repository("https://github.com/acme/api.git")
            .environment("API", "staging"),
    );

    let output = stagegate(&world, &["init"]).await;

    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let last = stderr.lines().last().unwrap_or_default();
    assert!(
        last.contains("error: init: cannot tell which app is staging: pass --staging APP"),
        "{stderr}"
    );
    assert!(!world.root().join("deploy.toml").exists());
    world.assert_token_never_leaked();
}

/// The `stagegate ...` lines of the guide's shell blocks, in order.
fn guide_commands() -> Vec<String> {
    let guide = std::fs::read_to_string(workspace_root().join("docs/ADOPTING.md")).unwrap();
    let mut commands = Vec::new();
    let mut in_shell = false;
    for line in guide.lines() {
        if line.starts_with("```") {
            in_shell = line == "```sh";
            continue;
        }
        if in_shell && line.starts_with("stagegate ") {
            commands.push(line.to_owned());
        }
    }
    commands
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_adoption_guide_runs_from_nothing_to_a_verified_release() {
    let world = python_world().await;
    let commands = guide_commands();
    assert!(commands.len() >= 10, "{commands:?}");

    let mut ran = Vec::new();
    for line in &commands {
        if line.starts_with("stagegate deploy staging") {
            // "Commit deploy.toml, .gitignore and .github/workflows/, and push to main."
            world.repo.commit_all("chore: adopt stagegate").unwrap();
        }
        let arguments: Vec<&str> = line.split_whitespace().skip(1).collect();
        let output = stagegate(&world, &arguments).await;
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert_eq!(
            output.status.code(),
            Some(0),
            "`{line}` failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        ran.push((line.clone(), stdout));
    }

    let printed = |prefix: &str| {
        ran.iter()
            .find(|(line, _)| line.starts_with(prefix))
            .map(|(_, out)| out.clone())
            .unwrap()
    };
    let dry_run = printed("stagegate init --dry-run");
    assert!(dry_run.contains("(dry run: not written)"), "{dry_run}");
    assert!(printed("stagegate setup --dry-run").contains("ci-cd.yml, line 16"));
    assert!(printed("stagegate workflows --dry-run").contains("+name: Staging deploy"));
    assert!(
        printed("stagegate status")
            .contains("warning: .github/workflows/ci-cd.yml, line 16, still deploys production"),
        "status names the old pipeline"
    );
    assert_eq!(
        std::fs::read_to_string(world.root().join(".github/workflows/pr-validation.yml")).unwrap(),
        THEIR_PR_VALIDATION
    );
    assert!(world.root().join(".stagegate/staging.json").is_file());
    assert_eq!(
        world
            .repo
            .git()
            .status_file(Path::new(".stagegate/staging.json"))
            .unwrap(),
        git2::Status::IGNORED
    );
    let production = world.fake.application(&world.app(Env::Production)).unwrap();
    assert_eq!(production.is_auto_deploy_enabled(), Some(false));
    assert_eq!(world.pushed_tags(), ["v0.1.0"]);
    assert_eq!(
        production.pinned_commit().map(str::to_owned),
        Some(world.repo.resolve("v0.1.0").unwrap())
    );
    world.assert_token_never_leaked();
}
