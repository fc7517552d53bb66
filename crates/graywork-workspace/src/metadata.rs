//! The `[package.metadata.contracts]` and `[package.metadata.migrations]` tables: a typed serde
//! schema, and its validation into [`ContractMeta`] and [`MigrationMeta`].
//!
//! The schema types wrap every value in [`Shaped`], so a value of the wrong type does not stop
//! the parse: it is kept, and validation reports it with its key, beside every other problem
//! of the table. `docs/contracts.md` documents the tables.

use std::collections::BTreeMap;
use std::fmt;

use semver::VersionReq;
use serde::Deserialize;
use serde_json::Value;

/// `[package.metadata]`, as far as graywork reads it; other keys belong to other tools.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct PackageMetadata {
    /// `[package.metadata.contracts]`.
    #[serde(default)]
    contracts: Option<Shaped<ContractsTable>>,
    /// `[package.metadata.migrations]`: contract -> major -> steps.
    #[serde(default)]
    migrations: Option<Shaped<MigrationsTable>>,
    /// `[package.metadata.rollout]`: contract -> how a gray consumer rolls a new major out.
    #[serde(default)]
    rollout: Option<Shaped<BTreeMap<String, Shaped<RolloutTable>>>>,
}

/// `[package.metadata.rollout.NAME]`.
#[derive(Debug, Deserialize)]
struct RolloutTable {
    fragment: Option<Shaped<String>>,
    rule: Option<Shaped<String>>,
    reload: Option<Shaped<String>>,
    steps: Option<Shaped<Vec<Shaped<u64>>>>,
    watch: Option<Shaped<Vec<Shaped<WatchTable>>>>,
    #[serde(flatten)]
    unknown: BTreeMap<String, Value>,
}

/// One `[[package.metadata.rollout.NAME.watch]]` entry.
#[derive(Debug, Deserialize)]
struct WatchTable {
    query: Option<Shaped<String>>,
    bar: Option<Shaped<String>>,
    #[serde(flatten)]
    unknown: BTreeMap<String, Value>,
}

/// `[package.metadata.migrations]`: contract name -> major (`v2`) -> its steps.
type MigrationsTable = BTreeMap<String, Shaped<BTreeMap<String, Shaped<StepsTable>>>>;

/// `provides`: contract name -> major (`v2`) -> the feature that compiles it.
type ProvidesTable = BTreeMap<String, Shaped<BTreeMap<String, Shaped<String>>>>;

/// A value of the expected shape, or the value found instead (reported by validation).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Shaped<T> {
    /// The expected shape.
    Valid(T),
    /// Anything else, kept to name its kind in the error.
    Invalid(Value),
}

/// `[package.metadata.contracts]`.
#[derive(Debug, Deserialize)]
struct ContractsTable {
    defines: Option<Shaped<Vec<Shaped<String>>>>,
    gray: Option<Shaped<Vec<Shaped<String>>>>,
    requires: Option<Shaped<BTreeMap<String, Ranges>>>,
    provides: Option<Shaped<ProvidesTable>>,
    /// Keys the schema does not know: each is an error.
    #[serde(flatten)]
    unknown: BTreeMap<String, Value>,
}

/// `requires.NAME`: one range or an array of ranges.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Ranges {
    Many(Vec<Shaped<String>>),
    One(Shaped<String>),
}

/// `[package.metadata.migrations.NAME.vMAJOR]`.
#[derive(Debug, Deserialize)]
struct StepsTable {
    expand: Option<Shaped<String>>,
    contract: Option<Shaped<String>>,
    #[serde(flatten)]
    unknown: BTreeMap<String, Value>,
}

impl PackageMetadata {
    /// Reads the schema from a package's whole `package.metadata` value (`null` when absent).
    /// Only a document that is not a table at all fails here; everything else is judged by
    /// validation.
    pub(crate) fn from_value(metadata: &Value) -> PackageMetadata {
        if metadata.is_null() {
            return PackageMetadata::default();
        }
        // `Shaped` accepts any value below the top level, so only a non-table `metadata` can
        // fail, and cargo only ever writes a table or `null` there.
        PackageMetadata::deserialize(metadata).unwrap_or_default()
    }

