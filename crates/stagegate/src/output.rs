//! Where a flow's words go: progress and logs on stderr, the result on stdout, and under
//! GitHub Actions also annotations, the step summary and step outputs.
//!
//! One [`Output`] is made per invocation from the [`ProcessEnv`] it runs in. Flows never
//! write to the terminal themselves; they describe what happens and `Output` decides how it
//! looks: a spinner line on a terminal, timestamped lines in CI, nothing but the final JSON
//! document on stdout with `--format json`.

use std::fmt::Display;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use anyhow::Context as _;
use serde::Serialize;

use crate::process_env::ProcessEnv;

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Format {
    /// Text for people (Markdown for `notes`).
    #[default]
    Text,
    /// One JSON document on stdout.
    Json,
}

/// How much goes to stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Verbosity {
    /// Errors only.
    Quiet,
    /// Steps and progress.
    #[default]
    Normal,
    /// Also debug detail.
    Verbose,
}

/// How progress lines look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Style {
    /// An interactive terminal: progress rewrites one line.
    Terminal,
    /// CI or a pipe: every line stands alone with a UTC timestamp.
    Plain,
}

/// A shareable sink, so tests can capture what a flow wrote.
pub type Sink = Arc<Mutex<dyn Write + Send>>;

/// Files GitHub Actions gives a step.
#[derive(Debug, Clone, PartialEq, Eq)]
struct GitHubActions {
    output: Option<PathBuf>,
    step_summary: Option<PathBuf>,
}

/// The output of one invocation.
#[derive(Clone)]
pub struct Output {
    format: Format,
    verbosity: Verbosity,
    style: Style,
    github: Option<GitHubActions>,
    stdout: Sink,
    stderr: Sink,
    progress_line_open: Arc<Mutex<bool>>,
    secrets: Arc<Mutex<Vec<String>>>,
}

impl std::fmt::Debug for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Output")
            .field("format", &self.format)
            .field("verbosity", &self.verbosity)
            .field("style", &self.style)
            .field("github", &self.github)
            .finish_non_exhaustive()
    }
}

impl Output {
    /// Output to the process's stdout and stderr, styled for where they lead.
    pub fn stdio(format: Format, verbosity: Verbosity, environment: &ProcessEnv) -> Self {
        use std::io::IsTerminal;
        let style = if std::io::stderr().is_terminal() && !environment.is_ci() {
            Style::Terminal
        } else {
            Style::Plain
        };
        Self::new(
            format,
            verbosity,
            style,
            environment,
            Arc::new(Mutex::new(std::io::stdout())),
            Arc::new(Mutex::new(std::io::stderr())),
        )
    }

