//! Gray fragments from a real etcd (Debian `etcd-server`) served by gateway processes: a write
//! reaches every instance, an invalid fragment changes nothing, an outage keeps the last good
//! config serving, a compacted watch re-reads, a start during an outage needs the last-good copy,
//! and `gateway gray put/get`.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use fleet::testing::TestEtcd;
use serde_json::Value;

use crate::process::{ADMIN_TOKEN, Server, agent};
use crate::support::{base_toml, config_dir, write};

const PREFIX: &str = "/gw/gray/";

/// `base.toml` with `[etcd]` pointing at `endpoint`, with short settle and retry times.
fn base_with_etcd(endpoint: &str) -> String {
    format!(
        "{}\n[etcd]\nendpoints = [\"{endpoint}\"]\nprefix = \"{PREFIX}\"\nsettle_ms = 20\nretry_min_ms = 50\nretry_max_ms = 300\ndial_timeout_ms = 300\nrequest_timeout_ms = 2000\n",
        base_toml()
    )
}

fn fragment(percent: u32) -> String {
    format!(
        "[[gray.rules]]\nname = \"billing-v2-rollout\"\nroute = {{ billing = \"v2\" }}\npercent = {percent}\nbucket_by = \"header:X-User-Id\"\n"
    )
}

fn client(etcd: &TestEtcd) -> fleet::EtcdClient {
    fleet::EtcdClient::new(fleet::ClientOptions::new(&[&etcd.endpoint()])).unwrap()
}

