//! One immutable, fully validated configuration: merged values with provenance, typed access and
//! compiled gray rules.

use std::collections::BTreeMap;
use std::time::SystemTime;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{ConfigError, Layer, Origin};
use crate::rules::{CompiledRules, Decision, RequestView, Rule, Trace};
use crate::tree::Node;

/// One input of a snapshot: a file or an environment variable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SourceInfo {
    /// Its layer.
    pub layer: Layer,
    /// The file relative to the config directory, or `env:NAME`.
    pub name: String,
    /// Its size in bytes.
    pub bytes: usize,
}

/// One leaf key of the merged configuration with its provenance, for `/debug/config`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Entry<'a> {
    /// The dotted key path.
    pub key: String,
    /// The value in force.
    pub value: toml::Value,
    /// Every layer that set the key, the winner last.
    pub origins: &'a [Origin],
}

/// An immutable configuration. Cheap to share behind an `Arc`; every method takes `&self`.
#[derive(Debug)]
pub struct Snapshot {
    pub(crate) generation: u64,
    pub(crate) content_hash: String,
    pub(crate) loaded_at: SystemTime,
    pub(crate) sources: Vec<SourceInfo>,
    pub(crate) root: Node,
    pub(crate) labels: BTreeMap<String, (String, Origin)>,
    pub(crate) rules: Vec<Rule>,
    pub(crate) compiled: CompiledRules,
}

impl Snapshot {
    /// The generation: 0 for a snapshot made by [`crate::load`], then 1, 2, … as a
    /// [`crate::Store`] swaps them in.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// SHA-256 (hex) over every source's layer, name and content, and the variables rules read.
    pub fn content_hash(&self) -> &str {
        &self.content_hash
    }

    /// When the snapshot was built.
    pub fn loaded_at(&self) -> SystemTime {
        self.loaded_at
    }

    /// The inputs, in increasing precedence.
    pub fn sources(&self) -> &[SourceInfo] {
        &self.sources
    }

    /// The merged configuration without provenance, built on each call: a snapshot keeps one
    /// copy of its values (the tree with provenance), not two.
    pub fn value(&self) -> toml::Table {
        match self.root.to_value() {
            toml::Value::Table(table) => table,
            _ => toml::Table::new(),
        }
    }

    /// The top-level keys (the config's sections), in order.
    pub fn sections(&self) -> impl Iterator<Item = &str> {
        self.root
            .as_table()
            .into_iter()
            .flat_map(|table| table.keys().map(String::as_str))
    }

    /// The layers that set `key` (dotted, with `[n]` for array items: `gray.rules[0].name`),
    /// lowest first, the winner last; `None` if the key does not exist.
    pub fn explain(&self, key: &str) -> Option<&[Origin]> {
        self.root.lookup(key).map(|node| node.origins.as_slice())
    }

    /// Where the value of `key` in force was set.
    pub fn origin(&self, key: &str) -> Option<&Origin> {
        self.root.lookup(key).map(Node::origin)
    }

    /// Every leaf key (scalars and arrays) in key order, with its provenance.
    pub fn entries(&self) -> Vec<Entry<'_>> {
        let mut entries = Vec::new();
        self.root
            .for_each_leaf(&mut String::new(), &mut |key, node| {
                entries.push(Entry {
                    key: key.to_owned(),
                    value: node.to_value(),
                    origins: &node.origins,
                });
            });
        entries
    }

    /// The value at `key` deserialized as `T`. Errors name the key path and where it was set.
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Result<T, ConfigError> {
        let node = self
            .root
            .lookup(key)
            .ok_or_else(|| ConfigError::MissingKey {
                key: key.to_owned(),
            })?;
        self.deserialize_node(node, key)
    }

    /// The whole configuration deserialized as `T`. Errors name the key path and where it was set.
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T, ConfigError> {
        self.deserialize_node(&self.root, "")
    }

    fn deserialize_node<T: DeserializeOwned>(
        &self,
        node: &Node,
        base: &str,
    ) -> Result<T, ConfigError> {
        serde_path_to_error::deserialize(node.to_value()).map_err(|error| {
            let mut key = base.to_owned();
            for segment in error.path().iter() {
                match segment {
                    serde_path_to_error::Segment::Seq { index } => {
                        key.push_str(&format!("[{index}]"))
                    }
                    serde_path_to_error::Segment::Map { key: name } => {
                        if !key.is_empty() {
                            key.push('.');
                        }
                        key.push_str(name);
                    }
                    serde_path_to_error::Segment::Enum { .. }
                    | serde_path_to_error::Segment::Unknown => {}
                }
            }
            let origin = self.nearest_origin(&key).cloned();
            // Serde's messages quote the offending value, and errors end up in logs and answers.
            let message = if crate::redact::is_secret_path(&key) {
                format!(
                    "the value does not fit ({} hides it: the key holds a secret)",
                    crate::redact::REDACTED
                )
            } else {
                crate::redact::redact_urls(error.inner().message()).into_owned()
            };
            ConfigError::Deserialize {
                key,
                origin,
                message,
            }
        })
    }

    /// The origin of `key`, or of its nearest existing ancestor (a missing field is reported at
    /// the table that lacks it).
    fn nearest_origin(&self, key: &str) -> Option<&Origin> {
        let mut key = key;
        loop {
            if let Some(node) = self.root.lookup(key) {
                return if key.is_empty() {
                    None
                } else {
                    Some(node.origin())
                };
            }
            let cut = key.rfind(['.', '['])?;
            key = &key[..cut];
        }
    }

    /// Decides the route of `dimension` (`"billing"`) for a request. Never allocates.
    pub fn decide(&self, dimension: &str, request: &RequestView<'_>) -> Decision<'_> {
        self.compiled.decide(dimension, request)
    }

    /// Decides like [`Snapshot::decide`] (the same evaluation, so the two cannot disagree) and
    /// also says how every rule routing `dimension` fared: whether it is active here, the first
    /// condition that failed, and the request's sticky bucket under its percentage. For
    /// diagnostics such as `gateway gray explain`; unlike `decide`, it allocates.
    pub fn trace<'s>(&'s self, dimension: &str, request: &RequestView<'_>) -> Trace<'s> {
        self.compiled.trace(dimension, request, &self.rules)
    }

    /// The rules as parsed, in evaluation order, each with why it cannot match here (if so).
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Whether gray routing is on (`gray.enabled`, default true).
    pub fn gray_enabled(&self) -> bool {
        self.compiled.enabled
    }

    /// The instance labels (config `gray.labels`, then `INSTANCE_LABELS`) with their origins.
    pub fn labels(&self) -> impl Iterator<Item = (&str, &str, &Origin)> {
        self.labels
            .iter()
            .map(|(name, (value, origin))| (name.as_str(), value.as_str(), origin))
    }

    /// The default route of every routed dimension (`None` if the config sets none).
    pub fn default_routes(&self) -> impl Iterator<Item = (&str, Option<&str>)> {
        self.compiled
            .dimensions
            .iter()
            .map(|d| (d.dimension.as_str(), d.default.as_deref()))
    }
}
