//! Sealing: an age v1 file to one or more recipients, all hybrid
//! post-quantum (`mlkem768x25519` stanzas) or all X25519.

use std::io::Write;

use crate::header::{Header, Stanza};
use crate::keys::{KeyKind, Recipient};
use crate::primitives::FileKey;
use crate::stream::StreamWriter;
use crate::{mlkem768x25519, x25519};

/// Why a file key could not be wrapped to a recipient.
#[derive(Debug, thiserror::Error)]
pub enum WrapError {
    /// The recipient key is a low-order point: nothing sealed to it is secret.
    #[error("recipient {0} is not a usable key (low-order point)")]
    LowOrderRecipient(String),
    /// The hybrid recipient key does not parse as ML-KEM-768 + X25519.
    #[error("recipient with fingerprint {0} is not a usable hybrid key")]
    Unusable(String),
    /// A stanza type was asked to wrap to a key of the other kind.
    #[error("internal error: a stanza of one kind was asked to wrap to a key of the other")]
    WrongKind,
    /// The CSPRNG failed.
    #[error("the system random generator failed")]
    Random,
}

/// Wraps `file_key` to `recipient` in the stanza of its kind.
fn wrap(file_key: &FileKey, recipient: &Recipient) -> Result<Stanza, WrapError> {
    match recipient.kind() {
        KeyKind::Hybrid => mlkem768x25519::wrap(file_key, recipient),
        KeyKind::X25519 => x25519::wrap(file_key, recipient),
    }
}

/// Why a file could not be sealed.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// Sealing needs at least one recipient.
    #[error("no recipients: a tip must be sealed to at least one key")]
    NoRecipients,
    /// A recipient key cannot be sealed to.
    #[error(transparent)]
    Recipient(#[from] WrapError),
    /// Post-quantum and X25519-only recipients in one file: the X25519 ones
    /// would undo the post-quantum protection, so age forbids it.
    #[error(
        "cannot seal to hybrid post-quantum (age1pq1…) and X25519-only (age1…) keys together: \
         the X25519 keys would undo the post-quantum protection"
    )]
    MixedKinds,
    /// The CSPRNG failed.
    #[error("the system random generator failed")]
    Random,
    /// Writing the output failed.
    #[error("could not write the sealed file: {0}")]
    Io(#[from] std::io::Error),
}

/// Starts an age file sealed to `recipients` (one stanza each), writing the
/// header and the payload nonce to `output`. Write the plaintext to the
/// returned writer, then call [`StreamWriter::finish`].
pub fn seal<W: Write>(
    recipients: &[Recipient],
    mut output: W,
) -> Result<StreamWriter<W>, SealError> {
    let Some(first) = recipients.first() else {
        return Err(SealError::NoRecipients);
    };
    if recipients.iter().any(|r| r.kind() != first.kind()) {
        return Err(SealError::MixedKinds);
    }
    let file_key = FileKey::generate().map_err(|_| SealError::Random)?;
    let stanzas = recipients
        .iter()
        .map(|recipient| wrap(&file_key, recipient))
        .collect::<Result<Vec<_>, _>>()?;
    output.write_all(&Header::new(stanzas, &file_key).to_bytes())?;
    Ok(StreamWriter::new(output, &file_key)?)
}

/// Starts an age file protected by `passphrase` (one scrypt stanza, as
/// `age -p` writes): for passphrase-protected identity files.
pub fn seal_with_passphrase<W: Write>(
    passphrase: &str,
    mut output: W,
) -> Result<StreamWriter<W>, SealError> {
    let file_key = FileKey::generate().map_err(|_| SealError::Random)?;
    let stanza = crate::passphrase::wrap(
        &file_key,
        passphrase,
        crate::passphrase::DEFAULT_WORK_FACTOR,
    )?;
    output.write_all(&Header::new(vec![stanza], &file_key).to_bytes())?;
    Ok(StreamWriter::new(output, &file_key)?)
}

/// Seals `plaintext` in memory: for small messages and tests.
pub fn seal_to_vec(recipients: &[Recipient], plaintext: &[u8]) -> Result<Vec<u8>, SealError> {
    let mut writer = seal(recipients, Vec::new())?;
    writer.write_all(plaintext)?;
    Ok(writer.finish()?)
}
