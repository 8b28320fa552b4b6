//! The age v1 payload: a 16-byte nonce, then STREAM over ChaCha20-Poly1305.
//!
//! ```text
//! payload key = HKDF-SHA-256(ikm = file key, salt = nonce, "payload")
//! chunk i     = ChaCha20-Poly1305(payload key, counter_i || last, plaintext_i)
//! ```
//!
//! `counter_i` is `i` as 11 big-endian bytes; `last` is `0x01` on the final
//! chunk and `0x00` before it. Every chunk but the last holds exactly 64 KiB of
//! plaintext; the last holds 1 to 64 KiB, or 0 bytes when the whole payload is
//! empty. Both directions hold at most about two chunks in memory.

use chacha20poly1305::aead::{AeadInOut, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use zeroize::Zeroizing;

use crate::primitives::{FileKey, hkdf};

use crate::layout::NONCE_SIZE;
use crate::layout::SEALED_CHUNK_SIZE as ENCRYPTED_CHUNK_SIZE;

fn payload_cipher(file_key: &FileKey, nonce: &[u8; NONCE_SIZE]) -> ChaCha20Poly1305 {
    let key = Zeroizing::new(hkdf(nonce, b"payload", file_key.expose()));
    // Invariant: the key is exactly 32 bytes.
    #[allow(clippy::expect_used)]
    ChaCha20Poly1305::new_from_slice(key.as_ref()).expect("32-byte key")
}

/// The nonce of chunk `counter`.
fn chunk_nonce(counter: u128, last: bool) -> Nonce {
    let mut nonce = [0u8; 12];
    nonce[..11].copy_from_slice(&counter.to_be_bytes()[5..]);
    nonce[11] = u8::from(last);
    Nonce::from(nonce)
}

/// 2^88 chunks: the counter space of STREAM.
const MAX_COUNTER: u128 = 1 << 88;

#[cfg(feature = "seal")]
pub use seal::StreamWriter;

#[cfg(feature = "seal")]
mod seal {
    use super::*;
    use crate::layout::CHUNK_SIZE;
    use std::io::{self, Write};

    /// Encrypts everything written to it into `inner` as an age payload.
    /// Call [`StreamWriter::finish`] at the end: without it the payload has no
    /// final chunk and will not open.
    pub struct StreamWriter<W: Write> {
        inner: W,
        cipher: ChaCha20Poly1305,
        buffer: Zeroizing<Vec<u8>>,
        counter: u128,
    }

    impl<W: Write> StreamWriter<W> {
        /// Writes a fresh random nonce to `inner` and starts the payload.
        pub fn new(mut inner: W, file_key: &FileKey) -> io::Result<Self> {
            let mut nonce = [0u8; NONCE_SIZE];
            crate::primitives::random(&mut nonce).map_err(io::Error::other)?;
            inner.write_all(&nonce)?;
            Ok(Self::starting(inner, file_key, &nonce))
        }

        /// Starts a payload whose nonce the caller already wrote: for
        /// known-answer tests only, public with the `test-vectors` feature
        /// (a nonce chosen twice for one key would repeat the keystream).
        #[cfg(feature = "test-vectors")]
        pub fn with_nonce(inner: W, file_key: &FileKey, nonce: &[u8; NONCE_SIZE]) -> Self {
            Self::starting(inner, file_key, nonce)
        }

        fn starting(inner: W, file_key: &FileKey, nonce: &[u8; NONCE_SIZE]) -> Self {
            StreamWriter {
                inner,
                cipher: payload_cipher(file_key, nonce),
                buffer: Zeroizing::new(Vec::with_capacity(ENCRYPTED_CHUNK_SIZE)),
                counter: 0,
            }
        }

        /// Encrypts the final chunk, flushes, and returns the inner writer.
        pub fn finish(mut self) -> io::Result<W> {
            self.seal_chunk(true)?;
            self.inner.flush()?;
            Ok(self.inner)
        }

        fn seal_chunk(&mut self, last: bool) -> io::Result<()> {
            if self.counter >= MAX_COUNTER {
                return Err(io::Error::other("payload too large for STREAM"));
            }
            let nonce = chunk_nonce(self.counter, last);
            let buffer: &mut Vec<u8> = &mut self.buffer;
            self.cipher
                .encrypt_in_place(&nonce, &[], buffer)
                .map_err(|_| io::Error::other("chunk encryption failed"))?;
            self.inner.write_all(&self.buffer)?;
            self.buffer.clear();
            self.counter += 1;
            Ok(())
        }
    }

    impl<W: Write> Write for StreamWriter<W> {
        fn write(&mut self, data: &[u8]) -> io::Result<usize> {
            if data.is_empty() {
                return Ok(0);
            }
            // A full chunk is sealed only once more data arrives: until then it
            // may be the last one.
            if self.buffer.len() == CHUNK_SIZE {
                self.seal_chunk(false)?;
            }
            let take = data.len().min(CHUNK_SIZE - self.buffer.len());
            self.buffer.extend_from_slice(&data[..take]);
            Ok(take)
        }

        fn flush(&mut self) -> io::Result<()> {
            self.inner.flush()
        }
    }
}

#[cfg(feature = "open")]
pub use open::{PayloadError, StreamReader};

#[cfg(feature = "open")]
mod open {
    use super::*;
    use crate::layout::TAG_SIZE;
    use std::io::{self, Read};

    /// Why a payload could not be decrypted. Carried inside `io::Error` by
    /// [`StreamReader`]; see [`PayloadError::from_io`].
    #[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
    pub enum PayloadError {
        /// The payload ends before its final chunk.
        #[error("the payload is truncated (its final chunk is missing)")]
        Truncated,
        /// A chunk failed authentication: changed, reordered or cut.
        #[error(
            "the payload is truncated, corrupted or was tampered with (chunk {0} failed authentication)"
        )]
        Tampered(u128),
        /// Data follows the final chunk.
        #[error("data follows the end of the payload")]
        TrailingData,
        /// A final chunk that is empty although earlier chunks exist.
        #[error("the payload ends with an empty chunk")]
        EmptyLastChunk,
    }

    impl PayloadError {
        /// The payload error inside an `io::Error` from [`StreamReader`], if any.
        pub fn from_io(err: &io::Error) -> Option<PayloadError> {
            err.get_ref()?.downcast_ref::<PayloadError>().copied()
        }
    }

    impl From<PayloadError> for io::Error {
        fn from(err: PayloadError) -> Self {
            io::Error::new(io::ErrorKind::InvalidData, err)
        }
    }

    /// Decrypts an age payload as it is read. Plaintext is released one
    /// authenticated chunk at a time; the end of the stream is reported only
    /// after the final chunk authenticated, so a truncated payload is an error,
    /// never a short read. Each chunk is read into one buffer and decrypted in
    /// place there: no copy but the one to the caller.
    pub struct StreamReader<R: Read> {
        inner: R,
        cipher: ChaCha20Poly1305,
        /// One encrypted chunk and one byte of look-ahead, decrypted in place.
        buf: Zeroizing<Vec<u8>>,
        /// Bytes of `buf` filled from `inner`.
        filled: usize,
        /// Length of the chunk last decrypted (its plaintext is `buf[..consumed - TAG]`).
        consumed: usize,
        plain_pos: usize,
        plain_end: usize,
        counter: u128,
        state: State,
    }

    #[derive(Clone, Copy, PartialEq, Eq)]
    enum State {
        Reading,
        Done,
        Failed(PayloadError),
    }

    impl<R: Read> StreamReader<R> {
        /// Starts decrypting a payload whose nonce was already read.
        pub fn with_nonce(inner: R, file_key: &FileKey, nonce: &[u8; NONCE_SIZE]) -> Self {
            StreamReader {
                inner,
                cipher: payload_cipher(file_key, nonce),
                buf: Zeroizing::new(vec![0u8; ENCRYPTED_CHUNK_SIZE + 1]),
                filled: 0,
                consumed: 0,
                plain_pos: 0,
                plain_end: 0,
                counter: 0,
                state: State::Reading,
            }
        }

        /// Fills `buf` up to one chunk and one byte, or to the end of input.
        fn fill(&mut self) -> io::Result<bool> {
            while self.filled < self.buf.len() {
                let n = match self.inner.read(&mut self.buf[self.filled..]) {
                    Ok(n) => n,
                    Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                    Err(err) => return Err(err),
                };
                if n == 0 {
                    return Ok(true);
                }
                self.filled += n;
            }
            Ok(false)
        }

        /// Decrypts the next chunk in place.
        ///
        /// As in the reference implementation, a chunk is released as soon as
        /// it authenticates, and what follows it is judged on the next read: a
        /// full middle chunk followed by nothing is a truncation, a final chunk
        /// followed by more data is trailing data. No unauthenticated byte is
        /// ever released.
        fn next_chunk(&mut self) -> io::Result<()> {
            // Move the look-ahead byte(s) after the last chunk to the front.
            self.buf.copy_within(self.consumed..self.filled, 0);
            self.filled -= self.consumed;
            self.consumed = 0;
            self.plain_pos = 0;
            self.plain_end = 0;
            let at_end = self.fill()?;
            if self.counter >= MAX_COUNTER {
                return Err(PayloadError::Tampered(self.counter).into());
            }
            let len = self.filled.min(ENCRYPTED_CHUNK_SIZE);
            if len == 0 {
                return Err(PayloadError::Truncated.into());
            }
            let full = len == ENCRYPTED_CHUNK_SIZE;
            if len < TAG_SIZE || (len == TAG_SIZE && self.counter > 0) {
                return Err(if len == TAG_SIZE {
                    PayloadError::EmptyLastChunk
                } else {
                    PayloadError::Truncated
                }
                .into());
            }
            // A short chunk can only be the last; a full one is tried as a
            // middle chunk first, then as the last (the tag is checked before
            // anything is decrypted, so a failed try leaves the bytes as read).
            let mut last = !full;
            if !self.decrypt(len, last) {
                if !full || !self.decrypt(len, true) {
                    return Err(PayloadError::Tampered(self.counter).into());
                }
                last = true;
            }
            self.consumed = len;
            self.plain_end = len - TAG_SIZE;
            self.counter += 1;
            self.state = match (last, at_end && self.filled == len) {
                (true, true) => State::Done,
                (true, false) => State::Failed(PayloadError::TrailingData),
                (false, true) => State::Failed(PayloadError::Truncated),
                (false, false) => State::Reading,
            };
            Ok(())
        }

        /// Checks the tag, then decrypts `buf[..len - TAG]` in place; the
        /// buffer is untouched when the tag is wrong.
        fn decrypt(&mut self, len: usize, last: bool) -> bool {
            let (text, tag) = self.buf[..len].split_at_mut(len - TAG_SIZE);
            // Invariant: `tag` is exactly TAG_SIZE (16) bytes, the Poly1305 tag size.
            #[allow(clippy::expect_used)]
            let tag = chacha20poly1305::Tag::try_from(&*tag).expect("16-byte tag");
            self.cipher
                .decrypt_inout_detached(&chunk_nonce(self.counter, last), &[], text.into(), &tag)
                .is_ok()
        }
    }

    impl<R: Read> Read for StreamReader<R> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            loop {
                if self.plain_pos < self.plain_end {
                    let n = out.len().min(self.plain_end - self.plain_pos);
                    out[..n].copy_from_slice(&self.buf[self.plain_pos..self.plain_pos + n]);
                    self.plain_pos += n;
                    return Ok(n);
                }
                match self.state {
                    State::Done => return Ok(0),
                    State::Failed(err) => return Err(err.into()),
                    State::Reading => {
                        if out.is_empty() {
                            return Ok(0);
                        }
                        if let Err(err) = self.next_chunk() {
                            if let Some(payload) = PayloadError::from_io(&err) {
                                self.state = State::Failed(payload);
                            }
                            return Err(err);
                        }
                    }
                }
            }
        }
    }
}

