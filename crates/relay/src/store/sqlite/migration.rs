//! Databases of earlier relays, brought up to date when the store opens.
//!
//! A relay from before the chunk file kept every chunk's bytes inline in
//! its `chunks` row: the table gains its `slot` column, and those rows are
//! read as they are, beside new rows that name slots.
//!
//! A relay that kept each sealed blob as a file of its own (`BLOBS/<id>`,
//! an upload session's bytes in `BLOBS/<blob>.session`) has them moved into
//! `chunks` rows (inline) when it opens: each file is copied in one
//! transaction, made durable, then removed; the emptied folder goes too. A
//! stop part way is picked up at the next open (a file is copied again
//! whole).

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::Read;
use std::path::Path;

use rusqlite::{Connection, params};
use sealtip_api::is_valid_id;

use super::chunks::CHUNK_BYTES;
use crate::store::StoreError;

/// Adds the `slot` column to the `chunks` table of a database from before
/// the chunk file (its rows keep their bytes inline, and read as they are).
pub(super) fn add_slot_column(conn: &Connection) -> Result<(), StoreError> {
    let columns: Vec<String> = conn
        .prepare("SELECT name FROM pragma_table_info('chunks')")?
        .query_map([], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    if !columns.is_empty() && !columns.iter().any(|name| name == "slot") {
        conn.execute("ALTER TABLE chunks ADD COLUMN slot INTEGER", [])?;
    }
    Ok(())
}

/// Moves the blob files in `folder` (if there is one) into the database.
pub(super) fn move_blob_files(conn: &mut Connection, folder: &Path) -> Result<(), StoreError> {
    if !folder.is_dir() {
        return Ok(());
    }
    let items: HashSet<String> = {
        let mut stmt = conn.prepare("SELECT id FROM items")?;
        let ids = stmt.query_map([], |row| row.get(0))?;
        ids.collect::<Result<_, _>>()?
    };
    // Session blob -> bytes received.
    let sessions: HashMap<String, u64> = {
        let mut stmt = conn.prepare("SELECT blob, received FROM sessions")?;
        let rows = stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
        rows.collect::<Result<_, _>>()?
    };
    let (mut moved, mut left) = (0usize, 0usize);
    for entry in std::fs::read_dir(folder)? {
        let path = entry?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            left += 1;
            continue;
        };
        // A session's file, or one a commit cut short had renamed already.
        let blob = name.strip_suffix(".session").unwrap_or(name);
        let keep = if items.contains(name) {
            Some(u64::MAX)
        } else {
            sessions.get(blob).copied()
        };
        if let Some(limit) = keep {
            copy_into_chunks(conn, &path, blob, limit)?;
            moved += 1;
        } else if !(is_valid_id(blob) || name.strip_suffix(".part").is_some_and(is_valid_id)) {
            // Not the relay's: left where it is.
            left += 1;
            continue;
        }
        // A copied file, or a leftover of an upload that never finished.
        std::fs::remove_file(&path)?;
    }
    if moved > 0 {
        eprintln!(
            "sealtip-relay: moved {moved} blob file(s) from {} into the database",
            folder.display()
        );
    }
    if left == 0 {
        std::fs::remove_dir(folder)?;
    } else {
        eprintln!(
            "sealtip-relay: {} holds {left} file(s) that are not the relay's; remove it by hand",
            folder.display()
        );
    }
    Ok(())
}

/// Copies the first `limit` bytes of `path` into chunks of `blob`, replacing
/// any it had, in one transaction that waits for the disk.
fn copy_into_chunks(
    conn: &mut Connection,
    path: &Path,
    blob: &str,
    limit: u64,
) -> Result<(), StoreError> {
    let mut file = File::open(path)?.take(limit);
    let tx = conn.transaction()?;
    tx.execute("DELETE FROM chunks WHERE blob = ?1", params![blob])?;
    let mut start = 0u64;
    loop {
        let mut data = Vec::with_capacity(CHUNK_BYTES);
        (&mut file)
            .take(CHUNK_BYTES as u64)
            .read_to_end(&mut data)?;
        if data.is_empty() {
            break;
        }
        tx.execute(
            "INSERT INTO chunks (blob, start, data) VALUES (?1, ?2, ?3)",
            params![blob, start, data],
        )?;
        start += data.len() as u64;
    }
    tx.commit()?;
    Ok(())
}
