//! Gray fragments from etcd (`[etcd]`): read at start, followed by a watch whose changes reload
//! through [`crate::reload`], a local last-good copy for starts during an outage, and
//! `gateway gray put/get`.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context as _, bail};
use fleet::{EtcdClient, FollowEvent, FragmentSet, HeldFragments};

use crate::reload::{Trigger, reload};
use crate::settings::EtcdSettings;
use crate::state::AppState;

/// The etcd fragment source of a running gateway: what gray's loads merge, and where it came from.
#[derive(Debug)]
pub(crate) struct EtcdSource {
    client: Arc<EtcdClient>,
    held: Arc<HeldFragments>,
    settings: EtcdSettings,
    /// Whether the fragments held came from the local copy rather than from etcd.
    from_copy: bool,
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
            max_bytes,
        })
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
    pub(crate) fn follow(self, state: AppState) -> anyhow::Result<Following> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        state
            .metrics
            .config_source_up
            .set(if self.from_copy { 0 } else { 1 });
        let mut options = fleet::FollowOptions::new(&self.settings.prefix);
        options.settle = Duration::from_millis(self.settings.settle_ms);
        options.retry_min = Duration::from_millis(self.settings.retry_min_ms);
        options.retry_max = Duration::from_millis(self.settings.retry_max_ms);
        options.max_bytes = self.max_bytes;
        let start = self.held.get().revision;
        let thread = std::thread::Builder::new()
            .name("etcd-follow".to_owned())
            .spawn(move || {
                let client = Arc::clone(&self.client);
                fleet::follow(client, &options, start, self.from_copy, &flag, |event| {
                    self.on_event(&state, event);
                });
            })
            .context("cannot start the etcd follower thread")?;
        Ok(Following {
            stop,
            thread: Some(thread),
        })
    }

    fn on_event(&self, state: &AppState, event: FollowEvent) {
        let prefix = self.settings.prefix.as_str();
        match event {
            FollowEvent::Fetched(set) => {
                let revision = set.revision;
                self.held.set(set);
                state.metrics.config_source_up.set(1);
                // A rejected reload is logged with the fragment's key and counted by `reload`;
                // the previous snapshot keeps serving.
                if reload(state, Trigger::Etcd).is_ok() {
                    tracing::info!(prefix, revision, "gray fragments from etcd applied");
                    save_copy(&self.settings.last_good_path, &self.held.get());
                }
            }
            FollowEvent::Up => {
                state.metrics.config_source_up.set(1);
                tracing::info!(prefix, "etcd answers again");
            }
            FollowEvent::Down { error, retry_in } => {
                state.metrics.config_source_up.set(0);
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
                state.metrics.record_reload(false);
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

/// `gateway gray put NAME FILE`: checks the fragment like a reload would (with this gateway's
/// files and the other etcd fragments), then writes it to `PREFIX/NAME` with a compare-and-swap
/// on the revision it read, so a concurrent writer is never overwritten silently.
pub(crate) fn put(
    settings: &EtcdSettings,
    options: &gray::LoadOptions,
    name: &str,
    file: &Path,
) -> anyhow::Result<String> {
    let key = fragment_key(settings, name)?;
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("cannot read fragment file {}", file.display()))?;
    let client = client(settings)?;
    let mut set = fleet::fetch_fragments(&client, &settings.prefix, options.limits.max_total_bytes)
        .with_context(|| format!("cannot read the fragments under {}", settings.prefix))?;
    let current = client
        .get(&key)
        .with_context(|| format!("cannot read etcd key {key}"))?;
    let expected = current.as_ref().map_or(0, |kv| kv.mod_revision);
    let shown = format!("etcd:{key}@(new)");
    set.fragments
        .retain(|f| !f.name.starts_with(&format!("etcd:{key}@")));
    set.fragments.push(gray::Fragment {
        name: shown,
        text: text.clone(),
    });
    set.fragments.sort_by(|a, b| a.name.cmp(&b.name));
    let options = options
        .clone()
        .with_var(&options.gray_switch_var, "true")
        .with_fragment_source(Arc::new(HeldFragments::new(set)));
    gray::load(&options).with_context(|| format!("fragment {} is not valid", file.display()))?;
    match client
        .compare_and_swap(&key, expected, text.as_bytes())
        .with_context(|| format!("cannot write etcd key {key}"))?
    {
        fleet::Cas::Swapped { mod_revision } => Ok(format!("{key}@{mod_revision}\n")),
        fleet::Cas::Conflict { current } => bail!(
            "etcd key {key} changed while it was being written (now at revision {}); nothing was written",
            current.map_or(0, |kv| kv.mod_revision)
        ),
    }
}

/// `gateway gray get NAME`: the fragment's text as etcd holds it.
pub(crate) fn get(settings: &EtcdSettings, name: &str) -> anyhow::Result<String> {
    let key = fragment_key(settings, name)?;
    let kv = client(settings)?
        .get(&key)
        .with_context(|| format!("cannot read etcd key {key}"))?
        .with_context(|| format!("etcd key {key} does not exist"))?;
    String::from_utf8(kv.value).with_context(|| format!("etcd key {key} does not hold UTF-8 text"))
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
    let snapshot = gray::load(options)
        .with_context(|| format!("cannot load config from {}", options.dir.display()))?;
    crate::commands::settings(&snapshot)
}

/// `gateway gray put NAME FILE`.
pub(crate) fn put_command(args: &crate::cli::GrayPutArgs) -> anyhow::Result<String> {
    let options = crate::commands::load_options(&args.config);
    let settings = file_settings(&options)?;
    put(&settings.etcd, &options, &args.name, &args.file)
}

/// `gateway gray get NAME`.
pub(crate) fn get_command(args: &crate::cli::GrayGetArgs) -> anyhow::Result<String> {
    let options = crate::commands::load_options(&args.config);
    get(&file_settings(&options)?.etcd, &args.name)
}
