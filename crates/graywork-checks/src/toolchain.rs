//! `check-toolchain`: the pinned toolchain, the MSRV, the CI workflows and the README must agree.
//!
//! Four places name a Rust version, and each is read with the file and line it came from:
//! - `rust-toolchain.toml` (or the older `rust-toolchain`): `[toolchain] channel`, the pin;
//! - `rust-version` in the root `[workspace.package]` and in each member's `[package]`
//!   (`rust-version.workspace = true` inherits, and so agrees);
//! - `.github/workflows/*.yml`: `rustup toolchain install X`, `rustup default X`,
//!   `rustup run X`, `cargo +X`, `--toolchain X`, `dtolnay/rust-toolchain@X`, and `toolchain: X`
//!   or `RUSTUP_TOOLCHAIN: X` keys; values that are `${{ ... }}` expressions are not checked;
//! - the README: every `Rust X.Y` or `Rust X.Y.Z` mention.
//!
//! The rules: no MSRV (the workspace's or a member's own) may exceed the pin, or, when no
//! toolchain is pinned (or the pin names a channel, not a release), the compiler that builds
//! the workspace (`$RUSTC` or `rustc --version` in the workspace root); a member that declares
//! no `rust-version` inherits the workspace's; a member's MSRV is not below the MSRV of a
//! member it depends on (normal or build); a workflow names exactly the pinned toolchain
//! (`1.95` and `1.95.0` differ there, since rustup may resolve `1.95` to a later patch
//! release), except a job that names `beta` or `nightly` on purpose or a declared
//! `rust-version` (an MSRV job); the README's version matches the pin on every part it states
//! (table rows, such as a table of past MSRVs, are not declarations).
//!
//! MSRVs that the owners set apart visibly are exceptions, listed as such and never failures:
//! a member's own literal `rust-version` that differs from the workspace's, above or below
//! (with the comment beside or above it, such as `# MSRV:1`, quoted as its reason); and, for
//! a member without a `rust-version`, `package.metadata.msrv`, `publish = false` (a tool, built
//! with the workspace's toolchain) or inheriting no key of `[workspace.package]` (a crate
//! released on its own terms). Anything else can be allowed in the root manifest:
//!
//! ```toml
//! [workspace.metadata.graywork.check-toolchain]
//! allow = ["ci/old.yml", "crates/legacy/Cargo.toml:5"]   # a file, or file:line
//! ```
//!
//! A missing file is "not declared" and checks nothing, so the command works on any workspace;
//! a malformed `rust-toolchain.toml` is an error.

use std::fmt;
use std::path::Path;

use anyhow::Context as _;
use graywork_workspace::{Declared, ToolchainPin, Workspace, relative_display};

/// A place in a file, relative to the workspace root: the one type every tool crate uses.
pub use graywork_workspace::Location;

/// A toolchain or version as a file writes it: `1.95.0`, `1.95`, `stable`, `nightly-2026-01-01`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toolchain {
    /// The text, without a target-triple suffix.
    pub text: String,
    /// Major, minor and (when written) patch, for a numbered release.
    pub version: Option<(u64, u64, Option<u64>)>,
}

impl Toolchain {
    /// Reads a toolchain name, dropping a target triple (`1.95.0-x86_64-unknown-linux-gnu`).
    pub fn parse(text: &str) -> Toolchain {
        let text = text.trim();
        let text = match text.split_once('-') {
            Some((release, _)) if parse_version(release).is_some() => release,
            _ => text,
        };
        Toolchain {
            text: text.to_owned(),
            version: parse_version(text),
        }
    }

    /// The version with a missing patch read as 0, for ordering.
    fn ordered(&self) -> Option<(u64, u64, u64)> {
        self.version
            .map(|(major, minor, patch)| (major, minor, patch.unwrap_or(0)))
    }

    /// Whether a loose mention (README) agrees: every part it states equals the pin's.
    fn loosely_matches(&self, pinned: &Toolchain) -> Option<bool> {
        let (major, minor, patch) = self.version?;
        let (pinned_major, pinned_minor, pinned_patch) = pinned.version?;
        Some(
            major == pinned_major
                && minor == pinned_minor
                && match (patch, pinned_patch) {
                    (Some(a), Some(b)) => a == b,
                    _ => true,
                },
        )
    }
}

impl fmt::Display for Toolchain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// One disagreement, where it is and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Mismatch {
    /// Where the wrong value is written.
    pub location: Location,
    /// What is wrong.
    pub problem: String,
    /// How to fix it.
    pub fix: String,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "mismatch: {}: {}\n  fix: {}",
            self.location, self.problem, self.fix
        )
    }
}

/// What `check-toolchain` found: each declaration, and every mismatch.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Report {
    /// One line per declaration (or "not declared"), in a fixed order.
    pub declarations: Vec<String>,
    /// Members whose MSRV differs from the workspace's on purpose, as their owners made
    /// visible; they do not fail the check.
    pub exceptions: Vec<Exception>,
    /// Mismatches the root manifest's allow-list accepts; they do not fail the check.
    pub allowed: Vec<Mismatch>,
    /// Every mismatch, in the order of the declarations.
    pub mismatches: Vec<Mismatch>,
}

