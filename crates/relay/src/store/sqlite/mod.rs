//! The embedded default: one SQLite database and, beside it, one chunk file
//! (`relay.db-chunks`) for the sealed bytes of full chunks, both created
//! with the store, so that nothing on the disk is created, renamed or
//! touched per tip (a file's times would tell when it came, to the second).
//!
//! A sealed blob is rows of `chunks` (at most [`CHUNK_BYTES`] each), read
//! back one chunk at a time: a full chunk's bytes are in a slot of the chunk
//! file that its row names (written once, not in the log and again in the
//! database), the last bytes of an item or a part inline in their row (so a
//! small tip is one row, as before). Every change goes through the
//! committer thread, which takes every job waiting when it wakes into one
//! transaction (group commit): concurrent uploads share one commit and one
//! sync.
//!
//! Writing an item: the handler writes each full chunk into a free slot as
//! more bytes follow (on a blocking thread, many uploads at once; the chunk
//! file synced every 16 MiB meanwhile) and keeps the rest in memory; at the
//! end it has the chunk file synced, then hands the
//! committer the item: its rows (each slot's, and the rest inline) and the
//! `items` row, in one transaction, answered once the syncer thread has
//! synced the log after it (WAL, `synchronous=NORMAL`, so the committer goes
//! on with the next batch meanwhile). So a commit that names a slot is
//! never in the log before that slot's bytes are on the disk. A reader may
//! see a commit a moment before that sync ends (a crash then loses it, as
//! it loses any request not yet answered); no answer promises what is not
//! on the disk. An item is listed only once its row exists, so a crash
//! never lists a half-written item; the slots of an upload dropped before
//! its commit are released at once, those a crash cut short are free when
//! the store next opens (no row names them).
//!
//! A deleted row's slot is released once the deletion is on the disk (it
//! goes to the syncer with the batch's answers): zeroed, then free for the
//! next chunk (`slots`).
//!
//! An upload session is a `sessions` row; its bytes are chunks under `blob`
//! (the id the item will have, never the session's own id). A part's chunks
//! follow the session's bytes, written into slots as above; its rows and
//! the session's new length are one transaction, answered once the log is
//! synced after it, and only then is the part counted. A part that fails or
//! is dropped has its slots released, and on open every session is cut
//! back to its recorded length. Committing inserts the item and removes the
//! session row in one transaction. Only one request writes a session at a
//! time (a hold in memory: one relay owns a SQLite database).
//!
//! The log (WAL) is folded into the database by a thread of its own, while
//! commits go on; once it is done, the committer folds in the rest (what it
//! wrote meanwhile) when that is small or the log has grown long, so that
//! its next transaction starts the log again from its beginning and the log
//! stays bounded. The database files' own times:
//! the committer writes a row, has the log folded in and sets the chunk
//! file's times every [`TICK_SECS`] seconds on the grid of Unix time, so
//! after any write the files' times move to the next tick.
//!
//! The files: `committer` (the single writer thread, its batches and ticks),
//! `syncer` (the thread that syncs a file, the log or the chunk file,
//! before answering),
//! `checkpointer` (the thread that folds the log in),
//! `chunks` (bytes on their way in), `slots` (the chunk file: free slots,
//! its writes, zeroing), `reader` (a blob read a chunk at a time),
//! `session_rows` (the `sessions` table, changed in the committer's
//! transaction), `queries` (reads), `recovery` (a crash's leftovers removed on
//! open), `migration` (earlier relays' databases: the `slot` column added,
//! blob files moved into the database), `retention` (an agency's items past its retention, deleted in
//! batches), `schema.sql`.

mod checkpointer;
mod chunks;
mod committer;
mod migration;
mod queries;
mod reader;
mod recovery;
mod retention;
mod session_rows;
mod slots;
mod syncer;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, mpsc};
use std::time::Duration;

use rusqlite::Connection;
use sealtip_api::{ItemKind, is_valid_id};
use tokio::sync::oneshot;

use self::checkpointer::Checkpointer;
use self::chunks::ChunkWriter;
pub use self::chunks::{CHUNK_BYTES, SqlitePart, SqliteUpload};
pub use self::committer::TICK_SECS;
use self::committer::{Accepted, Committer, DeleteJob, Job, committer_answer, committer_stopped};
pub use self::reader::SqliteReader;
use self::session_rows::SessionOp;
use self::slots::Slots;
use self::syncer::Syncer;
use super::session_hold::{SessionHold, Writing, lock};
use super::{ItemMeta, Place, Session, SpentTag, Store, StoreError, Usage, random_id};
use crate::time;

