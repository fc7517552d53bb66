//! The judges: pure functions from measured numbers to a verdict with its value and threshold.
//!
//! The built-in judges compare v2 with v1 measured on the same instances over the same window:
//! [`error_ratio`] by a one-sided two-proportion z-test plus an absolute margin, [`latency`] by
//! a factor plus slack on v1's quantile. [`threshold`] judges a custom check's number. Too little
//! traffic, or no number at all, is [`Verdict::Inconclusive`], never a pass.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::spec::{CustomCheck, ErrorRatioJudge, LatencyJudge};

/// What one check concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The check passed.
    Pass,
    /// The check failed: counts towards `failure_limit`.
    Fail,
    /// The check could not decide: counts towards `inconclusive_limit`.
    Inconclusive,
}

impl Verdict {
    /// `pass`, `fail` or `inconclusive`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Fail => "fail",
            Self::Inconclusive => "inconclusive",
        }
    }

    /// The verdict of several checks: any failure fails, else any inconclusive is inconclusive.
    pub fn combine(verdicts: impl IntoIterator<Item = Verdict>) -> Verdict {
        verdicts
            .into_iter()
            .fold(Verdict::Pass, |all, one| match (all, one) {
                (Verdict::Fail, _) | (_, Verdict::Fail) => Verdict::Fail,
                (Verdict::Inconclusive, _) | (_, Verdict::Inconclusive) => Verdict::Inconclusive,
                _ => Verdict::Pass,
            })
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One judged check: the number measured, the threshold it was held to, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Judgement {
    /// The verdict.
    pub verdict: Verdict,
    /// The measured value (v2's for the built-in judges), if there was one.
    pub value: Option<f64>,
    /// The threshold the value was held to, if there was one.
    pub threshold: Option<f64>,
    /// A sentence with the numbers behind the verdict.
    pub detail: String,
}

/// Requests and 5xx answers of one version in the window.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Counts {
    /// Requests served.
    pub requests: f64,
    /// Of which 5xx.
    pub errors: f64,
}

/// Whether both versions served at least `min_requests`; the inconclusive judgement otherwise.
pub(crate) fn enough_traffic(v1: Counts, v2: Counts, min_requests: u64) -> Result<(), Judgement> {
    let min = min_requests as f64;
    for (name, counts) in [("v1", v1), ("v2", v2)] {
        if counts.requests < min {
            return Err(Judgement {
                verdict: Verdict::Inconclusive,
                value: None,
                threshold: None,
                detail: format!(
                    "{name} served {:.0} requests in the window, fewer than min_requests {min_requests}",
                    counts.requests
                ),
            });
        }
    }
    Ok(())
}

/// The error-ratio judge: value is v2's 5xx ratio, threshold v1's ratio plus the margin. Fails
/// only when v2 is worse than v1 by more than the margin *and* a one-sided two-proportion z-test
/// (continuity-corrected) finds the difference significant at the configured confidence.
pub fn error_ratio(
    judge: &ErrorRatioJudge,
    v1: Counts,
    v2: Counts,
    min_requests: u64,
) -> Judgement {
    if let Err(inconclusive) = enough_traffic(v1, v2, min_requests) {
        return inconclusive;
    }
    let (e1, n1) = (v1.errors.clamp(0.0, v1.requests), v1.requests);
    let (e2, n2) = (v2.errors.clamp(0.0, v2.requests), v2.requests);
    let (p1, p2) = (e1 / n1, e2 / n2);
    let z = two_proportion_z(e1, n1, e2, n2);
    let critical = z_critical(judge.confidence);
    let threshold = p1 + judge.margin;
    let significant = z > critical;
    let fail = significant && p2 > threshold;
    Judgement {
        verdict: if fail { Verdict::Fail } else { Verdict::Pass },
        value: Some(p2),
        threshold: Some(threshold),
        detail: format!(
            "v2 5xx ratio {p2:.4} ({e2:.0}/{n2:.0}) vs v1 {p1:.4} ({e1:.0}/{n1:.0}): z = {z:.2} (critical {critical:.2} at {:.1}%), margin {}; {}",
            judge.confidence * 100.0,
            judge.margin,
            match (significant, p2 > threshold) {
                (true, true) => "significantly worse beyond the margin",
                (true, false) => "significantly worse but within the margin",
                (false, _) => "no significant difference",
            }
        ),
    }
}

