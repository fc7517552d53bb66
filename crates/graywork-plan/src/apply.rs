//! `upgrade-plan --apply N`: makes one stage's manifest edits with `toml_edit`, keeping each
//! file's formatting and comments, or shows them as a unified diff (`--dry-run`).
//!
//! This is the I/O edge of planning: the plan says what to write where (file, TOML path, from,
//! to); this module reads those files, edits them and writes them back. Code changes are
//! listed for people and never touched.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use std::path::{Path, PathBuf};
use toml_edit::{DocumentMut, Item, Value};

use crate::planner::{Change, EditOp, Plan, Status};

/// How to apply a stage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ApplyOptions {
    /// Apply even though an earlier stage is not done.
    pub force: bool,
    /// Compute the edits and print them as a diff, writing nothing.
    pub dry_run: bool,
}

/// What `--apply` did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplyReport {
    /// The stage applied.
    pub stage: usize,
    /// Edits written (or, in a dry run, that would be), as `file:line toml_path: from -> to`.
    pub changed: Vec<String>,
    /// Edits already in the tree.
    pub already: Vec<String>,
    /// Changes left for people: code, migrations.
    pub for_people: Vec<String>,
    /// The unified diff of every file the stage edits (dry run only).
    pub diff: String,
}

/// Why a stage cannot be applied.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// No stage has this number.
    #[error("--apply {stage}: the plan has {count} stages")]
    NoSuchStage {
        /// The stage asked for.
        stage: usize,
        /// How many stages the plan has.
        count: usize,
    },
    /// An earlier stage is not done.
    #[error(
        "--apply {stage}: stage {earlier} ({name}) is {status}; apply it first, or pass --force"
    )]
    EarlierStageNotDone {
        /// The stage asked for.
        stage: usize,
        /// The first earlier stage that is not done.
        earlier: usize,
        /// Its name.
        name: String,
        /// Its status.
        status: &'static str,
    },
    /// A file cannot be read, parsed or written.
    #[error("{file}: {message}")]
    File {
        /// The file, relative to the workspace root.
        file: String,
        /// What went wrong.
        message: String,
    },
    /// A saved plan's file cannot be read as a plan.
    #[error("{file}: not a saved plan of this tool: {message}")]
    SavedPlan {
        /// The file.
        file: String,
        /// What is wrong with it.
        message: String,
    },
    /// The tree no longer holds what a saved plan expects.
    #[error(
        "the tree drifted from the saved plan: stage {stage}: {message}; plan again (and save it again)"
    )]
    Drifted {
        /// The stage whose edit no longer fits.
        stage: usize,
        /// Where and how.
        message: String,
    },
    /// The value at the edit's path is neither what the plan expected nor its target.
    #[error("{file}: `{toml_path}` is {found}, not `{from}` as the plan expected; re-plan")]
    Unexpected {
        /// The file.
        file: String,
        /// The TOML path.
        toml_path: String,
        /// What the file holds there.
        found: String,
        /// What the plan expected.
        from: String,
    },
}

/// Applies stage `stage` (1-based) of `plan` to the workspace at `root`.
pub fn apply_stage(
    root: &Path,
    plan: &Plan,
    stage: usize,
    options: ApplyOptions,
) -> Result<ApplyReport, ApplyError> {
    let count = plan.stages.len();
    let target = stage
        .checked_sub(1)
        .and_then(|index| plan.stages.get(index))
        .ok_or(ApplyError::NoSuchStage { stage, count })?;
    if !options.force
        && let Some(earlier) = plan.stages[..stage - 1]
            .iter()
            .find(|earlier| earlier.status != Status::Done)
    {
        return Err(ApplyError::EarlierStageNotDone {
            stage,
            earlier: earlier.index,
            name: earlier.name.clone(),
            status: earlier.status.as_str(),
        });
    }
    apply_changes(root, &target.changes, stage, options.dry_run)
}

