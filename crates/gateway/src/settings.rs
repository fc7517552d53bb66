//! The gateway's own config sections (`[server]`, `[admin]`, `[metrics]`, `[storage]`, `[auth]`,
//! `[notification]`, `[outbox]`), with defaults.
//!
//! Every key has a default here, so `gateway serve` runs with an empty `base.toml`. Within these
//! sections the schema is strict: an unknown key (a typo such as `body_limit`) is an error naming
//! its file and line and listing the valid keys. Other top-level sections belong to other readers
//! of the same config and are left alone.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// `[server]`: how the service listens and what it accepts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerSettings {
    /// The listen address. Loopback unless configured otherwise.
    pub listen: SocketAddr,
    /// The longest a request may take, body included, in milliseconds.
    pub request_timeout_ms: u64,
    /// The largest request body accepted, in bytes.
    pub body_limit_bytes: usize,
    /// Whether to reload the config whenever a file in the config directory changes, as
    /// `gateway serve --watch` does.
    pub watch_config: bool,
    /// How long `POST /config/reload` may take before it is abandoned (503 `reload_timeout`),
    /// in milliseconds.
    pub reload_timeout_ms: u64,
    /// How long a client may take to send a request's header, in milliseconds; slower
    /// connections are closed.
    pub header_read_timeout_ms: u64,
    /// How long a kept-alive connection may sit without a request, in milliseconds.
    pub idle_timeout_ms: u64,
    /// The most connections open at once on the API listener (kept below the open-file limit).
    pub max_connections: usize,
    /// How long shutdown waits for requests in flight before dropping them, in milliseconds.
    pub shutdown_timeout_ms: u64,
}

impl ServerSettings {
    /// The request timeout as a duration.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }

    /// The reload deadline as a duration.
    pub fn reload_timeout(&self) -> Duration {
        Duration::from_millis(self.reload_timeout_ms)
    }
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 8080),
            request_timeout_ms: 10_000,
            body_limit_bytes: 64 * 1024,
            watch_config: false,
            reload_timeout_ms: 10_000,
            header_read_timeout_ms: 10_000,
            idle_timeout_ms: 60_000,
            max_connections: 4_096,
            shutdown_timeout_ms: 10_000,
        }
    }
}

/// `[admin]`: the admin listener and where the admin token comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdminSettings {
    /// The admin listener's address (reload, debug, metrics, health), separate from the API's.
    /// Loopback unless configured otherwise.
    pub listen: SocketAddr,
    /// The environment variable holding the admin token (at least 32 bytes). The token itself
    /// never sits in a file.
    pub token_env: String,
}

impl Default for AdminSettings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 9090),
            token_env: "GRAYWORK_ADMIN_TOKEN".to_owned(),
        }
    }
}

/// `[metrics]`: who may scrape `/metrics`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsSettings {
    /// The environment variable holding the read-only metrics token (at least 32 bytes); it
    /// opens `/metrics` and nothing else. The admin token opens `/metrics` too.
    pub token_env: String,
    /// Serve `/metrics` without any token.
    pub public: bool,
}

impl Default for MetricsSettings {
    fn default() -> Self {
        Self {
            token_env: "GRAYWORK_METRICS_TOKEN".to_owned(),
            public: false,
        }
    }
}

/// `[storage]`: the invoice database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageSettings {
    /// The SQLite database file; its directory is created when missing.
    pub path: PathBuf,
    /// How long a write waits for a lock held by another connection, in milliseconds.
    pub busy_timeout_ms: u64,
    /// Threads of the API's database pool (dedicated threads, not tokio's blocking pool).
    pub worker_threads: usize,
    /// Database jobs that may wait for a pool thread; when the queue is full, requests answer
    /// 503 `storage_unavailable` at once.
    pub queue_capacity: usize,
}

impl Default for StorageSettings {
    fn default() -> Self {
        Self {
            path: PathBuf::from("data/gateway.db"),
            busy_timeout_ms: 5_000,
            worker_threads: 4,
            queue_capacity: 256,
        }
    }
}

