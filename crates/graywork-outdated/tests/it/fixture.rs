//! A hermetic registry and workspace for `outdated` tests, shared with the `cargo-graywork`
//! end-to-end tests (which include this file by path).
//!
//! The registry is made here: a git index in a local repository (`file://`, no network) or a
//! `local-registry` directory, used through cargo's source replacement in a temporary
//! `CARGO_HOME/config.toml`, plus an alternate registry `inner`. The workspace declares
//! dependencies per member and through `[workspace.dependencies]`; its `Cargo.lock` is made by
//! cargo from the first versions, and newer ones (a yanked and a pre-release among them) are
//! published afterwards.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

/// How the replacement registry is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistryKind {
    /// A git index in a local repository, which cargo clones and caches under `CARGO_HOME`.
    Git,
    /// A `local-registry` directory, which cargo reads in place.
    Local,
}

/// A registry index the test writes.
pub struct Registry {
    pub kind: RegistryKind,
    /// The repository (git) or the local registry's root (holding `index/`).
    pub dir: PathBuf,
}

impl Registry {
    fn create(dir: PathBuf, kind: RegistryKind) -> Registry {
        std::fs::create_dir_all(&dir).unwrap();
        let registry = Registry { kind, dir };
        if kind == RegistryKind::Git {
            std::fs::write(
                registry.dir.join("config.json"),
                "{\"dl\": \"file:///nonexistent/{crate}-{version}.crate\"}\n",
            )
            .unwrap();
            git(&registry.dir, &["init", "-q"]);
        }
        registry
    }

    /// The URL cargo is given for a git index.
    pub fn url(&self) -> String {
        format!("file://{}", self.dir.display())
    }

    /// The index file of `name`.
    pub fn entry(&self, name: &str) -> PathBuf {
        let relative = match name.len() {
            1 => format!("1/{name}"),
            2 => format!("2/{name}"),
            3 => format!("3/{}/{name}", &name[..1]),
            _ => format!("{}/{}/{name}", &name[..2], &name[2..4]),
        };
        match self.kind {
            RegistryKind::Git => self.dir.join(relative),
            RegistryKind::Local => self.dir.join("index").join(relative),
        }
    }

    /// Appends a version to `name`'s entry.
    pub fn publish(&self, name: &str, version: &str) {
        self.publish_for_rust(name, version, None);
    }