/// Reads a plan saved with `upgrade-plan --save FILE` (the JSON format), refusing another
/// schema. `file` names it in errors.
pub fn read_saved_plan(text: &str, file: &str) -> Result<Plan, ApplyError> {
    let saved = |message: String| ApplyError::SavedPlan {
        file: file.to_owned(),
        message,
    };
    let plan: Plan = serde_json::from_str(text).map_err(|error| saved(error.to_string()))?;
    if plan.schema != crate::planner::PLAN_SCHEMA {
        return Err(saved(format!(
            "its schema is `{}`, this tool reads `{}`",
            plan.schema,
            crate::planner::PLAN_SCHEMA
        )));
    }
    Ok(plan)
}

/// Applies stage `stage` of a saved plan to the workspace at `root`: the stage numbers are the
/// ones the plan was read with, whatever the tree looks like now. Every edit is judged against
/// the tree first: the earlier stages' must all be in it (unless `force`), and every edit of
/// this stage and the later ones must find either the value it expects or its target; anything
/// else means the tree drifted from the plan, and nothing is written.
pub fn apply_saved_stage(
    root: &Path,
    plan: &Plan,
    stage: usize,
    options: ApplyOptions,
) -> Result<ApplyReport, ApplyError> {
    let count = plan.stages.len();
    if stage == 0 || stage > count {
        return Err(ApplyError::NoSuchStage { stage, count });
    }
    let mut files: BTreeMap<String, DocumentMut> = BTreeMap::new();
    // Where the tree stands on one edit: made on a copy, a change means it holds the expected
    // value, no change that it holds the target, an error that it holds something else.
    let mut judge = |change: &Change| -> Result<Option<Result<bool, ApplyError>>, ApplyError> {
        let Some(file) = change.file.clone().filter(|_| change.is_edit()) else {
            return Ok(None);
        };
        if !files.contains_key(&file) {
            files.insert(file.clone(), read_document(root, &file)?.1);
        }
        let Some(document) = files.get(&file) else {
            return Ok(None);
        };
        let mut scratch = document.clone();
        Ok(Some(set_value(&mut scratch, change, &file)))
    };
    // A stage whose edits are all in the tree has nothing to write: later stages may have
    // undone what earlier ones did (a side-by-side retire renames keys back), so those are
    // not judged.
    let mut applied = true;
    for change in &plan.stages[stage - 1].changes {
        if let Some(Ok(true) | Err(_)) = judge(change)? {
            applied = false;
        }
    }
    for (position, saved) in plan.stages.iter().enumerate() {
        let index = position + 1;
        if applied && index < stage {
            continue;
        }
        for change in &saved.changes {
            match judge(change)? {
                None | Some(Ok(false)) => {}
                Some(Ok(true)) if index >= stage || options.force => {}
                Some(Ok(true)) => {
                    return Err(ApplyError::EarlierStageNotDone {
                        stage,
                        earlier: index,
                        name: saved.name.clone(),
                        status: "not done",
                    });
                }
                Some(Err(error)) => {
                    return Err(ApplyError::Drifted {
                        stage: index,
                        message: error.to_string(),
                    });
                }
            }
        }
    }
    // What is in the tree already is reported as such; code changes are all listed.
    let changes: Vec<Change> = plan.stages[stage - 1]
        .changes
        .iter()
        .map(|change| Change {
            done: false,
            ..change.clone()
        })
        .collect();
    apply_changes(root, &changes, stage, options.dry_run)
}

/// Reads and parses one file of the workspace (an empty document when it does not exist yet,
/// for a new toolchain pin).
fn read_document(root: &Path, file: &str) -> Result<(String, DocumentMut), ApplyError> {
    let path = root.join(file);
    let text = if path.is_file() {
        std::fs::read_to_string(&path).map_err(|error| ApplyError::File {
            file: file.to_owned(),
            message: format!("cannot read: {error}"),
        })?
    } else {
        String::new()
    };
    let document: DocumentMut =
        text.parse()
            .map_err(|error: toml_edit::TomlError| ApplyError::File {
                file: file.to_owned(),
                message: format!("cannot parse: {}", error.message()),
            })?;
    Ok((text, document))
}

