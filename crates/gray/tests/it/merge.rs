//! Merge and provenance across layers, table-driven.

use gray::{Layer, LoadOptions, load};

use crate::{config_dir, options, options_with};

struct Case {
    name: &'static str,
    files: &'static [(&'static str, &'static str)],
    env: Option<&'static str>,
    vars: &'static [(&'static str, &'static str)],
    key: &'static str,
    value: toml::Value,
    /// The provenance chain, winner last, as `source:line`.
    chain: &'static [&'static str],
}

fn cases() -> Vec<Case> {
    use toml::Value::{Boolean, Integer, String as Str};
    vec![
        Case {
            name: "base only",
            files: &[("base.toml", "[server]\nlisten = 'a'\n")],
            env: None,
            vars: &[],
            key: "server.listen",
            value: Str("a".into()),
            chain: &["base.toml:2"],
        },
        Case {
            name: "env file replaces a scalar",
            files: &[
                ("base.toml", "[server]\nlisten = 'a'\n"),
                ("prod.toml", "\n\n[server]\nlisten = 'b'\n"),
            ],
            env: Some("prod"),
            vars: &[],
            key: "server.listen",
            value: Str("b".into()),
            chain: &["base.toml:2", "prod.toml:4"],
        },
        Case {
            name: "tables merge deeply: a sibling survives",
            files: &[
                ("base.toml", "[server]\nlisten = 'a'\ntimeout = 5\n"),
                ("prod.toml", "[server]\nlisten = 'b'\n"),
            ],
            env: Some("prod"),
            vars: &[],
            key: "server.timeout",
            value: Integer(5),
            chain: &["base.toml:3"],
        },
        Case {
            name: "a table records every layer that set it",
            files: &[
                ("base.toml", "[server]\nlisten = 'a'\n"),
                ("prod.toml", "[server]\nx = 1\n"),
            ],
            env: Some("prod"),
            vars: &[],
            key: "server",
            value: toml::Value::Table(toml::toml! { listen = "a"
            x = 1 }),
            chain: &["base.toml:1", "prod.toml:1"],
        },
        Case {
            name: "arrays replace, not append",
            files: &[
                ("base.toml", "list = [1, 2, 3]\n"),
                ("gray/a.toml", "list = [9]\n"),
            ],
            env: None,
            vars: &[],
            key: "list",
            value: toml::Value::Array(vec![Integer(9)]),
            chain: &["base.toml:1", "gray/a.toml:1"],
        },
        Case {
            name: "a scalar may replace an array",
            files: &[
                ("base.toml", "list = [1]\n"),
                ("gray/a.toml", "list = 'none'\n"),
            ],
            env: None,
            vars: &[],
            key: "list",
            value: Str("none".into()),
            chain: &["base.toml:1", "gray/a.toml:1"],
        },
        Case {
            name: "gray files apply in file-name order",
            files: &[
                ("base.toml", "x = 0\n"),
                ("gray/b.toml", "x = 2\n"),
                ("gray/a.toml", "x = 1\n"),
            ],
            env: None,
            vars: &[],
            key: "x",
            value: Integer(2),
            chain: &["base.toml:1", "gray/a.toml:1", "gray/b.toml:1"],
        },
        Case {
            name: "gray files are skipped when the switch is off",
            files: &[("base.toml", "x = 0\n"), ("gray/a.toml", "x = 1\n")],
            env: None,
            vars: &[("ENABLE_GRAY_CONFIG", "false")],
            key: "x",
            value: Integer(0),
            chain: &["base.toml:1"],
        },
        Case {
            name: "non-toml and hidden files in gray/ are ignored",
            files: &[
                ("base.toml", "x = 0\n"),
                ("gray/a.toml.swp", "x = ["),
                ("gray/.b.toml", "x = 2\n"),
                ("gray/README", ""),
            ],
            env: None,
            vars: &[],
            key: "x",
            value: Integer(0),
            chain: &["base.toml:1"],
        },
        Case {
            name: "an environment override wins and is parsed as a toml scalar",
            files: &[
                ("base.toml", "[server]\ntimeout = 5\n"),
                ("gray/a.toml", "[server]\ntimeout = 6\n"),
            ],
            env: None,
            vars: &[("APP__SERVER__TIMEOUT", "7")],
            key: "server.timeout",
            value: Integer(7),
            chain: &["base.toml:2", "gray/a.toml:2", "env:APP__SERVER__TIMEOUT"],
        },
        Case {
            name: "an override that is not a toml scalar stays a string",
            files: &[("base.toml", "[server]\nlisten = 'a'\n")],
            env: None,
            vars: &[("APP__SERVER__LISTEN", "0.0.0.0:80")],
            key: "server.listen",
            value: Str("0.0.0.0:80".into()),
            chain: &["base.toml:2", "env:APP__SERVER__LISTEN"],
        },
        Case {
            name: "an override creates missing tables and keeps underscores in a segment",
            files: &[("base.toml", "")],
            env: None,
            vars: &[("APP__NEW_SECTION__SOME_KEY", "true")],
            key: "new_section.some_key",
            value: Boolean(true),
            chain: &["env:APP__NEW_SECTION__SOME_KEY"],
        },
        Case {
            name: "variables without the prefix are ignored",
            files: &[("base.toml", "x = 1\n")],
            env: None,
            vars: &[("APPX__X", "2"), ("OTHER__X", "3"), ("APP_X", "4")],
            key: "x",
            value: Integer(1),
            chain: &["base.toml:1"],
        },
        Case {
            name: "keys are case-sensitive",
            files: &[("base.toml", "Key = 1\n"), ("gray/a.toml", "key = 2\n")],
            env: None,
            vars: &[],
            key: "Key",
            value: Integer(1),
            chain: &["base.toml:1"],
        },
        Case {
            name: "dotted keys and inline tables carry their own lines",
            files: &[("base.toml", "a.b = 1\n\nc = { d = 'x',\n e = 2 }\n")],
            env: None,
            vars: &[],
            key: "c.e",
            value: Integer(2),
            chain: &["base.toml:4"],
        },
        Case {
            name: "array items are addressable",
            files: &[("base.toml", "[[t]]\nn = 1\n[[t]]\nn = 2\n")],
            env: None,
            vars: &[],
            key: "t[1].n",
            value: Integer(2),
            chain: &["base.toml:4"],
        },
    ]
}

