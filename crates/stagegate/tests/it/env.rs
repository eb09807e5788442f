//! `env diff` and `env sync`: preview copies, hidden values, the full flag set, `--prune`.

use coolify_client::EnvVarInput;
use stagegate::DryRun;
use stagegate::EnvironmentName;
use stagegate::backup::BackupLocation;
use stagegate::env::{KeyState, Prune, SyncAction, SyncOptions, WriteKind, diff, sync};

use crate::support::Fixture;

const STAGING: EnvironmentName = EnvironmentName::Staging;

/// Staging declares ENVIRONMENT, LOG_LEVEL and FEATURE_X; the app has ENVIRONMENT right,
/// LOG_LEVEL with another (secret-looking) value, no FEATURE_X, and an undeclared OLD_KEY.
async fn drifted() -> Fixture {
    let fixture = Fixture::new().await;
    fixture.write_config(
        r#"{ ENVIRONMENT = "staging", LOG_LEVEL = "declared-value-1", FEATURE_X = "on" }"#,
        r#"{ ENVIRONMENT = "production" }"#,
    );
    fixture.set(&fixture.staging, "ENVIRONMENT", "staging");
    fixture.set(&fixture.staging, "LOG_LEVEL", "live-secret-2");
    fixture.set(&fixture.staging, "OLD_KEY", "live-secret-3");
    fixture
}

fn states(report: &stagegate::env::EnvDiff) -> Vec<(&str, KeyState)> {
    assert_eq!(report.apps.len(), 1);
    report.apps[0]
        .keys
        .iter()
        .map(|diff| (diff.key.as_str(), diff.state))
        .collect()
}

#[tokio::test]
async fn diff_dedupes_preview_copies_and_never_prints_values() {
    let fixture = drifted().await;
    fixture.read_sensitive();
    // Coolify lists every key twice: the variable and its preview copy.
    assert_eq!(fixture.fake.env_vars_of(&fixture.staging).len(), 6);

    let report = diff(&fixture.session(), STAGING).await.unwrap();

    assert_eq!(
        states(&report),
        [
            ("ENVIRONMENT", KeyState::Same),
            ("FEATURE_X", KeyState::Missing),
            ("LOG_LEVEL", KeyState::Differs),
            ("OLD_KEY", KeyState::Extra),
        ]
    );
    let text = report.to_string();
    assert!(text.contains("~ LOG_LEVEL differs"), "{text}");
    assert!(text.contains("+ FEATURE_X missing"), "{text}");
    assert!(text.contains("- OLD_KEY extra"), "{text}");
    let json = serde_json::to_string(&report).unwrap();
    for secret in ["declared-value-1", "live-secret-2", "live-secret-3"] {
        assert!(!text.contains(secret) && !json.contains(secret), "{secret}");
    }
    assert!(fixture.writes().is_empty());
}

#[tokio::test]
async fn hidden_values_are_unknown_and_sync_leaves_them() {
    let fixture = drifted().await;
    // The default token lacks read:sensitive: no value comes back.

    let report = diff(&fixture.session(), STAGING).await.unwrap();
    assert_eq!(
        states(&report),
        [
            ("ENVIRONMENT", KeyState::Unknown),
            ("FEATURE_X", KeyState::Missing),
            ("LOG_LEVEL", KeyState::Unknown),
            ("OLD_KEY", KeyState::Extra),
        ]
    );
    assert!(report.to_string().contains("? LOG_LEVEL unknown"));

    let synced = sync(&fixture.session(), &SyncOptions::new(STAGING))
        .await
        .unwrap();
    assert_eq!(synced.action, SyncAction::Applied);
    let written: Vec<&str> = synced.apps[0]
        .writes
        .iter()
        .map(|w| w.key.as_str())
        .collect();
    assert_eq!(written, ["FEATURE_X"]);
    assert_eq!(synced.apps[0].unknown, ["ENVIRONMENT", "LOG_LEVEL"]);
    assert_eq!(synced.apps[0].kept, ["OLD_KEY"]);
    let live = fixture
        .fake
        .env_vars_of(&fixture.staging)
        .into_iter()
        .find(|variable| variable.key == "LOG_LEVEL" && !variable.is_preview)
        .unwrap();
    assert_eq!(
        live.value.as_deref(),
        Some("live-secret-2"),
        "never overwritten blindly"
    );
}

