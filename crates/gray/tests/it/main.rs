//! Integration tests of the gray crate: layers, provenance, errors, rules, bucketing, reload.

mod bucketing;
mod concurrency;
mod config_files;
mod decisions;
mod errors;
mod fragments;
#[cfg(feature = "http")]
mod http_layer;
mod limits;
mod merge;
mod properties;
mod redaction;
mod traces;
mod watching;

use std::path::Path;

use gray::LoadOptions;
use tempfile::TempDir;

/// A config directory holding `files` (paths relative to it, `gray/x.toml` creates `gray/`).
pub fn config_dir(files: &[(&str, &str)]) -> TempDir {
    let dir = tempfile::tempdir().expect("create temp dir");
    write_files(dir.path(), files);
    dir
}

pub fn write_files(dir: &Path, files: &[(&str, &str)]) {
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().expect("file has a parent")).expect("create dir");
        std::fs::write(&path, text).expect("write config file");
    }
}

/// Options for `dir` with billing routable to v1 and v2 and the gray switch on.
pub fn options(dir: &Path) -> LoadOptions {
    LoadOptions::new(dir)
        .with_routes("billing", &["v1", "v2"])
        .with_var("ENABLE_GRAY_CONFIG", "true")
}

/// [`options`] with `env` named and `vars` set, as the table-driven tests give them.
pub fn options_with(dir: &Path, env: Option<&str>, vars: &[(&str, &str)]) -> LoadOptions {
    let mut options = options(dir);
    options.env = env.map(str::to_owned);
    for (name, value) in vars {
        options.vars.insert((*name).to_owned(), (*value).to_owned());
    }
    options
}
