//! The gateway instances: reload each through its admin listener and verify what it serves.
//!
//! [`converge`] reloads every instance in parallel and then polls `GET /debug/config` until the
//! instance serves a snapshot at least as new as its reload's (same content hash, or a later
//! generation) in which the driven rule has the wanted percent. Only then is a step applied.
//! [`preflight`] checks, before a rollout edits anything, that every instance serves the rule
//! where the rollout will change it, and would route by it.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::spec::Instance;

/// How one instance failed to take a config.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FleetError {
    /// The admin token variable is unset or empty.
    #[error("instance {instance}: environment variable {var} (its admin token) is not set")]
    Token {
        /// The instance.
        instance: String,
        /// The variable.
        var: String,
    },
    /// The admin endpoint could not be reached or answered something unexpected.
    #[error("instance {instance}: {url}: {message}")]
    Request {
        /// The instance.
        instance: String,
        /// The URL.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// The admin endpoint refused the request in a way retrying cannot fix (401, 403, 404, 422).
    #[error("instance {instance}: {url}: refused with {status}: {body}")]
    Refused {
        /// The instance.
        instance: String,
        /// The URL.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The start of the answer.
        body: String,
    },
    /// It answered, but did not come to serve the wanted percent in time.
    #[error(
        "instance {instance} did not serve rule `{rule}` at {wanted}% within {timeout_ms} ms (last seen: {last})"
    )]
    NotConverged {
        /// The instance.
        instance: String,
        /// The rule.
        rule: String,
        /// The percent wanted.
        wanted: u8,
        /// The timeout.
        timeout_ms: u128,
        /// What it served last, or the last error.
        last: String,
    },
}

/// What an instance serves, from `GET /debug/config`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Served {
    /// The snapshot's generation.
    pub generation: u64,
    /// The snapshot's content hash.
    pub content_hash: String,
    /// The driven rule's percent, if the snapshot has the rule.
    pub percent: Option<u8>,
}

/// One instance that serves the wanted percent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Converged {
    /// The instance.
    pub instance: String,
    /// The generation its reload produced.
    pub generation: u64,
    /// The content hash it serves.
    pub content_hash: String,
}

/// The outcome of [`converge`] for every instance, in spec order.
pub(crate) type Convergence = Vec<Result<Converged, FleetError>>;

/// An admin client.
#[derive(Debug, Clone)]
pub struct AdminClient {
    agent: ureq::Agent,
}

impl Default for AdminClient {
    fn default() -> Self {
        Self::new()
    }
}

