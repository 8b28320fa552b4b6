//! The hybrid post-quantum recipient stanza of age (`mlkem768x25519`).
//!
//! ```text
//! -> mlkem768x25519 base64(enc)
//! base64(HPKE SealBase(recipient, info, aad = "", file key))
//! ```
//!
//! HPKE (RFC 9180) in base mode with the KEM MLKEM768-X25519 (X-Wing, KEM id
//! 0x647a), KDF HKDF-SHA-256 (0x0001) and AEAD ChaCha20-Poly1305 (0x0003),
//! `info = "age-encryption.org/mlkem768x25519"`. `enc` is the 1,120-byte
//! X-Wing ciphertext; the body is the 16-byte file key and its 16-byte tag.
//! The KEM is the RustCrypto `x-wing` crate; this module holds only HPKE's
//! key schedule for this one suite, built on HKDF and ChaCha20-Poly1305.

use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::header::Stanza;

/// The stanza type.
pub const TAG: &str = "mlkem768x25519";
const INFO: &[u8] = b"age-encryption.org/mlkem768x25519";
/// `"HPKE" || kem_id || kdf_id || aead_id`.
const SUITE_ID: &[u8] = b"HPKE\x64\x7a\x00\x01\x00\x03";
#[cfg(feature = "open")]
const ENC_BYTES: usize = x_wing::CIPHERTEXT_SIZE;

/// HPKE's `LabeledExtract(salt, label, ikm)`: the pseudorandom key.
fn labeled_extract(salt: &[u8], label: &[u8], ikm: &[u8]) -> Zeroizing<[u8; 32]> {
    let input = Zeroizing::new([b"HPKE-v1", SUITE_ID, label, ikm].concat());
    let (prk, _) = Hkdf::<Sha256>::extract(Some(salt), &input);
    let mut out = Zeroizing::new([0u8; 32]);
    out.copy_from_slice(&prk);
    out
}

/// HPKE's `LabeledExpand(prk, label, info, L)` for `L = out.len()`.
fn labeled_expand(prk: &[u8; 32], label: &[u8], info: &[u8], out: &mut [u8]) {
    let length = (out.len() as u16).to_be_bytes();
    let labeled_info = [&length[..], b"HPKE-v1", SUITE_ID, label, info].concat();
    // Invariant: a 32-byte PRK is a valid HKDF-SHA-256 key and outputs of 12
    // and 32 bytes are far below its limit.
    #[allow(clippy::expect_used)]
    Hkdf::<Sha256>::from_prk(prk)
        .expect("32-byte PRK")
        .expand(&labeled_info, out)
        .expect("short output");
}

/// The AEAD key and nonce of HPKE's base-mode key schedule, for the first
/// (and only) message of the context.
fn key_schedule(shared_secret: &[u8]) -> (Zeroizing<[u8; 32]>, [u8; 12]) {
    let psk_id_hash = labeled_extract(b"", b"psk_id_hash", b"");
    let info_hash = labeled_extract(b"", b"info_hash", INFO);
    let context = [&[0u8][..], psk_id_hash.as_ref(), info_hash.as_ref()].concat();
    let secret = labeled_extract(shared_secret, b"secret", b"");
    let mut key = Zeroizing::new([0u8; 32]);
    labeled_expand(&secret, b"key", &context, key.as_mut());
    let mut nonce = [0u8; 12];
    labeled_expand(&secret, b"base_nonce", &context, &mut nonce);
    (key, nonce)
}

fn aead(key: &[u8; 32]) -> chacha20poly1305::ChaCha20Poly1305 {
    use chacha20poly1305::KeyInit;
    chacha20poly1305::ChaCha20Poly1305::new(key.into())
}

#[cfg(feature = "seal")]
pub(crate) use seal::wrap;

#[cfg(feature = "seal")]
mod seal {
    use super::*;
    use crate::keys::{Recipient, RecipientKey};
    use crate::primitives::{FileKey, random};
    use crate::seal::WrapError;
    use chacha20poly1305::aead::Aead;
    use x_wing::TryKeyInit;

