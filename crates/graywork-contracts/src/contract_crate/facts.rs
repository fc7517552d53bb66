//! The facts a contract-crate check reads before it compares: the workspace, which member is
//! the contract crate, that crate's surface, its lock file and the providers' trait impls.
//!
//! The contract crate is parsed while cargo reads the workspace, when the root manifest says
//! where it is (see [`crate::early`]); the metadata confirms the guess before it is used.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use graywork_workspace::{Member, ResolveMode, Workspace, manifest_source};

use crate::early;
use crate::lock;
use crate::read::read_contract_crate;
use crate::surface::{self, Surface, Unread};
use crate::version;
use crate::wiring::ProviderImpls;
use crate::{CheckOptions, LOCK_FILE_NAME, LockOptions};

/// What the contract crate is compared with.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Against<'a> {
    /// The lock file, read (and written) as the options say.
    Lock(&'a LockOptions),
    /// The crate's sources at a git revision.
    GitRevision(&'a str),
}

/// What the check knows before it reads the baseline.
pub(super) struct Facts {
    /// The workspace as `cargo metadata` describes it.
    pub(super) workspace: Workspace,
    /// The one member that defines contracts.
    pub(super) contract_crate: ContractCrate,
    /// Where the lock file is.
    pub(super) lock_file: LockFile,
    /// The contract modules' surface as the sources have it now.
    pub(super) current: Surface,
    /// What of the contract crate could not be read.
    pub(super) unread: Vec<Unread>,
    /// The providers' trait impls, read while cargo ran (empty when the guess was wrong: the
    /// wiring check then reads them itself).
    pub(super) provider_impls: ProviderImpls,
    /// The lock file, read while cargo ran, when the baseline is the lock file and the guess
    /// was right.
    pub(super) early_lock: Option<LockRead>,
}

/// The workspace member that defines contracts.
pub(super) struct ContractCrate {
    /// Its package name.
    pub(super) name: String,
    /// Its directory.
    pub(super) dir: PathBuf,
    /// Its directory relative to the workspace root, with forward slashes.
    pub(super) rel: PathBuf,
    /// The contracts it defines (`[package.metadata.contracts] defines`).
    pub(super) defines: Vec<String>,
}

/// The lock file's path, and how messages show it.
pub(super) struct LockFile {
    /// Where it is read from and written to.
    pub(super) path: PathBuf,
    /// The path relative to the workspace root, as messages show it.
    pub(super) display: String,
}

/// A lock file read and, when it could be read, parsed.
pub(super) struct LockRead {
    /// The path as messages show it (relative to the workspace root).
    pub(super) display: String,
    /// The text, and the recorded crate name and surface it parses to.
    pub(super) read: std::io::Result<(String, anyhow::Result<(String, Surface)>)>,
}

impl LockRead {
    /// Reads and parses the lock file at `path`, shown as `display`.
    pub(super) fn read(path: &Path, display: String) -> LockRead {
        let read = std::fs::read_to_string(path).map(|text| {
            let parsed = lock::parse(&text, &display);
            (text, parsed)
        });
        LockRead { display, read }
    }
}

/// Loads the workspace, finds its contract crate and reads that crate's surface (and, when
/// the baseline is the lock file, the lock file).
pub(super) fn collect(options: &CheckOptions, against: Against<'_>) -> anyhow::Result<Facts> {
    let lock_file_option = match against {
        Against::Lock(lock) => lock.lock_file.as_deref(),
        Against::GitRevision(_) => None,
    };
    let reads_lock = matches!(against, Against::Lock(_));
    let (workspace, early) =
        load_workspace_while_reading_guess(options, lock_file_option, reads_lock);
    let workspace = workspace?;
    let member = contract_crate_member(&workspace)?;
    let root = workspace.root.as_std_path();
    let display = |path: &Path| surface::slash_path(path.strip_prefix(root).unwrap_or(path));
    let dir = member.manifest_dir().as_std_path().to_path_buf();
    let contract_crate = ContractCrate {
        name: member.name.clone(),
        rel: PathBuf::from(display(&dir)),
        defines: member.contracts.defines.clone(),
        dir,
    };
    let lock_path = lock_file_option
        .map(Path::to_path_buf)
        .unwrap_or_else(|| contract_crate.dir.join(LOCK_FILE_NAME));
    let lock_file = LockFile {
        display: display(&lock_path),
        path: lock_path,
    };
    let (full, early_lock, provider_impls) = match early {
        Some(early) if early.reads(root, &contract_crate.dir) => (
            early.surface,
            early.lock.filter(|lock| lock.display == lock_file.display),
            early.impls,
        ),
        _ => (
            read_contract_crate(root, &contract_crate.dir, &options.build),
            None,
            ProviderImpls::default(),
        ),
    };
    let full = full.with_context(|| format!("contract crate `{}`", contract_crate.name))?;
    let unread = full.unread.clone();
    let current = version::contract_surface(full, &contract_crate.defines);
    Ok(Facts {
        workspace,
        contract_crate,
        lock_file,
        current,
        unread,
        provider_impls,
        early_lock,
    })
}

/// What was read from the root manifest's guess while cargo ran.
struct EarlyRead {
    /// The workspace root the guess found.
    root: PathBuf,
    /// The contract crate's directory the guess found.
    crate_dir: PathBuf,
    /// The contract crate's whole surface.
    surface: anyhow::Result<Surface>,
    /// The lock file, when the baseline is the lock file.
    lock: Option<LockRead>,
    /// The providers' trait impls.
    impls: ProviderImpls,
}

impl EarlyRead {
    /// Whether the guess read the crate the metadata names, from the same root.
    fn reads(&self, root: &Path, crate_dir: &Path) -> bool {
        let same_dir = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        };
        let display = |path: &Path| surface::slash_path(path.strip_prefix(root).unwrap_or(path));
        same_dir(&self.root, root)
            && same_dir(&self.crate_dir, crate_dir)
            // Locations are shown relative to the root: both reads must spell them alike.
            && surface::slash_path(
                self.crate_dir
                    .strip_prefix(&self.root)
                    .unwrap_or(&self.crate_dir),
            ) == display(crate_dir)
    }
}

