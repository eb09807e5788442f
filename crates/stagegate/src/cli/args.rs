//! What the command line accepts, and how each command's flags become its flow's options.
//!
//! Every type here is parsing only; the flows live in the library's command modules.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::backup::{BackupLocation, Values};
use crate::config::EnvironmentName;
use crate::deploy::{AutoRollback, GateCheck, ProductionOptions, StagingOptions};
use crate::env::Prune;
use crate::output::{Format, Verbosity};
use crate::release::{Push, Then};
use crate::rollback::RollbackOptions;
use crate::setup::SetupOptions;
use crate::{DryRun, notes, workflows};

/// Staged releases for services hosted on Coolify.
///
/// Every push to `main` goes to staging and is verified live; production moves only on a
/// semver release tag whose exact commit was verified on staging.
#[derive(Debug, Parser)]
#[command(name = "stagegate", version, about, long_about)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// The git repository (default: discovered from the current directory).
    #[arg(long, global = true, value_name = "PATH")]
    pub repo: Option<PathBuf>,
    /// The deploy config (default: deploy.toml at the repository root).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Output format: `text` (for `notes`: Markdown, also spelled `md`) or `json`
    /// (one JSON document on stdout; logs go to stderr).
    #[arg(long, global = true, value_enum, default_value_t = FormatArg::Text)]
    pub format: FormatArg,
    /// More detail in logs (repeat for more).
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,
    /// Only errors.
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

impl GlobalArgs {
    /// `-q` and `-v`.
    pub fn verbosity(&self) -> Verbosity {
        match (self.quiet, self.verbose) {
            (true, _) => Verbosity::Quiet,
            (false, 0) => Verbosity::Normal,
            (false, _) => Verbosity::Verbose,
        }
    }
}

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// Human-readable text; Markdown for `notes`.
    Text,
    /// Markdown: the notes, or `history`'s tables (other commands print text).
    #[value(name = "md", alias = "markdown")]
    Markdown,
    /// One JSON document on stdout.
    Json,
}

impl FormatArg {
    /// How `history` shows its report.
    pub(crate) fn history(self) -> crate::history::HistoryFormat {
        match self {
            Self::Text => crate::history::HistoryFormat::Text,
            Self::Markdown => crate::history::HistoryFormat::Markdown,
            Self::Json => crate::history::HistoryFormat::Json,
        }
    }
}

impl From<FormatArg> for Format {
    fn from(format: FormatArg) -> Self {
        match format {
            FormatArg::Text | FormatArg::Markdown => Self::Text,
            FormatArg::Json => Self::Json,
        }
    }
}

/// `--dry-run`, shared by every command that changes anything.
/// An environment of `deploy.toml`, so that clap lists the possible values in usage errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EnvironmentArg {
    Staging,
    Production,
}

/// The `ENV` argument of `env diff`, `env sync` and `backup`.
#[derive(Debug, Clone, Copy, Args)]
pub struct EnvironmentPositional {
    /// The environment, as named in deploy.toml.
    #[arg(value_name = "ENV", value_enum)]
    pub environment: EnvironmentArg,
}

impl From<EnvironmentPositional> for EnvironmentName {
    fn from(positional: EnvironmentPositional) -> Self {
        positional.environment.into()
    }
}

impl From<EnvironmentArg> for EnvironmentName {
    fn from(environment: EnvironmentArg) -> Self {
        match environment {
            EnvironmentArg::Staging => EnvironmentName::Staging,
            EnvironmentArg::Production => EnvironmentName::Production,
        }
    }
}