    /// Validates the contracts table against the crate's `[features]`: what parsed well, and
    /// every problem.
    pub(crate) fn contracts(
        &self,
        features: &BTreeMap<String, Vec<String>>,
    ) -> (ContractMeta, Vec<ContractMetaError>) {
        let mut meta = ContractMeta::default();
        let mut errors = Vec::new();
        let table = match &self.contracts {
            None => return (meta, errors),
            Some(Shaped::Invalid(other)) => {
                errors.push(ContractMetaError::at(
                    "",
                    format!("expected a table, found {}", json_kind(other)),
                ));
                return (meta, errors);
            }
            Some(Shaped::Valid(table)) => table,
        };
        // Problems are reported in key order, the order the keys sort in.
        let mut by_key: BTreeMap<&str, Vec<ContractMetaError>> = BTreeMap::new();
        for key in table.unknown.keys() {
            by_key.entry(key).or_default().push(ContractMetaError::at(
                key,
                "unknown key (expected one of defines, requires, provides, gray)",
            ));
        }
        if let Some(defines) = &table.defines {
            meta.defines = validate_names("defines", defines, by_key.entry("defines").or_default());
        }
        if let Some(gray) = &table.gray {
            meta.gray = validate_names("gray", gray, by_key.entry("gray").or_default());
        }
        if let Some(requires) = &table.requires {
            meta.requires = validate_requires(requires, by_key.entry("requires").or_default());
        }
        if let Some(provides) = &table.provides {
            meta.provides =
                validate_provides(provides, features, by_key.entry("provides").or_default());
        }
        errors.extend(by_key.into_values().flatten());
        for name in &meta.gray {
            if !meta.requires.contains_key(name) {
                errors.push(ContractMetaError::at(
                    "gray",
                    format!("contract `{name}` is not in `requires`"),
                ));
            }
        }
        (meta, errors)
    }

    /// Validates the migrations table: what parsed well, and every problem.
    pub(crate) fn migrations(&self) -> (MigrationMeta, Vec<ContractMetaError>) {
        const TABLE: &str = "migrations";
        let mut meta = MigrationMeta::default();
        let mut errors = Vec::new();
        let table = match &self.migrations {
            None => return (meta, errors),
            Some(Shaped::Invalid(other)) => {
                errors.push(ContractMetaError::in_table(
                    TABLE,
                    "",
                    format!("expected a table, found {}", json_kind(other)),
                ));
                return (meta, errors);
            }
            Some(Shaped::Valid(table)) => table,
        };
        for (name, majors) in table {
            if !is_contract_name(name) {
                errors.push(ContractMetaError::in_table(
                    TABLE,
                    name,
                    format!(
                        "`{name}` is not a contract name (lowercase letters, digits, `_`, `-`)"
                    ),
                ));
                continue;
            }
            let majors = match majors {
                Shaped::Valid(majors) => majors,
                Shaped::Invalid(other) => {
                    errors.push(ContractMetaError::in_table(
                        TABLE,
                        name,
                        format!(
                            "expected a table of major to {{ expand, contract }}, found {}",
                            json_kind(other)
                        ),
                    ));
                    continue;
                }
            };
            let mut parsed = BTreeMap::new();
            for (major_text, steps) in majors {
                let major_key = format!("{name}.{major_text}");
                let Some(major) = parse_major(major_text) else {
                    errors.push(ContractMetaError::in_table(
                        TABLE,
                        &major_key,
                        format!("`{major_text}` is not a major version (expected `v1`, `v2`, ...)"),
                    ));
                    continue;
                };
                let steps = match steps {
                    Shaped::Valid(steps) => steps,
                    Shaped::Invalid(other) => {
                        errors.push(ContractMetaError::in_table(
                            TABLE,
                            &major_key,
                            format!(
                                "expected a table with `expand`, `contract` or both, found {}",
                                json_kind(other)
                            ),
                        ));
                        continue;
                    }
                };
                if steps.expand.is_none() && steps.contract.is_none() && steps.unknown.is_empty() {
                    errors.push(ContractMetaError::in_table(
                        TABLE,
                        &major_key,
                        "expected `expand`, `contract` or both",
                    ));
                    continue;
                }
                let mut by_step: BTreeMap<&str, ContractMetaError> = BTreeMap::new();
                for step in steps.unknown.keys() {
                    by_step.insert(
                        step,
                        ContractMetaError::in_table(
                            TABLE,
                            &format!("{major_key}.{step}"),
                            "unknown key (expected one of expand, contract)",
                        ),
                    );
                }
                let mut migrations = MajorMigrations::default();
                for (step, value, slot) in [
                    ("expand", &steps.expand, &mut migrations.expand),
                    ("contract", &steps.contract, &mut migrations.contract),
                ] {
                    let Some(value) = value else { continue };
                    let step_key = format!("{major_key}.{step}");
                    match value {
                        Shaped::Valid(migration) if is_contract_name(migration) => {
                            *slot = Some(migration.clone());
                        }
                        Shaped::Valid(migration) => {
                            by_step.insert(
                                step,
                                ContractMetaError::in_table(
                                    TABLE,
                                    &step_key,
                                    format!(
                                        "`{migration}` is not a migration name (lowercase letters, digits, `_`, `-`)"
                                    ),
                                ),
                            );
                        }
                        Shaped::Invalid(other) => {
                            by_step.insert(
                                step,
                                ContractMetaError::in_table(
                                    TABLE,
                                    &step_key,
                                    format!(
                                        "expected a migration name, found {}",
                                        json_kind(other)
                                    ),
                                ),
                            );
                        }
                    }
                }
                errors.extend(by_step.into_values());
                parsed.insert(major, migrations);
            }
            meta.contracts.insert(name.clone(), parsed);
        }
        (meta, errors)
    }
}

