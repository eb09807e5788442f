#!/usr/bin/env bash
# Build the `stagegate-cli` wheel (pyproject.toml) for this machine and check that it gives a working
# `stagegate` the ways users install it: pip into a venv, `uv tool install`, `uvx --from`, `pipx install`.
# Runs from a clean clone as part of .ci/run; installs what it needs itself.
#
# maturin, uv and pipx come from PyPI into a venv under target/ that later runs reuse.
# The wheel is built with the dev profile into the shared target/ directory, so it reuses what
# `cargo test --workspace --all-features` already compiled; release wheels are built by
# .github/workflows/release.yml.
# Every install goes into one temporary directory (UV_*, PIPX_* point there) that is removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

# Versions of the packaging tools this check runs with; bump them here.
maturin_version=1.16.0
uv_version=0.13.9
pipx_version=1.18.4

tools="$PWD/target/wheel-tools"
work="$(mktemp -d "${TMPDIR:-/tmp}/stagegate-wheel.XXXXXX")"
trap 'rm -rf "$work"' EXIT

now() { date +%s.%N; }
since() { awk -v start="$1" -v end="$(now)" 'BEGIN { printf "%.1fs", end - start }'; }
fail() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Nothing below may touch the user's (or CI's) own uv, pipx or pip state, or download a Python.
export UV_CACHE_DIR="$work/uv-cache"
export UV_TOOL_DIR="$work/uv-tools"
export UV_TOOL_BIN_DIR="$work/uv-bin"
export UV_PYTHON_DOWNLOADS=never
export UV_NO_CONFIG=1
export PIPX_HOME="$work/pipx-home"
export PIPX_BIN_DIR="$work/pipx-bin"
export PIPX_MAN_DIR="$work/pipx-man"
export PIP_DISABLE_PIP_VERSION_CHECK=1
export PIP_NO_INPUT=1
unset VIRTUAL_ENV CONDA_PREFIX

start=$(now)
if [ ! -x "$tools/bin/python" ]; then
    python3 -m venv "$tools"
fi
installed="$("$tools/bin/python" -m pip freeze 2> /dev/null || true)"
for requirement in "maturin==$maturin_version" "uv==$uv_version" "pipx==$pipx_version"; do
    if ! grep -qixF "$requirement" <<< "$installed"; then
        "$tools/bin/python" -m pip install --quiet "maturin==$maturin_version" "uv==$uv_version" "pipx==$pipx_version"
        break
    fi
done
maturin="$tools/bin/maturin"
uv="$tools/bin/uv"
pipx="$tools/bin/pipx"
echo "tools: maturin $maturin_version, uv $uv_version, pipx $pipx_version ready in $(since "$start")"

version="$(cargo metadata --no-deps --format-version 1 --offline |
    python3 -c 'import json, sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"] == "stagegate"))')"

start=$(now)
"$maturin" build --profile dev --out "$work/wheels" --quiet
wheels=("$work"/wheels/stagegate_cli-"$version"-*.whl)
[ -f "${wheels[0]}" ] || fail "maturin built no stagegate_cli-$version wheel: $(ls "$work/wheels")"
wheel="${wheels[0]}"
echo "wheel: built $(basename "$wheel") ($(du -h "$wheel" | cut -f1)) in $(since "$start")"

# The wheel must carry the binary and nothing that would shadow another package.
python3 - "$wheel" <<'EOF'
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
scripts = [n for n in names if ".data/scripts/" in n]
if [s.rsplit("/", 1)[1] for s in scripts] not in (["stagegate"], ["stagegate.exe"]):
    sys.exit(f"error: the wheel should install exactly one script, stagegate; it has {scripts}")
stray = [n for n in names if not n.startswith("stagegate_cli-")]
if stray:
    sys.exit(f"error: the wheel has files outside its .dist-info and .data: {stray}")
EOF

check_version() { # $1: how it was installed, then the command
    local how="$1" output
    shift
    output="$("$@" --version)" || fail "$how: \`stagegate --version\` failed"
    case "$output" in
        *"$version"*) ;;
        *) fail "$how: \`stagegate --version\` printed '$output', expected version $version" ;;
    esac
}

# pip's way: a fresh venv, the wheel installed offline.
start=$(now)
"$uv" venv --quiet --python python3 "$work/venv"
"$uv" pip install --quiet --offline --python "$work/venv/bin/python" "$wheel"
echo "venv (uv pip install): installed in $(since "$start")"
check_version "venv" "$work/venv/bin/stagegate"
start=$(now)
(cd "$work" && "$work/venv/bin/stagegate" demo) > "$work/demo.log" 2>&1 || {
    cat "$work/demo.log" >&2
    fail "venv: \`stagegate demo\` from the wheel failed"
}
echo "venv: stagegate $version --version and demo ok (demo ran in $(since "$start"))"

start=$(now)
"$uv" tool install --quiet --offline --python python3 "$wheel"
echo "uv tool install: installed in $(since "$start")"
check_version "uv tool install" "$UV_TOOL_BIN_DIR/stagegate"

start=$(now)
check_version "uvx --from" "$tools/bin/uvx" --quiet --offline --python python3 --from "$wheel" stagegate
echo "uvx --from: ran stagegate --version in $(since "$start")"

start=$(now)
"$pipx" install --quiet --python python3 "$wheel" > /dev/null
echo "pipx install: installed in $(since "$start")"
check_version "pipx install" "$PIPX_BIN_DIR/stagegate"

echo "wheel: stagegate-cli $version installs and runs with pip, uv tool install, uvx --from and pipx install"
