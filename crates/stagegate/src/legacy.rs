//! Workflows of the team's own that still deploy on a push to a branch.
//!
//! After `setup` turns production's auto-deploy off, production must move only through
//! `production-deploy.yml` on a release tag. A `ci-cd.yml` that calls Coolify's deploy API or
//! webhook for the production app on every push to `main` defeats that silently, so `init`,
//! `setup`, `status` and `workflows` look for one and name the file, the line and what to
//! remove. A step that deploys staging on a push is found too: once `staging-deploy.yml`
//! deploys every push, it builds each push twice.
//!
//! A line counts when it addresses an app (its uuid, or a secret or variable named for a
//! production or staging deploy), or when it calls Coolify's deploy API or a deploy webhook
//! (`/api/v1/deploy`, a secret or variable named like a webhook): in a job whose `environment:`
//! is production or staging, that environment; elsewhere it cannot tell which app, and reports
//! it as one that may deploy production.
//!
//! The check reads the YAML as text, on purpose: it only has to recognise a push trigger on a
//! branch, a job's environment and a line that deploys, and it must not fail on a file it
//! cannot fully parse. Files that `workflows` generated are skipped.

use std::fmt;
use std::path::Path;

use serde::Serialize;

use crate::config::{Config, EnvironmentName};
use crate::workflows::{DIRECTORY, is_generated};

/// One workflow line that deploys an app on a push to a branch.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct DeployOnPush {
    /// The workflow file, relative to the repository root.
    pub file: String,
    /// The 1-based line.
    pub line: usize,
    /// The line, trimmed (a secret's value is never in a workflow file, only its name).
    pub text: String,
    /// Why it counts as a deploy of that environment.
    pub reason: String,
    /// The environment it deploys (production too when it cannot tell which app it deploys).
    pub environment: EnvironmentName,
}

/// A workflow line that deploys production (or an app it cannot tell) on a push to a branch.
pub type ProductionDeployOnPush = DeployOnPush;

impl fmt::Display for DeployOnPush {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.environment {
            EnvironmentName::Production => write!(
                f,
                "{}, line {}, still deploys production on every push to a branch ({}): `{}`; remove that step (or its job) so production moves only on a release tag through production-deploy.yml",
                self.file, self.line, self.reason, self.text
            ),
            EnvironmentName::Staging => write!(
                f,
                "{}, line {}, deploys staging on every push ({}): `{}`; stagegate's staging-deploy.yml deploys and verifies each push, so remove that step (or its job), or every push is built twice",
                self.file, self.line, self.reason, self.text
            ),
        }
    }
}

/// The Coolify applications of each environment, by uuid.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Apps {
    /// Staging's apps.
    pub(crate) staging: Vec<String>,
    /// Production's apps.
    pub(crate) production: Vec<String>,
}

impl Apps {
    /// The apps of a config.
    pub(crate) fn of(config: &Config) -> Self {
        let uuids = |environment: EnvironmentName| {
            config
                .environment(environment)
                .apps
                .iter()
                .map(|app| app.uuid.to_string())
                .collect()
        };
        Self {
            staging: uuids(EnvironmentName::Staging),
            production: uuids(EnvironmentName::Production),
        }
    }
}

/// The `.github/workflows/*.yml` and `*.yaml` files under `root`, sorted, with their text
/// (unreadable files left out).
pub(crate) fn workflow_files(root: &Path) -> Vec<(String, String)> {
    let Ok(entries) = std::fs::read_dir(root.join(DIRECTORY)) else {
        return Vec::new();
    };
    let mut files: Vec<_> = entries
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| {
            path.extension()
                .is_some_and(|extension| extension == "yml" || extension == "yaml")
        })
        .collect();
    files.sort();
    files
        .into_iter()
        .filter_map(|path| {
            let text = std::fs::read_to_string(&path).ok()?;
            let name = path.file_name()?.to_string_lossy().into_owned();
            Some((format!("{DIRECTORY}/{name}"), text))
        })
        .collect()
}

/// Look through the workflows under `root` for the team's own that deploy one of `apps` on a
/// push to a branch. A missing directory or an unreadable file is no finding.
pub(crate) fn deploys_on_push(root: &Path, apps: &Apps) -> Vec<DeployOnPush> {
    workflow_files(root)
        .iter()
        .flat_map(|(file, text)| scan(file, text, apps))
        .collect()
}

