//! The rollout spec: which rule to drive, its steps, the analysis and the instances, read from TOML.
//!
//! [`Spec::load`] parses and validates a spec file; every error names the file and the line of the
//! offending key ([`SpecError`]). Defaults are the production defaults documented in
//! `docs/rollout.md`; tests shorten them in their own specs.

use std::collections::HashSet;
use std::fmt;
use std::net::SocketAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use sha2::{Digest as _, Sha256};
use toml::Spanned;

/// A spec that could not be read or is invalid, with the file and line it came from.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// The file could not be read.
    #[error("cannot read rollout spec {file}: {source}")]
    Read {
        /// The spec file.
        file: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid TOML, has an unknown key or a value of the wrong type, or breaks a
    /// rule of the schema.
    #[error("{file}:{line}:{column}: {message}")]
    Invalid {
        /// The spec file.
        file: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong, naming the key.
        message: String,
    },
}

/// A validated rollout spec.
#[derive(Debug, Clone)]
pub struct Spec {
    /// The spec file it was read from.
    pub file: PathBuf,
    /// The fragment file holding the rule (resolved against the spec's directory), or
    /// `etcd:KEY` when the fragment lives in etcd.
    pub fragment: PathBuf,
    /// The etcd key holding the fragment instead of a file (`[target.etcd]`).
    pub etcd: Option<EtcdTarget>,
    /// The name of the gray rule whose `percent` is driven.
    pub rule: String,
    /// The steps, in order; percents strictly increase and the last is 100.
    pub steps: Vec<Step>,
    /// How each step is judged.
    pub analysis: Analysis,
    /// The gateway instances that serve the fragment.
    pub instances: Vec<Instance>,
    /// Where the controller keeps its state, and how it waits.
    pub controller: Controller,
    /// A digest of what a state must agree with to be resumed: fragment, rule, steps, instances.
    pub identity: String,
}

/// A fragment kept in etcd: `[target.etcd]` with `endpoints` and `key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EtcdTarget {
    /// etcd client URLs (`http://host:2379`), tried in order.
    pub endpoints: Vec<String>,
    /// The fragment's key, e.g. `/graywork/gateway/gray/billing-v2.toml`.
    pub key: String,
}

/// One step of the rollout.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// The share of sticky keys routed by the rule, 1..=100.
    pub percent: u8,
    /// The least time the step is held (from its verified application) before the next one.
    pub hold: Duration,
    /// How many analyses must pass before the next step. Zero for the final 100% step.
    pub checks: u32,
}

/// The analysis settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    /// The Prometheus base URL, e.g. `http://127.0.0.1:9090`.
    pub prometheus: String,
    /// Time between analyses.
    pub interval: Duration,
    /// The longest range an analysis looks back; it never reaches before the step was verified.
    pub window: Duration,
    /// Each version needs at least this many requests in the window, or the analysis is
    /// inconclusive.
    pub min_requests: u64,
    /// Failed analyses (over the whole rollout) that roll back.
    pub failure_limit: u32,
    /// Inconclusive analyses in one step that abort.
    pub inconclusive_limit: u32,
    /// A step that has not passed by this long after it was verified aborts the rollout.
    pub progress_deadline: Duration,
    /// Timeout of one Prometheus query.
    pub query_timeout: Duration,
    /// Extra label matchers for the built-in judges' series, e.g. `job="gateway"`.
    pub selector: String,
    /// The error-ratio judge, if enabled.
    pub error_ratio: Option<ErrorRatioJudge>,
    /// The latency judge, if enabled.
    pub latency: Option<LatencyJudge>,
    /// Custom PromQL checks.
    pub checks: Vec<CustomCheck>,
}

/// Fails when v2's 5xx ratio is significantly above v1's *and* above it by more than `margin`.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorRatioJudge {
    /// One-sided confidence of the two-proportion test, e.g. 0.99.
    pub confidence: f64,
    /// The absolute margin v2's ratio may exceed v1's by, e.g. 0.01.
    pub margin: f64,
}

