//! A local app per environment whose health endpoint reports the commit it runs.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// How a health server behaves after a deployment finishes and when asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum HealthMode {
    /// Report the new commit a moment after each finished deployment.
    #[default]
    Follows,
    /// Keep reporting the commit it ran before, whatever Coolify deployed.
    StaysOnOld,
    /// Follow deployments but report the other environment's name.
    WrongEnvironment,
    /// Answer every request with `500`.
    Fails,
    /// Read each request and never answer it.
    Hangs,
    /// Follow deployments, and echo the request (headers included) in a `request` field, as
    /// some debugging endpoints do.
    EchoesRequest,
}

#[derive(Debug)]
struct State {
    environment: &'static str,
    commit: String,
    mode: HealthMode,
    switch_over: Duration,
    hits: usize,
}

/// A health server on loopback, answering `{"commit": .., "environment": ..}`.
#[derive(Debug, Clone)]
pub struct HealthServer {
    url: String,
    state: Arc<Mutex<State>>,
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

impl HealthServer {
    /// Start one for `environment` (`staging` or `production`) on the current runtime.
    ///
    /// # Errors
    ///
    /// When no loopback port can be bound.
    pub async fn start(environment: &'static str, switch_over: Duration) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let url = format!("http://{}/healthz", listener.local_addr()?);
        let state = Arc::new(Mutex::new(State {
            environment,
            commit: String::new(),
            mode: HealthMode::Follows,
            switch_over,
            hits: 0,
        }));
        let shared = Arc::clone(&state);
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                tokio::spawn(answer(stream, Arc::clone(&shared)));
            }
        });
        Ok(Self { url, state })
    }

    /// Its URL, for `health_url`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The commit it reports now.
    pub fn commit(&self) -> String {
        lock(&self.state).commit.clone()
    }

    /// Report `commit` from now on (as if it had been running it all along).
    pub fn serve(&self, commit: &str) {
        commit.clone_into(&mut lock(&self.state).commit);
    }

    /// Change how it behaves.
    pub fn set_mode(&self, mode: HealthMode) {
        lock(&self.state).mode = mode;
    }

    /// How many requests it answered.
    pub fn hits(&self) -> usize {
        lock(&self.state).hits
    }

    /// A deployment of `commit` finished: switch over after the delay, unless told not to.
    /// Must be called within the tokio runtime.
    pub fn deployment_finished(&self, commit: &str) {
        let (mode, delay) = {
            let state = lock(&self.state);
            (state.mode, state.switch_over)
        };
        if mode == HealthMode::StaysOnOld {
            return;
        }
        let state = Arc::clone(&self.state);
        let commit = commit.to_owned();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let mut state = lock(&state);
            if state.mode != HealthMode::StaysOnOld {
                state.commit = commit;
            }
        });
    }
}

async fn answer(mut stream: tokio::net::TcpStream, state: Arc<Mutex<State>>) {
    let mut buffer = vec![0_u8; 8192];
    let mut read = 0;
    while !buffer[..read]
        .windows(4)
        .any(|window| window == b"\r\n\r\n")
    {
        match stream.read(&mut buffer[read..]).await {
            Ok(0) | Err(_) => return,
            Ok(count) => read += count,
        }
        if read == buffer.len() {
            return;
        }
    }
    if lock(&state).mode == HealthMode::Hangs {
        tokio::time::sleep(std::time::Duration::from_secs(24 * 3600)).await;
        return;
    }
    let (status, body) = {
        let mut state = lock(&state);
        state.hits += 1;
        match state.mode {
            HealthMode::Fails => (
                "500 Internal Server Error",
                r#"{"error":"database unreachable"}"#.to_owned(),
            ),
            mode => {
                let environment = match (mode, state.environment) {
                    (HealthMode::WrongEnvironment, "production") => "staging",
                    (HealthMode::WrongEnvironment, _) => "production",
                    (_, environment) => environment,
                };
                let mut body =
                    serde_json::json!({ "commit": state.commit, "environment": environment });
                if mode == HealthMode::EchoesRequest {
                    body["request"] = String::from_utf8_lossy(&buffer[..read]).into_owned().into();
                }
                ("200 OK", body.to_string())
            }
        }
    };
    let response = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}
