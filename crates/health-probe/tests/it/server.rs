//! A scripted HTTP/1.1 server on loopback: each request takes the next reply of the script
//! (the last one repeats), and the server records request heads and connections.

use std::{
    collections::VecDeque,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    sync::Notify,
};
use url::Url;

#[derive(Debug, Clone)]
pub(crate) enum Reply {
    Http {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
        delay: Duration,
    },
    /// Reset the connection (RST) without answering.
    Reset,
    /// Never answer; wait for the client to go away.
    Hang,
}

impl Reply {
    pub(crate) fn status(status: u16, body: &str) -> Self {
        Self::Http {
            status,
            headers: Vec::new(),
            body: body.to_owned(),
            delay: Duration::ZERO,
        }
    }

    pub(crate) fn commit(sha: &str) -> Self {
        Self::status(200, &format!(r#"{{"commit":"{sha}"}}"#))
    }

    pub(crate) fn redirect(location: &str) -> Self {
        Self::Http {
            status: 302,
            headers: vec![("Location".into(), location.into())],
            body: String::new(),
            delay: Duration::ZERO,
        }
    }

    pub(crate) fn delayed(self, by: Duration) -> Self {
        match self {
            Self::Http {
                status,
                headers,
                body,
                ..
            } => Self::Http {
                status,
                headers,
                body,
                delay: by,
            },
            other => other,
        }
    }
}

#[derive(Default)]
struct State {
    script: Mutex<VecDeque<Reply>>,
    requests: Mutex<Vec<String>>,
    connections: AtomicUsize,
    closed: AtomicUsize,
    received: Notify,
    closed_notify: Notify,
}

pub(crate) struct LocalServer {
    port: u16,
    state: Arc<State>,
}

impl LocalServer {
    pub(crate) async fn start(script: Vec<Reply>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(State {
            script: Mutex::new(script.into()),
            ..State::default()
        });
        let serving = Arc::clone(&state);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                serving.connections.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(serve(stream, Arc::clone(&serving)));
            }
        });
        Self { port, state }
    }

    pub(crate) fn url(&self, path: &str) -> Url {
        Url::parse(&format!("http://127.0.0.1:{}{path}", self.port)).unwrap()
    }

    pub(crate) fn requests(&self) -> Vec<String> {
        self.state.requests.lock().unwrap().clone()
    }

    pub(crate) fn connections(&self) -> usize {
        self.state.connections.load(Ordering::SeqCst)
    }

    pub(crate) fn closed(&self) -> usize {
        self.state.closed.load(Ordering::SeqCst)
    }

    /// Waits until a request has arrived.
    pub(crate) async fn request_received(&self) {
        let notified = self.state.received.notified();
        if self.requests().is_empty() {
            notified.await;
        }
    }

    /// Waits until the client has closed a connection the server was holding.
    pub(crate) async fn connection_closed(&self) {
        let notified = self.state.closed_notify.notified();
        if self.closed() == 0 {
            notified.await;
        }
    }
}

async fn serve(mut stream: TcpStream, state: Arc<State>) {
    let mut buffer = Vec::new();
    loop {
        let head_end = loop {
            if let Some(end) = buffer.windows(4).position(|window| window == b"\r\n\r\n") {
                break end + 4;
            }
            let mut chunk = [0u8; 4096];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(read) => buffer.extend_from_slice(&chunk[..read]),
            }
        };
        let head: Vec<u8> = buffer.drain(..head_end).collect();
        state
            .requests
            .lock()
            .unwrap()
            .push(String::from_utf8_lossy(&head).into_owned());
        state.received.notify_waiters();
        let reply = {
            let mut script = state.script.lock().unwrap();
            if script.len() > 1 {
                script.pop_front()
            } else {
                script.front().cloned()
            }
        };
        match reply.unwrap_or(Reply::Reset) {
            Reply::Http {
                status,
                headers,
                body,
                delay,
            } => {
                tokio::time::sleep(delay).await;
                let mut response = format!(
                    "HTTP/1.1 {status} Scripted\r\nContent-Length: {}\r\n",
                    body.len()
                );
                for (name, value) in headers {
                    response.push_str(&format!("{name}: {value}\r\n"));
                }
                response.push_str("\r\n");
                response.push_str(&body);
                if stream.write_all(response.as_bytes()).await.is_err() {
                    return;
                }
            }
            Reply::Reset => {
                stream.set_zero_linger().unwrap();
                return;
            }
            Reply::Hang => {
                let mut chunk = [0u8; 64];
                while let Ok(read) = stream.read(&mut chunk).await {
                    if read == 0 {
                        break;
                    }
                }
                state.closed.fetch_add(1, Ordering::SeqCst);
                state.closed_notify.notify_waiters();
                return;
            }
        }
    }
}
