//! The graywork gateway: an HTTP service that routes billing v1/v2 per request by gray rules.
//!
//! [`app`] builds the whole service as an axum [`Router`](axum::Router) from an [`AppState`];
//! `main.rs` only parses the command line, sets up logging and serves it. Tests drive [`app`] in
//! process.
//!
//! # Features
//!
//! | Feature | Default | What it enables |
//! |---------|---------|-----------------|
//! | `v1`    | yes     | billing contract v1: `/api/v1/invoices`, and `v1` as a gray route |
//! | `v2`    | yes     | billing contract v2: `/api/v2/invoices`, and `v2` as a gray route |
//! | `faults` | no     | drills and tests only: `[faults.billing.vN]` injects errors and latency into a version |
//!
//! Routes to a version the build lacks answer 404 `version_not_built`, and a gray rule routing
//! to it is a config load error.
#![warn(unreachable_pub)]

mod admin;
mod admin_auth;
mod app;
mod cli;
mod clock;
mod commands;
mod config;
mod error;
mod etcd_source;
mod extract;
#[cfg(feature = "faults")]
mod faults;
mod invoices;
mod memory;
mod metrics;
mod outbox;
mod reload;
mod routing;
mod scope;
mod server;
mod settings;
mod state;
mod storage;
mod telemetry;
mod version;

pub use crate::admin_auth::AdminToken;
pub use crate::app::{admin_app, app};
pub use crate::cli::Cli;
pub use crate::clock::unix_now;
pub use crate::commands::{default_recipient, open_store, run};
pub use crate::error::ApiError;
pub use crate::reload::{
    LiveConfig, Trigger, record as record_reload, reload, watch as watch_config,
};
pub use crate::routing::{BILLING_DIMENSION, BillingVersion};
pub use crate::scope::ApiScope;
pub use crate::settings::EtcdSettings;
pub use crate::settings::{
    AdminSettings, AuthSettings, NotificationSettings, OutboxSettings, SenderKind, ServerSettings,
    Settings, StorageSettings,
};
pub use crate::state::{AppState, StateParts};
pub use crate::telemetry::{LogFormat, init as init_telemetry};
pub use crate::version::{BILLING_VERSIONS, FEATURES};
