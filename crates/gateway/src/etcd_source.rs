//! Gray fragments from etcd (`[etcd]`): read at start, followed by a watch whose changes reload
//! through [`crate::reload`], a local last-good copy for starts during an outage, and
//! `gateway gray put/get`.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context as _, bail};
use fleet::{EtcdClient, FollowEvent, FragmentSet, HeldFragments};

use crate::reload::{LiveConfig, Trigger, reload};
use crate::settings::EtcdSettings;

/// The etcd fragment source of a running gateway: what gray's loads merge, and where it came from.
#[derive(Debug)]
pub(crate) struct EtcdSource {
    client: Arc<EtcdClient>,
    held: Arc<HeldFragments>,
    settings: EtcdSettings,
    /// Whether the fragments held came from the local copy rather than from etcd.
    from_copy: bool,
    /// Whether the instance still serves the local copy (etcd unreachable at start, or what it
    /// holds did not load): degraded until a set read from etcd loads.
    serving_copy: Arc<AtomicBool>,
    /// The most bytes the fragments may hold together: the config's total budget.
    max_bytes: u64,
}

/// A client for `[etcd]`; the password comes from the variable `etcd.password_env` names.
pub(crate) fn client(settings: &EtcdSettings) -> anyhow::Result<EtcdClient> {
    let mut options = fleet::ClientOptions::new(&[]);
    options.endpoints.clone_from(&settings.endpoints);
    options.dial_timeout = Duration::from_millis(settings.dial_timeout_ms);
    options.request_timeout = Duration::from_millis(settings.request_timeout_ms);
    options.watch_idle_timeout = Duration::from_millis(settings.watch_idle_timeout_ms);
    options.probe_timeout = Duration::from_millis(settings.probe_timeout_ms.max(1));
    if !settings.username.is_empty() {
        let password = std::env::var(&settings.password_env).with_context(|| {
            format!(
                "environment variable {} (config key etcd.password_env) must hold the password of etcd user `{}`",
                settings.password_env, settings.username
            )
        })?;
        options.credentials = Some((settings.username.clone(), password));
    }
    EtcdClient::new(options).context("invalid config key etcd.endpoints")
}

impl EtcdSource {
    /// Reads the fragments under `etcd.prefix`. When etcd cannot be reached, the local
    /// last-good copy stands in (and the watch re-reads etcd as soon as it answers); with no
    /// copy either, the start fails.
    pub(crate) fn connect(settings: &EtcdSettings, max_bytes: u64) -> anyhow::Result<EtcdSource> {
        let client = Arc::new(client(settings)?);
        let (set, from_copy) = match fleet::fetch_fragments(&client, &settings.prefix, max_bytes) {
            Ok(set) => (set, false),
            Err(error @ fleet::EtcdError::Unreachable { .. }) => {
                let copy = fleet::load_last_good(&settings.last_good_path)
                    .context("etcd is unreachable and its last-good copy cannot be read")?;
                let Some(set) = copy else {
                    bail!(
                        "cannot read gray fragments under {} from etcd, and there is no last-good copy at {} (config key etcd.last_good_path): {error}",
                        settings.prefix,
                        settings.last_good_path.display()
                    );
                };
                tracing::warn!(%error, copy = %settings.last_good_path.display(), revision = set.revision, "etcd is unreachable; starting from the last-good copy");
                (set, true)
            }
            Err(error) => {
                return Err(error).with_context(|| {
                    format!("cannot read gray fragments under {}", settings.prefix)
                });
            }
        };
        Ok(EtcdSource {
            client,
            held: Arc::new(HeldFragments::new(set)),
            settings: settings.clone(),
            from_copy,
            serving_copy: Arc::new(AtomicBool::new(from_copy)),
            max_bytes,
        })
    }

    /// Stands in the local last-good copy for fragments etcd answered with but that do not load
    /// (`why`), so an instance restarted while etcd holds something it cannot accept starts
    /// from what it served before, degraded. False when there is no copy.
    pub(crate) fn fall_back_to_copy(&mut self, why: &anyhow::Error) -> anyhow::Result<bool> {
        let Some(copy) = fleet::load_last_good(&self.settings.last_good_path)
            .context("etcd's fragments do not load and the last-good copy cannot be read")?
        else {
            return Ok(false);
        };
        tracing::warn!(
            error = format!("{why:#}"),
            copy = %self.settings.last_good_path.display(),
            revision = copy.revision,
            "the gray fragments in etcd do not load; starting from the last-good copy, degraded"
        );
        self.held.set(copy);
        self.from_copy = true;
        self.serving_copy.store(true, Ordering::Relaxed);
        Ok(true)
    }