impl AdminClient {
    /// A client with short timeouts: an admin call that hangs must not hold a rollback up.
    pub fn new() -> AdminClient {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(2)))
            .timeout_global(Some(Duration::from_secs(10)))
            .build()
            .into();
        AdminClient { agent }
    }

    fn token(instance: &Instance) -> Result<String, FleetError> {
        std::env::var(&instance.token_env)
            .ok()
            .map(|token| token.trim().to_owned())
            .filter(|token| !token.is_empty())
            .ok_or_else(|| FleetError::Token {
                instance: instance.name.clone(),
                var: instance.token_env.clone(),
            })
    }

    fn call(&self, instance: &Instance, post: bool, path: &str) -> Result<Value, FleetError> {
        let url = format!("{}{path}", instance.admin_url);
        let token = Self::token(instance)?;
        let request_error = |message: String| FleetError::Request {
            instance: instance.name.clone(),
            url: url.clone(),
            message,
        };
        let bearer = format!("Bearer {token}");
        let response = if post {
            self.agent
                .post(&url)
                .header("Authorization", &bearer)
                .send_empty()
        } else {
            self.agent.get(&url).header("Authorization", &bearer).call()
        }
        .map_err(|error| request_error(error.to_string()))?;
        let status = response.status().as_u16();
        let text = response
            .into_body()
            .read_to_string()
            .map_err(|error| request_error(format!("cannot read the answer: {error}")))?;
        if status != 200 {
            let mut excerpt: String = text.chars().take(300).collect();
            if excerpt.len() < text.len() {
                excerpt.push('…');
            }
            // Busy (409 reload_in_progress), throttled or failing: worth another try. Anything
            // else in 4xx (a wrong token, an invalid config) would only fail again.
            if status == 409 || status == 429 || status >= 500 {
                return Err(request_error(format!("answered {status}: {excerpt}")));
            }
            return Err(FleetError::Refused {
                instance: instance.name.clone(),
                url,
                status,
                body: excerpt,
            });
        }
        serde_json::from_str(&text)
            .map_err(|error| request_error(format!("answer is not JSON: {error}")))
    }

    /// `POST /config/reload`: the generation and content hash of the new snapshot.
    pub fn reload(&self, instance: &Instance) -> Result<(u64, String), FleetError> {
        #[derive(Deserialize)]
        struct Reloaded {
            generation: u64,
            content_hash: String,
        }
        let value = self.call(instance, true, "/config/reload")?;
        let reloaded: Reloaded =
            serde_json::from_value(value).map_err(|error| FleetError::Request {
                instance: instance.name.clone(),
                url: format!("{}/config/reload", instance.admin_url),
                message: format!("unexpected answer: {error}"),
            })?;
        Ok((reloaded.generation, reloaded.content_hash))
    }

    /// `GET /debug/config` as the instance answers it.
    pub fn config_report(&self, instance: &Instance) -> Result<Value, FleetError> {
        self.call(instance, false, "/debug/config")
    }

    /// `GET /debug/config`: what the instance serves, with rule `rule`'s percent.
    pub fn served(&self, instance: &Instance, rule: &str) -> Result<Served, FleetError> {
        let value = self.call(instance, false, "/debug/config")?;
        served_from_report(&value, rule).ok_or_else(|| FleetError::Request {
            instance: instance.name.clone(),
            url: format!("{}/debug/config", instance.admin_url),
            message: "answer lacks `generation`, `content_hash` or `entries`".to_owned(),
        })
    }
}

/// Reads generation, content hash and rule `rule`'s percent from a `/debug/config` answer. The
/// rules are one entry `gray.rules` whose value is the array of rules (arrays are leaves), or,
/// in reports that list array items, `gray.rules[N].name` / `gray.rules[N].percent` entries.
pub fn served_from_report(report: &Value, rule: &str) -> Option<Served> {
    let generation = report.get("generation")?.as_u64()?;
    let content_hash = report.get("content_hash")?.as_str()?.to_owned();
    let entries = report.get("entries")?.as_array()?;
    let value_of = |key: &str| {
        entries
            .iter()
            .find(|entry| entry.get("key").and_then(Value::as_str) == Some(key))
            .and_then(|entry| entry.get("value"))
    };
    let from_array = value_of("gray.rules")
        .and_then(Value::as_array)
        .and_then(|rules| {
            rules
                .iter()
                .find(|r| r.get("name").and_then(Value::as_str) == Some(rule))
        })
        .and_then(|r| r.get("percent"));
    let from_items = || {
        let index = entries.iter().find_map(|entry| {
            let key = entry.get("key")?.as_str()?;
            let index = key.strip_prefix("gray.rules[")?.strip_suffix("].name")?;
            (entry.get("value")?.as_str()? == rule).then(|| index.to_owned())
        })?;
        value_of(&format!("gray.rules[{index}].percent"))
    };
    let percent = from_array
        .or_else(from_items)
        .and_then(Value::as_u64)
        .and_then(|p| u8::try_from(p).ok());
    Some(Served {
        generation,
        content_hash,
        percent,
    })
}

