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

use std::collections::{HashMap, HashSet};
use std::fs::{File, FileTimes, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, mpsc};
use std::time::{Duration, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension, params};
use sealtip_api::{ItemKind, is_valid_id};
use tokio::sync::oneshot;

use super::{ItemMeta, Place, Session, SpentTag, Store, StoreError, Upload, random_id};
use crate::time;

/// Bodies up to this size are written to disk in one go, at commit.
const BUFFER_BYTES: usize = 64 * 1024;
/// Most items one group commit takes.
const MAX_BATCH: usize = 512;
/// Spent tags kept in memory before expired ones are dropped.
const SPENT_PRUNE_EVERY: usize = 50_000;

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

type Writing = Arc<Mutex<HashSet<String>>>;

struct SpentSet {
    tags: HashMap<[u8; 16], u64>,
    inserts_since_prune: usize,
}

/// Deleting one item: an inbox item, or a reply in `mailbox`.
struct DeleteJob {
    agency: String,
    id: String,
    mailbox: Option<String>,
    reply: oneshot::Sender<Result<bool, StoreError>>,
}

/// Deleting every reply received before `before`; answers their ids, whose
/// files the caller removes (off the committer thread).
type ExpireJob = (u64, oneshot::Sender<Result<Vec<String>, StoreError>>);

enum Job {
    Commit {
        item: Accepted,
        max_items: u64,
    },
    Delete(DeleteJob),
    ExpireReplies(ExpireJob),
    Session {
        op: SessionOp,
        reply: oneshot::Sender<Result<u64, StoreError>>,
    },
}

/// A change to the `sessions` table, made in the committer's transaction.
enum SessionOp {
    /// Answers 0, or [`StoreError::TooManySessions`].
    Open {
        id: String,
        blob: String,
        agency: String,
        kind: ItemKind,
        expires: u64,
        spent: SpentTag,
        max_open: u64,
    },
    /// Answers the new length.
    Append {
        id: String,
        received: u64,
        header_len: Option<u64>,
        expires: u64,
    },
    /// Answers 1 if the session was there, else 0.
    Drop { id: String },
    /// Answers how many expired sessions were removed.
    Expire,
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

        let now = time::now();
        writer.execute("DELETE FROM sessions WHERE expires <= ?1", params![now])?;
        remove_leftovers(&writer, blobs)?;
        writer.execute("DELETE FROM spent WHERE expires <= ?1", params![now])?;
        let mut tags = HashMap::new();
        {
            let mut stmt = writer.prepare("SELECT tag, expires FROM spent")?;
            let rows = stmt.query_map([], |row| {
                Ok((row.get::<_, Vec<u8>>(0)?, row.get::<_, u64>(1)?))
            })?;
            for row in rows {
                let (tag, expires) = row?;
                if let Ok(tag) = <[u8; 16]>::try_from(tag) {
                    tags.insert(tag, expires);
                }
            }
        }
        let counts = Arc::new(Mutex::new(inbox_counts(&writer)?));

