//! `install-hooks`: a git pre-commit hook that runs the fast checks.
//!
//! The hook goes where `git rev-parse --git-path hooks` says, so linked worktrees share the main
//! checkout's hooks and `core.hooksPath` is honoured. It carries [`MARKER`]: a hook with that
//! line is ours and is rewritten freely (so installing twice is harmless); any other hook is left
//! alone unless `--force` is given.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context as _;

use super::cargo_program;

/// The line that marks a hook as written by `install-hooks`.
pub const MARKER: &str = "# managed-by: cargo xtask install-hooks";

/// The commands the hook runs, in order; each takes seconds. `check-contracts` runs only in a
/// workspace where a member defines contracts, since it refuses any other workspace.
pub const HOOK_COMMANDS: [&str; 3] = [
    "cargo xtask check-toolchain",
    CHECK_CONTRACTS,
    "cargo fmt --all --check",
];

const CHECK_CONTRACTS: &str = "cargo xtask check-contracts";

/// What `install` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InstallOutcome {
    /// There was no pre-commit hook; now there is.
    Installed(PathBuf),
    /// Our hook was there with other content and was rewritten.
    Updated(PathBuf),
    /// Our hook was there already, exactly as it would be written.
    Unchanged(PathBuf),
    /// Someone else's hook was there and `--force` replaced it.
    Replaced(PathBuf),
}

impl fmt::Display for InstallOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InstallOutcome::Installed(path) => {
                write!(f, "installed the pre-commit hook at {}", path.display())
            }
            InstallOutcome::Updated(path) => {
                write!(f, "updated the pre-commit hook at {}", path.display())
            }
            InstallOutcome::Unchanged(path) => write!(
                f,
                "the pre-commit hook at {} is already installed",
                path.display()
            ),
            InstallOutcome::Replaced(path) => write!(
                f,
                "replaced the existing pre-commit hook at {} (--force)",
                path.display()
            ),
        }
    }
}

/// The workspace root of `manifest_path` (or of the current directory), from
/// `cargo locate-project --workspace`.
pub fn workspace_root(manifest_path: Option<&Path>) -> anyhow::Result<PathBuf> {
    let mut command = Command::new(cargo_program());
    command.args(["locate-project", "--workspace", "--message-format", "plain"]);
    if let Some(path) = manifest_path {
        command.arg("--manifest-path").arg(path);
    }
    let output = command
        .output()
        .context("cannot run `cargo locate-project`")?;
    if !output.status.success() {
        anyhow::bail!(
            "cannot find the workspace: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let manifest = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    manifest
        .parent()
        .map(Path::to_path_buf)
        .with_context(|| format!("workspace manifest {} has no parent", manifest.display()))
}

/// The hook's text for a workspace at `prefix` (relative to the git top level, `/`-separated,
/// empty at the top); `with_contracts` when a member defines contracts.
pub fn hook_script(prefix: &str, with_contracts: bool) -> String {
    let mut script = format!(
        "#!/bin/sh\n{MARKER}\n# Run `cargo xtask install-hooks` again to update this hook; \
         delete this file to remove it.\nset -e\n"
    );
    if !prefix.is_empty() {
        let quoted: String = prefix
            .chars()
            .flat_map(|c| {
                let escape = matches!(c, '"' | '$' | '`' | '\\').then_some('\\');
                escape.into_iter().chain([c])
            })
            .collect();
        script.push_str(&format!(
            "cd \"$(git rev-parse --show-toplevel)/{quoted}\"\n"
        ));
    }
    for command in HOOK_COMMANDS {
        if command == CHECK_CONTRACTS && !with_contracts {
            continue;
        }
        script.push_str(command);
        script.push('\n');
    }
    script
}

/// Writes the pre-commit hook of the git repository holding `workspace_root`.
///
/// Refuses (with an error naming the file) to replace a hook without [`MARKER`] unless `force`.
pub fn install(
    workspace_root: &Path,
    with_contracts: bool,
    force: bool,
) -> anyhow::Result<InstallOutcome> {
    let hooks_dir = git(workspace_root, &["rev-parse", "--git-path", "hooks"])?;
    let hooks_dir = workspace_root.join(hooks_dir);
    let prefix = git(workspace_root, &["rev-parse", "--show-prefix"])?;
    let script = hook_script(prefix.trim_end_matches('/'), with_contracts);
    let path = hooks_dir.join("pre-commit");

    let existing = match std::fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
        Err(error) => {
            return Err(error).with_context(|| format!("cannot read {}", path.display()));
        }
    };
    let outcome = match &existing {
        None => InstallOutcome::Installed(path.clone()),
        Some(text) if text.lines().any(|line| line.trim() == MARKER) => {
            if *text == script && is_executable(&path) {
                return Ok(InstallOutcome::Unchanged(path));
            }
            InstallOutcome::Updated(path.clone())
        }
        Some(_) if force => InstallOutcome::Replaced(path.clone()),
        Some(_) => anyhow::bail!(
            "{} exists and was not written by `cargo xtask install-hooks`; \
             rerun with --force to replace it",
            path.display()
        ),
    };
    std::fs::create_dir_all(&hooks_dir)
        .with_context(|| format!("cannot create {}", hooks_dir.display()))?;
    std::fs::write(&path, &script).with_context(|| format!("cannot write {}", path.display()))?;
    make_executable(&path)?;
    Ok(outcome)
}

/// Runs git in `dir` and returns its trimmed stdout.
fn git(dir: &Path, args: &[&str]) -> anyhow::Result<String> {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .with_context(|| format!("cannot run `git {}`", args.join(" ")))?;
    if !output.status.success() {
        anyhow::bail!(
            "`git {}` failed in {}: {}",
            args.join(" "),
            dir.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).is_ok_and(|meta| meta.permissions().mode() & 0o111 == 0o111)
}

#[cfg(not(unix))]
fn is_executable(_path: &Path) -> bool {
    true
}

#[cfg(unix)]
fn make_executable(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .with_context(|| format!("cannot make {} executable", path.display()))
}

#[cfg(not(unix))]
fn make_executable(_path: &Path) -> anyhow::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_at_the_top_level() {
        insta::assert_snapshot!(hook_script("", true));
    }

    #[test]
    fn script_without_a_contract_crate_skips_check_contracts() {
        let script = hook_script("", false);
        assert!(!script.contains("check-contracts"), "{script}");
        assert!(script.contains("cargo xtask check-toolchain\n"), "{script}");
        assert!(script.contains("cargo fmt --all --check\n"), "{script}");
    }

    #[test]
    fn script_in_a_subdirectory_quotes_the_path() {
        let script = hook_script("rust/my \"ws\"", true);
        assert!(
            script.contains("cd \"$(git rev-parse --show-toplevel)/rust/my \\\"ws\\\"\"\n"),
            "{script}"
        );
        assert!(script.lines().any(|line| line == MARKER));
    }
}