/// The z statistic of v2's proportion over v1's, with the pooled standard error and Yates'
/// continuity correction; 0 when both proportions are 0 or 1 (no variance, no evidence either
/// way). The correction matters here: a canary at 1% has few requests, and without it the
/// normal approximation calls a single error in a handful of requests significant.
pub(crate) fn two_proportion_z(e1: f64, n1: f64, e2: f64, n2: f64) -> f64 {
    let pooled = (e1 + e2) / (n1 + n2);
    let se = (pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)).sqrt();
    if !(se > 0.0 && se.is_finite()) {
        return 0.0;
    }
    let difference = e2 / n2 - e1 / n1;
    let correction = 0.5 * (1.0 / n1 + 1.0 / n2);
    let corrected = (difference.abs() - correction).max(0.0);
    corrected.copysign(difference) / se
}

/// The one-sided critical z for `confidence` (the standard normal quantile), by Acklam's
/// rational approximation (relative error below 1.2e-9).
pub(crate) fn z_critical(confidence: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let p = confidence.clamp(1e-12, 1.0 - 1e-12);
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    const LOW: f64 = 0.02425;
    if p < LOW {
        tail((-2.0 * p.ln()).sqrt())
    } else if p <= 1.0 - LOW {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    }
}

/// The latency judge: value is v2's quantile in seconds, threshold v1's × factor + slack.
pub(crate) fn latency(
    judge: &LatencyJudge,
    v1_seconds: f64,
    v2_seconds: f64,
    traffic: Result<(), Judgement>,
) -> Judgement {
    if let Err(inconclusive) = traffic {
        return inconclusive;
    }
    if !v1_seconds.is_finite() || !v2_seconds.is_finite() {
        return Judgement {
            verdict: Verdict::Inconclusive,
            value: v2_seconds.is_finite().then_some(v2_seconds),
            threshold: None,
            detail: format!(
                "p{} is not a number (v1 {v1_seconds}, v2 {v2_seconds}): the histogram has no observations in the window",
                judge.quantile * 100.0
            ),
        };
    }
    let threshold = v1_seconds * judge.factor + judge.slack.as_secs_f64();
    let fail = v2_seconds > threshold;
    Judgement {
        verdict: if fail { Verdict::Fail } else { Verdict::Pass },
        value: Some(v2_seconds),
        threshold: Some(threshold),
        detail: format!(
            "v2 p{q} {:.1} ms vs v1 p{q} {:.1} ms: threshold {:.1} ms (v1 × {} + {} ms)",
            v2_seconds * 1e3,
            v1_seconds * 1e3,
            threshold * 1e3,
            judge.factor,
            judge.slack.as_millis(),
            q = judge.quantile * 100.0,
        ),
    }
}

