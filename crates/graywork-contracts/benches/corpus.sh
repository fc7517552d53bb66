#!/usr/bin/env bash
# The real-crate corpus: fetches popular crates from crates.io with cargo (into a cache
# directory, once), and runs the release `cargo-graywork check-contracts` on each: the crate
# against itself (must be silent) and against an earlier published version. Prints a table of
# lines, milliseconds, findings and unread parts. A bench, not a test: it needs the registry.
#
#   crates/graywork-contracts/benches/corpus.sh            # every crate below
#   crates/graywork-contracts/benches/corpus.sh tokio syn  # just these
#
# GRAYWORK_CORPUS sets the cache directory (default: ~/.cache/graywork-corpus).
set -euo pipefail
root="$(cd "$(dirname "$0")/../../.." && pwd)"
cache="${GRAYWORK_CORPUS:-$HOME/.cache/graywork-corpus}"
mkdir -p "$cache/src"

# name, requirement for the version checked, earlier version to compare it with.
corpus=(
  "tokio 1 1.40.0" "tokio-util 0.7 0.7.12" "syn 2 2.0.80" "serde 1 1.0.200"
  "serde_json 1 1.0.120" "regex-syntax 0.8 0.8.4" "regex-automata 0.4 0.4.8" "rand 0.8 0.8.4"
  "hyper 1 1.4.1" "clap_builder 4 4.5.20" "nom 7 7.1.1" "futures-util 0.3 0.3.30"
  "bytes 1 1.7.1" "chrono 0.4 0.4.38" "time 0.3 0.3.36" "rustls 0.23 0.23.12"
  "http 1 1.1.0" "axum 0.7 0.7.5" "tower 0.5 0.5.1" "h2 0.4 0.4.6"
  "libc 0.2 0.2.158" "itertools 0.13 0.13.0" "toml_edit 0.22 0.22.20" "url 2 2.5.2"
  "uuid 1 1.10.0" "winnow 0.6 0.6.18" "indexmap 2 2.5.0" "hashbrown 0.15 0.15.0"
  "crossbeam-channel 0.5 0.5.13" "rayon-core 1 1.12.0" "tracing-subscriber 0.3 0.3.18"
  "tracing-core 0.1 0.1.32" "anyhow 1 1.0.86" "semver 1 1.0.23" "petgraph 0.6 0.6.4"
  "encoding_rs 0.8 0.8.34" "smallvec 1 1.13.2" "num-bigint 0.4 0.4.5" "memchr 2 2.7.4"
  "proc-macro2 1 1.0.86" "image 0.25 0.25.2"
)
if [ $# -gt 0 ]; then
  wanted=" $* "
  picked=()
  for entry in "${corpus[@]}"; do
    [[ "$wanted" == *" ${entry%% *} "* ]] && picked+=("$entry")
  done
  corpus=("${picked[@]}")
fi

# One project depending on every crate: cargo resolves and fetches the versions checked.
{
  printf '[package]\nname = "graywork-corpus"\nversion = "0.0.0"\nedition = "2021"\n[dependencies]\n'
  for entry in "${corpus[@]}"; do
    read -r name req _ <<<"$entry"
    printf '%s = { version = "%s", default-features = false }\n' "$name" "$req"
  done
} >"$cache/Cargo.toml"
: >"$cache/src/lib.rs"
(cd "$cache" && cargo fetch -q)
(cd "$cache" && cargo metadata --format-version 1 -q) >"$cache/metadata.json"

cargo build -q --release -p cargo-graywork --manifest-path "$root/Cargo.toml"
bin="$root/target/release/cargo-graywork"

# Milliseconds of the median of three runs, and the JSON report of the last.
run() {
  local times=() out
  for _ in 1 2 3; do
    local start end
    start=$(date +%s%N)
    out="$("$bin" graywork check-contracts --format json "$@" 2>/dev/null || true)"
    end=$(date +%s%N)
    times+=($(((end - start) / 1000000)))
  done
  IFS=$'\n' sorted=($(sort -n <<<"${times[*]}"))
  unset IFS
  printf '%s\t%s' "${sorted[1]}" "$(tr -d '\n' <<<"$out")"
}

summary() {
  python3 -c '
import json, sys
text = sys.stdin.read()
try:
    report = json.loads(text)
except ValueError:
    print("error\t-\t-"); sys.exit()
errors = sum(1 for f in report["findings"] if f["severity"] == "error")
print("%d\t%d\t%s" % (len(report["findings"]), errors, len(report.get("unread", []))))
'
}

printf '%-20s %-10s %8s %8s %9s %8s | %-10s %8s %9s %7s\n' \
  crate version lines self_ms findings unread earlier prev_ms findings errors
for entry in "${corpus[@]}"; do
  read -r name _ earlier <<<"$entry"
  dir="$(python3 -c '
import json, sys, os
meta = json.load(open(sys.argv[1]))
for p in meta["packages"]:
    if p["name"] == sys.argv[2] and p["source"]:
        print(os.path.dirname(p["manifest_path"]) + " " + p["version"]); break
' "$cache/metadata.json" "$name")"
  read -r path version <<<"$dir"
  lines=$(find "$path/src" -name '*.rs' -print0 | xargs -0 cat | wc -l)
  IFS=$'\t' read -r self_ms self_json <<<"$(run --baseline-dir "$path" --crate-dir "$path")"
  IFS=$'\t' read -r self_findings _ self_unread <<<"$(summary <<<"$self_json")"
  IFS=$'\t' read -r prev_ms prev_json <<<"$(run --crate-dir "$path" --baseline-version "$earlier")"
  IFS=$'\t' read -r prev_findings prev_errors _ <<<"$(summary <<<"$prev_json")"
  printf '%-20s %-10s %8s %8s %9s %8s | %-10s %8s %9s %7s\n' \
    "$name" "$version" "$lines" "$self_ms" "$self_findings" "$self_unread" \
    "$earlier" "$prev_ms" "$prev_findings" "$prev_errors"
done
