//! What handlers check on every request, as axum extractors: the agency in
//! the path and its bearer token, ids in the path, the proof of work, the
//! upload offset; and the headers of a sealed body.
//!
//! Each rejection is an [`ApiError`]. Where a handler must check other
//! things first (the order decides which refusal a client sees, and a proof
//! must not be spent on a request refused anyway), it takes
//! `Result<Extractor, ApiError>` and applies `?` in its place.

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use sealtip_api::pow::{self, ChallengeInfo, Solution};
use sealtip_api::{PROOF_HEADER, UPLOAD_OFFSET_HEADER, is_valid_id};
use zeroize::Zeroizing;

use super::{AppState, UPLOAD_CONTENT_TYPE, load};
use crate::config::{Agency, Relay, is_agency_id};
use crate::error::ApiError;
use crate::store::{SpentTag, Store};
use crate::time;

/// The largest JSON body a request to open an upload session or delete a
/// reply may have.
pub const MAX_JSON_BYTES: usize = 1024;

/// The agency named by `{agency}` in the path, configured on this relay
/// (else 404); holds its id.
pub struct KnownAgency(pub String);

impl<S: Store> FromRequestParts<AppState<S>> for KnownAgency {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        st: &AppState<S>,
    ) -> Result<Self, Self::Rejection> {
        let agency = agency_in_path(parts, st).await?;
        Ok(KnownAgency(agency.profile.id.clone()))
    }
}

/// Like [`KnownAgency`], for a request that also carries one of the
/// agency's tokens as `Authorization: Bearer` (else 401).
pub struct AuthorizedAgency(pub String);

impl<S: Store> FromRequestParts<AppState<S>> for AuthorizedAgency {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        st: &AppState<S>,
    ) -> Result<Self, Self::Rejection> {
        let agency = agency_in_path(parts, st).await?;
        check_token(agency, &parts.headers)?;
        Ok(AuthorizedAgency(agency.profile.id.clone()))
    }
}

/// The agency `{agency}` in the path names.
async fn agency_in_path<'a, S: Store>(
    parts: &mut Parts,
    st: &'a AppState<S>,
) -> Result<&'a Agency, ApiError> {
    let id = path_param(parts, st, "agency").await?;
    agency(&st.relay, &id)
}

/// The agency `id` names, or 404 for one not configured (or not an id).
pub fn agency<'a>(relay: &'a Relay, id: &str) -> Result<&'a Agency, ApiError> {
    if !is_agency_id(id) {
        return Err(ApiError::unknown_agency());
    }
    relay.agencies.get(id).ok_or_else(ApiError::unknown_agency)
}

/// 401 unless `headers` carry one of `agency`'s tokens as
/// `Authorization: Bearer <token>`.
pub fn check_token(agency: &Agency, headers: &HeaderMap) -> Result<(), ApiError> {
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

/// An extractor for a random id in the path: 32 lowercase hex digits, else
/// 400.
macro_rules! path_id {
    ($name:ident, $param:literal) => {
        #[doc = concat!("The `{", $param, "}` id in the path, well formed (else 400).")]
        pub struct $name(pub String);

        impl<S: Send + Sync> FromRequestParts<S> for $name {
            type Rejection = ApiError;

            async fn from_request_parts(
                parts: &mut Parts,
                state: &S,
            ) -> Result<Self, Self::Rejection> {
                let id = path_param(parts, state, $param).await?;
                if is_valid_id(&id) {
                    Ok($name(id))
                } else {
                    Err(ApiError::malformed_id($param))
                }
            }
        }
    };
}

path_id!(ItemId, "item");
path_id!(MailboxId, "mailbox");
path_id!(ReplyId, "reply");
path_id!(UploadId, "upload");

/// The path parameter `name`, percent-decoded (a path that does not decode
/// is refused as axum refuses it).
async fn path_param<S: Send + Sync>(
    parts: &mut Parts,
    state: &S,
    name: &str,
) -> Result<String, ApiError> {
    let Path(mut params) =
        Path::<HashMap<String, String>>::from_request_parts(parts, state).await?;
    params.remove(name).ok_or_else(ApiError::no_such_route)
}

/// A proof of work from the `Sealtip-Proof` header, its token the relay's
/// own and unexpired (cheap checks; the solution is checked by
/// [`ProofOfWork::check`]): 400 when missing or malformed, 403 when not the
/// relay's or expired.
pub struct ProofOfWork {
    solution: Solution,
    info: ChallengeInfo,
}

impl<S: Store> FromRequestParts<AppState<S>> for ProofOfWork {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        st: &AppState<S>,
    ) -> Result<Self, Self::Rejection> {
        let value = parts
            .headers
            .get(PROOF_HEADER)
            .ok_or_else(ApiError::missing_proof)?
            .to_str()
            .map_err(|_| ApiError::from(pow::PowError::MalformedProof))?;
        let solution = Solution::parse_header(value)?;
        let info = pow::verify_token(&st.relay.secret, &solution.challenge, time::now())?;
        Ok(ProofOfWork { solution, info })
    }
}

