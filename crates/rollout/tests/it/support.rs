//! The real pieces of an end-to-end rollout on loopback: Prometheus, gateways built with
//! `faults`, a bounded load generator, and the `rollout` binary.

use std::io::{BufRead as _, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;

/// The admin token every gateway is started with (at least 32 bytes).
pub const ADMIN_TOKEN: &str = "rollout-e2e-admin-token-0123456789abcdef";
/// The variable the specs name for it.
pub const ADMIN_TOKEN_ENV: &str = "ROLLOUT_E2E_ADMIN_TOKEN";
/// The read-only metrics token Prometheus scrapes with (it cannot reload).
pub const METRICS_TOKEN: &str = "rollout-e2e-metrics-token-0123456789abcdef";
/// The variable the gateways read it from.
const METRICS_TOKEN_ENV: &str = "ROLLOUT_E2E_METRICS_TOKEN";
/// The API token signing secret.
pub const SECRET: &str = "rollout-e2e-signing-secret-0123456789abcdef";
/// The rule the tests roll out.
pub const RULE: &str = "billing-v2-rollout";

/// End-to-end scenarios each run Prometheus, two gateways and load; on two cores they run one
/// at a time so their traffic and timing do not disturb each other.
pub fn exclusive() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The target directory this test binary was built into, and whether it is a release build.
fn target_dir() -> (PathBuf, bool) {
    let rollout = Path::new(env!("CARGO_BIN_EXE_rollout"));
    let profile_dir = rollout.parent().expect("binary has a directory");
    let release = profile_dir.file_name().is_some_and(|n| n == "release");
    (
        profile_dir
            .parent()
            .expect("profile dir has a parent")
            .to_owned(),
        release,
    )
}

/// The gateway binary built with `--features faults`, built once per test run with the cargo
/// that runs the tests, into the same target directory (so a fresh clone builds it too), and
/// copied aside (`TARGET/rollout-e2e-gateway`) so another build of the gateway, with other
/// features, cannot replace it under the tests.
pub fn gateway_binary() -> PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY
        .get_or_init(|| {
            let (target, release) = target_dir();
            let mut command = Command::new(env!("CARGO"));
            command
                .args([
                    "build",
                    "-p",
                    "gateway",
                    "--features",
                    "faults",
                    "--message-format=json",
                ])
                .arg("--target-dir")
                .arg(&target)
                .current_dir(env!("CARGO_MANIFEST_DIR"))
                .stderr(Stdio::inherit());
            if release {
                command.arg("--release");
            }
            let output = command.output().expect("cargo runs");
            assert!(
                output.status.success(),
                "cargo build -p gateway --features faults failed"
            );
            let executable = String::from_utf8_lossy(&output.stdout)
                .lines()
                .filter_map(|line| serde_json::from_str::<Value>(line).ok())
                .filter(|message| {
                    message["reason"] == "compiler-artifact"
                        && message["target"]["name"] == "gateway"
                })
                .find_map(|message| message["executable"].as_str().map(PathBuf::from))
                .expect("cargo reports the gateway executable");
            // Copied and renamed into place: a test run that is still executing the previous
            // copy keeps its file, and runs do not pile up copies in the target directory.
            let copy = target.join("rollout-e2e-gateway");
            let partial = target.join(format!("rollout-e2e-gateway.{}", std::process::id()));
            std::fs::copy(&executable, &partial).expect("copy the gateway binary");
            std::fs::rename(&partial, &copy).expect("move the gateway binary into place");
            copy
        })
        .clone()
}

/// The `prometheus` binary; the tests need the real one.
pub fn prometheus_binary() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join("prometheus"))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!(
                "the `prometheus` binary is not on PATH; these tests need the real Prometheus: \
                 run .ci/run, which installs Debian's `prometheus` package"
            )
        })
}

