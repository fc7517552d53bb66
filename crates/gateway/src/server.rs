//! Binding, serving and graceful shutdown, with connection hygiene: a header-read timeout, an
//! idle keep-alive timeout, a cap on concurrent connections per listener, and a shutdown deadline.
//!
//! The accept loop is our own (hyper's HTTP/1 connection builder under axum's `Router`) rather
//! than `axum::serve`, which has no header-read or idle timeout and no connection cap: with it, a
//! few thousand slowloris connections exhaust the process's file descriptors and refuse every
//! new client.
//!
//! The admin listener is small and must answer probes and operators under attack, so it has
//! limits of its own ([`ConnectionLimits::admin`]): a short header-read timeout, and at its cap
//! it closes the oldest connection that has no request in flight (one still sending its header,
//! or an idle keep-alive) to serve the new one, instead of leaving the new one in the backlog
//! behind connections that send nothing.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::io::Write as _;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use axum::Router;
use axum::body::Body;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, watch};
use tower::ServiceExt as _;

use crate::settings::ServerSettings;

/// Binds `addr` and returns the listener with the address actually bound (port 0 picks one).
pub(crate) async fn bind(addr: SocketAddr) -> anyhow::Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let bound = listener
        .local_addr()
        .with_context(|| format!("cannot read the address bound for {addr}"))?;
    Ok((listener, bound))
}

/// How one listener treats its connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ConnectionLimits {
    /// A client must send a request's whole header within this time (from the connection's
    /// start, or from the first byte of a later request on a kept-alive connection).
    pub(crate) header_read_timeout: Duration,
    /// A kept-alive connection with no request in flight is closed after this time.
    pub(crate) idle_timeout: Duration,
    /// The most connections open at once on the listener.
    pub(crate) max_connections: usize,
    /// What a new connection meets at the cap.
    pub(crate) at_cap: AtCap,
}

/// What a listener at its connection cap does with a new connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AtCap {
    /// It waits in the kernel's backlog until a connection closes.
    Wait,
    /// The oldest connection without a request in flight (still sending its header, or idle
    /// between requests) is closed, and the new one served. Only when every connection has a
    /// request in flight does the new one wait.
    CloseOldestIdle,
}

/// The admin listener's connection cap.
pub(crate) const ADMIN_MAX_CONNECTIONS: usize = 64;
/// The admin listener's longest header-read timeout: its clients (probes, Prometheus, an
/// operator's curl) send a header at once, so a slow one is an attack or a fault.
pub(crate) const ADMIN_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(2);

impl ConnectionLimits {
    /// The API listener's limits, as `[server]` configures them, with the connection cap kept
    /// below `fd_limit`.
    pub(crate) fn api(server: &ServerSettings, fd_limit: Option<u64>) -> Self {
        // Leave room for the database, config files, the admin listener and logs.
        let reserve = 128;
        let max_connections = match fd_limit {
            Some(limit) => server
                .max_connections
                .min(usize::try_from(limit.saturating_sub(reserve)).unwrap_or(usize::MAX))
                .max(1),
            None => server.max_connections.max(1),
        };
        Self {
            header_read_timeout: Duration::from_millis(server.header_read_timeout_ms),
            idle_timeout: Duration::from_millis(server.idle_timeout_ms),
            max_connections,
            at_cap: AtCap::Wait,
        }
    }

    /// The admin listener's limits: a cap of its own ([`ADMIN_MAX_CONNECTIONS`]), so an API
    /// flood never locks operators out; a header-read timeout of at most
    /// [`ADMIN_HEADER_READ_TIMEOUT`] (shorter than the API's unless the API's is shorter still);
    /// and at the cap the oldest connection without a request in flight makes way, so probes
    /// never wait behind connections that send nothing.
    pub(crate) fn admin(server: &ServerSettings) -> Self {
        Self {
            header_read_timeout: Duration::from_millis(server.header_read_timeout_ms)
                .min(ADMIN_HEADER_READ_TIMEOUT),
            idle_timeout: Duration::from_millis(server.idle_timeout_ms),
            max_connections: ADMIN_MAX_CONNECTIONS,
            at_cap: AtCap::CloseOldestIdle,
        }
    }
}

