//! Gray rules: the `[gray]` schema, its validation, compilation per routed dimension, and the
//! allocation-free decision.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::bucket;
use crate::error::{ConfigError, Origin, article};
use crate::limits::Limits;
use crate::redact;
use crate::tree::{Kind, Node};

/// Looks up a request header by name.
///
/// Names are passed in lowercase; implementations must match names case-insensitively (an
/// `http::HeaderMap` does). Wrap a foreign header type in a newtype to implement this.
pub trait HeaderLookup {
    /// The value of header `lowercase_name`, if present and valid UTF-8.
    fn header(&self, lowercase_name: &str) -> Option<&str>;
}

/// A list of `(name, value)` pairs; names compare case-insensitively, the first match wins.
impl HeaderLookup for [(&str, &str)] {
    fn header(&self, lowercase_name: &str) -> Option<&str> {
        self.iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(lowercase_name))
            .map(|(_, v)| *v)
    }
}

impl<T: HeaderLookup + ?Sized> HeaderLookup for &T {
    fn header(&self, lowercase_name: &str) -> Option<&str> {
        (**self).header(lowercase_name)
    }
}

impl<const N: usize> HeaderLookup for [(&str, &str); N] {
    fn header(&self, lowercase_name: &str) -> Option<&str> {
        self.as_slice().header(lowercase_name)
    }
}

/// What a decision looks at in a request. Building one does not allocate.
#[derive(Clone, Copy)]
pub struct RequestView<'a> {
    /// The request path, e.g. `/api/invoices/7`.
    pub path: &'a str,
    /// The request headers.
    pub headers: &'a dyn HeaderLookup,
}

/// Why a decision came out the way it did, in OpenFeature's terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Reason {
    /// A rule without a percentage matched.
    TargetingMatch,
    /// A rule with a percentage matched: the request's sticky key fell inside the rollout.
    Split,
    /// No rule matched; the configured default route applies.
    Default,
    /// Gray routing is switched off (`gray.enabled = false`); the default route applies.
    Disabled,
    /// The dimension is unknown or has no default route; the caller picks its own fallback.
    Error,
}

impl Reason {
    /// The OpenFeature name: `TARGETING_MATCH`, `SPLIT`, `DEFAULT`, `DISABLED` or `ERROR`.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::TargetingMatch => "TARGETING_MATCH",
            Reason::Split => "SPLIT",
            Reason::Default => "DEFAULT",
            Reason::Disabled => "DISABLED",
            Reason::Error => "ERROR",
        }
    }
}

/// The outcome of [`crate::Snapshot::decide`]; borrows from the snapshot, so it costs no allocation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Decision<'a> {
    /// The chosen version (`"v2"`); `None` only when `reason` is [`Reason::Error`].
    pub route: Option<&'a str>,
    /// The rule that decided, if a rule matched.
    pub rule: Option<&'a str>,
    /// Why.
    pub reason: Reason,
    /// The sticky key's bucket (1..=100) when a percentage rule decided.
    pub bucket: Option<u32>,
    /// Extra explanation, e.g. `rule billing-v2-rollout: bucket_by header x-user-id missing`
    /// when a percentage rule was skipped because the request lacks its key.
    pub detail: Option<&'a str>,
}

impl Decision<'_> {
    /// The route, or `fallback` when the decision is an error.
    pub fn route_or<'b>(&self, fallback: &'b str) -> &'b str
    where
        Self: 'b,
    {
        self.route.unwrap_or(fallback)
    }
}

impl Decision<'_> {
    /// The decision with its text copied out of the snapshot, to keep beyond the snapshot's
    /// borrow: in request extensions, across tasks, in logs written later.
    pub fn to_owned_decision(&self) -> OwnedDecision {
        OwnedDecision {
            route: self.route.map(str::to_owned),
            rule: self.rule.map(str::to_owned),
            reason: self.reason,
            bucket: self.bucket,
            detail: self.detail.map(str::to_owned),
        }
    }
}

