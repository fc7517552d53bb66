#!/usr/bin/env bash
# `upgrade-plan --apply 1` on a generated 100-member workspace, measured with hyperfine.
#
# The workspace declares its version and a shared dependency once, in [workspace.package] and
# [workspace.dependencies]; member i depends on member i-1, so `--crate m000@0.2.0` bumps all
# 100 members in lockstep and stage 1 holds 101 edits of the root manifest. Each run starts
# from a fresh copy of the manifests (hyperfine --prepare), so every run really edits.
#
# The first command is the tool alone (saved metadata, then reading the 101 manifests, planning,
# editing and writing the root manifest); the others add the `cargo metadata` call.
#
# Usage: crates/graywork-plan/benches/apply-100.sh [PATH/TO/cargo-graywork]
# (default: target/release/cargo-graywork; build it with `cargo build --release -p cargo-graywork`)
set -euo pipefail
bin=${1:-target/release/cargo-graywork}
bin=$(realpath "$bin")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
template=$work/template
mkdir -p "$template"
{
    echo '[workspace]'
    echo 'resolver = "3"'
    printf 'members = ['
    for i in $(seq -f '%03g' 0 99); do printf '"m%s", ' "$i"; done
    echo ']'
    echo
    echo '[workspace.package]'
    echo 'version = "0.1.0"'
    echo 'edition = "2021"'
    echo
    echo '[workspace.dependencies]'
    echo 'itoa = "1"'
    for i in $(seq -f '%03g' 0 99); do echo "m$i = { path = \"m$i\", version = \"0.1.0\" }"; done
} > "$template/Cargo.toml"
for n in $(seq 0 99); do
    i=$(printf '%03d' "$n")
    mkdir -p "$template/m$i/src"
    echo "//! Generated member m$i." > "$template/m$i/src/lib.rs"
    {
        echo '[package]'
        echo "name = \"m$i\""
        echo 'version.workspace = true'
        echo 'edition.workspace = true'
        echo
        echo '[dependencies]'
        echo 'itoa.workspace = true'
        if [ "$n" -gt 0 ]; then echo "m$(printf '%03d' $((n - 1))).workspace = true"; fi
    } > "$template/m$i/Cargo.toml"
done
ws=$work/ws
cp -r "$template" "$ws"
# The same metadata saved, so one command measures the tool's own work without cargo.
cargo metadata --format-version 1 --no-deps --offline --manifest-path "$ws/Cargo.toml" > "$work/metadata.json"
hyperfine -N --warmup 3 --runs 30 \
    --prepare "cp $template/Cargo.toml $ws/Cargo.toml" \
    "$bin graywork upgrade-plan --crate m000@0.2.0 --apply 1 --metadata-file $work/metadata.json" \
    "$bin graywork upgrade-plan --crate m000@0.2.0 --apply 1 --offline --manifest-path $ws/Cargo.toml" \
    "$bin graywork upgrade-plan --crate m000@0.2.0 --offline --manifest-path $ws/Cargo.toml" \
    "cargo metadata --format-version 1 --no-deps --offline --manifest-path $ws/Cargo.toml"
