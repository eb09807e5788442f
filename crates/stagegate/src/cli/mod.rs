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

use crate::exit::{Exit, message};
use crate::output::{Format, Output};
use crate::process_env::ProcessEnv;
use crate::{Invocation, Session};

mod args;
mod dispatch;
mod interruption;
mod log_lines;
mod signal;

use self::args::Cli;
use self::log_lines::{Colour, LogLines, ScrubbedLine};

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
    let arguments: Vec<OsString> = arguments.into_iter().map(Into::into).collect();
    let cli = match parse(&invocation, arguments.iter().cloned()) {
        Ok(cli) => cli,
        Err(error) => return usage_error(&error, &arguments),
    };
    let environment = ProcessEnv::from_process();
    let format = cli.global.format.into();
    // Read objects as `git` does: libgit2 re-hashes every object it reads by default (SHA-1
    // with collision detection), which was about 13% of `notes` on large histories; zlib's
    // checksum still catches corrupt packs. Process-wide, so set here by the command line and
    // never by the libraries.
    git2::opts::strict_hash_verification(false);
    if matches!(cli.command, args::Command::Notes(_)) {
        // `notes` reads each commit of its range once, so libgit2's object cache only costs:
        // storing, looking up and freeing its entries took about 10% of `notes` on large
        // histories. The other commands read few objects, some of them twice.
        git2::opts::enable_caching(false);
    }
    let history_format = cli.global.format.history();
    let output = Output::stdio(format, cli.global.verbosity(), &environment);
    install_subscriber(cli.global.verbose, &output, &environment);
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
    let result = runtime.block_on(until_interrupted(&session, cli.command, history_format));
    finish(&output, format, result)
}

/// Run the command; a signal stops it and says what each environment runs.
async fn until_interrupted(
    session: &Session,
    command: args::Command,
    history_format: crate::history::HistoryFormat,
) -> anyhow::Result<()> {
    let mut signals = signal::Signals::new();
    let signal = tokio::select! {
        result = dispatch::dispatch(session, command, history_format) => return result,
        // Dropping the flow stops its requests; Coolify keeps running whatever it queued.
        signal = signals.next() => signal,
    };
    // Describing what each environment runs takes a few reads; a second signal ends that at once.
    tokio::select! {
        error = interruption::describe(session, signal) => Err(error),
        again = signals.next() => Err(anyhow::anyhow!(
            "interrupted by {signal}, then by {again} while reading what each environment runs: run `{}` to see it",
            session.invocation.command("status")
        )),
    }
}

/// The exit code of a finished command, after its `error:` line, summary and JSON document.
fn finish(output: &Output, format: Format, result: anyhow::Result<()>) -> ExitCode {
    let Err(error) = result else {
        return Exit::Done.into();
    };
    let exit = Exit::of(&error);
    let text = message(&error);
    output.error(&text);
    if error
        .chain()
        .all(|cause| !cause.is::<crate::exit::Aftermath>())
    {
        // Flows summarize the failures that follow a write themselves.
        let _ = output.step_summary(&format!("### stagegate failed\n\n{text}\n"));
    }
    // A command that printed its report and exits 1 for what it found (`env diff
    // --exit-code`) has its one JSON document out already.
    if format == Format::Json && !error.is::<Differs>() {
        let mut document = serde_json::json!({ "error": text, "exit_code": exit.code() });
        // A failed rollout's every app, which the error line only counts.
        if let Some(rollout) = error
            .chain()
            .find_map(|cause| cause.downcast_ref::<crate::exit::Aftermath>())
            .and_then(|aftermath| aftermath.rollout.clone())
        {
            document["rollout"] = rollout;
        }
        let _ = output.result("", &document);
    }
    exit.into()
}

/// A command's report was printed and says something differs: exit 1, as `git diff
/// --exit-code` does.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct Differs(pub(crate) String);

/// Help and `--version` (clap "errors" that exit 0 on stdout), or a usage error: with
/// `--format json`, the same one document as every other failure.
fn usage_error(error: &clap::Error, arguments: &[OsString]) -> ExitCode {
    let _ = error.print();
    let code = u8::try_from(error.exit_code()).unwrap_or(2);
    if code == 0 || !wants_json(arguments) {
        return ExitCode::from(code);
    }
    let rendered = error.render().to_string();
    let line = first_paragraph(&rendered);
    let usage = rendered
        .lines()
        .find_map(|line| line.trim().strip_prefix("Usage:"))
        .map(|usage| format!("; usage: {}", usage.trim()))
        .unwrap_or_default();
    let document = serde_json::json!({
        "error": format!("{line}{usage}"),
        "exit_code": Exit::BadInput.code(),
    });
    println!("{document:#}");
    Exit::BadInput.into()
}

