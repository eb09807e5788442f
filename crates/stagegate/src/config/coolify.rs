//! `[coolify]`: the instance, with `COOLIFY_URL` applied, and the variable that holds the token.

use url::Url;

use super::model::CoolifyConfig;
use super::raw::RawCoolify;
use super::source::{KeyPath, Source};
use crate::environment::Environment;
use crate::exit::BadInput;

/// `[coolify]`, with `COOLIFY_URL` in `environment` over `coolify.url`.
///
/// # Errors
///
/// [`BadInput`] naming the key and its line (or `COOLIFY_URL`) and the fix.
pub(super) fn load(
    source: &Source<'_>,
    raw: RawCoolify,
    environment: &Environment,
) -> Result<CoolifyConfig, BadInput> {
    let url = match environment.get("COOLIFY_URL") {
        Some(overridden) => {
            let url = Url::parse(overridden).map_err(|error| {
                BadInput(format!(
                    "COOLIFY_URL `{overridden}` is not a URL ({error}); set it like https://coolify.example.com"
                ))
            })?;
            check_coolify_url(&url).map_err(|message| {
                BadInput(format!(
                    "COOLIFY_URL (which overrides `coolify.url` of {}): {message}",
                    source.path().display()
                ))
            })?;
            url
        }
        None => {
            check_coolify_url(&raw.url)
                .map_err(|message| source.error(&KeyPath::of(&["coolify", "url"]), message))?;
            raw.url
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
    Ok(CoolifyConfig { url, token_env })
}

/// The Coolify URL, checked as coolify-client checks it (https, or http only for a Coolify on
/// this machine; no credentials, query or fragment).
pub(crate) fn check_coolify_url(url: &Url) -> Result<(), String> {
    coolify_client::api_base_url(url.as_str())
        .map(drop)
        .map_err(|error| match error {
            // The client's value has any credentials taken out.
            coolify_client::Error::InvalidConfig { value, reason, .. } => {
                format!("`{value}`: {reason}")
            }
            other => other.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::Config;
    use crate::config::test_support::*;
    use crate::environment::Environment;

    #[test]
    fn coolify_url_overrides_the_file() {
        let environment = Environment::from_pairs([("COOLIFY_URL", "http://127.0.0.1:9")]);
        let config = Config::parse(EXAMPLE, Path::new("deploy.toml"), &environment).unwrap();
        assert_eq!(config.coolify.url.as_str(), "http://127.0.0.1:9/");
        let environment = Environment::from_pairs([("COOLIFY_URL", "http://coolify.internal")]);
        assert!(Config::parse(EXAMPLE, Path::new("deploy.toml"), &environment).is_err());
    }

    #[test]
    fn http_is_refused_except_for_loopback() {
        let message =
            error(&EXAMPLE.replace("https://coolify.example.com", "http://coolify.example.com"));
        assert!(message.contains("clear text"), "{message}");
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
            let environment = Environment::from_pairs([("COOLIFY_URL", value)]);
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
}
