//! Blobs on their way in: an upload, written a chunk at a time as it arrives
//! (the last chunk with its item), and a part of an upload session, held in
//! memory until it is whole; and the `items` row that makes a blob an item.

use super::sql::{count, exec, from_sql, skip, to_sql};
use super::{CHUNK_BYTES, PgStore};
use crate::store::session_hold::SessionHold;
use crate::store::{ItemMeta, StoreError, Upload};
use crate::time;

/// Rows per agency in `inbox_counts`.
const COUNT_SHARDS: i16 = 32;

/// Inserts the `items` row of a blob whose chunks are in place and counts
/// it in its inbox, pipelined; answers how many items its place then holds.
pub(super) async fn record_item(
    tx: &deadpool_postgres::Transaction<'_>,
    meta: &ItemMeta,
    agency: &str,
) -> Result<u64, StoreError> {
    let mailbox = meta.place.mailbox();
    let (kind, size, received) = (
        meta.place.kind_name(),
        to_sql(meta.size),
        to_sql(meta.received),
    );
    let shard = random_shard()?;
    // All at once, the count last: it includes this item.
    let (_, _, stored) = futures_util::future::try_join3(
        exec(
            tx,
            "INSERT INTO items (id, agency, kind, mailbox, size, received)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[&meta.id, &agency, &kind, &mailbox, &size, &received],
        ),
        async {
            if mailbox.is_none() {
                exec(
                    tx,
                    "INSERT INTO inbox_counts (agency, shard, n) VALUES ($1, $2, 1)
                     ON CONFLICT (agency, shard) DO UPDATE SET n = inbox_counts.n + 1",
                    &[&agency, &shard],
                )
                .await
            } else {
                skip().await
            }
        },
        async {
            match mailbox {
                None => {
                    count(
                        tx,
                        "SELECT COALESCE(SUM(n), 0)::BIGINT FROM inbox_counts
                         WHERE agency = $1",
                        &[&agency],
                    )
                    .await
                }
                Some(mailbox) => {
                    count(
                        tx,
                        "SELECT COUNT(*) FROM items
                         WHERE agency = $1 AND kind = 'reply' AND mailbox = $2",
                        &[&agency, &mailbox],
                    )
                    .await
                }
            }
        },
    )
    .await?;
    Ok(from_sql(stored))
}

/// One of the agency's `inbox_counts` rows, at random.
pub(super) fn random_shard() -> Result<i16, StoreError> {
    let mut byte = [0u8; 1];
    getrandom::fill(&mut byte).map_err(|e| StoreError::Failed(format!("random generator: {e}")))?;
    Ok(i16::from(byte[0]) % COUNT_SHARDS)
}

/// A blob being received: the current chunk in memory, earlier ones in `chunks`.
pub struct PgUpload {
    pub(super) id: String,
    pub(super) store: PgStore,
    pub(super) buffer: Vec<u8>,
    /// Chunks already in the database.
    pub(super) stored_chunks: i32,
    pub(super) written: u64,
    pub(super) committed: bool,
}

impl PgUpload {
    /// Writes the first [`CHUNK_BYTES`] of the buffer as the next chunk.
    async fn store_chunk(&mut self) -> Result<(), StoreError> {
        let mut client = self.store.client().await?;
        let tx = client.transaction().await?;
        let started = to_sql(time::this_hour());
        let first = self.stored_chunks == 0;
        futures_util::future::try_join3(
            // Made durable by the commit of the item, which waits for the
            // log past this point.
            exec(&tx, "SET LOCAL synchronous_commit = off", &[]),
            async {
                if first {
                    exec(
                        &tx,
                        "INSERT INTO uploads (id, started) VALUES ($1, $2)",
                        &[&self.id, &started],
                    )
                    .await
                } else {
                    skip().await
                }
            },
            exec(
                &tx,
                "INSERT INTO chunks (blob, n, data) VALUES ($1, $2, $3)",
                &[&self.id, &self.stored_chunks, &&self.buffer[..CHUNK_BYTES]],
            ),
        )
        .await?;
        tx.commit().await?;
        self.stored_chunks += 1;
        self.buffer.drain(..CHUNK_BYTES);
        Ok(())
    }
}

impl Drop for PgUpload {
    fn drop(&mut self) {
        if self.committed || self.stored_chunks == 0 {
            return;
        }
        // An abandoned upload: remove its chunks now (a crash's leftovers are
        // removed by the periodic clean-up instead).
        let (store, id) = (self.store.clone(), std::mem::take(&mut self.id));
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let removed = async {
                    let mut client = store.client().await?;
                    let tx = client.transaction().await?;
                    // Unless the commit went through after all (its answer lost).
                    tx.execute(
                        "DELETE FROM chunks WHERE blob = $1
                         AND NOT EXISTS (SELECT 1 FROM items WHERE id = $1)",
                        &[&id],
                    )
                    .await?;
                    tx.execute("DELETE FROM uploads WHERE id = $1", &[&id])
                        .await?;
                    tx.commit().await?;
                    Ok::<_, StoreError>(())
                }
                .await;
                if let Err(e) = removed {
                    eprintln!("sealtip-relay: could not remove an unfinished upload: {e}");
                }
            });
        }
    }
}

impl Upload for PgUpload {
    async fn write(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        self.buffer.extend_from_slice(bytes);
        self.written += bytes.len() as u64;
        while self.buffer.len() > CHUNK_BYTES {
            self.store_chunk().await?;
        }
        Ok(())
    }

    fn written(&self) -> u64 {
        self.written
    }
}

/// A part of an upload session: in memory, in chunks of [`CHUNK_BYTES`],
/// until [`crate::store::Store::append`] writes it in one transaction. It holds no
/// connection; dropping it leaves nothing.
pub struct PgPart {
    pub(super) id: String,
    /// Where it starts in the sealed file.
    pub(super) start: u64,
    pub(super) chunks: Vec<Vec<u8>>,
    pub(super) written: u64,
    pub(super) _hold: SessionHold,
}

impl Upload for PgPart {
    async fn write(&mut self, mut bytes: &[u8]) -> Result<(), StoreError> {
        self.written += bytes.len() as u64;
        while !bytes.is_empty() {
            let chunk = match self.chunks.last_mut() {
                Some(chunk) if chunk.len() < CHUNK_BYTES => chunk,
                _ => {
                    // Each chunk takes exactly its 1 MiB, never more.
                    self.chunks.push(Vec::with_capacity(CHUNK_BYTES));
                    let last = self.chunks.len() - 1;
                    &mut self.chunks[last]
                }
            };
            let take = bytes.len().min(CHUNK_BYTES - chunk.len());
            chunk.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
        }
        Ok(())
    }

    fn written(&self) -> u64 {
        self.written
    }
}