/// A [`Decision`] that owns its text; cheap to clone and `'static`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct OwnedDecision {
    /// The chosen version; `None` only when `reason` is [`Reason::Error`].
    pub route: Option<String>,
    /// The rule that decided, if a rule matched.
    pub rule: Option<String>,
    /// Why.
    pub reason: Reason,
    /// The sticky key's bucket (1..=100) when a percentage rule decided.
    pub bucket: Option<u32>,
    /// Extra explanation (see [`Decision::detail`]).
    pub detail: Option<String>,
}

/// Where a percentage rule takes its sticky key from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "from", content = "name")]
pub enum BucketBy {
    /// A request header (name stored lowercase).
    Header(String),
    /// An instance label.
    Label(String),
}

/// A percentage condition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Percentage {
    /// 0..=100.
    pub percent: u32,
    /// The sticky key.
    pub bucket_by: BucketBy,
    /// The hash group; defaults to the rule's name.
    pub group: String,
}

/// One `[[gray.rules]]` entry as parsed and validated.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Rule {
    /// Unique name.
    pub name: String,
    /// Where the rule starts.
    pub origin: Origin,
    /// `enabled = false` keeps a rule in the file but out of every decision.
    pub enabled: bool,
    /// Dimension → version, e.g. `billing → v2`.
    pub routes: Vec<(String, String)>,
    /// Instance labels that must all be equal.
    pub labels: Vec<(String, String)>,
    /// Request headers that must all be equal (names lowercase, values case-sensitive).
    pub headers: Vec<(String, String)>,
    /// A path prefix the request path must start with.
    pub path_prefix: Option<String>,
    /// Environment variables that must all be equal (checked at load time).
    pub env: Vec<(String, String)>,
    /// A sticky percentage.
    pub percentage: Option<Percentage>,
    /// Why this rule can never match on this instance (a label or environment condition fails,
    /// or a label-bucketed percentage excludes it); `None` if it can match.
    pub inactive_because: Option<String>,
}

/// The `[gray]` section, parsed.
#[derive(Clone, Debug, Default)]
pub(crate) struct GraySection {
    pub(crate) enabled: bool,
    pub(crate) defaults: Vec<(String, String)>,
    pub(crate) labels: BTreeMap<String, (String, Origin)>,
    pub(crate) rules: Vec<Rule>,
}

const GRAY_KEYS: &[&str] = &["enabled", "default", "labels", "rules"];
const RULE_KEYS: &[&str] = &[
    "name",
    "enabled",
    "route",
    "labels",
    "headers",
    "path_prefix",
    "env",
    "percent",
    "bucket_by",
    "group",
];

/// Parses and validates `[gray]` from the merged tree. Labels from `INSTANCE_LABELS` are applied
/// by the caller afterwards.
pub(crate) fn parse_gray(
    root: &Node,
    available: &BTreeMap<String, Vec<String>>,
    limits: &Limits,
) -> Result<GraySection, ConfigError> {
    let mut section = GraySection {
        enabled: true,
        ..GraySection::default()
    };
    let Some(gray) = root.as_table().and_then(|table| table.get("gray")) else {
        return Ok(section);
    };
    let table = expect_table(gray, "gray")?;
    for (key, node) in table {
        let path = format!("gray.{key}");
        match key.as_str() {
            "enabled" => section.enabled = expect_bool(node, &path)?,
            "default" => {
                for (dimension, version_node) in expect_table(node, &path)? {
                    let key = format!("{path}.{dimension}");
                    let version = expect_string(version_node, &key)?;
                    check_route(
                        available,
                        dimension,
                        &version,
                        version_node.origin().clone(),
                        &key,
                    )?;
                    section.defaults.push((dimension.clone(), version));
                }
            }
            "labels" => {
                for (label, value) in expect_table(node, &path)? {
                    let key = format!("{path}.{label}");
                    let text = expect_scalar_string(value, &key)?;
                    section
                        .labels
                        .insert(label.clone(), (text, value.origin().clone()));
                }
            }
            "rules" => section.rules = parse_rules(node, available, limits)?,
            _ => {
                return Err(ConfigError::UnknownRuleKey {
                    origin: node.origins[0].clone(),
                    key: path,
                    rule: None,
                    expected: GRAY_KEYS,
                });
            }
        }
    }
    Ok(section)
}

