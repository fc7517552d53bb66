//! README.md's "A gray rollout on this machine" works as written: its lines run in bash, in a
//! copy of `config/` on free loopback ports, with `cargo run -p gateway|rollout --` standing for
//! the built binaries and `cargo xtask` run in this workspace.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{RULE, agent, exclusive, free_port, gateway_binary};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The README's lines under "A gray rollout on this machine", continuation lines joined.
fn readme_lines() -> Vec<String> {
    let readme = std::fs::read_to_string(workspace().join("README.md")).unwrap();
    let section = readme
        .split("## A gray rollout on this machine")
        .nth(1)
        .expect("README.md has the section");
    let block = section
        .split("```sh\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("the section has a sh block");
    block
        .replace("\\\n", " ")
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect()
}

/// What `cargo` means in the README's lines here: the binaries this test run built, and
/// `cargo xtask` in this workspace (with this run's cargo and target directory).
fn prelude(work: &Path) -> String {
    let rollout = env!("CARGO_BIN_EXE_rollout");
    let target = Path::new(rollout)
        .parent()
        .and_then(Path::parent)
        .unwrap()
        .to_owned();
    format!(
        r#"set -euo pipefail
cd '{work}'
cargo() {{
    if [ "$1" = run ] && [ "$2" = -p ] && [ "$4" = -- ]; then
        local package="$3"
        shift 4
        case "$package" in
            gateway) exec '{gateway}' "$@" ;;
            rollout) exec '{rollout}' "$@" ;;
        esac
    elif [ "$1" = xtask ]; then
        shift
        (cd '{workspace}' && '{cargo}' run -q --target-dir '{target}' -p xtask -- "$@")
        return
    fi
    echo "the README test does not know: cargo $*" >&2
    return 2
}}
"#,
        work = work.display(),
        gateway = gateway_binary().display(),
        workspace = workspace().display(),
        cargo = env!("CARGO"),
        target = target.display(),
    )
}

/// Runs `line` in bash after `exports` (the README's `export` lines so far), in the background
/// with its stdout piped.
fn spawn(prelude: &str, exports: &[String], line: &str) -> Child {
    let script = format!("{prelude}{}\n{line}\n", exports.join("\n"));
    Command::new("bash")
        .arg("-c")
        .arg(script)
        .env_remove("ENV")
        .env_remove("INSTANCE_LABELS")
        .env_remove("ENABLE_GRAY_CONFIG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Kills a child when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits (bounded) until `url` answers 200.
fn wait_until_up(url: &str, child: &mut Child) {
    let started = Instant::now();
    while !agent().get(url).call().is_ok_and(|r| r.status() == 200) {
        if let Some(status) = child.try_wait().unwrap() {
            let mut stderr = String::new();
            let _ = std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr);
            panic!("the gateway exited ({status}): {stderr}");
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{url} never answered"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn the_readme_rollout_lines_work_as_written_and_preflight_refuses_what_is_missing() {
    let _serial = exclusive();
    let work = tempfile::tempdir().unwrap();
    let (api, admin, prometheus) = (free_port(), free_port(), free_port());
    let port_of = |text: &str| {
        text.replace("127.0.0.1:8080", &format!("127.0.0.1:{api}"))
            .replace("127.0.0.1:9090", &format!("127.0.0.1:{admin}"))
            .replace("127.0.0.1:9091", &format!("127.0.0.1:{prometheus}"))
    };
    // A copy of config/ with the README's ports moved to free ones.
    let config = work.path().join("config");
    std::fs::create_dir_all(config.join("gray")).unwrap();
    for file in [
        "base.toml",
        "staging.toml",
        "prod.toml",
        "gray/billing-v2.toml",
    ] {
        let text = std::fs::read_to_string(workspace().join("config").join(file)).unwrap();
        std::fs::write(config.join(file), port_of(&text)).unwrap();
    }
    let fragment = config.join("gray/billing-v2.toml");
    let shipped = std::fs::read_to_string(&fragment).unwrap();
    let prelude = prelude(work.path());
    let mut exports = Vec::new();
    let mut gateway = None;
    let mut run_line = None;
    for line in readme_lines().iter().map(|line| port_of(line)) {
        let command = line.split('#').next().unwrap().trim().to_owned();
        if let Some(assignment) = command.strip_prefix("export ") {
            // Evaluated once, as in the one shell the README's lines run in.
            let name = assignment.split('=').next().unwrap().to_owned();
            let output = spawn(
                &prelude,
                &exports,
                &format!("{command}\nprintf %s \"${name}\""),
            )
            .wait_with_output()
            .unwrap();
            assert!(output.status.success(), "`{command}` failed");
            let value = String::from_utf8(output.stdout).unwrap();
            exports.push(format!("export {name}='{value}'"));
        } else if command.contains("cargo run -p gateway -- serve") {
            // The README runs it in the background; so does this test, to stop it after.
            let background = command.trim_end_matches('&').trim().to_owned();
            assert_ne!(
                background, command,
                "the README starts the gateway with `&`"
            );
            // First as the old README started it, without the switch and labels: the rollout
            // must refuse before it edits anything.
            let bare = background
                .split_whitespace()
                .skip_while(|word| word.contains('='))
                .collect::<Vec<_>>()
                .join(" ");
            gateway = Some((background, bare));
        } else if command.contains("cargo run -p rollout -- run ") {
            run_line = Some(command);
        } else {
            let output = spawn(&prelude, &exports, &command)
                .wait_with_output()
                .unwrap();
            assert!(
                output.status.success(),
                "`{command}` failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }
    let (gateway, bare) = gateway.expect("the README starts a gateway");
    let run_line = run_line.expect("the README runs the rollout");
    assert!(work.path().join("rollouts/billing-v2.toml").is_file());
    let ready = format!("http://127.0.0.1:{admin}/readyz");

    // Without the gray switch and the labels: refused, naming what is missing, nothing edited.
    let mut without = Running(spawn(&prelude, &exports, &bare));
    wait_until_up(&ready, &mut without.0);
    let refused = spawn(&prelude, &exports, &run_line)
        .wait_with_output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("preflight"), "{stderr}");
    assert!(
        stderr.contains(&format!("instance gw: it serves no rule `{RULE}`")),
        "{stderr}"
    );
    assert!(stderr.contains("ENABLE_GRAY_CONFIG=true"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&fragment).unwrap(), shipped);
    drop(without);

    // As the README says: the run passes the preflight and applies its first step.
    let mut with = Running(spawn(&prelude, &exports, &gateway));
    wait_until_up(&ready, &mut with.0);
    let mut run = Running(spawn(&prelude, &exports, &run_line));
    let stdout = run.0.stdout.take().unwrap();
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    let started = Instant::now();
    let applied: Value = loop {
        let line = receiver
            .recv_timeout(Duration::from_secs(60).saturating_sub(started.elapsed()))
            .unwrap_or_else(|_| {
                let mut stderr = String::new();
                let _ = run.0.kill();
                let _ = std::io::Read::read_to_string(run.0.stderr.as_mut().unwrap(), &mut stderr);
                panic!("the README's rollout applied no step: {stderr}")
            });
        let event: Value = serde_json::from_str(&line).unwrap();
        if event["event"] == "step_applied" {
            break event;
        }
    };
    assert_eq!(applied["percent"], 1, "{applied}");
    assert_eq!(applied["instances"][0]["instance"], "gw");
    assert_eq!(
        rollout::rule_percent(&std::fs::read_to_string(&fragment).unwrap(), RULE).unwrap(),
        1
    );
}
