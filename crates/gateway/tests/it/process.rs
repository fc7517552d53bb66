//! Helpers for tests that run the built `gateway` binary as a child process on port 0.

use std::ffi::OsString;
use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use auth::{KeyId, Keyring, Scope, SigningKey, Subject};
use serde_json::Value;

/// The admin token the child is started with.
pub const ADMIN_TOKEN: &str = "binary-admin-token-0123456789abcdef";
/// The API token signing secret the child is started with.
pub const SECRET: &str = "binary-test-secret-0123456789abcdef";

/// A running `gateway serve`; killed when dropped.
pub struct Server {
    child: Child,
    /// The address it bound.
    pub addr: SocketAddr,
    /// The admin listener's address.
    pub admin_addr: SocketAddr,
    log: PathBuf,
}

impl Server {
    /// Starts `gateway serve` on `config_dir` with the gray switch on, and waits for the
    /// `gateway listening on ADDR` line. The child runs in `config_dir`, so its database and
    /// log live there too.
    pub fn start(config_dir: &Path) -> Server {
        Server::start_with(config_dir, config_dir, &[])
    }

    /// Like [`Server::start`], with `extra_args` after `serve` and the child's working directory
    /// (database) and log in `work_dir`.
    pub fn start_with(config_dir: &Path, work_dir: &Path, extra_args: &[&str]) -> Server {
        Server::start_with_env(config_dir, work_dir, extra_args, &[])
    }

    /// Like [`Server::start_with`], with extra environment variables (`APP__SERVER__…`
    /// overrides, say).
    pub fn start_with_env(
        config_dir: &Path,
        work_dir: &Path,
        extra_args: &[&str],
        vars: &[(&str, &str)],
    ) -> Server {
        Server::start_wrapped(&[], config_dir, work_dir, extra_args, vars)
    }

    /// Like [`Server::start_with_env`], run through `wrapper` (a program and its arguments,
    /// `nsenter … --` say) when it is not empty.
    pub fn start_wrapped(
        wrapper: &[OsString],
        config_dir: &Path,
        work_dir: &Path,
        extra_args: &[&str],
        vars: &[(&str, &str)],
    ) -> Server {
        let log = work_dir.join(format!("gateway-{}.log", uuid_like()));
        let mut child = serve_command(wrapper, config_dir, extra_args, vars)
            .current_dir(work_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(addr) = line.strip_prefix("gateway listening on ") {
                    let _ = sender.send(("api", addr.parse::<SocketAddr>().unwrap()));
                }
                if let Some(addr) = line.strip_prefix("gateway admin listening on ") {
                    let _ = sender.send(("admin", addr.parse::<SocketAddr>().unwrap()));
                }
            }
        });
        // A generous bound so a binary that fails to start fails the test instead of hanging it.
        let (mut addr, mut admin_addr) = (None, None);
        while addr.is_none() || admin_addr.is_none() {
            match receiver.recv_timeout(Duration::from_secs(60)) {
                Ok(("api", bound)) => addr = Some(bound),
                Ok((_, bound)) => admin_addr = Some(bound),
                Err(_) => {
                    let _ = child.kill();
                    panic!(
                        "gateway did not start; its log:\n{}",
                        std::fs::read_to_string(&log).unwrap_or_default()
                    );
                }
            }
        }
        Server {
            child,
            addr: addr.unwrap(),
            admin_addr: admin_addr.unwrap(),
            log,
        }
    }

    /// `http://ADDR{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// `http://ADMIN_ADDR{path}`: the admin listener.
    pub fn admin_url(&self, path: &str) -> String {
        format!("http://{}{path}", self.admin_addr)
    }

    /// Kills the child with SIGKILL (what `Child::kill` sends on Unix) and reaps it.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for the child to exit and returns whether it exited successfully.
    pub fn wait_success(mut self) -> bool {
        self.child.wait().unwrap().success()
    }

    /// The child's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `gateway serve` on port 0 for `config_dir` with the test tokens and the gray switch on, run
/// through `wrapper` when it is not empty.
pub fn serve_command(
    wrapper: &[OsString],
    config_dir: &Path,
    extra_args: &[&str],
    vars: &[(&str, &str)],
) -> Command {
    let mut command = match wrapper.split_first() {
        Some((program, args)) => {
            let mut command = Command::new(program);
            command.args(args).arg(env!("CARGO_BIN_EXE_gateway"));
            command
        }
        None => Command::new(env!("CARGO_BIN_EXE_gateway")),
    };
    command
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--admin-listen",
            "127.0.0.1:0",
        ])
        .args(extra_args)
        .arg("--config-dir")
        .arg(config_dir)
        .env("ENABLE_GRAY_CONFIG", "true")
        .env("GATEWAY_TEST_ADMIN_TOKEN", ADMIN_TOKEN)
        .env("GATEWAY_TEST_SECRET", SECRET)
        .env("RUST_LOG", "warn")
        .env_remove("ENV")
        .envs(vars.iter().copied());
    command
}

/// A distinct suffix per server start within one test run.
fn uuid_like() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// An HTTP client that returns 4xx/5xx answers instead of failing on them.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// An API token for the child's signing key.
pub fn api_token(scopes: &[&str]) -> String {
    let key = SigningKey::new(KeyId::parse("test-key").unwrap(), SECRET.as_bytes()).unwrap();
    let scopes: Vec<Scope> = scopes.iter().map(|s| Scope::parse(s).unwrap()).collect();
    Keyring::new(key, []).unwrap().issue(
        &Subject::parse("tester").unwrap(),
        &scopes,
        gateway::unix_now() + 3600,
    )
}

/// A reply from the child: status, `X-Billing-Version` and the JSON body (`Null` if none).
#[derive(Debug)]
pub struct HttpReply {
    /// The status code.
    pub status: u16,
    /// The `X-Billing-Version` header.
    pub billing_version: Option<String>,
    /// The body as JSON.
    pub json: Value,
}

/// Turns a ureq response into an [`HttpReply`].
pub fn reply(response: ureq::http::Response<ureq::Body>) -> HttpReply {
    let status = response.status().as_u16();
    let billing_version = response
        .headers()
        .get("x-billing-version")
        .map(|v| v.to_str().unwrap().to_owned());
    let text = response.into_body().read_to_string().unwrap();
    let json = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    HttpReply {
        status,
        billing_version,
        json,
    }
}
