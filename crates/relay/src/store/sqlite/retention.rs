//! An agency's items and replies past its retention, deleted by the
//! committer a few at a time, so that commits go on between the batches.

use rusqlite::{Transaction, params};

use super::chunks::delete_chunks;
use crate::store::StoreError;

/// Items one batch deletes at most (with all their chunks).
pub(super) const BATCH: u64 = 64;

/// What one batch deleted.
pub(super) struct Expired {
    /// Items and replies.
    pub(super) items: u64,
    /// Of them, inbox items (which the inbox count loses).
    pub(super) inbox: u64,
}

/// Deletes up to [`BATCH`] items or replies of `agency` received before
/// `before`, with their chunks.
pub(super) fn expire_agency(
    tx: &Transaction<'_>,
    agency: &str,
    before: u64,
) -> Result<Expired, StoreError> {
    let rows: Vec<(String, String)> = tx
        .prepare_cached(
            "DELETE FROM items WHERE id IN
             (SELECT id FROM items WHERE agency = ?1 AND received < ?2 LIMIT ?3)
             RETURNING id, kind",
        )?
        .query_map(params![agency, before, BATCH], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })?
        .collect::<Result<_, _>>()?;
    for (id, _) in &rows {
        delete_chunks(tx, id)?;
    }
    Ok(Expired {
        items: rows.len() as u64,
        inbox: rows.iter().filter(|(_, kind)| kind != "reply").count() as u64,
    })
}
