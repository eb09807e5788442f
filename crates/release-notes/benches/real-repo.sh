#!/usr/bin/env bash
# Times `stagegate notes` against git-cliff 2.12.0 and `git log` on a range of a real repository.
#
# Usage (from the workspace root):
#   bash crates/release-notes/benches/real-repo.sh REPO FROM TO [RUNS]
#
# REPO is a git directory or work tree (a bare clone is fine), FROM and TO are revisions
# (FROM must be an ancestor of TO). RUNS (default 5) is the number of timed runs of each
# command; the median is reported. Installs git-cliff 2.12.0 into a virtualenv under
# target/release-notes-bench/ on first use, like compare.sh. STAGEGATE=PATH times that
# binary instead of building this workspace's (to compare with an older build).
#
# The `git log` reference prints the fields the notes read, in the same order:
#   git log --topo-order --reverse --format='%H %P%n%an%n%ae%n%at%n%B' FROM..TO
set -euo pipefail

if [ $# -lt 3 ]; then
  echo "usage: $0 REPO FROM TO [RUNS]" >&2
  exit 2
fi
repo=$1
from=$2
to=$3
runs=${4:-5}

root=$(cd "$(dirname "$0")/../../.." && pwd)
target="${CARGO_TARGET_DIR:-$root/target}"
bench="$target/release-notes-bench"
config="$root/crates/release-notes/benches/cliff.toml"
venv="$bench/git-cliff-2.12.0"

from_commit=$(git -C "$repo" rev-parse --verify "$from^{commit}")
to_commit=$(git -C "$repo" rev-parse --verify "$to^{commit}")
if ! git -C "$repo" merge-base --is-ancestor "$from_commit" "$to_commit"; then
  echo "$from is not an ancestor of $to; use their merge base: $(git -C "$repo" merge-base "$from_commit" "$to_commit")" >&2
  exit 2
fi

cd "$root"
if [ -n "${STAGEGATE:-}" ]; then
  ours=$STAGEGATE
else
  cargo build --release -q -p stagegate
  ours="$target/release/stagegate"
fi
if [ ! -x "$venv/bin/git-cliff" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "git-cliff==2.12.0"
fi

# median wall time in ms of $runs runs of a shell command
median_ms() {
  local command=$1
  local times=()
  for _ in $(seq "$runs"); do
    local start end
    start=$(date +%s%N)
    bash -c "$command" > /dev/null 2>&1
    end=$(date +%s%N)
    times+=($(( (end - start) / 1000 )))
  done
  printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p" |
    awk '{ printf "%.1f", $1 / 1000 }'
}

# median CPU time (user + system, all processes of the command) in ms of $runs runs: less
# sensitive than wall time to other processes on a shared machine
median_cpu_ms() {
  local command=$1
  local times=()
  local record
  record=$(mktemp)
  for _ in $(seq "$runs"); do
    /usr/bin/time -o "$record" -f '%U %S' bash -c "$command" > /dev/null 2>&1
    times+=("$(awk '{ printf "%.0f", ($1 + $2) * 1000 }' "$record")")
  done
  rm -f "$record"
  printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p"
}

notes_command="$ours notes --repo $repo --from $from_commit --to $to_commit"
cliff_command="$venv/bin/git-cliff --repository $repo --config $config -o /dev/null $from_commit..$to_commit"
log_command="git -C $repo log --topo-order --reverse --format='%H %P%n%an%n%ae%n%at%n%B' $from_commit..$to_commit"

# Fail loudly rather than time an error.
bash -c "$notes_command" > /dev/null
bash -c "$cliff_command" > /dev/null 2>&1

commits=$(git -C "$repo" rev-list --count "$from_commit..$to_commit")
merges=$(git -C "$repo" rev-list --count --merges "$from_commit..$to_commit")

# Interleave the three commands so that load from other processes hits them alike.
notes_ms=() cliff_ms=() log_ms=()
for _ in 1 2 3; do
  notes_ms+=("$(median_ms "$notes_command")")
  cliff_ms+=("$(median_ms "$cliff_command")")
  log_ms+=("$(median_ms "$log_command")")
done
pick() { printf '%s\n' "$@" | sort -n | sed -n 2p; }
notes=$(pick "${notes_ms[@]}")
cliff=$(pick "${cliff_ms[@]}")
log=$(pick "${log_ms[@]}")

notes_cpu=$(median_cpu_ms "$notes_command")
cliff_cpu=$(median_cpu_ms "$cliff_command")
log_cpu=$(median_cpu_ms "$log_command")

echo "repository: $repo"
echo "range:      $from_commit..$to_commit ($commits commits, $merges merges)"
printf '%-28s %12s %12s\n' "" "wall" "CPU"
printf '%-28s %9s ms %9s ms\n' \
  "stagegate notes" "$notes" "$notes_cpu" \
  "git-cliff 2.12.0" "$cliff" "$cliff_cpu" \
  "git log --topo-order" "$log" "$log_cpu"
awk -v notes="$notes" -v cliff="$cliff" -v gitlog="$log" \
  -v notes_cpu="$notes_cpu" -v cliff_cpu="$cliff_cpu" -v log_cpu="$log_cpu" 'BEGIN {
  printf "git-cliff / notes: %.2fx wall, %.2fx CPU (target >= 2)\n", cliff / notes, cliff_cpu / notes_cpu
  printf "notes / git log:   %.2fx wall, %.2fx CPU (target <= 1.5)\n", notes / gitlog, notes_cpu / log_cpu
}'
