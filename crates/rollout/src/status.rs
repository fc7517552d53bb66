//! `rollout status`: the saved state as text for people.

use std::fmt::Write as _;

use crate::spec::Spec;
use crate::state::{Phase, State};

/// A readable summary of `state` for `spec`.
pub fn render(spec: &Spec, state: &State) -> String {
    let mut out = String::new();
    let total = spec.steps.len();
    let phase = match &state.phase {
        Phase::Applying { step } => format!(
            "applying step {}/{total} ({}%)",
            step + 1,
            spec.steps[*step].percent
        ),
        Phase::Analysing { step } => format!(
            "analysing step {}/{total} ({}%)",
            step + 1,
            spec.steps[*step].percent
        ),
        other => other.name().replace('_', " "),
    };
    let _ = writeln!(
        out,
        "rollout of rule `{}` in {}",
        spec.rule,
        spec.fragment.display()
    );
    let _ = writeln!(
        out,
        "phase:     {phase}{}",
        if state.paused { " (paused)" } else { "" }
    );
    let _ = writeln!(out, "percent:   {}", state.percent);
    if let Phase::Analysing { step } = &state.phase {
        let _ = writeln!(
            out,
            "analysis:  passed {}/{}, inconclusive {}/{}, failures {}/{}",
            state.passed,
            spec.steps[*step].checks,
            state.inconclusive,
            spec.analysis.inconclusive_limit,
            state.failures,
            spec.analysis.failure_limit
        );
    }
    if let Some(reason) = &state.reason {
        let _ = writeln!(out, "reason:    {reason}");
    }
    let steps: Vec<String> = spec
        .steps
        .iter()
        .enumerate()
        .map(|(index, step)| {
            let done = state.applied.iter().any(|a| a.step == index);
            format!("{}%{}", step.percent, if done { " ✓" } else { "" })
        })
        .collect();
    let _ = writeln!(out, "steps:     {}", steps.join(" → "));
    for instance in &state.instances {
        let _ = writeln!(
            out,
            "instance:  {} generation {} hash {}",
            instance.instance, instance.generation, instance.content_hash
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::fleet::Converged;
    use crate::state::AppliedStep;

    #[test]
    fn status_shows_phase_counters_steps_and_instances() {
        let spec = Spec::parse(
            Path::new("/r/spec.toml"),
            r#"
[target]
fragment = "gray/b.toml"
rule = "billing-v2-rollout"
[[steps]]
percent = 1
checks = 2
[[steps]]
percent = 50
[[steps]]
percent = 100
[analysis]
prometheus = "http://127.0.0.1:9090"
[[instances]]
name = "gw-a"
admin_url = "http://127.0.0.1:9001"
"#,
        )
        .unwrap();
        let mut state = State::new(&spec.identity, 0);
        state.phase = Phase::Analysing { step: 1 };
        state.percent = 50;
        state.passed = 1;
        state.failures = 1;
        state.applied = vec![
            AppliedStep {
                step: 0,
                percent: 1,
                at_ms: 1,
            },
            AppliedStep {
                step: 1,
                percent: 50,
                at_ms: 2,
            },
        ];
        state.instances = vec![Converged {
            instance: "gw-a".to_owned(),
            generation: 3,
            content_hash: "abc123".to_owned(),
        }];
        insta::assert_snapshot!(render(&spec, &state));
    }
}
