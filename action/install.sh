#!/usr/bin/env bash
# Installs a pinned stagegate release for the GitHub Action in ../action.yml.
#
#   install.sh plan      resolve the version, the target and the install directory; write them
#                        as step outputs (the action's cache step keys on them)
#   install.sh install   the same, then use the binary already in the install directory, or
#                        download the release archive and its .sha256, verify, extract, check
#                        `stagegate --version`, and move the binary into place
#
# Inputs come from the environment, never from the command line:
#   INPUT_VERSION        1.2.3 or v1.2.3; empty means the version of this action's own commit,
#                        read from [workspace.package] in $GITHUB_ACTION_PATH/Cargo.toml
#   INPUT_DOWNLOAD_URL   base URL of the releases; the archive is {base}/v{version}/{archive}
# and from the runner: RUNNER_OS, RUNNER_ARCH (uname when unset), RUNNER_TOOL_CACHE,
# RUNNER_TEMP, GITHUB_OUTPUT, GITHUB_PATH.
#
# Writes only into the install directory ($RUNNER_TOOL_CACHE/stagegate/{version}/{target}),
# a temporary directory under $RUNNER_TEMP that it removes, $GITHUB_OUTPUT and $GITHUB_PATH.
# Every failure is one `::error::` line on stdout, then exit 1, with nothing installed.
set -euo pipefail

# Annotations go to the step's stdout even from inside a command substitution.
exec 3>&1

# The release archives' extensions (dist-workspace.toml: unix-archive, windows-archive); the
# checksum file beside each is {archive}.sha256.
ARCHIVE_EXTENSION_UNIX="tar.gz"
ARCHIVE_EXTENSION_WINDOWS="zip"

DEFAULT_DOWNLOAD_URL="https://github.com/stagegate/stagegate/releases/download"
RELEASES_PAGE="https://github.com/stagegate/stagegate/releases"

# One annotation line, escaped as GitHub's workflow commands require, then exit 1.
fail() {
    local message="$*"
    message="${message//'%'/'%25'}"
    message="${message//$'\r'/'%0D'}"
    message="${message//$'\n'/'%0A'}"
    printf '::error title=stagegate install::%s\n' "$message" >&3
    exit 1
}

log() {
    printf 'stagegate install: %s\n' "$*"
}

set_output() {
    if [ -n "${GITHUB_OUTPUT:-}" ]; then
        printf '%s=%s\n' "$1" "$2" >> "$GITHUB_OUTPUT"
    fi
}

# A path as the runner's own tools want it (Windows form under Git Bash, unchanged elsewhere).
native_path() {
    if command -v cygpath > /dev/null 2>&1; then
        cygpath -w "$1"
    else
        printf '%s\n' "$1"
    fi
}

# A path from the runner as bash wants it.
shell_path() {
    if command -v cygpath > /dev/null 2>&1; then
        cygpath -u "$1"
    else
        printf '%s\n' "$1"
    fi
}

