//! The baseline a contract crate is compared with: the surface its lock file records, or its
//! sources at a git revision.

use std::path::Path;

use anyhow::{Context, bail};
use graywork_workspace::git;

use super::facts::{Against, Facts, LockRead};
use crate::CheckOptions;
use crate::read::crate_entry;
use crate::surface::{Crate, MemoryTree, SourceTree, Surface};
use crate::version;
use crate::{LockOptions, LockUpdate};

/// The baseline's surface and what the report says was compared.
pub(super) struct BaselineRead {
    /// The contract modules' surface in the baseline; `None` when there is none to compare
    /// with (a first bless, or an unreadable lock file re-recorded).
    pub(super) surface: Option<Surface>,
    /// What was compared, in words.
    pub(super) subject: String,
}

/// Reads the baseline `against` names. `early_lock` is the lock file when it was read while
/// cargo ran; otherwise it is read here.
pub(super) fn read(
    facts: &Facts,
    against: Against<'_>,
    early_lock: Option<LockRead>,
    options: &CheckOptions,
) -> anyhow::Result<BaselineRead> {
    match against {
        Against::GitRevision(revision) => read_git_revision(facts, revision, options),
        Against::Lock(lock) => read_lock_file(facts, lock, early_lock, options),
    }
}

/// The contract crate's surface at a git revision.
fn read_git_revision(
    facts: &Facts,
    revision: &str,
    options: &CheckOptions,
) -> anyhow::Result<BaselineRead> {
    let contract_crate = &facts.contract_crate;
    let root = facts.workspace.root.as_std_path();
    let tree = git_tree(&contract_crate.dir, &contract_crate.rel, revision)?;
    let (root_file, env) = crate_entry(root, &contract_crate.dir, &options.build)?;
    let old = Crate::load_with(&tree, &root_file, &env)
        .map(|krate| krate.surface())
        .with_context(|| format!("in git revision `{revision}`"))?;
    Ok(BaselineRead {
        surface: Some(version::contract_surface(old, &contract_crate.defines)),
        subject: format!(
            "crate `{}` against git revision `{revision}`",
            contract_crate.name
        ),
    })
}

/// The surface the lock file records. A missing lock file is no baseline when blessing, and
/// an unreadable one is none when blessing by force.
fn read_lock_file(
    facts: &Facts,
    lock: &LockOptions,
    early_lock: Option<LockRead>,
    options: &CheckOptions,
) -> anyhow::Result<BaselineRead> {
    let name = &facts.contract_crate.name;
    let lock_display = &facts.lock_file.display;
    let read =
        early_lock.unwrap_or_else(|| LockRead::read(&facts.lock_file.path, lock_display.clone()));
    Ok(match read.read {
        // `--bless --force` re-records a lock file this version cannot read (an older format).
        Ok((_, Err(_))) if lock.update == LockUpdate::BlessAnyway => BaselineRead {
            surface: None,
            subject: format!("crate `{name}` (unreadable lock file replaced)"),
        },
        Ok((_, parsed)) => {
            let (locked_crate, surface) = parsed?;
            if &locked_crate != name {
                bail!(
                    "{lock_display} records crate `{locked_crate}`, but the contract crate is `{name}`"
                );
            }
            BaselineRead {
                surface: Some(surface),
                subject: format!("crate `{name}` against {lock_display}"),
            }
        }
        Err(_) if lock.update.blesses() => BaselineRead {
            surface: None,
            subject: format!("crate `{name}` (no lock file yet)"),
        },
        Err(err) => bail!(
            "cannot read lock file {lock_display}: {err}; record the baseline with `{} check-contracts --bless`",
            options.runner
        ),
    })
}

/// The `.rs` files of a crate directory at a git revision, keyed as `crate_rel/relative`.
fn git_tree(crate_dir: &Path, crate_rel: &Path, revision: &str) -> anyhow::Result<MemoryTree> {
    if revision.starts_with('-') {
        bail!("invalid git revision `{revision}`");
    }
    let listing = git(
        crate_dir,
        &["ls-tree", "-r", "--name-only", revision, "--", "."],
    )?;
    let mut tree = MemoryTree::default();
    for path in listing.lines().filter(|p| p.ends_with(".rs")) {
        let text = git(crate_dir, &["show", &format!("{revision}:./{path}")])?;
        tree.files.insert(crate_rel.join(path), text);
    }
    if tree.read(&crate_rel.join("src/lib.rs")).is_none() {
        bail!(
            "git revision `{revision}` has no src/lib.rs under {}",
            crate_dir.display()
        );
    }
    Ok(tree)
}
