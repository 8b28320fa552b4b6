//! The router: every route, the security headers, and the handlers, grouped
//! by resource.
//!
//! Handlers take no client address, user agent, referrer or cookie: none of
//! them is extracted, so none can be stored or logged.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use sealtip_api::pow::{self, Solution};
use sealtip_api::{
    Agencies, AgencyProfile, AgencySummary, Challenge, Created, Inbox, InboxItem, ItemKind,
    Mailbox, PART_MAX_BYTES, PROOF_HEADER, Reply, UPLOAD_OFFSET_HEADER, UploadProgress,
    UploadRequest, UploadSession, is_valid_id,
};
use sealtip_envelope::codename::mailbox_id_of_secret;
use serde::Deserialize;
use std::time::Duration;
use subtle::ConstantTimeEq;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::io::ReaderStream;
use zeroize::Zeroizing;

use crate::config::{Agency, Relay, is_agency_id};
use crate::error::{ApiError, ensure_json_error};
use crate::store::{ItemMeta, Place, SpentTag, Store};
use crate::upload::{self, UploadLimits};
use crate::{assets, time};

/// The content type every upload must declare.
pub const UPLOAD_CONTENT_TYPE: &str = "application/octet-stream";
/// How often expired upload sessions, and replies past their retention, are
/// removed.
const CLEANING: Duration = Duration::from_secs(600);
/// The largest JSON body a request to open an upload session or delete a
/// reply may have.
const MAX_JSON_BYTES: usize = 1024;
/// The unit of `limits.part_buffer_bytes` that parts take.
const MIB: u64 = 1024 * 1024;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState<S> {
    /// Storage.
    pub store: S,
    /// The checked configuration.
    pub relay: Arc<Relay>,
    uploads: Arc<Semaphore>,
    /// `limits.part_buffer_bytes` in MiB, for stores that keep parts in memory.
    part_memory: Arc<Semaphore>,
}

impl<S: Store> AppState<S> {
    /// State over `store` and `relay`.
    ///
    /// Inside a Tokio runtime, it also removes expired upload sessions and
    /// replies past their retention, at once and then every ten minutes, for
    /// as long as the runtime runs (beside the requests, never before one).
    pub fn new(store: S, relay: Arc<Relay>) -> Self {
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let (store, relay) = (store.clone(), relay.clone());
            runtime.spawn(async move {
                let mut every = tokio::time::interval(CLEANING);
                every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    every.tick().await;
                    clean(&store, &relay).await;
                }
            });
        }
        let uploads = Arc::new(Semaphore::new(relay.limits.max_concurrent_uploads));
        let part_mib = usize::try_from(relay.limits.part_buffer_bytes / MIB).unwrap_or(usize::MAX);
        let part_memory = Arc::new(Semaphore::new(part_mib.min(Semaphore::MAX_PERMITS)));
        AppState {
            store,
            relay,
            uploads,
            part_memory,
        }
    }

    fn agency(&self, id: &str) -> Result<&Agency, ApiError> {
        if !is_agency_id(id) {
            return Err(ApiError::unknown_agency());
        }
        self.relay
            .agencies
            .get(id)
            .ok_or_else(ApiError::unknown_agency)
    }

    fn upload_limits(&self) -> UploadLimits {
        UploadLimits {
            max_bytes: self.relay.limits.max_upload_bytes,
            idle: self.relay.upload_idle(),
            total: self.relay.upload_total(),
        }
    }
}

/// Removes expired upload sessions and replies past their retention. The
/// log says what failed, never how many or which.
async fn clean<S: Store>(store: &S, relay: &Relay) {
    if let Err(e) = store.remove_expired_sessions().await {
        eprintln!("sealtip-relay: removing expired upload sessions failed: {e}");
    }
    let cutoff = relay.reply_cutoff(time::now());
    if let Err(e) = store.remove_replies_before(cutoff).await {
        eprintln!("sealtip-relay: removing replies past their retention failed: {e}");
    }
}

