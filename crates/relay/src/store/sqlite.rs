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

use std::collections::{HashMap, HashSet};
use std::fs::{File, FileTimes, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, mpsc};
use std::time::{Duration, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension, params};
use sealtip_api::is_valid_id;
use tokio::sync::oneshot;

use super::{ItemMeta, Place, SpentTag, Store, StoreError, Upload, random_id};
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
}

struct SpentSet {
    tags: HashMap<[u8; 16], u64>,
    inserts_since_prune: usize,
}

type DeleteJob = (String, String, oneshot::Sender<Result<bool, StoreError>>);

enum Job {
    Commit {
        item: Accepted,
        max_items: u64,
    },
    Delete {
        agency: String,
        id: String,
        reply: oneshot::Sender<Result<bool, StoreError>>,
    },
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
        let reader = Connection::open(database)?;
        configure(&reader)?;

        remove_leftovers(&writer, blobs)?;
        let now = time::now();
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

        let (jobs, queue) = mpsc::channel();
        let committer = Committer {
            conn: writer,
            blobs: blobs.to_path_buf(),
            counts: counts.clone(),
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
    -- Kept in tag order (random) with expiries rounded up to the hour, so
    -- that it reveals neither when a proof was spent nor in what order.
    CREATE TABLE IF NOT EXISTS spent (
        tag BLOB PRIMARY KEY NOT NULL,
        expires INTEGER NOT NULL
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

/// Removes `.part` files, files with no row, and rows with no file.
fn remove_leftovers(conn: &Connection, blobs: &Path) -> Result<(), StoreError> {
    let mut ids = HashSet::new();
    {
        let mut stmt = conn.prepare("SELECT id FROM items")?;
        for id in stmt.query_map([], |row| row.get::<_, String>(0))? {
            ids.insert(id?);
        }
    }
    let mut present = HashSet::new();
    let mut removed = 0usize;
    for entry in std::fs::read_dir(blobs)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let leftover = match name.strip_suffix(".part") {
            Some(id) => is_valid_id(id),
            None if is_valid_id(name) => !ids.contains(name),
            None => false,
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

/// A blob being received into `BLOBS/<id>.part`.
pub struct FileUpload {
    id: String,
    dir: PathBuf,
    file: Option<File>,
    buffer: Vec<u8>,
    written: u64,
    /// Whether `<id>.part` may exist (set before the first write is sent off).
    created: bool,
    handed_over: bool,
}

impl FileUpload {
    fn part_path(&self) -> PathBuf {
        part_path(&self.dir, &self.id)
    }

    /// Writes the buffer out (creating the file first if needed), off the async threads.
    async fn spill(&mut self, finish: bool) -> Result<(), StoreError> {
        let file = self.file.take();
        self.created = true;
        let buffer = std::mem::take(&mut self.buffer);
        let path = self.part_path();
        let (file, mut buffer) = tokio::task::spawn_blocking(move || {
            let mut file = match file {
                Some(file) => file,
                None => create_part(&path)?,
            };
            file.write_all(&buffer)?;
            if finish {
                // The blob's times are coarse like every other time the relay keeps.
                let hour = UNIX_EPOCH + Duration::from_secs(time::this_hour());
                file.set_times(FileTimes::new().set_accessed(hour).set_modified(hour))?;
                file.sync_all()?;
            }
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

fn part_path(dir: &Path, id: &str) -> PathBuf {
    dir.join(format!("{id}.part"))
}

fn create_part(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

impl Drop for FileUpload {
    fn drop(&mut self) {
        if self.created && !self.handed_over {
            // An abandoned upload: nothing of it may stay (a crash's leftovers
            // are removed on the next open instead).
            let _ = std::fs::remove_file(self.part_path());
        }
    }
}

impl Upload for FileUpload {
    async fn write(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        self.buffer.extend_from_slice(bytes);
        self.written += bytes.len() as u64;
        if self.buffer.len() >= BUFFER_BYTES {
            self.spill(false).await?;
        }
        Ok(())
    }

    fn written(&self) -> u64 {
        self.written
    }
}

impl Store for SqliteStore {
    type Upload = FileUpload;
    type Reader = tokio::fs::File;

    async fn begin(&self) -> Result<FileUpload, StoreError> {
        Ok(FileUpload {
            id: random_id()?,
            dir: self.inner.blobs.clone(),
            file: None,
            buffer: Vec::new(),
            written: 0,
            created: false,
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
        upload.spill(true).await?;
        let (reply, answer) = oneshot::channel();
        let received = time::this_hour();
        let meta = ItemMeta {
            id: upload.id.clone(),
            place: place.clone(),
            size: upload.written,
            received,
        };
        let item = Accepted {
            id: upload.id.clone(),
            agency: agency.to_owned(),
            place,
            size: upload.written,
            received,
            spent,
            reply,
        };
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
        let (reply, answer) = oneshot::channel();
        self.send(Job::Delete {
            agency: agency.to_owned(),
            id: id.to_owned(),
            reply,
        })?;
        answer
            .await
            .map_err(|_| StoreError::Failed("the committer thread has stopped".into()))?
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
}

/// The single writer: renames, fsyncs the folder and commits rows, in batches.
struct Committer {
    conn: Connection,
    blobs: PathBuf,
    counts: Arc<Mutex<HashMap<String, u64>>>,
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

/// A commit the committer thread carries out: the upload to rename into
/// place and record, and where to answer.
struct Accepted {
    id: String,
    agency: String,
    place: Place,
    size: u64,
    received: u64,
    spent: Option<SpentTag>,
    reply: oneshot::Sender<Result<(), StoreError>>,
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
        let mut pending: HashMap<String, u64> = HashMap::new();
        let mut pending_mailbox: HashMap<(String, String), u64> = HashMap::new();
        for job in batch {
            match job {
                Job::Delete { agency, id, reply } => deletes.push((agency, id, reply)),
                Job::Commit { item, max_items } => {
                    let part = part_path(&self.blobs, &item.id);
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
                            let _ = std::fs::remove_file(&part);
                            let _ = item.reply.send(Err(e));
                        }
                    }
                }
            }
        }

        let result = self.persist(&accepted, &deletes);
        match result {
            Ok(deleted) => {
                let mut counts = lock(&self.counts);
                for item in &accepted {
                    if let Place::Inbox(_) = item.place {
                        *counts.entry(item.agency.clone()).or_default() += 1;
                    }
                }
                for ((agency, _, _), was_there) in deletes.iter().zip(&deleted) {
                    if *was_there && let Some(n) = counts.get_mut(agency) {
                        *n = n.saturating_sub(1);
                    }
                }
                drop(counts);
                for item in accepted {
                    let _ = item.reply.send(Ok(()));
                }
                for ((_, id, reply), was_there) in deletes.into_iter().zip(deleted) {
                    if was_there {
                        // The row is gone, so the item is no longer listed; a
                        // file left by a crash here is removed on the next open.
                        let _ = std::fs::remove_file(self.blobs.join(&id));
                    }
                    let _ = reply.send(Ok(was_there));
                }
            }
            Err(e) => {
                let message = e.to_string();
                eprintln!("sealtip-relay: storage failed: {message}");
                for item in accepted {
                    let _ = std::fs::remove_file(self.blobs.join(&item.id));
                    let _ = item.reply.send(Err(StoreError::Failed(message.clone())));
                }
                for (_, _, reply) in deletes {
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
    fn persist(
        &mut self,
        accepted: &[Accepted],
        deletes: &[DeleteJob],
    ) -> Result<Vec<bool>, StoreError> {
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
                    let expires = time::floor_hour(spent.expires) + time::HOUR;
                    spend.execute(params![&spent.tag[..], expires])?;
                }
            }
        }
        let mut deleted = Vec::with_capacity(deletes.len());
        {
            let mut delete = tx.prepare_cached(
                "DELETE FROM items WHERE id = ?1 AND agency = ?2 AND kind IN ('tip', 'message')",
            )?;
            for (agency, id, _) in deletes {
                deleted.push(delete.execute(params![id, agency])? > 0);
            }
        }
        if self.batches.is_multiple_of(1000) {
            tx.execute(
                "DELETE FROM spent WHERE expires <= ?1",
                params![time::now()],
            )?;
        }
        tx.commit()?;
        Ok(deleted)
    }
}
