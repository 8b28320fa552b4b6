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
//!
//! The files: `schema` (migrations, from `migrations/*.sql`), `writer`
//! (uploads and parts on their way in), `queries` (each operation of the
//! store, one transaction each), `sessions` (the row lock a part or commit
//! takes), `reader` (a blob read back a chunk at a time), `recovery` (what
//! crashed uploads and expiry leave, cleaned up), `retention` (an agency's
//! items past its retention, deleted in batches), `sql` (conversions and
//! pipelined statements), `usage` (what is held per agency, and the sessions
//! that received nothing).

mod queries;
mod reader;
mod recovery;
mod retention;
mod schema;
mod sessions;
mod sql;
mod usage;
mod writer;

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::NoTls;

pub use self::reader::PgReader;
pub use self::writer::{PgPart, PgUpload};
use super::session_hold::{SessionHold, Writing};
use super::{Session, Store, StoreError};
use crate::time;

/// Ciphertext bytes per `chunks` row.
pub const CHUNK_BYTES: usize = 1024 * 1024;
/// Connections each relay keeps to the database at most (see
/// [`PgStore::open_with_pool`]).
pub const POOL_SIZE: usize = 32;

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
        schema::migrate(&mut client).await?;
        drop(client);
        store.clean().await?;
        Ok(store)
    }

    /// A pooled connection.
    pub(super) async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
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
        let stored = async { Ok(self.session(id).await?.map(|session| (session, ()))) };
        let held = self.inner.writing.hold(id, stored).await?;
        Ok(held.map(|(hold, session, ())| (hold, session)))
    }
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> Self {
        StoreError::Failed(format!("database: {e}"))
    }
}
