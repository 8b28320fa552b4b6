//! Writing a bundle as a stream: attachments, then `tip.json` and `tip.txt`,
//! then the end of the archive and the Padmé padding.

use std::io::{self, Read, Write};

use sha2::{Digest, Sha256};

use super::{
    ATTACHMENTS_DIR, Attachment, Kind, MetadataStatus, OpenedTip, TIP_JSON, TIP_MAC, TIP_TXT, Tip,
    padme,
};
use crate::proof::ThreadKey;

/// Every bundle is at least this long before Padmé, so that text-only tips
/// and messages all seal to one size.
pub const MIN_PLAINTEXT_BYTES: u64 = 64 * 1024;

/// What `removed` says when the device's file name was left out.
pub const FILE_NAME_REMOVED: &str = "file name";

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
    /// A follow-up or reply names a thread but was given no thread key to
    /// prove it with.
    #[error("this item names a thread but no thread key was given to prove it")]
    MissingThreadKey,
    /// A case item sealed with a follow-up's proof, or another item with a
    /// case item's proof.
    #[error("a case item, and only a case item, is proven with the thread's case key")]
    WrongProof,
    /// The tip's reply details carry a thread key that is not 64 hex digits.
    #[error("the reply's thread key is not 64 lowercase hex digits")]
    BadThreadKey,
    /// An attachment begun with [`BundleWriter::begin_attachment_hashed_apart`]
    /// was never given its SHA-256.
    #[error("attachment {path:?} was not given its SHA-256")]
    MissingDigest {
        /// Its path in the bundle (`attachments/01.mp4`).
        path: String,
    },
    /// A SHA-256 was given for an attachment that does not wait for one
    /// (there is no such attachment, the bundle hashed it, or it was given).
    #[error("attachment number {index} does not wait for a SHA-256")]
    UnexpectedDigest {
        /// Its index, from 0 in the order written.
        index: usize,
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
    /// Keep the device's file name in `tip.json` (it often holds a date, a
    /// place or a person's name). When false it is removed and listed in
    /// `removed` as [`FILE_NAME_REMOVED`].
    pub keep_name: bool,
}

