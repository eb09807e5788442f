#!/usr/bin/env bash
# Audit the workflows of every [workflows] setting (each preset, with a custom `test` and with the
# linters a repository configures, `after`, no checks, stagegate run by cargo-xtask or uv, and
# the preview workflow),
# with stagegate's action pinned by commit and by version, with `zizmor --offline`
# and actionlint.
# Installs both itself (.ci/tools.sh).
# Usage: .ci/lint-generated-workflows.sh   (from anywhere; CARGO_TARGET_DIR is honoured)
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=.ci/tools.sh
source .ci/tools.sh
ci_python_tools

# The sets are committed, and `cargo test` fails when the templates render anything else
# (crates/stagegate/src/commands/workflows/render.rs, `generated_workflows_are_the_committed_ones`).
out=crates/stagegate/tests/generated-workflows

sets=0
files=0
while IFS= read -r set; do
    sets=$((sets + 1))
    count=$(find "$set/.github/workflows" -name '*.yml' | wc -l)
    files=$((files + count))
    printf '==> %s (%s files)\n' "${set#"$out"/}" "$count"
    zizmor --offline --no-progress --quiet "$set/.github/workflows"
    ci_actionlint "$set"/.github/workflows/*.yml
done < <(find "$out" -mindepth 1 -maxdepth 1 -type d | sort)
printf '\nchecked %s generated workflow sets (%s files) with zizmor %s --offline and actionlint %s: no findings\n' \
    "$sets" "$files" "$ZIZMOR_VERSION" "$ACTIONLINT_VERSION"