    /// Output to the given sinks.
    pub fn new(
        format: Format,
        verbosity: Verbosity,
        style: Style,
        environment: &ProcessEnv,
        stdout: Sink,
        stderr: Sink,
    ) -> Self {
        let github = environment.is_github_actions().then(|| GitHubActions {
            output: environment.get("GITHUB_OUTPUT").map(PathBuf::from),
            step_summary: environment.get("GITHUB_STEP_SUMMARY").map(PathBuf::from),
        });
        Self {
            format,
            verbosity,
            style,
            github,
            stdout,
            stderr,
            progress_line_open: Arc::new(Mutex::new(false)),
            secrets: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// A value never to show: from now on it is replaced by `[redacted]` in everything this
    /// output writes (lines, results, annotations, the step summary and outputs), whatever
    /// put it there. Values shorter than 4 characters are ignored (they would mangle text).
    pub fn add_secret(&self, secret: &str) {
        let secret = secret.trim();
        if secret.len() < 4 {
            return;
        }
        let mut secrets = lock(&self.secrets);
        let mut add = |value: &str| {
            if value.len() >= 4 && !secrets.iter().any(|known| known == value) {
                secrets.push(value.to_owned());
            }
        };
        add(secret);
        // A Coolify token is `id|secret`; the secret part alone is as sensitive.
        if let Some((_, rest)) = secret.split_once('|') {
            add(rest);
        }
        // Longest first, so a value containing another is replaced whole.
        secrets.sort_by_key(|known| std::cmp::Reverse(known.len()));
    }

    /// `text` with every registered secret replaced: as registered, and also as JSON
    /// serialization and `{:?}` formatting write it (escaping `"`, `\` and control
    /// characters), so that a secret still matches after passing through either.
    pub(crate) fn scrub(&self, text: &str) -> String {
        let secrets = lock(&self.secrets);
        let mut forms: Vec<String> = Vec::with_capacity(secrets.len());
        for secret in secrets.iter() {
            let escaped = [
                serde_json::to_string(secret).ok(),
                Some(format!("{secret:?}")),
            ];
            let escaped = escaped.into_iter().flatten().filter_map(|quoted| {
                quoted
                    .strip_prefix('"')
                    .and_then(|inner| inner.strip_suffix('"'))
                    .map(str::to_owned)
            });
            for form in std::iter::once(secret.clone()).chain(escaped) {
                if !forms.contains(&form) {
                    forms.push(form);
                }
            }
        }
        // Longest first, so a form containing another (an escaped form contains the bare
        // secret's pieces) is replaced whole.
        forms.sort_by_key(|form| std::cmp::Reverse(form.len()));
        let mut text = text.to_owned();
        for form in &forms {
            if text.contains(form.as_str()) {
                text = text.replace(form.as_str(), "[redacted]");
            }
        }
        text
    }

    /// The output format.
    pub(crate) fn format(&self) -> Format {
        self.format
    }

    /// How the lines look: timestamped in CI and pipes, bare on a terminal.
    pub(crate) fn style(&self) -> Style {
        self.style
    }

    /// A step of a flow: one line on stderr.
    pub(crate) fn step(&self, text: impl Display) {
        if self.verbosity >= Verbosity::Normal {
            self.line(&text.to_string());
        }
    }

    /// Debug detail, shown with `-v`.
    pub(crate) fn detail(&self, text: impl Display) {
        if self.verbosity >= Verbosity::Verbose {
            self.line(&text.to_string());
        }
    }

    /// A warning: shown even with `-q`, and annotated under GitHub Actions.
    pub(crate) fn warn(&self, text: impl Display) {
        let text = text.to_string();
        self.line(&format!("warning: {text}"));
        if self.github.is_some() {
            // Scrubbed before escaping: escaping a secret's `%` or line break would hide it
            // from the scrub.
            let text = self.scrub(&text);
            self.annotate(&format!("::warning::{}\n", escape_annotation(&text)));
        }
    }

    /// Progress of a wait. On a terminal it rewrites the current line; elsewhere it is a
    /// timestamped line like any step.
    pub(crate) fn progress(&self, text: impl Display) {
        if self.verbosity < Verbosity::Normal {
            return;
        }
        match self.style {
            Style::Plain => self.line(&text.to_string()),
            Style::Terminal => {
                let text = self.scrub(&text.to_string());
                let mut open = lock(&self.progress_line_open);
                let mut stderr = lock(&self.stderr);
                let _ = write!(stderr, "\r\x1b[2K  … {text}");
                let _ = stderr.flush();
                *open = true;
            }
        }
    }

    /// The final error of a failed invocation: one `error:` line on stderr and, under GitHub
    /// Actions, an `::error::` annotation.
    pub fn error(&self, text: impl Display) {
        let text = text.to_string();
        self.line(&format!("error: {text}"));
        if self.github.is_some() {
            // Scrubbed before escaping, as in `warn`.
            let text = self.scrub(&text);
            self.annotate(&format!("::error::{}\n", escape_annotation(&text)));
        }
    }

    /// A workflow command: on stdout, except with `--format json`, whose stdout holds only
    /// the document (GitHub reads workflow commands from stderr too).
    fn annotate(&self, command: &str) {
        match self.format {
            Format::Text => self.write_stdout(command),
            Format::Json => {
                self.close_progress_line();
                let command = self.scrub(command);
                let mut stderr = lock(&self.stderr);
                let _ = stderr.write_all(command.as_bytes());
                let _ = stderr.flush();
            }
        }
    }

    /// The result of a command: its text form or its JSON form on stdout, by `--format`.
    ///
    /// # Errors
    ///
    /// When the result cannot be serialized.
    pub(crate) fn result<T: Serialize>(&self, text: impl Display, json: &T) -> anyhow::Result<()> {
        self.close_progress_line();
        match self.format {
            Format::Text => {
                let text = text.to_string();
                if !text.is_empty() {
                    self.write_stdout(&format!("{}\n", text.trim_end()));
                }
            }
            Format::Json => {
                let document =
                    serde_json::to_string_pretty(json).context("serialize the JSON result")?;
                self.write_stdout(&format!("{document}\n"));
            }
        }
        Ok(())
    }

    /// Text exactly as given on stdout (Markdown notes, a JSON document made elsewhere).
    pub(crate) fn raw(&self, text: &str) {
        self.close_progress_line();
        self.write_stdout(text);
    }

    /// Write `name=value` to `$GITHUB_OUTPUT` when running under GitHub Actions.
    ///
    /// # Errors
    ///
    /// When the file cannot be appended to.
    pub(crate) fn github_output(&self, name: &str, value: &str) -> anyhow::Result<()> {
        let Some(path) = self
            .github
            .as_ref()
            .and_then(|github| github.output.as_ref())
        else {
            return Ok(());
        };
        append(path, &github_output_entry(name, &self.scrub(value)))
    }

    /// Append Markdown to `$GITHUB_STEP_SUMMARY` when running under GitHub Actions.
    ///
    /// # Errors
    ///
    /// When the file cannot be appended to.
    pub(crate) fn step_summary(&self, markdown: &str) -> anyhow::Result<()> {
        let Some(path) = self
            .github
            .as_ref()
            .and_then(|github| github.step_summary.as_ref())
        else {
            return Ok(());
        };
        append(path, &format!("{}\n\n", self.scrub(markdown).trim_end()))
    }

    fn line(&self, text: &str) {
        let text = &self.scrub(text);
        self.close_progress_line();
        let line = match self.style {
            Style::Terminal => format!("{text}\n"),
            Style::Plain => format!("{} {text}\n", timestamp(SystemTime::now())),
        };
        let mut stderr = lock(&self.stderr);
        let _ = stderr.write_all(line.as_bytes());
        let _ = stderr.flush();
    }

    fn close_progress_line(&self) {
        let mut open = lock(&self.progress_line_open);
        if *open {
            let mut stderr = lock(&self.stderr);
            let _ = write!(stderr, "\r\x1b[2K");
            let _ = stderr.flush();
            *open = false;
        }
    }

    fn write_stdout(&self, text: &str) {
        let text = self.scrub(text);
        let mut stdout = lock(&self.stdout);
        let _ = stdout.write_all(text.as_bytes());
        let _ = stdout.flush();
    }
}

fn lock<T: ?Sized>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn append(path: &PathBuf, text: &str) -> anyhow::Result<()> {
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("open {} for appending", path.display()))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("append to {}", path.display()))
}

