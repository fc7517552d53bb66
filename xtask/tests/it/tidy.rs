//! Tidy checks of this workspace's own source: crate layering as docs/ARCHITECTURE.md states
//! it, no two modules that import each other, and a `//!` line opening every source file.
//!
//! Facts first (`cargo metadata`, the architecture document, the files), then pure checks over
//! them, so the scanner is tested below on inline text. Each check collects every violation and
//! fails once with the whole list.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const ARCHITECTURE: &str = "docs/ARCHITECTURE.md";
const LAYERING_HEADING: &str = "## Crate layering";

#[test]
fn crate_layering_follows_architecture() {
    let root = workspace_root();
    let members = workspace_members(&root);
    let architecture = read(&root.join(ARCHITECTURE));
    let violations = layering_violations(&members, &architecture);
    assert_none("crate layering", &violations);
}

#[test]
fn no_two_modules_import_each_other() {
    let root = workspace_root();
    let mut violations = Vec::new();
    for member in workspace_members(&root) {
        let files = rust_files_under(&member.dir, &["src"]);
        let dir = relative(&root, &member.dir);
        for (one_way, other_way) in mutual_imports(&files) {
            violations.push(format!(
                "crate `{}`{}: `{}` and `{}` import each other ({dir}/{}:{} names `{}`, \
                 {dir}/{}:{} names `{}`): move what both need into one of them or a third \
                 module, so that only one names the other",
                member.name,
                one_way.target_label(),
                one_way.importer_name(),
                one_way.imported_name(),
                one_way.file,
                one_way.line,
                one_way.written,
                other_way.file,
                other_way.line,
                other_way.written,
            ));
        }
    }
    assert_none("modules that import each other", &violations);
}

#[test]
fn every_source_file_starts_with_a_doc_line() {
    let root = workspace_root();
    let mut violations = Vec::new();
    for member in workspace_members(&root) {
        let mut files = rust_files_under(&member.dir, &["src", "tests", "benches"]);
        if let Ok(text) = fs::read_to_string(member.dir.join("build.rs")) {
            files.insert("build.rs".to_owned(), text);
        }
        let dir = relative(&root, &member.dir);
        for (path, text) in &files {
            if !starts_with_doc_line(text) {
                violations.push(format!(
                    "{dir}/{path}: start the file with a `//!` line saying what it is for \
                     (inner attributes such as `#![...]` go after the `//!` lines)"
                ));
            }
        }
    }
    assert_none("source files without a `//!` first line", &violations);
}

fn assert_none(what: &str, violations: &[String]) {
    assert!(
        violations.is_empty(),
        "{what}: {} violation(s)\n  - {}\n",
        violations.len(),
        violations.join("\n  - ")
    );
}

// ---------------------------------------------------------------------------------------------
// Facts: the workspace root, `cargo metadata`, files.

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits in the workspace root")
        .to_path_buf()
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|error| panic!("read {}: {error}", path.display()))
}

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

struct Member {
    name: String,
    /// The directory of its `Cargo.toml`.
    dir: PathBuf,
    /// Its `Cargo.toml`, relative to the workspace root.
    manifest: String,
    /// The workspace members it depends on, each with the kinds it is declared as
    /// (`normal`, `build`, `dev`); a dev-dependency on itself is left out.
    internal_dependencies: BTreeMap<String, BTreeSet<String>>,
}

fn workspace_members(root: &Path) -> Vec<Member> {
    let output = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--no-deps",
            "--offline",
            "--format-version",
            "1",
        ])
        .current_dir(root)
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: Value = serde_json::from_slice(&output.stdout).expect("cargo metadata's JSON");
    members_from_metadata(&metadata)
}

fn members_from_metadata(metadata: &Value) -> Vec<Member> {
    let member_ids: BTreeSet<&str> = metadata["workspace_members"]
        .as_array()
        .expect("workspace_members")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let packages: Vec<&Value> = metadata["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .filter(|package| {
            package["id"]
                .as_str()
                .is_some_and(|id| member_ids.contains(id))
        })
        .collect();
    let root = Path::new(metadata["workspace_root"].as_str().unwrap_or(""));
    let names: BTreeSet<&str> = packages
        .iter()
        .filter_map(|package| package["name"].as_str())
        .collect();
    packages
        .iter()
        .map(|package| {
            let name = package["name"].as_str().expect("package name").to_owned();
            let manifest = Path::new(package["manifest_path"].as_str().expect("manifest_path"));
            let mut internal_dependencies: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
            for dependency in package["dependencies"].as_array().expect("dependencies") {
                let dependency_name = dependency["name"].as_str().expect("dependency name");
                let kind = dependency["kind"].as_str().unwrap_or("normal");
                // A workspace member is reached by path; a registry crate of the same name is not it.
                let internal = names.contains(dependency_name) && dependency.get("path").is_some();
                if internal && !(dependency_name == name && kind == "dev") {
                    internal_dependencies
                        .entry(dependency_name.to_owned())
                        .or_default()
                        .insert(kind.to_owned());
                }
            }
            Member {
                name,
                dir: manifest
                    .parent()
                    .expect("manifest's directory")
                    .to_path_buf(),
                manifest: relative(root, manifest),
                internal_dependencies,
            }
        })
        .collect()
}

