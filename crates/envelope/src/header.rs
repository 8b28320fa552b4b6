//! The age v1 header: its syntax, and its MAC.
//!
//! ```text
//! age-encryption.org/v1
//! -> X25519 <base64 ephemeral share>
//! <base64 body, wrapped at 64 columns, ending with a line shorter than 64>
//! --- <base64 HMAC-SHA-256(HKDF(file key, "", "header"), header up to "---")>
//! ```
//!
//! Base64 is canonical, without padding. Arguments are non-empty strings of
//! visible ASCII. Anything else is a malformed header. Parsing keeps the raw
//! bytes the MAC covers, so the MAC is checked over exactly what was read.
//!
//! This module knows syntax only: the relay uses it to check that an upload
//! starts like an age file, without linking any code that can open one.

use std::io::BufRead;

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use hmac::{KeyInit, Mac};

use crate::primitives::{FileKey, hkdf};

/// The first line of every age v1 file.
pub const VERSION_LINE: &str = "age-encryption.org/v1";
/// A header larger than this is refused before it is read further.
pub const MAX_HEADER_BYTES: usize = 64 * 1024;
const BODY_COLUMNS: usize = 64;
const MAC_LINE_PREFIX: &[u8] = b"---";

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// One recipient stanza: `-> tag args…` and a binary body.
#[derive(Clone, PartialEq, Eq)]
pub struct Stanza {
    /// The first argument: the recipient type, e.g. `X25519`.
    pub tag: String,
    /// The other arguments.
    pub args: Vec<String>,
    /// The decoded body.
    pub body: Vec<u8>,
}

impl std::fmt::Debug for Stanza {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Stanza({} {:?}, {} body bytes)",
            self.tag,
            self.args,
            self.body.len()
        )
    }
}

/// A parsed header: its stanzas, its MAC, and the bytes the MAC covers.
#[derive(Debug, Clone)]
pub struct Header {
    /// The recipient stanzas, in file order.
    pub stanzas: Vec<Stanza>,
    mac: [u8; 32],
    mac_input: Vec<u8>,
}

