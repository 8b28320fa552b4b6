//! Opening: finding the file key with an identity, checking the header MAC,
//! and decrypting the payload as it is read. Binary and armored input alike.

use std::io::{self, BufRead, BufReader, Read};

use crate::armor::{self, ArmorError, ArmoredReader};
use crate::header::{Header, HeaderError};
use zeroize::Zeroizing;

use crate::keys::{Identity, IdentityFile, KeyError};
use crate::layout::NONCE_SIZE;
use crate::primitives::FileKey;
use crate::stream::{PayloadError, StreamReader};
use crate::{mlkem768x25519, passphrase, x25519};

/// Stanza types of other age recipients, which sealtip recognises but does not open.
const KNOWN_UNSUPPORTED: &[&str] = &["ssh-ed25519", "ssh-rsa", "piv-p256"];

/// Why a sealed file could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The header could not be read: not age, another version, malformed.
    #[error(transparent)]
    Header(HeaderError),
    /// The ASCII armor is broken.
    #[error(transparent)]
    Armor(ArmorError),
    /// None of the given keys is a recipient of the file.
    #[error("{}", no_match_message(*.stanzas, *.known))]
    NoMatch {
        /// How many recipient stanzas the file has.
        stanzas: usize,
        /// How many of them are hybrid or X25519 stanzas.
        known: usize,
    },
    /// The file is sealed only to recipient types sealtip does not open.
    #[error("this file is sealed with a recipient type sealtip does not support: {}", .0.join(", "))]
    Unsupported(Vec<String>),
    /// The file is protected by a passphrase, not sealed to a key.
    #[error("this file is protected by a passphrase, not sealed to a key")]
    PassphraseProtected,
    /// The file is sealed to keys, not protected by a passphrase.
    #[error("this file is sealed to keys, not protected by a passphrase")]
    NotPassphraseProtected,
    /// The passphrase does not open the file.
    #[error("wrong passphrase")]
    WrongPassphrase,
    /// The header MAC does not match: the header was changed.
    #[error("the header MAC is wrong: the file's header was changed or corrupted")]
    HeaderMac,
    /// The payload failed to decrypt.
    #[error(transparent)]
    Payload(PayloadError),
    /// Reading the input failed.
    #[error("could not read the sealed file: {0}")]
    Io(io::Error),
}

fn no_match_message(stanzas: usize, known: usize) -> String {
    let keys = if stanzas == 1 {
        "1 other key"
    } else {
        "other keys"
    };
    let mut message = if stanzas == 1 {
        format!("this file was sealed to {keys}, not to this one")
    } else {
        format!("this file was sealed to {stanzas} {keys}, not to this one")
    };
    if known < stanzas {
        message.push_str(&format!(
            " ({known} of its {stanzas} recipient stanzas are age keys sealtip opens)"
        ));
    }
    message
}

impl OpenError {
    /// Classifies an error from reading an opened payload.
    pub fn from_io(err: io::Error) -> Self {
        if let Some(payload) = PayloadError::from_io(&err) {
            OpenError::Payload(payload)
        } else if let Some(armor) = ArmorError::from_io(&err) {
            OpenError::Armor(armor)
        } else {
            OpenError::Io(err)
        }
    }

    fn from_header(err: HeaderError) -> Self {
        match err {
            HeaderError::Io(io) => OpenError::from_io(io),
            other => OpenError::Header(other),
        }
    }
}

/// The plaintext of an opened file, decrypted as it is read. Reading returns
/// an `io::Error` on tampering or truncation: classify it with
/// [`OpenError::from_io`]. A clean end of input means the whole payload
/// authenticated.
pub type Opened<'a> = StreamReader<Box<dyn BufRead + 'a>>;

/// Opens an age file (binary or armored) with the first of `identities` that
/// is one of its recipients.
pub fn open<'a, R: Read + 'a>(input: R, identities: &[Identity]) -> Result<Opened<'a>, OpenError> {
    open_with(input, |header| find_file_key(header, identities))
}

/// Opens an age file (binary or armored) protected by `passphrase`, as
/// `age -p` writes it.
pub fn open_with_passphrase<'a, R: Read + 'a>(
    input: R,
    passphrase: &str,
) -> Result<Opened<'a>, OpenError> {
    open_with(input, |header| match header.stanzas.as_slice() {
        [stanza] if stanza.tag == passphrase::TAG => passphrase::unwrap(stanza, passphrase)
            .map_err(OpenError::Header)?
            .ok_or(OpenError::WrongPassphrase),
        _ => Err(OpenError::NotPassphraseProtected),
    })
}

