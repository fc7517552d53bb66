//! Argument types shared by several commands.

use std::path::PathBuf;

/// `--manifest-path`: a `Cargo.toml`, or a directory holding one (as `cargo` itself accepts
/// only the former, the directory form saves a user's typing).
pub(crate) fn manifest_path(text: &str) -> Result<PathBuf, String> {
    let path = PathBuf::from(text);
    if path.is_dir() {
        let manifest = path.join("Cargo.toml");
        if !manifest.is_file() {
            return Err(format!("directory {text} has no Cargo.toml"));
        }
        return Ok(manifest);
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_means_its_manifest() {
        let root = env!("CARGO_MANIFEST_DIR");
        assert_eq!(
            manifest_path(root),
            Ok(PathBuf::from(root).join("Cargo.toml"))
        );
        assert_eq!(
            manifest_path("no/such/Cargo.toml"),
            Ok(PathBuf::from("no/such/Cargo.toml")),
            "cargo reports a missing file with its own words"
        );
        let empty = std::env::temp_dir();
        let error = manifest_path(&empty.display().to_string());
        assert!(error.is_err_and(|e| e.contains("has no Cargo.toml")));
    }
}
