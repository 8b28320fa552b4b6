//! Every error answer, in one place: a status and one line of JSON,
//! `{"error": "…"}`. Bad input is always a 4xx; a 5xx means the relay's own
//! disk or database failed, and its details go to the operator's log, never
//! to the client: logged once, when the answer is made.
//!
//! Handlers build their refusals with the constructors here, never with a
//! status of their own.

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sealtip_api::{ErrorBody, PowError};

use crate::store::StoreError;

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    /// The status.
    pub status: StatusCode,
    /// The one-line reason.
    pub message: String,
    /// Bytes an upload session holds, sent with a `409` so the client knows
    /// where to resume.
    pub received: Option<u64>,
    /// What failed, for the operator's log (never sent): what the relay's
    /// disk or database said, with no client data.
    failure: Option<String>,
}

impl ApiError {
    /// An answer with `status` and `message`.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            received: None,
            failure: None,
        }
    }

    /// 503: the relay's own storage (or random generator) failed; `failure`
    /// goes to the operator's log when the answer is made.
    pub fn unavailable(failure: impl Into<String>) -> Self {
        ApiError {
            failure: Some(failure.into()),
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the relay could not store or read this; try again later",
            )
        }
    }

    /// 400.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    /// 404 for an agency id that is not configured (or not an id at all).
    pub fn unknown_agency() -> Self {
        Self::not_found("unknown agency")
    }

    /// 401 for a missing or wrong inbox token.
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "missing or wrong agency token (Authorization: Bearer <token>)",
        )
    }

    /// 413.
    pub fn too_large(max: u64) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("body larger than the relay's limit of {max} bytes"),
        )
    }

    /// 413 for a part of an upload session over the part limit.
    pub fn part_too_large(part_max: u64) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("part larger than the relay's limit of {part_max} bytes per part"),
        )
    }

    /// 408: the body came slower than the relay waits for.
    pub fn too_slow() -> Self {
        Self::new(
            StatusCode::REQUEST_TIMEOUT,
            "upload too slow; the relay stopped waiting",
        )
    }

    /// 400 for a JSON body over `max` bytes.
    pub fn json_too_large(max: usize) -> Self {
        Self::bad_request(format!("body larger than {max} bytes"))
    }

    /// 415: the body is not sent as the media type the route takes;
    /// `expected` says what it must be.
    pub fn unsupported_media_type(expected: impl Into<String>) -> Self {
        Self::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, expected)
    }

    /// 400 for an id in the path that is not 32 lowercase hex digits;
    /// `what` names it (`item`, `upload`, …).
    pub fn malformed_id(what: &str) -> Self {
        Self::bad_request(format!(
            "malformed {what} id (expected 32 lowercase hex digits)"
        ))
    }

    /// 400 for a request without a proof of work.
    pub fn missing_proof() -> Self {
        Self::bad_request(
            "missing Sealtip-Proof header: solve a challenge from POST /api/v1/challenges",
        )
    }

    /// 409 for a proof of work already spent.
    pub fn proof_spent() -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "proof-of-work challenge already used; fetch a new one",
        )
    }

    /// 403 for a proof whose challenge was issued for another agency.
    pub fn proof_for_another_agency() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "proof-of-work challenge issued for another agency; fetch one naming this agency",
        )
    }

    /// 413 for a body larger than the size its challenge was issued for.
    pub fn larger_than_proof(max: u64) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "proof-of-work challenge issued for at most {max} bytes; fetch one naming the size"
            ),
        )
    }

    /// 403 for a proof far cheaper than the agency's load asks now (one of
    /// a hoard fetched while calm).
    pub fn proof_too_cheap() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "proof-of-work challenge too cheap for this agency's load now; fetch a new one",
        )
    }

    /// 429 when the agency has as many upload sessions open as allowed.
    pub fn agency_sessions_full() -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too many upload sessions are open for this agency; try again later",
        )
    }

    /// 507 when the agency's share of the relay's storage is full.
    pub fn agency_storage_full() -> Self {
        Self::new(
            StatusCode::INSUFFICIENT_STORAGE,
            "this agency's storage on the relay is full; try again later",
        )
    }

    /// 507 when the relay's storage is full.
    pub fn relay_storage_full() -> Self {
        Self::new(
            StatusCode::INSUFFICIENT_STORAGE,
            "the relay's storage is full; try again later",
        )
    }

    /// 404 for `/metrics` on a relay that serves none.
    pub fn no_metrics() -> Self {
        Self::not_found("this relay serves no metrics (metrics_token_hash is not set)")
    }

    /// 401 for `/metrics` without the operator's token.
    pub fn metrics_unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "missing or wrong metrics token (Authorization: Bearer <token>)",
        )
    }

    /// 400 for a part without a readable `Upload-Offset`.
    pub fn bad_upload_offset() -> Self {
        Self::bad_request("missing or malformed Upload-Offset header (bytes, in decimal)")
    }

    /// 429 when every upload slot is taken.
    pub fn too_many_uploads() -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too many uploads in progress; try again shortly",
        )
    }

    /// 429 when the memory for parts is taken by other parts.
    pub fn parts_busy() -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "busy receiving other parts; try again shortly",
        )
    }

    /// 404 for an upload session that is unknown, committed, deleted or
    /// expired.
    pub fn no_such_upload() -> Self {
        Self::not_found("no such upload session (unknown, committed, deleted or expired)")
    }

    /// 404 for an item not in the agency's inbox.
    pub fn no_such_item() -> Self {
        Self::not_found("no such item")
    }

    /// 404 for a reply not in the mailbox.
    pub fn no_such_reply() -> Self {
        Self::not_found("no such reply")
    }

    /// 400 for committing an upload session that holds nothing.
    pub fn nothing_received() -> Self {
        Self::bad_request("not an age file: nothing was received")
    }

    /// 403 for a mailbox secret that is not the mailbox's.
    pub fn not_the_mailbox_secret() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "the proof is not this mailbox's secret",
        )
    }

    /// 404 for an API path that is not routed.
    pub fn no_such_route() -> Self {
        Self::not_found("no such route")
    }

    /// 405 for a method the page's files do not take.
    pub fn method_not_allowed() -> Self {
        Self::new(StatusCode::METHOD_NOT_ALLOWED, "method not allowed")
    }

    /// 431 for request headers over the configured limit.
    pub fn headers_too_large(max: usize) -> Self {
        Self::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            format!("request headers larger than {max} bytes"),
        )
    }

    /// An answer named after `status` alone, for what axum refused on its own.
    fn named(status: StatusCode) -> Self {
        let reason = status.canonical_reason().unwrap_or("error").to_lowercase();
        Self::new(status, reason)
    }
}