/// Spent tags kept in memory before expired ones are dropped.
const SPENT_PRUNE_EVERY: usize = 50_000;

/// The tables, created if missing at every open.
const SCHEMA: &str = include_str!("schema.sql");

/// Items, their sealed bytes, sessions and spent tags in one SQLite database.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    reader: Mutex<Connection>,
    jobs: mpsc::Sender<Job>,
    spent: Mutex<SpentSet>,
    /// Items per agency inbox, kept by the committer.
    counts: Arc<Mutex<HashMap<String, u64>>>,
    /// Sessions a part or commit is writing to.
    writing: Writing,
    /// The chunk file.
    slots: Arc<Slots>,
}

struct SpentSet {
    tags: HashMap<[u8; 16], u64>,
    inserts_since_prune: usize,
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Failed(e.to_string())
    }
}

impl SqliteStore {
    /// Opens (or creates) the database, moves in the blob files an earlier
    /// relay kept in `old_blobs` (then removes them and the folder), removes
    /// what a crash left half-written, and starts the committer thread.
    pub fn open(database: &Path, old_blobs: &Path) -> Result<Self, StoreError> {
        if let Some(parent) = database.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        let mut writer = Connection::open(database)?;
        migration::add_slot_column(&writer)?;
        writer.execute_batch(SCHEMA)?;
        configure(&writer)?;
        // Deleted rows (a reply's mailbox id, an item's size and hour, its
        // sealed bytes) are overwritten, not left in free space.
        writer.pragma_update(None, "secure_delete", "ON")?;
        // The log is folded in by the checkpointer, not by the writer;
        // beyond this it is cut back once folded.
        writer.pragma_update(None, "wal_autocheckpoint", 0)?;
        writer.pragma_update(None, "journal_size_limit", 64 * 1024 * 1024)?;
        writer.pragma_update(None, "cache_size", -committer::WRITER_CACHE_KIB)?;
        let reader = Connection::open(database)?;
        configure(&reader)?;
        let folder = Connection::open(database)?;
        configure(&folder)?;
        let mut log = database.as_os_str().to_owned();
        log.push("-wal");
        let log = std::path::PathBuf::from(log);
        let syncer = Syncer::start(&log)?;
        let checkpointer = Checkpointer::start(folder, log)?;

        migration::move_blob_files(&mut writer, old_blobs)?;
        let recovered = recovery::recover(&mut writer)?;
        let slots = Arc::new(Slots::open(
            &slots::chunk_file(database),
            &queries::named_slots(&writer)?,
        )?);
        // From here on commits do not wait for the disk: the syncer thread
        // syncs the log before answering those that promise durability.
        writer.pragma_update(None, "synchronous", "NORMAL")?;
        let counts = Arc::new(Mutex::new(recovered.counts));
        let writing = Writing::default();
        let (jobs, queue) = mpsc::channel();
        let committer = Committer::new(
            writer,
            counts.clone(),
            writing.clone(),
            checkpointer,
            syncer,
            slots.clone(),
        )?;
        std::thread::Builder::new()
            .name("sealtip-committer".into())
            .spawn(move || committer.run(queue))?;
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                reader: Mutex::new(reader),
                jobs,
                spent: Mutex::new(SpentSet {
                    tags: recovered.spent,
                    inserts_since_prune: 0,
                }),
                counts,
                writing,
                slots,
            }),
        })
    }

    /// Runs `f` on the reader connection, off the async threads.
    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let store = self.clone();
        tokio::task::spawn_blocking(move || f(&store.reader()))
            .await
            .map_err(|e| StoreError::Failed(format!("reader task: {e}")))?
    }

    /// The reader connection.
    fn reader(&self) -> MutexGuard<'_, Connection> {
        lock(&self.inner.reader)
    }

    fn send(&self, job: Job) -> Result<(), StoreError> {
        self.inner.jobs.send(job).map_err(|_| committer_stopped())
    }

    /// Has the committer delete item `id`: an inbox item, or with `mailbox`
    /// a reply in that mailbox. `false` if there was none.
    async fn delete_item(
        &self,
        agency: &str,
        id: &str,
        mailbox: Option<String>,
    ) -> Result<bool, StoreError> {
        if !is_valid_id(id) {
            return Ok(false);
        }
        let (reply, answer) = oneshot::channel();
        self.send(Job::Delete(DeleteJob {
            agency: agency.to_owned(),
            id: id.to_owned(),
            mailbox,
            reply,
        }))?;
        committer_answer(answer).await
    }

    /// Has the committer carry out `op`, and waits for its answer.
    async fn session_op(&self, op: SessionOp) -> Result<u64, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.send(Job::Session { op, reply })?;
        committer_answer(answer).await
    }

    /// Takes session `id` for writing: `Ok(None)` if unknown or expired,
    /// [`StoreError::Conflict`] if another request holds it.
    async fn hold_session(
        &self,
        id: &str,
    ) -> Result<Option<(SessionHold, Session, String)>, StoreError> {
        self.inner.writing.hold(id, self.stored_session(id)).await
    }
}