/// Every `.rs` file under `dir`'s given subdirectories, keyed by its path relative to `dir`
/// (with `/`). Test fixtures are other workspaces' source, not this member's, so a `fixtures`
/// directory under `tests/` is skipped.
fn rust_files_under(dir: &Path, subdirectories: &[&str]) -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    let mut pending: Vec<PathBuf> = subdirectories.iter().map(|sub| dir.join(sub)).collect();
    while let Some(current) = pending.pop() {
        let Ok(entries) = fs::read_dir(&current) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("directory entry").path();
            let key = relative(dir, &path).replace('\\', "/");
            if path.is_dir() {
                if !(key.starts_with("tests/") && path.ends_with("fixtures")) {
                    pending.push(path);
                }
            } else if key.ends_with(".rs") {
                files.insert(key, read(&path));
            }
        }
    }
    files
}

// ---------------------------------------------------------------------------------------------
// Crate layering.

/// One line of the layering block: a crate and the workspace crates it may depend on.
struct LayeringLine {
    /// 1-based line number in docs/ARCHITECTURE.md.
    line: usize,
    crate_name: String,
    allowed: BTreeSet<String>,
}

/// Reads the fenced block after the `## Crate layering` heading: `crate: dep, dep` per line.
fn parse_layering(architecture: &str) -> Result<Vec<LayeringLine>, Vec<String>> {
    let lines: Vec<&str> = architecture.lines().collect();
    let Some(heading) = lines
        .iter()
        .position(|line| line.trim() == LAYERING_HEADING)
    else {
        return Err(vec![format!(
            "{ARCHITECTURE} has no `{LAYERING_HEADING}` section: add it with one `crate: dep, dep` \
             line per workspace member in a fenced block"
        )]);
    };
    let after_heading = heading + 1;
    let Some(open) = lines[after_heading..]
        .iter()
        .position(|line| line.trim_start().starts_with("```"))
        .map(|offset| after_heading + offset)
    else {
        return Err(vec![format!(
            "{ARCHITECTURE}: `{LAYERING_HEADING}` has no fenced block of `crate: dep, dep` lines"
        )]);
    };
    let mut parsed = Vec::new();
    let mut problems = Vec::new();
    let mut closed = false;
    for (index, text) in lines.iter().enumerate().skip(open + 1) {
        let line = index + 1;
        let text = text.trim();
        if text.starts_with("```") {
            closed = true;
            break;
        }
        if text.is_empty() {
            continue;
        }
        let Some((crate_name, allowed)) = text.split_once(':') else {
            problems.push(format!(
                "{ARCHITECTURE}:{line}: `{text}` is not `crate: dep, dep` (write `crate:` for none)"
            ));
            continue;
        };
        parsed.push(LayeringLine {
            line,
            crate_name: crate_name.trim().to_owned(),
            allowed: allowed
                .split(',')
                .map(str::trim)
                .filter(|name| !name.is_empty())
                .map(str::to_owned)
                .collect(),
        });
    }
    if !closed {
        problems.push(format!(
            "{ARCHITECTURE}: the `{LAYERING_HEADING}` block is not closed with ```"
        ));
    }
    if problems.is_empty() {
        Ok(parsed)
    } else {
        Err(problems)
    }
}

