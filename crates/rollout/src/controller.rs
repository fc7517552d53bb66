//! The controller: the rollout state machine, persisting each transition before acting on it.
//!
//! `Ready → Applying{0} → Analysing{0} → Applying{1} → … → Succeeded`, or at any point
//! `RollingBack → RolledBack | Aborted` (percent 0, every instance reloaded and verified), or
//! `Stopped` when even that cannot be verified. Applying a step writes the percent through the
//! [`ConfigWriter`], reloads every instance and waits until each serves it; only then does its
//! analysis start. A restarted controller continues from the saved phase: an interrupted
//! `Applying` is finished (the write is skipped when the fragment already holds the percent), a
//! finished step is never applied again.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::analysis::{self, MetricSource, Outcome, Window};
use crate::events::Events;
use crate::fleet::{self, AdminClient, Converged, FleetError};
use crate::judge::Verdict;
use crate::metrics::{CheckLabels, ResultLabels, RolloutMetrics};
use crate::spec::{Analysis as AnalysisSpec, Spec, Step};
use crate::state::{
    AppliedStep, Command, ControllerLock, End, Phase, State, StateError, StateStore, now_ms,
};
use crate::writer::{self, ConfigWriter, WriteError};

/// Why the controller could not go on.
#[derive(Debug, thiserror::Error)]
pub enum ControllerError {
    /// The state database failed; nothing further is done without a record.
    #[error(transparent)]
    State(#[from] StateError),
    /// The fragment could not be read at the start.
    #[error("cannot read the rule to roll out: {0}")]
    Read(#[from] WriteError),
    /// Another controller holds the lock.
    #[error("another controller is running this rollout (lock {0})")]
    Locked(String),
    /// Before anything was edited, an instance could not take part in the rollout.
    #[error("preflight: nothing was changed, since not every instance can take part in the rollout:\n  {}", .0.join("\n  "))]
    Preflight(Vec<String>),
}

/// How long the controller sleeps when there is nothing to do.
const TICK: Duration = Duration::from_millis(100);

/// How far the controller goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Drive the rollout to its end.
    Run,
    /// Act on queued commands and finish an interrupted apply or rollback, then return (what
    /// `pause`/`resume`/`promote`/`abort` do when no controller runs).
    Commands,
}

/// What a controller works with.
pub struct Context<'a> {
    /// The spec.
    pub spec: &'a Spec,
    /// Where the rule lives.
    pub writer: &'a dyn ConfigWriter,
    /// The instances' admin client.
    pub admin: &'a AdminClient,
    /// Where analysis numbers come from.
    pub source: &'a dyn MetricSource,
    /// Where events go.
    pub events: &'a mut Events,
    /// The `rollout_*` series.
    pub metrics: &'a RolloutMetrics,
}

/// Drives the rollout of `context.spec` from its saved state (or from the start), holding the
/// controller lock, until it ends (`Mode::Run`) or its pending work is done (`Mode::Commands`).
/// Returns the final state.
pub fn drive(context: Context<'_>, mode: Mode) -> Result<State, ControllerError> {
    let state_file = &context.spec.controller.state;
    let _lock = ControllerLock::try_acquire(state_file)?.ok_or_else(|| {
        ControllerError::Locked(crate::state::lock_path(state_file).display().to_string())
    })?;
    let mut store = StateStore::open(state_file)?;
    let saved = store.load(&context.spec.identity)?;
    // Before a rollout edits anything, every instance must serve the rule where it will be
    // edited, and route by it; else the first step fails half-applied, or judges no traffic.
    if mode == Mode::Run && saved.as_ref().is_none_or(|s| s.phase == Phase::Ready) {
        let fragment = context.writer.read()?;
        let problems = fleet::preflight(
            context.admin,
            &context.spec.instances,
            &context.spec.rule,
            fragment.percent,
        );
        if !problems.is_empty() {
            return Err(ControllerError::Preflight(problems));
        }
    }
    let (state, resumed) = match saved {
        Some(state) => (state, true),
        None => {
            let fragment = context.writer.read()?;
            let state = State::new(&context.spec.identity, fragment.percent);
            store.save(&state)?;
            (state, false)
        }
    };
    let mut controller = Controller {
        context,
        store,
        state,
        last_analysis: None,
    };
    controller.started(resumed, mode);
    controller.run(mode)?;
    controller.context.events.finish();
    Ok(controller.state)
}

struct Controller<'a> {
    context: Context<'a>,
    store: StateStore,
    state: State,
    last_analysis: Option<Instant>,
}

