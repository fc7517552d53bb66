//! Copying a fixture tree for a test to change: the one copier the workspace's test binaries
//! share (the others include this file by path).

use std::path::Path;

/// Copies the tree at `from` to `to`, leaving out build output (`target/`), git metadata
/// (`.git/`) and whatever is neither a file nor a directory.
pub(crate) fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name() == "target" || entry.file_name() == ".git" {
            continue;
        }
        let target = to.join(entry.file_name());
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {
            copy_tree(&entry.path(), &target);
        } else if kind.is_file() {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
