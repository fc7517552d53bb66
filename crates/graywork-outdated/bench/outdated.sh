#!/usr/bin/env bash
# Times `outdated` on a generated 100-member workspace against `cargo metadata --no-deps`.
#
# The workspace uses crates.io crates this repository already depends on, so cargo's index
# cache is warm and `cargo generate-lockfile --offline` needs no network. Half of each
# member's dependencies are inherited from [workspace.dependencies], half are its own.
#
# Usage: crates/graywork-outdated/bench/outdated.sh [BINARY] [MEMBERS] [RUNS]
#   BINARY   the cargo-graywork binary (default: target/release/cargo-graywork)
#   MEMBERS  how many members (default: 100)
#   RUNS     timed runs per command; the median is printed (default: 10)
set -euo pipefail

binary=$(realpath "${1:-target/release/cargo-graywork}")
members=${2:-100}
runs=${3:-10}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

# Requirements this repository already locks, so offline resolution finds downloaded versions.
shared=('serde = "1"' 'serde_json = "1"' 'anyhow = "1"' 'thiserror = "2"' 'semver = "1.0.0"'
        'toml = "0.9"' 'clap = "4"' 'tracing = "0.1"' 'petgraph = "0.8"' 'tempfile = "3"')
own=('syn = "2.0.0"' 'quote = "1.0.0"' 'proc-macro2 = "1.0.0"' 'memchr = "2.0.0"' 'itoa = "1.0.0"')

{
  echo '[workspace]'
  echo 'resolver = "3"'
  printf 'members = [%s]\n' "$(seq -f '"m%03g"' 0 $((members - 1)) | paste -sd, -)"
  echo
  echo '[workspace.dependencies]'
  printf '%s\n' "${shared[@]}"
} > "$dir/Cargo.toml"

for i in $(seq 0 $((members - 1))); do
  name=$(printf 'm%03d' "$i")
  mkdir -p "$dir/$name/src"
  : > "$dir/$name/src/lib.rs"
  {
    printf '[package]\nname = "%s"\nversion = "0.1.0"\nedition = "2024"\n\n[dependencies]\n' "$name"
    for k in 0 1 2; do echo "${shared[$(((i + k) % ${#shared[@]}))]%% =*}.workspace = true"; done
    for k in 0 1; do echo "${own[$(((i + k) % ${#own[@]}))]}"; done
    if [ "$i" -gt 0 ]; then printf 'm%03d = { path = "../m%03d" }\n' $((i - 1)) $((i - 1)); fi
  } > "$dir/$name/Cargo.toml"
done

(cd "$dir" && cargo generate-lockfile --offline --quiet)

# One run of each command per round, interleaved, so load from elsewhere hits all alike.
declare -A times
commands=(
  "cargo metadata --no-deps --format-version 1 --offline"
  "$binary outdated --offline"
  "$binary outdated --offline --format json"
  "$binary outdated --offline --plan"
)
cd "$dir"
for _ in $(seq "$runs"); do
  for command in "${commands[@]}"; do
    start=$(date +%s%N)
    $command > /dev/null
    end=$(date +%s%N)
    times[$command]+="$(((end - start) / 1000000)) "
  done
done
median() { printf '%s\n' ${times[$1]} | sort -n | sed -n "$(((runs + 1) / 2))p"; }

echo "members: $members, runs: $runs (median, ms)"
for command in "${commands[@]}"; do
  printf '%-60s %s\n' "${command/#$binary/cargo-graywork}" "$(median "$command")"
done
"$binary" outdated --offline | tail -1