/// A `$GITHUB_OUTPUT` entry; multi-line values use the heredoc form with a delimiter that
/// cannot occur in the value.
fn github_output_entry(name: &str, value: &str) -> String {
    if !value.contains('\n') {
        return format!("{name}={value}\n");
    }
    let mut delimiter = String::from("STAGEGATE_EOF");
    while value.contains(&delimiter) {
        delimiter.push('_');
    }
    format!("{name}<<{delimiter}\n{value}\n{delimiter}\n")
}

/// Workflow commands end at a newline and treat `%` specially. Scrub the text before
/// escaping it: an escaped secret no longer matches the scrub.
fn escape_annotation(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// `2026-11-26T18:07:32Z`.
pub(crate) fn timestamp(time: SystemTime) -> String {
    humantime::format_rfc3339_seconds(time).to_string()
}

/// The JSON shape of a report over an environment's apps: the report's own fields (`head`),
/// the first app's fields at the top level too (as documents had them before environments had
/// several apps), and every app under `apps`.
pub(crate) fn serialize_apps<S, H, T>(serializer: S, head: H, apps: &[T]) -> Result<S::Ok, S::Error>
where
    S: serde::Serializer,
    H: Serialize,
    T: Serialize,
{
    #[derive(Serialize)]
    struct Document<'a, H, T> {
        #[serde(flatten)]
        head: H,
        #[serde(flatten)]
        first: Option<&'a T>,
        apps: &'a [T],
    }
    Document {
        head,
        first: apps.first(),
        apps,
    }
    .serialize(serializer)
}

