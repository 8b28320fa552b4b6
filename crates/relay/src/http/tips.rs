//! Tips and messages sent in one request by tipsters, with a proof of work;
//! and what every sealed file sent in one request goes through.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use sealtip_api::{Created, ItemKind};

use super::AppState;
use super::extract::{ProofOfWork, TipsterRequest, check_sealed_headers};
use crate::error::ApiError;
use crate::store::{Place, SpentTag, Store, StoreError};
use crate::upload;

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

/// Checks the headers, takes an upload slot, spends the proof, then streams
/// the body into the agency's inbox.
async fn receive_sealed<S: Store>(
    st: &AppState<S>,
    kind: ItemKind,
    request: TipsterRequest,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    check_sealed_headers(&request.headers, st.relay.limits.max_upload_bytes)?;
    let _permit = st.upload_permit()?;
    let spent = spend_for_inbox(st, &request.agency, request.proof?).await?;
    store_sealed(
        st,
        request.body,
        &request.agency,
        Place::Inbox(kind),
        Some(spent),
    )
    .await
}

/// Streams a sealed `body` (its headers checked, an upload slot held) into
/// `place`, within the limit of items there, recording `spent` with it.
pub async fn store_sealed<S: Store>(
    st: &AppState<S>,
    body: Body,
    agency: &str,
    place: Place,
    spent: Option<SpentTag>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let limits = &st.relay.limits;
    let max_items = match place {
        Place::Inbox(_) => limits.max_items_per_agency,
        Place::Mailbox(_) => limits.max_replies_per_mailbox,
    };
    let mut upload = st.store.begin().await?;
    upload::receive(body, &mut upload, &st.upload_limits()).await?;
    let meta = st
        .store
        .commit(upload, agency, place, spent, max_items)
        .await?;
    Ok((StatusCode::CREATED, Json(Created { id: meta.id })))
}

/// The tipster's proof of work, spent, and room in the agency's inbox: what
/// a tip and an upload session both need.
pub async fn spend_for_inbox<S: Store>(
    st: &AppState<S>,
    agency: &str,
    proof: ProofOfWork,
) -> Result<SpentTag, ApiError> {
    let spent = proof.spend(&st.store).await?;
    if st.store.inbox_len(agency).await? >= st.relay.limits.max_items_per_agency {
        return Err(StoreError::Full.into());
    }
    Ok(spent)
}