        let writing = Writing::default();
        let (jobs, queue) = mpsc::channel();
        let committer = Committer {
            conn: writer,
            blobs: blobs.to_path_buf(),
            counts: counts.clone(),
            writing: writing.clone(),
            batches: 0,
        };
        std::thread::Builder::new()
            .name("sealtip-committer".into())
            .spawn(move || committer.run(queue))?;
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                blobs: blobs.to_path_buf(),
                reader: Mutex::new(reader),
                jobs,
                spent: Mutex::new(SpentSet {
                    tags,
                    inserts_since_prune: 0,
                }),
                counts,
                writing,
            }),
        })
    }

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
        self.inner
            .jobs
            .send(job)
            .map_err(|_| StoreError::Failed("the committer thread has stopped".into()))
    }

    /// Has the committer delete item `id`: an inbox item, or with `mailbox`
    /// a reply in that mailbox. `false` if there was none.
    async fn delete_item(
        &self,
        agency: &str,
        id: &str,
        mailbox: Option<String>,
    ) -> Result<bool, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.send(Job::Delete(DeleteJob {
            agency: agency.to_owned(),
            id: id.to_owned(),
            mailbox,
            reply,
        }))?;
        answer
            .await
            .map_err(|_| StoreError::Failed("the committer thread has stopped".into()))?
    }

    /// Has the committer carry out `op`, and waits for its answer.
    async fn session_op(&self, op: SessionOp) -> Result<u64, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.send(Job::Session { op, reply })?;
        answer
            .await
            .map_err(|_| StoreError::Failed("the committer thread has stopped".into()))?
    }

    /// Session `id` and its blob id, unless unknown or expired.
    async fn stored_session(&self, id: &str) -> Result<Option<(Session, String)>, StoreError> {
        if !is_valid_id(id) {
            return Ok(None);
        }
        let id = id.to_owned();
        self.read(move |conn| {
            Ok(conn
                .query_row(
                    "SELECT agency, kind, received, header_len, blob FROM sessions
                     WHERE id = ?1 AND expires > ?2",
                    params![id, time::now()],
                    |row| {
                        let kind: String = row.get(1)?;
                        let session = Session {
                            agency: row.get(0)?,
                            kind: Place::inbox_kind(&kind),
                            received: row.get(2)?,
                            header_len: row.get(3)?,
                        };
                        Ok((session, row.get(4)?))
                    },
                )
                .optional()?)
        })
        .await
    }

    /// Takes session `id` for writing: `Ok(None)` if unknown or expired,
    /// [`StoreError::Conflict`] if another request holds it.
    async fn hold_session(
        &self,
        id: &str,
    ) -> Result<Option<(Arc<SessionLock>, Session, String)>, StoreError> {
        let held = lock(&self.inner.writing).insert(id.to_owned());
        let Some((session, blob)) = self.stored_session(id).await? else {
            if held {
                lock(&self.inner.writing).remove(id);
            }
            return Ok(None);
        };
        if !held {
            return Err(StoreError::Conflict(session.received));
        }
        let guard = Arc::new(SessionLock {
            id: id.to_owned(),
            writing: self.inner.writing.clone(),
        });
        Ok(Some((guard, session, blob)))
    }
}

/// A session being written to; released when the last holder (the request,
/// or a write it left running) lets go.
struct SessionLock {
    id: String,
    writing: Writing,
}

impl Drop for SessionLock {
    fn drop(&mut self) {
        lock(&self.writing).remove(&self.id);
    }
}

const SCHEMA: &str = "
    PRAGMA journal_mode = WAL;
    CREATE TABLE IF NOT EXISTS items (
        id TEXT PRIMARY KEY NOT NULL,
        agency TEXT NOT NULL,
        kind TEXT NOT NULL,          -- tip, message or reply
        mailbox TEXT,                -- replies only
        size INTEGER NOT NULL,
        received INTEGER NOT NULL    -- Unix seconds, a multiple of 3600
    );
    CREATE INDEX IF NOT EXISTS items_by_place ON items (agency, kind, mailbox);
    -- Finds the replies past their retention without reading every item.
    CREATE INDEX IF NOT EXISTS replies_by_hour ON items (received) WHERE kind = 'reply';
    -- Kept in tag order (random) with expiries rounded up to the hour, so
    -- that it reveals neither when a proof was spent nor in what order.
    CREATE TABLE IF NOT EXISTS spent (
        tag BLOB PRIMARY KEY NOT NULL,
        expires INTEGER NOT NULL
    ) WITHOUT ROWID;
    -- Upload sessions, likewise in id order, with expiries on the hour.
    -- Their bytes are in BLOBS/<blob>.session.
    CREATE TABLE IF NOT EXISTS sessions (
        id TEXT PRIMARY KEY NOT NULL,
        blob TEXT NOT NULL,
        agency TEXT NOT NULL,
        kind TEXT NOT NULL,          -- tip or message
        received INTEGER NOT NULL,
        header_len INTEGER,
        expires INTEGER NOT NULL     -- Unix seconds, a multiple of 3600
    ) WITHOUT ROWID;