/// `[auth]`: the key API bearer tokens are signed with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthSettings {
    /// The id tokens name their signing key by.
    pub key_id: String,
    /// The environment variable holding the signing secret (at least 32 bytes).
    pub secret_env: String,
    /// The longest a token may live, in seconds: `token issue` refuses a longer `--ttl-seconds`
    /// and the API refuses tokens that expire further ahead.
    pub max_ttl_seconds: u64,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            key_id: "gateway-1".to_owned(),
            secret_env: "GRAYWORK_AUTH_SECRET".to_owned(),
            max_ttl_seconds: 24 * 60 * 60,
        }
    }
}

/// `[notification]`: where invoice notices go when a create names no recipient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NotificationSettings {
    /// The email address notices go to when the request has no `notify` field.
    pub default_email: String,
}

impl Default for NotificationSettings {
    fn default() -> Self {
        Self {
            default_email: "billing@example.com".to_owned(),
        }
    }
}

/// `[etcd]`: gray fragments shared by a fleet through etcd (off while `endpoints` is empty).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EtcdSettings {
    /// etcd client URLs (`http://host:2379`), tried in order with failover. Empty: no etcd.
    /// TLS is not supported yet.
    pub endpoints: Vec<String>,
    /// The key prefix holding the fragments; every `*.toml` key under it is one, merged in key
    /// order after `gray/*.toml`.
    pub prefix: String,
    /// How long connecting to one endpoint may take, in milliseconds.
    pub dial_timeout_ms: u64,
    /// How long one read or write may take on one endpoint, in milliseconds.
    pub request_timeout_ms: u64,
    /// How long the watch may stay silent before it is reopened from the last revision, in
    /// milliseconds.
    pub watch_idle_timeout_ms: u64,
    /// How often a quiet watch asks etcd whether it still answers, in milliseconds.
    pub probe_interval_ms: u64,
    /// How long that question may take before etcd counts as unreachable (a frozen member
    /// accepts connections and says nothing), in milliseconds.
    pub probe_timeout_ms: u64,
    /// How long the prefix must stay quiet after a change before it is re-read and reloaded,
    /// in milliseconds.
    pub settle_ms: u64,
    /// The first retry delay after etcd failed, in milliseconds; it doubles up to
    /// `retry_max_ms`.
    pub retry_min_ms: u64,
    /// The longest retry delay, in milliseconds.
    pub retry_max_ms: u64,
    /// The etcd user (auth); empty when etcd's auth is off.
    pub username: String,
    /// The environment variable holding the etcd user's password.
    pub password_env: String,
    /// The local copy of the last fragments that loaded, written atomically after every good
    /// load; a start while etcd is unreachable uses it.
    pub last_good_path: PathBuf,
}

impl Default for EtcdSettings {
    fn default() -> Self {
        Self {
            endpoints: Vec::new(),
            prefix: "/graywork/gateway/gray/".to_owned(),
            dial_timeout_ms: 2_000,
            request_timeout_ms: 5_000,
            watch_idle_timeout_ms: 30_000,
            probe_interval_ms: 1_000,
            probe_timeout_ms: 2_000,
            settle_ms: 50,
            retry_min_ms: 200,
            retry_max_ms: 5_000,
            username: String::new(),
            password_env: "GRAYWORK_ETCD_PASSWORD".to_owned(),
            last_good_path: PathBuf::from("data/etcd-last-good.json"),
        }
    }
}

/// How the outbox dispatcher delivers invoice notices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SenderKind {
    /// Each notice becomes a log event (target `notification`).
    Log,
    /// Each notice is appended to `outbox.file` as one JSON line.
    File,
}

