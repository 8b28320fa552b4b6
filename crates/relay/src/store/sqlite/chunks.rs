//! Sealed bytes on their way into `chunks` rows: an upload (`begin` …
//! `commit`) and a part of an upload session. A full chunk goes to the
//! committer as soon as more bytes follow (durable with the next commit that
//! waits for the disk), and the next is received while it is written; the
//! last one goes with the item or with the session's new length. So each
//! holds two chunks in memory at most.

use std::sync::mpsc;

use rusqlite::{Transaction, params};
use tokio::sync::oneshot;

use super::committer::{Job, committer_answer, committer_stopped};
use crate::store::session_hold::SessionHold;
use crate::store::{StoreError, Upload};

/// Ciphertext bytes per `chunks` row at most.
pub const CHUNK_BYTES: usize = 256 * 1024;

/// Bytes of blob `blob` from byte `start` on.
pub(super) struct Chunk {
    pub(super) blob: String,
    pub(super) start: u64,
    pub(super) data: Vec<u8>,
}

impl Chunk {
    /// Stores the chunk (replacing one a dropped part left at its place).
    pub(super) fn insert(&self, tx: &Transaction<'_>) -> Result<(), StoreError> {
        tx.prepare_cached("INSERT OR REPLACE INTO chunks (blob, start, data) VALUES (?1, ?2, ?3)")?
            .execute(params![self.blob, self.start, self.data])?;
        Ok(())
    }
}

/// Removes every chunk of `blob`.
pub(super) fn delete_chunks(tx: &Transaction<'_>, blob: &str) -> Result<(), StoreError> {
    tx.prepare_cached("DELETE FROM chunks WHERE blob = ?1")?
        .execute(params![blob])?;
    Ok(())
}

/// Removes the chunks of `blob` from byte `from` on, unless it is an item.
pub(super) fn cut_chunks(tx: &Transaction<'_>, blob: &str, from: u64) -> Result<(), StoreError> {
    tx.prepare_cached(
        "DELETE FROM chunks WHERE blob = ?1 AND start >= ?2
         AND NOT EXISTS (SELECT 1 FROM items WHERE id = ?1)",
    )?
    .execute(params![blob, from])?;
    Ok(())
}

/// Bytes on their way to the chunks of a blob, one chunk in memory.
pub(super) struct ChunkWriter {
    jobs: mpsc::Sender<Job>,
    pub(super) blob: String,
    /// Where the first byte goes in the blob: 0 for an upload, the
    /// session's length for a part.
    pub(super) start: u64,
    buffer: Vec<u8>,
    pub(super) written: u64,
    /// Whether a chunk may have been stored.
    pub(super) stored: bool,
    /// The committer's answer for the chunk being written.
    in_flight: Option<oneshot::Receiver<Result<(), StoreError>>>,
}

impl ChunkWriter {
    pub(super) fn new(jobs: mpsc::Sender<Job>, blob: String, start: u64) -> Self {
        ChunkWriter {
            jobs,
            blob,
            start,
            buffer: Vec::new(),
            written: 0,
            stored: false,
            in_flight: None,
        }
    }

    async fn write(&mut self, mut bytes: &[u8]) -> Result<(), StoreError> {
        while !bytes.is_empty() {
            if self.buffer.len() == CHUNK_BYTES {
                self.store_chunk().await?;
            }
            let take = bytes.len().min(CHUNK_BYTES - self.buffer.len());
            self.buffer.extend_from_slice(&bytes[..take]);
            self.written += take as u64;
            bytes = &bytes[take..];
        }
        Ok(())
    }

    /// Has the committer store the full chunk in memory, once the one
    /// before is stored.
    async fn store_chunk(&mut self) -> Result<(), StoreError> {
        self.stored_so_far().await?;
        let chunk = Chunk {
            blob: self.blob.clone(),
            start: self.buffer_start(),
            // A body this long is likely longer still: the next chunk's
            // room is taken at once.
            data: std::mem::replace(&mut self.buffer, Vec::with_capacity(CHUNK_BYTES)),
        };
        self.stored = true;
        let (reply, answer) = oneshot::channel();
        self.send(Job::Chunk { chunk, reply })?;
        self.in_flight = Some(answer);
        Ok(())
    }

    /// Waits until every chunk sent is stored (an item or a session's length
    /// must not count a chunk that failed).
    async fn stored_so_far(&mut self) -> Result<(), StoreError> {
        match self.in_flight.take() {
            Some(answer) => committer_answer(answer).await,
            None => Ok(()),
        }
    }

    /// Where the bytes in memory go in the blob.
    fn buffer_start(&self) -> u64 {
        self.start + self.written - self.buffer.len() as u64
    }

    /// Once every chunk sent is stored: the bytes still in memory, as the
    /// blob's last chunk (none if empty).
    pub(super) async fn last_chunk(&mut self) -> Result<Option<Chunk>, StoreError> {
        self.stored_so_far().await?;
        if self.buffer.is_empty() {
            return Ok(None);
        }
        self.stored = true;
        Ok(Some(Chunk {
            blob: self.blob.clone(),
            start: self.buffer_start(),
            data: std::mem::take(&mut self.buffer),
        }))
    }

    pub(super) fn send(&self, job: Job) -> Result<(), StoreError> {
        self.jobs.send(job).map_err(|_| committer_stopped())
    }
}

/// A blob being received by `begin` … `commit`.
pub struct SqliteUpload {
    pub(super) writer: ChunkWriter,
    /// Whether it is an item now.
    pub(super) committed: bool,
}

impl Drop for SqliteUpload {
    fn drop(&mut self) {
        if self.writer.stored && !self.committed {
            // An abandoned upload: nothing of it may stay (a crash's
            // leftovers are removed on the next open instead).
            let blob = std::mem::take(&mut self.writer.blob);
            let _ = self.writer.send(Job::Discard { blob });
        }
    }
}

impl Upload for SqliteUpload {
    async fn write(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        self.writer.write(bytes).await
    }

    fn written(&self) -> u64 {
        self.writer.written
    }
}

/// A part of an upload session, written as chunks after the session's bytes.
pub struct SqlitePart {
    /// The session's id.
    pub(super) id: String,
    pub(super) writer: ChunkWriter,
    /// Whether the session counts it (it stays).
    pub(super) counted: bool,
    /// Released after the cut below is queued, so the next part or commit
    /// comes after it.
    pub(super) _hold: SessionHold,
}

impl Drop for SqlitePart {
    fn drop(&mut self) {
        if self.writer.stored && !self.counted {
            // Nothing of a part that was not counted may stay.
            let (blob, from) = (std::mem::take(&mut self.writer.blob), self.writer.start);
            if self.writer.send(Job::Cut { blob, from }).is_err() {
                eprintln!("sealtip-relay: could not cut back an unfinished part");
            }
        }
    }
}

impl Upload for SqlitePart {
    async fn write(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        self.writer.write(bytes).await
    }

    fn written(&self) -> u64 {
        self.writer.written
    }
}
