//! `ci --push URL`: hands a run's metrics to a Prometheus Pushgateway.
//!
//! Each group is PUT whole at `URL/metrics/job/JOB/workspace/NAME`, so a group's series are
//! exactly the last run's: a crate or feature set that no longer exists leaves no stale series
//! behind, and the coverage group is only replaced by a run that measured coverage.

use std::time::Duration;

use anyhow::Context as _;

use crate::matrix::Partition;

/// The Pushgateway URL of one group: `job`, the `workspace` label and, for a run of one part of
/// the test matrix, a `partition` label (`2-of-3`) as its grouping key, so the parts of one CI
/// run do not replace each other's figures. The workspace name is kept to what a path segment
/// carries plainly (`[A-Za-z0-9_.-]`; anything else becomes `_`).
pub fn group_url(base: &str, job: &str, workspace: &str, partition: Option<Partition>) -> String {
    let base = base.trim_end_matches('/');
    let mut name: String = workspace
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() || name.chars().all(|c| c == '.') {
        name = "workspace".to_owned();
    }
    let mut url = format!("{base}/metrics/job/{job}/workspace/{name}");
    if let Some(partition) = partition {
        url.push_str(&format!(
            "/partition/{}-of-{}",
            partition.index, partition.total
        ));
    }
    url
}

/// PUTs `text` (Prometheus text format) as the whole group at `url`; an answer other than 2xx is
/// an error quoting the Pushgateway's reason.
pub fn put(url: &str, text: &str) -> anyhow::Result<()> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let mut response = agent
        .put(url)
        .header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
        .send(text)
        .with_context(|| format!("cannot push the metrics to {url}"))?;
    let status = response.status();
    if !status.is_success() {
        let body = response.body_mut().read_to_string().unwrap_or_default();
        anyhow::bail!(
            "the Pushgateway at {url} refused the metrics ({status}): {}",
            body.trim()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_urls() {
        assert_eq!(
            group_url("http://127.0.0.1:9091/", "graywork_ci", "main", None),
            "http://127.0.0.1:9091/metrics/job/graywork_ci/workspace/main"
        );
        assert_eq!(
            group_url("http://pg", "graywork_ci", "my work/space", None),
            "http://pg/metrics/job/graywork_ci/workspace/my_work_space"
        );
        assert_eq!(
            group_url("http://pg", "graywork_ci", "..", None),
            "http://pg/metrics/job/graywork_ci/workspace/workspace"
        );
        assert_eq!(
            group_url(
                "http://pg",
                "graywork_ci",
                "w",
                Some(Partition { index: 2, total: 3 })
            ),
            "http://pg/metrics/job/graywork_ci/workspace/w/partition/2-of-3"
        );
    }
}