impl PackageMetadata {
    /// Validates the rollout table against the contracts table's `gray` list: what parsed
    /// well, and every problem.
    pub(crate) fn rollout(
        &self,
        contracts: &ContractMeta,
    ) -> (RolloutMeta, Vec<ContractMetaError>) {
        const TABLE: &str = "rollout";
        let mut meta = RolloutMeta::default();
        let mut errors = Vec::new();
        let at = |key: &str, message: String| ContractMetaError::in_table(TABLE, key, message);
        let table = match &self.rollout {
            None => return (meta, errors),
            Some(Shaped::Invalid(other)) => {
                errors.push(at(
                    "",
                    format!(
                        "expected a table of contract name to its rollout, found {}",
                        json_kind(other)
                    ),
                ));
                return (meta, errors);
            }
            Some(Shaped::Valid(table)) => table,
        };
        for (name, declared) in table {
            let declared = match declared {
                Shaped::Valid(declared) => declared,
                Shaped::Invalid(other) => {
                    errors.push(at(
                        name,
                        format!(
                            "expected a table with fragment, rule, reload, steps and watch, found {}",
                            json_kind(other)
                        ),
                    ));
                    continue;
                }
            };
            if !contracts.gray.iter().any(|gray| gray == name) {
                errors.push(at(
                    name,
                    format!("contract `{name}` is not in [package.metadata.contracts] gray"),
                ));
            }
            for key in declared.unknown.keys() {
                errors.push(at(
                    &format!("{name}.{key}"),
                    "unknown key (expected one of fragment, rule, reload, steps, watch)".to_owned(),
                ));
            }
            let mut text = |key: &str, value: &Option<Shaped<String>>| -> Option<String> {
                match value {
                    Some(Shaped::Valid(text)) => Some(text.clone()),
                    Some(Shaped::Invalid(other)) => {
                        errors.push(at(
                            &format!("{name}.{key}"),
                            format!("expected a string, found {}", json_kind(other)),
                        ));
                        None
                    }
                    None => {
                        errors.push(at(&format!("{name}.{key}"), "missing".to_owned()));
                        None
                    }
                }
            };
            let fragment = text("fragment", &declared.fragment);
            let rule = text("rule", &declared.rule);
            let reload = text("reload", &declared.reload);
            let steps = match &declared.steps {
                None => DEFAULT_ROLLOUT_STEPS.to_vec(),
                Some(Shaped::Valid(items)) => {
                    let numbers: Vec<u64> = items
                        .iter()
                        .filter_map(|item| match item {
                            Shaped::Valid(number) => Some(*number),
                            Shaped::Invalid(_) => None,
                        })
                        .collect();
                    let rises = numbers.len() == items.len()
                        && !numbers.is_empty()
                        && numbers.windows(2).all(|pair| pair[0] < pair[1])
                        && numbers.first().is_some_and(|&first| first >= 1)
                        && numbers.last() == Some(&100);
                    if rises {
                        numbers
                            .into_iter()
                            .filter_map(|n| u8::try_from(n).ok())
                            .collect()
                    } else {
                        errors.push(at(
                            &format!("{name}.steps"),
                            "expected percentages rising from at least 1 to 100, for example [1, 10, 50, 100]".to_owned(),
                        ));
                        Vec::new()
                    }
                }
                Some(Shaped::Invalid(other)) => {
                    errors.push(at(
                        &format!("{name}.steps"),
                        format!(
                            "expected an array of percentages, found {}",
                            json_kind(other)
                        ),
                    ));
                    Vec::new()
                }
            };
            let mut watch = Vec::new();
            match &declared.watch {
                None => {}
                Some(Shaped::Invalid(other)) => errors.push(at(
                    &format!("{name}.watch"),
                    format!(
                        "expected an array of {{ query, bar }}, found {}",
                        json_kind(other)
                    ),
                )),
                Some(Shaped::Valid(items)) => {
                    for (position, item) in items.iter().enumerate() {
                        let key = format!("{name}.watch[{position}]");
                        let Shaped::Valid(item) = item else {
                            errors.push(at(&key, "expected a table with query and bar".to_owned()));
                            continue;
                        };
                        for unknown in item.unknown.keys() {
                            errors.push(at(
                                &format!("{key}.{unknown}"),
                                "unknown key (expected one of query, bar)".to_owned(),
                            ));
                        }
                        let field = |value: &Option<Shaped<String>>| match value {
                            Some(Shaped::Valid(text)) => Some(text.clone()),
                            _ => None,
                        };
                        match (field(&item.query), field(&item.bar)) {
                            (Some(query), Some(bar)) => watch.push(WatchDecl { query, bar }),
                            _ => errors
                                .push(at(&key, "expected strings `query` and `bar`".to_owned())),
                        }
                    }
                }
            }
            if let (Some(fragment), Some(rule), Some(reload)) = (fragment, rule, reload) {
                meta.contracts.insert(
                    name.clone(),
                    RolloutDecl {
                        fragment,
                        rule,
                        reload,
                        steps,
                        watch,
                    },
                );
            }
        }
        (meta, errors)
    }
}