impl From<PathRejection> for ApiError {
    /// A path axum could not decode, answered as axum would, in JSON.
    fn from(rejection: PathRejection) -> Self {
        Self::named(rejection.status())
    }
}

impl From<PowError> for ApiError {
    fn from(e: PowError) -> Self {
        let status = match e {
            PowError::Malformed | PowError::MalformedProof => StatusCode::BAD_REQUEST,
            PowError::BadSignature | PowError::Expired | PowError::Unsolved | PowError::TooHard => {
                StatusCode::FORBIDDEN
            }
        };
        ApiError::new(status, e.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Full => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "this inbox or mailbox is full; try again later",
            ),
            StoreError::TooManySessions => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too many upload sessions are open; try again later",
            ),
            StoreError::Conflict(received) => ApiError {
                received: Some(received),
                ..ApiError::new(
                    StatusCode::CONFLICT,
                    format!(
                        "this upload session holds {received} bytes and takes one part at a \
                         time: resume at offset {received}"
                    ),
                )
            },
            StoreError::Failed(detail) => ApiError::unavailable(detail),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Some(failure) = &self.failure {
            // For the operator; it holds no client data, only what failed.
            eprintln!("sealtip-relay: {failure}");
        }
        let line = self.message.replace(['\n', '\r'], " ");
        let mut response = (
            self.status,
            Json(ErrorBody {
                error: line,
                received: self.received,
            }),
        )
            .into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if self.status == StatusCode::TOO_MANY_REQUESTS
            || self.status == StatusCode::SERVICE_UNAVAILABLE
            || self.status == StatusCode::INSUFFICIENT_STORAGE
        {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        response
    }
}

/// A 4xx/5xx answer not built by [`ApiError`] (axum's own 404/405, a rejected
/// path) gets the same JSON body, named after its status.
pub fn ensure_json_error(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (mut parts, _) = response.into_parts();
    let mut fresh = ApiError::named(status).into_response();
    // Keep headers such as Allow on a 405, and drop the old body's framing.
    parts.headers.remove(header::CONTENT_TYPE);
    parts.headers.remove(header::CONTENT_LENGTH);
    for (name, value) in parts.headers.iter() {
        fresh.headers_mut().entry(name).or_insert(value.clone());
    }
    fresh
}