/// The whole application: API, page and security headers.
pub fn router<S: Store>(state: AppState<S>) -> Router {
    Router::new()
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/challenges", post(post_challenge))
        .route("/api/v1/agencies", get(list_agencies))
        .route("/api/v1/agencies/{agency}", get(get_agency))
        .route("/api/v1/agencies/{agency}/tips", post(post_tip))
        .route("/api/v1/agencies/{agency}/messages", post(post_message))
        .route("/api/v1/agencies/{agency}/uploads", post(post_upload))
        .route(
            "/api/v1/uploads/{upload}",
            get(get_upload).patch(patch_upload).delete(delete_upload),
        )
        .route("/api/v1/uploads/{upload}/commit", post(commit_upload))
        .route("/api/v1/agencies/{agency}/inbox", get(get_inbox))
        .route(
            "/api/v1/agencies/{agency}/inbox/{item}",
            get(get_item).delete(delete_item),
        )
        .route(
            "/api/v1/agencies/{agency}/mailboxes/{mailbox}",
            get(get_mailbox).post(post_reply),
        )
        .route(
            "/api/v1/agencies/{agency}/mailboxes/{mailbox}/{reply}",
            get(get_reply).delete(delete_reply),
        )
        .fallback(fallback)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security_headers::<S>,
        ))
        .with_state(state)
}

// --- Agencies ---------------------------------------------------------------

async fn list_agencies<S: Store>(State(st): State<AppState<S>>) -> Json<Agencies> {
    let mut agencies: Vec<AgencySummary> = st
        .relay
        .agencies
        .values()
        .map(|a| AgencySummary {
            id: a.profile.id.clone(),
            name: a.profile.name.clone(),
        })
        .collect();
    agencies.sort_by(|a, b| a.id.cmp(&b.id));
    Json(Agencies {
        default: st.relay.default_agency.clone(),
        agencies,
    })
}

async fn get_agency<S: Store>(
    State(st): State<AppState<S>>,
    Path(agency): Path<String>,
) -> Result<Json<AgencyProfile>, ApiError> {
    Ok(Json(st.agency(&agency)?.profile.clone()))
}

// --- Challenges -------------------------------------------------------------

async fn post_challenge<S: Store>(
    State(st): State<AppState<S>>,
) -> Result<Json<Challenge>, ApiError> {
    let mut random = [0u8; 16];
    getrandom::fill(&mut random).map_err(|e| {
        ApiError::from(crate::store::StoreError::Failed(format!(
            "random generator: {e}"
        )))
    })?;
    let lifetime = st.relay.pow.challenge_lifetime_secs;
    let difficulty = st.relay.pow.difficulty;
    let token = pow::issue(&st.relay.secret, difficulty, time::now() + lifetime, random);
    Ok(Json(Challenge {
        challenge: token,
        difficulty,
        expires_in: lifetime,
    }))
}

// --- Tips and messages (tipsters, with proof of work) -----------------------

async fn post_tip<S: Store>(
    State(st): State<AppState<S>>,
    Path(agency): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    receive_sealed(&st, &agency, ItemKind::Tip, &headers, body).await
}

async fn post_message<S: Store>(
    State(st): State<AppState<S>>,
    Path(agency): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    receive_sealed(&st, &agency, ItemKind::Message, &headers, body).await
}

async fn receive_sealed<S: Store>(
    st: &AppState<S>,
    agency: &str,
    kind: ItemKind,
    headers: &HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let agency = &st.agency(agency)?.profile.id;
    check_upload_headers(st, headers)?;
    let _permit = upload_permit(st)?;
    let spent = check_tipster(st, agency, headers).await?;
    let mut upload = st.store.begin().await?;
    upload::receive(body, &mut upload, &st.upload_limits()).await?;
    let meta = st
        .store
        .commit(
            upload,
            agency,
            Place::Inbox(kind),
            Some(spent),
            st.relay.limits.max_items_per_agency,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(Created { id: meta.id })))
}

/// The proof of work a tipster's upload carries, spent, and room in the
/// agency's inbox: what a tip and an upload session both need.
async fn check_tipster<S: Store>(
    st: &AppState<S>,
    agency: &str,
    headers: &HeaderMap,
) -> Result<SpentTag, ApiError> {
    let spent = check_proof(st, headers).await?;
    if st.store.inbox_len(agency).await? >= st.relay.limits.max_items_per_agency {
        return Err(crate::store::StoreError::Full.into());
    }
    Ok(spent)
}

fn check_upload_headers<S: Store>(st: &AppState<S>, headers: &HeaderMap) -> Result<(), ApiError> {
    if content_type(headers).as_deref() != Some(UPLOAD_CONTENT_TYPE) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("the body must be a sealed age file sent as {UPLOAD_CONTENT_TYPE}"),
        ));
    }
    if declared_length(headers).is_some_and(|n| n > st.relay.limits.max_upload_bytes) {
        return Err(ApiError::too_large(st.relay.limits.max_upload_bytes));
    }
    Ok(())
}

/// The media type of the body, lowercase, without parameters.
fn content_type(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
}

/// The declared `Content-Length`, if any.
fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
}

