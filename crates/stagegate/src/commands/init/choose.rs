//! Which Coolify app is staging and which is production: the flags, the proposals read from
//! names, branches and Coolify environments, and the questions on a terminal.

use anyhow::Context as _;
use coolify_client::{Application, RepositoryId};

use crate::exit::BadInput;
use crate::prompt::Ask;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    Staging,
    Production,
}

impl Role {
    fn flag(self) -> &'static str {
        match self {
            Self::Staging => "--staging",
            Self::Production => "--production",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Staging => "staging",
            Self::Production => "production",
        }
    }

    /// Whether a word of the app's name, branch or Coolify environment says this role.
    pub(super) fn matches(self, app: &Application, environment: Option<&str>) -> bool {
        let words: &[&str] = match self {
            Self::Staging => &[
                "staging", "stage", "stg", "dev", "develop", "preview", "test", "qa",
            ],
            Self::Production => &["production", "prod", "prd", "live"],
        };
        [app.name.as_deref(), app.git_branch.as_deref(), environment]
            .into_iter()
            .flatten()
            .flat_map(|text| {
                text.split(|c: char| !c.is_ascii_alphanumeric())
                    .map(str::to_ascii_lowercase)
                    .collect::<Vec<_>>()
            })
            .any(|word| words.contains(&word.as_str()))
    }
}

/// The outcome of looking at flags and proposals for one role.
pub(super) enum Pick<'a> {
    /// Decided (a flag, or one clear proposal).
    Decided(&'a Application, Source),
    /// Several candidates and a proposal at most: ask, or fail naming the flag.
    Undecided(Option<&'a Application>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Source {
    Flag,
    Proposal,
}

/// The applications `init` chooses staging and production from.
pub(super) struct Candidates<'a> {
    /// Every application the token sees.
    pub(super) applications: &'a [Application],
    /// Those that build this repository.
    pub(super) candidates: &'a [&'a Application],
    /// The name of an application's Coolify project environment.
    pub(super) environment_of: &'a (dyn Fn(&Application) -> Option<String> + Sync),
    /// This repository.
    pub(super) repository: &'a RepositoryId,
    /// How the user runs stagegate.
    pub(super) invocation: &'a crate::Invocation,
}

impl<'a> Candidates<'a> {
    /// The app for `role`: the one `flag` names, or the one proposal among the candidates not
    /// `taken` by the other role, or undecided.
    pub(super) fn choose(
        &self,
        role: Role,
        flag: Option<&str>,
        taken: Option<&str>,
    ) -> anyhow::Result<Pick<'a>> {
        let Self {
            applications,
            candidates,
            environment_of,
            repository,
            invocation,
        } = *self;
        if let Some(wanted) = flag {
            return find_app(applications, wanted, role)
                .map(|app| Pick::Decided(app, Source::Flag));
        }
        if candidates.is_empty() {
            let listed: Vec<String> = applications
                .iter()
                .map(|app| {
                    format!(
                        "{} ({}, {})",
                        app.name.as_deref().unwrap_or("unnamed"),
                        app.uuid,
                        app.git_repository.as_deref().unwrap_or("no repository")
                    )
                })
                .collect();
            return Err(BadInput(format!(
            "init: no Coolify application builds {repository}; the apps there are: {}. Pass them as `{}`, or point the apps at this repository in Coolify",
            if listed.is_empty() { "none".to_owned() } else { listed.join("; ") },
            invocation.command("init --staging APP --production APP"),
        ))
        .into());
        }
        let open: Vec<&Application> = candidates
            .iter()
            .copied()
            .filter(|app| Some(app.uuid.as_str()) != taken)
            .collect();
        let matching: Vec<&Application> = open
            .iter()
            .copied()
            .filter(|app| role.matches(app, environment_of(app).as_deref()))
            .filter(|app| {
                // An app that also reads as the other role is no proposal.
                let other = match role {
                    Role::Staging => Role::Production,
                    Role::Production => Role::Staging,
                };
                !other.matches(app, environment_of(app).as_deref())
            })
            .collect();
        Ok(match (matching.as_slice(), open.as_slice()) {
            ([only], _) => Pick::Decided(only, Source::Proposal),
            // Production is what is left once staging is chosen.
            ([], [only]) if role == Role::Production => Pick::Decided(only, Source::Proposal),
            ([], _) => Pick::Undecided(None),
            ([first, ..], _) => Pick::Undecided(Some(first)),
        })
    }

    /// A pick made final: decided, asked on the terminal, or refused naming the flag.
    pub(super) fn resolve(
        &self,
        pick: Pick<'a>,
        role: Role,
        ask: Option<&mut dyn Ask>,
    ) -> anyhow::Result<&'a Application> {
        let Self {
            candidates,
            environment_of,
            ..
        } = *self;
        let label = |app: &Application| {
            let environment = environment_of(app)
                .map(|name| format!(", environment {name}"))
                .unwrap_or_default();
            format!(
                "{} ({}, branch {}{environment})",
                app.name.as_deref().unwrap_or("unnamed"),
                app.uuid,
                app.git_branch.as_deref().unwrap_or("?")
            )
        };
        let (proposal, decided) = match pick {
            Pick::Decided(app, Source::Flag) => return Ok(app),
            Pick::Decided(app, Source::Proposal) => (Some(app), true),
            Pick::Undecided(proposal) => (proposal, false),
        };
        match (ask, proposal) {
            (Some(ask), _) => {
                let options: Vec<String> = candidates.iter().map(|app| label(app)).collect();
                let default = proposal.and_then(|proposal| {
                    candidates.iter().position(|app| app.uuid == proposal.uuid)
                });
                let index = ask
                    .choose(
                        &format!("Which Coolify app is {}?", role.name()),
                        &options,
                        default,
                    )
                    .context("init: ask on the terminal")?;
                Ok(candidates[index])
            }
            (None, Some(app)) if decided => Ok(app),
            (None, _) => Err(BadInput(format!(
                "init: cannot tell which app is {}: pass {} APP with the uuid or name of one of {}",
                role.name(),
                role.flag(),
                candidates
                    .iter()
                    .map(|app| label(app))
                    .collect::<Vec<_>>()
                    .join("; ")
            ))
            .into()),
        }
    }
}

/// The app a flag names: its uuid, else its name (which must be unique).
fn find_app<'a>(
    applications: &'a [Application],
    wanted: &str,
    role: Role,
) -> anyhow::Result<&'a Application> {
    if let Some(app) = applications.iter().find(|app| app.uuid.as_str() == wanted) {
        return Ok(app);
    }
    let named: Vec<&Application> = applications
        .iter()
        .filter(|app| app.name.as_deref() == Some(wanted))
        .collect();
    match named.as_slice() {
        [only] => Ok(only),
        [] => Err(BadInput(format!(
            "init: {} {wanted}: no Coolify application has that uuid or name; the apps there are: {}",
            role.flag(),
            applications
                .iter()
                .map(|app| format!("{} ({})", app.name.as_deref().unwrap_or("unnamed"), app.uuid))
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .into()),
        several => Err(BadInput(format!(
            "init: {} {wanted}: {} applications have that name; pass the uuid of one: {}",
            role.flag(),
            several.len(),
            several
                .iter()
                .map(|app| app.uuid.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .into()),
    }
}
