//! Blob files being written: an upload into `BLOBS/<id>.part`, a part of an
//! upload session at the end of `BLOBS/<blob>.session`.

use std::fs::{File, FileTimes, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use crate::store::session_hold::SessionHold;
use crate::store::{StoreError, Upload};
use crate::time;

/// Bodies up to this size are written to disk in one go, at commit.
const BUFFER_BYTES: usize = 64 * 1024;

/// Bytes on their way to a file through a 64 KiB buffer, written off the
/// async threads.
pub(super) struct FileWriter {
    pub(super) path: PathBuf,
    /// Where the bytes go in the file: 0 for a new item, the session's
    /// length for a part.
    pub(super) start: u64,
    pub(super) file: Option<File>,
    buffer: Vec<u8>,
    pub(super) written: u64,
    /// Whether the file may have been created or changed (set before the
    /// first write is sent off).
    touched: bool,
    /// Held by each write until it ends, even if the request is gone.
    hold: Option<Arc<SessionHold>>,
}

impl FileWriter {
    pub(super) fn new(path: PathBuf, start: u64, hold: Option<Arc<SessionHold>>) -> Self {
        FileWriter {
            path,
            start,
            file: None,
            buffer: Vec::new(),
            written: 0,
            touched: false,
            hold,
        }
    }

    async fn write(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        self.buffer.extend_from_slice(bytes);
        self.written += bytes.len() as u64;
        if self.buffer.len() >= BUFFER_BYTES {
            self.spill(false).await?;
        }
        Ok(())
    }

    /// Writes the buffer out (opening the file first if needed); with
    /// `finish`, sets the file's times to the hour and fsyncs it (and the
    /// folder, when the file is new).
    pub(super) async fn spill(&mut self, finish: bool) -> Result<(), StoreError> {
        let file = self.file.take();
        self.touched = true;
        let buffer = std::mem::take(&mut self.buffer);
        let (path, start, hold) = (self.path.clone(), self.start, self.hold.clone());
        let (file, mut buffer) = tokio::task::spawn_blocking(move || {
            // A session's file is held until this write ends.
            let session = hold.is_some();
            let mut file = match file {
                Some(file) => file,
                None => open_at(&path, start, session)?,
            };
            file.write_all(&buffer)?;
            if finish {
                // The blob's times are coarse like every other time the relay keeps.
                let hour = UNIX_EPOCH + Duration::from_secs(time::this_hour());
                file.set_times(FileTimes::new().set_accessed(hour).set_modified(hour))?;
                file.sync_all()?;
                if start == 0
                    && session
                    && let Some(folder) = path.parent()
                {
                    File::open(folder)?.sync_all()?;
                }
            }
            drop(hold);
            Ok::<_, std::io::Error>((file, buffer))
        })
        .await
        .map_err(|e| StoreError::Failed(format!("writer task: {e}")))??;
        buffer.clear();
        self.file = Some(file);
        self.buffer = buffer;
        Ok(())
    }
}

/// Opens `path` for writing at `start`: a new file for an item, the session
/// file (created if need be, cut to `start`) for a part.
pub(super) fn open_at(path: &Path, start: u64, session: bool) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true);
    if session {
        options.create(true);
    } else {
        options.create_new(true);
    }
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    if session {
        file.set_len(start)?;
        file.seek(SeekFrom::Start(start))?;
    }
    Ok(file)
}

pub(super) fn part_path(dir: &Path, id: &str) -> PathBuf {
    dir.join(format!("{id}.part"))
}

pub(super) fn session_path(dir: &Path, blob: &str) -> PathBuf {
    dir.join(format!("{blob}.session"))
}

/// A blob being received into `BLOBS/<id>.part`.
pub struct FileUpload {
    pub(super) id: String,
    pub(super) writer: FileWriter,
    /// Whether the committer owns the file now.
    pub(super) handed_over: bool,
}

impl Drop for FileUpload {
    fn drop(&mut self) {
        if self.writer.touched && !self.handed_over {
            // An abandoned upload: nothing of it may stay (a crash's leftovers
            // are removed on the next open instead).
            let _ = std::fs::remove_file(&self.writer.path);
        }
    }
}

impl Upload for FileUpload {
    async fn write(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        self.writer.write(bytes).await
    }

    fn written(&self) -> u64 {
        self.writer.written
    }
}

/// A part of an upload session being written at the end of its file.
pub struct SessionPart {
    pub(super) id: String,
    pub(super) writer: FileWriter,
    /// Whether the session counts it (it stays).
    pub(super) counted: bool,
}

impl Drop for SessionPart {
    fn drop(&mut self) {
        if self.writer.touched && !self.counted {
            // Nothing of a part that was not counted may stay. (A write still
            // running holds the session, and the next part or the commit cuts
            // the file to its length anyway.)
            let cut = OpenOptions::new()
                .write(true)
                .open(&self.writer.path)
                .and_then(|file| file.set_len(self.writer.start));
            if let Err(e) = cut {
                eprintln!("sealtip-relay: could not cut back an unfinished part: {e}");
            }
        }
    }
}

impl Upload for SessionPart {
    async fn write(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        self.writer.write(bytes).await
    }

    fn written(&self) -> u64 {
        self.writer.written
    }
}
