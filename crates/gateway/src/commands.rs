//! What each subcommand does: start the service, show config, explain a gray decision, issue a token.

use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use auth::{KeyId, Keyring, Scope, SigningKey, Subject};
use axum::extract::FromRef;

use crate::admin::config_report;
use crate::admin_auth::AdminToken;
use crate::cli::{
    Command, ConfigCommand, ConfigShowArgs, ExplainArgs, GrayCommand, ServeArgs, ShowFormat,
    TokenCommand, TokenIssueArgs,
};
use crate::config::{load, load_options, settings};
use crate::outbox::Dispatcher;
use crate::reload::LiveConfig;
use crate::routing::BILLING_DIMENSION;
use crate::scope::ApiScope;
use crate::settings::{AuthSettings, NotificationSettings, Settings, StorageSettings};
use crate::state::{AppState, StateParts};
use shared::notification::v1::{EmailAddress, Recipient};

/// Runs one subcommand to completion.
pub fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve(args) => serve(args),
        Command::Config(ConfigCommand::Show(args)) => print(&config_show(&args)?),
        Command::Gray(GrayCommand::Explain(args)) => print(&gray_explain(&args)?),
        Command::Gray(GrayCommand::Put(args)) => print(&crate::etcd_source::put_command(&args)?),
        Command::Gray(GrayCommand::Get(args)) => print(&crate::etcd_source::get_command(&args)?),
        Command::Gray(GrayCommand::Delete(args)) => {
            print(&crate::etcd_source::delete_command(&args)?)
        }
        Command::Token(TokenCommand::Issue(args)) => print(&token_issue(&args)?),
    }
}

fn print(text: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .context("cannot write to stdout")
}

/// The keyring API tokens are signed and verified with, from the secret in `auth.secret_env`.
pub(crate) fn keyring_from_env(auth: &AuthSettings) -> anyhow::Result<Keyring> {
    let secret = std::env::var(&auth.secret_env).with_context(|| {
        format!(
            "environment variable {} (config key auth.secret_env) must hold the API token signing secret",
            auth.secret_env
        )
    })?;
    keyring(auth, secret.as_bytes())
}

/// A keyring with one key named by `auth.key_id`.
pub(crate) fn keyring(auth: &AuthSettings, secret: &[u8]) -> anyhow::Result<Keyring> {
    let key_id = KeyId::parse(&auth.key_id).context("invalid config key auth.key_id")?;
    let key = SigningKey::new(key_id, secret)
        .with_context(|| format!("invalid secret in environment variable {}", auth.secret_env))?;
    Ok(Keyring::new(key, [])?)
}

/// Opens (creating and migrating) the invoice database named by `[storage]`.
pub fn open_store(storage: &StorageSettings) -> anyhow::Result<store::Store> {
    let store = open_connection(storage)?;
    // Refuse to start on a database that cannot take writes, rather than answer every create
    // with an error (and leave read-only -wal/-shm files behind). The check commits a write:
    // taking the write lock alone succeeds on read-only storage once -wal/-shm exist.
    store.check_writable().with_context(|| {
        format!(
            "refusing to start: the invoice store must take writes (config key storage.path = {})",
            storage.path.display()
        )
    })?;
    tracing::info!(path = %storage.path.display(), schema_version = store.schema_version(), "invoice store open");
    Ok(store)
}

/// One more connection to the invoice database named by `[storage]`.
fn open_connection(storage: &StorageSettings) -> anyhow::Result<store::Store> {
    let options = store::StoreOptions {
        busy_timeout: std::time::Duration::from_millis(storage.busy_timeout_ms),
        ..store::StoreOptions::default()
    };
    store::Store::open_with(&storage.path, &options).with_context(|| {
        format!(
            "cannot open the invoice store (config key storage.path = {})",
            storage.path.display()
        )
    })
}

/// Starts the outbox dispatcher on a connection of its own, so its reads never wait for the
/// API's connection; it stops when the returned value is dropped.
fn start_dispatcher(state: &AppState, settings: &Settings) -> anyhow::Result<Dispatcher> {
    let store = open_connection(&settings.storage)?;
    let sender = crate::outbox::sender_for(&settings.outbox);
    tracing::info!(
        sender = ?settings.outbox.sender,
        file = %settings.outbox.file.display(),
        "outbox dispatcher started"
    );
    Dispatcher::start(
        store,
        sender,
        settings.outbox.clone(),
        Arc::clone(&state.outbox_signal),
        Arc::clone(&state.metrics),
    )
    .context("cannot start the outbox dispatcher thread")
}

