//! `[coolify]`: the instance, with `COOLIFY_URL` applied, whether plain http to it is
//! accepted, and the variable that holds the token.

use url::Url;

use super::model::{CoolifyConfig, DEFAULT_RATE_LIMIT_SHARE, InsecureHttp};
use super::raw::RawCoolify;
use super::source::{KeyPath, Source};
use crate::exit::BadInput;
use crate::process_env::ProcessEnv;

/// `[coolify]`, with `COOLIFY_URL` in `environment` over `coolify.url`.
///
/// # Errors
///
/// [`BadInput`] naming the key and its line (or `COOLIFY_URL`) and the fix.
pub(super) fn load(
    source: &Source<'_>,
    raw: RawCoolify,
    environment: &ProcessEnv,
) -> Result<CoolifyConfig, BadInput> {
    let insecure_http = if raw.allow_insecure_http {
        InsecureHttp::Allowed
    } else {
        InsecureHttp::Refused
    };
    let url = match environment.get("COOLIFY_URL") {
        Some(overridden) => {
            let url = Url::parse(overridden).map_err(|error| {
                BadInput(format!(
                    "COOLIFY_URL `{overridden}` is not a URL ({error}); set it like https://coolify.example.com"
                ))
            })?;
            check(&url, insecure_http).map_err(|message| {
                BadInput(format!(
                    "COOLIFY_URL (which overrides `coolify.url` of {}): {message}",
                    source.path().display()
                ))
            })?;
            url
        }
        None => {
            let url = raw.url.0;
            check(&url, insecure_http)
                .map_err(|message| source.error(&KeyPath::of(&["coolify", "url"]), message))?;
            url
        }
    };
    let token_env = raw.token_env.unwrap_or_else(|| "COOLIFY_TOKEN".to_owned());
    if token_env.is_empty()
        || !token_env
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(source.error(
            &KeyPath::of(&["coolify", "token_env"]),
            format!("`{token_env}` is not an environment variable name; use e.g. COOLIFY_TOKEN"),
        ));
    }
    let rate_limit_share = match raw.rate_limit_share {
        None => DEFAULT_RATE_LIMIT_SHARE,
        Some(share @ 1..=100) => share,
        Some(share) => {
            return Err(source.error(
                &KeyPath::of(&["coolify", "rate_limit_share"]),
                format!(
                    "{share} is not a share of Coolify's rate limit: write a percentage from 1 to 100, e.g. `rate_limit_share = {DEFAULT_RATE_LIMIT_SHARE}`"
                ),
            ));
        }
    };
    Ok(CoolifyConfig {
        url,
        token_env,
        insecure_http,
        rate_limit_share,
    })
}

/// The Coolify URL checked as coolify-client checks it, except that `allow_insecure_http =
/// true` also accepts plain http to another machine; a refusal of plain http names that key.
fn check(url: &Url, insecure_http: InsecureHttp) -> Result<(), String> {
    let Some(reason) = refusal(url) else {
        return Ok(());
    };
    if url.scheme() == "http" {
        // What is refused besides plain http, if anything.
        match (refusal(&as_https(url)), insecure_http) {
            (None, InsecureHttp::Allowed) => return Ok(()),
            (None, InsecureHttp::Refused) => {
                return Err(format!(
                    "`{}`: {reason}; or, for a Coolify you reach only over a network you trust (its default install serves the API on http://<server-ip>:8000), set `allow_insecure_http = true` in [coolify] to send the token over plain http",
                    shown(url)
                ));
            }
            (Some(other), InsecureHttp::Allowed) => {
                return Err(format!("`{}`: {other}", shown(url)));
            }
            (Some(_), InsecureHttp::Refused) => {}
        }
    }
    Err(format!("`{}`: {reason}", shown(url)))
}

/// Whether `url` is plain http to a Coolify on another machine, and acceptable as https: what
/// only `allow_insecure_http = true` lets load.
pub(super) fn needs_insecure_http(url: &Url) -> bool {
    url.scheme() == "http" && refusal(url).is_some() && refusal(&as_https(url)).is_none()
}

/// The Coolify URL, checked as coolify-client checks it (https, or http only for a Coolify on
/// this machine; no credentials, query or fragment).
pub(crate) fn check_coolify_url(url: &Url) -> Result<(), String> {
    match refusal(url) {
        Some(reason) => Err(format!("`{}`: {reason}", shown(url))),
        None => Ok(()),
    }
}