fn validate_names(
    key: &str,
    value: &Shaped<Vec<Shaped<String>>>,
    errors: &mut Vec<ContractMetaError>,
) -> Vec<String> {
    let items = match value {
        Shaped::Valid(items) => items,
        Shaped::Invalid(other) => {
            errors.push(ContractMetaError::at(
                key,
                format!(
                    "expected an array of contract names, found {}",
                    json_kind(other)
                ),
            ));
            return Vec::new();
        }
    };
    let mut names = Vec::new();
    for (position, item) in items.iter().enumerate() {
        match item {
            Shaped::Valid(name) if is_contract_name(name) => names.push(name.clone()),
            Shaped::Valid(name) => errors.push(ContractMetaError::at(
                &format!("{key}[{position}]"),
                format!("`{name}` is not a contract name (lowercase letters, digits, `_`, `-`)"),
            )),
            Shaped::Invalid(other) => errors.push(ContractMetaError::at(
                &format!("{key}[{position}]"),
                format!("expected a contract name, found {}", json_kind(other)),
            )),
        }
    }
    names
}

fn validate_requires(
    value: &Shaped<BTreeMap<String, Ranges>>,
    errors: &mut Vec<ContractMetaError>,
) -> BTreeMap<String, Vec<VersionReq>> {
    let mut requires = BTreeMap::new();
    let table = match value {
        Shaped::Valid(table) => table,
        Shaped::Invalid(other) => {
            errors.push(ContractMetaError::at(
                "requires",
                format!(
                    "expected a table of contract name to range, found {}",
                    json_kind(other)
                ),
            ));
            return requires;
        }
    };
    for (name, ranges) in table {
        let key = format!("requires.{name}");
        let items: Vec<(String, &Shaped<String>)> = match ranges {
            Ranges::Many(items) => items
                .iter()
                .enumerate()
                .map(|(position, item)| (format!("{key}[{position}]"), item))
                .collect(),
            Ranges::One(item) => vec![(key.clone(), item)],
        };
        if items.is_empty() {
            errors.push(ContractMetaError::at(&key, "expected at least one range"));
            continue;
        }
        let mut parsed = Vec::new();
        for (item_key, item) in items {
            let text = match item {
                Shaped::Valid(text) => text,
                Shaped::Invalid(other) => {
                    errors.push(ContractMetaError::at(
                        &item_key,
                        format!("expected a semver range string, found {}", json_kind(other)),
                    ));
                    continue;
                }
            };
            match VersionReq::parse(text) {
                Ok(req) => parsed.push(req),
                Err(error) => errors.push(ContractMetaError::at(
                    &item_key,
                    format!("bad semver range `{text}`: {error}"),
                )),
            }
        }
        requires.insert(name.clone(), parsed);
    }
    requires
}

