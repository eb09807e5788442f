//! Render the generated workflows for every `[workflows]` setting into a directory, one
//! repository-shaped folder per setting, for `.ci/lint-generated-workflows.sh` to audit.
//!
//! ```sh
//! cargo run -p stagegate --example render-workflows -- target/generated-workflows
//! ```

use std::path::{Path, PathBuf};

use stagegate::ProcessEnv;
use stagegate::config::{Config, Preset};
use stagegate::workflows::{ActionPin, render};

fn config(workflows: &str) -> anyhow::Result<Config> {
    let text = format!(
        r#"[coolify]
url = "https://coolify.example.com"

[environments.staging]
app = "staging-app"
health_url = "https://staging.example.com/healthz"

[environments.production]
app = "production-app"
health_url = "https://example.com/healthz"

[workflows]
{workflows}
"#
    );
    Config::parse(&text, Path::new("deploy.toml"), &ProcessEnv::default())
}

fn main() -> anyhow::Result<()> {
    let Some(output) = std::env::args_os().nth(1).map(PathBuf::from) else {
        anyhow::bail!("usage: render-workflows DIRECTORY");
    };
    let mut settings: Vec<(String, String)> = Vec::new();
    for preset in Preset::ALL {
        settings.push((
            format!("{preset}"),
            format!("preset = \"{preset}\"\npr_validation = true"),
        ));
        settings.push((
            format!("{preset}-custom-test"),
            format!("preset = \"{preset}\"\ntest = [\"echo checking\", \"make check\"]"),
        ));
    }
    settings.push((
        "rust-cargo-xtask".to_owned(),
        "preset = \"rust-cargo\"\nstagegate = \"cargo-xtask\"\npr_validation = true".to_owned(),
    ));
    settings.push(("after-ci".to_owned(), "after = \"CI\"".to_owned()));
    settings.push((
        "test-only".to_owned(),
        "test = [\"./run-tests.sh\"]".to_owned(),
    ));
    let version = env!("CARGO_PKG_VERSION");
    let pins = [
        (
            "commit",
            ActionPin::commit(version, "0123456789abcdef0123456789abcdef01234567"),
        ),
        ("version", ActionPin::version_only(version)),
        ("this-build", ActionPin::this_build()),
    ];
    for (name, workflows) in &settings {
        let config = config(workflows)?;
        let table = config
            .workflows
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("{name}: no [workflows]"))?;
        for (pin_name, pin) in &pins {
            let root = output.join(format!("{name}-{pin_name}"));
            for (relative, content) in render(&config, table, pin) {
                let path = root.join(relative);
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                std::fs::write(&path, content)?;
            }
            println!("{}", root.display());
        }
    }
    Ok(())
}
