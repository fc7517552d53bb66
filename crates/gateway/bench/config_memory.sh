#!/usr/bin/env bash
# The gateway's memory under large config, on loopback: large gray fragments within the config's
# total budget (accepted) and far over it (refused), each reverted, and one fragment with very
# many rules. It prints, per step, the reload's status and the gateway's resident memory (RSS
# now, and the peak during the step).
#
#   crates/gateway/bench/config_memory.sh                      # build --release, then measure
#   FRAGMENTS=60 FRAGMENT_MIB=4 ACCEPTED=3 RULES=100000 crates/gateway/bench/config_memory.sh
#   GATEWAY_BIN=target/release/gateway crates/gateway/bench/config_memory.sh   # skip the build
#
# Bounded: at most 100 fragments of at most 4 MiB (the per-file cap) and 200,000 rules, written
# to a temp directory that is removed at the end; the gateway listens on 127.0.0.1 only and is
# killed at the end. The peak is the kernel's high-water mark (VmHWM), reset before each step
# through /proc/PID/clear_refs. Needs curl.
set -euo pipefail

FRAGMENTS=${FRAGMENTS:-60}     # large fragments written at once
FRAGMENT_MIB=${FRAGMENT_MIB:-4} # size of each, in MiB
ACCEPTED=${ACCEPTED:-3}        # fragments in the first step (3 x 4 MiB fits the 16 MiB budget)
RULES=${RULES:-100000}         # rules in the one-file rules step (the default cap is 2000)
(( FRAGMENTS > 100 )) && FRAGMENTS=100
(( FRAGMENT_MIB > 4 )) && FRAGMENT_MIB=4
(( RULES > 200000 )) && RULES=200000

# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"

export GATEWAY_MEMORY_ADMIN_TOKEN=memory-admin-token-0123456789abcdef
export GATEWAY_MEMORY_SECRET=memory-secret-0123456789abcdef0123456789
export ENABLE_GRAY_CONFIG=true
export RUST_LOG=${RUST_LOG:-warn}
unset ENV

mkdir -p "$work/config/gray"
cat > "$work/config/base.toml" <<TOML
[server]
listen = "127.0.0.1:0"
reload_timeout_ms = 60000

[admin]
listen = "127.0.0.1:0"
token_env = "GATEWAY_MEMORY_ADMIN_TOKEN"

[auth]
key_id = "memory"
secret_env = "GATEWAY_MEMORY_SECRET"

[storage]
path = "$work/gateway.db"

[gray]
enabled = true

[gray.default]
billing = "v1"
TOML

"$GATEWAY_BIN" serve --config-dir "$work/config" > "$work/stdout" 2> "$work/stderr" &
server_pid=$!
for _ in $(seq 1 200); do
    admin_addr=$(sed -n 's/^gateway admin listening on //p' "$work/stdout")
    [[ -n "$admin_addr" ]] && break
    sleep 0.05
done
if [[ -z "${admin_addr:-}" ]]; then
    cat "$work/stderr" >&2
    echo "gateway did not start" >&2
    exit 1
fi
[[ "$admin_addr" == 127.0.0.1:* ]] || { echo "refusing $admin_addr: loopback only" >&2; exit 1; }

status_kib() { awk -v field="$1:" '$1 == field { print $2 }' "/proc/$server_pid/status"; }
mib() { echo "$(( $1 / 1024 ))"; }
reset_peak() { echo 5 > "/proc/$server_pid/clear_refs"; }

# One reload; prints the HTTP status, and the answer's code when it is not 200.
reload() {
    local answer status
    answer=$(curl -s --max-time 120 -w '\n%{http_code}' -X POST \
        -H "Authorization: Bearer $GATEWAY_MEMORY_ADMIN_TOKEN" "http://$admin_addr/config/reload")
    status=${answer##*$'\n'}
    if [[ "$status" == 200 ]]; then
        echo "$status"
    else
        echo "$status $(sed -n 's/.*"code":"\([a-z_]*\)".*/\1/p' <<< "${answer%$'\n'*}")"
    fi
}

step() {
    local name=$1 outcome
    reset_peak
    outcome=$(reload)
    echo "$name: reload=$outcome rss_mib=$(mib "$(status_kib VmRSS)") peak_mib=$(mib "$(status_kib VmHWM)")"
}

echo "idle: rss_mib=$(mib "$(status_kib VmRSS)")"

# Each fragment holds labels of 64 KiB string values, so its bytes end up in the config rather
# than in comments the parser drops.
value=$(head -c $(( 64 * 1024 )) /dev/zero | tr '\0' 'x')
labels_per_fragment=$(( FRAGMENT_MIB * 16 - 1 ))
write_fragments() {
    for i in $(seq 1 "$1"); do
        {
            echo "[gray.labels]"
            for j in $(seq 1 "$labels_per_fragment"); do
                echo "f${i}_$j = \"$value\""
            done
        } > "$work/config/gray/large-$i.toml"
    done
}

write_fragments "$ACCEPTED"
step "$ACCEPTED x ${FRAGMENT_MIB} MiB fragments"
rm -f "$work/config/gray/large-"*.toml
step "fragments reverted"

write_fragments "$FRAGMENTS"
step "$FRAGMENTS x ${FRAGMENT_MIB} MiB fragments"
rm -f "$work/config/gray/large-"*.toml
step "fragments reverted"

awk -v rules="$RULES" 'BEGIN {
    for (i = 0; i < rules; i++) printf "[[gray.rules]]\nname = \"r%d\"\n", i
}' > "$work/config/gray/rules.toml"
step "$RULES rules in one fragment ($(( $(stat -c %s "$work/config/gray/rules.toml") / 1024 )) KiB)"
rm -f "$work/config/gray/rules.toml"
step "rules reverted"