    /// What every gray load merges after `gray/*.toml`.
    pub(crate) fn fragment_source(&self) -> Arc<dyn gray::FragmentSource> {
        Arc::clone(&self.held) as Arc<dyn gray::FragmentSource>
    }

    /// Keeps the local copy of what was just loaded successfully (read freshly from etcd).
    pub(crate) fn loaded(&self) {
        if !self.from_copy {
            save_copy(&self.settings.last_good_path, &self.held.get());
        }
    }

    /// Starts following etcd on a thread of its own: every settled change swaps the fragments in
    /// and reloads like `POST /config/reload`; outages set `config_source_up` to 0 (and `/readyz`
    /// to `degraded`) and are retried with backoff. Following stops when the handle is dropped.
    pub(crate) fn follow(self, live: LiveConfig) -> anyhow::Result<Following> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        live.metrics
            .config_source_up
            .set(if self.from_copy { 0 } else { 1 });
        let mut options = fleet::FollowOptions::new(&self.settings.prefix);
        options.settle = Duration::from_millis(self.settings.settle_ms);
        options.retry_min = Duration::from_millis(self.settings.retry_min_ms);
        options.retry_max = Duration::from_millis(self.settings.retry_max_ms);
        options.probe_interval = Duration::from_millis(self.settings.probe_interval_ms);
        options.max_bytes = self.max_bytes;
        let start = self.held.get().revision;
        let thread = std::thread::Builder::new()
            .name("etcd-follow".to_owned())
            .spawn(move || {
                let client = Arc::clone(&self.client);
                fleet::follow(client, &options, start, self.from_copy, &flag, |event| {
                    self.on_event(&live, event);
                });
            })
            .context("cannot start the etcd follower thread")?;
        Ok(Following {
            stop,
            thread: Some(thread),
        })
    }

    fn on_event(&self, live: &LiveConfig, event: FollowEvent) {
        let prefix = self.settings.prefix.as_str();
        match event {
            FollowEvent::Fetched(set) => {
                let revision = set.revision;
                let previous = self.held.get();
                self.held.set(set);
                // A rejected reload is logged with the fragment's key and counted by `reload`;
                // the previous snapshot keeps serving, and so does the set it was loaded from.
                if reload(live, Trigger::Etcd).is_ok() {
                    save_copy(&self.settings.last_good_path, &self.held.get());
                    self.serving_copy.store(false, Ordering::Relaxed);
                    live.metrics.config_source_up.set(1);
                    tracing::info!(prefix, revision, "gray fragments from etcd applied");
                } else {
                    self.held.set((*previous).clone());
                    if self.serving_copy.load(Ordering::Relaxed) {
                        // Still on the last-good copy: etcd answers, but with nothing this
                        // instance can serve, so it stays degraded.
                        tracing::warn!(
                            prefix,
                            revision,
                            "the gray fragments in etcd still do not load; serving the last-good copy, degraded"
                        );
                    } else {
                        live.metrics.config_source_up.set(1);
                    }
                }
            }
            FollowEvent::Up => {
                if !self.serving_copy.load(Ordering::Relaxed) {
                    live.metrics.config_source_up.set(1);
                }
                tracing::info!(prefix, "etcd answers again");
            }
            // Debug: a quiet watch is reopened at every idle timeout (`etcd.watch_idle_timeout_ms`).
            FollowEvent::Watching { from_revision } => {
                tracing::debug!(prefix, from_revision, "watching etcd for changes");
            }
            FollowEvent::Down { error, retry_in } => {
                live.metrics.config_source_up.set(0);
                tracing::warn!(prefix, %error, retry_in_ms = retry_in.as_millis() as u64, "etcd unreachable; the last good config keeps serving");
            }
            FollowEvent::Compacted { compact_revision } => {
                tracing::info!(
                    prefix,
                    compact_revision,
                    "etcd compacted past the watch; reading every fragment again"
                );
            }
            FollowEvent::Rejected(error) => {
                live.metrics.record_reload(false);
                tracing::warn!(prefix, %error, "etcd fragments rejected; the previous config keeps serving");
            }
            other => tracing::debug!(?other, "etcd follow event"),
        }
    }
}

fn save_copy(path: &Path, set: &FragmentSet) {
    if let Err(error) = fleet::save_last_good(path, set) {
        tracing::warn!(%error, "cannot write the last-good copy of the etcd fragments");
    }
}

