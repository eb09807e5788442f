//! The team that adopts stagegate: a Python service with its own checks and an old pipeline
//! that deploys both apps on every push.

use crate::World;

/// The team's own pull-request checks, which stagegate must never touch.
pub const THEIR_PR_VALIDATION: &str = "name: PR validation\n\non:\n  pull_request:\n    branches: [main]\n\npermissions:\n  contents: read\n\njobs:\n  checks:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1\n        with:\n          persist-credentials: false\n      - run: pipx run uv run pytest\n      - run: pipx run bandit -r src\n      - run: pipx run ruff check\n      - run: pipx run actionlint\n";

/// Their old pipeline: both apps deployed on every push to main.
pub const THEIR_CI_CD: &str = "name: CI/CD\n\non:\n  push:\n    branches: [main]\n\njobs:\n  deploy:\n    runs-on: ubuntu-latest\n    steps:\n      - name: Deploy staging\n        run: curl -fsS \"$COOLIFY_URL/api/v1/deploy?uuid=staging-app\" -H \"Authorization: Bearer $TOKEN\"\n        env:\n          TOKEN: ${{ secrets.COOLIFY_TOKEN }}\n      - name: Deploy production\n        run: curl -fsS \"$COOLIFY_URL/api/v1/deploy?uuid=production-app\" -H \"Authorization: Bearer $TOKEN\"\n        env:\n          TOKEN: ${{ secrets.COOLIFY_TOKEN }}\n";

/// A Python (uv) service with its own PR checks and the old pipeline, committed.
///
/// # Errors
///
/// When the world or a commit cannot be made.
pub async fn python_world() -> anyhow::Result<World> {
    let world = World::adopting().await?;
    let repo = &world.repo;
    repo.commit_file(
        "pyproject.toml",
        "[project]\nname = \"api\"\nversion = \"0.1.0\"\ndependencies = [\"fastapi>=0.115\"]\n",
        "feat: the service",
    )?;
    repo.commit_file("uv.lock", "version = 1\n", "chore: lock")?;
    repo.commit_file(
        ".gitignore",
        "__pycache__/\n.venv\n",
        "chore: ignore caches",
    )?;
    repo.commit_file(
        ".github/workflows/pr-validation.yml",
        THEIR_PR_VALIDATION,
        "ci: checks",
    )?;
    repo.commit_file(".github/workflows/ci-cd.yml", THEIR_CI_CD, "ci: deploy")?;
    Ok(world)
}