/// The shape of a release tag, checked while parsing the command line so that a malformed
/// `--tag` is refused before the config and the token are read.
///
/// The config's `[tags]` prefix is not known yet, so any prefix is accepted here: the tag must
/// be some prefix (not ending in a digit, as `tag-policy` requires) followed by a strict semver
/// version, judged by `tag-policy`'s own parser. Whether the prefix is the configured one is
/// checked once the config is loaded, still before the token is read.
fn release_tag_shape(tag: &str) -> Result<String, String> {
    let expected =
        "expected a release tag: the `[tags]` prefix, then MAJOR.MINOR.PATCH, e.g. v1.4.2";
    // Every place a version could start: a digit that does not follow a digit.
    let starts = tag.char_indices().filter(|&(index, c)| {
        c.is_ascii_digit() && !tag[..index].ends_with(|before: char| before.is_ascii_digit())
    });
    let mut first_error = None;
    for (index, _) in starts {
        let Ok(policy) =
            tag_policy::TagPolicy::new(&tag[..index], tag_policy::PrereleaseAdmission::Allowed)
        else {
            continue;
        };
        match policy.parse(tag) {
            Ok(_) => return Ok(tag.to_owned()),
            Err(error) => {
                first_error.get_or_insert(error);
            }
        }
    }
    Err(match first_error {
        Some(error) => format!("{error}; {expected}"),
        None => format!("`{tag}` has no version; {expected}"),
    })
}

#[derive(Debug, Args)]
pub struct DryRunArg {
    /// Do every read, print every write that would be made, and make none.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Deploy to an environment and verify it serves the deployed commit.
    #[command(subcommand)]
    Deploy(DeployCommand),
    /// Deploy an earlier release tag to production.
    Rollback(RollbackArgs),
    /// Cut a release of HEAD once it is live and healthy on staging.
    Release(ReleaseArgs),
    /// What each environment runs, whether it is healthy, and how far main is ahead.
    Status,
    /// Release notes for a range of commits.
    Notes(NotesArgs),
    /// Compare or sync the environment variables of an environment's apps with deploy.toml.
    #[command(subcommand)]
    Env(EnvCommand),
    /// Export the settings and environment variables of an environment's apps as JSON.
    Backup(BackupArgs),
    /// Configure Coolify for the staged flow (production auto-deploy off, branches, env vars).
    Setup(SetupArgs),
    /// Write the GitHub Actions workflows from the config (only files stagegate generated).
    Workflows(WorkflowsArgs),
    /// Find this repository's apps in Coolify and write deploy.toml.
    Init(InitArgs),
    /// The audit trail of the release record and the four delivery metrics.
    History(HistoryArgs),
    /// A pull request's preview in Coolify: deploy and verify it, remove it, list them.
    #[command(subcommand)]
    Preview(PreviewCommand),
    /// Run the whole story locally against a fake Coolify: no account needed.
    Demo(DemoArgs),
}

#[derive(Debug, Subcommand)]
pub enum DeployCommand {
    /// Deploy a commit (default HEAD) to staging and wait until staging serves it.
    Staging(DeployStagingArgs),
    /// Deploy a release tag to production, gated on staging.
    Production(DeployProductionArgs),
}

#[derive(Debug, Args)]
pub struct DeployStagingArgs {
    /// The commit to deploy (any git revision; resolved to a full SHA).
    #[arg(long, value_name = "REV", default_value = "HEAD")]
    pub commit: String,
    #[command(flatten)]
    pub dry_run: DryRunArg,
}

#[derive(Debug, Args)]
pub struct DeployProductionArgs {
    /// The release tag to deploy, e.g. v1.4.2.
    #[arg(long, value_name = "TAG", value_parser = release_tag_shape)]
    pub tag: String,
    /// On a failed deployment or probe, redeploy the release that was live before, then exit 1.
    #[arg(long)]
    pub auto_rollback: bool,
    /// Deploy even if staging never ran this commit (an emergency escape hatch).
    #[arg(long)]
    pub skip_staging_gate: bool,
    #[command(flatten)]
    pub dry_run: DryRunArg,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// The release tag to return to (default: the newest release older than production's that
    /// did not fail in production).
    #[arg(long, value_name = "TAG", value_parser = release_tag_shape)]
    pub to: Option<String>,
    /// Go back to a release the release record does not vouch for (it failed in production,
    /// has no recorded verification, or the record cannot be read).
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub dry_run: DryRunArg,
}

