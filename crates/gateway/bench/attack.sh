#!/usr/bin/env bash
# A bounded attack on one gateway on loopback: slow clients, a reload storm over a large config,
# oversized or blocking config files, slow clients on the admin port and a wrong admin token
# flood. It prints, per scenario, what the attack held, what a normal client saw meanwhile (p99,
# failed requests) and the gateway's memory (RSS).
#
#   crates/gateway/bench/attack.sh                        # build --release, then attack
#   SLOW=3000 HOLD=10 STORM=10 crates/gateway/bench/attack.sh
#   SCENARIOS=admin-slow,token-flood crates/gateway/bench/attack.sh      # some scenarios only
#   GATEWAY_BIN=target/release/gateway crates/gateway/bench/attack.sh   # skip the build
#
# Everything targets 127.0.0.0/8 only, every scenario is bounded in connections and time, and
# the gateway is killed at the end. Needs python3 (the attack client) and curl.
set -euo pipefail

SCENARIOS=${SCENARIOS:-slowloris,storm,oversized,admin-slow,token-flood}
SLOW=${SLOW:-3000}       # slowloris connections (capped at 10000)
HOLD=${HOLD:-8}          # seconds the slow connections try to hold on
STORM=${STORM:-10}       # seconds of reload storm
RULES=${RULES:-1500}     # rules in the storm's config fragment (the default cap is 2000)
HEADER_TIMEOUT_MS=${HEADER_TIMEOUT_MS:-2000}
SLOW_ADMIN=${SLOW_ADMIN:-300}  # slow connections on the admin port (capped at 2000)
PROBES=${PROBES:-20}     # /healthz probes on the admin port meanwhile, each with a 5 s timeout
FLOOD=${FLOOD:-10}       # seconds of wrong admin tokens
(( SLOW > 10000 )) && SLOW=10000
(( SLOW_ADMIN > 2000 )) && SLOW_ADMIN=2000
(( PROBES > 200 )) && PROBES=200
(( FLOOD > 60 )) && FLOOD=60

# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"

export GATEWAY_ATTACK_ADMIN_TOKEN=attack-admin-token-0123456789abcdef
export GATEWAY_ATTACK_SECRET=attack-secret-0123456789abcdef0123456789
export ENABLE_GRAY_CONFIG=true
export RUST_LOG=${RUST_LOG:-warn}
unset ENV

mkdir -p "$work/config/gray"
cat > "$work/config/base.toml" <<TOML
[server]
listen = "127.0.0.1:0"
request_timeout_ms = 5000
header_read_timeout_ms = $HEADER_TIMEOUT_MS
idle_timeout_ms = 5000
reload_timeout_ms = 5000
shutdown_timeout_ms = 2000

[admin]
listen = "127.0.0.1:0"
token_env = "GATEWAY_ATTACK_ADMIN_TOKEN"

[auth]
key_id = "attack"
secret_env = "GATEWAY_ATTACK_SECRET"

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
    addr=$(sed -n 's/^gateway listening on //p' "$work/stdout")
    admin_addr=$(sed -n 's/^gateway admin listening on //p' "$work/stdout")
    [[ -n "$addr" && -n "$admin_addr" ]] && break
    sleep 0.05
done
if [[ -z "${addr:-}" || -z "${admin_addr:-}" ]]; then
    cat "$work/stderr" >&2
    echo "gateway did not start" >&2
    exit 1
fi
for a in "$addr" "$admin_addr"; do
    [[ "$a" == 127.0.0.1:* ]] || { echo "refusing to attack $a: loopback only" >&2; exit 1; }
done

GATEWAY_PID=$server_pid API="$addr" ADMIN="$admin_addr" WORK="$work" SLOW="$SLOW" HOLD="$HOLD" \
STORM="$STORM" RULES="$RULES" SLOW_ADMIN="$SLOW_ADMIN" PROBES="$PROBES" FLOOD="$FLOOD" \
SCENARIOS="$SCENARIOS" python3 - <<'PY'
import http.client, os, socket, threading, time, urllib.request, urllib.error

pid = int(os.environ["GATEWAY_PID"])
api, admin, work = os.environ["API"], os.environ["ADMIN"], os.environ["WORK"]
token = os.environ["GATEWAY_ATTACK_ADMIN_TOKEN"]
slow, hold = int(os.environ["SLOW"]), float(os.environ["HOLD"])
storm, rules = float(os.environ["STORM"]), int(os.environ["RULES"])
slow_admin, probes = int(os.environ["SLOW_ADMIN"]), int(os.environ["PROBES"])
flood = float(os.environ["FLOOD"])
scenarios = set(os.environ["SCENARIOS"].split(","))

