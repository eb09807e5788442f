//! Workflows of the team's own that still deploy production on a push to a branch.
//!
//! After `setup` turns production's auto-deploy off, production must move only through
//! `production-deploy.yml` on a release tag. A `ci-cd.yml` that calls Coolify's deploy API or
//! webhook for the production app on every push to `main` defeats that silently, so `init`,
//! `setup` and `status` look for one and name the file, the line and what to remove.
//!
//! The check reads the YAML as text, on purpose: it only has to recognise a push trigger on a
//! branch and a line that addresses the production app (its uuid, or a secret or variable
//! named for a production deploy), and it must not fail on a file it cannot fully parse.
//! Files that `workflows` generated are skipped.

use std::fmt;
use std::path::Path;

use serde::Serialize;

use crate::workflows::{DIRECTORY, is_generated};

/// One workflow line that deploys production on a push to a branch.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct ProductionDeployOnPush {
    /// The workflow file, relative to the repository root.
    pub file: String,
    /// The 1-based line.
    pub line: usize,
    /// The line, trimmed (a secret's value is never in a workflow file, only its name).
    pub text: String,
    /// Why it counts as a production deploy.
    pub reason: String,
}

impl fmt::Display for ProductionDeployOnPush {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}, line {}, still deploys production on every push to a branch ({}): `{}`; remove that step (or its job) so production moves only on a release tag through production-deploy.yml",
            self.file, self.line, self.reason, self.text
        )
    }
}

/// Look through `.github/workflows/*.yml` and `*.yaml` under `root` for the team's own
/// workflows that deploy `production_app` on a push to a branch. A missing directory or an
/// unreadable file is no finding.
pub fn production_deploys_on_push(
    root: &Path,
    production_app: &str,
) -> Vec<ProductionDeployOnPush> {
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
    let mut findings = Vec::new();
    for path in files {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let name = path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        findings.extend(scan(&format!("{DIRECTORY}/{name}"), &text, production_app));
    }
    findings
}

/// The findings in one workflow's text.
pub fn scan(file: &str, text: &str, production_app: &str) -> Vec<ProductionDeployOnPush> {
    if is_generated(text) || !pushes_to_a_branch(text) {
        return Vec::new();
    }
    let lower = text.to_ascii_lowercase();
    let calls_a_deploy = lower.contains("/deploy") || lower.contains("webhook");
    let mut findings = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let code = line.split(" #").next().unwrap_or_default();
        if code.trim_start().starts_with('#') {
            continue;
        }
        let reason = if !production_app.is_empty()
            && code.contains(production_app)
            && calls_a_deploy
        {
            Some(format!(
                "it names the production app {production_app} in a workflow that calls Coolify's deploy API or webhook"
            ))
        } else {
            production_names(code)
                .into_iter()
                .find(|name| {
                    let upper = name.to_ascii_uppercase();
                    ["DEPLOY", "WEBHOOK", "HOOK", "COOLIFY"]
                        .iter()
                        .any(|word| upper.contains(word))
                        || (calls_a_deploy && (upper.contains("UUID") || upper.contains("APP")))
                })
                .map(|name| format!("it uses `{name}`, named for a production deploy"))
        };
        if let Some(reason) = reason {
            findings.push(ProductionDeployOnPush {
                file: file.to_owned(),
                line: index + 1,
                text: line.trim().to_owned(),
                reason,
            });
        }
    }
    findings
}

/// `secrets.NAME` and `vars.NAME` references on a line whose NAME mentions production.
fn production_names(line: &str) -> Vec<String> {
    let mut names = Vec::new();
    for prefix in ["secrets.", "vars."] {
        let mut rest = line;
        while let Some(start) = rest.find(prefix) {
            let after = &rest[start + prefix.len()..];
            let name: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                .collect();
            if name.to_ascii_uppercase().contains("PROD") {
                names.push(format!("{prefix}{name}"));
            }
            rest = &after[name.len()..];
        }
    }
    names
}

/// Whether the workflow's `on:` runs it on a push to a branch (not only on tags).
fn pushes_to_a_branch(text: &str) -> bool {
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

    #[test]
    fn a_push_workflow_that_deploys_production_is_found_line_by_line() {
        let findings = scan(".github/workflows/ci-cd.yml", CI_CD, "prod-uuid-1");
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
    }

    #[test]
    fn tags_pull_requests_and_generated_files_are_not_findings() {
        let tags_only = CI_CD.replace("    branches: [main]", "    tags: ['v*']");
        assert!(scan("x.yml", &tags_only, "prod-uuid-1").is_empty());
        let pull_request = CI_CD.replace("  push:", "  pull_request:");
        assert!(scan("x.yml", &pull_request, "prod-uuid-1").is_empty());
        let generated = format!("{}{CI_CD}", crate::workflows::HEADER);
        assert!(scan("x.yml", &generated, "prod-uuid-1").is_empty());
        let commented = CI_CD.replace("      - run: curl", "      # - run: curl");
        assert_eq!(scan("x.yml", &commented, "prod-uuid-1").len(), 2);
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
