//! docs/rollout.md stays true: its example spec is valid and means what the text says.

use std::path::Path;
use std::time::Duration;

use rollout::{Counts, ErrorRatioJudge, Spec, error_ratio};

fn doc() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/rollout.md");
    std::fs::read_to_string(path).unwrap()
}

fn example_spec() -> String {
    doc()
        .split("```toml\n")
        .skip(1)
        .filter_map(|block| block.split("```").next())
        .find(|block| block.starts_with("[target]"))
        .expect("docs/rollout.md has an example spec")
        .to_owned()
}

#[test]
fn the_documented_example_spec_is_valid() {
    let spec = Spec::parse(Path::new("rollouts/billing-v2.toml"), &example_spec())
        .unwrap_or_else(|error| panic!("the example in docs/rollout.md is invalid: {error}"));
    let percents: Vec<u8> = spec.steps.iter().map(|s| s.percent).collect();
    assert_eq!(percents, [1, 10, 50, 100]);
    assert_eq!(spec.steps[0].hold, Duration::from_secs(15 * 60));
    assert_eq!(spec.rule, "billing-v2-rollout");
    assert_eq!(spec.instances.len(), 2);
    assert_eq!(spec.instances[1].token_env, "GRAYWORK_ADMIN_TOKEN");
    assert_eq!(spec.analysis.checks[0].name, "v2_decisions_by_rule");
    assert_eq!(
        spec.controller.state,
        Path::new("rollouts/billing-v2.state.db")
    );
}

#[test]
fn the_documented_error_ratio_detail_is_what_the_judge_says() {
    let judgement = error_ratio(
        &ErrorRatioJudge {
            confidence: 0.99,
            margin: 0.01,
        },
        Counts {
            requests: 9900.0,
            errors: 0.0,
        },
        Counts {
            requests: 100.0,
            errors: 20.0,
        },
        100,
    );
    assert!(
        doc().contains(&format!("`{}`", judgement.detail)),
        "docs/rollout.md should quote: {}",
        judgement.detail
    );
}
