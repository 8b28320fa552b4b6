//! The security headers, on every answer (API, page and errors), and the
//! refusal of oversized request headers.

use std::sync::LazyLock;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use sealtip_api::security;

use super::AppState;
use crate::config::Relay;
use crate::error::{ApiError, ensure_json_error};
use crate::store::Store;

/// `Permissions-Policy`, written once from `sealtip_api::security`.
static PERMISSIONS_POLICY: LazyLock<HeaderValue> = LazyLock::new(|| {
    // Invariant: feature names and `=()` are visible ASCII.
    #[allow(clippy::expect_used)]
    HeaderValue::from_str(&security::permissions_policy()).expect("ASCII header value")
});

/// Middleware: refuses request headers over `limits.max_header_bytes`,
/// makes every error JSON, and sets the security headers on the answer.
pub async fn security_headers<S: Store>(
    State(st): State<AppState<S>>,
    request: Request,
    next: Next,
) -> Response {
    let frame_ancestors = frame_ancestors(&st.relay, request.uri().path(), request.uri().query());
    let is_api = request.uri().path().starts_with("/api/");
    let has_body = request.headers().contains_key(header::TRANSFER_ENCODING)
        || request
            .headers()
            .get(header::CONTENT_LENGTH)
            .is_some_and(|v| v.as_bytes() != b"0");
    let header_bytes: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    let max_header_bytes = st.relay.limits.max_header_bytes;
    let response = if header_bytes > max_header_bytes {
        ApiError::headers_too_large(max_header_bytes).into_response()
    } else {
        next.run(request).await
    };
    let mut response = ensure_json_error(response);
    let refused = response.status().is_client_error() || response.status().is_server_error();
    let headers = response.headers_mut();
    if refused && has_body {
        // The body may be unread: close rather than let the client reuse a
        // connection that still carries the rest of it.
        headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    let csp = security::content_security_policy(frame_ancestors);
    if let Ok(value) = HeaderValue::from_str(&csp) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    for (name, value) in security::FIXED_HEADERS {
        headers.insert(name, HeaderValue::from_static(value));
    }
    headers.insert("permissions-policy", PERMISSIONS_POLICY.clone());
    if frame_ancestors == "'none'" {
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    if is_api || !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if st.relay.behind_tls {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=63072000; includeSubDomains"),
        );
    }
    response
}

/// The `frame-ancestors` sources for a request: an agency's page (`/a/{id}`,
/// or `/`, `/embed` for `?agency=` or the default agency) may be framed by its
/// allowed origins; nothing else may be framed at all.
fn frame_ancestors<'a>(relay: &'a Relay, path: &str, query: Option<&str>) -> &'a str {
    let agency = if let Some(rest) = path.strip_prefix("/a/") {
        relay.agencies.get(rest.trim_end_matches('/'))
    } else if path == "/" || path == "/embed" {
        let asked = query.and_then(|q| q.split('&').find_map(|pair| pair.strip_prefix("agency=")));
        match asked {
            Some(id) => relay.agencies.get(id),
            None => relay
                .default_agency
                .as_deref()
                .and_then(|id| relay.agencies.get(id)),
        }
    } else {
        None
    };
    agency.map_or("'none'", |a| a.frame_ancestors.as_str())
}
