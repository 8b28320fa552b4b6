//! The HTTP/1.1 server loop, on a listener the caller binds (tests bind port
//! 0), and the periodic cleaning and the agencies' alerts beside it.
//!
//! The peer address `accept` returns is dropped on the spot: nothing past
//! this loop ever sees it. Connections beyond the limit are closed at once;
//! headers must arrive within the header timeout, and hyper refuses header
//! blocks beyond its buffer (the router refuses smaller excesses with JSON).

use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

use crate::alerts;
use crate::config::Relay;
use crate::http::{AppState, empty_sessions, router};
use crate::store::Store;
use crate::time::WallClock;

/// How often expired upload sessions, and items and replies past their
/// retention, are removed (seconds).
const CLEANING_SECS: u64 = 600;

/// Serves the relay over `state` on `listener` until the process ends, or
/// until this future is dropped. Beside the requests (never before one), it
/// removes expired upload sessions, replies past their retention and the
/// items and replies of agencies with a `retention_days` past it, at once
/// and then every ten minutes, and ends upload sessions that received
/// nothing within `limits.empty_upload_secs`.
pub async fn serve<S: Store>(listener: TcpListener, state: AppState<S>) -> std::io::Result<()> {
    let _cleaning = Cleaning(tokio::spawn(clean_every(
        state.store.clone(),
        state.relay.clone(),
        state.clock.clone(),
    )));
    let _alerts = Cleaning(tokio::spawn(alerts::send_every(
        state.store.clone(),
        state.relay.clone(),
        state.clock.clone(),
        state.alerts.clone(),
    )));
    let _empty = Cleaning(tokio::spawn(empty_sessions::end_every(
        state.store.clone(),
        state.relay.limits.empty_upload_secs,
    )));
    let limits = state.relay.limits.clone();
    let app = router(state);
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

/// The cleaning task, stopped when the server stops.
struct Cleaning(JoinHandle<()>);

impl Drop for Cleaning {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Cleans at once, then every [`CLEANING_SECS`] on `clock`.
async fn clean_every<S: Store>(store: S, relay: Arc<Relay>, clock: Arc<WallClock>) {
    loop {
        let now = clock.now();
        clean(&store, &relay, now).await;
        clock.sleep_until(now + CLEANING_SECS).await;
    }
}

/// Removes expired upload sessions, replies past their retention, and each
/// agency's items and replies past its own. The log says what failed, never
/// how many or which.
async fn clean<S: Store>(store: &S, relay: &Relay, now: u64) {
    if let Err(e) = store.remove_expired_sessions().await {
        eprintln!("sealtip-relay: removing expired upload sessions failed: {e}");
    }
    if let Err(e) = store.remove_replies_before(relay.reply_cutoff(now)).await {
        eprintln!("sealtip-relay: removing replies past their retention failed: {e}");
    }
    for (id, agency) in &relay.agencies {
        let Some(cutoff) = agency.retention_cutoff(now) else {
            continue;
        };
        if let Err(e) = store.remove_agency_items_before(id, cutoff).await {
            eprintln!("sealtip-relay: removing agency {id}'s items past its retention failed: {e}");
        }
    }
}
