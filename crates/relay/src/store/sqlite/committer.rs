//! The single writer thread: it renames blob files into place, fsyncs the
//! folder and commits rows, taking every job waiting when it wakes (group
//! commit).

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};

use rusqlite::{Connection, params};
use tokio::sync::oneshot;

use super::files::{part_path, session_path};
use super::queries;
use super::session_rows::{SessionOp, SessionOutcome, session_op};
use crate::store::session_hold::{Writing, lock};
use crate::store::{ItemMeta, Place, SpentTag, StoreError};
use crate::time;

/// Most items one group commit takes.
const MAX_BATCH: usize = 512;

/// Deleting one item: an inbox item, or a reply in `mailbox`.
pub(super) struct DeleteJob {
    pub(super) agency: String,
    pub(super) id: String,
    pub(super) mailbox: Option<String>,
    pub(super) reply: oneshot::Sender<Result<bool, StoreError>>,
}

/// Deleting every reply received before `before`; answers their ids, whose
/// files the caller removes (off the committer thread).
pub(super) type ExpireJob = (u64, oneshot::Sender<Result<Vec<String>, StoreError>>);

/// What the committer is asked to do.
pub(super) enum Job {
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

/// The single writer: renames, fsyncs the folder and commits rows, in batches.
pub(super) struct Committer {
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
pub(super) struct Accepted {
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
    pub(super) fn new(
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
    /// The committer of `conn`, the writer connection, and folder `blobs`.
    pub(super) fn new(
        conn: Connection,
        blobs: &Path,
        counts: Arc<Mutex<HashMap<String, u64>>>,
        writing: Writing,
    ) -> Self {
        Committer {
            conn,
            blobs: blobs.to_path_buf(),
            counts,
            writing,
            batches: 0,
        }
    }

    /// Takes jobs until every sender is gone.
    pub(super) fn run(mut self, queue: mpsc::Receiver<Job>) {
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
                            queries::mailbox_len(&self.conn, &item.agency, mailbox).map(|stored| {
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
                    spend.execute(params![&spent.tag[..], spent.stored_expiry()])?;
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
