//! Every load error path: its code, message, file, line and key.

use std::fmt::Write as _;

use gray::{ConfigError, LoadOptions, load};

use crate::{config_dir, options, options_with};

struct Case {
    name: &'static str,
    files: &'static [(&'static str, &'static str)],
    env: Option<&'static str>,
    vars: &'static [(&'static str, &'static str)],
    code: &'static str,
}

const fn case(
    name: &'static str,
    files: &'static [(&'static str, &'static str)],
    code: &'static str,
) -> Case {
    Case {
        name,
        files,
        env: None,
        vars: &[],
        code,
    }
}

const RULE: &str =
    "[gray.default]\nbilling = 'v1'\n[[gray.rules]]\nname = 'r'\nroute = { billing = 'v2' }\n";

fn cases() -> Vec<Case> {
    vec![
        case("missing base", &[("prod.toml", "")], "missing_base"),
        Case {
            env: Some("prod"),
            ..case(
                "named env without file",
                &[("base.toml", "")],
                "missing_env_file",
            )
        },
        Case {
            env: Some("../etc/passwd"),
            ..case(
                "env name with a path",
                &[("base.toml", "")],
                "invalid_env_name",
            )
        },
        Case {
            env: Some(""),
            ..case("empty env name", &[("base.toml", "")], "invalid_env_name")
        },
        case("base is a directory", &[("base.toml/x", "")], "io"),
        case(
            "invalid toml",
            &[("base.toml", "a = 1\n\nb = = 2\n")],
            "parse",
        ),
        case("duplicate key", &[("base.toml", "a = 1\na = 2\n")], "parse"),
        case(
            "integer out of range",
            &[("base.toml", "a = 99999999999999999999\n")],
            "parse",
        ),
        case(
            "invalid toml in a gray file",
            &[("base.toml", ""), ("gray/x.toml", "[x\n")],
            "parse",
        ),
        case(
            "table over scalar",
            &[
                ("base.toml", "server = 'x'\n"),
                ("gray/a.toml", "\n[server]\nlisten = 1\n"),
            ],
            "type_clash",
        ),
        case(
            "scalar over table",
            &[
                ("base.toml", "[server]\nlisten = 1\n"),
                ("gray/a.toml", "server = [1]\n"),
            ],
            "type_clash",
        ),
        Case {
            vars: &[("APP__SERVER", "1")],
            ..case(
                "override over table",
                &[("base.toml", "[server]\nlisten = 1\n")],
                "type_clash",
            )
        },
        Case {
            vars: &[("APP__SERVER__LISTEN__PORT", "1")],
            ..case(
                "override table over scalar",
                &[("base.toml", "[server]\nlisten = 1\n")],
                "type_clash",
            )
        },
        Case {
            vars: &[("APP__A____B", "1")],
            ..case(
                "override with empty segment",
                &[("base.toml", "")],
                "env_override",
            )
        },
        Case {
            vars: &[("APP__", "1")],
            ..case("override with no key", &[("base.toml", "")], "env_override")
        },
        Case {
            vars: &[("ENABLE_GRAY_CONFIG", "maybe")],
            ..case(
                "gray switch not a boolean",
                &[("base.toml", "")],
                "gray_switch",
            )
        },
        Case {
            vars: &[("INSTANCE_LABELS", "env")],
            ..case(
                "malformed instance labels",
                &[("base.toml", "")],
                "instance_labels",
            )
        },
        case(
            "gray not a table",
            &[("base.toml", "gray = 1\n")],
            "invalid_rule",
        ),
        case(
            "unknown key in gray",
            &[("base.toml", "[gray]\nrulez = []\n")],
            "unknown_rule_key",
        ),
        case(
            "gray.enabled not a boolean",
            &[("base.toml", "[gray]\nenabled = 'yes'\n")],
            "invalid_rule",
        ),
        case(
            "default to a missing version",
            &[("base.toml", "[gray.default]\nbilling = 'v3'\n")],
            "unavailable_route",
        ),
        case(
            "default of an unknown dimension",
            &[("base.toml", "[gray.default]\nshipping = 'v1'\n")],
            "unavailable_route",
        ),
        case(
            "default not a string",
            &[("base.toml", "[gray.default]\nbilling = 2\n")],
            "invalid_rule",
        ),
        case(
            "label not a scalar",
            &[("base.toml", "[gray.labels]\nzone = ['a']\n")],
            "invalid_rule",
        ),
        case(
            "rules not an array",
            &[("base.toml", "[gray]\nrules = 1\n")],
            "invalid_rule",
        ),
        case(
            "rule not a table",
            &[("base.toml", "[gray]\nrules = [1]\n")],
            "invalid_rule",
        ),
        case(
            "unknown key in a rule",
            &[
                ("base.toml", ""),
                (
                    "gray/a.toml",
                    "[[gray.rules]]\nname = 'r'\nroute = { billing = 'v2' }\npercentage = 5\n",
                ),
            ],
            "unknown_rule_key",
        ),
        case(
            "rule without a name",
            &[("base.toml", "[[gray.rules]]\nroute = { billing = 'v2' }\n")],
            "invalid_rule",
        ),
        case(
            "rule with an empty name",
            &[(
                "base.toml",
                "[[gray.rules]]\nname = ''\nroute = { billing = 'v2' }\n",
            )],
            "invalid_rule",
        ),
        case(
            "rule name not a string",
            &[(
                "base.toml",
                "[[gray.rules]]\nname = 1\nroute = { billing = 'v2' }\n",
            )],
            "invalid_rule",
        ),
        case(
            "duplicate rule names",
            &[(
                "base.toml",
                "[[gray.rules]]\nname = 'r'\nroute = { billing = 'v2' }\n\n[[gray.rules]]\nname = 'r'\nroute = { billing = 'v1' }\n",
            )],
            "duplicate_rule",
        ),
        case(
            "rule without a route",
            &[("base.toml", "[[gray.rules]]\nname = 'r'\n")],
            "invalid_rule",
        ),
        case(
            "rule with an empty route",
            &[("base.toml", "[[gray.rules]]\nname = 'r'\nroute = {}\n")],
            "invalid_rule",
        ),
        case(
            "rule routes to a version the build lacks",
            &[
                ("base.toml", ""),
                (
                    "gray/billing.toml",
                    "[[gray.rules]]\nname = 'r'\n\nroute = { billing = 'v3' }\n",
                ),
            ],
            "unavailable_route",
        ),
        case(
            "rule routes an unknown dimension",
            &[(
                "base.toml",
                "[[gray.rules]]\nname = 'r'\nroute = { shipping = 'v2' }\n",
            )],
            "unavailable_route",
        ),
        case(
            "percent above 100",
            &[(
                "base.toml",
                "[[gray.rules]]\nname = 'r'\nroute = { billing = 'v2' }\npercent = 101\nbucket_by = 'header:x'\n",
            )],
            "invalid_rule",
        ),
        case(
            "percent below 0",
            &[(
                "base.toml",
                "[[gray.rules]]\nname = 'r'\nroute = { billing = 'v2' }\npercent = -1\nbucket_by = 'header:x'\n",
            )],
            "invalid_rule",
        ),
        case(
            "percent not an integer",
            &[(
                "base.toml",
                "[[gray.rules]]\nname = 'r'\nroute = { billing = 'v2' }\npercent = 10.5\nbucket_by = 'header:x'\n",
            )],
            "invalid_rule",
        ),
        case(
            "percent without bucket_by",
            &[(
                "base.toml",
                "[[gray.rules]]\nname = 'r'\nroute = { billing = 'v2' }\npercent = 10\n",
            )],
            "invalid_rule",
        ),
        case(
            "bucket_by without percent",
            &[(
                "base.toml",
                "[[gray.rules]]\nname = 'r'\nroute = { billing = 'v2' }\nbucket_by = 'header:x'\n",
            )],
            "invalid_rule",
        ),
        case(
            "bucket_by of an unknown kind",
            &[(
                "base.toml",
                "[[gray.rules]]\nname = 'r'\nroute = { billing = 'v2' }\npercent = 1\nbucket_by = 'cookie:x'\n",
            )],
            "invalid_rule",
        ),
        case(
            "bucket_by without a name",
            &[(
                "base.toml",
                "[[gray.rules]]\nname = 'r'\nroute = { billing = 'v2' }\npercent = 1\nbucket_by = 'header:'\n",
            )],
            "invalid_rule",
        ),
        case(
            "group without percent",
            &[(
                "base.toml",
                "[[gray.rules]]\nname = 'r'\nroute = { billing = 'v2' }\ngroup = 'g'\n",
            )],
            "invalid_rule",
        ),
        case(
            "path prefix without a slash",
            &[(
                "base.toml",
                "[[gray.rules]]\nname = 'r'\nroute = { billing = 'v2' }\npath_prefix = 'api'\n",
            )],
            "invalid_rule",
        ),
        case(
            "headers not a table",
            &[(
                "base.toml",
                "[[gray.rules]]\nname = 'r'\nroute = { billing = 'v2' }\nheaders = 'x'\n",
            )],
            "invalid_rule",
        ),
        case(
            "header value not a scalar",
            &[(
                "base.toml",
                "[[gray.rules]]\nname = 'r'\nroute = { billing = 'v2' }\nheaders = { x = [] }\n",
            )],
            "invalid_rule",
        ),
        case(
            "rule enabled not a boolean",
            &[(
                "base.toml",
                "[[gray.rules]]\nname = 'r'\nroute = { billing = 'v2' }\nenabled = 1\n",
            )],
            "invalid_rule",
        ),
    ]
}

