//! `setup`, `env` and `backup` over an environment with several apps: every app is planned,
//! backed up, written and verified, with the environment's variables and its own.

use coolify_client::ApplicationUuid;
use coolify_fake::FakeApplication;
use stagegate::EnvironmentName;
use stagegate::backup::{BackupOptions, Values, backup};
use stagegate::env::{KeyState, SyncAction, SyncOptions, diff, sync};
use stagegate::setup::{SetupAction, SetupOptions, setup};

use crate::support::Fixture;

/// A fixture whose staging and production each run a web app and a worker on `develop`; the
/// workers declare `ROLE = "worker"` on top of the environment's variables.
async fn two_apps() -> (Fixture, ApplicationUuid, ApplicationUuid) {
    let fixture = Fixture::with_apps(
        FakeApplication::new("staging-app").git_branch("develop"),
        FakeApplication::new("production-app").git_branch("develop"),
    )
    .await;
    let staging_worker = fixture
        .fake
        .add_application(FakeApplication::new("staging-worker").git_branch("develop"));
    let production_worker = fixture
        .fake
        .add_application(FakeApplication::new("production-worker").git_branch("develop"));
    let text = format!(
        r#"[coolify]
url = "{url}"

[environments.staging]
env = {{ ENVIRONMENT = "staging" }}
apps = [
  {{ app = "{staging}", name = "web", health_url = "http://127.0.0.1:9/healthz" }},
  {{ app = "{staging_worker}", name = "worker", env = {{ ROLE = "worker" }} }},
]

[environments.production]
env = {{ ENVIRONMENT = "production" }}

[[environments.production.apps]]
app = "{production}"
name = "web"
health_url = "http://127.0.0.1:9/production/healthz"

[[environments.production.apps]]
app = "{production_worker}"
name = "worker"
env = {{ ROLE = "worker" }}
"#,
        url = fixture.fake.base_url(),
        staging = fixture.staging,
        production = fixture.production,
    );
    std::fs::write(fixture.root().join("deploy.toml"), text).unwrap();
    fixture.read_sensitive();
    (fixture, staging_worker, production_worker)
}

fn variables(fixture: &Fixture, app: &ApplicationUuid) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = fixture
        .fake
        .env_vars_of(app)
        .into_iter()
        .filter(|variable| !variable.is_preview)
        .map(|variable| {
            (
                variable.key.clone(),
                variable.value.clone().unwrap_or_default(),
            )
        })
        .collect();
    pairs.sort();
    pairs
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
        .collect()
}

#[tokio::test]
async fn setup_configures_every_app_of_both_environments() {
    let (fixture, staging_worker, production_worker) = two_apps().await;

    let report = setup(&fixture.session(), &SetupOptions::default())
        .await
        .unwrap();

    assert_eq!(report.action, SetupAction::Applied);
    for app in [
        &fixture.staging,
        &staging_worker,
        &fixture.production,
        &production_worker,
    ] {
        let application = fixture.fake.application(app).unwrap();
        assert_eq!(application.git_branch.as_deref(), Some("main"), "{app}");
    }
    for app in [&fixture.production, &production_worker] {
        let application = fixture.fake.application(app).unwrap();
        assert_eq!(application.is_auto_deploy_enabled(), Some(false), "{app}");
    }
    assert_eq!(
        variables(&fixture, &fixture.staging),
        pairs(&[("ENVIRONMENT", "staging")])
    );
    assert_eq!(
        variables(&fixture, &staging_worker),
        pairs(&[("ENVIRONMENT", "staging"), ("ROLE", "worker")])
    );
    assert_eq!(
        variables(&fixture, &production_worker),
        pairs(&[("ENVIRONMENT", "production"), ("ROLE", "worker")])
    );
    // One backup per environment, each holding every app of it.
    assert_eq!(report.backups.len(), 2);
    for path in &report.backups {
        let document: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        assert_eq!(document.as_array().map(Vec::len), Some(2), "{document}");
    }

    let again = setup(&fixture.session(), &SetupOptions::default())
        .await
        .unwrap();
    assert_eq!(again.action, SetupAction::NothingToChange);
}

