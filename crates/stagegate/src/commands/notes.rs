//! `notes`: release notes for a range, in any git repository, with or without a deploy.toml.

use std::path::PathBuf;

use anyhow::Context as _;
use release_notes::{RangeStart, ReleaseNotes};
use serde::Serialize;
use tag_policy::TagPolicy;
use url::Url;

use crate::config::Config;
use crate::exit::BadInput;
use crate::files::{Replace, write_atomically};
use crate::output::Format;
use crate::session::Session;

/// Options of `notes`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotesOptions {
    /// `--from` (default: the previous release reachable from `to`).
    pub from: Option<String>,
    /// `--to`.
    pub to: String,
    /// `-o FILE`.
    pub output: Option<PathBuf>,
}

impl Default for NotesOptions {
    fn default() -> Self {
        Self {
            from: None,
            to: "HEAD".to_owned(),
            output: None,
        }
    }
}

/// What `notes` rendered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotesReport {
    /// The notes: Markdown, or the JSON document with `--format json`.
    pub notes: String,
    /// The file they were written to (`-o`), if any.
    pub written_to: Option<PathBuf>,
}

/// Render the notes (Markdown, or JSON with `--format json`), and write them to a file with
/// `-o`.
///
/// # Errors
///
/// [`BadInput`] for an unknown ref or a `from` that is not an ancestor of `to`; a bad
/// deploy.toml when one exists; the file cannot be written.
pub fn notes(session: &Session, options: &NotesOptions) -> anyhow::Result<NotesReport> {
    let repo = session.open_repo().context("notes")?;
    // The config is optional here: its tag prefix and repository URL are used when present.
    let (policy, repository_url): (TagPolicy, Option<Url>) = {
        let path = session.config_path(&repo);
        if path.exists() || session.config.is_some() {
            let config = Config::load(&path, &session.process_env).context("notes")?;
            (config.tags, config.notes.repository_url)
        } else {
            (TagPolicy::default(), None)
        }
    };
    let git = repo.git();
    let range = release_notes::read_range(
        &git,
        RangeStart::from_flag(options.from.as_deref()),
        &options.to,
        &policy,
    )
    .map_err(|error| match error {
        release_notes::Error::Git { .. } => anyhow::Error::new(error),
        // A reversed range is one way `from` is not an ancestor of `to`; it is only looked
        // for then, as the check walks the range again.
        release_notes::Error::NotAncestor {
            from,
            to,
            merge_base,
            ..
        } => match options
            .from
            .as_deref()
            .map(|flag| refuse_a_reversed_range(session, &git, flag, &options.to))
        {
            Some(Err(reversed)) => reversed,
            _ => not_an_ancestor(session, &from, &to, merge_base.as_deref()).into(),
        },
        other => BadInput(other.to_string()).into(),
    })
    .context("notes")?;
    let mut notes = ReleaseNotes::from_range(range);
    if let Some(url) = repository_url {
        notes = notes.with_repository_url(url);
    }
    let text = match session.output.format() {
        Format::Text => notes.to_markdown(),
        Format::Json => notes.to_json(),
    };
    if let Some(path) = &options.output {
        write_atomically(path, &text, Replace::Yes).context("notes")?;
        session.output.step(format!("wrote {}", path.display()));
    }
    Ok(NotesReport {
        notes: text,
        written_to: options.output.clone(),
    })
}

/// `--from` after `--to` (`--from HEAD --to HEAD~1`): their merge base is `--to` itself, so the
/// range would be empty; say that they are the wrong way round.
fn refuse_a_reversed_range(
    session: &Session,
    git: &git2::Repository,
    from: &str,
    to: &str,
) -> anyhow::Result<()> {
    // An unknown ref is left to release-notes, which names it.
    let commit = |revision: &str| {
        git.revparse_single(revision)
            .and_then(|object| object.peel_to_commit())
            .map(|commit| commit.id())
            .ok()
    };
    let (Some(from_commit), Some(to_commit)) = (commit(from), commit(to)) else {
        return Ok(());
    };
    if from_commit == to_commit {
        return Ok(());
    }
    let reversed = git
        .graph_descendant_of(from_commit, to_commit)
        .with_context(|| format!("check whether `{from}` comes after `{to}`"))?;
    if reversed {
        return Err(BadInput(format!(
            "the range is reversed: `{from}` (--from) comes after `{to}` (--to), so it lists nothing; swap them: `{}`",
            session
                .invocation
                .command(format!("notes --from {to} --to {from}"))
        ))
        .into());
    }
    Ok(())
}

/// release-notes' `NotAncestor`, with the command that lists what `to` added.
fn not_an_ancestor(session: &Session, from: &str, to: &str, merge_base: Option<&str>) -> BadInput {
    BadInput(match merge_base {
        Some(base) => format!(
            "`{from}` is not an ancestor of `{to}`; to list what `{to}` added since they diverged, start at their merge base: `{}`",
            session
                .invocation
                .command(format!("notes --from {base} --to {to}"))
        ),
        None => format!(
            "`{from}` is not an ancestor of `{to}` and they share no history; pass a --from on the history of `{to}`, or leave it out to start at the previous release"
        ),
    })
}