/// Why coolify-client refuses `url`, if it does.
fn refusal(url: &Url) -> Option<String> {
    coolify_client::api_base_url(url.as_str(), coolify_client::PlainHttp::LoopbackOnly)
        .err()
        .map(|error| match error {
            coolify_client::Error::InvalidConfig { reason, .. } => reason,
            other => other.to_string(),
        })
}

fn as_https(url: &Url) -> Url {
    let mut https = url.clone();
    // http and https are both special schemes: the change cannot fail.
    let _ = https.set_scheme("https");
    https
}

/// `url` as an error shows it: without credentials.
fn shown(url: &Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.to_string()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::test_support::*;
    use crate::config::{Config, InsecureHttp};
    use crate::process_env::ProcessEnv;

    #[test]
    fn coolify_url_overrides_the_file() {
        let environment = ProcessEnv::from_pairs([("COOLIFY_URL", "http://127.0.0.1:9")]);
        let config = Config::parse(EXAMPLE, Path::new("deploy.toml"), &environment).unwrap();
        assert_eq!(config.coolify.url.as_str(), "http://127.0.0.1:9/");
        let environment = ProcessEnv::from_pairs([("COOLIFY_URL", "http://coolify.internal")]);
        assert!(Config::parse(EXAMPLE, Path::new("deploy.toml"), &environment).is_err());
    }

    #[test]
    fn http_is_refused_except_for_loopback() {
        let message =
            error(&EXAMPLE.replace("https://coolify.example.com", "http://coolify.example.com"));
        assert!(message.contains("clear text"), "{message}");
        assert!(message.contains("line 3: `coolify.url`"), "{message}");
        parse(&EXAMPLE.replace("https://coolify.example.com", "http://127.0.0.1:8000")).unwrap();
        parse(&EXAMPLE.replace("https://coolify.example.com", "http://localhost:8000")).unwrap();
    }

    #[test]
    fn a_coolify_url_with_credentials_is_refused_at_load_time() {
        let message = error(&EXAMPLE.replace(
            "https://coolify.example.com",
            "https://user:pass@coolify.example.com",
        ));
        assert!(message.contains("coolify.url"), "{message}");
        assert!(message.contains("line 3: `coolify.url`"), "{message}");
        assert!(message.contains("credentials in the URL"), "{message}");
        assert!(!message.contains("pass@"), "{message}");
    }

    #[test]
    fn a_refused_coolify_url_names_its_line() {
        let message = error(&EXAMPLE.replace(
            "https://coolify.example.com",
            "https://coolify.example.com/?team=1",
        ));
        assert!(
            message.contains(
                "deploy.toml, line 3: `coolify.url`: `https://coolify.example.com/?team=1`: remove the query and fragment"
            ),
            "{message}"
        );
    }

    #[test]
    fn a_refused_coolify_url_variable_is_named_instead_of_the_file() {
        for (value, expected) in [
            (
                "coolify.internal",
                "COOLIFY_URL `coolify.internal` is not a URL (relative URL without a base); set it like https://coolify.example.com",
            ),
            (
                "https://user:pass@coolify.internal",
                "COOLIFY_URL (which overrides `coolify.url` of deploy.toml): `https://coolify.internal/`: credentials in the URL are not allowed",
            ),
        ] {
            let environment = ProcessEnv::from_pairs([("COOLIFY_URL", value)]);
            let message = Config::parse(EXAMPLE, Path::new("deploy.toml"), &environment)
                .unwrap_err()
                .to_string();
            assert!(message.contains(expected), "{value}: {message}");
            assert!(!message.contains("pass@"), "{message}");
        }
    }

    #[test]
    fn a_token_variable_name_the_shell_cannot_export_names_its_line() {
        for name in ["", "COOLIFY-TOKEN", "$TOKEN"] {
            let message = error(&EXAMPLE.replace(
                "url = \"https://coolify.example.com\"\n",
                &format!("url = \"https://coolify.example.com\"\ntoken_env = \"{name}\"\n"),
            ));
            assert!(
                message.contains(&format!(
                    "deploy.toml, line 4: `coolify.token_env`: `{name}` is not an environment variable name; use e.g. COOLIFY_TOKEN"
                )),
                "{name}: {message}"
            );
        }
    }

    /// `EXAMPLE` with this Coolify URL and these extra `[coolify]` lines.
    fn with_coolify(url: &str, extra: &str) -> String {
        EXAMPLE.replace(
            "url = \"https://coolify.example.com\"\n",
            &format!("url = \"{url}\"\n{extra}"),
        )
    }

    #[test]
    fn plain_http_to_another_machine_is_refused_naming_the_opt_in() {
        let message = error(&with_coolify("http://192.0.2.10:8000", ""));
        for expected in [
            "deploy.toml, line 3: `coolify.url`: `http://192.0.2.10:8000/`: plain http would send the token in clear text",
            "set `allow_insecure_http = true` in [coolify]",
        ] {
            assert!(message.contains(expected), "{expected:?} in {message}");
        }
        let message = error(&with_coolify(
            "http://192.0.2.10:8000",
            "allow_insecure_http = false\n",
        ));
        assert!(message.contains("allow_insecure_http = true"), "{message}");
        // Only plain http is what the key allows: other refusals do not mention it.
        let message = error(&with_coolify(
            "ftp://192.0.2.10",
            "allow_insecure_http = true\n",
        ));
        assert!(message.contains("line 3: `coolify.url`"), "{message}");
        assert!(!message.contains("allow_insecure_http"), "{message}");
        let message = error(&with_coolify(
            "http://192.0.2.10:8000/?team=1",
            "allow_insecure_http = true\n",
        ));
        assert!(
            message.contains("remove the query and fragment"),
            "{message}"
        );
    }

    #[test]
    fn allow_insecure_http_accepts_plain_http_to_another_machine() {
        let config = parse(&with_coolify(
            "http://192.0.2.10:8000",
            "allow_insecure_http = true\n",
        ))
        .unwrap();
        assert_eq!(config.coolify.insecure_http, InsecureHttp::Allowed);
        assert_eq!(config.coolify.url.as_str(), "http://192.0.2.10:8000/");
        assert!(config.coolify.sends_token_in_clear_text());
        // It applies to COOLIFY_URL too, which overrides the file's URL.
        let environment = ProcessEnv::from_pairs([("COOLIFY_URL", "http://coolify.internal")]);
        let text = with_coolify(
            "https://coolify.example.com",
            "allow_insecure_http = true\n",
        );
        let config = Config::parse(&text, Path::new("deploy.toml"), &environment).unwrap();
        assert!(config.coolify.sends_token_in_clear_text());
        let message = Config::parse(EXAMPLE, Path::new("deploy.toml"), &environment)
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("COOLIFY_URL (which overrides `coolify.url` of deploy.toml)"),
            "{message}"
        );
        assert!(message.contains("allow_insecure_http = true"), "{message}");
        // Where the token does not cross the network in clear text, the key changes nothing.
        for url in ["https://coolify.example.com", "http://127.0.0.1:8000"] {
            let config = parse(&with_coolify(url, "allow_insecure_http = true\n")).unwrap();
            assert!(!config.coolify.sends_token_in_clear_text(), "{url}");
        }
        let config = parse(EXAMPLE).unwrap();
        assert_eq!(config.coolify.insecure_http, InsecureHttp::Refused);
        assert!(!config.coolify.sends_token_in_clear_text());
    }

    #[test]
    fn allow_insecure_http_takes_a_boolean() {
        let message = error(&with_coolify(
            "https://coolify.example.com",
            "allow_insecure_http = \"yes\"\n",
        ));
        assert!(
            message.contains(
                "deploy.toml, line 4: `coolify.allow_insecure_http`: invalid type: string \"yes\", expected a boolean; write `allow_insecure_http = true` or `allow_insecure_http = false`"
            ),
            "{message}"
        );
    }

    #[test]
    fn rate_limit_share_is_a_percentage_with_a_default_of_half() {
        assert_eq!(parse(EXAMPLE).unwrap().coolify.rate_limit_share, 50);
        for share in [1, 30, 100] {
            let config = parse(&with_coolify(
                "https://coolify.example.com",
                &format!("rate_limit_share = {share}\n"),
            ))
            .unwrap();
            assert_eq!(config.coolify.rate_limit_share, share);
        }
        for share in ["0", "101"] {
            let message = error(&with_coolify(
                "https://coolify.example.com",
                &format!("rate_limit_share = {share}\n"),
            ));
            assert!(
                message.contains(&format!(
                    "deploy.toml, line 4: `coolify.rate_limit_share`: {share} is not a share of Coolify's rate limit: write a percentage from 1 to 100, e.g. `rate_limit_share = 50`"
                )),
                "{share}: {message}"
            );
        }
        let message = error(&with_coolify(
            "https://coolify.example.com",
            "rate_limit_share = \"half\"\n",
        ));
        assert!(
            message.contains("line 4: `coolify.rate_limit_share`: invalid type: string \"half\", expected u8; write a whole number without quotes, e.g. `rate_limit_share = 2`"),
            "{message}"
        );
    }
}
