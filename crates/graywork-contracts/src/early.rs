//! Reading the contract crate and its providers while `cargo metadata` runs: the root
//! manifest's `[workspace] members` usually name them, so their parse can start before cargo
//! answers. A guess is used only when the metadata names the same crate; otherwise it is read
//! again.

use std::path::{Path, PathBuf};

/// What the root manifest points at: the workspace root, the contract crate's directory and
/// the directories of the members that provide contracts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Guess {
    pub root: PathBuf,
    pub contract_crate: PathBuf,
    pub providers: Vec<PathBuf>,
}

/// The crates the root manifest points at, when exactly one member it lists (see
/// [`graywork_workspace::guess_members`]) declares `[package.metadata.contracts] defines`.
/// `None` whenever the guess is not clear; cargo's answer decides in any case.
pub(crate) fn guess(manifest_path: Option<&Path>) -> Option<Guess> {
    let (root, dirs) = graywork_workspace::guess_members(manifest_path)?;
    let mut definers = Vec::new();
    let mut providers = Vec::new();
    for dir in dirs {
        let Some(contracts) = read_table(&dir.join("Cargo.toml")).and_then(|table| {
            table
                .get("package")?
                .get("metadata")?
                .get("contracts")
                .cloned()
        }) else {
            continue;
        };
        if contracts
            .get("defines")
            .and_then(toml::Value::as_array)
            .is_some_and(|list| !list.is_empty())
        {
            definers.push(dir.clone());
        }
        if contracts
            .get("provides")
            .and_then(toml::Value::as_table)
            .is_some_and(|table| !table.is_empty())
        {
            providers.push(dir);
        }
    }
    let [contract_crate] = <[PathBuf; 1]>::try_from(definers).ok()?;
    Some(Guess {
        root,
        contract_crate,
        providers,
    })
}

fn read_table(manifest: &Path) -> Option<toml::Table> {
    std::fs::read_to_string(manifest).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    const DEFINES: &str =
        "[package]\nname = \"c\"\n[package.metadata.contracts]\ndefines = [\"billing\"]\n";

    #[test]
    fn finds_the_one_definer_listed_plainly_or_by_a_trailing_star() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(
            &root.join("Cargo.toml"),
            "[workspace]\nmembers = [\"shared\", \"crates/*\"]\n",
        );
        write(&root.join("shared/Cargo.toml"), "[package]\nname = \"s\"\n");
        write(
            &root.join("crates/a/Cargo.toml"),
            "[package]\nname = \"a\"\n",
        );
        write(&root.join("crates/c/Cargo.toml"), DEFINES);
        write(
            &root.join("crates/p/Cargo.toml"),
            "[package]\nname = \"p\"\n[package.metadata.contracts.provides]\nbilling = { v1 = \"v1\" }\n",
        );
        let found = guess(Some(root)).unwrap();
        assert_eq!(
            found,
            Guess {
                root: root.to_path_buf(),
                contract_crate: root.join("crates/c"),
                providers: vec![root.join("crates/p")],
            }
        );
        // Two definers, or a glob it does not expand: no guess.
        write(&root.join("shared/Cargo.toml"), DEFINES);
        assert_eq!(guess(Some(root)), None);
        write(
            &root.join("Cargo.toml"),
            "[workspace]\nmembers = [\"cr?tes/c\"]\n",
        );
        assert_eq!(guess(Some(root)), None);
    }
}
