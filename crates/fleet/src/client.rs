//! A small etcd v3 client over etcd's JSON gateway (grpc-gateway) with `ureq`.
//!
//! The JSON gateway carries the same API as gRPC: keys and values are base64, 64-bit numbers are
//! JSON strings, and a watch is one long POST whose answer is newline-delimited JSON. It needs no
//! code generation and no protoc, so the workspace builds offline; the price is no TLS yet and
//! one HTTP connection per watch.

use std::io::{BufRead as _, BufReader, Read as _};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};

/// How a client reaches etcd.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientOptions {
    /// Base URLs, e.g. `http://127.0.0.1:2379`, tried in order; the last one that answered is
    /// tried first next time. Only `http://` is supported (no TLS yet).
    pub endpoints: Vec<String>,
    /// How long connecting to one endpoint may take.
    pub dial_timeout: Duration,
    /// How long one call (range, put, txn, authenticate) may take on one endpoint.
    pub request_timeout: Duration,
    /// How long an open watch may stay silent before its connection is dropped and reopened
    /// from the last seen revision (this is what notices a connection that died silently).
    pub watch_idle_timeout: Duration,
    /// A user and password for etcd's auth (`/v3/auth/authenticate`); `None` when auth is off.
    pub credentials: Option<(String, String)>,
    /// How long a liveness probe ([`EtcdClient::probe`]) may take on one endpoint: a member that
    /// accepts connections but does not answer (a frozen process) is noticed this soon.
    pub probe_timeout: Duration,
}

impl ClientOptions {
    /// Options for `endpoints` with 2 s dial, 5 s request, 30 s watch idle and 2 s probe
    /// timeouts and no auth.
    pub fn new(endpoints: &[&str]) -> ClientOptions {
        ClientOptions {
            endpoints: endpoints.iter().map(|e| (*e).to_owned()).collect(),
            dial_timeout: Duration::from_secs(2),
            request_timeout: Duration::from_secs(5),
            watch_idle_timeout: Duration::from_secs(30),
            credentials: None,
            probe_timeout: Duration::from_secs(2),
        }
    }
}

/// Why an etcd call failed. Every message names the endpoint (or all of them) and the key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EtcdError {
    /// The options cannot work (no endpoint, an endpoint that is not `http://`).
    #[error("invalid etcd settings: {0}")]
    Settings(String),
    /// No endpoint answered.
    #[error("no etcd endpoint answered {path}: {attempts}")]
    Unreachable {
        /// The API path called.
        path: String,
        /// `endpoint: error` for every endpoint tried, `; `-separated.
        attempts: String,
    },
    /// An endpoint answered with an error.
    #[error("etcd at {endpoint} refused {path} ({status}): {message}")]
    Refused {
        /// The endpoint.
        endpoint: String,
        /// The API path called.
        path: String,
        /// The HTTP status.
        status: u16,
        /// etcd's message.
        message: String,
    },
    /// An answer that is not what the API says it is.
    #[error("etcd at {endpoint} answered {path} with something unexpected: {message}")]
    Decode {
        /// The endpoint.
        endpoint: String,
        /// The API path called.
        path: String,
        /// What was wrong.
        message: String,
    },
    /// A watch's start revision was compacted away; re-read everything and watch from there.
    #[error(
        "etcd compacted revisions up to {compact_revision}; the watch must restart from a full read"
    )]
    Compacted {
        /// The oldest revision still available.
        compact_revision: i64,
    },
    /// An answer was larger than the caller allows (a range over a prefix whose fragments are
    /// over the config's budget); it was not read past the limit.
    #[error(
        "etcd at {endpoint} answered {path} with more than {max} bytes, over the fragments' budget"
    )]
    AnswerTooLarge {
        /// The endpoint.
        endpoint: String,
        /// The API path called.
        path: String,
        /// The most bytes the answer could have.
        max: u64,
    },
    /// The fragments under a prefix hold more bytes together than the config's budget
    /// (`gray::Limits::max_total_bytes`), so they are refused as a set.
    #[error(
        "the fragments under {prefix} total {total} bytes, over the budget of {max} (limit `max_total_bytes`); largest: {largest}"
    )]
    OverBudget {
        /// The key prefix.
        prefix: String,
        /// Their bytes together.
        total: u64,
        /// The budget.
        max: u64,
        /// The largest keys with their sizes, largest first.
        largest: String,
    },
    /// A value under the prefix is not UTF-8 text, so it cannot be a TOML fragment.
    #[error("etcd key {key}@{mod_revision} does not hold UTF-8 text")]
    NotText {
        /// The key.
        key: String,
        /// Its revision.
        mod_revision: i64,
    },
}