impl Report {
    /// The report as JSON: `declarations`, `exceptions` (each with `location` `{file, line}`,
    /// `crate`, `rust_version` and `reason`), `allowed`, `mismatches` (each with `location`,
    /// `problem` and `fix`) and `ok`.
    pub fn to_json(&self) -> String {
        let mut value = serde_json::to_value(self).unwrap_or_default();
        if let Some(object) = value.as_object_mut() {
            object.insert(
                "schema".to_owned(),
                serde_json::Value::from("graywork.check-toolchain/v1"),
            );
            object.insert("ok".to_owned(), self.mismatches.is_empty().into());
        }
        // Serializing plain strings and numbers cannot fail.
        serde_json::to_string_pretty(&value).unwrap_or_default() + "\n"
    }

    /// Only what fails: each mismatch with its fix (what `--quiet` prints).
    pub fn render_failures(&self) -> String {
        self.mismatches
            .iter()
            .map(|mismatch| format!("{mismatch}\n"))
            .collect()
    }

    /// The report as printed: declarations, exceptions, allowed mismatches, mismatches, then a
    /// verdict line.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for line in &self.declarations {
            out.push_str(line);
            out.push('\n');
        }
        for exception in &self.exceptions {
            out.push_str(&format!("{exception}\n"));
        }
        for allowed in &self.allowed {
            out.push_str(&format!(
                "allowed: {}: {} (by [workspace.metadata.graywork.check-toolchain] allow)\n",
                allowed.location, allowed.problem
            ));
        }
        for mismatch in &self.mismatches {
            out.push_str(&mismatch.to_string());
            out.push('\n');
        }
        match self.mismatches.len() {
            0 => out.push_str("ok: the toolchain declarations agree\n"),
            1 => out.push_str("1 toolchain mismatch\n"),
            n => out.push_str(&format!("{n} toolchain mismatches\n")),
        }
        out
    }
}

/// Checks that every declaration of `workspace` agrees: the pin and the `rust-version`s as
/// its loaded [`Declarations`](graywork_workspace::Declarations) say, and the workflows, the
/// README and the allow-list as read under its root.
///
/// Errors (a malformed `rust-toolchain.toml`, an unreadable file) name the file and, when the
/// file does not parse, the line.
pub fn check(
    workspace: &Workspace,
    installed_rustc: impl FnOnce() -> Option<InstalledRustc>,
) -> anyhow::Result<Report> {
    let root = workspace.root.as_std_path();
    let declarations = &workspace.declarations;
    let mut report = Report::default();
    let pinned = match &declarations.toolchain_pin {
        ToolchainPin::Pinned(channel) => {
            let (toolchain, location) = (Toolchain::parse(&channel.value), location_of(channel));
            report
                .declarations
                .push(format!("pinned toolchain: {toolchain} ({location})"));
            Some((toolchain, location))
        }
        ToolchainPin::Unpinned(reason) => {
            report
                .declarations
                .push(format!("pinned toolchain: not declared ({reason})"));
            None
        }
        ToolchainPin::Unreadable(error) => return Err(error.clone().into()),
    };
    // Without a pin that names a release, the compiler that builds the workspace is whichever
    // rustup (or the PATH) gives: an MSRV above it fails every build.
    let installed = if pinned
        .as_ref()
        .is_some_and(|(pin, _)| pin.version.is_some())
    {
        None
    } else {
        installed_rustc()
    };
    if let Some(installed) = &installed {
        report.declarations.push(format!(
            "installed rustc: {} ({})",
            installed.version, installed.source
        ));
    }
    let ceiling = ceiling(pinned.as_ref(), installed.as_ref());

    let workspace_msrv = declarations
        .workspace_package
        .get("rust-version")
        .map(|msrv| {
            let mark = msrv_comment(&msrv.comments);
            (Toolchain::parse(&msrv.value), location_of(msrv), mark)
        });
    match &workspace_msrv {
        Some((msrv, location, mark)) => {
            let mark = mark
                .as_ref()
                .map_or(String::new(), |mark| format!(", `{mark}`"));
            report
                .declarations
                .push(format!("workspace rust-version: {msrv} ({location}{mark})"));
            if let Some(ceiling) = &ceiling
                && exceeds(msrv, &ceiling.version)
            {
                report.mismatches.push(Mismatch {
                    location: location.clone(),
                    problem: format!(
                        "rust-version {msrv} in [workspace.package] exceeds {}",
                        ceiling.describe
                    ),
                    fix: ceiling.fix(msrv, " in [workspace.package]"),
                });
            }
        }
        None => report
            .declarations
            .push("workspace rust-version: not declared".to_owned()),
    }
    let workspace_msrv = workspace_msrv.map(|(msrv, location, _)| (msrv, location));

    let mut declared_msrvs = check_members(
        workspace,
        workspace_msrv.as_ref(),
        ceiling.as_ref(),
        &mut report,
    )?;
    declared_msrvs.extend(workspace_msrv.iter().map(|(msrv, _)| msrv.clone()));
    check_workflows(workspace, pinned.as_ref(), &declared_msrvs, &mut report)?;
    check_readme(root, pinned.as_ref(), &mut report)?;
    let allow = read_allow_list(root)?;
    let (allowed, mismatches): (Vec<Mismatch>, Vec<Mismatch>) =
        report.mismatches.drain(..).partition(|mismatch| {
            allow.iter().any(|entry| {
                *entry == mismatch.location.file || *entry == mismatch.location.to_string()
            })
        });
    report.allowed = allowed;
    report.mismatches = mismatches;
    Ok(report)
}

