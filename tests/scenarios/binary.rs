//! Through the built `stagegate` binary: exit codes, `--format json` and `--help` as a user or
//! CI sees them. The fake and the health servers run in this process on a multi-thread
//! runtime; the child gets only `COOLIFY_URL`, `COOLIFY_TOKEN` and what a process needs.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use stagegate_tests::{TOKEN, TOKEN_NEEDLE, World, stagegate_binary};

/// Run the binary in `directory` with `arguments` and a clean environment.
async fn stagegate(world: Option<&World>, directory: &Path, arguments: &[&str]) -> Output {
    let binary = stagegate_binary().unwrap();
    let mut command = Command::new(binary);
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
            .env("COOLIFY_TOKEN", TOKEN);
    }
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