/// Fails when v2's latency quantile exceeds v1's × `factor` + `slack`.
#[derive(Debug, Clone, PartialEq)]
pub struct LatencyJudge {
    /// The quantile, e.g. 0.99.
    pub quantile: f64,
    /// The factor on v1's quantile.
    pub factor: f64,
    /// The absolute slack added.
    pub slack: Duration,
}

/// A PromQL expression returning one number, with thresholds.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomCheck {
    /// The check's name (a metric label).
    pub name: String,
    /// The query; `$window` is replaced by the analysis range, e.g. `30s`.
    pub query: String,
    /// Fails below this.
    pub min: Option<f64>,
    /// Fails above this.
    pub max: Option<f64>,
}

/// One gateway instance, reached through its admin listener.
#[derive(Debug, Clone, PartialEq)]
pub struct Instance {
    /// A name for logs and events.
    pub name: String,
    /// The admin base URL, e.g. `http://127.0.0.1:9091`.
    pub admin_url: String,
    /// The environment variable holding the admin token.
    pub token_env: String,
}

/// Controller settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Controller {
    /// The state database (resolved against the spec's directory).
    pub state: PathBuf,
    /// The loopback address of `/metrics` while `rollout run` runs; `None` serves none.
    pub metrics_listen: Option<SocketAddr>,
    /// How long every instance has to serve a step after it is written.
    pub converge_timeout: Duration,
    /// How long `/metrics` keeps serving after the rollout ended, unless a scrape reads the
    /// final state sooner: at least two scrape intervals of the job that scrapes it.
    pub metrics_linger: Duration,
}

impl Spec {
    /// Reads and validates the spec at `path`.
    pub fn load(path: &Path) -> Result<Spec, SpecError> {
        let read_error = |source| SpecError::Read {
            file: path.to_owned(),
            source,
        };
        let text = std::fs::read_to_string(path).map_err(read_error)?;
        // Relative paths resolve against the spec's real directory, so `r.toml`, `./r.toml` and
        // an absolute path name the same fragment and state (and the same rollout identity).
        let canonical = std::fs::canonicalize(path).map_err(read_error)?;
        let base = canonical.parent().unwrap_or(Path::new("/"));
        Spec::parse_in(path, base, &text)
    }

    /// Validates spec `text` read from `path` (relative paths in it resolve against its
    /// directory).
    pub fn parse(path: &Path, text: &str) -> Result<Spec, SpecError> {
        Spec::parse_in(path, path.parent().unwrap_or(Path::new(".")), text)
    }

    /// Validates spec `text` from `path`, resolving relative paths against `base`.
    fn parse_in(path: &Path, base: &Path, text: &str) -> Result<Spec, SpecError> {
        let invalid = |span: Option<Range<usize>>, message: String| {
            let (line, column) = position(text, span.map_or(0, |span| span.start));
            SpecError::Invalid {
                file: path.to_owned(),
                line,
                column,
                message,
            }
        };
        let raw: RawSpec = toml::from_str(text)
            .map_err(|error| invalid(error.span(), error.message().trim_end().to_owned()))?;
        raw.validate(base, path)
            .map_err(|(span, message)| invalid(Some(span), message))
    }

    /// The index of the 100% step, which ends the rollout.
    pub fn last_step(&self) -> usize {
        // Validation guarantees at least one step (the last is 100%).
        self.steps.len().saturating_sub(1)
    }
}

/// A 1-based line and column for a byte offset.
fn position(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rfind('\n')
        .map_or(before.len(), |nl| before.len() - nl - 1)
        + 1;
    (line, column)
}

