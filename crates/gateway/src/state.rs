//! The application state every handler shares: config, credentials, metrics, billing, the invoice
//! store, its thread pools and the outbox dispatcher's wake-up.

use std::sync::Arc;

use auth::Keyring;
use axum::extract::FromRef;
use shared::notification::v1::Recipient;

use crate::admin_auth::{AdminToken, AuthThrottle};
use crate::extract::TokenCheck;
use crate::invoices::InvoiceApi;
use crate::metrics::{Metrics, generation_gauge};
use crate::outbox::OutboxSignal;
use crate::reload::{LiveConfig, Reloader};
use crate::settings::Settings;
use crate::storage::{PROBE_QUEUE, PROBE_THREADS, StoragePool};

/// What [`AppState::new`] is built from. Everything is passed in explicitly, so tests build a
/// state without touching the process environment.
#[derive(Debug)]
pub struct StateParts {
    /// The live config (gray rules included), swapped whole on reload.
    pub config: Arc<gray::Store>,
    /// How to read the config again on reload.
    pub load_options: gray::LoadOptions,
    /// The gateway's own sections, read at start.
    pub settings: Settings,
    /// The admin token.
    pub admin_token: AdminToken,
    /// The read-only metrics token (`/metrics` only).
    pub metrics_token: AdminToken,
    /// The keys API bearer tokens are verified with.
    pub keyring: Keyring,
    /// The invoice database, already opened and migrated.
    pub invoices: Arc<store::Store>,
    /// Where invoice notices go when a create names no recipient.
    pub default_recipient: Recipient,
}

/// Cheap to clone; every clone shares the same state.
#[derive(Debug, Clone)]
pub struct AppState(Arc<Inner>);

/// The shared state behind [`AppState`]; its fields are the crate's own.
#[derive(Debug)]
pub struct Inner {
    /// The live config.
    pub(crate) config: Arc<gray::Store>,
    /// How to read the config again on reload.
    pub(crate) load_options: Arc<gray::LoadOptions>,
    /// The gateway's own sections.
    pub(crate) settings: Settings,
    /// The admin token.
    pub(crate) admin_token: AdminToken,
    /// The read-only metrics token.
    pub(crate) metrics_token: AdminToken,
    /// Failed admin and metrics authentications per client address.
    pub(crate) auth_throttle: AuthThrottle,
    /// The keys API bearer tokens are verified with, and the longest lifetime they may have left.
    pub(crate) token_check: TokenCheck,
    /// The metrics registry.
    pub(crate) metrics: Arc<Metrics>,
    /// Prices invoices; implements billing v1 and/or v2 depending on the build's features.
    pub(crate) billing: Arc<billing::Calculator>,
    /// The invoice database.
    pub(crate) invoices: Arc<store::Store>,
    /// Wakes the outbox dispatcher when a create has queued a notice.
    pub(crate) outbox_signal: Arc<OutboxSignal>,
    /// Where invoice notices go when a create names no recipient.
    pub(crate) default_recipient: Arc<Recipient>,
    /// The API's database threads (invoice reads and creates).
    pub(crate) api_storage: Arc<StoragePool>,
    /// The readiness probe's database thread, so probes and API work never wait for each
    /// other's threads or queue places.
    pub(crate) probe_storage: StoragePool,
    /// Serialises admin reloads and enforces their deadline.
    pub(crate) reloader: Arc<Reloader>,
}

impl AppState {
    /// A state serving `parts`, with a fresh metrics registry and the database thread pools
    /// `[storage]` sizes started.
    pub fn new(parts: StateParts) -> Self {
        let metrics = Arc::new(Metrics::new());
        metrics
            .config_generation
            .set(generation_gauge(parts.config.guard().generation()));
        let storage = &parts.settings.storage;
        let api_storage = Arc::new(StoragePool::start(
            "api",
            storage.worker_threads,
            storage.queue_capacity,
        ));
        let probe_storage = StoragePool::start("probe", PROBE_THREADS, PROBE_QUEUE);
        let token_check = TokenCheck {
            keyring: Arc::new(parts.keyring),
            max_ttl_seconds: parts.settings.auth.max_ttl_seconds,
        };
        Self(Arc::new(Inner {
            config: parts.config,
            load_options: Arc::new(parts.load_options),
            settings: parts.settings,
            admin_token: parts.admin_token,
            metrics_token: parts.metrics_token,
            auth_throttle: AuthThrottle::default(),
            token_check,
            metrics,
            billing: Arc::new(billing::Calculator::new()),
            invoices: parts.invoices,
            outbox_signal: Arc::default(),
            default_recipient: Arc::new(parts.default_recipient),
            reloader: Arc::default(),
            api_storage,
            probe_storage,
        }))
    }
}

/// Read access for tests and tools; handlers use the fields directly.
impl AppState {
    /// The live config.
    pub fn config(&self) -> &Arc<gray::Store> {
        &self.0.config
    }

    /// How the config is read again on reload.
    pub fn load_options(&self) -> &gray::LoadOptions {
        &self.0.load_options
    }

    /// The gateway's own sections.
    pub fn settings(&self) -> &Settings {
        &self.0.settings
    }

    /// The invoice database.
    pub fn invoices(&self) -> &Arc<store::Store> {
        &self.0.invoices
    }

    /// Where invoice notices go when a create names no recipient.
    pub fn default_recipient(&self) -> &Recipient {
        &self.0.default_recipient
    }

    /// The metrics as `/metrics` renders them (OpenMetrics text).
    pub fn metrics_text(&self) -> Result<String, std::fmt::Error> {
        self.0.metrics.render()
    }

    /// The `config_generation` gauge.
    pub fn config_generation_gauge(&self) -> i64 {
        self.0.metrics.config_generation.get()
    }
}

impl std::ops::Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// What a reload works on: the live config, how it is read, the metrics and the reload slots.
impl FromRef<AppState> for LiveConfig {
    fn from_ref(state: &AppState) -> Self {
        Self {
            config: Arc::clone(&state.config),
            load_options: Arc::clone(&state.load_options),
            metrics: Arc::clone(&state.metrics),
            reloader: Arc::clone(&state.reloader),
        }
    }
}

/// What the [`Authorized`](crate::extract::Authorized) extractor checks a bearer token with.
impl FromRef<AppState> for TokenCheck {
    fn from_ref(state: &AppState) -> Self {
        state.token_check.clone()
    }
}

/// What the invoice handlers work with.
impl FromRef<AppState> for InvoiceApi {
    fn from_ref(state: &AppState) -> Self {
        Self {
            billing: Arc::clone(&state.billing),
            invoices: Arc::clone(&state.invoices),
            storage: Arc::clone(&state.api_storage),
            default_recipient: Arc::clone(&state.default_recipient),
            outbox_signal: Arc::clone(&state.outbox_signal),
            #[cfg(feature = "faults")]
            config: Arc::clone(&state.config),
        }
    }
}
