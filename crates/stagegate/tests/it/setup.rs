//! `setup`: plan, back up, apply, verify; idempotent; `--dry-run` writes nothing.

use coolify_client::{AutoDeploy, EnvVarInput};
use coolify_fake::FakeApplication;
use stagegate::backup::BackupLocation;
use stagegate::setup::{Change, SetupAction, SetupOptions, setup};
use stagegate::{DryRun, Exit};

use crate::support::Fixture;

/// Production deploys on push and builds `release`; staging lacks LOG_LEVEL.
async fn before_setup() -> Fixture {
    let fixture = Fixture::with_apps(
        FakeApplication::new("staging-app"),
        FakeApplication::new("production-app").git_branch("release"),
    )
    .await;
    fixture.read_sensitive();
    fixture.set(&fixture.staging, "ENVIRONMENT", "staging");
    fixture.set(&fixture.production, "ENVIRONMENT", "production");
    fixture.set(&fixture.production, "LOG_LEVEL", "DEBUG");
    fixture
}

fn kinds(changes: &[Change]) -> Vec<String> {
    changes
        .iter()
        .map(|change| match change {
            Change::AutoDeployOff { environment, .. } => format!("{environment} auto-deploy off"),
            Change::Branch {
                environment, to, ..
            } => format!("{environment} branch {to}"),
            Change::Image {
                environment, to, ..
            } => format!("{environment} image {to}"),
            Change::PreviewsOn { environment, .. } => format!("{environment} previews on"),
            Change::Variable {
                environment, write, ..
            } => format!("{environment} {:?} {}", write.kind, write.key),
        })
        .collect()
}

#[tokio::test]
async fn setup_plans_backs_up_applies_and_verifies() {
    let fixture = before_setup().await;
    let report = setup(&fixture.session(), &SetupOptions::default())
        .await
        .unwrap();

    assert_eq!(report.action, SetupAction::Applied);
    assert_eq!(
        kinds(&report.changes),
        [
            "staging Create LOG_LEVEL",
            "production auto-deploy off",
            "production branch main",
            "production Update LOG_LEVEL",
        ]
    );
    let production = fixture.fake.application(&fixture.production).unwrap();
    assert_eq!(production.is_auto_deploy_enabled(), Some(false));
    assert_eq!(production.git_branch.as_deref(), Some("main"));
    // Staging keeps deploying on push: only production's auto-deploy is setup's business.
    let staging = fixture.fake.application(&fixture.staging).unwrap();
    assert_eq!(staging.is_auto_deploy_enabled(), Some(true));
    let value = |app, key: &str| {
        fixture
            .fake
            .env_vars_of(app)
            .into_iter()
            .find(|variable| variable.key == key && !variable.is_preview)
            .and_then(|variable| variable.value)
    };
    assert_eq!(
        value(&fixture.staging, "LOG_LEVEL").as_deref(),
        Some("DEBUG")
    );
    assert_eq!(
        value(&fixture.production, "LOG_LEVEL").as_deref(),
        Some("INFO")
    );

    // Both apps were backed up, before the first write, where the report says.
    let mut reported = report.backups.clone();
    reported.sort();
    assert_eq!(reported, fixture.backups());
    assert_eq!(report.backups.len(), 2);
    let names: Vec<String> = report
        .backups
        .iter()
        .map(|path| path.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(names[0].starts_with("staging-") && names[1].starts_with("production-"));
    let production_backup: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report.backups[1]).unwrap()).unwrap();
    assert_eq!(production_backup["application"]["git_branch"], "release");
    assert_eq!(
        production_backup["application"]["settings"]["is_auto_deploy_enabled"],
        true
    );
    let requests = fixture.fake.requests();
    let first_write = requests.iter().position(|r| r.method() != "GET").unwrap();
    let last_version_read = requests
        .iter()
        .rposition(|r| r.path().ends_with("/version"))
        .unwrap();
    assert!(last_version_read < first_write, "backups come first");

    let text = report.to_string();
    assert!(text.contains("setup made and verified 4 changes"), "{text}");
    assert!(text.contains(".stagegate/backups/production-"), "{text}");
    assert!(
        fixture
            .stderr()
            .contains("plan: production (app production-app): turn auto-deploy off")
    );
}

