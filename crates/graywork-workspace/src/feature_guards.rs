//! Features a crate's own source refuses: a `compile_error!` under a `#[cfg(…)]` that names
//! features, read without building anything, so that `test-matrix` and plan gates leave out the
//! feature sets that cannot build and say why.
//!
//! Four shapes, each decided by evaluating the guard's cfg for the host, with every `--cfg`
//! flag the build does not pass (such as `tokio_unstable`) off:
//! - a feature that needs a flag: `#[cfg(all(not(tokio_unstable), feature = "taskdump"))]`
//!   fires with the feature on and stops firing once the flag is on;
//! - features that exclude each other: `#[cfg(all(feature = "a", feature = "b"))]` fires only
//!   with both on;
//! - a feature refused on this host (a platform check): it fires with the feature on and no
//!   flag turns it off;
//! - features one of which must be on: `#[cfg(not(any(feature = "a", feature = "b")))]` fires
//!   with both off.
//!
//! A guard whose cfg cannot be decided here (`test`, an unknown `target_env`) refuses nothing.
//! `[package.metadata.docs.rs] rustc-args` and cargo-hack's `--mutually-exclusive-features` in
//! the workspace's workflows are read too: the first names the flags docs.rs builds with, the
//! second pairs of features the crate's CI never builds together.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

use crate::features::closure;

/// A cfg predicate as written in `#[cfg(…)]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cfg {
    /// A bare name: `unix`, `tokio_unstable`.
    Name(String),
    /// `key = "value"`: `feature = "std"`, `target_os = "linux"`.
    KeyValue(String, String),
    /// `all(…)`.
    All(Vec<Cfg>),
    /// `any(…)`.
    Any(Vec<Cfg>),
    /// `not(…)`.
    Not(Box<Cfg>),
}

/// One `compile_error!` under a cfg that names at least one feature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guard {
    /// The cfg it stands under.
    pub cfg: Cfg,
    /// Where the `compile_error!` is: `file:line`, the file relative to the workspace root.
    pub location: String,
}

/// What a crate says about which of its feature sets build.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeatureGuards {
    /// Every guard in the crate's `src/`, in file and line order.
    pub guards: Vec<Guard>,
    /// The `--cfg` flags `[package.metadata.docs.rs] rustc-args` passes.
    pub docs_rs_cfgs: Vec<String>,
    /// Groups of features the crate's CI declares mutually exclusive (cargo-hack's
    /// `--mutually-exclusive-features`), each with the workflow file that says so.
    pub exclusive_in_ci: Vec<(Vec<String>, String)>,
}

/// Why a feature set cannot build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The crate's features the refusal is about.
    pub features: Vec<String>,
    /// What refuses them.
    pub kind: RefusalKind,
    /// Where (`file:line` of the `compile_error!`), or what says so (the CI workflow).
    pub location: String,
}

/// The shape of a [`Refusal`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefusalKind {
    /// The features need these `--cfg` flags.
    NeedsCfg(Vec<String>),
    /// The features cannot be on together.
    Exclusive,
    /// The crate's CI never builds the features together.
    ExclusiveInCi,
    /// The source refuses the features on this host whatever the flags.
    Refused,
    /// The source wants one of the features on, and none is
    /// (`#[cfg(not(any(feature = "native-tls", feature = "rustls")))]`).
    NeedsOneOf,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = self
            .features
            .iter()
            .map(|feature| format!("`{feature}`"))
            .collect::<Vec<_>>()
            .join(" and ");
        match &self.kind {
            RefusalKind::NeedsCfg(flags) => {
                let flags = flags
                    .iter()
                    .map(|flag| format!("--cfg {flag}"))
                    .collect::<Vec<_>>()
                    .join(" ");
                write!(
                    f,
                    "its source refuses {names} without `{flags}` (compile_error! at {})",
                    self.location
                )
            }
            RefusalKind::ExclusiveInCi => write!(
                f,
                "{names} are mutually exclusive (--mutually-exclusive-features in {})",
                self.location
            ),
            RefusalKind::Exclusive => write!(
                f,
                "{names} are mutually exclusive (compile_error! at {})",
                self.location
            ),
            RefusalKind::Refused => write!(
                f,
                "its source refuses {names} on this host (compile_error! at {})",
                self.location
            ),
            RefusalKind::NeedsOneOf => {
                let names = self
                    .features
                    .iter()
                    .map(|feature| format!("`{feature}`"))
                    .collect::<Vec<_>>()
                    .join(" or ");
                write!(
                    f,
                    "its source needs {names} (compile_error! at {})",
                    self.location
                )
            }
        }
    }
}

