//! Makes commits durable on a thread of its own, so that the committer never
//! waits for the disk: the writer commits without syncing
//! (`synchronous=NORMAL`), hands the answers that promise durability here,
//! and goes on with the next batch while this thread syncs the log (WAL)
//! and only then answers. Every batch handed over while a sync runs shares
//! the next one (group sync).
//!
//! A commit's frames are in the log file once its transaction is over, so
//! a sync of that file started afterwards makes it durable, as
//! `synchronous=FULL` would have at the commit itself. The log stays the
//! same file while the store is open (a checkpoint restarts or truncates
//! it, never replaces it).
//!
//! The chunk file has a syncer of its own (`slots`): an upload's slots are
//! synced, the waiters grouped the same way, before its commit is handed
//! to the committer. Its thread first zeroes the slots released since the
//! last sync ([`Syncer::start_with`]), so the zeros reach the disk with that
//! sync; and a long upload asks for syncs as it goes ([`Syncer::sync_soon`]),
//! so that the one before its commit finds little left to write.

use std::fs::File;
use std::path::Path;
use std::sync::mpsc;

use super::committer::Answer;
use crate::store::StoreError;

/// Answers waiting for the next sync of the log.
type Waiting = Vec<Box<dyn Answer>>;

/// The syncer thread's queue.
pub(super) struct Syncer {
    queue: mpsc::Sender<Waiting>,
}

impl Syncer {
    /// Starts the thread on `log`, the database's log file (which exists
    /// once a connection has opened the database in WAL mode). It stops
    /// once the syncer is dropped, after answering everything handed over.
    pub(super) fn start(log: &Path) -> Result<Self, StoreError> {
        Self::start_with(log, || {})
    }

    /// Starts the thread on the file `log` (the log, or the chunk file),
    /// running `before_sync` before each sync.
    pub(super) fn start_with(
        log: &Path,
        mut before_sync: impl FnMut() + Send + 'static,
    ) -> Result<Self, StoreError> {
        let file = File::open(log)?;
        let name = log.file_name().unwrap_or_default().display().to_string();
        // The log's name in its folder must survive a crash too.
        let folder = match log.parent().filter(|p| !p.as_os_str().is_empty()) {
            Some(folder) => folder,
            None => Path::new("."),
        };
        File::open(folder)?.sync_all()?;
        let (queue, handed) = mpsc::channel::<Waiting>();
        std::thread::Builder::new()
            .name("sealtip-syncer".into())
            .spawn(move || {
                while let Ok(mut answers) = handed.recv() {
                    answers.extend(handed.try_iter().flatten());
                    before_sync();
                    let failed = file
                        .sync_data()
                        .err()
                        .map(|e| format!("syncing {name} failed: {e}"));
                    if let Some(message) = &failed {
                        eprintln!("sealtip-relay: {message}");
                    }
                    for answer in answers {
                        answer.send(failed.as_deref());
                    }
                }
            })?;
        Ok(Syncer { queue })
    }

    /// Answers `answers` once everything committed so far is on the disk.
    pub(super) fn after_sync(&self, answers: Waiting) {
        if answers.is_empty() {
            return;
        }
        if let Err(mpsc::SendError(answers)) = self.queue.send(answers) {
            for answer in answers {
                answer.send(Some("the syncer thread has stopped"));
            }
        }
    }

    /// Has the file synced soon (with `before_sync` run first), answering
    /// no one.
    pub(super) fn sync_soon(&self) {
        // Stopped: there is nothing left to sync for.
        let _ = self.queue.send(Vec::new());
    }
}

#[cfg(test)]
mod tests {
    use tokio::sync::oneshot;

    use super::super::committer::answer;
    use super::*;

    #[test]
    fn answers_come_once_the_log_is_synced() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("relay.db-wal");
        std::fs::write(&log, b"frames").unwrap();
        let syncer = Syncer::start(&log).unwrap();
        let mut answers = Vec::new();
        for n in 0..3u64 {
            let (reply, answer_rx) = oneshot::channel();
            answers.push(answer_rx);
            syncer.after_sync(answer(reply, Ok(n)).into_iter().collect());
        }
        let (reply, failed) = oneshot::channel::<Result<u64, StoreError>>();
        syncer.after_sync(
            answer(reply, Err(StoreError::Conflict(5)))
                .into_iter()
                .collect(),
        );
        for (n, answer_rx) in answers.into_iter().enumerate() {
            assert_eq!(answer_rx.blocking_recv().unwrap().unwrap(), n as u64);
        }
        assert!(matches!(
            failed.blocking_recv().unwrap(),
            Err(StoreError::Conflict(5))
        ));
    }

    #[test]
    fn a_store_without_its_log_does_not_start() {
        let dir = tempfile::tempdir().unwrap();
        assert!(Syncer::start(&dir.path().join("relay.db-wal")).is_err());
    }
}