fn layering_violations(members: &[Member], architecture: &str) -> Vec<String> {
    let lines = match parse_layering(architecture) {
        Ok(lines) => lines,
        Err(problems) => return problems,
    };
    let member_names: BTreeSet<&str> = members.iter().map(|member| member.name.as_str()).collect();
    let mut violations = Vec::new();
    let mut by_crate: BTreeMap<&str, &LayeringLine> = BTreeMap::new();
    for line in &lines {
        if let Some(earlier) = by_crate.insert(&line.crate_name, line) {
            violations.push(format!(
                "{ARCHITECTURE}:{}: `{}` has a second line (the first is line {}): keep one",
                line.line, line.crate_name, earlier.line
            ));
        }
        for name in std::iter::once(&line.crate_name).chain(&line.allowed) {
            if !member_names.contains(name.as_str()) {
                violations.push(format!(
                    "{ARCHITECTURE}:{}: `{name}` is not a workspace member: correct the name \
                     or remove it",
                    line.line
                ));
            }
        }
    }
    for member in members {
        let Some(line) = by_crate.get(member.name.as_str()) else {
            let dependencies: Vec<&str> = member
                .internal_dependencies
                .keys()
                .map(String::as_str)
                .collect();
            violations.push(format!(
                "workspace member `{}` ({}) has no line in {ARCHITECTURE}'s \
                 `{LAYERING_HEADING}` block: add `{}: {}` if the architecture allows those \
                 dependencies",
                member.name,
                member.manifest,
                member.name,
                dependencies.join(", ")
            ));
            continue;
        };
        for (dependency, kinds) in &member.internal_dependencies {
            if !line.allowed.contains(dependency) {
                let kinds: Vec<&str> = kinds.iter().map(String::as_str).collect();
                violations.push(format!(
                    "`{}` depends on `{dependency}` ({} dependency in {}), which its line \
                     ({ARCHITECTURE}:{}) does not name: remove the dependency, or change the \
                     architecture first (its invariants and that line)",
                    member.name,
                    kinds.join(" and "),
                    member.manifest,
                    line.line
                ));
            }
        }
    }
    violations
}

// ---------------------------------------------------------------------------------------------
// Modules that import each other.

/// One module naming another: the first place `from` names `to`.
#[derive(Clone, Debug)]
struct Import {
    /// The crate target the modules belong to: `lib`, `main` or `bin/NAME`.
    target: String,
    from: Vec<String>,
    to: Vec<String>,
    /// The importing file, relative to the member's directory.
    file: String,
    line: usize,
    /// The path as written (a `use` group expanded).
    written: String,
}

impl Import {
    fn importer_name(&self) -> String {
        module_name(&self.from)
    }

    fn imported_name(&self) -> String {
        module_name(&self.to)
    }

    /// Names the target when it is not the library, whose modules most files belong to.
    fn target_label(&self) -> String {
        if self.target == "lib" {
            String::new()
        } else {
            format!(" ({})", self.target)
        }
    }
}

fn module_name(path: &[String]) -> String {
    if path.is_empty() {
        "crate".to_owned()
    } else {
        path.join("::")
    }
}

/// Every pair of modules of one crate target that name each other, each with one import each way.
/// `files` are a member's files keyed by their path relative to the member (`src/a/b.rs`).
fn mutual_imports(files: &BTreeMap<String, String>) -> Vec<(Import, Import)> {
    let mut first: BTreeMap<(String, Vec<String>, Vec<String>), Import> = BTreeMap::new();
    for import in module_imports(files) {
        first
            .entry((
                import.target.clone(),
                import.from.clone(),
                import.to.clone(),
            ))
            .or_insert(import);
    }
    let mut pairs = Vec::new();
    for ((target, from, to), import) in &first {
        if from < to
            && let Some(back) = first.get(&(target.clone(), to.clone(), from.clone()))
        {
            pairs.push((import.clone(), back.clone()));
        }
    }
    pairs
}

/// A source file of one crate target, reached from its root through `mod NAME;` declarations.
struct ModuleFile {
    target: String,
    module: Vec<String>,
    file: String,
    tokens: Vec<Token>,
    /// Modules declared here with `mod NAME;` outside the test module.
    children: BTreeSet<String>,
}

/// Every import between two modules of the same crate target. The crate root only declares
/// modules and re-exports, and every `crate::Item` goes through it, so imports from or of it do
/// not count; neither do a module's imports of itself, nor a parent's re-exports of what its
/// descendants define (the same facade one level down). Files no root reaches (test-only
/// modules, stray files) are not compiled into the target and are skipped.
fn module_imports(files: &BTreeMap<String, String>) -> Vec<Import> {
    let modules = module_files(files);
    let mut known: BTreeMap<&str, BTreeSet<&[String]>> = BTreeMap::new();
    for module in &modules {
        known
            .entry(&module.target)
            .or_default()
            .insert(&module.module);
    }
    let mut imports = Vec::new();
    for module in &modules {
        let known = &known[module.target.as_str()];
        if module.module.is_empty() {
            continue;
        }
        for path in paths_in(&module.tokens) {
            let Some(to) = resolve(module, &path.segments, known) else {
                continue;
            };
            // A parent re-exporting what its children define is a facade, as the crate root is.
            let facade = path.re_export && to.starts_with(&module.module);
            if !to.is_empty() && to != module.module && !facade {
                imports.push(Import {
                    target: module.target.clone(),
                    from: module.module.clone(),
                    to,
                    file: module.file.clone(),
                    line: path.line,
                    written: written(&path.segments),
                });
            }
        }
    }
    imports
}

