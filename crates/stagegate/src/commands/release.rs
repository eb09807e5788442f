//! `release`: tag HEAD as the next version once it is live and healthy on staging.

use std::fmt;

use anyhow::Context as _;
use release_notes::{RangeStart, ReleaseNotes};
use serde::Serialize;
use tag_policy::{Channels, PreId, VersionRequest};

use crate::deploy::{self, DeployReport, ProductionOptions};
use crate::engine::Engine;
use crate::engine::gate::staging_gate;
use crate::exit::{BadInput, Refused};
use crate::repo::short;
use crate::session::{DryRun, Session};

/// How the version is chosen.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum Level {
    /// From the Conventional Commits since the previous release.
    #[default]
    Auto,
    /// A bump level or an explicit version.
    Request(VersionRequest),
}

impl std::str::FromStr for Level {
    type Err = BadInput;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text == "auto" {
            return Ok(Self::Auto);
        }
        text.parse().map(Self::Request).map_err(|error| {
            BadInput(format!(
                "{error}; give `patch`, `minor`, `major`, `auto` or a version like 1.4.0"
            ))
        })
    }
}

/// Whether the new tag is pushed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum Push {
    /// Keep the tag local.
    #[default]
    No,
    /// Push only the new tag to this remote.
    To(String),
}

/// What happens after the tag is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Then {
    /// Nothing: CI deploys the pushed tag.
    #[default]
    Stop,
    /// Run `deploy production` for the new tag.
    DeployProduction,
}

/// Options of `release`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReleaseOptions {
    /// The level.
    pub level: Level,
    /// `--pre ID`.
    pub pre: Option<String>,
    /// `--push [--remote NAME]`.
    pub push: Push,
    /// `--deploy`.
    pub then: Then,
    /// `--dry-run`.
    pub dry_run: DryRun,
}

/// The result of `release`.
#[derive(Debug, Clone, Serialize)]
pub struct ReleaseReport {
    /// The new tag.
    pub tag: String,
    /// The tagged commit.
    pub commit: String,
    /// The release it follows, if any.
    pub previous: Option<String>,
    /// The notes: the tag's message.
    pub notes: String,
    /// Whether anything was written.
    pub dry_run: bool,
    /// The remote the tag was pushed to.
    pub pushed_to: Option<String>,
    /// The production deploy, with `--deploy`.
    pub deploy: Option<DeployReport>,
}

impl fmt::Display for ReleaseReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verb = if self.dry_run { "would tag" } else { "tagged" };
        write!(f, "{verb} {} on {}", self.tag, short(&self.commit))?;
        if let Some(previous) = &self.previous {
            write!(f, " (previous release {previous})")?;
        }
        if let Some(remote) = &self.pushed_to {
            write!(f, ", pushed to {remote}")?;
        }
        writeln!(f)?;
        if let Some(deploy) = &self.deploy {
            writeln!(f, "{deploy}")?;
        }
        write!(f, "\n{}", self.notes)
    }
}

