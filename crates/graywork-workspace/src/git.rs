//! Running `git` in a directory: the one wrapper every tool crate uses.

use std::path::Path;
use std::process::Command;

use anyhow::{Context as _, bail};

/// Runs `git ARGS` in `dir` and returns its standard output; a failure names the command, the
/// directory and what git printed.
pub fn git(dir: &Path, args: &[&str]) -> anyhow::Result<String> {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .context("cannot run git")?;
    if !output.status.success() {
        bail!(
            "`git {}` failed in {}: {}",
            args.join(" "),
            dir.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    String::from_utf8(output.stdout).with_context(|| {
        format!(
            "`git {}` in {} printed text that is not UTF-8",
            args.join(" "),
            dir.display()
        )
    })
}
