//! Version discipline: each contract module's `VERSION` must be bumped at least as much as its
//! findings require, and a breaking change to a released `vN` must go to a new `vN+1` module.

use std::collections::BTreeSet;

use semver::Version;

use crate::diff::{Bump, Finding, Severity};
use crate::lint::Lint;
use crate::surface::{Location, Surface};
use graywork_workspace::parse_major;

/// The contract module an item path belongs to: `billing::v1::Invoice` -> `("billing", 1)`.
pub(crate) fn contract_module(path: &str, defines: &[String]) -> Option<(String, u64)> {
    let mut segments = path.split("::");
    let name = segments.next()?;
    let major = parse_major(segments.next()?)?;
    defines
        .iter()
        .any(|d| d == name)
        .then(|| (name.to_string(), major))
}

/// Keeps only the `VERSION`s of contract modules `NAME::vN` (NAME in `defines`). Items outside
/// contract modules stay: contract items use them (`Money`), so their breaks are breaks too.
pub fn contract_surface(mut surface: Surface, defines: &[String]) -> Surface {
    surface.versions.retain(|module, _| {
        contract_module(module, defines)
            .is_some_and(|(name, major)| *module == format!("{name}::v{major}"))
    });
    surface
}

/// Every contract module (`billing::v1`) a surface has items or a `VERSION` in.
pub(crate) fn modules(surface: &Surface, defines: &[String]) -> BTreeSet<(String, u64)> {
    surface
        .versions
        .keys()
        .chain(surface.traits.keys())
        .chain(surface.structs.keys())
        .chain(surface.enums.keys())
        .chain(surface.functions.keys())
        .chain(surface.consts.keys())
        .filter_map(|path| contract_module(path, defines))
        .collect()
}

/// The largest bump a version change allows (`None` when it is not a valid forward step).
pub(crate) fn allowed_bump(old: &Version, new: &Version) -> Option<Bump> {
    if new < old {
        return None;
    }
    let allowed = if old.major == 0 && new.major == 0 {
        // Cargo's rule for 0.y.z: y is the breaking part.
        if new.minor > old.minor {
            Bump::Major
        } else if new.patch > old.patch {
            Bump::Minor
        } else {
            Bump::None
        }
    } else if new.major > old.major {
        Bump::Major
    } else if new.minor > old.minor {
        Bump::Minor
    } else if new.patch > old.patch {
        Bump::Patch
    } else {
        Bump::None
    };
    Some(allowed)
}

/// The smallest version after `old` that allows `bump`.
fn next_version(old: &Version, bump: Bump) -> Version {
    match bump {
        Bump::Major => Version::new(old.major + 1, 0, 0),
        Bump::Minor => Version::new(old.major, old.minor + 1, 0),
        Bump::Patch | Bump::None => Version::new(old.major, old.minor, old.patch + 1),
    }
}

/// Applies contract-module discipline to a diff's findings: groups them by module, marks the
/// ones the `VERSION` change does not cover as errors, folds the findings of added and retired
/// modules into one, and adds one finding per module whose version is wrong.
///
/// Items outside contract modules (shared domain types) are grouped under `crate_name`; they
/// have no `VERSION`, so their breaking changes are errors and their additions are allowed.
pub(crate) fn apply_contract_discipline(
    findings: Vec<Finding>,
    old: &Surface,
    new: &Surface,
    defines: &[String],
    crate_name: &str,
    lock_loc: &Location,
) -> Vec<Finding> {
    let old_modules = modules(old, defines);
    let new_modules = modules(new, defines);
    let mut out: Vec<Finding> = findings
        .iter()
        .filter(|f| contract_module(&f.path, defines).is_none())
        .cloned()
        .map(|mut finding| {
            finding.group = crate_name.to_string();
            if finding.bump == Bump::Major {
                finding.severity = finding.uncovered();
            }
            finding
        })
        .collect();
    for (name, major) in old_modules.union(&new_modules) {
        let module = format!("{name}::v{major}");
        let prefix = format!("{module}::");
        let mut mine: Vec<Finding> = findings
            .iter()
            .filter(|f| f.path.starts_with(&prefix))
            .cloned()
            .collect();
        let in_old = old_modules.contains(&(name.clone(), *major));
        let in_new = new_modules.contains(&(name.clone(), *major));
        let version_loc = new
            .consts
            .get(&format!("{module}::VERSION"))
            .map_or_else(|| first_loc(&mine, lock_loc), |c| c.loc.clone());
        let new_version = match new.versions.get(&module) {
            None if in_new => {
                out.push(problem(
                    &module,
                    Lint::ContractVersionMissing,
                    Bump::None,
                    first_loc(&mine, &version_loc),
                    format!("contract module `{module}` has no `pub const VERSION: &str = \"{major}.x.y\";`"),
                ));
                None
            }
            None => None,
            Some(text) => match Version::parse(text) {
                Ok(version) => Some(version),
                Err(err) => {
                    out.push(problem(
                        &module,
                        Lint::ContractVersionInvalid,
                        Bump::None,
                        version_loc.clone(),
                        format!("`{module}::VERSION` is \"{text}\", which is not a semver version: {err}"),
                    ));
                    None
                }
            },
        };
        if let Some(version) = &new_version
            && version.major != *major
        {
            out.push(problem(
                &module,
                Lint::ContractVersionMajorMismatch,
                Bump::None,
                version_loc.clone(),
                format!(
                    "`{module}::VERSION` is {version}, but module v{major} must have a {major}.x.y version: each major is its own module `{name}::vN`"
                ),
            ));
        }
        if !in_old {
            let loc = version_loc.clone();
            let shown = new_version
                .as_ref()
                .map_or("no VERSION".to_string(), ToString::to_string);
            out.push(note(
                &module,
                Lint::ContractModuleAdded,
                Bump::Minor,
                loc,
                format!("contract module `{module}` added ({shown})"),
            ));
            continue;
        }
        if !in_new {
            let loc = first_loc(&mine, lock_loc);
            out.push(note(&module, Lint::ContractModuleRemoved, Bump::Major, loc, format!("contract module `{module}` retired: consumers that still require it are reported under wiring")));
            continue;
        }
        let required = super::diff::required_bump(&mine);
        let old_version = old
            .versions
            .get(&module)
            .and_then(|v| Version::parse(v).ok());
        let allowed = match (&old_version, &new_version) {
            (Some(old_v), Some(new_v)) => match allowed_bump(old_v, new_v) {
                Some(allowed) => allowed.min(Bump::Minor),
                None => {
                    out.push(problem(
                        &module,
                        Lint::ContractVersionDecreased,
                        required,
                        version_loc.clone(),
                        format!("`{module}::VERSION` went down from {old_v} to {new_v}"),
                    ));
                    Bump::None
                }
            },
            _ => Bump::None,
        };
        for finding in &mut mine {
            finding.group = module.clone();
            if finding.bump > allowed {
                finding.severity = finding.uncovered();
            }
        }
        if required == Bump::Major {
            out.push(problem(
                &module,
                Lint::ContractBreakingChangeInReleasedMajor,
                Bump::Major,
                version_loc.clone(),
                format!(
                    "`{module}` is released, so its breaking changes must not be made in place: revert them and put the new API in a new module `{name}::v{}` (VERSION \"{}.0.0\") beside it",
                    major + 1,
                    major + 1
                ),
            ));
        } else if required > allowed
            && let (Some(old_v), Some(new_v)) = (&old_version, &new_version)
            && new_v >= old_v
        {
            out.push(problem(
                &module,
                Lint::ContractVersionNotBumped,
                required,
                version_loc.clone(),
                format!(
                    "`{module}` needs a {required} bump: VERSION is {new_v} (baseline {old_v}); set it to at least {}",
                    next_version(old_v, required)
                ),
            ));
        }
        out.extend(mine);
    }
    out
}

