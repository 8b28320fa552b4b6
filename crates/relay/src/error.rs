//! Every error answer, in one place: a status and one line of JSON,
//! `{"error": "…"}`. Bad input is always a 4xx; a 5xx means the relay's own
//! disk or database failed, and its details go to the operator's log, never
//! to the client.

use axum::Json;
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
}

impl ApiError {
    /// An answer with `status` and `message`.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            received: None,
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
            StoreError::Failed(detail) => {
                // For the operator; it holds no client data, only what failed.
                eprintln!("sealtip-relay: {detail}");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the relay could not store or read this; try again later",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
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
    let reason = status.canonical_reason().unwrap_or("error").to_lowercase();
    let (mut parts, _) = response.into_parts();
    let mut fresh = ApiError::new(status, reason).into_response();
    // Keep headers such as Allow on a 405, and drop the old body's framing.
    parts.headers.remove(header::CONTENT_TYPE);
    parts.headers.remove(header::CONTENT_LENGTH);
    for (name, value) in parts.headers.iter() {
        fresh.headers_mut().entry(name).or_insert(value.clone());
    }
    fresh
}