/// The recipient of notices for creates that name none, from `notification.default_email`.
pub fn default_recipient(settings: &NotificationSettings) -> anyhow::Result<Recipient> {
    let address = EmailAddress::parse(&settings.default_email)
        .context("invalid config key notification.default_email")?;
    Ok(Recipient::Email(address))
}

/// `gateway serve`: load config, open the store, build the app, serve until a signal.
fn serve(args: ServeArgs) -> anyhow::Result<()> {
    crate::memory::keep_large_buffers_separate();
    let mut options = load_options(&args.config);
    let mut snapshot = load(&options)?;
    let mut settings = settings(&snapshot)?;
    // Gray fragments in etcd join the gray layer once `[etcd]` (read from the files) says where.
    let etcd = if settings.etcd.endpoints.is_empty() {
        None
    } else {
        // etcd's fragments belong to the gray layer, which the gray switch turns on: with it off
        // they would be fetched, followed and silently ignored.
        if !options.gray_switch()? {
            bail!(
                "[etcd] is configured (etcd.endpoints), but the gray switch {} is off, so the gray fragments under {} would be ignored: start with {}=true, or remove [etcd]",
                options.gray_switch_var,
                settings.etcd.prefix,
                options.gray_switch_var
            );
        }
        let mut source = crate::etcd_source::EtcdSource::connect(
            &settings.etcd,
            options.limits.max_total_bytes,
        )?;
        options = options.with_fragment_source(source.fragment_source());
        snapshot = match load(&options) {
            Ok(snapshot) => {
                source.loaded();
                snapshot
            }
            // etcd holds fragments this instance cannot accept (another writer's mistake): it
            // starts from what it served before, degraded, rather than not at all.
            Err(error) if source.fall_back_to_copy(&error)? => load(&options)?,
            Err(error) => return Err(error),
        };
        Some(source)
    };
    if let Some(listen) = args.listen {
        settings.server.listen = listen;
    }
    if let Some(listen) = args.admin_listen {
        settings.admin.listen = listen;
    }
    let admin_token = AdminToken::from_env(&settings.admin.token_env)
        .map_err(|message| anyhow::anyhow!("{message} (config key admin.token_env)"))?;
    if !admin_token.is_enabled() {
        tracing::warn!(
            var = settings.admin.token_env,
            "no admin token configured; admin endpoints answer 401"
        );
    }
    let metrics_token = AdminToken::from_env(&settings.metrics.token_env)
        .map_err(|message| anyhow::anyhow!("{message} (config key metrics.token_env)"))?;
    let keyring = keyring_from_env(&settings.auth)?;
    let invoices = Arc::new(open_store(&settings.storage)?);
    let default_recipient = default_recipient(&settings.notification)?;
    let config = Arc::new(gray::Store::new(snapshot));
    let state = AppState::new(StateParts {
        config,
        load_options: options,
        settings: settings.clone(),
        admin_token,
        metrics_token,
        keyring,
        invoices,
        default_recipient,
    });
    if state.api_storage.threads() == 0 || state.probe_storage.threads() == 0 {
        bail!("cannot start the database threads (see the errors above)");
    }
    // Delivers the notices the database holds, those left by an earlier run included.
    let dispatcher = start_dispatcher(&state, &settings)?;
    // Follows etcd for as long as the process serves; stopped when dropped on the way out.
    let _following = etcd
        .map(|source| source.follow(LiveConfig::from_ref(&state)))
        .transpose()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let watch = args.watch || settings.server.watch_config;
    let fd_limit = crate::server::raise_fd_limit();
    let api_limits = crate::server::ConnectionLimits::api(&settings.server, fd_limit);
    let admin_limits = crate::server::ConnectionLimits::admin(&settings.server);
    let shutdown_timeout = Duration::from_millis(settings.server.shutdown_timeout_ms);
    let served = runtime.block_on(async move {
        let (socket, bound) = crate::server::bind(settings.server.listen).await?;
        let (admin_socket, admin_bound) = crate::server::bind(settings.admin.listen).await?;
        // The watcher lives exactly as long as the server: dropped (and so stopped) once
        // requests in flight have finished, or when serving fails.
        let watcher = if watch {
            Some(crate::reload::watch(&state).with_context(|| {
                format!(
                    "cannot watch the config directory {} (--watch or server.watch_config)",
                    state.load_options.dir.display()
                )
            })?)
        } else {
            None
        };
        let listeners = vec![
            crate::server::Listener {
                socket,
                bound,
                app: crate::app::app(state.clone()),
                name: "api",
                limits: api_limits,
            },
            // The admin listener has limits of its own, so neither an API flood nor slow
            // clients on the admin port lock operators and probes out.
            crate::server::Listener {
                socket: admin_socket,
                bound: admin_bound,
                app: crate::app::admin_app(state),
                name: "admin",
                limits: admin_limits,
            },
        ];
        let served = crate::server::serve(
            listeners,
            shutdown_timeout,
            crate::server::shutdown_signal(),
        )
        .await;
        if let Some(watcher) = watcher {
            drop(watcher);
            tracing::info!("config directory watch stopped");
        }
        served
    });
    // Work still running on the runtime (a request past the shutdown deadline, a blocking
    // database call) does not hold the process up.
    runtime.shutdown_timeout(Duration::from_millis(100));
    drop(dispatcher);
    served
}