fn validate_provides(
    value: &Shaped<ProvidesTable>,
    features: &BTreeMap<String, Vec<String>>,
    errors: &mut Vec<ContractMetaError>,
) -> BTreeMap<String, BTreeMap<u64, String>> {
    let mut provides = BTreeMap::new();
    let table = match value {
        Shaped::Valid(table) => table,
        Shaped::Invalid(other) => {
            errors.push(ContractMetaError::at(
                "provides",
                format!(
                    "expected a table of contract name to {{ major = feature }}, found {}",
                    json_kind(other)
                ),
            ));
            return provides;
        }
    };
    for (name, majors) in table {
        let key = format!("provides.{name}");
        let majors = match majors {
            Shaped::Valid(majors) => majors,
            Shaped::Invalid(other) => {
                errors.push(ContractMetaError::at(
                    &key,
                    format!(
                        "expected a table of major to feature, found {}",
                        json_kind(other)
                    ),
                ));
                continue;
            }
        };
        let mut parsed = BTreeMap::new();
        for (major_text, feature) in majors {
            let major_key = format!("{key}.{major_text}");
            let Some(major) = parse_major(major_text) else {
                errors.push(ContractMetaError::at(
                    &major_key,
                    format!("`{major_text}` is not a major version (expected `v1`, `v2`, ...)"),
                ));
                continue;
            };
            let feature = match feature {
                Shaped::Valid(feature) => feature,
                Shaped::Invalid(other) => {
                    errors.push(ContractMetaError::at(
                        &major_key,
                        format!("expected a feature name, found {}", json_kind(other)),
                    ));
                    continue;
                }
            };
            if !features.contains_key(feature) {
                let known: Vec<&str> = features
                    .keys()
                    .map(String::as_str)
                    .filter(|f| *f != "default")
                    .collect();
                let known = if known.is_empty() {
                    "the crate has no features".to_owned()
                } else {
                    format!("features: {}", known.join(", "))
                };
                errors.push(ContractMetaError::at(
                    &major_key,
                    format!("feature `{feature}` is not in [features] ({known})"),
                ));
                continue;
            }
            parsed.insert(major, feature.clone());
        }
        provides.insert(name.clone(), parsed);
    }
    provides
}

/// A member's `[package.metadata.contracts]` table, validated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContractMeta {
    /// Contracts this crate defines (the contract crate only).
    pub defines: Vec<String>,
    /// Contract name to the semver ranges the crate needs (one per major it consumes).
    pub requires: BTreeMap<String, Vec<VersionReq>>,
    /// Contract name to major to the cargo feature that compiles its implementation.
    pub provides: BTreeMap<String, BTreeMap<u64, String>>,
    /// Contracts whose major the crate chooses per request through gray rules.
    pub gray: Vec<String>,
}

impl ContractMeta {
    /// The feature that compiles this crate's implementation of `contract` v`major`: the one
    /// declared under `provides`, or `vMAJOR` by convention when none is.
    pub fn provider_feature(&self, contract: &str, major: u64) -> String {
        self.provides
            .get(contract)
            .and_then(|majors| majors.get(&major))
            .cloned()
            .unwrap_or_else(|| format!("v{major}"))
    }

    /// Whether the table is empty (the crate takes no part in any contract).
    pub fn is_empty(&self) -> bool {
        self.defines.is_empty()
            && self.requires.is_empty()
            && self.provides.is_empty()
            && self.gray.is_empty()
    }

    /// Parses and validates one member's table against its `[features]`.
    ///
    /// `metadata` is the package's whole `package.metadata` value (`null` when absent).
    /// Cross-crate rules (every named contract is defined somewhere) are checked by
    /// [`Workspace::from_metadata`], which sees every member.
    pub fn parse(
        metadata: &Value,
        features: &BTreeMap<String, Vec<String>>,
    ) -> Result<ContractMeta, Vec<ContractMetaError>> {
        let (meta, errors) = PackageMetadata::from_value(metadata).contracts(features);
        if errors.is_empty() {
            Ok(meta)
        } else {
            Err(errors)
        }
    }

    /// Every contract the table names, under any key, with the key that names it.
    pub fn named_contracts(&self) -> impl Iterator<Item = (&'static str, &str)> {
        let defines = self.defines.iter().map(|name| ("defines", name.as_str()));
        let requires = self.requires.keys().map(|name| ("requires", name.as_str()));
        let provides = self.provides.keys().map(|name| ("provides", name.as_str()));
        let gray = self.gray.iter().map(|name| ("gray", name.as_str()));
        defines.chain(requires).chain(provides).chain(gray)
    }
}

/// A member's `[package.metadata.migrations]` table, validated: the schema migrations that go
/// with a contract's major upgrade (a store crate declares them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MigrationMeta {
    /// Contract name to major to the migrations that go with moving to that major.
    pub contracts: BTreeMap<String, BTreeMap<u64, MajorMigrations>>,
}

/// The schema migrations that go with one major of one contract.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MajorMigrations {
    /// The expand migration: adds what the new major needs, which the old major ignores.
    pub expand: Option<String>,
    /// The contract migration: drops what only the old major used.
    pub contract: Option<String>,
}

