//! What a load refuses to read: files that are not regular, and inputs over the limits. Each
//! error names the file and the limit.

use std::fmt::Write as _;

use gray::{ConfigError, Limits, load};

use crate::{config_dir, options};

fn small_limits() -> Limits {
    Limits {
        max_file_bytes: 4096,
        max_total_bytes: 10_000,
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
fn the_config_as_a_whole_is_refused_over_its_byte_budget_naming_the_largest_inputs() {
    let fragment = |fill: usize| format!("[gray.labels]\nnote = '{}'\n", "x".repeat(fill));
    let files = [
        ("base.toml", String::new()),
        ("gray/a.toml", fragment(3000)),
        ("gray/b.toml", fragment(4000)),
        ("gray/c.toml", fragment(2000)),
        ("gray/d.toml", fragment(3500)),
    ];
    let files: Vec<(&str, &str)> = files.iter().map(|(n, t)| (*n, t.as_str())).collect();
    let error = load_error(&files);
    // a, b and c fit in 10,000 bytes; d goes over. Every input is counted, the largest named.
    assert_limit(&error, "gray/d.toml", "max_total_bytes");
    let text = error.to_string();
    assert!(text.contains("5 sources totalling 12596 bytes"), "{text}");
    assert!(
        text.contains(
            "largest: gray/b.toml 4024 bytes, gray/d.toml 3524 bytes, gray/a.toml 3024 bytes"
        ),
        "{text}"
    );
    assert!(text.contains("exceeds the limit of 10000"), "{text}");
}

#[test]
fn fragments_of_a_source_and_override_variables_count_against_the_byte_budget() {
    let dir = config_dir(&[("base.toml", ""), ("gray/a.toml", &"# x\n".repeat(1000))]);
    let source = crate::fragments::held(&[("etcd:/g/gray/big.toml@3", &"# y\n".repeat(1600))]);
    let error = load(
        &options(dir.path())
            .with_limits(small_limits())
            .with_fragment_source(source),
    )
    .unwrap_err();
    assert_limit(&error, "etcd:/g/gray/big.toml@3", "max_total_bytes");

    let dir = config_dir(&[
        ("base.toml", &"# x\n".repeat(1000)),
        ("gray/a.toml", &"# x\n".repeat(1000)),
    ]);
    let big = "y".repeat(3000);
    let error = load(
        &options(dir.path())
            .with_limits(small_limits())
            .with_var("APP__SERVER__NOTE", &big),
    )
    .unwrap_err();
    assert_limit(&error, "env:APP__SERVER__NOTE", "max_total_bytes");
}

#[test]
fn rules_add_up_across_fragments_and_the_error_names_the_files_with_the_most() {
    let rules = |prefix: &str, n: usize| {
        (0..n)
            .map(|i| {
                format!("[[gray.rules]]\nname = '{prefix}{i}'\nroute = {{ billing = 'v2' }}\n")
            })
            .collect::<String>()
    };
    let error = load_error(&[
        ("base.toml", ""),
        ("gray/a.toml", &rules("a", 2)),
        ("gray/b.toml", &rules("b", 2)),
    ]);
    assert_limit(&error, "gray/b.toml", "max_rules");
    let text = error.to_string();
    assert!(
        text.contains("4 gray rules up to and including this file (most: gray/a.toml 2 rules, gray/b.toml 2 rules)"),
        "{text}"
    );
    // A layer's rules replace a lower layer's, so they do not add up.
    let dir = config_dir(&[
        ("base.toml", &rules("base", 3)),
        ("prod.toml", &rules("prod", 3)),
    ]);
    let snapshot = load(
        &options(dir.path())
            .with_env("prod")
            .with_limits(small_limits()),
    )
    .unwrap();
    assert_eq!(snapshot.rules().len(), 3);
}

#[test]
fn rules_are_counted_before_the_document_is_parsed_into_a_tree() {
    // The text breaks at its end, which only the full parse notices: the rule count refuses
    // it first, so no tree of its rules is ever built.
    let mut text = "[[gray.rules]]\nname = 'r'\n".repeat(4);
    text.push_str("[broken\n");
    let error = load_error(&[("base.toml", ""), ("gray/many.toml", &text)]);
    assert_limit(&error, "gray/many.toml", "max_rules");
}

#[test]
fn the_default_limits_are_generous() {
    let limits = Limits::default();
    assert!(limits.max_file_bytes >= 1024 * 1024);
    assert!(limits.max_total_bytes >= 4 * limits.max_file_bytes);
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