/// `[outbox]`: the dispatcher that delivers the notices queued in the database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutboxSettings {
    /// Where notices are delivered: `log` or `file`.
    pub sender: SenderKind,
    /// The file the `file` sender appends to (one JSON object per line). Its directory must
    /// exist; until it does, deliveries fail and are retried.
    pub file: PathBuf,
    /// Most notices read and delivered per round.
    pub batch_size: usize,
    /// How often an idle dispatcher looks for due notices, in milliseconds (a create wakes it
    /// sooner).
    pub poll_interval_ms: u64,
    /// The wait after a first failed delivery, in milliseconds; it doubles on each further
    /// failure of the same notice.
    pub retry_initial_ms: u64,
    /// The longest wait between two attempts at one notice, in milliseconds.
    pub retry_max_ms: u64,
    /// How long delivered notices stay in the database, in hours (0 keeps them).
    pub retain_delivered_hours: u64,
}

impl OutboxSettings {
    /// The wait before attempt `failures + 1` of a notice that failed `failures` times (at
    /// least 1): `retry_initial_ms` doubled per earlier failure, capped at `retry_max_ms`.
    pub fn backoff(&self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1).min(63);
        let wait = self.retry_initial_ms.saturating_mul(1u64 << doublings);
        Duration::from_millis(wait.min(self.retry_max_ms))
    }
}

impl Default for OutboxSettings {
    fn default() -> Self {
        Self {
            sender: SenderKind::Log,
            file: PathBuf::from("data/notices.jsonl"),
            batch_size: 100,
            poll_interval_ms: 1_000,
            retry_initial_ms: 1_000,
            retry_max_ms: 300_000,
            retain_delivered_hours: 168,
        }
    }
}

/// All of the gateway's sections, read once at start. Changing them needs a restart; only the
/// gray rules change on reload.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// `[server]`.
    pub server: ServerSettings,
    /// `[admin]`.
    pub admin: AdminSettings,
    /// `[storage]`.
    pub storage: StorageSettings,
    /// `[auth]`.
    pub auth: AuthSettings,
    /// `[notification]`.
    pub notification: NotificationSettings,
    /// `[metrics]`.
    pub metrics: MetricsSettings,
    /// `[outbox]`.
    pub outbox: OutboxSettings,
    /// `[etcd]`.
    pub etcd: EtcdSettings,
}

/// Checks the values serde cannot: counts and durations that must be at least 1, and bounds
/// that must be in order.
pub(crate) fn check_values(settings: &Settings) -> Result<(), String> {
    let at_least_one = [
        ("storage.worker_threads", settings.storage.worker_threads),
        ("storage.queue_capacity", settings.storage.queue_capacity),
        ("outbox.batch_size", settings.outbox.batch_size),
    ];
    for (key, value) in at_least_one {
        if value == 0 {
            return Err(format!("config key {key} must be at least 1"));
        }
    }
    if settings.outbox.retry_initial_ms == 0 || settings.outbox.poll_interval_ms == 0 {
        return Err(
            "config keys outbox.retry_initial_ms and outbox.poll_interval_ms must be at least 1"
                .to_owned(),
        );
    }
    // A zero timeout would close every connection before its first request; a zero retry
    // delay would spin while etcd is down.
    let at_least_one_ms = [
        (
            "server.header_read_timeout_ms",
            settings.server.header_read_timeout_ms,
        ),
        ("server.idle_timeout_ms", settings.server.idle_timeout_ms),
        ("etcd.retry_min_ms", settings.etcd.retry_min_ms),
    ];
    for (key, value) in at_least_one_ms {
        if value == 0 {
            return Err(format!("config key {key} must be at least 1"));
        }
    }
    if settings.etcd.retry_max_ms < settings.etcd.retry_min_ms {
        return Err(format!(
            "config key etcd.retry_max_ms ({}) must be at least etcd.retry_min_ms ({})",
            settings.etcd.retry_max_ms, settings.etcd.retry_min_ms
        ));
    }
    Ok(())
}

/// Top-level tables the gateway leaves to other readers but knows are not typos.
const OTHER_KNOWN_SECTIONS: &[&str] = &["gray", "faults"];