";

fn configure(conn: &Connection) -> Result<(), StoreError> {
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    Ok(())
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves plain data, still consistent.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn inbox_counts(conn: &Connection) -> Result<HashMap<String, u64>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT agency, COUNT(*) FROM items WHERE kind IN ('tip', 'message') GROUP BY agency",
    )?;
    let rows = stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Removes `.part` files, files with no row, and rows with no file; cuts
/// session files back to their recorded length.
fn remove_leftovers(conn: &Connection, blobs: &Path) -> Result<(), StoreError> {
    let mut ids = HashSet::new();
    {
        let mut stmt = conn.prepare("SELECT id FROM items")?;
        for id in stmt.query_map([], |row| row.get::<_, String>(0))? {
            ids.insert(id?);
        }
    }
    // Session blob -> (session id, bytes received).
    let mut sessions: HashMap<String, (String, u64)> = HashMap::new();
    {
        let mut stmt = conn.prepare("SELECT blob, id, received FROM sessions")?;
        let rows = stmt.query_map([], |row| Ok((row.get(0)?, (row.get(1)?, row.get(2)?))))?;
        for row in rows {
            let (blob, session) = row?;
            sessions.insert(blob, session);
        }
    }
    // A commit cut short after its rename: the session is still there.
    for blob in sessions.keys() {
        if !ids.contains(blob) && blobs.join(blob).is_file() {
            std::fs::rename(blobs.join(blob), session_path(blobs, blob))?;
        }
    }
    let mut present = HashSet::new();
    let mut lost_sessions = Vec::new();
    let mut removed = 0usize;
    for entry in std::fs::read_dir(blobs)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let leftover = if let Some(id) = name.strip_suffix(".part") {
            is_valid_id(id)
        } else if let Some(blob) = name.strip_suffix(".session") {
            match sessions.get(blob) {
                None => is_valid_id(blob),
                Some((id, received)) => {
                    // Bytes of a part never acknowledged go; a file shorter
                    // than what was acknowledged ends its session.
                    let file = OpenOptions::new().write(true).open(entry.path())?;
                    let len = file.metadata()?.len();
                    if len > *received {
                        file.set_len(*received)?;
                        file.sync_all()?;
                    }
                    if len < *received {
                        lost_sessions.push(id.clone());
                    }
                    len < *received
                }
            }
        } else {
            is_valid_id(name) && !ids.contains(name)
        };
        if leftover {
            std::fs::remove_file(entry.path())?;
            removed += 1;
        } else if is_valid_id(name) {
            present.insert(name.to_owned());
        }
    }
    if removed > 0 {
        File::open(blobs)?.sync_all()?;
        eprintln!("sealtip-relay: removed {removed} unfinished upload(s) left by a stop");
    }
    for (blob, (id, received)) in &sessions {
        if *received > 0 && !session_path(blobs, blob).exists() && !lost_sessions.contains(id) {
            lost_sessions.push(id.clone());
        }
    }
    if !lost_sessions.is_empty() {
        eprintln!(
            "sealtip-relay: {} upload session(s) had lost bytes and were ended",
            lost_sessions.len()
        );
        for id in &lost_sessions {
            conn.execute("DELETE FROM sessions WHERE id = ?1", params![id])?;
        }
    }
    let missing: Vec<&String> = ids.difference(&present).collect();
    if !missing.is_empty() {
        eprintln!(
            "sealtip-relay: {} stored item(s) had no blob file and were unlisted",
            missing.len()
        );
        let tx = conn.unchecked_transaction()?;
        for id in missing {
            tx.execute("DELETE FROM items WHERE id = ?1", params![id])?;
        }
        tx.commit()?;
    }
    Ok(())
}

fn meta_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<ItemMeta> {
    let kind: String = row.get(1)?;
    Ok(ItemMeta {
        id: row.get(0)?,
        place: Place::from_columns(&kind, row.get(2)?),
        size: row.get(3)?,
        received: row.get(4)?,
    })
}