/// Walks each crate target's module tree from its root file.
fn module_files(files: &BTreeMap<String, String>) -> Vec<ModuleFile> {
    let mut roots: Vec<(String, String)> = Vec::new();
    for path in files.keys() {
        let target = match path.as_str() {
            "src/lib.rs" => Some("lib".to_owned()),
            "src/main.rs" => Some("main".to_owned()),
            _ => path
                .strip_prefix("src/bin/")
                .and_then(|rest| rest.strip_suffix(".rs"))
                .map(|rest| rest.strip_suffix("/main").unwrap_or(rest))
                .filter(|name| !name.contains('/'))
                .map(|name| format!("bin/{name}")),
        };
        if let Some(target) = target {
            roots.push((target, path.clone()));
        }
    }
    let mut modules = Vec::new();
    for (target, root) in roots {
        let mut pending = vec![(root, Vec::new())];
        while let Some((file, module)) = pending.pop() {
            let Some(text) = files.get(&file) else {
                continue;
            };
            let tokens = code_tokens(text);
            let children = declared_children(&tokens);
            // Children of `lib.rs`, `main.rs` and `mod.rs` sit beside them; those of `a.rs` in `a/`.
            let (directory, stem) = file.rsplit_once('/').unwrap_or(("", file.as_str()));
            let stem = stem.trim_end_matches(".rs");
            let child_directory = if module.is_empty() || stem == "mod" {
                directory.to_owned()
            } else {
                format!("{directory}/{stem}")
            };
            for child in &children {
                let mut child_module = module.clone();
                child_module.push(child.clone());
                let flat = format!("{child_directory}/{child}.rs");
                let nested = format!("{child_directory}/{child}/mod.rs");
                let child_file = if files.contains_key(&flat) {
                    flat
                } else {
                    nested
                };
                pending.push((child_file, child_module));
            }
            modules.push(ModuleFile {
                target: target.clone(),
                module,
                file,
                tokens,
                children,
            });
        }
    }
    modules
}

/// The module a path names: `crate::a::b::…` the longest prefix that is a module file,
/// `super::`/`self::` relative to the file's module, a bare `child::…` the declared child;
/// `None` for other paths.
fn resolve(
    module: &ModuleFile,
    segments: &[String],
    known: &BTreeSet<&[String]>,
) -> Option<Vec<String>> {
    let first = segments.first()?.as_str();
    let (mut base, rest_start) = match first {
        "crate" => (Vec::new(), 1),
        "self" | "super" => {
            let mut base = module.module.clone();
            let mut index = 0;
            while let Some(segment) = segments.get(index) {
                match segment.as_str() {
                    "self" => {}
                    "super" => {
                        base.pop()?;
                    }
                    _ => break,
                }
                index += 1;
            }
            (base, index)
        }
        child if module.children.contains(child) => (module.module.clone(), 0),
        _ => return None,
    };
    // `use a::{self, X}` gives `a::self`, which is `a`.
    for segment in segments[rest_start..]
        .iter()
        .filter(|segment| *segment != "self")
    {
        base.push(segment.clone());
        if !known.contains(base.as_slice()) {
            base.pop();
            break;
        }
    }
    Some(base)
}

/// The path as written, without the `self` a `use` group's `{self, …}` leaves inside it.
fn written(segments: &[String]) -> String {
    let kept: Vec<&str> = segments
        .iter()
        .enumerate()
        .filter(|(index, segment)| *index == 0 || *segment != "self")
        .map(|(_, segment)| segment.as_str())
        .collect();
    kept.join("::")
}

/// A token of code with comments and literals removed: an identifier, `::` or one character.
#[derive(Clone, Debug, PartialEq)]
struct Token {
    text: String,
    line: usize,
}