#[tokio::test]
async fn a_second_setup_changes_nothing_and_says_so() {
    let fixture = before_setup().await;
    setup(&fixture.session(), &SetupOptions::default())
        .await
        .unwrap();
    let writes = fixture.writes().len();
    let backups = fixture.backups().len();

    let again = setup(&fixture.session(), &SetupOptions::default())
        .await
        .unwrap();

    assert_eq!(again.action, SetupAction::NothingToChange);
    assert!(again.changes.is_empty());
    assert_eq!(
        fixture.writes().len(),
        writes,
        "no request changed anything"
    );
    assert_eq!(
        fixture.backups().len(),
        backups,
        "no backup without a change"
    );
    assert!(again.to_string().contains("nothing to change"));
}

#[tokio::test]
async fn dry_run_prints_the_plan_and_writes_nothing() {
    let fixture = before_setup().await;
    let options = SetupOptions {
        dry_run: DryRun::Yes,
        backup: BackupLocation::Default,
    };
    let report = setup(&fixture.session(), &options).await.unwrap();

    assert_eq!(report.action, SetupAction::Planned);
    assert_eq!(report.changes.len(), 4);
    assert!(fixture.writes().is_empty(), "{:?}", fixture.writes());
    assert!(!fixture.root().join(".stagegate").exists());
    assert_eq!(
        fixture
            .fake
            .application(&fixture.production)
            .unwrap()
            .is_auto_deploy_enabled(),
        Some(true)
    );
    let text = report.to_string();
    assert!(
        text.starts_with("dry run: setup would make 4 changes"),
        "{text}"
    );
    assert!(
        text.contains("build branch main instead of release"),
        "{text}"
    );
}

#[tokio::test]
async fn hidden_values_are_reported_and_never_overwritten() {
    let fixture = Fixture::with_apps(
        FakeApplication::new("staging-app"),
        FakeApplication::new("production-app").auto_deploy(AutoDeploy::Disabled),
    )
    .await;
    // The default token cannot read values.
    for (app, environment) in [
        (&fixture.staging, "staging"),
        (&fixture.production, "production"),
    ] {
        fixture.set(app, "ENVIRONMENT", environment);
        fixture.set(app, "LOG_LEVEL", "TRACE");
    }

    let report = setup(&fixture.session(), &SetupOptions::default())
        .await
        .unwrap();

    assert_eq!(report.action, SetupAction::NothingToChange);
    assert_eq!(
        report.unknown,
        [
            "staging.ENVIRONMENT",
            "staging.LOG_LEVEL",
            "production.ENVIRONMENT",
            "production.LOG_LEVEL"
        ]
    );
    assert!(fixture.writes().is_empty());
    assert!(
        report
            .to_string()
            .contains("left as is, values hidden by Coolify")
    );
}

#[tokio::test]
async fn an_update_sends_the_full_flag_set_and_keeps_the_flags() {
    let fixture = before_setup().await;
    let mut literal = EnvVarInput::new("LOG_LEVEL", "WARN");
    literal.is_literal = true;
    literal.is_buildtime = false;
    fixture.fake.set_env_var(&fixture.staging, &literal);

    setup(&fixture.session(), &SetupOptions::default())
        .await
        .unwrap();

    let bulk = fixture
        .fake
        .requests_for_path(&format!("{}/envs/bulk", fixture.staging));
    assert_eq!(bulk.len(), 1);
    let item = &bulk[0].json().unwrap()["data"][0];
    assert_eq!(item["key"], "LOG_LEVEL");
    for (flag, expected) in [
        ("is_preview", false),
        ("is_literal", true),
        ("is_multiline", false),
        ("is_shown_once", false),
        ("is_runtime", true),
        ("is_buildtime", false),
    ] {
        assert_eq!(item[flag], expected, "{flag} in {item}");
    }
    let stored = fixture
        .fake
        .env_vars_of(&fixture.staging)
        .into_iter()
        .find(|variable| variable.key == "LOG_LEVEL" && !variable.is_preview)
        .unwrap();
    assert!(stored.is_literal && !stored.is_buildtime);
    assert_eq!(stored.value.as_deref(), Some("DEBUG"));
}

