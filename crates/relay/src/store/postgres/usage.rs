//! What the relay counts before it spends a proof: items, replies, bytes
//! and open sessions per agency; and the sessions that received nothing.

use futures_util::future::try_join;

use super::PgStore;
use super::sql::{from_sql, to_sql};
use crate::store::{AgencyUsage, StoreError, Usage};
use crate::time;

impl PgStore {
    /// Items, replies, bytes and open sessions per agency.
    pub(super) async fn count_usage(&self) -> Result<Usage, StoreError> {
        let client = self.client().await?;
        let (items, sessions) = try_join(
            client.prepare_cached(
                "SELECT agency,
                        COUNT(*) FILTER (WHERE kind IN ('tip', 'message', 'case')),
                        COUNT(*) FILTER (WHERE kind = 'reply'),
                        COALESCE(SUM(size), 0)::BIGINT
                 FROM items GROUP BY agency",
            ),
            client.prepare_cached(
                "SELECT agency, COUNT(*), COALESCE(SUM(received), 0)::BIGINT
                 FROM sessions WHERE expires > $1 GROUP BY agency",
            ),
        )
        .await?;
        let now = to_sql(time::now());
        let (items, sessions) =
            try_join(client.query(&items, &[]), client.query(&sessions, &[&now])).await?;
        let mut usage = Usage::default();
        for row in items {
            let agency: String = row.try_get(0)?;
            usage.agencies.insert(
                agency,
                AgencyUsage {
                    items: from_sql(row.try_get(1)?),
                    replies: from_sql(row.try_get(2)?),
                    bytes: from_sql(row.try_get(3)?),
                    open_sessions: 0,
                },
            );
        }
        for row in sessions {
            let agency: String = row.try_get(0)?;
            usage.add_bytes(&agency, from_sql(row.try_get(2)?));
            usage.agencies.entry(agency).or_default().open_sessions = from_sql(row.try_get(1)?);
        }
        Ok(usage)
    }

    /// The ids of unexpired sessions holding no byte.
    pub(super) async fn list_empty_sessions(&self) -> Result<Vec<String>, StoreError> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached("SELECT id FROM sessions WHERE expires > $1 AND received = 0")
            .await?;
        let rows = client.query(&stmt, &[&to_sql(time::now())]).await?;
        Ok(rows
            .iter()
            .map(|row| row.try_get(0))
            .collect::<Result<_, _>>()?)
    }

    /// Ends session `id` if it holds no byte and no request on any relay
    /// holds its row.
    pub(super) async fn end_empty_session(&self, id: &str) -> Result<bool, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let session = match self.lock_session(&tx, id).await {
            Ok(Some(session)) => session,
            Ok(None) | Err(StoreError::Conflict(_)) => return Ok(false),
            Err(e) => return Err(e),
        };
        if session.received > 0 {
            return Ok(false);
        }
        tx.execute("DELETE FROM chunks WHERE blob = $1", &[&session.blob])
            .await?;
        tx.execute("DELETE FROM sessions WHERE id = $1", &[&id])
            .await?;
        tx.commit().await?;
        Ok(true)
    }
}