/// Why a header could not be read.
#[derive(Debug, thiserror::Error)]
pub enum HeaderError {
    /// The input does not start with the age v1 version line.
    #[error("not an age file (it must start with \"age-encryption.org/v1\")")]
    NotAge,
    /// An age file of a version sealtip does not read.
    #[error("unsupported age version")]
    UnsupportedVersion,
    /// The header breaks the age v1 syntax.
    #[error("malformed age header: {0}")]
    Malformed(&'static str),
    /// The header is larger than [`MAX_HEADER_BYTES`].
    #[error("age header larger than {MAX_HEADER_BYTES} bytes")]
    TooLarge,
    /// Reading the input failed.
    #[error("could not read the age header: {0}")]
    Io(#[from] std::io::Error),
}

impl Header {
    /// Reads a header from `input`, leaving `input` at the first payload byte.
    pub fn read(input: &mut impl BufRead) -> Result<Self, HeaderError> {
        let mut raw = Vec::new();
        let version = read_line(input, &mut raw)?;
        match version {
            None => return Err(HeaderError::NotAge),
            Some(line) if line == VERSION_LINE.as_bytes() => {}
            Some(line) if line.starts_with(b"age-encryption.org/") => {
                return Err(HeaderError::UnsupportedVersion);
            }
            Some(_) => return Err(HeaderError::NotAge),
        }
        let mut stanzas = Vec::new();
        loop {
            let line_start = raw.len();
            let line = read_line(input, &mut raw)?
                .ok_or(HeaderError::Malformed("header ends before its MAC line"))?;
            if let Some(rest) = line.strip_prefix(b"-> ") {
                let (tag, args) = parse_arguments(rest)?;
                let body = read_body(input, &mut raw)?;
                stanzas.push(Stanza { tag, args, body });
            } else if let Some(rest) = line.strip_prefix(MAC_LINE_PREFIX) {
                let encoded = rest
                    .strip_prefix(b" ")
                    .ok_or(HeaderError::Malformed("MAC line lacks its space"))?;
                let mac = decode_base64(encoded)
                    .map_err(|_| HeaderError::Malformed("MAC is not canonical base64"))?;
                let mac: [u8; 32] = mac
                    .try_into()
                    .map_err(|_| HeaderError::Malformed("MAC is not 32 bytes"))?;
                if stanzas.is_empty() {
                    return Err(HeaderError::Malformed("header has no recipient stanza"));
                }
                raw.truncate(line_start + MAC_LINE_PREFIX.len());
                return Ok(Header {
                    stanzas,
                    mac,
                    mac_input: raw,
                });
            } else {
                return Err(HeaderError::Malformed(
                    "line is neither a stanza nor the MAC",
                ));
            }
        }
    }

    /// Builds a header for `stanzas` with its MAC under `file_key`.
    pub fn new(stanzas: Vec<Stanza>, file_key: &FileKey) -> Self {
        let mut mac_input = Vec::new();
        mac_input.extend_from_slice(VERSION_LINE.as_bytes());
        mac_input.push(b'\n');
        for stanza in &stanzas {
            write_stanza(stanza, &mut mac_input);
        }
        mac_input.extend_from_slice(MAC_LINE_PREFIX);
        let mac = compute_mac(file_key, &mac_input);
        Header {
            stanzas,
            mac,
            mac_input,
        }
    }

    /// The header as it is written at the start of an age file.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.mac_input.clone();
        out.push(b' ');
        out.extend_from_slice(STANDARD_NO_PAD.encode(self.mac).as_bytes());
        out.push(b'\n');
        out
    }

    /// Whether the header MAC is right for `file_key` (constant time).
    pub fn mac_is_valid(&self, file_key: &FileKey) -> bool {
        let mut mac = header_mac(file_key);
        mac.update(&self.mac_input);
        mac.verify_slice(&self.mac).is_ok()
    }
}

fn header_mac(file_key: &FileKey) -> HmacSha256 {
    let key = zeroize::Zeroizing::new(hkdf(&[], b"header", file_key.expose()));
    // Invariant: HMAC accepts keys of any length.
    #[allow(clippy::expect_used)]
    <HmacSha256 as KeyInit>::new_from_slice(key.as_ref()).expect("HMAC takes any key length")
}

fn compute_mac(file_key: &FileKey, input: &[u8]) -> [u8; 32] {
    let mut mac = header_mac(file_key);
    mac.update(input);
    mac.finalize().into_bytes().into()
}

/// Reads one `\n`-terminated line into `raw` and returns it without the `\n`.
/// `None` at a clean end of input.
fn read_line<'a>(
    input: &mut impl BufRead,
    raw: &'a mut Vec<u8>,
) -> Result<Option<&'a [u8]>, HeaderError> {
    let start = raw.len();
    let budget = (MAX_HEADER_BYTES - start.min(MAX_HEADER_BYTES)) as u64;
    let read = std::io::Read::take(&mut *input, budget).read_until(b'\n', raw)?;
    if read == 0 {
        return if budget == 0 {
            Err(HeaderError::TooLarge)
        } else {
            Ok(None)
        };
    }
    if raw.last() != Some(&b'\n') {
        return if raw.len() >= MAX_HEADER_BYTES {
            Err(HeaderError::TooLarge)
        } else {
            Err(HeaderError::Malformed(
                "header ends in the middle of a line",
            ))
        };
    }
    Ok(Some(&raw[start..raw.len() - 1]))
}

fn parse_arguments(line: &[u8]) -> Result<(String, Vec<String>), HeaderError> {
    let mut args = Vec::new();
    for arg in line.split(|b| *b == b' ') {
        if arg.is_empty() {
            return Err(HeaderError::Malformed("empty stanza argument"));
        }
        if !arg.iter().all(|b| (33..=126).contains(b)) {
            return Err(HeaderError::Malformed(
                "stanza argument has a character outside visible ASCII",
            ));
        }
        // Invariant: visible ASCII is valid UTF-8.
        args.push(String::from_utf8_lossy(arg).into_owned());
    }
    let mut args = args.into_iter();
    let tag = args
        .next()
        .ok_or(HeaderError::Malformed("stanza has no type"))?;
    Ok((tag, args.collect()))
}

fn read_body(input: &mut impl BufRead, raw: &mut Vec<u8>) -> Result<Vec<u8>, HeaderError> {
    let mut encoded = Vec::new();
    loop {
        let line =
            read_line(input, raw)?.ok_or(HeaderError::Malformed("stanza body is missing"))?;
        if line.len() > BODY_COLUMNS {
            return Err(HeaderError::Malformed(
                "stanza body line longer than 64 columns",
            ));
        }
        encoded.extend_from_slice(line);
        if line.len() < BODY_COLUMNS {
            break;
        }
    }
    decode_base64(&encoded)
        .map_err(|_| HeaderError::Malformed("stanza body is not canonical base64"))
}

