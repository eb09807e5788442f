//! The `deploy.toml` that `init` writes: every key commented, what it found filled in.

use url::Url;

use super::ChosenApp;
use crate::config::{Install, Preset};

fn toml_string(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for c in text.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            c if c.is_control() => quoted.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

/// `code`, then `comment` from the column the repository's own deploy.toml uses.
fn commented(code: &str, comment: &str) -> String {
    format!("{code:<37} # {comment}\n")
}

pub(super) fn render_config(
    coolify_url: &Url,
    staging: &ChosenApp,
    production: &ChosenApp,
    preset: Option<Preset>,
    install: Install,
) -> String {
    let url = coolify_url.as_str().trim_end_matches('/');
    let environment = |role: &str, app: &ChosenApp| {
        let origin = app
            .coolify_environment
            .as_deref()
            .map(|name| format!(", Coolify environment {name}"))
            .unwrap_or_default();
        let health_note = if app.health_url_guessed {
            "a guess: the endpoint that reports the running commit"
        } else {
            "the app's domain and its Coolify health check path"
        };
        let variables = if app.variables.is_empty() {
            "# Coolify has no variables for this app yet.\n".to_owned()
        } else {
            format!(
                "# Variables Coolify has for this app (declare those stagegate should manage in `env`):\n#   {}\n",
                app.variables.join(", ")
            )
        };
        let image = match &app.image {
            Some(image) => format!(
                "{}{}# The image must report its commit: SOURCE_COMMIT is not set for Docker-image apps,\n# so bake it in at build time (docs/ADOPTING.md).\n",
                commented(
                    &format!("image = {}", toml_string(image)),
                    "a Docker-image app: deploys set the commit's tag"
                ),
                commented(
                    "# image_tag = \"sha-{commit}\"",
                    "the tag CI pushes for each commit (the default)"
                ),
            ),
            None => String::new(),
        };
        format!(
            "[environments.{role}]\n# {name}{origin}\n{app_line}{branch_line}{health_line}{image}{variables}env = {{}}\n",
            name = app.name,
            app_line = commented(
                &format!("app = {}", toml_string(&app.uuid)),
                "the Coolify application uuid"
            ),
            branch_line = commented(
                &format!("branch = {}", toml_string(&app.branch)),
                "the branch Coolify builds; setup sets it"
            ),
            health_line = commented(
                &format!("health_url = {}", toml_string(&app.health_url)),
                health_note
            ),
        )
    };
    let workflows = match preset {
        Some(preset) => {
            let stagegate = match install {
                Install::Action => commented(
                    "# stagegate = \"action\"",
                    "deploy jobs install the prebuilt stagegate (the default)",
                ),
                Install::CargoXtask => commented(
                    "stagegate = \"cargo-xtask\"",
                    "deploy jobs run this workspace's `cargo xtask`",
                ),
            };
            format!(
                "{preset_line}{test_line}{after_line}{stagegate}{pr_line}",
                preset_line = commented(
                    &format!("preset = \"{preset}\""),
                    &format!(
                        "found {}; the toolchain setup, pinned by commit",
                        preset.marker_file()
                    ),
                ),
                test_line = commented(
                    &format!(
                        "# test = [\"{}\"]",
                        preset.default_checks().first().copied().unwrap_or_default()
                    ),
                    "replaces the preset's checks, one command per item",
                ),
                after_line = commented(
                    "# after = \"CI\"",
                    "or: deploy staging once your own CI workflow passes",
                ),
                pr_line = commented(
                    "pr_validation = false",
                    "true also generates pr-validation.yml (yours is never touched)",
                ),
            )
        }
        None => format!(
            "# No uv.lock, package-lock.json, Cargo.toml or go.mod here: list the commands that check a\n# commit, or replace `test` by `after = \"NAME\"` to deploy once your own CI workflow passes.\ntest = []\n{}",
            commented(
                "pr_validation = false",
                "true also generates pr-validation.yml (yours is never touched)"
            ),
        ),
    };
    format!(
        "# stagegate's deploy config, written by `stagegate init`; docs/CONFIG.md documents every key.\n\n[coolify]\n{url_line}{token_line}\n[tags]\n{prefix_line}\n[deploy]\n{timeout_line}{gate_line}\n[probe]\n{probe_line}\n{staging}\n{production}\n[workflows]\n{workflows}",
        url_line = commented(
            &format!("url = {}", toml_string(url)),
            "COOLIFY_URL overrides it"
        ),
        token_line = commented(
            "token_env = \"COOLIFY_TOKEN\"",
            "the token is read from this variable, never from a file"
        ),
        prefix_line = commented(
            "prefix = \"v\"",
            "release tags are PREFIX + semver, e.g. v1.4.2"
        ),
        timeout_line = commented("timeout = \"20m\"", "deadline for one Coolify deployment"),
        gate_line = commented(
            "staging_gate = true",
            "production takes only commits staging finished deploying"
        ),
        probe_line = commented(
            "expect_json = { \"/commit\" = \"{commit}\" }",
            "the health endpoint must report the deployed commit"
        ),
        staging = environment("staging", staging),
        production = environment("production", production),
    )
}