/// One key and its value, as etcd stores them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyValue {
    /// The key.
    pub key: String,
    /// The value's bytes.
    pub value: Vec<u8>,
    /// The revision of the key's last change: the compare-and-swap token.
    pub mod_revision: i64,
    /// The revision at which the key was created.
    pub create_revision: i64,
}

/// The answer of a range read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeResult {
    /// The store's revision at the time of the read.
    pub revision: i64,
    /// The keys, in key order.
    pub kvs: Vec<KeyValue>,
}

/// What [`EtcdClient::compare_and_swap`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cas {
    /// The key held the expected revision and now holds the new value at `mod_revision`.
    Swapped {
        /// The key's new `mod_revision`.
        mod_revision: i64,
    },
    /// Someone else changed the key first; nothing was written.
    Conflict {
        /// The key as it is now (`None`: it does not exist).
        current: Option<KeyValue>,
    },
}

/// What a key must be for a conditional write ([`EtcdClient::put_if`],
/// [`EtcdClient::delete_if`]) to happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// The key must not exist.
    Absent,
    /// The key must exist at this `mod_revision` (the one its reader saw).
    ModRevision(i64),
    /// Anything (an operator's `--force`).
    Anything,
}

/// A condition on a whole key prefix: no key under it was created, changed or guarded since
/// the store revision `revision` at which the caller read (and validated) the prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrefixUnchanged {
    /// The key prefix.
    pub prefix: String,
    /// The store revision of the caller's read.
    pub revision: i64,
}

impl PrefixUnchanged {
    /// The key a deletion under the prefix writes as well, so that deletions show in the
    /// prefix's revisions too (a deleted key leaves no revision behind under the prefix). It
    /// does not end in `.toml`, so it is never read as a fragment.
    pub fn guard_key(&self) -> String {
        format!("{}.guard", self.prefix)
    }
}

/// What [`EtcdClient::put_if`] and [`EtcdClient::delete_if`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conditional {
    /// Written (or deleted) at store revision `revision` (a put key's new `mod_revision`).
    Done {
        /// The transaction's revision.
        revision: i64,
    },
    /// The key was not what was expected; nothing was written.
    KeyChanged {
        /// The key as it is now (`None`: it does not exist).
        current: Option<KeyValue>,
    },
    /// The key was as expected, but something else under the prefix changed since it was read:
    /// the set that was validated is gone; nothing was written.
    PrefixChanged {
        /// The store's revision now.
        revision: i64,
    },
}

/// An etcd v3 client over the JSON gateway. Calls block; share it behind an `Arc`.
#[derive(Debug)]
pub struct EtcdClient {
    options: ClientOptions,
    agent: ureq::Agent,
    watch_agent: ureq::Agent,
    probe_agent: ureq::Agent,
    /// The endpoint that answered last, tried first.
    preferred: AtomicUsize,
    /// The auth token, fetched on first use and again when etcd says it expired.
    token: Mutex<Option<String>>,
}

/// The largest answer read from a unary call; fragments are capped far below this.
const MAX_ANSWER_BYTES: u64 = 64 * 1024 * 1024;

