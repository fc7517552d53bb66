//! Reading the layers from disk and the environment, and building a [`Snapshot`] from them.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use sha2::{Digest, Sha256};

use crate::error::{ConfigError, Layer, Origin};
use crate::limits::Limits;
use crate::rules;
use crate::snapshot::{Snapshot, SourceInfo};
use crate::tree::{self, Kind, Node};

/// The default name of the variable that switches `gray/*.toml` on.
pub const DEFAULT_GRAY_SWITCH_VAR: &str = "ENABLE_GRAY_CONFIG";
/// The default prefix of environment overrides (`APP__SECTION__KEY`).
pub const DEFAULT_ENV_PREFIX: &str = "APP";
/// The variable holding instance labels (`env=prod,zone=cn-east,canary=true`).
pub const INSTANCE_LABELS_VAR: &str = "INSTANCE_LABELS";

/// Everything a load needs. The environment is a snapshot passed in, so loading never reads the
/// process environment by itself.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    /// The config directory holding `base.toml`, `{ENV}.toml` and `gray/`.
    pub dir: PathBuf,
    /// The environment's name (`staging`, `prod`); `None` loads no environment file.
    pub env: Option<String>,
    /// The variable that switches `gray/*.toml` on (`true`/`1`); unset means off.
    pub gray_switch_var: String,
    /// The prefix of override variables: `{prefix}__SECTION__KEY`.
    pub env_prefix: String,
    /// The environment variables to use: overrides, the gray switch, `INSTANCE_LABELS` and the
    /// variables named by rules' `env` conditions.
    pub vars: HashMap<String, String>,
    /// The versions this build contains, per routed dimension (`billing → ["v1", "v2"]`). A rule
    /// or default that routes elsewhere is a load error.
    pub available_routes: BTreeMap<String, Vec<String>>,
    /// Caps on file size, keys, rules, conditions and depth.
    pub limits: Limits,
    /// The top-level tables a `gray/*.toml` fragment may set (`["gray"]`); any other is a
    /// load error. `None` (the default) allows any. A service that reads its other sections only
    /// at start sets this, so a key that could not take effect on reload is refused.
    pub fragment_sections: Option<Vec<String>>,
    /// Gray fragments held elsewhere (a key-value store, say), merged after `gray/*.toml` in the
    /// order the source gives them, exactly like files of that layer. `None` (the default) adds
    /// none. Read at every load, only when the gray switch is on.
    pub fragment_source: Option<Arc<dyn FragmentSource>>,
}

/// One gray fragment held in memory by a [`FragmentSource`].
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Fragment {
    /// Its name as provenance shows it (`etcd:/graywork/gateway/gray/a.toml@42`); errors name it
    /// as they name a file.
    pub name: String,
    /// Its TOML text.
    pub text: String,
}

/// Supplies extra gray fragments to every load ([`LoadOptions::fragment_source`]). It hands out
/// what it holds and does no I/O of its own: fetching (and its failures) belong to whoever fills
/// it, so a load never waits on a network.
pub trait FragmentSource: Send + Sync + std::fmt::Debug {
    /// The fragments to merge, in merge order.
    fn fragments(&self) -> Vec<Fragment>;
}

impl LoadOptions {
    /// Options for `dir` with the default variable names, no environment name, no variables and
    /// no routes.
    pub fn new(dir: impl Into<PathBuf>) -> LoadOptions {
        LoadOptions {
            dir: dir.into(),
            env: None,
            gray_switch_var: DEFAULT_GRAY_SWITCH_VAR.to_owned(),
            env_prefix: DEFAULT_ENV_PREFIX.to_owned(),
            vars: HashMap::new(),
            available_routes: BTreeMap::new(),
            limits: Limits::default(),
            fragment_sections: None,
            fragment_source: None,
        }
    }

    /// Options for `dir` with the process environment as `vars` and `env` taken from `ENV`.
    /// Variables that are not valid UTF-8 are skipped.
    pub fn from_process_env(dir: impl Into<PathBuf>) -> LoadOptions {
        let vars: HashMap<String, String> = std::env::vars_os()
            .filter_map(|(name, value)| Some((name.into_string().ok()?, value.into_string().ok()?)))
            .collect();
        let env = vars.get("ENV").filter(|name| !name.is_empty()).cloned();
        LoadOptions {
            env,
            vars,
            ..LoadOptions::new(dir)
        }
    }

