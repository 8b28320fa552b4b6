//! What a crash left, put right when the store opens: expired sessions and
//! spent tags dropped, chunks of unfinished uploads removed, each session
//! cut back to its recorded length, and an item or session whose chunks do
//! not add up to its length removed; the totals per agency counted again.
//! (The slots of the rows removed are free once no row names them: the
//! chunk file's slots are counted after this.)

use std::collections::HashMap;

use rusqlite::{Connection, params};

use super::chunks::CHUNK_LENGTH_SQL;
use super::queries;
use crate::store::StoreError;
use crate::time;

/// What the store keeps in memory, read once the leftovers are gone.
pub(super) struct Recovered {
    /// Items per agency inbox.
    pub counts: HashMap<String, u64>,
    /// Unexpired spent tags and their expiries.
    pub spent: HashMap<[u8; 16], u64>,
}

/// Removes what a crash left and what has expired, then reads what the
/// store keeps in memory.
pub(super) fn recover(conn: &mut Connection) -> Result<Recovered, StoreError> {
    let now = time::now();
    let tx = conn.transaction()?;
    tx.execute("DELETE FROM sessions WHERE expires <= ?1", params![now])?;
    // Uploads cut short, and expired sessions.
    let unfinished = tx.execute(
        "DELETE FROM chunks WHERE blob NOT IN (SELECT id FROM items)
         AND blob NOT IN (SELECT blob FROM sessions)",
        [],
    )?;
    // Parts never acknowledged (found through each session's blob, not by
    // reading every chunk).
    tx.execute(
        "DELETE FROM chunks WHERE rowid IN (SELECT chunks.rowid FROM sessions
         JOIN chunks ON chunks.blob = sessions.blob AND chunks.start >= sessions.received)",
        [],
    )?;
    let lost_sessions = tx.execute(
        &format!(
            "DELETE FROM sessions WHERE received != (SELECT COALESCE(SUM({CHUNK_LENGTH_SQL}), 0)
             FROM chunks WHERE chunks.blob = sessions.blob)"
        ),
        [],
    )?;
    let lost_items = tx.execute(
        &format!(
            "DELETE FROM items WHERE size != (SELECT COALESCE(SUM({CHUNK_LENGTH_SQL}), 0)
             FROM chunks WHERE chunks.blob = items.id)"
        ),
        [],
    )?;
    if lost_sessions + lost_items > 0 {
        tx.execute(
            "DELETE FROM chunks WHERE blob NOT IN (SELECT id FROM items)
             AND blob NOT IN (SELECT blob FROM sessions)",
            [],
        )?;
    }
    tx.execute("DELETE FROM spent WHERE expires <= ?1", params![now])?;
    // The totals counted again (a database from before they were kept has
    // none).
    tx.execute_batch(
        "DELETE FROM totals;
         INSERT INTO totals (agency, kind, items, bytes)
         SELECT agency, kind, COUNT(*), SUM(size) FROM items GROUP BY agency, kind;",
    )?;
    tx.commit()?;
    if unfinished > 0 {
        eprintln!("sealtip-relay: removed {unfinished} chunk(s) of unfinished uploads");
    }
    if lost_sessions > 0 {
        eprintln!("sealtip-relay: {lost_sessions} upload session(s) had lost bytes and were ended");
    }
    if lost_items > 0 {
        eprintln!("sealtip-relay: {lost_items} stored item(s) had lost bytes and were unlisted");
    }
    Ok(Recovered {
        spent: queries::spent_tags(conn)?,
        counts: queries::inbox_counts(conn)?,
    })
}