#[tokio::test]
async fn sync_backs_up_then_upserts_with_the_full_flag_set_and_verifies() {
    let fixture = drifted().await;
    fixture.read_sensitive();
    let mut multiline = EnvVarInput::new("LOG_LEVEL", "live-secret-2");
    multiline.is_multiline = true;
    multiline.is_literal = true;
    multiline.comment = Some("kept".to_owned());
    fixture.fake.set_env_var(&fixture.staging, &multiline);

    let report = sync(&fixture.session(), &SyncOptions::new(STAGING))
        .await
        .unwrap();

    assert_eq!(report.action, SyncAction::Applied);
    let writes: Vec<(WriteKind, &str)> = report.apps[0]
        .writes
        .iter()
        .map(|write| (write.kind, write.key.as_str()))
        .collect();
    assert_eq!(
        writes,
        [
            (WriteKind::Create, "FEATURE_X"),
            (WriteKind::Update, "LOG_LEVEL")
        ]
    );
    // The backup was written first, without values.
    let backup = report.backup.clone().unwrap();
    assert_eq!(fixture.backups(), std::slice::from_ref(&backup));
    let text = std::fs::read_to_string(&backup).unwrap();
    assert!(!text.contains("live-secret-2"));

    let bulk = fixture.fake.requests_for_path("/envs/bulk");
    assert_eq!(bulk.len(), 1);
    let body = bulk[0].json().unwrap();
    for item in body["data"].as_array().unwrap() {
        for flag in [
            "is_preview",
            "is_literal",
            "is_multiline",
            "is_shown_once",
            "is_runtime",
            "is_buildtime",
        ] {
            assert!(item[flag].is_boolean(), "{flag} missing in {item}");
        }
    }
    let update = &body["data"][1];
    assert_eq!(update["is_multiline"], true);
    assert_eq!(update["is_literal"], true);
    assert_eq!(update["comment"], "kept");
    let live = fixture
        .fake
        .env_vars_of(&fixture.staging)
        .into_iter()
        .find(|variable| variable.key == "LOG_LEVEL" && !variable.is_preview)
        .unwrap();
    assert_eq!(live.value.as_deref(), Some("declared-value-1"));
    assert!(live.is_multiline && live.is_literal);
    // Each write was printed, without its value.
    let stderr = fixture.stderr();
    assert!(stderr.contains("staging: create FEATURE_X"), "{stderr}");
    assert!(
        stderr.contains("staging: update LOG_LEVEL: value differs"),
        "{stderr}"
    );
    assert!(!stderr.contains("declared-value-1") && !stderr.contains("live-secret"));
    assert!(
        fixture
            .fake
            .requests_for_path("/envs/")
            .iter()
            .all(|r| r.method() != "DELETE")
    );

    let again = sync(&fixture.session(), &SyncOptions::new(STAGING))
        .await
        .unwrap();
    assert_eq!(again.action, SyncAction::NothingToChange);
    assert_eq!(fixture.backups().len(), 1);
}

#[tokio::test]
async fn only_prune_deletes_and_it_deletes_both_copies() {
    let fixture = drifted().await;
    fixture.read_sensitive();
    sync(&fixture.session(), &SyncOptions::new(STAGING))
        .await
        .unwrap();
    assert!(
        fixture
            .writes()
            .iter()
            .all(|write| !write.starts_with("DELETE"))
    );

    let options = SyncOptions {
        prune: Prune::Yes,
        ..SyncOptions::new(STAGING)
    };
    let report = sync(&fixture.session(), &options).await.unwrap();

    let deletes: Vec<(&str, bool)> = report.apps[0]
        .writes
        .iter()
        .map(|write| (write.key.as_str(), write.is_preview))
        .collect();
    assert_eq!(deletes, [("OLD_KEY", false), ("OLD_KEY", true)]);
    assert_eq!(
        fixture
            .writes()
            .iter()
            .filter(|write| write.starts_with("DELETE"))
            .count(),
        2
    );
    assert!(
        fixture
            .fake
            .env_vars_of(&fixture.staging)
            .iter()
            .all(|variable| variable.key != "OLD_KEY")
    );
    assert!(diff(&fixture.session(), STAGING).await.unwrap().is_clean());
}

#[tokio::test]
async fn dry_run_sync_writes_nothing() {
    let fixture = drifted().await;
    fixture.read_sensitive();
    let directory = tempfile::tempdir().unwrap();
    let options = SyncOptions {
        environment: STAGING,
        prune: Prune::Yes,
        dry_run: DryRun::Yes,
        backup: BackupLocation::Directory(directory.path().join("backups")),
    };

    let report = sync(&fixture.session(), &options).await.unwrap();

    assert_eq!(report.action, SyncAction::Planned);
    assert_eq!(report.apps[0].writes.len(), 4);
    assert!(fixture.writes().is_empty());
    assert!(!directory.path().join("backups").exists());
    let text = report.to_string();
    assert!(
        text.starts_with("dry run: would make 4 writes to staging"),
        "{text}"
    );
    assert!(text.contains("delete OLD_KEY (preview copy)"), "{text}");
}
