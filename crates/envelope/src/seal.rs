//! Sealing: an age v1 file to one or more X25519 recipients.

use std::io::Write;

use crate::header::Header;
use crate::keys::Recipient;
use crate::primitives::FileKey;
use crate::stream::StreamWriter;
use crate::x25519::{self, WrapError};

/// Why a file could not be sealed.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// Sealing needs at least one recipient.
    #[error("no recipients: a tip must be sealed to at least one key")]
    NoRecipients,
    /// A recipient key cannot be sealed to.
    #[error(transparent)]
    Recipient(#[from] WrapError),
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
    if recipients.is_empty() {
        return Err(SealError::NoRecipients);
    }
    let file_key = FileKey::generate().map_err(|_| SealError::Random)?;
    let stanzas = recipients
        .iter()
        .map(|recipient| x25519::wrap(&file_key, recipient))
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
