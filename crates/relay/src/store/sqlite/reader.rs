//! A stored blob read back one chunk at a time (off the async threads), so
//! that a reader never holds a whole blob in memory: each chunk from its
//! row, or from the slot of the chunk file its row names.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use rusqlite::{Connection, OptionalExtension, params};
use tokio::io::{AsyncRead, ReadBuf};
use tokio::task::JoinHandle;

use super::SqliteStore;
use super::slots::Slots;
use crate::store::StoreError;

/// A stored blob, fetched a chunk at a time as it is read.
pub struct SqliteReader {
    store: SqliteStore,
    blob: String,
    size: u64,
    /// Bytes fetched so far: where the next chunk starts.
    fetched: u64,
    chunk: Vec<u8>,
    /// Bytes of `chunk` already read.
    consumed: usize,
    pending: Option<JoinHandle<Result<Option<Vec<u8>>, StoreError>>>,
}

impl SqliteReader {
    pub(super) fn new(store: SqliteStore, blob: String, size: u64) -> Self {
        SqliteReader {
            store,
            blob,
            size,
            fetched: 0,
            chunk: Vec::new(),
            consumed: 0,
            pending: None,
        }
    }
}

impl AsyncRead for SqliteReader {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            let left = &this.chunk[this.consumed..];
            if !left.is_empty() {
                let n = left.len().min(buf.remaining());
                buf.put_slice(&left[..n]);
                this.consumed += n;
                return Poll::Ready(Ok(()));
            }
            if this.fetched >= this.size {
                return Poll::Ready(Ok(()));
            }
            let pending = match &mut this.pending {
                Some(pending) => pending,
                None => this
                    .pending
                    .insert(this.store.fetch_chunk(this.blob.clone(), this.fetched)),
            };
            let fetched = ready!(Pin::new(pending).poll(cx));
            this.pending = None;
            let data = fetched
                .map_err(io::Error::other)?
                .map_err(io::Error::other)?
                .filter(|data| !data.is_empty())
                .ok_or_else(|| {
                    io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the item was deleted while being read",
                    )
                })?;
            let mut data = data;
            // Never past the item's length.
            let left = usize::try_from(this.size - this.fetched).unwrap_or(usize::MAX);
            data.truncate(left);
            this.fetched += data.len() as u64;
            this.chunk = data;
            this.consumed = 0;
        }
    }
}

impl SqliteStore {
    /// Fetches the chunk of `blob` at byte `start`, off the async threads.
    fn fetch_chunk(
        &self,
        blob: String,
        start: u64,
    ) -> JoinHandle<Result<Option<Vec<u8>>, StoreError>> {
        let store = self.clone();
        tokio::task::spawn_blocking(move || {
            chunk(&store.reader(), &store.inner.slots, &blob, start)
        })
    }
}

/// The chunk of `blob` that starts at byte `start`.
fn chunk(
    conn: &Connection,
    slots: &Slots,
    blob: &str,
    start: u64,
) -> Result<Option<Vec<u8>>, StoreError> {
    // Until its slot is read, no slot is released.
    let _reading = slots.reading();
    let row: Option<(Vec<u8>, Option<u64>)> = conn
        .prepare_cached("SELECT data, slot FROM chunks WHERE blob = ?1 AND start = ?2")?
        .query_row(params![blob, start], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?;
    match row {
        Some((_, Some(slot))) => Ok(Some(slots.read(slot)?)),
        Some((data, None)) => Ok(Some(data)),
        None => Ok(None),
    }
}