/// Writes a tip bundle to `W` (usually a sealing [`crate::stream::StreamWriter`]).
pub struct BundleWriter<W: Write> {
    tar: tar::Builder<CountingWriter<W>>,
    attachments: Vec<Attachment>,
    /// For each attachment, in order: whether its SHA-256 is still to come
    /// from [`BundleWriter::set_sha256`].
    awaiting_digest: Vec<bool>,
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
            awaiting_digest: Vec::new(),
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
        self.begin(attachment, Some(Sha256::new()))
    }

    /// Like [`BundleWriter::begin_attachment`], for a caller that takes the
    /// attachment's SHA-256 itself, of the same bytes, on another thread
    /// (the page seals on one core and hashes on another), and gives it to
    /// [`BundleWriter::set_sha256`] before the bundle is finished.
    pub fn begin_attachment_hashed_apart(
        &mut self,
        attachment: NewAttachment<'_>,
    ) -> Result<AttachmentWriter<'_, W>, BundleWriteError> {
        self.begin(attachment, None)
    }

    /// Gives the SHA-256 of the attachment `index` (from 0, in the order
    /// written), begun with [`BundleWriter::begin_attachment_hashed_apart`]
    /// and finished. `tip.json` lists it; `sealtip open` and every reader of
    /// the bundle refuse an attachment whose bytes do not match it.
    pub fn set_sha256(&mut self, index: usize, digest: [u8; 32]) -> Result<(), BundleWriteError> {
        match self.awaiting_digest.get_mut(index) {
            Some(awaiting) if *awaiting => {
                *awaiting = false;
                self.attachments[index].sha256 = hex::encode(digest);
                Ok(())
            }
            _ => Err(BundleWriteError::UnexpectedDigest { index }),
        }
    }

    /// The attachments finished so far.
    pub fn attachments_written(&self) -> usize {
        self.attachments.len()
    }

    fn begin(
        &mut self,
        attachment: NewAttachment<'_>,
        hasher: Option<Sha256>,
    ) -> Result<AttachmentWriter<'_, W>, BundleWriteError> {
        self.check_finished()?;
        let path = attachment_path(
            self.attachments.len() + 1,
            attachment.name,
            attachment.media_type,
        );
        let header = file_header(&path, attachment.size)?;
        self.unfinished = Some(attachment.name.to_string());
        self.tar.get_mut().write_all(header.as_bytes())?;
        let mut removed = attachment.removed;
        let name = if attachment.keep_name {
            attachment.name.to_string()
        } else {
            if !attachment.name.is_empty() {
                removed.push(FILE_NAME_REMOVED.to_string());
            }
            String::new()
        };
        Ok(AttachmentWriter {
            attachment: Attachment {
                path,
                name,
                media_type: attachment.media_type.to_string(),
                size: attachment.size,
                sha256: String::new(),
                metadata: attachment.metadata,
                removed,
            },
            hasher,
            written: 0,
            overrun: false,
            bundle: self,
        })
    }

    /// Writes `tip.json`, its proof `tip.mac` when the tip offers replies
    /// (proved with the thread key in its reply details), and `tip.txt`
    /// (its attachment list is replaced by the attachments written); ends
    /// the archive, pads it, and returns the output writer with the tip as
    /// written: exactly what opening it gives. A follow-up or a reply, which
    /// names a thread, needs [`BundleWriter::finish_in_thread`].
    pub fn finish(self, tip: Tip) -> Result<(W, OpenedTip), BundleWriteError> {
        let key = match &tip.reply {
            Some(reply) => match &reply.thread_key {
                Some(hex) => {
                    Some(ThreadKey::from_hex(hex).map_err(|_| BundleWriteError::BadThreadKey)?)
                }
                None => None,
            },
            None if tip.thread.is_some() => return Err(BundleWriteError::MissingThreadKey),
            None => None,
        };
        self.finish_with(tip, key.as_ref().map(Proof::Thread))
    }

    /// Like [`BundleWriter::finish`], for an item of the thread whose key is
    /// `key` (a tipster's follow-up, an agency's reply): `tip.mac` proves it.
    pub fn finish_in_thread(
        self,
        tip: Tip,
        key: &ThreadKey,
    ) -> Result<(W, OpenedTip), BundleWriteError> {
        self.finish_with(tip, Some(Proof::Thread(key)))
    }

    /// Like [`BundleWriter::finish`], for a case item of the thread whose
    /// key is `key`: `tip.mac` is the thread's case proof.
    pub fn finish_case(
        self,
        tip: Tip,
        key: &ThreadKey,
    ) -> Result<(W, OpenedTip), BundleWriteError> {
        self.finish_with(tip, Some(Proof::Case(key)))
    }

    fn finish_with(
        mut self,
        mut tip: Tip,
        proof: Option<Proof<'_>>,
    ) -> Result<(W, OpenedTip), BundleWriteError> {
        self.check_finished()?;
        if let Some(index) = self.awaiting_digest.iter().position(|awaiting| *awaiting) {
            let path = self.attachments[index].path.clone();
            return Err(BundleWriteError::MissingDigest { path });
        }
        if (tip.kind == Kind::Case) != matches!(proof, Some(Proof::Case(_))) {
            return Err(BundleWriteError::WrongProof);
        }
        tip.attachments = std::mem::take(&mut self.attachments);
        // Invariant: the tip types hold only strings, numbers and enums, which
        // always serialise.
        #[allow(clippy::expect_used)]
        let json = serde_json::to_vec_pretty(&tip).expect("tip serialises");
        let text = tip.to_text();
        self.tar
            .append(&file_header(TIP_JSON, json.len() as u64)?, json.as_slice())?;
        let mac = proof.map(|proof| match proof {
            Proof::Thread(key) => key.proof(&json),
            Proof::Case(key) => key.case_proof(&json),
        });
        if let Some(mac) = &mac {
            let line = format!("{}\n", hex::encode(mac));
            self.tar
                .append(&file_header(TIP_MAC, line.len() as u64)?, line.as_bytes())?;
        }
        self.tar
            .append(&file_header(TIP_TXT, text.len() as u64)?, text.as_bytes())?;
        let mut counting = self.tar.into_inner()?;
        let padding = padme(counting.count.max(MIN_PLAINTEXT_BYTES)) - counting.count;
        io::copy(&mut io::repeat(0).take(padding), &mut counting)?;
        let written = OpenedTip {
            tip,
            text: Some(text),
            json,
            mac,
        };
        Ok((counting.inner, written))
    }
}

