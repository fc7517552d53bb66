//! The impact prediction against the compiler on real published crates (a bench, not a test:
//! it needs the registry). For each case, a crate that depends on an old major of a popular
//! dependency is copied out of cargo's cache, its uses of what the new major breaks are
//! predicted from sources alone, then its requirement is moved to the new major and
//! `cargo check --message-format json` gives the ground truth. Prints recall and precision per
//! case and overall, and the lines missed or wrongly predicted.
//!
//! `cargo bench -p graywork-contracts --bench impact`

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use graywork_contracts::{
    AffectedUse, BuildOptions, Certainty, affected_uses, breaking_changes, fetch_published,
};
use semver::Version;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A published crate, the dependency it uses, and the dependency's new version.
struct Case {
    krate: &'static str,
    version: &'static str,
    dependency: &'static str,
    to: &'static str,
}

const CASES: &[Case] = &[
    Case {
        krate: "names",
        version: "0.11.0",
        dependency: "rand",
        to: "0.8.5",
    },
    Case {
        krate: "jsonwebtoken",
        version: "7.2.0",
        dependency: "base64",
        to: "0.22.1",
    },
    Case {
        krate: "tempfile",
        version: "3.1.0",
        dependency: "rand",
        to: "0.8.5",
    },
    Case {
        krate: "cookie",
        version: "0.12.0",
        dependency: "time",
        to: "0.3.36",
    },
];

fn main() {
    // `cargo bench` passes `--bench`; any other argument picks cases by crate name.
    let wanted: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let scratch = tempfile::tempdir().expect("a scratch directory");
    let target = scratch.path().join("target");
    let (mut all_hits, mut all_errors, mut all_predicted) = (0, 0, 0);
    let (mut certain_hits, mut certain_predicted) = (0, 0);
    println!(
        "{:<24} {:<18} {:>7} {:>9} {:>8} {:>7} {:>9} {:>10} {:>9}",
        "crate",
        "dependency",
        "errors",
        "predicted",
        "certain",
        "recall",
        "precision",
        "certain-p",
        "ms"
    );
    for case in CASES {
        if !wanted.is_empty() && !wanted.iter().any(|w| w == case.krate) {
            continue;
        }
        match run(case, scratch.path(), &target) {
            Ok(outcome) => {
                let hits = outcome
                    .predicted_lines(false)
                    .intersection(&outcome.errors)
                    .count();
                let certain = outcome.predicted_lines(true);
                let certain_hit = certain.intersection(&outcome.errors).count();
                let predicted = outcome.predicted_lines(false).len();
                println!(
                    "{:<24} {:<18} {:>7} {:>9} {:>8} {:>7.2} {:>9.2} {:>10.2} {:>9}",
                    format!("{} {}", case.krate, case.version),
                    format!("{} {}", case.dependency, case.to),
                    outcome.errors.len(),
                    predicted,
                    certain.len(),
                    ratio(hits, outcome.errors.len()),
                    ratio(hits, predicted),
                    ratio(certain_hit, certain.len()),
                    outcome.millis
                );
                for missed in outcome.errors.difference(&outcome.predicted_lines(false)) {
                    println!("    missed: {}:{}", missed.0, missed.1);
                }
                for wrong in outcome.predicted_lines(false).difference(&outcome.errors) {
                    println!("    not confirmed: {}:{}", wrong.0, wrong.1);
                }
                all_hits += hits;
                all_errors += outcome.errors.len();
                all_predicted += predicted;
                certain_hits += certain_hit;
                certain_predicted += certain.len();
            }
            Err(err) => println!("{:<24} skipped: {err:#}", case.krate),
        }
    }
    println!(
        "overall: recall {:.2}, precision {:.2}, certain precision {:.2}",
        ratio(all_hits, all_errors),
        ratio(all_hits, all_predicted),
        ratio(certain_hits, certain_predicted)
    );
}

fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        1.0
    } else {
        part as f64 / whole as f64
    }
}

struct Outcome {
    predicted: Vec<AffectedUse>,
    errors: BTreeSet<(String, usize)>,
    millis: u128,
}