fn upload_permit<S: Store>(st: &AppState<S>) -> Result<OwnedSemaphorePermit, ApiError> {
    st.uploads.clone().try_acquire_owned().map_err(|_| {
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too many uploads in progress; try again shortly",
        )
    })
}

async fn check_proof<S: Store>(
    st: &AppState<S>,
    headers: &HeaderMap,
) -> Result<SpentTag, ApiError> {
    let value = headers
        .get(PROOF_HEADER)
        .ok_or_else(|| {
            ApiError::bad_request(
                "missing Sealtip-Proof header: solve a challenge from POST /api/v1/challenges",
            )
        })?
        .to_str()
        .map_err(|_| ApiError::from(pow::PowError::MalformedProof))?;
    let solution = Solution::parse_header(value)?;
    let info = pow::verify(
        &st.relay.secret,
        &solution.challenge,
        solution.nonce,
        time::now(),
    )?;
    let tag = SpentTag {
        tag: info.tag,
        expires: info.expires,
    };
    if !st.store.spend(tag).await? {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "proof-of-work challenge already used; fetch a new one",
        ));
    }
    Ok(tag)
}

// --- Upload sessions (tipsters: a sealed file in parts, resumable) -----------

async fn post_upload<S: Store>(
    State(st): State<AppState<S>>,
    Path(agency): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<UploadSession>), ApiError> {
    let agency = &st.agency(&agency)?.profile.id;
    if content_type(&headers).as_deref() != Some("application/json") {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "the body must be {\"kind\": \"tip\"} or {\"kind\": \"message\"} sent as application/json",
        ));
    }
    let bytes = axum::body::to_bytes(body, MAX_JSON_BYTES)
        .await
        .map_err(|_| ApiError::bad_request(format!("body larger than {MAX_JSON_BYTES} bytes")))?;
    let request: UploadRequest = serde_json::from_slice(&bytes).map_err(|_| {
        ApiError::bad_request("the body must be {\"kind\": \"tip\"} or {\"kind\": \"message\"}")
    })?;
    let spent = check_tipster(&st, agency, &headers).await?;
    let limits = &st.relay.limits;
    let upload = st
        .store
        .open_session(
            agency,
            request.kind,
            spent,
            st.relay.session_expiry(time::now()),
            limits.max_open_uploads,
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(UploadSession {
            upload,
            max_bytes: limits.max_upload_bytes,
            part_max_bytes: PART_MAX_BYTES,
            expires_in: limits.upload_session_secs,
        }),
    ))
}

async fn patch_upload<S: Store>(
    State(st): State<AppState<S>>,
    Path(upload): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<UploadProgress>, ApiError> {
    let part = begin_part(&st, &upload, &headers).await;
    let (mut part, offset, _permits) = match part {
        Ok(started) => started,
        Err(e) => {
            upload::discard(body).await;
            return Err(e);
        }
    };
    let header_len =
        upload::receive_part(body, &mut part, offset, &st.upload_limits(), PART_MAX_BYTES).await?;
    let expires = st.relay.session_expiry(time::now());
    let received = st
        .store
        .append(part, header_len, expires)
        .await?
        .ok_or_else(no_such_upload)?;
    Ok(Json(UploadProgress { received }))
}

/// What a part being received holds: its place among the uploads, and its
/// share of the part memory when the store keeps parts in memory.
type PartPermits = (OwnedSemaphorePermit, Option<OwnedSemaphorePermit>);

/// The checks before a part's body is read, and the part started.
async fn begin_part<S: Store>(
    st: &AppState<S>,
    upload: &str,
    headers: &HeaderMap,
) -> Result<(S::Part, u64, PartPermits), ApiError> {
    check_id(upload, "upload")?;
    check_upload_headers(st, headers)?;
    if declared_length(headers).is_some_and(|n| n > PART_MAX_BYTES) {
        return Err(upload::part_too_large(PART_MAX_BYTES));
    }
    let offset = headers
        .get(UPLOAD_OFFSET_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 20 && v.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|v| v.parse::<u64>().ok())
        .ok_or_else(|| {
            ApiError::bad_request("missing or malformed Upload-Offset header (bytes, in decimal)")
        })?;
    let permits = (upload_permit(st)?, part_memory(st, headers)?);
    let part = st
        .store
        .begin_part(upload, offset)
        .await?
        .ok_or_else(no_such_upload)?;
    Ok((part, offset, permits))
}

/// A part's share of `limits.part_buffer_bytes`, if the store keeps parts
/// in memory: its declared length (else the largest part) in whole MiB,
/// taken before its body is read. 429 at once when it does not fit: the
/// page tries again shortly, and a waiting request would hold its
/// connection and upload slot for nothing.
fn part_memory<S: Store>(
    st: &AppState<S>,
    headers: &HeaderMap,
) -> Result<Option<OwnedSemaphorePermit>, ApiError> {
    if !S::PARTS_IN_MEMORY {
        return Ok(None);
    }
    let bytes = declared_length(headers).unwrap_or(PART_MAX_BYTES);
    let mib = u32::try_from(bytes.div_ceil(MIB).max(1)).unwrap_or(u32::MAX);
    st.part_memory
        .clone()
        .try_acquire_many_owned(mib)
        .map(Some)
        .map_err(|_| {
            ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "busy receiving other parts; try again shortly",
            )
        })
}

