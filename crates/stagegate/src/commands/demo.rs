//! `demo`: the whole story on this machine, with no Coolify account.
//!
//! A temporary git repository with a few Conventional Commits, the fake Coolify of
//! `coolify-client` on loopback, and a small local app per environment whose health endpoint
//! reports the commit it runs, switching over a moment after each deployment finishes, like a
//! real container. Then the real flows run in order: deploy staging, release, deploy
//! production, a release whose production build fails and rolls itself back, a release whose
//! production app answers `503` and leaves production seconds after the switch-over, a
//! rollback, and a pull request's preview verified at its own URL, reported as a GitHub
//! deployment (a fake GitHub on loopback), and removed.

use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use coolify_client::{ApplicationUuid, AutoDeploy};
use coolify_fake::{FakeApplication, FakeCoolify};
use github_fake::FakeGitHub;
use serde::Serialize;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::config::EnvironmentName;
use crate::deploy::{AutoRollback, ProductionOptions, StagingOptions};
use crate::exit::{Exit, message};
use crate::process_env::ProcessEnv;
use crate::release::ReleaseOptions;
use crate::rollback::RollbackOptions;
use crate::session::Session;

/// Whether the demo's repository is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Keep {
    /// Delete it at the end.
    #[default]
    No,
    /// Keep it and print where it is.
    Yes,
}

/// One step of the demo.
#[derive(Debug, Clone, Serialize)]
pub struct DemoStep {
    /// The command a user would type.
    pub command: String,
    /// Its exit code.
    pub exit_code: u8,
    /// What it did, in one line.
    pub result: String,
}

/// The demo's result.
#[derive(Debug, Clone, Serialize)]
pub struct DemoReport {
    /// Every step, in order.
    pub steps: Vec<DemoStep>,
    /// The repository, when kept.
    pub repository: Option<String>,
    /// The command that starts stagegate in a real repository.
    pub next: String,
}

impl fmt::Display for DemoReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "The demo ran {} commands:", self.steps.len())?;
        for step in &self.steps {
            writeln!(f, "\n$ {}   # exit {}", step.command, step.exit_code)?;
            writeln!(f, "  {}", step.result.replace('\n', "\n  "))?;
        }
        if let Some(repository) = &self.repository {
            writeln!(f, "\nThe demo repository is kept at {repository}")?;
        }
        write!(
            f,
            "\nNext: in your repository, run `{}` to find its Coolify apps and write deploy.toml (docs/ADOPTING.md walks it through).",
            self.next
        )
    }
}

/// The health state of the demo's two apps: the commit each one reports, and the commit that
/// answers `503` in production.
#[derive(Debug, Clone, Default)]
struct Serving {
    staging: Arc<Mutex<String>>,
    production: Arc<Mutex<String>>,
    unavailable: Arc<Mutex<Option<String>>>,
    /// The commit the pull request's preview reports.
    preview: Arc<Mutex<String>>,
    /// When each production deployment finished.
    production_finishes: Arc<Mutex<Vec<tokio::time::Instant>>>,
}

impl Serving {
    fn slot(&self, environment: EnvironmentName) -> Arc<Mutex<String>> {
        match environment {
            EnvironmentName::Staging => Arc::clone(&self.staging),
            EnvironmentName::Production => Arc::clone(&self.production),
        }
    }
}

/// How long a demo app keeps serving the old commit after its deployment finished.
const SWITCH_OVER: Duration = Duration::from_millis(600);

