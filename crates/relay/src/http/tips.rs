//! Tips and messages sent in one request by tipsters, with a proof of work;
//! and what every sealed file sent in one request goes through.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use sealtip_api::{Created, ItemKind};

use super::AppState;
use super::capacity::Asking;
use super::extract::{TipsterRequest, check_sealed_headers, declared_length};
use crate::error::ApiError;
use crate::store::{Place, SpentTag, Store};
use crate::upload::{self, UploadLimits};

/// `POST /api/v1/agencies/{agency}/tips`.
pub async fn post_tip<S: Store>(
    State(st): State<AppState<S>>,
    request: TipsterRequest,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    receive_sealed(&st, ItemKind::Tip, request).await
}

/// `POST /api/v1/agencies/{agency}/messages`.
pub async fn post_message<S: Store>(
    State(st): State<AppState<S>>,
    request: TipsterRequest,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    receive_sealed(&st, ItemKind::Message, request).await
}

/// Checks the headers, takes an upload slot, checks the proof and the room
/// for the item, spends the proof, then streams the body into the agency's
/// inbox.
async fn receive_sealed<S: Store>(
    st: &AppState<S>,
    kind: ItemKind,
    request: TipsterRequest,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    check_sealed_headers(&request.headers, st.relay.limits.max_upload_bytes)?;
    let _permit = st.upload_permit()?;
    let declared = declared_length(&request.headers);
    let proof = request.proof?.check(st, &request.agency, declared).await?;
    let admitted = st
        .admit(&request.agency, proof, Asking::Item(declared))
        .await?;
    store_sealed(
        st,
        request.body,
        &request.agency,
        Place::Inbox(kind),
        Some(admitted.spent),
        admitted.max_bytes,
    )
    .await
}

/// Streams a sealed `body` of at most `max_bytes` (its headers checked, an
/// upload slot held) into `place`, within the limit of items there,
/// recording `spent` with it.
pub async fn store_sealed<S: Store>(
    st: &AppState<S>,
    body: Body,
    agency: &str,
    place: Place,
    spent: Option<SpentTag>,
    max_bytes: u64,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let limits = &st.relay.limits;
    let max_items = match place {
        Place::Inbox(_) => limits.max_items_per_agency,
        Place::Mailbox(_) => limits.max_replies_per_mailbox,
    };
    let mut upload = st.store.begin().await?;
    let upload_limits = UploadLimits {
        max_bytes,
        ..st.upload_limits()
    };
    upload::receive(body, &mut upload, &upload_limits).await?;
    let meta = st
        .store
        .commit(upload, agency, place, spent, max_items)
        .await?;
    Ok((StatusCode::CREATED, Json(Created { id: meta.id })))
}
