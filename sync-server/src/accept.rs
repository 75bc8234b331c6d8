//! The accept loop: our own rather than `axum::serve`, which has no
//! header-read timeout (2,000 sockets dribbling headers stayed open and
//! took the server's file descriptors). Each connection passes the
//! [`Door`](crate::door::Door), is read through its
//! [`Gated`](crate::door::Gated) budget, gets TLS when configured, and is
//! served by hyper with a header-read timeout that also closes idle
//! connections. On stop: no more accepting, every device session is told to
//! close (frames in hand finish, queued frames and a close frame go out),
//! requests in flight finish, sync states are written.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio_util::task::TaskTracker;
use tower_service::Service;

use crate::AppState;
use crate::door::Gated;

/// How long requests in flight and closing sessions may take at shutdown.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// Largest request head hyper buffers (headers of an honest request are
/// well under a kilobyte; hyper's default is about 400 KB).
const HEAD_BYTES: usize = 64 * 1024;

/// Raise this process's open-files limit to its hard limit (a server with
/// the usual soft 1,024 ran out of descriptors under a few hundred idle
/// sockets); returns the limit now in force.
pub fn raise_open_files() -> std::io::Result<u64> {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit/setrlimit only read and write the struct passed.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    if limit.rlim_cur < limit.rlim_max {
        let raised = libc::rlimit { rlim_cur: limit.rlim_max, rlim_max: limit.rlim_max };
        // SAFETY: as above.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        limit = raised;
    }
    Ok(limit.rlim_cur)
}

/// Serve `listener` (with TLS when `tls` is given) until `stop` resolves,
/// then shut down gracefully.
pub async fn run(
    listener: TcpListener,
    state: AppState,
    tls: Option<axum_server::tls_rustls::RustlsConfig>,
    stop: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let router = crate::app(state.clone());
    // HTTP/1.1 only: devices speak nothing else, and hyper-util's automatic
    // version detection reads the first bytes with no timeout at all (a
    // socket that sent nothing stayed open for good).
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(state.limits.header_timeout).max_buf_size(HEAD_BYTES);
    let tls = tls.map(|config| {
        let mut only_http1 = (*config.get_inner()).clone();
        only_http1.alpn_protocols = vec![b"http/1.1".to_vec()];
        let config = axum_server::tls_rustls::RustlsConfig::from_config(Arc::new(only_http1));
        axum_server::tls_rustls::RustlsAcceptor::new(config).handshake_timeout(state.limits.header_timeout)
    });
    let connections = TaskTracker::new();
    tokio::pin!(stop);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut stop => break,
        };
        let (tcp, address) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Out of descriptors or memory: the connection waits in the
                // backlog; try again shortly rather than spin.
                tracing::warn!(error = %e, "accepting a connection failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let pass = match state.door.admit(address.ip()) {
            Ok(pass) => pass,
            Err(refused) => {
                tracing::debug!(%address, %refused, "connection refused");
                continue;
            }
        };
        // Small sync frames must not wait for Nagle's algorithm.
        let _ = tcp.set_nodelay(true);
        let io = Gated::new(tcp, pass.clone());
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(address));
            request.extensions_mut().insert(pass.clone());
            router.clone().call(request)
        });
        let http = http.clone();
        let closing = state.sessions.closing_signal();
        match &tls {
            None => {
                connections.spawn(serve_connection(io, http, service, closing));
            }
            Some(tls) => {
                let handshake = axum_server::accept::Accept::accept(tls, io, ());
                connections.spawn(async move {
                    if let Ok((io, ())) = handshake.await {
                        serve_connection(io, http, service, closing).await;
                    }
                });
            }
        }
    }
    drop(listener);
    tracing::info!("stopping: closing connections and device sessions");
    state.sessions.close_all();
    connections.close();
    let sessions = state.sessions.clone();
    let ended = async move {
        tokio::join!(connections.wait(), sessions.ended());
    };
    if tokio::time::timeout(STOP_GRACE, ended).await.is_err() {
        tracing::warn!("some connections did not close in time");
    }
    let written = tokio::task::spawn_blocking(move || state.write_sync_states()).await;
    if !matches!(written, Ok(Ok(()))) {
        tracing::warn!("sync states were not all written at shutdown");
    }
    Ok(())
}

/// Serve one connection until it ends, is upgraded to a WebSocket (served
/// by its own task from then on), or the server stops (the request in
/// flight finishes first).
async fn serve_connection<I, S>(io: I, http: http1::Builder, service: S, mut closing: tokio::sync::watch::Receiver<bool>)
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    S: hyper::service::HttpService<Incoming> + Send + 'static,
    S::Future: Send,
    S::ResBody: Send,
    <S::ResBody as hyper::body::Body>::Data: Send,
    <S::ResBody as hyper::body::Body>::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let connection = http.serve_connection(TokioIo::new(io), service).with_upgrades();
    tokio::pin!(connection);
    tokio::select! {
        _ = connection.as_mut() => {}
        () = async { let _ = closing.wait_for(|c| *c).await; } => {
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        }
    }
}