/// `[workspace.metadata.graywork.check-toolchain] allow`: files or `file:line` places whose
/// mismatches are deliberate.
fn read_allow_list(root: &Path) -> anyhow::Result<Vec<String>> {
    #[derive(serde::Deserialize)]
    struct Root {
        workspace: Option<Workspace>,
    }
    #[derive(serde::Deserialize)]
    struct Workspace {
        metadata: Option<Metadata>,
    }
    #[derive(serde::Deserialize)]
    struct Metadata {
        graywork: Option<Graywork>,
    }
    #[derive(serde::Deserialize)]
    struct Graywork {
        #[serde(rename = "check-toolchain")]
        check_toolchain: Option<CheckToolchain>,
    }
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct CheckToolchain {
        allow: Vec<String>,
    }
    let Some(text) = read_optional(&root.join("Cargo.toml"))? else {
        return Ok(Vec::new());
    };
    let manifest: Root = parse_toml(&text, "Cargo.toml")?;
    Ok(manifest
        .workspace
        .and_then(|workspace| workspace.metadata)
        .and_then(|metadata| metadata.graywork)
        .and_then(|graywork| graywork.check_toolchain)
        .map(|check| check.allow)
        .unwrap_or_default())
}

fn exceeds(msrv: &Toolchain, pin: &Toolchain) -> bool {
    matches!((msrv.ordered(), pin.ordered()), (Some(m), Some(p)) if m > p)
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

fn read_optional(path: &Path) -> anyhow::Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// Parses TOML, turning a syntax or type error into one naming the file and line.
fn parse_toml<T: serde::de::DeserializeOwned>(text: &str, file: &str) -> anyhow::Result<T> {
    toml::from_str(text).map_err(|error| {
        let line = error.span().map_or(String::new(), |span| {
            format!(" at line {}", line_of(text, span.start))
        });
        anyhow::anyhow!("malformed {file}{line}: {}", error.message().trim())
    })
}

/// The toolchain that `rust-toolchain.toml` (or the older `rust-toolchain`) in `dir` pins, and
/// that file's path; `None` when `dir` has no such file or it names no channel. The file is
/// read by rustup's rule ([`graywork_workspace::read_toolchain_pin`]).
///
/// Errors name the file when it cannot be read or parsed.
pub fn pin_in(dir: &Path) -> anyhow::Result<Option<(Toolchain, std::path::PathBuf)>> {
    match graywork_workspace::read_toolchain_pin(dir) {
        ToolchainPin::Pinned(channel) => Ok(Some((
            Toolchain::parse(&channel.value),
            dir.join(&channel.site.file),
        ))),
        ToolchainPin::Unpinned(_) => Ok(None),
        ToolchainPin::Unreadable(error) => Err(error.into()),
    }
}

/// Where a setting is written, as a check reports it (line 1 when the line is unknown).
fn location_of(declared: &Declared) -> Location {
    Location {
        file: declared.site.file.clone(),
        line: declared.site.line.unwrap_or(1),
    }
}

/// What a member's manifest says about its MSRV, and the marks that show its owners chose it.
struct MemberFacts {
    msrv: MemberMsrv,
    /// A comment on the `rust-version` line or the line above it (`# MSRV:1`), or
    /// `package.metadata.msrv`, as written.
    marked: Option<String>,
    /// `publish = false`: a tool or test crate that nobody builds with an older compiler.
    unpublished: bool,
    /// Whether the member inherits any key of `[workspace.package]`; one that inherits none is
    /// released on its own terms.
    inherits_workspace_package: bool,
}

/// A member's `rust-version`, as its manifest writes it.
enum MemberMsrv {
    Inherits,
    Explicit(Toolchain, Location),
    Missing(Location),
}

/// The facts of member `index` of `workspace`, from its loaded declarations.
fn member_facts(workspace: &Workspace, index: usize) -> MemberFacts {
    let member = &workspace.members[index];
    let declared = workspace.declarations.members.get(index);
    let msrv = match declared.and_then(|declared| declared.rust_version.as_ref()) {
        Some(msrv) if msrv.inherited => MemberMsrv::Inherits,
        Some(msrv) => MemberMsrv::Explicit(Toolchain::parse(&msrv.value), location_of(msrv)),
        None => MemberMsrv::Missing(Location {
            file: relative_display(&workspace.root, &member.manifest_path),
            line: declared
                .and_then(|declared| declared.package_line)
                .unwrap_or(1),
        }),
    };
    let metadata_msrv = declared
        .and_then(|declared| declared.metadata_msrv.as_ref())
        .map(|msrv| format!("package.metadata.msrv = \"{msrv}\""));
    let marked = match (
        &msrv,
        declared.and_then(|declared| declared.rust_version.as_ref()),
    ) {
        (MemberMsrv::Explicit(..), Some(msrv)) => msrv_comment(&msrv.comments),
        _ => None,
    }
    .or(metadata_msrv);
    MemberFacts {
        msrv,
        marked,
        unpublished: declared.is_some_and(|declared| declared.unpublished),
        inherits_workspace_package: declared
            .is_some_and(|declared| !declared.inherited_package_keys.is_empty()),
    }
}

/// The comment that marks an MSRV, among those beside its value (after it on its line, or on
/// the line above): one that names the MSRV wins; any other still states why.
fn msrv_comment(comments: &[String]) -> Option<String> {
    comments
        .iter()
        .find(|comment| comment.to_ascii_lowercase().contains("msrv"))
        .or(comments.first())
        .cloned()
}

/// A member MSRV that differs from the workspace's (or is absent) on purpose, as its owners
/// made visible; reported, never a failure.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Exception {
    /// Where the member's `rust-version` is written (or its `[package]` line).
    pub location: Location,
    /// The member.
    #[serde(rename = "crate")]
    pub krate: String,
    /// Its own `rust-version`, when it writes one.
    pub rust_version: Option<String>,
    /// Why it is deliberate.
    pub reason: String,
}

