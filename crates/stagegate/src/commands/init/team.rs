//! The team's own workflows, read to propose how the generated ones check a commit: the
//! checks a workflow of theirs runs (its one-line `run:` steps that are neither setup nor a
//! deploy), and whether it runs on a push to a branch, so that staging can wait for it
//! (`after`) instead of running the same checks a second time.

use std::path::Path;

use serde::Serialize;

use crate::config::Preset;
use crate::legacy::{self, Apps};
use crate::workflows::{Check, is_generated};

/// One workflow of the team's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct TeamWorkflow {
    /// Its path, relative to the repository root.
    pub(super) file: String,
    /// Its `name:`.
    pub(super) name: Option<String>,
    /// Whether a push to a branch runs it.
    pub(super) on_push: bool,
    /// The commands it checks a commit with, in order.
    pub(super) checks: Vec<String>,
}

/// Commands that set a runner up rather than check a commit: the preset does its own setup.
const SETUP: [&str; 16] = [
    "uv sync",
    "uv pip install",
    "uv venv",
    "pip install",
    "python -m pip install",
    "pipx install",
    "poetry install",
    "npm ci",
    "npm install",
    "yarn install",
    "pnpm install",
    "go mod download",
    "cargo fetch",
    "rustup ",
    "echo ",
    "cd ",
];

/// The team's workflows under `root` (stagegate's own skipped), in file order.
pub(super) fn team_workflows(root: &Path, apps: &Apps) -> Vec<TeamWorkflow> {
    legacy::workflow_files(root)
        .into_iter()
        .filter(|(_, text)| !is_generated(text))
        .map(|(file, text)| {
            let deploy_lines: Vec<usize> = legacy::scan(&file, &text, apps)
                .iter()
                .map(|finding| finding.line)
                .collect();
            TeamWorkflow {
                name: workflow_name(&text),
                on_push: legacy::pushes_to_a_branch(&text),
                checks: run_commands(&text)
                    .into_iter()
                    .filter(|(line, command)| !deploy_lines.contains(line) && is_a_check(command))
                    .map(|(_, command)| command)
                    .collect(),
                file,
            }
        })
        .collect()
}

/// The top-level `name:` of a workflow.
fn workflow_name(text: &str) -> Option<String> {
    text.lines()
        .find_map(|line| line.strip_prefix("name:"))
        .map(|name| unquote(name.split(" #").next().unwrap_or_default().trim()))
        .filter(|name| !name.is_empty() && !name.contains("${{"))
}

/// Each one-line `run:` step (a block of one line counts), with its 1-based line.
fn run_commands(text: &str) -> Vec<(usize, String)> {
    let lines: Vec<&str> = text.lines().collect();
    let indent = |line: &str| line.len() - line.trim_start().len();
    let mut commands = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start().trim_start_matches("- ");
        let Some(value) = trimmed.strip_prefix("run:") else {
            continue;
        };
        let value = value.trim();
        if value.starts_with('|') || value.starts_with('>') {
            let body: Vec<(usize, &str)> = lines[index + 1..]
                .iter()
                .enumerate()
                .take_while(|(_, body)| body.trim().is_empty() || indent(body) > indent(line))
                .filter(|(_, body)| !body.trim().is_empty())
                .map(|(offset, body)| (index + 2 + offset, body.trim()))
                .collect();
            if let [(number, only)] = body.as_slice() {
                commands.push((*number, (*only).to_owned()));
            }
        } else if !value.is_empty() {
            commands.push((
                index + 1,
                unquote(value.split(" #").next().unwrap_or(value)),
            ));
        }
    }
    commands
}

/// Whether a command checks a commit (not setup, not a deploy, nothing GitHub would expand).
fn is_a_check(command: &str) -> bool {
    let lower = command.to_ascii_lowercase();
    !command.contains("${{")
        && !command.trim().is_empty()
        && !lower.contains("/deploy")
        && !lower.contains("webhook")
        && !lower.starts_with("curl ")
        && !SETUP.iter().any(|setup| lower.starts_with(setup))
}

/// A YAML scalar without its quotes.
fn unquote(value: &str) -> String {
    let value = value.trim();
    for quote in ['\'', '"'] {
        if let Some(inner) = value
            .strip_prefix(quote)
            .and_then(|rest| rest.strip_suffix(quote))
        {
            return if quote == '\'' {
                inner.replace("''", "'")
            } else {
                inner.to_owned()
            };
        }
    }
    value.to_owned()
}

