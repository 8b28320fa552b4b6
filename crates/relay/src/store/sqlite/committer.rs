//! The single writer thread: it carries out every change, in queue order,
//! taking every job waiting when it wakes into one transaction (group
//! commit), and ticks on a fixed wall-clock grid.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, Transaction, params};
use tokio::sync::oneshot;

use super::checkpointer::{Checkpointer, FOLD_AFTER_BYTES};
use super::chunks::{Received, cut_chunks, delete_chunks};
use super::queries;
use super::retention::{self, Expired};
use super::session_rows::{SessionOp, session_op};
use super::slots::Slots;
use super::syncer::Syncer;
use crate::store::session_hold::{Writing, lock};
use crate::store::{ItemMeta, Place, SpentTag, StoreError};
use crate::time;

/// Most jobs one group commit takes.
const MAX_BATCH: usize = 512;

/// Most log bytes (roughly) one group commit takes: its pages stay in the
/// writer's page cache ([`WRITER_CACHE_KIB`]) until the commit, none written
/// out early (and copied for its savepoint first).
const MAX_BATCH_BYTES: u64 = 6 * 1024 * 1024;

/// The writer connection's page cache, in KiB: a batch of
/// [`MAX_BATCH_BYTES`] and the tables' upper pages.
pub(super) const WRITER_CACHE_KIB: i64 = 10 * 1024;

/// Seconds between ticks, on the grid of Unix time: at each tick the
/// committer writes a row and has the log folded into the database, so that
/// the database files' times show the last tick, not the last tip.
pub const TICK_SECS: u64 = 10;

/// Deleting one item: an inbox item, or a reply in `mailbox`.
pub(super) struct DeleteJob {
    pub(super) agency: String,
    pub(super) id: String,
    pub(super) mailbox: Option<String>,
    pub(super) reply: oneshot::Sender<Result<bool, StoreError>>,
}

/// What the committer is asked to do.
pub(super) enum Job {
    /// Makes an upload or a session an item.
    Commit {
        item: Accepted,
        max_items: u64,
    },
    Delete(DeleteJob),
    /// Deletes every reply received before the hour given; answers how many.
    ExpireReplies(u64, oneshot::Sender<Result<u64, StoreError>>),
    /// Deletes a batch of an agency's items and replies received before
    /// the hour given; answers how many.
    ExpireAgency {
        agency: String,
        before: u64,
        reply: oneshot::Sender<Result<u64, StoreError>>,
    },
    Session {
        op: SessionOp,
        reply: oneshot::Sender<Result<u64, StoreError>>,
    },
}

impl Job {
    /// Roughly how many bytes it adds to the log.
    fn log_bytes(&self) -> u64 {
        let data = match self {
            Job::Commit { item, .. } => item.bytes.as_ref().map_or(0, Received::log_bytes),
            Job::Session {
                op: SessionOp::Append { bytes, .. },
                ..
            } => bytes.log_bytes(),
            _ => 0,
        };
        data + 4096
    }
}

/// A commit the committer carries out: the item's row (with the bytes of
/// an upload), and where to answer.
pub(super) struct Accepted {
    id: String,
    agency: String,
    place: Place,
    size: u64,
    received: u64,
    spent: Option<SpentTag>,
    /// The upload session it ends, whose chunks it takes over.
    session: Option<String>,
    /// An upload's bytes (none for a session's).
    bytes: Option<Received>,
    reply: oneshot::Sender<Result<(), StoreError>>,
}

impl Accepted {
    /// A commit received this hour, its item's metadata, and where its
    /// answer comes.
    pub(super) fn new(
        id: String,
        agency: &str,
        place: Place,
        size: u64,
        spent: Option<SpentTag>,
        session: Option<String>,
        bytes: Option<Received>,
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
            bytes,
            reply,
        };
        (item, meta, answer)
    }
}

/// A job's answer, sent once its transaction has committed (or failed).
pub(super) trait Answer: Send {
    fn send(self: Box<Self>, failed: Option<&str>);
}

struct Reply<T> {
    reply: oneshot::Sender<Result<T, StoreError>>,
    result: Result<T, StoreError>,
}

impl<T: Send> Answer for Reply<T> {
    fn send(self: Box<Self>, failed: Option<&str>) {
        let result = match failed {
            Some(message) if self.result.is_ok() => Err(StoreError::Failed(message.to_owned())),
            _ => self.result,
        };
        let _ = self.reply.send(result);
    }
}