/// Makes `changes` (the manifest edits of stage `stage`, as a plan lists them) in the workspace
/// at `root`, or, with `dry_run`, computes them and puts their diff in the report. Other tools
/// that produce edits in the plan's shape (`outdated --plan`) apply them through this.
pub fn apply_changes(
    root: &Path,
    changes: &[Change],
    stage: usize,
    dry_run: bool,
) -> Result<ApplyReport, ApplyError> {
    let mut report = ApplyReport {
        stage,
        ..ApplyReport::default()
    };
    // Each file is read and parsed once, edited in memory, and written once.
    let mut files: BTreeMap<String, (String, DocumentMut)> = BTreeMap::new();
    for change in changes {
        if !change.is_edit() {
            if !change.done {
                report.for_people.push(describe_for_people(change));
            }
            continue;
        }
        let Some(file) = change.file.clone() else {
            continue;
        };
        if !files.contains_key(&file) {
            files.insert(file.clone(), read_document(root, &file)?);
        }
        let Some((_, document)) = files.get_mut(&file) else {
            continue;
        };
        let line = describe_edit(change);
        // A done edit is in the tree already, sometimes in a form that meets the goal without
        // equalling `to` (`serde = "2.0.1"` for `serde@2`): it is never rewritten.
        if change.done {
            report.already.push(line);
            continue;
        }
        if set_value(document, change, &file)? {
            report.changed.push(line);
        } else {
            report.already.push(line);
        }
    }
    for (file, (before, document)) in &files {
        let after = document.to_string();
        if after == *before {
            continue;
        }
        if dry_run {
            let diff = similar::TextDiff::from_lines(before.as_str(), after.as_str());
            let _ = write!(
                report.diff,
                "{}",
                diff.unified_diff()
                    .context_radius(2)
                    .header(&format!("a/{file}"), &format!("b/{file}"))
            );
        } else {
            let path: PathBuf = root.join(file);
            std::fs::write(&path, after).map_err(|error| ApplyError::File {
                file: file.clone(),
                message: format!("cannot write: {error}"),
            })?;
        }
    }
    Ok(report)
}

/// Renders a report: what changed (or would), what was already there, and what is left for
/// people.
pub fn render_report(report: &ApplyReport, dry_run: bool) -> String {
    let mut out = String::new();
    let verb = if dry_run { "would change" } else { "changed" };
    if report.changed.is_empty() {
        let _ = writeln!(
            out,
            "stage {}: nothing to change, its edits are in the tree",
            report.stage
        );
    } else {
        let _ = writeln!(out, "stage {}: {verb}:", report.stage);
        for line in &report.changed {
            let _ = writeln!(out, "  {line}");
        }
    }
    if !report.already.is_empty() {
        let _ = writeln!(out, "already done:");
        for line in &report.already {
            let _ = writeln!(out, "  {line}");
        }
    }
    if !report.for_people.is_empty() {
        let _ = writeln!(out, "left for people (not applied):");
        for line in &report.for_people {
            let _ = writeln!(out, "  {line}");
        }
    }
    if dry_run && !report.diff.is_empty() {
        out.push('\n');
        out.push_str(&report.diff);
    }
    out
}