/// The demo config's probe deadline and switch-over window.
const PROBE_DEADLINE: Duration = Duration::from_secs(20);
const PROBE_SWITCH_OVER: Duration = Duration::from_secs(2);

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Run the demo.
///
/// # Errors
///
/// When a local server cannot start, the repository cannot be written, or a step that must
/// succeed fails (the failing release is expected to fail and does not count).
pub async fn demo(session: &Session, keep: Keep) -> anyhow::Result<DemoReport> {
    let output = &session.output;
    let directory = tempfile::Builder::new()
        .prefix("stagegate-demo-")
        .tempdir()
        .context("demo: create a temporary directory")?;
    let root = directory.path().to_path_buf();
    let repository = DemoRepo::init(&root).context("demo: create the repository")?;

    let token = "demo|stagegate-demo-token";
    let fake = FakeCoolify::start_with_token(token)
        .await
        .context("demo: start the fake Coolify")?;
    let app = |uuid: &str| {
        FakeApplication::new(uuid)
            .name(uuid)
            .auto_deploy(AutoDeploy::Disabled)
            .queue_time(Duration::from_millis(300))
            .build_time(Duration::from_millis(1200))
    };
    // Staging answers on a domain, so that a pull request's preview gets one of its own.
    let staging_app = fake.add_application(
        app("staging-app")
            .fqdn(Some(STAGING_DOMAIN))
            .previews_enabled(),
    );
    let production_app = fake.add_application(app("production-app"));

    let serving = Serving::default();
    let staging_url = serve_health_unless(
        EnvironmentName::Staging,
        serving.slot(EnvironmentName::Staging),
        Arc::clone(&serving.unavailable),
    )
    .await
    .context("demo: start the staging app")?;
    let production_url = serve_health_unless(
        EnvironmentName::Production,
        serving.slot(EnvironmentName::Production),
        Arc::clone(&serving.unavailable),
    )
    .await
    .context("demo: start the production app")?;
    {
        let serving = serving.clone();
        let staging_app = staging_app.clone();
        fake.on_deployment_finished(move |finished| {
            let slot = if finished.pull_request_id().is_some() {
                Arc::clone(&serving.preview)
            } else if finished.application() == &staging_app {
                serving.slot(EnvironmentName::Staging)
            } else {
                lock(&serving.production_finishes).push(tokio::time::Instant::now());
                serving.slot(EnvironmentName::Production)
            };
            let commit = finished.commit().to_owned();
            tokio::spawn(async move {
                tokio::time::sleep(SWITCH_OVER).await;
                *slot
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = commit;
            });
        });
    }

    std::fs::write(
        root.join("deploy.toml"),
        demo_config(
            &fake.base_url(),
            &staging_app,
            &production_app,
            &staging_url,
            &production_url,
        ),
    )
    .context("demo: write deploy.toml")?;
    repository.commit("deploy.toml", "chore: add the deploy config\n")?;

    // The release record, kept in a fake GitHub's deployments.
    let github = FakeGitHub::builder()
        .epoch(std::time::SystemTime::now())
        .start()
        .await
        .context("demo: start the fake GitHub")?;
    // Only what the demo needs: its tokens, and never a COOLIFY_URL that would point elsewhere;
    // a preview's host is one only the fake's proxy (Coolify's) knows.
    let environment = ProcessEnv::from_pairs([
        ("STAGEGATE_DEMO_TOKEN", token.to_owned()),
        ("HTTP_PROXY", fake.proxy_url()),
        ("NO_PROXY", "127.0.0.1,localhost".to_owned()),
        ("GITHUB_REPOSITORY", github.repository()),
        ("GITHUB_API_URL", github.api_url()),
        ("GITHUB_TOKEN", github.token()),
        ("USER", "demo".to_owned()),
        ("HOSTNAME", "this-machine".to_owned()),
    ]);
    let demo_session = Session::new(environment, output.clone())
        .with_repo(&root)
        .with_invocation(session.invocation.clone());

    let mut steps = Vec::new();
    let mut run = Runner {
        session: &demo_session,
        steps: &mut steps,
    };

    output.step("── 1. Two changes land on main; CI deploys main to staging and verifies it");
    repository.commit("src/greet.txt", "feat: greet users by name\n")?;
    repository.commit(
        "src/greet.txt",
        "fix: keep the greeting under 80 characters\n",
    )?;
    run.deploy_staging().await?;

    output.step("── 2. Release what staging verified, then deploy the tag to production");
    let first = run.release().await?;
    run.deploy_production(&first, AutoRollback::Off, Expect::Success)
        .await?;

    output.step("── 3. A second feature goes through the same gates");
    repository.commit("src/farewell.txt", "feat(api): add a farewell endpoint\n")?;
    run.deploy_staging().await?;
    let second = run.release().await?;
    run.deploy_production(&second, AutoRollback::Off, Expect::Success)
        .await?;

    output.step(
        "── 4. A third release builds on staging but its production build fails: it rolls itself back",
    );
    repository.commit("src/farewell.txt", "perf: cache the farewell text\n")?;
    run.deploy_staging().await?;
    let third = run.release().await?;
    fake.fail_next_deployment(&production_app);
    run.deploy_production(&third, AutoRollback::On, Expect::Failure)
        .await?;

    output.step(
        "── 5. A fourth release passes staging, but in production it answers 503 once the rolling update switches to it: it leaves production seconds after the switch-over",
    );
    repository.commit("src/greet.txt", "feat: greet users in their language\n")?;
    run.deploy_staging().await?;
    let fourth = run.release().await?;
    *lock(&serving.unavailable) = Some(repository.head()?);
    run.deploy_production(&fourth, AutoRollback::On, Expect::Failure)
        .await?;
    let rolled_back = tokio::time::Instant::now();
    let finishes = lock(&serving.production_finishes).clone();
    if let [.., bad, _rollback] = finishes[..] {
        let note = format!(
            "{fourth} left production {:.1}s after its deployment finished (a {}s switch-over, then 5 failures in a row, then the rollback's deployment and probe), instead of at the probe's {}s deadline",
            rolled_back.duration_since(bad).as_secs_f64(),
            PROBE_SWITCH_OVER.as_secs(),
            PROBE_DEADLINE.as_secs()
        );
        output.step(&note);
        if let Some(step) = run.steps.last_mut() {
            step.result.push('\n');
            step.result.push_str(&note);
        }
    }

    output.step(
        "── 6. A commit answers 503 on staging; someone tags it by hand anyway: the production gate reads the release record and refuses it",
    );
    repository.commit("src/greet.txt", "feat: greet users with their title\n")?;
    let unready = repository.head()?;
    *lock(&serving.unavailable) = Some(unready.clone());
    run.deploy_staging_expecting_failure().await?;
    repository.tag("v9.0.0")?;
    run.deploy_production("v9.0.0", AutoRollback::Off, Expect::Failure)
        .await?;

    output.step(
        "── 7. Go back one more release by hand: first what it costs (is its image still on the server?) and which releases it skips (the record says they failed in production), then the rollback, then both environments",
    );
    let command = session.invocation.command("rollback --dry-run");
    run.announce(&command);
    let dry_run = RollbackOptions {
        dry_run: crate::DryRun::Yes,
        ..RollbackOptions::default()
    };
    let result = crate::rollback::rollback(&demo_session, &dry_run).await;
    run.record(
        &command,
        result.map(|report| report.to_string()),
        Expect::Success,
    )?;
    let command = session.invocation.command("rollback");
    run.announce(&command);
    let result = crate::rollback::rollback(&demo_session, &RollbackOptions::default()).await;
    run.record(
        &command,
        result.map(|report| report.to_string()),
        Expect::Success,
    )?;
    let command = session.invocation.command("status");
    run.announce(&command);
    let result = crate::status::status(&demo_session).await;
    run.record(
        &command,
        result.map(|report| report.to_string()),
        Expect::Success,
    )?;

    output.step(
        "── 8. A pull request gets its own preview: Coolify's webhook deploys it, stagegate proves it runs the pull request's commit at its own URL and reports it to the pull request; closing the pull request removes it",
    );
    let head = repository.pull_request("feature/wave", "feat: wave goodbye\n")?;
    preview(&mut run, (&fake, &github), &head, &serving, &staging_app).await?;

    output.step("── 9. The audit trail: every run the record kept, and the four delivery metrics");
    let command = session.invocation.command("history");
    run.announce(&command);
    let result = crate::history::history(
        &demo_session,
        &crate::history::HistoryOptions::default(),
        crate::history::HistoryFormat::Text,
    )
    .await;
    run.record(
        &command,
        result.map(|report| report.to_string()),
        Expect::Success,
    )?;

    let repository = match keep {
        Keep::Yes => Some(directory.keep().display().to_string()),
        Keep::No => None,
    };
    Ok(DemoReport {
        steps,
        repository,
        next: session.invocation.command("init"),
    })
}