#[cfg(test)]
mod tests {
    use super::*;

    type Buffer = Arc<Mutex<Vec<u8>>>;

    fn capture(environment: &ProcessEnv) -> (Output, Buffer, Buffer) {
        capture_as(Format::Text, environment)
    }

    fn capture_as(format: Format, environment: &ProcessEnv) -> (Output, Buffer, Buffer) {
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let output = Output::new(
            format,
            Verbosity::Normal,
            Style::Plain,
            environment,
            stdout.clone(),
            stderr.clone(),
        );
        (output, stdout, stderr)
    }

    fn text(buffer: &Buffer) -> String {
        String::from_utf8(buffer.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn plain_lines_are_timestamped() {
        let (output, _, stderr) = capture(&ProcessEnv::default());
        output.step("pin staging");
        let line = text(&stderr);
        assert!(line.ends_with("Z pin staging\n"), "{line:?}");
        assert!(line.starts_with("20"), "{line:?}");
    }

    #[test]
    fn errors_are_annotated_under_github_actions() {
        let environment = ProcessEnv::from_pairs([("GITHUB_ACTIONS", "true")]);
        let (output, stdout, stderr) = capture(&environment);
        output.error("deploy production: 50% done\nthen failed");
        assert!(text(&stderr).contains("error: deploy production"));
        assert_eq!(
            text(&stdout),
            "::error::deploy production: 50%25 done%0Athen failed\n"
        );
    }

    #[test]
    fn registered_secrets_are_scrubbed_from_everything_written() {
        let directory = tempfile::tempdir().unwrap();
        let summary_file = directory.path().join("summary");
        let output_file = directory.path().join("output");
        let environment = ProcessEnv::from_pairs([
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_OUTPUT", output_file.to_str().unwrap()),
            ("GITHUB_STEP_SUMMARY", summary_file.to_str().unwrap()),
        ]);
        let (output, stdout, stderr) = capture(&environment);
        output.add_secret("7|coolify-token-value");
        output.add_secret("probe-header-secret");
        let leaky = "Authorization: Bearer 7|coolify-token-value, X-Api-Key: probe-header-secret";
        output.step(leaky);
        output.warn(leaky);
        output.error(leaky);
        output
            .result(leaky, &serde_json::json!({ "x": leaky }))
            .unwrap();
        output.step_summary(leaky).unwrap();
        output.github_output("detail", leaky).unwrap();
        let everything = [
            text(&stdout),
            text(&stderr),
            std::fs::read_to_string(summary_file).unwrap(),
            std::fs::read_to_string(output_file).unwrap(),
        ]
        .concat();
        assert!(!everything.contains("coolify-token-value"), "{everything}");
        assert!(!everything.contains("probe-header-secret"), "{everything}");
        assert!(everything.contains("Bearer [redacted]"), "{everything}");
    }

    #[test]
    fn secrets_are_scrubbed_before_annotations_escape_them() {
        for format in [Format::Text, Format::Json] {
            let environment = ProcessEnv::from_pairs([("GITHUB_ACTIONS", "true")]);
            let (output, stdout, stderr) = capture_as(format, &environment);
            output.add_secret("abc%3Ddef");
            output.add_secret("first-line\r\nsecond-line");
            output.warn("probe header abc%3Ddef was refused");
            output.error("probe header abc%3Ddef was refused");
            output.error("token first-line\r\nsecond-line was refused");
            let everything = [text(&stdout), text(&stderr)].concat();
            for leak in [
                "abc%3Ddef",
                "abc%253Ddef",
                "first-line",
                "second-line",
                "%0D%0A",
            ] {
                assert!(
                    !everything.contains(leak),
                    "{format:?}: {leak} in {everything}"
                );
            }
            assert!(
                everything.contains("::warning::probe header [redacted] was refused\n"),
                "{format:?}: {everything}"
            );
            assert!(
                everything.contains("::error::token [redacted] was refused\n"),
                "{format:?}: {everything}"
            );
        }
    }

    #[test]
    fn secrets_are_scrubbed_in_their_json_and_debug_escaped_forms() {
        let (output, stdout, stderr) = capture_as(Format::Json, &ProcessEnv::default());
        // JSON and `{:?}` both write `\"` and `\\`; only `{:?}` escapes DEL.
        let quoted = r#"pa"ss\word-one"#;
        let deleted = "del\u{7f}word-two";
        output.add_secret(quoted);
        output.add_secret(deleted);
        output
            .result(
                "",
                &serde_json::json!({ "header": quoted, "other": deleted }),
            )
            .unwrap();
        output.step(format!("sending {quoted:?} and {deleted:?}"));
        output.error(format!("refused: {:?}", [quoted, deleted]));
        let document: serde_json::Value = serde_json::from_str(&text(&stdout)).unwrap();
        assert_eq!(
            document,
            serde_json::json!({ "header": "[redacted]", "other": "[redacted]" })
        );
        let log = text(&stderr);
        assert!(!log.contains("word-one"), "{log}");
        assert!(!log.contains("word-two"), "{log}");
        assert!(
            log.contains(r#"sending "[redacted]" and "[redacted]""#),
            "{log}"
        );
        assert!(
            log.contains(r#"refused: ["[redacted]", "[redacted]"]"#),
            "{log}"
        );
    }

    #[test]
    fn json_annotations_go_to_stderr_so_stdout_stays_one_document() {
        let environment = ProcessEnv::from_pairs([("GITHUB_ACTIONS", "true")]);
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let output = Output::new(
            Format::Json,
            Verbosity::Normal,
            Style::Plain,
            &environment,
            stdout.clone(),
            stderr.clone(),
        );
        output.warn("careful");
        output.error("boom");
        output
            .result("", &serde_json::json!({"ok": false}))
            .unwrap();
        let document: serde_json::Value = serde_json::from_str(&text(&stdout)).unwrap();
        assert_eq!(document, serde_json::json!({"ok": false}));
        assert!(text(&stderr).contains("::warning::careful"));
        assert!(text(&stderr).contains("::error::boom"));
    }

    #[test]
    fn multi_line_outputs_use_a_delimiter_absent_from_the_value() {
        assert_eq!(github_output_entry("tag", "v1.2.3"), "tag=v1.2.3\n");
        let entry = github_output_entry("notes", "a\nSTAGEGATE_EOF\nb");
        assert_eq!(
            entry,
            "notes<<STAGEGATE_EOF_\na\nSTAGEGATE_EOF\nb\nSTAGEGATE_EOF_\n"
        );
    }

    #[test]
    fn outputs_and_summary_are_appended_to_the_files_github_names() {
        let directory = tempfile::tempdir().unwrap();
        let output_file = directory.path().join("output");
        let summary_file = directory.path().join("summary");
        let environment = ProcessEnv::from_pairs([
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_OUTPUT", output_file.to_str().unwrap()),
            ("GITHUB_STEP_SUMMARY", summary_file.to_str().unwrap()),
        ]);
        let (output, _, _) = capture(&environment);
        output.github_output("commit", "abc").unwrap();
        output.github_output("tag", "v1.0.0").unwrap();
        output.step_summary("## Deployed").unwrap();
        assert_eq!(
            std::fs::read_to_string(output_file).unwrap(),
            "commit=abc\ntag=v1.0.0\n"
        );
        assert_eq!(
            std::fs::read_to_string(summary_file).unwrap(),
            "## Deployed\n\n"
        );
    }

    #[test]
    fn outside_github_actions_nothing_is_written() {
        let (output, stdout, _) = capture(&ProcessEnv::default());
        output.github_output("commit", "abc").unwrap();
        output.step_summary("x").unwrap();
        output.error("boom");
        assert_eq!(text(&stdout), "");
    }

    #[test]
    fn json_results_go_to_stdout_alone() {
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let output = Output::new(
            Format::Json,
            Verbosity::Normal,
            Style::Plain,
            &ProcessEnv::default(),
            stdout.clone(),
            stderr.clone(),
        );
        output.step("working");
        output
            .result("ignored text", &serde_json::json!({"ok": true}))
            .unwrap();
        let document: serde_json::Value = serde_json::from_str(&text(&stdout)).unwrap();
        assert_eq!(document, serde_json::json!({"ok": true}));
        assert!(text(&stderr).contains("working"));
    }
}