impl fmt::Display for Exception {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.rust_version {
            Some(msrv) => write!(
                f,
                "exception: {}: crate `{}` rust-version {msrv}: {}",
                self.location, self.krate, self.reason
            ),
            None => write!(
                f,
                "exception: {}: crate `{}` declares no rust-version: {}",
                self.location, self.krate, self.reason
            ),
        }
    }
}

/// The compiler that builds the workspace when no numbered toolchain is pinned: what
/// `rustc --version` says in the workspace (through rustup, that follows a channel pin).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstalledRustc {
    /// The version `rustc --version` prints (`1.95.0`).
    pub version: Toolchain,
    /// How it was found, for the report (`rustc --version`).
    pub source: String,
}

/// Asks the compiler that builds the workspace at `root` for its version: `$RUSTC` (as cargo
/// uses it) or `rustc`, run in `root` so that rustup resolves the toolchain there. `None` when
/// it cannot be run or prints no version.
pub fn installed_rustc(root: &Path) -> Option<InstalledRustc> {
    let source = if std::env::var_os("RUSTC").is_some() {
        "`$RUSTC --version`"
    } else {
        "`rustc --version`"
    };
    let version = Toolchain::parse(&graywork_workspace::rustc_version(root)?);
    version.version?;
    Some(InstalledRustc {
        version,
        source: source.to_owned(),
    })
}

/// The ceiling every MSRV must stay under: the pin when it names a release, else the installed
/// compiler when there is no pin or the pin names a channel.
struct Ceiling {
    version: Toolchain,
    describe: String,
    /// Whether it is the installed compiler rather than a pin.
    installed: bool,
}

impl Ceiling {
    /// How to fix an MSRV of `msrv` above the ceiling, declared where `place` says.
    fn fix(&self, msrv: &Toolchain, place: &str) -> String {
        let lower = format!("set `rust-version = \"{}\"`{place}", self.version);
        if self.installed {
            format!(
                "build with rustc {msrv} or later (`rustup update`, or pin it in \
                 rust-toolchain.toml), or {lower}"
            )
        } else {
            lower
        }
    }
}

fn ceiling(
    pinned: Option<&(Toolchain, Location)>,
    installed: Option<&InstalledRustc>,
) -> Option<Ceiling> {
    match (pinned, installed) {
        (Some((pin, location)), _) if pin.version.is_some() => Some(Ceiling {
            version: pin.clone(),
            describe: format!("the pinned toolchain {pin} ({location})"),
            installed: false,
        }),
        (pinned, Some(installed)) => {
            let describe = match pinned {
                Some((pin, location)) => format!(
                    "rustc {} ({}), which the pin {pin} ({location}) resolves to",
                    installed.version, installed.source
                ),
                None => format!(
                    "the installed rustc {} ({}), and no toolchain is pinned, so `cargo check` fails",
                    installed.version, installed.source
                ),
            };
            Some(Ceiling {
                version: installed.version.clone(),
                describe,
                installed: true,
            })
        }
        _ => None,
    }
}

