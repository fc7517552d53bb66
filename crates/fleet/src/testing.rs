//! A real etcd for tests: `/usr/bin/etcd` (Debian `etcd-server`) on free loopback ports with a
//! temporary data directory, stopped when dropped. Behind the `testing` feature; not for
//! production code.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where Debian's `etcd-server` installs the server.
pub const ETCD_BINARY: &str = "/usr/bin/etcd";

/// One etcd member on loopback.
#[derive(Debug)]
pub struct TestEtcd {
    child: Option<Child>,
    data: tempfile::TempDir,
    client_port: u16,
    peer_port: u16,
}

impl TestEtcd {
    /// Starts etcd and waits (at most 20 s) until it serves reads.
    ///
    /// # Panics
    ///
    /// When the binary is missing (with how to install it) or etcd does not come up; tests
    /// want that failure, not a skip.
    pub fn start() -> TestEtcd {
        assert!(
            std::path::Path::new(ETCD_BINARY).exists(),
            "{ETCD_BINARY} is missing: the fleet tests need a real etcd; run `.ci/run` (it installs \
             Debian's etcd-server) or `apt-get install -y etcd-server`"
        );
        let mut etcd = TestEtcd {
            child: None,
            data: tempfile::tempdir().expect("temp dir for etcd"),
            client_port: free_port(),
            peer_port: free_port(),
        };
        etcd.resume();
        etcd
    }

    /// The client URL, `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.client_port)
    }

    /// The data directory.
    pub fn data_dir(&self) -> PathBuf {
        self.data.path().join("member-data")
    }

    /// Kills etcd (SIGKILL); its data stays for [`TestEtcd::resume`].
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Freezes etcd (SIGSTOP): it keeps its sockets and accepts connections, but answers
    /// nothing until [`TestEtcd::thaw`].
    pub fn freeze(&self) {
        self.signal("-STOP");
    }

    /// Lets a frozen etcd go on (SIGCONT).
    pub fn thaw(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().expect("etcd runs").id();
        let status = Command::new("kill")
            .args([signal, &pid.to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill {signal} {pid}");
    }

    /// Starts etcd again on the same ports and data, and waits until it serves reads.
    pub fn resume(&mut self) {
        self.stop();
        let client = self.endpoint();
        let peer = format!("http://127.0.0.1:{}", self.peer_port);
        let log = std::fs::File::create(self.data.path().join("etcd.log")).expect("etcd log");
        let child = Command::new(ETCD_BINARY)
            .args(["--name", "test"])
            .arg("--data-dir")
            .arg(self.data_dir())
            .args(["--listen-client-urls", &client])
            .args(["--advertise-client-urls", &client])
            .args(["--listen-peer-urls", &peer])
            .args(["--initial-advertise-peer-urls", &peer])
            .args(["--initial-cluster", &format!("test={peer}")])
            .args(["--log-level", "warn"])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start etcd");
        self.child = Some(child);
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(1)))
            .build()
            .into();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ready = agent
                .post(format!("{client}/v3/kv/range"))
                .send_json(serde_json::json!({"key": "eA=="}))
                .is_ok_and(|r| r.status().as_u16() == 200);
            if ready {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "etcd did not come up on {client}; see {}",
                self.data.path().join("etcd.log").display()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for TestEtcd {
    fn drop(&mut self) {
        // A frozen process does not die of SIGKILL until it is let go on.
        if self.child.is_some() {
            self.thaw();
        }
        self.stop();
    }
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free loopback port")
}
