//! The application state every handler shares: config, credentials, metrics, billing, the invoice store and the outbox.

use std::sync::Arc;

use auth::Keyring;
use notification::{MemoryOutbox, OutboxNotifier};
use shared::notification::v1::Recipient;

use crate::admin_auth::AdminToken;
use crate::metrics::Metrics;
use crate::settings::Settings;

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

/// The shared state behind [`AppState`].
#[derive(Debug)]
pub struct Inner {
    /// The live config.
    pub config: Arc<gray::Store>,
    /// How to read the config again on reload.
    pub load_options: gray::LoadOptions,
    /// The gateway's own sections.
    pub settings: Settings,
    /// The admin token.
    pub admin_token: AdminToken,
    /// The keys API bearer tokens are verified with.
    pub keyring: Keyring,
    /// The metrics registry.
    pub metrics: Metrics,
    /// Prices invoices; implements billing v1 and/or v2 depending on the build's features.
    pub billing: billing::Calculator,
    /// The invoice database.
    pub invoices: Arc<store::Store>,
    /// Renders invoice notices into the outbox.
    pub notifier: OutboxNotifier<Arc<MemoryOutbox>>,
    /// The outbox the notifier writes to (shared with it).
    pub outbox: Arc<MemoryOutbox>,
    /// Where invoice notices go when a create names no recipient.
    pub default_recipient: Recipient,
}

impl AppState {
    /// A state serving `parts`, with a fresh metrics registry and an empty outbox.
    pub fn new(parts: StateParts) -> Self {
        let metrics = Metrics::new();
        metrics
            .config_generation
            .set(generation_gauge(parts.config.guard().generation()));
        let outbox = Arc::new(MemoryOutbox::new());
        Self(Arc::new(Inner {
            config: parts.config,
            load_options: parts.load_options,
            settings: parts.settings,
            admin_token: parts.admin_token,
            keyring: parts.keyring,
            metrics,
            billing: billing::Calculator::new(),
            invoices: parts.invoices,
            notifier: OutboxNotifier::new(Arc::clone(&outbox)),
            outbox,
            default_recipient: parts.default_recipient,
        }))
    }
}

impl std::ops::Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// A generation as the `config_generation` gauge holds it (saturating; generations are small).
pub fn generation_gauge(generation: u64) -> i64 {
    i64::try_from(generation).unwrap_or(i64::MAX)
}
