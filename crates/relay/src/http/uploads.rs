//! Upload sessions: a tipster's sealed file sent in parts, resumable after a
//! lost connection, then committed to the agency's inbox.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use sealtip_api::{
    Created, ItemKind, PART_MAX_BYTES, UploadProgress, UploadRequest, UploadSession,
};
use tokio::sync::OwnedSemaphorePermit;

use super::AppState;
use super::capacity::Asking;
use super::extract::{
    TipsterRequest, UploadId, UploadOffset, check_sealed_headers, declared_length, json_body,
};
use crate::error::ApiError;
use crate::store::{Session, Store};
use crate::upload::UploadLimits;
use crate::{time, upload};

const UPLOAD_REQUEST_BODY: &str = "the body must be {\"kind\": \"tip\"} or {\"kind\": \"message\"}";

/// `POST /api/v1/agencies/{agency}/uploads`: opens a session, spending a
/// proof of work as a tip does, once the agency has room for one more.
pub async fn post_upload<S: Store>(
    State(st): State<AppState<S>>,
    request: TipsterRequest,
) -> Result<(StatusCode, Json<UploadSession>), ApiError> {
    let bytes = json_body(&request.headers, request.body, UPLOAD_REQUEST_BODY).await?;
    let asked: UploadRequest = serde_json::from_slice(&bytes)
        .ok()
        .filter(|asked: &UploadRequest| asked.kind != ItemKind::Case)
        .ok_or_else(|| ApiError::bad_request(UPLOAD_REQUEST_BODY))?;
    let proof = request.proof?.check(&st, &request.agency, None).await?;
    let admitted = st.admit(&request.agency, proof, Asking::Session).await?;
    let limits = &st.relay.limits;
    let upload = st
        .store
        .open_session(
            &request.agency,
            asked.kind,
            admitted.spent,
            st.relay.session_expiry(time::now()),
            limits.max_open_uploads,
        )
        .await?;
    st.session_opened(&upload, &request.agency, admitted.max_bytes);
    Ok((
        StatusCode::CREATED,
        Json(UploadSession {
            upload,
            max_bytes: admitted.max_bytes,
            part_max_bytes: PART_MAX_BYTES,
            expires_in: limits.upload_session_secs,
        }),
    ))
}

/// `PATCH /api/v1/uploads/{upload}`: one part, at `Upload-Offset`.
pub async fn patch_upload<S: Store>(
    State(st): State<AppState<S>>,
    upload: Result<UploadId, ApiError>,
    offset: Result<UploadOffset, ApiError>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<UploadProgress>, ApiError> {
    let (mut part, offset, upload_id, _permits) =
        match begin_part(&st, upload, offset, &headers).await {
            Ok(started) => started,
            Err(e) => {
                upload::discard(body).await;
                return Err(e);
            }
        };
    let limits = UploadLimits {
        max_bytes: st.session_cap(&upload_id),
        ..st.upload_limits()
    };
    let header_len = upload::receive_part(body, &mut part, offset, &limits, PART_MAX_BYTES).await?;
    let expires = st.relay.session_expiry(time::now());
    let received = st
        .store
        .append(part, header_len, expires)
        .await?
        .ok_or_else(ApiError::no_such_upload)?;
    st.session_heard(&upload_id);
    Ok(Json(UploadProgress { received }))
}

/// What a part being received holds: its place among the uploads, and its
/// share of the part memory when the store keeps parts in memory.
type PartPermits = (OwnedSemaphorePermit, Option<OwnedSemaphorePermit>);

/// The checks before a part's body is read (its size, the session's cap,
/// the agency's storage), and the part started.
async fn begin_part<S: Store>(
    st: &AppState<S>,
    upload: Result<UploadId, ApiError>,
    offset: Result<UploadOffset, ApiError>,
    headers: &HeaderMap,
) -> Result<(S::Part, u64, String, PartPermits), ApiError> {
    let UploadId(upload) = upload?;
    check_sealed_headers(headers, st.relay.limits.max_upload_bytes)?;
    let declared = declared_length(headers);
    if declared.is_some_and(|n| n > PART_MAX_BYTES) {
        return Err(ApiError::part_too_large(PART_MAX_BYTES));
    }
    let UploadOffset(offset) = offset?;
    let cap = st.session_cap(&upload);
    if declared.is_some_and(|n| offset.saturating_add(n) > cap) {
        return Err(ApiError::too_large(cap));
    }
    let session = known_session(st, &upload).await?;
    st.check_room_for(&session.agency, declared.unwrap_or(0))
        .await?;
    let permits = (st.upload_permit()?, st.part_memory(declared)?);
    let part = st
        .store
        .begin_part(&upload, offset)
        .await?
        .ok_or_else(ApiError::no_such_upload)?;
    st.session_heard(&upload);
    Ok((part, offset, upload, permits))
}

/// `GET /api/v1/uploads/{upload}`: how many bytes the session holds.
pub async fn get_upload<S: Store>(
    State(st): State<AppState<S>>,
    UploadId(upload): UploadId,
) -> Result<Json<UploadProgress>, ApiError> {
    let session = known_session(&st, &upload).await?;
    Ok(Json(UploadProgress {
        received: session.received,
    }))
}

/// `POST /api/v1/uploads/{upload}/commit`: the whole file into the inbox.
pub async fn commit_upload<S: Store>(
    State(st): State<AppState<S>>,
    UploadId(upload): UploadId,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let session = known_session(&st, &upload).await?;
    let header_len = session.header_len.ok_or_else(ApiError::nothing_received)?;
    upload::check_payload_length(session.received.saturating_sub(header_len))?;
    let meta = st
        .store
        .commit_session(
            &upload,
            session.received,
            st.relay.limits.max_items_per_agency,
        )
        .await?
        .ok_or_else(ApiError::no_such_upload)?;
    st.session_ended(&upload);
    Ok((StatusCode::CREATED, Json(Created { id: meta.id })))
}

/// `DELETE /api/v1/uploads/{upload}`: the session and its parts.
pub async fn delete_upload<S: Store>(
    State(st): State<AppState<S>>,
    UploadId(upload): UploadId,
) -> Result<StatusCode, ApiError> {
    if st.store.drop_session(&upload).await? {
        st.session_ended(&upload);
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::no_such_upload())
    }
}

/// The session with id `upload`, or 404 for one unknown, committed, deleted
/// or expired.
async fn known_session<S: Store>(st: &AppState<S>, upload: &str) -> Result<Session, ApiError> {
    st.store
        .session(upload)
        .await?
        .ok_or_else(ApiError::no_such_upload)
}