fn describe_edit(change: &Change) -> String {
    let place = match (&change.file, change.line) {
        (Some(file), Some(line)) => format!("{file}:{line}"),
        (Some(file), None) => file.clone(),
        _ => String::new(),
    };
    let path = change.toml_path.as_deref().unwrap_or("");
    let quoted = |value: &Option<String>| {
        value
            .as_deref()
            .map_or_else(|| "(unset)".to_owned(), |value| format!("\"{value}\""))
    };
    match change.op.unwrap_or_default() {
        EditOp::Set => format!(
            "{place} {path}: {} -> {}",
            quoted(&change.from),
            quoted(&change.to)
        ),
        EditOp::AddEntry => format!("{place} {path}: add, version {}", quoted(&change.to)),
        EditOp::RenameKey => format!(
            "{place} {path}: rename the key {} -> {}",
            quoted(&change.from),
            quoted(&change.to)
        ),
        EditOp::RemoveEntry => format!("{place} {path}: remove (was {})", quoted(&change.from)),
        EditOp::Override => format!(
            "{place} {path}: declare {} here instead of inheriting {}",
            quoted(&change.to),
            quoted(&change.from)
        ),
        EditOp::Inherit => format!(
            "{place} {path}: inherit the workspace's {} instead of declaring it",
            quoted(&change.from)
        ),
    }
}

fn describe_for_people(change: &Change) -> String {
    match &change.crate_name {
        Some(name) => format!("{name}: {}", change.change),
        None => change.change.clone(),
    }
}

/// Sets the change's value in `document`; returns whether anything changed.
///
/// A dependency entry written as a string is replaced; one written as a table gets its
/// `version` key set, keeping every other key. A legacy `rust-toolchain` file (no keys) is
/// replaced whole.
fn set_value(document: &mut DocumentMut, change: &Change, file: &str) -> Result<bool, ApplyError> {
    if change.op.is_some_and(|op| op != EditOp::Set) {
        return edit_entry(document, change, file);
    }
    let (Some(to), Some(toml_path)) = (change.to.as_deref(), change.toml_path.as_deref()) else {
        return Ok(false);
    };
    let unexpected = |found: String| ApplyError::Unexpected {
        file: file.to_owned(),
        toml_path: toml_path.to_owned(),
        found,
        from: change.from.clone().unwrap_or_default(),
    };
    let Some((last, parents)) = change.keys.split_last() else {
        return Err(ApplyError::File {
            file: file.to_owned(),
            message: "not a TOML file the plan can edit (edit it by hand)".to_owned(),
        });
    };
    let mut item: &mut Item = document.as_item_mut();
    for key in parents {
        let table = item.as_table_like_mut().ok_or_else(|| ApplyError::File {
            file: file.to_owned(),
            message: format!("`{key}` in `{toml_path}` is not a table"),
        })?;
        let key = spelled_key(table, key);
        if table.get(&key).is_none() {
            // Only a new toolchain pin creates its table: a manifest table the plan expected
            // and the file lacks means the tree changed, and a second table for one cargo
            // reads as the same would not do.
            if change.kind != crate::planner::ChangeKind::Toolchain {
                return Err(unexpected(format!("missing (no `{key}` table)")));
            }
            let mut new = toml_edit::Table::new();
            new.set_implicit(true);
            table.insert(&key, Item::Table(new));
        }
        item = table.get_mut(&key).ok_or_else(|| ApplyError::File {
            file: file.to_owned(),
            message: format!("cannot create `{key}` in `{toml_path}`"),
        })?;
    }
    let table = item.as_table_like_mut().ok_or_else(|| ApplyError::File {
        file: file.to_owned(),
        message: format!("the parent of `{toml_path}` is not a table"),
    })?;
    let Some(slot) = table.get_mut(last) else {
        // A setting cargo defaults (a missing `edition`) or a new pin: add it.
        table.insert(last, toml_edit::value(to));
        return Ok(true);
    };
    // A dependency entry in table form: its `version` key holds the requirement.
    let slot = if change.kind == crate::planner::ChangeKind::Requirement
        && let Some(entry) = slot.as_table_like_mut()
    {
        if entry.get("version").is_none() {
            entry.insert("version", toml_edit::value(to));
            return Ok(true);
        }
        entry
            .get_mut("version")
            .ok_or_else(|| unexpected("a table without `version`".to_owned()))?
    } else {
        slot
    };
    let current = slot
        .as_str()
        .ok_or_else(|| unexpected(format!("`{}`", slot.to_string().trim())))?;
    if current == to {
        return Ok(false);
    }
    if change.from.as_deref().is_some_and(|from| from != current) {
        return Err(unexpected(format!("`\"{current}\"`")));
    }
    // Keep the comments and spacing around the old value.
    let decor = slot.as_value().map(|value| value.decor().clone());
    let mut value = Value::from(to);
    if let Some(decor) = decor {
        *value.decor_mut() = decor;
    }
    *slot = Item::Value(value);
    Ok(true)
}