/// Which proof `tip.mac` holds.
#[derive(Clone, Copy)]
enum Proof<'a> {
    /// A tip's, follow-up's or reply's: [`ThreadKey::proof`].
    Thread(&'a ThreadKey),
    /// A case item's: [`ThreadKey::case_proof`].
    Case(&'a ThreadKey),
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

/// `attachments/NN.ext`: the number and an extension only (the device's
/// file name can tell who or where). The extension is the name's, if it is
/// 1 to 8 ASCII letters or digits, else one for the media type, else none.
pub(crate) fn attachment_path(index: usize, name: &str, media_type: &str) -> String {
    let from_name = name
        .rsplit_once('.')
        .map(|(stem, ext)| (stem, ext.to_ascii_lowercase()))
        .filter(|(stem, ext)| {
            !stem.is_empty()
                && (1..=8).contains(&ext.len())
                && ext.bytes().all(|b| b.is_ascii_alphanumeric())
        })
        .map(|(_, ext)| ext);
    let extension = from_name.or_else(|| extension_for(media_type).map(str::to_string));
    match extension {
        Some(ext) => format!("{ATTACHMENTS_DIR}{index:02}.{ext}"),
        None => format!("{ATTACHMENTS_DIR}{index:02}"),
    }
}

fn extension_for(media_type: &str) -> Option<&'static str> {
    Some(match media_type {
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "image/webp" => "webp",
        "image/gif" => "gif",
        "image/heic" => "heic",
        "video/mp4" => "mp4",
        "video/quicktime" => "mov",
        "video/webm" => "webm",
        "audio/mpeg" => "mp3",
        "audio/mp4" => "m4a",
        "audio/ogg" => "ogg",
        "application/pdf" => "pdf",
        "text/plain" => "txt",
        _ => return None,
    })
}

/// One attachment being written: hashes (unless its caller does) and counts
/// what passes, refuses more than the declared size, and on
/// [`AttachmentWriter::finish`] checks the size, pads the archive entry and
/// records the attachment.
pub struct AttachmentWriter<'a, W: Write> {
    bundle: &'a mut BundleWriter<W>,
    attachment: Attachment,
    /// `None` when the caller hashes apart.
    hasher: Option<Sha256>,
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
        let hashed_apart = hasher.is_none();
        if let Some(hasher) = hasher {
            attachment.sha256 = hex::encode(hasher.finalize());
        }
        bundle.awaiting_digest.push(hashed_apart);
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
        if let Some(hasher) = &mut self.hasher {
            hasher.update(&data[..n]);
        }
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
    fn attachment_paths_hold_a_number_and_an_extension_only() {
        assert_eq!(
            attachment_path(1, "IMG_20261206_1432.JPG", "image/jpeg"),
            "attachments/01.jpg"
        );
        assert_eq!(
            attachment_path(2, "../../etc/passwd", "text/plain"),
            "attachments/02.txt"
        );
        assert_eq!(
            attachment_path(3, ".hidden", "application/x-y"),
            "attachments/03"
        );
        assert_eq!(attachment_path(4, "", "image/png"), "attachments/04.png");
        assert_eq!(
            attachment_path(5, "Фото Ивана.jpeg", "image/jpeg"),
            "attachments/05.jpeg"
        );
        assert_eq!(
            attachment_path(6, "x.ext$", "video/mp4"),
            "attachments/06.mp4"
        );
        assert_eq!(
            attachment_path(12, "a.b.c.tar", "x/y"),
            "attachments/12.tar"
        );
    }
}