fn write_stanza(stanza: &Stanza, out: &mut Vec<u8>) {
    out.extend_from_slice(b"-> ");
    out.extend_from_slice(stanza.tag.as_bytes());
    for arg in &stanza.args {
        out.push(b' ');
        out.extend_from_slice(arg.as_bytes());
    }
    out.push(b'\n');
    let encoded = STANDARD_NO_PAD.encode(&stanza.body);
    let mut lines = encoded.as_bytes().chunks(BODY_COLUMNS).peekable();
    let mut last_len = 0;
    while let Some(line) = lines.next() {
        out.extend_from_slice(line);
        out.push(b'\n');
        last_len = line.len();
        if lines.peek().is_none() {
            break;
        }
    }
    // The body always ends with a line shorter than 64 columns, even if empty.
    if last_len == BODY_COLUMNS || encoded.is_empty() {
        out.push(b'\n');
    }
}

/// Canonical base64 without padding, as age requires everywhere in the header.
pub(crate) fn decode_base64(encoded: &[u8]) -> Result<Vec<u8>, base64::DecodeError> {
    STANDARD_NO_PAD.decode(encoded)
}

/// How a recipient stanza with one binary argument and a wrapped file key
/// can be malformed, in its own type's words.
#[cfg(feature = "open")]
pub(crate) struct StanzaShape {
    /// Not exactly one argument.
    pub arguments: &'static str,
    /// The argument is not canonical base64.
    pub base64: &'static str,
    /// The argument has the wrong length.
    pub length: &'static str,
    /// The body is not a 16-byte file key and its 16-byte tag.
    pub body: &'static str,
}

#[cfg(feature = "open")]
impl StanzaShape {
    /// The stanza's one argument, decoded: exactly `N` bytes; and a body of
    /// exactly 32 bytes. The checks every recipient type makes first.
    pub(crate) fn check<const N: usize>(&self, stanza: &Stanza) -> Result<[u8; N], HeaderError> {
        let [argument] = stanza.args.as_slice() else {
            return Err(HeaderError::Malformed(self.arguments));
        };
        let bytes =
            decode_base64(argument.as_bytes()).map_err(|_| HeaderError::Malformed(self.base64))?;
        let bytes: [u8; N] = bytes
            .try_into()
            .map_err(|_| HeaderError::Malformed(self.length))?;
        if stanza.body.len() != 32 {
            return Err(HeaderError::Malformed(self.body));
        }
        Ok(bytes)
    }
}

#[cfg(feature = "seal")]
pub(crate) fn encode_base64(bytes: &[u8]) -> String {
    STANDARD_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn stanza(tag: &str, body_len: usize) -> Stanza {
        Stanza {
            tag: tag.into(),
            args: vec!["arg".into()],
            body: vec![7; body_len],
        }
    }

    #[test]
    fn written_headers_parse_back_with_a_valid_mac() {
        let key = FileKey::from_bytes([1; 16]);
        for body_len in [0, 1, 47, 48, 49, 96, 200] {
            let header = Header::new(vec![stanza("test", body_len), stanza("other", 3)], &key);
            let bytes = header.to_bytes();
            let mut input = &bytes[..];
            let parsed = Header::read(&mut input).unwrap();
            assert_eq!(parsed.stanzas, header.stanzas, "body length {body_len}");
            assert!(parsed.mac_is_valid(&key));
            assert!(!parsed.mac_is_valid(&FileKey::from_bytes([2; 16])));
            assert!(input.is_empty());
        }
    }

    #[test]
    fn refuses_what_is_not_an_age_header() {
        let cases: &[(&[u8], &str)] = &[
            (b"", "not an age file"),
            (b"hello\n", "not an age file"),
            (b"age-encryption.org/v2\n", "unsupported age version"),
            (b"age-encryption.org/v1\n--- AAAA\n", "MAC is not 32 bytes"),
            (
                b"age-encryption.org/v1\n-> X25519 a\n",
                "stanza body is missing",
            ),
            (
                b"age-encryption.org/v1\n->  X25519\n\n",
                "empty stanza argument",
            ),
            (b"age-encryption.org/v1\n-> X25519", "middle of a line"),
        ];
        for (input, expected) in cases {
            let err = Header::read(&mut &input[..]).unwrap_err().to_string();
            assert!(
                err.contains(expected),
                "{:?}: {err}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn refuses_an_endless_header() {
        let mut input = b"age-encryption.org/v1\n-> a\n".to_vec();
        input.extend(std::iter::repeat_n(b'A', MAX_HEADER_BYTES));
        assert!(matches!(
            Header::read(&mut &input[..]),
            Err(HeaderError::TooLarge)
        ));
    }
}
