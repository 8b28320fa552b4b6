//! Agencies and proof-of-work challenges: what the page asks before a tip.

use axum::Json;
use axum::extract::{Path, State};
use sealtip_api::pow;
use sealtip_api::{Agencies, AgencyProfile, AgencySummary, Challenge};

use super::AppState;
use super::extract::agency;
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

/// `POST /api/v1/challenges`: a fresh proof-of-work challenge.
pub async fn post_challenge<S: Store>(
    State(st): State<AppState<S>>,
) -> Result<Json<Challenge>, ApiError> {
    let mut random = [0u8; 16];
    getrandom::fill(&mut random)
        .map_err(|e| ApiError::unavailable(format!("random generator: {e}")))?;
    let lifetime = st.relay.pow.challenge_lifetime_secs;
    let difficulty = st.relay.pow.difficulty;
    let token = pow::issue(&st.relay.secret, difficulty, time::now() + lifetime, random);
    Ok(Json(Challenge {
        challenge: token,
        difficulty,
        expires_in: lifetime,
    }))
}