/// The staging app's domain in the demo; the preview of pull request N answers on
/// `http://N.staging.demo.test`.
const STAGING_DOMAIN: &str = "http://staging.demo.test";

/// The demo's pull request.
const PULL_REQUEST: u64 = 7;

/// Step 8: the preview of the pull request whose head is `head`, deployed by Coolify's
/// webhook, verified, reported as a GitHub deployment of `pr-7` and removed.
async fn preview(
    run: &mut Runner<'_>,
    (fake, github): (&FakeCoolify, &FakeGitHub),
    head: &str,
    serving: &Serving,
    staging_app: &ApplicationUuid,
) -> anyhow::Result<()> {
    let preview_url = serve_health_unless(
        EnvironmentName::Staging,
        Arc::clone(&serving.preview),
        Arc::new(Mutex::new(None)),
    )
    .await
    .context("demo: start the preview's app")?;
    let address = url::Url::parse(&preview_url)
        .ok()
        .and_then(|url| url.socket_addrs(|| None).ok())
        .and_then(|addresses| addresses.into_iter().next())
        .context("demo: the preview's address")?;
    fake.serve_preview_from(staging_app, PULL_REQUEST, address);
    let session = run.session;
    // GitHub sends Coolify the pull request's webhook: Coolify creates the preview and deploys it.
    fake.pull_request_opened(staging_app, PULL_REQUEST, head);

    let command = session
        .invocation
        .command(format_args!("preview deploy --pr {PULL_REQUEST}"));
    run.announce(&command);
    let result = crate::preview::deploy(
        session,
        &crate::preview::DeployOptions::pull_request(PULL_REQUEST),
    )
    .await
    .map(|report| format!("{report}\n{}", github_state(github)));
    run.record(&command, result, Expect::Success)?;

    let command = session
        .invocation
        .command(format_args!("preview remove --pr {PULL_REQUEST}"));
    run.announce(&command);
    let result = crate::preview::remove(
        session,
        &crate::preview::RemoveOptions::pull_request(PULL_REQUEST),
    )
    .await
    .map(|report| format!("{report}\n{}", github_state(github)));
    run.record(&command, result, Expect::Success)?;
    Ok(())
}

