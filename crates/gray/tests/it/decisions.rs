//! Rule evaluation: every condition kind, first match wins, and every reason.

use gray::{Decision, LoadOptions, Reason, RequestView, Snapshot, bucket, load};

use crate::{config_dir, options};

const BASE: &str = "[gray.default]\nbilling = 'v1'\n";

fn snapshot_with(rules: &str, configure: impl FnOnce(LoadOptions) -> LoadOptions) -> Snapshot {
    let dir = config_dir(&[("base.toml", BASE), ("gray/rules.toml", rules)]);
    load(&configure(options(dir.path()))).unwrap_or_else(|error| panic!("{error}"))
}

fn decide<'s>(snapshot: &'s Snapshot, path: &str, headers: &[(&str, &str)]) -> Decision<'s> {
    snapshot.decide(
        "billing",
        &RequestView {
            path,
            headers: &headers,
        },
    )
}

#[test]
fn no_rules_gives_the_default() {
    let snapshot = snapshot_with("", |o| o);
    let decision = decide(&snapshot, "/", &[]);
    assert_eq!(
        decision,
        Decision {
            route: Some("v1"),
            rule: None,
            reason: Reason::Default,
            bucket: None,
            detail: None
        }
    );
}

#[test]
fn header_condition_names_are_case_insensitive_values_are_not() {
    let snapshot = snapshot_with(
        "[[gray.rules]]\nname = 'h'\nroute = { billing = 'v2' }\nheaders = { 'X-Canary' = 'v2' }\n",
        |o| o,
    );
    for name in ["X-Canary", "x-canary", "X-CANARY"] {
        let decision = decide(&snapshot, "/", &[("accept", "*/*"), (name, "v2")]);
        assert_eq!(
            (decision.route, decision.rule, decision.reason),
            (Some("v2"), Some("h"), Reason::TargetingMatch)
        );
    }
    assert_eq!(
        decide(&snapshot, "/", &[("X-Canary", "V2")]).reason,
        Reason::Default
    );
    assert_eq!(decide(&snapshot, "/", &[]).reason, Reason::Default);
}

#[test]
fn all_conditions_of_a_rule_must_hold() {
    let snapshot = snapshot_with(
        "[[gray.rules]]\nname = 'both'\nroute = { billing = 'v2' }\nheaders = { a = '1', b = '2' }\npath_prefix = '/api/v2/'\n",
        |o| o,
    );
    assert_eq!(
        decide(&snapshot, "/api/v2/invoices", &[("a", "1"), ("b", "2")]).route,
        Some("v2")
    );
    assert_eq!(
        decide(&snapshot, "/api/v2/invoices", &[("a", "1")]).route,
        Some("v1")
    );
    assert_eq!(
        decide(&snapshot, "/api/v1/invoices", &[("a", "1"), ("b", "2")]).route,
        Some("v1")
    );
}

#[test]
fn path_prefix_matches_prefixes_only() {
    let snapshot = snapshot_with(
        "[[gray.rules]]\nname = 'p'\nroute = { billing = 'v2' }\npath_prefix = '/api/v2/'\n",
        |o| o,
    );
    assert_eq!(
        decide(&snapshot, "/api/v2/invoices/7", &[]).reason,
        Reason::TargetingMatch
    );
    assert_eq!(
        decide(&snapshot, "/api/v2/", &[]).reason,
        Reason::TargetingMatch
    );
    assert_eq!(decide(&snapshot, "/api/v2", &[]).reason, Reason::Default);
    assert_eq!(decide(&snapshot, "/x/api/v2/", &[]).reason, Reason::Default);
}

#[test]
fn env_condition_is_decided_from_the_variables_at_load() {
    let rules = "[[gray.rules]]\nname = 'fx'\nroute = { billing = 'v2' }\nenv = { ENABLE_FEATURE_X = true }\n";
    let on = snapshot_with(rules, |o| o.with_var("ENABLE_FEATURE_X", "true"));
    assert_eq!(decide(&on, "/", &[]).rule, Some("fx"));
    let off = snapshot_with(rules, |o| o.with_var("ENABLE_FEATURE_X", "false"));
    assert_eq!(decide(&off, "/", &[]).rule, None);
    assert_eq!(
        off.rules()[0].inactive_because.as_deref(),
        Some("environment ENABLE_FEATURE_X does not match, rule needs true")
    );
    let unset = snapshot_with(rules, |o| o);
    assert_eq!(decide(&unset, "/", &[]).rule, None);
    assert_ne!(on.content_hash(), off.content_hash());
}

