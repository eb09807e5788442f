#!/usr/bin/env bash
# Time from a release archive to a usable `stagegate` through the action's install script.
# Packs BINARY into the release layout (stagegate-x86_64-unknown-linux-musl.tar.gz and its
# .sha256 under v{version}/), serves it from 127.0.0.1 with python3's http.server, and runs
# install.sh RUNS times into a fresh tool cache, then once more with the binary already there.
# Usage: bash action/measure.sh BINARY [RUNS]   (e.g. target/release/stagegate 5)
set -euo pipefail
cd "$(dirname "$0")/.."

binary="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
runs="${2:-5}"
version="$("$binary" --version | awk '{ print $2 }')"
target=x86_64-unknown-linux-musl
work="$(mktemp -d)"
server=""
cleanup() {
    if [ -n "$server" ]; then kill "$server" 2> /dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/release/v$version" "$work/pack/stagegate-$target"
cp "$binary" "$work/pack/stagegate-$target/stagegate"
archive="stagegate-$target.tar.gz"
tar -C "$work/pack" -czf "$work/release/v$version/$archive" "stagegate-$target"
(cd "$work/release/v$version" && sha256sum --binary "$archive" > "$archive.sha256")

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$work/release" > /dev/null 2>&1 &
server=$!
for _ in $(seq 50); do
    curl -fsS -o /dev/null "http://127.0.0.1:$port/v$version/$archive.sha256" 2> /dev/null && break
    sleep 0.1
done

install() { # $1: tool cache
    env RUNNER_OS=Linux RUNNER_ARCH=X64 RUNNER_TOOL_CACHE="$1" RUNNER_TEMP="$work" \
        GITHUB_OUTPUT="$work/output" GITHUB_PATH="$work/path" \
        INPUT_VERSION="$version" INPUT_DOWNLOAD_URL="http://127.0.0.1:$port" \
        bash action/install.sh install > /dev/null
    "$(tail -n 1 "$work/path")/stagegate" --version > /dev/null
}
now() { date +%s.%N; }
echo "archive: $archive ($(du -h "$work/release/v$version/$archive" | cut -f1)), stagegate $version"
for run in $(seq "$runs"); do
    start=$(now)
    install "$work/cache-$run"
    awk -v s="$start" -v e="$(now)" -v r="$run" 'BEGIN { printf "run %d: downloaded, verified, installed and ran in %.2fs\n", r, e - s }'
done
start=$(now)
install "$work/cache-1"
awk -v s="$start" -v e="$(now)" 'BEGIN { printf "already installed: %.3fs\n", e - s }'