/// Bytes on their way to a file through a 64 KiB buffer, written off the
/// async threads.
struct FileWriter {
    path: PathBuf,
    /// Where the bytes go in the file: 0 for a new item, the session's
    /// length for a part.
    start: u64,
    file: Option<File>,
    buffer: Vec<u8>,
    written: u64,
    /// Whether the file may have been created or changed (set before the
    /// first write is sent off).
    touched: bool,
    /// Held by each write until it ends, even if the request is gone.
    hold: Option<Arc<SessionLock>>,
}

impl FileWriter {
    fn new(path: PathBuf, start: u64, hold: Option<Arc<SessionLock>>) -> Self {
        FileWriter {
            path,
            start,
            file: None,
            buffer: Vec::new(),
            written: 0,
            touched: false,
            hold,
        }
    }

    async fn write(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        self.buffer.extend_from_slice(bytes);
        self.written += bytes.len() as u64;
        if self.buffer.len() >= BUFFER_BYTES {
            self.spill(false).await?;
        }
        Ok(())
    }

    /// Writes the buffer out (opening the file first if needed); with
    /// `finish`, sets the file's times to the hour and fsyncs it (and the
    /// folder, when the file is new).
    async fn spill(&mut self, finish: bool) -> Result<(), StoreError> {
        let file = self.file.take();
        self.touched = true;
        let buffer = std::mem::take(&mut self.buffer);
        let (path, start, hold) = (self.path.clone(), self.start, self.hold.clone());
        let (file, mut buffer) = tokio::task::spawn_blocking(move || {
            // A session's file is held until this write ends.
            let session = hold.is_some();
            let mut file = match file {
                Some(file) => file,
                None => open_at(&path, start, session)?,
            };
            file.write_all(&buffer)?;
            if finish {
                // The blob's times are coarse like every other time the relay keeps.
                let hour = UNIX_EPOCH + Duration::from_secs(time::this_hour());
                file.set_times(FileTimes::new().set_accessed(hour).set_modified(hour))?;
                file.sync_all()?;
                if start == 0
                    && session
                    && let Some(folder) = path.parent()
                {
                    File::open(folder)?.sync_all()?;
                }
            }
            drop(hold);
            Ok::<_, std::io::Error>((file, buffer))
        })
        .await
        .map_err(|e| StoreError::Failed(format!("writer task: {e}")))??;
        buffer.clear();
        self.file = Some(file);
        self.buffer = buffer;
        Ok(())
    }
}

/// Opens `path` for writing at `start`: a new file for an item, the session
/// file (created if need be, cut to `start`) for a part.
fn open_at(path: &Path, start: u64, session: bool) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true);
    if session {
        options.create(true);
    } else {
        options.create_new(true);
    }
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    if session {
        file.set_len(start)?;
        file.seek(SeekFrom::Start(start))?;
    }
    Ok(file)
}

fn part_path(dir: &Path, id: &str) -> PathBuf {
    dir.join(format!("{id}.part"))
}

fn session_path(dir: &Path, blob: &str) -> PathBuf {
    dir.join(format!("{blob}.session"))
}

/// A blob being received into `BLOBS/<id>.part`.
pub struct FileUpload {
    id: String,
    writer: FileWriter,
    handed_over: bool,
}

impl Drop for FileUpload {
    fn drop(&mut self) {
        if self.writer.touched && !self.handed_over {
            // An abandoned upload: nothing of it may stay (a crash's leftovers
            // are removed on the next open instead).
            let _ = std::fs::remove_file(&self.writer.path);
        }
    }
}

impl Upload for FileUpload {
    async fn write(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        self.writer.write(bytes).await
    }

    fn written(&self) -> u64 {
        self.writer.written
    }
}

/// A part of an upload session being written at the end of its file.
pub struct SessionPart {
    id: String,
    writer: FileWriter,
    counted: bool,
}

