//! Raw HTTP against the fake, to read what `coolify-client` does not expose: headers, bodies
//! of entries without a deployment, answers of older versions.

use coolify_fake::FakeCoolify;

/// An HTTP client (the workspace builds reqwest without a default TLS provider; this one gets
/// one, though it only speaks plain http to loopback).
pub fn http() -> reqwest::ClientBuilder {
    let tls = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(rustls::RootCertStore::empty())
    .with_no_client_auth();
    reqwest::Client::builder().tls_backend_preconfigured(tls)
}

/// One answer: status, headers, and the body as JSON (a JSON string for a text body).
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: serde_json::Value,
}

impl Answer {
    /// A header's value as text, `""` when absent.
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
    }
}

/// Send `method path` with the fake's token and an optional JSON body.
pub async fn send(
    fake: &FakeCoolify,
    method: &str,
    path: &str,
    body: Option<serde_json::Value>,
) -> Answer {
    send_with_token(fake, coolify_fake::DEFAULT_TOKEN, method, path, body).await
}

/// [`send`] with another token.
pub async fn send_with_token(
    fake: &FakeCoolify,
    token: &str,
    method: &str,
    path: &str,
    body: Option<serde_json::Value>,
) -> Answer {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = http()
        .build()
        .unwrap()
        .request(method, format!("{}{path}", fake.base_url()))
        .bearer_auth(token)
        .header("accept", "application/json");
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
    Answer {
        status,
        headers,
        body,
    }
}