/// The error's first line without `error:`, with the indented lines that belong to it (the
/// missing arguments of "the following required arguments were not provided:").
fn first_paragraph(rendered: &str) -> String {
    let mut lines = rendered.lines().skip_while(|line| line.trim().is_empty());
    let first = lines
        .next()
        .unwrap_or_default()
        .trim_start_matches("error:")
        .trim();
    let details: Vec<&str> = lines
        .take_while(|line| line.starts_with(' ') && !line.trim().is_empty())
        .map(str::trim)
        .collect();
    if details.is_empty() {
        first.to_owned()
    } else {
        format!("{first} {}", details.join(", "))
    }
}

/// Whether the arguments ask for `--format json` (looked at when they do not parse).
fn wants_json(arguments: &[OsString]) -> bool {
    let arguments: Vec<&str> = arguments.iter().filter_map(|a| a.to_str()).collect();
    arguments
        .windows(2)
        .any(|pair| pair == ["--format", "json"])
        || arguments.contains(&"--format=json")
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

/// Library events go to stderr: warnings by default, more with `-v`; lines shaped like the
/// flows' own, coloured only on a terminal when `NO_COLOR` is not set, and scrubbed of the
/// secrets `output` knows (the token, probe credentials) like every other line.
fn install_subscriber(verbose: u8, output: &Output, environment: &ProcessEnv) {
    use std::io::IsTerminal as _;
    let level = match verbose {
        0 => tracing::Level::WARN,
        1 => tracing::Level::INFO,
        2 => tracing::Level::DEBUG,
        _ => tracing::Level::TRACE,
    };
    let colour = if std::io::stderr().is_terminal() && environment.get("NO_COLOR").is_none() {
        Colour::On
    } else {
        Colour::Off
    };
    let style = output.style();
    let output = output.clone();
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(move || ScrubbedLine::new(output.clone(), std::io::stderr()))
        .with_ansi(colour == Colour::On)
        .event_format(LogLines { style, colour })
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_usage_error_keeps_the_missing_arguments() {
        let error = parse(
            &Invocation::stagegate(),
            ["stagegate", "deploy", "production"],
        )
        .unwrap_err();
        assert_eq!(
            first_paragraph(&error.render().to_string()),
            "the following required arguments were not provided: --tag <TAG>"
        );
        let error = parse(&Invocation::stagegate(), ["stagegate", "--nope"]).unwrap_err();
        assert_eq!(
            first_paragraph(&error.render().to_string()),
            "unexpected argument '--nope' found"
        );
    }

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

    #[test]
    fn a_failed_rollout_adds_every_app_to_the_json_document() {
        let stdout = std::sync::Arc::new(std::sync::Mutex::new(Vec::<u8>::new()));
        let stderr: crate::output::Sink = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let output = Output::new(
            Format::Json,
            crate::output::Verbosity::Quiet,
            crate::output::Style::Plain,
            &ProcessEnv::default(),
            stdout.clone() as crate::output::Sink,
            stderr,
        );
        let rollout = serde_json::json!({ "apps": [{ "label": "web", "state": "failed" }] });
        let error = anyhow::Error::new(crate::exit::Aftermath {
            cause: "deploy production v1.1.0: deployment d1 failed".to_owned(),
            state: "production runs v1.0.0".to_owned(),
            fix: "Fix it".to_owned(),
            exit: Exit::Failed,
            rollout: Some(rollout.clone()),
        });
        let exit = finish(&output, Format::Json, Err(error));
        assert_eq!(exit, ExitCode::from(1));
        let written = String::from_utf8(stdout.lock().unwrap().clone()).unwrap();
        let document: serde_json::Value = serde_json::from_str(&written).unwrap();
        assert_eq!(document["exit_code"], 1);
        assert_eq!(document["rollout"], rollout);
        assert!(
            document["error"]
                .as_str()
                .unwrap()
                .contains("deployment d1 failed")
        );
    }
}