impl ProofOfWork {
    /// Checks that the proof was issued for `agency` and a sealed file of
    /// `bytes` (if declared), that it is not far cheaper than the agency's
    /// load asks now, and that it is solved (the memory-hard check, off the
    /// async threads). Nothing is spent.
    pub async fn check<S: Store>(
        self,
        st: &AppState<S>,
        agency: &str,
        bytes: Option<u64>,
    ) -> Result<SolvedProof, ApiError> {
        let scope = self.info.scope;
        if !scope.admits_agency(agency) {
            return Err(ApiError::proof_for_another_agency());
        }
        if bytes.is_some_and(|n| n > scope.max_bytes()) {
            return Err(ApiError::larger_than_proof(scope.max_bytes()));
        }
        let usage = st.recent_usage().await?;
        let now = st.load.work(&st.relay, &usage, agency, scope.size_class);
        let calm = load::calm_work(&st.relay, scope.size_class);
        let under_load = u64::from(now) >= u64::from(calm) * load::SLACK;
        if under_load && u64::from(self.info.work) * load::SLACK < u64::from(now) {
            return Err(ApiError::proof_too_cheap());
        }
        let ProofOfWork { solution, info } = self;
        tokio::task::spawn_blocking(move || {
            pow::check_solution(&solution.challenge, &info, solution.nonce)
        })
        .await
        .map_err(|e| ApiError::unavailable(format!("proof-of-work task: {e}")))??;
        Ok(SolvedProof(info))
    }
}

/// A proof checked for its agency and size, solved, not yet spent.
pub struct SolvedProof(ChallengeInfo);

impl SolvedProof {
    /// The largest sealed file it was issued for.
    pub fn max_bytes(&self) -> u64 {
        self.0.scope.max_bytes()
    }

    /// Records the proof as spent: 409 if it was spent before.
    pub async fn spend<S: Store>(self, store: &S) -> Result<SpentTag, ApiError> {
        let tag = SpentTag {
            tag: self.0.tag,
            expires: self.0.expires,
        };
        if store.spend(tag).await? {
            Ok(tag)
        } else {
            Err(ApiError::proof_spent())
        }
    }
}

/// A tipster's request that spends a proof of work (a tip, a message, an
/// upload session): the agency in the path (else 404), the proof (its token
/// checked, not its solution: the handler checks it in its turn), the
/// headers and the body.
pub struct TipsterRequest {
    /// The agency's id.
    pub agency: String,
    /// The proof of work, or why it is refused.
    pub proof: Result<ProofOfWork, ApiError>,
    /// The request's headers.
    pub headers: HeaderMap,
    /// The body, unread.
    pub body: Body,
}

impl<S: Store> FromRequest<AppState<S>> for TipsterRequest {
    type Rejection = ApiError;

    async fn from_request(request: Request, st: &AppState<S>) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = request.into_parts();
        let KnownAgency(agency) = KnownAgency::from_request_parts(&mut parts, st).await?;
        let proof = ProofOfWork::from_request_parts(&mut parts, st).await;
        Ok(TipsterRequest {
            agency,
            proof,
            headers: parts.headers,
            body,
        })
    }
}

/// The `Upload-Offset` header of a part: where it starts in the sealed file,
/// in decimal bytes (else 400).
pub struct UploadOffset(pub u64);

impl<S: Send + Sync> FromRequestParts<S> for UploadOffset {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .headers
            .get(UPLOAD_OFFSET_HEADER)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty() && v.len() <= 20 && v.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|v| v.parse::<u64>().ok())
            .map(UploadOffset)
            .ok_or_else(ApiError::bad_upload_offset)
    }
}

/// 415 unless the body is declared a sealed file, 413 if its declared
/// length is over `max_bytes`.
pub fn check_sealed_headers(headers: &HeaderMap, max_bytes: u64) -> Result<(), ApiError> {
    if content_type(headers).as_deref() != Some(UPLOAD_CONTENT_TYPE) {
        return Err(ApiError::unsupported_media_type(format!(
            "the body must be a sealed age file sent as {UPLOAD_CONTENT_TYPE}"
        )));
    }
    if declared_length(headers).is_some_and(|n| n > max_bytes) {
        return Err(ApiError::too_large(max_bytes));
    }
    Ok(())
}

/// A small JSON body: 415 unless declared JSON, 400 beyond
/// [`MAX_JSON_BYTES`]. `must_be` says what it must hold, for the 415. The
/// buffer is zeroized when dropped (a body may hold a secret).
pub async fn json_body(
    headers: &HeaderMap,
    body: Body,
    must_be: &str,
) -> Result<Zeroizing<Vec<u8>>, ApiError> {
    if content_type(headers).as_deref() != Some("application/json") {
        return Err(ApiError::unsupported_media_type(format!(
            "{must_be}, sent as application/json"
        )));
    }
    let bytes = axum::body::to_bytes(body, MAX_JSON_BYTES)
        .await
        .map_err(|_| ApiError::json_too_large(MAX_JSON_BYTES))?;
    Ok(Zeroizing::new(Vec::from(bytes)))
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
pub fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
}