impl FeatureGuards {
    /// Reads the guards of the crate in `crate_dir` (its `src/`, `[package.metadata.docs.rs]`),
    /// and the exclusive groups of the workflows under `workspace_root`, naming files relative
    /// to `workspace_root`. Unreadable files are skipped: a guard not found refuses nothing.
    pub fn read(crate_dir: &Path, workspace_root: &Path) -> FeatureGuards {
        FeatureGuards::read_with(
            crate_dir,
            workspace_root,
            &exclusive_in_workflows(workspace_root),
        )
    }

    /// [`FeatureGuards::read`] with the workflows' exclusive groups read already
    /// ([`workflow_exclusive_groups`]), for a caller reading many crates of one workspace.
    pub fn read_with(
        crate_dir: &Path,
        workspace_root: &Path,
        exclusive_in_ci: &[(Vec<String>, String)],
    ) -> FeatureGuards {
        let mut guards = Vec::new();
        let mut files = crate::files_under(&crate_dir.join("src"));
        files.sort();
        for path in files {
            if path.extension().is_none_or(|ext| ext != "rs") {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            if !text.contains("compile_error!") {
                continue;
            }
            let file = relative(workspace_root, &path);
            for (cfg, line) in guards_in(&text) {
                guards.push(Guard {
                    cfg,
                    location: format!("{file}:{line}"),
                });
            }
        }
        let docs_rs_cfgs = std::fs::read_to_string(crate_dir.join("Cargo.toml"))
            .ok()
            .map(|text| docs_rs_cfgs(&text))
            .unwrap_or_default();
        FeatureGuards {
            guards,
            docs_rs_cfgs,
            exclusive_in_ci: exclusive_in_ci.to_vec(),
        }
    }

    /// Whether the crate's source refuses to build with exactly `enabled` on (the crate's own
    /// features, after following what each turns on), and why; `None` when nothing refuses it.
    pub fn refusal(&self, enabled: &BTreeSet<String>) -> Option<Refusal> {
        for guard in &self.guards {
            if eval(&guard.cfg, enabled, &BTreeSet::new()) != Some(true) {
                continue;
            }
            let mut on: Vec<String> = features_named(&guard.cfg)
                .into_iter()
                .filter(|feature| enabled.contains(feature))
                .collect();
            on.dedup();
            let flags: Vec<String> = flags_named(&guard.cfg)
                .into_iter()
                .filter(|flag| {
                    eval(&guard.cfg, enabled, &BTreeSet::from([flag.clone()])) == Some(false)
                })
                .collect();
            if on.is_empty() && flags.is_empty() {
                // It fires for features that are off: it wants one of them.
                let mut wanted = features_named(&guard.cfg);
                wanted.sort();
                wanted.dedup();
                return Some(Refusal {
                    features: wanted,
                    kind: RefusalKind::NeedsOneOf,
                    location: guard.location.clone(),
                });
            }
            let kind = if !flags.is_empty() {
                RefusalKind::NeedsCfg(flags)
            } else if on.len() > 1
                && on.iter().all(|feature| {
                    let alone: BTreeSet<String> = enabled
                        .iter()
                        .filter(|other| *other == feature || !on.contains(other))
                        .cloned()
                        .collect();
                    eval(&guard.cfg, &alone, &BTreeSet::new()) != Some(true)
                })
            {
                RefusalKind::Exclusive
            } else {
                RefusalKind::Refused
            };
            return Some(Refusal {
                features: on,
                kind,
                location: guard.location.clone(),
            });
        }
        for (group, file) in &self.exclusive_in_ci {
            let on: Vec<String> = group
                .iter()
                .filter(|feature| enabled.contains(*feature))
                .cloned()
                .collect();
            if on.len() > 1 {
                return Some(Refusal {
                    features: on,
                    kind: RefusalKind::ExclusiveInCi,
                    location: file.clone(),
                });
            }
        }
        None
    }

    /// "All that builds": when `--all-features` is refused, the features (not `default`) of
    /// `table` to name with `--features` instead, and why the others are left out. `None` when
    /// `--all-features` builds. Features refused alone go first; of features that exclude each
    /// other, the first by name stays.
    ///
    /// Every set is judged with the default features on, as `--features` builds it: a feature
    /// that excludes a default one is left out, and a guard that wants one of several features
    /// (`#[cfg(not(any(feature = "native-tls", feature = "rustls")))]`) refuses no feature a
    /// default already answers.
    pub fn all_that_builds(
        &self,
        table: &BTreeMap<String, Vec<String>>,
    ) -> Option<(Vec<String>, Vec<Refusal>)> {
        let all: Vec<String> = table
            .keys()
            .filter(|name| name.as_str() != "default")
            .cloned()
            .collect();
        let enabled_by = |features: &[String]| -> BTreeSet<String> {
            let mut enabled = closure(
                table,
                std::iter::once("default").chain(features.iter().map(String::as_str)),
            );
            enabled.remove("default");
            enabled
        };
        self.refusal(&enabled_by(&all))?;
        let mut left_out = Vec::new();
        let mut kept: Vec<String> = Vec::new();
        for feature in &all {
            match self.refusal(&enabled_by(std::slice::from_ref(feature))) {
                Some(refusal) => left_out.push((feature.clone(), refusal)),
                None => kept.push(feature.clone()),
            }
        }
        // What still refuses is two or more features together: drop the later ones by name.
        while let Some(refusal) = self.refusal(&enabled_by(&kept)) {
            let culprit = kept
                .iter()
                .rev()
                .find(|feature| {
                    // What the feature itself turns on, defaults aside.
                    closure(table, [feature.as_str()])
                        .iter()
                        .any(|on| refusal.features.contains(on))
                })
                .cloned();
            let Some(culprit) = culprit else {
                break;
            };
            kept.retain(|feature| *feature != culprit);
            left_out.push((culprit, refusal));
        }
        // One line per refusal, with every feature it took out.
        let mut refusals: Vec<Refusal> = Vec::new();
        for (feature, refusal) in left_out {
            match refusals
                .iter_mut()
                .find(|known| known.location == refusal.location && known.kind == refusal.kind)
            {
                Some(known) if !known.features.contains(&feature) => known.features.push(feature),
                Some(_) => {}
                None => refusals.push(Refusal {
                    features: if matches!(
                        refusal.kind,
                        RefusalKind::Exclusive
                            | RefusalKind::ExclusiveInCi
                            | RefusalKind::NeedsOneOf
                    ) {
                        refusal.features
                    } else {
                        vec![feature]
                    },
                    ..refusal
                }),
            }
        }
        Some((kept, refusals))
    }
}

/// `path` relative to `root`, `/`-separated.
fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

/// Each `compile_error!` in `text` that stands right under a `#[cfg(…)]` naming a feature,
/// with the cfg and the 1-based line of the macro.
pub fn guards_in(text: &str) -> Vec<(Cfg, usize)> {
    let mut guards = Vec::new();
    let mut from = 0;
    while let Some(found) = text[from..].find("compile_error!") {
        let at = from + found;
        from = at + "compile_error!".len();
        let before = text[..at].trim_end();
        let Some(inner) = before.strip_suffix(")]") else {
            continue;
        };
        let Some(start) = inner.rfind("#[cfg(") else {
            continue;
        };
        let predicate = &inner[start + "#[cfg(".len()..];
        let Some(cfg) = parse_cfg(predicate) else {
            continue;
        };
        if features_named(&cfg).is_empty() {
            continue;
        }
        guards.push((cfg, text[..at].matches('\n').count() + 1));
    }
    guards
}

/// Parses one cfg predicate (the text inside `#[cfg(…)]`); `None` when it is not one.
pub fn parse_cfg(text: &str) -> Option<Cfg> {
    let tokens = tokenize(text)?;
    let mut position = 0;
    let cfg = parse_predicate(&tokens, &mut position)?;
    // A trailing comma is allowed.
    if tokens.get(position) == Some(&Token::Comma) {
        position += 1;
    }
    (position == tokens.len()).then_some(cfg)
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Ident(String),
    Str(String),
    Equals,
    Comma,
    Open,
    Close,
}

fn tokenize(text: &str) -> Option<Vec<Token>> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        match c {
            c if c.is_whitespace() => {}
            '(' => tokens.push(Token::Open),
            ')' => tokens.push(Token::Close),
            ',' => tokens.push(Token::Comma),
            '=' => tokens.push(Token::Equals),
            '"' => {
                let mut value = String::new();
                loop {
                    let (_, c) = chars.next()?;
                    if c == '"' {
                        break;
                    }
                    value.push(c);
                }
                tokens.push(Token::Str(value));
            }
            '/' if chars.peek().is_some_and(|(_, next)| *next == '/') => {
                // A line comment inside the attribute.
                for (_, c) in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            c if c.is_alphanumeric() || c == '_' => {
                let mut end = start + c.len_utf8();
                while let Some((index, next)) = chars.peek() {
                    if next.is_alphanumeric() || *next == '_' {
                        end = index + next.len_utf8();
                        chars.next();
                    } else {
                        break;
                    }
                }
                tokens.push(Token::Ident(text[start..end].to_owned()));
            }
            _ => return None,
        }
    }
    Some(tokens)
}