/// A free loopback port (bound and released; the race with other processes is accepted).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A child process killed when dropped, with its stderr in a log file.
pub struct Process {
    child: Option<Child>,
    log: PathBuf,
}

impl Process {
    /// Kills it with SIGKILL and reaps it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Its log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A Prometheus scraping the gateways every second.
pub struct Prometheus {
    /// Its base URL.
    pub url: String,
    process: Process,
}

impl Prometheus {
    /// Starts Prometheus on a free port with a temp data dir under `dir`, scraping `targets`.
    pub fn start(dir: &Path, targets: &[SocketAddr]) -> Prometheus {
        Prometheus::start_scraping(dir, targets, None)
    }

    /// Like [`Prometheus::start`], also scraping a controller's `/metrics` at `rollout` (job
    /// `rollout`, every second) when given.
    pub fn start_scraping(
        dir: &Path,
        targets: &[SocketAddr],
        rollout: Option<SocketAddr>,
    ) -> Prometheus {
        let port = free_port();
        let targets: Vec<String> = targets.iter().map(|t| format!("'{t}'")).collect();
        let config = dir.join("prometheus.yml");
        let rollout_job = rollout.map_or_else(String::new, |target| {
            format!(
                "  - job_name: rollout\n    scrape_interval: 1s\n    scrape_timeout: 900ms\n    static_configs:\n      - targets: ['{target}']\n"
            )
        });
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: gateway\n    scrape_interval: 1s\n    scrape_timeout: 900ms\n    authorization:\n      credentials: {METRICS_TOKEN}\n    static_configs:\n      - targets: [{}]\n{rollout_job}",
                targets.join(", ")
            ),
        )
        .unwrap();
        let log = dir.join("prometheus.log");
        let child = Command::new(prometheus_binary())
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("prometheus-data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--log.level=warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("prometheus starts");
        let prometheus = Prometheus {
            url: format!("http://127.0.0.1:{port}"),
            process: Process {
                child: Some(child),
                log,
            },
        };
        let agent = agent();
        let ready = format!("{}/-/ready", prometheus.url);
        let started = Instant::now();
        while !agent
            .get(&ready)
            .call()
            .is_ok_and(|r| r.status().as_u16() == 200)
        {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "prometheus did not get ready; its log:\n{}",
                prometheus.process.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        prometheus
    }

    /// Stops it (SIGKILL).
    pub fn stop(&mut self) {
        self.process.kill();
    }

    /// The value of an instant query that returns one number, if it does.
    pub fn value(&self, promql: &str) -> Option<f64> {
        agent()
            .get(format!("{}/api/v1/query", self.url))
            .query("query", promql)
            .call()
            .ok()
            .and_then(|r| r.into_body().read_json::<Value>().ok())
            .and_then(|v| {
                v["data"]["result"][0]["value"][1]
                    .as_str()
                    .map(str::to_owned)
            })
            .and_then(|v| v.parse::<f64>().ok())
    }

    /// Waits until every target has been scraped successfully.
    pub fn wait_for_targets(&self, count: usize) {
        let agent = agent();
        let started = Instant::now();
        loop {
            let up = agent
                .get(format!("{}/api/v1/query", self.url))
                .query("query", "sum(up{job=\"gateway\"})")
                .call()
                .ok()
                .and_then(|r| r.into_body().read_json::<Value>().ok())
                .and_then(|v| {
                    v["data"]["result"][0]["value"][1]
                        .as_str()
                        .map(str::to_owned)
                })
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0);
            if up >= count as f64 {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "prometheus does not scrape {count} gateways; its log:\n{}",
                self.process.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

/// An HTTP client that returns 4xx/5xx answers instead of failing on them.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

/// One gateway instance.
pub struct Gateway {
    /// The instance name the spec uses.
    pub name: String,
    /// The API address.
    pub api: SocketAddr,
    /// The admin address.
    pub admin: SocketAddr,
    process: Process,
}

impl Gateway {
    /// Kills it (SIGKILL).
    pub fn kill(&mut self) {
        self.process.kill();
    }

    /// Requests served by billing `version`, by `/metrics`.
    pub fn served_by(&self, version: &str) -> f64 {
        let text = agent()
            .get(format!("http://{}/metrics", self.admin))
            .header("Authorization", format!("Bearer {ADMIN_TOKEN}"))
            .call()
            .unwrap()
            .into_body()
            .read_to_string()
            .unwrap();
        let label = format!("billing_version=\"{version}\"");
        text.lines()
            .filter(|line| line.starts_with("http_requests_total{") && line.contains(&label))
            .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }
}

/// The config directory the gateways share, the work directory, and the fleet.
pub struct Fleet {
    /// Temp directory of the whole scenario.
    pub dir: tempfile::TempDir,
    /// The shared config directory.
    pub config: PathBuf,
    /// The instances.
    pub gateways: Vec<Gateway>,
    /// An API token with read and write scopes.
    pub token: String,
}

/// The gray fragment the rollout drives.
pub const FRAGMENT: &str = "# Gray rollout of billing v2, driven by the rollout controller.\n\n[[gray.rules]]\nname = \"billing-v2-rollout\"\nroute = { billing = \"v2\" }\npercent = 0   # raised step by step\nbucket_by = \"header:X-User-Id\"\n";

/// The lines around the faults section in `base.toml`, so a drill can replace it.
const FAULTS_BEGIN: &str = "# faults: begin\n";
const FAULTS_END: &str = "# faults: end\n";

/// The etcd prefix gateways started by [`Fleet::start_on_etcd`] follow.
pub const ETCD_PREFIX: &str = "/graywork/gateway/gray/";
/// The etcd key holding the fragment in [`Fleet::start_on_etcd`].
pub const ETCD_KEY: &str = "/graywork/gateway/gray/rollout.toml";

impl Fleet {
    /// Two gateways on one config directory; `faults` is appended to `base.toml` (a
    /// `[faults.billing.v2]` section, or empty).
    pub fn start(faults: &str) -> Fleet {
        Fleet::start_with(faults, None)
    }

    /// Two gateways that take the fragment from etcd at [`ETCD_KEY`] instead of a file.
    pub fn start_on_etcd(etcd: &fleet::testing::TestEtcd) -> Fleet {
        fleet::EtcdClient::new(fleet::ClientOptions::new(&[&etcd.endpoint()]))
            .unwrap()
            .put(ETCD_KEY, FRAGMENT.as_bytes())
            .unwrap();
        Fleet::start_with("", Some(&etcd.endpoint()))
    }

    fn start_with(faults: &str, etcd: Option<&str>) -> Fleet {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config");
        std::fs::create_dir_all(config.join("gray")).unwrap();
        std::fs::write(
            config.join("base.toml"),
            format!(
                "[admin]\ntoken_env = \"{ADMIN_TOKEN_ENV}\"\n\n[metrics]\ntoken_env = \"{METRICS_TOKEN_ENV}\"\n\n[auth]\nsecret_env = \"ROLLOUT_E2E_SECRET\"\n\n[gray]\nenabled = true\n\n[gray.default]\nbilling = \"v1\"\n\n{FAULTS_BEGIN}{faults}\n{FAULTS_END}{}",
                etcd.map_or(String::new(), |endpoint| format!(
                    "[etcd]\nendpoints = [\"{endpoint}\"]\nprefix = \"{ETCD_PREFIX}\"\nsettle_ms = 20\n"
                ))
            ),
        )
        .unwrap();
        if etcd.is_none() {
            std::fs::write(config.join("gray/rollout.toml"), FRAGMENT).unwrap();
        }
        let gateways: Vec<Gateway> = ["gw-a", "gw-b"]
            .iter()
            .map(|name| start_gateway(dir.path(), &config, name, None))
            .collect();
        let token = issue_token(&config);
        let fleet = Fleet {
            dir,
            config,
            gateways,
            token,
        };
        for gateway in &fleet.gateways {
            let response = agent()
                .post(format!("http://{}/api/v1/invoices", gateway.api))
                .header("Authorization", format!("Bearer {}", fleet.token))
                .header("Content-Type", "application/json")
                .send(r#"{"invoice_id": "inv-1", "customer": "cust-1", "tax_rate": 1900, "lines": [{"description": "Widget", "quantity": 2, "unit_price": 500}]}"#)
                .unwrap();
            assert!(
                response.status().is_success(),
                "seeding {} answered {}",
                gateway.name,
                response.status()
            );
        }
        fleet
    }

    /// Replaces the `[faults.billing.*]` section of `base.toml` with `faults` and reloads every
    /// instance, so a drill starts (or ends) at once.
    pub fn set_faults(&self, faults: &str) {
        let base = self.config.join("base.toml");
        let text = std::fs::read_to_string(&base).unwrap();
        let (before, rest) = text.split_once(FAULTS_BEGIN).unwrap();
        let (_, after) = rest.split_once(FAULTS_END).unwrap();
        std::fs::write(
            &base,
            format!("{before}{FAULTS_BEGIN}{faults}\n{FAULTS_END}{after}"),
        )
        .unwrap();
        for gateway in &self.gateways {
            let response = agent()
                .post(format!("http://{}/config/reload", gateway.admin))
                .header("Authorization", format!("Bearer {ADMIN_TOKEN}"))
                .send_empty()
                .unwrap();
            assert_eq!(
                response.status().as_u16(),
                200,
                "reloading {} for the drill",
                gateway.name
            );
        }
    }

    /// The fragment path.
    pub fn fragment(&self) -> PathBuf {
        self.config.join("gray/rollout.toml")
    }

    /// The percent the fragment holds now.
    pub fn fragment_percent(&self) -> u8 {
        let text = std::fs::read_to_string(self.fragment()).unwrap();
        rollout::rule_percent(&text, RULE).unwrap()
    }

    /// The API addresses.
    pub fn apis(&self) -> Vec<SocketAddr> {
        self.gateways.iter().map(|g| g.api).collect()
    }

    /// The addresses Prometheus scrapes.
    pub fn metrics_targets(&self) -> Vec<SocketAddr> {
        self.gateways.iter().map(|g| g.admin).collect()
    }

    /// Writes a rollout spec into the scenario directory: `[target]` and `[[instances]]` for
    /// this fleet, then `body` (steps, analysis, controller).
    pub fn spec(&self, body: &str) -> PathBuf {
        self.spec_with_target(
            &format!("fragment = \"{}\"", self.fragment().display()),
            body,
        )
    }

    /// Like [`Fleet::spec`], with the fragment at [`ETCD_KEY`] in the etcd at `endpoint`.
    pub fn spec_on_etcd(&self, endpoint: &str, body: &str) -> PathBuf {
        self.spec_with_target(
            &format!("etcd = {{ endpoints = [\"{endpoint}\"], key = \"{ETCD_KEY}\" }}"),
            body,
        )
    }

    fn spec_with_target(&self, target: &str, body: &str) -> PathBuf {
        let mut text = format!("[target]\n{target}\nrule = \"{RULE}\"\n\n{body}\n");
        for gateway in &self.gateways {
            text.push_str(&format!(
                "\n[[instances]]\nname = \"{}\"\nadmin_url = \"http://{}\"\ntoken_env = \"{ADMIN_TOKEN_ENV}\"\n",
                gateway.name, gateway.admin
            ));
        }
        let path = self.dir.path().join("rollout.toml");
        std::fs::write(&path, text).unwrap();
        path
    }

    /// The event log path the scenario's rollout writes.
    pub fn events(&self) -> PathBuf {
        self.dir.path().join("events.jsonl")
    }
}

impl Fleet {
    /// Starts instance `index` again (after [`Gateway::kill`]) on the addresses it had.
    pub fn restart(&mut self, index: usize) {
        let old = &self.gateways[index];
        let restarted = start_gateway(
            self.dir.path(),
            &self.config,
            &old.name,
            Some((old.api, old.admin)),
        );
        self.gateways[index] = restarted;
    }
}

/// Starts a gateway on free ports, or on `addresses` (API, admin) when given.
fn start_gateway(
    dir: &Path,
    config: &Path,
    name: &str,
    addresses: Option<(SocketAddr, SocketAddr)>,
) -> Gateway {
    let log = dir.join(format!("{name}.log"));
    let (api, admin) = addresses.map_or_else(
        || ("127.0.0.1:0".to_owned(), "127.0.0.1:0".to_owned()),
        |(api, admin)| (api.to_string(), admin.to_string()),
    );
    let mut child = Command::new(gateway_binary())
        .args(["serve", "--listen", &api, "--config-dir"])
        .arg(config)
        .env("ENABLE_GRAY_CONFIG", "true")
        .env(ADMIN_TOKEN_ENV, ADMIN_TOKEN)
        .env(METRICS_TOKEN_ENV, METRICS_TOKEN)
        .env("ROLLOUT_E2E_SECRET", SECRET)
        .env("APP__STORAGE__PATH", dir.join(format!("{name}.db")))
        .env("APP__ADMIN__LISTEN", &admin)
        .env("RUST_LOG", "warn")
        .env_remove("ENV")
        .env_remove("INSTANCE_LABELS")
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("the gateway starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(addr) = line.strip_prefix("gateway listening on ") {
                let _ = sender.send(("api", addr.trim().parse::<SocketAddr>()));
            } else if let Some(addr) = line.strip_prefix("gateway admin listening on ") {
                let _ = sender.send(("admin", addr.trim().parse::<SocketAddr>()));
            }
        }
    });
    let process = Process {
        child: Some(child),
        log,
    };
    // The API address always; the admin listener's when the gateway has a separate one (it
    // prints both lines at start), else the admin endpoints share the API listener.
    let (mut api, mut admin) = (None, None);
    let started = Instant::now();
    while api.is_none() || (admin.is_none() && started.elapsed() < Duration::from_secs(60)) {
        let wait = if api.is_some() {
            Duration::from_millis(500)
        } else {
            Duration::from_secs(60)
        };
        match receiver.recv_timeout(wait) {
            Ok(("api", Ok(addr))) => api = Some(addr),
            Ok((_, Ok(addr))) => admin = Some(addr),
            Err(_) if api.is_some() => break,
            _ => panic!("gateway {name} did not start; its log:\n{}", process.log()),
        }
    }
    let api = api.expect("the API address");
    Gateway {
        name: name.to_owned(),
        api,
        admin: admin.unwrap_or(api),
        process,
    }
}

fn issue_token(config: &Path) -> String {
    let output = Command::new(gateway_binary())
        .args([
            "token",
            "issue",
            "--subject",
            "load",
            "--scope",
            "invoices:read",
            "--scope",
            "invoices:write",
            "--config-dir",
        ])
        .arg(config)
        .env("ROLLOUT_E2E_SECRET", SECRET)
        .env_remove("ENV")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "token issue failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// Bounded read traffic through the gray rules: `GET /api/invoices/inv-1` with a new
/// `X-User-Id` per request, spread over the instances, at a fixed total rate.
pub struct Load {
    stop: Arc<AtomicBool>,
    sent: Arc<AtomicU64>,
    threads: Vec<JoinHandle<()>>,
}

/// The longest any load runs, whatever the test does.
const LOAD_LIMIT: Duration = Duration::from_secs(90);

impl Load {
    /// Starts `per_second` requests per second in total (two client threads), for at most
    /// [`LOAD_LIMIT`].
    pub fn start(fleet: &Fleet, per_second: u32) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let sent = Arc::new(AtomicU64::new(0));
        let apis = fleet.apis();
        let threads = (0..2u64)
            .map(|thread| {
                let stop = Arc::clone(&stop);
                let sent = Arc::clone(&sent);
                let api = apis[usize::try_from(thread).unwrap() % apis.len()];
                let token = fleet.token.clone();
                let pause = Duration::from_secs_f64(2.0 / f64::from(per_second));
                std::thread::spawn(move || {
                    let agent = agent();
                    let started = Instant::now();
                    let mut n: u64 = 0;
                    while !stop.load(Ordering::Relaxed) && started.elapsed() < LOAD_LIMIT {
                        let user = n * 2 + thread;
                        let _ = agent
                            .get(format!("http://{api}/api/invoices/inv-1"))
                            .header("Authorization", format!("Bearer {token}"))
                            .header("X-User-Id", format!("user-{user}"))
                            .call()
                            .map(|response| response.into_body().read_to_string());
                        sent.fetch_add(1, Ordering::Relaxed);
                        n += 1;
                        // Paced against the start, so slow answers do not lower the rate.
                        let due = pause.mul_f64(n as f64);
                        if let Some(wait) = due.checked_sub(started.elapsed()) {
                            std::thread::sleep(wait);
                        }
                    }
                })
            })
            .collect();
        Load {
            stop,
            sent,
            threads,
        }
    }

    /// Stops it and returns how many requests were sent.
    pub fn stop(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
        self.sent.load(Ordering::Relaxed)
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// A running `rollout run`.
pub struct Controller {
    child: Child,
    events: PathBuf,
}

/// How long any controller may run in a test.
const CONTROLLER_LIMIT: Duration = Duration::from_secs(90);

impl Controller {
    /// Starts `rollout run SPEC --events EVENTS --no-progress`.
    pub fn start(spec: &Path, events: &Path) -> Controller {
        let child = rollout_command()
            .arg("run")
            .arg(spec)
            .arg("--events")
            .arg(events)
            .arg("--no-progress")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("rollout starts");
        Controller {
            child,
            events: events.to_owned(),
        }
    }

    /// Waits for it to exit (bounded), returning its status and stderr.
    pub fn wait(mut self) -> (ExitStatus, String) {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                let mut stderr = String::new();
                if let Some(mut pipe) = self.child.stderr.take() {
                    let _ = std::io::Read::read_to_string(&mut pipe, &mut stderr);
                }
                return (status, stderr);
            }
            if started.elapsed() > CONTROLLER_LIMIT {
                let _ = self.child.kill();
                panic!(
                    "rollout did not finish within {CONTROLLER_LIMIT:?}; events:\n{}",
                    std::fs::read_to_string(&self.events).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Kills it with SIGKILL.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Controller {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `rollout` binary with the admin token in its environment.
pub fn rollout_command() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_rollout"));
    command.env(ADMIN_TOKEN_ENV, ADMIN_TOKEN);
    command
}

/// Every event logged so far.
pub fn events(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str(line).expect("each event line is JSON"))
        .collect()
}

/// Waits (bounded) until an event matching `wanted` is logged, and returns it.
pub fn wait_for_event(path: &Path, what: &str, wanted: impl Fn(&Value) -> bool) -> Value {
    let started = Instant::now();
    loop {
        if let Some(event) = events(path).into_iter().find(|e| wanted(e)) {
            return event;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no {what} event within 60 s; events:\n{}",
            std::fs::read_to_string(path).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The events named `name`.
pub fn named<'a>(events: &'a [Value], name: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["event"] == name).collect()
}

/// `rollout status --json` for `spec`.
pub fn status(spec: &Path) -> Value {
    let output = rollout_command()
        .args(["status", "--json"])
        .arg(spec)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "status failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}
