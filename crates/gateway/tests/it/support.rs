//! Test fixtures: a temp config directory, an in-process app, tokens and request helpers.

use std::path::Path;
use std::sync::Arc;

use auth::{KeyId, Keyring, Scope, SigningKey, Subject};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use gateway::AdminToken;
use gateway::BILLING_DIMENSION;
use gateway::BILLING_VERSIONS;
use gateway::Settings;
use gateway::{AppState, StateParts};
use tempfile::TempDir;
use tower::ServiceExt as _;

/// The admin token every fixture accepts.
pub const ADMIN_TOKEN: &str = "test-admin-token-0123456789abcdef";
/// The metrics token every fixture accepts on `/metrics`.
pub const METRICS_TOKEN: &str = "test-metrics-token-0123456789abcdef";
/// The API token signing secret every fixture uses.
pub const SECRET: &[u8] = &[7; 32];

/// The base layer of fixtures: the oldest version this build has by default, a small body limit.
pub fn base_toml() -> String {
    format!(
        r#"
[server]
listen = "127.0.0.1:0"
body_limit_bytes = 4096
request_timeout_ms = 5000

[admin]
token_env = "GATEWAY_TEST_ADMIN_TOKEN"
# Another reader's secret lives in its own section (see [payments] below).

[auth]
key_id = "test-key"
secret_env = "GATEWAY_TEST_SECRET"

[gray]
enabled = true
{}
[payments]
db_password = "hunter2"
"#,
        default_route()
    )
}

/// `[gray.default]` routing billing to the oldest version this build has; nothing in a build
/// with no billing version, where any route would fail to load.
fn default_route() -> String {
    if BILLING_VERSIONS.is_empty() {
        String::new()
    } else {
        format!(
            "\n[gray.default]\nbilling = \"{}\"\n",
            gateway::BillingVersion::fallback()
        )
    }
}

/// Whether this build serves any billing version.
pub const ANY_VERSION: bool = cfg!(any(feature = "v1", feature = "v2"));

/// A gray fragment routing `X-Canary: v2` to billing v2.
pub const CANARY_TOML: &str = r#"
[[gray.rules]]
name = "canary-header"
route = { billing = "v2" }
headers = { "X-Canary" = "v2" }
"#;

/// A config directory with `files` (relative path, content) written into it.
pub fn config_dir(files: &[(&str, &str)]) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        write(dir.path(), name, text);
    }
    dir
}

/// Writes `text` to `dir/name`, creating parent directories.
pub fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// The keyring fixtures verify API tokens with.
pub fn keyring() -> Keyring {
    Keyring::new(
        SigningKey::new(KeyId::parse("test-key").unwrap(), SECRET).unwrap(),
        [],
    )
    .unwrap()
}

/// A valid API token granting `scopes` for an hour.
pub fn token(scopes: &[&str]) -> String {
    let scopes: Vec<Scope> = scopes.iter().map(|s| Scope::parse(s).unwrap()).collect();
    keyring().issue(
        &Subject::parse("tester").unwrap(),
        &scopes,
        gateway::unix_now() + 3600,
    )
}

/// An app over a temp config directory (base + canary fragment unless `files` says otherwise),
/// with the gray switch on.
pub struct TestApp {
    /// The config directory (also holds the database).
    pub dir: TempDir,
    /// The state the router serves.
    pub state: AppState,
}

impl TestApp {
    /// The default fixture: [`base_toml`], and [`CANARY_TOML`] when the build has v2.
    pub fn new() -> Self {
        let base = base_toml();
        if cfg!(feature = "v2") {
            Self::with_files(&[("base.toml", &base), ("gray/canary.toml", CANARY_TOML)])
        } else {
            Self::with_files(&[("base.toml", &base)])
        }
    }

    /// A fixture over exactly these config files.
    pub fn with_files(files: &[(&str, &str)]) -> Self {
        let dir = config_dir(files);
        let state = state_for(dir.path());
        Self { dir, state }
    }

    /// A fresh router over this fixture's state: the API listener's.
    pub fn router(&self) -> Router {
        gateway::app(self.state.clone())
    }

    /// A fresh router for the admin listener.
    pub fn admin_router(&self) -> Router {
        gateway::admin_app(self.state.clone())
    }

    /// Sends one request through a fresh router of the listener that serves its path: the admin
    /// listener for the admin endpoints, the API listener for the rest.
    pub async fn send(&self, request: Request<Body>) -> Reply {
        let path = request.uri().path();
        let admin = ["/config/", "/debug/", "/metrics"]
            .iter()
            .any(|prefix| path.starts_with(prefix));
        if admin {
            send(self.admin_router(), request).await
        } else {
            send(self.router(), request).await
        }
    }

    /// Replaces a config file (the next reload picks it up).
    pub fn write(&self, name: &str, text: &str) {
        write(self.dir.path(), name, text);
    }
}

/// The state for a config directory, with the database inside it.
pub fn state_for(dir: &Path) -> AppState {
    let options = gray::LoadOptions::new(dir)
        .with_routes(BILLING_DIMENSION, BILLING_VERSIONS)
        .with_var(gray::DEFAULT_GRAY_SWITCH_VAR, "true");
    let snapshot = gray::load(&options).unwrap();
    let mut settings: Settings = snapshot.deserialize().unwrap();
    settings.storage.path = dir.join("data/gateway.db");
    let invoices = Arc::new(gateway::open_store(&settings.storage).unwrap());
    let default_recipient = gateway::default_recipient(&settings.notification).unwrap();
    AppState::new(StateParts {
        config: Arc::new(gray::Store::new(snapshot)),
        load_options: options,
        settings,
        admin_token: AdminToken::new(ADMIN_TOKEN),
        metrics_token: AdminToken::new(METRICS_TOKEN),
        keyring: keyring(),
        invoices,
        default_recipient,
    })
}

/// The notices the outbox holds for delivery, oldest first.
pub fn queued(state: &AppState) -> Vec<store::PendingNotice> {
    state.invoices().due_notices(u64::MAX, 1_000).unwrap()
}

/// A response, fully read.
#[derive(Debug)]
pub struct Reply {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
}

impl Reply {
    /// The body as JSON; panics with the body text when it is not JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|err| {
            panic!(
                "body is not json ({err}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8(self.body.to_vec()).unwrap()
    }

    /// The `error.code` of a JSON error body.
    pub fn error_code(&self) -> String {
        self.json()["error"]["code"].as_str().unwrap().to_owned()
    }

    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }
}

/// Sends one request through `router`.
pub async fn send(router: Router, request: Request<Body>) -> Reply {
    let response = router.oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    Reply {
        status,
        headers,
        body,
    }
}

/// A request builder with an optional bearer token.
pub fn request(method: Method, uri: &str, bearer: Option<&str>) -> axum::http::request::Builder {
    let mut builder = Request::builder().method(method).uri(uri);
    if let Some(token) = bearer {
        builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    builder
}

/// A bodiless admin request with the admin token.
pub fn admin(method: Method, uri: &str) -> Request<Body> {
    request(method, uri, Some(ADMIN_TOKEN))
        .body(Body::empty())
        .unwrap()
}

/// A JSON POST with `bearer`.
pub fn post_json(uri: &str, bearer: Option<&str>, body: &serde_json::Value) -> Request<Body> {
    request(Method::POST, uri, bearer)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}