/// Raises the soft open-file limit to the hard limit and returns the limit in force, so the
/// connection cap can sit below it. Logs what it did; failure only logs.
pub(crate) fn raise_fd_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        use rustix::process::{Resource, getrlimit, setrlimit};
        let limit = getrlimit(Resource::Nofile);
        let (Some(current), hard) = (limit.current, limit.maximum) else {
            return None;
        };
        let target = hard.unwrap_or(current);
        if target > current {
            let raised = rustix::process::Rlimit {
                current: Some(target),
                maximum: hard,
            };
            match setrlimit(Resource::Nofile, raised) {
                Ok(()) => {
                    tracing::info!(from = current, to = target, "raised the open-file limit");
                    return Some(target);
                }
                Err(error) => {
                    tracing::warn!(%error, limit = current, "cannot raise the open-file limit");
                }
            }
        } else {
            tracing::info!(limit = current, "open-file limit");
        }
        Some(current)
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// One listener and what it serves.
pub(crate) struct Listener {
    /// The bound socket.
    pub(crate) socket: TcpListener,
    /// The address it is bound to.
    pub(crate) bound: SocketAddr,
    /// What it serves.
    pub(crate) app: Router,
    /// `api` or `admin`, for logs and the `… listening on ADDR` line.
    pub(crate) name: &'static str,
    /// How it treats its connections.
    pub(crate) limits: ConnectionLimits,
}

/// Serves every listener until `shutdown` resolves (SIGTERM or Ctrl-C in `gateway serve`); then
/// stops accepting, lets requests in flight finish and closes idle connections, and returns once
/// every connection is closed or `shutdown_timeout` has passed, whichever is first.
///
/// Each bound address is printed on stdout as `gateway listening on ADDR` (the API) or
/// `gateway admin listening on ADDR`, so a supervisor (or a test that asked for port 0) can read
/// it.
pub(crate) async fn serve(
    listeners: Vec<Listener>,
    shutdown_timeout: Duration,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let (stop, stopped) = watch::channel(false);
    let mut loops = Vec::new();
    let mut caps = Vec::new();
    {
        let mut stdout = std::io::stdout().lock();
        for listener in &listeners {
            tracing::info!(bound = %listener.bound, listener = listener.name, max_connections = listener.limits.max_connections, "gateway listening");
            let line = match listener.name {
                "api" => format!("gateway listening on {}", listener.bound),
                other => format!("gateway {other} listening on {}", listener.bound),
            };
            writeln!(stdout, "{line}")
                .and_then(|()| stdout.flush())
                .context("cannot write the bound address to stdout")?;
        }
    }
    for listener in listeners {
        let max = listener.limits.max_connections;
        let cap = Arc::new(Semaphore::new(max));
        caps.push((Arc::clone(&cap), max));
        loops.push(tokio::spawn(accept_loop(listener, cap, stopped.clone())));
    }
    shutdown.await;
    let _ = stop.send(true);
    for accept in loops {
        let _ = accept.await;
    }
    // Every connection holds a permit of its listener's cap until it closes.
    let drained = async {
        for (cap, max) in &caps {
            let _ = cap
                .acquire_many(u32::try_from(*max).unwrap_or(u32::MAX))
                .await;
        }
    };
    match tokio::time::timeout(shutdown_timeout, drained).await {
        Ok(()) => tracing::info!("gateway stopped"),
        Err(_) => tracing::warn!(
            timeout_ms = u64::try_from(shutdown_timeout.as_millis()).unwrap_or(u64::MAX),
            "shutdown deadline passed; dropping the connections still open"
        ),
    }
    Ok(())
}

