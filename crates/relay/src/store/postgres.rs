//! PostgreSQL: everything in one database, so that any number of relays can
//! share it and none keeps anything per tip on its own disk.
//!
//! A sealed blob is stored as rows of `chunks` (1 MiB of ciphertext each, as
//! `bytea` stored uncompressed) and read back one chunk at a time, so neither
//! direction ever holds a whole blob in memory.
//!
//! Writing an item:
//! 1. bodies up to one chunk stay in memory until commit; a larger body is
//!    written a chunk at a time as it arrives, under an `uploads` row naming it
//!    as unfinished. These small transactions commit without waiting for the
//!    disk (`synchronous_commit = off`);
//! 2. commit is one transaction that writes the last chunk and the `items`
//!    row, bumps the inbox counter and removes the `uploads` row, and waits
//!    for the disk as the server is configured to. PostgreSQL writes its log
//!    in order, so that wait also makes every earlier chunk durable.
//!
//! An item is listed only once its `items` row exists, so a crash at any
//! moment lists it whole or not at all. An upload dropped before commit has
//! its chunks removed at once; one cut short by a crash is removed by
//! whichever relay next cleans up, once it is older than any upload can last.
//!
//! Proof-of-work tags are rows of `spent` with a unique key: the first relay
//! to insert a tag wins, every other relay sees the conflict. Inbox sizes are
//! kept in `inbox_counts`, spread over several rows per agency so that
//! concurrent commits rarely wait for each other; the limit may be exceeded
//! by the number of commits racing at the very moment it is reached.
//!
//! An upload session is a `sessions` row; its bytes are `chunks` rows under
//! `blob`, the id the item will have (never the session's own id). A part
//! holds no connection while it arrives, however slowly: it waits in
//! memory, in 1 MiB chunks, and only once it is whole does one short
//! transaction lock the session row (`FOR UPDATE NOWAIT`, so a request on
//! any relay that holds it is refused at once), check that the session still
//! holds the bytes the part starts at (another relay may have stored a part
//! meanwhile), write the part's chunks and the new length, and commit,
//! waiting for the disk as the server is configured to, before the part is
//! acknowledged. A part that fails or is dropped leaves nothing. While a
//! part arrives, its relay holds the session in memory, so a second part,
//! a commit or a deletion through that relay is refused at once. Committing
//! inserts the item and removes the session row in one transaction.
//!
//! The schema is created and upgraded by [`PgStore::open`], under an advisory
//! lock, so relays started together do not migrate twice.

use std::collections::HashSet;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use deadpool_postgres::{GenericClient, Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use futures_util::Stream;
use sealtip_api::{ItemKind, is_valid_id};
use tokio_postgres::NoTls;
use tokio_postgres::error::SqlState;
use tokio_util::io::StreamReader;

use super::{ItemMeta, Place, Session, SpentTag, Store, StoreError, Upload, random_id};
use crate::time;

/// Ciphertext bytes per `chunks` row.
pub const CHUNK_BYTES: usize = 1024 * 1024;
/// Connections each relay keeps to the database at most (see
/// [`PgStore::open_with_pool`]).
pub const POOL_SIZE: usize = 32;
/// Rows per agency in `inbox_counts`.
const COUNT_SHARDS: i16 = 32;
/// Commits between two clean-ups of expired tags and abandoned uploads.
const CLEAN_EVERY: u64 = 2000;
/// Any number; relays starting together take this advisory lock to migrate.
const MIGRATION_LOCK: i64 = 0x5ea1_7100;
/// Likewise, taken to count open upload sessions and open one more.
const SESSIONS_LOCK: i64 = 0x5ea1_7101;

/// The schema, one step per version. Never edit a step that has shipped: add one.
const MIGRATIONS: &[&str] = &[
    "
    CREATE TABLE items (
        seq BIGINT GENERATED ALWAYS AS IDENTITY,
        id TEXT PRIMARY KEY,
        agency TEXT NOT NULL,
        kind TEXT NOT NULL,          -- tip, message or reply
        mailbox TEXT,                -- replies only
        size BIGINT NOT NULL,
        received BIGINT NOT NULL     -- Unix seconds, a multiple of 3600
    );
    CREATE INDEX items_by_place ON items (agency, kind, mailbox, seq);
    CREATE TABLE chunks (
        blob TEXT NOT NULL,
        n INTEGER NOT NULL,
        data BYTEA NOT NULL,
        PRIMARY KEY (blob, n)
    );
    -- Ciphertext does not compress: do not try.
    ALTER TABLE chunks ALTER COLUMN data SET STORAGE EXTERNAL;
    -- Blobs being received, with the hour they started.
    CREATE TABLE uploads (
        id TEXT PRIMARY KEY,
        started BIGINT NOT NULL
    );
    -- Expiries rounded up to the hour, so they do not tell when a proof was spent.
    CREATE TABLE spent (
        tag BYTEA PRIMARY KEY,
        expires BIGINT NOT NULL
    );
    CREATE TABLE inbox_counts (
        agency TEXT NOT NULL,
        shard SMALLINT NOT NULL,
        n BIGINT NOT NULL,
        PRIMARY KEY (agency, shard)
    );
",
    "
    -- Upload sessions; their bytes are the chunks of `blob`, the item's id to be.
    CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        blob TEXT NOT NULL UNIQUE,
        agency TEXT NOT NULL,
        kind TEXT NOT NULL,          -- tip or message
        received BIGINT NOT NULL DEFAULT 0,
        header_len BIGINT,
        chunks INTEGER NOT NULL DEFAULT 0,
        expires BIGINT NOT NULL      -- Unix seconds, a multiple of 3600
    );
    CREATE INDEX sessions_by_expiry ON sessions (expires);
",
];

