//! Binding, serving and graceful shutdown, with connection hygiene: a header-read timeout, an
//! idle keep-alive timeout, a cap on concurrent connections per listener, and a shutdown deadline.
//!
//! The accept loop is our own (hyper's HTTP/1 connection builder under axum's `Router`) rather
//! than `axum::serve`, which has no header-read or idle timeout and no connection cap: with it, a
//! few thousand slowloris connections exhaust the process's file descriptors and refuse every
//! new client.

use std::convert::Infallible;
use std::future::Future;
use std::io::Write as _;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use axum::Router;
use axum::body::Body;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
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

/// How connections are treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ConnectionLimits {
    /// A client must send a request's whole header within this time (from the connection's
    /// start, or from the first byte of a later request on a kept-alive connection).
    pub(crate) header_read_timeout: Duration,
    /// A kept-alive connection with no request in flight is closed after this time.
    pub(crate) idle_timeout: Duration,
    /// The most connections open at once on one listener; more wait in the kernel's backlog.
    pub(crate) max_connections: usize,
    /// After a shutdown signal, connections still open after this time are dropped.
    pub(crate) shutdown_timeout: Duration,
}

impl ConnectionLimits {
    /// The limits `[server]` configures, with the connection cap kept below `fd_limit`.
    pub(crate) fn from_settings(server: &ServerSettings, fd_limit: Option<u64>) -> Self {
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
            shutdown_timeout: Duration::from_millis(server.shutdown_timeout_ms),
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
    /// Its connection cap.
    pub(crate) max_connections: usize,
}

/// Serves every listener until `shutdown` resolves (SIGTERM or Ctrl-C in `gateway serve`); then
/// stops accepting, lets requests in flight finish and closes idle connections, and returns once
/// every connection is closed or `limits.shutdown_timeout` has passed, whichever is first.
///
/// Each bound address is printed on stdout as `gateway listening on ADDR` (the API) or
/// `gateway admin listening on ADDR`, so a supervisor (or a test that asked for port 0) can read
/// it.
pub(crate) async fn serve(
    listeners: Vec<Listener>,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let (stop, stopped) = watch::channel(false);
    let mut loops = Vec::new();
    let mut caps = Vec::new();
    {
        let mut stdout = std::io::stdout().lock();
        for listener in &listeners {
            tracing::info!(bound = %listener.bound, listener = listener.name, max_connections = listener.max_connections, "gateway listening");
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
        let cap = Arc::new(Semaphore::new(listener.max_connections));
        caps.push((Arc::clone(&cap), listener.max_connections));
        loops.push(tokio::spawn(accept_loop(
            listener,
            cap,
            limits,
            stopped.clone(),
        )));
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
    match tokio::time::timeout(limits.shutdown_timeout, drained).await {
        Ok(()) => tracing::info!("gateway stopped"),
        Err(_) => tracing::warn!(
            timeout_ms = u64::try_from(limits.shutdown_timeout.as_millis()).unwrap_or(u64::MAX),
            "shutdown deadline passed; dropping the connections still open"
        ),
    }
    Ok(())
}

async fn accept_loop(
    listener: Listener,
    cap: Arc<Semaphore>,
    limits: ConnectionLimits,
    mut stopped: watch::Receiver<bool>,
) {
    loop {
        let permit = tokio::select! {
            permit = Arc::clone(&cap).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => return,
            },
            () = until_stopped(&mut stopped) => return,
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
        let _ = stream.set_nodelay(true);
        let app = listener.app.clone();
        let stopped = stopped.clone();
        tokio::spawn(async move {
            serve_connection(stream, peer, app, limits, stopped).await;
            drop(permit);
        });
    }
}

/// The most header fields hyper parses; above `crate::MAX_HEADERS` the service answers 431 with
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
) {
    let activity = Arc::new(Activity {
        started: Instant::now(),
        in_flight: AtomicUsize::new(0),
        last_done_ms: AtomicU64::new(0),
    });
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
            ConnectionLimits::from_settings(&server, Some(1024)).max_connections,
            1024 - 128
        );
        assert_eq!(
            ConnectionLimits::from_settings(&server, Some(1_000_000)).max_connections,
            10_000
        );
        assert_eq!(
            ConnectionLimits::from_settings(&server, Some(10)).max_connections,
            1
        );
    }
}
