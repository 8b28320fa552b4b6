//! The chunk file (`relay.db-chunks`, beside the database): the sealed bytes
//! of full chunks, written once, outside the log. It is created with the
//! store, never per tip, and divided into slots of [`CHUNK_BYTES`]; a
//! `chunks` row names the slot that holds its bytes.
//!
//! - A slot is free when no row names it; the free ones are found again at
//!   every open (a crash between a slot's write and its row's commit leaves
//!   a slot no row names: free), and the lowest free slot is taken first,
//!   so the file grows only to the most bytes held at once.
//! - Slots are written on tokio's blocking threads, many at once (each
//!   upload waits for its chunk's write before handing over the next). A
//!   write's answer ([`Written`]) goes with its slot: whoever holds it owns
//!   the slot, and a slot released while its write goes on is zeroed only
//!   once that write is over.
//! - A slot's bytes are synced ([`Slots::synced`]) before the commit that
//!   makes a row name it is written to the log: that commit, however it
//!   reaches the disk (the syncer, a fold of the log), never names bytes
//!   that are not there. A long upload has the file synced every
//!   [`SYNC_EVERY_CHUNKS`] chunks meanwhile, so that this last sync is short.
//! - A released slot (its row deleted, and that deletion on the disk; or
//!   never named) is overwritten with zeros before it is taken again, as
//!   `secure_delete` overwrites deleted rows: deleted ciphertext does not
//!   stay in free slots. The syncer thread zeroes the slots released so far
//!   before each sync, so the zeros are on the disk with it, and every slot
//!   released before a [`Slots::synced`] is zeroed when it answers. Free
//!   slots found at open that still hold bytes are zeroed then, and free
//!   slots at the file's end are cut off.
//! - Reads hold [`Slots::reading`] from looking up a row to the end of
//!   reading its slot, and zeroing holds it exclusively, so a reader never
//!   reads a slot that was released (and perhaps taken again) meanwhile.
//! - The file's times are set on the committer's tick ([`Slots::touch`]),
//!   as the database files' are, so they tell nothing per tip.