/// Applies a crate's own version to a whole-crate diff (`--baseline-dir` mode). Without both
/// versions, breaking findings are errors and additions are notes.
pub(crate) fn apply_crate_discipline(
    findings: Vec<Finding>,
    crate_name: &str,
    versions: Option<(Version, Version)>,
    manifest_loc: &Location,
) -> Vec<Finding> {
    let required = super::diff::required_bump(&findings);
    let allowed = match &versions {
        Some((old, new)) => allowed_bump(old, new).unwrap_or(Bump::None),
        None => Bump::Minor,
    };
    let mut out: Vec<Finding> = findings
        .into_iter()
        .map(|mut finding| {
            finding.group = crate_name.to_string();
            if finding.bump > allowed {
                finding.severity = finding.uncovered();
            }
            finding
        })
        .collect();
    if let Some((old, new)) = versions
        && required > allowed
    {
        let message = if new < old {
            format!("crate `{crate_name}` version went down from {old} to {new}")
        } else {
            let next = if old.major == 0 {
                match required {
                    Bump::Major => Version::new(0, old.minor + 1, 0),
                    _ => Version::new(0, old.minor, old.patch + 1),
                }
            } else {
                next_version(&old, required)
            };
            format!(
                "crate `{crate_name}` needs a {required} bump: version is {new} (baseline {old}); set it to at least {next}"
            )
        };
        let lint = if new < old {
            Lint::ContractVersionDecreased
        } else {
            Lint::ContractVersionNotBumped
        };
        out.insert(
            0,
            problem(crate_name, lint, required, manifest_loc.clone(), message),
        );
    }
    out
}

fn first_loc(findings: &[Finding], fallback: &Location) -> Location {
    findings
        .first()
        .map_or_else(|| fallback.clone(), |f| f.loc.clone())
}

fn problem(group: &str, lint: Lint, bump: Bump, loc: Location, message: String) -> Finding {
    Finding {
        also_at: Vec::new(),
        group: group.to_string(),
        severity: Severity::Error,
        lint,
        bump,
        path: group.to_string(),
        loc,
        message,
        cfg: None,
    }
}

fn note(group: &str, lint: Lint, bump: Bump, loc: Location, message: String) -> Finding {
    Finding {
        also_at: Vec::new(),
        severity: Severity::Note,
        ..problem(group, lint, bump, loc, message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> Version {
        Version::parse(text).unwrap()
    }

    #[test]
    fn allowed_bumps_follow_cargo() {
        assert_eq!(allowed_bump(&v("1.2.0"), &v("1.3.0")), Some(Bump::Minor));
        assert_eq!(allowed_bump(&v("1.2.0"), &v("1.2.1")), Some(Bump::Patch));
        assert_eq!(allowed_bump(&v("1.2.0"), &v("1.2.0")), Some(Bump::None));
        assert_eq!(allowed_bump(&v("1.2.0"), &v("2.0.0")), Some(Bump::Major));
        assert_eq!(allowed_bump(&v("1.2.0"), &v("1.1.9")), None);
        assert_eq!(allowed_bump(&v("0.3.0"), &v("0.4.0")), Some(Bump::Major));
        assert_eq!(allowed_bump(&v("0.3.0"), &v("0.3.1")), Some(Bump::Minor));
    }

    #[test]
    fn contract_module_of_paths() {
        let defines = vec!["billing".to_string()];
        assert_eq!(
            contract_module("billing::v2::Invoice", &defines),
            Some(("billing".to_string(), 2))
        );
        assert_eq!(contract_module("billing::money::Money", &defines), None);
        assert_eq!(contract_module("auth::v1::Token", &defines), None);
    }
}
