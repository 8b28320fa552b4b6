//! A reader that hashes and counts what passes through it: attachments are
//! checked on the way out of the bundle against the hash in `tip.json`.

use std::io::{self, Read};

use sha2::{Digest, Sha256};

/// Passes reads through, keeping their SHA-256 and byte count.
pub(crate) struct HashingReader<R> {
    pub(crate) inner: R,
    hasher: Sha256,
    count: u64,
}

impl<R: Read> HashingReader<R> {
    pub(crate) fn new(inner: R) -> Self {
        HashingReader {
            inner,
            hasher: Sha256::new(),
            count: 0,
        }
    }

    /// Bytes read so far.
    pub(crate) fn count(&self) -> u64 {
        self.count
    }

    /// Lowercase hex SHA-256 of everything read.
    pub(crate) fn hex_digest(self) -> String {
        hex::encode(self.hasher.finalize())
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
}