/// The dependency-entry edits of a side-by-side upgrade: add an entry, rename a key, remove
/// an entry. Each is a no-op when the file already shows its result.
fn edit_entry(document: &mut DocumentMut, change: &Change, file: &str) -> Result<bool, ApplyError> {
    let toml_path = change.toml_path.as_deref().unwrap_or_default();
    let invalid = |message: String| ApplyError::File {
        file: file.to_owned(),
        message: format!("`{toml_path}`: {message}"),
    };
    let Some((key, parents)) = change.keys.split_last() else {
        return Err(invalid("no key to edit".to_owned()));
    };
    let mut item: &mut Item = document.as_item_mut();
    for parent in parents {
        item = item
            .as_table_like_mut()
            .and_then(|table| {
                let parent = spelled_key(table, parent);
                table.get_mut(&parent)
            })
            .ok_or_else(|| invalid(format!("`{parent}` is missing")))?;
    }
    let table = item
        .as_table_like_mut()
        .ok_or_else(|| invalid("the parent is not a table".to_owned()))?;
    match change.op.unwrap_or_default() {
        EditOp::Set => Err(invalid("not an entry edit".to_owned())),
        EditOp::Override => {
            let to = change.to.as_deref().unwrap_or_default();
            let slot = table
                .get_mut(key)
                .ok_or_else(|| invalid(format!("`{key}` is missing")))?;
            if slot.as_str() == Some(to) {
                return Ok(false);
            }
            if !inherits(slot) {
                return Err(invalid(format!(
                    "`{}` is neither inherited nor `{to}`; re-plan",
                    slot.to_string().trim()
                )));
            }
            *slot = toml_edit::value(to);
            Ok(true)
        }
        EditOp::Inherit => {
            let slot = table
                .get_mut(key)
                .ok_or_else(|| invalid(format!("`{key}` is missing")))?;
            if inherits(slot) {
                return Ok(false);
            }
            let from = change.from.as_deref().unwrap_or_default();
            if slot.as_str() != Some(from) {
                return Err(invalid(format!(
                    "`{}` is not the workspace's `{from}`; re-plan",
                    slot.to_string().trim()
                )));
            }
            let mut inherit = toml_edit::Table::new();
            inherit.set_dotted(true);
            inherit.insert("workspace", toml_edit::value(true));
            *slot = Item::Table(inherit);
            Ok(true)
        }
        EditOp::AddEntry => {
            if table.contains_key(key) {
                return Ok(false);
            }
            let source = change.copy_of.as_deref().unwrap_or_default();
            let original = table
                .get(source)
                .ok_or_else(|| invalid(format!("the entry `{source}` to copy is missing")))?;
            let mut entry = toml_edit::InlineTable::new();
            // Every key but `path`: the copy comes from the registry.
            if let Some(existing) = original.as_table_like() {
                for (name, value) in existing.iter() {
                    if let Some(value) = value.as_value().filter(|_| name != "path") {
                        entry.insert(name, value.clone());
                    }
                }
            }
            let package = entry
                .get("package")
                .and_then(|value| value.as_str())
                .unwrap_or(source)
                .to_owned();
            entry.insert("package", Value::from(package));
            entry.insert(
                "version",
                Value::from(change.to.clone().unwrap_or_default()),
            );
            entry.fmt();
            // Right after the entry it copies, so the two majors read side by side.
            let position = position_of(table, source).map_or(table.len(), |p| p + 1);
            insert_at(
                table,
                position,
                toml_edit::Key::new(key.as_str()),
                Item::Value(Value::InlineTable(entry)),
            );
            Ok(true)
        }
        EditOp::RenameKey => {
            let to = change.to.as_deref().unwrap_or_default();
            if !table.contains_key(key) {
                return if table.contains_key(to) {
                    Ok(false)
                } else {
                    Err(invalid(format!("neither `{key}` nor `{to}` is there")))
                };
            }
            if table.contains_key(to) {
                return Err(invalid(format!("`{to}` is there already")));
            }
            rename_in_place(table, key, to);
            // A member's dependency key is also how its `[features]` name the dependency.
            if parents.first().is_some_and(|first| first != "workspace") {
                rename_feature_references(document, key, to);
            }
            Ok(true)
        }
        EditOp::RemoveEntry => Ok(table.remove(key).is_some()),
    }
}