fn check_members(
    workspace: &Workspace,
    workspace_msrv: Option<&(Toolchain, Location)>,
    ceiling: Option<&Ceiling>,
    report: &mut Report,
) -> anyhow::Result<Vec<Toolchain>> {
    let mut declared = Vec::new();
    let mut inheriting = 0;
    // Each member's effective MSRV and where it is written, for the dependency-order rule.
    let mut effective: std::collections::BTreeMap<&str, (Toolchain, Location)> =
        std::collections::BTreeMap::new();
    for (index, member) in workspace.members.iter().enumerate() {
        let name = &member.name;
        let facts = member_facts(workspace, index);
        match facts.msrv {
            MemberMsrv::Inherits => {
                inheriting += 1;
                if let Some(workspace) = workspace_msrv {
                    effective.insert(name, workspace.clone());
                }
            }
            MemberMsrv::Explicit(msrv, location) => {
                effective.insert(name, (msrv.clone(), location.clone()));
                declared.push(msrv.clone());
                report
                    .declarations
                    .push(format!("member rust-version: {name} {msrv} ({location})"));
                if let Some(ceiling) = ceiling
                    && exceeds(&msrv, &ceiling.version)
                {
                    report.mismatches.push(Mismatch {
                        location: location.clone(),
                        problem: format!(
                            "crate `{name}` declares rust-version {msrv}, which exceeds {}",
                            ceiling.describe
                        ),
                        fix: ceiling.fix(&msrv, ""),
                    });
                }
                // A member that writes its own rust-version chose it: the workspace's does not
                // apply to it, whether it is lower (an older-compiler library) or higher (a
                // tool on a newer one).
                if let Some((workspace, workspace_location)) = workspace_msrv
                    && msrv.ordered() != workspace.ordered()
                {
                    let side = match (msrv.ordered(), workspace.ordered()) {
                        (Some(m), Some(w)) if m < w => "below",
                        (Some(_), Some(_)) => "above",
                        _ => "unlike",
                    };
                    let mut reason = format!(
                        "its own, {side} [workspace.package] {workspace} ({workspace_location})"
                    );
                    if let Some(mark) = &facts.marked {
                        reason.push_str(&format!(", marked `{mark}`"));
                    }
                    report.exceptions.push(Exception {
                        location,
                        krate: name.clone(),
                        rust_version: Some(msrv.to_string()),
                        reason,
                    });
                }
            }
            MemberMsrv::Missing(location) => {
                report.declarations.push(format!(
                    "member rust-version: {name} not declared ({})",
                    location.file
                ));
                let Some((workspace, workspace_location)) = workspace_msrv else {
                    continue;
                };
                let reason = if let Some(mark) = &facts.marked {
                    Some(format!("its MSRV is declared as `{mark}`"))
                } else if facts.unpublished {
                    Some(
                        "`publish = false`: a tool built with the workspace's toolchain".to_owned(),
                    )
                } else if !facts.inherits_workspace_package {
                    Some(
                        "it inherits nothing from [workspace.package]: released on its own terms"
                            .to_owned(),
                    )
                } else {
                    None
                };
                match reason {
                    Some(reason) => report.exceptions.push(Exception {
                        location,
                        krate: name.clone(),
                        rust_version: None,
                        reason,
                    }),
                    None => report.mismatches.push(Mismatch {
                        location,
                        problem: format!(
                            "crate `{name}` declares no rust-version, but [workspace.package] \
                             ({workspace_location}) declares {workspace}"
                        ),
                        fix: "add `rust-version.workspace = true` under [package]".to_owned(),
                    }),
                }
            }
        }
    }
    for member in &workspace.members {
        let Some((msrv, location)) = effective.get(member.name.as_str()) else {
            continue;
        };
        // The members it depends on through normal or build dependencies.
        let depends_on = member
            .dependencies
            .iter()
            .filter(|dependency| dependency.kind.orders())
            .filter_map(|dependency| dependency.member)
            .map(|target| &workspace.members[target].name);
        for dependency in depends_on {
            let Some((needed, needed_location)) = effective.get(dependency.as_str()) else {
                continue;
            };
            if exceeds(needed, msrv) {
                report.mismatches.push(Mismatch {
                    location: location.clone(),
                    problem: format!(
                        "crate `{}` has rust-version {msrv}, below rust-version {needed} of `{dependency}` ({needed_location}), which it depends on",
                        member.name
                    ),
                    fix: format!(
                        "raise `{}`'s rust-version to {needed}, or lower `{dependency}`'s",
                        member.name
                    ),
                });
            }
        }
    }
    if inheriting > 0 {
        let declaration = if inheriting == 1 {
            "member rust-version: 1 member inherits [workspace.package]".to_owned()
        } else {
            format!("member rust-version: {inheriting} members inherit [workspace.package]")
        };
        report.declarations.push(declaration);
    }
    Ok(declared)
}

/// One toolchain a workflow names, or an expression it uses instead.
#[derive(Debug, Clone, PartialEq, Eq)]
enum WorkflowMention {
    Toolchain(Toolchain),
    Expression(String),
}