/// Why an instance, as its `/debug/config` answer `report` shows it, cannot take part in a
/// rollout of rule `rule` whose fragment holds `percent` now; `None` when it can. It must have
/// gray routing on, serve the rule with that very percent (so it loads the fragment the rollout
/// edits), and the rule's label conditions must hold for the instance's labels (else it would
/// route nothing to v2, and every analysis would be inconclusive).
pub(crate) fn preflight_problem(report: &Value, rule: &str, percent: u8) -> Option<String> {
    let Some(served) = served_from_report(report, rule) else {
        return Some(
            "its /debug/config answer lacks `generation`, `content_hash` or `entries`".to_owned(),
        );
    };
    if report.get("gray_enabled").and_then(Value::as_bool) == Some(false) {
        return Some("gray routing is off (config key gray.enabled is false)".to_owned());
    }
    let Some(served_percent) = served.percent else {
        return Some(format!(
            "it serves no rule `{rule}` with an integer percent: start it with the gray switch on \
             (ENABLE_GRAY_CONFIG=true) and the fragment holding the rule in its gray layer"
        ));
    };
    if served_percent != percent {
        return Some(format!(
            "it serves rule `{rule}` at {served_percent}%, but the fragment the rollout edits \
             holds {percent}%: it does not load that fragment (or has not reloaded it)"
        ));
    }
    // A gateway that reports its rules says itself whether the rule can match here (labels,
    // INSTANCE_LABELS and environment conditions together); older answers are judged by the
    // label conditions against `gray.labels`.
    let reported = report
        .get("rules")
        .and_then(Value::as_array)
        .and_then(|rules| {
            rules
                .iter()
                .find(|r| r.get("name").and_then(Value::as_str) == Some(rule))
        });
    if let Some(reported) = reported {
        if reported.get("enabled").and_then(Value::as_bool) == Some(false) {
            return Some(format!("rule `{rule}` is disabled (enabled = false)"));
        }
        return reported
            .get("inactive_because")
            .and_then(Value::as_str)
            .map(|why| {
                format!(
                    "rule `{rule}` can never match here ({why}), so it would route nothing: \
                     set the labels it needs (INSTANCE_LABELS, gray.labels) or use an instance \
                     that has them"
                )
            });
    }
    let entries = report
        .get("entries")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let value_of = |key: &str| {
        entries
            .iter()
            .find(|entry| entry.get("key").and_then(Value::as_str) == Some(key))
            .and_then(|entry| entry.get("value"))
    };
    let needs = rule_labels(entries, rule);
    let missing: Vec<String> = needs
        .iter()
        .filter_map(|(label, want)| {
            let have = value_of(&format!("gray.labels.{label}")).and_then(Value::as_str);
            (have != Some(want.as_str())).then(|| {
                format!(
                    "label {label}={want} (the instance has {})",
                    have.map_or_else(|| "none".to_owned(), |have| format!("{label}={have}"))
                )
            })
        })
        .collect();
    if !missing.is_empty() {
        return Some(format!(
            "rule `{rule}` needs {}, so it would route nothing here: set the labels \
             (INSTANCE_LABELS, gray.labels) or use an instance that has them",
            missing.join(", ")
        ));
    }
    None
}