/// The key of `table` that cargo reads as `key`: `key` itself, or a `[target.…]` key written
/// with other spacing ([`graywork_workspace::same_target`]).
fn spelled_key(table: &dyn toml_edit::TableLike, key: &str) -> String {
    if table.contains_key(key) || !key.starts_with("cfg(") {
        return key.to_owned();
    }
    table
        .iter()
        .map(|(written, _)| written)
        .find(|written| graywork_workspace::same_target(written, key))
        .unwrap_or(key)
        .to_owned()
}

/// Whether an entry is `x.workspace = true` (or `x = { workspace = true }`).
fn inherits(item: &Item) -> bool {
    item.as_table_like()
        .and_then(|table| table.get("workspace"))
        .and_then(Item::as_bool)
        .unwrap_or(false)
}

/// The position of `key` among the entries of `table`.
fn position_of(table: &dyn toml_edit::TableLike, key: &str) -> Option<usize> {
    table.iter().position(|(name, _)| name == key)
}

/// Inserts `key` at `position` among the entries of `table`, keeping the order (and with it the
/// comments, which belong to the keys) of every other entry.
fn insert_at(
    table: &mut dyn toml_edit::TableLike,
    position: usize,
    key: toml_edit::Key,
    item: Item,
) {
    let after: Vec<String> = table
        .iter()
        .skip(position)
        .map(|(name, _)| name.to_owned())
        .collect();
    let mut tail = Vec::with_capacity(after.len());
    for name in after {
        let formatted = table.key(&name).cloned();
        if let (Some(formatted), Some(item)) = (formatted, table.remove(&name)) {
            tail.push((formatted, item));
        }
    }
    table.entry_format(&key).or_insert(item);
    for (formatted, item) in tail {
        table.entry_format(&formatted).or_insert(item);
    }
}

/// Renames the key `from` to `to` where it stands, keeping its comments and spacing.
fn rename_in_place(table: &mut dyn toml_edit::TableLike, from: &str, to: &str) {
    let Some(position) = position_of(table, from) else {
        return;
    };
    let decor = table.key(from).map(|key| key.leaf_decor().clone());
    let Some(item) = table.remove(from) else {
        return;
    };
    let mut key = toml_edit::Key::new(to);
    if let Some(decor) = decor {
        key = key.with_leaf_decor(decor);
    }
    insert_at(table, position, key, item);
}

