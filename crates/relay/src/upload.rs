//! Receiving a sealed upload: checked as it streams, never held whole.
//!
//! The body must start with a well-formed age v1 header (version line,
//! stanzas, MAC line), checked with the envelope's header parser, which knows
//! syntax only. What follows must have a length an age payload can have: a
//! 16-byte nonce, then chunks of 64 KiB + 16 bytes, the last one 16 to
//! 64 KiB + 16 bytes (16 only when it is the only chunk). Nothing more can be
//! checked without the key, which the relay never has.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::StatusCode;
use futures_util::StreamExt;
use sealtip_envelope::is_payload_length;
use sealtip_envelope::{Header, HeaderError, MAX_HEADER_BYTES};
use tokio::time::{Instant, timeout_at};

use crate::error::ApiError;
use crate::store::Upload;

/// After refusing a body, read and discard at most this much of the rest, so
/// the client sees the answer instead of a reset connection.
const DRAIN_BYTES: u64 = 1024 * 1024;
const DRAIN_TIME: Duration = Duration::from_secs(2);

/// Limits for one upload.
pub struct UploadLimits {
    /// Most bytes accepted.
    pub max_bytes: u64,
    /// Longest silence between two pieces of the body.
    pub idle: Duration,
    /// Longest whole upload.
    pub total: Duration,
}

/// Streams `body` into `upload`, checking it as it goes.
pub async fn receive<U: Upload>(
    body: Body,
    upload: &mut U,
    limits: &UploadLimits,
) -> Result<(), ApiError> {
    let too_large = ApiError::too_large(limits.max_bytes);
    let received = stream_checked(body, upload, limits, true, limits.max_bytes, too_large).await?;
    let Some(header_len) = received.header_len else {
        // The body ended inside the header: say what the parser says.
        check_header(&received.cut)?;
        return Err(ApiError::bad_request("not an age file: truncated header"));
    };
    check_payload_length(received.total - header_len)
}

/// Streams one part of an upload session into `part`; the part starts at
/// byte `offset` of the sealed file and may hold `part_max` bytes. The part
/// at offset 0 must hold the whole age header: answers its length then.
pub async fn receive_part<U: Upload>(
    body: Body,
    part: &mut U,
    offset: u64,
    limits: &UploadLimits,
    part_max: u64,
) -> Result<Option<u64>, ApiError> {
    let room = limits.max_bytes.saturating_sub(offset);
    let (max_bytes, too_large) = if part_max < room {
        (part_max, ApiError::part_too_large(part_max))
    } else {
        (room, ApiError::too_large(limits.max_bytes))
    };
    let first = offset == 0;
    let received = stream_checked(body, part, limits, first, max_bytes, too_large).await?;
    if !first {
        return Ok(None);
    }
    match received.header_len {
        Some(len) => Ok(Some(len)),
        None => Err(first_part_error(&received.cut)),
    }
}

/// 400 unless `n` bytes after the header can be an age payload.
pub fn check_payload_length(n: u64) -> Result<(), ApiError> {
    if is_payload_length(n) {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "truncated age file: the payload length is impossible",
        ))
    }
}

/// What a checked stream held.
struct Streamed {
    /// Bytes.
    total: u64,
    /// The age header's length, when checked and whole.
    header_len: Option<u64>,
    /// When checked and cut short: the header's start.
    cut: Vec<u8>,
}

/// Streams `body` into `upload` within `limits` and `max_bytes` (else
/// `too_large`), checking the age header at its start if `check_start`;
/// after a refusal, reads a little of the rest so the client sees the answer.
async fn stream_checked<U: Upload>(
    body: Body,
    upload: &mut U,
    limits: &UploadLimits,
    check_start: bool,
    max_bytes: u64,
    too_large: ApiError,
) -> Result<Streamed, ApiError> {
    let mut stream = body.into_data_stream();
    let result = stream_into(
        &mut stream,
        upload,
        limits,
        check_start,
        max_bytes,
        too_large,
    )
    .await;
    if let Err(error) = &result
        && error.status != StatusCode::REQUEST_TIMEOUT
    {
        drain(&mut stream).await;
    }
    result
}

/// Reads and drops a little of a body the relay refuses before reading it,
/// so the client sees the answer instead of a reset connection.
pub async fn discard(body: Body) {
    drain(&mut body.into_data_stream()).await;
}

async fn stream_into<U: Upload>(
    stream: &mut axum::body::BodyDataStream,
    upload: &mut U,
    limits: &UploadLimits,
    check_start: bool,
    max_bytes: u64,
    too_large: ApiError,
) -> Result<Streamed, ApiError> {
    let deadline = Instant::now() + limits.total;
    let mut header = HeaderScan::default();
    let mut header_len = None;
    let mut total = 0u64;
    while let Some(chunk) = next_chunk(stream, limits.idle, deadline).await? {
        total += chunk.len() as u64;
        if total > max_bytes {
            return Err(too_large);
        }
        if header_len.is_some() || !check_start {
            upload.write(&chunk).await?;
            continue;
        }
        if let Some(end) = header.push(&chunk) {
            check_header(&header.bytes[..end])?;
            header_len = Some(end as u64);
            upload.write(&header.bytes).await?;
            header.bytes = Vec::new();
        } else if header.bytes.len() > MAX_HEADER_BYTES {
            return Err(ApiError::bad_request(format!(
                "not an age file: header larger than {MAX_HEADER_BYTES} bytes"
            )));
        }
    }
    Ok(Streamed {
        total,
        header_len,
        cut: header.bytes,
    })
}

