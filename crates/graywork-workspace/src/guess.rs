//! Where a workspace's members probably are, from its root manifest alone: the paths its
//! `[workspace] members` list names plainly or through a trailing `/*`. Commands read those
//! crates while `cargo metadata` runs; cargo's answer decides, and a guess it does not confirm
//! is never used.

use std::path::{Path, PathBuf};

/// The workspace root and the member directories the root manifest lists (the root itself
/// first when it is also a package), or `None` when there is no readable workspace manifest or
/// a `members` entry is a glob other than a trailing `/*`.
///
/// `manifest_path` is a `Cargo.toml` or its directory; `None` looks upwards from the current
/// directory for the nearest manifest with a `[workspace]` table.
pub fn guess_members(manifest_path: Option<&Path>) -> Option<(PathBuf, Vec<PathBuf>)> {
    let manifest = match manifest_path {
        Some(path) if path.is_dir() => path.join("Cargo.toml"),
        Some(path) => path.to_path_buf(),
        None => find_workspace_manifest(&std::env::current_dir().ok()?)?,
    };
    // Absolute, so `--manifest-path Cargo.toml` has a root to compare with cargo's.
    let manifest = std::path::absolute(manifest).ok()?;
    let root = manifest.parent()?.to_path_buf();
    let document = read_document(&manifest)?;
    let members = document.get("workspace")?.get("members")?.as_array()?;
    let mut dirs = Vec::new();
    if document.contains_key("package") {
        dirs.push(root.clone());
    }
    for member in members {
        let pattern = member.as_str()?;
        match pattern.strip_suffix("/*") {
            Some(parent) if !has_glob(parent) => {
                let mut found: Vec<PathBuf> = std::fs::read_dir(root.join(parent))
                    .ok()?
                    .flatten()
                    .map(|entry| entry.path())
                    .filter(|path| path.join("Cargo.toml").is_file())
                    .collect();
                found.sort();
                dirs.extend(found);
            }
            _ if has_glob(pattern) => return None,
            _ => dirs.push(root.join(pattern)),
        }
    }
    Some((root, dirs))
}

/// The nearest `Cargo.toml` with a `[workspace]` table, from `dir` upwards.
fn find_workspace_manifest(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .map(|dir| dir.join("Cargo.toml"))
        .find(|manifest| read_document(manifest).is_some_and(|doc| doc.contains_key("workspace")))
}

/// A manifest's TOML, or `None` when it cannot be read or parsed.
fn read_document(manifest: &Path) -> Option<toml_edit::DocumentMut> {
    std::fs::read_to_string(manifest).ok()?.parse().ok()
}

fn has_glob(pattern: &str) -> bool {
    pattern.contains(['*', '?', '['])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn lists_plain_members_and_a_trailing_star() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(
            &root.join("Cargo.toml"),
            "[workspace]\nmembers = [\"shared\", \"crates/*\"]\n[package]\nname = \"top\"\n",
        );
        write(
            &root.join("crates/b/Cargo.toml"),
            "[package]\nname = \"b\"\n",
        );
        write(
            &root.join("crates/a/Cargo.toml"),
            "[package]\nname = \"a\"\n",
        );
        std::fs::create_dir_all(root.join("crates/not-a-crate")).unwrap();
        let (found_root, dirs) = guess_members(Some(root)).unwrap();
        assert_eq!(found_root, root);
        assert_eq!(
            dirs,
            [
                root.to_path_buf(),
                root.join("shared"),
                root.join("crates/a"),
                root.join("crates/b")
            ]
        );
    }

    #[test]
    fn no_guess_for_other_globs_or_unreadable_manifests() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(guess_members(Some(dir.path())), None);
        write(&dir.path().join("Cargo.toml"), "[workspace\n");
        assert_eq!(guess_members(Some(dir.path())), None);
        write(
            &dir.path().join("Cargo.toml"),
            "[workspace]\nmembers = [\"cr?tes/a\"]\n",
        );
        assert_eq!(guess_members(Some(dir.path())), None);
    }
}