/// A custom check's number against its `min`/`max`.
pub(crate) fn threshold(check: &CustomCheck, value: f64) -> Judgement {
    if !value.is_finite() {
        return Judgement {
            verdict: Verdict::Inconclusive,
            value: None,
            threshold: check.max.or(check.min),
            detail: format!("the query returned {value}, not a number to judge"),
        };
    }
    let below = check.min.filter(|min| value < *min);
    let above = check.max.filter(|max| value > *max);
    let (verdict, threshold, detail) = match (below, above) {
        (Some(min), _) => (
            Verdict::Fail,
            Some(min),
            format!("{value} is below min {min}"),
        ),
        (_, Some(max)) => (
            Verdict::Fail,
            Some(max),
            format!("{value} is above max {max}"),
        ),
        _ => (
            Verdict::Pass,
            check.max.or(check.min),
            format!(
                "{value} is within [{}, {}]",
                check.min.map_or("-inf".to_owned(), |m| m.to_string()),
                check.max.map_or("+inf".to_owned(), |m| m.to_string())
            ),
        ),
    };
    Judgement {
        verdict,
        value: Some(value),
        threshold,
        detail,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const JUDGE: ErrorRatioJudge = ErrorRatioJudge {
        confidence: 0.99,
        margin: 0.01,
    };

    fn counts(requests: f64, errors: f64) -> Counts {
        Counts { requests, errors }
    }

    #[test]
    fn critical_values_match_the_normal_table() {
        for (confidence, z) in [
            (0.95, 1.644_854),
            (0.99, 2.326_348),
            (0.999, 3.090_232),
            (0.5, 0.0),
        ] {
            assert!(
                (z_critical(confidence) - z).abs() < 1e-5,
                "{confidence}: {}",
                z_critical(confidence)
            );
        }
    }

    #[test]
    fn twenty_percent_errors_on_a_one_percent_canary_fail() {
        let judgement = error_ratio(&JUDGE, counts(9_900.0, 0.0), counts(100.0, 20.0), 50);
        assert_eq!(judgement.verdict, Verdict::Fail, "{}", judgement.detail);
        assert_eq!(judgement.value, Some(0.2));
        assert_eq!(judgement.threshold, Some(0.01));
    }

    #[test]
    fn equal_error_ratios_pass() {
        let judgement = error_ratio(&JUDGE, counts(10_000.0, 100.0), counts(1_000.0, 10.0), 50);
        assert_eq!(judgement.verdict, Verdict::Pass, "{}", judgement.detail);
    }

    #[test]
    fn a_significant_difference_within_the_margin_passes() {
        // 0.1% against 0.5%: significant with this much traffic, but within one point.
        let judgement = error_ratio(
            &JUDGE,
            counts(1_000_000.0, 1_000.0),
            counts(100_000.0, 500.0),
            50,
        );
        assert!(
            judgement
                .detail
                .contains("significantly worse but within the margin"),
            "{}",
            judgement.detail
        );
        assert_eq!(judgement.verdict, Verdict::Pass);
    }

    #[test]
    fn a_large_difference_on_few_requests_is_not_significant() {
        // One error in ten requests against v1's 1%: 10% is beyond the margin, but ten requests
        // prove little (Fisher's exact test gives p ≈ 0.1; the uncorrected z-test would say
        // 2.7 and fail it).
        let judgement = error_ratio(&JUDGE, counts(1_000.0, 10.0), counts(10.0, 1.0), 10);
        assert!(
            judgement.detail.contains("no significant difference"),
            "{}",
            judgement.detail
        );
        assert_eq!(judgement.verdict, Verdict::Pass);
    }

    #[test]
    fn too_few_requests_are_inconclusive_never_a_pass() {
        let judgement = error_ratio(&JUDGE, counts(10_000.0, 0.0), counts(20.0, 0.0), 50);
        assert_eq!(judgement.verdict, Verdict::Inconclusive);
        assert_eq!(
            judgement.detail,
            "v2 served 20 requests in the window, fewer than min_requests 50"
        );
    }

    #[test]
    fn latency_fails_beyond_factor_plus_slack() {
        let judge = LatencyJudge {
            quantile: 0.99,
            factor: 1.2,
            slack: Duration::from_millis(10),
        };
        let slow = latency(&judge, 0.005, 0.055, Ok(()));
        assert_eq!(slow.verdict, Verdict::Fail, "{}", slow.detail);
        assert_eq!(slow.threshold, Some(0.016));
        let fine = latency(&judge, 0.005, 0.012, Ok(()));
        assert_eq!(fine.verdict, Verdict::Pass);
        let nan = latency(&judge, f64::NAN, 0.012, Ok(()));
        assert_eq!(nan.verdict, Verdict::Inconclusive);
    }

    #[test]
    fn custom_thresholds_bound_both_sides() {
        let check = CustomCheck {
            name: "c".to_owned(),
            query: "x".to_owned(),
            min: Some(1.0),
            max: Some(2.0),
        };
        assert_eq!(threshold(&check, 1.5).verdict, Verdict::Pass);
        assert_eq!(threshold(&check, 0.5).threshold, Some(1.0));
        assert_eq!(threshold(&check, 0.5).verdict, Verdict::Fail);
        assert_eq!(threshold(&check, 2.5).verdict, Verdict::Fail);
        assert_eq!(threshold(&check, f64::NAN).verdict, Verdict::Inconclusive);
    }

    #[test]
    fn verdicts_combine_worst_first() {
        use Verdict::*;
        assert_eq!(Verdict::combine([Pass, Inconclusive, Fail]), Fail);
        assert_eq!(Verdict::combine([Pass, Inconclusive]), Inconclusive);
        assert_eq!(Verdict::combine([Pass, Pass]), Pass);
        assert_eq!(Verdict::combine([]), Pass);
    }
}