fn parse_rules(
    node: &Node,
    available: &BTreeMap<String, Vec<String>>,
    limits: &Limits,
) -> Result<Vec<Rule>, ConfigError> {
    let Kind::Array(items) = &node.kind else {
        return Err(invalid(
            node,
            "gray.rules",
            format!(
                "expected an array of tables, found {}",
                article(node.kind_name())
            ),
        ));
    };
    if items.len() as u64 > limits.max_rules {
        return Err(ConfigError::LimitExceeded {
            file: items[limits.max_rules as usize].origin().source.to_string(),
            limit: "max_rules",
            what: format!("{} gray rules", items.len()),
            max: limits.max_rules,
        });
    }
    let mut rules: Vec<Rule> = Vec::with_capacity(items.len());
    let mut seen: HashMap<String, Origin> = HashMap::new();
    for (index, item) in items.iter().enumerate() {
        let base = format!("gray.rules[{index}]");
        let table = expect_table(item, &base)?;
        let name_hint = table.get("name").and_then(Node::as_str).map(str::to_owned);
        for (key, value) in table {
            if !RULE_KEYS.contains(&key.as_str()) {
                return Err(ConfigError::UnknownRuleKey {
                    origin: value.origins[0].clone(),
                    key: format!("{base}.{key}"),
                    rule: name_hint,
                    expected: RULE_KEYS,
                });
            }
        }
        let rule = parse_rule(item, table, &base, available)?;
        let conditions = (rule.labels.len()
            + rule.headers.len()
            + rule.env.len()
            + usize::from(rule.path_prefix.is_some())
            + usize::from(rule.percentage.is_some())) as u64;
        if conditions > limits.max_conditions_per_rule {
            return Err(ConfigError::LimitExceeded {
                file: rule.origin.source.to_string(),
                limit: "max_conditions_per_rule",
                what: format!(
                    "rule `{}` (line {}) has {conditions} conditions",
                    rule.name,
                    rule.origin.line.unwrap_or(0)
                ),
                max: limits.max_conditions_per_rule,
            });
        }
        if let Some(first) = seen.get(&rule.name) {
            return Err(ConfigError::DuplicateRule {
                origin: rule.origin.clone(),
                first: first.clone(),
                name: rule.name,
            });
        }
        seen.insert(rule.name.clone(), rule.origin.clone());
        rules.push(rule);
    }
    Ok(rules)
}