async fn accept_loop(listener: Listener, cap: Arc<Semaphore>, mut stopped: watch::Receiver<bool>) {
    let limits = listener.limits;
    // Only a listener that closes idle connections at its cap needs to know them.
    let open =
        (limits.at_cap == AtCap::CloseOldestIdle).then(|| Arc::new(OpenConnections::default()));
    loop {
        // A waiting listener takes its slot before it accepts, so clients over the cap stay in
        // the kernel's backlog; the other accepts first and makes room.
        let reserved = match limits.at_cap {
            AtCap::Wait => match acquire(&cap, &mut stopped).await {
                Some(permit) => Some(permit),
                None => return,
            },
            AtCap::CloseOldestIdle => None,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.socket.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors or a connection reset before accept: back off
                    // briefly instead of spinning, then try again.
                    tracing::warn!(%error, listener = listener.name, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = until_stopped(&mut stopped) => return,
        };
        let permit = match reserved {
            Some(permit) => permit,
            None => match Arc::clone(&cap).try_acquire_owned() {
                Ok(permit) => permit,
                Err(_) => {
                    // At the cap: the oldest connection without a request in flight closes and
                    // its slot comes back as its task ends. When every connection has a request
                    // in flight, the new one waits for the first to finish.
                    if let Some(open) = &open
                        && !open.close_oldest_idle()
                    {
                        tracing::warn!(
                            listener = listener.name,
                            "every connection has a request in flight; a new one waits"
                        );
                    }
                    match acquire(&cap, &mut stopped).await {
                        Some(permit) => permit,
                        None => return,
                    }
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let app = listener.app.clone();
        let stopped = stopped.clone();
        let registration = open.as_ref().map(|open| open.register());
        tokio::spawn(async move {
            serve_connection(stream, peer, app, limits, stopped, registration).await;
            drop(permit);
        });
    }
}

/// A slot of `cap`, or `None` once shutdown has begun.
async fn acquire(
    cap: &Arc<Semaphore>,
    stopped: &mut watch::Receiver<bool>,
) -> Option<OwnedSemaphorePermit> {
    tokio::select! {
        permit = Arc::clone(cap).acquire_owned() => permit.ok(),
        () = until_stopped(stopped) => None,
    }
}

/// The open connections of a listener that closes idle ones at its cap, oldest first.
#[derive(Debug, Default)]
struct OpenConnections {
    next_id: AtomicU64,
    connections: Mutex<HashMap<u64, Arc<OpenConnection>>>,
}

/// One open connection, as [`OpenConnections`] sees it.
#[derive(Debug)]
struct OpenConnection {
    id: u64,
    activity: Arc<Activity>,
    /// Set once it was chosen to close, so it is not chosen twice.
    closing: AtomicBool,
    /// Wakes the connection's task to close it.
    close: Notify,
}

/// A connection's entry in [`OpenConnections`], removed when the connection ends.
struct Registration {
    open: Arc<OpenConnections>,
    connection: Arc<OpenConnection>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.open.lock().remove(&self.connection.id);
    }
}

impl OpenConnections {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<OpenConnection>>> {
        // Entries are inserted and removed whole, so a panic elsewhere cannot leave one half
        // written.
        self.connections
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Records a new connection; ids grow, so the smallest is the oldest.
    fn register(self: &Arc<Self>) -> Registration {
        let connection = Arc::new(OpenConnection {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            activity: Arc::new(Activity {
                started: Instant::now(),
                in_flight: AtomicUsize::new(0),
                last_done_ms: AtomicU64::new(0),
            }),
            closing: AtomicBool::new(false),
            close: Notify::new(),
        });
        self.lock().insert(connection.id, Arc::clone(&connection));
        Registration {
            open: Arc::clone(self),
            connection,
        }
    }

    /// Tells the oldest connection without a request in flight to close; `false` when every
    /// connection has one.
    fn close_oldest_idle(&self) -> bool {
        let oldest = self
            .lock()
            .values()
            .filter(|c| !c.closing.load(Ordering::Acquire) && c.activity.idle_for().is_some())
            .min_by_key(|c| c.id)
            .cloned();
        let Some(oldest) = oldest else { return false };
        oldest.closing.store(true, Ordering::Release);
        // `notify_one` keeps the wake-up if the task is not waiting yet.
        oldest.close.notify_one();
        true
    }
}

/// The most header fields hyper parses; above `crate::app::MAX_HEADERS` the service answers 431 with
/// a JSON body, above this hyper answers 431 itself (with an empty body).
pub(crate) const PARSED_HEADERS: usize = 200;

/// When a connection last finished a request, and how many it has in flight.
#[derive(Debug)]
struct Activity {
    started: Instant,
    in_flight: AtomicUsize,
    /// Milliseconds since `started` when the last request finished.
    last_done_ms: AtomicU64,
}

impl Activity {
    fn idle_for(&self) -> Option<Duration> {
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return None;
        }
        let last = Duration::from_millis(self.last_done_ms.load(Ordering::Acquire));
        Some(self.started.elapsed().saturating_sub(last))
    }
}

/// Counts a request in flight for as long as it lives.
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let done = u64::try_from(self.0.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.0.last_done_ms.store(done, Ordering::Release);
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

async fn serve_connection(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    app: Router,
    limits: ConnectionLimits,
    mut stopped: watch::Receiver<bool>,
    registration: Option<Registration>,
) {
    let activity = match &registration {
        Some(registration) => Arc::clone(&registration.connection.activity),
        None => Arc::new(Activity {
            started: Instant::now(),
            in_flight: AtomicUsize::new(0),
            last_done_ms: AtomicU64::new(0),
        }),
    };
    let close = async {
        match &registration {
            Some(registration) => registration.connection.close.notified().await,
            None => std::future::pending().await,
        }
    };
    let mut close = pin!(close);
    let tracked = Arc::clone(&activity);
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        tracked.in_flight.fetch_add(1, Ordering::AcqRel);
        let in_flight = InFlight(Arc::clone(&tracked));
        request
            .extensions_mut()
            .insert(axum::extract::ConnectInfo(peer));
        let app = app.clone();
        async move {
            let response = app.oneshot(request.map(Body::new)).await;
            drop(in_flight);
            response.map_err(|never: Infallible| match never {})
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_headers(PARSED_HEADERS)
        .keep_alive(true);
    let mut connection = pin!(builder.serve_connection(TokioIo::new(stream), service));
    let mut closing = false;
    loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(error) = result {
                    tracing::debug!(%error, %peer, "connection ended with an error");
                }
                return;
            }
            () = until_stopped(&mut stopped), if !closing => {
                connection.as_mut().graceful_shutdown();
                closing = true;
            }
            () = idle(&activity, limits.idle_timeout), if !closing => {
                tracing::debug!(%peer, "closing an idle connection");
                connection.as_mut().graceful_shutdown();
                closing = true;
            }
            () = close.as_mut() => {
                // Chosen to make room at the cap, with no request in flight: dropping the
                // connection closes the socket at once, header half-sent or not.
                tracing::debug!(%peer, "closing the oldest idle connection to make room");
                return;
            }
        }
    }
}

/// Resolves once shutdown has begun (or the sender is gone).
async fn until_stopped(stopped: &mut watch::Receiver<bool>) {
    // The guard `wait_for` returns is dropped here, so callers' futures stay `Send`.
    let _ = stopped.wait_for(|stop| *stop).await.map(|_| ());
}

/// Resolves once the connection has had no request in flight for `timeout`.
async fn idle(activity: &Activity, timeout: Duration) {
    loop {
        let wait = match activity.idle_for() {
            Some(idle) if idle >= timeout => return,
            Some(idle) => timeout - idle,
            None => timeout,
        };
        tokio::time::sleep(wait).await;
    }
}

/// Resolves on the first SIGTERM or Ctrl-C (SIGINT).
pub(crate) async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %err, "cannot listen for ctrl-c; relying on SIGTERM");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::error!(error = %err, "cannot listen for SIGTERM; relying on ctrl-c");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("ctrl-c received, finishing requests in flight"),
        () = terminate => tracing::info!("SIGTERM received, finishing requests in flight"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_connection_cap_stays_below_the_fd_limit() {
        let server = ServerSettings {
            max_connections: 10_000,
            ..ServerSettings::default()
        };
        assert_eq!(
            ConnectionLimits::api(&server, Some(1024)).max_connections,
            1024 - 128
        );
        assert_eq!(
            ConnectionLimits::api(&server, Some(1_000_000)).max_connections,
            10_000
        );
        assert_eq!(ConnectionLimits::api(&server, Some(10)).max_connections, 1);
    }

    #[test]
    fn the_admin_listener_reads_headers_faster_and_makes_room_at_its_cap() {
        let server = ServerSettings::default();
        let api = ConnectionLimits::api(&server, None);
        let admin = ConnectionLimits::admin(&server);
        assert!(admin.header_read_timeout < api.header_read_timeout);
        assert_eq!(admin.header_read_timeout, ADMIN_HEADER_READ_TIMEOUT);
        assert_eq!(admin.max_connections, ADMIN_MAX_CONNECTIONS);
        assert_eq!(
            (api.at_cap, admin.at_cap),
            (AtCap::Wait, AtCap::CloseOldestIdle)
        );
        let quick = ServerSettings {
            header_read_timeout_ms: 500,
            ..ServerSettings::default()
        };
        assert_eq!(
            ConnectionLimits::admin(&quick).header_read_timeout,
            Duration::from_millis(500)
        );
    }

    #[test]
    fn the_oldest_connection_without_a_request_in_flight_is_closed_first() {
        let open = Arc::new(OpenConnections::default());
        let first = open.register();
        let second = open.register();
        let third = open.register();
        // The oldest has a request in flight: it stays.
        first
            .connection
            .activity
            .in_flight
            .fetch_add(1, Ordering::AcqRel);
        assert!(open.close_oldest_idle());
        assert!(second.connection.closing.load(Ordering::Acquire));
        assert!(!first.connection.closing.load(Ordering::Acquire));
        // One already closing is not chosen again.
        assert!(open.close_oldest_idle());
        assert!(third.connection.closing.load(Ordering::Acquire));
        assert!(!open.close_oldest_idle(), "only a busy connection is left");
        // Ended connections leave the registry.
        drop((second, third));
        assert_eq!(open.lock().len(), 1);
        drop(first);
        assert!(open.lock().is_empty());
    }
}
