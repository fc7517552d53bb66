//! The config files shipped in this repository load and route as documented.

use std::path::PathBuf;

use gray::{LoadOptions, Reason, RequestView, load};

fn shipped() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../config")
}

fn prod(labels: &str) -> LoadOptions {
    LoadOptions::new(shipped())
        .with_env("prod")
        .with_routes("billing", &["v1", "v2"])
        .with_var("ENABLE_GRAY_CONFIG", "true")
        .with_var("INSTANCE_LABELS", labels)
}

#[test]
fn every_environment_loads() {
    for env in [None, Some("staging"), Some("prod")] {
        for switch in ["true", "false"] {
            let mut options = LoadOptions::new(shipped())
                .with_routes("billing", &["v1", "v2"])
                .with_var("ENABLE_GRAY_CONFIG", switch);
            options.env = env.map(str::to_owned);
            let snapshot = load(&options).unwrap_or_else(|error| panic!("{env:?}: {error}"));
            assert!(snapshot.get::<String>("server.listen").is_ok());
            assert!(snapshot.get::<String>("admin.token_env").is_ok());
            assert!(snapshot.get::<String>("storage.path").is_ok());
            assert!(snapshot.get::<u64>("server.body_limit_bytes").is_ok());
            assert!(snapshot.get::<u64>("server.request_timeout_ms").is_ok());
        }
    }
}

#[test]
fn a_build_without_v2_cannot_load_the_gray_rules() {
    let options = prod("").with_routes("billing", &["v1"]);
    let error = load(&options).unwrap_err();
    assert_eq!(error.code(), "unavailable_route");
    assert_eq!(error.file().as_deref(), Some("gray/billing-v2.toml"));
}

#[test]
fn shipped_rules_route_each_dimension() {
    let plain = load(&prod("")).unwrap();
    let on_canary = load(&prod("canary=true")).unwrap();
    let feature_x = load(&prod("").with_var("ENABLE_FEATURE_X", "true")).unwrap();
    let decide = |snapshot: &gray::Snapshot, path: &str, headers: &[(&str, &str)]| {
        let decision = snapshot.decide(
            "billing",
            &RequestView {
                path,
                headers: &headers,
            },
        );
        (
            decision.route.unwrap().to_owned(),
            decision.rule.map(str::to_owned),
            decision.reason,
        )
    };
    assert_eq!(
        decide(&plain, "/api/invoices", &[]),
        ("v1".into(), None, Reason::Default)
    );
    assert_eq!(
        decide(&plain, "/api/invoices", &[("X-Canary", "v2")]),
        (
            "v2".into(),
            Some("billing-v2-canary-header".into()),
            Reason::TargetingMatch
        )
    );
    assert_eq!(
        decide(&plain, "/api/v2/invoices", &[]),
        (
            "v2".into(),
            Some("billing-v2-api-path".into()),
            Reason::TargetingMatch
        )
    );
    assert_eq!(
        decide(&on_canary, "/api/invoices", &[]),
        (
            "v2".into(),
            Some("billing-v2-canary-instances".into()),
            Reason::TargetingMatch
        )
    );
    assert_eq!(
        decide(&feature_x, "/api/invoices", &[]),
        (
            "v2".into(),
            Some("billing-v2-feature-x".into()),
            Reason::TargetingMatch
        )
    );
    let split = (0..1000)
        .map(|i| format!("user-{i}"))
        .filter(|user| decide(&plain, "/api/invoices", &[("X-User-Id", user)]).2 == Reason::Split)
        .count();
    assert!(
        (50..=150).contains(&split),
        "{split} of 1000 users in the 10% rollout"
    );
    assert_eq!(plain.explain("gray.labels.env").unwrap().len(), 2);
}