/// Runs `cargo metadata` while another thread reads the crates the root manifest points at.
fn load_workspace_while_reading_guess(
    options: &CheckOptions,
    lock_file: Option<&Path>,
    reads_lock: bool,
) -> (anyhow::Result<Workspace>, Option<EarlyRead>) {
    std::thread::scope(|scope| {
        let early = scope.spawn(|| {
            let early::Guess {
                root,
                contract_crate: crate_dir,
                providers,
            } = early::guess(options.manifest_path.as_deref())?;
            let surface = read_contract_crate(&root, &crate_dir, &options.build);
            let lock = reads_lock.then(|| {
                let path = lock_file
                    .map(Path::to_path_buf)
                    .unwrap_or_else(|| crate_dir.join(LOCK_FILE_NAME));
                let display = surface::slash_path(path.strip_prefix(&root).unwrap_or(&path));
                LockRead::read(&path, display)
            });
            let impls = ProviderImpls::read(&root, &providers);
            Some(EarlyRead {
                root,
                crate_dir,
                surface,
                lock,
                impls,
            })
        });
        let workspace = Workspace::load(&manifest_source(
            options.manifest_path.as_deref(),
            ResolveMode::NoDeps,
            false,
        ));
        let early = early
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (workspace, early)
    })
}

/// The one member that defines contracts.
fn contract_crate_member(workspace: &Workspace) -> anyhow::Result<&Member> {
    let definers: Vec<&Member> = workspace
        .members
        .iter()
        .filter(|m| !m.contracts.defines.is_empty())
        .collect();
    match definers.as_slice() {
        [one] => Ok(*one),
        [] => bail!(
            "no member of the workspace at {} defines contracts (`defines` in \
             [package.metadata.contracts])",
            workspace.root
        ),
        several => bail!(
            "several members define contracts ({}); check-contracts expects one contract crate",
            several
                .iter()
                .map(|m| format!("`{}`", m.name))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}