/// The tokens of a file's code, with comments and string and character literals removed and
/// the unit-test module cut off (unit tests may import anything). A `#[cfg(test)] mod NAME;`
/// declaration is dropped, so its file is not part of the module tree.
fn code_tokens(text: &str) -> Vec<Token> {
    let mut tokens = tokenize(&blank_comments_and_literals(text));
    let is = |tokens: &[Token], index: usize, text: &str| {
        tokens.get(index).is_some_and(|token| token.text == text)
    };
    let mut index = 0;
    while index < tokens.len() {
        let inner = is(&tokens, index + 1, "!");
        let attribute = if inner { index + 2 } else { index + 1 };
        let is_cfg_test = is(&tokens, index, "#")
            && ["[", "cfg", "(", "test", ")", "]"]
                .iter()
                .enumerate()
                .all(|(offset, text)| is(&tokens, attribute + offset, text));
        if !is_cfg_test {
            index += 1;
            continue;
        }
        if inner {
            // `#![cfg(test)]`: the whole file is test code.
            return Vec::new();
        }
        let mut next = attribute + 6;
        // Other attributes and a visibility between `#[cfg(test)]` and `mod`.
        while is(&tokens, next, "#") || is(&tokens, next, "pub") {
            let open = next + 1;
            next = if is(&tokens, open, "[") || is(&tokens, open, "(") {
                after_group(&tokens, open)
            } else {
                open
            };
        }
        if is(&tokens, next, "mod") && is(&tokens, next + 2, "{") {
            tokens.truncate(index);
            break;
        }
        if is(&tokens, next, "mod") && is(&tokens, next + 2, ";") {
            tokens.drain(index..next + 3);
            continue;
        }
        index = next;
    }
    tokens
}

/// The index after the bracketed group that opens at `open`.
fn after_group(tokens: &[Token], open: usize) -> usize {
    let mut depth = 0usize;
    for (index, token) in tokens.iter().enumerate().skip(open) {
        match token.text.as_str() {
            "[" | "(" | "{" => depth += 1,
            "]" | ")" | "}" => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return index + 1;
                }
            }
            _ => {}
        }
    }
    tokens.len()
}

/// The modules declared with `mod NAME;` (a file each).
fn declared_children(tokens: &[Token]) -> BTreeSet<String> {
    tokens
        .windows(3)
        .filter(|window| window[0].text == "mod" && window[2].text == ";")
        .map(|window| window[1].text.clone())
        .collect()
}

/// A path written in a file.
struct WrittenPath {
    segments: Vec<String>,
    /// The line where the path starts.
    line: usize,
    /// Written in a `pub use` (any visibility): a re-export.
    re_export: bool,
}

/// Every path of two or more segments, with `use` groups expanded (`a::{b, c::d}` gives
/// `a::b` and `a::c::d`). A visibility (`pub(in crate::a)`) is not an import and is left out.
fn paths_in(tokens: &[Token]) -> Vec<WrittenPath> {
    let mut paths = Vec::new();
    let mut index = 0;
    while index < tokens.len() {
        let token = &tokens[index];
        let previous = |back: usize| {
            index
                .checked_sub(back)
                .map(|at| tokens[at].text.as_str())
                .unwrap_or("")
        };
        let starts_path = is_identifier(&token.text)
            && tokens.get(index + 1).is_some_and(|next| next.text == "::")
            && previous(1) != "::";
        if !starts_path {
            index += 1;
            continue;
        }
        let mut found = Vec::new();
        let next = use_tree(tokens, index, &[], &mut found);
        let is_visibility = previous(1) == "in" && previous(2) == "(" && previous(3) == "pub";
        if !is_visibility {
            let re_export = previous(1) == "use" && is_visibility_end(tokens, index - 1);
            paths.extend(found.into_iter().map(|segments| WrittenPath {
                segments,
                line: token.line,
                re_export,
            }));
        }
        index = next.max(index + 1);
    }
    paths
}

/// Whether a visibility (`pub`, `pub(crate)`, `pub(in a::b)`) ends just before `index`.
fn is_visibility_end(tokens: &[Token], index: usize) -> bool {
    let Some(last) = index.checked_sub(1) else {
        return false;
    };
    match tokens[last].text.as_str() {
        "pub" => true,
        ")" => tokens[..last]
            .iter()
            .rposition(|token| token.text == "(")
            .and_then(|open| open.checked_sub(1))
            .is_some_and(|before| tokens[before].text == "pub"),
        _ => false,
    }
}

/// Reads a path or `use` tree from `index`, adding its full paths to `found`; returns the index
/// after it.
fn use_tree(
    tokens: &[Token],
    mut index: usize,
    prefix: &[String],
    found: &mut Vec<Vec<String>>,
) -> usize {
    let mut segments = prefix.to_vec();
    while let Some(token) = tokens.get(index) {
        if token.text == "{" {
            index += 1;
            while let Some(token) = tokens.get(index) {
                match token.text.as_str() {
                    "}" => {
                        index += 1;
                        break;
                    }
                    "," => index += 1,
                    _ => {
                        let next = use_tree(tokens, index, &segments, found);
                        // Something a use tree cannot hold: give up on this group.
                        if next == index {
                            return index;
                        }
                        index = next;
                    }
                }
            }
            return index;
        }
        if token.text == "*" {
            index += 1;
            break;
        }
        if !is_identifier(&token.text) {
            break;
        }
        segments.push(token.text.clone());
        index += 1;
        if tokens.get(index).is_some_and(|token| token.text == "::") {
            index += 1;
        } else {
            break;
        }
    }
    if segments.len() > prefix.len() {
        found.push(segments);
    }
    index
}

