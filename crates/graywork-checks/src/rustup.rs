//! Which toolchain the tool's cargo and rustc runs should use when the workspace pins one that
//! rustup has not installed (and, offline or with `RUSTUP_AUTO_INSTALL=0`, cannot install).
//!
//! Every cargo and rustc the tool starts goes through rustup's proxies, which read the pin from
//! the directory they run in and fail before doing anything when its toolchain is missing.
//! [`fallback`] finds the pin rustup would read (from the current directory and from the
//! manifest's, upwards, unless a `rustup override` covers it) and, when its toolchain is not
//! installed, names an installed one to use instead: the same channel (`nightly`, `beta`) when
//! there is one, else rustup's default, else `stable`, else the last one by name. The command
//! line runs itself again with `RUSTUP_TOOLCHAIN` set to it.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// A pin whose toolchain is missing, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fallback {
    /// The line to print once, on stderr.
    pub note: String,
    /// The installed toolchain to run with (`RUSTUP_TOOLCHAIN`); `None` when one is already
    /// chosen or none is installed.
    pub run_with: Option<String>,
}

/// What to do when `cwd` (and `manifest_dir`, from `--manifest-path`) is under a pin whose
/// toolchain rustup lacks; `None` when nothing is pinned there, the pin is installed, or rustup
/// is not in use. `chosen` is `RUSTUP_TOOLCHAIN` when set (`cargo +stable graywork` sets it).
pub fn fallback(
    cwd: &Path,
    manifest_dir: Option<&Path>,
    chosen: Option<&OsStr>,
) -> Option<Fallback> {
    let rustup = Rustup::read()?;
    let dirs = std::iter::once(cwd).chain(manifest_dir);
    let (pin, file) = dirs.into_iter().find_map(|dir| missing_pin(dir, &rustup))?;
    let shown = file
        .strip_prefix(cwd)
        .unwrap_or(&file)
        .display()
        .to_string();
    if let Some(chosen) = chosen {
        return Some(Fallback {
            note: format!(
                "note: {shown} pins `{pin}`, which rustup has not installed; every cargo this \
                 runs uses `{}`, as chosen (`cargo +TOOLCHAIN` or RUSTUP_TOOLCHAIN)",
                chosen.to_string_lossy()
            ),
            run_with: None,
        });
    }
    match choose(&pin, &rustup) {
        Decision::Keep => None,
        Decision::Nothing => Some(Fallback {
            note: format!(
                "note: {shown} pins `{pin}`, which rustup has not installed, and rustup has no \
                 other toolchain; `rustup toolchain install {pin}` installs it"
            ),
            run_with: None,
        }),
        Decision::FallBack(toolchain) => Some(Fallback {
            note: format!(
                "note: {shown} pins `{pin}`, which rustup has not installed; every cargo this \
                 runs uses `{toolchain}` instead (RUSTUP_TOOLCHAIN); `rustup toolchain install \
                 {pin}` installs the pin"
            ),
            run_with: Some(toolchain),
        }),
    }
}

/// What rustup has: its installed toolchains (directory names under `toolchains/`), its
/// default, and the directories `rustup override set` covers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Rustup {
    installed: Vec<String>,
    default: Option<String>,
    overrides: Vec<PathBuf>,
}

/// What to do about a pin.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Decision {
    /// The pinned toolchain is installed, or the pin does not apply: nothing to do.
    Keep,
    /// Run with this installed toolchain instead.
    FallBack(String),
    /// The pin is missing and rustup has no toolchain at all.
    Nothing,
}

/// The pin rustup reads in `dir` (the nearest `rust-toolchain.toml` or `rust-toolchain` at or
/// above it) when its toolchain is not installed and no override covers `dir`.
fn missing_pin(dir: &Path, rustup: &Rustup) -> Option<(String, PathBuf)> {
    if rustup
        .overrides
        .iter()
        .any(|covered| dir.starts_with(covered))
    {
        return None;
    }
    for ancestor in dir.ancestors() {
        // A malformed pin is check-toolchain's to report, with its line.
        let Ok(found) = crate::toolchain::pin_in(ancestor) else {
            return None;
        };
        if let Some((pin, file)) = found {
            return (!is_installed(&pin.text, &rustup.installed)).then_some((pin.text, file));
        }
    }
    None
}

/// Whether rustup has `toolchain`: a directory of that name, or of that name followed by a
/// target triple (`1.95.0-x86_64-unknown-linux-gnu`; a triple never starts with a digit, which
/// keeps `nightly` from matching `nightly-2026-01-01-…`).
fn is_installed(toolchain: &str, installed: &[String]) -> bool {
    installed.iter().any(|name| {
        name == toolchain
            || name
                .strip_prefix(toolchain)
                .and_then(|rest| rest.strip_prefix('-'))
                .is_some_and(|triple| triple.starts_with(|c: char| c.is_ascii_alphabetic()))
    })
}