/// After a member's dependency key `from` became `to`, renames what its `[features]` say about
/// the dependency: `dep:from`, `from/feat` and `from?/feat`. An optional dependency that had
/// only its implicit feature `from` gets the explicit `from = ["dep:to"]`, so the feature the
/// crate's users turn on keeps its name.
fn rename_feature_references(document: &mut DocumentMut, from: &str, to: &str) {
    let optional = ["dependencies", "build-dependencies"].iter().any(|table| {
        dependency_entries(document.as_table(), table)
            .iter()
            .any(|entry| entry.0 == to && entry.1)
    });
    let Some(features) = document
        .get_mut("features")
        .and_then(Item::as_table_like_mut)
    else {
        if optional {
            let mut features = toml_edit::Table::new();
            features.insert(from, Item::Value(Value::Array(dep_array(to))));
            document.insert("features", Item::Table(features));
        }
        return;
    };
    let explicit = features.contains_key(from);
    let mut uses_dep_syntax = false;
    for (_, value) in features.iter_mut() {
        let Some(items) = value.as_array_mut() else {
            continue;
        };
        for item in items.iter_mut() {
            let Some(text) = item.as_str() else {
                continue;
            };
            let renamed = if text == format!("dep:{from}") {
                uses_dep_syntax = true;
                Some(format!("dep:{to}"))
            } else if let Some((name, feature)) = text.split_once('/') {
                let (bare, weak) = match name.strip_suffix('?') {
                    Some(bare) => (bare, "?"),
                    None => (name, ""),
                };
                (bare == from).then(|| format!("{to}{weak}/{feature}"))
            } else {
                None
            };
            if let Some(renamed) = renamed {
                let decor = item.decor().clone();
                *item = Value::from(renamed);
                *item.decor_mut() = decor;
            }
        }
    }
    if optional && !explicit && !uses_dep_syntax {
        features.insert(from, Item::Value(Value::Array(dep_array(to))));
    }
}

/// `["dep:NAME"]`.
fn dep_array(name: &str) -> toml_edit::Array {
    let mut array = toml_edit::Array::new();
    array.push(format!("dep:{name}"));
    array
}

