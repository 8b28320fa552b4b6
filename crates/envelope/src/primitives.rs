//! The few primitives age v1 is built from, named as the spec names them.
//!
//! - `HKDF-SHA-256(ikm, salt, info)` with a 32-byte output;
//! - `HMAC-SHA-256(key, message)`;
//! - `ChaCha20-Poly1305` with a 12-byte nonce (the RustCrypto implementation);
//! - `CSPRNG`: the operating system's or the browser's, through `getrandom`.

use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// The 16-byte symmetric key of one age file. Zeroized on drop, never printed.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct FileKey(pub(crate) [u8; 16]);

impl FileKey {
    /// A fresh random file key.
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut key = [0u8; 16];
        getrandom::fill(&mut key)?;
        Ok(FileKey(key))
    }

    /// A file key from known bytes: for known-answer tests only, public
    /// with the `test-vectors` feature (a caller's key is never a file key).
    #[cfg(feature = "test-vectors")]
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        FileKey(bytes)
    }

    #[cfg(all(not(feature = "test-vectors"), feature = "open"))]
    pub(crate) fn from_bytes(bytes: [u8; 16]) -> Self {
        FileKey(bytes)
    }

    pub(crate) fn expose(&self) -> &[u8; 16] {
        &self.0
    }
}

impl std::fmt::Debug for FileKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FileKey([redacted])")
    }
}

/// `HKDF-SHA-256(ikm, salt, info)` with a 32-byte output.
pub(crate) fn hkdf(salt: &[u8], info: &[u8], ikm: &[u8]) -> [u8; 32] {
    let mut okm = [0u8; 32];
    // Invariant: 32 bytes is far below HKDF-SHA-256's 255 * 32 output limit.
    #[allow(clippy::expect_used)]
    Hkdf::<Sha256>::new(Some(salt), ikm)
        .expand(info, &mut okm)
        .expect("32 bytes is a valid HKDF-SHA-256 output length");
    okm
}

/// `ChaCha20-Poly1305(key, nonce = 0, file key)`: how every recipient stanza
/// body wraps the file key (the key is used once, so a zero nonce is safe).
#[cfg(feature = "seal")]
pub(crate) fn wrap_file_key(key: &[u8; 32], file_key: &FileKey) -> Vec<u8> {
    use chacha20poly1305::aead::Aead;
    // Invariant: encrypting 16 bytes cannot exceed ChaCha20-Poly1305's limits.
    #[allow(clippy::expect_used)]
    body_cipher(key)
        .encrypt(
            &chacha20poly1305::Nonce::default(),
            file_key.expose().as_slice(),
        )
        .expect("16-byte plaintext")
}

/// The file key from a stanza body; `None` if the body does not
/// authenticate under `key` (another recipient's stanza, or the wrong
/// passphrase). Callers check the body is 32 bytes first, as the spec asks.
#[cfg(feature = "open")]
pub(crate) fn unwrap_file_key(key: &[u8; 32], body: &[u8]) -> Option<FileKey> {
    use chacha20poly1305::aead::Aead;
    let plain = zeroize::Zeroizing::new(
        body_cipher(key)
            .decrypt(&chacha20poly1305::Nonce::default(), body)
            .ok()?,
    );
    let bytes: [u8; 16] = plain.as_slice().try_into().ok()?;
    Some(FileKey::from_bytes(bytes))
}

#[cfg(any(feature = "seal", feature = "open"))]
fn body_cipher(key: &[u8; 32]) -> chacha20poly1305::ChaCha20Poly1305 {
    use chacha20poly1305::KeyInit;
    // Invariant: the key is exactly 32 bytes.
    #[allow(clippy::expect_used)]
    chacha20poly1305::ChaCha20Poly1305::new_from_slice(key).expect("32-byte key")
}

/// Fills `buf` from the operating system's or browser's CSPRNG.
pub(crate) fn random(buf: &mut [u8]) -> Result<(), getrandom::Error> {
    getrandom::fill(buf)
}
