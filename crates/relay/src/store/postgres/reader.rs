//! A stored blob read back one chunk at a time, so that a reader never holds
//! a whole blob in memory.

use std::pin::Pin;

use bytes::Bytes;
use futures_util::Stream;
use tokio_util::io::StreamReader;

use super::PgStore;
use crate::store::StoreError;

/// A stored blob, fetched a chunk at a time as it is read.
pub type PgReader = StreamReader<Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send>>, Bytes>;

/// The chunks of blob `id`, in order, fetched one query each.
pub(super) fn chunk_stream(
    store: PgStore,
    id: String,
    size: u64,
) -> Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send>> {
    let state = (store, id, 0i32, size);
    Box::pin(futures_util::stream::try_unfold(
        state,
        |(store, id, n, remaining)| async move {
            if remaining == 0 {
                return Ok(None);
            }
            let fetched = async {
                let client = store.client().await?;
                let stmt = client
                    .prepare_cached("SELECT data FROM chunks WHERE blob = $1 AND n = $2")
                    .await?;
                let row = client.query_opt(&stmt, &[&id, &n]).await?;
                Ok::<_, StoreError>(row.map(|row| row.get::<_, Vec<u8>>(0)))
            }
            .await
            .map_err(std::io::Error::other)?;
            let Some(data) = fetched else {
                // Deleted while being read.
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "the item was deleted while being read",
                ));
            };
            let remaining = remaining.saturating_sub(data.len() as u64);
            Ok(Some((Bytes::from(data), (store, id, n + 1, remaining))))
        },
    ))
}
