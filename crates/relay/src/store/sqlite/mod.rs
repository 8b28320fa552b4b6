//! The embedded default: SQLite for metadata, one file per sealed blob.
//!
//! Writing an item:
//! 1. the handler streams the body into `BLOBS/<id>.part` (small bodies stay in
//!    a 64 KiB buffer and reach the disk in one write), sets its times to the
//!    hour, and fsyncs it;
//! 2. the committer thread renames it to `BLOBS/<id>`, fsyncs the folder, and
//!    inserts its row (WAL, `synchronous=FULL`), then answers.
//!
//! The committer takes every item waiting when it wakes (group commit), so
//! concurrent uploads share one folder fsync and one database commit. An item
//! is listed only once its row exists, and its row exists only after its file
//! and name are durable, so a crash never lists a half-written item. On open,
//! leftovers of a crash (`.part` files, files without a row) are removed.
//!
//! An upload session keeps its bytes in `BLOBS/<blob>.session` (`blob` is the
//! id the item will have, never the session's own id) and a row in
//! `sessions`. A part is written at the session's offset and fsynced (with
//! the folder, for the first), then the committer records the new length;
//! a part that fails is cut off again, and on open every session file is
//! cut back to its recorded length. Committing renames the file to
//! `BLOBS/<blob>` and, in one transaction, inserts the item and removes the
//! session row. Only one request writes a session at a time (a lock in
//! memory: one relay owns a SQLite database).
//!
//! The files: `committer` (the single writer thread and its batches),
//! `session_rows` (the `sessions` table, changed in the committer's
//! transaction), `files` (blob files being written), `queries` (reads),
//! `recovery` (what a crash left, removed on open), `schema.sql`.

mod committer;
mod files;
mod queries;
mod recovery;
mod session_rows;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use rusqlite::Connection;
use sealtip_api::{ItemKind, is_valid_id};
use tokio::sync::oneshot;

use self::committer::{Accepted, Committer, DeleteJob, Job};
pub use self::files::{FileUpload, SessionPart};
use self::files::{FileWriter, open_at, part_path, session_path};
use self::session_rows::SessionOp;
use super::session_hold::{SessionHold, Writing, lock};
use super::{ItemMeta, Place, Session, SpentTag, Store, StoreError, random_id};
use crate::time;

/// Spent tags kept in memory before expired ones are dropped.
const SPENT_PRUNE_EVERY: usize = 50_000;

/// The tables, created if missing at every open.
const SCHEMA: &str = include_str!("schema.sql");

/// SQLite metadata plus a folder of blob files.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    blobs: PathBuf,
    reader: Mutex<Connection>,
    jobs: mpsc::Sender<Job>,
    spent: Mutex<SpentSet>,
    /// Items per agency inbox, kept by the committer.
    counts: Arc<Mutex<HashMap<String, u64>>>,
    /// Sessions a part or commit is writing to.
    writing: Writing,
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
    /// Opens (or creates) the database and blob folder, removes what a crash
    /// left half-written, and starts the committer thread.
    pub fn open(database: &Path, blobs: &Path) -> Result<Self, StoreError> {
        if let Some(parent) = database.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::create_dir_all(blobs)?;
        let writer = Connection::open(database)?;
        writer.execute_batch(SCHEMA)?;
        configure(&writer)?;
        // Deleted rows (a reply's mailbox id, an item's size and hour) are
        // overwritten, not left in free space.
        writer.pragma_update(None, "secure_delete", "ON")?;
        let reader = Connection::open(database)?;
        configure(&reader)?;

        let recovered = recovery::recover(&writer, blobs)?;
        let counts = Arc::new(Mutex::new(recovered.counts));
        let writing = Writing::default();
        let (jobs, queue) = mpsc::channel();
        let committer = Committer::new(writer, blobs, counts.clone(), writing.clone());
        std::thread::Builder::new()
            .name("sealtip-committer".into())
            .spawn(move || committer.run(queue))?;
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                blobs: blobs.to_path_buf(),
                reader: Mutex::new(reader),
                jobs,
                spent: Mutex::new(SpentSet {
                    tags: recovered.spent,
                    inserts_since_prune: 0,
                }),
                counts,
                writing,
            }),
        })
    }

    /// Runs `f` on the reader connection, off the async threads.
    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || f(&lock(&inner.reader)))
            .await
            .map_err(|e| StoreError::Failed(format!("reader task: {e}")))?
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
    /// [`StoreError::Conflict`] if another request holds it. The hold is
    /// shared with the writes the request leaves running.
    async fn hold_session(
        &self,
        id: &str,
    ) -> Result<Option<(Arc<SessionHold>, Session, String)>, StoreError> {
        let held = self.inner.writing.hold(id, self.stored_session(id)).await?;
        Ok(held.map(|(hold, session, blob)| (Arc::new(hold), session, blob)))
    }
}

