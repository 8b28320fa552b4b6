//! Writing a bundle as a stream: attachments, then `tip.json` and `tip.txt`,
//! then the end of the archive and the Padmé padding.

use std::io::{self, Read, Write};

use sha2::{Digest, Sha256};

use super::{ATTACHMENTS_DIR, Attachment, MetadataStatus, TIP_JSON, TIP_TXT, Tip, padme};

/// The longest attachment file name kept in the archive path, in bytes.
const MAX_NAME_BYTES: usize = 64;

/// Why a bundle could not be written.
#[derive(Debug, thiserror::Error)]
pub enum BundleWriteError {
    /// An attachment gave fewer or more bytes than its declared size.
    #[error("attachment {name:?} was {actual} bytes, not the {declared} declared")]
    SizeMismatch {
        /// The file name.
        name: String,
        /// The size declared before writing.
        declared: u64,
        /// The bytes actually read (or a lower bound, if it was longer).
        actual: u64,
    },
    /// An attachment was started and never finished; the archive is unusable.
    #[error("attachment {name:?} was started but not finished")]
    Unfinished {
        /// The file name.
        name: String,
    },
    /// Writing failed.
    #[error("could not write the tip bundle: {0}")]
    Io(#[from] io::Error),
}

/// An attachment about to be written.
#[derive(Debug, Clone)]
pub struct NewAttachment<'a> {
    /// The file name on the tipster's device.
    pub name: &'a str,
    /// Its media type.
    pub media_type: &'a str,
    /// Its exact size in bytes.
    pub size: u64,
    /// What happened to its metadata.
    pub metadata: MetadataStatus,
    /// What was removed, in words.
    pub removed: Vec<String>,
}

/// Writes a tip bundle to `W` (usually a sealing [`crate::stream::StreamWriter`]).
pub struct BundleWriter<W: Write> {
    tar: tar::Builder<CountingWriter<W>>,
    attachments: Vec<Attachment>,
    /// The name of an attachment begun and not yet finished.
    unfinished: Option<String>,
}

impl<W: Write> BundleWriter<W> {
    /// Starts a bundle.
    pub fn new(output: W) -> Self {
        let mut tar = tar::Builder::new(CountingWriter {
            inner: output,
            count: 0,
        });
        tar.mode(tar::HeaderMode::Deterministic);
        BundleWriter {
            tar,
            attachments: Vec::new(),
            unfinished: None,
        }
    }

    /// Streams one attachment of exactly `attachment.size` bytes from `data`.
    pub fn add_attachment(
        &mut self,
        attachment: NewAttachment<'_>,
        data: &mut dyn Read,
    ) -> Result<(), BundleWriteError> {
        let size = attachment.size;
        let mut writer = self.begin_attachment(attachment)?;
        io::copy(&mut data.take(size), &mut writer)?;
        let mut probe = [0u8; 1];
        if data.read(&mut probe)? > 0 {
            writer.overrun = true;
        }
        writer.finish()
    }

    /// Starts one attachment of exactly `attachment.size` bytes, to be
    /// written through the returned writer and ended with
    /// [`AttachmentWriter::finish`]. This is how a caller that gets its
    /// data in pieces (the browser reads files in slices) streams it.
    pub fn begin_attachment(
        &mut self,
        attachment: NewAttachment<'_>,
    ) -> Result<AttachmentWriter<'_, W>, BundleWriteError> {
        self.check_finished()?;
        let path = attachment_path(self.attachments.len() + 1, attachment.name);
        let header = file_header(&path, attachment.size)?;
        self.unfinished = Some(attachment.name.to_string());
        self.tar.get_mut().write_all(header.as_bytes())?;
        Ok(AttachmentWriter {
            attachment: Attachment {
                path,
                name: attachment.name.to_string(),
                media_type: attachment.media_type.to_string(),
                size: attachment.size,
                sha256: String::new(),
                metadata: attachment.metadata,
                removed: attachment.removed,
            },
            hasher: Sha256::new(),
            written: 0,
            overrun: false,
            bundle: self,
        })
    }

    /// Writes `tip.json` and `tip.txt` for `tip` (its attachment list is
    /// replaced by the attachments written), ends the archive, pads it, and
    /// returns the output writer with the tip as written.
    pub fn finish(mut self, mut tip: Tip) -> Result<(W, Tip), BundleWriteError> {
        self.check_finished()?;
        tip.attachments = std::mem::take(&mut self.attachments);
        // Invariant: the tip types hold only strings, numbers and enums, which
        // always serialise.
        #[allow(clippy::expect_used)]
        let json = serde_json::to_vec_pretty(&tip).expect("tip serialises");
        let text = tip.to_text();
        self.tar
            .append(&file_header(TIP_JSON, json.len() as u64)?, json.as_slice())?;
        self.tar
            .append(&file_header(TIP_TXT, text.len() as u64)?, text.as_bytes())?;
        let mut counting = self.tar.into_inner()?;
        let padding = padme(counting.count) - counting.count;
        io::copy(&mut io::repeat(0).take(padding), &mut counting)?;
        Ok((counting.inner, tip))
    }
}