use std::collections::BTreeSet;
use std::fs::{File, FileTimes, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::SystemTime;

use tokio::sync::oneshot;

use super::chunks::CHUNK_BYTES;
use super::committer::{answer, committer_answer};
use super::syncer::Syncer;
use crate::store::StoreError;
use crate::store::session_hold::lock;

/// [`CHUNK_BYTES`] as a file offset step.
const SLOT_BYTES: u64 = CHUNK_BYTES as u64;

/// Chunks an upload writes between the syncs it asks for (16 MiB).
pub(super) const SYNC_EVERY_CHUNKS: usize = 64;

/// The answer of a slot's write: the buffer written, for the next chunk.
pub(super) type Written = oneshot::Receiver<Result<Vec<u8>, StoreError>>;

/// The chunk file of the database at `database`: its name with `-chunks`.
pub(super) fn chunk_file(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push("-chunks");
    PathBuf::from(name)
}

/// The chunk file, its free slots and its syncer.
pub(super) struct Slots {
    file: Arc<File>,
    /// Held shared by readers, exclusively while a slot is zeroed.
    reading: Arc<RwLock<()>>,
    free: Arc<Mutex<Free>>,
    /// Slots to zero before the next sync.
    released: Arc<Mutex<Vec<Released>>>,
    /// Zeroes released slots, then syncs the chunk file, before commits
    /// that name its slots.
    syncer: Syncer,
}

/// The slots no row names, and how many the file holds.
struct Free {
    slots: BTreeSet<u64>,
    count: u64,
}

/// Slots released, to be zeroed once `after` (a write to the last of them
/// still going on when they were released) is over.
struct Released {
    slots: Vec<u64>,
    after: Option<Written>,
}

impl Slots {
    /// Opens (or creates) the chunk file `path`, whose slots named by rows
    /// are `named`: the others are free (zeroed if they hold bytes), and
    /// free slots at its end are cut off. Starts the syncer thread.
    pub(super) fn open(path: &Path, named: &BTreeSet<u64>) -> Result<Self, StoreError> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        let mut count = file.metadata()?.len().div_ceil(SLOT_BYTES);
        if let Some(last) = named.last() {
            count = count.max(last + 1);
        }
        while count > 0 && !named.contains(&(count - 1)) {
            count -= 1;
        }
        if file.metadata()?.len() != count * SLOT_BYTES {
            file.set_len(count * SLOT_BYTES)?;
        }
        let free: BTreeSet<u64> = (0..count).filter(|slot| !named.contains(slot)).collect();
        let zeros = vec![0u8; CHUNK_BYTES];
        let mut held = vec![0u8; CHUNK_BYTES];
        let mut zeroed = 0usize;
        for slot in &free {
            file.read_exact_at(&mut held, slot * SLOT_BYTES)?;
            if held != zeros {
                file.write_all_at(&zeros, slot * SLOT_BYTES)?;
                zeroed += 1;
            }
        }
        if zeroed > 0 {
            file.sync_data()?;
            eprintln!("sealtip-relay: zeroed {zeroed} free slot(s) of the chunk file");
        }
        let file = Arc::new(file);
        let free = Arc::new(Mutex::new(Free { slots: free, count }));
        let reading = Arc::new(RwLock::new(()));
        let released = Arc::new(Mutex::new(Vec::new()));
        let zeroer = Zeroer {
            file: file.clone(),
            free: free.clone(),
            reading: reading.clone(),
            released: released.clone(),
            zeros,
        };
        let syncer = Syncer::start_with(path, move || zeroer.zero_released())?;
        Ok(Slots {
            file,
            reading,
            free,
            released,
            syncer,
        })
    }

    /// Takes a free slot (the lowest; a new one at the file's end if none).
    pub(super) fn take(&self) -> u64 {
        let mut free = lock(&self.free);
        match free.slots.pop_first() {
            Some(slot) => slot,
            None => {
                free.count += 1;
                free.count - 1
            }
        }
    }

    /// Writes `data` (a full chunk) into `slot` on a blocking thread;
    /// answers the buffer once it is written. The answer owns the slot
    /// until it comes: a slot released before is released with it
    /// ([`Slots::release_after`]).
    pub(super) fn write(&self, slot: u64, data: Vec<u8>) -> Written {
        let (reply, written) = oneshot::channel();
        let file = self.file.clone();
        let write = move || {
            let result = file
                .write_all_at(&data, slot * SLOT_BYTES)
                .map(|()| data)
                .map_err(StoreError::from);
            let _ = reply.send(result);
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn_blocking(write);
            }
            // Outside a runtime (no caller is): written at once.
            Err(_) => write(),
        }
        written
    }

    /// Zeroes `slots` and frees them, before the next sync. Only slots no
    /// committed row names (or whose row's deletion is on the disk), and
    /// no write goes on to, may be released.
    pub(super) fn release(&self, slots: Vec<u64>) {
        self.release_after(slots, None);
    }

    /// Zeroes `slots` and frees them before the next sync, once `after`,
    /// a write to one of them, is over.
    pub(super) fn release_after(&self, slots: Vec<u64>, after: Option<Written>) {
        if slots.is_empty() {
            return;
        }
        lock(&self.released).push(Released { slots, after });
        self.syncer.sync_soon();
    }

    /// Once every slot written so far is on the disk, and every slot
    /// released so far zeroed.
    pub(super) async fn synced(&self) -> Result<(), StoreError> {
        let (reply, synced) = oneshot::channel();
        self.syncer
            .after_sync(answer(reply, Ok(())).into_iter().collect());
        committer_answer(synced).await
    }

    /// Has the file synced soon, waiting for nothing: a long upload's
    /// slots are on the disk before it ends.
    pub(super) fn sync_soon(&self) {
        self.syncer.sync_soon();
    }

    /// Held while a row is looked up and its slot read.
    pub(super) fn reading(&self) -> RwLockReadGuard<'_, ()> {
        self.reading
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The bytes of `slot` (to be called while [`Slots::reading`] is held).
    pub(super) fn read(&self, slot: u64) -> Result<Vec<u8>, StoreError> {
        let mut data = vec![0u8; CHUNK_BYTES];
        self.file.read_exact_at(&mut data, slot * SLOT_BYTES)?;
        Ok(data)
    }

    /// Sets the file's times to now: done on the committer's tick.
    pub(super) fn touch(&self) {
        let now = SystemTime::now();
        let times = FileTimes::new().set_modified(now).set_accessed(now);
        if let Err(e) = self.file.set_times(times) {
            eprintln!("sealtip-relay: storage tick of the chunk file failed: {e}");
        }
    }
}

/// The syncer thread's side: zeroes released slots before each sync.
struct Zeroer {
    file: Arc<File>,
    free: Arc<Mutex<Free>>,
    reading: Arc<RwLock<()>>,
    released: Arc<Mutex<Vec<Released>>>,
    zeros: Vec<u8>,
}

impl Zeroer {
    /// Zeroes and frees every slot released so far, each once its write
    /// (if one went on) is over.
    fn zero_released(&self) {
        let released = std::mem::take(&mut *lock(&self.released));
        for Released { slots, after } in released {
            if let Some(written) = after {
                // Answered (or dropped, the write never started) once the
                // write is over.
                let _ = written.blocking_recv();
            }
            for slot in slots {
                self.zero(slot);
            }
        }
    }

    /// Zeroes `slot` while no one reads, then frees it.
    fn zero(&self, slot: u64) {
        let _zeroing: RwLockWriteGuard<'_, ()> = self
            .reading
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Err(e) = self.file.write_all_at(&self.zeros, slot * SLOT_BYTES) {
            // Kept out of use: free (and zeroed) at the next open.
            eprintln!("sealtip-relay: could not zero a slot of the chunk file: {e}");
            return;
        }
        lock(&self.free).slots.insert(slot);
    }
}