#[derive(Debug, Args)]
pub struct ReleaseArgs {
    /// `patch`, `minor`, `major`, `auto` (from conventional commits) or an explicit X.Y.Z.
    #[arg(value_name = "LEVEL", default_value = "auto")]
    pub level: String,
    /// Cut a pre-release with this identifier, e.g. `rc` gives 1.3.0-rc.1.
    #[arg(long, value_name = "ID")]
    pub pre: Option<String>,
    /// Push the new tag (and only it) with the git CLI.
    #[arg(long)]
    pub push: bool,
    /// The remote to push to.
    #[arg(long, value_name = "NAME", default_value = "origin")]
    pub remote: String,
    /// Then run `deploy production` for the new tag.
    #[arg(long)]
    pub deploy: bool,
    #[command(flatten)]
    pub dry_run: DryRunArg,
}

#[derive(Debug, Args)]
pub struct NotesArgs {
    /// Start of the range, exclusive (default: the previous release reachable from --to).
    #[arg(long, value_name = "REF")]
    pub from: Option<String>,
    /// End of the range, inclusive.
    #[arg(long, value_name = "REF", default_value = "HEAD")]
    pub to: String,
    /// Write the notes to this file instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Only this environment (default: both).
    #[arg(value_enum, value_name = "ENV")]
    pub environment: Option<EnvironmentArg>,
    /// How far back, e.g. `30d`, `2w`, `12h`.
    #[arg(long, value_name = "DURATION", default_value = "30d", value_parser = humantime::parse_duration)]
    pub since: std::time::Duration,
}

