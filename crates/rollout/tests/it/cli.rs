//! The command line without gateways: spec errors, status without state.

use crate::support::rollout_command;

#[test]
fn an_invalid_spec_exits_2_naming_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("bad.toml");
    std::fs::write(
        &spec,
        "[target]\nfragment = \"gray/x.toml\"\nrule = \"r\"\n\n[[steps]]\npercent = 50\n\n[[steps]]\npercent = 10\n\n[analysis]\nprometheus = \"http://127.0.0.1:9090\"\n\n[[instances]]\nname = \"a\"\nadmin_url = \"http://127.0.0.1:1\"\n",
    )
    .unwrap();
    let output = rollout_command().arg("run").arg(&spec).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr)
        .unwrap()
        .replace(&dir.path().display().to_string(), "DIR");
    insta::assert_snapshot!(stderr, @"error: DIR/bad.toml:9:11: `steps[1].percent` is 10; percents must rise strictly within 1..=100");
}

#[test]
fn status_without_a_rollout_says_how_to_start_one() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("r.toml");
    std::fs::write(
        &spec,
        "[target]\nfragment = \"gray/x.toml\"\nrule = \"r\"\n\n[[steps]]\npercent = 100\n\n[analysis]\nprometheus = \"http://127.0.0.1:9090\"\n\n[[instances]]\nname = \"a\"\nadmin_url = \"http://127.0.0.1:1\"\n",
    )
    .unwrap();
    let output = rollout_command().arg("status").arg(&spec).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr)
        .unwrap()
        .replace(&dir.path().display().to_string(), "DIR");
    insta::assert_snapshot!(stderr, @"error: no rollout state at DIR/r.state.db (start the rollout with `rollout run DIR/r.toml`)");
    assert!(
        !dir.path().join("r.state.db").exists(),
        "status creates nothing"
    );
}

/// The JSON of a contract plan with a gray stage, as the planner prints it: the snapshot the
/// planner's own tests keep (so a change of the plan's shape shows here too).
fn planner_json() -> String {
    let snapshot = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../graywork-plan/tests/it/snapshots/it__goals__contract_plan_json.snap");
    let text = std::fs::read_to_string(&snapshot).unwrap();
    // An insta snapshot: a `---` header, then the value.
    text.splitn(3, "---\n").nth(2).unwrap().to_owned()
}

#[test]
fn init_writes_a_valid_spec_from_a_plan_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.json");
    std::fs::write(&plan, planner_json()).unwrap();
    // Its directory does not exist yet: init creates it.
    let spec = dir.path().join("rollouts/greet.toml");
    let init = || {
        rollout_command()
            .arg("init")
            .arg("--plan")
            .arg(&plan)
            .arg("--workspace")
            .arg(dir.path())
            .args(["--prometheus", "http://127.0.0.1:9090"])
            .args(["--instance", "gw-1=http://127.0.0.1:9091"])
            .args(["--instance", "gw-2=http://127.0.0.1:9092"])
            .arg("--output")
            .arg(&spec)
            .output()
            .unwrap()
    };
    let first = init();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let text = std::fs::read_to_string(&spec).unwrap();
    assert!(
        text.contains("fragment = \"../config/gray/greet-v2.toml\""),
        "{text}"
    );
    assert!(text.contains("rule = \"greet-v2-rollout\""), "{text}");
    for percent in [
        "percent = 1\n",
        "percent = 10\n",
        "percent = 50\n",
        "percent = 100\n",
    ] {
        assert!(text.contains(percent), "{text}");
    }
    // The spec is one `rollout status` reads (no state yet, so it says how to start).
    let status = rollout_command().arg("status").arg(&spec).output().unwrap();
    assert!(
        String::from_utf8_lossy(&status.stderr).contains("no rollout state"),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let again = init();
    assert_eq!(again.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("must not exist yet"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(std::fs::read_to_string(&spec).unwrap(), text);
}
