#!/usr/bin/env bash
# Load benchmark for the gateway, driven by wrk on loopback (`apt-get install wrk`).
#
#   crates/gateway/bench/load.sh            # build --release, then run every scenario
#   DURATION=10s ROUNDS=12 RELOAD_DURATION=60s CONNECTIONS=64 crates/gateway/bench/load.sh
#   GATEWAY_BIN=target/release/gateway crates/gateway/bench/load.sh   # skip the build
#
# Scenarios, all reading one invoice through GET /api/invoices/{id} (routed by gray rules)
# with a fresh X-User-Id per request, so percentage rules hash a new sticky key every time:
#   1. gray off: gray.enabled = false, every decision is DISABLED -> the default route;
#   2. gray on:  five rules (header, path, labels, env, 10% rollout) evaluated per request;
#   3. gray on while the config is reloaded every 100 ms (each reload changes the rollout
#      percentage), reporting failed requests and p99;
#   4. invoice creates (POST /api/invoices, a new id each), committed one by one to SQLite in
#      WAL mode by the single writer: creates per second over HTTP.
# Scenarios 1 and 2 run side by side (two servers on one database) and wrk alternates between
# them for ROUNDS rounds, so both see the same background load; the median of the per-round
# ratios is compared with the target.
# Decision logging is off by default (RUST_LOG=warn) so the numbers measure routing, not the
# terminal; RUST_LOG=info measures with every decision logged.
set -euo pipefail

DURATION=${DURATION:-3s}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-1}
ROUNDS=${ROUNDS:-12}
RELOAD_DURATION=${RELOAD_DURATION:-20s}

# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
bin=$GATEWAY_BIN
off_pid=""
on_pid=""
reloader_pid=""
cleanup() {
    for pid in "$reloader_pid" "$server_pid" "$off_pid" "$on_pid"; do
        [[ -n "$pid" ]] && kill "$pid" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    rm -rf "$work"
}

export GATEWAY_BENCH_ADMIN_TOKEN=bench-admin-token-0123456789abcdef
export GATEWAY_BENCH_SECRET=bench-secret-0123456789abcdef0123456789
export ENABLE_GRAY_CONFIG=true
export RUST_LOG=${RUST_LOG:-warn}
unset ENV

mkdir -p "$work/config/gray"
cat > "$work/config/base.toml" <<TOML
[server]
listen = "127.0.0.1:0"
request_timeout_ms = 5000

[admin]
token_env = "GATEWAY_BENCH_ADMIN_TOKEN"

[auth]
key_id = "bench"
secret_env = "GATEWAY_BENCH_SECRET"

[storage]
path = "$work/gateway.db"

[gray]
enabled = true

[gray.default]
billing = "v1"

[gray.labels]
env = "prod"
zone = "cn-east"
TOML

# Writes the rollout fragment with percentage $1. The file is written beside and renamed into
# place, as deployment tools do, so a reload never reads it half-written.
rollout() {
    cat > "$work/config/gray/billing-v2.toml.tmp" <<TOML
[[gray.rules]]
name = "canary-header"
route = { billing = "v2" }
headers = { "X-Canary" = "v2" }

[[gray.rules]]
name = "v2-path"
route = { billing = "v2" }
path_prefix = "/api/v2/"

[[gray.rules]]
name = "canary-instances"
route = { billing = "v2" }
labels = { env = "prod", canary = "true" }

[[gray.rules]]
name = "feature-x"
route = { billing = "v2" }
env = { ENABLE_FEATURE_X = "true" }

[[gray.rules]]
name = "rollout"
route = { billing = "v2" }
labels = { env = "prod" }
percent = $1
bucket_by = "header:X-User-Id"
TOML
    mv "$work/config/gray/billing-v2.toml.tmp" "$work/config/gray/billing-v2.toml"
}
rollout 10

# Starts a server with extra environment assignments; sets $server_pid, $addr and $admin_addr
# (the admin listener, where /config/reload lives).
start() {
    # Emptied here, not by the redirection below, so the loop never reads a previous address.
    : > "$work/stdout"
    env "$@" "$bin" serve --config-dir "$work/config" --admin-listen 127.0.0.1:0 \
        > "$work/stdout" 2>> "$work/stderr" &
    server_pid=$!
    for _ in $(seq 1 200); do
        addr=$(sed -n 's/^gateway listening on //p' "$work/stdout")
        admin_addr=$(sed -n 's/^gateway admin listening on //p' "$work/stdout")
        [[ -n "$addr" && -n "$admin_addr" ]] && return 0
        sleep 0.05
    done
    cat "$work/stderr" >&2
    echo "gateway did not start" >&2
    exit 1
}

stop() {
    kill "$server_pid"
    wait "$server_pid" || true
    server_pid=""
}

token=$("$bin" token issue --config-dir "$work/config" --subject bench \
    --scope invoices:read --scope invoices:write --ttl-seconds 3600)