fn parse_predicate(tokens: &[Token], position: &mut usize) -> Option<Cfg> {
    let Token::Ident(name) = tokens.get(*position)? else {
        return None;
    };
    *position += 1;
    match tokens.get(*position) {
        Some(Token::Equals) => {
            *position += 1;
            let Token::Str(value) = tokens.get(*position)? else {
                return None;
            };
            *position += 1;
            Some(Cfg::KeyValue(name.clone(), value.clone()))
        }
        Some(Token::Open) if matches!(name.as_str(), "all" | "any" | "not") => {
            *position += 1;
            let mut items = Vec::new();
            loop {
                if tokens.get(*position) == Some(&Token::Close) {
                    *position += 1;
                    break;
                }
                items.push(parse_predicate(tokens, position)?);
                match tokens.get(*position)? {
                    Token::Comma => *position += 1,
                    Token::Close => {
                        *position += 1;
                        break;
                    }
                    _ => return None,
                }
            }
            match name.as_str() {
                "all" => Some(Cfg::All(items)),
                "any" => Some(Cfg::Any(items)),
                _ if items.len() == 1 => items.pop().map(|item| Cfg::Not(Box::new(item))),
                _ => None,
            }
        }
        _ => Some(Cfg::Name(name.clone())),
    }
}

/// The features a cfg names.
fn features_named(cfg: &Cfg) -> Vec<String> {
    let mut names = Vec::new();
    visit(cfg, &mut |leaf| {
        if let Cfg::KeyValue(key, value) = leaf
            && key == "feature"
        {
            names.push(value.clone());
        }
    });
    names
}