fn configure(conn: &Connection) -> Result<(), StoreError> {
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    Ok(())
}

fn committer_stopped() -> StoreError {
    StoreError::Failed("the committer thread has stopped".into())
}

/// The committer's answer to a job.
async fn committer_answer<T>(
    answer: oneshot::Receiver<Result<T, StoreError>>,
) -> Result<T, StoreError> {
    answer.await.map_err(|_| committer_stopped())?
}

impl Store for SqliteStore {
    type Upload = FileUpload;
    type Reader = tokio::fs::File;
    type Part = SessionPart;
    const PARTS_IN_MEMORY: bool = false;

    async fn begin(&self) -> Result<FileUpload, StoreError> {
        let id = random_id()?;
        Ok(FileUpload {
            writer: FileWriter::new(part_path(&self.inner.blobs, &id), 0, None),
            id,
            handed_over: false,
        })
    }

    async fn commit(
        &self,
        mut upload: FileUpload,
        agency: &str,
        place: Place,
        spent: Option<SpentTag>,
        max_items: u64,
    ) -> Result<ItemMeta, StoreError> {
        upload.writer.spill(true).await?;
        let size = upload.writer.written;
        let (item, meta, answer) =
            Accepted::new(upload.id.clone(), agency, place, size, spent, None);
        self.send(Job::Commit { item, max_items })?;
        // From here on the committer owns the file, and removes it if it fails.
        upload.handed_over = true;
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
    ) -> Result<Option<(ItemMeta, tokio::fs::File)>, StoreError> {
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
        match tokio::fs::File::open(self.inner.blobs.join(id)).await {
            Ok(file) => Ok(Some((meta, file))),
            // Deleted between the query and the open.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
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
        self.send(Job::ExpireReplies((cutoff, reply)))?;
        let ids = committer_answer(answer).await?;
        let removed = ids.len() as u64;
        let blobs = self.inner.blobs.clone();
        // The rows are gone, so the replies are no longer listed; a file left
        // by a crash here is removed on the next open.
        tokio::task::spawn_blocking(move || {
            for id in ids {
                let _ = std::fs::remove_file(blobs.join(id));
            }
        })
        .await
        .map_err(|e| StoreError::Failed(format!("remover task: {e}")))?;
        Ok(removed)
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

    async fn begin_part(&self, id: &str, offset: u64) -> Result<Option<SessionPart>, StoreError> {
        let Some((hold, session, blob)) = self.hold_session(id).await? else {
            return Ok(None);
        };
        if session.received != offset {
            return Err(StoreError::Conflict(session.received));
        }
        let path = session_path(&self.inner.blobs, &blob);
        Ok(Some(SessionPart {
            id: id.to_owned(),
            writer: FileWriter::new(path, offset, Some(hold)),
            counted: false,
        }))
    }

    async fn append(
        &self,
        mut part: SessionPart,
        header_len: Option<u64>,
        expires: u64,
    ) -> Result<Option<u64>, StoreError> {
        part.writer.spill(true).await?;
        let received = self
            .session_op(SessionOp::Append {
                id: part.id.clone(),
                received: part.writer.start + part.writer.written,
                header_len,
                expires,
            })
            .await?;
        part.counted = true;
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
        // Exactly the counted bytes, durable, with coarse times.
        let mut writer = FileWriter::new(session_path(&self.inner.blobs, &blob), received, None);
        writer.file = Some(open_at(&writer.path, received, true).map_err(StoreError::from)?);
        writer.spill(true).await?;
        let place = Place::Inbox(session.kind);
        let (item, meta, answer) = Accepted::new(
            blob,
            &session.agency,
            place,
            received,
            None,
            Some(id.to_owned()),
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
}