/// The label conditions of rule `rule` in a report's entries: from the `gray.rules` array, or
/// from `gray.rules[N].labels.KEY` entries.
fn rule_labels(entries: &[Value], rule: &str) -> Vec<(String, String)> {
    let key_value = |entry: &Value| {
        Some((
            entry.get("key")?.as_str()?.to_owned(),
            entry.get("value")?.clone(),
        ))
    };
    let pairs: Vec<(String, Value)> = entries.iter().filter_map(key_value).collect();
    let labels_of = |table: &Value| {
        table
            .as_object()
            .map(|labels| {
                labels
                    .iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    if let Some((_, rules)) = pairs.iter().find(|(key, _)| key == "gray.rules")
        && let Some(found) = rules.as_array().and_then(|rules| {
            rules
                .iter()
                .find(|r| r.get("name").and_then(Value::as_str) == Some(rule))
        })
    {
        return found.get("labels").map(labels_of).unwrap_or_default();
    }
    let Some(index) = pairs.iter().find_map(|(key, value)| {
        let index = key.strip_prefix("gray.rules[")?.strip_suffix("].name")?;
        (value.as_str()? == rule).then(|| index.to_owned())
    }) else {
        return Vec::new();
    };
    let prefix = format!("gray.rules[{index}].labels");
    let mut labels = Vec::new();
    for (key, value) in &pairs {
        if key == &prefix {
            labels.extend(labels_of(value));
        } else if let Some(label) = key.strip_prefix(&format!("{prefix}."))
            && let Some(value) = value.as_str()
        {
            labels.push((label.to_owned(), value.to_owned()));
        }
    }
    labels
}

/// Asks every instance (in parallel) whether it can take part in a rollout of `rule` whose
/// fragment holds `percent` now ([`preflight_problem`]); returns `instance NAME: problem` for
/// each one that cannot, in spec order.
pub(crate) fn preflight(
    client: &AdminClient,
    instances: &[Instance],
    rule: &str,
    percent: u8,
) -> Vec<String> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = instances
            .iter()
            .map(|instance| scope.spawn(move || client.config_report(instance)))
            .collect();
        handles
            .into_iter()
            .zip(instances)
            .filter_map(|(handle, instance)| {
                let problem = match handle.join() {
                    Ok(Ok(report)) => preflight_problem(&report, rule, percent)?,
                    Ok(Err(error)) => return Some(error.to_string()),
                    Err(_) => "the preflight thread panicked".to_owned(),
                };
                Some(format!("instance {}: {problem}", instance.name))
            })
            .collect()
    })
}

/// How often an instance is asked again while converging.
const POLL: Duration = Duration::from_millis(100);

/// Reloads every instance and waits until each serves rule `rule` at `percent`, for at most
/// `timeout` per instance. Instances are handled in parallel; the result keeps spec order.
pub(crate) fn converge(
    client: &AdminClient,
    instances: &[Instance],
    rule: &str,
    percent: u8,
    timeout: Duration,
) -> Convergence {
    std::thread::scope(|scope| {
        let handles: Vec<_> = instances
            .iter()
            .map(|instance| {
                scope.spawn(move || converge_one(client, instance, rule, percent, timeout))
            })
            .collect();
        handles
            .into_iter()
            .zip(instances)
            .map(|(handle, instance)| {
                handle.join().unwrap_or_else(|_| {
                    Err(FleetError::Request {
                        instance: instance.name.clone(),
                        url: instance.admin_url.clone(),
                        message: "the convergence thread panicked".to_owned(),
                    })
                })
            })
            .collect()
    })
}