# One invoice to read, written through v1 so both routes can read it.
start
curl -sf -o /dev/null -X POST "http://$addr/api/v1/invoices" \
    -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d '{"invoice_id":"inv-bench","customer":"cust-1","tax_rate":1900,"lines":[{"description":"Widget","quantity":2,"unit_price":500}]}'
stop

cat > "$work/get.lua" <<LUA
local counter = 0
request = function()
    counter = counter + 1
    local headers = {}
    headers["Authorization"] = "Bearer $token"
    headers["X-User-Id"] = "user-" .. counter
    return wrk.format("GET", "/api/invoices/inv-bench", headers)
end
LUA

# Runs wrk against address $1 for ${2:-$DURATION}; leaves its report in $work/wrk.out.
load() {
    wrk --latency -t"$THREADS" -c"$CONNECTIONS" -d"${2:-$DURATION}" -s "$work/get.lua" "http://$1" > "$work/wrk.out"
}
rps() { awk '/^Requests\/sec:/ {print $2}' "$work/wrk.out"; }
p99() { awk '$1 == "99%" {print $2}' "$work/wrk.out"; }
failed() {
    awk '/Non-2xx or 3xx responses:/ {n += $NF} /Socket errors:/ {
        for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+,?$/) { gsub(",", "", $i); n += $i } } END {print n + 0}' "$work/wrk.out"
}
median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

start APP__GRAY__ENABLED=false
off_pid=$server_pid
off_addr=$addr
start
on_pid=$server_pid
on_addr=$addr
server_pid=""
: > "$work/off.rps"
: > "$work/on.rps"
for round in $(seq 1 "$ROUNDS"); do
    load "$off_addr"
    rps >> "$work/off.rps"
    echo "round $round gray off: $(rps) req/s, p99 $(p99), failed $(failed)"
    load "$on_addr"
    rps >> "$work/on.rps"
    echo "round $round gray on:  $(rps) req/s, p99 $(p99), failed $(failed)"
done
kill "$off_pid" "$on_pid"
wait "$off_pid" "$on_pid" || true
off_pid=""
on_pid=""
off=$(median < "$work/off.rps")
on=$(median < "$work/on.rps")
# Each round's two runs are seconds apart, so their ratio cancels most background load; the
# median of those ratios is the headline figure.
ratio=$(paste "$work/on.rps" "$work/off.rps" | awk '{printf "%f\n", 100 * $1 / $2}' | median)
echo "median gray on: $on req/s, median gray off: $off req/s"
printf 'gray on / gray off, median of paired rounds: %.1f%% (target >= 95%%)\n' "$ratio"

# Reload every 100 ms under load, alternating the rollout percentage.
start
reloads="$work/reloads"
: > "$reloads"
(
    percent=10
    while [[ ! -e "$work/stop-reloading" ]]; do
        percent=$(( percent == 10 ? 20 : 10 ))
        # One reload per 100 ms tick (or back to back if a reload takes longer).
        sleep 0.1 &
        rollout "$percent"
        curl -s -o /dev/null -w '%{http_code}\n' -X POST "http://$admin_addr/config/reload" \
            -H "Authorization: Bearer $GATEWAY_BENCH_ADMIN_TOKEN" >> "$reloads"
        wait
    done
) &
reloader_pid=$!
load "$addr" "$RELOAD_DURATION"
# Let the reloader finish its current reload rather than killing it mid-request.
touch "$work/stop-reloading"
wait "$reloader_pid"
reloader_pid=""
total=$(awk '/requests in/ {print $1}' "$work/wrk.out")
ok_reloads=$(grep -c '^200$' "$reloads" || true)
grep -v '^200$' "$reloads" | sort | uniq -c | sed 's/^/reload answers other than 200: /' || true
all_reloads=$(wc -l < "$reloads")
echo "reload every 100 ms: $(rps) req/s, $total requests, failed $(failed), p99 $(p99), reloads $ok_reloads/$all_reloads ok"

cat > "$work/post.lua" <<LUA
local counter = 0
request = function()
    counter = counter + 1
    local headers = {}
    headers["Authorization"] = "Bearer $token"
    headers["Content-Type"] = "application/json"
    headers["X-User-Id"] = "user-" .. counter
    local body = string.format('{"invoice_id":"load-%d-%d","customer":"cust-1","tax_rate":1900,'
        .. '"lines":[{"description":"Widget","quantity":2,"unit_price":500}]}', math.random(1, 1000000000), counter)
    return wrk.format("POST", "/api/invoices", headers, body)
end
LUA
wrk --latency -t"$THREADS" -c"$CONNECTIONS" -d"$RELOAD_DURATION" -s "$work/post.lua" "http://$addr" > "$work/wrk.out"
echo "creates (WAL, one writer): $(rps) invoices/s, failed $(failed), p99 $(p99)"
stop