fn open_with<'a, R: Read + 'a>(
    input: R,
    file_key: impl FnOnce(&Header) -> Result<FileKey, OpenError>,
) -> Result<Opened<'a>, OpenError> {
    let mut input = BufReader::new(input);
    let start = input.fill_buf().map_err(OpenError::from_io)?;
    let mut input: Box<dyn BufRead + 'a> = if armor::is_armored(start) {
        Box::new(BufReader::new(ArmoredReader::new(input)))
    } else {
        Box::new(input)
    };
    let header = Header::read(&mut input).map_err(OpenError::from_header)?;
    check_stanza_rules(&header)?;
    let file_key = file_key(&header)?;
    if !header.mac_is_valid(&file_key) {
        return Err(OpenError::HeaderMac);
    }
    let mut nonce = [0u8; NONCE_SIZE];
    input
        .read_exact(&mut nonce)
        .map_err(|err| match err.kind() {
            io::ErrorKind::UnexpectedEof => {
                OpenError::Header(HeaderError::Malformed("the payload nonce is missing"))
            }
            _ => OpenError::from_io(err),
        })?;
    Ok(StreamReader::with_nonce(input, &file_key, &nonce))
}

/// Opens `sealed` in memory: for small messages and tests.
pub fn open_to_vec(sealed: &[u8], identities: &[Identity]) -> Result<Vec<u8>, OpenError> {
    let mut reader = open(sealed, identities)?;
    let mut plain = Vec::new();
    reader.read_to_end(&mut plain).map_err(OpenError::from_io)?;
    Ok(plain)
}

/// Whether `bytes` are an age file (binary or armored) rather than identity
/// lines: a passphrase-protected identity file, as `age -p` writes it.
pub fn is_age_file(bytes: &[u8]) -> bool {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    bytes[start..].starts_with(b"age-encryption.org/")
        || bytes[start..].starts_with(armor::BEGIN.as_bytes())
}

/// Why an identity file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum IdentityFileError {
    /// The file is protected by a passphrase and none was given.
    #[error("this identity file is protected by a passphrase")]
    NeedsPassphrase,
    /// The protected file did not open (a wrong passphrase, a damaged file).
    #[error(transparent)]
    Open(#[from] OpenError),
    /// The (opened) file is not text.
    #[error("this is not an identity file (it is not text)")]
    NotText,
    /// The lines are not identities.
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// Reads an identity file, plain (`AGE-SECRET-KEY-1…` lines) or protected
/// by a passphrase (see [`is_age_file`]); `passphrase` is used only for a
/// protected one.
pub fn read_identity_file(
    bytes: &[u8],
    passphrase: Option<&str>,
) -> Result<IdentityFile, IdentityFileError> {
    let mut plain = Zeroizing::new(Vec::new());
    let bytes = if is_age_file(bytes) {
        let passphrase = passphrase.ok_or(IdentityFileError::NeedsPassphrase)?;
        let mut reader = open_with_passphrase(bytes, passphrase)?;
        reader.read_to_end(&mut plain).map_err(OpenError::from_io)?;
        plain.as_slice()
    } else {
        bytes
    };
    let text = std::str::from_utf8(bytes).map_err(|_| IdentityFileError::NotText)?;
    Ok(IdentityFile::parse(text)?)
}

/// Rules of the age spec that hold whichever key opens the file.
fn check_stanza_rules(header: &Header) -> Result<(), OpenError> {
    if header.stanzas.len() > 1 && header.stanzas.iter().any(|s| s.tag == passphrase::TAG) {
        return Err(OpenError::Header(HeaderError::Malformed(
            "an scrypt stanza must be alone in the header",
        )));
    }
    Ok(())
}

fn find_file_key(header: &Header, identities: &[Identity]) -> Result<FileKey, OpenError> {
    if matches!(header.stanzas.as_slice(), [stanza] if stanza.tag == passphrase::TAG) {
        return Err(OpenError::PassphraseProtected);
    }
    for identity in identities {
        for stanza in &header.stanzas {
            let file_key = match stanza.tag.as_str() {
                x25519::TAG => x25519::unwrap(stanza, identity),
                mlkem768x25519::TAG => mlkem768x25519::unwrap(stanza, identity),
                _ => Ok(None),
            };
            if let Some(file_key) = file_key.map_err(OpenError::Header)? {
                return Ok(file_key);
            }
        }
    }
    let known_count = header
        .stanzas
        .iter()
        .filter(|s| s.tag == x25519::TAG || s.tag == mlkem768x25519::TAG)
        .count();
    let unsupported: Vec<String> = header
        .stanzas
        .iter()
        .filter(|s| KNOWN_UNSUPPORTED.contains(&s.tag.as_str()))
        .map(|s| s.tag.clone())
        .collect();
    if known_count == 0 && !unsupported.is_empty() {
        return Err(OpenError::Unsupported(unsupported));
    }
    Err(OpenError::NoMatch {
        stanzas: header.stanzas.len(),
        known: known_count,
    })
}
