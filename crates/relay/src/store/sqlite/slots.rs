//! The chunk file (`relay.db-chunks`, beside the database): the sealed bytes
//! of full chunks, written once, outside the log. It is created with the
//! store, never per tip, and divided into slots of [`CHUNK_BYTES`]; a
//! `chunks` row names the slot that holds its bytes.
//!
//! - A slot is free when no row names it; the free ones are found again at
//!   every open (a crash between a slot's write and its row's commit leaves
//!   a slot no row names: free), and the lowest free slot is taken first,
//!   so the file grows only to the most bytes held at once.
//! - Every write, and every release, goes through one thread in queue
//!   order, so a slot is released only after its write is done.
//! - A slot's bytes are synced ([`Slots::synced`]) before the commit that
//!   makes a row name it is written to the log: that commit, however it
//!   reaches the disk (the syncer, a fold of the log), never names bytes
//!   that are not there.
//! - A released slot (its row deleted, and that deletion on the disk; or
//!   never named) is overwritten with zeros before it is taken again, as
//!   `secure_delete` overwrites deleted rows: deleted ciphertext does not
//!   stay in free slots. Free slots found at open that still hold bytes are
//!   zeroed then, and free slots at the file's end are cut off.
//! - Reads hold [`Slots::reading`] from looking up a row to the end of
//!   reading its slot, and zeroing holds it exclusively, so a reader never
//!   reads a slot that was released (and perhaps taken again) meanwhile.
//! - The file's times are set on the committer's tick ([`Slots::touch`]),
//!   as the database files' are, so they tell nothing per tip.

use std::collections::BTreeSet;
use std::fs::{File, FileTimes, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard, mpsc};
use std::time::SystemTime;

use tokio::sync::oneshot;

use super::chunks::CHUNK_BYTES;
use super::committer::{answer, committer_answer};
use super::syncer::Syncer;
use crate::store::StoreError;
use crate::store::session_hold::lock;

/// [`CHUNK_BYTES`] as a file offset step.
const SLOT_BYTES: u64 = CHUNK_BYTES as u64;

/// The chunk file of the database at `database`: its name with `-chunks`.
pub(super) fn chunk_file(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push("-chunks");
    PathBuf::from(name)
}

/// The chunk file, its free slots and its writer thread.
pub(super) struct Slots {
    file: Arc<File>,
    free: Arc<Mutex<Free>>,
    /// Held shared by readers, exclusively while a slot is zeroed.
    reading: Arc<RwLock<()>>,
    writes: mpsc::Sender<Write>,
    /// Syncs the chunk file before commits that name its slots.
    syncer: Syncer,
}

/// The slots no row names, and how many the file holds.
struct Free {
    slots: BTreeSet<u64>,
    count: u64,
}

/// What the writer thread is asked to do, in queue order.
enum Write {
    /// Writes a full chunk into a slot; answers the buffer, for the next.
    Chunk {
        slot: u64,
        data: Vec<u8>,
        reply: oneshot::Sender<Result<Vec<u8>, StoreError>>,
    },
    /// Zeroes the slots and frees them.
    Release(Vec<u64>),
}

impl Slots {
    /// Opens (or creates) the chunk file `path`, whose slots named by rows
    /// are `named`: the others are free (zeroed if they hold bytes), and
    /// free slots at its end are cut off. Starts the writer thread.
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
        let syncer = Syncer::start(path)?;
        let file = Arc::new(file);
        let free = Arc::new(Mutex::new(Free { slots: free, count }));
        let reading = Arc::new(RwLock::new(()));
        let (writes, queue) = mpsc::channel();
        let writer = Writer {
            file: file.clone(),
            free: free.clone(),
            reading: reading.clone(),
            zeros,
        };
        std::thread::Builder::new()
            .name("sealtip-chunk-writer".into())
            .spawn(move || writer.run(queue))?;
        Ok(Slots {
            file,
            free,
            reading,
            writes,
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

    /// Writes `data` (a full chunk) into `slot`, after every write and
    /// release asked for before; answers the buffer once it is written.
    pub(super) fn write(
        &self,
        slot: u64,
        data: Vec<u8>,
    ) -> oneshot::Receiver<Result<Vec<u8>, StoreError>> {
        let (reply, answer) = oneshot::channel();
        if let Err(mpsc::SendError(Write::Chunk { reply, .. })) =
            self.writes.send(Write::Chunk { slot, data, reply })
        {
            let _ = reply.send(Err(writer_stopped()));
        }
        answer
    }

    /// Zeroes `slots` and frees them, after every write asked for before.
    /// Only slots no committed row names (or whose row's deletion is on the
    /// disk) may be released.
    pub(super) fn release(&self, slots: Vec<u64>) {
        if !slots.is_empty() && self.writes.send(Write::Release(slots)).is_err() {
            // Free again at the next open.
            eprintln!("sealtip-relay: {}", writer_stopped());
        }
    }

    /// Once every slot written so far is on the disk.
    pub(super) async fn synced(&self) -> Result<(), StoreError> {
        let (reply, synced) = oneshot::channel();
        self.syncer
            .after_sync(answer(reply, Ok(())).into_iter().collect());
        committer_answer(synced).await
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

/// The writer thread's side.
struct Writer {
    file: Arc<File>,
    free: Arc<Mutex<Free>>,
    reading: Arc<RwLock<()>>,
    zeros: Vec<u8>,
}

impl Writer {
    /// Carries out writes and releases until the [`Slots`] is dropped.
    fn run(self, queue: mpsc::Receiver<Write>) {
        while let Ok(write) = queue.recv() {
            match write {
                Write::Chunk { slot, data, reply } => {
                    let written = self
                        .file
                        .write_all_at(&data, slot * SLOT_BYTES)
                        .map(|()| data)
                        .map_err(StoreError::from);
                    if written.is_err() {
                        // Nothing names it yet: free again.
                        self.release(slot);
                    }
                    let _ = reply.send(written);
                }
                Write::Release(slots) => {
                    for slot in slots {
                        self.release(slot);
                    }
                }
            }
        }
    }

    /// Zeroes `slot` while no one reads, then frees it.
    fn release(&self, slot: u64) {
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

fn writer_stopped() -> StoreError {
    StoreError::Failed("the chunk file's writer thread has stopped".into())
}