/// Refuses a top-level table whose name is a near miss of a gateway section (`[storge]`,
/// `[sever]`): it would otherwise be left to "another reader" and the gateway would silently run
/// on defaults. Other unknown tables are allowed: they belong to other readers of the config.
pub(crate) fn check_sections(snapshot: &gray::Snapshot) -> Result<(), gray::ConfigError> {
    for key in snapshot.sections() {
        if SECTIONS.contains(&key) || OTHER_KNOWN_SECTIONS.contains(&key) {
            continue;
        }
        if let Some(meant) = SECTIONS
            .iter()
            .find(|section| strsim::levenshtein(key, section) <= 2)
        {
            return Err(gray::ConfigError::Deserialize {
                key: key.to_owned(),
                origin: snapshot.origin(key).cloned(),
                message: format!(
                    "unknown section [{key}]; did you mean [{meant}]? (gateway sections: {})",
                    SECTIONS.join(", ")
                ),
            });
        }
    }
    Ok(())
}

/// The keys whose value differs between `running` and `loaded`, dotted (`server.listen`):
/// every gateway setting is read at start, so these need a restart to take effect.
pub(crate) fn restart_required(running: &Settings, loaded: &Settings) -> Vec<String> {
    fn leaves(prefix: &str, value: &serde_json::Value, out: &mut Vec<(String, serde_json::Value)>) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, child) in map {
                    let path = if prefix.is_empty() {
                        key.clone()
                    } else {
                        format!("{prefix}.{key}")
                    };
                    leaves(&path, child, out);
                }
            }
            other => out.push((prefix.to_owned(), other.clone())),
        }
    }
    let (mut old, mut new) = (Vec::new(), Vec::new());
    leaves(
        "",
        &serde_json::to_value(running).unwrap_or_default(),
        &mut old,
    );
    leaves(
        "",
        &serde_json::to_value(loaded).unwrap_or_default(),
        &mut new,
    );
    new.into_iter()
        .zip(old)
        .filter(|((_, a), (_, b))| a != b)
        .map(|((key, _), _)| key)
        .collect()
}