    /// Appends a version that declares `rust_version` to `name`'s entry.
    pub fn publish_for_rust(&self, name: &str, version: &str, rust_version: Option<&str>) {
        let path = self.entry(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let mut text = std::fs::read_to_string(&path).unwrap_or_default();
        let mut line = record(name, version, false);
        if let Some(rust_version) = rust_version {
            line.pop();
            line.push_str(&format!(",\"rust_version\":\"{rust_version}\"}}"));
        }
        text.push_str(&line);
        text.push('\n');
        std::fs::write(&path, text).unwrap();
    }

    /// Marks a published version yanked.
    pub fn yank(&self, name: &str, version: &str) {
        let path = self.entry(name);
        let text = std::fs::read_to_string(&path).unwrap();
        let yanked = text.replace(&record(name, version, false), &record(name, version, true));
        assert_ne!(text, yanked, "{name} {version} is published");
        std::fs::write(&path, yanked).unwrap();
    }

    /// Makes the published versions visible (a commit, for a git index).
    pub fn commit(&self) {
        if self.kind == RegistryKind::Git {
            git(&self.dir, &["add", "-A"]);
            git(
                &self.dir,
                &[
                    "-c",
                    "user.name=t",
                    "-c",
                    "user.email=t@t",
                    "commit",
                    "-q",
                    "-m",
                    "publish",
                ],
            );
        }
    }
}

fn record(name: &str, version: &str, yanked: bool) -> String {
    format!(
        "{{\"name\":\"{name}\",\"vers\":\"{version}\",\"deps\":[],\"cksum\":\"{}\",\"features\":{{}},\"yanked\":{yanked}}}",
        "0".repeat(64)
    )
}

fn git(dir: &Path, args: &[&str]) {
    let mut command = Command::new("git");
    // Fixed dates make commit ids, which cargo prints in git sources, the same every run.
    command
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
        .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z");
    for variable in [
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_COMMON_DIR",
    ] {
        command.env_remove(variable);
    }
    let output = command.output().expect("git runs");
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A registry, a second (alternate) registry, a `CARGO_HOME` and a workspace locked to the
/// first versions.
pub struct Fixture {
    _dir: tempfile::TempDir,
    /// The temporary directory holding everything (redacted in snapshots as `[ROOT]`).
    pub root: PathBuf,
    /// `CARGO_HOME`.
    pub home: PathBuf,
    /// The workspace root.
    pub workspace: PathBuf,
    /// The registry that replaces crates.io.
    pub registry: Registry,
    /// The alternate registry `inner`.
    pub inner: Registry,
}

/// The workspace's root manifest.
pub const ROOT_MANIFEST: &str = r#"[workspace]
members = ["core", "app", "tool"]
resolver = "3"

[workspace.package]
version = "0.1.0"
edition = "2024"

[workspace.dependencies]
# Shared by core and app.
alpha = "1.0"
beta = { version = "0.3", default-features = false }
# Declared, but no member uses it: not reported.
unused = "1"
"#;

const CORE_MANIFEST: &str = r#"[package]
name = "core"
version.workspace = true
edition.workspace = true
# The workspace's lowest: cargo's resolver 3 prefers versions that build with it.
rust-version = "1.85"

[dependencies]
alpha.workspace = true

[dev-dependencies]
gamma = "2"
"#;

const APP_MANIFEST: &str = r#"[package]
name = "app"
version.workspace = true
edition.workspace = true

[dependencies]
core = { path = "../core" }
alpha = { workspace = true }
beta.workspace = true

[build-dependencies]
delta = "~1.0"
"#;

const TOOL_MANIFEST: &str = r#"[package]
name = "tool"
version.workspace = true
edition.workspace = true

[dependencies]
alpha-old = { package = "alpha", version = "0.9" }
epsilon = "=0.5.0"
zeta = { version = "1", registry = "inner" }
omega = { git = "OMEGA_URL" }

[target.'cfg(unix)'.dependencies]
beta = { workspace = true }
"#;

impl Fixture {
    /// Builds the registries, the workspace and its lock file, then publishes newer versions.
    pub fn new(kind: RegistryKind) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        // Canonical, so the paths cargo prints match the ones the test redacts.
        let root = dir.path().canonicalize().unwrap();
        let home = root.join("cargo-home");
        let workspace = root.join("workspace");
        let registry = Registry::create(root.join("registry"), kind);
        let inner = Registry::create(root.join("inner"), RegistryKind::Git);
        for (name, version) in [
            ("alpha", "0.9.0"),
            ("alpha", "1.0.0"),
            ("alpha", "1.1.0"),
            ("beta", "0.3.0"),
            ("beta", "0.3.1"),
            ("gamma", "2.0.0"),
            ("delta", "1.0.0"),
            ("epsilon", "0.5.0"),
        ] {
            registry.publish(name, version);
        }
        registry.commit();
        inner.publish("zeta", "1.0.0");
        inner.commit();

        let replacement = match kind {
            RegistryKind::Git => format!("registry = \"{}\"", registry.url()),
            RegistryKind::Local => format!("local-registry = \"{}\"", registry.dir.display()),
        };
        write(
            &home,
            "config.toml",
            &format!(
                "[source.crates-io]\nreplace-with = \"fixture\"\n\n[source.fixture]\n{replacement}\n\n\
                 [registries.inner]\nindex = \"{}\"\n",
                inner.url()
            ),
        );
        // A git dependency: locked from git, so no registry says what is newer.
        let omega = root.join("omega");
        write(
            &omega,
            "Cargo.toml",
            "[package]\nname = \"omega\"\nversion = \"0.1.0\"\nedition = \"2024\"\n",
        );
        write(&omega, "src/lib.rs", "//! A git dependency.\n");
        git(&omega, &["init", "-q"]);
        git(&omega, &["add", "-A"]);
        git(
            &omega,
            &[
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "commit",
                "-q",
                "-m",
                "omega",
            ],
        );
        let tool = TOOL_MANIFEST.replace("OMEGA_URL", &format!("file://{}", omega.display()));
        write(&workspace, "Cargo.toml", ROOT_MANIFEST);
        for (member, manifest) in [
            ("core", CORE_MANIFEST),
            ("app", APP_MANIFEST),
            ("tool", tool.as_str()),
        ] {
            write(&workspace, &format!("{member}/Cargo.toml"), manifest);
            write(
                &workspace,
                &format!("{member}/src/lib.rs"),
                "//! A fixture member.\n",
            );
        }
        let fixture = Fixture {
            _dir: dir,
            root,
            home,
            workspace,
            registry,
            inner,
        };
        let output = fixture.cargo(&["generate-lockfile"]).output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );

        for (name, version) in [
            ("alpha", "0.9.1"),
            ("alpha", "1.2.0"),
            ("alpha", "1.3.0"),
            ("alpha", "2.0.0"),
            ("alpha", "2.1.0-beta.1"),
            ("beta", "0.4.0"),
            ("gamma", "2.0.1"),
            ("delta", "1.1.0"),
            ("epsilon", "0.5.1"),
        ] {
            fixture.registry.publish(name, version);
        }
        // Admitted by `gamma = "2"`, but core's rust-version cannot build it.
        fixture
            .registry
            .publish_for_rust("gamma", "2.1.0", Some("1.90"));
        fixture.registry.yank("alpha", "1.3.0");
        fixture.registry.yank("beta", "0.3.1");
        fixture.registry.commit();
        fixture.inner.publish("zeta", "1.4.0");
        fixture.inner.commit();
        fixture
    }