impl<W: Write> BundleWriter<W> {
    fn check_finished(&self) -> Result<(), BundleWriteError> {
        match &self.unfinished {
            Some(name) => Err(BundleWriteError::Unfinished { name: name.clone() }),
            None => Ok(()),
        }
    }
}

fn file_header(path: &str, size: u64) -> io::Result<tar::Header> {
    let mut header = tar::Header::new_ustar();
    header.set_path(path)?;
    header.set_size(size);
    header.set_mode(0o644);
    header.set_mtime(0);
    header.set_entry_type(tar::EntryType::Regular);
    header.set_cksum();
    Ok(header)
}

/// `attachments/NN-name.ext`: `name` reduced to letters, digits, `.`, `-`
/// and `_`, without leading dots, at most [`MAX_NAME_BYTES`] bytes, keeping
/// its extension.
pub(crate) fn attachment_path(index: usize, name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let cleaned = cleaned.trim_start_matches('.');
    let cleaned = if cleaned.is_empty() { "file" } else { cleaned };
    let (stem, extension) = match cleaned.rfind('.') {
        Some(dot) if dot > 0 && cleaned.len() - dot <= 10 => cleaned.split_at(dot),
        _ => (cleaned, ""),
    };
    let mut stem = stem.to_string();
    while stem.len() + extension.len() > MAX_NAME_BYTES {
        stem.pop();
    }
    format!("{ATTACHMENTS_DIR}{index:02}-{stem}{extension}")
}

/// One attachment being written: hashes and counts what passes, refuses
/// more than the declared size, and on [`AttachmentWriter::finish`] checks
/// the size, pads the archive entry and records the attachment.
pub struct AttachmentWriter<'a, W: Write> {
    bundle: &'a mut BundleWriter<W>,
    attachment: Attachment,
    hasher: Sha256,
    written: u64,
    overrun: bool,
}

impl<W: Write> AttachmentWriter<'_, W> {
    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Ends the attachment; an error if it got fewer or more bytes than declared.
    pub fn finish(self) -> Result<(), BundleWriteError> {
        let AttachmentWriter {
            bundle,
            mut attachment,
            hasher,
            written,
            overrun,
        } = self;
        if written != attachment.size || overrun {
            return Err(BundleWriteError::SizeMismatch {
                name: attachment.name,
                declared: attachment.size,
                actual: written + u64::from(overrun),
            });
        }
        let tail = (BLOCK - written % BLOCK) % BLOCK;
        bundle
            .tar
            .get_mut()
            .write_all(&[0; BLOCK as usize][..tail as usize])?;
        attachment.sha256 = hex::encode(hasher.finalize());
        bundle.attachments.push(attachment);
        bundle.unfinished = None;
        Ok(())
    }
}

impl<W: Write> Write for AttachmentWriter<'_, W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let room = self.attachment.size - self.written;
        if data.len() as u64 > room {
            self.overrun = true;
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "more bytes than the attachment's declared size",
            ));
        }
        let n = self.bundle.tar.get_mut().write(data)?;
        self.hasher.update(&data[..n]);
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.bundle.tar.get_mut().flush()
    }
}

/// The tar block size: every entry's data is padded to a multiple of it.
const BLOCK: u64 = 512;

struct CountingWriter<W> {
    inner: W,
    count: u64,
}

impl<W: Write> Write for CountingWriter<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(data)?;
        self.count += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn attachment_paths_are_safe_and_keep_the_extension() {
        assert_eq!(attachment_path(1, "photo.jpg"), "attachments/01-photo.jpg");
        assert_eq!(
            attachment_path(2, "../../etc/passwd"),
            "attachments/02-_.._etc_passwd"
        );
        assert_eq!(attachment_path(3, ".hidden"), "attachments/03-hidden");
        assert_eq!(attachment_path(4, ""), "attachments/04-file");
        assert_eq!(
            attachment_path(5, "Фото с места.jpeg"),
            "attachments/05-Фото_с_места.jpeg"
        );
        let long = format!("{}.png", "a".repeat(300));
        let path = attachment_path(6, &long);
        assert!(path.ends_with("aaa.png"));
        assert!(path.len() <= "attachments/06-".len() + MAX_NAME_BYTES);
    }
}