/// What the pull request shows: the state and link of its newest GitHub deployment.
fn github_state(github: &FakeGitHub) -> String {
    let environment = format!("pr-{PULL_REQUEST}");
    let deployments = github.deployments();
    let Some(status) = deployments
        .iter()
        .rev()
        .find(|deployment| deployment.environment == environment)
        .and_then(|deployment| deployment.statuses.last())
    else {
        return format!("the pull request shows no deployment of {environment}");
    };
    match &status.environment_url {
        Some(url) if status.state != "inactive" => format!(
            "the pull request shows the GitHub deployment {environment}: {}, \"View deployment\" opens {url}",
            status.state
        ),
        _ => format!(
            "the pull request shows the GitHub deployment {environment}: {}",
            status.state
        ),
    }
}

/// Whether a demo step is meant to succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Success,
    Failure,
}

/// Runs the demo's commands through the library and keeps what each did.
struct Runner<'a> {
    session: &'a Session,
    steps: &'a mut Vec<DemoStep>,
}

impl Runner<'_> {
    fn announce(&self, command: &str) {
        self.session.output.step(format!("$ {command}"));
    }

    async fn deploy_staging(&mut self) -> anyhow::Result<()> {
        self.deploy_staging_then(Expect::Success).await
    }

    async fn deploy_staging_expecting_failure(&mut self) -> anyhow::Result<()> {
        self.deploy_staging_then(Expect::Failure).await
    }

    async fn deploy_staging_then(&mut self, expect: Expect) -> anyhow::Result<()> {
        let command = self.session.invocation.command("deploy staging");
        self.announce(&command);
        let result = crate::deploy::staging(self.session, &StagingOptions::head()).await;
        self.record(&command, result.map(|report| report.to_string()), expect)
            .map(drop)
    }

    /// Cut a release; returns its tag.
    async fn release(&mut self) -> anyhow::Result<String> {
        let command = self.session.invocation.command("release");
        self.announce(&command);
        let report = crate::release::release(self.session, &ReleaseOptions::default())
            .await
            .with_context(|| format!("demo: `{command}` failed"))?;
        let summary = format!(
            "tagged {} on {}{}",
            report.tag,
            crate::repo::short(&report.commit),
            report
                .previous
                .as_ref()
                .map(|previous| format!(" (after {previous})"))
                .unwrap_or_default()
        );
        self.record(&command, Ok(summary), Expect::Success)?;
        Ok(report.tag)
    }

    /// Deploy a tag to production, expecting `expect`.
    async fn deploy_production(
        &mut self,
        tag: &str,
        auto_rollback: AutoRollback,
        expect: Expect,
    ) -> anyhow::Result<()> {
        let command = match auto_rollback {
            AutoRollback::Off => self
                .session
                .invocation
                .command(format_args!("deploy production --tag {tag}")),
            AutoRollback::On => self.session.invocation.command(format_args!(
                "deploy production --tag {tag} --auto-rollback"
            )),
        };
        self.announce(&command);
        let mut options = ProductionOptions::tag(tag);
        options.auto_rollback = auto_rollback;
        let result = crate::deploy::production(self.session, &options).await;
        self.record(&command, result.map(|report| report.to_string()), expect)
            .map(drop)
    }

    /// Keep what a command did; an outcome other than the expected one ends the demo.
    fn record(
        &mut self,
        command: &str,
        result: anyhow::Result<String>,
        expect: Expect,
    ) -> anyhow::Result<String> {
        let (exit, text) = match (result, expect) {
            (Ok(text), Expect::Success) => (Exit::Done, text),
            (Err(error), Expect::Failure) => {
                let text = format!("error: {}", message(&error));
                self.session.output.step(&text);
                (Exit::of(&error), text)
            }
            (Ok(text), Expect::Failure) => {
                anyhow::bail!("demo: `{command}` was meant to fail but did: {text}")
            }
            (Err(error), Expect::Success) => {
                return Err(error.context(format!("demo: `{command}` failed")));
            }
        };
        self.steps.push(DemoStep {
            command: command.to_owned(),
            exit_code: exit.code(),
            result: text.clone(),
        });
        Ok(text)
    }
}