/// How the generated workflows are proposed to check a commit, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkflowsProposal {
    /// Where the proposal comes from.
    pub source: ProposalSource,
    /// The workflow file it was read from (for `after` and `team_checks`).
    pub file: Option<String>,
    /// The checks that run before each staging deploy (for `after`: the ones the team's
    /// workflow runs).
    pub checks: Vec<String>,
    /// The name of the team's workflow staging waits for (`after`), or, for the other
    /// sources, the one the config's commented `after` names.
    pub after: Option<String>,
}

/// Where `init`'s proposal for `[workflows]` comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProposalSource {
    /// A workflow of the team's checks every push: staging waits for it (`after`), so the
    /// checks do not run twice.
    After,
    /// A workflow of the team's (pull requests, say) has checks: they become `test`.
    TeamChecks,
    /// The preset's checks (with the linters the repository configures).
    Preset,
    /// Nothing to go by: `test = []` to fill in.
    Nothing,
}

/// The proposal for a repository whose team runs `workflows` and whose files pick `preset`.
pub(super) fn propose(
    workflows: &[TeamWorkflow],
    preset: Option<Preset>,
    preset_checks: &[Check],
) -> WorkflowsProposal {
    let named_push = workflows
        .iter()
        .find(|workflow| workflow.on_push && workflow.name.is_some());
    if let Some(workflow) = workflows
        .iter()
        .find(|workflow| workflow.on_push && workflow.name.is_some() && !workflow.checks.is_empty())
    {
        return WorkflowsProposal {
            source: ProposalSource::After,
            file: Some(workflow.file.clone()),
            checks: workflow.checks.clone(),
            after: workflow.name.clone(),
        };
    }
    let after = named_push.and_then(|workflow| workflow.name.clone());
    if let Some(workflow) = workflows
        .iter()
        .find(|workflow| !workflow.checks.is_empty())
    {
        return WorkflowsProposal {
            source: ProposalSource::TeamChecks,
            file: Some(workflow.file.clone()),
            checks: workflow.checks.clone(),
            after,
        };
    }
    match preset {
        Some(_) => WorkflowsProposal {
            source: ProposalSource::Preset,
            file: None,
            checks: preset_checks
                .iter()
                .map(|check| check.command.clone())
                .collect(),
            after,
        },
        None => WorkflowsProposal {
            source: ProposalSource::Nothing,
            file: None,
            checks: Vec::new(),
            after,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_runs_that_are_checks_are_read_with_their_lines() {
        let text = "name: 'PR validation'\non:\n  pull_request:\njobs:\n  checks:\n    steps:\n      - run: uv sync --locked\n      - run: 'uv run pytest'\n      - name: lint\n        run: |\n          uv run ruff check\n      - run: |\n          make a\n          make b\n      - run: echo \"${{ github.sha }}\"\n      - run: curl -X POST \"$HOOK/api/v1/deploy?uuid=x\"\n";
        assert_eq!(workflow_name(text).as_deref(), Some("PR validation"));
        let commands: Vec<String> = run_commands(text)
            .into_iter()
            .filter(|(_, command)| is_a_check(command))
            .map(|(_, command)| command)
            .collect();
        assert_eq!(commands, ["uv run pytest", "uv run ruff check"]);
        assert_eq!(run_commands(text)[1].0, 8);
    }

    fn workflow(file: &str, name: &str, on_push: bool, checks: &[&str]) -> TeamWorkflow {
        TeamWorkflow {
            file: file.to_owned(),
            name: Some(name.to_owned()),
            on_push,
            checks: checks.iter().map(|&check| check.to_owned()).collect(),
        }
    }

    #[test]
    fn a_push_workflow_with_checks_is_waited_for_and_else_the_checks_are_copied() {
        let pr = workflow("pr.yml", "PR validation", false, &["uv run pytest"]);
        let deploy_only = workflow("ci-cd.yml", "CI/CD", true, &[]);
        let ci = workflow("ci.yml", "CI", true, &["make test"]);
        let proposal = propose(&[pr.clone(), ci], Some(Preset::PythonUv), &[]);
        assert_eq!(proposal.source, ProposalSource::After);
        assert_eq!(proposal.after.as_deref(), Some("CI"));
        let proposal = propose(&[deploy_only.clone(), pr], Some(Preset::PythonUv), &[]);
        assert_eq!(proposal.source, ProposalSource::TeamChecks);
        assert_eq!(proposal.checks, ["uv run pytest"]);
        assert_eq!(proposal.after.as_deref(), Some("CI/CD"));
        let proposal = propose(&[deploy_only], None, &[]);
        assert_eq!(proposal.source, ProposalSource::Nothing);
    }
}