/// `GET path` on the admin listener with the admin token, as JSON.
fn admin_get(server: &Server, path: &str) -> (u16, Value) {
    let response = agent()
        .get(server.admin_url(path))
        .header("Authorization", &format!("Bearer {ADMIN_TOKEN}"))
        .call()
        .unwrap();
    let status = response.status().as_u16();
    let text = response.into_body().read_to_string().unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// The served percent of the rollout rule and where it came from.
fn served_percent(server: &Server) -> Option<(i64, String)> {
    let (_, report) = admin_get(server, "/debug/config");
    report["entries"].as_array()?.iter().find_map(|entry| {
        (entry["key"] == "gray.rules").then(|| {
            (
                entry["value"][0]["percent"].as_i64().unwrap_or(-1),
                entry["origin"].as_str().unwrap_or("").to_owned(),
            )
        })
    })
}

fn readyz(server: &Server) -> String {
    let (_, body) = admin_get(server, "/readyz");
    body["status"].as_str().unwrap_or("").to_owned()
}

fn metric(server: &Server, name: &str) -> f64 {
    let (_, body) = admin_get(server, "/metrics");
    let text = body.as_str().unwrap_or("").to_owned();
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(f64::NAN)
}

/// Polls `check` until it holds, failing after a generous bound (not a measurement).
fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !check() {
        assert!(Instant::now() < deadline, "never happened: {what}");
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// One gateway instance with its own working directory (database, last-good copy, log).
struct Instance {
    work: tempfile::TempDir,
    server: Server,
}

fn start(config: &Path) -> Instance {
    let work = tempfile::tempdir().unwrap();
    let server = Server::start_with(config, work.path(), &[]);
    Instance { work, server }
}

fn kill(pid: u32, signal: &str) {
    let status = Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill {signal} {pid}");
}

#[test]
fn three_instances_follow_one_prefix_through_writes_bad_fragments_and_an_outage() {
    let mut etcd = TestEtcd::start();
    let etcd_client = client(&etcd);
    let key = format!("{PREFIX}billing-v2.toml");
    etcd_client.put(&key, fragment(1).as_bytes()).unwrap();
    let config = config_dir(&[("base.toml", &base_with_etcd(&etcd.endpoint()))]);
    let instances: Vec<Instance> = (0..3).map(|_| start(config.path())).collect();
    for instance in &instances {
        let (percent, origin) = served_percent(&instance.server).unwrap_or_else(|| {
            panic!(
                "{:?}\n{}",
                admin_get(&instance.server, "/debug/config"),
                instance.server.log()
            )
        });
        assert_eq!(percent, 1);
        assert!(origin.starts_with(&format!("etcd:{key}@")), "{origin}");
        assert_eq!(readyz(&instance.server), "ok");
        assert_eq!(metric(&instance.server, "config_source_up"), 1.0);
    }

    // A write reaches all three, with the new revision as provenance.
    let revision = etcd_client.put(&key, fragment(10).as_bytes()).unwrap();
    for instance in &instances {
        eventually("10% served everywhere", || {
            served_percent(&instance.server) == Some((10, format!("etcd:{key}@{revision}:1")))
        });
    }

    // An invalid fragment: every instance keeps 10% and reports the key.
    let failures: Vec<f64> = instances
        .iter()
        .map(|i| metric(&i.server, "config_reloads_total{result=\"failure\"}"))
        .collect();
    let bad = etcd_client
        .put(
            &key,
            b"[[gray.rules]]\nname = \"billing-v2-rollout\"\npercent = \"lots\"\n",
        )
        .unwrap();
    for (instance, before) in instances.iter().zip(&failures) {
        eventually("the bad fragment rejected", || {
            metric(&instance.server, "config_reloads_total{result=\"failure\"}") > *before
        });
        assert_eq!(served_percent(&instance.server).unwrap().0, 10);
        let log = instance.server.log();
        assert!(log.contains(&format!("etcd:{key}@{bad}")), "{log}");
    }

    // etcd stops: everyone keeps serving 10% and says degraded.
    etcd.stop();
    for instance in &instances {
        eventually("degraded", || readyz(&instance.server) == "degraded");
        assert_eq!(metric(&instance.server, "config_source_up"), 0.0);
        assert_eq!(served_percent(&instance.server).unwrap().0, 10);
        let (status, _) = admin_get(&instance.server, "/healthz");
        assert_eq!(status, 200);
    }

    // etcd returns; a change written afterwards is applied everywhere.
    etcd.resume();
    let revision = etcd_client.put(&key, fragment(50).as_bytes()).unwrap();
    for instance in &instances {
        eventually("50% served everywhere", || {
            served_percent(&instance.server) == Some((50, format!("etcd:{key}@{revision}:1")))
        });
        eventually("ready again", || readyz(&instance.server) == "ok");
    }
    // Every good load leaves a last-good copy in the instance's working directory (written
    // right after the load it describes).
    for instance in &instances {
        eventually("the last-good copy holds 50%", || {
            fleet::load_last_good(&instance.work.path().join("data/etcd-last-good.json"))
                .ok()
                .flatten()
                .is_some_and(|copy| copy.fragments[0].text == fragment(50))
        });
    }
}

#[test]
fn a_watch_revision_compacted_while_an_instance_was_frozen_is_re_read() {
    let mut etcd = TestEtcd::start();
    let etcd_client = client(&etcd);
    let key = format!("{PREFIX}billing-v2.toml");
    etcd_client.put(&key, fragment(1).as_bytes()).unwrap();
    let config = config_dir(&[("base.toml", &base_with_etcd(&etcd.endpoint()))]);
    let work = tempfile::tempdir().unwrap();
    let server = Server::start_with_env(
        config.path(),
        work.path(),
        &[],
        &[("RUST_LOG", "info,gateway::etcd_source=debug")],
    );
    let instance = Instance { work, server };
    assert_eq!(served_percent(&instance.server).unwrap().0, 1);
    // Frozen only once its watch is in place: frozen while opening it, the instance would find
    // etcd gone on waking, count that an outage, and read everything again without a watch.
    eventually("the watch in place", || {
        instance.server.log().contains("watching etcd for changes")
    });

    // Frozen, the instance misses a restart of etcd (its watch connection dies), the writes
    // after it, and a compaction past its revision: on waking, its watch resumes from a revision
    // etcd no longer has.
    kill(instance.server.pid(), "-STOP");
    etcd.resume();
    etcd_client.put(&key, fragment(20).as_bytes()).unwrap();
    let newest = etcd_client.put(&key, fragment(30).as_bytes()).unwrap();
    etcd_client.compact(newest).unwrap();
    kill(instance.server.pid(), "-CONT");

    eventually("30% after the compaction", || {
        served_percent(&instance.server).is_some_and(|(p, _)| p == 30)
    });
    eventually("the compaction logged", || {
        instance.server.log().contains("compacted past the watch")
    });
}

#[test]
fn a_start_while_etcd_is_down_needs_the_last_good_copy() {
    let mut etcd = TestEtcd::start();
    let etcd_client = client(&etcd);
    let key = format!("{PREFIX}billing-v2.toml");
    etcd_client.put(&key, fragment(5).as_bytes()).unwrap();
    let config = config_dir(&[("base.toml", &base_with_etcd(&etcd.endpoint()))]);
    let work = tempfile::tempdir().unwrap();
    // A good start writes the copy.
    drop(Server::start_with(config.path(), work.path(), &[]));
    etcd.stop();

    // Without a copy the start fails, naming etcd and where the copy would be.
    let empty = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_gateway"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--admin-listen",
            "127.0.0.1:0",
            "--config-dir",
        ])
        .arg(config.path())
        .env("ENABLE_GRAY_CONFIG", "true")
        .env("GATEWAY_TEST_SECRET", crate::process::SECRET)
        .current_dir(empty.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("no last-good copy at data/etcd-last-good.json")
            && stderr.contains(&etcd.endpoint()),
        "{stderr}"
    );

    // With the copy it serves the copy's 5%, degraded, and catches up once etcd is back.
    let server = Server::start_with(config.path(), work.path(), &[]);
    assert_eq!(served_percent(&server).unwrap().0, 5);
    assert_eq!(readyz(&server), "degraded");
    etcd.resume();
    etcd_client.put(&key, fragment(7).as_bytes()).unwrap();
    eventually("7% after etcd returns", || {
        served_percent(&server).is_some_and(|(p, _)| p == 7)
    });
    assert_eq!(readyz(&server), "ok");
}

