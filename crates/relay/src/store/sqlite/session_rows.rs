//! The `sessions` table, changed only in the committer's transaction.

use rusqlite::{OptionalExtension, Transaction, params};
use sealtip_api::ItemKind;

use super::chunks::{Received, delete_chunks};
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
    /// Records the part's chunks and answers the new length.
    Append {
        id: String,
        received: u64,
        header_len: Option<u64>,
        expires: u64,
        bytes: Received,
    },
    /// Answers 1 if the session was there, else 0.
    Drop { id: String },
    /// Answers how many expired sessions were removed.
    Expire,
}

/// Carries out `op` in `tx`; a session that ends takes its chunks with it.
pub(super) fn session_op(
    tx: &Transaction<'_>,
    op: &SessionOp,
    writing: &Writing,
) -> Result<u64, StoreError> {
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
            Ok(0)
        }
        SessionOp::Append {
            id,
            received,
            header_len,
            expires,
            bytes,
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
            bytes.insert(tx)?;
            Ok(*received)
        }
        SessionOp::Drop { id } => {
            let blob: Option<String> = tx
                .query_row(
                    "DELETE FROM sessions WHERE id = ?1 RETURNING blob",
                    params![id],
                    |row| row.get(0),
                )
                .optional()?;
            if let Some(blob) = &blob {
                delete_chunks(tx, blob)?;
            }
            Ok(u64::from(blob.is_some()))
        }
        SessionOp::Expire => {
            let expired: Vec<(String, String)> = {
                let mut stmt = tx.prepare("SELECT id, blob FROM sessions WHERE expires <= ?1")?;
                let rows =
                    stmt.query_map(params![time::now()], |row| Ok((row.get(0)?, row.get(1)?)))?;
                rows.collect::<Result<_, _>>()?
            };
            let mut gone = 0;
            for (id, blob) in expired {
                // Not one a request is writing to: it goes next time.
                if writing.is_held(&id) {
                    continue;
                }
                tx.execute("DELETE FROM sessions WHERE id = ?1", params![id])?;
                delete_chunks(tx, &blob)?;
                gone += 1;
            }
            Ok(gone)
        }
    }
}
