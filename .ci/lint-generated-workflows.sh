#!/usr/bin/env bash
# Generate the workflows for every [workflows] setting (each preset, a custom `test`,
# `after`, cargo-xtask) with stagegate's action pinned by commit, by version, and as this build
# pins it, then audit each set with `zizmor --offline` and actionlint.
# Installs both itself (.ci/tools.sh).
# Usage: .ci/lint-generated-workflows.sh   (from anywhere; CARGO_TARGET_DIR is honoured)
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=.ci/tools.sh
source .ci/tools.sh
ci_python_tools

out="$(mktemp -d "${TMPDIR:-/tmp}/stagegate-workflows.XXXXXX")"
trap 'rm -rf "$out"' EXIT
cargo run --quiet --package stagegate --example render-workflows -- "$out" > "$out/sets.txt"

sets=0
files=0
while IFS= read -r set; do
    sets=$((sets + 1))
    count=$(find "$set/.github/workflows" -name '*.yml' | wc -l)
    files=$((files + count))
    printf '==> %s (%s files)\n' "${set#"$out"/}" "$count"
    zizmor --offline --no-progress --quiet "$set/.github/workflows"
    ci_actionlint "$set"/.github/workflows/*.yml
done < "$out/sets.txt"
printf '\nchecked %s generated workflow sets (%s files) with zizmor %s --offline and actionlint %s: no findings\n' \
    "$sets" "$files" "$ZIZMOR_VERSION" "$ACTIONLINT_VERSION"