/// The keys of `table` (and of each `[target.*.table]`) with whether each is optional.
fn dependency_entries(root: &toml_edit::Table, table: &str) -> Vec<(String, bool)> {
    let optional = |item: &Item| {
        item.as_table_like()
            .and_then(|entry| entry.get("optional"))
            .and_then(Item::as_bool)
            .unwrap_or(false)
    };
    let mut entries = Vec::new();
    let mut collect = |deps: Option<&Item>| {
        if let Some(deps) = deps.and_then(Item::as_table_like) {
            entries.extend(
                deps.iter()
                    .map(|(name, item)| (name.to_owned(), optional(item))),
            );
        }
    };
    collect(root.get(table));
    if let Some(targets) = root.get("target").and_then(Item::as_table_like) {
        for (_, target) in targets.iter() {
            collect(target.as_table_like().and_then(|target| target.get(table)));
        }
    }
    entries
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::planner::ChangeKind;

    fn change(kind: ChangeKind, keys: &[&str], from: &str, to: &str) -> Change {
        Change {
            kind,
            file: Some("Cargo.toml".to_owned()),
            toml_path: Some(keys.join(".")),
            from: Some(from.to_owned()),
            to: Some(to.to_owned()),
            keys: keys.iter().map(|key| (*key).to_owned()).collect(),
            op: Some(EditOp::Set),
            ..Change::default()
        }
    }

    #[test]
    fn edits_strings_and_table_entries_keeping_comments() {
        let mut document: DocumentMut = "[dependencies]\n# why\nlog = \"0.4\" # pinned\nserde = { version = \"1\", features = [\"derive\"] }\n"
            .parse()
            .unwrap();
        let log = change(
            ChangeKind::Requirement,
            &["dependencies", "log"],
            "0.4",
            "0.5",
        );
        let serde = change(
            ChangeKind::Requirement,
            &["dependencies", "serde"],
            "1",
            "2",
        );
        assert!(set_value(&mut document, &log, "Cargo.toml").unwrap());
        assert!(set_value(&mut document, &serde, "Cargo.toml").unwrap());
        assert!(
            !set_value(&mut document, &serde, "Cargo.toml").unwrap(),
            "idempotent"
        );
        assert_eq!(
            document.to_string(),
            "[dependencies]\n# why\nlog = \"0.5\" # pinned\nserde = { version = \"2\", features = [\"derive\"] }\n"
        );
    }

    #[test]
    fn refuses_a_value_the_plan_did_not_expect() {
        let mut document: DocumentMut = "[package]\nversion = \"0.9.0\"\n".parse().unwrap();
        let bump = change(
            ChangeKind::Version,
            &["package", "version"],
            "0.1.0",
            "0.2.0",
        );
        let error = set_value(&mut document, &bump, "a/Cargo.toml").unwrap_err();
        assert_eq!(
            error.to_string(),
            "a/Cargo.toml: `package.version` is `\"0.9.0\"`, not `0.1.0` as the plan expected; re-plan"
        );
    }

    #[test]
    fn renames_a_dependency_key_in_place_with_its_feature_references() {
        let mut document: DocumentMut = "[features]\nfast = [\"bytes/std\", \"bytes?/serde\"]\n\n[dependencies]\nlog = \"0.4\"\n# why\nbytes = { workspace = true, optional = true } # note\nserde = \"1\"\n"
            .parse()
            .unwrap();
        let rename = Change {
            kind: ChangeKind::Requirement,
            op: Some(EditOp::RenameKey),
            file: Some("a/Cargo.toml".to_owned()),
            toml_path: Some("dependencies.bytes".to_owned()),
            from: Some("bytes".to_owned()),
            to: Some("bytes-v2".to_owned()),
            keys: vec!["dependencies".to_owned(), "bytes".to_owned()],
            ..Change::default()
        };
        assert!(set_value(&mut document, &rename, "a/Cargo.toml").unwrap());
        assert!(!set_value(&mut document, &rename, "a/Cargo.toml").unwrap());
        // The optional dependency had only its implicit feature: `bytes` stays a feature.
        assert_eq!(
            document.to_string(),
            "[features]\nfast = [\"bytes-v2/std\", \"bytes-v2?/serde\"]\nbytes = [\"dep:bytes-v2\"]\n\n[dependencies]\nlog = \"0.4\"\n# why\nbytes-v2 = { workspace = true, optional = true } # note\nserde = \"1\"\n"
        );
    }

    #[test]
    fn edits_a_target_table_written_with_other_spacing_and_never_adds_one() {
        let text = "[target.'cfg(all(unix,not(windows)))'.dependencies]\nlibc = { version = \"0.2.100\", default-features = false }\n";
        let mut document: DocumentMut = text.parse().unwrap();
        let libc = change(
            ChangeKind::Requirement,
            &[
                "target",
                "cfg(all(unix, not(windows)))",
                "dependencies",
                "libc",
            ],
            "0.2.100",
            "0.2.170",
        );
        assert!(set_value(&mut document, &libc, "a/Cargo.toml").unwrap());
        assert_eq!(
            document.to_string(),
            text.replace("0.2.100", "0.2.170"),
            "one table, default features still off"
        );
        let elsewhere = change(
            ChangeKind::Requirement,
            &["target", "cfg(windows)", "dependencies", "libc"],
            "0.2.100",
            "0.2.170",
        );
        let error = set_value(&mut document, &elsewhere, "a/Cargo.toml").unwrap_err();
        assert!(
            error
                .to_string()
                .contains("missing (no `cfg(windows)` table)"),
            "{error}"
        );
    }

    #[test]
    fn adds_a_missing_key_and_a_new_pin() {
        let mut document: DocumentMut = "[package]\nname = \"a\"\n".parse().unwrap();
        let edition = change(ChangeKind::Edition, &["package", "edition"], "2015", "2024");
        assert!(set_value(&mut document, &edition, "a/Cargo.toml").unwrap());
        assert_eq!(
            document.to_string(),
            "[package]\nname = \"a\"\nedition = \"2024\"\n"
        );
        let mut empty = DocumentMut::new();
        let pin = change(ChangeKind::Toolchain, &["toolchain", "channel"], "", "1.96");
        assert!(set_value(&mut empty, &pin, "rust-toolchain.toml").unwrap());
        assert_eq!(empty.to_string(), "[toolchain]\nchannel = \"1.96\"\n");
    }
}