fn parse_rule(
    item: &Node,
    table: &BTreeMap<String, Node>,
    base: &str,
    available: &BTreeMap<String, Vec<String>>,
) -> Result<Rule, ConfigError> {
    let key = |name: &str| format!("{base}.{name}");
    let Some(name_node) = table.get("name") else {
        return Err(invalid(item, base, "a rule needs a `name`".to_owned()));
    };
    let name = expect_string(name_node, &key("name"))?;
    if name.is_empty() {
        return Err(invalid(
            name_node,
            &key("name"),
            "a rule name cannot be empty".to_owned(),
        ));
    }
    let enabled = match table.get("enabled") {
        Some(node) => expect_bool(node, &key("enabled"))?,
        None => true,
    };
    let routes = match table.get("route") {
        Some(node) => {
            let mut routes = Vec::new();
            for (dimension, version) in expect_table(node, &key("route"))? {
                let route_key = format!("{}.{dimension}", key("route"));
                let text = expect_string(version, &route_key)?;
                check_route(
                    available,
                    dimension,
                    &text,
                    version.origin().clone(),
                    &route_key,
                )?;
                routes.push((dimension.clone(), text));
            }
            if routes.is_empty() {
                return Err(invalid(
                    node,
                    &key("route"),
                    "a rule must route at least one dimension".to_owned(),
                ));
            }
            routes
        }
        None => {
            return Err(invalid(
                item,
                base,
                format!("rule `{name}` needs a `route`, e.g. route = {{ billing = \"v2\" }}"),
            ));
        }
    };
    let labels = string_pairs(table.get("labels"), &key("labels"), false)?;
    let headers = string_pairs(table.get("headers"), &key("headers"), true)?;
    let env = string_pairs(table.get("env"), &key("env"), false)?;
    let path_prefix = match table.get("path_prefix") {
        Some(node) => {
            let prefix = expect_string(node, &key("path_prefix"))?;
            if !prefix.starts_with('/') {
                return Err(invalid(
                    node,
                    &key("path_prefix"),
                    format!("path prefix `{prefix}` must start with `/`"),
                ));
            }
            Some(prefix)
        }
        None => None,
    };
    let percentage = match (table.get("percent"), table.get("bucket_by")) {
        (None, None) => {
            if let Some(group) = table.get("group") {
                return Err(invalid(
                    group,
                    &key("group"),
                    "`group` needs `percent` and `bucket_by`".to_owned(),
                ));
            }
            None
        }
        (Some(node), None) => {
            return Err(invalid(
                node,
                &key("percent"),
                "`percent` needs `bucket_by` (\"header:NAME\" or \"label:NAME\")".to_owned(),
            ));
        }
        (None, Some(node)) => {
            return Err(invalid(
                node,
                &key("bucket_by"),
                "`bucket_by` needs `percent`".to_owned(),
            ));
        }
        (Some(percent_node), Some(bucket_node)) => {
            let percent = match &percent_node.kind {
                Kind::Scalar(toml::Value::Integer(p)) if (0..=100).contains(p) => *p as u32,
                Kind::Scalar(toml::Value::Integer(p)) => {
                    return Err(invalid(
                        percent_node,
                        &key("percent"),
                        format!("percent {p} is outside 0..=100"),
                    ));
                }
                _ => {
                    return Err(invalid(
                        percent_node,
                        &key("percent"),
                        format!(
                            "expected an integer 0..=100, found {}",
                            article(percent_node.kind_name())
                        ),
                    ));
                }
            };
            let spec = expect_string(bucket_node, &key("bucket_by"))?;
            let bucket_by = match spec.split_once(':') {
                Some(("header", header)) if !header.is_empty() => {
                    BucketBy::Header(header.to_ascii_lowercase())
                }
                Some(("label", label)) if !label.is_empty() => BucketBy::Label(label.to_owned()),
                _ => {
                    return Err(invalid(
                        bucket_node,
                        &key("bucket_by"),
                        format!("`{spec}` is not \"header:NAME\" or \"label:NAME\""),
                    ));
                }
            };
            let group = match table.get("group") {
                Some(node) => expect_string(node, &key("group"))?,
                None => name.clone(),
            };
            Some(Percentage {
                percent,
                bucket_by,
                group,
            })
        }
    };
    Ok(Rule {
        name,
        origin: item.origin().clone(),
        enabled,
        routes,
        labels,
        headers,
        path_prefix,
        env,
        percentage,
        inactive_because: None,
    })
}

fn check_route(
    available: &BTreeMap<String, Vec<String>>,
    dimension: &str,
    version: &str,
    origin: Origin,
    key: &str,
) -> Result<(), ConfigError> {
    match available.get(dimension) {
        Some(versions) if versions.iter().any(|v| v == version) => Ok(()),
        other => Err(ConfigError::UnavailableRoute {
            origin,
            key: key.to_owned(),
            dimension: dimension.to_owned(),
            version: version.to_owned(),
            available: other.cloned().unwrap_or_default().into_boxed_slice(),
        }),
    }
}

fn string_pairs(
    node: Option<&Node>,
    path: &str,
    lowercase_keys: bool,
) -> Result<Vec<(String, String)>, ConfigError> {
    let Some(node) = node else {
        return Ok(Vec::new());
    };
    let mut pairs = Vec::new();
    for (name, value) in expect_table(node, path)? {
        let text = expect_scalar_string(value, &format!("{path}.{name}"))?;
        let name = if lowercase_keys {
            name.to_ascii_lowercase()
        } else {
            name.clone()
        };
        pairs.push((name, text));
    }
    Ok(pairs)
}