/// 400 for a first part that ends inside the age header: the parser's
/// reason when what came cannot start a header, else that the header must
/// be whole.
fn first_part_error(bytes: &[u8]) -> ApiError {
    let cut = match bytes.iter().rposition(|b| *b == b'\n') {
        // Not one whole line: the start of the version line, or not age.
        None => b"age-encryption.org/v1\n".starts_with(bytes),
        // Whole lines: cut if the parser only ran out of them.
        Some(last) => {
            let mut input =
                std::io::BufReader::new(std::io::Read::chain(&bytes[..=last], CutShort));
            matches!(Header::read(&mut input), Err(HeaderError::Io(_)))
        }
    };
    if cut {
        ApiError::bad_request("not an age file: the first part must hold the whole age header")
    } else {
        match check_header(bytes) {
            Err(error) => error,
            Ok(()) => ApiError::bad_request("not an age file: truncated header"),
        }
    }
}

/// A reader that has run out: what comes after a cut.
struct CutShort;

impl std::io::Read for CutShort {
    fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
        Err(std::io::ErrorKind::UnexpectedEof.into())
    }
}

fn check_header(bytes: &[u8]) -> Result<(), ApiError> {
    let mut input = bytes;
    Header::read(&mut input)
        .map(|_| ())
        .map_err(|e| ApiError::bad_request(format!("not an age file: {e}")))
}

async fn next_chunk(
    stream: &mut axum::body::BodyDataStream,
    idle: Duration,
    deadline: Instant,
) -> Result<Option<Bytes>, ApiError> {
    let until = deadline.min(Instant::now() + idle);
    match timeout_at(until, stream.next()).await {
        Err(_) => Err(ApiError::too_slow()),
        Ok(None) => Ok(None),
        Ok(Some(Ok(chunk))) => Ok(Some(chunk)),
        Ok(Some(Err(_))) => Err(ApiError::bad_request(
            "the request body ended early or was malformed",
        )),
    }
}

async fn drain(stream: &mut axum::body::BodyDataStream) {
    let deadline = Instant::now() + DRAIN_TIME;
    let mut read = 0u64;
    while read < DRAIN_BYTES {
        match timeout_at(deadline, stream.next()).await {
            Ok(Some(Ok(chunk))) => read += chunk.len() as u64,
            _ => return,
        }
    }
}

/// Finds the end of the age header (the line after `---`) in pieces, in
/// linear time however the body is split.
#[derive(Default)]
struct HeaderScan {
    bytes: Vec<u8>,
    line_start: usize,
    scanned: usize,
}

impl HeaderScan {
    /// Adds a piece; returns the header's length once its MAC line is complete.
    fn push(&mut self, piece: &[u8]) -> Option<usize> {
        self.bytes.extend_from_slice(piece);
        while let Some(offset) = self.bytes[self.scanned..].iter().position(|b| *b == b'\n') {
            let end = self.scanned + offset + 1;
            // Stanza lines start with "->", body lines are base64: only the
            // MAC line starts with "---".
            if self.bytes[self.line_start..end].starts_with(b"---") {
                return Some(end);
            }
            self.line_start = end;
            self.scanned = end;
        }
        self.scanned = self.bytes.len();
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_first_part_cut_in_the_header_is_told_apart_from_one_that_is_not_age() {
        let header = "age-encryption.org/v1\n-> X25519 abc\nAAAA\n--- bWFj\n";
        for cut in 0..header.len() {
            let error = first_part_error(&header.as_bytes()[..cut]);
            assert!(
                error.message.contains("whole age header"),
                "{cut}: {}",
                error.message
            );
        }
        for not_age in [
            "hello",
            "age-encryption.org/v2\n",
            "age-encryption.org/v1\nnonsense\n",
        ] {
            let error = first_part_error(not_age.as_bytes());
            assert_eq!(error.status, StatusCode::BAD_REQUEST);
            assert!(!error.message.contains("whole age header"), "{not_age}");
            assert!(
                error.message.starts_with("not an age file"),
                "{}",
                error.message
            );
        }
    }

    #[test]
    fn the_header_end_is_found_however_the_body_is_split() {
        let header = b"age-encryption.org/v1\n-> X25519 abc\nAAAA\n--- bWFj\npayload";
        let end = header.len() - "payload".len();
        for split in 1..header.len() {
            let mut scan = HeaderScan::default();
            let found = header.chunks(split).find_map(|piece| scan.push(piece));
            assert_eq!(found, Some(end), "split {split}");
        }
        let mut scan = HeaderScan::default();
        assert_eq!(scan.push(b"age-encryption.org/v1\n-> X"), None);
    }
}