impl EtcdClient {
    /// A client for `options`; nothing is contacted until the first call.
    pub fn new(options: ClientOptions) -> Result<EtcdClient, EtcdError> {
        if options.endpoints.is_empty() {
            return Err(EtcdError::Settings("no endpoints".to_owned()));
        }
        if let Some(bad) = options.endpoints.iter().find(|e| !e.starts_with("http://")) {
            return Err(EtcdError::Settings(format!(
                "endpoint `{bad}` is not http:// (TLS is not supported yet)"
            )));
        }
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(options.dial_timeout))
            .timeout_global(Some(options.request_timeout))
            .build()
            .into();
        let watch_agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(options.dial_timeout))
            .timeout_recv_response(Some(options.request_timeout))
            .timeout_per_read(Some(options.watch_idle_timeout))
            .build()
            .into();
        let probe_agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(options.dial_timeout.min(options.probe_timeout)))
            .timeout_global(Some(options.probe_timeout))
            .build()
            .into();
        Ok(EtcdClient {
            options,
            agent,
            watch_agent,
            probe_agent,
            preferred: AtomicUsize::new(0),
            token: Mutex::new(None),
        })
    }

    /// The endpoints, in configured order.
    pub fn endpoints(&self) -> &[String] {
        &self.options.endpoints
    }

    /// Every key starting with `prefix`, in key order, with the store's revision.
    pub fn range_prefix(&self, prefix: &str) -> Result<RangeResult, EtcdError> {
        self.range_prefix_within(prefix, MAX_ANSWER_BYTES)
    }

    /// Like [`EtcdClient::range_prefix`], reading an answer of at most `max_answer_bytes`
    /// ([`EtcdError::AnswerTooLarge`] past it, without reading further).
    pub fn range_prefix_within(
        &self,
        prefix: &str,
        max_answer_bytes: u64,
    ) -> Result<RangeResult, EtcdError> {
        let body = json!({"key": b64(prefix.as_bytes()), "range_end": b64(&prefix_end(prefix.as_bytes()))});
        let (endpoint, answer) = self.call_within("/v3/kv/range", &body, max_answer_bytes)?;
        parse_range(&endpoint, &answer)
    }

    /// One key, or `None` when it does not exist.
    pub fn get(&self, key: &str) -> Result<Option<KeyValue>, EtcdError> {
        let body = json!({"key": b64(key.as_bytes())});
        let (endpoint, answer) = self.call("/v3/kv/range", &body)?;
        Ok(parse_range(&endpoint, &answer)?.kvs.into_iter().next())
    }

    /// Writes `value` at `key` unconditionally; returns the store's new revision.
    pub fn put(&self, key: &str, value: &[u8]) -> Result<i64, EtcdError> {
        let body = json!({"key": b64(key.as_bytes()), "value": b64(value)});
        let (endpoint, answer) = self.call("/v3/kv/put", &body)?;
        header_revision(&endpoint, "/v3/kv/put", &answer)
    }

    /// Deletes `key`; returns the store's revision afterwards.
    pub fn delete(&self, key: &str) -> Result<i64, EtcdError> {
        let body = json!({"key": b64(key.as_bytes())});
        let (endpoint, answer) = self.call("/v3/kv/deleterange", &body)?;
        header_revision(&endpoint, "/v3/kv/deleterange", &answer)
    }

    /// Writes `value` at `key` only if the key's `mod_revision` is `expected` (0: only if the key
    /// does not exist), in one transaction.
    pub fn compare_and_swap(
        &self,
        key: &str,
        expected: i64,
        value: &[u8],
    ) -> Result<Cas, EtcdError> {
        let key64 = b64(key.as_bytes());
        let compare = if expected == 0 {
            json!({"target": "CREATE", "key": key64, "create_revision": "0"})
        } else {
            json!({"target": "MOD", "key": key64, "mod_revision": expected.to_string()})
        };
        let body = json!({
            "compare": [compare],
            "success": [{"request_put": {"key": key64, "value": b64(value)}}],
            "failure": [{"request_range": {"key": key64}}],
        });
        let path = "/v3/kv/txn";
        let (endpoint, answer) = self.call(path, &body)?;
        let revision = header_revision(&endpoint, path, &answer)?;
        if answer.get("succeeded").and_then(Value::as_bool) == Some(true) {
            // A put's key now has the transaction's revision as its mod_revision.
            return Ok(Cas::Swapped {
                mod_revision: revision,
            });
        }
        let range = answer
            .get("responses")
            .and_then(|r| r.get(0))
            .and_then(|r| r.get("response_range"))
            .cloned()
            .unwrap_or(Value::Null);
        let current = parse_kvs(&endpoint, path, &range)?.into_iter().next();
        Ok(Cas::Conflict { current })
    }

    /// Writes `value` at `key` in one transaction, only if the key is as `expect`ed and, with
    /// `unchanged`, nothing under that prefix changed since it was read.
    pub fn put_if(
        &self,
        key: &str,
        value: &[u8],
        expect: Expect,
        unchanged: Option<&PrefixUnchanged>,
    ) -> Result<Conditional, EtcdError> {
        let put = json!({"request_put": {"key": b64(key.as_bytes()), "value": b64(value)}});
        self.conditional(key, expect, unchanged, vec![put])
    }

    /// Deletes `key` in one transaction, only if it is as `expect`ed and, with `unchanged`,
    /// nothing under that prefix changed since it was read; the deletion also writes the
    /// prefix's guard key ([`PrefixUnchanged::guard_key`]), so that writers who read the prefix
    /// before it see it.
    pub fn delete_if(
        &self,
        key: &str,
        expect: Expect,
        unchanged: Option<&PrefixUnchanged>,
    ) -> Result<Conditional, EtcdError> {
        let mut operations = vec![json!({"request_delete_range": {"key": b64(key.as_bytes())}})];
        if let Some(unchanged) = unchanged {
            operations.push(json!({"request_put": {
                "key": b64(unchanged.guard_key().as_bytes()),
                "value": b64(format!("deleted {key}").as_bytes()),
            }}));
        }
        self.conditional(key, expect, unchanged, operations)
    }

    fn conditional(
        &self,
        key: &str,
        expect: Expect,
        unchanged: Option<&PrefixUnchanged>,
        operations: Vec<Value>,
    ) -> Result<Conditional, EtcdError> {
        let key64 = b64(key.as_bytes());
        let mut compare = Vec::new();
        match expect {
            Expect::Absent => compare.push(
                json!({"target": "CREATE", "key": key64, "result": "EQUAL", "create_revision": "0"}),
            ),
            Expect::ModRevision(revision) => compare.push(
                json!({"target": "MOD", "key": key64, "result": "EQUAL", "mod_revision": revision.to_string()}),
            ),
            Expect::Anything => {}
        }
        if let Some(unchanged) = unchanged {
            // Every key in the prefix (none counts as true) last changed at or before the read.
            let prefix = unchanged.prefix.as_bytes();
            compare.push(json!({
                "target": "MOD",
                "key": b64(prefix),
                "range_end": b64(&prefix_end(prefix)),
                "result": "LESS",
                "mod_revision": (unchanged.revision + 1).to_string(),
            }));
        }
        let body = json!({
            "compare": compare,
            "success": operations,
            "failure": [{"request_range": {"key": key64}}],
        });
        let path = "/v3/kv/txn";
        let (endpoint, answer) = self.call(path, &body)?;
        let revision = header_revision(&endpoint, path, &answer)?;
        if answer.get("succeeded").and_then(Value::as_bool) == Some(true) {
            return Ok(Conditional::Done { revision });
        }
        let range = answer
            .get("responses")
            .and_then(|r| r.get(0))
            .and_then(|r| r.get("response_range"))
            .cloned()
            .unwrap_or(Value::Null);
        let current = parse_kvs(&endpoint, path, &range)?.into_iter().next();
        let key_as_expected = match expect {
            Expect::Absent => current.is_none(),
            Expect::ModRevision(revision) => current
                .as_ref()
                .is_some_and(|kv| kv.mod_revision == revision),
            Expect::Anything => true,
        };
        Ok(if key_as_expected {
            Conditional::PrefixChanged { revision }
        } else {
            Conditional::KeyChanged { current }
        })
    }

    /// Asks etcd for its status (`/v3/maintenance/status`) within the probe timeout; returns
    /// the store's revision. A watch says nothing while nothing changes, so this is what tells
    /// a quiet etcd from a frozen one.
    pub fn probe(&self) -> Result<i64, EtcdError> {
        let started = std::time::Instant::now();
        match self.probe_once() {
            // A quick failure is a connection that died while idle (a restarted member), not
            // a member that does not answer: ask once more, on a new connection.
            Err(_) if started.elapsed() < self.options.probe_timeout / 2 => self.probe_once(),
            answer => answer,
        }
    }

    fn probe_once(&self) -> Result<i64, EtcdError> {
        let path = "/v3/maintenance/status";
        let (endpoint, response) = self.send(&self.probe_agent, path, &json!({}))?;
        let answer: Value = response
            .into_body()
            .with_config()
            .limit(64 * 1024)
            .read_json()
            .map_err(|error| EtcdError::Decode {
                endpoint: endpoint.clone(),
                path: path.to_owned(),
                message: error.to_string(),
            })?;
        header_revision(&endpoint, path, &answer)
    }

    /// Compacts the store's history up to `revision` (for operators and tests: watches from
    /// before it must start over from a full read).
    pub fn compact(&self, revision: i64) -> Result<(), EtcdError> {
        let body = json!({"revision": revision.to_string(), "physical": true});
        self.call("/v3/kv/compaction", &body).map(|_| ())
    }

    /// Opens a watch on every key under `prefix` from `start_revision` on. The stream yields
    /// messages until the connection ends (etcd stopped, or silent for the watch idle timeout).
    pub fn watch(&self, prefix: &str, start_revision: i64) -> Result<WatchStream, EtcdError> {
        let path = "/v3/watch";
        let body = json!({"create_request": {
            "key": b64(prefix.as_bytes()),
            "range_end": b64(&prefix_end(prefix.as_bytes())),
            "start_revision": start_revision.to_string(),
        }});
        let (endpoint, response) = self.send(&self.watch_agent, path, &body)?;
        Ok(WatchStream {
            endpoint,
            lines: BufReader::new(response.into_body().into_reader()),
        })
    }

    /// Calls `path` with `body` and reads the JSON answer.
    fn call(&self, path: &str, body: &Value) -> Result<(String, Value), EtcdError> {
        self.call_within(path, body, MAX_ANSWER_BYTES)
    }

    /// Calls `path` with `body` and reads the JSON answer, of at most `max_answer_bytes`.
    fn call_within(
        &self,
        path: &str,
        body: &Value,
        max_answer_bytes: u64,
    ) -> Result<(String, Value), EtcdError> {
        let (endpoint, response) = self.send(&self.agent, path, body)?;
        let text = response
            .into_body()
            .with_config()
            .limit(max_answer_bytes)
            .read_to_string()
            .map_err(|error| match error {
                ureq::Error::BodyExceedsLimit(_) => EtcdError::AnswerTooLarge {
                    endpoint: endpoint.clone(),
                    path: path.to_owned(),
                    max: max_answer_bytes,
                },
                error => EtcdError::Decode {
                    endpoint: endpoint.clone(),
                    path: path.to_owned(),
                    message: format!("cannot read the answer: {error}"),
                },
            })?;
        let value = serde_json::from_str(&text).map_err(|error| EtcdError::Decode {
            endpoint: endpoint.clone(),
            path: path.to_owned(),
            message: format!("not JSON: {error}"),
        })?;
        Ok((endpoint, value))
    }

    /// Sends `body` to `path`, failing over between endpoints on transport errors and on
    /// answers that say this member cannot serve (5xx). A 2xx answer is returned unread; any
    /// other answer is a [`EtcdError::Refused`] naming the endpoint.
    fn send(
        &self,
        agent: &ureq::Agent,
        path: &str,
        body: &Value,
    ) -> Result<(String, ureq::http::Response<ureq::Body>), EtcdError> {
        let count = self.options.endpoints.len();
        let first = self.preferred.load(Ordering::Relaxed) % count;
        let mut attempts = Vec::new();
        for offset in 0..count {
            let index = (first + offset) % count;
            let endpoint = &self.options.endpoints[index];
            match self.send_to(agent, endpoint, path, body) {
                Ok(response) => {
                    self.preferred.store(index, Ordering::Relaxed);
                    return Ok((endpoint.clone(), response));
                }
                Err(SendError::Transport(message)) => {
                    attempts.push(format!("{endpoint}: {message}"));
                }
                Err(SendError::Refused(error)) => return Err(error),
            }
        }
        Err(EtcdError::Unreachable {
            path: path.to_owned(),
            attempts: attempts.join("; "),
        })
    }

    fn send_to(
        &self,
        agent: &ureq::Agent,
        endpoint: &str,
        path: &str,
        body: &Value,
    ) -> Result<ureq::http::Response<ureq::Body>, SendError> {
        let mut retried_auth = false;
        loop {
            let token = self.token(endpoint)?;
            let mut request = agent.post(format!("{endpoint}{path}"));
            if let Some(token) = &token {
                request = request.header("Authorization", token);
            }
            let response = request
                .send_json(body)
                .map_err(|error| SendError::Transport(error.to_string()))?;
            let status = response.status().as_u16();
            if (200..300).contains(&status) {
                return Ok(response);
            }
            let message = error_message(response);
            // An expired or revoked token: authenticate again, once.
            if token.is_some() && !retried_auth && message.contains("token") {
                retried_auth = true;
                *self.token.lock().unwrap_or_else(|p| p.into_inner()) = None;
                continue;
            }
            let refused = EtcdError::Refused {
                endpoint: endpoint.to_owned(),
                path: path.to_owned(),
                status,
                message: message.clone(),
            };
            // 503 and 5xx: this member has no leader or is shutting down; another may serve.
            return Err(if status >= 500 {
                SendError::Transport(format!("answered {status}: {message}"))
            } else {
                SendError::Refused(refused)
            });
        }
    }

    /// The auth token when credentials are set, authenticating at `endpoint` if there is none.
    fn token(&self, endpoint: &str) -> Result<Option<String>, SendError> {
        let Some((name, password)) = &self.options.credentials else {
            return Ok(None);
        };
        let mut held = self.token.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(token) = held.as_ref() {
            return Ok(Some(token.clone()));
        }
        let path = "/v3/auth/authenticate";
        let response = self
            .agent
            .post(format!("{endpoint}{path}"))
            .send_json(json!({"name": name, "password": password}))
            .map_err(|error| SendError::Transport(error.to_string()))?;
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            let message = error_message(response);
            let refused = EtcdError::Refused {
                endpoint: endpoint.to_owned(),
                path: path.to_owned(),
                status,
                message: format!("cannot authenticate as `{name}`: {message}"),
            };
            return Err(if status >= 500 {
                SendError::Transport(refused.to_string())
            } else {
                SendError::Refused(refused)
            });
        }
        let decode = |message: String| {
            SendError::Refused(EtcdError::Decode {
                endpoint: endpoint.to_owned(),
                path: path.to_owned(),
                message,
            })
        };
        let answer: Value = response
            .into_body()
            .read_json()
            .map_err(|error| decode(error.to_string()))?;
        let token = answer
            .get("token")
            .and_then(Value::as_str)
            .ok_or_else(|| decode("no token in the answer".to_owned()))?
            .to_owned();
        *held = Some(token.clone());
        Ok(Some(token))
    }
}

