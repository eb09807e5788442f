//! `workflows [--check]`: generated from the config, checked against the committed files.

use std::path::Path;

use stagegate::Exit;
use stagegate::workflows::{FileState, WorkflowsOptions, workflows};

use crate::support::Fixture;

#[tokio::test]
async fn check_fails_naming_the_file_until_the_workflows_are_written() {
    let fixture = Fixture::new().await;
    let session = fixture.session();

    let missing = workflows(&session, WorkflowsOptions::check()).unwrap_err();
    assert_eq!(Exit::of(&missing), Exit::Failed);
    let message = stagegate::exit::message(&missing);
    assert!(
        message
            .contains(".github/workflows/staging-deploy.yml is missing: run `stagegate workflows`"),
        "{message}"
    );

    let written = workflows(&session, WorkflowsOptions::write()).unwrap();
    assert!(
        written
            .files
            .iter()
            .all(|file| file.state == FileState::Written)
    );
    let same = workflows(&session, WorkflowsOptions::check()).unwrap();
    assert!(
        same.files
            .iter()
            .all(|file| file.state == FileState::Unchanged)
    );

    let rollback = fixture.root().join(".github/workflows/rollback.yml");
    let edited = std::fs::read_to_string(&rollback).unwrap() + "# hand edit\n";
    std::fs::write(&rollback, edited).unwrap();
    let differs = workflows(&session, WorkflowsOptions::check()).unwrap_err();
    let message = stagegate::exit::message(&differs);
    assert!(
        message.contains(".github/workflows/rollback.yml differs from what deploy.toml generates"),
        "{message}"
    );
    assert!(message.contains("`stagegate workflows`"), "{message}");
    // --check never writes.
    assert!(
        std::fs::read_to_string(&rollback)
            .unwrap()
            .ends_with("# hand edit\n")
    );
}

#[tokio::test]
async fn a_config_change_makes_the_committed_workflows_stale() {
    let fixture = Fixture::new().await;
    let session = fixture.session();
    workflows(&session, WorkflowsOptions::write()).unwrap();
    let config = fixture.root().join("deploy.toml");
    let text = std::fs::read_to_string(&config).unwrap().replacen(
        "[environments.staging]",
        "[tags]\nprefix = \"release-\"\n\n[environments.staging]",
        1,
    );
    std::fs::write(&config, text).unwrap();

    let message =
        stagegate::exit::message(&workflows(&session, WorkflowsOptions::check()).unwrap_err());
    assert!(
        message.contains("production-deploy.yml differs"),
        "{message}"
    );
    let report = workflows(&session, WorkflowsOptions::write()).unwrap();
    let written: Vec<&str> = report
        .files
        .iter()
        .filter(|file| file.state == FileState::Written)
        .map(|file| file.path.as_str())
        .collect();
    assert_eq!(written, [".github/workflows/production-deploy.yml"]);
}

/// The repository's own `deploy.toml` loads (it is the example the docs point at), and the
/// workflows committed beside it are what it generates.
#[test]
fn this_repository_commits_the_workflows_its_deploy_toml_generates() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let session = stagegate::Session::new(
        stagegate::ProcessEnv::default(),
        stagegate::output::Output::new(
            stagegate::output::Format::Text,
            stagegate::output::Verbosity::Quiet,
            stagegate::output::Style::Plain,
            &stagegate::ProcessEnv::default(),
            std::sync::Arc::new(std::sync::Mutex::new(Vec::new())),
            std::sync::Arc::new(std::sync::Mutex::new(Vec::new())),
        ),
    )
    .with_repo(&root);
    workflows(&session, WorkflowsOptions::check()).unwrap();
}

#[tokio::test]
async fn without_a_workflows_table_the_command_says_what_to_add() {
    let fixture = Fixture::new().await;
    let config = fixture.root().join("deploy.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    let without = text.split("[workflows]").next().unwrap().to_owned();
    std::fs::write(&config, without).unwrap();

    let error = workflows(&fixture.session(), WorkflowsOptions::write()).unwrap_err();

    assert_eq!(Exit::of(&error), Exit::BadInput);
    let message = stagegate::exit::message(&error);
    for words in [
        "has no [workflows] table",
        "preset = \"python-uv\"",
        "after = \"CI\"",
        "stagegate init --dry-run",
    ] {
        assert!(message.contains(words), "{message}");
    }
    assert!(!fixture.root().join(".github").exists());
}