impl MigrationMeta {
    /// Whether the table is empty (the crate declares no migrations).
    pub fn is_empty(&self) -> bool {
        self.contracts.is_empty()
    }

    /// The migrations declared for `contract` at `major`, if any.
    pub fn for_major(&self, contract: &str, major: u64) -> Option<&MajorMigrations> {
        self.contracts.get(contract)?.get(&major)
    }

    /// Parses and validates one member's table.
    ///
    /// `metadata` is the package's whole `package.metadata` value (`null` when absent).
    /// Whether each named contract is defined somewhere is checked by
    /// [`Workspace::from_metadata`], which sees every member.
    pub fn parse(metadata: &Value) -> Result<MigrationMeta, Vec<ContractMetaError>> {
        let (meta, errors) = PackageMetadata::from_value(metadata).migrations();
        if errors.is_empty() {
            Ok(meta)
        } else {
            Err(errors)
        }
    }
}

/// The percentages a rollout moves through when its declaration names none.
pub const DEFAULT_ROLLOUT_STEPS: [u8; 4] = [1, 10, 50, 100];

/// A member's `[package.metadata.rollout]` table, validated: how it rolls a contract's new
/// major out at run time. The planner renders exactly this; it knows no paths, rules or
/// metrics of its own. Every string may use `{contract}`, `{major}` (the new major) and
/// `{old}` (the major before it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RolloutMeta {
    /// Contract name to its declared rollout.
    pub contracts: BTreeMap<String, RolloutDecl>,
}

/// How one gray consumer rolls a contract's new major out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RolloutDecl {
    /// The config fragment that holds the rule, for example `config/gray/{contract}-v{major}.toml`.
    pub fragment: String,
    /// The rule whose `percent` each step sets.
    pub rule: String,
    /// How running instances reload config, for example `POST /config/reload`.
    pub reload: String,
    /// The percentages, rising to 100.
    pub steps: Vec<u8>,
    /// The queries to watch before each next step, each with its bar.
    pub watch: Vec<WatchDecl>,
}

/// One query to watch during a rollout and the bar it must meet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchDecl {
    /// The query, for example PromQL.
    pub query: String,
    /// What it must show before the next step.
    pub bar: String,
}

impl RolloutDecl {
    /// `text` with `{contract}`, `{major}` and `{old}` filled in.
    pub fn fill(text: &str, contract: &str, major: u64) -> String {
        text.replace("{contract}", contract)
            .replace("{major}", &major.to_string())
            .replace("{old}", &major.saturating_sub(1).to_string())
    }
}

/// One problem in a member's `[package.metadata.contracts]` table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key_path}: {message}")]
pub struct ContractMetaError {
    /// The key, for example `package.metadata.contracts.provides.billing.v2` or
    /// `package.metadata.migrations.billing.v2.expand`.
    pub key_path: String,
    /// What is wrong with it.
    pub message: String,
}

impl ContractMetaError {
    pub(crate) fn at(key: &str, message: impl Into<String>) -> ContractMetaError {
        ContractMetaError::in_table("contracts", key, message)
    }

    /// A problem at `key` of the `[package.metadata.TABLE]` table.
    pub(crate) fn in_table(
        table: &str,
        key: &str,
        message: impl Into<String>,
    ) -> ContractMetaError {
        let key_path = if key.is_empty() {
            format!("package.metadata.{table}")
        } else {
            format!("package.metadata.{table}.{key}")
        };
        ContractMetaError {
            key_path,
            message: message.into(),
        }
    }
}

/// Every contract-metadata problem in a workspace, each naming the crate, its manifest and key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid contract metadata:{}", render_problems(.problems))]
pub struct ContractMetaErrors {
    /// The problems, in member order.
    pub problems: Vec<CrateContractMetaError>,
}

/// A contract-metadata problem in one crate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrateContractMetaError {
    /// The crate.
    pub crate_name: String,
    /// Its `Cargo.toml`, relative to the workspace root when inside it.
    pub manifest: String,
    /// The problem.
    pub error: ContractMetaError,
}

impl fmt::Display for CrateContractMetaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "crate `{}` ({}): {}",
            self.crate_name, self.manifest, self.error
        )
    }
}

fn render_problems(problems: &[CrateContractMetaError]) -> String {
    problems
        .iter()
        .map(|problem| format!("\n  {problem}"))
        .collect()
}