fn invalid(node: &Node, key: &str, message: String) -> ConfigError {
    ConfigError::InvalidRule {
        origin: node.origin().clone(),
        key: key.to_owned(),
        message,
    }
}

fn expect_table<'a>(node: &'a Node, key: &str) -> Result<&'a BTreeMap<String, Node>, ConfigError> {
    node.as_table().ok_or_else(|| {
        invalid(
            node,
            key,
            format!("expected a table, found {}", article(node.kind_name())),
        )
    })
}

fn expect_string(node: &Node, key: &str) -> Result<String, ConfigError> {
    node.as_str().map(str::to_owned).ok_or_else(|| {
        invalid(
            node,
            key,
            format!("expected a string, found {}", article(node.kind_name())),
        )
    })
}

fn expect_bool(node: &Node, key: &str) -> Result<bool, ConfigError> {
    match &node.kind {
        Kind::Scalar(toml::Value::Boolean(b)) => Ok(*b),
        _ => Err(invalid(
            node,
            key,
            format!("expected a boolean, found {}", article(node.kind_name())),
        )),
    }
}

/// A string, integer or boolean, as text (`canary = true` and `canary = "true"` are the same label).
fn expect_scalar_string(node: &Node, key: &str) -> Result<String, ConfigError> {
    match &node.kind {
        Kind::Scalar(toml::Value::String(s)) => Ok(s.clone()),
        Kind::Scalar(toml::Value::Integer(i)) => Ok(i.to_string()),
        Kind::Scalar(toml::Value::Boolean(b)) => Ok(b.to_string()),
        _ => Err(invalid(
            node,
            key,
            format!(
                "expected a string, integer or boolean, found {}",
                article(node.kind_name())
            ),
        )),
    }
}

/// The rules of one dimension, compiled for fast evaluation.
#[derive(Debug)]
pub(crate) struct DimensionRules {
    pub(crate) dimension: String,
    pub(crate) default: Option<String>,
    /// The rules that can match on this instance, in evaluation order.
    pub(crate) rules: Vec<CompiledRule>,
    /// Every rule routing this dimension (disabled and inactive ones too), in file order, for
    /// [`crate::Snapshot::trace`]; `active` is the index of the rule in `rules`.
    pub(crate) all: Vec<(CompiledRule, Option<usize>)>,
    pub(crate) no_default_detail: String,
}

#[derive(Clone, Debug)]
pub(crate) struct CompiledRule {
    /// The rule's position in [`crate::Snapshot::rules`].
    source: usize,
    name: String,
    route: String,
    headers: Box<[(String, String)]>,
    path_prefix: Option<String>,
    split: Split,
    missing_key_detail: String,
}

#[derive(Clone, Debug)]
enum Split {
    None,
    /// Label-bucketed: the bucket is known at load time (`None` when the label is not set).
    Label {
        bucket: Option<u32>,
        percent: u32,
    },
    Header {
        header: String,
        // The hash state after `"{group}:"`, so a request hashes only its key.
        prefix: bucket::Murmur3,
        percent: u32,
    },
}

/// How one rule fared against one request: the conditions in evaluation order, the first that
/// failed decides the outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum RuleOutcome<'s> {
    /// Every condition holds: the rule matches.
    Matched,
    /// The request path does not start with the rule's `path_prefix`.
    PathMismatch {
        /// The prefix the rule needs.
        prefix: &'s str,
    },
    /// A header condition does not hold (absent or another value).
    HeaderMismatch {
        /// The header (lowercase).
        header: &'s str,
        /// The value the rule needs.
        want: &'s str,
    },
    /// The rule is a header-bucketed percentage and the request lacks the header.
    MissingStickyKey,
    /// The request's bucket is outside the rule's percentage.
    OutsideRollout,
}

