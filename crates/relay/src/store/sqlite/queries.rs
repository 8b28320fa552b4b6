//! Reads: what the reader connection asks the database (and what the
//! committer counts before it accepts an item).

use std::collections::{BTreeSet, HashMap};

use rusqlite::{Connection, OptionalExtension, params};
use sealtip_api::is_valid_id;

use super::SqliteStore;
use crate::store::{AgencyUsage, ItemMeta, Place, Session, StoreError, Usage};
use crate::time;

/// An item from the columns `id, kind, mailbox, size, received`.
fn meta_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<ItemMeta> {
    let kind: String = row.get(1)?;
    Ok(ItemMeta {
        id: row.get(0)?,
        place: Place::from_columns(&kind, row.get(2)?),
        size: row.get(3)?,
        received: row.get(4)?,
    })
}

/// The agency's inbox, oldest first.
pub(super) fn inbox(conn: &Connection, agency: &str) -> Result<Vec<ItemMeta>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, kind, mailbox, size, received FROM items
         WHERE agency = ?1 AND kind IN ('tip', 'message', 'case') ORDER BY rowid",
    )?;
    let rows = stmt.query_map(params![agency], meta_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// A mailbox's replies, oldest first.
pub(super) fn mailbox(
    conn: &Connection,
    agency: &str,
    mailbox: &str,
) -> Result<Vec<ItemMeta>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, kind, mailbox, size, received FROM items
         WHERE agency = ?1 AND kind = 'reply' AND mailbox = ?2 ORDER BY rowid",
    )?;
    let rows = stmt.query_map(params![agency, mailbox], meta_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Item `id` of `agency`, wherever it lives.
pub(super) fn item(
    conn: &Connection,
    agency: &str,
    id: &str,
) -> Result<Option<ItemMeta>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT id, kind, mailbox, size, received FROM items
             WHERE id = ?1 AND agency = ?2",
            params![id, agency],
            meta_from_row,
        )
        .optional()?)
}

/// How many replies a mailbox holds.
pub(super) fn mailbox_len(
    conn: &Connection,
    agency: &str,
    mailbox: &str,
) -> Result<u64, StoreError> {
    Ok(conn.query_row(
        "SELECT COUNT(*) FROM items WHERE agency = ?1 AND kind = 'reply' AND mailbox = ?2",
        params![agency, mailbox],
        |row| row.get(0),
    )?)
}

/// Items per agency inbox.
pub(super) fn inbox_counts(conn: &Connection) -> Result<HashMap<String, u64>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT agency, SUM(items) FROM totals WHERE kind IN ('tip', 'message', 'case') GROUP BY agency",
    )?;
    let rows = stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The slots of the chunk file that rows name.
pub(super) fn named_slots(conn: &Connection) -> Result<BTreeSet<u64>, StoreError> {
    let mut stmt = conn.prepare("SELECT slot FROM chunks WHERE slot IS NOT NULL")?;
    let rows = stmt.query_map([], |row| row.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The spent tags and their expiries.
pub(super) fn spent_tags(conn: &Connection) -> Result<HashMap<[u8; 16], u64>, StoreError> {
    let mut tags = HashMap::new();
    let mut stmt = conn.prepare("SELECT tag, expires FROM spent")?;
    let rows = stmt.query_map([], |row| {
        Ok((row.get::<_, Vec<u8>>(0)?, row.get::<_, u64>(1)?))
    })?;
    for row in rows {
        let (tag, expires) = row?;
        if let Ok(tag) = <[u8; 16]>::try_from(tag) {
            tags.insert(tag, expires);
        }
    }
    Ok(tags)
}

/// Items, replies, bytes and open sessions per agency at `now` (from the
/// totals the triggers keep, not by reading every item).
pub(super) fn usage(conn: &Connection, now: u64) -> Result<Usage, StoreError> {
    let mut usage = Usage::default();
    let mut stmt = conn.prepare_cached(
        "SELECT agency, SUM(items * (kind IN ('tip', 'message', 'case'))),
         SUM(items * (kind = 'reply')), SUM(bytes)
         FROM totals GROUP BY agency",
    )?;
    let rows = stmt.query_map([], |row| {
        Ok((
            row.get::<_, String>(0)?,
            AgencyUsage {
                items: row.get(1)?,
                replies: row.get(2)?,
                bytes: row.get(3)?,
                open_sessions: 0,
            },
        ))
    })?;
    for row in rows {
        let (agency, items) = row?;
        usage.agencies.insert(agency, items);
    }
    let mut stmt = conn.prepare_cached(
        "SELECT agency, COUNT(*), SUM(received) FROM sessions WHERE expires > ?1 GROUP BY agency",
    )?;
    let rows = stmt.query_map(params![now], |row| {
        Ok((row.get::<_, String>(0)?, row.get(1)?, row.get(2)?))
    })?;
    for row in rows {
        let (agency, open, bytes): (String, u64, u64) = row?;
        usage.add_bytes(&agency, bytes);
        usage.agencies.entry(agency).or_default().open_sessions = open;
    }
    Ok(usage)
}

/// The ids of unexpired sessions holding no byte at `now`.
pub(super) fn empty_sessions(conn: &Connection, now: u64) -> Result<Vec<String>, StoreError> {
    let mut stmt =
        conn.prepare_cached("SELECT id FROM sessions WHERE expires > ?1 AND received = 0")?;
    let rows = stmt.query_map(params![now], |row| row.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

impl SqliteStore {
    /// Session `id` and its blob id, unless unknown or expired.
    pub(super) async fn stored_session(
        &self,
        id: &str,
    ) -> Result<Option<(Session, String)>, StoreError> {
        if !is_valid_id(id) {
            return Ok(None);
        }
        let id = id.to_owned();
        self.read(move |conn| {
            Ok(conn
                .query_row(
                    "SELECT agency, kind, received, header_len, blob FROM sessions
                     WHERE id = ?1 AND expires > ?2",
                    params![id, time::now()],
                    |row| {
                        let kind: String = row.get(1)?;
                        let session = Session {
                            agency: row.get(0)?,
                            kind: Place::inbox_kind(&kind),
                            received: row.get(2)?,
                            header_len: row.get(3)?,
                        };
                        Ok((session, row.get(4)?))
                    },
                )
                .optional()?)
        })
        .await
    }
}