def rss_mb():
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")

def normal_client(stop, samples, failures):
    """One well-behaved client: /healthz on the API port, back to back."""
    while not stop.is_set():
        started = time.monotonic()
        try:
            with urllib.request.urlopen(f"http://{api}/healthz", timeout=10) as answer:
                ok = answer.status == 200
        except Exception:
            ok = False
        samples.append(time.monotonic() - started)
        if not ok:
            failures.append(1)
        time.sleep(0.01)

def p99_ms(samples):
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000

def with_normal_client(attack):
    stop, samples, failures = threading.Event(), [], []
    client = threading.Thread(target=normal_client, args=(stop, samples, failures))
    client.start()
    peak = [rss_mb()]
    def watch_rss():
        while not stop.is_set():
            peak[0] = max(peak[0], rss_mb())
            time.sleep(0.2)
    watcher = threading.Thread(target=watch_rss)
    watcher.start()
    try:
        figures = attack()
    finally:
        stop.set()
        client.join()
        watcher.join()
    figures.update(normal_p99_ms=round(p99_ms(samples), 1), normal_requests=len(samples),
                   normal_failed=len(failures), rss_peak_mb=round(peak[0], 1),
                   rss_after_mb=round(rss_mb(), 1))
    return figures

def report(name, figures):
    print(f"{name}: " + ", ".join(f"{k}={v}" for k, v in figures.items()), flush=True)

def reload():
    request = urllib.request.Request(f"http://{admin}/config/reload", method="POST",
                                     headers={"Authorization": f"Bearer {token}"})
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            status = answer.status
    except urllib.error.HTTPError as error:
        status = error.code
    except Exception:
        status = 0
    return status, time.monotonic() - started

# 1. Slowloris: connections that send half a header and then trickle a byte now and then.
def slowloris():
    host, port = api.rsplit(":", 1)
    held, refused = [], 0
    for _ in range(slow):
        try:
            s = socket.create_connection((host, int(port)), timeout=2)
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            s.setblocking(False)
            held.append(s)
        except OSError:
            refused += 1
    opened = len(held)
    deadline = time.monotonic() + hold
    while time.monotonic() < deadline:
        for s in held:
            try:
                s.send(b"X")
            except OSError:
                pass
        time.sleep(1)
    still_open = 0
    for s in held:
        try:
            data = s.recv(1)
            still_open += 0 if data == b"" else 1
        except BlockingIOError:
            still_open += 1
        except OSError:
            pass
        s.close()
    return dict(opened=opened, refused_at_connect=refused, held_after_s=hold, still_open=still_open)

if "slowloris" in scenarios:
    report("slowloris", with_normal_client(slowloris))

# 2. A reload storm over a large config: many rules, reloads back to back from 8 threads.
def write_storm_fragment():
    with open(f"{work}/config/gray/storm.toml", "w") as fragment:
        for i in range(rules):
            fragment.write(f"[[gray.rules]]\nname = 'r{i}'\nroute = {{ billing = 'v1' }}\n"
                           f"headers = {{ 'x-r' = '{i}' }}\n\n")

def reload_storm():
    statuses, durations, lock = {}, [], threading.Lock()
    end = time.monotonic() + storm
    def hammer():
        while time.monotonic() < end:
            status, took = reload()
            with lock:
                statuses[status] = statuses.get(status, 0) + 1
                durations.append(took)
    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for t in threads: t.start()
    for t in threads: t.join()
    return dict(reloads=sum(statuses.values()),
                by_status="/".join(f"{k}:{v}" for k, v in sorted(statuses.items())),
                reload_p99_ms=round(p99_ms(durations), 1))

if "storm" in scenarios:
    write_storm_fragment()
    report(f"reload storm ({rules} rules)", with_normal_client(reload_storm))
    os.remove(f"{work}/config/gray/storm.toml")

# 3. Oversized and blocking config files.
def oversized():
    with open(f"{work}/config/gray/huge.toml", "w") as fragment:
        fragment.write("[gray]\n# " + "x" * (64 * 1024 * 1024) + "\n")
    status, took = reload()
    os.remove(f"{work}/config/gray/huge.toml")
    os.mkfifo(f"{work}/config/gray/pipe.toml")
    fifo_status, fifo_took = reload()
    os.remove(f"{work}/config/gray/pipe.toml")
    final, _ = reload()
    return dict(huge_64mb_status=status, huge_ms=round(took * 1000, 1),
                fifo_status=fifo_status, fifo_ms=round(fifo_took * 1000, 1),
                reload_after=final)