    /// Wraps `file_key` to a hybrid `recipient` with a fresh encapsulation.
    pub(crate) fn wrap(file_key: &FileKey, recipient: &Recipient) -> Result<Stanza, WrapError> {
        let RecipientKey::Hybrid(bytes) = &recipient.0 else {
            return Err(WrapError::WrongKind);
        };
        let key = x_wing::EncapsulationKey::new_from_slice(bytes.as_slice())
            .map_err(|_| WrapError::Unusable(recipient.fingerprint()))?;
        // X-Wing's encapsulation takes 64 uniformly random bytes (32 for
        // ML-KEM, 32 for the X25519 ephemeral key), fresh for each stanza.
        let mut randomness = Zeroizing::new([0u8; x_wing::ENCAPSULATION_RANDOMNESS_SIZE]);
        random(randomness.as_mut()).map_err(|_| WrapError::Random)?;
        let (enc, shared) = key.encapsulate_deterministic(&(*randomness).into());
        let shared = Zeroizing::new(<[u8; 32]>::from(shared));
        let (aead_key, nonce) = key_schedule(shared.as_ref());
        // Invariant: 16 bytes are far below ChaCha20-Poly1305's limits.
        #[allow(clippy::expect_used)]
        let body = aead(&aead_key)
            .encrypt((&nonce).into(), file_key.expose().as_slice())
            .expect("16-byte plaintext");
        Ok(Stanza {
            tag: TAG.into(),
            args: vec![crate::header::encode_base64(enc.as_slice())],
            body,
        })
    }
}

#[cfg(feature = "open")]
pub(crate) use open::unwrap;

#[cfg(feature = "open")]
mod open {
    use super::*;
    use crate::header::{HeaderError, StanzaShape};
    use crate::keys::{Identity, IdentityKey};
    use crate::primitives::FileKey;
    use chacha20poly1305::aead::Aead;
    use x_wing::TryDecapsulate;

    const SHAPE: StanzaShape = StanzaShape {
        arguments: "mlkem768x25519 stanza must have exactly one argument",
        base64: "mlkem768x25519 enc is not canonical base64",
        length: "mlkem768x25519 enc is not 1,120 bytes",
        body: "mlkem768x25519 body is not a 16-byte file key and its tag",
    };

    /// Tries to unwrap the file key from `stanza` with `identity`.
    ///
    /// `Ok(None)`: not a hybrid stanza, not a hybrid identity, or sealed to
    /// another key. `Err`: a hybrid stanza that breaks the spec.
    pub(crate) fn unwrap(
        stanza: &Stanza,
        identity: &Identity,
    ) -> Result<Option<FileKey>, HeaderError> {
        if stanza.tag != TAG {
            return Ok(None);
        }
        let enc: [u8; ENC_BYTES] = SHAPE.check(stanza)?;
        let IdentityKey::Hybrid(key) = &identity.0 else {
            return Ok(None);
        };
        // The X25519 half must contribute: an all-zero shared value (a
        // low-order or identity point in enc) is refused, as age refuses it.
        let shared = key.try_decapsulate(&enc.into()).map_err(|_| {
            HeaderError::Malformed("mlkem768x25519 enc has a low-order X25519 share")
        })?;
        let shared = Zeroizing::new(<[u8; 32]>::from(shared));
        let (aead_key, nonce) = key_schedule(shared.as_ref());
        let Ok(plain) = aead(&aead_key).decrypt((&nonce).into(), stanza.body.as_slice()) else {
            return Ok(None);
        };
        let plain = Zeroizing::new(plain);
        let bytes: [u8; 16] = plain
            .as_slice()
            .try_into()
            .map_err(|_| HeaderError::Malformed("mlkem768x25519 file key is not 16 bytes"))?;
        Ok(Some(FileKey::from_bytes(bytes)))
    }
}
