//! Exit codes, decided from typed markers in an error chain.
//!
//! They are part of the command's contract (README, "Exit codes"): `0` done, `1` the operation ran and failed, `2` bad input, `3`
//! refused by a gate. Flows wrap the cause of a refusal in [`Refused`] and bad input in
//! [`BadInput`]; anything else is a failure.

use std::process::ExitCode;

/// A gate refused the operation (exit 3): the staging gate, a downgrade that is not a
/// rollback, a deployment still in flight past the deadline.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

/// The input was wrong (exit 2): usage, the config file, an invalid or non-production tag,
/// an unknown ref.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadInput(pub String);

/// A flow that failed after it changed something: what failed, what each environment runs
/// now, and the command that fixes it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{cause}. Now: {state}. {fix}")]
pub(crate) struct Aftermath {
    /// What failed, as a path of steps.
    pub cause: String,
    /// What each environment runs now.
    pub state: String,
    /// The command that fixes it.
    pub fix: String,
    /// The exit status of the cause.
    pub exit: Exit,
    /// The failed rollout as `--format json` shows it (each app's state, the cause with its
    /// evidence), when a rollout failed: the full list a short error line leaves out.
    pub rollout: Option<serde_json::Value>,
}

/// The exit status for a finished invocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Exit {
    /// Done, including a no-op.
    Done = 0,
    /// The operation ran and failed (or rolled back).
    Failed = 1,
    /// Bad input.
    BadInput = 2,
    /// Refused by a gate.
    Refused = 3,
}

impl Exit {
    /// The exit status for an error, from the first marker in its chain.
    pub fn of(error: &anyhow::Error) -> Self {
        for cause in error.chain() {
            if let Some(aftermath) = cause.downcast_ref::<Aftermath>() {
                return aftermath.exit;
            }
            if cause.is::<Refused>() {
                return Self::Refused;
            }
            if cause.is::<BadInput>() {
                return Self::BadInput;
            }
        }
        Self::Failed
    }

    /// The numeric code.
    pub fn code(self) -> u8 {
        self as u8
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(exit.code())
    }
}

/// The one-line message for an error: its contexts and causes joined like a path,
/// `deploy production: follow deployment abc: deployment failed`.
pub fn message(error: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in error.chain() {
        let text = cause.to_string();
        // A marker repeats its inner message; keep each distinct text once.
        if parts.last().is_some_and(|last| last == &text) {
            continue;
        }
        parts.push(text);
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use anyhow::Context as _;

    use super::*;

    #[test]
    fn markers_decide_the_exit_code_through_context() {
        let refused: anyhow::Error =
            anyhow::Error::new(Refused("staging gate not met".into())).context("deploy production");
        assert_eq!(Exit::of(&refused), Exit::Refused);
        let bad: anyhow::Error = Err::<(), _>(BadInput("`v1.2` is not a release tag".into()))
            .context("deploy production")
            .unwrap_err();
        assert_eq!(Exit::of(&bad), Exit::BadInput);
        assert_eq!(
            Exit::of(&anyhow::anyhow!("deployment failed")),
            Exit::Failed
        );
    }

    /// Every `: `-separated part of `message` once: no cause is printed twice.
    fn assert_no_repeats(message: &str) {
        let parts: Vec<&str> = message.split(": ").collect();
        for (index, part) in parts.iter().enumerate() {
            assert!(
                !parts[index + 1..].contains(part),
                "{part:?} repeats in {message}"
            );
        }
    }

    #[test]
    fn an_unreachable_coolify_reads_as_one_path() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base_url = format!("http://{}", closed.local_addr().unwrap());
        drop(closed);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let error = runtime
            .block_on(async {
                coolify_client::Client::builder(base_url, "1|token".to_owned().into())
                    .retry_policy(coolify_client::RetryPolicy::none())
                    .build()
                    .unwrap()
                    .version()
                    .await
            })
            .unwrap_err();
        let error = anyhow::Error::new(error).context("read coolify's version");
        let message = message(&error);
        assert!(
            message.starts_with(
                "read coolify's version: GET /api/v1/version: could not reach coolify"
            ),
            "{message}"
        );
        assert_eq!(
            message.matches("error sending request").count(),
            1,
            "{message}"
        );
        assert_no_repeats(&message);
    }

    #[test]
    fn message_reads_like_a_path() {
        let error = anyhow::anyhow!("deployment failed")
            .context("follow deployment abc")
            .context("deploy production");
        assert_eq!(
            message(&error),
            "deploy production: follow deployment abc: deployment failed"
        );
    }
}