/// `gateway config show`: the merged config with provenance, secrets redacted.
pub(crate) fn config_show(args: &ConfigShowArgs) -> anyhow::Result<String> {
    let snapshot = load(&crate::etcd_source::with_etcd(load_options(&args.config))?)?;
    let mut report = config_report(&snapshot);
    if let Some(key) = &args.key {
        report.entries.retain(|entry| {
            entry.key == *key
                || entry
                    .key
                    .strip_prefix(key.as_str())
                    .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
        });
        if report.entries.is_empty() {
            bail!("config key `{key}` does not exist");
        }
    }
    match args.format {
        ShowFormat::Json => {
            let mut text =
                serde_json::to_string_pretty(&report).context("cannot render config as json")?;
            text.push('\n');
            Ok(text)
        }
        ShowFormat::Toml => {
            let mut text = String::new();
            // The report's values are redacted already.
            for entry in &report.entries {
                let value = json_to_toml(&entry.value);
                // Writing to a String cannot fail.
                let _ = writeln!(text, "{} = {}  # {}", entry.key, value, entry.origin);
            }
            Ok(text)
        }
    }
}

/// The TOML form of a JSON value that came from TOML (so it has no nulls).
fn json_to_toml(value: &serde_json::Value) -> toml::Value {
    match value {
        serde_json::Value::Null => toml::Value::String(String::new()),
        serde_json::Value::Bool(b) => toml::Value::Boolean(*b),
        serde_json::Value::Number(n) => n
            .as_i64()
            .map(toml::Value::Integer)
            .or_else(|| n.as_f64().map(toml::Value::Float))
            .unwrap_or_else(|| toml::Value::String(n.to_string())),
        serde_json::Value::String(s) => toml::Value::String(s.clone()),
        serde_json::Value::Array(items) => {
            toml::Value::Array(items.iter().map(json_to_toml).collect())
        }
        serde_json::Value::Object(map) => toml::Value::Table(
            map.iter()
                .map(|(k, v)| (k.clone(), json_to_toml(v)))
                .collect(),
        ),
    }
}

/// `gateway gray explain`: the route, rule, reason and bucket a request would get.
pub(crate) fn gray_explain(args: &ExplainArgs) -> anyhow::Result<String> {
    let mut options = load_options(&args.config);
    if !args.labels.is_empty() {
        // `--label` replaces INSTANCE_LABELS, the highest-precedence source of labels.
        let labels = args
            .labels
            .iter()
            .map(|(key, value)| format!("{key}={value}"))
            .collect::<Vec<_>>()
            .join(",");
        options = options.with_var(gray::INSTANCE_LABELS_VAR, &labels);
    }
    let snapshot = load(&options)?;
    let headers = PairHeaders(&args.headers);
    let trace = snapshot.trace(
        BILLING_DIMENSION,
        &gray::RequestView {
            path: &args.path,
            headers: &headers,
        },
    );
    let decision = trace.decision;
    let mut text = String::new();
    let _ = writeln!(text, "path:    {}", args.path);
    let _ = writeln!(
        text,
        "route:   {BILLING_DIMENSION} = {}",
        decision.route.unwrap_or("(none)")
    );
    let _ = writeln!(text, "rule:    {}", decision.rule.unwrap_or("(none)"));
    let _ = writeln!(text, "reason:  {}", decision.reason.as_str());
    match decision.bucket {
        Some(bucket) => {
            let _ = writeln!(text, "bucket:  {bucket}");
        }
        None => {
            let _ = writeln!(text, "bucket:  (none)");
        }
    }
    if let Some(detail) = decision.detail {
        let _ = writeln!(text, "detail:  {detail}");
    }
    if let Some(rule) = trace.rules.iter().find(|rule| rule.decided) {
        let _ = writeln!(text, "defined: {}", rule.origin);
    }
    for rule in &trace.rules {
        let _ = write!(text, "  rule {}:", rule.name);
        match rule.state {
            gray::RuleState::Disabled => text.push_str(" disabled"),
            gray::RuleState::Inactive(why) => {
                let _ = write!(text, " inactive ({why})");
            }
            gray::RuleState::Active => text.push_str(" active"),
        }
        match rule.sticky {
            Some(gray::StickyBucket {
                bucket: Some(bucket),
                percent,
            }) => {
                let relation = if bucket <= percent { "<=" } else { ">" };
                let _ = write!(text, "; bucket {bucket} {relation} {percent}%");
            }
            Some(gray::StickyBucket { bucket: None, .. }) => {
                text.push_str("; no sticky key in this request");
            }
            None => {}
        }
        text.push('\n');
    }
    let labels: Vec<String> = snapshot
        .labels()
        .map(|(key, value, _)| format!("{key}={}", gray::redact_str(key, value)))
        .collect();
    let labels = if labels.is_empty() {
        "(none)".to_owned()
    } else {
        labels.join(",")
    };
    let _ = writeln!(text, "labels:  {labels}");
    let _ = writeln!(
        text,
        "gray:    {} (content hash {})",
        if snapshot.gray_enabled() {
            "enabled"
        } else {
            "disabled"
        },
        &snapshot.content_hash()[..snapshot.content_hash().len().min(12)]
    );
    Ok(text)
}