async fn get_upload<S: Store>(
    State(st): State<AppState<S>>,
    Path(upload): Path<String>,
) -> Result<Json<UploadProgress>, ApiError> {
    let session = known_session(&st, &upload).await?;
    Ok(Json(UploadProgress {
        received: session.received,
    }))
}

async fn commit_upload<S: Store>(
    State(st): State<AppState<S>>,
    Path(upload): Path<String>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let session = known_session(&st, &upload).await?;
    let header_len = session
        .header_len
        .ok_or_else(|| ApiError::bad_request("not an age file: nothing was received"))?;
    upload::check_payload_length(session.received.saturating_sub(header_len))?;
    let meta = st
        .store
        .commit_session(
            &upload,
            session.received,
            st.relay.limits.max_items_per_agency,
        )
        .await?
        .ok_or_else(no_such_upload)?;
    Ok((StatusCode::CREATED, Json(Created { id: meta.id })))
}

async fn delete_upload<S: Store>(
    State(st): State<AppState<S>>,
    Path(upload): Path<String>,
) -> Result<StatusCode, ApiError> {
    check_id(&upload, "upload")?;
    if st.store.drop_session(&upload).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(no_such_upload())
    }
}

/// The session with id `upload`, or 400 for a malformed id and 404 for one
/// unknown, committed, deleted or expired.
async fn known_session<S: Store>(
    st: &AppState<S>,
    upload: &str,
) -> Result<crate::store::Session, ApiError> {
    check_id(upload, "upload")?;
    st.store.session(upload).await?.ok_or_else(no_such_upload)
}

fn no_such_upload() -> ApiError {
    ApiError::not_found("no such upload session (unknown, committed, deleted or expired)")
}

// --- Inbox (agency, bearer token) -------------------------------------------

fn authorize(agency: &Agency, headers: &HeaderMap) -> Result<(), ApiError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        })
        .filter(|t| !t.is_empty() && t.len() <= 1024)
        .ok_or_else(ApiError::unauthorized)?;
    if agency.accepts_token(token) {
        Ok(())
    } else {
        Err(ApiError::unauthorized())
    }
}

fn check_id(id: &str, what: &str) -> Result<(), ApiError> {
    if is_valid_id(id) {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "malformed {what} id (expected 32 lowercase hex digits)"
        )))
    }
}

