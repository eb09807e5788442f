//! One `match`: each command's flags to its flow's options, the flow, then its report.

use crate::backup::BackupOptions;
use crate::cli::args::{Command, DeployCommand, EnvCommand, PreviewCommand};
use crate::env::SyncOptions;
use crate::release::ReleaseOptions;
use crate::{
    Session, backup, deploy, env, init, notes, preview, release, rollback, setup, status, workflows,
};

pub(super) async fn dispatch(
    session: &Session,
    command: Command,
    history_format: crate::history::HistoryFormat,
) -> anyhow::Result<()> {
    let output = &session.output;
    match command {
        Command::Deploy(DeployCommand::Staging(args)) => {
            let report = deploy::staging(session, &args.into()).await?;
            output.result(&report, &report)
        }
        Command::Deploy(DeployCommand::Production(args)) => {
            let report = deploy::production(session, &args.into()).await?;
            output.result(&report, &report)
        }
        Command::Rollback(args) => {
            let report = rollback::rollback(session, &args.into()).await?;
            output.result(&report, &report)
        }
        Command::Release(args) => {
            let options = ReleaseOptions {
                level: args.level.parse()?,
                pre: args.pre.clone(),
                push: args.push(),
                then: args.then(),
                dry_run: (&args.dry_run).into(),
            };
            let report = release::release(session, &options).await?;
            output.result(&report, &report)
        }
        Command::History(args) => {
            let report = crate::history::history(session, &(&args).into(), history_format).await?;
            output.result(&report, &report)
        }
        Command::Status => {
            let report = status::status(session).await?;
            output.result(&report, &report)
        }
        Command::Notes(args) => {
            let report = notes::notes(session, &(&args).into())?;
            if report.written_to.is_none() {
                output.raw(&report.notes);
            }
            Ok(())
        }
        Command::Env(EnvCommand::Diff(args)) => {
            let report = env::diff(session, args.environment.into()).await?;
            output.result(&report, &report)?;
            let differing: usize = report
                .apps
                .iter()
                .map(|app| {
                    app.keys
                        .iter()
                        .filter(|key| {
                            !matches!(key.state, env::KeyState::Same | env::KeyState::Unknown)
                        })
                        .count()
                })
                .sum();
            if args.exit_code && differing > 0 {
                return Err(super::Differs(format!(
                    "env diff {}: deploy.toml and Coolify differ in {} (--exit-code); `{}` writes the declared ones",
                    report.environment,
                    crate::commands::counted(differing, "variable"),
                    session
                        .invocation
                        .command(format_args!("env sync {}", report.environment))
                ))
                .into());
            }
            Ok(())
        }
        Command::Env(EnvCommand::Sync(args)) => {
            let options = SyncOptions {
                environment: args.environment.into(),
                prune: args.prune(),
                dry_run: (&args.dry_run).into(),
                backup: (&args.backup_dir).into(),
            };
            let report = env::sync(session, &options).await?;
            output.result(&report, &report)
        }
        Command::Backup(args) => {
            let options = BackupOptions {
                environment: args.environment.into(),
                values: args.values(),
                output: args.output,
            };
            let report = backup::backup(session, &options).await?;
            if report.path.is_some() || output.format() == crate::output::Format::Json {
                // With a file, or as JSON: the report (which holds the backup documents).
                output.result(&report, &report)
            } else {
                // Text without a file: the backup document itself, to redirect.
                output.raw(&report.document()?);
                Ok(())
            }
        }
        Command::Setup(args) => {
            let report = setup::setup(session, &args.into()).await?;
            output.result(&report, &report)
        }
        Command::Workflows(args) => {
            let report = workflows::workflows(session, (&args).into())?;
            output.result(&report, &report)
        }
        Command::Init(args) => {
            let report = init::init(session, &args.into()).await?;
            output.result(&report, &report)
        }
        Command::Preview(PreviewCommand::Deploy(args)) => {
            let report = preview::deploy(session, &args.into()).await?;
            output.result(&report, &report)
        }
        Command::Preview(PreviewCommand::Remove(args)) => {
            let report = preview::remove(session, &args.into()).await?;
            output.result(&report, &report)
        }
        Command::Preview(PreviewCommand::List) => {
            let report = preview::list(session).await?;
            output.result(&report, &report)
        }
        Command::Demo(args) => run_demo(session, &args).await,
    }
}

#[cfg(feature = "demo")]
async fn run_demo(session: &Session, args: &crate::cli::args::DemoArgs) -> anyhow::Result<()> {
    let report = crate::demo::demo(session, args.into()).await?;
    session.output.result(&report, &report)
}

#[cfg(not(feature = "demo"))]
async fn run_demo(_session: &Session, _args: &crate::cli::args::DemoArgs) -> anyhow::Result<()> {
    Err(crate::BadInput(
        "demo: this stagegate was built without its `demo` feature; install it with the default features to run the demo".into(),
    )
    .into())
}