impl<'a> Controller<'a> {
    fn spec(&self) -> &'a Spec {
        self.context.spec
    }

    fn emit(&mut self, event: &str, fields: serde_json::Value) {
        self.context.events.emit(event, fields);
    }

    /// Commits the state; every action happens only after its transition is committed.
    fn save(&mut self) -> Result<(), ControllerError> {
        self.store.save(&self.state)?;
        self.publish();
        Ok(())
    }

    fn publish(&self) {
        let step = match &self.state.phase {
            Phase::Applying { step } | Phase::Analysing { step } => *step + 1,
            Phase::Succeeded => self.spec().steps.len(),
            _ => self.state.applied.last().map_or(0, |a| a.step + 1),
        };
        self.context
            .metrics
            .step
            .set(i64::try_from(step).unwrap_or(i64::MAX));
        self.context
            .metrics
            .percent
            .set(i64::from(self.state.percent));
        let total = self.spec().steps.len();
        let message = match &self.state.phase {
            Phase::Analysing { step } => format!(
                "step {}/{total} at {}%{}: passed {}/{}, inconclusive {}/{}, failures {}/{}",
                step + 1,
                self.state.percent,
                if self.state.paused { " (paused)" } else { "" },
                self.state.passed,
                self.spec().steps[*step].checks,
                self.state.inconclusive,
                self.spec().analysis.inconclusive_limit,
                self.state.failures,
                self.spec().analysis.failure_limit,
            ),
            Phase::Applying { step } => format!(
                "step {}/{total}: applying {}%",
                step + 1,
                self.spec().steps[*step].percent
            ),
            other => format!("{} at {}%", other.name(), self.state.percent),
        };
        self.context.events.progress(message);
    }

    fn started(&mut self, resumed: bool, mode: Mode) {
        let fields = json!({
            "spec": self.spec().file.display().to_string(),
            "state": self.spec().controller.state.display().to_string(),
            "fragment": self.context.writer.location(),
            "rule": self.spec().rule,
            "resumed": resumed,
            "phase": self.state.phase.name(),
            "percent": self.state.percent,
            "mode": match mode { Mode::Run => "run", Mode::Commands => "commands" },
        });
        self.emit(if resumed { "resumed" } else { "started" }, fields);
        self.publish();
    }

    fn run(&mut self, mode: Mode) -> Result<(), ControllerError> {
        loop {
            self.take_commands()?;
            if self.state.phase.is_final() {
                return Ok(());
            }
            let phase = self.state.phase.clone();
            let busy = match phase {
                Phase::Applying { step } => {
                    self.apply(step)?;
                    true
                }
                Phase::RollingBack { end } => {
                    self.roll_back(end)?;
                    true
                }
                _ if mode == Mode::Commands => return Ok(()),
                Phase::Ready if !self.state.paused => {
                    self.enter_applying(0);
                    self.save()?;
                    true
                }
                Phase::Analysing { step } if !self.state.paused => self.analysing(step)?,
                _ => false,
            };
            if !busy {
                std::thread::sleep(TICK);
            }
        }
    }

    fn take_commands(&mut self) -> Result<(), ControllerError> {
        for queued in self.store.take_commands()? {
            let now = now_ms();
            let before = self.state.phase.name();
            let ignored = match queued.command {
                // A stopped rollout could not verify its rollback; aborting it tries again.
                Command::Abort if self.state.phase == Phase::Stopped => {
                    self.state.failed_at_ms = Some(now);
                    self.state.phase = Phase::RollingBack { end: End::Aborted };
                    None
                }
                _ if self.state.phase.is_final() => Some("the rollout has ended"),
                Command::Pause if self.state.paused => Some("already paused"),
                Command::Pause => {
                    self.state.paused = true;
                    self.state.paused_at_ms = Some(now);
                    None
                }
                Command::Resume if !self.state.paused => Some("not paused"),
                Command::Resume => {
                    // The deadline and hold stood still while paused.
                    let paused_for = now.saturating_sub(self.state.paused_at_ms.unwrap_or(now));
                    if let Some(since) = &mut self.state.step_since_ms {
                        *since = since.saturating_add(paused_for);
                    }
                    self.state.paused = false;
                    self.state.paused_at_ms = None;
                    self.last_analysis = Some(Instant::now());
                    None
                }
                _ if matches!(self.state.phase, Phase::RollingBack { .. }) => {
                    Some("a rollback is under way")
                }
                Command::Promote => {
                    self.enter_applying(self.spec().last_step());
                    self.state.paused = false;
                    None
                }
                Command::Abort => {
                    self.state.reason = Some(format!(
                        "aborted by operator{}",
                        queued
                            .reason
                            .as_deref()
                            .map_or_else(String::new, |r| format!(": {r}"))
                    ));
                    self.state.failed_at_ms = Some(now);
                    self.state.phase = Phase::RollingBack { end: End::Aborted };
                    None
                }
            };
            if ignored.is_none() {
                self.save()?;
            }
            self.emit(
                "command",
                json!({
                    "command": queued.command.as_str(),
                    "reason": queued.reason,
                    "from": before,
                    "to": self.state.phase.name(),
                    "paused": self.state.paused,
                    "ignored": ignored,
                }),
            );
        }
        Ok(())
    }

    /// Writes step `step`'s percent, reloads every instance and verifies it. The transition to
    /// `Applying` was committed before this runs, so a crash anywhere in here is resumed here.
    fn apply(&mut self, step: usize) -> Result<(), ControllerError> {
        let percent = self.spec().steps[step].percent;
        let started = Instant::now();
        let written = match writer::set_percent(self.context.writer, percent) {
            Ok(written) => written,
            Err(error) => {
                return self.start_rollback(
                    End::RolledBack,
                    format!(
                        "step {} ({percent}%) could not be written: {error}",
                        step + 1
                    ),
                );
            }
        };
        if written.changed {
            let fields = json!({
                "step": step + 1,
                "from": written.from,
                "to": written.to,
                "revision": written.revision.0,
                "location": self.context.writer.location(),
            });
            self.emit("fragment_written", fields);
        }
        let results = fleet::converge(
            self.context.admin,
            &self.spec().instances,
            &self.spec().rule,
            percent,
            self.spec().controller.converge_timeout,
        );
        let (converged, failed) = split(results);
        if !failed.is_empty() {
            self.emit(
                "step_failed",
                json!({
                    "step": step + 1,
                    "percent": percent,
                    "converged": converged,
                    "errors": failed.iter().map(ToString::to_string).collect::<Vec<_>>(),
                }),
            );
            // Some instances may serve the new percent and some not: record that before
            // rolling everything back.
            self.state.instances = converged;
            return self.start_rollback(
                End::RolledBack,
                format!(
                    "step {} ({percent}%) did not reach every instance: {}",
                    step + 1,
                    join(&failed)
                ),
            );
        }
        let now = now_ms();
        self.state.percent = percent;
        self.state.instances = converged.clone();
        self.state.applied.push(AppliedStep {
            step,
            percent,
            at_ms: now,
        });
        self.state.step_since_ms = Some(now);
        self.state.evidence_from_ms = Some(now);
        self.state.passed = 0;
        self.state.inconclusive = 0;
        self.state.phase = if step == self.spec().last_step() {
            Phase::Succeeded
        } else {
            Phase::Analysing { step }
        };
        self.save()?;
        self.last_analysis = Some(Instant::now());
        self.emit(
            "step_applied",
            json!({
                "step": step + 1,
                "percent": percent,
                "instances": converged,
                "elapsed_ms": started.elapsed().as_millis(),
            }),
        );
        if self.state.phase == Phase::Succeeded {
            self.emit(
                "succeeded",
                json!({"percent": percent, "failures": self.state.failures}),
            );
        }
        Ok(())
    }

    /// The transition to applying `step`; the step starts to reach instances from here on.
    fn enter_applying(&mut self, step: usize) {
        self.state.phase = Phase::Applying { step };
        self.state.exposed_at_ms = Some(now_ms());
    }

    fn start_rollback(&mut self, end: End, reason: String) -> Result<(), ControllerError> {
        self.begin_rollback(end, reason);
        self.save()
    }

    /// The transition to rolling back, not yet committed.
    fn begin_rollback(&mut self, end: End, reason: String) {
        self.state.reason = Some(reason);
        self.state.failed_at_ms = Some(now_ms());
        self.state.phase = Phase::RollingBack { end };
    }

    /// Sets the percent to 0, reloads every instance and verifies it; records the outcome.
    fn roll_back(&mut self, end: End) -> Result<(), ControllerError> {
        let reason = self.state.reason.clone().unwrap_or_default();
        self.emit(
            "rollback_started",
            json!({"end": end, "reason": reason, "percent": self.state.percent}),
        );
        let written = match writer::set_percent(self.context.writer, 0) {
            Ok(written) => written,
            Err(error) => {
                return self.stop(format!(
                    "{reason}; rollback could not write percent 0: {error}"
                ));
            }
        };
        if written.changed {
            let fields = json!({
                "step": 0,
                "from": written.from,
                "to": 0,
                "revision": written.revision.0,
                "location": self.context.writer.location(),
            });
            self.emit("fragment_written", fields);
        }
        let results = fleet::converge(
            self.context.admin,
            &self.spec().instances,
            &self.spec().rule,
            0,
            self.spec().controller.converge_timeout,
        );
        let (converged, failed) = split(results);
        let now = now_ms();
        let since_failure_ms = now.saturating_sub(self.state.failed_at_ms.unwrap_or(now));
        // From the moment the step that exposed the failure started to reach instances: what
        // users of v2 lived through, detection and rollback together.
        let since_exposure_ms = now.saturating_sub(
            self.state
                .exposed_at_ms
                .or(self.state.failed_at_ms)
                .unwrap_or(now),
        );
        let since_step_ms = now.saturating_sub(
            self.state
                .applied
                .last()
                .map_or(now, |applied| applied.at_ms),
        );
        self.state.instances = converged.clone();
        if !failed.is_empty() {
            return self.stop(format!(
                "{reason}; rollback wrote percent 0 but could not verify: {}",
                join(&failed)
            ));
        }
        self.state.percent = 0;
        self.state.phase = match end {
            End::RolledBack => Phase::RolledBack,
            End::Aborted => Phase::Aborted,
        };
        self.save()?;
        self.context
            .metrics
            .rollback_seconds
            .set(since_exposure_ms as f64 / 1e3);
        let event = self.state.phase.name();
        self.emit(
            event,
            json!({
                "reason": reason,
                "since_exposure_ms": since_exposure_ms,
                "since_failure_ms": since_failure_ms,
                "since_step_ms": since_step_ms,
                "instances": converged,
            }),
        );
        self.context.events.say(&format!("{event}: {reason}"));
        Ok(())
    }

    fn stop(&mut self, reason: String) -> Result<(), ControllerError> {
        self.state.reason = Some(reason.clone());
        self.state.phase = Phase::Stopped;
        self.save()?;
        self.emit(
            "stopped",
            json!({"reason": reason, "verified": self.state.instances}),
        );
        self.context.events.say(&format!("stopped: {reason}"));
        Ok(())
    }

    /// One turn of a step's analysis; returns whether it did anything.
    fn analysing(&mut self, step: usize) -> Result<bool, ControllerError> {
        let analysis = &self.spec().analysis;
        let now = now_ms();
        let since = self.state.step_since_ms.unwrap_or(now);
        let held = Duration::from_millis(now.saturating_sub(since));
        if held > analysis.progress_deadline {
            let reason = format!(
                "step {} ({}%) did not pass within the progress deadline of {} s (passed {}/{}, inconclusive {}, failures {})",
                step + 1,
                self.state.percent,
                analysis.progress_deadline.as_secs(),
                self.state.passed,
                self.spec().steps[step].checks,
                self.state.inconclusive,
                self.state.failures
            );
            self.start_rollback(End::Aborted, reason)?;
            return Ok(true);
        }
        if let Some(last) = self.last_analysis
            && last.elapsed() < analysis.interval
        {
            return Ok(false);
        }
        self.last_analysis = Some(Instant::now());
        let window = Window::new(
            self.state.evidence_from_ms.unwrap_or(since),
            now_ms(),
            analysis.window,
        );
        let outcome = analysis::analyse(self.context.source, analysis, window);
        count(&mut self.state, outcome.verdict, &outcome.span);
        let summary = |outcome: &Outcome, verdict: Verdict| {
            outcome
                .checks
                .iter()
                .filter(|c| c.judgement.verdict == verdict)
                .map(|c| format!("{}: {}", c.check, c.judgement.detail))
                .collect::<Vec<_>>()
                .join("; ")
        };
        let target = &self.spec().steps[step];
        match next_after_analysis(&self.state, target, analysis, held, outcome.verdict) {
            Next::RollBack => {
                let reason = format!(
                    "{} failed analyses (failure_limit {}) at step {} ({}%): {}",
                    self.state.failures,
                    analysis.failure_limit,
                    step + 1,
                    self.state.percent,
                    summary(&outcome, Verdict::Fail)
                );
                self.begin_rollback(End::RolledBack, reason);
            }
            Next::Abort => {
                let reason = format!(
                    "{} inconclusive analyses (inconclusive_limit {}) at step {} ({}%): {}",
                    self.state.inconclusive,
                    analysis.inconclusive_limit,
                    step + 1,
                    self.state.percent,
                    summary(&outcome, Verdict::Inconclusive)
                );
                self.begin_rollback(End::Aborted, reason);
            }
            Next::Advance => self.enter_applying(step + 1),
            Next::Stay => {}
        }
        // The analysis is counted (and what follows it decided) in the state before it is
        // told: an event never describes a state that a crash could still lose.
        self.save()?;
        self.record(step, &outcome);
        Ok(true)
    }

    /// Logs every query and check, and updates the metrics.
    fn record(&mut self, step: usize, outcome: &Outcome) {
        for check in &outcome.checks {
            for query in &check.queries {
                self.emit(
                    "query",
                    json!({
                        "step": step + 1,
                        "check": check.check,
                        "query": query.query,
                        "values": query.values,
                        "error": query.error,
                    }),
                );
            }
            self.emit(
                "check",
                json!({
                    "step": step + 1,
                    "percent": self.state.percent,
                    "check": check.check,
                    "value": check.judgement.value,
                    "threshold": check.judgement.threshold,
                    "verdict": check.judgement.verdict,
                    "detail": check.judgement.detail,
                    "window": outcome.window,
                }),
            );
            let labels = CheckLabels {
                check: check.check.clone(),
            };
            let metrics = self.context.metrics;
            if let Some(value) = check.judgement.value {
                metrics.analysis_value.get_or_create(&labels).set(value);
            }
            if let Some(threshold) = check.judgement.threshold {
                metrics
                    .analysis_threshold
                    .get_or_create(&labels)
                    .set(threshold);
            }
            metrics
                .checks
                .get_or_create(&ResultLabels {
                    check: check.check.clone(),
                    result: check.judgement.verdict.as_str().to_owned(),
                })
                .inc();
        }
        let fields = json!({
            "step": step + 1,
            "percent": self.state.percent,
            "verdict": outcome.verdict,
            "window": outcome.window,
            "window_from_ms": outcome.span.from_ms,
            "window_to_ms": outcome.span.to_ms,
            "passed": self.state.passed,
            "inconclusive": self.state.inconclusive,
            "failures": self.state.failures,
        });
        self.emit("analysis", fields);
    }
}