fn demo_config(
    coolify: &str,
    staging: &ApplicationUuid,
    production: &ApplicationUuid,
    staging_url: &str,
    production_url: &str,
) -> String {
    format!(
        r#"# The demo's deploy config: a fake Coolify and two local apps on loopback.
[coolify]
url = "{coolify}"
token_env = "STAGEGATE_DEMO_TOKEN"

[deploy]
timeout = "2m"

[probe]
interval = "200ms"
attempt_timeout = "2s"
deadline = "{deadline}s"
success_threshold = 2
# A release that keeps failing after the switch-over leaves production after 5 failures in a
# row (stagegate's defaults are a 15s switch-over at a 1s interval).
switch_over = "{switch_over}s"
failure_threshold = 5
expect_json = {{ "/commit" = "{{commit}}", "/environment" = "{{environment}}" }}

[environments.staging]
app = "{staging}"
health_url = "{staging_url}"

[environments.production]
app = "{production}"
health_url = "{production_url}"
"#,
        deadline = PROBE_DEADLINE.as_secs(),
        switch_over = PROBE_SWITCH_OVER.as_secs(),
    )
}

/// A tiny HTTP server on loopback answering every request with
/// `{"commit": .., "environment": ..}`, where the commit is whatever `serving` holds at the
/// time (a stand-in for an app's health endpoint), and `503 Service Unavailable` while that
/// commit is the one `unavailable` holds: a release that never becomes ready. Returns the
/// endpoint's URL.
///
/// # Errors
///
/// When no loopback port can be bound.
pub(crate) async fn serve_health_unless(
    environment: EnvironmentName,
    serving: Arc<Mutex<String>>,
    unavailable: Arc<Mutex<Option<String>>>,
) -> std::io::Result<String> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    let url = format!("http://{}/healthz", listener.local_addr()?);
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                continue;
            };
            let serving = Arc::clone(&serving);
            let unavailable = Arc::clone(&unavailable);
            tokio::spawn(async move {
                let mut buffer = vec![0_u8; 4096];
                let mut read = 0;
                // Read the request head; the body (there is none) is ignored.
                while !buffer[..read].windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buffer[read..]).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => read += n,
                    }
                    if read == buffer.len() {
                        return;
                    }
                }
                let commit = serving
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .clone();
                let (status, body) = if lock(&unavailable).as_ref() == Some(&commit) {
                    (
                        "503 Service Unavailable",
                        r#"{"error":"not ready"}"#.to_owned(),
                    )
                } else {
                    let body = serde_json::json!({
                        "commit": commit,
                        "environment": environment.as_str()
                    });
                    ("200 OK", body.to_string())
                };
                let response = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    Ok(url)
}