#[cfg(all(test, feature = "seal", feature = "open"))]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::layout::{CHUNK_SIZE, TAG_SIZE};
    use std::io::{Read, Write};

    fn encrypt(plain: &[u8]) -> Vec<u8> {
        let key = FileKey::from_bytes([9; 16]);
        let mut writer = StreamWriter::with_nonce(Vec::new(), &key, &[3; NONCE_SIZE]);
        writer.write_all(plain).unwrap();
        writer.finish().unwrap()
    }

    fn decrypt(cipher: &[u8]) -> (Vec<u8>, Option<PayloadError>) {
        let key = FileKey::from_bytes([9; 16]);
        let mut reader = StreamReader::with_nonce(cipher, &key, &[3; NONCE_SIZE]);
        let mut out = Vec::new();
        let mut buf = [0u8; 7000];
        loop {
            match reader.read(&mut buf) {
                Ok(0) => return (out, None),
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(err) => return (out, Some(PayloadError::from_io(&err).unwrap())),
            }
        }
    }

    #[test]
    fn round_trips_at_chunk_edges() {
        for len in [
            0,
            1,
            CHUNK_SIZE - 1,
            CHUNK_SIZE,
            CHUNK_SIZE + 1,
            3 * CHUNK_SIZE,
        ] {
            let plain: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let cipher = encrypt(&plain);
            let chunks = len.div_ceil(CHUNK_SIZE).max(1);
            assert_eq!(cipher.len(), len + chunks * TAG_SIZE, "length {len}");
            assert_eq!(decrypt(&cipher), (plain, None), "length {len}");
        }
    }

    #[test]
    fn truncation_at_a_chunk_edge_is_detected() {
        let plain = vec![5u8; 2 * CHUNK_SIZE + 10];
        let cipher = encrypt(&plain);
        // Authenticated chunks are released; the missing end is an error.
        let (released, err) = decrypt(&cipher[..ENCRYPTED_CHUNK_SIZE]);
        assert_eq!(err, Some(PayloadError::Truncated));
        assert_eq!(released, plain[..CHUNK_SIZE]);
        let (released, err) = decrypt(&cipher[..2 * ENCRYPTED_CHUNK_SIZE]);
        assert_eq!(err, Some(PayloadError::Truncated));
        assert_eq!(released, plain[..2 * CHUNK_SIZE]);
    }

    #[test]
    fn truncation_inside_a_chunk_and_flipped_bits_are_detected() {
        let plain = vec![5u8; 2 * CHUNK_SIZE + 10];
        let cipher = encrypt(&plain);
        assert!(decrypt(&cipher[..cipher.len() - 1]).1.is_some());
        assert!(decrypt(&cipher[..ENCRYPTED_CHUNK_SIZE + 100]).1.is_some());
        for at in [
            0,
            100,
            ENCRYPTED_CHUNK_SIZE - 1,
            ENCRYPTED_CHUNK_SIZE,
            cipher.len() - 1,
        ] {
            let mut changed = cipher.clone();
            changed[at] ^= 0x10;
            assert!(
                matches!(decrypt(&changed).1, Some(PayloadError::Tampered(_))),
                "flip at {at}"
            );
        }
    }

    #[test]
    fn appended_chunks_are_detected() {
        let cipher = encrypt(&vec![1u8; CHUNK_SIZE]);
        let mut longer = cipher.clone();
        longer.extend_from_slice(&encrypt(&[1u8; 10]));
        assert_eq!(decrypt(&longer).1, Some(PayloadError::TrailingData));
    }
}
