//! Where a value came from ([`Origin`]) and everything that can go wrong while loading ([`ConfigError`]).

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;

/// The layer a value came from, lowest precedence first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Layer {
    /// `base.toml`.
    Base,
    /// `{ENV}.toml`.
    Environment,
    /// `gray/*.toml`, loaded only when the gray switch is on.
    Gray,
    /// An `APP__SECTION__KEY` environment variable, or `INSTANCE_LABELS`.
    Override,
}

impl Layer {
    /// The layer's name as shown in provenance output.
    pub fn as_str(self) -> &'static str {
        match self {
            Layer::Base => "base",
            Layer::Environment => "environment",
            Layer::Gray => "gray",
            Layer::Override => "override",
        }
    }
}

/// The type of a configuration value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueKind {
    /// A string.
    String,
    /// An integer.
    Integer,
    /// A float.
    Float,
    /// A boolean.
    Boolean,
    /// A date and time.
    Datetime,
    /// An array.
    Array,
    /// A table.
    Table,
}

impl ValueKind {
    /// The TOML name of the type (`string`, `table`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            ValueKind::String => "string",
            ValueKind::Integer => "integer",
            ValueKind::Float => "float",
            ValueKind::Boolean => "boolean",
            ValueKind::Datetime => "datetime",
            ValueKind::Array => "array",
            ValueKind::Table => "table",
        }
    }
}

/// Where one key was set: a file and line (relative to the config directory), or an environment
/// variable.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Origin {
    /// The layer that set the key.
    pub layer: Layer,
    /// The file, relative to the config directory (`base.toml`, `gray/billing-v2.toml`), or the
    /// environment variable's name.
    #[serde(serialize_with = "serialize_str")]
    pub source: Arc<str>,
    /// The 1-based line in `source`; `None` for environment variables.
    pub line: Option<u32>,
}

fn serialize_str<S: serde::Serializer>(value: &Arc<str>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(value)
}

impl Origin {
    /// An origin in a file.
    pub fn file(layer: Layer, source: Arc<str>, line: u32) -> Origin {
        Origin {
            layer,
            source,
            line: Some(line),
        }
    }

    /// An origin in an environment variable.
    pub fn env(var: &str) -> Origin {
        Origin {
            layer: Layer::Override,
            source: Arc::from(format!("env:{var}")),
            line: None,
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}", self.source, line),
            None => f.write_str(&self.source),
        }
    }
}