#[test]
fn labels_come_from_config_and_instance_labels_win() {
    let rules = "[gray.labels]\nenv = 'prod'\n\n[[gray.rules]]\nname = 'canary'\nroute = { billing = 'v2' }\nlabels = { env = 'prod', zone = 'cn-east', canary = true }\n";
    let partial = snapshot_with(rules, |o| o.with_var("INSTANCE_LABELS", "zone=cn-east"));
    assert_eq!(decide(&partial, "/", &[]).route, Some("v1"));
    assert_eq!(
        partial.rules()[0].inactive_because.as_deref(),
        Some("label canary is not set, rule needs true")
    );
    let all = snapshot_with(rules, |o| {
        o.with_var("INSTANCE_LABELS", "zone=cn-east,canary=true")
    });
    assert_eq!(decide(&all, "/", &[]).route, Some("v2"));
    let overridden = snapshot_with(rules, |o| {
        o.with_var("INSTANCE_LABELS", "env=staging,zone=cn-east,canary=true")
    });
    assert_eq!(decide(&overridden, "/", &[]).route, Some("v1"));
    let labels: Vec<(String, String, String)> = overridden
        .labels()
        .map(|(k, v, o)| (k.to_owned(), v.to_owned(), o.to_string()))
        .collect();
    assert_eq!(
        labels[1],
        (
            "env".to_owned(),
            "staging".to_owned(),
            "env:INSTANCE_LABELS".to_owned()
        )
    );
}

#[test]
fn percentage_by_header_is_a_split_with_its_bucket() {
    let snapshot = snapshot_with(
        "[[gray.rules]]\nname = 'roll'\nroute = { billing = 'v2' }\npercent = 50\nbucket_by = 'header:X-User-Id'\n",
        |o| o,
    );
    let mut seen_in = false;
    let mut seen_out = false;
    for i in 0..100 {
        let user = format!("user-{i}");
        let expected_bucket = bucket("roll", &user);
        let decision = decide(&snapshot, "/", &[("x-user-id", &user)]);
        if expected_bucket <= 50 {
            seen_in = true;
            assert_eq!(
                decision,
                Decision {
                    route: Some("v2"),
                    rule: Some("roll"),
                    reason: Reason::Split,
                    bucket: Some(expected_bucket),
                    detail: None
                }
            );
        } else {
            seen_out = true;
            assert_eq!(decision.reason, Reason::Default);
            assert_eq!(decision.route, Some("v1"));
        }
    }
    assert!(seen_in && seen_out);
}

#[test]
fn group_defaults_to_rule_name_and_can_be_set() {
    let snapshot = snapshot_with(
        "[[gray.rules]]\nname = 'roll'\nroute = { billing = 'v2' }\npercent = 100\nbucket_by = 'header:u'\ngroup = 'shared'\n",
        |o| o,
    );
    assert_eq!(
        decide(&snapshot, "/", &[("u", "alice")]).bucket,
        Some(bucket("shared", "alice"))
    );
    assert_eq!(
        snapshot.rules()[0].percentage.as_ref().unwrap().group,
        "shared"
    );
    let default_group = snapshot_with(
        "[[gray.rules]]\nname = 'roll'\nroute = { billing = 'v2' }\npercent = 100\nbucket_by = 'header:u'\n",
        |o| o,
    );
    assert_eq!(
        decide(&default_group, "/", &[("u", "alice")]).bucket,
        Some(bucket("roll", "alice"))
    );
}

#[test]
fn missing_bucket_key_skips_the_rule_and_says_why() {
    let snapshot = snapshot_with(
        "[[gray.rules]]\nname = 'roll'\nroute = { billing = 'v2' }\npercent = 100\nbucket_by = 'header:X-User-Id'\n\n[[gray.rules]]\nname = 'roll2'\nroute = { billing = 'v2' }\npercent = 100\nbucket_by = 'header:X-Other'\n",
        |o| o,
    );
    let decision = decide(&snapshot, "/", &[]);
    assert_eq!(decision.reason, Reason::Default);
    assert_eq!(decision.route, Some("v1"));
    assert_eq!(
        decision.detail,
        Some("rule roll: bucket_by header x-user-id missing")
    );
    // A later rule may still match; the decision then carries no detail.
    assert_eq!(
        decide(&snapshot, "/", &[("x-other", "k")]).rule,
        Some("roll2")
    );
}