fn check_workflows(
    workspace: &Workspace,
    pinned: Option<&(Toolchain, Location)>,
    declared_msrvs: &[Toolchain],
    report: &mut Report,
) -> anyhow::Result<()> {
    let directory = workspace.root.join(".github").join("workflows");
    let mut files: Vec<_> = match directory.read_dir_utf8() {
        Ok(entries) => entries
            .filter_map(|entry| entry.ok().map(|entry| entry.into_path()))
            .filter(|path| matches!(path.extension(), Some("yml" | "yaml")))
            .collect(),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(error) => {
            return Err(error).with_context(|| format!("cannot read {}", directory));
        }
    };
    files.sort();
    if files.is_empty() {
        report
            .declarations
            .push("workflow toolchain: not declared (no .github/workflows/*.yml)".to_owned());
        return Ok(());
    }
    let mut found = false;
    for path in &files {
        let file = relative_display(&workspace.root, path);
        let text =
            std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path))?;
        for (index, line) in text.lines().enumerate() {
            let location = Location {
                file: file.clone(),
                line: index + 1,
            };
            for mention in workflow_mentions(line) {
                found = true;
                match mention {
                    WorkflowMention::Expression(expression) => report.declarations.push(format!(
                        "workflow toolchain: {expression} ({location}, an expression: not checked)"
                    )),
                    WorkflowMention::Toolchain(toolchain) if is_other_channel(&toolchain.text) => {
                        report.declarations.push(format!(
                            "workflow toolchain: {toolchain} ({location}, another channel on purpose: not checked)"
                        ));
                    }
                    // A job on a declared MSRV other than the pin tests that MSRV: the usual
                    // `msrv` job.
                    WorkflowMention::Toolchain(toolchain)
                        if pinned.is_some_and(|(pin, _)| pin.text != toolchain.text)
                            && declared_msrvs.iter().any(|msrv| {
                                msrv.ordered().is_some() && msrv.ordered() == toolchain.ordered()
                            }) =>
                    {
                        report.declarations.push(format!(
                            "workflow toolchain: {toolchain} ({location}, a declared rust-version: not checked)"
                        ));
                    }
                    WorkflowMention::Toolchain(toolchain) => {
                        report
                            .declarations
                            .push(format!("workflow toolchain: {toolchain} ({location})"));
                        if let Some((pin, pin_location)) = pinned
                            && toolchain.text != pin.text
                        {
                            report.mismatches.push(Mismatch {
                                location: location.clone(),
                                problem: format!(
                                    "the workflow uses toolchain {toolchain}, but {pin_location} \
                                     pins {pin}"
                                ),
                                fix: format!("use {pin}"),
                            });
                        }
                    }
                }
            }
        }
    }
    if !found {
        report.declarations.push(
            "workflow toolchain: not declared (the workflows name none, so rustup follows the pin)"
                .to_owned(),
        );
    }
    Ok(())
}

/// Whether a workflow names `beta` or `nightly` (dated or not): a job that tests another channel
/// on purpose, not a copy of the pin that went stale.
fn is_other_channel(text: &str) -> bool {
    ["beta", "nightly"].iter().any(|channel| {
        text == *channel
            || text
                .strip_prefix(channel)
                .is_some_and(|rest| rest.starts_with('-'))
    })
}

/// Every toolchain one workflow line names.
fn workflow_mentions(line: &str) -> Vec<WorkflowMention> {
    let line = strip_yaml_comment(line);
    let mut values: Vec<String> = Vec::new();

    // `toolchain: X` (action inputs) and `RUSTUP_TOOLCHAIN: X` (environment).
    let key_line = line.trim_start().trim_start_matches("- ").trim_start();
    for key in ["toolchain:", "RUSTUP_TOOLCHAIN:"] {
        if let Some(value) = key_line.strip_prefix(key) {
            values.push(value.trim().to_owned());
        }
    }

    // `uses: dtolnay/rust-toolchain@X`, where X names the toolchain unless it is a branch.
    if let Some((_, rest)) = line.split_once("dtolnay/rust-toolchain@") {
        let reference: String = rest
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != '"' && *c != '\'')
            .collect();
        let toolchain = Toolchain::parse(&reference);
        if toolchain.version.is_some() || is_channel_name(&toolchain.text) {
            values.push(reference);
        }
    }

    // Command lines: rustup subcommands, `cargo +X` and `--toolchain X`.
    let tokens: Vec<&str> = line
        .split(|c: char| c.is_whitespace() || c == ';' || c == '(' || c == ')')
        .filter(|token| !token.is_empty())
        .collect();
    let mut index = 0;
    while index < tokens.len() {
        let token = tokens[index];
        if let Some(value) = token.strip_prefix("--toolchain=") {
            values.push(value.to_owned());
        } else if token == "--toolchain" {
            if let Some(value) = tokens.get(index + 1) {
                values.push((*value).to_owned());
            }
        } else if (token.ends_with("cargo")
            || token.ends_with("rustc")
            || token.ends_with("rustdoc"))
            && let Some(value) = tokens
                .get(index + 1)
                .and_then(|next| next.strip_prefix('+'))
        {
            values.push(value.to_owned());
        } else if token == "rustup" {
            let rest = &tokens[index + 1..];
            let operand = match rest {
                ["toolchain", "install" | "add", tail @ ..]
                | ["install" | "default" | "run", tail @ ..]
                | ["override", "set", tail @ ..] => first_operand(tail),
                _ => None,
            };
            values.extend(operand.map(str::to_owned));
        }
        index += 1;
    }

    let mut mentions: Vec<WorkflowMention> = Vec::new();
    for value in values {
        let value = value.trim_matches(|c| c == '"' || c == '\'' || c == ',');
        if value.is_empty() {
            continue;
        }
        let mention = if value.contains("${{") || value.starts_with('$') {
            WorkflowMention::Expression(value.to_owned())
        } else {
            WorkflowMention::Toolchain(Toolchain::parse(value))
        };
        if !mentions.contains(&mention) {
            mentions.push(mention);
        }
    }
    mentions
}

