//! The fake's proxy: Coolify's Traefik in front of the containers, routing by host name.
//!
//! Each running container has routes for its domains: an application's `fqdn` while its status
//! is `running:*`, a preview's generated URL once a preview deployment finished (until the
//! preview is removed). The fake runs no containers: a test says which local server stands for
//! a container ([`FakeCoolify::serve_application_from`], [`FakeCoolify::serve_preview_from`]),
//! as the scenario suite's health servers stand for the applications, and the proxy forwards to
//! it. A host with no running container gets Traefik's `404 page not found`; a container with no
//! server behind it, or one that cannot be reached, `502 Bad Gateway`.
//!
//! A client reaches it either as an HTTP proxy (`reqwest::Proxy::http(fake.proxy_url())`,
//! which sends absolute URLs) or by resolving the domains to [`FakeCoolify::proxy_address`]
//! (the `Host` header then routes).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use coolify_client::ApplicationUuid;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

use crate::server::{FakeCoolify, lock};
use crate::state::State;
use crate::wire::Reply;

/// What the proxy answers for a host: the container's server, or why not.
enum Route {
    Upstream(SocketAddr),
    NoServer,
    NoContainer,
}

/// The host name of a URL or domain, lowercased, without port.
fn host_of(url: &str) -> Option<String> {
    coolify_client::url::Url::parse(url.trim())
        .ok()?
        .host_str()
        .map(str::to_ascii_lowercase)
}

fn route(state: &State, host: &str) -> Route {
    for (uuid, stored) in &state.applications {
        let mut containers = Vec::new();
        if stored.spec.status.starts_with("running") {
            containers.extend(
                stored
                    .spec
                    .fqdn
                    .as_deref()
                    .unwrap_or_default()
                    .split(',')
                    .map(|domain| (domain.to_owned(), 0)),
            );
        }
        containers.extend(stored.previews.iter().filter_map(|(number, preview)| {
            preview.running.as_ref()?;
            Some((preview.fqdn.clone()?, *number))
        }));
        for (domain, pull_request) in containers {
            if host_of(&domain).as_deref() == Some(host) {
                return state
                    .upstreams
                    .get(&(uuid.clone(), pull_request))
                    .map_or(Route::NoServer, |upstream| Route::Upstream(*upstream));
            }
        }
    }
    Route::NoContainer
}

fn text(status: StatusCode, body: &'static str) -> Reply {
    let mut response = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// Answer one request that reached the proxy.
pub(crate) async fn handle(state: Arc<Mutex<State>>, request: Request<Incoming>) -> Reply {
    let host = request.uri().host().map(str::to_owned).or_else(|| {
        request
            .headers()
            .get(hyper::header::HOST)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| host_of(&format!("http://{value}")))
    });
    let Some(host) = host.map(|host| host.to_ascii_lowercase()) else {
        return text(StatusCode::NOT_FOUND, "404 page not found");
    };
    let route = route(&lock(&state), &host);
    match route {
        Route::NoContainer => text(StatusCode::NOT_FOUND, "404 page not found"),
        Route::NoServer => text(StatusCode::BAD_GATEWAY, "Bad Gateway"),
        Route::Upstream(upstream) => forward(upstream, request)
            .await
            .unwrap_or_else(|()| text(StatusCode::BAD_GATEWAY, "Bad Gateway")),
    }
}

/// Send the request to `upstream` in origin form, keeping its `Host`, and bring the answer
/// back whole.
async fn forward(upstream: SocketAddr, request: Request<Incoming>) -> Result<Reply, ()> {
    let stream = tokio::net::TcpStream::connect(upstream)
        .await
        .map_err(|_| ())?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|_| ())?;
    tokio::spawn(async move {
        if let Err(error) = connection.await {
            tracing::debug!(%error, "fake proxy upstream connection ended");
        }
    });
    let (mut parts, body) = request.into_parts();
    let body = body.collect().await.map_err(|_| ())?.to_bytes();
    if !parts.headers.contains_key(hyper::header::HOST)
        && let Some(authority) = parts.uri.authority()
        && let Ok(value) = hyper::header::HeaderValue::from_str(authority.as_str())
    {
        parts.headers.insert(hyper::header::HOST, value);
    }
    parts.headers.remove("proxy-connection");
    parts.uri = parts
        .uri
        .path_and_query()
        .map_or("/", |path| path.as_str())
        .parse()
        .map_err(|_| ())?;
    let response = sender
        .send_request(Request::from_parts(parts, Full::new(body)))
        .await
        .map_err(|_| ())?;
    let (parts, body) = response.into_parts();
    let body = body.collect().await.map_err(|_| ())?.to_bytes();
    Ok(Response::from_parts(parts, Full::new(body)))
}

impl FakeCoolify {
    /// The address of the fake's proxy (Coolify's Traefik): resolve an application's or a
    /// preview's domain to it, or use [`FakeCoolify::proxy_url`] as an HTTP proxy.
    #[must_use]
    pub fn proxy_address(&self) -> SocketAddr {
        self.proxy
    }

    /// The proxy as an HTTP proxy URL, `http://127.0.0.1:<port>`, for
    /// `reqwest::Proxy::http`: every `http://` URL of an application or a preview then
    /// reaches the server that stands for its container.
    #[must_use]
    pub fn proxy_url(&self) -> String {
        format!("http://{}", self.proxy)
    }

    /// Let the local server at `upstream` stand for the application's container: the proxy
    /// forwards the requests for the application's domains to it while the application runs.
    pub fn serve_application_from(&self, application: &ApplicationUuid, upstream: SocketAddr) {
        lock(&self.state)
            .upstreams
            .insert((application.as_str().to_owned(), 0), upstream);
    }

    /// Let the local server at `upstream` stand for the container of the application's preview
    /// of pull request `number`: the proxy forwards the requests for the preview's URL to it
    /// once a preview deployment finished, until the preview is removed.
    pub fn serve_preview_from(
        &self,
        application: &ApplicationUuid,
        number: u64,
        upstream: SocketAddr,
    ) {
        lock(&self.state)
            .upstreams
            .insert((application.as_str().to_owned(), number), upstream);
    }
}
