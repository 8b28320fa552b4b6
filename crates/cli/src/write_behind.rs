//! Syncing a large file while it is still being written: `sealtip open`
//! makes each attachment durable before the tip's folder appears, and one
//! sync at the end of a 256 MiB file waits for all of it to reach the disk
//! (about 0.2 s here, a third of the whole open). Syncing every
//! [`STEP`] bytes on another thread sends it to the disk while decryption
//! goes on, so the last sync finds little left.

use std::fs::File;
use std::io;
use std::sync::mpsc::{SyncSender, sync_channel};
use std::thread::JoinHandle;

/// How many bytes written before the next background sync is asked for.
pub const STEP: u64 = 16 << 20;

/// The background syncs of one file; [`WriteBehind::finish`] ends them.
pub struct WriteBehind {
    file: File,
    unsynced: u64,
    thread: Option<(SyncSender<()>, JoinHandle<io::Result<()>>)>,
}

impl WriteBehind {
    /// Follows `file`, which the caller goes on writing.
    pub fn new(file: &File) -> io::Result<Self> {
        Ok(WriteBehind {
            file: file.try_clone()?,
            unsynced: 0,
            thread: None,
        })
    }

    /// Says that `n` more bytes were written; every [`STEP`] bytes, a sync
    /// starts in the background if the last one is over (the thread is
    /// started with the first, so small files cost nothing).
    pub fn written(&mut self, n: usize) -> io::Result<()> {
        self.unsynced += n as u64;
        if self.unsynced < STEP {
            return Ok(());
        }
        if self.thread.is_none() {
            let (requests, asked) = sync_channel::<()>(1);
            let file = self.file.try_clone()?;
            let thread = std::thread::Builder::new()
                .name("write-behind".into())
                .spawn(move || {
                    for () in asked {
                        file.sync_data()?;
                    }
                    Ok(())
                })?;
            self.thread = Some((requests, thread));
        }
        if let Some((requests, _)) = &self.thread
            && requests.try_send(()).is_ok()
        {
            self.unsynced = 0;
        }
        Ok(())
    }

    /// Waits for the background syncs, then syncs the file and its metadata
    /// once more: everything written is on the disk.
    pub fn finish(self) -> io::Result<()> {
        if let Some((requests, thread)) = self.thread {
            drop(requests);
            thread
                .join()
                .map_err(|_| io::Error::other("the syncing thread stopped"))??;
        }
        self.file.sync_all()
    }
}
