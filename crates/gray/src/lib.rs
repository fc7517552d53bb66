//! Layered TOML configuration with provenance, gray rules, sticky percentage bucketing and atomic
//! reload.
//!
//! Layers, lowest precedence first: `base.toml`, `{ENV}.toml`, `gray/*.toml` (only with the gray
//! switch on, in file-name order), then `APP__SECTION__KEY` environment overrides. Tables merge
//! deeply; arrays and scalars replace; a table meeting a non-table is an error naming both sources.
//! Every key remembers the layers that set it ([`Snapshot::explain`]).
//!
//! ```no_run
//! use gray::{LoadOptions, RequestView, Store};
//!
//! let options = LoadOptions::from_process_env("config").with_routes("billing", &["v1", "v2"]);
//! let store = Store::open(&options)?;
//! let snapshot = store.current();
//! let headers = [("X-Canary", "v2")];
//! let decision = snapshot.decide("billing", &RequestView { path: "/api/invoices", headers: &headers });
//! println!("{:?} because {}", decision.route, decision.reason.as_str());
//! # Ok::<(), gray::ConfigError>(())
//! ```
//!
//! Output that shows configuration values hides secrets through one rule: [`redact_value`] and
//! [`redact_str`] (secret-looking key names at any depth, passwords in URLs).
//!
//! The core knows nothing of HTTP: callers adapt their request type through [`HeaderLookup`].
//! [`Snapshot::trace`] explains a decision rule by rule, through the same evaluation as
//! [`Snapshot::decide`].
//!
//! # Features
//!
//! | Feature | Default | What it enables |
//! |---------|---------|-----------------|
//! | `http`  | no      | `gray::http`: [`HeaderLookup`] for `http::HeaderMap`, and a tower layer that decides once per request, applies a fallback policy, logs the decision and puts it in the request's extensions |
#![warn(unreachable_pub)]

mod bucket;
mod census;
mod error;
#[cfg(feature = "http")]
pub mod http;
mod limits;
mod load;
mod redact;
mod rules;
mod snapshot;
mod store;
mod tree;
mod watch;

pub use bucket::{bucket, in_rollout, murmur3_x86_32};
pub use error::{ConfigError, Layer, Origin, ValueKind};
pub use limits::Limits;
pub use load::{
    DEFAULT_ENV_PREFIX, DEFAULT_GRAY_SWITCH_VAR, Document, Fragment, FragmentSource,
    INSTANCE_LABELS_VAR, LoadOptions, load, load_documents,
};
pub use redact::{REDACTED, is_secret_path, redact_str, redact_urls, redact_value};
pub use rules::{
    BucketBy, Decision, HeaderLookup, OwnedDecision, Percentage, Reason, RequestView, Rule,
    RuleOutcome, RuleState, RuleTrace, StickyBucket, Trace,
};
pub use snapshot::{Entry, Snapshot, SourceInfo};
pub use store::{ReloadStats, Store};
pub use watch::{ConfigWatcher, watch};
