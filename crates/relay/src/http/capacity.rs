//! Capacity before proof: room for a tipster's request (open sessions, inbox,
//! storage) is checked before the proof of work is spent, so a 429 or 507
//! leaves the proof usable once room frees; then the proof is spent and
//! counted toward the agency's load.
//!
//! Opening a session checks, spends and opens under one lock (per relay), so
//! requests racing for the last session cannot overshoot the bounds or spend
//! a proof on a refusal. When the sessions are all taken, the one silent
//! longest gives its place if it has been silent longer than a part may be
//! (see [`super::open_sessions`]). Storage may still be overshot by the uploads in
//! flight when it fills (at most `limits.max_concurrent_uploads` of them).

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::OwnedMutexGuard;

use super::AppState;
use super::extract::SolvedProof;
use super::open_sessions::OpenSessions;
use crate::config::Relay;
use crate::error::ApiError;
use crate::store::{SpentTag, Store, StoreError, Usage};

/// How long a count of what the store holds is reused for challenges and
/// metrics (anyone may ask for those, often).
const RECENT: Duration = Duration::from_secs(1);

/// What capacity checks share.
#[derive(Default)]
pub struct Capacity {
    /// Held while a session is checked for, opened and counted.
    gate: Arc<tokio::sync::Mutex<()>>,
    recent: Mutex<Option<(Instant, Arc<Usage>)>>,
    /// The sessions this relay opened: agency, size allowed, last heard.
    sessions: OpenSessions,
}

/// A request admitted: its proof spent, room checked.
pub struct Admitted {
    /// The spent proof, to record with the item or session.
    pub spent: SpentTag,
    /// The most bytes the sealed file may have.
    pub max_bytes: u64,
    /// Held until the session is open, for a session.
    _gate: Option<OwnedMutexGuard<()>>,
}

/// What a tipster's request asks room for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asking {
    /// An item sent in one request, of this many bytes if declared.
    Item(Option<u64>),
    /// An upload session.
    Session,
}

impl<S: Store> AppState<S> {
    /// What the store holds now.
    pub(crate) async fn usage(&self) -> Result<Arc<Usage>, ApiError> {
        let usage = Arc::new(self.store.usage().await?);
        *lock(&self.capacity.recent) = Some((Instant::now(), usage.clone()));
        Ok(usage)
    }

    /// What the store held at most a second ago.
    pub(crate) async fn recent_usage(&self) -> Result<Arc<Usage>, ApiError> {
        if let Some((at, usage)) = lock(&self.capacity.recent).as_ref()
            && at.elapsed() < RECENT
        {
            return Ok(usage.clone());
        }
        self.usage().await
    }

    /// Checks room for what `asking` needs in `agency`, then spends `proof`
    /// and counts it toward the agency's load.
    pub(crate) async fn admit(
        &self,
        agency: &str,
        proof: SolvedProof,
        asking: Asking,
    ) -> Result<Admitted, ApiError> {
        let gate = match asking {
            Asking::Session => Some(self.capacity.gate.clone().lock_owned().await),
            Asking::Item(_) => None,
        };
        let usage = self.usage().await?;
        let relay = &self.relay;
        let own = usage.of(agency);
        if own.items >= relay.limits.max_items_per_agency {
            return Err(StoreError::Full.into());
        }
        if asking == Asking::Session {
            if own.open_sessions >= relay.limits.max_open_uploads_per_agency
                && !self.evict_silent(Some(agency)).await?
            {
                return Err(ApiError::agency_sessions_full());
            }
            if usage.total().open_sessions >= relay.limits.max_open_uploads
                && !self.evict_silent(None).await?
            {
                return Err(StoreError::TooManySessions.into());
            }
        }
        let bytes = match asking {
            Asking::Item(declared) => declared.unwrap_or(0),
            Asking::Session => 0,
        };
        check_storage(relay, &usage, agency, bytes)?;
        let max_bytes = proof.max_bytes().min(relay.limits.max_upload_bytes);
        let spent = proof.spend(&self.store).await?;
        self.load.record(agency);
        Ok(Admitted {
            spent,
            max_bytes,
            _gate: gate,
        })
    }

    /// 507 unless `agency` and the relay have room for `bytes` more.
    pub(crate) async fn check_room_for(&self, agency: &str, bytes: u64) -> Result<(), ApiError> {
        check_storage(&self.relay, &*self.usage().await?, agency, bytes)
    }

    /// Records session `id` of `agency`, opened now, growing to `max_bytes`
    /// at most.
    pub(crate) fn session_opened(&self, id: &str, agency: &str, max_bytes: u64) {
        let forget_after = self.relay.limits.upload_session_secs as f64 + 3600.0;
        let now = self.load.clock.now();
        self.capacity
            .sessions
            .opened(id, agency, max_bytes, now, forget_after);
    }

    /// Records that session `id` received a part now.
    pub(crate) fn session_heard(&self, id: &str) {
        self.capacity.sessions.heard(id, self.load.clock.now());
    }

    /// The most bytes session `id` may grow to.
    pub(crate) fn session_cap(&self, id: &str) -> u64 {
        let relay_max = self.relay.limits.max_upload_bytes;
        self.capacity
            .sessions
            .max_bytes(id)
            .map_or(relay_max, |max| max.min(relay_max))
    }

    /// Forgets session `id`, ended.
    pub(crate) fn session_ended(&self, id: &str) {
        self.capacity.sessions.ended(id);
    }

    /// Ends the session of `agency` (any agency if `None`) silent longest,
    /// if one has been silent longer than a part may be. `true` if one ended.
    async fn evict_silent(&self, agency: Option<&str>) -> Result<bool, ApiError> {
        let silence = self.relay.limits.upload_idle_secs as f64;
        let now = self.load.clock.now();
        for id in self.capacity.sessions.silent(agency, now, silence) {
            match self.store.drop_session(&id).await {
                Ok(true) => {
                    self.session_ended(&id);
                    return Ok(true);
                }
                Ok(false) => self.session_ended(&id),
                // A part is arriving meanwhile: not silent after all.
                Err(StoreError::Conflict(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(false)
    }
}

/// 507 unless `agency`'s share and the relay's storage have room for
/// `bytes` more.
fn check_storage(relay: &Relay, usage: &Usage, agency: &str, bytes: u64) -> Result<(), ApiError> {
    let agency_max = relay
        .agencies
        .get(agency)
        .map_or(relay.limits.max_bytes, |a| a.max_bytes);
    if usage.total().bytes.saturating_add(bytes.max(1)) > relay.limits.max_bytes {
        return Err(ApiError::relay_storage_full());
    }
    if usage.of(agency).bytes.saturating_add(bytes.max(1)) > agency_max {
        return Err(ApiError::agency_storage_full());
    }
    Ok(())
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