fn is_identifier(text: &str) -> bool {
    text.chars()
        .next()
        .is_some_and(|first| first.is_alphabetic() || first == '_')
}

/// Identifiers, `::`, and every other character but whitespace on its own; `$crate` is `crate`.
fn tokenize(code: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut line = 1;
    let mut chars = code.chars().peekable();
    while let Some(character) = chars.next() {
        if character == '\n' {
            line += 1;
        } else if character.is_alphanumeric() || character == '_' {
            let mut text = String::from(character);
            while let Some(&next) = chars.peek() {
                if next.is_alphanumeric() || next == '_' {
                    text.push(next);
                    chars.next();
                } else {
                    break;
                }
            }
            tokens.push(Token { text, line });
        } else if character == ':' && chars.peek() == Some(&':') {
            chars.next();
            tokens.push(Token {
                text: "::".to_owned(),
                line,
            });
        } else if character == '$' {
            // `$crate` in a macro is the crate root, like `crate`.
        } else if !character.is_whitespace() {
            tokens.push(Token {
                text: character.to_string(),
                line,
            });
        }
    }
    tokens
}

/// The text with comments (doc comments included) and the insides of string, raw string and
/// character literals replaced by spaces; newlines stay, so line numbers do not move.
fn blank_comments_and_literals(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let blank = |character: char| if character == '\n' { '\n' } else { ' ' };
    let at = |index: usize| chars.get(index).copied();
    let identifier_character = |character: Option<char>| {
        character.is_some_and(|character| character.is_alphanumeric() || character == '_')
    };
    let mut index = 0;
    while index < chars.len() {
        let character = chars[index];
        if character == '/' && at(index + 1) == Some('/') {
            while index < chars.len() && chars[index] != '\n' {
                out.push(' ');
                index += 1;
            }
        } else if character == '/' && at(index + 1) == Some('*') {
            let mut depth = 0usize;
            while index < chars.len() {
                if chars[index] == '/' && at(index + 1) == Some('*') {
                    depth += 1;
                    out.push_str("  ");
                    index += 2;
                } else if chars[index] == '*' && at(index + 1) == Some('/') {
                    depth -= 1;
                    out.push_str("  ");
                    index += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(chars[index]));
                    index += 1;
                }
            }
        } else if character == '"' {
            out.push(' ');
            index += 1;
            while index < chars.len() && chars[index] != '"' {
                if chars[index] == '\\' {
                    out.push(' ');
                    index += 1;
                }
                if index < chars.len() {
                    out.push(blank(chars[index]));
                    index += 1;
                }
            }
            if index < chars.len() {
                out.push(' ');
                index += 1;
            }
        } else if let Some(hashes) = raw_string_start(&chars, index, identifier_character) {
            // `r"…"`, `r#"…"#` (and `br`, `cr`, whose prefix letter stays as a stray token).
            let closing: Vec<char> = std::iter::once('"')
                .chain(std::iter::repeat_n('#', hashes))
                .collect();
            let body_start = index + 2 + hashes;
            for _ in index..body_start {
                out.push(' ');
            }
            index = body_start;
            while index < chars.len() && !chars[index..].starts_with(&closing) {
                out.push(blank(chars[index]));
                index += 1;
            }
            for _ in 0..closing.len().min(chars.len() - index) {
                out.push(' ');
                index += 1;
            }
        } else if character == '\'' {
            // A character literal (`'x'`, `'\n'`, `'\u{1F600}'`), or else a lifetime or label.
            if at(index + 1) == Some('\\') {
                out.push(' ');
                index += 1;
                let mut escaped = true;
                while index < chars.len() {
                    let current = chars[index];
                    out.push(blank(current));
                    index += 1;
                    if current == '\'' && !escaped {
                        break;
                    }
                    escaped = current == '\\' && !escaped;
                }
            } else if at(index + 2) == Some('\'') {
                out.push_str("   ");
                index += 3;
            } else {
                out.push(character);
                index += 1;
            }
        } else {
            out.push(character);
            index += 1;
        }
    }
    out
}

/// The number of `#`s when a raw string literal starts at `index` (`r`, then `#`s, then `"`).
fn raw_string_start(
    chars: &[char],
    index: usize,
    identifier_character: impl Fn(Option<char>) -> bool,
) -> Option<usize> {
    if chars[index] != 'r' {
        return None;
    }
    let previous = index.checked_sub(1).map(|at| chars[at]);
    let prefixed = matches!(previous, Some('b' | 'c'))
        && !identifier_character(index.checked_sub(2).map(|at| chars[at]));
    if identifier_character(previous) && !prefixed {
        return None;
    }
    let hashes = chars[index + 1..]
        .iter()
        .take_while(|character| **character == '#')
        .count();
    (chars.get(index + 1 + hashes) == Some(&'"')).then_some(hashes)
}

