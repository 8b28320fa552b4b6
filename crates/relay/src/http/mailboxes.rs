//! Mailboxes: the agency's replies to a tipster, posted with the agency's
//! token, read by whoever knows the mailbox id, deleted by the tipster with
//! the mailbox secret or by the agency.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use sealtip_api::{Created, Mailbox, Reply};
use sealtip_envelope::mailbox_id_of_secret;
use serde::Deserialize;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::AppState;
use super::extract::{
    AuthorizedAgency, KnownAgency, MailboxId, ReplyId, agency, check_sealed_headers, check_token,
    declared_length, json_body,
};
use super::inbox::sealed_response;
use super::tips::store_sealed;
use crate::error::ApiError;
use crate::store::{Place, Store};
use crate::time;

/// `POST /api/v1/agencies/{agency}/mailboxes/{mailbox}`: a sealed reply,
/// from the agency.
pub async fn post_reply<S: Store>(
    State(st): State<AppState<S>>,
    AuthorizedAgency(agency): AuthorizedAgency,
    MailboxId(mailbox): MailboxId,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let max_bytes = st.relay.limits.max_upload_bytes;
    check_sealed_headers(&headers, max_bytes)?;
    let _permit = st.upload_permit()?;
    // Replies count toward the agency's storage as its tips do.
    st.check_room_for(&agency, declared_length(&headers).unwrap_or(0))
        .await?;
    let place = Place::Mailbox(mailbox);
    store_sealed(&st, body, &agency, place, None, max_bytes).await
}

/// `GET /api/v1/agencies/{agency}/mailboxes/{mailbox}`: its replies.
pub async fn get_mailbox<S: Store>(
    State(st): State<AppState<S>>,
    KnownAgency(agency): KnownAgency,
    MailboxId(mailbox): MailboxId,
) -> Result<Json<Mailbox>, ApiError> {
    let replies = st
        .store
        .mailbox(&agency, &mailbox)
        .await?
        .into_iter()
        .map(|meta| Reply {
            received: time::rfc3339_hour(meta.received),
            id: meta.id,
            size: meta.size,
        })
        .collect();
    Ok(Json(Mailbox { replies }))
}

/// `GET /api/v1/agencies/{agency}/mailboxes/{mailbox}/{reply}`: the sealed
/// reply.
pub async fn get_reply<S: Store>(
    State(st): State<AppState<S>>,
    KnownAgency(agency): KnownAgency,
    MailboxId(mailbox): MailboxId,
    ReplyId(reply): ReplyId,
) -> Result<Response, ApiError> {
    let (meta, reader) = st
        .store
        .open(&agency, &Place::Mailbox(mailbox), &reply)
        .await?
        .ok_or_else(ApiError::no_such_reply)?;
    Ok(sealed_response(&meta, reader))
}

/// A tipster's request to delete a reply: the mailbox secret, 64 lowercase
/// hex digits.
#[derive(Deserialize)]
struct DeleteReply<'a> {
    proof: &'a str,
}

const DELETE_REPLY_BODY: &str =
    "the body must be {\"proof\": \"<the mailbox secret, 64 lowercase hex digits>\"}";

/// `DELETE /api/v1/agencies/{agency}/mailboxes/{mailbox}/{reply}`: for the
/// tipster, with the mailbox secret as proof (the mailbox id alone, which
/// the agency and every reader of the mailbox know, is not enough); for the
/// agency, with its token. No proof of work: it costs the relay one hash and
/// one delete, and deletes only what the secret's holder could read anyway.
pub async fn delete_reply<S: Store>(
    State(st): State<AppState<S>>,
    KnownAgency(id): KnownAgency,
    MailboxId(mailbox): MailboxId,
    ReplyId(reply): ReplyId,
    headers: HeaderMap,
    body: Body,
) -> Result<StatusCode, ApiError> {
    if headers.contains_key(header::AUTHORIZATION) {
        check_token(agency(&st.relay, &id)?, &headers)?;
    } else {
        check_mailbox_proof(&mailbox, &headers, body).await?;
    }
    if st.store.delete_reply(&id, &mailbox, &reply).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::no_such_reply())
    }
}

/// 415 unless the body is JSON, 400 unless it is `{"proof": "<64 hex>"}`,
/// 403 unless that secret is the one `mailbox` stands for.
async fn check_mailbox_proof(
    mailbox: &str,
    headers: &HeaderMap,
    body: Body,
) -> Result<(), ApiError> {
    // The body holds the secret: its buffer (not copied) is zeroized.
    let bytes = json_body(headers, body, DELETE_REPLY_BODY).await?;
    let request: DeleteReply =
        serde_json::from_slice(&bytes).map_err(|_| ApiError::bad_request(DELETE_REPLY_BODY))?;
    let proof = request.proof;
    if proof.len() != 64
        || !proof
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        return Err(ApiError::bad_request(DELETE_REPLY_BODY));
    }
    let mut secret = Zeroizing::new([0u8; 32]);
    hex::decode_to_slice(proof, secret.as_mut())
        .map_err(|_| ApiError::bad_request(DELETE_REPLY_BODY))?;
    let stands_for = mailbox_id_of_secret(&secret);
    if bool::from(stands_for.as_bytes().ct_eq(mailbox.as_bytes())) {
        Ok(())
    } else {
        Err(ApiError::not_the_mailbox_secret())
    }
}
