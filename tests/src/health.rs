//! A local app per environment whose health endpoint reports the commit it runs.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::time::Instant;

/// How long a [`HealthMode::OldLingers`] server answers `503` (a proxy that lost its
/// upstream) after a finished deployment, before the old commit answers again.
pub const PROXY_UNAVAILABLE: Duration = Duration::from_secs(3);

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
    /// Follow deployments, but the first commit deployed in this mode answers `503 Service
    /// Unavailable` once it is switched to (a release that never becomes ready); a later
    /// deployment (the rollback) answers as usual.
    NewVersionUnavailable,
    /// Follow deployments, but once the first commit deployed in this mode is switched to,
    /// nothing listens (connections are refused) until a later deployment (the rollback)
    /// is switched to.
    NewVersionRefuses,
    /// A slow rolling update: after a finished deployment, `503` for [`PROXY_UNAVAILABLE`],
    /// then the old commit until the given time has passed, then the new commit.
    OldLingers(Duration),
}

#[derive(Debug)]
struct State {
    environment: &'static str,
    commit: String,
    mode: HealthMode,
    switch_over: Duration,
    hits: usize,
    /// The commit that answers `503` or refuses connections, in the modes that break one.
    broken: Option<String>,
    /// When the latest deployment finished.
    finished_at: Option<Instant>,
    /// When each deployment finished, and when each switch happened, in order.
    finishes: Vec<Instant>,
    switches: Vec<Instant>,
    /// Whether the server listens; a broken commit in [`HealthMode::NewVersionRefuses`]
    /// turns it off.
    listening: watch::Sender<bool>,
}

/// A health server on loopback, answering `{"commit": .., "environment": ..}`.
#[derive(Debug, Clone)]
pub struct HealthServer {
    url: String,
    address: SocketAddr,
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
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let address = listener.local_addr()?;
        let url = format!("http://{address}/healthz");
        let (listening, watching) = watch::channel(true);
        let state = Arc::new(Mutex::new(State {
            environment,
            commit: String::new(),
            mode: HealthMode::Follows,
            switch_over,
            hits: 0,
            broken: None,
            finished_at: None,
            finishes: Vec::new(),
            switches: Vec::new(),
            listening,
        }));
        tokio::spawn(serve(listener, address, watching, Arc::clone(&state)));
        Ok(Self {
            url,
            address,
            state,
        })
    }

    /// Its URL, for `health_url`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Where it listens (for a proxy that stands in front of it).
    pub fn address(&self) -> SocketAddr {
        self.address
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

    /// When each deployment finished (on tokio's clock), in order.
    pub fn finishes(&self) -> Vec<Instant> {
        lock(&self.state).finishes.clone()
    }

    /// When it switched to each deployment's commit (on tokio's clock), in order.
    pub fn switches(&self) -> Vec<Instant> {
        lock(&self.state).switches.clone()
    }

    /// A deployment of `commit` finished: switch over after the delay, unless told not to.
    /// Must be called within the tokio runtime.
    pub fn deployment_finished(&self, commit: &str) {
        let (mode, delay) = {
            let mut state = lock(&self.state);
            let now = Instant::now();
            state.finished_at = Some(now);
            state.finishes.push(now);
            (state.mode, state.switch_over)
        };
        if mode == HealthMode::StaysOnOld {
            return;
        }
        let delay = match mode {
            HealthMode::OldLingers(lingers) => lingers,
            _ => delay,
        };
        let state = Arc::clone(&self.state);
        let commit = commit.to_owned();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let mut state = lock(&state);
            if state.mode == HealthMode::StaysOnOld {
                return;
            }
            state.switches.push(Instant::now());
            let breaks = matches!(
                state.mode,
                HealthMode::NewVersionUnavailable | HealthMode::NewVersionRefuses
            );
            if breaks && state.broken.is_none() {
                state.broken = Some(commit.clone());
            }
            let refusing = state.mode == HealthMode::NewVersionRefuses
                && state.broken.as_ref() == Some(&commit);
            state.listening.send_replace(!refusing);
            state.commit = commit;
        });
    }
}

/// Accepts connections while the server listens; while it does not, the port is closed, so
/// that connections are refused, and bound again when it listens again.
async fn serve(
    listener: TcpListener,
    address: SocketAddr,
    mut listening: watch::Receiver<bool>,
    state: Arc<Mutex<State>>,
) {
    let mut listener = Some(listener);
    loop {
        if *listening.borrow_and_update() {
            let current = match listener.take() {
                Some(listener) => listener,
                None => match TcpListener::bind(address).await {
                    Ok(listener) => listener,
                    // The port is taken meanwhile: nothing listens here any more.
                    Err(_) => return,
                },
            };
            let acceptor = tokio::spawn(accept(current, Arc::clone(&state)));
            loop {
                if listening.changed().await.is_err() {
                    acceptor.abort();
                    return;
                }
                if !*listening.borrow_and_update() {
                    break;
                }
            }
            acceptor.abort();
            // Once the task is gone, so is its listener: the port is closed.
            let _ = acceptor.await;
        } else if listening.changed().await.is_err() {
            return;
        }
    }
}

async fn accept(listener: TcpListener, state: Arc<Mutex<State>>) {
    loop {
        if let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(answer(stream, Arc::clone(&state)));
        }
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
        let proxy_unavailable = matches!(state.mode, HealthMode::OldLingers(_))
            && state
                .finished_at
                .is_some_and(|finished| finished.elapsed() < PROXY_UNAVAILABLE);
        let broken = state.broken.is_some() && state.broken.as_ref() == Some(&state.commit);
        match state.mode {
            HealthMode::NewVersionUnavailable if broken => (
                "503 Service Unavailable",
                r#"{"error":"not ready"}"#.to_owned(),
            ),
            HealthMode::OldLingers(_) if proxy_unavailable => {
                ("503 Service Unavailable", "no available server".to_owned())
            }
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
