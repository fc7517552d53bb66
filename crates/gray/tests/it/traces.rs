//! `Snapshot::trace`: the same decision as `decide`, and every rule's part in it.

use gray::{
    LoadOptions, Reason, RequestView, RuleOutcome, RuleState, Snapshot, StickyBucket, bucket, load,
};

use crate::{config_dir, options};

const RULES: &str = r#"
[[gray.rules]]
name = "canary-header"
route = { billing = "v2" }
headers = { "X-Canary" = "v2" }

[[gray.rules]]
name = "prod-canaries"
route = { billing = "v2" }
labels = { env = "prod" }

[[gray.rules]]
name = "off"
enabled = false
route = { billing = "v2" }

[[gray.rules]]
name = "api-only"
route = { billing = "v2" }
path_prefix = "/api/v2/"

[[gray.rules]]
name = "rollout"
route = { billing = "v2" }
percent = 30
bucket_by = "header:X-User-Id"
"#;

fn snapshot(configure: impl FnOnce(LoadOptions) -> LoadOptions) -> Snapshot {
    let dir = config_dir(&[
        ("base.toml", "[gray.default]\nbilling = 'v1'\n"),
        ("gray/rules.toml", RULES),
    ]);
    load(&configure(options(dir.path()))).unwrap_or_else(|error| panic!("{error}"))
}

#[test]
fn trace_decides_exactly_like_decide() {
    let snapshot = snapshot(|o| o);
    let users: Vec<String> = (0..200).map(|i| format!("user-{i}")).collect();
    for path in ["/", "/api/v2/invoices", "/api/invoices"] {
        for canary in [None, Some("v2"), Some("v1")] {
            for user in users.iter().map(String::as_str).map(Some).chain([None]) {
                let mut headers: Vec<(&str, &str)> = Vec::new();
                if let Some(canary) = canary {
                    headers.push(("x-canary", canary));
                }
                if let Some(user) = user {
                    headers.push(("X-User-Id", user));
                }
                let request = RequestView {
                    path,
                    headers: &headers.as_slice(),
                };
                assert_eq!(
                    snapshot.trace("billing", &request).decision,
                    snapshot.decide("billing", &request),
                    "{path} {headers:?}"
                );
            }
        }
    }
}

#[test]
fn every_rule_says_how_it_fared() {
    let snapshot = snapshot(|o| o);
    let headers = [("X-User-Id", "user-3")];
    let trace = snapshot.trace(
        "billing",
        &RequestView {
            path: "/api/invoices",
            headers: &headers,
        },
    );
    let states: Vec<(&str, RuleState<'_>, Option<RuleOutcome<'_>>)> = trace
        .rules
        .iter()
        .map(|rule| (rule.name, rule.state, rule.outcome))
        .collect();
    let bucket = bucket("rollout", "user-3");
    let rollout_outcome = if bucket <= 30 {
        RuleOutcome::Matched
    } else {
        RuleOutcome::OutsideRollout
    };
    assert_eq!(
        states,
        vec![
            (
                "canary-header",
                RuleState::Active,
                Some(RuleOutcome::HeaderMismatch {
                    header: "x-canary",
                    want: "v2"
                })
            ),
            (
                "prod-canaries",
                RuleState::Inactive("label env is not set, rule needs prod"),
                None
            ),
            ("off", RuleState::Disabled, None),
            (
                "api-only",
                RuleState::Active,
                Some(RuleOutcome::PathMismatch { prefix: "/api/v2/" })
            ),
            ("rollout", RuleState::Active, Some(rollout_outcome)),
        ]
    );
    let rollout = &trace.rules[4];
    assert_eq!(
        rollout.sticky,
        Some(StickyBucket {
            percent: 30,
            bucket: Some(bucket)
        })
    );
    assert_eq!(rollout.decided, bucket <= 30);
    assert_eq!(rollout.origin.to_string(), "gray/rules.toml:22");
    assert!(trace.rules[..4].iter().all(|rule| !rule.decided));
}

#[test]
fn sticky_buckets_are_reported_even_after_an_earlier_match() {
    let snapshot = snapshot(|o| o);
    let headers = [("X-Canary", "v2"), ("X-User-Id", "user-3")];
    let trace = snapshot.trace(
        "billing",
        &RequestView {
            path: "/",
            headers: &headers,
        },
    );
    assert_eq!(trace.decision.rule, Some("canary-header"));
    assert_eq!(trace.decision.reason, Reason::TargetingMatch);
    assert!(trace.rules[0].decided);
    assert_eq!(
        trace.rules[4].sticky.map(|s| s.bucket),
        Some(Some(bucket("rollout", "user-3")))
    );
    let without_key = snapshot.trace(
        "billing",
        &RequestView {
            path: "/",
            headers: &[("X-Canary", "v2")],
        },
    );
    assert_eq!(
        without_key.rules[4].sticky,
        Some(StickyBucket {
            percent: 30,
            bucket: None
        })
    );
    assert_eq!(
        without_key.rules[4].outcome,
        Some(RuleOutcome::MissingStickyKey)
    );
}

#[test]
fn unknown_dimensions_trace_no_rules() {
    let snapshot = snapshot(|o| o);
    let trace = snapshot.trace(
        "shipping",
        &RequestView {
            path: "/",
            headers: &[],
        },
    );
    assert_eq!(trace.decision.reason, Reason::Error);
    assert!(trace.rules.is_empty());
}