    /// These options with `dimension` routable to `versions`.
    pub fn with_routes(mut self, dimension: &str, versions: &[&str]) -> LoadOptions {
        self.available_routes.insert(
            dimension.to_owned(),
            versions.iter().map(|v| (*v).to_owned()).collect(),
        );
        self
    }

    /// These options with variable `name` set to `value`.
    pub fn with_var(mut self, name: &str, value: &str) -> LoadOptions {
        self.vars.insert(name.to_owned(), value.to_owned());
        self
    }

    /// These options with the environment `env`.
    pub fn with_env(mut self, env: &str) -> LoadOptions {
        self.env = Some(env.to_owned());
        self
    }

    /// These options with gray fragments limited to the top-level tables `sections`.
    pub fn with_fragment_sections(mut self, sections: &[&str]) -> LoadOptions {
        self.fragment_sections = Some(sections.iter().map(|s| (*s).to_owned()).collect());
        self
    }

    /// These options with extra gray fragments from `source`, merged after `gray/*.toml`.
    pub fn with_fragment_source(mut self, source: Arc<dyn FragmentSource>) -> LoadOptions {
        self.fragment_source = Some(source);
        self
    }

    /// These options with `limits`.
    pub fn with_limits(mut self, limits: Limits) -> LoadOptions {
        self.limits = limits;
        self
    }

    /// Whether the gray switch is on in `vars`.
    pub fn gray_switch(&self) -> Result<bool, ConfigError> {
        match self.vars.get(&self.gray_switch_var) {
            None => Ok(false),
            Some(value) => match value.trim().to_ascii_lowercase().as_str() {
                "true" | "1" => Ok(true),
                "false" | "0" | "" => Ok(false),
                _ => Err(ConfigError::GraySwitch {
                    var: self.gray_switch_var.clone(),
                    value: value.clone(),
                }),
            },
        }
    }
}

/// One TOML document of one layer, already in memory.
#[derive(Clone, Copy, Debug)]
pub struct Document<'a> {
    /// Its layer.
    pub layer: Layer,
    /// Its name as shown in provenance (`base.toml`, `gray/billing-v2.toml`).
    pub name: &'a str,
    /// Its text.
    pub text: &'a str,
}

/// Reads every layer under `options.dir`, merges, validates and compiles them.
///
/// The snapshot's generation is 0; a [`crate::Store`] numbers the snapshots it serves.
pub fn load(options: &LoadOptions) -> Result<Snapshot, ConfigError> {
    let files = read_layers(options)?;
    let documents: Vec<Document<'_>> = files
        .iter()
        .map(|(layer, name, text)| Document {
            layer: *layer,
            name,
            text,
        })
        .collect();
    load_documents(&documents, options)
}

