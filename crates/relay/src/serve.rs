//! The HTTP/1.1 server loop, on a listener the caller binds (tests bind port 0).
//!
//! The peer address `accept` returns is dropped on the spot: nothing past
//! this loop ever sees it. Connections beyond the limit are closed at once;
//! headers must arrive within the header timeout, and hyper refuses header
//! blocks beyond its buffer (the router refuses smaller excesses with JSON).

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::config::Limits;

/// Serves `app` on `listener` until the process ends.
pub async fn serve(listener: TcpListener, app: Router, limits: &Limits) -> std::io::Result<()> {
    let connections = Arc::new(Semaphore::new(limits.max_connections));
    let header_timeout = Duration::from_secs(limits.header_timeout_secs);
    // Room for the configured header limit, so the router can answer it in JSON.
    let buffer = (limits.max_header_bytes * 4).max(64 * 1024);
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _peer)) => stream,
            Err(e) => {
                // Out of file descriptors and the like: wait, do not spin.
                eprintln!("sealtip-relay: accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(permit) = connections.clone().try_acquire_owned() else {
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(app.clone());
        tokio::spawn(async move {
            let _permit = permit;
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .max_buf_size(buffer)
                .serve_connection(TokioIo::new(stream), service);
            // A client that goes away mid-request is not an error worth logging.
            let _ = connection.await;
        });
    }
}