/// An error while loading, validating or reading the configuration.
///
/// Every variant names the file (or environment variable), line and key where they exist; use
/// [`ConfigError::file`], [`ConfigError::line`], [`ConfigError::key`] and [`ConfigError::code`] to
/// build a structured error response.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A file or directory could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// `base.toml` does not exist.
    #[error("missing base config file {}", path.display())]
    MissingBase {
        /// The expected path.
        path: PathBuf,
    },
    /// An environment was named but its file does not exist.
    #[error("environment `{env}` is named but {} does not exist", path.display())]
    MissingEnvFile {
        /// The environment's name.
        env: String,
        /// The expected path.
        path: PathBuf,
    },
    /// The environment name is not a plain file name.
    #[error("invalid environment name `{env}`: expected letters, digits, `-` or `_`")]
    InvalidEnvName {
        /// The rejected name.
        env: String,
    },
    /// A file is not valid TOML.
    #[error("{file}:{line}:{column}: invalid toml: {message}")]
    Parse {
        /// The file, relative to the config directory.
        file: String,
        /// 1-based line.
        line: u32,
        /// 1-based column.
        column: u32,
        /// The parser's message.
        message: String,
    },
    /// A table meets a non-table value while merging layers.
    #[error(
        "key `{key}` is {} at {existing} but {} at {incoming}",
        article(existing_kind.as_str()),
        article(incoming_kind.as_str())
    )]
    TypeClash {
        /// The dotted key path.
        key: String,
        /// Where the lower layer set it.
        existing: Origin,
        /// The lower layer's value type.
        existing_kind: ValueKind,
        /// Where the higher layer set it.
        incoming: Origin,
        /// The higher layer's value type.
        incoming_kind: ValueKind,
    },
    /// An `APP__…` environment variable cannot be applied.
    #[error("environment override {var}: {message}")]
    EnvOverride {
        /// The variable's name.
        var: String,
        /// What is wrong with it.
        message: String,
    },
    /// The gray switch variable holds something other than a boolean.
    #[error("environment variable {var}={value:?} is not a boolean (expected true, false, 1 or 0)")]
    GraySwitch {
        /// The variable's name.
        var: String,
        /// Its value.
        value: String,
    },
    /// `INSTANCE_LABELS` is malformed.
    #[error("environment variable INSTANCE_LABELS: {message}")]
    InstanceLabels {
        /// What is wrong with it.
        message: String,
    },
    /// A rule, the default routes or the labels are invalid (wrong type, missing name, bad
    /// `bucket_by`, percent outside 0..=100, …).
    #[error("{origin}: key `{key}`: {message}")]
    InvalidRule {
        /// Where the offending key is.
        origin: Origin,
        /// The dotted key path.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// A rule has a key the schema does not know.
    #[error("{origin}: unknown key `{key}`{} (expected one of: {})", rule_suffix(rule), expected.join(", "))]
    UnknownRuleKey {
        /// Where the key is.
        origin: Origin,
        /// The dotted key path.
        key: String,
        /// The rule's name, if the key is in a named rule.
        rule: Option<String>,
        /// The keys allowed there.
        expected: &'static [&'static str],
    },
    /// Two rules share a name.
    #[error("{origin}: duplicate gray rule name `{name}` (first defined at {first})")]
    DuplicateRule {
        /// The second definition.
        origin: Origin,
        /// The first definition.
        first: Origin,
        /// The name.
        name: String,
    },
    /// A rule or default routes to a version this build does not contain.
    #[error("{origin}: key `{key}` routes {dimension} to `{version}`, but this build only has [{}]", available.join(", "))]
    UnavailableRoute {
        /// Where the route is.
        origin: Origin,
        /// The dotted key path.
        key: String,
        /// The routed dimension (`billing`).
        dimension: String,
        /// The requested version.
        version: String,
        /// The versions this build has for that dimension (empty if the dimension is unknown).
        available: Box<[String]>,
    },
    /// A key requested through typed access does not exist.
    #[error("missing config key `{key}`")]
    MissingKey {
        /// The dotted key path.
        key: String,
    },
    /// A value does not deserialize into the requested type.
    #[error("config key `{key}`{}: {message}", origin_suffix(origin))]
    Deserialize {
        /// The dotted key path of the offending value.
        key: String,
        /// Where the value was set, when known.
        origin: Option<Origin>,
        /// The deserializer's message.
        message: String,
    },
    /// A `gray/*.toml` fragment sets a table outside [`crate::LoadOptions::fragment_sections`].
    /// Fragments are reloaded at run time; a section read once at start would show in the
    /// merged config without taking effect.
    #[error(
        "{origin}: key `{key}` is not allowed in a gray/ fragment, which is reloaded at run time (put it in base.toml or ENV.toml)"
    )]
    FragmentKey {
        /// Where the key is.
        origin: Origin,
        /// The top-level key.
        key: String,
    },
    /// A config file is not a regular file (a FIFO, a device, a directory), so reading it could
    /// block or never end.
    #[error("{} is not a regular file; a config layer must be one", path.display())]
    NotRegularFile {
        /// The file.
        path: PathBuf,
    },
    /// A config input exceeds one of the [`crate::Limits`].
    #[error("{file}: {what} exceeds the limit of {max} (limit `{limit}`)")]
    LimitExceeded {
        /// The file (relative to the config directory) or variable that went over the limit.
        file: String,
        /// The limit's name in [`crate::Limits`] (`max_file_bytes`, `max_keys`, …).
        limit: &'static str,
        /// What was counted, e.g. `2000001 bytes` or `rule `x` has 70 conditions`.
        what: String,
        /// The limit.
        max: u64,
    },
    /// The config directory cannot be watched.
    #[error("cannot watch {}: {message}", path.display())]
    Watch {
        /// The directory.
        path: PathBuf,
        /// The watcher's message.
        message: String,
    },
}

/// `a table`, `an integer`.
pub(crate) fn article(kind: &str) -> String {
    let an = kind.starts_with(['a', 'e', 'i', 'o', 'u']);
    format!("{} {kind}", if an { "an" } else { "a" })
}

fn rule_suffix(rule: &Option<String>) -> String {
    rule.as_ref()
        .map(|name| format!(" in gray rule `{name}`"))
        .unwrap_or_default()
}

fn origin_suffix(origin: &Option<Origin>) -> String {
    origin
        .as_ref()
        .map(|origin| format!(" (set at {origin})"))
        .unwrap_or_default()
}