// ---------------------------------------------------------------------------------------------
// Doc lines.

/// Whether the first line, after blank lines and an optional shebang, is a `//!` line.
fn starts_with_doc_line(text: &str) -> bool {
    let mut lines = text.lines().map(str::trim).filter(|line| !line.is_empty());
    let mut first = lines.next();
    if first.is_some_and(|line| line.starts_with("#!") && !line.starts_with("#![")) {
        first = lines.next();
    }
    first.is_some_and(|line| line.starts_with("//!"))
}

// ---------------------------------------------------------------------------------------------
// The scanner, on inline text.

fn files(entries: &[(&str, &str)]) -> BTreeMap<String, String> {
    entries
        .iter()
        .map(|(path, text)| ((*path).to_owned(), (*text).to_owned()))
        .collect()
}

/// Each import as `target from -> to @file:line`.
fn imports_of(entries: &[(&str, &str)]) -> Vec<String> {
    let mut found: Vec<String> = module_imports(&files(entries))
        .iter()
        .map(|import| {
            format!(
                "{} {} -> {} @{}:{}",
                import.target,
                import.importer_name(),
                import.imported_name(),
                import.file,
                import.line
            )
        })
        .collect();
    found.sort();
    found.dedup();
    found
}

#[test]
fn scanner_resolves_super_and_crate_paths_to_the_longest_module() {
    let found = imports_of(&[
        ("src/lib.rs", "mod a;\npub use a::Thing;\n"),
        ("src/a/mod.rs", "mod b;\nmod x;\npub struct Thing;\n"),
        (
            "src/a/b.rs",
            "use super::x::Helper;\nuse crate::a::x::deep::Item;\nfn f() { super::Thing; }\n",
        ),
        ("src/a/x.rs", "pub struct Helper;\n"),
    ]);
    assert_eq!(
        found,
        [
            "lib a::b -> a @src/a/b.rs:3",
            "lib a::b -> a::x @src/a/b.rs:1",
            "lib a::b -> a::x @src/a/b.rs:2",
        ]
    );
}

#[test]
fn scanner_expands_use_groups_and_bare_child_paths() {
    let found = imports_of(&[
        ("src/lib.rs", "mod a;\nmod b;\nmod c;\n"),
        (
            "src/a.rs",
            "mod inner;\nuse crate::{b::{self, B}, c::C};\nuse std::{io, fmt::Display};\nfn f() { inner::go(); }\n",
        ),
        ("src/a/inner.rs", "pub fn go() {}\n"),
        ("src/b.rs", "pub struct B;\n"),
        ("src/c.rs", "pub struct C;\n"),
    ]);
    assert_eq!(
        found,
        [
            "lib a -> a::inner @src/a.rs:4",
            "lib a -> b @src/a.rs:2",
            "lib a -> c @src/a.rs:2",
        ]
    );
}

#[test]
fn scanner_ignores_comments_literals_tests_and_the_crate_root() {
    let found = imports_of(&[
        ("src/lib.rs", "mod a;\nmod b;\n"),
        (
            "src/a.rs",
            "//! Uses `crate::b::X` in a doc comment.\n\
             // crate::b::Y in a comment\n\
             /* crate::b::Z /* nested */ crate::b::W */\n\
             const TEXT: &str = \"crate::b::X\";\n\
             const RAW: &str = r#\"crate::b::\"X\"\"#;\n\
             const QUOTE: char = '\"';\n\
             fn f<'a>(x: &'a str) -> &'a str { let _ = crate::Root; x }\n\
             pub(in crate::b) fn g() {}\n\
             #[cfg(test)]\n\
             mod tests {\n    use crate::b::X;\n}\n",
        ),
        ("src/b.rs", "pub struct X;\n"),
    ]);
    assert_eq!(found, Vec::<String>::new());
}

#[test]
fn scanner_reports_each_pair_once_with_a_line_each_way() {
    let pairs = mutual_imports(&files(&[
        ("src/lib.rs", "mod a;\nmod b;\nmod c;\n"),
        ("src/a.rs", "use crate::b::B;\nuse crate::c::C;\n"),
        ("src/b.rs", "\n\nuse crate::a::A;\n"),
        ("src/c.rs", "pub struct C;\n"),
    ]));
    let found: Vec<String> = pairs
        .iter()
        .map(|(one, other)| {
            format!(
                "{} <-> {} ({}:{}, {}:{})",
                one.importer_name(),
                one.imported_name(),
                one.file,
                one.line,
                other.file,
                other.line
            )
        })
        .collect();
    assert_eq!(found, ["a <-> b (src/a.rs:1, src/b.rs:3)"]);
}