#[tokio::test]
async fn a_refused_write_fails_with_exit_1_after_the_backup() {
    let fixture = before_setup().await;
    fixture.fake.set_abilities(&[
        coolify_fake::Ability::Read,
        coolify_fake::Ability::ReadSensitive,
    ]);
    let directory = tempfile::tempdir().unwrap();
    let options = SetupOptions {
        dry_run: DryRun::No,
        backup: BackupLocation::Directory(directory.path().to_path_buf()),
    };

    let error = setup(&fixture.session(), &options).await.unwrap_err();

    assert_eq!(Exit::of(&error), Exit::Failed);
    let message = stagegate::exit::message(&error);
    assert!(
        message.starts_with("setup: staging variables: upsert"),
        "{message}"
    );
    assert!(message.contains("lacks the `write` ability"), "{message}");
    assert_eq!(std::fs::read_dir(directory.path()).unwrap().count(), 2);
}

#[tokio::test]
async fn a_preview_table_turns_preview_deployments_on_for_its_app_with_a_dry_run_first() {
    let fixture = Fixture::with_apps(
        FakeApplication::new("staging-app"),
        FakeApplication::new("production-app").auto_deploy(AutoDeploy::Disabled),
    )
    .await;
    fixture.read_sensitive();
    fixture.set(&fixture.staging, "ENVIRONMENT", "staging");
    fixture.set(&fixture.staging, "LOG_LEVEL", "DEBUG");
    fixture.set(&fixture.production, "ENVIRONMENT", "production");
    fixture.set(&fixture.production, "LOG_LEVEL", "INFO");
    // Without a [preview] table, previews are not setup's business.
    let report = setup(&fixture.session(), &SetupOptions::default())
        .await
        .unwrap();
    assert_eq!(report.action, SetupAction::NothingToChange);
    let config = fixture.root().join("deploy.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("{text}\n[preview]\n")).unwrap();

    let dry_run = SetupOptions {
        dry_run: DryRun::Yes,
        backup: BackupLocation::Default,
    };
    let planned = setup(&fixture.session(), &dry_run).await.unwrap();

    assert_eq!(planned.action, SetupAction::Planned);
    assert_eq!(kinds(&planned.changes), ["staging previews on"]);
    assert!(
        planned.to_string().contains(
            "staging (app staging-app): turn preview deployments on (now off), so that pull requests get previews"
        ),
        "{}",
        planned
    );
    assert!(fixture.writes().is_empty(), "{:?}", fixture.writes());
    let staging = fixture.fake.application(&fixture.staging).unwrap();
    assert_eq!(staging.previews_enabled(), Some(false));

    let applied = setup(&fixture.session(), &SetupOptions::default())
        .await
        .unwrap();

    assert_eq!(applied.action, SetupAction::Applied);
    let staging = fixture.fake.application(&fixture.staging).unwrap();
    assert_eq!(staging.previews_enabled(), Some(true));
    let production = fixture.fake.application(&fixture.production).unwrap();
    assert_eq!(
        production.previews_enabled(),
        Some(false),
        "only the preview app"
    );
    let again = setup(&fixture.session(), &SetupOptions::default())
        .await
        .unwrap();
    assert_eq!(again.action, SetupAction::NothingToChange);
}