# The version of the commit this action is used at: [workspace.package] version in Cargo.toml.
workspace_version() {
    local manifest="$1"
    [ -f "$manifest" ] || fail "input version is empty and $manifest does not exist, so the version of this action's commit is unknown. Set the action's version input, e.g. version: 1.2.3."
    awk '
        /^[[:space:]]*\[/ {
            section = $0
            sub(/^[[:space:]]*\[[[:space:]]*/, "", section)
            sub(/[[:space:]]*\].*$/, "", section)
            next
        }
        section == "workspace.package" && /^[[:space:]]*version[[:space:]]*=/ {
            if (match($0, /"[^"]*"/)) {
                print substr($0, RSTART + 1, RLENGTH - 2)
                exit
            }
        }
    ' "$manifest"
}

resolve_version() {
    local requested="${INPUT_VERSION:-}"
    requested="${requested#"${requested%%[![:space:]]*}"}"
    requested="${requested%"${requested##*[![:space:]]}"}"
    VERSION_FROM_ACTION=""
    if [ -z "$requested" ]; then
        local action_path="${GITHUB_ACTION_PATH:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
        local manifest
        manifest="$(shell_path "$action_path")/Cargo.toml"
        requested="$(workspace_version "$manifest")"
        [ -n "$requested" ] || fail "input version is empty and $manifest has no [workspace.package] version, so the version of this action's commit is unknown. Set the action's version input, e.g. version: 1.2.3."
        VERSION_FROM_ACTION="$manifest"
    fi
    VERSION="${requested#v}"
    if ! [[ "$VERSION" =~ ^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?$ ]]; then
        fail "version '$requested' is not a release version. Set the action's version input to a release such as 1.2.3 or v1.2.3 (see $RELEASES_PAGE)."
    fi
}

resolve_target() {
    local os="${RUNNER_OS:-}" arch="${RUNNER_ARCH:-}"
    if [ -z "$os" ]; then
        case "$(uname -s)" in
            Linux) os="Linux" ;;
            Darwin) os="macOS" ;;
            MINGW* | MSYS* | CYGWIN* | Windows_NT) os="Windows" ;;
            *) os="$(uname -s)" ;;
        esac
    fi
    if [ -z "$arch" ]; then
        case "$(uname -m)" in
            x86_64 | amd64 | AMD64) arch="X64" ;;
            aarch64 | arm64 | ARM64) arch="ARM64" ;;
            *) arch="$(uname -m)" ;;
        esac
    fi
    case "$os/$arch" in
        Linux/X64) TARGET="x86_64-unknown-linux-musl" ;;
        Linux/ARM64) TARGET="aarch64-unknown-linux-musl" ;;
        macOS/X64) TARGET="x86_64-apple-darwin" ;;
        macOS/ARM64) TARGET="aarch64-apple-darwin" ;;
        Windows/X64) TARGET="x86_64-pc-windows-msvc" ;;
        *) fail "stagegate has no prebuilt binary for $os $arch (RUNNER_OS=$os, RUNNER_ARCH=$arch). Run this job on Linux or macOS (X64 or ARM64) or on Windows X64." ;;
    esac
    if [ "$os" = "Windows" ]; then
        EXTENSION="$ARCHIVE_EXTENSION_WINDOWS"
        BINARY_NAME="stagegate.exe"
    else
        EXTENSION="$ARCHIVE_EXTENSION_UNIX"
        BINARY_NAME="stagegate"
    fi
    ARCHIVE="stagegate-$TARGET.$EXTENSION"
}

resolve_download_url() {
    BASE_URL="${INPUT_DOWNLOAD_URL:-}"
    BASE_URL="${BASE_URL:-$DEFAULT_DOWNLOAD_URL}"
    BASE_URL="${BASE_URL%/}"
    # The checksum comes from the same server as the archive, so it proves nothing over plain
    # http: only loopback mirrors (tests, local proxies) may use it.
    case "$BASE_URL" in
        https://*) ;;
        http://127.0.0.1[:/]* | http://localhost[:/]* | http://\[::1\][:/]*) ;;
        *) fail "input download-url '$BASE_URL' is not an https URL. Use https (http is accepted only for loopback hosts), e.g. download-url: https://mirror.example.com/stagegate/releases/download." ;;
    esac
    ARCHIVE_URL="$BASE_URL/v$VERSION/$ARCHIVE"
    CHECKSUM_URL="$ARCHIVE_URL.sha256"
}

resolve_install_dir() {
    local root="${RUNNER_TOOL_CACHE:-${RUNNER_TEMP:-${TMPDIR:-/tmp}}}"
    INSTALL_DIR="$(shell_path "$root")/stagegate/$VERSION/$TARGET"
    BINARY="$INSTALL_DIR/$BINARY_NAME"
}

resolve() {
    resolve_version
    resolve_target
    resolve_download_url
    resolve_install_dir
}

# The version `stagegate --version` reports, or nothing when it does not run.
reported_version() {
    "$1" --version 2> /dev/null | head -n 1 || true
}

# Whether a `--version` line names $VERSION as a word ("stagegate 1.2.3", "stagegate v1.2.3").
reports_version() {
    local word
    for word in $1; do
        if [ "$word" = "$VERSION" ] || [ "$word" = "v$VERSION" ]; then
            return 0
        fi
    done
    return 1
}

