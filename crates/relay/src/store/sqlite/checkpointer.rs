//! Folds the log (WAL) into the database on a thread of its own, so that
//! the committer never waits for it: appending to the log goes on while the
//! pages written before are copied into the database.

use std::path::PathBuf;
use std::sync::mpsc;

use rusqlite::Connection;

use crate::store::StoreError;

/// Log bytes (roughly) after which the committer asks for a fold.
pub(super) const FOLD_AFTER_BYTES: u64 = 32 * 1024 * 1024;

/// A log this large is folded in and cut back by the committer itself,
/// should the checkpointer never find a quiet moment to finish.
const LOG_MAX_BYTES: u64 = 512 * 1024 * 1024;

/// The checkpointer thread's door bell.
pub(super) struct Checkpointer {
    bell: mpsc::SyncSender<()>,
    /// The log file.
    log: PathBuf,
}

impl Checkpointer {
    /// Starts the thread on `conn`, its own connection to the database
    /// whose log is `log`. It stops once the checkpointer is dropped.
    pub(super) fn start(conn: Connection, log: PathBuf) -> Result<Self, StoreError> {
        let (bell, rung) = mpsc::sync_channel(1);
        std::thread::Builder::new()
            .name("sealtip-checkpointer".into())
            .spawn(move || {
                while rung.recv().is_ok() {
                    if let Err(e) = fold(&conn, "PASSIVE") {
                        eprintln!("sealtip-relay: folding the log into the database failed: {e}");
                    }
                }
            })?;
        Ok(Checkpointer { bell, log })
    }

    /// Asks for a fold (if one is asked for already, that one will do).
    pub(super) fn ask(&self) {
        let _ = self.bell.try_send(());
    }

    /// Folds the log in and cuts it back on `writer`'s thread if it has
    /// grown past [`LOG_MAX_BYTES`].
    pub(super) fn bound(&self, writer: &Connection) {
        let too_long = std::fs::metadata(&self.log).is_ok_and(|m| m.len() > LOG_MAX_BYTES);
        if too_long && let Err(e) = fold(writer, "TRUNCATE") {
            eprintln!("sealtip-relay: cutting back the log failed: {e}");
        }
    }
}

/// Runs a checkpoint of `mode` on `conn`.
fn fold(conn: &Connection, mode: &str) -> Result<(), StoreError> {
    conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |_| Ok(()))?;
    Ok(())
}