/// Parses `v1`, `v2`, ...: a `v` and a positive integer without leading zeros.
pub fn parse_major(text: &str) -> Option<u64> {
    let digits = text.strip_prefix('v')?;
    if digits.is_empty() || digits.starts_with('0') || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

fn is_contract_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "a table",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn features(names: &[&str]) -> BTreeMap<String, Vec<String>> {
        names
            .iter()
            .map(|n| ((*n).to_owned(), Vec::new()))
            .collect()
    }

    fn errors(metadata: Value, feats: &[&str]) -> Vec<String> {
        match ContractMeta::parse(&metadata, &features(feats)) {
            Ok(meta) => panic!("expected errors, parsed {meta:?}"),
            Err(errors) => errors.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn parses_every_key() {
        let metadata = json!({"contracts": {
            "requires": {"billing": ["^1.2", "^2.0"], "auth": "1"},
            "provides": {"billing": {"v1": "v1", "v2": "v2"}},
            "gray": ["billing"],
        }});
        let meta = ContractMeta::parse(&metadata, &features(&["v1", "v2"])).unwrap();
        assert_eq!(meta.requires["billing"].len(), 2);
        assert_eq!(meta.requires["auth"][0], VersionReq::parse("1").unwrap());
        assert_eq!(meta.provides["billing"][&2], "v2");
        assert_eq!(meta.gray, vec!["billing".to_owned()]);
        assert!(!meta.is_empty());
    }

    #[test]
    fn absent_table_is_empty() {
        let meta = ContractMeta::parse(&Value::Null, &BTreeMap::new()).unwrap();
        assert!(meta.is_empty());
        let meta = ContractMeta::parse(&json!({"other": 1}), &BTreeMap::new()).unwrap();
        assert!(meta.is_empty());
    }

    #[test]
    fn rejects_unknown_key_bad_range_and_missing_feature() {
        let found = errors(
            json!({"contracts": {
                "provide": [],
                "requires": {"billing": "^^1"},
                "provides": {"billing": {"v2": "v2", "two": "v1", "v3": 3}},
            }}),
            &["v1"],
        );
        assert_eq!(
            found,
            vec![
                "package.metadata.contracts.provide: unknown key (expected one of defines, requires, provides, gray)",
                "package.metadata.contracts.provides.billing.two: `two` is not a major version (expected `v1`, `v2`, ...)",
                "package.metadata.contracts.provides.billing.v2: feature `v2` is not in [features] (features: v1)",
                "package.metadata.contracts.provides.billing.v3: expected a feature name, found a number",
                "package.metadata.contracts.requires.billing: bad semver range `^^1`: unexpected character '^' while parsing major version number",
            ]
        );
    }

    #[test]
    fn rejects_wrong_shapes() {
        let found = errors(
            json!({"contracts": {
                "defines": "billing",
                "gray": ["Billing", 3],
                "requires": {"billing": [1], "auth": []},
                "provides": {"billing": "v1"},
            }}),
            &[],
        );
        assert_eq!(
            found,
            vec![
                "package.metadata.contracts.defines: expected an array of contract names, found a string",
                "package.metadata.contracts.gray[0]: `Billing` is not a contract name (lowercase letters, digits, `_`, `-`)",
                "package.metadata.contracts.gray[1]: expected a contract name, found a number",
                "package.metadata.contracts.provides.billing: expected a table of major to feature, found a string",
                "package.metadata.contracts.requires.auth: expected at least one range",
                "package.metadata.contracts.requires.billing[0]: expected a semver range string, found a number",
            ]
        );
        let found = errors(json!({"contracts": 1}), &[]);
        assert_eq!(
            found,
            vec!["package.metadata.contracts: expected a table, found a number"]
        );
        let found = errors(json!({"contracts": {"requires": 1, "provides": []}}), &[]);
        assert_eq!(found.len(), 2);
    }

    #[test]
    fn gray_contract_must_be_required() {
        let found = errors(json!({"contracts": {"gray": ["billing"]}}), &[]);
        assert_eq!(
            found,
            vec!["package.metadata.contracts.gray: contract `billing` is not in `requires`"]
        );
    }

    #[test]
    fn parses_migrations() {
        let metadata = json!({"migrations": {
            "billing": {"v2": {"expand": "billing_v2_expand", "contract": "billing_v2_contract"},
                        "v3": {"expand": "billing_v3_expand"}},
        }});
        let meta = MigrationMeta::parse(&metadata).unwrap();
        let v2 = meta.for_major("billing", 2).unwrap();
        assert_eq!(v2.expand.as_deref(), Some("billing_v2_expand"));
        assert_eq!(v2.contract.as_deref(), Some("billing_v2_contract"));
        assert_eq!(meta.for_major("billing", 3).unwrap().contract, None);
        assert_eq!(meta.for_major("billing", 1), None);
        assert_eq!(meta.for_major("auth", 2), None);
        assert!(!meta.is_empty());
        assert!(MigrationMeta::parse(&Value::Null).unwrap().is_empty());
        assert!(
            MigrationMeta::parse(&json!({"contracts": {}}))
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn rejects_bad_migrations() {
        let found = |metadata: Value| -> Vec<String> {
            match MigrationMeta::parse(&metadata) {
                Ok(meta) => panic!("expected errors, parsed {meta:?}"),
                Err(errors) => errors.iter().map(ToString::to_string).collect(),
            }
        };
        assert_eq!(
            found(json!({"migrations": {
                "Billing": {},
                "auth": "v2",
                "billing": {
                    "2": {"expand": "a"},
                    "v2": {"expand": "Up", "contract": 3, "down": "x"},
                    "v3": {},
                    "v4": "b",
                },
            }})),
            vec![
                "package.metadata.migrations.Billing: `Billing` is not a contract name (lowercase letters, digits, `_`, `-`)",
                "package.metadata.migrations.auth: expected a table of major to { expand, contract }, found a string",
                "package.metadata.migrations.billing.2: `2` is not a major version (expected `v1`, `v2`, ...)",
                "package.metadata.migrations.billing.v2.contract: expected a migration name, found a number",
                "package.metadata.migrations.billing.v2.down: unknown key (expected one of expand, contract)",
                "package.metadata.migrations.billing.v2.expand: `Up` is not a migration name (lowercase letters, digits, `_`, `-`)",
                "package.metadata.migrations.billing.v3: expected `expand`, `contract` or both",
                "package.metadata.migrations.billing.v4: expected a table with `expand`, `contract` or both, found a string",
            ]
        );
        assert_eq!(
            found(json!({"migrations": ["billing"]})),
            vec!["package.metadata.migrations: expected a table, found an array"]
        );
    }

    #[test]
    fn parses_majors() {
        assert_eq!(parse_major("v1"), Some(1));
        assert_eq!(parse_major("v12"), Some(12));
        for bad in ["v0", "v01", "1", "v", "v1.0", "V1", "v-1"] {
            assert_eq!(parse_major(bad), None, "{bad}");
        }
    }

    fn rollout(metadata: Value) -> (RolloutMeta, Vec<String>) {
        let schema = PackageMetadata::from_value(&metadata);
        let (contracts, _) = schema.contracts(&BTreeMap::new());
        let (meta, errors) = schema.rollout(&contracts);
        (meta, errors.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn parses_a_declared_rollout_and_fills_placeholders() {
        let (meta, errors) = rollout(json!({
            "contracts": {"requires": {"billing": "^1"}, "gray": ["billing"]},
            "rollout": {"billing": {
                "fragment": "config/gray/{contract}-v{major}.toml",
                "rule": "r", "reload": "POST /reload",
                "watch": [{"query": "q{major}", "bar": "below v{old}'s"}],
            }},
        }));
        assert!(errors.is_empty(), "{errors:?}");
        let decl = &meta.contracts["billing"];
        assert_eq!(decl.steps, DEFAULT_ROLLOUT_STEPS);
        assert_eq!(
            RolloutDecl::fill(&decl.fragment, "billing", 2),
            "config/gray/billing-v2.toml"
        );
        assert_eq!(
            RolloutDecl::fill(&decl.watch[0].bar, "billing", 2),
            "below v1's"
        );
    }

    #[test]
    fn rejects_bad_rollouts() {
        let (_, errors) = rollout(json!({
            "contracts": {"requires": {"billing": "^1"}, "gray": ["billing"]},
            "rollout": {
                "billing": {"fragment": 3, "rule": "r", "steps": [10, 5], "watch": [{"query": "q"}], "speed": 1},
                "auth": "fast",
            },
        }));
        assert_eq!(
            errors,
            vec![
                "package.metadata.rollout.auth: expected a table with fragment, rule, reload, steps and watch, found a string",
                "package.metadata.rollout.billing.speed: unknown key (expected one of fragment, rule, reload, steps, watch)",
                "package.metadata.rollout.billing.fragment: expected a string, found a number",
                "package.metadata.rollout.billing.reload: missing",
                "package.metadata.rollout.billing.steps: expected percentages rising from at least 1 to 100, for example [1, 10, 50, 100]",
                "package.metadata.rollout.billing.watch[0]: expected strings `query` and `bar`",
            ]
        );
        let (_, errors) = rollout(json!({
            "rollout": {"billing": {"fragment": "f", "rule": "r", "reload": "x"}},
        }));
        assert_eq!(
            errors,
            vec![
                "package.metadata.rollout.billing: contract `billing` is not in [package.metadata.contracts] gray"
            ]
        );
    }
}
