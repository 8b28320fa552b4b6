//! Clean-up: expired spent tags, the chunks of uploads a crash cut short
//! (once older than any upload can last), and expired upload sessions; at
//! start and every so many commits.

use std::sync::atomic::Ordering;

use super::PgStore;
use super::sql::to_sql;
use crate::store::{Store, StoreError};
use crate::time;

/// Commits between two clean-ups of expired tags and abandoned uploads.
const CLEAN_EVERY: u64 = 2000;

impl PgStore {
    /// Removes expired spent tags and the chunks of abandoned uploads.
    pub(super) async fn clean(&self) -> Result<(), StoreError> {
        let now = to_sql(time::now());
        let cutoff = now - to_sql(self.inner.stale_after);
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        tx.execute("DELETE FROM spent WHERE expires <= $1", &[&now])
            .await?;
        tx.execute(
            "DELETE FROM chunks WHERE blob IN (SELECT id FROM uploads WHERE started < $1)",
            &[&cutoff],
        )
        .await?;
        let abandoned = tx
            .execute("DELETE FROM uploads WHERE started < $1", &[&cutoff])
            .await?;
        tx.commit().await?;
        if abandoned > 0 {
            eprintln!("sealtip-relay: removed {abandoned} unfinished upload(s) left by a stop");
        }
        self.remove_expired_sessions().await?;
        Ok(())
    }

    /// After every [`CLEAN_EVERY`] commits, cleans up in the background.
    pub(super) fn clean_now_and_then(&self) {
        let commits = self.inner.commits.fetch_add(1, Ordering::Relaxed) + 1;
        if commits.is_multiple_of(CLEAN_EVERY) {
            let store = self.clone();
            tokio::spawn(async move {
                if let Err(e) = store.clean().await {
                    eprintln!("sealtip-relay: clean-up failed: {e}");
                }
            });
        }
    }
}
