//! Reading on a second thread: `sealtip open` decrypts on one core while the
//! others check, write and hash, as `age -d | tar -x` does with two
//! processes. Memory stays bounded: at most `DEPTH` buffers are in flight,
//! and read buffers go back to the thread to be filled again (a new buffer
//! each time costs its zeroing and page faults on the decrypting thread).

use std::io::{self, Read};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

const BUFFER: usize = 256 * 1024;
const DEPTH: usize = 4;

/// A reader whose source is made and read by a background thread.
pub struct ReadAhead {
    receiver: Receiver<io::Result<Vec<u8>>>,
    /// Buffers read out, back to the thread.
    spent: SyncSender<Vec<u8>>,
    current: Vec<u8>,
    position: usize,
    done: bool,
}

impl ReadAhead {
    /// Runs `make` on a new thread and reads what it returns there. An error
    /// from `make` (say, no matching key) comes back here, before any byte.
    pub fn spawn<R, E, F>(make: F) -> Result<Self, E>
    where
        R: Read,
        E: Send + 'static,
        F: FnOnce() -> Result<R, E> + Send + 'static,
    {
        let (ready_sender, ready) = sync_channel::<Result<(), E>>(1);
        let (sender, receiver) = sync_channel::<io::Result<Vec<u8>>>(DEPTH);
        let (spent, spare) = sync_channel::<Vec<u8>>(DEPTH + 2);
        std::thread::spawn(move || {
            let mut source = match make() {
                Ok(source) => source,
                Err(err) => {
                    let _ = ready_sender.send(Err(err));
                    return;
                }
            };
            let _ = ready_sender.send(Ok(()));
            loop {
                let mut buffer = spare.try_recv().unwrap_or_default();
                buffer.resize(BUFFER, 0);
                let (filled, error) = read_full(&mut source, &mut buffer);
                buffer.truncate(filled);
                // Bytes read before an error authenticated: hand them over first.
                if filled > 0 && sender.send(Ok(buffer)).is_err() {
                    return;
                }
                if let Some(err) = error {
                    let _ = sender.send(Err(err));
                    return;
                }
                if filled == 0 {
                    return;
                }
            }
        });
        let reader = |done| ReadAhead {
            receiver,
            spent,
            current: Vec::new(),
            position: 0,
            done,
        };
        match ready.recv() {
            Ok(Ok(())) => Ok(reader(false)),
            Ok(Err(err)) => Err(err),
            // The thread panicked before saying anything: treat as empty input.
            Err(_) => Ok(reader(true)),
        }
    }
}

/// Fills `buffer` until it is full, the input ends, or an error comes; the
/// bytes read before an error are counted.
pub fn read_full<R: Read + ?Sized>(
    source: &mut R,
    buffer: &mut [u8],
) -> (usize, Option<io::Error>) {
    let mut filled = 0;
    while filled < buffer.len() {
        match source.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return (filled, Some(err)),
        }
    }
    (filled, None)
}

impl Read for ReadAhead {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.position == self.current.len() {
            if self.done {
                return Ok(0);
            }
            match self.receiver.recv() {
                Ok(Ok(buffer)) => {
                    let spent = std::mem::replace(&mut self.current, buffer);
                    // Full (or the thread is gone): the thread makes a new one.
                    let _ = self.spent.try_send(spent);
                    self.position = 0;
                }
                Ok(Err(err)) => {
                    self.done = true;
                    return Err(err);
                }
                // The thread ended after its last buffer: the end of input.
                Err(_) => {
                    self.done = true;
                    return Ok(0);
                }
            }
        }
        let n = out.len().min(self.current.len() - self.position);
        out[..n].copy_from_slice(&self.current[self.position..self.position + n]);
        self.position += n;
        Ok(n)
    }
}
