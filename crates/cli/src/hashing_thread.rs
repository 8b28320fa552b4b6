//! SHA-256 on another core: `sealtip open` writes an attachment's pieces on
//! one thread and hands each written piece here, so that hashing (as costly
//! as writing to the page cache) does not slow the unpacking. The pieces come
//! back to be filled again; at most `DEPTH` wait to be hashed.

use std::io;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use sha2::{Digest, Sha256};

/// The size of a piece.
pub const PIECE: usize = 1 << 20;
const DEPTH: usize = 4;

enum Message {
    /// The next bytes of the attachment being hashed.
    Piece(Vec<u8>),
    /// The attachment ended: send its SHA-256 back, start the next.
    End,
}

/// A thread hashing one attachment after another.
pub struct HashingThread {
    messages: SyncSender<Message>,
    digests: Receiver<[u8; 32]>,
    spare: Receiver<Vec<u8>>,
}

impl HashingThread {
    /// Starts the thread; it ends when this is dropped.
    pub fn spawn() -> io::Result<Self> {
        let (messages, incoming) = sync_channel::<Message>(DEPTH);
        let (digest_sender, digests) = sync_channel::<[u8; 32]>(1);
        let (spare_sender, spare) = sync_channel::<Vec<u8>>(DEPTH + 2);
        std::thread::Builder::new()
            .name("sha-256".into())
            .spawn(move || {
                let mut hasher = Sha256::new();
                for message in incoming {
                    match message {
                        Message::Piece(piece) => {
                            hasher.update(&piece);
                            let _ = spare_sender.try_send(piece);
                        }
                        Message::End => {
                            let digest = hasher.finalize_reset().into();
                            if digest_sender.send(digest).is_err() {
                                return;
                            }
                        }
                    }
                }
            })?;
        Ok(HashingThread {
            messages,
            digests,
            spare,
        })
    }

    /// An empty buffer of [`PIECE`] bytes, one already hashed if there is one.
    pub fn buffer(&self) -> Vec<u8> {
        let mut buffer = self.spare.try_recv().unwrap_or_default();
        buffer.resize(PIECE, 0);
        buffer
    }

    /// Hashes `piece` as the next bytes of the current attachment.
    pub fn hash(&self, piece: Vec<u8>) -> io::Result<()> {
        self.messages
            .send(Message::Piece(piece))
            .map_err(|_| stopped())
    }

    /// The SHA-256 of everything hashed since the last call.
    pub fn finish(&self) -> io::Result<[u8; 32]> {
        self.messages.send(Message::End).map_err(|_| stopped())?;
        self.digests.recv().map_err(|_| stopped())
    }
}

fn stopped() -> io::Error {
    io::Error::other("the hashing thread stopped")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn each_attachment_gets_the_hash_of_its_own_pieces() {
        let hashing = HashingThread::spawn().unwrap();
        let data: Vec<u8> = (0..3 * PIECE + 5).map(|i| (i % 251) as u8).collect();
        for piece in data.chunks(PIECE) {
            let mut buffer = hashing.buffer();
            buffer.truncate(piece.len());
            buffer.copy_from_slice(piece);
            hashing.hash(buffer).unwrap();
        }
        assert_eq!(
            hashing.finish().unwrap(),
            <[u8; 32]>::from(Sha256::digest(&data))
        );
        assert_eq!(
            hashing.finish().unwrap(),
            <[u8; 32]>::from(Sha256::digest(b""))
        );
        let mut buffer = hashing.buffer();
        buffer.truncate(3);
        buffer.copy_from_slice(b"abc");
        hashing.hash(buffer).unwrap();
        assert_eq!(
            hashing.finish().unwrap(),
            <[u8; 32]>::from(Sha256::digest(b"abc"))
        );
    }
}