impl ConfigError {
    /// A stable, machine-readable code for the variant (`type_clash`, `unknown_rule_key`, …).
    pub fn code(&self) -> &'static str {
        match self {
            ConfigError::Io { .. } => "io",
            ConfigError::MissingBase { .. } => "missing_base",
            ConfigError::MissingEnvFile { .. } => "missing_env_file",
            ConfigError::InvalidEnvName { .. } => "invalid_env_name",
            ConfigError::Parse { .. } => "parse",
            ConfigError::TypeClash { .. } => "type_clash",
            ConfigError::EnvOverride { .. } => "env_override",
            ConfigError::GraySwitch { .. } => "gray_switch",
            ConfigError::InstanceLabels { .. } => "instance_labels",
            ConfigError::InvalidRule { .. } => "invalid_rule",
            ConfigError::UnknownRuleKey { .. } => "unknown_rule_key",
            ConfigError::DuplicateRule { .. } => "duplicate_rule",
            ConfigError::UnavailableRoute { .. } => "unavailable_route",
            ConfigError::MissingKey { .. } => "missing_key",
            ConfigError::Deserialize { .. } => "deserialize",
            ConfigError::Watch { .. } => "watch",
            ConfigError::NotRegularFile { .. } => "not_regular_file",
            ConfigError::FragmentKey { .. } => "fragment_key",
            ConfigError::LimitExceeded { .. } => "limit_exceeded",
        }
    }

    /// The file (relative to the config directory, or a full path for I/O errors) or
    /// environment variable the error is about, if any.
    pub fn file(&self) -> Option<String> {
        match self {
            ConfigError::Io { path, .. }
            | ConfigError::MissingBase { path }
            | ConfigError::MissingEnvFile { path, .. }
            | ConfigError::Watch { path, .. }
            | ConfigError::NotRegularFile { path } => Some(path.display().to_string()),
            ConfigError::LimitExceeded { file, .. } => Some(file.clone()),
            ConfigError::Parse { file, .. } => Some(file.clone()),
            ConfigError::TypeClash {
                incoming: origin, ..
            }
            | ConfigError::InvalidRule { origin, .. }
            | ConfigError::UnknownRuleKey { origin, .. }
            | ConfigError::DuplicateRule { origin, .. }
            | ConfigError::UnavailableRoute { origin, .. }
            | ConfigError::FragmentKey { origin, .. } => Some(origin.source.to_string()),
            ConfigError::Deserialize { origin, .. } => {
                origin.as_ref().map(|origin| origin.source.to_string())
            }
            ConfigError::EnvOverride { var, .. } | ConfigError::GraySwitch { var, .. } => {
                Some(format!("env:{var}"))
            }
            ConfigError::InstanceLabels { .. } => Some("env:INSTANCE_LABELS".to_owned()),
            ConfigError::InvalidEnvName { .. } | ConfigError::MissingKey { .. } => None,
        }
    }

    /// The 1-based line the error is about, if any.
    pub fn line(&self) -> Option<u32> {
        match self {
            ConfigError::Parse { line, .. } => Some(*line),
            ConfigError::TypeClash {
                incoming: origin, ..
            }
            | ConfigError::InvalidRule { origin, .. }
            | ConfigError::UnknownRuleKey { origin, .. }
            | ConfigError::DuplicateRule { origin, .. }
            | ConfigError::UnavailableRoute { origin, .. }
            | ConfigError::FragmentKey { origin, .. } => origin.line,
            ConfigError::Deserialize { origin, .. } => origin.as_ref().and_then(|o| o.line),
            _ => None,
        }
    }

    /// The dotted key path the error is about, if any.
    pub fn key(&self) -> Option<&str> {
        match self {
            ConfigError::TypeClash { key, .. }
            | ConfigError::InvalidRule { key, .. }
            | ConfigError::UnknownRuleKey { key, .. }
            | ConfigError::UnavailableRoute { key, .. }
            | ConfigError::FragmentKey { key, .. }
            | ConfigError::MissingKey { key }
            | ConfigError::Deserialize { key, .. } => Some(key),
            _ => None,
        }
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_stay_small_enough_to_return_by_value() {
        // Callers return `Result<_, ConfigError>` everywhere; clippy's large-error bound is 128.
        assert!(
            size_of::<ConfigError>() < 128,
            "{}",
            size_of::<ConfigError>()
        );
    }

    #[test]
    fn articles_follow_the_first_letter() {
        assert_eq!(article("integer"), "an integer");
        assert_eq!(article("table"), "a table");
    }
}