/// Those of [`deploys_on_push`] that deploy production (or an app it cannot tell).
pub(crate) fn production_deploys_on_push(root: &Path, apps: &Apps) -> Vec<DeployOnPush> {
    deploys_on_push(root, apps)
        .into_iter()
        .filter(|finding| finding.environment == EnvironmentName::Production)
        .collect()
}

/// Which environment a line's words point at.
fn named_environment(text: &str) -> Option<EnvironmentName> {
    let upper = text.to_ascii_uppercase();
    if upper.contains("PROD") {
        Some(EnvironmentName::Production)
    } else if upper.contains("STAG") || upper.contains("STG") {
        Some(EnvironmentName::Staging)
    } else {
        None
    }
}

/// The findings in one workflow's text.
pub(crate) fn scan(file: &str, text: &str, apps: &Apps) -> Vec<DeployOnPush> {
    if is_generated(text) || !pushes_to_a_branch(text) {
        return Vec::new();
    }
    let lower = text.to_ascii_lowercase();
    let calls_a_deploy = lower.contains("/deploy") || lower.contains("webhook");
    let jobs = job_environments(text);
    let mut findings = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let code = line.split(" #").next().unwrap_or_default();
        if code.trim_start().starts_with('#') {
            continue;
        }
        let uuid_of = |uuids: &[String]| {
            uuids
                .iter()
                .find(|uuid| !uuid.is_empty() && code.contains(uuid.as_str()))
                .cloned()
        };
        let mut found = None;
        if calls_a_deploy {
            if let Some(uuid) = uuid_of(&apps.production) {
                found = Some((
                    EnvironmentName::Production,
                    format!(
                        "it names the production app {uuid} in a workflow that calls Coolify's deploy API or webhook"
                    ),
                ));
            } else if let Some(uuid) = uuid_of(&apps.staging) {
                found = Some((
                    EnvironmentName::Staging,
                    format!(
                        "it names the staging app {uuid} in a workflow that calls Coolify's deploy API or webhook"
                    ),
                ));
            }
        }
        if found.is_none() {
            found = names(code).into_iter().find_map(|name| {
                let upper = name.to_ascii_uppercase();
                let deploys = ["DEPLOY", "WEBHOOK", "HOOK", "COOLIFY"]
                    .iter()
                    .any(|word| upper.contains(word))
                    || (calls_a_deploy && (upper.contains("UUID") || upper.contains("APP")));
                let environment = named_environment(&name.replace("secrets.", ""))?;
                deploys.then(|| {
                    (
                        environment,
                        format!("it uses `{name}`, named for a {environment} deploy"),
                    )
                })
            });
        }
        if found.is_none() && is_deploy_call(code) {
            found = Some(match jobs.get(index).copied().flatten() {
                Some(environment) => (
                    environment,
                    format!("it calls Coolify's deploy API or a deploy webhook in a job of the `{environment}` environment"),
                ),
                None => (
                    EnvironmentName::Production,
                    "it calls Coolify's deploy API or a deploy webhook, for an app it does not name: make sure it is not production".to_owned(),
                ),
            });
        }
        if let Some((environment, reason)) = found {
            findings.push(DeployOnPush {
                file: file.to_owned(),
                line: index + 1,
                text: line.trim().to_owned(),
                reason,
                environment,
            });
        }
    }
    findings
}

/// Whether a line calls Coolify's deploy API or a deploy webhook: `/api/v1/deploy`, or a
/// secret or variable named like a webhook.
fn is_deploy_call(code: &str) -> bool {
    let lower = code.to_ascii_lowercase();
    lower.contains("/api/v1/deploy")
        || names(code).iter().any(|name| {
            let upper = name.to_ascii_uppercase();
            upper.contains("WEBHOOK") || upper.contains("DEPLOY_HOOK")
        })
}

