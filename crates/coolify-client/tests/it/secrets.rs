//! No environment variable value reaches `Debug`, an error's `Display` or a log line.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use coolify_client::{EnvVarInput, RetryPolicy};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::calls::{APP, ENV, app, client_with};

const VALUE: &str = "postgres://user:VALUE-SENTINEL@db/app";

/// Everything the fmt subscriber writes, at every level.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[tokio::test]
async fn env_values_never_reach_debug_errors_or_logs() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    // Global rather than scoped: a scoped subscriber misses events whose callsite another test's
    // thread registered first. Every test of this binary then logs here, which only widens the
    // check; no other test installs a subscriber.
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let server = MockServer::start().await;
    let envs = format!("/api/v1/applications/{APP}/envs");
    Mock::given(method("POST"))
        .and(path(envs.as_str()))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"uuid": ENV})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path(envs.as_str()))
        .respond_with(ResponseTemplate::new(422).set_body_json(json!({
            "message": "Validation failed.", "errors": {"value": ["The value is invalid."]}
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path(format!("{envs}/bulk")))
        .respond_with(ResponseTemplate::new(502).set_body_string("<html>502 Bad Gateway</html>"))
        .expect(1)
        .mount(&server)
        .await;
    let client = client_with(&server.uri(), RetryPolicy::none(), Duration::from_secs(5));
    let input = EnvVarInput::new("DATABASE_URL", VALUE);

    client.create_env_var(&app(), &input).await.unwrap();
    let rejected = client.update_env_var(&app(), &input).await.unwrap_err();
    let failed = client
        .upsert_env_vars(&app(), std::slice::from_ref(&input))
        .await
        .unwrap_err();

    for text in [
        format!("{input:?}"),
        rejected.to_string(),
        format!("{rejected:?}"),
        failed.to_string(),
        format!("{failed:?}"),
    ] {
        assert!(!text.contains("VALUE-SENTINEL"), "value in {text}");
    }
    let logs = captured.text();
    assert!(
        logs.contains("DATABASE_URL"),
        "the logs name the key: {logs}"
    );
    assert!(
        !logs.contains("VALUE-SENTINEL"),
        "value in the logs: {logs}"
    );
}
