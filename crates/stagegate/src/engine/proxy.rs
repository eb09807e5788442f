//! The health prober, and the HTTP proxy it goes through.
//!
//! A health URL stagegate computes (a pull request's preview, on a host only Coolify's proxy
//! knows) may only be reachable through the proxy a runner is given. The prober follows the
//! usual variables (`http_proxy`, `https_proxy`, `all_proxy` and `no_proxy`, lower or upper
//! case, lower case first) as the process environment holds them, like every other setting
//! stagegate reads, so that a flow never reads `std::env` itself.

use anyhow::Context as _;
use health_probe::Prober;
use health_probe::reqwest;

use crate::exit::BadInput;
use crate::process_env::ProcessEnv;

/// The User-Agent of every probe.
const USER_AGENT: &str = concat!("stagegate/", env!("CARGO_PKG_VERSION"));

/// How long a probe may take to open a connection (health-probe's default).
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Which requests a proxy variable takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scheme {
    Http,
    Https,
    All,
}

/// The proxy variables, lower case first, with the requests each takes.
const VARIABLES: [(&str, &str, Scheme); 3] = [
    ("http_proxy", "HTTP_PROXY", Scheme::Http),
    ("https_proxy", "HTTPS_PROXY", Scheme::Https),
    ("all_proxy", "ALL_PROXY", Scheme::All),
];

/// A variable's value and name, lower case first; an empty value counts as unset.
fn variable<'a>(
    env: &'a ProcessEnv,
    lower: &'static str,
    upper: &'static str,
) -> Option<(&'static str, &'a str)> {
    [lower, upper].into_iter().find_map(|name| {
        env.get(name)
            .map(str::trim)
            .filter(|value| !value.is_empty())
            .map(|value| (name, value))
    })
}

/// The prober every flow probes with: through the proxies the process environment names, else
/// directly.
///
/// # Errors
///
/// [`BadInput`] for a proxy variable that is not a URL; the HTTP client cannot be built.
pub(crate) fn prober(env: &ProcessEnv) -> anyhow::Result<Prober> {
    let no_proxy = variable(env, "no_proxy", "NO_PROXY")
        .and_then(|(_, list)| reqwest::NoProxy::from_string(list));
    let mut proxies = Vec::new();
    for (lower, upper, scheme) in VARIABLES {
        let Some((name, value)) = variable(env, lower, upper) else {
            continue;
        };
        let proxy = match scheme {
            Scheme::Http => reqwest::Proxy::http(value),
            Scheme::Https => reqwest::Proxy::https(value),
            Scheme::All => reqwest::Proxy::all(value),
        }
        .map_err(|error| {
            BadInput(format!(
                "{name} is `{value}`, which is not a proxy URL ({error}); write it whole, e.g. http://proxy.example.com:3128, or unset it"
            ))
        })?;
        proxies.push(proxy.no_proxy(no_proxy.clone()));
    }
    let builder = Prober::builder().user_agent(USER_AGENT);
    if proxies.is_empty() {
        return builder.build().context("set up the health prober");
    }
    // The prober follows redirects itself, so the client must not.
    let mut client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(CONNECT_TIMEOUT)
        .user_agent(USER_AGENT);
    for proxy in proxies {
        client = client.proxy(proxy);
    }
    let client = client.build().context("set up the health prober")?;
    builder
        .client(client)
        .build()
        .context("set up the health prober")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proxy_variable_that_is_no_url_is_bad_input_naming_it() {
        let env = ProcessEnv::from_pairs([("HTTPS_PROXY", "::not a url::")]);
        let error = prober(&env).unwrap_err();
        assert!(error.is::<BadInput>(), "{error:?}");
        let message = error.to_string();
        assert!(
            message.starts_with("HTTPS_PROXY is `::not a url::`, which is not a proxy URL"),
            "{message}"
        );
        prober(&ProcessEnv::from_pairs([("https_proxy", " ")])).unwrap();
        prober(&ProcessEnv::from_pairs([
            ("http_proxy", "http://127.0.0.1:3128"),
            ("NO_PROXY", "127.0.0.1,localhost"),
        ]))
        .unwrap();
    }

    #[tokio::test]
    async fn probes_go_through_the_named_proxy_except_for_no_proxy_hosts() {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        // A proxy that answers every request itself, saying which URL it was asked for.
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .unwrap();
        let proxy = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buffer = vec![0_u8; 4096];
                    let read = stream.read(&mut buffer).await.unwrap_or(0);
                    let head = String::from_utf8_lossy(&buffer[..read]).into_owned();
                    let target = head.split_whitespace().nth(1).unwrap_or("").to_owned();
                    let body = serde_json::json!({ "via_proxy": target }).to_string();
                    let answer = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = stream.write_all(answer.as_bytes()).await;
                });
            }
        });
        let env = ProcessEnv::from_pairs([
            ("HTTP_PROXY", format!("http://{proxy}")),
            ("no_proxy", "localhost".to_owned()),
        ]);
        let prober = prober(&env).unwrap();
        let spec = health_probe::ProbeSpec::builder(
            "http://42.staging.example.test/healthz".parse().unwrap(),
        )
        .build()
        .unwrap();
        let attempt = prober.check(&spec).await;
        assert!(attempt.passed(), "{attempt:?}");
        assert!(
            attempt
                .body_excerpt
                .as_deref()
                .is_some_and(|body| body.contains("http://42.staging.example.test/healthz")),
            "{attempt:?}"
        );
        // A host in no_proxy is asked directly: nothing listens on port 9.
        let spec = health_probe::ProbeSpec::builder("http://localhost:9/healthz".parse().unwrap())
            .build()
            .unwrap();
        assert!(!prober.check(&spec).await.passed());
    }
}