type Invalid = (Range<usize>, String);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpec {
    target: RawTarget,
    steps: Spanned<Vec<Spanned<RawStep>>>,
    analysis: RawAnalysis,
    instances: Spanned<Vec<Spanned<RawInstance>>>,
    #[serde(default)]
    controller: RawController,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTarget {
    fragment: Option<Spanned<String>>,
    rule: Spanned<String>,
    etcd: Option<Spanned<RawEtcdTarget>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEtcdTarget {
    endpoints: Vec<String>,
    key: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    percent: Spanned<i64>,
    hold: Option<Spanned<DurationText>>,
    checks: Option<Spanned<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAnalysis {
    prometheus: Spanned<String>,
    interval: Option<DurationText>,
    window: Option<DurationText>,
    min_requests: Option<Spanned<i64>>,
    failure_limit: Option<Spanned<i64>>,
    inconclusive_limit: Option<Spanned<i64>>,
    progress_deadline: Option<DurationText>,
    query_timeout: Option<DurationText>,
    #[serde(default)]
    selector: String,
    #[serde(default)]
    error_ratio: RawErrorRatio,
    #[serde(default)]
    latency: RawLatency,
    #[serde(default)]
    checks: Vec<Spanned<RawCheck>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawErrorRatio {
    enabled: Option<bool>,
    confidence: Option<Spanned<f64>>,
    margin: Option<Spanned<f64>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLatency {
    enabled: Option<bool>,
    quantile: Option<Spanned<f64>>,
    factor: Option<Spanned<f64>>,
    slack: Option<DurationText>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCheck {
    name: Spanned<String>,
    query: Spanned<String>,
    min: Option<f64>,
    max: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInstance {
    name: Spanned<String>,
    admin_url: Spanned<String>,
    #[serde(default = "default_token_env")]
    token_env: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawController {
    state: Option<String>,
    metrics_listen: Option<Spanned<String>>,
    converge_timeout: Option<DurationText>,
    metrics_linger: Option<DurationText>,
}

fn default_token_env() -> String {
    "GRAYWORK_ADMIN_TOKEN".to_owned()
}

/// Production defaults; docs/rollout.md lists them.
pub(crate) mod defaults {
    use std::time::Duration;

    /// `steps[].hold`.
    pub(crate) const HOLD: Duration = Duration::from_secs(10 * 60);
    /// `steps[].checks`.
    pub(crate) const CHECKS: u32 = 3;
    /// `analysis.interval`.
    pub(crate) const INTERVAL: Duration = Duration::from_secs(60);
    /// `analysis.window`.
    pub(crate) const WINDOW: Duration = Duration::from_secs(5 * 60);
    /// `analysis.min_requests`.
    pub(crate) const MIN_REQUESTS: u64 = 100;
    /// `analysis.failure_limit`.
    pub(crate) const FAILURE_LIMIT: u32 = 2;
    /// `analysis.inconclusive_limit`.
    pub(crate) const INCONCLUSIVE_LIMIT: u32 = 5;
    /// `analysis.progress_deadline`.
    pub(crate) const PROGRESS_DEADLINE: Duration = Duration::from_secs(60 * 60);
    /// `analysis.query_timeout`.
    pub(crate) const QUERY_TIMEOUT: Duration = Duration::from_secs(10);
    /// `analysis.error_ratio.confidence`.
    pub(crate) const CONFIDENCE: f64 = 0.99;
    /// `analysis.error_ratio.margin`.
    pub(crate) const MARGIN: f64 = 0.01;
    /// `analysis.latency.quantile`.
    pub(crate) const QUANTILE: f64 = 0.99;
    /// `analysis.latency.factor`.
    pub(crate) const FACTOR: f64 = 1.2;
    /// `analysis.latency.slack`.
    pub(crate) const SLACK: Duration = Duration::from_millis(20);
    /// `controller.converge_timeout`.
    pub(crate) const CONVERGE_TIMEOUT: Duration = Duration::from_secs(30);
    /// `controller.metrics_linger`: two scrape intervals of the documented 5 s job.
    pub(crate) const METRICS_LINGER: Duration = Duration::from_secs(10);
}

impl RawSpec {
    fn validate(self, base: &Path, path: &Path) -> Result<Spec, Invalid> {
        let rule = non_empty(&self.target.rule, "target.rule")?;
        let (fragment, etcd) = match (&self.target.fragment, &self.target.etcd) {
            (Some(fragment), None) => (base.join(non_empty(fragment, "target.fragment")?), None),
            (None, Some(etcd)) => {
                let target = etcd.get_ref();
                if target.endpoints.is_empty() || target.key.trim().is_empty() {
                    return Err((
                        etcd.span(),
                        "`target.etcd` needs `endpoints` (at least one) and `key`".to_owned(),
                    ));
                }
                let etcd_target = EtcdTarget {
                    endpoints: target.endpoints.clone(),
                    key: target.key.clone(),
                };
                (
                    PathBuf::from(format!("etcd:{}", target.key)),
                    Some(etcd_target),
                )
            }
            (Some(_), Some(etcd)) => {
                return Err((
                    etcd.span(),
                    "set either `target.fragment` (a file) or `target.etcd` (a key), not both"
                        .to_owned(),
                ));
            }
            (None, None) => {
                return Err((
                    self.target.rule.span(),
                    "`target` needs `fragment` (a file) or `etcd` (a key)".to_owned(),
                ));
            }
        };
        let steps = validate_steps(&self.steps)?;
        let analysis = self.analysis.validate()?;
        let instances = validate_instances(&self.instances)?;
        let controller = self.controller.validate(base, path)?;
        let identity = identity(&fragment, &rule, &steps, &instances);
        Ok(Spec {
            file: path.to_owned(),
            fragment,
            etcd,
            rule,
            steps,
            analysis,
            instances,
            controller,
            identity,
        })
    }
}

fn non_empty(value: &Spanned<String>, key: &str) -> Result<String, Invalid> {
    if value.get_ref().trim().is_empty() {
        return Err((value.span(), format!("`{key}` must not be empty")));
    }
    Ok(value.get_ref().clone())
}

fn validate_steps(steps: &Spanned<Vec<Spanned<RawStep>>>) -> Result<Vec<Step>, Invalid> {
    let items = steps.get_ref();
    let Some(last) = items.last() else {
        return Err((
            steps.span(),
            "`steps` must list at least one step".to_owned(),
        ));
    };
    let mut out = Vec::with_capacity(items.len());
    let mut previous = 0;
    for (index, step) in items.iter().enumerate() {
        let raw = step.get_ref();
        let percent = *raw.percent.get_ref();
        if !(1..=100).contains(&percent) || percent <= previous {
            return Err((
                raw.percent.span(),
                format!(
                    "`steps[{index}].percent` is {percent}; percents must rise strictly within 1..=100"
                ),
            ));
        }
        previous = percent;
        let final_step = percent == 100;
        if final_step && (raw.hold.is_some() || raw.checks.is_some()) {
            return Err((
                step.span(),
                format!(
                    "`steps[{index}]` is the 100% step, which ends the rollout: it has no v1 traffic to compare with, so it takes no `hold` or `checks`"
                ),
            ));
        }
        let checks = match &raw.checks {
            Some(checks) if !final_step => u32::try_from(*checks.get_ref())
                .ok()
                .filter(|checks| *checks >= 1)
                .ok_or_else(|| {
                    (
                        checks.span(),
                        format!("`steps[{index}].checks` must be at least 1"),
                    )
                })?,
            _ if final_step => 0,
            _ => defaults::CHECKS,
        };
        let hold = match (&raw.hold, final_step) {
            (_, true) => Duration::ZERO,
            (Some(hold), false) => hold.get_ref().0,
            (None, false) => defaults::HOLD,
        };
        out.push(Step {
            // The range check above keeps this within u8.
            percent: u8::try_from(percent).unwrap_or(100),
            hold,
            checks,
        });
    }
    if *last.get_ref().percent.get_ref() != 100 {
        return Err((
            last.span(),
            "the last step must be `percent = 100`, which completes the rollout".to_owned(),
        ));
    }
    Ok(out)
}

impl RawAnalysis {
    fn validate(self) -> Result<Analysis, Invalid> {
        let prometheus = self.prometheus.get_ref().trim_end_matches('/').to_owned();
        if !prometheus.starts_with("http://") && !prometheus.starts_with("https://") {
            return Err((
                self.prometheus.span(),
                format!("`analysis.prometheus` must be an http(s) URL, not `{prometheus}`"),
            ));
        }
        let positive = |value: &Option<Spanned<i64>>, key: &str, default: u64| match value {
            None => Ok(default),
            Some(value) => u64::try_from(*value.get_ref())
                .ok()
                .filter(|v| *v >= 1)
                .ok_or_else(|| (value.span(), format!("`{key}` must be at least 1"))),
        };
        let min_requests = positive(
            &self.min_requests,
            "analysis.min_requests",
            defaults::MIN_REQUESTS,
        )?;
        let limit = |value: &Option<Spanned<i64>>, key: &str, default: u32| {
            positive(value, key, u64::from(default)).and_then(|v| {
                u32::try_from(v).map_err(|_| {
                    (
                        value.as_ref().map_or(0..0, Spanned::span),
                        format!("`{key}` is too large"),
                    )
                })
            })
        };
        let failure_limit = limit(
            &self.failure_limit,
            "analysis.failure_limit",
            defaults::FAILURE_LIMIT,
        )?;
        let inconclusive_limit = limit(
            &self.inconclusive_limit,
            "analysis.inconclusive_limit",
            defaults::INCONCLUSIVE_LIMIT,
        )?;
        let error_ratio = if self.error_ratio.enabled.unwrap_or(true) {
            let confidence = open_unit(
                self.error_ratio.confidence.as_ref(),
                "analysis.error_ratio.confidence",
                defaults::CONFIDENCE,
            )?;
            if confidence < 0.5 {
                return Err((
                    span_of(self.error_ratio.confidence.as_ref()),
                    "`analysis.error_ratio.confidence` must be at least 0.5".to_owned(),
                ));
            }
            let margin = match &self.error_ratio.margin {
                None => defaults::MARGIN,
                Some(m) if (0.0..1.0).contains(m.get_ref()) => *m.get_ref(),
                Some(m) => {
                    return Err((
                        m.span(),
                        "`analysis.error_ratio.margin` must be within 0..1".to_owned(),
                    ));
                }
            };
            Some(ErrorRatioJudge { confidence, margin })
        } else {
            None
        };
        let latency = if self.latency.enabled.unwrap_or(true) {
            let quantile = open_unit(
                self.latency.quantile.as_ref(),
                "analysis.latency.quantile",
                defaults::QUANTILE,
            )?;
            let factor = match &self.latency.factor {
                None => defaults::FACTOR,
                Some(f) if *f.get_ref() >= 1.0 && f.get_ref().is_finite() => *f.get_ref(),
                Some(f) => {
                    return Err((
                        f.span(),
                        "`analysis.latency.factor` must be at least 1".to_owned(),
                    ));
                }
            };
            Some(LatencyJudge {
                quantile,
                factor,
                slack: self.latency.slack.map_or(defaults::SLACK, |s| s.0),
            })
        } else {
            None
        };
        let mut names = HashSet::new();
        let mut checks = Vec::new();
        for (index, check) in self.checks.iter().enumerate() {
            let raw = check.get_ref();
            let name = non_empty(&raw.name, &format!("analysis.checks[{index}].name"))?;
            if matches!(name.as_str(), "error_ratio" | "latency") || !names.insert(name.clone()) {
                return Err((
                    raw.name.span(),
                    format!("`analysis.checks[{index}].name` `{name}` is already taken"),
                ));
            }
            let query = non_empty(&raw.query, &format!("analysis.checks[{index}].query"))?;
            match (raw.min, raw.max) {
                (None, None) => {
                    return Err((
                        check.span(),
                        format!("`analysis.checks[{index}]` needs `min`, `max` or both"),
                    ));
                }
                (Some(min), Some(max)) if min > max => {
                    return Err((
                        check.span(),
                        format!("`analysis.checks[{index}]` has `min` {min} above `max` {max}"),
                    ));
                }
                _ => {}
            }
            checks.push(CustomCheck {
                name,
                query,
                min: raw.min,
                max: raw.max,
            });
        }
        if error_ratio.is_none() && latency.is_none() && checks.is_empty() {
            return Err((
                self.prometheus.span(),
                "`analysis` has no judge: enable `error_ratio` or `latency`, or add `checks`"
                    .to_owned(),
            ));
        }
        Ok(Analysis {
            prometheus,
            interval: self.interval.map_or(defaults::INTERVAL, |d| d.0),
            window: self.window.map_or(defaults::WINDOW, |d| d.0),
            min_requests,
            failure_limit,
            inconclusive_limit,
            progress_deadline: self
                .progress_deadline
                .map_or(defaults::PROGRESS_DEADLINE, |d| d.0),
            query_timeout: self.query_timeout.map_or(defaults::QUERY_TIMEOUT, |d| d.0),
            selector: self.selector.trim().trim_matches(',').to_owned(),
            error_ratio,
            latency,
            checks,
        })
    }
}

fn span_of<T>(value: Option<&Spanned<T>>) -> Range<usize> {
    value.map_or(0..0, Spanned::span)
}

fn open_unit(value: Option<&Spanned<f64>>, key: &str, default: f64) -> Result<f64, Invalid> {
    match value {
        None => Ok(default),
        Some(v) if *v.get_ref() > 0.0 && *v.get_ref() < 1.0 => Ok(*v.get_ref()),
        Some(v) => Err((v.span(), format!("`{key}` must be between 0 and 1"))),
    }
}

fn validate_instances(
    instances: &Spanned<Vec<Spanned<RawInstance>>>,
) -> Result<Vec<Instance>, Invalid> {
    if instances.get_ref().is_empty() {
        return Err((
            instances.span(),
            "`instances` must list at least one instance".to_owned(),
        ));
    }
    let mut names = HashSet::new();
    let mut out = Vec::new();
    for (index, instance) in instances.get_ref().iter().enumerate() {
        let raw = instance.get_ref();
        let name = non_empty(&raw.name, &format!("instances[{index}].name"))?;
        if !names.insert(name.clone()) {
            return Err((
                raw.name.span(),
                format!("`instances[{index}].name` `{name}` is listed twice"),
            ));
        }
        let admin_url = raw.admin_url.get_ref().trim_end_matches('/').to_owned();
        if !admin_url.starts_with("http://") && !admin_url.starts_with("https://") {
            return Err((
                raw.admin_url.span(),
                format!("`instances[{index}].admin_url` must be an http(s) URL"),
            ));
        }
        out.push(Instance {
            name,
            admin_url,
            token_env: raw.token_env.clone(),
        });
    }
    Ok(out)
}

impl RawController {
    fn validate(self, base: &Path, spec: &Path) -> Result<Controller, Invalid> {
        let state = match self.state {
            Some(state) => base.join(state),
            None => {
                let stem = spec
                    .file_stem()
                    .map_or_else(|| "rollout".into(), |s| s.to_string_lossy());
                base.join(format!("{stem}.state.db"))
            }
        };
        let metrics_listen = match &self.metrics_listen {
            None => None,
            Some(text) => {
                let addr: SocketAddr = text.get_ref().parse().map_err(|error| {
                    (text.span(), format!("`controller.metrics_listen`: {error}"))
                })?;
                if !addr.ip().is_loopback() {
                    return Err((
                        text.span(),
                        format!(
                            "`controller.metrics_listen` must be a loopback address, not {addr}"
                        ),
                    ));
                }
                Some(addr)
            }
        };
        Ok(Controller {
            state,
            metrics_listen,
            converge_timeout: self
                .converge_timeout
                .map_or(defaults::CONVERGE_TIMEOUT, |d| d.0),
            metrics_linger: self
                .metrics_linger
                .map_or(defaults::METRICS_LINGER, |d| d.0),
        })
    }
}

fn identity(fragment: &Path, rule: &str, steps: &[Step], instances: &[Instance]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(fragment.to_string_lossy().as_bytes());
    hasher.update([0]);
    hasher.update(rule.as_bytes());
    for step in steps {
        hasher.update([0, step.percent]);
    }
    for instance in instances {
        hasher.update([0]);
        hasher.update(instance.name.as_bytes());
        hasher.update([0]);
        hasher.update(instance.admin_url.as_bytes());
    }
    let digest = hasher.finalize();
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// A duration written as text: `500ms`, `30s`, `5m`, `1h`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DurationText(pub Duration);

impl DurationText {
    /// Parses `NUMBER UNIT` with unit `ms`, `s`, `m` or `h`.
    pub fn parse(text: &str) -> Result<DurationText, String> {
        let text = text.trim();
        let split = text
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len());
        let (number, unit) = text.split_at(split);
        let number: u64 = number
            .parse()
            .map_err(|_| format!("`{text}` is not a duration like 500ms, 30s, 5m or 1h"))?;
        let millis = match unit.trim() {
            "ms" => Some(number),
            "s" => number.checked_mul(1_000),
            "m" => number.checked_mul(60_000),
            "h" => number.checked_mul(3_600_000),
            _ => None,
        }
        .ok_or_else(|| format!("`{text}` is not a duration like 500ms, 30s, 5m or 1h"))?;
        Ok(DurationText(Duration::from_millis(millis)))
    }
}

impl fmt::Display for DurationText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}ms", self.0.as_millis())
    }
}

impl<'de> Deserialize<'de> for DurationText {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        DurationText::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TARGET: &str =
        "[target]\nfragment = \"gray/billing-v2.toml\"\nrule = \"billing-v2-rollout\"\n";
    const STEPS: &str = "[[steps]]\npercent = 10\n\n[[steps]]\npercent = 100\n";
    const ANALYSIS: &str = "[analysis]\nprometheus = \"http://127.0.0.1:9090\"\n";
    const INSTANCES: &str = "[[instances]]\nname = \"a\"\nadmin_url = \"http://127.0.0.1:9001/\"\n";

    /// A spec from its four parts, in this order, separated by blank lines.
    fn text(target: &str, steps: &str, analysis: &str, instances: &str) -> String {
        format!("{target}\n{steps}\n{analysis}\n{instances}")
    }

    fn minimal() -> String {
        text(TARGET, STEPS, ANALYSIS, INSTANCES)
    }

    fn parse(text: &str) -> Result<Spec, SpecError> {
        Spec::parse(Path::new("/etc/rollouts/billing.toml"), text)
    }

    #[test]
    fn a_minimal_spec_takes_the_production_defaults() {
        let spec = parse(&minimal()).unwrap();
        assert_eq!(
            spec.fragment,
            Path::new("/etc/rollouts/gray/billing-v2.toml")
        );
        assert_eq!(
            spec.steps,
            vec![
                Step {
                    percent: 10,
                    hold: defaults::HOLD,
                    checks: defaults::CHECKS
                },
                Step {
                    percent: 100,
                    hold: Duration::ZERO,
                    checks: 0
                },
            ]
        );
        assert_eq!(spec.analysis.min_requests, defaults::MIN_REQUESTS);
        assert_eq!(spec.analysis.failure_limit, defaults::FAILURE_LIMIT);
        assert_eq!(
            spec.analysis.error_ratio,
            Some(ErrorRatioJudge {
                confidence: 0.99,
                margin: 0.01
            })
        );
        assert_eq!(spec.instances[0].admin_url, "http://127.0.0.1:9001");
        assert_eq!(spec.instances[0].token_env, "GRAYWORK_ADMIN_TOKEN");
        assert_eq!(
            spec.controller.state,
            Path::new("/etc/rollouts/billing.state.db")
        );
        assert_eq!(spec.controller.metrics_listen, None);
    }

    #[test]
    fn the_identity_changes_with_the_steps_but_not_the_thresholds() {
        let base = parse(&minimal()).unwrap().identity;
        let other_steps = text(
            TARGET,
            "[[steps]]\npercent = 20\n\n[[steps]]\npercent = 100\n",
            ANALYSIS,
            INSTANCES,
        );
        assert_ne!(base, parse(&other_steps).unwrap().identity);
        let other_threshold = text(
            TARGET,
            STEPS,
            &format!("{ANALYSIS}min_requests = 5\n"),
            INSTANCES,
        );
        assert_eq!(base, parse(&other_threshold).unwrap().identity);
    }

    #[test]
    fn invalid_specs_name_the_file_line_and_key() {
        let steps = |steps: &str| text(TARGET, steps, ANALYSIS, INSTANCES);
        let analysis = |extra: &str| text(TARGET, STEPS, &format!("{ANALYSIS}{extra}"), INSTANCES);
        let cases = [
            (
                "unknown key",
                text(
                    &TARGET.replace("rule =", "rules ="),
                    STEPS,
                    ANALYSIS,
                    INSTANCES,
                ),
            ),
            (
                "falling percents",
                steps(
                    "[[steps]]\npercent = 50\n[[steps]]\npercent = 10\n[[steps]]\npercent = 100\n",
                ),
            ),
            (
                "percent out of range",
                steps("[[steps]]\npercent = 0\n[[steps]]\npercent = 100\n"),
            ),
            (
                "last step not 100",
                steps("[[steps]]\npercent = 10\n[[steps]]\npercent = 50\n"),
            ),
            (
                "checks on the final step",
                steps("[[steps]]\npercent = 10\n[[steps]]\npercent = 100\nchecks = 2\n"),
            ),
            (
                "zero checks",
                steps("[[steps]]\npercent = 10\nchecks = 0\n[[steps]]\npercent = 100\n"),
            ),
            (
                "bad duration",
                steps(
                    "[[steps]]\npercent = 10\nhold = \"ten minutes\"\n[[steps]]\npercent = 100\n",
                ),
            ),
            (
                "no steps",
                format!("steps = []\n{TARGET}\n{ANALYSIS}\n{INSTANCES}"),
            ),
            (
                "bad prometheus url",
                text(
                    TARGET,
                    STEPS,
                    "[analysis]\nprometheus = \"127.0.0.1:9090\"\n",
                    INSTANCES,
                ),
            ),
            (
                "bad confidence",
                analysis("[analysis.error_ratio]\nconfidence = 1.5\n"),
            ),
            (
                "factor below 1",
                analysis("[analysis.latency]\nfactor = 0.5\n"),
            ),
            ("zero min_requests", analysis("min_requests = 0\n")),
            (
                "check without thresholds",
                analysis("[[analysis.checks]]\nname = \"x\"\nquery = \"up\"\n"),
            ),
            (
                "check min above max",
                analysis("[[analysis.checks]]\nname = \"x\"\nquery = \"up\"\nmin = 2\nmax = 1\n"),
            ),
            (
                "check named like a judge",
                analysis("[[analysis.checks]]\nname = \"latency\"\nquery = \"up\"\nmax = 1\n"),
            ),
            (
                "no judge",
                analysis(
                    "[analysis.error_ratio]\nenabled = false\n[analysis.latency]\nenabled = false\n",
                ),
            ),
            (
                "public metrics address",
                format!(
                    "{}\n[controller]\nmetrics_listen = \"0.0.0.0:9100\"\n",
                    minimal()
                ),
            ),
            ("duplicate instance", format!("{}\n{INSTANCES}", minimal())),
            (
                "instance url",
                text(
                    TARGET,
                    STEPS,
                    ANALYSIS,
                    "[[instances]]\nname = \"a\"\nadmin_url = \"localhost:1\"\n",
                ),
            ),
            (
                "no instances",
                format!("instances = []\n{TARGET}\n{STEPS}\n{ANALYSIS}"),
            ),
            ("missing analysis", text(TARGET, STEPS, "", INSTANCES)),
        ];
        let report: Vec<String> = cases
            .iter()
            .map(|(what, text)| format!("{what}: {}", parse(text).unwrap_err()))
            .collect();
        insta::assert_snapshot!(report.join("\n"));
    }

    #[test]
    fn load_resolves_relative_paths_against_the_real_directory_of_the_spec() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("r.toml"), minimal()).unwrap();
        let absolute = Spec::load(&dir.path().join("r.toml")).unwrap();
        let dotted = Spec::load(&dir.path().join(".").join("r.toml")).unwrap();
        assert_eq!(absolute.identity, dotted.identity);
        assert_eq!(absolute.controller.state, dotted.controller.state);
        let real = std::fs::canonicalize(dir.path()).unwrap();
        assert_eq!(absolute.fragment, real.join("gray/billing-v2.toml"));
        let missing = Spec::load(&dir.path().join("missing.toml")).unwrap_err();
        assert!(
            missing.to_string().starts_with("cannot read rollout spec "),
            "{missing}"
        );
    }

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(
            DurationText::parse("500ms").unwrap().0,
            Duration::from_millis(500)
        );
        assert_eq!(
            DurationText::parse("30s").unwrap().0,
            Duration::from_secs(30)
        );
        assert_eq!(
            DurationText::parse("5m").unwrap().0,
            Duration::from_secs(300)
        );
        assert_eq!(
            DurationText::parse("2h").unwrap().0,
            Duration::from_secs(7200)
        );
        assert!(DurationText::parse("5").is_err());
        assert!(DurationText::parse("m").is_err());
        assert!(DurationText::parse("5d").is_err());
    }
}