pub(super) fn answer<T: Send + 'static>(
    reply: oneshot::Sender<Result<T, StoreError>>,
    result: Result<T, StoreError>,
) -> Option<Box<dyn Answer>> {
    Some(Box::new(Reply { reply, result }))
}

/// The single writer: carries out jobs in batches, one transaction each.
pub(super) struct Committer {
    conn: Connection,
    counts: Arc<Mutex<HashMap<String, u64>>>,
    writing: Writing,
    batches: u64,
    next_tick: u64,
    checkpointer: Checkpointer,
    /// Answers the jobs that promise durability once the log is synced.
    syncer: Syncer,
    /// Roughly the bytes added to the log since the last fold was asked for.
    unfolded: u64,
    /// The chunk file, whose slots the deleted rows free.
    slots: Arc<Slots>,
}

impl Committer {
    /// The committer of `conn`, the writer connection, which from here on
    /// notes the slots each deleted row frees (in a table of its own
    /// connection, in memory: undone with the job or batch that deleted).
    pub(super) fn new(
        conn: Connection,
        counts: Arc<Mutex<HashMap<String, u64>>>,
        writing: Writing,
        checkpointer: Checkpointer,
        syncer: Syncer,
        slots: Arc<Slots>,
    ) -> Result<Self, StoreError> {
        conn.execute_batch(
            "PRAGMA temp_store = MEMORY;
             CREATE TEMP TABLE freed_slots (slot INTEGER NOT NULL);
             CREATE TEMP TRIGGER chunk_slot_freed AFTER DELETE ON chunks
             WHEN OLD.slot IS NOT NULL
             BEGIN INSERT INTO freed_slots (slot) VALUES (OLD.slot); END;",
        )?;
        Ok(Committer {
            conn,
            counts,
            writing,
            batches: 0,
            next_tick: next_tick_after(time::now()),
            checkpointer,
            syncer,
            unfolded: 0,
            slots,
        })
    }