/// A running follower; dropping it stops it.
#[derive(Debug)]
pub(crate) struct Following {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Following {
    fn drop(&mut self) {
        // Not joined: the follower may be inside an etcd call (up to `etcd.request_timeout_ms`),
        // and shutdown must not wait for it. It sees the flag at its next step.
        self.stop.store(true, Ordering::Relaxed);
        drop(self.thread.take());
    }
}

/// How often a write is checked and tried again when another fragment under the prefix changed
/// while it was being checked.
const WRITE_ATTEMPTS: usize = 5;

/// `gateway gray put NAME FILE`: checks the fragment like a reload would (with this gateway's
/// files and the other etcd fragments), then writes it to `PREFIX/NAME` in one transaction that
/// holds only if the key is as `expect`ed (absent, at a revision, or anything for `--force`) and
/// nothing under the prefix changed since the set was read: two writers can never together
/// produce a set neither of them checked.
pub(crate) fn put(
    settings: &EtcdSettings,
    options: &gray::LoadOptions,
    name: &str,
    file: &Path,
    expect: fleet::Expect,
) -> anyhow::Result<String> {
    let key = fragment_key(settings, name)?;
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("cannot read fragment file {}", file.display()))?;
    let client = client(settings)?;
    write_checked(settings, options, &client, &key, expect, |set| {
        set.fragments.push(gray::Fragment {
            name: format!("etcd:{key}@(new)"),
            text: text.clone(),
        });
        set.fragments.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(())
    })
}

/// `gateway gray delete NAME`: checks the other fragments without this one (with this
/// gateway's files), then deletes `PREFIX/NAME` in one transaction that holds only if the key
/// is as `expect`ed and nothing under the prefix changed since the set was read.
pub(crate) fn delete(
    settings: &EtcdSettings,
    options: &gray::LoadOptions,
    name: &str,
    expect: fleet::Expect,
) -> anyhow::Result<String> {
    let key = fragment_key(settings, name)?;
    let client = client(settings)?;
    write_checked(settings, options, &client, &key, expect, |set| {
        if set.fragments.len() == set.fragments_before {
            bail!("etcd key {key} does not exist");
        }
        Ok(())
    })
}

/// A fragment set being changed by one write: the others as read, and how many there were with
/// the key itself.
struct Changing {
    fragments: Vec<gray::Fragment>,
    fragments_before: usize,
}

/// Reads the prefix, takes the key out of the set, lets `change` put what the write leaves
/// there, checks the set like a reload would, and writes it: a put when the set holds a
/// fragment for the key, else a delete. Tried again (read, check, write) when another key under
/// the prefix changed in between.
fn write_checked(
    settings: &EtcdSettings,
    options: &gray::LoadOptions,
    client: &EtcdClient,
    key: &str,
    expect: fleet::Expect,
    change: impl Fn(&mut Changing) -> anyhow::Result<()>,
) -> anyhow::Result<String> {
    let own = format!("etcd:{key}@");
    for _ in 0..WRITE_ATTEMPTS {
        let set = fleet::fetch_fragments(client, &settings.prefix, options.limits.max_total_bytes)
            .with_context(|| format!("cannot read the fragments under {}", settings.prefix))?;
        let before = set.fragments.len();
        let mut changing = Changing {
            fragments: set
                .fragments
                .into_iter()
                .filter(|f| !f.name.starts_with(&own))
                .collect(),
            fragments_before: before,
        };
        change(&mut changing)?;
        let written = changing
            .fragments
            .iter()
            .find(|f| f.name.starts_with(&own))
            .map(|f| f.text.clone());
        let checked = options
            .clone()
            .with_var(&options.gray_switch_var, "true")
            .with_fragment_source(Arc::new(HeldFragments::new(fleet::FragmentSet {
                revision: set.revision,
                fragments: changing.fragments,
            })));
        gray::load(&checked).with_context(|| match written {
            Some(_) => format!(
                "fragment etcd:{key} is not valid with the config files and the fragments under {}; nothing was written",
                settings.prefix
            ),
            None => format!(
                "the config files and the fragments under {} are not valid without etcd:{key}; nothing was deleted",
                settings.prefix
            ),
        })?;
        let unchanged = fleet::PrefixUnchanged {
            prefix: settings.prefix.clone(),
            revision: set.revision,
        };
        let outcome = match &written {
            Some(text) => client.put_if(key, text.as_bytes(), expect, Some(&unchanged)),
            None => client.delete_if(key, expect, Some(&unchanged)),
        }
        .with_context(|| format!("cannot write etcd key {key}"))?;
        match outcome {
            fleet::Conditional::Done { revision } => {
                return Ok(match written {
                    Some(_) => format!("{key}@{revision}\n"),
                    None => format!("{key} deleted at revision {revision}\n"),
                });
            }
            fleet::Conditional::KeyChanged { current } => bail!(conflict(key, expect, current)),
            // Another fragment changed while this one was checked: check again with it.
            fleet::Conditional::PrefixChanged { .. } => {}
        }
    }
    bail!(
        "the fragments under {} kept changing while etcd key {key} was checked ({WRITE_ATTEMPTS} attempts); nothing was written",
        settings.prefix
    )
}

