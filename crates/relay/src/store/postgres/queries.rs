//! Each operation of the store, in one transaction of its own.

use futures_util::future::{try_join, try_join3};
use sealtip_api::{ItemKind, is_valid_id};
use tokio_util::io::StreamReader;

use super::PgStore;
use super::reader::{PgReader, chunk_stream};
use super::sql::{count, exec, from_sql, meta_from_row, skip, to_sql};
use super::writer::{PgPart, PgUpload, random_shard, record_item};
use crate::store::{ItemMeta, Place, Session, SpentTag, Store, StoreError, Usage, random_id};
use crate::time;

/// Any number; taken to count open upload sessions and open one more.
const SESSIONS_LOCK: i64 = 0x5ea1_7101;

impl Store for PgStore {
    type Upload = PgUpload;
    type Reader = PgReader;
    type Part = PgPart;
    const PARTS_IN_MEMORY: bool = true;

    async fn begin(&self) -> Result<PgUpload, StoreError> {
        Ok(PgUpload {
            id: random_id()?,
            store: self.clone(),
            buffer: Vec::new(),
            stored_chunks: 0,
            written: 0,
            committed: false,
        })
    }

    async fn commit(
        &self,
        mut upload: PgUpload,
        agency: &str,
        place: Place,
        spent: Option<SpentTag>,
        max_items: u64,
    ) -> Result<ItemMeta, StoreError> {
        let received = time::this_hour();
        let meta = ItemMeta {
            id: upload.id.clone(),
            place,
            size: upload.written,
            received,
        };
        let (id, chunk) = (&upload.id, upload.stored_chunks);
        let last_chunk = !upload.buffer.is_empty() || chunk == 0;
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let writes = try_join3(
            async {
                if last_chunk {
                    exec(
                        &tx,
                        "INSERT INTO chunks (blob, n, data) VALUES ($1, $2, $3)",
                        &[id, &chunk, &upload.buffer],
                    )
                    .await
                } else {
                    skip().await
                }
            },
            async {
                if chunk > 0 {
                    exec(&tx, "DELETE FROM uploads WHERE id = $1", &[id]).await
                } else {
                    skip().await
                }
            },
            async {
                match spent {
                    // Already there unless it was spent through another
                    // path; the commit below makes it durable either way.
                    Some(spent) => {
                        exec(
                            &tx,
                            "INSERT INTO spent (tag, expires) VALUES ($1, $2)
                             ON CONFLICT DO NOTHING",
                            &[&&spent.tag[..], &to_sql(spent.stored_expiry())],
                        )
                        .await
                    }
                    None => skip().await,
                }
            },
        );
        let (_, stored) = try_join(writes, record_item(&tx, &meta, agency)).await?;
        if stored > max_items {
            // Rolled back when `tx` is dropped; dropping the upload removes
            // its stored chunks.
            return Err(StoreError::Full);
        }
        tx.commit().await?;
        upload.committed = true;
        self.clean_now_and_then();
        Ok(meta)
    }