/// The sticky key's bucket under a percentage rule, whether or not the rule's other conditions
/// hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct StickyBucket {
    /// The rule's percentage (0..=100).
    pub percent: u32,
    /// The key's bucket (1..=100); `None` when the request (or instance) has no sticky key.
    pub bucket: Option<u32>,
}

impl StickyBucket {
    /// Whether the key falls inside the rollout.
    pub fn inside(&self) -> bool {
        self.bucket.is_some_and(|bucket| bucket <= self.percent)
    }
}

/// Why a rule takes part in decisions on this instance or not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "state", content = "because")]
pub enum RuleState<'s> {
    /// The rule is evaluated for every request.
    Active,
    /// `enabled = false`.
    Disabled,
    /// A label or environment condition fails on this instance (or a label-bucketed
    /// percentage excludes it); the text says which.
    Inactive(&'s str),
}

/// One rule's part in a [`Trace`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RuleTrace<'s> {
    /// The rule's name.
    pub name: &'s str,
    /// Where the rule starts.
    pub origin: &'s Origin,
    /// The route it gives this dimension.
    pub route: &'s str,
    /// Whether it is evaluated at all.
    pub state: RuleState<'s>,
    /// How it fared against the request; `None` unless `state` is [`RuleState::Active`].
    pub outcome: Option<RuleOutcome<'s>>,
    /// The sticky key's bucket when the rule has a percentage.
    pub sticky: Option<StickyBucket>,
    /// Whether this rule made the decision (the first active rule that matched).
    pub decided: bool,
}

/// The per-rule explanation of a decision, from [`crate::Snapshot::trace`]. `decision` is exactly
/// what [`crate::Snapshot::decide`] returns for the same request: both run the same evaluation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Trace<'s> {
    /// The decision.
    pub decision: Decision<'s>,
    /// Every rule routing the dimension, in evaluation order, disabled and inactive ones too.
    pub rules: Vec<RuleTrace<'s>>,
}

/// The compiled rule set of a snapshot.
#[derive(Debug, Default)]
pub(crate) struct CompiledRules {
    pub(crate) enabled: bool,
    pub(crate) dimensions: Vec<DimensionRules>,
}

const UNKNOWN_DIMENSION: &str = "unknown dimension";

/// Marks rules that cannot match on this instance and compiles the rest per dimension.
pub(crate) fn compile(
    section: &mut GraySection,
    labels: &BTreeMap<String, (String, Origin)>,
    env: &HashMap<String, String>,
    available: &BTreeMap<String, Vec<String>>,
) -> CompiledRules {
    let mut dimensions: Vec<DimensionRules> = available
        .keys()
        .map(|dimension| DimensionRules {
            dimension: dimension.clone(),
            default: section
                .defaults
                .iter()
                .find(|(d, _)| d == dimension)
                .map(|(_, v)| v.clone()),
            rules: Vec::new(),
            all: Vec::new(),
            no_default_detail: format!(
                "no default route for {dimension}: set gray.default.{dimension}"
            ),
        })
        .collect();
    for (source, rule) in section.rules.iter_mut().enumerate() {
        rule.inactive_because = inactive_reason(rule, labels, env);
        let active = rule.enabled && rule.inactive_because.is_none();
        let (split, missing_key_detail) = match &rule.percentage {
            None => (Split::None, String::new()),
            Some(Percentage {
                percent,
                bucket_by: BucketBy::Label(label),
                group,
            }) => (
                Split::Label {
                    bucket: labels
                        .get(label)
                        .map(|(value, _)| bucket::bucket(group, value)),
                    percent: *percent,
                },
                String::new(),
            ),
            Some(Percentage {
                percent,
                bucket_by: BucketBy::Header(header),
                group,
            }) => (
                Split::Header {
                    header: header.clone(),
                    prefix: bucket::group_prefix(group),
                    percent: *percent,
                },
                format!("rule {}: bucket_by header {header} missing", rule.name),
            ),
        };
        for (dimension, route) in &rule.routes {
            if let Some(dim) = dimensions.iter_mut().find(|d| &d.dimension == dimension) {
                let compiled = CompiledRule {
                    source,
                    name: rule.name.clone(),
                    route: route.clone(),
                    headers: rule.headers.clone().into_boxed_slice(),
                    path_prefix: rule.path_prefix.clone(),
                    split: split.clone(),
                    missing_key_detail: missing_key_detail.clone(),
                };
                let position = active.then_some(dim.rules.len());
                if active {
                    dim.rules.push(compiled.clone());
                }
                dim.all.push((compiled, position));
            }
        }
    }
    CompiledRules {
        enabled: section.enabled,
        dimensions,
    }
}

