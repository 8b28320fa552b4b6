//! Agencies and proof-of-work challenges: what the page asks before a tip.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use sealtip_api::pow::{self, Scope};
use sealtip_api::{Agencies, AgencyProfile, AgencySummary, Challenge, ChallengeRequest};

use super::AppState;
use super::extract::{agency, declared_length, json_body};
use crate::error::ApiError;
use crate::store::Store;
use crate::time;

/// `GET /api/v1/agencies`: every agency, by id, and the default one.
pub async fn list_agencies<S: Store>(State(st): State<AppState<S>>) -> Json<Agencies> {
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

/// `GET /api/v1/agencies/{agency}`: its public profile.
pub async fn get_agency<S: Store>(
    State(st): State<AppState<S>>,
    Path(id): Path<String>,
) -> Result<Json<AgencyProfile>, ApiError> {
    Ok(Json(agency(&st.relay, &id)?.profile.clone()))
}

/// `POST /api/v1/challenges`: a fresh proof-of-work challenge, for the
/// agency and size the body names (`{"agency": …, "bytes": …}`, both
/// optional), asking the work that agency's load asks now.
pub async fn post_challenge<S: Store>(
    State(st): State<AppState<S>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Challenge>, ApiError> {
    let asked = challenge_request(&headers, body).await?;
    if let Some(id) = &asked.agency {
        agency(&st.relay, id)?;
    }
    if let Some(bytes) = asked.bytes
        && bytes > st.relay.limits.max_upload_bytes
    {
        return Err(ApiError::too_large(st.relay.limits.max_upload_bytes));
    }
    let scope = Scope {
        agency: asked.agency.as_deref().map(pow::agency_tag),
        size_class: asked.bytes.map_or(pow::ANY_SIZE, pow::size_class),
    };
    let usage = st.recent_usage().await?;
    let work = match &asked.agency {
        Some(id) => st.load.work(&st.relay, &usage, id, scope.size_class),
        None => st.load.work_for_any(&st.relay, &usage, scope.size_class),
    };
    let mut random = [0u8; 16];
    getrandom::fill(&mut random)
        .map_err(|e| ApiError::unavailable(format!("random generator: {e}")))?;
    let lifetime = st.relay.pow.challenge_lifetime_secs;
    let token = pow::issue_for(
        &st.relay.secret,
        work,
        scope,
        time::now() + lifetime,
        random,
    );
    Ok(Json(Challenge {
        challenge: token,
        difficulty: pow::work_bits(work),
        work,
        expires_in: lifetime,
    }))
}

const CHALLENGE_BODY: &str =
    "the body must be empty or {\"agency\": \"<id>\", \"bytes\": <sealed size>}, both optional";

/// The body of a challenge request: empty, or a [`ChallengeRequest`].
async fn challenge_request(headers: &HeaderMap, body: Body) -> Result<ChallengeRequest, ApiError> {
    if declared_length(headers) == Some(0) || !headers.contains_key(header::CONTENT_TYPE) {
        return Ok(ChallengeRequest::default());
    }
    let bytes = json_body(headers, body, CHALLENGE_BODY).await?;
    if bytes.is_empty() {
        return Ok(ChallengeRequest::default());
    }
    serde_json::from_slice(&bytes).map_err(|_| ApiError::bad_request(CHALLENGE_BODY))
}