/// The first non-option argument of a rustup subcommand, skipping options and their values.
fn first_operand<'a>(tokens: &[&'a str]) -> Option<&'a str> {
    let mut iter = tokens.iter();
    while let Some(token) = iter.next() {
        if token.starts_with('-') {
            let takes_value = matches!(
                *token,
                "--profile" | "-c" | "--component" | "-t" | "--target" | "--toolchain"
            );
            if takes_value {
                iter.next();
            }
            continue;
        }
        if *token == "&&" || *token == "|" {
            return None;
        }
        return Some(token);
    }
    None
}

fn is_channel_name(text: &str) -> bool {
    ["stable", "beta", "nightly"]
        .iter()
        .any(|channel| text == *channel || text.starts_with(&format!("{channel}-")))
}

fn strip_yaml_comment(line: &str) -> &str {
    let bytes = line.as_bytes();
    for (index, byte) in bytes.iter().enumerate() {
        if *byte == b'#' && (index == 0 || bytes[index - 1].is_ascii_whitespace()) {
            return &line[..index];
        }
    }
    line
}

fn check_readme(
    root: &Path,
    pinned: Option<&(Toolchain, Location)>,
    report: &mut Report,
) -> anyhow::Result<()> {
    let mut readme = None;
    for name in ["README.md", "README", "README.markdown"] {
        if let Some(text) = read_optional(&root.join(name))? {
            readme = Some((name, text));
            break;
        }
    }
    let Some((file, text)) = readme else {
        report
            .declarations
            .push("README toolchain: not declared (no README.md)".to_owned());
        return Ok(());
    };
    let mut found = false;
    for (index, line) in text.lines().enumerate() {
        // A table row (a table of past MSRVs, say) records history; it declares nothing.
        if line.trim_start().starts_with('|') {
            continue;
        }
        for toolchain in readme_mentions(line) {
            found = true;
            let location = Location {
                file: file.to_owned(),
                line: index + 1,
            };
            report
                .declarations
                .push(format!("README toolchain: {toolchain} ({location})"));
            if let Some((pin, pin_location)) = pinned
                && toolchain.loosely_matches(pin) == Some(false)
            {
                report.mismatches.push(Mismatch {
                    location,
                    problem: format!(
                        "the README states Rust {toolchain}, but {pin_location} pins {pin}"
                    ),
                    fix: format!("write Rust {pin}"),
                });
            }
        }
    }
    if !found {
        report.declarations.push(format!(
            "README toolchain: not declared ({file} names no `Rust X.Y` version)"
        ));
    }
    Ok(())
}

/// Every `Rust X.Y` or `Rust X.Y.Z` on one line (the word in any case, as a whole word).
fn readme_mentions(line: &str) -> Vec<Toolchain> {
    let lower = line.to_ascii_lowercase();
    let mut mentions = Vec::new();
    let mut start = 0;
    while let Some(found) = lower[start..].find("rust") {
        let at = start + found;
        start = at + 4;
        let before_ok = lower[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric());
        let rest = &line[at + 4..];
        let after_space = rest.trim_start_matches([' ', '\u{a0}']);
        if !before_ok || after_space.len() == rest.len() {
            continue;
        }
        let after_space = after_space.strip_prefix('v').unwrap_or(after_space);
        let candidate: String = after_space
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        let candidate = candidate.trim_end_matches('.');
        if let Some(version) = parse_version(candidate) {
            mentions.push(Toolchain {
                text: candidate.to_owned(),
                version: Some(version),
            });
        }
    }
    mentions
}