if "oversized" in scenarios:
    report("oversized config", with_normal_client(oversized))

# 4. Slow clients on the admin port: SLOW_ADMIN connections send half a header and hold on,
#    five more arrive before each of PROBES liveness probes (a fresh connection's GET /healthz,
#    5 s timeout, as an orchestrator sends them).
def admin_slow():
    host, port = admin.rsplit(":", 1)
    held, refused = [], 0
    def hold(n):
        nonlocal refused
        for _ in range(n):
            try:
                s = socket.create_connection((host, int(port)), timeout=2)
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
                held.append(s)
            except OSError:
                refused += 1
    hold(slow_admin)
    latencies, failed = [], 0
    for _ in range(probes):
        hold(5)
        started = time.monotonic()
        try:
            with urllib.request.urlopen(f"http://{admin}/healthz", timeout=5) as answer:
                ok = answer.status == 200
        except Exception:
            ok = False
        latencies.append(time.monotonic() - started)
        failed += 0 if ok else 1
    closed_by_server = 0
    for s in held:
        try:
            s.setblocking(False)
            closed_by_server += 1 if s.recv(1) == b"" else 0
        except BlockingIOError:
            pass
        except OSError:
            closed_by_server += 1
        s.close()
    ordered = sorted(latencies)
    return dict(slow=slow_admin + 5 * probes, refused_at_connect=refused,
                closed_by_server=closed_by_server, probes=probes, probes_failed=failed,
                probe_p50_ms=round(ordered[len(ordered) // 2] * 1000, 1),
                probe_max_ms=round(ordered[-1] * 1000, 1))

if "admin-slow" in scenarios:
    report(f"admin port, {slow_admin} slow connections", with_normal_client(admin_slow))

# 5. Wrong admin tokens for FLOOD seconds: one client every 10 ms from 127.0.0.1, one as fast as
#    it can from a new source address each time (127.0.x.y, all loopback), while the operator
#    uses the right token from 127.0.0.1 every 100 ms.
def admin_get(source, bearer):
    host, port = admin.rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=5,
                                            source_address=(source, 0))
    try:
        connection.request("GET", "/debug/version",
                           headers={"Authorization": f"Bearer {bearer}", "Connection": "close"})
        return connection.getresponse().status
    except Exception:
        return 0
    finally:
        connection.close()

def token_flood():
    wrong = "wrong-admin-token-0123456789abcdef"
    end = time.monotonic() + flood
    tallies = {"local": {}, "rotating": {}, "valid": {}}
    def tally(kind, status):
        tallies[kind][status] = tallies[kind].get(status, 0) + 1
    def local():
        while time.monotonic() < end:
            tally("local", admin_get("127.0.0.1", wrong))
            time.sleep(0.01)
    def rotating():
        n = 0
        while time.monotonic() < end:
            n += 1
            source = f"127.0.{(n // 254) % 255 + 1}.{n % 254 + 1}"
            tally("rotating", admin_get(source, wrong))
    def valid():
        while time.monotonic() < end:
            tally("valid", admin_get("127.0.0.1", token))
            time.sleep(0.1)
    threads = [threading.Thread(target=f) for f in (local, rotating, valid)]
    for t in threads: t.start()
    for t in threads: t.join()
    def by_status(kind):
        return "/".join(f"{k}:{v}" for k, v in sorted(tallies[kind].items()))
    return dict(valid_ok=f"{tallies['valid'].get(200, 0)}/{sum(tallies['valid'].values())}",
                valid_by_status=by_status("valid"), local_by_status=by_status("local"),
                rotating_by_status=by_status("rotating"),
                unauthorized_per_s=round((tallies["local"].get(401, 0)
                                             + tallies["rotating"].get(401, 0)) / flood, 1))

if "token-flood" in scenarios:
    report(f"wrong admin tokens for {flood:g} s", with_normal_client(token_flood))
PY

# Shutdown: from SIGTERM to exit.
started=$(date +%s%N)
kill -TERM "$server_pid"
wait "$server_pid" || true
server_pid=""
echo "shutdown: $(( ($(date +%s%N) - started) / 1000000 )) ms"