fn describe(error: &ConfigError) -> String {
    format!(
        "[{}] {}\n    file={:?} line={:?} key={:?}",
        error.code(),
        error,
        error.file(),
        error.line(),
        error.key()
    )
}

#[test]
fn every_load_error_names_its_source() {
    let mut report = String::new();
    for case in cases() {
        let dir = config_dir(case.files);
        let options = options_with(dir.path(), case.env, case.vars);
        let error = match load(&options) {
            Ok(_) => panic!("{}: loaded without error", case.name),
            Err(error) => error,
        };
        assert_eq!(error.code(), case.code, "{}: {error}", case.name);
        // Paths of missing and unreadable files are absolute; keep the snapshot stable.
        let text = describe(&error).replace(&dir.path().display().to_string(), "$DIR");
        writeln!(report, "{}:\n  {}", case.name, text).unwrap();
    }
    insta::assert_snapshot!(report);
}

#[test]
fn a_valid_rule_loads() {
    // Guards the error table: the fixture the rule cases start from is itself valid.
    let dir = config_dir(&[("base.toml", RULE)]);
    let snapshot = load(&options(dir.path())).unwrap();
    assert_eq!(snapshot.rules().len(), 1);
}

#[test]
fn typed_access_errors_name_key_and_source() {
    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Server {
        listen: String,
        timeout: u32,
    }
    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct App {
        server: Server,
    }
    let dir = config_dir(&[
        ("base.toml", "[server]\nlisten = 'a'\ntimeout = 5\n"),
        ("gray/a.toml", "[server]\ntimeout = 'soon'\n"),
    ]);
    let snapshot = load(&options(dir.path())).unwrap();
    let mut report = String::new();
    let wrong_type = snapshot.deserialize::<App>().unwrap_err();
    writeln!(report, "{}", describe(&wrong_type)).unwrap();
    let wrong_type_get = snapshot.get::<Server>("server").unwrap_err();
    writeln!(report, "{}", describe(&wrong_type_get)).unwrap();
    let missing_key = snapshot.get::<u32>("server.port").unwrap_err();
    writeln!(report, "{}", describe(&missing_key)).unwrap();

    let dir = config_dir(&[("base.toml", "[server]\nlisten = 'a'\n")]);
    let missing_field = load(&LoadOptions::new(dir.path()))
        .unwrap()
        .deserialize::<App>()
        .unwrap_err();
    writeln!(report, "{}", describe(&missing_field)).unwrap();
    insta::assert_snapshot!(report);
}

#[test]
fn a_failed_reload_keeps_the_previous_snapshot() {
    let dir = config_dir(&[("base.toml", "a = 1\n")]);
    let options = options(dir.path());
    let store = gray::Store::open(&options).unwrap();
    let before = store.current();
    std::fs::write(dir.path().join("base.toml"), "a = \n").unwrap();
    let error = store.reload(&options).unwrap_err();
    assert_eq!(error.code(), "parse");
    let after = store.current();
    assert_eq!(after.generation(), 1);
    assert_eq!(after.content_hash(), before.content_hash());
    assert_eq!(after.get::<i64>("a").unwrap(), 1);
    assert_eq!(
        store.reload_stats(),
        gray::ReloadStats {
            succeeded: 0,
            failed: 1
        }
    );
    std::fs::write(dir.path().join("base.toml"), "a = 2\n").unwrap();
    assert_eq!(store.reload(&options).unwrap(), 2);
    assert_eq!(store.current().get::<i64>("a").unwrap(), 2);
    assert_eq!(
        store.reload_stats(),
        gray::ReloadStats {
            succeeded: 1,
            failed: 1
        }
    );
}