    /// Takes jobs until every sender is gone, ticking on the grid meanwhile.
    pub(super) fn run(mut self, queue: mpsc::Receiver<Job>) {
        loop {
            match queue.recv_timeout(until(self.next_tick)) {
                Ok(first) => {
                    let mut bytes = first.log_bytes();
                    let mut batch = vec![first];
                    while batch.len() < MAX_BATCH && bytes < MAX_BATCH_BYTES {
                        match queue.try_recv() {
                            Ok(job) => {
                                bytes += job.log_bytes();
                                batch.push(job);
                            }
                            Err(_) => break,
                        }
                    }
                    self.unfolded += bytes;
                    self.process(batch);
                    if self.checkpointer.fold_rest(&self.conn, self.unfolded) {
                        self.unfolded = 0;
                    }
                    if self.unfolded >= FOLD_AFTER_BYTES {
                        self.checkpointer.ask();
                        self.unfolded = 0;
                        self.checkpointer.bound(&self.conn);
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if self.checkpointer.fold_rest(&self.conn, self.unfolded) {
                        self.unfolded = 0;
                    }
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
            let now = time::now();
            if now >= self.next_tick {
                self.tick();
                self.next_tick = next_tick_after(now);
            }
        }
    }

    /// Writes the tick row, has the log folded into the database, and sets
    /// the chunk file's times.
    fn tick(&mut self) {
        if let Err(e) = self.conn.execute("UPDATE tick SET flip = 1 - flip", []) {
            eprintln!("sealtip-relay: storage tick failed: {e}");
        }
        self.slots.touch();
        self.checkpointer.ask();
        self.unfolded = 0;
    }

    /// Carries out `batch` in one transaction, committed without waiting
    /// for the disk; the answers go to the syncer, and so do the slots the
    /// batch freed, released once its deletions are on the disk.
    fn process(&mut self, batch: Vec<Job>) {
        // Answered once the log is synced.
        let mut durable: Vec<Box<dyn Answer>> = Vec::with_capacity(batch.len() + 1);
        // Inbox items gained (or lost) per agency in this batch.
        let mut delta: HashMap<String, i64> = HashMap::new();
        // Slots the batch's new rows name.
        let mut named = Vec::new();
        let outcome = (|| {
            self.batches += 1;
            let tx = self.conn.transaction()?;
            for job in batch {
                let mut batch = Batch {
                    counts: &self.counts,
                    delta: &mut delta,
                    writing: &self.writing,
                    slots: &self.slots,
                    named: &mut named,
                };
                durable.extend(batch.carry_out(&tx, job));
            }
            if self.batches.is_multiple_of(1000) {
                tx.execute(
                    "DELETE FROM spent WHERE expires <= ?1",
                    params![time::now()],
                )?;
            }
            let freed: Vec<u64> = tx
                .prepare_cached("DELETE FROM freed_slots RETURNING slot")?
                .query_map([], |row| row.get(0))?
                .collect::<Result<_, _>>()?;
            tx.commit()?;
            Ok::<Vec<u64>, StoreError>(freed)
        })();
        match outcome {
            Ok(freed) => {
                let mut counts = lock(&self.counts);
                for (agency, n) in delta {
                    let count = counts.entry(agency).or_default();
                    *count = count.saturating_add_signed(n);
                }
                drop(counts);
                if !freed.is_empty() {
                    // Before the answers: once a deletion is answered, its
                    // slots are queued for zeroing ahead of any later write.
                    let release = Box::new(Release {
                        slots: self.slots.clone(),
                        freed,
                    });
                    durable.insert(0, release);
                }
                self.syncer.after_sync(durable);
            }
            Err(e) => {
                let message = e.to_string();
                eprintln!("sealtip-relay: storage failed: {message}");
                for answer in durable {
                    answer.send(Some(&message));
                }
                // No row names them.
                self.slots.release(named);
            }
        }
    }
}

/// Slots whose rows a batch deleted: released once that is on the disk
/// (if the sync fails, they stay out of use until the next open).
struct Release {
    slots: Arc<Slots>,
    freed: Vec<u64>,
}

impl Answer for Release {
    fn send(self: Box<Self>, failed: Option<&str>) {
        if failed.is_none() {
            self.slots.release(self.freed);
        }
    }
}

/// What one job of a batch reads and changes beside the transaction.
struct Batch<'a> {
    counts: &'a Mutex<HashMap<String, u64>>,
    /// Inbox items gained (or lost) per agency in this batch so far.
    delta: &'a mut HashMap<String, i64>,
    writing: &'a Writing,
    slots: &'a Slots,
    /// Slots the batch's new rows name so far.
    named: &'a mut Vec<u64>,
}

/// Runs `f` in a savepoint of `tx`: undone if it fails, so a failed job
/// leaves nothing while the rest of the batch commits.
fn in_savepoint<T>(
    tx: &Transaction<'_>,
    f: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    tx.execute_batch("SAVEPOINT job")?;
    match f(tx) {
        Ok(value) => {
            tx.execute_batch("RELEASE job")?;
            Ok(value)
        }
        Err(e) => {
            tx.execute_batch("ROLLBACK TO job; RELEASE job")?;
            Err(e)
        }
    }
}

impl Batch<'_> {
    /// Carries out one job in `tx`, noting inbox changes and the slots its
    /// rows name; answers once the transaction is over. A job that fails
    /// has its slots released (no row names them).
    fn carry_out(&mut self, tx: &Transaction<'_>, job: Job) -> Option<Box<dyn Answer>> {
        match job {
            Job::Commit { item, max_items } => {
                let result = in_savepoint(tx, |tx| {
                    let full = match &item.place {
                        Place::Inbox(_) => {
                            let stored = lock(self.counts).get(&item.agency).copied();
                            let pending = self.delta.get(&item.agency).copied().unwrap_or(0);
                            stored.unwrap_or(0).saturating_add_signed(pending) >= max_items
                        }
                        Place::Mailbox(mailbox) => {
                            queries::mailbox_len(tx, &item.agency, mailbox)? >= max_items
                        }
                    };
                    if full {
                        return Err(StoreError::Full);
                    }
                    record_item(tx, &item)
                });
                if result.is_ok() && matches!(item.place, Place::Inbox(_)) {
                    *self.delta.entry(item.agency.clone()).or_default() += 1;
                }
                self.note_slots(result.is_ok(), item.bytes.as_ref());
                answer(item.reply, result)
            }
            Job::Delete(job) => {
                let result = in_savepoint(tx, |tx| delete_item(tx, &job));
                if matches!(result, Ok(true)) && job.mailbox.is_none() {
                    *self.delta.entry(job.agency.clone()).or_default() -= 1;
                }
                answer(job.reply, result)
            }
            Job::ExpireReplies(before, reply) => {
                answer(reply, in_savepoint(tx, |tx| expire_replies(tx, before)))
            }
            Job::Session { op, reply } => {
                let result = in_savepoint(tx, |tx| session_op(tx, &op, self.writing));
                if let SessionOp::Append { bytes, .. } = &op {
                    self.note_slots(result.is_ok(), Some(bytes));
                }
                answer(reply, result)
            }
            Job::ExpireAgency {
                agency,
                before,
                reply,
            } => {
                let result = in_savepoint(tx, |tx| retention::expire_agency(tx, &agency, before));
                if let Ok(Expired { inbox, .. }) = &result {
                    *self.delta.entry(agency).or_default() -= i64::try_from(*inbox).unwrap_or(0);
                }
                answer(reply, result.map(|expired| expired.items))
            }
        }
    }

    /// The slots of `bytes`: named by the batch if its job was `recorded`,
    /// else released.
    fn note_slots(&mut self, recorded: bool, bytes: Option<&Received>) {
        let Some(bytes) = bytes else { return };
        if recorded {
            self.named.extend(bytes.slots());
        } else {
            self.slots.release(bytes.slots());
        }
    }
}

/// Inserts the item's row (with an upload's chunks and its spent tag); a
/// session's row goes, and its chunks become the item's, exactly its length
/// of them.
fn record_item(tx: &Transaction<'_>, item: &Accepted) -> Result<(), StoreError> {
    if let Some(session) = &item.session {
        let ended = tx.execute("DELETE FROM sessions WHERE id = ?1", params![session])?;
        if ended == 0 {
            return Err(StoreError::Failed(
                "an upload session ended while it was committed".into(),
            ));
        }
        cut_chunks(tx, &item.id, item.size)?;
    }
    if let Some(bytes) = &item.bytes {
        bytes.insert(tx)?;
    }
    tx.prepare_cached(
        "INSERT INTO items (id, agency, kind, mailbox, size, received)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        item.id,
        item.agency,
        item.place.kind_name(),
        item.place.mailbox(),
        item.size,
        item.received
    ])?;
    if let Some(spent) = item.spent {
        tx.prepare_cached("INSERT OR IGNORE INTO spent (tag, expires) VALUES (?1, ?2)")?
            .execute(params![&spent.tag[..], spent.stored_expiry()])?;
    }
    Ok(())
}