/// Why a write's expectation of its key failed, and what to do.
fn conflict(key: &str, expect: fleet::Expect, current: Option<fleet::KeyValue>) -> String {
    match (expect, current) {
        (fleet::Expect::Absent, Some(kv)) => format!(
            "etcd key {key} exists (revision {}); nothing was written: `gray get` it, then put with --expect-revision {} to replace that revision, or --force",
            kv.mod_revision, kv.mod_revision
        ),
        (fleet::Expect::ModRevision(expected), Some(kv)) => format!(
            "etcd key {key} is at revision {}, not {expected}: someone changed it since it was read; nothing was written (`gray get` it again)",
            kv.mod_revision
        ),
        (fleet::Expect::ModRevision(expected), None) => format!(
            "etcd key {key} does not exist (expected revision {expected}); nothing was written"
        ),
        (_, current) => format!(
            "etcd key {key} is not as expected (now {}); nothing was written",
            current.map_or_else(
                || "absent".to_owned(),
                |kv| format!("at revision {}", kv.mod_revision)
            )
        ),
    }
}

/// `gateway gray get NAME`: the fragment's text as etcd holds it, and its revision (which
/// `gray put --expect-revision` and `gray delete --expect-revision` take).
pub(crate) fn get(settings: &EtcdSettings, name: &str) -> anyhow::Result<(String, i64)> {
    let key = fragment_key(settings, name)?;
    let kv = client(settings)?
        .get(&key)
        .with_context(|| format!("cannot read etcd key {key}"))?
        .with_context(|| format!("etcd key {key} does not exist"))?;
    let text = String::from_utf8(kv.value)
        .with_context(|| format!("etcd key {key} does not hold UTF-8 text"))?;
    Ok((text, kv.mod_revision))
}

/// `PREFIX/NAME`, for a fragment name ending in `.toml` with no `/`.
fn fragment_key(settings: &EtcdSettings, name: &str) -> anyhow::Result<String> {
    if settings.endpoints.is_empty() {
        bail!("no etcd configured (config key etcd.endpoints is empty)");
    }
    if !name.ends_with(".toml") || name.contains('/') || name.starts_with('.') {
        bail!("fragment name `{name}` must end in .toml and hold no `/` (e.g. billing-v2.toml)");
    }
    Ok(format!("{}{name}", settings.prefix))
}

/// `options` with the etcd fragments `[etcd]` names (read from the files), if any.
pub(crate) fn with_etcd(options: gray::LoadOptions) -> anyhow::Result<gray::LoadOptions> {
    let settings = file_settings(&options)?;
    if settings.etcd.endpoints.is_empty() {
        return Ok(options);
    }
    let source = EtcdSource::connect(&settings.etcd, options.limits.max_total_bytes)?;
    Ok(options.with_fragment_source(source.fragment_source()))
}

/// The gateway's settings from the config files alone.
fn file_settings(options: &gray::LoadOptions) -> anyhow::Result<crate::settings::Settings> {
    crate::config::settings(&crate::config::load(options)?)
}

/// What `--expect-revision` and `--force` ask of the key; neither: that it does not exist.
fn expectation(args: &crate::cli::Expectation) -> fleet::Expect {
    match (args.expect_revision, args.force) {
        (Some(revision), _) => fleet::Expect::ModRevision(revision),
        (None, true) => fleet::Expect::Anything,
        (None, false) => fleet::Expect::Absent,
    }
}

/// `gateway gray put NAME FILE`.
pub(crate) fn put_command(args: &crate::cli::GrayPutArgs) -> anyhow::Result<String> {
    let options = crate::config::load_options(&args.config);
    let settings = file_settings(&options)?;
    put(
        &settings.etcd,
        &options,
        &args.name,
        &args.file,
        expectation(&args.expect),
    )
}

/// `gateway gray delete NAME`.
pub(crate) fn delete_command(args: &crate::cli::GrayDeleteArgs) -> anyhow::Result<String> {
    let options = crate::config::load_options(&args.config);
    let settings = file_settings(&options)?;
    delete(
        &settings.etcd,
        &options,
        &args.name,
        expectation(&args.expect),
    )
}

/// `gateway gray get NAME`: the text on stdout, `KEY@REVISION` on stderr.
pub(crate) fn get_command(args: &crate::cli::GrayGetArgs) -> anyhow::Result<String> {
    let options = crate::config::load_options(&args.config);
    let settings = file_settings(&options)?;
    let (text, revision) = get(&settings.etcd, &args.name)?;
    eprintln!("{}{}@{revision}", settings.etcd.prefix, args.name);
    Ok(text)
}