/// The `--cfg` flags a cfg names: bare names that are not the compiler's own.
fn flags_named(cfg: &Cfg) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    visit(cfg, &mut |leaf| {
        if let Cfg::Name(name) = leaf
            && host_name(name).is_none()
            && !names.contains(name)
        {
            names.push(name.clone());
        }
    });
    names
}

fn visit(cfg: &Cfg, each: &mut impl FnMut(&Cfg)) {
    match cfg {
        Cfg::All(items) | Cfg::Any(items) => items.iter().for_each(|item| visit(item, each)),
        Cfg::Not(item) => visit(item, each),
        leaf => each(leaf),
    }
}

/// The value of a compiler-set bare name on this host in a test build; `None` for names the
/// compiler does not set (flags) and for `test`, which is on for some targets and not others.
fn host_name(name: &str) -> Option<Option<bool>> {
    Some(match name {
        "unix" => Some(cfg!(unix)),
        "windows" => Some(cfg!(windows)),
        "debug_assertions" => Some(true),
        "doc" | "doctest" | "miri" | "proc_macro" => Some(false),
        "test" => None,
        _ => return None,
    })
}

/// Three-valued evaluation for this host with `enabled` features and `flags` passed.
fn eval(cfg: &Cfg, enabled: &BTreeSet<String>, flags: &BTreeSet<String>) -> Option<bool> {
    match cfg {
        Cfg::Name(name) => match host_name(name) {
            Some(value) => value,
            // A flag the build does not pass is off.
            None => Some(flags.contains(name)),
        },
        Cfg::KeyValue(key, value) => {
            let value = value.as_str();
            match key.as_str() {
                "feature" => Some(enabled.contains(value)),
                "target_os" => Some(value == std::env::consts::OS),
                "target_family" => Some(value == std::env::consts::FAMILY),
                "target_arch" => Some(value == std::env::consts::ARCH),
                "target_pointer_width" => Some(value == (usize::BITS).to_string()),
                "target_endian" => Some(
                    value
                        == if cfg!(target_endian = "little") {
                            "little"
                        } else {
                            "big"
                        },
                ),
                "target_has_atomic" if cfg!(target_pointer_width = "64") => {
                    Some(matches!(value, "8" | "16" | "32" | "64" | "ptr"))
                }
                _ => None,
            }
        }
        Cfg::All(items) => {
            let mut result = Some(true);
            for item in items {
                match eval(item, enabled, flags) {
                    Some(false) => return Some(false),
                    None => result = None,
                    Some(true) => {}
                }
            }
            result
        }
        Cfg::Any(items) => {
            let mut result = Some(false);
            for item in items {
                match eval(item, enabled, flags) {
                    Some(true) => return Some(true),
                    None => result = None,
                    Some(false) => {}
                }
            }
            result
        }
        Cfg::Not(item) => eval(item, enabled, flags).map(|value| !value),
    }
}

