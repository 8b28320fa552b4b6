//! An agency's items and replies past its retention, deleted a few at a
//! time, each batch one transaction with their chunks and the inbox count.

use super::PgStore;
use super::sql::to_sql;
use super::writer::random_shard;
use crate::store::StoreError;

/// Items one transaction deletes at most (with all their chunks).
const BATCH: i64 = 64;

impl PgStore {
    /// Deletes every item and reply of `agency` received before `cutoff`,
    /// with their chunks, in batches. Rows another relay is deleting right
    /// now are skipped, not waited for. Answers how many.
    pub(super) async fn expire_agency(&self, agency: &str, cutoff: u64) -> Result<u64, StoreError> {
        let mut removed = 0;
        loop {
            let batch = self.expire_batch(agency, cutoff).await?;
            removed += batch;
            if batch < BATCH as u64 {
                return Ok(removed);
            }
        }
    }

    async fn expire_batch(&self, agency: &str, cutoff: u64) -> Result<u64, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let rows = tx
            .query(
                "DELETE FROM items WHERE id IN
                 (SELECT id FROM items WHERE agency = $1 AND received < $2
                  LIMIT $3 FOR UPDATE SKIP LOCKED)
                 RETURNING id, kind",
                &[&agency, &to_sql(cutoff), &BATCH],
            )
            .await?;
        let mut ids = Vec::with_capacity(rows.len());
        let mut inbox: i64 = 0;
        for row in &rows {
            let id: String = row.try_get(0)?;
            let kind: String = row.try_get(1)?;
            if kind != "reply" {
                inbox += 1;
            }
            ids.push(id);
        }
        tx.execute("DELETE FROM chunks WHERE blob = ANY($1)", &[&ids])
            .await?;
        if inbox > 0 {
            tx.execute(
                "INSERT INTO inbox_counts (agency, shard, n) VALUES ($1, $2, -$3::BIGINT)
                 ON CONFLICT (agency, shard) DO UPDATE SET n = inbox_counts.n - $3::BIGINT",
                &[&agency, &random_shard()?, &inbox],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(ids.len() as u64)
    }
}
