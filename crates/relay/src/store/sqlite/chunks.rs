//! Sealed bytes on their way in: an upload (`begin` … `commit`) and a part
//! of an upload session. Each full chunk is written into a slot of the
//! chunk file (`slots`) as soon as more bytes follow, while the next is
//! received, and every [`SYNC_EVERY_CHUNKS`] chunks the file is synced
//! meanwhile; the rest, less than a chunk, stays in memory. At the end the
//! slots are synced and the whole is handed to the committer as
//! [`Received`]: one `chunks` row per slot, and the rest inline in its row,
//! recorded in the same transaction as the item or the session's new
//! length. So nothing is written to the database before that commit, and
//! each holds two chunks in memory at most.

use std::sync::Arc;

use rusqlite::{Transaction, params};

use super::slots::{SYNC_EVERY_CHUNKS, Slots, Written};
use crate::store::session_hold::SessionHold;
use crate::store::{StoreError, Upload};

/// Ciphertext bytes per `chunks` row at most, and per slot of the chunk file.
pub const CHUNK_BYTES: usize = 256 * 1024;

/// The length of a `chunks` row's bytes, in SQL: inline, or a full slot.
pub(super) const CHUNK_LENGTH_SQL: &str = "IIF(slot IS NULL, length(data), 262144)";

/// A full chunk of a blob in a slot of the chunk file.
#[derive(Clone, Copy)]
pub(super) struct InSlot {
    /// Where its bytes start in the blob.
    pub(super) start: u64,
    pub(super) slot: u64,
}

/// The bytes of an upload or a part, ready to be recorded: full chunks in
/// slots (already on the disk), and the rest, if any, inline.
pub(super) struct Received {
    pub(super) blob: String,
    pub(super) in_slots: Vec<InSlot>,
    /// Where the rest starts in the blob, and its bytes.
    pub(super) rest: Option<(u64, Vec<u8>)>,
}

impl Received {
    /// Inserts its `chunks` rows.
    pub(super) fn insert(&self, tx: &Transaction<'_>) -> Result<(), StoreError> {
        let mut in_slot = tx.prepare_cached(
            "INSERT INTO chunks (blob, start, data, slot) VALUES (?1, ?2, X'', ?3)",
        )?;
        for chunk in &self.in_slots {
            in_slot.execute(params![self.blob, chunk.start, chunk.slot])?;
        }
        if let Some((start, data)) = &self.rest {
            tx.prepare_cached("INSERT INTO chunks (blob, start, data) VALUES (?1, ?2, ?3)")?
                .execute(params![self.blob, start, data])?;
        }
        Ok(())
    }

    /// The slots its rows name.
    pub(super) fn slots(&self) -> Vec<u64> {
        self.in_slots.iter().map(|chunk| chunk.slot).collect()
    }

    /// Roughly how many bytes it adds to the log.
    pub(super) fn log_bytes(&self) -> u64 {
        let rest = self.rest.as_ref().map_or(0, |(_, data)| data.len());
        (rest + 64 * self.in_slots.len()) as u64
    }
}

/// Removes every chunk of `blob` (the `chunk_slot_freed` trigger notes the
/// slots it frees).
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

/// Bytes on their way to a blob: full chunks into slots, the rest in memory.
pub(super) struct ChunkWriter {
    slots: Arc<Slots>,
    pub(super) blob: String,
    /// Where the first byte goes in the blob: 0 for an upload, the
    /// session's length for a part.
    pub(super) start: u64,
    buffer: Vec<u8>,
    pub(super) written: u64,
    /// The slots written (or being written) so far, not yet recorded:
    /// released if dropped.
    in_slots: Vec<InSlot>,
    /// The write under way, to the last of `in_slots`, which answers its
    /// buffer: kept until it has answered, so that a writer dropped
    /// meanwhile has that slot released only after it.
    in_flight: Option<Written>,
}

impl ChunkWriter {
    pub(super) fn new(slots: Arc<Slots>, blob: String, start: u64) -> Self {
        ChunkWriter {
            slots,
            blob,
            start,
            buffer: Vec::new(),
            written: 0,
            in_slots: Vec::new(),
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

    /// Writes the full chunk in memory into a slot, once the one before is
    /// written.
    async fn store_chunk(&mut self) -> Result<(), StoreError> {
        // A body this long is likely longer still: the buffer written
        // before takes the next chunk.
        let next = self.written_so_far().await?;
        let slot = self.slots.take();
        self.in_slots.push(InSlot {
            start: self.buffer_start(),
            slot,
        });
        let data = std::mem::replace(&mut self.buffer, next);
        self.in_flight = Some(self.slots.write(slot, data));
        if self.in_slots.len().is_multiple_of(SYNC_EVERY_CHUNKS) {
            self.slots.sync_soon();
        }
        Ok(())
    }

    /// Waits until every chunk is written; answers an empty buffer.
    async fn written_so_far(&mut self) -> Result<Vec<u8>, StoreError> {
        let Some(written) = &mut self.in_flight else {
            return Ok(Vec::with_capacity(CHUNK_BYTES));
        };
        let answer = written.await;
        self.in_flight = None;
        let mut buffer =
            answer.map_err(|_| StoreError::Failed("a chunk's write was lost".into()))??;
        buffer.clear();
        Ok(buffer)
    }

    /// Where the bytes in memory go in the blob.
    fn buffer_start(&self) -> u64 {
        self.start + self.written - self.buffer.len() as u64
    }

    /// Everything written, the full chunks in slots on the disk: what the
    /// committer records. From here the committer owns the slots.
    pub(super) async fn finish(&mut self) -> Result<Received, StoreError> {
        if self.buffer.len() == CHUNK_BYTES {
            self.store_chunk().await?;
        }
        self.written_so_far().await?;
        if !self.in_slots.is_empty() {
            self.slots.synced().await?;
        }
        let rest = (!self.buffer.is_empty())
            .then(|| (self.buffer_start(), std::mem::take(&mut self.buffer)));
        Ok(Received {
            blob: self.blob.clone(),
            in_slots: std::mem::take(&mut self.in_slots),
            rest,
        })
    }
}

impl Drop for ChunkWriter {
    fn drop(&mut self) {
        // Not recorded: nothing of it may stay. Released once the write
        // under way, if any, is over.
        let slots = self.in_slots.iter().map(|chunk| chunk.slot).collect();
        self.slots.release_after(slots, self.in_flight.take());
    }
}

/// A blob being received by `begin` … `commit`.
pub struct SqliteUpload {
    pub(super) writer: ChunkWriter,
}

impl Upload for SqliteUpload {
    async fn write(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        self.writer.write(bytes).await
    }

    fn written(&self) -> u64 {
        self.writer.written
    }
}

/// A part of an upload session, written after the session's bytes.
pub struct SqlitePart {
    /// The session's id.
    pub(super) id: String,
    pub(super) writer: ChunkWriter,
    /// Released when the part is recorded or dropped.
    pub(super) _hold: SessionHold,
}

impl Upload for SqlitePart {
    async fn write(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        self.writer.write(bytes).await
    }

    fn written(&self) -> u64 {
        self.writer.written
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slots_length_in_sql_is_a_chunk() {
        assert!(CHUNK_LENGTH_SQL.contains(&format!(" {CHUNK_BYTES})")));
    }
}
