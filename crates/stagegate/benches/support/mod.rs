//! What the benches share: a tagged repository, the fake Coolify's two apps, a `deploy.toml`
//! with stagegate's default probe settings, and a session that prints nothing.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use coolify_client::{ApplicationUuid, AutoDeploy};
use coolify_fake::{FakeApplication, FakeCoolify};
use stagegate::ProcessEnv;
use stagegate::Session;
use stagegate::output::{Format, Output, Style, Verbosity};

pub type BenchResult<T> = Result<T, Box<dyn std::error::Error>>;

/// Commit `text` as the README on top of HEAD (or as the first commit) and tag it `tag`.
pub fn commit_tagged(
    repository: &git2::Repository,
    text: &str,
    tag: &str,
) -> BenchResult<git2::Oid> {
    let root = repository
        .workdir()
        .ok_or("the bench repository has no work tree")?;
    let signature = git2::Signature::new(
        "Bench",
        "bench@example.com",
        &git2::Time::new(1_700_000_000, 0),
    )?;
    std::fs::write(root.join("README"), text)?;
    let mut index = repository.index()?;
    index.add_path(Path::new("README"))?;
    index.write()?;
    let tree = repository.find_tree(index.write_tree()?)?;
    let parents = match repository.head() {
        Ok(head) => vec![head.peel_to_commit()?],
        Err(_) => Vec::new(),
    };
    let parents: Vec<&git2::Commit<'_>> = parents.iter().collect();
    let commit = repository.commit(
        Some("HEAD"),
        &signature,
        &signature,
        &format!("feat: {text}\n"),
        &tree,
        &parents,
    )?;
    let object = repository.find_object(commit, None)?;
    repository.tag(tag, &object, &signature, tag, false)?;
    Ok(commit)
}

/// `staging-app` and `production-app`, auto-deploy off, each deployment queued for `queue` and
/// building for `build`.
pub fn add_apps(
    fake: &FakeCoolify,
    queue: Duration,
    build: Duration,
) -> (ApplicationUuid, ApplicationUuid) {
    let app = |uuid: &str| {
        FakeApplication::new(uuid)
            .auto_deploy(AutoDeploy::Disabled)
            .queue_time(queue)
            .build_time(build)
    };
    (
        fake.add_application(app("staging-app")),
        fake.add_application(app("production-app")),
    )
}

/// A `deploy.toml` in `root` for the two apps and their health URLs, without a `[probe]`
/// table: stagegate's default probe settings.
pub fn write_config(
    root: &Path,
    fake: &FakeCoolify,
    (staging, staging_health): (&ApplicationUuid, &str),
    (production, production_health): (&ApplicationUuid, &str),
) -> BenchResult<()> {
    std::fs::write(
        root.join("deploy.toml"),
        format!(
            "[coolify]\nurl = \"{}\"\ntoken_env = \"BENCH_TOKEN\"\n\n[environments.staging]\napp = \"{staging}\"\nhealth_url = \"{staging_health}\"\n\n[environments.production]\napp = \"{production}\"\nhealth_url = \"{production_health}\"\n",
            fake.base_url()
        ),
    )?;
    Ok(())
}

/// A session on the repository at `root` with the fake's token, printing nothing.
pub fn quiet_session(root: &Path, fake: &FakeCoolify) -> Session {
    let environment = ProcessEnv::from_pairs([(
        "BENCH_TOKEN",
        secrecy::ExposeSecret::expose_secret(&fake.token()).to_owned(),
    )]);
    let sink: stagegate::output::Sink = Arc::new(Mutex::new(std::io::sink()));
    let output = Output::new(
        Format::Text,
        Verbosity::Quiet,
        Style::Plain,
        &environment,
        sink.clone(),
        sink,
    );
    Session::new(environment, output).with_repo(root)
}