#[test]
fn merge_and_provenance_table() {
    for case in cases() {
        let dir = config_dir(case.files);
        let options = options_with(dir.path(), case.env, case.vars);
        let snapshot = load(&options).unwrap_or_else(|error| panic!("{}: {error}", case.name));
        let got: toml::Value = snapshot
            .get(case.key)
            .unwrap_or_else(|error| panic!("{}: {error}", case.name));
        assert_eq!(got, case.value, "{}", case.name);
        let chain: Vec<String> = snapshot
            .explain(case.key)
            .expect(case.name)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(chain, case.chain, "{}", case.name);
    }
}

#[test]
fn layers_are_recorded_in_origins_and_sources() {
    let dir = config_dir(&[
        ("base.toml", "a = 1\n"),
        ("staging.toml", "a = 2\n"),
        ("gray/x.toml", "a = 3\n"),
    ]);
    let snapshot = load(
        &options(dir.path())
            .with_env("staging")
            .with_var("APP__A", "4"),
    )
    .unwrap();
    let layers: Vec<Layer> = snapshot
        .explain("a")
        .unwrap()
        .iter()
        .map(|o| o.layer)
        .collect();
    assert_eq!(
        layers,
        [
            Layer::Base,
            Layer::Environment,
            Layer::Gray,
            Layer::Override
        ]
    );
    let sources: Vec<(&str, Layer)> = snapshot
        .sources()
        .iter()
        .map(|s| (s.name.as_str(), s.layer))
        .collect();
    assert_eq!(
        sources,
        [
            ("base.toml", Layer::Base),
            ("staging.toml", Layer::Environment),
            ("gray/x.toml", Layer::Gray),
            ("env:APP__A", Layer::Override)
        ]
    );
    assert_eq!(snapshot.origin("a").unwrap().line, None);
    assert_eq!(snapshot.generation(), 0);
}

#[test]
fn entries_list_every_leaf_with_provenance() {
    let dir = config_dir(&[
        (
            "base.toml",
            "[server]\nlisten = 'a'\ntimeout = 5\n[admin]\ntoken_env = 'T'\n",
        ),
        ("prod.toml", "[server]\nlisten = 'b'\n"),
    ]);
    let snapshot = load(
        &options(dir.path())
            .with_env("prod")
            .with_var("APP__ADMIN__TOKEN_ENV", "U"),
    )
    .unwrap();
    let rendered: Vec<String> = snapshot
        .entries()
        .iter()
        .map(|entry| {
            let chain: Vec<String> = entry.origins.iter().map(ToString::to_string).collect();
            format!("{} = {} <- {}", entry.key, entry.value, chain.join(" < "))
        })
        .collect();
    insta::assert_snapshot!(rendered.join("\n"));
}

#[test]
fn content_hash_follows_content_and_overrides() {
    let dir = config_dir(&[("base.toml", "a = 1\n")]);
    let first = load(&options(dir.path())).unwrap();
    let again = load(&options(dir.path())).unwrap();
    assert_eq!(first.content_hash(), again.content_hash());
    assert_eq!(first.content_hash().len(), 64);
    let with_override = load(&options(dir.path()).with_var("APP__A", "1")).unwrap();
    assert_ne!(first.content_hash(), with_override.content_hash());
    std::fs::write(dir.path().join("base.toml"), "a = 2\n").unwrap();
    let changed = load(&options(dir.path())).unwrap();
    assert_ne!(first.content_hash(), changed.content_hash());
}

#[test]
fn empty_or_missing_gray_directory_is_fine() {
    let dir = config_dir(&[("base.toml", "a = 1\n")]);
    assert_eq!(load(&options(dir.path())).unwrap().sources().len(), 1);
    std::fs::create_dir(dir.path().join("gray")).unwrap();
    assert_eq!(load(&options(dir.path())).unwrap().sources().len(), 1);
}

#[test]
fn typed_access_deserializes_sections() {
    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Server {
        listen: String,
        timeout: u32,
    }
    let dir = config_dir(&[("base.toml", "[server]\nlisten = 'a'\ntimeout = 5\n")]);
    let snapshot = load(&LoadOptions::new(dir.path())).unwrap();
    assert_eq!(
        snapshot.get::<Server>("server").unwrap(),
        Server {
            listen: "a".into(),
            timeout: 5
        }
    );
    assert_eq!(snapshot.get::<u32>("server.timeout").unwrap(), 5);
}