/// Cut a release of HEAD.
///
/// # Errors
///
/// [`Refused`] for a dirty work tree or when HEAD is not the commit live and healthy on
/// staging; [`BadInput`] for a version that exists or is not greater than the previous
/// release, or an empty range with `auto`; git and Coolify failures.
pub async fn release(session: &Session, options: &ReleaseOptions) -> anyhow::Result<ReleaseReport> {
    let engine = Engine::open(session).context("release")?;
    let repo = &engine.repo;
    let dirty = repo.uncommitted_changes().context("release")?;
    if !dirty.is_empty() {
        return Err(anyhow::Error::new(Refused(format!(
            "the work tree has uncommitted changes ({}); commit or stash them: a release tags exactly what staging verified",
            dirty.join(", ")
        )))
        .context("release"));
    }
    let head = repo.resolve_commit("HEAD").context("release")?;
    let sha = crate::repo::commit_sha(head).context("release")?;
    let commit = sha.to_string();
    let releases = engine.releases().context("release")?;
    if let Some(existing) = releases.at_commit(head).last() {
        return finish_existing(session, &engine, options, existing.tag(), &commit)
            .await
            .context("release");
    }

    // The staging gate on HEAD: verified on staging (by the record, even if staging has moved
    // on since, as during a hotfix), or running there and proving it now.
    let relied = staging_gate(
        &engine,
        &sha,
        &format!("HEAD {}", short(&commit)),
        &releases,
    )
    .await
    .context("release")?;

    let policy = &engine.config.tags;
    let previous = releases
        .nearest_reachable(&repo.git(), head, Channels::All)
        .context("release: find the previous release")?;
    let range = release_notes::read_range(&repo.git(), RangeStart::PreviousRelease, "HEAD", policy)
        .context("release: read the commits since the previous release")?;
    let draft = ReleaseNotes::new(&range);
    let request = match &options.level {
        Level::Request(request) => request.clone(),
        Level::Auto => {
            let bump = draft.bump().ok_or_else(|| {
                BadInput(format!(
                    "nothing to release: no commits since {}",
                    previous.map_or("the beginning".to_owned(), |p| p.tag().to_string())
                ))
            })?;
            // Below 1.0.0 a breaking change bumps the minor version (the 0.x convention).
            let below_one = previous.is_some_and(|p| p.tag().version().major == 0)
                && draft
                    .sections()
                    .iter()
                    .any(|section| section.kind() == release_notes::SectionKind::Breaking);
            engine.output.step(format!(
                "{} since {}: a {bump} release{}",
                super::counted(draft.commit_count(), "commit"),
                previous.map_or("the beginning".to_owned(), |p| p.tag().to_string()),
                if below_one {
                    format!(
                        " (below 1.0.0 a breaking change bumps the minor version; `{}` releases 1.0.0)",
                        engine.invocation.command("release major")
                    )
                } else {
                    String::new()
                }
            ));
            VersionRequest::Bump(bump)
        }
    };
    let pre = options
        .pre
        .as_deref()
        .map(str::parse::<PreId>)
        .transpose()
        .map_err(|error| BadInput(format!("--pre: {error}")))?;
    let tag = policy
        .next_release(&request)
        .after(previous.map(|p| p.tag()))
        .prerelease(pre.as_ref())
        .existing(releases.tags())
        .tag()
        .map_err(|error| BadInput(error.to_string()))
        .context("release")?;
    let mut notes = draft.with_version(tag.name());
    if let Some(url) = &engine.config.notes.repository_url {
        notes = notes.with_repository_url(url.clone());
    }
    let notes = format!(
        "{}\n\n{} ({}) was {}.\n",
        notes.to_markdown().trim_end(),
        tag.name(),
        short(&commit),
        relied.describe()
    );

    let mut report = ReleaseReport {
        tag: tag.name().to_owned(),
        commit: commit.clone(),
        previous: previous.map(|p| p.tag().name().to_owned()),
        notes,
        dry_run: options.dry_run.is_dry(),
        pushed_to: None,
        deploy: None,
    };
    if options.dry_run.is_dry() {
        engine.output.step(format!(
            "dry run: would create annotated tag {} on {}",
            tag,
            short(&commit)
        ));
        if let Push::To(remote) = &options.push {
            engine.output.step(format!(
                "dry run: would run git push {remote} refs/tags/{tag}"
            ));
        }
        if options.then == Then::DeployProduction {
            session
                .output
                .step(format!("dry run: would run deploy production --tag {tag}"));
        }
        return Ok(report);
    }

    repo.create_annotated_tag(tag.name(), head, &report.notes)
        .context("release")?;
    session
        .output
        .step(format!("created annotated tag {tag} on {}", short(&commit)));
    engine.output.github_output("tag", tag.name())?;
    engine.output.github_output("commit", &commit)?;
    engine.output.step_summary(&report.notes)?;
    if let Push::To(remote) = &options.push {
        repo.push_tag(remote, tag.name())
            .await
            .with_context(|| format!("release: push {tag} (the tag exists locally; push it with `git push {remote} refs/tags/{tag}`)"))?;
        engine.output.step(format!("pushed {tag} to {remote}"));
        report.pushed_to = Some(remote.clone());
    }
    if options.then == Then::DeployProduction {
        let deployed = deploy::production(session, &ProductionOptions::tag(tag.name()))
            .await
            .with_context(|| {
                format!("release {tag}: the tag exists; the production deploy failed")
            })?;
        report.deploy = Some(deployed);
    }
    Ok(report)
}

/// A release of HEAD that exists already: its tag was made by an earlier run (whose push may
/// have failed). With `--push`, push the tag when the remote lacks it; with `--deploy`, deploy
/// it; without either, say whether the remote has it.
async fn finish_existing(
    session: &Session,
    engine: &Engine,
    options: &ReleaseOptions,
    tag: &tag_policy::ReleaseTag,
    commit: &str,
) -> anyhow::Result<ReleaseReport> {
    let repo = &engine.repo;
    let remote = match &options.push {
        Push::To(remote) => remote.clone(),
        Push::No => "origin".to_owned(),
    };
    let on_remote = repo.remote_has_tag(&remote, tag.name()).await;
    let push_command = format!("git push {remote} refs/tags/{tag}");
    if options.push == Push::No && options.then == Then::Stop {
        let state = match &on_remote {
            Ok(true) => format!("{remote} has it too"),
            Ok(false) => format!(
                "the tag is only in this clone, {remote} does not have it: push it with `{}` (or `{push_command}`)",
                engine.invocation.command("release --push")
            ),
            Err(error) => format!(
                "whether {remote} has it could not be checked ({}): `{push_command}` pushes it",
                crate::exit::message(error)
            ),
        };
        return Err(BadInput(format!(
            "HEAD {} is already released as {tag}; {state}; to release again, commit something new first",
            short(commit)
        ))
        .into());
    }
    let mut report = ReleaseReport {
        tag: tag.name().to_owned(),
        commit: commit.to_owned(),
        previous: None,
        notes: repo.tag_message(tag.name()).unwrap_or_default(),
        dry_run: options.dry_run.is_dry(),
        pushed_to: None,
        deploy: None,
    };
    engine.output.step(format!(
        "HEAD {} is already released as {tag}: finishing that release",
        short(commit)
    ));
    if let Push::To(remote) = &options.push {
        match on_remote {
            Ok(true) => engine
                .output
                .step(format!("{remote} has {tag} already: nothing to push")),
            Ok(false) | Err(_) if options.dry_run.is_dry() => engine.output.step(format!(
                "dry run: would run git push {remote} refs/tags/{tag}"
            )),
            Ok(false) | Err(_) => {
                repo.push_tag(remote, tag.name()).await.with_context(|| {
                    format!("push {tag} (the tag exists locally; push it with `{push_command}`)")
                })?;
                engine.output.step(format!("pushed {tag} to {remote}"));
                report.pushed_to = Some(remote.clone());
            }
        }
    }
    if options.then == Then::DeployProduction {
        if options.dry_run.is_dry() {
            engine
                .output
                .step(format!("dry run: would run deploy production --tag {tag}"));
        } else {
            let deployed = deploy::production(session, &ProductionOptions::tag(tag.name()))
                .await
                .with_context(|| format!("release {tag}: the production deploy failed"))?;
            report.deploy = Some(deployed);
        }
    }
    Ok(report)
}
