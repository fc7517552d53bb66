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