    async fn inbox_len(&self, agency: &str) -> Result<u64, StoreError> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(
                "SELECT COALESCE(SUM(n), 0)::BIGINT FROM inbox_counts WHERE agency = $1",
            )
            .await?;
        let n: i64 = client.query_one(&stmt, &[&agency]).await?.get(0);
        Ok(from_sql(n))
    }

    async fn inbox(&self, agency: &str) -> Result<Vec<ItemMeta>, StoreError> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(
                "SELECT id, kind, mailbox, size, received FROM items
                 WHERE agency = $1 AND kind IN ('tip', 'message', 'case') ORDER BY seq",
            )
            .await?;
        let rows = client.query(&stmt, &[&agency]).await?;
        rows.iter().map(meta_from_row).collect()
    }

    async fn mailbox(&self, agency: &str, mailbox: &str) -> Result<Vec<ItemMeta>, StoreError> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(
                "SELECT id, kind, mailbox, size, received FROM items
                 WHERE agency = $1 AND kind = 'reply' AND mailbox = $2 ORDER BY seq",
            )
            .await?;
        let rows = client.query(&stmt, &[&agency, &mailbox]).await?;
        rows.iter().map(meta_from_row).collect()
    }

    async fn open(
        &self,
        agency: &str,
        place: &Place,
        id: &str,
    ) -> Result<Option<(ItemMeta, PgReader)>, StoreError> {
        if !is_valid_id(id) {
            return Ok(None);
        }
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(
                "SELECT id, kind, mailbox, size, received FROM items
                 WHERE id = $1 AND agency = $2",
            )
            .await?;
        let Some(row) = client.query_opt(&stmt, &[&id, &agency]).await? else {
            return Ok(None);
        };
        drop(client);
        let meta = meta_from_row(&row)?;
        if !place.admits(&meta.place) {
            return Ok(None);
        }
        let reader = StreamReader::new(chunk_stream(self.clone(), meta.id.clone(), meta.size));
        Ok(Some((meta, reader)))
    }

    async fn delete(&self, agency: &str, id: &str) -> Result<bool, StoreError> {
        if !is_valid_id(id) {
            return Ok(false);
        }
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let deleted = tx
            .execute(
                "DELETE FROM items WHERE id = $1 AND agency = $2 AND kind IN ('tip', 'message', 'case')",
                &[&id, &agency],
            )
            .await?;
        if deleted == 0 {
            return Ok(false);
        }
        tx.execute("DELETE FROM chunks WHERE blob = $1", &[&id])
            .await?;
        tx.execute(
            "INSERT INTO inbox_counts (agency, shard, n) VALUES ($1, $2, -1)
             ON CONFLICT (agency, shard) DO UPDATE SET n = inbox_counts.n - 1",
            &[&agency, &random_shard()?],
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn delete_reply(
        &self,
        agency: &str,
        mailbox: &str,
        id: &str,
    ) -> Result<bool, StoreError> {
        if !is_valid_id(id) {
            return Ok(false);
        }
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let deleted = exec(
            &tx,
            "DELETE FROM items WHERE id = $1 AND agency = $2 AND kind = 'reply' AND mailbox = $3",
            &[&id, &agency, &mailbox],
        )
        .await?;
        if deleted == 0 {
            return Ok(false);
        }
        exec(&tx, "DELETE FROM chunks WHERE blob = $1", &[&id]).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn remove_replies_before(&self, cutoff: u64) -> Result<u64, StoreError> {
        // Rows another relay is deleting right now are skipped, not waited for.
        self.delete_with_chunks(
            "DELETE FROM items WHERE id IN
             (SELECT id FROM items WHERE kind = 'reply' AND received < $1
              FOR UPDATE SKIP LOCKED)
             RETURNING id",
            to_sql(cutoff),
        )
        .await
    }

    async fn remove_agency_items_before(
        &self,
        agency: &str,
        cutoff: u64,
    ) -> Result<u64, StoreError> {
        self.expire_agency(agency, cutoff).await
    }

    async fn spend(&self, tag: SpentTag) -> Result<bool, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let (_, inserted) = try_join(
            // Visible to every relay at once; durable with the item
            // committed with it (see the module documentation).
            exec(&tx, "SET LOCAL synchronous_commit = off", &[]),
            exec(
                &tx,
                "INSERT INTO spent (tag, expires) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                &[&&tag.tag[..], &to_sql(tag.stored_expiry())],
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(inserted == 1)
    }

    async fn open_session(
        &self,
        agency: &str,
        kind: ItemKind,
        spent: SpentTag,
        expires: u64,
        max_open: u64,
    ) -> Result<String, StoreError> {
        let (id, blob) = (random_id()?, random_id()?);
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let now = to_sql(time::now());
        let (_, open) = try_join(
            exec(&tx, "SELECT pg_advisory_xact_lock($1)", &[&SESSIONS_LOCK]),
            count(
                &tx,
                "SELECT COUNT(*) FROM sessions WHERE expires > $1",
                &[&now],
            ),
        )
        .await?;
        if from_sql(open) >= max_open {
            return Err(StoreError::TooManySessions);
        }
        try_join(
            exec(
                &tx,
                "INSERT INTO spent (tag, expires) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                &[&&spent.tag[..], &to_sql(spent.stored_expiry())],
            ),
            exec(
                &tx,
                "INSERT INTO sessions (id, blob, agency, kind, expires)
                 VALUES ($1, $2, $3, $4, $5)",
                &[&id, &blob, &agency, &kind.as_str(), &to_sql(expires)],
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn session(&self, id: &str) -> Result<Option<Session>, StoreError> {
        if !is_valid_id(id) {
            return Ok(None);
        }
        let client = self.client().await?;
        let statement = client
            .prepare_cached(
                "SELECT agency, kind, received, header_len FROM sessions
                 WHERE id = $1 AND expires > $2",
            )
            .await?;
        let now = to_sql(time::now());
        let Some(row) = client.query_opt(&statement, &[&id, &now]).await? else {
            return Ok(None);
        };
        Ok(Some(Session {
            agency: row.try_get(0)?,
            kind: Place::inbox_kind(row.try_get(1)?),
            received: from_sql(row.try_get(2)?),
            header_len: row.try_get::<_, Option<i64>>(3)?.map(from_sql),
        }))
    }

    async fn begin_part(&self, id: &str, offset: u64) -> Result<Option<PgPart>, StoreError> {
        let Some((hold, session)) = self.hold(id).await? else {
            return Ok(None);
        };
        if session.received != offset {
            return Err(StoreError::Conflict(session.received));
        }
        Ok(Some(PgPart {
            id: id.to_owned(),
            start: offset,
            chunks: Vec::new(),
            written: 0,
            _hold: hold,
        }))
    }

    async fn append(
        &self,
        part: PgPart,
        header_len: Option<u64>,
        expires: u64,
    ) -> Result<Option<u64>, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let Some(session) = self.lock_session(&tx, &part.id).await? else {
            return Ok(None);
        };
        if session.received != part.start {
            // Another relay stored a part meanwhile.
            tx.rollback().await?;
            return Err(StoreError::Conflict(session.received));
        }
        let received = part.start + part.written;
        let chunks = i32::try_from(part.chunks.len())
            .ok()
            .and_then(|n| session.chunks.checked_add(n))
            .ok_or_else(|| StoreError::Failed("too many chunks in one session".into()))?;
        // One chunk at a time, each freed once sent: the part's memory
        // shrinks as it is written instead of being copied whole into the
        // connection's buffer.
        let insert = tx
            .prepare_cached("INSERT INTO chunks (blob, n, data) VALUES ($1, $2, $3)")
            .await?;
        for (n, data) in (session.chunks..).zip(part.chunks) {
            tx.execute(&insert, &[&session.blob, &n, &data]).await?;
        }
        exec(
            &tx,
            "UPDATE sessions SET received = $2, chunks = $3,
             header_len = COALESCE(header_len, $4), expires = $5 WHERE id = $1",
            &[
                &part.id,
                &to_sql(received),
                &chunks,
                &header_len.map(to_sql),
                &to_sql(expires),
            ],
        )
        .await?;
        tx.commit().await?;
        Ok(Some(received))
    }

    async fn commit_session(
        &self,
        id: &str,
        received: u64,
        max_items: u64,
    ) -> Result<Option<ItemMeta>, StoreError> {
        let Some((_hold, _)) = self.hold(id).await? else {
            return Ok(None);
        };
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let Some(session) = self.lock_session(&tx, id).await? else {
            return Ok(None);
        };
        if session.received != received {
            // Rolled back before answering, so a retry finds the row free.
            tx.rollback().await?;
            return Err(StoreError::Conflict(session.received));
        }
        let meta = ItemMeta {
            id: session.blob,
            place: Place::Inbox(session.kind),
            size: received,
            received: time::this_hour(),
        };
        let (_, stored) = try_join(
            exec(&tx, "DELETE FROM sessions WHERE id = $1", &[&id]),
            record_item(&tx, &meta, &session.agency),
        )
        .await?;
        if stored > max_items {
            // The session stays, free for the next try.
            tx.rollback().await?;
            return Err(StoreError::Full);
        }
        tx.commit().await?;
        self.clean_now_and_then();
        Ok(Some(meta))
    }

    async fn drop_session(&self, id: &str) -> Result<bool, StoreError> {
        let Some((_hold, _)) = self.hold(id).await? else {
            return Ok(false);
        };
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let Some(session) = self.lock_session(&tx, id).await? else {
            return Ok(false);
        };
        try_join(
            exec(&tx, "DELETE FROM chunks WHERE blob = $1", &[&session.blob]),
            exec(&tx, "DELETE FROM sessions WHERE id = $1", &[&id]),
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn remove_expired_sessions(&self) -> Result<u64, StoreError> {
        // Not one a request is writing to (its row is locked): it goes next time.
        self.delete_with_chunks(
            "DELETE FROM sessions WHERE id IN
             (SELECT id FROM sessions WHERE expires <= $1 FOR UPDATE SKIP LOCKED)
             RETURNING blob",
            to_sql(time::now()),
        )
        .await
    }

    async fn usage(&self) -> Result<Usage, StoreError> {
        self.count_usage().await
    }

    async fn empty_sessions(&self) -> Result<Vec<String>, StoreError> {
        self.list_empty_sessions().await
    }

    async fn drop_empty_session(&self, id: &str) -> Result<bool, StoreError> {
        // Not while a part arrives through this relay (other relays meet
        // at the row lock).
        let Ok(Some((_hold, _))) = self.hold(id).await else {
            return Ok(false);
        };
        self.end_empty_session(id).await
    }
}

impl PgStore {
    /// Runs `delete`, a `DELETE … RETURNING` of the blob ids whose rows it
    /// removes, with `bound` as `$1`, and removes those blobs' chunks, in one
    /// transaction. Answers how many.
    async fn delete_with_chunks(&self, delete: &str, bound: i64) -> Result<u64, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let rows = tx.query(delete, &[&bound]).await?;
        let blobs: Vec<String> = rows
            .iter()
            .map(|row| row.try_get(0))
            .collect::<Result<_, _>>()?;
        tx.execute("DELETE FROM chunks WHERE blob = ANY($1)", &[&blobs])
            .await?;
        tx.commit().await?;
        Ok(blobs.len() as u64)
    }
}