async fn get_inbox<S: Store>(
    State(st): State<AppState<S>>,
    Path(agency): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Inbox>, ApiError> {
    let agency = st.agency(&agency)?;
    authorize(agency, &headers)?;
    let items = st
        .store
        .inbox(&agency.profile.id)
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
    Ok(Json(Inbox { items }))
}

async fn get_item<S: Store>(
    State(st): State<AppState<S>>,
    Path((agency, item)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let agency = st.agency(&agency)?;
    authorize(agency, &headers)?;
    check_id(&item, "item")?;
    let (meta, reader) = st
        .store
        .open(&agency.profile.id, &Place::Inbox(ItemKind::Tip), &item)
        .await?
        .ok_or_else(|| ApiError::not_found("no such item"))?;
    Ok(sealed_response(&meta, reader))
}

async fn delete_item<S: Store>(
    State(st): State<AppState<S>>,
    Path((agency, item)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let agency = st.agency(&agency)?;
    authorize(agency, &headers)?;
    check_id(&item, "item")?;
    if st.store.delete(&agency.profile.id, &item).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("no such item"))
    }
}

fn sealed_response<R: tokio::io::AsyncRead + Send + Unpin + 'static>(
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

// --- Mailboxes (replies to tipsters) ----------------------------------------

async fn post_reply<S: Store>(
    State(st): State<AppState<S>>,
    Path((agency, mailbox)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let agency = st.agency(&agency)?;
    authorize(agency, &headers)?;
    check_id(&mailbox, "mailbox")?;
    check_upload_headers(&st, &headers)?;
    let _permit = upload_permit(&st)?;
    let mut upload = st.store.begin().await?;
    upload::receive(body, &mut upload, &st.upload_limits()).await?;
    let meta = st
        .store
        .commit(
            upload,
            &agency.profile.id,
            Place::Mailbox(mailbox),
            None,
            st.relay.limits.max_replies_per_mailbox,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(Created { id: meta.id })))
}

async fn get_mailbox<S: Store>(
    State(st): State<AppState<S>>,
    Path((agency, mailbox)): Path<(String, String)>,
) -> Result<Json<Mailbox>, ApiError> {
    let agency = st.agency(&agency)?;
    check_id(&mailbox, "mailbox")?;
    let replies = st
        .store
        .mailbox(&agency.profile.id, &mailbox)
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

async fn get_reply<S: Store>(
    State(st): State<AppState<S>>,
    Path((agency, mailbox, reply)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let agency = st.agency(&agency)?;
    check_id(&mailbox, "mailbox")?;
    check_id(&reply, "reply")?;
    let (meta, reader) = st
        .store
        .open(&agency.profile.id, &Place::Mailbox(mailbox), &reply)
        .await?
        .ok_or_else(|| ApiError::not_found("no such reply"))?;
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

/// Deletes a reply: for the tipster, with the mailbox secret as proof (the
/// mailbox id alone, which the agency and every reader of the mailbox know,
/// is not enough); for the agency, with its token. No proof of work: it
/// costs the relay one hash and one delete, and deletes only what the
/// secret's holder could read anyway.
async fn delete_reply<S: Store>(
    State(st): State<AppState<S>>,
    Path((agency, mailbox, reply)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<StatusCode, ApiError> {
    let agency = st.agency(&agency)?;
    check_id(&mailbox, "mailbox")?;
    check_id(&reply, "reply")?;
    if headers.contains_key(header::AUTHORIZATION) {
        authorize(agency, &headers)?;
    } else {
        check_mailbox_proof(&mailbox, &headers, body).await?;
    }
    if st
        .store
        .delete_reply(&agency.profile.id, &mailbox, &reply)
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("no such reply"))
    }
}

/// 415 unless the body is JSON, 400 unless it is `{"proof": "<64 hex>"}`,
/// 403 unless that secret is the one `mailbox` stands for.
async fn check_mailbox_proof(
    mailbox: &str,
    headers: &HeaderMap,
    body: Body,
) -> Result<(), ApiError> {
    if content_type(headers).as_deref() != Some("application/json") {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("{DELETE_REPLY_BODY}, sent as application/json"),
        ));
    }
    let bytes = axum::body::to_bytes(body, MAX_JSON_BYTES)
        .await
        .map_err(|_| ApiError::bad_request(format!("body larger than {MAX_JSON_BYTES} bytes")))?;
    // The body holds the secret: its buffer (not copied) is zeroized.
    let bytes = Zeroizing::new(Vec::from(bytes));
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
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "the proof is not this mailbox's secret",
        ))
    }
}

// --- The API description and the page ---------------------------------------

async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        include_str!("openapi.json"),
    )
        .into_response()
}

async fn fallback<S: Store>(State(st): State<AppState<S>>, request: Request) -> Response {
    let path = request.uri().path();
    if path == "/api" || path.starts_with("/api/") {
        return ApiError::not_found("no such route").into_response();
    }
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method not allowed").into_response();
    }
    match assets::serve(&st.relay.dist, path, request.headers()).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    }
}

// --- Security headers, on every answer ---------------------------------------

const PERMISSIONS_POLICY: &str = "accelerometer=(), autoplay=(), camera=(), \
    display-capture=(), encrypted-media=(), geolocation=(), gyroscope=(), hid=(), \
    magnetometer=(), microphone=(), midi=(), payment=(), picture-in-picture=(), \
    publickey-credentials-get=(), screen-wake-lock=(), serial=(), usb=(), \
    xr-spatial-tracking=()";

async fn security_headers<S: Store>(
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
    let response = if header_bytes > st.relay.limits.max_header_bytes {
        ApiError::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            format!(
                "request headers larger than {} bytes",
                st.relay.limits.max_header_bytes
            ),
        )
        .into_response()
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
    let csp = format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' blob: data:; media-src 'self' blob:; connect-src 'self'; \
         font-src 'self'; worker-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors {frame_ancestors}"
    );
    if let Ok(value) = HeaderValue::from_str(&csp) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        "permissions-policy",
        HeaderValue::from_static(PERMISSIONS_POLICY),
    );
    headers.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
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