fn configure(conn: &Connection) -> Result<(), StoreError> {
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    Ok(())
}

impl Store for SqliteStore {
    type Upload = SqliteUpload;
    type Reader = SqliteReader;
    type Part = SqlitePart;
    /// A part holds one chunk in memory at most.
    const PARTS_IN_MEMORY: bool = false;

    async fn begin(&self) -> Result<SqliteUpload, StoreError> {
        Ok(SqliteUpload {
            writer: ChunkWriter::new(self.inner.slots.clone(), random_id()?, 0),
        })
    }

    async fn commit(
        &self,
        mut upload: SqliteUpload,
        agency: &str,
        place: Place,
        spent: Option<SpentTag>,
        max_items: u64,
    ) -> Result<ItemMeta, StoreError> {
        let bytes = upload.writer.finish().await?;
        let (item, meta, answer) = Accepted::new(
            upload.writer.blob.clone(),
            agency,
            place,
            upload.writer.written,
            spent,
            None,
            Some(bytes),
        );
        self.send(Job::Commit { item, max_items })?;
        committer_answer(answer).await?;
        Ok(meta)
    }

    async fn inbox_len(&self, agency: &str) -> Result<u64, StoreError> {
        Ok(lock(&self.inner.counts).get(agency).copied().unwrap_or(0))
    }

    async fn inbox(&self, agency: &str) -> Result<Vec<ItemMeta>, StoreError> {
        let agency = agency.to_owned();
        self.read(move |conn| queries::inbox(conn, &agency)).await
    }

    async fn mailbox(&self, agency: &str, mailbox: &str) -> Result<Vec<ItemMeta>, StoreError> {
        let (agency, mailbox) = (agency.to_owned(), mailbox.to_owned());
        self.read(move |conn| queries::mailbox(conn, &agency, &mailbox))
            .await
    }

    async fn open(
        &self,
        agency: &str,
        place: &Place,
        id: &str,
    ) -> Result<Option<(ItemMeta, SqliteReader)>, StoreError> {
        if !is_valid_id(id) {
            return Ok(None);
        }
        let (agency_owned, id_owned) = (agency.to_owned(), id.to_owned());
        let meta = self
            .read(move |conn| queries::item(conn, &agency_owned, &id_owned))
            .await?;
        let Some(meta) = meta else { return Ok(None) };
        if !place.admits(&meta.place) {
            return Ok(None);
        }
        let reader = SqliteReader::new(self.clone(), meta.id.clone(), meta.size);
        Ok(Some((meta, reader)))
    }

    async fn delete(&self, agency: &str, id: &str) -> Result<bool, StoreError> {
        self.delete_item(agency, id, None).await
    }

    async fn delete_reply(
        &self,
        agency: &str,
        mailbox: &str,
        id: &str,
    ) -> Result<bool, StoreError> {
        self.delete_item(agency, id, Some(mailbox.to_owned())).await
    }

