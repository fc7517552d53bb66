# Shared set-up of the gateway bench scripts, sourced by each: the release binary in
# $GATEWAY_BIN (built first unless the caller names one), a temp directory in $work, and a
# cleanup at exit that stops the gateway in $server_pid and removes $work. A script that
# starts more processes redefines `cleanup`.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
if [[ -z "${GATEWAY_BIN:-}" ]]; then
    target=${CARGO_TARGET_DIR:-$root/target}
    cargo build --quiet --release -p gateway --manifest-path "$root/Cargo.toml"
    GATEWAY_BIN="$target/release/gateway"
fi

work=$(mktemp -d)
server_pid=""
cleanup() {
    [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