/// Reads the layer files: base, the named environment, and (with the gray switch on) `gray/*.toml`
/// in file-name order, then the fragments of `options.fragment_source`.
///
/// Bytes count against `max_total_bytes` as they are read: a file is read only up to what is
/// left of the budget, so a config over it is refused without ever holding more than the
/// budget, and the error names the largest inputs.
fn read_layers(options: &LoadOptions) -> Result<Vec<(Layer, String, String)>, ConfigError> {
    let gray_on = options.gray_switch()?;
    let limits = &options.limits;
    let mut planned = vec![PlannedFile {
        layer: Layer::Base,
        shown: "base.toml".to_owned(),
        path: options.dir.join("base.toml"),
        required: true,
    }];
    if let Some(env) = &options.env {
        let valid = !env.is_empty()
            && env
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !valid {
            return Err(ConfigError::InvalidEnvName { env: env.clone() });
        }
        let shown = format!("{env}.toml");
        planned.push(PlannedFile {
            layer: Layer::Environment,
            path: options.dir.join(&shown),
            shown,
            required: true,
        });
    }
    if gray_on {
        for name in gray_file_names(&options.dir.join("gray"))? {
            planned.push(PlannedFile {
                layer: Layer::Gray,
                path: options.dir.join("gray").join(&name),
                shown: format!("gray/{name}"),
                required: false,
            });
        }
    }
    let fragments = match (&options.fragment_source, gray_on) {
        (Some(source), true) => source.fragments(),
        _ => Vec::new(),
    };

    let mut budget = Budget::new(limits.max_total_bytes);
    let mut files = Vec::new();
    for (index, file) in planned.iter().enumerate() {
        match read_config_file(
            &file.path,
            &file.shown,
            limits.max_file_bytes,
            budget.left(),
        )? {
            ReadFile::Text(text) => {
                budget.spend(&file.shown, text.len() as u64);
                files.push((file.layer, file.shown.clone(), text));
            }
            // Listed a moment ago; a fragment removed since is simply no longer a layer.
            ReadFile::Missing if !file.required => {}
            ReadFile::Missing => {
                return Err(match file.layer {
                    Layer::Environment => ConfigError::MissingEnvFile {
                        env: options.env.clone().unwrap_or_default(),
                        path: file.path.clone(),
                    },
                    _ => ConfigError::MissingBase {
                        path: file.path.clone(),
                    },
                });
            }
            ReadFile::OverBudget(bytes) => {
                // Name the whole picture: what was read, this file, and the sizes of the inputs
                // not read (from their metadata; nothing more is read).
                budget.spend(&file.shown, bytes);
                for later in &planned[index + 1..] {
                    if let Ok(metadata) = std::fs::metadata(&later.path)
                        && metadata.is_file()
                    {
                        budget.spend(&later.shown, metadata.len());
                    }
                }
                for fragment in &fragments {
                    budget.spend(&fragment.name, fragment.text.len() as u64);
                }
                return Err(budget.exceeded(&file.shown));
            }
        }
    }
    let mut fragments = fragments.into_iter();
    while let Some(fragment) = fragments.next() {
        let bytes = fragment.text.len() as u64;
        budget.spend(&fragment.name, bytes);
        if budget.is_over() {
            for later in fragments {
                budget.spend(&later.name, later.text.len() as u64);
            }
            return Err(budget.exceeded(&fragment.name));
        }
        files.push((Layer::Gray, fragment.name, fragment.text));
    }
    Ok(files)
}

/// A config file a load means to read.
struct PlannedFile {
    layer: Layer,
    /// Its name relative to the config directory, as provenance shows it.
    shown: String,
    path: PathBuf,
    /// Whether its absence is an error (base and the named environment) or means "no layer".
    required: bool,
}

