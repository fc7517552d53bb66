//! Gray fragments: rules add up across `gray/*.toml` in file-name order, a duplicate name names
//! both files, and a fragment may set nothing but `[gray]`.

use gray::load;

use crate::{config_dir, options};

const BASE: &str = "[gray.default]\nbilling = 'v1'\n";

fn rule(name: &str) -> String {
    format!(
        "[[gray.rules]]\nname = '{name}'\nroute = {{ billing = 'v2' }}\nheaders = {{ 'x-{name}' = '1' }}\n"
    )
}

#[test]
fn rules_from_several_fragments_add_up_in_file_name_order() {
    let dir = config_dir(&[
        ("base.toml", BASE),
        ("gray/20-b.toml", &(rule("b1") + &rule("b2"))),
        ("gray/10-a.toml", &rule("a1")),
    ]);
    let snapshot = load(&options(dir.path())).unwrap();
    let names: Vec<&str> = snapshot.rules().iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["a1", "b1", "b2"]);
    assert_eq!(
        snapshot.rules()[2].origin.to_string(),
        "gray/20-b.toml:5",
        "each rule keeps its own file"
    );
}

#[test]
fn a_rule_name_used_in_two_fragments_names_both_files() {
    let dir = config_dir(&[
        ("base.toml", BASE),
        ("gray/a.toml", &rule("same")),
        ("gray/b.toml", &rule("same")),
    ]);
    let error = load(&options(dir.path())).unwrap_err();
    assert_eq!(error.code(), "duplicate_rule");
    let message = error.to_string();
    assert!(message.contains("gray/a.toml"), "{message}");
    assert!(message.contains("gray/b.toml"), "{message}");
}

#[test]
fn keys_outside_gray_in_a_fragment_are_a_load_error() {
    let dir = config_dir(&[
        ("base.toml", BASE),
        (
            "gray/x.toml",
            "[gray]\nenabled = true\n\n[server]\nlisten = '0.0.0.0:1'\n",
        ),
    ]);
    assert!(load(&options(dir.path())).is_ok(), "any table by default");
    let error = load(&options(dir.path()).with_fragment_sections(&["gray"])).unwrap_err();
    assert_eq!(error.code(), "fragment_key");
    assert_eq!(error.file().as_deref(), Some("gray/x.toml"));
    assert_eq!(error.key(), Some("server"));
    assert!(
        error
            .to_string()
            .contains("not allowed in a gray/ fragment"),
        "{error}"
    );
}

/// A fixed set of in-memory fragments, as a key-value store's fetcher would hold them.
#[derive(Debug)]
struct Held(Vec<gray::Fragment>);

impl gray::FragmentSource for Held {
    fn fragments(&self) -> Vec<gray::Fragment> {
        self.0.clone()
    }
}

pub fn held(fragments: &[(&str, &str)]) -> std::sync::Arc<dyn gray::FragmentSource> {
    std::sync::Arc::new(Held(
        fragments
            .iter()
            .map(|(name, text)| gray::Fragment {
                name: (*name).to_owned(),
                text: (*text).to_owned(),
            })
            .collect(),
    ))
}

#[test]
fn source_fragments_merge_after_files_with_their_own_provenance() {
    let dir = config_dir(&[("base.toml", BASE), ("gray/a.toml", &rule("file"))]);
    let source = held(&[
        ("etcd:/g/gray/a.toml@7", &rule("kv1")),
        ("etcd:/g/gray/b.toml@9", "[gray.default]\nbilling = 'v2'\n"),
    ]);
    let options = options(dir.path()).with_fragment_source(source);
    let snapshot = load(&options).unwrap();
    let names: Vec<&str> = snapshot.rules().iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["file", "kv1"]);
    assert_eq!(
        snapshot.rules()[1].origin.to_string(),
        "etcd:/g/gray/a.toml@7:1"
    );
    assert_eq!(
        snapshot.origin("gray.default.billing").unwrap().to_string(),
        "etcd:/g/gray/b.toml@9:2"
    );
}

#[test]
fn source_fragments_get_the_file_fragments_checks() {
    let dir = config_dir(&[("base.toml", BASE), ("gray/a.toml", &rule("same"))]);
    let options = options(dir.path())
        .with_fragment_sections(&["gray"])
        .with_fragment_source(held(&[("etcd:/g/gray/x.toml@3", &rule("same"))]));
    let error = load(&options).unwrap_err().to_string();
    assert!(
        error.contains("gray/a.toml") && error.contains("etcd:/g/gray/x.toml@3"),
        "{error}"
    );

    let options = options_server_key(dir.path());
    let error = load(&options).unwrap_err();
    assert_eq!(error.code(), "fragment_key", "{error}");
    assert!(
        error.to_string().contains("etcd:/g/gray/y.toml@4:1"),
        "{error}"
    );
}

fn options_server_key(dir: &std::path::Path) -> gray::LoadOptions {
    options(dir)
        .with_fragment_sections(&["gray"])
        .with_fragment_source(held(&[("etcd:/g/gray/y.toml@4", "[server]\nlisten = 1\n")]))
}

#[test]
fn source_fragments_are_off_with_the_gray_switch() {
    let dir = config_dir(&[("base.toml", BASE)]);
    let options = gray::LoadOptions::new(dir.path())
        .with_routes("billing", &["v1", "v2"])
        .with_fragment_source(held(&[("etcd:/g/gray/a.toml@7", &rule("kv1"))]));
    assert!(load(&options).unwrap().rules().is_empty());
}
