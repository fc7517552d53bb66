#!/usr/bin/env bash
# Rollback-time benchmark: how long after the step that exposed it is a bad v2 rolled back?
#
# Runs the end-to-end scenario "v2 with 20% errors" ROUNDS times (default 5): real Prometheus
# (1 s scrape), two gateways built with --features faults, 300 requests/s of loopback traffic in
# total, a first step of 1%. Each round prints the controller's figures from its `rolled_back`
# event: since_exposure_ms (the 1% step's write -> the last instance verified at 0%, what
# `rollout_rollback_seconds` reports), since_step_ms (from the step's verification) and
# since_failure_ms (the failing window's end -> 0% verified), with where the time went: apply_ms
# (write, reload, verify), failing_window_ms and failing_v2_requests (the data the failing
# analysis judged). The statistical floor is the time v2 takes to serve min_requests = 10
# requests (3.3 s at 3 requests/s); goal: within 2 s of it, and within 15 s in any case. Needs
# `prometheus` on PATH (.ci/run installs Debian's package).
set -euo pipefail
cd "$(dirname "$0")/../../.."

ROUNDS="${ROUNDS:-5}"
figures=()
for round in $(seq 1 "$ROUNDS"); do
    line="$(cargo test -q -p rollout --test it a_v2_with_20_percent_errors -- --nocapture 2>&1 \
        | grep '^rollback figure:' || true)"
    if [ -z "$line" ]; then
        echo "round $round: the scenario failed; run it alone to see why" >&2
        exit 1
    fi
    echo "round $round: ${line#rollback figure: }"
    figures+=("$(sed -E 's/.*since_exposure_ms=([0-9]+).*/\1/' <<<"$line")")
done
sorted="$(printf '%s\n' "${figures[@]}" | sort -n)"
median="$(sed -n "$(( (ROUNDS + 1) / 2 ))p" <<<"$sorted")"
max="$(tail -n1 <<<"$sorted")"
echo "since_exposure_ms over $ROUNDS rounds: median $median, max $max (goal: within 2000 of the floor, 3300)"
