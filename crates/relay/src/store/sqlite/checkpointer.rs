//! Folds the log (WAL) into the database on a thread of its own, so that
//! the committer rarely waits for it: appending to the log goes on while the
//! pages written before are copied into the database.
//!
//! SQLite starts the log again from its beginning only when a transaction
//! begins with all of it folded in, which never happens while this thread
//! folds and the committer appends: the log would grow without end (and
//! every page written land on a fresh part of the disk). So once this
//! thread has folded what there was, the committer folds the rest itself,
//! between two transactions (only what it wrote meanwhile), when the rest
//! is small or the log has grown long, and its next transaction starts the
//! log again.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::mpsc;

use rusqlite::Connection;

use crate::store::StoreError;

/// Log bytes (roughly) after which the committer asks for a fold.
pub(super) const FOLD_AFTER_BYTES: u64 = 32 * 1024 * 1024;

/// A rest of the log this small is folded by the committer itself.
const SMALL_REST_BYTES: u64 = 4 * 1024 * 1024;

/// A log this long has its rest folded by the committer, however long.
const LOG_RESTART_BYTES: u64 = 96 * 1024 * 1024;

/// A log this large is folded in and cut back by the committer itself,
/// should the checkpointer never find a quiet moment to finish.
const LOG_MAX_BYTES: u64 = 512 * 1024 * 1024;

/// No fold asked for (or its rest folded by the committer).
const IDLE: u8 = 0;
/// A fold asked for and not done yet.
const FOLDING: u8 = 1;
/// A fold done, its rest not yet folded by the committer.
const FOLDED: u8 = 2;

/// The checkpointer thread's door bell.
pub(super) struct Checkpointer {
    bell: mpsc::SyncSender<()>,
    /// [`IDLE`], [`FOLDING`] or [`FOLDED`].
    state: Arc<AtomicU8>,
    /// The log file.
    log: PathBuf,
}

impl Checkpointer {
    /// Starts the thread on `conn`, its own connection to the database
    /// whose log is `log`. It stops once the checkpointer is dropped.
    pub(super) fn start(conn: Connection, log: PathBuf) -> Result<Self, StoreError> {
        let (bell, rung) = mpsc::sync_channel(1);
        let state = Arc::new(AtomicU8::new(IDLE));
        let thread_state = state.clone();
        std::thread::Builder::new()
            .name("sealtip-checkpointer".into())
            .spawn(move || {
                while rung.recv().is_ok() {
                    let done = match fold(&conn, "PASSIVE") {
                        Ok(()) => FOLDED,
                        Err(e) => {
                            eprintln!(
                                "sealtip-relay: folding the log into the database failed: {e}"
                            );
                            IDLE
                        }
                    };
                    thread_state.store(done, Ordering::Release);
                }
            })?;
        Ok(Checkpointer { bell, state, log })
    }

    /// Once a fold asked for is done, the rest written to the log meanwhile
    /// (`rest` bytes, roughly): folded in on `writer`'s thread, so that the
    /// next transaction starts the log again from its beginning, if it is
    /// small or the log has grown past [`LOG_RESTART_BYTES`]; else left to
    /// another fold on this thread (the committer's own fold stops every
    /// commit meanwhile). Whether a fold was done (the rest is counted
    /// again from here).
    pub(super) fn fold_rest(&self, writer: &Connection, rest: u64) -> bool {
        if self.state.load(Ordering::Acquire) != FOLDED {
            return false;
        }
        let long = std::fs::metadata(&self.log).is_ok_and(|m| m.len() > LOG_RESTART_BYTES);
        if rest > SMALL_REST_BYTES && !long {
            self.state.store(FOLDING, Ordering::Release);
            let _ = self.bell.try_send(());
            return true;
        }
        if let Err(e) = fold(writer, "PASSIVE") {
            eprintln!("sealtip-relay: folding the log into the database failed: {e}");
        }
        self.state.store(IDLE, Ordering::Release);
        true
    }

    /// Asks for a fold, unless one is under way (its rest, which the
    /// committer folds, will do).
    pub(super) fn ask(&self) {
        if self
            .state
            .compare_exchange(IDLE, FOLDING, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            let _ = self.bell.try_send(());
        }
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
