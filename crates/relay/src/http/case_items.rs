//! Case items: an officer's change to a thread's case state, sealed to the
//! agency's officers, posted with the agency's token and kept in its inbox
//! with kind `case`. The relay sees a sealed file and its size, like any
//! other item; it never sees which thread it is about.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use sealtip_api::{CASE_ITEM_MAX_BYTES, Created, ItemKind};

use super::AppState;
use super::extract::{AuthorizedAgency, check_sealed_headers, declared_length};
use super::tips::store_sealed;
use crate::error::ApiError;
use crate::store::{Place, Store};

/// `POST /api/v1/agencies/{agency}/case-items`: a sealed case item, from
/// the agency. No proof of work (the token is the agency's), at most
/// [`CASE_ITEM_MAX_BYTES`], counted in the agency's items and storage.
pub async fn post_case_item<S: Store>(
    State(st): State<AppState<S>>,
    AuthorizedAgency(agency): AuthorizedAgency,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let max_bytes = CASE_ITEM_MAX_BYTES.min(st.relay.limits.max_upload_bytes);
    check_sealed_headers(&headers, max_bytes)?;
    let _permit = st.upload_permit()?;
    // Without a declared length, room for the largest case item.
    st.check_room_for(&agency, declared_length(&headers).unwrap_or(max_bytes))
        .await?;
    let place = Place::Inbox(ItemKind::Case);
    store_sealed(&st, body, &agency, place, None, max_bytes).await
}