fn inactive_reason(
    rule: &Rule,
    labels: &BTreeMap<String, (String, Origin)>,
    env: &HashMap<String, String>,
) -> Option<String> {
    // Diagnostics show these texts, so label and condition values go through the one
    // redaction rule, judged by the label's or variable's name.
    let shown = |name: &str, value: &'_ str| redact::redact_str(name, value).into_owned();
    for (label, want) in &rule.labels {
        match labels.get(label) {
            Some((have, _)) if have == want => {}
            Some((have, _)) => {
                return Some(format!(
                    "label {label}={}, rule needs {}",
                    shown(label, have),
                    shown(label, want)
                ));
            }
            None => {
                return Some(format!(
                    "label {label} is not set, rule needs {}",
                    shown(label, want)
                ));
            }
        }
    }
    for (var, want) in &rule.env {
        // Never the variable's value: environment variables hold secrets, and this text is
        // what diagnostics (`Snapshot::rules`, `gateway gray explain`) show.
        match env.get(var) {
            Some(have) if have == want => {}
            Some(_) => {
                return Some(format!(
                    "environment {var} does not match, rule needs {}",
                    shown(var, want)
                ));
            }
            None => {
                return Some(format!(
                    "environment {var} is not set, rule needs {}",
                    shown(var, want)
                ));
            }
        }
    }
    if let Some(Percentage {
        percent,
        bucket_by: BucketBy::Label(label),
        group,
    }) = &rule.percentage
    {
        match labels.get(label) {
            None => return Some(format!("bucket_by label {label} is not set")),
            Some((value, _)) => {
                let bucket = bucket::bucket(group, value);
                if bucket > *percent {
                    return Some(format!(
                        "label {label}={} is in bucket {bucket}, outside {percent}%",
                        shown(label, value)
                    ));
                }
            }
        }
    }
    None
}

impl Split {
    /// The request's sticky bucket under this split, or `None` for a rule without a percentage.
    /// The one place a request's bucket is computed, for decisions and traces alike.
    #[inline(always)]
    fn sticky(&self, request: &RequestView<'_>) -> Option<StickyBucket> {
        match self {
            Split::None => None,
            Split::Label { bucket, percent } => Some(StickyBucket {
                percent: *percent,
                bucket: *bucket,
            }),
            Split::Header {
                header,
                prefix,
                percent,
            } => Some(StickyBucket {
                percent: *percent,
                bucket: request
                    .headers
                    .header(header)
                    .map(|key| bucket::bucket_after_prefix(*prefix, key)),
            }),
        }
    }
}

impl CompiledRule {
    /// Evaluates the rule's request conditions in order (path, headers, percentage), stopping
    /// at the first that fails. On a match, also the reason and bucket. Never allocates.
    #[inline(always)]
    fn check<'s>(&'s self, request: &RequestView<'_>) -> (RuleOutcome<'s>, Reason, Option<u32>) {
        if let Some(prefix) = &self.path_prefix
            && !request.path.starts_with(prefix.as_str())
        {
            return (RuleOutcome::PathMismatch { prefix }, Reason::Error, None);
        }
        for (name, want) in self.headers.iter() {
            if request.headers.header(name) != Some(want.as_str()) {
                return (
                    RuleOutcome::HeaderMismatch { header: name, want },
                    Reason::Error,
                    None,
                );
            }
        }
        match self.split.sticky(request) {
            None => (RuleOutcome::Matched, Reason::TargetingMatch, None),
            Some(StickyBucket { bucket: None, .. }) => {
                (RuleOutcome::MissingStickyKey, Reason::Error, None)
            }
            Some(StickyBucket {
                bucket: Some(bucket),
                percent,
            }) if bucket > percent => (RuleOutcome::OutsideRollout, Reason::Error, None),
            Some(StickyBucket { bucket, .. }) => (RuleOutcome::Matched, Reason::Split, bucket),
        }
    }
}