sha256_of() {
    if command -v sha256sum > /dev/null 2>&1; then
        sha256sum "$1" | awk '{ print $1 }'
    elif command -v shasum > /dev/null 2>&1; then
        shasum -a 256 "$1" | awk '{ print $1 }'
    elif command -v openssl > /dev/null 2>&1; then
        openssl dgst -sha256 -r "$1" | awk '{ print $1 }'
    else
        fail "no SHA-256 tool on this runner (looked for sha256sum, shasum and openssl). Install coreutils or perl's shasum on the runner."
    fi
}

# Download $1 to $2 (via $2.part, renamed only when complete).
download() {
    local url="$1" destination="$2" status curl_exit=0
    status="$(curl --silent --show-error --location --fail \
        --proto-redir '=https' \
        --connect-timeout 15 --max-time 300 \
        --retry 4 --retry-delay 2 --retry-connrefused \
        --user-agent "stagegate-action (version $VERSION)" \
        --output "$destination.part" --write-out '%{http_code}' \
        "$url" 2> "$WORK_DIR/curl-error")" || curl_exit=$?
    if [ "$curl_exit" -eq 0 ]; then
        mv -f "$destination.part" "$destination"
        return 0
    fi
    rm -f "$destination.part"
    case "$status" in
        404)
            if [ -n "$VERSION_FROM_ACTION" ]; then
                fail "stagegate $VERSION, the version of this action's commit (from $VERSION_FROM_ACTION), is not released for $TARGET: $url answered 404. Use the action at a release commit (uses: stagegate/stagegate@<sha> # v<version>) or set the version input to a release listed at $RELEASES_PAGE."
            fi
            fail "stagegate $VERSION is not released for $TARGET: $url answered 404. Set the version input to a release listed at $RELEASES_PAGE, or check the download-url input if you use a mirror." ;;
        000 | "")
            fail "could not download $url: $(tr '\n' ' ' < "$WORK_DIR/curl-error")(curl exit $curl_exit). Check the runner's network access to $BASE_URL, or set the download-url input to a reachable mirror." ;;
        *)
            fail "could not download $url: HTTP $status after retries. Retry the job, or set the download-url input to a mirror that serves $ARCHIVE." ;;
    esac
}

# The expected hash from a .sha256 file: "<hex>  <name>", "<hex> *<name>" or a bare "<hex>".
expected_sha256() {
    local file="$1" line hash name found=""
    while IFS= read -r line || [ -n "$line" ]; do
        line="${line%$'\r'}"
        read -r hash name <<< "$line" || true
        [ -n "${hash:-}" ] || continue
        name="${name#\*}"
        if [ -z "$name" ] || [ "$name" = "$ARCHIVE" ] || [ "${name##*/}" = "$ARCHIVE" ]; then
            found="$hash"
            break
        fi
    done < "$file"
    if ! [[ "$found" =~ ^[0-9A-Fa-f]{64}$ ]]; then
        fail "checksum file $CHECKSUM_URL has no SHA-256 for $ARCHIVE (expected '<64 hex digits>  $ARCHIVE'). Check that download-url serves the release's own .sha256 files."
    fi
    printf '%s\n' "$found" | tr 'A-F' 'a-f'
}

extract() {
    local archive="$1" into="$2"
    mkdir -p "$into"
    case "$archive" in
        *.zip)
            if command -v unzip > /dev/null 2>&1; then
                unzip -q -o "$archive" -d "$into"
            elif command -v 7z > /dev/null 2>&1; then
                7z x -y -bd "-o$into" "$archive" > /dev/null
            elif command -v powershell > /dev/null 2>&1; then
                # shellcheck disable=SC2016 # PowerShell expands $env:, not bash
                powershell -NoProfile -NonInteractive -Command \
                    'Expand-Archive -LiteralPath $env:STAGEGATE_ARCHIVE -DestinationPath $env:STAGEGATE_INTO -Force' \
                    < /dev/null
            else
                fail "cannot extract $ARCHIVE: no unzip, 7z or powershell on this runner. Install unzip on the runner."
            fi
            ;;
        *)
            tar -xf "$archive" -C "$into"
            ;;
    esac
}

