//! `install-hooks`: a git pre-commit hook that runs the fast checks.
//!
//! The hook goes where `git rev-parse --git-path hooks` says, so linked worktrees share the main
//! checkout's hooks and `core.hooksPath` is honoured. It carries [`marker`]: a hook with that
//! line is ours and is rewritten freely (so installing twice is harmless); any other hook is left
//! alone unless `--force` is given.

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use graywork_workspace::{Runner, git};

/// The line that marks a hook as written by `install-hooks` run through `runner`.
pub fn marker(runner: Runner) -> String {
    format!("# managed-by: {runner} install-hooks")
}

/// Whether `line` is the marker of a hook that `install-hooks` wrote, through either runner.
fn is_marker(line: &str) -> bool {
    let line = line.trim();
    [Runner::Xtask, Runner::Graywork]
        .into_iter()
        .any(|runner| line == marker(runner))
}

/// The commands the hook runs, in order, each after the runner that installed the hook
/// (`cargo xtask` or `cargo graywork`); each takes seconds. `check-contracts` runs only in a
/// workspace where a member defines contracts, since it refuses any other workspace.
const TOOL_COMMANDS: [&str; 2] = ["check-toolchain", CHECK_CONTRACTS];

const CHECK_CONTRACTS: &str = "check-contracts";

/// What `install-hooks` says when the hook leaves out `check-contracts`.
pub const WITHOUT_CONTRACTS: &str = "the hook runs check-toolchain and cargo fmt, not \
     check-contracts: no member defines contracts ([package.metadata.contracts]); run \
     install-hooks again once one does";

/// The last command the hook runs.
const FMT_COMMAND: &str = "cargo fmt --all --check";

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

/// The hook's text for a workspace at `prefix` (relative to the git top level, `/`-separated,
/// empty at the top); `with_contracts` when a member defines contracts.
pub fn hook_script(runner: Runner, prefix: &str, with_contracts: bool) -> String {
    let mut script = format!(
        "#!/bin/sh\n{}\n# Run `{runner} install-hooks` again to update this hook; \
         delete this file to remove it.\nset -e\n",
        marker(runner)
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
    for command in TOOL_COMMANDS {
        if command == CHECK_CONTRACTS && !with_contracts {
            continue;
        }
        script.push_str(&format!("{runner} {command}\n"));
    }
    script.push_str(FMT_COMMAND);
    script.push('\n');
    script
}

/// Writes the pre-commit hook of the git repository holding `workspace_root`.
///
/// Refuses (with an error naming the file) to replace a hook without [`marker`] unless `force`.
pub fn install(
    runner: Runner,
    workspace_root: &Path,
    with_contracts: bool,
    force: bool,
) -> anyhow::Result<InstallOutcome> {
    let hooks_dir = git(workspace_root, &["rev-parse", "--git-path", "hooks"])?;
    let hooks_dir = workspace_root.join(hooks_dir.trim());
    let prefix = git(workspace_root, &["rev-parse", "--show-prefix"])?;
    let script = hook_script(runner, prefix.trim().trim_end_matches('/'), with_contracts);
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
        Some(text) if text.lines().any(is_marker) => {
            if *text == script && is_executable(&path) {
                return Ok(InstallOutcome::Unchanged(path));
            }
            InstallOutcome::Updated(path.clone())
        }
        Some(_) if force => InstallOutcome::Replaced(path.clone()),
        Some(_) => anyhow::bail!(
            "{} exists and was not written by `{runner} install-hooks`; \
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
        insta::assert_snapshot!(hook_script(Runner::Xtask, "", true));
    }

    #[test]
    fn script_without_a_contract_crate_skips_check_contracts() {
        let script = hook_script(Runner::Xtask, "", false);
        assert!(!script.contains("check-contracts"), "{script}");
        assert!(script.contains("cargo xtask check-toolchain\n"), "{script}");
        assert!(script.contains("cargo fmt --all --check\n"), "{script}");
    }

    #[test]
    fn script_in_a_subdirectory_quotes_the_path() {
        let script = hook_script(Runner::Xtask, "rust/my \"ws\"", true);
        assert!(
            script.contains("cd \"$(git rev-parse --show-toplevel)/rust/my \\\"ws\\\"\"\n"),
            "{script}"
        );
        assert!(script.lines().any(|line| line == marker(Runner::Xtask)));
    }
}
