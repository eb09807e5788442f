//! Health handlers that report the running commit, for the languages of the presets.
//!
//! Coolify sets `SOURCE_COMMIT` to the deployed commit in every container of a git-based app;
//! a handler that returns it as `{"commit": ...}` lets `deploy` prove which commit answers.
//! The code of each is a file in `health_endpoint/`; `docs/ADOPTING.md` shows the same code
//! under the same titles (a workspace test, `tests/it/adopting.rs`, keeps them equal), and
//! `init` prints the one for the preset it detected.

use crate::config::Preset;

/// A handler in one language and framework.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Snippet {
    /// The language and framework, e.g. `Python (FastAPI)`.
    pub title: &'static str,
    /// The code.
    pub code: &'static str,
}

/// Python with FastAPI.
pub const FASTAPI: Snippet = Snippet {
    title: "Python (FastAPI)",
    code: include_str!("health_endpoint/fastapi.py"),
};

/// Python with Flask.
pub const FLASK: Snippet = Snippet {
    title: "Python (Flask)",
    code: include_str!("health_endpoint/flask.py"),
};

/// Node with Express.
pub const EXPRESS: Snippet = Snippet {
    title: "Node (Express)",
    code: include_str!("health_endpoint/express.js"),
};

/// Go with net/http.
pub const GO: Snippet = Snippet {
    title: "Go (net/http)",
    code: include_str!("health_endpoint/main.go"),
};

/// The snippet for a repository of `preset` whose dependency manifest reads `manifest`
/// (`pyproject.toml` for Python: Flask when it names Flask and not FastAPI).
pub fn for_preset(preset: Preset, manifest: &str) -> Option<Snippet> {
    match preset {
        Preset::PythonUv => {
            let manifest = manifest.to_ascii_lowercase();
            if manifest.contains("flask") && !manifest.contains("fastapi") {
                Some(FLASK)
            } else {
                Some(FASTAPI)
            }
        }
        Preset::NodeNpm => Some(EXPRESS),
        Preset::Go => Some(GO),
        Preset::RustCargo => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_python_framework_follows_the_manifest() {
        assert_eq!(
            for_preset(Preset::PythonUv, "dependencies = [\"Flask>=3\"]"),
            Some(FLASK)
        );
        assert_eq!(
            for_preset(Preset::PythonUv, "dependencies = [\"fastapi\"]"),
            Some(FASTAPI)
        );
        assert_eq!(for_preset(Preset::PythonUv, ""), Some(FASTAPI));
        assert_eq!(for_preset(Preset::NodeNpm, ""), Some(EXPRESS));
    }
}