/// `gateway token issue`: a bearer token for the API, signed with the configured key.
pub(crate) fn token_issue(args: &TokenIssueArgs) -> anyhow::Result<String> {
    let snapshot = load(&load_options(&args.config))?;
    let settings = settings(&snapshot)?;
    let keyring = keyring_from_env(&settings.auth)?;
    let subject = Subject::parse(&args.subject).context("invalid --subject")?;
    if args.scopes.is_empty() {
        bail!(
            "give at least one --scope ({}); a token without a scope opens nothing",
            ApiScope::list()
        );
    }
    let scopes = args
        .scopes
        .iter()
        .map(|s| {
            if ApiScope::parse(s).is_none() {
                bail!("unknown --scope {s}; the API knows {}", ApiScope::list());
            }
            Scope::parse(s).with_context(|| format!("invalid --scope {s}"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let max_ttl = settings.auth.max_ttl_seconds;
    if args.ttl_seconds > max_ttl {
        bail!(
            "--ttl-seconds {} exceeds auth.max_ttl_seconds = {max_ttl}",
            args.ttl_seconds
        );
    }
    let now = crate::clock::unix_now();
    let token = keyring.issue(&subject, &scopes, now.saturating_add(args.ttl_seconds));
    Ok(format!("{token}\n"))
}

/// `--header` pairs as gray reads them; names compare case-insensitively, the first match wins.
/// (An adapter, not evaluation: gray's `trace` does the deciding.)
struct PairHeaders<'a>(&'a [(String, String)]);

impl gray::HeaderLookup for PairHeaders<'_> {
    fn header(&self, lowercase_name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(lowercase_name))
            .map(|(_, value)| value.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_recipient_must_be_an_email_address() {
        let ok = default_recipient(&NotificationSettings {
            default_email: "ops@example.com".to_owned(),
        })
        .unwrap();
        assert!(matches!(ok, Recipient::Email(_)));
        let err = default_recipient(&NotificationSettings {
            default_email: "not-an-address".to_owned(),
        })
        .unwrap_err();
        assert!(
            format!("{err:#}").starts_with("invalid config key notification.default_email"),
            "{err:#}"
        );
    }

    #[test]
    fn keyrings_need_a_valid_key_id_and_a_long_secret() {
        let auth = AuthSettings::default();
        assert!(keyring(&auth, &[1; 32]).is_ok());
        let err = keyring(&auth, &[1; 8]).unwrap_err();
        assert!(
            format!("{err:#}").contains("GRAYWORK_AUTH_SECRET"),
            "{err:#}"
        );
        let bad_id = AuthSettings {
            key_id: "has space".to_owned(),
            ..AuthSettings::default()
        };
        let err = keyring(&bad_id, &[1; 32]).unwrap_err();
        assert!(format!("{err:#}").contains("auth.key_id"), "{err:#}");
    }

    #[test]
    fn json_values_from_toml_convert_back() {
        let value = serde_json::json!({"a": [1, 2.5, true, "x"]});
        assert_eq!(
            json_to_toml(&value).to_string(),
            "{ a = [1, 2.5, true, \"x\"] }"
        );
    }
}