impl Drop for SessionPart {
    fn drop(&mut self) {
        if self.writer.touched && !self.counted {
            // Nothing of a part that was not counted may stay. (A write still
            // running holds the session, and the next part or the commit cuts
            // the file to its length anyway.)
            let cut = OpenOptions::new()
                .write(true)
                .open(&self.writer.path)
                .and_then(|file| file.set_len(self.writer.start));
            if let Err(e) = cut {
                eprintln!("sealtip-relay: could not cut back an unfinished part: {e}");
            }
        }
    }
}

impl Upload for SessionPart {
    async fn write(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        self.writer.write(bytes).await
    }

    fn written(&self) -> u64 {
        self.writer.written
    }
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
        let (item, meta, answer) = Accepted::new(
            upload.id.clone(),
            agency,
            place,
            upload.writer.written,
            spent,
            None,
        );
        self.send(Job::Commit { item, max_items })?;
        // From here on the committer owns the file, and removes it if it fails.
        upload.handed_over = true;
        answer
            .await
            .map_err(|_| StoreError::Failed("the committer thread has stopped".into()))??;
        Ok(meta)
    }

    async fn inbox_len(&self, agency: &str) -> Result<u64, StoreError> {
        Ok(lock(&self.inner.counts).get(agency).copied().unwrap_or(0))
    }

    async fn inbox(&self, agency: &str) -> Result<Vec<ItemMeta>, StoreError> {
        let agency = agency.to_owned();
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT id, kind, mailbox, size, received FROM items
                 WHERE agency = ?1 AND kind IN ('tip', 'message') ORDER BY rowid",
            )?;
            let rows = stmt.query_map(params![agency], meta_from_row)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    async fn mailbox(&self, agency: &str, mailbox: &str) -> Result<Vec<ItemMeta>, StoreError> {
        let (agency, mailbox) = (agency.to_owned(), mailbox.to_owned());
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT id, kind, mailbox, size, received FROM items
                 WHERE agency = ?1 AND kind = 'reply' AND mailbox = ?2 ORDER BY rowid",
            )?;
            let rows = stmt.query_map(params![agency, mailbox], meta_from_row)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
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
            .read(move |conn| {
                Ok(conn
                    .query_row(
                        "SELECT id, kind, mailbox, size, received FROM items
                         WHERE id = ?1 AND agency = ?2",
                        params![id_owned, agency_owned],
                        meta_from_row,
                    )
                    .optional()?)
            })
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
        if !is_valid_id(id) {
            return Ok(false);
        }
        self.delete_item(agency, id, None).await
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
        self.delete_item(agency, id, Some(mailbox.to_owned())).await
    }

    async fn remove_replies_before(&self, cutoff: u64) -> Result<u64, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.send(Job::ExpireReplies((cutoff, reply)))?;
        let ids = answer
            .await
            .map_err(|_| StoreError::Failed("the committer thread has stopped".into()))??;
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
        answer
            .await
            .map_err(|_| StoreError::Failed("the committer thread has stopped".into()))??;
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

/// The single writer: renames, fsyncs the folder and commits rows, in batches.
struct Committer {
    conn: Connection,
    blobs: PathBuf,
    counts: Arc<Mutex<HashMap<String, u64>>>,
    writing: Writing,
    batches: u64,
}

/// Whether a place holding `stored` items, with `pending` more already
/// accepted in this batch, is full; if not, counts one more as pending.
fn reserve(pending: &mut u64, stored: u64, max_items: u64) -> bool {
    let full = stored + *pending >= max_items;
    if !full {
        *pending += 1;
    }
    full
}

/// A commit the committer thread carries out: the upload (or the session's
/// file) to rename into place and record, and where to answer.
struct Accepted {
    id: String,
    agency: String,
    place: Place,
    size: u64,
    received: u64,
    spent: Option<SpentTag>,
    /// The upload session it ends, whose file it is.
    session: Option<String>,
    reply: oneshot::Sender<Result<(), StoreError>>,
}