/// What follows an analysis, given the counters already updated with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Next {
    /// `failure_limit` reached: roll back.
    RollBack,
    /// `inconclusive_limit` reached in this step: abort.
    Abort,
    /// The latest analysis passed, the step has its passes and has been held long enough: apply
    /// the next step.
    Advance,
    /// Keep analysing this step.
    Stay,
}

/// Counts one analysis of `window` into the step's evidence.
///
/// - A pass counts, and the next window starts where this one ended: passes never share a
///   request, so stale data cannot earn a second one.
/// - A failure counts towards `failure_limit` and resets the step's passes: after it, the step
///   must show its passes again, from data after the failure.
/// - An inconclusive analysis (too few requests, no data, Prometheus unreachable) counts
///   towards `inconclusive_limit` and changes nothing else: the passes so far stand, but it is
///   never one, and the next window still starts at the end of the last counted one, so it must
///   hold new requests.
pub(crate) fn count(state: &mut State, verdict: Verdict, window: &Window) {
    match verdict {
        Verdict::Pass => {
            state.passed += 1;
            state.evidence_from_ms = Some(window.to_ms);
        }
        Verdict::Fail => {
            state.failures += 1;
            state.passed = 0;
            state.failed_at_ms = Some(window.to_ms);
            state.evidence_from_ms = Some(window.to_ms);
        }
        Verdict::Inconclusive => state.inconclusive += 1,
    }
}