#[test]
fn gray_put_checks_and_writes_a_fragment_that_gray_get_reads_back() {
    let etcd = TestEtcd::start();
    let config = config_dir(&[("base.toml", &base_with_etcd(&etcd.endpoint()))]);
    write(config.path(), "new/billing-v2.toml", &fragment(25));
    write(
        config.path(),
        "new/broken.toml",
        "[[gray.rules]]\nname = 1\n",
    );
    let gateway = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_gateway"))
            .args(args)
            .arg("--config-dir")
            .arg(config.path())
            .current_dir(config.path())
            .output()
            .unwrap()
    };
    let file = config.path().join("new/billing-v2.toml");
    let put = gateway(&["gray", "put", "billing-v2.toml", file.to_str().unwrap()]);
    assert!(
        put.status.success(),
        "{}",
        String::from_utf8_lossy(&put.stderr)
    );
    assert!(String::from_utf8_lossy(&put.stdout).starts_with(&format!("{PREFIX}billing-v2.toml@")));
    let created = client(&etcd)
        .get(&format!("{PREFIX}billing-v2.toml"))
        .unwrap()
        .unwrap()
        .mod_revision;
    // Without an expected revision, a put creates only: the key exists now.
    let again = gateway(&["gray", "put", "billing-v2.toml", file.to_str().unwrap()]);
    assert!(!again.status.success());
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(
        stderr.contains(&format!(
            "etcd key {PREFIX}billing-v2.toml exists (revision {created}); nothing was written"
        )),
        "{stderr}"
    );
    // `config show` names the etcd key and revision as the rule's origin.
    let show = Command::new(env!("CARGO_BIN_EXE_gateway"))
        .args(["config", "show", "--key", "gray.rules", "--config-dir"])
        .arg(config.path())
        .env("ENABLE_GRAY_CONFIG", "true")
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&show.stdout);
    assert!(
        shown.contains(&format!("# etcd:{PREFIX}billing-v2.toml@")),
        "{shown}{}",
        String::from_utf8_lossy(&show.stderr)
    );
    let get = gateway(&["gray", "get", "billing-v2.toml"]);
    assert!(
        get.status.success(),
        "{}",
        String::from_utf8_lossy(&get.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&get.stdout), fragment(25));
    // The revision, for --expect-revision, on stderr.
    assert_eq!(
        String::from_utf8_lossy(&get.stderr),
        format!("{PREFIX}billing-v2.toml@{created}\n")
    );
    write(config.path(), "new/billing-v2.toml", &fragment(30));
    let stale = created - 1;
    let refused = gateway(&[
        "gray",
        "put",
        "billing-v2.toml",
        file.to_str().unwrap(),
        "--expect-revision",
        &stale.to_string(),
    ]);
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains(&format!(
            "is at revision {created}, not {stale}: someone changed it since it was read"
        )),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let replaced = gateway(&[
        "gray",
        "put",
        "billing-v2.toml",
        file.to_str().unwrap(),
        "--expect-revision",
        &created.to_string(),
    ]);
    assert!(
        replaced.status.success(),
        "{}",
        String::from_utf8_lossy(&replaced.stderr)
    );
    let forced = gateway(&[
        "gray",
        "put",
        "billing-v2.toml",
        file.to_str().unwrap(),
        "--force",
    ]);
    assert!(
        forced.status.success(),
        "{}",
        String::from_utf8_lossy(&forced.stderr)
    );
    // Delete takes the same expectation, and requires one.
    let bare = gateway(&["gray", "delete", "billing-v2.toml"]);
    assert_eq!(
        bare.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&bare.stderr)
    );
    let current = client(&etcd)
        .get(&format!("{PREFIX}billing-v2.toml"))
        .unwrap()
        .unwrap()
        .mod_revision;
    let deleted = gateway(&[
        "gray",
        "delete",
        "billing-v2.toml",
        "--expect-revision",
        &current.to_string(),
    ]);
    assert!(
        deleted.status.success(),
        "{}",
        String::from_utf8_lossy(&deleted.stderr)
    );
    assert_eq!(
        client(&etcd)
            .get(&format!("{PREFIX}billing-v2.toml"))
            .unwrap(),
        None
    );

    let broken = config.path().join("new/broken.toml");
    let put = gateway(&["gray", "put", "broken.toml", broken.to_str().unwrap()]);
    assert!(!put.status.success());
    let stderr = String::from_utf8_lossy(&put.stderr);
    assert!(
        stderr.contains("is not valid") && stderr.contains(&format!("etcd:{PREFIX}broken.toml")),
        "{stderr}"
    );
    assert_eq!(
        client(&etcd).get(&format!("{PREFIX}broken.toml")).unwrap(),
        None,
        "nothing written"
    );

    let missing = gateway(&["gray", "get", "nope.toml"]);
    assert!(
        String::from_utf8_lossy(&missing.stderr)
            .contains(&format!("etcd key {PREFIX}nope.toml does not exist"))
    );
}