/// The environment of the job each line belongs to (by line index), from the job's
/// `environment:` (`production`, `{ name: production }` or a `name:` line below it).
fn job_environments(text: &str) -> Vec<Option<EnvironmentName>> {
    let lines: Vec<&str> = text.lines().collect();
    let indent = |line: &str| line.len() - line.trim_start().len();
    let mut result = vec![None; lines.len()];
    let Some(jobs) = lines.iter().position(|line| line.trim_end() == "jobs:") else {
        return result;
    };
    let mut job_indent = None;
    let mut start = jobs + 1;
    let mut index = jobs + 1;
    let flush = |from: usize, to: usize, result: &mut Vec<Option<EnvironmentName>>| {
        let mut environment = None;
        for (offset, line) in lines[from..to].iter().enumerate() {
            let trimmed = line.trim();
            if let Some(value) = trimmed.strip_prefix("environment:") {
                let value = value.split(" #").next().unwrap_or_default().trim();
                environment = if value.is_empty() {
                    lines[from + offset + 1..to]
                        .iter()
                        .map(|line| line.trim())
                        .find_map(|line| line.strip_prefix("name:"))
                        .and_then(named_environment)
                } else {
                    named_environment(value)
                };
            }
        }
        for slot in &mut result[from..to] {
            *slot = environment;
        }
    };
    while index < lines.len() {
        let line = lines[index];
        if !line.trim().is_empty() && !line.trim_start().starts_with('#') {
            if indent(line) == 0 {
                break;
            }
            let this = indent(line);
            let is_job = match job_indent {
                None => {
                    job_indent = Some(this);
                    true
                }
                Some(job) => this == job,
            };
            if is_job && index > start {
                flush(start, index, &mut result);
                start = index;
            }
        }
        index += 1;
    }
    flush(start, index, &mut result);
    result
}

/// The `secrets.NAME` and `vars.NAME` references on a line.
fn names(line: &str) -> Vec<String> {
    let mut names = Vec::new();
    for prefix in ["secrets.", "vars."] {
        let mut rest = line;
        while let Some(start) = rest.find(prefix) {
            let after = &rest[start + prefix.len()..];
            let name: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                .collect();
            if !name.is_empty() {
                names.push(format!("{prefix}{name}"));
            }
            rest = &after[name.len()..];
        }
    }
    names
}

/// Whether the workflow's `on:` runs it on a push to a branch (not only on tags).
pub(crate) fn pushes_to_a_branch(text: &str) -> bool {
    let lines: Vec<&str> = text.lines().collect();
    let Some(start) = lines.iter().position(|line| {
        let line = line.trim_end();
        line.starts_with("on:") || line.starts_with("\"on\":") || line.starts_with("'on':")
    }) else {
        return false;
    };
    let inline = lines[start]
        .split_once(':')
        .map(|(_, value)| value)
        .unwrap_or_default();
    let inline = inline.split(" #").next().unwrap_or_default().trim();
    if !inline.is_empty() {
        // `on: push`, `on: [push, pull_request]`
        return inline
            .trim_matches(|c| c == '[' || c == ']')
            .split(',')
            .any(|event| event.trim().trim_matches(['"', '\'']) == "push");
    }
    let block: Vec<&str> = lines[start + 1..]
        .iter()
        .take_while(|line| line.is_empty() || line.starts_with(' ') || line.starts_with('#'))
        .copied()
        .collect();
    let Some(push) = block.iter().position(|line| {
        let trimmed = line.trim_start();
        trimmed.starts_with("push:") || trimmed.starts_with("push :")
    }) else {
        return false;
    };
    let indent = block[push].len() - block[push].trim_start().len();
    let children: Vec<&str> = block[push + 1..]
        .iter()
        .filter(|line| !line.trim().is_empty() && !line.trim_start().starts_with('#'))
        .take_while(|line| line.len() - line.trim_start().len() > indent)
        .copied()
        .collect();
    let has = |key: &str| {
        children
            .iter()
            .any(|line| line.trim_start().starts_with(key))
    };
    // `push:` with only `tags:` runs on tags, not on branches.
    !has("tags") || has("branches")
}

#[cfg(test)]
mod tests {
    use super::*;

    const CI_CD: &str = r#"name: CI/CD
on:
  push:
    branches: [main]
jobs:
  deploy:
    runs-on: ubuntu-latest
    steps:
      - name: Deploy staging
        run: curl -fsS "$COOLIFY_URL/api/v1/deploy?uuid=${{ secrets.STAGING_APP_UUID }}" -H "Authorization: Bearer ${{ secrets.COOLIFY_TOKEN }}"
      - name: Deploy production
        run: curl -fsS "$COOLIFY_URL/api/v1/deploy?uuid=${{ secrets.PRODUCTION_APP_UUID }}" -H "Authorization: Bearer ${{ secrets.COOLIFY_TOKEN }}"
      - name: Webhook
        run: curl -fsS -X POST "${{ secrets.PROD_DEPLOY_WEBHOOK }}"
      - run: curl -X POST https://coolify.example.com/api/v1/deploy?uuid=prod-uuid-1
"#;

    fn apps() -> Apps {
        Apps {
            staging: vec!["stg-uuid-1".to_owned()],
            production: vec!["prod-uuid-1".to_owned()],
        }
    }