#[test]
fn percentage_by_label_is_decided_at_load() {
    let rules = "[[gray.rules]]\nname = 'zone-roll'\nroute = { billing = 'v2' }\npercent = 100\nbucket_by = 'label:zone'\n";
    let snapshot = snapshot_with(rules, |o| o.with_var("INSTANCE_LABELS", "zone=cn-east"));
    let decision = decide(&snapshot, "/", &[]);
    assert_eq!(
        (decision.reason, decision.bucket),
        (Reason::Split, Some(bucket("zone-roll", "cn-east")))
    );
    let missing = snapshot_with(rules, |o| o);
    assert_eq!(decide(&missing, "/", &[]).reason, Reason::Default);
    assert_eq!(
        missing.rules()[0].inactive_because.as_deref(),
        Some("bucket_by label zone is not set")
    );
    let zero = snapshot_with(&rules.replace("percent = 100", "percent = 0"), |o| {
        o.with_var("INSTANCE_LABELS", "zone=cn-east")
    });
    assert_eq!(decide(&zero, "/", &[]).reason, Reason::Default);
}

#[test]
fn first_matching_rule_wins_and_disabled_rules_are_skipped() {
    let snapshot = snapshot_with(
        "[[gray.rules]]\nname = 'off'\nenabled = false\nroute = { billing = 'v2' }\n\n[[gray.rules]]\nname = 'first'\nroute = { billing = 'v1' }\npath_prefix = '/a'\n\n[[gray.rules]]\nname = 'second'\nroute = { billing = 'v2' }\n",
        |o| o,
    );
    assert_eq!(decide(&snapshot, "/a", &[]).rule, Some("first"));
    assert_eq!(decide(&snapshot, "/a", &[]).route, Some("v1"));
    assert_eq!(decide(&snapshot, "/b", &[]).rule, Some("second"));
}

#[test]
fn gray_disabled_gives_the_default_with_reason_disabled() {
    let snapshot = snapshot_with(
        "[gray]\nenabled = false\n[[gray.rules]]\nname = 'all'\nroute = { billing = 'v2' }\n",
        |o| o,
    );
    assert!(!snapshot.gray_enabled());
    assert_eq!(
        decide(&snapshot, "/", &[]),
        Decision {
            route: Some("v1"),
            rule: None,
            reason: Reason::Disabled,
            bucket: None,
            detail: None
        }
    );
    // The override layer works as a kill switch too.
    let killed = snapshot_with(
        "[[gray.rules]]\nname = 'all'\nroute = { billing = 'v2' }\n",
        |o| o.with_var("APP__GRAY__ENABLED", "false"),
    );
    assert_eq!(decide(&killed, "/", &[]).reason, Reason::Disabled);
}

#[test]
fn unknown_dimension_or_missing_default_is_an_error_decision() {
    let snapshot = snapshot_with("", |o| o.with_routes("notification", &["v1"]));
    let unknown = snapshot.decide(
        "shipping",
        &RequestView {
            path: "/",
            headers: &[("a", "b")],
        },
    );
    assert_eq!(
        (unknown.route, unknown.reason, unknown.detail),
        (None, Reason::Error, Some("unknown dimension"))
    );
    let no_default = snapshot.decide(
        "notification",
        &RequestView {
            path: "/",
            headers: &[("a", "b")],
        },
    );
    assert_eq!(no_default.reason, Reason::Error);
    assert_eq!(no_default.route_or("v1"), "v1");
    assert_eq!(
        no_default.detail,
        Some("no default route for notification: set gray.default.notification")
    );
    let defaults: Vec<(&str, Option<&str>)> = snapshot.default_routes().collect();
    assert_eq!(defaults, [("billing", Some("v1")), ("notification", None)]);
}

#[test]
fn reasons_have_openfeature_names() {
    let names: Vec<&str> = [
        Reason::TargetingMatch,
        Reason::Split,
        Reason::Default,
        Reason::Disabled,
        Reason::Error,
    ]
    .iter()
    .map(|r| r.as_str())
    .collect();
    assert_eq!(
        names,
        ["TARGETING_MATCH", "SPLIT", "DEFAULT", "DISABLED", "ERROR"]
    );
    assert_eq!(
        serde_json::to_string(&Reason::TargetingMatch).unwrap(),
        "\"TARGETING_MATCH\""
    );
}