/// The `--cfg` flags of `[package.metadata.docs.rs] rustc-args` in a manifest's text.
fn docs_rs_cfgs(manifest: &str) -> Vec<String> {
    let Ok(document) = manifest.parse::<toml_edit::DocumentMut>() else {
        return Vec::new();
    };
    let args: Vec<String> = document
        .get("package")
        .and_then(|package| package.get("metadata"))
        .and_then(|metadata| metadata.get("docs"))
        .and_then(|docs| docs.get("rs"))
        .and_then(|docs_rs| docs_rs.get("rustc-args"))
        .and_then(|args| args.as_array())
        .map(|array| {
            array
                .iter()
                .filter_map(|value| value.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    args.windows(2)
        .filter(|pair| pair[0] == "--cfg")
        .map(|pair| pair[1].clone())
        .collect()
}

/// Each `--mutually-exclusive-features A,B` group in the workspace's `.github/workflows/*.yml`,
/// with the file that names it: read once for [`FeatureGuards::read_with`].
pub fn workflow_exclusive_groups(workspace_root: &Path) -> Vec<(Vec<String>, String)> {
    exclusive_in_workflows(workspace_root)
}

/// Each `--mutually-exclusive-features A,B` group in `.github/workflows/*.yml`.
fn exclusive_in_workflows(workspace_root: &Path) -> Vec<(Vec<String>, String)> {
    let mut groups = Vec::new();
    let Ok(entries) = std::fs::read_dir(workspace_root.join(".github/workflows")) else {
        return groups;
    };
    let mut paths: Vec<_> = entries.flatten().map(|entry| entry.path()).collect();
    paths.sort();
    for path in paths {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        for line in text.lines() {
            let mut words = line.split_whitespace();
            while let Some(word) = words.next() {
                let value = match word.strip_prefix("--mutually-exclusive-features") {
                    Some("") => words.next(),
                    Some(rest) => rest.strip_prefix('='),
                    None => None,
                };
                let Some(value) = value else {
                    continue;
                };
                let value = value.trim_matches(|c| c == '"' || c == '\'');
                if value.contains('$') {
                    continue;
                }
                let group: Vec<String> = value
                    .split(',')
                    .map(str::trim)
                    .filter(|name| !name.is_empty())
                    .map(str::to_owned)
                    .collect();
                if group.len() > 1 && !groups.iter().any(|(known, _)| *known == group) {
                    groups.push((group, relative(workspace_root, &path)));
                }
            }
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::tests::table;

    fn set(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|name| (*name).to_owned()).collect()
    }

    fn guards(text: &str) -> FeatureGuards {
        FeatureGuards {
            guards: guards_in(text)
                .into_iter()
                .map(|(cfg, line)| Guard {
                    cfg,
                    location: format!("src/lib.rs:{line}"),
                })
                .collect(),
            ..FeatureGuards::default()
        }
    }

    const TOKIO_LIKE: &str = r#"//! A runtime.
#[cfg(all(not(tokio_unstable), feature = "taskdump"))]
compile_error!("The `taskdump` feature requires `--cfg tokio_unstable`.");

#[cfg(all(
    feature = "taskdump",
    not(doc),
    not(all(
        target_os = "linux",
        any(target_arch = "aarch64", target_arch = "x86", target_arch = "x86_64")
    ))
))]
compile_error!("The `taskdump` feature is only supported on linux.");

#[cfg(all(target_family = "wasm", any(feature = "fs", feature = "net")))]
compile_error!("Only some features are supported on wasm.");

#[cfg(all(feature = "native-tls", feature = "rustls"))]
compile_error!("choose one TLS backend");

#[cfg(not(feature = "std"))]
fn f() { compile_error!("inside a body") }
"#;

    #[test]
    fn reads_each_guard_with_its_line() {
        let found: Vec<usize> = guards_in(TOKIO_LIKE)
            .into_iter()
            .map(|(_, line)| line)
            .collect();
        assert_eq!(found, [3, 13, 16, 19]);
        assert_eq!(
            parse_cfg("all(not(tokio_unstable), feature = \"taskdump\",)"),
            Some(Cfg::All(vec![
                Cfg::Not(Box::new(Cfg::Name("tokio_unstable".to_owned()))),
                Cfg::KeyValue("feature".to_owned(), "taskdump".to_owned()),
            ]))
        );
        assert_eq!(parse_cfg("not(a, b)"), None);
        assert_eq!(parse_cfg("all(a"), None);
    }

    #[test]
    fn names_why_a_set_cannot_build() {
        let guards = guards(TOKIO_LIKE);
        let refusal = |names: &[&str]| guards.refusal(&set(names)).map(|r| r.to_string());
        assert_eq!(
            refusal(&["taskdump"]).as_deref(),
            Some(
                "its source refuses `taskdump` without `--cfg tokio_unstable` (compile_error! at src/lib.rs:3)"
            )
        );
        assert_eq!(
            refusal(&["native-tls", "rustls", "fs"]).as_deref(),
            Some(
                "`native-tls` and `rustls` are mutually exclusive (compile_error! at src/lib.rs:19)"
            )
        );
        assert_eq!(refusal(&["fs", "net", "rustls"]), None, "not wasm");
        assert_eq!(refusal(&[]), None);
    }

    #[test]
    fn all_that_builds_leaves_out_what_is_refused() {
        let guards = guards(TOKIO_LIKE);
        let table = table(&[
            ("default", &["fs"]),
            ("fs", &[]),
            ("full", &["fs", "net"]),
            ("native-tls", &[]),
            ("net", &[]),
            ("rustls", &[]),
            ("taskdump", &[]),
        ]);
        let (kept, refusals) = guards
            .all_that_builds(&table)
            .expect("--all-features is refused");
        assert_eq!(kept, ["fs", "full", "native-tls", "net"]);
        let lines: Vec<String> = refusals.iter().map(ToString::to_string).collect();
        assert_eq!(
            lines,
            [
                "its source refuses `taskdump` without `--cfg tokio_unstable` (compile_error! at src/lib.rs:3)",
                "`native-tls` and `rustls` are mutually exclusive (compile_error! at src/lib.rs:19)",
            ]
        );
        let plain: BTreeMap<String, Vec<String>> =
            [("fs".to_owned(), Vec::new())].into_iter().collect();
        assert_eq!(guards.all_that_builds(&plain), None);
    }

    #[test]
    fn all_that_builds_keeps_to_what_builds_beside_the_defaults() {
        // Like a shell whose networking wants one TLS backend of two, not both, with rustls
        // among the defaults: native-tls cannot be added to them, and no other feature is
        // refused for lacking a backend (the default one answers).
        let guards = guards(
            "#[cfg(all(not(feature = \"native-tls\"), not(feature = \"rustls-tls\")))]\ncompile_error!(\"no TLS backend\");\n#[cfg(all(feature = \"native-tls\", feature = \"rustls-tls\"))]\ncompile_error!(\"two TLS backends\");\n",
        );
        let table = table(&[
            ("default", &["network", "rustls-tls"]),
            ("js", &[]),
            ("native-tls", &[]),
            ("network", &[]),
            ("rustls-tls", &[]),
            ("sqlite", &[]),
        ]);
        let (kept, refusals) = guards
            .all_that_builds(&table)
            .expect("--all-features is refused");
        assert_eq!(kept, ["js", "network", "rustls-tls", "sqlite"]);
        let lines: Vec<String> = refusals.iter().map(ToString::to_string).collect();
        assert_eq!(
            lines,
            [
                "`native-tls` and `rustls-tls` are mutually exclusive (compile_error! at src/lib.rs:4)"
            ]
        );
        // Without the defaults, a set with neither backend is refused for what it lacks.
        assert_eq!(
            guards
                .refusal(&set(&["js", "network"]))
                .map(|r| r.to_string()),
            Some(
                "its source needs `native-tls` or `rustls-tls` (compile_error! at src/lib.rs:2)"
                    .to_owned()
            )
        );
        // What the gates build, the defaults and the kept features, builds.
        let mut built = closure(&table, ["default"]);
        built.extend(kept);
        built.remove("default");
        assert_eq!(guards.refusal(&built), None);
    }

    #[test]
    fn reads_docs_rs_flags_and_exclusive_groups_in_ci() {
        assert_eq!(
            docs_rs_cfgs(
                "[package]\nname = \"t\"\n\n[package.metadata.docs.rs]\nall-features = true\n\
                 rustc-args = [\"--cfg\", \"tokio_unstable\"]\n"
            ),
            ["tokio_unstable"]
        );
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join(".github/workflows")).expect("create dirs");
        std::fs::write(
            dir.path().join(".github/workflows/ci.yml"),
            "      - run: cargo hack check --feature-powerset --mutually-exclusive-features native-tls,rustls\n\
             \x20     - run: cargo hack check --mutually-exclusive-features=${{ matrix.x }}\n",
        )
        .expect("write the workflow");
        let groups = exclusive_in_workflows(dir.path());
        assert_eq!(
            groups,
            [(
                vec!["native-tls".to_owned(), "rustls".to_owned()],
                ".github/workflows/ci.yml".to_owned()
            )]
        );
        let guards = FeatureGuards {
            exclusive_in_ci: groups,
            ..FeatureGuards::default()
        };
        assert_eq!(
            guards
                .refusal(&set(&["rustls", "native-tls"]))
                .map(|r| r.to_string())
                .as_deref(),
            Some(
                "`native-tls` and `rustls` are mutually exclusive (--mutually-exclusive-features in .github/workflows/ci.yml)"
            )
        );
    }
}