/// `X.Y` or `X.Y.Z`, each part a plain decimal number.
fn parse_version(text: &str) -> Option<(u64, u64, Option<u64>)> {
    let mut parts = text.split('.');
    let number = |part: Option<&str>| -> Option<u64> {
        let part = part?;
        if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        part.parse().ok()
    };
    let major = number(parts.next())?;
    let minor = number(parts.next())?;
    let patch = match parts.next() {
        None => None,
        some => Some(number(some)?),
    };
    if parts.next().is_some() {
        return None;
    }
    Some((major, minor, patch))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(line: &str) -> Vec<String> {
        workflow_mentions(line)
            .into_iter()
            .map(|mention| match mention {
                WorkflowMention::Toolchain(toolchain) => toolchain.text,
                WorkflowMention::Expression(expression) => format!("expr {expression}"),
            })
            .collect()
    }

    #[test]
    fn workflow_lines() {
        let cases: &[(&str, &[&str])] = &[
            (
                "      - run: rustup toolchain install 1.95.0 --profile minimal -c rustfmt,clippy",
                &["1.95.0"],
            ),
            (
                "run: rustup toolchain install --profile minimal -c clippy 1.94",
                &["1.94"],
            ),
            ("  - uses: dtolnay/rust-toolchain@1.95.0", &["1.95.0"]),
            ("  - uses: dtolnay/rust-toolchain@stable", &["stable"]),
            ("  - uses: dtolnay/rust-toolchain@master", &[]),
            ("        toolchain: \"1.95.0\"", &["1.95.0"]),
            (
                "        toolchain: ${{ matrix.rust }}",
                &["expr ${{ matrix.rust }}"],
            ),
            (
                "      RUSTUP_TOOLCHAIN: nightly-2026-01-01",
                &["nightly-2026-01-01"],
            ),
            (
                "run: cargo +1.93.0 test && rustup default stable",
                &["1.93.0", "stable"],
            ),
            (
                "run: rustup component add --toolchain=beta clippy",
                &["beta"],
            ),
            (
                "run: rustup run 1.95.0-x86_64-unknown-linux-gnu cargo test",
                &["1.95.0"],
            ),
            ("  # rustup toolchain install 1.80.0", &[]),
            ("  - uses: actions/checkout@v4", &[]),
            ("  - run: cargo xtask ci", &[]),
        ];
        for (line, expected) in cases {
            assert_eq!(texts(line), *expected, "{line}");
        }
    }

    #[test]
    fn readme_lines() {
        let found = |line: &str| -> Vec<String> {
            readme_mentions(line).into_iter().map(|t| t.text).collect()
        };
        assert_eq!(
            found("Toolchain: Rust 1.95.0 (pinned in `rust-toolchain.toml`)."),
            ["1.95.0"]
        );
        assert_eq!(
            found("Needs rust 1.80 or later; tested on Rust v1.95."),
            ["1.80", "1.95"]
        );
        assert!(found("Rust 2024 edition, rust-version = 1.95, Trust 1.2").is_empty());
    }

    #[test]
    fn msrv_marks() {
        let marks = |comments: &[&str]| {
            msrv_comment(&comments.iter().map(|c| (*c).to_owned()).collect::<Vec<_>>())
        };
        assert_eq!(marks(&["# MSRV:1"]).as_deref(), Some("# MSRV:1"));
        assert_eq!(
            marks(&["# kept for old users"]).as_deref(),
            Some("# kept for old users")
        );
        assert_eq!(
            marks(&["# see below", "# MSRV:2, the policy"]).as_deref(),
            Some("# MSRV:2, the policy"),
            "a comment that names the MSRV wins"
        );
        assert_eq!(marks(&[]), None);
    }

    #[test]
    fn the_ceiling_is_the_pin_else_the_installed_compiler() {
        let location = Location {
            file: "rust-toolchain.toml".to_owned(),
            line: 2,
        };
        let installed = InstalledRustc {
            version: Toolchain::parse("1.95.0"),
            source: "`rustc --version`".to_owned(),
        };
        let pin = (Toolchain::parse("1.90.0"), location.clone());
        let by_pin = ceiling(Some(&pin), Some(&installed)).map(|c| c.version.text);
        assert_eq!(by_pin.as_deref(), Some("1.90.0"));
        let channel = (Toolchain::parse("nightly-2026-01-01"), location);
        let by_channel = ceiling(Some(&channel), Some(&installed)).map(|c| c.describe);
        assert_eq!(
            by_channel.as_deref(),
            Some(
                "rustc 1.95.0 (`rustc --version`), which the pin nightly-2026-01-01 \
                 (rust-toolchain.toml:2) resolves to"
            )
        );
        assert!(ceiling(None, None).is_none());
        let unpinned = ceiling(None, Some(&installed)).expect("the installed compiler");
        assert!(unpinned.installed);
        assert_eq!(
            unpinned.fix(&Toolchain::parse("1.99"), ""),
            "build with rustc 1.99 or later (`rustup update`, or pin it in rust-toolchain.toml), \
             or set `rust-version = \"1.95.0\"`"
        );
    }

    #[test]
    fn versions() {
        assert_eq!(parse_version("1.95.0"), Some((1, 95, Some(0))));
        assert_eq!(parse_version("1.95"), Some((1, 95, None)));
        for bad in ["1", "1.", "1.x", "1.2.3.4", "", "v1.2", "1..2"] {
            assert_eq!(parse_version(bad), None, "{bad}");
        }
        let pin = Toolchain::parse("1.95.0");
        assert_eq!(Toolchain::parse("1.95").loosely_matches(&pin), Some(true));
        assert_eq!(
            Toolchain::parse("1.95.1").loosely_matches(&pin),
            Some(false)
        );
        assert_eq!(Toolchain::parse("stable").loosely_matches(&pin), None);
        assert!(exceeds(&Toolchain::parse("1.95.1"), &pin));
        assert!(!exceeds(&Toolchain::parse("1.95"), &pin));
        assert!(!exceeds(
            &Toolchain::parse("1.96"),
            &Toolchain::parse("nightly")
        ));
    }
}
