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