    async fn remove_replies_before(&self, cutoff: u64) -> Result<u64, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.send(Job::ExpireReplies(cutoff, reply))?;
        committer_answer(answer).await
    }

    async fn remove_agency_items_before(
        &self,
        agency: &str,
        cutoff: u64,
    ) -> Result<u64, StoreError> {
        // In batches, each its own job, so commits go on between them.
        let mut removed = 0;
        loop {
            let (reply, answer) = oneshot::channel();
            self.send(Job::ExpireAgency {
                agency: agency.to_owned(),
                before: cutoff,
                reply,
            })?;
            let batch = committer_answer(answer).await?;
            removed += batch;
            if batch < retention::BATCH {
                return Ok(removed);
            }
        }
    }

    async fn spend(&self, tag: SpentTag) -> Result<bool, StoreError> {
        let mut spent = lock(&self.inner.spent);
        spent.inserts_since_prune += 1;
        if spent.inserts_since_prune >= SPENT_PRUNE_EVERY {
            let now = time::now();
            spent.tags.retain(|_, expires| *expires > now);
            spent.inserts_since_prune = 0;
        }
        match spent.tags.entry(tag.tag) {
            std::collections::hash_map::Entry::Occupied(_) => Ok(false),
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(tag.expires);
                Ok(true)
            }
        }
    }

    async fn open_session(
        &self,
        agency: &str,
        kind: ItemKind,
        spent: SpentTag,
        expires: u64,
        max_open: u64,
    ) -> Result<String, StoreError> {
        let id = random_id()?;
        self.session_op(SessionOp::Open {
            id: id.clone(),
            blob: random_id()?,
            agency: agency.to_owned(),
            kind,
            expires,
            spent,
            max_open,
        })
        .await?;
        Ok(id)
    }

    async fn session(&self, id: &str) -> Result<Option<Session>, StoreError> {
        Ok(self.stored_session(id).await?.map(|(session, _)| session))
    }

    async fn begin_part(&self, id: &str, offset: u64) -> Result<Option<SqlitePart>, StoreError> {
        let Some((hold, session, blob)) = self.hold_session(id).await? else {
            return Ok(None);
        };
        if session.received != offset {
            return Err(StoreError::Conflict(session.received));
        }
        Ok(Some(SqlitePart {
            id: id.to_owned(),
            writer: ChunkWriter::new(self.inner.slots.clone(), blob, offset),
            _hold: hold,
        }))
    }

    async fn append(
        &self,
        mut part: SqlitePart,
        header_len: Option<u64>,
        expires: u64,
    ) -> Result<Option<u64>, StoreError> {
        let bytes = part.writer.finish().await?;
        let received = self
            .session_op(SessionOp::Append {
                id: part.id.clone(),
                received: part.writer.start + part.writer.written,
                header_len,
                expires,
                bytes,
            })
            .await?;
        Ok(Some(received))
    }

    async fn commit_session(
        &self,
        id: &str,
        received: u64,
        max_items: u64,
    ) -> Result<Option<ItemMeta>, StoreError> {
        let Some((_hold, session, blob)) = self.hold_session(id).await? else {
            return Ok(None);
        };
        if session.received != received {
            return Err(StoreError::Conflict(session.received));
        }
        let place = Place::Inbox(session.kind);
        let (item, meta, answer) = Accepted::new(
            blob,
            &session.agency,
            place,
            received,
            None,
            Some(id.to_owned()),
            None,
        );
        self.send(Job::Commit { item, max_items })?;
        committer_answer(answer).await?;
        Ok(Some(meta))
    }

    async fn drop_session(&self, id: &str) -> Result<bool, StoreError> {
        let Some((_hold, _, _)) = self.hold_session(id).await? else {
            return Ok(false);
        };
        let dropped = self
            .session_op(SessionOp::Drop { id: id.to_owned() })
            .await?;
        Ok(dropped > 0)
    }

    async fn remove_expired_sessions(&self) -> Result<u64, StoreError> {
        self.session_op(SessionOp::Expire).await
    }

    async fn usage(&self) -> Result<Usage, StoreError> {
        self.read(|conn| queries::usage(conn, time::now())).await
    }

    async fn empty_sessions(&self) -> Result<Vec<String>, StoreError> {
        self.read(|conn| queries::empty_sessions(conn, time::now()))
            .await
    }

    async fn drop_empty_session(&self, id: &str) -> Result<bool, StoreError> {
        // Held, no part of this relay (the only one writing this database)
        // can start meanwhile.
        let (_hold, session, _) = match self.hold_session(id).await {
            Ok(Some(held)) => held,
            Ok(None) | Err(StoreError::Conflict(_)) => return Ok(false),
            Err(e) => return Err(e),
        };
        if session.received > 0 {
            return Ok(false);
        }
        let dropped = self
            .session_op(SessionOp::Drop { id: id.to_owned() })
            .await?;
        Ok(dropped > 0)
    }
}
