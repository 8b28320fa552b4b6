//! `GET /metrics`: fill levels for the operator, in Prometheus' text format.
//!
//! Counts only: per agency its items, replies, bytes, open upload sessions,
//! storage limit and current proof-of-work work; the relay's totals. No
//! per-tip data, no ids, no times. Even counts tell when tips arrive to
//! whoever polls them, so the relay serves metrics only with
//! `metrics_token_hash` set in `relay.toml`, and only to a request bearing
//! that token (else 404 and 401).

use std::fmt::Write;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::AppState;
use crate::error::ApiError;
use crate::store::{AgencyUsage, Store};

/// The media type of Prometheus' text format.
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// `GET /metrics`.
pub async fn get_metrics<S: Store>(
    State(st): State<AppState<S>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let expected = st
        .relay
        .metrics_token_hash
        .ok_or_else(ApiError::no_metrics)?;
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    let hash: [u8; 32] = Sha256::digest(token.trim().as_bytes()).into();
    if token.is_empty() || !bool::from(hash.ct_eq(&expected)) {
        return Err(ApiError::metrics_unauthorized());
    }
    let usage = st.usage().await?;
    let mut agencies: Vec<&String> = st.relay.agencies.keys().collect();
    agencies.sort();
    let rows: Vec<(&str, AgencyUsage, u64, u32)> = agencies
        .iter()
        .map(|id| {
            let work = st.load.work(&st.relay, &usage, id, 0);
            let max = st.relay.agencies.get(*id).map_or(0, |a| a.max_bytes);
            (id.as_str(), usage.of(id), max, work)
        })
        .collect();
    let mut text = String::new();
    let mut family = |name: &str, help: &str, value: &dyn Fn(&AgencyUsage, u64, u32) -> u64| {
        let _ = writeln!(text, "# HELP sealtip_agency_{name} {help}");
        let _ = writeln!(text, "# TYPE sealtip_agency_{name} gauge");
        for (id, own, max, work) in &rows {
            let _ = writeln!(
                text,
                "sealtip_agency_{name}{{agency=\"{id}\"}} {}",
                value(own, *max, *work)
            );
        }
    };
    family(
        "items",
        "Tips and messages in the agency's inbox.",
        &|u, _, _| u.items,
    );
    family(
        "replies",
        "Replies in the agency's mailboxes.",
        &|u, _, _| u.replies,
    );
    family(
        "bytes",
        "Bytes of the agency's items, replies and upload sessions.",
        &|u, _, _| u.bytes,
    );
    family("max_bytes", "Bytes the agency may store.", &|_, max, _| max);
    family(
        "open_uploads",
        "Upload sessions open for the agency.",
        &|u, _, _| u.open_sessions,
    );
    family(
        "pow_work",
        "Expected attempts a challenge for a tip up to 1 MiB asks now.",
        &|_, _, work| u64::from(work),
    );
    let total = usage.total();
    let limits = &st.relay.limits;
    for (name, help, value) in [
        ("items", "Tips and messages in every inbox.", total.items),
        ("replies", "Replies in every mailbox.", total.replies),
        ("bytes", "Bytes stored.", total.bytes),
        ("max_bytes", "Bytes the relay may store.", limits.max_bytes),
        ("open_uploads", "Upload sessions open.", total.open_sessions),
        (
            "max_open_uploads",
            "Upload sessions that may be open.",
            limits.max_open_uploads,
        ),
    ] {
        let _ = writeln!(text, "# HELP sealtip_relay_{name} {help}");
        let _ = writeln!(text, "# TYPE sealtip_relay_{name} gauge");
        let _ = writeln!(text, "sealtip_relay_{name} {value}");
    }
    let mut response = text.into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    Ok(response)
}