/// The `*.toml` names in the gray directory, sorted; none when it does not exist.
fn gray_file_names(gray_dir: &Path) -> Result<Vec<String>, ConfigError> {
    let entries = match std::fs::read_dir(gray_dir) {
        Ok(entries) => entries,
        // A missing gray directory is the same as an empty one.
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(ConfigError::Io {
                path: gray_dir.to_owned(),
                source,
            });
        }
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| ConfigError::Io {
            path: gray_dir.to_owned(),
            source,
        })?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        // Hidden files are editor and ConfigMap artefacts (`..data`, `.x.toml.swp`), not layers.
        // Directories are not layers whatever their name; anything else named `*.toml` is
        // read, so a FIFO or device there is an error rather than silently skipped.
        if name.ends_with(".toml") && !name.starts_with('.') && !entry.path().is_dir() {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

/// A total over every input of a load (bytes, or rules), with what each input added, so an
/// error can name the largest.
struct Budget {
    max: u64,
    total: u64,
    spent: Vec<(String, u64)>,
}

impl Budget {
    fn new(max: u64) -> Budget {
        Budget {
            max,
            total: 0,
            spent: Vec::new(),
        }
    }

    fn left(&self) -> u64 {
        self.max.saturating_sub(self.total)
    }

    fn is_over(&self) -> bool {
        self.total > self.max
    }

    fn spend(&mut self, name: &str, amount: u64) {
        self.total = self.total.saturating_add(amount);
        self.spent.push((name.to_owned(), amount));
    }

    /// The `max_total_bytes` error, named after `file`, the input that went over.
    fn exceeded(self, file: &str) -> ConfigError {
        let sources = self.spent.len();
        ConfigError::LimitExceeded {
            file: file.to_owned(),
            limit: "max_total_bytes",
            what: format!(
                "{sources} sources totalling {} bytes (largest: {})",
                self.total,
                largest(self.spent, "bytes")
            ),
            max: self.max,
        }
    }
}

/// The three largest of `amounts`, largest first: `gray/a.toml 4194304 bytes, base.toml 12 bytes`.
fn largest(mut amounts: Vec<(String, u64)>, unit: &str) -> String {
    // Stable, so equal amounts keep their merge order.
    amounts.sort_by_key(|(_, amount)| std::cmp::Reverse(*amount));
    amounts
        .iter()
        .take(3)
        .map(|(name, amount)| format!("{name} {amount} {unit}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What [`read_config_file`] found.
enum ReadFile {
    /// The file does not exist.
    Missing,
    /// Its whole text.
    Text(String),
    /// It holds more than was left of the total budget (at least this many bytes); it was not
    /// read past that.
    OverBudget(u64),
}

/// Reads one config file: [`ReadFile::Missing`] when it does not exist, an error when it is not
/// a regular file (a FIFO or device could block a reload forever or never end) or larger than
/// `max_bytes`, and [`ReadFile::OverBudget`] when it holds more than `budget_left`. The read
/// itself is bounded too, so a file that grows while it is read cannot exceed either.
///
/// The file is opened first and judged by what was opened (`fstat`), never by a check of the
/// path beforehand: a FIFO swapped in between a check and the open would block the open until a
/// writer came, wedging the reload thread.
fn read_config_file(
    path: &Path,
    shown: &str,
    max_bytes: u64,
    budget_left: u64,
) -> Result<ReadFile, ConfigError> {
    let io = |source: std::io::Error| ConfigError::Io {
        path: path.to_owned(),
        source,
    };
    // Opening follows symlinks, so a ConfigMap's link to a regular file is fine.
    let mut file = match open_without_blocking(path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(ReadFile::Missing),
        Err(source) => return Err(io(source)),
    };
    let metadata = file.metadata().map_err(io)?;
    if metadata.is_dir() {
        // Reported as the system reports reading a directory ("Is a directory").
        let error = std::io::Read::read(&mut file, &mut [0u8; 1])
            .err()
            .unwrap_or_else(|| std::io::ErrorKind::IsADirectory.into());
        return Err(io(error));
    }
    if !metadata.is_file() {
        return Err(ConfigError::NotRegularFile {
            path: path.to_owned(),
        });
    }
    let too_large = |bytes: u64| ConfigError::LimitExceeded {
        file: shown.to_owned(),
        limit: "max_file_bytes",
        what: format!("{bytes} bytes"),
        max: max_bytes,
    };
    if metadata.len() > max_bytes {
        return Err(too_large(metadata.len()));
    }
    if metadata.len() > budget_left {
        return Ok(ReadFile::OverBudget(metadata.len()));
    }
    let cap = max_bytes.min(budget_left);
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut std::io::Read::take(file, cap + 1), &mut bytes).map_err(io)?;
    let length = bytes.len() as u64;
    if length > max_bytes {
        return Err(too_large(length));
    }
    if length > budget_left {
        return Ok(ReadFile::OverBudget(length));
    }
    String::from_utf8(bytes)
        .map(ReadFile::Text)
        .map_err(|error| io(std::io::Error::new(std::io::ErrorKind::InvalidData, error)))
}

/// Opens `path` for reading without waiting for anything: with `O_NONBLOCK`, opening a FIFO
/// returns at once instead of waiting for a writer, and `O_NOCTTY` keeps a terminal from
/// becoming the process's controlling terminal. Reads of a regular file ignore `O_NONBLOCK`, so
/// the flag need not be cleared before reading one.
fn open_without_blocking(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(
        &mut options,
        libc::O_NONBLOCK | libc::O_NOCTTY,
    );
    options.open(path)
}

/// Merges in-memory `documents` (in increasing precedence) with the environment overrides and
/// instance labels from `options.vars`, then validates and compiles the rules. `options.dir`,
/// `options.env` and the gray switch are not used: the caller chose the documents.
pub fn load_documents(
    documents: &[Document<'_>],
    options: &LoadOptions,
) -> Result<Snapshot, ConfigError> {
    let first_name = documents.first().map_or("base.toml", |doc| doc.name);
    let mut root = Node::empty_table(Origin::file(Layer::Base, Arc::from(first_name), 1));
    let mut path = String::new();
    let mut sources = Vec::with_capacity(documents.len());
    let mut hasher = Sha256::new();
    let limits = &options.limits;
    check_budgets(documents, options)?;
    let mut keys = 0u64;
    for doc in documents {
        if doc.text.len() as u64 > limits.max_file_bytes {
            return Err(ConfigError::LimitExceeded {
                file: doc.name.to_owned(),
                limit: "max_file_bytes",
                what: format!("{} bytes", doc.text.len()),
                max: limits.max_file_bytes,
            });
        }
        let node = tree::parse_document(doc.layer, doc.name, doc.text)?;
        if doc.layer == Layer::Gray
            && let Some(allowed) = &options.fragment_sections
            && let Some((key, child)) = node
                .as_table()
                .and_then(|table| table.iter().find(|(key, _)| !allowed.contains(key)))
        {
            return Err(ConfigError::FragmentKey {
                origin: child.origin().clone(),
                key: key.clone(),
            });
        }
        let (count, depth) = node.measure();
        if depth > limits.max_depth {
            return Err(ConfigError::LimitExceeded {
                file: doc.name.to_owned(),
                limit: "max_depth",
                what: format!("nesting depth {depth}"),
                max: limits.max_depth,
            });
        }
        keys += count;
        if keys > limits.max_keys {
            return Err(ConfigError::LimitExceeded {
                file: doc.name.to_owned(),
                limit: "max_keys",
                what: format!("{keys} keys up to and including this file"),
                max: limits.max_keys,
            });
        }
        tree::merge(&mut root, node, &mut path)?;
        sources.push(SourceInfo {
            layer: doc.layer,
            name: doc.name.to_owned(),
            bytes: doc.text.len(),
        });
        hash_item(&mut hasher, doc.layer.as_str(), doc.name, doc.text);
    }

    let overrides = env_overrides(options)?;
    for (var, node) in overrides {
        tree::merge(&mut root, node, &mut path)?;
        let value = options.vars.get(&var).map_or("", String::as_str);
        sources.push(SourceInfo {
            layer: Layer::Override,
            name: format!("env:{var}"),
            bytes: value.len(),
        });
        hash_item(&mut hasher, "override", &var, value);
    }

    let mut section = rules::parse_gray(&root, &options.available_routes, limits)?;
    let mut labels = std::mem::take(&mut section.labels);
    if let Some(value) = options.vars.get(INSTANCE_LABELS_VAR) {
        for (label, text) in parse_instance_labels(value)? {
            labels.insert(label, (text, Origin::env(INSTANCE_LABELS_VAR)));
        }
        sources.push(SourceInfo {
            layer: Layer::Override,
            name: format!("env:{INSTANCE_LABELS_VAR}"),
            bytes: value.len(),
        });
        hash_item(&mut hasher, "labels", INSTANCE_LABELS_VAR, value);
    }
    let compiled = rules::compile(
        &mut section,
        &labels,
        &options.vars,
        &options.available_routes,
    );
    // Rules' `env` conditions are decided at load time, so the variables they read are part of
    // the snapshot's content.
    let mut condition_vars: Vec<&str> = section
        .rules
        .iter()
        .flat_map(|rule| rule.env.iter().map(|(var, _)| var.as_str()))
        .collect();
    condition_vars.sort_unstable();
    condition_vars.dedup();
    for var in condition_vars {
        hash_item(
            &mut hasher,
            "condition",
            var,
            options.vars.get(var).map_or("\0unset", String::as_str),
        );
    }
    let content_hash = hasher
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    Ok(Snapshot {
        generation: 0,
        content_hash,
        loaded_at: SystemTime::now(),
        sources,
        root,
        labels,
        rules: section.rules,
        compiled,
    })
}

/// Checks the budgets of the whole config before any tree is built: the bytes of every input
/// (`max_total_bytes`, documents and override variables), and, from each document's
/// [`census`](crate::census) in merge order, the keys (`max_keys`, a lower bound here; the trees
/// are measured exactly later), the nesting (`max_depth`) and the gray rules (`max_rules`,
/// fragments adding up as they merge).
fn check_budgets(documents: &[Document<'_>], options: &LoadOptions) -> Result<(), ConfigError> {
    let limits = &options.limits;
    let mut bytes = Budget::new(limits.max_total_bytes);
    let mut first_over = None;
    let overrides = options
        .vars
        .iter()
        .filter(|(var, _)| {
            var.strip_prefix(&options.env_prefix)
                .is_some_and(|rest| rest.starts_with("__"))
                || *var == INSTANCE_LABELS_VAR
        })
        .map(|(var, value)| (format!("env:{var}"), value.len()));
    let inputs = documents
        .iter()
        .map(|doc| (doc.name.to_owned(), doc.text.len()))
        .chain(overrides);
    for (name, length) in inputs {
        bytes.spend(&name, length as u64);
        if bytes.is_over() && first_over.is_none() {
            first_over = Some(name);
        }
    }
    if let Some(name) = first_over {
        return Err(bytes.exceeded(&name));
    }

    let mut keys = 0u64;
    // The documents whose `gray.rules` are merged so far, with how many each adds: a lower
    // layer's array is replaced, fragments' arrays add up (as `tree::merge` does).
    let mut rules: Vec<(String, u64)> = Vec::new();
    let mut rules_layer = None;
    for doc in documents {
        let census = crate::census::census(doc.text);
        if census.depth > limits.max_depth {
            return Err(ConfigError::LimitExceeded {
                file: doc.name.to_owned(),
                limit: "max_depth",
                what: format!("nesting depth {}", census.depth),
                max: limits.max_depth,
            });
        }
        keys += census.keys;
        if keys > limits.max_keys {
            return Err(ConfigError::LimitExceeded {
                file: doc.name.to_owned(),
                limit: "max_keys",
                what: format!("{keys} keys up to and including this file"),
                max: limits.max_keys,
            });
        }
        if census.sets_rules {
            if !(doc.layer == Layer::Gray && rules_layer == Some(Layer::Gray)) {
                rules.clear();
            }
            rules_layer = Some(doc.layer);
            rules.push((doc.name.to_owned(), census.rules));
            let total: u64 = rules.iter().map(|(_, count)| count).sum();
            if total > limits.max_rules {
                return Err(ConfigError::LimitExceeded {
                    file: doc.name.to_owned(),
                    limit: "max_rules",
                    what: format!(
                        "{total} gray rules up to and including this file (most: {})",
                        largest(rules, "rules")
                    ),
                    max: limits.max_rules,
                });
            }
        }
    }
    Ok(())
}

fn hash_item(hasher: &mut Sha256, kind: &str, name: &str, text: &str) {
    for part in [kind, name, text] {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part.as_bytes());
    }
}

/// The `{prefix}__…` variables, sorted by name, each as a tree to merge.
fn env_overrides(options: &LoadOptions) -> Result<Vec<(String, Node)>, ConfigError> {
    let prefix = format!("{}__", options.env_prefix);
    let mut vars: Vec<(&String, &String)> = options
        .vars
        .iter()
        .filter(|(name, _)| name.starts_with(&prefix))
        .collect();
    vars.sort();
    let mut nodes = Vec::with_capacity(vars.len());
    for (var, value) in vars {
        let segments: Vec<String> = var[prefix.len()..]
            .split("__")
            .map(str::to_ascii_lowercase)
            .collect();
        if segments.iter().any(String::is_empty) {
            return Err(ConfigError::EnvOverride {
                var: var.clone(),
                message: format!("expected {prefix}SECTION__KEY with no empty segment"),
            });
        }
        let origin = Origin::env(var);
        let mut node = Node {
            kind: Kind::Scalar(parse_override_value(value)),
            origins: vec![origin.clone()],
        };
        for segment in segments.into_iter().rev() {
            let mut table = BTreeMap::new();
            table.insert(segment, node);
            node = Node {
                kind: Kind::Table(table),
                origins: vec![origin.clone()],
            };
        }
        nodes.push((var.clone(), node));
    }
    Ok(nodes)
}

/// A TOML scalar when the text parses as one (`8080`, `true`, `1.5`, `"quoted"`, a datetime),
/// otherwise the text itself as a string.
pub(crate) fn parse_override_value(text: &str) -> toml::Value {
    let document = format!("v = {text}");
    if let Ok(mut table) = toml::from_str::<toml::Table>(&document)
        && table.len() == 1
        && let Some(value) = table.remove("v")
        && !matches!(value, toml::Value::Array(_) | toml::Value::Table(_))
    {
        return value;
    }
    toml::Value::String(text.to_owned())
}

/// `env=prod,zone=cn-east,canary=true` → pairs. Whitespace around items is ignored; an empty
/// value is allowed (`a=`), an item without `=` or with an empty name is an error.
pub(crate) fn parse_instance_labels(text: &str) -> Result<Vec<(String, String)>, ConfigError> {
    let mut labels = Vec::new();
    for item in text
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
    {
        match item.split_once('=') {
            Some((name, value)) if !name.trim().is_empty() => {
                labels.push((name.trim().to_owned(), value.trim().to_owned()));
            }
            _ => {
                return Err(ConfigError::InstanceLabels {
                    message: format!("`{item}` is not NAME=VALUE"),
                });
            }
        }
    }
    Ok(labels)
}

#[cfg(test)]
mod tests {
    #[cfg(unix)]
    use std::os::unix::fs::FileTypeExt as _;

    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_opened_without_waiting_for_a_writer_and_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pipe.toml");
        let status = std::process::Command::new("mkfifo")
            .arg(&path)
            .status()
            .expect("run mkfifo");
        assert!(status.success());
        // Nobody ever writes to the FIFO: a blocking open would wait forever.
        let Err(error) = read_config_file(&path, "gray/pipe.toml", 1024, 1024) else {
            panic!("a FIFO was read");
        };
        assert_eq!(error.code(), "not_regular_file", "{error}");
        assert!(error.to_string().contains("pipe.toml"), "{error}");
        assert!(
            open_without_blocking(&path)
                .unwrap()
                .metadata()
                .unwrap()
                .file_type()
                .is_fifo()
        );
    }

    #[test]
    fn override_values_parse_as_toml_scalars_or_stay_strings() {
        let cases: &[(&str, toml::Value)] = &[
            ("8080", toml::Value::Integer(8080)),
            ("true", toml::Value::Boolean(true)),
            ("1.5", toml::Value::Float(1.5)),
            ("\"quoted\"", toml::Value::String("quoted".into())),
            (
                "127.0.0.1:8080",
                toml::Value::String("127.0.0.1:8080".into()),
            ),
            ("[1, 2]", toml::Value::String("[1, 2]".into())),
            ("{a = 1}", toml::Value::String("{a = 1}".into())),
            ("", toml::Value::String(String::new())),
            ("1\nx = 2", toml::Value::String("1\nx = 2".into())),
        ];
        for (text, expected) in cases {
            assert_eq!(&parse_override_value(text), expected, "{text:?}");
        }
        assert!(matches!(
            parse_override_value("1979-05-27T07:32:00Z"),
            toml::Value::Datetime(_)
        ));
    }

    #[test]
    fn instance_labels_parse_and_reject_bad_items() {
        assert_eq!(
            parse_instance_labels(" env=prod, zone=cn-east ,canary=true,").unwrap(),
            vec![
                ("env".to_owned(), "prod".to_owned()),
                ("zone".to_owned(), "cn-east".to_owned()),
                ("canary".to_owned(), "true".to_owned()),
            ]
        );
        assert!(parse_instance_labels("").unwrap().is_empty());
        for bad in ["env", "=prod", "a=1,b"] {
            let error = parse_instance_labels(bad).unwrap_err();
            assert_eq!(error.code(), "instance_labels", "{bad}");
            assert!(error.to_string().contains("INSTANCE_LABELS"), "{error}");
        }
    }

    #[test]
    fn from_process_env_snapshots_the_process_environment() {
        let options = LoadOptions::from_process_env("config");
        assert_eq!(
            options.vars.get("PATH"),
            std::env::var("PATH").ok().as_ref()
        );
        assert_eq!(
            options.env,
            std::env::var("ENV").ok().filter(|e| !e.is_empty())
        );
        assert_eq!(options.gray_switch_var, DEFAULT_GRAY_SWITCH_VAR);
        assert_eq!(options.env_prefix, DEFAULT_ENV_PREFIX);
    }

    #[test]
    fn gray_switch_accepts_booleans_and_rejects_the_rest() {
        let options = LoadOptions::new("x");
        assert!(!options.gray_switch().unwrap());
        for (value, expected) in [
            ("true", true),
            ("TRUE", true),
            ("1", true),
            ("false", false),
            ("0", false),
        ] {
            assert_eq!(
                options
                    .clone()
                    .with_var(DEFAULT_GRAY_SWITCH_VAR, value)
                    .gray_switch()
                    .unwrap(),
                expected
            );
        }
        let error = options
            .with_var(DEFAULT_GRAY_SWITCH_VAR, "yes please")
            .gray_switch()
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "environment variable ENABLE_GRAY_CONFIG=\"yes please\" is not a boolean (expected true, false, 1 or 0)"
        );
    }
}
