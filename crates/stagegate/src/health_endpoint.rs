//! Health handlers that report the running commit, for the languages of the presets.
//!
//! Coolify sets `SOURCE_COMMIT` to the deployed commit in every container of a git-based app;
//! a handler that returns it as `{"commit": ...}` lets `deploy` prove which commit answers.
//! `docs/ADOPTING.md` shows the same snippets (a test keeps them equal), and `init` prints the
//! one for the preset it detected.

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
    code: r#"import os

from fastapi import FastAPI

app = FastAPI()


@app.get("/healthz")
def healthz() -> dict[str, str]:
    # Coolify sets SOURCE_COMMIT to the deployed commit in the container.
    return {"status": "ok", "commit": os.environ.get("SOURCE_COMMIT", "unknown")}
"#,
};

/// Python with Flask.
pub const FLASK: Snippet = Snippet {
    title: "Python (Flask)",
    code: r#"import os

from flask import Flask

app = Flask(__name__)


@app.get("/healthz")
def healthz():
    # Coolify sets SOURCE_COMMIT to the deployed commit in the container.
    return {"status": "ok", "commit": os.environ.get("SOURCE_COMMIT", "unknown")}
"#,
};

/// Node with Express.
pub const EXPRESS: Snippet = Snippet {
    title: "Node (Express)",
    code: r#"const express = require("express");

const app = express();

app.get("/healthz", (req, res) => {
  // Coolify sets SOURCE_COMMIT to the deployed commit in the container.
  res.json({ status: "ok", commit: process.env.SOURCE_COMMIT ?? "unknown" });
});

app.listen(process.env.PORT ?? 3000);
"#,
};

/// Go with net/http.
pub const GO: Snippet = Snippet {
    title: "Go (net/http)",
    code: r#"package main

import (
	"encoding/json"
	"net/http"
	"os"
)

func healthz(w http.ResponseWriter, r *http.Request) {
	// Coolify sets SOURCE_COMMIT to the deployed commit in the container.
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]string{"status": "ok", "commit": os.Getenv("SOURCE_COMMIT")})
}

func main() {
	http.HandleFunc("/healthz", healthz)
	http.ListenAndServe(":3000", nil)
}
"#,
};

/// Every snippet the docs show.
#[cfg(test)]
pub const ALL: [Snippet; 4] = [FASTAPI, FLASK, EXPRESS, GO];

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

    #[test]
    fn the_adoption_guide_shows_every_snippet_as_it_is_here() {
        let guide = include_str!("../../../docs/ADOPTING.md");
        for snippet in ALL {
            assert!(
                guide.contains(snippet.title),
                "ADOPTING.md lacks {}",
                snippet.title
            );
            assert!(
                guide.contains(snippet.code),
                "ADOPTING.md's {} differs from health_endpoint.rs",
                snippet.title
            );
        }
    }
}
