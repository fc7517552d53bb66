//! Write-to-served latency of gray fragments in etcd: a real etcd, three `gateway serve`
//! processes on one prefix, and WRITES (default 300) writes of a rule's percent; for each, the
//! time from the write's answer until each instance's `/debug/config` serves it. Prints the
//! median and p99 per instance and for the last of the three. Run with
//! `cargo bench -p gateway --bench fleet_latency [-- WRITES]` (or `bench/fleet.sh`).

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fleet::testing::TestEtcd;

const ADMIN_TOKEN: &str = "bench-admin-token-0123456789abcdef0123";
const PREFIX: &str = "/bench/gray/";

fn main() {
    let writes: usize = std::env::args()
        .skip(1)
        .find_map(|arg| arg.parse().ok())
        .unwrap_or(300);
    let etcd = TestEtcd::start();
    let client = fleet::EtcdClient::new(fleet::ClientOptions::new(&[&etcd.endpoint()])).unwrap();
    let key = format!("{PREFIX}billing-v2.toml");
    client.put(&key, fragment(0).as_bytes()).unwrap();
    let config = tempfile::tempdir().unwrap();
    std::fs::write(
        config.path().join("base.toml"),
        format!(
            "[admin]\ntoken_env = \"BENCH_ADMIN_TOKEN\"\n[auth]\nsecret_env = \"BENCH_SECRET\"\n[gray.default]\nbilling = \"v1\"\n[etcd]\nendpoints = [\"{}\"]\nprefix = \"{PREFIX}\"\n",
            etcd.endpoint()
        ),
    )
    .unwrap();
    let mut children = Vec::new();
    let mut admins = Vec::new();
    let mut works = Vec::new();
    for _ in 0..3 {
        let work = tempfile::tempdir().unwrap();
        let (child, admin) = start(config.path(), work.path());
        children.push(child);
        admins.push(admin);
        works.push(work);
    }
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(5)))
        .build()
        .into();
    let mut per_instance: Vec<Duration> = Vec::new();
    let mut slowest: Vec<Duration> = Vec::new();
    for i in 1..=writes {
        let percent = (i % 100) as i64;
        client.put(&key, fragment(percent).as_bytes()).unwrap();
        let written = Instant::now();
        let seen: Vec<Duration> = std::thread::scope(|scope| {
            let handles: Vec<_> = admins
                .iter()
                .map(|admin| {
                    let agent = agent.clone();
                    scope.spawn(move || {
                        let deadline = written + Duration::from_secs(10);
                        loop {
                            if served_percent(&agent, admin) == Some(percent) {
                                return written.elapsed();
                            }
                            assert!(Instant::now() < deadline, "{admin} never served {percent}%");
                        }
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        slowest.push(*seen.iter().max().unwrap());
        per_instance.extend(seen);
    }
    for mut child in children {
        let _ = child.kill();
        let _ = child.wait();
    }
    println!("fleet write-to-served latency: {writes} writes, 3 instances, one etcd on loopback");
    report("per instance", &mut per_instance);
    report("all three", &mut slowest);
}

fn fragment(percent: i64) -> String {
    format!(
        "[[gray.rules]]\nname = \"billing-v2-rollout\"\nroute = {{ billing = \"v2\" }}\npercent = {percent}\nbucket_by = \"header:X-User-Id\"\n"
    )
}

fn report(what: &str, samples: &mut [Duration]) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    println!(
        "  {what:<12} median {:>7.1} ms   p99 {:>7.1} ms   max {:>7.1} ms",
        at(0.5).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3,
        at(1.0).as_secs_f64() * 1e3
    );
}

fn served_percent(agent: &ureq::Agent, admin: &str) -> Option<i64> {
    let mut response = agent
        .get(format!("http://{admin}/debug/config"))
        .header("Authorization", &format!("Bearer {ADMIN_TOKEN}"))
        .call()
        .ok()?;
    let report: serde_json::Value = response.body_mut().read_json().ok()?;
    report["entries"]
        .as_array()?
        .iter()
        .find(|e| e["key"] == "gray.rules")?["value"][0]["percent"]
        .as_i64()
}

/// Starts `gateway serve` and returns it with its admin address.
fn start(config: &std::path::Path, work: &std::path::Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gateway"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--admin-listen",
            "127.0.0.1:0",
            "--config-dir",
        ])
        .arg(config)
        .env("ENABLE_GRAY_CONFIG", "true")
        .env("BENCH_ADMIN_TOKEN", ADMIN_TOKEN)
        .env("BENCH_SECRET", "bench-secret-0123456789abcdef0123456789")
        .env("RUST_LOG", "warn")
        .current_dir(work)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let admin = loop {
        let line = lines
            .next()
            .expect("gateway exited before listening")
            .unwrap();
        if let Some(addr) = line.strip_prefix("gateway admin listening on ") {
            break addr.to_owned();
        }
    };
    // Keep draining stdout so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, admin)
}
