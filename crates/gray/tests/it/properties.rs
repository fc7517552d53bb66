//! Property tests: merging and rule parsing never panic on any input (the same properties the
//! cargo-fuzz targets in `fuzz/` check on nightly), and merging obeys its precedence rules.

use std::collections::BTreeMap;

use gray::{Document, Layer, LoadOptions, RequestView, load_documents};
use proptest::prelude::*;

fn options() -> LoadOptions {
    LoadOptions::new("unused").with_routes("billing", &["v1", "v2"])
}

fn load_two(
    base: &str,
    gray: &str,
    options: &LoadOptions,
) -> Result<gray::Snapshot, gray::ConfigError> {
    load_documents(
        &[
            Document {
                layer: Layer::Base,
                name: "base.toml",
                text: base,
            },
            Document {
                layer: Layer::Gray,
                name: "gray/a.toml",
                text: gray,
            },
        ],
        options,
    )
}

/// A TOML scalar, as source text.
fn scalar() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|i| i.to_string()),
        any::<bool>().prop_map(|b| b.to_string()),
        "[a-z0-9 /:-]{0,8}".prop_map(|s| format!("{s:?}")),
        Just("[1, 2]".to_owned()),
        Just("{ x = 1 }".to_owned()),
        Just("1.5".to_owned()),
        Just("[]".to_owned()),
    ]
}

/// A small document of `section.key = value` lines from a tiny key space, so layers collide.
fn document() -> impl Strategy<Value = Vec<(String, String, String)>> {
    prop::collection::vec(("[ab]", "[xyz]", scalar()), 0..6)
}

fn render(lines: &[(String, String, String)]) -> String {
    // Keep the first occurrence of each dotted key so the document is valid TOML.
    let mut seen = BTreeMap::new();
    for (section, key, value) in lines {
        seen.entry((section.clone(), key.clone()))
            .or_insert_with(|| value.clone());
    }
    seen.iter()
        .map(|((section, key), value)| format!("{section}.{key} = {value}\n"))
        .collect()
}

/// A `[[gray.rules]]` entry built from known and unknown keys with values of every type.
fn rule() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        Just("name"),
        Just("enabled"),
        Just("route"),
        Just("labels"),
        Just("headers"),
        Just("path_prefix"),
        Just("env"),
        Just("percent"),
        Just("bucket_by"),
        Just("group"),
        Just("unknown"),
    ];
    let value = prop_oneof![
        scalar(),
        Just("\"r\"".to_owned()),
        Just("{ billing = \"v2\" }".to_owned()),
        Just("{ billing = \"v9\" }".to_owned()),
        Just("{ shipping = \"v1\" }".to_owned()),
        Just("\"header:X-User-Id\"".to_owned()),
        Just("\"label:zone\"".to_owned()),
        Just("\"cookie:\"".to_owned()),
        Just("\"/api/\"".to_owned()),
        Just("{ \"X-Canary\" = \"v2\" }".to_owned()),
        (-5i64..110).prop_map(|p| p.to_string()),
    ];
    prop::collection::btree_map(key, value, 0..8).prop_map(|entries| {
        let mut text = String::from("[[gray.rules]]\n");
        for (key, value) in entries {
            text.push_str(&format!("{key} = {value}\n"));
        }
        text
    })
}

proptest! {
    #[test]
    fn loading_arbitrary_text_never_panics(base in ".{0,200}", gray in ".{0,200}") {
        let _ = load_two(&base, &gray, &options());
    }

    #[test]
    fn loading_arbitrary_overrides_never_panics(
        vars in prop::collection::vec(("APP__[A-Za-z_]{0,12}", ".{0,20}"), 0..5),
        labels in ".{0,30}",
    ) {
        let mut options = options().with_var("INSTANCE_LABELS", &labels);
        for (name, value) in &vars {
            options = options.with_var(name, value);
        }
        let _ = load_two("[a]\nx = 1\n", "", &options);
    }

    #[test]
    fn higher_layer_leaves_win_or_clash(base in document(), gray in document()) {
        let (base_text, gray_text) = (render(&base), render(&gray));
        match load_two(&base_text, &gray_text, &options()) {
            Ok(snapshot) => {
                for line in gray_text.lines() {
                    let (key, value) = line.split_once(" = ").unwrap();
                    let expected: toml::Table = toml::from_str(&format!("v = {value}")).unwrap();
                    let got: toml::Value = snapshot.get(key).unwrap();
                    prop_assert_eq!(&got, &expected["v"]);
                    prop_assert_eq!(&*snapshot.origin(key).unwrap().source, "gray/a.toml");
                }
            }
            Err(error) => prop_assert_eq!(error.code(), "type_clash"),
        }
    }

    #[test]
    fn parsing_arbitrary_rules_never_panics(
        rules in prop::collection::vec(rule(), 0..4),
        path in "/[a-z/]{0,10}",
        user in "[a-z0-9]{0,6}",
    ) {
        let gray: String = rules.concat();
        let base = "[gray.default]\nbilling = \"v1\"\n";
        if let Ok(snapshot) = load_two(base, &gray, &options().with_var("INSTANCE_LABELS", "zone=a")) {
            let headers = [("x-user-id", user.as_str()), ("X-Canary", "v2")];
            let decision = snapshot.decide("billing", &RequestView { path: &path, headers: &headers });
            prop_assert!(decision.route.is_some());
            prop_assert!(decision.bucket.is_none_or(|b| (1..=100).contains(&b)));
        }
    }
}