/// Items, blobs and spent tags in PostgreSQL.
#[derive(Clone)]
pub struct PgStore {
    inner: Arc<Inner>,
}

struct Inner {
    pool: Pool,
    /// Seconds after its start hour when an unfinished upload is abandoned.
    stale_after: u64,
    commits: AtomicU64,
    /// Sessions a part is arriving at, or a commit or deletion is changing,
    /// through this relay.
    writing: Writing,
}

type Writing = Arc<Mutex<HashSet<String>>>;

impl PgStore {
    /// Connects, creates or upgrades the schema, and removes what crashed
    /// uploads left. `longest_upload` is the longest an upload may take on
    /// any relay sharing the database; unfinished uploads older than that
    /// are removed.
    pub async fn open(url: &str, longest_upload: Duration) -> Result<Self, StoreError> {
        Self::open_with_pool(url, longest_upload, POOL_SIZE).await
    }

    /// Like [`PgStore::open`], keeping at most `pool_size` connections
    /// (tests use a small pool to show what waits for one).
    pub async fn open_with_pool(
        url: &str,
        longest_upload: Duration,
        pool_size: usize,
    ) -> Result<Self, StoreError> {
        let config: tokio_postgres::Config = url
            .parse()
            .map_err(|_| StoreError::Failed("storage is not a valid postgres:// URL".into()))?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(pool_size.max(1))
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(Duration::from_secs(30)))
            .create_timeout(Some(Duration::from_secs(10)))
            .build()
            .map_err(|e| StoreError::Failed(format!("database pool: {e}")))?;
        let store = PgStore {
            inner: Arc::new(Inner {
                pool,
                stale_after: time::HOUR + longest_upload.as_secs() + 60,
                commits: AtomicU64::new(0),
                writing: Writing::default(),
            }),
        };
        let mut client = store.client().await?;
        let durability: String = client
            .query_one("SHOW synchronous_commit", &[])
            .await?
            .get(0);
        if durability == "off" {
            return Err(StoreError::Failed(
                "the database has synchronous_commit = off: an acknowledged tip could be lost \
                 in a crash; set it to on"
                    .into(),
            ));
        }
        migrate(&mut client).await?;
        drop(client);
        store.clean().await?;
        Ok(store)
    }

    async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        self.inner
            .pool
            .get()
            .await
            .map_err(|e| StoreError::Failed(format!("database connection: {e}")))
    }

    /// Holds session `id` for one request of this relay: `Ok(None)` if
    /// unknown or expired, [`StoreError::Conflict`] if another request of
    /// this relay holds it. (Requests on other relays meet at the row lock.)
    async fn hold(&self, id: &str) -> Result<Option<(SessionHold, Session)>, StoreError> {
        let held = lock(&self.inner.writing).insert(id.to_owned());
        let hold = held.then(|| SessionHold {
            id: id.to_owned(),
            writing: self.inner.writing.clone(),
        });
        let Some(session) = self.session(id).await? else {
            return Ok(None);
        };
        match hold {
            Some(hold) => Ok(Some((hold, session))),
            None => Err(StoreError::Conflict(session.received)),
        }
    }

    /// Removes expired spent tags and the chunks of abandoned uploads.
    async fn clean(&self) -> Result<(), StoreError> {
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

    /// Locks the row of session `id` in `tx`, unless unknown or expired;
    /// [`StoreError::Conflict`] if a request on any relay holds it.
    async fn lock_session(
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

    /// After every [`CLEAN_EVERY`] commits, cleans up in the background.
    fn clean_now_and_then(&self) {
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

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> Self {
        StoreError::Failed(format!("database: {e}"))
    }
}

/// Applies the migrations the database has not seen, under an advisory lock.
async fn migrate(client: &mut deadpool_postgres::Object) -> Result<(), StoreError> {
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    let result = async {
        client
            .batch_execute(
                "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY)",
            )
            .await?;
        let done: i32 = client
            .query_one("SELECT COALESCE(MAX(version), 0) FROM schema_version", &[])
            .await?
            .get(0);
        for (version, step) in (1i32..)
            .zip(MIGRATIONS)
            .skip(usize::try_from(done).unwrap_or(0))
        {
            let tx = client.transaction().await?;
            tx.batch_execute(step).await?;
            tx.execute(
                "INSERT INTO schema_version (version) VALUES ($1)",
                &[&version],
            )
            .await?;
            tx.commit().await?;
        }
        if usize::try_from(done).unwrap_or(0) > MIGRATIONS.len() {
            return Err(StoreError::Failed(format!(
                "the database schema is version {done}, newer than this relay ({}): \
                 upgrade the relay",
                MIGRATIONS.len()
            )));
        }
        Ok(())
    }
    .await;
    client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
        .await?;
    result
}

/// Runs `sql` in `tx` as a statement prepared once per connection. Several of
/// these awaited together are pipelined: sent at once, answered in order.
async fn exec(
    tx: &deadpool_postgres::Transaction<'_>,
    sql: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<u64, StoreError> {
    let statement = tx.prepare_cached(sql).await?;
    Ok(tx.execute(&statement, params).await?)
}

/// Like [`exec`], for a query answering one number.
async fn count(
    tx: &deadpool_postgres::Transaction<'_>,
    sql: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<i64, StoreError> {
    let statement = tx.prepare_cached(sql).await?;
    Ok(tx.query_one(&statement, params).await?.try_get(0)?)
}

/// Does nothing, for a step a case skips.
async fn skip() -> Result<u64, StoreError> {
    Ok(0)
}

/// Unix seconds and sizes as PostgreSQL's BIGINT (none comes near 2^63).
fn to_sql(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn from_sql(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

fn meta_from_row(row: &tokio_postgres::Row) -> Result<ItemMeta, StoreError> {
    Ok(ItemMeta {
        id: row.try_get(0)?,
        place: Place::from_columns(row.try_get(1)?, row.try_get(2)?),
        size: from_sql(row.try_get(3)?),
        received: from_sql(row.try_get(4)?),
    })
}

/// A session row locked for a part or a commit.
struct LockedSession {
    blob: String,
    agency: String,
    kind: ItemKind,
    received: u64,
    chunks: i32,
}

/// Inserts the `items` row of a blob whose chunks are in place and counts
/// it in its inbox, pipelined; answers how many items its place then holds.
async fn record_item(
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

fn random_shard() -> Result<i16, StoreError> {
    let mut byte = [0u8; 1];
    getrandom::fill(&mut byte).map_err(|e| StoreError::Failed(format!("random generator: {e}")))?;
    Ok(i16::from(byte[0]) % COUNT_SHARDS)
}

/// A blob being received: the current chunk in memory, earlier ones in `chunks`.
pub struct PgUpload {
    id: String,
    store: PgStore,
    buffer: Vec<u8>,
    /// Chunks already in the database.
    stored_chunks: i32,
    written: u64,
    committed: bool,
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

/// A session held by a request of this relay; released when dropped.
struct SessionHold {
    id: String,
    writing: Writing,
}

impl Drop for SessionHold {
    fn drop(&mut self) {
        lock(&self.writing).remove(&self.id);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves plain data, still consistent.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A part of an upload session: in memory, in chunks of [`CHUNK_BYTES`],
/// until [`Store::append`] writes it in one transaction. It holds no
/// connection; dropping it leaves nothing.
pub struct PgPart {
    id: String,
    /// Where it starts in the sealed file.
    start: u64,
    chunks: Vec<Vec<u8>>,
    written: u64,
    _hold: SessionHold,
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

/// A stored blob, fetched a chunk at a time as it is read.
pub type PgReader = StreamReader<Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send>>, Bytes>;

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
        let writes = futures_util::future::try_join3(
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
                            &[&&spent.tag[..], &to_sql(spent_expiry(spent))],
                        )
                        .await
                    }
                    None => skip().await,
                }
            },
        );
        let (_, stored) =
            futures_util::future::try_join(writes, record_item(&tx, &meta, agency)).await?;
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
                 WHERE agency = $1 AND kind IN ('tip', 'message') ORDER BY seq",
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
                "DELETE FROM items WHERE id = $1 AND agency = $2 AND kind IN ('tip', 'message')",
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
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        // Rows another relay is deleting right now are skipped, not waited for.
        let rows = tx
            .query(
                "DELETE FROM items WHERE id IN
                 (SELECT id FROM items WHERE kind = 'reply' AND received < $1
                  FOR UPDATE SKIP LOCKED)
                 RETURNING id",
                &[&to_sql(cutoff)],
            )
            .await?;
        let ids: Vec<String> = rows
            .iter()
            .map(|row| row.try_get(0))
            .collect::<Result<_, _>>()?;
        tx.execute("DELETE FROM chunks WHERE blob = ANY($1)", &[&ids])
            .await?;
        tx.commit().await?;
        Ok(ids.len() as u64)
    }

    async fn spend(&self, tag: SpentTag) -> Result<bool, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let (_, inserted) = futures_util::future::try_join(
            // Visible to every relay at once; durable with the item
            // committed with it (see the module documentation).
            exec(&tx, "SET LOCAL synchronous_commit = off", &[]),
            exec(
                &tx,
                "INSERT INTO spent (tag, expires) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                &[&&tag.tag[..], &to_sql(spent_expiry(tag))],
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
        let (_, open) = futures_util::future::try_join(
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
        futures_util::future::try_join(
            exec(
                &tx,
                "INSERT INTO spent (tag, expires) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                &[&&spent.tag[..], &to_sql(spent_expiry(spent))],
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
        let (_, stored) = futures_util::future::try_join(
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
        futures_util::future::try_join(
            exec(&tx, "DELETE FROM chunks WHERE blob = $1", &[&session.blob]),
            exec(&tx, "DELETE FROM sessions WHERE id = $1", &[&id]),
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn remove_expired_sessions(&self) -> Result<u64, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let now = to_sql(time::now());
        // Not one a request is writing to (its row is locked): it goes next time.
        let rows = tx
            .query(
                "DELETE FROM sessions WHERE id IN
                 (SELECT id FROM sessions WHERE expires <= $1 FOR UPDATE SKIP LOCKED)
                 RETURNING blob",
                &[&now],
            )
            .await?;
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

/// A tag's expiry rounded up to the hour.
fn spent_expiry(tag: SpentTag) -> u64 {
    time::floor_hour(tag.expires) + time::HOUR
}

/// The chunks of blob `id`, in order, fetched one query each.
fn chunk_stream(
    store: PgStore,
    id: String,
    size: u64,
) -> Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send>> {
    let state = (store, id, 0i32, size);
    Box::pin(futures_util::stream::try_unfold(
        state,
        |(store, id, n, remaining)| async move {
            if remaining == 0 {
                return Ok(None);
            }
            let fetched = async {
                let client = store.client().await?;
                let stmt = client
                    .prepare_cached("SELECT data FROM chunks WHERE blob = $1 AND n = $2")
                    .await?;
                let row = client.query_opt(&stmt, &[&id, &n]).await?;
                Ok::<_, StoreError>(row.map(|row| row.get::<_, Vec<u8>>(0)))
            }
            .await
            .map_err(std::io::Error::other)?;
            let Some(data) = fetched else {
                // Deleted while being read.
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "the item was deleted while being read",
                ));
            };
            let remaining = remaining.saturating_sub(data.len() as u64);
            Ok(Some((Bytes::from(data), (store, id, n + 1, remaining))))
        },
    ))
}