/// Deletes the item and its chunks; whether there was one.
fn delete_item(tx: &Transaction<'_>, job: &DeleteJob) -> Result<bool, StoreError> {
    let n = match &job.mailbox {
        None => tx
            .prepare_cached(
                "DELETE FROM items WHERE id = ?1 AND agency = ?2 AND kind IN ('tip', 'message', 'case')",
            )?
            .execute(params![job.id, job.agency])?,
        Some(mailbox) => tx
            .prepare_cached(
                "DELETE FROM items WHERE id = ?1 AND agency = ?2 AND kind = 'reply'
                 AND mailbox = ?3",
            )?
            .execute(params![job.id, job.agency, mailbox])?,
    };
    if n > 0 {
        delete_chunks(tx, &job.id)?;
    }
    Ok(n > 0)
}

/// Deletes the replies received before `before`, with their chunks.
fn expire_replies(tx: &Transaction<'_>, before: u64) -> Result<u64, StoreError> {
    let ids: Vec<String> = tx
        .prepare_cached("DELETE FROM items WHERE kind = 'reply' AND received < ?1 RETURNING id")?
        .query_map(params![before], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    for id in &ids {
        delete_chunks(tx, id)?;
    }
    Ok(ids.len() as u64)
}

/// The first tick of the grid after `now` (Unix seconds).
fn next_tick_after(now: u64) -> u64 {
    (now / TICK_SECS + 1) * TICK_SECS
}

/// How long until Unix second `at`.
fn until(at: u64) -> Duration {
    let target = UNIX_EPOCH + Duration::from_secs(at);
    target
        .duration_since(SystemTime::now())
        .unwrap_or(Duration::ZERO)
}

pub(super) fn committer_stopped() -> StoreError {
    StoreError::Failed("the committer thread has stopped".into())
}

/// The committer's answer to a job.
pub(super) async fn committer_answer<T>(
    answer: oneshot::Receiver<Result<T, StoreError>>,
) -> Result<T, StoreError> {
    answer.await.map_err(|_| committer_stopped())?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_fall_on_the_grid_after_now() {
        assert_eq!(next_tick_after(0), TICK_SECS);
        assert_eq!(next_tick_after(TICK_SECS - 1), TICK_SECS);
        assert_eq!(next_tick_after(TICK_SECS), 2 * TICK_SECS);
        assert_eq!(next_tick_after(1_765_000_003), 1_765_000_010);
    }
}