/// The demo's git repository.
struct DemoRepo {
    repository: git2::Repository,
    root: std::path::PathBuf,
}

impl DemoRepo {
    fn init(root: &Path) -> anyhow::Result<Self> {
        let repository = git2::Repository::init(root)?;
        {
            let mut config = repository.config()?;
            config.set_str("user.name", "Demo Developer")?;
            config.set_str("user.email", "demo@example.com")?;
        }
        Ok(Self {
            repository,
            root: root.to_path_buf(),
        })
    }

    /// A pull request: a new branch `name` from `HEAD` with one commit, checked out as its
    /// author has it; returns the commit.
    fn pull_request(&self, name: &str, message: &str) -> anyhow::Result<String> {
        let base = self.repository.head()?.peel_to_commit()?;
        self.repository.branch(name, &base, false)?;
        self.repository.set_head(&format!("refs/heads/{name}"))?;
        self.commit("src/farewell.txt", message)?;
        self.head()
    }

    /// The commit `HEAD` points at.
    fn head(&self) -> anyhow::Result<String> {
        Ok(self.repository.head()?.peel_to_commit()?.id().to_string())
    }

    /// Tag `HEAD` by hand, as `git tag NAME` does.
    fn tag(&self, name: &str) -> anyhow::Result<()> {
        let head = self.repository.head()?.peel_to_commit()?;
        self.repository
            .tag_lightweight(name, head.as_object(), false)
            .with_context(|| format!("tag {name}"))?;
        Ok(())
    }

    /// Append a line to `file` and commit it with `message`.
    fn commit(&self, file: &str, message: &str) -> anyhow::Result<()> {
        let path = self.root.join(file);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        if file != "deploy.toml" {
            let mut text = std::fs::read_to_string(&path).unwrap_or_default();
            text.push_str(message.lines().next().unwrap_or_default());
            text.push('\n');
            std::fs::write(&path, text)?;
        }
        let mut index = self.repository.index()?;
        index.add_path(Path::new(file))?;
        index.write()?;
        let tree = self.repository.find_tree(index.write_tree()?)?;
        let signature = self.repository.signature()?;
        let parents = match self.repository.head() {
            Ok(head) => vec![head.peel_to_commit()?],
            Err(_) => Vec::new(),
        };
        let parents: Vec<&git2::Commit<'_>> = parents.iter().collect();
        self.repository
            .commit(
                Some("HEAD"),
                &signature,
                &signature,
                message,
                &tree,
                &parents,
            )
            .with_context(|| format!("commit {message:?}"))?;
        Ok(())
    }
}
