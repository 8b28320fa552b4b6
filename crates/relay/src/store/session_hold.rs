//! Which upload sessions a request of this relay is writing to, so that a
//! second part, a commit or a deletion through the same relay is refused at
//! once instead of waiting. (Relays sharing a database meet at its row lock.)

use std::collections::HashSet;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};

use super::{Session, StoreError};

/// The sessions held by requests of this relay.
#[derive(Clone, Default)]
pub(crate) struct Writing(Arc<Mutex<HashSet<String>>>);

impl Writing {
    /// Holds session `id` for one request, looking it up with `stored`
    /// (the session and whatever else the backend keeps of it) while held:
    /// `Ok(None)` if unknown or expired, [`StoreError::Conflict`] if another
    /// request of this relay holds it.
    pub(crate) async fn hold<T>(
        &self,
        id: &str,
        stored: impl Future<Output = Result<Option<(Session, T)>, StoreError>>,
    ) -> Result<Option<(SessionHold, Session, T)>, StoreError> {
        let held = lock(&self.0).insert(id.to_owned());
        let hold = held.then(|| SessionHold {
            id: id.to_owned(),
            writing: self.clone(),
        });
        // Released by dropping `hold` when there is no such session.
        let Some((session, rest)) = stored.await? else {
            return Ok(None);
        };
        match hold {
            Some(hold) => Ok(Some((hold, session, rest))),
            None => Err(StoreError::Conflict(session.received)),
        }
    }

    /// Whether a request of this relay holds session `id`.
    #[cfg(feature = "sqlite")]
    pub(crate) fn is_held(&self, id: &str) -> bool {
        lock(&self.0).contains(id)
    }
}

/// A session held by a request; released when dropped.
pub(crate) struct SessionHold {
    id: String,
    writing: Writing,
}

impl Drop for SessionHold {
    fn drop(&mut self) {
        lock(&self.writing.0).remove(&self.id);
    }
}

/// Locks `mutex`, even if a panic poisoned it: what the stores keep behind
/// their mutexes is plain data, still consistent.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
