//! `cargo xtask`: parse the command line, build the runtime and the subscriber, dispatch.

use std::process::ExitCode;

use clap::Parser as _;
use xtask::backup::BackupLocation;
use xtask::deploy::{AutoRollback, GateCheck, ProductionOptions, StagingOptions};
use xtask::environment::Environment;
use xtask::exit::{Exit, message};
use xtask::output::{Format, Output, Verbosity};
use xtask::release::{Push, ReleaseOptions, Then};
use xtask::{DryRun, Session};

mod cli;

use cli::{Cli, Command, DeployCommand, EnvCommand, FormatArg};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let environment = Environment::from_process();
    let verbosity = match (cli.global.quiet, cli.global.verbose) {
        (true, _) => Verbosity::Quiet,
        (false, 0) => Verbosity::Normal,
        (false, _) => Verbosity::Verbose,
    };
    let format = match cli.global.format {
        FormatArg::Text => Format::Text,
        FormatArg::Json => Format::Json,
    };
    install_subscriber(cli.global.verbose);
    let output = Output::stdio(format, verbosity, &environment);
    let mut session = Session::new(environment, output.clone());
    session.repo = cli.global.repo;
    session.config = cli.global.config;

    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            output.error(format!("start the async runtime: {error}"));
            return Exit::Failed.into();
        }
    };
    let result = runtime.block_on(async {
        tokio::select! {
            result = dispatch(&session, cli.command) => result,
            // Dropping the flow stops its requests; Coolify keeps running whatever it queued.
            _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!(
                "interrupted: a deployment this command started may still be running in Coolify; run `cargo xtask status` to see what each environment runs"
            )),
        }
    });
    match result {
        Ok(()) => Exit::Done.into(),
        Err(error) => {
            let exit = Exit::of(&error);
            let text = message(&error);
            output.error(&text);
            if format == Format::Json {
                let document = serde_json::json!({ "error": text, "exit_code": exit.code() });
                let _ = output.result("", &document);
            }
            exit.into()
        }
    }
}

async fn dispatch(session: &Session, command: Command) -> anyhow::Result<()> {
    let output = &session.output;
    match command {
        Command::Deploy(DeployCommand::Staging(args)) => {
            let options = StagingOptions {
                commit: args.commit,
                dry_run: DryRun::from_flag(args.dry_run.dry_run),
            };
            let report = xtask::deploy::staging(session, &options).await?;
            output.result(&report, &report)
        }
        Command::Deploy(DeployCommand::Production(args)) => {
            let options = ProductionOptions {
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
                dry_run: DryRun::from_flag(args.dry_run.dry_run),
            };
            let report = xtask::deploy::production(session, &options).await?;
            output.result(&report, &report)
        }
        Command::Rollback(args) => {
            let options = xtask::rollback::RollbackOptions {
                to: args.to,
                dry_run: DryRun::from_flag(args.dry_run.dry_run),
            };
            let report = xtask::rollback::rollback(session, &options).await?;
            output.result(&report, &report)
        }
        Command::Release(args) => {
            let options = ReleaseOptions {
                level: args.level.parse()?,
                pre: args.pre,
                push: if args.push {
                    Push::To(args.remote)
                } else {
                    Push::No
                },
                then: if args.deploy {
                    Then::DeployProduction
                } else {
                    Then::Stop
                },
                dry_run: DryRun::from_flag(args.dry_run.dry_run),
            };
            let report = xtask::release::release(session, &options).await?;
            output.result(&report, &report)
        }
        Command::Status => {
            let report = xtask::status::status(session).await?;
            output.result(&report, &report)
        }
        Command::Notes(args) => {
            let options = xtask::notes::NotesOptions {
                from: args.from,
                to: args.to,
                output: args.output.clone(),
            };
            let text = xtask::notes::notes(session, &options)?;
            if args.output.is_none() {
                output.raw(&text);
            }
            Ok(())
        }
        Command::Env(EnvCommand::Diff(args)) => {
            let report = xtask::env::diff(session, args.environment.parse()?).await?;
            output.result(&report, &report)
        }
        Command::Env(EnvCommand::Sync(args)) => {
            let options = xtask::env::SyncOptions {
                environment: args.environment.parse()?,
                prune: if args.prune {
                    xtask::env::Prune::Yes
                } else {
                    xtask::env::Prune::No
                },
                dry_run: DryRun::from_flag(args.dry_run.dry_run),
                backup: BackupLocation::from_flag(args.backup_dir.backup_dir),
            };
            let report = xtask::env::sync(session, &options).await?;
            output.result(&report, &report)
        }
        Command::Backup(args) => {
            let options = xtask::backup::BackupOptions {
                environment: args.environment.parse()?,
                output: args.output,
                values: if args.include_values {
                    xtask::backup::Values::Included
                } else {
                    xtask::backup::Values::Redacted
                },
            };
            let report = xtask::backup::backup(session, &options).await?;
            if report.path.is_some() {
                output.result(&report, &report)
            } else {
                // No file: the document itself is the result, in either format.
                output.raw(&report.document()?);
                Ok(())
            }
        }
        Command::Setup(args) => {
            let options = xtask::setup::SetupOptions {
                dry_run: DryRun::from_flag(args.dry_run.dry_run),
                backup: BackupLocation::from_flag(args.backup_dir.backup_dir),
            };
            let report = xtask::setup::setup(session, &options).await?;
            output.result(&report, &report)
        }
        Command::Workflows(args) => {
            let mode = if args.check {
                xtask::workflows::Mode::Check
            } else {
                xtask::workflows::Mode::Write
            };
            let report = xtask::workflows::workflows(session, mode)?;
            output.result(&report, &report)
        }
        Command::Demo(args) => {
            let keep = if args.keep {
                xtask::demo::Keep::Yes
            } else {
                xtask::demo::Keep::No
            };
            let report = xtask::demo::demo(session, keep).await?;
            output.result(&report, &report)
        }
    }
}

/// Library events go to stderr: warnings by default, more with `-v`.
fn install_subscriber(verbose: u8) {
    let level = match verbose {
        0 => tracing::Level::WARN,
        1 => tracing::Level::INFO,
        2 => tracing::Level::DEBUG,
        _ => tracing::Level::TRACE,
    };
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}
