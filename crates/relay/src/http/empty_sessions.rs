//! Upload sessions that receive nothing end within minutes, so that opening
//! sessions and sending nothing holds an agency's sessions only briefly.
//!
//! The store keeps session expiries on the hour (nothing finer tells when a
//! session opened). Instead, every `limits.empty_upload_secs / 2` the relay
//! lists the sessions holding no byte and ends those that were already
//! empty at the previous look: a session that received nothing ends between
//! half and the whole of `empty_upload_secs` after it opened. The list lives
//! in memory; after a restart, the first look only lists.

use std::collections::HashSet;
use std::time::Duration;

use crate::store::{Store, StoreError};

/// The empty sessions seen at the last look.
#[derive(Debug, Default)]
pub struct EmptySessions {
    seen: HashSet<String>,
}

impl EmptySessions {
    /// Lists the empty sessions and ends those seen empty last time too.
    /// Returns how many ended.
    pub async fn sweep<S: Store>(&mut self, store: &S) -> Result<u64, StoreError> {
        let now: HashSet<String> = store.empty_sessions().await?.into_iter().collect();
        let mut ended = 0;
        for id in now.intersection(&self.seen) {
            if store.drop_empty_session(id).await? {
                ended += 1;
            }
        }
        self.seen = now;
        Ok(ended)
    }
}

/// Sweeps every `empty_secs / 2` seconds, until dropped. The log says what
/// failed, never how many or which.
pub async fn end_every<S: Store>(store: S, empty_secs: u64) {
    let mut every = tokio::time::interval(Duration::from_secs((empty_secs / 2).max(1)));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut sessions = EmptySessions::default();
    loop {
        every.tick().await;
        if let Err(e) = sessions.sweep(&store).await {
            eprintln!("sealtip-relay: ending empty upload sessions failed: {e}");
        }
    }
}