    fn production(file: &str, text: &str) -> Vec<DeployOnPush> {
        scan(file, text, &apps())
            .into_iter()
            .filter(|finding| finding.environment == EnvironmentName::Production)
            .collect()
    }

    #[test]
    fn a_push_workflow_that_deploys_production_is_found_line_by_line() {
        let findings = production(".github/workflows/ci-cd.yml", CI_CD);
        let lines: Vec<usize> = findings.iter().map(|finding| finding.line).collect();
        assert_eq!(lines, [12, 14, 15], "{findings:#?}");
        assert!(findings[0].reason.contains("secrets.PRODUCTION_APP_UUID"));
        assert!(findings[2].reason.contains("prod-uuid-1"));
        let message = findings[0].to_string();
        assert!(
            message.starts_with(".github/workflows/ci-cd.yml, line 12, still deploys production"),
            "{message}"
        );
        assert!(message.contains("remove that step"), "{message}");
        // The staging deploy of the same workflow is found too: each push would build twice.
        let staging: Vec<DeployOnPush> = scan("ci-cd.yml", CI_CD, &apps())
            .into_iter()
            .filter(|finding| finding.environment == EnvironmentName::Staging)
            .collect();
        assert_eq!(staging.len(), 1, "{staging:#?}");
        assert_eq!(staging[0].line, 10);
        assert!(
            staging[0]
                .to_string()
                .contains("deploys staging on every push"),
            "{}",
            staging[0]
        );
    }

    #[test]
    fn a_deploy_call_counts_by_its_jobs_environment_or_as_possibly_production() {
        let text = r#"name: Deploy
on: push
jobs:
  staging:
    environment: staging
    runs-on: ubuntu-latest
    steps:
      - run: curl -X POST "$COOLIFY/api/v1/deploy?uuid=$APP"
        env:
          APP: ${{ vars.APP_UUID }}
  production:
    environment:
      name: production
      url: https://example.com
    runs-on: ubuntu-latest
    steps:
      - run: curl -X POST "$COOLIFY/api/v1/deploy?uuid=$APP" -H "Authorization: Bearer $TOKEN"
        env:
          APP: ${{ vars.APP_UUID }}
  hook:
    runs-on: ubuntu-latest
    steps:
      - run: curl -fsS -X POST "${{ secrets.COOLIFY_WEBHOOK }}"
      - run: echo done
"#;
        let findings = scan("deploy.yml", text, &apps());
        let found: Vec<(usize, EnvironmentName)> = findings
            .iter()
            .map(|finding| (finding.line, finding.environment))
            .collect();
        assert_eq!(
            found,
            [
                (8, EnvironmentName::Staging),
                (17, EnvironmentName::Production),
                (23, EnvironmentName::Production),
            ],
            "{findings:#?}"
        );
        assert!(
            findings[1]
                .reason
                .contains("in a job of the `production` environment"),
            "{}",
            findings[1].reason
        );
        assert!(
            findings[2]
                .reason
                .contains("make sure it is not production"),
            "{}",
            findings[2].reason
        );
    }

    #[test]
    fn tags_pull_requests_and_generated_files_are_not_findings() {
        let tags_only = CI_CD.replace("    branches: [main]", "    tags: ['v*']");
        assert!(scan("x.yml", &tags_only, &apps()).is_empty());
        let pull_request = CI_CD.replace("  push:", "  pull_request:");
        assert!(scan("x.yml", &pull_request, &apps()).is_empty());
        let generated = format!("{}{CI_CD}", crate::workflows::HEADER);
        assert!(scan("x.yml", &generated, &apps()).is_empty());
        let commented = CI_CD.replace("      - run: curl", "      # - run: curl");
        assert_eq!(production("x.yml", &commented).len(), 2);
    }

    #[test]
    fn every_spelling_of_a_push_trigger_counts() {
        assert!(pushes_to_a_branch("on: push\n"));
        assert!(pushes_to_a_branch("on: [pull_request, push]\n"));
        assert!(pushes_to_a_branch("on:\n  push:\n  workflow_dispatch:\n"));
        assert!(pushes_to_a_branch(
            "\"on\":\n  push:\n    branches-ignore: [x]\n"
        ));
        assert!(!pushes_to_a_branch(
            "on:\n  push:\n    tags: [v*]\njobs: {}\n"
        ));
        assert!(!pushes_to_a_branch("on: workflow_dispatch\n"));
        assert!(!pushes_to_a_branch("name: x\n"));
    }
}
