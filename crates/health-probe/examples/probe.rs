//! Probe a URL from the command line until it is healthy.
//!
//! ```text
//! cargo run -p health-probe --example probe -- URL [POINTER=VALUE ...]
//! cargo run -p health-probe --example probe -- http://127.0.0.1:8080/healthz /commit=4f2a9c1
//! ```
//!
//! Each `POINTER=VALUE` is an `expect_json` assertion (the value is compared as a string).
//! Progress goes to stderr, the evidence as JSON to stdout; the exit code is 0 when healthy.

use std::process::ExitCode;

use health_probe::serde_json::Value;
use health_probe::tokio_util::sync::CancellationToken;
use health_probe::{Assertion, ProbeSpec, Prober};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(url) = args.next() else {
        eprintln!("usage: probe URL [POINTER=VALUE ...]");
        return ExitCode::from(2);
    };
    let spec = url
        .parse()
        .map_err(|error| format!("invalid url `{url}`: {error}"))
        .and_then(|url| {
            let mut spec = ProbeSpec::builder(url);
            for assertion in args {
                let (pointer, value) = assertion.split_once('=').ok_or_else(|| {
                    format!("`{assertion}` is not POINTER=VALUE, e.g. /commit=4f2a9c1")
                })?;
                let expected = Value::String(value.to_owned());
                let assertion =
                    Assertion::json_equals(pointer, expected).map_err(|error| error.to_string())?;
                spec = spec.assertion(assertion);
            }
            spec.build().map_err(|error| error.to_string())
        });
    let spec = match spec {
        Ok(spec) => spec,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    let prober = match Prober::new() {
        Ok(prober) => prober,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    let cancel = CancellationToken::new();
    let outcome = prober
        .probe_with(&spec, &cancel, |event| eprintln!("{event}"))
        .await;
    match serde_json::to_string_pretty(&outcome) {
        Ok(json) => println!("{json}"),
        Err(error) => eprintln!("error: cannot render the evidence: {error}"),
    }
    if outcome.is_healthy() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