#[test]
fn scanner_keeps_binary_and_library_roots_apart_and_skips_test_only_files() {
    let found = imports_of(&[
        ("src/lib.rs", "mod a;\n#[cfg(test)]\nmod fixtures;\n"),
        ("src/a.rs", "pub struct A;\n"),
        ("src/fixtures.rs", "use crate::a::A;\n"),
        ("src/main.rs", "mod cli;\nmod run;\n"),
        ("src/cli.rs", "use crate::run::go;\nuse mylib::a::A;\n"),
        ("src/run.rs", "pub fn go() {}\n"),
    ]);
    assert_eq!(found, ["main cli -> run @src/cli.rs:1"]);
}

#[test]
fn doc_line_may_follow_a_shebang_but_not_an_attribute() {
    assert!(starts_with_doc_line(
        "\n//! A module.\n#![allow(dead_code)]\n"
    ));
    assert!(starts_with_doc_line(
        "#!/usr/bin/env run-cargo-script\n//! A script.\n"
    ));
    assert!(!starts_with_doc_line(
        "#![allow(dead_code)]\n//! A module.\n"
    ));
    assert!(!starts_with_doc_line("/// An item.\nfn f() {}\n"));
    assert!(!starts_with_doc_line(""));
}

#[test]
fn layering_names_missing_lines_extra_dependencies_and_unknown_crates() {
    let metadata = serde_json::json!({
        "workspace_root": "/w",
        "workspace_members": ["a 1", "b 1", "c 1"],
        "packages": [
            { "id": "a 1", "name": "a", "manifest_path": "/w/a/Cargo.toml", "dependencies": [
                { "name": "b", "kind": null, "path": "/w/b" },
                { "name": "c", "kind": "dev", "path": "/w/c" },
                { "name": "a", "kind": "dev", "path": "/w/a" },
                { "name": "serde", "kind": null }
            ] },
            { "id": "b 1", "name": "b", "manifest_path": "/w/b/Cargo.toml", "dependencies": [] },
            { "id": "c 1", "name": "c", "manifest_path": "/w/c/Cargo.toml", "dependencies": [
                { "name": "b", "kind": "build", "path": "/w/b" }
            ] }
        ]
    });
    let members = members_from_metadata(&metadata);
    let architecture = "# A\n\n## Crate layering\n\nText.\n\n```text\na: b\nb:\nd: b\n```\n";
    let violations = layering_violations(&members, architecture);
    assert_eq!(violations.len(), 3, "{violations:#?}");
    assert!(violations[0].starts_with("docs/ARCHITECTURE.md:10: `d` is not a workspace member"));
    assert!(
        violations[1].starts_with("`a` depends on `c` (dev dependency in a/Cargo.toml)"),
        "{violations:#?}"
    );
    assert!(
        violations[2].starts_with("workspace member `c` (c/Cargo.toml) has no line")
            && violations[2].contains("add `c: b`"),
        "{violations:#?}"
    );
    let complete = "## Crate layering\n```\na: b, c\nb:\nc: b\n```\n";
    assert_eq!(
        layering_violations(&members, complete),
        Vec::<String>::new()
    );
}

#[test]
fn scanner_counts_a_parent_and_child_unless_the_parent_only_re_exports() {
    let facade = mutual_imports(&files(&[
        ("src/lib.rs", "mod domain;\n"),
        (
            "src/domain/mod.rs",
            "mod money;\npub use money::Money;\npub(crate) use money::check;\npub struct Id;\n",
        ),
        ("src/domain/money.rs", "use super::Id;\npub struct Money;\n"),
    ]));
    assert!(facade.is_empty(), "{facade:?}");
    let pairs = mutual_imports(&files(&[
        ("src/lib.rs", "mod resolve;\n"),
        (
            "src/resolve.rs",
            "mod defmap;\nuse defmap::DefMap;\npub struct Crate;\n",
        ),
        (
            "src/resolve/defmap.rs",
            "use super::Crate;\npub struct DefMap;\n",
        ),
    ]));
    let found: Vec<String> = pairs
        .iter()
        .map(|(one, other)| {
            format!(
                "{} ({}) <-> {} ({})",
                one.importer_name(),
                one.written,
                other.importer_name(),
                other.written
            )
        })
        .collect();
    assert_eq!(
        found,
        ["resolve (defmap::DefMap) <-> resolve::defmap (super::Crate)"]
    );
}
