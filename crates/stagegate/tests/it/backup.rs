//! `backup`: one JSON document, redacted by default, never the token.

use coolify_client::EnvVarInput;
use stagegate::EnvironmentName;
use stagegate::backup::{BackupOptions, Values, backup};

use crate::support::{Fixture, TOKEN};

async fn with_secrets() -> Fixture {
    let fixture = Fixture::new().await;
    fixture.read_sensitive();
    fixture.set(
        &fixture.production,
        "DATABASE_URL",
        "postgres://user:hunter2@db/app",
    );
    let mut locked = EnvVarInput::new("API_KEY", "locked-secret-value");
    locked.is_shown_once = true;
    fixture.fake.set_env_var(&fixture.production, &locked);
    fixture
}

#[tokio::test]
async fn a_default_backup_holds_no_value_secret_or_token() {
    let fixture = with_secrets().await;
    let path = fixture.root().join("out/production.json");
    let options = BackupOptions {
        environment: EnvironmentName::Production,
        output: Some(path.clone()),
        values: Values::Redacted,
    };

    let report = backup(&fixture.session(), &options).await.unwrap();

    let text = std::fs::read_to_string(&path).unwrap();
    for secret in [
        "hunter2",
        "locked-secret-value",
        "fake-webhook-secret",
        TOKEN,
        "stagegate-test-token",
    ] {
        assert!(!text.contains(secret), "{secret} leaked into the backup");
    }
    let document: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(document["coolify_version"], "4.3.11");
    assert_eq!(document["stagegate_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(document["environment"], "production");
    let created = document["created_at"].as_str().unwrap();
    assert!(humantime::parse_rfc3339(created).is_ok(), "{created}");
    assert_eq!(document["application"]["uuid"], "production-app");
    assert_eq!(
        document["application"]["ports_exposes"], "3000",
        "extra fields kept"
    );
    assert_eq!(
        document["application"]["manual_webhook_secret_github"],
        "[redacted]"
    );
    assert_eq!(
        document["redacted_fields"][0],
        "manual_webhook_secret_github"
    );
    let variables = document["variables"].as_array().unwrap();
    assert_eq!(variables.len(), 4, "both copies of both keys");
    for variable in variables {
        assert_eq!(variable["value"], serde_json::Value::Null);
    }
    let database = &variables[0];
    assert_eq!(database["key"], "DATABASE_URL");
    assert_eq!(database["value_state"], "redacted");
    assert_eq!(
        variables[1]["value_state"], "hidden",
        "a locked value is never returned"
    );
    assert_eq!(report.path.as_deref(), Some(path.as_path()));
    assert!(report.to_string().contains("values redacted) to "));
}

#[tokio::test]
async fn include_values_keeps_what_the_token_can_read() {
    let fixture = with_secrets().await;
    let options = BackupOptions {
        environment: EnvironmentName::Production,
        output: None,
        values: Values::Included,
    };

    let report = backup(&fixture.session(), &options).await.unwrap();

    let text = report.document().unwrap();
    assert!(text.contains("postgres://user:hunter2@db/app"));
    assert!(!text.contains("locked-secret-value"));
    assert!(!text.contains(TOKEN));
    // The locked variable and its preview copy.
    assert_eq!(report.backups[0].variables[1].key, "API_KEY");
    assert!(report.backups[0].redacted_fields.is_empty());
    assert!(
        report.to_string().contains("2 hidden by Coolify"),
        "{report}"
    );
    assert!(!fixture.root().join(".stagegate").exists(), "stdout only");
}

#[tokio::test]
async fn without_read_sensitive_values_are_hidden_even_when_asked() {
    let fixture = with_secrets().await;
    fixture.fake.set_abilities(&[coolify_fake::Ability::Read]);
    let options = BackupOptions {
        environment: EnvironmentName::Production,
        output: None,
        values: Values::Included,
    };

    let report = backup(&fixture.session(), &options).await.unwrap();

    assert!(
        report.backups[0]
            .variables
            .iter()
            .all(|variable| variable.value.is_none())
    );
    assert!(!report.document().unwrap().contains("hunter2"));
}