impl Accepted {
    /// A commit received this hour, its item's metadata, and where its
    /// answer comes.
    fn new(
        id: String,
        agency: &str,
        place: Place,
        size: u64,
        spent: Option<SpentTag>,
        session: Option<String>,
    ) -> (Self, ItemMeta, oneshot::Receiver<Result<(), StoreError>>) {
        let (reply, answer) = oneshot::channel();
        let received = time::this_hour();
        let meta = ItemMeta {
            id: id.clone(),
            place: place.clone(),
            size,
            received,
        };
        let item = Accepted {
            id,
            agency: agency.to_owned(),
            place,
            size,
            received,
            spent,
            session,
            reply,
        };
        (item, meta, answer)
    }

    /// Where its bytes are until the rename.
    fn source(&self, blobs: &Path) -> PathBuf {
        match self.session {
            Some(_) => session_path(blobs, &self.id),
            None => part_path(blobs, &self.id),
        }
    }

    /// After a failure: an upload's file goes, a session's stays for a retry.
    fn give_up(&self, blobs: &Path, renamed: bool) {
        let at = if renamed {
            blobs.join(&self.id)
        } else {
            self.source(blobs)
        };
        let _ = if self.session.is_some() {
            if renamed {
                std::fs::rename(&at, self.source(blobs))
            } else {
                Ok(())
            }
        } else {
            std::fs::remove_file(&at)
        };
    }
}

impl Committer {
    fn run(mut self, queue: mpsc::Receiver<Job>) {
        while let Ok(first) = queue.recv() {
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match queue.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
            self.process(batch);
        }
    }

    fn process(&mut self, batch: Vec<Job>) {
        let mut accepted = Vec::new();
        let mut deletes = Vec::new();
        let mut expiries = Vec::new();
        let mut sessions = Vec::new();
        let mut pending: HashMap<String, u64> = HashMap::new();
        let mut pending_mailbox: HashMap<(String, String), u64> = HashMap::new();
        for job in batch {
            match job {
                Job::Delete(job) => deletes.push(job),
                Job::ExpireReplies(job) => expiries.push(job),
                Job::Session { op, reply } => sessions.push((op, reply)),
                Job::Commit { item, max_items } => {
                    let part = item.source(&self.blobs);
                    let full = match &item.place {
                        Place::Inbox(_) => {
                            let stored = lock(&self.counts).get(&item.agency).copied().unwrap_or(0);
                            let n = pending.entry(item.agency.clone()).or_default();
                            Ok(reserve(n, stored, max_items))
                        }
                        Place::Mailbox(mailbox) => {
                            self.mailbox_len(&item.agency, mailbox).map(|stored| {
                                let key = (item.agency.clone(), mailbox.clone());
                                let n = pending_mailbox.entry(key).or_default();
                                reserve(n, stored, max_items)
                            })
                        }
                    };
                    let outcome = match full {
                        Ok(true) => Err(StoreError::Full),
                        Ok(false) => std::fs::rename(&part, self.blobs.join(&item.id))
                            .map_err(StoreError::from),
                        Err(e) => Err(e),
                    };
                    match outcome {
                        Ok(()) => accepted.push(item),
                        Err(e) => {
                            item.give_up(&self.blobs, false);
                            let _ = item.reply.send(Err(e));
                        }
                    }
                }
            }
        }

        let result = self.persist(&accepted, &deletes, &expiries, &sessions);
        match result {
            Ok((deleted, expired, session_results)) => {
                let mut counts = lock(&self.counts);
                for item in &accepted {
                    if let Place::Inbox(_) = item.place {
                        *counts.entry(item.agency.clone()).or_default() += 1;
                    }
                }
                for (job, was_there) in deletes.iter().zip(&deleted) {
                    if *was_there
                        && job.mailbox.is_none()
                        && let Some(n) = counts.get_mut(&job.agency)
                    {
                        *n = n.saturating_sub(1);
                    }
                }
                drop(counts);
                for item in accepted {
                    let _ = item.reply.send(Ok(()));
                }
                for (job, was_there) in deletes.into_iter().zip(deleted) {
                    if was_there {
                        // The row is gone, so the item is no longer listed; a
                        // file left by a crash here is removed on the next open.
                        let _ = std::fs::remove_file(self.blobs.join(&job.id));
                    }
                    let _ = job.reply.send(Ok(was_there));
                }
                for ((_, reply), ids) in expiries.into_iter().zip(expired) {
                    let _ = reply.send(Ok(ids));
                }
                for ((_, reply), result) in sessions.into_iter().zip(session_results) {
                    let answer = result.map(|(answer, gone)| {
                        // The rows are gone; a file left by a crash here is
                        // removed on the next open.
                        for blob in gone {
                            let _ = std::fs::remove_file(session_path(&self.blobs, &blob));
                        }
                        answer
                    });
                    let _ = reply.send(answer);
                }
            }
            Err(e) => {
                let message = e.to_string();
                eprintln!("sealtip-relay: storage failed: {message}");
                for item in accepted {
                    item.give_up(&self.blobs, true);
                    let _ = item.reply.send(Err(StoreError::Failed(message.clone())));
                }
                for job in deletes {
                    let _ = job.reply.send(Err(StoreError::Failed(message.clone())));
                }
                for (_, reply) in expiries {
                    let _ = reply.send(Err(StoreError::Failed(message.clone())));
                }
                for (_, reply) in sessions {
                    let _ = reply.send(Err(StoreError::Failed(message.clone())));
                }
            }
        }
    }