enum SendError {
    /// Worth trying the next endpoint.
    Transport(String),
    /// The answer would be the same elsewhere.
    Refused(EtcdError),
}

/// etcd's error message from an error answer (`{"error": …, "message": …}`), or its text.
fn error_message(response: ureq::http::Response<ureq::Body>) -> String {
    let text = response
        .into_body()
        .with_config()
        .limit(64 * 1024)
        .read_to_string()
        .unwrap_or_default();
    serde_json::from_str::<Value>(&text)
        .ok()
        .and_then(|v| {
            v.get("message")
                .or_else(|| v.get("error"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .unwrap_or_else(|| text.chars().take(300).collect())
}

/// An open watch: one message per line of the answer.
pub struct WatchStream {
    endpoint: String,
    lines: BufReader<ureq::BodyReader<'static>>,
}

impl std::fmt::Debug for WatchStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WatchStream")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

/// One message of a watch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchMessage {
    /// The watch is open; `revision` is the store's revision then.
    Created {
        /// The store's revision.
        revision: i64,
    },
    /// Keys changed; `revision` is the newest change's revision.
    Changed {
        /// The highest `mod_revision` among the events.
        revision: i64,
        /// The changed keys.
        keys: Vec<String>,
    },
    /// Nothing changed, but the store is at `revision` (a progress notification).
    Progress {
        /// The store's revision.
        revision: i64,
    },
}

impl WatchStream {
    /// The endpoint the watch runs on.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The next message; `Ok(None)` when the connection ended (etcd stopped, or the watch was
    /// silent for the idle timeout), [`EtcdError::Compacted`] when the start revision is gone.
    pub fn next_message(&mut self) -> Result<Option<WatchMessage>, EtcdError> {
        let mut line = String::new();
        loop {
            line.clear();
            let read = (&mut self.lines)
                .take(MAX_ANSWER_BYTES)
                .read_line(&mut line);
            match read {
                Ok(0) | Err(_) => return Ok(None),
                Ok(_) if line.trim().is_empty() => continue,
                Ok(_) => break,
            }
        }
        let decode = |message: String| EtcdError::Decode {
            endpoint: self.endpoint.clone(),
            path: "/v3/watch".to_owned(),
            message,
        };
        let value: Value =
            serde_json::from_str(&line).map_err(|e| decode(format!("not JSON: {e}")))?;
        if let Some(error) = value.get("error") {
            return Err(decode(format!("watch failed: {error}")));
        }
        let result = value
            .get("result")
            .ok_or_else(|| decode("no `result` in a watch message".to_owned()))?;
        let compact = int(result.get("compact_revision"));
        if compact > 0 {
            return Err(EtcdError::Compacted {
                compact_revision: compact,
            });
        }
        let revision = int(result.get("header").and_then(|h| h.get("revision")));
        if result.get("canceled").and_then(Value::as_bool) == Some(true) {
            let reason = result
                .get("cancel_reason")
                .and_then(Value::as_str)
                .unwrap_or("no reason given");
            return Err(decode(format!("watch canceled: {reason}")));
        }
        if result.get("created").and_then(Value::as_bool) == Some(true) {
            return Ok(Some(WatchMessage::Created { revision }));
        }
        let events = result
            .get("events")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        if events.is_empty() {
            return Ok(Some(WatchMessage::Progress { revision }));
        }
        let mut newest = 0;
        let mut keys = Vec::new();
        for event in events {
            let kv = event.get("kv").unwrap_or(&Value::Null);
            newest = newest.max(int(kv.get("mod_revision")));
            keys.push(text_field(kv.get("key")));
        }
        Ok(Some(WatchMessage::Changed {
            revision: newest,
            keys,
        }))
    }
}

fn b64(bytes: &[u8]) -> String {
    BASE64.encode(bytes)
}

/// The end of the range of keys starting with `prefix`: the prefix with its last byte below
/// 0xff incremented (etcd's `clientv3.GetPrefixRangeEnd`).
fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    // Every byte was 0xff (or the prefix is empty): the range runs to the end of the keyspace.
    vec![0]
}

/// A 64-bit number as the JSON gateway writes it (a string), or 0 when absent.
fn int(value: Option<&Value>) -> i64 {
    match value {
        Some(Value::String(text)) => text.parse().unwrap_or(0),
        Some(Value::Number(number)) => number.as_i64().unwrap_or(0),
        _ => 0,
    }
}

/// A base64 field decoded as lossy text (for keys, which the gateway writes and reads as UTF-8).
fn text_field(value: Option<&Value>) -> String {
    String::from_utf8_lossy(&bytes_field(value)).into_owned()
}

fn bytes_field(value: Option<&Value>) -> Vec<u8> {
    value
        .and_then(Value::as_str)
        .and_then(|text| BASE64.decode(text).ok())
        .unwrap_or_default()
}

fn header_revision(endpoint: &str, path: &str, answer: &Value) -> Result<i64, EtcdError> {
    let revision = int(answer.get("header").and_then(|h| h.get("revision")));
    if revision <= 0 {
        return Err(EtcdError::Decode {
            endpoint: endpoint.to_owned(),
            path: path.to_owned(),
            message: "no header revision".to_owned(),
        });
    }
    Ok(revision)
}

fn parse_range(endpoint: &str, answer: &Value) -> Result<RangeResult, EtcdError> {
    let path = "/v3/kv/range";
    Ok(RangeResult {
        revision: header_revision(endpoint, path, answer)?,
        kvs: parse_kvs(endpoint, path, answer)?,
    })
}

fn parse_kvs(endpoint: &str, path: &str, answer: &Value) -> Result<Vec<KeyValue>, EtcdError> {
    let Some(kvs) = answer.get("kvs") else {
        // The gateway leaves empty fields out: no `kvs` means no keys.
        return Ok(Vec::new());
    };
    let kvs = kvs.as_array().ok_or_else(|| EtcdError::Decode {
        endpoint: endpoint.to_owned(),
        path: path.to_owned(),
        message: "`kvs` is not an array".to_owned(),
    })?;
    Ok(kvs
        .iter()
        .map(|kv| KeyValue {
            key: text_field(kv.get("key")),
            value: bytes_field(kv.get("value")),
            mod_revision: int(kv.get("mod_revision")),
            create_revision: int(kv.get("create_revision")),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_end_increments_the_last_byte_below_0xff() {
        assert_eq!(prefix_end(b"/a/"), b"/a0");
        assert_eq!(prefix_end(b"a\xff"), b"b");
        assert_eq!(prefix_end(b"\xff"), vec![0]);
    }

    #[test]
    fn numbers_come_as_strings_or_numbers_and_absent_is_zero() {
        assert_eq!(int(Some(&json!("42"))), 42);
        assert_eq!(int(Some(&json!(7))), 7);
        assert_eq!(int(None), 0);
    }

    #[test]
    fn endpoints_must_be_plain_http() {
        let error = EtcdClient::new(ClientOptions::new(&["https://10.0.0.1:2379"])).unwrap_err();
        assert!(
            error.to_string().contains("TLS is not supported yet"),
            "{error}"
        );
        let error = EtcdClient::new(ClientOptions::new(&[])).unwrap_err();
        assert!(error.to_string().contains("no endpoints"), "{error}");
    }

    #[test]
    fn range_answers_without_kvs_mean_no_keys() {
        let answer = json!({"header": {"revision": "9"}});
        let range = parse_range("http://e", &answer).unwrap();
        assert_eq!(
            range,
            RangeResult {
                revision: 9,
                kvs: vec![]
            }
        );
    }
}
