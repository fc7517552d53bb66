#!/bin/sh
# Write-to-served latency of gray fragments in etcd: one real etcd (Debian etcd-server), three
# gateway processes on one prefix, WRITES writes (default 300). Prints median and p99.
#   crates/gateway/bench/fleet.sh [WRITES]
set -eu
cd "$(dirname "$0")/../../.."
exec cargo bench -p gateway --bench fleet_latency -- "${1:-300}"