    fn mailbox_len(&self, agency: &str, mailbox: &str) -> Result<u64, StoreError> {
        Ok(self.conn.query_row(
            "SELECT COUNT(*) FROM items WHERE agency = ?1 AND kind = 'reply' AND mailbox = ?2",
            params![agency, mailbox],
            |row| row.get(0),
        )?)
    }

    /// Makes the batch durable: the folder's new names, then the rows.
    /// Answers whether each delete found its item, the ids of the replies
    /// each expiry deleted, and each session change's answer with the
    /// session files it made obsolete.
    fn persist(
        &mut self,
        accepted: &[Accepted],
        deletes: &[DeleteJob],
        expiries: &[ExpireJob],
        sessions: &[SessionJob],
    ) -> Result<PersistOutcome, StoreError> {
        if !accepted.is_empty() {
            File::open(&self.blobs)?.sync_all()?;
        }
        self.batches += 1;
        let tx = self.conn.transaction()?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO items (id, agency, kind, mailbox, size, received)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            let mut spend =
                tx.prepare_cached("INSERT OR IGNORE INTO spent (tag, expires) VALUES (?1, ?2)")?;
            for item in accepted {
                insert.execute(params![
                    item.id,
                    item.agency,
                    item.place.kind_name(),
                    item.place.mailbox(),
                    item.size,
                    item.received
                ])?;
                if let Some(spent) = item.spent {
                    spend.execute(params![&spent.tag[..], spent_expiry(spent)])?;
                }
                if let Some(session) = &item.session {
                    tx.execute("DELETE FROM sessions WHERE id = ?1", params![session])?;
                }
            }
        }
        let mut deleted = Vec::with_capacity(deletes.len());
        {
            let mut delete_inbox = tx.prepare_cached(
                "DELETE FROM items WHERE id = ?1 AND agency = ?2 AND kind IN ('tip', 'message')",
            )?;
            let mut delete_reply = tx.prepare_cached(
                "DELETE FROM items WHERE id = ?1 AND agency = ?2 AND kind = 'reply'
                 AND mailbox = ?3",
            )?;
            for job in deletes {
                let n = match &job.mailbox {
                    None => delete_inbox.execute(params![job.id, job.agency])?,
                    Some(mailbox) => delete_reply.execute(params![job.id, job.agency, mailbox])?,
                };
                deleted.push(n > 0);
            }
        }
        let mut expired = Vec::with_capacity(expiries.len());
        {
            let mut expire = tx.prepare_cached(
                "DELETE FROM items WHERE kind = 'reply' AND received < ?1 RETURNING id",
            )?;
            for (before, _) in expiries {
                let ids = expire.query_map(params![before], |row| row.get::<_, String>(0))?;
                expired.push(ids.collect::<Result<Vec<_>, _>>()?);
            }
        }
        let outcomes = sessions
            .iter()
            .map(|(op, _)| session_op(&tx, op, &self.writing))
            .collect();
        if self.batches.is_multiple_of(1000) {
            tx.execute(
                "DELETE FROM spent WHERE expires <= ?1",
                params![time::now()],
            )?;
        }
        tx.commit()?;
        Ok((deleted, expired, outcomes))
    }
}