#[tokio::test]
async fn env_diff_and_sync_cover_every_app_with_its_own_variables() {
    let (fixture, staging_worker, _) = two_apps().await;
    fixture.set(&fixture.staging, "ENVIRONMENT", "staging");
    fixture.set(&staging_worker, "ENVIRONMENT", "staging");

    let report = diff(&fixture.session(), EnvironmentName::Staging)
        .await
        .unwrap();

    assert_eq!(report.apps.len(), 2);
    assert!(report.apps[0].is_clean());
    assert_eq!(
        report.apps[1]
            .keys_in(KeyState::Missing)
            .collect::<Vec<_>>(),
        ["ROLE"]
    );
    assert!(!report.is_clean());
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["app"], fixture.staging.as_str());
    assert_eq!(json["apps"][1]["keys"][1]["key"], "ROLE");
    let text = report.to_string();
    assert!(
        text.contains(&format!(
            "staging web (app {}): all 1 declared variables match",
            fixture.staging
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("staging worker (app {staging_worker}): 1 declared variables match; the others:\n  + ROLE missing")),
        "{text}"
    );

    let synced = sync(
        &fixture.session(),
        &SyncOptions::new(EnvironmentName::Staging),
    )
    .await
    .unwrap();

    assert_eq!(synced.action, SyncAction::Applied);
    assert!(synced.apps[0].writes.is_empty());
    assert_eq!(synced.apps[1].writes.len(), 1);
    let json = serde_json::to_value(&synced).unwrap();
    assert_eq!(json["writes"], serde_json::json!([]));
    assert_eq!(json["apps"][1]["writes"][0]["key"], "ROLE");
    assert_eq!(
        variables(&fixture, &staging_worker),
        pairs(&[("ENVIRONMENT", "staging"), ("ROLE", "worker")])
    );
    assert_eq!(
        variables(&fixture, &fixture.staging),
        pairs(&[("ENVIRONMENT", "staging")])
    );
    // Nothing was written to production.
    assert!(
        fixture
            .writes()
            .iter()
            .all(|write| !write.contains("production")),
        "{:?}",
        fixture.writes()
    );
}

#[tokio::test]
async fn backup_writes_every_app_of_the_environment() {
    let (fixture, _, production_worker) = two_apps().await;
    let path = fixture.root().join("production.json");

    let report = backup(
        &fixture.session(),
        &BackupOptions {
            environment: EnvironmentName::Production,
            output: Some(path.clone()),
            values: Values::Redacted,
        },
    )
    .await
    .unwrap();

    let uuids: Vec<&str> = report
        .backups
        .iter()
        .map(|backup| backup.application["uuid"].as_str().unwrap())
        .collect();
    assert_eq!(
        uuids,
        [fixture.production.as_str(), production_worker.as_str()]
    );
    let document: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(
        document[1]["application"]["uuid"],
        production_worker.as_str()
    );
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(
        json["backup"]["application"]["uuid"],
        fixture.production.as_str()
    );
    assert_eq!(
        json["backups"][1]["application"]["uuid"],
        production_worker.as_str()
    );
    let text = report.to_string();
    assert!(
        text.contains(&format!("backed up production app {production_worker}")),
        "{text}"
    );
}

#[tokio::test]
async fn setup_sets_an_image_apps_image_and_leaves_its_branch_alone() {
    let fixture = Fixture::with_apps(
        FakeApplication::new("staging-app").docker_image("ghcr.io/acme/old", "1.0.0"),
        FakeApplication::new("production-app").git_branch("develop"),
    )
    .await;
    let text = format!(
        r#"[coolify]
url = "{url}"

[environments.staging]
app = "{staging}"
health_url = "http://127.0.0.1:9/healthz"
image = "ghcr.io/acme/api"

[environments.production]
app = "{production}"
health_url = "http://127.0.0.1:9/production/healthz"
"#,
        url = fixture.fake.base_url(),
        staging = fixture.staging,
        production = fixture.production,
    );
    std::fs::write(fixture.root().join("deploy.toml"), text).unwrap();

    let report = setup(&fixture.session(), &SetupOptions::default())
        .await
        .unwrap();

    assert_eq!(report.action, SetupAction::Applied);
    let staging = fixture.fake.application(&fixture.staging).unwrap();
    assert_eq!(
        staging.docker_registry_image_name.as_deref(),
        Some("ghcr.io/acme/api")
    );
    assert!(staging.is_image_app());
    let text = report.to_string();
    assert!(
        text.contains(
            "staging (app staging-app): run image ghcr.io/acme/api instead of ghcr.io/acme/old"
        ),
        "{text}"
    );
    assert!(
        !text.contains("staging (app staging-app): build branch"),
        "{text}"
    );
    let production = fixture.fake.application(&fixture.production).unwrap();
    assert_eq!(production.git_branch.as_deref(), Some("main"));
}