    /// `cargo ARGS` in the workspace, with the fixture's `CARGO_HOME`.
    pub fn cargo(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO"));
        command.args(args);
        self.environment(&mut command);
        command
    }

    /// Runs `command` the way a user of this fixture would: in the workspace, with its
    /// `CARGO_HOME`, and nothing from the calling environment that changes registries.
    pub fn environment(&self, command: &mut Command) {
        command
            .current_dir(&self.workspace)
            .env("CARGO_HOME", &self.home)
            .env_remove("CARGO_REGISTRIES_CRATES_IO_PROTOCOL")
            .env_remove("CARGO_NET_OFFLINE")
            .env_remove("CARGO_TARGET_DIR");
        for variable in [
            "GIT_DIR",
            "GIT_WORK_TREE",
            "GIT_INDEX_FILE",
            "GIT_COMMON_DIR",
        ] {
            command.env_remove(variable);
        }
    }

    /// Sets the modification time of every cached index entry, so ages are known.
    pub fn set_cache_times(&self, time: SystemTime) {
        let mut pending = vec![self.home.join("registry").join("index")];
        while let Some(dir) = pending.pop() {
            for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    pending.push(path);
                } else if path.components().any(|part| part.as_os_str() == ".cache") {
                    let file = std::fs::File::options().write(true).open(&path).unwrap();
                    file.set_modified(time).unwrap();
                }
            }
        }
    }

    /// The cached index entry cargo wrote for `name`, if any.
    pub fn cached_entry(&self, name: &str) -> Option<PathBuf> {
        let mut pending = vec![self.home.join("registry").join("index")];
        while let Some(dir) = pending.pop() {
            for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    pending.push(path);
                } else if path.file_name().is_some_and(|file| file == name)
                    && path.components().any(|part| part.as_os_str() == ".cache")
                {
                    return Some(path);
                }
            }
        }
        None
    }

    /// `text` with the temporary root replaced by `[ROOT]`.
    pub fn redact(&self, text: &str) -> String {
        text.replace(&self.root.display().to_string(), "[ROOT]")
    }
}

pub fn write(root: &Path, relative: &str, text: &str) {
    let path = root.join(relative);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}
