//! The `sessions` table, changed only in the committer's transaction.

use rusqlite::{OptionalExtension, params};
use sealtip_api::ItemKind;

use crate::store::session_hold::Writing;
use crate::store::{SpentTag, StoreError};
use crate::time;

/// A change to the `sessions` table, made in the committer's transaction.
pub(super) enum SessionOp {
    /// Answers 0, or [`StoreError::TooManySessions`].
    Open {
        id: String,
        blob: String,
        agency: String,
        kind: ItemKind,
        expires: u64,
        spent: SpentTag,
        max_open: u64,
    },
    /// Answers the new length.
    Append {
        id: String,
        received: u64,
        header_len: Option<u64>,
        expires: u64,
    },
    /// Answers 1 if the session was there, else 0.
    Drop { id: String },
    /// Answers how many expired sessions were removed.
    Expire,
}

/// A session change's answer, and the blobs of the sessions it ended.
pub(super) type SessionOutcome = Result<(u64, Vec<String>), StoreError>;

/// Carries out `op` in `tx`.
pub(super) fn session_op(
    tx: &rusqlite::Transaction<'_>,
    op: &SessionOp,
    writing: &Writing,
) -> SessionOutcome {
    match op {
        SessionOp::Open {
            id,
            blob,
            agency,
            kind,
            expires,
            spent,
            max_open,
        } => {
            let open: u64 = tx.query_row(
                "SELECT COUNT(*) FROM sessions WHERE expires > ?1",
                params![time::now()],
                |row| row.get(0),
            )?;
            if open >= *max_open {
                return Err(StoreError::TooManySessions);
            }
            tx.execute(
                "INSERT OR IGNORE INTO spent (tag, expires) VALUES (?1, ?2)",
                params![&spent.tag[..], spent.stored_expiry()],
            )?;
            tx.execute(
                "INSERT INTO sessions (id, blob, agency, kind, received, expires)
                 VALUES (?1, ?2, ?3, ?4, 0, ?5)",
                params![id, blob, agency, kind.as_str(), expires],
            )?;
            Ok((0, Vec::new()))
        }
        SessionOp::Append {
            id,
            received,
            header_len,
            expires,
        } => {
            let changed = tx.execute(
                "UPDATE sessions SET received = ?2, header_len = COALESCE(header_len, ?3),
                 expires = ?4 WHERE id = ?1",
                params![id, received, header_len, expires],
            )?;
            if changed == 0 {
                return Err(StoreError::Failed(
                    "an upload session ended while a part was written".into(),
                ));
            }
            Ok((*received, Vec::new()))
        }
        SessionOp::Drop { id } => {
            let blob: Option<String> = tx
                .query_row(
                    "DELETE FROM sessions WHERE id = ?1 RETURNING blob",
                    params![id],
                    |row| row.get(0),
                )
                .optional()?;
            Ok((u64::from(blob.is_some()), blob.into_iter().collect()))
        }
        SessionOp::Expire => {
            let expired: Vec<(String, String)> = {
                let mut stmt = tx.prepare("SELECT id, blob FROM sessions WHERE expires <= ?1")?;
                let rows =
                    stmt.query_map(params![time::now()], |row| Ok((row.get(0)?, row.get(1)?)))?;
                rows.collect::<Result<_, _>>()?
            };
            let mut gone = Vec::new();
            for (id, blob) in expired {
                // Not one a request is writing to: it goes next time.
                if writing.is_held(&id) {
                    continue;
                }
                tx.execute("DELETE FROM sessions WHERE id = ?1", params![id])?;
                gone.push(blob);
            }
            Ok((gone.len() as u64, gone))
        }
    }
}
