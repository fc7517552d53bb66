//! Binding, serving and graceful shutdown.

use std::io::Write as _;
use std::net::SocketAddr;

use anyhow::Context as _;
use axum::Router;
use tokio::net::TcpListener;

/// Binds `addr` and returns the listener with the address actually bound (port 0 picks one).
pub async fn bind(addr: SocketAddr) -> anyhow::Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let bound = listener
        .local_addr()
        .with_context(|| format!("cannot read the address bound for {addr}"))?;
    Ok((listener, bound))
}

/// Serves `app` on `listener` until SIGTERM or Ctrl-C; requests in flight then finish before
/// this returns.
///
/// The bound address is printed on stdout as `gateway listening on ADDR`, so a supervisor (or a
/// test that asked for port 0) can read it.
pub async fn serve(listener: TcpListener, bound: SocketAddr, app: Router) -> anyhow::Result<()> {
    tracing::info!(%bound, "gateway listening");
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "gateway listening on {bound}")
        .and_then(|()| stdout.flush())
        .context("cannot write the bound address to stdout")?;
    drop(stdout);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("server failed")?;
    tracing::info!("gateway stopped");
    Ok(())
}

/// Resolves on the first SIGTERM or Ctrl-C (SIGINT).
pub async fn shutdown_signal() {
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
