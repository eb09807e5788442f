//! The `deploy.toml` that `init` writes: every key commented, what it found filled in.

use url::Url;

use super::ChosenApp;
use super::team::{ProposalSource, WorkflowsProposal};
use crate::config::{Install, Preset};
use crate::workflows::Check;

/// What `init` writes into `[workflows]` and `[notes]`, besides the apps.
pub(super) struct Rest<'a> {
    /// The preset of the repository's files.
    pub(super) preset: Option<Preset>,
    /// How the deploy jobs run stagegate.
    pub(super) install: Install,
    /// How the workflows check a commit.
    pub(super) proposal: &'a WorkflowsProposal,
    /// What the preset runs in this repository.
    pub(super) preset_checks: &'a [Check],
    /// The repository's web URL, from the `origin` remote.
    pub(super) repository_url: Option<&'a str>,
}

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
    rest: &Rest<'_>,
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
    let workflows = workflows_table(rest, staging);
    let notes = match rest.repository_url {
        Some(url) => commented(
            &format!("repository_url = {}", toml_string(url)),
            "release notes end with a compare link (from the origin remote)",
        ),
        None => commented(
            "# repository_url = \"https://github.com/OWNER/REPO\"",
            "release notes end with a compare link",
        ),
    };
    format!(
        "# stagegate's deploy config, written by `stagegate init`; docs/CONFIG.md documents every key.\n\n[coolify]\n{url_line}{token_line}\n[tags]\n{prefix_line}\n[deploy]\n{timeout_line}{gate_line}\n[probe]\n{probe_line}\n[notes]\n{notes}\n{staging}\n{production}\n[workflows]\n{workflows}",
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
            "production takes only commits verified on staging"
        ),
        probe_line = commented(
            "expect_json = { \"/commit\" = \"{commit}\" }",
            "the health endpoint must report the deployed commit"
        ),
        staging = environment("staging", staging),
        production = environment("production", production),
    )
}

/// The `[workflows]` table: the preset, how a commit is checked (the team's workflow to wait
/// for, the team's checks, or the preset's), how stagegate runs, PR validation, and previews
/// when Coolify makes them of the staging app.
fn workflows_table(rest: &Rest<'_>, staging: &ChosenApp) -> String {
    let proposal = rest.proposal;
    let mut table = String::new();
    if let Some(preset) = rest.preset {
        table.push_str(&commented(
            &format!("preset = \"{preset}\""),
            &format!(
                "found {}; the toolchain setup, pinned by commit",
                preset.marker_file()
            ),
        ));
    }
    let after_line = |comment: &str| {
        commented(
            &format!(
                "# after = {}",
                toml_string(proposal.after.as_deref().unwrap_or("CI"))
            ),
            comment,
        )
    };
    let file = proposal.file.as_deref().unwrap_or_default();
    match proposal.source {
        ProposalSource::After => {
            table.push_str(&commented(
                &format!(
                    "after = {}",
                    toml_string(proposal.after.as_deref().unwrap_or_default())
                ),
                &format!("{file} checks every push; staging deploys once it passed"),
            ));
            table.push_str(&format!(
                "# It runs: {}. Instead of waiting for it, `test = [...]` runs checks in\n# staging-deploy.yml itself (then remove `after`).\n",
                proposal.checks.join(", ")
            ));
        }
        ProposalSource::TeamChecks => {
            table.push_str(&commented(
                "test = [",
                &format!("the checks of {file}; they replace the preset's"),
            ));
            for check in &proposal.checks {
                table.push_str(&format!("  {},\n", toml_string(check)));
            }
            table.push_str("]\n");
            table.push_str(&after_line(
                "or, instead of `test`: deploy staging once this workflow of yours passed",
            ));
        }
        ProposalSource::Preset => {
            let because: Vec<String> = rest
                .preset_checks
                .iter()
                .filter_map(|check| {
                    check
                        .because
                        .as_ref()
                        .map(|because| format!("{} ({because})", check.command))
                })
                .collect();
            if !because.is_empty() {
                table.push_str(&format!(
                    "# The preset also runs the linters this repository configures: {}.\n",
                    because.join(", ")
                ));
            }
            table.push_str(&commented(
                &format!(
                    "# test = [{}]",
                    proposal
                        .checks
                        .iter()
                        .map(|check| toml_string(check))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                "the preset's checks; a `test` list replaces them",
            ));
            table.push_str(&after_line(
                "or: deploy staging once your own CI workflow passes",
            ));
        }
        ProposalSource::Nothing => {
            table.push_str(
                "# No uv.lock, package-lock.json, Cargo.toml or go.mod here, and no workflow of yours with\n# checks: list the commands that check a commit, or replace `test` by `after = \"NAME\"` to\n# deploy once your own CI workflow passes.\ntest = []\n",
            );
        }
    }
    if rest.preset.is_some() {
        table.push_str(&match rest.install {
            Install::Action => commented(
                "# stagegate = \"action\"",
                "deploy jobs install the prebuilt stagegate (the default)",
            ),
            Install::CargoXtask => commented(
                "stagegate = \"cargo-xtask\"",
                "deploy jobs run this workspace's `cargo xtask`",
            ),
            Install::Uv => commented(
                "stagegate = \"uv\"",
                "deploy jobs run the stagegate-cli uv.lock pins",
            ),
        });
    }
    table.push_str(&commented(
        "pr_validation = false",
        "true also generates pr-validation.yml (yours is never touched)",
    ));
    table.push_str(&if staging.previews_enabled == Some(true) {
        commented(
            "previews = true",
            &format!(
                "Coolify makes previews of {}: preview.yml verifies each pull request's",
                staging.name
            ),
        )
    } else {
        commented(
            "# previews = true",
            "generates preview.yml: a verified preview per pull request",
        )
    });
    table
}