impl CompiledRules {
    /// The decision for `dimension`. Never allocates.
    pub(crate) fn decide<'s>(&'s self, dimension: &str, request: &RequestView<'_>) -> Decision<'s> {
        self.evaluate(dimension, request).0
    }

    /// The decision for `dimension` with every rule's part in it. `decision` comes from the same
    /// [`CompiledRules::evaluate`] that [`CompiledRules::decide`] runs.
    pub(crate) fn trace<'s>(
        &'s self,
        dimension: &str,
        request: &RequestView<'_>,
        rules: &'s [Rule],
    ) -> Trace<'s> {
        let (decision, decided_at) = self.evaluate(dimension, request);
        let Some(dim) = self.dimension(dimension) else {
            return Trace {
                decision,
                rules: Vec::new(),
            };
        };
        let traced = dim
            .all
            .iter()
            .map(|(compiled, position)| {
                let rule = &rules[compiled.source];
                let state = if !rule.enabled {
                    RuleState::Disabled
                } else if let Some(why) = &rule.inactive_because {
                    RuleState::Inactive(why)
                } else {
                    RuleState::Active
                };
                RuleTrace {
                    name: &compiled.name,
                    origin: &rule.origin,
                    route: &compiled.route,
                    state,
                    outcome: position.map(|_| compiled.check(request).0),
                    sticky: compiled.split.sticky(request),
                    decided: position.is_some() && *position == decided_at,
                }
            })
            .collect();
        Trace {
            decision,
            rules: traced,
        }
    }

    #[inline]
    fn dimension(&self, dimension: &str) -> Option<&DimensionRules> {
        self.dimensions.iter().find(|d| d.dimension == dimension)
    }

    /// The one evaluation behind decisions and traces: the first active rule whose conditions
    /// all hold decides. Returns the decision and the index of the deciding rule in the
    /// dimension's active rules. Never allocates.
    #[inline(always)]
    fn evaluate<'s>(
        &'s self,
        dimension: &str,
        request: &RequestView<'_>,
    ) -> (Decision<'s>, Option<usize>) {
        let Some(dim) = self.dimension(dimension) else {
            return (
                Decision {
                    route: None,
                    rule: None,
                    reason: Reason::Error,
                    bucket: None,
                    detail: Some(UNKNOWN_DIMENSION),
                },
                None,
            );
        };
        let default = |reason: Reason, detail: Option<&'s str>| match &dim.default {
            Some(route) => Decision {
                route: Some(route),
                rule: None,
                reason,
                bucket: None,
                detail,
            },
            None => Decision {
                route: None,
                rule: None,
                reason: Reason::Error,
                bucket: None,
                detail: Some(&dim.no_default_detail),
            },
        };
        if !self.enabled {
            return (default(Reason::Disabled, None), None);
        }
        let mut detail: Option<&'s str> = None;
        for (index, rule) in dim.rules.iter().enumerate() {
            match rule.check(request) {
                (RuleOutcome::Matched, reason, bucket) => {
                    return (
                        Decision {
                            route: Some(&rule.route),
                            rule: Some(&rule.name),
                            reason,
                            bucket,
                            detail: None,
                        },
                        Some(index),
                    );
                }
                (RuleOutcome::MissingStickyKey, ..) => {
                    detail = detail.or(Some(&rule.missing_key_detail));
                }
                _ => {}
            }
        }
        (default(Reason::Default, detail), None)
    }
}