/// The sections this module reads; every other top-level table belongs to another reader.
pub(crate) const SECTIONS: &[&str] = &[
    "server",
    "admin",
    "storage",
    "auth",
    "notification",
    "metrics",
    "outbox",
    "etcd",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_listen_on_loopback_8080_and_store_in_data() {
        let settings = Settings::default();
        assert_eq!(settings.server.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(settings.storage.path, PathBuf::from("data/gateway.db"));
        assert_eq!(settings.admin.token_env, "GRAYWORK_ADMIN_TOKEN");
        assert_eq!(settings.server.request_timeout(), Duration::from_secs(10));
        assert!(!settings.server.watch_config, "watching is opt-in");
    }

    #[test]
    fn partial_sections_keep_the_other_defaults() {
        let settings: Settings = serde_json::from_value(serde_json::json!({
            "server": {"listen": "0.0.0.0:9000"},
            "storage": {"path": "/var/lib/gateway.db"},
            "gray": {"enabled": true},
        }))
        .unwrap();
        assert_eq!(settings.server.listen.to_string(), "0.0.0.0:9000");
        assert_eq!(settings.server.body_limit_bytes, 64 * 1024);
        assert_eq!(settings.storage.path, PathBuf::from("/var/lib/gateway.db"));
        assert_eq!(settings.storage.busy_timeout_ms, 5_000);
    }

    #[test]
    fn unknown_keys_in_gateway_sections_are_errors_listing_the_valid_ones() {
        let err = serde_json::from_value::<Settings>(serde_json::json!({
            "server": {"body_limit": 1},
        }))
        .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("unknown field `body_limit`"), "{text}");
        assert!(text.contains("body_limit_bytes"), "{text}");
    }

    #[test]
    fn restart_only_changes_are_listed_by_key() {
        let running = Settings::default();
        let mut loaded = Settings::default();
        assert!(restart_required(&running, &loaded).is_empty());
        loaded.server.body_limit_bytes = 1;
        loaded.storage.busy_timeout_ms = 2;
        assert_eq!(
            restart_required(&running, &loaded),
            ["server.body_limit_bytes", "storage.busy_timeout_ms"]
        );
    }

    #[test]
    fn the_outbox_section_is_strict_and_names_its_senders() {
        let settings: Settings = serde_json::from_value(serde_json::json!({
            "outbox": {"sender": "file", "file": "/var/spool/notices.jsonl"},
        }))
        .unwrap();
        assert_eq!(settings.outbox.sender, SenderKind::File);
        assert_eq!(settings.outbox.batch_size, 100);
        let err = serde_json::from_value::<Settings>(serde_json::json!({
            "outbox": {"sender": "smtp"},
        }))
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("unknown variant `smtp`, expected `log` or `file`"),
            "{err}"
        );
        let err = serde_json::from_value::<Settings>(serde_json::json!({
            "outbox": {"retry_ms": 1},
        }))
        .unwrap_err();
        assert!(err.to_string().contains("retry_initial_ms"), "{err}");
    }

    #[test]
    fn zero_counts_are_refused_naming_the_key() {
        assert_eq!(check_values(&Settings::default()), Ok(()));
        let mut settings = Settings::default();
        settings.storage.worker_threads = 0;
        assert_eq!(
            check_values(&settings),
            Err("config key storage.worker_threads must be at least 1".to_owned())
        );
        let mut settings = Settings::default();
        settings.outbox.retry_initial_ms = 0;
        assert!(
            check_values(&settings)
                .unwrap_err()
                .contains("outbox.retry_initial_ms")
        );
        let mut settings = Settings::default();
        settings.server.idle_timeout_ms = 0;
        assert_eq!(
            check_values(&settings),
            Err("config key server.idle_timeout_ms must be at least 1".to_owned())
        );
        let mut settings = Settings::default();
        settings.server.header_read_timeout_ms = 0;
        assert!(
            check_values(&settings)
                .unwrap_err()
                .contains("server.header_read_timeout_ms")
        );
        let mut settings = Settings::default();
        settings.etcd.retry_min_ms = 0;
        assert_eq!(
            check_values(&settings),
            Err("config key etcd.retry_min_ms must be at least 1".to_owned())
        );
        let mut settings = Settings::default();
        settings.etcd.retry_max_ms = 10;
        assert!(
            check_values(&settings)
                .unwrap_err()
                .contains("etcd.retry_max_ms (10) must be at least etcd.retry_min_ms (200)")
        );
    }

    #[test]
    fn the_backoff_doubles_per_failure_up_to_its_cap() {
        let outbox = OutboxSettings {
            retry_initial_ms: 1_000,
            retry_max_ms: 10_000,
            ..OutboxSettings::default()
        };
        let waits: Vec<u128> = [0, 1, 2, 3, 4, 5, 200]
            .map(|failures| outbox.backoff(failures).as_millis())
            .to_vec();
        assert_eq!(waits, [1_000, 1_000, 2_000, 4_000, 8_000, 10_000, 10_000]);
    }

    #[test]
    fn every_gateway_key_is_shown_by_the_one_redaction_rule() {
        // The gateway keeps its secrets in environment variables; its `*_env` keys only name
        // them, so `/debug/config` shows every key of its sections.
        fn keys(prefix: &str, value: &serde_json::Value, out: &mut Vec<String>) {
            match value {
                serde_json::Value::Object(map) => {
                    for (key, child) in map {
                        keys(&format!("{prefix}.{key}"), child, out);
                    }
                }
                _ => out.push(prefix.trim_start_matches('.').to_owned()),
            }
        }
        let mut all = Vec::new();
        keys(
            "",
            &serde_json::to_value(Settings::default()).unwrap(),
            &mut all,
        );
        assert!(all.contains(&"auth.key_id".to_owned()), "{all:?}");
        assert!(all.contains(&"etcd.password_env".to_owned()), "{all:?}");
        for key in all {
            assert!(!gray::is_secret_path(&key), "{key}");
        }
    }

    #[test]
    fn wrong_types_are_errors() {
        let err = serde_json::from_value::<Settings>(serde_json::json!({
            "server": {"listen": "not an address"},
        }))
        .unwrap_err();
        assert!(err.to_string().contains("invalid socket address"), "{err}");
    }
}
