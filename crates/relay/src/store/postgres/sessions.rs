//! The row lock a part, a commit or a deletion takes on an upload session,
//! so that requests through any relay sharing the database meet there.

use deadpool_postgres::GenericClient;
use sealtip_api::{ItemKind, is_valid_id};
use tokio_postgres::error::SqlState;

use super::PgStore;
use super::sql::{from_sql, to_sql};
use crate::store::{Place, Store, StoreError};
use crate::time;

/// A session row locked for a part or a commit.
pub(super) struct LockedSession {
    pub(super) blob: String,
    pub(super) agency: String,
    pub(super) kind: ItemKind,
    pub(super) received: u64,
    pub(super) chunks: i32,
}

impl PgStore {
    /// Locks the row of session `id` in `tx`, unless unknown or expired;
    /// [`StoreError::Conflict`] if a request on any relay holds it.
    pub(super) async fn lock_session(
        &self,
        tx: &impl GenericClient,
        id: &str,
    ) -> Result<Option<LockedSession>, StoreError> {
        if !is_valid_id(id) {
            return Ok(None);
        }
        let now = to_sql(time::now());
        let statement = tx
            .prepare_cached(
                "SELECT blob, agency, kind, received, chunks FROM sessions
                 WHERE id = $1 AND expires > $2 FOR UPDATE NOWAIT",
            )
            .await?;
        let row = match tx.query_opt(&statement, &[&id, &now]).await {
            Ok(row) => row,
            Err(e) if e.code() == Some(&SqlState::LOCK_NOT_AVAILABLE) => {
                return match self.session(id).await? {
                    Some(session) => Err(StoreError::Conflict(session.received)),
                    None => Ok(None),
                };
            }
            Err(e) => return Err(e.into()),
        };
        let Some(row) = row else { return Ok(None) };
        Ok(Some(LockedSession {
            blob: row.try_get(0)?,
            agency: row.try_get(1)?,
            kind: Place::inbox_kind(row.try_get(2)?),
            received: from_sql(row.try_get(3)?),
            chunks: row.try_get(4)?,
        }))
    }
}