type SessionJob = (SessionOp, oneshot::Sender<Result<u64, StoreError>>);

/// What a batch's rows answer: whether each delete found its item, the ids
/// each expiry deleted, each session change's outcome.
type PersistOutcome = (Vec<bool>, Vec<Vec<String>>, Vec<SessionOutcome>);

/// A session change's answer, and the blobs of the sessions it ended.
type SessionOutcome = Result<(u64, Vec<String>), StoreError>;

/// A spent tag's expiry rounded up to the hour.
fn spent_expiry(spent: SpentTag) -> u64 {
    time::floor_hour(spent.expires) + time::HOUR
}

/// Carries out `op` in `tx`.
fn session_op(tx: &rusqlite::Transaction<'_>, op: &SessionOp, writing: &Writing) -> SessionOutcome {
    match op {
        SessionOp::Open {
            id,
            blob,
            agency,
            kind,
            expires,
            spent,
            max_open,
        } => {
            let open: u64 = tx.query_row(
                "SELECT COUNT(*) FROM sessions WHERE expires > ?1",
                params![time::now()],
                |row| row.get(0),
            )?;
            if open >= *max_open {
                return Err(StoreError::TooManySessions);
            }
            tx.execute(
                "INSERT OR IGNORE INTO spent (tag, expires) VALUES (?1, ?2)",
                params![&spent.tag[..], spent_expiry(*spent)],
            )?;
            tx.execute(
                "INSERT INTO sessions (id, blob, agency, kind, received, expires)
                 VALUES (?1, ?2, ?3, ?4, 0, ?5)",
                params![id, blob, agency, kind.as_str(), expires],
            )?;
            Ok((0, Vec::new()))
        }
        SessionOp::Append {
            id,
            received,
            header_len,
            expires,
        } => {
            let changed = tx.execute(
                "UPDATE sessions SET received = ?2, header_len = COALESCE(header_len, ?3),
                 expires = ?4 WHERE id = ?1",
                params![id, received, header_len, expires],
            )?;
            if changed == 0 {
                return Err(StoreError::Failed(
                    "an upload session ended while a part was written".into(),
                ));
            }
            Ok((*received, Vec::new()))
        }
        SessionOp::Drop { id } => {
            let blob: Option<String> = tx
                .query_row(
                    "DELETE FROM sessions WHERE id = ?1 RETURNING blob",
                    params![id],
                    |row| row.get(0),
                )
                .optional()?;
            Ok((u64::from(blob.is_some()), blob.into_iter().collect()))
        }
        SessionOp::Expire => {
            let expired: Vec<(String, String)> = {
                let mut stmt = tx.prepare("SELECT id, blob FROM sessions WHERE expires <= ?1")?;
                let rows =
                    stmt.query_map(params![time::now()], |row| Ok((row.get(0)?, row.get(1)?)))?;
                rows.collect::<Result<_, _>>()?
            };
            let mut gone = Vec::new();
            for (id, blob) in expired {
                // Not one a request is writing to: it goes next time.
                if lock(writing).contains(&id) {
                    continue;
                }
                tx.execute("DELETE FROM sessions WHERE id = ?1", params![id])?;
                gone.push(blob);
            }
            Ok((gone.len() as u64, gone))
        }
    }
}