impl From<&HistoryArgs> for crate::history::HistoryOptions {
    fn from(args: &HistoryArgs) -> Self {
        Self {
            environment: args.environment.map(Into::into),
            since: args.since,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum PreviewCommand {
    /// Deploy (or follow) the pull request's preview and wait until it serves the commit.
    Deploy(PreviewDeployArgs),
    /// Remove the pull request's preview in Coolify and mark its GitHub deployment inactive.
    Remove(PreviewRemoveArgs),
    /// The open previews: their commit, URL and age.
    List,
}

#[derive(Debug, Args)]
pub struct PreviewDeployArgs {
    /// The pull request's number.
    #[arg(long = "pr", value_name = "N")]
    pub pull_request: u64,
    /// The commit the preview must run (default: the pull request's head from the GitHub
    /// Actions event, else HEAD).
    #[arg(long, value_name = "SHA")]
    pub commit: Option<String>,
    #[command(flatten)]
    pub dry_run: DryRunArg,
}

#[derive(Debug, Args)]
pub struct PreviewRemoveArgs {
    /// The pull request's number.
    #[arg(long = "pr", value_name = "N")]
    pub pull_request: u64,
    #[command(flatten)]
    pub dry_run: DryRunArg,
}

impl From<PreviewDeployArgs> for crate::preview::DeployOptions {
    fn from(args: PreviewDeployArgs) -> Self {
        Self {
            pull_request: args.pull_request,
            commit: args.commit,
            dry_run: (&args.dry_run).into(),
        }
    }
}

impl From<PreviewRemoveArgs> for crate::preview::RemoveOptions {
    fn from(args: PreviewRemoveArgs) -> Self {
        Self {
            pull_request: args.pull_request,
            dry_run: (&args.dry_run).into(),
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum EnvCommand {
    /// Show missing, differing and extra variables (secret values are never printed).
    Diff(EnvDiffArgs),
    /// Upsert the declared variables; delete undeclared ones only with --prune.
    Sync(EnvSyncArgs),
}

#[derive(Debug, Args)]
pub struct EnvDiffArgs {
    #[command(flatten)]
    pub environment: EnvironmentPositional,
    /// Exit 1 when a variable is missing, differs or is not declared (as `git diff
    /// --exit-code`); values Coolify hides do not count.
    #[arg(long)]
    pub exit_code: bool,
}

#[derive(Debug, Args)]
pub struct EnvSyncArgs {
    #[command(flatten)]
    pub environment: EnvironmentPositional,
    /// Also delete variables that deploy.toml does not declare.
    #[arg(long)]
    pub prune: bool,
    #[command(flatten)]
    pub backup_dir: BackupDirArg,
    #[command(flatten)]
    pub dry_run: DryRunArg,
}

#[derive(Debug, Args)]
pub struct SetupArgs {
    #[command(flatten)]
    pub backup_dir: BackupDirArg,
    #[command(flatten)]
    pub dry_run: DryRunArg,
}

/// `--backup-dir`, for the commands that back up before they change anything.
#[derive(Debug, Args)]
pub struct BackupDirArg {
    /// Where to write the backup taken before the first change
    /// (default: .stagegate/backups/ at the repository root).
    #[arg(long, value_name = "DIR")]
    pub backup_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    #[command(flatten)]
    pub environment: EnvironmentPositional,
    /// Write the backup here (default: stdout).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Include variable values (only those the token may read).
    #[arg(long)]
    pub include_values: bool,
}

#[derive(Debug, Args)]
pub struct WorkflowsArgs {
    /// Write nothing; exit 1 if a generated workflow differs from what deploy.toml generates
    /// (the team's own workflows are never checked).
    #[arg(long)]
    pub check: bool,
    #[command(flatten)]
    pub dry_run: DryRunArg,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The staging app: its Coolify uuid or name (default: proposed, or asked on a terminal).
    #[arg(long, value_name = "APP")]
    pub staging: Option<String>,
    /// The production app: its Coolify uuid or name (default: proposed, or asked on a terminal).
    #[arg(long, value_name = "APP")]
    pub production: Option<String>,
    /// Ask nothing: take the proposals, and fail naming the flag when a role is unclear.
    #[arg(long)]
    pub yes: bool,
    /// Replace an existing deploy.toml.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub dry_run: DryRunArg,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Keep the demo's temporary repository instead of deleting it.
    #[arg(long)]
    pub keep: bool,
}

impl From<&DryRunArg> for DryRun {
    fn from(arg: &DryRunArg) -> Self {
        Self::from_flag(arg.dry_run)
    }
}

impl From<&BackupDirArg> for BackupLocation {
    fn from(arg: &BackupDirArg) -> Self {
        Self::from_flag(arg.backup_dir.clone())
    }
}

impl From<DeployStagingArgs> for StagingOptions {
    fn from(args: DeployStagingArgs) -> Self {
        Self {
            commit: args.commit,
            dry_run: (&args.dry_run).into(),
        }
    }
}

impl From<DeployProductionArgs> for ProductionOptions {
    fn from(args: DeployProductionArgs) -> Self {
        Self {
            tag: args.tag,
            auto_rollback: if args.auto_rollback {
                AutoRollback::On
            } else {
                AutoRollback::Off
            },
            gate: if args.skip_staging_gate {
                GateCheck::Skip
            } else {
                GateCheck::AsConfigured
            },
            dry_run: (&args.dry_run).into(),
        }
    }
}

impl From<RollbackArgs> for RollbackOptions {
    fn from(args: RollbackArgs) -> Self {
        Self {
            to: args.to,
            force: if args.force {
                crate::rollback::Force::Yes
            } else {
                crate::rollback::Force::No
            },
            dry_run: (&args.dry_run).into(),
        }
    }
}

impl ReleaseArgs {
    /// Where to push the tag, if anywhere.
    pub fn push(&self) -> Push {
        if self.push {
            Push::To(self.remote.clone())
        } else {
            Push::No
        }
    }

    /// What to do once the tag exists.
    pub fn then(&self) -> Then {
        if self.deploy {
            Then::DeployProduction
        } else {
            Then::Stop
        }
    }
}

impl From<&NotesArgs> for notes::NotesOptions {
    fn from(args: &NotesArgs) -> Self {
        Self {
            from: args.from.clone(),
            to: args.to.clone(),
            output: args.output.clone(),
        }
    }
}

impl EnvSyncArgs {
    /// `--prune`.
    pub fn prune(&self) -> Prune {
        if self.prune { Prune::Yes } else { Prune::No }
    }
}

impl BackupArgs {
    /// `--include-values`.
    pub fn values(&self) -> Values {
        if self.include_values {
            Values::Included
        } else {
            Values::Redacted
        }
    }
}

impl From<SetupArgs> for SetupOptions {
    fn from(args: SetupArgs) -> Self {
        Self {
            dry_run: (&args.dry_run).into(),
            backup: (&args.backup_dir).into(),
        }
    }
}

impl From<&WorkflowsArgs> for workflows::WorkflowsOptions {
    fn from(args: &WorkflowsArgs) -> Self {
        Self {
            mode: if args.check {
                workflows::Mode::Check
            } else {
                workflows::Mode::Write
            },
            dry_run: (&args.dry_run).into(),
        }
    }
}

impl From<InitArgs> for crate::init::InitOptions {
    fn from(args: InitArgs) -> Self {
        Self {
            staging: args.staging,
            production: args.production,
            questions: if args.yes {
                crate::init::Questions::AssumeYes
            } else {
                crate::init::Questions::AskOnTerminal
            },
            overwrite: if args.force {
                crate::init::Overwrite::Yes
            } else {
                crate::init::Overwrite::No
            },
            dry_run: (&args.dry_run).into(),
        }
    }
}

#[cfg(feature = "demo")]
impl From<&DemoArgs> for crate::demo::Keep {
    fn from(args: &DemoArgs) -> Self {
        if args.keep { Self::Yes } else { Self::No }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn notes_accepts_md_as_its_format() {
        let cli = Cli::try_parse_from(["stagegate", "notes", "--format", "md"]).unwrap();
        assert_eq!(cli.global.format, FormatArg::Markdown);
        assert_eq!(Format::from(cli.global.format), Format::Text);
    }

    #[test]
    fn global_options_go_after_the_subcommand_too() {
        let cli = Cli::try_parse_from([
            "stagegate",
            "deploy",
            "staging",
            "--format",
            "json",
            "--dry-run",
        ])
        .unwrap();
        assert_eq!(cli.global.format, FormatArg::Json);
        let Command::Deploy(DeployCommand::Staging(args)) = cli.command else {
            panic!("parsed as {:?}", cli.command);
        };
        assert!(args.dry_run.dry_run);
        assert_eq!(args.commit, "HEAD");
    }

    #[test]
    fn environments_are_listed_when_one_is_unknown() {
        for command in [
            ["env", "diff"],
            ["env", "sync"],
            ["backup", "--include-values"],
        ] {
            let mut arguments = vec!["stagegate"];
            arguments.extend(command);
            arguments.push("qa");
            let error = Cli::try_parse_from(&arguments).unwrap_err();
            assert_eq!(error.exit_code(), 2, "{arguments:?}");
            let text = error.render().to_string();
            for expected in ["'qa'", "[possible values: staging, production]"] {
                assert!(text.contains(expected), "{expected:?} in: {text}");
            }
        }
        let cli = Cli::try_parse_from(["stagegate", "env", "diff", "production"]).unwrap();
        let Command::Env(EnvCommand::Diff(args)) = cli.command else {
            panic!("parsed as {:?}", cli.command);
        };
        assert_eq!(
            EnvironmentName::from(args.environment),
            EnvironmentName::Production
        );
    }

    #[test]
    fn malformed_tags_are_usage_errors_naming_the_tag_and_the_form() {
        for (tag, reason) in [
            ("1.2", "`1.2`"),
            ("v1.2", "`v1.2`"),
            ("vx", "`vx` has no version"),
            ("v1.02.3", "leading zero"),
            ("", "`` has no version"),
        ] {
            for arguments in [
                vec!["stagegate", "deploy", "production", "--tag", tag],
                vec!["stagegate", "rollback", "--to", tag],
            ] {
                let error = Cli::try_parse_from(&arguments).unwrap_err();
                assert_eq!(error.exit_code(), 2, "{arguments:?}");
                let text = error.render().to_string();
                for expected in [reason, "MAJOR.MINOR.PATCH, e.g. v1.4.2"] {
                    assert!(text.contains(expected), "{expected:?} in: {text}");
                }
            }
        }
        for tag in [
            "v1.4.2",
            "1.4.2",
            "release-2.0.0-rc.1",
            "app2-v1.0.0",
            "v10.0.0",
        ] {
            let cli =
                Cli::try_parse_from(["stagegate", "deploy", "production", "--tag", tag]).unwrap();
            let Command::Deploy(DeployCommand::Production(args)) = cli.command else {
                panic!("parsed as {:?}", cli.command);
            };
            assert_eq!(args.tag, tag);
        }
    }

    #[test]
    fn production_needs_a_tag() {
        let error = Cli::try_parse_from(["stagegate", "deploy", "production"]).unwrap_err();
        assert_eq!(error.exit_code(), 2);
    }
}
