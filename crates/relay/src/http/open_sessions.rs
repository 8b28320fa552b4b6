//! The upload sessions this relay opened, in memory: each one's agency, the
//! most bytes its proof allows, and when it last heard from its tipster (on
//! the load's [`Clock`](super::load::Clock)). Nothing of it is stored.
//!
//! When an agency's sessions (or the relay's) are all taken, a new session
//! with a solved proof takes the place of the one silent longest, if it has
//! been silent longer than `limits.upload_idle_secs` (a part may stay silent
//! no longer): holding sessions then costs a proof every few seconds each,
//! and the work rises with that rate. Sessions opened before a restart, or
//! by another relay sharing the database, are not known here and wait for
//! their expiry.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

/// One session, as this relay knows it.
#[derive(Debug, Clone)]
struct Known {
    agency: String,
    max_bytes: u64,
    heard: f64,
}

/// The sessions this relay opened.
#[derive(Debug, Default)]
pub struct OpenSessions {
    known: Mutex<HashMap<String, Known>>,
}

impl OpenSessions {
    /// Session `id` of `agency`, opened at `now`, may grow to `max_bytes`.
    /// Sessions unheard of for `forget_after` seconds are forgotten (they
    /// expired).
    pub fn opened(&self, id: &str, agency: &str, max_bytes: u64, now: f64, forget_after: f64) {
        let mut known = self.lock();
        known.retain(|_, k| now - k.heard < forget_after);
        known.insert(
            id.to_owned(),
            Known {
                agency: agency.to_owned(),
                max_bytes,
                heard: now,
            },
        );
    }

    /// Session `id` received a part at `now`.
    pub fn heard(&self, id: &str, now: f64) {
        if let Some(k) = self.lock().get_mut(id) {
            k.heard = now;
        }
    }

    /// Session `id` ended (committed, deleted or evicted).
    pub fn ended(&self, id: &str) {
        self.lock().remove(id);
    }

    /// The most bytes session `id` may grow to, if known.
    pub fn max_bytes(&self, id: &str) -> Option<u64> {
        self.lock().get(id).map(|k| k.max_bytes)
    }

    /// Sessions of `agency` (any agency if `None`) silent for longer than
    /// `silence` seconds at `now`, the longest silent first.
    pub fn silent(&self, agency: Option<&str>, now: f64, silence: f64) -> Vec<String> {
        let known = self.lock();
        let mut silent: Vec<(&String, f64)> = known
            .iter()
            .filter(|(_, k)| agency.is_none_or(|a| a == k.agency) && now - k.heard > silence)
            .map(|(id, k)| (id, k.heard))
            .collect();
        silent.sort_by(|a, b| a.1.total_cmp(&b.1));
        silent.into_iter().map(|(id, _)| id.clone()).collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Known>> {
        self.known.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