/// The installed toolchain to use for a missing `pin`: the same channel (`nightly`, `beta`)
/// when one is installed, else rustup's default, else `stable`, else the last one by name.
fn choose(pin: &str, rustup: &Rustup) -> Decision {
    if is_installed(pin, &rustup.installed) {
        return Decision::Keep;
    }
    let channel = ["nightly", "beta"]
        .into_iter()
        .find(|channel| pin == *channel || pin.starts_with(&format!("{channel}-")));
    if let Some(channel) = channel {
        let mut same: Vec<&String> = rustup
            .installed
            .iter()
            .filter(|name| name.starts_with(&format!("{channel}-")))
            .collect();
        // The undated channel first (it tracks the newest), then the newest dated one.
        same.sort_by_key(|name| {
            let dated = name[channel.len() + 1..].starts_with(|c: char| c.is_ascii_digit());
            (!dated, (*name).clone())
        });
        if let Some(name) = same.last() {
            return Decision::FallBack((*name).clone());
        }
    }
    if let Some(default) = &rustup.default
        && is_installed(default, &rustup.installed)
    {
        return Decision::FallBack(default.clone());
    }
    let stable = rustup
        .installed
        .iter()
        .find(|name| name.starts_with("stable-"));
    match stable.or(rustup.installed.iter().max()) {
        Some(name) => Decision::FallBack(name.clone()),
        None => Decision::Nothing,
    }
}

impl Rustup {
    /// Reads `$RUSTUP_HOME` (else `~/.rustup`); `None` when rustup is not there.
    fn read() -> Option<Rustup> {
        let home = match std::env::var_os("RUSTUP_HOME") {
            Some(home) => PathBuf::from(home),
            None => PathBuf::from(std::env::var_os("HOME")?).join(".rustup"),
        };
        let mut installed: Vec<String> = std::fs::read_dir(home.join("toolchains"))
            .ok()?
            .flatten()
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .collect();
        installed.sort();
        let settings: toml::Table = std::fs::read_to_string(home.join("settings.toml"))
            .ok()
            .and_then(|text| toml::from_str(&text).ok())
            .unwrap_or_default();
        let default = settings
            .get("default_toolchain")
            .and_then(toml::Value::as_str)
            .map(str::to_owned);
        let overrides = settings
            .get("overrides")
            .and_then(toml::Value::as_table)
            .map(|table| table.keys().map(PathBuf::from).collect())
            .unwrap_or_default();
        Some(Rustup {
            installed,
            default,
            overrides,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rustup(installed: &[&str], default: Option<&str>) -> Rustup {
        Rustup {
            installed: installed.iter().map(|name| (*name).to_owned()).collect(),
            default: default.map(str::to_owned),
            overrides: Vec::new(),
        }
    }

    const HOST: &str = "x86_64-unknown-linux-gnu";

    #[test]
    fn installed_names_carry_the_host() {
        let names = [
            format!("1.95.0-{HOST}"),
            format!("nightly-2026-01-01-{HOST}"),
            "my-build".to_owned(),
        ];
        assert!(is_installed("1.95.0", &names));
        assert!(is_installed("nightly-2026-01-01", &names));
        assert!(is_installed("my-build", &names));
        assert!(
            !is_installed("nightly", &names),
            "a dated nightly is not `nightly`"
        );
        assert!(!is_installed("1.95", &names));
        assert!(!is_installed("stable", &names));
    }

    #[test]
    fn the_fallback_keeps_the_channel_then_takes_the_default() {
        let stable = format!("stable-{HOST}");
        let nightly = format!("nightly-{HOST}");
        let dated = format!("nightly-2026-03-01-{HOST}");
        let older = format!("nightly-2025-01-01-{HOST}");
        let all = rustup(&[&stable, &nightly, &dated], Some(&stable));
        assert_eq!(
            choose("nightly-2020-01-01", &all),
            Decision::FallBack(nightly.clone())
        );
        let dated_only = rustup(&[&stable, &older, &dated], Some(&stable));
        assert_eq!(
            choose("nightly-2020-01-01", &dated_only),
            Decision::FallBack(dated.clone()),
            "the newest dated nightly"
        );
        assert_eq!(choose("1.80.0", &all), Decision::FallBack(stable.clone()));
        assert_eq!(choose("beta", &all), Decision::FallBack(stable.clone()));
        assert_eq!(choose("nightly-2026-03-01", &all), Decision::Keep);
        let no_default = rustup(&["1.90.0-x", "1.93.0-x"], None);
        assert_eq!(
            choose("1.80.0", &no_default),
            Decision::FallBack("1.93.0-x".to_owned())
        );
        assert_eq!(choose("1.80.0", &rustup(&[], None)), Decision::Nothing);
    }

    #[test]
    fn a_pin_counts_only_where_no_override_covers_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        let nested = dir.path().join("crates/app");
        std::fs::create_dir_all(&nested).expect("create dirs");
        std::fs::write(
            dir.path().join("rust-toolchain.toml"),
            "[toolchain]\nchannel = \"nightly-2020-01-01\"\n",
        )
        .expect("write the pin");
        let mut facts = rustup(&[&format!("stable-{HOST}")], None);
        let (pin, file) = missing_pin(&nested, &facts).expect("a missing pin above");
        assert_eq!(pin, "nightly-2020-01-01");
        assert_eq!(file, dir.path().join("rust-toolchain.toml"));
        facts.overrides.push(dir.path().to_path_buf());
        assert_eq!(missing_pin(&nested, &facts), None);
        facts.overrides.clear();
        facts.installed.push(format!("nightly-2020-01-01-{HOST}"));
        assert_eq!(missing_pin(&nested, &facts), None);
    }
}