fn converge_one(
    client: &AdminClient,
    instance: &Instance,
    rule: &str,
    percent: u8,
    timeout: Duration,
) -> Result<Converged, FleetError> {
    let deadline = Instant::now() + timeout;
    let not_converged = |last: String| FleetError::NotConverged {
        instance: instance.name.clone(),
        rule: rule.to_owned(),
        wanted: percent,
        timeout_ms: timeout.as_millis(),
        last,
    };
    // Reload, retrying while the instance is unreachable or busy, until the deadline.
    let (generation, content_hash) = loop {
        match client.reload(instance) {
            Ok(reloaded) => break reloaded,
            Err(error @ (FleetError::Token { .. } | FleetError::Refused { .. })) => {
                return Err(error);
            }
            Err(error) if Instant::now() >= deadline => return Err(error),
            Err(_) => std::thread::sleep(POLL),
        }
    };
    loop {
        let last = match client.served(instance, rule) {
            Ok(served) => {
                let current = served.content_hash == content_hash || served.generation > generation;
                if current && served.percent == Some(percent) {
                    return Ok(Converged {
                        instance: instance.name.clone(),
                        generation: served.generation,
                        content_hash: served.content_hash,
                    });
                }
                format!(
                    "generation {} hash {} percent {}",
                    served.generation,
                    served.content_hash,
                    served
                        .percent
                        .map_or_else(|| "none (no such rule)".to_owned(), |p| p.to_string())
                )
            }
            Err(error) => error.to_string(),
        };
        if Instant::now() >= deadline {
            return Err(not_converged(last));
        }
        std::thread::sleep(POLL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_percent_is_found_by_the_rule_name() {
        let report = serde_json::json!({
            "generation": 4,
            "content_hash": "abc",
            "entries": [
                {"key": "gray.rules[0].name", "value": "header"},
                {"key": "gray.rules[1].name", "value": "billing-v2-rollout"},
                {"key": "gray.rules[1].percent", "value": 10},
                {"key": "gray.rules[0].percent", "value": 99},
            ]
        });
        assert_eq!(
            served_from_report(&report, "billing-v2-rollout"),
            Some(Served {
                generation: 4,
                content_hash: "abc".to_owned(),
                percent: Some(10)
            })
        );
        assert_eq!(
            served_from_report(&report, "missing").unwrap().percent,
            None
        );
        assert_eq!(served_from_report(&serde_json::json!({}), "x"), None);
    }

    #[test]
    fn a_missing_token_names_the_variable_and_instance() {
        let instance = Instance {
            name: "gw-a".to_owned(),
            admin_url: "http://127.0.0.1:9".to_owned(),
            token_env: "ROLLOUT_TEST_TOKEN_THAT_IS_NEVER_SET".to_owned(),
        };
        let error = AdminClient::new().reload(&instance).unwrap_err();
        assert_eq!(
            error.to_string(),
            "instance gw-a: environment variable ROLLOUT_TEST_TOKEN_THAT_IS_NEVER_SET (its admin token) is not set"
        );
    }

    fn report(gray_enabled: bool, labels: serde_json::Value, env: &str) -> Value {
        serde_json::json!({
            "generation": 1,
            "content_hash": "h",
            "gray_enabled": gray_enabled,
            "entries": [
                {"key": "gray.labels.env", "value": env},
                {"key": "gray.rules", "value": [
                    {"name": "other", "percent": 50},
                    {"name": "r", "percent": 10, "labels": labels},
                ]},
            ]
        })
    }

    #[test]
    fn preflight_takes_the_instances_own_word_on_its_rules() {
        let mut answer = report(true, serde_json::json!({"env": "prod"}), "dev");
        answer["rules"] = serde_json::json!([
            {"name": "r", "enabled": true, "inactive_because": null},
        ]);
        // INSTANCE_LABELS made it env=prod: the instance says the rule can match.
        assert_eq!(preflight_problem(&answer, "r", 10), None);
        answer["rules"][0]["inactive_because"] =
            serde_json::json!("label env=dev, rule needs prod");
        assert_eq!(
            preflight_problem(&answer, "r", 10).unwrap(),
            "rule `r` can never match here (label env=dev, rule needs prod), so it would route nothing: set the labels it needs (INSTANCE_LABELS, gray.labels) or use an instance that has them"
        );
        answer["rules"][0]["enabled"] = serde_json::json!(false);
        assert!(
            preflight_problem(&answer, "r", 10)
                .unwrap()
                .contains("disabled")
        );
    }

    #[test]
    fn preflight_names_what_an_instance_lacks() {
        let prod = serde_json::json!({"env": "prod"});
        assert_eq!(
            preflight_problem(&report(true, prod.clone(), "prod"), "r", 10),
            None
        );
        let problem = |report: &Value, rule: &str, percent: u8| {
            preflight_problem(report, rule, percent).unwrap()
        };
        assert_eq!(
            problem(&report(true, prod.clone(), "dev"), "r", 10),
            "rule `r` needs label env=prod (the instance has env=dev), so it would route nothing here: set the labels (INSTANCE_LABELS, gray.labels) or use an instance that has them"
        );
        assert!(
            problem(&report(true, prod.clone(), "prod"), "missing", 10)
                .contains("ENABLE_GRAY_CONFIG=true"),
        );
        assert!(
            problem(&report(true, prod.clone(), "prod"), "r", 0)
                .contains("serves rule `r` at 10%, but the fragment the rollout edits holds 0%"),
        );
        assert!(problem(&report(false, prod, "prod"), "r", 10).contains("gray routing is off"));
    }
}
