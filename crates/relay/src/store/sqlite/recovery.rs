//! What a crash left, put right when the store opens: expired sessions and
//! spent tags dropped, `.part` files and files without a row removed, rows
//! without a file unlisted, session files cut back to their recorded length.

use std::collections::{HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::path::Path;

use rusqlite::{Connection, params};
use sealtip_api::is_valid_id;

use super::files::session_path;
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
pub(super) fn recover(conn: &Connection, blobs: &Path) -> Result<Recovered, StoreError> {
    let now = time::now();
    conn.execute("DELETE FROM sessions WHERE expires <= ?1", params![now])?;
    remove_leftovers(conn, blobs)?;
    conn.execute("DELETE FROM spent WHERE expires <= ?1", params![now])?;
    Ok(Recovered {
        spent: queries::spent_tags(conn)?,
        counts: queries::inbox_counts(conn)?,
    })
}

/// Removes `.part` files, files with no row, and rows with no file; cuts
/// session files back to their recorded length.
fn remove_leftovers(conn: &Connection, blobs: &Path) -> Result<(), StoreError> {
    let mut ids = HashSet::new();
    {
        let mut stmt = conn.prepare("SELECT id FROM items")?;
        for id in stmt.query_map([], |row| row.get::<_, String>(0))? {
            ids.insert(id?);
        }
    }
    // Session blob -> (session id, bytes received).
    let mut sessions: HashMap<String, (String, u64)> = HashMap::new();
    {
        let mut stmt = conn.prepare("SELECT blob, id, received FROM sessions")?;
        let rows = stmt.query_map([], |row| Ok((row.get(0)?, (row.get(1)?, row.get(2)?))))?;
        for row in rows {
            let (blob, session) = row?;
            sessions.insert(blob, session);
        }
    }
    // A commit cut short after its rename: the session is still there.
    for blob in sessions.keys() {
        if !ids.contains(blob) && blobs.join(blob).is_file() {
            std::fs::rename(blobs.join(blob), session_path(blobs, blob))?;
        }
    }
    let mut present = HashSet::new();
    let mut lost_sessions = Vec::new();
    let mut removed = 0usize;
    for entry in std::fs::read_dir(blobs)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let leftover = if let Some(id) = name.strip_suffix(".part") {
            is_valid_id(id)
        } else if let Some(blob) = name.strip_suffix(".session") {
            match sessions.get(blob) {
                None => is_valid_id(blob),
                Some((id, received)) => {
                    // Bytes of a part never acknowledged go; a file shorter
                    // than what was acknowledged ends its session.
                    let file = OpenOptions::new().write(true).open(entry.path())?;
                    let len = file.metadata()?.len();
                    if len > *received {
                        file.set_len(*received)?;
                        file.sync_all()?;
                    }
                    if len < *received {
                        lost_sessions.push(id.clone());
                    }
                    len < *received
                }
            }
        } else {
            is_valid_id(name) && !ids.contains(name)
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
    for (blob, (id, received)) in &sessions {
        if *received > 0 && !session_path(blobs, blob).exists() && !lost_sessions.contains(id) {
            lost_sessions.push(id.clone());
        }
    }
    if !lost_sessions.is_empty() {
        eprintln!(
            "sealtip-relay: {} upload session(s) had lost bytes and were ended",
            lost_sessions.len()
        );
        for id in &lost_sessions {
            conn.execute("DELETE FROM sessions WHERE id = ?1", params![id])?;
        }
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
