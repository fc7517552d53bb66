//! Path helpers shared by the tool crates: paths as messages and lock files print them, and
//! directory walks.

use std::path::{Path, PathBuf};

use cargo_metadata::camino::Utf8Path;

/// `path` relative to `root` when inside it, else as is, with `/` separators.
pub fn relative_display(root: &Utf8Path, path: &Utf8Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .as_str()
        .replace('\\', "/")
}

/// Every file under `dir`, recursively, in no particular order; a directory that cannot be
/// read contributes nothing (a missing `src/` is not an error for the callers).
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if entry.file_type().is_ok_and(|kind| kind.is_dir()) {
                pending.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_inside_the_root_and_absolute_outside() {
        let root = Utf8Path::new("/w");
        assert_eq!(
            relative_display(root, Utf8Path::new("/w/a/Cargo.toml")),
            "a/Cargo.toml"
        );
        assert_eq!(
            relative_display(root, Utf8Path::new("/x/Cargo.toml")),
            "/x/Cargo.toml"
        );
    }

    #[test]
    fn walks_nested_directories() {
        let dir = std::env::temp_dir().join(format!("graywork-paths-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("a/b")).unwrap();
        std::fs::write(dir.join("top.rs"), "").unwrap();
        std::fs::write(dir.join("a/b/deep.rs"), "").unwrap();
        let mut found: Vec<String> = files_under(&dir)
            .iter()
            .map(|path| {
                path.strip_prefix(&dir)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/")
            })
            .collect();
        found.sort();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(found, ["a/b/deep.rs", "top.rs"]);
        assert!(files_under(Path::new("/no/such/dir")).is_empty());
    }
}
