//! Adopting stagegate through the built binary: `init` in CI asks nothing, and
//! `docs/ADOPTING.md` runs command by command from nothing to a verified release.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use coolify_fake::FakeApplication;
use stagegate_tests::adopting::{THEIR_PR_VALIDATION, python_world};
use stagegate_tests::{Env, TOKEN, World, workspace_root};

/// Run the built binary in the world's repository, as a user at a shell with the two
/// variables exported.
async fn stagegate(world: &World, arguments: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_stagegate"));
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
    let world = python_world().await.unwrap();
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
    let world = python_world().await.unwrap();
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
    // The second `setup`, once staging-deploy.yml exists, turns staging's auto-deploy off.
    let setups: Vec<&String> = ran
        .iter()
        .filter(|(line, _)| line == "stagegate setup")
        .map(|(_, out)| out)
        .collect();
    assert_eq!(setups.len(), 2, "{ran:?}");
    assert!(
        setups[0].contains("staging's auto-deploy is still on"),
        "{}",
        setups[0]
    );
    let staging_app = world.fake.application(&world.app(Env::Staging)).unwrap();
    assert_eq!(staging_app.is_auto_deploy_enabled(), Some(false));
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

/// The health handlers `init` prints (`src/health_endpoint.rs`, their code in
/// `src/health_endpoint/`) are in the adoption guide as they are in the crate, under the same
/// titles.
#[test]
fn the_adoption_guide_shows_every_health_handler_as_init_prints_it() {
    let guide = std::fs::read_to_string(workspace_root().join("docs/ADOPTING.md")).unwrap();
    let crate_root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let source = std::fs::read_to_string(crate_root.join("src/health_endpoint.rs")).unwrap();
    let titles: Vec<&str> = source
        .lines()
        .filter_map(|line| line.trim().strip_prefix("title: \""))
        .filter_map(|rest| rest.strip_suffix("\","))
        .collect();
    let codes: Vec<&str> = source
        .lines()
        .filter_map(|line| line.trim().strip_prefix("code: include_str!(\""))
        .filter_map(|rest| rest.strip_suffix("\"),"))
        .collect();
    assert_eq!(titles.len(), 4, "{titles:?}");
    assert_eq!(codes.len(), titles.len(), "{codes:?}");
    for (title, file) in titles.iter().zip(&codes) {
        assert!(guide.contains(title), "ADOPTING.md lacks {title}");
        let code = std::fs::read_to_string(crate_root.join("src").join(file)).unwrap();
        assert!(
            guide.contains(&code),
            "ADOPTING.md's {title} differs from src/{file}"
        );
    }
}
