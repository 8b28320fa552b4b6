//! The agency's inbox: listing, fetching and deleting items, with the
//! agency's bearer token.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use sealtip_api::{Inbox, InboxItem, ItemKind};
use tokio_util::io::ReaderStream;

use super::extract::{AuthorizedAgency, ItemId};
use super::{AppState, UPLOAD_CONTENT_TYPE};
use crate::error::ApiError;
use crate::store::{ItemMeta, Place, Store};
use crate::time;

/// `GET /api/v1/agencies/{agency}/inbox`: every item, at hour precision.
pub async fn get_inbox<S: Store>(
    State(st): State<AppState<S>>,
    AuthorizedAgency(agency): AuthorizedAgency,
) -> Result<Json<Inbox>, ApiError> {
    let items = st
        .store
        .inbox(&agency)
        .await?
        .into_iter()
        .map(|meta| InboxItem {
            kind: match meta.place {
                Place::Inbox(kind) => kind,
                Place::Mailbox(_) => ItemKind::Message,
            },
            received: time::rfc3339_hour(meta.received),
            id: meta.id,
            size: meta.size,
        })
        .collect();
    let retention_days = st
        .relay
        .agencies
        .get(&agency)
        .and_then(|agency| agency.retention_days);
    Ok(Json(Inbox {
        items,
        retention_days,
    }))
}

/// `GET /api/v1/agencies/{agency}/inbox/{item}`: the sealed file.
pub async fn get_item<S: Store>(
    State(st): State<AppState<S>>,
    AuthorizedAgency(agency): AuthorizedAgency,
    ItemId(item): ItemId,
) -> Result<Response, ApiError> {
    let (meta, reader) = st
        .store
        .open(&agency, &Place::Inbox(ItemKind::Tip), &item)
        .await?
        .ok_or_else(ApiError::no_such_item)?;
    Ok(sealed_response(&meta, reader))
}

/// `DELETE /api/v1/agencies/{agency}/inbox/{item}`.
pub async fn delete_item<S: Store>(
    State(st): State<AppState<S>>,
    AuthorizedAgency(agency): AuthorizedAgency,
    ItemId(item): ItemId,
) -> Result<StatusCode, ApiError> {
    if st.store.delete(&agency, &item).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::no_such_item())
    }
}

/// A stored sealed file, streamed, with its length.
pub fn sealed_response<R: tokio::io::AsyncRead + Send + Unpin + 'static>(
    meta: &ItemMeta,
    reader: R,
) -> Response {
    let mut response = Response::new(Body::from_stream(ReaderStream::new(reader)));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(UPLOAD_CONTENT_TYPE),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(meta.size));
    response
}
