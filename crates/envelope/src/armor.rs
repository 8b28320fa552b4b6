//! ASCII armor, as age writes it with `-a`: strict PEM.
//!
//! ```text
//! -----BEGIN AGE ENCRYPTED FILE-----
//! <standard base64 with padding, 64 columns a line, the last line 1 to 64>
//! -----END AGE ENCRYPTED FILE-----
//! ```
//!
//! Lines end in LF or CRLF. Whitespace may surround the armor; nothing else
//! may. No headers, no empty lines, no spaces inside, canonical base64.
//! Decoding streams line by line.

use std::io::{self, BufRead, Read};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// The armor's first line.
pub const BEGIN: &str = "-----BEGIN AGE ENCRYPTED FILE-----";
/// The armor's last line.
pub const END: &str = "-----END AGE ENCRYPTED FILE-----";
const COLUMNS: usize = 64;
/// The longest line read: a full data line and CRLF, with room to spare.
const MAX_LINE: u64 = 128;

/// Why armored input could not be decoded. Carried inside `io::Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid ASCII armor: {0}")]
pub struct ArmorError(pub &'static str);

impl ArmorError {
    /// The armor error inside an `io::Error` from [`ArmoredReader`], if any.
    pub fn from_io(err: &io::Error) -> Option<ArmorError> {
        err.get_ref()?.downcast_ref::<ArmorError>().copied()
    }
}

fn fail(reason: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, ArmorError(reason))
}

/// Whether `start` (the first bytes of an input) should be read as armor:
/// a binary age file always starts with its version line, so anything else
/// that holds a PEM-like line is treated as armor (and then held to the
/// strict rules, so garbage around it is reported as broken armor).
pub fn is_armored(start: &[u8]) -> bool {
    !start.starts_with(b"age-encryption.org/") && start.windows(5).any(|w| w == b"-----")
}

/// Decodes armored input as it is read.
pub struct ArmoredReader<R: BufRead> {
    inner: R,
    state: State,
    line: Vec<u8>,
    decoded: Vec<u8>,
    decoded_pos: usize,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Start,
    Body,
    /// The last, short data line was read: only the end line may follow.
    AfterLastLine,
    Done,
}

impl<R: BufRead> ArmoredReader<R> {
    /// Wraps armored input.
    pub fn new(inner: R) -> Self {
        ArmoredReader {
            inner,
            state: State::Start,
            line: Vec::with_capacity(MAX_LINE as usize),
            decoded: Vec::with_capacity(48),
            decoded_pos: 0,
        }
    }

    /// Reads one line without its LF or CRLF. `false` at the end of input.
    fn read_line(&mut self) -> io::Result<bool> {
        self.line.clear();
        let n = (&mut self.inner)
            .take(MAX_LINE)
            .read_until(b'\n', &mut self.line)?;
        if n == 0 {
            return Ok(false);
        }
        if self.line.last() == Some(&b'\n') {
            self.line.pop();
            if self.line.last() == Some(&b'\r') {
                self.line.pop();
            }
        } else if n as u64 == MAX_LINE {
            return Err(fail("line too long"));
        }
        Ok(true)
    }

    fn skip_leading_whitespace(&mut self) -> io::Result<()> {
        loop {
            let buf = self.inner.fill_buf()?;
            if buf.is_empty() {
                return Ok(());
            }
            let skip = buf
                .iter()
                .position(|b| !b.is_ascii_whitespace())
                .unwrap_or(buf.len());
            let done = skip < buf.len();
            self.inner.consume(skip);
            if done {
                return Ok(());
            }
        }
    }

    fn expect_only_whitespace(&mut self) -> io::Result<()> {
        let mut buf = [0u8; 4096];
        loop {
            let n = self.inner.read(&mut buf)?;
            if n == 0 {
                return Ok(());
            }
            if !buf[..n].iter().all(u8::is_ascii_whitespace) {
                return Err(fail("data after the end line"));
            }
        }
    }

    /// Advances until decoded bytes are available or the armor ended.
    fn advance(&mut self) -> io::Result<()> {
        loop {
            match self.state {
                State::Done => return Ok(()),
                State::Start => {
                    self.skip_leading_whitespace()?;
                    if !self.read_line()? || self.line != BEGIN.as_bytes() {
                        return Err(fail("missing or wrong begin line"));
                    }
                    self.state = State::Body;
                }
                State::Body | State::AfterLastLine => {
                    if !self.read_line()? {
                        return Err(fail("missing end line"));
                    }
                    if self.line == END.as_bytes() {
                        self.expect_only_whitespace()?;
                        self.state = State::Done;
                        return Ok(());
                    }
                    if self.state == State::AfterLastLine {
                        return Err(fail("a short line must be the last line"));
                    }
                    if self.line.is_empty() || self.line.len() > COLUMNS {
                        return Err(fail("a line is empty or longer than 64 columns"));
                    }
                    let padded = self.line.contains(&b'=');
                    if self.line.len() < COLUMNS || padded {
                        self.state = State::AfterLastLine;
                    }
                    self.decoded.clear();
                    self.decoded_pos = 0;
                    STANDARD
                        .decode_vec(&self.line, &mut self.decoded)
                        .map_err(|_| fail("not canonical base64"))?;
                    if !self.decoded.is_empty() {
                        return Ok(());
                    }
                }
            }
        }
    }
}

impl<R: BufRead> Read for ArmoredReader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        if self.decoded_pos == self.decoded.len() {
            self.advance()?;
        }
        let n = out.len().min(self.decoded.len() - self.decoded_pos);
        out[..n].copy_from_slice(&self.decoded[self.decoded_pos..self.decoded_pos + n]);
        self.decoded_pos += n;
        Ok(n)
    }
}

#[cfg(feature = "seal")]
pub use writer::ArmoredWriter;

#[cfg(feature = "seal")]
mod writer {
    use super::*;
    use std::io::Write;

    /// Armors what is written to it. Call [`ArmoredWriter::finish`] at the end.
    pub struct ArmoredWriter<W: Write> {
        inner: W,
        pending: Vec<u8>,
    }

    impl<W: Write> ArmoredWriter<W> {
        /// Writes the begin line and starts armoring.
        pub fn new(mut inner: W) -> io::Result<Self> {
            inner.write_all(BEGIN.as_bytes())?;
            inner.write_all(b"\n")?;
            Ok(ArmoredWriter {
                inner,
                pending: Vec::with_capacity(48),
            })
        }

        /// Writes the last line and the end line; returns the inner writer.
        pub fn finish(mut self) -> io::Result<W> {
            if !self.pending.is_empty() {
                let line = STANDARD.encode(&self.pending);
                self.inner.write_all(line.as_bytes())?;
                self.inner.write_all(b"\n")?;
            }
            self.inner.write_all(END.as_bytes())?;
            self.inner.write_all(b"\n")?;
            self.inner.flush()?;
            Ok(self.inner)
        }
    }

    impl<W: Write> Write for ArmoredWriter<W> {
        fn write(&mut self, data: &[u8]) -> io::Result<usize> {
            // 48 bytes are one full 64-column line.
            let take = data.len().min(48 - self.pending.len());
            self.pending.extend_from_slice(&data[..take]);
            if self.pending.len() == 48 {
                let line = STANDARD.encode(&self.pending);
                self.inner.write_all(line.as_bytes())?;
                self.inner.write_all(b"\n")?;
                self.pending.clear();
            }
            Ok(take)
        }

        fn flush(&mut self) -> io::Result<()> {
            self.inner.flush()
        }
    }
}