impl Outcome {
    fn predicted_lines(&self, certain_only: bool) -> BTreeSet<(String, usize)> {
        self.predicted
            .iter()
            .filter(|u| !certain_only || u.certainty == Certainty::Certain)
            .map(|u| (u.file.clone(), u.line))
            .collect()
    }
}

fn run(case: &Case, scratch: &Path, target: &Path) -> anyhow::Result<Outcome> {
    let published = fetch_published(case.krate, &Version::parse(case.version)?)?;
    let work = scratch.join(format!("{}-{}", case.krate, case.version));
    copy_dir(&published, &work)?;
    // Its own workspace, so nothing around it claims it.
    let manifest_path = work.join("Cargo.toml");
    let mut manifest: toml::Table = std::fs::read_to_string(&manifest_path)?.parse()?;
    manifest.insert("workspace".into(), toml::Value::Table(toml::Table::new()));
    std::fs::write(&manifest_path, toml::to_string(&manifest)?)?;

    // The version the crate resolves today, as cargo resolves it.
    let old_dir = resolved_dir(&work, case.dependency)?;
    let new_dir = fetch_published(case.dependency, &Version::parse(case.to)?)?;
    let started = Instant::now();
    let changes = breaking_changes(&old_dir, &new_dir, &BuildOptions::default())?;
    let in_code = case.dependency.replace('-', "_");
    let predicted = affected_uses(&work, &work, &[in_code], &changes)?;
    let millis = started.elapsed().as_millis();

    // Move the requirement and let the compiler judge.
    let deps = manifest
        .get_mut("dependencies")
        .and_then(toml::Value::as_table_mut)
        .ok_or_else(|| anyhow::anyhow!("{} has no [dependencies]", case.krate))?;
    let entry = deps
        .get_mut(case.dependency)
        .ok_or_else(|| anyhow::anyhow!("{} does not depend on {}", case.krate, case.dependency))?;
    let requirement = toml::Value::String(format!("={}", case.to));
    match entry {
        toml::Value::Table(table) => {
            table.insert("version".into(), requirement);
        }
        other => *other = requirement,
    }
    std::fs::write(&manifest_path, toml::to_string(&manifest)?)?;
    let output = Command::new("cargo")
        .args(["check", "--message-format", "json", "-q"])
        .current_dir(&work)
        .env("CARGO_TARGET_DIR", target)
        .output()?;
    let mut errors = BTreeSet::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if message["reason"] != "compiler-message" || message["message"]["level"] != "error" {
            continue;
        }
        let is_ours = |span: &serde_json::Value| {
            span["is_primary"] == true
                && !span["file_name"]
                    .as_str()
                    .is_some_and(|f| f.starts_with('/'))
        };
        for span in message["message"]["spans"].as_array().into_iter().flatten() {
            if is_ours(span) {
                errors.insert((
                    span["file_name"].as_str().unwrap_or_default().to_string(),
                    span["line_start"].as_u64().unwrap_or_default() as usize,
                ));
            }
        }
    }
    Ok(Outcome {
        predicted,
        errors,
        millis,
    })
}

/// The directory of `dependency` as cargo resolves it for the crate in `work`.
fn resolved_dir(work: &Path, dependency: &str) -> anyhow::Result<PathBuf> {
    let output = Command::new("cargo")
        .args(["metadata", "--format-version", "1"])
        .current_dir(work)
        .output()?;
    anyhow::ensure!(
        output.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    let mut found: Vec<(Version, PathBuf)> = json["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["name"] == dependency)
        .filter_map(|p| {
            let version = Version::parse(p["version"].as_str()?).ok()?;
            let dir = Path::new(p["manifest_path"].as_str()?)
                .parent()?
                .to_path_buf();
            Some((version, dir))
        })
        .collect();
    // The oldest, when the graph holds several (the crate's own, not a newer transitive one).
    found.sort();
    found
        .into_iter()
        .next()
        .map(|(_, dir)| dir)
        .ok_or_else(|| anyhow::anyhow!("cargo resolved no `{dependency}`"))
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}
