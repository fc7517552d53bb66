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
//! The crate knows nothing of HTTP: callers adapt their request type through [`HeaderLookup`].
//! It has no cargo features.

mod bucket;
mod error;
mod load;
mod rules;
mod snapshot;
mod store;
mod tree;
mod watch;

pub use bucket::{bucket, in_rollout, murmur3_x86_32};
pub use error::{ConfigError, Layer, Origin, ValueKind};
pub use load::{
    DEFAULT_ENV_PREFIX, DEFAULT_GRAY_SWITCH_VAR, Document, INSTANCE_LABELS_VAR, LoadOptions, load,
    load_documents,
};
pub use rules::{BucketBy, Decision, HeaderLookup, Percentage, Reason, RequestView, Rule};
pub use snapshot::{Entry, Snapshot, SourceInfo};
pub use store::{ReloadStats, Store};
pub use watch::{ConfigWatcher, watch};
