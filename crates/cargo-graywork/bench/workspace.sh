#!/usr/bin/env bash
# Times `upgrade-plan --dep` and `outdated --plan` on a real workspace against the commands the
# speed bars compare them with: `cargo metadata --no-deps` and `outdated`.
#
# Each command runs once per round, interleaved, so load from elsewhere hits all alike; medians
# are printed with the ratios. "warm" runs keep the cache under the workspace's target
# directory (the first run of a new binary fills it); "cold" runs set GRAYWORK_NO_CACHE=1 and
# read every member again. Everything runs with --offline.
#
# Usage: crates/cargo-graywork/bench/workspace.sh WORKSPACE [DEP@VERSION] [RUNS] [BINARY]
#   WORKSPACE    a directory holding a Cargo workspace (with its Cargo.lock)
#   DEP@VERSION  the --dep goal (default: serde@2.0.0)
#   RUNS         timed rounds; the median is printed (default: 15)
#   BINARY       the cargo-graywork binary (default: target/release/cargo-graywork)
set -euo pipefail

workspace=$(realpath "$1")
goal=${2:-serde@2.0.0}
runs=${3:-15}
binary=$(realpath "${4:-target/release/cargo-graywork}")
cargo=${CARGO:-cargo}
export CARGO=$cargo

declare -A times
names=(metadata plan plan-cold outdated outdated-plan outdated-plan-cold)
run() {
  case $1 in
    metadata) "$cargo" metadata --no-deps --format-version 1 --offline ;;
    plan) "$binary" graywork upgrade-plan --dep "$goal" --offline ;;
    plan-cold) GRAYWORK_NO_CACHE=1 "$binary" graywork upgrade-plan --dep "$goal" --offline ;;
    outdated) "$binary" graywork outdated --offline ;;
    outdated-plan) "$binary" graywork outdated --plan --offline ;;
    outdated-plan-cold) GRAYWORK_NO_CACHE=1 "$binary" graywork outdated --plan --offline ;;
  esac
}
cd "$workspace"
# One untimed round: cargo's own caches, and this binary's cache entries.
errors=$(mktemp)
trap 'rm -f "$errors"' EXIT
for name in "${names[@]}"; do
  run "$name" > /dev/null 2> "$errors" || { echo "$name failed:" >&2; cat "$errors" >&2; exit 1; }
done
for _ in $(seq "$runs"); do
  for name in "${names[@]}"; do
    start=$(date +%s%N)
    run "$name" > /dev/null 2>&1
    end=$(date +%s%N)
    times[$name]+="$(((end - start) / 100000)) "
  done
done
# Medians in tenths of a millisecond.
median() { printf '%s\n' ${times[$1]} | sort -n | sed -n "$(((runs + 1) / 2))p"; }
ms() { awk -v t="$1" 'BEGIN { printf "%.1f", t / 10 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }

metadata=$(median metadata)
outdated=$(median outdated)
echo "workspace: $workspace, goal: --dep $goal, runs: $runs (median ms)"
printf '%-45s %8s\n' "cargo metadata --no-deps" "$(ms "$metadata")"
for name in plan plan-cold; do
  printf '%-45s %8s  %s of metadata\n' "upgrade-plan --dep $goal ($name)" \
    "$(ms "$(median $name)")" "$(ratio "$(median $name)" "$metadata")"
done
printf '%-45s %8s\n' "outdated" "$(ms "$outdated")"
for name in outdated-plan outdated-plan-cold; do
  printf '%-45s %8s  %s of outdated\n' "outdated --plan ($name)" \
    "$(ms "$(median $name)")" "$(ratio "$(median $name)" "$outdated")"
done
