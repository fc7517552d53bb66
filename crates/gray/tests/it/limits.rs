//! What a load refuses to read: files that are not regular, and inputs over the limits. Each
//! error names the file and the limit.

use std::fmt::Write as _;

use gray::{ConfigError, Limits, load};

use crate::{config_dir, options};

fn small_limits() -> Limits {
    Limits {
        max_file_bytes: 4096,
        max_keys: 50,
        max_rules: 3,
        max_conditions_per_rule: 2,
        max_depth: 6,
    }
}

fn load_error(files: &[(&str, &str)]) -> ConfigError {
    let dir = config_dir(files);
    load(&options(dir.path()).with_limits(small_limits())).unwrap_err()
}

fn assert_limit(error: &ConfigError, file: &str, limit: &str) {
    assert_eq!(error.code(), "limit_exceeded", "{error}");
    assert_eq!(error.file().as_deref(), Some(file), "{error}");
    assert!(error.to_string().contains(&format!("`{limit}`")), "{error}");
}

#[test]
fn files_over_the_size_limit_are_refused() {
    let big = format!("x = '{}'\n", "a".repeat(5000));
    let error = load_error(&[("base.toml", ""), ("gray/big.toml", &big)]);
    assert_limit(&error, "gray/big.toml", "max_file_bytes");
    assert!(error.to_string().contains("5007 bytes"), "{error}");
}

#[test]
fn too_many_keys_are_refused_naming_the_file_that_went_over() {
    let mut many = String::new();
    for i in 0..40 {
        writeln!(many, "k{i} = {i}").unwrap();
    }
    let error = load_error(&[("base.toml", &many), ("gray/more.toml", &many)]);
    assert_limit(&error, "gray/more.toml", "max_keys");
}

#[test]
fn too_deep_nesting_is_refused() {
    let error = load_error(&[("base.toml", "a = [[[[[[[1]]]]]]]\n")]);
    assert_limit(&error, "base.toml", "max_depth");
}

#[test]
fn too_many_rules_and_conditions_are_refused() {
    let mut rules = String::new();
    for i in 0..4 {
        writeln!(
            rules,
            "[[gray.rules]]\nname = 'r{i}'\nroute = {{ billing = 'v2' }}\n"
        )
        .unwrap();
    }
    let error = load_error(&[("base.toml", ""), ("gray/rules.toml", &rules)]);
    assert_limit(&error, "gray/rules.toml", "max_rules");

    let wide = "[[gray.rules]]\nname = 'wide'\nroute = { billing = 'v2' }\nheaders = { a = '1', b = '2' }\npath_prefix = '/x'\n";
    let error = load_error(&[("base.toml", ""), ("gray/wide.toml", wide)]);
    assert_limit(&error, "gray/wide.toml", "max_conditions_per_rule");
    assert!(
        error
            .to_string()
            .contains("rule `wide` (line 1) has 3 conditions"),
        "{error}"
    );
}

#[test]
fn the_default_limits_are_generous() {
    let limits = Limits::default();
    assert!(limits.max_file_bytes >= 1024 * 1024);
    assert!(limits.max_keys >= 10_000);
    assert!(limits.max_rules >= 1_000);
}

#[cfg(unix)]
mod special_files {
    use super::*;

    fn mkfifo(path: &std::path::Path) {
        let status = std::process::Command::new("mkfifo")
            .arg(path)
            .status()
            .expect("run mkfifo");
        assert!(status.success());
    }

    #[test]
    fn a_fifo_base_is_refused_without_blocking() {
        let dir = config_dir(&[]);
        mkfifo(&dir.path().join("base.toml"));
        let error = load(&options(dir.path())).unwrap_err();
        assert_eq!(error.code(), "not_regular_file", "{error}");
        assert!(error.to_string().contains("base.toml"), "{error}");
    }

    #[test]
    fn a_fifo_in_gray_is_refused() {
        let dir = config_dir(&[("base.toml", "")]);
        std::fs::create_dir_all(dir.path().join("gray")).unwrap();
        mkfifo(&dir.path().join("gray/pipe.toml"));
        let error = load(&options(dir.path())).unwrap_err();
        assert_eq!(error.code(), "not_regular_file", "{error}");
        assert!(error.to_string().contains("pipe.toml"), "{error}");

        // A directory named like a fragment is not a layer, as before.
        std::fs::remove_file(dir.path().join("gray/pipe.toml")).unwrap();
        std::fs::create_dir(dir.path().join("gray/dir.toml")).unwrap();
        assert!(load(&options(dir.path())).is_ok());
    }

    #[test]
    fn a_device_is_refused() {
        let dir = config_dir(&[("base.toml", "")]);
        std::os::unix::fs::symlink("/dev/zero", dir.path().join("staging.toml")).unwrap();
        let error = load(&options(dir.path()).with_env("staging")).unwrap_err();
        assert_eq!(error.code(), "not_regular_file", "{error}");
    }
}
