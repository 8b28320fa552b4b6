//! The X25519 recipient stanza of age v1.
//!
//! ```text
//! -> X25519 base64(ephemeral share)
//! base64(ChaCha20-Poly1305(wrap key, nonce = 0, file key))
//!
//! shared   = X25519(ephemeral secret, recipient)   -- never all zeros
//! salt     = ephemeral share || recipient
//! wrap key = HKDF-SHA-256(ikm = shared, salt, "age-encryption.org/v1/X25519")
//! ```

use crate::header::Stanza;
use crate::primitives::hkdf;

/// The stanza type.
pub const TAG: &str = "X25519";
const INFO: &[u8] = b"age-encryption.org/v1/X25519";

fn wrap_key(
    shared: &[u8; 32],
    share: &[u8; 32],
    recipient: &[u8; 32],
) -> zeroize::Zeroizing<[u8; 32]> {
    let mut salt = [0u8; 64];
    salt[..32].copy_from_slice(share);
    salt[32..].copy_from_slice(recipient);
    zeroize::Zeroizing::new(hkdf(&salt, INFO, shared))
}

#[cfg(feature = "seal")]
pub(crate) use seal::wrap;

#[cfg(feature = "seal")]
mod seal {
    use super::*;
    use crate::keys::{Recipient, RecipientKey};
    use crate::primitives::{FileKey, random};
    use crate::seal::WrapError;
    use x25519_dalek::{PublicKey, StaticSecret};

    /// Wraps `file_key` to `recipient` with a fresh ephemeral key.
    pub(crate) fn wrap(file_key: &FileKey, recipient: &Recipient) -> Result<Stanza, WrapError> {
        let RecipientKey::X25519(public) = &recipient.0 else {
            return Err(WrapError::WrongKind);
        };
        let mut secret = zeroize::Zeroizing::new([0u8; 32]);
        random(secret.as_mut()).map_err(|_| WrapError::Random)?;
        let ephemeral = StaticSecret::from(*secret);
        let share = PublicKey::from(&ephemeral);
        let shared = ephemeral.diffie_hellman(public);
        if !shared.was_contributory() {
            return Err(WrapError::LowOrderRecipient(recipient.to_string()));
        }
        let key = wrap_key(shared.as_bytes(), share.as_bytes(), public.as_bytes());
        let body = crate::primitives::wrap_file_key(&key, file_key);
        Ok(Stanza {
            tag: TAG.into(),
            args: vec![crate::header::encode_base64(share.as_bytes())],
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
    use x25519_dalek::PublicKey;

    const SHAPE: StanzaShape = StanzaShape {
        arguments: "X25519 stanza must have exactly one argument",
        base64: "X25519 share is not canonical base64",
        length: "X25519 share is not 32 bytes",
        body: "X25519 body is not a 16-byte file key and its tag",
    };

    /// Tries to unwrap the file key from `stanza` with `identity`.
    ///
    /// `Ok(None)`: not an X25519 stanza, or sealed to another key.
    /// `Err`: an X25519 stanza that breaks the spec, whoever it is for.
    pub(crate) fn unwrap(
        stanza: &Stanza,
        identity: &Identity,
    ) -> Result<Option<FileKey>, HeaderError> {
        if stanza.tag != TAG {
            return Ok(None);
        }
        let share: [u8; 32] = SHAPE.check(stanza)?;
        let IdentityKey::X25519(secret) = &identity.0 else {
            return Ok(None);
        };
        let shared = secret.diffie_hellman(&PublicKey::from(share));
        if !shared.was_contributory() {
            return Err(HeaderError::Malformed("X25519 share is a low-order point"));
        }
        let recipient = PublicKey::from(secret);
        let key = wrap_key(shared.as_bytes(), &share, recipient.as_bytes());
        Ok(crate::primitives::unwrap_file_key(&key, &stanza.body))
    }
}