# The binary inside the extracted archive: at its root or one directory down.
find_binary() {
    local root="$1" candidate
    for candidate in "$root/$BINARY_NAME" "$root"/*/"$BINARY_NAME"; do
        if [ -f "$candidate" ]; then
            printf '%s\n' "$candidate"
            return 0
        fi
    done
    return 1
}

install() {
    resolve
    local cache_hit="false" reported

    if [ -f "$BINARY" ] && reports_version "$(reported_version "$BINARY")"; then
        cache_hit="true"
        log "stagegate $VERSION ($TARGET) is already installed in $(native_path "$INSTALL_DIR")"
    else
        local parent="${RUNNER_TEMP:-${TMPDIR:-/tmp}}"
        parent="$(shell_path "$parent")"
        mkdir -p "$parent"
        WORK_DIR="$(mktemp -d "$parent/stagegate-install.XXXXXX")"
        trap 'rm -rf "$WORK_DIR"' EXIT

        log "downloading $ARCHIVE_URL"
        download "$CHECKSUM_URL" "$WORK_DIR/$ARCHIVE.sha256"
        download "$ARCHIVE_URL" "$WORK_DIR/$ARCHIVE"

        local expected actual
        expected="$(expected_sha256 "$WORK_DIR/$ARCHIVE.sha256")"
        actual="$(sha256_of "$WORK_DIR/$ARCHIVE")"
        if [ "$expected" != "$actual" ]; then
            fail "checksum mismatch for $ARCHIVE_URL: expected sha256 $expected (from $ARCHIVE.sha256), got $actual. Nothing was installed; retry the job, and if it persists check the download-url mirror or report it at $RELEASES_PAGE."
        fi
        log "sha256 $actual verified"

        STAGEGATE_ARCHIVE="$(native_path "$WORK_DIR/$ARCHIVE")" \
            STAGEGATE_INTO="$(native_path "$WORK_DIR/extracted")" \
            extract "$WORK_DIR/$ARCHIVE" "$WORK_DIR/extracted" \
            || fail "cannot extract $ARCHIVE from $ARCHIVE_URL: the archive is damaged or not a .$EXTENSION. Check that download-url serves stagegate's release archives."
        local extracted
        extracted="$(find_binary "$WORK_DIR/extracted")" \
            || fail "$ARCHIVE from $ARCHIVE_URL has no $BINARY_NAME at its root or one directory down. Check that download-url serves stagegate's release archives."
        chmod +x "$extracted"
        reported="$(reported_version "$extracted")"
        [ -n "$reported" ] \
            || fail "the $BINARY_NAME in $ARCHIVE does not run on this runner ($TARGET): --version printed nothing. Check that download-url serves stagegate's release archives."
        reports_version "$reported" \
            || fail "the binary in $ARCHIVE reports '$reported' to --version, not stagegate $VERSION. Check that download-url serves stagegate's release archives."

        # Copy next to its final place, then rename: a cut-off copy is never the binary.
        mkdir -p "$INSTALL_DIR"
        cp "$extracted" "$INSTALL_DIR/.$BINARY_NAME.partial"
        chmod +x "$INSTALL_DIR/.$BINARY_NAME.partial"
        mv -f "$INSTALL_DIR/.$BINARY_NAME.partial" "$BINARY"
        log "installed stagegate $VERSION ($TARGET) in $(native_path "$INSTALL_DIR")"
    fi

    if [ -n "${GITHUB_PATH:-}" ]; then
        native_path "$INSTALL_DIR" >> "$GITHUB_PATH"
    fi
    set_output version "$VERSION"
    set_output path "$(native_path "$BINARY")"
    set_output cache-hit "$cache_hit"
}

plan() {
    resolve
    set_output version "$VERSION"
    set_output target "$TARGET"
    set_output dir "$(native_path "$INSTALL_DIR")"
}

case "${1:-install}" in
    plan) plan ;;
    install) install ;;
    *) fail "unknown mode '$1' for $0: use plan or install." ;;
esac