/// `gateway ARGS --config-dir DIR` with the test's tokens, its output.
fn gateway_in(config: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_gateway"))
        .args(args)
        .arg("--config-dir")
        .arg(config)
        .current_dir(config)
        .env_remove("ENV")
        .output()
        .unwrap()
}

#[test]
fn of_two_writers_expecting_the_same_revision_exactly_one_wins_every_time() {
    let etcd = TestEtcd::start();
    let config = config_dir(&[("base.toml", &base_with_etcd(&etcd.endpoint()))]);
    let key = format!("{PREFIX}billing-v2.toml");
    client(&etcd).put(&key, fragment(1).as_bytes()).unwrap();
    for race in 0..20 {
        let revision = client(&etcd).get(&key).unwrap().unwrap().mod_revision;
        let files: Vec<_> = (0..2)
            .map(|writer| {
                let name = format!("race-{race}-{writer}.toml");
                write(config.path(), &name, &fragment(10 + writer));
                config.path().join(name)
            })
            .collect();
        let revision = revision.to_string();
        let outputs: Vec<_> = std::thread::scope(|scope| {
            let handles: Vec<_> = files
                .iter()
                .map(|file| {
                    let args = [
                        "gray",
                        "put",
                        "billing-v2.toml",
                        file.to_str().unwrap(),
                        "--expect-revision",
                        revision.as_str(),
                    ];
                    let config = config.path();
                    scope.spawn(move || gateway_in(config, &args))
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let won: Vec<_> = outputs.iter().filter(|o| o.status.success()).collect();
        assert_eq!(
            won.len(),
            1,
            "race {race}: {:?}",
            outputs
                .iter()
                .map(|o| String::from_utf8_lossy(&o.stderr).into_owned())
                .collect::<Vec<_>>()
        );
        let lost = outputs.iter().find(|o| !o.status.success()).unwrap();
        assert!(
            String::from_utf8_lossy(&lost.stderr).contains("someone changed it since it was read"),
            "{}",
            String::from_utf8_lossy(&lost.stderr)
        );
    }
}

#[test]
fn two_writers_can_never_together_make_a_set_neither_checked() {
    let etcd = TestEtcd::start();
    let config = config_dir(&[("base.toml", &base_with_etcd(&etcd.endpoint()))]);
    // Two new fragments, each valid alone, that share a rule name: together they are not.
    for race in 0..10 {
        let rule = format!(
            "[[gray.rules]]\nname = \"shared-{race}\"\nroute = {{ billing = \"v2\" }}\nheaders = {{ \"X-Race\" = \"{race}\" }}\n"
        );
        let names = [format!("a-{race}.toml"), format!("b-{race}.toml")];
        for name in &names {
            write(config.path(), name, &rule);
        }
        let outputs: Vec<_> = std::thread::scope(|scope| {
            let handles: Vec<_> = names
                .iter()
                .map(|name| {
                    let file = config.path().join(name);
                    let config = config.path();
                    scope.spawn(move || {
                        gateway_in(config, &["gray", "put", name, file.to_str().unwrap()])
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let won = outputs.iter().filter(|o| o.status.success()).count();
        assert_eq!(
            won,
            1,
            "race {race}: {:?}",
            outputs
                .iter()
                .map(|o| String::from_utf8_lossy(&o.stderr).into_owned())
                .collect::<Vec<_>>()
        );
        let lost = outputs.iter().find(|o| !o.status.success()).unwrap();
        assert!(
            String::from_utf8_lossy(&lost.stderr).contains("duplicate"),
            "{}",
            String::from_utf8_lossy(&lost.stderr)
        );
    }
    // What etcd holds loads: every later write is still judged on a valid set.
    let keys = client(&etcd).range_prefix(PREFIX).unwrap().kvs;
    assert_eq!(
        keys.iter().filter(|kv| kv.key.ends_with(".toml")).count(),
        10
    );
    let show = Command::new(env!("CARGO_BIN_EXE_gateway"))
        .args(["config", "show", "--key", "gray.rules", "--config-dir"])
        .arg(config.path())
        .env("ENABLE_GRAY_CONFIG", "true")
        .env_remove("ENV")
        .output()
        .unwrap();
    assert!(
        show.status.success(),
        "{}",
        String::from_utf8_lossy(&show.stderr)
    );
}

#[test]
fn a_gateway_with_etcd_and_the_gray_switch_off_refuses_to_start() {
    let etcd = TestEtcd::start();
    let config = config_dir(&[("base.toml", &base_with_etcd(&etcd.endpoint()))]);
    let output = Command::new(env!("CARGO_BIN_EXE_gateway"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--admin-listen",
            "127.0.0.1:0",
        ])
        .arg("--config-dir")
        .arg(config.path())
        .current_dir(config.path())
        .env_remove("ENABLE_GRAY_CONFIG")
        .env_remove("ENV")
        .env("GATEWAY_TEST_ADMIN_TOKEN", crate::process::ADMIN_TOKEN)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "[etcd] is configured (etcd.endpoints), but the gray switch ENABLE_GRAY_CONFIG is off, so the gray fragments under {PREFIX} would be ignored"
        )),
        "{stderr}"
    );
}

#[test]
fn a_frozen_etcd_is_reported_degraded_and_ready_again_once_it_answers() {
    let etcd = TestEtcd::start();
    client(&etcd)
        .put(&format!("{PREFIX}billing-v2.toml"), fragment(5).as_bytes())
        .unwrap();
    let config = config_dir(&[("base.toml", &base_with_etcd(&etcd.endpoint()))]);
    let instance = start(config.path());
    assert_eq!(readyz(&instance.server), "ok");
    // Frozen, etcd keeps its socket: connections open and nothing answers, so the watch stays
    // silent as on a quiet prefix. The liveness probe (every second, 2 s deadline) tells.
    etcd.freeze();
    let frozen = Instant::now();
    eventually("degraded while etcd is frozen", || {
        readyz(&instance.server) == "degraded"
    });
    // The figure for docs/operations.md (a print, not an assertion on time).
    eprintln!(
        "frozen etcd reported degraded after {} ms",
        frozen.elapsed().as_millis()
    );
    assert_eq!(metric(&instance.server, "config_source_up"), 0.0);
    assert_eq!(served_percent(&instance.server).unwrap().0, 5);
    etcd.thaw();
    eventually("ready once etcd answers", || {
        readyz(&instance.server) == "ok"
    });
    assert_eq!(metric(&instance.server, "config_source_up"), 1.0);
}

#[test]
fn an_instance_restarted_while_etcd_holds_a_set_it_cannot_load_starts_from_its_copy() {
    let etcd = TestEtcd::start();
    let etcd_client = client(&etcd);
    etcd_client
        .put(&format!("{PREFIX}billing-v2.toml"), fragment(5).as_bytes())
        .unwrap();
    let config = config_dir(&[("base.toml", &base_with_etcd(&etcd.endpoint()))]);
    let instance = start(config.path());
    assert_eq!(served_percent(&instance.server).unwrap().0, 5);
    let Instance { work, server } = instance;
    server.kill();
    // Written around the checks: a second fragment with the same rule name.
    etcd_client
        .put(&format!("{PREFIX}clash.toml"), fragment(90).as_bytes())
        .unwrap();
    let server = Server::start_with(config.path(), work.path(), &[]);
    assert_eq!(served_percent(&server).unwrap().0, 5);
    assert_eq!(readyz(&server), "degraded");
    assert_eq!(metric(&server, "config_source_up"), 0.0);
    let log = server.log();
    assert!(
        log.contains("the gray fragments in etcd do not load; starting from the last-good copy")
            && log.contains("duplicate"),
        "{log}"
    );
    // Once etcd holds a set that loads again, the instance serves it and is ready.
    etcd_client.delete(&format!("{PREFIX}clash.toml")).unwrap();
    etcd_client
        .put(&format!("{PREFIX}billing-v2.toml"), fragment(7).as_bytes())
        .unwrap();
    eventually("7% from etcd", || {
        served_percent(&server).is_some_and(|(p, _)| p == 7)
    });
    eventually("ready", || readyz(&server) == "ok");
}
