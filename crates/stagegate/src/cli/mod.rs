//! The command line: parse, build the runtime and the subscriber, dispatch.
//!
//! [`run`] is the whole `main` of the `stagegate` binary, and of any `cargo xtask` that embeds
//! stagegate: the [`Invocation`] says how the user runs the command, so that every message that
//! names a command names it the way the user types it.
//!
//! ```no_run
//! // xtask/src/main.rs of a Rust workspace that runs `cargo xtask release`:
//! fn main() -> std::process::ExitCode {
//!     stagegate::cli::run(stagegate::Invocation::cargo_xtask())
//! }
//! ```

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{CommandFactory as _, FromArgMatches as _};

use crate::environment::Environment;
use crate::exit::{Exit, message};
use crate::output::{Format, Output};
use crate::{Invocation, Session};

mod args;
mod dispatch;

use self::args::Cli;

/// Run the command line with the process's arguments and environment; the exit code to return
/// from `main`.
pub fn run(invocation: Invocation) -> ExitCode {
    run_from(invocation, std::env::args_os())
}

/// [`run`] with these arguments (the first is the program, as in `std::env::args_os`).
pub fn run_from<I, T>(invocation: Invocation, arguments: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match parse(&invocation, arguments) {
        Ok(cli) => cli,
        Err(error) => {
            // Help and --version are clap "errors" that exit 0 and print to stdout.
            let _ = error.print();
            return ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(2));
        }
    };
    let environment = Environment::from_process();
    let format = cli.global.format.into();
    install_subscriber(cli.global.verbose);
    let output = Output::stdio(format, cli.global.verbosity(), &environment);
    let mut session = Session::new(environment, output.clone()).with_invocation(invocation);
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
    let interrupted = format!(
        "interrupted: a deployment this command started may still be running in Coolify; run `{}` to see what each environment runs",
        session.invocation.command("status")
    );
    let result = runtime.block_on(async {
        tokio::select! {
            result = dispatch::dispatch(&session, cli.command) => result,
            // Dropping the flow stops its requests; Coolify keeps running whatever it queued.
            _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!(interrupted)),
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

/// Parse the arguments, with usage and help naming the command as the user runs it.
fn parse<I, T>(invocation: &Invocation, arguments: I) -> Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let command = Cli::command().bin_name(invocation.as_str());
    let matches = command.try_get_matches_from(arguments)?;
    Cli::from_arg_matches(&matches)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_names_the_command_as_the_user_runs_it() {
        for invocation in [Invocation::stagegate(), Invocation::cargo_xtask()] {
            let error = parse(&invocation, ["program", "deploy", "production"]).unwrap_err();
            let text = error.render().to_string();
            assert!(
                text.contains(&format!("Usage: {} deploy production", invocation.as_str())),
                "{text}"
            );
        }
    }
}
