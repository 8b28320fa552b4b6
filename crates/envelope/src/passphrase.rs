//! The scrypt (passphrase) stanza of age v1, as `age -p` writes it. sealtip
//! uses it for passphrase-protected identity files.
//!
//! ```text
//! -> scrypt base64(salt, 16 bytes) <log2 N, decimal>
//! base64(ChaCha20-Poly1305(wrap key, nonce = 0, file key))
//!
//! wrap key = scrypt(passphrase, "age-encryption.org/v1/scrypt" || salt, N, r = 8, p = 1)
//! ```
//!
//! An scrypt stanza must be the only stanza of its header.

use zeroize::Zeroizing;

/// The stanza type.
pub const TAG: &str = "scrypt";
/// The work factor (log2 N) used when sealing: the same as `age -p`.
#[cfg(feature = "seal")]
pub const DEFAULT_WORK_FACTOR: u8 = 18;
/// The highest work factor accepted when opening: higher ones would take
/// minutes and are refused as malformed, as the reference implementation does.
#[cfg(feature = "open")]
pub const MAX_WORK_FACTOR: u8 = 22;
const SALT_LABEL: &[u8] = b"age-encryption.org/v1/scrypt";

fn wrap_key(passphrase: &[u8], salt: &[u8; 16], work_factor: u8) -> Option<Zeroizing<[u8; 32]>> {
    let mut full_salt = SALT_LABEL.to_vec();
    full_salt.extend_from_slice(salt);
    let params = scrypt::Params::new(work_factor, 8, 1).ok()?;
    let mut key = Zeroizing::new([0u8; 32]);
    scrypt::scrypt(passphrase, &full_salt, &params, key.as_mut()).ok()?;
    Some(key)
}

#[cfg(feature = "seal")]
pub(crate) use seal::wrap;

#[cfg(feature = "seal")]
mod seal {
    use super::*;
    use crate::header::{Stanza, encode_base64};
    use crate::primitives::{FileKey, random};
    use crate::seal::WrapError;

    /// Wraps `file_key` under `passphrase` with a fresh salt.
    pub(crate) fn wrap(
        file_key: &FileKey,
        passphrase: &str,
        work_factor: u8,
    ) -> Result<Stanza, WrapError> {
        let mut salt = [0u8; 16];
        random(&mut salt).map_err(|_| WrapError::Random)?;
        let key = wrap_key(passphrase.as_bytes(), &salt, work_factor).ok_or(WrapError::Random)?;
        let body = crate::primitives::wrap_file_key(&key, file_key);
        Ok(Stanza {
            tag: TAG.into(),
            args: vec![encode_base64(&salt), work_factor.to_string()],
            body,
        })
    }
}

#[cfg(feature = "open")]
pub(crate) use open::unwrap;

#[cfg(feature = "open")]
mod open {
    use super::*;
    use crate::header::{HeaderError, Stanza, decode_base64};
    use crate::primitives::FileKey;

    /// Tries to unwrap the file key from an scrypt stanza with `passphrase`.
    /// `Ok(None)`: not an scrypt stanza, or the wrong passphrase.
    pub(crate) fn unwrap(
        stanza: &Stanza,
        passphrase: &str,
    ) -> Result<Option<FileKey>, HeaderError> {
        if stanza.tag != TAG {
            return Ok(None);
        }
        let [salt, work_factor] = stanza.args.as_slice() else {
            return Err(HeaderError::Malformed(
                "scrypt stanza must have a salt and a work factor",
            ));
        };
        let salt = decode_base64(salt.as_bytes())
            .map_err(|_| HeaderError::Malformed("scrypt salt is not canonical base64"))?;
        let salt: [u8; 16] = salt
            .try_into()
            .map_err(|_| HeaderError::Malformed("scrypt salt is not 16 bytes"))?;
        let canonical_decimal = !work_factor.is_empty()
            && work_factor.bytes().all(|b| b.is_ascii_digit())
            && !work_factor.starts_with('0');
        let work_factor: u8 = match work_factor.parse() {
            Ok(value) if canonical_decimal && (1..=MAX_WORK_FACTOR).contains(&value) => value,
            _ => {
                return Err(HeaderError::Malformed(
                    "scrypt work factor is not a decimal from 1 to 22",
                ));
            }
        };
        if stanza.body.len() != 32 {
            return Err(HeaderError::Malformed(
                "scrypt body is not a 16-byte file key and its tag",
            ));
        }
        let key = wrap_key(passphrase.as_bytes(), &salt, work_factor)
            .ok_or(HeaderError::Malformed("scrypt parameters are invalid"))?;
        Ok(crate::primitives::unwrap_file_key(&key, &stanza.body))
    }
}