/// The decision after an analysis of `step` whose verdict was `latest`, held for `held` so far.
/// Failures win over inconclusive results, and both over progress, so a step never advances on
/// the analysis that reached a limit; and it advances only on a pass, never on an analysis that
/// failed or could not tell.
pub(crate) fn next_after_analysis(
    state: &State,
    step: &Step,
    analysis: &AnalysisSpec,
    held: Duration,
    latest: Verdict,
) -> Next {
    if state.failures >= analysis.failure_limit {
        Next::RollBack
    } else if state.inconclusive >= analysis.inconclusive_limit {
        Next::Abort
    } else if latest == Verdict::Pass && state.passed >= step.checks && held >= step.hold {
        Next::Advance
    } else {
        Next::Stay
    }
}

fn split(results: fleet::Convergence) -> (Vec<Converged>, Vec<FleetError>) {
    let mut converged = Vec::new();
    let mut failed = Vec::new();
    for result in results {
        match result {
            Ok(ok) => converged.push(ok),
            Err(error) => failed.push(error),
        }
    }
    (converged, failed)
}

fn join(errors: &[FleetError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn analysis() -> AnalysisSpec {
        crate::spec::Spec::parse(
            std::path::Path::new("s.toml"),
            "[target]\nfragment = \"f.toml\"\nrule = \"r\"\n[[steps]]\npercent = 10\n[[steps]]\npercent = 100\n[analysis]\nprometheus = \"http://p\"\nfailure_limit = 2\ninconclusive_limit = 3\n[[instances]]\nname = \"a\"\nadmin_url = \"http://a\"\n",
        )
        .unwrap()
        .analysis
    }

    const STEP: Step = Step {
        percent: 10,
        hold: Duration::from_secs(60),
        checks: 2,
    };

    fn counters(passed: u32, inconclusive: u32, failures: u32) -> State {
        let mut state = State::new("id", 10);
        state.passed = passed;
        state.inconclusive = inconclusive;
        state.failures = failures;
        state
    }

    #[test]
    fn limits_are_reached_at_exactly_their_value_failures_first() {
        let held = Duration::from_secs(600);
        let next =
            |state: &State, latest| next_after_analysis(state, &STEP, &analysis(), held, latest);
        assert_eq!(next(&counters(5, 0, 1), Verdict::Pass), Next::Advance);
        assert_eq!(next(&counters(5, 0, 2), Verdict::Fail), Next::RollBack);
        assert_eq!(next(&counters(0, 2, 0), Verdict::Inconclusive), Next::Stay);
        assert_eq!(next(&counters(0, 3, 0), Verdict::Inconclusive), Next::Abort);
        assert_eq!(next(&counters(9, 3, 2), Verdict::Pass), Next::RollBack);
    }

    #[test]
    fn a_step_advances_only_after_its_checks_and_its_hold() {
        let analysis = analysis();
        let next = |state: &State, held| {
            next_after_analysis(
                state,
                &STEP,
                &analysis,
                Duration::from_secs(held),
                Verdict::Pass,
            )
        };
        assert_eq!(next(&counters(1, 0, 0), 600), Next::Stay);
        assert_eq!(next(&counters(2, 0, 0), 59), Next::Stay);
        assert_eq!(next(&counters(2, 0, 0), 60), Next::Advance);
    }

    #[test]
    fn a_step_with_its_passes_never_advances_on_a_failed_or_inconclusive_analysis() {
        let analysis = analysis();
        let held = Duration::from_secs(600);
        // Counters as they stand after the analysis was counted: enough passes, limits not
        // reached, hold long over; only the latest verdict differs.
        for latest in [Verdict::Fail, Verdict::Inconclusive] {
            assert_eq!(
                next_after_analysis(&counters(5, 1, 1), &STEP, &analysis, held, latest),
                Next::Stay,
                "{latest:?}"
            );
        }
    }

    fn window(from_ms: u64, to_ms: u64) -> Window {
        Window { from_ms, to_ms }
    }

    #[test]
    fn passes_come_from_disjoint_windows_and_a_failure_resets_them() {
        let mut state = State::new("id", 10);
        state.evidence_from_ms = Some(1_000);
        count(&mut state, Verdict::Pass, &window(1_000, 3_000));
        assert_eq!((state.passed, state.evidence_from_ms), (1, Some(3_000)));
        // Inconclusive: counted, nothing else moves; the next window still starts at 3 s.
        count(&mut state, Verdict::Inconclusive, &window(3_000, 4_000));
        assert_eq!(
            (state.passed, state.inconclusive, state.evidence_from_ms),
            (1, 1, Some(3_000))
        );
        count(&mut state, Verdict::Pass, &window(3_000, 5_000));
        assert_eq!((state.passed, state.evidence_from_ms), (2, Some(5_000)));
        // A failure: counted, the passes are gone, and the evidence starts after it.
        count(&mut state, Verdict::Fail, &window(5_000, 6_000));
        assert_eq!(
            (state.passed, state.failures, state.evidence_from_ms),
            (0, 1, Some(6_000))
        );
        assert_eq!(
            next_after_analysis(
                &state,
                &STEP,
                &analysis(),
                Duration::from_secs(600),
                Verdict::Fail
            ),
            Next::Stay
        );
    }
}
